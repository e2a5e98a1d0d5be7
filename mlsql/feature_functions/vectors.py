"""Flink ML's element-wise vector stages, over a vector written ARRAY[a, b, ...] (one
expression per element, as mlsql's vector columns are one column per element).

    ML_BINARIZER(x, threshold)   DOUBLE: 1 where x > threshold, else 0; NULL → NULL
        (Flink ML's Binarizer, per element)
    ML_ELEMENTWISE_PRODUCT(ARRAY[a, ...], ARRAY[s, ...])   ARRAY<DOUBLE>: a_i * s_i (Flink
        ML's ElementwiseProduct); the scaling vector's size must be the input's
    ML_VECTOR_SLICER(ARRAY[a, ...], ARRAY[i, ...])   ARRAY<DOUBLE>: the elements at the given
        indices (from 0), in their order (Flink ML's VectorSlicer)
    ML_INTERACTION(v1, v2, ...)   ARRAY<DOUBLE>: every product of one element of each input
        (an ARRAY[...] vector or a number), the first input's element varying slowest (Flink
        ML's Interaction); a NULL element makes the products with it NULL
    ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, ...] [, threshold]) OVER ()   (TRANSFORM only)
        Flink ML's VarianceThresholdSelector: the elements whose population variance over the
        training rows is above threshold (0), as ARRAY<DOUBLE> (empty when none is); stored as
        ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, ...], ARRAY[kept indices])
    ML_DCT(ARRAY[a, ...] [, inverse])   ARRAY<DOUBLE>: the orthonormal DCT-II of the vector, or
        with inverse TRUE its inverse (DCT-III): Flink ML's DCT, as scipy.fft.dct(x,
        norm='ortho'); a NULL element makes the result's elements NULL
"""

from __future__ import annotations

import itertools
import math

from mlsql.feature_functions.base import (
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    FitRequest,
    FitResult,
    Params,
    SqlOf,
    as_double,
    number_text,
    present_double,
)
from mlsql.syntax import ir

MAX_DCT_SIZE = 256  # the transform is written out: size² products


class Binarizer(FeatureFunction):
    name = "ML_BINARIZER"
    usage = "ML_BINARIZER(x, threshold)"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        return {"threshold": self.number(args[1], "threshold")}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        x = as_double(sql_of(args[0]))
        return [f"CASE WHEN {x} IS NULL THEN CAST(NULL AS DOUBLE) WHEN {x} > "
                f"{number_text(params['threshold'])} THEN 1E0 ELSE 0E0 END"]


class ElementwiseProduct(FeatureFunction):
    name = "ML_ELEMENTWISE_PRODUCT"
    array = True
    usage = "ML_ELEMENTWISE_PRODUCT(ARRAY[a, ...], ARRAY[scale, ...])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        inputs = self.expressions(args[0], "input")
        scaling = self.literal_array(args[1], "scaling vector", float)
        if len(scaling) != len(inputs):  # Flink ML's message
            raise FeatureArgumentError(
                f"The scaling vector size is {len(scaling)}, which is not equal input "
                f"vector size({len(inputs)}).", args[1].position)
        return {"scaling": scaling}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        return [f"{as_double(sql_of(e))} * {number_text(s)}"
                for e, s in zip(args[0].elements or (), params["scaling"], strict=True)]

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["scaling"])))


class VectorSlicer(FeatureFunction):
    name = "ML_VECTOR_SLICER"
    array = True
    usage = "ML_VECTOR_SLICER(ARRAY[a, ...], ARRAY[index, ...])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        inputs = self.expressions(args[0], "input")
        indices = self.literal_array(args[1], "indices", float)
        problem = slicer_indices_problem(indices, len(inputs))
        if problem:
            raise FeatureArgumentError(problem, args[1].position)
        return {"indices": [int(i) for i in indices]}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        inputs = args[0].elements or ()
        return [as_double(sql_of(inputs[i])) for i in params["indices"]]

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["indices"])))


def slicer_indices_problem(indices: list[float], size: int | None) -> str | None:
    """What is wrong with VectorSlicer's indices, in Flink ML's words, or None."""
    if not indices or any(i < 0 or i != int(i) for i in indices) or len(set(indices)) != len(
            indices):
        return ("Parameter indices is given an invalid value {"
                + ",".join(str(int(i)) if i == int(i) else str(i) for i in indices) + "}")
    if size is not None and max(indices) >= size:
        return f"Index value {int(max(indices))} is greater than vector size:{size}"
    return None


class DCT(FeatureFunction):
    name = "ML_DCT"
    array = True
    usage = "ML_DCT(ARRAY[a, ...] [, inverse])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 2)
        inputs = self.expressions(args[0], "input")
        if len(inputs) > MAX_DCT_SIZE:
            raise FeatureArgumentError(f"{self.name} takes at most {MAX_DCT_SIZE} elements",
                                       args[0].position)
        inverse = self.flag(args[1], "inverse") if len(args) > 1 else False
        return {"size": len(inputs), "inverse": inverse}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        inputs = [as_double(sql_of(e)) for e in args[0].elements or ()]
        size = params["size"]

        def weight(k: int, n: int) -> float:  # row k, column n of the orthonormal DCT-II
            scale = math.sqrt((1 if k == 0 else 2) / size)
            return scale * math.cos(math.pi * (2 * n + 1) * k / (2 * size))

        rows = []
        for out in range(size):
            weights = ([weight(k, out) for k in range(size)] if params["inverse"]
                       else [weight(out, n) for n in range(size)])
            terms = [f"{x} * {number_text(w)}" for x, w in zip(inputs, weights, strict=True)
                     if w != 0.0]
            rows.append(" + ".join(terms) if terms else "0E0")
        return rows

    def width(self, params: Params) -> list[int]:
        return list(range(params["size"]))


class Interaction(FeatureFunction):
    name = "ML_INTERACTION"
    array = True
    usage = "ML_INTERACTION(ARRAY[a, ...] | x, ARRAY[b, ...] | y, ...)"
    MAX_TERMS = 10_000

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 100)
        sizes = [len(a.elements) if a.elements is not None else 1 for a in args]
        if math.prod(sizes) > self.MAX_TERMS:
            raise FeatureArgumentError(f"{self.name} would make {math.prod(sizes):,} products "
                                       f"(at most {self.MAX_TERMS:,})", call.position)
        return {"size": math.prod(sizes)}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        vectors = [[as_double(sql_of(e)) for e in a.elements] if a.elements is not None
                   else [as_double(sql_of(a))] for a in args]
        return [" * ".join(factors) for factors in itertools.product(*vectors)]

    def width(self, params: Params) -> list[int]:
        return list(range(params["size"]))


class SelectedElements(FeatureFunction):
    """A fitted selection of a vector's elements: `NAME(ARRAY[a, ...], ARRAY[index, ...])`,
    the elements at the indices (in index order with `in_index_order`), an empty ARRAY when
    none is selected."""

    array = True
    fittable = True
    in_index_order = False
    what = "kept indices"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 2)
        inputs = self.expressions(args[0], "input")
        kept = self.literal_array(args[1], self.what, float)
        problem = slicer_indices_problem(kept, len(inputs)) if kept else None
        if problem:
            raise FeatureArgumentError(problem, args[1].position)
        indices = [int(i) for i in kept]
        return {"indices": sorted(indices) if self.in_index_order else indices}

    def elements(self, args: Arguments, params: Params, sql_of: SqlOf) -> list[str]:
        inputs = args[0].elements or ()
        return [as_double(sql_of(inputs[i])) for i in params["indices"]]

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: object) -> str:
        parts = self.elements(args, params, sql_of)
        # Flink SQL has no empty ARRAY literal
        return f"ARRAY[{', '.join(parts)}]" if parts else "ARRAY_REMOVE(ARRAY[0E0], 0E0)"

    def width(self, params: Params) -> list[int]:
        return list(range(len(params["indices"])))


class VarianceThresholdSelector(SelectedElements):
    name = "ML_VARIANCE_THRESHOLD_SELECTOR"
    usage = "ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, ...], ARRAY[kept index, ...])"
    fitted_usage = "ML_VARIANCE_THRESHOLD_SELECTOR(ARRAY[a, ...] [, threshold]) OVER ()"

    def fit_options(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 1, 2, self.fitted_usage)
        self.expressions(args[0], "input")
        threshold = self.number(args[1], "threshold") if len(args) > 1 else 0.0
        if threshold < 0:
            raise FeatureArgumentError(f"{self.name}'s threshold must be >= 0, found "
                                       f"{args[1].text}", args[1].position)
        return {"threshold": threshold}

    def requests(self, args: Arguments, options: Params, sql_of: SqlOf) -> FitRequest:
        return FitRequest({f"variance{i}": f"VAR_POP({present_double(sql_of(e))})"
                           for i, e in enumerate(args[0].elements or ())})

    def fitted_text(self, args: Arguments, options: Params, result: FitResult) -> str:
        variances = [result.aggregates[f"variance{i}"] for i in range(len(args[0].elements
                                                                          or ()))]
        kept = [i for i, v in enumerate(variances)
                if v is not None and float(v) > options["threshold"]]
        return f"{self.name}({args[0].text}, ARRAY[{', '.join(map(str, kept))}])"


FEATURE_FUNCTIONS = (Binarizer(), ElementwiseProduct(), VectorSlicer(), DCT(), Interaction(),
                     VarianceThresholdSelector())
