"""linear_reg trained by Flink aggregates equals the in-Python fit on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets

from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow


def _train_both(session, name: str, table: str, extra: str = "") -> tuple:
    results = []
    for mode in ("single", "distributed"):
        session.sql(f"CREATE OR REPLACE MODEL {name}_{mode} WITH ('model_type' = 'linear_reg', "
                    f"'label' = 'target', 'eval_fraction' = '0', 'training_mode' = '{mode}'"
                    f"{extra}) AS SELECT * FROM {table}")
        results.append(session.registry.resolve(f"{name}_{mode}"))
    return tuple(results)


def test_diabetes_matches_the_single_process_fit(batch_session):
    frame = datasets.load_diabetes(as_frame=True).frame
    create_csv_table(batch_session, "dist_diabetes", frame, batch_session.data_dir)
    single, distributed = _train_both(batch_session, "dist_diabetes", "dist_diabetes")
    for key in ("coef", "intercept"):
        a = np.array(_predictor(single)[key])
        b = np.array(_predictor(distributed)[key])
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)
    for metric, value in single.metadata["metrics"].items():
        assert distributed.metadata["metrics"][metric] == pytest.approx(value, rel=1e-6)
    assert distributed.metadata["options"]["training_mode"] == "distributed"
    assert distributed.metadata["rows"] == {"total": 442, "train": 442, "eval": 0}


def test_strings_nulls_ridge_and_serving(batch_session):
    rng = np.random.default_rng(12)
    n = 1_000
    frame = pd.DataFrame({"x": rng.normal(size=n), "s": rng.choice(["a", "b", "c"], n)})
    frame["target"] = 2 * frame["x"] + frame["s"].map({"a": 0, "b": 1, "c": -1}) \
        + rng.normal(scale=0.1, size=n)
    frame.loc[::9, "x"] = np.nan
    frame.loc[::13, "s"] = None
    create_csv_table(batch_session, "dist_mixed", frame, batch_session.data_dir)
    single, distributed = _train_both(batch_session, "dist_mixed", "dist_mixed",
                                      ", 'l2_reg' = '0.5'")
    scored = {
        mode: batch_session.sql(f"SELECT predicted_target FROM ML_PREDICT(TABLE dist_mixed, "
                                f"MODEL dist_mixed_{mode})")["predicted_target"].to_numpy()
        for mode in ("single", "distributed")}
    np.testing.assert_allclose(scored["distributed"], scored["single"], rtol=1e-6, atol=1e-9)
    ours, theirs = (_predictor(v)["features"]["columns"] for v in (distributed, single))
    assert ours[1] == theirs[1]  # the same categories
    assert ours[0]["mean"] == pytest.approx(theirs[0]["mean"], rel=1e-12)
    assert ours[0]["std"] == pytest.approx(theirs[0]["std"], rel=1e-12)


def _predictor(version) -> dict:
    import json

    return json.loads((version.path / "predictor.json").read_text())
