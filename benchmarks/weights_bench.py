#!/usr/bin/env python3
"""Time and memory of core.weights against bare NumPy and against core.crypto.

Run from the repository root::

    python -m benchmarks.weights_bench                      # 1,000,000 parameters
    python -m benchmarks.weights_bench --params 10000000 --repeat 9

On a generated float32 safetensors file of ``--params`` parameters (three matrices of 1,024
columns holding 1/2, 1/4 and 1/4 of them), prints side by side (the two sides of a
comparison run alternately, median of ``--repeat`` runs each):

1. int8 symmetric per-channel quantization of every tensor read from the file:
   ``core.weights.quantize_tensor`` against the bare NumPy expression
   ``np.round(x / s).clip(-128, 127).astype(np.int8)`` with ``s = max|x| / 127`` per row, on
   the same arrays (the read is timed apart, once), and the ratio (target: at most 2x);
   the codes are checked equal;
2. the peak memory of reading and quantizing all tensors one at a time, in multiples of the
   largest tensor: what is allocated above the memory-mapped file (target: at most 1.5x),
   measured twice: the Python heap (tracemalloc, which sees NumPy's buffers), and on Linux the
   process's anonymous resident memory (``RssAnon`` of ``/proc/self/status``, which leaves
   out the file's mapped pages) sampled every half millisecond in a fresh child process;
3. the whole ``compress_file`` (read, quantize, write, read back, measure), for scale;
4. ``encrypt_weights`` against ``core.crypto.encrypt_file`` on a random plain file of the
   same size (key-file mode: scrypt is not counted), and the throughput ratio (target: at
   least 0.8).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import crypto  # noqa: E402
from core.weights import (  # noqa: E402
    Quantize,
    WeightsRecipe,
    compress_file,
    encrypt_weights,
    open_weights,
    quantize_tensor,
)

MiB = 2**20
COLUMNS = 1024


def _median(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _paired(a: Callable[[], object], b: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median seconds of ``a`` and of ``b``, run alternately so load drifts hit both alike."""
    ta, tb = [], []
    for _ in range(repeat):
        for run, times in ((a, ta), (b, tb)):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
    return statistics.median(ta), statistics.median(tb)


def _make_file(path: Path, params: int) -> None:
    from safetensors.numpy import save_file

    rng = np.random.default_rng(0)
    rows = max(1, params // COLUMNS)
    parts = [rows // 2, rows // 4, rows - rows // 2 - rows // 4]
    tensors = {}
    for i, r in enumerate(p for p in parts if p):
        scale = np.linspace(0.01, 2.0, r, dtype=np.float32)[:, None]
        x = rng.standard_normal((r, COLUMNS), dtype=np.float32) * scale
        tensors[f"layer{i}.weight"] = x
    save_file(tensors, str(path))


def _bare(x: np.ndarray) -> np.ndarray:
    s = np.abs(x).max(axis=1, keepdims=True) / 127
    s[s == 0] = 1
    return np.round(x / s).clip(-128, 127).astype(np.int8)


def _ours(x: np.ndarray) -> np.ndarray:
    return quantize_tensor(x, bits=8, symmetric=True, per_channel=True).codes


def _peak(wf, quantize: Callable[[np.ndarray], np.ndarray]) -> float:
    tracemalloc.start()
    for name in wf.names:
        codes = quantize(wf.tensor(name))
        del codes
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def _rss_anon() -> int:
    """This process's anonymous resident bytes (Linux ``/proc/self/status``)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise OSError("no RssAnon line")


def _rss_child(path: str, which: str) -> None:
    """In a fresh process: print the peak RssAnon above the start while reading + quantizing."""
    wf = open_weights(path)
    quantize = _ours if which == "ours" else _bare
    base = _rss_anon()
    peak = base
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _rss_anon())
            time.sleep(0.0005)

    thread = threading.Thread(target=sample)
    thread.start()
    try:
        for name in wf.names:
            codes = quantize(wf.tensor(name))
            del codes
    finally:
        stop.set()
        thread.join()
    print(max(peak, _rss_anon()) - base)


def _rss_peak(path: Path, which: str) -> float | None:
    """Peak anonymous RSS (bytes) of :func:`_rss_child`, or ``None`` off Linux."""
    if not Path("/proc/self/status").exists():
        return None
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", str(path), which],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip())


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--params", type=int, default=1_000_000, help="parameters (default 1,000,000)"
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--rss-child", nargs=2, metavar=("FILE", "WHICH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        _rss_child(*args.rss_child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "model.safetensors"
        _make_file(src, args.params)
        wf = open_weights(src)
        size = src.stat().st_size
        largest = max(s.nbytes for s in wf.specs)
        n = sum(s.parameters for s in wf.specs)
        print(
            f"file: {n:,} float32 parameters, {size / MiB:,.1f} MiB, largest tensor "
            f"{largest / MiB:,.1f} MiB, {len(wf.specs)} tensors"
        )

        start = time.perf_counter()
        arrays = [wf.tensor(name) for name in wf.names]
        read = time.perf_counter() - start
        for x in arrays:
            assert np.array_equal(_ours(x), _bare(x))
        t_bare, t_ours = _paired(
            lambda: [_bare(x) for x in arrays], lambda: [_ours(x) for x in arrays], args.repeat
        )
        arrays.clear()
        print("\n1. int8 per-channel quantization (same arrays, codes equal)")
        print(f"   {'reading the tensors (once)':<40}{read:>9.3f} s")
        print(f"   {'bare NumPy expression':<40}{t_bare:>9.3f} s")
        print(f"   {'core.weights.quantize_tensor':<40}{t_ours:>9.3f} s")
        print(f"   {'ratio ours / bare (target <= 2)':<40}{t_ours / t_bare:>9.2f}")

        p_bare, p_ours = _peak(wf, _bare), _peak(wf, _ours)
        r_bare, r_ours = _rss_peak(src, "bare"), _rss_peak(src, "ours")
        print("\n2. peak memory above the memory-mapped file, read + quantize, tensor by tensor")
        print(f"   {'':<40}{'heap (tracemalloc)':>26}{'anonymous RSS (sampled)':>30}")
        for label, heap, rss, target in (
            ("bare NumPy expression", p_bare, r_bare, ""),
            ("core.weights.quantize_tensor", p_ours, r_ours, " (target <= 1.5)"),
        ):
            rss_text = "n/a" if rss is None else f"{rss / MiB:.1f} MiB {rss / largest:5.2f}x"
            print(
                f"   {label:<40}{heap / MiB:>9.1f} MiB {heap / largest:5.2f}x{rss_text:>30}{target}"
            )
        print("   (multiples of the largest tensor)")

        dst = Path(tmp) / "q.safetensors"
        recipe = WeightsRecipe(steps=(Quantize(bits=8, per_channel=True),))
        t_all = _median(lambda: compress_file(src, dst, recipe), 1)
        print("\n3. compress_file (read, quantize, write, read back, measure)")
        print(f"   {'seconds':<40}{t_all:>9.3f} s; wrote {dst.stat().st_size / MiB:,.1f} MiB")

        key = crypto.generate_key()
        plain = Path(tmp) / "plain.bin"
        with plain.open("wb") as fh:
            left = size
            while left:
                step = min(left, 16 * MiB)
                fh.write(os.urandom(step))
                left -= step
        t_file, t_weights = _paired(
            lambda: crypto.encrypt_file(plain, Path(tmp) / "p.plenc", key=key),
            lambda: encrypt_weights(src, Path(tmp) / "w.plenc", key=key),
            args.repeat,
        )
        print("\n4. encryption (key file), same size")
        print(
            f"   {'core.crypto.encrypt_file (plain file)':<40}{t_file:>9.3f} s "
            f"{size / MiB / t_file:>8.0f} MiB/s"
        )
        print(
            f"   {'core.weights.encrypt_weights':<40}{t_weights:>9.3f} s "
            f"{size / MiB / t_weights:>8.0f} MiB/s"
        )
        print(f"   {'throughput ratio (target >= 0.8)':<40}{t_file / t_weights:>9.2f}")


if __name__ == "__main__":
    main()
