"""The gradient and Hessian sums of a pass, as one JVM aggregate or as one SUM per entry.

Per row: a design row x (x[0] = 1), one residual per score row, and the upper triangle of
the score rows' curvature matrix; the sums are the gradient (residual_i * x_j) and the
Hessian's upper triangle (C_iq * x_j * x_k), parameters in score-row-major order. The JVM
aggregate (jvm/src/io/mlsql/training/SecondMoments.java) keeps the query's size independent
of the parameter count: a Newton pass of 31 parameters is 3 array arguments instead of 527
SUMs, which Flink plans and compiles in 1.6 s instead of 6.7 s
(tests/benchmarks/distributed_sums.py). Without a JDK to build it, the SUMs are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mlsql.jvm.build import JvmUnavailable, scorer_jar
from mlsql.runtime.environment import FlinkRuntime

FUNCTION = "__mlsql_second_moments"
CLASS = "io.mlsql.training.SecondMoments"
# Parameters each form handles: the SUMs grow the query quadratically, the aggregate only
# its state (8 bytes per Hessian entry).
SQL_LIMIT = 100
JVM_LIMIT = 1_000


def jvm_available(runtime: FlinkRuntime) -> bool:
    """Registers the aggregate on the session; False where no JDK can build it."""
    try:
        jar = scorer_jar()
    except JvmUnavailable:
        return False
    runtime.ensure_java_function(FUNCTION, CLASS, jar)
    return True


def select_items(x: Sequence[str], residuals: Sequence[str], curvatures: Sequence[str],
                 on_jvm: bool) -> list[str]:
    """The SELECT items that compute the sums; `read` takes them from the result row."""
    if on_jvm:
        arrays = [f"ARRAY[{', '.join(f'CAST({e} AS DOUBLE)' for e in values)}]"
                  for values in (x, residuals, curvatures)]
        return [f"{FUNCTION}({', '.join(arrays)}) AS moments"]
    rows = len(residuals)
    params = [(r, j) for r in range(rows) for j in range(len(x))]
    pairs = [(r, q) for r in range(rows) for q in range(r, rows)]
    upper = dict(zip(pairs, curvatures, strict=True))
    sums = [f"SUM(({residuals[r]}) * {x[j]}) AS g{a}" for a, (r, j) in enumerate(params)]
    for a, (r, j) in enumerate(params):
        for b in range(a, len(params)):
            q, k = params[b]
            sums.append(f"SUM(({upper[r, q]}) * {x[j]} * {x[k]}) AS h{a}_{b}")
    return sums


def read(row: dict[str, Any], parameters: int, on_jvm: bool) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and the symmetric Hessian from a row of `select_items`."""
    if on_jvm:
        return unpack(row["moments"], parameters)
    gradient = np.array([row[f"g{a}"] for a in range(parameters)], dtype=np.float64)
    hessian = np.zeros((parameters, parameters))
    for a in range(parameters):
        for b in range(a, parameters):
            hessian[a, b] = hessian[b, a] = row[f"h{a}_{b}"]
    return gradient, hessian


def unpack(text: str, parameters: int) -> tuple[np.ndarray, np.ndarray]:
    """The gradient and the symmetric Hessian from the aggregate's space-separated values."""
    array = np.array(text.split(), dtype=np.float64)
    if len(array) != parameters + parameters * (parameters + 1) // 2:
        raise ValueError(f"{FUNCTION} returned {len(array)} sums for {parameters} parameters")
    gradient = array[:parameters].copy()
    hessian = np.zeros((parameters, parameters))
    upper = np.triu_indices(parameters)
    hessian[upper] = array[parameters:]
    hessian.T[upper] = array[parameters:]
    return gradient, hessian
