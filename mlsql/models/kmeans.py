"""kmeans: scikit-learn's Lloyd iterations in this process, or in Flink
(mlsql.training.distributed.kmeans); compiled to one distance expression per centroid.
Scored on the workers by udfs/models/kmeans.py."""

from __future__ import annotations

from typing import Any

from mlsql.errors import TrainingError
from mlsql.models.base import CLUSTERING, CompileRequest, FitRequest, Fitted, ModelType
from mlsql.models.option_spec import DISTRIBUTABLE, Option, positive_int


def fit_kmeans(request: FitRequest) -> Fitted:
    from sklearn.cluster import KMeans

    options = request.options
    if len(request.x) < options["num_clusters"]:
        raise TrainingError(f"kmeans needs at least num_clusters={options['num_clusters']} "
                            f"rows, the query returned {len(request.x)}")
    model = KMeans(n_clusters=options["num_clusters"], max_iter=options["max_iter"],
                   random_state=options["seed"], n_init="auto")
    model.fit(request.x)
    request.history.record(int(model.n_iter_), None)
    return {"algorithm": "kmeans", "centroids": model.cluster_centers_.tolist()}


def compile_kmeans(request: CompileRequest) -> Any:
    """k-means (batch or online) as SQL."""
    from mlsql.compiler.linear import compile_kmeans as compile_payload

    return compile_payload(request.payload, request.inputs)


MODEL_TYPES = (
    ModelType("kmeans", CLUSTERING, (
        Option("num_clusters", positive_int, 8, "number of clusters"),
        Option("max_iter", positive_int, 300, "Lloyd iterations"),
        *DISTRIBUTABLE,
    ), fit=fit_kmeans, compile=compile_kmeans),
)
