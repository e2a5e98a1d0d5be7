"""The model type registry (mlsql.models, udfs.models) and what it serves: options, scorers,
the anomaly task's outputs and metrics, payload-driven feature importance and explanations."""

from __future__ import annotations

import json
import types

import numpy as np
import pytest

import mlsql.models
import udfs.models
from mlsql.errors import OptionError
from mlsql.models import model_type, model_types
from mlsql.models.base import ANOMALY, TIME_SERIES, UNSUPERVISED, ModelType
from mlsql.models.classes import class_codes, known_targets, targets
from mlsql.planner.model_info import feature_importance
from mlsql.training.model_options import parse_options
from tests.model_cases import all_cases
from udfs import features
from udfs.explain import EXPLAINABLE, attributions
from udfs.metrics import evaluate
from udfs.models import scorer, scorers
from udfs.predictors import Predictor

BAD_VALUE = "not-a-value"


def test_every_batch_model_type_has_a_case_in_the_shared_suite():
    """tests/integration/test_model_types.py runs every case: no model type skips it."""
    covered = {case.model_type for case in all_cases()}
    batch = {t.name for t in model_types().values() if t.fit is not None}
    assert batch - covered == set(), "model types without a tests/model_cases Case"
    assert covered - set(model_types()) == set(), "cases of unregistered model types"


def test_every_case_names_a_known_dataset_and_metric():
    for case in all_cases():
        assert case.dataset in ("breast_cancer", "iris", "wine", "diabetes", "digits"), case.name
        assert case.metric in ("accuracy", "r2_score", "roc_auc", "adjusted_rand_index")
    names = [case.name for case in all_cases()]
    assert len(names) == len(set(names)), "two cases with one name: give one an id"


def test_todays_model_types_are_registered():
    registered = model_types()
    for name in ("logistic_reg", "linear_reg", "boosted_tree_classifier",
                 "boosted_tree_regressor", "kmeans", "online_logistic_reg",
                 "online_linear_reg", "online_kmeans"):
        assert isinstance(registered[name], ModelType)
    assert registered["online_kmeans"].fit is None and registered["online_kmeans"].online
    assert registered["online_kmeans"].compile is not None
    assert registered["boosted_tree_classifier"].categorical_encoding == features.ORDINAL


def test_every_model_type_is_consistent():
    for name, found in model_types().items():
        assert name == found.name == name.lower()
        assert found.task in ("classification", "regression", "clustering", ANOMALY,
                              TIME_SERIES)
        # arima_plus: fitted per series by the planner (planner/series_model.py)
        assert found.online or found.fit is not None or found.task == TIME_SERIES, name
        names = [o.name for o in found.options]
        assert len(names) == len(set(names)), f"{name} declares an option twice"


def test_model_type_lookup_is_case_insensitive_and_explains_unknown_names():
    assert model_type("LOGISTIC_REG").name == "logistic_reg"
    with pytest.raises(OptionError, match=r"did you mean 'kmeans'.*one of: .*linear_reg"):
        model_type("kmean")


@pytest.mark.parametrize("name", sorted(model_types()))
def test_unknown_options_name_the_accepted_ones(name):
    found = model_types()[name]
    raw = {"model_type": name, "no_such_option": "1"}
    if found.task not in (*UNSUPERVISED, TIME_SERIES):
        raw["label"] = "y"
    with pytest.raises(OptionError, match="unknown option 'no_such_option'") as error:
        parse_options(raw)
    for option in found.options:
        assert option.name in str(error.value)


@pytest.mark.parametrize("name", sorted(model_types()))
def test_bad_option_values_are_refused_by_name(name):
    found = model_types()[name]
    base = {"model_type": name}
    if found.task not in (*UNSUPERVISED, TIME_SERIES):
        base["label"] = "y"
    _, defaults = parse_options(base)
    for option in found.options:
        try:
            option.parse(BAD_VALUE)
        except ValueError:
            with pytest.raises(OptionError, match=f"option '{option.name}' = '{BAD_VALUE}'"):
                parse_options({**base, option.name: BAD_VALUE})
        assert option.name in defaults


def test_unsupervised_model_types_refuse_a_label():
    for found in model_types().values():
        if found.task in UNSUPERVISED:
            with pytest.raises(OptionError, match="unsupervised"):
                parse_options({"model_type": found.name, "label": "y"})


def test_duplicate_model_type_names_are_an_error(monkeypatch):
    twin = types.ModuleType("mlsql.models.twin")
    twin.MODEL_TYPES = (ModelType("kmeans", "clustering", ()),)
    monkeypatch.setitem(__import__("sys").modules, "mlsql.models.twin", twin)
    discovery = __import__("mlsql.core.discovery", fromlist=["pkgutil"])
    real = discovery.pkgutil.iter_modules

    def with_twin(path):
        return [*real(path), types.SimpleNamespace(name="twin")]

    monkeypatch.setattr(discovery.pkgutil, "iter_modules", with_twin)
    mlsql.models.model_types.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="'kmeans' is declared twice"):
            model_types()
    finally:
        monkeypatch.undo()
        mlsql.models.model_types.cache_clear()
    assert "kmeans" in model_types()


def test_scorers_cover_the_payloads_of_todays_types_and_unknown_ones_are_clear():
    assert {"linear", "logistic", "lightgbm", "kmeans"} <= set(scorers())
    with pytest.raises(ValueError, match=r"no scorer for algorithm 'quantum'.*known: "):
        udfs.models.scorer_class("quantum")


def test_label_helpers():
    classes, codes = class_codes(np.array(["b", "a", "b"], dtype=object))
    assert classes == ["a", "b"] and codes.tolist() == [1, 0, 1]
    held_out = np.array(["a", "c", "b"], dtype=object)
    known = known_targets(held_out, classes)
    assert known.tolist() == [True, False, True]
    assert targets(held_out[known], classes).tolist() == [0, 1]
    assert targets(np.array([1, 2]), None).dtype == np.float64


def _spec(n: int = 3) -> dict:
    frame = __import__("pandas").DataFrame({f"f{i}": np.arange(10.0) * (i + 1)
                                            for i in range(n)})
    return features.fit_spec(frame, {c: features.NUMERIC for c in frame}, features.ONE_HOT,
                             True)


class _MeanScorer:
    """A test-only anomaly scorer: the mean of the encoded features."""

    def __init__(self, payload, directory):
        self.payload = payload

    def scores(self, x):
        return x.mean(axis=1)


@pytest.fixture
def anomaly_scorer(monkeypatch):
    monkeypatch.setitem(scorers(), "test_mean", _MeanScorer)
    yield
    scorers().pop("test_mean", None)


def test_anomaly_outputs_and_metrics(anomaly_scorer, tmp_path):
    payload = {"format": 1, "task": ANOMALY, "algorithm": "test_mean", "threshold": 0.5,
               "features": _spec(), "outputs": [
                   {"name": "anomaly_score", "type": "DOUBLE"},
                   {"name": "is_anomaly", "type": "BOOLEAN"}]}
    predictor = Predictor(payload, str(tmp_path))
    x = np.array([[0.0, 0.0, 0.0], [0.5, 0.5, 0.5], [2.0, 1.0, 0.0], [-1.0, -1.0, -1.0]])
    frame = predictor.output_frame(predictor.scores(x))
    assert frame["anomaly_score"].tolist() == [0.0, 0.5, 1.0, -1.0]
    assert frame["is_anomaly"].tolist() == [False, True, True, False]
    assert frame["is_anomaly"].dtype == bool
    metrics = evaluate(predictor, x, None)
    assert metrics == {"anomaly_fraction": 0.5, "mean_anomaly_score": 0.125}
    labelled = evaluate(predictor, x, np.array([0, 1, 1, 0]))
    assert labelled["roc_auc"] == 1.0
    assert "roc_auc" not in evaluate(predictor, x, np.array([1, 1, 1, 1]))


def test_feature_importance_reads_what_the_payload_records():
    spec = _spec()
    recorded = {"algorithm": "forest", "task": "classification", "features": spec,
                "feature_importance": {"f0": 0.2, "f1": 0.5, "f2": 0.3},
                "feature_importance_type": "impurity"}
    rows = feature_importance(recorded, "")
    assert rows == [("f1", 0.5, "impurity"), ("f2", 0.3, "impurity"), ("f0", 0.2, "impurity")]
    coefficients = {"algorithm": "svm", "task": "classification", "features": spec,
                    "coef": [[1.0, -3.0, 2.0]], "intercept": [0.0]}
    assert [r[0] for r in feature_importance(coefficients, "")] == ["f1", "f2", "f0"]
    with pytest.raises(ValueError, match="no feature importance"):
        feature_importance({"algorithm": "test_mean", "task": ANOMALY, "features": spec}, "")


def test_a_scorer_with_contributions_is_explainable(tmp_path):
    payload = {"format": 1, "task": "regression", "algorithm": "linear", "features": _spec(),
               "coef": [[1.0, 2.0, -1.0]], "intercept": [0.5],
               "outputs": [{"name": "predicted_y", "type": "DOUBLE"}]}
    (tmp_path / "predictor.json").write_text(json.dumps(payload))
    predictor = Predictor(payload, str(tmp_path))
    x = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 0.0]])
    explained = attributions(predictor, x)
    np.testing.assert_allclose(explained.raw_score, predictor.scores(x))
    assert "linear" in EXPLAINABLE and "lightgbm" in EXPLAINABLE
    assert "kmeans" not in EXPLAINABLE and "quantum" not in EXPLAINABLE
    assert scorer(payload, str(tmp_path)).scores(x).tolist() == [2.5, 4.5]


def test_every_distributable_model_type_has_a_distributed_trainer_and_no_other():
    from mlsql.models.option_spec import DISTRIBUTABLE
    from mlsql.training.distributed import trainers

    distributable = {name for name, model_type in model_types().items()
                     if {o.name for o in DISTRIBUTABLE} <= {o.name for o in model_type.options}}
    assert distributable == set(trainers()) == {
        "logistic_reg", "linear_reg", "kmeans", "boosted_tree_classifier",
        "boosted_tree_regressor", "xgboost_classifier", "xgboost_regressor"}
