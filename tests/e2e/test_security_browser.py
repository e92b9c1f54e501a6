"""Real browser: strings from files stay text, and the browser fetches nothing off the server.

A column name, a file name and an age stanza type written as markdown (an image that would be
fetched from another host and a link to another site) are shown on every page; the DOM must
hold no such link or image, and every request the browser makes must go to the app's origin.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e

HOSTILE = "![](http://127.0.0.2:9/pixel.png)[Update](https://evil.example)"
FILE_NAME = "www.evil.example [Update](https:evil.example).csv"  # GFM autolinks bare www.
PAGES = [
    "Home",
    "Data",
    "Correlations",
    "Re-identification risk",
    "Differential privacy",
    "Masking",
    "Export",
    "Decrypt",
]


def _csv() -> str:
    rows = [f"{HOSTILE},age,zip,diagnosis"]
    rows += [
        f"{i % 7},{20 + i % 50},{10115 + i % 9},{'cold' if i % 3 else 'flu'}" for i in range(60)
    ]
    return "\n".join(rows) + "\n"


def _age_file() -> bytes:
    return (
        b"age-encryption.org/v1\n-> "
        + HOSTILE.encode()
        + b" c2FsdA 18\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        + bytes(64)
    )


def _injected(page: Page, where: str) -> list[str]:
    """Links and images made from the hostile strings, each as '<page>: <outer HTML>'."""
    found = page.locator('a[href*="evil.example"], img[src*="127.0.0.2"], img[src*="pixel"]')
    return [f"{where}: {html[:160]}" for html in found.evaluate_all("e => e.map(x => x.outerHTML)")]


@pytest.fixture
def watched_page(browser: Browser, app_url: str):
    """A fresh session whose every request is recorded before the first one is made."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    pg = ctx.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(app_url)
    yield pg, requests
    ctx.close()


def test_hostile_names_are_shown_as_text_and_nothing_is_fetched_elsewhere(
    watched_page, app_url: str, tmp_path: Path
):
    page, requests = watched_page
    wait_idle(page)
    go_to(page, "Data")
    src = tmp_path / FILE_NAME
    src.write_text(_csv())
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(src)
    expect(page.get_by_text("Loaded 60 rows × 4 columns")).to_be_visible()
    wait_idle(page)
    # The literal text is on the page (the check below is not vacuous).
    expect(page.get_by_test_id("stSidebar")).to_contain_text("evil.example [Update]")

    injected = []
    for title in PAGES:
        go_to(page, title)
        errors = page.get_by_test_id("stException")
        assert errors.count() == 0, f"{title}: {errors.first.inner_text()}"
        assert_no_exception(page)
        injected += _injected(page, title)
    expect(page.get_by_test_id("stMain")).to_contain_text("Decrypt")

    page.locator(".st-key-decrypt_file").get_by_test_id("stFileUploaderDropzoneInput")\
        .set_input_files({"name": "hostile.age", "mimeType": "application/octet-stream",
                          "buffer": _age_file()})  # fmt: skip
    alert = page.get_by_test_id("stAlertContentError")
    expect(alert).to_contain_text("recipient stanza")
    expect(alert).to_contain_text("evil.example")  # shown, as text
    injected += _injected(page, "Decrypt error")

    go_to(page, "Masking")
    expect(page.get_by_test_id("stMain")).to_contain_text("Update")
    injected += _injected(page, "Masking again")
    page.wait_for_timeout(1_000)  # let any late image or prefetch request be made

    origin = "{0.scheme}://{0.netloc}".format(urlsplit(app_url))
    elsewhere = [
        u for u in requests if not u.startswith((origin + "/", "data:", "blob:")) and u != origin
    ]
    assert not injected, injected
    assert not elsewhere, elsewhere


def test_deep_link_right_after_start_goes_through_the_router(browser: Browser, tmp_path: Path):
    """The first request a fresh server gets is /masking: the app's router still runs (page
    config, sample dataset, sidebar pages with their titles), not the bare page file."""
    from tests.e2e.conftest import _start_server, _stop

    proc, url = _start_server(tmp_path / "fresh.log")
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.set_default_timeout(60_000)
        page = ctx.new_page()
        page.goto(url + "/masking")
        wait_idle(page)
        expect(page.get_by_role("heading", name="Masking")).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        expect(nav.get_by_role("link", name="Re-identification risk")).to_be_visible()
        expect(nav.get_by_role("link", name="Differential privacy")).to_be_visible()
        expect(page.get_by_test_id("stSidebar")).to_contain_text("Adult census sample")
        expect(page.get_by_text("Transforms per column")).to_be_visible()
        assert_no_exception(page)
        ctx.close()
    finally:
        _stop(proc)
    assert "Traceback" not in (tmp_path / "fresh.log").read_text()


def _open_files(pid: int, ignore: set[str]) -> set[str]:
    """Regular files the process has open (paths from /proc/<pid>/fd), minus ``ignore``."""
    found = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.exists() else ():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            found.add(target)
    return found - ignore


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc")
def test_a_large_upload_never_touches_the_disk(browser: Browser, tmp_path: Path):
    """An 8 MiB upload: the server process opens no file while it receives and parses it
    (Starlette spools upload parts over 1 MiB to a temporary file unless told otherwise; eight
    times that size takes the same path as any larger file)."""
    from tests.e2e.conftest import APP, _start_server, _stop

    big = tmp_path / "big.csv"
    row = "1234567,abcdefghij,98765.4321,klmnopqrstuvwxyz\n"
    big.write_text("id,code,value,label\n" + row * (8 * 2**20 // len(row)))
    proc, url = _start_server(tmp_path / "upload.log")
    seen: set[str] = set()
    polls: list[int] = []
    try:
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        ctx.set_default_timeout(120_000)
        page = ctx.new_page()
        page.goto(url + "/data")
        wait_idle(page)
        baseline = _open_files(proc.pid, set())  # libraries, the log file
        done = threading.Event()

        def watch() -> None:
            while not done.is_set():
                seen.update(_open_files(proc.pid, baseline))
                polls.append(1)
                time.sleep(0.002)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(big)
        expect(page.get_by_text(re.compile(r"Loaded [\d,]+ rows × 4 columns"))).to_be_visible(
            timeout=180_000
        )
        done.set()
        watcher.join(timeout=10)
        ctx.close()
    finally:
        _stop(proc)
    assert len(polls) > 100  # the watcher ran all along
    # Files the server reads (its code, static assets) are fine, and so is the workspace
    # database, which holds the table encrypted (checked below); anything else it opened (a
    # spooled upload part in the temporary directory) holds uploaded data.
    db_dir = str(Path(os.environ["PRIVLENS_DB"]).parent)
    readonly = (sys.prefix, sys.base_prefix, str(APP.parent), db_dir)
    assert not [f for f in seen if not f.startswith(readonly)], seen
    for stored in Path(db_dir).iterdir():  # the stored workspace holds no plaintext of it
        if stored.is_file():
            blob = stored.read_bytes()
            assert b"abcdefghij" not in blob and b"klmnopqrstuvwxyz" not in blob, stored.name
