"""mlsql's JVM scorers: Java sources in `src/`, compiled at first use against the Flink jars
PyFlink ships (mlsql.jvm.build) into one jar that Flink loads beside the job."""
