"""The `mlsql gateway` and `mlsql sql-client` commands."""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable

Progress = Callable[[str], None]


def add_commands(commands: argparse._SubParsersAction, registry_help: str,
                 progress: Progress, define: Callable[[str], tuple[str, str]]) -> None:
    gateway = commands.add_parser(
        "gateway", help="serve Flink's SQL Gateway REST API: Flink's SQL client, its JDBC "
                        "driver and other gateway clients run mlsql statements")
    gateway.add_argument("--host", default="127.0.0.1",
                         help="address to listen on (default: 127.0.0.1, this machine only)")
    gateway.add_argument("--port", type=int, default=8083)
    gateway.add_argument("--registry", help=registry_help)
    gateway.add_argument("--jobmanager", metavar="HOST:PORT",
                         help="submit every session's jobs to this Flink cluster (its REST "
                              "address) instead of an embedded mini-cluster per session")
    gateway.add_argument("-D", dest="defines", action="append", default=[],
                         metavar="KEY=VALUE", help="a Flink or mlsql option for every session")
    gateway.add_argument("--allow-python-provider", action="store_true",
                         help="let sessions load code named in SQL: the python provider, "
                              "Python and jar functions, ADD JAR, the python.* and jar "
                              "options; refused by default")
    gateway.add_argument("--allow-model-path", dest="model_dirs", action="append", default=[],
                         metavar="DIR", help="a directory sessions may import model files "
                                             "from (repeatable; default: none)")
    gateway.add_argument("--idle-timeout", type=float, default=600.0, metavar="SECONDS",
                         help="close a session after this long without requests")
    gateway.add_argument("--max-sessions", type=int, default=8,
                         help="open sessions at most (each is a JVM of its own)")
    gateway.add_argument("--verbose", action="store_true", help="log every request")
    gateway.add_argument("--insecure", action="store_true",
                         help="serve plain HTTP on an address other than loopback (refused "
                              "otherwise): anyone who reaches it runs statements. Prefer "
                              "TLS: -D security.ssl.rest.enabled=true and Flink's other "
                              "security.ssl.rest.* options")
    gateway.set_defaults(handler=lambda args: _gateway(args, progress, define))

    client = commands.add_parser(
        "sql-client", help="run Flink's own SQL client (PyFlink's bin/sql-client.sh) with the "
                           "jars it lacks; e.g. `mlsql sql-client gateway --endpoint "
                           "127.0.0.1:8083`", add_help=False)
    client.add_argument("args", nargs=argparse.REMAINDER,
                        help="arguments for sql-client.sh, passed unchanged")
    client.set_defaults(handler=lambda args: _sql_client(args, progress))


def sql_client_args(args: argparse.Namespace) -> list[str]:
    """sql-client.sh's arguments (mlsql.cli.main.main puts a '--' before them)."""
    return args.args[1:] if args.args[:1] == ["--"] else args.args


def _gateway(args: argparse.Namespace, progress: Progress, define) -> int:
    from mlsql.gateway import GatewayConfig, start_gateway
    from mlsql.gateway.tls import is_loopback

    config = GatewayConfig(
        host=args.host, port=args.port, registry=args.registry, jobmanager=args.jobmanager,
        options=dict(define(text) for text in args.defines),
        allow_code=args.allow_python_provider, model_dirs=tuple(args.model_dirs),
        idle_timeout_s=args.idle_timeout, max_sessions=args.max_sessions, verbose=args.verbose,
        insecure=args.insecure)
    gateway = start_gateway(config, progress)
    # SIGTERM (a service manager, `kill`) closes the sessions as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    host, port = gateway.address
    where = f"the cluster at {args.jobmanager}" if args.jobmanager else \
        "an embedded mini-cluster per session"
    if gateway.scheme == "http" and not is_loopback(host):
        progress(f"warning: --insecure: plain HTTP on {host}, without TLS: anyone who reaches "
                 "it can run statements")
    progress(f"mlsql gateway on {gateway.scheme}://{host}:{port} (Flink SQL Gateway REST API "
             f"v1-v4; jobs run on {where})")
    progress(_connect_hint(gateway.scheme, host, port))
    gateway.serve_forever()
    return 0


def _connect_hint(scheme: str, host: str, port: int) -> str:
    if scheme == "http":
        return (f"connect: mlsql sql-client gateway --endpoint {host}:{port}   "
                f"or JDBC jdbc:flink://{host}:{port}")
    return (f"connect: mlsql sql-client gateway --endpoint https://{host}:{port} -D "
            "security.ssl.rest.truststore=... (and its keystore with mutual TLS), or JDBC "
            f"jdbc:flink://{host}:{port}?security.ssl.rest.enabled=true&"
            "security.ssl.rest.truststore=...")


def _sql_client(args: argparse.Namespace, progress: Progress) -> int:
    from mlsql.services.flink_dist.sql_client import run_sql_client

    return run_sql_client(sql_client_args(args), progress)
