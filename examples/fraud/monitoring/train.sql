-- Version 1 of the fraud model, on the days before the pattern changes.
SET 'execution.runtime-mode' = 'batch';

CREATE TABLE history (
  tx_id BIGINT, event_time TIMESTAMP(3), amount DOUBLE, category STRING, hour_of_day INT,
  distance_km DOUBLE, online BOOLEAN, is_fraud INT
) WITH ('connector' = 'filesystem', 'path' = '{{ data }}/history.csv', 'format' = 'csv');

CREATE MODEL fraud_model
WITH ('model_type' = 'boosted_tree_classifier', 'label' = 'is_fraud', 'num_trees' = '50')
AS SELECT amount, category, hour_of_day, distance_km, online, is_fraud FROM history;
