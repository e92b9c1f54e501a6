"""AppTest of the Re-identification risk page: defaults, figures, switches, bad input."""

from __future__ import annotations

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
