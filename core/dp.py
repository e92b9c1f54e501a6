"""Differential privacy mechanisms: calibration, error half-widths and private queries.

Neighbouring relation
---------------------
Unless a function says otherwise, two datasets are neighbours when one is the other with
**one record added or removed** ("add/remove", unbounded DP). The mean with a public
record count ``n`` uses **replace one record** (bounded DP), because adding or removing a
record would change the public ``n``. Each result states its relation in ``neighbours``.

Bounds
------
Sums, means, quantiles and numeric histograms need bounds ``[L, U]`` that the user states:
values are clamped into them and the sensitivity follows from them. Bounds read off the
data itself leak (the minimum and maximum are someone's values); this module never infers
them.

Noise for every release comes from :mod:`core.dp_sampling` (OS CSPRNG, power-of-two grid).
A ``source`` seed or generator may be passed for tests and simulations only; such results
carry ``secure=False``.

References
----------
.. [DMNS06] Dwork, McSherry, Nissim, Smith. "Calibrating noise to sensitivity in private
   data analysis." TCC 2006.
.. [BW18] Balle, B., Wang, Y.-X. "Improving the Gaussian mechanism for differential
   privacy: analytical calibration and optimal denoising." ICML 2018.
.. [DR14] Dwork, C., Roth, A. "The algorithmic foundations of differential privacy." 2014.
.. [CKS20] Canonne, Kamath, Steinke. "The discrete Gaussian for differential privacy."
   NeurIPS 2020.
.. [GRS12] Ghosh, Roughgarden, Sundararajan. "Universally utility-maximizing privacy
   mechanisms." SIAM J. Comput. 2012 (geometric mechanism).
.. [W65] Warner, S. "Randomized response." JASA 1965; k-ary form: Kairouz, Oh,
   Viswanath, "Extremal mechanisms for local differential privacy", NeurIPS 2014.
.. [MT07] McSherry, F., Talwar, K. "Mechanism design via differential privacy." FOCS 2007.
.. [S11] Smith, A. "Privacy-preserving statistical estimation with optimal convergence
   rates." STOC 2011 (exponential mechanism for quantiles).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special

from core.dp_sampling import (
    RandomSource,
    adjusted_sensitivity,
    discrete_gaussian,
    discrete_laplace,
    gaussian_on_grid,
    granularity_for,
    laplace_on_grid,
    resolve_source,
    uniform,
)
from core.errors import ColumnError, InvalidParameterError
from core.limits import DELTA_MAX, DELTA_MIN, EPSILON_MAX, EPSILON_MIN

Source = RandomSource | np.random.Generator | int | None
Query = Literal["count", "sum", "mean", "histogram", "quantile", "mode"]
Mechanism = Literal["laplace", "gaussian", "discrete_laplace", "discrete_gaussian", "exponential"]

ADD_REMOVE = "add/remove one record"
REPLACE_ONE = "replace one record (n public)"
#: Two-sided 95% quantile of the standard normal.
Z95 = 1.959963984540054
#: Default number of public candidate points for the quantile mechanism.
QUANTILE_GRID = 1001

#: Which mechanisms each query accepts; the first is the default.
MECHANISMS: dict[str, tuple[str, ...]] = {
    "count": ("discrete_laplace", "discrete_gaussian"),
    "sum": ("laplace", "gaussian"),
    "mean": ("laplace", "gaussian"),
    "histogram": ("discrete_laplace", "discrete_gaussian"),
    "quantile": ("exponential",),
    "mode": ("exponential",),
}


# --- parameter checks ------------------------------------------------------------------------


def check_epsilon(epsilon: float) -> float:
    """Validate ``epsilon`` against the supported range ``[EPSILON_MIN, EPSILON_MAX]``.

    >>> check_epsilon(1.0)
    1.0
    """
    if not (isinstance(epsilon, (int, float)) and EPSILON_MIN <= epsilon <= EPSILON_MAX):
        raise InvalidParameterError(
            f"epsilon must be in [{EPSILON_MIN}, {EPSILON_MAX}]; got {epsilon!r}. "
            "Pick a value in that range (smaller = more private)."
        )
    return float(epsilon)


def check_delta(delta: float) -> float:
    """Validate ``delta`` against ``[DELTA_MIN, DELTA_MAX]``.

    >>> check_delta(1e-5)
    1e-05
    """
    if not (isinstance(delta, (int, float)) and DELTA_MIN <= delta <= DELTA_MAX):
        raise InvalidParameterError(
            f"delta must be in [{DELTA_MIN:g}, {DELTA_MAX:g}]; got {delta!r}. "
            "Use a value well below 1/n, for example 1e-6 for a million records."
        )
    return float(delta)


def _check_sensitivity(sensitivity: float) -> float:
    if not (isinstance(sensitivity, (int, float)) and math.isfinite(sensitivity)):
        raise InvalidParameterError(f"sensitivity must be finite; got {sensitivity!r}.")
    if sensitivity <= 0:
        raise InvalidParameterError(
            f"sensitivity must be positive; got {sensitivity!r}. Check the bounds: the "
            "upper bound must be above the lower bound."
        )
    return float(sensitivity)


def check_bounds(lower: float, upper: float) -> tuple[float, float]:
    """Validate clamping bounds ``lower < upper``, both finite.

    >>> check_bounds(0, 100)
    (0.0, 100.0)
    """
    lo, hi = float(lower), float(upper)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InvalidParameterError(
            f"bounds must be finite with lower < upper; got [{lo}, {hi}]. State bounds that "
            "every plausible value lies within (for example 17 to 90 for an age)."
        )
    return lo, hi


# --- calibration -----------------------------------------------------------------------------


def laplace_scale(*, epsilon: float, sensitivity: float) -> float:
    """Scale of the Laplace mechanism, ``b = Δ₁ / ε`` [DMNS06]_.

    Parameters
    ----------
    epsilon : float
        Privacy loss, in ``[EPSILON_MIN, EPSILON_MAX]``.
    sensitivity : float
        L1 sensitivity ``Δ₁ > 0``.

    Returns
    -------
    float
        ``b``; the noise has density ``exp(-|x|/b) / (2b)``.

    Raises
    ------
    InvalidParameterError
        For ``epsilon`` out of range or a non-positive sensitivity.

    >>> laplace_scale(epsilon=0.5, sensitivity=2.0)
    4.0
    """
    return _check_sensitivity(sensitivity) / check_epsilon(epsilon)


def gaussian_delta(sigma: float, *, epsilon: float, sensitivity: float) -> float:
    """Exact δ of the Gaussian mechanism with standard deviation ``σ`` (Theorem 8 of [BW18]_).

    Parameters
    ----------
    sigma : float
        Noise standard deviation, ``> 0``.
    epsilon : float
        ``ε >= 0`` (any value; no range check, this is a formula).
    sensitivity : float
        L2 sensitivity ``Δ₂ > 0``.

    Returns
    -------
    float
        ``δ(σ) = Φ(Δ/(2σ) − εσ/Δ) − e^ε Φ(−Δ/(2σ) − εσ/Δ)``, the smallest δ for which the
        mechanism is (ε, δ)-DP; decreasing in σ.

    Notes
    -----
    The second term is evaluated as ``exp(ε + log Φ(·))`` so that large ε does not
    overflow.

    >>> round(gaussian_delta(3.7306, epsilon=1.0, sensitivity=1.0), 8)
    1e-05
    """
    a = sensitivity / (2.0 * sigma)
    b = epsilon * sigma / sensitivity
    return float(special.ndtr(a - b) - math.exp(epsilon + float(special.log_ndtr(-a - b))))


def analytic_gaussian_sigma(*, epsilon: float, delta: float, sensitivity: float) -> float:
    """Smallest σ for which the Gaussian mechanism is (ε, δ)-DP [BW18]_.

    Parameters
    ----------
    epsilon : float
        In ``[EPSILON_MIN, EPSILON_MAX]``; unlike the classic formula, any ε works.
    delta : float
        In ``[DELTA_MIN, DELTA_MAX]``.
    sensitivity : float
        L2 sensitivity ``Δ₂ > 0``.

    Returns
    -------
    float
        σ with ``gaussian_delta(σ) <= δ``, within 1e-12 relative of the root of
        ``gaussian_delta(σ) = δ``.

    Raises
    ------
    InvalidParameterError
        For parameters out of range.

    Notes
    -----
    ``δ(σ)`` is strictly decreasing, so the root is bracketed and found with Brent's method
    on ``log σ``; the result is nudged up until ``δ(σ) <= δ`` holds in floating point.

    Examples
    --------
    The value from [BW18]_'s comparison (ε = 1, δ = 1e-5, Δ = 1):

    >>> round(analytic_gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0), 4)
    3.7306
    """
    eps, dlt, sens = check_epsilon(epsilon), check_delta(delta), _check_sensitivity(sensitivity)

    def excess(log_sigma: float) -> float:
        return gaussian_delta(math.exp(log_sigma), epsilon=eps, sensitivity=sens) - dlt

    lo, hi = math.log(sens) - 10.0, math.log(sens) + 10.0
    while excess(lo) < 0:
        lo -= 10.0
    while excess(hi) > 0:
        hi += 10.0
    root = optimize.brentq(excess, lo, hi, xtol=1e-14, rtol=1e-15)
    sigma = math.exp(root)
    while gaussian_delta(sigma, epsilon=eps, sensitivity=sens) > dlt:
        sigma *= 1.0 + 1e-13
    return sigma


def classic_gaussian_sigma(*, epsilon: float, delta: float, sensitivity: float) -> float:
    """The textbook σ = Δ₂ √(2 ln(1.25/δ)) / ε (Theorem A.1 of [DR14]_), for comparison only.

    Parameters
    ----------
    epsilon : float
        Must be below 1: the theorem does not hold beyond.
    delta : float
        In ``[DELTA_MIN, DELTA_MAX]``.
    sensitivity : float
        L2 sensitivity ``Δ₂ > 0``.

    Returns
    -------
    float
        The classic σ; always larger than :func:`analytic_gaussian_sigma`.

    Raises
    ------
    InvalidParameterError
        For ``epsilon >= 1`` or parameters out of range.

    >>> round(classic_gaussian_sigma(epsilon=0.5, delta=1e-5, sensitivity=1.0), 4)
    9.6896
    """
    eps, dlt, sens = check_epsilon(epsilon), check_delta(delta), _check_sensitivity(sensitivity)
    if eps >= 1:
        raise InvalidParameterError(
            f"the classic Gaussian formula only holds for epsilon < 1; got {eps}. Use the "
            "analytic calibration, which is valid for every epsilon."
        )
    return sens * math.sqrt(2.0 * math.log(1.25 / dlt)) / eps


def _dgauss_support(sigma: float, extra: float = 0.0) -> np.ndarray:
    half = math.ceil(extra + 40.0 * sigma + 10.0)
    return np.arange(-half, half + 1, dtype=np.float64)


def discrete_gaussian_pmf(sigma: float, support: np.ndarray) -> np.ndarray:
    """Probabilities of the discrete Gaussian ``N_Z(0, σ²)`` at ``support`` (all integers
    within ±(40σ + 10) carry the mass; normalised over that range).

    >>> p = discrete_gaussian_pmf(1.0, np.arange(-50.0, 51.0))
    >>> round(float(p.sum()), 12)
    1.0
    """
    logw = -(support**2) / (2.0 * sigma * sigma)
    full = _dgauss_support(sigma)
    norm = np.exp(-(full**2) / (2.0 * sigma * sigma)).sum()
    return np.exp(logw) / norm


def discrete_gaussian_delta(sigma: float, *, epsilon: float, sensitivity: int) -> float:
    """Exact δ of the discrete Gaussian mechanism for an integer query [CKS20]_.

    Parameters
    ----------
    sigma : float
        Scale parameter σ of ``N_Z(0, σ²)``.
    epsilon : float
        ``ε >= 0``.
    sensitivity : int
        Integer sensitivity Δ (1 for counts and histogram cells).

    Returns
    -------
    float
        ``δ = Σ_y max(0, p(y) − e^ε p(y − Δ))``, the hockey-stick divergence between the
        noise distribution and its shift by Δ; for integer-valued queries the largest shift
        gives the largest δ.

    >>> discrete_gaussian_delta(3.0, epsilon=1.0, sensitivity=1) < 0.01
    True
    """
    y = _dgauss_support(sigma, extra=sensitivity)
    p = discrete_gaussian_pmf(sigma, y)
    p_shift = discrete_gaussian_pmf(sigma, y - sensitivity)
    return float(np.maximum(p - math.exp(epsilon) * p_shift, 0.0).sum())


def discrete_gaussian_sigma(*, epsilon: float, delta: float, sensitivity: int = 1) -> float:
    """Smallest σ for which the discrete Gaussian is (ε, δ)-DP for an integer query.

    Parameters
    ----------
    epsilon : float
        In ``[EPSILON_MIN, EPSILON_MAX]``.
    delta : float
        In ``[DELTA_MIN, DELTA_MAX]``.
    sensitivity : int
        Integer sensitivity (1 for counts).

    Returns
    -------
    float
        σ found by bisection on :func:`discrete_gaussian_delta` (which is not perfectly
        smooth in σ), with ``discrete_gaussian_delta(σ) <= δ`` guaranteed.

    Raises
    ------
    InvalidParameterError
        For parameters out of range.

    >>> s = discrete_gaussian_sigma(epsilon=1.0, delta=1e-5)
    >>> 3.5 < s < 4.0
    True
    """
    eps, dlt = check_epsilon(epsilon), check_delta(delta)
    lo = 0.5 * analytic_gaussian_sigma(epsilon=eps, delta=dlt, sensitivity=sensitivity)
    hi = 2.0 * analytic_gaussian_sigma(epsilon=eps, delta=dlt, sensitivity=sensitivity) + 1.0
    while discrete_gaussian_delta(hi, epsilon=eps, sensitivity=sensitivity) > dlt:
        hi *= 2.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        if discrete_gaussian_delta(mid, epsilon=eps, sensitivity=sensitivity) > dlt:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-10 * hi:
            break
    return hi


# --- error half-widths (95%) ------------------------------------------------------------------


def laplace_half_width(scale: float, *, confidence: float = 0.95) -> float:
    """Half-width h with ``P(|X| <= h) = confidence`` for Laplace(b): ``h = b ln(1/(1−c))``.

    >>> round(laplace_half_width(1.0), 6)  # ln 20
    2.995732
    """
    return float(scale * -math.log1p(-confidence))


def gaussian_half_width(sigma: float, *, confidence: float = 0.95) -> float:
    """Half-width ``σ Φ⁻¹((1 + c)/2)`` (1.96σ at 95%) for N(0, σ²).

    >>> round(gaussian_half_width(1.0), 4)
    1.96
    """
    return float(sigma * special.ndtri(0.5 + confidence / 2.0))


def discrete_laplace_half_width(scale: float, *, confidence: float = 0.95) -> int:
    """Smallest integer h with ``P(|Z| <= h) >= confidence`` for discrete Laplace(t).

    Notes
    -----
    ``P(|Z| > h) = 2 q^(h+1) / (1 + q)`` with ``q = e^(−1/t)``, so
    ``h = ceil(log((1−c)(1+q)/2) / log q) − 1``. The continuous ``t ln 20`` can under-cover
    because integer noise puts mass exactly on the boundary.

    >>> discrete_laplace_half_width(1.0)
    3
    """
    q = math.exp(-1.0 / scale)
    target = (1.0 - confidence) * (1.0 + q) / 2.0
    h = max(0, math.ceil(math.log(target) / math.log(q) - 1.0 - 1e-12))
    while 2.0 * q ** (h + 1) / (1.0 + q) > 1.0 - confidence:  # guard rounding
        h += 1
    while h > 0 and 2.0 * q**h / (1.0 + q) <= 1.0 - confidence:
        h -= 1
    return h


def discrete_gaussian_half_width(sigma: float, *, confidence: float = 0.95) -> int:
    """Smallest integer h with ``P(|Z| <= h) >= confidence`` for ``N_Z(0, σ²)``.

    Computed by summing the probability mass function.

    >>> discrete_gaussian_half_width(3.0)
    6
    """
    k = np.arange(0.0, math.ceil(40.0 * sigma + 10.0) + 1.0)
    p = discrete_gaussian_pmf(sigma, k)
    cover = 2.0 * np.cumsum(p) - p[0]  # P(|Z| <= h)
    return int(np.searchsorted(cover, confidence - 1e-15))


def exponential_rank_half_width(*, epsilon: float, candidates: int) -> float:
    """Rank error bound of the exponential mechanism at 95% [MT07]_ [DR14]_ Thm 3.11.

    With utility sensitivity 1, ``P(u(out) <= OPT − (2/ε)(ln m + ln 20)) <= 0.05`` over
    ``m`` candidates; for a quantile the utility is minus the rank error.

    >>> round(exponential_rank_half_width(epsilon=1.0, candidates=1001), 2)
    19.81
    """
    return 2.0 / epsilon * (math.log(candidates) + math.log(20.0))


# --- randomized response ----------------------------------------------------------------------


def rr_keep_probability(*, epsilon: float, k: int) -> float:
    """Probability that k-ary randomized response reports the true value, ``e^ε/(e^ε+k−1)``.

    Parameters
    ----------
    epsilon : float
        Local privacy loss per record.
    k : int
        Number of categories, ``>= 2``.

    Returns
    -------
    float
        ``p``; each other category is reported with ``q = 1/(e^ε+k−1)``, so ``p/q = e^ε``.

    >>> round(rr_keep_probability(epsilon=math.log(3), k=2), 6)
    0.75
    """
    eps = check_epsilon(epsilon)
    if k < 2:
        raise InvalidParameterError(
            f"randomized response needs at least 2 categories; got {k}. Pick a column with "
            "two or more distinct values."
        )
    return math.exp(eps) / (math.exp(eps) + k - 1)


def _codes(text: pd.Series, cats: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``cats`` (-1 when absent), as int64."""
    index = pd.Index(np.asarray(cats, dtype=object))
    return np.asarray(index.get_indexer(text.to_numpy(dtype=object)), dtype=np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class RRRelease:
    """A column passed through k-ary randomized response."""

    values: pd.Series
    categories: tuple[str, ...]
    epsilon: float
    keep_probability: float
    secure: bool
    neighbours: str = "local: any one record's value changed"
    warnings: tuple[str, ...] = ()


def randomized_response(
    values: pd.Series,
    *,
    epsilon: float,
    categories: Sequence[str] | None = None,
    source: Source = None,
) -> RRRelease:
    """k-ary randomized response on a categorical column [W65]_.

    Parameters
    ----------
    values : pandas.Series
        The column; values are compared as strings.
    epsilon : float
        Local privacy loss per record.
    categories : sequence of str, optional
        The public category list. Defaults to the column's distinct values, which itself
        reveals which categories occur (a warning says so).
    source : RandomSource, numpy Generator, int or None
        ``None`` reads the OS CSPRNG; seeds are for tests and previews.

    Returns
    -------
    RRRelease
        Each value kept with ``p = e^ε/(e^ε+k−1)``, otherwise replaced by one of the other
        ``k − 1`` categories uniformly. Missing values are a category of their own
        (``"<NA>"``), so missingness is protected too.

    Raises
    ------
    InvalidParameterError
        For fewer than 2 categories, or a value outside ``categories``.

    >>> r = randomized_response(pd.Series(list("abab")), epsilon=1.0, source=0)
    >>> r.categories
    ('a', 'b')
    """
    warnings: list[str] = []
    text = values.astype("string").fillna("<NA>")
    if categories is None:
        cats = tuple(sorted(pd.unique(text.to_numpy(dtype=object))))
        warnings.append(
            f"The {len(cats)} categories were read from the data; treat this list as public "
            "or supply it explicitly."
        )
    else:
        cats = tuple(str(c) for c in categories)
    k = len(cats)
    p = rr_keep_probability(epsilon=epsilon, k=k)
    codes = _codes(text, cats)
    if (codes < 0).any():
        raise InvalidParameterError(
            f"{int((codes < 0).sum())} value(s) are not in the {k} given categories. Add "
            "them to the category list."
        )
    src = resolve_source(source)
    n = codes.size
    u_keep = uniform(n, source=src)
    # another category, uniformly among the k-1 others: offset 1..k-1 added modulo k
    offset = 1 + np.minimum((uniform(n, source=src) * (k - 1)).astype(np.int64), k - 2)
    out = np.where(u_keep <= p, codes, (codes + offset) % k)
    series = pd.Series(np.asarray(cats, dtype=object)[out], index=values.index, name=values.name)
    return RRRelease(
        values=series,
        categories=cats,
        epsilon=float(epsilon),
        keep_probability=p,
        secure=src.secure,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RREstimate:
    """Unbiased category frequencies recovered from randomized-response output."""

    categories: tuple[str, ...]
    frequencies: np.ndarray
    variances: np.ndarray


def rr_frequency_estimate(
    reported: pd.Series, *, epsilon: float, categories: Sequence[str]
) -> RREstimate:
    """Unbiased estimate of the true category shares from randomized-response reports.

    Parameters
    ----------
    reported : pandas.Series
        Output of :func:`randomized_response`.
    epsilon : float
        The ε used to randomize.
    categories : sequence of str
        All k categories.

    Returns
    -------
    RREstimate
        ``π̂_j = (λ̂_j − q)/(p − q)`` with ``λ̂_j`` the observed share, and its variance
        for the fixed dataset, ``[q(1 − q)/(p − q)² + π_j (1 − p − q)/(p − q)] / n``
        ([WBLJ17]_ Thm 2), estimated by plugging in ``π̂_j`` clipped to [0, 1].

    Raises
    ------
    InvalidParameterError
        For an empty column or bad parameters.

    Notes
    -----
    ``E[λ̂_j] = p π_j + q (1 − π_j)``, which gives the estimator; estimates may be negative
    and sum to 1. Each report is an independent Bernoulli (probability ``p`` for the records
    whose true value is ``j``, ``q`` for the others), which gives the variance.

    References
    ----------
    .. [WBLJ17] Wang, T., Blocki, J., Li, N., Jha, S. "Locally differentially private
       protocols for frequency estimation." USENIX Security 2017.

    >>> est = rr_frequency_estimate(pd.Series(list("aaab")), epsilon=5.0,
    ...                             categories=["a", "b"])
    >>> round(float(est.frequencies.sum()), 12)
    1.0
    """
    cats = tuple(str(c) for c in categories)
    k = len(cats)
    p = rr_keep_probability(epsilon=epsilon, k=k)
    q = (1.0 - p) / (k - 1)
    n = len(reported)
    if n == 0:
        raise InvalidParameterError(
            "no reports to estimate from (0 rows). Pass a non-empty column."
        )
    codes = _codes(reported.astype("string").fillna("<NA>"), cats)
    lam = np.bincount(codes[codes >= 0], minlength=k) / n
    freq = (lam - q) / (p - q)
    pi = np.clip(freq, 0.0, 1.0)
    var = (q * (1.0 - q) / (p - q) ** 2 + pi * (1.0 - p - q) / (p - q)) / n
    return RREstimate(categories=cats, frequencies=freq, variances=var)


# --- exponential mechanism ---------------------------------------------------------------------


def _exponential_choice(scores: np.ndarray, *, epsilon: float, source: RandomSource) -> int:
    """Index chosen with probability ∝ exp(ε · score / 2) (utility sensitivity 1).

    Sampled by inverse CDF on the normalised weights with one secure uniform.
    """
    logw = epsilon * scores / 2.0
    logw = logw - logw.max()
    cdf = np.cumsum(np.exp(logw))
    u = float(uniform(1, source=source)[0]) * cdf[-1]
    return int(min(np.searchsorted(cdf, u, side="left"), scores.size - 1))


def exponential_probabilities(scores: np.ndarray, *, epsilon: float) -> np.ndarray:
    """Selection probabilities ``exp(ε u_i / 2) / Σ_j exp(ε u_j / 2)`` for sensitivity-1 scores.

    >>> exponential_probabilities(np.array([0.0, 0.0]), epsilon=1.0).tolist()
    [0.5, 0.5]
    """
    logw = epsilon * scores / 2.0
    return np.asarray(np.exp(logw - special.logsumexp(logw)))


def quantile_scores(sorted_values: np.ndarray, candidates: np.ndarray, q: float) -> np.ndarray:
    """Utility ``−|#{x < c} − q n|`` of each candidate (sensitivity 1 under add/remove).

    >>> quantile_scores(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.0, 4.0]), 0.5).tolist()
    [-1.5, -0.5, -1.5]
    """
    below = np.searchsorted(sorted_values, candidates, side="left")
    return -np.abs(below - q * sorted_values.size)


# --- query results -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DPResult:
    """One differentially private answer.

    ``value`` is the noisy answer (an array for histograms); ``half_width`` is the 95% error
    half-width of the noise (in ranks for quantiles, in counts for the mode); ``scale`` is b
    for Laplace-type noise, σ for Gaussian-type noise, or ε/2 per unit of utility for the
    exponential mechanism.
    """

    query: str
    mechanism: str
    value: float | np.ndarray | str
    epsilon: float
    delta: float
    sensitivity: float
    scale: float
    half_width: float
    half_width_unit: str
    neighbours: str
    labels: tuple[str, ...] = ()
    granularity: float | None = None
    secure: bool = True
    warnings: tuple[str, ...] = ()


def _numeric(df: pd.DataFrame, column: str) -> pd.Series:
    if column not in df.columns:
        raise ColumnError(
            f"column '{column}' is not in the dataset ({df.shape[1]} columns). Pick one of "
            "the listed columns."
        )
    col = df[column]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise ColumnError(
            f"column '{column}' is not numeric; this query needs numbers. Choose a numeric "
            "column or use count, histogram or mode."
        )
    return col


def clamp(values: pd.Series, lower: float, upper: float) -> tuple[np.ndarray, int, int]:
    """Non-missing values clipped to ``[lower, upper]``, with how many were missing/clipped.

    >>> clamp(pd.Series([1.0, None, 9.0]), 0, 5)
    (array([1., 5.]), 1, 1)
    """
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    present = arr[~np.isnan(arr)]
    clipped = int(((present < lower) | (present > upper)).sum())
    return np.clip(present, lower, upper), int(arr.size - present.size), clipped


def _clamp_warnings(column: str, missing: int, clipped: int) -> list[str]:
    out = []
    if missing:
        out.append(f"{missing} missing value(s) in '{column}' were left out.")
    if clipped:
        out.append(
            f"{clipped} value(s) in '{column}' lay outside the bounds and were clamped; "
            "wider bounds reduce bias but add noise."
        )
    return out


def _noise_scalar(
    value: float,
    *,
    mechanism: str,
    sensitivity: float,
    epsilon: float,
    delta: float,
    src: RandomSource,
) -> tuple[float, float, float, float]:
    """(noisy value, scale, half-width, granularity) for a real-valued answer."""
    if mechanism == "laplace":
        out = laplace_on_grid(
            np.array([value]), sensitivity=sensitivity, epsilon=epsilon, source=src
        )
        return float(out.values[0]), out.scale, laplace_half_width(out.scale), out.granularity
    if mechanism == "gaussian":
        sigma, g = gaussian_grid_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity)
        noisy = gaussian_on_grid(np.array([value]), sigma=sigma, granularity=g, source=src)
        return float(noisy[0]), sigma, gaussian_half_width(sigma), g
    raise InvalidParameterError(
        f"mechanism '{mechanism}' does not apply to real-valued answers. Use laplace or gaussian."
    )


def gaussian_grid_sigma(*, epsilon: float, delta: float, sensitivity: float) -> tuple[float, float]:
    """σ and grid step for a gridded Gaussian release, calibrated for the adjusted sensitivity.

    The grid ``g`` is chosen from the unadjusted σ; σ is then recalibrated for
    ``g (floor(Δ/g) + 1)``, so the rounding to the grid is paid for exactly.

    >>> s, g = gaussian_grid_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    >>> round(s, 4), g == 2.0**-38
    (3.7306, True)
    """
    sigma0 = analytic_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity)
    g = granularity_for(sigma0)
    sens = adjusted_sensitivity(sensitivity, g)
    return analytic_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sens), g


def _noise_integers(
    values: np.ndarray, *, mechanism: str, epsilon: float, delta: float, src: RandomSource
) -> tuple[np.ndarray, float, float]:
    """Integer noise for counts with sensitivity 1: (noisy, scale, half-width)."""
    if mechanism == "discrete_laplace":
        t = 1.0 / epsilon
        noise = discrete_laplace(values.size, scale=t, source=src)
        return values + noise, t, float(discrete_laplace_half_width(t))
    if mechanism == "discrete_gaussian":
        sigma = discrete_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=1)
        noise = discrete_gaussian(values.size, sigma=sigma, source=src)
        return values + noise, sigma, float(discrete_gaussian_half_width(sigma))
    raise InvalidParameterError(
        f"mechanism '{mechanism}' does not apply to counts. Use discrete_laplace or "
        "discrete_gaussian."
    )


def _check_mechanism(query: str, mechanism: str | None) -> str:
    if query not in MECHANISMS:
        raise InvalidParameterError(
            f"unknown query '{query}'. Use one of: " + ", ".join(MECHANISMS) + "."
        )
    allowed = MECHANISMS[query]
    if mechanism is None:
        return allowed[0]
    if mechanism not in allowed:
        raise InvalidParameterError(
            f"mechanism '{mechanism}' is not available for a {query}; use one of: "
            + ", ".join(allowed)
            + "."
        )
    return mechanism


def _needs_delta(mechanism: str, delta: float) -> float:
    if mechanism in ("gaussian", "discrete_gaussian"):
        return check_delta(delta)
    return 0.0


def dp_count(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    mechanism: str | None = None,
    delta: float = 0.0,
    source: Source = None,
) -> DPResult:
    """Private number of non-missing values in ``column``.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    column : str
        Column whose non-missing values are counted.
    epsilon : float
        Privacy loss of this release.
    mechanism : {"discrete_laplace", "discrete_gaussian"}, optional
        Integer noise; default discrete Laplace (the geometric mechanism [GRS12]_).
    delta : float
        Needed for the discrete Gaussian only.
    source : RandomSource, numpy Generator, int or None
        ``None`` reads the OS CSPRNG; seeds are for tests.

    Returns
    -------
    DPResult
        Noisy integer count; sensitivity 1 under add/remove; the half-width is the exact
        integer one for the chosen noise.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters or a missing column.

    Notes
    -----
    NA values are not counted (dropping them is a per-record step, so sensitivity stays 1).

    >>> r = dp_count(pd.DataFrame({"a": [1, 2, 3]}), "a", epsilon=1.0, source=0)
    >>> r.sensitivity, r.half_width
    (1.0, 3.0)
    """
    mech = _check_mechanism("count", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    if column not in df.columns:
        raise ColumnError(
            f"column '{column}' is not in the dataset ({df.shape[1]} columns). Pick one of "
            "the listed columns."
        )
    src = resolve_source(source)
    true = np.array([int(df[column].notna().sum())], dtype=np.int64)
    noisy, scale, hw = _noise_integers(true, mechanism=mech, epsilon=eps, delta=dlt, src=src)
    return DPResult(
        query="count",
        mechanism=mech,
        value=float(noisy[0]),
        epsilon=eps,
        delta=dlt,
        sensitivity=1.0,
        scale=scale,
        half_width=hw,
        half_width_unit="records",
        neighbours=ADD_REMOVE,
        secure=src.secure,
    )


def dp_sum(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    lower: float,
    upper: float,
    mechanism: str | None = None,
    delta: float = 0.0,
    source: Source = None,
) -> DPResult:
    """Private sum of a numeric column clamped to ``[lower, upper]``.

    Parameters
    ----------
    df, column
        Data and numeric column.
    epsilon : float
        Privacy loss.
    lower, upper : float
        Public clamping bounds, stated by the user (never read from the data).
    mechanism : {"laplace", "gaussian"}, optional
        Default Laplace.
    delta : float
        For the Gaussian only.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        Sensitivity ``max(|L|, |U|)`` under add/remove (one record contributes at most that
        much); noise on a power-of-two grid (see :mod:`core.dp_sampling`).

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters, bounds, or a missing or non-numeric column.

    Notes
    -----
    NA values are left out (a count of them is in ``warnings``).

    >>> r = dp_sum(pd.DataFrame({"a": [1.0, 2.0]}), "a", epsilon=1.0, lower=0, upper=5,
    ...            source=0)
    >>> r.sensitivity
    5.0
    """
    mech = _check_mechanism("sum", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    lo, hi = check_bounds(lower, upper)
    vals, missing, clipped = clamp(_numeric(df, column), lo, hi)
    sens = max(abs(lo), abs(hi))
    src = resolve_source(source)
    noisy, scale, hw, g = _noise_scalar(
        float(vals.sum()), mechanism=mech, sensitivity=sens, epsilon=eps, delta=dlt, src=src
    )
    return DPResult(
        query="sum",
        mechanism=mech,
        value=noisy,
        epsilon=eps,
        delta=dlt,
        sensitivity=sens,
        scale=scale,
        half_width=hw,
        half_width_unit="value units",
        neighbours=ADD_REMOVE,
        granularity=g,
        secure=src.secure,
        warnings=tuple(_clamp_warnings(column, missing, clipped)),
    )


def dp_mean(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    lower: float,
    upper: float,
    mechanism: str | None = None,
    delta: float = 0.0,
    source: Source = None,
) -> DPResult:
    """Private mean of a clamped numeric column, with the record count treated as public.

    Parameters
    ----------
    df, column
        Data and numeric column.
    epsilon : float
        Privacy loss.
    lower, upper : float
        Public clamping bounds.
    mechanism : {"laplace", "gaussian"}, optional
        Default Laplace.
    delta : float
        For the Gaussian only.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        Noisy ``Σ clamp(x) / n``; sensitivity ``(U − L) / n`` under **replace one record**
        with ``n`` (the number of non-missing values) public and released exactly.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters, or a column with no non-missing values.

    >>> r = dp_mean(pd.DataFrame({"a": [1.0, 3.0]}), "a", epsilon=1.0, lower=0, upper=4,
    ...             source=0)
    >>> r.sensitivity, r.neighbours
    (2.0, 'replace one record (n public)')
    """
    mech = _check_mechanism("mean", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    lo, hi = check_bounds(lower, upper)
    vals, missing, clipped = clamp(_numeric(df, column), lo, hi)
    n = vals.size
    if n == 0:
        raise InvalidParameterError(
            f"column '{column}' has no non-missing values (0 of {len(df)}); a mean needs at "
            "least one."
        )
    sens = (hi - lo) / n
    src = resolve_source(source)
    noisy, scale, hw, g = _noise_scalar(
        float(vals.mean()), mechanism=mech, sensitivity=sens, epsilon=eps, delta=dlt, src=src
    )
    warns = _clamp_warnings(column, missing, clipped)
    warns.append(f"The record count n = {n} is treated as public and is not protected.")
    return DPResult(
        query="mean",
        mechanism=mech,
        value=noisy,
        epsilon=eps,
        delta=dlt,
        sensitivity=sens,
        scale=scale,
        half_width=hw,
        half_width_unit="value units",
        neighbours=REPLACE_ONE,
        granularity=g,
        secure=src.secure,
        warnings=tuple(warns),
    )


def histogram_counts(
    df: pd.DataFrame,
    column: str,
    *,
    lower: float | None = None,
    upper: float | None = None,
    bins: int = 20,
    categories: Sequence[str] | None = None,
) -> tuple[np.ndarray, tuple[str, ...], list[str]]:
    """True histogram counts, their labels and warnings (no noise; for display and tests).

    Numeric columns use ``bins`` equal-width bins on the public ``[lower, upper]`` (values
    clamped into the end bins); other columns count each category, the list coming from
    ``categories`` or, with a warning, from the data. Missing values are left out.

    >>> c, lab, _ = histogram_counts(pd.DataFrame({"a": [1, 2, 9]}), "a", lower=0,
    ...                              upper=10, bins=2)
    >>> c.tolist(), lab
    ([2, 1], ('[0, 5)', '[5, 10]'))
    """
    if column not in df.columns:
        raise ColumnError(
            f"column '{column}' is not in the dataset ({df.shape[1]} columns). Pick one of "
            "the listed columns."
        )
    col = df[column]
    warns: list[str] = []
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric and categories is None:
        if lower is None or upper is None:
            raise InvalidParameterError(
                f"a histogram of numeric column '{column}' needs bounds; got none. State "
                "lower and upper bounds."
            )
        lo, hi = check_bounds(lower, upper)
        if not (1 <= bins <= 1000):
            raise InvalidParameterError(f"bins must be in [1, 1000]; got {bins}.")
        vals, missing, clipped = clamp(col, lo, hi)
        edges = np.linspace(lo, hi, bins + 1)
        idx = np.minimum(((vals - lo) / (hi - lo) * bins).astype(np.int64), bins - 1)
        counts = np.bincount(idx, minlength=bins).astype(np.int64)
        labels = tuple(
            f"[{edges[i]:g}, {edges[i + 1]:g}" + ("]" if i == bins - 1 else ")")
            for i in range(bins)
        )
        warns += _clamp_warnings(column, missing, clipped)
        return counts, labels, warns
    text = col.dropna().astype("string")
    if categories is None:
        cats = tuple(sorted(pd.unique(text.to_numpy(dtype=object))))
        warns.append(
            f"The {len(cats)} categories were read from the data; which categories exist is "
            "itself released. Supply the list if it is public knowledge."
        )
    else:
        cats = tuple(str(c) for c in categories)
    codes = _codes(text, cats)
    unknown = int((codes < 0).sum())
    if unknown:
        warns.append(f"{unknown} value(s) outside the category list were left out.")
    counts = np.bincount(codes[codes >= 0], minlength=len(cats)).astype(np.int64)
    if col.isna().any():
        warns.append(f"{int(col.isna().sum())} missing value(s) in '{column}' were left out.")
    return counts, cats, warns


def dp_histogram(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    lower: float | None = None,
    upper: float | None = None,
    bins: int = 20,
    categories: Sequence[str] | None = None,
    mechanism: str | None = None,
    delta: float = 0.0,
    source: Source = None,
) -> DPResult:
    """Private histogram: integer noise on every bin count.

    Parameters
    ----------
    df, column
        Data and column (numeric with bounds and bins, or categorical).
    epsilon : float
        Privacy loss of the whole histogram.
    lower, upper, bins
        Public binning for numeric columns.
    categories : sequence of str, optional
        Public category list for categorical columns.
    mechanism : {"discrete_laplace", "discrete_gaussian"}, optional
        Default discrete Laplace with scale 1/ε per bin.
    delta : float
        For the discrete Gaussian only.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        ``value`` is the array of noisy counts (may be negative; clip or round as
        post-processing), ``labels`` the bins. Under add/remove one record changes one bin
        by 1, so the L1 and L2 sensitivities are both 1.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters, missing bounds or a missing column.

    >>> r = dp_histogram(pd.DataFrame({"c": list("aab")}), "c", epsilon=1.0, source=0)
    >>> r.labels, len(r.value)
    (('a', 'b'), 2)
    """
    mech = _check_mechanism("histogram", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    counts, labels, warns = histogram_counts(
        df, column, lower=lower, upper=upper, bins=bins, categories=categories
    )
    src = resolve_source(source)
    noisy, scale, hw = _noise_integers(counts, mechanism=mech, epsilon=eps, delta=dlt, src=src)
    return DPResult(
        query="histogram",
        mechanism=mech,
        value=noisy.astype(np.float64),
        epsilon=eps,
        delta=dlt,
        sensitivity=1.0,
        scale=scale,
        half_width=hw,
        half_width_unit="records per bin",
        neighbours=ADD_REMOVE,
        labels=labels,
        secure=src.secure,
        warnings=tuple(warns),
    )


def dp_quantile(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    lower: float,
    upper: float,
    q: float = 0.5,
    candidates: int = QUANTILE_GRID,
    source: Source = None,
) -> DPResult:
    """Private quantile (median by default) by the exponential mechanism on a public grid.

    Parameters
    ----------
    df, column
        Data and numeric column.
    epsilon : float
        Privacy loss.
    lower, upper : float
        Public bounds; the ``candidates`` output points are evenly spaced between them.
    q : float
        Quantile in [0, 1].
    candidates : int
        Number of grid points, 2 to 100,000.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        A grid point ``c`` chosen with probability ∝ ``exp(ε u(c) / 2)`` where
        ``u(c) = −|#{x < c} − q n|`` ([MT07]_, as in [S11]_). The half-width is in **ranks**:
        with 95% probability the output's rank error is at most ``(2/ε)(ln m + ln 20)``
        above the best grid point's [DR14]_.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters or columns.

    Notes
    -----
    Under add/remove, ``#{x < c}`` moves by at most 1 and ``q n`` by at most ``q`` (never
    both in opposite directions beyond 1), so the utility has sensitivity 1. NA values are
    left out; values are clamped to the bounds.

    >>> df = pd.DataFrame({"a": np.arange(101.0)})
    >>> r = dp_quantile(df, "a", epsilon=5.0, lower=0, upper=100, source=0)
    >>> abs(r.value - 50) <= 10
    True
    """
    eps = check_epsilon(epsilon)
    lo, hi = check_bounds(lower, upper)
    if not (0.0 <= q <= 1.0):
        raise InvalidParameterError(f"q must be in [0, 1]; got {q}. Use 0.5 for the median.")
    if not (2 <= candidates <= 100_000):
        raise InvalidParameterError(f"candidates must be in [2, 100000]; got {candidates}.")
    vals, missing, clipped = clamp(_numeric(df, column), lo, hi)
    grid = np.linspace(lo, hi, candidates)
    scores = quantile_scores(np.sort(vals), grid, q)
    src = resolve_source(source)
    pick = _exponential_choice(scores, epsilon=eps, source=src)
    return DPResult(
        query="quantile",
        mechanism="exponential",
        value=float(grid[pick]),
        epsilon=eps,
        delta=0.0,
        sensitivity=1.0,
        scale=2.0 / eps,
        half_width=exponential_rank_half_width(epsilon=eps, candidates=candidates),
        half_width_unit="ranks",
        neighbours=ADD_REMOVE,
        granularity=(hi - lo) / (candidates - 1),
        secure=src.secure,
        warnings=tuple(_clamp_warnings(column, missing, clipped)),
    )


def dp_mode(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    categories: Sequence[str] | None = None,
    source: Source = None,
) -> DPResult:
    """Private most frequent category by the exponential mechanism on the counts.

    Parameters
    ----------
    df, column
        Data and column (any type; compared as strings).
    epsilon : float
        Privacy loss.
    categories : sequence of str, optional
        Public category list; defaults (with a warning) to those in the data.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        A category chosen with probability ∝ ``exp(ε count / 2)`` (count sensitivity 1
        under add/remove). ``half_width``: with 95% probability the chosen category's count
        is within ``(2/ε)(ln k + ln 20)`` of the largest count.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters or a missing column.

    >>> r = dp_mode(pd.DataFrame({"c": ["x"] * 50 + ["y"]}), "c", epsilon=2.0, source=0)
    >>> r.value
    'x'
    """
    eps = check_epsilon(epsilon)
    counts, labels, warns = histogram_counts(df, column, categories=categories)
    if len(labels) == 0:
        raise InvalidParameterError(
            f"column '{column}' has no non-missing values; a mode needs at least one category."
        )
    src = resolve_source(source)
    pick = _exponential_choice(counts.astype(np.float64), epsilon=eps, source=src)
    return DPResult(
        query="mode",
        mechanism="exponential",
        value=labels[pick],
        epsilon=eps,
        delta=0.0,
        sensitivity=1.0,
        scale=2.0 / eps,
        half_width=exponential_rank_half_width(epsilon=eps, candidates=len(labels)),
        half_width_unit="records (count gap to the true mode)",
        neighbours=ADD_REMOVE,
        labels=labels,
        secure=src.secure,
        warnings=tuple(warns),
    )


def release(
    df: pd.DataFrame,
    column: str,
    *,
    query: str,
    epsilon: float,
    mechanism: str | None = None,
    delta: float = 0.0,
    lower: float | None = None,
    upper: float | None = None,
    bins: int = 20,
    q: float = 0.5,
    source: Source = None,
) -> DPResult:
    """Dispatch to the query function by name (``count``, ``sum``, ``mean``, ``histogram``,
    ``quantile``, ``mode``); see each for the parameters and guarantees.

    >>> release(pd.DataFrame({"a": [1, 2]}), "a", query="count", epsilon=1.0,
    ...         source=0).query
    'count'
    """
    _check_mechanism(query, mechanism)
    if query in ("sum", "mean", "quantile") and (lower is None or upper is None):
        raise InvalidParameterError(
            f"a {query} needs lower and upper bounds; got none. State bounds that every "
            "plausible value lies within."
        )
    if query == "count":
        return dp_count(
            df, column, epsilon=epsilon, mechanism=mechanism, delta=delta, source=source
        )
    if query == "sum":
        assert lower is not None and upper is not None
        return dp_sum(
            df,
            column,
            epsilon=epsilon,
            lower=lower,
            upper=upper,
            mechanism=mechanism,
            delta=delta,
            source=source,
        )
    if query == "mean":
        assert lower is not None and upper is not None
        return dp_mean(
            df,
            column,
            epsilon=epsilon,
            lower=lower,
            upper=upper,
            mechanism=mechanism,
            delta=delta,
            source=source,
        )
    if query == "histogram":
        return dp_histogram(
            df,
            column,
            epsilon=epsilon,
            lower=lower,
            upper=upper,
            bins=bins,
            mechanism=mechanism,
            delta=delta,
            source=source,
        )
    if query == "quantile":
        assert lower is not None and upper is not None
        return dp_quantile(
            df, column, epsilon=epsilon, lower=lower, upper=upper, q=q, source=source
        )
    return dp_mode(df, column, epsilon=epsilon, source=source)


# --- DP microdata (per-record noise), used by masking transforms ------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class NoisyColumn:
    """A numeric column with per-record Laplace noise (local DP for that attribute)."""

    values: pd.Series
    epsilon: float
    sensitivity: float
    scale: float
    granularity: float
    secure: bool
    neighbours: str = "local: any one record's value changed within the bounds"
    warnings: tuple[str, ...] = ()


def noisy_numeric_column(
    values: pd.Series,
    *,
    epsilon: float,
    lower: float,
    upper: float,
    source: Source = None,
) -> NoisyColumn:
    """Clamp each value to ``[lower, upper]`` and add independent Laplace noise ``(U−L)/ε``.

    Parameters
    ----------
    values : pandas.Series
        Numeric column.
    epsilon : float
        Local privacy loss of each record's value.
    lower, upper : float
        Public bounds.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    NoisyColumn
        Same index and length; missing values stay missing (missingness itself is not
        protected; a warning counts them).

    Raises
    ------
    InvalidParameterError
        For bad parameters, or a non-numeric column.

    Notes
    -----
    Changing one record's value within ``[L, U]`` moves it by at most ``U − L``: each
    released value is ε-DP with respect to that value (local DP). Noise on the power-of-two
    grid (:func:`core.dp_sampling.laplace_on_grid`).

    >>> out = noisy_numeric_column(pd.Series([1.0, 2.0]), epsilon=1.0, lower=0, upper=10,
    ...                            source=0)
    >>> out.scale > 10
    True
    """
    eps = check_epsilon(epsilon)
    lo, hi = check_bounds(lower, upper)
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise InvalidParameterError(
            f"column '{values.name}' is not numeric; per-record noise needs numbers. Use "
            "randomized response for categorical columns."
        )
    arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = np.isnan(arr)
    clipped = int(((arr < lo) | (arr > hi)).sum())
    out = laplace_on_grid(
        np.clip(np.where(missing, lo, arr), lo, hi),
        sensitivity=hi - lo,
        epsilon=eps,
        source=source,
    )
    noisy = np.where(missing, np.nan, out.values)
    warns = _clamp_warnings(str(values.name), int(missing.sum()), clipped)
    return NoisyColumn(
        values=pd.Series(noisy, index=values.index, name=values.name),
        epsilon=eps,
        sensitivity=hi - lo,
        scale=out.scale,
        granularity=out.granularity,
        secure=out.secure,
        warnings=tuple(warns),
    )
