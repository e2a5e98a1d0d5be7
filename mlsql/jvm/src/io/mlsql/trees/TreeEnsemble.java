package io.mlsql.trees;

/** A tree ensemble's raw score (the sum of its trees' leaves) for one row of encoded features. */
public interface TreeEnsemble {

    /** How many scores a row has: the classes of a multi-class model, else 1. */
    int outputs();

    /** The raw score `output` of the row `features` (NaN: a missing value). */
    double score(double[] features, int output);
}
