package io.mlsql.trees;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.DeserializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * An XGBoost gbtree model read from its JSON format (Booster.save_model to model.json),
 * scored as XGBoost's CPU predictor scores it (src/predictor/cpu_predictor.cc, predict_fn.h,
 * src/common/categorical.h): features as float; a missing value (NaN) takes the node's
 * default child; a numerical split goes left when value < split_condition (float); a
 * categorical split (split_type 1) goes right when the code (truncated to int) is one of
 * the node's categories and left otherwise, negative codes, codes of 2^24 and over, and
 * codes above the node's largest category included; each output group's margin starts from
 * the intercept and adds its trees' leaf values (tree_info) in float, in tree order.
 */
public final class XgboostTrees {

    /** Floats read from the decimal text XGBoost wrote (no rounding through double). */
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
    private static final float MAX_CATEGORY = 16777216f; // categorical.h: OutOfRangeCat() + 1
    private static final int DEFAULT_LEFT = 1 << 31;
    private static final int CATEGORICAL = 1 << 30;
    private static final int FEATURE = CATEGORICAL - 1;

    private final String objective;
    private final float[] intercept;
    private final int groups;
    // All trees' nodes packed four ints a node, node n at 4 * n (tree t's root at root[t]):
    // its feature (| DEFAULT_LEFT | CATEGORICAL), its left child (-1: a leaf), the float bits
    // of its split condition or leaf value, and its default child (for a missing value).
    private final int[] root;
    private final int[] group;
    private final int[] nodes;
    private final int[] catStart;   // a categorical node's bit words in catBits
    private final int[] catWords;
    private final int[] catBits;

    private XgboostTrees(String objective, float[] intercept, int groups, int[] root, int[] group,
            int[] nodes, int[] catStart, int[] catWords, int[] catBits) {
        this.objective = objective;
        this.intercept = intercept;
        this.groups = groups;
        this.root = root;
        this.group = group;
        this.nodes = nodes;
        this.catStart = catStart;
        this.catWords = catWords;
        this.catBits = catBits;
    }

    /** learner.objective.name, e.g. "binary:logistic". */
    public String objective() {
        return objective;
    }

    /** How many margins a row has (the classes of a multi:softprob model, else 1). */
    public int outputs() {
        return groups;
    }

    /** learner_model_param.base_score as saved, one per output: before the objective's link
     * (binary:logistic saves a probability, which XGBoost turns into a margin on load). */
    public float[] intercept() {
        return intercept.clone();
    }

    public static XgboostTrees read(Path file) throws IOException {
        JsonNode learner = MAPPER.readTree(file.toFile()).path("learner");
        JsonNode booster = learner.path("gradient_booster");
        if (!"gbtree".equals(booster.path("name").asText())) {
            throw new IOException(file + ": XGBoost booster '" + booster.path("name").asText()
                    + "' is not one mlsql's JVM scorer reads (gbtree)");
        }
        String objective = learner.path("objective").path("name").asText();
        JsonNode param = learner.path("learner_model_param");
        int classes = param.path("num_class").asInt(0);
        int targets = Math.max(1, param.path("num_target").asInt(1));
        int groups = Math.max(Math.max(classes, targets), 1);
        float[] intercept = intercept(param.path("base_score").asText("0.5"), groups, file);

        JsonNode model = booster.path("model");
        JsonNode trees = model.path("trees");
        JsonNode info = model.path("tree_info");
        int count = trees.size();
        if (info.size() != count) {
            throw new IOException(file + ": XGBoost's tree_info has " + info.size()
                    + " entries for " + count + " trees");
        }
        int[] root = new int[count];
        int[] group = new int[count];
        int nodes = 0;
        int words = 0;
        for (int t = 0; t < count; t++) {
            JsonNode tree = trees.get(t);
            if (tree.path("tree_param").path("size_leaf_vector").asInt(1) > 1) {
                throw new IOException(file + ": tree " + t + " is a multi-target tree, which "
                        + "mlsql's JVM scorer does not read");
            }
            root[t] = nodes;
            group[t] = info.get(t).asInt();
            if (group[t] < 0 || group[t] >= groups) {
                throw new IOException(file + ": tree " + t + " is for output " + group[t]
                        + " of " + groups);
            }
            nodes += tree.path("left_children").size();
            JsonNode categories = tree.path("categories");
            JsonNode segments = tree.path("categories_segments");
            JsonNode sizes = tree.path("categories_sizes");
            for (int c = 0; c < tree.path("categories_nodes").size(); c++) {
                words += storage(max(categories, segments.get(c).asInt(), sizes.get(c).asInt()));
            }
        }
        int[] left = new int[nodes];
        int[] right = new int[nodes];
        int[] feature = new int[nodes];
        float[] value = new float[nodes];
        boolean[] defaultLeft = new boolean[nodes];
        int[] catStart = new int[nodes];
        int[] catWords = new int[nodes];
        int[] catBits = new int[words];
        int wordAt = 0;
        for (int t = 0; t < count; t++) {
            JsonNode tree = trees.get(t);
            JsonNode lefts = tree.path("left_children");
            JsonNode rights = tree.path("right_children");
            JsonNode indices = tree.path("split_indices");
            JsonNode conditions = tree.path("split_conditions");
            JsonNode defaults = tree.path("default_left");
            JsonNode types = tree.path("split_type");
            int base = root[t];
            int size = lefts.size();
            for (int i = 0; i < size; i++) {
                int n = base + i;
                int l = lefts.get(i).asInt();
                value[n] = floatOf(conditions.get(i));
                catStart[n] = -1;
                if (l == -1) {
                    left[n] = -1;
                    continue;
                }
                int r = rights.get(i).asInt();
                if (l <= 0 || l + 1 >= size || r <= 0 || r >= size) {
                    throw new IOException(file + ": tree " + t + " node " + i
                            + " has children out of range");
                }
                left[n] = base + l;
                right[n] = base + r;
                feature[n] = indices.get(i).asInt();
                JsonNode d = defaults.get(i);
                defaultLeft[n] = d.isBoolean() ? d.booleanValue() : d.asInt() != 0;
                if (types.size() > i && types.get(i).asInt() == 1) {
                    catStart[n] = -2; // filled in below
                }
            }
            JsonNode catNodes = tree.path("categories_nodes");
            JsonNode categories = tree.path("categories");
            JsonNode segments = tree.path("categories_segments");
            JsonNode sizes = tree.path("categories_sizes");
            for (int c = 0; c < catNodes.size(); c++) {
                int n = base + catNodes.get(c).asInt();
                if (n < base || n >= base + size || catStart[n] != -2) {
                    continue; // XGBoost goes by split_type: only its categorical nodes
                }
                int begin = segments.get(c).asInt();
                int length = sizes.get(c).asInt();
                int span = storage(max(categories, begin, length));
                catStart[n] = wordAt;
                catWords[n] = span;
                for (int j = begin; j < begin + length; j++) {
                    int category = categories.get(j).asInt();
                    if (category >= 0) {
                        catBits[wordAt + (category >>> 5)] |= 1 << (category & 31);
                    }
                }
                wordAt += span;
            }
            for (int i = 0; i < size; i++) {
                if (catStart[base + i] == -2) {
                    throw new IOException(file + ": tree " + t + " node " + i
                            + " is a categorical split without categories");
                }
            }
        }
        int[] packed = new int[4 * nodes];
        for (int n = 0; n < nodes; n++) {
            if (feature[n] < 0 || feature[n] > FEATURE) {
                throw new IOException(file + ": split feature " + feature[n] + " out of range");
            }
            packed[4 * n] = feature[n] | (defaultLeft[n] ? DEFAULT_LEFT : 0)
                    | (catStart[n] >= 0 ? CATEGORICAL : 0);
            packed[4 * n + 1] = left[n];
            packed[4 * n + 2] = Float.floatToRawIntBits(value[n]);
            packed[4 * n + 3] = defaultLeft[n] ? left[n] : right[n];
        }
        return new XgboostTrees(objective, intercept, groups, root, group, packed, catStart,
                catWords, catBits);
    }

    /** The row's margins (its features as doubles, NaN missing): out[g] starts at start[g]
     * and adds group g's trees' leaves in float, in tree order. */
    public void margins(double[] x, float[] start, float[] out) {
        System.arraycopy(start, 0, out, 0, groups);
        for (int t = 0; t < root.length; t++) {
            out[group[t]] += leaf(root[t], x);
        }
    }

    /** predict_fn.h's GetNextNode down to a leaf: the leaf's value. */
    private float leaf(int n, double[] x) {
        int[] packed = nodes;
        int at = 4 * n;
        int l;
        while ((l = packed[at + 1]) >= 0) {
            int split = packed[at];
            double v = x[split & FEATURE];
            if (v != v) {
                n = packed[at + 3];
            } else {
                float f = (float) v;
                boolean goLeft = (split & CATEGORICAL) == 0
                        ? f < Float.intBitsToFloat(packed[at + 2])
                        : !hasCategory(catStart[n], catWords[n], f);
                n = goLeft ? l : l + 1; // XGBoost: LeftChild + !decision
            }
            at = 4 * n;
        }
        return Float.intBitsToFloat(packed[at + 2]);
    }

    private boolean hasCategory(int start, int words, float f) {
        if (f < 0 || f >= MAX_CATEGORY) {
            return false; // categorical.h: InvalidCat goes left
        }
        int code = (int) f;
        int word = code >>> 5;
        return word < words && (catBits[start + word] & (1 << (code & 31))) != 0;
    }

    private static int max(JsonNode categories, int begin, int length) {
        int top = Integer.MIN_VALUE;
        for (int j = begin; j < begin + length; j++) {
            top = Math.max(top, categories.get(j).asInt());
        }
        return top;
    }

    /** BitField::ComputeStorageSize(max + 1): 32-bit words for categories 0..max. */
    private static int storage(int max) {
        if (max < 0) {
            return 0;
        }
        return (int) (((long) max + 1 + 31) / 32);
    }

    private static float floatOf(JsonNode number) {
        return Float.parseFloat(number.asText());
    }

    /** base_score: "5E-1" (XGBoost < 3.1) or "[5E-1]" / "[a,b,c]" (one per output); a
     * single value serves every output. */
    private static float[] intercept(String text, int groups, Path file) throws IOException {
        String body = text.trim();
        if (body.startsWith("[") && body.endsWith("]")) {
            body = body.substring(1, body.length() - 1);
        }
        String[] parts = body.split(",");
        float[] values = new float[groups];
        try {
            if (parts.length == 1) {
                java.util.Arrays.fill(values, Float.parseFloat(parts[0].trim()));
            } else if (parts.length == groups) {
                for (int g = 0; g < groups; g++) {
                    values[g] = Float.parseFloat(parts[g].trim());
                }
            } else {
                throw new IOException(file + ": XGBoost's base_score " + text + " has "
                        + parts.length + " values for " + groups + " outputs");
            }
        } catch (NumberFormatException error) {
            throw new IOException(file + ": XGBoost's base_score " + text + " is not a number");
        }
        return values;
    }
}
