"""Real browser: the workspace keeps the user's work across pages, reloads and project files.

One browser tab uploads a small CSV of its own (not the sample), sets a masking transform,
quasi-identifiers and k on the Risk and Masking pages, and a DP column, question, bounds and ε,
and spends part of the table's budget on a release. Then, in the same tab and in order:

1. every page is visited in a shuffled order, twice: each page shows the same settings and
   the same results every time (widget values, metrics, messages and text, read from the DOM);
2. the tab is reloaded: the same workspace link, the uploaded table, the settings and the
   spent ε are back;
3. a project is saved with a passphrase, the workspace is deleted on Home, and the project is
   opened: the same recipe, roles, settings and ledger;
4. the table is exported encrypted; over this whole flow, every request of the tab (scripts,
   styles, fonts, the favicon, the websocket, downloads) and every URL its pages refer to went
   to the loopback, nowhere else.

The shuffle's seed is printed in every failure message (set ``PRIVLENS_E2E_SEED`` to replay).
"""

from __future__ import annotations

import ipaddress
import os
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import (
    DISTINCT_COLUMN,
    FILE,
    ROWS,
    assert_no_exception,
    chips,
    choose,
    fill_number,
    nav_titles,
    save_download,
    set_multiselect,
    settle,
    snapshot_diff,
    upload_orchard,
    visit,
    wait_idle,
)

pytestmark = pytest.mark.e2e

QIS_RISK = ["age", "sex", "postcode"]
QIS_MASKING = ["age", "sex"]
RELEASED = "mean (laplace)"  # the DP page's card of the value just released
PASSPHRASE = "lantern quarry meadow 58 copper"
SEED = int(os.environ.get("PRIVLENS_E2E_SEED") or random.SystemRandom().randrange(2**32))
PAGES = {"Home", "Data", "Correlations", "Re-identification risk", "Differential privacy",
         "Masking", "Export", "History", "Decrypt"}  # fmt: skip
LOOPBACK = {"localhost"}


def token(page: Page) -> str | None:
    """The workspace token in the tab's link."""
    return (parse_qs(urlsplit(page.url).query).get("ws") or [None])[0]


def diff(where: str, before: dict, after: dict) -> str:
    """What changed on a page, with the seed that replays the order."""
    return (
        f"{where} (shuffle seed {SEED}; replay with PRIVLENS_E2E_SEED={SEED}):\n"
        + snapshot_diff(before, after)
    )


def metric(page: Page, label: str) -> str:
    card = page.get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text()


def is_loopback(url: str) -> bool:
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


class Seen:
    """Every request of the tab's browser context, and every URL its pages refer to."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.referenced: list[str] = []

    def look(self, page: Page) -> None:
        """Note the URLs the page now refers to."""
        self.referenced += page.evaluate(_REFERENCED_JS)


def set_risk(page: Page) -> dict:
    """Quasi-identifiers and k on the Risk page."""
    visit(page, "Re-identification risk")
    set_multiselect(page, page.locator(".st-key-risk_qi"), QIS_RISK)
    fill_number(page, page.locator(".st-key-risk_k"), "3")
    shown = settle(page)
    assert chips(page.locator(".st-key-risk_qi")) == QIS_RISK
    assert page.locator(".st-key-risk_k input").input_value() == "3"
    assert any(t.startswith("Verdict") for t in shown["text"]), shown["text"]
    return shown


def set_masking(page: Page) -> dict:
    """Round income to 1,000; quasi-identifiers; suppression on with k = 4."""
    visit(page, "Masking")
    choose(page, page.get_by_role("combobox", name="Transform for income"), "Round")
    base = page.get_by_role("spinbutton", name="base")
    base.fill("1000")
    base.press("Enter")
    wait_idle(page)
    set_multiselect(page, page.locator(".st-key-mask_qi"), QIS_MASKING)
    page.locator(".st-key-mask_suppress").get_by_text("Suppress until k-anonymous").click()
    wait_idle(page)
    thumb = page.locator(".st-key-mask_k").get_by_role("slider")
    value = page.locator(".st-key-mask_k").get_by_test_id("stSliderThumbValue")
    # The slider is enabled by the run the toggle starts: a key pressed before that run ends
    # does nothing (CI's load once made three quick presses miss it).
    expect(thumb).to_be_enabled(timeout=120_000)
    for _ in range(3):  # a run under way can still repaint the old value: retry the key
        if value.inner_text().strip() == "4":
            break
        thumb.focus()
        thumb.press("ArrowLeft")  # k 5 -> 4
        wait_idle(page)
        try:
            expect(value).to_have_text("4", timeout=5_000)
            break
        except AssertionError:
            continue
    expect(value).to_have_text("4")
    shown = settle(page)
    assert page.locator(".st-key-mask_suppress input").is_checked()
    k_card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)").first
    assert int(k_card.get_by_test_id("stMetricValue").inner_text()) >= 4
    return shown


def set_dp(page: Page) -> dict:
    """Column, question, bounds and ε; a budget of ε = 3 and one release."""
    visit(page, "Differential privacy")
    choose(page, page.locator(".st-key-dp_column"), "age")
    choose(page, page.locator(".st-key-dp_question"), "Mean")
    fill_number(page, page.locator(".st-key-dp_lower"), "0")
    fill_number(page, page.locator(".st-key-dp_upper"), "100")
    shown = page.locator(".st-key-dp_eps").get_by_test_id("stSliderThumbValue")
    before = shown.inner_text()
    thumb = page.locator(".st-key-dp_eps").get_by_role("slider")
    thumb.focus()
    for _ in range(3):
        thumb.press("ArrowLeft")
        wait_idle(page)
    expect(shown).not_to_have_text(before)
    settle(page)
    fill_number(page, page.locator(".st-key-dp_total_eps"), "3")
    page.get_by_role("button", name="Start the budget").click()
    release = page.get_by_role("button", name="Release (spends budget)")
    expect(release).to_be_enabled()
    release.click()
    wait_idle(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="ε spent")).to_have_count(1)
    out = settle(page)
    assert not metric(page, "ε spent").startswith("0 of"), metric(page, "ε spent")
    return out


@pytest.fixture(scope="module")
def tab(browser: Browser, app_url: str, tmp_path_factory):
    """One tab whose workspace holds the upload, the settings and a release."""
    folder = tmp_path_factory.mktemp("workspace")
    ctx = browser.new_context(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
    ctx.set_default_timeout(60_000)
    seen = Seen()  # recorded before the first request
    ctx.on("request", lambda r: seen.requests.append(r.url))
    ctx.route("**/*", lambda route: (seen.requests.append(route.request.url), route.continue_()))
    page = ctx.new_page()
    page.on("websocket", lambda ws: seen.requests.append(ws.url))
    page.goto(app_url)
    wait_idle(page)
    settle(page)
    seen.look(page)
    upload_orchard(page, folder, seed=SEED)  # a table, so a budget, of this run alone
    expected = {}
    for title, setup in (("Re-identification risk", set_risk), ("Masking", set_masking),
                         ("Differential privacy", set_dp)):  # fmt: skip
        expected[title] = setup(page)
        seen.look(page)
    assert_no_exception(page)
    yield page, expected, folder, seen
    ctx.close()


def test_every_setting_and_result_survives_visiting_every_page_in_any_order(tab):
    page, expected, _, seen = tab
    titles = nav_titles(page)
    assert PAGES <= set(titles), titles
    rng = random.Random(SEED)
    link = token(page)
    for tour in (1, 2):
        order = titles[:]
        rng.shuffle(order)
        for title in order:
            now = visit(page, title)
            assert_no_exception(page, f"tour {tour}, {title} (seed {SEED})")
            seen.look(page)
            if title in expected:
                assert now == expected[title], diff(f"tour {tour}, {title}", expected[title], now)
            else:
                expected[title] = now
        assert token(page) == link, f"the link changed (seed {SEED})"
    # the settings are the ones typed, not only the same each time
    risk = expected["Re-identification risk"]["widgets"]
    assert all(c in risk["risk_qi"] for c in QIS_RISK) and risk["risk_k"].endswith("| 3")
    masking = expected["Masking"]["widgets"].values()
    assert any(v.endswith("| Round") for v in masking), masking
    assert any(v.startswith("base") and v.endswith("| 1000") for v in masking), masking
    assert "age" in expected["Differential privacy"]["widgets"]["dp_column"]
    assert "Mean" in expected["Differential privacy"]["widgets"]["dp_question"]


def _settings(shown: dict) -> dict:
    """The widgets of a page, without its charts and tables (their own keys)."""
    return {k: v for k, v in shown["widgets"].items() if not v.startswith(("Plotly", "Chart"))}


def test_reload_brings_back_the_workspace_data_settings_and_spent_budget(tab):
    page, expected, _, seen = tab
    link = token(page)
    visit(page, "Differential privacy")
    spent = metric(page, "ε spent")
    page.reload()
    settle(page)
    seen.look(page)
    assert token(page) == link
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar).to_contain_text(FILE)
    expect(sidebar).to_contain_text(f"{ROWS} rows × 7 columns")
    assert "Adult" not in sidebar.inner_text()
    for title in ("Re-identification risk", "Masking", "Differential privacy"):
        now = visit(page, title)
        assert_no_exception(page, title)
        want = expected[title]
        assert _settings(now) == _settings(want), diff(f"after reload, {title}", want, now)
        # the DP page's "Last release" card too: the workspace keeps the released value
        assert now["metrics"] == want["metrics"], diff(f"after reload, {title}", want, now)
        if title == "Differential privacy":
            assert any(m.startswith(RELEASED) for m in now["metrics"]), now["metrics"]
        if title == "Masking":  # one row per column of the uploaded table
            assert DISTINCT_COLUMN in now["text"], now["text"][:40]
    assert metric(page, "ε spent") == spent
    expect(page.get_by_text("Releases made in this workspace (1)")).to_be_visible()


def test_a_saved_project_reopens_after_the_workspace_is_deleted(tab):
    page, expected, folder, seen = tab
    visit(page, "Differential privacy")
    spent = metric(page, "ε spent")
    data = visit(page, "Data")
    roles = [t for t in data["text"] if t.split(":")[0].strip() in ROLE_LABELS]

    visit(page, "History")
    page.locator(".st-key-project_save_pass input").fill(PASSPHRASE)
    page.locator(".st-key-project_save_pass input").press("Enter")
    wait_idle(page)
    page.locator(".st-key-project_with_data").get_by_text("Include the data").click()
    wait_idle(page)
    page.get_by_role("button", name="Make the project file").click()
    wait_idle(page)
    button = page.locator(".st-key-project_download").get_by_role("button")
    project = save_download(page, button, folder)
    assert PASSPHRASE.encode() not in project.read_bytes()

    visit(page, "Home")
    page.get_by_role("button", name="Delete this workspace now").click()
    expect(page.get_by_text("Delete this workspace?")).to_be_visible(timeout=120_000)
    page.get_by_role("button", name="Yes, delete it").click()
    wait_idle(page)
    expect(page.get_by_text("This workspace was deleted")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).not_to_contain_text(FILE)

    visit(page, "History")
    page.locator(".st-key-project_upload").get_by_test_id("stFileUploaderDropzoneInput")\
        .set_input_files(project)  # fmt: skip
    # The upload runs beside the page: wait until the server names the file it holds.
    expect(page.get_by_text(f"Ready to open: {project.name}")).to_be_visible(timeout=120_000)
    wait_idle(page)
    page.locator(".st-key-project_open_pass input").fill(PASSPHRASE)
    page.locator(".st-key-project_open_pass input").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Open the project").click()
    wait_idle(page)
    expect(page.get_by_text("Opened the project")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text(FILE)

    for title in ("Re-identification risk", "Masking", "Differential privacy"):
        now = visit(page, title)
        assert_no_exception(page, title)
        want = expected[title]
        assert _settings(now) == _settings(want), diff(f"project opened, {title}", want, now)
        seen.look(page)
    assert metric(page, "ε spent") == spent
    data_now = visit(page, "Data")
    assert [t for t in data_now["text"] if t.split(":")[0].strip() in ROLE_LABELS] == roles


ROLE_LABELS = {"Direct identifier", "Quasi-identifier", "Sensitive attribute", "Other", "Weight"}


def test_no_request_leaves_the_loopback_during_the_whole_flow(tab):
    """Last in this file: the requests are those of the whole flow above, and of an encrypted
    export here."""
    page, _, folder, seen = tab
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
    assert save_download(page, button, folder).stat().st_size > 0
    settle(page)
    seen.look(page)

    # the favicon the page names is this server's own file
    icons = page.locator("link[rel~='icon']").evaluate_all("e => e.map(x => x.href)")
    assert icons, "the page names no favicon"
    for href in icons:
        assert is_loopback(href), href
        got = page.context.request.get(href)
        assert got.ok and got.headers.get("content-type", "").startswith("image/"), href
    page.wait_for_timeout(1_000)  # a late prefetch or image request
    requests = list(seen.requests)
    assert len(requests) > 20 and any("/_stcore/stream" in u for u in requests), requests[:5]
    assert any("/static/" in u for u in requests + seen.referenced)  # fonts and scripts seen
    outside = sorted({u for u in requests + seen.referenced if not is_loopback(u)})
    assert not outside, outside
