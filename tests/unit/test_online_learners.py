"""Online learners (udfs.online.learners) and the per-window trainer (udfs.online.trainer),
on synthetic numpy data: no Flink job runs here."""

import copy
import json

import numpy as np
import pandas as pd
import pytest

from udfs import features, model_store
from udfs.online.learners import KMeansLearner, LinearLearner, RunningMoments
from udfs.online.trainer import (
    OnlinePlan,
    predictor_payload,
    published_windows,
    train_window,
    write_version,
)
from udfs.predictors import Predictor, load_predictor


def _options(**overrides):
    options = {"optimizer": "ftrl", "alpha": 0.5, "beta": 1.0, "l1_reg": 0.0, "l2_reg": 0.0,
               "learning_rate": 0.1, "global_batch_size": 32}
    options.update(overrides)
    return options


def _linear_scores(fields, x):
    """x @ coef + intercept from predictor_fields (a logit, or a regression value)."""
    return x @ np.asarray(fields["coef"][0], dtype=np.float64) + fields["intercept"][0]


def _separable(rng, rows):
    x = rng.normal(size=(rows, 4))
    y = (x @ np.array([2.0, -1.5, 1.0, 0.0]) + 0.3 > 0).astype(np.float64)
    return x, y


# --- LinearLearner -----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["ftrl", "sgd"])
def test_logistic_learns_a_separable_problem(optimizer):
    rng = np.random.default_rng(0)
    learner = LinearLearner.create(4, "log", _options(optimizer=optimizer))
    for _ in range(8):  # 4,000 rows in windows of 500
        learner.update(*_separable(rng, 500))
    x_test, y_test = _separable(rng, 2000)
    fields = learner.predictor_fields()
    accuracy = ((_linear_scores(fields, x_test) > 0) == (y_test == 1)).mean()
    assert accuracy > 0.9
    coef = np.asarray(fields["coef"][0])
    cosine = coef @ [2.0, -1.5, 1.0, 0.0] / np.linalg.norm(coef) / np.linalg.norm(
        [2.0, -1.5, 1.0, 0.0])
    assert cosine > 0.9
    assert fields["intercept"][0] > 0  # the true offset is +0.3


def test_ftrl_l1_zeroes_irrelevant_coefficients():
    rng = np.random.default_rng(1)
    learner = LinearLearner.create(4, "log", _options(l1_reg=2.0))
    for _ in range(8):
        learner.update(*_separable(rng, 500))
    w = learner.weights()
    assert w[3] == 0.0  # the feature the label ignores: exactly zero, not just small
    assert np.all(np.abs(w[:3]) > 0.1)


def test_ftrl_set_weights_round_trip_with_accumulators_and_penalties():
    learner = LinearLearner.create(4, "log", _options(l1_reg=0.3, l2_reg=0.2, alpha=0.7,
                                                      beta=0.5))
    learner.state["n"] = [1.0, 4.0, 9.0, 0.25, 16.0]
    w = np.array([1.5, -2.0, 0.7, -0.45, -0.4])  # the last one is the intercept
    learner.set_weights(w)
    np.testing.assert_allclose(learner.weights(), w, rtol=0, atol=1e-9)
    # z is consistent with the proximal solution: a non-zero weight needs |z| > l1
    z = np.asarray(learner.state["z"])
    assert np.all(np.abs(z[:-1]) > 0.3)
    assert np.all(np.sign(z) == -np.sign(w))

    # ...and also after real updates have grown n, and for zero weights
    rng = np.random.default_rng(2)
    learner.update(*_separable(rng, 300))
    assert min(learner.state["n"]) > 0
    w = np.array([0.0, 3.0, -0.8, 0.0, 0.25])
    learner.set_weights(w)
    np.testing.assert_allclose(learner.weights(), w, rtol=0, atol=1e-9)


def test_sgd_set_weights_round_trip():
    learner = LinearLearner.create(2, "log", _options(optimizer="sgd", l2_reg=0.1))
    w = np.array([0.5, -1.25, 2.0])
    learner.set_weights(w)
    np.testing.assert_array_equal(learner.weights(), w)
    assert learner.state["w"] == w.tolist()


@pytest.mark.parametrize("optimizer", ["ftrl", "sgd"])
def test_log_loss_warm_start_reproduces_coefficients(optimizer):
    learner = LinearLearner.create(3, "log", _options(optimizer=optimizer, l1_reg=0.1,
                                                      l2_reg=0.5))
    coef, intercept = np.array([1.2, -0.6, 0.3]), -0.75
    learner.warm_start(coef, intercept)
    fields = learner.predictor_fields()
    np.testing.assert_allclose(fields["coef"][0], coef, rtol=0, atol=1e-9)
    assert fields["intercept"][0] == pytest.approx(intercept, abs=1e-9)
    json.dumps(learner.state)  # still checkpointable


def _stats():
    old_mean, old_std = np.array([10.0, -3.0, 0.0]), np.array([2.0, 0.5, 1.0])
    new_mean, new_std = np.array([12.5, -2.0, 0.0]), np.array([3.0, 0.4, 1.0])
    return old_mean, old_std, new_mean, new_std


def _raw_points(rng, rows=200):
    return rng.normal(loc=[11.0, -2.5, 0.5], scale=[3.0, 0.6, 0.5], size=(rows, 3))


@pytest.mark.parametrize(("loss", "optimizer", "l1", "l2"), [
    ("log", "ftrl", 0.05, 0.3), ("log", "sgd", 0.0, 0.1), ("squared", "ftrl", 0.0, 0.0)])
def test_linear_rescale_keeps_the_function(loss, optimizer, l1, l2):
    rng = np.random.default_rng(3)
    old_mean, old_std, new_mean, new_std = _stats()
    learner = LinearLearner.create(3, loss, _options(optimizer=optimizer, l1_reg=l1,
                                                     l2_reg=l2))
    raw = _raw_points(rng, 400)
    x_old = (raw - old_mean) / old_std
    target = x_old @ [1.0, -2.0, 0.5] + 0.2
    learner.update(x_old, (target > 0).astype(float) if loss == "log" else 40 * target + 7)
    assert np.count_nonzero(learner.weights()[:-1]) >= 2

    probe = _raw_points(rng)
    before = _linear_scores(learner.predictor_fields(), (probe - old_mean) / old_std)
    learner.rescale(old_mean, old_std, new_mean, new_std)
    after = _linear_scores(learner.predictor_fields(), (probe - new_mean) / new_std)
    np.testing.assert_allclose(after, before, rtol=1e-9, atol=1e-9)


def test_rescale_keeps_a_pending_squared_warm_start():
    """A warm-started regression keeps its batch coefficients (pending_weights) until the
    first update; the features may be re-standardized before that (train_window rescales
    before it updates), and the warm-started function must not change."""
    old_mean, old_std, new_mean, new_std = _stats()
    learner = LinearLearner.create(3, "squared", _options())
    learner.warm_start(np.array([300.0, -50.0, 20.0]), 1000.0)
    probe = _raw_points(np.random.default_rng(4))
    before = _linear_scores(learner.predictor_fields(), (probe - old_mean) / old_std)
    learner.rescale(old_mean, old_std, new_mean, new_std)
    after = _linear_scores(learner.predictor_fields(), (probe - new_mean) / new_std)
    np.testing.assert_allclose(after, before, rtol=1e-9)


@pytest.mark.parametrize("optimizer", ["ftrl", "sgd"])
def test_squared_loss_learns_large_scale_and_offset(optimizer):
    rng = np.random.default_rng(5)

    def window(rows):
        x = rng.normal(size=(rows, 2))
        return x, 1000 + 300 * x[:, 0] - 50 * x[:, 1] + rng.normal(scale=10.0, size=rows)

    learner = LinearLearner.create(2, "squared", _options(optimizer=optimizer))
    for _ in range(10):
        learner.update(*window(500))
    x_test, y_test = window(2000)
    fields = learner.predictor_fields()
    rmse = np.sqrt(np.mean((_linear_scores(fields, x_test) - y_test) ** 2))
    assert rmse < 0.1 * y_test.std()
    np.testing.assert_allclose(fields["coef"][0], [300, -50], atol=15)
    assert fields["intercept"][0] == pytest.approx(1000, abs=15)


def test_squared_warm_start_pending_then_converted():
    coef, intercept = np.array([300.0, -50.0]), 1000.0
    learner = LinearLearner.create(2, "squared", _options())
    learner.warm_start(coef, intercept)
    fields = learner.predictor_fields()
    assert fields == {"coef": [[300.0, -50.0]], "intercept": [1000.0]}
    json.dumps(learner.state)

    rng = np.random.default_rng(6)
    x = rng.normal(size=(500, 2))
    learner.update(x, x @ coef + intercept + rng.normal(scale=5.0, size=500))
    assert "pending_weights" not in learner.state
    probe = rng.normal(size=(300, 2))
    warm = probe @ coef + intercept
    trained = _linear_scores(learner.predictor_fields(), probe)
    assert np.abs(trained - warm).max() < 0.02 * warm.std()
    # the weights now live in standardized target units
    mean, std = learner.target_scale()
    assert mean == pytest.approx(1000, abs=30) and std == pytest.approx(304, rel=0.1)
    assert np.abs(learner.weights()).max() < 2


@pytest.mark.parametrize("optimizer", ["ftrl", "sgd"])
def test_squared_update_on_exactly_fitted_data_keeps_predictions(optimizer):
    """A model that fits the stream exactly has zero residuals, so an update must leave its
    predictions alone, even when the target's running moments move (a new window of the
    same relation with a different feature distribution)."""
    coef, intercept = np.array([300.0, -50.0]), 1000.0
    rng = np.random.default_rng(7)
    probe = rng.normal(size=(200, 2))
    learner = LinearLearner.create(2, "squared", _options(optimizer=optimizer))
    learner.warm_start(coef, intercept)
    x = rng.normal(size=(500, 2))
    learner.update(x, x @ coef + intercept)
    first = _linear_scores(learner.predictor_fields(), probe)
    np.testing.assert_allclose(first, probe @ coef + intercept, rtol=1e-9)
    x = rng.normal(loc=1.0, scale=2.0, size=(500, 2))
    learner.update(x, x @ coef + intercept)
    second = _linear_scores(learner.predictor_fields(), probe)
    np.testing.assert_allclose(second, first, rtol=1e-6)


# --- KMeansLearner -----------------------------------------------------------------------

_CENTRES = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])


def _kmeans(decay, batch=32, k=3):
    return KMeansLearner.create({"num_clusters": k, "decay_factor": decay,
                                 "global_batch_size": batch, "seed": 0})


def test_kmeans_finds_separated_blobs():
    rng = np.random.default_rng(8)
    learner = _kmeans(0.5)
    # exactly k rows: every one becomes a centroid (one per blob after the first updates)
    learner.update(np.array([[5.0, 5.0], [4.0, 6.0], [6.0, 4.0]]))
    assert learner.ready
    for _ in range(6):
        labels = rng.integers(0, 3, size=500)
        learner.update(_CENTRES[labels] + rng.normal(scale=0.5, size=(500, 2)))
    centroids = np.asarray(learner.predictor_fields()["centroids"])
    # each blob centre has exactly one centroid near it
    nearest = np.sqrt(((_CENTRES[:, None, :] - centroids[None]) ** 2).sum(axis=2))
    assert sorted(nearest.argmin(axis=1).tolist()) == [0, 1, 2]
    assert nearest.min(axis=1).max() < 0.3
    json.dumps(learner.state)


def test_kmeans_waits_for_k_rows():
    learner = _kmeans(0.0)
    learner.update(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert not learner.ready and learner.state["centroids"] is None
    learner.update(np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]))
    assert learner.ready


def _two_groups(rng, rows, left, right):
    half = rows // 2
    points = np.vstack([left + rng.normal(scale=0.3, size=(half, 2)),
                        right + rng.normal(scale=0.3, size=(half, 2))])
    return points[rng.permutation(rows)]


def _assigned_mean(points, centroids, cluster):
    distances = ((points[:, None, :] - np.asarray(centroids)[None]) ** 2).sum(axis=2)
    return points[distances.argmin(axis=1) == cluster].mean(axis=0)


def test_kmeans_decay_zero_follows_only_the_latest_mini_batch():
    rng = np.random.default_rng(9)
    learner = _kmeans(0.0, batch=20, k=2)
    learner.state["centroids"] = [[0.0, 0.0], [10.0, 10.0]]
    learner.state["weights"] = [50.0, 50.0]
    points = _two_groups(rng, 60, [1.0, 1.0], [9.0, 9.0])
    learner.update(points)
    last = points[40:]
    for cluster in (0, 1):
        np.testing.assert_allclose(learner.state["centroids"][cluster],
                                   _assigned_mean(last, learner.state["centroids"], cluster),
                                   rtol=1e-12)
    assert sum(learner.state["weights"]) == 20  # the last mini-batch's counts only


def test_kmeans_decay_one_is_the_running_mean_of_assigned_points():
    rng = np.random.default_rng(10)
    learner = _kmeans(1.0, batch=20, k=2)
    learner.state["centroids"] = [[0.0, 0.0], [10.0, 10.0]]
    learner.state["weights"] = [0.0, 0.0]
    first = _two_groups(rng, 60, [1.0, 1.0], [9.0, 9.0])
    second = _two_groups(rng, 40, [-1.0, 2.0], [8.0, 11.0])
    learner.update(first)
    learner.update(second)
    seen = np.vstack([first, second])
    for cluster in (0, 1):
        np.testing.assert_allclose(learner.state["centroids"][cluster],
                                   _assigned_mean(seen, learner.state["centroids"], cluster),
                                   rtol=1e-12)
    assert learner.state["weights"] == [50.0, 50.0]


def test_kmeans_partial_decay_weights_the_old_position():
    learner = _kmeans(0.5, batch=100, k=2)
    learner.state["centroids"] = [[0.0, 0.0], [10.0, 10.0]]
    learner.state["weights"] = [4.0, 6.0]
    points = np.array([[1.0, 1.0], [3.0, 1.0], [9.0, 9.0]])
    learner.update(points)
    # centroid 0: (0 * 2 + (1 + 3)) / (2 + 2); centroid 1: (10 * 3 + 9) / (3 + 1)
    np.testing.assert_allclose(learner.state["centroids"], [[1.0, 0.5], [9.75, 9.75]])
    assert learner.state["weights"] == [4.0, 4.0]


def test_kmeans_rescale_keeps_raw_centroids():
    old_mean, old_std, new_mean, new_std = _stats()
    learner = _kmeans(0.0, k=3)
    raw = np.array([[10.0, -3.0, 0.0], [14.0, -2.0, 1.0], [8.0, -3.5, -1.0]])
    learner.state["centroids"] = ((raw - old_mean) / old_std).tolist()
    learner.state["weights"] = [1.0, 1.0, 1.0]
    learner.rescale(old_mean, old_std, new_mean, new_std)
    np.testing.assert_allclose(np.asarray(learner.state["centroids"]) * new_std + new_mean,
                               raw, rtol=1e-12, atol=1e-12)

    # with one scale for every column, distances only shrink and keep their order
    learner.state["centroids"] = ((raw - old_mean) / 2.0).tolist()
    probe = _raw_points(np.random.default_rng(11))
    before = learner.distances((probe - old_mean) / 2.0)
    learner.rescale(old_mean, np.full(3, 2.0), new_mean, np.full(3, 5.0))
    after = learner.distances((probe - new_mean) / 5.0)
    np.testing.assert_allclose(after, before * 2.0 / 5.0, rtol=1e-9)
    assert (after.argmin(axis=1) == before.argmin(axis=1)).all()


def test_kmeans_rescale_before_ready_is_a_no_op():
    learner = _kmeans(0.0)
    learner.rescale(*_stats())
    assert learner.state["centroids"] is None


# --- RunningMoments ----------------------------------------------------------------------


def test_running_moments_match_numpy_over_chunks_with_nans():
    rng = np.random.default_rng(12)
    data = rng.normal(loc=[5.0, -100.0, 0.0], scale=[2.0, 30.0, 1e-3], size=(1000, 3))
    data[rng.random(data.shape) < 0.15] = np.nan
    data[100:200, 0] = np.nan  # a chunk with no value at all in one column
    moments = RunningMoments.create(3)
    for bounds in [(0, 7), (7, 7), (7, 100), (100, 200), (200, 201), (201, 1000)]:
        moments.observe(data[slice(*bounds)])
    mean, std = moments.mean_std()
    np.testing.assert_allclose(mean, np.nanmean(data, axis=0), rtol=1e-12)
    np.testing.assert_allclose(std, np.nanstd(data, axis=0), rtol=1e-9)
    assert moments.state["count"] == np.sum(~np.isnan(data), axis=0).tolist()
    assert json.loads(json.dumps(moments.state)) == moments.state


def test_running_moments_without_values_are_neutral():
    moments = RunningMoments.create(2)
    moments.observe(np.array([[np.nan, 3.0], [np.nan, 3.0]]))
    mean, std = moments.mean_std()
    np.testing.assert_array_equal(mean, [0.0, 3.0])
    np.testing.assert_array_equal(std, [1.0, 1.0])  # no spread: std 1, not 0


# --- train_window, write_version, published_windows --------------------------------------

_OUTPUTS = [{"name": "predicted_y", "type": "BIGINT"}, {"name": "probability", "type": "DOUBLE"}]


def _plan(registry="unused", task="classification", options=None, **kwargs):
    return OnlinePlan(
        registry=str(registry), model="m", task=task,
        feature_kinds=(("amount", "numeric"), ("kind", "categorical")),
        options=options or _options(alpha=0.5, l2_reg=0.01),
        outputs=kwargs.pop("outputs", _OUTPUTS),
        classes=kwargs.pop("classes", [0, 1]),
        metadata={"name": "m", "inputs": [{"name": "amount", "type": "DOUBLE"},
                                          {"name": "kind", "type": "STRING"}],
                  "outputs": _OUTPUTS},
        stream_id="stream-1", **kwargs)


def _window(rng, rows, junk=0):
    """(amount, kind, y) rows: y depends on the amount (raw scale ~100) and on kind."""
    amount = rng.normal(loc=100.0, scale=20.0, size=rows)
    kind = rng.choice(["a", "b", "c"], size=rows)
    logit = (amount - 100.0) / 5.0 + np.where(kind == "a", 3.0, 0.0) - 1.0
    y = (logit + rng.logistic(scale=0.3, size=rows) > 0).astype(int)
    out = [(float(a), str(k), int(v)) for a, k, v in zip(amount, kind, y, strict=True)]
    out[5] = (np.nan, out[5][1], out[5][2])  # a NULL feature: imputed, row kept
    for i in range(junk):  # labels that are not a class: ignored
        out.append((float(amount[i]), "a", None if i % 2 else 2))
    return out


def _windows(count, rows=400, junk=0, seed=13):
    rng = np.random.default_rng(seed)
    return [(f"2024-01-01 00:{i:02d}:00", f"2024-01-01 00:{i + 1:02d}:00",
             _window(rng, rows, junk)) for i in range(count)]


def _train(plan, windows, state=None):
    states = []
    state = {} if state is None else state
    for start, end, rows in windows:
        state = train_window(plan, copy.deepcopy(state), start, end, rows)
        states.append(copy.deepcopy(state))
    return states


def test_train_window_prequential_metrics_and_counters():
    plan = _plan()
    windows = _windows(5)
    states = _train(plan, windows)
    assert states[0]["metrics"] == {}
    for i, state in enumerate(states):
        assert state["updates"] == i + 1
        assert state["window_rows"] == 400
        assert state["rows_total"] == 400 * (i + 1)
        assert state["last_window_end"] == windows[i][1]
        assert state["window_start"] == windows[i][0]
        assert state["stream"] == "stream-1"
    for state in states[1:]:
        assert state["metrics"]["accuracy"] > 0.85
        assert {"roc_auc", "log_loss", "f1_score"} <= set(state["metrics"])
    assert states[-1]["metrics"]["roc_auc"] > 0.95
    spec = states[-1]["spec"]
    assert spec["columns"][1]["categories"] == ["a", "b", "c"]
    # the encoding follows the running moments of the amount (NULLs left out)
    amounts = np.array([r[0] for _, _, rows in windows for r in rows])
    assert spec["columns"][0]["mean"] == pytest.approx(np.nanmean(amounts), rel=1e-12)
    assert spec["columns"][0]["std"] == pytest.approx(np.nanstd(amounts), rel=1e-9)


def test_prequential_metrics_score_the_model_before_the_update():
    plan = _plan()
    windows = _windows(3)
    states = _train(plan, windows)
    predictor = Predictor(predictor_payload(plan, states[1]), "")
    rows = windows[2][2]
    out = predictor.predict([pd.Series([r[0] for r in rows]), pd.Series([r[1] for r in rows])])
    accuracy = (out["predicted_y"].to_numpy() == np.array([r[2] for r in rows])).mean()
    assert states[2]["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-12)


def test_train_window_ignores_rows_without_a_class_label():
    plan = _plan()
    clean = _train(plan, _windows(3, junk=0))
    noisy = _train(plan, _windows(3, junk=50))
    assert noisy[-1]["rows_total"] == 1200 and noisy[-1]["window_rows"] == 400
    assert json.dumps(noisy[-1], sort_keys=True) == json.dumps(clean[-1], sort_keys=True)


def test_train_window_state_is_json_and_deterministic():
    plan = _plan()
    windows = _windows(4)
    states = _train(plan, windows[:3])
    text = json.dumps(states[-1])
    assert json.loads(text) == states[-1]
    start, end, rows = windows[3]
    in_memory = train_window(plan, copy.deepcopy(states[-1]), start, end, rows)
    restored = train_window(plan, json.loads(text), start, end, rows)
    again = train_window(plan, json.loads(text), start, end, rows)
    assert json.dumps(restored) == json.dumps(again) == json.dumps(in_memory)
    assert json.loads(json.dumps(restored)) == restored


def test_train_window_sgd_and_ftrl_options_are_honoured():
    windows = _windows(2)
    ftrl = _train(_plan(), windows)[-1]
    sgd = _train(_plan(options=_options(optimizer="sgd", learning_rate=0.5)), windows)[-1]
    assert {"z", "n"} <= set(ftrl["learner_state"]) and "w" not in ftrl["learner_state"]
    assert "w" in sgd["learner_state"] and "z" not in sgd["learner_state"]
    assert sgd["learner_state"]["batch"] == 32
    assert len(sgd["learner_state"]["w"]) == 5  # amount, kind=a, kind=b, kind=c, intercept


def test_train_window_regression_with_raw_scale_target():
    rng = np.random.default_rng(14)
    plan = _plan(task="regression", classes=None,
                 outputs=[{"name": "predicted_y", "type": "DOUBLE"}])
    windows = []
    for i in range(6):
        amount = rng.normal(loc=100.0, scale=20.0, size=300)
        kind = rng.choice(["a", "b"], size=300)
        y = 5000 + 40 * amount + np.where(kind == "a", 700, 0) + rng.normal(scale=20, size=300)
        rows = [(float(a), str(k), float(v)) for a, k, v in zip(amount, kind, y, strict=True)]
        rows += [(1.0, "a", None), (2.0, "b", float("nan"))]  # no usable target: ignored
        windows.append((f"w{i}", f"w{i + 1}", rows))
    states = _train(plan, windows)
    assert states[-1]["rows_total"] == 1800
    assert states[0]["metrics"] == {}
    y_std = 40 * 20  # about the target's spread
    assert states[-1]["metrics"]["root_mean_squared_error"] < 0.15 * y_std
    assert states[-1]["metrics"]["r2_score"] > 0.95


def test_warm_started_regression_keeps_its_function_through_the_first_window():
    """The initial state mlsql.streaming.online._warm_started builds: the batch model's
    encoding and moments (of `seen` rows), its coefficients pending. The stream's amounts sit
    higher than the batch's, so the first window moves the moments (and re-standardizes)
    before the pending coefficients are converted; on rows that follow the batch model
    exactly, the first version must still compute the batch model's function."""
    seen, coef, intercept = 1000, np.array([800.0, 700.0, 0.0]), 9000.0
    spec = {"columns": [{"name": "amount", "kind": "numeric", "mean": 100.0, "std": 20.0},
                        {"name": "kind", "kind": "categorical", "categories": ["a", "b"]}],
            "encoding": features.ONE_HOT, "standardize": True}

    def batch_model(amount, kind):
        return intercept + coef[0] * (amount - 100.0) / 20.0 + np.where(kind == "a", 700, 0)

    options = _options()
    learner = LinearLearner.create(3, "squared", options)
    learner.warm_start(coef, intercept)
    state = {"stream": "stream-1", "spec": spec,
             "moments": {"count": [seen], "mean": [100.0], "m2": [20.0 ** 2 * seen]},
             "learner_state": learner.state, "updates": 0, "rows_total": 0, "warm": True}
    plan = _plan(task="regression", classes=None, options=options,
                 outputs=[{"name": "predicted_y", "type": "DOUBLE"}],
                 initial_state=json.loads(json.dumps(state)))

    rng = np.random.default_rng(16)
    amount = rng.normal(loc=130.0, scale=30.0, size=300)
    kind = rng.choice(["a", "b"], size=300)
    rows = [(float(a), str(k), float(v)) for a, k, v in
            zip(amount, kind, batch_model(amount, kind), strict=True)]
    after = train_window(plan, copy.deepcopy(plan.initial_state), "w0", "w1", rows)
    # prequential metrics of the warm start itself (before any update): an exact fit
    assert after["metrics"]["root_mean_squared_error"] < 1e-6
    assert after["spec"]["columns"][0]["mean"] == pytest.approx(
        (seen * 100.0 + amount.sum()) / (seen + 300), rel=1e-12)

    probe_amount = np.array([60.0, 100.0, 150.0, 200.0])
    probe_kind = np.array(["a", "b", "a", "b"])
    out = Predictor(predictor_payload(plan, after), "").predict(
        [pd.Series(probe_amount), pd.Series(probe_kind)])
    np.testing.assert_allclose(out["predicted_y"].to_numpy(),
                               batch_model(probe_amount, probe_kind), rtol=1e-9)


def test_train_window_clustering():
    rng = np.random.default_rng(15)
    options = {"num_clusters": 2, "decay_factor": 0.0, "global_batch_size": 64, "seed": 1}
    plan = _plan(task="clustering", classes=None, options=options,
                 outputs=[{"name": "cluster_id", "type": "INT"},
                          {"name": "distance", "type": "DOUBLE"}])
    windows = []
    for i in range(3):
        group = rng.integers(0, 2, size=300)
        amount = np.where(group == 0, 50.0, 150.0) + rng.normal(scale=5.0, size=300)
        kind = np.where(group == 0, "a", "b")
        windows.append((f"w{i}", f"w{i + 1}",
                        [(float(a), str(k)) for a, k in zip(amount, kind, strict=True)]))
    states = _train(plan, windows)
    assert states[0]["metrics"] == {} and "mean_squared_distance" in states[-1]["metrics"]
    predictor = Predictor(predictor_payload(plan, states[-1]), "")
    out = predictor.predict([pd.Series([48.0, 152.0]), pd.Series(["a", "b"])])
    assert out["cluster_id"].nunique() == 2


def test_write_version_publish_load_and_published_windows(tmp_path):
    registry = tmp_path / "registry"
    registry.mkdir()
    plan = _plan(registry=registry)
    windows = _windows(2)
    states = _train(plan, windows)
    for state in states:
        staged = model_store.staging_dir(registry)
        write_version(plan, state, staged)
        model_store.publish(registry, "m", staged)
    model_dir = registry / "m"
    assert model_store.versions(model_dir) == [1, 2]
    # a version no online stream wrote, and one whose metadata is unreadable: left out
    for number, text in ((3, json.dumps({"name": "m", "version": 3})), (4, "{not json")):
        (model_dir / f"v{number}").mkdir()
        (model_dir / f"v{number}" / model_store.METADATA_FILE).write_text(text)
    assert published_windows(model_dir) == {("stream-1", windows[0][1]): 1,
                                            ("stream-1", windows[1][1]): 2}
    assert published_windows(tmp_path / "missing") == {}

    meta = json.loads((model_dir / "v2" / model_store.METADATA_FILE).read_text())
    assert meta["name"] == "m" and meta["version"] == 2
    assert meta["metrics_on"] == "prequential"
    assert meta["metrics"] == states[1]["metrics"]
    assert meta["rows"] == {"window": 400, "total": 800}
    assert meta["online"] == {"stream": "stream-1", "update": 2,
                              "window_start": windows[1][0], "window_end": windows[1][1]}

    predictor = load_predictor(str(model_dir / "v2"))
    amount = pd.Series([60.0, 140.0, np.nan, 100.0])
    kind = pd.Series(["b", "b", "a", "zzz"])
    out = predictor.predict([amount, kind])
    assert list(out.columns) == ["predicted_y", "probability"]
    assert out["predicted_y"].dtype == np.int64
    assert out["predicted_y"].tolist()[:2] == [0, 1]
    x = features.encode(states[1]["spec"], [amount, kind])
    fields = LinearLearner(states[1]["learner_state"]).predictor_fields()
    expected = 1.0 / (1.0 + np.exp(-_linear_scores(fields, x)))
    np.testing.assert_allclose(out["probability"].to_numpy(), expected, rtol=1e-12)
