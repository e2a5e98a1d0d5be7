"""What mlsql needs to know about Flink's column types."""

from __future__ import annotations

from dataclasses import dataclass

from pyflink.table import DataTypes
from pyflink.table.types import DataType

NUMERIC_ROOTS = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL",
                 "BOOLEAN"}
STRING_ROOTS = {"CHAR", "VARCHAR"}
# Label types a classifier can predict back in the label's own type.
CLASS_LABEL_TYPES = {"BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "STRING"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Flink's SQL spelling without NOT NULL, e.g. DOUBLE, STRING, DECIMAL(10, 2)
    root: str  # the logical type root, e.g. DOUBLE, VARCHAR, DECIMAL

    @property
    def feature_kind(self) -> str | None:
        """numeric, categorical, or None when the type cannot be a feature."""
        if self.root in NUMERIC_ROOTS:
            return "numeric"
        if self.root in STRING_ROOTS:
            return "categorical"
        return None


def table_columns(table) -> list[Column]:
    """The resolved columns of a pyflink Table (no job runs)."""
    columns = []
    for j_column in table._j_table.getResolvedSchema().getColumns():
        logical = j_column.getDataType().getLogicalType()
        spelled = logical.copy(True).asSummaryString()
        columns.append(Column(j_column.getName(), spelled, logical.getTypeRoot().name()))
    return columns


def extraction_expression(quoted_name: str, column: Column) -> str:
    """The expression that hands a column to Python the way training saw it."""
    kind = column.feature_kind
    if kind == "numeric":
        return f"CAST({quoted_name} AS DOUBLE)"
    if kind == "categorical":
        return f"CAST({quoted_name} AS STRING)"
    return quoted_name


def to_data_type(type_name: str) -> DataType:
    """A pyflink DataType for one of the output types mlsql produces."""
    simple = {
        "BOOLEAN": DataTypes.BOOLEAN(), "TINYINT": DataTypes.TINYINT(),
        "SMALLINT": DataTypes.SMALLINT(), "INT": DataTypes.INT(),
        "BIGINT": DataTypes.BIGINT(), "FLOAT": DataTypes.FLOAT(),
        "DOUBLE": DataTypes.DOUBLE(), "STRING": DataTypes.STRING(),
    }
    if type_name.startswith("ARRAY<") and type_name.endswith(">"):
        return DataTypes.ARRAY(to_data_type(type_name[len("ARRAY<"):-1]))
    if type_name.startswith("MAP<") and type_name.endswith(">"):  # MAP<K, V> of simple types
        key, value = (part.strip() for part in type_name[len("MAP<"):-1].split(",", 1))
        # Arrow (pandas UDFs, to_pandas) holds only maps whose keys are NOT NULL
        return DataTypes.MAP(to_data_type(key).not_null(), to_data_type(value))
    if type_name not in simple:
        raise ValueError(f"unsupported output type {type_name}")
    return simple[type_name]


def normalize_label_type(column: Column) -> str:
    """The type a classifier's predicted label is returned in."""
    if column.root in STRING_ROOTS:
        return "STRING"
    if column.root == "INTEGER":
        return "INT"
    return column.root
