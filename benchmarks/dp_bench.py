#!/usr/bin/env python3
"""Benchmark of the DP lab: secure noise against NumPy's (insecure) Laplace, and the work
one ε-slider move costs the server.

Run: ``python benchmarks/dp_bench.py`` (add ``--repeat 7`` for more runs;
``--opendp`` also times OpenDP's vector Laplace when OpenDP is installed). Prints medians and
ratios against the baseline side by side; figures vary with machine load, ratios less so.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import dp, dp_utility  # noqa: E402
from core.dp_sampling import (  # noqa: E402
    NumpyRandom,
    discrete_laplace,
    laplace_on_grid,
)


class UrandomDirect:
    """Words straight from os.urandom (no AES expansion), for comparison."""

    secure = True

    def words(self, n: int) -> np.ndarray:
        return np.frombuffer(os.urandom(8 * n), dtype=np.uint64)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def opendp_ms(n: int) -> float:
    """One release of n Laplace values through OpenDP's vector mechanism (its exact sampler).

    OpenDP is not a dependency of PrivLens; this runs only with ``--opendp`` and OpenDP
    installed. One run: it takes tens of seconds at 1,000,000 values.
    """
    import opendp.prelude as odp

    odp.enable_features("contrib")
    space = odp.vector_domain(odp.atom_domain(T=float, nan=False)), odp.l1_distance(T=float)
    meas = space >> odp.m.then_laplace(scale=1.0)
    data = [0.0] * n
    t = time.perf_counter()
    meas(data)
    return (time.perf_counter() - t) * 1000


def table(title: str, rows: list[tuple[str, float]], base: float) -> None:
    print(f"\n{title}")
    print(f"  {'approach':58s} {'median ms':>10s} {'x baseline':>11s}")
    for name, ms in rows:
        print(f"  {name:58s} {ms:10.1f} {ms / base:11.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--opendp", action="store_true", help="also time OpenDP's vector Laplace (slow)"
    )
    args = ap.parse_args()
    r = args.repeat
    n = 1_000_000
    zeros = np.zeros(n)
    rng = np.random.default_rng(0)

    floor = median_ms(lambda: zeros + rng.laplace(0.0, 1.0, n), r)
    rows = [
        ("numpy Generator.laplace (insecure floor)", floor),
        (
            "secure: AES-CTR from os.urandom, grid + discrete Laplace",
            median_ms(lambda: laplace_on_grid(zeros, sensitivity=1.0, epsilon=1.0), r),
        ),
        (
            "secure words straight from os.urandom, same sampler",
            median_ms(lambda: discrete_laplace(n, scale=2.0**40, source=UrandomDirect()), r),
        ),
        (
            "same sampler driven by a seeded NumPy source (simulations)",
            median_ms(lambda: discrete_laplace(n, scale=2.0**40, source=NumpyRandom(1)), r),
        ),
        ("secure gridded Gaussian (discrete Gaussian, 1M)", median_ms(lambda: dp_gauss(zeros), r)),
    ]
    if args.opendp:
        rows.append(("OpenDP vector Laplace (exact sampler, 1 run)", opendp_ms(n)))
    else:
        print("(add --opendp to time OpenDP's vector Laplace too: `pip install opendp`, ~20 s)")
    table(f"Release of {n:,} noisy values", rows, floor)

    for size in (100_000, 1_000_000):
        values = np.clip(np.random.default_rng(1).normal(40, 12, size), 17, 90)
        sens = (90 - 17) / size

        def move(eps: float, mechanism: str, values=values, sens=sens) -> None:
            dp_utility.error_curve(mechanism=mechanism, sensitivity=sens, delta=1e-8)
            dp_utility.numeric_overlay(values, epsilon=eps, lower=17, upper=90)
            dp_utility.posterior_bound(0.5, epsilon=eps)

        def move_cached_curve(
            eps: float, values=values, sens=sens
        ) -> None:  # page caches the curve
            s = dp_utility.noise_scale(mechanism="laplace", epsilon=eps, sensitivity=sens)
            dp_utility.half_width(mechanism="laplace", scale=s)
            dp_utility.numeric_overlay(values, epsilon=eps, lower=17, upper=90)
            dp_utility.posterior_bound(0.5, epsilon=eps)

        curve_only = median_ms(
            lambda sens=sens: dp_utility.error_curve(mechanism="laplace", sensitivity=sens), r
        )
        rows = [
            ("ε-curve only, Laplace (60 points + simulated band)", curve_only),
            (
                "ε-curve only, analytic Gaussian (60 roots + band)",
                median_ms(
                    lambda sens=sens: dp_utility.error_curve(
                        mechanism="gaussian", sensitivity=sens, delta=1e-8
                    ),
                    r,
                ),
            ),
            (
                "one slider move, Laplace, curve recomputed",
                median_ms(lambda: move(0.5, "laplace"), r),
            ),
            (
                "one slider move, Gaussian, curve recomputed",
                median_ms(lambda: move(0.5, "gaussian"), r),
            ),
            (
                "one slider move, curve cached (as on the page)",
                median_ms(lambda: move_cached_curve(0.5), r),
            ),
        ]
        table(
            f"Server work per ε move at {size:,} rows (mean of a clamped column)", rows, curve_only
        )


def dp_gauss(values: np.ndarray) -> np.ndarray:
    from core.dp_sampling import gaussian_on_grid

    sigma, g = dp.gaussian_grid_sigma(epsilon=1.0, delta=1e-6, sensitivity=1.0)
    return gaussian_on_grid(values, sigma=sigma, granularity=g)


if __name__ == "__main__":
    main()
