"""Per-column codes: value-wise transforms computed once per distinct value.

A column of a million rows often holds a few dozen distinct values. A value-wise transform
(binning, rounding, grouping, masking, pseudonymizing, ...) maps each value on its own, so it
is computed on the distinct values only and spread back to the rows by their integer codes.
The codes also give the equivalence classes of the hardened table without reading its text.

:class:`ColumnMemo` remembers, for one dataset (named by its token, never by its content),
each column's factorization and each chain of value-wise steps applied to it, so a change of
one step recomputes one column. It holds no key: the caller makes a new memo when the
pseudonymization key changes.

>>> s = pd.Series(["b", "a", None, "b"], dtype="str")
>>> cc = factorize(s)
>>> cc.codes.tolist(), cc.values.tolist()
([0, 1, -1, 0], ['b', 'a', nan])
>>> cc.series(s.index).equals(s)
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["ColumnCodes", "ColumnMemo", "eligible", "factorize", "transform"]

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
        out = self.values.take(self.codes)
        out.index = index
        return out

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
