import io.mlsql.scoring.ScoredModel;
import io.mlsql.trees.LightGbmTrees;
import java.io.DataOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.BufferedOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * The JVM model step alone, one thread, rows in memory (tests/benchmarks/tree_scoring.py runs
 * it): a LightGBM model's raw scores by the per-node walk and by the flat walk, and the whole
 * model step ML_PREDICT's MLSQL_SCORES calls (boxed inputs encoded, trees, link).
 *
 *     java -cp <scorer jar>:<flink jars>:. TreeScoring VERSION_DIR ROWS_FILE FEATURES REPEATS OUT
 *
 * ROWS_FILE holds the rows as little-endian doubles; OUT receives the flat walk's raw scores
 * (little-endian doubles), for the caller to compare with LightGBM's own. Prints one line per
 * measurement: "name seconds" (the median of REPEATS).
 */
public final class TreeScoring {

    public static void main(String[] args) throws IOException {
        Path directory = Paths.get(args[0]);
        int features = Integer.parseInt(args[2]);
        int repeats = Integer.parseInt(args[3]);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(Paths.get(args[1])))
                .order(ByteOrder.LITTLE_ENDIAN);
        int rows = bytes.capacity() / 8 / features;
        double[][] x = new double[rows][features];
        Object[][] boxed = new Object[rows][features];
        for (int r = 0; r < rows; r++) {
            for (int f = 0; f < features; f++) {
                x[r][f] = bytes.getDouble();
                boxed[r][f] = x[r][f];
            }
        }
        LightGbmTrees trees = LightGbmTrees.read(directory.resolve("model.txt"));
        if (!trees.flat()) {
            throw new IllegalStateException("the model has splits the flat walk does not take");
        }
        ScoredModel model = ScoredModel.load(directory.toString());
        double[] flat = new double[rows];
        double sink = 0.0;
        double[][] seconds = new double[3][repeats];
        for (int repeat = 0; repeat < repeats + 1; repeat++) { // the first round warms the JIT
            long started = System.nanoTime();
            for (int r = 0; r < rows; r++) {
                sink += trees.score(x[r], 0);
            }
            long walked = System.nanoTime();
            for (int r = 0; r < rows; r++) {
                flat[r] = trees.scores(x[r])[0];
            }
            long flatDone = System.nanoTime();
            for (int r = 0; r < rows; r++) {
                sink += model.scores(boxed[r])[1];
            }
            long modelDone = System.nanoTime();
            if (repeat > 0) {
                seconds[0][repeat - 1] = (walked - started) / 1e9;
                seconds[1][repeat - 1] = (flatDone - walked) / 1e9;
                seconds[2][repeat - 1] = (modelDone - flatDone) / 1e9;
            }
        }
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                new FileOutputStream(args[4])))) {
            ByteBuffer buffer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : flat) {
                buffer.clear();
                buffer.putDouble(v);
                out.write(buffer.array());
            }
        }
        String[] names = {"node_walk", "flat_walk", "model_step"};
        for (int i = 0; i < names.length; i++) {
            java.util.Arrays.sort(seconds[i]);
            System.out.println(names[i] + " " + seconds[i][repeats / 2]);
        }
        System.err.println("checksum " + sink);
    }
}
