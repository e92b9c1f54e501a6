"""Ordered-distance t-closeness pushed down to DuckDB equals the pandas engine's.

The Spark engine runs the same SQL; ``tests/test_engine_spark.py`` checks it there, and the
ordered categorical tests below run on both (the session's shared ``spark`` fixture).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.engine import PandasEngine, attribute_risk, plans
from core.engine.duckdb_engine import DuckDBEngine
from core.errors import ColumnError, InvalidParameterError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def _shared(name: str) -> pd.DataFrame:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{name} is not available")
    return pd.read_csv(path)


def _holes(df: pd.DataFrame, columns: list[str], share: float, seed: int) -> pd.DataFrame:
    out = df.copy()
    rng = np.random.default_rng(seed)
    for c in columns:
        hole = rng.random(len(out)) < share
        out[c] = out[c].astype("float64" if out[c].dtype.kind in "iuf" else object)
        out.loc[hole, c] = np.nan if out[c].dtype.kind == "f" else None
    return out


def _brute_ordered(df: pd.DataFrame, qis: list[str], s: str) -> float:
    """Li et al.'s ordered EMD, value by value over every class (missing values left out)."""
    seen = df[df[s].notna()]
    vals = np.sort(seen[s].unique())
    p = seen[s].value_counts(normalize=True).reindex(vals).to_numpy()
    worst = 0.0
    for _, g in seen.groupby(qis, dropna=False):
        q = g[s].value_counts(normalize=True).reindex(vals, fill_value=0).to_numpy()
        worst = max(worst, float(np.abs(np.cumsum(q - p)).sum()) / (len(vals) - 1))
    return worst


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[PandasEngine, DuckDBEngine]]:
    duck = DuckDBEngine(memory_limit="512MB", threads=1)
    yield PandasEngine(), duck
    duck.close()


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    adult = pd.read_csv(ROOT / "data" / "adult.csv")
    testdata = _shared("sdcmicro_testdata.csv")
    francdat = _shared("sdcmicro_francdat.csv")
    return {
        "adult": adult,
        # 5 % holes in the sensitive column and in a QI
        "adult_holes": _holes(adult, ["age", "sex"], 0.05, 1),
        "testdata": testdata,
        "testdata_holes": _holes(testdata, ["income", "roof"], 0.1, 2),
        "francdat": francdat,
        "francdat_holes": _holes(francdat, ["Num1", "Key1"], 0.3, 3),
    }


CASES = [
    ("adult", ["sex", "race"], "age"),
    ("adult", ["education", "sex", "race"], "hours-per-week"),
    ("adult", ["age", "sex"], "capital-gain"),  # mostly zeros: many ties at the split
    ("adult_holes", ["sex", "race", "marital-status"], "age"),
    ("testdata", ["urbrur", "roof", "sex"], "income"),
    ("testdata", ["urbrur", "water"], "age"),
    ("testdata_holes", ["roof", "walls", "sex"], "income"),
    ("francdat", ["Key1", "Key2"], "Num1"),
    ("francdat_holes", ["Key1", "Key2"], "Num1"),  # a class with no observed value
]


@pytest.mark.parametrize(("data", "qis", "sensitive"), CASES)
def test_ordered_t_equals_pandas_and_brute_force(engines, tables, data, qis, sensitive):
    pandas_engine, duck = engines
    df = tables[data]
    ref = attribute_risk(pandas_engine, pandas_engine.open(df), qis, sensitive)
    got = attribute_risk(duck, duck.open(df), qis, sensitive)
    assert ref.ordered and got.ordered
    assert math.isclose(got.t_closeness, ref.t_closeness, rel_tol=1e-9, abs_tol=1e-15)
    assert math.isclose(got.t_closeness, _brute_ordered(df, qis, sensitive), rel_tol=1e-9)
    assert got.warnings == ref.warnings  # the counts of left-out records and classes


def test_ordered_t_hand_worked(engines):
    # p = (1/2, 1/4, 1/4); A = {1, 1}: Q - P = 1/2, 1/4, 0 -> (1/2)(3/4) = 3/8; B the same
    _, duck = engines
    df = pd.DataFrame({"g": [0, 0, 1, 1], "v": [1, 1, 2, 3]})
    got = attribute_risk(duck, duck.open(df), ["g"], "v")
    assert got.ordered and got.t_closeness == pytest.approx(3 / 8, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_ordered_t_on_random_small_tables(engines, seed):
    # few values, many ties and classes that lack values: every branch of the segment sums
    pandas_engine, duck = engines
    rng = np.random.default_rng(seed)
    n = 200
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 4, n),
            "b": rng.choice(["x", "y", None], n),
            "v": rng.choice([0.5, 1.0, 2.0, 3.0, 8.0, np.nan], n, p=[0.4, 0.2, 0.1, 0.1, 0.1, 0.1]),
        }
    )
    ref = attribute_risk(pandas_engine, pandas_engine.open(df), ["a", "b"], "v")
    got = attribute_risk(duck, duck.open(df), ["a", "b"], "v")
    assert math.isclose(got.t_closeness, ref.t_closeness, rel_tol=1e-9, abs_tol=1e-15)
    assert got.warnings == ref.warnings


def test_one_observed_value(engines):
    pandas_engine, duck = engines
    for v in ([5.0, 5.0, np.nan, 5.0], [5, 5, 5, 5]):  # with and without a missing value
        df = pd.DataFrame({"g": [0, 0, 1, 1], "v": v})
        ref = attribute_risk(pandas_engine, pandas_engine.open(df), ["g"], "v")
        got = attribute_risk(duck, duck.open(df), ["g"], "v")
        assert (got.t_closeness, got.ordered, got.warnings) == (
            ref.t_closeness,
            ref.ordered,
            ref.warnings,
        )


def test_the_plan_expands_no_class_to_every_value():
    # the ordered plan pairs classes with the values present in them, never with all values
    sql = plans.ordered_t_closeness(lambda c: f'"{c}"', "t", ["a", "b"], "v")
    assert "CROSS JOIN pv" not in sql and "CROSS JOIN (SELECT v" not in sql


def test_the_standalone_plan_equals_the_one_in_attribute_risk(engines):
    # plans.ordered_t_closeness and the ordered columns of plans.attribute_risk share their
    # CTEs; both give the brute-force distance, holes in a QI and in the value included
    _, duck = engines
    rng = np.random.default_rng(7)
    df = pd.DataFrame(
        {"a": rng.integers(0, 4, 400).astype(float), "b": rng.choice(["x", "y", None], 400)}
    )
    df["v"] = rng.integers(0, 12, 400).astype(float)
    df.loc[rng.random(400) < 0.1, "a"] = np.nan
    df.loc[rng.random(400) < 0.1, "v"] = np.nan
    t = duck.open(df)
    alone = duck.query(plans.ordered_t_closeness(duck.quote, t.name, ["a", "b"], "v")).iloc[0]
    merged = duck.query(
        plans.attribute_risk(duck.quote, t.name, ["a", "b"], "v", recursive_l=2, ordered=True)
    ).iloc[0]
    for col in ("emd_sum", "m_obs", "na_records", "no_value"):
        assert alone[col] == merged[col], col
    m = int(alone["m_obs"])
    want = _brute_ordered(df, ["a", "b"], "v")
    assert math.isclose(float(alone["emd_sum"]) / (m - 1), want, rel_tol=1e-9)
    assert int(alone["na_records"]) == int(df["v"].isna().sum())


# --- ordered categorical sensitive columns ---------------------------------------------------
#
# The pandas engine orders an ordered categorical by its categories (the ones present), not by
# the text of the values nor by their first appearance; the SQL engines must use that order.

#: category order != text order ("alpha" < "high" < "low" < ...) != first appearance
LEVELS = ["none", "low", "mid", "high", "very high", "alpha", "unused"]


def _brute_ordered_by(df: pd.DataFrame, qis: list[str], s: str, order: list) -> float:
    """Li et al.'s ordered EMD over the values of ``order`` present (missing left out)."""
    seen = df[df[s].notna()]
    present = set(seen[s].astype(object))
    vals = [v for v in order if v in present]
    p = seen[s].astype(object).value_counts(normalize=True).reindex(vals).to_numpy()
    worst = 0.0
    for _, g in seen.groupby(qis, dropna=False):
        q = g[s].astype(object).value_counts(normalize=True).reindex(vals, fill_value=0)
        worst = max(worst, float(np.abs(np.cumsum(q.to_numpy() - p)).sum()) / (len(vals) - 1))
    return worst


@pytest.fixture(scope="module")
def graded() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 600
    values = rng.choice(LEVELS[:-1], n, p=[0.3, 0.05, 0.25, 0.1, 0.2, 0.1]).astype(object)
    values[0] = "very high"  # first appearance: very high, then whatever follows
    values[rng.random(n) < 0.05] = None
    return pd.DataFrame(
        {
            "a": rng.integers(0, 5, n),
            "b": rng.choice(["x", "y", "z"], n),
            "v": pd.Categorical(values, categories=LEVELS, ordered=True),
        }
    )


@pytest.fixture(scope="module")
def graded_parquet(graded, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("graded") / "graded.parquet"
    graded.to_parquet(path, row_group_size=250)  # pandas metadata: ordered, categories
    return path


def _same(got, ref) -> None:
    for field in ("distinct_l", "recursive_c", "ordered", "warnings"):
        assert getattr(got, field) == getattr(ref, field), field
    for field in ("entropy_l", "t_closeness", "delta_disclosure", "beta_likeness"):
        assert math.isclose(getattr(got, field), getattr(ref, field), rel_tol=1e-9), field


def test_the_levels_make_the_order_matter(graded):
    # the category order gives another distance than the text order: the test can fail
    by_levels = _brute_ordered_by(graded, ["a", "b"], "v", LEVELS)
    by_text = _brute_ordered_by(graded, ["a", "b"], "v", sorted(LEVELS))
    assert not math.isclose(by_levels, by_text, rel_tol=1e-3)


@pytest.mark.parametrize(
    ("engine", "source"),
    [
        ("duckdb", "frame"),  # the frame's categories
        ("duckdb", "parquet"),  # the ordered dictionary pandas wrote
        ("spark", "parquet"),  # one Spark query (slow): the same plan and the same orders
    ],
)
def test_ordered_categorical_equals_pandas_and_brute_force(
    engines, request, graded, graded_parquet, engine, source
):
    pandas_engine, duck = engines
    eng = duck if engine == "duckdb" else request.getfixturevalue("spark")
    src = graded if source == "frame" else graded_parquet
    ref = attribute_risk(pandas_engine, pandas_engine.open(src), ["a", "b"], "v")
    got = attribute_risk(eng, eng.open(src), ["a", "b"], "v")
    assert ref.ordered and got.ordered
    want = _brute_ordered_by(graded, ["a", "b"], "v", LEVELS)
    assert math.isclose(ref.t_closeness, want, rel_tol=1e-9)
    _same(got, ref)


def test_parquet_files_with_different_categories_are_text_as_in_pandas(engines, tmp_path):
    # pandas concatenates two files whose categories differ into text: the equal distance
    pandas_engine, duck = engines
    one = pd.DataFrame({"g": [0, 0, 1], "v": pd.Categorical(list("bac"), list("cba"), True)})
    two = pd.DataFrame({"g": [1, 2, 2], "v": pd.Categorical(list("abc"), list("cab"), True)})
    one.to_parquet(tmp_path / "p1.parquet")
    two.to_parquet(tmp_path / "p2.parquet")
    ref = attribute_risk(pandas_engine, pandas_engine.open(tmp_path), ["g"], "v")
    got = attribute_risk(duck, duck.open(tmp_path), ["g"], "v")
    assert not ref.ordered
    _same(got, ref)


DECLARED = ["mid", "none", "alpha", "very high", "high", "low"]


def test_a_declared_order_on_text_values(engines, graded, tmp_path):
    # Parquet written without pandas' categorical carries no order: the caller declares one
    pandas_engine, duck = engines
    text = graded.assign(v=graded["v"].astype(object))
    path = tmp_path / "text.parquet"
    text.to_parquet(path)
    want = _brute_ordered_by(text, ["a", "b"], "v", DECLARED)
    for eng, src in ((pandas_engine, text), (duck, text), (duck, path)):
        got = attribute_risk(eng, eng.open(src), ["a", "b"], "v", order=DECLARED)
        assert got.ordered, eng.name
        assert math.isclose(got.t_closeness, want, rel_tol=1e-9), eng.name
    # a declared order overrides the categories' own order
    got = attribute_risk(duck, duck.open(graded), ["a", "b"], "v", order=DECLARED)
    assert math.isclose(got.t_closeness, want, rel_tol=1e-9)


@pytest.mark.parametrize("which", ["pandas", "duckdb"])
def test_a_declared_order_that_misses_a_value_is_refused(engines, graded, which):
    pandas_engine, duck = engines
    eng = pandas_engine if which == "pandas" else duck
    t = eng.open(graded.assign(v=graded["v"].astype(object)))
    with pytest.raises(ColumnError, match="2 distinct value") as info:
        attribute_risk(eng, t, ["a", "b"], "v", order=["mid", "none", "alpha", "very high"])
    assert not re.search(r"\b(high|low)\b", str(info.value))  # no value in the message
    with pytest.raises(InvalidParameterError, match="twice"):
        attribute_risk(eng, t, ["a", "b"], "v", order=["mid", "mid", "low"])


def test_a_declared_order_of_another_kind_is_refused(engines):
    # text for a numeric column: a clear error before the engine compares them
    _, duck = engines
    t = duck.open(pd.DataFrame({"g": [0, 0, 1, 1], "v": [1, 2, 3, 1]}))
    with pytest.raises(ColumnError, match="holds 0 number"):
        attribute_risk(duck, t, ["g"], "v", order=["x", "y", "z"])
    got = attribute_risk(duck, t, ["g"], "v", order=[3, 2, 1])  # reversed: 1/(2) (1/4 + 0)
    assert got.ordered and got.t_closeness == pytest.approx(0.125, rel=1e-12)
