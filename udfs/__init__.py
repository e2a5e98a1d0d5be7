"""Code that runs on Flink's Python workers.

Imports only numpy, pandas, pyarrow, PyFlink's UDF base classes and model runtimes, so it
ships small to a cluster. The planner (mlsql) imports it; it never imports the planner.
"""
