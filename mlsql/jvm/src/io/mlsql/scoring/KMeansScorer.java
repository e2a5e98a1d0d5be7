package io.mlsql.scoring;

import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/** udfs/models/kmeans.py: the Euclidean distance to each centroid. */
final class KMeansScorer implements Scorer {

    private final double[][] centroids;

    KMeansScorer(JsonNode payload) {
        centroids = Json.matrix(payload.get("centroids"));
    }

    @Override
    public double[] scores(double[] x) {
        double[] distances = new double[centroids.length];
        for (int k = 0; k < centroids.length; k++) {
            double sum = 0.0;
            double[] c = centroids[k];
            for (int j = 0; j < c.length; j++) {
                double d = x[j] - c[j];
                sum += d * d;
            }
            distances[k] = Math.sqrt(sum);
        }
        return distances;
    }
}
