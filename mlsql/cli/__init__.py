"""The `mlsql` command (main) and its gateway and cluster subcommands."""
