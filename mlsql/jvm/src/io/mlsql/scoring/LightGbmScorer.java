package io.mlsql.scoring;

import io.mlsql.trees.LightGbmTrees;
import java.io.IOException;
import java.nio.file.Path;

/** udfs/models/lightgbm.py: LightGBM's predict (its objective's link over the raw scores);
 * a binary classifier's probability p as [1 - p, p]. */
final class LightGbmScorer implements Scorer {

    private final LightGbmTrees trees;
    private final String objective;
    private final double sigmoid;

    LightGbmScorer(Path file) throws IOException {
        trees = LightGbmTrees.read(file);
        String[] words = trees.objective().split(" ");
        objective = words[0];
        double scale = 1.0;
        for (String word : words) {
            if (word.startsWith("sigmoid:")) {
                scale = Double.parseDouble(word.substring("sigmoid:".length()));
            }
        }
        sigmoid = scale;
        if (!objective.equals("binary") && !objective.equals("multiclass")
                && !objective.equals("regression")) {
            throw new IOException(file + ": LightGBM objective " + objective + " is not one "
                    + "mlsql trains");
        }
    }

    @Override
    public double[] scores(double[] x) {
        double[] raw = trees.scores(x);
        switch (objective) {
            case "binary":
                double p = 1.0 / (1.0 + Math.exp(-sigmoid * raw[0]));
                return new double[] {1.0 - p, p};
            case "multiclass":
                return Links.softmax(raw);
            default:
                return raw;
        }
    }
}
