"""The feature functions that run as pandas UDFs (udfs/ on the workers) rather than as SQL:
their registration on a session, and their names for `mlsql compile`, which cannot ship
them yet."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from mlsql.feature_functions.base import FeatureArgumentError
from mlsql.syntax import ir

PYTHON_UDF_FUNCTIONS = ("ML_NGRAMS", "ML_HASHING_TF",  # ML_FEATURE_HASHING: when large
                        "ML_STOP_WORDS_REMOVER", "ML_VECTOR_ASSEMBLER")
UDF_PREFIX = "__mlsql_text_"  # their registered names
MAX_SPARSE_FEATURES = 2**31 - 1  # a sparse vector's (a MAP's) size is a Java int


def register_udf(runtime: Any, function: str, kind: str, settings: str,
                 implementation: Callable[..., Any], result_type: str) -> str:
    """The session's name for a pandas UDF with these settings, registered on first use."""
    if runtime is None:
        raise FeatureArgumentError(f"{function} runs as a Python UDF, which needs a session",
                                   ir.Position(1, 1))
    name = f"{UDF_PREFIX}{kind}_{hashlib.sha1(settings.encode()).hexdigest()[:10]}"
    runtime.ensure_pandas_function(name, implementation, result_type)
    return name
