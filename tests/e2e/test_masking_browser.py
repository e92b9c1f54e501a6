"""Real browser: on the Masking page, switch on suppression and see the risk improve."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e


def _value(page: Page, label: str) -> int:
    card = page.get_by_test_id("stMetric").filter(has_text=label)
    return int(card.get_by_test_id("stMetricValue").inner_text().replace(",", ""))


def test_suppression_makes_the_table_k_anonymous(page: Page):
    wait_idle(page)
    go_to(page, "Masking")
    expect(page.get_by_role("heading", name="Masking", exact=True)).to_be_visible()
    k_card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(k_card).to_have_count(1)
    uniques_before = _value(page, "Sample uniques")
    assert _value(page, "k (k-anonymity)") < 5

    page.get_by_text("Suppress until k-anonymous").click()
    expect(k_card.get_by_test_id("stMetricValue")).to_have_text("5", timeout=60_000)
    wait_idle(page)
    assert _value(page, "Sample uniques") == 0 < uniques_before
    assert_no_exception(page)
