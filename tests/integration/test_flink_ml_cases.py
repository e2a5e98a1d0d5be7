"""Flink ML 2.3's own test cases (flink-ml-lib/src/test/java/org/apache/flink/ml/{feature,
stats,evaluation}/*Test.java), translated to mlsql's Pipeline API: each test is named after its
source test, its inputs and expected values are Flink ML's, unchanged, and so is its tolerance.
A vector column becomes one column per element (`input` -> input_0, input_1, ...), a sparse
vector its dense form. Flink ML compares rows after sorting them; so do these. Where Flink ML
gives NaN for a NaN input, mlsql gives NULL (NaN in pandas): its feature functions treat NaN as
NULL (VectorAssembler and the statistical tests keep NaN, as Flink ML does).

Cases of these classes not translated, and why:
- MaxAbsScalerTest.testFitDataWithNullValue: Flink ML refuses a NULL vector when fitting;
  mlsql's fitted statistics leave NULL (and NaN) out, as its SQL feature functions document.
- HashingTFTest.testTransformArrayData: a Java String[] and a List are both ARRAY<STRING> in
  SQL, so it is testTransform's case.
- RobustScalerTest.testIncompatibleNumOfFeatures, VarianceThresholdSelectorTest's and
  UnivariateFeatureSelectorTest's: a stage reads its columns by name; a table with more
  columns is scored as one with the model's, and one without them is refused with the missing
  column's name before any job.
- testGetModelData of StandardScalerTest, MinMaxScalerTest, MaxAbsScalerTest and
  RobustScalerTest: Flink ML's model data there are the fitted statistics (mean and std
  vectors, ...); a fitted stage here keeps the explicit SQL its transform needs
  (PipelineModel.stages: MinMaxScaler's scale and offset, no mean without centering). The
  getModelData cases of ImputerTest, KBinsDiscretizerTest, IDFTest, StringIndexerTest,
  OneHotEncoderTest, VarianceThresholdSelectorTest, VectorIndexerTest, CountVectorizerTest and
  UnivariateFeatureSelectorTest read the surrogates, bin edges, document frequencies,
  vocabularies, category counts, kept indices, category maps, term lists and selected indices
  from there. Every class's testSetModelData goes through get_model_data's Table and
  set_model_data.

StringIndexerTest.testStringOrderType's 'arbitrary' order is its own test here, as Flink ML
checks it differently (three distinct indices per column). Where Flink ML fails a job on an
invalid value, the test matches Flink ML's message in the error.

A stage is saved and loaded as a one-stage Pipeline (Flink ML saves each stage itself). A
vector column whose rows differ in length (PolynomialExpansionTest's, NormalizerTest's)
becomes one table per length.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from pyflink.table import DataTypes
from pyflink.table.expressions import call_sql, col

from mlsql.errors import MlsqlError, OptionError
from mlsql.feature_functions.calls import parse_expression
from mlsql.pipeline import (
    DCT,
    IDF,
    ANOVATest,
    Binarizer,
    BinaryClassificationEvaluator,
    Bucketizer,
    ChiSqTest,
    CountVectorizer,
    ElementwiseProduct,
    FeatureHasher,
    FValueTest,
    HashingTF,
    Imputer,
    IndexToString,
    Interaction,
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    NGram,
    Normalizer,
    OneHotEncoder,
    Pipeline,
    PipelineModel,
    PolynomialExpansion,
    RandomSplitter,
    RegexTokenizer,
    RobustScaler,
    SQLTransformer,
    StandardScaler,
    StopWordsRemover,
    StringIndexer,
    Swing,
    Tokenizer,
    UnivariateFeatureSelector,
    VarianceThresholdSelector,
    VectorAssembler,
    VectorIndexer,
    VectorSlicer,
)
from mlsql.runtime.flink_errors import flink_message
from udfs.text import java_string_hash

pytestmark = pytest.mark.slow
TOLERANCE = 1e-7


def vector_table(session, name: str, vectors: list[list[float]], dtype: type = float):
    """Flink ML's one-vector-column table, one column per element."""
    width = len(vectors[0])
    frame = pd.DataFrame(np.array(vectors, dtype=dtype),
                         columns=[f"{name}_{i}" for i in range(width)])
    return session.table_env.from_pandas(frame), list(frame.columns)


def sorted_rows(table, columns: list[str]) -> np.ndarray:
    """The columns' rows, in Flink ML's order (element by element)."""
    rows = table.to_pandas()[columns].to_numpy(dtype=float)
    return np.array(sorted(rows.tolist()))


def outputs(columns: list[str]) -> list[str]:
    return [c.replace("input", "output") for c in columns]


# StandardScalerTest
DENSE_INPUT = [[-2.5, 9, 1], [1.4, -5, 1], [2, -1, -2]]
EXPECTED_WITH_MEAN = [[-2.8, 8, 1], [1.1, -6, 1], [1.7, -2, -2]]
EXPECTED_WITH_STD = [[-1.0231819, 1.2480754, 0.5773502], [0.5729819, -0.6933752, 0.5773503],
                     [0.8185455, -0.1386750, -1.1547005]]
EXPECTED_WITH_MEAN_AND_STD = [[-1.1459637, 1.1094004, 0.5773503],
                              [0.45020003, -0.8320503, 0.5773503],
                              [0.69576368, -0.2773501, -1.1547005]]


def _scaled(session, vectors, **params) -> np.ndarray:
    table, columns = vector_table(session, "input", vectors)
    stage = StandardScaler(columns=columns, output_cols=outputs(columns), **params)
    return sorted_rows(Pipeline([stage]).fit(table).transform(table), outputs(columns))


def test_standard_scaler_test_param():
    scaler = StandardScaler(columns=["input"])
    assert (scaler.with_mean, scaler.with_std) == (False, True)
    assert scaler.output_cols == ["input"]  # Flink ML's default output column is "output"
    scaler = StandardScaler(columns=["test_input"], output_cols=["test_output"],
                            with_mean=True, with_std=False)
    assert (scaler.columns, scaler.output_cols) == (["test_input"], ["test_output"])
    assert (scaler.with_mean, scaler.with_std) == (True, False)


def test_standard_scaler_test_output_schema(batch_session):
    table, columns = vector_table(batch_session, "test_input", DENSE_INPUT)
    out = [c.replace("input", "output") for c in columns]
    scaled = Pipeline([StandardScaler(columns=columns, output_cols=out)]).fit(table) \
        .transform(table)
    assert list(scaled.get_schema().get_field_names()) == columns + out


def test_standard_scaler_test_fit_and_predict_with_std(batch_session):
    np.testing.assert_allclose(_scaled(batch_session, DENSE_INPUT), EXPECTED_WITH_STD,
                               rtol=0, atol=TOLERANCE)


def test_standard_scaler_test_fit_and_predict_with_mean(batch_session):
    np.testing.assert_allclose(
        _scaled(batch_session, DENSE_INPUT, with_std=False, with_mean=True),
        EXPECTED_WITH_MEAN, rtol=0, atol=TOLERANCE)


def test_standard_scaler_test_fit_and_predict_with_mean_and_std(batch_session):
    np.testing.assert_allclose(_scaled(batch_session, DENSE_INPUT, with_mean=True),
                               EXPECTED_WITH_MEAN_AND_STD, rtol=0, atol=TOLERANCE)


def test_standard_scaler_test_sparse_input(batch_session):
    # Vectors.sparse(3, {0, 1}, {-2.5, 1}) ... as dense vectors
    sparse = [[-2.5, 1, 0], [0, 2, -2], [1.4, 0, 1]]
    expected = [[-1.2653836, 1, 0], [0, 2, -1.30930734], [0.7086148, 0, 0.6546537]]
    np.testing.assert_allclose(_scaled(batch_session, sparse), expected, rtol=0,
                               atol=TOLERANCE)


def test_standard_scaler_test_fit_on_empty_data(batch_session):
    table, columns = vector_table(batch_session, "input", DENSE_INPUT)
    empty = table.filter(col("input_0") > 1000)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([StandardScaler(columns=columns)]).fit(empty)


# MinMaxScalerTest
TRAIN_DATA = [[0.0, 3.0], [2.1, 0.0], [4.1, 5.1], [6.1, 8.1], [200, 400]]
PREDICT_DATA = [[150.0, 90.0], [50.0, 40.0], [100.0, 50.0]]
EPS = 1.0e-5
EXPECTED_DATA = [[0.25, 0.1], [0.5, 0.125], [0.75, 0.225]]


def _fit_and_transform(session, stage_class, train, predict, dtype: type = float,
                       **params) -> np.ndarray:
    """Flink ML's fit on `train`, transform of `predict`: the output columns, sorted."""
    fit_on, columns = vector_table(session, "input", train, dtype)
    scored, _ = vector_table(session, "input", predict, dtype)
    stage = stage_class(columns=columns, output_cols=outputs(columns), **params)
    return sorted_rows(Pipeline([stage]).fit(fit_on).transform(scored), outputs(columns))


def _min_max(session, train, predict, dtype: type = float, **params) -> np.ndarray:
    return _fit_and_transform(session, MinMaxScaler, train, predict, dtype, **params)


def test_min_max_scaler_test_param():
    scaler = MinMaxScaler(columns=["input"])
    assert (scaler.min, scaler.max) == (0.0, 1.0)
    scaler = MinMaxScaler(columns=["test_input"], output_cols=["test_output"], min=1.0,
                          max=4.0)
    assert (scaler.columns, scaler.output_cols) == (["test_input"], ["test_output"])
    assert (scaler.min, scaler.max) == (1.0, 4.0)


def test_min_max_scaler_test_output_schema(batch_session):
    train, columns = vector_table(batch_session, "test_input", TRAIN_DATA)
    predict, _ = vector_table(batch_session, "test_input", PREDICT_DATA)
    out = [c.replace("input", "output") for c in columns]
    fitted = Pipeline([MinMaxScaler(columns=columns, output_cols=out, min=1.0, max=4.0)]) \
        .fit(train)
    assert list(fitted.transform(predict).get_schema().get_field_names()) == columns + out


def test_min_max_scaler_test_max_value_equals_min_value_but_predict_value_not_equals(
        batch_session):
    got = _min_max(batch_session, [[40.0, 80.0]], [[30.0, 50.0]], max=10.0, min=0.0)
    np.testing.assert_allclose(got, [[5.0, 5.0]], rtol=0, atol=EPS)


def test_min_max_scaler_test_fit_and_predict(batch_session):
    np.testing.assert_allclose(_min_max(batch_session, TRAIN_DATA, PREDICT_DATA),
                               EXPECTED_DATA, rtol=0, atol=EPS)


def test_min_max_scaler_test_input_type_conversion(batch_session):
    # Flink ML converts the vectors to sparse ones of integers: here, BIGINT columns
    got = _min_max(batch_session, TRAIN_DATA, PREDICT_DATA, dtype=np.int64)
    np.testing.assert_allclose(got, EXPECTED_DATA, rtol=0, atol=EPS)


# MaxAbsScalerTest
MAX_ABS_TRAIN = [[0.0, 3.0, 0.0], [2.1, 0.0, 0.0], [4.1, 5.1, 0.0], [6.1, 8.1, 0.0],
                 [200, -400, 0.0]]
MAX_ABS_PREDICT = [[150.0, 90.0, 1.0], [50.0, 40.0, 1.0], [100.0, 50.0, 0.5]]
MAX_ABS_EXPECTED = [[0.25, 0.1, 1.0], [0.5, 0.125, 0.5], [0.75, 0.225, 1.0]]


def test_max_abs_scaler_test_param():
    scaler = MaxAbsScaler(columns=["test_input"], output_cols=["test_output"])
    assert (scaler.columns, scaler.output_cols) == (["test_input"], ["test_output"])


def test_max_abs_scaler_test_output_schema(batch_session):
    train, columns = vector_table(batch_session, "test_input", MAX_ABS_TRAIN)
    predict, _ = vector_table(batch_session, "test_input", MAX_ABS_PREDICT)
    out = [c.replace("input", "output") for c in columns]
    fitted = Pipeline([MaxAbsScaler(columns=columns, output_cols=out)]).fit(train)
    assert list(fitted.transform(predict).get_schema().get_field_names()) == columns + out


def test_max_abs_scaler_test_fit_and_predict(batch_session):
    got = _fit_and_transform(batch_session, MaxAbsScaler, MAX_ABS_TRAIN, MAX_ABS_PREDICT)
    np.testing.assert_allclose(got, sorted(MAX_ABS_EXPECTED), rtol=0, atol=EPS)


def test_max_abs_scaler_test_fit_and_predict_sparse(batch_session):
    # Vectors.sparse(4, {1, 3}, {4.0, 3.0}) ... as dense vectors
    train = [[0, 4.0, 0, 3.0], [2.0, 0, -6.0, 0], [0, 1.0, 3.0, 0], [2.0, 8.0, 0, 0],
             [0, 1.0, 0, 5.0]]
    predict = [[2.0, 4.0, 0, 0], [1.0, 0, 3.0, 0], [0, 0, 0, 0], [0, 1.0, 0, 2.0]]
    expected = [[1.0, 0.5, 0, 0], [0.5, 0, 0.5, 0], [0, 0, 0, 0], [0, 0.125, 0, 0.4]]
    got = _fit_and_transform(batch_session, MaxAbsScaler, train, predict)
    np.testing.assert_allclose(got, sorted(expected), rtol=0, atol=EPS)


def _save_load_and_predict(session, tmp_path, stage, train, predict) -> np.ndarray:
    """Flink ML's testSaveLoadAndPredict: the estimator saved and loaded, fitted, the model
    saved and loaded, then used."""
    fit_on, _ = vector_table(session, "input", train)
    scored, _ = vector_table(session, "input", predict)
    Pipeline([stage]).save(tmp_path / "estimator")
    model = Pipeline.load(tmp_path / "estimator").fit(fit_on)
    model.save(tmp_path / "model")
    loaded = PipelineModel.load(tmp_path / "model")
    return sorted_rows(loaded.transform(scored), stage.output_cols)


def test_standard_scaler_test_save_load_and_predict(batch_session, tmp_path):
    columns = [f"input_{i}" for i in range(3)]
    got = _save_load_and_predict(batch_session, tmp_path, StandardScaler(
        columns=columns, output_cols=outputs(columns)), DENSE_INPUT, DENSE_INPUT)
    np.testing.assert_allclose(got, EXPECTED_WITH_STD, rtol=0, atol=TOLERANCE)


def test_min_max_scaler_test_save_load_and_predict(batch_session, tmp_path):
    columns = [f"input_{i}" for i in range(2)]
    got = _save_load_and_predict(batch_session, tmp_path, MinMaxScaler(
        columns=columns, output_cols=outputs(columns)), TRAIN_DATA, PREDICT_DATA)
    np.testing.assert_allclose(got, EXPECTED_DATA, rtol=0, atol=EPS)


def test_max_abs_scaler_test_save_load_and_predict(batch_session, tmp_path):
    columns = [f"input_{i}" for i in range(3)]
    got = _save_load_and_predict(batch_session, tmp_path, MaxAbsScaler(
        columns=columns, output_cols=outputs(columns)), MAX_ABS_TRAIN, MAX_ABS_PREDICT)
    np.testing.assert_allclose(got, sorted(MAX_ABS_EXPECTED), rtol=0, atol=EPS)


# RobustScalerTest
ROBUST_TRAIN = [[0.0, 0.0], [1.0, -1.0], [2.0, -2.0], [3.0, -3.0], [4.0, -4.0], [5.0, -5.0],
                [6.0, -6.0], [7.0, -7.0], [8.0, -8.0]]
ROBUST_PREDICT = [[3.0, -3.0], [6.0, -6.0], [99.0, -99.0]]
ROBUST_EXPECTED = [[0.75, -0.75], [1.5, -1.5], [24.75, -24.75]]


def _robust(session, train, predict, dtype: type = float, **params) -> np.ndarray:
    return _fit_and_transform(session, RobustScaler, train, predict, dtype, **params)


def test_robust_scaler_test_param():
    scaler = RobustScaler(columns=["input"])
    assert (scaler.lower, scaler.upper, scaler.relative_error) == (0.25, 0.75, 0.001)
    assert (scaler.with_centering, scaler.with_scaling) == (False, True)
    scaler = RobustScaler(columns=["test_input"], output_cols=["test_output"], lower=0.1,
                          upper=0.9, relative_error=0.01, with_centering=True,
                          with_scaling=False)
    assert (scaler.columns, scaler.output_cols) == (["test_input"], ["test_output"])
    assert (scaler.lower, scaler.upper, scaler.relative_error) == (0.1, 0.9, 0.01)
    assert (scaler.with_centering, scaler.with_scaling) == (True, False)


def test_robust_scaler_test_output_schema(batch_session):
    train, columns = vector_table(batch_session, "test_input", ROBUST_TRAIN)
    train = train.add_columns(col("test_input_0").cast(DataTypes.INT()).alias("id")) \
        .select(col("id"), *[col(c) for c in columns])
    out = [c.replace("input", "output") for c in columns]
    fitted = Pipeline([RobustScaler(columns=columns, output_cols=out)]).fit(train)
    assert list(fitted.transform(train).get_schema().get_field_names()) == \
        ["id", *columns, *out]


def test_robust_scaler_test_fit_and_predict(batch_session):
    np.testing.assert_allclose(_robust(batch_session, ROBUST_TRAIN, ROBUST_PREDICT),
                               ROBUST_EXPECTED, rtol=0, atol=EPS)


def test_robust_scaler_test_input_type_conversion(batch_session):
    got = _robust(batch_session, ROBUST_TRAIN, ROBUST_PREDICT, dtype=np.int64)
    np.testing.assert_allclose(got, ROBUST_EXPECTED, rtol=0, atol=EPS)


def test_robust_scaler_test_save_load_and_predict(batch_session, tmp_path):
    columns = [f"input_{i}" for i in range(2)]
    got = _save_load_and_predict(batch_session, tmp_path, RobustScaler(
        columns=columns, output_cols=outputs(columns)), ROBUST_TRAIN, ROBUST_PREDICT)
    np.testing.assert_allclose(got, ROBUST_EXPECTED, rtol=0, atol=EPS)


def test_robust_scaler_test_fit_on_empty_data(batch_session):
    table, columns = vector_table(batch_session, "input", ROBUST_TRAIN)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([RobustScaler(columns=columns)]).fit(table.filter(col("input_0") > 1000))


def test_robust_scaler_test_with_centering(batch_session):
    got = _robust(batch_session, ROBUST_TRAIN, ROBUST_PREDICT, with_centering=True)
    np.testing.assert_allclose(got, [[-0.25, 0.25], [0.5, -0.5], [23.75, -23.75]], rtol=0,
                               atol=EPS)


def test_robust_scaler_test_without_scaling(batch_session):
    got = _robust(batch_session, ROBUST_TRAIN, ROBUST_PREDICT, with_centering=True,
                  with_scaling=False)
    np.testing.assert_allclose(got, [[-1, 1], [2, -2], [95, -95]], rtol=0, atol=EPS)


def test_robust_scaler_test_zero_range(batch_session):
    train = [[0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [4.0, 4.0]]
    got = _robust(batch_session, train, ROBUST_PREDICT)
    np.testing.assert_allclose(got, [[0.0, -0.0]] * 3, rtol=0, atol=EPS)


def test_robust_scaler_test_nan_data(batch_session):
    train = [[0.0, np.nan], [np.nan, 0.0], [1.0, -1.0], [2.0, -2.0], [3.0, -3.0], [4.0, -4.0]]
    expected = [[0.0, np.nan], [np.nan, 0.0], [0.5, -0.5], [1.0, -1.0], [1.5, -1.5],
                [2.0, -2.0]]
    got = _robust(batch_session, train, train)
    key = lambda row: [np.inf if np.isnan(v) else v for v in row]  # noqa: E731
    np.testing.assert_allclose(sorted(got.tolist(), key=key), sorted(expected, key=key),
                               rtol=0, atol=EPS)


# ImputerTest
IMPUTER_TYPES = DataTypes.ROW([DataTypes.FIELD("f1", DataTypes.DOUBLE()),
                               DataTypes.FIELD("f2", DataTypes.DOUBLE()),
                               DataTypes.FIELD("f3", DataTypes.INT()),
                               DataTypes.FIELD("f4", DataTypes.FLOAT())])
NAN = float("nan")
IMPUTER_TRAIN = [(NAN, 9.0, 1, 9.0), (1.0, 9.0, None, 9.0), (1.5, 7.0, 1, 7.0),
                 (1.5, NAN, 2, NAN), (4.0, 5.0, 4, 5.0), (None, 4.0, None, 4.0)]
IMPUTER_EXPECTED = {
    "mean": [(2.0, 9.0, 1.0, 9.0), (1.0, 9.0, 2.0, 9.0), (1.5, 7.0, 1.0, 7.0),
             (1.5, 6.8, 2.0, 6.8), (4.0, 5.0, 4.0, 5.0), (2.0, 4.0, 2.0, 4.0)],
    "median": [(1.5, 9.0, 1.0, 9.0), (1.0, 9.0, 1.0, 9.0), (1.5, 7.0, 1.0, 7.0),
               (1.5, 7.0, 2.0, 7.0), (4.0, 5.0, 4.0, 5.0), (1.5, 4.0, 1.0, 4.0)],
    "most_frequent": [(1.5, 9.0, 1.0, 9.0), (1.0, 9.0, 1.0, 9.0), (1.5, 7.0, 1.0, 7.0),
                      (1.5, 9.0, 2.0, 9.0), (4.0, 5.0, 4.0, 5.0), (1.5, 4.0, 1.0, 4.0)],
}
INPUTS, OUTPUTS = ["f1", "f2", "f3", "f4"], ["o1", "o2", "o3", "o4"]


def _imputer_table(session, rows=IMPUTER_TRAIN, types=IMPUTER_TYPES):
    return session.table_env.from_elements(rows, types)


def _surrogates(model: PipelineModel) -> dict[str, float]:
    """Each fitted Imputer stage's replacement value: its explicit call's second argument."""
    found = {}
    for stage in model.stages:
        (call,) = parse_expression(stage.expression)
        found[stage.reads[0]] = float(call.arguments[1].value)
    return found


def test_imputer_test_param():
    imputer = Imputer(columns=INPUTS, output_cols=OUTPUTS)
    assert (imputer.columns, imputer.output_cols) == (INPUTS, OUTPUTS)
    assert imputer.strategy == "mean" and np.isnan(imputer.missing_value)
    assert imputer.relative_error == 0.001
    imputer = Imputer(columns=INPUTS, output_cols=OUTPUTS, missing_value=0.0,
                      strategy="median")
    assert (imputer.strategy, imputer.missing_value) == ("median", 0.0)


def test_imputer_test_output_schema(batch_session):
    table = _imputer_table(batch_session)
    model = Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS)]).fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == INPUTS + OUTPUTS


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_imputer_test_fit_and_predict(batch_session, strategy):
    table = _imputer_table(batch_session)
    model = Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS, strategy=strategy)]) \
        .fit(table)
    np.testing.assert_allclose(sorted_rows(model.transform(table), OUTPUTS),
                               sorted(IMPUTER_EXPECTED[strategy]), rtol=0, atol=EPS)


def test_imputer_test_save_load_and_predict(batch_session, tmp_path):
    table = _imputer_table(batch_session)
    Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS)]).save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(table).save(tmp_path / "model")
    loaded = PipelineModel.load(tmp_path / "model")
    np.testing.assert_allclose(sorted_rows(loaded.transform(table), OUTPUTS),
                               sorted(IMPUTER_EXPECTED["mean"]), rtol=0, atol=EPS)


@pytest.mark.parametrize("strategy", ["mean", "most_frequent"])
def test_imputer_test_fit_on_empty_data(batch_session, strategy):
    empty = _imputer_table(batch_session).filter(col("f2") > 1000)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS, strategy=strategy)]).fit(empty)


def test_imputer_test_no_valid_data_on_median_strategy(batch_session):
    types = DataTypes.ROW([DataTypes.FIELD("f1", DataTypes.DOUBLE()),
                           DataTypes.FIELD("f2", DataTypes.FLOAT())])
    table = _imputer_table(batch_session, [(NAN, NAN), (None, None), (1.0, 1.0)], types)
    imputer = Imputer(columns=["f1", "f2"], output_cols=["o1", "o2"], strategy="median",
                      missing_value=1.0)
    with pytest.raises(MlsqlError, match=r"cannot fit `f1`: every training value is NULL, "
                                         r"NaN or 1 \(Flink ML: 'Surrogate cannot be"):
        Pipeline([imputer]).fit(table)


def test_imputer_test_multiple_mode_on_most_frequent_strategy(batch_session):
    types = DataTypes.ROW([DataTypes.FIELD("f1", DataTypes.DOUBLE()),
                           DataTypes.FIELD("f2", DataTypes.DOUBLE())])
    table = _imputer_table(batch_session, [(1.0, 2.0), (1.0, 2.0), (2.0, 1.0), (2.0, 1.0)],
                           types)
    model = Pipeline([Imputer(columns=["f1", "f2"], output_cols=["o1", "o2"],
                              strategy="most_frequent")]).fit(table)
    assert _surrogates(model) == {"f1": 1.0, "f2": 1.0}


def test_imputer_test_inconsistent_inputs_and_outputs():
    with pytest.raises(OptionError, match="4 columns but 3 output_cols"):
        Imputer(columns=INPUTS, output_cols=["o1", "o2", "o3"])


def test_imputer_test_get_model_data(batch_session):
    model = Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS)]) \
        .fit(_imputer_table(batch_session))
    got = _surrogates(model)
    assert list(got) == INPUTS
    np.testing.assert_allclose(list(got.values()), [2.0, 6.8, 2.0, 6.8], rtol=0, atol=EPS)


# PolynomialExpansionTest
DENSE_VECTORS = [[1.0, 2.0, 3.0], [2.0, 3.0]]
SPARSE_VECTORS = [[0, 2.0, 0, 0, 3.0], [0, 2.0, 0, 0, 1.0]]  # Vectors.sparse(5, {1, 4}, ...)
EXPECTED_DENSE = [[1.0, 1.0, 2.0, 2.0, 4.0, 3.0, 3.0, 6.0, 9.0], [2.0, 4.0, 3.0, 6.0, 9.0]]
EXPECTED_DENSE_DEGREE_3 = [
    [1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 4.0, 4.0, 8.0, 3.0, 3.0, 3.0, 6.0, 6.0, 12.0, 9.0, 9.0,
     18.0, 27.0],
    [2.0, 4.0, 8.0, 3.0, 6.0, 12.0, 9.0, 18.0, 27.0]]
SPARSE_INDICES = [3, 6, 8, 34, 37, 39, 49, 51, 54]
EXPECTED_SPARSE = [[2.0, 4.0, 8.0, 3.0, 6.0, 12.0, 9.0, 18.0, 27.0],
                   [2.0, 4.0, 8.0, 1.0, 2.0, 4.0, 1.0, 2.0, 1.0]]


def _expanded(session, vector: list[float], stage_of) -> list[float]:
    """One vector's expansion: a one-row table of its elements through `stage_of(columns)`."""
    table, columns = vector_table(session, "v", [vector])
    stage = stage_of(columns)
    expanded = Pipeline([stage]).fit(table).transform(table).to_pandas()
    return [float(v) for v in expanded[[c for c in expanded.columns
                                        if c.startswith(f"{stage.output_col}_")]].iloc[0]]


def test_polynomial_expansion_test_param():
    expansion = PolynomialExpansion(columns=["denseVec"], output_col="outputVec", degree=5)
    assert (expansion.columns, expansion.output_col, expansion.degree) == (
        ["denseVec"], "outputVec", 5)
    assert PolynomialExpansion(columns=["input"], output_col="output").degree == 2


def test_polynomial_expansion_test_output_schema(batch_session):
    table, columns = vector_table(batch_session, "denseVec", [DENSE_VECTORS[0]])
    stage = PolynomialExpansion(columns=columns, output_col="outputVec", degree=3)
    names = list(Pipeline([stage]).fit(table).transform(table).get_schema().get_field_names())
    assert names == [*columns, *[f"outputVec_{i}" for i in range(1, 20)]]


def test_polynomial_expansion_test_save_load_and_transform(batch_session, tmp_path):
    for index, vector in enumerate(DENSE_VECTORS):
        def saved_and_loaded(columns, index=index):
            Pipeline([PolynomialExpansion(columns=columns, output_col="outputVec")]).save(
                tmp_path / str(index))
            return Pipeline.load(tmp_path / str(index)).stages[0]
        np.testing.assert_allclose(_expanded(batch_session, vector, saved_and_loaded),
                                   EXPECTED_DENSE[index], rtol=0, atol=EPS)


def test_polynomial_expansion_test_invalid_degree():
    with pytest.raises(OptionError, match="degree"):
        PolynomialExpansion(columns=["denseVec"], output_col="outputVec", degree=-1)


def test_polynomial_expansion_test_dense_transform(batch_session):
    for vector, expected in zip(DENSE_VECTORS, EXPECTED_DENSE_DEGREE_3, strict=True):
        got = _expanded(batch_session, vector, lambda columns: PolynomialExpansion(
            columns=columns, output_col="outputVec", degree=3))
        np.testing.assert_allclose(got, expected, rtol=0, atol=EPS)


def test_polynomial_expansion_test_sparse_transform(batch_session):
    for vector, values in zip(SPARSE_VECTORS, EXPECTED_SPARSE, strict=True):
        expected = np.zeros(55)
        expected[SPARSE_INDICES] = values
        got = _expanded(batch_session, vector, lambda columns: PolynomialExpansion(
            columns=columns, output_col="outputVec", degree=3))
        np.testing.assert_allclose(got, expected, rtol=0, atol=EPS)


# KBinsDiscretizerTest: column 0 normal, column 1 constant, column 2 fewer distinct values
# than bins
KBINS_TRAIN = [[1, 10, 0], [1, 10, 0], [1, 10, 0], [4, 10, 0], [5, 10, 0], [6, 10, 0],
               [7, 10, 0], [10, 10, 0], [13, 10, 3]]
KBINS_TEST = [[-1, 0, 0], [1, 1, 1], [1.5, 1, 2], [5, 2, 3], [7.25, 3, 4], [13, 4, 5],
              [15, 4, 6]]
UNIFORM_MODEL_DATA = [[1, 5, 9, 13], [-np.inf, np.inf], [0, 1, 2, 3]]
KBINS_OUTPUT = {
    "uniform": [[0, 0, 0], [0, 0, 1], [0, 0, 2], [1, 0, 2], [1, 0, 2], [2, 0, 2], [2, 0, 2]],
    "quantile": [[0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 0, 0], [2, 0, 0], [2, 0, 0], [2, 0, 0]],
    "kmeans": [[0, 0, 0], [0, 0, 1], [0, 0, 2], [1, 0, 2], [1, 0, 2], [2, 0, 2], [2, 0, 2]],
}


def test_k_bins_discretizer_test_param():
    discretizer = KBinsDiscretizer(columns=["input"])
    assert (discretizer.num_bins, discretizer.strategy, discretizer.sub_samples) == (
        5, "quantile", 200000)
    discretizer = KBinsDiscretizer(columns=["test_input"], output_cols=["test_output"],
                                   num_bins=10, strategy="kmeans", sub_samples=1000)
    assert (discretizer.columns, discretizer.output_cols) == (["test_input"], ["test_output"])
    assert (discretizer.num_bins, discretizer.strategy, discretizer.sub_samples) == (
        10, "kmeans", 1000)


def test_k_bins_discretizer_test_output_schema(batch_session):
    types = DataTypes.ROW([DataTypes.FIELD("test_input", DataTypes.DOUBLE()),
                           DataTypes.FIELD("dummy_input", DataTypes.DOUBLE())])
    table = batch_session.table_env.from_elements([(1.0, 2.0), (3.0, 4.0)], types)
    model = Pipeline([KBinsDiscretizer(columns=["test_input"], output_cols=["test_output"])]) \
        .fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == [
        "test_input", "dummy_input", "test_output"]


@pytest.mark.parametrize("strategy", ["uniform", "quantile", "kmeans"])
def test_k_bins_discretizer_test_fit_and_predict(batch_session, strategy):
    got = _fit_and_transform(batch_session, KBinsDiscretizer, KBINS_TRAIN, KBINS_TEST,
                             num_bins=3, strategy=strategy)
    np.testing.assert_allclose(got, sorted(KBINS_OUTPUT[strategy]), rtol=0, atol=0)


def test_k_bins_discretizer_test_save_load_and_predict(batch_session, tmp_path):
    columns = [f"input_{i}" for i in range(3)]
    got = _save_load_and_predict(batch_session, tmp_path, KBinsDiscretizer(
        columns=columns, output_cols=outputs(columns), num_bins=3, strategy="uniform"),
        KBINS_TRAIN, KBINS_TEST)
    np.testing.assert_allclose(got, sorted(KBINS_OUTPUT["uniform"]), rtol=0, atol=0)


def test_k_bins_discretizer_test_get_model_data(batch_session):
    table, columns = vector_table(batch_session, "input", KBINS_TRAIN)
    model = Pipeline([KBinsDiscretizer(columns=columns, num_bins=3, strategy="uniform")]) \
        .fit(table)
    inner_edges = []
    for stage in model.stages:  # ML_BUCKETIZE(x, ARRAY[inner edges], 'index'), or bin 0
        (call, *_) = parse_expression(stage.expression) or [None]
        inner_edges.append([] if call is None else [float(v) for v in call.arguments[1].value])
    assert inner_edges == [edges[1:-1] for edges in UNIFORM_MODEL_DATA]


def test_k_bins_discretizer_test_fit_on_empty_data(batch_session):
    table, columns = vector_table(batch_session, "input", KBINS_TRAIN)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([KBinsDiscretizer(columns=columns)]).fit(table.filter(col("input_0") > 1000))


# NormalizerTest
NORMALIZER_DENSE = [[2.1, 3.1, 2.3, 3.4, 5.3, 5.1], [2.3, 4.1, 1.3, 2.4, 5.1, 4.1]]
NORMALIZER_SPARSE = [[0, 0.1, 0, 0.2, 0.3], [0, 0.1, 0.2, 0, 0.3]]  # Vectors.sparse(5, ...)
NORMALIZER_EXPECTED_DENSE = [
    [0.17386300895299714, 0.25665491797823387, 0.19042139075804446, 0.28149249068580484,
     0.43879711783375464, 0.42223873602870726],
    [0.20785190042726007, 0.3705186051094636, 0.11748150893714701, 0.2168889395762714,
     0.4608889965995767, 0.3705186051094636]]
NORMALIZER_EXPECTED_SPARSE = [
    [0, 0.23070057753660791, 0, 0.46140115507321583, 0.6921017326098237],
    [0, 0.23070057753660791, 0.46140115507321583, 0, 0.6921017326098237]]


def _normalized(session, vectors, stage_of) -> np.ndarray:
    return np.array([_expanded(session, vector, stage_of) for vector in vectors])


def test_normalizer_test_param():
    assert Normalizer(columns=["input"], output_col="output").p == 2.0
    normalizer = Normalizer(columns=["denseVec"], output_col="outputVec", p=1.5)
    assert (normalizer.columns, normalizer.output_col, normalizer.p) == (
        ["denseVec"], "outputVec", 1.5)


def test_normalizer_test_output_schema(batch_session):
    table, columns = vector_table(batch_session, "denseVec", NORMALIZER_DENSE)
    stage = Normalizer(columns=columns, output_col="outputVec", p=1.5)
    names = list(Pipeline([stage]).fit(table).transform(table).get_schema().get_field_names())
    assert names == [*columns, *[f"outputVec_{i}" for i in range(1, 7)]]


def test_normalizer_test_save_load_and_transform(batch_session, tmp_path):
    def saved_and_loaded(columns):
        Pipeline([Normalizer(columns=columns, output_col="outputVec", p=1.5)]).save(tmp_path)
        return Pipeline.load(tmp_path).stages[0]
    np.testing.assert_allclose(_normalized(batch_session, NORMALIZER_DENSE, saved_and_loaded),
                               NORMALIZER_EXPECTED_DENSE, rtol=0, atol=1e-12)


def test_normalizer_test_invalid_p():
    with pytest.raises(OptionError, match="p must be a number >= 1"):
        Normalizer(columns=["denseVec"], output_col="outputVec", p=0.5)


def test_normalizer_test_dense_transform(batch_session):
    got = _normalized(batch_session, NORMALIZER_DENSE, lambda columns: Normalizer(
        columns=columns, output_col="outputVec", p=1.5))
    np.testing.assert_allclose(got, NORMALIZER_EXPECTED_DENSE, rtol=0, atol=1e-12)


def test_normalizer_test_sparse_transform(batch_session):
    got = _normalized(batch_session, NORMALIZER_SPARSE, lambda columns: Normalizer(
        columns=columns, output_col="outputVec", p=1.5))
    np.testing.assert_allclose(got, NORMALIZER_EXPECTED_SPARSE, rtol=0, atol=1e-12)


# TokenizerTest, NGramTest: one STRING or ARRAY<STRING> column
def _strings_table(session, rows: list, kind, names=("input",)):
    fields = [DataTypes.FIELD(names[0], kind)] + [DataTypes.FIELD(n, DataTypes.STRING())
                                                  for n in names[1:]]
    return session.table_env.from_elements(rows, DataTypes.ROW(fields))


def _token_lists(table, column: str) -> list[list[str]]:
    return [list(tokens) for tokens in table.to_pandas()[column]]


TOKENIZER_INPUT = [("Test for tokenization.",), ("Te,st. punct",)]
TOKENIZER_EXPECTED = [["test", "for", "tokenization."], ["te,st.", "punct"]]


def test_tokenizer_test_param():
    tokenizer = Tokenizer(columns=["testInputCol"], output_cols=["testOutputCol"])
    assert (tokenizer.columns, tokenizer.output_cols) == (["testInputCol"], ["testOutputCol"])


def test_tokenizer_test_output_schema(batch_session):
    table = _strings_table(batch_session, [("", "")], DataTypes.STRING(),
                           ("input", "dummyInput"))
    model = Pipeline([Tokenizer(columns=["input"], output_cols=["output"])]).fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == [
        "input", "dummyInput", "output"]


def test_tokenizer_test_transform(batch_session):
    table = _strings_table(batch_session, TOKENIZER_INPUT, DataTypes.STRING())
    model = Pipeline([Tokenizer(columns=["input"], output_cols=["output"])]).fit(table)
    assert sorted(_token_lists(model.transform(table), "output")) == sorted(TOKENIZER_EXPECTED)


def test_tokenizer_test_save_load_and_transform(batch_session, tmp_path):
    table = _strings_table(batch_session, TOKENIZER_INPUT, DataTypes.STRING())
    Pipeline([Tokenizer(columns=["input"], output_cols=["output"])]).save(tmp_path)
    model = Pipeline.load(tmp_path).fit(table)
    assert sorted(_token_lists(model.transform(table), "output")) == sorted(TOKENIZER_EXPECTED)


NGRAM_INPUT = [([],), (["a", "b", "c"],), (["a", "b", "c", "d"],)]
NGRAM_EXPECTED = [[], ["a b", "b c"], ["a b", "b c", "c d"]]


def test_n_gram_test_param():
    assert NGram(columns=["input"], output_cols=["output"]).n == 2
    ngram = NGram(columns=["testInputCol"], output_cols=["testOutputCol"], n=5)
    assert (ngram.columns, ngram.output_cols, ngram.n) == (
        ["testInputCol"], ["testOutputCol"], 5)


def test_n_gram_test_output_schema(batch_session):
    table = _strings_table(batch_session, [([""], "")], DataTypes.ARRAY(DataTypes.STRING()),
                           ("input", "dummyInput"))
    model = Pipeline([NGram(columns=["input"], output_cols=["output"])]).fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == [
        "input", "dummyInput", "output"]


def test_n_gram_test_transform(batch_session):
    table = _strings_table(batch_session, NGRAM_INPUT, DataTypes.ARRAY(DataTypes.STRING()))
    model = Pipeline([NGram(columns=["input"], output_cols=["output"])]).fit(table)
    assert sorted(_token_lists(model.transform(table), "output"), key=len) == NGRAM_EXPECTED


def test_n_gram_test_save_load_and_transform(batch_session, tmp_path):
    table = _strings_table(batch_session, NGRAM_INPUT, DataTypes.ARRAY(DataTypes.STRING()))
    Pipeline([NGram(columns=["input"], output_cols=["output"])]).save(tmp_path)
    model = Pipeline.load(tmp_path).fit(table)
    assert sorted(_token_lists(model.transform(table), "output"), key=len) == NGRAM_EXPECTED


# IDFTest: the input is an ARRAY<DOUBLE> column (term frequencies)
IDF_INPUT = [([0.0, 1.0, 0.0, 2.0],), ([0.0, 1.0, 2.0, 3.0],), ([0.0, 1.0, 0.0, 0.0],)]
IDF_EXPECTED = [[0, 0, 0, 0.5753641], [0, 0, 1.3862943, 0.8630462], [0, 0, 0, 0]]
IDF_EXPECTED_MIN_DOC_FREQ_2 = [[0, 0, 0, 0.5753641], [0, 0, 0, 0.8630462], [0, 0, 0, 0]]


def _idf_table(session):
    return _strings_table(session, IDF_INPUT, DataTypes.ARRAY(DataTypes.DOUBLE()))


def _weighted(model: PipelineModel, table) -> np.ndarray:
    return sorted_rows(model.transform(table), [f"output_{i}" for i in range(1, 5)])


def test_idf_test_param():
    assert IDF(columns=["input"], num_features=4).min_doc_freq == 0
    idf = IDF(columns=["test_input"], output_cols=["test_output"], num_features=4,
              min_doc_freq=2)
    assert (idf.columns, idf.output_cols, idf.min_doc_freq) == (
        ["test_input"], ["test_output"], 2)


def test_idf_test_output_schema(batch_session):
    table = _strings_table(batch_session, [([0.0, 1.0], "")],
                           DataTypes.ARRAY(DataTypes.DOUBLE()), ("test_input", "dummy_input"))
    model = Pipeline([IDF(columns=["test_input"], output_cols=["test_output"],
                          num_features=2)]).fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == [
        "test_input", "dummy_input", "test_output_1", "test_output_2"]


@pytest.mark.parametrize("min_doc_freq, expected", [(0, IDF_EXPECTED),
                                                    (2, IDF_EXPECTED_MIN_DOC_FREQ_2)])
def test_idf_test_fit_and_predict(batch_session, min_doc_freq, expected):
    table = _idf_table(batch_session)
    model = Pipeline([IDF(columns=["input"], output_cols=["output"], num_features=4,
                          min_doc_freq=min_doc_freq)]).fit(table)
    np.testing.assert_allclose(_weighted(model, table), sorted(expected), rtol=0, atol=1e-7)


def test_idf_test_save_load_and_predict(batch_session, tmp_path):
    table = _idf_table(batch_session)
    Pipeline([IDF(columns=["input"], output_cols=["output"], num_features=4)]).save(
        tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(table).save(tmp_path / "model")
    np.testing.assert_allclose(_weighted(PipelineModel.load(tmp_path / "model"), table),
                               sorted(IDF_EXPECTED), rtol=0, atol=1e-7)


def test_idf_test_get_model_data(batch_session):
    model = Pipeline([IDF(columns=["input"], output_cols=["output"], num_features=4)]) \
        .fit(_idf_table(batch_session))
    (call,) = parse_expression(model.stages[0].expression)  # ML_IDF(tf, ARRAY[df], docs)
    assert [float(v) for v in call.arguments[1].value] == [0, 3, 1, 2]
    assert float(call.arguments[2].value) == 3
    idf = [np.log((3 + 1) / (df + 1)) for df in (0, 3, 1, 2)]
    np.testing.assert_allclose(idf, [1.3862943, 0, 0.6931471, 0.2876820], rtol=0, atol=1e-7)


def test_idf_test_fit_on_empty_data(batch_session):
    empty = _idf_table(batch_session).filter(col("input").at(1) > 1000)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([IDF(columns=["input"], num_features=4)]).fit(empty)


# BucketizerTest: columns f1..f4, one list of edges each
INF = float("inf")
BUCKETIZER_ROWS = [(1, -0.5, 0.0, 1.0, 0.0), (2, -INF, 1.0, INF, 1.0),
                   (3, float("nan"), -0.5, -0.5, 2.0)]
SPLITS_ARRAY = [[-0.5, 0.0, 0.5], [-1.0, 0.0, 2.0], [-INF, 10.0, INF], [-INF, 1.5, INF]]
BUCKETIZER_KEEP = [(1, 0.0, 1.0, 0.0, 0.0), (2, 2.0, 1.0, 1.0, 0.0), (3, 2.0, 0.0, 0.0, 1.0)]
BUCKETIZER_SKIP = [(1, 0.0, 1.0, 0.0, 0.0)]
F_COLUMNS, O_COLUMNS = ["f1", "f2", "f3", "f4"], ["o1", "o2", "o3", "o4"]
INVALID_VALUE = "The input contains invalid value. See handleInvalid parameter for more options."


def _bucketizer_table(session, rows=BUCKETIZER_ROWS, kind=None):
    kind = kind or DataTypes.DOUBLE()
    return session.table_env.from_elements(rows, DataTypes.ROW(
        [DataTypes.FIELD("id", DataTypes.INT())]
        + [DataTypes.FIELD(c, kind) for c in F_COLUMNS]))


def _bucketized(stage, table) -> list[tuple]:
    frame = Pipeline([stage]).fit(table).transform(table).to_pandas()
    return sorted(tuple(row) for row in frame[["id", *stage.output_cols]].itertuples(
        index=False))


def test_bucketizer_test_param():
    bucketizer = Bucketizer(columns=F_COLUMNS, output_cols=O_COLUMNS,
                            splits_array=SPLITS_ARRAY, handle_invalid="skip")
    assert (bucketizer.columns, bucketizer.output_cols) == (F_COLUMNS, O_COLUMNS)
    assert bucketizer.handle_invalid == "skip"
    assert bucketizer.splits_array == SPLITS_ARRAY
    assert Bucketizer(columns=["f1"], splits_array=[[0, 1]]).handle_invalid == "error"


def test_bucketizer_test_output_schema(batch_session):
    table = _bucketizer_table(batch_session)
    stage = Bucketizer(columns=F_COLUMNS, output_cols=O_COLUMNS, splits_array=SPLITS_ARRAY,
                       handle_invalid="skip")
    names = Pipeline([stage]).fit(table).transform(table).get_schema().get_field_names()
    assert list(names) == ["id", *F_COLUMNS, *O_COLUMNS]


def test_bucketizer_test_transform(batch_session):
    table = _bucketizer_table(batch_session)

    def bucketizer(handle_invalid):
        return Bucketizer(columns=F_COLUMNS, output_cols=O_COLUMNS, splits_array=SPLITS_ARRAY,
                          handle_invalid=handle_invalid)

    assert _bucketized(bucketizer("skip"), table) == BUCKETIZER_SKIP
    assert _bucketized(bucketizer("keep"), table) == BUCKETIZER_KEEP
    with pytest.raises(Exception, match=re.escape(INVALID_VALUE)):
        _bucketized(bucketizer("error"), table)


def test_bucketizer_test_input_type_conversion(batch_session):
    # TestUtils.convertDataTypesToSparseInt: each value as Java's (int) cast makes it
    as_int = [tuple(_java_int(v) for v in row) for row in BUCKETIZER_ROWS]
    table = _bucketizer_table(batch_session, as_int, DataTypes.INT())
    stage = Bucketizer(columns=F_COLUMNS, output_cols=O_COLUMNS, splits_array=SPLITS_ARRAY,
                       handle_invalid="skip")
    assert _bucketized(stage, table) == [(1, 1.0, 1.0, 0.0, 0.0), (3, 1.0, 1.0, 0.0, 1.0)]


def _java_int(value: float) -> int:
    if np.isnan(value):
        return 0
    return int(np.clip(value, -2**31, 2**31 - 1))


def test_bucketizer_test_save_load_and_transform(batch_session, tmp_path):
    Pipeline([Bucketizer(columns=F_COLUMNS, output_cols=O_COLUMNS, splits_array=SPLITS_ARRAY,
                         handle_invalid="keep")]).save(tmp_path)
    (loaded,) = Pipeline.load(tmp_path).stages
    assert _bucketized(loaded, _bucketizer_table(batch_session)) == BUCKETIZER_KEEP


# StringIndexerTest: a STRING and a DOUBLE column, with NULLs
INDEXER_TRAIN = [("a", 1.0), ("b", 1.0), ("b", 2.0), ("c", 0.0), ("d", 2.0), ("a", 2.0),
                 ("b", 2.0), ("b", -1.0), ("a", -1.0), ("c", -1.0), ("d", None), (None, 2.0),
                 (None, None)]
INDEXER_PREDICT = [("a", 2.0), ("b", 1.0), ("e", 2.0), ("f", None), (None, None)]
INDEXER_IN, INDEXER_OUT = ["inputCol1", "inputCol2"], ["outputCol1", "outputCol2"]
ALPHABET_ASC = [("a", 2.0, 0.0, 3.0), ("b", 1.0, 1.0, 2.0), ("e", 2.0, 4.0, 3.0),
                ("f", None, 4.0, 4.0), (None, None, 4.0, 4.0)]
ALPHABET_DESC = [("a", 2.0, 3.0, 0.0), ("b", 1.0, 2.0, 1.0), ("e", 2.0, 4.0, 0.0),
                 ("f", None, 4.0, 4.0), (None, None, 4.0, 4.0)]
FREQUENCY_ASC = [("a", 2.0, 2.0, 3.0), ("b", 1.0, 3.0, 1.0), ("e", 2.0, 4.0, 3.0),
                 ("f", None, 4.0, 4.0), (None, None, 4.0, 4.0)]
FREQUENCY_DESC = [("a", 2.0, 1.0, 0.0), ("b", 1.0, 0.0, 2.0), ("e", 2.0, 4.0, 0.0),
                  ("f", None, 4.0, 4.0), (None, None, 4.0, 4.0)]


def _indexer_tables(session):
    schema = DataTypes.ROW([DataTypes.FIELD("inputCol1", DataTypes.STRING()),
                            DataTypes.FIELD("inputCol2", DataTypes.DOUBLE())])
    return (session.table_env.from_elements(INDEXER_TRAIN, schema),
            session.table_env.from_elements(INDEXER_PREDICT, schema))


def _indexed(model, table) -> list[tuple]:
    """Rows in Flink ML's order (each field's text), NULL as None."""
    frame = model.transform(table).to_pandas()[[*INDEXER_IN, *INDEXER_OUT]]
    rows = [tuple(None if pd.isna(v) else v for v in row)
            for row in frame.itertuples(index=False)]
    return sorted(rows, key=lambda row: [str(v) for v in row])


def _string_indexer(**params):
    return StringIndexer(columns=INDEXER_IN, output_cols=INDEXER_OUT, **params)


def _expected(rows):
    return sorted(rows, key=lambda row: [str(v) for v in row])


def test_string_indexer_test_param():
    indexer = StringIndexer(columns=INDEXER_IN)
    assert (indexer.string_order_type, indexer.handle_invalid) == ("arbitrary", "error")
    assert indexer.max_index_num == 2**31 - 1
    indexer = _string_indexer(string_order_type="alphabetAsc", handle_invalid="skip")
    assert (indexer.columns, indexer.output_cols) == (INDEXER_IN, INDEXER_OUT)
    assert (indexer.string_order_type, indexer.handle_invalid) == ("alphabetAsc", "skip")
    assert _string_indexer(string_order_type="frequencyDesc", max_index_num=100) \
        .max_index_num == 100


def test_string_indexer_test_output_schema(batch_session):
    train, predict = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(string_order_type="alphabetAsc",
                                      handle_invalid="skip")]).fit(train)
    assert list(model.transform(predict).get_schema().get_field_names()) == [
        *INDEXER_IN, *INDEXER_OUT]


@pytest.mark.parametrize(("order", "expected"), [
    ("alphabetAsc", ALPHABET_ASC), ("alphabetDesc", ALPHABET_DESC),
    ("frequencyAsc", FREQUENCY_ASC), ("frequencyDesc", FREQUENCY_DESC)])
def test_string_indexer_test_string_order_type(batch_session, order, expected):
    train, predict = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(string_order_type=order, handle_invalid="keep")]) \
        .fit(train)
    assert _indexed(model, predict) == _expected(expected)


def test_string_indexer_test_string_order_type_arbitrary(batch_session):
    train, predict = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(handle_invalid="keep")]).fit(train)
    rows = _indexed(model, predict)
    for column in (2, 3):
        indices = {row[column] for row in rows}
        assert all(0 <= index <= 4 for index in indices)
        assert len(indices) == 3


def test_string_indexer_test_max_index_num(batch_session):
    message = re.escape("Setting max_index_num smaller than INT.MAX only works when "
                        "string_order_type is set as frequencyDesc.")
    for order in ("alphabetAsc", "alphabetDesc", "frequencyAsc", "arbitrary"):
        with pytest.raises(OptionError, match=message):
            _string_indexer(max_index_num=3, string_order_type=order, handle_invalid="keep")
    train, predict = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(max_index_num=3, string_order_type="frequencyDesc",
                                      handle_invalid="keep")]).fit(train)
    assert _indexed(model, predict) == _expected([
        ("a", 2.0, 1.0, 0.0), ("b", 1.0, 0.0, 2.0), ("e", 2.0, 2.0, 0.0),
        ("f", None, 2.0, 2.0), (None, None, 2.0, 2.0)])


def test_string_indexer_test_handle_invalid(batch_session):
    train, predict = _indexer_tables(batch_session)

    def fitted(handle_invalid):
        return Pipeline([_string_indexer(string_order_type="alphabetAsc",
                                         handle_invalid=handle_invalid)]).fit(train)

    assert _indexed(fitted("keep"), predict) == _expected(ALPHABET_ASC)
    assert _indexed(fitted("skip"), predict) == _expected(
        [("a", 2.0, 0.0, 3.0), ("b", 1.0, 1.0, 2.0)])
    unseen = "|".join(re.escape(f"The input contains unseen string: {value}. See "
                                "handleInvalid parameter for more options.")
                      for value in ("e", "f", "null"))
    with pytest.raises(Exception, match=unseen):
        _indexed(fitted("error"), predict)


def test_string_indexer_test_fit_and_predict(batch_session):
    train, predict = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(string_order_type="alphabetAsc", handle_invalid="keep")]) \
        .fit(train)
    assert _indexed(model, predict) == _expected(ALPHABET_ASC)


def test_string_indexer_test_save_load_and_predict(batch_session, tmp_path):
    train, predict = _indexer_tables(batch_session)
    Pipeline([_string_indexer(string_order_type="alphabetAsc", handle_invalid="keep")]) \
        .save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(train).save(tmp_path / "model")
    assert _indexed(PipelineModel.load(tmp_path / "model"), predict) == _expected(ALPHABET_ASC)


def test_string_indexer_test_get_model_data(batch_session):
    train, _ = _indexer_tables(batch_session)
    model = Pipeline([_string_indexer(string_order_type="alphabetAsc")]).fit(train)
    vocabularies = [list(parse_expression(stage.expression)[0].arguments[1].value)
                    for stage in model.stages]  # ML_STRING_INDEXER(x, ARRAY[...], ...)
    assert vocabularies == [["a", "b", "c", "d"], ["-1.0", "0.0", "1.0", "2.0"]]


# OneHotEncoderTest: a column of category indices; a sparse vector as its dense elements
ONE_HOT_EXPECTED = {0.0: [1.0, 0.0], 1.0: [0.0, 1.0], 2.0: [0.0, 0.0]}
NOT_AN_INDEX = re.escape("Value 0.5 cannot be parsed as indexed integer.")


def _index_table(session, values, kind=None):
    kind = kind or DataTypes.DOUBLE()
    return session.table_env.from_elements(
        [(v,) for v in values], DataTypes.ROW([DataTypes.FIELD("input", kind)]))


def _one_hot(model, table) -> dict[float, list[float]]:
    """Flink ML's executeAndCollect: each input value's encoding."""
    frame = model.transform(table).to_pandas()
    outputs = sorted((c for c in frame.columns if c.startswith("output_")),
                     key=lambda c: int(c.rsplit("_", 1)[1]))
    return {float(row["input"]): [float(row[c]) for c in outputs]
            for _, row in frame.iterrows()}


def _one_hot_fitted(session, train=(0.0, 1.0, 2.0, 0.0), kind=None, **params):
    stage = OneHotEncoder(columns=["input"], output_cols=["output"], **params)
    return Pipeline([stage]).fit(_index_table(session, train, kind))


def test_one_hot_encoder_test_param():
    assert OneHotEncoder(columns=["input"]).drop_last is True
    encoder = OneHotEncoder(columns=["test_input"], output_cols=["test_output"],
                            drop_last=False)
    assert (encoder.columns, encoder.output_cols, encoder.drop_last) == (
        ["test_input"], ["test_output"], False)


def test_one_hot_encoder_test_fit_and_predict(batch_session):
    model = _one_hot_fitted(batch_session)
    assert _one_hot(model, _index_table(batch_session, [0.0, 1.0, 2.0])) == ONE_HOT_EXPECTED


def test_one_hot_encoder_test_input_type_conversion(batch_session):
    model = _one_hot_fitted(batch_session, (0, 1, 2, 0), DataTypes.INT())
    predict = _index_table(batch_session, [0, 1, 2], DataTypes.INT())
    assert _one_hot(model, predict) == ONE_HOT_EXPECTED


def test_one_hot_encoder_test_drop_last(batch_session):
    model = _one_hot_fitted(batch_session, drop_last=False)
    assert _one_hot(model, _index_table(batch_session, [0.0, 1.0, 2.0])) == {
        0.0: [1.0, 0.0, 0.0], 1.0: [0.0, 1.0, 0.0], 2.0: [0.0, 0.0, 1.0]}


def test_one_hot_encoder_test_input_data_type(batch_session):
    model = _one_hot_fitted(batch_session, (0, 1, 2, 0), DataTypes.BIGINT())
    predict = _index_table(batch_session, [0, 1, 2], DataTypes.BIGINT())
    assert _one_hot(model, predict) == ONE_HOT_EXPECTED


def test_one_hot_encoder_test_not_supported_handle_invalid_options():
    with pytest.raises(OptionError, match="handle_invalid takes only 'error'"):
        OneHotEncoder(columns=["input"], output_cols=["output"], handle_invalid="skip")


def test_one_hot_encoder_test_non_indexed_train_data(batch_session):
    # Flink ML fits lazily and fails when the output is read; here the fit fails at once
    with pytest.raises(MlsqlError, match=NOT_AN_INDEX):
        _one_hot_fitted(batch_session, (0.5, 1.0, 2.0, 0.0))


def test_one_hot_encoder_test_non_indexed_predict_data(batch_session):
    model = _one_hot_fitted(batch_session)
    with pytest.raises(Exception, match=NOT_AN_INDEX):
        _one_hot(model, _index_table(batch_session, [0.5, 1.0, 2.0, 0.0]))


def test_one_hot_encoder_test_save_load(batch_session, tmp_path):
    Pipeline([OneHotEncoder(columns=["input"], output_cols=["output"])]) \
        .save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(
        _index_table(batch_session, [0.0, 1.0, 2.0, 0.0])).save(tmp_path / "model")
    model = PipelineModel.load(tmp_path / "model")
    assert _one_hot(model, _index_table(batch_session, [0.0, 1.0, 2.0])) == ONE_HOT_EXPECTED


def test_one_hot_encoder_test_get_model_data(batch_session):
    model = _one_hot_fitted(batch_session)
    (call,) = parse_expression(model.stages[0].expression)  # ML_ONE_HOT_ENCODER(x, n, ...)
    assert (0, call.arguments[1].value) == (0, 2)  # Flink ML's (column 0, largest index 2)


# IndexToStringModelTest: the model data (StringIndexer's vocabularies) given as string_arrays
STRING_ARRAYS = [["a", "b", "c", "d"], ["-1.0", "0.0", "1.0", "2.0"]]


def _index_pairs(session, rows):
    return session.table_env.from_elements(rows, DataTypes.ROW(
        [DataTypes.FIELD(c, DataTypes.INT()) for c in INDEXER_IN]))


def _index_to_string():
    return IndexToString(columns=INDEXER_IN, output_cols=INDEXER_OUT,
                         string_arrays=STRING_ARRAYS)


def _strings(model, table) -> list[tuple]:
    frame = model.transform(table).to_pandas()[[*INDEXER_IN, *INDEXER_OUT]]
    return sorted(tuple(row) for row in frame.itertuples(index=False))


def test_index_to_string_model_test_output_schema(batch_session):
    table = _index_pairs(batch_session, [(0, 3), (1, 2)])
    names = Pipeline([_index_to_string()]).fit(table).transform(table).get_schema() \
        .get_field_names()
    assert list(names) == [*INDEXER_IN, *INDEXER_OUT]


def test_index_to_string_model_test_input_with_unseen_values(batch_session):
    table = _index_pairs(batch_session, [(0, 3), (1, 2), (4, 1)])
    with pytest.raises(Exception, match=re.escape("The input contains unseen index: 4.")):
        _strings(Pipeline([_index_to_string()]).fit(table), table)


def test_index_to_string_model_test_predict(batch_session):
    table = _index_pairs(batch_session, [(0, 3), (1, 2)])
    assert _strings(Pipeline([_index_to_string()]).fit(table), table) == [
        (0, 3, "a", "2.0"), (1, 2, "b", "1.0")]


def test_index_to_string_model_test_save_load_and_predict(batch_session, tmp_path):
    table = _index_pairs(batch_session, [(0, 3), (1, 2)])
    Pipeline([_index_to_string()]).fit(table).save(tmp_path)
    assert _strings(PipelineModel.load(tmp_path), table) == [
        (0, 3, "a", "2.0"), (1, 2, "b", "1.0")]


def _sparse(size: int, indices: list[int], values: list[float]) -> list[float]:
    """Vectors.sparse(size, indices, values), dense."""
    dense = [0.0] * size
    for index, value in zip(indices, values, strict=True):
        dense[index] = value
    return dense


def _vectors_table(session, rows: list[tuple], names: list[str], kind=None):
    """`rows` of (id, vector, ...): an INT id, then each vector as one DOUBLE column per
    element (`vec_0`, ...; of type `kind`), a NULL vector as NULL elements; returns the table
    and each vector's columns."""
    widths = [max(len(row[k]) for row in rows if row[k] is not None)
              for k in range(1, len(names))]
    columns = [[f"{name}_{i}" for i in range(width)] for name, width in zip(names[1:], widths,
                                                                               strict=True)]
    flat = [(row[0], *[v for k, width in enumerate(widths)
                       for v in (row[k + 1] if row[k + 1] is not None else [None] * width)])
            for row in rows]
    schema = DataTypes.ROW([DataTypes.FIELD(names[0], DataTypes.INT())] + [
        DataTypes.FIELD(c, kind or DataTypes.DOUBLE()) for group in columns for c in group])
    return session.table_env.from_elements(flat, schema), columns


def _by_id(table, prefix: str) -> dict[int, list[float | None]]:
    frame = table.to_pandas()
    outputs = sorted((c for c in frame.columns if c.startswith(f"{prefix}_")),
                     key=lambda c: int(c.rsplit("_", 1)[1]))
    return {int(row.iloc[0]): [None if pd.isna(row[c]) else float(row[c]) for c in outputs]
            for _, row in frame.iterrows()}


def _transformed(stage, table):
    return Pipeline([stage]).fit(table).transform(table)


# BinarizerTest: f0 a number, f1 a dense vector, f2 a sparse one of 17
BINARIZER_ROWS = [(1, [1.0], [1.0, 2.0], _sparse(17, [0, 3, 9], [1.0, 2.0, 7.0])),
                  (2, [2.0], [2.0, 1.0], _sparse(17, [0, 2, 14], [5.0, 4.0, 1.0])),
                  (3, [5.0], [5.0, 18.0], _sparse(17, [0, 11, 12], [2.0, 4.0, 4.0]))]


def _binarizer(columns, thresholds):
    """One Binarizer over every element column, each with its vector's threshold."""
    return Binarizer(columns=[c for group in columns for c in group],
                     output_cols=[f"o{c}" for group in columns for c in group],
                     thresholds=[t for group, t in zip(columns, thresholds, strict=True)
                                 for _ in group])


def test_binarizer_test_param():
    binarizer = Binarizer(columns=["f0", "f1", "f2"], output_cols=["of0", "of1", "of2"],
                          thresholds=[0.0, 0.0, 0.0])
    assert (binarizer.columns, binarizer.output_cols) == (["f0", "f1", "f2"],
                                                          ["of0", "of1", "of2"])
    assert binarizer.thresholds == [0.0, 0.0, 0.0]


def test_binarizer_test_output_schema(batch_session):
    table, columns = _vectors_table(batch_session, BINARIZER_ROWS, ["id", "f0", "f1", "f2"])
    names = _transformed(_binarizer(columns, [0.0, 0.0, 0.0]), table).get_schema() \
        .get_field_names()
    flat = [c for group in columns for c in group]
    assert list(names) == ["id", *flat, *[f"o{c}" for c in flat]]


def test_binarizer_test_save_load_and_transform(batch_session, tmp_path):
    table, columns = _vectors_table(batch_session, BINARIZER_ROWS, ["id", "f0", "f1", "f2"])
    Pipeline([_binarizer(columns, [1.0, 1.5, 2.5])]).save(tmp_path)
    frame = Pipeline.load(tmp_path).fit(table).transform(table).to_pandas()
    assert sorted(frame["of0_0"]) == [0.0, 1.0, 1.0]

    def vectors(group):
        return sorted(frame[[f"o{c}" for c in group]].to_numpy().tolist())

    assert vectors(columns[1]) == sorted([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert vectors(columns[2]) == sorted([_sparse(17, [9], [1.0]), _sparse(17, [0, 2], [1, 1]),
                                          _sparse(17, [11, 12], [1, 1])])


# ElementwiseProductTest: vec (dense), sparseVec (5); row 2's vectors are NULL
PRODUCT_ROWS = [(0, [2.1, 3.1], _sparse(5, [3], [1.0])),
                (1, [1.1, 3.3], _sparse(5, [4, 2, 3, 1], [4.0, 2.0, 3.0, 1.0])),
                (2, None, None)]


def test_elementwise_product_test_param():
    product = ElementwiseProduct(columns=["vec_0", "vec_1", "vec_2"], output_col="outputVec",
                                 scaling_vec=[1.0, 2.0, 3.0])
    assert product.scaling_vec == [1.0, 2.0, 3.0]


def test_elementwise_product_test_output_schema(batch_session):
    table, (vec, sparse) = _vectors_table(batch_session, PRODUCT_ROWS, ["id", "vec", "sparseVec"])
    names = _transformed(ElementwiseProduct(columns=vec, output_col="outputVec",
                                            scaling_vec=[1.0, 2.0]), table).get_schema() \
        .get_field_names()
    assert list(names) == ["id", *vec, *sparse, "outputVec_1", "outputVec_2"]


def _product(session, tmp_path, vector: int, scaling: list[float]):
    table, columns = _vectors_table(session, PRODUCT_ROWS, ["id", "vec", "sparseVec"])
    Pipeline([ElementwiseProduct(columns=columns[vector], output_col="outputVec",
                                 scaling_vec=scaling)]).save(tmp_path)
    return _by_id(Pipeline.load(tmp_path).fit(table).transform(table), "outputVec")


def test_elementwise_product_test_save_load_and_transform_dense(batch_session, tmp_path):
    got = _product(batch_session, tmp_path, 0, [1.1, 1.1])
    np.testing.assert_allclose(got[0], [2.31, 3.41], rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[1], [1.21, 3.63], rtol=0, atol=1e-5)
    assert got[2] == [None, None]  # a NULL vector gives NULL


def test_elementwise_product_test_vector_size_not_equals():
    with pytest.raises(OptionError, match=re.escape(
            "The scaling vector size is 3, which is not equal input vector size(2).")):
        ElementwiseProduct(columns=["vec_0", "vec_1"], output_col="outputVec",
                           scaling_vec=[1.1, 1.1, 2.0])


def test_elementwise_product_test_save_load_and_transform_sparse(batch_session, tmp_path):
    got = _product(batch_session, tmp_path, 1, _sparse(5, [0, 1], [1.1, 1.1]))
    np.testing.assert_allclose(got[0], _sparse(5, [3], [0.0]), rtol=0, atol=1e-5)
    np.testing.assert_allclose(got[1], _sparse(5, [1, 2, 3, 4], [1.1, 0, 0, 0]), rtol=0,
                               atol=1e-5)
    assert got[2] == [None] * 5


# VectorSlicerTest: vec (dense 6), sparseVec (5)
SLICER_ROWS = [(0, [2.1, 3.1, 2.3, 3.4, 5.3, 5.1], _sparse(5, [1, 3, 4], [0.1, 0.2, 0.3])),
               (1, [2.3, 4.1, 1.3, 2.4, 5.1, 4.1], _sparse(5, [1, 2, 4], [0.1, 0.2, 0.3]))]
SIX = [f"vec_{i}" for i in range(6)]


def _sliced(session, vector: int, indices: list[int]) -> dict[int, list[float | None]]:
    table, columns = _vectors_table(session, SLICER_ROWS, ["id", "vec", "sparseVec"])
    return _by_id(_transformed(VectorSlicer(columns=columns[vector], output_col="sliceVec",
                                            indices=indices), table), "sliceVec")


def test_vector_slicer_test_param():
    slicer = VectorSlicer(columns=SIX, output_col="sliceVec", indices=[0, 1, 2])
    assert (slicer.columns, slicer.output_col, slicer.indices) == (SIX, "sliceVec", [0, 1, 2])


def test_vector_slicer_test_save_load_and_transform(batch_session, tmp_path):
    table, columns = _vectors_table(batch_session, SLICER_ROWS, ["id", "vec", "sparseVec"])
    Pipeline([VectorSlicer(columns=columns[0], output_col="sliceVec", indices=[0, 1, 2])]) \
        .save(tmp_path)
    got = _by_id(Pipeline.load(tmp_path).fit(table).transform(table), "sliceVec")
    assert got == {0: [2.1, 3.1, 2.3], 1: [2.3, 4.1, 1.3]}


@pytest.mark.parametrize(("indices", "message"), [
    ([], "Parameter indices is given an invalid value {}"),
    ([1, 2, 10], "Index value 10 is greater than vector size:6"),
    ([1, -2], "Parameter indices is given an invalid value {1,-2}"),
    ([1, 1, 3], "Parameter indices is given an invalid value {1,1,3}"),
], ids=["testEmptyIndices", "testIndicesLargerThanVectorSize", "testIndicesSmallerThanZero",
        "testDuplicateIndices"])
def test_vector_slicer_test_bad_indices(indices, message):
    # Flink ML finds a too large index when the job runs; here the columns are known at once
    with pytest.raises(OptionError, match=re.escape(message)):
        VectorSlicer(columns=SIX, output_col="sliceVec", indices=indices)


def test_vector_slicer_test_dense_transform(batch_session):
    assert _sliced(batch_session, 0, [0, 1, 2]) == {0: [2.1, 3.1, 2.3], 1: [2.3, 4.1, 1.3]}


def test_vector_slicer_test_dense_transform_with_unordered_indices(batch_session):
    assert _sliced(batch_session, 0, [0, 2, 1]) == {0: [2.1, 2.3, 3.1], 1: [2.3, 1.3, 4.1]}


def test_vector_slicer_test_sparse_transform(batch_session):
    assert _sliced(batch_session, 1, [0, 1, 2]) == {0: _sparse(3, [1], [0.1]),
                                                    1: _sparse(3, [1, 2], [0.1, 0.2])}


# DCTTest
DCT_INPUT = [[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, -1.0, 0.0]]
DCT_FORWARD = {0: [2.0, 0.0, 0.0, 0.0], 1: [0.0, 0.924, 1.0, -0.383]}
DCT_INVERSE = {0: [1.924, -0.383, 0.383, 0.076], 1: [0.0, 1.0, 1.0, 0.0]}


def _dct(session, stage_of, kind=float) -> dict[int, list[float | None]]:
    table, (columns,) = _vectors_table(session, [(i, [kind(v) for v in vector])
                                                 for i, vector in enumerate(DCT_INPUT)],
                                       ["id", "input"],
                                       DataTypes.INT() if kind is int else None)
    return _by_id(_transformed(stage_of(columns), table), "output")


def _assert_vectors(got, expected):
    assert got.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=0, atol=1e-3)


def test_dct_test_param():
    assert DCT(columns=["input_0"], output_col="output").inverse is False
    dct = DCT(columns=["test_input_0"], output_col="test_output", inverse=True)
    assert (dct.columns, dct.output_col, dct.inverse) == (["test_input_0"], "test_output", True)


def test_dct_test_output_schema(batch_session):
    table = batch_session.table_env.from_elements([(0.0, "")], DataTypes.ROW([
        DataTypes.FIELD("test_input_0", DataTypes.DOUBLE()),
        DataTypes.FIELD("dummy_input", DataTypes.STRING())]))
    names = _transformed(DCT(columns=["test_input_0"], output_col="test_output"), table) \
        .get_schema().get_field_names()
    assert list(names) == ["test_input_0", "dummy_input", "test_output_1"]


def test_dct_test_transform_forward(batch_session):
    _assert_vectors(_dct(batch_session, lambda c: DCT(columns=c, output_col="output")),
                    DCT_FORWARD)


def test_dct_test_transform_inverse(batch_session):
    _assert_vectors(_dct(batch_session, lambda c: DCT(columns=c, output_col="output",
                                                      inverse=True)), DCT_INVERSE)


def test_dct_test_input_type_conversion(batch_session):
    # TestUtils.convertDataTypesToSparseInt: the elements as integers
    _assert_vectors(_dct(batch_session, lambda c: DCT(columns=c, output_col="output"), int),
                    DCT_FORWARD)


def test_dct_test_save_load_and_transform(batch_session, tmp_path):
    def saved_and_loaded(columns):
        Pipeline([DCT(columns=columns, output_col="output", inverse=True)]).save(tmp_path)
        return Pipeline.load(tmp_path).stages[0]

    _assert_vectors(_dct(batch_session, saved_and_loaded), DCT_INVERSE)


# InteractionTest: f0 a number, f1 and f2 dense vectors (f2 of 2 or 3), f3 sparse of 17; row 3
# all NULL. Rows whose vectors differ in length are tables of their own.
INTERACTION_ROWS = [
    (1, [1.0], [1.0, 2.0], [3.0, 4.0], _sparse(17, [0, 3, 9], [1.0, 2.0, 7.0])),
    (2, [2.0], [2.0, 8.0], [3.0, 4.0, 5.0], _sparse(17, [0, 2, 14], [5.0, 4.0, 1.0]))]
INTERACTION_NULLS = (3, None, None, None, None)
INTERACTION_DENSE = [[3.0, 4.0, 6.0, 8.0], [12.0, 16.0, 20.0, 48.0, 64.0, 80.0]]
INTERACTION_SPARSE = [
    _sparse(68, [0, 3, 9, 17, 20, 26, 34, 37, 43, 51, 54, 60],
            [3.0, 6.0, 21.0, 4.0, 8.0, 28.0, 6.0, 12.0, 42.0, 8.0, 16.0, 56.0]),
    _sparse(102, [0, 2, 14, 17, 19, 31, 34, 36, 48, 51, 53, 65, 68, 70, 82, 85, 87, 99],
            [60.0, 48.0, 12.0, 80.0, 64.0, 16.0, 100.0, 80.0, 20.0, 240.0, 192.0, 48.0,
             320.0, 256.0, 64.0, 400.0, 320.0, 80.0])]


def _interactions(session, inputs: int, stage_of=None) -> list[list[float]]:
    """Each row's products of its first `inputs` vectors (f0 a plain column); the NULL row,
    in the first row's table, gives NULL."""
    stage_of = stage_of or (lambda columns: Interaction(columns=columns,
                                                        output_col="interactionVecVec"))
    results = []
    for index, row in enumerate(INTERACTION_ROWS):
        rows = [row, INTERACTION_NULLS] if index == 0 else [row]
        table, groups = _vectors_table(session, rows, ["id", "f0", "f1", "f2", "f3"])
        columns = [groups[0][0], *groups[1:inputs]]
        got = _by_id(_transformed(stage_of(columns), table), "interactionVecVec")
        if index == 0:
            assert all(v is None for v in got.pop(3))  # a NULL input gives NULL
        results += list(got.values())
    return results


def test_interaction_test_param():
    interaction = Interaction(columns=["f0", ["f1_0", "f1_1"], ["f2_0", "f2_1"]],
                              output_col="interactionVecVec")
    assert interaction.columns == ["f0", ["f1_0", "f1_1"], ["f2_0", "f2_1"]]
    assert interaction.output_col == "interactionVecVec"


def test_interaction_test_output_schema(batch_session):
    table, groups = _vectors_table(batch_session, INTERACTION_ROWS[:1],
                                   ["id", "f0", "f1", "f2", "f3"])
    stage = Interaction(columns=[groups[0][0], *groups[1:]], output_col="outputVec")
    names = list(_transformed(stage, table).get_schema().get_field_names())
    assert names[-1] == "outputVec_68" and len(names) == 1 + 1 + 2 + 2 + 17 + 68


def test_interaction_test_save_load_and_transform_sparse(batch_session, tmp_path):
    def saved_and_loaded(columns):
        Pipeline([Interaction(columns=columns, output_col="interactionVecVec")]).save(tmp_path)
        return Pipeline.load(tmp_path).stages[0]

    assert _interactions(batch_session, 4, saved_and_loaded) == INTERACTION_SPARSE


def test_interaction_test_save_load_and_transform_dense(batch_session, tmp_path):
    def saved_and_loaded(columns):
        Pipeline([Interaction(columns=columns, output_col="interactionVecVec")]).save(tmp_path)
        return Pipeline.load(tmp_path).stages[0]

    assert _interactions(batch_session, 3, saved_and_loaded) == INTERACTION_DENSE


# HashingTFTest: token lists; Flink ML's sparse vector as a MAP<INT, DOUBLE> (index -> value)
HASHING_INPUT = [(["HashingTFTest", "Hashing", "Term", "Frequency", "Test"],),
                 (["HashingTFTest", "Hashing", "Hashing", "Test", "Test"],)]
HASHING_EXPECTED = [{67564: 1.0, 89917: 1.0, 113827: 1.0, 131486: 1.0, 228971: 1.0},
                    {67564: 1.0, 131486: 2.0, 228971: 2.0}]
HASHING_EXPECTED_BINARY = [{67564: 1.0, 89917: 1.0, 113827: 1.0, 131486: 1.0, 228971: 1.0},
                           {67564: 1.0, 131486: 1.0, 228971: 1.0}]


def _sparse_vectors(table, column: str) -> list[dict[int, float]]:
    vectors = [dict(v) for v in table.to_pandas()[column]]
    return sorted(vectors, key=lambda v: sorted(v.items()))


def _hashing_table(session):
    return _strings_table(session, HASHING_INPUT, DataTypes.ARRAY(DataTypes.STRING()))


def test_hashing_tf_test_param():
    hashing = HashingTF(columns=["input"])
    assert (hashing.binary, hashing.num_features, hashing.output_cols) == (
        False, 262_144, ["input"])  # Flink ML's default output column is "output"
    hashing = HashingTF(columns=["testInputCol"], output_cols=["testOutputCol"], binary=True,
                        num_features=1024)
    assert (hashing.columns, hashing.output_cols, hashing.binary, hashing.num_features) == (
        ["testInputCol"], ["testOutputCol"], True, 1024)


def test_hashing_tf_test_output_schema(batch_session):
    table = _strings_table(batch_session, [([""], "")], DataTypes.ARRAY(DataTypes.STRING()),
                           ("input", "dummyInput"))
    names = _transformed(HashingTF(columns=["input"], output_cols=["output"]), table) \
        .get_schema().get_field_names()
    assert list(names) == ["input", "dummyInput", "output"]


def test_hashing_tf_test_transform(batch_session):
    table = _hashing_table(batch_session)
    stage = HashingTF(columns=["input"], output_cols=["output"])
    assert _sparse_vectors(_transformed(stage, table), "output") == sorted(
        HASHING_EXPECTED, key=lambda v: sorted(v.items()))
    stage = HashingTF(columns=["input"], output_cols=["output"], binary=True)
    assert _sparse_vectors(_transformed(stage, table), "output") == sorted(
        HASHING_EXPECTED_BINARY, key=lambda v: sorted(v.items()))


def test_hashing_tf_test_save_load_and_transform(batch_session, tmp_path):
    Pipeline([HashingTF(columns=["input"], output_cols=["output"])]).save(tmp_path)
    table = _hashing_table(batch_session)
    got = _sparse_vectors(Pipeline.load(tmp_path).fit(table).transform(table), "output")
    assert got == sorted(HASHING_EXPECTED, key=lambda v: sorted(v.items()))


# FeatureHasherTest: f0 a string, f1 a number, f2 a boolean
HASHER_EXPECTED = {0: {607: 1.0, 635: 1.0, 913: 1.0}, 1: {242: 1.0, 869: 1.0, 913: 1.0}}


def _hasher_table(session, f1_kind=None):
    f1_kind = f1_kind or DataTypes.DOUBLE()
    rows = [(0, "a", 1.0, True), (1, "c", 1.0, False)]
    if f1_kind != DataTypes.DOUBLE():
        rows = [(i, f0, int(f1), f2) for i, f0, f1, f2 in rows]
    return session.table_env.from_elements(rows, DataTypes.ROW([
        DataTypes.FIELD("id", DataTypes.INT()), DataTypes.FIELD("f0", DataTypes.STRING()),
        DataTypes.FIELD("f1", f1_kind), DataTypes.FIELD("f2", DataTypes.BOOLEAN())]))


def _hashed(session, tmp_path, table, **params) -> dict[int, dict[int, float]]:
    Pipeline([FeatureHasher(columns=["f0", "f1", "f2"], output_col="vec", num_features=1000,
                            **params)]).save(tmp_path)
    frame = Pipeline.load(tmp_path).fit(table).transform(table).to_pandas()
    return {int(row["id"]): dict(row["vec"]) for _, row in frame.iterrows()}


def test_feature_hasher_test_param():
    hasher = FeatureHasher(columns=["f0"], output_col="output")
    assert (hasher.categorical_cols, hasher.num_features) == ([], 262_144)
    hasher = FeatureHasher(columns=["f0", "f1", "f2"], output_col="vec",
                           categorical_cols=["f0", "f2"], num_features=1000)
    assert (hasher.columns, hasher.output_col, hasher.categorical_cols, hasher.num_features) \
        == (["f0", "f1", "f2"], "vec", ["f0", "f2"], 1000)
    with pytest.raises(OptionError, match="CategoricalCols must be included in inputCols!"):
        FeatureHasher(columns=["f0"], output_col="vec", categorical_cols=["f9"])


def test_feature_hasher_test_save_load_and_transform(batch_session, tmp_path):
    got = _hashed(batch_session, tmp_path, _hasher_table(batch_session),
                  categorical_cols=["f0", "f2"])
    assert got == HASHER_EXPECTED


def test_feature_hasher_test_categorical_cols_not_set(batch_session, tmp_path):
    assert _hashed(batch_session, tmp_path, _hasher_table(batch_session)) == HASHER_EXPECTED


def test_feature_hasher_test_input_type_conversion(batch_session, tmp_path):
    table = _hasher_table(batch_session, DataTypes.INT())  # f1 an INT
    assert _hashed(batch_session, tmp_path, table, categorical_cols=["f0", "f2"]) \
        == HASHER_EXPECTED


# RegexTokenizerTest (Java regular expressions, as Flink's REGEXP functions take them)
REGEX_INPUT = [("Test for tokenization.",), ("Te,st. punct",)]
REGEX_DEFAULT = [["test", "for", "tokenization."], ["te,st.", "punct"]]


def test_regex_tokenizer_test_param():
    tokenizer = RegexTokenizer(columns=["input"])
    assert (tokenizer.min_token_length, tokenizer.gaps, tokenizer.pattern,
            tokenizer.to_lowercase) == (1, True, "\\s+", True)
    tokenizer = RegexTokenizer(columns=["testInputCol"], output_cols=["testOutputCol"],
                               min_token_length=3, gaps=False, pattern="\\s",
                               to_lowercase=False)
    assert (tokenizer.columns, tokenizer.output_cols, tokenizer.min_token_length,
            tokenizer.gaps, tokenizer.pattern, tokenizer.to_lowercase) == (
        ["testInputCol"], ["testOutputCol"], 3, False, "\\s", False)


def test_regex_tokenizer_test_output_schema(batch_session):
    table = _strings_table(batch_session, [("", "")], DataTypes.STRING(),
                           ("input", "dummyInput"))
    names = _transformed(RegexTokenizer(columns=["input"], output_cols=["output"]), table) \
        .get_schema().get_field_names()
    assert list(names) == ["input", "dummyInput", "output"]


@pytest.mark.parametrize(("params", "expected"), [
    ({}, REGEX_DEFAULT),
    ({"to_lowercase": False}, [["Test", "for", "tokenization."], ["Te,st.", "punct"]]),
    ({"gaps": False, "pattern": "\\w+|\\p{Punct}"},
     [["test", "for", "tokenization", "."], ["te", ",", "st", ".", "punct"]]),
    ({"gaps": False, "min_token_length": 3, "pattern": "\\w+|\\p{Punct}"},
     [["test", "for", "tokenization"], ["punct"]]),
], ids=["default", "case_kept", "matches", "matches_of_3"])
def test_regex_tokenizer_test_transform(batch_session, params, expected):
    table = _strings_table(batch_session, REGEX_INPUT, DataTypes.STRING())
    stage = RegexTokenizer(columns=["input"], output_cols=["output"], **params)
    assert sorted(_token_lists(_transformed(stage, table), "output")) == sorted(expected)


def test_regex_tokenizer_test_save_load_and_transform(batch_session, tmp_path):
    Pipeline([RegexTokenizer(columns=["input"], output_cols=["output"])]).save(tmp_path)
    table = _strings_table(batch_session, REGEX_INPUT, DataTypes.STRING())
    got = _token_lists(Pipeline.load(tmp_path).fit(table).transform(table), "output")
    assert sorted(got) == sorted(REGEX_DEFAULT)


# VarianceThresholdSelectorTest: 6-element vectors (sparse ones as their dense form)
VARIANCE_TRAIN = [(1, [5.0, 7.0, 0.0, 7.0, 6.0, 0.0]), (2, [0.0, 9.0, 6.0, 0.0, 5.0, 9.0]),
                  (3, [0.0, 9.0, 3.0, 0.0, 5.0, 5.0]), (4, [1.0, 9.0, 8.0, 5.0, 7.0, 4.0]),
                  (5, [9.0, 8.0, 6.0, 5.0, 4.0, 4.0]), (6, [6.0, 9.0, 7.0, 0.0, 2.0, 0.0])]
VARIANCE_PREDICT = [(1, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), (2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
                    (3, _sparse(6, [0, 3, 4], [0.1, 0.3, 0.5]))]
VARIANCE_EXPECTED = sorted([[1.0, 4.0, 6.0], [0.1, 0.4, 0.6], _sparse(3, [0, 1], [0.1, 0.3])])


def _variance_tables(session, name="input"):
    train, (columns,) = _vectors_table(session, VARIANCE_TRAIN, ["id", name])
    predict, _ = _vectors_table(session, VARIANCE_PREDICT, ["id", name])
    return train, predict, columns


def _selected(model, table) -> list[list[float]]:
    return sorted(_by_id(model.transform(table), "output").values())


def test_variance_threshold_selector_test_param():
    selector = VarianceThresholdSelector(columns=["input_0"], output_col="output")
    assert selector.variance_threshold == 0.0
    selector = VarianceThresholdSelector(columns=["test_input_0"], output_col="test_output",
                                         variance_threshold=0.5)
    assert (selector.columns, selector.output_col, selector.variance_threshold) == (
        ["test_input_0"], "test_output", 0.5)


def test_variance_threshold_selector_test_output_schema(batch_session):
    train, _, columns = _variance_tables(batch_session, "test_input")
    model = Pipeline([VarianceThresholdSelector(columns=columns, output_col="test_output")]) \
        .fit(train)
    names = list(model.transform(train).get_schema().get_field_names())
    assert names == ["id", *columns, *[f"test_output_{i}" for i in range(1, 7)]]


def test_variance_threshold_selector_test_fit_and_predict(batch_session):
    train, predict, columns = _variance_tables(batch_session)
    model = Pipeline([VarianceThresholdSelector(columns=columns, output_col="output",
                                                variance_threshold=8.0)]).fit(train)
    assert _selected(model, predict) == VARIANCE_EXPECTED


def test_variance_threshold_selector_test_non_selected_features(batch_session):
    train, predict, columns = _variance_tables(batch_session)
    model = Pipeline([VarianceThresholdSelector(columns=columns, output_col="output",
                                                variance_threshold=100.0)]).fit(train)
    frame = model.transform(predict).to_pandas()
    assert len(frame) == 3 and not [c for c in frame.columns if c.startswith("output")]


def test_variance_threshold_selector_test_save_load_and_predict(batch_session, tmp_path):
    train, predict, columns = _variance_tables(batch_session)
    Pipeline([VarianceThresholdSelector(columns=columns, output_col="output",
                                        variance_threshold=8.0)]).save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(train).save(tmp_path / "model")
    assert _selected(PipelineModel.load(tmp_path / "model"), predict) == VARIANCE_EXPECTED


def test_variance_threshold_selector_test_fit_on_empty_data(batch_session):
    train, _, columns = _variance_tables(batch_session)
    with pytest.raises(MlsqlError, match="returned no rows: the TRANSFORM"):
        Pipeline([VarianceThresholdSelector(columns=columns, output_col="output")]).fit(
            train.filter(col("id") > 1000))


def test_variance_threshold_selector_test_get_model_data(batch_session):
    train, _, columns = _variance_tables(batch_session)
    model = Pipeline([VarianceThresholdSelector(columns=columns, output_col="output",
                                                variance_threshold=8.0)]).fit(train)
    (call,) = parse_expression(model.stages[0].expression)  # (ARRAY[6 inputs], ARRAY[kept])
    assert (len(call.arguments[0].elements), list(call.arguments[1].value)) == (6, [0, 3, 5])


# RandomSplitterTest: a sequence of longs split by weights
def _sequence(session, size: int):
    """env.fromSequence(0, size): the longs 0 ... size."""
    return session.table_env.from_pandas(pd.DataFrame({"f0": np.arange(size + 1)}))


def _split_rows(tables) -> list[list[int]]:
    return [sorted(int(v) for v in table.to_pandas()["f0"]) for table in tables]


def _assert_partition(parts: list[list[int]], size: int) -> None:
    """verifyResultTables: together the outputs hold every input row once."""
    assert sorted(v for part in parts for v in part) == list(range(size + 1))


def test_random_splitter_test_param():
    splitter = RandomSplitter(weights=[0.3, 0.4], seed=5)
    assert (splitter.weights, splitter.seed) == ([0.3, 0.4], 5)


def test_random_splitter_test_output_schema(batch_session):
    table = batch_session.table_env.from_elements([("", "")], DataTypes.ROW([
        DataTypes.FIELD("test_input", DataTypes.STRING()),
        DataTypes.FIELD("dummy_input", DataTypes.STRING())]))
    outputs = RandomSplitter(weights=[0.5, 0.1]).transform(table)
    assert len(outputs) == 2
    for output in outputs:
        assert list(output.get_schema().get_field_names()) == ["test_input", "dummy_input"]


def test_random_splitter_test_weights(batch_session):
    parts = _split_rows(RandomSplitter(weights=[2.0, 1.0, 2.0]).transform(
        _sequence(batch_session, 1000)))
    for part, expected in zip(parts, (400.0, 200.0, 400.0), strict=True):
        assert len(part) / expected == pytest.approx(1.0, abs=0.1)
    _assert_partition(parts, 1000)


def test_random_splitter_test_seed(batch_session):
    splitter = RandomSplitter(weights=[2.0, 1.0, 2.0])
    data = _sequence(batch_session, 100)
    first, second = _split_rows(splitter.transform(data)), _split_rows(splitter.transform(data))
    assert [len(p) for p in first] == [len(p) for p in second]
    assert first == second  # the same rows, too
    assert _split_rows(RandomSplitter(weights=[2.0, 1.0, 2.0], seed=7).transform(data)) != first


def test_random_splitter_test_save_load_and_transform(batch_session, tmp_path):
    RandomSplitter(weights=[4.0, 6.0]).save(tmp_path)
    parts = _split_rows(RandomSplitter.load(tmp_path).transform(_sequence(batch_session, 2000)))
    assert len(parts[0]) / 800.0 == pytest.approx(1.0, abs=0.1)
    assert len(parts[1]) / 1200.0 == pytest.approx(1.0, abs=0.1)
    _assert_partition(parts, 2000)


# StopWordsRemoverTest: ARRAY<STRING> columns, each row with its expected output
STOP_WORDS_ROWS = [(["test", "test"], ["test", "test"]), (["a", "b", "c", "d"], ["b", "c", "d"]),
                   (["a", "the", "an"], []), (["A", "The", "AN"], []), ([None], [None]),
                   ([], [])]


def _stop_words_table(session, rows, names=("raw", "expected")):
    fields = [DataTypes.FIELD(n, DataTypes.ARRAY(DataTypes.STRING())) for n in names]
    return session.table_env.from_elements(rows, DataTypes.ROW(fields))


def _assert_stop_words(session, rows, stage, pairs=(("filtered", "expected"),),
                       names=("raw", "expected")):
    """Flink ML's verifyOutputResult: every row's output equals its expected column."""
    frame = _transformed(stage, _stop_words_table(session, rows, names)).to_pandas()
    assert len(frame) == len(rows)
    for output, expected in pairs:
        for got, want in zip(frame[output], frame[expected], strict=True):
            assert list(got) == list(want)


def test_stop_words_remover_test_params():
    remover = StopWordsRemover(columns=["f1"])
    assert {"i", "would"} <= set(remover.stop_words)
    assert remover.locale == "en_US"
    assert remover.case_sensitive is False
    remover = StopWordsRemover(columns=["f1", "f2"], output_cols=["o1", "o2"],
                               stop_words=StopWordsRemover.load_default_stop_words("turkish"),
                               locale="en_US", case_sensitive=True)
    assert (remover.columns, remover.output_cols) == (["f1", "f2"], ["o1", "o2"])
    assert {"acaba", "yani"} <= set(remover.stop_words)
    assert (remover.locale, remover.case_sensitive) == ("en_US", True)


def test_stop_words_remover_test_output_schema(batch_session):
    table = _stop_words_table(batch_session, [(["test", "test"], ["test", "test"])])
    stage = StopWordsRemover(columns=["raw"], output_cols=["filtered"])
    assert list(_transformed(stage, table).get_schema().get_field_names()) == [
        "raw", "expected", "filtered"]


def test_stop_words_remover_test_transform(batch_session):
    _assert_stop_words(batch_session, STOP_WORDS_ROWS,
                       StopWordsRemover(columns=["raw"], output_cols=["filtered"]))


def test_stop_words_remover_test_transform_with_stop_words_list(batch_session):
    rows = [(["test", "test"], []), *STOP_WORDS_ROWS[1:4], ([None], []), ([], [])]
    _assert_stop_words(batch_session, rows, StopWordsRemover(
        columns=["raw"], output_cols=["filtered"], stop_words=["test", "a", "an", "the", None]))


@pytest.mark.parametrize(("case_sensitive", "first"), [
    (False, ["and", "nuts"]), (True, ["mİlk", "and", "nuts"])],
    ids=["case_insensitive", "case_sensitive"])
def test_stop_words_remover_test_transform_with_localed_input(batch_session, case_sensitive,
                                                             first):
    """testTransformWithLocaledInputCaseInsensitive and ...CaseSensitive: in Turkish, 'İ'
    lower-cases to 'i' (mİlk is milk) and 'I' to 'ı' (cookIe is not cookie)."""
    rows = [(["mİlk", "and", "nuts"], first),
            (["cookIe", "and", "nuts"], ["cookIe", "and", "nuts"]), ([None], [None]), ([], [])]
    _assert_stop_words(batch_session, rows, StopWordsRemover(
        columns=["raw"], output_cols=["filtered"], stop_words=["milk", "cookie"],
        case_sensitive=case_sensitive, locale="tr"))


def test_stop_words_remover_test_invalid_locale():
    with pytest.raises(OptionError, match=r"^Parameter locale is given an invalid value rt$"):
        StopWordsRemover(columns=["raw"], locale="rt")


def test_stop_words_remover_test_available_locales():
    locales = StopWordsRemover.get_available_locales()
    assert "en_US" in locales
    for locale in locales:
        StopWordsRemover(columns=["raw"], locale=locale)


def test_stop_words_remover_test_transform_case_sensitive(batch_session):
    _assert_stop_words(batch_session, [(["A"], ["A"]), (["The", "the"], ["The"])],
                       StopWordsRemover(columns=["raw"], output_cols=["filtered"],
                                        case_sensitive=True))


def test_stop_words_remover_test_default_stop_words_of_supported_languages_not_emtpy():
    for language in ("danish", "dutch", "english", "finnish", "french", "german", "hungarian",
                     "italian", "norwegian", "portuguese", "russian", "spanish", "swedish",
                     "turkish"):
        assert len(StopWordsRemover.load_default_stop_words(language)) > 0
    with pytest.raises(OptionError, match="klingon is not in the supported language list"):
        StopWordsRemover.load_default_stop_words("klingon")


def test_stop_words_remover_test_transform_with_language_selection(batch_session):
    rows = [(["acaba", "ama", "biri"], []), (["hep", "her", "scala"], ["scala"])]
    _assert_stop_words(batch_session, rows, StopWordsRemover(
        columns=["raw"], output_cols=["filtered"],
        stop_words=StopWordsRemover.load_default_stop_words("turkish")))


@pytest.mark.parametrize(("change", "rows"), [
    ("ignored", [(["python", "scala", "a"], ["python", "scala", "a"]),
                 (["Python", "Scala", "swift"], ["Python", "Scala", "swift"])]),
    ("additional", [(["python", "scala", "a"], []),
                    (["Python", "Scala", "swift"], ["swift"])]),
])
def test_stop_words_remover_test_transform_with_changed_words(batch_session, change, rows):
    """testTransformWithIgnoredWords ('a' taken out of the English list) and
    testTransformWithAdditionalWords ('python' and 'scala' added)."""
    words = set(StopWordsRemover.load_default_stop_words("english"))
    words = words - {"a"} if change == "ignored" else words | {"python", "scala"}
    _assert_stop_words(batch_session, rows, StopWordsRemover(
        columns=["raw"], output_cols=["filtered"], stop_words=sorted(words)))


def test_stop_words_remover_test_save_load_and_transform(batch_session, tmp_path):
    Pipeline([StopWordsRemover(columns=["raw"], output_cols=["filtered"])]).save(tmp_path)
    _assert_stop_words(batch_session, STOP_WORDS_ROWS, Pipeline.load(tmp_path).stages[0])


def test_stop_words_remover_test_output_column_already_exists(batch_session):
    table = _stop_words_table(batch_session, [(["The", "the", "swift"], ["swift"])])
    with pytest.raises(MlsqlError, match="output column 'expected' is already a column"):
        _transformed(StopWordsRemover(columns=["raw"], output_cols=["expected"]), table)


def test_stop_words_remover_test_transform_multiple_columns(batch_session):
    rows = [(["test", "test"], ["test1", "test2"], [], ["test1", "test2"]),
            (["a", "b", "c", "d"], ["a", "b"], ["b", "c", "d"], ["b"]),
            (["a", "the", "an"], ["a", "the", "test1"], [], ["test1"]),
            (["A", "The", "AN"], ["A", "The", "AN"], [], []),
            ([None], [None], [None], [None]), ([], [], [], [])]
    stage = StopWordsRemover(columns=["raw1", "raw2"], output_cols=["filtered1", "filtered2"],
                             stop_words=["test", "a", "an", "the"])
    _assert_stop_words(batch_session, rows, stage,
                       (("filtered1", "expected1"), ("filtered2", "expected2")),
                       ("raw1", "raw2", "expected1", "expected2"))


def test_stop_words_remover_test_compare_single_multiple_remover_in_pipeline(batch_session):
    rows = [(r[0], r[1]) for r in [
        (["test", "test"], ["test1", "test2"]), (["a", "b", "c", "d"], ["a", "b"]),
        (["a", "the", "an"], ["a", "the", "test1"]), (["A", "The", "AN"], ["A", "The", "AN"]),
        ([None], [None]), ([], [])]]
    table = _stop_words_table(batch_session, rows, ("input1", "input2"))
    both = StopWordsRemover(columns=["input1", "input2"], output_cols=["output1", "output2"])
    one_each = [StopWordsRemover(columns=[c], output_cols=[o])
                for c, o in (("input1", "output1"), ("input2", "output2"))]

    def row_set(stages):
        frame = Pipeline(stages).fit(table).transform(table).to_pandas()
        return {tuple(tuple(v) for v in row) for row in frame.itertuples(index=False)}

    assert row_set([both]) == row_set(one_each)


def test_stop_words_remover_test_mismatch_input_output_cols():
    with pytest.raises(OptionError, match="1 columns but 2 output_cols"):
        StopWordsRemover(columns=["raw"], output_cols=["expected1", "expected2"])


# VectorAssemblerTest: id, vec (dense 2), num, sparseVec (sparse 5, as its dense ARRAY here;
# testInputTypeConversion's sparse vectors are MAP<INT, DOUBLE> columns, as HashingTF writes).
# The assembled vector is one column per element (assembledVec_1 ...), as mlsql's vectors are;
# ML_VECTOR_ASSEMBLER in a query gives the ARRAY itself.
SPARSE_3 = [0.0, 0.0, 0.0, 1.0, 0.0]
SPARSE_ALL = [0.0, 1.0, 2.0, 3.0, 4.0]
ASSEMBLER_INPUT = [(0, [2.1, 3.1], 1.0, SPARSE_3), (1, [2.1, 3.1], 1.0, SPARSE_ALL),
                   (2, [2.0, 2.1], 1.0, SPARSE_ALL)]
ASSEMBLER_NAN_INPUT = [*ASSEMBLER_INPUT[:2], (2, [2.0, 2.1], NAN, SPARSE_ALL)]
ASSEMBLER_NULL_INPUT = [ASSEMBLER_INPUT[0], (1, None, 1.0, SPARSE_ALL), (2, None, 1.0, SPARSE_ALL)]
ASSEMBLED = {0: [2.1, 3.1, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0],  # EXPECTED_OUTPUT_DATA_1 (sparse)
             1: [2.1, 3.1, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
             2: [2.0, 2.1, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0]}
ASSEMBLED_NULL_VEC = [NAN, NAN, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0]  # EXPECTED_OUTPUT_DATA_4
ASSEMBLED_NAN_NUM = [2.0, 2.1, NAN, 0.0, 1.0, 2.0, 3.0, 4.0]  # EXPECTED_OUTPUT_DATA_5


def _assembler_table(session, rows):
    vector = DataTypes.ARRAY(DataTypes.DOUBLE())
    return session.table_env.from_elements(rows, DataTypes.ROW([
        DataTypes.FIELD("id", DataTypes.INT()), DataTypes.FIELD("vec", vector),
        DataTypes.FIELD("num", DataTypes.DOUBLE()), DataTypes.FIELD("sparseVec", vector)]))


def _assembler(sizes=(2, 1, 5), handle_invalid="error"):
    return VectorAssembler(columns=["vec", "num", "sparseVec"], output_col="assembledVec",
                           input_sizes=list(sizes), handle_invalid=handle_invalid)


def _assembled(stage, table) -> dict[int, list[float]]:
    """Each row's assembled vector (its element columns), by id."""
    frame = _transformed(stage, table).to_pandas()
    elements = [f"assembledVec_{i + 1}" for i in range(sum(stage.input_sizes))]
    return {int(i): list(v) for i, v in zip(frame["id"], frame[elements].to_numpy(),
                                            strict=True)}


def _assert_assembled(got: dict[int, list[float]], expected: dict[int, list[float]]):
    """Flink ML's verifyOutputResult: the rows and each row's vector (NaN equal to NaN)."""
    assert sorted(got) == sorted(expected)
    for key, vector in expected.items():
        np.testing.assert_array_equal(got[key], vector)


def test_vector_assembler_test_param():
    stage = VectorAssembler(columns=["vec"], input_sizes=[2])
    assert (stage.handle_invalid, stage.output_col) == ("error", "output")
    stage = _assembler(handle_invalid="skip")
    assert (stage.columns, stage.handle_invalid, stage.output_col, stage.input_sizes) == (
        ["vec", "num", "sparseVec"], "skip", "assembledVec", [2, 1, 5])


def test_vector_assembler_test_output_schema(batch_session):
    """Flink ML's one vector column is one column per element here (one: its input size)."""
    stage = VectorAssembler(columns=["num"], output_col="assembledVec", input_sizes=[1],
                            handle_invalid="keep")
    table = _transformed(stage, _assembler_table(batch_session, ASSEMBLER_INPUT))
    assert list(table.get_schema().get_field_names()) == ["id", "vec", "num", "sparseVec",
                                                           "assembledVec_1"]


@pytest.mark.parametrize(("rows", "expected"), [
    (ASSEMBLER_NULL_INPUT, {0: ASSEMBLED[0], 1: ASSEMBLED_NULL_VEC, 2: ASSEMBLED_NULL_VEC}),
    (ASSEMBLER_NAN_INPUT, {**ASSEMBLED, 2: ASSEMBLED_NAN_NUM}),
], ids=["with_null", "with_nan"])
def test_vector_assembler_test_keep_invalid(batch_session, rows, expected):
    """testKeepInvalidWithNull, testKeepInvalidWithNaN."""
    got = _assembled(_assembler(handle_invalid="keep"), _assembler_table(batch_session, rows))
    _assert_assembled(got, expected)


def test_vector_assembler_test_keep_invalid_with_error_sizes(batch_session):
    """'keep' does not check sizes, so the vector is longer than the sizes say: in a query,
    ML_VECTOR_ASSEMBLER's ARRAY is Flink ML's vector (a pipeline's element columns are the
    first sum(input_sizes) elements)."""
    batch_session.table_env.create_temporary_view(
        "assembler_input", _assembler_table(batch_session, ASSEMBLER_INPUT))
    frame = batch_session.sql(
        "SELECT id, ML_VECTOR_ASSEMBLER(ARRAY[vec, num, sparseVec], ARRAY[2, 1, 4], 'keep') "
        "AS assembled FROM assembler_input")
    _assert_assembled({int(i): list(v) for i, v in zip(frame["id"], frame["assembled"],
                                                        strict=True)}, ASSEMBLED)


@pytest.mark.parametrize(("rows", "sizes", "message"), [
    (ASSEMBLER_NULL_INPUT, (2, 1, 5), "Input column value is null. Please check the input "
                                      "data or using handleInvalid = 'keep'."),
    (ASSEMBLER_NAN_INPUT, (2, 1, 5), "Encountered NaN while assembling a row with "
     "handleInvalid = 'error'. Consider removing NaNs from dataset or using handleInvalid = "
     "'keep' or 'skip'."),
    (ASSEMBLER_INPUT, (2, 1, 4), "Input vector/number size does not meet with expected. "
                                 "Expected size: 4, actual size: 5."),
], ids=["with_null", "with_nan", "with_error_sizes"])
def test_vector_assembler_test_error_invalid(batch_session, rows, sizes, message):
    """testErrorInvalidWithNull, ...WithNaN, ...WithErrorSizes: the job fails with Flink ML's
    message (after "Vector assembler failed with exception : ", without the Java class)."""
    table = _transformed(_assembler(sizes), _assembler_table(batch_session, rows))
    with pytest.raises(Exception) as failed:
        table.to_pandas()
    assert flink_message(failed.value) == f"Vector assembler failed with exception : {message}"


@pytest.mark.parametrize(("rows", "sizes", "kept"), [
    (ASSEMBLER_NULL_INPUT, (2, 1, 5), [0]), (ASSEMBLER_NAN_INPUT, (2, 1, 5), [0, 1]),
    (ASSEMBLER_INPUT, (2, 1, 4), []),
], ids=["with_null", "with_nan", "with_error_sizes"])
def test_vector_assembler_test_skip_invalid(batch_session, rows, sizes, kept):
    """testSkipInvalidWithNull, ...WithNaN, ...WithErrorSizes: 1, 2 and 0 rows."""
    got = _assembled(_assembler(sizes, "skip"), _assembler_table(batch_session, rows))
    _assert_assembled(got, {k: ASSEMBLED[k] for k in kept})


def test_vector_assembler_test_save_load_and_transform(batch_session, tmp_path):
    Pipeline([_assembler(handle_invalid="skip")]).save(tmp_path)
    table = _assembler_table(batch_session, ASSEMBLER_INPUT)
    _assert_assembled(_assembled(Pipeline.load(tmp_path).stages[0], table), ASSEMBLED)


def test_vector_assembler_test_input_type_conversion(batch_session, tmp_path):
    """Flink ML's table with sparse vectors and INT numbers: here MAP<INT, DOUBLE> columns
    (index -> value, as HashingTF and FeatureHasher write sparse vectors) and an INT."""
    def sparse(vector):
        return {i: v for i, v in enumerate(vector) if v != 0.0}

    rows = [(i, sparse(vec), int(num), sparse(s)) for i, vec, num, s in ASSEMBLER_INPUT]
    sparse_type = DataTypes.MAP(DataTypes.INT(False), DataTypes.DOUBLE())
    table = batch_session.table_env.from_elements(rows, DataTypes.ROW([
        DataTypes.FIELD("id", DataTypes.INT()), DataTypes.FIELD("vec", sparse_type),
        DataTypes.FIELD("num", DataTypes.INT()), DataTypes.FIELD("sparseVec", sparse_type)]))
    Pipeline([_assembler(handle_invalid="skip")]).save(tmp_path)
    _assert_assembled(_assembled(Pipeline.load(tmp_path).stages[0], table), ASSEMBLED)


def test_vector_assembler_test_number2_vector(batch_session):
    stage = VectorAssembler(columns=["num"], output_col="assembledVec", input_sizes=[1],
                            handle_invalid="keep")
    frame = _transformed(stage, _assembler_table(batch_session, ASSEMBLER_INPUT)).to_pandas()
    assert len(frame) == 3
    assert frame["assembledVec_1"].tolist() == frame["num"].tolist()


# VectorIndexerTest: 2-element vectors; element 0 has 5 training values, element 1 three
VECTOR_INDEXER_TRAIN = [[1, 1], [2, -1], [3, 1], [4, 0], [5, 0]]
VECTOR_INDEXER_TEST = [[0, 2], [0, 0], [0, -1]]


def _vector_indexed(session, train, test, **params) -> list[list[float]]:
    """Fit on `train`, transform `test`: the output vectors, sorted (Flink ML compares the
    collections in any order)."""
    train_table, columns = vector_table(session, "input", train)
    test_table, _ = vector_table(session, "input", test)
    model = Pipeline([VectorIndexer(columns=columns, output_cols=outputs(columns),
                                    **params)]).fit(train_table)
    return sorted_rows(model.transform(test_table), outputs(columns)).tolist()


def test_vector_indexer_test_param():
    stage = VectorIndexer(columns=["input"], output_cols=["output"])
    assert (stage.max_categories, stage.handle_invalid) == (20, "error")
    stage = VectorIndexer(columns=["test_input"], output_cols=["test_output"],
                          max_categories=3, handle_invalid="keep")
    assert (stage.columns, stage.output_cols, stage.max_categories, stage.handle_invalid) == (
        ["test_input"], ["test_output"], 3, "keep")


def test_vector_indexer_test_output_schema(batch_session):
    table, columns = vector_table(batch_session, "input", VECTOR_INDEXER_TRAIN)
    model = Pipeline([VectorIndexer(columns=columns, output_cols=outputs(columns))]).fit(table)
    assert list(model.transform(table).get_schema().get_field_names()) == [
        "input_0", "input_1", "output_0", "output_1"]


def test_vector_indexer_test_fit_and_predict_on_sparse_input(batch_session):
    """Its sparse vectors are the same values as the dense training rows (zeros implicit)."""
    got = _vector_indexed(batch_session, [[1, 0], [2, -1], [3, 1], [4, 0], [5, 0]], [[0, 2]],
                          max_categories=3, handle_invalid="keep")
    assert got == [[0.0, 3.0]]


def test_vector_indexer_test_fit_and_predict_with_large_max_categories(batch_session):
    got = _vector_indexed(batch_session, VECTOR_INDEXER_TRAIN, VECTOR_INDEXER_TEST,
                          max_categories=2**31 - 1, handle_invalid="keep")
    assert got == sorted([[5.0, 3.0], [5.0, 0.0], [5.0, 1.0]])


@pytest.mark.parametrize(("handle_invalid", "expected"), [
    ("keep", [[0.0, 3.0], [0.0, 0.0], [0.0, 1.0]]), ("skip", [[0.0, 0.0], [0.0, 1.0]])])
def test_vector_indexer_test_fit_and_predict_with_handle_invalid(batch_session, handle_invalid,
                                                                expected):
    got = _vector_indexed(batch_session, VECTOR_INDEXER_TRAIN, VECTOR_INDEXER_TEST,
                          max_categories=3, handle_invalid=handle_invalid)
    assert got == sorted(expected)


def test_vector_indexer_test_fit_and_predict_with_handle_invalid_error(batch_session):
    with pytest.raises(Exception) as failed:
        _vector_indexed(batch_session, VECTOR_INDEXER_TRAIN, VECTOR_INDEXER_TEST, max_categories=3)
    assert flink_message(failed.value) == (
        "The input contains unseen double: 2.0. See handleInvalid parameter for more options.")


def test_vector_indexer_test_save_load_and_predict(batch_session, tmp_path):
    train, columns = vector_table(batch_session, "input", VECTOR_INDEXER_TRAIN)
    test, _ = vector_table(batch_session, "input", VECTOR_INDEXER_TEST)
    Pipeline([VectorIndexer(columns=columns, output_cols=outputs(columns),
                            handle_invalid="keep")]).save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(train).save(tmp_path / "model")
    got = sorted_rows(PipelineModel.load(tmp_path / "model").transform(test), outputs(columns))
    assert got.tolist() == sorted([[5.0, 3.0], [5.0, 0.0], [5.0, 1.0]])


def test_vector_indexer_test_get_model_data(batch_session):
    """Flink ML's categoryMaps ({1: {-1.0: 1, 0.0: 0, 1.0: 2}}): element 0 has more values
    than max_categories, so it is kept as it is; element 1's categories in index order."""
    table, columns = vector_table(batch_session, "input", VECTOR_INDEXER_TRAIN)
    model = Pipeline([VectorIndexer(columns=columns, output_cols=outputs(columns),
                                    max_categories=3)]).fit(table)
    calls = [parse_expression(stage.expression)[0] for stage in model.stages]
    assert len(calls[0].arguments) == 1  # ML_VECTOR_INDEXER(x): not indexed
    categories = calls[1].arguments[1].value  # ML_VECTOR_INDEXER(x, ARRAY[...], ...)
    assert {value: index for index, value in enumerate(categories)} == {
        -1.0: 1, 0.0: 0, 1.0: 2}


# CountVectorizerTest: token arrays; Flink ML's sparse vectors as MAP<INT, DOUBLE>. Its
# vocabulary orders equal document counts by Java's HashMap order of one-letter strings,
# which is alphabetical, as mlsql's rule.
COUNT_INPUT = [(["a", "c", "b", "c"],), (["c", "d", "e"],), (["a", "b", "c"],), (["e", "f"],),
               (["a", "c", "a"],)]
COUNT_EXPECTED = [{0: 2.0, 1: 1.0, 2: 1.0}, {0: 1.0, 3: 1.0, 4: 1.0}, {0: 1.0, 1: 1.0, 2: 1.0},
                  {3: 1.0, 5: 1.0}, {0: 1.0, 1: 2.0}]


def _count_table(session, rows=COUNT_INPUT, name="input"):
    return _strings_table(session, rows, DataTypes.ARRAY(DataTypes.STRING()), (name,))


def _counted(session, stage=None, **params) -> list[dict[int, float]]:
    table = _count_table(session)
    stage = stage or CountVectorizer(columns=["input"], output_cols=["output"], **params)
    return _sparse_vectors(Pipeline([stage]).fit(table).transform(table), "output")


def _sorted_vectors(vectors: list[dict[int, float]]) -> list[dict[int, float]]:
    return sorted(vectors, key=lambda v: sorted(v.items()))


def test_count_vectorizer_test_param():
    stage = CountVectorizer(columns=["input"], output_cols=["output"])
    assert (stage.max_df, stage.min_df, stage.min_tf, stage.vocabulary_size, stage.binary) == (
        float(2**63 - 1), 1.0, 1.0, 1 << 18, False)
    stage = CountVectorizer(columns=["test_input"], output_cols=["test_output"], min_df=0.1,
                            max_df=0.9, min_tf=10, vocabulary_size=1000, binary=True)
    assert (stage.columns, stage.output_cols, stage.max_df, stage.min_df, stage.min_tf,
            stage.vocabulary_size, stage.binary) == (
        ["test_input"], ["test_output"], 0.9, 0.1, 10.0, 1000, True)


@pytest.mark.parametrize(("min_df", "max_df"), [(0.2, 0.1), (2, 1), (0.9, 1), (10, 0.1)])
def test_count_vectorizer_test_invalid_min_max_df(batch_session, min_df, max_df):
    """Both counts or both fractions are refused when the stage is made (Flink ML: at fit);
    a count against a fraction once the training rows are counted (here 5)."""
    message = re.escape("maxDF must be >= minDF.")
    if (min_df >= 1) == (max_df >= 1):
        with pytest.raises(OptionError, match=message):
            CountVectorizer(columns=["input"], min_df=min_df, max_df=max_df)
        return
    stage = CountVectorizer(columns=["input"], output_cols=["output"], min_df=min_df,
                            max_df=max_df)
    with pytest.raises(MlsqlError, match=message):
        Pipeline([stage]).fit(_count_table(batch_session))


def test_count_vectorizer_test_output_schema(batch_session):
    table = _count_table(batch_session, name="test_input")
    stage = CountVectorizer(columns=["test_input"], output_cols=["test_output"])
    names = Pipeline([stage]).fit(table).transform(table).get_schema().get_field_names()
    assert list(names) == ["test_input", "test_output"]


def test_count_vectorizer_test_fit_and_predict(batch_session):
    assert _counted(batch_session) == _sorted_vectors(COUNT_EXPECTED)


def test_count_vectorizer_test_save_load_and_predict(batch_session, tmp_path):
    table = _count_table(batch_session)
    Pipeline([CountVectorizer(columns=["input"], output_cols=["output"])]).save(
        tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(table).save(tmp_path / "model")
    model = PipelineModel.load(tmp_path / "model")
    assert _sparse_vectors(model.transform(table), "output") == _sorted_vectors(COUNT_EXPECTED)


def test_count_vectorizer_test_fit_on_empty_data(batch_session):
    table = _count_table(batch_session).filter(col("input").is_null)
    with pytest.raises(MlsqlError, match="no rows"):
        Pipeline([CountVectorizer(columns=["input"], output_cols=["output"])]).fit(table)


@pytest.mark.parametrize(("min_df", "max_df"), [(2, 4), (0.4, 0.8)])
def test_count_vectorizer_test_min_max_df(batch_session, min_df, max_df):
    expected = [{0: 2.0, 1: 1.0, 2: 1.0}, {0: 1.0, 3: 1.0}, {0: 1.0, 1: 1.0, 2: 1.0}, {3: 1.0},
                {0: 1.0, 1: 2.0}]
    assert _counted(batch_session, min_df=min_df, max_df=max_df) == _sorted_vectors(expected)


def test_count_vectorizer_test_min_tf(batch_session):
    expected = [{0: 2.0}, {}, {}, {3: 1.0, 5: 1.0}, {1: 2.0}]
    assert _counted(batch_session, min_tf=0.5) == _sorted_vectors(expected)


def test_count_vectorizer_test_binary(batch_session):
    expected = [{0: 1.0, 1: 1.0, 2: 1.0}, {0: 1.0, 3: 1.0, 4: 1.0}, {0: 1.0, 1: 1.0, 2: 1.0},
                {3: 1.0, 5: 1.0}, {0: 1.0, 1: 1.0}]
    assert _counted(batch_session, binary=True) == _sorted_vectors(expected)


def test_count_vectorizer_test_vocabulary_size(batch_session):
    expected = [{0: 2.0, 1: 1.0}, {0: 1.0}, {0: 1.0, 1: 1.0}, {}, {0: 1.0, 1: 2.0}]
    assert _counted(batch_session, vocabulary_size=2) == _sorted_vectors(expected)


def test_count_vectorizer_test_get_model_data(batch_session):
    """The vocabulary is the fitted stage's ARRAY (ML_COUNT_VECTORIZER(x, ARRAY[...], ...))."""
    table = _count_table(batch_session)
    model = Pipeline([CountVectorizer(columns=["input"], output_cols=["output"])]).fit(table)
    vocabulary = parse_expression(model.stages[0].expression)[0].arguments[1].value
    assert list(vocabulary) == ["c", "a", "b", "e", "d", "f"]


# ChiSqTestTest, ANOVATestTest, FValueTestTest: a label and a vector of features (one column
# each here); NaN stays NaN (from_elements), as in Flink ML's input
CHI_DOUBLE_LABEL = [
    (0.0, [5, 1.0]), (2.0, [6, 2.0]), (1.0, [7, 2.0]), (1.0, [5, 4.0]), (0.0, [5, 1.0]),
    (2.0, [6, 2.0]), (1.0, [7, 2.0]), (1.0, [5, 4.0]), (2.0, [5, 1.0]), (0.0, [5, 2.0]),
    (0.0, [5, 2.0]), (1.0, [9, 4.0]), (1.0, [9, 3.0])]
CHI_INTEGER_LABEL = [
    (33, [5, 0]), (44, [6, 1]), (55, [7, 1]), (11, [5, 1]), (11, [5, 0]), (33, [6, 2]),
    (22, [7, 2]), (66, [5, 3]), (77, [5, 3]), (88, [5, 4]), (77, [5, 6]), (44, [9, 6]),
    (11, [9, 8])]
ANOVA_DENSE = [
    (3, [0.85956061, 0.1645695, 0.48347596, 0.92102727, 0.42855644, 0.05746009]),
    (2, [0.92500743, 0.65760154, 0.13295284, 0.53344893, 0.8994776, 0.24836496]),
    (1, [0.03017182, 0.07244715, 0.87416449, 0.55843035, 0.91604736, 0.63346045]),
    (5, [0.28325261, 0.36536881, 0.09223386, 0.37251258, 0.34742278, 0.70517077]),
    (4, [0.64850904, 0.04090877, 0.21173176, 0.00148992, 0.13897166, 0.21182539]),
    (4, [0.02609493, 0.44608735, 0.23910531, 0.95449222, 0.90763182, 0.8624905]),
    (5, [0.09158744, 0.97745235, 0.41150139, 0.45830467, 0.52590925, 0.29441554]),
    (4, [0.97211594, 0.1814442, 0.30340642, 0.17445413, 0.52756958, 0.02069296]),
    (2, [0.06354593, 0.63527231, 0.49620335, 0.0141264, 0.62722219, 0.63497507]),
    (1, [0.10814149, 0.8296426, 0.51775217, 0.57068344, 0.54633305, 0.12714921]),
    (1, [0.72731796, 0.94010124, 0.45007811, 0.87650674, 0.53735565, 0.49568415]),
    (2, [0.41827208, 0.85100628, 0.38685271, 0.60689503, 0.21784097, 0.91294433]),
    (3, [0.65843656, 0.5880859, 0.18862706, 0.856398, 0.18029327, 0.94851926]),
    (4, [0.3841634, 0.25138793, 0.96746644, 0.77048045, 0.44685196, 0.19813854]),
    (5, [0.65982267, 0.23024125, 0.13598434, 0.60144265, 0.57848927, 0.85623564]),
    (1, [0.35764189, 0.47623815, 0.5459232, 0.79508298, 0.14462443, 0.01802919]),
    (5, [0.38532153, 0.90614554, 0.86629571, 0.13988735, 0.32062385, 0.00179492]),
    (3, [0.2142368, 0.28306022, 0.59481646, 0.42567028, 0.52207663, 0.78082401]),
    (1, [0.20788283, 0.76861782, 0.59595468, 0.62103642, 0.17781246, 0.77655345]),
    (1, [0.1751708, 0.4547537, 0.46187865, 0.79781199, 0.05104487, 0.42406092])]
ANOVA_SPARSE = [
    (3, [6.0, 7.0, 0.0, 7.0, 6.0, 0.0, 0.0]), (1, [0.0, 9.0, 6.0, 0.0, 5.0, 9.0, 0.0]),
    (3, [0.0, 9.0, 3.0, 0.0, 5.0, 5.0, 0.0]), (2, [0.0, 9.0, 8.0, 5.0, 6.0, 4.0, 0.0]),
    (2, [8.0, 9.0, 6.0, 5.0, 4.0, 4.0, 0.0]), (3, [NAN, 9.0, 6.0, 4.0, 0.0, 0.0, 0.0])]
F_VALUE_DENSE = [
    (0.19775997, [0.15266373, 0.30235661, 0.06203641, 0.45986034, 0.83525338, 0.92699705]),
    (0.66009772, [0.72698898, 0.76849622, 0.26920507, 0.64402929, 0.09337326, 0.07968589]),
    (0.80865842, [0.58961375, 0.34334054, 0.98887615, 0.62647321, 0.68177928, 0.55225681]),
    (0.34142582, [0.26886006, 0.37325939, 0.2229281, 0.1864426, 0.39064809, 0.19316241]),
    (0.84756607, [0.61091093, 0.88280845, 0.62233882, 0.25311894, 0.17993031, 0.81640447]),
    (0.53360225, [0.22537162, 0.51685714, 0.51849582, 0.60037494, 0.53262048, 0.01331005]),
    (0.90053371, [0.52409726, 0.89588471, 0.76990129, 0.1228517, 0.29587269, 0.61202358]),
    (0.78779561, [0.72613812, 0.46349747, 0.76911037, 0.19163103, 0.55786672, 0.55077816]),
    (0.51604647, [0.47222549, 0.79188496, 0.11524968, 0.6813039, 0.36233361, 0.34420889]),
    (0.35325637, [0.44951875, 0.02694226, 0.41524769, 0.9222317, 0.09120557, 0.31512178]),
    (0.51408926, [0.52802224, 0.32806203, 0.44891554, 0.01633442, 0.0970269, 0.69258857]),
    (0.84489897, [0.83594341, 0.42432199, 0.8487743, 0.54679121, 0.35410346, 0.72724968]),
    (0.55342816, [0.09385168, 0.8928588, 0.33625828, 0.89183268, 0.296849, 0.30164829]),
    (0.89405683, [0.80624061, 0.83760997, 0.63428133, 0.3113273, 0.02944858, 0.39977732]),
    (0.54588131, [0.51817346, 0.00738845, 0.77494778, 0.8544712, 0.13153282, 0.28767364]),
    (0.96038024, [0.32658881, 0.90655956, 0.99955954, 0.77088429, 0.04284752, 0.96525111]),
    (0.71349698, [0.97521246, 0.2025168, 0.67985305, 0.46534506, 0.92001748, 0.72820735]),
    (0.43456735, [0.24585653, 0.01953996, 0.70598881, 0.77448287, 0.4729746, 0.80146736]),
    (0.52462506, [0.17539792, 0.72016934, 0.3678759, 0.53209295, 0.29719397, 0.37429151]),
    (0.43074793, [0.72810013, 0.39850784, 0.1058295, 0.39858265, 0.52196395, 0.1060125])]
F_VALUE_SPARSE = [
    (4.6, [6.0, 7.0, 0.0, 7.0, 6.0, 0.0, 0.0]), (6.6, [0.0, 9.0, 6.0, 0.0, 5.0, 9.0, 0.0]),
    (5.1, [0.0, 9.0, 3.0, 0.0, 5.0, 5.0, 0.0]), (7.6, [0.0, 9.0, 8.0, 5.0, 6.0, 4.0, 0.0]),
    (9.0, [8.0, 9.0, 6.0, 5.0, 4.0, 4.0, 0.0]), (9.0, [NAN, 9.0, 6.0, 4.0, 0.0, 0.0, 0.0])]


def _labelled_table(session, rows, label_type=None, names=("label", "features")):
    """Flink ML's (label, vector) rows as a label and one DOUBLE column per element."""
    width = len(rows[0][1])
    columns = [f"{names[1]}_{i}" for i in range(width)]
    label_type = label_type or (DataTypes.INT() if isinstance(rows[0][0], int)
                                else DataTypes.DOUBLE())
    cast = float if label_type == DataTypes.DOUBLE() else int
    table = session.table_env.from_elements(
        [(cast(label), *map(float, vector)) for label, vector in rows],
        DataTypes.ROW([DataTypes.FIELD(names[0], label_type),
                       *(DataTypes.FIELD(c, DataTypes.DOUBLE()) for c in columns)]))
    return table, columns


def _assert_vectors_close(got, expected):
    np.testing.assert_allclose(np.array(got, dtype=float), np.array(expected, dtype=float),
                               atol=1e-5, equal_nan=True)


def _test_output(stage, table) -> tuple[list, list, list]:
    """The one row of vectors (pValues, degreesOfFreedom, statistics)."""
    frame = stage.transform(table)[0].to_pandas()
    assert len(frame) == 1
    return tuple(list(v) for v in frame.iloc[0])


def _flat_output(stage, table) -> list[list[float]]:
    frame = stage.transform(table)[0].to_pandas().sort_values("featureIndex")
    return frame.to_numpy(dtype=float).tolist()


@pytest.mark.parametrize("test_class", [ChiSqTest, ANOVATest, FValueTest])
def test_feature_test_params(test_class):
    """ChiSqTestTest.testParam, ANOVATestTest.testParam, FValueTestTest.testParam (the
    features are columns here, Flink ML's one vector column)."""
    test = test_class(features=["features"])
    assert (test.label, test.features, test.flatten) == ("label", ["features"], False)
    test = test_class(features=["test_features"], label="test_label", flatten=True)
    assert (test.label, test.features, test.flatten) == ("test_label", ["test_features"], True)


@pytest.mark.parametrize(("test_class", "statistic"), [
    (ChiSqTest, "statistic"), (ANOVATest, "fValue"), (FValueTest, "fValue")])
def test_feature_test_output_schema(batch_session, test_class, statistic):
    """ChiSqTestTest.testOutputSchema, ANOVATestTest's, FValueTestTest's."""
    table, features = _labelled_table(batch_session, CHI_DOUBLE_LABEL)
    for flatten, names in ((False, ["pValues", "degreesOfFreedom", f"{statistic}s"]),
                           (True, ["featureIndex", "pValue", "degreeOfFreedom", statistic])):
        output = test_class(features=features, flatten=flatten).transform(table)[0]
        assert list(output.get_schema().get_field_names()) == names


def test_chi_sq_test_test_transform(batch_session):
    table, features = _labelled_table(batch_session, CHI_DOUBLE_LABEL)
    p_values, dof, statistics = _test_output(ChiSqTest(features=features), table)
    _assert_vectors_close(p_values, [0.03419350755, 0.24220177737])
    assert dof == [6, 6]
    _assert_vectors_close(statistics, [13.61904761905, 7.94444444444])
    table, features = _labelled_table(batch_session, CHI_INTEGER_LABEL)
    p_values, dof, statistics = _test_output(ChiSqTest(features=features), table)
    _assert_vectors_close(p_values, [0.35745138256, 0.39934987096])
    assert dof == [21, 42]
    _assert_vectors_close(statistics, [22.75, 43.69444444444])


def test_chi_sq_test_test_transform_with_flatten(batch_session):
    table, features = _labelled_table(batch_session, CHI_DOUBLE_LABEL)
    _assert_vectors_close(_flat_output(ChiSqTest(features=features, flatten=True), table),
                          [[0, 0.03419350755, 6, 13.61904761905],
                           [1, 0.24220177737, 6, 7.94444444444]])


ANOVA_EXPECTED = {
    "dense": ([0.64137831, 0.14830724, 0.69858474, 0.28038169, 0.86759161, 0.81608606], 19,
              [0.64110932, 1.98689258, 0.55499714, 1.40340562, 0.30881722, 0.3848595]),
    "sparse": ([NAN, 0.71554175, 0.34278574, 0.45824059, 0.84633632, 0.15673368, NAN], 5,
               [NAN, 0.375, 1.5625, 1.02364865, 0.17647059, 3.66, NAN])}
F_VALUE_EXPECTED = {
    "dense": ([1.73658700e-02, 1.49916659e-02, 1.12697153e-04, 4.26990301e-01, 2.75911201e-01,
               1.93549275e-01], 18,
              [6.86260598, 7.23175589, 24.11424725, 0.6605354, 1.26266286, 1.82421406]),
    "sparse": ([NAN, 0.19167161, 0.06506426, 0.75183662, 0.16111045, 0.89090362, NAN], 4,
               [NAN, 2.46254817, 6.37164347, 0.1147488, 2.94816821, 0.02134755, NAN])}
REGRESSION_CASES = [(ANOVATest, {"dense": ANOVA_DENSE, "sparse": ANOVA_SPARSE}, ANOVA_EXPECTED),
                    (FValueTest, {"dense": F_VALUE_DENSE, "sparse": F_VALUE_SPARSE},
                     F_VALUE_EXPECTED)]


@pytest.mark.parametrize(("test_class", "inputs", "expected"), REGRESSION_CASES,
                         ids=["anova", "f_value"])
def test_anova_and_f_value_test_transform(batch_session, test_class, inputs, expected):
    """ANOVATestTest.testTransform, FValueTestTest.testTransform: the dense and the sparse
    input (a NaN feature value and an all-zero feature give NaN, as in Flink ML)."""
    for kind in ("dense", "sparse"):
        table, features = _labelled_table(batch_session, inputs[kind], DataTypes.DOUBLE())
        p_values, dof, statistics = _test_output(test_class(features=features), table)
        want_p, want_dof, want_statistics = expected[kind]
        _assert_vectors_close(p_values, want_p)
        assert dof == [want_dof] * len(want_p)
        _assert_vectors_close(statistics, want_statistics)


@pytest.mark.parametrize(("test_class", "inputs", "expected"), REGRESSION_CASES,
                         ids=["anova", "f_value"])
def test_anova_and_f_value_test_transform_with_flatten(batch_session, test_class, inputs,
                                                       expected):
    for kind in ("dense", "sparse"):
        table, features = _labelled_table(batch_session, inputs[kind], DataTypes.DOUBLE())
        want_p, want_dof, want_statistics = expected[kind]
        _assert_vectors_close(
            _flat_output(test_class(features=features, flatten=True), table),
            [[i, p, want_dof, s] for i, (p, s) in enumerate(zip(want_p, want_statistics,
                                                                strict=True))])


@pytest.mark.parametrize(("test_class", "rows", "expected"), [
    (ChiSqTest, CHI_DOUBLE_LABEL, ([0.03419350755, 0.24220177737], 6,
                                   [13.61904761905, 7.94444444444])),
    (ANOVATest, ANOVA_DENSE, ANOVA_EXPECTED["dense"]),
    (FValueTest, F_VALUE_DENSE, F_VALUE_EXPECTED["dense"]),
], ids=["chi_sq", "anova", "f_value"])
def test_feature_test_save_load_and_transform(batch_session, tmp_path, test_class, rows,
                                              expected):
    table, features = _labelled_table(batch_session, rows, DataTypes.DOUBLE())
    test_class(features=features).save(tmp_path)
    p_values, dof, statistics = _test_output(test_class.load(tmp_path), table)
    _assert_vectors_close(p_values, expected[0])
    assert dof == [expected[1]] * len(expected[0])
    _assert_vectors_close(statistics, expected[2])


# BinaryClassificationEvaluatorTest: a label and rawPrediction (a vector: its element 1, the
# positive class's score, is what Flink ML reads; the column rawPrediction_1 here)
EVALUATOR_SCORES = [(1.0, 0.9), (1.0, 0.8), (1.0, 0.7), (0.0, 0.75), (0.0, 0.6), (1.0, 0.65),
                    (1.0, 0.55), (0.0, 0.4), (0.0, 0.3), (1.0, 0.35), (0.0, 0.2), (1.0, 0.1)]
EVALUATOR_MULTI_SCORES = [(1.0, 0.9), (1.0, 0.9), (1.0, 0.9), (0.0, 0.75), (0.0, 0.6),
                          (1.0, 0.9), (1.0, 0.9), (0.0, 0.4), (0.0, 0.3), (1.0, 0.9), (0.0, 0.2),
                          (1.0, 0.1)]
EVALUATOR_WEIGHTS = [0.8, 0.7, 0.5, 1.2, 1.3, 1.5, 1.4, 0.3, 0.5, 1.9, 1.2, 1.0]
PR_KS_ROC = ["areaUnderPR", "ks", "areaUnderROC"]
EXPECTED_PR_KS_ROC = [0.7691481137909708, 0.3714285714285714, 0.6571428571428571]


def _scores_table(session, rows, label_type=None, score=None, weights=None):
    """(label, rawPrediction_0, rawPrediction_1[, weight]): the vector's elements as columns."""
    label_type = label_type or DataTypes.DOUBLE()
    cast = float if label_type == DataTypes.DOUBLE() else int
    fields = [DataTypes.FIELD("label", label_type),
              DataTypes.FIELD("rawPrediction_0", DataTypes.DOUBLE()),
              DataTypes.FIELD("rawPrediction_1", DataTypes.DOUBLE())]
    data = [(cast(label), 1.0 - p, p) for label, p in rows]
    if weights is not None:
        fields.append(DataTypes.FIELD("weight", DataTypes.DOUBLE()))
        data = [(*row, w) for row, w in zip(data, weights, strict=True)]
    return session.table_env.from_elements(data, DataTypes.ROW(fields))


def _evaluated(evaluator, table) -> tuple[list[str], list[float]]:
    output = evaluator.transform(table)[0]
    frame = output.to_pandas()
    assert len(frame) == 1
    return list(output.get_schema().get_field_names()), frame.iloc[0].tolist()


def test_binary_classification_evaluator_test_param():
    evaluator = BinaryClassificationEvaluator()
    assert (evaluator.label, evaluator.weight, evaluator.raw_prediction,
            evaluator.metrics_names) == ("label", None, "rawPrediction",
                                         ["areaUnderROC", "areaUnderPR"])
    evaluator = BinaryClassificationEvaluator("labelCol", "raw", weight="weight",
                                              metrics_names=["areaUnderROC"])
    assert (evaluator.label, evaluator.weight, evaluator.raw_prediction,
            evaluator.metrics_names) == ("labelCol", "weight", "raw", ["areaUnderROC"])


@pytest.mark.parametrize("label_type", ["DOUBLE", "INT"], ids=["evaluate", "input_type_conversion"])
def test_binary_classification_evaluator_test_evaluate(batch_session, label_type):
    """testEvaluate, testInputTypeConversion (an INT label; its sparse rawPrediction is the
    same elements here) and testEvaluateWithDoubleRaw (the score column is a number here in
    every case)."""
    table = _scores_table(batch_session, EVALUATOR_SCORES, getattr(DataTypes, label_type)())
    names, values = _evaluated(BinaryClassificationEvaluator(
        raw_prediction="rawPrediction_1", metrics_names=PR_KS_ROC), table)
    assert names == PR_KS_ROC
    np.testing.assert_allclose(values, EXPECTED_PR_KS_ROC, atol=1e-5)


def test_binary_classification_evaluator_test_more_subtask_than_data(batch_session):
    table = _scores_table(batch_session, [(1.0, 0.9), (0.0, 0.1)])
    names, values = _evaluated(BinaryClassificationEvaluator(
        raw_prediction="rawPrediction_1", metrics_names=PR_KS_ROC), table)
    assert names == PR_KS_ROC
    np.testing.assert_allclose(values, [1.0, 1.0, 1.0], atol=1e-5)


def test_binary_classification_evaluator_test_evaluate_with_multi_score(batch_session):
    metrics = ["areaUnderROC", "areaUnderPR", "ks", "areaUnderLorenz"]
    names, values = _evaluated(BinaryClassificationEvaluator(
        raw_prediction="rawPrediction_1", metrics_names=metrics),
        _scores_table(batch_session, EVALUATOR_MULTI_SCORES))
    assert names == metrics
    np.testing.assert_allclose(values, [0.8571428571428571, 0.9377705627705628,
                                        0.8571428571428571, 0.6488095238095237], atol=1e-5)


def test_binary_classification_evaluator_test_evaluate_with_weight(batch_session):
    names, values = _evaluated(BinaryClassificationEvaluator(
        raw_prediction="rawPrediction_1", weight="weight",
        metrics_names=["areaUnderROC", "areaUnderPR"]),
        _scores_table(batch_session, EVALUATOR_MULTI_SCORES, weights=EVALUATOR_WEIGHTS))
    assert names == ["areaUnderROC", "areaUnderPR"]
    np.testing.assert_allclose(values, [0.8717948717948718, 0.9510202726261435], atol=1e-5)


def test_binary_classification_evaluator_test_save_load_and_evaluate(batch_session, tmp_path):
    BinaryClassificationEvaluator(raw_prediction="rawPrediction_1",
                                  metrics_names=PR_KS_ROC).save(tmp_path)
    names, values = _evaluated(BinaryClassificationEvaluator.load(tmp_path),
                               _scores_table(batch_session, EVALUATOR_SCORES))
    assert names == PR_KS_ROC
    np.testing.assert_allclose(values, EXPECTED_PR_KS_ROC, atol=1e-5)


# UnivariateFeatureSelectorTest: a label and 6 features (sparse rows as their dense form)
UFS_CHISQ = [
    (0.0, [6.0, 7.0, 0.0, 7.0, 6.0, 0.0]), (1.0, [0.0, 9.0, 6.0, 0.0, 5.0, 9.0]),
    (1.0, [0.0, 9.0, 3.0, 0.0, 5.0, 5.0]), (1.0, [0.0, 9.0, 8.0, 5.0, 6.0, 4.0]),
    (2.0, [8.0, 9.0, 6.0, 5.0, 4.0, 4.0]), (2.0, [8.0, 9.0, 6.0, 4.0, 0.0, 0.0])]
UFS_ANOVA = [
    (1.0, [0.00465415496, 0.103550567, -1.1735814, 0.161408773, 0.392492111, 0.731240882]),
    (1.0, [-0.901651741, -0.528905302, 1.27636785, 0.702154563, 0.621348351, 0.188397353]),
    (1.0, [0.385692159, -0.904639637, 0.0509782604, 0.840043971, 0.745977857, 0.878402288]),
    (1.0, [1.36264353, 0.262454094, 0.796306202, 0.614948, 0.744948187, 0.97403483]),
    (1.0, [0.96587407, 2.52773665, -2.19380094, 0.23340808, 0.186340919, 0.823390433]),
    (2.0, [11.2324305, -0.277121515, 0.112740513, 0.235184013, 0.346668895, 0.0938500782]),
    (2.0, [10.6195839, -1.82891238, 0.225085601, 0.909979851, 0.0680257535, 0.82401748]),
    (2.0, [11.2806837, 1.30686889, 0.0932839108, 0.349784755, 0.0171322408, 0.0748465194]),
    (2.0, [9.98689462, 0.950808938, -0.290786359, 0.231253009, 0.746270968, 0.160308169]),
    (2.0, [10.8428551, -1.02749936, 0.173951508, 0.0892482744, 0.14265173, 0.766751625]),
    (3.0, [-1.98641448, 11.281199, -0.235246756, 0.822809049, 0.326739456, 0.788268404]),
    (3.0, [-0.60986409, 10.7346276, -0.218805509, 0.733931213, 0.142554396, 0.711225605]),
    (3.0, [-1.58481268, 9.19364039, -0.0587490459, 0.251532056, 0.282729807, 0.716245686]),
    (3.0, [-0.250949277, 11.2815254, -0.694806734, 0.593898886, 0.568425656, 0.84976233]),
    (3.0, [0.763485129, 10.2605138, 1.32617719, 0.549682879, 0.859931442, 0.0488677978]),
    (4.0, [0.934900015, 0.411379043, 8.65010205, 0.923509168, 0.116995043, 0.00591894106]),
    (4.0, [0.473734933, -1.48321181, 9.73349621, 0.409421563, 0.509375719, 0.59315785]),
    (4.0, [0.341470679, -0.688972582, 9.60347938, 0.362654055, 0.243437468, 0.713052838]),
    (4.0, [-0.529614251, -1.39262856, 10.1354144, 0.824123861, 0.584074506, 0.654461558]),
    (4.0, [-0.299454508, 2.20457263, 11.4586015, 0.516336729, 0.999776159, 0.315769738])]
UFS_F_VALUE = [
    (0.52516321, [0.19151945, 0.62210877, 0.43772774, 0.78535858, 0.77997581, 0.27259261]),
    (0.88275782, [0.27646426, 0.80187218, 0.95813935, 0.87593263, 0.35781727, 0.50099513]),
    (0.67524507, [0.68346294, 0.71270203, 0.37025075, 0.56119619, 0.50308317, 0.01376845]),
    (0.76734745, [0.77282662, 0.88264119, 0.36488598, 0.61539618, 0.07538124, 0.36882401]),
    (0.73909458, [0.9331401, 0.65137814, 0.39720258, 0.78873014, 0.31683612, 0.56809865]),
    (0.83628141, [0.86912739, 0.43617342, 0.80214764, 0.14376682, 0.70426097, 0.70458131]),
    (0.65665506, [0.21879211, 0.92486763, 0.44214076, 0.90931596, 0.05980922, 0.18428708]),
    (0.58147135, [0.04735528, 0.67488094, 0.59462478, 0.53331016, 0.04332406, 0.56143308]),
    (0.35603443, [0.32966845, 0.50296683, 0.11189432, 0.60719371, 0.56594464, 0.00676406]),
    (0.94534373, [0.61744171, 0.91212289, 0.79052413, 0.99208147, 0.95880176, 0.79196414]),
    (0.57458887, [0.28525096, 0.62491671, 0.4780938, 0.19567518, 0.38231745, 0.05387369]),
    (0.59026777, [0.45164841, 0.98200474, 0.1239427, 0.1193809, 0.73852306, 0.58730363]),
    (0.29894977, [0.47163253, 0.10712682, 0.22921857, 0.89996519, 0.41675354, 0.53585166]),
    (0.34056582, [0.00620852, 0.30064171, 0.43689317, 0.612149, 0.91819808, 0.62573667]),
    (0.64476446, [0.70599757, 0.14983372, 0.74606341, 0.83100699, 0.63372577, 0.43830988]),
    (0.53724782, [0.15257277, 0.56840962, 0.52822428, 0.95142876, 0.48035918, 0.50255956]),
    (0.5173021, [0.53687819, 0.81920207, 0.05711564, 0.66942174, 0.76711663, 0.70811536]),
    (0.94508275, [0.79686718, 0.55776083, 0.96583653, 0.1471569, 0.029647, 0.59389349]),
    (0.57739736, [0.1140657, 0.95080985, 0.96583653, 0.19361869, 0.45781165, 0.92040257]),
    (0.53877145, [0.87906916, 0.25261576, 0.34800879, 0.18258873, 0.90179605, 0.70652816])]
SELECTOR_TYPES = {"chisq": ("categorical", "categorical"), "anova": ("continuous", "categorical"),
                  "fvalue": ("continuous", "continuous")}
SELECTOR_INPUTS = {"chisq": (UFS_CHISQ, "DOUBLE"), "anova": (UFS_ANOVA, "INT"),
                   "fvalue": (UFS_F_VALUE, "DOUBLE")}


def _selector_fit(session, test, **params):
    """The fitted pipeline, its table and feature columns."""
    rows, label_type = SELECTOR_INPUTS[test]
    table, features = _labelled_table(session, rows, getattr(DataTypes, label_type)())
    feature_type, label_type = SELECTOR_TYPES[test]
    stage = UnivariateFeatureSelector(features, feature_type=feature_type,
                                      label_type=label_type, **params)
    return Pipeline([stage]).fit(table), table, features


def _selected_indices(model) -> list[int]:
    """The model data: the selected indices, most significant first."""
    return list(parse_expression(model.stages[0].expression)[0].arguments[1].value)


def _assert_selected_output(model, table, features, indices):
    """Flink ML's verifyOutputResult: output element i is feature indices[i] (index order)."""
    frame = model.transform(table).to_pandas()
    outputs = [f"output_{i + 1}" for i in range(len(indices))]
    assert [c for c in frame.columns if c.startswith("output")] == outputs
    np.testing.assert_allclose(frame[outputs].to_numpy(),
                               frame[[features[i] for i in sorted(indices)]].to_numpy(),
                               atol=1e-5)


def test_univariate_feature_selector_test_param():
    selector = UnivariateFeatureSelector(["features"], feature_type="continuous",
                                         label_type="categorical")
    assert (selector.columns, selector.label, selector.output_col, selector.selection_mode,
            selector.selection_threshold) == (["features"], "label", "output",
                                              "numTopFeatures", None)
    selector = UnivariateFeatureSelector(["test_features"], "test_label", "test_output",
                                         feature_type="continuous", label_type="categorical",
                                         selection_mode="fpr", selection_threshold=0.01)
    assert (selector.columns, selector.label, selector.output_col, selector.feature_type,
            selector.label_type, selector.selection_mode, selector.selection_threshold) == (
        ["test_features"], "test_label", "test_output", "continuous", "categorical", "fpr",
        0.01)


def test_univariate_feature_selector_test_incompatible_selection_mode_and_threshold():
    """Refused when the stage is made (Flink ML: at fit), with Flink ML's messages."""
    with pytest.raises(OptionError, match=re.escape(
            "SelectionThreshold needs to be a positive Integer for selection mode "
            "numTopFeatures, but got 50.1.")):
        UnivariateFeatureSelector(["f"], feature_type="continuous", label_type="categorical",
                                  selection_threshold=50.1)
    with pytest.raises(OptionError, match=re.escape(
            "SelectionThreshold needs to be in the range [0, 1] for selection mode fpr, but "
            "got 1.1.")):
        UnivariateFeatureSelector(["f"], feature_type="continuous", label_type="categorical",
                                  selection_mode="fpr", selection_threshold=1.1)


def test_univariate_feature_selector_test_output_schema(batch_session):
    table, features = _labelled_table(batch_session, UFS_ANOVA, DataTypes.INT(),
                                      ("test_label", "test_features"))
    stage = UnivariateFeatureSelector(features, "test_label", "test_output",
                                      feature_type="continuous", label_type="categorical")
    names = Pipeline([stage]).fit(table).transform(table).get_schema().get_field_names()
    assert list(names) == ["test_label", *features,
                           *(f"test_output_{i + 1}" for i in range(len(features)))]


@pytest.mark.parametrize(("mode", "cases"), [
    ("numTopFeatures", {"chisq": (2, [0, 1]), "anova": (2, [0, 2]), "fvalue": (2, [0, 2])}),
    ("percentile", {"chisq": (0.17, [0]), "anova": (0.17, [0]), "fvalue": (0.17, [2])}),
    ("fpr", {"chisq": (0.02, [0]), "anova": (1.0e-12, [0]), "fvalue": (0.01, [2])}),
    ("fdr", {"chisq": (0.12, [0]), "anova": (6.0e-12, [0]), "fvalue": (0.03, [2])}),
    ("fwe", {"chisq": (0.12, [0]), "anova": (6.0e-12, [0]), "fvalue": (0.03, [2])}),
], ids=["num_top_features", "percentile", "fpr", "fdr", "fwe"])
def test_univariate_feature_selector_test_fit_transform_with(batch_session, mode, cases):
    """testFitTransformWithNumTopFeatures, ...WithPercentile, ...WithFPR, ...WithFDR,
    ...WithFWE: each test's selection; the chi-squared one's output rows too."""
    for test, (threshold, indices) in cases.items():
        model, table, features = _selector_fit(batch_session, test, selection_mode=mode,
                                               selection_threshold=threshold)
        assert sorted(_selected_indices(model)) == indices, test
        if test == "chisq":
            _assert_selected_output(model, table, features, indices)


def test_univariate_feature_selector_test_save_load_and_predict(batch_session, tmp_path):
    table, features = _labelled_table(batch_session, UFS_ANOVA, DataTypes.INT())
    Pipeline([UnivariateFeatureSelector(features, feature_type="continuous",
                                        label_type="categorical", selection_threshold=1)]
             ).save(tmp_path / "estimator")
    Pipeline.load(tmp_path / "estimator").fit(table).save(tmp_path / "model")
    model = PipelineModel.load(tmp_path / "model")
    assert _selected_indices(model) == [0]
    _assert_selected_output(model, table, features, [0])


def test_univariate_feature_selector_test_equivalent_p_values(batch_session):
    rows = [(0.0, [6.0, 7.0, 0.0, 6.0, 6.0, 6.0]), (1.0, [0.0, 9.0, 6.0, 0.0, 5.0, 0.0]),
            (1.0, [0.0, 9.0, 3.0, 0.0, 5.0, 0.0]), (1.0, [0.0, 9.0, 8.0, 0.0, 6.0, 0.0]),
            (2.0, [8.0, 9.0, 6.0, 8.0, 4.0, 8.0]), (2.0, [8.0, 9.0, 6.0, 8.0, 0.0, 8.0])]
    table, features = _labelled_table(batch_session, rows, DataTypes.DOUBLE())
    model = Pipeline([UnivariateFeatureSelector(
        features, feature_type="categorical", label_type="categorical",
        selection_threshold=4)]).fit(table)
    assert _selected_indices(model) == [0, 3, 5, 1]


def test_univariate_feature_selector_test_get_model_data(batch_session):
    model, _, _ = _selector_fit(batch_session, "anova", selection_threshold=3)
    assert _selected_indices(model) == [0, 2, 1]


# testSetModelData of every fitted stage's class: a new PipelineModel made from the fitted
# one's model data (get_model_data's Table) transforms as the fitted one, to Flink ML's
# expected values
def _through_model_data(session, model: PipelineModel) -> PipelineModel:
    return PipelineModel(None).set_model_data(*model.get_model_data(session))


@pytest.mark.parametrize(("stage_class", "params", "train", "predict", "expected"), [
    (StandardScaler, {}, DENSE_INPUT, DENSE_INPUT, EXPECTED_WITH_STD),
    (MinMaxScaler, {}, TRAIN_DATA, PREDICT_DATA, EXPECTED_DATA),
    (MaxAbsScaler, {}, MAX_ABS_TRAIN, MAX_ABS_PREDICT, MAX_ABS_EXPECTED),
    (RobustScaler, {}, ROBUST_TRAIN, ROBUST_PREDICT, ROBUST_EXPECTED),
    (KBinsDiscretizer, {"num_bins": 3, "strategy": "uniform"}, KBINS_TRAIN, KBINS_TEST,
     KBINS_OUTPUT["uniform"]),
    (VectorIndexer, {"handle_invalid": "keep"}, VECTOR_INDEXER_TRAIN, VECTOR_INDEXER_TEST,
     [[5.0, 3.0], [5.0, 0.0], [5.0, 1.0]]),
], ids=["standard_scaler", "min_max_scaler", "max_abs_scaler", "robust_scaler",
        "k_bins_discretizer", "vector_indexer"])
def test_set_model_data_of_vector_stages(batch_session, stage_class, params, train, predict,
                                         expected):
    fit_on, columns = vector_table(batch_session, "input", train)
    scored, _ = vector_table(batch_session, "input", predict)
    model = Pipeline([stage_class(columns=columns, output_cols=outputs(columns),
                                  **params)]).fit(fit_on)
    got = sorted_rows(_through_model_data(batch_session, model).transform(scored),
                      outputs(columns))
    np.testing.assert_allclose(got, sorted(expected), rtol=0, atol=TOLERANCE)


def test_set_model_data_of_other_stages(batch_session):
    """ImputerTest, IDFTest, StringIndexerTest, OneHotEncoderTest,
    VarianceThresholdSelectorTest, CountVectorizerTest and UnivariateFeatureSelectorTest's
    testSetModelData, through one model of the seven stages."""
    imputed = Pipeline([Imputer(columns=INPUTS, output_cols=OUTPUTS)]).fit(
        _imputer_table(batch_session))
    np.testing.assert_allclose(
        sorted_rows(_through_model_data(batch_session, imputed).transform(
            _imputer_table(batch_session)), OUTPUTS),
        sorted(IMPUTER_EXPECTED["mean"]), rtol=0, atol=EPS)
    idf_table = _idf_table(batch_session)
    idf = Pipeline([IDF(columns=["input"], output_cols=["output"], num_features=4)]).fit(
        idf_table)
    np.testing.assert_allclose(_weighted(_through_model_data(batch_session, idf), idf_table),
                               sorted(IDF_EXPECTED), rtol=0, atol=1e-7)
    train, predict = _indexer_tables(batch_session)
    indexer = Pipeline([_string_indexer(string_order_type="alphabetAsc",
                                        handle_invalid="keep")]).fit(train)
    assert _indexed(_through_model_data(batch_session, indexer), predict) == _expected(
        ALPHABET_ASC)
    one_hot = _through_model_data(batch_session, _one_hot_fitted(batch_session))
    assert _one_hot(one_hot, _index_table(batch_session, [0.0, 1.0, 2.0])) == ONE_HOT_EXPECTED
    train, predict, columns = _variance_tables(batch_session)
    variance = Pipeline([VarianceThresholdSelector(columns=columns, output_col="output",
                                                   variance_threshold=8.0)]).fit(train)
    assert _selected(_through_model_data(batch_session, variance), predict) == \
        VARIANCE_EXPECTED
    counts = _count_table(batch_session)
    vectorizer = Pipeline([CountVectorizer(columns=["input"], output_cols=["output"])]).fit(
        counts)
    assert _sparse_vectors(_through_model_data(batch_session, vectorizer).transform(counts),
                           "output") == _sorted_vectors(COUNT_EXPECTED)
    selector, table, features = _selector_fit(batch_session, "anova", selection_mode="fpr",
                                              selection_threshold=1.0e-12)
    _assert_selected_output(_through_model_data(batch_session, selector), table, features, [0])


def test_model_data_keeps_handle_invalid_skip_and_refuses_other_tables(batch_session):
    """A 'skip' stage still drops the invalid rows after the round trip (two of the three
    rows' f1 are outside the edges); a Table that is not model data is refused."""
    table = _bucketizer_table(batch_session)
    model = Pipeline([Bucketizer(columns=["f1"], output_cols=["o1"],
                                 splits_array=[[-0.5, 0.0, 0.5]],
                                 handle_invalid="skip")]).fit(table)
    data = model.get_model_data(batch_session)[0].to_pandas()
    assert data[["column", "skips_invalid"]].values.tolist() == [["o1", True]]
    assert len(_through_model_data(batch_session, model).transform(table).to_pandas()) == 1
    with pytest.raises(MlsqlError, match="has no 'position' column"):
        PipelineModel(None).set_model_data(table)


# SQLTransformerTest: (id, v1, v2); Flink ML's statements over __THIS__
SQL_INPUT = [(0, 1.0, 3.0), (1, 2.0, 3.0), (2, 2.0, 2.0), (3, 4.0, 2.0)]
SQL_NUMERIC_OUTPUT = {(0, 1.0, 3.0, 4.0, 3.0), (1, 2.0, 3.0, 5.0, 6.0), (2, 2.0, 2.0, 4.0, 4.0),
                      (3, 4.0, 2.0, 6.0, 8.0)}
SUM_AND_PRODUCT = "SELECT *, (v1 + v2) AS v3, (v1 * v2) AS v4 FROM __THIS__"


def _sql_table(session):
    return session.table_env.from_elements(SQL_INPUT, DataTypes.ROW([
        DataTypes.FIELD("id", DataTypes.INT()), DataTypes.FIELD("v1", DataTypes.DOUBLE()),
        DataTypes.FIELD("v2", DataTypes.DOUBLE())]))


def _row_set(table) -> set[tuple]:
    return {tuple(row) for row in table.to_pandas().itertuples(index=False)}


def test_sql_transformer_test_param():
    assert SQLTransformer(statement="SELECT * FROM __THIS__").statement == \
        "SELECT * FROM __THIS__"


def test_sql_transformer_test_invalid_sql_statement():
    with pytest.raises(OptionError, match=re.escape(
            "Parameter statement is given an invalid value SELECT * FROM __THAT__")):
        SQLTransformer(statement="SELECT * FROM __THAT__")


def test_sql_transformer_test_output_schema(batch_session):
    output = SQLTransformer(statement=SUM_AND_PRODUCT).transform(_sql_table(batch_session))[0]
    assert list(output.get_schema().get_field_names()) == ["id", "v1", "v2", "v3", "v4"]


def test_sql_transformer_test_transform_numeric_data(batch_session):
    output = SQLTransformer(statement=SUM_AND_PRODUCT).transform(_sql_table(batch_session))[0]
    assert _row_set(output) == SQL_NUMERIC_OUTPUT


def test_sql_transformer_test_built_in_function(batch_session):
    output = SQLTransformer(statement="SELECT *, SQRT(v1) AS v3 FROM __THIS__").transform(
        _sql_table(batch_session))[0]
    assert _row_set(output) == {(0, 1.0, 3.0, 1.0), (1, 2.0, 3.0, math.sqrt(2.0)),
                                (2, 2.0, 2.0, math.sqrt(2.0)), (3, 4.0, 2.0, 2.0)}


def test_sql_transformer_test_group_by_aggregation(batch_session):
    output = SQLTransformer(statement="SELECT v2, SUM(v1) AS v3 FROM __THIS__ GROUP BY v2") \
        .transform(_sql_table(batch_session))[0]
    assert _row_set(output) == {(3.0, 3.0), (2.0, 6.0)}


def test_sql_transformer_test_window_aggregation(batch_session):
    """Flink ML's table has an event-time column TO_TIMESTAMP_LTZ(id * 1000, 3) with a
    watermark; in a batch job the window TVF reads the timestamp column as it is."""
    table = _sql_table(batch_session).add_columns(
        call_sql("TO_TIMESTAMP_LTZ(id * 1000, 3)").alias("time_ltz"))
    statement = ("SELECT SUM(v1) AS v3 FROM TABLE(TUMBLE(TABLE __THIS__, DESCRIPTOR(time_ltz), "
                 "INTERVAL '10' MINUTES)) GROUP BY window_start, window_end")
    output = SQLTransformer(statement=statement).transform(table)[0]
    assert _row_set(output) == {(9.0,)}


def test_sql_transformer_test_save_load_and_transform(batch_session, tmp_path):
    SQLTransformer(statement=SUM_AND_PRODUCT).save(tmp_path)
    output = SQLTransformer.load(tmp_path).transform(_sql_table(batch_session))[0]
    assert _row_set(output) == SQL_NUMERIC_OUTPUT


def test_sql_transformer_statement_is_refused_in_a_pipeline(batch_session):
    with pytest.raises(OptionError, match="changes the rows: run it on the table before"):
        Pipeline([SQLTransformer(statement=SUM_AND_PRODUCT)]).fit(_sql_table(batch_session))


# SwingTest: (user, item) BIGINT rows
SWING_ROWS = [(0, 10), (0, 11), (0, 12), (1, 13), (1, 12), (2, 10), (2, 11), (2, 12), (3, 13),
              (3, 12), (4, 12), (4, 10), (4, 11), (4, 12), (4, 13)]
SWING_EXPECTED = {10: "11,0.058845768947156235;12,0.058845768947156235",
                  11: "10,0.058845768947156235;12,0.058845768947156235",
                  12: "13,0.09134833828228624;10,0.058845768947156235;11,0.058845768947156235",
                  13: "12,0.09134833828228624"}


def _swing_table(session, rows=SWING_ROWS, item_type=None):
    return session.table_env.from_elements(rows, DataTypes.ROW([
        DataTypes.FIELD("user", DataTypes.BIGINT()),
        DataTypes.FIELD("item", item_type or DataTypes.BIGINT())]))


def _swung(swing, table) -> dict[int, str]:
    frame = swing.transform(table)[0].to_pandas()
    return dict(zip(frame["item"].astype(int), frame["output"], strict=True))


def test_swing_test_param():
    swing = Swing()
    assert (swing.item_col, swing.user_col, swing.k, swing.max_user_num_per_item,
            swing.min_user_behavior, swing.max_user_behavior, swing.alpha1, swing.alpha2,
            swing.beta, swing.seed) == ("item", "user", 100, 1000, 10, 1000, 15, 0, 0.3,
                                        java_string_hash(
                                            "org.apache.flink.ml.recommendation.swing.Swing"))
    swing = Swing("user_1", "item_1", k=20, max_user_num_per_item=500, min_user_behavior=10,
                  max_user_behavior=50, alpha1=5, alpha2=1, beta=0.35, seed=1)
    assert (swing.item_col, swing.user_col, swing.k, swing.max_user_num_per_item,
            swing.min_user_behavior, swing.max_user_behavior, swing.alpha1, swing.alpha2,
            swing.beta, swing.seed) == ("item_1", "user_1", 20, 500, 10, 50, 5, 1, 0.35, 1)


def test_swing_test_input_with_illegal_data_type(batch_session):
    table = _swing_table(batch_session, [(0, "10"), (1, "11"), (2, "")], DataTypes.STRING())
    with pytest.raises(MlsqlError, match=re.escape("The types of user and item must be Long")):
        Swing(min_user_behavior=1).transform(table)


def test_swing_test_input_with_null(batch_session):
    table = _swing_table(batch_session, [(0, 10), (None, 12), (1, 13), (3, 12)])
    with pytest.raises(MlsqlError, match=re.escape(
            "Data of user and item column must not be null.")):
        Swing(min_user_behavior=1).transform(table)


def test_swing_test_output_schema(batch_session):
    output = Swing(output_col="item_score", min_user_behavior=1).transform(
        _swing_table(batch_session))[0]
    assert list(output.get_schema().get_field_names()) == ["item", "item_score"]


def test_swing_test_transform(batch_session):
    assert _swung(Swing(min_user_behavior=2, max_user_behavior=3),
                  _swing_table(batch_session)) == SWING_EXPECTED


def test_swing_test_save_load_and_transform(batch_session, tmp_path):
    Swing(min_user_behavior=2, max_user_behavior=3).save(tmp_path)
    assert _swung(Swing.load(tmp_path), _swing_table(batch_session)) == SWING_EXPECTED


def test_swing_test_sampling_method(batch_session):
    """Sampled down to 2 users per item, two seeds give results of different sizes (Flink ML's
    assertion; the draws are Python's seeded generator's, not Java's)."""
    table = _swing_table(batch_session)
    sizes = [len(_swung(Swing(min_user_behavior=1, max_user_num_per_item=2, **seed), table))
             for seed in ({"seed": 3}, {})]
    assert sizes[0] != sizes[1]
