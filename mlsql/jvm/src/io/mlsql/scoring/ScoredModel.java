package io.mlsql.scoring;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;

/**
 * One model version of an mlsql registry, read from its directory (predictor.json and the
 * files its fit wrote; no pickle): the feature encoding and the algorithm's scorer. Versions
 * are read once per JVM and again when predictor.json changes (a dropped model's version
 * number reused).
 */
public final class ScoredModel {

    public static final String PREDICTOR_FILE = "predictor.json";
    /** The algorithms (predictor.json's "algorithm") scored here: algorithms.txt beside this
     * class, which the Python planner reads too (mlsql.jvm.plan.JVM_ALGORITHMS). */
    public static final List<String> ALGORITHMS = listedAlgorithms();

    private static final ConcurrentHashMap<String, ScoredModel> LOADED = new ConcurrentHashMap<>();

    private final long modified;
    private final JsonNode payload;
    private final Features features;
    private final Scorer scorer;

    private ScoredModel(long modified, JsonNode payload, Features features, Scorer scorer) {
        this.modified = modified;
        this.payload = payload;
        this.features = features;
        this.scorer = scorer;
    }

    /** The version in `directory`, read the first time (or when it changed). */
    public static ScoredModel load(String directory) {
        Path file = Paths.get(directory, PREDICTOR_FILE);
        try {
            long modified = Files.getLastModifiedTime(file).toMillis();
            ScoredModel model = LOADED.get(directory);
            if (model == null || model.modified != modified) {
                model = read(Paths.get(directory), modified);
                LOADED.put(directory, model);
            }
            return model;
        } catch (IOException error) {
            throw new UncheckedIOException("mlsql could not read the model version in "
                    + directory + ": " + error.getMessage(), error);
        }
    }

    private static List<String> listedAlgorithms() {
        try (InputStream in = ScoredModel.class.getResourceAsStream("algorithms.txt")) {
            if (in == null) {
                throw new IllegalStateException("io/mlsql/scoring/algorithms.txt is missing");
            }
            List<String> names = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                String name = line.strip();
                if (!name.isEmpty() && !name.startsWith("#")) {
                    names.add(name);
                }
            }
            return Collections.unmodifiableList(names);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ScoredModel read(Path directory, long modified) throws IOException {
        JsonNode payload = Json.read(directory.resolve(PREDICTOR_FILE));
        String algorithm = payload.path("algorithm").asText();
        Scorer scorer;
        switch (algorithm) {
            case "lightgbm":
                scorer = new LightGbmScorer(directory.resolve(payload.get("booster_file").asText()));
                break;
            case "xgboost":
                scorer = new XgboostScorer(directory.resolve(payload.get("model_file").asText()),
                        payload.get("task").asText());
                break;
            case "linear":
            case "logistic":
                scorer = new LinearScorer(payload);
                break;
            case "kmeans":
                scorer = new KMeansScorer(payload);
                break;
            default:
                throw new IOException("mlsql's JVM scorer has no " + algorithm + " models (it "
                        + "scores " + String.join(", ", ALGORITHMS) + ")");
        }
        return new ScoredModel(modified, payload, new Features(payload.get("features")), scorer);
    }

    /** predictor.json: task, classes, outputs, the algorithm's parameters. */
    public JsonNode payload() {
        return payload;
    }

    public Features features() {
        return features;
    }

    /** The scores of one row of raw inputs (a Number, a String or null each, in input
     * order), as udfs/predictors.py's Predictor.scores. */
    public double[] scores(Object[] inputs) {
        double[] x = new double[features.width()];
        features.encode(inputs, x);
        return scorer.scores(x);
    }
}
