#!/usr/bin/env python3
"""Benchmark: headline risk summary vs a bare pandas group-by, and vs pyCANON.

Run: ``python benchmarks/risk_bench.py [--rows 1000000] [--repeats 5] [--pycanon-rows 20000]``

The Adult sample is replicated to ``--rows`` rows; 8 quasi-identifiers. Timings are medians
of interleaved runs (summary, baseline, summary, ...) so both see the same machine load;
the ratio is what matters. pyCANON loops in Python per class, so it runs on a smaller table
and its time at full size is extrapolated linearly (labelled as such).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import risk  # noqa: E402
from core.attribute_risk import attribute_risk  # noqa: E402

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
SENSITIVE = "income"


def _replicate(rows: int) -> pd.DataFrame:
    base = pd.read_csv(ROOT / "data" / "adult.csv")
    reps = -(-rows // len(base))
    return pd.concat([base] * reps, ignore_index=True).iloc[:rows]


def _time(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--pycanon-rows", type=int, default=20_000)
    args = ap.parse_args()

    df = _replicate(args.rows)
    print(f"table: {len(df):,} rows x {len(QIS)} QIs (Adult sample replicated)")

    def summary() -> None:
        risk.risk_summary(df, QIS)

    def summary_and_l() -> None:
        ec = risk.equivalence_classes(df, QIS)
        risk.risk_summary(df, QIS, classes=ec)
        attribute_risk(df, ec, SENSITIVE)

    def baseline() -> None:
        df.groupby(QIS).size()

    summary()
    baseline()  # warm-up
    t_sum, t_base, t_sl = [], [], []
    for _ in range(args.repeats):
        t_sum.append(_time(summary))
        t_base.append(_time(baseline))
        t_sl.append(_time(summary_and_l))
    m_sum, m_base, m_sl = (statistics.median(x) for x in (t_sum, t_base, t_sl))
    print(f"headline risk_summary        : {m_sum * 1e3:8.1f} ms (median of {args.repeats})")
    print(f"bare groupby(QIs).size()     : {m_base * 1e3:8.1f} ms")
    print(f"ratio summary / groupby      : {m_sum / m_base:8.2f}  (target <= 1.5)")
    print(f"summary + l/t on '{SENSITIVE}'    : {m_sl * 1e3:8.1f} ms")

    try:
        from pycanon import anonymity
    except ImportError:
        print("pyCANON not installed (pip install --no-deps pycanon==1.3.6): skipped")
        return
    small = df.iloc[: args.pycanon_rows]

    def canon() -> None:
        anonymity.k_anonymity(small, QIS)
        anonymity.l_diversity(small, QIS, [SENSITIVE])

    def ours_small() -> None:
        ec = risk.equivalence_classes(small, QIS)
        int(ec.class_fk.min())
        attribute_risk(small, ec, SENSITIVE)

    t_canon = _time(canon)
    t_ours = statistics.median(_time(ours_small) for _ in range(args.repeats))
    print(
        f"pyCANON k_anonymity + l_diversity on {len(small):,} rows: {t_canon:.2f} s; "
        f"ours (k + l) on the same rows: {t_ours * 1e3:.1f} ms; ratio {t_canon / t_ours:,.0f}x"
    )
    extrap = t_canon * len(df) / len(small)
    print(
        f"pyCANON at {len(df):,} rows, EXTRAPOLATED linearly (not measured): ~{extrap:,.0f} s "
        f"vs our measured summary + l {m_sl:.2f} s -> ~{extrap / m_sl:,.0f}x"
    )


if __name__ == "__main__":
    main()
