"""Data intake: read a table from bytes or a path, whatever its format and encoding.

Supported formats: CSV/TSV/TXT (delimiter and encoding detected), XLSX, Parquet, JSON and
JSON Lines. Every failure is a :class:`core.errors.DataLoadError` subclass whose message says
what is wrong and what to do; no message ever contains a cell value.

The CSV fast path hands the bytes to ``pyarrow.csv`` (multi-threaded; a file with quotes is
parsed in pieces cut after line breaks, and a cut that fell inside quotes is found and the file
parsed again with blocks cut only between records); ragged rows or bytes that are not in the
detected encoding fall back to pandas' C parser. Either way every field is read as text first
and a column becomes a number, a date or a boolean only when no value would change: a leading
zero (``02134``), an explicit plus sign, or more digits than int64 or float64 hold exactly keep
the whole column as text, and so does a column whose name marks a postal code, phone number
or identifier (:func:`core.roles.names_a_code`; named in the warnings). Whole numbers with
gaps load as nullable ``Int64``. ``inf`` and ``-inf`` are read as float infinities; a timestamp
with a zone offset stays text (its offset is part of the value).

Limits from :mod:`core.limits` (rows, columns, cells, characters per cell, JSON depth and keys,
worksheet cells, decoded Parquet bytes) are checked before a table is materialized, from file
metadata, a byte scan or while streaming; a file over one raises
:class:`core.errors.ResourceLimitError` naming the limit.

>>> res = load(b"age,zip\\n34,10115\\n45,10117\\n", filename="people.csv")
>>> res.frame.shape, res.delimiter, res.encoding
((2, 2), ',', 'utf-8')
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from core import limits
from core.data.common import (
    _BLANK,
    ENCODINGS,
    NA_STRINGS,
    SUPPORTED_EXTENSIONS,
    TEXT_EXTENSIONS,
    LoadResult,
)
from core.data.jsonfile import _load_json
from core.data.parquet import _load_parquet
from core.data.text import _load_text, detect_delimiter, detect_encoding
from core.data.xlsx import _load_xlsx
from core.errors import (
    DataLoadError,
    EmptyFileError,
    FileTooLargeError,
    UnsupportedFormatError,
)

__all__ = [
    "ENCODINGS",
    "NA_STRINGS",
    "SUPPORTED_EXTENSIONS",
    "TEXT_EXTENSIONS",
    "LoadResult",
    "detect_delimiter",
    "detect_encoding",
    "load",
]


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


def _finish(result: LoadResult) -> LoadResult:
    frame = result.frame
    if frame.shape[1] == 0:
        raise EmptyFileError("the file")
    return result
