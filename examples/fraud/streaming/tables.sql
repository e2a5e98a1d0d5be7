-- The Kafka topics of the fraud pipeline. mlsql puts Flink's Kafka connector on the
-- session's pipeline.jars because these tables name it.

-- Raw card transactions, one JSON object per record (see producer.py). A record that is not
-- JSON is skipped ('json.ignore-parse-errors'); a missing field reads as NULL. The
-- watermark trails the newest event time by nothing: the producer writes each card's
-- events in order (raise the delay for out-of-order sources; latency grows by as much).
-- One source reader per partition of the topic ('scan.parallelism'): a reader without a
-- partition would hold the watermark back (and 'scan.watermark.idle-timeout', the other
-- cure, lets a finished reader push a bounded read's watermark to the end at once, which
-- drops every row as late: seen here on Flink 2.2).
CREATE TABLE transactions (
  tx_id       BIGINT,
  card_id     STRING,
  merchant_id STRING,
  category    STRING,
  amount      DOUBLE,
  lat         DOUBLE,
  lon         DOUBLE,
  device_id   STRING,
  online      BOOLEAN,
  event_time  TIMESTAMP(3),
  is_fraud    INT,
  WATERMARK FOR event_time AS event_time
) WITH (
  'connector' = 'kafka',
  'topic' = 'transactions',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'mlsql-fraud',
  'scan.startup.mode' = 'earliest-offset',
  'scan.watermark.emit.strategy' = 'on-event',
  'scan.parallelism' = '1',
  'format' = 'json',
  'json.ignore-parse-errors' = 'true',
  'json.timestamp-format.standard' = 'ISO-8601'
);

-- The same topic as raw text, for the dead-letter route.
CREATE TABLE transactions_raw (
  payload STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'transactions',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.group.id' = 'mlsql-fraud-dead-letter',
  'scan.startup.mode' = 'earliest-offset',
  'format' = 'raw'
);

-- Alerts, written once each: Kafka transactions committed at every checkpoint. Readers use
-- isolation.level=read_committed.
CREATE TABLE alerts (
  tx_id         BIGINT,
  card_id       STRING,
  event_time    TIMESTAMP(3),
  amount        DOUBLE,
  probability   DOUBLE,
  model_name    STRING,
  model_version INT,
  reason        STRING  -- the model's score, the amount unusual for the card, or both
) WITH (
  'connector' = 'kafka',
  'topic' = 'alerts',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.transaction.timeout.ms' = '600000',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'mlsql-fraud-alerts',
  'format' = 'json',
  'json.timestamp-format.standard' = 'ISO-8601'
);

-- Records the model cannot score, kept with the reason instead of dropped.
CREATE TABLE dead_letter (
  payload STRING,
  reason  STRING
) WITH (
  'connector' = 'kafka',
  'topic' = 'transactions_dead_letter',
  'properties.bootstrap.servers' = '127.0.0.1:9092',
  'properties.transaction.timeout.ms' = '600000',
  'sink.delivery-guarantee' = 'exactly-once',
  'sink.transactional-id-prefix' = 'mlsql-fraud-dead-letter',
  'format' = 'json'
);
