"""Export a (hardened) table as CSV, Parquet, XLSX or JSON, alone or as a bundle, encrypted or not.

Faithful or refused
-------------------
An export writes the table it was given, value for value, or refuses before writing anything
with a :class:`~core.errors.PrivLensError` that names the column, says why and offers another
way (:func:`check_exportable` runs the same checks alone). Column names must be unique text.
By format:

* CSV holds every value as text, so it always writes (see formula injection below).
* Parquet refuses a column that mixes kinds of values (numbers and text, booleans and
  numbers), integers beyond the 64-bit range, and whole numbers that a double cannot hold
  exactly next to decimals: export as CSV, or cast the column to text.
* XLSX refuses infinities, integers of more than 15 significant digits (Excel keeps 15),
  text longer than 32,767 characters, text holding a control character other than tab and
  line feed (XML cannot store them; a carriage return would come back as a line feed),
  nested objects, and more than 16,384 columns. A date-time that Excel cannot hold exactly --
  one with a time zone, a fraction of a millisecond, or before 1900 -- is written as ISO 8601
  text with its offset (``2024-03-01T10:00:00+01:00``), for the whole column. Floats keep
  all 17 significant digits (openpyxl alone writes 16, which rounds some doubles).
* JSON refuses infinities (JSON has none; they would become ``null``). Floats keep every
  digit, integers of any size stay integers. Date-time columns keep every digit they have
  (milliseconds, micro- or nanoseconds), time-zone-aware ones as the same instant in UTC
  (``...Z``); a date-time among other kinds of values is written with its own offset.

Messages name columns, counts and kinds of values, never a value.

Spreadsheet formula injection
-----------------------------
A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula when a CSV file is opened in a spreadsheet (OWASP "CSV injection"). By default the
CSV export prefixes such text cells, and such column names in the header row, with a single
quote ``'``, which spreadsheets show as text; numeric columns are never touched (a negative
number is a number). Any field holding a carriage return or a line feed is quoted and rows
end in CRLF (RFC 4180), so a line break inside a cell never starts a new row. Pass
``neutralize_formulas_in_csv=False`` to write the text unchanged, for tools that read CSV as data.
XLSX cells are always written with the string type, so no text is ever stored as a formula.

>>> import pandas as pd
>>> f = export_table(pd.DataFrame({"a": ["=1+1", "ok"], "n": [-1, 2]}), "csv")
>>> f.data.decode().splitlines()
['a,n', "'=1+1,-1", 'ok,2']
>>> f.neutralized_cells
1
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
import time
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.masking import check_column_names

FORMATS = ("csv", "parquet", "xlsx", "json")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MIME = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "zip": "application/zip",
    "encrypted": "application/octet-stream",
}
#: Excel's sheet size.
XLSX_MAX_ROWS = 1_048_575
#: Excel's sheet width.
XLSX_MAX_COLUMNS = 16_384
#: The most characters an Excel cell holds.
XLSX_MAX_CELL_CHARS = 32_767
#: Excel keeps 15 significant digits of a number: integers from here on are refused.
XLSX_MAX_EXACT_INTEGER = 10**15
#: Characters an XLSX sheet cannot store unchanged: the C0 controls but tab and line feed
#: (a carriage return would be read back as a line feed).
_XLSX_BAD_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f]")
#: Characters that make a name more than a plain file name.
_NAME_BAD_CHARS = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_NAME_MAX_BYTES = 200
_WRITER_ERRORS = (pa.ArrowException, OverflowError, TypeError, ValueError, KeyError)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportFile:
    """Bytes ready for download, with their name and type.

    Attributes
    ----------
    neutralized_cells : int
        Text cells prefixed with ``'`` against formula injection (CSV only).
    """

    data: bytes
    filename: str
    mime: str
    neutralized_cells: int = 0


def neutralize_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Returns the new frame and the number of cells changed. Numeric, boolean and date columns
    are left as they are. (Column names are handled by :func:`export_table`.)
    """
    out = frame.copy()
    changed = 0
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if not (
            pd.api.types.is_object_dtype(s.dtype)
            or pd.api.types.is_string_dtype(s.dtype)
            or isinstance(s.dtype, pd.CategoricalDtype)
        ):
            continue
        text = s.astype("string")
        hit = text.str.startswith(FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
        if hit.any() and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            # a number among text (-5) is a number, not a formula
            hit &= np.fromiter((isinstance(v, str) for v in s.tolist()), bool, len(s))
        if hit.any():
            n = int(hit.sum())
            changed += n
            values = np.array(text.astype(object).to_numpy(), dtype=object)
            values[hit] = np.char.add("'", values[hit].astype(str)).astype(object)
            out.isetitem(j, pd.Series(values, index=s.index, dtype=object).where(s.notna(), None))
    return out, changed


def _neutralized_names(columns: pd.Index) -> tuple[list[str], int]:
    names = [str(c) for c in columns]
    hit = [n.startswith(FORMULA_PREFIXES) for n in names]
    return ["'" + n if h else n for n, h in zip(names, hit, strict=True)], sum(hit)


def check_name(name: str) -> str:
    """``name`` if it is a plain file name (no folder, no drive, no control character).

    The name of an export becomes the download's file name and, in a bundle, the name of the
    table's entry in the zip; a name such as ``../../evil`` would write outside the folder the
    zip is unpacked in.

    Raises
    ------
    InvalidParameterError
        Anything else, e.g. ``'../x'``, ``'a\\b'``, ``'C:x'``, ``'..'`` or an empty name.

    Examples
    --------
    >>> check_name("hardened-2024.v2")
    'hardened-2024.v2'
    """
    ok = (
        isinstance(name, str)
        and name.strip() == name
        and name not in ("", ".", "..")
        and not _NAME_BAD_CHARS.search(name)
        and len(name.encode("utf-8")) <= _NAME_MAX_BYTES
    )
    if not ok:
        shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
        raise InvalidParameterError(
            f"the export name must be a plain file name of at most {_NAME_MAX_BYTES} bytes, "
            "without folders, drive letters, control characters, leading or trailing spaces "
            f"or any of / \\ : * ? \" < > |; got {shown}. Use e.g. 'hardened'."
        )
    return name


def _check_format(fmt: object) -> str:
    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"format must be one of {', '.join(FORMATS)}; got {fmt!r}. Pick one of those."
        )
    return str(fmt)


def check_exportable(frame: pd.DataFrame, fmt: str) -> None:
    """Refuse, before any work, a table that ``fmt`` cannot hold unchanged.

    Runs the checks :func:`export_table` runs (see the module's "Faithful or refused"), so a
    page can show the problem before the user asks for the file.

    Raises
    ------
    ColumnError
        Duplicate or non-text column names, or a column the format cannot hold; the message
        names the column and the reason and offers another format or a cast to text.
    InvalidParameterError
        An unknown format, or a table over a format's size limits.

    Examples
    --------
    >>> check_exportable(pd.DataFrame({"m": [1, "x"]}), "csv")  # CSV holds anything
    >>> try:
    ...     check_exportable(pd.DataFrame({"m": [1, "x"]}), "parquet")
    ... except ColumnError as exc:
    ...     print(str(exc)[:67])
    Parquet cannot store column 'm' unchanged: it mixes number and text
    """
    _check_format(fmt)
    check_column_names(frame)
    if fmt == "parquet":
        _parquet_table(frame)
    elif fmt == "xlsx":
        _xlsx_columns(frame)
    elif fmt == "json":
        _check_json(frame)


def export_table(
    frame: pd.DataFrame,
    fmt: str,
    *,
    name: str = "privlens-export",
    neutralize_formulas_in_csv: bool = True,
) -> ExportFile:
    """Serialize ``frame`` in ``fmt`` (one of :data:`FORMATS`), faithfully or not at all.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; column names must be unique text.
    fmt : str
        One of :data:`FORMATS`.
    name : str
        Plain file name without extension (see :func:`check_name`).
    neutralize_formulas_in_csv : bool
        Prefix CSV cells and column names that start a formula with ``'``.

    Returns
    -------
    ExportFile

    Raises
    ------
    ColumnError
        Duplicate or non-text column names, or a column the format cannot hold unchanged
        (see the module's "Faithful or refused").
    InvalidParameterError
        An unknown format, a name that is not a plain file name, or an XLSX export over
        Excel's row or column limit.
    """
    _check_format(fmt)
    check_name(name)
    check_column_names(frame)
    neutralized = 0
    buf = io.BytesIO()
    if fmt == "csv":
        data, header = frame, [str(c) for c in frame.columns]
        if neutralize_formulas_in_csv:
            data, neutralized = neutralize_formulas(frame)
            header, in_names = _neutralized_names(frame.columns)
            neutralized += in_names
        _guarded(fmt, lambda: data.to_csv(buf, index=False, header=header, lineterminator="\r\n"))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        table = _parquet_table(frame)
        _guarded(fmt, lambda: pq.write_table(table, buf))
    elif fmt == "xlsx":
        columns = _xlsx_columns(frame)
        _guarded(fmt, lambda: _write_xlsx(frame.columns, columns, buf))
    else:
        buf.write(json_records(frame).encode("utf-8"))
    return ExportFile(
        data=buf.getvalue(),
        filename=f"{name}.{fmt}",
        mime=_MIME[fmt],
        neutralized_cells=neutralized,
    )


def _guarded(fmt: str, write: Any) -> Any:
    """Run a writer; an error it raises (whose text may hold a value) becomes a clean one.

    The checks above catch every case we know of; this is the net under them. The new error
    is raised outside the ``except`` block, so it carries no link to the writer's error.
    """
    failed = ""
    try:
        return write()
    except PrivLensError:
        raise
    except _WRITER_ERRORS as exc:
        failed = type(exc).__name__
    raise InvalidParameterError(
        f"The table could not be written as {fmt.upper()} ({failed} in the writer; the value is "
        "not shown). Export as CSV, or cast the columns with mixed or unusual values to text."
    )


def _kinds(s: pd.Series) -> str:
    """The Python types of a column's present values, e.g. 'int and str'."""
    names = sorted({type(v).__name__ for v in s.dropna().tolist()})
    return " and ".join(names[:4]) + (" and others" if len(names) > 4 else "")


# --- Parquet ------------------------------------------------------------------------------


def _parquet_table(frame: pd.DataFrame) -> pa.Table:
    """The Arrow table Parquet stores, or a ColumnError naming the first column it refuses."""
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if pd.api.types.is_object_dtype(s.dtype) and pd.api.types.infer_dtype(
            s, skipna=True
        ) not in ("string", "empty", "integer", "floating", "boolean", "bytes", "decimal"):
            _check_parquet_object(s)
    failed = False
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except _WRITER_ERRORS:
        failed = True
    for j in range(frame.shape[1]):
        failed = False
        try:
            pa.Table.from_pandas(frame.iloc[:, [j]], preserve_index=False)
        except _WRITER_ERRORS:
            failed = True
        if failed:
            raise ColumnError(_parquet_reason(frame.iloc[:, j]))
    raise InvalidParameterError(
        "The table could not be converted for Parquet, though each column alone can be. "
        "Export as CSV instead."
    )


def _family(v: object) -> str:
    """The kind of a value, as far as one Parquet column can hold several (int with float)."""
    if isinstance(v, bool | np.bool_):
        return "boolean"
    if isinstance(v, int | float | np.integer | np.floating):
        return "number"
    if isinstance(v, str):
        return "text"
    if isinstance(v, dt.datetime):
        return "zoned date-time" if v.tzinfo is not None else "date-time"
    if isinstance(v, dt.date):
        return "date"
    return type(v).__name__


def _check_parquet_object(s: pd.Series) -> None:
    """Refuse an object column whose kinds Arrow would silently convert into one.

    Arrow takes the type of the first value and converts the rest to it when it can: an
    integer after a date-time becomes a time after 1970, a naive date-time next to a zoned
    one loses the distinction.
    """
    kinds = sorted({_family(v) for v in s.tolist() if not _is_missing(v)})
    if len(kinds) > 1:
        raise ColumnError(
            f"Parquet cannot store column '{s.name}' unchanged: it mixes "
            f"{' and '.join(kinds[:4])} values, and a Parquet column holds one kind. Export "
            "as CSV, or cast the column to text (Data page, column kind) and export again."
        )


def _is_missing(v: object) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def _parquet_reason(s: pd.Series) -> str:
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind == "integer":
        why = "it holds integers beyond the 64-bit range a Parquet column stores"
    elif kind == "mixed-integer-float":
        why = (
            "it holds whole numbers too large for a double to store exactly next to decimal numbers"
        )
    else:
        why = f"it mixes {_kinds(s)} values, and a Parquet column holds one kind"
    return (
        f"Parquet cannot store column '{s.name}' unchanged: {why}. Export as CSV, or cast "
        "the column to text (Data page, column kind) and export again."
    )


# --- XLSX ---------------------------------------------------------------------------------


def _xlsx_refusal(name: object, count: int, why: str, fix: str) -> ColumnError:
    return ColumnError(
        f"XLSX cannot hold column '{name}' unchanged: {count:,} cell(s) {why}. Export as CSV "
        f"(or Parquet or JSON), or {fix}."
    )


_TO_TEXT = "cast the column to text first"


def _xlsx_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Each column as the Python values a sheet stores, checked (see the module docstring)."""
    if len(frame) > XLSX_MAX_ROWS or frame.shape[1] > XLSX_MAX_COLUMNS:
        raise InvalidParameterError(
            f"Excel sheets hold at most {XLSX_MAX_ROWS:,} data rows and {XLSX_MAX_COLUMNS:,} "
            f"columns; this table has {len(frame):,} rows and {frame.shape[1]:,} columns. "
            "Export as CSV or Parquet instead."
        )
    for i, name in enumerate(frame.columns, start=1):
        if _XLSX_BAD_CHARS.search(str(name)) or len(str(name)) > XLSX_MAX_CELL_CHARS:
            raise ColumnError(
                f"XLSX cannot hold the name of column {i} unchanged: it holds a control "
                f"character or more than {XLSX_MAX_CELL_CHARS:,} characters. Rename the column, "
                "or export as CSV, Parquet or JSON."
            )
    return [_xlsx_column(frame.iloc[:, j]) for j in range(frame.shape[1])]


def _xlsx_column(s: pd.Series) -> list[Any]:
    present = s.notna().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return _xlsx_datetimes(s, present)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.is_integer_dtype(s.dtype):
        v = s.to_numpy(dtype=getattr(s.dtype, "numpy_dtype", s.dtype), na_value=0)
        big = v >= XLSX_MAX_EXACT_INTEGER
        if v.dtype.kind == "i":
            big |= v <= -XLSX_MAX_EXACT_INTEGER
        if big.any():
            raise _xlsx_refusal(s.name, int(big.sum()), _DIGITS, _TO_TEXT)
        return [x if p else None for x, p in zip(v.tolist(), present, strict=True)]
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(v)
        if inf.any():
            raise _xlsx_refusal(s.name, int(inf.sum()), _INFINITE, "replace the infinities")
        return [_xlsx_float(x) if p else None for x, p in zip(v.tolist(), present, strict=True)]
    if isinstance(s.dtype, pd.CategoricalDtype):  # check each category once, not each cell
        labels, bad, problem = _xlsx_convert(list(s.cat.categories))
        codes = s.cat.codes.to_numpy()
        if problem is not None:
            cells = int(np.isin(codes, np.flatnonzero(bad)).sum())
            raise _xlsx_refusal(s.name, cells, *problem)
        return [labels[c] if c >= 0 else None for c in codes.tolist()]
    values = s.astype(object).where(s.notna(), None).tolist()
    if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        text = s.astype("string")
        bad = text.str.contains(_XLSX_BAD_CHARS.pattern, regex=True).fillna(False)
        if bad.any():
            raise _xlsx_refusal(s.name, int(bad.sum()), _CONTROL, _CONTROL_FIX)
        long = text.str.len().fillna(0) > XLSX_MAX_CELL_CHARS
        if long.any():
            raise _xlsx_refusal(s.name, int(long.sum()), _LONG, "shorten the text")
        return values
    return _xlsx_mixed(s.name, values)


_DIGITS = (
    f"are integers of more than 15 significant digits (from {XLSX_MAX_EXACT_INTEGER:.0e} on), "
    "which Excel rounds"
)
_INFINITE = "are infinite (inf or -inf), and a sheet has no infinity"
_CONTROL = (
    "hold a control character (U+0000 to U+001F other than tab and line feed; a carriage "
    "return would come back as a line feed)"
)
_CONTROL_FIX = "remove those characters with a mask step"
_LONG = f"hold more than {XLSX_MAX_CELL_CHARS:,} characters, the most an Excel cell holds"


class _ExactNumber(str):
    """The shortest round-trip text of a float, written as a number cell as it is."""


def _xlsx_float(x: float) -> float | _ExactNumber:
    """openpyxl writes numbers with 16 significant digits ("%.16g"), which loses the last
    bit of some doubles; those are written with the 17 digits Python's repr gives."""
    return x if float(f"{x:.16g}") == x else _ExactNumber(repr(x))


def _xlsx_datetimes(s: pd.Series, present: np.ndarray) -> list[Any]:
    """Date cells, or ISO 8601 text when a value has a zone, sub-milliseconds or is pre-1900."""
    d = s[present]
    exact = (
        getattr(s.dtype, "tz", None) is None
        and not ((d.dt.microsecond % 1000 != 0) | (d.dt.nanosecond != 0)).any()
        and not (d.dt.year < 1900).any()
    )
    if exact:
        return [v.to_pydatetime() if p else None for v, p in zip(s, present, strict=True)]
    return [v.isoformat() if p else None for v, p in zip(s, present, strict=True)]


def _xlsx_mixed(name: object, values: list[Any]) -> list[Any]:
    """Check and convert the values of an object column one by one."""
    out, bad, problem = _xlsx_convert(values)
    if problem is not None:
        raise _xlsx_refusal(name, sum(bad), *problem)
    return out


def _xlsx_convert(
    values: list[Any],
) -> tuple[list[Any], list[bool], tuple[str, str] | None]:
    """Values as a sheet stores them, why the first refused one is refused, and which share
    that reason."""
    out: list[Any] = []
    bad: list[bool] = []
    first: tuple[str, str] | None = None
    for v in values:
        problem: tuple[str, str] | None = None
        if v is None or v is pd.NA or v is pd.NaT:
            v = None
        elif isinstance(v, str):
            if _XLSX_BAD_CHARS.search(v):
                problem = (_CONTROL, _CONTROL_FIX)
            elif len(v) > XLSX_MAX_CELL_CHARS:
                problem = (_LONG, "shorten the text")
        elif isinstance(v, bool | np.bool_):
            v = bool(v)
        elif isinstance(v, int | np.integer):
            v = int(v)
            if abs(v) >= XLSX_MAX_EXACT_INTEGER:
                problem = (_DIGITS, _TO_TEXT)
        elif isinstance(v, float | np.floating):
            v = float(v)
            if np.isnan(v):
                v = None
            elif np.isinf(v):
                problem = (_INFINITE, "replace the infinities")
            else:
                v = _xlsx_float(v)
        elif isinstance(v, dt.datetime):
            ts = pd.Timestamp(v)
            if ts.tzinfo is not None or ts.nanosecond or ts.microsecond % 1000 or ts.year < 1900:
                v = ts.isoformat()
            else:
                v = ts.to_pydatetime()
        elif isinstance(v, dt.date):
            v = v.isoformat() if v.year < 1900 else v
        elif isinstance(v, dt.time):
            v = v.isoformat() if v.tzinfo is not None else v
        elif not isinstance(v, decimal.Decimal):
            what = f"hold values of type {type(v).__name__}, which a sheet cannot store"
            problem = (what, _TO_TEXT)
        if problem is not None and first is None:
            first = problem
        bad.append(problem is not None and problem == first)  # counted under one reason
        out.append(v)
    return out, bad, first


def _write_xlsx(names: pd.Index, columns: list[list[Any]], buf: io.BytesIO) -> None:
    """Write checked columns with every text cell typed as a string (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    header = []
    for col in names:
        cell = WriteOnlyCell(sheet, value=str(col))
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)
    for row in zip(*columns, strict=True):
        cells = []
        for value in row:
            if isinstance(value, _ExactNumber):
                cell = WriteOnlyCell(sheet, value=str(value))
                cell.data_type = "n"  # the digits go into the sheet unchanged
                cells.append(cell)
            elif isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # never "f" (formula), whatever the text starts with
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    book.save(buf)


# --- JSON ---------------------------------------------------------------------------------


def json_records(frame: pd.DataFrame, *, lines: bool = False) -> str:
    """The table as a JSON array of records (or JSON Lines), faithfully or not at all.

    Floats keep every digit (Python's shortest round-trip form; pandas' ``to_json`` keeps
    at most 15), integers of any size stay integers, and date-times are ISO 8601 text with
    as many fraction digits as the finest value needs (milli-, micro- or nanoseconds);
    time-zone-aware ones are the same instant in UTC.

    Raises
    ------
    ColumnError
        Duplicate or non-text column names, or infinities (JSON has none).

    Examples
    --------
    >>> json_records(pd.DataFrame({"a": [0.1234567890123456, None]}), lines=True)
    '{"a":0.1234567890123456}\\n{"a":null}\\n'
    """
    check_column_names(frame)
    unit = _check_json(frame)
    names = [str(c) for c in frame.columns]
    columns = [_json_values(frame.iloc[:, j], unit) for j in range(frame.shape[1])]
    rows = (dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True))
    dump = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
    if lines:
        return "".join(dump(r) + "\n" for r in rows)
    return str(dump(list(rows)))  # one call into the C encoder


def _json_values(s: pd.Series, unit: str) -> list[Any]:
    """A column as JSON-ready Python values: floats keep every digit (``repr``), integers
    of any size stay integers, date-times are ISO 8601 text written by pandas."""
    present = s.notna().to_numpy()
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype="float64", na_value=np.nan).tolist()
        return [x if p else None for x, p in zip(v, present, strict=True)]
    if pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        if isinstance(s.dtype, pd.CategoricalDtype):
            return _json_by_pandas(s, unit)
        return [x if p else None for x, p in zip(s.astype(object).tolist(), present, strict=True)]
    if isinstance(s.dtype, pd.CategoricalDtype):
        labels = _json_values(pd.Series(s.cat.categories), unit)
        return [labels[c] if c >= 0 else None for c in s.cat.codes.tolist()]
    if pd.api.types.is_object_dtype(s.dtype) or pd.api.types.is_string_dtype(s.dtype):
        if pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            return s.astype(object).where(s.notna(), None).tolist()
        out: list[Any] = []
        other = False
        for v in s.astype(object).tolist():
            if _is_missing(v):
                out.append(None)
            elif isinstance(v, str | bool | int | float):  # bool and int before numpy's
                out.append(v)
            elif isinstance(v, np.bool_ | np.integer | np.floating):
                out.append(v.item())
            elif isinstance(v, dt.datetime | dt.date | dt.time):
                out.append(v.isoformat())  # every digit, and the offset of a zoned one
            else:
                other = True
                out.append(v)
        if other:  # anything else, as pandas writes it
            by_pandas = _json_by_pandas(s, unit)
            plain = (str, bool, int, float, type(None))
            out = [v if isinstance(v, plain) else b for v, b in zip(out, by_pandas, strict=True)]
        return out
    return _json_by_pandas(s, unit)


def _json_by_pandas(s: pd.Series, unit: str) -> list[Any]:
    text = _guarded(
        "json",
        lambda: s.to_json(orient="values", date_format="iso", date_unit=unit, force_ascii=False),
    )
    return list(json.loads(str(text)))


def _check_json(frame: pd.DataFrame) -> str:
    """Refuse infinities; the finest time unit any date-time column needs ('ms'/'us'/'ns')."""
    unit = "ms"
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if pd.api.types.is_float_dtype(s.dtype):
            inf = int(np.isinf(s.to_numpy(dtype="float64", na_value=np.nan)).sum())
        elif pd.api.types.is_object_dtype(s.dtype) and pd.api.types.infer_dtype(
            s, skipna=True
        ) not in ("string", "empty", "integer", "boolean"):
            inf = sum(isinstance(v, float | np.floating) and np.isinf(v) for v in s.tolist())
        else:
            inf = 0
        if inf:
            raise ColumnError(
                f"JSON cannot hold column '{s.name}' unchanged: {inf:,} cell(s) are infinite "
                "(inf or -inf), and JSON has no infinity (they would become null). Export as "
                "CSV or Parquet, or replace the infinities."
            )
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            d = s.dropna()
            if (d.dt.nanosecond != 0).any():
                unit = "ns"
            elif unit == "ms" and (d.dt.microsecond % 1000 != 0).any():
                unit = "us"
    return unit


def export_bundle(
    frame: pd.DataFrame,
    fmt: str,
    *,
    name: str = "privlens-export",
    recipe_json: str | None = None,
    report_html: str | None = None,
    report_json: str | None = None,
    neutralize_formulas_in_csv: bool = True,
) -> ExportFile:
    """A zip of the table, the recipe that produced it and the privacy report.

    The recipe never holds secrets (keys are kept out of recipes by construction), so the
    bundle can travel with the data.
    """
    table = export_table(
        frame, fmt, name=name, neutralize_formulas_in_csv=neutralize_formulas_in_csv
    )
    buf = io.BytesIO()
    stamp = dt.datetime.now(dt.UTC).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        entries = [(table.filename, table.data)]
        if recipe_json is not None:
            entries.append(("recipe.json", recipe_json.encode("utf-8")))
        if report_json is not None:
            entries.append(("report.json", report_json.encode("utf-8")))
        if report_html is not None:
            entries.append(("report.html", report_html.encode("utf-8")))
        manifest = {
            "created_by": "PrivLens",
            "files": [e[0] for e in entries],
            "rows": int(len(frame)),
            "columns": [str(c) for c in frame.columns],
        }
        entries.append(("manifest.json", json.dumps(manifest, indent=2).encode("utf-8")))
        for filename, data in entries:
            info = zipfile.ZipInfo(filename, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return ExportFile(
        data=buf.getvalue(),
        filename=f"{name}.zip",
        mime=_MIME["zip"],
        neutralized_cells=table.neutralized_cells,
    )


def encrypt_export(
    file: ExportFile,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    work_factor: int | None = None,
) -> ExportFile:
    """Encrypt an export with a passphrase or a key (PrivLens format), or as an age file.

    The encrypted file is named after the plaintext with ``.plenc`` (or ``.age``) appended,
    so decryption restores the original name.
    """
    from core import crypto

    kwargs = {} if work_factor is None else {"work_factor": work_factor}
    if age:
        if passphrase is None:
            raise InvalidParameterError(
                "An age file needs a passphrase; got none. Enter a passphrase, or choose the "
                "PrivLens format to encrypt with a generated key."
            )
        out = io.BytesIO()
        crypto.age_encrypt(file.data, out, passphrase=passphrase, **kwargs)
        return ExportFile(
            data=out.getvalue(), filename=file.filename + ".age", mime=_MIME["encrypted"]
        )
    blob = crypto.encrypt_bytes(file.data, passphrase=passphrase, key=key, **kwargs)
    return ExportFile(
        data=blob,
        filename=file.filename + ".plenc",
        mime=_MIME["encrypted"],
        neutralized_cells=file.neutralized_cells,
    )


def build_download(
    frame: pd.DataFrame,
    fmt: str,
    *,
    bundle: bool = False,
    neutralize_formulas_in_csv: bool = True,
    recipe_json: str | None = None,
    report: Any | None = None,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    name: str = "privlens-export",
) -> ExportFile:
    """The whole export in one call: table or bundle, then encryption if a secret is given.

    ``report`` is a :class:`core.report.PrivacyReport` (its HTML and JSON go in the bundle).
    With neither ``passphrase`` nor ``key`` the file is not encrypted.
    """
    if bundle:
        f = export_bundle(
            frame,
            fmt,
            name=name,
            recipe_json=recipe_json,
            report_html=report.to_html() if report is not None else None,
            report_json=report.to_json() if report is not None else None,
            neutralize_formulas_in_csv=neutralize_formulas_in_csv,
        )
    else:
        f = export_table(
            frame, fmt, name=name, neutralize_formulas_in_csv=neutralize_formulas_in_csv
        )
    if passphrase is None and key is None:
        return f
    return encrypt_export(f, passphrase=passphrase, key=key, age=age)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildEstimate:
    """Expected size and build time of a download, measured on a sample of its rows.

    Attributes
    ----------
    rows : int
        Rows of the table.
    file_bytes : int
        Estimated size of the table file itself (``.csv``, ``.parquet``, ...), unzipped.
    bundle_bytes : int or None
        Estimated size of the zip bundle (the table deflated, plus the recipe, the report and
        the manifest given), or None when no bundle is asked for.
    bytes : int
        Estimated size of the download: the bundle or the file, encrypted if asked
        (encryption adds 16 bytes per MiB and a 162-byte header).
    seconds : float
        Estimated build time on this machine, zipping, encryption and scrypt included.
    sample_rows, sample_seconds
        Rows actually serialized and how long that took (what the estimate scales up).
        When ``sample_rows == rows`` the sizes are exact, not scaled.
    """

    rows: int
    file_bytes: int
    bundle_bytes: int | None
    bytes: int
    seconds: float
    sample_rows: int
    sample_seconds: float
    warnings: tuple[str, ...] = ()

    def describe(self, fmt: str) -> str:
        """What the user will get, each size under its own name, e.g. for a CSV bundle.

        >>> BuildEstimate(rows=300_000, file_bytes=32_676_633, bundle_bytes=3_867_572,
        ...               bytes=3_867_572, seconds=8.4, sample_rows=20_000,
        ...               sample_seconds=0.5).describe("csv")  # doctest: +NORMALIZE_WHITESPACE
        'The CSV file will be about 32.7 MB; the zip bundle that holds it (with the recipe and
        the report) about 3.9 MB. Building takes about 8 s after you click (measured on
        20,000 of the 300,000 rows).'
        """
        text = f"The {fmt.upper()} file will be about {_megabytes(self.file_bytes)}"
        if self.bundle_bytes is not None:
            text += (
                "; the zip bundle that holds it (with the recipe and the report) about "
                f"{_megabytes(self.bundle_bytes)}"
            )
        if self.bytes != (self.bundle_bytes or self.file_bytes):
            text += f"; encrypted, the download is about {_megabytes(self.bytes)}"
        measured = (
            "measured on the whole table"
            if self.sample_rows >= self.rows
            else f"measured on {self.sample_rows:,} of the {self.rows:,} rows"
        )
        return (
            f"{text}. Building takes about {max(self.seconds, 1):,.0f} s after you click "
            f"({measured})."
        )


def _megabytes(n: int) -> str:
    """``32_676_633`` -> ``'32.7 MB'`` (decimal megabytes, as file managers show them)."""
    mb = n / 1e6
    return f"{mb:,.1f} MB" if mb < 100 else f"{mb:,.0f} MB"


def _deflated(data: bytes) -> tuple[int, float]:
    """Bytes ``data`` takes in a zip (deflate, default level, as :mod:`zipfile`) and the time."""
    start = time.perf_counter()
    z = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    size = len(z.compress(data)) + len(z.flush())
    return size, time.perf_counter() - start


def estimate_build(
    frame: pd.DataFrame,
    fmt: str,
    *,
    bundle: bool = False,
    encrypted: bool = False,
    passphrase: bool = False,
    work_factor: int | None = None,
    sample_rows: int | None = None,
    recipe_json: str | None = None,
    report_html: str | None = None,
    report_json: str | None = None,
) -> BuildEstimate:
    """Estimate the size and build time of :func:`build_download` before running it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export.
    fmt : str
        One of :data:`FORMATS`.
    bundle : bool
        Zip it with the recipe and report given below (as :func:`export_bundle`).
    encrypted, passphrase : bool
        Count AES-256-GCM over the output, and one scrypt derivation.
    work_factor : int, optional
        scrypt log2 N (default ``SCRYPT_WORK_FACTOR_DEFAULT``).
    sample_rows : int, optional
        Rows to serialize, evenly spaced (default ``EXPORT_ESTIMATE_PARQUET_SAMPLE_ROWS``
        for Parquet, ``EXPORT_ESTIMATE_SAMPLE_ROWS`` for the others).
    recipe_json, report_html, report_json : str, optional
        What the bundle will hold besides the table; their size counts exactly.

    Returns
    -------
    BuildEstimate

    Raises
    ------
    InvalidParameterError
        An unknown format, or ``sample_rows`` below 1.

    Notes
    -----
    The file's size is linear in the rows for the text formats: ``bytes = s_b * n / m``
    where a sample of ``m`` rows serialized to ``s_b`` bytes. Parquet is not: its
    dictionaries and run lengths store a larger table in fewer bytes per row, so a small
    sample overestimates it (1.45 times from 20,000 of 300,000 rows of the Adult sample
    repeated). Parquet is written about fifteen times faster than CSV, so its sample is
    larger: up to ``EXPORT_ESTIMATE_PARQUET_SAMPLE_ROWS`` rows the whole table is written
    and the size is exact.

    The zip bundle deflates the table file: its share in the bundle is the file's estimate
    times the deflate ratio measured on the sample's bytes (``zipfile``'s own compressor),
    plus the other entries (recipe, report, manifest) deflated exactly, once.

    The time is linear in the rows: the sample's serialization time (the better of two,
    when the sample is not the whole table) and its deflate time scaled by ``n / m``.
    Encryption is timed on the sample's bytes and scaled the same way; scrypt is timed at
    log2 N = 10 and scaled by ``2 ** (work_factor - 10)`` (its cost is linear in N). The
    time is measured on this machine at the time of the call, so it follows the machine's
    load; ``benchmarks/export_bench.py`` compares it with full builds.

    Examples
    --------
    >>> e = estimate_build(pd.DataFrame({"a": ["xy"] * 1000}), "csv", sample_rows=100)
    >>> (e.rows, e.sample_rows, e.file_bytes)  # the real file has 4,003 bytes (header + 1000 x 4)
    (1000, 100, 4030)
    """
    from core import crypto
    from core.limits import (
        EXPORT_ESTIMATE_PARQUET_SAMPLE_ROWS,
        EXPORT_ESTIMATE_SAMPLE_ROWS,
        SCRYPT_WORK_FACTOR_DEFAULT,
    )

    _check_format(fmt)
    if sample_rows is not None:
        m = sample_rows
    elif fmt == "parquet":
        m = EXPORT_ESTIMATE_PARQUET_SAMPLE_ROWS
    else:
        m = EXPORT_ESTIMATE_SAMPLE_ROWS
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise InvalidParameterError(f"sample_rows must be a positive integer; got {m!r}.")
    n = len(frame)
    m = min(m, n) or 1
    step = max(1, n // m)
    sample = frame.iloc[::step].iloc[:m] if n else frame
    whole = len(sample) == n
    spent = float("inf")
    for _ in range(1 if whole else 2):  # best of two: a single timing on a shared machine is noisy
        start = time.perf_counter()
        data = export_table(sample, fmt).data
        spent = min(spent, time.perf_counter() - start)
    scale = n / max(len(sample), 1)
    file_bytes = int(round(len(data) * scale)) if n else len(data)
    size, seconds = file_bytes, spent * scale
    bundle_bytes: int | None = None
    if bundle:
        deflated, zip_seconds = _deflated(data)
        start = time.perf_counter()
        empty = frame.iloc[:0]
        rest = export_bundle(
            empty, fmt, recipe_json=recipe_json, report_html=report_html, report_json=report_json
        ).data
        rest_seconds = time.perf_counter() - start
        rest_bytes = len(rest) - _deflated(export_table(empty, fmt).data)[0]
        bundle_bytes = rest_bytes + (int(round(deflated * scale)) if n else deflated)
        size = bundle_bytes
        seconds += zip_seconds * scale + rest_seconds
    if encrypted:
        start = time.perf_counter()
        crypto.encrypt_bytes(data, key=bytes(32))
        seconds += (time.perf_counter() - start) * scale * (size / max(file_bytes, 1))
        size += crypto.HEADER_BYTES + crypto.TAG_BYTES * (size // 2**20 + 1)
    if passphrase:
        from Crypto.Protocol.KDF import scrypt

        w = SCRYPT_WORK_FACTOR_DEFAULT if work_factor is None else work_factor
        start = time.perf_counter()
        scrypt(b"estimate", b"estimate-salt", 32, 1 << 10, 8, 1)
        seconds += (time.perf_counter() - start) * 2 ** (w - 10)
    return BuildEstimate(
        rows=n,
        file_bytes=file_bytes,
        bundle_bytes=bundle_bytes,
        bytes=size,
        seconds=seconds,
        sample_rows=len(sample),
        sample_seconds=spent,
    )


# --- what is exported: the recipe in one line ---------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeSummary:
    """What the recipe being exported does, in numbers (for the Export page's headline).

    Attributes
    ----------
    steps : int
        Steps of the recipe after the kind changes.
    kind_changes : int
        Kind changes made on the Data page (already in the loaded table).
    k : tuple of int
        The distinct ``k`` of its suppression and microaggregation steps, ascending.
    cells_suppressed, cells_changed : int
        Cells present before and missing after; cells whose value changed.
    share_suppressed, share_changed : float
        Those counts over the cells of the table (rows times columns), in [0, 1].
    records_removed, columns_dropped : int
    noise_epsilon : float
        Sum of the ε of its noisy steps (PRAM, per-record noise), charged to the budget.
    changes_table : bool
        Whether any step changed, suppressed, dropped or removed anything.
    """

    steps: int
    kind_changes: int
    k: tuple[int, ...]
    cells_suppressed: int
    cells_changed: int
    share_suppressed: float
    share_changed: float
    records_removed: int
    columns_dropped: int
    noise_epsilon: float
    changes_table: bool

    def text(self) -> str:
        """One line, e.g. ``"3 steps, k = 5, 2.1 % of cells suppressed"``."""
        parts = [f"{self.steps:,} step{'s' if self.steps != 1 else ''}"]
        if self.k:
            parts.append("k = " + ", ".join(str(k) for k in self.k))
        if self.cells_suppressed:
            parts.append(f"{_percent(self.share_suppressed)} of cells suppressed")
        if self.cells_changed:
            parts.append(f"{_percent(self.share_changed)} of cells changed")
        if self.records_removed:
            parts.append(f"{self.records_removed:,} records removed")
        if self.columns_dropped:
            parts.append(f"{self.columns_dropped:,} columns dropped")
        if self.noise_epsilon:
            parts.append(f"noise under ε = {self.noise_epsilon:.4g}")
        return ", ".join(parts)


def _percent(share: float) -> str:
    """``0.021`` -> ``'2.1 %'``; a share that rounds to 0 but is not 0 -> ``'< 0.1 %'``."""
    pct = 100 * share
    if 0 < pct < 0.05:
        return "< 0.1 %"
    return f"{pct:.1f} %"


def recipe_summary(recipe: Any, result: Any, *, kind_changes: int = 0) -> RecipeSummary:
    """Summarize a recipe and what it did to the table (:class:`RecipeSummary`).

    Parameters
    ----------
    recipe : core.recipe.Recipe
        The recipe as exported: ``kind_changes`` cast steps first, then the user's steps.
    result : core.recipe.HardeningResult
        The user's steps applied to the loaded table (its change log).
    kind_changes : int
        How many leading steps of ``recipe`` are the Data page's kind changes.

    Returns
    -------
    RecipeSummary

    Raises
    ------
    InvalidParameterError
        ``kind_changes`` negative or more than the recipe's steps.

    Notes
    -----
    Shares are over the cells of the loaded table, ``rows * columns`` (``result.n_cells``):
    ``share_suppressed = sum(cells_suppressed) / n_cells``. Records removed and columns
    dropped are counted apart, not as suppressed cells.

    Examples
    --------
    >>> from core.recipe import Recipe, Step, apply
    >>> t = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "y"]})
    >>> r = Recipe(steps=(Step(transform="suppress", columns=("a",), params={"k": 2}),))
    >>> recipe_summary(r, apply(t, r)).text()
    '1 step, k = 2, 25.0 % of cells suppressed'
    """
    from core.recipe import NOISY_TRANSFORMS

    if isinstance(kind_changes, bool) or not 0 <= kind_changes <= len(recipe.steps):
        raise InvalidParameterError(
            f"kind_changes must be between 0 and the recipe's {len(recipe.steps)} steps; got "
            f"{kind_changes!r}. Pass how many leading steps are kind changes."
        )
    steps = recipe.steps[kind_changes:]
    ks = sorted(
        {int(s.params["k"]) for s in steps if s.transform in ("suppress", "microaggregate")}
    )
    suppressed = sum(c.cells_suppressed for c in result.changes if not c.dropped)
    changed = sum(c.cells_changed for c in result.changes if not c.dropped)
    dropped = sum(bool(c.dropped) for c in result.changes)
    cells = max(int(result.n_cells), 1)
    removed = int(result.records_removed)
    return RecipeSummary(
        steps=len(steps),
        kind_changes=kind_changes,
        k=tuple(ks),
        cells_suppressed=suppressed,
        cells_changed=changed,
        share_suppressed=min(1.0, suppressed / cells),
        share_changed=min(1.0, changed / cells),
        records_removed=removed,
        columns_dropped=dropped,
        noise_epsilon=float(
            sum(float(s.params["epsilon"]) for s in steps if s.transform in NOISY_TRANSFORMS)
        ),
        changes_table=bool(suppressed or changed or dropped or removed),
    )


def noise_charged(events: Any, token: str) -> bool:
    """Whether the budget's audit log holds the charge of the hardened table ``token``.

    ``events`` are :class:`core.workspace.AuditEvent` (``event``, ``detail``); the Export
    page charges a noisy table's steps with ``detail={"hardening": token, ...}``, once.

    >>> from types import SimpleNamespace as E
    >>> noise_charged([E(event="spend", detail={"hardening": "t1"})], "t1")
    True
    >>> noise_charged([E(event="spend", detail={"hardening": "t1"})], "t2")
    False
    """
    return any(e.event == "spend" and e.detail.get("hardening") == token for e in events)
