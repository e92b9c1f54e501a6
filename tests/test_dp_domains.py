"""Categorical DP releases take no structure from the data; DP results carry no exact figure.

Covers: a declared (public) category domain for histograms, modes and randomized response; the
stability (thresholded) histogram and its δ; the mean released without the exact record count;
no data-dependent number in any DP result; the clamp error; the exact clamped sum on the grid.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core import codebooks, dp, dp_sampling
from core.errors import ColumnError, InvalidParameterError, PrivLensError

CATS = ("a", "b", "c")


def _with_and_without_rare() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Neighbours under add/remove: the rare category 'z' has one record in ``d1`` only."""
    d0 = pd.DataFrame({"c": ["a"] * 30 + ["b"] * 20})
    d1 = pd.concat([d0, pd.DataFrame({"c": ["z"]})], ignore_index=True)
    return d0, d1


# --- declared domain --------------------------------------------------------------------------


def test_categorical_histogram_without_a_domain_is_refused():
    d0, _ = _with_and_without_rare()
    with pytest.raises(InvalidParameterError, match="public list of categories"):
        dp.dp_histogram(d0, "c", epsilon=1.0, source=0)
    with pytest.raises(InvalidParameterError, match="public list of categories"):
        dp.dp_mode(d0, "c", epsilon=1.0, source=0)
    with pytest.raises(InvalidParameterError, match="public list of categories"):
        dp.release(d0, "c", query="histogram", epsilon=1.0, source=0)


@pytest.mark.parametrize("seed", range(20))
def test_declared_domain_releases_the_same_categories_with_and_without_a_rare_record(seed):
    d0, d1 = _with_and_without_rare()
    domain = ["a", "b", "c"]  # 'z' is not in the public list
    for query in ("histogram", "mode"):
        r0 = dp.release(d0, "c", query=query, epsilon=1.0, categories=domain, source=seed)
        r1 = dp.release(d1, "c", query=query, epsilon=1.0, categories=domain, source=seed)
        assert r0.labels == r1.labels == tuple(domain)
        assert "z" not in r1.labels
        if query == "mode":
            assert r1.value in domain


def test_declared_domain_histogram_ratio_test():
    """P[M(D) ∈ S] <= e^ε P[M(D') ∈ S] + tol for the count of 'a' (one record removed)."""
    eps = 0.5
    d0 = pd.DataFrame({"c": ["a"] * 10 + ["b"] * 5})
    d1 = d0.iloc[1:]
    rng0, rng1 = np.random.default_rng(1), np.random.default_rng(2)
    v0 = np.array(
        [dp.dp_histogram(d0, "c", epsilon=eps, categories=CATS, source=rng0).value[0]
         for _ in range(3000)]
    )  # fmt: skip
    v1 = np.array(
        [dp.dp_histogram(d1, "c", epsilon=eps, categories=CATS, source=rng1).value[0]
         for _ in range(3000)]
    )  # fmt: skip
    for s in range(5, 15):
        p0, p1 = np.mean(v0 <= s), np.mean(v1 <= s)
        assert p0 <= math.exp(eps) * p1 + 0.03
        assert p1 <= math.exp(eps) * p0 + 0.03


def test_mode_over_an_empty_column_with_a_declared_domain_is_uniform():
    df = pd.DataFrame({"c": pd.Series([None, None], dtype="string")})
    picks = [dp.dp_mode(df, "c", epsilon=1.0, categories=CATS, source=s).value for s in range(60)]
    assert set(picks) == set(CATS)


def test_randomized_response_needs_a_declared_domain():
    with pytest.raises(InvalidParameterError, match="public list of categories"):
        dp.randomized_response(pd.Series(["x", "y"]), epsilon=1.0)


def test_randomized_response_says_how_many_values_are_missing_not_which():
    with pytest.raises(InvalidParameterError, match="1 missing") as info:
        dp.randomized_response(pd.Series(["a", None, "b"]), epsilon=1.0, categories=["a", "b"])
    assert "<NA>" in str(info.value)
    out = dp.randomized_response(
        pd.Series(["a", None, "b"]), epsilon=1.0, categories=["a", "b", "<NA>"], source=0
    )
    assert set(out.values) <= {"a", "b", "<NA>"} and not out.warnings


def test_adult_codebook_matches_the_documented_categories():
    from core.samples import adult

    df = adult().frame
    for column, cats in codebooks.ADULT.items():
        present = set(df[column].dropna().astype(str))
        assert present <= set(cats), column  # every value in the sample is in the codebook
        assert len(set(cats)) == len(cats)
    assert codebooks.categories_for("sex") == ("Female", "Male")
    assert codebooks.categories_for("no such column") is None


# --- stability histogram ----------------------------------------------------------------------


@pytest.mark.parametrize(("eps", "delta"), [(1.0, 1e-6), (0.1, 1e-5), (2.0, 0.05), (0.5, 1e-9)])
def test_threshold_is_the_smallest_integer_with_tail_at_most_delta(eps, delta):
    t = dp.stability_threshold(epsilon=eps, delta=delta)
    q = math.exp(-eps)
    tail = lambda m: q ** (m - 1) / (1 + q)  # noqa: E731  P(1 + Z >= m), Z discrete Laplace
    assert tail(t) <= delta < tail(t - 1)
    # the continuous-Laplace rule of OpenDP's make_laplace_threshold, t = 1 + ln(1/(2δ))/ε,
    # is within one integer step of the discrete one
    assert abs(t - (1 + math.log(1 / (2 * delta)) / eps)) <= 1.0 + 1e-9
    # brute force the tail of the project's own sampler's law
    k = np.arange(t - 1, t + 4000)
    pmf = (1 - q) / (1 + q) * q**k
    assert pmf.sum() == pytest.approx(tail(t), rel=1e-9, abs=1e-300)


def test_stability_histogram_releases_a_rare_category_with_probability_at_most_delta():
    # n draws on d1 tell the exact tail (0.0364 here) from a release rate of δ itself: at
    # n = 4000 a rate of 0.05 is (0.05 - 0.0364) / sqrt(0.0364 * 0.9636 / 4000) = 4.6 standard
    # errors off, so the binomial test below fails (p < 1e-4); at n = 1000 it would pass.
    # d0 holds no 'z': a correct release never names it, whatever the draws. The d0 draws catch
    # a 'z' carried over from the d1 releases; one carried at even the exact tail's rate escapes
    # 500 draws with probability (1 - 0.0364) ** 500 < 1e-8, so more buy nothing.
    eps, delta, n, n0 = 1.0, 0.05, 4000, 500
    d0, d1 = _with_and_without_rare()
    rng = np.random.default_rng(7)
    kw = dict(epsilon=eps, delta=delta, domain="threshold")
    with_z = sum("z" in dp.dp_histogram(d1, "c", source=rng, **kw).labels for _ in range(n))
    without_z = sum("z" in dp.dp_histogram(d0, "c", source=rng, **kw).labels for _ in range(n0))
    assert without_z == 0
    t = dp.stability_threshold(epsilon=eps, delta=delta)
    exact = math.exp(-eps) ** (t - 1) / (1 + math.exp(-eps))
    assert exact <= delta
    # the empirical rate agrees with the exact tail, and so stays below δ
    assert stats.binomtest(with_z, n, exact).pvalue > 1e-4
    assert with_z / n <= delta + 3 * math.sqrt(delta / n)


def test_stability_histogram_keeps_large_categories_and_reports_its_threshold():
    df = pd.DataFrame({"c": ["a"] * 500 + ["b"] * 300 + ["z"]})
    r = dp.dp_histogram(df, "c", epsilon=1.0, delta=1e-6, domain="threshold", source=3)
    assert r.labels == ("a", "b") and r.delta == 1e-6
    assert r.threshold == dp.stability_threshold(epsilon=1.0, delta=1e-6)
    assert np.all(np.asarray(r.value) >= r.threshold)
    assert r.mechanism == "discrete_laplace" and r.neighbours == dp.ADD_REMOVE
    m = dp.dp_mode(df, "c", epsilon=1.0, delta=1e-6, domain="threshold", source=3)
    assert m.value == "a"


def test_stability_histogram_needs_delta_and_a_categorical_column():
    d0, _ = _with_and_without_rare()
    with pytest.raises(InvalidParameterError, match="delta must"):
        dp.dp_histogram(d0, "c", epsilon=1.0, domain="threshold")
    with pytest.raises(InvalidParameterError, match="public bins"):
        dp.dp_histogram(
            pd.DataFrame({"x": [1.0]}), "x", epsilon=1.0, delta=1e-6, domain="threshold"
        )


# --- nothing exact next to a DP answer --------------------------------------------------------


def _fields_but_value(result: object) -> dict:
    return {f.name: getattr(result, f.name) for f in fields(result) if f.name != "value"}  # type: ignore[arg-type]


def test_mean_does_not_publish_the_record_count():
    df = pd.DataFrame({"x": np.r_[np.linspace(10.0, 80.0, 1234), [np.nan] * 7, [500.0] * 3]})
    r = dp.dp_mean(df, "x", epsilon=1.0, lower=0, upper=100, source=0)
    n = 1237
    # no warning says n, and no field is a function of the exact n
    for w in r.warnings:
        assert not re.search(r"\b1,?237\b", w)
    assert r.neighbours == dp.ADD_REMOVE
    other = pd.concat([df, pd.DataFrame({"x": [50.0] * 100})], ignore_index=True)
    r2 = dp.dp_mean(other, "x", epsilon=1.0, lower=0, upper=100, source=0)
    assert (r.sensitivity, r.scale, r.granularity) == (r2.sensitivity, r2.scale, r2.granularity)
    assert r.sensitivity != pytest.approx(100 / n)


@pytest.mark.parametrize("query", ["count", "sum", "mean", "histogram", "quantile", "mode"])
def test_no_dp_result_field_but_the_answer_depends_on_the_data(query):
    """Two tables with different sizes, missing and out-of-bounds counts and unlisted
    categories: every field of the result except the noisy answer is the same."""
    rng = np.random.default_rng(5)

    def table(n: int, missing: int, outside: int) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "x": np.r_[rng.uniform(0, 100, n), [np.nan] * missing, [250.0] * outside],
                "c": rng.choice(["a", "b", "q"], n + missing + outside),
            }
        )

    col = "c" if query == "mode" else "x"
    kw: dict = dict(lower=0.0, upper=100.0, bins=5)
    if query == "mode":
        kw = dict(categories=["a", "b"])  # 'q' is outside the list
    one = _fields_but_value(
        dp.release(table(4321, 13, 17), col, query=query, epsilon=1.0, source=0, **kw)
    )
    two = _fields_but_value(
        dp.release(table(97, 0, 0), col, query=query, epsilon=1.0, source=1, **kw)
    )
    if query == "mean":
        # the mean's half-width is computed from its noisy count (a DP output), not from n
        assert one.pop("half_width") != two.pop("half_width")
    assert one == two


def test_dp_mean_is_centred_and_its_half_width_covers():
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"x": rng.uniform(20, 60, 400)})
    truth = float(df["x"].mean())
    src = np.random.default_rng(3)
    res = [dp.dp_mean(df, "x", epsilon=0.5, lower=0, upper=100, source=src) for _ in range(600)]
    vals = np.array([r.value for r in res])
    cover = np.mean([abs(r.value - truth) <= r.half_width for r in res])
    assert cover >= 0.95
    assert abs(vals.mean() - truth) < 4 * vals.std() / math.sqrt(len(vals)) + 0.05
    assert all(0 <= v <= 100 for v in vals)


def test_dp_mean_of_an_empty_column_is_released_not_refused():
    r = dp.dp_mean(pd.DataFrame({"x": [np.nan, np.nan]}), "x", epsilon=1.0, lower=0, upper=1,
                   source=0)  # fmt: skip
    assert 0.0 <= r.value <= 1.0


# --- clamp error ------------------------------------------------------------------------------


def test_clamp_of_text_raises_our_error_without_the_value():
    with pytest.raises(PrivLensError) as info:
        dp.clamp(pd.Series(["secret-cell-42", "7"]), 0, 10)
    assert isinstance(info.value, ColumnError)
    assert "secret-cell-42" not in str(info.value)


# --- exact clamped sum on the grid ------------------------------------------------------------


def test_clamped_sum_on_the_grid_is_exact_for_adversarial_neighbours():
    """10^6 values in [0, 1]; the neighbour adds one record of value 1 (Δ = 1)."""
    n, lo, hi = 1_000_000, 0.0, 1.0
    x = np.random.default_rng(2).uniform(0, 1, n)
    g = dp_sampling.granularity_for(1.0 / 1.0)
    allowed = math.floor(1.0 / g) + 1  # what the adjusted sensitivity pays for
    a = dp_sampling.sum_on_grid(x, lower=lo, upper=hi, granularity=g)
    assert isinstance(a, int)
    worst_naive = 0
    for pos in (0, 8, 127, n // 2, n):
        neighbour = np.insert(x, pos, 1.0)
        b = dp_sampling.sum_on_grid(neighbour, lower=lo, upper=hi, granularity=g)
        assert abs(b - a) <= allowed
        assert abs(b - a - 1.0 / g) <= 0.5 + 2 * n / 2**19  # and near the exact difference
        naive = abs(int(np.rint(neighbour.sum() / g)) - int(np.rint(x.sum() / g)))
        worst_naive = max(worst_naive, naive)
    # a float sum breaks the allowance on these neighbours (why the exact sum exists)
    assert worst_naive > allowed
    # the grid sum agrees with rational arithmetic
    from fractions import Fraction

    small = x[:: n // 2000]
    exact = sum(Fraction(float(v)) for v in small) / Fraction(g)
    got = dp_sampling.sum_on_grid(small, lower=lo, upper=hi, granularity=g)
    assert abs(got - exact) <= Fraction(1, 2) + Fraction(len(small), 2**19)


def test_dp_sum_uses_the_exact_grid_sum():
    """With zero noise (a source of all-ones words) the release is the grid sum itself."""

    class NoNoise:
        secure = False

        def words(self, n: int) -> np.ndarray:
            return np.full(n, np.iinfo(np.uint64).max, dtype=np.uint64)

    x = np.sort(np.random.default_rng(1).uniform(0, 1, 200_000))
    r = dp.dp_sum(pd.DataFrame({"x": x}), "x", epsilon=1.0, lower=0, upper=1, source=NoNoise())
    steps = dp_sampling.sum_on_grid(x, lower=0, upper=1, granularity=r.granularity)
    assert r.value == float(steps * r.granularity)


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_dp_mean_at_the_smallest_epsilon_and_delta(mechanism):
    """The mean splits ε and δ in half: a share below the UI minimum is still calibrated."""
    from core import limits

    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    r = dp.dp_mean(df, "x", epsilon=limits.EPSILON_MIN, lower=0, upper=4, mechanism=mechanism,
                   delta=limits.DELTA_MIN, source=0)  # fmt: skip
    assert 0 <= r.value <= 4 and r.epsilon == limits.EPSILON_MIN
    if mechanism == "gaussian":
        # σ is the analytic one for (ε/2, δ/2) on the grid-adjusted sensitivity
        adjusted = dp_sampling.adjusted_sensitivity(2.0, r.granularity)
        ref = dp._analytic_sigma(limits.EPSILON_MIN / 2, limits.DELTA_MIN / 2, adjusted)
        assert r.scale == pytest.approx(ref, rel=1e-12)
        assert r.scale >= dp._analytic_sigma(limits.EPSILON_MIN / 2, limits.DELTA_MIN / 2, 2.0)
