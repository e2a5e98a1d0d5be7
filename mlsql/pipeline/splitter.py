"""Flink ML's RandomSplitter: a Table split at random into several, in proportion to weights.

Each row draws a number in [0, 1) from the MD5 of the seed and its values, so the draw is
the same in every output's query (each is its own job, as Flink ML's outputs are) and the
outputs split the rows exactly, whatever the parallelism; equal rows go to the same output.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyflink.table import Table

from mlsql.errors import OptionError
from mlsql.feature_functions.base import number_text
from mlsql.pipeline import persistence
from mlsql.syntax.dialect import quote_identifier
from mlsql.table_api.binding import planned_query, session_of, table_views

DEFAULT_SEED = 0
_HEX_DIGITS = 8  # of the MD5: 2^32 draws


class RandomSplitter:
    """`RandomSplitter(weights=[2, 1, 2], seed=...)`: `transform(table)` gives one Table per
    weight, each holding about weight / sum(weights) of the rows, every row in exactly one."""

    def __init__(self, weights: Sequence[float], seed: int = DEFAULT_SEED) -> None:
        if isinstance(weights, str) or len(weights) < 2 or not all(
                isinstance(w, int | float) and not isinstance(w, bool) and w > 0
                for w in weights):
            raise OptionError(f"RandomSplitter: weights are two or more positive numbers, not "
                              f"{weights!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise OptionError(f"RandomSplitter: seed is an int, not {seed!r}")
        self.weights = [float(w) for w in weights]
        self.seed = seed

    def transform(self, table: Table) -> list[Table]:
        session = session_of(table, "RandomSplitter.transform")
        columns = [quote_identifier(c) for c in table.get_schema().get_field_names()]
        total = sum(self.weights)
        bounds = [0.0, *itertools.accumulate(w / total for w in self.weights)]
        with table_views(session, {"input": table}, "RandomSplitter.transform") as views:
            hashed = (f"SELECT *, {_digest(columns, self.seed)} AS `__mlsql_md5` "
                      f"FROM {views['input']}")
            drawn = f"SELECT *, {_draw('`__mlsql_md5`')} AS `__mlsql_draw` FROM ({hashed})"
            outputs = []
            for index, (low, high) in enumerate(itertools.pairwise(bounds)):
                upper = "" if index == len(self.weights) - 1 else \
                    f" AND `__mlsql_draw` < {high!r}"
                outputs.append(planned_query(
                    session, f"SELECT {', '.join(columns)} FROM ({drawn}) "
                             f"WHERE `__mlsql_draw` >= {low!r}{upper}"))
            return outputs

    def save(self, path: str | Path) -> None:
        persistence.write(path, {"kind": "random_splitter", "weights": self.weights,
                                 "seed": self.seed})

    @classmethod
    def load(cls, path: str | Path) -> RandomSplitter:
        document: dict[str, Any] = persistence.read(path, "random_splitter")
        return cls(document["weights"], document["seed"])

    def __repr__(self) -> str:
        return f"RandomSplitter(weights={self.weights!r}, seed={self.seed!r})"


def _digest(columns: list[str], seed: int) -> str:
    """The MD5 (32 hex digits) of the seed and the row's values."""
    values = ", ".join(f"COALESCE(CAST({c} AS STRING), 'NULL')" for c in columns)
    return f"MD5(CONCAT_WS('|', '{seed}', {values}))"


def _draw(digest: str) -> str:
    """A DOUBLE in [0, 1) from the first hex digits of `digest`."""
    digits = [f"(POSITION(SUBSTRING({digest} FROM {i + 1} FOR 1) IN '0123456789abcdef') - 1)"
              f" * {number_text(16.0 ** -(i + 1))}" for i in range(_HEX_DIGITS)]
    return f"({' + '.join(digits)})"
