"""CREATE MODEL ... TRANSFORM (...): preprocessing fitted at training, stored with the model
version (as SQL with the fitted constants: metadata.json's "transform"), and applied by
ML_PREDICT, ML_EVALUATE and the analysis functions to the raw columns."""
