"""Statement results as the SQL Gateway's REST API pages them, built by Flink's own classes.

Flink's `ResultFetcher` (from the flink-sql-gateway jar, on the worker's classpath) buffers a
result in a JVM thread of its own and hands out pages by token without blocking, so an
unbounded query can be paged while it runs and no Python thread ever waits inside Flink.
Pages are serialized by Flink's REST serializers, so every client that speaks to Flink's
gateway reads ours byte for byte the same (row kinds, logical types, JSON and PLAIN_TEXT).
Everything here runs in the worker's one Flink thread (see worker.py).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from pyflink.java_gateway import get_gateway
from pyflink.table import TableResult

from mlsql.runtime.job_handle import JobHandle

_ALL_ROWS = 2**31 - 1


def _jvm() -> Any:
    return get_gateway().jvm


def _gateway_classes() -> Any:
    return _jvm().org.apache.flink.table.gateway


def fetcher_for(result: object, is_query: bool) -> Any:
    """A Java ResultFetcher over whatever mlsql's Session returned for a statement."""
    classes = _gateway_classes()
    handle = classes.api.operation.OperationHandle.create()
    fetchers = classes.service.result.ResultFetcher
    if isinstance(result, JobHandle):
        # Not the INSERT's own TableResult: its rows (the affected counts) come only when
        # the job ends, and a streaming job may never end. Flink's gateway answers the same.
        schema, rows = _frame_rows(pd.DataFrame({"job id": [result.job_id]}))
        job_id = _jvm().org.apache.flink.api.common.JobID.fromHexString(result.job_id)
        kind = _jvm().org.apache.flink.table.api.ResultKind.SUCCESS_WITH_CONTENT
        return fetchers.fromResults(handle, schema, rows, job_id, kind)
    if isinstance(result, TableResult):
        return fetchers.fromTableResult(handle, result._j_table_result, is_query)
    if isinstance(result, pd.DataFrame):
        schema, rows = _frame_rows(result)
        return fetchers.fromResults(handle, schema, rows)
    ok = _jvm().org.apache.flink.table.api.internal.TableResultInternal.TABLE_RESULT_OK
    return fetchers.fromTableResult(handle, ok, False)


def page(fetcher: Any, token: int, row_format: str, uri: str, next_uri: str,
         config: Any) -> str:
    """The response body for GET .../result/{token}: the JSON text Flink's gateway sends.
    `uri` is this page's URI (asked again while not ready), `next_uri` the following one's."""
    classes = _gateway_classes()
    result_set = fetcher.fetchResults(token, _ALL_ROWS)
    kind = result_set.getResultType().name()
    if kind == "NOT_READY":
        body = classes.rest.message.statement.NotReadyFetchResultResponse(uri)
    else:
        types = _jvm().java.util.ArrayList()
        for data_type in result_set.getResultSchema().getColumnDataTypes():
            types.add(data_type.getLogicalType())
        converter = classes.rest.util.RowDataLocalTimeZoneConverter(types, config)
        info = classes.rest.serde.ResultInfo.createResultInfo(
            result_set, classes.rest.util.RowFormat.valueOf(row_format), converter)
        following = next_uri if result_set.getNextToken() is not None else None
        body = classes.rest.message.statement.FetchResultResponseBodyImpl(
            result_set.getResultType(), result_set.isQueryResult(), result_set.getJobID(),
            result_set.getResultKind(), info, following)
    mapper = _jvm().org.apache.flink.runtime.rest.util.RestMapperUtils.getStrictObjectMapper()
    return mapper.writeValueAsString(body)


def _frame_rows(frame: pd.DataFrame) -> tuple[Any, Any]:
    """A DataFrame (SHOW MODELS, DESCRIBE MODEL, a training summary) as a Flink schema and
    rows: integers INT, floats DOUBLE, booleans BOOLEAN, everything else STRING."""
    jvm = _jvm()
    types = jvm.org.apache.flink.table.api.DataTypes
    data = jvm.org.apache.flink.table.data
    columns = jvm.java.util.ArrayList()
    converters = []
    for name, dtype in frame.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            data_type, convert = types.BOOLEAN(), bool
        elif pd.api.types.is_integer_dtype(dtype) and _fits_int(frame[name]):
            # py4j hands a small Python int to Java as an Integer, never a Long
            data_type, convert = types.INT(), int
        elif pd.api.types.is_float_dtype(dtype):
            data_type, convert = types.DOUBLE(), float
        else:
            data_type, convert = types.STRING(), lambda v: data.StringData.fromString(str(v))
        columns.add(jvm.org.apache.flink.table.catalog.Column.physical(str(name), data_type))
        converters.append(convert)
    rows = jvm.java.util.ArrayList()
    for values in frame.itertuples(index=False):
        row = data.GenericRowData(len(converters))
        for i, (value, convert) in enumerate(zip(values, converters, strict=True)):
            if not _missing(value):
                row.setField(i, convert(value.item() if hasattr(value, "item") else value))
        rows.add(row)
    return jvm.org.apache.flink.table.catalog.ResolvedSchema.of(columns), rows


def _fits_int(column: pd.Series) -> bool:
    return column.empty or bool(column.abs().max() < 2**31)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
