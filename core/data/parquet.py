"""Parquet: limits from the footer, dictionary strings measured before they are decoded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.errors import (
    CorruptFileError,
    HeaderOnlyError,
)

if TYPE_CHECKING:
    import pyarrow as pa

from core.data.columns import _json_text, _to_pandas
from core.data.common import LoadResult, _check_limit, _check_shape, _clean_names


def _type_depth(t: pa.DataType) -> int:
    return 1 + max((_type_depth(t.field(i).type) for i in range(t.num_fields)), default=0)


def _load_parquet(data: bytes) -> LoadResult:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
        raise CorruptFileError("Parquet")
    try:
        meta = pq.ParquetFile(pa.BufferReader(data))
        schema = meta.schema_arrow
        md = meta.metadata
    except (pa.ArrowException, OSError, ValueError):
        raise CorruptFileError("Parquet") from None
    # Everything below comes from the footer: nothing is decompressed yet.
    _check_shape(md.num_rows, len(schema))
    leaves = fixed = 0
    for g in range(md.num_row_groups):
        group = md.row_group(g)
        for j in range(group.num_columns):
            chunk = group.column(j)
            leaves += chunk.num_values
            width = {"BOOLEAN": 1, "INT32": 4, "FLOAT": 4, "INT64": 8, "DOUBLE": 8, "INT96": 12}
            fixed += chunk.num_values * width.get(chunk.physical_type, 0)
    _check_limit(
        leaves, "MAX_CELLS", "has too many cells (values of nested columns included)", "values"
    )
    nested = [i for i, f in enumerate(schema) if f.type.num_fields]
    for i in nested:
        depth = _type_depth(schema.field(i).type)
        _check_limit(depth, "MAX_JSON_DEPTH", "nests values too deeply", "levels")
    texts = [
        f.name
        for f in schema
        if pa.types.is_string(f.type)
        or pa.types.is_large_string(f.type)
        or pa.types.is_binary(f.type)
        or pa.types.is_large_binary(f.type)
    ]
    try:
        table = pq.ParquetFile(pa.BufferReader(data), read_dictionary=texts).read()
    except (pa.ArrowException, OSError, ValueError):
        raise CorruptFileError("Parquet") from None
    # Dictionary-encoded strings are still compact here: measure what they would decode to.
    decoded = fixed
    columns = []
    for f, col in zip(schema, table.columns, strict=True):
        if f.name in texts and pa.types.is_dictionary(col.type):
            decoded += _dictionary_bytes(col)
            _check_limit(
                decoded // 2**20, "MAX_DECODED_MB", "would decode to too many bytes", "MiB"
            )
            col = col.cast(f.type)
        elif pa.types.is_dictionary(f.type) and (
            pa.types.is_string(f.type.value_type) or pa.types.is_binary(f.type.value_type)
        ):
            # Stored as categories: compact here, but any cast to text would expand it.
            decoded += _dictionary_bytes(col)
        columns.append(col)
    _check_limit(decoded // 2**20, "MAX_DECODED_MB", "would decode to too many bytes", "MiB")
    table = pa.table(columns, schema=schema)
    warnings: list[str] = []
    for i in nested:
        name = table.schema.field(i).name
        kind = str(table.schema.field(i).type).split("<")[0]
        values = [None if v is None else _json_text(v) for v in table.column(i).to_pylist()]
        table = table.set_column(i, pa.field(name, pa.string()), pa.array(values, pa.string()))
        warnings.append(
            f"Column '{name}' holds nested values ({kind}); they are read as JSON text."
        )
    frame = _to_pandas(table)
    if any(n is not None for n in frame.index.names):
        frame = frame.reset_index()  # a named stored index is data: keep it as a column
    frame = frame.reset_index(drop=True)
    names, renamed = _clean_names(list(frame.columns))
    frame.columns = names
    if len(frame) == 0:
        raise HeaderOnlyError(frame.shape[1])
    return LoadResult(frame=frame, format="parquet", warnings=(*warnings, *renamed))


def _dictionary_bytes(col: pa.ChunkedArray) -> int:
    """Bytes a dictionary column decodes to; refuses a value longer than MAX_CELL_CHARS."""
    import pyarrow.compute as pc

    total = 0
    for chunk in col.chunks:
        lengths = pc.binary_length(chunk.dictionary)
        if len(lengths):
            _check_limit(
                int(pc.max(lengths).as_py() or 0),
                "MAX_CELL_CHARS",
                "has a cell with too many characters (bytes)",
                "bytes",
            )
            total += int(pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0)
    return total
