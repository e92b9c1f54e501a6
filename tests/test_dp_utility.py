"""Utility against privacy: curves, accuracy inverse, attacker bounds, microdata metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core import dp, dp_utility, limits
from core.errors import ColumnError, InvalidParameterError


def test_epsilon_grid_spans_the_slider():
    g = dp_utility.epsilon_grid()
    assert g[0] == pytest.approx(0.01) and g[-1] == pytest.approx(10.0)
    assert np.all(np.diff(np.log(g)) == pytest.approx(np.log(g[1] / g[0])))


@pytest.mark.parametrize(
    ("mechanism", "scale", "reference"),
    [
        ("laplace", 2.0, stats.laplace(scale=2.0).expect(abs)),
        ("gaussian", 3.0, stats.halfnorm(scale=3.0).mean()),
    ],
)
def test_expected_error_continuous(mechanism, scale, reference):
    assert dp_utility.expected_abs_error(mechanism=mechanism, scale=scale) == pytest.approx(
        reference, rel=1e-6
    )


def test_expected_error_discrete_laplace_by_summation():
    t = 2.5
    q = math.exp(-1 / t)
    k = np.arange(-400, 401)
    ref = ((1 - q) / (1 + q) * q ** np.abs(k) * np.abs(k)).sum()
    assert dp_utility.expected_abs_error(mechanism="discrete_laplace", scale=t) == pytest.approx(
        ref
    )


def test_error_curve_laplace_band_and_monotone():
    c = dp_utility.error_curve(mechanism="laplace", sensitivity=2.0, simulations=20_000)
    assert np.all(np.diff(c.expected_error) < 0)
    assert c.expected_error == pytest.approx(2.0 / c.epsilons)
    # simulated 95th percentile of |error| agrees with the closed-form half-width
    assert c.band_high == pytest.approx(c.half_width, rel=0.05)
    assert np.all(c.band_low < c.expected_error)


def test_error_curve_discrete_gaussian_matches_calibration():
    eps = np.array([0.5, 2.0])
    c = dp_utility.error_curve(
        mechanism="discrete_gaussian", sensitivity=1.0, delta=1e-6, epsilons=eps, simulations=5000
    )
    for e, hw in zip(eps, c.half_width, strict=True):
        s = dp.discrete_gaussian_sigma(epsilon=float(e), delta=1e-6)
        assert hw == dp.discrete_gaussian_half_width(s)
    assert np.all(c.band_high <= c.half_width + 1)


def test_error_curve_exponential_is_rank_bound_only():
    c = dp_utility.error_curve(mechanism="exponential", sensitivity=1.0, epsilons=np.array([1.0]))
    assert c.expected_error is None and c.unit == "ranks"
    assert c.half_width[0] == pytest.approx(2 * (math.log(1001) + math.log(20)))


@pytest.mark.parametrize(
    ("mechanism", "target", "kw"),
    [
        ("laplace", 5.0, dict(sensitivity=3.0)),
        ("gaussian", 10.0, dict(sensitivity=1.0, delta=1e-6)),
        ("exponential", 40.0, dict(candidates=101)),
    ],
)
def test_accuracy_inverse_continuous(mechanism, target, kw):
    eps = dp_utility.epsilon_for_half_width(target, mechanism=mechanism, **kw)
    scale = dp_utility.noise_scale(
        mechanism=mechanism,
        epsilon=eps,
        sensitivity=kw.get("sensitivity", 1.0),
        delta=kw.get("delta", 0.0),
    )
    hw = dp_utility.half_width(
        mechanism=mechanism, scale=scale, epsilon=eps, candidates=kw.get("candidates", 2)
    )
    assert hw == pytest.approx(target, rel=1e-6)


@pytest.mark.parametrize(
    ("mechanism", "target"),
    [("discrete_laplace", 7.0), ("discrete_laplace", 30.4), ("discrete_gaussian", 12.0)],
)
def test_accuracy_inverse_integer_noise(mechanism, target):
    eps = dp_utility.epsilon_for_half_width(target, mechanism=mechanism, delta=1e-6)

    def hw(e: float) -> float:
        s = dp_utility.noise_scale(mechanism=mechanism, epsilon=e, sensitivity=1.0, delta=1e-6)
        return dp_utility.half_width(mechanism=mechanism, scale=s)

    assert hw(eps * (1 + 1e-9)) == math.floor(target)  # reaches the target ...
    assert hw(eps * (1 - 1e-3)) > math.floor(target)  # ... and no smaller epsilon does


def test_accuracy_inverse_out_of_range():
    with pytest.raises(InvalidParameterError, match="outside the supported range"):
        dp_utility.epsilon_for_half_width(0.001, mechanism="laplace")
    with pytest.raises(InvalidParameterError, match="must be positive"):
        dp_utility.epsilon_for_half_width(0.0, mechanism="laplace")


@pytest.mark.parametrize(("prior", "eps"), [(0.5, math.log(3)), (0.01, 1.0), (0.9, 0.1)])
def test_posterior_bound_is_bayes_with_likelihood_ratio_e_eps(prior, eps):
    ratio = math.exp(eps)
    odds = prior / (1 - prior) * ratio  # posterior odds = prior odds x likelihood ratio
    assert dp_utility.posterior_bound(prior, epsilon=eps) == pytest.approx(odds / (1 + odds))
    assert dp_utility.posterior_bound(prior, epsilon=0.0) == pytest.approx(prior)


def test_rr_guess_rate_empirical():
    cats = list("abcde")
    true = pd.Series(np.random.default_rng(0).choice(cats, 50_000))
    out = dp.randomized_response(true, epsilon=1.5, categories=cats, source=1)
    rate = float((out.values == true).mean())
    assert rate == pytest.approx(dp_utility.rr_guess_rate(epsilon=1.5, k=5), abs=0.01)


def test_microdata_utility_hand_example():
    a = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 1.0, 4.0, 3.0], "c": ["u", "u", "v", "w"]}
    )
    b = pd.DataFrame(
        {"x": [2.0, 2.0, 3.0, 2.0], "y": [2.0, 1.0, 4.0, 3.0], "c": ["u", "v", "v", "v"]}
    )
    u = dp_utility.microdata_utility(a, b, numeric=["x", "y"], categorical=["c"])
    # x errors 1,0,0,-2 ; y errors 0 -> 8 cells
    assert u.mae == pytest.approx(3 / 8)
    assert u.rmse == pytest.approx(math.sqrt(5 / 8))
    assert u.relative_error == pytest.approx(((3 / 4) / 2.5 + 0) / 2)
    # shares a: u .5 v .25 w .25 ; b: u .25 v .75 -> TV = .5 (.25 + .5 + .25)
    assert u.tv_distance == pytest.approx(0.5)
    ref = abs(a[["x", "y"]].corr().iloc[0, 1] - b[["x", "y"]].corr().iloc[0, 1])
    assert u.corr_change["pearson"] == pytest.approx(ref)
    same = dp_utility.microdata_utility(a, a, numeric=["x", "y"], categorical=["c"])
    assert same.mae == 0 and same.tv_distance == 0
    assert all(v == 0 for v in same.corr_change.values())


def test_microdata_curve_improves_with_epsilon():
    rng = np.random.default_rng(2)
    x = rng.normal(50, 10, 3000)
    df = pd.DataFrame(
        {"x": x, "y": x + rng.normal(0, 5, 3000), "c": rng.choice(["a", "b", "c"], 3000)}
    )
    out = dp_utility.microdata_utility_curve(
        df, bounds={"x": (0, 100), "y": (0, 100)}, categorical=["c"], epsilons=[0.1, 1, 10]
    )
    t = out.table
    assert list(t["epsilon"]) == [0.1, 1.0, 10.0]
    assert t["mae"].is_monotonic_decreasing
    assert t["tv_distance"].iloc[0] > t["tv_distance"].iloc[2]
    assert t["pearson"].iloc[0] > t["pearson"].iloc[2]
    assert out.rows_used == 3000 and not out.sampled


def test_query_sensitivity():
    assert dp_utility.query_sensitivity("mean", lower=0, upper=100, n=50) == 2.0
    with pytest.raises(InvalidParameterError):
        dp_utility.query_sensitivity("mean", lower=0, upper=100, n=0)


# --- microdata curve: reference values ------------------------------------------------------


def _normal_pair(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(50, 10, n)
    return pd.DataFrame({"x": x, "y": x + rng.normal(0, 5, n)})


def test_microdata_curve_mae_is_the_laplace_scale():
    # values far inside [0, 100]: no clamping, so |error| is |Laplace((U - L)/eps)|,
    # whose mean is b and root mean square sqrt(2) b
    df = _normal_pair(20_000, 3)
    eps = [0.5, 2.0, 10.0]
    out = dp_utility.microdata_utility_curve(
        df, bounds={"x": (0, 100), "y": (0, 100)}, epsilons=eps, sample_rows=20_000
    )
    b = 100 / np.array(eps)
    assert out.table["mae"].to_numpy() == pytest.approx(b, rel=0.03)
    assert out.table["rmse"].to_numpy() == pytest.approx(math.sqrt(2) * b, rel=0.04)
    mean_abs = df.abs().mean()
    rel = (b[:, None] / mean_abs.to_numpy()).mean(axis=1)
    assert out.table["relative_error"].to_numpy() == pytest.approx(rel, rel=0.03)


def test_microdata_curve_pearson_change_is_the_attenuation():
    # independent noise of variance 2b^2 attenuates rho by
    # sqrt(var x / (var x + 2b^2)) * sqrt(var y / (var y + 2b^2))  (Spearman 1904)
    df = _normal_pair(20_000, 4)
    eps = 10.0
    out = dp_utility.microdata_utility_curve(
        df, bounds={"x": (0, 100), "y": (0, 100)}, epsilons=[eps], sample_rows=20_000
    )
    noise_var = 2 * (100 / eps) ** 2
    vx, vy = 100.0, 125.0
    rho = 10 / math.sqrt(125)
    expected = rho * (1 - math.sqrt(vx / (vx + noise_var) * vy / (vy + noise_var)))
    assert out.table["pearson"].iloc[0] == pytest.approx(expected, abs=0.02)


def test_microdata_curve_tv_matches_randomized_response_shares():
    # E[released share of j] = p pi_j + q (1 - pi_j), so TV = q/2 * sum |1 - k pi_j|
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"c": rng.choice(["a", "b", "c"], 50_000, p=[0.6, 0.3, 0.1])})
    pi = df["c"].value_counts(normalize=True).to_numpy()
    eps = [0.3, 1.0, 3.0]
    out = dp_utility.microdata_utility_curve(
        df, bounds={}, categorical=["c"], epsilons=eps, sample_rows=50_000
    )
    for e, tv in zip(eps, out.table["tv_distance"], strict=True):
        p = dp.rr_keep_probability(epsilon=e, k=3)
        q = (1 - p) / 2
        assert tv == pytest.approx(q / 2 * np.abs(1 - 3 * pi).sum(), abs=0.01)
    assert out.table["mae"].isna().all()  # no numeric column


def test_microdata_curve_common_random_numbers_make_it_monotone():
    df = _normal_pair(3_000, 6).assign(c=np.random.default_rng(6).choice(list("abcd"), 3_000))
    out = dp_utility.microdata_utility_curve(
        df,
        bounds={"x": (0, 100), "y": (0, 100)},
        categorical=["c"],
        epsilons=dp_utility.epsilon_grid(13),
    )
    t = out.table
    assert t["mae"].is_monotonic_decreasing and t["rmse"].is_monotonic_decreasing
    assert t["tv_distance"].iloc[-1] < t["tv_distance"].iloc[0]
    # the same seed reproduces the simulation; another seed gives another one
    again = dp_utility.microdata_utility_curve(
        df,
        bounds={"x": (0, 100), "y": (0, 100)},
        categorical=["c"],
        epsilons=dp_utility.epsilon_grid(13),
    )
    pd.testing.assert_frame_equal(t, again.table)
    other = dp_utility.microdata_utility_curve(
        df,
        bounds={"x": (0, 100), "y": (0, 100)},
        categorical=["c"],
        epsilons=dp_utility.epsilon_grid(13),
        seed=1,
    )
    assert not np.allclose(t["mae"], other.table["mae"])


def test_microdata_curve_samples_large_tables_uniformly():
    n = 40_000
    df = pd.DataFrame({"x": np.arange(n, dtype=float)})
    out = dp_utility.microdata_utility_curve(
        df, bounds={"x": (0, n)}, epsilons=[1.0], sample_rows=2_000
    )
    assert out.sampled and out.rows_used == 2_000 and out.rows_total == n
    small = dp_utility.microdata_utility_curve(df.head(500), bounds={"x": (0, n)}, epsilons=[1.0])
    assert not small.sampled and small.rows_used == 500
    # the relative error is MAE / mean|x|: a uniform sample has mean|x| near (n - 1) / 2,
    # so the relative error sits near b / ((n - 1) / 2) (a biased sample would not)
    assert out.table["relative_error"].iloc[0] == pytest.approx(n / ((n - 1) / 2), rel=0.1)


def test_microdata_curve_missing_and_constant_columns_warn_not_crash():
    df = pd.DataFrame(
        {
            "x": [1.0, np.nan, 3.0, 4.0, 5.0, np.nan],
            "k": [7.0] * 6,
            "c": ["a", None, "b", "a", "b", "a"],
        }
    )
    out = dp_utility.microdata_utility_curve(
        df, bounds={"x": (0, 10), "k": (0, 10)}, categorical=["c"], epsilons=[1.0]
    )
    row = out.table.iloc[0]
    assert np.isfinite(row["mae"]) and np.isfinite(row["tv_distance"])
    assert np.isnan(row["pearson"])
    assert any("pearson correlation" in w for w in out.warnings)
    for w in out.warnings:  # warnings name columns and counts, never values
        assert "7.0" not in w


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        # no column at all
        (dict(bounds={}), InvalidParameterError, "at least one"),
        # a column that is not there
        (dict(bounds={"nope": (0, 1)}), ColumnError, "not in the table"),
        # a text column cannot get Laplace noise
        (dict(bounds={"c": (0, 1)}), ColumnError, "not numeric"),
        # the same column twice
        (dict(bounds={"x": (0, 1)}, categorical=["x"]), InvalidParameterError, "one treatment"),
        # epsilon outside the supported range
        (dict(bounds={"x": (0, 1)}, epsilons=[0.0]), InvalidParameterError, "epsilon must"),
        (dict(bounds={"x": (0, 1)}, epsilons=[]), InvalidParameterError, "at least one eps"),
        # bounds upside down
        (dict(bounds={"x": (5, 1)}), InvalidParameterError, "bound"),
        # a sample too small to compare anything
        (dict(bounds={"x": (0, 1)}, sample_rows=1), InvalidParameterError, "sample_rows"),
        # randomized response needs two categories
        (dict(bounds={}, categorical=["one"]), InvalidParameterError, "2 categories"),
    ],
)
def test_microdata_curve_rejects_bad_input(kwargs, error, match):
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "one": ["z"] * 3})
    with pytest.raises(error, match=match):
        dp_utility.microdata_utility_curve(df, **kwargs)


def test_microdata_curve_rejects_an_empty_table():
    with pytest.raises(InvalidParameterError, match="0 rows"):
        dp_utility.microdata_utility_curve(
            pd.DataFrame({"x": pd.Series([], dtype=float)}), bounds={"x": (0, 1)}
        )


def test_microdata_curve_counts_clamped_values():
    df = pd.DataFrame({"x": [1.0, 5.0, 20.0, 30.0, np.nan]})
    out = dp_utility.microdata_utility_curve(df, bounds={"x": (0, 10)}, epsilons=[1.0])
    assert any(w.startswith("2 of 4 values of 'x'") for w in out.warnings)
    inside = dp_utility.microdata_utility_curve(df, bounds={"x": (0, 30)}, epsilons=[1.0])
    assert not any("clamped" in w for w in inside.warnings)


def test_accuracy_inverse_discrete_laplace_is_smallest_for_every_integer_target():
    """For each h in 1..299: the returned ε reaches half-width <= h by the project's own
    half-width function, and ε one part in 1e9 smaller does not."""

    def hw(e: float) -> float:
        s = dp_utility.noise_scale(mechanism="discrete_laplace", epsilon=e, sensitivity=1.0)
        return dp_utility.half_width(mechanism="discrete_laplace", scale=s)

    in_range = 0
    for h in range(1, 300):
        try:
            eps = dp_utility.epsilon_for_half_width(float(h), mechanism="discrete_laplace")
        except InvalidParameterError:
            # only when the answer lies outside the supported ε range
            assert hw(limits.EPSILON_MAX) > h or hw(limits.EPSILON_MIN) <= h
            continue
        in_range += 1
        assert hw(eps) <= h, h
        assert hw(eps * (1 - 1e-9)) > h, h
    assert in_range > 250
