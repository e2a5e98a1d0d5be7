"""mlsql's scripts as plain Flink jobs: `mlsql explain` and `mlsql compile`.

plan          each statement's Flink SQL, planned without running a job
job           explain's text and compile's job directory
flink_models  ML_PREDICT as Flink's own, over mlsql's model provider (--predict flink)
choices       compile's --predict forms (read by the command line without the planner)

The names below load on first use (PEP 562): importing `mlsql.export.choices` does not plan.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlsql.export.job import compile_job, explain
    from mlsql.export.plan import PlannedStatement, plan_script

_WHERE = {"compile_job": "job", "explain": "job", "PlannedStatement": "plan",
          "plan_script": "plan"}
__all__ = ["PlannedStatement", "compile_job", "explain", "plan_script"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'mlsql.export' has no attribute {name!r}")
    return getattr(importlib.import_module(f"mlsql.export.{_WHERE[name]}"), name)
