"""A result's rows, row by row, for the results PyFlink's Arrow conversion refuses (an ARRAY
of ROWs): PyFlink's own iterator, except that a NULL field inside a ROW comes back as None
(PyFlink's converter unpickles its empty bytes and fails with `EOFError`)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

from pyflink.common import Row, RowKind
from pyflink.java_gateway import get_gateway
from pyflink.table import TableResult
from pyflink.table.types import ArrayType, DataType, RowType, _from_java_data_type
from pyflink.table.utils import pickled_bytes_to_python_converter


def collect_rows(result: TableResult) -> Iterator[Row]:
    j_types = result._get_java_table_schema().getFieldDataTypes()
    types = [_from_java_data_type(t) for t in j_types]
    bridge = get_gateway().jvm.PythonBridgeUtils
    rows = result._j_table_result.collect()
    try:
        while rows.hasNext():
            data = bridge.getPickledBytesFromRow(rows.next(), j_types)
            yield Row(*(_value(field, kind) for field, kind in zip(list(data[1:]), types,
                                                                   strict=True)))
    finally:
        rows.close()


def _value(data: bytes | list, kind: DataType) -> object:
    if data is None or len(data) == 0:
        return None
    if isinstance(kind, RowType):
        row = Row(*(_value(field, field_kind) for field, field_kind
                    in zip(list(data[1:]), kind.field_types(), strict=True)))
        row.set_field_names(kind.names)
        row.set_row_kind(RowKind(int.from_bytes(data[0], byteorder="big", signed=False)))
        return row
    if isinstance(kind, ArrayType) and isinstance(kind.element_type, RowType | ArrayType):
        return [_value(element, kind.element_type) for element in pickle.loads(data)]
    return pickled_bytes_to_python_converter(data, kind)
