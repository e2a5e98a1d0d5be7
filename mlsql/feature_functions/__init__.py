"""The ML_* feature functions: scalar SQL functions with explicit parameters in any query, and
fitted at training inside CREATE MODEL ... TRANSFORM (`ML_STANDARD_SCALER(x) OVER ()`)."""
