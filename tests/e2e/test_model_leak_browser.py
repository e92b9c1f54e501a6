"""Real browser: the Model page's "Does a model leak?" tab on a small table of its own, whose
target column is named with markdown for an image on another host. The figures shown equal
core's, the DP curve is drawn, and the name stays text: no image, no request elsewhere."""

from __future__ import annotations

import random
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.helpers import assert_no_exception, choose, go_to, wait_idle

pytestmark = pytest.mark.e2e

ROWS = 200
TARGET = "![](http://127.0.0.1:9/x.png)"  # markdown: an image fetched from another host
FEATURE = "<img src=x>"
FILE = "leak_probe.csv"


def _csv(seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = [f"age,hours,{FEATURE},{TARGET},smoker"]
    for _ in range(ROWS):
        age, hours = rng.randint(18, 80), rng.randint(10, 60)
        label = "yes" if age + hours + rng.gauss(0, 15) > 85 else "no"
        lines.append(f"{age},{hours},{rng.randint(0, 9)},{label},{rng.choice(['y', 'n'])}")
    return "\n".join(lines) + "\n"


def _cell(page: Page, text: str):
    """Cells of the figures table holding exactly ``text`` (the grid draws on a canvas; its
    hidden accessible table carries the same texts)."""
    grid = page.get_by_test_id("stDataFrame").filter(has_text="Majority baseline")
    return grid.locator("td[role=gridcell]", has_text=re.compile("^" + re.escape(text) + "$"))


@pytest.fixture
def watched_page(browser: Browser, app_url: str):
    """A fresh session whose every request is recorded."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    pg = ctx.new_page()
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(app_url)
    yield pg, requests
    ctx.close()


def test_leak_tab_shows_cores_figures_and_the_dp_curve_with_a_hostile_target_name(
    watched_page, app_url: str, tmp_path: Path
):
    from core import data
    from core.models import membership_risk

    page, requests = watched_page
    wait_idle(page)
    go_to(page, "Data")
    src = tmp_path / FILE
    src.write_text(_csv())
    page.locator(".st-key-data_upload").get_by_test_id("stFileUploaderDropzoneInput")\
        .set_input_files(src)  # fmt: skip
    expect(page.get_by_text(f"Loaded {ROWS} rows × 5 columns")).to_be_visible(timeout=120_000)
    wait_idle(page)

    go_to(page, "Model")
    page.get_by_role("tab", name="Does a model leak?").click()
    wait_idle(page)
    box = page.get_by_test_id("stSelectbox").filter(has_text="Target column (two values)")
    choose(page, box, TARGET)
    expect(box.get_by_role("combobox")).to_have_value(TARGET)  # the name, as text
    page.get_by_text("Train the models and attack them", exact=True).click()
    wait_idle(page)

    # the figures are core's, on the same table, target, model and seed
    table = data.load(src.read_bytes(), filename=FILE).frame
    want = membership_risk(table, TARGET, repeats=5, seed=0, model="logistic")
    for figure in ("Test accuracy", "Test AUC", "Majority baseline"):
        expect(_cell(page, figure)).to_have_count(1, timeout=120_000)
    expect(_cell(page, f"{want.accuracy:.4f}")).not_to_have_count(0)
    expect(_cell(page, f"{want.auc:.4f}")).not_to_have_count(0)
    expect(_cell(page, f"{want.baseline:.4f}")).not_to_have_count(0)
    expect(_cell(page, "Membership advantage (TPR − FPR)")).to_have_count(1)
    expect(_cell(page, f"{want.advantage:+.4f}")).not_to_have_count(0)
    lo, hi = want.advantage_ci
    expect(_cell(page, f"[{lo:.3f}, {hi:.3f}]")).not_to_have_count(0)  # its interval

    # the DP curve: accuracy and advantage against epsilon, with the bound for any attacker
    heading = page.get_by_role("heading", name="Trained with differential privacy")
    heading.scroll_into_view_if_needed()  # the chart is drawn once it is in view
    chart = page.get_by_test_id("stPlotlyChart").last
    expect(chart.locator(".main-svg").first).to_be_visible(timeout=120_000)
    expect(chart.get_by_text("DP model accuracy")).to_be_visible()
    expect(chart.get_by_text(re.compile("bound for any attacker"))).to_be_visible()
    assert_no_exception(page, "Model, leak tab")

    # the hostile name made no image and no request to another host
    found = page.locator('img[src*="127.0.0.1:9"], img[src="x"]')
    assert found.count() == 0, found.evaluate_all("e => e.map(x => x.outerHTML)")
    page.wait_for_timeout(500)  # let any late image request be made
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(app_url))
    elsewhere = [
        u for u in requests if not u.startswith((origin + "/", "data:", "blob:")) and u != origin
    ]
    assert not elsewhere, elsewhere
