from __future__ import annotations

import pytest

import tests.helpers  # noqa: F401  (sets the JVM flags, snapshots the environment before any Flink)

# Parallel runs (pyproject's addopts: pytest-xdist, --dist loadgroup). A module is one unit of
# work, so its module-scoped fixtures (a broker, a cluster, a gateway, trained models) are set
# up once; a module that sets PER_TEST_WORKERS = True spreads its tests over the workers
# instead (each long, sharing nothing but session fixtures). Workers take units in collection
# order, so the longest go first (longest-processing-time scheduling): these modules, slowest
# first as measured by a parallel run (`pytest --durations`), then every other module.
SLOWEST_FIRST = (
    "test_distributed", "test_cluster", "test_kafka", "test_compiled", "test_export",
    "test_gateway", "test_example", "test_analysis", "test_hot_swap", "test_table_api",
    "test_notebook", "test_model_types", "test_transform", "test_training", "test_jvm_scoring",
    "test_model_types_extra", "test_flink_provider", "test_streaming",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            per_test = getattr(item.module, "PER_TEST_WORKERS", False)
            group = item.nodeid if per_test else item.module.__name__
            item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=lambda item: rank.get(item.module.__name__.rsplit(".", 1)[-1], len(rank)))


@pytest.fixture(scope="session")
def batch_session(tmp_path_factory):
    import mlsql

    root = tmp_path_factory.mktemp("batch")
    session = mlsql.Session(registry=root / "registry", mode="batch")
    session.data_dir = root
    return session
