"""Export page (headless): the unhardened warning, passphrase checks, key generation."""

from __future__ import annotations

from core.recipe import Recipe, Step, apply
from ui.state import Hardening


def _open(app):
    app.switch_page("pages/export.py").run()
    assert not app.exception
    return app


def _download(app):
    (btn,) = [b for b in app.get("download_button") if b.proto.id.endswith("export_download")]
    return btn


def test_unhardened_export_warns_and_reports_risk(app):
    _open(app)
    assert any("as loaded" in w.value for w in app.warning)
    assert app.dataframe  # the before/after risk table
    assert not _download(app).proto.disabled


def test_passphrase_must_be_repeated_before_download(app):
    _open(app)
    app.radio(key="export_encryption").set_value("A passphrase").run()
    assert _download(app).proto.disabled
    app.text_input(key="export_pass").input("correct horse battery staple").run()
    app.text_input(key="export_pass2").input("correct horse battery stapl").run()
    assert any("differ" in e.value for e in app.error)
    assert _download(app).proto.disabled
    app.text_input(key="export_pass2").input("correct horse battery staple").run()
    assert not app.error
    assert not _download(app).proto.disabled
    assert "plenc" in _download(app).proto.label


def test_generated_key_is_offered_once_generated(app):
    _open(app)
    app.radio(key="export_encryption").set_value("A generated key").run()
    assert _download(app).proto.disabled
    app.button(key="export_genkey").click().run()
    assert not app.exception
    assert len(app.session_state["export_key"]) == 32
    assert not _download(app).proto.disabled


def test_hardened_table_is_what_gets_exported(app):
    frame = app.session_state["dataset"]
    recipe = Recipe(
        steps=(Step(transform="round", columns=("age",), params={"base": 10}),),
        source_columns=tuple(frame.columns),
    )
    app.session_state["hardening"] = Hardening(
        app.session_state["dataset_id"], recipe, apply(frame, recipe)
    )
    _open(app)
    assert any("hardened" in s.value for s in app.success)


def test_dp_budget_spent_on_the_dataset_reaches_the_report(app):
    from core.dp_budget import Ledger

    ledger = Ledger(total_epsilon=2.0).spend("count of age", epsilon=0.5)
    app.session_state["dp_ledgers"] = {app.session_state["dataset_id"]: ledger}
    _open(app)
    assert not app.exception
    assert any("ε = 0.5" in m.value for m in app.markdown)


def test_a_format_that_cannot_hold_the_table_is_refused_before_the_click(app):
    import pandas as pd

    # A column mixing numbers and text: CSV holds it, Parquet would have to change it.
    mixed = pd.DataFrame({"code": [1, "x", 3], "age": [30, 40, 50]}, dtype=object)
    app.session_state["dataset"] = mixed
    app.session_state["dataset_id"] = "mixed-kinds"
    app.session_state["hardening"] = None
    _open(app)
    assert not _download(app).proto.disabled  # CSV, the default, holds it
    app.selectbox(key="export_format").set_value("parquet").run()
    assert not app.exception
    assert any("code" in e.value and "Parquet" in e.value for e in app.error)
    assert _download(app).proto.disabled
    assert not any("passphrase (twice)" in c.value for c in app.caption)
