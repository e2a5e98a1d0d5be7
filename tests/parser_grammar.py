"""mlsql's statements generated from its grammar, and mutations of real Flink SQL: what the
parser fuzz tests (tests/unit/test_parser_fuzz.py, hypothesis) and the parser benchmark
(tests/benchmarks/fuzz_parser.py, a seeded random.Random) both draw from.

A generator takes a `Draw`, so one grammar serves both: hypothesis shrinks what it draws, the
benchmark draws 100,000 cases quickly. A generated statement comes with what it must parse to
(its IR kind and how many ML calls of each sort it holds): the generator is a grammar test too.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar

from mlsql.errors import SqlSyntaxError
from mlsql.syntax import ir
from mlsql.syntax.lexer import Kind, tokenize
from mlsql.syntax.splitter import split_statements

T = TypeVar("T")
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "unit" / "corpus" / "flink_statements.sql"


class Draw(Protocol):
    def choice(self, options: Sequence[T]) -> T: ...

    def integer(self, low: int, high: int) -> int: ...


class RandomDraw:
    """Draws from a seeded random.Random (the benchmark)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.random.randrange(len(options))]

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)


def chance(draw: Draw, percent: int) -> bool:
    return draw.integer(1, 100) <= percent


@dataclass
class Expected:
    """What a generated statement parses to."""

    kind: type
    predicts: int = 0
    evaluates: int = 0
    analyses: int = 0
    features: int = 0  # outermost feature calls
    series: int = 0

    def counts(self) -> tuple[int, ...]:
        return (self.predicts, self.evaluates, self.analyses, self.features, self.series)


@dataclass
class Generated:
    text: str
    expected: list[Expected] = field(default_factory=list)  # one per statement


# ---- lexical pieces ------------------------------------------------------------------------

_PLAIN_NAMES = ("t", "tx", "orders", "m", "fraud", "Model_2", "_x", "a1", "Ünïcode", "日本")
_QUOTED_BODIES = ("my model", "select", "a``b", "MODEL", "x.y", "😀", "名前", "-- not a comment",
                  "/* no */", "'q'", "m$x")
_COLUMNS = ("a", "b", "c", "amount", "`hour`", "`order id`", "y")
_SPACES = (" ", " ", " ", "\n", "  ", "\t", " /* note */ ", " -- note\n", "\n\n  ", " /**/ ")


def ws(draw: Draw) -> str:
    return draw.choice(_SPACES)


def quoted(body: str) -> str:
    return "`" + body.replace("`", "``") + "`"


def identifier(draw: Draw) -> str:
    if chance(draw, 25):
        return quoted(draw.choice(_QUOTED_BODIES))
    return draw.choice(_PLAIN_NAMES)


def qualified(draw: Draw) -> str:
    return ".".join(identifier(draw) for _ in range(draw.integer(1, 3)))


def model_name(draw: Draw) -> str:
    """A model's name: no '$' (it selects a version)."""
    name = qualified(draw)
    return name.replace("$", "") if "$" in name else name


def model_ref(draw: Draw) -> str:
    name = model_name(draw)
    pin = draw.choice(["", "", "$1", "$27", "$latest", "$LATEST"])
    if not pin:
        return name
    if name.endswith("`"):  # m$2 inside the quotes: `m$2`
        return name[:-1] + pin + "`"
    return name + pin if chance(draw, 50) else quoted(name.replace("`", "") + pin)


def string(draw: Draw) -> str:
    body = draw.choice(["", "x", "it''s", "logistic_reg", "ünï", "a\nb", "--", "/*", "`", "%m_",
                        "MODEL m", "😀"])
    return f"'{body}'"


def number(draw: Draw) -> str:
    return draw.choice(["0", "1", "3", "0.5", "1e3", "2.5E-2", ".25", "100"])


def column(draw: Draw) -> str:
    return draw.choice(_COLUMNS)


def columns(draw: Draw, most: int = 3) -> str:
    return ", ".join(column(draw) for _ in range(draw.integer(1, most)))


# ---- feature functions ---------------------------------------------------------------------

def numeric(draw: Draw, depth: int) -> tuple[str, int]:
    """A numeric expression and how many feature calls at its top level."""
    pick = draw.integer(0, 9) if depth < 3 else 0
    if pick <= 4:
        return draw.choice(["a", "b", "amount", "a + 1", "(b * 2)", "CAST(c AS DOUBLE)"]), 0
    if pick <= 7:
        return explicit_numeric(draw, depth + 1), 1
    inner, _ = numeric(draw, depth + 1)
    return f"COALESCE({inner}, 0)", int(inner.startswith("ML_"))


def explicit_numeric(draw: Draw, depth: int) -> str:
    x, _ = numeric(draw, depth)
    return draw.choice([
        f"ML_STANDARD_SCALER({x}, {number(draw)}, 2)",
        f"ML_MIN_MAX_SCALER({x}, 0, 10)",
        f"ML_MAX_ABS_SCALER({x}, 4)",
        f"ML_ROBUST_SCALER({x}, 2, 1, 3)",
        f"ML_IMPUTER({x}, {number(draw)})",
    ])


def explicit_feature(draw: Draw) -> str:
    """One explicit (Confluent form) feature call of any function."""
    x, _ = numeric(draw, 1)
    c = draw.choice(["c", "`order id`", "merchant"])
    tokens = f"ML_TOKENIZE({c})"
    return draw.choice([
        explicit_numeric(draw, 1),
        f"ML_BUCKETIZE({x}, ARRAY[1, 4, 7])",
        f"ML_BUCKETIZE({x}, ARRAY[0], ARRAY['none', 'low', 'high'])",
        f"ML_LABEL_ENCODER({c}, ARRAY['a', 'b'])",
        f"ML_ONE_HOT_ENCODER({c}, ARRAY['a', 'it''s'])",
        f"ML_IMPUTER({c}, 'none')",
        f"ML_POLYNOMIAL_EXPANSION(ARRAY[a, {x}], 2)",
        f"ML_NORMALIZER(ARRAY[a, b], {draw.choice(['1', '2', chr(39) + 'inf' + chr(39)])})",
        f"ML_FEATURE_HASHING(ARRAY[{c}, a], 8)",
        tokens,
        f"ML_NGRAMS({tokens}, 2, '_')",
        f"ML_HASHING_TF({tokens}, 16)",
        f"ML_IDF(ML_HASHING_TF({tokens}, 2), ARRAY[1, 0], 10)",
    ])


def fitted_feature(draw: Draw) -> str:
    """A fitted (BigQuery form) call: TRANSFORM only."""
    x, _ = numeric(draw, 2)
    return draw.choice([
        f"ML_STANDARD_SCALER({x}) OVER ()",
        f"ML_MIN_MAX_SCALER({x}) OVER ()",
        f"ML_MAX_ABS_SCALER({x}) OVER ()",
        f"ML_ROBUST_SCALER({x}) OVER ()",
        f"ML_QUANTILE_BUCKETIZE({x}, 4) OVER ()",
        f"ML_IMPUTER({x}, '{draw.choice(['mean', 'median', 'most_frequent'])}') OVER ()",
        "ML_LABEL_ENCODER(c) OVER ()",
        "ML_ONE_HOT_ENCODER(c, 10, 2) OVER ()",
        "ML_NORMALIZER(ARRAY[ML_STANDARD_SCALER(a, 1, 2), b])",
    ])


# ---- ML table functions --------------------------------------------------------------------

def table_arg(draw: Draw) -> str:
    hint = " /*+ OPTIONS('k' = 'v') */" if chance(draw, 10) else ""
    return f"TABLE{ws(draw)}{qualified(draw)}{hint}"


def model_arg(draw: Draw) -> str:
    return f"MODEL{ws(draw)}{model_ref(draw)}"


def config_map(draw: Draw) -> str:
    pairs = [f"{string(draw)}, {string(draw)}" for _ in range(draw.integer(0, 2))]
    return f"MAP[{', '.join(pairs)}]"


def predict_call(draw: Draw) -> str:
    if chance(draw, 20):
        return named_predict_call(draw)
    args = [table_arg(draw), model_arg(draw)]
    if chance(draw, 50):
        args.append(f"DESCRIPTOR({columns(draw)})")
    if chance(draw, 40):
        args.append(config_map(draw))
    return f"ML_PREDICT({(',' + ws(draw)).join(args)})"


def named_predict_call(draw: Draw) -> str:
    args = [f"INPUT => {table_arg(draw)}", f"MODEL => {model_arg(draw)}"]
    if chance(draw, 50):
        args.append(f"ARGS => DESCRIPTOR({columns(draw)})")
    if chance(draw, 50):
        args.append(f"CONFIG => {config_map(draw)}")
    order = sorted(range(len(args)), key=lambda _: draw.integer(0, 9))
    return f"ML_PREDICT({', '.join(args[i] for i in order)})"


def evaluate_call(draw: Draw) -> str:
    args = [table_arg(draw), model_arg(draw)]
    if chance(draw, 60):
        args.append(f"DESCRIPTOR({column(draw)})")
        if chance(draw, 50):
            args.append(f"DESCRIPTOR({columns(draw)})")
    return f"ML_EVALUATE({', '.join(args)})"


def optional_map(draw: Draw) -> str:
    return f", {config_map(draw)}" if chance(draw, 40) else ""


def analysis_call(draw: Draw) -> str:
    t, m = table_arg(draw), model_arg(draw)
    return draw.choice([
        f"{draw.choice(ir.MODEL_ONLY_FUNCTIONS)}({m})",
        f"ML_EXPLAIN_PREDICT({t}, {m}{draw.choice(['', ', DESCRIPTOR(a, b)', ', 5'])})",
        f"{draw.choice(ir.LABELLED_TABLE_FUNCTIONS)}({t}, {m}"
        f"{draw.choice(['', ', DESCRIPTOR(y)'])})",
        f"ML_VALIDATE_DATA_SKEW({t}, {m}{optional_map(draw)})",
        f"ML_VALIDATE_DATA_DRIFT({t}, {table_arg(draw)}{optional_map(draw)})",
        f"ML_EVALUATE_DELAYED({t}, {table_arg(draw)}, {m}, DESCRIPTOR(id){optional_map(draw)})",
        f"ML_FORECAST({m}{optional_map(draw)})",
        f"ML_DETECT_ANOMALIES({t}, {m}{optional_map(draw)})",
    ])


def series_call(draw: Draw) -> str:
    name = draw.choice(ir.SERIES_FUNCTIONS)
    values = ["v", "amount * 2"] if name != ir.DETECT_ANOMALIES_ROBUST else ["ROW(a, b + 1)"]
    value = draw.choice(values)
    options = draw.choice(["", ", JSON_OBJECT('horizon' VALUE 3)",
                           ", JSON_OBJECT('p' VALUE 1, 'seasonal' VALUE TRUE)"])
    return (f"{name}({value}, ts{options}) OVER (PARTITION BY k ORDER BY ts RANGE BETWEEN "
            "UNBOUNDED PRECEDING AND CURRENT ROW)")


# ---- queries -------------------------------------------------------------------------------

def source(draw: Draw, expected: Expected, depth: int) -> str:
    """What a FROM names: a table, an ML table function, a subquery, a join."""
    pick = draw.integer(0, 9) if depth < 4 else 0
    if pick <= 2:
        return qualified(draw)
    if pick <= 4:
        expected.predicts += 1
        return predict_call(draw) + draw.choice(["", " AS p", " p"])
    if pick == 5:
        expected.evaluates += 1
        return evaluate_call(draw)
    if pick == 6:
        expected.analyses += 1
        return analysis_call(draw)
    if pick <= 8:
        return f"({ws(draw)}{query(draw, expected, depth + 1)}{ws(draw)}) AS s{depth}"
    left = source(draw, expected, depth + 1)
    return f"{left} JOIN {source(draw, expected, depth + 1)} ON TRUE"


def select_item(draw: Draw, expected: Expected) -> str:
    pick = draw.integer(0, 9)
    if pick <= 4:
        return draw.choice(["*", "a", "p.*", "COUNT(*)", "`order id`", "'ML_PREDICT(TABLE t)'",
                            "a -- ML_PREDICT(\n"])
    if pick <= 7:
        expected.features += 1
        return explicit_feature(draw) + draw.choice(["", " AS f", " AS `f 2`"])
    expected.series += 1
    return series_call(draw)


def query(draw: Draw, expected: Expected, depth: int = 0) -> str:
    if depth < 3 and chance(draw, 15):
        body = query(draw, expected, depth + 1)
        return f"WITH w AS ({body}) SELECT * FROM w"
    if chance(draw, 5):
        return "VALUES (1, 'a'), (2, 'b')"
    items = ", ".join(select_item(draw, expected) for _ in range(draw.integer(1, 3)))
    where = draw.choice(["", " WHERE probability > 0.9", " WHERE a IN (SELECT a FROM u)",
                         " WHERE c = 'it''s'"])
    text = f"SELECT{ws(draw)}{items}{ws(draw)}FROM{ws(draw)}{source(draw, expected, depth)}{where}"
    if depth < 3 and chance(draw, 10):
        text += f" UNION ALL {query(draw, expected, depth + 1)}"
    return text


def flink_statement(draw: Draw) -> tuple[str, Expected]:
    expected = Expected(ir.FlinkStatement)
    body = query(draw, expected)
    pick = draw.integer(0, 9)
    if pick <= 5:
        return body, expected
    if pick <= 7:
        return f"INSERT INTO {qualified(draw)}{ws(draw)}{body}", expected
    if pick == 8:
        return f"EXPLAIN {body}", expected
    second = query(draw, expected)
    return (f"EXECUTE STATEMENT SET BEGIN INSERT INTO s1 {body}; INSERT INTO s2 {second}; END",
            expected)


# ---- mlsql's statements --------------------------------------------------------------------

def option_value(draw: Draw) -> str:
    return draw.choice([string(draw), number(draw), "-1", "TRUE", "false", "['y']",
                        "['a', 'b']", "HPARAM_RANGE(0.01, 0.3)", "HPARAM_CANDIDATES([1, 2, 'x'])",
                        "'HPARAM_RANGE(1, 2)'", "HPARAM_CANDIDATES([TRUE, -2])"])


def options(draw: Draw) -> str:
    keys = ["model_type", "label", "'max_iter'", "num_trees", "`seed`", "'eval_fraction'"]
    count = draw.integer(1, 4)
    chosen = keys[: count]
    pairs = [f"{k}{ws(draw)}={ws(draw)}{option_value(draw)}" for k in chosen]
    return f"({', '.join(pairs)})"


def transform(draw: Draw) -> str:
    items = []
    for i in range(draw.integer(1, 4)):
        pick = draw.integer(0, 3)
        if pick == 0:
            items.append(f"col{i}")
        elif pick == 1:
            items.append(f"{fitted_feature(draw)} AS f{i}")
        elif pick == 2:
            items.append(f"{explicit_feature(draw)} AS f{i}")
        else:
            items.append(f"a + {i} AS `f {i}`")
    return f"TRANSFORM ({', '.join(items)})"


def create_model(draw: Draw) -> tuple[str, Expected]:
    head = "CREATE" + draw.choice(["", " OR REPLACE"]) + ws(draw) + "MODEL"
    head += draw.choice(["", " IF NOT EXISTS"]) + ws(draw) + model_name(draw)
    parts = []
    shape = draw.integer(0, 3)  # where TRANSFORM stands, if anywhere
    if shape == 1:
        parts.append(transform(draw))
    if chance(draw, 15):
        parts.append(f"COMMENT {string(draw)}")
    parts.append(draw.choice(["WITH", "OPTIONS"]) + ws(draw) + options(draw))
    if shape == 2:
        parts.append(transform(draw))
    body_expected = Expected(ir.FlinkStatement)
    training = query(draw, body_expected)
    text = f"{head} {ws(draw).join(parts)}{ws(draw)}AS{ws(draw)}{training}"
    return text, Expected(ir.CreateModel)


def import_model(draw: Draw) -> tuple[str, Expected]:
    provider = draw.choice([*ir.MLSQL_PROVIDERS, "openai", "ONNX"])
    text = (f"CREATE MODEL{draw.choice(['', ' IF NOT EXISTS'])} {model_name(draw)} "
            "INPUT (a DOUBLE, `b c` ARRAY<FLOAT>, d DECIMAL(10, 2)) OUTPUT (score DOUBLE) "
            f"{draw.choice(['', 'COMMENT ' + chr(39) + 'x' + chr(39) + ' '])}"
            f"WITH ('provider' = '{provider}', 'path' = '/m.onnx')")
    mlsql_runs = provider.lower() in ir.MLSQL_PROVIDERS
    return text, Expected(ir.ImportModel if mlsql_runs else ir.FlinkStatement)


def management(draw: Draw) -> tuple[str, Expected]:
    ref = model_ref(draw)
    pick = draw.integer(0, 12)
    if pick == 0:
        like = draw.choice(["", f" LIKE {string(draw)}"])
        where = draw.choice(["", " FROM db", " IN cat.db"])
        return f"SHOW MODELS{where}{like}", Expected(ir.ShowModels)
    if pick == 1:
        return f"{draw.choice(['DESCRIBE', 'DESC', 'describe'])} MODEL {ref}", \
            Expected(ir.DescribeModel)
    if pick == 2:
        return f"SHOW CREATE MODEL {ref}", Expected(ir.ShowCreateModel)
    if pick == 3:
        return (f"DROP{draw.choice(['', ' TEMPORARY'])} MODEL"
                f"{draw.choice(['', ' IF EXISTS'])} {ref}"), Expected(ir.DropModel)
    if pick == 4:
        return f"ALTER MODEL{draw.choice(['', ' IF EXISTS'])} {ref} RENAME TO " \
               f"{model_name(draw)}", Expected(ir.AlterModel)
    if pick == 5:
        return f"ALTER MODEL {ref} SET {options(draw)}", Expected(ir.AlterModel)
    if pick == 6:
        return f"ALTER MODEL {ref} RESET ('label', max_iter)", Expected(ir.AlterModel)
    if pick == 7:
        return draw.choice(["SET", "SET 'execution.runtime-mode' = 'batch'",
                            "SET parallelism.default = 2", "SET 'k' = 'it''s'"]), \
            Expected(ir.SetOption)
    if pick == 8:
        return draw.choice(["RESET", "RESET 'execution.runtime-mode'", "RESET a.b"]), \
            Expected(ir.ResetOption)
    if pick == 9:
        return "SHOW JOBS", Expected(ir.ShowJobs)
    if pick == 10:
        flags = draw.choice(["", " WITH SAVEPOINT", " WITH DRAIN", " WITH SAVEPOINT WITH DRAIN"])
        return f"STOP JOB '228d70913eab60dda85c5e7f78b5782c'{flags}", Expected(ir.StopJob)
    if pick == 11:
        return "BEGIN STATEMENT SET", Expected(ir.BeginStatementSet)
    return "END", Expected(ir.EndStatementSet)


STATEMENT_KINDS: tuple[Callable[[Draw], tuple[str, Expected]], ...] = (
    create_model, create_model, import_model, management, management, flink_statement,
    flink_statement, flink_statement)


def statement(draw: Draw) -> tuple[str, Expected]:
    return draw.choice(STATEMENT_KINDS)(draw)


def script(draw: Draw) -> Generated:
    """One to three statements, ';'-separated, with comments and blank lines between."""
    generated = Generated("")
    texts = []
    for _ in range(draw.integer(1, 3)):
        text, expected = statement(draw)
        texts.append(text)
        generated.expected.append(expected)
    separator = draw.choice([";", ";\n", " ;\n-- next\n", ";\n\n/* next */ "])
    generated.text = draw.choice(["", "-- a script\n", "\n  "]) + separator.join(texts) + \
        draw.choice(["", ";", ";\n", "\n"])
    return generated


def check_parsed(generated: Generated, parsed: list) -> None:
    """A valid script parses to the statements its grammar says, with the ML calls in each."""
    kinds = [type(p).__name__ for _, p in parsed]
    assert kinds == [e.kind.__name__ for e in generated.expected], (kinds, generated.text)
    for (_, statement_ir), expected in zip(parsed, generated.expected, strict=True):
        if isinstance(statement_ir, ir.FlinkStatement) and expected.kind is ir.FlinkStatement:
            counts = (len(statement_ir.predicts), len(statement_ir.evaluates),
                      len(statement_ir.analyses), len(statement_ir.features),
                      len(statement_ir.series))
            assert counts == expected.counts(), (counts, expected.counts(), generated.text)


# ---- mutations -----------------------------------------------------------------------------

def real_statements() -> list[str]:
    """Real Flink SQL: the corpus, every ```sql block of the README, the examples' .sql."""
    texts = [s.text for s in split_statements(CORPUS.read_text())]
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sql\n(.*?)```", readme, re.DOTALL)
    examples = [p.read_text() for p in sorted((ROOT / "examples").rglob("*.sql"))]
    for block in [*blocks, *examples]:
        try:
            texts.extend(s.text for s in split_statements(block))
        except SqlSyntaxError:
            continue  # a README fragment with a placeholder
    return texts


_INSERTS = ("(", ")", ",", ";", "'", "`", "=", "[", "]", "$", ".", "--", "/*", "*/", "/*+",
            "=>", "MODEL", "TABLE", "ML_PREDICT(", "ML_EVALUATE(", "DESCRIPTOR(", "AS", "WITH",
            "OPTIONS", "TRANSFORM", "OVER ()", "CREATE", "SET", "END", "BEGIN", "IF", "NOT",
            "EXISTS", "MAP[", "ARRAY[", "'x'", "1", "-", "\n", " ", "\t", "ML_STANDARD_SCALER(",
            "ML_FORECAST(", "JSON_OBJECT(", "HPARAM_RANGE(", "INPUT", "OUTPUT", "x'", "U&'",
            "ML_FOO(", "ML_PREDICTS(", "é", "\u0000", "\ufeff", "\u2028", "\ud800", "😀",
            "9" * 40, "1e", "$latest", "`m$", "EXECUTE STATEMENT SET BEGIN")


def _tokens(text: str) -> list[tuple[int, int]]:
    try:
        return [(t.start, t.end) for t in tokenize(text) if t.kind is not Kind.EOF]
    except SqlSyntaxError:
        return []


def mutate_once(draw: Draw, text: str) -> str:
    spans = _tokens(text)
    op = draw.integer(0, 10)
    if op <= 3 or not spans:  # insert at a character or a token boundary
        at = draw.choice(spans)[draw.integer(0, 1)] if spans and chance(draw, 70) \
            else draw.integer(0, len(text))
        sep = draw.choice(["", " "])
        return text[:at] + sep + draw.choice(_INSERTS) + sep + text[at:]
    start, end = draw.choice(spans)
    if op == 4:  # delete a token
        return text[:start] + text[end:]
    if op == 5:  # duplicate a token
        return text[:end] + " " + text[start:end] + text[end:]
    if op == 6:  # swap two tokens
        other_start, other_end = draw.choice(spans)
        (s1, e1), (s2, e2) = sorted([(start, end), (other_start, other_end)])
        if e1 > s2:
            return text
        return text[:s1] + text[s2:e2] + text[e1:s2] + text[s1:e1] + text[e2:]
    extreme = chance(draw, 2)  # rare: these cost the lexer and the parser most
    if op == 7:  # a very long identifier
        return text[:start] + "x" * (70_000 if extreme else draw.choice([100, 1000])) + text[end:]
    if op == 8:  # deep nesting around a token
        depth = 3000 if extreme else draw.choice([10, 70])
        opener, closer = draw.choice([("(", ")"), ("ML_IMPUTER(", ", 0)"), ("ARRAY[", "]"),
                                      ("ML_NORMALIZER(ARRAY[", "])")])
        return text[:start] + opener * depth + text[start:end] + closer * depth + text[end:]
    if op == 9:  # truncate
        return text[:draw.integer(0, len(text))]
    return text[:start] + text[start:end].upper()[::-1] + text[end:]  # mangle a word


def mutated(draw: Draw, seeds: Sequence[str]) -> str:
    """A seed statement or a generated script, mutated one to four times."""
    text = draw.choice(seeds) if chance(draw, 50) else script(draw).text
    for _ in range(draw.integer(1, 4)):
        text = mutate_once(draw, text)
    return text


def check_error(error: SqlSyntaxError, text: str) -> None:
    """A syntax error points inside the text: a line of it, a column of that line (or one
    past its end)."""
    lines = text.split("\n")
    assert 1 <= error.line <= len(lines), (error.line, len(lines))
    assert 1 <= error.col <= len(lines[error.line - 1]) + 1, (error.line, error.col)
