"""Real browser: open the Re-identification risk page on the Adult sample and read k."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e


def test_risk_page_shows_k_and_charts(page: Page):
    wait_idle(page)
    go_to(page, "Re-identification risk")
    expect(page.get_by_role("heading", name="Re-identification risk")).to_be_visible()
    card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(card).to_have_count(1)
    value = card.get_by_test_id("stMetricValue").inner_text()
    assert value.replace(",", "").isdigit() and int(value.replace(",", "")) >= 1
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".main-svg").first).to_be_visible()
    assert_no_exception(page)
