"""The time-series functions' worker side: ARIMA per key (ML_FORECAST, ML_DETECT_ANOMALIES)
and the median-absolute-deviation detector (ML_DETECT_ANOMALIES_ROBUST)."""
