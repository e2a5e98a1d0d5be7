"""The online model types: a continuous job (mlsql.streaming.online, udfs/online/) updates
the model every `update_every` of event time; no batch fit. A published version is a linear
or k-means payload, compiled and scored as the batch ones are."""

from __future__ import annotations

from mlsql.models.base import CLASSIFICATION, CLUSTERING, REGRESSION, ModelType
from mlsql.models.kmeans import compile_kmeans
from mlsql.models.linear import compile_linear
from mlsql.models.option_spec import (
    ONLINE,
    Option,
    decay,
    non_negative_float,
    optimizer,
    positive_float,
    positive_int,
)

_ONLINE_LINEAR = (
    *ONLINE,
    Option("optimizer", optimizer, "ftrl", "'ftrl' (FTRL-Proximal) or 'sgd'"),
    Option("alpha", positive_float, 0.5, "FTRL: learning-rate scale"),
    Option("beta", non_negative_float, 1.0, "FTRL: learning-rate smoothing"),
    Option("l1_reg", non_negative_float, 0.0, "L1 penalty (FTRL)"),
    Option("l2_reg", non_negative_float, 0.0, "L2 penalty"),
    Option("learning_rate", positive_float, 0.1, "SGD: step size"),
)

MODEL_TYPES = (
    ModelType("online_logistic_reg", CLASSIFICATION, _ONLINE_LINEAR, compile=compile_linear,
              online=True),
    ModelType("online_linear_reg", REGRESSION, _ONLINE_LINEAR, compile=compile_linear,
              online=True),
    ModelType("online_kmeans", CLUSTERING, (
        *ONLINE,
        Option("num_clusters", positive_int, 2, "number of clusters"),
        Option("decay_factor", decay, 0.0,
               "weight kept by the past at each mini-batch (Flink ML's decayFactor)"),
    ), compile=compile_kmeans, online=True),
)
