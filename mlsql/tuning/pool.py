"""Trial processes (mlsql.tuning.worker), started fresh with `python -m`: never a fork of the
process that holds the JVM, and with the session's environment less what PyFlink's in-process
Python workers set (their variables, PYTHONPATH and working directory). Used from one
thread.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

from mlsql.services.flink_dist.home import PYFLINK_PROCESS_VARIABLES

_PYFLINK_WORKER_VARIABLES = ("_PYTHON_WORKING_DIR", "PYTHONPATH", "BOOT_LOG_DIR")


def worker_environment(threads: int) -> dict[str, str]:
    dropped = {*PYFLINK_PROCESS_VARIABLES, *_PYFLINK_WORKER_VARIABLES}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    root = str(Path(__file__).resolve().parents[2])  # the directory holding mlsql and udfs
    env["PYTHONPATH"] = root
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[variable] = str(threads)  # the cores shared among the parallel trials
    return env


class _Worker:
    def __init__(self, data_dir: Path, env: dict[str, str], log: IO[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlsql.tuning.worker", str(data_dir)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
            cwd=str(data_dir), text=True, bufsize=1)
        self.trial_id: int | None = None

    def send(self, request: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.trial_id = request["trial_id"]
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


class TrialPool:
    """Up to `size` trial processes sharing one data dir; submit, then wait for answers."""

    def __init__(self, data_dir: Path, size: int) -> None:
        self.data_dir = data_dir
        self.size = size
        threads = max(1, (os.cpu_count() or 1) // size)
        self._env = worker_environment(threads)
        self._log = open(data_dir / "workers.log", "a", encoding="utf-8")  # noqa: SIM115
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._selector = selectors.DefaultSelector()

    @property
    def free(self) -> int:
        return self.size - len(self._busy)

    def submit(self, request: dict[str, Any]) -> None:
        worker = self._idle.pop() if self._idle else _Worker(self.data_dir, self._env,
                                                             self._log)
        try:
            worker.send(request)
        except (BrokenPipeError, OSError):  # an idle worker that died: start another
            worker.close()
            worker = _Worker(self.data_dir, self._env, self._log)
            worker.send(request)
        self._busy.append(worker)
        self._selector.register(worker.process.stdout, selectors.EVENT_READ, worker)

    def wait(self) -> list[dict[str, Any]]:
        """The answers of the trials that finish next (at least one; a trial whose process
        died is answered FAILED, with its exit code)."""
        answers: list[dict[str, Any]] = []
        while not answers:
            for key, _ in self._selector.select():
                worker: _Worker = key.data
                line = worker.process.stdout.readline()
                self._selector.unregister(worker.process.stdout)
                self._busy.remove(worker)
                if line:
                    answers.append(json.loads(line))
                    self._idle.append(worker)
                else:
                    code = worker.process.wait()
                    worker.close()
                    answers.append({"trial_id": worker.trial_id, "status": "FAILED",
                                    "error": f"the trial's process exited with code {code}"
                                             f"{self._last_words()}"})
        return answers

    def _last_words(self) -> str:
        """The end of the processes' log (a dead process's traceback, usually)."""
        self._log.flush()
        lines = (self.data_dir / "workers.log").read_text(errors="replace").strip().splitlines()
        return f": {' | '.join(lines[-3:])}" if lines else ""

    def close(self) -> None:
        for worker in (*self._busy, *self._idle):
            if worker in self._busy:
                worker.process.kill()
            worker.close()
        self._busy.clear()
        self._idle.clear()
        self._selector.close()
        self._log.close()
