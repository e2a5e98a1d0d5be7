package io.mlsql.trees;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * An ensemble's numerical splits scored by QuickScorer's bit-vector traversal (Lucchese et
 * al., SIGIR 2015) instead of walking each tree.
 *
 * Each tree's leaves are numbered left to right, and a row keeps one 64-bit word per tree with
 * a bit per leaf that can still be its exit. A split whose test fails (x > threshold: the row
 * goes right) rules out every leaf of its left subtree, so its word is ANDed with a mask
 * clearing them. All splits on a feature are kept in ascending threshold order across the
 * whole ensemble, so for each feature the row visits exactly the splits it fails, in one
 * predictable loop that stops at the first threshold >= x. The exit leaf of a tree is then the
 * leftmost bit still set. No step depends on a guessed branch, and no work is spent on the
 * splits a row passes.
 *
 * Exact only where a split is "x <= threshold, else right" and a tree has at most 64 leaves:
 * callers keep their per-node walk for missing values and categorical splits, and use
 * `of` to learn whether an ensemble qualifies.
 */
public final class FlatForest {

    private final int trees;
    private final int[] start;       // feature f's splits are start[f] .. start[f + 1] - 1
    private final double[] threshold;
    private final int[] tree;
    private final long[] mask;
    private final double[] leaf;     // tree t's leaf in left-to-right position j: [64 t + j]

    /** One tree's nodes: internal node i splits on feature[i] at threshold[i]; its children
     * are internal nodes (>= 0) or leaves (~leaf), as LightGBM stores them. */
    public static final class Tree {
        final int[] feature;
        final double[] threshold;
        final int[] left;
        final int[] right;
        final double[] leaf;

        public Tree(int[] feature, double[] threshold, int[] left, int[] right,
                    double[] leaf) {
            this.feature = feature;
            this.threshold = threshold;
            this.left = left;
            this.right = right;
            this.leaf = leaf;
        }
    }

    private static final class Split {
        final double threshold;
        final int tree;
        final long mask;

        Split(double threshold, int tree, long mask) {
            this.threshold = threshold;
            this.tree = tree;
            this.mask = mask;
        }
    }

    /** The bit-vector form of `trees`, or null where a tree has more than 64 leaves. */
    public static FlatForest of(Tree[] trees, int features) {
        for (Tree t : trees) {
            if (t.leaf.length > 64) {
                return null;
            }
        }
        return new FlatForest(trees, features);
    }

    private FlatForest(Tree[] trees, int features) {
        this.trees = trees.length;
        List<List<Split>> byFeature = new ArrayList<>();
        for (int f = 0; f < features; f++) {
            byFeature.add(new ArrayList<>());
        }
        leaf = new double[64 * trees.length];
        for (int t = 0; t < trees.length; t++) {
            Tree source = trees[t];
            if (source.feature == null) {
                leaf[64 * t] = source.leaf[0];
                continue;
            }
            int[] position = {0};
            visit(source, 0, t, position, byFeature);
        }
        start = new int[features + 1];
        int total = 0;
        for (int f = 0; f < features; f++) {
            start[f] = total;
            total += byFeature.get(f).size();
        }
        start[features] = total;
        threshold = new double[total];
        tree = new int[total];
        mask = new long[total];
        int i = 0;
        for (List<Split> splits : byFeature) {
            splits.sort((a, b) -> Double.compare(a.threshold, b.threshold));
            for (Split split : splits) {
                threshold[i] = split.threshold;
                tree[i] = split.tree;
                mask[i] = split.mask;
                i++;
            }
        }
    }

    /** Numbers node's leaves left to right from position[0]; records each split with the
     * mask that clears its left subtree's leaves. Returns the first and last leaf numbered. */
    private int[] visit(Tree source, int node, int t, int[] position,
                        List<List<Split>> byFeature) {
        if (node < 0) {
            int j = position[0]++;
            leaf[64 * t + j] = source.leaf[~node];
            return new int[] {j, j};
        }
        int[] left = visit(source, source.left[node], t, position, byFeature);
        int[] right = visit(source, source.right[node], t, position, byFeature);
        long cleared = 0L;
        for (int j = left[0]; j <= left[1]; j++) {
            cleared |= 1L << j;
        }
        byFeature.get(source.feature[node]).add(
                new Split(source.threshold[node], t, ~cleared));
        return new int[] {left[0], right[1]};
    }

    /** The leaf value each tree gives the row x (no NaN in it): out[t] for tree t. */
    public void leaves(double[] x, double[] out) {
        long[] alive = new long[trees];
        Arrays.fill(alive, -1L);
        for (int f = 0; f < start.length - 1; f++) {
            double value = x[f];
            int end = start[f + 1];
            for (int i = start[f]; i < end && value > threshold[i]; i++) {
                alive[tree[i]] &= mask[i];
            }
        }
        for (int t = 0; t < trees; t++) {
            out[t] = leaf[64 * t + Long.numberOfTrailingZeros(alive[t])];
        }
    }

    public int trees() {
        return trees;
    }
}
