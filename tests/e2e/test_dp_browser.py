"""Real browser: the Differential privacy page's ε slider redraws the curves, in its fragment.

Release starts disabled, with its reason next to it (no budget yet).

Moving the slider with the keyboard must change the error curve's title and marker, the
half-width metric and the microdata chart, and the browser must ask the server to rerun
only the fragment (the rerun request carries a fragment id, and every element the server
sends back belongs to that fragment). The websocket frames are Streamlit's own protobuf
messages, decoded with the classes Streamlit ships.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, WebSocket, expect
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from tests.e2e.helpers import assert_no_exception, go_to, wait_idle

pytestmark = pytest.mark.e2e

CURVE = "Error against ε"
MICRODATA = "Microdata release: distortion against ε"


class Frames:
    """Decoded Streamlit messages of the page's websocket, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, BackMsg | ForwardMsg]] = []

    def attach(self, ws: WebSocket) -> None:
        if not ws.url.endswith("/_stcore/stream"):
            return
        ws.on("framesent", lambda payload: self._add("back", payload))
        ws.on("framereceived", lambda payload: self._add("forward", payload))

    def _add(self, kind: str, payload: bytes | str) -> None:
        if isinstance(payload, str):
            return
        msg = BackMsg() if kind == "back" else ForwardMsg()
        msg.ParseFromString(payload)
        self.log.append((kind, msg))

    def mark(self) -> int:
        return len(self.log)

    def reruns_since(self, start: int) -> list[BackMsg]:
        return [
            m
            for kind, m in self.log[start:]
            if kind == "back" and m.WhichOneof("type") == "rerun_script"
        ]

    def deltas_since(self, start: int) -> list[ForwardMsg]:
        return [
            m
            for kind, m in self.log[start:]
            if kind == "forward" and m.WhichOneof("type") == "delta"
        ]


def chart(page: Page, title: str):
    return page.get_by_test_id("stPlotlyChart").filter(has_text=title)


def half_width(page: Page) -> str:
    card = page.get_by_test_id("stMetric").filter(has_text="95% error half-width")
    return card.get_by_test_id("stMetricValue").inner_text()


def settle_on(page: Page, title: str) -> None:
    """Wait for a chart with this title, then for the run to end and stale copies to go."""
    expect(chart(page, title).locator(".main-svg").first).to_be_visible(timeout=60_000)
    wait_idle(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=60_000)


def test_epsilon_slider_redraws_only_its_fragment(page: Page):
    frames = Frames()
    page.on("websocket", frames.attach)
    page.reload()  # a fresh session whose websocket we observe from the start
    wait_idle(page)
    go_to(page, "Differential privacy")
    expect(page.get_by_role("heading", name="Differential privacy", exact=True)).to_be_visible()
    settle_on(page, f"{CURVE}")
    expect(chart(page, "ε = 1")).to_have_count(1)
    before = half_width(page)
    # no budget yet: Release is disabled and says why next to it
    expect(page.get_by_role("button", name="Release (spends budget)")).to_be_disabled()
    expect(page.get_by_text("Start a privacy budget first (below).")).to_be_visible()

    # a categorical column for the microdata curve (a real multiselect, typed and chosen)
    box = page.locator(".st-key-dp_md_categorical")
    box.get_by_role("combobox").click()
    page.keyboard.type("sex")
    page.get_by_role("option", name="sex", exact=True).click()
    page.keyboard.press("Escape")
    settle_on(page, f"{MICRODATA}")
    expect(chart(page, MICRODATA).filter(has_text="ε = 1")).to_have_count(1)
    assert_no_exception(page)

    slider = page.get_by_role("slider", name="Epsilon (ε)")
    shown = page.locator(".st-key-dp_eps").get_by_test_id("stSliderThumbValue")
    start = frames.mark()
    slider.focus()
    slider.press("End")  # one key press, one rerun: ε jumps to the largest option, 10
    expect(shown).to_have_text("10", timeout=60_000)
    settle_on(page, f"{CURVE}")
    expect(chart(page, "ε = 10")).to_have_count(2, timeout=60_000)  # curve and microdata
    expect(chart(page, f"{CURVE}")).to_have_count(1)
    expect(page.get_by_text("weak guarantee")).to_be_visible()
    after = half_width(page)
    assert after != before
    assert float(re.sub(r"[^\d.]", "", after)) < float(re.sub(r"[^\d.]", "", before))

    # the browser asked for a fragment rerun, and only fragment elements came back
    reruns = frames.reruns_since(start)
    assert reruns, "no rerun request seen after the slider move"
    fragment_ids = {r.rerun_script.fragment_id for r in reruns}
    assert "" not in fragment_ids, "the slider move reran the whole page"
    deltas = frames.deltas_since(start)
    assert deltas, "no elements came back from the server"
    assert {d.delta.fragment_id for d in deltas} <= fragment_ids

    start = frames.mark()
    slider.press("Home")  # ε = 0.01: the largest noise, no warning
    expect(shown).to_have_text("0.01", timeout=60_000)
    settle_on(page, "ε = 0.01")
    expect(chart(page, "ε = 0.01")).to_have_count(2, timeout=60_000)
    expect(page.get_by_text("weak guarantee")).to_have_count(0)
    assert float(re.sub(r"[^\d.]", "", half_width(page))) > float(re.sub(r"[^\d.]", "", before))
    assert "" not in {r.rerun_script.fragment_id for r in frames.reruns_since(start)}
    assert_no_exception(page)
