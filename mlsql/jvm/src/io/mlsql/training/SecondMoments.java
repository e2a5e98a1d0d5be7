package io.mlsql.training;

import java.util.StringJoiner;
import org.apache.flink.table.functions.AggregateFunction;

/**
 * SECOND_MOMENTS(x, r, c): the sums a Newton step or the normal equations need, as one
 * aggregate whose size the SQL does not grow with.
 *
 * Per row: x is the design row (x[0] = 1 for the intercept), r holds one residual per score
 * row, c the upper triangle (row-major) of the symmetric score-row curvature matrix. With
 * parameters a = (i, j) in score-row-major order, the result is
 *   sum r[i] * x[j]                  for every a                 (the gradient), then
 *   sum C[i][q] * x[j] * x[k]        for every pair a <= b        (the Hessian's upper triangle).
 * A linear model's normal equations are the case of one score row, r = [y], c = [1].
 * NULL elements count as 0; no rows give NULL. The sums come back as one string of
 * space-separated Double.toString values, which read back exactly: the planner reads a
 * pass's result through a CSV file (mlsql/training/extract.py), and CSV has no arrays.
 */
public class SecondMoments extends AggregateFunction<String, SecondMoments.Sums> {

    /** The running sums; sized by the first row. */
    public static class Sums {
        public double[] values = new double[0];
        public long rows;
    }

    @Override
    public Sums createAccumulator() {
        return new Sums();
    }

    public void accumulate(Sums sums, Double[] x, Double[] r, Double[] c) {
        int width = x.length;
        int scoreRows = r.length;
        int parameters = width * scoreRows;
        if (sums.rows == 0 && sums.values.length == 0) {
            sums.values = new double[parameters + parameters * (parameters + 1) / 2];
        }
        double[] xs = values(x);
        double[] rs = values(r);
        double[] curvature = symmetric(values(c), scoreRows);
        double[] out = sums.values;
        int at = 0;
        for (int i = 0; i < scoreRows; i++) {
            for (int j = 0; j < width; j++) {
                out[at++] += rs[i] * xs[j];
            }
        }
        for (int i = 0; i < scoreRows; i++) {
            for (int j = 0; j < width; j++) {
                double left = xs[j];
                for (int q = i; q < scoreRows; q++) {
                    double weight = curvature[i * scoreRows + q] * left;
                    for (int k = q == i ? j : 0; k < width; k++) {
                        out[at++] += weight * xs[k];
                    }
                }
            }
        }
        sums.rows++;
    }

    public void merge(Sums sums, Iterable<Sums> others) {
        for (Sums other : others) {
            if (other.rows == 0) {
                continue;
            }
            if (sums.rows == 0) {
                sums.values = other.values.clone();
            } else {
                for (int i = 0; i < sums.values.length; i++) {
                    sums.values[i] += other.values[i];
                }
            }
            sums.rows += other.rows;
        }
    }

    @Override
    public String getValue(Sums sums) {
        if (sums.rows == 0) {
            return null;
        }
        StringJoiner joined = new StringJoiner(" ");
        for (double value : sums.values) {
            joined.add(Double.toString(value));
        }
        return joined.toString();
    }

    private static double[] values(Double[] boxed) {
        double[] result = new double[boxed.length];
        for (int i = 0; i < boxed.length; i++) {
            result[i] = boxed[i] == null ? 0.0 : boxed[i];
        }
        return result;
    }

    private static double[] symmetric(double[] upper, int n) {
        double[] full = new double[n * n];
        int at = 0;
        for (int i = 0; i < n; i++) {
            for (int q = i; q < n; q++) {
                full[i * n + q] = upper[at];
                full[q * n + i] = upper[at];
                at++;
            }
        }
        return full;
    }
}
