#!/usr/bin/env python3
"""How long the Export page's download takes to build, at 1,000,000 rows.

Run from the repository root::

    python -m benchmarks.export_bench                 # 1,000,000 rows, median of 3 runs
    python -m benchmarks.export_bench --rows 200000 --repeat 5

The table is the Adult sample repeated to ``--rows`` rows (15 columns, 9 of them text). For
CSV and Parquet it prints, side by side, the median build time of:

- the baseline: the fastest plain writer of that format on this table
  (``pyarrow.csv.write_csv`` for CSV, ``DataFrame.to_parquet`` for Parquet);
- ``core.export.build_download`` without encryption (what a plain download costs);
- the same encrypted with a key file (AES-256-GCM, no scrypt);
- the same encrypted with a passphrase (adds one scrypt at the default work factor);

with the output size, the ratio to the baseline and the throughput in rows per second. It
also prints the estimate ``core.export.estimate_build`` makes before the click (from a
sample of the rows), next to the measured time, so the page's estimate can be checked.

A last table checks the sizes the page names, each against the real download: the table
file and the zip bundle (with the recipe and a real privacy report), estimate / real.
``--sizes`` prints only that table::

    python -m benchmarks.export_bench --rows 300000 --sizes
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import crypto  # noqa: E402
from core.export import build_download, estimate_build  # noqa: E402
from core.recipe import Recipe, Step  # noqa: E402
from core.report import build_report  # noqa: E402
from core.samples import adult  # noqa: E402


def _median(run: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _baseline(frame: pd.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        import pyarrow as pa
        import pyarrow.csv as pcsv

        pcsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), buf)
    else:
        frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _sizes(frame: pd.DataFrame, base: pd.DataFrame) -> None:
    """Estimated vs real size of the table file and of the zip bundle, per format."""
    import zipfile

    recipe = Recipe(
        steps=(Step(transform="suppress", columns=("age", "sex"), params={"k": 5}),),
        source_columns=tuple(frame.columns),
    )
    roles = {"age": "quasi_identifier", "sex": "quasi_identifier"}
    report = build_report(base.iloc[:2000], base.iloc[:2000], roles=roles, recipe=recipe)
    print(f"\n{'format':<8}{'size of':<12}{'estimate MB':>12}{'real MB':>10}{'est/real':>10}"
          f"{'est s':>8}{'real s':>8}")  # fmt: skip
    for fmt in ("csv", "parquet"):
        start = time.perf_counter()
        real = build_download(frame, fmt, bundle=True, recipe_json=recipe.to_json(), report=report)
        real_seconds = time.perf_counter() - start
        with zipfile.ZipFile(io.BytesIO(real.data)) as zf:
            real_file = zf.getinfo(f"privlens-export.{fmt}").file_size
        est = estimate_build(
            frame, fmt, bundle=True, recipe_json=recipe.to_json(),
            report_html=report.to_html(), report_json=report.to_json(),
        )  # fmt: skip
        for what, e, r in (
            ("file", est.file_bytes, real_file),
            ("zip bundle", est.bundle_bytes or 0, len(real.data)),
        ):
            print(
                f"{fmt:<8}{what:<12}{e / 1e6:>12.2f}{r / 1e6:>10.2f}{e / r:>10.3f}"
                f"{est.seconds:>8.1f}{real_seconds:>8.1f}"
            )


def main() -> None:
    """Print the side-by-side table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sizes", action="store_true", help="only the size table")
    args = ap.parse_args()

    base = adult().frame
    reps = -(-args.rows // len(base))
    frame = pd.concat([base] * reps, ignore_index=True).iloc[: args.rows]
    if args.sizes:
        print(f"{len(frame):,} rows x {frame.shape[1]} columns (Adult repeated)")
        _sizes(frame, base)
        return
    key = crypto.generate_key()
    passphrase = "benchmark passphrase, not a secret"
    print(f"{len(frame):,} rows x {frame.shape[1]} columns (Adult repeated), median of "
          f"{args.repeat}")  # fmt: skip
    print(f"{'format':<8}{'variant':<26}{'seconds':>9}{'x base':>8}{'MB':>9}{'rows/s':>12}")
    for fmt in ("csv", "parquet"):
        t0, data = _median(lambda fmt=fmt: _baseline(frame, fmt), args.repeat)
        print(
            f"{fmt:<8}{'baseline (pyarrow/pandas)':<26}{t0:>9.2f}{1:>8.2f}"
            f"{len(data) / 1e6:>9.1f}{len(frame) / t0:>12,.0f}"  # type: ignore[arg-type]
        )
        variants: list[tuple[str, Callable[[], object]]] = [
            ("build_download, plain", lambda fmt=fmt: build_download(frame, fmt)),
            ("+ encrypt (key file)", lambda fmt=fmt: build_download(frame, fmt, key=key)),
            (
                "+ encrypt (passphrase)",
                lambda fmt=fmt: build_download(frame, fmt, passphrase=passphrase),
            ),
        ]
        for name, run in variants:
            t, out = _median(run, args.repeat)
            size = len(out.data)  # type: ignore[attr-defined]
            print(
                f"{fmt:<8}{name:<26}{t:>9.2f}{t / t0:>8.2f}{size / 1e6:>9.1f}"
                f"{len(frame) / t:>12,.0f}"
            )
        for encrypted in (False, True):
            est = estimate_build(frame, fmt, encrypted=encrypted, passphrase=encrypted)
            print(
                f"{fmt:<8}{'estimate' + (' (passphrase)' if encrypted else ''):<26}"
                f"{est.seconds:>9.2f}{'':>8}{est.bytes / 1e6:>9.1f}"
                f"   from {est.sample_rows:,} rows in {est.sample_seconds:.3f} s"
            )
    _sizes(frame, base)


if __name__ == "__main__":
    main()
