-- The retraining service's script (`mlsql retrain retrain.sql`): the topics read up to their
-- latest offsets, the labelled rows, and the policy.
SET 'execution.runtime-mode' = 'batch';

-- Transactions whose label has come, with the newest label's time as "now".
CREATE TEMPORARY VIEW labelled AS
SELECT t.amount, t.category, t.hour_of_day, t.distance_km, t.online, l.is_fraud,
       t.event_time, MAX(l.labelled_at) OVER () AS now_time
FROM transactions AS t JOIN labels AS l ON t.tx_id = l.tx_id;

-- Train on the labelled days from 40 to 10 days ago, gate on the last 10.
CREATE TEMPORARY VIEW recent_training AS
SELECT amount, category, hour_of_day, distance_km, online, is_fraud FROM labelled
WHERE event_time >= now_time - INTERVAL '40' DAY AND event_time < now_time - INTERVAL '10' DAY;

CREATE TEMPORARY VIEW recent_holdout AS
SELECT amount, category, hour_of_day, distance_km, online, is_fraud FROM labelled
WHERE event_time >= now_time - INTERVAL '10' DAY;

-- Retrain when a day's recall fell below 0.5 while the transactions drift; at most once a
-- minute; promote only a version that beats the serving one's ROC AUC on the last 10 days.
ALTER MODEL fraud_model SET (
  'retrain.when' = 'recall < 0.5 AND DRIFT',
  'retrain.quality_table' = 'quality',
  'retrain.drift_table' = 'drift',
  'retrain.training_data' = 'recent_training',
  'retrain.gate_data' = 'recent_holdout',
  'retrain.gate_metric' = 'roc_auc',
  'retrain.gate_margin' = '0.01',
  'retrain.min_interval' = '1 min'
);
