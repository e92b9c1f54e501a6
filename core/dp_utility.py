"""Utility against privacy: error curves over ε, accuracy targets, attacker bounds, microdata.

The closed-form curves describe the noise of each mechanism; the simulated bands are
**simulations** drawn from a seeded NumPy generator (never a release), labelled as such.

References
----------
.. [DR14] Dwork, C., Roth, A. "The algorithmic foundations of differential privacy." 2014.
.. [KS14] Kasiviswanathan, S., Smith, A. "On the 'semantics' of differential privacy: a
   Bayesian formulation." J. Priv. Confid. 2014 (posterior bound).
.. [BW18] Balle, B., Wang, Y.-X. ICML 2018 (analytic Gaussian).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize

from core import dp
from core.dp_sampling import (
    NumpyRandom,
    discrete_gaussian,
    discrete_laplace,
    laplace_on_grid,
    uniform,
)
from core.errors import ColumnError, InvalidParameterError
from core.frames import check_frame
from core.limits import EPSILON_MAX, EPSILON_MIN, MICRODATA_SAMPLE_ROWS

#: Points of the ε axis of the curves.
CURVE_POINTS = 60


def epsilon_grid(points: int = CURVE_POINTS) -> np.ndarray:
    """Log-spaced ε values from ``EPSILON_MIN`` to ``EPSILON_MAX``.

    >>> g = epsilon_grid(3)
    >>> float(g[0]), float(g[-1])
    (0.01, 10.0)
    """
    return np.geomspace(EPSILON_MIN, EPSILON_MAX, points)


def query_sensitivity(
    query: str, *, lower: float | None = None, upper: float | None = None, n: int | None = None
) -> float:
    """Sensitivity of a query (see :mod:`core.dp` for the neighbouring relation).

    count, histogram, quantile and mode: 1; sum: ``max(|L|, |U|)``; mean: ``(U − L)/n``,
    a planning figure for the curve only: with ``n`` the current count it gives the noise of
    the released mean's sum (``(U − L)/2`` at ε/2) divided by ``n``; the release itself
    (:func:`core.dp.dp_mean`) divides by a noisy count and never uses the exact ``n``.

    >>> query_sensitivity("sum", lower=-3, upper=2)
    3.0
    """
    if query in ("count", "histogram", "quantile", "mode"):
        return 1.0
    if lower is None or upper is None:
        raise InvalidParameterError(f"a {query} needs lower and upper bounds; got none.")
    lo, hi = dp.check_bounds(lower, upper)
    if query == "sum":
        return max(abs(lo), abs(hi))
    if query == "mean":
        if not n or n < 1:
            raise InvalidParameterError(f"a mean needs the public count n >= 1; got {n}.")
        return (hi - lo) / n
    raise InvalidParameterError(f"unknown query '{query}'.")


@lru_cache(maxsize=4096)
def _dgauss_sigma(epsilon: float, delta: float) -> float:
    return dp.discrete_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=1)


def noise_scale(*, mechanism: str, epsilon: float, sensitivity: float, delta: float = 0.0) -> float:
    """Scale of a mechanism's noise: b (Laplace), σ (Gaussian), t (discrete Laplace), σ
    (discrete Gaussian, integer sensitivity 1), or 2/ε (exponential).

    >>> noise_scale(mechanism="laplace", epsilon=0.5, sensitivity=1.0)
    2.0
    """
    if mechanism == "laplace":
        return dp.laplace_scale(epsilon=epsilon, sensitivity=sensitivity)
    if mechanism == "gaussian":
        return dp.analytic_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity)
    if mechanism == "discrete_laplace":
        return sensitivity / dp.check_epsilon(epsilon)
    if mechanism == "discrete_gaussian":
        return _dgauss_sigma(dp.check_epsilon(epsilon), dp.check_delta(delta))
    if mechanism == "exponential":
        return 2.0 / dp.check_epsilon(epsilon)
    raise InvalidParameterError(f"unknown mechanism '{mechanism}'.")


def expected_abs_error(*, mechanism: str, scale: float) -> float:
    """``E|noise|`` in closed form.

    Laplace: ``b``; Gaussian: ``σ √(2/π)``; discrete Laplace: ``2q/(1 − q²)`` with
    ``q = e^(−1/t)``; discrete Gaussian: ``2 Σ_{k≥1} k p(k)`` (summed).

    >>> expected_abs_error(mechanism="laplace", scale=2.0)
    2.0
    """
    if mechanism == "laplace":
        return float(scale)
    if mechanism == "gaussian":
        return float(scale * math.sqrt(2.0 / math.pi))
    if mechanism == "discrete_laplace":
        q = math.exp(-1.0 / scale)
        return 2.0 * q / (1.0 - q * q)
    if mechanism == "discrete_gaussian":
        k = np.arange(0.0, math.ceil(40.0 * scale + 10.0) + 1.0)
        return float(2.0 * (k * dp.discrete_gaussian_pmf(scale, k)).sum())
    raise InvalidParameterError(f"no closed-form error for mechanism '{mechanism}'.")


def half_width(*, mechanism: str, scale: float, epsilon: float = 1.0, candidates: int = 2) -> float:
    """95% error half-width of a mechanism's noise (ranks/counts for the exponential one).

    >>> round(half_width(mechanism="gaussian", scale=1.0), 2)
    1.96
    """
    if mechanism == "laplace":
        return dp.laplace_half_width(scale)
    if mechanism == "gaussian":
        return dp.gaussian_half_width(scale)
    if mechanism == "discrete_laplace":
        return float(dp.discrete_laplace_half_width(scale))
    if mechanism == "discrete_gaussian":
        return float(dp.discrete_gaussian_half_width(scale))
    if mechanism == "exponential":
        return dp.exponential_rank_half_width(epsilon=epsilon, candidates=candidates)
    raise InvalidParameterError(f"unknown mechanism '{mechanism}'.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorCurve:
    """Error of one query/mechanism against ε."""

    epsilons: np.ndarray
    expected_error: np.ndarray | None
    half_width: np.ndarray
    #: Simulated 5% and 95% quantiles of |error| (seeded NumPy: a simulation).
    band_low: np.ndarray | None
    band_high: np.ndarray | None
    unit: str
    warnings: tuple[str, ...] = ()


def _standard_noise(mechanism: str, n: int, rng: NumpyRandom) -> np.ndarray:
    """Unit-scale continuous noise for simulations (Laplace b=1 or N(0, 1))."""
    u1, u2 = uniform(n, source=rng), uniform(n, source=rng)
    if mechanism == "laplace":
        return np.log(u1) - np.log(u2)
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)


def error_curve(
    *,
    mechanism: str,
    sensitivity: float,
    delta: float = 0.0,
    candidates: int = dp.QUANTILE_GRID,
    epsilons: np.ndarray | None = None,
    simulations: int = 400,
    seed: int = 0,
) -> ErrorCurve:
    """Expected |error|, 95% half-width and a simulated 5–95% band of |error| against ε.

    Parameters
    ----------
    mechanism : str
        ``laplace``, ``gaussian``, ``discrete_laplace``, ``discrete_gaussian`` or
        ``exponential``.
    sensitivity : float
        Of the query (see :func:`query_sensitivity`).
    delta : float
        For the Gaussian mechanisms.
    candidates : int
        Output candidates of the exponential mechanism (grid points or categories).
    epsilons : numpy.ndarray, optional
        The ε axis; default :func:`epsilon_grid`.
    simulations : int
        Simulated releases per ε for the band (0 for none).
    seed : int
        Seed of the simulation generator (simulations only, never releases).

    Returns
    -------
    ErrorCurve
        For the exponential mechanism only the 95% rank bound is available (its error
        depends on the data); ``expected_error`` and the band are then ``None``.

    >>> c = error_curve(mechanism="laplace", sensitivity=1.0, epsilons=np.array([1.0]))
    >>> float(c.expected_error[0]), round(float(c.half_width[0]), 4)
    (1.0, 2.9957)
    """
    eps = epsilon_grid() if epsilons is None else np.asarray(epsilons, dtype=np.float64)
    if mechanism == "exponential":
        hw = np.array(
            [
                half_width(mechanism=mechanism, scale=0, epsilon=e, candidates=candidates)
                for e in eps
            ]
        )
        return ErrorCurve(
            epsilons=eps,
            expected_error=None,
            half_width=hw,
            band_low=None,
            band_high=None,
            unit="ranks",
            warnings=(
                "The exponential mechanism's error depends on the data; "
                "the curve shows its 95% rank bound.",
            ),
        )
    scales = np.array(
        [
            noise_scale(mechanism=mechanism, epsilon=float(e), sensitivity=sensitivity, delta=delta)
            for e in eps
        ]
    )
    expected = np.array([expected_abs_error(mechanism=mechanism, scale=s) for s in scales])
    hw = np.array([half_width(mechanism=mechanism, scale=s) for s in scales])
    low = high = None
    if simulations:
        rng = NumpyRandom(seed)
        if mechanism in ("laplace", "gaussian"):
            unit = np.abs(_standard_noise(mechanism, simulations, rng))
            q5, q95 = np.quantile(unit, [0.05, 0.95])
            low, high = q5 * scales, q95 * scales
        else:
            sims = np.empty((eps.size, 2))
            for i, s in enumerate(scales):
                if mechanism == "discrete_laplace":
                    draw = discrete_laplace(simulations, scale=float(s), source=rng)
                else:
                    draw = discrete_gaussian(simulations, sigma=float(s), source=rng)
                sims[i] = np.quantile(np.abs(draw), [0.05, 0.95])
            low, high = sims[:, 0], sims[:, 1]
    return ErrorCurve(
        epsilons=eps,
        expected_error=expected,
        half_width=hw,
        band_low=low,
        band_high=high,
        unit="value units",
    )


def posterior_bound(prior: float, *, epsilon: float) -> float:
    """Largest posterior an attacker can reach about one record after an ε-DP release.

    Parameters
    ----------
    prior : float
        The attacker's prior belief ``p`` in [0, 1] (for example that a person is in the
        data, or has the sensitive value).
    epsilon : float
        The release's ε (pure DP; with δ > 0 the bound holds except with probability δ).

    Returns
    -------
    float
        ``e^ε p / (e^ε p + 1 − p)`` [KS14]_: the likelihood ratio is at most ``e^ε``.

    >>> round(posterior_bound(0.5, epsilon=math.log(3)), 6)
    0.75
    """
    if not 0.0 <= prior <= 1.0:
        raise InvalidParameterError(f"prior must be in [0, 1]; got {prior!r}.")
    if not (math.isfinite(epsilon) and epsilon >= 0):
        raise InvalidParameterError(f"epsilon must be non-negative; got {epsilon!r}.")
    r = math.exp(epsilon)
    return r * prior / (r * prior + 1.0 - prior)


def rr_guess_rate(*, epsilon: float, k: int) -> float:
    """How often an attacker who guesses "the reported value is the true one" is right.

    Equal to the keep probability ``e^ε / (e^ε + k − 1)``; against ``1/k`` for a blind
    guess. It is the best strategy for a uniform prior.

    >>> round(rr_guess_rate(epsilon=math.log(3), k=2), 6)
    0.75
    """
    return dp.rr_keep_probability(epsilon=epsilon, k=k)


def epsilon_for_half_width(
    target: float,
    *,
    mechanism: str,
    sensitivity: float = 1.0,
    delta: float = 0.0,
    candidates: int = dp.QUANTILE_GRID,
) -> float:
    """The ε whose 95% error half-width equals ``target`` ("±target at 95% confidence").

    Parameters
    ----------
    target : float
        Desired half-width ``> 0`` (ranks for the exponential mechanism; for integer noise
        the largest integer ``<= target`` is used, since half-widths are whole numbers).
    mechanism : str
        As in :func:`noise_scale`.
    sensitivity : float
        Of the query.
    delta : float
        For the Gaussian mechanisms.
    candidates : int
        For the exponential mechanism.

    Returns
    -------
    float
        Laplace: ``Δ ln 20 / target``. Gaussian: the root in ε of
        ``δ_exact(target / 1.96; ε) = δ``. Exponential: ``2(ln m + ln 20)/target``.
        Discrete Laplace: the smallest ε whose integer half-width, by
        :func:`core.dp.discrete_laplace_half_width`, is ``<= target``: the root of
        ``2 q^(H+1)/(1+q) = 0.05`` refined by bisection against that function. Discrete
        Gaussian: bisection on ε (smallest ε with half-width ``<= target``).

    Raises
    ------
    InvalidParameterError
        If the target needs an ε outside ``[EPSILON_MIN, EPSILON_MAX]``, or is not positive.

    >>> round(epsilon_for_half_width(2.995732273553991, mechanism="laplace"), 6)
    1.0
    """
    if not (math.isfinite(target) and target > 0):
        raise InvalidParameterError(f"target half-width must be positive; got {target!r}.")
    if mechanism == "laplace":
        eps = sensitivity * -math.log(0.05) / target
    elif mechanism == "exponential":
        eps = 2.0 * (math.log(candidates) + math.log(20.0)) / target
    elif mechanism == "gaussian":
        sigma = target / dp.Z95
        dlt = dp.check_delta(delta)

        def f(log_eps: float) -> float:
            return (
                dp.gaussian_delta(sigma, epsilon=math.exp(log_eps), sensitivity=sensitivity) - dlt
            )

        lo, hi = math.log(EPSILON_MIN / 10), math.log(EPSILON_MAX * 10)
        if f(lo) < 0:
            eps = EPSILON_MIN / 10  # even tiny ε meets the target: report below the range
        elif f(hi) > 0:
            eps = EPSILON_MAX * 10
        else:
            eps = math.exp(optimize.brentq(f, lo, hi, xtol=1e-14, rtol=1e-14))
    elif mechanism == "discrete_laplace":
        h = math.floor(target)
        if h < 1:
            raise _out_of_range(target, EPSILON_MAX * 10)
        q = optimize.brentq(
            lambda q: 2.0 * q ** (h + 1) / (1.0 + q) - 0.05,
            1e-300,
            1 - 1e-16,
            xtol=1e-300,
            rtol=1e-15,
        )
        eps = _smallest_epsilon(
            lambda e: dp.discrete_laplace_half_width(sensitivity / e) <= h,
            sensitivity * -math.log(q),
        )
    elif mechanism == "discrete_gaussian":
        h = math.floor(target)
        dlt = dp.check_delta(delta)

        def hw(e: float) -> int:
            return dp.discrete_gaussian_half_width(_dgauss_sigma(e, dlt))

        lo, hi = EPSILON_MIN, EPSILON_MAX
        if hw(hi) > h:
            raise _out_of_range(target, hi * 10)
        if hw(lo) <= h:
            return lo
        for _ in range(40):
            mid = math.sqrt(lo * hi)
            if hw(mid) <= h:
                hi = mid
            else:
                lo = mid
        eps = hi
    else:
        raise InvalidParameterError(f"unknown mechanism '{mechanism}'.")
    if not EPSILON_MIN <= eps <= EPSILON_MAX:
        raise _out_of_range(target, eps)
    return eps


def _smallest_epsilon(ok: Callable[[float], bool], guess: float) -> float:
    """Smallest ε (to one part in 1e-15) with ``ok(ε)``, for ``ok`` monotone in ε.

    The closed-form ``guess`` sits on the boundary of a step function, so floating-point
    rounding may put it one step off either way; a bracket around it is bisected with the
    very function the caller checks against.
    """
    lo, hi, step = guess, guess, 1e-9
    while ok(lo) and lo > EPSILON_MIN / 100:
        lo, step = lo / (1.0 + step), 2.0 * step
    step = 1e-9
    while not ok(hi) and hi < EPSILON_MAX * 100:
        hi, step = hi * (1.0 + step), 2.0 * step
    if ok(lo):
        return lo  # below the supported range; the caller reports it
    if not ok(hi):
        return hi  # above it
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


def _out_of_range(target: float, eps: float) -> InvalidParameterError:
    return InvalidParameterError(
        f"a half-width of ±{target:g} needs epsilon of about {eps:.3g}, outside the supported "
        f"range [{EPSILON_MIN}, {EPSILON_MAX}]. Ask for a "
        + ("wider" if eps > EPSILON_MAX else "narrower")
        + " interval."
    )


# --- microdata utility ----------------------------------------------------------------------

#: Correlation methods whose matrices the microdata measures compare.
CORR_METHODS = ("pearson", "spearman", "kendall")


@dataclass(frozen=True, slots=True, kw_only=True)
class MicrodataUtility:
    """How much a DP microdata release distorts the data."""

    mae: float
    rmse: float
    #: MAE divided by the mean absolute original value, averaged over numeric columns.
    relative_error: float
    #: Mean total-variation distance of the categorical columns' category shares.
    tv_distance: float
    #: Mean absolute change of the off-diagonal correlation entries, per method.
    corr_change: dict[str, float]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Reference:
    """What the measures need from the original table, computed once."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    values: dict[str, np.ndarray]
    shares: dict[str, pd.Series]
    corr: dict[str, pd.DataFrame]


def _shares(values: pd.Series) -> pd.Series:
    return values.astype("string").fillna("<NA>").value_counts(normalize=True)


def _reference(
    original: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]
) -> _Reference:
    num, cat = tuple(numeric), tuple(categorical)
    _check_columns(original, num, cat)
    corr = {m: original[list(num)].corr(method=m) for m in CORR_METHODS} if len(num) >= 2 else {}
    return _Reference(
        numeric=num,
        categorical=cat,
        values={c: original[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in num},
        shares={c: _shares(original[c]) for c in cat},
        corr=corr,
    )


def _check_columns(df: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> None:
    check_frame(df)  # unique text column names
    if not numeric and not categorical:
        raise InvalidParameterError(
            "give at least one numeric or categorical column; got none. Pick the columns the "
            "release would noise."
        )
    missing = [c for c in (*numeric, *categorical) if c not in df.columns]
    if missing:
        raise ColumnError(
            f"{len(missing)} column(s) not in the table: {', '.join(map(repr, missing))}. "
            f"Pick from its {df.shape[1]} columns."
        )
    both = sorted(set(numeric) & set(categorical))
    if both:
        raise InvalidParameterError(
            f"column(s) {', '.join(map(repr, both))} are listed as numeric and categorical; "
            "give each column one treatment."
        )
    wrong = [
        c
        for c in numeric
        if not pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
    ]
    if wrong:
        raise ColumnError(
            f"column(s) {', '.join(map(repr, wrong))} are not numeric, so they cannot get "
            "Laplace noise. Treat them as categorical instead."
        )


def _mean_offdiag_change(a: pd.DataFrame, b: pd.DataFrame) -> float:
    """Mean |a − b| over the off-diagonal entries where both are defined (NaN if none)."""
    m = a.shape[0]
    diff = np.abs(a.to_numpy() - b.to_numpy())[~np.eye(m, dtype=bool)]
    diff = diff[np.isfinite(diff)]
    return float(diff.mean()) if diff.size else float("nan")


def _compare(ref: _Reference, released: pd.DataFrame) -> MicrodataUtility:
    warns: list[str] = []
    errs, rel = [], []
    for c in ref.numeric:
        x = ref.values[c]
        y = released[c].to_numpy(dtype=np.float64, na_value=np.nan)
        ok = ~(np.isnan(x) | np.isnan(y))
        if not ok.any():
            warns.append(f"'{c}' has no non-missing value pairs; no error measured for it.")
            continue
        d = y[ok] - x[ok]
        errs.append(d)
        scale = float(np.abs(x[ok]).mean())
        if scale > 0:
            rel.append(float(np.abs(d).mean()) / scale)
        else:
            warns.append(f"'{c}' has mean absolute value 0; no relative error for it.")
    all_err = np.concatenate(errs) if errs else np.array([])
    tvs = []
    for c in ref.categorical:
        p, r = ref.shares[c].align(_shares(released[c]), fill_value=0.0)
        tvs.append(0.5 * float(np.abs(p.to_numpy() - r.to_numpy()).sum()))
    corr: dict[str, float] = {}
    for method, before in ref.corr.items():
        change = _mean_offdiag_change(before, released[list(ref.numeric)].corr(method=method))
        corr[method] = change
        if math.isnan(change):
            warns.append(
                f"No {method} correlation is defined between the {len(ref.numeric)} numeric "
                "columns (constant or missing values); its change is not measured."
            )
    return MicrodataUtility(
        mae=float(np.abs(all_err).mean()) if all_err.size else float("nan"),
        rmse=float(np.sqrt((all_err**2).mean())) if all_err.size else float("nan"),
        relative_error=float(np.mean(rel)) if rel else float("nan"),
        tv_distance=float(np.mean(tvs)) if tvs else float("nan"),
        corr_change=corr,
        warnings=tuple(dict.fromkeys(warns)),
    )


def microdata_utility(
    original: pd.DataFrame,
    released: pd.DataFrame,
    *,
    numeric: Sequence[str] = (),
    categorical: Sequence[str] = (),
) -> MicrodataUtility:
    """Distortion measures between an original table and its DP microdata release.

    Parameters
    ----------
    original, released : pandas.DataFrame
        Same rows in the same order.
    numeric : sequence of str
        Numeric columns given per-record noise.
    categorical : sequence of str
        Columns given randomized response.

    Returns
    -------
    MicrodataUtility
        Error measures; ``nan`` where a measure has nothing to measure (with a warning).

    Raises
    ------
    InvalidParameterError
        If the row counts differ, no column is given, or a column is given twice.
    ColumnError
        If a column is missing from ``original``, or a numeric one is not numeric.

    Notes
    -----
    With ``e = released − original`` over the numeric cells where both are present (pairs
    with a missing value are skipped): ``MAE = mean|e|`` and ``RMSE = sqrt(mean e²)``,
    pooled over the columns, so in their units; relative error ``MAE_j / mean|x_j|``
    averaged over the columns (unit-free); total-variation distance
    ``½ Σ_v |share_orig(v) − share_released(v)|`` averaged over the categorical columns,
    with missing values a category of their own; and for each of Pearson, Spearman and
    Kendall τ-b the mean of ``|ρ_orig − ρ_released|`` over the off-diagonal entries of the
    numeric columns' matrices (pairwise-complete; entries undefined in either are skipped).

    References
    ----------
    .. [HDW12] Hundepool, A. et al. "Statistical Disclosure Control." Wiley 2012, ch. 3
       (information-loss measures for microdata).

    >>> a = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> microdata_utility(a, a + 1, numeric=["x"]).mae
    1.0
    """
    if len(original) != len(released):
        raise InvalidParameterError(
            f"original and released tables must have the same rows; got {len(original)} and "
            f"{len(released)}."
        )
    ref = _reference(original, numeric, categorical)
    check_frame(released, what="the released table")
    missing = [c for c in (*ref.numeric, *ref.categorical) if c not in released.columns]
    if missing:
        raise ColumnError(
            f"{len(missing)} column(s) missing from the released table: "
            f"{', '.join(map(repr, missing))}."
        )
    return _compare(ref, released)


@dataclass(frozen=True, slots=True, kw_only=True)
class MicrodataCurve:
    """Simulated utility of a DP microdata release against ε (a seeded preview)."""

    #: One row per ε: ``epsilon, mae, rmse, relative_error, tv_distance, pearson,
    #: spearman, kendall``.
    table: pd.DataFrame
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    #: Rows the simulation used (a uniform random sample when below ``rows_total``).
    rows_used: int
    rows_total: int
    warnings: tuple[str, ...] = ()

    @property
    def sampled(self) -> bool:
        """True when the curve comes from a row sample rather than the whole table."""
        return self.rows_used < self.rows_total


def microdata_utility_curve(
    df: pd.DataFrame,
    *,
    bounds: dict[str, tuple[float, float]],
    categorical: Sequence[str] = (),
    epsilons: Sequence[float] = (0.1, 0.3, 1.0, 3.0, 10.0),
    sample_rows: int = MICRODATA_SAMPLE_ROWS,
    seed: int = 0,
) -> MicrodataCurve:
    """Simulated utility of a DP microdata release at several ε (seeded: a simulation).

    Each numeric column in ``bounds`` is released as :func:`core.dp.noisy_numeric_column`
    (clamp to ``[L, U]``, Laplace noise of scale ``(U − L)/ε`` per record); each
    categorical column as :func:`core.dp.randomized_response`. The measures of
    :func:`microdata_utility` are then taken between the table and the simulated release.

    Parameters
    ----------
    df : pandas.DataFrame
        The data. Above ``sample_rows`` rows, a uniform random sample of ``sample_rows``
        rows (without replacement, seeded) stands in for it, so the cost does not grow with
        the table.
    bounds : dict
        Numeric column -> public ``(lower, upper)``.
    categorical : sequence of str
        Columns for randomized response; the categories are those of the sample (for a
        preview; a real release needs a public list).
    epsilons : sequence of float
        ε per column and record, each in ``[EPSILON_MIN, EPSILON_MAX]``.
    sample_rows : int
        Row cap, at least 2.
    seed : int
        Seed of the sample and of the simulated noise (NumPy: never a release).

    Returns
    -------
    MicrodataCurve
        The measures per ε, the sample size and the measures' warnings.

    Raises
    ------
    InvalidParameterError
        For an empty table, no columns, no or out-of-range ε, bad bounds, a sample cap
        below 2, or a categorical column with fewer than 2 categories in the sample.
    ColumnError
        For a missing column or a non-numeric column with bounds.

    Notes
    -----
    Common random numbers: each column draws the same uniforms at every ε, so the curve's
    changes come from ε and not from a new simulation at each point (a record kept by
    randomized response at one ε is kept at every larger ε). The measures are those of
    :func:`microdata_utility`; on a sample they estimate the whole table's values with a
    sampling error of order ``1/sqrt(rows_used)``.

    >>> df = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) ** 2})
    >>> out = microdata_utility_curve(df, bounds={"a": (0, 50), "b": (0, 2500)},
    ...                               epsilons=[1.0, 10.0])
    >>> bool(out.table["mae"].iloc[0] > out.table["mae"].iloc[1]), out.sampled
    (True, False)
    """
    if len(df) == 0:
        raise InvalidParameterError(
            "the table has 0 rows; load a dataset with data rows before simulating a release."
        )
    if int(sample_rows) < 2:
        raise InvalidParameterError(
            f"sample_rows must be at least 2; got {sample_rows}. Use a few thousand rows."
        )
    eps_list = [dp.check_epsilon(float(e)) for e in epsilons]
    if not eps_list:
        raise InvalidParameterError("give at least one epsilon; got none.")
    numeric, cat = tuple(bounds), tuple(categorical)
    _check_columns(df, numeric, cat)
    checked = {c: dp.check_bounds(*bounds[c]) for c in numeric}
    n_total = len(df)
    if n_total > sample_rows:
        rows = np.sort(np.random.default_rng(seed).choice(n_total, size=sample_rows, replace=False))
        sample = df.iloc[rows]
    else:
        sample = df
    sample = sample[[*numeric, *cat]]
    ref = _reference(sample, numeric, cat)
    categories = {
        c: tuple(sorted(pd.unique(sample[c].astype("string").fillna("<NA>").to_numpy(object))))
        for c in cat
    }
    warns: list[str] = []
    for c in numeric:
        lo, hi = checked[c]
        _, n_missing, n_clipped = dp.clamp(sample[c], lo, hi)
        if n_clipped:
            warns.append(
                f"{n_clipped} of {len(sample) - n_missing} values of '{c}' lie outside its "
                "bounds and are clamped; the errors include that bias."
            )
    # one seed sequence per column, reused at every ε (common random numbers)
    children = np.random.SeedSequence(seed).spawn(len(numeric) + len(cat))
    table_rows = []
    for e in eps_list:
        released = sample.copy()
        for c, child in zip(numeric, children, strict=False):
            lo, hi = checked[c]
            released[c] = dp.noisy_numeric_column(
                sample[c], epsilon=e, lower=lo, upper=hi, source=np.random.default_rng(child)
            ).values.to_numpy()
        for c, child in zip(cat, children[len(numeric) :], strict=True):
            released[c] = dp.randomized_response(
                sample[c],
                epsilon=e,
                categories=categories[c],
                source=np.random.default_rng(child),
            ).values.to_numpy()
        u = _compare(ref, released)
        warns.extend(u.warnings)
        table_rows.append(
            {
                "epsilon": e,
                "mae": u.mae,
                "rmse": u.rmse,
                "relative_error": u.relative_error,
                "tv_distance": u.tv_distance,
                **{m: u.corr_change.get(m, float("nan")) for m in CORR_METHODS},
            }
        )
    return MicrodataCurve(
        table=pd.DataFrame(table_rows),
        numeric=numeric,
        categorical=cat,
        rows_used=len(sample),
        rows_total=n_total,
        warnings=tuple(dict.fromkeys(warns)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Overlay:
    """Original distribution and one **simulated** noisy release of it (a preview)."""

    labels: tuple[str, ...]
    original: np.ndarray
    noisy: np.ndarray
    description: str


def numeric_overlay(
    values: np.ndarray,
    *,
    epsilon: float,
    lower: float,
    upper: float,
    bins: int = 40,
    seed: int = 0,
) -> Overlay:
    """Histogram of clamped values and of one simulated per-record Laplace release.

    Parameters
    ----------
    values : numpy.ndarray
        Clamped, non-missing values (see :func:`core.dp.clamp`).
    epsilon : float
        ε of the per-record noise (scale ``(U − L)/ε``).
    lower, upper : float
        Public bounds; the histogram spans them, noisy values outside are counted in the
        end bins.
    bins : int
        Number of bins.
    seed : int
        Seed of the simulation (NumPy: a preview, never a release).

    Returns
    -------
    Overlay
        Counts per bin for both.

    >>> o = numeric_overlay(np.array([1.0, 2.0, 3.0]), epsilon=1.0, lower=0, upper=4, bins=2)
    >>> o.original.tolist()
    [1, 2]
    """
    lo, hi = dp.check_bounds(lower, upper)
    dp.check_epsilon(epsilon)
    noisy = laplace_on_grid(values, sensitivity=hi - lo, epsilon=epsilon, source=seed).values
    width = (hi - lo) / bins

    def counts(x: np.ndarray) -> np.ndarray:
        idx = np.clip(((x - lo) / width).astype(np.int64), 0, bins - 1)
        return np.bincount(idx, minlength=bins)

    edges = np.linspace(lo, hi, bins + 1)
    return Overlay(
        labels=tuple(f"{edges[i]:.4g}" for i in range(bins)),
        original=counts(values),
        noisy=counts(noisy),
        description=f"per-record Laplace noise, scale {(hi - lo) / epsilon:.4g} (simulation)",
    )
