"""`mlsql retrain SCRIPT.sql`: the retraining service. The script defines what the policies
read (tables, views) and may set the policies (ALTER MODEL m SET ('retrain.when' = ...));
then every model in the registry with a policy is checked each --interval, and each event is
printed as a line of a timeline (and kept: ML_RETRAINING_EVENTS(MODEL m))."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlsql.core.durations import parse_duration
from mlsql.errors import MlsqlError
from mlsql.frontend.templating import parse_variables

if TYPE_CHECKING:
    from mlsql.monitoring.events import Event


def register(commands: argparse._SubParsersAction, registry_help: str,
             progress: Callable[[str], None], parse_file: Callable[..., list[Any]],
             define: Callable[[str], tuple[str, str]]) -> None:
    """Add the `retrain` subcommand to mlsql's parser."""
    retrain = commands.add_parser(
        "retrain", help="run the models' retraining policies: check each one every "
                        "--interval, train, gate and promote as they say")
    retrain.add_argument("file", type=Path,
                         help="a script run first: the tables and views the policies read, "
                              "and the policies themselves (ALTER MODEL m SET ('retrain.*' ...))")
    retrain.add_argument("-i", "--init", type=Path, action="append", default=[],
                         metavar="FILE", help="a script to run first (repeatable), as mlsql run")
    retrain.add_argument("--var", dest="variables", action="append", default=[],
                         metavar="NAME=VALUE",
                         help="a value for the script's {{ NAME }} (repeatable), as mlsql run")
    retrain.add_argument("--registry", help=registry_help)
    retrain.add_argument("--interval", default="1 min", metavar="DURATION",
                         help="time between two checks (default: 1 min)")
    retrain.add_argument("--passes", type=int, metavar="N",
                         help="stop after N checks (default: run until Ctrl-C)")
    retrain.add_argument("-D", dest="defines", action="append", default=[], metavar="KEY=VALUE",
                         help="a Flink or mlsql option for the service's session (repeatable)")
    retrain.set_defaults(handler=lambda args: _retrain(args, progress, parse_file, define))


def _retrain(args: argparse.Namespace, progress: Callable[[str], None],
             parse_file: Callable[..., list[Any]],
             define: Callable[[str], tuple[str, str]]) -> int:
    try:
        interval = parse_duration(args.interval)
    except ValueError as error:
        raise MlsqlError(f"--interval: {error}") from None
    if args.passes is not None and args.passes < 1:
        raise MlsqlError("--passes must be at least 1")
    variables = parse_variables(args.variables)
    statements = [step for path in [*args.init, args.file]  # syntax errors before the JVM
                  for step in parse_file(path, None, variables)]
    from mlsql.retraining.service import RetrainingService
    from mlsql.session import Session

    options = dict(define(text) for text in args.defines)
    session = Session(args.registry, mode="batch", options=options, progress=progress)
    for step in statements:
        session.execute(step.statement, step.parsed)
    service = RetrainingService(session, report=lambda event, model: print(
        timeline_line(event, model), flush=True))
    models = service.models()
    if not models:
        raise MlsqlError(f"no model in registry {session.registry.root} has a retraining "
                         "policy: set one with ALTER MODEL m SET ('retrain.when' = ..., "
                         "'retrain.training_data' = ...)")
    progress(f"checking {', '.join(models)} every {args.interval}"
             + ("" if args.passes else "; Ctrl-C stops"))
    service.run(interval, args.passes)
    return 0


def timeline_line(event: Event, model: str) -> str:
    """`HH:MM:SS  model  event     versions  reason`, in local time."""
    when = dt.datetime.fromisoformat(event.time).astimezone().strftime("%H:%M:%S")
    versions = f"v{event.serving_version}" if event.serving_version is not None else ""
    if event.candidate_version is not None:
        versions += f" -> v{event.candidate_version}"
    return f"{when}  {model}  {event.event:<9}  {versions:<10}  {event.reason}"
