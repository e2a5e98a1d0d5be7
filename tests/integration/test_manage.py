"""SHOW CREATE MODEL, ALTER MODEL and versions on real trained models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import ModelNotFoundError, OptionError
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session(batch_session):
    rng = np.random.default_rng(8)
    frame = pd.DataFrame({"x": rng.normal(size=300), "s": rng.choice(["u", "v"], 300)})
    frame["y"] = 3 * frame["x"] + (frame["s"] == "u") + rng.normal(scale=0.1, size=300)
    create_csv_table(batch_session, "manage_train", frame, batch_session.data_dir)
    batch_session.sql("CREATE MODEL manage_m WITH ('model_type' = 'linear_reg', 'label' = 'y', "
                      "'l2_reg' = '0.5') AS SELECT x, s, y FROM manage_train WHERE x > -5")
    return batch_session


def test_show_create_model_recreates_the_model(session):
    (ddl,) = session.sql("SHOW CREATE MODEL manage_m")["statement"]
    assert ddl.startswith("CREATE MODEL `manage_m`\nWITH ('model_type' = 'linear_reg'")
    assert "'l2_reg' = '0.5'" in ddl and ddl.endswith("FROM manage_train WHERE x > -5")
    first = session.registry.resolve("manage_m")
    session.sql(ddl)  # trains version 2 with the same options on the same rows
    second = session.registry.resolve("manage_m")
    assert second.version == first.version + 1
    assert second.metadata["metrics"] == pytest.approx(first.metadata["metrics"], rel=1e-9)


def test_default_version_serves_until_reset(session):
    versions = session.registry.versions("manage_m")
    session.sql(f"ALTER MODEL manage_m SET ('default_version' = '{versions[0]}')")
    assert session.registry.resolve("manage_m").version == versions[0]
    assert "(serving)" in session.sql("DESCRIBE MODEL manage_m").query(
        f"section == 'version' and name == '{versions[0]}'")["value"].iloc[0]
    session.sql("ALTER MODEL manage_m RESET ('default_version')")
    assert session.registry.resolve("manage_m").version == versions[-1]
    with pytest.raises(OptionError, match="cannot set 'comment'"):
        session.sql("ALTER MODEL manage_m SET ('comment' = 'x')")


def test_rename_keeps_versions_and_serves_under_the_new_name(session):
    session.sql("CREATE MODEL manage_r WITH ('model_type' = 'linear_reg', 'label' = 'y') "
                "AS SELECT x, y FROM manage_train")
    session.sql("ALTER MODEL manage_r RENAME TO manage_renamed")
    scored = session.sql("SELECT * FROM ML_PREDICT(TABLE manage_train, MODEL manage_renamed)")
    assert len(scored) == 300
    assert "manage_r" not in session.sql("SHOW MODELS")["model"].tolist()


@pytest.mark.parametrize("action", ["SET ('default_version' = '1')", "RESET ('default_version')",
                                    "RENAME TO manage_elsewhere"])
def test_alter_model_if_exists_skips_a_missing_model(session, action):
    assert session.sql(f"ALTER MODEL IF EXISTS manage_missing {action}") is None
    with pytest.raises(ModelNotFoundError, match="'manage_missing' not found"):
        session.sql(f"ALTER MODEL manage_missing {action}")
    assert not session.registry.exists("manage_elsewhere")


def test_alter_model_if_exists_alters_a_model_that_exists(session):
    first = session.registry.versions("manage_m")[0]
    session.sql(f"ALTER MODEL IF EXISTS manage_m SET ('default_version' = '{first}')")
    assert session.registry.resolve("manage_m").version == first
    session.sql("ALTER MODEL IF EXISTS manage_m RESET ('default_version')")
    assert session.registry.resolve("manage_m").version == session.registry.versions(
        "manage_m")[-1]
