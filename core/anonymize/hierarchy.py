"""Generalization hierarchies: ARX's CSV format, builders, validation and integer codes.

A hierarchy has one row per original value: the value itself (level 0), then its
generalization at each level, usually ``*`` at the top. ARX writes it without a header,
separated by semicolons (commas are accepted too)::

    39;35-39;30-39;*
    40;40-44;40-49;*

For the search, :func:`encode_hierarchy` turns a hierarchy and a column into integers: a
code per record (the hierarchy row of its value) and a ``(rows x levels)`` array giving, per
level, the code of each row's generalized value. A transformation is then evaluated by
indexing that array; no string is touched inside the search.

A missing value in the data is matched by a hierarchy row ``NULL`` (ARX's name for it).

References
----------
.. [PKL14] Prasser, F., Kohlmayer, F., Lautenschläger, R., Kuhn, K. A. (2014). ARX - A
   comprehensive tool for anonymizing biomedical data. AMIA Annu Symp Proc 2014, 984-993.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import HierarchyError
from core.masking import _fmt, _text_values
from core.risk import factorize_values

__all__ = [
    "NULL",
    "EncodedHierarchy",
    "Hierarchy",
    "date_hierarchy",
    "encode_hierarchy",
    "hierarchy_to_csv",
    "interval_hierarchy",
    "mapping_hierarchy",
    "read_hierarchy",
    "redaction_hierarchy",
    "validate_hierarchy",
    "write_hierarchy",
]

#: The hierarchy value that stands for a missing data value (ARX's ``DataType.NULL_VALUE``).
NULL = "NULL"
#: Largest hierarchy file read, in bytes (a hierarchy has one short row per distinct value).
HIERARCHY_MAX_BYTES = 64 * 2**20
_TOP = "*"


@dataclass(frozen=True, slots=True, kw_only=True)
class Hierarchy:
    """A generalization hierarchy: one row per original value, one column per level.

    Attributes
    ----------
    rows : tuple of tuple of str
        ``rows[i][0]`` is an original value, ``rows[i][L]`` its generalization at level L.
    warnings : tuple of str
        Soft problems found by :func:`validate_hierarchy` (a level that does not coarsen, a
        top level with more than one value).
    """

    rows: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...] = ()

    @property
    def n_levels(self) -> int:
        """Number of levels, the original values (level 0) included."""
        return len(self.rows[0]) if self.rows else 0

    @property
    def values(self) -> tuple[str, ...]:
        """The original values (level 0)."""
        return tuple(r[0] for r in self.rows)


# --- validation ----------------------------------------------------------------------------


def _structure_problems(rows: Sequence[Sequence[str]]) -> list[str]:
    """Errors that make a hierarchy unusable: shape, empty cells, duplicates, non-monotone."""
    if not rows:
        return ["it has no rows; give one row per original value"]
    problems: list[str] = []
    width = len(rows[0])
    ragged = [i + 1 for i, r in enumerate(rows) if len(r) != width]
    if ragged:
        problems.append(
            f"{len(ragged)} row(s) do not have the {width} cell(s) of the first row "
            f"(first at line {ragged[0]})"
        )
        return problems
    empty = [(i + 1, j) for i, r in enumerate(rows) for j, c in enumerate(r) if c == ""]
    if empty:
        problems.append(
            f"{len(empty)} empty cell(s) (first at line {empty[0][0]}, level {empty[0][1]})"
        )
    first: dict[str, int] = {}
    dups: list[int] = []
    for i, r in enumerate(rows):
        if r[0] in first:
            dups.append(i + 1)
        else:
            first[r[0]] = i + 1
    if dups:
        problems.append(
            f"{len(dups)} original value(s) appear on more than one row (first repeat at "
            f"line {dups[0]}); list each value once"
        )
    for level in range(1, width - 1):
        seen: dict[str, str] = {}
        split: list[int] = []
        for i, r in enumerate(rows):
            up = seen.setdefault(r[level], r[level + 1])
            if up != r[level + 1]:
                split.append(i + 1)
        if split:
            problems.append(
                f"level {level + 1} is not monotone: a value of level {level} is generalized "
                f"to different values at level {level + 1} ({len(split)} row(s), first at "
                f"line {split[0]}); each group must stay within one group of the next level"
            )
    return problems


def _soft_problems(rows: Sequence[Sequence[str]]) -> list[str]:
    """Warnings: levels that do not coarsen, a top level with more than one value."""
    out: list[str] = []
    width = len(rows[0])
    counts = [len({r[j] for r in rows}) for j in range(width)]
    for level in range(1, width):
        if counts[level] == counts[level - 1]:
            out.append(
                f"level {level} does not coarsen level {level - 1} (both have "
                f"{counts[level]} distinct value(s)); it adds a lattice level that changes "
                "nothing"
            )
    if width > 1 and counts[-1] != 1:
        out.append(
            f"the top level {width - 1} has {counts[-1]} distinct values; ARX hierarchies "
            "usually end in one value such as '*'"
        )
    return out


def validate_hierarchy(hierarchy: Hierarchy, *, name: str = "the hierarchy") -> Hierarchy:
    """Check a hierarchy's structure; return it with its warnings filled in.

    Parameters
    ----------
    hierarchy : Hierarchy
        The hierarchy to check.
    name : str
        How messages name it (e.g. ``"hierarchy of 'age'"``).

    Returns
    -------
    Hierarchy
        The same rows, ``warnings`` set to the soft problems found.

    Raises
    ------
    HierarchyError
        Listing every problem: rows of different lengths, empty cells, an original value on
        two rows, a level that is not monotone (a group split between two groups of the next
        level). Messages give line and level numbers and counts, never a value.

    Examples
    --------
    >>> h = Hierarchy(rows=(("a", "x", "*"), ("b", "y", "*"), ("c", "x", "*")))
    >>> validate_hierarchy(h).warnings
    ()
    >>> bad = Hierarchy(rows=(("a", "x", "*"), ("b", "x", "?"), ("c", "y", "*")))
    >>> validate_hierarchy(bad)
    Traceback (most recent call last):
    ...
    core.errors.HierarchyError: The hierarchy has 1 problem: level 2 is not monotone: ...
    """
    rows = hierarchy.rows
    problems = _structure_problems(rows)
    if problems:
        raise HierarchyError(
            f"{name[:1].upper()}{name[1:]} has {len(problems)} problem"
            f"{'s' if len(problems) > 1 else ''}: "
            + "; ".join(problems)
            + ". Fix the file (one row per original value, then one cell per level) and load "
            "it again."
        )
    return Hierarchy(rows=tuple(tuple(r) for r in rows), warnings=tuple(_soft_problems(rows)))


# --- CSV -----------------------------------------------------------------------------------


def read_hierarchy(
    source: str | Path | bytes, *, delimiter: str | None = None, name: str = "the hierarchy"
) -> Hierarchy:
    """Read an ARX hierarchy CSV (no header; ``;`` or ``,`` separated) and validate it.

    Parameters
    ----------
    source : str, Path or bytes
        A file path, or the file's bytes (an upload).
    delimiter : {";", ",", None}
        The separator; by default ``;`` when the first line has one, else ``,``.
    name : str
        How messages name the hierarchy.

    Returns
    -------
    Hierarchy

    Raises
    ------
    HierarchyError
        Unreadable or too large file, or any problem :func:`validate_hierarchy` finds.

    Examples
    --------
    >>> h = read_hierarchy(b"Male;*\\nFemale;*\\n")
    >>> h.n_levels, h.values
    (2, ('Male', 'Female'))
    """
    title = name[:1].upper() + name[1:]
    if isinstance(source, bytes):
        data = source
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            if size > HIERARCHY_MAX_BYTES:
                raise HierarchyError(
                    f"{title} is {size:,} bytes, above the limit of "
                    f"{HIERARCHY_MAX_BYTES:,}. A hierarchy has one row per distinct value."
                )
            data = path.read_bytes()
        except OSError as exc:
            raise HierarchyError(
                f"{title} could not be read ({type(exc).__name__}). Check the path."
            ) from None
    if len(data) > HIERARCHY_MAX_BYTES:
        raise HierarchyError(
            f"{title} is {len(data):,} bytes, above the limit of {HIERARCHY_MAX_BYTES:,}."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HierarchyError(
            f"{title} is not UTF-8 text. Save it as UTF-8 (ARX writes UTF-8)."
        ) from None
    lines = text.splitlines()
    if delimiter is None:
        delimiter = ";" if lines and ";" in lines[0] else ","
    if delimiter not in (";", ","):
        raise HierarchyError(f"delimiter must be ';' or ','; got {delimiter!r}.")
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = [tuple(r) for r in reader if r and any(c != "" for c in r)]
    return validate_hierarchy(Hierarchy(rows=tuple(rows)), name=name)


def hierarchy_to_csv(hierarchy: Hierarchy, *, delimiter: str = ";") -> str:
    """The hierarchy in ARX's CSV format (no header, ``;`` by default).

    >>> print(hierarchy_to_csv(Hierarchy(rows=(("a", "*"), ("b", "*")))), end="")
    a;*
    b;*
    """
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerows(hierarchy.rows)
    return buf.getvalue()


def write_hierarchy(hierarchy: Hierarchy, path: str | Path, *, delimiter: str = ";") -> None:
    """Write the hierarchy to ``path`` in ARX's CSV format (UTF-8)."""
    Path(path).write_text(hierarchy_to_csv(hierarchy, delimiter=delimiter), encoding="utf-8")


# --- builders ------------------------------------------------------------------------------


def _distinct_texts(values: pd.Series | Sequence[object]) -> list[str]:
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    texts = _text_values(s)
    out = pd.unique(texts.dropna().astype(str)).tolist()
    if s.isna().any():
        out.append(NULL)
    return out


def _finish(rows: list[list[str]], name: str) -> Hierarchy:
    if rows and len({r[-1] for r in rows}) != 1:
        for r in rows:
            r.append(_TOP)
    return validate_hierarchy(Hierarchy(rows=tuple(tuple(r) for r in rows)), name=name)


def interval_hierarchy(
    values: pd.Series | Sequence[float], *, widths: Sequence[float], origin: float = 0.0
) -> Hierarchy:
    """Numeric intervals of growing width, then ``*`` (ARX's interval builder).

    Parameters
    ----------
    values : Series or sequence of numbers
        The column (or its distinct values); missing values get a ``NULL`` row.
    widths : sequence of float
        Interval width per level, each a whole multiple of the previous one, so that every
        interval lies inside one interval of the next level.
    origin : float
        Left edge of an interval at every level.

    Returns
    -------
    Hierarchy
        Level L holds ``lo-hi`` (integer data and widths: ``hi`` inclusive, as in ARX's
        Adult files) or ``[lo, hi)``; the top level is ``*``.

    Raises
    ------
    HierarchyError
        Non-numeric values, no width, a width that is not positive or not a multiple of the
        previous one.

    Examples
    --------
    >>> h = interval_hierarchy([23, 37, 41], widths=[5, 10])
    >>> [list(r) for r in h.rows]
    [['23', '20-24', '20-29', '*'], ['37', '35-39', '30-39', '*'], ['41', '40-44', '40-49', '*']]
    """
    ws = [float(w) for w in widths]
    if not ws or any(not math.isfinite(w) or w <= 0 for w in ws):
        raise HierarchyError(
            f"widths must be positive numbers, one per level; got {len(ws)} value(s) of which "
            f"{sum(1 for w in ws if not (math.isfinite(w) and w > 0))} are not positive."
        )
    for a, b in zip(ws, ws[1:], strict=False):
        if abs(b / a - round(b / a)) > 1e-9 or round(b / a) < 1:
            raise HierarchyError(
                f"each width must be a whole multiple of the previous one; got {_fmt(b)} after "
                f"{_fmt(a)}. Use e.g. 5, 10, 20."
            )
    s = values if isinstance(values, pd.Series) else pd.Series(list(values))
    num = pd.to_numeric(s, errors="coerce")
    bad = int((num.isna() & s.notna()).sum())
    if bad:
        raise HierarchyError(
            f"interval hierarchies need numbers; {bad} value(s) are not numeric. Use a "
            "category mapping or redaction hierarchy for text."
        )
    distinct = pd.Series(pd.unique(num.dropna()))
    infinite = int((~np.isfinite(distinct.to_numpy(dtype=float))).sum())
    if infinite:
        raise HierarchyError(
            f"interval hierarchies need finite numbers; {infinite} distinct value(s) are "
            "infinite. Top-code them first, or use a category mapping."
        )
    texts = _text_values(distinct).astype(str).tolist()
    integral = bool(np.all(np.mod(distinct, 1) == 0)) and all(float(w).is_integer() for w in ws)
    rows: list[list[str]] = []
    for v, t in zip(distinct.tolist(), texts, strict=True):
        row = [t]
        for w in ws:
            lo = origin + math.floor((v - origin) / w) * w
            hi = lo + w
            row.append(f"{_fmt(lo)}-{_fmt(hi - 1)}" if integral else f"[{_fmt(lo)}, {_fmt(hi)})")
        rows.append(row)
    if s.isna().any():
        rows.append([NULL] * (len(ws) + 1))
    return _finish(rows, "the interval hierarchy")


def date_hierarchy(
    values: pd.Series | Sequence[object], *, date_format: str | None = None
) -> Hierarchy:
    """Dates: day → month (``2024-03``) → quarter (``2024-Q1``) → year → ``*``.

    Parameters
    ----------
    values : Series or sequence
        Dates, or text dates in ``date_format`` (ISO by default); missing values get a
        ``NULL`` row.
    date_format : str, optional
        strftime format of text dates.

    Returns
    -------
    Hierarchy

    Raises
    ------
    HierarchyError
        Values that do not parse as dates (counted, not shown).

    Examples
    --------
    >>> [list(r) for r in date_hierarchy(["2024-03-05"]).rows]
    [['2024-03-05', '2024-03', '2024-Q1', '2024', '*']]
    """
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    texts = _text_values(s)
    parsed = pd.to_datetime(
        s if pd.api.types.is_datetime64_any_dtype(s) else texts,
        format=date_format or ("ISO8601" if not pd.api.types.is_datetime64_any_dtype(s) else None),
        errors="coerce",
    )
    bad = int((parsed.isna() & s.notna()).sum())
    if bad:
        raise HierarchyError(
            f"{bad} value(s) do not parse as dates"
            + (f" in the format {date_format!r}" if date_format else " (ISO 8601 expected)")
            + ". Give the right date_format, or fix those values."
        )
    keep = s.notna().to_numpy()
    frame = pd.DataFrame({"t": texts[keep].astype(str).to_numpy(), "d": parsed[keep].to_numpy()})
    frame = frame.drop_duplicates("t")
    d = pd.DatetimeIndex(frame["d"])
    rows = [
        [t, f"{y:04d}-{m:02d}", f"{y:04d}-Q{(m - 1) // 3 + 1}", f"{y:04d}", _TOP]
        for t, y, m in zip(frame["t"], d.year, d.month, strict=True)
    ]
    if s.isna().any():
        rows.append([NULL, NULL, NULL, NULL, _TOP])
    return validate_hierarchy(
        Hierarchy(rows=tuple(tuple(r) for r in rows)), name="the date hierarchy"
    )


def redaction_hierarchy(values: pd.Series | Sequence[object], *, fill: str = "*") -> Hierarchy:
    """Redact characters from the right, one per level (``02134`` → ``0213*`` → … → ``*``).

    Parameters
    ----------
    values : Series or sequence
        Codes as text (a postal code keeps its leading zeros); missing values get a ``NULL``
        row.
    fill : str
        One character written in place of each redacted one.

    Returns
    -------
    Hierarchy
        Level L replaces the last L characters (all of a shorter value); the top is ``*``.

    Raises
    ------
    HierarchyError
        ``fill`` not a single character.

    Examples
    --------
    >>> for row in redaction_hierarchy(["02134", "02139"]).rows:
    ...     print(";".join(row))
    02134;0213*;021**;02***;0****;*
    02139;0213*;021**;02***;0****;*
    """
    if not isinstance(fill, str) or len(fill) != 1:
        raise HierarchyError("fill must be a single character, such as '*'.")
    texts = [t for t in _distinct_texts(values) if t != NULL]
    width = max((len(t) for t in texts), default=1)
    rows = [
        [t] + [t[: max(0, len(t) - lv)] + fill * min(lv, len(t)) for lv in range(1, width)]
        for t in texts
    ]
    has_null = len(texts) < len(_distinct_texts(values))
    if has_null:
        rows.append([NULL] * width)
    for r in rows:
        r.append(_TOP)
    return validate_hierarchy(
        Hierarchy(rows=tuple(tuple(r) for r in rows)), name="the redaction hierarchy"
    )


def mapping_hierarchy(
    values: pd.Series | Sequence[object], *, levels: Sequence[Mapping[str, str]]
) -> Hierarchy:
    """Categories grouped by user mappings, one mapping per level, then ``*``.

    Parameters
    ----------
    values : Series or sequence
        The column (or its distinct values), matched in their text form; missing values get
        a ``NULL`` row (map ``"NULL"`` to give it a group).
    levels : sequence of mapping
        ``levels[0]`` maps each original value to its level-1 group, ``levels[1]`` each
        level-1 group to its level-2 group, and so on. A ``*`` level is added on top unless
        the last level already has one value.

    Returns
    -------
    Hierarchy

    Raises
    ------
    HierarchyError
        A value (or group) that a mapping does not list (counted, not shown).

    Examples
    --------
    >>> m = {"Divorced": "alone", "Never-married": "alone", "Married": "together"}
    >>> [list(r) for r in mapping_hierarchy(["Married", "Divorced"], levels=[m]).rows]
    [['Married', 'together', '*'], ['Divorced', 'alone', '*']]
    """
    rows = [[t] for t in _distinct_texts(values)]
    for i, mapping in enumerate(levels):
        missing = sorted({r[-1] for r in rows if r[-1] not in mapping})
        if missing and not (rows and all(r[-1] == NULL for r in rows if r[-1] in missing)):
            raise HierarchyError(
                f"mapping {i + 1} does not list {len(missing)} of the "
                f"{len({r[-1] for r in rows})} value(s) of level {i}. Give a group for each."
            )
        for r in rows:
            r.append(str(mapping.get(r[-1], r[-1])))
    return _finish(rows, "the mapping hierarchy")


# --- integer codes -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EncodedHierarchy:
    """A hierarchy matched to a column, as integers for the search.

    Attributes
    ----------
    column : str
    record_codes : numpy.ndarray
        Per record, the hierarchy row of its value (``0 .. rows - 1``).
    gen : numpy.ndarray
        ``(rows, levels)`` int64: ``gen[i, L]`` is the code of row i's value at level L;
        codes of a level are ``0 .. n_codes[L] - 1``.
    labels : tuple of tuple of str
        Per level, the label of each code.
    n_codes : tuple of int
        Distinct values per level.
    domain_size : int
        Rows of the hierarchy, values absent from the data included.
    share : tuple of numpy.ndarray
        Per level, per code, the share of hierarchy rows it covers (ARX's domain share).
    """

    column: str
    record_codes: np.ndarray
    gen: np.ndarray
    labels: tuple[tuple[str, ...], ...]
    n_codes: tuple[int, ...]
    domain_size: int
    share: tuple[np.ndarray, ...]

    @property
    def n_levels(self) -> int:
        """Number of levels, level 0 included."""
        return int(self.gen.shape[1])


def encode_hierarchy(hierarchy: Hierarchy, column: pd.Series, *, name: str) -> EncodedHierarchy:
    """Match a column to its hierarchy and precompute each level's integer codes.

    Parameters
    ----------
    hierarchy : Hierarchy
        A validated hierarchy.
    column : pandas.Series
        The data column; values are matched in their text form (``39``, not ``39.0``);
        a missing value matches the row ``NULL``.
    name : str
        The column's name, for messages.

    Returns
    -------
    EncodedHierarchy

    Raises
    ------
    HierarchyError
        Values of the column missing from the hierarchy (how many, and the first data row).

    Examples
    --------
    >>> h = Hierarchy(rows=(("a", "x", "*"), ("b", "x", "*"), ("c", "y", "*")))
    >>> e = encode_hierarchy(h, pd.Series(["c", "a", "c"]), name="col")
    >>> e.record_codes.tolist(), e.gen[:, 1].tolist(), e.labels[1]
    ([2, 0, 2], [0, 0, 1], ('x', 'y'))
    """
    hierarchy = validate_hierarchy(hierarchy, name=f"the hierarchy of '{name}'")
    # type-tagged codes, as the risk engine's (1, True and "1" are distinct values there)
    codes, n_values = factorize_values(column)
    first = np.full(n_values, len(column), dtype=np.int64)
    np.minimum.at(first, codes[codes >= 0], np.flatnonzero(codes >= 0))
    texts = _text_values(column.iloc[first].reset_index(drop=True))
    index = pd.Index(hierarchy.values)
    pos = index.get_indexer(pd.Index(texts.astype(str).to_numpy(dtype=object)))
    null_pos = int(index.get_indexer([NULL])[0])
    unmatched_values = int(np.sum(pos < 0))
    na = codes < 0
    if unmatched_values or (na.any() and null_pos < 0):
        lookup = np.append(pos, null_pos)  # code -1 reads the last entry
        rec = lookup[codes]
        bad = np.flatnonzero(rec < 0)
        parts = []
        if unmatched_values:
            parts.append(f"{unmatched_values} distinct value(s)")
        if na.any() and null_pos < 0:
            parts.append(f"missing values ({int(na.sum())} record(s); add a row '{NULL}')")
        raise HierarchyError(
            f"Column '{name}' has {' and '.join(parts)} not in its hierarchy: "
            f"{bad.size} record(s), the first at data row {int(bad[0]) + 1}. Every value of "
            "the column needs a row in the hierarchy."
        )
    lookup = np.append(pos, max(null_pos, 0)).astype(np.int64)
    record_codes = lookup[codes]
    n_rows, n_levels = len(hierarchy.rows), hierarchy.n_levels
    gen = np.empty((n_rows, n_levels), dtype=np.int64)
    labels: list[tuple[str, ...]] = []
    shares: list[np.ndarray] = []
    for level in range(n_levels):
        c, u = pd.factorize(pd.Index([r[level] for r in hierarchy.rows]))
        gen[:, level] = c
        labels.append(tuple(str(x) for x in u))
        shares.append(np.bincount(c, minlength=len(u)) / n_rows)
    return EncodedHierarchy(
        column=name,
        record_codes=record_codes,
        gen=gen,
        labels=tuple(labels),
        n_codes=tuple(len(x) for x in labels),
        domain_size=n_rows,
        share=tuple(shares),
    )
