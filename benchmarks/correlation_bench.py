#!/usr/bin/env python3
"""Correlation matrices: PrivLens against numpy/scipy and pandas baselines, side by side.

Run from the repository root::

    python -m benchmarks.correlation_bench            # about 2-3 minutes on 2 cores
    python -m benchmarks.correlation_bench --full     # adds the slow pandas runs at 1M rows

Each case runs ours and the baseline alternately ``--repeats`` times and prints the medians
and the ratio ours / baseline (below 1 = we are faster). All results include p-values:
the baselines add the same closed-form p-values, so both sides do the same work. Before
timing, each pair of results is checked to agree within 1e-9, so a fast wrong answer
cannot pass.
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
from scipy import special, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.correlation import correlation_matrix  # noqa: E402


def make_frame(rows: int, missing: float, seed: int = 0) -> pd.DataFrame:
    """10 numeric columns: correlated normals, a skewed one, and tied integer codes."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(rows, 4))
    cols = {
        "n0": base[:, 0],
        "n1": base[:, 0] * 0.6 + base[:, 1],
        "n2": base[:, 2],
        "n3": np.exp(base[:, 3]),
        "n4": base[:, 1] - base[:, 2],
        "i5": rng.integers(0, 10, rows).astype(float),  # heavy ties
        "i6": np.round(base[:, 0] * 3),  # ties, correlated
        "i7": rng.integers(0, 1000, rows).astype(float),
        "n8": rng.standard_t(3, rows),
        "n9": rng.uniform(size=rows),
    }
    df = pd.DataFrame(cols)
    if missing > 0:
        for c in df:
            df.loc[rng.random(rows) < missing, c] = np.nan
    return df


def _p_from_r(r: np.ndarray, n: int) -> np.ndarray:
    dof = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt(dof / ((1 - r) * (1 + r)))
    return 2 * special.stdtr(dof, -np.abs(t))


def baseline_pearson(df: pd.DataFrame) -> np.ndarray:
    """np.corrcoef plus closed-form p-values (complete data only)."""
    r = np.corrcoef(df.to_numpy(), rowvar=False)
    _p_from_r(r, len(df))
    return r


def baseline_spearman(df: pd.DataFrame) -> np.ndarray:
    """scipy.stats.spearmanr on the whole matrix (ranks every column, then corrcoef)."""
    return np.asarray(stats.spearmanr(df.to_numpy()).statistic)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def side_by_side(
    name: str, ours: Callable[[], np.ndarray], base: Callable[[], np.ndarray], repeats: int
) -> None:
    t_ours: list[float] = []
    t_base: list[float] = []
    for i in range(repeats):
        order = [(ours, t_ours), (base, t_base)]
        if i % 2:
            order.reverse()  # alternate who runs first
        for fn, sink in order:
            t, res = timed(fn)
            sink.append(t)
            if i == 0:
                if fn is ours:
                    r_ours = res
                else:
                    r_base = res
    np.testing.assert_allclose(r_ours, r_base, atol=1e-9, equal_nan=True)
    mo, mb = statistics.median(t_ours), statistics.median(t_base)
    print(f"{name:<58} {mo:8.2f} s {mb:8.2f} s {mo / mb:7.2f}", flush=True)


def solo(name: str, ours: Callable[[], object], repeats: int) -> None:
    times = [timed(ours)[0] for _ in range(repeats)]
    print(f"{name:<58} {statistics.median(times):8.2f} s {'-':>10} {'-':>7}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--full", action="store_true", help="add the slow pandas runs at 1M rows")
    args = ap.parse_args()
    rep = args.repeats

    def ours(df: pd.DataFrame, method: str) -> Callable[[], np.ndarray]:
        return lambda: correlation_matrix(df, method=method).r  # type: ignore[arg-type]

    def pandas(df: pd.DataFrame, method: str) -> Callable[[], np.ndarray]:
        return lambda: df.corr(method=method).to_numpy()  # type: ignore[arg-type]

    print(f"{'case (10 numeric columns)':<58} {'ours':>10} {'baseline':>10} {'ratio':>7}")
    big = make_frame(1_000_000, 0.0)
    side_by_side("Pearson 1M complete vs np.corrcoef + p", ours(big, "pearson"),
                 lambda: baseline_pearson(big), rep)  # fmt: skip
    side_by_side("Spearman 1M complete vs scipy.stats.spearmanr", ours(big, "spearman"),
                 lambda: baseline_spearman(big), rep)  # fmt: skip
    mid = make_frame(100_000, 0.01)
    side_by_side("Kendall 100k, 1% NA vs DataFrame.corr('kendall')", ours(mid, "kendall"),
                 pandas(mid, "kendall"), rep)  # fmt: skip
    side_by_side("Spearman 100k, 1% NA vs DataFrame.corr('spearman')", ours(mid, "spearman"),
                 pandas(mid, "spearman"), rep)  # fmt: skip
    side_by_side("Pearson 100k, 1% NA vs DataFrame.corr('pearson')", ours(mid, "pearson"),
                 pandas(mid, "pearson"), rep)  # fmt: skip
    big_na = make_frame(1_000_000, 0.01)
    for method in ("pearson", "spearman", "kendall"):
        solo(
            f"{method.capitalize()} 1M, 1% NA (ours, pairwise-complete)", ours(big_na, method), rep
        )
    solo("Kendall 1M complete (ours)", ours(big, "kendall"), rep)
    if args.full:
        side_by_side("Kendall 1M complete vs DataFrame.corr('kendall')", ours(big, "kendall"),
                     pandas(big, "kendall"), 1)  # fmt: skip
        side_by_side("Spearman 1M, 1% NA vs DataFrame.corr('spearman')",
                     ours(big_na, "spearman"), pandas(big_na, "spearman"), 1)  # fmt: skip


if __name__ == "__main__":
    main()
