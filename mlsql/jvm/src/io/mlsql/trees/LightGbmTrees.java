package io.mlsql.trees;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A LightGBM model read from its text format (Booster.save_model), scored as LightGBM's
 * Tree::Predict scores it: trees summed in file order in double precision, tree t adding to
 * score t % num_tree_per_iteration.
 */
public final class LightGbmTrees implements TreeEnsemble {

    private static final double ZERO = (double) 1e-35f; // LightGBM's kZeroThreshold
    private static final int MISSING_ZERO = 1;
    private static final int MISSING_NAN = 2;

    private final int perIteration;
    private final double divisor;
    private final Tree[] trees;
    private final String objective;
    // The trees' bit-vector form, where every split is numerical with no zero-as-missing and
    // no tree has more than 64 leaves: exact for rows without NaN. Null where not.
    private final FlatForest flat;

    private LightGbmTrees(int perIteration, double divisor, Tree[] trees, String objective) {
        this.perIteration = perIteration;
        this.divisor = divisor;
        this.trees = trees;
        this.objective = objective;
        this.flat = flatForm(trees);
    }

    private static FlatForest flatForm(Tree[] trees) {
        FlatForest.Tree[] plain = new FlatForest.Tree[trees.length];
        int features = 0;
        for (int t = 0; t < trees.length; t++) {
            Tree tree = trees[t];
            if (tree.feature != null) {
                for (int type : tree.decision) {
                    if ((type & 1) != 0 || ((type >> 2) & 3) == MISSING_ZERO) {
                        return null;
                    }
                }
                for (int f : tree.feature) {
                    features = Math.max(features, f + 1);
                }
            }
            plain[t] = new FlatForest.Tree(tree.feature, tree.threshold, tree.left, tree.right,
                    tree.leaf);
        }
        return FlatForest.of(plain, features);
    }

    /** The header's objective line, e.g. "binary sigmoid:1" or "multiclass num_class:3". */
    public String objective() {
        return objective;
    }

    public static LightGbmTrees read(Path file) throws IOException {
        Map<String, String> header = new HashMap<>();
        List<Map<String, String>> sections = new ArrayList<>();
        Map<String, String> current = header;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (line.startsWith("end of trees")) {
                    break;
                }
                if (line.startsWith("Tree=")) {
                    current = new HashMap<>();
                    sections.add(current);
                    continue;
                }
                int equals = line.indexOf('=');
                if (equals > 0) {
                    current.put(line.substring(0, equals), line.substring(equals + 1));
                } else if (!line.isEmpty()) {
                    current.put(line, "");
                }
            }
        }
        if (!header.containsKey("num_tree_per_iteration")) {
            throw new IOException(file + " is not a LightGBM text model");
        }
        int perIteration = Integer.parseInt(header.get("num_tree_per_iteration"));
        Tree[] trees = new Tree[sections.size()];
        for (int i = 0; i < trees.length; i++) {
            trees[i] = Tree.of(sections.get(i), file, i);
        }
        double divisor = header.containsKey("average_output")
                ? Math.max(1, trees.length / perIteration) : 1.0;
        return new LightGbmTrees(perIteration, divisor, trees,
                header.getOrDefault("objective", "regression"));
    }

    @Override
    public int outputs() {
        return perIteration;
    }

    /** Every output's raw score for the row x, as score(x, k) for each k. */
    public double[] scores(double[] x) {
        double[] raw = new double[perIteration];
        if (flat == null || hasNaN(x)) {
            for (int k = 0; k < perIteration; k++) {
                raw[k] = score(x, k);
            }
            return raw;
        }
        double[] leaves = new double[trees.length];
        flat.leaves(x, leaves);
        for (int k = 0; k < perIteration; k++) {
            double sum = 0.0;
            for (int t = k; t < leaves.length; t += perIteration) {
                sum += leaves[t];
            }
            raw[k] = divisor == 1.0 ? sum : sum / divisor;
        }
        return raw;
    }

    /** Whether the bit-vector form serves rows without NaN (tests/benchmarks/tree_scoring.py). */
    public boolean flat() {
        return flat != null;
    }

    private static boolean hasNaN(double[] x) {
        for (double v : x) {
            if (v != v) {
                return true;
            }
        }
        return false;
    }

    /** Output `output`'s raw score by walking each tree node by node, as LightGBM does:
     * missing values and categorical splits included. */
    @Override
    public double score(double[] features, int output) {
        double sum = 0.0;
        for (int t = output; t < trees.length; t += perIteration) {
            sum += trees[t].predict(features);
        }
        return divisor == 1.0 ? sum : sum / divisor;
    }

    /** One tree as LightGBM stores it: node i's children are nodes (>= 0) or leaves (~leaf). */
    private static final class Tree {
        int[] feature;
        double[] threshold;
        int[] decision;
        int[] left;
        int[] right;
        double[] leaf;
        int[] catBoundaries;
        int[] catWords;

        static Tree of(Map<String, String> section, Path file, int index) throws IOException {
            if ("1".equals(section.get("is_linear"))) {
                throw new IOException(file + ": tree " + index + " is a linear tree, which "
                        + "mlsql's JVM scorer does not read");
            }
            Tree tree = new Tree();
            tree.leaf = doubles(section.get("leaf_value"));
            int internal = Integer.parseInt(section.get("num_leaves")) - 1;
            if (internal == 0) {
                return tree;
            }
            tree.feature = ints(section.get("split_feature"));
            tree.threshold = doubles(section.get("threshold"));
            tree.decision = ints(section.get("decision_type"));
            tree.left = ints(section.get("left_child"));
            tree.right = ints(section.get("right_child"));
            if (Integer.parseInt(section.getOrDefault("num_cat", "0")) > 0) {
                tree.catBoundaries = ints(section.get("cat_boundaries"));
                long[] words = longs(section.get("cat_threshold"));
                tree.catWords = new int[words.length];
                for (int i = 0; i < words.length; i++) {
                    tree.catWords[i] = (int) words[i]; // unsigned 32-bit words
                }
            }
            return tree;
        }

        double predict(double[] x) {
            if (feature == null) {
                return leaf[0];
            }
            int node = 0;
            while (node >= 0) {
                int type = decision[node];
                node = (type & 1) != 0 ? categorical(node, x[feature[node]], type)
                        : numerical(node, x[feature[node]], type);
            }
            return leaf[~node];
        }

        private int numerical(int node, double value, int type) {
            int missing = (type >> 2) & 3;
            if (Double.isNaN(value) && missing != MISSING_NAN) {
                value = 0.0;
            }
            if ((missing == MISSING_ZERO && value >= -ZERO && value <= ZERO)
                    || (missing == MISSING_NAN && Double.isNaN(value))) {
                return (type & 2) != 0 ? left[node] : right[node];
            }
            return value <= threshold[node] ? left[node] : right[node];
        }

        private int categorical(int node, double value, int type) {
            int code;
            if (Double.isNaN(value)) {
                if (((type >> 2) & 3) == MISSING_NAN) {
                    return right[node];
                }
                code = 0;
            } else {
                if (value < 0) {
                    return right[node];
                }
                code = (int) value;
            }
            int set = (int) threshold[node];
            int start = catBoundaries[set];
            int word = code / 32;
            if (word < catBoundaries[set + 1] - start
                    && ((catWords[start + word] >>> (code % 32)) & 1) != 0) {
                return left[node];
            }
            return right[node];
        }
    }

    private static String[] fields(String text) {
        return text == null || text.isBlank() ? new String[0] : text.trim().split(" ");
    }

    private static double[] doubles(String text) {
        String[] parts = fields(text);
        double[] values = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Double.parseDouble(parts[i]);
        }
        return values;
    }

    private static int[] ints(String text) {
        String[] parts = fields(text);
        int[] values = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Integer.parseInt(parts[i]);
        }
        return values;
    }

    private static long[] longs(String text) {
        String[] parts = fields(text);
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Long.parseLong(parts[i]);
        }
        return values;
    }
}
