#!/usr/bin/env python3
"""Throughput and memory of core.crypto against a single-shot pycryptodome AES-GCM pass.

Run from the repository root::

    python -m benchmarks.crypto_bench            # 256 MiB, median of 3 runs
    python -m benchmarks.crypto_bench --mib 64 --repeat 5

Prints, side by side on the same random bytes:

1. encrypt + decrypt with one AES-256-GCM object over the whole buffer (the baseline) and
   with ``encrypt_bytes`` / ``decrypt_bytes`` (key file mode, so scrypt is not counted), and
   the throughput ratio (target: at least 0.70 of the baseline);
2. the same through the chunked format at several chunk sizes (why the default is 1 MiB);
3. the peak Python heap (tracemalloc) of ``encrypt_file`` / ``decrypt_file`` at two file
   sizes: flat when streaming works;
4. the one-off cost of scrypt at the default work factor.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from Crypto.Cipher import AES

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import crypto  # noqa: E402
from core.limits import SCRYPT_WORK_FACTOR_DEFAULT  # noqa: E402

MiB = 2**20


def _median_seconds(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _baseline(data: bytes, key: bytes) -> None:
    nonce = os.urandom(12)
    ct, tag = AES.new(key, AES.MODE_GCM, nonce=nonce).encrypt_and_digest(data)
    assert AES.new(key, AES.MODE_GCM, nonce=nonce).decrypt_and_verify(ct, tag) == data


def _ours(data: bytes, key: bytes, chunk_log2: int) -> None:
    blob = crypto.encrypt_bytes(data, key=key, chunk_log2=chunk_log2)
    assert crypto.decrypt_bytes(blob, key=key) == data


def _peak_file_mib(size: int, key: bytes, folder: Path) -> tuple[float, float]:
    src, enc, back = folder / "plain.bin", folder / "x.plenc", folder / "back.bin"
    with src.open("wb") as fh:
        for _ in range(size // MiB):
            fh.write(os.urandom(MiB))
    peaks = []
    for step in (
        lambda: crypto.encrypt_file(src, enc, key=key),
        lambda: crypto.decrypt_file(enc, back, key=key),
    ):
        tracemalloc.start()
        step()
        peaks.append(tracemalloc.get_traced_memory()[1] / MiB)
        tracemalloc.stop()
    assert back.stat().st_size == size
    for p in (src, enc, back):
        p.unlink()
    return peaks[0], peaks[1]


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=256, help="data size in MiB (default 256)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    args = parser.parse_args()
    size = args.mib * MiB
    data = os.urandom(size)
    key = crypto.generate_key()
    gib = size / 2**30

    print(f"# AES-256-GCM encrypt + decrypt of {args.mib} MiB, median of {args.repeat} runs")
    base = _median_seconds(lambda: _baseline(data, key), args.repeat)
    print(f"{'method':<44}{'seconds':>9}{'GiB/s':>8}{'vs baseline':>13}")
    print(
        f"{'single-shot pycryptodome GCM (baseline)':<44}{base:9.3f}{2 * gib / base:8.2f}{1:13.2f}"
    )
    for log2 in (16, 18, 20, 22):
        t = _median_seconds(lambda log2=log2: _ours(data, key, log2), args.repeat)
        label = f"PrivLens v1, {2**log2 // 1024} KiB chunks" + (" (default)" if log2 == 20 else "")
        print(f"{label:<44}{t:9.3f}{2 * gib / t:8.2f}{base / t:13.2f}")

    print("\n# Peak Python heap (tracemalloc) of the file-to-file path, MiB")
    print(f"{'file size':<12}{'encrypt_file':>14}{'decrypt_file':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        for mib in sorted({max(1, args.mib // 4), args.mib}):
            e, d = _peak_file_mib(mib * MiB, key, Path(tmp))
            print(f"{f'{mib} MiB':<12}{e:14.1f}{d:14.1f}")

    t = _median_seconds(
        lambda: crypto.encrypt_bytes(b"", passphrase="benchmark passphrase"), args.repeat
    )
    print(f"\n# scrypt at log2 N = {SCRYPT_WORK_FACTOR_DEFAULT} (per encryption or decryption)")
    print(f"{t:.3f} s")


if __name__ == "__main__":
    main()
