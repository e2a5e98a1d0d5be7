"""Starting the gateway: the session template, the worker's classpath, the HTTP server."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlsql.core.policy import SessionPolicy
from mlsql.gateway.server import make_server
from mlsql.gateway.sessions import Sessions
from mlsql.gateway.tls import endpoint_context, session_options
from mlsql.gateway.worker import SessionSpec
from mlsql.services.flink_dist import FlinkDist
from mlsql.services.jars.resolve import resolve


@dataclass
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8083
    registry: str | None = None
    jobmanager: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    allow_code: bool = False          # --allow-python-provider
    model_dirs: tuple[str, ...] = ()
    idle_timeout_s: float = 600.0      # Flink's sql-gateway.session.idle-timeout default
    max_sessions: int = 8              # each session is a JVM of its own
    verbose: bool = False
    insecure: bool = False             # --insecure: plain HTTP on a non-loopback address


class RunningGateway:
    def __init__(self, config: GatewayConfig, progress=None) -> None:
        tls = endpoint_context(config.host, config.options, config.insecure)
        # Workers need Flink's gateway classes (ResultFetcher, the REST serializers) on the
        # JVM's classpath: a lib/ of PyFlink's jars plus flink-sql-gateway.
        dist = FlinkDist("gateway", {}, extra_lib_jars=resolve("sql-gateway", progress))
        env = {key: value for key, value in dist.env().items() if key.startswith("FLINK_")}
        registry = str(Path(config.registry).resolve()) if config.registry else None
        template = SessionSpec(
            session_id="", registry=registry, options=session_options(config.options),
            properties={}, policy=SessionPolicy.restricted(config.allow_code, config.model_dirs),
            jobmanager=config.jobmanager, env=env)
        self.sessions = Sessions(template, config.idle_timeout_s, config.max_sessions)
        self.server = make_server(config.host, config.port, self.sessions, config.verbose, tls)
        self.address = self.server.server_address[:2]
        self.scheme = "https" if tls else "http"

    def serve_forever(self) -> None:
        try:
            self.server.serve_forever()
        finally:
            self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.sessions.close_all()


def start_gateway(config: GatewayConfig, progress=None) -> RunningGateway:
    return RunningGateway(config, progress)
