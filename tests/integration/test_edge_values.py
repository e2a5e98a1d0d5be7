"""NULL, NaN, the infinities, 1e308, -0.0, empty, huge and unicode strings in every column,
through every feature function and through ML_PREDICT on every execution path: a result per
row, as defined (a NaN gives what a NULL gives), never a crashed job."""

from __future__ import annotations

import csv
import math
import re
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from mlsql.jvm.plan import output_expressions
from tests.helpers import MIXED_TYPES, create_csv_table, mixed_rows
from udfs.predictors import load_predictor

pytestmark = pytest.mark.slow

NAN, INF = math.nan, math.inf
LONG = "w" * 100_000
UNICODE = "Ünï 日本 🙂"
# (id, a, b, c, flag); each even id repeats the row before it with NaN where that has NULL.
ROWS = [
    (1, None, None, None, None),
    (2, NAN, NAN, None, None),
    (3, None, 0.25, "x", True),
    (4, NAN, 0.25, "x", True),
    (5, INF, -INF, "", False),
    (6, -INF, INF, LONG, True),
    (7, 1e308, -1e308, UNICODE, False),
    (8, -0.0, 0.0, "y", None),
    (9, 0.5, -0.5, "z", False),
]
NULL_NAN_PAIRS = [(1, 2), (3, 4)]
PATHS = ("udf", "sql", "jvm")
MODELS = {
    "edge_logistic": "'model_type' = 'logistic_reg', 'label' = 'y'",
    "edge_trees": "'model_type' = 'boosted_tree_classifier', 'label' = 'y', 'num_trees' = '10'",
    "edge_kmeans": "'model_type' = 'kmeans', 'num_clusters' = '3'",
    "edge_forest": "'model_type' = 'random_forest_classifier', 'label' = 'y', "
                   "'num_trees' = '5', 'max_depth' = '4'",
}
NOT_ON_THE_JVM = {"edge_forest"}  # scikit-learn's trees have no JVM scorer


def paths_of(model: str) -> tuple[str, ...]:
    return tuple(p for p in PATHS if not (p == "jvm" and model in NOT_ON_THE_JVM))
TRANSFORM_MODEL = "edge_transform"
TRANSFORM = ("ML_STANDARD_SCALER(a) OVER () AS a_std, ML_IMPUTER(a, 'median') OVER () AS a_med, "
             "ML_MIN_MAX_SCALER(a) OVER () AS a_mm, ML_QUANTILE_BUCKETIZE(a, 4) OVER () AS a_q, "
             "ML_LABEL_ENCODER(c) OVER () AS c_code, b, y")


NULL_LITERAL = "\\N"
SCORES_COLUMN = "`__mlsql_scores`"  # the array of the JVM scorer's outputs (mlsql/jvm/plan.py)


def csv_field(value: object) -> str:
    """Flink's CSV format reads NaN and the infinities as Java spells them."""
    if value is None:
        return NULL_LITERAL
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return "NaN" if math.isnan(value) else {INF: "Infinity", -INF: "-Infinity"}.get(
            value, repr(value))
    return str(value)


def create_edge_table(session, directory: Path) -> None:
    path = directory / "edge_rows.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([csv_field(v) for v in row] for row in ROWS)
    session.sql("CREATE TABLE edge_rows (id INT, a DOUBLE, b DOUBLE, c STRING, flag BOOLEAN) "
                f"WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'csv', "
                f"'csv.null-literal' = '{NULL_LITERAL}')")


def missing(x: float | None) -> bool:
    return x is None or math.isnan(x)


@pytest.fixture(scope="module")
def session(batch_session):
    train = mixed_rows(7, 600)
    create_csv_table(batch_session, "edge_train", train, batch_session.data_dir, MIXED_TYPES)
    create_edge_table(batch_session, batch_session.data_dir)
    for name, options in MODELS.items():
        label = ", y" if "'label'" in options else ""
        batch_session.sql(f"CREATE OR REPLACE MODEL {name} WITH ({options}) "
                          f"AS SELECT a, b, c, flag{label} FROM edge_train")
    # The fitted statistics see NaN (where b > 1.5) and NULL (the CSV's empty cells) in `a`.
    batch_session.sql("CREATE TEMPORARY VIEW edge_train_nan AS SELECT CASE WHEN b > 1.5 THEN "
                      "CAST('NaN' AS DOUBLE) ELSE a END AS a, b, c, y FROM edge_train")
    batch_session.sql(f"CREATE OR REPLACE MODEL {TRANSFORM_MODEL} TRANSFORM ({TRANSFORM}) "
                      "WITH ('model_type' = 'logistic_reg', 'label' = 'y') "
                      "AS SELECT a, b, c, y FROM edge_train_nan")
    batch_session.edge_train = train
    return batch_session


def _scored_sql(model: str, path: str, table: str = "edge_rows") -> str:
    score = "CAST(distance AS DOUBLE)" if model == "edge_kmeans" else "probability"
    label = "cluster_id" if model == "edge_kmeans" else "predicted_y"
    return (f"SELECT '{model}' AS model, '{path}' AS path, '{table}' AS source, id, "
            f"CAST({label} AS BIGINT) AS label, {score} AS score FROM ML_PREDICT(TABLE {table}, "
            f"MODEL {model}, MAP['execution', '{path}'])")


@pytest.fixture(scope="module")
def scored(session) -> pd.DataFrame:
    """Every model on every path over the edge rows, in one job; and the UDF over a view whose
    column `b` is a constant NULL (Flink hands the UDF that constant, not a column)."""
    session.sql("CREATE TEMPORARY VIEW edge_null_b AS SELECT id, a, CAST(NULL AS DOUBLE) AS b, "
                "c, flag FROM edge_rows")
    queries = [_scored_sql(m, p) for m in [*MODELS, TRANSFORM_MODEL] for p in paths_of(m)]
    queries.append(_scored_sql("edge_logistic", "udf", "edge_null_b"))
    return session.sql(" UNION ALL ".join(queries))


def _reference(session, model: str, null_b: bool = False) -> pd.DataFrame:
    """The model's outputs computed here from its stored files (udfs/predictors.py)."""
    versions = (session.registry.root / model).glob("v*")
    newest = max(versions, key=lambda path: int(path.name[1:]))
    predictor = load_predictor(str(newest))
    frame = pd.DataFrame(ROWS, columns=["id", "a", "b", "c", "flag"])
    if null_b:
        frame["b"] = None
    columns = [frame[c] for c in ("a", "b", "c", "flag")]
    out = predictor.predict(columns)
    label, score = out.columns[:2]
    return pd.DataFrame({"id": frame["id"], "label": out[label].astype(np.int64),
                         "score": out[score].astype(float)})


@pytest.mark.parametrize(("model", "path"), [(m, p) for m in sorted(MODELS) for p in paths_of(m)])
def test_predict_scores_every_edge_row_as_the_model_defines(session, scored, model, path):
    got = scored[(scored["model"] == model) & (scored["path"] == path)
                 & (scored["source"] == "edge_rows")].sort_values("id")
    _assert_scores(got, _reference(session, model))


def test_udf_takes_a_column_flink_folded_to_a_constant(session, scored):
    got = scored[scored["source"] == "edge_null_b"].sort_values("id")
    _assert_scores(got, _reference(session, "edge_logistic", null_b=True))


def _assert_scores(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert got["id"].tolist() == expected["id"].tolist()
    np.testing.assert_allclose(got["score"].to_numpy(float), expected["score"].to_numpy(),
                               rtol=1e-9, atol=1e-12, equal_nan=True)
    assert got["label"].tolist() == expected["label"].tolist()


@pytest.mark.parametrize("model", [*sorted(MODELS), TRANSFORM_MODEL])
def test_predict_gives_nan_what_it_gives_null(scored, model):
    rows = scored[(scored["model"] == model) & (scored["source"] == "edge_rows")] \
        .set_index(["path", "id"])
    assert len(rows) == len(paths_of(model)) * len(ROWS)
    for path in paths_of(model):
        for null_id, nan_id in NULL_NAN_PAIRS:
            null, nan = rows.loc[(path, null_id)], rows.loc[(path, nan_id)]
            assert null["label"] == nan["label"], (path, null_id)
            assert null["score"] == pytest.approx(nan["score"], rel=1e-12, nan_ok=True)


def test_transform_model_scores_edge_rows_alike_on_every_path(scored):
    rows = scored[(scored["model"] == TRANSFORM_MODEL) & (scored["source"] == "edge_rows")]
    by_path = {p: rows[rows["path"] == p].sort_values("id") for p in PATHS}
    for path in ("sql", "jvm"):
        np.testing.assert_allclose(by_path[path]["score"].to_numpy(float),
                                   by_path["udf"]["score"].to_numpy(float), rtol=1e-9,
                                   equal_nan=True)
        assert by_path[path]["label"].tolist() == by_path["udf"]["label"].tolist()


def _fitted_constants(session) -> dict[str, list[float]]:
    described = session.sql(f"DESCRIBE MODEL {TRANSFORM_MODEL}")
    transform = described[described["section"] == "transform"]
    number = r"-?\d+(?:\.\d+)?(?:E-?\d+)?"
    return {row["name"]: [float(x) for x in re.findall(number, row["value"].split(",", 1)[1])]
            for _, row in transform.iterrows() if "," in row["value"]}


def test_fitted_statistics_leave_nan_out_as_they_leave_null_out(session):
    train = session.edge_train
    a = np.where(train["b"] > 1.5, np.nan, train["a"]).astype(float)
    present = a[~np.isnan(a)]
    assert np.isnan(a).sum() > (train["a"].isna()).sum() > 0  # both kinds of missing
    fitted = _fitted_constants(session)
    np.testing.assert_allclose(fitted["a_std"], [present.mean(), present.std()], rtol=1e-9)
    np.testing.assert_allclose(fitted["a_med"], [np.median(present)], rtol=1e-9)
    np.testing.assert_allclose(fitted["a_mm"], [present.min(), present.max()], rtol=1e-12)
    np.testing.assert_allclose(fitted["a_q"], np.quantile(present, [0.25, 0.5, 0.75]),
                               rtol=1e-9)


# The scalar forms, and each one's definition (README, "Feature functions") on one row.
SCALAR = {
    "imputed": "ML_IMPUTER(a, 7)",
    "standard": "ML_STANDARD_SCALER(a, 1, 2)",
    "standard_null": "ML_STANDARD_SCALER(a, 1, 2) IS NULL",
    "min_max": "ML_MIN_MAX_SCALER(a, -1, 3)",
    "min_max_null": "ML_MIN_MAX_SCALER(a, -1, 3) IS NULL",
    "standard_expr": "ML_STANDARD_SCALER(a, CAST(1 AS DOUBLE), ABS(b))",
    "max_abs": "ML_MAX_ABS_SCALER(b, 2)",
    "robust": "ML_ROBUST_SCALER(b, 1, 0, 2)",
    "bucket": "ML_BUCKETIZE(a, ARRAY[0, 1])",
    "code": "ML_LABEL_ENCODER(c, ARRAY['x', 'y'])",
    "one_hot": "ML_ONE_HOT_ENCODER(c, ARRAY['x', 'y'])",
    "poly": "ML_POLYNOMIAL_EXPANSION(ARRAY[a, b], 2)",
    "l2": "ML_NORMALIZER(ARRAY[a, b])",
    "hashed": "ML_FEATURE_HASHING(ARRAY[c], 4)",
    "tokens": "ML_TOKENIZE(c)",
    "bigrams": "ML_NGRAMS(ML_TOKENIZE(c), 2)",
    "tf": "ML_HASHING_TF(ML_TOKENIZE(c), 4)",
    "tf2": "ML_HASHING_TF(ML_TOKENIZE(c), 2)",
    "idf": "ML_IDF(ML_HASHING_TF(ML_TOKENIZE(c), 2), ARRAY[1, 0], 3)",
}


def _scaled(x: float | None, offset: float, scale: float) -> float | None:
    return None if missing(x) else (x - offset) / scale


def _bucket(x: float | None) -> str:
    if missing(x):
        return "bin_NULL"
    return "bin_1" if x < 0 else "bin_2" if x < 1 else "bin_3"


def _tokens(c: str | None) -> list[str] | None:
    return None if c is None else c.lower().split()


def _expected_scalars(a: float | None, b: float | None, c: str | None) -> dict[str, object]:
    min_max = None if missing(a) else min(max((a + 1) / 4, 0.0), 1.0)
    x, y = (np.float64(np.nan if missing(v) else v) for v in (a, b))
    with np.errstate(all="ignore"):
        norm = np.sqrt(x * x + y * y)
        l2 = [float(v) for v in ([0.0, 0.0] if norm == 0 else [x / norm, y / norm])]
        poly = [float(v) for v in (x, y, x * x, x * y, y * y)]
    return {
        "imputed": 7.0 if missing(a) else a,
        "standard": _scaled(a, 1, 2), "standard_null": missing(a),
        # a parameter that breaks its rule on a row (std > 0) gives that row NULL
        "standard_expr": None if missing(b) or not abs(b) > 0 else _scaled(a, 1, abs(b)),
        "min_max": min_max, "min_max_null": missing(a),
        "max_abs": _scaled(b, 0, 2), "robust": _scaled(b, 1, 2), "bucket": _bucket(a),
        "code": {"x": 1, "y": 2}.get(c, 0),
        "one_hot": [float(c == "x"), float(c == "y"), float(c not in ("x", "y"))],
        "poly": poly, "l2": l2, "tokens": _tokens(c),
    }


@pytest.fixture(scope="module")
def scalars(session) -> pd.DataFrame:
    columns = ", ".join(f"{sql} AS {name}" for name, sql in SCALAR.items())
    return session.sql(f"SELECT id, {columns} FROM edge_rows").sort_values("id") \
        .set_index("id")


def _plain(value: object) -> object:
    """An ARRAY column's value as a list."""
    return list(value) if isinstance(value, np.ndarray | tuple) else value


def _same(got: object, want: object) -> bool:
    got, want = _plain(got), _plain(want)
    if want is None:
        return got is None or (isinstance(got, float) and math.isnan(got))
    if isinstance(want, list):
        got = [] if got is None else list(got)
        return len(got) == len(want) and all(_same(g, w) for g, w in zip(got, want, strict=True))
    if isinstance(want, float):
        return (got is None and math.isnan(want)) or got == pytest.approx(
            want, rel=1e-12, nan_ok=True)
    return got == want


def test_scalar_feature_functions_on_edge_rows(scalars):
    assert scalars.index.tolist() == [row[0] for row in ROWS]
    for i, a, b, c, _ in ROWS:
        for name, want in _expected_scalars(a, b, c).items():
            got = scalars.loc[i, name]
            assert _same(got, want), (i, name, got, want)


def test_text_and_hashing_functions_count_what_they_read(scalars):
    for i, _, _, c, _ in ROWS:
        tokens = _tokens(c)
        row = scalars.loc[i]
        assert sum(row["hashed"]) == (c is not None)
        if tokens is None:
            assert row["tf"] is None and row["bigrams"] is None
            continue
        assert sum(row["tf"]) == len(tokens)
        assert list(row["bigrams"]) == [f"{x} {y}" for x, y in pairwise(tokens)]
        assert sum(row["tf2"]) == len(tokens)
        idf_weights = np.log([(3 + 1) / (1 + 1), (3 + 1) / (0 + 1)])  # ln((N + 1) / (df + 1))
        np.testing.assert_allclose(row["idf"], np.asarray(row["tf2"], float) * idf_weights,
                                   rtol=1e-12)


def test_scalar_functions_give_nan_what_they_give_null(scalars):
    for null_id, nan_id in NULL_NAN_PAIRS:
        for name in SCALAR:
            null, nan = scalars.loc[null_id, name], scalars.loc[nan_id, name]
            assert _same(nan, null), (name, null, nan)


def test_jvm_kmeans_clusters_nan_distances_as_numpy(session):
    """Distances that are all NaN (or NaN first) are cluster 0 and distance NaN, as the UDF's
    argmin and min; the SQL over the JVM scorer's array gave cluster -1."""
    arrays = [[NAN, NAN, NAN], [NAN, 2.0, 1.0], [INF, INF, INF], [3.0, 1.0, 1.0]]
    model = SimpleNamespace(metadata={"outputs": [{"name": "cluster_id", "type": "INT"},
                                                  {"name": "distance", "type": "DOUBLE"}]})
    cluster, distance = output_expressions(model, {"task": "clustering"})
    rows = " UNION ALL ".join(
        f"SELECT {i} AS i, ARRAY[{', '.join(map(csv_sql, values))}] AS {SCORES_COLUMN}"
        for i, values in enumerate(arrays))
    got = session.sql(f"SELECT i, {cluster} AS cluster_id, {distance} AS distance FROM "
                      f"({rows})").sort_values("i")
    distances = np.array(arrays)
    with np.errstate(invalid="ignore"):
        assert got["cluster_id"].tolist() == distances.argmin(axis=1).tolist()
        np.testing.assert_array_equal(got["distance"], distances.min(axis=1))


def csv_sql(x: float) -> str:
    return f"CAST('{csv_field(x)}' AS DOUBLE)"
