"""Real browser: open a large dataset from the server's allowed directory, see the Risk figures.

A server of its own, started with ``PRIVLENS_DATA_DIRS`` naming a folder that holds a Parquet
dataset in two files; the Data page lists it, DuckDB opens it, the preview says it is a sample,
and the Risk page's figures are those the DuckDB engine computes on every row.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import Page, expect

from core.engine import make_engine
from core.engine import risk_summary as engine_risk_summary
from tests.e2e.conftest import _start_server, _stop
from tests.e2e.helpers import (
    assert_no_exception,
    chips,
    go_to,
    set_multiselect,
    wait_idle,
)

pytestmark = pytest.mark.e2e

ROWS, SAMPLE = 20_000, 500
QIS = ["age", "zip", "sex"]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("lake") / "lake"
    (root / "survey").mkdir(parents=True)
    rng = np.random.default_rng(19)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, ROWS),
            "zip": [f"0{z:04d}" for z in rng.integers(0, 80, ROWS)],
            "sex": rng.choice(["F", "M"], ROWS),
            "income": rng.normal(40_000, 9_000, ROWS),
        }
    )
    frame.iloc[: ROWS // 2].to_parquet(root / "survey" / "part-0.parquet", index=False)
    frame.iloc[ROWS // 2 :].to_parquet(root / "survey" / "part-1.parquet", index=False)
    return str(root)


@pytest.fixture(scope="module")
def large_url(lake, tmp_path_factory):
    """A server that allows ``lake`` (the environment is set only while it starts)."""
    saved = {k: os.environ.get(k) for k in ("PRIVLENS_DATA_DIRS", "PRIVLENS_LARGE_SAMPLE_ROWS")}
    os.environ["PRIVLENS_DATA_DIRS"] = lake
    os.environ["PRIVLENS_LARGE_SAMPLE_ROWS"] = str(SAMPLE)
    try:
        proc, url = _start_server(tmp_path_factory.mktemp("large") / "server.log")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield url
    finally:
        _stop(proc)


def _metrics(page: Page) -> dict[str, str]:
    cards = page.get_by_test_id("stMetric")
    return {
        cards.nth(i).get_by_test_id("stMetricLabel").inner_text().strip(): cards.nth(i)
        .get_by_test_id("stMetricValue")
        .inner_text()
        .strip()
        for i in range(cards.count())
    }


def test_open_a_large_dataset_and_see_the_engine_risk(browser, large_url, lake) -> None:
    from ui.large_data import risk_figures

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(30_000)
    page = ctx.new_page()
    try:
        page.goto(large_url + "/data")  # straight to the Data page
        wait_idle(page)
        page.get_by_text("Open a large dataset").click()
        pick = page.locator(".st-key-large_pick")
        pick.get_by_role("combobox").click()
        page.get_by_role("option").filter(has_text=re.compile(r"^lake/survey  \(folder")).click()
        wait_idle(page)
        engine = page.locator(".st-key-large_engine")
        engine.get_by_role("combobox").click()
        page.get_by_role("option", name=re.compile("^DuckDB")).click()
        wait_idle(page)
        page.locator(".st-key-large_open").get_by_role("button").click()
        wait_idle(page)
        expect(page.get_by_text(f"a sample of {SAMPLE:,} of {ROWS:,} rows").first).to_be_visible()
        assert_no_exception(page, "Data")

        go_to(page, "Re-identification risk")
        box = page.locator(".st-key-risk_qi")
        if sorted(chips(box)) != sorted(QIS):  # the roles suggested from the sample may do
            set_multiselect(page, box, QIS)
        qis = chips(box)
        expect(page.get_by_test_id("stMetric").first).to_be_visible()
        wait_idle(page)
        assert_no_exception(page, "Risk")
        with make_engine("duckdb") as eng:
            table = eng.open(os.path.join(lake, "survey"))
            want = {label: value for label, value, _ in risk_figures(
                engine_risk_summary(eng, table, qis)
            )}  # fmt: skip
        shown = _metrics(page)
        assert {k: shown.get(k) for k in want} == want
        assert want["Records"] == f"{ROWS:,}"
    finally:
        ctx.close()
