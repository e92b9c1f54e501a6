"""Per-column codes: value-wise transforms computed once per distinct value.

A column of a million rows often holds a few dozen distinct values. A value-wise transform
(binning, rounding, grouping, masking, pseudonymizing, ...) maps each value on its own, so it
is computed on the distinct values only and spread back to the rows by their integer codes.
The codes also give the equivalence classes of the hardened table without reading its text.

:class:`ColumnMemo` remembers, for one dataset (named by its token, never by its content),
each column's factorization and each chain of value-wise steps applied to it, so a change of
one step recomputes one column. It holds no key: the caller makes a new memo when the
pseudonymization key changes.

The records grouped by the loaded values of a set of columns (:func:`group`) are kept in
the memo too: the patterns of any value-wise steps on those columns are the loaded patterns
with each code mapped through the steps, so the classes after a change of a step (or of a
suppression's k) are counted on the patterns (:class:`Grouping`, :class:`KnownCodes`).

>>> s = pd.Series(["b", "a", None, "b"], dtype="str")
>>> cc = factorize(s)
>>> cc.codes.tolist(), cc.values.tolist()
([0, 1, -1, 0], ['b', 'a', nan])
>>> cc.series(s.index).equals(s)
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "ColumnCodes",
    "ColumnMemo",
    "Grouping",
    "KnownCodes",
    "eligible",
    "factorize",
    "first_seen",
    "group",
    "mixed_key",
    "transform",
]

#: Entries remembered per memo, and their approximate total size in bytes (at a million rows
#: a column's codes take 8 MB): the least recently used go first.
MEMO_ENTRIES = 64
MEMO_BYTES = 400_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnCodes:
    """A column as codes into its distinct values.

    Attributes
    ----------
    codes : numpy.ndarray
        Per row, the position of its value in ``values`` (int64), ``-1`` for a missing
        value: the last entry of ``values`` is then the missing value, so
        ``values.take(codes)`` is the column.
    values : pandas.Series
        The distinct values in order of first appearance, missing last if any, with the
        column's dtype and name.
    has_missing_entry : bool
        Whether the last entry of ``values`` stands for the missing values.
    """

    codes: np.ndarray
    values: pd.Series
    has_missing_entry: bool

    def series(self, index: pd.Index) -> pd.Series:
        """The column, one value per row, on ``index``."""
        # the array's take: Series.take would also take (and then drop) the values' index
        return pd.Series(self.values.array.take(self.codes), index=index, name=self.values.name)

    def class_codes(self) -> np.ndarray:
        """Per row, the code of its value, ``-1`` for a missing one (as ``pd.factorize``)."""
        return self.codes


def eligible(s: pd.Series) -> bool:
    """Whether a column can be factorized without merging values a transform tells apart.

    pandas' factorize merges ``1``, ``1.0`` and ``True`` in an object column, and ``0.0``
    with ``-0.0`` in a float column; such columns take the row-by-row path.

    >>> eligible(pd.Series([1, 2])), eligible(pd.Series([1, "1"], dtype=object))
    (True, False)
    >>> eligible(pd.Series([0.0, -0.0]))
    False
    """
    if s.dtype == object:
        return False
    if pd.api.types.is_float_dtype(s.dtype):
        x = s.to_numpy(dtype="float64", na_value=np.nan)
        return not bool(np.any((x == 0) & np.signbit(x)))
    return True


def factorize(s: pd.Series) -> ColumnCodes:
    """Codes of a column into its distinct values (see :class:`ColumnCodes`)."""
    codes, _ = pd.factorize(s, use_na_sentinel=True)
    return _from_codes(s, codes.astype(np.int64, copy=False))


def _from_codes(s: pd.Series, codes: np.ndarray) -> ColumnCodes:
    """Distinct values of ``s`` picked by first appearance of each code (-1 = missing)."""
    n_values = int(codes.max()) + 1 if codes.size else 0
    first = np.full(n_values, -1, dtype=np.int64)
    present = codes >= 0
    rows = np.flatnonzero(present)
    # the first row of each code: scatter in reverse so the earliest row wins
    first[codes[rows[::-1]]] = rows[::-1]
    missing = bool((~present).any())
    if missing:  # the missing value last, where code -1 takes it from
        first = np.append(first, np.flatnonzero(~present)[0])
    values = s.take(first).reset_index(drop=True)
    return ColumnCodes(codes=codes, values=values, has_missing_entry=missing)


def transform(
    cc: ColumnCodes, fn: Callable[[pd.Series], pd.Series]
) -> tuple[ColumnCodes, np.ndarray]:
    """The column after a value-wise transform, computed once per distinct value.

    ``fn`` maps a Series to a Series of the same length, each output depending only on its
    own input value and on the set of distinct values (not on how often each occurs).
    Returns the new codes and, per distinct value of ``cc``, the position of its image.

    >>> cc = factorize(pd.Series([3, 1, 3, 2]))
    >>> t, remap = transform(cc, lambda s: (s > 1).map({True: "big", False: "small"}))
    >>> t.codes.tolist(), t.values.tolist(), remap.tolist()
    ([0, 1, 0, 0], ['big', 'small'], [0, 1, 0])
    """
    out = fn(cc.values)
    inner, _ = pd.factorize(out, use_na_sentinel=True)
    chained = _from_codes(out, inner.astype(np.int64, copy=False))
    remap = chained.codes  # old distinct value -> new distinct value
    new = ColumnCodes(
        codes=remap[cc.codes], values=chained.values, has_missing_entry=chained.has_missing_entry
    )
    return new, remap


@dataclass(frozen=True, slots=True, kw_only=True)
class Grouping:
    """Records grouped into patterns of codes over some columns.

    Every record of a pattern has the pattern's codes. Two patterns may hold the same codes
    (a coarser grouping is then still a grouping), and a pattern may hold no record.

    Attributes
    ----------
    columns : tuple of str
        The columns, in the order of the columns of ``pat``.
    inv : numpy.ndarray
        Per record, the number of its pattern (``0 .. m - 1``).
    pat : numpy.ndarray
        ``(m, q)`` codes of each pattern (int64, ``-1`` = missing).
    count : numpy.ndarray
        Records per pattern (int64; may be 0).
    first : numpy.ndarray
        Per pattern with records, its first record (any value where ``count`` is 0).
    """

    columns: tuple[str, ...]
    inv: np.ndarray
    pat: np.ndarray
    count: np.ndarray
    first: np.ndarray

    def select(self, columns: Sequence[str]) -> Grouping:
        """The same records and patterns, with the codes of ``columns`` (a subset) only.

        >>> g = group({"a": np.array([0, 0, 1]), "b": np.array([0, 1, 1])}, ("a", "b"))
        >>> g.select(["b"]).pat.tolist(), g.select(["b"]).columns
        ([[0], [1], [1]], ('b',))
        """
        idx = [self.columns.index(c) for c in columns]
        return Grouping(
            columns=tuple(columns),
            inv=self.inv,
            pat=self.pat[:, idx],
            count=self.count,
            first=self.first,
        )

    def merged(self) -> Grouping:
        """The grouping with one pattern per distinct codes, numbered by first record, and
        no empty pattern: records grouped as their codes group them (one gather of ``inv``).

        >>> g = Grouping(columns=("a",), inv=np.array([1, 0, 2, 1]), pat=np.array([[5], [7], [5]]),
        ...              count=np.array([1, 2, 1]), first=np.array([1, 0, 2]))
        >>> m = g.merged()
        >>> m.inv.tolist(), m.pat.tolist(), m.count.tolist(), m.first.tolist()
        ([0, 1, 1, 0], [[7], [5]], [2, 2], [0, 1])
        """
        live = np.flatnonzero(self.count > 0)
        # the patterns in the order of their first records: numbered by first appearance
        # among them, the merged patterns are numbered by first appearance among the records
        live = live[np.argsort(self.first[live], kind="stable")]
        pat = self.pat[live]
        cols = ((pat[:, j], int(pat[:, j].max(initial=-1)) + 2) for j in range(pat.shape[1]))
        ids, m = first_seen(mixed_key(cols, live.size))
        of_pattern = np.full(self.count.size, -1, dtype=np.int64)
        of_pattern[live] = ids
        at = _first_of(ids, m, np.arange(live.size, dtype=np.int64))
        return Grouping(
            columns=self.columns,
            inv=of_pattern[self.inv],
            pat=pat[at],
            count=np.bincount(ids, weights=self.count[live], minlength=m).astype(np.int64),
            first=self.first[live][at],
        )


def group(columns: Mapping[str, np.ndarray], names: Sequence[str]) -> Grouping:
    """The records grouped by the codes of ``names``: one pattern per distinct row of codes,
    patterns numbered by their first record.

    >>> g = group({"a": np.array([3, 1, 3, -1]), "b": np.array([0, 0, 0, 0])}, ("a", "b"))
    >>> g.inv.tolist(), g.pat.tolist(), g.count.tolist(), g.first.tolist()
    ([0, 1, 0, 2], [[3, 0], [1, 0], [-1, 0]], [2, 1, 1], [0, 1, 3])
    """
    cols = [np.asarray(columns[c], dtype=np.int64) for c in names]
    n = len(cols[0]) if cols else 0
    inv, m = first_seen(mixed_key(((c, int(c.max(initial=-1)) + 2) for c in cols), n))
    first = _first_of(inv, m, np.arange(n, dtype=np.int64))
    pat = np.empty((m, len(cols)), dtype=np.int64)
    for j, c in enumerate(cols):
        pat[:, j] = c[first]
    count = np.bincount(inv, minlength=m).astype(np.int64)
    return Grouping(columns=tuple(names), inv=inv, pat=pat, count=count, first=first)


def _first_of(ids: np.ndarray, m: int, at: np.ndarray) -> np.ndarray:
    """Per id ``0 .. m - 1``, the value of ``at`` at its first occurrence in ``ids``."""
    out = np.empty(m, dtype=np.int64)
    out[ids[::-1]] = at[::-1]  # scattered in reverse: the earliest occurrence wins
    return out


def mixed_key(
    columns: Iterable[tuple[np.ndarray, int]], n: int, *, lowest: int = -1
) -> np.ndarray:
    """One int64 key per row of code columns, given as ``(codes, card)`` pairs with codes
    from ``lowest`` to ``lowest + card - 1``: two rows have equal keys exactly when all
    their codes are equal. By default the codes run from ``-1`` (missing) to ``card - 2``:
    missing is one more code, so it groups with missing only.

    The mixed-radix key is compressed (numbered by first appearance) before it overflows.

    >>> mixed_key([(np.array([0, 1, -1]), 3), (np.array([1, 1, 0]), 3)], 3).tolist()
    [5, 8, 1]
    >>> mixed_key([(np.array([1, 2, 0]), 3), (np.array([2, 2, 1]), 3)], 3, lowest=0).tolist()
    [5, 8, 1]
    """
    key = np.zeros(n, dtype=np.int64)
    span = 1
    for c, card in columns:
        if span * card >= 2**62:  # compress before the mixed radix overflows
            key, span = first_seen(key)
        key *= card  # in place: no new array of n keys per column
        key += c
        if lowest:
            key -= lowest
        span *= card
    return key


def first_seen(key: np.ndarray) -> tuple[np.ndarray, int]:
    """``pd.factorize`` of non-negative int64 keys: ids by first appearance, and their count.

    A key no larger than a few times the number of rows is ranked through an array indexed
    by the key, without hashing.

    >>> ids, m = first_seen(np.array([7, 2, 7, 0, 2]))
    >>> ids.tolist(), m
    ([0, 1, 0, 2, 1], 3)
    """
    n = key.size
    span = int(key.max()) + 1 if n else 0
    if span > 4 * n + 1024:
        ids, uniq = pd.factorize(key)
        return ids.astype(np.int64, copy=False), len(uniq)
    first = np.full(span, n, dtype=np.int64)
    first[key[::-1]] = np.arange(n - 1, -1, -1, dtype=np.int64)  # the earliest row wins
    used = np.flatnonzero(first < n)
    rank = np.empty(span, dtype=np.int64)
    rank[used[np.argsort(first[used], kind="stable")]] = np.arange(used.size, dtype=np.int64)
    return rank[key], int(used.size)


class KnownCodes(Mapping[str, np.ndarray]):
    """Per column, the codes of its values, made when first read; and groupings of records.

    A mapping of column name to per-row codes (``-1`` = missing, equal exactly when the
    values are), as :attr:`core.recipe.HardeningResult.column_codes` gives them. A code
    array is made the first time it is read. :meth:`grouping` gives the records grouped by
    some of the columns when the maker of this mapping knows it without reading every row
    (from the patterns of an earlier grouping); :func:`core.risk.equivalence_classes`
    counts the classes on those patterns.

    >>> kc = KnownCodes({"a": lambda: np.array([0, 1, 0])})
    >>> list(kc), kc["a"].tolist(), kc.grouping(["a"]) is None
    (['a'], [0, 1, 0], True)
    """

    def __init__(
        self,
        makers: Mapping[str, Callable[[], np.ndarray]],
        grouper: Callable[[tuple[str, ...]], Grouping | None] | None = None,
    ) -> None:
        self._makers = dict(makers)
        self._made: dict[str, np.ndarray] = {}
        self._grouper = grouper

    def __getitem__(self, column: str) -> np.ndarray:
        if column not in self._made:
            self._made[column] = self._makers[column]()
        return self._made[column]

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)

    def grouping(self, columns: Sequence[str]) -> Grouping | None:
        """The records grouped by the codes of ``columns`` (in that order), or None when
        it is not known without grouping the codes of every record."""
        cols = tuple(columns)
        if self._grouper is None or not cols or not all(c in self._makers for c in cols):
            return None
        return self._grouper(cols)


def _nbytes(value: object) -> int:
    """Approximate memory of a memo entry (arrays, Series and what holds them)."""
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, pd.Series):
        return int(value.memory_usage(index=False, deep=False))
    if isinstance(value, tuple | list):
        return sum(_nbytes(v) for v in value)
    if hasattr(value, "__slots__"):
        return sum(_nbytes(getattr(value, a, None)) for a in value.__slots__)
    return 64


class ColumnMemo:
    """Factorized columns and value-wise chains of one dataset, bounded, least recent out.

    Parameters
    ----------
    token : str
        Names the dataset (and, for the caller, the key in use); a memo answers only for it.
    """

    def __init__(self, token: str = "", max_bytes: int = MEMO_BYTES) -> None:
        self.token = token
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._sizes: dict[Hashable, int] = {}

    def get(self, key: Hashable, make: Callable[[], object]) -> object:
        """The value remembered under ``key``, made by ``make()`` the first time."""
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = make()
        self._entries[key] = value
        self._sizes[key] = _nbytes(value)
        while len(self._entries) > 1 and (
            len(self._entries) > MEMO_ENTRIES or sum(self._sizes.values()) > self.max_bytes
        ):
            old, _ = self._entries.popitem(last=False)
            del self._sizes[old]
        return value

    def peek(self, key: Hashable) -> object | None:
        """The value remembered under ``key``, or None (nothing is made)."""
        return self._entries.get(key)

    def __len__(self) -> int:
        return len(self._entries)
