import pytest

from mlsql.errors import OptionError
from mlsql.training.model_options import parse_options


def test_defaults_and_parsed_values():
    model_type, options = parse_options(
        {"model_type": "Boosted_Tree_Classifier", "label": "y", "num_trees": "7"})
    assert model_type.task == "classification"
    assert options["num_trees"] == 7 and options["learning_rate"] == 0.1
    assert options["eval_fraction"] == 0.2 and options["seed"] == 42


def test_bigquery_aliases():
    _, options = parse_options({"model_type": "linear_reg", "input_label_cols": "price"})
    assert options["label"] == "price"


@pytest.mark.parametrize("raw, message", [
    ({"label": "y"}, "needs 'model_type'"),
    ({"model_type": "logistc_reg", "label": "y"}, "did you mean 'logistic_reg'"),
    ({"model_type": "logistic_reg", "label": "y", "max_itr": "3"}, "did you mean 'max_iter'"),
    ({"model_type": "logistic_reg", "label": "y", "max_iter": "many"},
     "expected a positive integer"),
    ({"model_type": "logistic_reg", "label": "y", "eval_fraction": "1.5"}, "below 1"),
    ({"model_type": "logistic_reg"}, "needs a 'label'"),
    ({"model_type": "kmeans", "label": "y"}, "unsupervised"),
    ({"model_type": "logistic_reg", "label": "y", "class_weight": "heavy"}, "balanced"),
])
def test_bad_options_are_explained(raw, message):
    with pytest.raises(OptionError, match=message):
        parse_options(raw)


def test_online_model_types_and_their_options():
    from mlsql.training.model_options import parse_options

    model_type, values = parse_options({"model_type": "online_logistic_reg", "label": "y",
                                        "update_every": "2 minutes", "optimizer": "SGD"})
    assert model_type.online and values["update_every"] == 120.0
    assert values["optimizer"] == "sgd" and values["global_batch_size"] == 32
    assert "eval_fraction" not in values  # scored prequentially instead
    model_type, values = parse_options({"model_type": "online_kmeans",
                                        "decay_factor": "0.9"})
    assert model_type.task == "clustering" and values["num_clusters"] == 2
    assert not parse_options({"model_type": "logistic_reg", "label": "y"})[0].online


@pytest.mark.parametrize(("raw", "message"), [
    ({"model_type": "online_kmeans", "decay_factor": "2"}, "between 0"),
    ({"model_type": "online_linear_reg", "label": "y", "update_every": "soon"},
     "whole number of seconds"),
    ({"model_type": "online_linear_reg", "label": "y", "optimizer": "adam"}, "'ftrl'"),
    ({"model_type": "online_kmeans", "label": "y"}, "online_kmeans is unsupervised"),
])
def test_bad_online_options_are_explained(raw, message):
    from mlsql.errors import OptionError
    from mlsql.training.model_options import parse_options

    with pytest.raises(OptionError, match=message):
        parse_options(raw)
