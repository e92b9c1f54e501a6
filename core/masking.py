"""Hardening transforms: masking, keyed pseudonymization, generalization, suppression.

Every single-column transform takes a :class:`pandas.Series` and returns a new one with the
same index; the input is never modified. Missing values stay missing (a transform never
invents a value for a missing cell, and never turns a present cell into a missing one
unless it says so). Text is handled as Unicode code points, through Apache Arrow's UTF-8
kernels, so ``"Zoë"`` has three characters and masking keeps that length. (A user-perceived
character built from several code points, such as a flag emoji, counts as several.)

The two transforms that look at several columns at once, :func:`local_suppression` and
:func:`microaggregate`, take a DataFrame and return a frozen result with the new frame and
what they did.

Nothing here writes a cell value into a message or warning: errors name columns, counts
and parameter values only.
"""

from __future__ import annotations

import hmac
import math
import secrets as _secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.codes import Grouping, KnownCodes
from core.errors import ColumnError, InvalidParameterError
from core.limits import (
    PSEUDONYM_KEY_MIN_BYTES,
    PSEUDONYM_LENGTH_MAX,
    PSEUDONYM_LENGTH_MIN,
)

__all__ = [
    "MicroaggregationResult",
    "QIPatterns",
    "SuppressionResult",
    "bin_edges",
    "bin_quantiles",
    "bin_width",
    "check_column_names",
    "class_sizes",
    "generalize_date",
    "generate_key",
    "group_categories",
    "key_from_text",
    "local_suppression",
    "mask_characters",
    "mask_pattern",
    "microaggregate",
    "pseudonymize",
    "qi_patterns",
    "redact",
    "replace",
    "round_to",
    "top_bottom_code",
    "truncate_prefix",
]

_STR = pd.StringDtype("pyarrow", na_value=np.nan)
_LARGE = pa.large_string()


# --- helpers -------------------------------------------------------------------------------


def _name(s: pd.Series) -> str:
    return "the column" if s.name is None else f"column '{s.name}'"


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype))


def _require_numeric(s: pd.Series, transform: str) -> np.ndarray:
    """Float64 values of a numeric column (NaN for missing), or a ColumnError."""
    if not _is_numeric(s):
        raise ColumnError(
            f"{transform} needs a numeric column, but {_name(s)} has type {s.dtype}. "
            "Choose a numeric column, or use a text transform (mask, group) on this one."
        )
    return s.to_numpy(dtype="float64", na_value=np.nan)


def _text_values(s: pd.Series | pd.Index) -> pd.Series | pd.Index:
    """Text form of values: integral floats print without '.0' (10115, not 10115.0).

    In a float column whose finite values are all whole numbers, each value below 2**63 in
    magnitude prints as an integer; larger ones print in Python's shortest round-trip form
    (``1.2345678901234567e+19``), so distinct values keep distinct texts, and infinities
    print as ``inf`` and ``-inf``. Integers of any size (int64, uint64, Python ints in an
    object column) keep every digit.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.dtype.categories.dtype  # integer categories with a gap: keep ints as objects
        s = s.astype(object if pd.api.types.is_integer_dtype(cats) and s.isna().any() else cats)
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(vals)
        if np.all(vals[finite] == np.round(vals[finite])):
            return _whole_float_text(s, vals, finite)
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype == _STR:
        return s
    return s.astype(_STR)


def _whole_float_text(
    s: pd.Series | pd.Index, vals: np.ndarray, finite: np.ndarray
) -> pd.Series | pd.Index:
    """Text of a float column of whole numbers (see :func:`_text_values`)."""
    text = np.full(len(vals), None, dtype=object)
    ints = finite & (np.abs(vals) < 2.0**63)
    if ints.any():
        as_int = pa.array(vals[ints].astype(np.int64)).cast(pa.string())
        text[ints] = as_int.to_numpy(zero_copy_only=False)
    other = ~ints & ~np.isnan(vals)
    text[other] = [repr(float(v)) for v in vals[other]]
    arr = pd.array(text, dtype=_STR)
    if isinstance(s, pd.Index):
        return pd.Index(arr, name=s.name)
    return pd.Series(arr, index=s.index, name=s.name)


def _arrow_text(s: pd.Series) -> pa.Array | pa.ChunkedArray:
    """The column as an Arrow large_string array (nulls for missing)."""
    arr = pa.array(_text_values(s).array)
    return arr.cast(_LARGE) if arr.type != _LARGE else arr


def _from_arrow(arr: pa.Array | pa.ChunkedArray, like: pd.Series) -> pd.Series:
    return pd.Series(pd.array(arr, dtype=_STR), index=like.index, name=like.name)


def _codes_to_series(
    codes: np.ndarray, labels: Sequence[str], like: pd.Series, *, ordered: bool
) -> pd.Series:
    """A categorical Series from integer codes (-1 = missing) and distinct labels."""
    cat = pd.Categorical.from_codes(
        codes.astype(np.int64, copy=False),
        dtype=pd.CategoricalDtype(pd.Index(list(labels), dtype=_STR), ordered=ordered),
    )
    return pd.Series(cat, index=like.index, name=like.name)


def _fmt(x: float) -> str:
    """Short label text for a number: 30 not 30.0, 0.25 not 0.2500000001, 1e+300."""
    if np.isfinite(x) and float(x).is_integer() and abs(x) < 2.0**53:
        return str(int(x))
    return f"{x:.10g}"


def _check_char(mask_char: str, what: str = "mask_char") -> None:
    if not isinstance(mask_char, str) or len(mask_char) != 1:
        got = len(mask_char) if isinstance(mask_char, str) else type(mask_char).__name__
        raise InvalidParameterError(
            f"{what} must be exactly one character; got {got} characters. Use e.g. '*' or 'X'."
        )


def _check_count(value: object, what: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(
            f"{what} must be a whole number >= {minimum}; got {value!r}. "
            f"Give the number of characters as {minimum} or more."
        )
    return int(value)


# --- masking -------------------------------------------------------------------------------


def mask_characters(
    s: pd.Series, *, keep_first: int = 0, keep_last: int = 0, mask_char: str = "*"
) -> pd.Series:
    """Replace every character except the first and last few with a mask character.

    Parameters
    ----------
    s : pandas.Series
        Any column; non-text values are masked in their text form.
    keep_first, keep_last : int, >= 0
        Characters (Unicode code points) left visible at the start and end.
    mask_char : str
        The single replacement character.

    Returns
    -------
    pandas.Series
        Text of the same length per value; missing values stay missing.

    Raises
    ------
    InvalidParameterError
        A negative count or a mask character that is not one character.

    Notes
    -----
    A value with at most ``keep_first + keep_last`` characters is masked entirely, so the
    transform never reveals a whole value. Empty strings stay empty.

    Examples
    --------
    >>> mask_characters(pd.Series(["4111222233334444", "Zoë", None]), keep_last=4).tolist()
    ['************4444', '***', nan]
    """
    first = _check_count(keep_first, "keep_first")
    last = _check_count(keep_last, "keep_last")
    _check_char(mask_char)
    a = _arrow_text(s)
    n = pc.utf8_length(a)
    short = pc.less_equal(n, first + last)
    empty = pa.scalar("", _LARGE)
    head = pc.if_else(short, empty, pc.utf8_slice_codeunits(a, 0, first))
    tail = (
        pc.if_else(short, empty, pc.utf8_slice_codeunits(a, -last, 2**31 - 1))
        if last
        else pc.cast(pc.utf8_slice_codeunits(a, 0, 0), _LARGE)
    )
    hidden = pc.if_else(short, n, pc.subtract(n, first + last))
    stars = pc.binary_repeat(pa.scalar(mask_char, _LARGE), hidden)
    return _from_arrow(pc.binary_join_element_wise(head, stars, tail, empty), s)


def _check_pattern(pattern: object) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise InvalidParameterError(
            "pattern must be a non-empty regular expression, e.g. '\\d' (each digit) or "
            f"'\\d+' (each run of digits); got {type(pattern).__name__}."
        )
    try:
        pc.replace_substring_regex(pa.array([""], _LARGE), pattern, "")
    except pa.ArrowInvalid as exc:
        raise InvalidParameterError(
            f"pattern is not a valid RE2 regular expression ({exc}). Look-arounds and "
            "back-references are not supported; use character classes and repeats."
        ) from None
    return pattern


def mask_pattern(s: pd.Series, *, pattern: str, replacement: str = "*") -> pd.Series:
    r"""Replace every match of a regular expression with a fixed replacement.

    Parameters
    ----------
    s : pandas.Series
        Any column; non-text values are masked in their text form.
    pattern : str
        An RE2 regular expression. ``\d`` masks each digit (length kept); ``\d+`` replaces
        each run of digits with one replacement.
    replacement : str
        Text put in place of each match (may be empty).

    Returns
    -------
    pandas.Series
        Text; missing values stay missing.

    Raises
    ------
    InvalidParameterError
        An empty or invalid pattern.

    Notes
    -----
    Matching uses RE2 (through Arrow), which runs in time linear in the input, so a
    user-supplied pattern cannot stall the app with catastrophic backtracking.

    Examples
    --------
    >>> mask_pattern(pd.Series(["Flat 12, 3rd floor"]), pattern=r"\d").tolist()
    ['Flat **, *rd floor']
    >>> mask_pattern(pd.Series(["Flat 12, 3rd floor"]), pattern=r"\d+", replacement="#").tolist()
    ['Flat #, #rd floor']
    """
    _check_pattern(pattern)
    if not isinstance(replacement, str):
        raise InvalidParameterError(
            f"replacement must be text; got {type(replacement).__name__}. Use e.g. '*'."
        )
    out = pc.replace_substring_regex(_arrow_text(s), pattern, replacement)
    return _from_arrow(out, s)


def replace(s: pd.Series, *, value: str, include_missing: bool = False) -> pd.Series:
    """Replace every value with one constant (for example a category label).

    Parameters
    ----------
    s : pandas.Series
        Any column.
    value : str
        The constant.
    include_missing : bool
        Also fill missing cells (by default they stay missing, which keeps the fact that
        a value was absent).

    Returns
    -------
    pandas.Series
        Text column.

    Examples
    --------
    >>> replace(pd.Series(["a", None]), value="Other").tolist()
    ['Other', nan]
    """
    if not isinstance(value, str):
        raise InvalidParameterError(
            f"value must be text; got {type(value).__name__}. Give the label as a string."
        )
    missing = s.isna().to_numpy()
    codes = np.zeros(len(s), dtype=np.int64)
    if not include_missing:
        codes[missing] = -1
    return _codes_to_series(codes, [value], s, ordered=False).astype(_STR)


def redact(s: pd.Series, *, label: str = "[REDACTED]") -> pd.Series:
    """Replace every present value with a redaction label; missing stays missing.

    >>> redact(pd.Series(["alice@example.org", "", None])).tolist()
    ['[REDACTED]', '[REDACTED]', nan]
    """
    return replace(s, value=label)


# --- keyed pseudonymization ----------------------------------------------------------------


def generate_key() -> bytes:
    """A fresh 256-bit pseudonymization key from the operating system's CSPRNG.

    >>> len(generate_key())
    32
    """
    return _secrets.token_bytes(32)


def key_from_text(text: str) -> bytes:
    """Turn a user-entered key into key bytes.

    Sixty-four (or more, even) hex digits are read as hex (what :func:`generate_key`
    gives once printed with ``.hex()``); any other text is used as its UTF-8 bytes. Leading
    and trailing white space (a newline at the end of a key file) is ignored.

    Raises
    ------
    InvalidParameterError
        Fewer than ``PSEUDONYM_KEY_MIN_BYTES`` bytes. The message gives the length only.

    Examples
    --------
    >>> key_from_text("00" * 32) == bytes(32)
    True
    """
    text = text.strip()
    raw: bytes
    if len(text) >= 64 and len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
        raw = bytes.fromhex(text)
    else:
        raw = text.encode("utf-8")
    _check_key(raw)
    return raw


def _check_key(key: object) -> bytes:
    if not isinstance(key, bytes | bytearray):
        raise InvalidParameterError(
            f"the pseudonymization key must be bytes; got {type(key).__name__}. "
            "Use generate_key() or key_from_text()."
        )
    if len(key) < PSEUDONYM_KEY_MIN_BYTES:
        raise InvalidParameterError(
            f"the pseudonymization key must be at least {PSEUDONYM_KEY_MIN_BYTES} bytes; got "
            f"{len(key)} bytes. Generate a key, or enter a longer passphrase."
        )
    return bytes(key)


def pseudonymize(s: pd.Series, *, key: bytes, length: int = 16) -> pd.Series:
    """Replace each value with a keyed token: HMAC-SHA256 under ``key``, truncated.

    Parameters
    ----------
    s : pandas.Series
        Any column; values are tokenized in their text form (see Notes).
    key : bytes
        Secret key, at least ``PSEUDONYM_KEY_MIN_BYTES`` bytes. It is never stored in the
        output, in a recipe or in a message.
    length : int, in [PSEUDONYM_LENGTH_MIN, PSEUDONYM_LENGTH_MAX]
        Hex characters kept from the 64-character digest (4 bits each).

    Returns
    -------
    pandas.Series
        Text tokens; missing values stay missing.

    Raises
    ------
    InvalidParameterError
        A short key or a length out of range.

    Notes
    -----
    ``token(v) = hex(HMAC-SHA256(key, utf8(text(v))))[:length]``, with ``text(10115.0) =
    "10115"``. Equal values give equal tokens under one key, so joins and counts still
    work; without the key a token cannot be recomputed from a guessed value, unlike a plain
    or salted hash, whose input space (a 9-digit number, a name list) can be enumerated.
    With ``length`` hex characters, two of ``n`` distinct values collide with probability
    about ``n**2 / 2**(4*length+1)``; use ``length >= 16`` for large columns.
    The HMAC is computed once per distinct value.

    References
    ----------
    .. [RFC2104] Krawczyk, Bellare, Canetti, "HMAC: Keyed-Hashing for Message
       Authentication", RFC 2104, 1997.

    Examples
    --------
    >>> k = bytes(range(32))
    >>> out = pseudonymize(pd.Series(["alice", "bob", "alice", None]), key=k, length=8)
    >>> bool(out[0] == out[2]), bool(out[0] != out[1]), bool(out.isna()[3])
    (True, True, True)
    """
    raw = _check_key(key)
    if (
        isinstance(length, bool)
        or not isinstance(length, int | np.integer)
        or not PSEUDONYM_LENGTH_MIN <= length <= PSEUDONYM_LENGTH_MAX
    ):
        raise InvalidParameterError(
            f"length must be a whole number in [{PSEUDONYM_LENGTH_MIN}, {PSEUDONYM_LENGTH_MAX}]; "
            f"got {length!r}. Use 16 or more for columns with many distinct values."
        )
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    texts = _text_values(pd.Series(uniques)).tolist()
    digest = hmac.digest
    tokens = [digest(raw, t.encode("utf-8"), "sha256").hex()[:length] for t in texts]
    arr = pa.array(tokens, _LARGE).take(pa.array(codes, mask=codes < 0))
    return _from_arrow(arr, s)


# --- generalization ------------------------------------------------------------------------


def _labels_from_codes(
    codes: np.ndarray, valid: np.ndarray, label: Callable[[int], str], like: pd.Series
) -> pd.Series:
    """Categorical of the used codes only, in code order, labelled by ``label(code)``."""
    out = np.full(len(codes), -1, dtype=np.int64)
    if valid.any():
        v = codes[valid]
        lo = int(v.min())
        used = np.bincount(v - lo).astype(bool)
        remap = np.cumsum(used) - 1
        out[valid] = remap[v - lo]
        labels = [label(lo + int(i)) for i in np.flatnonzero(used)]
    else:
        labels = []
    return _codes_to_series(out, labels, like, ordered=True)


def bin_width(s: pd.Series, *, width: float, origin: float = 0.0) -> pd.Series:
    """Generalize a numeric column into fixed-width intervals ``[lo, lo + width)``.

    Parameters
    ----------
    s : pandas.Series
        Numeric column.
    width : float, > 0
        Interval width.
    origin : float
        An interval boundary (bins are ``origin + i * width``).

    Returns
    -------
    pandas.Series
        Ordered categorical of interval labels such as ``"[30, 40)"``; missing stays missing.

    Raises
    ------
    ColumnError
        A non-numeric column.
    InvalidParameterError
        A width that is not positive and finite.

    Examples
    --------
    >>> bin_width(pd.Series([39, 40, 17, None]), width=10).tolist()
    ['[30, 40)', '[40, 50)', '[10, 20)', nan]
    """
    x = _require_numeric(s, "Fixed-width binning")
    if not isinstance(width, int | float) or not np.isfinite(width) or width <= 0:
        raise InvalidParameterError(f"width must be a positive number; got {width!r}.")
    if not isinstance(origin, int | float) or not np.isfinite(origin):
        raise InvalidParameterError(f"origin must be a finite number; got {origin!r}.")
    valid = np.isfinite(x)
    codes = np.zeros(len(x), dtype=np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.floor((x[valid] - origin) / width)  # float: no wrap-around before the check
    if steps.size and not (
        np.all(np.isfinite(steps))
        and steps.max() - steps.min() <= 10_000_000
        and np.abs(steps).max() < 2.0**53
    ):
        raise InvalidParameterError(
            f"width {width!r} makes more than 10,000,000 intervals for {_name(s)}, or puts "
            "its values more than 2**53 intervals from the origin. Choose a larger width."
        )
    codes[valid] = steps.astype(np.int64)

    def label(i: int) -> str:
        return f"[{_fmt(origin + i * width)}, {_fmt(origin + (i + 1) * width)})"

    return _labels_from_codes(codes, valid, label, s)


def _check_edges(edges: object) -> np.ndarray:
    arr = np.asarray(edges, dtype="float64") if isinstance(edges, list | tuple) else None
    if arr is None or arr.ndim != 1 or arr.size < 1 or not np.all(np.isfinite(arr)):
        raise InvalidParameterError(
            "edges must be a list of one or more finite numbers, e.g. [18, 30, 50, 65]; "
            f"got {type(edges).__name__}."
        )
    if np.any(np.diff(arr) <= 0):
        raise InvalidParameterError(
            f"edges must be strictly increasing; got {len(arr)} edges that are not. "
            "Sort them and remove duplicates."
        )
    return arr


def _cut(s: pd.Series, x: np.ndarray, edges: np.ndarray, *, closed_last: bool) -> pd.Series:
    valid = np.isfinite(x)
    m = len(edges)
    codes = np.searchsorted(edges, x, side="right").astype(np.int64)
    if closed_last:
        codes[valid & (x == edges[-1])] = m - 1

    def label(i: int) -> str:
        if i == 0:
            return f"< {_fmt(edges[0])}"
        if i == m:
            return f">= {_fmt(edges[-1])}"
        close = "]" if closed_last and i == m - 1 else ")"
        return f"[{_fmt(edges[i - 1])}, {_fmt(edges[i])}{close}"

    return _labels_from_codes(codes, valid, label, s)


def bin_edges(s: pd.Series, *, edges: Sequence[float]) -> pd.Series:
    """Generalize a numeric column into intervals with custom edges.

    Parameters
    ----------
    s : pandas.Series
        Numeric column.
    edges : sequence of float
        Strictly increasing boundaries. Values below the first edge are labelled
        ``"< e0"`` and values at or above the last ``">= eN"``, which top- and bottom-codes
        in the same step.

    Returns
    -------
    pandas.Series
        Ordered categorical of labels such as ``"[30, 50)"``.

    Raises
    ------
    ColumnError
        A non-numeric column.
    InvalidParameterError
        Edges that are empty, not finite or not increasing.

    Examples
    --------
    >>> bin_edges(pd.Series([17, 18, 49.5, 65, 90]), edges=[18, 50, 65]).tolist()
    ['< 18', '[18, 50)', '[18, 50)', '>= 65', '>= 65']
    """
    x = _require_numeric(s, "Binning with custom edges")
    return _cut(s, x, _check_edges(edges), closed_last=False)


def bin_quantiles(s: pd.Series, *, q: int) -> pd.Series:
    """Generalize a numeric column into ``q`` intervals of (about) equal counts.

    Parameters
    ----------
    s : pandas.Series
        Numeric column with at least one present value.
    q : int, >= 2
        Number of quantile intervals; fewer result when quantiles coincide.

    Returns
    -------
    pandas.Series
        Ordered categorical; the last interval is closed (it holds the maximum).

    Raises
    ------
    ColumnError
        A non-numeric or all-missing column.
    InvalidParameterError
        ``q`` below 2.

    Notes
    -----
    Edges are ``numpy.quantile`` (linear interpolation) of the present values at
    ``0, 1/q, ..., 1``; duplicate edges are merged, as ``pandas.qcut(duplicates="drop")``.

    Examples
    --------
    >>> bin_quantiles(pd.Series([1, 2, 3, 4]), q=2).tolist()
    ['[1, 2.5)', '[1, 2.5)', '[2.5, 4]', '[2.5, 4]']
    """
    x = _require_numeric(s, "Quantile binning")
    q = _check_count(q, "q", minimum=2)
    present = x[np.isfinite(x)]
    if present.size == 0:
        raise ColumnError(
            f"{_name(s)} has no present values, so it has no quantiles. Pick another column."
        )
    edges = np.unique(np.quantile(present, np.linspace(0.0, 1.0, q + 1)))
    if edges.size == 1:
        # A constant column: one closed interval [v, v].
        edges = np.array([edges[0], edges[0]])
        codes = np.where(np.isfinite(x), 1, -1).astype(np.int64)
        lab = f"[{_fmt(edges[0])}, {_fmt(edges[0])}]"
        return _codes_to_series(np.where(codes > 0, 0, -1), [lab], s, ordered=True)
    return _cut(s, x, edges, closed_last=True)


def round_to(s: pd.Series, *, base: float) -> pd.Series:
    """Round a numeric column to the nearest multiple of ``base`` (e.g. 5, 1000, 0.1).

    Notes
    -----
    ``round(x / base) * base`` with NumPy's round-half-to-even; integer columns stay
    integer when ``base`` is a whole number. Missing stays missing.

    Examples
    --------
    >>> round_to(pd.Series([52_300, 61_800]), base=1000).tolist()
    [52000, 62000]
    >>> round_to(pd.Series([0.34, None]), base=0.1).tolist()
    [0.3, nan]
    """
    x = _require_numeric(s, "Rounding")
    if not isinstance(base, int | float) or not np.isfinite(base) or base <= 0:
        raise InvalidParameterError(f"base must be a positive number; got {base!r}.")
    out = np.round(x / base) * base
    if not float(base).is_integer():
        out = np.round(out, max(0, int(-np.floor(np.log10(base)))) + 6)
    if pd.api.types.is_integer_dtype(s.dtype) and float(base).is_integer():
        return pd.Series(out, index=s.index, name=s.name).astype(s.dtype)
    return pd.Series(out, index=s.index, name=s.name)


def top_bottom_code(
    s: pd.Series, *, lower: float | None = None, upper: float | None = None
) -> pd.Series:
    """Replace values below ``lower`` with ``lower`` and above ``upper`` with ``upper``.

    Notes
    -----
    Top- and bottom-coding as in sdcMicro's ``topBotCoding`` with the threshold as the
    replacement value. Missing stays missing.

    Examples
    --------
    >>> top_bottom_code(pd.Series([15, 40, 95]), lower=18, upper=80).tolist()
    [18, 40, 80]
    """
    _require_numeric(s, "Top/bottom coding")
    for what, v in (("lower", lower), ("upper", upper)):
        if v is not None and (not isinstance(v, int | float) or not np.isfinite(v)):
            raise InvalidParameterError(f"{what} must be a finite number or empty; got {v!r}.")
    if lower is None and upper is None:
        raise InvalidParameterError(
            "top/bottom coding needs a lower or an upper threshold; got neither."
        )
    if lower is not None and upper is not None and lower >= upper:
        raise InvalidParameterError(
            f"lower must be below upper; got lower={lower!r}, upper={upper!r}."
        )
    integral = all(v is None or float(v).is_integer() for v in (lower, upper))
    if pd.api.types.is_integer_dtype(s.dtype) and integral:
        lo = None if lower is None else int(lower)
        hi = None if upper is None else int(upper)
        return s.clip(lower=lo, upper=hi)
    return s.astype("float64").clip(lower=lower, upper=upper)


def _parse_dates(s: pd.Series, date_format: str | None) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return s
    if date_format is not None and not isinstance(date_format, str):
        raise InvalidParameterError(
            f"date_format must be a strftime pattern such as '%d/%m/%Y'; got "
            f"{type(date_format).__name__}."
        )
    try:
        parsed = pd.to_datetime(_text_values(s), errors="coerce", format=date_format or "ISO8601")
    except ValueError as exc:
        raise InvalidParameterError(
            f"date_format could not be used ({exc}). Give a strftime pattern such as '%d/%m/%Y'."
        ) from None
    present = s.notna().to_numpy()
    if present.any() and not parsed.notna().to_numpy()[present].any():
        raise ColumnError(
            f"none of the {int(present.sum())} present values of {_name(s)} could be read as "
            "dates. Give the date_format (e.g. '%d/%m/%Y') or choose a date column."
        )
    return parsed


def generalize_date(
    s: pd.Series,
    *,
    unit: Literal["year", "month", "age_band"],
    band_width: int = 10,
    reference: str | None = None,
    date_format: str | None = None,
) -> pd.Series:
    """Generalize dates to their year, their month, or an age band at a reference date.

    Parameters
    ----------
    s : pandas.Series
        Dates, as datetimes or text (ISO 8601 unless ``date_format`` is given).
    unit : {"year", "month", "age_band"}
        ``"2019"``, ``"2019-03"``, or the age in whole years at ``reference`` banded by
        ``band_width``: ``"30-39"``.
    band_width : int, >= 1
        Width of an age band in years.
    reference : str, optional
        ISO date at which ages are computed; required for ``"age_band"`` so the result is
        reproducible.
    date_format : str, optional
        strftime pattern for text dates.

    Returns
    -------
    pandas.Series
        Ordered categorical. Text that cannot be read as a date becomes missing (the
        recipe's change log counts it as suppressed).

    Raises
    ------
    ColumnError
        No present value reads as a date.
    InvalidParameterError
        An unknown unit, a bad band width or reference, or dates after the reference.

    Notes
    -----
    The age is ``ref.year - d.year - 1`` if ``(d.month, d.day)`` comes after
    ``(ref.month, ref.day)``, else ``ref.year - d.year`` (completed years).

    Examples
    --------
    >>> d = pd.Series(["1985-06-30", "1990-07-01", None])
    >>> generalize_date(d, unit="month").tolist()
    ['1985-06', '1990-07', nan]
    >>> generalize_date(d, unit="age_band", reference="2020-07-01").tolist()
    ['30-39', '30-39', nan]
    """
    if unit not in ("year", "month", "age_band"):
        raise InvalidParameterError(f"unit must be 'year', 'month' or 'age_band'; got {unit!r}.")
    width = _check_count(band_width, "band_width", minimum=1)
    ref: date | None = None
    if unit == "age_band":
        if not isinstance(reference, str):
            raise InvalidParameterError(
                "age bands need a reference date (ISO, e.g. '2024-12-31') so the result is "
                "reproducible; got none."
            )
        try:
            ref = date.fromisoformat(reference)
        except ValueError:
            raise InvalidParameterError(
                f"reference must be an ISO date such as '2024-12-31'; got {reference!r}."
            ) from None
    d = _parse_dates(s, date_format)
    valid = d.notna().to_numpy()
    year = d.dt.year.to_numpy(dtype="float64", na_value=np.nan)
    month = d.dt.month.to_numpy(dtype="float64", na_value=np.nan)
    codes = np.zeros(len(s), dtype=np.int64)
    if unit == "year":
        codes[valid] = year[valid].astype(np.int64)
        return _labels_from_codes(codes, valid, str, s)
    if unit == "month":
        codes[valid] = (year[valid] * 12 + month[valid] - 1).astype(np.int64)
        return _labels_from_codes(codes, valid, lambda c: f"{c // 12:04d}-{c % 12 + 1:02d}", s)
    assert ref is not None
    day = d.dt.day.to_numpy(dtype="float64", na_value=np.nan)
    later = (month * 100 + day) > (ref.month * 100 + ref.day)
    age = ref.year - year - later
    if np.any(age[valid] < 0):
        raise InvalidParameterError(
            f"{int(np.sum(age[valid] < 0))} dates of {_name(s)} fall after the reference date "
            f"{reference}. Choose a later reference date."
        )
    codes[valid] = (age[valid] // width).astype(np.int64)
    return _labels_from_codes(codes, valid, lambda c: f"{c * width}-{c * width + width - 1}", s)


def truncate_prefix(s: pd.Series, *, keep: int, fill: str = "*") -> pd.Series:
    """Keep the first ``keep`` characters (a postal-code prefix), fill the rest.

    Parameters
    ----------
    s : pandas.Series
        Codes as text or integers.
    keep : int, >= 0
        Characters kept from the start.
    fill : str
        One character written in place of each dropped character, or ``""`` to shorten.

    Examples
    --------
    >>> truncate_prefix(pd.Series(["10115", "SW1A 1AA", "99"]), keep=3).tolist()
    ['101**', 'SW1*****', '99']
    >>> truncate_prefix(pd.Series([10115]), keep=2, fill="").tolist()
    ['10']
    """
    keep = _check_count(keep, "keep")
    if fill != "":
        _check_char(fill, "fill")
    a = _arrow_text(s)
    head = pc.utf8_slice_codeunits(a, 0, keep)
    if fill == "":
        return _from_arrow(head, s)
    rest = pc.max_element_wise(pc.subtract(pc.utf8_length(a), keep), 0)
    tail = pc.binary_repeat(pa.scalar(fill, _LARGE), rest)
    return _from_arrow(pc.binary_join_element_wise(head, tail, pa.scalar("", _LARGE)), s)


def group_categories(
    s: pd.Series, *, mapping: Mapping[str, str], other: str | None = None
) -> pd.Series:
    """Group categories with a mapping ``{value: group label}``.

    Parameters
    ----------
    s : pandas.Series
        Any column; values are matched in their text form.
    mapping : mapping of str to str
        The group label of each listed value.
    other : str, optional
        Label of every value not in ``mapping``; by default unlisted values are kept.

    Returns
    -------
    pandas.Series
        Categorical of labels; missing stays missing.

    Examples
    --------
    >>> m = {"Never-married": "Single", "Divorced": "Single"}
    >>> group_categories(pd.Series(["Divorced", "Married", None]), mapping=m).tolist()
    ['Single', 'Married', nan]
    >>> group_categories(pd.Series(["Divorced", "Married"]), mapping=m, other="Other").tolist()
    ['Single', 'Other']
    """
    if not isinstance(mapping, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
    ):
        raise InvalidParameterError(
            "mapping must map text values to text group labels, e.g. "
            '{"Divorced": "Single"}; got a ' + type(mapping).__name__ + "."
        )
    if other is not None and not isinstance(other, str):
        raise InvalidParameterError(f"other must be text or empty; got {type(other).__name__}.")
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    texts = _text_values(pd.Series(uniques)).tolist()
    labels = [mapping.get(t, t if other is None else other) for t in texts]
    new_codes, new_labels = pd.factorize(pd.Series(labels, dtype=_STR))
    final = np.where(codes >= 0, new_codes[np.maximum(codes, 0)] if len(labels) else -1, -1)
    return _codes_to_series(final, list(new_labels), s, ordered=False)


# --- equivalence classes and local suppression -------------------------------------------


def _column_codes(
    frame: pd.DataFrame, columns: Sequence[str], known: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """An (n, q) int64 matrix of per-column factor codes, -1 for missing.

    ``known`` gives codes already computed for some columns (-1 = missing, equal exactly
    when the values are), used instead of reading those columns.
    """
    out = np.empty((len(frame), len(columns)), dtype=np.int64, order="F")
    for j, c in enumerate(columns):
        if known is not None and c in known:
            out[:, j] = known[c]
        else:
            out[:, j] = pd.factorize(frame[c], use_na_sentinel=True)[0]
    return out


def _patterns(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """Per row of a code matrix, the number of its distinct row (pattern), and their count.

    Patterns are numbered in an arbitrary but fixed order; rows are equal exactly when
    their numbers are.
    """
    return _patterns_of([codes[:, j] for j in range(codes.shape[1])], codes.shape[0])


def _patterns_of(columns: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, int]:
    """:func:`_patterns` of the matrix whose columns are ``columns`` (``n`` rows each)."""
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for col in columns:
        card = int(col.max(initial=-1)) + 2
        if span * card >= 2**62:  # compress before the mixed radix overflows
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max(initial=-1)) + 1
        key = key * card + (col + 1)
        span *= card
    if span <= 4 * n + 1024:  # a dense key: rank the used values without hashing
        used = np.bincount(key, minlength=span) > 0
        rank = np.cumsum(used) - 1
        return rank[key], int(used.sum())
    inv = pd.factorize(key)[0].astype(np.int64)
    return inv, int(inv.max(initial=-1)) + 1


def _sizes_of_codes(codes: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Class size of each row of a code matrix (missing, -1, is a value of its own).

    With ``weights``, row i stands for ``weights[i]`` records.
    """
    n = codes.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key, m = _patterns(codes)
    if weights is None:
        return np.bincount(key, minlength=m)[key]
    return np.bincount(key, weights=weights, minlength=m).astype(np.int64)[key]


def class_sizes(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Size of each record's equivalence class over ``columns``.

    Notes
    -----
    A missing value is a value of its own (as the ``*`` of a suppressed cell in ARX), so
    the sizes of all classes add up to the number of rows.

    Examples
    --------
    >>> class_sizes(pd.DataFrame({"a": [1, 1, 2, None], "b": ["x", "x", "y", "y"]}),
    ...             ["a", "b"]).tolist()
    [2, 2, 1, 1]
    """
    _require_columns(frame, columns)
    return _sizes_of_codes(_column_codes(frame, columns))


def check_column_names(frame: pd.DataFrame) -> None:
    """Refuse a frame whose column names are not unique text (the loader never makes one).

    Raises
    ------
    ColumnError
        A non-text name (e.g. the integers of ``pd.DataFrame(array)``) or a repeated name;
        the message names the repeated name and how often it appears.

    Examples
    --------
    >>> try:
    ...     check_column_names(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    ... except ColumnError as exc:
    ...     print(str(exc)[:26])
    column 'a' appears 2 times
    """
    other = [c for c in frame.columns if not isinstance(c, str)]
    if other:
        kinds = sorted({type(c).__name__ for c in other})
        raise ColumnError(
            f"column names must be text; got {len(other)} name(s) of type {', '.join(kinds)}. "
            "Rename the columns to strings, e.g. frame.columns = frame.columns.map(str)."
        )
    if not frame.columns.is_unique:
        counts = frame.columns.value_counts()
        dup = counts[counts > 1]
        raise ColumnError(
            f"column '{dup.index[0]}' appears {int(dup.iloc[0])} times"
            f"{f' ({len(dup)} names are repeated)' if len(dup) > 1 else ''}; each column needs "
            "its own name. Rename or drop the repeated columns."
        )


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    check_column_names(frame)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ColumnError(
            f"{len(missing)} column(s) not in the data: {', '.join(map(str, missing))}. "
            f"The data has {frame.shape[1]} columns; check the names."
        )


def _check_k(k: object, n_rows: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise InvalidParameterError(f"k must be a whole number >= 1; got {k!r}.")
    return int(k)


@dataclass(frozen=True, slots=True, kw_only=True)
class QIPatterns:
    """The distinct rows (patterns) of quasi-identifier codes, each standing for its records.

    Made by :func:`qi_patterns`; a caller that keeps the codes of its quasi-identifiers
    between calls (the Masking page) keeps these too, so :func:`local_suppression` does not
    group the records again when only ``k`` changes.

    Attributes
    ----------
    inv : numpy.ndarray
        Per record, the number of its pattern.
    pat : numpy.ndarray
        ``(m, q)`` codes of each pattern (read only).
    weight : numpy.ndarray
        Records per pattern (float64).
    first : numpy.ndarray
        Per pattern, its first record.
    """

    inv: np.ndarray
    pat: np.ndarray
    weight: np.ndarray
    first: np.ndarray


def qi_patterns(codes: Sequence[np.ndarray]) -> QIPatterns:
    """The distinct patterns of per-column codes (``-1`` = missing), one array per column.

    >>> p = qi_patterns([np.array([0, 1, 0, -1]), np.array([2, 0, 2, 0])])
    >>> p.inv[0] == p.inv[2], p.weight[p.inv[0]], p.first[p.inv[3]]
    (np.True_, np.float64(2.0), np.int64(3))
    """
    cols = [np.asarray(c, dtype=np.int64) for c in codes]
    n = len(cols[0]) if cols else 0
    inv, m = _patterns_of(cols, n)
    first = np.full(m, -1, dtype=np.int64)
    first[inv[::-1]] = np.arange(n - 1, -1, -1)
    pat = np.empty((m, len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        pat[:, j] = c[first]
    pat.flags.writeable = False
    weight = np.bincount(inv, minlength=m).astype(np.float64)
    return QIPatterns(inv=inv, pat=pat, weight=weight, first=first)


@dataclass(frozen=True, slots=True, kw_only=True)
class SuppressionResult:
    """What :func:`local_suppression` did.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data after suppression (cells set to missing, or records removed).
    cells_suppressed : dict of str to int
        Per quasi-identifier, cells newly set to missing.
    records_suppressed : int
        Records removed (``mode="records"``).
    k_before, k_after : int
        Smallest class size over the quasi-identifiers before and after (0 for no rows).
    warnings : tuple of str
    newly_missing : dict of str to numpy.ndarray
        ``mode="cells"``: per quasi-identifier with a cell set to missing, the row mask of
        those cells.
    kept : numpy.ndarray, optional
        ``mode="records"``: per input row, whether it is kept.
    codes : mapping of str to numpy.ndarray
        Per quasi-identifier, codes of its values after suppression on the kept rows
        (-1 = missing, equal exactly when the values are), made when first read.
    grouping : core.codes.Grouping, optional
        The records of :attr:`frame` grouped by the codes of the quasi-identifiers after
        suppression (in their order), from the patterns the suppression worked on: their
        equivalence classes without grouping the records again.
    """

    frame: pd.DataFrame
    cells_suppressed: dict[str, int]
    records_suppressed: int
    k_before: int
    k_after: int
    warnings: tuple[str, ...] = ()
    newly_missing: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    kept: np.ndarray | None = field(default=None, repr=False)
    codes: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)
    grouping: Grouping | None = field(default=None, repr=False)


def local_suppression(
    frame: pd.DataFrame,
    *,
    quasi_identifiers: Sequence[str],
    k: int,
    mode: Literal["cells", "records"] = "cells",
    importance: Sequence[str] | None = None,
    codes: Mapping[str, np.ndarray] | None = None,
    patterns: QIPatterns | None = None,
) -> SuppressionResult:
    """Suppress quasi-identifier cells (or whole records) until k-anonymity holds.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; not modified.
    quasi_identifiers : sequence of str
        Columns whose combination must be shared by at least ``k`` records.
    k : int, >= 1
        Smallest allowed class size.
    mode : {"cells", "records"}
        ``"cells"`` sets individual values to missing (sdcMicro's ``localSuppression``);
        ``"records"`` removes every record of a class smaller than ``k`` (ARX's record
        suppression).
    importance : sequence of str, optional
        Quasi-identifiers in the order they should be *kept*: the last one is suppressed
        first. By default, columns with more distinct values are suppressed first (they
        split classes most), ties in column order.
    codes : mapping of str to numpy.ndarray, optional
        Codes already computed for some quasi-identifiers (per row, ``-1`` = missing,
        ``0 .. m - 1`` otherwise, equal exactly when the values are), used instead of reading
        those columns (:attr:`core.recipe.HardeningResult.column_codes`).
    patterns : QIPatterns, optional
        :func:`qi_patterns` of exactly these codes (the quasi-identifiers in this order),
        kept by the caller between calls so the records are not grouped again.

    Returns
    -------
    SuppressionResult

    Raises
    ------
    ColumnError
        A quasi-identifier not in the frame.
    InvalidParameterError
        No quasi-identifiers, ``k < 1``, an unknown mode, or an ``importance`` that is not
        a permutation of the quasi-identifiers.

    Notes
    -----
    Class of a record = the records with the same quasi-identifier values; a missing value
    is a value of its own (a suppressed ``*``), so a suppressed record joins the class of
    records suppressed the same way, never "matches anything" (sdcMicro's wildcard view
    would undercount risk).

    Cell mode is a greedy heuristic (optimal suppression is NP-hard [MW04]_). Each round,
    every record of a class smaller than ``k`` suppresses one more cell: the first column
    (in suppression order) whose suppression puts it in a class of at least ``k``, or else
    the first column in suppression order. Records with identical values choose alike, so
    a class never splits, and a class of ``k`` or more only ever grows. When records remain
    below ``k`` with all quasi-identifiers suppressed, the fewest extra records needed are
    suppressed from the largest classes (which keep ``k``); if the data are too small for
    that, a warning says so and ``k_after < k``.

    References
    ----------
    .. [MW04] Meyerson, Williams, "On the complexity of optimal k-anonymity", PODS 2004.
    .. [TMK15] Templ, Kowarik, Meindl, "Statistical Disclosure Control for Micro-Data Using
       the R Package sdcMicro", Journal of Statistical Software 67(4), 2015.
    .. [PKL14] Prasser, Kohlmayer, Lautenschläger, Kuhn, "ARX - A Comprehensive Tool for
       Anonymizing Biomedical Data", AMIA 2014.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30, 30, 30, 40], "zip": ["A", "A", "B", "B"]})
    >>> r = local_suppression(df, quasi_identifiers=["age", "zip"], k=2)
    >>> r.cells_suppressed, r.k_after
    ({'age': 2, 'zip': 0}, 2)
    """
    qis = list(quasi_identifiers)
    if not qis:
        raise InvalidParameterError(
            "local suppression needs at least one quasi-identifier; got none. Mark columns "
            "as quasi-identifiers first."
        )
    _require_columns(frame, qis)
    k = _check_k(k, len(frame))
    if mode not in ("cells", "records"):
        raise InvalidParameterError(f"mode must be 'cells' or 'records'; got {mode!r}.")
    given = [
        np.asarray(codes[c], dtype=np.int64)
        if codes is not None and c in codes
        else pd.factorize(frame[c], use_na_sentinel=True)[0].astype(np.int64)
        for c in qis
    ]
    if patterns is None:
        patterns = qi_patterns(given)
    inv, weight = patterns.inv, patterns.weight
    pat = patterns.pat.copy()  # the rounds below suppress cells of this copy
    m = len(weight)
    if importance is None:
        # codes are dense (0 .. distinct - 1), so the largest code gives the count
        distinct = [int(pat[:, j].max(initial=-1)) + 1 for j in range(len(qis))]
        order = sorted(range(len(qis)), key=lambda j: -distinct[j])
    else:
        if sorted(importance) != sorted(qis):
            raise InvalidParameterError(
                f"importance must list each of the {len(qis)} quasi-identifiers once; got "
                f"{len(importance)} names that do not match."
            )
        order = [qis.index(c) for c in reversed(list(importance))]
    sizes_p = _sizes_of_codes(pat, weight)
    k_before = int(sizes_p.min()) if m else 0
    warnings: list[str] = []
    if mode == "records":
        keep = (sizes_p >= k)[inv]
        out = frame.loc[keep]
        removed = int(keep.size - np.count_nonzero(keep))
        if len(frame) and not keep.any():
            warnings.append(
                f"Every one of the {len(frame)} records is in a class smaller than {k}; all "
                "were removed. Generalize the quasi-identifiers first, or lower k."
            )
        k_after = int(sizes_p[sizes_p >= k].min()) if keep.any() else 0
        # whole patterns are kept or removed: a kept pattern's first record moves to its
        # position among the kept records
        kept_p = sizes_p >= k
        position = np.cumsum(keep) - 1
        grouping = Grouping(
            columns=tuple(qis),
            inv=inv[keep],
            pat=patterns.pat,
            count=np.where(kept_p, weight, 0).astype(np.int64),
            first=np.where(kept_p, position[patterns.first], 0),
        )
        return SuppressionResult(
            frame=out,
            cells_suppressed=dict.fromkeys(qis, 0),
            records_suppressed=removed,
            k_before=k_before,
            k_after=k_after,
            warnings=tuple(warnings),
            kept=keep,
            codes=KnownCodes({c: _taken(given[j], keep) for j, c in enumerate(qis)}),
            grouping=grouping,
        )

    original_na = pat < 0
    sizes_p = _suppression_rounds(pat, weight, k, order)
    newly_p = (pat < 0) & ~original_na  # per pattern and QI: newly missing
    newly = _newly_missing(newly_p, inv, qis)
    below = sizes_p < k
    grouping = Grouping(
        columns=tuple(qis), inv=inv, pat=pat, count=weight.astype(np.int64), first=patterns.first
    )
    if below.any():
        borrowed, k_after = _borrow(patterns, pat, k)
        if borrowed is not None:
            for j, c in enumerate(qis):
                hit = borrowed[pat[inv[borrowed], j] >= 0]
                if hit.size:
                    newly.setdefault(c, np.zeros(len(inv), dtype=bool))[hit] = True
            grouping = _with_borrowed(grouping, borrowed)
        else:
            k_after = int(sizes_p.min())
            warnings.append(
                f"{int(weight[below].sum())} records stay in a class smaller than {k} even "
                "with every quasi-identifier suppressed, and the other classes have too few "
                "spare records to join them. Use record suppression, or lower k."
            )
    else:
        k_after = int(sizes_p.min()) if m else 0
    out = frame.copy(deep=False)
    cells = {}
    after = {}
    for j, c in enumerate(qis):
        m_ = newly.get(c)
        cells[c] = 0 if m_ is None else int(np.count_nonzero(m_))
        after[c] = _blanked(given[j], m_)
        if m_ is not None:
            col = out[c]
            if pd.api.types.is_integer_dtype(col.dtype) and not isinstance(
                col.dtype, pd.CategoricalDtype
            ):
                # the nullable type of the same kind and width: uint64 -> UInt64
                col = col.astype(str(col.dtype).replace("uint", "UInt").replace("int", "Int"))
            out[c] = _blank(col, m_)
    return SuppressionResult(
        frame=out,
        cells_suppressed=cells,
        records_suppressed=0,
        k_before=k_before,
        k_after=k_after,
        warnings=tuple(warnings),
        newly_missing=newly,
        codes=KnownCodes(after),
        grouping=grouping,
    )


def _newly_missing(
    newly_p: np.ndarray, inv: np.ndarray, qis: Sequence[str]
) -> dict[str, np.ndarray]:
    """Per quasi-identifier with a cell newly missing, the row mask of those cells, from the
    per-pattern masks ``newly_p``: the records of touched patterns are found in one pass,
    then each column's mask is set on those records only."""
    cols = [j for j in range(len(qis)) if newly_p[:, j].any()]
    if not cols:
        return {}
    touched = np.asarray(newly_p[:, cols].any(axis=1), dtype=bool)
    rows = np.flatnonzero(touched[inv])
    of_rows = newly_p[inv[rows]]
    out = {}
    for j in cols:
        mask = np.zeros(inv.size, dtype=bool)
        mask[rows[of_rows[:, j]]] = True
        out[qis[j]] = mask
    return out


def _taken(codes: np.ndarray, keep: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: codes[keep]


def _blanked(codes: np.ndarray, where: np.ndarray | None) -> Callable[[], np.ndarray]:
    if where is None:
        return lambda: codes
    return lambda: np.where(where, -1, codes)


def _with_borrowed(grouping: Grouping, borrowed: np.ndarray) -> Grouping:
    """``grouping`` with the records ``borrowed`` moved to a new all-missing pattern.

    A pattern keeps its first record unless it lost every record (the records borrowed
    are the last of their classes).
    """
    if borrowed.size == 0:
        return grouping
    m = grouping.count.size
    inv = grouping.inv.copy()
    count = grouping.count - np.bincount(inv[borrowed], minlength=m)
    inv[borrowed] = m
    return Grouping(
        columns=grouping.columns,
        inv=inv,
        pat=np.vstack([grouping.pat, np.full((1, grouping.pat.shape[1]), -1, dtype=np.int64)]),
        count=np.append(count, borrowed.size),
        first=np.append(grouping.first, borrowed.min()),
    )


def _suppression_rounds(
    pat: np.ndarray, weight: np.ndarray, k: int, order: Sequence[int]
) -> np.ndarray:
    """The greedy rounds of :func:`local_suppression` on the patterns ``pat`` (changed in
    place); returns the class size of each pattern after them.

    Each pattern's codes are one mixed-radix key (codes only ever become -1, so the radix of
    the input holds throughout); suppressing a cell subtracts its digit from the key, so a
    trial suppression of one column needs no copy of the patterns.
    """
    q = pat.shape[1]
    cards = [int(pat[:, j].max(initial=-1)) + 2 for j in range(q)]
    if math.prod(cards) >= 2**62:  # too many combinations for one key: group the codes
        return _suppression_rounds_by_codes(pat, weight, k, order)
    mult = np.array([math.prod(cards[j + 1 :]) for j in range(q)], dtype=np.int64)
    key = (pat + 1) @ mult

    def sizes_of(key: np.ndarray) -> np.ndarray:
        _, inv = np.unique(key, return_inverse=True)
        inv = inv.ravel()
        return np.bincount(inv, weights=weight).astype(np.int64)[inv]

    def enough(unsafe: np.ndarray, j: int) -> np.ndarray:
        trial = key.copy()  # every unsafe pattern with column j suppressed
        trial[unsafe] -= (pat[unsafe, j] + 1) * mult[j]
        return np.asarray(sizes_of(trial)[unsafe] >= k, dtype=bool)

    sizes_p = sizes_of(key)
    for _ in range(q):
        unsafe = np.flatnonzero(sizes_p < k)
        if unsafe.size == 0:
            break
        chosen = _round_choice(pat, unsafe, order, enough)
        movable = chosen >= 0
        if not movable.any():
            break
        rows, cols = unsafe[movable], chosen[movable]
        key[rows] -= (pat[rows, cols] + 1) * mult[cols]
        pat[rows, cols] = -1
        sizes_p = sizes_of(key)
    return sizes_p


def _suppression_rounds_by_codes(
    pat: np.ndarray, weight: np.ndarray, k: int, order: Sequence[int]
) -> np.ndarray:
    """:func:`_suppression_rounds` grouping the codes of the patterns in each trial."""

    def enough(unsafe: np.ndarray, j: int) -> np.ndarray:
        kept = pat[unsafe, j]
        pat[unsafe, j] = -1  # a trial: every unsafe pattern with column j suppressed
        ok = _sizes_of_codes(pat, weight)[unsafe] >= k
        pat[unsafe, j] = kept
        return np.asarray(ok, dtype=bool)

    sizes_p = _sizes_of_codes(pat, weight)
    for _ in range(pat.shape[1]):
        unsafe = np.flatnonzero(sizes_p < k)
        if unsafe.size == 0:
            break
        chosen = _round_choice(pat, unsafe, order, enough)
        movable = chosen >= 0
        if not movable.any():
            break
        pat[unsafe[movable], chosen[movable]] = -1
        sizes_p = _sizes_of_codes(pat, weight)
    return sizes_p


def _round_choice(
    pat: np.ndarray,
    unsafe: np.ndarray,
    order: Sequence[int],
    enough: Callable[[np.ndarray, int], np.ndarray],
) -> np.ndarray:
    """One round's choice of :func:`local_suppression`'s rounds, for the patterns ``unsafe``
    (rows of ``pat``) in classes smaller than ``k``: per pattern, the column to suppress, or
    -1 when every cell of it is suppressed already.

    That column is the first in suppression ``order`` still present whose suppression alone
    puts the pattern in a class of at least ``k`` (``enough(unsafe, j)`` says so per
    pattern for column ``j``); when no single column is enough, the first one still present.
    """
    present = pat[unsafe] >= 0
    chosen = np.full(unsafe.size, -1, dtype=np.int64)
    for j in order:
        free = (chosen < 0) & present[:, j]
        if not free.any():
            continue
        chosen[free & enough(unsafe, j)] = j
    for j in order:  # no single column is enough: suppress in order
        chosen[(chosen < 0) & present[:, j]] = j
    return chosen


def _borrow(patterns: QIPatterns, pat: np.ndarray, k: int) -> tuple[np.ndarray | None, int]:
    """Records to suppress entirely so the class left below ``k`` (all suppressed) reaches
    it, by :func:`_borrowed_per_class`, the last records of each class lending.
    ``(None, 0)`` when there are too few.

    Works on the patterns after the rounds (``pat``); returns the rows and ``k`` after.
    """
    cls, n_cls = _patterns(pat)  # the class of each pattern after the rounds
    empty = np.asarray((pat < 0).all(axis=1), dtype=bool)
    lent = _borrowed_per_class(cls, n_cls, patterns.weight, patterns.first, empty, k)
    if lent is None:
        return None, 0
    take, k_after = lent
    taken: list[np.ndarray] = []
    if take.any():
        row_cls = cls[patterns.inv]
        for c in np.flatnonzero(take):
            rows = np.flatnonzero(row_cls == c)
            taken.append(rows[len(rows) - int(take[c]) :])
    borrowed = np.concatenate(taken) if taken else np.zeros(0, dtype=np.int64)
    return borrowed, k_after


def _borrowed_per_class(
    cls: np.ndarray,
    n_cls: int,
    weight: np.ndarray,
    first: np.ndarray,
    empty: np.ndarray,
    k: int,
) -> tuple[np.ndarray, int] | None:
    """The borrowing rule of cell suppression to ``k``: how many records each class lends
    to the class left below ``k`` with every quasi-identifier suppressed.

    The fewest records needed are taken from the classes with a surplus over ``k``, largest
    first (ties: the class whose first record comes first), never from the all-suppressed
    class itself. The caller picks which records (:func:`local_suppression` and the SQL
    engines take the last ones of each class in row order). Works on small per-pattern
    arrays, so an engine can group the records itself and hand over the groups.

    Parameters
    ----------
    cls : numpy.ndarray
        Per pattern, its class after the rounds (``0 .. n_cls - 1``, each class used).
    n_cls : int
        Number of classes.
    weight : numpy.ndarray
        Per pattern, its number of records.
    first : numpy.ndarray
        Per pattern, the position of its first record (only the order matters).
    empty : numpy.ndarray
        Per pattern, whether every quasi-identifier of it is suppressed.
    k : int
        Smallest allowed class size.

    Returns
    -------
    tuple of (numpy.ndarray, int) or None
        Per class, the records it lends (``0`` for most), and the smallest class size once
        the records lent joined the all-suppressed class (a new class if there is none);
        None when the classes have too few spare records.

    Examples
    --------
    Classes of 5, 4 and 1 records (the last one all suppressed), ``k = 3``: the class of 5
    lends 2.

    >>> take, k_after = _borrowed_per_class(
    ...     np.array([0, 1, 2]), 3, np.array([5.0, 4.0, 1.0]), np.array([0, 1, 2]),
    ...     np.array([False, False, True]), 3)
    >>> take.tolist(), k_after
    ([2, 0, 0], 3)
    """
    counts = np.bincount(cls, weights=weight, minlength=n_cls).astype(np.int64)
    seen = np.full(n_cls, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(seen, cls, first)  # the first record of each class
    need = k - int(counts[counts < k].sum())
    class_empty = np.zeros(n_cls, dtype=bool)
    class_empty[cls[np.asarray(empty, dtype=bool)]] = True
    take = np.zeros(n_cls, dtype=np.int64)
    for c in np.lexsort((seen, -counts)):
        spare = int(counts[c]) - k
        if spare <= 0 or need <= 0:
            break
        if class_empty[c]:
            continue
        take[c] = min(spare, need)
        need -= int(take[c])
    if need > 0:
        return None
    # the records lent join the all-suppressed class (a new one if there is none)
    after = counts - take
    lent = int(take.sum())
    if class_empty.any():
        after[np.flatnonzero(class_empty)[0]] += lent
    elif lent:
        after = np.append(after, lent)
    return take, int(after.min())


def _blank(col: pd.Series, where: np.ndarray) -> pd.Series:
    """``col`` with the cells at ``where`` set to missing (Arrow text without a Python loop).

    >>> _blank(pd.Series(["a", "b"], dtype=_STR), np.array([False, True])).tolist()
    ['a', nan]
    """
    if col.dtype == _STR:
        arr = pa.array(col.array)
        blanked = pc.if_else(pa.array(where), pa.scalar(None, arr.type), arr)
        return pd.Series(pd.array(blanked, dtype=_STR), index=col.index, name=col.name)
    return col.mask(pd.Series(where, index=col.index))


# --- microaggregation ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MicroaggregationResult:
    """What :func:`microaggregate` did.

    Attributes
    ----------
    frame : pandas.DataFrame
        The data with each group's values replaced by the group mean.
    n_groups : int
        Number of groups formed.
    group : numpy.ndarray
        Group number of each row (-1 for rows left out because of missing values).
    warnings : tuple of str
    """

    frame: pd.DataFrame
    n_groups: int
    group: np.ndarray
    warnings: tuple[str, ...] = ()


def _mdav_groups(x: np.ndarray, k: int) -> np.ndarray:
    """MDAV group labels of the rows of ``x`` (n, d)."""
    n = x.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    g = 0

    def take_group(around: int) -> None:
        nonlocal remaining, g
        pts = x[remaining]
        d = ((pts - x[around]) ** 2).sum(axis=1)
        nearest = np.argpartition(d, k - 1)[:k] if remaining.size > k else np.arange(remaining.size)
        labels[remaining[nearest]] = g
        g += 1
        keep = np.ones(remaining.size, dtype=bool)
        keep[nearest] = False
        remaining = remaining[keep]

    def farthest_from(p: np.ndarray) -> int:
        d = ((x[remaining] - p) ** 2).sum(axis=1)
        return int(remaining[int(np.argmax(d))])

    while remaining.size >= 3 * k:
        r = farthest_from(x[remaining].mean(axis=0))
        s = farthest_from(x[r])
        take_group(r)
        take_group(s)
    if remaining.size >= 2 * k:
        r = farthest_from(x[remaining].mean(axis=0))
        take_group(r)
    if remaining.size:
        labels[remaining] = g
    return labels


def microaggregate(
    frame: pd.DataFrame, *, columns: Sequence[str], k: int, standardize: bool = True
) -> MicroaggregationResult:
    """Multivariate microaggregation with MDAV: groups of ``k`` or more records share means.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; not modified.
    columns : sequence of str
        Numeric quasi-identifiers aggregated together.
    k : int, >= 2
        Minimum group size.
    standardize : bool
        Measure distances on z-scores (each column minus its mean, over its standard
        deviation), so units do not decide the groups. Means are in the original units.

    Returns
    -------
    MicroaggregationResult

    Raises
    ------
    ColumnError
        A missing or non-numeric column.
    InvalidParameterError
        ``k < 2``, or fewer than ``k`` complete rows.

    Notes
    -----
    MDAV (maximum distance to average vector) [DT05]_: while at least ``3k`` records are
    left, take the record ``r`` farthest from the centroid and the record ``s`` farthest
    from ``r``; form a group of ``r`` and its ``k - 1`` nearest records, then one of ``s``
    and its ``k - 1`` nearest among the rest. With ``2k`` to ``3k - 1`` left, form one more
    group around the record farthest from the centroid; the rest is the last group.
    Distances are squared Euclidean, computed vectorized; the cost is O(n^2 / k). Each
    value is then replaced by its group's mean. Rows with a missing value in ``columns``
    are left unchanged and reported in ``warnings``. Ties go to the lowest row position.

    References
    ----------
    .. [DT05] Domingo-Ferrer, Torra, "Ordinal, continuous and heterogeneous k-anonymity
       through microaggregation", Data Mining and Knowledge Discovery 11(2), 2005.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 21, 22, 40, 41, 42]})
    >>> microaggregate(df, columns=["age"], k=3).frame["age"].tolist()
    [21.0, 21.0, 21.0, 41.0, 41.0, 41.0]
    """
    cols = list(columns)
    if not cols:
        raise InvalidParameterError("microaggregation needs at least one column; got none.")
    _require_columns(frame, cols)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 2:
        raise InvalidParameterError(f"k must be a whole number >= 2; got {k!r}.")
    k = int(k)
    x = np.column_stack([_require_numeric(frame[c], "Microaggregation") for c in cols])
    complete = np.isfinite(x).all(axis=1)
    n_ok = int(complete.sum())
    if n_ok < k:
        raise InvalidParameterError(
            f"microaggregation with k={k} needs at least {k} rows without missing values in "
            f"{', '.join(cols)}; got {n_ok}. Lower k or fill the gaps."
        )
    # Scale by a power of two (exact in binary floating point) so that squares and sums
    # of values near the float64 limit do not overflow; groups and means are unchanged.
    shift = int(np.frexp(np.abs(x[complete]).max())[1]) if n_ok else 0
    shift = shift if shift > 500 else 0
    xs = np.ldexp(x[complete], -shift)
    z = xs
    if standardize:
        sd = xs.std(axis=0)
        sd[sd == 0] = 1.0
        z = (xs - xs.mean(axis=0)) / sd
    labels = _mdav_groups(z, k)
    n_groups = int(labels.max()) + 1
    counts = np.bincount(labels, minlength=n_groups)
    out = frame.copy()
    group = np.full(len(frame), -1, dtype=np.int64)
    group[complete] = labels
    for j, c in enumerate(cols):
        means = np.ldexp(np.bincount(labels, weights=xs[:, j], minlength=n_groups) / counts, shift)
        new = x[:, j].copy()
        new[complete] = means[labels]
        out[c] = pd.Series(new, index=frame.index, name=c)
    warnings = []
    if n_ok < len(frame):
        warnings.append(
            f"{len(frame) - n_ok} rows with a missing value in {', '.join(cols)} were left "
            "unchanged; suppress or impute them separately."
        )
    return MicroaggregationResult(
        frame=out, n_groups=n_groups, group=group, warnings=tuple(warnings)
    )
