#!/usr/bin/env python3
"""Benchmark: cold start, from ``streamlit run app.py`` to the first page rendered with the sample.

Side by side with a bare Streamlit app that only draws a title (the floor any Streamlit app
pays: interpreter, Streamlit import, server start, front-end load). Each run starts a fresh
server process and a fresh browser page; runs alternate between the two apps. Prints the
medians, PrivLens's ratio to the bare app, and whether PrivLens is under the 5 s target.

Needs Debian's chromium (the browser tests' dependency). Run:
``python benchmarks/cold_start.py [--runs 5]``
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, _free_port, _stop  # noqa: E402

BARE_APP = 'import streamlit as st\nst.title("Hello")\n'


def one_run(browser, app: Path, marker: str, cwd: Path) -> float:
    """Seconds from spawning the server to ``marker`` visible in the browser."""
    import urllib.request

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(app),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:  # poll the health endpoint, as a browser's first connection would wait
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("server exited early") from None
                time.sleep(0.05)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(url)
        page.get_by_text(marker).first.wait_for(state="visible")
        elapsed = time.perf_counter() - t0
        page.close()
        return elapsed
    finally:
        _stop(proc)


def main() -> None:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    exe = shutil.which("chromium")
    if not exe:
        sys.exit("Debian chromium is needed: apt-get install chromium")
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE_APP)
        browser = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        times: dict[str, list[float]] = {"bare streamlit": [], "PrivLens": []}
        for _ in range(args.runs):
            times["bare streamlit"].append(one_run(browser, bare, "Hello", Path(tmp)))
            # The home page is rendered with the sample when its row count shows.
            times["PrivLens"].append(one_run(browser, ROOT / "app.py", "32,561", ROOT))
        browser.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>15}: median {med[k]:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in v)})")
    ratio = med["PrivLens"] / med["bare streamlit"]
    verdict = "under" if med["PrivLens"] < 5 else "OVER"
    print(f"ratio PrivLens / bare: {ratio:.2f}; PrivLens {verdict} the 5 s target")


if __name__ == "__main__":
    main()
