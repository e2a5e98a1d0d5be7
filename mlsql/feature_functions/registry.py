"""Every feature function by name."""

from __future__ import annotations

from mlsql.feature_functions.base import FeatureFunction
from mlsql.feature_functions.buckets import Bucketize, QuantileBucketize
from mlsql.feature_functions.encoders import LabelEncoder, OneHotEncoder
from mlsql.feature_functions.expansion import Normalizer, PolynomialExpansion
from mlsql.feature_functions.hashing import FeatureHashing
from mlsql.feature_functions.imputer import Imputer
from mlsql.feature_functions.scalers import (
    MaxAbsScaler,
    MinMaxScaler,
    RobustScaler,
    StandardScaler,
)
from mlsql.feature_functions.text import HashingTf, Idf, NGrams, Tokenize

FUNCTIONS: dict[str, FeatureFunction] = {f.name: f for f in (
    StandardScaler(), MinMaxScaler(), MaxAbsScaler(), RobustScaler(), Bucketize(),
    QuantileBucketize(), LabelEncoder(), OneHotEncoder(), Imputer(), PolynomialExpansion(),
    Normalizer(), FeatureHashing(), Tokenize(), NGrams(), HashingTf(), Idf())}
NAMES = tuple(FUNCTIONS)
