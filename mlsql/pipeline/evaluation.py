"""Flink ML's BinaryClassificationEvaluator as an AlgoOperator: `transform(table)` gives one
Table of one row, the asked metrics in the asked order, computed by the SQL table function
ML_EVALUATE_BINARY over the table (through mlsql.ml_evaluate_binary)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pyflink.table import Table
from pyflink.table.expressions import col

from mlsql.errors import OptionError
from mlsql.pipeline import persistence
from mlsql.table_api.functions import ml_evaluate_binary

# Flink ML's metric names -> ML_EVALUATE_BINARY's columns
METRICS = {"areaUnderROC": "area_under_roc", "areaUnderPR": "area_under_pr", "ks": "ks",
           "areaUnderLorenz": "area_under_lorenz"}


class BinaryClassificationEvaluator:
    """`label` (1 or TRUE is positive), `raw_prediction`: the positive class's score column
    (Flink ML's rawPrediction vector's element 1, or a number), `weight` (none: 1 each),
    `metrics_names` among areaUnderROC, areaUnderPR, ks, areaUnderLorenz (the first two)."""

    def __init__(self, label: str = "label", raw_prediction: str = "rawPrediction", *,
                 weight: str | None = None,
                 metrics_names: Sequence[str] = ("areaUnderROC", "areaUnderPR")) -> None:
        for what, value in (("label", label), ("raw_prediction", raw_prediction),
                            ("weight", weight)):
            if not (isinstance(value, str) and value) and not (what == "weight"
                                                                 and value is None):
                raise OptionError(f"BinaryClassificationEvaluator: {what} is a column name, "
                                  f"not {value!r}")
        unknown = [m for m in metrics_names if m not in METRICS]
        if isinstance(metrics_names, str) or not metrics_names or unknown:
            raise OptionError(f"BinaryClassificationEvaluator: metrics_names are some of "
                              f"{', '.join(METRICS)}, not {metrics_names!r}")
        self.label, self.raw_prediction, self.weight = label, raw_prediction, weight
        self.metrics_names = list(metrics_names)

    def transform(self, table: Table) -> list[Table]:
        metrics = ml_evaluate_binary(table, self.label, self.raw_prediction, self.weight)
        return [metrics.select(*(col(METRICS[m]).alias(m) for m in self.metrics_names))]

    def save(self, path: str | Path) -> None:
        persistence.write(path, {"kind": "binary_classification_evaluator",
                                 "label": self.label, "raw_prediction": self.raw_prediction,
                                 "weight": self.weight, "metrics_names": self.metrics_names})

    @classmethod
    def load(cls, path: str | Path) -> BinaryClassificationEvaluator:
        document = persistence.read(path, "binary_classification_evaluator")
        return cls(document["label"], document["raw_prediction"], weight=document["weight"],
                   metrics_names=document["metrics_names"])

    def __repr__(self) -> str:
        return (f"BinaryClassificationEvaluator(label={self.label!r}, raw_prediction="
                f"{self.raw_prediction!r}, weight={self.weight!r}, metrics_names="
                f"{self.metrics_names!r})")
