"""Tests of core.correlation against scipy, hand-worked examples and invariants."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from core.correlation import (
    METHODS,
    association_matrix,
    benjamini_hochberg,
    coded_columns,
    correlation_matrix,
    correlation_ratio,
    cramers_v,
    drilldown,
    leakage_ranking,
    normalized_mutual_information,
    numeric_columns,
    ranked_pairs,
)
from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.limits import CORRELATION_MIN_PAIRS

ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
# sdcMicro's testdata next to the project, as the other tests of the shared datasets find it
TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sdcmicro_testdata.csv"
CODED = ("urbrur", "roof", "walls")  # integer codes of categories in sdcMicro's testdata
SCIPY = {"pearson": stats.pearsonr, "spearman": stats.spearmanr, "kendall": stats.kendalltau}


def _messy_frame(seed: int, n: int) -> pd.DataFrame:
    """Ties (small integer columns), continuous columns, NaN in some columns only."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "int_a": rng.integers(0, 6, n).astype(float),
            "int_b": rng.integers(0, 40, n).astype(float),
            "full_int": rng.integers(0, 3, n).astype(float),  # never missing, heavy ties
            "cont": rng.normal(size=n),
            "full_cont": rng.normal(size=n),  # never missing
        }
    )
    d["dep"] = d["cont"] * 0.8 + rng.normal(size=n)  # a real correlation
    d["dep_int"] = np.round(d["int_a"] + rng.normal(size=n))  # ties + correlation
    # many distinct values, some tied: joint ties counted by sorting, not a count table
    d["wide"] = rng.integers(0, 3_000, n).astype(float)
    d["wide_dep"] = d["wide"] + rng.integers(0, 300, n)
    for c in ("int_a", "int_b", "cont", "dep", "dep_int", "wide"):
        d.loc[rng.random(n) < 0.08, c] = np.nan
    return d


def _scipy_reference(d: pd.DataFrame, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = d.shape[1]
    r, p, n = np.full((k, k), np.nan), np.full((k, k), np.nan), np.zeros((k, k), int)
    for i, a in enumerate(d):
        for j, b in enumerate(d):
            if i == j:
                continue
            mask = d[a].notna() & d[b].notna()
            res = SCIPY[method](d.loc[mask, a].to_numpy(), d.loc[mask, b].to_numpy())
            r[i, j], p[i, j], n[i, j] = res.statistic, res.pvalue, mask.sum()
    return r, p, n


# --- reference equality with scipy --------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "seed, n",
    [
        (0, 40),  # small: Kendall exact p where a pair has no ties is not reachable (ties)
        (1, 300),  # asymptotic p-values with ties
        (2, 2_000),  # larger, Fenwick tree over the column with fewer distinct values
    ],
)
def test_matrix_equals_scipy_pairwise_complete(method: str, seed: int, n: int) -> None:
    d = _messy_frame(seed, n)
    res = correlation_matrix(d, method=method)
    r, p, nn = _scipy_reference(d, method)
    off = ~np.eye(d.shape[1], dtype=bool)
    np.testing.assert_allclose(res.r[off], r[off], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.p[off], p[off], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.n[off], nn[off])
    assert res.columns == tuple(d.columns)
    assert not res.reasons


@pytest.mark.parametrize("method", METHODS)
def test_ill_conditioned_pairs_still_match_scipy(method: str) -> None:
    # 'jump' is 1e5 exactly where 'y' is missing, so on the complete rows its mean is far
    # from the column mean: the BLAS shortcut for Pearson must hand this pair to the exact path
    rng = np.random.default_rng(9)
    n = 500
    y = rng.normal(size=n)
    missing = rng.random(n) < 0.2
    jump = np.where(missing, 1e5, y + rng.normal(size=n))
    d = pd.DataFrame({"jump": jump, "y": np.where(missing, np.nan, y), "z": rng.normal(size=n)})
    d.loc[rng.random(n) < 0.05, "z"] = np.nan
    res = correlation_matrix(d, method=method)
    r, p, _ = _scipy_reference(d, method)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(res.r[off], r[off], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.p[off], p[off], rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "x, y",
    [
        # n <= 33 without ties: scipy uses the exact null distribution of Kendall's tau
        (np.arange(12.0), np.array([3, 1, 2, 5, 4, 7, 6, 9, 8, 12, 10, 11.0])),
        # large n, perfectly ordered but one swap: exact p again (min(dis, tot-dis) <= 1)
        (np.arange(60.0), np.r_[1.0, 0.0, np.arange(2.0, 60.0)]),
        # large n, reversed but one swap: one concordant pair, exact p as well
        (np.arange(60.0), np.r_[1.0, 0.0, np.arange(2.0, 60.0)][::-1]),
        # large n, two discordant pairs: the normal approximation again
        (np.arange(60.0), np.r_[1.0, 0.0, 2.0, 4.0, 3.0, np.arange(5.0, 60.0)]),
    ],
)
def test_kendall_exact_p_paths_match_scipy(x: np.ndarray, y: np.ndarray) -> None:
    res = correlation_matrix(pd.DataFrame({"x": x, "y": y}), method="kendall")
    ref = stats.kendalltau(x, y)
    assert res.r[0, 1] == pytest.approx(ref.statistic, abs=1e-12)
    # relative: the exact and the normal p differ by orders of magnitude in the tail
    assert res.p[0, 1] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_p_adjusted_is_benjamini_hochberg_of_upper_triangle() -> None:
    d = _messy_frame(3, 200)
    res = correlation_matrix(d, method="spearman")
    iu = np.triu_indices(d.shape[1], k=1)
    expected = stats.false_discovery_control(res.p[iu], method="bh")
    np.testing.assert_allclose(res.p_adjusted[iu], expected, atol=1e-15)
    np.testing.assert_allclose(res.p_adjusted, res.p_adjusted.T)
    assert (res.p_adjusted[iu] >= res.p[iu]).all()


def test_benjamini_hochberg_hand_example() -> None:
    # m = 4 finite: sorted 0.01, 0.03, 0.04, 0.2 -> 4*0.01/1=0.04, 4*0.03/2=0.06,
    # 4*0.04/3=0.0533, 4*0.2/4=0.2; running minimum from the top: 0.04, 0.0533, 0.0533, 0.2
    out = benjamini_hochberg([0.2, 0.03, np.nan, 0.01, 0.04])
    np.testing.assert_allclose(out, [0.2, 0.16 / 3, np.nan, 0.04, 0.16 / 3])
    with pytest.raises(InvalidParameterError, match="p-values must lie in"):
        benjamini_hochberg([0.5, 1.5])


# --- gaps get NaN with a reason, never an exception ---------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_constant_and_short_columns_give_nan_with_reason(method: str) -> None:
    d = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "const": [7.0] * 6,
            "short": [1.0, np.nan, np.nan, np.nan, np.nan, 2.0],  # 2 complete pairs < 3
            "const_on_pair": [1.0, 1.0, 1.0, 1.0, np.nan, np.nan],
            "empty": [np.nan] * 6,
        }
    )
    res = correlation_matrix(d, method=method)
    cols = list(d.columns)
    for other in ("const", "short", "const_on_pair", "empty"):
        assert math.isnan(res.r[0, cols.index(other)])
        assert res.reasons[("x", other)]
    assert "constant" in res.reasons[("x", "const")]
    assert f"at least {CORRELATION_MIN_PAIRS}" in res.reasons[("x", "short")]
    assert "'const_on_pair' is constant on the 4 rows" in res.reasons[("x", "const_on_pair")]
    assert res.n[0, cols.index("short")] == 2
    assert math.isnan(res.r[1, 1]) and res.r[0, 0] == 1.0
    assert any("'const' is constant" in w for w in res.warnings)
    assert any("'empty' has no values" in w for w in res.warnings)
    pairs = res.pairs()
    assert pairs["reason"].iloc[-1] != ""  # NaN pairs sort last


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "cosine"}, InvalidParameterError, "method must be one of"),
        ({"columns": ["x", "nope"]}, ColumnError, "1 column\\(s\\) not in the table: nope"),
        ({"columns": ["x", "label"]}, InvalidParameterError, "not numeric: label"),
        ({"confidence": 1.0}, InvalidParameterError, "confidence must be in"),
        ({"sample_rows": 2}, InvalidParameterError, "sample_rows must be at least"),
    ],
)
def test_bad_input_raises_privlens_errors(kwargs: dict, error: type, match: str) -> None:
    d = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [3.0, 1.0, 2.0], "label": ["a", "b", "c"]})
    with pytest.raises(error, match=match):
        correlation_matrix(d, **kwargs)


def test_empty_and_non_numeric_frames_are_rejected() -> None:
    with pytest.raises(InvalidParameterError, match="0 rows"):
        correlation_matrix(pd.DataFrame({"x": [], "y": []}))
    with pytest.raises(InvalidParameterError, match="at least 2 numeric columns; the table has 1"):
        correlation_matrix(pd.DataFrame({"x": [1, 2, 3], "s": ["a", "b", "c"]}))


# --- hypothesis properties ----------------------------------------------------------------

_column = arrays(
    np.float64,
    st.shared(st.integers(4, 40), key="n"),
    elements=st.one_of(st.integers(-5, 5).map(float), st.just(np.nan)),
)


@settings(max_examples=40, deadline=None)
@given(cols=st.lists(_column, min_size=2, max_size=4), method=st.sampled_from(METHODS))
def test_matrix_is_symmetric_unit_diagonal_bounded(cols: list, method: str) -> None:
    d = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
    res = correlation_matrix(d, method=method)
    np.testing.assert_array_equal(np.isnan(res.r), np.isnan(res.r.T))
    np.testing.assert_allclose(res.r, res.r.T, atol=1e-15)
    diag = np.diag(res.r)
    assert np.all((diag == 1.0) | np.isnan(diag))
    finite = res.r[np.isfinite(res.r)]
    assert np.all(np.abs(finite) <= 1.0)
    assert np.all((res.p[np.isfinite(res.p)] >= 0) & (res.p[np.isfinite(res.p)] <= 1))
    # every NaN off-diagonal cell says why
    k = len(cols)
    for i in range(k):
        for j in range(i + 1, k):
            if math.isnan(res.r[i, j]):
                assert res.reasons[(f"c{i}", f"c{j}")]


@settings(max_examples=40, deadline=None)
@given(cols=st.lists(_column, min_size=2, max_size=3), method=st.sampled_from(METHODS[1:]))
def test_rank_methods_invariant_to_increasing_transforms(cols: list, method: str) -> None:
    d = pd.DataFrame({f"c{i}": c for i, c in enumerate(cols)})
    # x**3 + 2x + 100 is strictly increasing and exact on these small integers
    t = d.apply(lambda s: s**3 + 2 * s + 100)
    a = correlation_matrix(d, method=method)
    b = correlation_matrix(t, method=method)
    np.testing.assert_allclose(a.r, b.r, atol=1e-12)
    np.testing.assert_allclose(a.p, b.p, atol=1e-12)


# --- sampled estimate and intervals ---------------------------------------------------------


def test_sampled_estimate_is_labelled_and_covers_full_value() -> None:
    rng = np.random.default_rng(7)
    n = 50_000
    x = rng.normal(size=n)
    d = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=n)})
    full = correlation_matrix(d, method="kendall")
    est = correlation_matrix(d, method="kendall", sample_rows=2_000, rng=1)
    assert est.sampled and not full.sampled
    assert est.rows_used == 2_000 and est.rows_total == n and int(est.n[0, 1]) == 2_000
    assert "uniform random sample of 2,000 of 50,000 rows" in est.warnings[0]
    assert est.ci_low[0, 1] < full.r[0, 1] < est.ci_high[0, 1]
    # a sample at least as large as the table is the exact computation
    same = correlation_matrix(d.head(100), method="kendall", sample_rows=500)
    assert not same.sampled


@pytest.mark.parametrize(
    "method, truth",
    [
        # population values for a bivariate normal with rho = 0.5
        ("pearson", 0.5),
        ("spearman", 6 / math.pi * math.asin(0.25)),
        ("kendall", 2 / math.pi * math.asin(0.5)),
    ],
)
def test_confidence_interval_coverage(method: str, truth: float) -> None:
    rng = np.random.default_rng(2024)
    cov = [[1.0, 0.5], [0.5, 1.0]]
    hits, reps = 0, 300
    for _ in range(reps):
        xy = rng.multivariate_normal([0, 0], cov, size=150)
        res = correlation_matrix(pd.DataFrame(xy, columns=["x", "y"]), method=method)
        hits += res.ci_low[0, 1] <= truth <= res.ci_high[0, 1]
    assert 0.91 <= hits / reps <= 0.99  # nominal 0.95


# --- Cramér's V, eta, NMI ---------------------------------------------------------------


def test_cramers_v_hand_worked() -> None:
    # table [[6, 4], [3, 7]], n = 20: chi2 = 20/11, phi2 = 1/11, bias 1/19,
    # phi2~ = 8/209, r~ = k~ = 2 - 1/19, V~^2 = (8/209) / (18/19) = 4/99
    x = ["a"] * 10 + ["b"] * 10
    y = ["u"] * 6 + ["v"] * 4 + ["u"] * 3 + ["v"] * 7
    res = cramers_v(x, y)
    assert res.value == pytest.approx(math.sqrt(4 / 99), abs=1e-12)
    assert res.statistic == pytest.approx(20 / 11, abs=1e-12)
    ref = stats.chi2_contingency([[6, 4], [3, 7]], correction=False)
    assert res.p == pytest.approx(ref.pvalue, abs=1e-12)
    assert res.n == 20
    # perfect 2 x 2 association: V~ = 1 exactly; independence: clamped to 0
    assert cramers_v(x, ["u"] * 10 + ["v"] * 10).value == pytest.approx(1.0)
    assert cramers_v(list("aabb") * 5, list("uvuv") * 5).value == 0.0


def test_cramers_v_matches_scipy_chi2_on_random_table() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(0, 4, 500)
    y = (x + rng.integers(0, 3, 500)) % 5
    res = cramers_v(x.astype(str), y.astype(str))
    table = pd.crosstab(x, y).to_numpy()
    ref = stats.chi2_contingency(table, correction=False)
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert res.p == pytest.approx(ref.pvalue, abs=1e-12)
    # uncorrected V from scipy bounds the corrected one from above
    assert res.value <= stats.contingency.association(table, method="cramer") + 1e-12


def test_cramers_v_drops_missing_and_explains_gaps() -> None:
    res = cramers_v(["a", "b", None, "a", "b"], ["u", "v", "u", None, "v"])
    assert res.n == 3
    single = cramers_v(["a"] * 5, ["u", "v", "u", "v", "u"])
    assert math.isnan(single.value) and "single category" in single.reason
    with pytest.raises(InvalidParameterError, match="same length; got 2 and 3"):
        cramers_v(["a", "b"], ["u", "v", "w"])


def test_correlation_ratio_hand_worked_and_anova() -> None:
    # groups a: 1,2,3 (mean 2), b: 4,5,6 (mean 5); grand mean 3.5
    # SSB = 3*1.5^2 * 2 = 13.5, SST = 17.5 -> eta^2 = 27/35; F = 13.5 / (4/4) = 13.5
    res = correlation_ratio(list("aaabbb"), [1, 2, 3, 4, 5, 6])
    assert res.value == pytest.approx(math.sqrt(27 / 35), abs=1e-12)
    assert res.statistic == pytest.approx(13.5, abs=1e-12)
    ref = stats.f_oneway([1, 2, 3], [4, 5, 6])
    assert res.p == pytest.approx(ref.pvalue, abs=1e-12)
    const = correlation_ratio(list("aabb"), [1, 1, 1, 1])
    assert math.isnan(const.value) and "constant" in const.reason
    # missing label and NaN value dropped pairwise
    assert correlation_ratio(["a", None, "b", "a", "b"], [1, 2, np.nan, 2, 4]).n == 3


def test_correlation_ratio_matches_anova_on_random_groups() -> None:
    rng = np.random.default_rng(11)
    g = rng.integers(0, 5, 400)
    y = g * 0.3 + rng.normal(size=400)
    res = correlation_ratio(g.astype(str), y)
    ref = stats.f_oneway(*[y[g == k] for k in range(5)])
    assert res.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert res.p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    # eta^2 = SSB / SST from group means
    ssb = sum((g == k).sum() * (y[g == k].mean() - y.mean()) ** 2 for k in range(5))
    assert res.value**2 == pytest.approx(ssb / ((y - y.mean()) ** 2).sum(), rel=1e-12)


def test_nmi_hand_worked() -> None:
    # X = a,a,b,b; Y = 0,0,0,1: H(X) = ln 2, H(Y) = -(3/4 ln 3/4 + 1/4 ln 1/4),
    # H(X,Y) = -(1/2 ln 1/2 + 2 * 1/4 ln 1/4) = 1.5 ln 2
    hx = math.log(2)
    hy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    mi = hx + hy - 1.5 * math.log(2)
    got = normalized_mutual_information(list("aabb"), ["0", "0", "0", "1"])
    assert got == pytest.approx(2 * mi / (hx + hy), abs=1e-12)
    # numeric columns with many values are cut into quantile bins: x vs x is 1
    v = np.arange(1000.0)
    assert normalized_mutual_information(v, v) == pytest.approx(1.0)
    with pytest.raises(InvalidParameterError, match="bins must be at least 2"):
        normalized_mutual_information(v, v, bins=1)


# --- association matrix -------------------------------------------------------------------


def test_association_matrix_mixes_measures() -> None:
    rng = np.random.default_rng(3)
    n = 400
    g = rng.choice(list("abc"), n)
    d = pd.DataFrame(
        {
            "g": g,
            "h": np.where(rng.random(n) < 0.8, g, "z"),
            "y": (g == "a") * 2.0 + rng.normal(size=n),
            "z": rng.normal(size=n),
        }
    )
    m = association_matrix(d)
    assert m.kinds == ("categorical", "categorical", "numeric", "numeric")
    assert m.measure[0, 1] == "cramers_v" and m.measure[0, 2] == "eta"
    assert m.measure[2, 3] == "pearson"
    np.testing.assert_allclose(m.value, m.value.T)
    assert np.all(np.diag(m.value) == 1.0)
    assert m.value[0, 1] == pytest.approx(cramers_v(d["g"], d["h"]).value)
    assert m.value[0, 2] == pytest.approx(correlation_ratio(d["g"], d["y"]).value)
    assert m.value[2, 3] == pytest.approx(stats.pearsonr(d["y"], d["z"]).statistic)
    top = m.pairs().iloc[0]
    assert {top["column_a"], top["column_b"]} == {"g", "h"}


def test_association_matrix_warns_on_near_unique_column() -> None:
    d = pd.DataFrame({"id": [f"r{i}" for i in range(50)], "g": list("ab") * 25})
    m = association_matrix(d)
    assert any("'id' has 50 distinct values in 50 rows" in w for w in m.warnings)


# --- leakage -------------------------------------------------------------------------------


def test_leakage_finds_planted_proxy() -> None:
    rng = np.random.default_rng(42)
    n = 5_000
    s = rng.choice(["yes", "no"], n, p=[0.3, 0.7])
    proxy = np.where(rng.random(n) < 0.95, np.where(s == "yes", "P", "Q"), "R")
    d = pd.DataFrame(
        {
            "noise_cat": rng.choice(list("abcdef"), n),
            "noise_num": rng.normal(size=n),
            "planted": proxy,
            "weak": np.where(rng.random(n) < 0.15, s, "other"),
            "s": s,
        }
    )
    rep = leakage_ranking(d, sensitive="s", top=2)
    assert rep.entries[0].column == "planted"
    assert rep.proxies == ("planted",)
    first = rep.entries[0]
    assert first.guess_accuracy is not None and first.guess_accuracy > 0.95
    assert rep.baseline_accuracy == pytest.approx((s == "no").mean())
    # lambda = (acc - base) / (1 - base)
    base = rep.baseline_accuracy
    assert first.lift == pytest.approx((first.guess_accuracy - base) / (1 - base))
    assert rep.entries[2].guess_accuracy is None  # only the top 2 get the guess
    noise = {e.column: e for e in rep.entries}
    assert noise["noise_cat"].score < 0.05 and noise["noise_num"].score < 0.05


def test_leakage_best_guess_hand_worked() -> None:
    # x=a: s = m,m,f -> guess m (2 right); x=b: s = f,f -> guess f (2 right) -> 4/5
    d = pd.DataFrame({"x": list("aaabb"), "s": ["m", "m", "f", "f", "f"]})
    e = leakage_ranking(d, sensitive="s").entries[0]
    assert e.guess_accuracy == pytest.approx(4 / 5)
    assert e.baseline_accuracy == pytest.approx(3 / 5)
    assert e.lift == pytest.approx(0.5)


@pytest.mark.skipif(not ADULT.exists(), reason="the Adult sample is not in data/")
def test_leakage_relationship_gives_sex_away_in_adult() -> None:
    adult = pd.read_csv(ADULT, na_values="?", skipinitialspace=True)
    rep = leakage_ranking(adult, sensitive="sex")
    first = rep.entries[0]
    assert first.column == "relationship" and first.proxy
    assert first.association == pytest.approx(cramers_v(adult["relationship"], adult["sex"]).value)
    assert first.guess_accuracy is not None and first.guess_accuracy > rep.baseline_accuracy
    assert "relationship" in rep.proxies
    assert "fnlwgt" not in rep.proxies


def test_leakage_errors_name_columns_not_values() -> None:
    d = pd.DataFrame({"x": list("abcd"), "s": ["SECRET-VALUE"] * 4})
    with pytest.raises(InvalidParameterError, match="'s' is constant") as err:
        leakage_ranking(d, sensitive="s")
    assert "SECRET-VALUE" not in str(err.value)
    with pytest.raises(ColumnError, match="'nope' is not a column"):
        leakage_ranking(d, sensitive="nope")
    with pytest.raises(PrivLensError, match="proxy_threshold"):
        leakage_ranking(d, sensitive="x", proxy_threshold=0)


def test_progress_reports_increasing_shares_up_to_one() -> None:
    seen: list[float] = []
    correlation_matrix(_messy_frame(4, 50), method="kendall", progress=seen.append)
    assert seen == sorted(seen) and seen[0] == 0.0 and seen[-1] == 1.0
    assert len(seen) == 9 * 8 // 2 + 1  # one call per pair, then done


# --- edges: infinities, magnitudes, big integers, tiny tables (issue: right numbers) -------


def _finite_reference(d: pd.DataFrame, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """scipy on the rows where both values are finite: inf counts as missing."""
    return _scipy_reference(d.replace([np.inf, -np.inf], np.nan), method)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("with_nan", [False, True])  # block / BLAS paths vs per-pair paths
def test_infinity_is_missing_with_a_stated_reason(method: str, with_nan: bool) -> None:
    rng = np.random.default_rng(11)
    n = 60
    x = rng.normal(size=n)
    y = x + rng.normal(size=n)
    pinf = x.copy()
    pinf[[3, 7]] = np.inf
    pinf[11] = -np.inf
    d = pd.DataFrame({"x": x, "pinf": pinf, "y": y})
    if with_nan:
        d.loc[[5, 20], "y"] = np.nan
    res = correlation_matrix(d, method=method)
    r, p, nn = _finite_reference(d, method)
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(res.r[off], r[off], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.p[off], p[off], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.n[off], nn[off])
    assert res.n[1, 1] == n - 3
    assert any("'pinf'" in w and "3 infinite" in w for w in res.warnings)


@pytest.mark.parametrize("method", METHODS)
def test_all_infinite_column_has_no_values(method: str) -> None:
    # {x, +inf - x, y}: the second column holds no number at all
    rng = np.random.default_rng(12)
    x = rng.normal(size=30)
    d = pd.DataFrame({"x": x, "pinf": np.inf - x, "y": x + rng.normal(size=30)})
    res = correlation_matrix(d, method=method)
    assert np.isnan(res.r[0, 1]) and np.isnan(res.r[1, 2]) and np.isnan(res.p[0, 1])
    assert res.n[0, 1] == 0 and res.n[1, 1] == 0
    r_ref = SCIPY[method](x, d["y"].to_numpy()).statistic
    assert res.r[0, 2] == pytest.approx(r_ref, abs=1e-12)
    assert any("'pinf'" in w and "30 infinite" in w for w in res.warnings)


def test_pearson_never_turns_nan_into_minus_one() -> None:
    from core.correlation import _pearson_r

    assert math.isnan(_pearson_r(np.array([0.0, 1.0, np.nan]), np.array([0.0, 1.0, 2.0])))
    assert math.isnan(_pearson_r(np.array([0.0, 1.0, np.inf]), np.array([0.0, 1.0, 2.0])))


def _eta_reference(groups: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """eta from scipy's one-way ANOVA: eta^2 = F(k-1) / (F(k-1) + n - k)."""
    samples = [y[groups == g] for g in np.unique(groups)]
    res = stats.f_oneway(*samples)
    k, n = len(samples), y.size
    f = float(res.statistic)
    return math.sqrt(f * (k - 1) / (f * (k - 1) + n - k)), f, float(res.pvalue)


def test_eta_treats_infinity_as_missing() -> None:
    rng = np.random.default_rng(13)
    g = rng.choice(list("abc"), 80)
    y = rng.normal(size=80) + (g == "a")
    y_inf = y.copy()
    y_inf[[0, 9]] = [np.inf, -np.inf]
    res = correlation_ratio(g, y_inf)
    keep = np.isfinite(y_inf)
    eta, f, pval = _eta_reference(g[keep], y[keep])
    assert res.n == 78
    assert res.value == pytest.approx(eta, rel=1e-12)
    assert res.statistic == pytest.approx(f, rel=1e-10)
    assert res.p == pytest.approx(pval, rel=1e-9)
    assert any("2 infinite" in w for w in res.warnings)


@pytest.mark.skipif(not ADULT.exists(), reason="the Adult sample is not in data/")
def test_one_infinity_does_not_make_a_proxy_in_adult() -> None:
    adult = pd.read_csv(ADULT, na_values="?", skipinitialspace=True)
    cols = ["sex", "hours-per-week", "age", "education"]
    bad = adult[cols].copy()
    bad["hours-per-week"] = bad["hours-per-week"].astype(float)
    bad.loc[17, "hours-per-week"] = np.inf
    dropped = bad.drop(index=17)
    got = {e.column: e for e in leakage_ranking(bad, sensitive="sex").entries}
    want = {e.column: e for e in leakage_ranking(dropped, sensitive="sex").entries}
    hours = got["hours-per-week"]
    eta, _, _ = _eta_reference(
        dropped["sex"].to_numpy(), dropped["hours-per-week"].to_numpy(dtype=float)
    )
    assert hours.association == pytest.approx(eta, rel=1e-10)
    assert hours.association < 0.5 and not hours.proxy
    assert hours.nmi == pytest.approx(want["hours-per-week"].nmi, rel=1e-12)
    assert hours.n == want["hours-per-week"].n == len(dropped)
    assert hours.guess_accuracy == want["hours-per-week"].guess_accuracy
    rep = leakage_ranking(bad, sensitive="sex")
    assert any("'hours-per-week'" in w and "1 infinite" in w for w in rep.warnings)
    # the numeric matrix agrees too
    am = association_matrix(bad, columns=["hours-per-week", "age"])
    assert am.n[0, 1] == len(dropped)


@pytest.mark.parametrize("scale", [1e200, 1e-200, 1e300, 1e-300])
@pytest.mark.parametrize("with_nan", [False, True])
def test_huge_and_tiny_magnitudes_match_scipy(scale: float, with_nan: bool) -> None:
    rng = np.random.default_rng(14)
    a = rng.normal(size=40)
    b = a + rng.normal(size=40)
    c = rng.normal(size=40)
    d = pd.DataFrame({"a": a * scale, "b": b * scale, "c": c})  # c at ordinary scale
    if with_nan:
        d.loc[[2, 30], "a"] = np.nan
    res = correlation_matrix(d, method="pearson")
    # Pearson is scale-invariant: scipy on the unscaled values is the reference
    r, p, _ = _scipy_reference(pd.DataFrame({"a": d["a"] / scale, "b": b, "c": c}), "pearson")
    off = ~np.eye(3, dtype=bool)
    np.testing.assert_allclose(res.r[off], r[off], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.p[off], p[off], rtol=0, atol=1e-10)
    g = np.repeat(list("abcd"), 10)
    eta = correlation_ratio(g, b * scale)
    assert eta.value == pytest.approx(_eta_reference(g, b)[0], rel=1e-12)


def _exact_ranks(values: list[int]) -> np.ndarray:
    """Dense ranks of Python integers, compared exactly (no float64 rounding)."""
    order = {v: i for i, v in enumerate(sorted(set(values)))}
    return np.array([order[v] for v in values], dtype=float)


@pytest.mark.parametrize("method", ["spearman", "kendall"])
@pytest.mark.parametrize(
    "dtype, base",
    [
        ("int64", 2**60),  # above 2^53: neighbours collapse in float64
        ("Int64", -(2**62)),  # nullable, with missing values (the per-pair path)
        ("uint64", 2**63 + 2**62),  # above 2^63: unsigned only
    ],
)
def test_integers_above_2_53_are_ranked_exactly(method: str, dtype: str, base: int) -> None:
    rng = np.random.default_rng(15)
    n = 200
    off_x = rng.permutation(n) * 3
    off_y = off_x + rng.integers(0, 40, n)
    xs = [base + int(v) for v in off_x]
    ys = [base + int(v) for v in off_y]
    d = pd.DataFrame({"x": pd.array(xs, dtype=dtype), "y": pd.array(ys, dtype=dtype)})
    keep = np.ones(n, bool)
    if dtype == "Int64":
        d.loc[[4, 50], "x"] = pd.NA
        keep[[4, 50]] = False
    rx = _exact_ranks([v for v, k in zip(xs, keep, strict=True) if k])
    ry = _exact_ranks([v for v, k in zip(ys, keep, strict=True) if k])
    ref = SCIPY[method](rx, ry)
    res = correlation_matrix(d, method=method)
    assert res.r[0, 1] == pytest.approx(ref.statistic, abs=1e-12)
    assert res.p[0, 1] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert res.n[0, 1] == keep.sum()
    # x against x + 1: every pair concordant, so tau = rho = 1 exactly
    same = pd.DataFrame({"x": pd.array(xs, dtype=dtype), "z": pd.array(xs, dtype=dtype) + 1})
    assert correlation_matrix(same, method=method).r[0, 1] == 1.0


def test_big_integers_are_binned_exactly_for_nmi() -> None:
    rng = np.random.default_rng(16)
    off = rng.permutation(100)
    xs = [2**60 + int(v) for v in off]
    s = np.where(off < 50, "lo", "hi")
    got = normalized_mutual_information(pd.Series(xs, dtype="int64"), s, bins=2)
    assert got == normalized_mutual_information(_exact_ranks(xs), s, bins=2) == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_two_row_table_gives_n_2_and_a_reason(method: str) -> None:
    res = correlation_matrix(pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 5.0]}), method=method)
    assert res.n[0, 1] == res.n[1, 0] == 2
    assert np.isnan(res.r[0, 1]) and np.isnan(res.p[0, 1])
    assert res.reasons[("a", "b")] == "only 2 row(s) have both values; at least 3 needed"


def test_f_of_a_perfect_eta_is_infinite_as_scipy() -> None:
    rng = np.random.default_rng(17)
    for _ in range(50):
        levels = rng.normal(size=3) * 10 ** rng.uniform(-3, 3)
        g = np.r_[0, 1, 2, rng.integers(0, 3, 17)]
        y = levels[g]
        res = correlation_ratio(g, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy may flag the constant groups
            ref = stats.f_oneway(*[y[g == k] for k in range(3)])
        assert res.statistic == ref.statistic == math.inf
        assert res.p == ref.pvalue == 0.0
        assert res.value == 1.0


def _exact_anova(groups: np.ndarray, y: np.ndarray) -> tuple[Fraction, Fraction]:
    """eta^2 and F in exact rational arithmetic on the float values as given."""
    vals = [Fraction(float(v)) for v in y]
    n = len(vals)
    mean = sum(vals, Fraction(0)) / n
    labels = sorted(set(groups.tolist()))
    ssb = ssw = Fraction(0)
    for lab in labels:
        part = [v for v, g in zip(vals, groups, strict=True) if g == lab]
        gm = sum(part, Fraction(0)) / len(part)
        ssb += len(part) * (gm - mean) ** 2
        ssw += sum(((v - gm) ** 2 for v in part), Fraction(0))
    k = len(labels)
    return ssb / (ssb + ssw), (ssb / (k - 1)) / (ssw / (n - k))


def test_f_is_exact_when_groups_nearly_explain_everything() -> None:
    # scipy's f_oneway itself cancels here (it returns a negative F); exact fractions do not
    rng = np.random.default_rng(18)
    g = rng.integers(0, 4, 200)
    y = g * 1e3 + rng.normal(size=200) * 1e-6  # eta just below 1
    res = correlation_ratio(g, y)
    eta2, f = _exact_anova(g, y)
    assert res.statistic == pytest.approx(float(f), rel=1e-8)
    assert res.value == pytest.approx(math.sqrt(float(eta2)), rel=1e-15)
    # 1 - eta^2 is about 9e-19, so eta rounds to 1.0 in float64; the groups are not flat,
    # so F is measured (finite), not set to infinity
    assert 1 - float(eta2) < 1e-17 and res.value == 1.0 and math.isfinite(res.statistic)


@pytest.mark.parametrize(
    "x, y",
    [
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]),  # perfect agreement at n = 3
        ([1.0, 2.0, 3.0], [30.0, 20.0, 10.0]),  # perfect disagreement
        ([1.0, 2.0, 3.0, 4.0, np.nan], [1.0, 5.0, 7.0, 9.0, 2.0]),  # per-pair path
        ([10.0, 2.0, 3.0, 5.0, 7.0, 1.0], [9.0, 2.0, 3.0, 4.0, 8.0, 0.0]),
    ],
)
def test_spearman_perfect_agreement_is_exact(x: list, y: list) -> None:
    d = pd.DataFrame({"x": x, "y": y})
    res = correlation_matrix(d, method="spearman")
    keep = d.notna().all(axis=1)
    ref = stats.spearmanr(d.loc[keep, "x"], d.loc[keep, "y"])
    assert res.r[0, 1] == ref.statistic and abs(ref.statistic) == 1.0
    assert res.p[0, 1] == ref.pvalue


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", range(6))
def test_matrix_is_exactly_symmetric(method: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    m = rng.normal(size=(n, 6)) * 10.0 ** rng.integers(-5, 5, 6)
    m[:, 3] = np.round(m[:, 3])  # ties
    if seed % 2:
        m[rng.random(m.shape) < 0.1] = np.nan
    res = correlation_matrix(pd.DataFrame(m, columns=list("abcdef")), method=method)
    for what in ("r", "p", "p_adjusted", "n", "ci_low", "ci_high"):
        arr = getattr(res, what)
        assert np.array_equal(arr, arr.T, equal_nan=True), what


# --- column kinds from the Data page ----------------------------------------------------------


def _bergsma_v(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Bias-corrected Cramér's V and the chi-square p-value, from scipy's chi-square."""
    table = pd.crosstab(a, b).to_numpy()
    ref = stats.chi2_contingency(table, correction=False)
    n = table.sum()
    r, k = table.shape
    phi2 = max(0.0, ref.statistic / n - (r - 1) * (k - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / min(rc - 1, kc - 1)), float(ref.pvalue)


@pytest.fixture(scope="module")
def testdata() -> pd.DataFrame:
    if not TESTDATA.exists():
        pytest.skip("sdcMicro testdata CSV not available")
    return pd.read_csv(TESTDATA)


def test_declared_category_codes_get_cramers_v_and_eta_on_testdata(testdata) -> None:
    cols = [*CODED, "expend"]
    kinds = dict.fromkeys(CODED, "category")
    plain = association_matrix(testdata, columns=cols)
    assert plain.measure[1, 2] == "pearson"  # the codes as numbers: what the kind prevents
    m = association_matrix(testdata, columns=cols, kinds=kinds)
    assert m.kinds == ("categorical", "categorical", "categorical", "numeric")
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert m.measure[i, j] == m.measure[j, i] == "cramers_v"
        v, p = _bergsma_v(testdata[cols[i]], testdata[cols[j]])
        assert m.value[i, j] == pytest.approx(v, rel=1e-12)
        assert m.p[i, j] == pytest.approx(p, rel=1e-9, abs=1e-300)
    # a declared category and an amount: correlation ratio, eta^2 = SSB / SST
    y = testdata["expend"].to_numpy(float)
    g = testdata["roof"].to_numpy()
    ssb = sum((g == k).sum() * (y[g == k].mean() - y.mean()) ** 2 for k in np.unique(g))
    assert m.measure[1, 3] == "eta"
    assert m.value[1, 3] ** 2 == pytest.approx(ssb / ((y - y.mean()) ** 2).sum(), rel=1e-10)
    ref = stats.f_oneway(*[y[g == k] for k in np.unique(g)])
    assert m.p[1, 3] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)


def test_a_cast_category_column_and_a_declared_one_agree(testdata) -> None:
    kinds = dict.fromkeys(CODED, "category")
    cast = testdata.astype(dict.fromkeys(CODED, "category"))
    a = association_matrix(testdata, columns=[*CODED, "income"], kinds=kinds)
    b = association_matrix(cast, columns=[*CODED, "income"], kinds=kinds)
    np.testing.assert_array_equal(a.measure, b.measure)
    np.testing.assert_allclose(a.value, b.value, rtol=1e-12)


def test_declared_category_is_never_correlated_on_its_codes(testdata) -> None:
    kinds = dict.fromkeys(CODED, "category")
    assert not set(CODED) & set(numeric_columns(testdata, kinds))
    assert set(CODED) <= set(numeric_columns(testdata))
    assert coded_columns(testdata, kinds) == list(CODED)
    assert coded_columns(testdata, {"sex": "integer"}) == []
    default = correlation_matrix(testdata, kinds=kinds)
    assert not set(CODED) & set(default.columns)
    for method in METHODS:
        with pytest.raises(InvalidParameterError, match="declared categorical") as err:
            correlation_matrix(testdata, method=method, columns=["roof", "expend"], kinds=kinds)
        assert "roof" in str(err.value)
    with pytest.raises(InvalidParameterError, match="kinds must map"):
        numeric_columns(testdata, ["roof"])  # type: ignore[arg-type]


def test_leakage_measures_declared_codes_as_categories(testdata) -> None:
    kinds = dict.fromkeys(CODED, "category")
    rep = leakage_ranking(testdata, sensitive="roof", columns=["walls", "urbrur", "expend"],
                          kinds=kinds)  # fmt: skip
    by = {e.column: e for e in rep.entries}
    assert by["walls"].measure == by["urbrur"].measure == "cramers_v"
    assert by["expend"].measure == "eta"
    assert by["walls"].association == pytest.approx(
        _bergsma_v(testdata["roof"], testdata["walls"])[0], rel=1e-12
    )
    assert not rep.sensitive_binned


def test_leakage_never_bins_a_declared_category_with_many_codes() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 40, 2_000)  # 40 codes: more than the NMI bins of a number
    s = np.where(codes % 2 == 0, "even", "odd")
    d = pd.DataFrame({"code": codes, "s": s})
    as_number = leakage_ranking(d, sensitive="s").entries[0]
    as_category = leakage_ranking(d, sensitive="s", kinds={"code": "category"}).entries[0]
    exact = normalized_mutual_information(codes.astype(str), s)
    assert as_category.nmi == pytest.approx(exact, abs=1e-12)
    assert as_category.guess_accuracy == 1.0  # each code tells parity
    assert as_number.nmi < exact  # quantile bins mix odd and even codes


def test_drilldown_view_follows_the_kinds(testdata) -> None:
    kinds = dict.fromkeys(CODED, "category")
    plain = drilldown(testdata, "roof", "walls")
    assert plain.view == "scatter" and plain.line is not None
    d = drilldown(testdata, "roof", "walls", kinds=kinds)
    assert d.view == "contingency" and d.line is None and d.n == len(testdata)
    ref = pd.crosstab(testdata["roof"], testdata["walls"], normalize="index")
    np.testing.assert_allclose(d.table.to_numpy(), ref.to_numpy(), rtol=1e-12)
    assert list(d.table.index) == list(ref.index)
    box = drilldown(testdata, "expend", "urbrur", kinds=kinds)
    assert (box.view, box.x, box.y) == ("box", "urbrur", "expend")
    assert len(box.points) == len(testdata) and not box.truncated
    sc = drilldown(testdata, "expend", "income", kinds=kinds, max_points=500)
    assert sc.view == "scatter" and sc.sampled and len(sc.points) == 500
    slope, intercept = np.polyfit(testdata["expend"], testdata["income"], 1)
    assert sc.line == pytest.approx((slope, intercept), rel=1e-9)


def test_drilldown_drops_missing_and_refuses_bad_input() -> None:
    d = pd.DataFrame({"a": [1.0, np.nan, 3.0, np.inf, 5.0], "b": [2.0, 4.0, np.nan, 1.0, 3.0]})
    assert drilldown(d, "a", "b").n == 2
    with pytest.raises(InvalidParameterError, match="two different columns"):
        drilldown(d, "a", "a")
    with pytest.raises(ColumnError):
        drilldown(d, "a", "zzz")
    cats = pd.DataFrame({"g": list("ab") * 40, "h": [str(i) for i in range(80)]})
    assert drilldown(cats, "g", "h").truncated  # 80 values: the 30 most frequent shown


def test_ranked_pairs_of_several_matrices() -> None:
    d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [1, 2, 3, 5, 4], "c": [3, 3, 3, 3, 3]})
    frame, best = ranked_pairs(*(correlation_matrix(d, method=m) for m in METHODS))
    assert len(frame) == 9 and best == ("a", "b")
    assert frame["r"].isna().to_numpy()[-6:].all()  # the constant column's pairs last
    none, nothing = ranked_pairs(correlation_matrix(d, columns=["a", "c"]))
    assert nothing is None and len(none) == 1
    with pytest.raises(InvalidParameterError):
        ranked_pairs()


def test_drilldown_line_of_a_nearly_constant_column_is_no_line_not_a_crash() -> None:
    # found by the fuzz: x = 0, ..., -1e-300 has a spread whose square underflows, and
    # np.polyfit raised LinAlgError (not a PrivLensError) from the page's drill-down
    df = pd.DataFrame({"x": [0.0, 0.0, 0.0, 0.0, -1e-300], "y": [0, 0, 0, 0, 0]})
    d = drilldown(df, "x", "y")
    assert d.view == "scatter" and d.n == 5 and d.line is None
    huge = pd.DataFrame({"x": [1e300, -1e300, 0.0], "y": [1.0, 2.0, 3.0]})
    assert drilldown(huge, "x", "y").line is None  # the sums overflow: no line drawn
    plain = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 4.1, 5.9, 8.2]})
    slope, intercept = np.polyfit(plain["x"], plain["y"], 1)
    assert drilldown(plain, "x", "y").line == pytest.approx((slope, intercept), rel=1e-12)


def test_pair_association_is_the_association_matrix_cell() -> None:
    """Every pair read once per column equals the whole matrix: a dense table (bincount), a
    table with more cells than rows (counted by sorting), eta with and without dropped rows
    (a complete numeric column reuses each categorical column's groups), codes given instead
    of values, and Cramér's V and eta against scipy."""
    from core.correlation import pair_association, pair_column

    rng = np.random.default_rng(11)
    n = 300
    df = pd.DataFrame(
        {
            "grp": rng.choice(list("abcd"), n).astype(object),
            "many": [f"id{v}" for v in rng.integers(0, 200, n)],  # 201 x 5 cells > 4 n + 1024
            "y": rng.normal(size=n),
            "cnt": pd.array(rng.integers(0, 9, n), dtype="Int64"),
            "flag": rng.choice([True, False], n),
            "z": rng.normal(size=n) * 1e200,  # complete: its groups and scale are reused
        }
    )
    df.loc[[3, 8], "grp"] = None
    df.loc[[5], "y"] = np.inf
    df.loc[[1, 2], "cnt"] = pd.NA
    whole = association_matrix(df, kinds={"cnt": "category"})
    read = [pair_column(df[c], categorical=c == "cnt") for c in df.columns]
    read[0] = pair_column(df["grp"], codes=pd.factorize(df["grp"], use_na_sentinel=True)[0])
    cols = list(df.columns)
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            res = pair_association(read[i], read[j])
            assert res.measure == whole.measure[i, j], (cols[i], cols[j])
            assert res.value == whole.value[i, j] or (
                np.isnan(res.value) and np.isnan(whole.value[i, j])
            ), (cols[i], cols[j])
            assert res.n == whole.n[i, j]
    rows = np.sort(rng.choice(n, 120, replace=False))  # a sample: codes of the whole column
    sub = association_matrix(df.iloc[rows], columns=["grp", "z", "many"])
    codes = pd.factorize(df["grp"], use_na_sentinel=True)[0]
    g = pair_column(df["grp"], codes=codes, rows=rows)
    for j, c in ((1, "z"), (2, "many")):
        assert pair_association(g, pair_column(df[c], rows=rows)).value == sub.value[0, j]
    both = df[["grp", "many"]].dropna()
    chi2 = stats.chi2_contingency(pd.crosstab(both["grp"], both["many"]), correction=False)[0]
    assert pair_association(read[0], read[1]).statistic == pytest.approx(chi2, rel=1e-12)
    z = [g["z"].to_numpy() / 1e200 for _, g in df.dropna(subset=["grp"]).groupby("grp")]
    res = pair_association(read[0], read[-1])
    assert res.statistic == pytest.approx(stats.f_oneway(*z).statistic, rel=1e-9)
    both = df[["grp", "cnt"]].dropna()  # a small table: counted with one bincount
    chi2 = stats.chi2_contingency(pd.crosstab(both["grp"], both["cnt"]), correction=False)[0]
    assert pair_association(read[0], read[3]).statistic == pytest.approx(chi2, rel=1e-12)


@pytest.fixture(scope="module")
def holey_numbers() -> pd.DataFrame:
    """Numeric columns with holes, infinities, a constant, too few pairs and huge integers."""
    rng = np.random.default_rng(23)
    n = 400
    x = rng.normal(size=n)
    x[rng.random(n) < 0.1] = np.nan
    x[[4, 9]] = [np.inf, -np.inf]
    steps = rng.integers(0, 1_000, n)
    few = np.full(n, np.nan)
    few[:2] = [1.0, 2.0]
    return pd.DataFrame(
        {
            "x": x,
            "y": np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0) + rng.normal(size=n),
            # above 2**53, 256 apart: float64 holds each exactly, so scipy sees the same values
            "big": pd.array(2**60 + 256 * steps, dtype="Int64"),
            "cnt": pd.array(rng.integers(0, 5, n), dtype="Int64"),
            "const": np.full(n, 7.5),
            "few": few,
            "jump": np.where(np.isnan(x), 1e5, rng.normal(size=n)),  # ill conditioned with x
        }
    ).assign(cnt=lambda d: d["cnt"].mask(rng.random(n) < 0.05))


def test_numeric_pair_is_the_matrix_cell_and_scipy(holey_numbers: pd.DataFrame) -> None:
    """Two numeric columns read once give the correlation matrix's cell (value, p, n and the
    reason of a NaN) and scipy's pearsonr on the rows where both values are finite. The
    matrix of the two columns is the very same computation; a wider matrix sums its BLAS
    products over more columns and may round its last bit otherwise."""
    from core.correlation import pair_association, pair_column

    df = holey_numbers
    cols = list(df.columns)
    whole = correlation_matrix(df, method="pearson")
    assoc = association_matrix(df)
    read = [pair_column(df[c]) for c in cols]
    # scipy on float64 of 2**60 + 256 k sees a nearly constant column: shift it exactly first
    # (r does not change under a shift)
    ref_df = df.assign(big=df["big"] - 2**60).astype(float).replace([np.inf, -np.inf], np.nan)
    for i in range(len(cols)):
        for j in range(i + 1, len(cols)):
            res = pair_association(read[i], read[j])
            where = (cols[i], cols[j])
            two = correlation_matrix(df, columns=list(where))
            assert res.measure == "pearson"
            for got, want in ((res.value, two.r[0, 1]), (res.p, two.p[0, 1])):
                assert got == want or np.isnan([got, want]).all(), where
            for cell in (whole.r[i, j], assoc.value[i, j]):
                assert res.value == pytest.approx(cell, abs=1e-15, nan_ok=True), where
            assert res.n == two.n[0, 1] == whole.n[i, j] == assoc.n[i, j], where
            assert res.reason == two.reasons.get(where, "") == whole.reasons.get(where, ""), where
            both = ref_df[[cols[i], cols[j]]].dropna()
            if res.reason:
                assert np.isnan(res.value), where
                continue
            ref = stats.pearsonr(both.iloc[:, 0], both.iloc[:, 1])
            assert res.value == pytest.approx(ref.statistic, abs=1e-12), where
            assert res.p == pytest.approx(ref.pvalue, abs=1e-12), where
    assert "'const' is constant" in whole.reasons[("x", "const")]
    assert "only 2 row(s)" in whole.reasons[("y", "few")]


def test_numeric_pair_reads_each_column_once(
    holey_numbers: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column's standardized values are made once for all the pairs it is in, and no pair
    builds a table for the correlation matrix."""
    import core.correlation as correlation

    read = [correlation.pair_column(holey_numbers[c]) for c in ("x", "y", "big", "const")]
    made = []
    standardize = correlation._standardize

    def counted(values: np.ndarray) -> np.ndarray:
        made.extend(i for i, c in enumerate(read) if values is c.numbers)
        return standardize(values)

    def no_table(*args: object, **kwargs: object) -> None:
        raise AssertionError("a numeric pair built a table")

    monkeypatch.setattr(correlation, "_standardize", counted)
    monkeypatch.setattr(correlation, "correlation_matrix", no_table)
    first = [correlation.pair_association(a, b).value for a in read for b in read if a is not b]
    again = [correlation.pair_association(a, b).value for a in read for b in read if a is not b]
    assert sorted(made) == list(range(len(read)))
    np.testing.assert_array_equal(first, again)
