"""The DuckDB engine gives the pandas engine's numbers (counts exactly, floats to 1e-9)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.engine import (
    PandasEngine,
    Table,
    attribute_risk,
    choose_engine,
    class_histogram,
    k_anonymity,
    make_engine,
    plans,
    population_uniqueness,
    risk_summary,
)
from core.engine.duckdb_engine import DuckDBEngine
from core.errors import (
    ColumnError,
    CorruptFileError,
    DataLoadError,
    EngineError,
    InvalidParameterError,
    PrivLensError,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"

ADULT_QIS = [
    ["age", "sex", "race"],
    ["age", "sex", "race", "marital-status", "education"],
    ["workclass", "occupation", "native-country", "sex"],
]
TESTDATA_QIS = [["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"], ["sex", "age"]]
FRANCDAT_QIS = [["Key1", "Key2", "Key3", "Key4"], ["Key1", "Key2"]]


def _with_holes(df: pd.DataFrame, columns: list[str], share: float, seed: int) -> pd.DataFrame:
    """A copy with about ``share`` of the cells of ``columns`` made missing."""
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


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    adult = pd.read_csv(ROOT / "data" / "adult.csv")
    adult["w"] = np.random.default_rng(7).uniform(0.5, 60.0, len(adult))
    testdata = _shared("sdcmicro_testdata.csv")
    francdat = _shared("sdcmicro_francdat.csv")
    return {
        "adult": adult,
        "adult_holes": _with_holes(adult, ["age", "education"], 0.03, 1),
        "testdata": testdata,
        "testdata_holes": _with_holes(testdata, ["roof", "walls", "age"], 0.02, 2),
        "francdat": francdat,
        "francdat_holes": _with_holes(francdat, ["Key1", "Key3"], 0.3, 3),
    }


@pytest.fixture(scope="module")
def engines(frames) -> Iterator[tuple[PandasEngine, DuckDBEngine, dict, dict]]:
    pandas_engine = PandasEngine()
    duck = DuckDBEngine(memory_limit="512MB", threads=2)
    pt = {k: pandas_engine.open(v) for k, v in frames.items()}
    dt = {k: duck.open(v) for k, v in frames.items()}
    yield pandas_engine, duck, pt, dt
    duck.close()


def assert_same(a, b) -> None:
    """Every field equal: ints and texts exactly, floats to 1e-9 relative."""
    for f in dataclasses.fields(a):
        if f.name == "engine":
            continue
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name == "histogram":
            for part in ("sizes", "fk", "classes"):
                np.testing.assert_array_equal(getattr(va, part), getattr(vb, part))
        elif isinstance(va, float):
            assert math.isclose(va, vb, rel_tol=1e-9, abs_tol=0.0), (f.name, va, vb)
        else:
            assert va == vb, (f.name, va, vb)


CASES = (
    [("adult", q, "w") for q in ADULT_QIS]
    + [("adult_holes", ADULT_QIS[1], "w")]
    + [("testdata", q, "sampling_weight") for q in TESTDATA_QIS]
    + [("testdata_holes", TESTDATA_QIS[0], "sampling_weight")]
    + [("francdat", q, "w") for q in FRANCDAT_QIS]
    + [("francdat_holes", FRANCDAT_QIS[0], "w")]
)


@pytest.mark.parametrize("missing", ["category", "wildcard"])
@pytest.mark.parametrize(("data", "qis", "weight"), CASES)
def test_risk_summary_equals_pandas(engines, data, qis, weight, missing):
    pandas_engine, duck, pt, dt = engines
    for options in (
        {},
        {"weight_column": weight},
        {"sampling_fraction": 0.05, "threshold": 0.1},
    ):
        ref = risk_summary(pandas_engine, pt[data], qis, missing=missing, **options)
        got = risk_summary(duck, dt[data], qis, missing=missing, **options)
        assert got.engine == "duckdb"
        assert_same(ref, got)
        assert got.n == pt[data].n_rows


ATTRIBUTE_CASES = [
    ("adult", ["age", "sex", "race"], "income"),
    ("adult_holes", ["age", "sex", "race"], "occupation"),
    ("adult", ["education", "sex"], "marital-status"),
    ("testdata_holes", ["urbrur", "roof", "sex"], "water"),
    ("francdat_holes", ["Key1", "Key2"], "Key4"),
]


@pytest.mark.parametrize(("data", "qis", "sensitive"), ATTRIBUTE_CASES)
def test_attribute_risk_equals_pandas(engines, frames, data, qis, sensitive):
    # unordered values: distinct / entropy / recursive l, t (equal distance), delta, beta
    pandas_engine, duck, pt, dt = engines
    if sensitive in ("water", "Key4"):  # numeric codes of categories: read as text
        df = frames[data].assign(**{sensitive: frames[data][sensitive].astype(str)})
        pt = {data: pandas_engine.open(df)}
        dt = {data: duck.open(df)}
    for ell in (2, 3):
        ref = attribute_risk(pandas_engine, pt[data], qis, sensitive, recursive_l=ell)
        got = attribute_risk(duck, dt[data], qis, sensitive, recursive_l=ell)
        assert not ref.ordered
        assert_same(ref, got)


def test_attribute_risk_on_a_numeric_column_equals_pandas(engines):
    # the ordered distance in detail: tests/test_engine_ordered.py
    pandas_engine, duck, pt, dt = engines
    ref = attribute_risk(pandas_engine, pt["adult"], ["sex", "race"], "age")
    got = attribute_risk(duck, dt["adult"], ["sex", "race"], "age")
    assert ref.ordered and got.ordered
    assert_same(ref, got)
    with pytest.raises(ColumnError, match="both a quasi-identifier"):
        attribute_risk(duck, dt["adult"], ["sex"], "sex")
    with pytest.raises(InvalidParameterError, match="recursive_l"):
        attribute_risk(duck, dt["adult"], ["sex"], "age", recursive_l=1)


@pytest.mark.parametrize(
    ("data", "qis"),
    [("adult", ADULT_QIS[1]), ("testdata", TESTDATA_QIS[0])],
)
def test_population_uniqueness_from_the_pushed_down_histogram(engines, data, qis):
    pandas_engine, duck, pt, dt = engines
    for model in (
        {"sampling_fraction": 0.01},
        {"sampling_fraction": 0.3},
        {"population_size": 10**6},
    ):
        ref = population_uniqueness(pandas_engine, pt[data], qis, **model)
        got = population_uniqueness(duck, dt[data], qis, **model)
        assert got == ref  # the same histogram gives the same estimates, digit for digit


def test_summary_matches_core_risk_directly(frames, engines):
    # the reference path is core.risk itself, and the histogram adds up to the table
    from core import risk

    _, duck, _, dt = engines
    df = frames["testdata"]
    qis = TESTDATA_QIS[0]
    got = risk_summary(duck, dt["testdata"], qis, weight_column="sampling_weight")
    ref = risk.risk_summary(df, qis, weight_column="sampling_weight")
    assert (got.k, got.n_classes, got.sample_uniques) == (ref.k, ref.n_classes, ref.sample_uniques)
    assert math.isclose(
        got.expected_reidentifications, ref.individual.expected_reidentifications, rel_tol=1e-9
    )
    assert got.histogram.n == len(df)
    assert got.histogram.n_classes == ref.n_classes


def test_wildcard_hand_worked():
    # a=[1, 1, 2, NA]: the NA row matches all three -> f_k 2, 2, 1+1, 4
    df = pd.DataFrame({"a": [1.0, 1.0, 2.0, np.nan]})
    with DuckDBEngine(memory_limit="128MB") as duck:
        t = duck.open(df)
        assert k_anonymity(duck, t, ["a"], missing="wildcard") == 2
        h = class_histogram(duck, t, ["a"], missing="wildcard")
        got = (h.sizes.tolist(), h.fk.tolist(), h.classes.tolist())
        assert got == ([1, 1, 2], [2, 4, 3], [1, 1, 1])
        assert k_anonymity(duck, t, ["a"]) == 1


def test_parquet_folder_and_glob_equal_the_frame(tmp_path, frames, engines):
    pandas_engine, duck, pt, _ = engines
    df = frames["adult_holes"]
    for i, part in enumerate(np.array_split(np.arange(len(df)), 4)):
        folder = tmp_path / "adult" / f"part={i}"
        folder.mkdir(parents=True)
        df.iloc[part].to_parquet(folder / "data.parquet", index=False)
    qis = ADULT_QIS[0]
    ref = risk_summary(pandas_engine, pt["adult_holes"], qis, weight_column="w")
    for source in (tmp_path / "adult", str(tmp_path / "adult" / "*" / "*.parquet")):
        t = duck.open(source)
        assert t.n_rows == len(df) and t.source.startswith("parquet (4")
        assert_same(ref, risk_summary(duck, t, qis, weight_column="w"))
        again = pandas_engine.open(source)
        assert_same(ref, risk_summary(pandas_engine, again, qis, weight_column="w"))


def test_nan_in_parquet_is_a_missing_value(tmp_path):
    # a Parquet float NaN (not a null) is missing in pandas; DuckDB must agree
    path = tmp_path / "nan.parquet"
    table = pa.table({"a": pa.array([1.0, float("nan"), float("nan"), 2.0]), "b": [1, 1, 1, 1]})
    pq.write_table(table, path)
    pandas_engine = PandasEngine()
    with DuckDBEngine(memory_limit="128MB") as duck:
        for missing in ("category", "wildcard"):
            ref = risk_summary(pandas_engine, pandas_engine.open(path), ["a", "b"], missing=missing)
            assert_same(ref, risk_summary(duck, duck.open(path), ["a", "b"], missing=missing))


def test_awkward_column_names_are_quoted(engines):
    pandas_engine, duck, _, _ = engines
    df = pd.DataFrame({'we"ird name': [1, 1, 2], "select": ["x", "x", "y"], "size": [3, 3, 3]})
    qis = ['we"ird name', "select", "size"]
    assert_same(
        risk_summary(pandas_engine, pandas_engine.open(df), qis),
        risk_summary(duck, duck.open(df), qis),
    )


def test_sample_is_uniform_sized_and_reproducible(engines):
    _, duck, _, dt = engines
    t = dt["adult"]
    a, b = duck.sample(t, 100, seed=3), duck.sample(t, 100, seed=3)
    assert len(a) == 100 and list(a.columns) == list(t.columns)
    pd.testing.assert_frame_equal(a, b)
    assert len(duck.sample(dt["francdat"], 100, seed=1)) == 8
    with pytest.raises(InvalidParameterError, match="positive whole number"):
        duck.sample(t, 0, seed=1)


# --- bad input -----------------------------------------------------------------------------


def _no_values(exc: PrivLensError, df: pd.DataFrame) -> None:
    text = str(exc)
    for v in df.astype(str).stack().unique():
        if len(v) > 3:
            assert v not in text


def test_bad_inputs_give_clear_errors(tmp_path, engines):
    pandas_engine, duck, _, dt = engines
    t = dt["adult"]
    with pytest.raises(ColumnError, match="not found in the table: nope"):
        risk_summary(duck, t, ["age", "nope"])
    with pytest.raises(ColumnError, match="Weight column not found"):
        risk_summary(duck, t, ["age"], weight_column="nope")
    with pytest.raises(InvalidParameterError, match="listed twice"):
        risk_summary(duck, t, ["age", "age"])
    with pytest.raises(InvalidParameterError, match="No quasi-identifiers"):
        risk_summary(duck, t, [])
    with pytest.raises(InvalidParameterError, match="missing must be"):
        risk_summary(duck, t, ["age"], missing="drop")
    with pytest.raises(InvalidParameterError, match="threshold"):
        risk_summary(duck, t, ["age"], threshold=0)
    with pytest.raises(InvalidParameterError, match="0 rows"):
        risk_summary(duck, duck.open(pd.DataFrame({"a": pd.Series([], dtype="int64")})), ["a"])
    with pytest.raises(DataLoadError, match="No Parquet file found"):
        duck.open(tmp_path / "absent")
    with pytest.raises(InvalidParameterError, match="DataFrame or a Parquet path"):
        duck.open(42)  # type: ignore[arg-type]
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not a parquet file")
    for engine in (duck, pandas_engine):
        with pytest.raises(CorruptFileError):
            engine.open(bad)
    with pytest.raises(ColumnError, match="not in the table"):
        duck.query(f"SELECT {duck.quote('nope')} FROM {duck.quote(t.name)}")
    with pytest.raises(InvalidParameterError, match="does not run SQL"):
        pandas_engine.query("SELECT 1")


@pytest.mark.parametrize(
    ("weights", "error"),
    [([1.0, 0.0, 2.0], "1 missing, zero"), ([1.0, np.nan, -2.0], "2 missing, zero")],
)
def test_bad_weights_match_pandas(weights, error):
    df = pd.DataFrame({"a": [1, 1, 2], "w": weights})
    pandas_engine = PandasEngine()
    with DuckDBEngine(memory_limit="128MB") as duck:
        for engine in (pandas_engine, duck):
            with pytest.raises(ColumnError, match=error):
                risk_summary(engine, engine.open(df), ["a"], weight_column="w")


def test_frames_duckdb_would_read_differently_are_refused(engines):
    # DuckDB would read 1 and "1" as one value where pandas keeps two; repeated names clash
    _, duck, _, _ = engines
    with pytest.raises(ColumnError, match="'a' mixes kinds of values"):
        duck.open(pd.DataFrame({"a": pd.Series([1, "1", 2.5], dtype=object)}))
    with pytest.raises(ColumnError):
        duck.open(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_text_weights_are_a_column_error_without_values():
    df = pd.DataFrame({"a": [1, 2], "w": ["secret-one", "secret-two"]})
    with DuckDBEngine(memory_limit="128MB") as duck, pytest.raises(ColumnError) as info:
        risk_summary(duck, duck.open(df), ["a"], weight_column="w")
    _no_values(info.value, df)


def test_out_of_memory_is_an_engine_error(tmp_path):
    # a memory limit far too small for the query and no room to spill
    rng = np.random.default_rng(0)
    df = pd.DataFrame({f"c{j}": rng.integers(0, 10**9, 200_000) for j in range(4)})
    with DuckDBEngine(memory_limit="1MB", threads=1, temp_directory=tmp_path) as duck:
        t = duck.open(df)
        duck.query("SET max_temp_directory_size = '0KB'")
        with pytest.raises(EngineError, match="memory"):
            risk_summary(duck, t, list(df.columns))


def test_bad_settings_are_refused():
    with pytest.raises(InvalidParameterError, match="memory limit"):
        DuckDBEngine(memory_limit="lots")


def test_choose_engine(tmp_path):
    small = tmp_path / "s.parquet"
    pd.DataFrame({"a": [1, 2]}).to_parquet(small)
    assert choose_engine("auto", small) == "duckdb" if small.stat().st_size > 2**28 else "pandas"
    assert choose_engine("auto", pd.DataFrame({"a": [1]})) == "pandas"
    assert choose_engine("duckdb", small) == "duckdb"
    with pytest.raises(InvalidParameterError, match="Unknown engine"):
        choose_engine("polars", small)
    with make_engine("duckdb", memory_limit="128MB") as eng:
        assert isinstance(eng, DuckDBEngine)
    assert isinstance(make_engine("pandas"), PandasEngine)


def test_plans_quote_with_the_engine_given():
    # the plans only use the quote they are given (Spark passes backticks)
    sql = plans.class_table(
        lambda s: f"`{s}`", "t", ["a b", "c"], missing="wildcard", weight="w", patterns=(0, 1, 2)
    )
    assert "`a b`" in sql and '"' not in sql and "`t`" in sql
    assert isinstance(Table(name="t", columns=("a",), n_rows=1), Table)


# --- python -m core analyze --engine -------------------------------------------------------


def _cli(*argv: str) -> tuple[int, str, str]:
    import io

    from core import cli

    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_analyze_engine_duckdb_equals_pandas_on_a_parquet_folder(tmp_path, frames):
    import json

    df = frames["testdata_holes"]
    for i, part in enumerate(np.array_split(np.arange(len(df)), 3)):
        df.iloc[part].to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    qi = "urbrur,roof,sex,relat"
    reports = {}
    for engine in ("pandas", "duckdb"):
        code, out, err = _cli(
            "analyze", str(tmp_path), "--qi", qi, "--engine", engine, "--missing", "wildcard",
            "--memory-limit", "256MB", "--format", "json",
        )  # fmt: skip
        assert code == 0, err
        assert "Computing re-identification risk" in err  # progress on stderr
        reports[engine] = json.loads(out)
    pandas_report, duck_report = reports["pandas"], reports["duckdb"]
    assert duck_report["engine"] == "duckdb" and pandas_report["engine"] == "pandas"
    assert duck_report["rows"] == len(df) and duck_report["warnings"] == pandas_report["warnings"]
    for key, value in pandas_report["risk"].items():
        assert duck_report["risk"][key] == pytest.approx(value, rel=1e-9, abs=0), key
    # auto keeps a small Parquet folder on pandas
    code, out, _ = _cli("analyze", str(tmp_path / "*.parquet"), "--qi", qi, "-q")
    assert code == 0 and "(pandas engine)" in out and "k-anonymity" in out


def test_analyze_engine_errors_exit_1(tmp_path):
    pd.DataFrame({"a": [1, 2]}).to_parquet(tmp_path / "t.parquet")
    code, _, err = _cli("analyze", str(tmp_path / "none-*.parquet"), "--qi", "a", "-q")
    assert code == 1 and "No Parquet file found" in err
    code, _, err = _cli("analyze", str(tmp_path), "--qi", "a", "--engine", "duckdb",
                        "--sensitive", "a", "-q")  # fmt: skip
    assert code == 1 and "No candidate columns" in err and "Traceback" not in err
    code, _, err = _cli("analyze", str(tmp_path), "--qi", "b", "--engine", "duckdb", "-q")
    assert code == 1 and "not found in the table: b" in err
