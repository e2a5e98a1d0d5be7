"""Bad input gets a clear error before any job starts, and loses nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlsql.errors import (
    FlinkError,
    ModelNotFoundError,
    OptionError,
    SchemaError,
    SqlSyntaxError,
    TrainingError,
)
from tests.helpers import create_csv_table

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(batch_session):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"amount": rng.normal(size=400), "kind": rng.choice(["a", "b"], 400)})
    frame["label"] = (frame["amount"] > 0).astype(int)
    create_csv_table(batch_session, "err_train", frame, batch_session.data_dir)
    batch_session.sql("CREATE OR REPLACE MODEL err_model WITH ('model_type' = 'logistic_reg', "
                      "'label' = 'label') AS SELECT amount, kind, label FROM err_train")
    renamed = frame.rename(columns={"amount": "amt"})
    create_csv_table(batch_session, "err_renamed", renamed, batch_session.data_dir)
    create_csv_table(batch_session, "err_wrong_type", frame.assign(kind=1),
                     batch_session.data_dir)
    return batch_session


def _jobs(session):
    return len(session.jobs)


def test_unknown_model_suggests_the_closest(trained):
    with pytest.raises(ModelNotFoundError) as caught:
        trained.sql("SELECT *\nFROM ML_PREDICT(TABLE err_train, MODEL err_modl)")
    assert "did you mean 'err_model'" in str(caught.value)
    assert "line 2, column 40" in str(caught.value)


def test_missing_column_is_named(trained):
    before = _jobs(trained)
    with pytest.raises(SchemaError) as caught:
        trained.sql("SELECT * FROM ML_PREDICT(TABLE err_renamed, MODEL err_model)")
    message = str(caught.value)
    assert "column 'amount' not found in err_renamed" in message
    assert "did you mean 'amt'" in message
    assert _jobs(trained) == before


def test_descriptor_maps_columns_by_position(trained):
    scored = trained.sql("SELECT * FROM ML_PREDICT(TABLE err_renamed, MODEL err_model, "
                         "DESCRIPTOR(amt, kind))")
    assert (scored["predicted_label"] == (scored["amt"] > 0)).mean() > 0.95
    with pytest.raises(SchemaError, match=r"takes 2 input columns .* DESCRIPTOR names 1"):
        trained.sql("SELECT * FROM ML_PREDICT(TABLE err_renamed, MODEL err_model, "
                    "DESCRIPTOR(amt))")


def test_type_mismatch_is_named(trained):
    with pytest.raises(SchemaError) as caught:
        trained.sql("SELECT * FROM ML_PREDICT(TABLE err_wrong_type, MODEL err_model)")
    assert "column 'kind' is BIGINT" in str(caught.value)
    assert "STRING (categorical)" in str(caught.value)


def test_unknown_table_in_ml_predict(trained):
    with pytest.raises(FlinkError) as caught:
        trained.sql("SELECT *\nFROM ML_PREDICT(TABLE no_such_table, MODEL err_model)")
    assert "line 2, column 23 to line 2, column 35: Object 'no_such_table' not found" in str(
        caught.value)


_CREATE_ON_LINE_3 = ("SHOW MODELS;\n\nCREATE MODEL err_m3 WITH ('model_type' = 'logistic_reg',"
                     "\n  'label' = 'label')\nAS ")


@pytest.mark.parametrize("query, position, message", [
    ("SELECT amount,\n  nope, label FROM err_train", "From line 6, column 3 to line 6, column 6",
     "Column 'nope' not found"),
    ("SELECT amount, label\n  FORM err_train", "at line 6, column 8",
     'Encountered "err_train"'),  # FORM reads as an alias: Flink stops at the next word
    ("(SELEC amount, label FROM err_train)", "(at line 5, column 4)",
     "Non-query expression"),  # Flink names no position: the query's is given
])
def test_flink_errors_in_a_training_query_point_into_the_script(trained, query, position,
                                                                message):
    with pytest.raises(FlinkError) as caught:
        trained.sql(_CREATE_ON_LINE_3 + query)
    assert position in str(caught.value) and message in str(caught.value)
    assert not trained.registry.exists("err_m3")


def test_a_misspelt_select_after_as_is_named_with_its_position(trained):
    with pytest.raises(SqlSyntaxError, match="did you mean 'SELECT'") as caught:
        trained.sql(_CREATE_ON_LINE_3 + "SELEC amount, label FROM err_train")
    assert (caught.value.line, caught.value.col) == (5, 4)


def test_table_hints_reach_flink_wherever_they_stand(trained):
    create_csv_table(trained, "err_few", trained.sql("SELECT * FROM err_train LIMIT 40"),
                     trained.data_dir)
    hint = f"/*+ OPTIONS('path' = '{trained.data_dir / 'err_few.csv'}') */"
    counted = trained.sql(f"SELECT COUNT(*) AS n FROM err_train {hint}")
    assert counted.loc[0, "n"] == 40
    scored = trained.sql(f"SELECT COUNT(*) AS n FROM ML_PREDICT(TABLE err_train {hint}, "
                         "MODEL err_model) -- plain comment")
    assert scored.loc[0, "n"] == 40
    evaluated = trained.sql(f"SELECT `rows` FROM ML_EVALUATE(TABLE err_train {hint}, "
                            "MODEL err_model);")
    assert evaluated.loc[0, "rows"] == 40
    summary = trained.sql("CREATE MODEL err_hinted WITH ('model_type' = 'logistic_reg', "
                          f"'label' = 'label') AS SELECT amount, label FROM err_train {hint}")
    assert summary.loc[0, "train_rows"] + summary.loc[0, "eval_rows"] == 40


def test_label_missing_from_query(trained):
    with pytest.raises(SchemaError, match=r"label column 'lable' is not selected.*did you mean"):
        trained.sql("CREATE MODEL m2 WITH ('model_type' = 'logistic_reg', 'label' = 'lable') "
                    "AS SELECT amount, label FROM err_train")


def test_unsupported_feature_type(trained):
    with pytest.raises(SchemaError, match=r"'ts' .* TIMESTAMP\(3\), which cannot be a feature"):
        trained.sql("CREATE MODEL m2 WITH ('model_type' = 'linear_reg', 'label' = 'amount') "
                    "AS SELECT amount, CAST(TIMESTAMP '2024-01-01 00:00:00' AS TIMESTAMP(3)) "
                    "AS ts FROM err_train")
    with pytest.raises(SchemaError, match=r"'tf' .* MAP<.*which cannot be a feature: a sparse "
                                          r"vector .*ML_VECTOR_ASSEMBLER\(ARRAY\[tf\], "
                                          r"ARRAY\[<its size>\]\) .*HashingTF\(sparse=False\)"):
        trained.sql("CREATE MODEL m2 WITH ('model_type' = 'linear_reg', 'label' = 'amount') "
                    "AS SELECT amount, MAP[1, 2.0E0] AS tf FROM err_train")


@pytest.mark.parametrize(("expression", "message"), [
    ("amount * 1E307", r"column 'big' has values too large to average in double precision "
                       r"\(largest magnitude [\d.]+e\+30\d\)"),
    ("CASE WHEN amount > 1 THEN amount * 1E308 ELSE amount END",
     r"column 'big' holds [\d,]+ infinite value\(s\)"),
])
def test_numbers_that_overflow_are_named_before_fitting(trained, expression, message):
    """A datagen DOUBLE without bounds spans the whole double range: its mean overflows and
    scikit-learn used to fail on the NaNs with its own words."""
    with pytest.raises(SchemaError, match=message) as caught:
        trained.sql(f"CREATE MODEL m2 WITH ('model_type' = 'logistic_reg', 'label' = 'label') "
                    f"AS SELECT {expression} AS big, label FROM err_train")
    assert "the training query at line 1" in str(caught.value)


def test_unknown_option(trained):
    with pytest.raises(OptionError, match="did you mean 'max_iter'"):
        trained.sql("CREATE MODEL m2 WITH ('model_type' = 'logistic_reg', 'label' = 'label', "
                    "'max_iters' = '5') AS SELECT * FROM err_train")


def test_syntax_error_position_counts_earlier_statements(trained):
    with pytest.raises(SqlSyntaxError) as caught:
        trained.sql("SHOW MODELS;\n\nCREATE MODEL m WITH ('model_type' 'kmeans') AS SELECT 1")
    assert (caught.value.line, caught.value.col) == (3, 35)


def test_flink_errors_point_into_the_script(trained):
    with pytest.raises(FlinkError) as caught:
        trained.sql("SHOW TABLES;\n  SELECT nope FROM err_train")
    assert "line 2, column 10 to line 2, column 13" in str(caught.value)
    assert "nope" in str(caught.value)


def test_failed_training_keeps_the_previous_version_serving(trained):
    versions = trained.registry.versions("err_model")
    with pytest.raises(TrainingError, match="single class"):
        trained.sql("CREATE OR REPLACE MODEL err_model WITH ('model_type' = 'logistic_reg', "
                    "'label' = 'label') AS SELECT amount, kind, 1 AS label FROM err_train")
    with pytest.raises(FlinkError, match="by zero"):  # the job itself fails mid-way
        trained.sql("CREATE OR REPLACE MODEL err_model WITH ('model_type' = 'linear_reg', "
                    "'label' = 'y') AS SELECT 1 / CAST(amount * 0 AS INT) AS amount, "
                    "CAST(label AS DOUBLE) AS y FROM err_train")
    assert trained.registry.versions("err_model") == versions
    assert not any(p.name != "dropped" for p in
                   (trained.registry.root / ".staging").iterdir())
    scored = trained.sql("SELECT COUNT(*) AS n FROM ML_PREDICT(TABLE err_train, MODEL err_model)")
    assert scored.loc[0, "n"] == 400


def test_if_not_exists_skips_and_versions_accumulate(trained):
    before = trained.registry.versions("err_model")
    skipped = trained.sql("CREATE MODEL IF NOT EXISTS err_model WITH ('model_type' = "
                          "'logistic_reg', 'label' = 'label') AS SELECT * FROM err_train")
    assert "skipped" in skipped.loc[0, "status"]
    trained.sql("CREATE MODEL err_model WITH ('model_type' = 'logistic_reg', 'label' = "
                "'label') AS SELECT * FROM err_train")
    after = trained.registry.versions("err_model")
    assert after == [*before, before[-1] + 1]
    pinned = trained.sql("SELECT * FROM ML_PREDICT(TABLE err_train, "
                         f"MODEL `err_model${before[0]}`)")
    assert len(pinned) == 400
    described = trained.sql("DESCRIBE MODEL err_model")
    assert described.query("section == 'version'")["name"].tolist() == [str(v) for v in after]


def test_drop_model(trained):
    trained.sql("CREATE MODEL to_drop WITH ('model_type' = 'kmeans', 'num_clusters' = '2') "
                "AS SELECT amount FROM err_train")
    assert "to_drop" in trained.sql("SHOW MODELS")["model"].tolist()
    trained.sql("DROP MODEL to_drop")
    assert "to_drop" not in trained.sql("SHOW MODELS")["model"].tolist()
    assert trained.sql("DROP MODEL IF EXISTS to_drop") is None
    with pytest.raises(ModelNotFoundError):
        trained.sql("DROP MODEL to_drop")


def test_ml_evaluate_needs_the_label(trained):
    with pytest.raises(SchemaError, match="column 'kind' is BIGINT"):
        trained.sql("SELECT * FROM ML_EVALUATE(TABLE err_wrong_type, MODEL err_model)")
    trained.sql("CREATE TEMPORARY VIEW err_unlabelled AS SELECT amount, kind FROM err_train")
    with pytest.raises(SchemaError, match="label column 'label' not found in err_unlabelled"):
        trained.sql("SELECT * FROM ML_EVALUATE(TABLE err_unlabelled, MODEL err_model)")


@pytest.fixture(scope="module")
def bad_files(batch_session, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad_data")
    good = "".join(f"{i}.5,{i % 2},{i % 2}\n" for i in range(40))
    (folder / "field.csv").write_text(good + "7.5,abc,1\n" + good)
    (folder / "short.csv").write_text(good + "7.5,1\n")
    (folder / "rows.json").write_text('{"amount": 1.5, "score": 2, "label": 1}\n'
                                      '{"amount": "n/a", "score": 2, "label": 1}\n')
    for name, file, fmt in (("bad_field", "field.csv", "csv"), ("bad_short", "short.csv", "csv"),
                            ("bad_json", "rows.json", "json")):
        batch_session.sql(f"CREATE TABLE {name} (amount DOUBLE, score DOUBLE, label INT) WITH "
                          f"('connector' = 'filesystem', 'path' = '{folder / file}', "
                          f"'format' = '{fmt}')")
    return batch_session, folder


@pytest.mark.parametrize(("sql", "file", "line", "problem", "at"), [
    ("SELECT *\nFROM bad_field", "field.csv", 41, "field score is 'abc', which is not DOUBLE",
     "table bad_field at line 2, column 6"),
    ("SELECT * FROM bad_short", "short.csv", 41, "2 fields, the table has 3 (amount, score, "
     "label)", "table bad_short at line 1, column 15"),
    ("SELECT * FROM bad_json", "rows.json", 2, "field amount is 'n/a', which is not DOUBLE",
     "table bad_json at line 1, column 15"),
    ("CREATE MODEL bad_m WITH ('model_type' = 'logistic_reg', 'label' = 'label')\n"
     "AS SELECT * FROM bad_field", "field.csv", 41, "field score is 'abc'",
     "table bad_field at line 2, column 18"),
])
def test_a_malformed_record_names_its_table_file_and_row(bad_files, sql, file, line, problem,
                                                        at):
    session, folder = bad_files
    with pytest.raises(FlinkError) as caught:
        session.sql(sql)
    message = str(caught.value)
    assert message.startswith(f"{at}: {folder / file}, line {line}: {problem}"), message
    assert "(Flink: " in message  # Flink's own words are kept
    assert not session.registry.exists("bad_m")  # nothing half-published
