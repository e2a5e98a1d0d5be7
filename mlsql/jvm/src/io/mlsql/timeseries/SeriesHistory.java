package io.mlsql.timeseries;

import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.FunctionHint;
import org.apache.flink.table.functions.AggregateFunction;
import org.apache.flink.types.Row;

/**
 * SERIES_HISTORY(capacity, ts, v1 [, v2 ...]) OVER (PARTITION BY k ORDER BY ts ...): a key's
 * row count so far and its last `capacity` rows, oldest first, for the time-series functions
 * (ML_FORECAST, ML_DETECT_ANOMALIES, ML_DETECT_ANOMALIES_ROBUST).
 *
 * The state per key is the ring buffer and the count, whatever the frame, so the OVER clause
 * can keep Confluent's `RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW` without Flink
 * keeping every row. `rows` counts every row of the key (the Python side's refit schedule is
 * a function of it, so a restored job and a batch run give the same results); `history`
 * holds the values row-major, `width` per row, NULL as NaN; `times` the rows' epoch
 * milliseconds (the timestamp read as UTC: only differences are used).
 */
@FunctionHint(output = @DataTypeHint(
        "ROW<`rows` BIGINT, `width` INT, `times` ARRAY<BIGINT NOT NULL>, "
                + "`history` ARRAY<DOUBLE NOT NULL>>"))
public class SeriesHistory extends AggregateFunction<Row, SeriesHistory.Ring> {

    private static final int FIRST_ROWS = 16;

    /**
     * The last rows of one key, in a ring. It grows with the key's rows (doubling, from
     * FIRST_ROWS) up to the capacity, so that a key with few rows (most cards) keeps little.
     */
    public static class Ring {
        public double[] values = new double[0];
        public long[] times = new long[0];
        public long rows;
        public int width;
        public int capacity;
    }

    @Override
    public Ring createAccumulator() {
        return new Ring();
    }

    public void accumulate(Ring ring, Integer capacity, LocalDateTime ts, Double... values) {
        if (capacity == null || capacity <= 0 || ts == null) {
            return;
        }
        if (ring.capacity == 0) {
            ring.capacity = capacity;
            ring.width = values.length;
        }
        if (ring.rows == ring.times.length && ring.rows < ring.capacity) {
            grow(ring);
        }
        int slot = (int) (ring.rows % ring.capacity);
        ring.times[slot] = ts.toInstant(ZoneOffset.UTC).toEpochMilli();
        for (int i = 0; i < ring.width; i++) {
            Double value = values[i];
            ring.values[slot * ring.width + i] = value == null ? Double.NaN : value;
        }
        ring.rows++;
    }

    /** A longer buffer for a key that has filled its own; the rows so far are in order. */
    private static void grow(Ring ring) {
        int length = (int) Math.min(ring.capacity, Math.max(FIRST_ROWS, 2L * ring.times.length));
        ring.times = Arrays.copyOf(ring.times, length);
        ring.values = Arrays.copyOf(ring.values, length * ring.width);
    }

    @Override
    public Row getValue(Ring ring) {
        if (ring.rows == 0) {
            return null;
        }
        int size = (int) Math.min(ring.rows, ring.capacity);
        int oldest = (int) ((ring.rows - size) % ring.capacity);
        Long[] times = new Long[size];
        Double[] history = new Double[size * ring.width];
        for (int i = 0; i < size; i++) {
            int slot = (oldest + i) % ring.capacity;
            times[i] = ring.times[slot];
            for (int j = 0; j < ring.width; j++) {
                history[i * ring.width + j] = ring.values[slot * ring.width + j];
            }
        }
        return Row.of(ring.rows, ring.width, times, history);
    }
}
