"""Masking page (headless) on the awkward corpus: the suggested steps run on postal codes,
20-digit account numbers and infinities without an error, and distinct IDs stay distinct."""

from __future__ import annotations

import pytest

from tests.awkward_corpus import ACCOUNT, FILES


@pytest.mark.parametrize("name", ["awkward.csv", "awkward.parquet"])
def test_suggested_masking_runs_on_the_awkward_files(app, name):
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="data_upload").upload(name, FILES[name](), "application/octet-stream")
    app.run()
    assert not app.exception
    loaded = app.session_state["dataset"]
    assert loaded["account"].tolist()[0] == ACCOUNT

    app.switch_page("pages/masking.py").run()
    assert not app.exception and not app.error
    app.switch_page("pages/export.py").run()  # exports the current recipe, no hand-over
    assert not app.exception
    hardening = app.session_state["hardening"][1]
    steps = {c: s.transform for s in hardening.recipe.steps for c in s.columns}
    assert steps.get("account") == "pseudonymize"
    out = hardening.result.frame["account"]
    assert out.nunique() == loaded["account"].nunique() == len(loaded)  # none merged
    assert ACCOUNT not in out.astype(str).tolist()
