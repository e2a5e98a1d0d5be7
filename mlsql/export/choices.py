"""How `mlsql compile --predict` writes ML_PREDICT: mlsql's own form over the Python UDF or
the JVM scorer ("udf"), or Flink's own ML_PREDICT over mlsql's model provider ("flink").
A module of its own so that the command line reads it without loading the planner."""

PREDICT_CHOICES = ("udf", "flink")
