"""Shared parts of the loaders: the result type, constants, names and limit checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import limits
from core.errors import (
    ResourceLimitError,
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


def _check_cell_chars(frame: pd.DataFrame) -> None:
    for i in range(frame.shape[1]):
        col = frame.iloc[:, i]
        if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
            longest = col.map(lambda v: len(v) if isinstance(v, str) else 0).max()
            _check_limit(
                int(longest or 0), "MAX_CELL_CHARS", "has a cell with too many characters", "chars"
            )
