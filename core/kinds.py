"""Column kinds: what each column holds, and faithful casts from one kind to another.

A column's *kind* is one of :data:`KINDS`: ``text``, ``integer``, ``decimal``, ``date``,
``category`` or ``boolean`` (``other`` reports a type none of these fits, such as a
duration). The loader decides kinds cautiously (a postal code with leading zeros stays
text); :func:`cast_column` lets the user change a column's kind, and the recipe records the
change (``{"transform": "cast", "column": "zip", "params": {"kind": "category"}}``) so that
``python -m core harden`` replays it.

A cast is *faithful*: it either keeps every value, or it is refused with a
:class:`core.errors.CastError` naming the column and counting the values that do not fit
(never showing them). The rules:

- **text** and **category** take any column and keep every value (numbers are written as
  pandas writes them to CSV, ``True``/``False`` for booleans, ISO dates).
- **integer** takes whole numbers written as digits with an optional sign. Refused: values
  that are not whole numbers, values with leading zeros (``007`` would become 7; identifiers
  and postal codes should stay text), and values beyond the 64-bit range (``±9.2e18``):
  such columns (account numbers, 20-digit IDs) are identifiers and stay text, because
  pandas cannot compute with larger integers exactly. Decimal columns cast when every value
  is whole and finite.
- **decimal** takes numbers in decimal or exponent notation and ``inf``/``-inf``. Refused:
  leading zeros, and values whose digits float64 does not hold (more than about 15-17
  significant digits, e.g. an integer above 2**53).
- **date** takes ISO 8601 text (or text in a given ``date_format``). Values with different
  UTC offsets are converted to UTC, with a warning; a mix of values with and without an
  offset is refused.
- **boolean** takes ``true/false``, ``yes/no``, ``t/f``, ``y/n`` and ``1/0`` (any case), or
  numbers that are all 0 or 1.

Missing values stay missing. An empty or blank text value is not a number, date or
boolean: it becomes missing in such a cast, and a warning counts those cells. Casting a
column to the kind it already has changes nothing.

>>> import pandas as pd
>>> df = pd.DataFrame({"zip": ["02134", "00501"], "n": ["7", "12"]})
>>> [k.kind for k in column_kinds(df)]
['text', 'text']
>>> cast_column(df, "n", "integer").frame["n"].tolist()
[7, 12]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from core.errors import CastError, ColumnError, InvalidParameterError

__all__ = [
    "KINDS",
    "CastResult",
    "ColumnKind",
    "cast_column",
    "column_kind",
    "column_kinds",
]

#: Kinds a column can be cast to, in the order the Data page offers them.
KINDS = ("text", "integer", "decimal", "date", "category", "boolean")
#: Text dtype of the loader (pandas' default string dtype).
TEXT_DTYPE = pd.StringDtype("pyarrow", na_value=np.nan)

_INT64_MAX = 2**63 - 1
_INT64_MIN = -(2**63)
_FLOAT_EXACT = 2**53
_OFFSET_RE = re.compile(
    r"[T ]\d\d(?::?\d\d(?::?\d\d(?:[.,]\d+)?)?)?\s*(Z|[+-]\d\d(?::?\d\d)?)$", re.IGNORECASE
)
_TRUE = frozenset({"true", "yes", "t", "y", "1"})
_FALSE = frozenset({"false", "no", "f", "n", "0"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnKind:
    """The kind of one column.

    Attributes
    ----------
    column : str
        The column's name (as text).
    kind : str
        One of :data:`KINDS`, or ``"other"``.
    dtype : str
        The pandas dtype behind it, for the curious.
    """

    column: str
    kind: str
    dtype: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CastResult:
    """A table with one column cast to a new kind.

    Attributes
    ----------
    frame : pandas.DataFrame
        A new frame (the input is not modified); the same object when nothing changed.
    column : str
    kind : str
        The kind asked for.
    previous : str
        The column's kind before.
    changed : bool
        False when the column already had this kind.
    warnings : tuple of str
        Soft changes, counted (values written differently, blanks made missing, offsets
        converted to UTC).
    """

    frame: pd.DataFrame
    column: str
    kind: str
    previous: str
    changed: bool
    warnings: tuple[str, ...] = ()


def column_kind(series: pd.Series) -> str:
    """The kind of a column: one of :data:`KINDS`, or ``"other"``.

    Object columns (mixed Python values, e.g. from JSON) are ``integer``, ``decimal``,
    ``boolean`` or ``date`` when every present value is of that type, ``text`` otherwise.

    >>> column_kind(pd.Series([1, 2])), column_kind(pd.Series([1.5, None]))
    ('integer', 'decimal')
    >>> column_kind(pd.Series(["a"], dtype="category")), column_kind(pd.Series([True]))
    ('category', 'boolean')
    """
    dt = series.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_integer_dtype(dt):
        return "integer"
    if pd.api.types.is_float_dtype(dt):
        return "decimal"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "date"
    if pd.api.types.is_string_dtype(dt) and not pd.api.types.is_object_dtype(dt):
        return "text"
    if pd.api.types.is_object_dtype(dt):
        return _object_kind(series)
    return "other"


def _object_kind(series: pd.Series) -> str:
    values = series.dropna()
    if values.empty:
        return "text"
    types = set(values.map(type).unique())
    if types <= {bool, np.bool_}:
        return "boolean"
    if types <= {int, np.int64, np.int32}:
        return "integer"
    if types <= {int, float, np.int64, np.float64} and not types & {bool}:
        return "decimal"
    if all(issubclass(t, pd.Timestamp) for t in types):
        return "date"
    return "text"


def column_kinds(frame: pd.DataFrame) -> tuple[ColumnKind, ...]:
    """The kind of every column of ``frame``, in order.

    Columns are read by position, so duplicate or non-text names are reported too.

    >>> [(k.column, k.kind) for k in column_kinds(pd.DataFrame({"a": ["x"], "b": [1]}))]
    [('a', 'text'), ('b', 'integer')]
    """
    return tuple(
        ColumnKind(
            column=str(name),
            kind=column_kind(frame.iloc[:, i]),
            dtype=str(frame.dtypes.iloc[i]),
        )
        for i, name in enumerate(frame.columns)
    )


def cast_column(
    frame: pd.DataFrame,
    column: Hashable,
    kind: str,
    *,
    date_format: str | None = None,
) -> CastResult:
    """Cast one column of ``frame`` to ``kind``, keeping every value or refusing.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; not modified.
    column : str
        The column to cast; it must name exactly one column.
    kind : str
        One of :data:`KINDS`.
    date_format : str, optional
        A ``strftime`` format for text to ``date`` (e.g. ``"%d.%m.%Y"``); default ISO 8601.

    Returns
    -------
    CastResult

    Raises
    ------
    InvalidParameterError
        ``kind`` is not one of :data:`KINDS`.
    ColumnError
        The column is missing, or its name is used by several columns.
    CastError
        Some values do not fit the new kind (the message names the column and counts
        them) or the kinds do not convert (a date to an integer).

    Examples
    --------
    >>> df = pd.DataFrame({"zip": ["02134", "10115"]})
    >>> try:
    ...     cast_column(df, "zip", "integer")
    ... except CastError as exc:
    ...     print(str(exc).split(":")[1].split(".")[0].strip())
    1 value(s) have leading zeros, which an integer drops
    >>> cast_column(df, "zip", "category").frame["zip"].dtype
    CategoricalDtype(categories=['02134', '10115'], ordered=False, categories_dtype=str)
    """
    if kind not in KINDS:
        raise InvalidParameterError(
            f"kind must be one of {', '.join(KINDS)}; got {kind!r}. Pick one of those."
        )
    if date_format is not None and (not isinstance(date_format, str) or not date_format):
        raise InvalidParameterError("date_format must be a non-empty strftime format, or None.")
    hits = int(np.sum(frame.columns == column)) if column in frame.columns else 0
    if hits == 0:
        raise ColumnError(f"Column '{column}' is not in the data. Pick one of its columns.")
    if hits > 1:
        raise ColumnError(
            f"{hits} columns are named '{column}'; a cast needs one. Rename them first."
        )
    series = frame[column]
    previous = column_kind(series)
    if previous == kind and not (kind == "text" and series.dtype != TEXT_DTYPE):
        return CastResult(
            frame=frame, column=str(column), kind=kind, previous=previous, changed=False
        )
    notes: list[str] = []
    new = _CASTS[kind](series, str(column), previous, notes, date_format)
    out = frame.copy(deep=False)
    out[column] = new
    return CastResult(
        frame=out,
        column=str(column),
        kind=kind,
        previous=previous,
        changed=True,
        warnings=tuple(notes),
    )


# --- helpers -------------------------------------------------------------------------------


def _fail(column: str, kind: str, why: str, advice: str) -> CastError:
    return CastError(f"Column '{column}' cannot become {kind}: {why}. {advice}")


def _refuse_kind(column: str, previous: str, kind: str) -> CastError:
    return _fail(
        column,
        kind,
        f"it holds {previous} values, which do not convert to {kind}",
        "Cast it to text first if the values are written as " + kind + "s, or keep it.",
    )


def _base(series: pd.Series, previous: str) -> tuple[pd.Series, str]:
    """A category column as its plain values (and their kind); others unchanged."""
    if previous != "category":
        return series, previous
    cats = series.cat.categories.dtype
    if pd.api.types.is_integer_dtype(cats) and series.isna().any():  # NaN has no numpy int
        nullable = "UInt64" if pd.api.types.is_unsigned_integer_dtype(cats) else "Int64"
        plain = series.astype(object).astype(nullable)
    else:
        plain = series.astype(cats)
    return plain, column_kind(plain)


def _as_text(series: pd.Series, previous: str) -> pd.Series:
    """Each present value as text, the way the CSV export writes it; missing stays missing."""
    if previous == "text" and series.dtype == TEXT_DTYPE:
        return series
    if previous in ("integer", "decimal", "date") and not pd.api.types.is_object_dtype(
        series.dtype
    ):
        text = series.astype(str)  # pandas' own CSV formatting (repr of floats, ISO dates)
    else:
        text = series.map(_value_text, na_action="ignore")
    return text.astype(TEXT_DTYPE).where(series.notna())


def _value_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


class _Parsed:
    """Text of a column, stripped, with its present and blank cells (vectorized)."""

    def __init__(self, text: pd.Series) -> None:
        self.text = text
        self.stripped = text.str.strip()
        self.present = text.notna().to_numpy()
        self.blank = self.present & self.match(r"")
        self.filled = self.present & ~self.blank

    def match(self, pattern: str) -> np.ndarray:
        """Cells whose stripped text matches ``pattern`` entirely (missing: False)."""
        hit = self.stripped.str.fullmatch(pattern)
        return np.asarray(hit.to_numpy(dtype=bool, na_value=False), dtype=bool)


def _arrow_cast(text: pd.Series, ok: np.ndarray, fill: str, to: Any) -> np.ndarray:
    """Parse the ``ok`` cells of ``text`` with Arrow (correctly rounded); others get ``fill``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cleaned = text.where(ok, fill).astype(TEXT_DTYPE)
    return np.asarray(pc.cast(pa.array(cleaned, from_pandas=True), to).to_numpy(False))


def _blank_note(column: str, n: int, notes: list[str]) -> None:
    if n:
        notes.append(
            f"Column '{column}': {n:,} empty text value(s) became missing (they are not values "
            "of the new kind)."
        )


def _reformat_note(column: str, n: int, kind: str, notes: list[str]) -> None:
    if n:
        notes.append(
            f"Column '{column}': {n:,} value(s) keep their {kind} value but are now written "
            "in the standard form (e.g. no '+' sign, trailing zeros or spaces)."
        )


# --- the casts -----------------------------------------------------------------------------

_Cast = Callable[[pd.Series, str, str, list[str], str | None], pd.Series]


def _to_text(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    base, kind = _base(series, previous)
    return _as_text(base, kind)


def _to_category(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    return series.astype("category")


def _to_integer(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    base, kind = _base(series, previous)
    if kind == "decimal":
        return _decimal_to_integer(base, column)
    if kind == "boolean" or kind == "date" or kind == "other":
        raise _refuse_kind(column, kind, "integer")
    p = _Parsed(_as_text(base, kind))
    shaped = p.match(r"[+-]?\d+")
    zeros = p.match(r"[+-]?0\d+")
    digits = p.stripped.str.lstrip("+-").str.len().to_numpy(dtype=float, na_value=0)
    big = np.zeros(len(p.text), dtype=bool)
    for i in np.flatnonzero(shaped & ~zeros & (digits >= 19)):  # few, or an ID column
        big[i] = not _INT64_MIN <= int(p.stripped.iloc[i]) <= _INT64_MAX
    problems = []
    if n := int((p.filled & ~shaped).sum()):
        problems.append(f"{n:,} value(s) are not whole numbers")
    if n := int(zeros.sum()):
        problems.append(f"{n:,} value(s) have leading zeros, which an integer drops")
    if n := int(big.sum()):
        problems.append(
            f"{n:,} value(s) are beyond the 64-bit integer range (±9.2e18), which pandas "
            "cannot compute with exactly"
        )
    if problems:
        raise _fail(
            column,
            "integer",
            "; ".join(problems),
            "Keep the column as text (postal codes and identifiers are text), or choose category.",
        )
    _blank_note(column, int(p.blank.sum()), notes)
    ok = shaped
    values = _arrow_cast(p.stripped.str.removeprefix("+"), ok, "0", "int64").astype(np.int64)
    out = _integer_series(values, ok, series.index)
    written = pd.Series(values[ok]).astype(str).to_numpy(dtype=object)
    reformatted = int((p.text[ok].to_numpy(dtype=object) != written).sum())
    _reformat_note(column, reformatted, "whole-number", notes)
    return out


def _integer_series(values: np.ndarray, ok: np.ndarray, index: pd.Index) -> pd.Series:
    if ok.all():
        return pd.Series(values, index=index, dtype=np.int64)
    return pd.Series(pd.arrays.IntegerArray(values, ~ok), index=index)


def _decimal_to_integer(series: pd.Series, column: str) -> pd.Series:
    x = series.to_numpy(dtype="float64", na_value=np.nan)
    present = ~np.isnan(x)
    infinite = int(np.isinf(x).sum())
    finite = present & ~np.isinf(x)
    fractional = int((finite & (np.floor(np.where(finite, x, 0)) != np.where(finite, x, 0))).sum())
    big = int((finite & ((x >= 2.0**63) | (x < -(2.0**63)))).sum())
    problems = []
    if infinite:
        problems.append(f"{infinite:,} value(s) are infinite")
    if fractional:
        problems.append(f"{fractional:,} value(s) have a fractional part")
    if big:
        problems.append(f"{big:,} value(s) are beyond the 64-bit integer range")
    if problems:
        raise _fail(
            column,
            "integer",
            "; ".join(problems),
            "Round the column first (Masking: Round), or keep it decimal.",
        )
    values = np.where(present, x, 0).astype(np.int64)
    return _integer_series(values, present, series.index)


_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_INFINITY = r"(?i)[+-]?inf(?:inity)?"
#: Decimal text with at most this many significant digits always survives float64 (DBL_DIG).
_SAFE_DIGITS = 15


def _decimal_exact(text: str, value: float) -> bool:
    """Whether ``value`` (the float read from ``text``) is the number ``text`` writes."""
    try:
        return bool(np.isfinite(value)) and Decimal(repr(float(value))) == Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        return False


def _to_decimal(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    base, kind = _base(series, previous)
    if kind == "integer":
        return _integer_to_decimal(base, column)
    if kind == "boolean" or kind == "date" or kind == "other":
        raise _refuse_kind(column, kind, "decimal")
    p = _Parsed(_as_text(base, kind))
    shaped = p.match(_NUMBER)
    infinite = p.match(_INFINITY)
    zeros = p.match(r"[+-]?0\d.*") & shaped
    ok = (shaped & ~zeros) | infinite
    values = _arrow_cast(p.stripped.str.removeprefix("+"), ok, "0", "float64").astype(float)
    mantissa = p.stripped.str.replace(r"[eE].*$", "", regex=True).str.replace(
        r"[^0-9]", "", regex=True
    )
    significant = mantissa.str.lstrip("0").str.rstrip("0").str.len()
    sig = significant.to_numpy(dtype=float, na_value=0)
    tiny = (values != 0) & (np.abs(values) < np.finfo(float).tiny)
    lossy = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(shaped & ~zeros & ((sig > _SAFE_DIGITS) | tiny | np.isinf(values))):
        lossy[i] = not _decimal_exact(str(p.stripped.iloc[i]), float(values[i]))
    problems = []
    if n := int((p.filled & ~shaped & ~infinite).sum()):
        problems.append(f"{n:,} value(s) are not numbers")
    if n := int(zeros.sum()):
        problems.append(f"{n:,} value(s) have leading zeros, which a number drops")
    if n := int(lossy.sum()):
        problems.append(f"{n:,} value(s) have more digits than a decimal number holds exactly")
    if problems:
        raise _fail(
            column,
            "decimal",
            "; ".join(problems),
            "Keep the column as text (identifiers and codes are text), or choose category.",
        )
    _blank_note(column, int(p.blank.sum()), notes)
    out = pd.Series(np.where(ok, values, np.nan), index=series.index, dtype=np.float64)
    written = out[ok].astype(str).to_numpy(dtype=object)
    reformatted = int((p.text[ok].to_numpy(dtype=object) != written).sum())
    _reformat_note(column, reformatted, "number", notes)
    return out


def _integer_to_decimal(series: pd.Series, column: str) -> pd.Series:
    if pd.api.types.is_object_dtype(series.dtype):  # Python ints of any size
        present = series.notna().to_numpy()
        ints = [int(v) for v in series[present]]
        big = sum(1 for v in ints if abs(v) > _FLOAT_EXACT)
        x = np.full(len(series), np.nan)
        if not big:
            x[present] = np.array(ints, dtype=float)
    else:
        x = series.to_numpy(dtype="float64", na_value=np.nan)
        raw = series.dropna()
        as_int = raw.astype("int64") if raw.dtype.kind != "u" else raw
        big = int((np.abs(as_int.to_numpy().astype(object)) > _FLOAT_EXACT).sum())
    if big:
        raise _fail(
            column,
            "decimal",
            f"{big:,} value(s) are beyond 2**53, where a decimal number no longer holds every "
            "whole number exactly",
            "Keep the column as integer or text.",
        )
    return pd.Series(x, index=series.index, dtype=np.float64)


def _to_boolean(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    base, kind = _base(series, previous)
    if kind in ("date", "other"):
        raise _refuse_kind(column, kind, "boolean")
    present = base.notna().to_numpy()
    if kind in ("integer", "decimal"):
        x = base.to_numpy(dtype="float64", na_value=np.nan)
        bad = int((present & (x != 0) & (x != 1)).sum())
        if bad:
            raise _fail(
                column,
                "boolean",
                f"{bad:,} value(s) are neither 0 nor 1",
                "Keep the column numeric, or group its values first.",
            )
        values = x == 1
    else:
        p = _Parsed(_as_text(base, kind))
        low = p.stripped.str.lower()
        yes = np.asarray(low.isin(_TRUE).to_numpy(dtype=bool, na_value=False), dtype=bool)
        no = np.asarray(low.isin(_FALSE).to_numpy(dtype=bool, na_value=False), dtype=bool)
        if bad := int((p.filled & ~yes & ~no).sum()):
            raise _fail(
                column,
                "boolean",
                f"{bad:,} value(s) are not true/false, yes/no, t/f, y/n or 1/0",
                "Keep the column as text or category.",
            )
        _blank_note(column, int(p.blank.sum()), notes)
        present, values = yes | no, yes
    if present.all():
        return pd.Series(values, index=series.index, dtype=bool)
    return pd.Series(pd.arrays.BooleanArray(values, ~present), index=series.index)


def _to_date(
    series: pd.Series, column: str, previous: str, notes: list[str], fmt: str | None
) -> pd.Series:
    base, kind = _base(series, previous)
    if kind in ("integer", "decimal", "boolean", "other"):
        raise _refuse_kind(column, kind, "date")
    text = _as_text(base, kind)
    present = text.notna().to_numpy()
    blank = present & (text.str.strip() == "").to_numpy(dtype=bool, na_value=False)
    _blank_note(column, int(blank.sum()), notes)
    values = text.where(~blank).str.strip()
    utc = False
    if fmt is None:
        offsets = values.dropna().str.extract(_OFFSET_RE, expand=False)
        aware = int(offsets.notna().sum())
        naive = int(values.notna().sum()) - aware
        if aware and naive:
            raise _fail(
                column,
                "date",
                f"{aware:,} value(s) carry a UTC offset and {naive:,} do not, so they cannot "
                "share one time zone",
                "Give every value an offset (or none) in the source, or keep the column as text.",
            )
        if offsets.dropna().str.replace(":", "").str.upper().replace("Z", "+0000").nunique() > 1:
            utc = True
            notes.append(
                f"Column '{column}': its values have different UTC offsets; they are now "
                "shown in UTC (the same instants)."
            )
    try:
        parsed = pd.to_datetime(values, format=fmt or "ISO8601", errors="coerce", utc=utc or None)
    except (ValueError, TypeError, OverflowError):
        raise _fail(
            column,
            "date",
            "its values could not be read as dates" + (f" in the format {fmt!r}" if fmt else ""),
            "Check the date format (ISO 8601 is 2024-12-31), or keep the column as text.",
        ) from None
    bad = int((values.notna().to_numpy() & parsed.isna().to_numpy()).sum())
    if bad:
        raise _fail(
            column,
            "date",
            f"{bad:,} value(s) are not dates"
            + (f" in the format {fmt!r}" if fmt else " in ISO 8601 form (2024-12-31)"),
            "Give the date format, fix those values, or keep the column as text.",
        )
    return parsed


_CASTS: dict[str, _Cast] = {
    "text": _to_text,
    "integer": _to_integer,
    "decimal": _to_decimal,
    "date": _to_date,
    "category": _to_category,
    "boolean": _to_boolean,
}
