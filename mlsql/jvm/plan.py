"""ML_PREDICT on the JVM: one call of mlsql's Java scorer per row, outputs picked in SQL.

    (SELECT <t's columns>, <outputs over `__mlsql_scores`> FROM
       (SELECT *, __mlsql_jvm_scores('<version dir>', <inputs>) AS `__mlsql_scores` FROM t))

The Java function (src/io/mlsql/flink/ScoresFunction.java) encodes the raw inputs and
returns the version's scores as udfs/predictors.py computes them (class probabilities, the
regression value, centroid distances); it is declared non-deterministic, so Flink keeps it
in its own projection, computed once per row, however many outputs read the array. The
outputs are the Python Predictor's: the first best class, the positive class's probability
(or the largest), the nearest centroid.
"""

from __future__ import annotations

import json
from typing import Any

from mlsql.compiler.sql import first_best, typed_literal
from mlsql.errors import MlsqlError
from mlsql.jvm.build import RESOURCES, scorer_jar
from mlsql.models.registry import ModelVersion
from mlsql.syntax.dialect import quote_identifier, quote_literal
from udfs.predictors import PREDICTOR_FILE

# predictor.json's algorithms the Java scorer reads: the list io.mlsql.scoring.ScoredModel
# loads from the same file.
JVM_ALGORITHMS = frozenset(
    line.strip() for line in (RESOURCES / "io" / "mlsql" / "scoring" / "algorithms.txt")
    .read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#"))
# Model types whose fastest path is the JVM scorer (mlsql.planner.predict._paths).
TREE_MODEL_TYPES = frozenset({"boosted_tree_classifier", "boosted_tree_regressor",
                              "xgboost_classifier", "xgboost_regressor"})
SCORES_FUNCTION = "__mlsql_jvm_scores"
SCORES_CLASS = "io.mlsql.flink.ScoresFunction"
_SCORES = quote_identifier("__mlsql_scores")


class NotJvmScorable(MlsqlError):
    """A model version the Java scorer does not read (an MLP, k-NN, an imported model...)."""


def jvm_payload(model: ModelVersion) -> dict[str, Any]:
    """The version's predictor.json, if the Java scorer reads its algorithm."""
    payload: dict[str, Any] = json.loads((model.path / PREDICTOR_FILE).read_text())
    algorithm = payload.get("algorithm")
    if payload.get("task") == "imported" or algorithm not in JVM_ALGORITHMS:
        raise NotJvmScorable(f"the JVM scorer reads {', '.join(sorted(JVM_ALGORITHMS))} "
                             f"models, not a {model.metadata['model_type']} ({algorithm})")
    return payload


def jvm_subquery(model: ModelVersion, runtime: Any, arguments: list[str],
                 passthrough: list[str], names: list[str], table_sql: str,
                 extra: list[str]) -> str:
    """`table_sql`'s columns plus the model's outputs (as `names`) and `extra` columns,
    scored by the Java function (built and registered on first use); NotJvmScorable or
    JvmUnavailable before anything is registered."""
    payload = jvm_payload(model)
    runtime.ensure_java_function(SCORES_FUNCTION, SCORES_CLASS, scorer_jar())
    call = f"{SCORES_FUNCTION}({', '.join([quote_literal(str(model.path)), *arguments])})"
    outputs = output_expressions(model, payload)
    select = passthrough + [f"{e} AS {quote_identifier(n)}"
                            for e, n in zip(outputs, names, strict=True)] + extra
    return (f"(SELECT {', '.join(select)} FROM (SELECT *, {call} AS {_SCORES} "
            f"FROM {table_sql}))")


def output_expressions(model: ModelVersion, payload: dict[str, Any]) -> list[str]:
    """The model's outputs over the scores array, as udfs/predictors.py's output_frame."""
    task = payload["task"]
    outputs = model.metadata["outputs"]
    if task == "regression":
        return [_score(0)]
    if task == "classification":
        classes = payload["classes"]
        scores = [_score(k) for k in range(len(classes))]
        labels = [typed_literal(c, outputs[0]["type"]) for c in classes]
        probability = scores[1] if len(scores) == 2 else f"GREATEST({', '.join(scores)})"
        return [first_best(scores, labels, largest=True), probability]
    if task == "clustering":
        # numpy's argmin (the first nearest centroid) from Flink's array functions: 0.77 of no
        # model against 0.59 for a CASE over every pair of distances (inference.py --types).
        # A NaN minimum is not found (position 0): cluster 0, as numpy's argmin of NaNs.
        nearest = f"ARRAY_MIN({_SCORES})"
        position = f"GREATEST(ARRAY_POSITION({_SCORES}, {nearest}), 1)"
        return [f"CAST({position} - 1 AS {outputs[0]['type']})", nearest]
    raise NotJvmScorable(f"the JVM scorer has no {task} outputs")


def _score(index: int) -> str:
    return f"{_SCORES}[{index + 1}]"
