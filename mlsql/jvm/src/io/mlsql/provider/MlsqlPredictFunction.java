package io.mlsql.provider;

import io.mlsql.scoring.ScoredModel;
import java.util.Collection;
import java.util.Collections;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * Scores one row: the DESCRIPTOR's columns (Flink's internal values) become Numbers and
 * Strings for {@link ScoredModel#scores}, and the scores become the OUTPUT columns exactly as
 * udfs/predictors.py's Predictor.output_frame makes them.
 */
public final class MlsqlPredictFunction extends PredictFunction {

    private static final long serialVersionUID = 1L;

    private final ModelSignature signature;
    private transient ScoredModel model;
    private transient Object[] labels;
    private transient RowData.FieldGetter[] getters;

    MlsqlPredictFunction(ModelSignature signature) {
        this.signature = signature;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        super.open(context);
        model = ScoredModel.load(signature.directory());
        labels = signature.labels(model.payload());
        getters = new RowData.FieldGetter[signature.inputCount()];
        for (int i = 0; i < getters.length; i++) {
            getters[i] = RowData.createFieldGetter(signature.inputType(i), i);
        }
    }

    @Override
    public Collection<RowData> predict(RowData row) {
        Object[] inputs = new Object[getters.length];
        for (int i = 0; i < inputs.length; i++) {
            // PredictFunction.eval hands the arguments over as a GenericRowData, as the
            // planner passed them; any other RowData is read in the INPUT's types.
            Object value = row instanceof GenericRowData
                    ? ((GenericRowData) row).getField(i) : getters[i].getFieldOrNull(row);
            inputs[i] = external(value);
        }
        return Collections.singletonList(outputs(model.scores(inputs)));
    }

    private RowData outputs(double[] scores) {
        ModelSignature.Role[] roles = signature.roles();
        GenericRowData out = new GenericRowData(roles.length);
        for (int k = 0; k < roles.length; k++) {
            Object value;
            switch (roles[k]) {
                case LABEL:
                    value = labels[argmax(scores)];
                    break;
                case PROBABILITY:
                    value = signature.number(k, scores.length == 2 ? scores[1] : max(scores));
                    break;
                case VALUE:
                    value = signature.number(k, scores[0]);
                    break;
                case CLUSTER:
                    value = signature.number(k, argmin(scores));
                    break;
                case DISTANCE:
                    value = signature.number(k, min(scores));
                    break;
                default:
                    throw new IllegalStateException(String.valueOf(roles[k]));
            }
            out.setField(k, value);
        }
        return out;
    }

    /** A Number (Boolean as 1 or 0, as CAST(b AS DOUBLE)), a String, or null. */
    static Object external(Object value) {
        if (value == null || value instanceof Number) {
            return value;
        }
        if (value instanceof StringData) {
            return value.toString();
        }
        if (value instanceof DecimalData) {
            return decimalToDouble((DecimalData) value);
        }
        if (value instanceof Boolean) {
            return ((Boolean) value) ? 1.0 : 0.0;
        }
        if (value instanceof String) {
            return value;
        }
        throw new IllegalArgumentException("mlsql cannot score an input value of type "
                + value.getClass().getName());
    }

    /** As Flink's CAST(d AS DOUBLE) (DecimalDataUtils.doubleValue), which the Python path
     * reads: a compact decimal's unscaled long over the power of ten, else BigDecimal's. */
    static double decimalToDouble(DecimalData value) {
        if (DecimalData.isCompact(value.precision())) {
            long scale = 1;
            for (int i = 0; i < value.scale(); i++) {
                scale *= 10;
            }
            return (double) value.toUnscaledLong() / (double) scale;
        }
        return value.toBigDecimal().doubleValue();
    }

    // numpy's argmax/argmin: the first extreme wins.
    static int argmax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    static int argmin(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] < values[best]) {
                best = i;
            }
        }
        return best;
    }

    private static double max(double[] values) {
        return values[argmax(values)];
    }

    private static double min(double[] values) {
        return values[argmin(values)];
    }
}
