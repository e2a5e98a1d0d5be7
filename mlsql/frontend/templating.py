"""SQL scripts with variables: `{{ threshold }}` filled in from `--var threshold=0.8`.

One script for every environment, as dbt users write theirs: the values differ (a topic, a
threshold, a date), the SQL does not. The script is rendered with Jinja before it is parsed,
so a value is text spliced into the SQL (quote it in the script: `'{{ region }}'`), and
Jinja's `{% if %}` and `{% for %}` work too. Without `--var` a script is not rendered at
all: SQL that happens to hold `{{` stays as written. A variable the script uses but was not
given is an error that names it and its line, before anything runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import jinja2

from mlsql.errors import MlsqlError


def parse_variables(items: Iterable[str]) -> dict[str, str]:
    """NAME=VALUE pairs (the value may hold '=' and be empty) as a dict."""
    variables: dict[str, str] = {}
    for item in items:
        name, equals, value = item.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise MlsqlError(f"--var takes NAME=VALUE with NAME a plain identifier, not {item!r}")
        variables[name] = value
    return variables


def render(script: str, variables: Mapping[str, str], source: str = "<script>") -> str:
    """The script with its variables filled in; unchanged when there are none."""
    if not variables:
        return script
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False,
                                     keep_trailing_newline=True)
    try:
        return environment.from_string(script).render(variables)
    except jinja2.TemplateSyntaxError as error:
        raise MlsqlError(f"{source}: template syntax error at line {error.lineno}: "
                         f"{error.message}") from None
    except jinja2.UndefinedError as error:
        raise MlsqlError(f"{source}{_line_of(error)}: {error.message}; give it with --var "
                         f"NAME=VALUE (given: {', '.join(sorted(variables))})") from None


def _line_of(error: BaseException) -> str:
    """', line N' from the traceback frame Jinja compiled for the template, if any."""
    traceback = error.__traceback__
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return f", line {line}" if line else ""
