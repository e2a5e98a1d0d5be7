"""Models compiled to plain Flink SQL expressions: no Python worker at scoring time."""
