"""Correlations, associations and the leakage ranking on DuckDB and Spark equal the pandas code.

Counts, kinds, measures, reasons and warnings are compared exactly; floats to 1e-9 relative
(with a 1e-12 absolute floor: a coefficient that is 0 in exact arithmetic is rounding noise
of either side).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from core import correlation as corr
from core.engine import (
    PandasEngine,
    association_matrix,
    correlation_matrix,
    leakage_ranking,
)
from core.engine.duckdb_engine import DuckDBEngine
from core.errors import ColumnError, InvalidParameterError, PrivLensError

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def _with_holes(df: pd.DataFrame, columns: list[str], share: float, seed: int) -> pd.DataFrame:
    out = df.copy()
    rng = np.random.default_rng(seed)
    for c in columns:
        hole = rng.random(len(out)) < share
        out[c] = out[c].astype("float64" if out[c].dtype.kind in "iuf" else object)
        out.loc[hole, c] = np.nan if out[c].dtype.kind == "f" else None
    return out


def _shared(name: str) -> pd.DataFrame:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{name} is not available")
    return pd.read_csv(path)


def _awkward() -> pd.DataFrame:
    """Ties, holes, infinities, a constant and an all-missing column, integers float64 would
    round, a boolean, text and codes declared categorical."""
    rng = np.random.default_rng(5)
    n = 60
    x = rng.integers(0, 6, n).astype(float)
    x[[3, 17, 40]] = np.nan
    y = x * 2 + rng.integers(0, 3, n)
    y[[5, 9]] = [np.inf, -np.inf]
    big = 2**60 + rng.integers(0, 4, n)  # distinct integers that float64 rounds to one value
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "z": rng.normal(1e6, 1e-3, n),  # a large offset and a tiny spread
            "big": big.astype("int64"),
            "const": np.full(n, 7.0),
            "empty": np.full(n, np.nan),
            "flag": rng.random(n) < 0.3,
            "city": rng.choice(["a", "b", "c", None], n),
            "code": rng.integers(1, 4, n),
            "id": [f"r{i}" for i in range(n)],
            "s": rng.choice(["m", "f"], n),
        }
    )


CODES = {"code": "category"}


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    adult = pd.read_csv(ROOT / "data" / "adult.csv")
    testdata = _shared("sdcmicro_testdata.csv")
    francdat = _shared("sdcmicro_francdat.csv")
    return {
        "adult": adult,
        "adult_holes": _with_holes(adult, ["age", "education", "hours-per-week"], 0.03, 1),
        "testdata": testdata,
        "testdata_holes": _with_holes(testdata, ["roof", "walls", "age", "income"], 0.02, 2),
        "francdat": francdat,
        "francdat_holes": _with_holes(francdat, ["Key1", "Key3", "Num1"], 0.3, 3),
        "awkward": _awkward(),
        "two_rows": pd.DataFrame({"a": [1.0, 2.0], "b": [3, 1], "c": ["u", "v"]}),
    }


@pytest.fixture(scope="module")
def duck(frames) -> Iterator[tuple[DuckDBEngine, dict]]:
    eng = DuckDBEngine(memory_limit="512MB", threads=2)
    yield eng, {k: eng.open(v) for k, v in frames.items()}
    eng.close()


def close(a: object, b: object) -> None:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def same_correlation(a: corr.CorrelationMatrix, b: corr.CorrelationMatrix) -> None:
    assert (a.method, a.columns, a.rows_used, a.rows_total) == (
        b.method, b.columns, b.rows_used, b.rows_total,
    )  # fmt: skip
    np.testing.assert_array_equal(a.n, b.n)
    assert dict(a.reasons) == dict(b.reasons)
    assert a.warnings == b.warnings
    for f in ("r", "p", "p_adjusted", "ci_low", "ci_high"):
        close(getattr(a, f), getattr(b, f))


def same_association(a: corr.AssociationMatrix, b: corr.AssociationMatrix) -> None:
    assert (a.columns, a.kinds) == (b.columns, b.kinds)
    np.testing.assert_array_equal(a.n, b.n)
    np.testing.assert_array_equal(a.measure, b.measure)
    assert dict(a.reasons) == dict(b.reasons)
    assert a.warnings == b.warnings
    for f in ("value", "p", "p_adjusted"):
        close(getattr(a, f), getattr(b, f))


FLOATS = ["association", "nmi", "score", "guess_accuracy", "baseline_accuracy", "lift"]


def same_leakage(a: corr.LeakageReport, b: corr.LeakageReport) -> None:
    assert (a.sensitive, a.sensitive_binned, a.proxy_threshold, a.warnings) == (
        b.sensitive, b.sensitive_binned, b.proxy_threshold, b.warnings,
    )  # fmt: skip
    close(a.baseline_accuracy, b.baseline_accuracy)
    fa, fb = a.frame(), b.frame()
    pd.testing.assert_frame_equal(fa.drop(columns=FLOATS), fb.drop(columns=FLOATS))
    for c in FLOATS:
        close(fa[c].astype(float), fb[c].astype(float))


SENSITIVE = {
    "adult": "income",
    "adult_holes": "income",
    "testdata": "income",  # numeric with many values: quantile bins
    "testdata_holes": "income",
    "francdat": "Num1",
    "francdat_holes": "Num1",
    "awkward": "s",
}


@pytest.mark.parametrize("data", list(SENSITIVE))
@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_matrix_equals_pandas(frames, duck, data, method):
    eng, tables = duck
    df = frames[data]
    kinds = CODES if data == "awkward" else None
    same_correlation(
        corr.correlation_matrix(df, method=method, kinds=kinds),
        correlation_matrix(eng, tables[data], method=method, kinds=kinds),
    )


#: Every kind of pair on every row, on fewer columns (each pair is one group-by; suite time)
SUBSET = {
    "adult": ["age", "workclass", "education", "education-num", "sex", "hours-per-week",
              "income"],
    "testdata": ["urbrur", "roof", "walls", "sex", "age", "expend", "income", "savings"],
}  # fmt: skip


def _subset(data: str) -> list[str] | None:
    return SUBSET.get(data.split("_")[0]) if data != "two_rows" else None


#: Adult and testdata with and without holes run the same plans: one of each (suite time)
GROUPED = ["adult_holes", "testdata", "francdat", "francdat_holes", "awkward"]


@pytest.mark.parametrize("data", GROUPED)
def test_association_matrix_equals_pandas(frames, duck, data):
    eng, tables = duck
    kinds = CODES if data == "awkward" else None
    method = "spearman" if data.startswith("testdata") else "pearson"
    cols = _subset(data)
    same_association(
        corr.association_matrix(frames[data], columns=cols, numeric_method=method, kinds=kinds),
        association_matrix(eng, tables[data], cols, numeric_method=method, kinds=kinds),
    )


@pytest.mark.parametrize("data", GROUPED)
def test_leakage_ranking_equals_pandas(frames, duck, data):
    eng, tables = duck
    kinds = CODES if data == "awkward" else None
    s, cols = SENSITIVE[data], _subset(data)
    expected = corr.leakage_ranking(frames[data], sensitive=s, columns=cols, top=3, kinds=kinds)
    got = leakage_ranking(eng, tables[data], s, columns=cols, top=3, kinds=kinds)
    same_leakage(expected, got)
    if data == "testdata":
        assert got.sensitive_binned


def test_two_rows_and_columns_chosen(frames, duck):
    eng, tables = duck
    df = frames["two_rows"]
    same_correlation(
        corr.correlation_matrix(df, columns=["b", "a"]),
        correlation_matrix(eng, tables["two_rows"], ["b", "a"]),
    )
    same_association(corr.association_matrix(df), association_matrix(eng, tables["two_rows"]))
    same_leakage(
        corr.leakage_ranking(df, sensitive="c"), leakage_ranking(eng, tables["two_rows"], "c")
    )


def test_spearman_averages_tied_ranks_as_scipy():
    # ties in both columns, a hole in each: scipy on the complete rows is the reference
    x = [1, 2, 2, 3, 3, 3, None, 4, 5, 5]
    y = [2.0, 1.0, 1.0, 5.0, 4.0, 4.0, 3.0, np.nan, 6.0, 6.0]
    df = pd.DataFrame({"x": pd.array(x, dtype="Int64"), "y": y})
    keep = df.notna().all(axis=1)
    ref = stats.spearmanr(df["x"][keep].astype(float), df["y"][keep]).statistic
    with DuckDBEngine(memory_limit="256MB") as eng:
        m = correlation_matrix(eng, eng.open(df), method="spearman")
    assert int(m.n[0, 1]) == int(keep.sum()) == 8
    assert math.isclose(m.r[0, 1], ref, rel_tol=1e-12)


def test_pearson_survives_extreme_scales():
    # 1e300 would overflow in a sum of squares and 1e-300 underflow, without the scaling
    base = np.array([1.0, 2.0, 4.0, 3.0, 7.0])
    df = pd.DataFrame({"huge": base * 1e300, "tiny": base[::-1] * 1e-300, "one": base})
    with DuckDBEngine(memory_limit="256MB") as eng:
        same_correlation(corr.correlation_matrix(df), correlation_matrix(eng, eng.open(df)))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        # Kendall needs every pair of rows: a sample, not the engine
        (lambda e, t: correlation_matrix(e, t, method="kendall"), InvalidParameterError,
         "Kendall"),
        # text is not a quantity
        (lambda e, t: correlation_matrix(e, t, ["x", "city"]), InvalidParameterError,
         "not numeric"),
        # codes declared categorical on the Data page
        (lambda e, t: correlation_matrix(e, t, ["x", "code"], kinds=CODES),
         InvalidParameterError, "declared categorical"),
        (lambda e, t: correlation_matrix(e, t, ["x", "nope"]), ColumnError, "not in the table"),
        (lambda e, t: association_matrix(e, t, ["x"]), InvalidParameterError, "at least 2"),
        (lambda e, t: leakage_ranking(e, t, "nope"), ColumnError, "sensitive attribute"),
        (lambda e, t: leakage_ranking(e, t, "const"), InvalidParameterError, "constant"),
        (lambda e, t: leakage_ranking(e, t, "empty"), InvalidParameterError, "no values"),
        (lambda e, t: leakage_ranking(e, t, "s", top=0), InvalidParameterError, "top"),
    ],
)  # fmt: skip
def test_bad_requests_give_the_pandas_errors(frames, duck, call, error, match):
    eng, tables = duck
    pandas_engine = PandasEngine()
    reference = pandas_engine.open(frames["awkward"])
    with pytest.raises(error, match=match) as on_pandas:
        call(pandas_engine, reference)
    with pytest.raises(error, match=match) as on_duckdb:
        call(eng, tables["awkward"])
    assert str(on_duckdb.value) == str(on_pandas.value)
    values = {str(v) for v in frames["awkward"]["id"]} | {"m", "f", "a", "b", "c"}
    assert not any(f"'{v}'" in str(on_duckdb.value) for v in values)


def test_engine_results_render_like_the_pandas_ones(frames, duck):
    # pages render the pairs frames: the same columns and the same order of pairs
    eng, tables = duck
    a = corr.association_matrix(frames["francdat"])
    b = association_matrix(eng, tables["francdat"])
    assert list(a.pairs()[["column_a", "column_b"]].itertuples(index=False)) == list(
        b.pairs()[["column_a", "column_b"]].itertuples(index=False)
    )


# --- Spark ---------------------------------------------------------------------------------


def test_spark_equals_pandas_on_a_small_frame(spark):
    # Spark SQL accepts every plan DuckDB runs; a tiny frame, since each Spark query costs
    # seconds in local mode. Spearman: x has a hole (y and w are ranked on the rows where x
    # is present as well as on all rows), y and w are complete. The leakage ranking runs the
    # association matrix (Pearson, eta, Cramér's V), the quantile bins (bins=3 cuts y) and
    # the contingency sums.
    df = pd.DataFrame(
        {"x": [1.0, 2, 2, 3, np.nan, 5, 6, 1], "y": [2, 1, 3, 3, 4, 6, 5, 2],
         "w": [1, 1, 2, 2, 3, 3, 4, 4], "c": list("aabbaabb"), "d": list("uuvvuvvu")}
    )  # fmt: skip
    t = spark.open(df)
    same_correlation(
        corr.correlation_matrix(df, method="spearman"),
        correlation_matrix(spark, t, method="spearman"),
    )
    same_leakage(
        corr.leakage_ranking(df, sensitive="c", columns=["x", "y", "d"], bins=3),
        leakage_ranking(spark, t, "c", columns=["x", "y", "d"], bins=3),
    )


# --- command line --------------------------------------------------------------------------


def _cli(*argv: str) -> tuple[int, str, str]:
    import io

    from core import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_analyze_prints_the_leakage_ranking_on_duckdb(tmp_path, frames):
    df = frames["adult_holes"][["age", "sex", "race", "education", "income"]].iloc[:1000]
    for i, part in enumerate(np.array_split(np.arange(len(df)), 2)):
        df.iloc[part].to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    glob = str(tmp_path / "*.parquet")
    args = ["analyze", glob, "--qi", "age,sex", "--sensitive", "income,race", "--top", "3"]
    reports = {}
    for engine in ("pandas", "duckdb"):
        code, out, _ = _cli(*args, "--engine", engine, "--format", "json", "-q")
        assert code == 0
        reports[engine] = json.loads(out)
    expected, got = reports["pandas"], reports["duckdb"]
    assert [x["sensitive"] for x in got["leakage"]] == ["income", "race"]
    assert got["warnings"] == expected["warnings"]
    for e, g in zip(expected["leakage"], got["leakage"], strict=True):
        assert (g["sensitive"], g["proxies"]) == (e["sensitive"], e["proxies"])
        assert math.isclose(g["baseline_accuracy"], e["baseline_accuracy"], rel_tol=1e-9)
        assert [r["column"] for r in g["top"]] == [r["column"] for r in e["top"]]
        for re_, rg in zip(e["top"], g["top"], strict=True):
            for key in ("score", "association", "nmi", "guess_accuracy", "lift"):
                assert math.isclose(rg[key], re_[key], rel_tol=1e-9, abs_tol=1e-12)
    code, text, _ = _cli(*args, "--engine", "duckdb", "-q")
    assert code == 0 and "(duckdb engine)" in text and "Leakage of 'income'" in text


def test_errors_name_no_values(duck):
    eng, tables = duck
    with pytest.raises(PrivLensError) as info:
        leakage_ranking(eng, tables["awkward"], "s", columns=["x", "missing_column"])
    assert "missing_column" in str(info.value)
