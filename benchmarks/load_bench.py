#!/usr/bin/env python3
"""Benchmark: PrivLens's CSV loader against ``pandas.read_csv(engine="pyarrow")``.

A generated 1,000,000-row mixed CSV (integers, floats, categories, dates, free text, IDs, a
ZIP code column with leading zeros and a 20-digit account number) is read by both, alternately,
several times. pandas is told to read the ZIP and account columns as text (``dtype=str``), which
PrivLens decides on its own. Prints the median time of each, their ratio (target <= 1.3) and
the peak memory of a PrivLens load as a multiple of the loaded frame's size (target <= 3),
measured in a fresh process each, and checks that both read the two text columns alike.
CPU seconds of the load (all threads) are printed too: on a busy machine they vary less than
wall time. The file quotes every text field (as pyarrow writes it), so PrivLens parses it in
pieces and checks that no cut fell inside quotes (a quoted line break must not split a row),
which pandas' pyarrow engine does not do.

Run: ``python benchmarks/load_bench.py [--rows 1000000] [--runs 5]``
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
#: Columns pandas is told to read as text; PrivLens must decide the same by itself.
TEXT_COLUMNS = ("zip", "account")


def make_csv(path: Path, rows: int) -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "id": np.arange(rows) + 10_000_000,
            "age": rng.integers(17, 91, rows),
            "income": np.round(rng.lognormal(10, 1, rows), 2),
            "sex": rng.choice(["Female", "Male"], rows),
            "city": rng.choice([f"City {i}" for i in range(300)], rows),
            "visit": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D"),
            "note": rng.choice(
                ["no remarks", "follow-up in two weeks", "referred, see letter"], rows
            ),
            "score": np.where(rng.random(rows) < 0.02, np.nan, rng.normal(0, 1, rows)),
            "zip": pd.Series(rng.integers(0, 100_000, rows)).map("{:05d}".format),
            "account": np.char.add("1", rng.integers(10**18, 9 * 10**18, rows).astype(str)),
        }
    )
    frame["visit"] = frame["visit"].dt.strftime("%Y-%m-%d")
    pacsv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), path)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _reset_peak() -> int:
    """Reset the peak-RSS mark (Linux) and return the current RSS in KiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status_kib("VmRSS")


def _peak_kib() -> int:
    return _status_kib("VmHWM")


def _child(mode: str, path: str) -> None:
    """Load once in this fresh process and print time, peak RSS growth and frame size."""
    import core.data  # noqa: F401  (import cost is not part of the measurement)

    base = _reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "privlens":
        frame = core.data.load(path).frame
    else:
        frame = pd.read_csv(path, engine="pyarrow", dtype={c: str for c in TEXT_COLUMNS})
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_kib() - base
    size = int(frame.memory_usage(deep=True).sum())
    texts = {c: [str(v) for v in frame[c].iloc[[0, 1, -1]]] for c in TEXT_COLUMNS}
    print(
        json.dumps(
            {
                "t": elapsed,
                "cpu": cpu,
                "peak_kib": peak,
                "frame_bytes": size,
                "shape": frame.shape,
                "texts": texts,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mixed.csv"
        make_csv(path, args.rows)
        print(f"file: {args.rows:,} rows, {path.stat().st_size / 2**20:.1f} MiB")
        results: dict[str, list[dict]] = {"privlens": [], "pandas-pyarrow": []}
        for _ in range(args.runs):
            for mode in results:  # alternate, so both see the same machine load
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(path)],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                ).stdout
                results[mode].append(json.loads(out.strip().splitlines()[-1]))
        med = {m: statistics.median(r["t"] for r in rs) for m, rs in results.items()}
        for m, rs in results.items():
            peak = statistics.median(r["peak_kib"] for r in rs) * 1024
            frame = rs[0]["frame_bytes"]
            print(
                f"{m:>15}: median {med[m]:.3f} s over {args.runs} runs; peak memory "
                f"{peak / 2**20:.0f} MiB = {peak / frame:.2f}x the frame ({frame / 2**20:.0f} MiB)"
            )
        print(
            f"ratio privlens / pandas-pyarrow: {med['privlens'] / med['pandas-pyarrow']:.2f} "
            "(target <= 1.3)"
        )
        # CPU seconds (all threads) are steadier than wall time on a busy machine.
        cpu = {m: statistics.median(r["cpu"] for r in rs) for m, rs in results.items()}
        print(
            f"CPU seconds: privlens {cpu['privlens']:.3f}, pandas-pyarrow "
            f"{cpu['pandas-pyarrow']:.3f}, ratio {cpu['privlens'] / cpu['pandas-pyarrow']:.2f}"
        )
        same = results["privlens"][0]["texts"] == results["pandas-pyarrow"][0]["texts"]
        print(f"ZIP and account columns read as the same text by both: {same}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
