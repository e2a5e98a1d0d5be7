"""Training computed inside Flink: no training row reaches this process, only aggregates.

Each trainer takes (runtime, query_sql, feature columns, label, label type, options,
progress) and returns a mlsql.training.fit.Fit.
"""

from mlsql.training.distributed.kmeans import fit_kmeans
from mlsql.training.distributed.linear import fit_linear
from mlsql.training.distributed.logistic import fit_logistic

TRAINERS = {"linear_reg": fit_linear, "logistic_reg": fit_logistic, "kmeans": fit_kmeans}
