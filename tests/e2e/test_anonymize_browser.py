"""Real browser: search the Adult sample for a safe table, use it, see it on Masking and Export,
and download a CSV that meets k."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, save_download, wait_idle

pytestmark = pytest.mark.e2e

QIS = ["age", "sex", "race"]
K = 50  # large enough that the optimum generalizes age (a "group" step on Masking)


def _pick_qis(page: Page, names: list[str]) -> None:
    box = page.get_by_test_id("stMultiSelect").filter(has_text="Quasi-identifiers")
    box.get_by_role("button", name="Clear all").click()
    wait_idle(page)
    for name in names:
        box.locator("input").click()
        page.get_by_role("option", name=name, exact=True).click()
        wait_idle(page)
    page.keyboard.press("Escape")
    chips = box.locator("[data-tag]")
    expect(chips).to_have_count(len(names))


def test_search_use_this_and_export_a_table_that_meets_k(page: Page, tmp_path: Path):
    from core.data import load

    wait_idle(page)
    go_to(page, "Find a safe table")
    expect(page.get_by_role("heading", name="Find a safe table", exact=True)).to_be_visible()
    _pick_qis(page, QIS)
    k_box = page.get_by_label("k (smallest class size)", exact=True)
    k_box.fill(str(K))
    k_box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Search", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("Proven optimal", exact=False)).to_be_visible(timeout=60_000)
    chart = page.get_by_test_id("stPlotlyChart")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(chart.get_by_text("Pareto frontier").first).to_be_visible()
    assert_no_exception(page)

    page.get_by_role("button", name="Use this", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("The recipe now generalizes 3 quasi-identifier(s)")).to_be_visible()
    expect(page.get_by_role("link", name="See it before → after on Masking")).to_be_visible()
    assert_no_exception(page)

    go_to(page, "Masking")
    expect(page.get_by_role("heading", name="Before → after")).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")).to_be_visible()
    age = page.get_by_role("combobox", name="Transform for age")
    expect(age).to_have_value("Group categories")  # the search's generalization of age
    assert_no_exception(page)

    go_to(page, "Export")
    page.get_by_text("Bundle with recipe and report (zip)").click()  # the plain CSV file
    wait_idle(page)
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Download privlens-export.csv")
    path = save_download(page, button.get_by_role("button"), tmp_path)
    table = load(path.read_bytes(), filename=path.name).frame
    sizes = table.groupby(QIS, dropna=False).size()
    assert sizes.min() >= K
    assert 0 < len(table) <= 32_561
    assert_no_exception(page)

    # the search and its settings are still there after the round trip
    go_to(page, "Find a safe table")
    expect(page.get_by_text("Proven optimal", exact=False)).to_be_visible(timeout=60_000)
    chips = page.get_by_test_id("stMultiSelect").filter(has_text="Quasi-identifiers")
    expect(chips.locator("[data-tag]")).to_have_count(3)
