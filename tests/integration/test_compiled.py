"""Compiled-SQL ML_PREDICT gives the pandas UDF's answers, without any Python worker."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import MlsqlError, OptionError
from tests.helpers import MIXED_TYPES, create_csv_table, fresh_mixed_rows, mixed_rows

pytestmark = pytest.mark.slow

MODELS = {
    "c_logistic": ("'model_type' = 'logistic_reg', 'label' = 'y'", "a, b, c, flag, y"),
    "c_softmax": ("'model_type' = 'logistic_reg', 'label' = 'k'", "a, b, c, k"),
    "c_linear": ("'model_type' = 'linear_reg', 'label' = 'b'", "a, c, flag, b"),
    "c_kmeans": ("'model_type' = 'kmeans', 'num_clusters' = '3'", "a, b, c"),
    "c_trees": ("'model_type' = 'boosted_tree_classifier', 'label' = 'y', "
                "'num_trees' = '25'", "a, b, c, flag, y"),
    "c_trees_multi": ("'model_type' = 'boosted_tree_classifier', 'label' = 'k', "
                      "'num_trees' = '12', 'num_leaves' = '8'", "a, b, c, k"),
    "c_trees_reg": ("'model_type' = 'boosted_tree_regressor', 'label' = 'b', "
                    "'num_trees' = '15'", "a, c, flag, b"),
}
TYPES = MIXED_TYPES


@pytest.fixture(scope="module")
def session(batch_session):
    create_csv_table(batch_session, "compiled_train", mixed_rows(11, 3_000),
                     batch_session.data_dir, TYPES)
    create_csv_table(batch_session, "compiled_fresh", fresh_mixed_rows(), batch_session.data_dir,
                     TYPES)
    for name, (options, columns) in MODELS.items():
        batch_session.sql(f"CREATE OR REPLACE MODEL {name} WITH ({options}) "
                          f"AS SELECT {columns} FROM compiled_train")
    return batch_session


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("table", ["compiled_train", "compiled_fresh"])
def test_compiled_sql_equals_the_udf(session, model, table):
    def scored(path: str) -> pd.DataFrame:
        return session.sql(f"SELECT * FROM ML_PREDICT(TABLE {table}, MODEL {model}, "
                           f"MAP['execution', '{path}'])")

    udf, sql = scored("udf"), scored("sql")
    outputs = [c for c in udf.columns if c.startswith("predicted_")
               or c in ("probability", "cluster_id", "distance")]
    assert outputs and len(udf) == len(sql)
    for column in outputs:
        assert sql[column].notna().all()
        if udf[column].dtype.kind == "f":
            np.testing.assert_allclose(sql[column], udf[column], rtol=1e-9, atol=1e-12)
        else:
            assert sql[column].dtype == udf[column].dtype
            assert (sql[column].to_numpy() == udf[column].to_numpy()).all()


def test_auto_runs_small_models_without_python(session):
    plan = session.sql("EXPLAIN SELECT * FROM ML_PREDICT(TABLE compiled_train, "
                       "MODEL c_logistic)").iloc[0, 0]
    assert "PythonCalc" not in plan
    session.sql("SET 'mlsql.predict.execution' = 'udf'")
    try:
        plan = session.sql("EXPLAIN SELECT * FROM ML_PREDICT(TABLE compiled_train, "
                           "MODEL c_logistic)").iloc[0, 0]
        assert "PythonCalc" in plan
    finally:
        session.sql("RESET 'mlsql.predict.execution'")


def test_auto_scores_tree_ensembles_on_the_jvm(session):
    """Trees of every size: the JVM scorer beats their compiled SQL (mlsql.planner.predict
    ._paths); asked for, compiled SQL still refuses an ensemble over its node limit."""
    plan = session.sql("EXPLAIN SELECT * FROM ML_PREDICT(TABLE compiled_train, "
                       "MODEL c_trees)").iloc[0, 0]
    assert "__mlsql_jvm_scores" in plan and "PythonCalc" not in plan
    session.sql("SET 'mlsql.predict.max-tree-nodes' = '100'")
    try:
        with pytest.raises(MlsqlError, match="exceed the compiled-SQL limit of 100 nodes"):
            session.sql("SELECT * FROM ML_PREDICT(TABLE compiled_train, MODEL c_trees, "
                        "MAP['execution', 'sql'])")
    finally:
        session.sql("RESET 'mlsql.predict.max-tree-nodes'")


def test_unknown_execution_is_refused(session):
    with pytest.raises(OptionError, match="execution must be one of"):
        session.sql("SELECT * FROM ML_PREDICT(TABLE compiled_train, MODEL c_linear, "
                    "MAP['execution', 'gpu'])")


def test_a_udf_job_leaves_planning_on_the_planners_connection(session):
    """PyFlink's in-process workers call the JVM from threads of their own; planning on any
    JVM thread but the one that created the environment fails with
    `NullPointerException: metadataHandlerProvider`."""
    from pyflink.java_gateway import get_gateway

    from mlsql.runtime.planner_thread import pinned_connection

    own = pinned_connection()
    assert own is not None and own.is_connected
    session.sql("SELECT * FROM ML_PREDICT(TABLE compiled_fresh, MODEL c_logistic, "
                "MAP['execution', 'udf'])")
    assert pinned_connection() is own  # the session thread kept its JVM thread
    assert all(c is not own for c in get_gateway()._gateway_client.deque)  # lent to nobody
    assert session.sql("SELECT COUNT(*) AS n FROM compiled_fresh")["n"].iloc[0] == 5


def test_an_interrupted_call_leaves_the_session_planning(session):
    """py4j closes the connection of a call interrupted by Ctrl-C (or a notebook's interrupt),
    and the planner's JVM thread with it: the session builds its environment again."""
    from mlsql.runtime.planner_thread import pinned_connection

    own = pinned_connection()
    own.close()  # what py4j does to the connection of an interrupted call
    assert session.sql("SELECT COUNT(*) AS n FROM compiled_fresh")["n"].iloc[0] == 5
    assert pinned_connection() is not own and pinned_connection().is_connected
