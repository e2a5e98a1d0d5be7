"""arima_plus: BigQuery ML's time-series model type, one ARIMA model per series
(`time_series_id_col`), trained by statsforecast. Its training and its functions
(ML_FORECAST(MODEL m), ML_DETECT_ANOMALIES(TABLE t, MODEL m)) are in
mlsql/planner/series_model.py; the fitting in mlsql/timeseries/series_model.py."""

from __future__ import annotations

import re

from mlsql.models.base import TIME_SERIES, ModelType
from mlsql.models.option_spec import Option, positive_int


def boolean(text: str) -> bool:
    value = text.strip().upper()
    if value not in ("TRUE", "FALSE"):
        raise ValueError("must be TRUE or FALSE")
    return value == "TRUE"


def order(text: str) -> tuple[int, int, int]:
    """'(p, d, q)', BigQuery's NON_SEASONAL_ORDER."""
    match = re.fullmatch(r"\s*\(?\s*(\d)\s*,\s*(\d)\s*,\s*(\d)\s*\)?\s*", text)
    if not match:
        raise ValueError("must be '(p, d, q)' with p and q from 0 to 5, d from 0 to 2")
    p, d, q = (int(v) for v in match.groups())
    if p > 5 or q > 5 or d > 2:
        raise ValueError("must be '(p, d, q)' with p and q from 0 to 5, d from 0 to 2")
    return p, d, q


def column(text: str) -> str:
    if not text.strip():
        raise ValueError("must name a column")
    return text.strip()


OPTIONS = (
    Option("time_series_timestamp_col", column, None, "the time column (required)"),
    Option("time_series_data_col", column, None, "the column to forecast (required)"),
    Option("time_series_id_col", column, None, "the series' key: one model per value"),
    Option("horizon", positive_int, 1000, "the most steps ML_FORECAST may ask for"),
    Option("auto_arima", boolean, True, "choose the orders per series (AICc)"),
    Option("non_seasonal_order", order, None, "'(p, d, q)' for every series (auto_arima "
                                              "FALSE)"),
    Option("seasonal_period", positive_int, 1, "rows per season; above 1, auto-ARIMA "
                                               "searches seasonal orders too"),
    Option("min_time_series_length", positive_int, 20, "rows a series needs to be modelled"),
    Option("max_time_series_length", positive_int, 512, "the latest rows each model is "
                                                        "fitted on"),
)

MODEL_TYPES = (ModelType("arima_plus", TIME_SERIES, OPTIONS, fit=None),)
