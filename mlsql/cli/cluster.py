"""`mlsql cluster start|stop|status`: the local standalone cluster on the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from mlsql.errors import MlsqlError
from mlsql.services.cluster.rest import DEFAULT_PORT, Address


def register(commands: argparse._SubParsersAction, progress: Callable[[str], None]) -> None:
    """Add the `cluster` subcommand to mlsql's parser."""
    cluster = commands.add_parser(
        "cluster", help="a local Flink standalone cluster on 127.0.0.1 (PyFlink's "
                        "bin/start-cluster.sh); submit to it with `mlsql run --jobmanager`")
    actions = cluster.add_subparsers(dest="action", required=True)
    start = actions.add_parser("start", help="start a JobManager and a TaskManager and wait "
                                             "until the TaskManager's slots are registered")
    start.add_argument("--port", type=int, default=DEFAULT_PORT,
                       help=f"the REST API and web UI port (default {DEFAULT_PORT})")
    start.add_argument("--slots", type=int, default=2,
                       help="each TaskManager's task slots (default 2)")
    start.add_argument("--taskmanagers", type=int, default=1,
                       help="TaskManager processes (default 1); a job survives losing one "
                            "when the others have the slots")
    start.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                       help="how long to wait for the TaskManager (default 60)")
    start.add_argument("-D", dest="defines", action="append", default=[],
                       metavar="KEY=VALUE",
                       help="another Flink setting for the cluster's config.yaml (repeatable)")
    stop = actions.add_parser("stop", help="stop the cluster `mlsql cluster start` started, "
                                           "and any Python worker a killed TaskManager left")
    add = actions.add_parser("add-taskmanager", help="start one more TaskManager, e.g. in "
                                                     "place of one that died")
    add.add_argument("--timeout", type=float, default=60, metavar="SECONDS",
                     help="how long to wait for it to register (default 60)")
    status = actions.add_parser("status", help="is a cluster running; its TaskManagers, slots "
                                               "and running jobs")
    status.add_argument("--port", type=int, default=None,
                        help="the port to look at (default: the last cluster started's)")
    for parser in (start, stop, status, add):
        parser.set_defaults(handler=lambda args: _cluster(args, progress))


def leave_running(jobs: list, address: Address, progress: Callable[[str], None]) -> None:
    """`mlsql run --jobmanager`: the script's unfinished jobs belong to the cluster."""
    for job in jobs:
        progress(f"job {job.job_id} keeps running on the cluster: "
                 f"{address.url}/#/job/running/{job.job_id}/overview")
    example = jobs[0].job_id if len(jobs) == 1 else "<job id>"
    progress(f"stop it with: echo \"STOP JOB '{example}';\" | mlsql run --jobmanager "
             f"{address} -")


def _cluster(args: argparse.Namespace, progress: Callable[[str], None]) -> int:
    from mlsql.services.cluster.local import LocalCluster

    cluster = LocalCluster()
    if args.action == "start":
        extra = dict(_setting(text) for text in args.defines)
        status, started = cluster.start(args.port, args.slots, taskmanagers=args.taskmanagers,
                                        timeout=args.timeout, extra=extra, progress=progress)
        if not started:
            print(f"already running: {status.describe()}")
            return 0
        print(status.describe())
        print(f"submit jobs with: mlsql run --jobmanager {status.address} FILE.sql")
        return 0
    if args.action == "stop":
        if cluster.stop():
            print("Flink cluster stopped")
            return 0
        status = cluster.status()
        print(status.describe() + (" (not started by mlsql: stop it with the scripts that "
                                   "started it)" if status.running else ""))
        return 0
    if args.action == "add-taskmanager":
        print(cluster.add_taskmanager(timeout=args.timeout).describe())
        return 0
    status = cluster.status(args.port)
    print(status.describe())
    return 0 if status.running else 3


def _setting(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise MlsqlError(f"-D takes KEY=VALUE, not {text!r}")
    return key.strip(), value.strip()
