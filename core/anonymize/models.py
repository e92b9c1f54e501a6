"""Privacy models a transformation must satisfy, checked per equivalence class.

Each model says which classes of a generalized table *violate* it. Following ARX, the
records of every violating class are suppressed, and the transformation is anonymous when
their number is within the suppression limit ``floor(limit * n)``; ARX never suppresses part
of a class. The average-risk threshold is a property of the whole table (ARX's
"sample-based" criteria): when it fails, the smallest remaining classes are suppressed
(ties: the class met first in the data) until it holds, within the same limit.

The per-class conditions are those of :mod:`core.risk` and :mod:`core.attribute_risk` (one
definition per measure; ``tests/test_anonymize_models.py`` checks they agree), computed here
per class on the (class, value) counts of a candidate transformation:

========================= =========================================================
model                     a class E with size f and sensitive counts r violates it if
========================= =========================================================
k-anonymity               ``f < k``
max. risk ``r``           ``1 / f > r`` (k-anonymity with ``k = ceil(1 / r)``)
distinct l-diversity      fewer than ``l`` distinct values
entropy l-diversity       ``exp(-sum q ln q) < l``, ``q = r / f``
recursive (c, l)          not ``r_1 < c (r_l + ... + r_m)`` (counts sorted descending)
equal-distance t          ``(1/2) sum |q_i - p_i| > t`` (``p`` = shares in all n records)
ordered-distance t        ``1/(m-1) sum_i |Q_i - P_i| > t`` (cumulative shares)
average risk ``r``        (whole table) ``classes / records > r`` over kept records
========================= =========================================================

Monotonicity (ARX's flags, used by the search to prune): k-anonymity, max. risk, distinct
l-diversity and average risk stay satisfied when a transformation is generalized further,
with or without suppression; entropy and recursive l-diversity and t-closeness only
without suppression (limit 0).

References
----------
.. [S02] Sweeney (2002), k-anonymity. .. [M07] Machanavajjhala et al. (2007), l-diversity.
.. [L07] Li, Li, Venkatasubramanian (2007), t-closeness.
.. [EE08] El Emam, Dankar (2008), average and highest prosecutor risk.
.. [PKL14] Prasser et al. (2014), ARX (suppression limit semantics).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.attribute_risk import _value_codes
from core.errors import ColumnError, InvalidParameterError

__all__ = [
    "AverageRisk",
    "ClassView",
    "DistinctLDiversity",
    "EntropyLDiversity",
    "KAnonymity",
    "MaxRisk",
    "OrderedTCloseness",
    "PrivacyModel",
    "RecursiveCLDiversity",
    "SensitiveCodes",
    "EqualTCloseness",
    "encode_sensitive",
    "sensitive_of",
]

_TOL = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True)
class SensitiveCodes:
    """A sensitive column as integers: a code per record and the table distribution.

    Attributes
    ----------
    column : str
    codes : numpy.ndarray
        Per record, ``0 .. m - 1`` (a missing value is one more value, the last).
    m : int
        Number of distinct values.
    p : numpy.ndarray
        Share of each value over all records.
    ordered : bool
        Codes follow the values' order (numbers, ordered categories).
    has_missing : bool
    """

    column: str
    codes: np.ndarray
    m: int
    p: np.ndarray
    ordered: bool
    has_missing: bool


def encode_sensitive(df: pd.DataFrame, column: str) -> SensitiveCodes:
    """Code a sensitive column as :mod:`core.attribute_risk` does.

    >>> s = encode_sensitive(pd.DataFrame({"dx": ["b", "a", "b"]}), "dx")
    >>> s.codes.tolist(), s.m, s.p.round(3).tolist()
    ([0, 1, 0], 2, [0.667, 0.333])
    """
    if column not in df.columns:
        raise ColumnError(
            f"Sensitive column '{column}' is not in the table ({df.shape[1]} columns). Pick an "
            "existing column."
        )
    if int((df.columns == column).sum()) > 1:
        raise ColumnError(
            f"The table has {int((df.columns == column).sum())} columns named like the "
            "sensitive column; rename them so each name is used once."
        )
    codes, m, ordered = _value_codes(df[column])
    p = np.bincount(codes, minlength=m) / len(df)
    return SensitiveCodes(
        column=column,
        codes=codes,
        m=m,
        p=p,
        ordered=ordered,
        has_missing=bool(df[column].isna().any()),
    )


@dataclass(slots=True, kw_only=True)
class ClassView:
    """The equivalence classes of one candidate transformation (internal to the search).

    Attributes
    ----------
    row_class : numpy.ndarray
        Class of each distinct input row (the search groups identical input rows first).
    row_weight : numpy.ndarray
        Records behind each distinct row.
    sizes : numpy.ndarray
        Records per class (int64).
    sensitive : dict
        Per sensitive column, its codes per distinct row.
    """

    row_class: np.ndarray
    row_weight: np.ndarray
    sizes: np.ndarray
    sensitive: dict[str, tuple[np.ndarray, SensitiveCodes]]
    _pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def n_classes(self) -> int:
        """Number of classes."""
        return int(self.sizes.size)

    def pairs(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(class, value, count) of every pair present, sorted by class then value."""
        if column not in self._pairs:
            codes, sc = self.sensitive[column]
            key = self.row_class * sc.m + codes
            keys, inv = np.unique(key, return_inverse=True)
            counts = np.bincount(inv, weights=self.row_weight).astype(np.int64)
            self._pairs[column] = (keys // sc.m, keys % sc.m, counts)
        return self._pairs[column]


class PrivacyModel:
    """Base of the privacy models: which classes violate the model."""

    #: True when the model stays satisfied under further generalization even with suppression.
    monotone_with_suppression: bool = True

    def violating(self, view: ClassView) -> np.ndarray:  # pragma: no cover - abstract
        """Boolean per class: True when the class violates the model."""
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - abstract
        """Short text such as ``5-anonymity``."""
        raise NotImplementedError


def _check_int(name: str, value: object, minimum: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}; got {value}. {hint}")
    return int(value)


def _check_share(name: str, value: object, hint: str, *, zero_ok: bool = False) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        x = math.nan
    low_ok = x >= 0.0 if zero_ok else x > 0.0
    if not (low_ok and x <= 1.0):
        raise InvalidParameterError(
            f"{name} must be in {'[0' if zero_ok else '(0'}, 1]; got {value}. {hint}"
        )
    return x


@dataclass(frozen=True, slots=True)
class KAnonymity(PrivacyModel):
    """Every kept class has at least ``k`` records [S02]_.

    >>> KAnonymity(5).describe()
    '5-anonymity'
    """

    k: int

    def __post_init__(self) -> None:
        _check_int("k", self.k, 1, "k = 5 is a common choice.")

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes smaller than ``k``."""
        return view.sizes < self.k

    def describe(self) -> str:
        """E.g. ``5-anonymity``."""
        return f"{self.k}-anonymity"


@dataclass(frozen=True, slots=True)
class MaxRisk(PrivacyModel):
    """Highest prosecutor risk ``1 / f`` of every kept record at most ``threshold`` [EE08]_.

    Equivalent to k-anonymity with ``k = ceil(1 / threshold)``.

    >>> MaxRisk(0.2).k
    5
    """

    threshold: float

    def __post_init__(self) -> None:
        _check_share("the maximum risk", self.threshold, "0.2 means classes of at least 5.")

    @property
    def k(self) -> int:
        """Smallest class size whose risk is within the threshold."""
        return max(1, math.ceil(1.0 / self.threshold - 1e-9))

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes whose risk ``1 / f`` exceeds the threshold."""
        return view.sizes < self.k

    def describe(self) -> str:
        """E.g. ``max risk <= 0.2``."""
        return f"max risk <= {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class AverageRisk(PrivacyModel):
    """Average prosecutor risk ``classes / records`` of the kept records at most ``threshold``.

    A whole-table condition (ARX's ``AverageReidentificationRisk``): the search suppresses
    the smallest classes until it holds, within the suppression limit.

    >>> AverageRisk(0.05).describe()
    'average risk <= 0.05'
    """

    threshold: float

    def __post_init__(self) -> None:
        _check_share("the average risk", self.threshold, "0.05 means classes of 20 on average.")

    def violating(self, view: ClassView) -> np.ndarray:
        """No class violates it on its own (it is checked on the whole table)."""
        return np.zeros(view.n_classes, dtype=bool)

    def fulfilled(self, kept_classes: int, kept_records: int) -> bool:
        """``1 / (kept_records / kept_classes) <= threshold``, in ARX's floating-point form.

        True when nothing is kept: then every class is suppressed and only the suppression
        limit decides (ARX's verdict for a transformation is its number of suppressed
        records against the limit).

        >>> AverageRisk(0.05).fulfilled(5, 100), AverageRisk(0.05).fulfilled(6, 100)
        (True, False)
        """
        return kept_records == 0 or 1.0 / (kept_records / kept_classes) <= self.threshold

    def describe(self) -> str:
        """E.g. ``average risk <= 0.05``."""
        return f"average risk <= {self.threshold:g}"


@dataclass(frozen=True, slots=True)
class DistinctLDiversity(PrivacyModel):
    """At least ``l`` distinct values of the sensitive column in every kept class [M07]_."""

    sensitive: str
    l: int  # noqa: E741

    def __post_init__(self) -> None:
        _check_int("l", self.l, 1, "l = 2 is the smallest useful value.")

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes with fewer than ``l`` distinct values."""
        pc, _, _ = view.pairs(self.sensitive)
        return np.bincount(pc, minlength=view.n_classes) < self.l

    def describe(self) -> str:
        """E.g. ``distinct-2-diversity of 'dx'``."""
        return f"distinct-{self.l}-diversity of '{self.sensitive}'"


@dataclass(frozen=True, slots=True)
class EntropyLDiversity(PrivacyModel):
    """``exp(H) >= l`` in every kept class, ``H = -sum q ln q`` (Shannon) [M07]_."""

    sensitive: str
    l: float  # noqa: E741
    monotone_with_suppression = False

    def __post_init__(self) -> None:
        if not (isinstance(self.l, int | float) and self.l >= 1):
            raise InvalidParameterError(f"l must be a number >= 1; got {self.l}.")

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes whose entropy is below ``ln l``."""
        pc, _, r = view.pairs(self.sensitive)
        q = r / view.sizes[pc]
        h = -np.bincount(pc, q * np.log(q), minlength=view.n_classes)
        return h < math.log(self.l) - 1e-10

    def describe(self) -> str:
        """E.g. ``entropy-2-diversity of 'dx'``."""
        return f"entropy-{self.l:g}-diversity of '{self.sensitive}'"


@dataclass(frozen=True, slots=True)
class RecursiveCLDiversity(PrivacyModel):
    """``r_1 < c (r_l + ... + r_m)`` in every kept class (counts descending) [M07]_."""

    sensitive: str
    c: float
    l: int  # noqa: E741
    monotone_with_suppression = False

    def __post_init__(self) -> None:
        _check_int("l", self.l, 2, "(c, 2)-diversity is the usual start.")
        if not (isinstance(self.c, int | float) and self.c > 0):
            raise InvalidParameterError(f"c must be a positive number; got {self.c}.")

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes with fewer than ``l`` values, or whose top count is too large."""
        pc, _, r = view.pairs(self.sensitive)
        order = np.lexsort((-r, pc))
        rs, cs = r[order], pc[order]
        starts = np.searchsorted(cs, np.arange(view.n_classes))
        rank = np.arange(rs.size) - starts[cs]
        r1 = np.zeros(view.n_classes)
        r1[cs[rank == 0]] = rs[rank == 0]
        tail = np.bincount(cs[rank >= self.l - 1], rs[rank >= self.l - 1], minlength=view.n_classes)
        distinct = np.bincount(pc, minlength=view.n_classes)
        return (distinct < self.l) | ~(r1 < self.c * tail)

    def describe(self) -> str:
        """E.g. ``recursive-(3, 2)-diversity of 'dx'``."""
        return f"recursive-({self.c:g}, {self.l})-diversity of '{self.sensitive}'"


@dataclass(frozen=True, slots=True)
class EqualTCloseness(PrivacyModel):
    """Equal-distance EMD ``(1/2) sum |q_i - p_i| <= t`` in every kept class [L07]_.

    ``p`` is the distribution over all n input records (ARX's ``EqualDistanceTCloseness``).
    """

    sensitive: str
    t: float
    monotone_with_suppression = False

    def __post_init__(self) -> None:
        _check_share("t", self.t, "0.2 is a common choice.", zero_ok=True)

    def distances(self, view: ClassView) -> np.ndarray:
        """Per class, the equal-distance EMD to the table."""
        pc, pv, r = view.pairs(self.sensitive)
        p = view.sensitive[self.sensitive][1].p
        q = r / view.sizes[pc]
        present = np.bincount(pc, np.abs(q - p[pv]) - p[pv], minlength=view.n_classes)
        return 0.5 * (present + 1.0)

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes farther than ``t`` from the table's distribution."""
        return self.distances(view) > self.t + _TOL

    def describe(self) -> str:
        """E.g. ``equal-distance 0.2-closeness of 'dx'``."""
        return f"equal-distance {self.t:g}-closeness of '{self.sensitive}'"


@dataclass(frozen=True, slots=True)
class OrderedTCloseness(PrivacyModel):
    """Ordered-distance EMD ``1/(m-1) sum_i |Q_i - P_i| <= t`` in every kept class [L07]_.

    ``Q``, ``P`` are the cumulative shares over the column's ``m`` sorted values; the column
    must be numeric or an ordered category without missing values.
    """

    sensitive: str
    t: float
    monotone_with_suppression = False

    def __post_init__(self) -> None:
        _check_share("t", self.t, "0.2 is a common choice.", zero_ok=True)

    def distances(self, view: ClassView) -> np.ndarray:
        """Per class, the ordered-distance EMD to the table."""
        pc, pv, r = view.pairs(self.sensitive)
        sc = view.sensitive[self.sensitive][1]
        if sc.m < 2:
            return np.zeros(view.n_classes)
        big_p = np.cumsum(sc.p)
        out = np.empty(view.n_classes)
        step = max(1, 4_000_000 // sc.m)  # classes per dense block
        starts = np.searchsorted(pc, np.arange(0, view.n_classes + step, step))
        for b, lo in enumerate(range(0, view.n_classes, step)):
            hi = min(lo + step, view.n_classes)
            a, z = starts[b], starts[b + 1]
            dense = np.zeros((hi - lo, sc.m))
            dense[pc[a:z] - lo, pv[a:z]] = r[a:z]
            big_q = np.cumsum(dense, axis=1) / view.sizes[lo:hi, None]
            out[lo:hi] = np.abs(big_q - big_p).sum(axis=1) / (sc.m - 1)
        return out

    def violating(self, view: ClassView) -> np.ndarray:
        """Classes farther than ``t`` from the table's distribution."""
        return self.distances(view) > self.t + _TOL

    def describe(self) -> str:
        """E.g. ``ordered-distance 0.2-closeness of 'age'``."""
        return f"ordered-distance {self.t:g}-closeness of '{self.sensitive}'"


def sensitive_of(model: PrivacyModel) -> str | None:
    """The sensitive column a model reads, or None (k-anonymity, risk thresholds)."""
    value = getattr(model, "sensitive", None)
    return value if isinstance(value, str) else None


def check_ordered(model: PrivacyModel, sc: SensitiveCodes) -> None:
    """Refuse ordered t-closeness on a column without an order or with missing values."""
    if isinstance(model, OrderedTCloseness) and (not sc.ordered or sc.has_missing):
        why = "has missing values" if sc.has_missing else "has no order (it is text)"
        raise InvalidParameterError(
            f"Ordered-distance t-closeness needs a numeric or ordered column without missing "
            f"values; '{sc.column}' {why}. Use equal-distance t-closeness instead."
        )
