-- The fraud model trained inside Flink: the history's rows are split among the job's tasks,
-- each holds only its share, and LightGBM's data-parallel network joins them into one model.
-- The same model trained in one Python process beside it, for comparison. distributed.py
-- runs it after train.sql's SET and CREATE TABLE tx_history.

-- Two workers: one task slot each, all running at once (the cluster of
-- `mlsql cluster start --taskmanagers 2 --slots 1` has exactly two).
CREATE OR REPLACE MODEL fraud_model
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud',
      'num_trees' = '100', 'eval_fraction' = '0.2', 'seed' = '7',
      'training_mode' = 'distributed', 'num_workers' = '2')
AS SELECT merchant_category, amount, hour_of_day, distance_from_home_km, online,
          tx_count_24h, amount_to_card_avg, is_fraud
   FROM tx_history;

CREATE OR REPLACE MODEL fraud_model_single
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud',
      'num_trees' = '100', 'eval_fraction' = '0.2', 'seed' = '7',
      'training_mode' = 'single')
AS SELECT merchant_category, amount, hour_of_day, distance_from_home_km, online,
          tx_count_24h, amount_to_card_avg, is_fraud
   FROM tx_history;

SELECT * FROM ML_FEATURE_IMPORTANCE(MODEL fraud_model);
