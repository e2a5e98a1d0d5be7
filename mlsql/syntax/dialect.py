"""Flink's lexical conventions as a sqlglot dialect, used to spell generated SQL safely.

sqlglot has no Flink dialect; like ibis we derive one from Hive (backtick identifiers) and
replace Hive's backslash escapes with Flink's doubled quote. mlsql never regenerates a user's
statement with it (see DESIGN.md: sqlglot loses Flink syntax): only the identifiers and
literals of the SQL mlsql writes itself go through here.
"""

from __future__ import annotations

from typing import ClassVar

from sqlglot import exp
from sqlglot.dialects.hive import Hive


class Flink(Hive):
    class Tokenizer(Hive.Tokenizer):
        STRING_ESCAPES: ClassVar[list[str]] = ["'"]

    class Generator(Hive.Generator):
        pass


_FLINK = Flink()


def quote_identifier(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=_FLINK)


def quote_literal(value: str) -> str:
    return exp.Literal.string(value).sql(dialect=_FLINK)
