package io.mlsql.provider;

import io.mlsql.scoring.Json;
import io.mlsql.scoring.ScoredModel;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;
import org.apache.flink.table.types.logical.VarCharType;

/**
 * A CREATE MODEL's INPUT and OUTPUT checked against one mlsql model version (its
 * metadata.json "inputs" and "outputs", its predictor.json "task" and "algorithm"), and what
 * scoring needs at run time: the version's directory, the INPUT types, and for each OUTPUT
 * column the score it is made from and the type it is declared in.
 */
final class ModelSignature implements Serializable {

    private static final long serialVersionUID = 1L;

    static final String METADATA_FILE = "metadata.json";

    /** What an output column is made of (udfs/predictors.py, Predictor.output_frame). */
    enum Role { LABEL, PROBABILITY, VALUE, CLUSTER, DISTANCE }

    private static final List<LogicalTypeRoot> NUMERIC_INPUTS = Arrays.asList(
            LogicalTypeRoot.TINYINT, LogicalTypeRoot.SMALLINT, LogicalTypeRoot.INTEGER,
            LogicalTypeRoot.BIGINT, LogicalTypeRoot.FLOAT, LogicalTypeRoot.DOUBLE,
            LogicalTypeRoot.DECIMAL, LogicalTypeRoot.BOOLEAN);
    private static final List<LogicalTypeRoot> STRING_INPUTS =
            Arrays.asList(LogicalTypeRoot.CHAR, LogicalTypeRoot.VARCHAR);
    // Integer outputs may be declared in a type at least as wide.
    private static final List<String> INTEGERS =
            Arrays.asList("TINYINT", "SMALLINT", "INT", "BIGINT");

    private final String directory;
    private final LogicalType[] inputTypes;
    private final Role[] roles;
    private final LogicalTypeRoot[] outputRoots;

    private ModelSignature(String directory, LogicalType[] inputTypes, Role[] roles,
                           LogicalTypeRoot[] outputRoots) {
        this.directory = directory;
        this.inputTypes = inputTypes;
        this.roles = roles;
        this.outputRoots = outputRoots;
    }

    String directory() {
        return directory;
    }

    int inputCount() {
        return inputTypes.length;
    }

    LogicalType inputType(int i) {
        return inputTypes[i];
    }

    Role[] roles() {
        return roles;
    }

    /** Model `name`'s version at `path`, checked against `model`'s INPUT and OUTPUT. */
    static ModelSignature check(String name, String path, ResolvedCatalogModel model) {
        String where = "mlsql model " + name + " ('path' = '" + path + "')";
        Path directory = directory(path, where);
        JsonNode metadata = read(directory.resolve(METADATA_FILE), where);
        JsonNode predictor = read(directory.resolve(ScoredModel.PREDICTOR_FILE), where);
        String algorithm = predictor.path("algorithm").asText();
        String task = predictor.path("task").asText();
        if (!ScoredModel.ALGORITHMS.contains(algorithm)) {
            throw new ValidationException(where + ": its algorithm is "
                    + (algorithm.isEmpty() ? task : algorithm) + " (model type "
                    + metadata.path("model_type").asText() + "), which the mlsql provider does "
                    + "not score; it scores " + String.join(", ", ScoredModel.ALGORITHMS)
                    + " models (score this one with mlsql's ML_PREDICT)");
        }
        JsonNode transform = metadata.get("transform");
        if (transform != null && !transform.isNull()
                && !(transform.isContainerNode() && transform.size() == 0)) {
            throw new ValidationException(where + ": the model has a TRANSFORM, which the mlsql "
                    + "provider does not apply; score it with mlsql's ML_PREDICT");
        }
        Role[] taskRoles = roles(task, where);
        LogicalType[] inputTypes = checkInputs(metadata.get("inputs"),
                model.getResolvedInputSchema(), where);
        JsonNode outputs = metadata.get("outputs");
        ResolvedSchema declared = model.getResolvedOutputSchema();
        List<Role> roles = new ArrayList<>();
        List<LogicalTypeRoot> outputRoots = new ArrayList<>();
        for (Column column : declared.getColumns()) {
            int index = indexOf(outputs, column.getName());
            if (index < 0 || index >= taskRoles.length) {
                throw new ValidationException(where + ": OUTPUT column " + column.getName()
                        + " is not an output of the model; its outputs are "
                        + describe(outputs, false));
            }
            LogicalType type = column.getDataType().getLogicalType();
            String modelType = baseType(outputs.get(index).path("type").asText());
            if (!compatible(modelType, type)) {
                throw new ValidationException(where + ": OUTPUT column " + column.getName()
                        + " is declared " + type.asSummaryString() + ", but the model outputs "
                        + "it as " + modelType + "; declare it " + modelType);
            }
            roles.add(taskRoles[index]);
            outputRoots.add(type.getTypeRoot());
        }
        // Read the scorer's files now: a broken version fails here, not in a running job.
        try {
            ScoredModel.load(directory.toString());
        } catch (RuntimeException error) {
            throw new ValidationException(where + ": " + error.getMessage(), error);
        }
        return new ModelSignature(directory.toString(), inputTypes, roles.toArray(new Role[0]),
                outputRoots.toArray(new LogicalTypeRoot[0]));
    }

    /** The class labels in the declared type of the LABEL column (else none). */
    Object[] labels(JsonNode payload) {
        for (int k = 0; k < roles.length; k++) {
            if (roles[k] != Role.LABEL) {
                continue;
            }
            JsonNode classes = payload.get("classes");
            Object[] labels = new Object[classes.size()];
            for (int c = 0; c < labels.length; c++) {
                JsonNode label = classes.get(c);
                labels[c] = outputRoots[k] == LogicalTypeRoot.VARCHAR
                        ? StringData.fromString(label.asText())
                        : outputRoots[k] == LogicalTypeRoot.BOOLEAN
                        ? (Object) label.asBoolean()
                        : number(k, label.asDouble());
            }
            return labels;
        }
        return new Object[0];
    }

    /** `value` in OUTPUT column k's declared numeric type. */
    Object number(int k, double value) {
        switch (outputRoots[k]) {
            case DOUBLE:
                return value;
            case FLOAT:
                return (float) value;
            case BIGINT:
                return (long) value;
            case INTEGER:
                return (int) value;
            case SMALLINT:
                return (short) value;
            case TINYINT:
                return (byte) value;
            case BOOLEAN:
                return value != 0;
            default:
                throw new IllegalStateException("no numeric output of type " + outputRoots[k]);
        }
    }

    private static Path directory(String path, String where) {
        Path directory;
        try {
            directory = path.startsWith("file:") ? Paths.get(URI.create(path)) : Paths.get(path);
        } catch (RuntimeException error) {
            throw new ValidationException(where + ": not a local path or file:// URI ("
                    + error.getMessage() + ")");
        }
        directory = directory.toAbsolutePath().normalize();
        if (!Files.isDirectory(directory)) {
            throw new ValidationException(where + ": there is no model version at " + directory
                    + " (expected a directory <registry>/<model>/v<N> with " + METADATA_FILE
                    + " and " + ScoredModel.PREDICTOR_FILE + ")");
        }
        for (String file : new String[] {METADATA_FILE, ScoredModel.PREDICTOR_FILE}) {
            if (!Files.isRegularFile(directory.resolve(file))) {
                throw new ValidationException(where + ": " + directory + " is not an mlsql "
                        + "model version (it has no " + file + "; expected <registry>/<model>/"
                        + "v<N>)");
            }
        }
        return directory;
    }

    private static JsonNode read(Path file, String where) {
        try {
            return Json.read(file);
        } catch (IOException error) {
            throw new ValidationException(where + ": cannot read " + file + ": "
                    + error.getMessage(), error);
        }
    }

    private static Role[] roles(String task, String where) {
        switch (task) {
            case "classification":
                return new Role[] {Role.LABEL, Role.PROBABILITY};
            case "regression":
                return new Role[] {Role.VALUE};
            case "clustering":
                return new Role[] {Role.CLUSTER, Role.DISTANCE};
            default:
                throw new ValidationException(where + ": the mlsql provider does not score "
                        + task + " models");
        }
    }

    private static LogicalType[] checkInputs(JsonNode inputs, ResolvedSchema declared,
                                             String where) {
        List<Column> columns = declared.getColumns();
        if (columns.size() != inputs.size()) {
            throw new ValidationException(where + ": the model takes " + inputs.size()
                    + " inputs (" + describe(inputs, true) + ") but INPUT declares "
                    + columns.size() + " column" + (columns.size() == 1 ? "" : "s"));
        }
        LogicalType[] types = new LogicalType[columns.size()];
        for (int i = 0; i < types.length; i++) {
            JsonNode input = inputs.get(i);
            Column column = columns.get(i);
            LogicalType type = column.getDataType().getLogicalType();
            boolean numeric = "numeric".equals(input.path("kind").asText());
            List<LogicalTypeRoot> allowed = numeric ? NUMERIC_INPUTS : STRING_INPUTS;
            if (!allowed.contains(type.getTypeRoot())) {
                throw new ValidationException(where + ": INPUT column " + column.getName()
                        + " (position " + (i + 1) + ") is " + type.asSummaryString()
                        + ", but the model's input " + input.path("name").asText() + " is "
                        + (numeric ? "numeric" : "categorical") + " ("
                        + input.path("type").asText() + "): declare it "
                        + (numeric ? "a number type" : "STRING"));
            }
            types[i] = type;
        }
        return types;
    }

    private static boolean compatible(String modelType, LogicalType declared) {
        LogicalTypeRoot root = declared.getTypeRoot();
        switch (modelType) {
            case "STRING":
                return root == LogicalTypeRoot.VARCHAR
                        && ((VarCharType) declared).getLength() == VarCharType.MAX_LENGTH;
            case "BOOLEAN":
                return root == LogicalTypeRoot.BOOLEAN;
            case "DOUBLE":
                return root == LogicalTypeRoot.DOUBLE;
            case "FLOAT":
                return root == LogicalTypeRoot.FLOAT || root == LogicalTypeRoot.DOUBLE;
            default:
                int rank = INTEGERS.indexOf(modelType);
                int declaredRank = INTEGERS.indexOf(
                        root == LogicalTypeRoot.INTEGER ? "INT" : root.name());
                return rank >= 0 && declaredRank >= rank;
        }
    }

    private static String baseType(String type) {
        return type.replace(" NOT NULL", "").trim();
    }

    private static int indexOf(JsonNode fields, String name) {
        for (int i = 0; i < fields.size(); i++) {
            if (name.equals(fields.get(i).path("name").asText())) {
                return i;
            }
        }
        return -1;
    }

    private static String describe(JsonNode fields, boolean withKind) {
        List<String> parts = new ArrayList<>();
        for (JsonNode field : fields) {
            parts.add(field.path("name").asText() + " " + field.path("type").asText()
                    + (withKind ? " " + field.path("kind").asText() : ""));
        }
        return String.join(", ", parts);
    }
}
