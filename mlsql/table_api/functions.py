"""`mlsql.ml_predict(table, "m")` and the other model functions over PyFlink Tables.

Each writes the SQL call (`SELECT * FROM ML_PREDICT(TABLE <view>, MODEL m, ...)`) over a
temporary view of the Table and hands it to the session's planner, so a Table call and its
SQL form get the same checks, errors and plans. Functions over bounded rows (ML_EVALUATE, the
curves) run their job when called, as in SQL, and return the result as a Table.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyflink.table import Table

from mlsql.errors import MlsqlError
from mlsql.planner.predict import EXECUTION_CHOICES
from mlsql.syntax.dialect import quote_identifier, quote_literal
from mlsql.table_api.binding import Session, planned_query, session_of, table_views

# The public functions: mlsql/__init__ and table_api/__init__ export exactly these.
__all__ = ["ml_anova_test", "ml_chi_square_test", "ml_confusion_matrix", "ml_detect_anomalies",
           "ml_evaluate", "ml_evaluate_binary", "ml_evaluate_delayed", "ml_explain_predict",
           "ml_f_value_test", "ml_feature_importance", "ml_forecast", "ml_predict",
           "ml_residual_summary", "ml_retraining_events", "ml_roc_curve", "ml_swing",
           "ml_training_info", "ml_trial_info", "ml_validate_data_drift",
           "ml_validate_data_skew"]


def ml_predict(table: Table, model: str, columns: Sequence[str] | None = None,
               execution: str | None = None, *, version_column: str | None = None,
               challenger: str | None = None, refresh_interval: str | None = None) -> Table:
    """ML_PREDICT: `table`'s rows with the model's outputs added. `model` is a registry
    name ('m', 'm$3', 'm$latest'); `columns` the DESCRIPTOR (default: by name); `execution`
    'sql' (compiled SQL), 'jvm' (the JVM scorer), 'udf' (pandas UDF) or 'auto' (the session's
    option), as MAP['execution', ...] in SQL."""
    if execution is not None and execution not in EXECUTION_CHOICES:
        raise MlsqlError("ml_predict: execution must be one of "
                         f"{', '.join(EXECUTION_CHOICES)}, not {execution!r}")
    config = {"execution": execution, "version_column": version_column,
              "challenger": challenger, "refresh_interval": refresh_interval}
    return _call("ML_PREDICT", table, model, _descriptor(columns), _map(config))


def ml_evaluate(table: Table, model: str, label: str | None = None,
                features: Sequence[str] | None = None) -> Table:
    """ML_EVALUATE: one row of the model's metrics on `table` (bounded)."""
    if features is not None and label is None:
        raise MlsqlError("ml_evaluate: features need the label too (label=...)")
    return _call("ML_EVALUATE", table, model, _label(label), _descriptor(features))


def ml_explain_predict(table: Table, model: str, columns: Sequence[str] | None = None,
                       top_k: int | None = None) -> Table:
    """ML_EXPLAIN_PREDICT: predictions with each row's top_k feature attributions."""
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                              or top_k <= 0):
        raise MlsqlError(f"ml_explain_predict: top_k must be a positive int, not {top_k!r}")
    return _call("ML_EXPLAIN_PREDICT", table, model, _descriptor(columns),
                 None if top_k is None else str(top_k))


def ml_roc_curve(table: Table, model: str, label: str | None = None) -> Table:
    return _call("ML_ROC_CURVE", table, model, _label(label))


def ml_confusion_matrix(table: Table, model: str, label: str | None = None) -> Table:
    return _call("ML_CONFUSION_MATRIX", table, model, _label(label))


def ml_residual_summary(table: Table, model: str, label: str | None = None) -> Table:
    return _call("ML_RESIDUAL_SUMMARY", table, model, _label(label))


def ml_validate_data_skew(table: Table, model: str,
                          options: dict[str, str] | None = None) -> Table:
    """ML_VALIDATE_DATA_SKEW: `table` (bounded) against the model's training rows, one row per
    column and statistic; `options` as its MAP[...] ('thresholds': 'amount:0.1', ...)."""
    return _call("ML_VALIDATE_DATA_SKEW", table, model, _map(dict(options or {})))


def ml_validate_data_drift(base: Table, current: Table,
                           options: dict[str, str] | None = None) -> Table:
    """ML_VALIDATE_DATA_DRIFT: `current` against `base` (both bounded), one row per shared
    column and statistic."""
    python_name = "ml_validate_data_drift"
    session = session_of(base, python_name)
    with table_views(session, {"base": base, "current": current}, python_name) as views:
        parts = [f"TABLE {views['base']}", f"TABLE {views['current']}",
                 _map(dict(options or {}))]
        return planned_query(session, "SELECT * FROM ML_VALIDATE_DATA_DRIFT("
                             + ", ".join(p for p in parts if p is not None) + ")")


def ml_evaluate_delayed(predictions: Table, labels: Table, model: str, key: str,
                        options: dict[str, str] | None = None) -> Table:
    """ML_EVALUATE_DELAYED: the model's quality per window of prediction time and version,
    each prediction joined to the label of the same `key` arriving within 'label_delay';
    `options` as its MAP[...] ('window', 'label_delay', 'late_horizon', 'segment', ...)."""
    python_name = "ml_evaluate_delayed"
    session = session_of(predictions, python_name)
    with table_views(session, {"predictions": predictions, "labels": labels},
                     python_name) as views:
        parts = [f"TABLE {views['predictions']}", f"TABLE {views['labels']}",
                 f"MODEL {_model(model, python_name)}", _descriptor([key]),
                 _map(dict(options or {}))]
        return planned_query(session, "SELECT * FROM ML_EVALUATE_DELAYED("
                             + ", ".join(p for p in parts if p is not None) + ")")


def ml_chi_square_test(table: Table, label: str, features: Sequence[str]) -> Table:
    """ML_CHI_SQUARE_TEST: each feature of `table` (bounded) against `label`, one row per
    feature (feature, feature_index, p_value, degrees_of_freedom, statistic)."""
    return _columns_call("ML_CHI_SQUARE_TEST", table, [label], features)


def ml_anova_test(table: Table, label: str, features: Sequence[str]) -> Table:
    """ML_ANOVA_TEST: as ml_chi_square_test, the one-way ANOVA F-test."""
    return _columns_call("ML_ANOVA_TEST", table, [label], features)


def ml_f_value_test(table: Table, label: str, features: Sequence[str]) -> Table:
    """ML_F_VALUE_TEST: as ml_chi_square_test, the linear regression F-test."""
    return _columns_call("ML_F_VALUE_TEST", table, [label], features)


def ml_evaluate_binary(table: Table, label: str, score: str, weight: str | None = None
                       ) -> Table:
    """ML_EVALUATE_BINARY: one row of area_under_roc, area_under_pr, ks and
    area_under_lorenz of the `score` column against `label` (1 or TRUE is positive)."""
    return _columns_call("ML_EVALUATE_BINARY", table, [label], [score],
                         *([[weight]] if weight is not None else []))


def ml_swing(table: Table, user: str, item: str, options: dict[str, str] | None = None
             ) -> Table:
    """ML_SWING: each item's most similar items (item, similar_item, score, rank) from
    `table`'s (user, item) rows; `options` as its MAP[...] ('k', 'min_user_behavior', ...)."""
    python_name = "ml_swing"
    session = session_of(table, python_name)
    with table_views(session, {"input": table}, python_name) as views:
        parts = [f"TABLE {views['input']}", _descriptor([user]), _descriptor([item]),
                 _map({k: str(v) for k, v in (options or {}).items()})]
        return planned_query(session, "SELECT * FROM ML_SWING("
                             + ", ".join(p for p in parts if p is not None) + ")")


def ml_feature_importance(session: Session, model: str) -> Table:
    return _model_call(session, "ML_FEATURE_IMPORTANCE", model)


def ml_training_info(session: Session, model: str) -> Table:
    return _model_call(session, "ML_TRAINING_INFO", model)


def ml_trial_info(session: Session, model: str) -> Table:
    return _model_call(session, "ML_TRIAL_INFO", model)


def ml_retraining_events(session: Session, model: str) -> Table:
    """What the retraining service did for `model` and why (ML_RETRAINING_EVENTS)."""
    return _model_call(session, "ML_RETRAINING_EVENTS", model)


def ml_forecast(session: Session, model: str, options: dict[str, str] | None = None) -> Table:
    """ML_FORECAST(MODEL m): an arima_plus model's forecasts, per series and step; `options`
    as its MAP[...] ('horizon', 'confidence_level')."""
    return _model_call(session, "ML_FORECAST", model, _map(dict(options or {})))


def ml_detect_anomalies(table: Table, model: str, options: dict[str, str] | None = None) -> Table:
    """ML_DETECT_ANOMALIES(TABLE t, MODEL m): `table`'s rows judged against an arima_plus
    model's series; `options` as its MAP[...] ('anomaly_prob_threshold')."""
    return _call("ML_DETECT_ANOMALIES", table, model, _map(dict(options or {})))


def _call(function: str, table: Table, model: str, *arguments: str | None) -> Table:
    python_name = function.lower()
    session = session_of(table, python_name)
    with table_views(session, {"input": table}, python_name) as views:
        parts = [f"TABLE {views['input']}", f"MODEL {_model(model, python_name)}",
                 *(a for a in arguments if a is not None)]
        return planned_query(session, f"SELECT * FROM {function}({', '.join(parts)})")


def _columns_call(function: str, table: Table, *descriptors: Sequence[str]) -> Table:
    """A function over a table and DESCRIPTORs of its columns, without a model."""
    python_name = function.lower()
    session = session_of(table, python_name)
    with table_views(session, {"input": table}, python_name) as views:
        parts = [f"TABLE {views['input']}", *(_descriptor(list(d)) for d in descriptors)]
        return planned_query(session, f"SELECT * FROM {function}({', '.join(parts)})")


def _model_call(session: Session, function: str, model: str, *arguments: str | None) -> Table:
    if getattr(getattr(session, "runtime", None), "owner", None) is not session:  # a Session
        raise MlsqlError(f"{function.lower()} takes the mlsql Session first (it reads no "
                         f"table), not a {type(session).__name__}")
    parts = [f"MODEL {_model(model, function.lower())}", *(a for a in arguments if a)]
    return planned_query(session, f"SELECT * FROM {function}({', '.join(parts)})")


def _model(name: str, function: str) -> str:
    if not isinstance(name, str) or not name:
        raise MlsqlError(f"{function}: the model is a registry name such as 'fraud_model' or "
                         f"'fraud_model$3', not {name!r}")
    return quote_identifier(name)


def _descriptor(columns: Sequence[str] | None) -> str | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not columns:
        raise MlsqlError(f"columns are a non-empty list of names, not {columns!r}")
    return f"DESCRIPTOR({', '.join(quote_identifier(c) for c in columns)})"


def _label(label: str | None) -> str | None:
    if label is not None and (not isinstance(label, str) or not label):
        raise MlsqlError(f"label is a column name, not {label!r}")
    return None if label is None else _descriptor([label])


def _map(config: dict[str, str | None]) -> str | None:
    entries = [f"{quote_literal(k)}, {quote_literal(v)}" for k, v in config.items()
               if v is not None]
    return f"MAP[{', '.join(entries)}]" if entries else None
