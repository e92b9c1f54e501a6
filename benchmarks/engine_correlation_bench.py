#!/usr/bin/env python3
"""Benchmark: correlations, associations and the leakage ranking on DuckDB vs pandas.

Run: ``python benchmarks/engine_correlation_bench.py [--rows 1000000] [--repeats 3]``

A synthetic table of ``--rows`` rows (4 numeric columns with ties and 2% holes, 4 text
columns of 2 to 50 categories, one of them the sensitive attribute) is written as Parquet.
Timed, each the median of interleaved runs so both see the same machine load:

- ``pandas``: :mod:`core.correlation` on the frame in memory (reading it is timed apart);
- ``duckdb``: :mod:`core.engine.correlations` on the DuckDB engine over the Parquet file.

Before timing, both results are checked to agree (floats to 1e-9 relative), so a fast wrong
answer cannot pass. The ratio duckdb / pandas is printed per measure (below 1 = DuckDB is
faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import correlation as corr  # noqa: E402
from core.engine import correlations as ec  # noqa: E402
from core.engine.duckdb_engine import DuckDBEngine  # noqa: E402


def generate(rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(17, 91, rows).astype(float)
    hours = np.clip(np.round(rng.normal(40, 12, rows)), 1, 99)
    income = np.round(np.exp(rng.normal(10, 0.8, rows)), 2)
    score = age * 0.3 + rng.normal(0, 5, rows)
    df = pd.DataFrame(
        {
            "age": age,
            "hours": hours,
            "income": income,
            "score": score,
            "sex": rng.choice(["f", "m"], rows),
            "region": rng.choice([f"r{i}" for i in range(12)], rows),
            "job": rng.choice([f"j{i}" for i in range(50)], rows),
            "outcome": rng.choice(["a", "b", "c"], rows, p=[0.6, 0.3, 0.1]),
        }
    )
    for c in ("age", "income"):
        df.loc[rng.random(rows) < 0.02, c] = np.nan
    return df


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def agree(a: np.ndarray, b: np.ndarray) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert (np.isnan(a) == np.isnan(b)).all()
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-limit", default="4GB")
    ap.add_argument(
        "--measures", default="pearson,spearman,association,leakage",
        help="comma-separated measures to time (default: all four)",
    )  # fmt: skip
    args = ap.parse_args()
    df = generate(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.parquet"
        df.to_parquet(path, index=False)
        read = timed(lambda: pd.read_parquet(path))
        print(f"{args.rows:,} rows, 8 columns; pandas reads the Parquet file in {read:.2f} s")
        with DuckDBEngine(memory_limit=args.memory_limit) as eng:
            t = eng.open(str(path))
            cases: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
                "pearson": (
                    lambda: corr.correlation_matrix(df),
                    lambda: ec.correlation_matrix(eng, t),
                ),
                "spearman": (
                    lambda: corr.correlation_matrix(df, method="spearman"),
                    lambda: ec.correlation_matrix(eng, t, method="spearman"),
                ),
                "association": (
                    lambda: corr.association_matrix(df),
                    lambda: ec.association_matrix(eng, t),
                ),
                "leakage": (
                    lambda: corr.leakage_ranking(df, sensitive="outcome"),
                    lambda: ec.leakage_ranking(eng, t, "outcome"),
                ),
            }
            print(f"{'measure':<12}{'pandas s':>10}{'duckdb s':>10}{'ratio':>8}")
            chosen = [m.strip() for m in args.measures.split(",") if m.strip()]
            unknown = [m for m in chosen if m not in cases]
            if unknown:
                ap.error(f"unknown measure(s): {', '.join(unknown)}; pick from {', '.join(cases)}")
            for name in chosen:
                ours_pd, ours_db = cases[name]
                a, b = ours_pd(), ours_db()
                if name == "leakage":
                    agree(a.frame()["score"], b.frame()["score"])
                else:
                    agree(getattr(a, "r", getattr(a, "value", None)),
                          getattr(b, "r", getattr(b, "value", None)))  # fmt: skip
                pt, dt = [], []
                for _ in range(args.repeats):
                    pt.append(timed(ours_pd))
                    dt.append(timed(ours_db))
                p, d = statistics.median(pt), statistics.median(dt)
                print(f"{name:<12}{p:>10.2f}{d:>10.2f}{d / p:>8.2f}")


if __name__ == "__main__":
    main()
