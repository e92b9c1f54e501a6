"""Real browser: the Re-identification risk page on the Adult sample.

k and the charts are drawn; the verdict shows a badge per rule; every quasi-identifier's full
name is visible; log axes carry full numbers; no card has a change arrow; the policy survives
a visit to another page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, fill_number, go_to, settle, wait_idle

pytestmark = pytest.mark.e2e


def test_k_charts_and_a_verdict_that_names_labels_ticks_and_keeps_the_policy(page: Page):
    wait_idle(page)
    go_to(page, "Re-identification risk")
    settle(page)  # the Adult sample's sections take a while on a busy machine
    expect(page.get_by_role("heading", name="Re-identification risk")).to_be_visible()
    card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(card).to_have_count(1)
    value = card.get_by_test_id("stMetricValue").inner_text()
    assert value.replace(",", "").isdigit() and int(value.replace(",", "")) >= 1
    expect(page.get_by_test_id("stPlotlyChart").first.locator(".main-svg").first).to_be_visible()
    assert_no_exception(page)

    # one badge per rule; the Adult sample with its ten quasi-identifiers fails k >= 5
    expect(page.get_by_text("k-anonymity: fails")).to_be_visible()
    expect(page.get_by_text("Highest risk: fails")).to_be_visible()
    expect(page.get_by_text("Average risk: fails")).to_be_visible()
    expect(page.get_by_role("heading", name="Records that fail the policy")).to_be_visible()

    # every quasi-identifier chip shows its whole name: none is clipped or scrolled away
    box = page.locator(".st-key-risk_qi")
    tags = box.locator("[data-tag]")
    assert tags.count() == 10
    clipped = tags.evaluate_all(
        """tags => tags.filter(t => {
            const text = t.querySelector('span') || t;
            const box = t.closest('[data-testid="stMultiSelectTagsContainer"]');
            const r = t.getBoundingClientRect(), b = box.getBoundingClientRect();
            return text.scrollWidth > text.clientWidth + 1 || r.right > b.right + 1
                || r.left < b.left - 1;
        }).map(t => t.getAttribute('aria-label'))"""
    )
    assert clipped == []

    # share cards carry plain captions, never a change arrow
    expect(page.get_by_test_id("stMetricDelta")).to_have_count(0)

    # the population curve's log axis: full numbers only, no bare "2" or "5" between decades
    curve = page.get_by_test_id("stPlotlyChart").filter(has_text="Estimated population uniques")
    expect(curve.locator(".main-svg").first).to_be_visible()
    ticks = curve.locator(".xtick text").evaluate_all("ts => ts.map(t => t.textContent)")
    assert "0.01" in ticks and "0.1" in ticks, ticks
    assert not {"2", "5"} & set(ticks), ticks

    # a looser policy: the risk rules pass (k stays 1 on ten quasi-identifiers); it is still
    # there after a visit to another page
    fill_number(page, page.locator(".st-key-risk_k"), "3")
    fill_number(page, page.locator(".st-key-risk_max"), "1")
    fill_number(page, page.locator(".st-key-risk_avg"), "1")
    settle(page)
    expect(page.get_by_text("Highest risk: passes")).to_be_visible()
    expect(page.get_by_text("Average risk: passes")).to_be_visible()
    expect(page.get_by_text("k-anonymity: fails")).to_be_visible()
    go_to(page, "Data")
    go_to(page, "Re-identification risk")
    settle(page)
    assert page.locator(".st-key-risk_k input").input_value() == "3"
    assert page.locator(".st-key-risk_avg input").input_value() == "1.000"
    expect(page.get_by_text("Highest risk: passes")).to_be_visible()
    expect(page.get_by_text("Average risk: passes")).to_be_visible()
    assert_no_exception(page)
