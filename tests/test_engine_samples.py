"""Kendall's tau and SUDA2 on a uniform sample an engine draws: labels, uniformity, intervals."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core.engine import (
    PandasEngine,
    SampledKendall,
    SampledSuda,
    sampled_kendall,
    sampled_suda2,
)
from core.engine.duckdb_engine import DuckDBEngine
from core.engine.samples import wilson_interval
from core.errors import ColumnError, InvalidParameterError
from core.suda import suda2

ROOT = Path(__file__).resolve().parents[1]
N = 60_000


@pytest.fixture(scope="module")
def big() -> pd.DataFrame:
    """Known columns: ``u`` cycles over 10 values, ``pos`` is the row's tenth of the table,
    ``x`` and ``y`` are correlated with a known tau."""
    rng = np.random.default_rng(11)
    i = np.arange(N)
    x = rng.normal(size=N)
    y = 0.6 * x + 0.8 * rng.normal(size=N)
    return pd.DataFrame({"u": i % 10, "pos": i * 10 // N, "x": x, "y": y})


@pytest.fixture(scope="module")
def duck(big) -> Iterator[tuple[DuckDBEngine, object]]:
    eng = DuckDBEngine(memory_limit="512MB", threads=1)
    yield eng, eng.open(big)
    eng.close()


def test_the_sample_is_reproducible_by_seed(duck):
    eng, t = duck
    a = eng.sample(t, 500, 4)
    pd.testing.assert_frame_equal(a, eng.sample(t, 500, 4))
    assert not a.equals(eng.sample(t, 500, 5))
    assert len(a) == 500 and a.duplicated().sum() == 0  # without replacement


@pytest.mark.parametrize("column", ["u", "pos"])
def test_the_sample_is_uniform(duck, column):
    # a value column and the row's position: each of the 10 groups holds a tenth of the table,
    # so a uniform sample of 3,000 rows has about 300 of each (chi-square, 9 degrees)
    eng, t = duck
    pvalues = []
    for seed in range(5):
        counts = eng.sample(t, 3_000, seed)[column].value_counts().reindex(range(10))
        pvalues.append(stats.chisquare(counts.to_numpy()).pvalue)
    assert min(pvalues) > 1e-3, pvalues
    # the test has power: the first 3,000 rows (all in the first tenth) fail it
    head = eng.query(f"SELECT * FROM {eng.quote(t.name)} LIMIT 3000")[column]
    counts = head.value_counts().reindex(range(10), fill_value=0).to_numpy()
    assert column == "u" or stats.chisquare(counts + 1).pvalue < 1e-100


def test_kendall_labels_and_interval_cover_the_full_table(duck, big):
    eng, t = duck
    k = sampled_kendall(eng, t, ["x", "y"], sample_rows=2_000, seed=3)
    assert isinstance(k, SampledKendall) and k.engine == "duckdb"
    assert (k.sampled, k.sample_rows, k.population_rows, k.seed) == (True, 2_000, N, 3)
    # tau on the sample is scipy's on the same rows
    rows = eng.sample(t, 2_000, 3)
    want = stats.kendalltau(rows["x"], rows["y"]).statistic
    assert math.isclose(k.tau[0, 1], want, rel_tol=1e-12)
    # Fieller et al.: tanh(atanh(tau) -/+ 1.96 sqrt(0.437 / (n - 4)))
    half = stats.norm.ppf(0.975) * math.sqrt(0.437 / (2_000 - 4))
    assert math.isclose(k.ci_low[0, 1], math.tanh(math.atanh(want) - half), rel_tol=1e-9)
    assert math.isclose(k.ci_high[0, 1], math.tanh(math.atanh(want) + half), rel_tol=1e-9)
    # the full table's tau (scipy, all 60,000 rows) is inside the sample's interval
    full = stats.kendalltau(big["x"], big["y"]).statistic
    assert k.ci_low[0, 1] < full < k.ci_high[0, 1]
    assert abs(k.tau[0, 1] - full) > 0  # an estimate, not the full value


def test_kendall_on_the_whole_table_is_not_labelled_sampled():
    eng = PandasEngine()
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [2, 1, 4, 3, 6, 5]})
    k = sampled_kendall(eng, eng.open(df), ["a", "b"], sample_rows=100)
    assert (k.sampled, k.sample_rows, k.population_rows) == (False, 6, 6)
    assert math.isclose(k.tau[0, 1], stats.kendalltau(df["a"], df["b"]).statistic)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (3, 10), (10, 10), (81, 263), (1, 2_000)])
def test_wilson_interval_equals_scipy(x, n):
    want = stats.binomtest(x, n).proportion_ci(confidence_level=0.95, method="wilson")
    low, high = wilson_interval(x, n, 0.95)
    assert math.isclose(low, want.low, rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(high, want.high, rel_tol=1e-9, abs_tol=1e-12)


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return pd.read_csv(ROOT / "data" / "adult.csv")


QIS = ["age", "sex", "race", "marital-status"]


def test_suda_on_a_sample_is_core_suda_on_the_drawn_rows(adult):
    eng = DuckDBEngine(memory_limit="256MB", threads=1)
    try:
        t = eng.open(adult)
        s = sampled_suda2(eng, t, QIS, sample_rows=1_500, seed=2, max_size=3)
        rows = eng.sample(t, 1_500, 2)[QIS]
    finally:
        eng.close()
    assert isinstance(s, SampledSuda) and s.engine == "duckdb"
    assert (s.sampled, s.sample_rows, s.population_rows) == (True, 1_500, len(adult))
    pi = 0.01 * 1_500 / len(adult)
    ref = suda2(rows.reset_index(drop=True), QIS, max_size=3, dis_fraction=pi)
    assert s.special_uniques == ref.special_uniques > 0
    assert s.special_unique_share == ref.special_uniques / 1_500
    assert math.isclose(s.mean_dis_score, float(ref.dis_score.mean()), rel_tol=1e-12)
    assert math.isclose(s.dis_fraction, pi) and math.isclose(s.dis, ref.dis)
    assert (s.share_low, s.share_high) == wilson_interval(ref.special_uniques, 1_500, 0.95)
    assert s.share_low < s.special_unique_share < s.share_high


def test_suda_interval_covers_the_share_of_samples_of_that_size(adult):
    # the interval is that of the share across samples of this size: the mean share over
    # 20 other seeded samples lies inside the interval of one
    eng = PandasEngine()
    t = eng.open(adult)
    one = sampled_suda2(eng, t, QIS, sample_rows=800, seed=0, max_size=2)
    shares = [
        sampled_suda2(eng, t, QIS, sample_rows=800, seed=s, max_size=2).special_unique_share
        for s in range(1, 21)
    ]
    assert one.share_low < float(np.mean(shares)) < one.share_high
    # a sample has more special uniques than the whole table: the label matters
    whole = suda2(adult, QIS, max_size=2)
    assert whole.special_uniques / len(adult) < one.share_low


def test_bad_parameters_are_clear_errors(duck):
    eng, t = duck
    with pytest.raises(ColumnError, match="not found"):
        sampled_kendall(eng, t, ["x", "nope"])
    with pytest.raises(InvalidParameterError, match="sample size"):
        sampled_kendall(eng, t, ["x", "y"], sample_rows=0)
    with pytest.raises(InvalidParameterError, match="seed"):
        sampled_suda2(eng, t, ["u"], seed=-1)
    with pytest.raises(InvalidParameterError, match="confidence"):
        sampled_kendall(eng, t, ["x", "y"], confidence=1.0)
    with pytest.raises(InvalidParameterError, match="dis_fraction"):
        sampled_suda2(eng, t, ["u"], dis_fraction=0.0)


def test_analyze_reports_the_samples_labelled(tmp_path, adult):
    import io
    import json

    from core import cli

    path = tmp_path / "adult.parquet"
    adult.to_parquet(path)
    argv = [
        "analyze", "--engine", "duckdb", str(path), "--qi", "age,sex,race",
        "--suda-sample", "1000", "--kendall", "age,hours-per-week", "--sample-rows", "3000",
        "--seed", "5",
    ]  # fmt: skip
    out, err = io.StringIO(), io.StringIO()
    assert cli.main([*argv, "--format", "json"], stdout=out, stderr=err) == 0
    got = json.loads(out.getvalue())["sampled"]
    eng = DuckDBEngine(memory_limit="256MB", threads=1)
    try:
        t = eng.open(path)
        su = sampled_suda2(eng, t, ["age", "sex", "race"], sample_rows=1_000, seed=5)
        kt = sampled_kendall(eng, t, ["age", "hours-per-week"], sample_rows=3_000, seed=5)
    finally:
        eng.close()
    assert got["suda2"]["special_unique_share"] == su.special_unique_share
    assert got["suda2"]["ci"] == [su.share_low, su.share_high]
    assert (got["suda2"]["sample_rows"], got["suda2"]["population_rows"]) == (1_000, len(adult))
    assert got["kendall"]["pairs"][0]["tau"] == float(kt.tau[0, 1])
    text = io.StringIO()
    assert cli.main(argv, stdout=text, stderr=io.StringIO()) == 0
    assert "SUDA2 on a uniform sample of 1,000 of 32,561 rows" in text.getvalue()
    assert "Kendall's tau on a uniform sample of 3,000 of 32,561 rows" in text.getvalue()
