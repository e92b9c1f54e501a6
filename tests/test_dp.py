"""Calibration, half-widths, randomized response, exponential mechanism and private queries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from core import dp
from core.dp_sampling import NumpyRandom, discrete_gaussian
from core.errors import ColumnError, InvalidParameterError, PrivLensError


def delta_reference(sigma: float, eps: float, sens: float) -> float:
    """Balle & Wang (2018) Theorem 8, written with scipy.stats.norm."""
    return stats.norm.cdf(sens / (2 * sigma) - eps * sigma / sens) - math.exp(eps) * stats.norm.cdf(
        -sens / (2 * sigma) - eps * sigma / sens
    )


@pytest.mark.parametrize(
    ("eps", "delta", "sens"),
    [
        (1.0, 1e-5, 1.0),  # the published example: sigma ~ 3.7306
        (0.1, 1e-6, 1.0),  # small epsilon
        (5.0, 1e-8, 3.0),  # large epsilon, larger sensitivity
        (0.01, 1e-12, 0.5),  # range ends
        (10.0, 0.1, 2.0),
    ],
)
def test_analytic_gaussian_matches_scipy_root(eps, delta, sens):
    sigma = dp.analytic_gaussian_sigma(epsilon=eps, delta=delta, sensitivity=sens)
    root = optimize.brentq(
        lambda s: delta_reference(s, eps, sens) - delta, 1e-4, 1e6, xtol=1e-15, rtol=1e-14
    )
    assert sigma == pytest.approx(root, rel=1e-5)
    assert delta_reference(sigma, eps, sens) <= delta * (1 + 1e-6)


def test_analytic_gaussian_published_value():
    sigma = dp.analytic_gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)
    assert sigma == pytest.approx(3.7306, abs=5e-5)


def test_classic_formula_is_labelled_comparison_only():
    classic = dp.classic_gaussian_sigma(epsilon=0.5, delta=1e-5, sensitivity=1.0)
    assert classic == pytest.approx(math.sqrt(2 * math.log(1.25 / 1e-5)) / 0.5)
    assert classic > dp.analytic_gaussian_sigma(epsilon=0.5, delta=1e-5, sensitivity=1.0)
    with pytest.raises(InvalidParameterError, match="only holds for epsilon < 1"):
        dp.classic_gaussian_sigma(epsilon=1.0, delta=1e-5, sensitivity=1.0)


def cks_delta(sigma: float, eps: float) -> float:
    """Canonne, Kamath & Steinke (2020) Thm 7 for sensitivity 1:
    P[Y > eps sigma^2 - 1/2] - e^eps P[Y > eps sigma^2 + 1/2], Y ~ N_Z(0, sigma^2)."""
    k = np.arange(-int(60 * sigma) - 50, int(60 * sigma) + 51)
    p = np.exp(-(k**2) / (2 * sigma**2))
    p /= p.sum()
    m = eps * sigma**2
    return float(p[k > m - 0.5].sum() - math.exp(eps) * p[k > m + 0.5].sum())


@pytest.mark.parametrize(("sigma", "eps"), [(2.0, 0.5), (3.7, 1.0), (10.0, 0.2), (1.0, 3.0)])
def test_discrete_gaussian_delta_matches_cks_theorem(sigma, eps):
    assert dp.discrete_gaussian_delta(sigma, epsilon=eps, sensitivity=1) == pytest.approx(
        cks_delta(sigma, eps), rel=1e-9, abs=1e-15
    )


@pytest.mark.parametrize(("eps", "delta"), [(1.0, 1e-5), (0.1, 1e-6), (3.0, 1e-9)])
def test_discrete_gaussian_sigma_is_smallest(eps, delta):
    s = dp.discrete_gaussian_sigma(epsilon=eps, delta=delta)
    assert cks_delta(s, eps) <= delta * (1 + 1e-6)
    assert cks_delta(s * (1 - 1e-6), eps) > delta * (1 - 1e-3)


@pytest.mark.parametrize("b", [0.3, 1.0, 7.5])
def test_laplace_half_width_coverage(b):
    h = dp.laplace_half_width(b)
    assert stats.laplace.cdf(h, scale=b) - stats.laplace.cdf(-h, scale=b) == pytest.approx(0.95)


def test_gaussian_half_width_coverage():
    assert dp.gaussian_half_width(2.0) == pytest.approx(2.0 * stats.norm.ppf(0.975))


def dlap_coverage(h: int, t: float) -> float:
    q = math.exp(-1 / t)
    k = np.arange(-h, h + 1)
    return float(((1 - q) / (1 + q) * q ** np.abs(k)).sum())


@pytest.mark.parametrize("t", [0.2, 1.0, 1 / 0.3, 10.0, 100.0])
def test_discrete_laplace_half_width_is_exact(t):
    h = dp.discrete_laplace_half_width(t)
    assert dlap_coverage(h, t) >= 0.95
    if h > 0:
        assert dlap_coverage(h - 1, t) < 0.95


def test_continuous_half_width_under_covers_integer_noise():
    t = 1.0  # count with epsilon 1
    assert dlap_coverage(math.floor(t * math.log(20)), t) < 0.95
    assert dp.discrete_laplace_half_width(t) > math.floor(t * math.log(20))


@pytest.mark.parametrize("sigma", [0.7, 3.0, 40.0])
def test_discrete_gaussian_half_width_is_exact(sigma):
    h = dp.discrete_gaussian_half_width(sigma)
    k = np.arange(-int(60 * sigma) - 20, int(60 * sigma) + 21)
    p = np.exp(-(k**2) / (2 * sigma**2))
    p /= p.sum()
    assert p[np.abs(k) <= h].sum() >= 0.95
    assert h == 0 or p[np.abs(k) <= h - 1].sum() < 0.95


def test_discrete_gaussian_half_width_matches_simulation():
    sigma = 3.0
    draws = discrete_gaussian(200_000, sigma=sigma, source=NumpyRandom(0))
    h = dp.discrete_gaussian_half_width(sigma)
    assert np.mean(np.abs(draws) <= h) >= 0.945


# --- randomized response -----------------------------------------------------------------


@pytest.mark.parametrize(("eps", "k"), [(math.log(3), 2), (1.0, 5), (0.1, 10), (8.0, 3)])
def test_rr_probabilities(eps, k):
    p = dp.rr_keep_probability(epsilon=eps, k=k)
    q = (1 - p) / (k - 1)
    assert p == pytest.approx(math.exp(eps) / (math.exp(eps) + k - 1))
    assert p / q == pytest.approx(math.exp(eps))  # exactly e^eps: the local DP guarantee


def test_rr_empirical_transition_matrix():
    eps, cats = 1.0, ["a", "b", "c", "d"]
    n = 100_000
    true = pd.Series(np.repeat(cats, n // 4))
    out = dp.randomized_response(true, epsilon=eps, categories=cats, source=3)
    p = dp.rr_keep_probability(epsilon=eps, k=4)
    table = pd.crosstab(true, out.values, normalize="index").to_numpy()
    expected = np.full((4, 4), (1 - p) / 3)
    np.fill_diagonal(expected, p)
    assert np.abs(table - expected).max() < 0.015
    # privacy loss: for each output, the ratio of rows is within e^eps (up to sampling error)
    assert (table.max(axis=0) / table.min(axis=0)).max() < math.exp(eps) * 1.1
    assert out.secure is False


def test_rr_secure_default_and_missing_as_a_declared_category():
    out = dp.randomized_response(
        pd.Series(["x", "y", None]), epsilon=1.0, categories=["x", "y", "<NA>"]
    )
    assert out.secure is True
    assert "<NA>" in out.categories and not out.warnings


def test_rr_estimator_unbiased_and_variance():
    eps, cats = 0.7, ["a", "b", "c"]
    pi = np.array([0.6, 0.3, 0.1])
    n = 600
    true = pd.Series(np.repeat(cats, (pi * n).astype(int)))
    rng = np.random.default_rng(42)
    ests, var_hat = [], []
    for _ in range(1500):
        rep = dp.randomized_response(true, epsilon=eps, categories=cats, source=rng)
        e = dp.rr_frequency_estimate(rep.values, epsilon=eps, categories=cats)
        ests.append(e.frequencies)
        var_hat.append(e.variances)
    ests = np.array(ests)
    se = ests.std(axis=0) / math.sqrt(len(ests))
    assert np.all(np.abs(ests.mean(axis=0) - pi) < 4 * se)  # unbiased
    assert np.asarray(var_hat).mean(axis=0) == pytest.approx(ests.var(axis=0), rel=0.12)


def test_rr_rejects_unknown_category_without_showing_it():
    with pytest.raises(InvalidParameterError) as info:
        dp.randomized_response(pd.Series(["secret-value"]), epsilon=1.0, categories=["a", "b"])
    assert "secret-value" not in str(info.value)


# --- exponential mechanism ---------------------------------------------------------------


def test_exponential_mechanism_frequencies_match_probabilities():
    scores = np.array([0.0, -1.0, -2.0, -5.0])
    probs = dp.exponential_probabilities(scores, epsilon=1.0)
    src = NumpyRandom(7)
    picks = np.array(
        [dp._exponential_choice(scores, epsilon=1.0, source=src) for _ in range(20_000)]
    )
    observed = np.bincount(picks, minlength=4)
    assert stats.chisquare(observed, probs * picks.size).pvalue > 1e-3


def test_quantile_mechanism_privacy_loss_exact():
    """Neighbouring datasets (one record added): every output's probability ratio <= e^eps."""
    eps = 0.8
    rng = np.random.default_rng(1)
    data = np.sort(rng.uniform(0, 100, 200))
    neighbour = np.sort(np.append(data, 3.0))
    grid = np.linspace(0, 100, 101)
    for q in (0.1, 0.5, 0.9):
        p1 = dp.exponential_probabilities(dp.quantile_scores(data, grid, q), epsilon=eps)
        p2 = dp.exponential_probabilities(dp.quantile_scores(neighbour, grid, q), epsilon=eps)
        assert np.max(np.abs(np.log(p1 / p2))) <= eps + 1e-9


def test_quantile_rank_error_bound_holds():
    df = pd.DataFrame({"x": np.arange(1000.0)})
    eps = 0.5
    rng = np.random.default_rng(3)
    outs = np.array(
        [
            dp.dp_quantile(df, "x", epsilon=eps, lower=0, upper=1000, source=rng).value
            for _ in range(300)
        ]
    )
    rank_err = np.abs(outs - 500)  # value = rank here
    bound = dp.exponential_rank_half_width(epsilon=eps, candidates=dp.QUANTILE_GRID)
    assert np.mean(rank_err <= bound + 1) >= 0.95


def test_dp_mode_prefers_the_mode():
    df = pd.DataFrame({"c": ["a"] * 300 + ["b"] * 100 + ["c"] * 5})
    picks = [
        dp.dp_mode(df, "c", epsilon=0.5, categories=["a", "b", "c"], source=s).value
        for s in range(50)
    ]
    assert picks.count("a") == 50


# --- queries -----------------------------------------------------------------------------


@pytest.fixture
def people():
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "age": np.r_[rng.integers(17, 91, 997), [150, -4], np.nan],
            "job": rng.choice(["a", "b", "c"], 1000),
        }
    )


def test_sensitivities_and_neighbours(people):
    kw = dict(epsilon=1.0, source=0)
    assert dp.dp_count(people, "age", **kw).sensitivity == 1
    s = dp.dp_sum(people, "age", lower=0, upper=90, **kw)
    assert s.sensitivity == 90 and s.neighbours == dp.ADD_REMOVE
    m = dp.dp_mean(people, "age", lower=0, upper=100, **kw)
    # the centred sum (U - L)/2 over a noisy count, both under add/remove
    assert m.sensitivity == 50 and m.neighbours == dp.ADD_REMOVE
    h = dp.dp_histogram(people, "job", categories=["a", "b", "c"], **kw)
    assert h.sensitivity == 1 and h.labels == ("a", "b", "c")
    # the result says clamping happened in general, with no exact count
    assert s.warnings == (dp.CLAMP_NOTE,)


def test_count_noise_is_centred_on_truth(people):
    vals = np.array([dp.dp_count(people, "age", epsilon=1.0, source=s).value for s in range(400)])
    assert abs(vals.mean() - 999) < 4 * math.sqrt(2) / math.sqrt(400) * 3
    assert np.all(vals == np.rint(vals))


def test_mean_gaussian_uses_analytic_sigma_for_half_the_budget(people):
    r = dp.dp_mean(
        people, "age", epsilon=1.0, lower=0, upper=100, mechanism="gaussian", delta=1e-6, source=0
    )
    # the centred sum gets (eps/2, delta/2); sigma calibrated for the grid-adjusted sensitivity
    ref = dp.analytic_gaussian_sigma(epsilon=0.5, delta=5e-7, sensitivity=50.0)
    assert r.scale == pytest.approx(ref, rel=1e-9)
    assert r.scale >= ref
    assert r.delta == 1e-6 and r.half_width <= 100


def test_histogram_discrete_gaussian(people):
    r = dp.dp_histogram(
        people,
        "age",
        lower=0,
        upper=100,
        bins=10,
        epsilon=1.0,
        mechanism="discrete_gaussian",
        delta=1e-6,
        source=1,
    )
    assert len(r.value) == 10 and r.delta == 1e-6
    true, _, _ = dp.histogram_counts(people, "age", lower=0, upper=100, bins=10)
    assert true.sum() == 999


def test_secure_flag_is_true_by_default(people):
    assert dp.dp_sum(people, "age", epsilon=1.0, lower=0, upper=100).secure is True


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(query="sum", epsilon=0.0, lower=0, upper=1), InvalidParameterError, "epsilon must"),
        (dict(query="sum", epsilon=1.0, lower=5, upper=1), InvalidParameterError, "bounds must"),
        (dict(query="sum", epsilon=1.0), InvalidParameterError, "needs lower and upper"),
        (
            dict(query="mean", epsilon=1.0, lower=0, upper=1, mechanism="gaussian", delta=0.0),
            InvalidParameterError,
            "delta must",
        ),
        (
            dict(query="count", epsilon=1.0, mechanism="laplace"),
            InvalidParameterError,
            "not available",
        ),
        (dict(query="median", epsilon=1.0), InvalidParameterError, "unknown query"),
    ],
)
def test_bad_parameters(people, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        dp.release(people, "age", **kwargs)


def test_column_errors(people):
    with pytest.raises(ColumnError, match="not in the dataset"):
        dp.dp_count(people, "nope", epsilon=1.0)
    with pytest.raises(ColumnError, match="not numeric"):
        dp.dp_sum(people, "job", epsilon=1.0, lower=0, upper=1)
    with pytest.raises(PrivLensError, match="not numeric"):
        dp.clamp(people["job"], 0, 1)


def test_noisy_numeric_column(people):
    out = dp.noisy_numeric_column(people["age"], epsilon=2.0, lower=0, upper=100, source=5)
    assert len(out.values) == len(people) and out.values.isna().sum() == 1
    assert out.scale == pytest.approx(50.0, rel=1e-9)
    resid = out.values.to_numpy()[:997] - people["age"].to_numpy()[:997]
    assert stats.kstest(resid, "laplace", args=(0, 50.0)).pvalue > 1e-3


def test_sum_sensitivity_uses_largest_absolute_bound(people):
    assert dp.dp_sum(people, "age", epsilon=1.0, lower=-120, upper=90, source=0).sensitivity == 120
