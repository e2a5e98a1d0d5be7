"""The feature functions and TRANSFORM on real Flink jobs, against numpy and scikit-learn.

Where the semantics differ, the reference is adjusted and the difference stated: min-max
clips to [0, 1] (scikit-learn's clip=True); IDF is Flink ML's ln((n + 1) / (df + 1)), which is
scikit-learn's smooth idf minus 1; hashing is Java's String.hashCode (Flink's HASH_CODE), not
scikit-learn's MurmurHash3, so buckets are checked against that hash.
"""

from __future__ import annotations

import json
import math
import urllib.request

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import (
    KBinsDiscretizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

from mlsql.errors import SchemaError
from mlsql.feature_functions.hashing import bucket_of
from mlsql.models.registry import METADATA_FILE
from mlsql.services.jars.flink_ml_resources import default_stop_words
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow
ROWS = 300
WORDS = ["card", "atm", "online", "shop", "fuel", "night"]


@pytest.fixture(scope="module")
def data(batch_session) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame({
        "id": np.arange(ROWS, dtype=np.int64),
        "amount": rng.gamma(2.0, 40.0, ROWS).round(2),
        "score": rng.normal(3.0, 2.0, ROWS),
        "hour_of_day": rng.integers(0, 24, ROWS).astype(np.int64),
        "merchant": rng.choice(["food", "travel", "tech", "fuel", "rare"], ROWS,
                               p=[0.4, 0.3, 0.2, 0.08, 0.02]),
        "memo": [" ".join(rng.choice(WORDS, rng.integers(1, 5))) for _ in range(ROWS)],
    })
    frame.loc[rng.choice(ROWS, 20, replace=False), "score"] = np.nan
    logit = 0.03 * (frame["amount"] - 80) - 0.2 * (frame["hour_of_day"] < 6) * -8
    frame["is_fraud"] = (rng.random(ROWS) < 1 / (1 + np.exp(-logit + 2))).astype(np.int64)
    create_csv_table(batch_session, "tf_tx", frame, batch_session.data_dir)
    return frame


def _by_id(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("id").reset_index(drop=True)


def test_explicit_scalers_and_encoders_match_references(batch_session, data):
    out = _by_id(batch_session.sql(
        "SELECT id, ML_STANDARD_SCALER(amount, 80, 40) AS z, ML_MIN_MAX_SCALER(amount, 10, 200)"
        " AS mm, ML_MAX_ABS_SCALER(score, 8) AS ma, ML_ROBUST_SCALER(score, 3, 1, 5) AS rb, "
        "ML_BUCKETIZE(hour_of_day, ARRAY[6, 12, 18]) AS b, "
        "ML_LABEL_ENCODER(merchant, ARRAY['food', 'tech']) AS le, "
        "ML_ONE_HOT_ENCODER(merchant, ARRAY['food', 'tech']) AS oh, "
        "ML_IMPUTER(score, -1) AS im FROM tf_tx"))
    x = data["amount"].to_numpy()
    s = data["score"].to_numpy()
    np.testing.assert_allclose(out["z"], (x - 80) / 40, atol=1e-12)
    np.testing.assert_allclose(out["mm"], np.clip((x - 10) / 190, 0, 1), atol=1e-12)
    np.testing.assert_allclose(out["ma"], s / 8, atol=1e-12)  # NaN where score is NULL
    np.testing.assert_allclose(out["rb"], (s - 3) / 4, atol=1e-12)
    expected_bins = ["bin_" + str(k + 1) for k in np.searchsorted([6, 12, 18],
                                                                  data["hour_of_day"], "right")]
    assert out["b"].tolist() == expected_bins
    assert out["le"].tolist() == [{"food": 1, "tech": 2}.get(m, 0) for m in data["merchant"]]
    assert [list(v) for v in out["oh"]] == [
        [float(m == "food"), float(m == "tech"), float(m not in ("food", "tech"))]
        for m in data["merchant"]]
    np.testing.assert_allclose(out["im"], np.where(np.isnan(s), -1, s), atol=1e-12)


def test_explicit_expansions_and_text_match_references(batch_session, data):
    out = _by_id(batch_session.sql(
        "SELECT id, ML_POLYNOMIAL_EXPANSION(ARRAY[amount, hour_of_day], 3) AS poly, "
        "ML_NORMALIZER(ARRAY[amount, hour_of_day, 1]) AS l2, "
        "ML_NORMALIZER(ARRAY[amount, hour_of_day, 1], 1) AS l1, "
        "ML_NORMALIZER(ARRAY[amount, hour_of_day, 1], 'inf') AS linf, "
        "ML_FEATURE_HASHING(ARRAY[merchant, memo], 16) AS fh, "
        "ML_NGRAMS(ML_TOKENIZE(memo), 2) AS bigrams, "
        "ML_STOP_WORDS_REMOVER(ML_TOKENIZE(CONCAT('The ', memo, ' OF it'))) AS content, "
        "ML_HASHING_TF(ML_TOKENIZE(memo), 8) AS tf FROM tf_tx"))
    pair = data[["amount", "hour_of_day"]].to_numpy(dtype=float)
    np.testing.assert_allclose(np.stack(out["poly"]),
                               PolynomialFeatures(3, include_bias=False).fit_transform(pair),
                               rtol=1e-12)
    three = np.column_stack([pair, np.ones(ROWS)])
    for column, norm in (("l2", "l2"), ("l1", "l1"), ("linf", "max")):
        np.testing.assert_allclose(np.stack(out[column]), Normalizer(norm).transform(three),
                                   atol=1e-12)
    hashed = np.zeros((ROWS, 16))
    for i, (m, memo) in enumerate(zip(data["merchant"], data["memo"], strict=True)):
        hashed[i, bucket_of(m, 16)] += 1
        hashed[i, bucket_of(memo, 16)] += 1
    np.testing.assert_array_equal(np.stack(out["fh"]), hashed)
    tokens = [memo.lower().split() for memo in data["memo"]]
    assert [list(v) for v in out["bigrams"]] == [
        [" ".join(t[i : i + 2]) for i in range(len(t) - 1)] for t in tokens]
    english = set(default_stop_words("english"))
    assert [list(v) for v in out["content"]] == [
        [w for w in ["the", *t, "of", "it"] if w not in english] for t in tokens]
    assert {"the", "of", "it"} <= english
    counts = np.zeros((ROWS, 8))
    for i, words in enumerate(tokens):
        for word in words:
            counts[i, bucket_of(word, 8)] += 1
    np.testing.assert_array_equal(np.stack(out["tf"]), counts)


TRANSFORM = """CREATE OR REPLACE MODEL {name}
TRANSFORM (ML_STANDARD_SCALER(amount) OVER () AS amount_z,
           ML_MIN_MAX_SCALER(amount) OVER () AS amount_mm,
           ML_MAX_ABS_SCALER(score) OVER () AS score_ma,
           ML_ROBUST_SCALER(ML_IMPUTER(score, 0)) OVER () AS score_rb,
           ML_IMPUTER(score, 'mean') OVER () AS score_mean,
           ML_IMPUTER(score, 'median') OVER () AS score_median,
           ML_QUANTILE_BUCKETIZE(hour_of_day, 6) OVER () AS hour_bucket,
           ML_ONE_HOT_ENCODER(merchant, 3) OVER () AS merchant,
           ML_LABEL_ENCODER(merchant, 10, 10) OVER () AS merchant_code,
           ML_IMPUTER(merchant, 'most_frequent') OVER () AS merchant_mode,
           ML_IDF(ML_HASHING_TF(ML_TOKENIZE(memo), 4), 4) OVER () AS memo_tfidf,
           is_fraud)
WITH ('model_type' = 'logistic_reg', 'label' = 'is_fraud')
AS SELECT * FROM tf_tx"""


@pytest.fixture(scope="module")
def model(batch_session, data):
    batch_session.sql(TRANSFORM.format(name="tf_model"))
    version_dir = batch_session.registry.resolve("tf_model").path
    return json.loads((version_dir / METADATA_FILE).read_text())


def _constants(metadata: dict, name: str) -> list[float]:
    expression = next(i["expression"] for i in metadata["transform"]["items"]
                      if i["name"] == name)
    inside = expression[expression.index("(") + 1 : expression.rindex(")")]
    numbers = []
    for part in inside.replace("ARRAY[", "").replace("]", "").split(","):
        part = part.strip().strip("()")
        try:
            numbers.append(float(part.replace("E", "e")))
        except ValueError:
            continue
    return numbers


def test_fitted_parameters_match_scikit_learn(model, data):
    x = data[["amount"]].to_numpy()
    s = data[["score"]].to_numpy()
    standard = StandardScaler().fit(x)
    assert _constants(model, "amount_z") == pytest.approx(
        [standard.mean_[0], standard.scale_[0]], rel=1e-12)
    minmax = MinMaxScaler().fit(x)
    assert _constants(model, "amount_mm") == pytest.approx(
        [minmax.data_min_[0], minmax.data_max_[0]], rel=1e-12)
    assert _constants(model, "score_ma") == pytest.approx(
        [MaxAbsScaler().fit(s[~np.isnan(s)].reshape(-1, 1)).max_abs_[0]], rel=1e-12)
    robust = RobustScaler().fit(np.nan_to_num(s, nan=0.0))
    median, q1, q3 = _constants(model, "score_rb")[1:]  # after ML_IMPUTER's 0
    assert median == pytest.approx(robust.center_[0], rel=1e-12)
    assert q3 - q1 == pytest.approx(robust.scale_[0], rel=1e-12)
    for name, strategy in (("score_mean", "mean"), ("score_median", "median")):
        assert _constants(model, name) == pytest.approx(
            [SimpleImputer(strategy=strategy).fit(s).statistics_[0]], rel=1e-12)
    bins = KBinsDiscretizer(n_bins=6, encode="ordinal", strategy="quantile",
                            quantile_method="linear").fit(data[["hour_of_day"]].astype(float))
    assert _constants(model, "hour_bucket") == pytest.approx(bins.bin_edges_[0][1:-1])
    items = {i["name"]: i for i in model["transform"]["items"]}
    top3 = data["merchant"].value_counts().index[:3]
    assert items["merchant"]["expression"] == (
        "ML_ONE_HOT_ENCODER(merchant, ARRAY[" + ", ".join(f"'{v}'" for v in sorted(top3)) + "])")
    assert items["merchant"]["columns"] == ["merchant_1", "merchant_2", "merchant_3",
                                            "merchant_other"]
    frequent = sorted(v for v, c in data["merchant"].value_counts().items() if c >= 10)
    assert items["merchant_code"]["expression"] == (
        "ML_LABEL_ENCODER(merchant, ARRAY[" + ", ".join(f"'{v}'" for v in frequent) + "])")
    mode = SimpleImputer(strategy="most_frequent").fit(data[["merchant"]]).statistics_[0]
    assert items["merchant_mode"]["expression"] == f"ML_IMPUTER(merchant, '{mode}')"
    tf = np.zeros((ROWS, 4))
    for i, memo in enumerate(data["memo"]):
        for word in memo.lower().split():
            tf[i, bucket_of(word, 4)] += 1
    idf = TfidfTransformer(smooth_idf=True, norm=None).fit(tf).idf_ - 1
    frequencies = _constants(model, "memo_tfidf")[1:5]  # after ML_HASHING_TF's 4
    assert np.log((ROWS + 1) / (np.array(frequencies) + 1)) == pytest.approx(idf, rel=1e-12)
    assert [i["name"] for i in model["inputs"]][:2] == ["amount_z", "amount_mm"]
    assert "id" not in [i["name"] for i in model["inputs"]]  # not in TRANSFORM: no feature


def test_scoring_raw_columns_sql_and_udf_agree(batch_session, model):
    query = ("SELECT id, probability, predicted_is_fraud FROM ML_PREDICT(TABLE tf_tx, "
             "MODEL tf_model, MAP['execution', '{}'])")
    compiled = _by_id(batch_session.sql(query.format("sql")))
    udf = _by_id(batch_session.sql(query.format("udf")))
    assert len(compiled) == ROWS
    np.testing.assert_allclose(compiled["probability"], udf["probability"], atol=1e-9)
    assert (compiled["predicted_is_fraud"] == udf["predicted_is_fraud"]).all()
    metrics = batch_session.sql("SELECT * FROM ML_EVALUATE(TABLE tf_tx, MODEL tf_model)")
    assert metrics.loc[0, "rows"] == ROWS and 0 <= metrics.loc[0, "accuracy"] <= 1
    roc = batch_session.sql("SELECT * FROM ML_ROC_CURVE(TABLE tf_tx, MODEL tf_model)")
    assert len(roc) > 2
    explained = batch_session.sql("SELECT * FROM ML_EXPLAIN_PREDICT(TABLE tf_tx, "
                                  "MODEL tf_model, 2)")
    np.testing.assert_allclose(_by_id(explained)["probability"], compiled["probability"],
                               atol=1e-9)


def test_describe_show_create_and_recreate(batch_session, model):
    described = batch_session.sql("DESCRIBE MODEL tf_model")
    transform = described[described["section"] == "transform"]
    assert transform["name"].tolist()[:2] == ["amount_z", "amount_mm"]
    assert transform["value"].iloc[0].startswith("ML_STANDARD_SCALER(amount, ")
    ddl = batch_session.sql("SHOW CREATE MODEL tf_model").loc[0, "statement"]
    assert "TRANSFORM (ML_STANDARD_SCALER(amount) OVER () AS `amount_z`," in ddl
    batch_session.sql(ddl.replace("CREATE MODEL `tf_model`", "CREATE MODEL `tf_again`"))
    query = "SELECT id, probability FROM ML_PREDICT(TABLE tf_tx, MODEL {})"
    first = _by_id(batch_session.sql(query.format("tf_model")))
    again = _by_id(batch_session.sql(query.format("tf_again")))
    np.testing.assert_allclose(first["probability"], again["probability"], atol=1e-9)


def test_a_missing_raw_column_is_an_error_before_any_job(batch_session, model):
    batch_session.sql("CREATE TEMPORARY VIEW tf_no_memo AS SELECT id, amount, score, "
                      "hour_of_day, merchant FROM tf_tx")
    with pytest.raises(SchemaError, match="column 'memo' not found in tf_no_memo; model "
                                          "'tf_model' computes its inputs from it"):
        batch_session.sql("SELECT * FROM ML_PREDICT(TABLE tf_no_memo, MODEL tf_model)")
    with pytest.raises(SchemaError, match="has a TRANSFORM, which reads the raw columns"):
        batch_session.sql("SELECT * FROM ML_PREDICT(TABLE tf_tx, MODEL tf_model, "
                          "DESCRIPTOR(amount))")


def test_a_streaming_job_scores_the_planned_version_with_the_transform(batch_session, model,
                                                                       tmp_path):
    import mlsql

    notes: list[str] = []
    streaming = mlsql.Session(registry=batch_session.registry.root, mode="streaming",
                              progress=lambda message: notes.append(str(message)))
    create_csv_table(streaming, "tf_stream", _by_id(batch_session.sql(
        "SELECT * FROM tf_tx")).head(50), tmp_path)
    scored = _by_id(streaming.sql("SELECT id, probability FROM ML_PREDICT(TABLE tf_stream, "
                                  "MODEL tf_model)"))
    batch = _by_id(batch_session.sql("SELECT id, probability FROM ML_PREDICT(TABLE tf_tx, "
                                     "MODEL tf_model)")).head(50)
    np.testing.assert_allclose(scored["probability"], batch["probability"], atol=1e-9)
    assert any("has a TRANSFORM" in note for note in notes)


def test_compile_refuses_a_stored_transform_with_a_pandas_udf(batch_session, model, tmp_path):
    """tf_model's TRANSFORM holds ML_HASHING_TF, whose UDF job.sql would not define."""
    from mlsql.errors import MlsqlError
    from mlsql.export import compile_job

    with pytest.raises(MlsqlError, match="stored TRANSFORM"):
        compile_job(batch_session, "SELECT * FROM ML_PREDICT(TABLE tf_tx, MODEL tf_model)",
                    tmp_path / "job")
    assert not (tmp_path / "job").exists()


def test_nan_is_missing_as_null_is_in_scoring_and_in_fitting(batch_session):
    """A NaN reads as missing, like NULL: explicit functions give NULL (the imputer its
    value, the bucketizer bin_NULL) and fitted statistics leave it out. Before, Flink's
    planner turned the `x <> x` NaN test into FALSE: ML_IMPUTER passed NaN through, and one
    NaN made the fitted mean NaN (stored as 0.0)."""
    path = batch_session.data_dir / "tf_nan.csv"
    values = [1.0, math.nan, 3.0, None, 10.0, math.nan, 6.0]
    path.write_text("".join(f"{i},{'' if v is None else repr(v).replace('nan', 'NaN')}\n"
                            for i, v in enumerate(values)))
    batch_session.sql(f"CREATE TABLE tf_nan (id BIGINT, x DOUBLE) WITH ('connector' = "
                      f"'filesystem', 'path' = '{path}', 'format' = 'csv', "
                      "'csv.null-literal' = '')")
    out = _by_id(batch_session.sql(
        "SELECT id, ML_IMPUTER(x, 0) AS im, ML_STANDARD_SCALER(x, 1, 2) AS z, "
        "ML_BUCKETIZE(x, ARRAY[2, 5]) AS b FROM tf_nan"))
    assert out["im"].tolist() == [1.0, 0.0, 3.0, 0.0, 10.0, 0.0, 6.0]
    assert [None if pd.isna(v) else v for v in out["z"]] == [0.0, None, 1.0, None, 4.5, None,
                                                             2.5]
    assert out["b"].tolist() == ["bin_1", "bin_NULL", "bin_2", "bin_NULL", "bin_3",
                                 "bin_NULL", "bin_3"]
    batch_session.sql(
        "CREATE OR REPLACE MODEL tf_nan_model TRANSFORM (ML_STANDARD_SCALER(x) OVER () AS z, "
        "ML_MIN_MAX_SCALER(x) OVER () AS mm, ML_IMPUTER(x, 'mean') OVER () AS mean, "
        "ML_IMPUTER(x, 'median') OVER () AS median, "
        "ML_QUANTILE_BUCKETIZE(x, 2) OVER () AS half, id) "
        "WITH ('model_type' = 'boosted_tree_regressor', 'label' = 'id') "
        "AS SELECT id, x FROM tf_nan")
    metadata = json.loads((batch_session.registry.resolve("tf_nan_model").path
                           / METADATA_FILE).read_text())
    present = np.array([1.0, 3.0, 10.0, 6.0])
    assert _constants(metadata, "z") == pytest.approx([present.mean(), present.std()],
                                                      rel=1e-12)
    assert _constants(metadata, "mm") == [1.0, 10.0]
    assert _constants(metadata, "mean") == [5.0]
    assert _constants(metadata, "median") == [4.5]
    assert _constants(metadata, "half") == [4.5]


def test_fitting_runs_one_job_that_reads_the_rows_once(batch_session):
    """Every statistic of a TRANSFORM (aggregates, PERCENTILE, vocabularies) comes from one
    Flink job whose plan scans the training rows once (before: one job for the aggregates and
    one for the vocabularies, each reading the rows); the fitted values are the known ones."""
    from mlsql.feature_functions.calls import parse_expression
    from mlsql.runtime import minicluster
    from mlsql.syntax import ir
    from mlsql.transform.fit import fit_transform

    path = batch_session.data_dir / "tf_once.csv"
    rows = [("a", 1.0, 0), ("b", 2.0, 1), ("a", 3.0, 2), ("c", 4.0, 3), ("a", 5.0, 4),
            ("b", 6.0, 5), ("", 7.0, 6), (None, 8.0, 7)]
    path.write_text("".join(f"{'__null__' if m is None else m},{x},{h}\n" for m, x, h in rows))
    batch_session.sql(f"CREATE TABLE tf_once (m STRING, x DOUBLE, h INT) WITH ('connector' = "
                      f"'filesystem', 'path' = '{path}', 'format' = 'csv', "
                      "'csv.null-literal' = '__null__')")
    start = ir.Position(1, 1)
    items = tuple(ir.TransformItem(text, alias, start, parse_expression(text, fitted_allowed=True))
                  for text, alias in (("ML_STANDARD_SCALER(x) OVER ()", "z"),
                                      ("ML_QUANTILE_BUCKETIZE(h, 4) OVER ()", "hb"),
                                      ("ML_ROBUST_SCALER(x) OVER ()", "rb"),
                                      ("ML_ONE_HOT_ENCODER(m, 2) OVER ()", "mo"),
                                      ("ML_LABEL_ENCODER(m) OVER ()", "ml"),
                                      ("ML_IMPUTER(m, 'most_frequent') OVER ()", "mi"),
                                      ("ML_IDF(ML_HASHING_TF(ML_TOKENIZE(m), 2), 2) OVER ()",
                                       "mt")))

    def jobs() -> int:
        port = minicluster.started_port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/jobs/overview",
                                    timeout=10) as answer:
            return len(json.load(answer)["jobs"])

    query = "SELECT m, x, h FROM tf_once"
    batch_session.sql("SELECT COUNT(*) FROM tf_once")  # the mini-cluster is up
    before = jobs()
    fitted = fit_transform(items, query, start, batch_session.context)
    assert jobs() - before == 1
    expressions = {i["name"]: i["expression"] for i in fitted.document["items"]}
    x = np.arange(1.0, 9.0)
    assert _constants({"transform": fitted.document}, "z") == pytest.approx(
        [x.mean(), x.std()], rel=1e-12)
    assert expressions["hb"] == "ML_BUCKETIZE(h, ARRAY[1.75E0, 3.5E0, 5.25E0])"  # np.quantile
    assert expressions["rb"] == "ML_ROBUST_SCALER(x, 4.5E0, 2.75E0, 6.25E0)"
    assert expressions["mo"] == "ML_ONE_HOT_ENCODER(m, ARRAY['a', 'b'])"  # NULL is no value
    assert expressions["ml"] == "ML_LABEL_ENCODER(m, ARRAY['', 'a', 'b', 'c'])"
    assert expressions["mi"] == "ML_IMPUTER(m, 'a')"
    # document frequencies of the 2 hashed tokens, and the 7 documents (NULL is none)
    assert expressions["mt"] == ("ML_IDF(ML_HASHING_TF(ML_TOKENIZE(m), 2), "
                                 "ARRAY[2.0E0, 4.0E0], 7.0E0)")

    from mlsql.feature_functions.catalog import FUNCTIONS
    from mlsql.feature_functions.render import sql_of
    from mlsql.transform.fit import _fitted_calls, statistics_query

    requests = {}
    for item in items:
        for call in _fitted_calls(item.calls):
            function = FUNCTIONS[call.function]
            options = function.fit_options(call.arguments, call)
            requests[id(call)] = (options, function.requests(
                call.arguments, options, sql_of(batch_session.runtime)))
    plan = batch_session.runtime.t_env.explain_sql(
        statistics_query(requests, query, batch_session.runtime).sql)
    optimized = plan.split("== Optimized Execution Plan ==")[1]
    assert optimized.count("TableSourceScan") == 1, optimized
