"""Data intake: read a table from bytes or a path, whatever its format and encoding.

Supported formats: CSV/TSV/TXT (delimiter and encoding detected), XLSX, Parquet, JSON and
JSON Lines. Every failure is a :class:`core.errors.DataLoadError` subclass whose message says
what is wrong and what to do; no message ever contains a cell value.

The CSV fast path hands the bytes to ``pyarrow.csv`` (multi-threaded); quoted line breaks or
an unusual dialect fall back to pandas' C parser. Either way every field is read as text first
and a column becomes a number, a date or a boolean only when no value would change: a leading
zero (``02134``), an explicit plus sign, or more digits than int64 or float64 hold exactly keep
the whole column as text. ``inf`` and ``-inf`` are read as float infinities; a timestamp with
a zone offset stays text (its offset is part of the value).

Limits from :mod:`core.limits` (rows, columns, cells, characters per cell, JSON depth and keys,
worksheet cells, decoded Parquet bytes) are checked before a table is materialized, from file
metadata, a byte scan or while streaming; a file over one raises
:class:`core.errors.ResourceLimitError` naming the limit.

>>> res = load(b"age,zip\\n34,10115\\n45,10117\\n", filename="people.csv")
>>> res.frame.shape, res.delimiter, res.encoding
((2, 2), ',', 'utf-8')
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core import limits
from core.errors import (
    BinaryFileError,
    CorruptFileError,
    DataLoadError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    HeaderOnlyError,
    NoSheetsError,
    NotATableError,
    PrivLensError,
    RaggedRowsError,
    ResourceLimitError,
    UnsupportedFormatError,
)

if TYPE_CHECKING:
    import pyarrow as pa

TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
SUPPORTED_EXTENSIONS = (*TEXT_EXTENSIONS, ".xlsx", ".parquet", ".json", ".jsonl", ".ndjson")
#: Encodings tried in order, after byte-order marks.
ENCODINGS = ("utf-8", "cp1252", "latin-1")
#: Strings read as missing in text formats (pandas' defaults, without "None"-like words that
#: can be real category labels).
NA_STRINGS = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A", "-NaN", "-nan")
_DELIMITERS = (",", ";", "\t", "|")
_BLANK = b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"
_MAGIC = {
    b"PK\x03\x04": "a ZIP container (XLSX, DOCX, ...)",
    b"PAR1": "Parquet",
    b"%PDF": "PDF",
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"\x1f\x8b": "gzip",
    b"GIF8": "GIF",
    b"\xd0\xcf\x11\xe0": "an old Office file (XLS, DOC)",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadResult:
    """A loaded table and how it was read.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table, with unique, non-blank column names.
    format : str
        ``"csv"``, ``"xlsx"``, ``"parquet"``, ``"json"`` or ``"jsonl"``.
    encoding, delimiter : str or None
        For text formats, what was detected.
    sheet : str or None
        For workbooks, the sheet that was read; ``sheets`` lists them all.
    warnings : tuple of str
        Soft problems fixed on the way (renamed columns, ...), to show to the user.
    """

    frame: pd.DataFrame
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def load(
    source: bytes | str | Path,
    *,
    filename: str | None = None,
    na_values: Sequence[str] = (),
    sheet: str | None = None,
    max_bytes: int = limits.MAX_UPLOAD_BYTES,
) -> LoadResult:
    """Read a table from ``source`` (raw bytes, or a path to a file).

    Parameters
    ----------
    source : bytes, str or Path
        The file's content, or its path.
    filename : str, optional
        Name used to pick the format from its extension; defaults to the path's name.
        Required when ``source`` is bytes.
    na_values : sequence of str
        Extra strings to read as missing (e.g. ``("?",)`` for the Adult sample).
    sheet : str, optional
        Workbook sheet to read; default: the first sheet that holds data.
    max_bytes : int
        Files larger than this are refused with :class:`FileTooLargeError`.

    Returns
    -------
    LoadResult

    Raises
    ------
    DataLoadError
        One of its subclasses, with a message for the user.
    """
    path: Path | None = None
    if isinstance(source, (str, Path)):
        path = Path(source)
        filename = filename or path.name
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise DataLoadError(
                f"The file '{path.name}' could not be opened ({exc.strerror}). "
                "Check the path and permissions."
            ) from None
        if size > max_bytes:
            raise FileTooLargeError(size, max_bytes)
        with path.open("rb") as fh:
            head = fh.read(limits.SNIFF_BYTES)
    else:
        data = bytes(source)
        if len(data) > max_bytes:
            raise FileTooLargeError(len(data), max_bytes)
        head = data[: limits.SNIFF_BYTES]
    if filename is None:
        raise DataLoadError("A file name is needed to tell the format; pass filename=...")
    ext = Path(filename).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise UnsupportedFormatError(ext, SUPPORTED_EXTENSIONS)
    if not head.strip(_BLANK):
        full = path.read_bytes() if path is not None else data
        if not full.strip(_BLANK):
            raise EmptyFileError(f"'{Path(filename).name}'")
    if ext in TEXT_EXTENSIONS:
        # Text goes to the parser straight from disk when it can: no copy of a large file.
        return _finish(_load_text(path if path is not None else data, head, ext, na_values))
    if path is not None:
        data = path.read_bytes()

    if ext == ".xlsx":
        result = _load_xlsx(data, sheet, [*NA_STRINGS, *na_values])
    elif ext == ".parquet":
        result = _load_parquet(data)
    else:
        result = _load_json(data, ext)
    return _finish(result)


# --- text ----------------------------------------------------------------------------------


def detect_encoding(data: bytes) -> str:
    """Return the encoding of ``data`` among UTF-8 (with or without BOM), UTF-16, cp1252, latin-1.

    Raises :class:`EncodingError` when the bytes decode only into control characters, and
    :class:`BinaryFileError` for binary content.

    >>> detect_encoding("naïve".encode("cp1252"))
    'cp1252'
    >>> detect_encoding(b"\\xef\\xbb\\xbfa,b")
    'utf-8-sig'
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[: limits.SNIFF_BYTES]
    if b"\x00" in head:
        # UTF-16 without a BOM puts a NUL in every other byte of ASCII text.
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
        raise BinaryFileError(".csv")
    for magic in _MAGIC:
        if data.startswith(magic):
            raise BinaryFileError(".csv")
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A cut multi-byte sequence at the very end of a huge file is still UTF-8 elsewhere.
        if exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "latin-1"
    # Control characters (other than tab and line breaks) mean this is not text at all.
    controls = sum(1 for ch in text[: limits.SNIFF_BYTES] if _is_control(ch))
    if controls:
        if controls > 0.05 * min(len(text), limits.SNIFF_BYTES):
            raise BinaryFileError(".csv")
        raise EncodingError(ENCODINGS)
    return encoding


def _is_control(ch: str) -> bool:
    o = ord(ch)
    return (o < 32 and ch not in "\t\r\n") or 0x7F <= o <= 0x9F


def detect_delimiter(sample: str, *, default: str = ",") -> str:
    r"""Pick the delimiter among ``, ; TAB |`` that splits the first lines most consistently.

    >>> detect_delimiter("a;b;c\n1;2,5;3\n4;5;6\n")
    ';'
    >>> detect_delimiter("single\n1\n2\n")
    ','
    """
    lines = [ln for ln in sample.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    best, best_score = default, 0.0
    for delim in _DELIMITERS:
        try:
            rows = list(csv.reader(lines, delimiter=delim))
        except csv.Error:
            continue
        counts = [len(r) for r in rows]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = consistent * 1000 + counts[0]
        if consistent >= 0.8 and score > best_score:
            best, best_score = delim, score
    return best


def _clean_names(names: Sequence[object]) -> tuple[list[str], list[str]]:
    """Make column names unique and non-blank; return them and the warnings to show."""
    out: list[str] = []
    warnings: list[str] = []
    seen: set[str] = set()
    taken = {str(n).strip() for n in names if n is not None}  # avoid clashing with later names
    for i, raw in enumerate(names, start=1):
        name = "" if raw is None or (isinstance(raw, float) and np.isnan(raw)) else str(raw)
        name = name.strip()
        if not name or name.startswith("Unnamed: "):
            new = f"column_{i}"
            warnings.append(f"Column {i} had no name; it is now called '{new}'.")
            name = new
        if name in seen:
            k = 2
            while f"{name}_{k}" in seen or f"{name}_{k}" in taken:
                k += 1
            warnings.append(f"Column {i} repeats the name '{name}'; it is now '{name}_{k}'.")
            name = f"{name}_{k}"
        seen.add(name)
        out.append(name)
    return out, warnings


def _check_limit(value: int, name: str, what: str, unit: str) -> None:
    """Raise :class:`ResourceLimitError` when ``value`` is above ``core.limits.<name>``."""
    allowed = int(getattr(limits, name))
    if value > allowed:
        raise ResourceLimitError(what, f"{value:,} {unit}", name, allowed)


def _check_shape(rows: int, columns: int) -> None:
    _check_limit(columns, "MAX_COLUMNS", "has too many columns", "columns")
    _check_limit(rows, "MAX_ROWS", "has too many rows", "rows")
    _check_limit(rows * columns, "MAX_CELLS", "has too many cells", "cells")


# --- text ----------------------------------------------------------------------------------


def _read_prefix(source: bytes | Path, n: int) -> bytes:
    if isinstance(source, Path):
        with source.open("rb") as fh:
            return fh.read(n)
    return source[:n]


def _header_end(buf: bytes) -> int:
    """Index just past the first record's line break (quotes respected), or -1 if none yet."""
    pos = 0
    while True:
        nl = min((i for i in (buf.find(b"\n", pos), buf.find(b"\r", pos)) if i >= 0), default=-1)
        if nl < 0:
            return -1
        if buf.count(b'"', 0, nl) % 2 == 0:
            return nl + 1
        pos = nl + 1


def _head_with_header(source: bytes | Path, head: bytes, skip: int) -> bytes:
    """The start of the text: the whole header record (however long) and about 64 KiB more."""
    size = len(head)
    buf = head[skip:]
    while True:
        end = _header_end(buf)
        if end >= 0 or size > len(buf) + skip or (end < 0 and len(head) < limits.SNIFF_BYTES):
            break
        size *= 2
        buf = _read_prefix(source, size)[skip:]
        if len(buf) + skip < size:  # the whole file is in hand
            break
    end = _header_end(buf)
    if end >= 0 and len(buf) < end + limits.SNIFF_BYTES:
        buf = _read_prefix(source, skip + end + limits.SNIFF_BYTES)[skip:]
    return buf


def _load_text(source: bytes | Path, head: bytes, ext: str, na_values: Sequence[str]) -> LoadResult:
    def whole() -> bytes:
        return source.read_bytes() if isinstance(source, Path) else source

    # Small inputs are checked whole; a large file by its head, and the parser validates the
    # rest (a later non-UTF-8 byte sends it to the careful path, which checks everything).
    small = len(head) < limits.SNIFF_BYTES
    try:
        encoding = detect_encoding(whole() if small else head)
    except BinaryFileError:
        raise BinaryFileError(ext) from None
    skip = 0
    if encoding.startswith("utf-16"):
        # pyarrow reads UTF-8 only; transcode the (rare) UTF-16 files once.
        source = whole().decode(encoding).encode("utf-8")
        head = source[: limits.SNIFF_BYTES]
        parse_encoding = "utf-8"
    elif encoding == "utf-8-sig":
        skip = 3  # the header row is parsed here and skipped by the parsers
        parse_encoding = "utf-8"
    else:
        parse_encoding = encoding
    # The header is read whole, however wide; the delimiter is sniffed from it and what follows.
    sample = _head_with_header(source, head, skip).decode(parse_encoding, errors="ignore")
    delimiter = detect_delimiter(sample, default="\t" if ext == ".tsv" else ",")
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter))
    except StopIteration:
        raise EmptyFileError("the file") from None
    except csv.Error:
        raise DataLoadError(
            "The header row could not be parsed (an unclosed quote, or a name longer than "
            "131,072 characters). Fix the first line and upload the file again."
        ) from None
    _check_limit(len(header), "MAX_COLUMNS", "has too many columns", "columns")
    names, warnings = _clean_names(header)
    nulls = list(NA_STRINGS) + [str(v) for v in na_values]

    table = _parse_pyarrow(source, delimiter, parse_encoding, names, nulls)
    if table is None:
        data = whole()
        if not small:  # the head looked fine; now check every byte
            try:
                encoding = detect_encoding(data)
            except BinaryFileError:
                raise BinaryFileError(ext) from None
            parse_encoding = "utf-8" if encoding.startswith("utf-8") else encoding
        if encoding == "utf-8-sig":
            data = data[3:]
        elif encoding.startswith("utf-16"):
            parse_encoding = "utf-8"
        table = _parse_pandas(data, delimiter, parse_encoding, names, nulls)
    if table.num_rows == 0:
        raise HeaderOnlyError(len(names))
    frame = _typed_frame(table)
    return LoadResult(
        frame=frame,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        warnings=tuple(warnings),
    )


def _parse_pyarrow(
    source: bytes | Path, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pa.Table | None:
    """Every column as text (or None for the careful path); limits checked before typing."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        table = pacsv.read_csv(
            str(source) if isinstance(source, Path) else pa.py_buffer(source),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding=encoding, block_size=8 << 20
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=nulls,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # quoted line breaks, ragged rows, bad bytes: let the careful path decide
    _check_text_table(table)
    return table


def _parse_pandas(
    data: bytes, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pa.Table:
    import pyarrow as pa

    text = data.decode(encoding, errors="strict")
    _check_ragged(text, delimiter, len(names))
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=0,
            names=names,
            na_values=nulls,
            keep_default_na=False,
            dtype=str,
            engine="c",
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataLoadError(
            "The text could not be parsed as a table "
            f"({type(exc).__name__}). Check the delimiter and quoting, or save the file "
            "again as CSV (comma-separated, UTF-8)."
        ) from None
    table = pa.table(
        [
            pa.array(frame.iloc[:, i].to_numpy(dtype=object), pa.string(), from_pandas=True)
            for i in range(frame.shape[1])
        ],
        names=names,
    )
    _check_text_table(table)
    return table


def _check_text_table(table: pa.Table) -> None:
    """Rows, cells and characters per cell of an all-text table, before any typing."""
    import pyarrow.compute as pc

    _check_shape(table.num_rows, table.num_columns)
    for col in table.columns:
        longest = pc.max(pc.binary_length(col)).as_py() or 0
        if longest > limits.MAX_CELL_CHARS:
            chars = pc.max(pc.utf8_length(col)).as_py() or 0
            _check_limit(chars, "MAX_CELL_CHARS", "has a cell with too many characters", "chars")


def _check_ragged(text: str, delimiter: str, expected: int) -> None:
    """Raise :class:`RaggedRowsError` naming the first line whose field count differs."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        next(reader)
        start = reader.line_num
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # blank line
            if len(row) != expected:
                line = reader.line_num if reader.line_num > start else start + 1
                raise RaggedRowsError(line, expected, len(row))
    except csv.Error:
        raise DataLoadError(
            f"Line {reader.line_num} could not be parsed (an unclosed quote?). "
            "Fix the quoting on that line and upload the file again."
        ) from None


# --- deciding column types -----------------------------------------------------------------

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


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table.to_pandas``, but integers with gaps past 2**53 stay exact (nullable Int64)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    frame = table.to_pandas(date_as_object=False)
    for i, col in enumerate(table.columns):
        if not pa.types.is_integer(col.type) or not col.null_count or not len(col):
            continue
        lo, hi = pc.min_max(col).values()
        if max(abs(lo.as_py() or 0), abs(hi.as_py() or 0)) > _TWO_53:
            dtype = pd.UInt64Dtype() if pa.types.is_unsigned_integer(col.type) else pd.Int64Dtype()
            frame.isetitem(i, pd.array(col.to_pylist(), dtype=dtype))
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
            if all(abs(v) <= _TWO_53 for v in ints):
                return pd.Series(values, dtype=np.float64)
            return pd.Series(pd.array(values, dtype=pd.Int64Dtype()))
        if float in kinds and all(abs(v) <= _TWO_53 or float(v) == v for v in ints):
            return pd.Series([np.nan if v is None else v for v in values], dtype=np.float64)
    elif kinds <= {dt.datetime, dt.date}:
        return pd.Series(pd.to_datetime(values))
    elif kinds == {str}:
        return pd.Series(values, dtype="str")
    return pd.Series([v if v is None or type(v) is str else render(v) for v in values], dtype="str")


# --- workbooks -----------------------------------------------------------------------------

_XML_DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _count_tags(xml: bytes, tag: bytes) -> int:
    """Elements ``tag`` in ``xml`` (whole tags only), with or without a namespace prefix."""
    if b":" + tag in xml:  # a prefixed spelling: the slower exact pattern
        return len(re.findall(rb"<(?:[\w.-]+:)?" + tag + rb"[\s/>]", xml))
    return sum(xml.count(b"<" + tag + end) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


#: A character takes at most this many bytes in XML (``&#1114111;``).
_XML_BYTES_PER_CHAR = 10


@dataclass(slots=True)
class _PartScan:
    cells: int = 0
    rows: int = 0
    longest_text: int = 0


def _scan_part(book: zipfile.ZipFile, info: zipfile.ZipInfo, *, count: bytes) -> _PartScan:
    """Stream one XML part: its elements ``count`` (and rows for cells ``c``), and its longest
    text (bytes without a ``<``).

    Stops with :class:`ResourceLimitError` as soon as a limit is certainly passed, so a
    bomb is never decompressed whole.
    """
    scan = _PartScan()
    cap = limits.MAX_CELL_CHARS * _XML_BYTES_PER_CHAR
    run, carry, first = 0, b"", True
    with book.open(info) as fh:
        while chunk := fh.read(4 << 20):
            if first and count == b"c" and (dim := _XML_DIMENSION.search(chunk)):
                # The declared size refuses most oversized sheets before any row is read.
                rows = int(dim.group(4) or dim.group(2))
                cols = _column_number(dim.group(3) or dim.group(1))
                _check_limit(
                    rows * cols,
                    "MAX_XLSX_CELLS",
                    "declares a worksheet with too many cells",
                    "cells",
                )
            first = False
            buf = carry + chunk
            cut = buf.rfind(b"<")
            done, carry = (buf, b"") if cut <= 0 else (buf[:cut], buf[cut:])
            if cut == 0:
                done, carry = b"", buf
                if len(carry) > 8 << 20:  # one tag this long: treat it as text
                    done, carry = buf, b""
            opens = np.flatnonzero(np.frombuffer(done, dtype=np.uint8) == ord("<"))
            if len(opens):
                scan.longest_text = max(
                    scan.longest_text,
                    run + int(opens[0]),
                    int(np.diff(opens).max()) if len(opens) > 1 else 0,
                )
                run = len(done) - int(opens[-1])
            else:
                run += len(done)
            if max(run, scan.longest_text) > cap:
                _check_limit(
                    max(run, scan.longest_text) // _XML_BYTES_PER_CHAR,
                    "MAX_CELL_CHARS",
                    "has a cell with too many characters (at least)",
                    "chars",
                )
            if count == b"c":
                scan.cells += _count_tags(done, b"c")
                scan.rows += _count_tags(done, b"row")
                _check_limit(
                    scan.cells,
                    "MAX_XLSX_CELLS",
                    "has a worksheet with too many cells",
                    "cells (or more)",
                )
                _check_limit(scan.rows, "MAX_ROWS", "has too many rows", "rows (or more)")
            elif count:
                scan.cells += _count_tags(done, count)
                _check_limit(scan.cells, "MAX_XLSX_CELLS", "has too many shared strings", "strings")
    scan.longest_text = max(scan.longest_text, run)
    return scan


def _check_workbook(data: bytes) -> None:
    """Sizes of every part of the workbook, before openpyxl parses any of it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as book:
            for info in book.infolist():
                name = info.filename.lower()
                if not name.endswith((".xml", ".rels")):
                    continue  # images and other parts are never read
                sheet = name.startswith("xl/worksheets/")
                if not sheet:
                    _check_limit(
                        info.file_size // 2**20,
                        "MAX_XLSX_PART_MB",
                        f"has a workbook part ({Path(info.filename).name}) that is too large",
                        "MiB",
                    )
                shared = name.endswith("sharedstrings.xml")
                if sheet or shared or info.file_size > limits.MAX_CELL_CHARS:
                    _scan_part(book, info, count=b"c" if sheet else b"si" if shared else b"")
    except PrivLensError:
        raise
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, ValueError):
        raise CorruptFileError("Excel (.xlsx)") from None


def _excel_text(value: object) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    return str(value)


def _sheet_frame(
    rows: Iterable[tuple[object, ...]], nulls: frozenset[str]
) -> tuple[list[object], list[list[object]]] | None:
    """Header and data rows of a sheet (blank rows skipped), or None when it holds nothing."""
    header: list[object] | None = None
    body: list[list[object]] = []
    for row in rows:
        values = [None if isinstance(v, str) and v in nulls else v for v in row]
        while values and values[-1] is None:
            values.pop()
        if not values:
            continue
        _check_limit(len(values), "MAX_COLUMNS", "has too many columns", "columns")
        if header is None:
            header = values
        else:
            body.append(values)
    if header is None:
        return None
    return header, body


def _load_xlsx(data: bytes, sheet: str | None, na_values: Sequence[str]) -> LoadResult:
    if not data.startswith(b"PK"):
        raise CorruptFileError("Excel (.xlsx)")
    _check_workbook(data)
    from openpyxl import load_workbook

    nulls = frozenset(str(v) for v in na_values)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except PrivLensError:
        raise
    except Exception:  # openpyxl raises many kinds (KeyError, ParseError, ...) on bad parts
        raise CorruptFileError("Excel (.xlsx)") from None
    try:
        sheets = tuple(str(s) for s in book.sheetnames)
        if sheet is not None and sheet not in sheets:
            raise DataLoadError(
                f"The workbook has no sheet named '{sheet}'. Its sheets: {', '.join(sheets)}."
            )
        for name in [sheet] if sheet is not None else list(sheets):
            ws = book[name]
            if not hasattr(ws, "reset_dimensions"):
                continue  # a chart sheet
            ws.reset_dimensions()  # the stored dimension may lie; read the rows themselves
            found = _sheet_frame(ws.iter_rows(values_only=True), nulls)
            if found is None:
                continue
            header, body = found
            width = max([len(header), *(len(r) for r in body)])
            columns = [[r[j] if j < len(r) else None for r in body] for j in range(width)]
            keep = [j for j in range(width) if any(v is not None for v in columns[j])]
            if not keep:
                if body:
                    continue
                raise HeaderOnlyError(len(header))
            raw_names = [header[j] if j < len(header) else None for j in keep]
            names, warnings = _clean_names(
                [_excel_text(n) if n is not None else None for n in raw_names]
            )
            frame = pd.DataFrame({i: _column(columns[j], _excel_text) for i, j in enumerate(keep)})
            frame.columns = names
            _check_cell_chars(frame)
            return LoadResult(
                frame=frame, format="xlsx", sheet=name, sheets=sheets, warnings=tuple(warnings)
            )
    except PrivLensError:
        raise
    except Exception:  # malformed sheet XML surfaces while streaming (ParseError, ...)
        raise CorruptFileError("Excel (.xlsx)") from None
    finally:
        book.close()
    raise NoSheetsError()


def _check_cell_chars(frame: pd.DataFrame) -> None:
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            longest = col.map(lambda v: len(v) if isinstance(v, str) else 0).max()
            _check_limit(
                int(longest or 0), "MAX_CELL_CHARS", "has a cell with too many characters", "chars"
            )


# --- Parquet -------------------------------------------------------------------------------


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
    nested = [f.name for f in schema if f.type.num_fields]
    for f in schema:
        if f.type.num_fields:
            _check_limit(_type_depth(f.type), "MAX_JSON_DEPTH", "nests values too deeply", "levels")
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
    for name in nested:
        i = table.schema.get_field_index(name)
        kind = str(table.schema.field(i).type).split("<")[0]
        values = [None if v is None else _json_text(v) for v in table.column(i).to_pylist()]
        table = table.set_column(i, pa.field(name, pa.string()), pa.array(values, pa.string()))
        warnings.append(
            f"Column '{name}' holds nested values ({kind}); they are read as JSON text."
        )
    frame = _to_pandas(table)
    if not isinstance(frame.index, pd.RangeIndex):
        frame = frame.reset_index()  # a stored index is data: keep it as a column
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


# --- JSON ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _JsonShape:
    depth: int = 0
    keys: int = 0  # most keys of one object
    commas: dict[int, int] = field(default_factory=dict)  # by nesting level
    colons: dict[int, int] = field(default_factory=dict)


_JSON_STRUCT = np.zeros(256, dtype=bool)
_JSON_STRUCT[[ord(c) for c in ",:[]{}"]] = True
_JSON_DELTA = np.zeros(256, dtype=np.int64)
_JSON_DELTA[[ord("["), ord("{")]] = 1
_JSON_DELTA[[ord("]"), ord("}")]] = -1


def _scan_json(data: bytes, chunk: int = 4 << 20) -> _JsonShape:
    """Depth, largest object and separators per level of JSON bytes, strings skipped.

    A vectorized byte scan (no parse), so a deep or huge document is refused before Python
    builds any of it. Stops with :class:`ResourceLimitError` once the depth or an object's
    keys pass their limits.
    """
    shape = _JsonShape()
    in_string, backslashes, depth = 0, 0, 0
    carry: dict[int, int] = {}  # keys so far of the object open at each level
    for offset in range(0, len(data), chunk):
        b = np.frombuffer(data, dtype=np.uint8, count=min(chunk, len(data) - offset), offset=offset)
        quotes = np.flatnonzero(b == ord('"'))
        slash = b == ord("\\")
        if len(quotes) and (backslashes or slash.any()):
            # A quote after an odd run of backslashes is escaped.
            idx = np.arange(len(b))
            last_other = np.maximum.accumulate(np.where(slash, -1, idx))
            before = np.maximum(quotes - 1, 0)
            run = np.where(quotes > 0, before - last_other[before], 0)
            run = run + np.where((quotes == 0) | (last_other[before] < 0), backslashes, 0)
            quotes = quotes[run % 2 == 0]
        trailing = len(b) - 1 - int(np.flatnonzero(~slash)[-1]) if (~slash).any() else len(b)
        backslashes = trailing if trailing < len(b) else backslashes + trailing
        pos = np.flatnonzero(_JSON_STRUCT[b])
        outside = (np.searchsorted(quotes, pos) + in_string) % 2 == 0
        in_string = (in_string + len(quotes)) % 2
        pos = pos[outside]
        if not len(pos):
            continue
        chars = b[pos]
        level = depth + np.cumsum(_JSON_DELTA[chars])
        depth = int(level[-1])
        shape.depth = max(shape.depth, int(level.max()))
        _check_limit(shape.depth, "MAX_JSON_DEPTH", "nests JSON too deeply", "levels (or more)")
        for sep, counts in ((ord(","), shape.commas), (ord(":"), shape.colons)):
            lv, n = np.unique(level[chars == sep], return_counts=True)
            for k, v in zip(lv.tolist(), n.tolist(), strict=True):
                counts[k] = counts.get(k, 0) + v
        # Keys of each object: colons grouped under the latest opening at their level.
        opens = (chars == ord("{")) | (chars == ord("["))
        events = opens | (chars == ord(":"))
        ev_level, ev_open = level[events], opens[events]
        order = np.argsort(ev_level, kind="stable")
        ev_level, ev_open = ev_level[order], ev_open[order]
        if not len(ev_level):
            continue
        starts = ev_open | np.r_[True, ev_level[1:] != ev_level[:-1]]
        group = np.cumsum(starts) - 1
        keys = np.bincount(group, weights=~ev_open).astype(np.int64)
        first = np.flatnonzero(starts)
        continued = ~ev_open[first]  # a group opened in an earlier chunk
        keys[continued] += np.array(
            [carry.get(lv, 0) for lv in ev_level[first][continued].tolist()], dtype=np.int64
        )
        shape.keys = max(shape.keys, int(keys.max()))
        _check_limit(shape.keys, "MAX_JSON_KEYS", "has a JSON object with too many keys", "keys")
        last = np.r_[ev_level[1:] != ev_level[:-1], True]
        carry.update(zip(ev_level[last].tolist(), keys[group[last]].tolist(), strict=True))
    return shape


def _parse_float(text: str) -> float | str:
    """A JSON number with a fraction; kept as its text when a double would change it."""
    value = float(text)
    digits = text.lstrip("-").split(".")[0].lower().split("e")[0]
    if len(digits) > _EXACT_DIGITS and not _exact_as_double(text):
        return text
    return value


_DECODER = json.JSONDecoder(parse_float=_parse_float)


def _json_loads(text: str) -> object:
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ResourceLimitError(
            "nests JSON too deeply",
            "deeper than the parser can follow",
            "MAX_JSON_DEPTH",
            limits.MAX_JSON_DEPTH,
        ) from None


def _load_json(data: bytes, ext: str) -> LoadResult:
    try:
        encoding = detect_encoding(data)
    except BinaryFileError:
        raise BinaryFileError(ext) from None
    text = data.decode(encoding)
    _check_json_shape(
        _scan_json(data if not encoding.startswith("utf-16") else text.encode()),
        lines=ext in (".jsonl", ".ndjson"),
        top=text.lstrip("\ufeff \t\r\n")[:1],
    )
    records: object
    fmt = "json"
    if ext in (".jsonl", ".ndjson"):
        records, fmt = _json_lines(text), "jsonl"
    else:
        try:
            records = _json_loads(text)
        except json.JSONDecodeError as exc:
            try:
                records, fmt = _json_lines(text), "jsonl"
            except ResourceLimitError:
                raise
            except DataLoadError:
                raise DataLoadError(
                    f"The JSON is not valid (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}). Fix it, or export the table as CSV."
                ) from None
    frame = _json_to_frame(records)
    names, warnings = _clean_names(list(frame.columns))
    frame.columns = names
    return LoadResult(frame=frame, format=fmt, encoding=encoding, warnings=tuple(warnings))


def _check_json_shape(shape: _JsonShape, *, lines: bool, top: str) -> None:
    """Rows and cells the parse would build, from the byte scan (before any parsing)."""
    if lines or top not in "[{":
        cells = shape.colons.get(1, 0)  # one record per line
    elif top == "[":
        _check_limit(shape.commas.get(1, 0) + 1, "MAX_ROWS", "has too many rows", "rows")
        cells = shape.colons.get(2, 0)
    else:
        cells = shape.commas.get(2, 0) + shape.colons.get(1, 0)
    _check_limit(cells, "MAX_CELLS", "has too many cells", "cells")


def _json_lines(text: str) -> list[object]:
    out = []
    cells = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _json_loads(line)
        except json.JSONDecodeError as exc:
            raise DataLoadError(
                f"Line {i} of the JSON Lines file is not valid JSON ({exc.msg}). "
                "Each line must hold one JSON object."
            ) from None
        out.append(record)
        _check_limit(len(out), "MAX_ROWS", "has too many rows", "rows (or more)")
        cells += len(record) if isinstance(record, dict) else 1
        _check_limit(cells, "MAX_CELLS", "has too many cells", "cells (or more)")
    return out


def _describe_json(value: object) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {type(value[0]).__name__} values"
    if isinstance(value, dict):
        return "an object whose values are not equal-length lists"
    return f"a single {type(value).__name__} value"


def _json_depth(value: object, start: int) -> int:
    """Nesting depth of ``value`` (iterative); stops once MAX_JSON_DEPTH is passed."""
    deepest = start
    stack: list[tuple[object, int]] = [(value, start)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth + 1)
            if deepest > limits.MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
    return deepest


def _nested_text(value: object, depth: int) -> str:
    """A nested JSON value as JSON text, after checking its depth and object sizes."""
    deepest = _json_depth(value, depth)
    _check_limit(deepest, "MAX_JSON_DEPTH", "nests JSON too deeply", "levels (or more)")
    return _json_text(value)


def _check_keys(obj: dict[str, object]) -> None:
    _check_limit(len(obj), "MAX_JSON_KEYS", "has a JSON object with too many keys", "keys")


def _records_columns(records: list[dict[str, object]]) -> dict[str, list[object]]:
    """Columns of a list of records; one level of nested objects flattened as ``a.b``."""
    order: dict[str, None] = {}
    later: dict[str, None] = {}
    flat: list[dict[str, object]] = []
    for rec in records:
        _check_keys(rec)
        row: dict[str, object] = {}
        for key, value in rec.items():
            if isinstance(value, dict):
                _check_keys(value)
                for sub, v in value.items():
                    name = f"{key}.{sub}"
                    row[name] = _nested_text(v, 3) if isinstance(v, (dict, list)) else v
                    if name not in order:
                        later[name] = None
            else:
                row[key] = _nested_text(value, 2) if isinstance(value, list) else value
                order[key] = None
        flat.append(row)
        _check_limit(len(order) + len(later), "MAX_COLUMNS", "has too many columns", "columns")
    names = list(order) + [n for n in later if n not in order]
    return {n: [row.get(n) for row in flat] for n in names}


def _json_to_frame(records: object) -> pd.DataFrame:
    if isinstance(records, list):
        if not records:
            raise NotATableError("an empty list")
        if not all(isinstance(r, dict) for r in records):
            raise NotATableError(_describe_json(records))
        _check_limit(len(records), "MAX_ROWS", "has too many rows", "rows")
        cells = sum(len(r) for r in records)  # type: ignore[arg-type]
        _check_limit(cells, "MAX_CELLS", "has too many cells", "cells")
        columns = _records_columns(records)  # type: ignore[arg-type]
    elif isinstance(records, dict):
        _check_keys(records)
        if set(records) >= {"columns", "data"} and isinstance(records["data"], list):
            names, rows = records["columns"], records["data"]
            if not isinstance(names, list) or not all(
                isinstance(r, list) and len(r) == len(names) for r in rows
            ):
                raise NotATableError("a 'columns'/'data' object whose rows do not fit")
            _check_shape(len(rows), len(names))
            columns = {str(n): [r[j] for r in rows] for j, n in enumerate(names)}
        else:
            values = list(records.values())
            if not values or not all(isinstance(v, list) for v in values):
                raise NotATableError(_describe_json(records))
            if len({len(v) for v in values}) != 1:
                raise NotATableError("column lists of different lengths")
            _check_shape(len(values[0]), len(values))
            columns = dict(records)  # type: ignore[arg-type]
        columns = {
            k: [_nested_text(v, 2) if isinstance(v, (dict, list)) else v for v in col]
            for k, col in columns.items()
        }
    else:
        raise NotATableError(_describe_json(records))
    if not columns:
        raise NotATableError("records without any fields")
    n_rows = len(next(iter(columns.values())))
    if n_rows == 0:
        raise HeaderOnlyError(len(columns))
    frame = pd.DataFrame({i: _column(col, _json_text) for i, col in enumerate(columns.values())})
    frame.columns = list(columns)
    _check_cell_chars(frame)
    return frame


def _finish(result: LoadResult) -> LoadResult:
    frame = result.frame
    if frame.shape[1] == 0:
        raise EmptyFileError("the file")
    return result
