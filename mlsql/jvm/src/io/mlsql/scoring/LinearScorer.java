package io.mlsql.scoring;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/** udfs/models/linear.py: z = W x + b; "linear" returns z, "logistic" its sigmoid (binary,
 * as [1 - p, p]) or softmax. */
final class LinearScorer implements Scorer {

    private final boolean logistic;
    private final double[][] coef;
    private final double[] intercept;

    LinearScorer(JsonNode payload) {
        logistic = "logistic".equals(payload.get("algorithm").asText());
        coef = Json.matrix(payload.get("coef"));
        intercept = Json.doubles(payload.get("intercept"));
    }

    @Override
    public double[] scores(double[] x) {
        double[] z = new double[coef.length];
        for (int k = 0; k < coef.length; k++) {
            double sum = 0.0;
            double[] w = coef[k];
            for (int j = 0; j < w.length; j++) {
                sum += x[j] * w[j];
            }
            z[k] = sum + intercept[k];
        }
        if (!logistic) {
            return z;
        }
        if (z.length == 1) {
            double p = 1.0 / (1.0 + Math.exp(-z[0]));
            return new double[] {1.0 - p, p};
        }
        return Links.softmax(z);
    }
}
