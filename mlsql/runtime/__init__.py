"""The Flink runtime: the TableEnvironment (environment), the process's shared mini-cluster,
running jobs (job_handle), the planning thread, and Flink's errors and types."""
