"""CSV, TSV and TXT: encoding, delimiter, the whole header, and a parse of every field as text."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from core import limits
from core.errors import (
    BinaryFileError,
    DataLoadError,
    EmptyFileError,
    EncodingError,
    HeaderOnlyError,
    RaggedRowsError,
)

if TYPE_CHECKING:
    import pyarrow as pa

from core.data.columns import _typed_frame
from core.data.common import (
    _DELIMITERS,
    _MAGIC,
    ENCODINGS,
    NA_STRINGS,
    LoadResult,
    _check_limit,
    _check_shape,
    _clean_names,
)


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


#: Longest field the ``csv`` module may read. Its default (131,072 characters) is below
#: ``MAX_CELL_CHARS``; a longer cell is refused by the limit check on the parsed table instead.
_CSV_FIELD_LIMIT = 2**31 - 1


def _allow_long_fields() -> None:
    """Raise the ``csv`` module's field limit (process-wide, never lowered)."""
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(_CSV_FIELD_LIMIT)


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
    _allow_long_fields()
    sample = _head_with_header(source, head, skip).decode(parse_encoding, errors="ignore")
    delimiter = detect_delimiter(sample, default="\t" if ext == ".tsv" else ",")
    try:
        header = next(csv.reader(io.StringIO(sample, newline=None), delimiter=delimiter))
    except StopIteration:
        raise EmptyFileError("the file") from None
    except csv.Error:
        raise DataLoadError(
            "The header row could not be parsed (an unclosed quote?). "
            "Fix the first line and upload the file again."
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
    frame, kept = _typed_frame(table)
    return LoadResult(
        frame=frame,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        warnings=(*warnings, *kept),
    )


#: Bytes per block of the multi-threaded CSV parser.
_BLOCK_BYTES = 8 << 20


def _has_quote(source: bytes | Path) -> bool:
    """Whether the text holds a double quote, so that a quoted field may hold a line break.

    The text is then parsed in pieces whose cuts are checked (:func:`_parse_pieces`); without
    that, a line break inside quotes at a block's end would silently split one record into two.
    """
    if not isinstance(source, Path):
        return b'"' in source
    with source.open("rb") as fh:
        while chunk := fh.read(_BLOCK_BYTES):
            if b'"' in chunk:
                return True
    return False


class _CutInQuotes(Exception):
    """A piece of the text ended inside a quoted field: its cut was not between records."""


def _line_starts(source: bytes | Path, size: int) -> list[int]:
    """Offsets just past the first line break after every ``_BLOCK_BYTES``, then ``size``."""
    cuts = [0]
    pos = _BLOCK_BYTES
    with source.open("rb") if isinstance(source, Path) else io.BytesIO(source) as fh:
        while pos < size:
            fh.seek(pos)
            window = fh.read(1 << 16)
            ends = [i for i in (window.find(b"\n"), window.find(b"\r")) if i >= 0]
            if not ends:
                break  # a very long line: the rest is one piece
            cut = pos + min(ends) + 1
            if window[min(ends) : min(ends) + 2] == b"\r\n":
                cut += 1
            if cut >= size:
                break
            cuts.append(cut)
            pos = cut + _BLOCK_BYTES
    return [*cuts, size]


def _parse_pieces(
    source: bytes | Path, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pa.Table:
    """Parse pieces of about ``_BLOCK_BYTES``, cut after a line break, on parallel threads.

    A cut inside a quoted field shows: the piece before it ends in an unclosed quote, whose
    value (the last of the piece, in its last column, or the row is short and the parse fails)
    then ends with the line break. Raises :class:`_CutInQuotes` then, and ``ArrowInvalid`` on
    any parse error; the caller parses the whole text again.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    import pyarrow as pa
    import pyarrow.csv as pacsv

    size = source.stat().st_size if isinstance(source, Path) else len(source)
    cuts = _line_starts(source, size)
    view = None if isinstance(source, Path) else memoryview(source)

    def parse(i: int) -> pa.Table:
        start, stop = cuts[i], cuts[i + 1]
        if view is not None:
            piece = pa.py_buffer(view[start:stop])
        else:
            with source.open("rb") as fh:  # type: ignore[union-attr]
                fh.seek(start)
                piece = pa.py_buffer(fh.read(stop - start))
        table = pacsv.read_csv(
            piece,
            read_options=pacsv.ReadOptions(
                column_names=names,
                skip_rows=1 if i == 0 else 0,
                encoding=encoding,
                block_size=stop - start + 1,  # one block: the parser never cuts the piece
                use_threads=False,
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=_convert_options(names, nulls),
        )
        if i < len(cuts) - 2 and table.num_rows:
            last = table.column(table.num_columns - 1)[-1].as_py()
            if isinstance(last, str) and last.endswith(("\n", "\r")):
                raise _CutInQuotes
        return table

    with ThreadPoolExecutor(max_workers=min(len(cuts) - 1, os.cpu_count() or 1)) as pool:
        return pa.concat_tables(list(pool.map(parse, range(len(cuts) - 1))))


def _convert_options(names: list[str], nulls: list[str]) -> object:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        null_values=nulls,
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )


def _parse_pyarrow(
    source: bytes | Path, delimiter: str, encoding: str, names: list[str], nulls: list[str]
) -> pa.Table | None:
    """Every column as text (or None for the careful path); limits checked before typing.

    A text with quotes is parsed in pieces cut after line breaks (see :func:`_parse_pieces`);
    when a cut fell inside quotes, the whole text is parsed again with blocks cut only
    between records (slower: the parser tracks quotes to find each block's end).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    quoted = _has_quote(source)
    if quoted:
        try:
            table = _parse_pieces(source, delimiter, encoding, names, nulls)
        except (_CutInQuotes, pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            _check_text_table(table)
            return table
    try:
        table = pacsv.read_csv(
            str(source) if isinstance(source, Path) else pa.py_buffer(source),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1, encoding=encoding, block_size=_BLOCK_BYTES
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=quoted),
            convert_options=_convert_options(names, nulls),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # ragged rows, bad bytes: let the careful path decide
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
