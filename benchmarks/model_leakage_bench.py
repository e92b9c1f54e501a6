#!/usr/bin/env python3
"""Benchmark of the Model page's "Does a model leak?" tab on Adult (32,561 rows).

Run: ``python benchmarks/model_leakage_bench.py`` (``--repeat 3`` for more runs). Times what
the tab computes the first time for a table and its settings, each beside the baseline, one
plain fit of logistic regression on the whole encoded table:

* the membership evaluation of logistic regression and of the MLP (5 half/half splits);
* the DP sweep (5 values of epsilon, 3 splits each, on the public hashed encoding);
* the DP model released at one epsilon (one fit on every row).

The tab's first view runs one membership evaluation per table (original, hardened) and the
sweep; target: under about 10 s together. Afterwards every figure comes from the cache.
Figures vary with machine load, ratios less so; CPU seconds of the process (all threads) are
printed beside wall seconds, with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import samples  # noqa: E402
from core.models import (  # noqa: E402
    design,
    dp_model_release,
    dp_sweep,
    fit_features,
    fit_logistic,
    membership_risk,
    targets,
)


def _median(fn, repeat: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Median wall and CPU seconds of ``fn`` over ``repeat`` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    """Time each part of the tab and the baseline; print them side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    df = samples.adult().frame
    spec = fit_features(df, "income")
    X, y = design(spec, df), targets(spec, df)
    base, base_cpu = _median(lambda: fit_logistic(X, y), args.repeat)
    parts = {
        "membership, logistic (5 splits)": lambda: membership_risk(df, "income", repeats=5),
        "membership, MLP (5 splits)": lambda: membership_risk(df, "income", repeats=5, model="mlp"),
        "DP sweep (5 epsilons x 3 splits)": lambda: dp_sweep(df, "income", repeats=3, source=0),
        "DP model release (one fit, all rows)": lambda: dp_model_release(df, "income", epsilon=1.0),
    }
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"rows {len(df):,}; {os.cpu_count()} CPUs, load average {load:.2f}")
    print(f"{'':45s} {'wall':>9s} {'ratio':>7s} {'CPU':>9s} {'ratio':>7s}")
    print(
        f"{'baseline: one plain fit (all rows)':45s} {base:7.2f} s {1:6.2f}x "
        f"{base_cpu:7.2f} s {1:6.2f}x"
    )
    times = {}
    for name, fn in parts.items():
        wall, cpu = _median(fn, args.repeat)
        times[name] = wall
        print(f"{name:45s} {wall:7.2f} s {wall / base:6.2f}x {cpu:7.2f} s {cpu / base_cpu:6.2f}x")
    first = 2 * times["membership, logistic (5 splits)"] + times["DP sweep (5 epsilons x 3 splits)"]
    print(f"{'first view (original + hardened + sweep)':45s} {first:7.2f} s  (target < 10 s)")


if __name__ == "__main__":
    main()
