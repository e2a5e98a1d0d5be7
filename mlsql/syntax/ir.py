"""Typed statements: what the parser produces and the planner consumes. (Position, a line
and column, is mlsql.errors' so that errors carry it as a field.)"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlsql.errors import Position, Site


@dataclass(frozen=True)
class ModelRef:
    name: str
    version: int | None  # None: the model's serving version
    position: Position
    latest: bool = False  # `m$latest`: the newest version, whatever the default

    @property
    def pinned(self) -> bool:
        return self.version is not None


@dataclass(frozen=True)
class ColumnRef:
    name: str
    position: Position


@dataclass(frozen=True)
class PredictCall:
    """One `ML_PREDICT(...)` span inside a statement, to be replaced by a subquery."""

    start: int  # offsets into the statement text
    end: int
    table_sql: str  # the TABLE argument exactly as written
    table_position: Position
    model: ModelRef
    descriptor: tuple[ColumnRef, ...] | None
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EvaluateCall:
    """One `ML_EVALUATE(TABLE t, MODEL m [, DESCRIPTOR(label) [, DESCRIPTOR(features)]])`
    span: replaced by a row of metrics computed when the statement is planned."""

    start: int
    end: int
    table_sql: str
    table_position: Position
    model: ModelRef
    label: ColumnRef | None = None
    features: tuple[ColumnRef, ...] | None = None  # the model's inputs, in order


# The analysis functions: (name, takes a TABLE argument).
FEATURE_IMPORTANCE = "ML_FEATURE_IMPORTANCE"
TRAINING_INFO = "ML_TRAINING_INFO"
TRIAL_INFO = "ML_TRIAL_INFO"
EXPLAIN_PREDICT = "ML_EXPLAIN_PREDICT"
ROC_CURVE = "ML_ROC_CURVE"
CONFUSION_MATRIX = "ML_CONFUSION_MATRIX"
RESIDUAL_SUMMARY = "ML_RESIDUAL_SUMMARY"
VALIDATE_DATA_SKEW = "ML_VALIDATE_DATA_SKEW"
VALIDATE_DATA_DRIFT = "ML_VALIDATE_DATA_DRIFT"
EVALUATE_DELAYED = "ML_EVALUATE_DELAYED"
RETRAINING_EVENTS = "ML_RETRAINING_EVENTS"
CHI_SQUARE_TEST = "ML_CHI_SQUARE_TEST"
ANOVA_TEST = "ML_ANOVA_TEST"
F_VALUE_TEST = "ML_F_VALUE_TEST"
FEATURE_TEST_FUNCTIONS = (CHI_SQUARE_TEST, ANOVA_TEST, F_VALUE_TEST)
EVALUATE_BINARY = "ML_EVALUATE_BINARY"
SWING = "ML_SWING"
MODEL_ONLY_FUNCTIONS = (FEATURE_IMPORTANCE, TRAINING_INFO, TRIAL_INFO, RETRAINING_EVENTS)
LABELLED_TABLE_FUNCTIONS = (ROC_CURVE, CONFUSION_MATRIX, RESIDUAL_SUMMARY)
ANALYSIS_FUNCTIONS = (*MODEL_ONLY_FUNCTIONS, EXPLAIN_PREDICT, *LABELLED_TABLE_FUNCTIONS,
                      VALIDATE_DATA_SKEW, VALIDATE_DATA_DRIFT, EVALUATE_DELAYED,
                      *FEATURE_TEST_FUNCTIONS, EVALUATE_BINARY, SWING)
DEFAULT_TOP_K = 3
MAX_TOP_K = 1000  # ML_EXPLAIN_PREDICT's top_k: two output columns per feature named


@dataclass(frozen=True)
class AnalysisCall:
    """One analysis function span, replaced by a subquery:

    ML_FEATURE_IMPORTANCE(MODEL m), ML_TRAINING_INFO(MODEL m), ML_TRIAL_INFO(MODEL m),
    ML_RETRAINING_EVENTS(MODEL m);
    ML_EXPLAIN_PREDICT(TABLE t, MODEL m [, DESCRIPTOR(features...)] [, top_k]);
    ML_ROC_CURVE | ML_CONFUSION_MATRIX | ML_RESIDUAL_SUMMARY(TABLE t, MODEL m
    [, DESCRIPTOR(label)]);
    ML_VALIDATE_DATA_SKEW(TABLE t, MODEL m [, MAP[...]]);
    ML_VALIDATE_DATA_DRIFT(TABLE base, TABLE current [, MAP[...]]), the one without a model;
    ML_EVALUATE_DELAYED(TABLE predictions, TABLE labels, MODEL m, DESCRIPTOR(key)
    [, MAP[...]]);
    ML_CHI_SQUARE_TEST | ML_ANOVA_TEST | ML_F_VALUE_TEST(TABLE t, DESCRIPTOR(label),
    DESCRIPTOR(features...)), without a model;
    ML_EVALUATE_BINARY(TABLE t, DESCRIPTOR(label), DESCRIPTOR(score) [, DESCRIPTOR(weight)])
    (`features`: the score, then the weight), without a model;
    ML_SWING(TABLE t, DESCRIPTOR(user), DESCRIPTOR(item) [, MAP[...]]) (`label`: the user,
    `features`: the item), without a model.
    """

    function: str  # one of ANALYSIS_FUNCTIONS
    start: int
    end: int
    position: Position  # of the function's name
    model: ModelRef | None  # None for ML_VALIDATE_DATA_DRIFT and the feature tests
    table_sql: str | None = None
    table_position: Position | None = None
    label: ColumnRef | None = None
    features: tuple[ColumnRef, ...] | None = None
    top_k: int = DEFAULT_TOP_K
    base_sql: str | None = None  # ML_VALIDATE_DATA_DRIFT's first table
    base_position: Position | None = None
    config: tuple[tuple[str, str], ...] = ()  # MAP[...]
    labels_sql: str | None = None  # ML_EVALUATE_DELAYED's labels table and join key
    labels_position: Position | None = None
    key: ColumnRef | None = None

    @property
    def where(self) -> Site:
        return Site(self.function, self.position)


@dataclass(frozen=True)
class FeatureArgument:
    """One argument of a feature function call, as written (nested calls found in it)."""

    text: str
    position: Position
    calls: tuple[FeatureCall, ...] = ()  # offsets relative to `text`
    is_literal: bool = False
    value: object = None  # the literal: float, str, bool, None, or a tuple of literals
    elements: tuple[FeatureArgument, ...] | None = None  # ARRAY[...]'s elements
    start: int = 0  # offset in the text holding the call


@dataclass(frozen=True)
class FeatureCall:
    """`ML_<feature function>(args) [OVER ()]`; OVER () (fitted at training) only in
    TRANSFORM."""

    function: str
    start: int
    end: int
    position: Position
    arguments: tuple[FeatureArgument, ...]
    fitted: bool = False

    @property
    def where(self) -> Site:
        return Site(self.function, self.position)


# The time-series functions, OVER aggregates as Confluent spells them.
FORECAST = "ML_FORECAST"
DETECT_ANOMALIES = "ML_DETECT_ANOMALIES"
DETECT_ANOMALIES_ROBUST = "ML_DETECT_ANOMALIES_ROBUST"
SERIES_FUNCTIONS = (FORECAST, DETECT_ANOMALIES, DETECT_ANOMALIES_ROBUST)
# BigQuery's model form of two of them, ML_FORECAST(MODEL m), ML_DETECT_ANOMALIES(TABLE t,
# MODEL m): analysis calls (AnalysisCall), planned by mlsql.planner.series_model.
MODEL_SERIES_FUNCTIONS = (FORECAST, DETECT_ANOMALIES)


@dataclass(frozen=True)
class SeriesOption:
    """One `'name' VALUE literal` of a time-series call's JSON_OBJECT."""

    name: str
    value: object  # float, str, bool or None
    position: Position


@dataclass(frozen=True)
class SeriesCall:
    """`ML_FORECAST | ML_DETECT_ANOMALIES | ML_DETECT_ANOMALIES_ROBUST(value, ts
    [, JSON_OBJECT(...)]) OVER (PARTITION BY ... ORDER BY ts ...)`."""

    function: str
    start: int
    end: int
    position: Position
    values: tuple[str, ...]  # the value expression; ROW(a, b, ...) gives each element
    time: str
    options: tuple[SeriesOption, ...]
    window: str  # the OVER clause's parenthesised specification, as written
    partition: tuple[str, ...]  # its PARTITION BY expressions

    @property
    def where(self) -> Site:
        return Site(self.function, self.position)


@dataclass(frozen=True)
class TransformItem:
    """One TRANSFORM entry: an expression and the column it makes."""

    expression: str  # as written
    alias: str
    position: Position
    calls: tuple[FeatureCall, ...] = ()  # offsets relative to `expression`


@dataclass(frozen=True)
class FlinkStatement:
    """Any statement Flink runs itself; `predicts`, `evaluates` and `analyses` list the spans
    mlsql rewrites first."""

    text: str
    predicts: tuple[PredictCall, ...] = ()
    leading_word: str = ""
    evaluates: tuple[EvaluateCall, ...] = ()
    analyses: tuple[AnalysisCall, ...] = ()
    features: tuple[FeatureCall, ...] = ()  # outermost feature function calls
    series: tuple[SeriesCall, ...] = ()

    @property
    def has_ml(self) -> bool:
        return bool(self.predicts or self.evaluates or self.analyses or self.features
                    or self.series)


@dataclass(frozen=True)
class CreateModel:
    name: str
    options: tuple[tuple[str, str], ...]
    query: FlinkStatement
    query_position: Position
    or_replace: bool = False
    if_not_exists: bool = False
    position: Position = field(default_factory=lambda: Position(1, 1))
    transform: tuple[TransformItem, ...] | None = None

    @property
    def option_map(self) -> dict[str, str]:
        return dict(self.options)


# Providers whose models mlsql loads and runs itself; a model DDL naming any other provider
# (openai, triton, ...) is Flink's and reaches Flink unchanged.
MLSQL_PROVIDERS = ("onnx", "lightgbm", "xgboost", "python")


@dataclass(frozen=True)
class ImportModel:
    """Flink's model DDL: CREATE MODEL m INPUT (...) OUTPUT (...) WITH ('provider' = ...).
    mlsql imports the providers it runs itself; any other provider is Flink's."""

    name: str
    inputs: tuple[tuple[str, str], ...]  # (column, Flink type as written)
    outputs: tuple[tuple[str, str], ...]
    options: tuple[tuple[str, str], ...]
    text: str
    if_not_exists: bool = False
    position: Position = field(default_factory=lambda: Position(1, 1))

    @property
    def option_map(self) -> dict[str, str]:
        return dict(self.options)


@dataclass(frozen=True)
class ShowModels:
    like: str | None = None


@dataclass(frozen=True)
class DescribeModel:
    model: ModelRef


@dataclass(frozen=True)
class ShowCreateModel:
    model: ModelRef


@dataclass(frozen=True)
class AlterModel:
    """ALTER MODEL [IF EXISTS] m SET ('k' = 'v', ...) | RESET ('k', ...) | RENAME TO n."""

    model: ModelRef
    set_options: tuple[tuple[str, str], ...] = ()
    reset_options: tuple[str, ...] = ()
    rename_to: str | None = None
    if_exists: bool = False  # a missing model is no error


@dataclass(frozen=True)
class DropModel:
    model: ModelRef
    if_exists: bool = False


@dataclass(frozen=True)
class SetOption:
    key: str | None  # None: list the session's options
    value: str | None = None


@dataclass(frozen=True)
class ResetOption:
    key: str | None  # None: reset all


@dataclass(frozen=True)
class BeginStatementSet:
    pass


@dataclass(frozen=True)
class EndStatementSet:
    pass


@dataclass(frozen=True)
class ShowJobs:
    """SHOW JOBS: Flink runs it only in its SQL gateway; mlsql asks the cluster's REST API."""


@dataclass(frozen=True)
class StopJob:
    job_id: str
    with_savepoint: bool = False
    with_drain: bool = False


MlsqlStatement = (
    FlinkStatement | CreateModel | ImportModel | ShowModels | ShowCreateModel | DescribeModel
    | AlterModel | DropModel | SetOption | ResetOption | BeginStatementSet | EndStatementSet
    | ShowJobs | StopJob
)
