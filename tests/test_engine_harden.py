"""A recipe hardened on DuckDB (and Spark) writes what core.recipe.apply returns."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import crypto
from core.engine.duckdb_engine import DuckDBEngine
from core.engine.harden import encrypt_outputs, harden, harden_encrypted
from core.errors import InvalidParameterError, RecipeError
from core.recipe import Recipe, Step, apply

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
KEY = bytes(range(7, 39))
LONG_KEY = bytes(range(100))  # longer than a SHA-256 block: HMAC hashes it first


def _with_holes(df: pd.DataFrame, columns: list[str], share: float, seed: int) -> pd.DataFrame:
    out = df.copy()
    rng = np.random.default_rng(seed)
    for c in columns:
        hole = rng.random(len(out)) < share
        out[c] = out[c].astype("float64" if out[c].dtype.kind in "iuf" else object)
        out.loc[hole, c] = np.nan if out[c].dtype.kind == "f" else None
    return out


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    adult = pd.read_csv(ROOT / "data" / "adult.csv")
    # a text date column (ISO) and an identifier, derived from the row
    day = (adult["fnlwgt"] % 28 + 1).astype(str).str.zfill(2)
    month = (adult["fnlwgt"] % 12 + 1).astype(str).str.zfill(2)
    adult["birth"] = (2020 - adult["age"]).astype(str) + "-" + month + "-" + day
    adult["zip"] = (adult["fnlwgt"] % 90000 + 10000).astype(str)
    adult["name"] = "Zoë " + adult.index.astype(str)
    out = {"adult": adult, "adult_holes": _with_holes(adult, ["age", "occupation", "zip"], 0.03, 1)}
    # infinite numbers and text that is not a date: bins and dates blank them
    rng = np.random.default_rng(3)
    x = rng.integers(0, 50, 600).astype("float64")
    x[rng.random(600) < 0.05] = np.inf
    days = ["2020-01-05", "1999-12-31", "not a date", None, "2003-07-14"]
    out["blanks"] = pd.DataFrame(
        {"x": x, "s": rng.choice(["a", "b", "c"], 600), "d": rng.choice(days, 600)}
    )
    path = SHARED / "sdcmicro_testdata.csv"
    if path.exists():
        testdata = pd.read_csv(path)
        out["testdata"] = testdata
        out["testdata_holes"] = _with_holes(testdata, ["roof", "walls", "age"], 0.02, 2)
    return out


@pytest.fixture(scope="module")
def duck(frames, tmp_path_factory) -> Iterator[tuple[DuckDBEngine, dict]]:
    eng = DuckDBEngine(memory_limit="512MB", threads=2)
    folder = tmp_path_factory.mktemp("harden-in")
    tables = {}
    for name, df in frames.items():
        d = folder / name
        d.mkdir()
        half = len(df) // 2  # two files, as a partitioned dataset
        pq.write_table(pa.Table.from_pandas(df.iloc[:half], preserve_index=False), d / "a.parquet")
        pq.write_table(pa.Table.from_pandas(df.iloc[half:], preserve_index=False), d / "b.parquet")
        tables[name] = eng.open(d)
    yield eng, tables
    eng.close()


def _kind(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t):
        return "float"
    return str(t)


def _normalized(table: pa.Table) -> pa.Table:
    """Dictionary columns decoded, text as string, integers as int64, floats as float64."""
    cols = []
    for col in table.columns:
        t = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        kind = _kind(t)
        target = {"text": pa.string(), "int": pa.int64(), "float": pa.float64()}.get(kind, t)
        cols.append(col.cast(target))
    out = pa.table(cols, names=table.column_names)
    return out.sort_by([(c, "ascending") for c in out.column_names])


def assert_same_output(ref: pd.DataFrame, folder: Path) -> None:
    """The engine's Parquet folder holds ``ref``'s rows (any order) with its column kinds,
    ``ref`` written to Parquet as the pandas engine's output is."""
    want = pa.Table.from_pandas(ref, preserve_index=False)
    got = pq.read_table(folder)
    assert got.column_names == want.column_names
    assert [_kind(f.type) for f in got.schema] == [_kind(f.type) for f in want.schema]
    assert got.num_rows == want.num_rows
    w, g = _normalized(want), _normalized(got)
    for c in w.column_names:
        assert g.column(c).equals(w.column(c)), c


def _step(transform: str, column: str | list[str], **params) -> Step:
    cols = tuple(column) if isinstance(column, list) else (column,)
    return Step(transform=transform, columns=cols, params=params)


# Each case: (data, steps). SQL = computed per row in SQL; MAP = through a mapping table.
CASES = {
    "pseudonym text (SQL)": ("adult", [_step("pseudonymize", "name", length=64)]),
    "pseudonym int (SQL)": ("adult", [_step("pseudonymize", "age", length=16)]),
    "pseudonym long key": ("adult", [_step("pseudonymize", "zip", secret="long")]),
    "pseudonym missing": ("adult_holes", [_step("pseudonymize", "occupation", length=12)]),
    "pseudonym float (MAP)": ("adult_holes", [_step("pseudonymize", "age")]),
    "pseudonym few values (MAP)": ("adult", [_step("pseudonymize", "race", length=10)]),
    "mask (SQL)": ("adult", [_step("mask", "name", keep_first=2, keep_last=1, mask_char="#")]),
    "mask short values": ("adult", [_step("mask", "sex", keep_first=2, keep_last=2)]),
    "mask float (MAP)": ("adult_holes", [_step("mask", "age", keep_last=1)]),
    "postal prefix (SQL)": ("adult_holes", [_step("postal_prefix", "zip", keep=3)]),
    "postal prefix no fill": ("adult", [_step("postal_prefix", "fnlwgt", keep=2, fill="")]),
    "top/bottom int (SQL)": ("adult", [_step("top_bottom", "age", lower=20, upper=70)]),
    "top/bottom decimal": ("adult", [_step("top_bottom", "hours-per-week", upper=60.5)]),
    "top/bottom missing": ("adult_holes", [_step("top_bottom", "age", lower=25)]),
    "bin width (SQL)": ("adult", [_step("bin_width", "age", width=10)]),
    "bin width origin": ("adult_holes", [_step("bin_width", "age", width=7, origin=3)]),
    "bin width decimal (MAP)": ("adult", [_step("bin_width", "age", width=2.5)]),
    "bin edges (MAP)": ("adult", [_step("bin_edges", "capital-gain", edges=[0, 1, 5000, 1e5])]),
    "round (MAP)": ("adult", [_step("round", "fnlwgt", base=1000)]),
    "group (MAP)": (
        "adult",
        [_step("group", "marital-status", mapping={"Divorced": "Single"}, other="Other")],
    ),
    "date year (MAP)": ("adult", [_step("date", "birth", unit="year")]),
    "date age band (MAP)": (
        "adult",
        [_step("date", "birth", unit="age_band", band_width=5, reference="2025-01-01")],
    ),
    "mask pattern (MAP)": ("adult", [_step("mask_pattern", "zip", pattern=r"\d$")]),
    "redact and replace": (
        "adult_holes",
        [
            _step("redact", "occupation"),
            _step("replace", "zip", value="Z", include_missing=True),
        ],
    ),
    "encrypt (MAP)": ("adult", [_step("encrypt", "native-country", context="c")]),
    "drop": ("adult", [_step("drop", "fnlwgt")]),
    "chain on one column": (
        "adult_holes",
        [
            _step("top_bottom", "age", lower=18, upper=80),
            _step("bin_width", "age", width=10),
            _step("mask", "age", keep_first=2),
            _step("pseudonymize", "age", length=20),
        ],
    ),
    "chains and suppressions (MAP)": (
        "adult_holes",
        [
            _step("bin_width", "age", width=10),
            _step("mask", "age", keep_first=3),
            _step("group", "marital-status", mapping={"Divorced": "Single"}),
            _step("suppress", ["age", "sex", "marital-status"], k=4),
            _step("pseudonymize", "marital-status", length=8),
            _step("postal_prefix", "zip", keep=1),
            _step("suppress", ["age", "race", "zip"], k=3, mode="records"),
            _step("replace", "age", value="any"),
        ],
    ),
    "suppress records": (
        "adult",
        [
            _step("bin_width", "age", width=10),
            _step("suppress", ["age", "sex", "race", "native-country"], k=5, mode="records"),
        ],
    ),
    "suppress every record": ("adult", [_step("suppress", ["age"], k=10_000, mode="records")]),
    "suppress cells": (
        "adult_holes",
        [
            _step("bin_width", "age", width=10),
            _step("suppress", ["age", "sex", "race", "occupation"], k=3),
        ],
    ),
    "suppress cells importance": (
        "adult",
        [
            _step(
                "suppress",
                ["education", "sex", "race"],
                k=10,
                importance=["race", "sex", "education"],
            )
        ],
    ),
    "testdata suppress cells": (
        "testdata_holes",
        [_step("suppress", ["urbrur", "roof", "walls", "water", "sex", "age"], k=2)],
    ),
    "testdata mixed": (
        "testdata",
        [
            _step("top_bottom", "income", upper=1e8),
            _step("round", "expend", base=1e6),
            _step("pseudonymize", "ori_hid"),
            _step("bin_width", "age", width=5),
            _step("suppress", ["urbrur", "sex", "age"], k=3, mode="records"),
        ],
    ),
}


def _per_row_sql(monkeypatch) -> None:
    """Value-wise steps computed per row in SQL (by default a column with few distinct values
    goes through a mapping table: core's function once per value)."""
    import core.engine.harden as h

    monkeypatch.setattr(h, "_few_distinct", lambda plan, col: False)


@pytest.mark.parametrize("case", list(CASES))
def test_engine_output_equals_pandas(duck, frames, tmp_path, monkeypatch, case):
    eng, tables = duck
    if "MAP" not in case:
        _per_row_sql(monkeypatch)
    data, steps = CASES[case]
    if data not in frames:
        pytest.skip("sdcMicro's testdata is not available")
    recipe = Recipe(steps=tuple(steps))
    secrets = {"pseudonym_key": KEY, "long": LONG_KEY}
    ref = apply(frames[data], recipe, secrets=secrets)
    got = harden(eng, tables[data], recipe, tmp_path / "out", secrets=secrets)
    assert_same_output(ref.frame, tmp_path / "out")
    assert got.n_rows == len(ref.frame)
    assert got.records_removed == ref.records_removed
    assert_same_report(got, ref)


#: chains of cell suppressions sharing columns with holes (missing before any suppression),
#: and what later steps do to suppressed cells; every column's count is checked
COUNT_CASES = {
    # the second step meets cells the first suppressed, and holes, in occupation and race
    "two steps sharing columns": (
        "adult_holes",
        [
            _step("suppress", ["occupation", "sex", "race"], k=5),
            _step("suppress", ["occupation", "race", "workclass"], k=8),
        ],
    ),
    # records removed after the cells were suppressed take their suppressed cells along
    "then record suppression": (
        "adult_holes",
        [
            _step("suppress", ["occupation", "sex", "race"], k=5),
            _step("suppress", ["occupation", "race", "workclass"], k=8),
            _step("suppress", ["education", "sex", "race"], k=4, mode="records"),
        ],
    ),
    # record suppression on more patterns than fit the driver: grouped on the engine
    "then record suppression on the engine": (
        "adult_holes",
        [
            _step("suppress", ["sex", "race", "occupation"], k=20),
            _step("suppress", ["fnlwgt", "race"], k=2, mode="records"),
        ],
    ),
    # a suppressed cell given a value again is no longer suppressed
    "then filled": (
        "adult_holes",
        [
            _step("suppress", ["occupation", "sex", "race"], k=5),
            _step("replace", "race", value="any", include_missing=True),
            _step("pseudonymize", "occupation", length=8),
        ],
    ),
    # holes filled before the suppression were not present in the loaded table
    "filled then suppressed": (
        "adult_holes",
        [
            _step("replace", "zip", value="z", include_missing=True),
            _step(
                "suppress",
                ["zip", "sex", "race", "occupation"],
                k=200,
                importance=["sex", "race", "occupation", "zip"],  # zip suppressed first
            ),
        ],
    ),
    # cells blanked by a step count as suppressed, before or after the suppression
    "blanked by bins before": (
        "blanks",
        [_step("bin_width", "x", width=10), _step("suppress", ["x", "s"], k=30)],
    ),
    "blanked by dates after, then records": (
        "blanks",
        [
            _step("suppress", ["d", "s", "x"], k=20),
            _step("date", "d", unit="year"),
            _step("bin_width", "x", width=10),
            _step("suppress", ["s", "d"], k=45, mode="records"),
        ],
    ),
    # a dropped column reports nothing
    "then dropped": (
        "adult_holes",
        [_step("suppress", ["occupation", "sex", "race"], k=5), _step("drop", "race")],
    ),
    "testdata chain": (
        "testdata_holes",
        [
            _step("suppress", ["urbrur", "roof", "walls", "sex"], k=3),
            _step("suppress", ["roof", "walls", "water", "age"], k=2),
            _step("suppress", ["roof", "sex", "water"], k=5, mode="records"),
        ],
    ),
}


@pytest.mark.parametrize("case", list(COUNT_CASES))
def test_cell_suppression_counts_equal_pandas(duck, frames, tmp_path, monkeypatch, case):
    import core.engine.harden as h

    eng, tables = duck
    data, steps = COUNT_CASES[case]
    if data not in frames:
        pytest.skip("sdcMicro's testdata is not available")
    if "on the engine" in case:
        monkeypatch.setattr(h, "MAPPING_ROWS_MAX", 1000)
    recipe = Recipe(steps=tuple(steps))
    ref = apply(frames[data], recipe, secrets={"pseudonym_key": KEY})
    got = harden(eng, tables[data], recipe, tmp_path / "out", secrets={"pseudonym_key": KEY})
    assert_same_output(ref.frame, tmp_path / "out")
    assert_same_report(got, ref)


def test_borrowed_filled_holes_are_not_counted(duck, tmp_path):
    # b's holes are filled with "z", then cell suppression to k=3 (a suppressed first): the
    # lone y record loses a, then b, and stays alone; the last two x records are borrowed,
    # and their b were holes in the loaded table, so b counts 1 suppressed cell, a counts 3
    eng, _ = duck
    df = pd.DataFrame({"a": ["x"] * 5 + ["y"], "b": ["u", "u", "u", None, None, "v"]})
    (tmp_path / "in").mkdir()
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "in" / "t.parquet")
    recipe = Recipe(
        steps=(
            _step("replace", "b", value="z", include_missing=True),
            _step("suppress", ["a", "b"], k=3, importance=["b", "a"]),
        )
    )
    ref = apply(df, recipe)
    assert {c.column: c.cells_suppressed for c in ref.changes} == {"a": 3, "b": 1}
    got = harden(eng, eng.open(tmp_path / "in"), recipe, tmp_path / "out")
    assert_same_output(ref.frame, tmp_path / "out")
    assert dict(got.cells_suppressed) == {"a": 3, "b": 1}


#: cell suppression whose all-suppressed class stays below k: pandas borrows the last records
#: (in row order) of the largest classes, and the engine must pick the same ones
BORROW = Recipe(
    steps=(
        _step(
            "suppress", ["education", "sex", "race"], k=10, importance=["education", "sex", "race"]
        ),
    )
)


@pytest.mark.parametrize("n_files", [1, 3])
def test_cell_suppression_borrows_the_records_pandas_picks(duck, frames, tmp_path, n_files):
    """The rows of a Parquet folder in the order the pandas engine reads them (files by sorted
    path, rows in file order) decide which records are borrowed, on one file and on several
    files of uneven sizes whose names sort otherwise than they were written."""
    eng, _ = duck
    df = frames["adult"]
    src = tmp_path / "in"
    src.mkdir()
    cuts = [0, len(df)] if n_files == 1 else [0, 5000, 20_000, len(df)]
    names = ["part-b", "part-a10", "part-a9"][:n_files]  # sorted: a10, a9, b
    parts = {}
    for name, lo, hi in zip(names, cuts, cuts[1:], strict=False):
        part = df.iloc[lo:hi]
        parts[name] = part
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), src / f"{name}.parquet")
    ordered = pd.concat([parts[n] for n in sorted(parts)], ignore_index=True)
    ref = apply(ordered, BORROW)
    borrowed = ref.frame[["education", "sex", "race"]].isna().all(axis=1).sum()
    assert borrowed >= 10  # the recipe does borrow records
    got = harden(eng, eng.open(src), BORROW, tmp_path / "out")
    assert_same_output(ref.frame, tmp_path / "out")
    suppressed = {c.column: c.cells_suppressed for c in ref.changes}
    assert dict(got.cells_suppressed) == {c: suppressed.get(c, 0) for c in got.cells_suppressed}
    assert got.warnings == ref.warnings


def test_borrowing_without_a_row_order_is_refused(duck, frames, tmp_path):
    # a frame registered on DuckDB has no file order to pick the records pandas would borrow
    eng, _ = duck
    table = eng.open(frames["adult"][["education", "sex", "race"]])
    with pytest.raises(RecipeError, match="chosen by their order in the table, which the duckdb"):
        harden(eng, table, BORROW, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_output_is_partitioned_parquet(duck, frames, tmp_path, monkeypatch):
    import core.engine.harden as h

    eng, tables = duck
    monkeypatch.setattr(h, "_HARDEN_FILE_BYTES", "200KB")
    monkeypatch.setattr(h, "_ROW_GROUP_ROWS", 2048)
    recipe = Recipe(steps=(_step("pseudonymize", "name"),))
    got = harden(eng, tables["adult"], recipe, tmp_path / "out", secrets={"pseudonym_key": KEY})
    assert len(got.files) > 1
    assert all(f.endswith(".parquet") for f in got.files)
    assert sum(pq.read_metadata(tmp_path / "out" / f).num_rows for f in got.files) == 32561


def test_key_never_in_query_text(duck, tmp_path, monkeypatch):
    eng, tables = duck
    _per_row_sql(monkeypatch)
    seen: list[str] = []
    real = eng.query
    monkeypatch.setattr(eng, "query", lambda sql: seen.append(sql) or real(sql))
    recipe = Recipe(steps=(_step("pseudonymize", "name"),))
    harden(eng, tables["adult"], recipe, tmp_path / "out", secrets={"pseudonym_key": KEY})
    text = "\n".join(seen).lower()
    assert seen and KEY.hex() not in text
    pad = bytes(b ^ 0x36 for b in KEY.ljust(64, b"\0")).hex()
    assert pad not in text


@pytest.mark.parametrize(
    ("step", "match"),
    [
        (_step("bin_quantiles", "age", q=4), r"Step 1 \(Bin \(quantiles\) on age\) cannot run"),
        (_step("microaggregate", ["age", "fnlwgt"], k=3), "cannot run on the duckdb engine"),
        (_step("cast", "age", kind="text"), "cannot run on the duckdb engine"),
        (_step("dp_noise", "age", epsilon=1.0, lower=0, upper=100), "cannot run"),
        (_step("group", "fnlwgt", mapping={}), "'fnlwgt' has more than 1,000 of them"),
        (_step("suppress", ["fnlwgt", "age"], k=2), "more than 1,000 combinations"),
        (_step("bin_width", "nope", width=1), "does not have: nope"),
        (_step("bin_width", "sex", width=1), "needs a numeric column"),
        (_step("pseudonymize", "name", secret="other"), "'other' were not supplied"),
    ],
)
def test_steps_an_engine_cannot_run_are_named(duck, tmp_path, monkeypatch, step, match):
    import core.engine.harden as h

    eng, tables = duck
    monkeypatch.setattr(h, "MAPPING_ROWS_MAX", 1000)
    with pytest.raises(RecipeError, match=match):
        harden(eng, tables["adult"], Recipe(steps=(step,)), tmp_path / "out", secrets={})
    assert not (tmp_path / "out").exists()


def test_output_folder_must_be_new(duck, tmp_path):
    eng, tables = duck
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x.parquet").write_bytes(b"")
    with pytest.raises(InvalidParameterError, match="already exists and is not empty"):
        harden(eng, tables["adult"], Recipe(steps=()), tmp_path / "out")


def test_encrypted_export_round_trips_file_by_file(duck, frames, tmp_path, monkeypatch):
    import core.engine.harden as h

    eng, tables = duck
    monkeypatch.setattr(h, "_HARDEN_FILE_BYTES", "300KB")
    monkeypatch.setattr(h, "_ROW_GROUP_ROWS", 2048)
    recipe = Recipe(steps=(_step("pseudonymize", "name"),))
    key = crypto.generate_key()
    got = harden_encrypted(
        eng, tables["adult"], recipe, tmp_path / "enc", secrets={"pseudonym_key": KEY}, key=key
    )
    assert got.encrypted and len(got.files) > 1
    assert sorted(p.name for p in (tmp_path / "enc").iterdir()) == sorted(got.files)
    for f in got.files:
        dst = tmp_path / "plain" / f.removesuffix(".plenc")
        dst.parent.mkdir(exist_ok=True)
        crypto.decrypt_file(tmp_path / "enc" / f, dst, key=key)
    ref = apply(frames["adult"], recipe, secrets={"pseudonym_key": KEY})
    assert_same_output(ref.frame, tmp_path / "plain")


def test_encryption_streams_with_bounded_memory(tmp_path):
    # four 2 MiB files, encrypted in 64 KiB chunks: peak Python memory stays near one chunk
    src = tmp_path / "plain"
    src.mkdir()
    names = []
    for i in range(4):
        (src / f"data_{i}.parquet").write_bytes(np.random.default_rng(i).bytes(2 << 20))
        names.append(f"data_{i}.parquet")
    originals = {n: (src / n).read_bytes() for n in names}
    key = crypto.generate_key()
    tracemalloc.start()
    try:
        written = encrypt_outputs(src, names, tmp_path / "enc", key=key, chunk_log2=16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak  # < 1 MiB, while 8 MiB went through
    assert not any(src.iterdir())  # each plaintext deleted once encrypted
    for n, w in zip(names, written, strict=True):
        back = crypto.decrypt_bytes((tmp_path / "enc" / w).read_bytes(), key=key)
        assert back == originals[n]


#: one recipe with a step of each way a step runs (per row in SQL, through a mapping table,
#: record and cell suppression) and each part of SQL that differs between the dialects; few
#: steps, since every Spark query plans the whole chain of views again
SPARK_RECIPE = Recipe(
    steps=(
        _step("pseudonymize", "name", length=24),
        _step("mask", "native-country", keep_first=1, keep_last=1),
        _step("bin_width", "age", width=10),
        _step("group", "marital-status", mapping={"Divorced": "Single"}),
        _step("suppress", ["workclass", "sex", "race"], k=2),
        # borrows records: the last ones, in the order the files are read
        _step(
            "suppress",
            ["occupation", "sex", "race"],
            k=30,
            importance=["occupation", "sex", "race"],
        ),
        _step("suppress", ["education", "sex"], k=3, mode="records"),
    )
)


@pytest.fixture(scope="module")
def spark_case(frames, tmp_path_factory):
    """The Spark recipe's input: two files whose sorted names (the reading order) are not the
    order they were written in, and the pandas engine's result on the rows in that order."""
    df = frames["adult_holes"].iloc[:3000]
    src = tmp_path_factory.mktemp("spark-in")
    for name, part in (("part-b", df.iloc[:1000]), ("part-a", df.iloc[1000:])):
        pq.write_table(pa.Table.from_pandas(part, preserve_index=False), src / f"{name}.parquet")
    df = pd.concat([df.iloc[1000:], df.iloc[:1000]], ignore_index=True)
    return src, apply(df, SPARK_RECIPE, secrets={"pseudonym_key": KEY})


def assert_same_report(got, ref) -> None:
    """The engine's report equals the pandas engine's: records removed, cells suppressed in
    every column the recipe suppresses in, and the warnings."""
    assert got.records_removed == ref.records_removed
    assert got.n_rows == len(ref.frame)
    suppressed = {c.column: c.cells_suppressed for c in ref.changes}
    assert dict(got.cells_suppressed) == {c: suppressed[c] for c in got.cells_suppressed}
    assert got.warnings == ref.warnings


def test_spark_output_equals_pandas(spark_case, tmp_path, monkeypatch, spark):
    """On the session's shared local Spark engine (tests/conftest.py): a second engine would
    start a second JVM, and closing it would stop the shared session under later tests."""
    _per_row_sql(monkeypatch)  # the dialect's SQL; the mapping tables are tested by group
    src, ref = spark_case
    got = harden(spark, spark.open(src), SPARK_RECIPE, tmp_path / "out",
                 secrets={"pseudonym_key": KEY})  # fmt: skip
    assert_same_output(ref.frame, tmp_path / "out")
    assert set(got.cells_suppressed) == {"workclass", "sex", "race", "occupation"}
    assert_same_report(got, ref)


def test_duckdb_spark_recipe_equals_pandas(duck, spark_case, tmp_path, monkeypatch):
    # the Spark test's recipe and files on DuckDB: the same rows and the same report
    eng, _ = duck
    _per_row_sql(monkeypatch)
    src, ref = spark_case
    got = harden(eng, eng.open(src), SPARK_RECIPE, tmp_path / "out",
                 secrets={"pseudonym_key": KEY})  # fmt: skip
    assert_same_output(ref.frame, tmp_path / "out")
    assert_same_report(got, ref)


def test_cli_harden_on_duckdb_encrypted(frames, tmp_path, capsys):
    import io
    import json

    from core.cli import main

    src = tmp_path / "in"
    src.mkdir()
    pq.write_table(pa.Table.from_pandas(frames["adult"], preserve_index=False), src / "a.parquet")
    recipe = Recipe(
        steps=(
            _step("pseudonymize", "name"),
            _step("bin_width", "age", width=10),
            _step("suppress", ["age", "sex", "race"], k=5, mode="records"),
        )
    )
    (tmp_path / "r.json").write_text(recipe.to_json())
    (tmp_path / "p.key").write_text(KEY.hex())
    key = crypto.generate_key()
    (tmp_path / "e.key").write_text(crypto.key_to_text(key))
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "harden", "--format", "json", "--engine", "duckdb", str(src), "--recipe",
        str(tmp_path / "r.json"), "--key-file", str(tmp_path / "p.key"), "-o",
        str(tmp_path / "out"), "--encrypt", "--encrypt-key-file", str(tmp_path / "e.key"),
    ]  # fmt: skip
    assert main(argv, stdout=out, stderr=err) == 0, err.getvalue()
    summary = json.loads(out.getvalue())
    ref = apply(frames["adult"], recipe, secrets={"pseudonym_key": KEY})
    assert summary["rows"] == len(ref.frame) and summary["encrypted"] == "privlens"
    assert "Step 3/4: Local suppression" in err.getvalue()
    assert "Encrypting file 1/" in err.getvalue()
    assert KEY.hex() not in out.getvalue() + err.getvalue()
    for f in (tmp_path / "out").iterdir():
        assert f.name.endswith(".parquet.plenc")
        plain = tmp_path / "plain" / f.name.removesuffix(".plenc")
        plain.parent.mkdir(exist_ok=True)
        crypto.decrypt_file(f, plain, key=key)
    assert_same_output(ref.frame, tmp_path / "plain")
    # the options of the in-memory export are refused with an engine
    bad = [*argv[:8], "-o", str(tmp_path / "o2"), "--bundle"]
    assert main(bad, stdout=io.StringIO(), stderr=(e2 := io.StringIO())) == 2
    assert "--bundle work(s) with --engine pandas only" in e2.getvalue() + capsys.readouterr().err
