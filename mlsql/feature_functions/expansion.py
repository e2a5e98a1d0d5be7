"""Functions of several columns at once, written ARRAY[a, b, ...] (any expressions).

    ML_POLYNOMIAL_EXPANSION(ARRAY[a, b, ...], degree)   ARRAY<DOUBLE>: every product of 1 to
        `degree` inputs, in scikit-learn's PolynomialFeatures(include_bias=False) order
        (a, b, a*a, a*b, b*b for degree 2); a NULL input makes the products with it NULL
    ML_NORMALIZER(ARRAY[a, b, ...] [, p])   ARRAY<DOUBLE>: each input divided by the p-norm of
        all of them (p >= 1, default 2; 'inf' or a large p: the largest absolute value); a
        zero norm gives zeros (scikit-learn's Normalizer); a NULL input makes the row NULL
"""

from __future__ import annotations

import itertools

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    Params,
    SqlOf,
    as_double,
    number_text,
)
from mlsql.syntax import ir

MAX_TERMS = 10_000


class PolynomialExpansion(FeatureFunction):
    name = "ML_POLYNOMIAL_EXPANSION"
    array = True
    usage = "ML_POLYNOMIAL_EXPANSION(ARRAY[a, b, ...] [, degree [, order]])"
    ORDERS = ("scikit-learn", "flink-ml")

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 3)
        inputs = self.expressions(args[0], "input")
        degree = self.integer(args[1], "degree") if len(args) > 1 else 2
        order = self.choice(args[2], "order", self.ORDERS) if len(args) > 2 else "scikit-learn"
        terms = [c for d in range(1, degree + 1)
                 for c in itertools.combinations_with_replacement(range(len(inputs)), d)]
        if len(terms) > MAX_TERMS:
            raise FeatureArgumentError(f"{self.name} would make {len(terms):,} terms (at most "
                                       f"{MAX_TERMS:,})", call.position)
        if order == "flink-ml":  # Flink ML's (Spark's): x, x², y, xy, y², z, xz, ...
            terms.sort(key=lambda term: [term.count(i) for i in reversed(range(len(inputs)))])
        return {"terms": terms}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        inputs = [as_double(sql_of(e)) for e in args[0].elements or ()]
        return [" * ".join(inputs[i] for i in term) for term in params["terms"]]

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["terms"])))


class Normalizer(FeatureFunction):
    name = "ML_NORMALIZER"
    array = True
    usage = "ML_NORMALIZER(ARRAY[a, b, ...] [, p])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 2)
        inputs = self.expressions(args[0], "input")
        p = 2.0
        if len(args) > 1:
            if args[1].is_literal and isinstance(args[1].value, str) and \
                    args[1].value.lower() == "inf":
                p = float("inf")
            else:
                p = self.number(args[1], "p")
                if p < 1:
                    raise FeatureArgumentError(f"{self.name}'s p must be >= 1, found "
                                               f"{args[1].text}", args[1].position)
        return {"p": p, "size": len(inputs)}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        inputs = [as_double(sql_of(e)) for e in args[0].elements or ()]
        p = params["p"]
        if p == float("inf"):
            norm = (f"GREATEST({', '.join(f'ABS({x})' for x in inputs)})" if len(inputs) > 1
                    else f"ABS({inputs[0]})")
        elif p == 1:
            norm = " + ".join(f"ABS({x})" for x in inputs)
        elif p == 2:
            norm = f"SQRT({' + '.join(f'{x} * {x}' for x in inputs)})"
        else:
            total = " + ".join(f"POWER(ABS({x}), {number_text(p)})" for x in inputs)
            norm = f"POWER({total}, {number_text(1 / p)})"
        return [f"CASE WHEN ({norm}) = 0E0 THEN 0E0 ELSE {x} / ({norm}) END" for x in inputs]

    def width(self, params: Params) -> list[int]:
        return list(range(params["size"]))


FEATURE_FUNCTIONS = (PolynomialExpansion(), Normalizer())
