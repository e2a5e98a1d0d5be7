"""Plots for mlsql's analysis results, chosen by the result's columns (static PNG through
matplotlib's Agg canvas: no JavaScript, no pyplot state).

The columns are the contract with the SQL functions that produce them:

- ML_ROC_CURVE: threshold, recall, false_positive_rate, true_positives, ... -> the ROC
  curve, its trapezoid AUC in the legend;
- ML_CONFUSION_MATRIX: expected_label, then one count column per class -> a heat map with
  the counts;
- ML_FEATURE_IMPORTANCE: feature, importance, importance_type -> horizontal bars;
- ML_EXPLAIN_PREDICT: ..., baseline, raw_score, feature_i, attribution_i, ...,
  other_attribution -> the contributions of the first row as a waterfall;
- ML_TRAINING_INFO: version, iteration, loss, eval_loss, ... -> loss per iteration, a line
  per version (eval loss dashed);
- ML_RESIDUAL_SUMMARY: one row of mean_residual, p05, p25, median, p75, p95, ... -> a box;
- ML_EVALUATE_DELAYED: window_start, [model_version], predictions, labelled, late_labels,
  unlabelled, metrics -> the main metric (roc_auc, else accuracy, else
  root_mean_squared_error) per window, a line per version;
- ML_VALIDATE_DATA_SKEW / _DRIFT: input, metric, threshold, value, is_anomaly -> each
  column's main statistic against its threshold, anomalies in red; with MAP['window', ...]
  (window_start, over more than one window) -> each column's main statistic over time, a line
  per column, anomalies marked red.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

ROC = {"threshold", "recall", "false_positive_rate"}
IMPORTANCE = {"feature", "importance", "importance_type"}
EXPLAIN = {"baseline", "raw_score", "feature_1", "attribution_1"}
TRAINING = {"version", "iteration", "loss", "eval_loss"}
RESIDUALS = {"mean_residual", "p05", "p25", "median", "p75", "p95"}
QUALITY = {"window_start", "predictions", "labelled", "unlabelled"}
VALIDATION = {"input", "metric", "threshold", "value", "is_anomaly"}
QUALITY_METRICS = ("roc_auc", "accuracy", "root_mean_squared_error")
MAX_BARS = 20  # features drawn by the importance bars


class Plot:
    """A drawn figure that notebooks show as a PNG (`_repr_png_`)."""

    def __init__(self, kind: str, figure: Figure) -> None:
        self.kind = kind
        self.figure = figure

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()

    def __repr__(self) -> str:
        return f"<mlsql plot: {self.kind}>"


def plot_kind(frame: pd.DataFrame) -> str | None:
    """Which analysis result `frame` is, by its columns; None for any other result."""
    columns = set(frame.columns)
    if frame.empty:
        return None
    if columns >= EXPLAIN:
        return "explanation"
    if columns >= ROC:
        return "roc"
    if frame.columns[0] == "expected_label" and len(frame.columns) > 1:
        return "confusion"
    if columns >= IMPORTANCE:
        return "importance"
    if columns >= TRAINING:
        return "training"
    if columns >= RESIDUALS and len(frame) == 1:
        return "residuals"
    if columns >= QUALITY and any(m in columns for m in QUALITY_METRICS):
        return "quality"
    if columns >= VALIDATION:
        windows = frame["window_start"].nunique() if "window_start" in columns else 1
        return "drift" if windows > 1 else "validation"
    return None


def plot_for(frame: pd.DataFrame) -> Plot | None:
    kind = plot_kind(frame)
    if kind is None:
        return None
    figure = Figure(figsize=(6.4, 4.2))
    FigureCanvasAgg(figure)
    _DRAW[kind](figure.add_subplot(), frame)
    figure.tight_layout()
    return Plot(kind, figure)


def roc_auc(frame: pd.DataFrame) -> float:
    """The trapezoid area under the curve through the points, from (0, 0) to (1, 1)."""
    fpr, tpr = _roc_points(frame)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _roc_points(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    points = frame[["false_positive_rate", "recall"]].astype(float).dropna()
    points = points.sort_values(["false_positive_rate", "recall"])
    fpr = np.concatenate([[0.0], points["false_positive_rate"].to_numpy(), [1.0]])
    tpr = np.concatenate([[0.0], points["recall"].to_numpy(), [1.0]])
    return fpr, tpr


def _roc(ax: Axes, frame: pd.DataFrame) -> None:
    fpr, tpr = _roc_points(frame)
    ax.plot(fpr, tpr, color="C0", label=f"ROC (AUC = {roc_auc(frame):.4f})")
    ax.plot([0, 1], [0, 1], color="#999", linestyle=":", label="chance")
    ax.set(xlabel="false positive rate", ylabel="recall (true positive rate)",
           xlim=(0, 1), ylim=(0, 1.01), title="ROC curve")
    ax.legend(loc="lower right")


def _confusion(ax: Axes, frame: pd.DataFrame) -> None:
    classes = [str(c) for c in frame.columns[1:]]
    counts = frame.iloc[:, 1:].to_numpy(dtype=float)
    image = ax.imshow(counts, cmap="Blues")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yticks(range(len(frame)), [str(v) for v in frame["expected_label"]])
    ax.set(xlabel="predicted label", ylabel="expected label", title="Confusion matrix")
    high = np.nanmax(counts) if counts.size else 0
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, f"{value:,.0f}", ha="center", va="center",
                color="white" if value > high / 2 else "black")


def _importance(ax: Axes, frame: pd.DataFrame) -> None:
    top = frame.sort_values("importance", ascending=False).head(MAX_BARS).iloc[::-1]
    ax.barh(top["feature"].astype(str), top["importance"].astype(float), color="C0")
    kinds = ", ".join(sorted({str(v) for v in frame["importance_type"]}))
    ax.set(xlabel=f"importance ({kinds})", title="Feature importance")


def _explanation(ax: Axes, frame: pd.DataFrame) -> None:
    row = frame.iloc[0]
    numbers = sorted(int(m.group(1)) for c in frame.columns
                     if (m := re.fullmatch(r"attribution_(\d+)", str(c))))
    steps = [(str(row[f"feature_{i}"]), float(row[f"attribution_{i}"])) for i in numbers
             if f"feature_{i}" in frame.columns and pd.notna(row[f"attribution_{i}"])]
    if "other_attribution" in frame.columns and pd.notna(row["other_attribution"]):
        steps.append(("other features", float(row["other_attribution"])))
    baseline, raw = float(row["baseline"]), float(row["raw_score"])
    labels = ["baseline", *(name for name, _ in steps), "raw score"]
    running = baseline
    ax.barh(0, baseline, color="#999")
    for position, (_, value) in enumerate(steps, start=1):
        ax.barh(position, value, left=running, color="C3" if value > 0 else "C2")
        ax.text(running + value, position, f" {value:+.3g}", va="center",
                ha="left" if value > 0 else "right")
        running += value
    ax.barh(len(steps) + 1, raw, color="C0")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.margins(x=0.15)  # room for the value labels
    ax.axvline(0, color="#555", linewidth=0.8)
    ax.set(xlabel="raw score (contributions add up from the baseline)",
           title="Why this prediction: contributions of the first row")


def _training(ax: Axes, frame: pd.DataFrame) -> None:
    for index, (version, rows) in enumerate(frame.groupby("version", sort=True)):
        rows = rows.sort_values("iteration")
        style = {"color": f"C{index}", "marker": "o" if len(rows) < 3 else None}
        ax.plot(rows["iteration"], rows["loss"], label=f"v{version} loss", **style)
        if rows["eval_loss"].notna().any():
            ax.plot(rows["iteration"], rows["eval_loss"], linestyle="--",
                    label=f"v{version} eval loss", **style)
    ax.set(xlabel="iteration", ylabel="loss", title="Training loss per iteration")
    ax.legend()


def _residuals(ax: Axes, frame: pd.DataFrame) -> None:
    row = frame.iloc[0]
    stats = {"whislo": row["p05"], "q1": row["p25"], "med": row["median"], "q3": row["p75"],
             "whishi": row["p95"], "mean": row["mean_residual"], "label": "residual"}
    ax.bxp([{k: (float(v) if k != "label" else v) for k, v in stats.items()}],
           orientation="horizontal", showmeans=True, showfliers=False)
    ax.axvline(0, color="#555", linewidth=0.8)
    ax.set(xlabel="residual (label - prediction): 5th, 25th, 50th, 75th, 95th percentile",
           title="Residuals")


def _quality(ax: Axes, frame: pd.DataFrame) -> None:
    metric = next(m for m in QUALITY_METRICS if m in frame.columns)
    frame = frame.assign(window_start=pd.to_datetime(frame["window_start"]))
    groups = frame.groupby("model_version", sort=True) if "model_version" in frame.columns \
        else [("all", frame)]
    for version, rows in groups:
        rows = rows.sort_values("window_start")
        ax.plot(rows["window_start"], rows[metric].astype(float), marker="o",
                label=f"v{version}" if version != "all" else metric)
    ax.set(xlabel="window (prediction time)", ylabel=metric,
           title=f"{metric} per window from delayed labels")
    ax.tick_params(axis="x", labelrotation=30)
    ax.legend()


def _validation(ax: Axes, frame: pd.DataFrame) -> None:
    main = frame.groupby("input", sort=False).head(1).iloc[:MAX_BARS][::-1]  # first: main
    values = main["value"].astype(float).fillna(0.0)
    colors = ["#c0392b" if bool(a) else "#2e86c1" for a in main["is_anomaly"].fillna(False)]
    ax.barh(main["input"], values, color=colors)
    ax.scatter(main["threshold"].astype(float), main["input"], marker="|", s=200,
               color="#333", label="threshold", zorder=3)
    ax.set(xlabel="statistic (" + ", ".join(sorted(set(main["metric"]))) + ")",
           title="Distribution shift per column (red: above its threshold)")
    ax.legend()


def _drift(ax: Axes, frame: pd.DataFrame) -> None:
    frame = frame.assign(window_start=pd.to_datetime(frame["window_start"]))
    main_metric = frame.groupby("input", sort=False)["metric"].first()  # each column's first
    shown = list(main_metric.index[:MAX_BARS])
    for column in shown:
        rows = frame[(frame["input"] == column) & (frame["metric"] == main_metric[column])]
        rows = rows.sort_values("window_start")
        ax.plot(rows["window_start"], rows["value"].astype(float), marker=".", label=column)
        flagged = rows[rows["is_anomaly"].fillna(False).astype(bool)]
        ax.scatter(flagged["window_start"], flagged["value"].astype(float), color="#c0392b",
                   zorder=3)
    ax.set(xlabel="window", ylabel="statistic (" + ", ".join(sorted(set(main_metric))) + ")",
           title="Distribution shift per column over time (red: above its threshold)")
    ax.legend(fontsize="small")


_DRAW: dict[str, Callable[[Axes, pd.DataFrame], None]] = {
    "roc": _roc, "confusion": _confusion, "importance": _importance,
    "explanation": _explanation, "training": _training, "residuals": _residuals,
    "quality": _quality, "validation": _validation, "drift": _drift,
}
