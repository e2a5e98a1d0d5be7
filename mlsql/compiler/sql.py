"""Spelling SQL for Flink's code generator.

Numbers are written as DOUBLE literals (`1.5E0`): Flink reads `1.5` as DECIMAL, whose
arithmetic is slow and changes the result type.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from mlsql.errors import MlsqlError
from mlsql.syntax.dialect import quote_literal


class NotCompilable(MlsqlError):
    """A model version with no SQL form (too many trees, an imported model, ...): it is
    scored by the UDF."""


def double(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"cannot compile a non-finite constant {value}")
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{int(exponent)}"
    else:
        text = f"{text}E0"
    return f"({text})" if text.startswith("-") else text


def typed_literal(value: Any, flink_type: str) -> str:
    """A literal of one of the label types mlsql predicts."""
    if flink_type == "BOOLEAN":
        return "TRUE" if value else "FALSE"
    if flink_type == "STRING":
        return quote_literal(str(value))
    if flink_type in ("TINYINT", "SMALLINT", "INT", "BIGINT"):
        return f"CAST({int(value)} AS {flink_type})"
    if flink_type == "DOUBLE":
        return double(float(value))
    raise ValueError(f"cannot write a {flink_type} literal")


def string_list(values: list[str]) -> str:
    return ", ".join(quote_literal(v) for v in values)


# Appended to an expression that later projections read several times: exactly zero, but
# non-deterministic, so Flink 2.2 (no common-subexpression reuse) keeps the projection that
# computes it apart instead of inlining the expression into every reader.
BARRIER = " + 0E0 * RAND()"


def numeric_split(value: str, threshold: float, missing: float, left: str, right: str) -> str:
    """A tree split, `left` where `value <= threshold`, for a value whose NULL and NaN the
    scorer imputes with `missing` (the training mean). Whether `missing` goes left is known
    here, so the split is the comparison whose false side is `missing`'s: NULL (unknown) and
    NaN (false in every comparison) fall to it with no imputing CASE in the node."""
    if missing <= threshold:
        return f"CASE WHEN {value} > {double(threshold)} THEN {right} ELSE {left} END"
    return f"CASE WHEN {value} <= {double(threshold)} THEN {left} ELSE {right} END"


def first_best(values: list[str], results: list[str], largest: bool) -> str:
    """A CASE giving results[i] for the first i whose value is the largest (or smallest):
    numpy's argmax/argmin, ties included."""
    strict, loose = (">", ">=") if largest else ("<", "<=")
    arms = []
    for index, value in enumerate(values[:-1]):
        conditions = [f"({value}) {strict} ({other})" for other in values[:index]]
        conditions += [f"({value}) {loose} ({other})" for other in values[index + 1 :]]
        arms.append(f"WHEN {' AND '.join(conditions)} THEN {results[index]}")
    if not arms:
        return results[0]
    return f"CASE {' '.join(arms)} ELSE {results[-1]} END"


_SCORE = re.compile(r"__mlsql_score_(\d+)__")


def score_ref(index: int) -> str:
    return f"__mlsql_score_{index}__"


@dataclass(frozen=True)
class CompiledModel:
    """A model as SQL: the score expressions (per class, per centroid, or the regression
    value) and the output expressions, which refer to scores by `score_ref(i)`."""

    scores: list[str]
    outputs: list[str]
    # For tree ensembles: the terms (one per tree) each score sums, so the planner can
    # spread a large ensemble over several projections.
    score_terms: list[list[str]] | None = None
    # True where recomputing each score in every output that reads it costs less than a
    # projection of its own (a short dot product read twice).
    inline_scores: bool = False

    def substitute(self, replacement: list[str]) -> list[str]:
        return [_SCORE.sub(lambda m: replacement[int(m.group(1))], output)
                for output in self.outputs]

    @property
    def reuses_scores(self) -> bool:
        """True when some score feeds more than one place in the outputs."""
        return sum(len(_SCORE.findall(o)) for o in self.outputs) > len(self.scores)
