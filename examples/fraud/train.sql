-- Train fraud models on a month of labelled history (batch: the history is bounded).
SET 'execution.runtime-mode' = 'batch';

CREATE TABLE tx_history (
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
  is_fraud              INT
) WITH ('connector' = 'filesystem', 'path' = 'data/history.csv', 'format' = 'csv',
      'csv.null-literal' = '');

-- A baseline: logistic regression with balanced class weights (fraud is rare). Its TRANSFORM
-- is fitted on the history and stored with the model: ML_PREDICT takes the raw columns.
CREATE OR REPLACE MODEL fraud_baseline
TRANSFORM (ML_STANDARD_SCALER(amount) OVER () AS amount_z,
           ML_QUANTILE_BUCKETIZE(hour_of_day, 6) OVER () AS hour_bucket,
           ML_ROBUST_SCALER(distance_from_home_km) OVER () AS distance,
           ML_ONE_HOT_ENCODER(merchant_category) OVER () AS merchant,
           online, tx_count_24h, amount_to_card_avg, is_fraud)
WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud', 'class_weight' = 'balanced')
AS SELECT merchant_category, amount, hour_of_day, distance_from_home_km, online,
          tx_count_24h, amount_to_card_avg, is_fraud
   FROM tx_history;

-- The model that scores the stream: LightGBM boosted trees.
CREATE OR REPLACE MODEL fraud_model
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud',
      'num_trees' = '100', 'eval_fraction' = '0.2', 'seed' = '7')
AS SELECT merchant_category, amount, hour_of_day, distance_from_home_km, online,
          tx_count_24h, amount_to_card_avg, is_fraud
   FROM tx_history;

SHOW MODELS;
