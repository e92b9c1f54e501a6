"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect


def wait_idle(page: Page) -> None:
    """Wait until the script run has finished (Streamlit's run state on the app root)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=60_000
    )


def assert_no_exception(page: Page, where: str = "") -> None:
    """No Streamlit exception element and no traceback text on the page."""
    errors = page.get_by_test_id("stException")
    if where and errors.count():
        raise AssertionError(f"{where}: {errors.first.inner_text()[:300]}")
    expect(errors).to_have_count(0)
    body = page.locator("body").inner_text()
    assert "Traceback" not in body
    assert "Error running app" not in body


def go_to(page: Page, title: str) -> None:
    """Click a sidebar link (keeps the session, unlike page.goto)."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    wait_idle(page)


def save_download(page: Page, button, folder: Path, timeout: float = 120_000) -> Path:
    """Click a download button and save the file under ``folder`` with its suggested name."""
    with page.expect_download(timeout=timeout) as info:
        button.click()
    dl = info.value
    path = folder / dl.suggested_filename
    dl.save_as(path)
    return path


def save_recipe_key_and_hand_off(page: Page, folder: Path) -> tuple[Path, Path]:
    """On the Masking page: download the recipe and the pseudonymization key. The Export page
    exports the current recipe by itself; nothing is handed over. Returns (recipe path, key
    path)."""
    recipe_path = save_download(
        page, page.get_by_role("button", name="Download recipe (JSON)"), folder
    )
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Pseudonymization key").click()
    key_path = save_download(page, sidebar.get_by_role("button", name="Download key"), folder)
    return recipe_path, key_path


# --- settings and results as the page shows them (workspace tests) -----------------------------

#: Per page: every keyed element (a widget, a chart, a table) with its text and the values of
#: its inputs (number and text boxes, checkboxes, toggles, radios, sliders), every metric card,
#: every message box, and the main area's whole text. Read from the DOM, as a user sees it.
_SNAPSHOT_JS = """
() => {
  const norm = s => (s || '').replace(/\\s+/g, ' ').trim();
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebarUserContent"]');
  const widgets = {};
  for (const root of [main, side]) {
    if (!root) continue;
    for (const el of root.querySelectorAll('[class*="st-key-"]')) {
      const key = [...el.classList].find(c => c.startsWith('st-key-')).slice(7);
      if (el.querySelector('[class*="st-key-"]')) continue;  // a keyed container
      const values = [];
      for (const i of el.querySelectorAll('input, textarea')) {
        if (i.type === 'file') continue;
        if (i.type === 'checkbox' || i.type === 'radio') values.push(i.checked ? 'on' : 'off');
        else values.push(i.value);  // a selectbox shows its choice in its combobox
      }
      for (const s of el.querySelectorAll('[role="slider"]')) {
        values.push(s.getAttribute('aria-valuetext') || s.getAttribute('aria-valuenow'));
      }
      widgets[key] = norm(el.innerText) + (values.length ? ' | ' + values.join(' ; ') : '');
    }
  }
  const texts = sel => main ? [...main.querySelectorAll(sel)].map(e => norm(e.innerText)) : [];
  return {
    widgets,
    metrics: texts('[data-testid="stMetric"]'),
    alerts: texts('[data-testid="stAlert"]'),
    text: main ? main.innerText.split('\\n').map(norm).filter(Boolean) : [],
    sidebar: side ? norm(side.innerText) : '',
  };
}
"""


def snapshot(page: Page) -> dict:
    """What the current page shows: keyed widgets with their values, metrics, messages, text."""
    return page.evaluate(_SNAPSHOT_JS)


def snapshot_diff(before: dict, after: dict) -> str:
    """What differs between two snapshots, readably (changed widgets, then a text diff)."""
    import difflib

    lines = []
    for part in ("widgets", "metrics", "alerts", "sidebar"):
        b, a = before[part], after[part]
        if b == a:
            continue
        if isinstance(b, dict):
            for k in sorted(set(b) | set(a)):
                if b.get(k) != a.get(k):
                    lines.append(f"  {part}[{k}]: {b.get(k)!r} -> {a.get(k)!r}")
        else:
            lines.append(f"  {part}: {b!r} -> {a!r}")
    text = difflib.unified_diff(before["text"], after["text"], "before", "after", n=1, lineterm="")
    return "\n".join(lines + list(text)[:60])


def settle(page: Page, *, quiet_ms: int = 700, rounds: int = 40) -> dict:
    """Wait until the run ended, nothing is stale, every chart is drawn and the page stops
    changing (two snapshots ``quiet_ms`` apart are equal); return that snapshot."""
    app = page.get_by_test_id("stApp")
    last = None
    for _ in range(rounds):
        expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=180_000)
        expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=180_000)
        charts = page.get_by_test_id("stPlotlyChart")
        for i in range(charts.count()):
            expect(charts.nth(i).locator(".main-svg").first).to_be_attached(timeout=60_000)
        now = snapshot(page)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(quiet_ms)
    raise AssertionError(f"still changing after {rounds} looks:\n" + snapshot_diff(last, now))


def nav_titles(page: Page) -> list[str]:
    """Titles of the sidebar's pages, in order (icon names left out)."""
    nav = page.get_by_test_id("stSidebarNav")
    more = nav.get_by_test_id("stSidebarNavViewButton")
    if more.count() and "more" in more.inner_text():
        more.click()
    links = nav.get_by_role("link")
    return [t.strip().splitlines()[-1].strip() for t in links.all_inner_texts()]


def visit(page: Page, title: str) -> dict:
    """Open a page from the sidebar (same session), wait until it settles, return its snapshot."""
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible(timeout=120_000)
    more = nav.get_by_test_id("stSidebarNavViewButton")
    if more.count() and "more" in more.inner_text():  # a long page list starts folded
        more.click()
    link = nav.get_by_role("link", name=title, exact=True)
    expect(link).to_be_visible(timeout=120_000)
    href = link.get_attribute("href") or ""
    for attempt in range(3):  # a run that starts as the link is clicked can swallow the click
        link.click()
        try:  # the server ran the page: its link is the current one (set from the server's reply)
            expect(link).to_have_attribute("aria-current", "page", timeout=30_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(href).path)
    return settle(page)


def choose(page: Page, box, option: str) -> None:
    """Pick ``option`` in a selectbox (``box`` is its element or its combobox)."""
    box.get_by_role("combobox").click() if box.get_by_role("combobox").count() else box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def chips(box) -> list[str]:
    """The values a multiselect holds, in order."""
    return box.locator("[data-tag]").evaluate_all("e => e.map(x => x.getAttribute('aria-label'))")


def set_multiselect(page: Page, box, options: list[str]) -> None:
    """Make a multiselect hold exactly ``options`` (chips removed and added one by one)."""
    expect(box.get_by_role("combobox")).to_be_visible()
    wait_idle(page)
    for name in chips(box):
        if name not in options:
            box.get_by_role("button", name=f"Remove {name}", exact=True).click()
            wait_idle(page)
    held = set(chips(box))
    for name in options:
        if name in held:
            continue
        for attempt in range(3):  # a rerun started by the last change can close the list
            wait_idle(page)
            if name in chips(box):  # the rerun that closed the list may have kept the pick
                break
            box.get_by_role("combobox").click()
            page.keyboard.type(name)
            try:
                page.get_by_role("option", name=name, exact=True).click(timeout=20_000)
                break
            except Exception:  # noqa: BLE001 - playwright's timeout; try again, then fail
                page.keyboard.press("Escape")
                if attempt == 2:
                    raise
        page.keyboard.press("Escape")
        wait_idle(page)


def fill_number(page: Page, box, value: str) -> None:
    """Type a number into a number input and commit it (Enter)."""
    field = box.locator("input")
    field.fill(value)
    field.press("Enter")
    wait_idle(page)


# --- an uploaded table only the tests have -------------------------------------------------------

FILE = "orchard_survey.csv"
ROWS = 240
#: Only the uploaded table has these: a column name and a value (never in the Adult sample).
DISTINCT_COLUMN, DISTINCT_VALUE = "orchard_district", "Quillbrook"


def orchard_csv(seed: int = 16) -> str:
    """A small survey table with an identifier, ZIP-like codes and a distinctive district.

    The privacy budget belongs to a table's content and outlives a tab, so a test that needs a
    budget no other test has touched uploads its own ``seed``.
    """
    rng = random.Random(seed)
    districts = [DISTINCT_VALUE, "Marrowgate", "Tansyholm", "Fernwick"]
    lines = [f"record_ref,age,sex,postcode,{DISTINCT_COLUMN},income,diagnosis"]
    for i in range(ROWS):
        lines.append(
            f"R-{100000 + i},{rng.randint(18, 80)},{rng.choice(['Female', 'Male'])},"
            f"0{rng.randint(1000, 1009)},{rng.choice(districts)},"
            f"{rng.randint(12_000, 95_000)}.{rng.randint(0, 99):02d},"
            f"{rng.choice(['flu', 'asthma', 'diabetes', 'none'])}"
        )
    return "\n".join(lines) + "\n"


def upload_orchard(page: Page, folder: Path, seed: int = 16) -> Path:
    """Upload the orchard table on the Data page (same session); return the file."""
    visit(page, "Data")
    src = folder / FILE
    src.write_text(orchard_csv(seed))
    page.locator(".st-key-data_upload").get_by_test_id("stFileUploaderDropzoneInput")\
        .set_input_files(src)  # fmt: skip
    expect(page.get_by_text(f"Loaded {ROWS} rows × 7 columns")).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(FILE)
    settle(page)
    return src
