"""Export page (headless): size/time estimate for large tables, XLSX row limit checked early."""

from __future__ import annotations

import pandas as pd

from core.limits import EXPORT_ESTIMATE_MIN_ROWS


def _download(app):
    (btn,) = [b for b in app.get("download_button") if b.proto.id.endswith("export_download")]
    return btn


def _estimate_captions(app):
    return [c.value for c in app.caption if c.value.startswith("Large table")]


def test_small_table_shows_no_estimate(app):
    app.switch_page("pages/export.py").run()
    assert not app.exception
    assert _estimate_captions(app) == []


def test_large_table_shows_size_and_time_before_the_click(app):
    adult = app.session_state["dataset"]
    reps = -(-EXPORT_ESTIMATE_MIN_ROWS // len(adult))
    big = pd.concat([adult] * reps, ignore_index=True)
    app.session_state["dataset"] = big  # adopted into a workspace of its own on the next run
    app.session_state["roles"] = {"age": "quasi_identifier", "sex": "quasi_identifier"}
    app.switch_page("pages/export.py").run()
    assert not app.exception
    (text,) = _estimate_captions(app)
    assert f"Large table ({len(big):,} rows)" in text and " s after you click" in text
    # each size under its own name: the CSV file, and the zip bundle that holds it
    assert "The CSV file will be about" in text and "the zip bundle that holds it" in text
    assert "before zipping" not in text
    assert not _download(app).proto.disabled
    app.checkbox(key="ws:export.bundle").uncheck().run()
    (text,) = _estimate_captions(app)
    assert "The CSV file will be about" in text and "zip" not in text
    # choosing a passphrase hides the estimate until the download is possible, then shows it
    app.radio(key="ws:export.encryption").set_value("passphrase").run()
    assert _estimate_captions(app) == []
    app.text_input(key="export_pass").input("quartz lantern orbit meadow").run()
    app.text_input(key="export_pass2").input("quartz lantern orbit meadow").run()
    (text,) = _estimate_captions(app)
    assert "encrypted, the download is about" in text and not app.exception


def test_xlsx_over_the_sheet_limit_is_refused_before_the_click(app, monkeypatch):
    import core.export

    monkeypatch.setattr(core.export, "XLSX_MAX_ROWS", 1000)  # the Adult sample has 32,561
    app.switch_page("pages/export.py").run()
    app.selectbox(key="ws:export.format").set_value("xlsx").run()
    assert not app.exception
    assert any("at most 1,000 data rows" in e.value for e in app.error)
    assert _download(app).proto.disabled
