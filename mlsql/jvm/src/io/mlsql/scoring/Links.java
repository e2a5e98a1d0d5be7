package io.mlsql.scoring;

/** The link functions the Python scorers apply, in the same order of operations. */
final class Links {

    private Links() {}

    /** exp(z - max) / sum, as numpy and LightGBM compute it. */
    static double[] softmax(double[] z) {
        double top = Double.NEGATIVE_INFINITY;
        for (double v : z) {
            top = Math.max(top, v);
        }
        double[] e = new double[z.length];
        double sum = 0.0;
        for (int k = 0; k < z.length; k++) {
            e[k] = Math.exp(z[k] - top);
            sum += e[k];
        }
        for (int k = 0; k < z.length; k++) {
            e[k] /= sum;
        }
        return e;
    }
}
