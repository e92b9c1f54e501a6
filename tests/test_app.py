"""Headless app tests: start-up, uploads, bad uploads, role edits, and every page renders."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

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


def test_role_edit_holds_across_pages(app):
    app.switch_page("pages/data.py").run()
    app.session_state["roles"] = {**app.session_state["roles"], "fnlwgt": "sensitive"}
    app.switch_page("pages/home.py").run()
    app.switch_page("pages/data.py").run()
    assert app.session_state["roles"]["fnlwgt"] == "sensitive"
    assert not app.exception


def test_role_form_sets_one_role(app):
    app.switch_page("pages/data.py").run()
    app.selectbox(key="data_role_column").set_value("fnlwgt")
    app.selectbox(key="data_role_value").set_value("sensitive")
    app.button(key="FormSubmitter:data_role_form-Set role").click().run()
    assert not app.exception
    assert app.session_state["roles"]["fnlwgt"] == "sensitive"
    app.switch_page("pages/risk.py").run()
    assert not app.exception
