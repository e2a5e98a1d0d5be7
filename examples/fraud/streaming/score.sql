-- Score every transaction as it arrives; alerts and dead letters go back to Kafka, each
-- written exactly once (Kafka transactions committed at each checkpoint).
SET 'execution.checkpointing.interval' = '2 s';
SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';

BEGIN STATEMENT SET;

INSERT INTO alerts
SELECT tx_id, card_id, event_time, amount, probability, 'fraud_model', model_version
FROM ML_PREDICT(TABLE features, MODEL fraud_model, MAP['version_column', 'model_version'])
WHERE probability > 0.9;

INSERT INTO dead_letter
SELECT payload, reason FROM (
  SELECT payload,
    CASE WHEN payload IS NOT JSON THEN 'not a JSON object'
         WHEN JSON_VALUE(payload, '$.tx_id') IS NULL THEN 'missing tx_id'
         WHEN JSON_VALUE(payload, '$.card_id') IS NULL THEN 'missing card_id'
         WHEN JSON_VALUE(payload, '$.event_time') IS NULL THEN 'missing event_time'
         WHEN TRY_CAST(REPLACE(JSON_VALUE(payload, '$.event_time'), 'T', ' ') AS TIMESTAMP(3))
              IS NULL THEN 'event_time is not a timestamp'
         WHEN JSON_VALUE(payload, '$.amount') IS NOT NULL
              AND TRY_CAST(JSON_VALUE(payload, '$.amount') AS DOUBLE) IS NULL
              THEN 'amount is not a number'
    END AS reason
  FROM transactions_raw)
WHERE reason IS NOT NULL;

END;
