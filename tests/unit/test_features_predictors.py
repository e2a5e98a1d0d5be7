import json

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from udfs import features
from udfs.predictors import load_predictor
from udfs.split import eval_mask


def _frame():
    return pd.DataFrame({
        "amount": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0],
        "kind": ["a", "b", "a", None, "c", "b"],
    })


def test_one_hot_with_nulls_and_unseen_categories():
    spec = features.fit_spec(_frame(), {"amount": "numeric", "kind": "categorical"},
                             features.ONE_HOT, standardize=True)
    assert features.feature_names(spec) == ["amount", "kind=a", "kind=b", "kind=c"]
    x = features.encode(spec, [pd.Series([np.nan, 3.6]), pd.Series(["zzz", "c"])])
    mean = spec["columns"][0]["mean"]
    assert mean == 3.6
    np.testing.assert_allclose(x, [[0.0, 0, 0, 0], [0.0, 0, 0, 1]])


def test_ordinal_codes_missing_as_nan():
    spec = features.fit_spec(_frame(), {"amount": "numeric", "kind": "categorical"},
                             features.ORDINAL, standardize=False)
    x = features.encode(spec, [pd.Series([np.nan]), pd.Series([None])])
    assert x[0, 0] == 3.6 and np.isnan(x[0, 1])
    assert features.categorical_indices(spec) == [1]


def test_logistic_predictor_matches_scikit_learn(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=300) > 0).astype(int)
    model = LogisticRegression().fit(x, y)
    spec = features.fit_spec(pd.DataFrame(x, columns=list("abc")),
                             dict.fromkeys("abc", "numeric"), features.ONE_HOT, False)
    payload = {"task": "classification", "algorithm": "logistic", "features": spec,
               "classes": [0, 1], "coef": model.coef_.tolist(),
               "intercept": model.intercept_.tolist(),
               "outputs": [{"name": "predicted_y", "type": "INT"},
                           {"name": "probability", "type": "DOUBLE"}]}
    (tmp_path / "predictor.json").write_text(json.dumps(payload))
    out = load_predictor(str(tmp_path)).predict([x[:, 0], x[:, 1], x[:, 2]])
    np.testing.assert_allclose(out["probability"], model.predict_proba(x)[:, 1], rtol=1e-12)
    assert (out["predicted_y"].to_numpy() == model.predict(x)).all()
    assert out["predicted_y"].dtype == np.int32


def test_eval_split_depends_on_content_not_order():
    frame = pd.DataFrame({"a": np.arange(10_000, dtype=float),
                          "s": np.where(np.arange(10_000) % 2, "x", "y")})
    mask = eval_mask(frame, 0.25, seed=3)
    assert abs(mask.mean() - 0.25) < 0.02
    shuffled = frame.sample(frac=1, random_state=1)
    assert (eval_mask(shuffled, 0.25, seed=3) == mask[shuffled.index]).all()
    assert (eval_mask(frame, 0.25, seed=4) != mask).any()
    assert not eval_mask(frame, 0.0, seed=3).any()
