"""Differential privacy mechanisms: calibration, error half-widths and private queries.

Neighbouring relation
---------------------
Two datasets are neighbours when one is the other with **one record added or removed**
("add/remove", unbounded DP); the ledger composes releases under that relation. The record
count is not public: the mean is a noisy sum over a noisy count. Each result states its
relation in ``neighbours``.

Bounds
------
Sums, means, quantiles and numeric histograms need bounds ``[L, U]`` that the user states:
values are clamped into them and the sensitivity follows from them. Bounds read off the
data itself leak (the minimum and maximum are someone's values); this module never infers
them.

Categories
----------
A categorical histogram, a mode and randomized response never take their list of categories
from the data: a category that appears only when one person's record is present would
reveal that record (with the list read from the data, P(the rare category is released) is
about 1/2 with the record and 0 without it: no ε bounds that). Two ways are offered:

- a **declared domain**: the public list of categories, stated by the user or taken from a
  published codebook (:mod:`core.codebooks`); values outside it are left out;
- a **threshold (stability) histogram** ([KKMN09]_, [BNS16]_): the categories present in
  the data get discrete Laplace noise of scale 1/ε and only those whose noisy count reaches
  ``t = 1 + ceil(ln(1/(δ(1 + e^-ε)))/ε)`` are released (:func:`stability_threshold`), which
  is (ε, δ)-DP.

Nothing exact
-------------
A result carries the noisy answer and figures fixed by the parameters (ε, δ, bounds,
declared categories) only: no record count, no count of missing or clamped values, no
category that the noise does not cover. Such counts are for the analyst's own screen
(:func:`clamp`, :func:`histogram_counts`), never part of a release.

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
.. [KKMN09] Korolova, A., Kenthapadi, K., Mishra, N., Ntoulas, A. "Releasing search queries
   and clicks privately." WWW 2009 (release a count only above a noisy threshold).
.. [BNS16] Bun, M., Nissim, K., Stemmer, U. "Simultaneous private learning of multiple
   concepts." ITCS 2016 (stability-based histograms). OpenDP's ``make_laplace_threshold``
   after ``make_count_by`` uses the same rule for continuous Laplace noise,
   ``t = 1 + ln(1/(2δ))/ε`` for one contribution per record.
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
    granularity_for,
    laplace_on_grid,
    resolve_source,
    sum_on_grid,
    uniform,
)
from core.errors import ColumnError, InvalidParameterError
from core.frames import check_frame
from core.limits import DELTA_MAX, DELTA_MIN, EPSILON_MAX, EPSILON_MIN

Source = RandomSource | np.random.Generator | int | None
Query = Literal["count", "sum", "mean", "histogram", "quantile", "mode"]
Domain = Literal["declared", "threshold"]
Mechanism = Literal["laplace", "gaussian", "discrete_laplace", "discrete_gaussian", "exponential"]

ADD_REMOVE = "add/remove one record"
#: Where a categorical release takes its categories from (see the module notes).
DOMAINS = ("declared", "threshold")
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
    "mode": ("exponential", "discrete_laplace"),
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
    return _analytic_sigma(eps, dlt, sens)


def _analytic_sigma(eps: float, dlt: float, sens: float) -> float:
    """:func:`analytic_gaussian_sigma` without the range checks (for a share of a checked ε)."""

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
    return _discrete_sigma(eps, dlt, sensitivity)


def _discrete_sigma(eps: float, dlt: float, sensitivity: int) -> float:
    """:func:`discrete_gaussian_sigma` without the range checks (for a share of a checked ε)."""
    lo = 0.5 * _analytic_sigma(eps, dlt, float(sensitivity))
    hi = 2.0 * _analytic_sigma(eps, dlt, float(sensitivity)) + 1.0
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
    categories : sequence of str
        The public category list, known without looking at the data (declared, or from a
        codebook such as :mod:`core.codebooks`). Required: a list read from the data would
        reveal which categories occur. Add ``"<NA>"`` to randomize missing values too.
    source : RandomSource, numpy Generator, int or None
        ``None`` reads the OS CSPRNG; seeds are for tests and previews.

    Returns
    -------
    RRRelease
        Each value kept with ``p = e^ε/(e^ε+k−1)``, otherwise replaced by one of the other
        ``k − 1`` categories uniformly. Missing values are the category ``"<NA>"``, so
        missingness is protected too when that category is listed.

    Raises
    ------
    InvalidParameterError
        For no category list, fewer than 2 categories, or a value outside ``categories``.

    >>> r = randomized_response(pd.Series(list("abab")), epsilon=1.0, categories=["a", "b"],
    ...                         source=0)
    >>> r.categories
    ('a', 'b')
    """
    if categories is None:
        raise InvalidParameterError(
            f"randomized response of column '{values.name}' needs the public list of "
            "categories; got none. A list read from the data would reveal which categories "
            "occur: state the categories known without looking at the data (or use a "
            "published codebook)."
        )
    text = values.astype("string").fillna("<NA>")
    cats = tuple(str(c) for c in categories)
    k = len(cats)
    p = rr_keep_probability(epsilon=epsilon, k=k)
    codes = _codes(text, cats)
    if (codes < 0).any():
        missing = int(values.isna().sum()) if "<NA>" not in cats else 0
        other = int((codes < 0).sum()) - missing
        parts = [f"{other} value(s) are not in the {k} given categories"] if other else []
        if missing:
            parts.append(f"{missing} missing value(s) need the category '<NA>'")
        raise InvalidParameterError(
            "; ".join(parts) + ". Add them to the category list (or fill or drop them first)."
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
    #: For a threshold histogram: the smallest noisy count that is released.
    threshold: float | None = None
    #: Where the categories come from: "declared", "threshold", or "" for numeric queries.
    domain: str = ""
    secure: bool = True
    warnings: tuple[str, ...] = ()


def _numeric(df: pd.DataFrame, column: str) -> pd.Series:
    check_frame(df)  # unique text column names
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

    The counts are exact and for the analyst's screen only; no DP result carries them.

    Raises
    ------
    ColumnError
        For a column that is not numeric (the message names the column, never a value).

    >>> clamp(pd.Series([1.0, None, 9.0]), 0, 5)
    (array([1., 5.]), 1, 1)
    """
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        raise ColumnError(
            f"column '{values.name}' is not numeric ({values.dtype}); clamping needs numbers. "
            "Choose a numeric column, or cast this one on the Data page."
        )
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


def _noisy_sum(
    values: np.ndarray,
    *,
    lower: float,
    upper: float,
    mechanism: str,
    sensitivity: float,
    epsilon: float,
    delta: float,
    src: RandomSource,
) -> tuple[float, float, float, float]:
    """(noisy clamped sum, scale, 95% half-width, grid step) for a sum of ``values``.

    The sum is taken exactly on the noise grid (:func:`core.dp_sampling.sum_on_grid`), so
    neighbouring datasets' answers are at most the adjusted sensitivity apart; the integer
    noise is added in grid steps and the float is formed last (post-processing).
    """
    if mechanism == "laplace":
        g = granularity_for(sensitivity / epsilon)
        steps = math.floor(sensitivity / g) + 1
        noise = int(discrete_laplace(1, scale=steps / epsilon, source=src)[0])
        scale = steps * g / epsilon
        half = laplace_half_width(scale)
    elif mechanism == "gaussian":
        scale, g = gaussian_grid_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity)
        noise = int(discrete_gaussian(1, sigma=scale / g, source=src)[0])
        half = gaussian_half_width(scale)
    else:
        raise InvalidParameterError(
            f"mechanism '{mechanism}' does not apply to real-valued answers. Use laplace or "
            "gaussian."
        )
    total = sum_on_grid(values, lower=lower, upper=upper, granularity=g)
    return float(total + noise) * g, scale, half, g


def gaussian_grid_sigma(*, epsilon: float, delta: float, sensitivity: float) -> tuple[float, float]:
    """σ and grid step for a gridded Gaussian release, calibrated for the adjusted sensitivity.

    The grid ``g`` is chosen from the unadjusted σ; σ is then recalibrated for
    ``g (floor(Δ/g) + 1)``, so the rounding to the grid is paid for exactly.

    >>> s, g = gaussian_grid_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    >>> round(s, 4), g == 2.0**-38
    (3.7306, True)
    """
    if not (math.isfinite(epsilon) and epsilon > 0 and 0 < delta < 1):
        raise InvalidParameterError(
            f"epsilon must be positive and delta in (0, 1); got {epsilon!r} and {delta!r}."
        )
    sigma0 = _analytic_sigma(epsilon, delta, _check_sensitivity(sensitivity))
    g = granularity_for(sigma0)
    sens = adjusted_sensitivity(sensitivity, g)
    return _analytic_sigma(epsilon, delta, sens), g


def _noise_integers(
    values: np.ndarray, *, mechanism: str, epsilon: float, delta: float, src: RandomSource
) -> tuple[np.ndarray, float, float]:
    """Integer noise for counts with sensitivity 1: (noisy, scale, half-width)."""
    if mechanism == "discrete_laplace":
        t = 1.0 / epsilon
        noise = discrete_laplace(values.size, scale=t, source=src)
        return values + noise, t, float(discrete_laplace_half_width(t))
    if mechanism == "discrete_gaussian":
        sigma = _discrete_sigma(epsilon, delta, 1)
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
    check_frame(df)  # unique text column names
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
    NA values are left out. The clamped values are summed exactly on the noise grid
    (:func:`core.dp_sampling.sum_on_grid`), not in floating point, whose rounding error
    between neighbouring datasets can exceed the one grid step the noise pays for.

    >>> r = dp_sum(pd.DataFrame({"a": [1.0, 2.0]}), "a", epsilon=1.0, lower=0, upper=5,
    ...            source=0)
    >>> r.sensitivity
    5.0
    """
    mech = _check_mechanism("sum", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    lo, hi = check_bounds(lower, upper)
    vals, _, _ = clamp(_numeric(df, column), lo, hi)
    sens = max(abs(lo), abs(hi))
    src = resolve_source(source)
    noisy, scale, hw, g = _noisy_sum(
        vals, lower=lo, upper=hi, mechanism=mech, sensitivity=sens, epsilon=eps, delta=dlt,
        src=src,
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
        warnings=(CLAMP_NOTE,),
    )


#: The one note a bounded release carries: data-independent, so it leaks nothing.
CLAMP_NOTE = (
    "Values outside the bounds were clamped to them and missing values left out; the exact "
    "numbers of either are not released."
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
    """Private mean of a clamped numeric column: a noisy sum over a noisy count.

    Parameters
    ----------
    df, column
        Data and numeric column.
    epsilon : float
        Privacy loss of the whole mean; half goes to the sum, half to the count.
    lower, upper : float
        Public clamping bounds.
    mechanism : {"laplace", "gaussian"}, optional
        Noise of the sum (default Laplace); the count gets the matching integer noise
        (discrete Laplace or discrete Gaussian).
    delta : float
        For the Gaussian only; split in half like ε.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        ``m + S̃ / max(ñ, 1)`` clipped to ``[L, U]``, with ``m = (L + U)/2``, ``S̃`` the
        noisy sum of ``clamp(x) − m`` (sensitivity ``r = (U − L)/2``, reported in
        ``sensitivity`` and ``scale``) and ``ñ`` the noisy count (sensitivity 1), each with
        ε/2, under **add/remove one record**. The record count is not public and nothing
        exact about it is released.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters or a missing or non-numeric column.

    Notes
    -----
    The 95% half-width is ``min(U − L, (a + r b) / max(ñ, 1))`` with ``a`` and ``b`` the
    97.5% half-widths of the sum's and the count's noise: on the event (probability
    ≥ 95%) that ``|S̃ − S| <= a`` and ``|ñ − n| <= b``,
    ``|S̃/ñ − S/n| = |(S̃ − S)/ñ + (S/n)(n − ñ)/ñ| <= (a + r b)/ñ`` because ``|S/n| <= r``.
    It is computed from the noisy count, so it reveals that count (paid for by ε/2), and
    no exact figure. Centring on ``m`` halves the sum's sensitivity against
    ``max(|L|, |U|)``.

    >>> r = dp_mean(pd.DataFrame({"a": [1.0, 3.0]}), "a", epsilon=1.0, lower=0, upper=4,
    ...             source=0)
    >>> r.sensitivity, r.neighbours
    (2.0, 'add/remove one record')
    """
    mech = _check_mechanism("mean", mechanism)
    eps, dlt = check_epsilon(epsilon), _needs_delta(mech, delta)
    lo, hi = check_bounds(lower, upper)
    vals, _, _ = clamp(_numeric(df, column), lo, hi)
    mid, r = (lo + hi) / 2.0, (hi - lo) / 2.0
    src = resolve_source(source)
    centred = np.clip(vals - mid, -r, r)
    s_noisy, scale, _, g = _noisy_sum(
        centred, lower=-r, upper=r, mechanism=mech, sensitivity=r, epsilon=eps / 2,
        delta=dlt / 2, src=src,
    )
    count_mech = "discrete_laplace" if mech == "laplace" else "discrete_gaussian"
    n_noisy, count_scale, _ = _noise_integers(
        np.array([vals.size], dtype=np.int64), mechanism=count_mech, epsilon=eps / 2,
        delta=dlt / 2, src=src,
    )
    n_hat = max(float(n_noisy[0]), 1.0)
    value = min(max(mid + s_noisy / n_hat, lo), hi)
    if mech == "laplace":
        a = laplace_half_width(scale, confidence=0.975)
        b = float(discrete_laplace_half_width(count_scale, confidence=0.975))
    else:
        a = gaussian_half_width(scale, confidence=0.975)
        b = float(discrete_gaussian_half_width(count_scale, confidence=0.975))
    return DPResult(
        query="mean",
        mechanism=mech,
        value=value,
        epsilon=eps,
        delta=dlt,
        sensitivity=r,
        scale=scale,
        half_width=min(hi - lo, (a + r * b) / n_hat),
        half_width_unit="value units",
        neighbours=ADD_REMOVE,
        granularity=g,
        secure=src.secure,
        warnings=(
            CLAMP_NOTE,
            "The mean is a noisy sum divided by a noisy count (each with half of ε); the "
            "record count is not released.",
        ),
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
    ``categories`` or, with a warning, from the data. Missing values are left out. The
    counts and warnings are exact: for the analyst's screen, never for a release.

    >>> c, lab, _ = histogram_counts(pd.DataFrame({"a": [1, 2, 9]}), "a", lower=0,
    ...                              upper=10, bins=2)
    >>> c.tolist(), lab
    ([2, 1], ('[0, 5)', '[5, 10]'))
    """
    check_frame(df)  # unique text column names
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


def stability_threshold(*, epsilon: float, delta: float) -> int:
    """Smallest noisy count a threshold histogram releases: ``P(1 + Z >= t) <= δ``.

    Parameters
    ----------
    epsilon : float
        ε of the histogram; the noise Z is discrete Laplace with scale ``1/ε``.
    delta : float
        Probability of releasing a category that only one record has.

    Returns
    -------
    int
        ``t = 1 + ceil(ln(1/(δ(1 + q))) / ε)`` with ``q = e^-ε``, checked against the exact
        tail: for discrete Laplace ``P(Z >= m) = q^m / (1 + q)``, and a category with one
        record is released when ``1 + Z >= t``. The continuous-Laplace rule of [KKMN09]_ and
        OpenDP (``1 + ln(1/(2δ))/ε``) differs from it by less than one.

    >>> stability_threshold(epsilon=1.0, delta=1e-6)
    15
    """
    eps, dlt = check_epsilon(epsilon), check_delta(delta)
    q = math.exp(-eps)

    def tail(t: int) -> float:  # P(1 + Z >= t)
        return q ** (t - 1) / (1.0 + q)

    t = 1 + max(0, math.ceil(math.log(1.0 / (dlt * (1.0 + q))) / eps))
    while tail(t) > dlt:  # guard rounding in both directions
        t += 1
    while t > 1 and tail(t - 1) <= dlt:
        t -= 1
    return t


def _categorical(df: pd.DataFrame, column: str) -> bool:
    col = df[column]
    return not (pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col))


def _no_domain(column: str, query: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"a {query} of categorical column '{column}' needs the public list of categories; got "
        "none. A list read from the data would reveal a category that one person alone has. "
        "Declare the categories known without looking at the data (or use a published "
        "codebook), or use the threshold histogram, which releases only categories whose "
        "noisy count passes a threshold set by δ."
    )


def _check_domain(domain: str) -> str:
    if domain not in DOMAINS:
        raise InvalidParameterError(
            f"domain must be one of {', '.join(DOMAINS)}; got {domain!r}. Use 'declared' with "
            "a public category list, or 'threshold' with δ > 0."
        )
    return domain


def _threshold_histogram(
    df: pd.DataFrame, column: str, *, epsilon: float, delta: float, src: RandomSource
) -> tuple[np.ndarray, tuple[str, ...], int]:
    """Noisy counts of the categories present, kept where they reach the threshold."""
    text = df[column].dropna().astype("string")
    counts = text.value_counts(sort=False)
    labels = np.asarray(counts.index.astype(str), dtype=object)
    t = stability_threshold(epsilon=epsilon, delta=delta)
    noisy = counts.to_numpy(dtype=np.int64) + discrete_laplace(
        labels.size, scale=1.0 / epsilon, source=src
    )
    keep = noisy >= t
    order = np.argsort(labels[keep], kind="stable")
    return noisy[keep][order], tuple(str(x) for x in labels[keep][order]), t


def dp_histogram(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    lower: float | None = None,
    upper: float | None = None,
    bins: int = 20,
    categories: Sequence[str] | None = None,
    domain: str = "declared",
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
        The public category list of a categorical column (``domain="declared"``); values
        outside it are left out.
    domain : {"declared", "threshold"}
        ``"declared"`` (default): bins or ``categories`` fix the labels. ``"threshold"``:
        the categories present in the data, each released only when its noisy count reaches
        :func:`stability_threshold` (categorical columns, discrete Laplace, needs δ).
    mechanism : {"discrete_laplace", "discrete_gaussian"}, optional
        Default discrete Laplace with scale 1/ε per bin.
    delta : float
        For the discrete Gaussian, and for the threshold histogram.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        ``value`` is the array of noisy counts (may be negative; clip or round as
        post-processing), ``labels`` the bins. Under add/remove one record changes one bin
        by 1, so the L1 and L2 sensitivities are both 1. A threshold histogram is (ε, δ)-DP:
        a category with two or more records is released with ε-DP noise, and one that a
        single record makes appear is released with probability at most δ [KKMN09]_.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters, missing bounds, a categorical column with neither a category
        list nor the threshold domain, or a missing column.

    >>> r = dp_histogram(pd.DataFrame({"c": list("aab")}), "c", epsilon=1.0,
    ...                  categories=["a", "b", "c"], source=0)
    >>> r.labels, len(r.value)
    (('a', 'b', 'c'), 3)
    """
    mech = _check_mechanism("histogram", mechanism)
    eps = check_epsilon(epsilon)
    check_frame(df)  # unique text column names
    if column not in df.columns:
        raise ColumnError(
            f"column '{column}' is not in the dataset ({df.shape[1]} columns). Pick one of "
            "the listed columns."
        )
    src = resolve_source(source)
    if _check_domain(domain) == "threshold":
        if not _categorical(df, column) or categories is not None:
            raise InvalidParameterError(
                f"the threshold histogram is for categorical columns without a declared "
                f"list; '{column}' "
                + ("has a declared list" if categories is not None else "is numeric")
                + ". Numeric columns use public bins (bounds and a bin count); a declared "
                "list needs no threshold."
            )
        if mech != "discrete_laplace":
            raise InvalidParameterError(
                f"the threshold histogram uses discrete Laplace noise; got {mech}. Pick "
                "discrete_laplace."
            )
        dlt = check_delta(delta)
        noisy, labels, t = _threshold_histogram(df, column, epsilon=eps, delta=dlt, src=src)
        t_scale = 1.0 / eps
        return DPResult(
            query="histogram",
            mechanism=mech,
            value=noisy.astype(np.float64),
            epsilon=eps,
            delta=dlt,
            sensitivity=1.0,
            scale=t_scale,
            half_width=float(discrete_laplace_half_width(t_scale)),
            half_width_unit="records per released category",
            neighbours=ADD_REMOVE,
            labels=labels,
            threshold=float(t),
            domain="threshold",
            secure=src.secure,
            warnings=(
                f"Only categories whose noisy count reached {t} are released; a category "
                "that is absent here may still occur in the data.",
            ),
        )
    dlt = _needs_delta(mech, delta)
    if _categorical(df, column) and categories is None:
        raise _no_domain(column, "histogram")
    counts, labels, _ = histogram_counts(
        df, column, lower=lower, upper=upper, bins=bins, categories=categories
    )
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
        domain="declared" if categories is not None else "",
        secure=src.secure,
        warnings=(
            "Values outside the declared categories and missing values were left out; the "
            "exact numbers of either are not released."
            if categories is not None
            else CLAMP_NOTE,
        ),
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
    vals, _, _ = clamp(_numeric(df, column), lo, hi)
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
        warnings=(CLAMP_NOTE,),
    )


def dp_mode(
    df: pd.DataFrame,
    column: str,
    *,
    epsilon: float,
    categories: Sequence[str] | None = None,
    domain: str = "declared",
    delta: float = 0.0,
    source: Source = None,
) -> DPResult:
    """Private most frequent category.

    Parameters
    ----------
    df, column
        Data and column (any type; compared as strings).
    epsilon : float
        Privacy loss.
    categories : sequence of str, optional
        The public category list (``domain="declared"``, required there).
    domain : {"declared", "threshold"}
        ``"declared"``: the exponential mechanism over ``categories``. ``"threshold"``: the
        largest noisy count of the threshold histogram (:func:`dp_histogram`), which needs δ.
    delta : float
        For the threshold domain.
    source
        ``None`` for the OS CSPRNG.

    Returns
    -------
    DPResult
        Declared: a category chosen with probability ∝ ``exp(ε count / 2)`` (count
        sensitivity 1 under add/remove); ``half_width``: with 95% probability the chosen
        category's count is within ``(2/ε)(ln k + ln 20)`` of the largest count.
        Threshold: the released category with the largest noisy count (post-processing of
        an (ε, δ)-DP histogram), or ``""`` when no category passes the threshold.

    Raises
    ------
    InvalidParameterError, ColumnError
        For bad parameters, no category list (declared domain), or a missing column.

    >>> r = dp_mode(pd.DataFrame({"c": ["x"] * 50 + ["y"]}), "c", epsilon=2.0,
    ...             categories=["x", "y"], source=0)
    >>> r.value
    'x'
    """
    eps = check_epsilon(epsilon)
    if _check_domain(domain) == "threshold":
        hist = dp_histogram(df, column, epsilon=eps, domain="threshold", delta=delta,
                            source=source)  # fmt: skip
        counts = np.asarray(hist.value)
        found = bool(counts.size)
        return DPResult(
            query="mode",
            mechanism="discrete_laplace",
            value=hist.labels[int(np.argmax(counts))] if found else "",
            epsilon=eps,
            delta=hist.delta,
            sensitivity=1.0,
            scale=hist.scale,
            half_width=hist.half_width,
            half_width_unit="records (noise on each count)",
            neighbours=ADD_REMOVE,
            labels=hist.labels,
            threshold=hist.threshold,
            domain="threshold",
            secure=hist.secure,
            warnings=hist.warnings
            + (() if found else ("No category passed the threshold: no mode is released.",)),
        )
    check_frame(df)  # unique text column names
    if column not in df.columns:
        raise ColumnError(
            f"column '{column}' is not in the dataset ({df.shape[1]} columns). Pick one of "
            "the listed columns."
        )
    if categories is None:
        raise _no_domain(column, "mode")
    cats = tuple(str(c) for c in categories)
    if not cats:
        raise InvalidParameterError(
            "the category list is empty; a mode needs at least one category. List the "
            "public categories."
        )
    counts, labels, _ = histogram_counts(df, column, categories=cats)
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
        domain="declared",
        secure=src.secure,
        warnings=(
            "Values outside the declared categories and missing values were not counted; the "
            "exact numbers of either are not released.",
        ),
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
    categories: Sequence[str] | None = None,
    domain: str = "declared",
    source: Source = None,
) -> DPResult:
    """Dispatch to the query function by name (``count``, ``sum``, ``mean``, ``histogram``,
    ``quantile``, ``mode``); see each for the parameters and guarantees. ``categories`` and
    ``domain`` apply to histograms and modes.

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
            categories=categories,
            domain=domain,
            mechanism=mechanism,
            delta=delta,
            source=source,
        )
    if query == "quantile":
        assert lower is not None and upper is not None
        return dp_quantile(
            df, column, epsilon=epsilon, lower=lower, upper=upper, q=q, source=source
        )
    if mechanism is not None and (mechanism == "discrete_laplace") != (domain == "threshold"):
        raise InvalidParameterError(
            f"a mode with the {domain} domain cannot use {mechanism}: it uses the exponential "
            "mechanism over declared categories, discrete Laplace with the threshold domain."
        )
    return dp_mode(
        df, column, epsilon=epsilon, categories=categories, domain=domain, delta=delta,
        source=source,
    )


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
        protected). No warning counts clamped or missing values: such counts are exact.

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
    out = laplace_on_grid(
        np.clip(np.where(missing, lo, arr), lo, hi),
        sensitivity=hi - lo,
        epsilon=eps,
        source=source,
    )
    noisy = np.where(missing, np.nan, out.values)
    return NoisyColumn(
        values=pd.Series(noisy, index=values.index, name=values.name),
        epsilon=eps,
        sensitivity=hi - lo,
        scale=out.scale,
        granularity=out.granularity,
        secure=out.secure,
    )
