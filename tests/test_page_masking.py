"""AppTest of the Masking page: suggestions, live risk delta, recipe upload, errors, hand-off."""

from __future__ import annotations

import json

import pytest

from core import risk
from core.recipe import Recipe, Step, apply

PAGE = "pages/masking.py"
QIS = ["age", "sex", "race"]


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def _col(at, name: str) -> int:
    return list(at.session_state["dataset"].columns).index(name)


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_suggestions_follow_the_roles(page):
    at = page
    age = _col(at, "age")
    assert at.selectbox(key=f"mask_t_{age}").value == "bin_width"
    assert at.number_input(key=f"mask_p_{age}_bin_width_width").value == 10.0
    assert at.selectbox(key=f"mask_t_{_col(at, 'income')}").value == "keep"  # sensitive: keep
    assert not at.error


def test_live_risk_delta_matches_core(page):
    at = page
    at.multiselect(key="mask_qi").set_value(QIS).run()
    at.toggle(key="mask_suppress").set_value(True).run()
    at.slider(key="mask_k").set_value(5).run()
    assert not at.exception and not at.error
    df = at.session_state["dataset"]
    before = risk.risk_summary(df, QIS)
    recipe = Recipe(
        steps=(
            Step(transform="bin_width", columns=("age",), params={"width": 10.0}),
            Step(transform="suppress", columns=tuple(QIS), params={"k": 5, "mode": "cells"}),
        )
    )
    after = risk.risk_summary(apply(df, recipe).frame, QIS)
    assert after.k >= 5 > before.k
    k = _metric(at, "k (k-anonymity)")
    assert k.value == f"{after.k:,}" and int(k.delta) == after.k - before.k
    uniques = _metric(at, "Sample uniques")
    assert uniques.value == f"{after.sample_uniques:,}"
    assert int(uniques.delta) == after.sample_uniques - before.sample_uniques
    assert _metric(at, "Records at risk").value == f"{after.prosecutor.records_at_risk:,}"


def test_changing_a_transform_and_dropping_a_qi(page):
    at = page
    at.multiselect(key="mask_qi").set_value(QIS).run()
    at.selectbox(key=f"mask_t_{_col(at, 'sex')}").set_value("drop").run()
    assert not at.exception
    log = at.dataframe[-1].value  # the change log is the last table
    assert log.set_index("column").loc["sex", "transforms"] == "dropped"
    df = at.session_state["dataset"]
    expected = risk.risk_summary(apply(df, Recipe(steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 10.0}),))).frame,
        ["age", "race"])  # fmt: skip
    assert _metric(at, "k (k-anonymity)").value == f"{expected.k:,}"


def test_bad_parameter_shows_an_error_not_a_traceback(page):
    at = page
    i = _col(at, "hours-per-week")
    at.selectbox(key=f"mask_t_{i}").set_value("bin_edges").run()
    at.text_input(key=f"mask_p_{i}_bin_edges_edges").set_value("40, 20").run()
    assert not at.exception
    assert any("strictly increasing" in e.value for e in at.error)


def test_recipe_upload_sets_the_editor(page):
    at = page
    recipe = {
        "schema_version": 1,
        "steps": [
            {"transform": "mask", "column": "education", "params": {"keep_first": 2}},
            {"transform": "suppress", "columns": ["age", "sex"], "params": {"k": 7}},
        ],
    }
    at.file_uploader(key="mask_upload").upload(
        "r.json", json.dumps(recipe).encode(), "application/json"
    ).run()
    assert not at.exception
    i = _col(at, "education")
    assert at.selectbox(key=f"mask_t_{i}").value == "mask"
    assert at.number_input(key=f"mask_p_{i}_mask_keep_first").value == 2
    assert at.selectbox(key=f"mask_t_{_col(at, 'age')}").value == "keep"
    assert at.toggle(key="mask_suppress").value and at.slider(key="mask_k").value == 7
    assert at.multiselect(key="mask_qi").value == ["age", "sex"]


def test_recipe_from_another_dataset_names_missing_columns(page):
    at = page
    recipe = {"schema_version": 1, "steps": [{"transform": "drop", "column": "email"}]}
    at.file_uploader(key="mask_upload").upload(
        "r.json", json.dumps(recipe).encode(), "application/json"
    ).run()
    assert not at.exception
    assert any("does not have: email" in e.value for e in at.error)


def test_hand_off_to_export_keeps_the_key_out(page):
    at = page
    ident = _col(at, "fnlwgt")
    at.selectbox(key=f"mask_t_{ident}").set_value("pseudonymize").run()
    at.button(key="mask_use").click().run()
    assert not at.exception
    hand_off = at.session_state["hardening"]
    hardened = hand_off.result.frame
    recipe_json = hand_off.recipe.to_json() + repr(hand_off)
    key = at.session_state["masking_key"]
    assert key.hex() not in recipe_json and "pseudonymize" in recipe_json
    assert hardened["fnlwgt"].str.len().eq(16).all()
    assert "hardened table" in at.success[0].value
    at.switch_page("pages/export.py").run()
    assert not at.exception
    assert any("Exporting the **hardened** table" in s.value for s in at.success)


def test_entered_key_errors_do_not_echo_it(page):
    at = page
    at.text_input(key="mask_key_text").set_value("tooshort").run()
    at.button(key="mask_key_use").click().run()
    assert not at.exception
    assert any("at least 16 bytes; got 8" in e.value for e in at.error)
    assert all("tooshort" not in e.value for e in at.error)
    before = at.session_state["masking_key"]
    at.text_input(key="mask_key_text").set_value("a long enough passphrase").run()
    at.button(key="mask_key_use").click().run()
    assert at.session_state["masking_key"] == b"a long enough passphrase" != before


def test_encrypt_transform_on_the_page_uses_the_session_key(app):
    app.switch_page("pages/masking.py").run()
    app.selectbox(key="mask_t_0").set_value("encrypt").run()
    assert not app.exception
    assert not app.error
