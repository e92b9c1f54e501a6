"""History page (headless): releases, exports and the budget log; saving and opening projects."""

from __future__ import annotations

import uuid

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.conftest import APP
from ui.text import WORD_JOINER

PASS = "correct horse battery staple"


def _fresh(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert not at.exception
    return at


def _own_table(at: AppTest) -> pd.DataFrame:
    """Give ``at`` a table of its own: the budget belongs to the table, shared by every test."""
    n = 60
    frame = pd.DataFrame(
        {
            "age": [20 + i % 40 for i in range(n)],
            "sex": ["f", "m", "x"] * (n // 3),
            "ref": [f"{uuid.uuid4().hex[:8]}-{i}" for i in range(n)],
        }
    )
    at.session_state["dataset"] = frame
    at.session_state["dataset_name"] = "mine.csv"
    at.run()
    assert not at.exception
    return frame


def _work_script(token: str, actions: tuple[str, ...]) -> None:
    """A session that resumes ``token`` and works through ``ui.state`` (as the pages do)."""
    import streamlit as st

    from core.recipe import Recipe, Step
    from ui import state

    st.query_params["ws"] = token
    state.bootstrap(lambda: (_ for _ in ()).throw(AssertionError("the link must resume")))
    for action in actions:
        if action == "release":
            state.start_budget(1.0, 1e-5)
            state.release(
                lambda: 38.5, query="mean", column="age", mechanism="laplace", epsilon=0.25
            )
        elif action == "export":
            state.record_export(format="csv", encryption="passphrase")
        elif action == "recipe":
            steps = (Step(transform="round", columns=("age",), params={"base": 5}),)
            source = tuple(state.workspace().dataset.column_names)
            state.set_recipe(Recipe(steps=steps, source_columns=source))
        elif action == "reset":
            state.reset_budget(confirm=True, reason="new study")
    st.write("done")


def _work(token: str, *actions: str) -> None:
    at = AppTest.from_function(_work_script, args=(token, actions), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _tables(at: AppTest) -> dict[str, object]:
    """The page's dataframes by their first column set (releases, exports, audit)."""
    out = {}
    for d in at.dataframe:
        cols = tuple(d.value.columns)
        if "query" in cols:
            out["releases"] = d.value
        elif "recipe digest" in cols:
            out["exports"] = d.value
        elif "event" in cols:
            out["audit"] = d.value
    return out


def test_history_shows_releases_exports_and_the_budget_log_newest_first(app):
    _own_table(app)
    token = app.session_state["ws_token"]
    _work(token, "release", "export", "release", "reset")
    at = _fresh(ws=token)
    at.switch_page("pages/history.py").run()
    assert not at.exception
    t = _tables(at)
    rel = t["releases"]
    assert len(rel) == 2
    assert rel.iloc[0].to_dict() | {"time": None} == {
        "time": None, "query": "mean", "column": "age", "mechanism": "laplace",
        "ε": 0.25, "δ": 0.0, "answer": "", "95% error": "",
    }  # fmt: skip
    assert rel["time"].is_monotonic_decreasing
    exp = t["exports"]
    assert exp[["format", "encryption"]].values.tolist() == [["csv", "passphrase"]]
    assert len(exp["recipe digest"][0]) >= 16
    audit = t["audit"]
    assert audit["event"].tolist() == ["reset", "spend", "spend", "budget set"]
    assert "reason: new study" in audit["detail"][0]
    assert audit["ε"][0] == 0.5  # the two releases' ε dropped by the reset
    assert audit["time"].is_monotonic_decreasing


def test_empty_history_says_so(app):
    app.switch_page("pages/history.py").run()
    assert not app.exception
    captions = " ".join(c.value for c in app.caption)
    assert "No differential-privacy release yet" in captions
    assert "No export yet" in captions


def _save(at: AppTest, passphrase: str, *, with_data: bool) -> bytes:
    at.switch_page("pages/history.py").run()
    at.text_input(key="project_save_pass").input(passphrase)
    at.checkbox(key="project_with_data").check() if with_data else None
    at.button(key="project_save").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["project_save_pass"] == ""  # not kept in the session
    blob, name = at.session_state["project_file"]
    assert name.endswith(".privlens-project")
    assert PASS.encode() not in blob
    return blob


def _open(at: AppTest, blob: bytes, passphrase: str) -> None:
    at.switch_page("pages/history.py").run()
    upload = at.file_uploader(key="project_upload")
    upload.upload("p.privlens-project", blob, "application/octet-stream")
    at.text_input(key="project_open_pass").input(passphrase)
    at.button(key="project_open").click().run()
    assert not at.exception


def test_save_delete_open_restores_recipe_roles_and_ledger(app):
    frame = _own_table(app)
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_role_column").set_value("sex")
    app.selectbox(key="data_role_value").set_value("sensitive")
    app.button(key="FormSubmitter:data_role_form-Set role").click().run()
    token = app.session_state["ws_token"]
    _work(token, "recipe", "release")
    at = _fresh(ws=token)  # the work done elsewhere, seen after a reload
    before = at.session_state["workspace"]
    assert before.roles["sex"] == "sensitive"
    blob = _save(at, PASS, with_data=True)
    at.switch_page("pages/home.py").run()
    at.button(key="ws_delete").click().run()
    at.button(key="ws_delete_yes").click().run()
    assert "ws_token" not in at.session_state
    _open(at, blob, PASS)
    assert any("Opened the project" in s.value for s in at.success)
    after = at.session_state["workspace"]
    assert after.roles == before.roles
    assert after.recipe.current == before.recipe.current
    assert after.recipe.current.steps[0].transform == "round"
    assert [r.epsilon for r in after.releases] == [0.25]
    pd.testing.assert_frame_equal(at.session_state["dataset"], frame)
    assert at.session_state["ws_token"] != token  # a new workspace holds it
    at.switch_page("pages/history.py").run()
    audit = _tables(at)["audit"]
    assert "spend" in audit["event"].tolist()
    assert audit.loc[audit["event"] == "spend", "ε"].tolist() == [0.25]  # not counted twice
    # The restored workspace survives a reload of its own link.
    again = _fresh(ws=at.session_state["ws_token"])
    assert again.session_state["workspace"].roles["sex"] == "sensitive"


def test_wrong_passphrase_and_other_table_give_clear_errors_and_keep_the_data(app):
    _own_table(app)
    app.switch_page("pages/history.py").run()
    app.button(key="project_save").click().run()  # no passphrase typed
    assert not app.exception
    (error,) = app.error
    assert error.value.startswith("The project was not saved") and "passphrase" in error.value
    assert "project_file" not in app.session_state
    blob = _save(app, PASS, with_data=False)
    data = app.session_state["dataset"]
    _open(app, blob, "not the passphrase")
    (error,) = app.error
    assert error.value.startswith("The project was not opened")
    assert "passphrase" in error.value.lower()
    assert app.session_state["dataset"] is data
    # Damaged file.
    _open(app, blob[:-5] + bytes(5), PASS)
    assert app.error and app.session_state["dataset"] is data
    # Another table loaded: the project is refused, the loaded table kept.
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_sample").select_index(1).run()
    app.button(key="data_load_sample").click().run()
    patients = app.session_state["dataset"]
    _open(app, blob, PASS)
    (error,) = app.error
    assert "another table" in error.value
    assert app.session_state["dataset"] is patients
    assert "Traceback" not in error.value


def test_the_page_names_the_project_file_it_received_and_asks_for_one_otherwise(app):
    """The server says which file it holds ("Ready to open"), its name escaped; without one,
    "Open" asks for a file and says an upload must finish first."""
    _own_table(app)
    app.switch_page("pages/history.py").run()
    assert not any("Ready to open" in c.value for c in app.caption)
    app.button(key="project_open").click().run()
    (error,) = app.error
    assert error.value.startswith("Choose a project file first")
    assert "upload" in error.value
    name = "[x](https://evil.example)_*.privlens-project"
    app.file_uploader(key="project_upload").upload(name, b"\0" * 13_312, "application/x")
    app.run()
    (ready,) = [c.value for c in app.caption if "Ready to open" in c.value]
    joined = "http" + WORD_JOINER + "s"  # no autolink
    shown = rf"\[x\]({joined}://evil.example)\_\*.privlens-project"
    assert ready == f"Ready to open: {shown} (13.0 KB)."
