#!/usr/bin/env python3
"""Benchmark: the Spark engine's risk summary in local mode vs the DuckDB engine's.

Run: ``python benchmarks/spark_bench.py [--rows 1000000] [--repeats 2] [--workers 1,2]``
(``--rows 10000000`` for the issue's figure; ``--data DIR`` keeps the generated Parquet
dataset, shared with ``benchmarks/engine_bench.py``). Needs the Spark extra
(``pip install -r requirements-spark.txt``) and a Java runtime.

The dataset is ``engine_bench``'s: ``--rows`` rows, 8 Zipf-skewed quasi-identifiers and a
weight column, in Parquet files of at most 5,000,000 rows. Timed, the median of
``--repeats`` runs each, side by side in one process:

- ``duckdb``: :func:`core.engine.risk_summary` on the DuckDB engine (the baseline);
- ``spark local[N]``: the same summary on a Spark session in local mode with N worker
  threads, for each N of ``--workers`` (one JVM for the whole run; its first summary also
  warms the JVM up, so it is run once untimed first);
- with ``--connect``, ``spark connect local[N]`` (N the largest of ``--workers``): the same
  summary through the Spark Connect client, against a Connect server in a local session.

Every engine must give the same figures (counts exactly, floats to 1e-9 relative); the script
stops with an error otherwise.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine_bench import QIS, generate  # noqa: E402
from core.engine import EngineRiskSummary, risk_summary  # noqa: E402
from core.engine.duckdb_engine import DuckDBEngine  # noqa: E402
from core.engine.spark_engine import SparkEngine  # noqa: E402


def _same(a: EngineRiskSummary, b: EngineRiskSummary) -> list[str]:
    """Names of the fields where two summaries differ (floats to 1e-9 relative)."""
    diff = []
    for f in dataclasses.fields(a):
        va, vb = getattr(a, f.name), getattr(b, f.name)
        if f.name in ("engine", "histogram"):
            continue
        if isinstance(va, float) and isinstance(vb, float):
            if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=0.0):
                diff.append(f.name)
        elif va != vb:
            diff.append(f.name)
    for part in ("sizes", "fk", "classes"):
        if getattr(a.histogram, part).tolist() != getattr(b.histogram, part).tolist():
            diff.append(f"histogram.{part}")
    return diff


def _timed(fn, repeats: int) -> tuple[float, EngineRiskSummary]:  # noqa: ANN001
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    assert result is not None
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workers", default="1,2", help="local worker threads to compare")
    ap.add_argument("--shuffle-partitions", type=int, default=8)
    ap.add_argument("--driver-memory", default="4g", help="the Spark driver's heap")
    ap.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit")
    ap.add_argument("--weights", action="store_true", help="individual risk from the weights")
    ap.add_argument("--data", type=Path, help="folder to keep the generated dataset in")
    ap.add_argument("--connect", action="store_true", help="also time it over Spark Connect")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]

    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="privlens-spark-bench-")
        args.data = Path(tmp.name)
    t0 = time.perf_counter()
    path = generate(args.data, args.rows)
    size = sum(p.stat().st_size for p in path.glob("*.parquet")) / 2**20
    print(
        f"dataset: {args.rows:,} rows, 8 QIs, {size:,.0f} MB of Parquet "
        f"(ready in {time.perf_counter() - t0:.1f}s)"
    )
    qis = list(QIS)
    weight = "weight" if args.weights else None

    with DuckDBEngine(memory_limit=args.memory_limit) as duck:
        table = duck.open(path)
        d, want = _timed(lambda: risk_summary(duck, table, qis, weight_column=weight), args.repeats)
    print(
        f"classes {want.n_classes:,}, k {want.k}, sample uniques {want.sample_uniques:,}, "
        f"expected re-identifications {want.expected_reidentifications:,.1f}"
    )
    print(f"  duckdb risk summary            {d:8.2f} s")

    times = {}
    for n in workers:
        t0 = time.perf_counter()
        eng = SparkEngine(
            master=f"local[{n}]",
            shuffle_partitions=args.shuffle_partitions,
            config={"spark.driver.memory": args.driver_memory},
        )
        start = time.perf_counter() - t0
        with eng:
            t0 = time.perf_counter()
            st = eng.open(path)
            opened = time.perf_counter() - t0
            risk_summary(eng, st, qis, weight_column=weight)  # warm-up, untimed
            s, got = _timed(lambda: risk_summary(eng, st, qis, weight_column=weight), args.repeats)  # noqa: B023
        diff = _same(want, got)
        if diff:
            sys.exit(f"spark local[{n}] differs from DuckDB in: {', '.join(diff)}")
        times[n] = s
        print(
            f"  spark local[{n}] risk summary   {s:8.2f} s   {s / d:6.2f}x DuckDB   "
            f"(session start {start:.1f} s, open {opened:.1f} s; same numbers as DuckDB)"
        )
    if args.connect:
        n = max(workers)
        t0 = time.perf_counter()
        eng = SparkEngine(
            remote=f"local[{n}]",
            shuffle_partitions=args.shuffle_partitions,
            config={"spark.driver.memory": args.driver_memory},
        )
        start = time.perf_counter() - t0
        with eng:
            st = eng.open(path)
            risk_summary(eng, st, qis, weight_column=weight)  # warm-up, untimed
            s, got = _timed(lambda: risk_summary(eng, st, qis, weight_column=weight), args.repeats)
        diff = _same(want, got)
        if diff:
            sys.exit(f"spark connect local[{n}] differs from DuckDB in: {', '.join(diff)}")
        print(
            f"  spark connect local[{n}]        {s:8.2f} s   {s / d:6.2f}x DuckDB   "
            f"(server start {start:.1f} s; same numbers as DuckDB)"
        )
    if 1 in times:
        for n, s in times.items():
            if n != 1:
                print(f"  spark local[{n}] / local[1]     {s / times[1]:8.2f}x the time")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
