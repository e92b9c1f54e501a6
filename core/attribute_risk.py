"""Attribute disclosure: what the equivalence classes reveal about sensitive attributes.

Every measure works on (class, value) pair counts: the class id from
:func:`core.risk.equivalence_classes` and the factorized sensitive value are combined into
one int64 key and counted once; no Python loop per class.

Missing sensitive values are one more value (they are counted, not dropped), except in the
ordered t-closeness distance, which leaves them out. Classes are
the exact QI patterns, whatever the missing-value policy of the classes.

References
----------
.. [M07] Machanavajjhala, A., Kifer, D., Gehrke, J., Venkitasubramaniam, M. (2007).
   l-Diversity: privacy beyond k-anonymity. ACM TKDD 1(1).
.. [L07] Li, N., Li, T., Venkatasubramanian, S. (2007). t-Closeness: privacy beyond
   k-anonymity and l-diversity. ICDE 2007.
.. [BS08] Brickell, J., Shmatikov, V. (2008). The cost of privacy: destruction of
   data-mining utility in anonymized data publishing. KDD 2008.
.. [C12] Cao, J., Karras, P. (2012). Publishing microdata with a robust privacy guarantee.
   PVLDB 5(11). (beta-likeness)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ColumnError, InvalidParameterError
from core.limits import RISK_RECURSIVE_L_DEFAULT
from core.risk import EquivalenceClasses, factorize_values

__all__ = [
    "AttributeRisk",
    "LDiversityCounts",
    "attribute_risk",
    "attribute_risks",
    "l_diversity_counts",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AttributeRisk:
    """Attribute-disclosure measures of one sensitive attribute over the classes.

    Attributes
    ----------
    column : str
    distinct_l : int
        Smallest number of distinct sensitive values in a class.
    entropy_l : float
        ``min over classes of exp(H)``, ``H = -sum q ln q`` (a float, not floored).
    recursive_l : int
        The ``l`` used for recursive (c, l)-diversity.
    recursive_c : float
        ``max over classes of r_1 / (r_l + ... + r_m)`` with counts sorted descending; the
        table is recursive (c, l)-diverse for every ``c`` above it (``inf`` when a class has
        fewer than ``l`` distinct values).
    t_closeness : float
        Largest Earth Mover's Distance between a class and the whole table.
    ordered : bool
        True when the ordered distance was used (numeric or ordered categorical values).
    delta_disclosure : float
        ``max |ln(q / p)|`` over classes and the values present in them (natural log).
    beta_likeness : float
        ``max over classes and values with p > 0 of (q - p) / p`` (basic beta-likeness).
    enhanced_beta_likeness : float
        The smallest ``beta`` for which enhanced beta-likeness holds: every value with
        ``q > p`` must have ``(q - p) / p <= min(beta, -ln p)``. It is the basic beta when
        every such value has ``(q - p) / p <= -ln p``, and ``inf`` otherwise (no ``beta``
        is enough).
    warnings : tuple of str
    """

    column: str
    distinct_l: int
    entropy_l: float
    recursive_l: int
    recursive_c: float
    t_closeness: float
    ordered: bool
    delta_disclosure: float
    beta_likeness: float
    enhanced_beta_likeness: float = 0.0
    warnings: tuple[str, ...] = ()


def _value_codes(s: pd.Series) -> tuple[np.ndarray, int, bool]:
    """Codes (missing = its own last code, sorted order if ordered) and cardinality."""
    ordered = bool(
        (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))
        or (isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.ordered)
    )
    if isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.ordered:
        codes = s.cat.codes.to_numpy().astype(np.int64)
        present = np.unique(codes[codes >= 0])
        remap = np.full(len(s.cat.categories), -1, dtype=np.int64)
        remap[present] = np.arange(present.size)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        m = int(present.size)
    elif ordered:
        codes, uniq = pd.factorize(s, sort=True, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        m = len(uniq)
    else:  # object columns of several types keep 1, True and 1.0 apart
        codes, m = factorize_values(s)
    if (codes < 0).any():
        codes = np.where(codes < 0, m, codes)
        m += 1
    return codes, m, ordered


def attribute_risk(
    df: pd.DataFrame,
    classes: EquivalenceClasses,
    sensitive: str,
    *,
    recursive_l: int = RISK_RECURSIVE_L_DEFAULT,
) -> AttributeRisk:
    """l-diversity (distinct, entropy, recursive), t-closeness, delta-disclosure, beta-likeness.

    Parameters
    ----------
    df : pandas.DataFrame
        The table ``classes`` was built from.
    classes : EquivalenceClasses
        From :func:`core.risk.equivalence_classes` on ``df``.
    sensitive : str
        The sensitive column; it must not be one of the quasi-identifiers.
    recursive_l : int
        ``l >= 2`` for recursive (c, l)-diversity.

    Returns
    -------
    AttributeRisk

    Raises
    ------
    ColumnError
        ``sensitive`` missing from ``df`` or used as a quasi-identifier.
    InvalidParameterError
        ``recursive_l < 2``, or ``df`` and ``classes`` of different lengths.

    Notes
    -----
    For a class with value counts ``r_1 >= r_2 >= ... >= r_m`` (size ``f``), class shares
    ``q_i = r_i / f`` and table shares ``p_i``:

    - distinct l = ``min m``; entropy l = ``min exp(-sum q_i ln q_i)``;
    - recursive (c, l): ``r_1 < c (r_l + ... + r_m)`` must hold in every class; reported as
      the bound ``max r_1 / (r_l + ... + r_m)`` (the textbook order: descending counts);
    - t-closeness, EMD with equal ground distance ``(1/2) sum |q_i - p_i|`` for unordered
      values; with ordered distance ``1/(m - 1) sum_i |sum_{j<=i} (q_j - p_j)|`` over the
      ``m`` sorted distinct values of the table, for numeric or ordered categorical values;
    - delta-disclosure: ``max |ln(q_i / p_i)|`` over values present in the class (natural
      logarithm). Values absent from a class give ``|ln 0| = inf`` in the strict definition;
      they are skipped, as pyCANON does, and counted in a warning;
    - basic beta-likeness: ``max (q_i - p_i) / p_i``;
    - enhanced beta-likeness (Cao and Karras 2012, ARX's ``EnhancedBLikeness``): for every
      value with ``q_i > p_i``, ``(q_i - p_i) / p_i <= min(beta, -ln p_i)``; reported as the
      smallest such ``beta`` (``inf`` when some value exceeds its ``-ln p_i`` cap).

    A missing sensitive value counts as one more value, except in the ordered distance:
    there a missing value has no place in the order, so it is left out of both the class's
    and the table's distribution (as ARX leaves suppressed values out), classes with no
    observed value are left out, and a warning gives the counts.

    References
    ----------
    .. [M07] Machanavajjhala et al. (2007). .. [L07] Li et al. (2007).
    .. [BS08] Brickell and Shmatikov (2008). .. [C12] Cao and Karras (2012).

    Examples
    --------
    >>> from core.risk import equivalence_classes
    >>> df = pd.DataFrame({"zip": [1, 1, 1, 2, 2, 2], "dx": list("aabcab")})
    >>> ar = attribute_risk(df, equivalence_classes(df, ["zip"]), "dx")
    >>> ar.distinct_l, round(ar.entropy_l, 4), ar.recursive_c, round(ar.t_closeness, 4)
    (2, 1.8899, 2.0, 0.1667)
    """
    _check_sensitive(df, classes, sensitive)
    if int(recursive_l) < 2:
        raise InvalidParameterError(
            f"recursive_l must be at least 2; got {recursive_l}. (c, 2)-diversity is the "
            "usual starting point."
        )
    ell = int(recursive_l)
    vcode, m, ordered = _value_codes(df[sensitive])
    n = classes.n
    n_cls = classes.n_classes
    p = np.bincount(vcode, minlength=m) / n  # table distribution, all > 0
    # (class, value) pair counts, sorted by class then value
    pair_key = classes.class_id * m + vcode
    keys, r = np.unique(pair_key, return_counts=True)
    pc = keys // m
    pv = keys % m
    f = classes.class_sizes.astype(np.float64)
    q = r / f[pc]
    distinct = np.bincount(pc, minlength=n_cls)
    entropy = np.exp(-np.bincount(pc, q * np.log(q), minlength=n_cls))
    # recursive (c, l): rank counts descending within each class
    order = np.lexsort((-r, pc))
    rs, cs = r[order], pc[order]
    starts = np.searchsorted(cs, np.arange(n_cls))
    rank = np.arange(rs.size) - starts[cs]  # 0 = most frequent
    r1 = rs[rank == 0].astype(np.float64)  # one per class, classes in order
    tail = np.bincount(cs[rank >= ell - 1], rs[rank >= ell - 1], minlength=n_cls)
    with np.errstate(divide="ignore"):
        rec_c = float(np.max(np.where(tail > 0, r1 / np.where(tail > 0, tail, 1), np.inf)))
    # t-closeness
    warnings: list[str] = []
    has_na = bool(df[sensitive].isna().any())
    m_obs = m - 1 if has_na else m
    if ordered and m_obs > 1:
        t, no_value = _ordered_t(classes.class_id, vcode, m_obs, n_cls)
        if has_na:
            warnings.append(
                f"{int((vcode == m_obs).sum())} record(s) have a missing '{sensitive}'; the "
                "ordered t-closeness leaves them out of both distributions"
                + (
                    f" ({no_value} class(es) with no observed value are left out)."
                    if no_value
                    else "."
                )
            )
    elif ordered and has_na:  # at most one observed value: every distribution is the same
        t = 0.0
        warnings.append(
            f"'{sensitive}' has at most one observed value; missing values are left out of "
            "the ordered t-closeness, which is 0."
        )
    else:
        # 0.5 * (sum over present |q - p| + sum over absent p)
        present = np.bincount(pc, np.abs(q - p[pv]) - p[pv], minlength=n_cls)
        t = float(np.max(0.5 * (present + 1.0)))
    ratio = q / p[pv]
    delta = float(np.max(np.abs(np.log(ratio))))
    beta = float(np.max(ratio - 1.0))
    gain = q > p[pv]
    rel = ratio[gain] - 1.0
    if not rel.size:
        enhanced = 0.0
    elif np.all(rel <= -np.log(p[pv][gain])):
        enhanced = float(rel.max())
    else:
        enhanced = math.inf
    incomplete = int(np.sum(distinct < m))
    if incomplete:
        warnings.append(
            f"{incomplete} of {n_cls} class(es) lack some value of '{sensitive}'; under the "
            "strict delta-disclosure definition their delta is infinite. The reported delta "
            "covers the values present in each class."
        )
    return AttributeRisk(
        column=sensitive,
        distinct_l=int(distinct.min()),
        entropy_l=float(entropy.min()),
        recursive_l=ell,
        recursive_c=rec_c,
        t_closeness=t,
        ordered=ordered and m_obs > 1,
        delta_disclosure=delta,
        beta_likeness=beta,
        enhanced_beta_likeness=enhanced,
        warnings=tuple(warnings),
    )


def _ordered_t(
    class_id: np.ndarray, vcode: np.ndarray, m_obs: int, n_cls: int
) -> tuple[float, int]:
    """Ordered t over the observed values only (codes ``< m_obs``; missing is ``m_obs``).

    Returns the largest distance and the number of classes with no observed value (left
    out: they have no distribution to compare).
    """
    seen = vcode < m_obs
    cid, v = class_id[seen], vcode[seen]
    p = np.bincount(v, minlength=m_obs) / v.size
    keys, r = np.unique(cid * m_obs + v, return_counts=True)
    pc, pv = keys // m_obs, keys % m_obs
    f = np.bincount(cid, minlength=n_cls)
    t = _ordered_emd(pc, pv, r / f[pc], p, n_cls, m_obs)
    return t, int(np.sum(f == 0))


def _ordered_emd(
    pc: np.ndarray, pv: np.ndarray, q: np.ndarray, p: np.ndarray, n_cls: int, m: int
) -> float:
    """Per class ``1/(m-1) sum_{i=0}^{m-1} |Q_i - P_i|`` with Q, P cumulative shares.

    Between two values present in a class, Q is constant while P rises, so each segment's
    sum of ``|Q - P_i|`` comes from prefix sums of P split where P crosses Q.
    """
    big_p = np.cumsum(p)
    big_p[-1] = 1.0
    s = np.concatenate([[0.0], np.cumsum(big_p)])  # s[i] = sum_{j<i} P_j
    # class CDF after each present value (pairs are sorted by class then value)
    cq = np.cumsum(q)
    start = np.searchsorted(pc, pc, side="left")  # first pair of the same class
    qcum = cq - (cq[start] - q[start])
    first = start == np.arange(pc.size)
    last = np.r_[pc[1:] != pc[:-1], True]
    seg_a = pv
    seg_b = np.where(last, m, np.r_[pv[1:], m])
    qv = np.where(last, 1.0, qcum)
    # split point: first index i in [a, b) with P_i > Q
    split = np.clip(np.searchsorted(big_p, qv, side="right"), seg_a, seg_b)
    seg = (
        qv * (split - seg_a) - (s[split] - s[seg_a]) + (s[seg_b] - s[split]) - qv * (seg_b - split)
    )
    # before the first present value of each class Q = 0: sum_{i < a0} P_i
    head = s[pv[first]]
    total = np.bincount(pc, seg, minlength=n_cls)
    total[pc[first]] += head
    return float(np.max(total) / (m - 1))


def attribute_risks(
    df: pd.DataFrame,
    classes: EquivalenceClasses,
    sensitive: Sequence[str],
    *,
    recursive_l: int = RISK_RECURSIVE_L_DEFAULT,
) -> tuple[AttributeRisk, ...]:
    """:func:`attribute_risk` for each sensitive column (the table-level l is the minimum,
    t the maximum).

    >>> from core.risk import equivalence_classes
    >>> df = pd.DataFrame({"zip": [1, 1, 2, 2], "a": list("xyxy"), "b": [1, 1, 2, 3]})
    >>> [r.distinct_l for r in attribute_risks(df, equivalence_classes(df, ["zip"]), ["a", "b"])]
    [2, 1]
    """
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    out = tuple(attribute_risk(df, classes, s, recursive_l=recursive_l) for s in sensitive)
    if any(math.isnan(r.t_closeness) for r in out):  # pragma: no cover - defensive
        raise InvalidParameterError("t-closeness could not be computed.")
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class LDiversityCounts:
    """Distinct l of each record's class, and how many records have each l (sdcMicro).

    Attributes
    ----------
    column : str
    record_l : numpy.ndarray
        Per record, the number of distinct sensitive values in its class.
    l_values : numpy.ndarray
        The distinct l values present, ascending.
    records : numpy.ndarray
        Records whose class has each l of ``l_values``.
    """

    column: str
    record_l: np.ndarray
    l_values: np.ndarray
    records: np.ndarray


def l_diversity_counts(
    df: pd.DataFrame, classes: EquivalenceClasses, sensitive: str
) -> LDiversityCounts:
    """Per-record distinct l-diversity and the records per l, as sdcMicro's ``ldiversity``.

    Parameters
    ----------
    df : pandas.DataFrame
        The table ``classes`` was built from.
    classes : EquivalenceClasses
        From :func:`core.risk.equivalence_classes` on ``df``.
    sensitive : str
        The sensitive column (not a quasi-identifier).

    Returns
    -------
    LDiversityCounts

    Raises
    ------
    ColumnError
        ``sensitive`` missing from ``df`` or used as a quasi-identifier.
    InvalidParameterError
        ``df`` and ``classes`` of different lengths.

    Notes
    -----
    ``l(i)`` = number of distinct values of the sensitive attribute among the records of
    record i's class (sdcMicro's ``Distinct_Ldiversity`` column); ``records[l]`` counts the
    records with that ``l`` (its summary table). A missing value counts as one more value,
    as in :func:`attribute_risk`. The table is distinct l-diverse for ``l = min l(i)``.

    References
    ----------
    .. [M07] Machanavajjhala et al. (2007). sdcMicro ``ldiversity`` (Templ et al. 2015).

    Examples
    --------
    >>> from core.risk import equivalence_classes
    >>> df = pd.DataFrame({"zip": [1, 1, 1, 2, 2, 3], "dx": list("aabccd")})
    >>> lc = l_diversity_counts(df, equivalence_classes(df, ["zip"]), "dx")
    >>> lc.record_l.tolist(), lc.l_values.tolist(), lc.records.tolist()
    ([2, 2, 2, 1, 1, 1], [1, 2], [3, 3])
    """
    _check_sensitive(df, classes, sensitive)
    vcode, m, _ = _value_codes(df[sensitive])
    keys = np.unique(classes.class_id * m + vcode)
    distinct = np.bincount(keys // m, minlength=classes.n_classes)
    record_l = distinct[classes.class_id]
    l_values, records = np.unique(record_l, return_counts=True)
    return LDiversityCounts(column=sensitive, record_l=record_l, l_values=l_values, records=records)


def _check_sensitive(df: pd.DataFrame, classes: EquivalenceClasses, sensitive: str) -> None:
    if sensitive not in df.columns:
        raise ColumnError(
            f"Sensitive column '{sensitive}' is not in the table ({df.shape[1]} columns). "
            "Pick an existing column."
        )
    if sensitive in classes.quasi_identifiers:
        raise ColumnError(
            f"'{sensitive}' is both a quasi-identifier and a sensitive attribute. "
            "Remove it from one of the two lists."
        )
    if len(df) != classes.n:
        raise InvalidParameterError(
            f"The table has {len(df)} rows but the classes were built on {classes.n}. "
            "Build the classes from the same table."
        )
