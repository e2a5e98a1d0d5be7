"""Training computed inside Flink: no training row reaches this process, only aggregates.

Each trainer takes (runtime, query_sql, feature columns, label, label type, options,
progress) and returns a mlsql.training.fit.Fit. A model type names its trainer in
ModelType.distributed (mlsql.models).
"""
