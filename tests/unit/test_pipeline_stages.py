"""The Pipeline API's stages and estimators, without Flink: every model type has its class,
every transformer writes a TRANSFORM item the parser accepts, and bad settings fail when the
stage is made."""

from __future__ import annotations

import pytest

import mlsql.pipeline as pipeline
from mlsql.errors import MlsqlError, OptionError
from mlsql.feature_functions.calls import parse_expression
from mlsql.frontend.parser import parse_one
from mlsql.models import model_types
from mlsql.pipeline import (
    Bucketizer,
    Imputer,
    KMeans,
    LogisticRegression,
    MinMaxScaler,
    OneHotEncoder,
    Pipeline,
    PolynomialExpansion,
    StandardScaler,
    StringIndexer,
    ValueOneHotEncoder,
)
from mlsql.table_api.training import create_model_sql, option_text

EXAMPLES = {
    "StandardScaler": {}, "MinMaxScaler": {}, "MaxAbsScaler": {}, "RobustScaler": {},
    "Imputer": {"strategy": "median"}, "KBinsDiscretizer": {"num_bins": 4},
    "Bucketizer": {"splits_array": [[-1.5, 0, 2], [float("-inf"), 1, float("inf")]]},
    "StringIndexer": {"string_order_type": "frequencyDesc", "max_index_num": 10},
    "OneHotEncoder": {"drop_last": False},
    "IndexToString": {"string_arrays": [["x", "y"], ["1.0", "2.0"]]},
    "Binarizer": {"thresholds": [0.5, -1]},
    "ValueOneHotEncoder": {"max_categories": 5, "min_count": 2}, "Tokenizer": {},
    "NGram": {"n": 3}, "HashingTF": {"num_features": 64}, "IDF": {"num_features": 64},
}


def test_every_model_type_has_an_estimator_class():
    classes = {cls.model_type: name for name, cls in pipeline.ESTIMATORS.items()}
    assert set(classes) == set(model_types())
    assert classes["logistic_reg"] == "LogisticRegression" and classes["kmeans"] == "KMeans"
    assert classes["boosted_tree_classifier"] == "BoostedTreeClassifier"
    for name in pipeline.ESTIMATORS:
        assert getattr(pipeline, name) is pipeline.ESTIMATORS[name]


@pytest.mark.parametrize("stage", [cls for cls in pipeline.TRANSFORMERS
                                   if cls.__name__ in EXAMPLES], ids=lambda c: c.__name__)
def test_each_transformer_writes_an_item_the_parser_accepts(stage):
    made = stage(columns=["a", "b"], output_cols=["a_out", "b_out"],
                 **EXAMPLES[stage.__name__])
    outputs = made.outputs()
    assert [o.column for o in outputs] == ["a_out", "b_out"]
    items = ", ".join(f"{o.template.format('`' + o.inputs[0] + '`')} AS `{o.column}`"
                      for o in outputs)
    parsed = parse_one(f"CREATE MODEL m TRANSFORM ({items}) WITH ('model_type' = 'kmeans') "
                       "AS SELECT 1")
    assert [item.alias for item in parsed.transform] == ["a_out", "b_out"]
    assert all(item.calls[0].function == stage.function for item in parsed.transform)
    assert all(item.calls[0].fitted == stage.fitted for item in parsed.transform)


def test_templates_follow_the_feature_functions():
    assert StandardScaler(columns=["x"]).outputs()[0].template == (
        "ML_STANDARD_SCALER({0}, FALSE, TRUE, 'flink-ml') OVER ()")  # Flink ML's defaults
    assert StandardScaler(columns=["x"], with_mean=True, with_std=False).outputs()[0] \
        .template == "ML_STANDARD_SCALER({0}, TRUE, FALSE, 'flink-ml') OVER ()"
    assert MinMaxScaler(columns=["x"]).outputs()[0].template == (
        "ML_MIN_MAX_SCALER({0}, 0.0, 1.0, 'flink-ml') OVER ()")
    assert MinMaxScaler(columns=["x"], min=-1, max=4).outputs()[0].template == (
        "ML_MIN_MAX_SCALER({0}, -1.0, 4.0, 'flink-ml') OVER ()")
    with pytest.raises(OptionError, match="min < max"):
        MinMaxScaler(columns=["x"], min=1, max=1)
    assert ValueOneHotEncoder(columns=["c"], max_categories=5).outputs()[0].template == (
        "ML_ONE_HOT_ENCODER({0}, 5) OVER ()")
    assert OneHotEncoder(columns=["c"]).outputs()[0].template == (
        "ML_ONE_HOT_ENCODER({0}, 'flink-ml', TRUE) OVER ()")
    assert Imputer(columns=["x"], strategy="most_frequent").outputs()[0].template == (
        "ML_IMPUTER({0}, 'most_frequent', 'flink-ml') OVER ()")
    assert Imputer(columns=["x"], missing_value=0).outputs()[0].template == (
        "ML_IMPUTER({0}, 'mean', 'flink-ml', 0.0) OVER ()")
    assert Bucketizer(columns=["x"], splits_array=[[-1, 2.5]]).outputs()[0].template == (
        "ML_BUCKETIZE({0}, ARRAY[(-1.0E0), 2.5E0], 'index', 'error')")
    assert StringIndexer(columns=["x"], handle_invalid="skip").outputs()[0].template == (
        "ML_STRING_INDEXER({0}, 'arbitrary', 2147483647, 'skip') OVER ()")
    many = PolynomialExpansion(columns=["a", "b"], output_col="ab", degree=3).outputs()
    assert [(o.column, o.inputs, o.template) for o in many] == [
        ("ab", ("a", "b"), "ML_POLYNOMIAL_EXPANSION(ARRAY[{0}, {1}], 3, 'flink-ml')")]


def test_bad_settings_fail_when_the_stage_is_made():
    with pytest.raises(OptionError, match="2 columns but 1 output_cols"):
        StandardScaler(columns=["a", "b"], output_cols=["c"])
    with pytest.raises(OptionError, match="strategy must be one of"):
        Imputer(columns=["a"], strategy="mode")
    with pytest.raises(OptionError, match="columns is a non-empty list"):
        StandardScaler(columns="amount")
    with pytest.raises(OptionError, match=r"label=\.\.\. names the column"):
        LogisticRegression()
    with pytest.raises(OptionError, match="takes no label"):
        KMeans(label="y")
    with pytest.raises(OptionError, match="did you mean 'max_iter'"):
        LogisticRegression(label="y", max_iterr=10)
    with pytest.raises(OptionError, match="must be the last stage"):
        Pipeline([LogisticRegression(label="y"), StandardScaler(columns=["a"])])


def test_options_become_create_model_text():
    assert option_text("hidden_units", [32, 16]) == "[32, 16]"
    assert option_text("x", True) == "true" and option_text("x", 0.5) == "0.5"
    with pytest.raises(OptionError, match="has no option text"):
        option_text("x", {"a": 1})
    sql = create_model_sql("m", "SELECT * FROM t", "logistic_reg", "y",
                           ["ML_STANDARD_SCALER(`a`) OVER () AS `a`", "`y`"], {"l2_reg": 0.5})
    parsed = parse_one(sql)
    assert parsed.option_map == {"model_type": "logistic_reg", "label": "y", "l2_reg": "0.5"}
    assert [item.alias for item in parsed.transform] == ["a", "y"]


def test_default_features_leave_out_what_a_later_stage_read():
    from mlsql.pipeline import HashingTF, Tokenizer
    from mlsql.pipeline.pipeline import _compose

    plan = _compose([Tokenizer(columns=["memo"], output_cols=["tokens"]),
                     HashingTF(columns=["tokens"], output_cols=["tf"], num_features=8,
                               sparse=False),
                     StandardScaler(columns=["amount"])],
                    ["id", "memo", "amount", "label"], None, "SELECT 1")
    assert plan.default_features == ["id", "amount", "label", "tf"]
    assert plan.expressions["tf"] == (
        "ML_HASHING_TF(ML_TOKENIZE(`memo`), 8, FALSE, 'flink-ml', FALSE)")
    assert plan.expressions["amount"] == (
        "ML_STANDARD_SCALER(`amount`, FALSE, TRUE, 'flink-ml') OVER ()")


def test_sql_transformer_reads_earlier_outputs_but_not_qualified_names():
    from mlsql.pipeline import SQLTransformer, Tokenizer
    from mlsql.pipeline.pipeline import _compose

    plan = _compose([Tokenizer(columns=["memo"]),
                     SQLTransformer("CARDINALITY(memo) + t.memo_len -- a note",
                                    output_col="n")],
                    ["memo", "memo_len"], None, "SELECT 1")
    assert plan.expressions["n"] == "(CARDINALITY((ML_TOKENIZE(`memo`))) + t.memo_len -- a note\n)"


def test_bucketizer_takes_flink_ml_edges_and_refuses_bad_splits():
    stage = Bucketizer(columns=["x"], splits_array=[[float("-inf"), 0, 5, float("inf")]],
                       handle_invalid="skip")
    (output,) = stage.outputs()
    assert output.skips_invalid and output.template == (
        "ML_BUCKETIZE({0}, ARRAY[CAST('-Infinity' AS DOUBLE), 0.0E0, 5.0E0, "
        "CAST('Infinity' AS DOUBLE)], 'index', 'skip')")
    assert parse_expression(output.template.format("x"))[0].arguments[1].value == (
        float("-inf"), 0.0, 5.0, float("inf"))  # read back as written
    for bad in ([], [1], [3, 1], [1, 1], [1, float("nan")]):
        with pytest.raises(OptionError, match="at least two strictly increasing numbers"):
            Bucketizer(columns=["x"], splits_array=[bad])
    with pytest.raises(OptionError, match="2 columns but 1 lists in splits_array"):
        Bucketizer(columns=["x", "y"], splits_array=[[0, 1]])
    with pytest.raises(OptionError, match="handle_invalid must be one of"):
        Bucketizer(columns=["x"], splits_array=[[0, 1]], handle_invalid="drop")


def test_positions_of_generated_sql_leave_error_messages():
    from mlsql.errors import Position, SchemaError, Site
    from mlsql.runtime.flink_errors import without_positions

    error = SchemaError("column 'm' not found", at=Site("ML_PREDICT", Position(1, 15)))
    assert str(error) == "ML_PREDICT at line 1, column 15: column 'm' not found"
    assert str(error.located(None)) == "ML_PREDICT: column 'm' not found"
    assert str(error) == "ML_PREDICT at line 1, column 15: column 'm' not found"  # a copy
    missing = MlsqlError("model 'x' not found in registry /r", position=Position(1, 57))
    assert str(missing) == "model 'x' not found in registry /r (at line 1, column 57)"
    assert str(missing.located(None)) == "model 'x' not found in registry /r"
    # Flink's own text is all there is of a Flink error: its positions go by pattern.
    assert without_positions("at line 1, column 32: Column 'c' not found") == (
        "Column 'c' not found")
    assert without_positions("Encountered \"FORM\" at line 2, column 3. Was expecting") == (
        "Encountered \"FORM\". Was expecting")


def test_a_comment_in_an_item_ends_with_its_line():
    sql = create_model_sql("m", "SELECT * FROM t", "linear_reg", "y",
                           ["amount * 2 AS a2 -- doubled", "`y`"], {})
    assert [item.alias for item in parse_one(sql).transform] == ["a2", "y"]


def test_a_pipeline_saves_and_loads_as_json(tmp_path):
    from mlsql.pipeline import (
        Bucketizer,
        KBinsDiscretizer,
        Normalizer,
        PipelineModel,
        SQLTransformer,
    )

    pipeline = Pipeline([
        StandardScaler(columns=["a"], with_mean=True), MinMaxScaler(columns=["b"], max=4),
        Imputer(columns=["c"], strategy="median"), KBinsDiscretizer(columns=["d"], num_bins=3),
        Bucketizer(columns=["e"], splits_array=[[float("-inf"), 0, 1]]),
        OneHotEncoder(columns=["f"]),
        Normalizer(columns=["a", "b"], output_col="n", p=1),
        SQLTransformer("a * 2", output_col="g"),
        LogisticRegression(label="y", features=["a", "n"], max_iter=50)])
    pipeline.save(tmp_path / "p")
    again = Pipeline.load(tmp_path / "p")
    assert repr(again) == repr(pipeline)
    assert [o.template for s in again.stages[:-1] for o in s.outputs()] == [
        o.template for s in pipeline.stages[:-1] for o in s.outputs()]
    assert "pickle" not in (tmp_path / "p" / "pipeline.json").read_text()

    fitted = PipelineModel({"items": [{"name": "a", "expression": "ML_STANDARD_SCALER(a, 1, 2)",
                                       "reads": ["a"], "columns": ["a"]}]})
    fitted.save(str(tmp_path / "m"))
    loaded = PipelineModel.load(str(tmp_path / "m"))
    assert loaded.stages == fitted.stages and loaded.model is None
    with pytest.raises(MlsqlError, match="holds a pipeline_model, not a pipeline"):
        Pipeline.load(tmp_path / "m")
    with pytest.raises(MlsqlError, match="no saved pipeline at"):
        PipelineModel.load(tmp_path / "nowhere")


def test_interaction_reads_numbers_and_vectors():
    from mlsql.pipeline import Interaction

    (output,) = Interaction(columns=["x", ["v_0", "v_1"]], output_col="o").outputs()
    assert (output.inputs, output.template) == (("x", "v_0", "v_1"),
                                                "ML_INTERACTION({0}, ARRAY[{1}, {2}])")
    with pytest.raises(OptionError, match="list of columns and lists of columns"):
        Interaction(columns="x", output_col="o")


def test_braces_in_a_stage_parameter_are_sql_not_template_slots():
    from mlsql.pipeline import IndexToString, RegexTokenizer

    (output,) = RegexTokenizer(columns=["t"], pattern="\\p{Punct}", gaps=False).outputs()
    assert output.template.format("`t`") == (
        "ML_REGEX_TOKENIZE(`t`, '\\p{Punct}', FALSE, 1, TRUE)")
    (output,) = IndexToString(columns=["i"], string_arrays=[["{a}"]]).outputs()
    assert output.template.format("`i`") == "ML_INDEX_TO_STRING(`i`, ARRAY['{a}'])"


def test_random_splitter_checks_its_weights_and_saves_as_json(tmp_path):
    from mlsql.pipeline import RandomSplitter

    for bad in ([1.0], [1.0, 0.0], "12", [1.0, True]):
        with pytest.raises(OptionError, match="two or more positive numbers"):
            RandomSplitter(weights=bad)
    RandomSplitter(weights=[4, 6], seed=3).save(tmp_path)
    loaded = RandomSplitter.load(tmp_path)
    assert (loaded.weights, loaded.seed) == ([4.0, 6.0], 3)


def test_a_pipeline_with_an_estimator_gives_its_registry_version_not_model_data():
    from types import SimpleNamespace

    from mlsql.pipeline import PipelineModel

    model = PipelineModel({"items": []}, model=SimpleNamespace(name="fraud", version=3))
    with pytest.raises(MlsqlError, match=r"registry model fraud\$3; PipelineModel.load"):
        model.get_model_data(session=None)
    with pytest.raises(MlsqlError, match="takes the one Table get_model_data gives, not 2"):
        PipelineModel(None).set_model_data(None, None)
