#!/usr/bin/env python3
"""Benchmark: the fingerprint of a large dataset's files vs listing them as an engine does.

Run: ``python benchmarks/large_fingerprint_bench.py [--files 19900] [--folders 100]
[--repeats 7]``.

The app takes :func:`core.large_data.source_fingerprint` (each Parquet file's relative path,
size and modification time) once per page run on a large dataset, so results cached under it
are not shown for changed files. A folder of ``--files`` small Parquet files spread over
``--folders`` partition folders is written to a temporary directory, then, interleaved so all
see the same machine load, each the median of ``--repeats`` runs:

- ``listing``: :func:`core.engine.parquet_files`, the file list every engine builds when it
  opens the folder (a recursive glob, no ``stat``);
- ``fingerprint``: :func:`core.large_data.source_fingerprint` on the same folder (its allow-list
  check, a walk, one ``stat`` per file and the digest).

The ratio fingerprint / listing is printed; the default size is the most entries the app looks
at (``PRIVLENS_LARGE_SCAN_MAX`` = 20,000).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.engine import parquet_files  # noqa: E402
from core.large_data import allowed_dirs, source_fingerprint  # noqa: E402


def main() -> None:
    """Write the folder, time both, print the medians and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=19_900)
    ap.add_argument("--folders", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lake"
        per = -(-args.files // args.folders)
        written = 0
        for d in range(args.folders):
            folder = root / "table" / f"part={d}"
            folder.mkdir(parents=True)
            for f in range(min(per, args.files - written)):
                (folder / f"part-{f}.parquet").write_bytes(b"PAR1")
                written += 1
        dirs = allowed_dirs(str(root))
        real = str(dirs[0])
        runs: dict[str, list[float]] = {"listing": [], "fingerprint": []}
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            listed = parquet_files(str(Path(real) / "table"))
            runs["listing"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            source_fingerprint(real, "table", dirs, max_scan=written + args.folders)
            runs["fingerprint"].append(time.perf_counter() - t0)
        assert len(listed) == written
    med = {k: statistics.median(v) for k, v in runs.items()}
    print(f"{written:,} Parquet files in {args.folders:,} folders, median of {args.repeats}:")
    for k, v in med.items():
        print(f"  {k:<12} {v * 1000:8.1f} ms")
    print(f"  fingerprint / listing = {med['fingerprint'] / med['listing']:.2f}")


if __name__ == "__main__":
    main()
