from __future__ import annotations

import json
import urllib.request
import warnings

import pytest

import tests.helpers  # noqa: F401  (sets the JVM flags, snapshots the environment before any Flink)

pytest_plugins = ["tests.timeline"]

# Parallel runs (pyproject's addopts: pytest-xdist, --dist loadfile --no-loadscope-reorder):
# a module is one unit of work, so its module-scoped fixtures (a broker, a cluster, a gateway,
# trained models) are set up once. Workers take modules in collection order (xdist would
# otherwise put the modules with the most tests first, the quick unit modules), so the longest
# go first (longest-processing-time scheduling): these, slowest first as measured by a parallel
# run (MLSQL_TEST_TIMELINE, tests/timeline.py), then the modules under 5 s. A module missing
# here runs last, after the unit modules: put a new slow module in its place. (xdist's
# loadgroup would spread a module's tests, but it marks groups in a node id that pytest 9.2 no
# longer reads.)
SLOWEST_FIRST = (
    "test_flink_ml_cases", "test_gateway", "test_kafka", "test_cluster_faults", "test_cluster",
    "test_hot_swap", "test_retraining", "test_distributed_trees", "test_timeseries",
    "test_model_types", "test_distributed", "test_export", "test_example", "test_transform",
    "test_notebook", "test_delayed_evaluate", "test_data_validation", "test_jvm_scoring",
    "test_analysis", "test_compiled", "test_gateway_tls", "test_table_api",
    "test_model_types_extra", "test_training", "test_flink_provider", "test_streaming", "test_cli",
    "test_cluster_trees", "test_minicluster", "test_model_types_trees", "test_edge_values",
    "test_class_archive", "test_errors", "test_parser_fuzz", "test_registry_crashes",
    "test_gateway_fuzz", "test_providers", "test_tuning", "test_online", "test_series_function",
    "test_cluster_processes", "test_tuning_plan", "test_notebook_command", "test_manage",
    "test_models_forest_xgboost", "test_gateway_tls_settings",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.module.__name__.rsplit(".", 1)[-1], len(rank)))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test whose module defines `failure_context(item)` (say, the Flink log of a
    process it started) gets that text in its report, where CI's output shows it."""
    report = yield
    context = getattr(item.module, "failure_context", None)
    if report.failed and call.when == "call" and context is not None:
        text = context(item)
        if text:
            report.sections.append(("context", text))
    return report


@pytest.fixture(scope="module", autouse=True)
def no_job_left_running(request):
    """A job that a module leaves running on the worker's shared mini-cluster
    (mlsql.runtime.minicluster) holds its slots and the worker's CPU through every later module:
    cancel it, and warn with the module's name so that the test is fixed."""
    yield
    from mlsql.runtime import minicluster

    port = minicluster.started_port()
    if port is None:
        return
    base = f"http://127.0.0.1:{port}/jobs"
    with urllib.request.urlopen(f"{base}/overview", timeout=10) as answer:
        jobs = json.load(answer)["jobs"]
    running = [job for job in jobs if job["state"] not in ("FINISHED", "FAILED", "CANCELED")]
    for job in running:
        cancel = urllib.request.Request(f"{base}/{job['jid']}?mode=cancel", method="PATCH")
        urllib.request.urlopen(cancel, timeout=10).close()
    if running:
        names = ", ".join(f"{job['name']} ({job['state']})" for job in running)
        warnings.warn(f"{request.module.__name__} left {len(running)} job(s) running: {names}",
                      stacklevel=1)


@pytest.fixture(scope="session")
def batch_session(tmp_path_factory):
    import mlsql

    root = tmp_path_factory.mktemp("batch")
    session = mlsql.Session(registry=root / "registry", mode="batch")
    session.data_dir = root
    return session
