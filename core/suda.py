"""Special uniques: minimal sample uniques (MSUs), SUDA scores and DIS-SUDA scores.

A record is *sample unique* on a set of quasi-identifiers (QIs) when no other record shares
its values on that set. A *minimal sample unique* (MSU) of a record is a set of QIs on which
it is unique while it is unique on none of the set's proper subsets. Records unique on few
variables are the easiest to pick out, and SUDA (Elliot et al. 2002) scores each record by
its MSUs, smaller MSUs weighing more. SUDA2 (Manning, Haglin & Keane 2008) finds the MSUs.

The search here rests on the two facts SUDA2 is built on, applied to integer codes with
numpy instead of a recursion per item:

- *superset relationship*: every superset of a unique set is unique. So a set S of size k is
  an MSU of a record exactly when the record is unique on S and on none of the k subsets of
  size k - 1, and only records unique on all the QIs can have an MSU;
- only distinct QI patterns matter: the table is reduced to its distinct patterns once, and
  only the patterns that occur once (the sample uniques) are candidates.

The lattice of QI subsets is walked level by level up to ``max_size``; on each subset one
``np.bincount`` over the combined codes of the distinct patterns tells which candidates are
unique. Candidates already unique on a smaller subset are settled by the superset
relationship without counting. The cost is one O(patterns) pass per subset of size at most
``max_size`` (``sum_k C(q, k)`` passes for q QIs), with no Python loop per record or class.

Missing values (:class:`SudaMissing`):

- ``"category"`` (default, as ARX treats data): a missing value is one more value. It can be
  part of an MSU (the only record with a missing age is unique on age);
- ``"ignore"`` (as sdcMicro's ``suda2`` does with its ``missing`` code): a missing value
  never forms part of an MSU and matches no observed value. A record is still only compared
  on the variables of each candidate set, so its MSUs use only variables it has observed.

In both cases records that are identical on all QIs (missing values included) are not
unique and score 0, and every record gets a score: nothing is dropped.

References
----------
.. [E02] Elliot, M. J., Manning, A. M., Ford, R. W. (2002). A computational algorithm for
   handling the special uniques problem. IJUFKS 10(5), 493-509.
.. [EM05] Elliot, M. J., Manning, A., Mayes, K., Gurd, J., Bane, M. (2005). SUDA: a program
   for detecting special uniques. Joint UNECE/Eurostat work session on SDC, Geneva.
.. [MHK08] Manning, A. M., Haglin, D. J., Keane, J. A. (2008). A recursive search algorithm
   for statistical disclosure assessment. Data Min. Knowl. Disc. 16, 165-196.
.. [SE02] Skinner, C. J., Elliot, M. J. (2002). A measure of disclosure risk for microdata.
   JRSS B 64(4), 855-867.
.. [TKM15] Templ, M., Kowarik, A., Meindl, B. (2015). Statistical disclosure control for
   micro-data using the R package sdcMicro. JSS 67(4). (``suda2``.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from core.errors import InvalidParameterError
from core.limits import SUDA_DIS_FRACTION_DEFAULT, SUDA_MAX_SUBSETS
from core.risk import _combine, _qi_codes, _validate_qis

__all__ = [
    "MinimalSampleUniques",
    "SudaMissing",
    "SudaResult",
    "minimal_sample_uniques",
    "msu_weight",
    "suda2",
    "suda_subset_count",
]


class SudaMissing(StrEnum):
    """How a missing QI value takes part in the MSU search."""

    CATEGORY = "category"
    IGNORE = "ignore"


def _missing(missing: SudaMissing | str) -> SudaMissing:
    try:
        return SudaMissing(missing)
    except ValueError:
        raise InvalidParameterError(
            f"missing must be 'category' or 'ignore'; got {missing!r}. Use 'category' to treat "
            "a missing value as one more value, 'ignore' to keep it out of every MSU (sdcMicro)."
        ) from None


def suda_subset_count(n_columns: int, max_size: int) -> int:
    """Number of QI subsets the search visits: ``sum_{k=1..max_size} C(n_columns, k)``.

    Examples
    --------
    >>> suda_subset_count(8, 4), suda_subset_count(8, 8)
    (162, 255)
    """
    return sum(math.comb(n_columns, k) for k in range(1, max_size + 1))


def _check_max_size(max_size: int | None, q: int) -> int:
    if max_size is None:
        max_size = q
    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)):
        raise InvalidParameterError(
            f"max_size must be a whole number; got {type(max_size).__name__}. "
            f"Pick an MSU size from 1 to {q}."
        )
    m = int(max_size)
    if not 1 <= m <= q:
        raise InvalidParameterError(
            f"max_size must be between 1 and the number of quasi-identifiers ({q}); got {m}. "
            f"Pick an MSU size from 1 to {q}."
        )
    subsets = suda_subset_count(q, m)
    if subsets > SUDA_MAX_SUBSETS:
        raise InvalidParameterError(
            f"{q} quasi-identifiers with MSUs up to size {m} means {subsets:,} column subsets, "
            f"above the limit of {SUDA_MAX_SUBSETS:,}. Lower the maximum MSU size or pick "
            "fewer quasi-identifiers."
        )
    return m


def msu_weight(size: int, *, n_columns: int) -> float:
    """SUDA weight of one MSU of ``size`` variables among ``n_columns`` QIs.

    Parameters
    ----------
    size : int
        MSU size k, ``1 <= k <= n_columns``.
    n_columns : int
        Number of quasi-identifiers q.

    Returns
    -------
    float
        ``prod_{i=k}^{q-1} (q - i) = (q - k)!``.

    Raises
    ------
    InvalidParameterError
        ``size`` outside ``1 .. n_columns``.

    Notes
    -----
    Elliot et al. [E02]_ weight an MSU of size k by ``prod_{i=k}^{M-1} (q - i)`` for a search
    up to size M; sdcMicro's ``suda2`` (the default ``original_scores=TRUE``) always searches
    every size, M = q, which gives ``(q - k)!``. The weight does not depend on the size limit
    used here, so a search capped at a smaller size gives a lower bound of the full score
    and scores stay comparable between caps.

    References
    ----------
    .. [E02] Elliot et al. (2002). .. [TKM15] Templ et al. (2015).

    Examples
    --------
    >>> [msu_weight(k, n_columns=4) for k in range(1, 5)]
    [6.0, 2.0, 1.0, 1.0]
    """
    if not 1 <= size <= n_columns:
        raise InvalidParameterError(
            f"An MSU size must be between 1 and the number of QIs ({n_columns}); got {size}."
        )
    return float(math.factorial(n_columns - size))


# --- MSU search ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MinimalSampleUniques:
    """Every MSU found, one row per (record, MSU).

    Attributes
    ----------
    quasi_identifiers : tuple of str
        The QI columns, in the order given; bit j of a mask is ``quasi_identifiers[j]``.
    max_size : int
        Largest MSU size searched.
    missing : SudaMissing
        Missing-value policy used.
    n : int
        Number of records.
    record : numpy.ndarray
        Row position (0-based) of the record owning each MSU.
    mask : numpy.ndarray
        The MSU's columns as a bit mask (int64).
    size : numpy.ndarray
        Number of columns in each MSU.
    sample_uniques : int
        Records unique on all QIs (only they can have an MSU).
    pair_records : int
        Records whose QI pattern occurs exactly twice.
    warnings : tuple of str
        Soft problems found.
    """

    quasi_identifiers: tuple[str, ...]
    max_size: int
    missing: SudaMissing
    n: int
    record: np.ndarray
    mask: np.ndarray
    size: np.ndarray
    sample_uniques: int
    pair_records: int
    warnings: tuple[str, ...] = ()

    def columns(self, i: int) -> tuple[str, ...]:
        """Column names of the ``i``-th MSU."""
        m = int(self.mask[i])
        return tuple(c for j, c in enumerate(self.quasi_identifiers) if (m >> j) & 1)


def _count_unique(keys: np.ndarray, span: int, at: np.ndarray) -> np.ndarray:
    """For the positions ``at``, whether their key occurs once in ``keys``."""
    if span <= max(4 * keys.size, 1 << 16):
        counts = np.bincount(keys, minlength=span)
        return counts[keys[at]] == 1
    ids, uniq = pd.factorize(keys)
    counts = np.bincount(ids, minlength=len(uniq))
    return counts[ids[at]] == 1


def minimal_sample_uniques(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    max_size: int | None = None,
    missing: SudaMissing | str = SudaMissing.CATEGORY,
) -> MinimalSampleUniques:
    """Find the minimal sample uniques of every record, up to ``max_size`` variables.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; at least one row.
    quasi_identifiers : sequence of str
        One or more distinct columns of ``df``.
    max_size : int, optional
        Largest MSU size searched, ``1 .. len(quasi_identifiers)``; default all sizes (as
        sdcMicro). The number of subsets ``sum_k C(q, k)`` must stay within
        ``limits.SUDA_MAX_SUBSETS``.
    missing : {"category", "ignore"}
        Missing-value policy, see the module docstring.

    Returns
    -------
    MinimalSampleUniques

    Raises
    ------
    InvalidParameterError
        Empty table, no QI, a QI listed twice, ``max_size`` out of range or too many subsets,
        or an unknown policy.
    ColumnError
        A QI that is not a column of ``df``.

    Notes
    -----
    A set S of QIs is an MSU of record i when ``#{j : x_j[S] = x_i[S]} = 1`` and no proper
    subset of S has this property [MHK08]_. By the superset relationship it is enough to
    check the subsets of size ``|S| - 1``. Under ``missing="category"`` a missing value
    equals only another missing value; under ``"ignore"`` no MSU contains a variable the
    record is missing, and a missing value equals no observed value.

    References
    ----------
    .. [MHK08] Manning, Haglin & Keane (2008). .. [E02] Elliot et al. (2002).

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 20, 60], "sex": ["m", "f", "f"]})
    >>> msu = minimal_sample_uniques(df, ["age", "sex"])
    >>> sorted((int(r), msu.columns(i)) for i, r in enumerate(msu.record))
    [(0, ('sex',)), (1, ('age', 'sex')), (2, ('age',))]
    """
    qis = _validate_qis(df, quasi_identifiers)
    policy = _missing(missing)
    q = len(qis)
    m = _check_max_size(max_size, q)
    codes, cards = _qi_codes(df, qis)
    is_na = codes < 0
    dense = np.where(is_na, cards - 1, codes) if is_na.any() else codes
    warnings = [
        f"Column {qis[j]} has a single value (or only missing values); it can never be part "
        "of an MSU."
        for j in range(q)
        if np.unique(dense[:, j]).size <= 1
    ]

    # Distinct full patterns; only those occurring once can have an MSU.
    pattern_of, uniq = pd.factorize(_combine(dense, cards))
    pattern_size = np.bincount(pattern_of, minlength=len(uniq))
    first = np.full(len(uniq), len(df), dtype=np.int64)
    np.minimum.at(first, pattern_of, np.arange(len(df), dtype=np.int64))
    patterns = dense[first]  # (C, q)
    pattern_na = is_na[first]
    cand = np.flatnonzero(pattern_size == 1)  # pattern indices of the sample uniques
    n_unique = int(cand.size)
    pairs = 2 * int((pattern_size == 2).sum())

    rec_parts: list[np.ndarray] = []
    mask_parts: list[np.ndarray] = []
    size_parts: list[np.ndarray] = []
    previous: dict[int, np.ndarray] = {}
    if n_unique:
        cand_na = pattern_na[cand]
        for k in range(1, m + 1):
            current: dict[int, np.ndarray] = {}
            for subset in itertools.combinations(range(q), k):
                bits = sum(1 << j for j in subset)
                if k == 1:
                    blocked = np.zeros(n_unique, dtype=bool)
                else:
                    blocked = np.zeros(n_unique, dtype=bool)
                    for j in subset:
                        blocked |= previous[bits & ~(1 << j)]
                open_ = ~blocked
                if policy is SudaMissing.IGNORE:
                    open_ &= ~cand_na[:, list(subset)].any(axis=1)
                unique = blocked.copy()
                at = np.flatnonzero(open_)
                if at.size:
                    cols = list(subset)
                    keys = _combine(patterns[:, cols], cards[cols])
                    span = int(np.prod(cards[cols].astype(np.float64)))
                    found = _count_unique(keys, span if span < 2**62 else 2**62, cand[at])
                    hit = at[found]
                    unique[hit] = True
                    if hit.size:
                        rec_parts.append(first[cand[hit]])
                        mask_parts.append(np.full(hit.size, bits, dtype=np.int64))
                        size_parts.append(np.full(hit.size, k, dtype=np.int64))
                current[bits] = unique
            previous = current

    def _cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    return MinimalSampleUniques(
        quasi_identifiers=qis,
        max_size=m,
        missing=policy,
        n=len(df),
        record=_cat(rec_parts),
        mask=_cat(mask_parts),
        size=_cat(size_parts),
        sample_uniques=n_unique,
        pair_records=pairs,
        warnings=tuple(warnings),
    )


# --- scores --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SudaResult:
    """SUDA and DIS-SUDA scores of every record, and what each QI contributes.

    Attributes
    ----------
    quasi_identifiers : tuple of str
        The QI columns, in the order given.
    max_size : int
        Largest MSU size searched.
    missing : SudaMissing
        Missing-value policy used.
    dis_fraction : float
        Sampling fraction used for the DIS estimate.
    score : numpy.ndarray
        Per record, the SUDA score ``sum over its MSUs of (q - k)!`` (0 for records with no
        MSU).
    dis_score : numpy.ndarray
        Per record, the DIS-SUDA score in [0, 1].
    msu_counts : numpy.ndarray
        ``(n, max_size)``: per record, the number of MSUs of each size 1 .. max_size.
    contribution : numpy.ndarray
        ``(n, q)``: per record, the share of its score carried by MSUs containing each QI
        (sdcMicro's ``contributionPercent``, a fraction; rows need not sum to 1 because an
        MSU counts for each of its variables). 0 where the score is 0.
    attribute_contribution : tuple of float
        Per QI, in percent, ``100 * sum_i contribution[i, j] * score[i] / sum_i score[i]``
        (sdcMicro's ``attribute_contributions``).
    dis : float
        File-level DIS probability of a correct match given a unique match.
    sample_uniques : int
        Records unique on all QIs.
    special_uniques : int
        Records with at least one MSU of size at most ``max_size``.
    n_msus : int
        Number of MSUs found.
    warnings : tuple of str
        Soft problems found.
    """

    quasi_identifiers: tuple[str, ...]
    max_size: int
    missing: SudaMissing
    dis_fraction: float
    score: np.ndarray
    dis_score: np.ndarray
    msu_counts: np.ndarray
    contribution: np.ndarray
    attribute_contribution: tuple[float, ...]
    dis: float
    sample_uniques: int
    special_uniques: int
    n_msus: int
    warnings: tuple[str, ...] = ()


def _check_fraction(dis_fraction: float) -> float:
    try:
        f = float(dis_fraction)
    except (TypeError, ValueError):
        raise InvalidParameterError(
            f"dis_fraction must be a number in (0, 1]; got {type(dis_fraction).__name__}. "
            "Give the share of the population the table samples, e.g. 0.01."
        ) from None
    if not (0.0 < f <= 1.0) or not math.isfinite(f):
        raise InvalidParameterError(
            f"dis_fraction must be in (0, 1]; got {f:g}. Give the share of the population the "
            "table samples, e.g. 0.01 for a 1 % sample (1 if it is the whole population)."
        )
    return f


def suda2(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    max_size: int | None = None,
    dis_fraction: float = SUDA_DIS_FRACTION_DEFAULT,
    missing: SudaMissing | str = SudaMissing.CATEGORY,
) -> SudaResult:
    """SUDA scores, DIS-SUDA scores and per-variable contributions of every record.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; at least one row.
    quasi_identifiers : sequence of str
        One or more distinct columns of ``df`` (the key variables).
    max_size : int, optional
        Largest MSU size searched, ``1 .. len(quasi_identifiers)``; default all sizes, as
        sdcMicro. Smaller caps are faster and give lower bounds of the full scores.
    dis_fraction : float
        Sampling fraction π in (0, 1] for the DIS estimate; sdcMicro's ``DisFraction``,
        default 0.01.
    missing : {"category", "ignore"}
        Missing-value policy, see the module docstring; ``"ignore"`` is sdcMicro's.

    Returns
    -------
    SudaResult

    Raises
    ------
    InvalidParameterError
        Empty table, no QI, a QI listed twice, ``max_size`` or ``dis_fraction`` out of range,
        too many subsets, or an unknown policy.
    ColumnError
        A QI that is not a column of ``df``.

    Notes
    -----
    With q QIs, record i with MSUs S_1, ..., S_r scores [E02]_ ::

        score_i = sum_s (q - |S_s|)!            (prod_{t=|S|}^{q-1} (q - t))

    File-level DIS [SE02]_, with U the records unique on all QIs and P the records whose
    pattern occurs exactly twice (missing values as a value in both counts)::

        dis = U π / (U π + P (1 - π))

    DIS-SUDA score, as sdcMicro computes it, with ``Q = 1 + (8 - q) / 20`` and
    ``A = sum over records with score > 0 of score^(-Q)``::

        dis_i = 1 / (1 + (U / dis - U) / (score_i^Q A))     (0 when score_i = 0)

    Contributions follow sdcMicro: ``contribution[i, j]`` = (sum of the weights of the MSUs
    of record i containing QI j) / score_i, and the attribute contribution of QI j is
    ``100 * sum_i contribution[i, j] score_i / sum_i score_i``; it can add up to more than
    100 % over the QIs.

    Known differences from sdcMicro 5.x: it computes ``dis`` and ``Q`` in single precision
    (we use double precision, so DIS-SUDA agrees to about 7 digits); its count of U includes
    only uniques that are alone in one of its 65,536 hash buckets (we count every unique);
    and with fewer than 3 QIs it pads the table with constant columns, so its weights use
    q = 3 (we use the real q).

    References
    ----------
    .. [E02] Elliot et al. (2002). .. [EM05] Elliot et al. (2005).
    .. [MHK08] Manning, Haglin & Keane (2008). .. [SE02] Skinner & Elliot (2002).
    .. [TKM15] Templ et al. (2015), ``suda2``.

    Examples
    --------
    The example of sdcMicro's tests: three records, three keys.

    >>> df = pd.DataFrame({"a": [2, 1, 1], "b": [0, 3, 0], "c": [0, 6, 0]})
    >>> res = suda2(df, ["a", "b", "c"])
    >>> res.score.tolist(), res.attribute_contribution
    ([2.0, 4.0, 2.0], (50.0, 37.5, 37.5))
    """
    pi = _check_fraction(dis_fraction)
    msus = minimal_sample_uniques(df, quasi_identifiers, max_size=max_size, missing=missing)
    q = len(msus.quasi_identifiers)
    n = msus.n
    m = msus.max_size
    weights = np.array([msu_weight(k, n_columns=q) for k in range(1, m + 1)])
    w = weights[msus.size - 1] if msus.size.size else np.zeros(0)
    score = np.bincount(msus.record, weights=w, minlength=n).astype(np.float64)
    msu_counts = np.zeros((n, m), dtype=np.int64)
    np.add.at(msu_counts, (msus.record, msus.size - 1), 1)
    raw = np.zeros((n, q), dtype=np.float64)
    for j in range(q):
        has = ((msus.mask >> j) & 1).astype(bool)
        raw[:, j] = np.bincount(msus.record[has], weights=w[has], minlength=n)
    positive = score > 0
    contribution = np.zeros_like(raw)
    contribution[positive] = raw[positive] / score[positive, None]
    total = float(score.sum())
    warnings = list(msus.warnings)
    if total > 0:
        attribute = tuple(float(100 * raw[:, j].sum() / total) for j in range(q))
    else:
        attribute = (0.0,) * q
        warnings.append(
            f"No record has a minimal sample unique of at most {m} variable(s): every "
            "SUDA score is 0."
        )

    u, p = msus.sample_uniques, msus.pair_records
    dis = u * pi / (u * pi + p * (1 - pi)) if u else 0.0
    dis_score = np.zeros(n, dtype=np.float64)
    if total > 0 and dis > 0:
        big_q = 1 + (8 - q) / 20
        powered = score[positive] ** big_q
        adj = float(np.sum(1.0 / powered))
        dis_score[positive] = 1.0 / (1.0 + (u / dis - u) / (powered * adj))

    return SudaResult(
        quasi_identifiers=msus.quasi_identifiers,
        max_size=m,
        missing=msus.missing,
        dis_fraction=pi,
        score=score,
        dis_score=dis_score,
        msu_counts=msu_counts,
        contribution=contribution,
        attribute_contribution=attribute,
        dis=float(dis),
        sample_uniques=u,
        special_uniques=int(positive.sum()),
        n_msus=int(msus.record.size),
        warnings=tuple(warnings),
    )
