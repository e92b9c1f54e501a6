"""Workbooks: a byte scan of every part, then openpyxl in read-only mode."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core import limits
from core.data.columns import _column
from core.data.common import LoadResult, _check_cell_chars, _check_limit, _clean_names
from core.errors import (
    CorruptFileError,
    DataLoadError,
    HeaderOnlyError,
    NoSheetsError,
    PrivLensError,
)

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
            if cut < 0 or (cut == 0 and len(buf) > 8 << 20):
                done, carry = buf, b""  # all text (or one tag this long: counted as text)
            else:
                done, carry = buf[:cut], buf[cut:]  # a tag is never split between chunks
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
    except (PrivLensError, MemoryError):
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
    except (PrivLensError, MemoryError):
        raise
    except Exception:  # malformed sheet XML surfaces while streaming (ParseError, ...)
        raise CorruptFileError("Excel (.xlsx)") from None
    finally:
        book.close()
    raise NoSheetsError()
