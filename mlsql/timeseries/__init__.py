"""Time series per key on the stream: ML_FORECAST, ML_DETECT_ANOMALIES and
ML_DETECT_ANOMALIES_ROBUST as OVER aggregates (Confluent's spelling), found in a statement
(calls), checked (options) and compiled to Flink SQL and mlsql's functions (render)."""
