-- Real Flink SQL, in the shapes Flink's documentation uses. Each must reach Flink through
-- mlsql byte for byte (tests/unit/test_corpus.py). Statements are separated by ';'.

CREATE TABLE Orders (
  order_id BIGINT,
  price DECIMAL(32, 2),
  currency STRING,
  order_time TIMESTAMP(3),
  WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
) WITH ('connector' = 'datagen');

CREATE TABLE Bid (
  bidtime TIMESTAMP(3),
  price DECIMAL(10, 2),
  item STRING,
  supplier_id STRING,
  WATERMARK FOR bidtime AS bidtime - INTERVAL '1' SECOND
) WITH ('connector' = 'datagen', 'rows-per-second' = '100');

CREATE TABLE MyUserTable (
  `user` BIGINT,
  product STRING,
  amount INT,
  ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  `partition` BIGINT METADATA VIRTUAL,
  `offset` BIGINT METADATA VIRTUAL,
  proc AS PROCTIME(),
  cost AS amount * 2
) WITH (
  'connector' = 'kafka',
  'topic' = 'user_behavior',
  'properties.bootstrap.servers' = 'localhost:9092',
  'properties.group.id' = 'testGroup',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'json'
);

CREATE TABLE KafkaTable (
  `event_time` TIMESTAMP_LTZ(3) METADATA FROM 'timestamp',
  `user_id` BIGINT,
  `item_id` BIGINT,
  `behavior` STRING,
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH (
  'connector' = 'kafka',
  'topic' = 'user_behavior',
  'properties.bootstrap.servers' = 'localhost:9092',
  'format' = 'csv'
);

CREATE TABLE upsert_sink (
  user_region STRING,
  pv BIGINT,
  uv BIGINT,
  PRIMARY KEY (user_region) NOT ENFORCED
) WITH (
  'connector' = 'upsert-kafka',
  'topic' = 'pageviews_per_region',
  'properties.bootstrap.servers' = 'localhost:9092',
  'key.format' = 'avro',
  'value.format' = 'avro'
);

CREATE TABLE MyTable (
  id INT,
  name STRING,
  tags ARRAY<STRING>,
  attrs MAP<STRING, INT>,
  address ROW<street STRING, city STRING, zip INT>,
  payload ROW<`nested` ROW<a INT, b DOUBLE>>,
  created TIMESTAMP(6) WITH LOCAL TIME ZONE,
  price DECIMAL(10, 4) NOT NULL,
  raw BYTES,
  flag BOOLEAN
) COMMENT 'a table with every kind of type' WITH ('connector' = 'blackhole');

CREATE TABLE fs_table (
  user_id STRING,
  order_amount DOUBLE,
  dt STRING,
  `hour` STRING
) PARTITIONED BY (dt, `hour`) WITH (
  'connector' = 'filesystem',
  'path' = 'file:///tmp/fs_table',
  'format' = 'parquet',
  'sink.partition-commit.delay' = '1 h',
  'sink.partition-commit.policy.kind' = 'success-file'
);

CREATE TABLE jdbc_dim (
  id BIGINT,
  name STRING,
  PRIMARY KEY (id) NOT ENFORCED
) WITH (
  'connector' = 'jdbc',
  'url' = 'jdbc:mysql://localhost:3306/mydatabase',
  'table-name' = 'users',
  'lookup.cache' = 'PARTIAL',
  'lookup.partial-cache.max-rows' = '500'
);

CREATE TEMPORARY TABLE datagen_source (
  f_sequence INT,
  f_random INT,
  f_random_str STRING,
  ts AS LOCALTIMESTAMP,
  WATERMARK FOR ts AS ts
) WITH (
  'connector' = 'datagen',
  'rows-per-second' = '5',
  'fields.f_sequence.kind' = 'sequence',
  'fields.f_sequence.start' = '1',
  'fields.f_sequence.end' = '1000',
  'fields.f_random.min' = '1',
  'fields.f_random.max' = '1000',
  'fields.f_random_str.length' = '10'
);

CREATE TABLE IF NOT EXISTS print_sink (
  a STRING,
  b BIGINT
) WITH ('connector' = 'print', 'print-identifier' = 'DEBUG', 'standard-error' = 'false');

CREATE TABLE Orders_with_pk (
  order_id STRING,
  price DECIMAL(32, 2),
  PRIMARY KEY (order_id) NOT ENFORCED
) DISTRIBUTED BY HASH(order_id) INTO 4 BUCKETS WITH ('connector' = 'datagen');

CREATE TABLE Orders_like WITH ('scan.startup.mode' = 'latest-offset') LIKE Orders (EXCLUDING OPTIONS);

CREATE TABLE my_ctas_table WITH ('connector' = 'blackhole') AS SELECT id, name, age FROM source_table WHERE mod(id, 10) = 0;

CREATE OR REPLACE TABLE my_rtas_table WITH ('connector' = 'blackhole') AS SELECT id, name FROM source_table;

CREATE TABLE t_computed (
  a INT,
  b AS a + 1,
  c AS CAST(a AS STRING) || '-suffix',
  d AS CASE WHEN a > 10 THEN 'big' ELSE 'small' END
) WITH ('connector' = 'datagen');

CREATE TABLE user_actions (
  user_name STRING,
  data STRING,
  user_action_time AS PROCTIME()
) WITH ('connector' = 'datagen');

CREATE TABLE json_source (
  id BIGINT,
  js STRING
) WITH ('connector' = 'filesystem', 'path' = '/tmp/js', 'format' = 'json', 'json.ignore-parse-errors' = 'true');

CREATE TEMPORARY VIEW v_orders AS SELECT order_id, price FROM Orders WHERE price > 10;

CREATE VIEW IF NOT EXISTS big_orders (id, amount) COMMENT 'orders over 100' AS SELECT order_id, price FROM Orders WHERE price > 100;

CREATE TEMPORARY FUNCTION IF NOT EXISTS my_udf AS 'com.example.MyScalarFunction';

CREATE TEMPORARY SYSTEM FUNCTION py_udf AS 'my_module.my_function' LANGUAGE PYTHON;

CREATE FUNCTION cat1.db1.java_udf AS 'com.example.Udf' LANGUAGE JAVA USING JAR 'file:///tmp/udf.jar';

CREATE CATALOG my_catalog WITH ('type' = 'generic_in_memory');

CREATE CATALOG hive WITH ('type' = 'hive', 'hive-conf-dir' = '/opt/hive-conf', 'default-database' = 'mydb');

CREATE DATABASE IF NOT EXISTS my_catalog.my_db COMMENT 'scratch' WITH ('k1' = 'v1');

USE CATALOG my_catalog;

USE my_db;

USE MODULES hive, core;

LOAD MODULE hive WITH ('hive-version' = '3.1.2');

UNLOAD MODULE hive;

ALTER TABLE Orders SET ('scan.startup.mode' = 'latest-offset');

ALTER TABLE Orders RESET ('scan.startup.mode');

ALTER TABLE Orders RENAME TO Orders2;

ALTER TABLE MyTable ADD (new_col STRING COMMENT 'a new column' FIRST);

ALTER TABLE MyTable ADD `extra` AS UPPER(name) AFTER name;

ALTER TABLE MyTable MODIFY price DECIMAL(12, 4) NOT NULL;

ALTER TABLE MyTable DROP (raw, flag);

ALTER TABLE MyTable RENAME name TO full_name;

ALTER TABLE Orders ADD WATERMARK FOR order_time AS order_time - INTERVAL '2' SECOND;

ALTER TABLE Orders DROP WATERMARK;

ALTER TABLE Orders ADD PRIMARY KEY (order_id) NOT ENFORCED;

ALTER VIEW v_orders RENAME TO v_orders2;

ALTER VIEW v_orders AS SELECT order_id FROM Orders;

ALTER FUNCTION my_udf AS 'com.example.Other';

ALTER DATABASE my_db SET ('k1' = 'v2');

DROP TABLE IF EXISTS Orders2;

DROP TEMPORARY TABLE datagen_source;

DROP VIEW IF EXISTS big_orders;

DROP TEMPORARY VIEW v_orders;

DROP FUNCTION IF EXISTS cat1.db1.java_udf;

DROP TEMPORARY SYSTEM FUNCTION py_udf;

DROP DATABASE IF EXISTS my_db CASCADE;

DROP CATALOG IF EXISTS my_catalog;

SELECT * FROM Orders;

SELECT order_id, price + 12 AS p FROM Orders WHERE currency = 'EUR' AND price > 2.5;

SELECT `user`, product, amount FROM MyUserTable WHERE `user` IS NOT NULL;

SELECT DISTINCT currency FROM Orders;

SELECT currency, COUNT(*) AS cnt, SUM(price) AS total, AVG(price), MIN(price), MAX(price) FROM Orders GROUP BY currency HAVING COUNT(*) > 1;

SELECT COUNT(DISTINCT order_id) FILTER (WHERE price > 10) AS n FROM Orders;

SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) AS t(id, name);

SELECT id, name FROM (VALUES (1, 'it''s'), (2, 'x;y')) AS t(id, name) WHERE name <> '--not a comment';

WITH orders_with_total AS (SELECT order_id, price + tax AS total FROM Orders) SELECT order_id, SUM(total) FROM orders_with_total GROUP BY order_id;

SELECT window_start, window_end, SUM(price) AS total_price FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end;

SELECT window_start, window_end, SUM(price) FROM TABLE(HOP(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES)) GROUP BY window_start, window_end;

SELECT window_start, window_end, SUM(price) FROM TABLE(CUMULATE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '2' MINUTES, INTERVAL '10' MINUTES)) GROUP BY window_start, window_end;

SELECT window_start, window_end, item, SUM(price) FROM TABLE(SESSION(TABLE Bid PARTITION BY item, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES)) GROUP BY item, window_start, window_end;

SELECT * FROM TABLE(TUMBLE(DATA => TABLE Bid, TIMECOL => DESCRIPTOR(bidtime), SIZE => INTERVAL '10' MINUTES));

SELECT window_start, window_end, supplier_id, GROUPING(supplier_id) AS g, SUM(price) FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end, GROUPING SETS ((supplier_id), ());

SELECT window_start, window_end, item, supplier_id, SUM(price) FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end, ROLLUP (item, supplier_id);

SELECT window_start, window_end, item, SUM(price) FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end, CUBE (item, supplier_id);

SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum FROM (SELECT window_start, window_end, supplier_id, SUM(price) AS price, COUNT(*) AS cnt FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES)) GROUP BY window_start, window_end, supplier_id)) WHERE rownum <= 3;

SELECT * FROM (SELECT bidtime, price, item, supplier_id, window_start, window_end, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rownum FROM TABLE(TUMBLE(TABLE Bid, DESCRIPTOR(bidtime), INTERVAL '10' MINUTES))) WHERE rownum <= 3;

SELECT L.num AS L_Num, L.id AS L_Id, R.num AS R_Num, R.id AS R_Id, COALESCE(L.window_start, R.window_start) AS window_start FROM (SELECT * FROM TABLE(TUMBLE(TABLE LeftTable, DESCRIPTOR(row_time), INTERVAL '5' MINUTES))) L FULL JOIN (SELECT * FROM TABLE(TUMBLE(TABLE RightTable, DESCRIPTOR(row_time), INTERVAL '5' MINUTES))) R ON L.num = R.num AND L.window_start = R.window_start AND L.window_end = R.window_end;

SELECT order_id, price, SUM(price) OVER (PARTITION BY currency ORDER BY order_time RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW) AS one_hour_sum FROM Orders;

SELECT order_id, COUNT(*) OVER w AS cnt, AVG(price) OVER w AS avg_price FROM Orders WINDOW w AS (PARTITION BY currency ORDER BY order_time ROWS BETWEEN 10 PRECEDING AND CURRENT ROW);

SELECT * FROM Orders INNER JOIN Product ON Orders.product_id = Product.id;

SELECT * FROM Orders LEFT JOIN Product ON Orders.product_id = Product.id;

SELECT * FROM Orders RIGHT OUTER JOIN Product ON Orders.product_id = Product.id;

SELECT * FROM Orders FULL OUTER JOIN Product ON Orders.product_id = Product.id;

SELECT * FROM Orders o, Shipments s WHERE o.id = s.order_id AND o.order_time BETWEEN s.ship_time - INTERVAL '4' HOUR AND s.ship_time;

SELECT order_id, price, orders.currency, conversion_rate, order_time FROM orders LEFT JOIN currency_rates FOR SYSTEM_TIME AS OF orders.order_time ON orders.currency = currency_rates.currency;

SELECT o.order_id, o.total, c.country, c.zip FROM Orders AS o JOIN Customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;

SELECT o_amount, r_rate FROM Orders, LATERAL TABLE (Rates(o_proctime)) WHERE r_currency = o_currency;

SELECT order_id, tag FROM Orders CROSS JOIN UNNEST(tags) AS t (tag);

SELECT users, tag FROM Orders LEFT JOIN LATERAL TABLE(split_udtf(tags)) AS T(tag) ON TRUE;

SELECT * FROM Orders WHERE product IN (SELECT product FROM NewProducts);

SELECT * FROM Orders WHERE EXISTS (SELECT 1 FROM NewProducts WHERE NewProducts.product = Orders.product);

SELECT user_id, COUNT(*) FROM Orders WHERE price > (SELECT AVG(price) FROM Orders) GROUP BY user_id;

(SELECT s FROM t1) UNION (SELECT s FROM t2);

(SELECT s FROM t1) UNION ALL (SELECT s FROM t2);

(SELECT s FROM t1) INTERSECT (SELECT s FROM t2);

(SELECT s FROM t1) EXCEPT ALL (SELECT s FROM t2);

SELECT * FROM Orders ORDER BY order_time, order_id LIMIT 3;

SELECT * FROM Orders ORDER BY price DESC OFFSET 10 ROWS FETCH NEXT 5 ROWS ONLY;

SELECT order_id, price FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY proctime ASC) AS row_num FROM Orders) WHERE row_num = 1;

SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime MEASURES START_ROW.rowtime AS start_tstamp, LAST(PRICE_DOWN.rowtime) AS bottom_tstamp, LAST(PRICE_UP.rowtime) AS end_tstamp ONE ROW PER MATCH AFTER MATCH SKIP TO LAST PRICE_UP PATTERN (START_ROW PRICE_DOWN+ PRICE_UP) DEFINE PRICE_DOWN AS (LAST(PRICE_DOWN.price, 1) IS NULL AND PRICE_DOWN.price < START_ROW.price) OR PRICE_DOWN.price < LAST(PRICE_DOWN.price, 1), PRICE_UP AS PRICE_UP.price > LAST(PRICE_DOWN.price, 1)) MR;

SELECT * FROM Ticker MATCH_RECOGNIZE (PARTITION BY symbol ORDER BY rowtime MEASURES FIRST(A.rowtime) AS start_tstamp, LAST(A.rowtime) AS end_tstamp, AVG(A.price) AS avgPrice ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW PATTERN (A+ B) WITHIN INTERVAL '1' HOUR DEFINE A AS AVG(A.price) < 15) AS T;

SELECT /*+ OPTIONS('scan.startup.mode' = 'earliest-offset') */ id, name FROM kafka_table1;

SELECT /*+ BROADCAST(t1) */ * FROM t1 JOIN t2 ON t1.id = t2.id;

SELECT /*+ LOOKUP('table'='Customers', 'retry-predicate'='lookup_miss', 'retry-strategy'='fixed_delay', 'fixed-delay'='10s', 'max-attempts'='3') */ o.order_id, c.country FROM Orders AS o JOIN Customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;

SELECT /*+ STATE_TTL('Orders' = '1d', 'Customers' = '20d') */ * FROM Orders LEFT OUTER JOIN Customers ON Orders.o_custkey = Customers.c_custkey;

SELECT JSON_VALUE('{"a": true}', '$.a' RETURNING BOOLEAN);

SELECT JSON_QUERY('{"a": {"b": 1}}', '$.a' WITH CONDITIONAL ARRAY WRAPPER);

SELECT JSON_EXISTS('{"a": true}', '$.a'), JSON_OBJECT(KEY 'k' VALUE 'v' NULL ON NULL), JSON_ARRAY(1, 'two', TRUE ABSENT ON NULL);

SELECT JSON_STRING(ROW(1, 'x')), JSON_OBJECTAGG(KEY product VALUE cnt) FROM Sales GROUP BY region;

SELECT IS_JSON('[1, 2]', ARRAY), JSON_ARRAYAGG(product ORDER BY product) FROM Sales;

SELECT CAST('42' AS INT), TRY_CAST('x' AS INT), CAST(1.5 AS DECIMAL(10, 2)), CAST(ts AS TIMESTAMP(3)) FROM T;

SELECT DATE '2024-01-01', TIME '12:00:00', TIMESTAMP '2024-01-01 12:00:00.123', INTERVAL '10 00:00:00.004' DAY TO SECOND;

SELECT TIMESTAMPADD(HOUR, 2, order_time), TIMESTAMPDIFF(DAY, order_time, CURRENT_TIMESTAMP), DATE_FORMAT(order_time, 'yyyy-MM-dd HH:mm'), EXTRACT(YEAR FROM order_time) FROM Orders;

SELECT TO_TIMESTAMP_LTZ(1700000000000, 3), TO_TIMESTAMP('2024-01-01 00:00:00'), FROM_UNIXTIME(1700000000), UNIX_TIMESTAMP(), CURRENT_WATERMARK(order_time) FROM Orders;

SELECT FLOOR(order_time TO HOUR), CEIL(order_time TO DAY), order_time - INTERVAL '1' DAY FROM Orders;

SELECT UPPER(name), LOWER(name), TRIM(BOTH ' ' FROM name), SUBSTRING(name FROM 2 FOR 3), POSITION('a' IN name), REGEXP_REPLACE(name, '[0-9]+', '#'), SPLIT_INDEX(name, ',', 0) FROM Users;

SELECT CONCAT_WS('-', a, b), LPAD(s, 10, '*'), OVERLAY(s PLACING 'x' FROM 2 FOR 1), INITCAP(s), REPEAT(s, 2), REVERSE(s), 'a' || 'b' FROM T;

SELECT ARRAY[1, 2, 3], ARRAY_CONTAINS(tags, 'x'), CARDINALITY(tags), tags[1], MAP['k1', 1, 'k2', 2], attrs['k1'], ELEMENT(ARRAY[1]) FROM MyTable;

SELECT address.city, address.`zip`, `payload`.`nested`.a, ROW(1, 'x') AS r FROM MyTable;

SELECT CASE WHEN price > 100 THEN 'high' WHEN price > 10 THEN 'mid' ELSE 'low' END AS band, NULLIF(currency, ''), COALESCE(currency, 'n/a'), IF(price > 1, 1, 0) FROM Orders;

SELECT price BETWEEN 1 AND 10, name LIKE 'a%' ESCAPE '\', name SIMILAR TO 'a.*', x IS DISTINCT FROM y, b IS TRUE, b IS NOT UNKNOWN FROM T;

SELECT MD5(s), SHA256(s), TO_BASE64(s), FROM_BASE64(s), HEX(s), UUID(), RAND_INTEGER(10) FROM T;

SELECT ABS(x), MOD(x, 3), POWER(x, 2), SQRT(x), LN(x), LOG10(x), EXP(x), ROUND(x, 2), TRUNCATE(x, 1), SIGN(x), PI(), E() FROM T;

SELECT LISTAGG(name, ';'), COLLECT(name), FIRST_VALUE(name), LAST_VALUE(name), STDDEV_POP(x), VAR_SAMP(x) FROM T GROUP BY k;

SELECT PERCENTILE(x, 0.5), APPROX_COUNT_DISTINCT(user_id) FROM T GROUP BY k;

SELECT k, LEAD(x, 1) OVER (PARTITION BY k ORDER BY ts), LAG(x) OVER (PARTITION BY k ORDER BY ts), RANK() OVER (PARTITION BY k ORDER BY x), DENSE_RANK() OVER (PARTITION BY k ORDER BY x) FROM T;

SELECT TUMBLE_START(rowtime, INTERVAL '1' DAY) AS wStart, SUM(amount) FROM Orders GROUP BY TUMBLE(rowtime, INTERVAL '1' DAY), `user`;

SELECT HOP_END(rowtime, INTERVAL '5' MINUTE, INTERVAL '1' HOUR), COUNT(*) FROM Orders GROUP BY HOP(rowtime, INTERVAL '5' MINUTE, INTERVAL '1' HOUR);

SELECT SESSION_START(rowtime, INTERVAL '12' HOUR), COUNT(*) FROM Orders GROUP BY SESSION(rowtime, INTERVAL '12' HOUR), `user`;

SELECT * FROM Orders /*+ OPTIONS('source.monitor-interval' = '10s') */;

SELECT id, name FROM kafka_table1 /*+ OPTIONS('scan.startup.mode'='earliest-offset') */;

SELECT id, name FROM kafka_table1 /*+ OPTIONS('scan.startup.mode' = 'latest-offset') */ -- a plain comment after the hint
;

SELECT o.order_id, c.country FROM Orders /*+ OPTIONS('scan.startup.mode' = 'earliest-offset') */ AS o JOIN Customers /*+ OPTIONS('lookup.cache' = 'NONE') */ AS c ON o.customer_id = c.id /* plain */;

SELECT * FROM Orders /*+ OPTIONS(
  'scan.startup.mode' = 'timestamp',
  'scan.startup.timestamp-millis' = '1700000000000') */;

INSERT INTO sink_table SELECT * FROM source_table /*+ OPTIONS('scan.startup.mode' = 'earliest-offset') */;

SELECT `select`, `from`, `order` FROM `weird table` WHERE `where` = 'value with `backticks`';

SELECT 'multi
line string', "double_quoted_is_not_a_string_in_flink" FROM T;

SELECT x AS "quoted alias" FROM T;

SELECT -1, +2, 1e3, 1.5E-2, .5, 0x1F FROM T;

INSERT INTO print_sink SELECT f_random_str, COUNT(*) FROM datagen_source GROUP BY f_random_str;

INSERT INTO fs_table SELECT user_id, order_amount, DATE_FORMAT(log_ts, 'yyyy-MM-dd'), DATE_FORMAT(log_ts, 'HH') FROM kafka_table;

INSERT OVERWRITE fs_table PARTITION (dt = '2024-01-01', `hour` = '10') SELECT user_id, order_amount FROM kafka_table;

INSERT INTO upsert_sink (user_region, pv, uv) SELECT region, COUNT(*), COUNT(DISTINCT user_id) FROM pageviews GROUP BY region;

INSERT INTO `my_catalog`.`my_db`.`sink` SELECT * FROM `source`;

INSERT INTO sink_table VALUES (1, 'a'), (2, 'b');

INSERT INTO sink_table /*+ OPTIONS('sink.parallelism' = '2') */ SELECT * FROM source_table;

EXECUTE STATEMENT SET
BEGIN
INSERT INTO pageview_sink SELECT page_id, COUNT(1) FROM clicks GROUP BY page_id;
INSERT INTO uv_sink SELECT page_id, COUNT(DISTINCT user_id) FROM clicks GROUP BY page_id;
END;

EXECUTE INSERT INTO sink_table SELECT * FROM source_table;

EXPLAIN SELECT * FROM Orders WHERE price > 10;

EXPLAIN PLAN FOR SELECT `count`, COUNT(word) FROM MyTable1 GROUP BY `count`;

EXPLAIN ESTIMATED_COST, CHANGELOG_MODE, PLAN_ADVICE, JSON_EXECUTION_PLAN SELECT * FROM Orders;

EXPLAIN STATEMENT SET BEGIN INSERT INTO a SELECT * FROM b; INSERT INTO c SELECT * FROM d; END;

EXPLAIN INSERT INTO sink_table SELECT * FROM source_table;

COMPILE PLAN 'file:///tmp/plan.json' FOR INSERT INTO sink_table SELECT * FROM source_table;

COMPILE AND EXECUTE PLAN 'file:///tmp/plan.json' FOR INSERT INTO sink_table SELECT * FROM source_table;

EXECUTE PLAN 'file:///tmp/plan.json';

SHOW CATALOGS;

SHOW CURRENT CATALOG;

SHOW DATABASES;

SHOW CURRENT DATABASE;

SHOW TABLES;

SHOW TABLES FROM my_catalog.my_db LIKE '%ord%';

SHOW VIEWS;

SHOW COLUMNS FROM Orders LIKE '%price%';

SHOW FUNCTIONS;

SHOW USER FUNCTIONS;

SHOW MODULES;

SHOW FULL MODULES;

SHOW JARS;

SHOW JOBS;

SHOW CREATE TABLE Orders;

SHOW CREATE VIEW v_orders;

SHOW PARTITIONS fs_table PARTITION (dt = '2024-01-01');

DESCRIBE Orders;

DESC EXTENDED Orders;

DESCRIBE FUNCTION EXTENDED my_udf;

DESCRIBE CATALOG EXTENDED my_catalog;

DESCRIBE JOB '228d70913eab60dda85c5e7f78b5782c';

ADD JAR '/tmp/udf.jar';

REMOVE JAR '/tmp/udf.jar';

STOP JOB '228d70913eab60dda85c5e7f78b5782c' WITH SAVEPOINT;

ANALYZE TABLE Orders COMPUTE STATISTICS FOR ALL COLUMNS;

TRUNCATE TABLE fs_table;

DELETE FROM jdbc_dim WHERE id = 5;

UPDATE jdbc_dim SET name = 'x' WHERE id = 5;

CALL my_catalog.system.compact('db.tbl');

CREATE MATERIALIZED TABLE continuous_users_shops PARTITIONED BY (ds) WITH ('format' = 'debezium-json') FRESHNESS = INTERVAL '30' SECOND AS SELECT user_id, ds, SUM(payment_amount) AS payed_buy_fee_sum FROM json_source GROUP BY user_id, ds;

ALTER MATERIALIZED TABLE continuous_users_shops SUSPEND;

ALTER MATERIALIZED TABLE continuous_users_shops REFRESH PARTITION (ds = '20241001');

DROP MATERIALIZED TABLE IF EXISTS continuous_users_shops;

CREATE TEMPORARY TABLE t_like_with_metadata (
  id BIGINT,
  headers MAP<STRING, BYTES> METADATA,
  event_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL,
  WATERMARK FOR event_time AS SOURCE_WATERMARK()
) WITH ('connector' = 'kafka', 'topic' = 't', 'format' = 'avro');

SELECT U&'\0041\0042', X'0F', N'national', _UTF16'x' FROM T;

SELECT a /* inline; comment */ , b -- trailing; comment
FROM T;
