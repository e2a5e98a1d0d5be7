"""The aggregate function at the end of an online-training job.

Flink closes each event-time window (TUMBLE over the training query) and hands this function
one row per window: its bounds and the window's rows (ARRAY_AGG). The function folds the
windows, in order, into one accumulator that holds the whole model state as JSON, so Flink's
checkpoints carry it and a restored job continues from its last update. For each window it

1. scores the window with the model as it stands (prequential evaluation),
2. updates the feature moments, then the learner, on the window's rows,
3. publishes the result as the model's next registry version.

Publication is idempotent: after a restore, Flink replays the windows since the checkpoint;
a window this stream has already published is found in the registry and not published again.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pyflink.common import Row
from pyflink.table import DataTypes
from pyflink.table.udf import AggregateFunction

from udfs import features, model_store
from udfs.metrics import evaluate
from udfs.online.learners import KMeansLearner, LinearLearner, RunningMoments
from udfs.predictors import PREDICTOR_FILE, Predictor

CLASSIFICATION, REGRESSION, CLUSTERING = "classification", "regression", "clustering"
_ALGORITHMS = {CLASSIFICATION: "logistic", REGRESSION: "linear", CLUSTERING: "kmeans"}


@dataclass(frozen=True)
class OnlinePlan:
    """Everything the workers need, fixed when CREATE MODEL is planned."""

    registry: str
    model: str
    task: str
    feature_kinds: tuple[tuple[str, str], ...]  # (name, numeric|categorical), in order
    options: dict[str, Any]
    outputs: list[dict[str, str]]
    classes: list[Any] | None  # classification: the two label values, negative first
    metadata: dict[str, Any]  # the catalog facts every version shares
    stream_id: str
    initial_state: dict[str, Any] = field(default_factory=dict)  # a warm start, or nothing


class OnlineTrainer(AggregateFunction):
    def __init__(self, plan: OnlinePlan) -> None:
        self.plan = plan
        self._published: dict[tuple[str, str], int] | None = None

    def create_accumulator(self) -> Row:
        return Row(json.dumps(self.plan.initial_state))

    def accumulate(self, accumulator: Row, window_start, window_end, rows) -> None:
        state = json.loads(accumulator[0])
        if state.get("last_window_end") is not None and str(window_end) <= state[
                "last_window_end"]:
            return  # a window folded in already
        state = train_window(self.plan, state, str(window_start), str(window_end), rows)
        if _ready(self.plan, state):  # k-means places its centroids once it has k rows
            state["version"] = self._publish(state)
        accumulator[0] = json.dumps(state)

    def get_value(self, accumulator: Row) -> int | None:
        return json.loads(accumulator[0]).get("version")

    def get_accumulator_type(self):
        return DataTypes.ROW([DataTypes.FIELD("state", DataTypes.STRING())])

    def get_result_type(self):
        return DataTypes.BIGINT()

    def _publish(self, state: dict[str, Any]) -> int:
        key = (state["stream"], state["last_window_end"])
        if self._published is None:
            self._published = published_windows(Path(self.plan.registry) / self.plan.model)
        if key in self._published:
            return self._published[key]
        root = Path(self.plan.registry)
        staged = model_store.staging_dir(root)
        try:
            write_version(self.plan, state, staged)
            version = model_store.publish(root, self.plan.model, staged)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        self._published[key] = version
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in state["metrics"].items()
                            if k in ("accuracy", "roc_auc", "root_mean_squared_error",
                                     "mean_squared_distance"))
        # No flush=: PyFlink's workers on a cluster replace print() with one that does not
        # take it (a TypeError that failed every update); stderr is line-buffered anyway.
        print(f"mlsql: published {self.plan.model} version {version} (window ending "
              f"{state['last_window_end']}, {state['window_rows']:,} rows"
              f"{'; prequential ' + metrics if metrics else ''})", file=sys.stderr)
        return version

    def __getstate__(self) -> dict:
        return {"plan": self.plan, "_published": None}


def published_windows(model_dir: Path) -> dict[tuple[str, str], int]:
    """(stream id, window end) -> version, for every version an online stream published."""
    found = {}
    for version in model_store.versions(model_dir):
        try:
            meta = json.loads((model_dir / f"v{version}" / model_store.METADATA_FILE)
                              .read_text())
        except (OSError, ValueError):
            continue
        online = meta.get("online")
        if online:
            found[(online["stream"], online["window_end"])] = version
    return found


def train_window(plan: OnlinePlan, state: dict[str, Any], window_start: str, window_end: str,
                 rows: list) -> dict[str, Any]:
    """The state after one window: prequential metrics of the state before, then updated."""
    names = [name for name, _ in plan.feature_kinds]
    labelled = plan.task != CLUSTERING
    frame = pd.DataFrame([tuple(r) for r in rows],
                         columns=names + (["__label"] if labelled else []))
    y_values, frame = _labels(plan, frame)
    if not state.get("spec"):
        state = _fresh_state(plan, frame)
    spec = state["spec"]
    columns = [frame[name] for name in names]

    metrics: dict[str, float] = {}
    if (state["updates"] > 0 or state.get("warm")) and len(frame) and _ready(plan, state):
        x_before = features.encode(spec, columns)
        metrics = evaluate(Predictor(predictor_payload(plan, state), ""), x_before,
                           y_values if labelled else None)

    learner = _learner(plan, state)
    moments = RunningMoments(state["moments"])
    old_mean, old_std = _encoded_scale(spec)
    numeric = [frame[c["name"]].to_numpy(np.float64, na_value=np.nan)
               for c in spec["columns"] if c["kind"] == features.NUMERIC]
    if numeric:
        moments.observe(np.column_stack(numeric))
    mean, std = moments.mean_std()
    numeric_columns = [c for c in spec["columns"] if c["kind"] == features.NUMERIC]
    for column, m, s in zip(numeric_columns, mean, std, strict=True):
        column["mean"], column["std"] = float(m), float(s)
    new_mean, new_std = _encoded_scale(spec)
    learner.rescale(old_mean, old_std, new_mean, new_std)

    x = features.encode(spec, columns)
    if plan.task == CLUSTERING:
        learner.update(x)
    elif len(x):
        learner.update(x, _targets(plan, y_values))
    state.update(learner_state=learner.state, updates=state["updates"] + 1,
                 rows_total=state["rows_total"] + len(frame), window_rows=len(frame),
                 window_start=window_start, last_window_end=window_end, metrics=metrics)
    return state


def write_version(plan: OnlinePlan, state: dict[str, Any], directory: Path) -> None:
    (directory / PREDICTOR_FILE).write_text(json.dumps(predictor_payload(plan, state),
                                                       default=model_store.json_default))
    metadata = dict(plan.metadata)
    metadata.update(
        metrics=state["metrics"], metrics_on="prequential",
        rows={"window": state["window_rows"], "total": state["rows_total"]},
        created_at=model_store.now_iso(),
        online={"stream": state["stream"], "update": state["updates"],
                "window_start": state["window_start"],
                "window_end": state["last_window_end"]})
    (directory / model_store.METADATA_FILE).write_text(
        json.dumps(metadata, indent=2, default=model_store.json_default))


def predictor_payload(plan: OnlinePlan, state: dict[str, Any]) -> dict[str, Any]:
    payload = {"format": 1, "task": plan.task, "features": state["spec"],
               "outputs": plan.outputs, "algorithm": _ALGORITHMS[plan.task],
               **_learner(plan, state).predictor_fields()}
    if plan.classes is not None:
        payload["classes"] = plan.classes
    return payload


def _labels(plan: OnlinePlan, frame: pd.DataFrame) -> tuple[np.ndarray | None, pd.DataFrame]:
    """The label values of the rows that have a usable one, and those rows."""
    if plan.task == CLUSTERING:
        return None, frame
    label = frame.pop("__label")
    if plan.task == CLASSIFICATION:
        usable = label.isin(plan.classes)
    else:
        label = pd.to_numeric(label, errors="coerce")
        usable = label.notna()
    frame = frame[usable.to_numpy()].reset_index(drop=True)
    values = label[usable].to_numpy()
    if plan.task == CLASSIFICATION and plan.classes == [False, True]:
        values = values.astype(bool)
    return values, frame


def _targets(plan: OnlinePlan, y_values: np.ndarray) -> np.ndarray:
    if plan.task == CLASSIFICATION:
        return (y_values == plan.classes[1]).astype(np.float64)
    return y_values.astype(np.float64)


def _fresh_state(plan: OnlinePlan, frame: pd.DataFrame) -> dict[str, Any]:
    """A model before its first window: the encoding's categories are those of this window."""
    kinds = dict(plan.feature_kinds)
    spec = features.fit_spec(frame, kinds, features.ONE_HOT, True)
    width = len(features.feature_names(spec))
    numeric = sum(1 for k in kinds.values() if k == features.NUMERIC)
    if plan.task == CLUSTERING:
        learner = KMeansLearner.create(plan.options)
    else:
        loss = "log" if plan.task == CLASSIFICATION else "squared"
        learner = LinearLearner.create(width, loss, plan.options)
    return {"stream": plan.stream_id, "spec": spec,
            "moments": RunningMoments.create(numeric).state,
            "learner_state": learner.state, "updates": 0, "rows_total": 0}


def _learner(plan: OnlinePlan, state: dict[str, Any]) -> LinearLearner | KMeansLearner:
    if plan.task == CLUSTERING:
        return KMeansLearner(state["learner_state"])
    return LinearLearner(state["learner_state"])


def _ready(plan: OnlinePlan, state: dict[str, Any]) -> bool:
    return plan.task != CLUSTERING or state["learner_state"]["centroids"] is not None


def _encoded_scale(spec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Per encoded column, the (mean, std) its standardization uses; one-hot columns 0, 1."""
    means, stds = [], []
    for column in spec["columns"]:
        if column["kind"] == features.NUMERIC:
            means.append(column["mean"])
            stds.append(column["std"])
        else:
            means += [0.0] * len(column["categories"])
            stds += [1.0] * len(column["categories"])
    return np.asarray(means, dtype=np.float64), np.asarray(stds, dtype=np.float64)

