-- Score every live transaction as it arrives and print the suspicious ones.
SET 'execution.runtime-mode' = 'streaming';

CREATE TABLE tx_stream (
  tx_id                 BIGINT,
  tx_time               TIMESTAMP(3),
  card_id               INT,
  merchant_category     STRING,
  amount                DOUBLE,
  hour_of_day           INT,
  distance_from_home_km DOUBLE,
  online                BOOLEAN,
  tx_count_24h          INT,
  amount_to_card_avg    DOUBLE,
  WATERMARK FOR tx_time AS tx_time - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'data/live.csv', 'format' = 'csv',
      'csv.null-literal' = '');

CREATE TABLE fraud_alerts (
  tx_id       BIGINT,
  tx_time     TIMESTAMP(3),
  card_id     INT,
  category    STRING,
  amount      DOUBLE,
  probability DOUBLE
) WITH ('connector' = 'print', 'print-identifier' = 'ALERT');

INSERT INTO fraud_alerts
SELECT tx_id, tx_time, card_id, merchant_category, amount, probability
FROM ML_PREDICT(TABLE tx_stream, MODEL fraud_model)
WHERE probability > 0.9;
