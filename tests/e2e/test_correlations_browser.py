"""Real browser: the Correlations page draws its heatmap and a click on a cell drills down."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e


def test_heatmap_renders_and_a_click_selects_the_pair(page: Page, tmp_path: Path):
    wait_idle(page)
    go_to(page, "Correlations")
    expect(page.get_by_role("heading", name="Correlations").first).to_be_visible()
    chart = page.locator(".st-key-corr_heat_pearson")
    expect(chart.locator(".main-svg").first).to_be_visible()
    expect(chart.locator(".heatmaplayer image, .heatmaplayer .hm").first).to_be_attached()
    expect(page.get_by_text("showing the strongest pair")).to_be_visible()
    assert_no_exception(page)

    labels = chart.locator(".xtick text").all_text_contents()
    k = len(labels)
    assert k >= 2
    box = chart.locator(".nsewdrag").first.bounding_box()
    assert box is not None
    # cell in the first row (top, the y axis is reversed) and the last column
    x = box["x"] + (k - 0.5) * box["width"] / k
    y = box["y"] + 0.5 * box["height"] / k
    page.mouse.click(x, y)
    expect(page.get_by_text("Showing the pair you clicked.")).to_be_visible()
    wait_idle(page)
    pair = page.get_by_role("paragraph").filter(has_text=f"{labels[-1]} × {labels[0]}")
    expect(pair).to_be_visible()
    drill = page.locator(".st-key-corr_drill_chart")
    expect(drill.get_by_text(f"{labels[0]} against {labels[-1]}")).to_be_visible()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "correlations.png"), full_page=True)
