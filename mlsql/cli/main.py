"""`mlsql run FILE.sql` and `mlsql models`: the command line."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mlsql.cli.cluster import leave_running
from mlsql.cli.cluster import register as register_cluster
from mlsql.cli.gateway import add_commands as add_gateway_commands
from mlsql.cli.notebook import register as register_notebook
from mlsql.cli.retrain import register as register_retrain
from mlsql.errors import MlsqlError
from mlsql.export.choices import PREDICT_CHOICES
from mlsql.frontend.templating import parse_variables, render
from mlsql.models.registry import default_registry_path
from mlsql.notebook.bars import is_bar, text_bar

if TYPE_CHECKING:  # the planner, pandas and PyFlink load when a command needs them
    import pandas as pd

    from mlsql.statements.script import Step


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sql-client"]:  # everything after it is sql-client.sh's, --help too
        argv = ["sql-client", "--", *argv[1:]]
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except MlsqlError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _add_variables(command: argparse.ArgumentParser) -> None:
    """--var for the commands that read a script (mlsql.frontend.templating)."""
    command.add_argument("--var", dest="variables", action="append", default=[],
                         metavar="NAME=VALUE",
                         help="a value for the script's {{ NAME }} (repeatable); the script "
                              "is rendered with Jinja only when one is given")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlsql", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    registry_help = f"model registry directory (default: $MLSQL_REGISTRY or "\
                    f"{default_registry_path()})"

    run = commands.add_parser("run", help="run a SQL script and print each query's result")
    run.add_argument("file", type=Path, help="the script; '-' reads standard input")
    run.add_argument("-i", "--init", type=Path, action="append", default=[], metavar="FILE",
                     help="a script to run first, in the same session (repeatable), as "
                          "Flink's SQL client -i")
    _add_variables(run)
    run.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                     help="a Flink or mlsql option for the session (repeatable)")
    run.add_argument("--registry", help=registry_help)
    run.add_argument("--format", choices=("table", "csv", "json"), default="table")
    run.add_argument("--mode", choices=("streaming", "batch"),
                     help="initial runtime mode (default: streaming, as in Flink)")
    run.add_argument("--resume-from", metavar="DIR",
                     help="restore the script's jobs from the newest completed checkpoint "
                          "(or the savepoint) under DIR")
    run.add_argument("--jobmanager", metavar="HOST:PORT",
                     help="submit every job to this Flink cluster's REST API (e.g. "
                          "127.0.0.1:8081, see `mlsql cluster start`) instead of the embedded "
                          "mini-cluster; streaming jobs keep running there after mlsql exits")
    run.set_defaults(handler=_run)

    explain = commands.add_parser(
        "explain", help="print each statement as Flink will run it, with Flink's plan")
    explain.add_argument("file", type=Path)
    _add_variables(explain)
    explain.add_argument("--registry", help=registry_help)
    explain.set_defaults(handler=_explain)

    compile_ = commands.add_parser(
        "compile", help="write a plain Flink SQL job (DIR/job.sql) with every ML construct "
                        "rewritten, plus the models and UDFs it needs")
    compile_.add_argument("file", type=Path)
    _add_variables(compile_)
    compile_.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    compile_.add_argument("--registry", help=registry_help)
    compile_.add_argument("--predict", choices=PREDICT_CHOICES, default="udf",
                          help="ML_PREDICT as mlsql plans it (udf, the default), or as Flink's "
                               "own ML_PREDICT over mlsql's model provider (flink: streaming "
                               "only, no Python in the job)")
    compile_.set_defaults(handler=_compile)

    models = commands.add_parser("models", help="list the models in the registry")
    models.add_argument("--registry", help=registry_help)
    models.add_argument("--format", choices=("table", "csv", "json"), default="table")
    models.set_defaults(handler=_models)

    kafka = commands.add_parser("kafka", help="a local Apache Kafka broker on 127.0.0.1")
    actions = kafka.add_subparsers(dest="action", required=True)
    data_help = "the broker's data directory (default: $MLSQL_KAFKA_DATA or ~/.mlsql/kafka)"
    for action, text in (("start", "start the broker (resolving it on first use)"),
                         ("stop", "stop the broker"), ("status", "is the broker running?"),
                         ("install", "resolve the broker and Flink's Kafka connector from "
                                     "Maven Central, start nothing")):
        sub = actions.add_parser(action, help=text)
        sub.add_argument("--data", help=data_help)
        if action == "start":
            sub.add_argument("--port", type=int, default=9092)
        sub.set_defaults(handler=_kafka)
    install = commands.add_parser(
        "install", help="resolve every jar mlsql runs beside PyFlink from Maven Central (the "
                        "Kafka broker and connector, Flink's SQL gateway classes, its JDBC "
                        "driver) and build its JVM scorers with the JDK's javac, start nothing")
    install.set_defaults(handler=_install)
    register_cluster(commands, _progress)
    add_gateway_commands(commands, registry_help, _progress, _define)
    register_notebook(commands, _progress)
    register_retrain(commands, registry_help, _progress, _parse_file, _define)
    return parser


def _run(args: argparse.Namespace) -> int:
    variables = parse_variables(args.variables)
    script = sys.stdin.read() if str(args.file) == "-" else _read(args.file)
    # Syntax errors in any file surface before anything runs.
    statements = [step for init in args.init for step in _parse_file(init, variables=variables)]
    statements += _parse_file(args.file, script, variables)
    import pandas as pd

    from mlsql.runtime.job_handle import JobHandle
    from mlsql.session import Session  # starts the JVM: keep --help fast

    options = dict(_define(text) for text in args.defines)
    if args.resume_from:
        from mlsql.streaming.checkpoints import RECOVERY_PATH, latest_checkpoint

        checkpoint = latest_checkpoint(args.resume_from)
        _progress(f"resuming from {checkpoint}")
        options[RECOVERY_PATH] = checkpoint.as_uri()
    session = Session(args.registry, mode=args.mode, options=options, progress=_progress,
                      jobmanager=args.jobmanager)
    detached: list[JobHandle] = []  # with --jobmanager: jobs that belong to the cluster
    try:
        for step in statements:
            result = session.execute(step.statement, step.parsed)
            if isinstance(result, pd.DataFrame):
                _print_frame(result, args.format)
            elif isinstance(result, JobHandle):
                _progress(f"submitted job {result.job_id}")
                if session.jobmanager:
                    detached.append(result)
        running = [job for job in session.jobs if not job.done()]
        if running and session.jobmanager:
            leave_running(running, session.jobmanager, _progress)
        elif running:
            _progress(f"waiting for {len(running)} running job(s); Ctrl-C cancels")
            for job in running:
                job.wait()
    except KeyboardInterrupt:
        for job in session.jobs:
            if not any(job is kept for kept in detached):
                job.cancel()
        raise
    return 0


def _explain(args: argparse.Namespace) -> int:
    from mlsql.export import explain
    from mlsql.session import Session
    from mlsql.statements.script import steps

    script = _render_file(args.file, parse_variables(args.variables))
    steps(script)  # syntax errors before the JVM starts
    sys.stdout.write(explain(Session(args.registry, progress=_progress), script))
    return 0


def _compile(args: argparse.Namespace) -> int:
    from mlsql.export import compile_job
    from mlsql.session import Session
    from mlsql.statements.script import steps

    script = _render_file(args.file, parse_variables(args.variables))
    steps(script)  # syntax errors before the JVM starts
    job = compile_job(Session(args.registry, progress=_progress), script, args.output,
                      args.predict)
    _progress(f"wrote {job}")
    return 0


def _models(args: argparse.Namespace) -> int:
    from mlsql.models.registry import Registry
    from mlsql.planner.manage import show_models
    from mlsql.syntax.ir import ShowModels

    _print_frame(show_models(ShowModels(), Registry(args.registry)), args.format)
    return 0


def _kafka(args: argparse.Namespace) -> int:
    from mlsql.services.jars import resolve
    from mlsql.services.kafka import LocalKafka

    broker = LocalKafka(args.data)
    if args.action == "install":
        for name in ("kafka-broker", "kafka-connector"):
            jars = resolve(name, _progress)
            _progress(f"{name}: {len(jars)} jar(s) in {jars[0].parent}")
    elif args.action == "start":
        status = broker.start(args.port, progress=_progress)
        print(status.describe())
    elif args.action == "stop":
        print("Kafka stopped" if broker.stop() else broker.status().describe())
    else:
        status = broker.status()
        print(status.describe())
        return 0 if status.running else 3
    return 0


def _install(args: argparse.Namespace) -> int:
    from mlsql.jvm.build import JvmUnavailable, scorer_jar
    from mlsql.runtime import class_archive
    from mlsql.services.jars.resolve import BUNDLES, resolve

    for name in BUNDLES:
        jars = resolve(name, _progress)
        _progress(f"{name}: {len(jars)} jar(s) in {jars[0].parent}")
    try:
        _progress(f"JVM scorers: {scorer_jar()}")
    except JvmUnavailable as error:
        _progress(f"{error}; ML_PREDICT scores without them (compiled SQL or the Python UDF)")
    try:
        _progress(f"JVM class archive: {class_archive.build(_progress)}")
    except MlsqlError as error:
        _progress(f"{error}; every JVM starts without it (about 3 CPU-seconds more each)")
    return 0


def _parse_file(path: Path, text: str | None = None,
                variables: dict[str, str] | None = None) -> list[Step]:
    """The file's statements; a syntax error names the file when there are several."""
    from mlsql.statements.script import steps

    script = render(_read(path) if text is None else text, variables or {}, str(path))
    try:
        return steps(script)
    except MlsqlError as error:
        raise MlsqlError(f"{path}: {error}") from None


def _render_file(path: Path, variables: dict[str, str]) -> str:
    return render(_read(path), variables, str(path))


def _define(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise MlsqlError(f"-D takes KEY=VALUE, not {text!r}")
    return key.strip(), value.strip()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise MlsqlError(f"cannot read {path}: {error.strerror}") from None


def _print_frame(frame: pd.DataFrame, fmt: str) -> None:
    import pandas as pd

    if fmt == "csv":
        sys.stdout.write(frame.to_csv(index=False))
    elif fmt == "json":
        if not frame.empty:
            sys.stdout.write(frame.to_json(orient="records", lines=True).rstrip("\n") + "\n")
    elif frame.empty:
        print("(no rows)\n" if len(frame.columns) else "OK\n")
    else:
        with pd.option_context("display.max_colwidth", 80, "display.width", 200):
            print(frame.to_string(index=False))
        print(f"({len(frame)} row{'s' if len(frame) != 1 else ''})\n")
    sys.stdout.flush()


class _Progress:
    """Progress on stderr, one `[mlsql HH:MM:SS] message` line each. On a terminal a
    `Step` (mlsql.core.progress) is drawn as a bar redrawn in place on one line, which ends when
    the step finishes or another task or message comes."""

    def __init__(self) -> None:
        self._open_task: str | None = None  # the task whose bar line has no newline yet

    def __call__(self, message: str) -> None:
        stream = sys.stderr
        prefix = f"[mlsql {time.strftime('%H:%M:%S')}] "
        drawn = is_bar(message) and stream.isatty()
        if self._open_task is not None and not (drawn and message.task == self._open_task):
            stream.write("\n")
            self._open_task = None
        if not drawn:
            print(prefix + message, file=stream, flush=True)
            return
        stream.write(f"\r{prefix}{text_bar(message)}\x1b[K")
        if message.finished:
            stream.write("\n")
        self._open_task = None if message.finished else message.task
        stream.flush()


_progress = _Progress()


if __name__ == "__main__":
    sys.exit(main())
