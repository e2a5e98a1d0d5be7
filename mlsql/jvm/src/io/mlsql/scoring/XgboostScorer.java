package io.mlsql.scoring;

import java.io.IOException;
import java.nio.file.Path;

/** Placeholder until the XGBoost walker lands. */
final class XgboostScorer implements Scorer {

    XgboostScorer(Path file, String task) throws IOException {
        throw new IOException("XGBoost models are not yet scored on the JVM");
    }

    @Override
    public double[] scores(double[] features) {
        throw new UnsupportedOperationException();
    }
}
