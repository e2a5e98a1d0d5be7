import pytest

from mlsql.compiler.linear import compile_linear, is_present
from mlsql.compiler.sql import CompiledModel, double, score_ref, typed_literal


@pytest.mark.parametrize("value, text", [
    (0.1, "0.1E0"), (-2.5, "(-2.5E0)"), (1e-05, "1E-5"), (3.0, "3.0E0"), (1.5e300, "1.5E300"),
])
def test_doubles_are_double_literals_not_decimals(value, text):
    assert double(value) == text
    assert float(text.strip("()")) == value


def test_non_finite_constants_are_refused():
    with pytest.raises(ValueError):
        double(float("nan"))


@pytest.mark.parametrize("value, flink_type, text", [
    (True, "BOOLEAN", "TRUE"), (3, "INT", "CAST(3 AS INT)"), ("it's", "STRING", "'it''s'"),
    (7, "BIGINT", "CAST(7 AS BIGINT)"),
])
def test_typed_literals(value, flink_type, text):
    assert typed_literal(value, flink_type) == text


def test_binary_logistic_recomputes_its_logit_in_each_output():
    payload = {
        "algorithm": "logistic", "classes": [0, 1], "coef": [[2.0, 0.0, -1.0, 0.5]],
        "intercept": [0.25],
        "features": {"standardize": False, "encoding": "one_hot", "columns": [
            {"name": "a", "kind": "numeric", "mean": 1.0, "std": 1.0},
            {"name": "c", "kind": "categorical", "categories": ["p", "q", "r"]}]},
    }
    compiled = compile_linear(payload, ["`a`", "`c`"], "INT")
    (score,) = compiled.scores
    assert score == (f"0.25E0 + (CASE WHEN {is_present('`a`')} THEN `a` ELSE 1.0E0 END) * 2.0E0 + "
                     "(CASE `c` WHEN 'q' THEN (-1.0E0) WHEN 'r' THEN 0.5E0 ELSE 0E0 END)")
    assert compiled.reuses_scores and compiled.inline_scores  # a dot product, read twice
    label, probability = compiled.substitute(["s"])
    assert label == ("CASE WHEN (s) >= 1.665334536937735E-16 THEN CAST(1 AS INT) "
                     "ELSE CAST(0 AS INT) END")  # no EXP for the label
    assert probability == "1E0 / (1E0 + EXP(-(s)))"


def test_the_label_threshold_is_where_the_sigmoid_passes_one_half():
    import math

    import numpy as np

    from mlsql.compiler.linear import SIGMOID_ABOVE_HALF

    def sigmoid(z: float) -> float:  # a correctly rounded exp, as Java's Math.exp
        return 1.0 / (1.0 + math.exp(-z))

    below = float(np.nextafter(SIGMOID_ABOVE_HALF, 0.0))
    assert sigmoid(SIGMOID_ABOVE_HALF) > 0.5 and sigmoid(below) == 0.5
    for z in (below, SIGMOID_ABOVE_HALF, -SIGMOID_ABOVE_HALF, 0.0, 1e-3, -1e-3, 40.0, -40.0):
        p = sigmoid(z)  # udfs' label: argmax over [1 - p, p]
        assert (z >= SIGMOID_ABOVE_HALF) == (int(np.argmax([1.0 - p, p])) == 1), z


def test_standardization_folds_into_the_weights_unless_digits_would_cancel():
    payload = {
        "algorithm": "linear", "coef": [[3.0, 2.0]], "intercept": [1.0],
        "features": {"standardize": True, "encoding": "one_hot", "columns": [
            {"name": "a", "kind": "numeric", "mean": 4.0, "std": 2.0},
            {"name": "ts", "kind": "numeric", "mean": 1.7e12, "std": 1e6}]},
    }
    (score,) = compile_linear(payload, ["`a`", "`ts`"], None).scores
    # 1 + 3 * (a - 4) / 2 = (1 - 6) + a * 1.5; ts keeps (ts - mean) / std
    assert score == (f"(-5.0E0) + (CASE WHEN {is_present('`a`')} THEN `a` ELSE 4.0E0 END) "
                     "* 1.5E0 + "
                     f"(((CASE WHEN {is_present('`ts`')} THEN `ts` ELSE 1700000000000.0E0 END) "
                     "- 1700000000000.0E0) / 1000000.0E0) * 2.0E0")


def test_single_use_scores_are_not_shared():
    assert not CompiledModel(["x + 1"], [score_ref(0)]).reuses_scores


def test_first_best_breaks_ties_like_numpy():
    from mlsql.compiler.sql import first_best

    assert first_best(["a", "b", "c"], ["0", "1", "2"], largest=True) == (
        "CASE WHEN (a) >= (b) AND (a) >= (c) THEN 0 WHEN (b) > (a) AND (b) >= (c) THEN 1 "
        "ELSE 2 END")
    assert first_best(["d0", "d1"], ["0", "1"], largest=False) == (
        "CASE WHEN (d0) <= (d1) THEN 0 ELSE 1 END")
    assert first_best(["only"], ["7"], largest=False) == "7"
