"""mlsql's scripts as plain Flink jobs: `mlsql explain` and `mlsql compile`.

plan          each statement's Flink SQL, planned without running a job
job           explain's text and compile's job directory
flink_models  ML_PREDICT as Flink's own, over mlsql's model provider (--predict flink)
"""

from mlsql.export.job import compile_job, explain
from mlsql.export.plan import PlannedStatement, plan_script

__all__ = ["PlannedStatement", "compile_job", "explain", "plan_script"]
