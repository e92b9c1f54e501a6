"""Column types: a column becomes a number, date or boolean only when no value would change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pyarrow as pa


#: Values read as booleans when a whole column holds only these (any case as listed).
_BOOL_TEXT = ("true", "false", "True", "False", "TRUE", "FALSE")
#: Integer digits a double always holds exactly; a number written with more digits before
#: its point (an account number, a 20-digit ID) is checked value by value.
_EXACT_DIGITS = 15
_SAMPLE = 1_000
_TEXT = "text"


def _exact_as_double(text: str) -> bool:
    """True when the double nearest to ``text`` is exactly the number ``text`` writes.

    Only asked of numbers written with more than 15 digits before the point, where a double
    would silently change the digits (``12345678901234567890`` -> ``...7168``).
    """
    try:
        return bool(Decimal(float(text)) == Decimal(text.strip()))
    except (ValueError, InvalidOperation, OverflowError):
        return False


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    import pyarrow.compute as pc

    return bool(pc.any(mask).as_py())


def _non_canonical_sign_or_zero(col: pa.ChunkedArray | pa.Array, *, fraction: bool) -> bool:
    """A value with an explicit ``+``, or a leading zero before another digit (``007``)."""
    import pyarrow.compute as pc

    if _any(pc.starts_with(col, "+")):
        return True
    lengths = pc.binary_length(col)
    for zero, shortest in (("0", 1), ("-0", 2)):
        starts = pc.and_(pc.starts_with(col, zero), pc.greater(lengths, shortest))
        if fraction:  # "0.5" and "-0.25" are canonical
            starts = pc.and_(starts, pc.invert(pc.starts_with(col, zero + ".")))
        if _any(starts):
            return True
    return not fraction and _any(pc.equal(col, "-0"))


def _as_int(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | str | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        ints = pc.cast(col, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    # "007", "+7" and "-0" parse, but as numbers they lose their form: the column is text.
    return _TEXT if _non_canonical_sign_or_zero(col, fraction=False) else ints


def _as_float(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | str | None:
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        floats = pc.cast(col, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if _non_canonical_sign_or_zero(col, fraction=True):
        return _TEXT
    lengths = pc.binary_length(col)
    if (pc.max(lengths).as_py() or 0) > _EXACT_DIGITS:
        if not any(_any(pc.match_substring(col, c, ignore_case=True)) for c in ".en"):
            return _TEXT  # whole numbers only, yet not int64: too many digits for a number
        point = pc.find_substring(col, ".")
        long = pc.or_(
            pc.greater(point, _EXACT_DIGITS),
            pc.and_(pc.equal(point, -1), pc.greater(lengths, _EXACT_DIGITS)),
        )
        for text in col.filter(long).to_pylist():
            if text is not None and not _exact_as_double(text):
                return _TEXT
    return floats


def _as_cast(target: pa.DataType) -> Callable[[pa.ChunkedArray | pa.Array], object]:
    def cast(col: pa.ChunkedArray | pa.Array) -> object:
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            return pc.cast(col, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None

    return cast


def _as_bool(col: pa.ChunkedArray | pa.Array) -> object:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pc.all(pc.is_in(col, value_set=pa.array(_BOOL_TEXT))).as_py():
        return None
    return pc.equal(pc.utf8_lower(col), "true")


def _converters() -> list[Callable[[pa.ChunkedArray | pa.Array], object]]:
    import pyarrow as pa

    return [
        _as_int,
        _as_float,
        _as_cast(pa.date32()),
        _as_cast(pa.timestamp("s")),
        _as_cast(pa.timestamp("ns")),
        _as_bool,
    ]


def _decide(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column as the first type that keeps every value, else as the text it is."""
    if col.null_count == len(col):
        return col
    converters = _converters()
    sample = col.slice(0, 4 * _SAMPLE).drop_null().slice(0, _SAMPLE)
    if len(sample):
        # A type the first values do not fit cannot fit the whole column.
        for i, convert in enumerate(converters):
            out = convert(sample)
            if out is _TEXT:
                return col
            if out is not None:
                converters = converters[i:]
                break
        else:
            return col
    for convert in converters:
        out = convert(col)
        if out is _TEXT:
            return col
        if out is not None:
            return out  # type: ignore[return-value]
    return col


def _typed_frame(table: pa.Table) -> pd.DataFrame:
    """Decide each text column's type, then hand the table to pandas."""
    import pyarrow as pa

    typed = pa.table([_decide(c) for c in table.columns], names=table.column_names)
    return _to_pandas(typed)


_TWO_53 = 2**53


def _nullable(t: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
    import pyarrow as pa

    if not pa.types.is_integer(t):
        return None
    name = f"{'U' if pa.types.is_unsigned_integer(t) else ''}Int{t.bit_width}"
    return pd.api.types.pandas_dtype(name)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table.to_pandas``, but an integer column with gaps stays integer (nullable ``Int64``).

    pandas would turn it into doubles: ``3`` would be written back as ``3.0``, and digits past
    2**53 would change.
    """
    import pyarrow as pa

    frame = table.to_pandas(date_as_object=False)
    for i, col in enumerate(table.columns):
        if pa.types.is_integer(col.type) and col.null_count:
            frame.isetitem(i, col.to_pandas(types_mapper=_nullable))
    return frame


# --- Python values (JSON, workbooks) to columns ---------------------------------------------

_INT64 = (-(2**63), 2**63 - 1)


def _json_text(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _column(values: list[object], render: Callable[[object], str]) -> pd.Series:
    """One column from Python cell values: a type only when every value keeps its value.

    Integers beyond int64, or numbers a double would round, and any mix of kinds (``"007"``
    next to ``7``) give a text column; ``render`` writes the non-text values of such a column.
    """
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pd.Series(values, dtype=object)
    if kinds == {bool}:
        return pd.Series(values, dtype=bool if None not in values else object)
    if kinds <= {int, float}:
        ints = [v for v in values if type(v) is int]
        if float not in kinds and all(_INT64[0] <= v <= _INT64[1] for v in ints):
            if None not in values:
                return pd.Series(values, dtype=np.int64)
            return pd.Series(pd.array(values, dtype=pd.Int64Dtype()))
        if float in kinds and all(abs(v) <= _TWO_53 or float(v) == v for v in ints):
            return pd.Series([np.nan if v is None else v for v in values], dtype=np.float64)
    elif kinds <= {dt.datetime, dt.date}:
        return pd.Series(pd.to_datetime(values))
    elif kinds == {str}:
        return pd.Series(values, dtype="str")
    return pd.Series([v if v is None or type(v) is str else render(v) for v in values], dtype="str")
