"""Headless app tests: start-up, uploads, bad uploads, role edits, and every page renders."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from core.samples import SAMPLES
from tests.conftest import APP, ROOT

CSV = b"name,email,age,zip\nAnn,ann@example.org,34,10115\nBob,bob@example.org,45,10117\n"


def _page_files() -> list[str]:
    text = (ROOT / "app.py").read_text()
    return re.findall(r'st\.Page\(\s*"(pages/[a-z_]+\.py)"', text)


def test_app_opens_on_the_adult_sample(app):
    assert app.session_state["dataset"].shape == (32_561, 15)
    assert app.title[0].value == "PrivLens"
    assert not app.error


def test_every_page_renders_without_exception(app):
    pages = _page_files()
    assert "pages/data.py" in pages
    for page in pages:
        app.switch_page(page).run()
        assert not app.exception, page


def test_upload_replaces_the_dataset_and_suggests_roles(app):
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="data_upload").upload("people.csv", CSV, "text/csv").run()
    assert not app.exception
    assert "Loaded 2 rows × 4 columns" in app.success[0].value
    assert app.session_state["dataset"].shape == (2, 4)
    assert app.session_state["roles"] == {
        "name": "identifier",
        "email": "identifier",
        "age": "quasi_identifier",
        "zip": "quasi_identifier",
    }


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.csv", b"a,b\n1,2\n3,4,5\n", "Line 3 has 3 fields"),
        ("empty.csv", b"", "is empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "content is binary"),
        ("t.json", b"[1, 2]", "not a table"),
    ],
)
def test_bad_upload_shows_the_message_and_keeps_the_data(app, name, data, message):
    app.switch_page("pages/data.py").run()
    before = app.session_state["dataset"]
    app.file_uploader(key="data_upload").upload(name, data, "application/octet-stream").run()
    assert not app.exception
    assert any(message in e.value for e in app.error)
    assert app.session_state["dataset"] is before
    assert any("Still working with" in i.value for i in app.info)


def test_sample_switcher_loads_patients(app):
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_sample").select_index(1).run()
    app.button(key="data_load_sample").click().run()
    assert not app.exception
    assert "email" in app.session_state["dataset"].columns
    assert app.session_state["roles"]["diagnosis"] == "sensitive"


def _role_cells(app):
    (editor,) = [d for d in app.dataframe if "why suggested" in d.value.columns]
    return dict(zip(editor.value["column"], editor.value["role"], strict=True))


def test_role_edit_holds_across_pages_and_a_reload(app):
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_role_column").set_value("fnlwgt")
    app.selectbox(key="data_role_value").set_value("sensitive")
    app.button(key="FormSubmitter:data_role_form-Set role").click().run()
    app.switch_page("pages/home.py").run()
    app.switch_page("pages/data.py").run()
    assert not app.exception
    assert app.session_state["workspace"].roles["fnlwgt"] == "sensitive"
    assert _role_cells(app)["fnlwgt"] == "sensitive"
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["ws"] = app.session_state["ws_token"]
    again.run()
    again.switch_page("pages/data.py").run()
    assert not again.exception
    assert _role_cells(again)["fnlwgt"] == "sensitive"


def test_data_page_settings_survive_navigation_and_a_reload(app):
    app.switch_page("pages/data.py").run()
    app.text_input(key="data_na").input("?, -").run()
    app.selectbox(key="data_sample").set_value(SAMPLES[1]).run()
    assert not app.exception
    for page in ("pages/risk.py", "pages/home.py", "pages/data.py"):
        app.switch_page(page).run()
        assert not app.exception, page
    assert app.text_input(key="data_na").value == "?, -"
    assert app.selectbox(key="data_sample").value == SAMPLES[1]
    options = app.session_state["workspace"].data.options
    assert options["na_markers"] == "?, -" and options["sample"] == SAMPLES[1]
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["ws"] = app.session_state["ws_token"]
    again.run()
    again.switch_page("pages/data.py").run()
    assert again.text_input(key="data_na").value == "?, -"
    assert again.selectbox(key="data_sample").value == SAMPLES[1]
    # The markers apply to the next upload, and the new workspace keeps them.
    again.file_uploader(key="data_upload").upload("q.csv", b"a,b\n?,1\nx,-\ny,2\n", "text/csv")
    again.run()
    assert not again.exception
    frame = again.session_state["dataset"]
    assert frame["a"].isna().tolist() == [True, False, False]
    assert frame["b"].isna().tolist() == [False, True, False]
    assert again.session_state["workspace"].data.options["na_markers"] == "?, -"
    assert again.text_input(key="data_na").value == "?, -"


def test_a_survey_weight_becomes_the_default_weight_of_the_risk_page(app):
    app.switch_page("pages/data.py").run()
    rows = "".join(f"{i % 2 + 1},{i % 5 + 2},{20 + i},{100 + i % 3}\n" for i in range(40))
    csv = ("urbrur,roof,age,sampling_weight\n" + rows).encode()
    app.file_uploader(key="data_upload").upload("survey.csv", csv, "text/csv").run()
    assert not app.exception
    ws = app.session_state["workspace"]
    assert ws.roles["sampling_weight"] == "weight"
    assert ws.risk.weight_column == "sampling_weight"
    assert set(ws.risk.quasi_identifiers) == {"urbrur", "roof", "age"}
    assert "Sampling weight: 1" in " ".join(c.value for c in app.caption)


def test_role_form_sets_one_role(app):
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_role_column").set_value("fnlwgt")
    app.selectbox(key="data_role_value").set_value("sensitive")
    app.button(key="FormSubmitter:data_role_form-Set role").click().run()
    assert not app.exception
    assert app.session_state["roles"]["fnlwgt"] == "sensitive"
    app.switch_page("pages/risk.py").run()
    assert not app.exception
