"""Real browser: a workspace opens only with its link.

A link without the workspace token, or with a wrong one, shows nothing of another workspace:
not its table, its file name, a column of it, nor its settings. (That nothing is fetched off
the server during a whole flow is checked on the flow of ``test_workspace_browser.py``.)
"""

from __future__ import annotations

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
    settle,
    upload_orchard,
    visit,
    wait_idle,
)

pytestmark = pytest.mark.e2e


def _token(page: Page) -> str | None:
    return (parse_qs(urlsplit(page.url).query).get("ws") or [None])[0]


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
    upload_orchard(page, tmp_path)  # ends on the Data page
    markers = page.locator(".st-key-data_na input")  # a setting of the workspace
    markers.fill("?, -")
    markers.press("Enter")
    wait_idle(page)
    settle(page)
    token = _token(page)
    assert token and markers.input_value() == "?, -"
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
                assert_no_exception(visitor, f"{case}, Home")  # the link opens Home
                _shows_nothing_of_the_upload(visitor, f"{case}, Home")
                for title in ("Data", "History"):
                    visit(visitor, title)
                    assert_no_exception(visitor, f"{case}, {title}")
                    _shows_nothing_of_the_upload(visitor, f"{case}, {title}")
                    if title == "Data":  # the owner's missing markers are not shown either
                        assert visitor.locator(".st-key-data_na input").input_value() == "", case
            finally:
                other.close()
        # the owner's link still opens the owner's workspace
        page.reload()
        wait_idle(page)
        expect(page.get_by_test_id("stSidebar")).to_contain_text(FILE)
        expect(markers).to_have_value("?, -")
    finally:
        owner.close()
