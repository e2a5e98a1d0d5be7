-- The fraud example from Flink's own SQL client, through `mlsql gateway`:
--   mlsql sql-client gateway --endpoint 127.0.0.1:8083 -f gateway_session.sql
-- (paths are the gateway's: start it in examples/fraud/). Scripts run in tableau mode.
SET 'sql-client.execution.result-mode' = 'tableau';
SET 'execution.runtime-mode' = 'batch';

CREATE TABLE tx_history (
  tx_id BIGINT, tx_time TIMESTAMP(3), card_id INT, merchant_category STRING, amount DOUBLE,
  hour_of_day INT, distance_from_home_km DOUBLE, online BOOLEAN, tx_count_24h INT,
  amount_to_card_avg DOUBLE, is_fraud INT
) WITH ('connector' = 'filesystem', 'path' = 'data/history.csv', 'format' = 'csv',
        'csv.null-literal' = '');

CREATE OR REPLACE MODEL fraud_gateway
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud', 'num_trees' = '50')
AS SELECT merchant_category, amount, hour_of_day, distance_from_home_km, online,
          tx_count_24h, amount_to_card_avg, is_fraud
   FROM tx_history;

SHOW MODELS;

SELECT * FROM ML_EVALUATE(TABLE tx_history, MODEL fraud_gateway);

SELECT tx_id, merchant_category, amount, ROUND(probability, 3) AS p_fraud
FROM ML_PREDICT(TABLE tx_history, MODEL fraud_gateway)
WHERE probability > 0.99
ORDER BY tx_id
LIMIT 5;
