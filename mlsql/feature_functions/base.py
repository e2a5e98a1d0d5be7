"""What every feature function provides, and the argument checks they share.

A function is used two ways:
- explicit, `ML_MIN_MAX_SCALER(x, 0, 100)`: `explicit()` checks the arguments and returns the
  parameters; `render()` spells the call as plain Flink SQL;
- fitted, `ML_MIN_MAX_SCALER(x) OVER ()` inside TRANSFORM: `fit_options()` checks the
  arguments, `requests()` names the aggregates training computes, and `fitted_text()` writes
  the explicit call with the fitted parameters, which is what the model version stores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlsql.compiler.sql import double
from mlsql.errors import RAISED_MARK, MlsqlError
from mlsql.syntax import ir
from mlsql.syntax.dialect import quote_literal

Arguments = Sequence[ir.FeatureArgument]
SqlOf = Callable[[ir.FeatureArgument], str]  # an argument rendered as Flink SQL
Params = dict[str, Any]


class FeatureArgumentError(MlsqlError):
    """A bad argument; the parser turns it into a syntax error at `position`."""

    def __init__(self, message: str, position: ir.Position,
                 subject: str | None = None) -> None:
        super().__init__(message, subject=subject, position=position)


@dataclass(frozen=True)
class Vocabulary:
    """The most frequent non-NULL values of an expression: GROUP BY ... ORDER BY count."""

    expression: str  # Flink SQL over the training query's columns
    top_k: int
    min_count: int = 1
    # an ARRAY expression: count each of its distinct elements once per row (document
    # frequencies), not the arrays themselves
    elements: bool = False


@dataclass
class FitRequest:
    """What one fitted call needs computed over the training rows."""

    # key -> aggregate SQL, or (SQL, length) for an ARRAY-valued aggregate
    aggregates: dict[str, str | tuple[str, int]] = field(default_factory=dict)
    vocabulary: Vocabulary | None = None
    # aggregates that need these ones' values (a statistic of the rows below a fitted
    # median): computed by a second job over the same rows, into the same result
    then: Callable[[dict[str, Any]], dict[str, str]] | None = None
    # (SQL, n): up to n non-NULL values of an expression, for a fit no aggregate gives
    sample: tuple[str, int] | None = None
    # a fit of its own queries: called with a fetch (SQL -> DataFrame) and the training rows
    # (SQL a FROM takes); what it returns joins the aggregates
    queries: Callable[[Callable[[str], Any], str], dict[str, Any]] | None = None


@dataclass(frozen=True)
class FitResult:
    aggregates: dict[str, Any]
    vocabulary: list[tuple[str, int]]  # (value, count), most frequent first
    sample: list[float] = field(default_factory=list)  # FitRequest.sample's values


class FeatureFunction:
    name: str = ""
    array: bool = False  # returns an ARRAY (a TRANSFORM column expands to one per element)
    fittable: bool = False
    usage: str = ""  # the explicit form, for errors
    fitted_usage: str = ""

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        raise NotImplementedError

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        """The result (one element for a scalar function) as Flink SQL expressions."""
        raise NotImplementedError

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        parts = self.elements(args, params, sql_of)
        return f"ARRAY[{', '.join(parts)}]" if self.array else parts[0]

    def expands(self, params: Params) -> bool:
        """Whether TRANSFORM (and a pipeline's transform) makes one column per element: an
        ARRAY does, a sparse MAP does not."""
        return self.array

    def expand(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> list[str]:
        """An array result's elements, one TRANSFORM column each."""
        return self.elements(args, params, sql_of)

    def element_names(self, params: Params, alias: str) -> list[str]:
        """The columns an array result expands to in TRANSFORM."""
        return [f"{alias}_{i + 1}" for i in range(len(self.width(params)))]

    def width(self, params: Params) -> list[int]:
        raise NotImplementedError

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        raise FeatureArgumentError(
            f"{self.name} has no fitted form (OVER ()): write {self.usage}", call.position)

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        raise NotImplementedError

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        raise NotImplementedError

    # checks shared by the functions

    def count(self, args: Arguments, call: ir.FeatureCall, low: int, high: int,
              usage: str | None = None) -> None:
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise FeatureArgumentError(
                f"{self.name} takes {wanted} arguments, found {len(args)}: "
                f"{usage or self.usage}", call.position)

    def fitted_count(self, args: Arguments, call: ir.FeatureCall,
                     allowed: tuple[int, ...]) -> None:
        """The fitted form takes one of `allowed` argument counts (its options come in
        groups: `(x)`, `(x, a, b)`, `(x, a, b, rule)`)."""
        if len(args) not in allowed:
            counts = f"{', '.join(map(str, allowed[:-1]))} or {allowed[-1]}"
            raise FeatureArgumentError(f"{self.name} OVER () takes {counts} arguments, found "
                                       f"{len(args)}: {self.fitted_usage}", call.position)

    def number(self, arg: ir.FeatureArgument, what: str,
               expected: str = "a number literal") -> float:
        if not arg.is_literal or isinstance(arg.value, bool) or not isinstance(
                arg.value, (int, float)) or not math.isfinite(arg.value):
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be {expected}, found {arg.text!r}", arg.position)
        return float(arg.value)

    def integer(self, arg: ir.FeatureArgument, what: str, low: int = 1) -> int:
        value = self.number(arg, what)
        if value != int(value) or value < low:
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be an integer >= {low}, found {arg.text}",
                arg.position)
        return int(value)

    def string(self, arg: ir.FeatureArgument, what: str) -> str:
        if not arg.is_literal or not isinstance(arg.value, str):
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be a 'string' literal, found {arg.text!r}",
                arg.position)
        return arg.value

    def choice(self, arg: ir.FeatureArgument, what: str, allowed: Sequence[str]) -> str:
        """A 'string' literal that is one of `allowed`."""
        value = self.string(arg, what)
        if value not in allowed:
            options = " or ".join(quote_literal(a) for a in allowed)
            raise FeatureArgumentError(f"{self.name}'s {what} must be {options}, found "
                                       f"{arg.text}", arg.position)
        return value

    def flag(self, arg: ir.FeatureArgument, what: str) -> bool:
        if not arg.is_literal or not isinstance(arg.value, bool):
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be TRUE or FALSE, found {arg.text!r}", arg.position)
        return arg.value

    def literal_array(self, arg: ir.FeatureArgument, what: str, kind: type) -> list[Any]:
        values = arg.value if arg.is_literal and isinstance(arg.value, tuple) else None
        if values is None or not all(
                isinstance(v, kind) and not isinstance(v, bool) for v in values):
            noun = "numbers" if kind is not str else "'strings'"
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be an ARRAY[...] of {noun}, found {arg.text!r}",
                arg.position)
        return [float(v) for v in values] if kind is not str else list(values)

    def expressions(self, arg: ir.FeatureArgument, what: str) -> tuple[ir.FeatureArgument, ...]:
        if arg.elements is None or not arg.elements:
            raise FeatureArgumentError(
                f"{self.name}'s {what} must be ARRAY[expression, ...], found {arg.text!r}",
                arg.position)
        return arg.elements


def as_double(sql: str) -> str:
    return f"CAST({sql} AS DOUBLE)"


def is_missing(x: str) -> str:
    """NULL or NaN, for a DOUBLE `x`. Not `x <> x`: Flink's planner (Calcite) simplifies that
    to FALSE, and rewrites NOT over comparisons, which NaN does not obey. NaN times 0 is NaN,
    as is an infinity times 0; NaN's magnitude is not infinite."""
    return f"({x} IS NULL OR ({x} * 0 <> 0 AND ABS({x}) <> CAST('Infinity' AS DOUBLE)))"


def constant_where_present(x: str, value: str) -> str:
    """`value` (SQL) for every row whose x is present, NULL where x is NULL or NaN: what a
    fitted call stores for a column it maps to one value."""
    return f"CASE WHEN {is_missing(as_double(x))} THEN CAST(NULL AS DOUBLE) ELSE {value} END"


def present_double(sql: str) -> str:
    """`sql` as a DOUBLE, NULL where it is NaN: what a fitted statistic aggregates (Flink's
    AVG, MIN, PERCENTILE ... ignore NULL, not NaN)."""
    x = as_double(sql)
    return f"CASE WHEN {is_missing(x)} THEN CAST(NULL AS DOUBLE) ELSE {x} END"


def number_text(value: float) -> str:
    """A constant written into a stored call: Flink SQL, and exact (repr round-trips); an
    infinity as Flink spells it, which the call parser reads back."""
    if math.isinf(value):
        return f"CAST('{'-' if value < 0 else ''}Infinity' AS DOUBLE)"
    return double(value)


# What a Flink ML stage does with an invalid input (a value outside its buckets, one its
# vocabulary lacks, NULL, NaN): Flink ML's handleInvalid parameter.
HANDLE_INVALID = ("error", "skip", "keep")


def raised_error(message: str, depends_on: str) -> str:
    """A DOUBLE expression that fails the job with `message` (SQL text, a STRING) when it is
    evaluated: Flink SQL has no function that raises, but a failed CAST does, with the text
    it read. `depends_on` (any column's SQL) keeps the planner from evaluating it at planning
    time, as it does a constant."""
    never = f"SUBSTRING(COALESCE(CAST({depends_on} AS STRING), '') FROM 1 FOR 0)"
    return f"CAST(CONCAT('{RAISED_MARK}', {message}, {never}) AS DOUBLE)"


def handled_invalid(valid: str, value: str, handle_invalid: str, keep: str, message: str,
                    depends_on: str) -> str:
    """`value` where `valid` (SQL conditions) holds; else, by `handle_invalid`: the `keep`
    value, NULL ('skip': the Pipeline API drops the row), or a failed job with `message`."""
    other = {"keep": keep, "skip": "CAST(NULL AS DOUBLE)",
             "error": raised_error(message, depends_on)}[handle_invalid]
    return f"CASE WHEN {valid} THEN {value} ELSE {other} END"


def array_text(values: Sequence[float | str]) -> str:
    parts = [quote_literal(v) if isinstance(v, str) else number_text(v) for v in values]
    return f"ARRAY[{', '.join(parts)}]"
