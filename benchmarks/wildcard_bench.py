#!/usr/bin/env python3
"""Benchmark: the ``wildcard`` missing-value rule against the ``category`` rule.

Run: ``python benchmarks/wildcard_bench.py [--rows 20000] [--qis 10] [--missing 0.2]
[--repeats 3]``

The first ``--rows`` rows of the Adult sample, ``--qis`` of its columns as quasi-identifiers,
and each QI cell blanked with probability ``--missing`` (seeded), which gives several hundred
missingness patterns at 10 QIs and 20 %. Both rules are timed interleaved on the same table
(median of ``--repeats``); the ratio wildcard / category is what matters. The direct pattern
comparison and the grouping by common observed QIs are also timed on their own.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import risk  # noqa: E402

COLUMNS = [
    "age",
    "workclass",
    "education",
    "marital-status",
    "occupation",
    "relationship",
    "race",
    "sex",
    "hours-per-week",
    "native-country",
    "capital-gain",
    "capital-loss",
]


def _table(rows: int, qis: int, missing: float) -> tuple[pd.DataFrame, list[str]]:
    base = pd.read_csv(ROOT / "data" / "adult.csv")
    reps = -(-rows // len(base))
    df = pd.concat([base] * reps, ignore_index=True).iloc[:rows]
    cols = COLUMNS[:qis]
    df = df[cols].astype(object)
    blank = np.random.default_rng(0).random(df.shape) < missing
    return df.mask(blank), cols


def _time(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--qis", type=int, default=10)
    ap.add_argument("--missing", type=float, default=0.2)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    df, qis = _table(args.rows, args.qis, args.missing)
    ec = risk.equivalence_classes(df, qis)
    codes, _ = risk._qi_codes(df, qis)
    masks = np.unique(codes[risk._first_rows(ec.class_id, ec.n_classes)] >= 0, axis=0)
    print(
        f"table: {len(df):,} rows x {len(qis)} QIs, {args.missing:.0%} of cells missing: "
        f"{ec.n_classes:,} exact patterns, {masks.shape[0]:,} missingness patterns"
    )

    def run(policy: str) -> None:
        risk.equivalence_classes(df, qis, missing=policy)

    def algo(method: str) -> None:
        risk._wildcard_counts(
            codes, ec.class_id, ec.class_sizes.astype(np.float64), None, method=method
        )

    run("wildcard")  # warm-up
    t_cat, t_wild, t_dir, t_lat = [], [], [], []
    for _ in range(args.repeats):
        t_cat.append(_time(lambda: run("category")))
        t_wild.append(_time(lambda: run("wildcard")))
        t_dir.append(_time(lambda: algo("direct")))
        t_lat.append(_time(lambda: algo("lattice")))
    m_cat, m_wild, m_dir, m_lat = (statistics.median(x) for x in (t_cat, t_wild, t_dir, t_lat))
    print(f"category rule                   : {m_cat * 1e3:9.1f} ms (median of {args.repeats})")
    print(f"wildcard rule (auto)            : {m_wild * 1e3:9.1f} ms")
    print(f"ratio wildcard / category       : {m_wild / m_cat:9.1f}")
    print(f"  direct pattern comparison only: {m_dir * 1e3:9.1f} ms")
    print(f"  grouped by common QIs only    : {m_lat * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
