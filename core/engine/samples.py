"""Measures that run on a uniform sample the engine draws: Kendall's tau and SUDA2.

Kendall's tau compares every pair of records and SUDA2 searches the subsets of the
quasi-identifiers record by record; neither is a group-by an engine can push down. So the
engine draws a uniform sample without replacement (:meth:`core.engine.base.Engine.sample`:
DuckDB's reservoir sample, Spark's ``ORDER BY rand(seed) LIMIT n``, pandas'
``DataFrame.sample``), only the sample comes back, and the ``core`` functions run on it. The
results say so (``sampled``, ``sample_rows``, ``population_rows``) and carry the sample's
confidence interval.

References
----------
.. [FHP57] Fieller, E. C., Hartley, H. O., Pearson, E. S. (1957). Tests for rank correlation
   coefficients. I. Biometrika 44(3/4), 470-481. (Fisher z of Kendall's tau, variance
   0.437 / (n - 4).)
.. [W27] Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
   inference. JASA 22(158), 209-212.
.. [E02] Elliot, M. J., Manning, A. M., Ford, R. W. (2002). A computational algorithm for
   handling the special uniques problem. IJUFKS 10(5), 493-509.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from core.engine.base import Engine, Table, check_sample_size
from core.errors import ColumnError, InvalidParameterError
from core.limits import (
    CORRELATION_CONFIDENCE_DEFAULT,
    CORRELATION_SAMPLE_DEFAULT,
    SUDA_DIS_FRACTION_DEFAULT,
    SUDA_MAX_SIZE_DEFAULT,
)

__all__ = [
    "SampledKendall",
    "SampledSuda",
    "sampled_kendall",
    "sampled_suda2",
    "wilson_interval",
]

#: Rows of the sample SUDA2 runs on when no size is given (SUDA2's work grows with the
#: rows times the QI subsets searched).
SUDA_SAMPLE_DEFAULT = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SampledKendall:
    """Kendall's tau-b matrix estimated on a uniform sample of the table.

    Attributes
    ----------
    engine : str
        The engine that drew the sample.
    columns : tuple of str
    tau : numpy.ndarray
        Square tau-b matrix (pairwise-complete within the sample), NaN where unmeasurable.
    ci_low, ci_high : numpy.ndarray
        The asymptotic interval of each tau at ``confidence``: Fisher's z of tau with
        standard error ``sqrt(0.437 / (n - 4))`` [FHP57]_, ``n`` the pair's complete rows in
        the sample.
    n : numpy.ndarray
        Complete rows of each pair in the sample.
    confidence : float
    sampled : bool
        True when the sample is smaller than the table (else tau is the table's own).
    sample_rows, population_rows : int
        Rows in the sample and in the table.
    seed : int
        The sample's seed (same seed, same input files: same sample).
    warnings : tuple of str
    """

    engine: str
    columns: tuple[str, ...]
    tau: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n: np.ndarray
    confidence: float
    sampled: bool
    sample_rows: int
    population_rows: int
    seed: int
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SampledSuda:
    """SUDA2 run on a uniform sample of the table, summarised.

    Attributes
    ----------
    engine : str
    quasi_identifiers : tuple of str
    max_size : int
        Largest MSU size searched.
    special_uniques : int
        Records of the sample with at least one minimal sample unique (MSU).
    special_unique_share : float
        ``special_uniques / sample_rows``.
    share_low, share_high : float
        Wilson's interval [W27]_ of that share at ``confidence``.
    mean_dis_score, max_dis_score : float
        Mean and largest DIS-SUDA score of the sample's records.
    dis : float
        The sample file's DIS (probability that a unique match is correct), with the
        sampling fraction ``dis_fraction * sample_rows / population_rows``.
    dis_fraction : float
        The sampling fraction used for DIS.
    attribute_contribution : tuple of float
        Per QI, in percent, as :class:`core.suda.SudaResult`.
    confidence : float
    sampled : bool
    sample_rows, population_rows, seed : int
    warnings : tuple of str
    """

    engine: str
    quasi_identifiers: tuple[str, ...]
    max_size: int
    special_uniques: int
    special_unique_share: float
    share_low: float
    share_high: float
    mean_dis_score: float
    max_dis_score: float
    dis: float
    dis_fraction: float
    attribute_contribution: tuple[float, ...]
    confidence: float
    sampled: bool
    sample_rows: int
    population_rows: int
    seed: int
    warnings: tuple[str, ...] = ()


def _check_confidence(confidence: float) -> float:
    c = float(confidence)
    if not 0.0 < c < 1.0:
        raise InvalidParameterError(
            f"confidence must be in (0, 1); got {confidence!r}. Use 0.95 for a 95 % interval."
        )
    return c


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(
            f"The sample seed must be a whole number >= 0; got {seed!r}. Pick any fixed "
            "number to make the sample reproducible."
        )
    return int(seed)


def _columns(table: Table, columns: Sequence[str], what: str) -> tuple[str, ...]:
    names = (columns,) if isinstance(columns, str) else tuple(columns)
    absent = [c for c in names if c not in table.columns]
    if absent:
        raise ColumnError(
            f"{what} column(s) not found in the table: {', '.join(absent)}. The table has "
            f"{len(table.columns)} column(s); pick existing ones."
        )
    if table.n_rows == 0:
        raise InvalidParameterError(
            "The table has 0 rows, so there is nothing to sample. Load a table with data."
        )
    return names


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for a binomial share ``successes / n`` [W27]_.

    ``(p + z^2 / 2n -/+ z sqrt(p (1 - p) / n + z^2 / 4n^2)) / (1 + z^2 / n)`` with ``z`` the
    normal quantile of ``(1 + confidence) / 2``.

    >>> [round(x, 4) for x in wilson_interval(0, 10)]
    [0.0, 0.2775]
    """
    if n < 1 or not 0 <= successes <= n:
        raise InvalidParameterError(
            f"A share needs 0 <= successes <= n and n >= 1; got {successes} of {n}."
        )
    z = NormalDist().inv_cdf(0.5 + _check_confidence(confidence) / 2)
    p = successes / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def sampled_kendall(
    engine: Engine,
    table: Table,
    columns: Sequence[str],
    *,
    sample_rows: int = CORRELATION_SAMPLE_DEFAULT,
    seed: int = 0,
    confidence: float = CORRELATION_CONFIDENCE_DEFAULT,
) -> SampledKendall:
    """Kendall's tau-b of numeric columns on a uniform sample the engine draws.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    columns : sequence of str
        Two or more numeric columns.
    sample_rows : int
        Rows to sample (at least 1; the whole table when it has fewer).
    seed : int
        The sample's seed (>= 0).
    confidence : float
        Level of the intervals, in (0, 1).

    Returns
    -------
    SampledKendall

    Raises
    ------
    ColumnError
        A column not in the table, or not numeric.
    InvalidParameterError
        Bad sample size, seed or confidence, or an empty table.

    Notes
    -----
    tau-b as :func:`core.correlation.correlation_matrix` (and :func:`scipy.stats.kendalltau`)
    computes it, pairwise-complete, on the sample. The interval is Fieller et al.'s
    asymptotic one [FHP57]_, ``tanh(atanh(tau) -/+ z sqrt(0.437 / (n - 4)))``: it covers
    sampling error of a uniform sample, not bias of the data.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.engine import PandasEngine
    >>> eng = PandasEngine()
    >>> t = eng.open(pd.DataFrame({"x": range(50), "y": range(50)}))
    >>> k = sampled_kendall(eng, t, ["x", "y"], sample_rows=20, seed=1)
    >>> k.sampled, k.sample_rows, k.population_rows, float(k.tau[0, 1])
    (True, 20, 50, 1.0)
    """
    from core.correlation import correlation_matrix  # scipy: off the engine's import path

    cols = _columns(table, columns, "Correlation")
    n = check_sample_size(sample_rows)
    s = _check_seed(seed)
    conf = _check_confidence(confidence)
    sample = engine.sample(table, n, s)[list(cols)].reset_index(drop=True)
    cm = correlation_matrix(sample, method="kendall", columns=list(cols), confidence=conf)
    got = len(sample)
    return SampledKendall(
        engine=engine.name,
        columns=cm.columns,
        tau=cm.r,
        ci_low=cm.ci_low,
        ci_high=cm.ci_high,
        n=cm.n,
        confidence=conf,
        sampled=got < table.n_rows,
        sample_rows=got,
        population_rows=table.n_rows,
        seed=s,
        warnings=cm.warnings,
    )


def sampled_suda2(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    *,
    sample_rows: int = SUDA_SAMPLE_DEFAULT,
    seed: int = 0,
    max_size: int | None = SUDA_MAX_SIZE_DEFAULT,
    dis_fraction: float = SUDA_DIS_FRACTION_DEFAULT,
    confidence: float = CORRELATION_CONFIDENCE_DEFAULT,
) -> SampledSuda:
    """SUDA2 on a uniform sample the engine draws, with Wilson's interval of its share.

    Parameters
    ----------
    engine : Engine
    table : Table
    quasi_identifiers : sequence of str
    sample_rows : int
        Rows to sample (the whole table when it has fewer).
    seed : int
        The sample's seed (>= 0).
    max_size : int, optional
        Largest MSU size searched (``None``: every size), as :func:`core.suda.suda2`.
    dis_fraction : float
        The table's sampling fraction of its population, in (0, 1]; the sample's is this
        times ``sample_rows / population_rows``.
    confidence : float
        Level of the interval, in (0, 1).

    Returns
    -------
    SampledSuda

    Raises
    ------
    ColumnError, InvalidParameterError
        As :func:`core.suda.suda2`, and for a bad sample size, seed or confidence.

    Notes
    -----
    The scores are those of the sample as a file: a record's MSUs are minimal subsets of
    QI values unique *within the sample* [E02]_, and a smaller file has more of them, so the
    share of special uniques of a sample is larger than the whole table's. The Wilson
    interval [W27]_ is that of the share across uniform samples of this size (it treats the
    records as independent draws), not of the whole table's share.

    Examples
    --------
    >>> import pandas as pd
    >>> from core.engine import PandasEngine
    >>> eng = PandasEngine()
    >>> t = eng.open(pd.DataFrame({"a": [1, 1, 2, 2, 3] * 4, "b": [0, 1] * 10}))
    >>> s = sampled_suda2(eng, t, ["a", "b"], sample_rows=10, seed=0)
    >>> s.sampled, s.sample_rows, s.population_rows, s.share_low <= s.special_unique_share
    (True, 10, 20, True)
    """
    from core.suda import suda2

    qis = _columns(table, quasi_identifiers, "Quasi-identifier")
    n = check_sample_size(sample_rows)
    s = _check_seed(seed)
    conf = _check_confidence(confidence)
    if not 0.0 < float(dis_fraction) <= 1.0:
        raise InvalidParameterError(
            f"dis_fraction must be in (0, 1]; got {dis_fraction!r}. Give the table's "
            "sampling fraction of its population (0.01 when unknown, as sdcMicro)."
        )
    sample = engine.sample(table, n, s)[list(qis)].reset_index(drop=True)
    got = len(sample)
    pi = float(dis_fraction) * got / table.n_rows
    cap = None if max_size is None else min(int(max_size), len(qis))
    res = suda2(sample, list(qis), max_size=cap, dis_fraction=pi)
    low, high = wilson_interval(res.special_uniques, got, conf)
    return SampledSuda(
        engine=engine.name,
        quasi_identifiers=res.quasi_identifiers,
        max_size=res.max_size,
        special_uniques=res.special_uniques,
        special_unique_share=res.special_uniques / got,
        share_low=low,
        share_high=high,
        mean_dis_score=float(np.mean(res.dis_score)),
        max_dis_score=float(np.max(res.dis_score)),
        dis=res.dis,
        dis_fraction=pi,
        attribute_contribution=res.attribute_contribution,
        confidence=conf,
        sampled=got < table.n_rows,
        sample_rows=got,
        population_rows=table.n_rows,
        seed=s,
        warnings=res.warnings,
    )
