"""Real browser: on the Masking page, switch on suppression and see the risk improve beside the
controls; the work is still there after a visit to Export; a fresh choice waits for its values."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e


def _value(page: Page, label: str) -> int:
    card = page.get_by_test_id("stMetric").filter(has_text=label)
    return int(card.get_by_test_id("stMetricValue").inner_text().replace(",", ""))


def test_suppression_makes_the_table_k_anonymous_and_a_fresh_choice_waits(page: Page):
    page.set_viewport_size({"width": 1400, "height": 900})
    wait_idle(page)
    go_to(page, "Masking")
    expect(page.get_by_role("heading", name="Masking", exact=True)).to_be_visible()
    k_card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(k_card).to_have_count(1)
    uniques_before = _value(page, "Sample uniques")
    assert _value(page, "k (k-anonymity)") < 5

    # The results sit beside the controls, not far below them.
    first_row = page.locator(".st-key-mask_t_0")
    assert abs(k_card.bounding_box()["y"] - first_row.bounding_box()["y"]) < 300

    toggle = page.locator(".st-key-mask_suppress")
    toggle.scroll_into_view_if_needed()
    label = toggle.get_by_text("Suppress until k-anonymous")
    expect(label).to_be_visible()
    # the whole label is shown, not cut off with an ellipsis
    assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    label.click()
    expect(k_card.get_by_test_id("stMetricValue")).to_have_text("5", timeout=60_000)
    wait_idle(page)
    assert _value(page, "Sample uniques") == 0 < uniques_before
    assert_no_exception(page)

    # Export and back: the suppression and the results are as left.
    go_to(page, "Export")
    go_to(page, "Masking")
    expect(k_card.get_by_test_id("stMetricValue")).to_have_text("5", timeout=60_000)
    expect(page.locator(".st-key-mask_suppress input[type=checkbox]")).to_be_checked()
    assert _value(page, "Sample uniques") == 0
    assert_no_exception(page)

    # A fresh choice waits for its values: grouping education asks for a mapping, no error.
    row = page.locator(".st-key-mask_t_3")  # education
    row.scroll_into_view_if_needed()
    row.get_by_role("combobox").click()
    page.get_by_role("option", name="Group categories", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("Type a value for 'mapping' to apply this step.")).to_be_visible()
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")).to_have_count(1)
    assert_no_exception(page)
