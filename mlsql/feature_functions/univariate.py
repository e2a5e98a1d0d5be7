"""Feature selection by a univariate test against the label: Flink ML's
UnivariateFeatureSelector.

    ML_UNIVARIATE_FEATURE_SELECTOR(ARRAY[a, ...], ARRAY[selected index, ...])
        ARRAY<DOUBLE>: the selected elements, in index order (the list keeps the selection's
        order, most significant first: Flink ML's model data); empty when none is.
    ML_UNIVARIATE_FEATURE_SELECTOR(ARRAY[a, ...], label, 'feature_type', 'label_type'
            [, 'selection_mode' [, threshold]]) OVER ()   (TRANSFORM only)
        The test by the types: categorical features and label, the chi-squared test;
        continuous features and a categorical label, the ANOVA F-test; both continuous, the
        F-value test (mlsql.feature_functions.feature_tests). selection_mode: numTopFeatures
        (the threshold most significant, 50 by default), percentile (that fraction of them,
        0.1), fpr (p < threshold, 0.05), fdr (Benjamini-Hochberg at threshold, 0.05), fwe
        (p < threshold / features, 0.05); equal p-values in index order.
"""

from __future__ import annotations

import math
from typing import Any

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
)
from mlsql.feature_functions.feature_tests import (
    ANOVA,
    CHI_SQUARE,
    F_VALUE,
    rows_with_values,
    run_test,
)
from mlsql.feature_functions.vectors import SelectedElements
from mlsql.syntax import ir

TYPES = ("categorical", "continuous")
TESTS = {("categorical", "categorical"): CHI_SQUARE, ("continuous", "categorical"): ANOVA,
         ("continuous", "continuous"): F_VALUE}
MODES = ("numTopFeatures", "percentile", "fpr", "fdr", "fwe")
DEFAULT_THRESHOLDS = {"numTopFeatures": 50.0, "percentile": 0.1}  # else 0.05


def threshold_problem(mode: str, threshold: float) -> str | None:
    """Flink ML's message for a threshold the selection mode cannot take, or None."""
    if mode == "numTopFeatures":
        if threshold < 1 or threshold != int(threshold):
            return ("SelectionThreshold needs to be a positive Integer for selection mode "
                    f"numTopFeatures, but got {threshold}.")
    elif not 0 <= threshold <= 1:
        return (f"SelectionThreshold needs to be in the range [0, 1] for selection mode {mode}, "
                f"but got {threshold}.")
    return None


def select(p_values: list[float], mode: str, threshold: float) -> list[int]:
    """The selected features' indices, in Flink ML's order (by p-value for the ranked
    modes, by index for fpr and fwe)."""
    # NaN last, as Java's Double.compare orders it
    ranked = sorted(range(len(p_values)),
                    key=lambda i: (math.isnan(p_values[i]), p_values[i] if not math.isnan(
                        p_values[i]) else 0.0, i))
    count = len(p_values)
    if mode == "numTopFeatures":
        return ranked[: int(threshold)]
    if mode == "percentile":
        return ranked[: int(count * threshold)]
    if mode == "fpr":
        return [i for i, p in enumerate(p_values) if p < threshold]
    if mode == "fwe":
        return [i for i, p in enumerate(p_values) if p < threshold / count]
    passing = [rank for rank, i in enumerate(ranked) if p_values[i] < threshold / count * (rank
                                                                                        + 1)]
    return ranked[: max(passing) + 1] if passing else []


class UnivariateFeatureSelector(SelectedElements):
    name = "ML_UNIVARIATE_FEATURE_SELECTOR"
    in_index_order = True  # the stored list keeps the selection's order (the model data)
    what = "selected indices"
    usage = "ML_UNIVARIATE_FEATURE_SELECTOR(ARRAY[a, ...], ARRAY[selected index, ...])"
    fitted_usage = ("ML_UNIVARIATE_FEATURE_SELECTOR(ARRAY[a, ...], label, 'feature_type', "
                    "'label_type' [, 'selection_mode' [, threshold]]) OVER ()")

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 4, 6, self.fitted_usage)
        self.expressions(args[0], "input")
        feature_type = self.choice(args[2], "feature_type", TYPES)
        label_type = self.choice(args[3], "label_type", TYPES)
        if (feature_type, label_type) not in TESTS:
            raise FeatureArgumentError(f"{self.name}: no test of categorical features against "
                                       "a continuous label (Flink ML has none)",
                                       args[2].position)
        mode = self.choice(args[4], "selection_mode", MODES) if len(args) > 4 \
            else "numTopFeatures"
        threshold = (self.number(args[5], "threshold") if len(args) > 5
                     else DEFAULT_THRESHOLDS.get(mode, 0.05))
        if problem := threshold_problem(mode, threshold):
            raise FeatureArgumentError(problem, args[5].position)
        return {"test": TESTS[(feature_type, label_type)], "mode": mode,
                "threshold": threshold}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        label = sql_of(args[1])
        features = [sql_of(e) for e in args[0].elements or ()]

        def p_values(fetch: Any, rows_sql: str) -> dict[str, Any]:
            results = run_test(options["test"], fetch,
                               rows_with_values(rows_sql, label, features), label, features)
            return {"p_values": [p for p, _, _ in results]}

        return FitRequest(queries=p_values)

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        selected = select(result.aggregates["p_values"], options["mode"], options["threshold"])
        return f"{self.name}({args[0].text}, ARRAY[{', '.join(map(str, selected))}])"


FEATURE_FUNCTIONS = (UnivariateFeatureSelector(),)
