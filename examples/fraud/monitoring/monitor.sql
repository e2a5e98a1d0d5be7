-- Three continuous jobs in one: score every transaction with the serving version (hot swap:
-- a promoted version takes over within a second), the quality of each day's predictions
-- once their labels are in (30 days of event time, then one more day for late ones), and
-- each day's transactions against the training rows.
BEGIN STATEMENT SET;

INSERT INTO scored
SELECT tx_id, event_time, probability, predicted_is_fraud, model_version
FROM ML_PREDICT(TABLE transactions, MODEL fraud_model,
                MAP['version_column', 'model_version', 'refresh_interval', '1 s']);

INSERT INTO quality
SELECT window_start, window_end, model_version, predictions, labelled, late_labels,
       unlabelled, accuracy, `precision`, recall, f1_score, roc_auc, log_loss,
       mean_predicted, observed_rate
FROM ML_EVALUATE_DELAYED(TABLE scored, TABLE labels, MODEL fraud_model, DESCRIPTOR(tx_id),
                         MAP['window', '1 day', 'label_delay', '30 days']);

INSERT INTO drift
SELECT window_start, window_end, input, metric, threshold, `value`, is_anomaly
FROM ML_VALIDATE_DATA_SKEW(TABLE transactions, MODEL fraud_model, MAP['window', '1 day']);

END;
