#!/usr/bin/env python3
"""Benchmark: SUDA2 (core.suda.suda2) against a bare pandas group-by, side by side.

Run: ``python benchmarks/suda_bench.py [--rows 1000000] [--repeats 5]``

Tables, 8 quasi-identifiers of the Adult sample (``?`` read as missing):

- ``adult``: the Adult sample itself (32,561 rows);
- ``replicated``: the Adult sample replicated to ``--rows`` rows. Every pattern then occurs
  at least 30 times, so there is no sample unique and SUDA2 stops after one grouping; it is
  shown because it is what the risk benchmark uses, not as a SUDA workload;
- ``independent``: ``--rows`` rows whose columns are drawn independently from the Adult
  columns (seeded). Breaking the correlations makes about a quarter of the rows unique: a
  hard case for SUDA2.

For each table and MSU cap (3, 4, all 8) the script times ``suda2`` and the baseline
``df.groupby(qis, dropna=False).size()`` (one grouping over all QIs) alternately, and prints
medians and their ratio. SUDA2 visits ``sum_k C(8, k)`` column subsets (92, 162, 255), so a
ratio well below that count means the per-subset work is cheaper than one pandas group-by.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.samples import adult  # noqa: E402
from core.suda import suda2, suda_subset_count  # noqa: E402

QIS = [
    "age",
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "race",
    "sex",
    "native-country",
]


def _time(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _tables(rows: int) -> dict[str, pd.DataFrame]:
    base = adult().frame[QIS]
    reps = -(-rows // len(base))
    replicated = pd.concat([base] * reps, ignore_index=True).iloc[:rows]
    rng = np.random.default_rng(20260101)  # benchmark workload, not a release
    independent = pd.DataFrame(
        {c: base[c].to_numpy()[rng.integers(0, len(base), rows)] for c in QIS}
    )
    return {"adult": base, "replicated": replicated, "independent": independent}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    print(f"8 QIs: {', '.join(QIS)}; medians of {args.repeats} interleaved runs")
    header = (
        f"{'table':<12}{'rows':>10}{'cap':>5}{'subsets':>9}{'uniques':>9}{'special':>9}"
        f"{'MSUs':>9}{'suda2 s':>10}{'groupby s':>11}{'ratio':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, df in _tables(args.rows).items():
        for cap in (3, 4, 8):
            res = suda2(df, QIS, max_size=cap)  # warm-up, and the figures shown
            t_suda: list[float] = []
            t_base: list[float] = []
            for _ in range(args.repeats):
                t_suda.append(_time(lambda df=df, cap=cap: suda2(df, QIS, max_size=cap)))
                t_base.append(_time(lambda df=df: df.groupby(QIS, dropna=False).size()))
            s, b = statistics.median(t_suda), statistics.median(t_base)
            print(
                f"{name:<12}{len(df):>10,}{cap:>5}{suda_subset_count(len(QIS), cap):>9}"
                f"{res.sample_uniques:>9,}{res.special_uniques:>9,}{res.n_msus:>9,}"
                f"{s:>10.3f}{b:>11.3f}{s / b:>8.1f}"
            )


if __name__ == "__main__":
    main()
