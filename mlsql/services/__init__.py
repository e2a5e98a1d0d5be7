"""Local services mlsql starts or reaches: processes and ports, the Kafka broker, the
standalone cluster and its REST API, Flink's distribution and SQL client, Maven-resolved jars."""
