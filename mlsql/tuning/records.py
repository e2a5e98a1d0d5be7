"""One trial's record, as a version's metadata keeps it ("trials") and ML_TRIAL_INFO lists it.

    {"trial_id": 3, "hyperparameters": {"learning_rate": 0.12, "num_leaves": 31},
     "objective": "r2_score", "objective_value": 0.47, "metrics": {...},
     "status": "SUCCEEDED", "error_message": null, "seconds": 0.8, "is_optimal": true}
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"


@dataclass
class TrialRecord:
    trial_id: int  # from 1, in the order the trials were started
    hyperparameters: dict[str, Any]
    objective: str
    status: str = FAILED
    objective_value: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    error_message: str | None = None
    seconds: float = 0.0
    is_optimal: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TrialRecord:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def summary(self, total: int) -> str:
        """A progress line: `trial 3/20: r2_score 0.4412 (learning_rate=0.12, num_leaves=31)`."""
        values = ", ".join(f"{k}={_short(v)}" for k, v in self.hyperparameters.items())
        if self.status == SUCCEEDED:
            return (f"trial {self.trial_id}/{total}: {self.objective} "
                    f"{self.objective_value:.4f} ({values})")
        return f"trial {self.trial_id}/{total}: FAILED ({values}): {self.error_message}"


def best_trial(records: list[TrialRecord], direction: str) -> TrialRecord | None:
    """The succeeded trial with the best objective (the earliest among equals), or None."""
    scored = [r for r in records if r.status == SUCCEEDED and r.objective_value is not None
              and not math.isnan(r.objective_value)]
    if not scored:
        return None
    sign = -1.0 if direction == "maximize" else 1.0
    return min(scored, key=lambda r: (sign * r.objective_value, r.trial_id))


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
