#!/usr/bin/env python3
"""Benchmark: a hardening recipe on DuckDB vs DuckDB writing the same columns untouched.

Run: ``python benchmarks/harden_bench.py [--rows 10000000] [--repeats 3] [--memory-limit 4GB]``
(``--rows 100000000`` for the issue's figure; ``--data DIR`` keeps the generated Parquet
dataset, shared with ``benchmarks/engine_bench.py``, for later runs).

The dataset is :func:`engine_bench.generate`'s: ``--rows`` rows, 8 quasi-identifiers (integer
and text codes, Zipf-skewed) and a weight, as Parquet files of at most 5,000,000 rows.
Timed, each the median of interleaved runs so both see the same machine load:

- ``bare``: DuckDB ``COPY (SELECT every column) TO folder (FORMAT PARQUET)``, the same
  writer settings as the engine's;
- ``harden``: :func:`core.engine.harden.harden` with a recipe of one step of each kind that
  runs per row or per distinct value: HMAC pseudonym (computed in SQL), fixed-width bins,
  top/bottom coding, character masking, a prefix, category groups (a mapping table), and
  record suppression to k over four quasi-identifiers (a window count).

Printed: both times, the ratio, the throughput in rows per second, and the process's peak
RSS (DuckDB's own memory is bounded by ``--memory-limit``; it spills beyond it).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from engine_bench import generate  # noqa: E402

from core.engine.duckdb_engine import DuckDBEngine  # noqa: E402
from core.engine.harden import harden  # noqa: E402
from core.recipe import Recipe, Step  # noqa: E402

KEY = os.urandom(32)

RECIPE = Recipe(
    steps=(
        Step(transform="pseudonymize", columns=("occupation",), params={"length": 16}),
        Step(transform="bin_width", columns=("age",), params={"width": 10}),
        Step(transform="top_bottom", columns=("year",), params={"lower": 3, "upper": 25}),
        Step(transform="mask", columns=("marital",), params={"keep_first": 3}),
        Step(transform="postal_prefix", columns=("region",), params={"keep": 8}),
        Step(
            transform="group",
            columns=("race",),
            params={"mapping": {"race_3": "race_other", "race_4": "race_other"}},
        ),
        Step(
            transform="suppress",
            columns=("age", "sex", "race", "region"),
            params={"k": 5, "mode": "records"},
        ),
    )
)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--data", type=Path, help="folder to keep the generated dataset in")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(prefix="privlens-harden-bench-")
    data = args.data or Path(tmp.name) / "data"
    t0 = time.perf_counter()
    path = generate(data, args.rows)
    size = sum(p.stat().st_size for p in path.glob("*.parquet")) / 2**20
    print(
        f"dataset: {args.rows:,} rows, 9 columns, {size:,.0f} MB of Parquet "
        f"(ready in {time.perf_counter() - t0:.1f}s)"
    )
    out = Path(tmp.name) / "out"
    eng = DuckDBEngine(memory_limit=args.memory_limit, threads=args.threads)
    table = eng.open(path)
    from core.engine import harden as h

    cols = ", ".join(eng.quote(c) for c in table.columns)
    bare_sql = (
        f"COPY (SELECT {cols} FROM {eng.quote(table.name)}) TO '{out}' (FORMAT PARQUET, "
        f"FILE_SIZE_BYTES '{h._HARDEN_FILE_BYTES}', ROW_GROUP_SIZE {h._ROW_GROUP_ROWS})"
    )
    bare, hard = [], []
    result = None
    for _ in range(args.repeats):
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        eng.query(bare_sql)
        bare.append(time.perf_counter() - t)
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        result = harden(eng, table, RECIPE, out, secrets={"pseudonym_key": KEY})
        hard.append(time.perf_counter() - t)
    eng.close()
    assert result is not None
    b, s = statistics.median(bare), statistics.median(hard)
    written = sum(p.stat().st_size for p in out.rglob("*.parquet")) / 2**20
    print(
        f"hardened: {result.n_rows:,} rows in {len(result.files)} file(s), {written:,.0f} MB; "
        f"{result.records_removed:,} records removed (k = 5)"
    )
    print(f"DuckDB (memory limit {args.memory_limit}, threads {args.threads or 'all'}):")
    print(f"  bare COPY to Parquet     {b:8.2f} s   {args.rows / b:14,.0f} rows/s")
    print(
        f"  harden recipe            {s:8.2f} s   {args.rows / s:14,.0f} rows/s   ratio "
        f"{s / b:.2f}x the bare COPY"
    )
    print(f"  peak RSS                 {_peak_rss_mb():8.0f} MB")
    tmp.cleanup()


if __name__ == "__main__":
    main()
