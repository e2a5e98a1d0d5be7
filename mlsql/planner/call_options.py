"""The MAP[...] options of an analysis function call, checked against the names it takes."""

from __future__ import annotations

from collections.abc import Sequence

from mlsql.errors import OptionError, did_you_mean
from mlsql.syntax import ir


def call_options(call: ir.AnalysisCall, known: Sequence[str]) -> dict[str, str]:
    """The call's options by lower-case name; an unknown one is an error naming the closest
    and all of them."""
    options = {}
    for key, value in call.config:
        name = key.lower()
        if name not in known:
            raise OptionError(f"unknown {call.function} option {key!r}"
                             f"{did_you_mean(name, known)}; the options: {', '.join(known)}",
                             at=call.where)
        options[name] = value
    return options
