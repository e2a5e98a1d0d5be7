"""Flink ML's statistical tests as AlgoOperators: ChiSqTest, ANOVATest and FValueTest.
`transform(table)` gives one Table: one row of vectors (pValues, degreesOfFreedom and
statistics / fValues, one element per feature), or with `flatten=True` one row per feature
(featureIndex, pValue, degreeOfFreedom, statistic / fValue). Each is the SQL table function
of the same test (ML_CHI_SQUARE_TEST, ML_ANOVA_TEST, ML_F_VALUE_TEST) over the table, through
its Table API function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pyflink.table import DataTypes, Table
from pyflink.table.expressions import col

from mlsql.errors import OptionError
from mlsql.pipeline import persistence
from mlsql.table_api.binding import session_of
from mlsql.table_api.functions import ml_anova_test, ml_chi_square_test, ml_f_value_test


class _FeatureTest:
    table_function: Callable[[Table, str, Sequence[str]], Table]
    statistic = "statistic"  # Flink ML's name for the flattened statistic ("s" when a vector)

    def __init__(self, features: Sequence[str], label: str = "label", *,
                 flatten: bool = False) -> None:
        name = type(self).__name__
        if isinstance(features, str) or not features or not all(
                isinstance(f, str) and f for f in features):
            raise OptionError(f"{name}: features is a non-empty list of column names, not "
                              f"{features!r}")
        if not isinstance(label, str) or not label:
            raise OptionError(f"{name}: label is a column name, not {label!r}")
        if not isinstance(flatten, bool):
            raise OptionError(f"{name}: flatten is True or False, not {flatten!r}")
        self.features, self.label, self.flatten = list(features), label, flatten

    def transform(self, table: Table) -> list[Table]:
        flat = self.table_function(table, self.label, self.features).select(
            col("feature_index").alias("featureIndex"), col("p_value").alias("pValue"),
            col("degrees_of_freedom").alias("degreeOfFreedom"),
            col("statistic").alias(self.statistic))
        if self.flatten:
            return [flat]
        session = session_of(table, f"{type(self).__name__}.transform")
        frame = flat.to_pandas().sort_values("featureIndex")
        vectors = (frame["pValue"].tolist(), frame["degreeOfFreedom"].astype(int).tolist(),
                   frame[self.statistic].tolist())
        return [session.table_env.from_elements([vectors], DataTypes.ROW([
            DataTypes.FIELD("pValues", DataTypes.ARRAY(DataTypes.DOUBLE())),
            DataTypes.FIELD("degreesOfFreedom", DataTypes.ARRAY(DataTypes.BIGINT())),
            DataTypes.FIELD(f"{self.statistic}s", DataTypes.ARRAY(DataTypes.DOUBLE()))]))]

    def save(self, path: str | Path) -> None:
        persistence.write(path, {"kind": type(self).__name__, "features": self.features,
                                 "label": self.label, "flatten": self.flatten})

    @classmethod
    def load(cls, path: str | Path) -> Any:
        document = persistence.read(path, cls.__name__)
        return cls(document["features"], document["label"], flatten=document["flatten"])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(features={self.features!r}, label={self.label!r}, "
                f"flatten={self.flatten!r})")


class ChiSqTest(_FeatureTest):
    """Pearson's chi-squared test of independence of each categorical feature and the
    categorical label (Flink ML's ChiSqTest)."""

    table_function = staticmethod(ml_chi_square_test)


class ANOVATest(_FeatureTest):
    """The one-way ANOVA F-test of each numeric feature across the label's classes (Flink
    ML's ANOVATest)."""

    table_function, statistic = staticmethod(ml_anova_test), "fValue"


class FValueTest(_FeatureTest):
    """The F-test of a univariate linear regression of the numeric label on each numeric
    feature (Flink ML's FValueTest)."""

    table_function, statistic = staticmethod(ml_f_value_test), "fValue"
