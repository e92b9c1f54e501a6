"""Tests of core.correlation against scipy, hand-worked examples and invariants."""

from __future__ import annotations

import math
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
    correlation_matrix,
    correlation_ratio,
    cramers_v,
    leakage_ranking,
    normalized_mutual_information,
)
from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.limits import CORRELATION_MIN_PAIRS

ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
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
    ],
)
def test_kendall_exact_p_paths_match_scipy(x: np.ndarray, y: np.ndarray) -> None:
    res = correlation_matrix(pd.DataFrame({"x": x, "y": y}), method="kendall")
    ref = stats.kendalltau(x, y)
    assert res.r[0, 1] == pytest.approx(ref.statistic, abs=1e-12)
    assert res.p[0, 1] == pytest.approx(ref.pvalue, abs=1e-12)


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
