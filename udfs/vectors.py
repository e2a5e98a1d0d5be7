"""Flink ML's VectorAssembler as a vectorized (pandas) UDF: numbers, dense vectors (ARRAY)
and sparse vectors (MAP index -> value) of each row joined into one dense vector, with Flink
ML's handle_invalid rules. Imports numpy/pandas only: it ships to the workers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

FAILS_JOB = "mlsql: "  # mlsql.errors.RAISED_MARK: mlsql shows a job's error with it alone
NULL_INPUT = ("Input column value is null. Please check the input data or using "
              "handleInvalid = 'keep'.")
NAN_INPUT = ("Encountered NaN while assembling a row with handleInvalid = 'error'. Consider "
             "removing NaNs from dataset or using handleInvalid = 'keep' or 'skip'.")


class InvalidInput(ValueError):
    """A row Flink ML's VectorAssembler calls invalid (its message is Flink ML's)."""


def _is_null(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _sparse_pairs(value: object) -> list[tuple[int, float]] | None:
    """A MAP column's value as (index, value) pairs (pandas gives a list of pairs). An empty
    one is an all-zero sparse vector (an empty ARRAY, which pandas cannot tell from it, too)."""
    if isinstance(value, Mapping):
        return [(int(k), float(v)) for k, v in value.items()]
    if isinstance(value, list | np.ndarray) and all(isinstance(p, tuple) for p in value):
        return [(int(k), float(v)) for k, v in value]
    return None


def assemble(values: Sequence[object], sizes: Sequence[int], keep: bool) -> list[float]:
    """One row's inputs as one vector; InvalidInput for what Flink ML refuses (without
    `keep`: a NULL, a NaN number, an input whose size is not its input size)."""
    out: list[float] = []
    for value, size in zip(values, sizes, strict=True):
        if isinstance(value, float | int | np.number) and not isinstance(value, bool):
            number = float(value)
            if math.isnan(number) and not keep:  # pandas reads a NULL number as NaN too
                raise InvalidInput(NAN_INPUT)
            _check_size(size, 1, keep)
            out.append(number)
        elif value is None:
            if not keep:
                raise InvalidInput(NULL_INPUT)
            out.extend([math.nan] * size)
        elif (pairs := _sparse_pairs(value)) is not None:  # fits if every index < size
            width = max((index + 1 for index, _ in pairs), default=0)
            _check_size(size, max(size, width), keep)
            dense = [0.0] * max(size, width)
            for index, element in pairs:
                dense[index] = element
            out.extend(dense)
        elif isinstance(value, str | bool | bytes):
            raise InvalidInput(f"Input type {type(value).__name__} has not been supported yet. "
                               "Only Vector and Number types are supported.")
        else:
            elements = [math.nan if _is_null(v) else float(v) for v in value]
            _check_size(size, len(elements), keep)
            out.extend(elements)
    return out


def _check_size(expected: int, actual: int, keep: bool) -> None:
    if not keep and actual != expected:
        raise InvalidInput("Input vector/number size does not meet with expected. Expected "
                           f"size: {expected}, actual size: {actual}.")


class VectorAssemblerFunction:
    """handle_invalid 'error' fails the job with Flink ML's message, 'skip' gives NULL (the
    Pipeline API drops the row), 'keep' writes NaN for a NULL input, sizes unchecked."""

    def __init__(self, sizes: Sequence[int], handle_invalid: str) -> None:
        self.sizes = list(sizes)
        self.handle_invalid = handle_invalid

    def __call__(self, *columns: pd.Series) -> pd.Series:
        keep = self.handle_invalid == "keep"
        rows: list[list[float] | None] = []
        for values in zip(*columns, strict=True):
            try:
                rows.append(assemble(values, self.sizes, keep))
            except InvalidInput as invalid:
                if self.handle_invalid == "error":
                    raise InvalidInput(f"{FAILS_JOB}Vector assembler failed with exception "
                                       f": {invalid}") from None
                rows.append(None)
        return pd.Series(rows, dtype=object)
