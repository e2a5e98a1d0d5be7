package io.mlsql.scoring;

/**
 * One algorithm's scores for a row of encoded features, exactly as its Python scorer in
 * udfs/models/ returns them: class probabilities, the regression value, or the distance to
 * each centroid.
 */
public interface Scorer {

    double[] scores(double[] features);
}
