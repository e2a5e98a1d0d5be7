"""scikit-learn trees exported as node arrays (udfs/models/tree_arrays.py) as nested CASE
expressions, one per tree and output: the compiled-SQL form of small random forests and
isolation forests.

The features are encoded as the scorer encodes them (udfs/features.py, one-hot, not
standardized): a number imputed with the training mean and rounded to FLOAT (scikit-learn
compares float32 features with float64 thresholds), a category's indicator as a test of the
string (NULL or unseen: every indicator 0). A numeric split does not spell the imputation
out (mlsql.compiler.sql.numeric_split).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlsql.models.base import CompileRequest
from udfs import features
from udfs.models.tree_arrays import TreeArrays

# (SQL, the one-hot indicator's category or None for a number, a number's imputed FLOAT)
_Encoded = tuple[str, str | None, float | None]


def load(request: CompileRequest) -> TreeArrays:
    """The version's trees, refused (NotCompilable) when their nodes, counted once per
    output they give, exceed the request's limit."""
    from mlsql.compiler.sql import NotCompilable

    trees = TreeArrays.load(request.directory, request.payload["tree_depth"])
    nodes = len(trees.left) * trees.value.shape[1]
    if nodes > request.max_tree_nodes:
        raise NotCompilable(f"{len(trees.roots)} trees with {nodes} nodes (counted once per "
                            f"output) exceed the compiled-SQL limit of "
                            f"{request.max_tree_nodes} nodes")
    return trees


def tree_terms(trees: TreeArrays, request: CompileRequest) -> list[list[str]]:
    """For each output column of the leaves' values, one CASE expression per tree."""
    columns = _encoded_columns(request.payload["features"], request.inputs)
    return [[_node(trees, int(root), output, columns) for root in trees.roots]
            for output in range(trees.value.shape[1])]


def _encoded_columns(spec: dict[str, Any], inputs: list[str]) -> list[_Encoded]:
    """Each encoded column: a number's FLOAT value and the FLOAT its missing values are
    imputed with, or a one-hot indicator's string column and category."""
    if spec["encoding"] != features.ONE_HOT or spec["standardize"]:
        raise ValueError("compiled trees need one-hot, unstandardized features")
    result: list[_Encoded] = []
    for column, column_sql in zip(spec["columns"], inputs, strict=True):
        if column["kind"] == features.NUMERIC:
            result.append((f"CAST({column_sql} AS FLOAT)", None,
                           float(np.float32(column["mean"]))))
        else:
            result.extend((column_sql, category, None) for category in column["categories"])
    return result


def _node(trees: TreeArrays, node: int, output: int, columns: list[_Encoded]) -> str:
    from mlsql.compiler.sql import double, numeric_split, string_list

    left, right = int(trees.left[node]), int(trees.right[node])
    if left == node:  # a leaf points to itself
        return double(float(trees.value[node, output]))
    threshold = float(trees.threshold[node])
    value, category, missing = columns[int(trees.feature[node])]
    if missing is not None:  # a number
        return numeric_split(value, threshold, missing, _node(trees, left, output, columns),
                             _node(trees, right, output, columns))
    # An indicator is 1 for its category, else 0 (NULL and unseen strings included).
    one_left, zero_left = threshold >= 1.0, threshold >= 0.0
    if one_left == zero_left:
        return _node(trees, left if one_left else right, output, columns)
    matched = _node(trees, left if one_left else right, output, columns)
    other = _node(trees, right if one_left else left, output, columns)
    return f"CASE WHEN {value} IN ({string_list([category])}) THEN {matched} ELSE {other} END"

