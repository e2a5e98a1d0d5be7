-- Keep learning: fraud_online starts from the batch-trained fraud_model (train.sql) and is
-- updated from the same feature view once per day of event time, through the history in
-- the topic and then live. Each update is a new registry version, scored on its day before
-- it trains (prequential metrics in DESCRIBE MODEL fraud_online); a scoring job on the
-- unpinned `fraud_online` picks each one up without a restart.
SET 'execution.checkpointing.interval' = '10 s';

CREATE MODEL fraud_online
WITH ('model_type' = 'online_logistic_reg', 'label' = 'is_fraud',
      'update_every' = '1 day', 'initial_model' = 'fraud_model')
AS SELECT category, amount, online, hour_of_day, tx_count_10m, tx_count_24h,
          amount_to_avg_30d, seconds_since_previous, km_from_previous, event_time, is_fraud
   FROM features;
