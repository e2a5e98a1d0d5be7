"""Gaussian naive Bayes as Flink SQL: one joint log-likelihood expression per class, then
the sigmoid (two classes) or softmax of udfs/models/naive_bayes.py.

Per class k the log-likelihood is log prior_k - 1/2 sum_j log(2 pi var_kj) - 1/2 sum_j
(x_j - theta_kj)^2 / var_kj over the encoded features. A numeric feature is one squared
term; a string column's one-hot indicators are summed in Python for each category (and for
NULL or unseen strings, all indicators 0) into one CASE, so SQL never subtracts the large
terms of near-zero variances from each other.
"""

from __future__ import annotations

import math
from typing import Any

from mlsql.compiler.linear import FOLD_MEAN_TO_STD, classify, numeric_term
from mlsql.compiler.sql import CompiledModel, double, score_ref, string_list


def compile_gaussian_nb(payload: dict[str, Any], inputs: list[str],
                        label_type: str | None) -> CompiledModel:
    scores = [_log_likelihood(payload, inputs, k) for k in range(len(payload["classes"]))]
    refs = [score_ref(k) for k in range(len(scores))]
    if len(refs) == 2:
        # The two log-likelihoods are recomputed in the label and the probability: cheaper
        # than a projection of their own (tests/benchmarks/inference.py --types).
        logit = [f"({refs[1]}) - ({refs[0]})"]
        return CompiledModel(scores, classify(logit, payload["classes"],
                                              label_type or "STRING", "sigmoid"),
                             inline_scores=True)
    return CompiledModel(scores, classify(refs, payload["classes"], label_type or "STRING",
                                          "softmax"))


def _log_likelihood(payload: dict[str, Any], inputs: list[str], k: int) -> str:
    spec = payload["features"]
    theta, var = payload["theta"][k], payload["var"][k]
    constant = math.log(payload["class_prior"][k]) - 0.5 * sum(
        math.log(2.0 * math.pi * v) for v in var)
    terms = []
    position = 0
    for column, column_sql in zip(spec["columns"], inputs, strict=True):
        if column["kind"] == "numeric":
            terms.append(_numeric(column_sql, column, spec["standardize"], theta[position],
                                  var[position]))
            position += 1
            continue
        width = len(column["categories"])
        means, variances = theta[position : position + width], var[position : position + width]
        position += width

        def column_term(hot: int | None, means=means, variances=variances) -> float:
            return -0.5 * sum((float(i == hot) - t) ** 2 / v
                              for i, (t, v) in enumerate(zip(means, variances, strict=True)))

        arms = " ".join(f"WHEN {string_list([name])} THEN {double(column_term(i))}"
                        for i, name in enumerate(column["categories"]))
        terms.append(f"(CASE {column_sql} {arms} ELSE {double(column_term(None))} END)")
    return " + ".join([double(constant), *terms])


def _numeric(column_sql: str, column: dict[str, Any], standardize: bool, theta: float,
             var: float) -> str:
    """-1/2 (v - theta)^2 / var of the encoded value v; with standardization folded into the
    centre and the factor where the column's mean does not dwarf its spread."""
    if standardize and abs(column["mean"]) <= FOLD_MEAN_TO_STD * column["std"]:
        std = column["std"]
        value = numeric_term(column_sql, column, standardize=False)
        centre, factor = column["mean"] + theta * std, -0.5 / (var * std * std)
    else:
        value = f"({numeric_term(column_sql, column, standardize)})"
        centre, factor = theta, -0.5 / var
    return f"POWER({value} - {double(centre)}, 2) * {double(factor)}"
