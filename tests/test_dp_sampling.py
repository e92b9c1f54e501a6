"""Distribution tests of the release samplers (KS for continuous, chi-square for integer)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from core.dp_sampling import (
    NumpyRandom,
    SystemRandom,
    adjusted_sensitivity,
    discrete_gaussian,
    discrete_laplace,
    gaussian_on_grid,
    granularity_for,
    laplace_on_grid,
    resolve_source,
    uniform,
)
from core.errors import InvalidParameterError

P_MIN = 1e-3  # seeded tests: deterministic, so this only has to hold for the fixed seeds


def dlap_pmf(k: np.ndarray, t: float) -> np.ndarray:
    q = math.exp(-1.0 / t)
    return (1 - q) / (1 + q) * q ** np.abs(k)


def dgauss_pmf(k: np.ndarray, sigma: float) -> np.ndarray:
    support = np.arange(-int(50 * sigma) - 20, int(50 * sigma) + 21)
    norm = np.exp(-(support**2) / (2 * sigma**2)).sum()
    return np.exp(-(k**2) / (2 * sigma**2)) / norm


def chi2_integer(draws: np.ndarray, pmf, lo: int, hi: int) -> float:
    """Chi-square p-value with the tails pooled below lo and above hi."""
    ks = np.arange(lo, hi + 1)
    p = pmf(ks)
    observed = np.concatenate(
        [[(draws < lo).sum()], [(draws == k).sum() for k in ks], [(draws > hi).sum()]]
    )
    expected = np.concatenate([[0.5 * (1 - p.sum())], p, [0.5 * (1 - p.sum())]]) * draws.size
    return float(stats.chisquare(observed, expected).pvalue)


def test_system_random_is_the_default_and_secure():
    assert resolve_source(None).secure is True
    assert isinstance(resolve_source(None), SystemRandom)
    assert resolve_source(np.random.default_rng(1)).secure is False


def test_system_random_words_are_uniform_bits():
    w = SystemRandom().words(200_000)
    bits = ((w[:, None] >> np.arange(64, dtype=np.uint64)) & np.uint64(1)).mean(axis=0)
    assert np.all(np.abs(bits - 0.5) < 0.006)  # 5.4 standard errors
    assert len(np.unique(SystemRandom().words(1000))) == 1000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uniform_is_uniform(seed):
    u = uniform(200_000, source=NumpyRandom(seed))
    assert stats.kstest(u, "uniform").pvalue > P_MIN


def test_uniform_small_values_have_fine_resolution():
    u = uniform(4_000_000, source=NumpyRandom(5))
    small = u[u <= 2.0**-12]
    # redrawn values: their conditional law is uniform on (0, 2**-12]
    assert stats.kstest(small * 2.0**12, "uniform").pvalue > P_MIN
    # and they are not confined to the coarse 2**-53 grid
    assert np.any((small / 2.0**-53) % 1 != 0)


@pytest.mark.parametrize("t", [0.5, 2.0, 10.0])
def test_discrete_laplace_chi_square(t):
    draws = discrete_laplace(300_000, scale=t, source=NumpyRandom(11))
    span = int(4 * t) + 2
    assert chi2_integer(draws, lambda k: dlap_pmf(k, t), -span, span) > P_MIN


def test_discrete_laplace_secure_source_chi_square():
    draws = discrete_laplace(300_000, scale=3.0, source=SystemRandom())
    assert chi2_integer(draws, lambda k: dlap_pmf(k, 3.0), -14, 14) > 1e-6


@pytest.mark.parametrize("sigma", [0.8, 3.0, 25.0])
def test_discrete_gaussian_chi_square(sigma):
    draws = discrete_gaussian(300_000, sigma=sigma, source=NumpyRandom(12))
    span = int(3.5 * sigma) + 1
    assert chi2_integer(draws, lambda k: dgauss_pmf(k, sigma), -span, span) > P_MIN


def test_chi_square_detects_a_wrong_scale():
    """The test above can fail: noise of scale 2.2 is rejected as scale 2."""
    draws = discrete_laplace(300_000, scale=2.2, source=NumpyRandom(11))
    assert chi2_integer(draws, lambda k: dlap_pmf(k, 2.0), -10, 10) < 1e-6


@pytest.mark.parametrize(("sens", "eps"), [(1.0, 1.0), (5.0, 0.1), (0.01, 7.0)])
def test_laplace_on_grid_ks_and_grid(sens, eps):
    out = laplace_on_grid(np.full(200_000, 3.3), sensitivity=sens, epsilon=eps, source=3)
    b = sens / eps
    assert out.scale == pytest.approx(b, rel=1e-9)
    assert out.scale >= b
    assert stats.kstest(out.values - 3.3, "laplace", args=(0, b)).pvalue > P_MIN
    steps = out.values / out.granularity
    assert np.all(steps == np.rint(steps))  # every output is on the power-of-two grid
    assert math.log2(out.granularity).is_integer()
    assert out.secure is False


def test_laplace_on_grid_secure_by_default_and_ks():
    out = laplace_on_grid(np.zeros(100_000), sensitivity=2.0, epsilon=0.5)
    assert out.secure is True
    assert stats.kstest(out.values, "laplace", args=(0, 4.0)).pvalue > 1e-6


def test_gaussian_on_grid_ks():
    g = granularity_for(3.0)
    out = gaussian_on_grid(np.full(200_000, -1.25), sigma=3.0, granularity=g, source=4)
    assert stats.kstest(out + 1.25, "norm", args=(0, 3.0)).pvalue > P_MIN
    assert np.all(out / g == np.rint(out / g))


def test_grid_outputs_do_not_reveal_low_bits_of_input():
    """Mironov's attack: with textbook noise, x + noise keeps x's low bits; on the grid the
    outputs for two nearby inputs lie on the same lattice."""
    a = laplace_on_grid(np.full(1000, 1.0), sensitivity=1, epsilon=1, source=1)
    b = laplace_on_grid(np.full(1000, 1.0 + 2.0**-45), sensitivity=1, epsilon=1, source=2)
    assert np.all(np.mod(a.values, a.granularity) == 0)
    assert np.all(np.mod(b.values, b.granularity) == 0)
    assert a.granularity == b.granularity


def test_adjusted_sensitivity_covers_rounding():
    g = 2.0**-3
    rng = np.random.default_rng(0)
    x = rng.uniform(-10, 10, 10_000)
    y = x + rng.uniform(-1, 1, 10_000)  # |x - y| <= 1
    diff = np.abs(np.rint(x / g) - np.rint(y / g)) * g
    assert diff.max() <= adjusted_sensitivity(1.0, g)


def empirical_loss_violation(a: np.ndarray, b: np.ndarray, bins: np.ndarray, eps: float) -> bool:
    """True if some bin's probability ratio is above e^eps with 99.9% confidence.

    Clopper-Pearson bounds per bin, Bonferroni over bins: the lower bound of P_a(bin) is
    compared with e^eps times the upper bound of P_b(bin), both ways.
    """
    ca, _ = np.histogram(a, bins)
    cb, _ = np.histogram(b, bins)
    alpha = 1e-3 / (2 * len(ca))
    na, nb = a.size, b.size
    for x, y in ((ca, cb), (cb, ca)):
        lo = stats.beta.ppf(alpha, x, na - x + 1)
        hi = stats.beta.ppf(1 - alpha, y + 1, nb - y)
        ok = x > 0
        if np.any(lo[ok] > math.exp(eps) * hi[ok]):
            return True
    return False


@pytest.mark.parametrize("seed", range(5))
def test_privacy_loss_discrete_laplace_within_epsilon(seed):
    eps = 1.0
    a = 10 + discrete_laplace(200_000, scale=1 / eps, source=NumpyRandom(seed))
    b = 11 + discrete_laplace(200_000, scale=1 / eps, source=NumpyRandom(seed + 100))
    assert not empirical_loss_violation(a, b, np.arange(0.5, 21.5), eps)


@pytest.mark.parametrize("seed", range(5))
def test_privacy_loss_laplace_on_grid_within_epsilon(seed):
    eps, sens = 0.5, 2.0
    a = laplace_on_grid(np.zeros(200_000), sensitivity=sens, epsilon=eps, source=seed).values
    b = laplace_on_grid(
        np.full(200_000, sens), sensitivity=sens, epsilon=eps, source=seed + 100
    ).values
    assert not empirical_loss_violation(a, b, np.linspace(-12, 14, 27), eps)


def test_privacy_loss_check_detects_too_little_noise():
    """The checker has power: noise sized for ε = 2 violates a claim of ε = 1."""
    a = 10 + discrete_laplace(200_000, scale=0.5, source=NumpyRandom(1))
    b = 11 + discrete_laplace(200_000, scale=0.5, source=NumpyRandom(2))
    assert empirical_loss_violation(a, b, np.arange(0.5, 21.5), 1.0)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), 2.0**46])
def test_bad_scale_raises(bad):
    with pytest.raises(InvalidParameterError, match="scale must be"):
        discrete_laplace(3, scale=bad, source=NumpyRandom(0))


def test_bad_epsilon_raises():
    with pytest.raises(InvalidParameterError, match="epsilon must be"):
        laplace_on_grid(np.zeros(2), sensitivity=1.0, epsilon=0.0)


def test_same_seed_same_noise():
    a = discrete_laplace(10, scale=3.0, source=NumpyRandom(9))
    b = discrete_laplace(10, scale=3.0, source=NumpyRandom(9))
    assert np.array_equal(a, b)


class _ZeroWords:
    """A source of all-zero words: every uniform takes the smallest value the code allows."""

    secure = False

    def words(self, n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.uint64)


def test_documented_uniform_floor_matches_the_code():
    import core.dp_sampling as mod

    u = uniform(3, source=_ZeroWords())
    floor = 2.0 ** -(53 + 12 * mod._UNIFORM_DEPTH)
    assert np.all(u == floor) and floor == 2.0**-125
    cap = -math.log(floor)
    assert round(cap, 1) == 86.6
    doc = " ".join(mod.__doc__.split())
    assert "2**-125" in doc and "86.6" in doc and "2**-72" in doc
    assert "capped at 64" not in doc and "44.4" not in doc
