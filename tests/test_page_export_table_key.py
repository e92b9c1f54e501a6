"""The Export page's cached report describes the table being exported, not an earlier one.

Two hardenings with the same recipe can give different tables (fresh PRAM or per-record
noise, a regenerated pseudonymization key). The report, the format check and the size
estimate are cached per hardened table (its token), never per recipe text.
"""

from __future__ import annotations

import pandas as pd

import core.report
from core.recipe import Recipe, Step
from tests.test_page_export import set_recipe

PAGE = "pages/export.py"
NOISE = Step(
    transform="dp_noise", columns=("age",), params={"epsilon": 1.0, "lower": 0, "upper": 100}
)


def _noisy(at) -> None:
    set_recipe(
        at, Recipe(steps=(NOISE,), source_columns=tuple(at.session_state["dataset"].columns))
    )


def test_a_new_hardening_with_the_same_recipe_gets_its_own_report(app, monkeypatch):
    seen: list[pd.DataFrame] = []
    build = core.report.build_report

    def recording(original, released, **kw):
        seen.append(released)
        return build(original, released, **kw)

    monkeypatch.setattr(core.report, "build_report", recording)
    at = app
    _noisy(at)
    tables = []
    for _ in range(2):
        at.switch_page(PAGE).run()
        assert not at.exception
        hard = at.session_state["hardening"][1]
        tables.append(hard.result.frame)
        assert seen and seen[-1] is hard.result.frame, "report of an earlier table"
        # a new pseudonymization key: the same recipe is applied again, with fresh noise
        at.session_state["masking_key_version"] = at.session_state["masking_key_version"] + 1
    assert not tables[0].equals(tables[1])
    assert len(seen) == 2


def test_the_same_hardening_is_not_rebuilt(app, monkeypatch):
    calls = []
    build = core.report.build_report
    monkeypatch.setattr(
        core.report, "build_report", lambda *a, **kw: calls.append(1) or build(*a, **kw)
    )
    at = app
    _noisy(at)
    at.switch_page(PAGE).run()
    at.run()
    at.switch_page("pages/risk.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception and len(calls) == 1
