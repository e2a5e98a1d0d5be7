"""A trial process: `python -m mlsql.tuning.worker <data dir>`.

It maps the encoded rows of the data dir (.npy, read with mmap and allow_pickle=False) once,
then reads one trial per line on stdin ({"trial_id", "options", "directory"}), fits the
model type into the trial's directory, scores it on the evaluation rows and answers one
line on its protocol pipe (the original stdout; libraries' prints go to stderr). It never
touches Flink.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

X_TRAIN, Y_TRAIN, X_EVAL, Y_EVAL = "x_train.npy", "y_train.npy", "x_eval.npy", "y_eval.npy"
CONTEXT = "context.json"  # {"model_type", "task", "spec", "outputs"}


def load_rows(data: Path, x_name: str, y_name: str) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.load(data / x_name, mmap_mode="r", allow_pickle=False)
    y_path = data / y_name
    y = np.load(y_path, mmap_mode="r", allow_pickle=False) if y_path.exists() else None
    return x, y


def run_trial(request: dict[str, Any], context: dict[str, Any], train: tuple[Any, Any],
              evaluation: tuple[Any, Any]) -> dict[str, Any]:
    """Fit and score one trial; a failure is an answer too (status FAILED, its error)."""
    from mlsql.models import model_type
    from mlsql.models.base import FitRequest
    from mlsql.models.history import History
    from udfs.metrics import evaluate
    from udfs.predictors import Predictor

    started = time.monotonic()
    answer: dict[str, Any] = {"trial_id": request["trial_id"]}
    try:
        directory = Path(request["directory"])
        directory.mkdir(parents=True, exist_ok=True)
        history = History()
        fit = model_type(context["model_type"]).fit
        if fit is None:
            raise ValueError(f"{context['model_type']} has no fit")
        fitted = fit(FitRequest(train[0], train[1], request["options"], context["spec"],
                                directory, lambda _: None, history, evaluation))
        payload = {"format": 1, "task": context["task"], "features": context["spec"],
                   "outputs": context["outputs"], **fitted}
        metrics = evaluate(Predictor(payload, str(directory)), *evaluation)
        answer.update(status="SUCCEEDED", fitted=fitted, metrics=metrics,
                      history=history.rows)
    except Exception as error:  # recorded as the trial's error; the study goes on
        traceback.print_exc(file=sys.stderr)
        answer.update(status="FAILED", error=f"{type(error).__name__}: {error}")
    answer["seconds"] = time.monotonic() - started
    return answer


def main(data_dir: str) -> None:
    from udfs.model_store import json_default

    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything a library prints goes to stderr, not into the protocol
    sys.stdout = sys.stderr
    data = Path(data_dir)
    context = json.loads((data / CONTEXT).read_text())
    train = load_rows(data, X_TRAIN, Y_TRAIN)
    evaluation = load_rows(data, X_EVAL, Y_EVAL)
    for line in sys.stdin:
        if not line.strip():
            continue
        answer = run_trial(json.loads(line), context, train, evaluation)
        answers.write(json.dumps(answer, default=json_default) + "\n")
        answers.flush()


if __name__ == "__main__":
    main(sys.argv[1])
