"""The Export page's cached report describes the table being exported, not an earlier one.

Two hardenings with the same recipe can give different tables (fresh PRAM or per-record
noise, a regenerated pseudonymization key). The report, the format check and the size
estimate are cached per hardened table, never per recipe text.
"""

from __future__ import annotations

import pandas as pd

import core.report
from core.recipe import Recipe, Step, apply
from ui.state import Hardening

PAGE = "pages/export.py"
NOISE = Recipe(
    steps=(
        Step(
            transform="dp_noise",
            columns=("age",),
            params={"epsilon": 1.0, "lower": 0, "upper": 100},
        ),
    )
)


def test_a_new_hardening_with_the_same_recipe_gets_its_own_report(app, monkeypatch):
    seen: list[pd.DataFrame] = []
    build = core.report.build_report

    def recording(original, released, **kw):
        seen.append(released)
        return build(original, released, **kw)

    monkeypatch.setattr(core.report, "build_report", recording)
    at = app
    ds = at.session_state["dataset_id"]
    df = at.session_state["dataset"]
    for seed in (1, 2):
        result = apply(df, NOISE, source=seed)
        at.session_state["hardening"] = Hardening(ds, NOISE, result)
        at.switch_page(PAGE).run()
        assert not at.exception
        assert seen and seen[-1] is result.frame, f"report of an earlier table (seed {seed})"
    assert not seen[0].equals(seen[-1])


def test_the_same_hardening_is_not_rebuilt(app, monkeypatch):
    calls = []
    build = core.report.build_report
    monkeypatch.setattr(
        core.report, "build_report", lambda *a, **kw: calls.append(1) or build(*a, **kw)
    )
    at = app
    h = Hardening(at.session_state["dataset_id"], NOISE, apply(at.session_state["dataset"], NOISE))
    at.session_state["hardening"] = h
    at.switch_page(PAGE).run()
    at.run()
    assert not at.exception and len(calls) == 1
