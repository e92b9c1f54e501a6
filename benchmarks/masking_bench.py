#!/usr/bin/env python3
"""Recipe application vs a plain pandas implementation of the same transforms, side by side.

Usage::

    python benchmarks/masking_bench.py [--rows 1000000] [--repeats 3]

The table is the Adult sample resampled (with replacement, seeded) to ``--rows`` rows. The
recipe has one transform per column; the baseline does the same work with everyday pandas
idioms (``pd.cut``, ``.str`` slicing, ``map``, ``clip``). Runs alternate (ours, baseline,
ours, ...) so machine load hits both alike; the medians and their ratio are printed. The
recipe's time includes validation and the per-column change log, which the baseline does
not compute. The last lines time the live risk delta of the Masking page at this size
(risk summary before and after).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import risk  # noqa: E402
from core.data import load  # noqa: E402
from core.recipe import Recipe, Step, apply  # noqa: E402

ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"
KEY = bytes(range(32))
MARITAL = {
    "Never-married": "Single",
    "Divorced": "Single",
    "Separated": "Single",
    "Widowed": "Single",
}
WORK = {"Federal-gov": "Government", "Local-gov": "Government", "State-gov": "Government"}
RACE = {"White": "White", "Black": "Black"}

RECIPE = Recipe(
    steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 10}),
        Step(transform="group", columns=("workclass",), params={"mapping": WORK}),
        Step(transform="pseudonymize", columns=("fnlwgt",), params={"length": 16}),
        Step(transform="mask", columns=("education",), params={"keep_first": 3}),
        Step(transform="top_bottom", columns=("education-num",), params={"lower": 5, "upper": 14}),
        Step(transform="group", columns=("marital-status",), params={"mapping": MARITAL}),
        Step(transform="mask_pattern", columns=("occupation",), params={"pattern": "[aeiou]"}),
        Step(transform="replace", columns=("relationship",), params={"value": "X"}),
        Step(transform="group", columns=("race",), params={"mapping": RACE, "other": "Other"}),
        Step(transform="drop", columns=("sex",)),
        Step(transform="round", columns=("capital-gain",), params={"base": 1000}),
        Step(transform="bin_edges", columns=("capital-loss",), params={"edges": [1, 1000, 2000]}),
        Step(transform="bin_quantiles", columns=("hours-per-week",), params={"q": 5}),
        Step(transform="postal_prefix", columns=("native-country",), params={"keep": 2}),
        Step(transform="redact", columns=("income",)),
    )
)


def _mask_rest(s: pd.Series, keep: int) -> pd.Series:
    return s.str[:keep] + s.str[keep:].str.replace(".", "*", regex=True)


def baseline(df: pd.DataFrame) -> pd.DataFrame:
    """The same transforms written with everyday pandas."""
    out = df.copy()
    out["age"] = pd.cut(df["age"], bins=np.arange(0, 110, 10), right=False)
    out["workclass"] = df["workclass"].map(WORK).fillna(df["workclass"])
    uniq = df["fnlwgt"].dropna().unique()
    tokens = {u: hmac.new(KEY, str(u).encode(), hashlib.sha256).hexdigest()[:16] for u in uniq}
    out["fnlwgt"] = df["fnlwgt"].map(tokens)
    out["education"] = _mask_rest(df["education"], 3)
    out["education-num"] = df["education-num"].clip(5, 14)
    out["marital-status"] = df["marital-status"].map(MARITAL).fillna(df["marital-status"])
    out["occupation"] = df["occupation"].str.replace("[aeiou]", "*", regex=True)
    out["relationship"] = pd.Series("X", index=df.index).where(df["relationship"].notna())
    out["race"] = df["race"].map(RACE).fillna("Other").where(df["race"].notna())
    out = out.drop(columns=["sex"])
    out["capital-gain"] = (df["capital-gain"] / 1000).round() * 1000
    out["capital-loss"] = pd.cut(df["capital-loss"], [-np.inf, 1, 1000, 2000, np.inf], right=False)
    out["hours-per-week"] = pd.qcut(df["hours-per-week"], 5, duplicates="drop")
    out["native-country"] = _mask_rest(df["native-country"], 2)
    out["income"] = pd.Series("[REDACTED]", index=df.index).where(df["income"].notna())
    return out


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    """Print the medians of both implementations and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    adult = load(ADULT, na_values=("?",)).frame
    rng = np.random.default_rng(0)  # a labelled resample for timing, not a release
    df = adult.iloc[rng.integers(0, len(adult), args.rows)].reset_index(drop=True)
    secrets = {"pseudonym_key": KEY}
    apply(df.head(1000), RECIPE, secrets=secrets)  # warm-up
    baseline(df.head(1000))
    ours, base = [], []
    for _ in range(args.repeats):
        ours.append(_time(lambda: apply(df, RECIPE, secrets=secrets)))
        base.append(_time(lambda: baseline(df)))
    mo, mb = statistics.median(ours), statistics.median(base)
    print(f"rows: {len(df):,}  columns: {df.shape[1]}  steps: {len(RECIPE.steps)}")
    print(f"recipe apply (incl. validation + change log): {mo:.3f} s  runs {ours}")
    print(f"plain pandas baseline:                        {mb:.3f} s  runs {base}")
    print(f"ratio recipe / baseline: {mo / mb:.2f}  (target <= 1.5)")

    hardened = apply(df, RECIPE, secrets=secrets).frame
    qis = ["age", "marital-status", "race", "workclass"]
    before = [_time(lambda: risk.risk_summary(df, qis)) for _ in range(args.repeats)]
    after = [_time(lambda: risk.risk_summary(hardened, qis)) for _ in range(args.repeats)]
    print(
        f"live risk delta (risk_summary before + after, 4 QIs): "
        f"{statistics.median(before) + statistics.median(after):.3f} s"
    )


if __name__ == "__main__":
    main()
