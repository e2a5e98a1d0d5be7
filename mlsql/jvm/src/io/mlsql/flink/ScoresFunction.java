package io.mlsql.flink;

import io.mlsql.scoring.ScoredModel;
import org.apache.flink.table.annotation.DataTypeHint;
import org.apache.flink.table.annotation.InputGroup;
import org.apache.flink.table.functions.ScalarFunction;

/**
 * MLSQL_SCORES(directory, input...): a model version's scores for one row (an ARRAY of
 * class probabilities, the regression value, or centroid distances), computed on the JVM
 * from the registry's own files. ML_PREDICT's SQL picks the outputs (label, probability,
 * cluster) from the array.
 *
 * Declared non-deterministic so that Flink computes it once per row: a deterministic call
 * read by several output expressions would be inlined into each of them.
 */
public class ScoresFunction extends ScalarFunction {

    private transient String directory;
    private transient ScoredModel model;

    public double[] eval(String directory,
                         @DataTypeHint(inputGroup = InputGroup.ANY) Object... inputs) {
        if (!directory.equals(this.directory)) {
            model = ScoredModel.load(directory);
            this.directory = directory;
        }
        return model.scores(inputs);
    }

    @Override
    public boolean isDeterministic() {
        return false;
    }
}
