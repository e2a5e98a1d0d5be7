"""Online learners whose whole state is a JSON-able dict, so that Flink checkpoints it.

Each learner works on encoded, standardized feature rows (udfs.features) and updates in
mini-batches of `global_batch_size` rows, as Flink ML's online algorithms do:

- `LinearLearner`: logistic (log loss) or linear (squared loss) models, by FTRL-Proximal
  (McMahan et al., 2013: per-coordinate rates `alpha / (beta + sqrt(n))`, L1 and L2) or by
  plain SGD with an L2 penalty. The intercept is an unregularized extra coordinate. A
  regression target is standardized online too, so the rates do not depend on its scale.
- `KMeansLearner`: Flink ML's OnlineKMeans: each mini-batch moves a centroid to the
  weighted mean of its old position (weight times `decay_factor`) and the batch points
  assigned to it.

`rescale` re-expresses a learner for new standardization statistics without changing the
function it computes (the moments of the features move as the stream goes on).
"""

from __future__ import annotations

from typing import Any

import numpy as np

State = dict[str, Any]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


class LinearLearner:
    """state: {"loss", "optimizer", hyper-parameters, "z", "n" (FTRL) or "w" (SGD),
    "y_mean", "y_std", "y_count"} over d features plus the intercept (last)."""

    def __init__(self, state: State) -> None:
        self.state = state

    @classmethod
    def create(cls, dimensions: int, loss: str, options: dict[str, Any]) -> LinearLearner:
        state: State = {
            "loss": loss, "optimizer": options["optimizer"], "alpha": options["alpha"],
            "beta": options["beta"], "l1": options["l1_reg"], "l2": options["l2_reg"],
            "learning_rate": options["learning_rate"],
            "batch": options["global_batch_size"],
            "y_mean": 0.0, "y_m2": 0.0, "y_count": 0}
        if state["optimizer"] == "ftrl":
            state["z"] = [0.0] * (dimensions + 1)
            state["n"] = [0.0] * (dimensions + 1)
        else:
            state["w"] = [0.0] * (dimensions + 1)
        return cls(state)

    def weights(self) -> np.ndarray:
        """Coefficients then intercept, on the standardized features (and target)."""
        s = self.state
        if s["optimizer"] == "sgd":
            return np.asarray(s["w"], dtype=np.float64)
        z, n = np.asarray(s["z"]), np.asarray(s["n"])
        l1 = np.full_like(z, s["l1"])
        l2 = np.full_like(z, s["l2"])
        l1[-1] = l2[-1] = 0.0  # the intercept is not regularized
        w = -(z - np.sign(z) * l1) / ((s["beta"] + np.sqrt(n)) / s["alpha"] + l2)
        return np.where(np.abs(z) <= l1, 0.0, w)

    def set_weights(self, w: np.ndarray) -> None:
        """The optimizer state that yields exactly `w` (a warm start, or a rescale)."""
        s = self.state
        if s["optimizer"] == "sgd":
            s["w"] = w.tolist()
            return
        n = np.asarray(s["n"])
        l1 = np.full_like(w, s["l1"])
        l2 = np.full_like(w, s["l2"])
        l1[-1] = l2[-1] = 0.0
        z = -w * ((s["beta"] + np.sqrt(n)) / s["alpha"] + l2) - np.sign(w) * l1
        s["z"] = z.tolist()

    def target_scale(self) -> tuple[float, float]:
        s = self.state
        std = np.sqrt(s["y_m2"] / s["y_count"]) if s["y_count"] > 1 else 1.0
        return float(s["y_mean"]), float(std if std > 0 else 1.0)

    def warm_start(self, coef: np.ndarray, intercept: float) -> None:
        """Start from a batch-trained model's coefficients (on the same standardization). A
        regression's are in the target's units: they are converted once the first window
        has given the target's moments."""
        if self.state["loss"] == "squared":
            self.state["pending_weights"] = [*coef.tolist(), float(intercept)]
        else:
            self.set_weights(np.append(coef, intercept))

    def update(self, x: np.ndarray, y: np.ndarray) -> None:
        s = self.state
        if s["loss"] == "squared":
            before = self.target_scale() if s["y_count"] else None
            self._observe_target(y)
            mean, std = self.target_scale()
            pending = s.pop("pending_weights", None)
            if pending is not None:  # target units -> standardized target
                w = np.asarray(pending)
                self.set_weights(np.append(w[:-1] / std, (w[-1] - mean) / std))
            elif before is not None:  # same function under the target's new moments
                old_mean, old_std = before
                w = self.weights()
                self.set_weights(np.append(w[:-1] * old_std / std,
                                           (w[-1] * old_std + old_mean - mean) / std))
            y = (y - mean) / std
        ones = np.ones((len(x), 1))
        design = np.hstack([x, ones])
        for start in range(0, len(design), s["batch"]):
            rows, targets = design[start : start + s["batch"]], y[start : start + s["batch"]]
            z = rows @ self.weights()
            residual = (_sigmoid(z) if s["loss"] == "log" else z) - targets
            gradient = rows.T @ residual / len(rows)
            self._step(gradient)

    def _step(self, g: np.ndarray) -> None:
        s = self.state
        if s["optimizer"] == "sgd":
            w = np.asarray(s["w"])
            penalty = s["l2"] * np.append(w[:-1], 0.0)
            s["w"] = (w - s["learning_rate"] * (g + penalty)).tolist()
            return
        w = self.weights()
        n = np.asarray(s["n"])
        sigma = (np.sqrt(n + g * g) - np.sqrt(n)) / s["alpha"]
        s["z"] = (np.asarray(s["z"]) + g - sigma * w).tolist()
        s["n"] = (n + g * g).tolist()

    def _observe_target(self, y: np.ndarray) -> None:
        s = self.state
        count, mean, m2 = _merge_moments(s["y_count"], s["y_mean"], s["y_m2"], y)
        s["y_count"], s["y_mean"], s["y_m2"] = count, mean, m2

    def rescale(self, old_mean: np.ndarray, old_std: np.ndarray, new_mean: np.ndarray,
                new_std: np.ndarray) -> None:
        pending = self.state.get("pending_weights")
        w = np.asarray(pending) if pending is not None else self.weights()
        coef = w[:-1]
        intercept = w[-1] + float(coef @ ((new_mean - old_mean) / old_std))
        rescaled = np.append(coef * new_std / old_std, intercept)
        if pending is not None:
            self.state["pending_weights"] = rescaled.tolist()
        else:
            self.set_weights(rescaled)

    def predictor_fields(self) -> dict[str, Any]:
        """coef / intercept for udfs.predictors, on the standardized features."""
        pending = self.state.get("pending_weights")
        if pending is not None:  # a warm start not yet trained on
            return {"coef": [pending[:-1]], "intercept": [pending[-1]]}
        w = self.weights()
        coef, intercept = w[:-1], w[-1]
        if self.state["loss"] == "squared":
            mean, std = self.target_scale()
            coef, intercept = coef * std, intercept * std + mean
        return {"coef": [coef.tolist()], "intercept": [float(intercept)]}


class KMeansLearner:
    """state: {"k", "decay", "batch", "seed", "centroids" (k x d) or None, "weights"}."""

    def __init__(self, state: State) -> None:
        self.state = state

    @classmethod
    def create(cls, options: dict[str, Any]) -> KMeansLearner:
        return cls({"k": options["num_clusters"], "decay": options["decay_factor"],
                    "batch": options["global_batch_size"], "seed": options["seed"],
                    "centroids": None, "weights": None})

    @property
    def ready(self) -> bool:
        return self.state["centroids"] is not None

    def distances(self, x: np.ndarray) -> np.ndarray:
        centroids = np.asarray(self.state["centroids"])
        return np.sqrt(((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2))

    def update(self, x: np.ndarray) -> None:
        s = self.state
        if not self.ready:
            if len(x) < s["k"]:
                return  # not enough points yet to place every centroid
            chosen = np.random.default_rng(s["seed"]).choice(len(x), s["k"], replace=False)
            s["centroids"] = x[np.sort(chosen)].tolist()
            s["weights"] = [0.0] * s["k"]
        centroids = np.asarray(s["centroids"])
        weights = np.asarray(s["weights"])
        for start in range(0, len(x), s["batch"]):
            rows = x[start : start + s["batch"]]
            nearest = self.distances(rows).argmin(axis=1)
            counts = np.bincount(nearest, minlength=s["k"]).astype(np.float64)
            sums = np.zeros_like(centroids)
            np.add.at(sums, nearest, rows)
            kept = weights * s["decay"]
            total = kept + counts
            moved = total > 0
            centroids[moved] = ((centroids[moved] * kept[moved, None] + sums[moved])
                                / total[moved, None])
            weights = total
        s["centroids"], s["weights"] = centroids.tolist(), weights.tolist()

    def rescale(self, old_mean: np.ndarray, old_std: np.ndarray, new_mean: np.ndarray,
                new_std: np.ndarray) -> None:
        if self.ready:
            centroids = np.asarray(self.state["centroids"])
            self.state["centroids"] = ((centroids * old_std + old_mean - new_mean)
                                       / new_std).tolist()

    def predictor_fields(self) -> dict[str, Any]:
        return {"centroids": self.state["centroids"]}


def _merge_moments(count: int, mean: float | np.ndarray, m2: float | np.ndarray,
                   values: np.ndarray) -> tuple[int, Any, Any]:
    """Chan et al.'s parallel update of (count, mean, sum of squared deviations)."""
    n = len(values)
    if n == 0:
        return count, mean, m2
    batch_mean = values.mean(axis=0)
    batch_m2 = ((values - batch_mean) ** 2).sum(axis=0)
    total = count + n
    delta = batch_mean - mean
    mean = mean + delta * n / total
    m2 = m2 + batch_m2 + delta * delta * count * n / total
    if isinstance(mean, np.ndarray):
        return total, mean, m2
    return total, float(mean), float(m2)


class RunningMoments:
    """Mean and standard deviation of each numeric feature over every row seen so far
    (NULLs left out); Flink ML's OnlineStandardScaler, without its window."""

    def __init__(self, state: State) -> None:
        self.state = state

    @classmethod
    def create(cls, dimensions: int) -> RunningMoments:
        return cls({"count": [0] * dimensions, "mean": [0.0] * dimensions,
                    "m2": [0.0] * dimensions})

    def observe(self, x: np.ndarray) -> None:
        s = self.state
        for j in range(x.shape[1]):
            column = x[:, j]
            column = column[~np.isnan(column)]
            s["count"][j], s["mean"][j], s["m2"][j] = _merge_moments(
                s["count"][j], s["mean"][j], s["m2"][j], column)

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        count = np.asarray(self.state["count"], dtype=np.float64)
        mean = np.asarray(self.state["mean"])
        variance = np.divide(np.asarray(self.state["m2"]), count,
                             out=np.ones_like(mean), where=count > 0)
        std = np.sqrt(variance)
        return mean, np.where(std > 0, std, 1.0)
