"""Vector assembly: Flink ML's VectorAssembler as a SQL function.

    ML_VECTOR_ASSEMBLER(ARRAY[input, ...], ARRAY[size, ...] [, handle_invalid])
        ARRAY<DOUBLE>: the inputs joined into one vector, each input a number, an
        ARRAY<DOUBLE> (a dense vector) or a MAP<INT, DOUBLE> (a sparse vector, as HashingTF
        and FeatureHasher write them) of its size. handle_invalid: 'error' (the default)
        fails the job on a NULL input, a NaN number or an input of another size, with Flink
        ML's message; 'skip' gives NULL (the Pipeline API drops the row); 'keep' writes NaN
        for a NULL input (size-many) and does not check sizes. A NULL number reads as NaN (a
        pandas UDF cannot tell them apart; mlsql's feature functions treat both as missing);
        an empty MAP or ARRAY is all zeros of its size (an all-zero sparse vector).
        A pandas UDF (udfs/vectors.py).
"""

from __future__ import annotations

from typing import Any

from mlsql.feature_functions.base import (
    HANDLE_INVALID,
    Arguments,
    FeatureArgumentError,
    FeatureFunction,
    Params,
    SqlOf,
)
from mlsql.feature_functions.python_udfs import register_udf
from mlsql.syntax import ir
from udfs.vectors import VectorAssemblerFunction

MAX_ASSEMBLED = 100_000  # elements: the result is a dense ARRAY


class VectorAssembler(FeatureFunction):
    name = "ML_VECTOR_ASSEMBLER"
    array = True
    usage = "ML_VECTOR_ASSEMBLER(ARRAY[input, ...], ARRAY[size, ...] [, handle_invalid])"

    def explicit(self, args: Arguments, call: ir.FeatureCall) -> Params:
        self.count(args, call, 2, 3)
        inputs = self.expressions(args[0], "inputs")
        sizes = self.literal_array(args[1], "input sizes", float)
        if len(sizes) != len(inputs) or not all(s >= 1 and s == int(s) for s in sizes):
            raise FeatureArgumentError(
                f"{self.name}'s input sizes are one whole number >= 1 for each of the "
                f"{len(inputs)} inputs, found {args[1].text}", args[1].position)
        if sum(sizes) > MAX_ASSEMBLED:
            raise FeatureArgumentError(f"{self.name} would make {int(sum(sizes)):,} elements "
                                       f"(at most {MAX_ASSEMBLED:,})", args[1].position)
        handle = (self.choice(args[2], "handle_invalid", HANDLE_INVALID) if len(args) > 2
                  else "error")
        return {"sizes": [int(s) for s in sizes], "handle_invalid": handle}

    def expands(self, params: Params) -> bool:
        return True

    def render(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> str:
        sizes, handle = params["sizes"], params["handle_invalid"]
        name = register_udf(runtime, self.name, "vector_assembler", f"{sizes}|{handle}",
                            VectorAssemblerFunction(sizes, handle), "ARRAY<DOUBLE>")
        return f"{name}({', '.join(sql_of(e) for e in args[0].elements or ())})"

    def width(self, params: Params) -> list[int]:
        return list(range(sum(params["sizes"])))

    def expand(self, args: Arguments, params: Params, sql_of: SqlOf, runtime: Any) -> list[str]:
        array = self.render(args, params, sql_of, runtime)
        return [f"({array})[{i + 1}]" for i in range(sum(params["sizes"]))]


FEATURE_FUNCTIONS = (VectorAssembler(),)
