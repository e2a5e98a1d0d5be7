-- The monitoring loop's Kafka topics. `mode` is 'stream' for the continuous jobs and
-- 'bounded' for the retraining service, which reads each topic up to its latest offset at
-- every check. One partition each, one reader each (see examples/fraud/streaming/tables.sql).
{% set bounded = "'scan.bounded.mode' = 'latest-offset'," if mode == 'bounded' else "" %}
{% macro kafka(topic) -%}
  'connector' = 'kafka', 'topic' = '{{ topic }}',
  'properties.bootstrap.servers' = '{{ bootstrap }}', 'properties.group.id' = 'monitoring',
  'scan.startup.mode' = 'earliest-offset', {{ bounded }}
  'scan.watermark.emit.strategy' = 'on-event', 'scan.parallelism' = '1',
  'sink.delivery-guarantee' = 'at-least-once',
  'format' = 'json', 'json.timestamp-format.standard' = 'ISO-8601'
{%- endmacro %}

-- Card transactions as they happen (the label is not known yet).
CREATE TABLE transactions (
  tx_id BIGINT, event_time TIMESTAMP(3), amount DOUBLE, category STRING, hour_of_day INT,
  distance_km DOUBLE, online BOOLEAN,
  WATERMARK FOR event_time AS event_time
) WITH ({{ kafka('transactions') }});

-- Chargebacks and confirmations: each transaction's label, 1 to 30 days later.
CREATE TABLE labels (
  tx_id BIGINT, labelled_at TIMESTAMP(3), is_fraud INT,
  WATERMARK FOR labelled_at AS labelled_at
) WITH ({{ kafka('labels') }});

-- What the model said, and which version said it.
CREATE TABLE scored (
  tx_id BIGINT, event_time TIMESTAMP(3), probability DOUBLE, predicted_is_fraud INT,
  model_version INT,
  WATERMARK FOR event_time AS event_time
) WITH ({{ kafka('scored') }});

-- ML_EVALUATE_DELAYED's rows: quality per day of prediction time and version.
CREATE TABLE quality (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), model_version INT, predictions BIGINT,
  labelled BIGINT, late_labels BIGINT, unlabelled BIGINT, accuracy DOUBLE,
  `precision` DOUBLE, recall DOUBLE, f1_score DOUBLE, roc_auc DOUBLE, log_loss DOUBLE,
  mean_predicted DOUBLE, observed_rate DOUBLE
) WITH ({{ kafka('quality') }});

-- ML_VALIDATE_DATA_SKEW's rows: each day's transactions against the training rows.
CREATE TABLE drift (
  window_start TIMESTAMP(3), window_end TIMESTAMP(3), input STRING, metric STRING,
  threshold DOUBLE, `value` DOUBLE, is_anomaly BOOLEAN
) WITH ({{ kafka('drift') }});
