"""AppTest of the Re-identification risk page: defaults, figures, switches, bad input."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from core import risk
from tests.conftest import ROOT

PAGE = "pages/risk.py"


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def risk_page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_page_shows_k_matching_core_on_role_defaults(risk_page):
    at = risk_page
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    assert qis, "quasi-identifiers default to the roles"
    expected = risk.risk_summary(df, qis)
    assert _metric(at, "k (k-anonymity)") == f"{expected.k:,}"
    assert _metric(at, "Equivalence classes") == f"{expected.n_classes:,}"
    assert _metric(at, "Sample uniques") == f"{expected.sample_uniques:,}"
    assert not at.error
    # every headline card carries a tooltip with its formula
    assert all(m.proto.help for m in at.metric)


def test_switches_recompute(risk_page):
    at = risk_page
    at.multiselect[0].set_value(["sex", "race"]).run()
    assert not at.exception
    df = at.session_state["dataset"]
    assert _metric(at, "k (k-anonymity)") == f"{risk.k_anonymity(df, ['sex', 'race']):,}"
    at.radio(key="risk_missing").set_value("wildcard").run()
    assert not at.exception
    at.toggle(key="risk_is_sample").set_value(True).run()
    assert not at.exception
    assert _metric(at, "Journalist risk") != "—"


def test_no_qi_shows_info_not_error(risk_page):
    at = risk_page
    at.multiselect[0].set_value([]).run()
    assert not at.exception and not at.error
    assert any("at least one quasi-identifier" in i.value for i in at.info)


def test_identifiers_hidden_from_riskiest_records(app):
    app.session_state["dataset"] = pd.DataFrame(
        {"name": ["Ann", "Bob", "Cy"], "zip": [1, 1, 2], "dx": ["a", "b", "a"]}
    )
    app.session_state["dataset_id"] = "test-ids"
    app.session_state["roles"] = {
        "name": "identifier",
        "zip": "quasi_identifier",
        "dx": "sensitive",
    }
    app.switch_page(PAGE).run()
    assert not app.exception
    frames = [d.value for d in app.dataframe]
    assert all("name" not in f.columns for f in frames)
    assert _metric(app, "k (k-anonymity)") == "1"


def test_page_file_exists():
    assert (ROOT / PAGE).exists()


# --- special uniques (SUDA2) ---------------------------------------------------------------


def _array(value) -> list[float]:
    """A figure array: plain JSON list or plotly's typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _suda_chart(at):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if "SUDA" in spec["layout"].get("title", {}).get("text", ""):
            return spec
    return None


def test_suda_section_matches_core_on_adult(risk_page):
    from core import suda

    at = risk_page
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    size = at.slider(key="risk_suda_size").value
    assert size == min(4, len(qis))
    expected = suda.suda2(df, qis, max_size=size, missing="category", dis_fraction=0.01)
    assert _metric(at, "Special uniques") == f"{expected.special_uniques:,}"
    assert _metric(at, "MSUs found") == f"{expected.n_msus:,}"
    assert _metric(at, "Highest SUDA score") == f"{expected.score.max():,.0f}"
    spec = _suda_chart(at)
    assert spec is not None, "contribution chart drawn"
    assert spec["layout"]["xaxis"]["title"]["text"] == "share of the total SUDA score (%)"
    assert spec["layout"]["yaxis"]["title"]["text"] == "quasi-identifier"
    shares = dict(zip(spec["data"][0]["y"], _array(spec["data"][0]["x"]), strict=True))
    assert shares == pytest.approx(dict(zip(qis, expected.attribute_contribution, strict=True)))
    table = next(d.value for d in at.dataframe if "SUDA score" in d.value.columns)
    assert table["SUDA score"].tolist() == sorted(expected.score, reverse=True)[: len(table)]
    assert (table["SUDA score"] > 0).all()

    # a smaller cap recomputes, and scores are lower bounds
    at.slider(key="risk_suda_size").set_value(1).run()
    assert not at.exception
    one = suda.suda2(df, qis, max_size=1)
    assert _metric(at, "MSUs found") == f"{one.n_msus:,}"
    assert one.n_msus <= expected.n_msus


def test_suda_table_hides_identifiers_and_missing_switch(app):
    app.session_state["dataset"] = pd.DataFrame(
        {
            "name": ["Ann", "Bob", "Cy", "Di"],
            "zip": [1, 1, 2, None],
            "sex": ["f", "m", "f", "f"],
            "dx": ["a", "b", "a", "c"],
        }
    )
    app.session_state["dataset_id"] = "test-suda"
    app.session_state["roles"] = {
        "name": "identifier",
        "zip": "quasi_identifier",
        "sex": "quasi_identifier",
        "dx": "sensitive",
    }
    app.switch_page(PAGE).run()
    assert not app.exception and not app.error
    table = next(d.value for d in app.dataframe if "SUDA score" in d.value.columns)
    assert "name" not in table.columns
    assert any("Direct identifiers hidden: name" in c.value for c in app.caption)
    # missing zip as a value: row 3 is unique on zip alone; ignored (sdcMicro): it is not
    assert _metric(app, "MSUs found") == "4"
    app.radio(key="risk_suda_missing").set_value("ignore").run()
    assert not app.exception
    assert _metric(app, "MSUs found") == "3"


def test_suda_is_opt_in_on_large_tables(risk_page, monkeypatch):
    from core import limits

    at = risk_page
    monkeypatch.setattr(limits, "SUDA_EAGER_WORK", 10)
    at.run()
    assert not at.exception
    assert not any(m.label == "Special uniques" for m in at.metric)
    assert any("once per column subset" in c.value for c in at.caption)
    at.toggle(key="risk_suda_on").set_value(True).run()
    assert not at.exception
    assert any(m.label == "Special uniques" for m in at.metric)
