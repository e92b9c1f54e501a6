"""Real-browser fixtures: a `streamlit run` server and Debian's Chromium driven by Playwright.

The server runs in its own process group, which teardown stops; Chromium is Debian's package
(never a browser downloaded by Playwright). Each test gets a new browser context, so a new
Streamlit session.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app.py"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # only the group we created
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _start_server(log: Path) -> tuple[subprocess.Popen, str]:
    for _ in range(3):  # retry on a port race
        port = _free_port()
        cmd = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.fileWatcherType",
            "none",
        ]
        with log.open("ab") as fh:
            proc = subprocess.Popen(
                cmd,
                cwd=APP.parent,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return proc, url
            except OSError:
                time.sleep(0.2)
        _stop(proc)
    raise RuntimeError("streamlit did not become healthy:\n" + log.read_text())


@pytest.fixture(scope="session")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("streamlit") / "server.log"


@pytest.fixture(scope="session")
def app_url(server_log):
    proc, url = _start_server(server_log)
    try:
        yield url
    finally:
        _stop(proc)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # expect() has its own 5 s default, separate from the context's; a page that runs a
    # heavy computation on a loaded 2-core machine needs more.
    expect.set_options(timeout=30_000)

    exe = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not exe:
        msg = "Debian chromium missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    ctx.set_default_timeout(30_000)
    pg = ctx.new_page()
    pg.goto(app_url)
    yield pg
    ctx.close()
