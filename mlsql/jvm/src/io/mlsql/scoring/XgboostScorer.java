package io.mlsql.scoring;

import io.mlsql.trees.XgboostMath;
import io.mlsql.trees.XgboostTrees;
import java.io.IOException;
import java.nio.file.Path;

/**
 * udfs/models/xgboost.py: XGBoost's Booster.predict on model.json, bit for bit (XGBoost's
 * float32 margins, intercept, sigmoid and softmax: see XgboostTrees and XgboostMath); a
 * binary classifier's probability p as [1 - p, p] (in double), a multi-class model's
 * float32 probabilities over their double sum, a regression's value.
 */
final class XgboostScorer implements Scorer {

    private static final int BINARY = 0;
    private static final int MULTICLASS = 1;
    private static final int REGRESSION = 2;

    private final XgboostTrees trees;
    private final int kind;
    /** The margins' start: the intercept after the objective's ProbToMargin. */
    private final float[] start;

    XgboostScorer(Path file, String task) throws IOException {
        trees = XgboostTrees.read(file);
        String objective = trees.objective();
        start = trees.intercept();
        if ("classification".equals(task) && objective.equals("binary:logistic")
                && trees.outputs() == 1) {
            kind = BINARY;
            start[0] = XgboostMath.logit(start[0]);
        } else if ("classification".equals(task) && objective.equals("multi:softprob")
                && trees.outputs() > 1) {
            kind = MULTICLASS; // softmax has no ProbToMargin: the intercept is a margin
        } else if ("regression".equals(task) && objective.equals("reg:squarederror")
                && trees.outputs() == 1) {
            kind = REGRESSION;
        } else {
            throw new IOException(file + ": XGBoost objective " + objective + " with "
                    + trees.outputs() + " output(s) for a " + task + " model is not one mlsql "
                    + "trains (binary:logistic, multi:softprob, reg:squarederror)");
        }
    }

    @Override
    public double[] scores(double[] x) {
        int outputs = trees.outputs();
        float[] margin = new float[outputs];
        trees.margins(x, start, margin);
        switch (kind) {
            case BINARY:
                double p = XgboostMath.sigmoid(margin[0]);
                return new double[] {1.0 - p, p};
            case MULTICLASS:
                XgboostMath.softmax(margin);
                double[] probabilities = new double[outputs];
                for (int k = 0; k < outputs; k++) {
                    probabilities[k] = margin[k];
                }
                double sum = sum(probabilities);
                for (int k = 0; k < outputs; k++) {
                    probabilities[k] /= sum;
                }
                return probabilities;
            default:
                return new double[] {margin[0]};
        }
    }

    /** numpy's pairwise sum (ndarray.sum over a row), as the Python scorer normalizes. */
    private static double sum(double[] a) {
        return pairwise(a, 0, a.length);
    }

    private static double pairwise(double[] a, int from, int n) {
        if (n < 8) {
            double sum = 0.0;
            for (int i = from; i < from + n; i++) {
                sum += a[i];
            }
            return sum;
        }
        if (n <= 128) {
            double[] r = new double[8];
            System.arraycopy(a, from, r, 0, 8);
            int i = 8;
            for (; i < n - (n % 8); i += 8) {
                for (int j = 0; j < 8; j++) {
                    r[j] += a[from + i + j];
                }
            }
            double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                sum += a[from + i];
            }
            return sum;
        }
        int half = n / 2;
        half -= half % 8;
        return pairwise(a, from, half) + pairwise(a, from + half, n - half);
    }
}
