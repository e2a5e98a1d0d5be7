"""The version of mlsql: written into every model version and job it publishes."""

__version__ = "0.1.0"
