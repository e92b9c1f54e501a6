#!/usr/bin/env python3
"""Benchmark of the membership-inference evaluation on Adult (32,561 rows, 5 repeats).

Run: ``python benchmarks/model_risk_bench.py`` (``--repeat 3`` for more runs). Prints the
median time of :func:`core.models.membership_risk` (5 half/half splits: encode, fit, attack)
beside the baseline, one plain fit of logistic regression on the whole encoded table, and
their ratio. Target: under 10 s. Figures vary with machine load, ratios less so; the CPU
seconds of the process (all its threads) are printed beside the wall seconds, and with the
load average, because on a shared machine the wall clock mostly measures the other jobs.
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
from core.models import design, fit_features, fit_logistic, membership_risk, targets  # noqa: E402


def _median(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Median wall and CPU seconds of ``fn`` over ``repeat`` runs, and its last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> None:
    """Time the evaluation and the baseline; print them side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    df = samples.adult().frame
    spec = fit_features(df, "income")
    X, y = design(spec, df), targets(spec, df)
    base, base_cpu, _ = _median(lambda: fit_logistic(X, y), args.repeat)
    full, full_cpu, report = _median(lambda: membership_risk(df, "income", repeats=5), args.repeat)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"rows {len(df):,}, features {X.shape[1]}, repeats 5; {os.cpu_count()} CPUs, "
        f"load average {load:.2f}"
    )
    print(f"{'':45s} {'wall':>9s} {'ratio':>7s} {'CPU':>9s} {'ratio':>7s}")
    print(
        f"{'baseline: one plain fit (all rows)':45s} {base:7.2f} s {1:6.2f}x "
        f"{base_cpu:7.2f} s {1:6.2f}x"
    )
    print(
        f"{'membership evaluation (5 splits)':45s} {full:7.2f} s {full / base:6.2f}x "
        f"{full_cpu:7.2f} s {full_cpu / base_cpu:6.2f}x"
    )
    print(f"target < 10 s (wall): {'met' if full < 10 else 'NOT met'}")
    lo, hi = report.advantage_ci  # type: ignore[attr-defined]
    print(
        f"advantage {report.advantage:+.4f} [{lo:+.4f}, {hi:+.4f}], "  # type: ignore[attr-defined]
        f"accuracy {report.accuracy:.4f}"  # type: ignore[attr-defined]
    )


if __name__ == "__main__":
    main()
