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
from collections.abc import Sequence
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
from core.errors import InvalidParameterError
from core.limits import EPSILON_MAX, EPSILON_MIN

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

    count, histogram, quantile and mode: 1; sum: ``max(|L|, |U|)``; mean: ``(U − L)/n``.

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
        Discrete Laplace: the smallest ε with integer half-width ``<= target``, from
        ``2 q^(H+1)/(1+q) = 0.05``. Discrete Gaussian: bisection on ε (smallest ε with
        half-width ``<= target``).

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
        eps = sensitivity * -math.log(q)
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


def _out_of_range(target: float, eps: float) -> InvalidParameterError:
    return InvalidParameterError(
        f"a half-width of ±{target:g} needs epsilon of about {eps:.3g}, outside the supported "
        f"range [{EPSILON_MIN}, {EPSILON_MAX}]. Ask for a "
        + ("wider" if eps > EPSILON_MAX else "narrower")
        + " interval."
    )


# --- microdata utility ----------------------------------------------------------------------


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


def _mean_offdiag_change(a: pd.DataFrame, b: pd.DataFrame) -> float:
    m = a.shape[0]
    if m < 2:
        return float("nan")
    mask = ~np.eye(m, dtype=bool)
    return float(np.nanmean(np.abs(a.to_numpy() - b.to_numpy())[mask]))


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
        Columns given per-record noise.
    categorical : sequence of str
        Columns given randomized response.

    Returns
    -------
    MicrodataUtility
        MAE and RMSE over all numeric cells (NA pairs skipped); relative error
        ``MAE_j / mean|x_j|`` averaged over columns; TV distance
        ``½ Σ |share_orig − share_released|`` averaged over categorical columns; mean absolute
        change of the Pearson, Spearman and Kendall matrices over the numeric columns
        (pairwise-complete, off-diagonal entries).

    Raises
    ------
    InvalidParameterError
        If the row counts differ or no column is given.

    >>> a = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    >>> microdata_utility(a, a + 1, numeric=["x"]).mae
    1.0
    """
    if len(original) != len(released):
        raise InvalidParameterError(
            f"original and released tables must have the same rows; got {len(original)} and "
            f"{len(released)}."
        )
    if not numeric and not categorical:
        raise InvalidParameterError("give at least one numeric or categorical column.")
    warns: list[str] = []
    errs, rel = [], []
    for c in numeric:
        x = original[c].to_numpy(dtype=np.float64, na_value=np.nan)
        y = released[c].to_numpy(dtype=np.float64, na_value=np.nan)
        d = (y - x)[~(np.isnan(x) | np.isnan(y))]
        errs.append(d)
        scale = float(np.nanmean(np.abs(x))) if d.size else 0.0
        if scale > 0:
            rel.append(float(np.abs(d).mean()) / scale)
        else:
            warns.append(f"'{c}' has mean absolute value 0; no relative error for it.")
    all_err = np.concatenate(errs) if errs else np.array([])
    tvs = []
    for c in categorical:
        p = original[c].astype("string").fillna("<NA>").value_counts(normalize=True)
        r = released[c].astype("string").fillna("<NA>").value_counts(normalize=True)
        p, r = p.align(r, fill_value=0.0)
        tvs.append(0.5 * float(np.abs(p - r).sum()))
    corr: dict[str, float] = {}
    if len(numeric) >= 2:
        for method in ("pearson", "spearman", "kendall"):
            corr[method] = _mean_offdiag_change(
                original[list(numeric)].corr(method=method),
                released[list(numeric)].corr(method=method),
            )
    return MicrodataUtility(
        mae=float(np.abs(all_err).mean()) if all_err.size else float("nan"),
        rmse=float(np.sqrt((all_err**2).mean())) if all_err.size else float("nan"),
        relative_error=float(np.mean(rel)) if rel else float("nan"),
        tv_distance=float(np.mean(tvs)) if tvs else float("nan"),
        corr_change=corr,
        warnings=tuple(warns),
    )


def microdata_utility_curve(
    df: pd.DataFrame,
    *,
    bounds: dict[str, tuple[float, float]],
    categorical: Sequence[str] = (),
    epsilons: Sequence[float] = (0.1, 0.3, 1.0, 3.0, 10.0),
    sample_rows: int = 2_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated utility of a DP microdata release at several ε (seeded: a simulation).

    Parameters
    ----------
    df : pandas.DataFrame
        The data; at most ``sample_rows`` rows (a seeded sample) are used so the Kendall
        matrix stays fast.
    bounds : dict
        Numeric column -> (lower, upper) for per-record Laplace noise.
    categorical : sequence of str
        Columns for randomized response (categories from the data; a preview only).
    epsilons : sequence of float
        ε per column and record.
    sample_rows : int
        Row cap.
    seed : int
        Seed of the simulation.

    Returns
    -------
    pandas.DataFrame
        One row per ε with columns ``epsilon, mae, rmse, relative_error, tv_distance,
        pearson, spearman, kendall``.

    >>> df = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) ** 2})
    >>> out = microdata_utility_curve(df, bounds={"a": (0, 50), "b": (0, 2500)},
    ...                               epsilons=[1.0, 10.0])
    >>> bool(out["mae"].iloc[0] > out["mae"].iloc[1])
    True
    """
    sample = df.sample(n=min(sample_rows, len(df)), random_state=seed) if len(df) else df
    numeric = list(bounds)
    rows = []
    for i, e in enumerate(epsilons):
        rel = sample.copy()
        for j, c in enumerate(numeric):
            lo, hi = bounds[c]
            rel[c] = dp.noisy_numeric_column(
                sample[c], epsilon=e, lower=lo, upper=hi, source=seed * 1000 + 10 * i + j + 1
            ).values
        for j, c in enumerate(categorical):
            rel[c] = dp.randomized_response(
                sample[c], epsilon=e, source=seed * 1000 + 10 * i + j + 500
            ).values
        u = microdata_utility(sample, rel, numeric=numeric, categorical=categorical)
        rows.append(
            {
                "epsilon": float(e),
                "mae": u.mae,
                "rmse": u.rmse,
                "relative_error": u.relative_error,
                "tv_distance": u.tv_distance,
                **{
                    m: u.corr_change.get(m, float("nan"))
                    for m in ("pearson", "spearman", "kendall")
                },
            }
        )
    return pd.DataFrame(rows)


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
