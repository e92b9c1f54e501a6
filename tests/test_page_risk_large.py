"""AppTest of the Risk page's large-table mode: costly sections wait for a switch."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from core import limits, risk

PAGE = "pages/risk.py"
LOO_TITLE = "Sample uniques that disappear without each column"
SUBSET_TITLE = "Distinction vs separation of QI subsets"


def _array(value) -> list[float]:
    """A figure array: plain JSON list or plotly's typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _chart(at, title: str):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text", "") == title:
            return spec
    return None


def _switch(at, prefix: str):
    found = [t for t in at.toggle if str(t.key).startswith(prefix)]
    return found[0] if found else None


@pytest.fixture
def large(app, monkeypatch):
    """The Adult sample, treated as a large table (every section above the eager size)."""
    monkeypatch.setattr(limits, "RISK_EAGER_CELLS", 10)
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_small_tables_draw_both_sections_at_once(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    assert _chart(app, LOO_TITLE) is not None and _chart(app, SUBSET_TITLE) is not None
    assert _switch(app, "risk_loo_on") is None and _switch(app, "risk_subsets_on") is None


def test_large_tables_wait_for_a_switch_that_states_the_cost(large):
    at = large
    n, q = len(at.session_state["dataset"]), len(at.multiselect[0].value)
    assert _chart(at, LOO_TITLE) is None and _chart(at, SUBSET_TITLE) is None
    captions = [c.value for c in at.caption]
    assert any(f"all {n:,} rows once per quasi-identifier ({q} passes)" in c for c in captions)
    subsets = q + q * (q - 1) // 2  # sizes 1 and 2 (the default largest size)
    assert any(f"({subsets} subsets of up to 2 columns)" in c for c in captions)
    # the headline figures do not wait
    assert any(m.label == "k (k-anonymity)" for m in at.metric)


def test_leave_one_out_switch_draws_core_figures(large):
    at = large
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    _switch(at, "risk_loo_on").set_value(True).run()
    assert not at.exception
    spec = _chart(at, LOO_TITLE)
    assert spec is not None
    drawn = dict(zip(spec["data"][0]["y"], _array(spec["data"][0]["x"]), strict=True))
    expected = {c.column: c.uniques_removed for c in risk.qi_contributions(df, qis)}
    assert drawn == expected
    assert _chart(at, SUBSET_TITLE) is None  # the other section still waits


def test_subset_switch_draws_core_figures(large):
    at = large
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    _switch(at, "risk_subsets_on").set_value(True).run()
    assert not at.exception
    spec = _chart(at, SUBSET_TITLE)
    assert spec is not None
    drawn = sorted(_array(spec["data"][0]["y"]))  # distinction of every subset
    expected = sorted(s.distinction for s in risk.subset_scores(df, qis, max_size=2))
    assert drawn == pytest.approx(expected)


def test_a_new_column_choice_turns_the_switches_off(large):
    at = large
    _switch(at, "risk_loo_on").set_value(True).run()
    assert _chart(at, LOO_TITLE) is not None
    qis = at.multiselect[0].value
    at.multiselect[0].set_value(qis[:-1]).run()
    assert not at.exception
    assert _chart(at, LOO_TITLE) is None and not _switch(at, "risk_loo_on").value
    # back to the first choice: the switch is off again (Streamlit forgets unrendered
    # widgets); one click brings the figures back from the cache
    at.multiselect[0].set_value(qis).run()
    assert _chart(at, LOO_TITLE) is None
    _switch(at, "risk_loo_on").set_value(True).run()
    assert _chart(at, LOO_TITLE) is not None


def test_switched_on_sections_survive_navigation(large):
    # the switches live in the workspace: a visit to another page keeps the figures drawn
    at = large
    _switch(at, "risk_loo_on").set_value(True).run()
    at.slider(key="risk_subset_size").set_value(1).run()
    _switch(at, "risk_subsets_on").set_value(True).run()
    loo, subsets = _chart(at, LOO_TITLE), _chart(at, SUBSET_TITLE)
    assert loo is not None and subsets is not None
    at.switch_page("pages/home.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert _switch(at, "risk_loo_on").value and _switch(at, "risk_subsets_on").value
    assert at.slider(key="risk_subset_size").value == 1
    assert _chart(at, LOO_TITLE)["data"] == loo["data"]
    assert _chart(at, SUBSET_TITLE)["data"] == subsets["data"]
    options = at.session_state["workspace"].risk.options
    assert options["loo_on"] is True and options["subsets_on"] is True
    assert options["subset_size"] == 1
