"""AppTest: every Masking interaction (a transform's parameter, a transform, k, suppression
on and off) shows the figures of the row-by-row reference, though the page computes them
from per-column codes kept in the session."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import correlation, risk
from core.recipe import DEFAULT_SECRET, Recipe, apply
from core.recipe_editor import risk_changes

PAGE = "pages/masking.py"
QIS = ["age", "sex", "race", "education"]


def _col(at, name: str) -> int:
    return list(at.session_state["dataset"].columns).index(name)


def _check(at, before: risk.RiskSummary) -> None:
    """The hardened table, the change log and the risk cards equal the reference's."""
    assert not at.exception
    df = at.session_state["dataset"]
    _, h = at.session_state["hardening"]
    n_casts = len(at.session_state["workspace"].casts)
    user = Recipe(steps=h.recipe.steps[n_casts:], source_columns=h.recipe.source_columns)
    ref = apply(df, user, secrets={DEFAULT_SECRET: at.session_state["masking_key"]}, fast=False)
    pd.testing.assert_frame_equal(h.result.frame, ref.frame)
    assert h.result.changes == ref.changes
    assert h.result.records_changed == ref.records_changed
    kept = [q for q in QIS if q in ref.frame.columns]
    after = risk.risk_summary(ref.frame, kept)
    shown = {m.label: m.value for m in at.metric}
    for c in risk_changes(before, after):
        assert shown[c.label] == c.value, c.label


def _check_association(at) -> None:
    """The association change shown equals the whole matrices' before and after."""
    df = at.session_state["dataset"]
    frame = at.session_state["hardening"][1].result.frame
    roles = at.session_state["roles"]
    cols = [c for c in df.columns if c in frame.columns and roles[c] != "identifier"]
    a = np.abs(correlation.association_matrix(df, columns=cols).value)
    b = np.abs(correlation.association_matrix(frame, columns=cols).value)
    iu = np.triu_indices(len(cols), k=1)
    expected = float(np.nanmean(np.abs(a[iu] - b[iu])))
    shown = next(m.value for m in at.metric if m.label == "Mean |Δ association|")
    assert shown == f"{expected:.3f}"


def test_each_interaction_shows_the_reference_figures(app):
    at = app.switch_page(PAGE).run()
    at.multiselect(key="mask_qi").set_value(QIS).run()
    before = risk.risk_summary(at.session_state["dataset"], QIS)
    _check(at, before)
    age = _col(at, "age")
    at.number_input(key=f"mask_p_{age}_bin_width_width").set_value(5.0).run()  # a parameter
    _check(at, before)
    edu = _col(at, "education")
    at.selectbox(key=f"mask_t_{edu}").set_value("redact").run()  # a transform
    _check(at, before)
    _check_association(at)  # pairs of unchanged columns are not measured again
    at.toggle(key="mask_suppress").set_value(True).run()  # suppression on (k = default)
    _check(at, before)
    at.slider(key="mask_k").set_value(20).run()  # k
    _check(at, before)
    at.radio(key="mask_mode").set_value("records").run()  # whole records
    _check(at, before)
    at.toggle(key="mask_suppress").set_value(False).run()  # suppression off
    _check(at, before)
    _check_association(at)
    # the codes memo of the session answered: one per dataset and key
    assert at.session_state["column_memo"].token.startswith(at.session_state["dataset_id"])
