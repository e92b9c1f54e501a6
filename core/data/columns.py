"""Column types: a column becomes a number, date or boolean only when no value would change."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.roles import names_a_code

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


def _byte_at(
    data: np.ndarray, starts: np.ndarray, lengths: np.ndarray, valid: np.ndarray, k: int
) -> np.ndarray:
    """Byte ``k`` of every valid string long enough (0 elsewhere)."""
    has = valid & (lengths > k)
    out = np.zeros(len(starts), dtype=np.uint8)
    out[has] = data[starts[has] + k]
    return out


def _non_canonical_sign_or_zero(col: pa.ChunkedArray | pa.Array, *, fraction: bool) -> bool:
    """A value with an explicit ``+``, or a leading zero before another digit (``007``).

    Integers also refuse ``-0`` and any ``0`` followed by more characters. Reads the first
    three bytes of every value straight from the Arrow buffers (a regex would be ~8x slower).
    """
    import pyarrow as pa

    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    for chunk in chunks:
        n = len(chunk)
        if n == 0 or chunk.null_count == n:
            continue
        width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
        offsets = np.frombuffer(chunk.buffers()[1], dtype=width)[
            chunk.offset : chunk.offset + n + 1
        ]
        data = np.frombuffer(chunk.buffers()[2] or b"\0", dtype=np.uint8)
        starts, lengths = offsets[:-1].astype(np.int64), np.diff(offsets)
        valid = chunk.is_valid().to_numpy(zero_copy_only=False) & (lengths > 0)

        c0, c1, c2 = (_byte_at(data, starts, lengths, valid, k) for k in range(3))
        digit1, digit2 = (c1 >= 48) & (c1 <= 57), (c2 >= 48) & (c2 <= 57)
        zero = ord("0")
        bad = c0 == ord("+")
        if fraction:
            bad |= ((c0 == zero) & digit1) | ((c0 == ord("-")) & (c1 == zero) & digit2)
        else:
            bad |= ((c0 == zero) & (lengths > 1)) | ((c0 == ord("-")) & (c1 == zero))
        if bad.any():
            return True
    return False


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
        point = pc.find_substring(col, ".")
        if not _any(pc.greater_equal(point, 0)) and not any(
            _any(pc.match_substring(col, c)) for c in "eEnNiI"
        ):
            return _TEXT  # whole numbers only, yet not int64: too many digits for a number
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


def _is_number(t: pa.DataType) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_integer(t) or pa.types.is_floating(t))


def _kept_by_name_warning(names: list[str]) -> list[str]:
    """The load warning naming the columns kept as text for their names (names only)."""
    if not names:
        return []
    listed = ", ".join(f"'{n}'" for n in names)
    return [
        f"Columns kept as text because their names mark postal codes, phone numbers or "
        f"identifiers: {listed}. Change their kind on the Data page if they are quantities."
    ]


def _typed_frame(table: pa.Table) -> tuple[pd.DataFrame, list[str]]:
    """Decide each text column's type, then hand the table to pandas.

    A column whose name marks a code (:func:`core.roles.names_a_code`) stays text even when
    its values read as numbers; returned with the frame is the warning that names them.
    """
    import pyarrow as pa

    columns, kept = [], []
    for name, col in zip(table.column_names, table.columns, strict=True):
        typed = _decide(col)
        if _is_number(typed.type) and names_a_code(name):
            typed = col
            kept.append(name)
        columns.append(typed)
    typed_table = pa.table(columns, names=table.column_names)
    return _to_pandas(typed_table), _kept_by_name_warning(kept)


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


def _numbers_only(values: list[object]) -> bool:
    """Whether the cells are numbers (ints or floats, not booleans), with at least one."""
    kinds = {type(v) for v in values if v is not None}
    return bool(kinds) and kinds <= {int, float}


def _column(
    values: list[object], render: Callable[[object], str], *, code: bool = False
) -> pd.Series:
    """One column from Python cell values: a type only when every value keeps its value.

    Integers beyond int64, or numbers a double would round, and any mix of kinds (``"007"``
    next to ``7``) give a text column; ``render`` writes the non-text values of such a column.
    With ``code`` (the column's name marks a code), numbers become text as well.
    """
    if code and _numbers_only(values):
        return pd.Series([v if v is None else render(v) for v in values], dtype="str")
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
