"""Data intake: read a table from bytes or a path, whatever its format and encoding.

Supported formats: CSV/TSV/TXT (delimiter and encoding detected), XLSX, Parquet, JSON and
JSON Lines. Every failure is a :class:`core.errors.DataLoadError` subclass whose message says
what is wrong and what to do; no message ever contains a cell value.

The CSV fast path hands the bytes to ``pyarrow.csv`` (multi-threaded, typed); quoted line
breaks or an unusual dialect fall back to pandas' C parser.

>>> res = load(b"age,zip\\n34,10115\\n45,10117\\n", filename="people.csv")
>>> res.frame.shape, res.delimiter, res.encoding
((2, 2), ',', 'utf-8')
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

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
    RaggedRowsError,
    UnsupportedFormatError,
)

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
        result = _load_xlsx(data, sheet, na_values)
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
    if encoding.startswith("utf-16"):
        # pyarrow reads UTF-8 only; transcode the (rare) UTF-16 files once.
        source = whole().decode(encoding).encode("utf-8")
        head = source[: limits.SNIFF_BYTES]
        parse_encoding = "utf-8"
    elif encoding == "utf-8-sig":
        head = head[3:]  # the header row is parsed here and skipped by the parsers
        parse_encoding = "utf-8"
    else:
        parse_encoding = encoding
    sample = head.decode(parse_encoding, errors="ignore")
    delimiter = detect_delimiter(sample, default="\t" if ext == ".tsv" else ",")
    try:
        header = next(csv.reader(io.StringIO(sample), delimiter=delimiter))
    except (StopIteration, csv.Error):
        raise EmptyFileError("the file") from None
    names, warnings = _clean_names(header)
    nulls = list(NA_STRINGS) + [str(v) for v in na_values]

    frame = _parse_pyarrow(source, delimiter, parse_encoding, names, nulls)
    if frame is None:
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
        frame = _parse_pandas(data, delimiter, parse_encoding, names, nulls)
    if len(frame) == 0:
        raise HeaderOnlyError(len(names))
    return LoadResult(
        frame=frame,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        warnings=tuple(warnings),
    )


def _parse_pyarrow(
    source: bytes | Path, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pd.DataFrame | None:
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
                null_values=nulls, strings_can_be_null=True, quoted_strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # quoted line breaks, ragged rows, odd types: let the careful path decide
    if any(pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in table.schema.types):
        return None  # bytes that are not valid in the detected encoding: check them all
    return table.to_pandas(date_as_object=False)


def _parse_pandas(
    data: bytes, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pd.DataFrame:
    text = data.decode(encoding, errors="strict")
    _check_ragged(text, delimiter, len(names))
    try:
        return pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=0,
            names=names,
            na_values=nulls,
            keep_default_na=False,
            engine="c",
            on_bad_lines="error",
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataLoadError(
            "The text could not be parsed as a table "
            f"({type(exc).__name__}). Check the delimiter and quoting, or save the file "
            "again as CSV (comma-separated, UTF-8)."
        ) from None


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


# --- binary formats ------------------------------------------------------------------------


def _load_xlsx(data: bytes, sheet: str | None, na_values: Sequence[str]) -> LoadResult:
    if not data.startswith(b"PK"):
        raise CorruptFileError("Excel (.xlsx)")
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError):
        raise CorruptFileError("Excel (.xlsx)") from None
    with book:
        sheets = tuple(str(s) for s in book.sheet_names)
        if sheet is not None and sheet not in sheets:
            raise DataLoadError(
                f"The workbook has no sheet named '{sheet}'. Its sheets: {', '.join(sheets)}."
            )
        candidates = [sheet] if sheet is not None else list(sheets)
        for name in candidates:
            try:
                frame = pd.read_excel(book, sheet_name=name, na_values=list(na_values) or None)
            except (ValueError, KeyError, TypeError, zipfile.BadZipFile):
                raise CorruptFileError("Excel (.xlsx)") from None
            frame = frame.dropna(how="all").dropna(axis=1, how="all")
            if frame.shape[1] == 0:
                continue
            if len(frame) == 0:
                raise HeaderOnlyError(frame.shape[1])
            names, warnings = _clean_names(list(frame.columns))
            frame.columns = names
            frame = frame.reset_index(drop=True)
            return LoadResult(
                frame=frame, format="xlsx", sheet=name, sheets=sheets, warnings=tuple(warnings)
            )
    raise NoSheetsError()


def _load_parquet(data: bytes) -> LoadResult:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
        raise CorruptFileError("Parquet")
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError, ValueError):
        raise CorruptFileError("Parquet") from None
    frame = table.to_pandas()
    names, warnings = _clean_names(list(frame.columns))
    frame.columns = names
    if len(frame) == 0:
        raise HeaderOnlyError(frame.shape[1])
    return LoadResult(
        frame=frame.reset_index(drop=True), format="parquet", warnings=tuple(warnings)
    )


def _load_json(data: bytes, ext: str) -> LoadResult:
    try:
        encoding = detect_encoding(data)
    except BinaryFileError:
        raise BinaryFileError(ext) from None
    text = data.decode(encoding)
    records: object
    fmt = "json"
    if ext in (".jsonl", ".ndjson"):
        records, fmt = _json_lines(text), "jsonl"
    else:
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            try:
                records, fmt = _json_lines(text), "jsonl"
            except DataLoadError:
                raise DataLoadError(
                    f"The JSON is not valid (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}). Fix it, or export the table as CSV."
                ) from None
    frame = _json_to_frame(records)
    names, warnings = _clean_names(list(frame.columns))
    frame.columns = names
    return LoadResult(frame=frame, format=fmt, encoding=encoding, warnings=tuple(warnings))


def _json_lines(text: str) -> list[object]:
    out = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DataLoadError(
                f"Line {i} of the JSON Lines file is not valid JSON ({exc.msg}). "
                "Each line must hold one JSON object."
            ) from None
    return out


def _describe_json(value: object) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {type(value[0]).__name__} values"
    if isinstance(value, dict):
        return "an object whose values are not equal-length lists"
    return f"a single {type(value).__name__} value"


def _json_to_frame(records: object) -> pd.DataFrame:
    if isinstance(records, list):
        if not records:
            raise NotATableError("an empty list")
        if not all(isinstance(r, dict) for r in records):
            raise NotATableError(_describe_json(records))
        frame = pd.json_normalize(records, max_level=1)
    elif isinstance(records, dict):
        if set(records) >= {"columns", "data"} and isinstance(records["data"], list):
            try:
                frame = pd.DataFrame(records["data"], columns=records["columns"])
            except (ValueError, TypeError):
                raise NotATableError("a 'columns'/'data' object whose rows do not fit") from None
        else:
            values = list(records.values())
            if not values or not all(isinstance(v, list) for v in values):
                raise NotATableError(_describe_json(records))
            if len({len(v) for v in values}) != 1:
                raise NotATableError("column lists of different lengths")
            frame = pd.DataFrame(records)
    else:
        raise NotATableError(_describe_json(records))
    if frame.shape[1] == 0:
        raise NotATableError("records without any fields")
    if len(frame) == 0:
        raise HeaderOnlyError(frame.shape[1])
    # Nested lists stay as JSON text, so every cell is hashable for grouping.
    for col in frame.columns:
        if frame[col].dtype == object and frame[col].map(lambda v: isinstance(v, list)).any():
            frame[col] = frame[col].map(lambda v: json.dumps(v) if isinstance(v, list) else v)
    return frame


def _finish(result: LoadResult) -> LoadResult:
    frame = result.frame
    if frame.shape[1] == 0:
        raise EmptyFileError("the file")
    return result
