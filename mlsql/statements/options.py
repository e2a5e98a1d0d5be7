"""SET and RESET: the session's Flink and mlsql options."""

from __future__ import annotations

import pandas as pd

from mlsql.statements.dispatch import Export, handles
from mlsql.statements.host import Host
from mlsql.syntax import ir
from mlsql.syntax.sensitive import mask_options
from mlsql.syntax.splitter import Statement


@handles(ir.SetOption, export=Export.VERBATIM)
def set_option(host: Host, statement: Statement, parsed: ir.SetOption,
               collect: bool) -> pd.DataFrame | None:
    if parsed.key is None:  # a bare SET lists them
        shown = mask_options(host.runtime.options)
        return pd.DataFrame(sorted(shown.items()), columns=["key", "value"])
    host.context.policy.check_option(parsed.key)
    host.runtime.set(parsed.key, parsed.value)
    return None


@handles(ir.ResetOption, export=Export.VERBATIM)
def reset_option(host: Host, statement: Statement, parsed: ir.ResetOption,
                 collect: bool) -> None:
    host.runtime.reset(parsed.key)
