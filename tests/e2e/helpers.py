"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect


def wait_idle(page: Page) -> None:
    """Wait until the script run has finished (Streamlit's run state on the app root)."""
    expect(page.get_by_test_id("stApp")).to_have_attribute(
        "data-test-script-state", "notRunning", timeout=60_000
    )


def assert_no_exception(page: Page) -> None:
    """No Streamlit exception element and no traceback text on the page."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
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
