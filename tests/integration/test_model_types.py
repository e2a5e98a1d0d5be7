"""The shared per-type suite: every model type's cases (tests/model_cases) through mlsql.

For each case: the bundled dataset split 75/25 (fixed seed) into two Flink tables; CREATE
MODEL on the training one (eval_fraction '0'); one ML_PREDICT job on the test table that
scores the UDF path and, for a compiled case, the compiled-SQL path, for a case the JVM
scorer serves, the JVM path, side by side (each must agree with the UDF within 1e-9); the
metric of mlsql's predictions within the case's tolerance of the reference library's; a
version directory without pickle whose fresh Predictor gives the same outputs; and option
errors (an unknown option, a bad value) refused before any job.
"""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from mlsql.errors import OptionError
from mlsql.models import model_type as find_model_type
from mlsql.models.base import ANOMALY, CLASSIFICATION, CLUSTERING, REGRESSION
from tests.helpers import create_csv_table
from tests.model_cases import all_cases
from tests.model_cases.base import Case
from udfs.predictors import PREDICTOR_FILE, load_predictor

pytestmark = pytest.mark.slow

CASES = all_cases()
SEED = 0
TRAIN_SHARE = 0.75
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


@cache
def dataset(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    loaded = getattr(datasets, f"load_{name}")()
    return np.asarray(loaded.data, dtype=np.float64), np.asarray(loaded.target)


@cache
def split(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training and test rows: a fixed permutation, 75/25."""
    x, _ = dataset(name)
    order = np.random.default_rng(SEED).permutation(len(x))
    cut = round(TRAIN_SHARE * len(x))
    return np.sort(order[:cut]), np.sort(order[cut:])


def feature_names(name: str) -> list[str]:
    return [f"x{i}" for i in range(dataset(name)[0].shape[1])]


def frame(name: str, rows: np.ndarray) -> pd.DataFrame:
    x, y = dataset(name)
    data = {"id": rows.astype(np.int64)}
    data.update({column: x[rows, i] for i, column in enumerate(feature_names(name))})
    data["label"] = y[rows].astype(np.float64 if y.dtype.kind == "f" else np.int64)
    return pd.DataFrame(data)


@pytest.fixture(scope="module")
def session(batch_session):
    """The shared batch session, with each dataset's training and test tables."""
    for name in sorted({case.dataset for case in CASES}):
        train, test = split(name)
        create_csv_table(batch_session, f"mt_{name}_train", frame(name, train),
                         batch_session.data_dir)
        create_csv_table(batch_session, f"mt_{name}_test", frame(name, test),
                         batch_session.data_dir)
    return batch_session


def model_name(case: Case) -> str:
    return "mt_" + "".join(c if c.isalnum() else "_" for c in case.name)


def quoted_options(options: dict[str, str]) -> str:
    return ", ".join(f"'{k}' = '{v}'" for k, v in options.items())


def outputs_of(session, name: str) -> list[dict[str, str]]:
    return session.registry.resolve(name).metadata["outputs"]


def as_double(sql: str, flink_type: str) -> str:
    """An output as DOUBLE, so every model's outputs fit one UNION ALL (the labels of the
    bundled datasets are numbers)."""
    if flink_type.startswith("BOOLEAN"):
        return f"CASE WHEN {sql} THEN 1E0 ELSE 0E0 END"
    return f"CAST({sql} AS DOUBLE)"


def branches(session, case: Case) -> list[str]:
    """The SELECTs (id, model, path, o0, o1) that score the case's test table through the
    UDF and, for a compiled case, through compiled SQL, for a JVM case on the JVM."""
    name = model_name(case)
    outputs = outputs_of(session, name)
    paths = ["udf"] + (["sql"] if case.compiled else []) + (["jvm"] if case.jvm else [])
    selects = []
    for path in paths:
        values = [as_double(f"`{o['name']}`", o["type"]) for o in outputs]
        values += ["CAST(NULL AS DOUBLE)"] * (2 - len(values))
        selects.append(
            f"SELECT id, '{name}' AS model, '{path}' AS path, "
            + ", ".join(f"{v} AS o{i}" for i, v in enumerate(values))
            + f" FROM ML_PREDICT(TABLE mt_{case.dataset}_test, MODEL {name}, "
            f"MAP['execution', '{path}'])")
    return selects


def predictions(session, cases: list[Case]) -> dict[str, dict[str, pd.DataFrame]]:
    """Per case and path ('udf', 'sql', 'jvm'), its outputs (as DOUBLE) by test row in id order:
    every case of one dataset in one job."""
    result = session.sql(" UNION ALL ".join(b for case in cases for b in branches(session, case)))
    scored: dict[str, dict[str, pd.DataFrame]] = {}
    for case in cases:
        name = model_name(case)
        names = [o["name"] for o in outputs_of(session, name)]
        scored[case.name] = {}
        for path, rows in result[result["model"] == name].groupby("path"):
            rows = rows.sort_values("id").reset_index(drop=True)
            frame = rows[["id", *(f"o{i}" for i in range(len(names)))]].copy()
            frame.columns = ["id", *names]
            scored[case.name][path] = frame
    return scored


@pytest.fixture(scope="module")
def selected(request) -> list[Case]:
    """The cases whose test_model_type runs (all, unless -k or an id picks some)."""
    chosen = {item.callspec.params["case"].name for item in request.session.items
              if getattr(item, "originalname", None) == "test_model_type"
              and item.module.__name__ == __name__}
    return [case for case in CASES if case.name in chosen]


@pytest.fixture(scope="module")
def trained(session, selected) -> dict[str, Exception | None]:
    """Each selected case's model, trained once (its error, if training failed)."""
    outcome: dict[str, Exception | None] = {}
    for case in selected:
        model_type = find_model_type(case.model_type)
        supervised = model_type.task in (CLASSIFICATION, REGRESSION)
        options = {"model_type": case.model_type, "eval_fraction": "0", **case.options}
        if supervised:
            options["label"] = "label"
        selected = ", ".join(feature_names(case.dataset) + (["label"] if supervised else []))
        try:
            session.sql(f"CREATE OR REPLACE MODEL {model_name(case)} WITH "
                        f"({quoted_options(options)}) AS SELECT {selected} "
                        f"FROM mt_{case.dataset}_train")
            outcome[case.name] = None
        except Exception as error:  # reported by the case's own test
            outcome[case.name] = error
    return outcome


@pytest.fixture(scope="module")
def scored(session, selected, trained) -> dict[str, dict[str, pd.DataFrame]]:
    """Every trained case's predictions, one job per dataset; where that job fails, one job
    per case, so that the failure lands on its own case."""
    outcome: dict[str, dict[str, pd.DataFrame]] = {}
    for dataset_name in sorted({case.dataset for case in selected}):
        cases = [c for c in selected if c.dataset == dataset_name and trained[c.name] is None]
        if not cases:
            continue
        try:
            outcome.update(predictions(session, cases))
        except Exception:
            for case in cases:
                try:
                    outcome.update(predictions(session, [case]))
                except Exception as error:
                    outcome[case.name] = {"error": error}
    return outcome


def assert_same_outputs(expected: pd.DataFrame, actual: pd.DataFrame, what: str) -> None:
    assert list(expected.columns) == list(actual.columns), what
    assert len(expected) == len(actual), what
    for column in expected.columns:
        left, right = expected[column].to_numpy(), actual[column].to_numpy()
        if left.dtype.kind == "f" or right.dtype.kind == "f":
            np.testing.assert_allclose(right.astype(np.float64), left.astype(np.float64),
                                       rtol=1e-9, atol=1e-9, err_msg=f"{what}: {column}")
        else:
            assert (left == right).all(), f"{what}: {column} differs"


def metric(case: Case, truth: np.ndarray, predicted: np.ndarray,
           reference: np.ndarray) -> tuple[float, float]:
    """(mlsql's metric, the reference's)."""
    from sklearn import metrics

    if case.metric == "accuracy":
        return (metrics.accuracy_score(truth, predicted),
                metrics.accuracy_score(truth, reference))
    if case.metric == "r2_score":
        return metrics.r2_score(truth, predicted), metrics.r2_score(truth, reference)
    if case.metric == "roc_auc":
        positive = truth == truth.max()
        return (metrics.roc_auc_score(positive, predicted),
                metrics.roc_auc_score(positive, reference))
    if case.metric == "adjusted_rand_index":
        return metrics.adjusted_rand_score(reference, predicted), 1.0
    raise AssertionError(f"unknown metric {case.metric!r} in {case.name}")


# What each task's metric reads from the outputs.
PREDICTED = {CLASSIFICATION: "predicted_label", REGRESSION: "predicted_label",
             CLUSTERING: "cluster_id", ANOMALY: "anomaly_score"}


# Metrics every model of a task reports at training (udfs/metrics.py).
TRAINING_METRICS = {CLASSIFICATION: ("accuracy", "log_loss"), REGRESSION: ("r2_score",),
                    CLUSTERING: ("mean_squared_distance",),
                    ANOMALY: ("anomaly_fraction", "mean_anomaly_score")}


def assert_no_pickle(directory) -> None:
    files = [p for p in directory.rglob("*") if p.is_file()]
    assert (directory / PREDICTOR_FILE) in files
    json.loads((directory / PREDICTOR_FILE).read_text())
    for path in files:
        assert path.suffix not in PICKLE_SUFFIXES, f"{path.name} is a pickle"
        head = path.read_bytes()[:2]
        assert not (len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5), \
            f"{path.name} starts like a pickle"
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_model_type(session, trained, scored, case: Case):
    if trained[case.name] is not None:
        raise trained[case.name]
    if "error" in scored[case.name]:
        raise scored[case.name]["error"]
    model_type = find_model_type(case.model_type)
    name = model_name(case)
    features = feature_names(case.dataset)
    x, y = dataset(case.dataset)
    train, test = split(case.dataset)
    udf = scored[case.name]["udf"]
    assert udf["id"].tolist() == test.tolist()
    if case.compiled:
        assert_same_outputs(udf, scored[case.name]["sql"],
                            f"{case.name}: compiled SQL against the UDF")
    if case.jvm:
        assert_same_outputs(udf, scored[case.name]["jvm"],
                            f"{case.name}: the JVM scorer against the UDF")

    reference = np.asarray(case.reference(x[train], y[train], x[test]))
    predicted = udf[PREDICTED[model_type.task]].to_numpy()
    if model_type.task == CLASSIFICATION:
        predicted = np.rint(predicted).astype(y.dtype)
    elif model_type.task == CLUSTERING:
        predicted = predicted.astype(np.int64)
    ours, theirs = metric(case, y[test], predicted, reference)
    paths = " and ".join(["UDF"] + ["compiled SQL"] * case.compiled + ["JVM"] * case.jvm)
    print(f"model-type {case.name}: {case.metric} mlsql {ours:.4f} reference {theirs:.4f} "
          f"({paths})")  # seen with pytest -s
    assert abs(ours - theirs) <= case.tolerance, \
        f"{case.name}: {case.metric} {ours:.4f} against the reference's {theirs:.4f}"

    described = session.sql(f"DESCRIBE MODEL {name}")
    outputs = outputs_of(session, name)
    assert described[described["section"] == "output"]["name"].tolist() == \
        [o["name"] for o in outputs]
    metrics = session.registry.resolve(name).metadata["metrics"]
    assert set(TRAINING_METRICS[model_type.task]) <= set(metrics), metrics
    if model_type.task == ANOMALY:  # the task's metrics through ML_EVALUATE too
        evaluated = session.sql(f"SELECT * FROM ML_EVALUATE(TABLE mt_{case.dataset}_test, "
                                f"MODEL {name})")
        assert set(TRAINING_METRICS[ANOMALY]) <= set(evaluated.columns)
        assert evaluated["anomaly_fraction"].iloc[0] == pytest.approx(udf["is_anomaly"].mean())
        against_label = session.sql(
            f"SELECT * FROM ML_EVALUATE(TABLE mt_{case.dataset}_test, MODEL {name}, "
            "DESCRIPTOR(label))")  # a label the model never saw: how well the score ranks it
        truth = (y[test] == y[test].max()).astype(int)
        assert against_label["roc_auc"].iloc[0] == pytest.approx(
            roc_auc_score(truth, udf["anomaly_score"].to_numpy()), abs=1e-9)
    shown = session.sql("SHOW MODELS")
    assert shown[shown["model"] == name]["model_type"].tolist() == [case.model_type]

    directory = session.registry.resolve(name).path
    assert_no_pickle(directory)
    predictor = load_predictor(str(directory))
    test_rows = frame(case.dataset, test)
    fresh = predictor.predict([test_rows[c] for c in features])
    for output in outputs:
        fresh[output["name"]] = fresh[output["name"]].astype(np.float64)
    fresh.insert(0, "id", test_rows["id"])
    assert_same_outputs(udf, fresh, f"{case.name}: a fresh Predictor against ML_PREDICT")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_option_errors_come_before_any_job(session, case: Case):
    """Against a table that does not exist: the options are refused before Flink is asked."""
    model_type = find_model_type(case.model_type)
    name = model_name(case) + "_refused"
    base = {"model_type": case.model_type}
    if model_type.task in (CLASSIFICATION, REGRESSION):
        base["label"] = "label"
    statement = "CREATE MODEL {} WITH ({}) AS SELECT * FROM mt_no_such_table"
    with pytest.raises(OptionError, match="unknown option 'no_such_option'") as error:
        session.sql(statement.format(name, quoted_options({**base, "no_such_option": "1"})))
    for option in model_type.options:
        assert option.name in str(error.value)
    bad = next(o for o in ("eval_fraction", *(o.name for o in model_type.options))
               if _rejects(model_type, o))
    with pytest.raises(OptionError, match=f"option '{bad}' = 'not-a-value'"):
        session.sql(statement.format(name, quoted_options({**base, bad: "not-a-value"})))
    assert not session.registry.exists(name)


def _rejects(model_type, option_name: str) -> bool:
    from mlsql.training.model_options import COMMON

    option = next(o for o in (*COMMON, *model_type.options) if o.name == option_name)
    try:
        option.parse("not-a-value")
    except ValueError:
        return True
    return False
