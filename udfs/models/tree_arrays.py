"""Decision trees as flat numpy arrays, saved as .npy (no pickle) and walked vectorised.

A forest's trees are concatenated into one node table: `left`/`right` hold global node
indexes (a leaf points to itself, so every row can take the same number of steps), `feature`
the column tested (0 at a leaf), `threshold` the split (a row goes left when its value, as
float32, is <= it: scikit-learn's own rule), `value` one row of numbers per node, and `roots`
each tree's first node. Shared by the random forest and isolation forest scorers; the
exporter reads only the `tree_` attributes of fitted scikit-learn trees.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_FILES = ("left", "right", "feature", "threshold", "value", "roots")
PREFIX = "trees_"  # the files: trees_left.npy, ...
# Up to this depth all trees walk together; deeper (fully grown) trees one by one.
_ALL_TREES_DEPTH = 16


@dataclass(frozen=True)
class TreeArrays:
    left: np.ndarray  # int64, nodes
    right: np.ndarray  # int64, nodes
    feature: np.ndarray  # int64, nodes
    threshold: np.ndarray  # float64, nodes
    value: np.ndarray  # float64, nodes x outputs
    roots: np.ndarray  # int64, trees
    depth: int  # the deepest leaf's depth (steps a row takes)
    is_leaf: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_leaf", self.left == np.arange(len(self.left)))

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree: rows x trees, global node indexes."""
        # scikit-learn trees compare float32 features with float64 thresholds.
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        if self.depth <= _ALL_TREES_DEPTH:
            return self._leaves_all_trees(x32)
        return self._leaves_tree_by_tree(x32)

    def _leaves_all_trees(self, x32: np.ndarray) -> np.ndarray:
        """Every (row, tree) pair one step per pass, those at a leaf dropped: few passes."""
        n, trees = len(x32), len(self.roots)
        flat = x32.ravel()
        pairs = np.arange(n * trees)
        node = np.tile(self.roots, n)
        base = np.repeat(np.arange(n, dtype=np.int64) * x32.shape[1], trees)
        result = np.empty(n * trees, dtype=np.int64)
        while pairs.size:
            node = np.where(flat[base + self.feature[node]] <= self.threshold[node],
                            self.left[node], self.right[node])
            done = self.is_leaf[node]
            result[pairs[done]] = node[done]
            keep = ~done
            pairs, node, base = pairs[keep], node[keep], base[keep]
        return result.reshape(n, trees)

    def _leaves_tree_by_tree(self, x32: np.ndarray) -> np.ndarray:
        """Deep trees one at a time: each tree's nodes stay in the cache."""
        n = len(x32)
        result = np.empty((n, len(self.roots)), dtype=np.int64)
        ends = np.append(self.roots[1:], len(self.left))
        for k, (start, end) in enumerate(zip(self.roots, ends, strict=True)):
            left, right = self.left[start:end], self.right[start:end]
            feature, threshold = self.feature[start:end], self.threshold[start:end]
            is_leaf = self.is_leaf[start:end]
            rows = np.arange(n)
            node = np.zeros(n, dtype=np.int64)  # local indexes: the root is 0
            while rows.size:
                node = np.where(x32[rows, feature[node]] <= threshold[node],
                                left[node] - start, right[node] - start)
                done = is_leaf[node]
                result[rows[done], k] = node[done] + start
                keep = ~done
                rows, node = rows[keep], node[keep]
        return result

    def save(self, directory: str | os.PathLike[str]) -> None:
        for name in _FILES:
            np.save(os.path.join(directory, f"{PREFIX}{name}.npy"), getattr(self, name),
                    allow_pickle=False)

    @classmethod
    def load(cls, directory: str | os.PathLike[str], depth: int) -> TreeArrays:
        arrays = {name: np.load(os.path.join(directory, f"{PREFIX}{name}.npy"),
                                allow_pickle=False) for name in _FILES}
        return cls(depth=int(depth), **arrays)


def from_sklearn(trees: Sequence[Any], values: Sequence[np.ndarray],
                 features: Sequence[np.ndarray | None] | None = None) -> TreeArrays:
    """Flatten fitted scikit-learn trees (`estimator.tree_` objects). `values[i]`: tree i's
    per-node outputs (nodes x k); `features[i]`: the columns tree i was fitted on, when it
    saw a subset (isolation forest's max_features), mapping its local feature numbers."""
    lefts, rights, feats, thresholds, roots, depth, offset = [], [], [], [], [], 0, 0
    for i, tree in enumerate(trees):
        n = int(tree.node_count)
        left = np.asarray(tree.children_left, dtype=np.int64)
        right = np.asarray(tree.children_right, dtype=np.int64)
        leaf = left < 0
        own = np.arange(n, dtype=np.int64)
        feature = np.where(leaf, 0, np.asarray(tree.feature, dtype=np.int64))
        if features is not None and features[i] is not None:
            feature = np.where(leaf, 0, np.asarray(features[i], dtype=np.int64)[feature])
        lefts.append(np.where(leaf, own, left) + offset)
        rights.append(np.where(leaf, own, right) + offset)
        feats.append(feature)
        thresholds.append(np.where(leaf, 0.0, np.asarray(tree.threshold, dtype=np.float64)))
        roots.append(offset)
        depth = max(depth, int(node_depths(tree).max()))
        offset += n
    return TreeArrays(
        left=np.concatenate(lefts), right=np.concatenate(rights),
        feature=np.concatenate(feats), threshold=np.concatenate(thresholds),
        value=np.concatenate([np.asarray(v, dtype=np.float64).reshape(len(v), -1)
                              for v in values]),
        roots=np.asarray(roots, dtype=np.int64), depth=depth)


def node_depths(tree: Any) -> np.ndarray:
    """Each node's depth (the root's is 0) in a scikit-learn `tree_`, whose children always
    come after their parent."""
    left = np.asarray(tree.children_left)
    right = np.asarray(tree.children_right)
    depths = np.zeros(int(tree.node_count), dtype=np.int64)
    for node in range(int(tree.node_count)):
        if left[node] >= 0:
            depths[left[node]] = depths[right[node]] = depths[node] + 1
    return depths


def average_path_length(n: np.ndarray | float) -> np.ndarray:
    """c(n), the average path length of an unsuccessful search in a binary search tree of
    n points (Liu et al.'s isolation forest; scikit-learn's _average_path_length)."""
    n = np.asarray(n, dtype=np.float64)
    result = np.zeros(n.shape)
    result[n == 2] = 1.0
    many = n > 2
    result[many] = (2.0 * (np.log(n[many] - 1.0) + np.euler_gamma)
                    - 2.0 * (n[many] - 1.0) / n[many])
    return result
