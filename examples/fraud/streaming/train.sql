-- Train on the history in the topic: the same feature view, read up to the topic's
-- current end (a bounded read; the table stays a stream for score.sql).
ALTER TABLE transactions SET ('scan.bounded.mode' = 'latest-offset');

CREATE OR REPLACE MODEL fraud_model
WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud', 'class_weight' = 'balanced',
      'max_iter' = '500')
AS SELECT category, amount, online, hour_of_day, tx_count_10m, tx_count_24h,
          amount_to_avg_30d, seconds_since_previous, km_from_previous, is_fraud
   FROM features;

CREATE OR REPLACE MODEL fraud_trees
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud', 'num_trees' = '100')
AS SELECT category, amount, online, hour_of_day, tx_count_10m, tx_count_24h,
          amount_to_avg_30d, seconds_since_previous, km_from_previous, is_fraud
   FROM features;

ALTER TABLE transactions RESET ('scan.bounded.mode');
SHOW MODELS;
