"""Flink ML's Swing as an AlgoOperator: `transform(table)` gives one Table of (item, output),
the output Flink ML's string of each item's most similar items with their scores
('11,0.0588...;12,0.0588...', most similar first). The scores are the SQL table function
ML_SWING's (through mlsql.ml_swing), which gives them as rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pyflink.table import DataTypes, Table

from mlsql.errors import OptionError, Site
from mlsql.pipeline import persistence
from mlsql.planner.swing import swing_options
from mlsql.table_api.binding import session_of
from mlsql.table_api.functions import ml_swing
from udfs.text import java_string_hash

# Flink ML's default seed: its Swing class name's hash code
DEFAULT_SEED = java_string_hash("org.apache.flink.ml.recommendation.swing.Swing")


class Swing:
    """`user_col`, `item_col` (BIGINT or another integer type), `output_col`, and Flink ML's
    parameters: k (100), max_user_num_per_item (1000), min_user_behavior (10),
    max_user_behavior (1000), alpha1 (15), alpha2 (0), beta (0.3), seed."""

    def __init__(self, user_col: str = "user", item_col: str = "item",
                 output_col: str = "output", *, k: int = 100,
                 max_user_num_per_item: int = 1000, min_user_behavior: int = 10,
                 max_user_behavior: int = 1000, alpha1: int = 15, alpha2: int = 0,
                 beta: float = 0.3, seed: int = DEFAULT_SEED) -> None:
        for what, value in (("user_col", user_col), ("item_col", item_col),
                            ("output_col", output_col)):
            if not isinstance(value, str) or not value:
                raise OptionError(f"Swing: {what} is a column name, not {value!r}")
        self.user_col, self.item_col, self.output_col = user_col, item_col, output_col
        self.k, self.max_user_num_per_item = k, max_user_num_per_item
        self.min_user_behavior, self.max_user_behavior = min_user_behavior, max_user_behavior
        self.alpha1, self.alpha2, self.beta, self.seed = alpha1, alpha2, beta, seed
        swing_options(self._options(), Site("Swing"))  # Flink ML's checks, now

    def _options(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in (
            "k", "max_user_num_per_item", "min_user_behavior", "max_user_behavior", "alpha1",
            "alpha2", "beta", "seed")}

    def transform(self, table: Table) -> list[Table]:
        session = session_of(table, "Swing.transform")
        scored = ml_swing(table, self.user_col, self.item_col, self._options()).to_pandas()
        rows = [(int(item), ";".join(f"{int(other)},{_java_double(score)}" for other, score in
                                     zip(part["similar_item"], part["score"], strict=True)))
                for item, part in scored.sort_values(["item", "rank"]).groupby("item")]
        return [session.table_env.from_elements(rows, DataTypes.ROW([
            DataTypes.FIELD(self.item_col, DataTypes.BIGINT()),
            DataTypes.FIELD(self.output_col, DataTypes.STRING())]))]

    def save(self, path: str | Path) -> None:
        persistence.write(path, {"kind": "swing", **persistence.stage_params(self)})

    @classmethod
    def load(cls, path: str | Path) -> Swing:
        document = persistence.read(path, "swing")
        return cls(**{k: v for k, v in document.items() if k not in ("kind", "format")})

    def __repr__(self) -> str:
        return (f"Swing(user_col={self.user_col!r}, item_col={self.item_col!r}, "
                f"output_col={self.output_col!r}, k={self.k!r})")


def _java_double(value: float) -> str:
    """`value` as Java's Double.toString writes it (Flink ML's output string): the shortest
    digits, in scientific form ('1.0E-5') outside [1e-3, 1e7)."""
    if value != 0 and not 1e-3 <= abs(value) < 1e7:
        mantissa, exponent = np.format_float_scientific(value, unique=True).split("e")
        return f"{mantissa}{'0' if mantissa.endswith('.') else ''}E{int(exponent)}"
    return repr(float(value))
