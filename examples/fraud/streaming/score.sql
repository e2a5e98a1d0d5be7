-- Score every transaction as it arrives; alerts and dead letters go back to Kafka, each
-- written exactly once (Kafka transactions committed at each checkpoint).
SET 'execution.checkpointing.interval' = '2 s';
SET 'execution.checkpointing.externalized-checkpoint-retention' = 'RETAIN_ON_CANCELLATION';

BEGIN STATEMENT SET;

-- An alert when the model says fraud, or when the amount is unusually high for the card:
-- ML_DETECT_ANOMALIES_ROBUST compares each amount (on a log scale: amounts are skewed) with
-- the card's previous 30, by the median and the median absolute deviation; a robust z-score
-- above 4 is unusual. The reason says which, or both.
INSERT INTO alerts
SELECT tx_id, card_id, event_time, amount, probability, 'fraud_model', model_version,
  CONCAT_WS('; ',
    CASE WHEN probability > 0.9
         THEN 'fraud_model p=' || CAST(ROUND(probability, 3) AS STRING) END,
    CASE WHEN unusually_high
         THEN 'amount ' || CAST(ROUND(amount / usual_amount, 1) AS STRING)
              || ' x the card''s median of ' || CAST(ROUND(usual_amount, 2) AS STRING) END)
    AS reason
FROM (
  SELECT *, amount_check.is_anomaly AND amount_check.z_scores[1] > 0 AS unusually_high,
    EXP(amount_check.medians[1]) - 1 AS usual_amount
  FROM (
    SELECT *,
      ML_DETECT_ANOMALIES_ROBUST(LN(amount + 1), event_time,
                                 JSON_OBJECT('window' VALUE 30, 'threshold' VALUE 4.0))
        OVER (PARTITION BY card_id ORDER BY event_time
              RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS amount_check
    FROM ML_PREDICT(TABLE features, MODEL fraud_model, MAP['version_column', 'model_version'])))
WHERE probability > 0.9 OR unusually_high IS TRUE;

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
