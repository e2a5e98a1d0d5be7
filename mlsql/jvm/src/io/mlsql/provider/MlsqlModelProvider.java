package io.mlsql.provider;

import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;

/** A checked mlsql model version, scored row by row on the JVM. */
public final class MlsqlModelProvider implements PredictRuntimeProvider {

    private final ModelSignature signature;

    MlsqlModelProvider(ModelSignature signature) {
        this.signature = signature;
    }

    @Override
    public PredictFunction createPredictFunction(ModelProvider.Context context) {
        return new MlsqlPredictFunction(signature);
    }

    @Override
    public ModelProvider copy() {
        return new MlsqlModelProvider(signature);
    }
}
