#!/usr/bin/env python3
"""Benchmark of the membership-inference evaluation on Adult (32,561 rows, 5 repeats).

Run: ``python benchmarks/model_risk_bench.py`` (``--repeat 3`` for more runs). Prints the
median time of :func:`core.models.membership_risk` (5 half/half splits: encode, fit, attack)
beside the baseline, one plain fit of logistic regression on the whole encoded table, and
their ratio. Target: under 10 s. Figures vary with machine load, ratios less so.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import samples  # noqa: E402
from core.models import design, fit_features, fit_logistic, membership_risk, targets  # noqa: E402


def _median(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Time the evaluation and the baseline; print them side by side."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    df = samples.adult().frame
    spec = fit_features(df, "income")
    X, y = design(spec, df), targets(spec, df)
    base = _median(lambda: fit_logistic(X, y), args.repeat)
    full = _median(lambda: membership_risk(df, "income", repeats=5), args.repeat)
    report = membership_risk(df, "income", repeats=5)
    print(f"rows {len(df):,}, features {X.shape[1]}, repeats 5")
    print(f"{'baseline: one plain fit (all rows)':45s} {base:7.2f} s   1.00x")
    print(f"{'membership evaluation (5 splits)':45s} {full:7.2f} s   {full / base:.2f}x")
    print(f"target < 10 s: {'met' if full < 10 else 'NOT met'}")
    lo, hi = report.advantage_ci
    print(
        f"advantage {report.advantage:+.4f} [{lo:+.4f}, {hi:+.4f}], accuracy {report.accuracy:.4f}"
    )


if __name__ == "__main__":
    main()
