"""Export page (headless): the current recipe, its summary, secrets, the budget of noisy tables,
and settings kept in the workspace across navigation and a reload."""

from __future__ import annotations

import uuid

import pandas as pd

from core.export import recipe_summary
from core.recipe import Recipe, Step, apply

PAGE = "pages/export.py"
ENC = "ws:export.encryption"
FMT = "ws:export.format"
BUNDLE = "ws:export.bundle"
NEUTRALIZE = "ws:export.options.neutralize"
NOISE = Step(
    transform="dp_noise", columns=("age",), params={"epsilon": 1.0, "lower": 0, "upper": 100}
)


def _open(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _download(app):
    (btn,) = [b for b in app.get("download_button") if b.proto.id.endswith("export_download")]
    return btn


def _db():
    from core.workspace import BudgetBook, WorkspaceStore, default_db_path, load_or_create_secret

    path = str(default_db_path())
    return WorkspaceStore.open(path, secret=load_or_create_secret()), BudgetBook.open(path)


def set_recipe(app, recipe: Recipe) -> None:
    """What ``ui.state.set_recipe`` does: the recipe becomes current and the workspace is saved."""
    ws = app.session_state["workspace"]
    ws = ws.with_recipe(ws.recipe.change(recipe))
    store, _ = _db()
    store.save_state(app.session_state["ws_token"], state=ws.to_json().encode("utf-8"))
    app.session_state["workspace"] = ws


def _fresh_table(app) -> pd.DataFrame:
    """A table no other test has loaded (budgets are kept per table, across tests)."""
    frame = app.session_state["dataset"].iloc[:3000].assign(batch=uuid.uuid4().hex)
    app.session_state["dataset"] = frame
    return frame


def _fingerprint(app) -> str:
    return app.session_state["workspace"].dataset.fingerprint


def _suppression(frame) -> Recipe:
    return Recipe(
        steps=(
            Step(transform="round", columns=("age",), params={"base": 10}),
            Step(transform="suppress", columns=("age", "sex", "race"), params={"k": 5}),
        ),
        source_columns=tuple(frame.columns),
    )


def test_a_recipe_that_changes_nothing_says_so_and_exports_the_table_as_loaded(app):
    _open(app)
    assert any(
        "The recipe changes nothing: this exports the loaded table as is" in w.value
        for w in app.warning
    )
    assert app.dataframe  # the before/after risk table
    assert not _download(app).proto.disabled


def test_the_current_recipe_is_summarized_and_is_what_gets_exported(app):
    frame = app.session_state["dataset"]
    recipe = _suppression(frame)
    set_recipe(app, recipe)
    _open(app)
    expected = apply(frame, recipe)
    summary = recipe_summary(recipe, expected)  # counted in core (tests/test_export_summary.py)
    assert summary.cells_suppressed > 0 and summary.cells_changed > 0
    (text,) = [s.value for s in app.success]
    assert text.startswith(f"Exporting the current recipe: {summary.text()}. 32,561 rows")
    assert text.startswith("Exporting the current recipe: 2 steps, k = 5, ")
    assert not app.warning
    hard = app.session_state["hardening"][1]  # what the download builds from
    assert hard.recipe.steps == recipe.steps
    pd.testing.assert_frame_equal(hard.result.frame, expected.frame)


def test_the_export_after_navigation_is_the_recipe_set_on_masking(app):
    frame = app.session_state["dataset"]
    _open(app)
    recipe = _suppression(frame)
    set_recipe(app, recipe)
    app.switch_page("pages/masking.py").run()
    assert not app.exception
    app.switch_page("pages/risk.py").run()
    _open(app)
    hard = app.session_state["hardening"][1]
    # the workspace's current recipe (Masking may spell out defaults such as mode="cells")
    assert hard.recipe.steps == app.session_state["workspace"].recipe.current.steps
    assert [(s.transform, s.columns) for s in hard.recipe.steps] == [
        (s.transform, s.columns) for s in recipe.steps
    ]
    pd.testing.assert_frame_equal(hard.result.frame, apply(frame, recipe).frame)
    assert any("k = 5" in s.value for s in app.success)


def test_passphrase_must_be_repeated_before_download(app):
    _open(app)
    app.radio(key=ENC).set_value("passphrase").run()
    assert _download(app).proto.disabled
    app.text_input(key="export_pass").input("correct horse battery staple").run()
    app.text_input(key="export_pass2").input("correct horse battery stapl").run()
    assert any("differ" in e.value for e in app.error)
    assert _download(app).proto.disabled
    app.text_input(key="export_pass2").input("correct horse battery staple").run()
    assert not app.error
    assert not _download(app).proto.disabled
    assert "plenc" in _download(app).proto.label
    assert "correct horse" not in app.session_state["workspace"].to_json()


def test_generated_key_is_offered_once_generated(app):
    _open(app)
    app.radio(key=ENC).set_value("key").run()
    assert _download(app).proto.disabled
    app.button(key="export_genkey").click().run()
    assert not app.exception
    key = app.session_state["export_key"]
    assert len(key) == 32
    assert not _download(app).proto.disabled
    assert key.hex() not in app.session_state["workspace"].to_json()


def test_budget_spent_on_the_table_reaches_the_report(app):
    _fresh_table(app)
    _open(app)
    _, book = _db()
    book.ensure(_fingerprint(app), total_epsilon=2.0)
    book.spend(_fingerprint(app), "count of age", epsilon=0.5)
    _open(app)
    assert any("ε = 0.5" in m.value for m in app.markdown)


def test_a_noisy_table_without_a_budget_is_refused_with_a_message(app):
    frame = _fresh_table(app)
    _open(app)
    set_recipe(app, Recipe(steps=(NOISE,), source_columns=tuple(frame.columns)))
    _open(app)
    assert any("has no budget yet" in e.value for e in app.error)
    assert _download(app).proto.disabled
    assert not [b for b in app.button if b.key == "export_charge"]


def test_a_noisy_table_is_charged_once_when_it_first_leaves(app):
    frame = _fresh_table(app)
    _open(app)
    _, book = _db()
    fp = _fingerprint(app)
    book.ensure(fp, total_epsilon=2.5)
    set_recipe(app, Recipe(steps=(NOISE,), source_columns=tuple(frame.columns)))
    _open(app)
    assert _download(app).proto.disabled  # not paid for yet
    assert book.ledger(fp).entries == ()
    app.button(key="export_charge").click().run()
    assert not app.exception
    token = app.session_state["hardening"][1].token
    ledger = book.ledger(fp)
    assert [(e.label, e.epsilon) for e in ledger.entries] == [("DP noise (per record) on age", 1.0)]
    assert any(e.detail.get("hardening") == token for e in book.history(fp))
    assert not _download(app).proto.disabled
    app.switch_page("pages/risk.py").run()
    _open(app)  # the same table: not charged again
    assert len(book.ledger(fp).entries) == 1 and not _download(app).proto.disabled
    assert any("ε = 1" in m.value for m in app.markdown)


def test_a_noisy_table_over_the_budget_is_refused(app):
    frame = _fresh_table(app)
    _open(app)
    _, book = _db()
    book.ensure(_fingerprint(app), total_epsilon=0.5)
    set_recipe(app, Recipe(steps=(NOISE,), source_columns=tuple(frame.columns)))
    _open(app)
    assert any("budget" in e.value.lower() for e in app.error)
    assert _download(app).proto.disabled
    assert book.ledger(_fingerprint(app)).entries == ()


def _settings(app):
    return (
        app.selectbox(key=FMT).value,
        app.checkbox(key=BUNDLE).value,
        app.checkbox(key=NEUTRALIZE).value,
        app.radio(key=ENC).value,
        _download(app).proto.label,
        [s.value for s in app.success],
        [d.value.to_dict() for d in app.dataframe],  # the report's before/after table
    )


def _change_settings(app):
    set_recipe(app, _suppression(app.session_state["dataset"]))
    _open(app)
    app.checkbox(key=NEUTRALIZE).uncheck().run()  # a CSV option: set before leaving CSV
    app.selectbox(key=FMT).set_value("parquet").run()
    app.checkbox(key=BUNDLE).uncheck().run()
    app.radio(key=ENC).set_value("age").run()
    app.text_input(key="export_pass").input("quartz lantern orbit meadow").run()
    assert not app.exception
    return _settings(app)


def test_settings_survive_navigation_and_live_in_the_workspace(app):
    before = _change_settings(app)
    assert before[:5] == ("parquet", False, False, "age", "Download privlens-export.parquet.age")
    assert before[6] and "k = 5" in before[5][0]
    for page in ("pages/masking.py", "pages/risk.py", "pages/data.py"):
        app.switch_page(page).run()
        assert not app.exception
    _open(app)
    assert _settings(app) == before
    ws = app.session_state["workspace"]
    assert (ws.export.format, ws.export.bundle, ws.export.encryption) == ("parquet", False, "age")
    assert ws.export.options["neutralize"] is False
    assert "quartz lantern" not in ws.to_json()  # secrets are never kept
    assert app.text_input(key="export_pass").value == ""


def test_settings_and_recipe_come_back_from_the_link(app):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    before = _change_settings(app)
    at2 = AppTest.from_file(APP, default_timeout=60)
    at2.query_params["ws"] = app.session_state["ws_token"]
    at2.run()
    assert not at2.exception
    _open(at2)
    assert _settings(at2) == before
    assert at2.text_input(key="export_pass").value == ""  # the passphrase is not restored


def test_a_format_that_cannot_hold_the_table_is_refused_before_the_click(app):
    # A column mixing numbers and text: CSV holds it, Parquet would have to change it.
    mixed = pd.DataFrame({"code": [1, "x", 3], "age": [30, 40, 50]}, dtype=object)
    app.session_state["dataset"] = mixed
    app.session_state["roles"] = {}
    _open(app)
    assert not _download(app).proto.disabled  # CSV, the default, holds it
    app.selectbox(key=FMT).set_value("parquet").run()
    assert not app.exception
    assert any("code" in e.value and "Parquet" in e.value for e in app.error)
    assert _download(app).proto.disabled
    assert not any("passphrase (twice)" in c.value for c in app.caption)


def test_a_recipe_that_does_not_apply_shows_its_error_and_a_way_back(app):
    frame = app.session_state["dataset"]
    bad = Recipe(
        steps=(Step(transform="bin_width", columns=("sex",), params={"width": 5}),),
        source_columns=tuple(frame.columns),
    )
    set_recipe(app, bad)
    _open(app)
    assert app.error and "sex" in app.error[0].value
    assert not app.get("download_button")
