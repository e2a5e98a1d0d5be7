"""Run a job.sql written by `mlsql compile` on PyFlink alone: no mlsql planner, no registry.

    python plain_flink_runner.py DIR/job.sql

SET lines are applied to the configuration (what Flink's SQL client does with them); each
SELECT's rows are printed as CSV. The SQL client puts 'python.files' on the Python path of
the process that instantiates Python functions; in a local PyFlink process that process is
this one, so the runner does the same.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pyflink.table import EnvironmentSettings, TableEnvironment

from mlsql.syntax.splitter import split_statements  # a lexer only: splits the file into statements

_SET = re.compile(r"SET\s+'([^']+)'\s*=\s*'([^']*)'", re.IGNORECASE)


def main(job_path: str) -> None:
    job = Path(job_path).read_text()
    mode = re.search(r"SET 'execution.runtime-mode' = '(\w+)'", job)
    settings = (EnvironmentSettings.in_batch_mode() if mode and mode.group(1) == "batch"
                else EnvironmentSettings.in_streaming_mode())
    env = TableEnvironment.create(settings)
    env.get_config().set("python.executable", sys.executable)
    for statement in split_statements(job):
        text = statement.text
        setting = _SET.match(text)
        if setting:
            key, value = setting.groups()
            if key == "python.files":
                sys.path.insert(0, value)
            if key != "execution.runtime-mode":
                env.get_config().set(key, value)
        elif text.upper().startswith("SELECT"):
            sys.stdout.write(env.sql_query(text).to_pandas().to_csv(index=False))
        else:
            result = env.execute_sql(text)
            if text.upper().startswith("INSERT"):
                result.wait()


if __name__ == "__main__":
    main(sys.argv[1])
