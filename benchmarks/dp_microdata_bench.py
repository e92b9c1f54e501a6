#!/usr/bin/env python3
"""Benchmark of the DP page's microdata curve: the sampled curve against the whole table.

Run: ``python benchmarks/dp_microdata_bench.py`` (``--repeat 5`` for more runs). The table is
the Adult sample repeated to 100,000 and 1,000,000 rows; the released columns are its 6
numeric columns (per-record Laplace noise) and 3 categorical ones (randomized response).
Baseline: the same measures on the whole table at one ε (the curve has 13 points, so a
whole-table curve would cost about 13 times that). Prints medians and ratios side by side.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import dp_utility, limits  # noqa: E402
from core.samples import adult  # noqa: E402

NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
CATEGORICAL = ["sex", "race", "workclass"]


def median_s(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    base = adult().frame
    bounds = {c: (float(base[c].min()), float(base[c].max())) for c in NUMERIC}
    grid = dp_utility.epsilon_grid(limits.MICRODATA_CURVE_POINTS)
    for size in (100_000, 1_000_000):
        reps = -(-size // len(base))
        df = pd.concat([base] * reps, ignore_index=True).head(size)

        def sampled(df: pd.DataFrame = df) -> None:
            dp_utility.microdata_utility_curve(
                df, bounds=bounds, categorical=CATEGORICAL, epsilons=grid
            )

        def whole_one_eps(df: pd.DataFrame = df) -> None:
            dp_utility.microdata_utility_curve(
                df, bounds=bounds, categorical=CATEGORICAL, epsilons=[1.0], sample_rows=len(df)
            )

        base_s = median_s(whole_one_eps, 1)  # one run: it takes many seconds at 1M rows
        rows = [
            ("baseline: whole table, ONE ε (Kendall dominates)", base_s),
            (
                f"page: {limits.MICRODATA_SAMPLE_ROWS:,}-row sample, "
                f"{limits.MICRODATA_CURVE_POINTS} ε points",
                median_s(sampled, args.repeat),
            ),
        ]
        print(
            f"\nMicrodata curve at {size:,} rows ({len(NUMERIC)} numeric, "
            f"{len(CATEGORICAL)} categorical columns)"
        )
        print(f"  {'approach':58s} {'median s':>9s} {'x baseline':>11s}")
        for name, s in rows:
            print(f"  {name:58s} {s:9.2f} {s / base_s:11.3f}")


if __name__ == "__main__":
    main()
