#!/usr/bin/env python3
"""Benchmark: the DuckDB engine's risk summary vs a bare DuckDB GROUP BY, and vs pandas.

Run: ``python benchmarks/engine_bench.py [--rows 1000000] [--repeats 3] [--memory-limit 4GB]``
(``--rows 100000000`` for the issue's figure; ``--data DIR`` keeps the generated Parquet
dataset for later runs, ``--generate-only`` only writes it).

A synthetic table of ``--rows`` rows with 8 quasi-identifiers (integer and text codes of
realistic cardinalities, Zipf-skewed, ~4.5e9 possible combinations) and a weight column is
written as Parquet files of at most 5,000,000 rows. Timed, each the median of interleaved
runs so all see the same machine load:

- ``bare``: DuckDB ``SELECT COUNT(*) FROM (SELECT qis, COUNT(*) ... GROUP BY qis)``;
- ``duckdb``: :func:`core.engine.risk_summary` on the DuckDB engine (k, classes, uniques,
  records below 2/3/5, prosecutor, marketer and individual risk); with ``--weights`` the
  sdcMicro individual risk uses the weight column;
- ``pandas``: the same summary on the pandas engine (reading the Parquet files into memory
  first, timed apart), up to ``--pandas-max-rows`` rows.

The process's peak RSS is printed after the DuckDB runs (before pandas loads anything) and
at the end.

``--measures attribute`` times :func:`core.engine.attribute_risk` instead (l-diversity,
t-closeness with the ordered distance, delta and beta) of an integer sensitive column of
``--values`` uniform values (default 100) under the first ``--attribute-qis`` QIs (default 5),
DuckDB vs pandas on the same data, interleaved, with the ratio of wall times and of the
process's CPU times (``--threads 1`` compares both on one core, which a busy machine disturbs
less than the wall time). DuckDB reads a Parquet file's row groups in parallel, so a file
written as one row group (pyarrow's default below 1,048,576 rows) is scanned by one thread;
``--row-group-rows 122880`` writes DuckDB's own row-group size instead.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.engine import PandasEngine, attribute_risk, plans, risk_summary  # noqa: E402
from core.engine.duckdb_engine import DuckDBEngine  # noqa: E402

#: name -> (cardinality, text?)
QIS = {
    "age": (91, False),
    "sex": (2, True),
    "race": (5, True),
    "marital": (7, True),
    "education": (16, False),
    "region": (50, True),
    "occupation": (15, False),
    "year": (30, False),
}
CHUNK = 5_000_000


def _chunk(rng: np.random.Generator, n: int, values: int = 0) -> pa.Table:
    cols = {}
    for name, (card, text) in QIS.items():
        # Zipf-skewed codes (P(i) ~ 1 / (i + 1)), so class sizes range from unique to large
        weights = 1.0 / np.arange(1, card + 1)
        codes = rng.choice(card, size=n, p=weights / weights.sum()).astype(np.int16)
        if text:
            labels = pa.array([f"{name}_{i}" for i in range(card)])
            cols[name] = pa.DictionaryArray.from_arrays(pa.array(codes), labels)
        else:
            cols[name] = pa.array(codes)
    cols["weight"] = pa.array(rng.uniform(1.0, 200.0, n))
    if values:
        cols["income"] = pa.array(rng.integers(0, values, n))
    return pa.table(cols)


def generate(
    folder: Path, rows: int, seed: int = 0, values: int = 0, row_group: int | None = None
) -> Path:
    """Write (or reuse) a ``rows``-row dataset under ``folder/rows_<rows>`` (with an
    ``income`` column of ``values`` values under ``folder/rows_<rows>_values_<values>``; with
    row groups of ``row_group`` rows, ``_rg_<row_group>`` appended; else pyarrow's default,
    one row group per file of up to 1,048,576 rows)."""
    out = folder / (
        f"rows_{rows}"
        + (f"_values_{values}" if values else "")
        + (f"_rg_{row_group}" if row_group else "")
    )
    if out.is_dir() and (out / "_done").exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    done, part = 0, 0
    while done < rows:
        n = min(CHUNK, rows - done)
        pq.write_table(
            _chunk(rng, n, values), out / f"part-{part:05d}.parquet", row_group_size=row_group
        )
        done, part = done + n, part + 1
    (out / "_done").write_text(str(rows))
    return out


def _time(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--weights", action="store_true", help="individual risk from the weights")
    ap.add_argument("--pandas-max-rows", type=int, default=10_000_000)
    ap.add_argument("--measures", choices=("summary", "attribute"), default="summary")
    ap.add_argument("--values", type=int, default=100, help="sensitive values (attribute)")
    ap.add_argument("--attribute-qis", type=int, default=5, help="QIs used (attribute)")
    ap.add_argument("--data", type=Path, help="folder to keep the generated dataset in")
    ap.add_argument(
        "--row-group-rows",
        type=int,
        default=None,
        help="rows per Parquet row group (attribute; default pyarrow's: one per 1M-row file)",
    )
    ap.add_argument(
        "--generate-only", action="store_true", help="write the dataset under --data and stop"
    )
    args = ap.parse_args()
    if args.generate_only:
        if args.data is None:
            ap.error("--generate-only needs --data FOLDER")
        print(generate(args.data, args.rows))
        return

    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="privlens-engine-bench-")
        args.data = Path(tmp.name)
    if args.measures == "attribute":
        _attribute(args)
        if tmp is not None:
            tmp.cleanup()
        return
    t0 = time.perf_counter()
    path = generate(args.data, args.rows)
    size = sum(p.stat().st_size for p in path.glob("*.parquet")) / 2**20
    print(f"dataset: {args.rows:,} rows, 8 QIs, {size:,.0f} MB of Parquet "
          f"(ready in {time.perf_counter() - t0:.1f}s)")
    qis = list(QIS)
    weight = "weight" if args.weights else None

    eng = DuckDBEngine(memory_limit=args.memory_limit, threads=args.threads)
    table = eng.open(path)
    bare_sql = plans.group_count(eng.quote, table.name, qis)
    bare, summary = [], []
    result = None
    for _ in range(args.repeats):
        bare.append(_time(lambda: eng.query(bare_sql)))
        t = time.perf_counter()
        result = risk_summary(eng, table, qis, weight_column=weight)
        summary.append(time.perf_counter() - t)
    eng.close()
    assert result is not None
    rss_duck = _peak_rss_mb()
    b, s = statistics.median(bare), statistics.median(summary)
    print(f"classes {result.n_classes:,}, k {result.k}, sample uniques "
          f"{result.sample_uniques:,}, expected re-identifications "
          f"{result.expected_reidentifications:,.1f}")
    print(f"DuckDB (memory limit {args.memory_limit}, threads {args.threads or 'all'}):")
    print(f"  bare GROUP BY COUNT(*)   {b:8.2f} s")
    print(f"  engine risk summary      {s:8.2f} s   ratio {s / b:.2f}x the bare GROUP BY")
    print(f"  peak RSS so far          {rss_duck:8.0f} MB")

    if args.rows <= args.pandas_max_rows:
        pe = PandasEngine()
        load = _time(lambda: pe.open(path, name="bench"))
        ptable = pe.open(path, name="bench")
        ptimes = [
            _time(lambda: risk_summary(pe, ptable, qis, weight_column=weight))
            for _ in range(args.repeats)
        ]
        p = statistics.median(ptimes)
        print("pandas engine:")
        print(f"  read Parquet into memory {load:8.2f} s")
        print(f"  risk summary             {p:8.2f} s")
        print(f"  DuckDB / pandas (summary only)      {s / p:.2f}x")
        print(f"  DuckDB / pandas (read + summary)    {s / (load + p):.2f}x")
        print(f"  peak RSS                 {_peak_rss_mb():8.0f} MB")
    else:
        print(f"pandas engine: skipped above {args.pandas_max_rows:,} rows")
    if tmp is not None:
        tmp.cleanup()


def _attribute(args: argparse.Namespace) -> None:
    """attribute_risk on DuckDB and on pandas, same data, interleaved runs."""
    path = generate(args.data, args.rows, values=args.values, row_group=args.row_group_rows)
    qis = list(QIS)[: args.attribute_qis]
    eng = DuckDBEngine(memory_limit=args.memory_limit, threads=args.threads)
    table = eng.open(path)
    pe = PandasEngine()
    load = _time(lambda: pe.open(path, name="bench"))
    ptable = pe.open(path, name="bench")
    duck, pand, duck_cpu, pand_cpu = [], [], [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        got = attribute_risk(eng, table, qis, "income")
        duck.append(time.perf_counter() - t)
        duck_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        want = attribute_risk(pe, ptable, qis, "income")
        pand.append(time.perf_counter() - t)
        pand_cpu.append(time.process_time() - c)
    eng.close()
    d, p = statistics.median(duck), statistics.median(pand)
    dc, pc = statistics.median(duck_cpu), statistics.median(pand_cpu)
    print(f"attribute_risk: {args.rows:,} rows, {len(qis)} QIs, 'income' with "
          f"{args.values} values (ordered t-closeness {got.t_closeness:.6f} DuckDB, "
          f"{want.t_closeness:.6f} pandas)")
    print(f"  pandas (read Parquet {load:.2f} s)  {p:8.2f} s   CPU {pc:6.2f} s")
    print(f"  DuckDB (threads {args.threads or 'all'})         {d:8.2f} s   CPU {dc:6.2f} s   "
          f"ratio {d / p:.2f}x pandas (CPU {dc / pc:.2f}x)")
    runs = ", ".join(f"{a:.2f}/{b:.2f}" for a, b in zip(duck, pand, strict=True))
    print(f"  runs (DuckDB / pandas): {runs}")
    print("  (CPU: the process's CPU time over all threads; it moves less than the wall time "
          "on a busy machine, and with --threads 1 compares the two on one core)")


if __name__ == "__main__":
    main()
