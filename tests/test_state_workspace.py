"""The app keeps the user's workspace: the link's token restores it; a wrong one opens nothing."""

from __future__ import annotations

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.conftest import APP


def _fresh(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def test_new_session_gets_a_token_in_the_link(app):
    token = app.session_state["ws_token"]
    assert app.query_params["ws"] == [token] or app.query_params["ws"] == token


def test_link_with_token_restores_table_roles_and_settings(app):
    app.session_state["dataset"] = pd.DataFrame({"zip": ["02134", "02135"], "n": [1, 2]})
    app.session_state["dataset_name"] = "mine"
    app.session_state["roles"] = {"zip": "quasi_identifier", "n": "other"}
    app.run()
    from ui import state  # noqa: F401 - the module the app uses

    token = app.session_state["ws_token"]
    ws = app.session_state["workspace"]
    assert ws.dataset.name == "mine"
    again = _fresh(ws=token)
    restored = again.session_state["dataset"]
    assert restored["zip"].tolist() == ["02134", "02135"]
    assert again.session_state["workspace"].roles == {"zip": "quasi_identifier", "n": "other"}
    assert again.session_state["workspace"].risk.quasi_identifiers == ("zip",)
    assert again.session_state["ws_token"] == token


def test_wrong_token_opens_nothing_and_says_so(app):
    other = _fresh(ws="A" * 43)
    assert other.session_state["ws_token"] != app.session_state["ws_token"]
    assert "ws_link_error" in other.session_state
    assert other.session_state["dataset"].shape == (32_561, 15)  # a new workspace, the sample


def test_link_without_token_starts_a_new_workspace(app):
    other = _fresh()
    assert other.session_state["ws_token"] != app.session_state["ws_token"]


def test_a_table_put_in_place_with_an_unknown_role_is_still_adopted(app):
    app.session_state["dataset"] = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    app.session_state["roles"] = {"a": "insensitive", "b": "quasi_identifier"}
    app.run()
    assert not app.exception and not app.error
    ws = app.session_state["workspace"]
    assert ws.dataset.n_rows == 2
    assert ws.roles.get("b") == "quasi_identifier" and ws.roles.get("a") != "insensitive"


def test_a_link_whose_workspace_is_gone_says_so_on_the_page_it_opens(monkeypatch):
    # A reload of /risk with an expired or deleted workspace's link: not a silent new sample.
    # In a browser every run starts in app.py; AppTest runs a switched-to page alone unless
    # no page is registered yet, when the page hands the run to app.py (ui.router).
    from ui import nav

    monkeypatch.setattr(nav, "_pages", [])
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["ws"] = "A" * 43
    at.switch_page("pages/risk.py")
    at.run()
    assert not at.exception
    assert at.session_state["dataset_name"] == "Adult census sample"  # a new workspace
    errors = [e.value for e in at.error]
    assert any("no workspace" in e.lower() or "workspace of this link" in e for e in errors)
    assert any("A new workspace was started instead" in i.value for i in at.info)
    at.switch_page("pages/home.py").run()  # said once, not again on Home
    assert not any("A new workspace was started instead" in i.value for i in at.info)
