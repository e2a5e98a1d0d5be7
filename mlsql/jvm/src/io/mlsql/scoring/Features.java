package io.mlsql.scoring;

import java.util.HashMap;
import java.util.Map;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/**
 * predictor.json's feature encoding, as udfs/features.py applies it: a number NULL or NaN
 * takes the training mean (then is standardized where the model type asks); a string is
 * one-hot encoded or ordinal-coded, NULL or unseen as all zeros (one-hot) or NaN (ordinal).
 */
public final class Features {

    private final boolean[] numeric;
    private final double[] mean;
    private final double[] std;
    private final Map<String, Integer>[] categories;
    private final int[] offset;
    private final boolean oneHot;
    private final boolean standardize;
    private final int width;

    @SuppressWarnings("unchecked")
    public Features(JsonNode spec) {
        JsonNode columns = spec.get("columns");
        int n = columns.size();
        numeric = new boolean[n];
        mean = new double[n];
        std = new double[n];
        categories = new Map[n];
        offset = new int[n];
        oneHot = "one_hot".equals(spec.get("encoding").asText());
        standardize = spec.get("standardize").asBoolean();
        int position = 0;
        for (int i = 0; i < n; i++) {
            JsonNode column = columns.get(i);
            offset[i] = position;
            numeric[i] = "numeric".equals(column.get("kind").asText());
            if (numeric[i]) {
                mean[i] = column.get("mean").asDouble();
                std[i] = column.get("std").asDouble();
                position += 1;
            } else {
                JsonNode names = column.get("categories");
                categories[i] = new HashMap<>();
                for (int c = 0; c < names.size(); c++) {
                    categories[i].put(names.get(c).asText(), c);
                }
                position += oneHot ? names.size() : 1;
            }
        }
        width = position;
    }

    public int inputs() {
        return numeric.length;
    }

    public boolean isNumeric(int input) {
        return numeric[input];
    }

    /** The encoded row's length. */
    public int width() {
        return width;
    }

    /** Encode one value per input (a Number, a String, or null) into `out` (width() long). */
    public void encode(Object[] values, double[] out) {
        for (int i = 0; i < numeric.length; i++) {
            Object value = values[i];
            if (numeric[i]) {
                double x = value == null ? Double.NaN : ((Number) value).doubleValue();
                if (Double.isNaN(x)) {
                    x = mean[i];
                }
                out[offset[i]] = standardize ? (x - mean[i]) / std[i] : x;
            } else {
                Integer code = value == null ? null : categories[i].get(value.toString());
                if (oneHot) {
                    for (int c = 0; c < categories[i].size(); c++) {
                        out[offset[i] + c] = 0.0;
                    }
                    if (code != null) {
                        out[offset[i] + code] = 1.0;
                    }
                } else {
                    out[offset[i]] = code == null ? Double.NaN : code;
                }
            }
        }
    }
}
