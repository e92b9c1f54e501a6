"""The Spark engine gives the pandas engine's numbers (counts exactly, floats to 1e-9).

One local Spark session (``local[1]``) serves the whole file: starting its JVM is the slow
part. A machine without PySpark or Java fails here, it does not skip: ``scripts/test``
installs both.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.engine import PandasEngine, class_histogram, make_engine, risk_summary
from core.engine import spark_engine as spark_module
from core.engine.duckdb_engine import DuckDBEngine
from core.engine.spark_engine import SparkEngine
from core.errors import (
    ColumnError,
    CorruptFileError,
    DataLoadError,
    EngineError,
    InvalidParameterError,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"



def _with_holes(df: pd.DataFrame, columns: list[str], share: float, seed: int) -> pd.DataFrame:
    """A copy with about ``share`` of the cells of ``columns`` missing (NaN or None)."""
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
        "adult_holes": _with_holes(adult, ["age", "race", "education"], 0.03, 1),
        "testdata_holes": _with_holes(testdata, ["roof", "walls", "age"], 0.02, 2),
        "francdat": francdat,
        "francdat_holes": _with_holes(francdat, ["Key1", "Key3"], 0.3, 3),
    }


@pytest.fixture(scope="module")
def opened(spark, frames):
    pandas_engine = PandasEngine()
    duck = DuckDBEngine(memory_limit="512MB", threads=1)
    tables = {k: (pandas_engine.open(v), duck.open(v), spark.open(v)) for k, v in frames.items()}
    yield pandas_engine, duck, tables
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


CASES = [
    # Adult with 3 % holes in three QIs (float NaN in age, None in the texts), a made-up
    # weight (Adult as shipped, without holes, is read from Parquet below)
    ("adult_holes", ["age", "sex", "race", "marital-status", "education"], "w"),
    # sdcMicro's testdata with holes, its sampling weights
    (
        "testdata_holes",
        ["urbrur", "roof", "walls", "water", "electcon", "relat", "sex"],
        "sampling_weight",
    ),
    # francdat with 30 % holes in two keys, its weights
    ("francdat_holes", ["Key1", "Key2", "Key3", "Key4"], "w"),
]


#: The wildcard rule joins classes per pair of missingness patterns: on a one-thread local
#: session Adult's eight patterns take minutes, so it runs on the two smaller tables here.
RUNS = [(*case, "category") for case in CASES] + [
    (*case, "wildcard") for case in CASES if case[0] != "adult_holes"
]


@pytest.mark.parametrize(("data", "qis", "weight", "missing"), RUNS)
def test_risk_summary_equals_pandas_and_duckdb(opened, spark, data, qis, weight, missing):
    pandas_engine, duck, tables = opened
    pt, dt, st = tables[data]
    got = risk_summary(spark, st, qis, missing=missing, weight_column=weight)
    assert got.engine == "spark"
    assert_same(risk_summary(pandas_engine, pt, qis, missing=missing, weight_column=weight), got)
    assert_same(risk_summary(duck, dt, qis, missing=missing, weight_column=weight), got)


def test_journalist_risk_with_a_sampling_fraction(opened, spark):
    pandas_engine, _, tables = opened
    pt, _, st = tables["testdata_holes"]
    qis = ["urbrur", "roof", "walls", "sex"]
    want = risk_summary(pandas_engine, pt, qis, sampling_fraction=0.1)
    got = risk_summary(spark, st, qis, sampling_fraction=0.1)
    assert got.journalist is not None
    assert_same(want, got)


def test_a_frame_keeps_its_columns_rows_and_missing_values(spark):
    df = pd.DataFrame(
        {
            "x": [1.0, np.nan, np.nan, 2.0, 1.0],
            "s": pd.Series(["a", None, "a", "b", "a"], dtype="string"),
            "c": pd.Categorical(["u", "v", "u", None, "u"]),
        }
    )
    t = spark.open(df)
    assert (t.columns, t.n_rows, t.source) == (("x", "s", "c"), 5, "frame")
    nulls = spark.query(
        "SELECT SUM(CASE WHEN x IS NULL THEN 1 ELSE 0 END) AS x, "
        "SUM(CASE WHEN s IS NULL THEN 1 ELSE 0 END) AS s, "
        f"SUM(CASE WHEN c IS NULL THEN 1 ELSE 0 END) AS c FROM {spark.quote(t.name)}"
    )
    assert nulls.iloc[0].tolist() == [2, 1, 1]  # NaN is missing, as in pandas
    pe = PandasEngine()
    for missing in ("category", "wildcard"):
        want = class_histogram(pe, pe.open(df), ["x", "s", "c"], missing=missing)
        got = class_histogram(spark, t, ["x", "s", "c"], missing=missing)
        assert (got.sizes.tolist(), got.fk.tolist(), got.classes.tolist()) == (
            want.sizes.tolist(),
            want.fk.tolist(),
            want.classes.tolist(),
        )


def test_parquet_folder_and_glob(spark, frames, tmp_path):
    adult = frames["adult"][["age", "sex", "race", "w"]]
    folder = tmp_path / "adult"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(adult)), 3)):
        pq.write_table(
            pa.Table.from_pandas(adult.iloc[part], preserve_index=False),
            folder / f"part-{i}.parquet",
        )
    (folder / "README.txt").write_text("not a table\n")  # skipped: not .parquet
    pe = PandasEngine()
    want = risk_summary(pe, pe.open(adult), ["age", "sex", "race"], weight_column="w")
    t = spark.open(folder)
    assert t.n_rows == len(adult) and t.source == "parquet (3 file(s))"
    assert set(t.columns) == {"age", "sex", "race", "w"}
    assert_same(want, risk_summary(spark, t, ["age", "sex", "race"], weight_column="w"))
    g = spark.open(str(folder / "part-*.parquet"))  # a glob names the same files
    assert (g.n_rows, g.source, set(g.columns)) == (t.n_rows, t.source, set(t.columns))


def test_sample_is_uniform_sized_and_reproducible(opened, spark):
    _, _, tables = opened
    st = tables["adult"][2]
    a, b = spark.sample(st, 25, seed=3), spark.sample(st, 25, seed=3)
    assert len(a) == 25 and list(a.columns) == list(st.columns)
    pd.testing.assert_frame_equal(a, b)
    francdat = tables["francdat"][2]
    assert len(spark.sample(francdat, 100, seed=1)) == 8  # min(n, rows)
    with pytest.raises(InvalidParameterError, match="sample size"):
        spark.sample(st, 0, seed=1)


def test_bad_inputs_are_clear_errors(opened, spark, tmp_path):
    _, _, tables = opened
    st = tables["adult"][2]
    with pytest.raises(ColumnError, match="not in the table"):
        spark.query(f"SELECT COUNT(DISTINCT `no such column`) AS n FROM {spark.quote(st.name)}")
    with pytest.raises(ColumnError, match="could not be converted"):
        risk_summary(spark, st, ["age", "sex"], weight_column="education")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 this is not a Parquet file")
    with pytest.raises(CorruptFileError):
        spark.open(bad)
    with pytest.raises(DataLoadError, match="No Parquet file"):
        spark.open(tmp_path / "missing" / "*.parquet")
    with pytest.raises(InvalidParameterError, match="DataFrame or a Parquet path"):
        spark.open([1, 2, 3])  # type: ignore[arg-type]


def test_a_row_level_result_is_refused(opened, spark, monkeypatch):
    _, _, tables = opened
    st = tables["francdat"][2]
    monkeypatch.setattr(spark_module, "SPARK_COLLECT_ROWS_MAX", 5)
    with pytest.raises(EngineError, match="more than 5 rows"):
        spark.query(f"SELECT * FROM {spark.quote(st.name)}")  # 8 rows
    assert len(spark.query(f"SELECT Key1 FROM {spark.quote(st.name)} GROUP BY Key1")) <= 5


def test_spark_connect_settings_are_checked():
    with pytest.raises(InvalidParameterError, match="sc://"):
        SparkEngine(remote="http://127.0.0.1:15002")
    with pytest.raises(InvalidParameterError, match="not both"):
        SparkEngine(master="local[1]", remote="sc://127.0.0.1:1")
    # nothing listens on port 1 of loopback (or the connect extra is missing): a clear error
    with pytest.raises(EngineError, match="Spark Connect"):
        make_engine("spark", remote="sc://127.0.0.1:1")


def test_a_jvm_that_cannot_start_is_a_clear_error(tmp_path):
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-java")}
    code = (
        "from core.engine.spark_engine import SparkEngine\n"
        "from core.errors import EngineError\n"
        "try:\n"
        "    SparkEngine(master='local[1]')\n"
        "except EngineError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "Java" in out.stdout and "default-jre-headless" in out.stdout, out.stdout


def test_ordered_t_closeness_equals_pandas(opened, spark):
    # the ordered distance (numeric sensitive column, with holes) on Spark's window functions
    from core.engine import attribute_risk

    pandas_engine, _, tables = opened
    pt, _, st = tables["testdata_holes"]
    want = attribute_risk(pandas_engine, pt, ["urbrur", "roof", "sex"], "age")
    got = attribute_risk(spark, st, ["urbrur", "roof", "sex"], "age")
    assert want.ordered and got.ordered and got.engine == "spark"
    assert_same(want, got)


def test_a_url_goes_to_spark_unchanged(spark, frames, tmp_path):
    # a path with a scheme is Spark's to resolve: file:// here, s3a:// or hdfs:// on a cluster
    adult = frames["adult"][["age", "sex", "race"]]
    pq.write_table(pa.Table.from_pandas(adult, preserve_index=False), tmp_path / "a.parquet")
    t = spark.open((tmp_path / "a.parquet").as_uri())
    assert (t.n_rows, t.source) == (len(adult), "parquet (URL)")
    pe = PandasEngine()
    want = risk_summary(pe, pe.open(adult), ["age", "sex"])
    assert_same(want, risk_summary(spark, t, ["age", "sex"]))
    with pytest.raises(DataLoadError, match="no file at the URL"):
        spark.open((tmp_path / "none.parquet").as_uri())
    # no local check of a cluster path: Spark answers (here, it has no s3a connector)
    with pytest.raises(EngineError, match="connector"):
        spark.open("s3a://privlens-no-such-bucket/data/")


_CONNECT_RUN = """
import json, sys
import pandas as pd
from core.engine import risk_summary
from core.engine.spark_engine import SparkEngine
fast = json.loads(sys.argv[1])
with SparkEngine(remote="local[1]", shuffle_partitions=1, config=fast) as eng:
    kind = type(eng.session).__module__
    t = eng.open(sys.argv[2])
    s = risk_summary(eng, t, json.loads(sys.argv[3]), weight_column="w")
print(json.dumps({"kind": kind, "source": t.source, "summary": {
    k: getattr(s, k) for k in ("n", "k", "n_classes", "sample_uniques", "below_5",
    "records_at_risk", "prosecutor_average", "marketer", "expected_reidentifications")}}))
"""


#: The local session's quick settings (the JVM's quick compiler, no code generation).
_CONNECT_FAST = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
}


def test_risk_summary_over_spark_connect_equals_duckdb(frames, tmp_path):
    # a real Spark Connect server (a local session serving gRPC on loopback with a token) and
    # the Connect client only: its own process, since a process holds one Spark driver
    df = frames["francdat_holes"]
    path = tmp_path / "francdat.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    qis = ["Key1", "Key2", "Key3", "Key4"]
    out = subprocess.run(
        [sys.executable, "-c", _CONNECT_RUN, json.dumps(_CONNECT_FAST), str(path), json.dumps(qis)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["kind"] == "pyspark.sql.connect.session"
    assert got["source"] == "parquet (1 file(s))"
    with DuckDBEngine(memory_limit="256MB", threads=1) as duck:
        want = risk_summary(duck, duck.open(path), qis, weight_column="w")
    for name, value in got["summary"].items():
        assert math.isclose(value, getattr(want, name), rel_tol=1e-9), name


def test_the_sample_is_uniform_and_feeds_kendall(spark):
    # u cycles over 10 values and pos is the row's tenth of the table: a uniform sample holds
    # about a tenth of each (chi-square); Kendall's tau then runs on the rows it returns
    from scipy import stats

    from core.engine import sampled_kendall

    i = np.arange(20_000)
    x = np.random.default_rng(5).normal(size=i.size)
    df = pd.DataFrame({"u": i % 10, "pos": i // 2_000, "x": x, "y": x + (i % 7)})
    t = spark.open(df)
    rows = spark.sample(t, 2_000, 1)
    for column in ("u", "pos"):
        counts = rows[column].value_counts().reindex(range(10), fill_value=0).to_numpy()
        assert stats.chisquare(counts).pvalue > 1e-3, column
    k = sampled_kendall(spark, t, ["x", "y"], sample_rows=2_000, seed=1)
    assert (k.engine, k.sampled, k.sample_rows, k.population_rows) == ("spark", True, 2_000, 20_000)
    assert math.isclose(k.tau[0, 1], stats.kendalltau(rows["x"], rows["y"]).statistic)
