package io.mlsql.metrics;

import org.apache.flink.table.functions.AggregateFunction;

/**
 * BINNED_AUC(probability, is_positive): ROC AUC of the rows aggregated, from counts of the
 * positive class's probability in BUCKETS equal buckets of [0, 1] (rows in one bucket count as
 * ties, as in ML_EVALUATE_DELAYED's documentation). NULL inputs are skipped; NULL when the rows
 * hold only one class. Mergeable, so it serves window aggregations on streams.
 */
public class BinnedAuc extends AggregateFunction<Double, BinnedAuc.Counts> {

    public static final int BUCKETS = 10_000;

    /** Rows per bucket, by class; allocated by the first row. */
    public static class Counts {
        public long[] positives = new long[0];
        public long[] negatives = new long[0];
    }

    @Override
    public Counts createAccumulator() {
        return new Counts();
    }

    public void accumulate(Counts counts, Double probability, Boolean positive) {
        if (probability == null || positive == null || probability.isNaN()) {
            return;
        }
        allocate(counts);
        int bucket = (int) Math.floor(Math.min(Math.max(probability, 0.0), 1.0) * BUCKETS);
        bucket = Math.min(bucket, BUCKETS - 1);
        if (positive) {
            counts.positives[bucket]++;
        } else {
            counts.negatives[bucket]++;
        }
    }

    public void merge(Counts counts, Iterable<Counts> others) {
        for (Counts other : others) {
            if (other.positives.length == 0) {
                continue;
            }
            allocate(counts);
            for (int i = 0; i < BUCKETS; i++) {
                counts.positives[i] += other.positives[i];
                counts.negatives[i] += other.negatives[i];
            }
        }
    }

    @Override
    public Double getValue(Counts counts) {
        if (counts.positives.length == 0) {
            return null;
        }
        double below = 0.0;
        double area = 0.0;
        double positives = 0.0;
        for (int i = 0; i < BUCKETS; i++) {
            area += counts.positives[i] * (below + 0.5 * counts.negatives[i]);
            below += counts.negatives[i];
            positives += counts.positives[i];
        }
        if (positives == 0.0 || below == 0.0) {
            return null;
        }
        return area / (positives * below);
    }

    private static void allocate(Counts counts) {
        if (counts.positives.length == 0) {
            counts.positives = new long[BUCKETS];
            counts.negatives = new long[BUCKETS];
        }
    }
}
