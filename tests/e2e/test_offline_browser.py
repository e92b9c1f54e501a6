"""Real browser: a workspace opens only with its link, and nothing is fetched off the server.

- A whole flow (upload, every page, a DP release, masking, an encrypted export, a project
  file, a reload) while every request of the browser context is recorded: every host is the
  loopback, including the favicon, the fonts and the websocket.
- A link without the workspace token, or with a wrong one, shows nothing of another
  workspace: not its table, its file name, a column of it, nor its settings.
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    DISTINCT_COLUMN,
    DISTINCT_VALUE,
    FILE,
    assert_no_exception,
    choose,
    fill_number,
    nav_titles,
    save_download,
    settle,
    upload_orchard,
    visit,
    wait_idle,
)

pytestmark = pytest.mark.e2e

PASSPHRASE = "juniper causeway 31 lantern ferry"
LOOPBACK = {"localhost"}


def _token(page: Page) -> str | None:
    return (parse_qs(urlsplit(page.url).query).get("ws") or [None])[0]


def _is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    if host in LOOPBACK:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


#: URLs the page refers to for icons, fonts, scripts, styles and images, and every resource
#: the browser says it fetched (the Resource Timing list also holds requests a driver's
#: events can miss, such as a favicon).
_REFERENCED_JS = """
() => {
  const urls = [];
  for (const e of document.querySelectorAll('link[href]')) urls.push(e.href);
  for (const e of document.querySelectorAll('script[src], img[src], iframe[src], source[src]'))
    urls.push(e.src);
  for (const sheet of document.styleSheets) {
    let rules = [];
    try { rules = sheet.cssRules; } catch (err) { urls.push('unreadable-sheet:' + sheet.href); }
    for (const r of rules) {
      const text = r.cssText || '';
      for (const m of text.matchAll(/url\\(["']?([^"')]+)["']?\\)/g)) {
        urls.push(new URL(m[1], sheet.href || document.baseURI).href);
      }
    }
  }
  for (const e of performance.getEntriesByType('resource')) urls.push(e.name);
  return urls;
}
"""


def _referenced(page: Page) -> list[str]:
    return page.evaluate(_REFERENCED_JS)


def test_no_request_leaves_the_loopback_during_a_whole_flow(
    browser: Browser, app_url: str, tmp_path: Path
):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    ctx.set_default_timeout(60_000)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    ctx.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()))
    page = ctx.new_page()
    page.on("websocket", lambda ws: requests.append(ws.url))
    referenced: list[str] = []
    try:
        page.goto(app_url)
        wait_idle(page)
        settle(page)
        referenced += _referenced(page)
        upload_orchard(page, tmp_path)
        for title in nav_titles(page):
            visit(page, title)
            assert_no_exception(page, title)
            referenced += _referenced(page)

        # a release spends from the table's budget
        visit(page, "Differential privacy")
        choose(page, page.locator(".st-key-dp_column"), "age")
        fill_number(page, page.locator(".st-key-dp_total_eps"), "2")
        page.get_by_role("button", name="Start the budget").click()
        page.get_by_role("button", name="Release (spends budget)").click()
        expect(page.get_by_test_id("stMetric").filter(has_text="ε spent")).to_have_count(1)
        settle(page)

        # masking, then an encrypted export of the recipe
        visit(page, "Masking")
        choose(page, page.get_by_role("combobox", name="Transform for income"), "Round")
        page.get_by_role("spinbutton", name="base").fill("1000")
        page.get_by_role("spinbutton", name="base").press("Enter")
        settle(page)
        visit(page, "Export")
        page.get_by_text("A passphrase", exact=True).click()
        wait_idle(page)
        for label in ("Passphrase", "Repeat the passphrase"):
            box = page.get_by_label(label, exact=True)
            box.fill(PASSPHRASE)
            box.press("Enter")
            wait_idle(page)
        button = page.locator(".st-key-export_download").get_by_role("button")
        expect(button).to_be_enabled()
        assert save_download(page, button, tmp_path).stat().st_size > 0
        settle(page)
        referenced += _referenced(page)

        # a project file, then a reload of the tab
        visit(page, "History")
        page.locator(".st-key-project_save_pass input").fill(PASSPHRASE)
        page.locator(".st-key-project_save_pass input").press("Enter")
        wait_idle(page)
        page.get_by_role("button", name="Make the project file").click()
        wait_idle(page)
        project = page.locator(".st-key-project_download").get_by_role("button")
        assert save_download(page, project, tmp_path).stat().st_size > 0
        page.reload()
        wait_idle(page)
        settle(page)
        expect(page.get_by_test_id("stSidebar")).to_contain_text(FILE)
        referenced += _referenced(page)

        # the favicon the page names is this server's own file
        icons = page.locator("link[rel~='icon']").evaluate_all("e => e.map(x => x.href)")
        assert icons, "the page names no favicon"
        for href in icons:
            assert _is_loopback(href), href
            got = ctx.request.get(href)
            assert got.ok and got.headers.get("content-type", "").startswith("image/"), href
        page.wait_for_timeout(1_000)  # a late prefetch or image request
    finally:
        ctx.close()
    assert len(requests) > 20 and any("/_stcore/stream" in u for u in requests), requests[:5]
    assert any("/static/" in u for u in requests + referenced)  # fonts and scripts were seen
    outside = sorted({u for u in requests + referenced if not _is_loopback(u)})
    assert not outside, outside


def _shows_nothing_of_the_upload(page: Page, where: str) -> None:
    html = page.content()
    for secret in (FILE, DISTINCT_COLUMN, DISTINCT_VALUE):
        assert secret not in html, f"{where}: '{secret}' is on the page"


def test_a_link_without_its_token_or_with_a_wrong_one_opens_nothing(
    browser: Browser, app_url: str, tmp_path: Path
):
    owner = browser.new_context(viewport={"width": 1400, "height": 1000})
    owner.set_default_timeout(60_000)
    page = owner.new_page()
    page.goto(app_url)
    wait_idle(page)
    upload_orchard(page, tmp_path)
    visit(page, "Re-identification risk")
    fill_number(page, page.locator(".st-key-risk_k"), "7")
    settle(page)
    token = _token(page)
    assert token and page.locator(".st-key-risk_k input").input_value() == "7"
    wrong = secrets.token_urlsafe(32)
    assert wrong != token
    cases = {"no token": app_url, "a wrong token": f"{app_url}/?ws={wrong}"}
    try:
        for case, url in cases.items():
            other = browser.new_context(viewport={"width": 1400, "height": 1000})
            other.set_default_timeout(60_000)
            try:
                visitor = other.new_page()
                visitor.goto(url)
                wait_idle(visitor)
                settle(visitor)
                if case == "a wrong token":
                    alert = visitor.get_by_test_id("stAlertContentError")
                    expect(alert).to_contain_text("No workspace matches this link")
                    started = visitor.get_by_text("A new workspace was started instead")
                    expect(started).to_be_visible()
                assert _token(visitor) not in (token, wrong), case
                expect(visitor.get_by_test_id("stSidebar")).to_contain_text("Adult census sample")
                titles = ["Home", "Data", "History"]
                if case == "no token":  # the owner's k = 7 is not shown either
                    titles.append("Re-identification risk")
                for title in titles:
                    visit(visitor, title)
                    assert_no_exception(visitor, f"{case}, {title}")
                    _shows_nothing_of_the_upload(visitor, f"{case}, {title}")
                if case == "no token":
                    assert visitor.locator(".st-key-risk_k input").input_value() == "5"
            finally:
                other.close()
        # the owner's link still opens the owner's workspace
        page.reload()
        wait_idle(page)
        expect(page.get_by_test_id("stSidebar")).to_contain_text(FILE)
    finally:
        owner.close()
