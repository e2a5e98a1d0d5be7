"""The gradient and Hessian sums of a pass, as one JVM aggregate or as one SUM per entry.

The JVM aggregate (jvm/src/io/mlsql/training/SecondMoments.java) keeps the query's size
independent of the parameter count: a Newton pass of 31 parameters is 3 array arguments
instead of 527 SUMs, which Flink plans and compiles in about a second instead of fifteen
(tests/benchmarks/distributed.py). Without a JDK to build it, the caller writes the SUMs.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def call(x: Sequence[str], residuals: Sequence[str], curvatures: Sequence[str]) -> str:
    """The aggregate over design row x, one residual per score row and the score-row
    curvature's upper triangle (row-major)."""
    arrays = [f"ARRAY[{', '.join(f'CAST({e} AS DOUBLE)' for e in values)}]"
              for values in (x, residuals, curvatures)]
    return f"{FUNCTION}({', '.join(arrays)})"


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
