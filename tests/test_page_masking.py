"""AppTest of the Masking page: suggestions, live risk delta, recipe upload, errors, and the
recipe kept in the workspace (navigation, reload link, undo/redo), which Export exports."""

from __future__ import annotations

import json

import pytest
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from core import risk
from core.recipe import TRANSFORMS, Recipe, Step, apply
from tests.conftest import APP

PAGE = "pages/masking.py"
QIS = ["age", "sex", "race"]


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


def _col(at, name: str) -> int:
    return list(at.session_state["dataset"].columns).index(name)


def _log(at):
    """The change log table (column, transforms, cells changed, cells suppressed)."""
    (log,) = [d.value for d in at.dataframe if "cells changed" in d.value.columns]
    return log.set_index("column")


def _recipe(at) -> Recipe:
    """The current recipe of the workspace (the user's steps)."""
    return at.session_state["workspace"].recipe.current


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
    # the suggestions are the workspace's recipe at once: Export exports them
    steps = {s.columns[0]: s for s in _recipe(at).steps}
    assert steps["age"] == Step(transform="bin_width", columns=("age",), params={"width": 10.0})
    assert "income" not in steps


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
    # good for privacy is green whatever the sign: k went up, uniques went down
    assert k.proto.color == Metric.MetricColor.GREEN
    assert uniques.proto.color == Metric.MetricColor.GREEN


def test_nothing_changed_has_no_red_arrow(page):
    at = page
    at.multiselect(key="mask_qi").set_value(["sex", "race"]).run()  # the recipe keeps both
    assert not at.exception
    for label in ("k (k-anonymity)", "Sample uniques", "Records at risk", "Average risk"):
        m = _metric(at, label)
        assert m.proto.color == Metric.MetricColor.GRAY, label
        assert m.proto.direction == Metric.MetricDirection.NONE, label
        assert "+0.00" not in m.proto.delta


def test_changing_a_transform_and_dropping_a_qi(page):
    at = page
    at.multiselect(key="mask_qi").set_value(QIS).run()
    at.selectbox(key=f"mask_t_{_col(at, 'sex')}").set_value("drop").run()
    assert not at.exception
    assert _log(at).loc["sex", "transforms"] == "dropped"
    df = at.session_state["dataset"]
    expected = risk.risk_summary(apply(df, Recipe(steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 10.0}),))).frame,
        ["age", "race"])  # fmt: skip
    assert _metric(at, "k (k-anonymity)").value == f"{expected.k:,}"
    assert Step(transform="drop", columns=("sex",), params={}) in _recipe(at).steps


def test_bad_parameter_shows_an_error_and_keeps_the_results(page):
    at = page
    i = _col(at, "hours-per-week")
    at.selectbox(key=f"mask_t_{i}").set_value("bin_edges").run()
    at.text_input(key=f"mask_p_{i}_bin_edges_edges").set_value("40, 20").run()
    assert not at.exception
    assert any("strictly increasing" in e.value for e in at.error)
    assert _metric(at, "k (k-anonymity)")  # before -> after still shown
    assert "hours-per-week" not in {c for s in _recipe(at).steps for c in s.columns}


def test_group_categories_waits_for_a_mapping_without_an_error(page):
    at = page
    i = _col(at, "education")
    at.selectbox(key=f"mask_t_{i}").set_value("group").run()
    assert not at.exception
    assert not at.error  # no red "parameter 'mapping' is required"
    assert any("Type a value for 'mapping' to apply this step" in c.value for c in at.caption)
    assert _metric(at, "k (k-anonymity)")  # the before -> after section stays
    assert all(s.transform != "group" for s in _recipe(at).steps)
    at.text_area(key=f"mask_p_{i}_group_mapping").set_value(
        "Bachelors = Degree\nMasters = Degree"
    ).run()
    assert not at.exception and not at.error
    step = next(s for s in _recipe(at).steps if s.transform == "group")
    assert step.params["mapping"] == {"Bachelors": "Degree", "Masters": "Degree"}
    assert _log(at).loc["education", "transforms"] == "group"


def test_cells_and_records_changed_count_values_that_changed(page):
    at = page
    df = at.session_state["dataset"]
    # leave only a grouping of one age: the column becomes text, every other value the same
    for name in df.columns:
        at.selectbox(key=f"mask_t_{_col(at, name)}").set_value("keep")
    at.run()
    i = _col(at, "age")
    at.selectbox(key=f"mask_t_{i}").set_value("group").run()
    at.text_area(key=f"mask_p_{i}_group_mapping").set_value("17 = minor").run()
    assert not at.exception and not at.error
    n17 = int((df["age"] == 17).sum())
    assert 0 < n17 < len(df)
    assert _log(at).loc["age", "cells changed"] == n17
    assert _metric(at, "Records changed").value == f"{n17:,}"
    share = n17 / (len(df) * df.shape[1])
    assert _metric(at, "Cells changed").value == f"{100 * share:.1f}%"


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
    assert [s.transform for s in _recipe(at).steps] == ["mask", "suppress"]


def test_recipe_from_another_dataset_names_missing_columns(page):
    at = page
    recipe = {"schema_version": 1, "steps": [{"transform": "drop", "column": "email"}]}
    at.file_uploader(key="mask_upload").upload(
        "r.json", json.dumps(recipe).encode(), "application/json"
    ).run()
    assert not at.exception
    assert any("does not have: email" in e.value for e in at.error)


def test_the_recipe_is_what_export_exports_and_keeps_the_key_out(page):
    at = page
    assert not [b for b in at.button if "hardened table" in b.label]  # no hand-over button
    ident = _col(at, "fnlwgt")
    at.selectbox(key=f"mask_t_{ident}").set_value("pseudonymize").run()
    assert not at.exception
    key = at.session_state["masking_key"]
    stored = at.session_state["workspace"].to_json()
    assert "pseudonymize" in stored and key.hex() not in stored
    at.switch_page("pages/export.py").run()
    assert not at.exception
    hardening = at.session_state["hardening"][1]  # what Export exports: the current recipe
    assert key.hex() not in hardening.recipe.to_json() + repr(hardening)
    assert [s for s in hardening.recipe.steps if s.transform == "pseudonymize"]
    assert hardening.result.frame["fnlwgt"].str.len().eq(16).all()


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
    assert "a long enough passphrase" not in at.session_state["workspace"].to_json()


def test_encrypt_transform_on_the_page_uses_the_session_key(app):
    app.switch_page("pages/masking.py").run()
    app.selectbox(key="mask_t_0").set_value("encrypt").run()
    assert not app.exception
    assert not app.error


# --- the work survives navigation and a reload -------------------------------------------------


def _settings(at) -> dict:
    """Every editor widget's value and every figure the page shows."""
    n = len(at.session_state["dataset"].columns)
    shown = {f"t{i}": at.selectbox(key=f"mask_t_{i}").value for i in range(n)}
    shown |= {
        "qi": at.multiselect(key="mask_qi").value,
        "suppress": at.toggle(key="mask_suppress").value,
        "k": at.slider(key="mask_k").value,
        "mode": at.radio(key="mask_mode").value,
        "mapping": at.text_area(key=f"mask_p_{_col(at, 'education')}_group_mapping").value,
        "base": at.number_input(key=f"mask_p_{_col(at, 'hours-per-week')}_round_base").value,
    }
    shown |= {m.label: (m.value, m.proto.delta) for m in at.metric}
    shown["log"] = _log(at).to_dict()
    return shown


def _work(at) -> None:
    at.selectbox(key=f"mask_t_{_col(at, 'hours-per-week')}").set_value("round").run()
    at.number_input(key=f"mask_p_{_col(at, 'hours-per-week')}_round_base").set_value(5.0).run()
    at.selectbox(key=f"mask_t_{_col(at, 'sex')}").set_value("drop").run()
    at.selectbox(key=f"mask_t_{_col(at, 'education')}").set_value("group").run()  # a draft
    at.multiselect(key="mask_qi").set_value(["age", "sex", "race", "marital-status"]).run()
    at.toggle(key="mask_suppress").set_value(True).run()
    at.slider(key="mask_k").set_value(7).run()
    at.radio(key="mask_mode").set_value("records").run()
    assert not at.exception and not at.error


def _expected_recipe(at) -> list[Step]:
    return [
        Step(transform="bin_width", columns=("age",), params={"width": 10.0}),
        Step(transform="bin_width", columns=("education-num",), params={"width": 2.0}),
        Step(transform="drop", columns=("sex",), params={}),
        Step(transform="round", columns=("hours-per-week",), params={"base": 5.0}),
        Step(transform="suppress", columns=("age", "race", "marital-status"),
             params={"k": 7, "mode": "records"}),
    ]  # fmt: skip


def test_every_setting_survives_navigation_and_is_in_the_workspace(page):
    at = page
    _work(at)
    shown = _settings(at)
    assert shown["k"] == 7 and shown["suppress"] and shown["mode"] == "records"
    assert list(_recipe(at).steps) == _expected_recipe(at)
    options = at.session_state["workspace"].masking.options
    assert options["transform:education"] == "group"  # the draft is kept too
    for other in ("pages/export.py", "pages/risk.py", "pages/data.py"):
        at.switch_page(other).run()
        assert not at.exception
        at.switch_page(PAGE).run()
        assert not at.exception
        assert _settings(at) == shown, other
    assert list(_recipe(at).steps) == _expected_recipe(at)


def test_the_link_restores_the_page_as_left(page):
    at = page
    _work(at)
    shown = _settings(at)
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["ws"] = at.session_state["ws_token"]
    again.run()
    assert not again.exception
    again.switch_page(PAGE).run()
    assert not again.exception and not again.error
    assert _settings(again) == shown
    assert again.session_state["workspace"].recipe.current == _recipe(at)


def test_undo_and_redo_move_the_recipe_and_the_widgets(page):
    at = page
    i = _col(at, "hours-per-week")
    assert at.selectbox(key=f"mask_t_{i}").value == "keep"
    at.selectbox(key=f"mask_t_{i}").set_value("round").run()  # no base yet: not a step
    at.number_input(key=f"mask_p_{i}_round_base").set_value(5.0).run()
    at.toggle(key="mask_suppress").set_value(True).run()
    with_suppression = _recipe(at)
    at.button(key="mask_undo").click().run()
    assert not at.exception
    assert not at.toggle(key="mask_suppress").value
    assert at.selectbox(key=f"mask_t_{i}").value == "round"
    assert at.number_input(key=f"mask_p_{i}_round_base").value == 5.0
    assert all(s.transform != "suppress" for s in _recipe(at).steps)
    at.button(key="mask_undo").click().run()
    assert at.selectbox(key=f"mask_t_{i}").value == "keep"
    assert all(s.transform != "round" for s in _recipe(at).steps)
    at.button(key="mask_redo").click().run()
    at.button(key="mask_redo").click().run()
    assert not at.exception
    assert at.toggle(key="mask_suppress").value
    assert at.number_input(key=f"mask_p_{i}_round_base").value == 5.0
    assert _recipe(at) == with_suppression
    assert at.button(key="mask_redo").disabled
    # the history is in the workspace: it survives leaving the page
    at.switch_page("pages/export.py").run()
    at.switch_page(PAGE).run()
    at.button(key="mask_undo").click().run()
    assert not at.toggle(key="mask_suppress").value


# --- the column kinds from the Data page decide what is offered ---------------------------------


def _change_kind(at, column: str, kind: str) -> None:
    at.switch_page("pages/data.py").run()
    at.selectbox(key="data_kind_column").set_value(column)
    at.selectbox(key="data_kind_value").set_value(kind)
    at.button(key="FormSubmitter:data_kind_form-Change kind").click().run()
    assert not at.exception


NUMERIC_ONLY = {
    TRANSFORMS[t].label
    for t in ("bin_width", "bin_quantiles", "bin_edges", "round", "top_bottom", "dp_noise")
}


def test_column_kinds_decide_the_offered_transforms(page):
    at = page
    assert NUMERIC_ONLY <= set(at.selectbox(key=f"mask_t_{_col(at, 'education-num')}").options)
    assert not NUMERIC_ONLY & set(at.selectbox(key=f"mask_t_{_col(at, 'race')}").options)
    _change_kind(at, "education-num", "category")
    at.switch_page(PAGE).run()
    assert not at.exception
    offered = at.selectbox(key=f"mask_t_{_col(at, 'education-num')}").options
    assert not NUMERIC_ONLY & set(offered) and TRANSFORMS["group"].label in offered
    assert NUMERIC_ONLY <= set(at.selectbox(key=f"mask_t_{_col(at, 'age')}").options)
    # a recipe file that bins the column is refused, naming its kind
    doc = {
        "schema_version": 1,
        "steps": [
            {"transform": "cast", "column": "education-num", "params": {"kind": "category"}},
            {"transform": "round", "column": "education-num", "params": {"base": 2}},
        ],
    }
    at.file_uploader(key="mask_upload").upload(
        "r.json", json.dumps(doc).encode(), "application/json"
    ).run()
    assert any("'education-num' is category" in e.value for e in at.error)


def test_a_step_the_new_kind_does_not_take_leaves_the_recipe(page):
    at = page
    i = _col(at, "hours-per-week")
    at.selectbox(key=f"mask_t_{i}").set_value("round").run()
    at.number_input(key=f"mask_p_{i}_round_base").set_value(5.0).run()
    assert any(s.transform == "round" for s in _recipe(at).steps)
    _change_kind(at, "hours-per-week", "category")
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.selectbox(key=f"mask_t_{i}").value == "keep"
    assert all(s.transform != "round" for s in _recipe(at).steps)
    assert any("no longer fit their column's kind" in w.value for w in at.warning)
