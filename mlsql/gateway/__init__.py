"""`mlsql gateway`: mlsql behind Flink's SQL Gateway REST API, for Flink's own SQL client,
its JDBC driver and any tool that speaks to Flink's gateway."""

from mlsql.gateway.serve import GatewayConfig, RunningGateway, start_gateway

__all__ = ["GatewayConfig", "RunningGateway", "start_gateway"]
