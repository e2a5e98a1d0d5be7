"""The Table API's argument checks that need no Flink job (mlsql.table_api)."""

from __future__ import annotations

import pandas as pd
import pytest

import mlsql
from mlsql.errors import MlsqlError
from mlsql.planner.predict import EXECUTION_CHOICES


@pytest.mark.parametrize("not_a_session", [object(), pd.DataFrame(), "fraud_model"])
def test_model_functions_take_a_session_first(not_a_session):
    with pytest.raises(MlsqlError, match="takes the mlsql Session first"):
        mlsql.ml_feature_importance(not_a_session, "m")


def test_ml_predict_names_every_execution_that_sql_takes():
    with pytest.raises(MlsqlError) as raised:
        mlsql.ml_predict(object(), "m", execution="gpu")
    assert f"one of {', '.join(EXECUTION_CHOICES)}, not 'gpu'" in str(raised.value)
    assert "jvm" in EXECUTION_CHOICES
