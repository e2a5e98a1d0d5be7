"""Models trained elsewhere, imported with Flink's model DDL, scored by ML_PREDICT."""

from __future__ import annotations

import sys

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

from mlsql.errors import MlsqlError, OptionError, SchemaError
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data(batch_session):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"a": rng.normal(size=500), "b": rng.normal(size=500)})
    frame["y"] = (frame["a"] - frame["b"] + rng.normal(scale=0.3, size=500) > 0).astype(int)
    create_csv_table(batch_session, "provider_rows", frame, batch_session.data_dir)
    return frame


def _score(session, model: str) -> pd.DataFrame:
    return session.sql(f"SELECT * FROM ML_PREDICT(TABLE provider_rows, MODEL {model})")


def test_onnx(batch_session, data, tmp_path):
    x = data[["a", "b"]].to_numpy()
    model = LogisticRegression().fit(x, data["y"])
    onnx = to_onnx(model, x[:1].astype(np.float32), options={"zipmap": False})
    (tmp_path / "lr.onnx").write_bytes(onnx.SerializeToString())
    batch_session.sql(f"CREATE MODEL onnx_lr INPUT (a DOUBLE, b DOUBLE) "
                      f"OUTPUT (label BIGINT, probability DOUBLE) "
                      f"WITH ('provider' = 'onnx', 'path' = 'file://{tmp_path}/lr.onnx')")
    scored = _score(batch_session, "onnx_lr")
    np.testing.assert_allclose(scored["probability"], model.predict_proba(x)[:, 1], atol=1e-5)
    assert (scored["label"].to_numpy() == model.predict(x)).all()
    (ddl,) = batch_session.sql("SHOW CREATE MODEL onnx_lr")["statement"]
    assert ddl.startswith("CREATE MODEL onnx_lr INPUT (a DOUBLE, b DOUBLE)")


def test_lightgbm_and_xgboost_files(batch_session, data, tmp_path):
    x = data[["a", "b"]].to_numpy()
    booster = lightgbm.train({"objective": "binary", "verbosity": -1},
                             lightgbm.Dataset(x, data["y"]), num_boost_round=10)
    booster.save_model(str(tmp_path / "m.txt"))
    xgb = xgboost.train({"objective": "binary:logistic"}, xgboost.DMatrix(x, data["y"]), 10)
    xgb.save_model(str(tmp_path / "m.json"))
    batch_session.sql(
        f"CREATE MODEL lgb_file INPUT (a DOUBLE, b DOUBLE) OUTPUT (p DOUBLE) "
        f"WITH ('provider' = 'lightgbm', 'path' = '{tmp_path}/m.txt');\n"
        f"CREATE MODEL xgb_file INPUT (a DOUBLE, b DOUBLE) OUTPUT (p DOUBLE) "
        f"WITH ('provider' = 'xgboost', 'path' = '{tmp_path}/m.json')")
    np.testing.assert_allclose(_score(batch_session, "lgb_file")["p"], booster.predict(x),
                               rtol=1e-9)
    np.testing.assert_allclose(_score(batch_session, "xgb_file")["p"],
                               xgb.predict(xgboost.DMatrix(x)), rtol=1e-6)


def test_python_class(batch_session, data, tmp_path, monkeypatch):
    (tmp_path / "my_scorer.py").write_text(
        "import pandas as pd\n\n"
        "class Scorer:\n"
        "    def predict(self, frame):\n"
        "        return pd.DataFrame({'score': frame['a'] * 2 + frame['b'],\n"
        "                             'sign': (frame['a'] > 0).astype('int32')})\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # local PyFlink runs UDFs in this process
    batch_session.sql("CREATE MODEL py_scorer INPUT (a DOUBLE, b DOUBLE) "
                      "OUTPUT (score DOUBLE, sign INT) "
                      "WITH ('provider' = 'python', 'class' = 'my_scorer:Scorer')")
    scored = _score(batch_session, "py_scorer")
    np.testing.assert_allclose(scored["score"], scored["a"] * 2 + scored["b"], rtol=1e-12)
    assert (scored["sign"] == (scored["a"] > 0)).all()
    assert sys.modules["my_scorer"]


def test_import_errors(batch_session, tmp_path):
    with pytest.raises(MlsqlError, match="not found"):
        batch_session.sql("CREATE MODEL bad INPUT (a DOUBLE) OUTPUT (p DOUBLE) "
                          f"WITH ('provider' = 'onnx', 'path' = '{tmp_path}/none.onnx')")
    with pytest.raises(OptionError, match="did you mean 'path'"):
        batch_session.sql("CREATE MODEL bad INPUT (a DOUBLE) OUTPUT (p DOUBLE) "
                          "WITH ('provider' = 'lightgbm', 'pth' = 'x')")
    with pytest.raises(SchemaError, match="takes numeric inputs"):
        batch_session.sql("CREATE MODEL bad INPUT (a STRING) OUTPUT (p DOUBLE) "
                          "WITH ('provider' = 'xgboost', 'path' = 'x')")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(MlsqlError, match="cannot use the onnx model"):
        batch_session.sql("CREATE MODEL bad INPUT (a DOUBLE) OUTPUT (p DOUBLE) "
                          f"WITH ('provider' = 'onnx', 'path' = '{tmp_path}/junk.onnx')")
    assert not batch_session.registry.exists("bad")


def test_other_providers_are_flinks(batch_session):
    """A provider mlsql does not run is Flink's: the DDL goes to Flink's own catalog."""
    batch_session.sql("CREATE MODEL remote_llm INPUT (prompt STRING) OUTPUT (answer STRING) "
                      "WITH ('provider' = 'openai', 'endpoint' = 'https://example.invalid', "
                      "'model' = 'gpt', 'api-key' = 'k')")
    assert not batch_session.registry.exists("remote_llm")
    assert "remote_llm" in batch_session.table_env.list_models()
