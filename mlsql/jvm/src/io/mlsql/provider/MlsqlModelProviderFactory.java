package io.mlsql.provider;

import java.util.Collections;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.ml.ModelProvider;

/**
 * The `mlsql` model provider: Flink's own ML_PREDICT over one version of an mlsql registry
 * model, with no mlsql process and no Python.
 *
 * <pre>
 * CREATE MODEL m INPUT (a DOUBLE, c STRING) OUTPUT (predicted_y INT, probability DOUBLE)
 * WITH ('provider' = 'mlsql', 'path' = '/registry/m/v3');
 * SELECT * FROM ML_PREDICT(TABLE t, MODEL m, DESCRIPTOR(a, c));
 * </pre>
 *
 * Everything is checked when a query using the model is planned: the version's files, its
 * algorithm, the INPUT columns against the model's inputs and the OUTPUT columns against its
 * outputs (see {@link ModelSignature}).
 */
public class MlsqlModelProviderFactory implements ModelProviderFactory {

    public static final String IDENTIFIER = "mlsql";

    public static final ConfigOption<String> PATH = ConfigOptions.key("path")
            .stringType()
            .noDefaultValue()
            .withDescription("The model version's directory, <registry>/<model>/v<N> (a local "
                    + "path or a file:// URI), holding metadata.json and predictor.json.");

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Collections.singleton(PATH);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Collections.emptySet();
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper =
                FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();
        ModelSignature signature = ModelSignature.check(
                context.getObjectIdentifier().asSummaryString(),
                helper.getOptions().get(PATH),
                context.getCatalogModel());
        return new MlsqlModelProvider(signature);
    }
}
