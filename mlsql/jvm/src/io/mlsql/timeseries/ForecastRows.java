package io.mlsql.timeseries;

import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.functions.ScalarFunction;
import org.apache.flink.types.Row;

/**
 * FORECAST_ROWS(steps): ML_FORECAST's result, one ROW per step ahead, from the Python
 * function's columns (PyFlink's pandas UDFs cannot return an ARRAY of ROWs). NULL stays NULL:
 * a key with too few rows has no forecast.
 */
public class ForecastRows extends ScalarFunction {

    public @DataTypeHint("ARRAY<ROW<`timestamp` TIMESTAMP(3), `forecast_value` DOUBLE, "
            + "`lower_bound` DOUBLE, `upper_bound` DOUBLE, `rmse` DOUBLE, `aic` DOUBLE>>")
    Row[] eval(@DataTypeHint("ROW<`times` ARRAY<TIMESTAMP(3)>, `values` ARRAY<DOUBLE>, "
            + "`lower` ARRAY<DOUBLE>, `upper` ARRAY<DOUBLE>, `rmse` DOUBLE, `aic` DOUBLE>")
            Row steps) {
        if (steps == null || steps.getField(1) == null) {
            return null;
        }
        Object[] times = (Object[]) steps.getField(0);
        Object[] values = (Object[]) steps.getField(1);
        Object[] lower = (Object[]) steps.getField(2);
        Object[] upper = (Object[]) steps.getField(3);
        Row[] rows = new Row[values.length];
        for (int i = 0; i < values.length; i++) {
            rows[i] = Row.of(element(times, i), values[i], element(lower, i),
                    element(upper, i), steps.getField(4), steps.getField(5));
        }
        return rows;
    }

    private static Object element(Object[] array, int i) {
        return array == null || i >= array.length ? null : array[i];
    }
}
