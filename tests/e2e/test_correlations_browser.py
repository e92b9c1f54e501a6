"""Real browser: the Correlations page draws its matrices, and a click on a cell drills down
beside the matrix, on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e
TESTDATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "sdcmicro_testdata.csv"


def _drill_title(page: Page):
    return page.locator(".st-key-corr_drill_chart .gtitle").first


def test_heatmap_renders_and_a_click_drills_down_on_screen(page: Page, tmp_path: Path):
    wait_idle(page)
    go_to(page, "Correlations")
    expect(page.get_by_role("heading", name="Correlations").first).to_be_visible()
    chart = page.locator(".st-key-corr_heat_pearson")
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=180_000)
    expect(chart.locator(".heatmaplayer image, .heatmaplayer .hm").first).to_be_attached()
    expect(page.get_by_text("showing the strongest pair")).to_be_visible()
    assert_no_exception(page)
    before = _drill_title(page).text_content()

    labels = chart.locator(".xtick text").all_text_contents()
    k = len(labels)
    assert k >= 2
    assert chart.locator(".ytick text").all_text_contents() == labels  # every column labelled
    box = chart.locator(".nsewdrag").first.bounding_box()
    assert box is not None
    # cell in the first row (top, the y axis is reversed) and the last column
    x = box["x"] + (k - 0.5) * box["width"] / k
    y = box["y"] + 0.5 * box["height"] / k
    scroll = page.evaluate("() => window.scrollY")
    page.mouse.click(x, y)
    expect(page.get_by_text("Showing the pair you clicked.")).to_be_visible()
    wait_idle(page)
    pair = page.get_by_role("paragraph").filter(has_text=f"{labels[-1]} × {labels[0]}")
    expect(pair).to_be_visible()
    title = _drill_title(page)
    expect(title).to_have_text(f"{labels[0]} against {labels[-1]}")
    assert title.text_content() != before
    # the change is seen where the user clicked: no scrolling needed
    assert page.evaluate("() => window.scrollY") == scroll
    expect(title).to_be_in_viewport()
    expect(page.locator(".st-key-corr_drill_chart .main-svg").first).to_be_in_viewport()
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "correlations.png"), full_page=True)


def test_all_three_shows_15_columns_full_size_in_tabs(page: Page, tmp_path: Path):
    if not TESTDATA.exists():
        pytest.skip("sdcMicro testdata CSV not available")
    wait_idle(page)
    go_to(page, "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(TESTDATA)
    expect(page.get_by_text("Loaded 4,580 rows × 15 columns")).to_be_visible(timeout=180_000)
    wait_idle(page)
    go_to(page, "Correlations")
    page.locator(".st-key-corr_method").get_by_text("All three").click(timeout=180_000)
    wait_idle(page)
    expect(page.get_by_role("tab")).to_have_count(3)
    for name in ("Pearson", "Spearman", "Kendall"):
        page.get_by_role("tab", name=name).click()
        chart = page.locator(f".st-key-corr_heat_{name.lower()}")
        expect(chart.locator(".main-svg").first).to_be_visible(timeout=180_000)
        labels = chart.locator(".xtick text").all_text_contents()
        assert len(labels) >= 12  # every column of the table but identifiers and the weight
        assert chart.locator(".ytick text").all_text_contents() == labels
        plot = chart.locator(".nsewdrag").first.bounding_box()
        assert plot is not None
        # a readable cell per column, not a strip
        assert plot["width"] / len(labels) >= 30 and plot["height"] / len(labels) >= 30
    assert_no_exception(page)
    page.screenshot(path=str(tmp_path / "correlations_all_three.png"), full_page=True)
