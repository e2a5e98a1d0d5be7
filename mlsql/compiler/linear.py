"""Linear and logistic regression and k-means as Flink SQL expressions.

Feature encoding follows udfs/features.py exactly: NULL numbers take the training mean, then
(for these models) are standardized; strings are one-hot encoded, NULL or unseen strings
contributing nothing.
"""

from __future__ import annotations

from typing import Any

from mlsql.compiler.sql import (
    CompiledModel,
    double,
    first_best,
    score_ref,
    string_list,
    typed_literal,
)

FOLD_MEAN_TO_STD = 1e3
# The least logit z whose sigmoid 1 / (1 + exp(-z)) rounds above 0.5 with a correctly rounded
# exp (Java's Math.exp, which Flink's EXP calls, and glibc's; tests/unit/test_compiler_sql.py):
# the predicted label is the second class from here on. Deciding the label on z costs no EXP,
# and no projection shared with the probability. (numpy's AVX-512 exp passes 0.5 from
# 1.56e-16: a logit between the two is labelled differently by the UDF on such a CPU.)
SIGMOID_ABOVE_HALF = 1.665334536937735e-16


def numeric_term(column_sql: str, column: dict[str, Any], standardize: bool) -> str:
    """The encoded value of a numeric feature: NULL and NaN imputed, then standardized if
    asked.

    The imputation is a CASE, which Flink generates inline: its COALESCE is a runtime
    function over boxed Objects, several times slower per call."""
    mean = double(column["mean"])
    imputed = f"(CASE WHEN {is_present(column_sql)} THEN {column_sql} ELSE {mean} END)"
    if not standardize:
        return imputed
    return f"({imputed} - {mean}) / {double(column['std'])}"


def is_present(x: str) -> str:
    """True where the DOUBLE `x` is neither NULL nor NaN (the UDF's np.isnan), as SQL. Not
    `x = x`, which Flink's planner simplifies to `x IS NOT NULL`: x * 0 is 0 for a finite x,
    NaN for NaN and the infinities, NULL for NULL."""
    return f"({x} * 0E0 = 0E0 OR ABS({x}) = CAST('Infinity' AS DOUBLE))"


def linear_score(payload: dict[str, Any], inputs: list[str], row: int) -> str:
    """intercept + w . x for one row of the coefficient matrix, in SQL.

    Standardization is folded into the weights: w * (x - mean) / std becomes
    x * (w / std) with w * mean / std moved into the intercept, one multiplication per
    feature instead of a subtraction, a division and a multiplication. Not for a column whose
    mean is large against its spread (e.g. epoch timestamps), where the folded sum would
    cancel digits.
    """
    spec = payload["features"]
    coef = payload["coef"][row]
    intercept = float(payload["intercept"][row])
    terms = []
    position = 0
    for column, column_sql in zip(spec["columns"], inputs, strict=True):
        if column["kind"] == "numeric":
            weight = coef[position]
            position += 1
            if weight == 0.0:
                continue
            if not spec["standardize"] or _foldable(column):
                if spec["standardize"]:
                    weight = weight / column["std"]
                    intercept -= weight * column["mean"]
                value = numeric_term(column_sql, column, standardize=False)
                terms.append(f"{value} * {double(weight)}")
            else:
                value = numeric_term(column_sql, column, standardize=True)
                terms.append(f"({value}) * {double(weight)}")
        else:
            categories = column["categories"]
            weights = coef[position : position + len(categories)]
            position += len(categories)
            arms = " ".join(f"WHEN {string_list([c])} THEN {double(w)}"
                            for c, w in zip(categories, weights, strict=True) if w != 0.0)
            if arms:
                terms.append(f"(CASE {column_sql} {arms} ELSE 0E0 END)")
    return " + ".join([double(intercept), *terms])


def _foldable(column: dict[str, Any]) -> bool:
    return abs(column["mean"]) <= FOLD_MEAN_TO_STD * column["std"]


def classify(scores: list[str], classes: list[Any], label_type: str,
             probabilities: str) -> list[str]:
    """[predicted label, probability] from per-class score expressions (over score
    references), as udfs.predictors computes them."""
    literals = [typed_literal(c, label_type) for c in classes]
    if probabilities == "sigmoid":
        (z,) = scores
        # numpy's argmax over [1 - p, p], which picks the first class on a tie.
        label = (f"CASE WHEN ({z}) >= {double(SIGMOID_ABOVE_HALF)} THEN {literals[1]} "
                 f"ELSE {literals[0]} END")
        return [label, f"1E0 / (1E0 + EXP(-({z})))"]
    top = f"GREATEST({', '.join(scores)})"
    denominator = " + ".join(f"EXP(({z}) - {top})" for z in scores)
    return [first_best(scores, literals, largest=True), f"1E0 / ({denominator})"]


def compile_linear(payload: dict[str, Any], inputs: list[str],
                   label_type: str | None) -> CompiledModel:
    scores = [linear_score(payload, inputs, row) for row in range(len(payload["coef"]))]
    if payload["algorithm"] == "linear":
        return CompiledModel(scores, [score_ref(0)])
    kind = "sigmoid" if len(scores) == 1 else "softmax"
    refs = [score_ref(i) for i in range(len(scores))]
    # One logit is cheaper to compute twice (label and probability) than to share.
    return CompiledModel(scores, classify(refs, payload["classes"], label_type or "STRING",
                                          kind), inline_scores=kind == "sigmoid")


def compile_kmeans(payload: dict[str, Any], inputs: list[str]) -> CompiledModel:
    spec = payload["features"]
    distances = []
    for centroid in payload["centroids"]:
        terms = []
        position = 0
        for column, column_sql in zip(spec["columns"], inputs, strict=True):
            if column["kind"] == "numeric":
                value = numeric_term(column_sql, column, spec["standardize"])
                terms.append(f"POWER(({value}) - {double(centroid[position])}, 2)")
                position += 1
            else:
                categories = column["categories"]
                center = centroid[position : position + len(categories)]
                position += len(categories)
                # sum over categories of (indicator - c)^2: all c^2, and for the row's own
                # category (1 - c)^2 in place of c^2.
                base = sum(c * c for c in center)
                arms = " ".join(
                    f"WHEN {string_list([name])} THEN {double(base - c * c + (1 - c) ** 2)}"
                    for name, c in zip(categories, center, strict=True))
                terms.append(f"(CASE {column_sql} {arms} ELSE {double(base)} END)")
        distances.append(f"SQRT({' + '.join(terms)})")
    refs = [score_ref(i) for i in range(len(distances))]
    cluster = first_best(refs, [str(i) for i in range(len(refs))], largest=False)
    return CompiledModel(distances, [cluster, f"LEAST({', '.join(refs)})"])
