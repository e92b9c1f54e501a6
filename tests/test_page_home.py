"""Home page (headless): the call to upload, the storage notice, deleting the workspace."""

from __future__ import annotations

import re

from streamlit.testing.v1 import AppTest

from tests.conftest import APP, ROOT


def _fresh(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in (*at.markdown, *at.caption, *at.success, *at.error, *at.info)]
    return "\n".join(str(p) for p in parts)


def test_home_invites_an_upload_and_says_what_is_stored(app, monkeypatch):
    links = [p for p in app.get("page_link") if p.proto.page.endswith("data")]
    assert any("Upload your own data" in p.proto.label for p in links)
    notice = _texts(app)
    for part in ("table", "roles", "recipe", "settings", "history", "this server's database"):
        assert part in notice
    assert "AES-256-GCM" in notice and "token in this page's link" in notice
    assert "after 7 days without use" in notice  # the default idle time
    assert str(ROOT) not in notice and ".sqlite" not in notice  # no path is printed
    monkeypatch.setenv("PRIVLENS_WORKSPACE_IDLE_SECONDS", str(36 * 3600))
    app.run()
    assert "after 36 hours without use" in _texts(app)


def test_delete_asks_first_then_deletes_and_the_link_opens_nothing(app):
    token = app.session_state["ws_token"]
    app.button(key="ws_delete").click().run()
    assert not app.exception
    assert app.session_state["ws_token"] == token  # only asked so far
    assert any("Delete this workspace?" in w.value for w in app.warning)
    app.button(key="ws_delete_no").click().run()
    assert app.session_state["ws_token"] == token
    app.button(key="ws_delete").click().run()
    app.button(key="ws_delete_yes").click().run()
    assert not app.exception
    assert "ws_token" not in app.session_state
    assert "dataset" not in app.session_state
    assert any("This workspace was deleted" in s.value for s in app.success)
    assert any("Start again" in p.proto.label for p in app.get("page_link"))
    # Every page still opens (and asks for a table); nothing new starts by itself.
    pages = re.findall(r'st\.Page\(\s*"(pages/[a-z_]+\.py)"', (ROOT / "app.py").read_text())
    assert "pages/history.py" in pages
    for page in pages:
        app.switch_page(page).run()
        assert not app.exception, page
    assert "ws_token" not in app.session_state
    # The deleted workspace's link opens nothing of it.
    other = _fresh(ws=token)
    assert other.session_state["ws_token"] != token
    assert any("workspace" in e.value.lower() for e in other.error)
    assert other.session_state["dataset_name"] == "Adult census sample"  # a new start


def test_a_restored_workspace_says_so(app):
    again = _fresh(ws=app.session_state["ws_token"])
    assert any("Restored your workspace" in s.value for s in again.success)
    assert not any("Restored your workspace" in s.value for s in app.success)
