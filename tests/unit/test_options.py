import pytest

from mlsql.errors import OptionError
from mlsql.training.options import parse_options


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
