"""Parse the ML constructs of a statement into IR; everything else stays verbatim text."""

from __future__ import annotations

import re

from mlsql.errors import OptionError, Site, SqlSyntaxError, did_you_mean
from mlsql.feature_functions.calls import find_calls
from mlsql.feature_functions.catalog import NAMES as FEATURE_FUNCTIONS
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, Token, tokenize
from mlsql.syntax.splitter import Statement, split_statements
from mlsql.timeseries.calls import find_series_calls, is_model_form

_NAME_KINDS = (Kind.WORD, Kind.QUOTED)
_QUERY_STARTS = ("SELECT", "WITH", "VALUES", "TABLE")  # and '(': how a Flink query begins
# What may follow CREATE MODEL's name (BigQuery's OPTIONS included) before AS.
_AFTER_MODEL_NAME = ("TRANSFORM", "COMMENT", "WITH", "OPTIONS", "AS")
# What Flink creates (CREATE [TEMPORARY] [SYSTEM] <kind>): never mistaken for MODEL.
_FLINK_CREATE_KINDS = frozenset({"TABLE", "VIEW", "FUNCTION", "CATALOG", "DATABASE", "SYSTEM",
                                 "MATERIALIZED", "OR", "TEMPORARY"})


class _Cursor:
    """A read position over one statement's tokens, with errors that point at the source."""

    def __init__(self, statement: Statement, tokens: tuple[Token, ...] | None = None) -> None:
        self.statement = statement
        self.tokens = tokens if tokens is not None else statement.tokens
        self.i = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def peek(self, ahead: int = 1) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.token
        if token.kind is not Kind.EOF:
            self.i += 1
        return token

    def accept_word(self, *words: str) -> Token | None:
        return self.advance() if self.token.is_word(*words) else None

    def accept_punct(self, *symbols: str) -> Token | None:
        return self.advance() if self.token.is_punct(*symbols) else None

    def expect_word(self, word: str) -> Token:
        if not self.token.is_word(word):
            hint = did_you_mean(self.token.upper, [word]) if self.token.kind is Kind.WORD else ""
            raise self.error(f"expected {word}, found {self._describe(self.token)}{hint}")
        return self.advance()

    def expect_punct(self, symbol: str) -> Token:
        if not self.token.is_punct(symbol):
            raise self.error(f"expected '{symbol}', found {self._describe(self.token)}")
        return self.advance()

    def position(self, token: Token | None = None) -> ir.Position:
        token = token or self.token
        return ir.Position(token.line, token.col)

    def error(self, message: str, token: Token | None = None) -> SqlSyntaxError:
        token = token or self.token
        return SqlSyntaxError(message, token.line, token.col, self._source_line(token.line))

    def _source_line(self, line: int) -> str:
        lines = self.statement.text.split("\n")
        index = line - self.statement.line
        if not 0 <= index < len(lines):
            return ""
        prefix = " " * (self.statement.col - 1) if index == 0 else ""
        return prefix + lines[index]

    @staticmethod
    def _describe(token: Token) -> str:
        return "end of statement" if token.kind is Kind.EOF else repr(token.text)

    def qualified_name(self, what: str) -> tuple[str, Token]:
        first = self.token
        if first.kind not in _NAME_KINDS:
            raise self.error(f"expected {what}, found {self._describe(first)}")
        parts = [self.advance().value]
        while self.token.is_punct(".") and self.peek().kind in _NAME_KINDS:
            self.advance()
            parts.append(self.advance().value)
        return ".".join(parts), first

    def model_ref(self) -> ir.ModelRef:
        name, first = self.qualified_name("a model name")
        version: int | None = None
        latest = False
        if "$" in name:
            name, _, pin = name.rpartition("$")
            if pin.isdigit():
                version = int(pin)
            elif pin.lower() == "latest":
                latest = True
            else:
                raise self.error(f"unknown model version {pin!r}: use m$<number> or m$latest",
                                 first)
        return ir.ModelRef(name, version, self.position(first), latest)


def model_ref_option(text: str, what: str, position: ir.Position,
                     subject: str | None = None) -> ir.ModelRef:
    """A model reference written as an option's value ('m', 'm$3', 'm$latest'); an error
    names `subject` (such as 'ML_PREDICT') at `position` when given."""
    name, _, pin = text.strip().strip("`").partition("$")
    if not name or (pin and not pin.isdigit() and pin.lower() != "latest"):
        raise OptionError(f"{what}: {text!r} is not a model reference; write 'm', "
                          "'m$<version>' or 'm$latest'",
                          at=Site(subject, position) if subject else None)
    version = int(pin) if pin.isdigit() else None
    return ir.ModelRef(name, version, position, pin.lower() == "latest")


def parse_script(script: str) -> list[tuple[Statement, ir.MlsqlStatement]]:
    return [(statement, parse_statement(statement)) for statement in split_statements(script)]


def parse_one(sql: str) -> ir.MlsqlStatement:
    statements = split_statements(sql)
    if len(statements) != 1:
        raise SqlSyntaxError(f"expected one statement, found {len(statements)}", 1, 1)
    return parse_statement(statements[0])


def parse_statement(statement: Statement) -> ir.MlsqlStatement:
    cur = _Cursor(statement)
    words = statement.first_words
    lead = words[0]
    if lead == "CREATE":
        create = _parse_create_model(cur)
        if create is not None:
            return create
    elif lead == "SHOW" and words[1] == "MODELS":
        return _parse_show_models(cur)
    elif words[:2] == ["SHOW", "JOBS"]:
        cur.advance()
        cur.advance()
        _expect_end(cur)
        return ir.ShowJobs()
    elif words[:2] == ["STOP", "JOB"]:
        return _parse_stop_job(cur)
    elif words[:3] == ["SHOW", "CREATE", "MODEL"]:
        for _ in range(3):
            cur.advance()
        ref = cur.model_ref()
        _expect_end(cur)
        return ir.ShowCreateModel(ref)
    elif words[:2] == ["ALTER", "MODEL"]:
        return _parse_alter_model(cur)
    elif lead in ("DESCRIBE", "DESC") and words[1] == "MODEL":
        cur.advance()
        cur.advance()
        ref = cur.model_ref()
        _expect_end(cur)
        return ir.DescribeModel(ref)
    elif lead == "DROP" and "MODEL" in words[1:3]:
        return _parse_drop_model(cur)
    elif lead == "SET":
        return _parse_set(cur)
    elif lead == "RESET":
        cur.advance()
        key = None if cur.token.kind is Kind.EOF else _option_text(cur, stop="")
        return ir.ResetOption(key)
    elif words[:3] == ["BEGIN", "STATEMENT", "SET"]:
        return ir.BeginStatementSet()
    elif lead == "END" and len(statement.tokens) == 2:
        return ir.EndStatementSet()
    return flink_statement(statement)


def flink_statement(statement: Statement) -> ir.FlinkStatement:
    predicts = tuple(_find_calls(statement, "ML_PREDICT", _parse_predict))
    evaluates = tuple(_find_calls(statement, "ML_EVALUATE", _parse_evaluate))
    analyses = sorted((*(call for name in ir.ANALYSIS_FUNCTIONS
                         for call in _find_calls(statement, name, _parse_analysis)),
                       *_model_series_calls(statement)),
                      key=lambda call: call.start)
    source_line = _Cursor(statement)._source_line
    features = find_calls(statement.text, statement.tokens, source_line, fitted_allowed=False)
    series = find_series_calls(statement.text, statement.tokens, source_line)
    return ir.FlinkStatement(statement.text, predicts, statement.first_words[0], evaluates,
                             tuple(analyses), features, series)


def _expect_end(cur: _Cursor) -> None:
    if cur.token.kind is not Kind.EOF:
        raise cur.error(f"unexpected {cur.token.text!r} after the end of the statement")


_STOP_JOB = "STOP JOB '<job id>' [WITH SAVEPOINT] [WITH DRAIN]"


def _parse_stop_job(cur: _Cursor) -> ir.StopJob:
    cur.advance()
    cur.advance()
    if cur.token.kind is not Kind.STRING:
        raise cur.error(f"STOP JOB takes the job id as a string: {_STOP_JOB}")
    job_id = cur.advance().value
    flags: set[str] = set()
    while cur.token.is_word("WITH") and cur.peek().is_word("SAVEPOINT", "DRAIN"):
        cur.advance()
        flags.add(cur.advance().upper)
    if cur.token.kind is not Kind.EOF:
        raise cur.error(f"unexpected {cur.token.text!r} in STOP JOB: {_STOP_JOB}")
    return ir.StopJob(job_id, "SAVEPOINT" in flags, "DRAIN" in flags)


def _parse_create_model(cur: _Cursor) -> ir.CreateModel | ir.ImportModel | None:
    start = cur.expect_word("CREATE")
    or_replace = False
    if cur.accept_word("OR"):
        cur.expect_word("REPLACE")
        or_replace = True
    temporary = cur.accept_word("TEMPORARY") is not None
    if not cur.token.is_word("MODEL"):
        word = cur.token.upper
        if (cur.token.kind is Kind.WORD and word not in _FLINK_CREATE_KINDS
                and did_you_mean(word, ["MODEL"])):
            raise cur.error(f"unknown CREATE {cur.token.text}{did_you_mean(word, ['MODEL'])}")
        return None  # CREATE TABLE, VIEW, FUNCTION ...: Flink's
    cur.advance()
    if_not_exists = False
    if cur.accept_word("IF"):
        cur.expect_word("NOT")
        cur.expect_word("EXISTS")
        if_not_exists = True
    name, _ = cur.qualified_name("a model name")
    if "$" in name:
        raise cur.error("a model's name cannot contain '$' (it selects a version)")
    if cur.token.is_word("INPUT", "OUTPUT"):
        try:
            imported = _parse_import_model(cur, name, if_not_exists, start)
        except SqlSyntaxError:
            return None  # syntax mlsql does not model: Flink's parser will judge it
        if imported.option_map.get("provider", "").lower() not in ir.MLSQL_PROVIDERS:
            return None  # Flink's own provider: the statement goes to Flink as written
        if temporary:
            raise cur.error("mlsql keeps the models it runs in its registry, which has no "
                            "session scope: drop TEMPORARY (and DROP MODEL when done)", start)
        return imported
    if temporary:
        raise cur.error("CREATE TEMPORARY MODEL ... AS SELECT is not supported: trained "
                        "models are stored in the registry")
    transform = _parse_transform(cur) if cur.token.is_word("TRANSFORM") else None
    if cur.accept_word("COMMENT") and cur.token.kind is Kind.STRING:
        cur.advance()
    options: list[tuple[str, str]] = []
    if cur.accept_word("WITH", "OPTIONS"):
        options = _parse_options(cur)
    if transform is None and cur.token.is_word("TRANSFORM"):  # BigQuery: OPTIONS, TRANSFORM
        transform = _parse_transform(cur)
    if not cur.token.is_word("AS"):
        if cur.token.kind is Kind.EOF and not options:
            return None
        expected = ("AS",) if options else _AFTER_MODEL_NAME
        hint = (did_you_mean(cur.token.upper, expected) if cur.token.kind is Kind.WORD
                else "")
        where = "after the options" if options else "after the model's name"
        raise cur.error(f"expected AS SELECT ... {where}, found "
                        f"{cur._describe(cur.token)}{hint}")
    cur.advance()
    query_token = cur.token
    if not (query_token.is_word(*_QUERY_STARTS) or query_token.is_punct("(")):
        raise cur.error(f"expected the training query (SELECT ...) after AS, found "
                        f"{cur._describe(query_token)}"
                        f"{did_you_mean(query_token.upper, _QUERY_STARTS)}")
    query_text = cur.statement.text[query_token.start :]
    query_statement = Statement(
        query_text,
        tuple(_shift(t, -query_token.start) for t in cur.tokens[cur.i :]),
        query_token.line,
        query_token.col,
    )
    query = flink_statement(query_statement)
    return ir.CreateModel(name, tuple(options), query, cur.position(query_token), or_replace,
                          if_not_exists, cur.position(start), transform)


def _parse_transform(cur: _Cursor) -> tuple[ir.TransformItem, ...]:
    """TRANSFORM (expression [AS] name | column, ...): each item's text as written and the
    feature calls in it, fitted (OVER ()) ones included."""
    keyword = cur.expect_word("TRANSFORM")
    cur.expect_punct("(")
    items: list[ir.TransformItem] = []
    names: set[str] = set()
    while True:
        first, begin = cur.token, cur.i
        depth = 0
        while not (depth == 0 and cur.token.is_punct(",", ")")):
            if cur.token.kind is Kind.EOF:
                raise cur.error("unclosed TRANSFORM (...)", keyword)
            depth += cur.token.is_punct("(", "[") - cur.token.is_punct(")", "]")
            cur.advance()
        group = list(cur.tokens[begin : cur.i])
        if not group:
            raise cur.error("expected a TRANSFORM expression")
        items.append(_transform_item(cur, group))
        if items[-1].alias in names:
            raise cur.error(f"TRANSFORM makes column {items[-1].alias!r} twice", first)
        names.add(items[-1].alias)
        if not cur.accept_punct(","):
            break
    cur.expect_punct(")")
    return tuple(items)


def _transform_item(cur: _Cursor, group: list[Token]) -> ir.TransformItem:
    first = group[0]
    if len(group) == 1 and first.kind in _NAME_KINDS:
        expression_tokens, alias = group, first.value
    elif len(group) >= 3 and group[-2].is_word("AS") and group[-1].kind in _NAME_KINDS:
        expression_tokens, alias = group[:-2], group[-1].value
    else:
        raise cur.error("name each TRANSFORM expression: expression AS name", first)
    start = expression_tokens[0].start
    text = cur.statement.text[start : expression_tokens[-1].end]
    last = expression_tokens[-1]
    local = [_shift(t, -start) for t in expression_tokens] + [
        Token(Kind.EOF, "", len(text), len(text), last.line, last.col + len(last.text))]
    calls = find_calls(text, local, cur._source_line, fitted_allowed=True)
    return ir.TransformItem(text, alias, cur.position(first), calls)


def _parse_import_model(cur: _Cursor, name: str, if_not_exists: bool,
                        start: Token) -> ir.ImportModel:
    inputs: list[tuple[str, str]] = []
    outputs: list[tuple[str, str]] = []
    while cur.token.is_word("INPUT", "OUTPUT"):
        target = inputs if cur.advance().upper == "INPUT" else outputs
        target.extend(_column_list(cur))
    if cur.accept_word("COMMENT"):
        if cur.token.kind is not Kind.STRING:
            raise cur.error("expected a 'comment' after COMMENT")
        cur.advance()
    options: list[tuple[str, str]] = []
    if cur.accept_word("WITH"):
        options = _parse_options(cur)
    _expect_end(cur)
    return ir.ImportModel(name, tuple(inputs), tuple(outputs), tuple(options),
                          cur.statement.text, if_not_exists, cur.position(start))


def _column_list(cur: _Cursor) -> list[tuple[str, str]]:
    """`(name TYPE, ...)`: each type is kept as written (whitespace collapsed)."""
    cur.expect_punct("(")
    columns = []
    while True:
        if cur.token.kind not in _NAME_KINDS:
            raise cur.error(f"expected a column name, found {cur._describe(cur.token)}")
        name = cur.advance().value
        first = cur.token
        depth = 0
        while not (depth == 0 and cur.token.is_punct(",", ")")):
            if cur.token.kind is Kind.EOF:
                raise cur.error("unterminated column list")
            depth += cur.token.is_punct("(", "<") - cur.token.is_punct(")", ">")
            cur.advance()
        if cur.token is first:
            raise cur.error(f"expected a type for column {name!r}")
        type_text = cur.statement.text[first.start : cur.tokens[cur.i - 1].end]
        columns.append((name, " ".join(type_text.split())))
        if not cur.accept_punct(","):
            break
    cur.expect_punct(")")
    return columns


def _shift(token: Token, delta: int) -> Token:
    return Token(token.kind, token.text, token.start + delta, token.end + delta, token.line,
                 token.col)


def _parse_options(cur: _Cursor) -> list[tuple[str, str]]:
    cur.expect_punct("(")
    options: list[tuple[str, str]] = []
    seen: set[str] = set()
    while not cur.token.is_punct(")"):
        key_token = cur.token
        if key_token.kind not in (Kind.STRING, Kind.WORD, Kind.QUOTED):
            raise cur.error(f"expected an option name, found {cur._describe(key_token)}")
        key = cur.advance().value.lower()
        if key in seen:
            raise cur.error(f"option {key!r} is given twice", key_token)
        seen.add(key)
        cur.expect_punct("=")
        options.append((key, _option_value(cur)))
        if not cur.accept_punct(","):
            break
    cur.expect_punct(")")
    return options


_HPARAM_FUNCTIONS = ("HPARAM_RANGE", "HPARAM_CANDIDATES")
_HPARAM_CALL = re.compile(r"\s*HPARAM_(RANGE|CANDIDATES)\s*\(", re.IGNORECASE)


def _option_value(cur: _Cursor) -> str:
    token = cur.token
    if token.is_word(*_HPARAM_FUNCTIONS) and cur.peek().is_punct("("):
        return _hparam(cur)
    if token.kind is Kind.STRING:
        value = cur.advance().value
        if _HPARAM_CALL.match(value):
            return _quoted_hparam(cur, token, value)
        return value
    if token.kind is Kind.NUMBER or token.is_word("TRUE", "FALSE"):
        return cur.advance().text.lower()
    if token.is_punct("-") and cur.peek().kind is Kind.NUMBER:
        cur.advance()
        return "-" + cur.advance().text
    if token.is_punct("["):  # BigQuery: input_label_cols = ['label']
        cur.advance()
        values = []
        while cur.token.kind is Kind.STRING:
            values.append(cur.advance().value)
            if not cur.accept_punct(","):
                break
        cur.expect_punct("]")
        return ",".join(values)
    raise cur.error(f"expected an option value (a 'string', number or TRUE/FALSE), found "
                    f"{cur._describe(token)}")


def _hparam(cur: _Cursor) -> str:
    """BigQuery's HPARAM_RANGE(lo, hi) or HPARAM_CANDIDATES([v, ...]) in canonical text:
    numbers as written, strings single-quoted, ', ' between items."""
    function = cur.advance().upper
    cur.expect_punct("(")
    if function == "HPARAM_RANGE":
        low_token = cur.token
        low = _hparam_number(cur)
        cur.expect_punct(",")
        high = _hparam_number(cur)
        if float(low) >= float(high):
            raise cur.error(f"HPARAM_RANGE needs low < high, found {low} and {high}",
                            low_token)
        cur.expect_punct(")")
        return f"HPARAM_RANGE({low}, {high})"
    cur.expect_punct("[")
    items = []
    while not cur.token.is_punct("]"):
        if cur.token.kind is Kind.STRING:
            items.append("'" + cur.advance().value.replace("'", "''") + "'")
        elif cur.token.is_word("TRUE", "FALSE"):
            items.append(cur.advance().text.lower())
        else:
            items.append(_hparam_number(cur))
        if not cur.accept_punct(","):
            break
    cur.expect_punct("]")
    if not items:
        raise cur.error("HPARAM_CANDIDATES needs at least one candidate")
    cur.expect_punct(")")
    return f"HPARAM_CANDIDATES([{', '.join(items)}])"


def _hparam_number(cur: _Cursor) -> str:
    sign = "-" if cur.accept_punct("-") else ""
    if cur.token.kind is not Kind.NUMBER:
        raise cur.error(f"expected a number, found {cur._describe(cur.token)}")
    text = cur.advance().text
    try:
        float(text)
    except ValueError:
        raise cur.error(f"{text!r} is not a number", cur.tokens[cur.i - 1]) from None
    return sign + text


def _quoted_hparam(cur: _Cursor, token: Token, value: str) -> str:
    """'HPARAM_RANGE(0.01,0.3)' as a string option: the same canonical text as unquoted;
    errors point at the string."""
    try:
        inner_cur = _Cursor(Statement(value, tuple(tokenize(value)), token.line, token.col))
        canonical = _hparam(inner_cur)
        _expect_end(inner_cur)
    except SqlSyntaxError as error:
        raise cur.error(f"in {value!r}: {error.message}", token) from None
    return canonical


def _parse_show_models(cur: _Cursor) -> ir.ShowModels:
    cur.advance()
    cur.advance()
    if cur.accept_word("FROM", "IN"):
        cur.qualified_name("a database name")
    like = None
    if cur.accept_word("LIKE"):
        if cur.token.kind is not Kind.STRING:
            raise cur.error("expected a 'pattern' after LIKE")
        like = cur.advance().value
    _expect_end(cur)
    return ir.ShowModels(like)


def _parse_alter_model(cur: _Cursor) -> ir.AlterModel:
    cur.expect_word("ALTER")
    cur.expect_word("MODEL")
    if_exists = _accept_if_exists(cur)
    ref = cur.model_ref()
    if cur.accept_word("RENAME"):
        cur.expect_word("TO")
        new_name, _ = cur.qualified_name("the new model name")
        alter = ir.AlterModel(ref, rename_to=new_name, if_exists=if_exists)
    elif cur.accept_word("SET"):
        alter = ir.AlterModel(ref, set_options=tuple(_parse_options(cur)), if_exists=if_exists)
    elif cur.accept_word("RESET"):
        alter = ir.AlterModel(ref, reset_options=_reset_keys(cur), if_exists=if_exists)
    else:
        raise cur.error(f"expected SET (...), RESET (...) or RENAME TO after ALTER MODEL, "
                        f"found {cur._describe(cur.token)}")
    _expect_end(cur)
    return alter


def _reset_keys(cur: _Cursor) -> tuple[str, ...]:
    cur.expect_punct("(")
    keys = []
    while cur.token.kind in (Kind.STRING, Kind.WORD, Kind.QUOTED):
        keys.append(cur.advance().value.lower())
        if not cur.accept_punct(","):
            break
    cur.expect_punct(")")
    return tuple(keys)


def _accept_if_exists(cur: _Cursor) -> bool:
    if not cur.accept_word("IF"):
        return False
    cur.expect_word("EXISTS")
    return True


def _parse_drop_model(cur: _Cursor) -> ir.DropModel:
    cur.expect_word("DROP")
    cur.accept_word("TEMPORARY")
    cur.expect_word("MODEL")
    if_exists = _accept_if_exists(cur)
    ref = cur.model_ref()
    _expect_end(cur)
    return ir.DropModel(ref, if_exists)


def _parse_set(cur: _Cursor) -> ir.SetOption:
    cur.expect_word("SET")
    if cur.token.kind is Kind.EOF:
        return ir.SetOption(None)
    key = _option_text(cur, stop="=")
    cur.expect_punct("=")
    value = _option_text(cur, stop="")
    return ir.SetOption(key, value)


def _option_text(cur: _Cursor, stop: str) -> str:
    """A SET/RESET key or value: a 'quoted string' or the raw words up to `stop`."""
    if cur.token.kind is Kind.STRING:
        return cur.advance().value
    first = cur.token
    last = first
    while cur.token.kind is not Kind.EOF and not (stop and cur.token.is_punct(stop)):
        last = cur.advance()
    if last is first and first.kind is Kind.EOF:
        raise cur.error("expected a value")
    return cur.statement.text[first.start : last.end].strip()


# Every ML function name the parser knows (the gateway completes them too).
ML_FUNCTIONS = ("ML_PREDICT", "ML_EVALUATE", *ir.ANALYSIS_FUNCTIONS, *FEATURE_FUNCTIONS,
                *ir.SERIES_FUNCTIONS)
# A near miss of these is reported as a typo; the time-series names are left out, being close
# to names users give their own functions (ML_SCORE).
_TYPO_CANDIDATES = tuple(name for name in ML_FUNCTIONS if name not in ir.SERIES_FUNCTIONS)


def _find_calls(statement: Statement, name: str, parse) -> list:
    calls = []
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if (token.upper.startswith("ML_") and token.upper not in ML_FUNCTIONS
                and tokens[index + 1].is_punct("(")
                and (did_you_mean(token.upper, _TYPO_CANDIDATES)
                     or _takes_a_model(tokens, index + 1))):
            cur = _Cursor(statement)
            hint = did_you_mean(token.upper, _TYPO_CANDIDATES) or (
                "; the functions over a model: " + ", ".join(_MODEL_FUNCTIONS))
            raise cur.error(f"unknown function {token.text}{hint}", token)
        if token.is_word(name) and tokens[index + 1].is_punct("("):
            cur = _Cursor(statement)
            cur.i = index
            calls.append(parse(cur))
    return calls


_MODEL_FUNCTIONS = ("ML_PREDICT", "ML_EVALUATE", *ir.ANALYSIS_FUNCTIONS)


def _takes_a_model(tokens: tuple[Token, ...], open_paren: int) -> bool:
    """Whether the call opened at `open_paren` has a `MODEL name` argument at its top level
    (a user's own ML_* function cannot: only Flink's model functions take one)."""
    depth = 0
    for before, token in zip(tokens[open_paren:], tokens[open_paren + 1:], strict=False):
        depth += before.is_punct("(") - before.is_punct(")")
        if depth <= 0:
            return False
        if depth == 1 and before.is_punct("(", ",") and token.is_word("MODEL"):
            return True
    return False


def _table_and_model(cur: _Cursor) -> tuple[Token, str, ir.Position, ir.ModelRef]:
    """`NAME(TABLE t, MODEL m`: the function's token, the table as written, the model."""
    start = cur.advance()
    cur.expect_punct("(")
    table_sql, table_position = _table_argument(cur)
    cur.expect_punct(",")
    cur.expect_word("MODEL")
    return start, table_sql, table_position, cur.model_ref()


def _table_argument(cur: _Cursor) -> tuple[str, ir.Position]:
    """`TABLE t [/*+ hint */]`: the table as written, its hint included, and its position."""
    cur.expect_word("TABLE")
    table_token = cur.token
    cur.qualified_name("a table name after TABLE")
    if cur.token.kind is Kind.HINT:
        cur.advance()
    return (cur.statement.text[table_token.start : cur.tokens[cur.i - 1].end],
            cur.position(table_token))


def _parse_evaluate(cur: _Cursor) -> ir.EvaluateCall:
    start, table_sql, table_position, model = _table_and_model(cur)
    label = features = None
    if cur.accept_punct(","):
        cur.expect_word("DESCRIPTOR")
        descriptor_token = cur.token
        columns = _parse_descriptor(cur)
        if len(columns) != 1:
            raise cur.error("ML_EVALUATE's first DESCRIPTOR names the one label column",
                            descriptor_token)
        label = columns[0]
        if cur.accept_punct(","):
            cur.expect_word("DESCRIPTOR")
            features = _parse_descriptor(cur)
    end = cur.expect_punct(")")
    return ir.EvaluateCall(start.start, end.end, table_sql, table_position, model, label,
                           features)


def _parse_analysis(cur: _Cursor) -> ir.AnalysisCall:
    name_token = cur.token
    function = name_token.upper
    position = cur.position(name_token)
    if function in ir.MODEL_ONLY_FUNCTIONS:
        cur.advance()
        cur.expect_punct("(")
        if cur.token.is_word("TABLE"):
            raise cur.error(f"{function} takes only MODEL m, no table")
        cur.expect_word("MODEL")
        model = cur.model_ref()
        end = cur.expect_punct(")")
        return ir.AnalysisCall(function, name_token.start, end.end, position, model)
    if function == ir.VALIDATE_DATA_DRIFT:
        return _parse_drift(cur)
    if function == ir.EVALUATE_DELAYED:
        return _parse_delayed(cur)
    if function in ir.FEATURE_TEST_FUNCTIONS or function in (ir.EVALUATE_BINARY, ir.SWING):
        return _parse_labelled_columns(cur)
    _, table_sql, table_position, model = _table_and_model(cur)
    if function == ir.VALIDATE_DATA_SKEW:
        config = _optional_map(cur)
        end = cur.expect_punct(")")
        return ir.AnalysisCall(function, name_token.start, end.end, position, model, table_sql,
                               table_position, config=config)
    label = features = None
    top_k = ir.DEFAULT_TOP_K
    if function == ir.EXPLAIN_PREDICT:
        if cur.token.is_punct(",") and cur.peek().is_word("DESCRIPTOR"):
            cur.advance()
            cur.advance()
            features = _parse_descriptor(cur)
        if cur.accept_punct(","):
            top_k = _positive_integer(cur, "top_k")
    elif cur.accept_punct(","):
        cur.expect_word("DESCRIPTOR")
        descriptor_token = cur.token
        columns = _parse_descriptor(cur)
        if len(columns) != 1:
            raise cur.error(f"{function}'s DESCRIPTOR names the one label column",
                            descriptor_token)
        label = columns[0]
    end = cur.expect_punct(")")
    return ir.AnalysisCall(function, name_token.start, end.end, position, model, table_sql,
                           table_position, label, features, top_k)


def _model_series_calls(statement: Statement) -> list[ir.AnalysisCall]:
    """BigQuery's model form: ML_FORECAST(MODEL m [, MAP[...]]) and
    ML_DETECT_ANOMALIES(TABLE t, MODEL m [, MAP[...]]) (the OVER aggregates of the same names
    are mlsql.timeseries.calls')."""
    calls = []
    tokens = statement.tokens
    for index, token in enumerate(tokens[:-2]):
        if (token.upper in ir.MODEL_SERIES_FUNCTIONS and tokens[index + 1].is_punct("(")
                and is_model_form(tokens, index + 1)):
            cur = _Cursor(statement)
            cur.i = index
            calls.append(_parse_model_series(cur))
    return calls


def _parse_model_series(cur: _Cursor) -> ir.AnalysisCall:
    name_token = cur.token
    function = name_token.upper
    position = cur.position(name_token)
    if function == ir.FORECAST:
        cur.advance()
        cur.expect_punct("(")
        if cur.token.is_word("TABLE"):
            raise cur.error("ML_FORECAST(MODEL m [, MAP['horizon', 'n', 'confidence_level', "
                            "'p']]) takes no table")
        cur.expect_word("MODEL")
        model = cur.model_ref()
        config = _optional_map(cur)
        end = cur.expect_punct(")")
        return ir.AnalysisCall(function, name_token.start, end.end, position, model,
                               config=config)
    if cur.peek(2).is_word("MODEL"):
        raise cur.error("ML_DETECT_ANOMALIES needs the rows to judge: ML_DETECT_ANOMALIES("
                        "TABLE t, MODEL m [, MAP['anomaly_prob_threshold', 'p']])",
                        cur.peek(2))
    _, table_sql, table_position, model = _table_and_model(cur)
    config = _optional_map(cur)
    end = cur.expect_punct(")")
    return ir.AnalysisCall(function, name_token.start, end.end, position, model, table_sql,
                           table_position, config=config)


def _parse_drift(cur: _Cursor) -> ir.AnalysisCall:
    """ML_VALIDATE_DATA_DRIFT(TABLE base, TABLE current [, MAP[...]])."""
    name_token = cur.advance()
    cur.expect_punct("(")
    base_sql, base_position = _table_argument(cur)
    cur.expect_punct(",")
    table_sql, table_position = _table_argument(cur)
    config = _optional_map(cur)
    end = cur.expect_punct(")")
    return ir.AnalysisCall(ir.VALIDATE_DATA_DRIFT, name_token.start, end.end,
                           cur.position(name_token), None, table_sql, table_position,
                           base_sql=base_sql, base_position=base_position, config=config)


def _parse_labelled_columns(cur: _Cursor) -> ir.AnalysisCall:
    """ML_CHI_SQUARE_TEST | ML_ANOVA_TEST | ML_F_VALUE_TEST(TABLE t, DESCRIPTOR(label),
    DESCRIPTOR(features...)), ML_EVALUATE_BINARY(TABLE t, DESCRIPTOR(label),
    DESCRIPTOR(score) [, DESCRIPTOR(weight)]) and ML_SWING(TABLE t, DESCRIPTOR(user),
    DESCRIPTOR(item) [, MAP[...]])."""
    name_token = cur.advance()
    function = name_token.upper
    cur.expect_punct("(")
    table_sql, table_position = _table_argument(cur)
    label = _one_column(cur, function, "first DESCRIPTOR names the one label column")
    config: tuple[tuple[str, str], ...] = ()
    if function == ir.EVALUATE_BINARY:
        columns = (_one_column(cur, function, "second DESCRIPTOR names the one score column"),)
        if cur.token.is_punct(","):
            columns += (_one_column(cur, function, "third DESCRIPTOR names the one weight "
                                                   "column"),)
    elif function == ir.SWING:
        columns = (_one_column(cur, function, "second DESCRIPTOR names the one item column"),)
        config = _optional_map(cur)
    else:
        cur.expect_punct(",")
        cur.expect_word("DESCRIPTOR")
        columns = _parse_descriptor(cur)
    end = cur.expect_punct(")")
    return ir.AnalysisCall(function, name_token.start, end.end, cur.position(name_token), None,
                           table_sql, table_position, label, columns, config=config)


def _one_column(cur: _Cursor, function: str, what: str) -> ir.ColumnRef:
    """`, DESCRIPTOR(column)`."""
    cur.expect_punct(",")
    cur.expect_word("DESCRIPTOR")
    descriptor_token = cur.token
    columns = _parse_descriptor(cur)
    if len(columns) != 1:
        raise cur.error(f"{function}'s {what}", descriptor_token)
    return columns[0]


def _parse_delayed(cur: _Cursor) -> ir.AnalysisCall:
    """ML_EVALUATE_DELAYED(TABLE predictions, TABLE labels, MODEL m, DESCRIPTOR(key)
    [, MAP[...]])."""
    name_token = cur.advance()
    cur.expect_punct("(")
    table_sql, table_position = _table_argument(cur)
    cur.expect_punct(",")
    labels_sql, labels_position = _table_argument(cur)
    cur.expect_punct(",")
    cur.expect_word("MODEL")
    model = cur.model_ref()
    cur.expect_punct(",")
    cur.expect_word("DESCRIPTOR")
    descriptor_token = cur.token
    keys = _parse_descriptor(cur)
    if len(keys) != 1:
        raise cur.error("ML_EVALUATE_DELAYED's DESCRIPTOR names the one column that joins a "
                        "prediction to its label", descriptor_token)
    config = _optional_map(cur)
    end = cur.expect_punct(")")
    return ir.AnalysisCall(ir.EVALUATE_DELAYED, name_token.start, end.end,
                           cur.position(name_token), model, table_sql, table_position,
                           config=config, labels_sql=labels_sql,
                           labels_position=labels_position, key=keys[0])


def _optional_map(cur: _Cursor) -> tuple[tuple[str, str], ...]:
    """`, MAP['key', 'value', ...]` or nothing."""
    if not cur.accept_punct(","):
        return ()
    cur.expect_word("MAP")
    return tuple(_parse_map(cur))


def _positive_integer(cur: _Cursor, what: str) -> int:
    token = cur.token
    if (token.kind is not Kind.NUMBER or not (token.text.isascii() and token.text.isdigit())
            or not 1 <= int(token.text) <= ir.MAX_TOP_K):
        raise cur.error(f"expected {what}, an integer from 1 to {ir.MAX_TOP_K}, found "
                        f"{cur._describe(token)}")
    cur.advance()
    return int(token.text)


def _parse_predict(cur: _Cursor) -> ir.PredictCall:
    if cur.peek(3).is_punct("=>"):  # ML_PREDICT ( NAME =>
        return _parse_named_predict(cur)
    start, table_sql, table_position, model = _table_and_model(cur)
    descriptor = None
    config: list[tuple[str, str]] = []
    while cur.accept_punct(","):
        if cur.accept_word("DESCRIPTOR"):
            if descriptor is not None:
                raise cur.error("ML_PREDICT takes one DESCRIPTOR")
            descriptor = _parse_descriptor(cur)
        elif cur.accept_word("MAP"):
            config = _parse_map(cur)
        else:
            raise cur.error(f"expected DESCRIPTOR(...) or MAP[...], found "
                            f"{cur._describe(cur.token)}")
    end = cur.expect_punct(")")
    return ir.PredictCall(start.start, end.end, table_sql, table_position, model,
                          descriptor, tuple(config))


_PREDICT_ARGUMENTS = ("INPUT", "MODEL", "ARGS", "CONFIG")


def _parse_named_predict(cur: _Cursor) -> ir.PredictCall:
    """Flink's named form: ML_PREDICT(INPUT => TABLE t, MODEL => MODEL m,
    ARGS => DESCRIPTOR(...), CONFIG => MAP[...]) in any order."""
    start = cur.advance()
    cur.expect_punct("(")
    found: dict[str, object] = {}
    table_sql, table_position = "", cur.position()
    while True:
        name_token = cur.token
        name = name_token.upper
        if name not in _PREDICT_ARGUMENTS:
            raise cur.error(f"unknown ML_PREDICT argument {name_token.text!r}"
                            f"{did_you_mean(name, _PREDICT_ARGUMENTS)}")
        if name in found:
            raise cur.error(f"ML_PREDICT argument {name} is given twice")
        cur.advance()
        cur.expect_punct("=>")
        if name == "INPUT":
            table_sql, table_position = _table_argument(cur)
            found[name] = table_sql
        elif name == "MODEL":
            cur.expect_word("MODEL")
            found[name] = cur.model_ref()
        elif name == "ARGS":
            cur.expect_word("DESCRIPTOR")
            found[name] = _parse_descriptor(cur)
        else:
            cur.expect_word("MAP")
            found[name] = tuple(_parse_map(cur))
        if not cur.accept_punct(","):
            break
    end = cur.token
    for required in ("INPUT", "MODEL"):
        if required not in found:
            raise cur.error(f"ML_PREDICT needs its {required} => argument")
    cur.expect_punct(")")
    return ir.PredictCall(start.start, end.end, table_sql, table_position,
                          found["MODEL"], found.get("ARGS"), found.get("CONFIG", ()))


def _parse_descriptor(cur: _Cursor) -> tuple[ir.ColumnRef, ...]:
    cur.expect_punct("(")
    columns = []
    while True:
        token = cur.token
        if token.kind not in _NAME_KINDS:
            raise cur.error(f"expected a column name, found {cur._describe(token)}")
        columns.append(ir.ColumnRef(cur.advance().value, cur.position(token)))
        if not cur.accept_punct(","):
            break
    cur.expect_punct(")")
    return tuple(columns)


def _parse_map(cur: _Cursor) -> list[tuple[str, str]]:
    cur.expect_punct("[")
    pairs = []
    while cur.token.kind is Kind.STRING:
        key = cur.advance().value
        cur.expect_punct(",")
        if cur.token.kind is not Kind.STRING:
            raise cur.error("MAP values must be 'strings'")
        pairs.append((key, cur.advance().value))
        if not cur.accept_punct(","):
            break
    cur.expect_punct("]")
    return pairs


__all__ = ["parse_one", "parse_script", "parse_statement", "tokenize"]
