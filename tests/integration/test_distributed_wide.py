"""A wide distributed logistic regression: all 30 features of the breast-cancer data, 496
Hessian sums in every Flink pass. The suite's longest job, in a module of its own so that a
parallel worker starts it first (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.helpers import create_csv_table
from tests.integration.test_distributed import (
    assert_at_the_optimum,
    assert_same_metrics,
    breast_cancer,
    predictor_json,
    train_both,
)

pytestmark = pytest.mark.slow


def test_binary_logistic_matches_the_single_process_fit(batch_session):
    frame = breast_cancer()
    create_csv_table(batch_session, "dist_cancer", frame, batch_session.data_dir)
    single, distributed = train_both(batch_session, "dist_cancer", "dist_cancer",
                                     model_type="logistic_reg")
    assert_at_the_optimum(distributed, frame, "")
    assert_same_metrics(single, distributed)
    assert predictor_json(distributed)["classes"] == ["benign", "malignant"]
