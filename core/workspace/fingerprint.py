"""A keyed fingerprint of a table's content, the key of its privacy budget.

The fingerprint is ``HMAC-SHA256(secret, canonical bytes of the table)``. The canonical
bytes depend only on the table's content and types: the row count, and for each column in
order its name, its dtype, which cells are missing, and the values of the others. They do
not depend on the session, the load, the index or how the frame is laid out in memory, so
the same file loaded twice has the same fingerprint, and a change of one cell, one type or
one column name gives another.

Keying the hash with a server secret means the fingerprint says nothing about the data to
someone who sees it (a stored budget row, a log line) without the secret, and cannot be
tested against guessed tables.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import InvalidParameterError
from core.frames import check_frame

#: Version of the canonical serialization; part of the hashed bytes.
FINGERPRINT_VERSION = b"privlens-table-fingerprint/v1"
#: Minimum length of a fingerprint key.
SECRET_MIN_BYTES = 16


def table_fingerprint(frame: pd.DataFrame, *, secret: bytes) -> str:
    """Keyed fingerprint of a table's content (types included), as 64 hex digits.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table the loader can make.
    secret : bytes
        The key, at least 16 bytes (the server secret, or a per-file salt).

    Returns
    -------
    str
        ``HMAC-SHA256(secret, canonical(frame))`` in lowercase hex.

    Raises
    ------
    InvalidParameterError
        A key shorter than 16 bytes, or something that is not a table.

    Notes
    -----
    Each column contributes its name and dtype (length-prefixed UTF-8), the packed bitmap of
    its missing cells, and its values with missing cells set to zero (or the empty string):
    fixed-width values as their little-endian bytes, text as the lengths and the UTF-8 bytes,
    categoricals as their codes plus the fingerprint bytes of their categories, and any other
    Python object as its type name and ``repr``. The index is not part of the content.

    Examples
    --------
    >>> a = pd.DataFrame({"zip": ["02139", "10001"], "age": [34, 51]})
    >>> b = pd.DataFrame({"zip": ["02139", "10001"], "age": [34, 51]}, index=[7, 9])
    >>> key = bytes(32)
    >>> table_fingerprint(a, secret=key) == table_fingerprint(b, secret=key)
    True
    >>> c = a.assign(age=a["age"].astype("float64"))
    >>> table_fingerprint(a, secret=key) == table_fingerprint(c, secret=key)
    False
    """
    if not isinstance(secret, bytes | bytearray) or len(secret) < SECRET_MIN_BYTES:
        raise InvalidParameterError(
            f"the fingerprint key must be at least {SECRET_MIN_BYTES} bytes; got "
            f"{len(secret) if isinstance(secret, bytes | bytearray) else type(secret).__name__}"
            ". Use the server secret of the workspace store."
        )
    frame = check_frame(frame)
    mac = hmac.new(bytes(secret), digestmod=hashlib.sha256)
    mac.update(FINGERPRINT_VERSION)
    mac.update(struct.pack("<QQ", len(frame), frame.shape[1]))
    for name in frame.columns:
        _feed_column(mac.update, str(name), frame[name])
    return mac.hexdigest()


def _text(update: Any, text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    update(struct.pack("<Q", len(raw)))
    update(raw)


def _feed_column(update: Any, name: str, series: pd.Series) -> None:
    """Feed one column's canonical bytes (see :func:`table_fingerprint`)."""
    _text(update, name)
    _text(update, str(series.dtype))
    missing = series.isna().to_numpy(dtype=bool, na_value=True)
    update(np.packbits(missing).tobytes())
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        update(series.cat.codes.to_numpy(dtype="<i8").tobytes())
        _feed_column(update, "", pd.Series(dtype.categories))
        return
    if isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
        values = series.to_numpy(copy=True)
        if dtype.kind in "mM":
            values = values.view("<i8")
        values[missing] = 0
        update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
        return
    numpy_kind = getattr(getattr(dtype, "numpy_dtype", None), "kind", "")
    if numpy_kind in "biuf" and numpy_kind:
        values = series.to_numpy(dtype=dtype.numpy_dtype, na_value=0)  # type: ignore[union-attr]
        update(values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes())
        return
    if not _feed_text(update, series, missing):
        _feed_objects(update, series, missing)


def _feed_text(update: Any, series: pd.Series, missing: np.ndarray) -> bool:
    """Text columns (``str`` or all-``str`` objects) through Arrow; False if not text."""
    if series.dtype == object:
        present = series[~missing]
        if not present.map(type).eq(str).all():
            return False
    try:
        arr = pa.array(series, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return False
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return False
    arr = pc.fill_null(arr.cast(pa.large_string()), "")
    offsets = np.frombuffer(arr.buffers()[1], dtype="<i8")[arr.offset : arr.offset + len(arr) + 1]
    data = arr.buffers()[2]
    update(np.diff(offsets).astype("<i8").tobytes())
    if data is not None and len(offsets):
        update(memoryview(data)[int(offsets[0]) : int(offsets[-1])])
    update(b"t")
    return True


def _feed_objects(update: Any, series: pd.Series, missing: np.ndarray) -> None:
    """Any other column: each present value as its type name and ``repr``."""
    for value, gone in zip(series.to_numpy(dtype=object), missing, strict=True):
        if gone:
            _text(update, "")
        elif isinstance(value, bytes):
            _text(update, "bytes")
            update(struct.pack("<Q", len(value)))
            update(value)
        else:
            _text(update, type(value).__name__)
            _text(update, value if isinstance(value, str) else repr(value))
