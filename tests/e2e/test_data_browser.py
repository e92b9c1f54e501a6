"""Real browser: open the app, upload a CSV, see its preview and suggested roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e

CSV = (
    "name,email,age,zip,diagnosis\n"
    "Ann Lee,ann@example.org,34,10115,flu\n"
    "Bob Ray,bob@example.org,45,10117,asthma\n"
    "Cy Doe,cy@example.org,29,10119,flu\n"
)


def test_opens_on_the_sample_then_upload_shows_preview_and_roles(
    page: Page, tmp_path: Path, server_log: Path
):
    wait_idle(page)
    expect(page.get_by_role("heading", name="PrivLens")).to_be_visible()
    expect(page.get_by_text("Adult census sample").first).to_be_visible()
    assert_no_exception(page)

    go_to(page, "Data")
    expect(page.get_by_role("heading", name="Column roles")).to_be_visible()
    src = tmp_path / "people.csv"
    src.write_text(CSV)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(src)
    expect(page.get_by_text("Loaded 3 rows × 5 columns")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Preview: people.csv")).to_be_visible()
    # The role editor shows the suggestions with their reasons (canvas grid: read its text).
    roles = page.locator(".st-key-data_roles_1")
    expect(roles).to_be_visible()
    expect(page.get_by_text("Direct identifier: 2")).to_be_visible()
    expect(page.get_by_text("Quasi-identifier: 2")).to_be_visible()
    expect(page.get_by_text("Sensitive attribute: 1")).to_be_visible()
    assert_no_exception(page)

    # A bad upload shows its message and keeps the table.
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3,4,5\n")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(bad)
    expect(page.get_by_text("Line 3 has 3 fields")).to_be_visible()
    expect(page.get_by_text("Still working with people.csv")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "data.png"), full_page=True)

    # The extra missing markers are a setting of the workspace: a reload of the tab (the
    # link holds the workspace token) brings them back with the uploaded table.
    markers = page.locator(".st-key-data_na input")
    markers.fill("?, -")
    markers.press("Enter")
    wait_idle(page)
    go_to(page, "Home")
    go_to(page, "Data")
    expect(markers).to_have_value("?, -")
    assert "ws=" in page.url
    page.reload()  # stays on the Data page, now in a new session
    wait_idle(page)
    expect(page.get_by_role("heading", name="Preview: people.csv")).to_be_visible()
    expect(markers).to_have_value("?, -")
    go_to(page, "Home")
    expect(page.get_by_text("Restored your workspace")).to_be_visible()
    assert_no_exception(page)

    log = server_log.read_text()
    assert "Traceback" not in log
    assert "st.navigation" not in log  # no routing warning from Streamlit
