"""The risk after a recipe, counted on the patterns the recipe already grouped (the loaded
values' grouping mapped through value-wise steps, or the patterns a suppression left), is
the risk of the materialized hardened table counted record by record."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import codes, risk
from core.data import load
from core.recipe import Recipe, Step, apply

KEY = bytes(range(32))
SECRETS = {"pseudonym_key": KEY}
COLS = ("a", "b", "c", "d")
ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"

VALUE_STEPS = {
    "a": (("bin_width", {"width": 2}), ("top_bottom", {"lower": 1, "upper": 3}),
          ("round", {"base": 3})),
    "b": (("mask", {"keep_first": 1}), ("group", {"mapping": {"xa": "x", "xb": "x"}}),
          ("redact", {}), ("replace", {"value": "R", "include_missing": True})),
    "c": (("bin_edges", {"edges": [0.5, 2.5]}), ("round", {"base": 2})),
    "d": (("postal_prefix", {"keep": 1}), ("pseudonymize", {"length": 8})),
}  # fmt: skip


@st.composite
def tables(draw: st.DrawFn) -> pd.DataFrame:
    """Small domains with holes: classes of every size, suppression with work to do."""
    n = draw(st.integers(1, 60))

    def col(values: st.SearchStrategy, holes: bool) -> list:  # type: ignore[type-arg]
        return draw(st.lists(st.one_of(values, st.none()) if holes else values,
                             min_size=n, max_size=n))  # fmt: skip

    holes = draw(st.lists(st.booleans(), min_size=4, max_size=4))
    return pd.DataFrame(
        {
            "a": pd.array(col(st.integers(0, 5), holes[0]), dtype="Int64"),
            "b": pd.Series(col(st.sampled_from(["xa", "xb", "yc", "zz"]), holes[1]), dtype="str"),
            "c": pd.Series(col(st.sampled_from([0.0, 1.0, 2.5, 3.0]), holes[2]), dtype="float"),
            "d": pd.Series(col(st.sampled_from(["01", "02", "11"]), holes[3]), dtype="str"),
        }
    )


@st.composite
def recipes(draw: st.DrawFn) -> tuple[Recipe, tuple[str, ...], tuple[str, ...]]:
    """Value-wise steps, maybe a suppression over some columns, and the QIs to measure."""
    steps = []
    for c in draw(st.lists(st.sampled_from(COLS), max_size=4, unique=True)):
        name, params = draw(st.sampled_from(VALUE_STEPS[c]))
        steps.append(Step(transform=name, columns=(c,), params=params))
        if c in "bd" and draw(st.booleans()):  # a chain of two text steps
            name, params = draw(st.sampled_from(VALUE_STEPS[c]))
            steps.append(Step(transform=name, columns=(c,), params=params))
    sup: tuple[str, ...] = ()
    if draw(st.booleans()):
        sup = tuple(draw(st.permutations(COLS))[: draw(st.integers(1, 4))])
        params = {"k": draw(st.integers(2, 6)), "mode": draw(st.sampled_from(["cells",
                                                                              "records"]))}
        steps.append(Step(transform="suppress", columns=sup, params=params))
    pool = sup if sup and draw(st.booleans()) else COLS  # often the suppression's columns
    qis = tuple(draw(st.permutations(pool))[: draw(st.integers(1, len(pool)))])
    return Recipe(steps=tuple(steps)), sup, qis


def _assert_same_risk(h: object, qis: list[str]) -> None:
    frame = h.frame  # type: ignore[attr-defined]
    fast = risk.equivalence_classes(frame, qis, known_codes=h.column_codes)  # type: ignore[attr-defined]
    ref = risk.equivalence_classes(frame, qis)  # every record's values
    for field in ("class_id", "class_sizes", "class_fk", "class_has_missing"):
        assert np.array_equal(getattr(fast, field), getattr(ref, field)), field
    assert fast.warnings == ref.warnings
    a = risk.risk_summary(frame, qis, classes=fast)
    b = risk.risk_summary(frame, qis)
    for field in ("k", "n_classes", "sample_uniques", "below_2", "below_3", "below_5",
                  "marketer", "warnings"):  # fmt: skip
        assert getattr(a, field) == getattr(b, field), field
    assert a.prosecutor.average == b.prosecutor.average
    assert a.prosecutor.records_at_risk == b.prosecutor.records_at_risk
    assert np.array_equal(a.prosecutor.record_risk, b.prosecutor.record_risk)
    assert np.array_equal(a.individual.record_risk, b.individual.record_risk)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), recipes(), st.integers(2, 6))
def test_risk_from_patterns_equals_risk_of_the_table(
    frame: pd.DataFrame, case: tuple[Recipe, tuple[str, ...], tuple[str, ...]], k2: int
) -> None:
    recipe, sup, qis = case
    memo = codes.ColumnMemo("t")
    h = apply(frame, recipe, secrets=SECRETS, memo=memo, codes_for=qis)
    if h.frame.empty:
        return
    known = h.column_codes
    assert isinstance(known, codes.KnownCodes)
    # the patterns answer whenever the QIs are the suppression's or untouched by it
    expected = not sup or set(qis) <= set(sup) or not (set(qis) & set(sup)) and (
        recipe.steps[-1].params["mode"] == "cells")  # fmt: skip
    assert (known.grouping(qis) is not None) == expected
    _assert_same_risk(h, list(qis))
    # the same recipe with another k, from the patterns the memo kept
    if sup:
        last = recipe.steps[-1]
        again = Recipe(steps=(*recipe.steps[:-1], Step(transform="suppress", columns=sup,
                                                          params={**last.params, "k": k2})))
        h2 = apply(frame, again, secrets=SECRETS, memo=memo, codes_for=qis)
        if not h2.frame.empty:
            _assert_same_risk(h2, list(qis))


@pytest.fixture(scope="module")
def adult() -> pd.DataFrame:
    return load(ADULT, na_values=("?",)).frame


ADULT_QIS = ("age", "workclass", "education", "marital-status", "race", "sex")


@pytest.mark.parametrize(
    ("k", "mode"),
    [
        (5, "cells"),  # a few cells
        (30, "cells"),  # many cells, and records borrowed for the all-suppressed class
        (25, "records"),  # whole records removed
    ],
)
def test_risk_from_patterns_on_adult(adult: pd.DataFrame, k: int, mode: str) -> None:
    steps = (
        Step(transform="bin_width", columns=("age",), params={"width": 5}),
        Step(transform="group", columns=("workclass",),
             params={"mapping": {"Federal-gov": "Gov", "Local-gov": "Gov"}}),  # fmt: skip
        Step(transform="mask", columns=("education",), params={"keep_first": 3}),
        Step(transform="suppress", columns=ADULT_QIS, params={"k": k, "mode": mode}),
    )
    memo = codes.ColumnMemo("adult")
    for qis in (ADULT_QIS, ADULT_QIS[::-1], ("sex", "age")):
        h = apply(adult, Recipe(steps=steps), memo=memo, codes_for=qis)
        assert h.column_codes.grouping(qis) is not None  # type: ignore[attr-defined]
        _assert_same_risk(h, list(qis))
    # no suppression: the loaded values' grouping through the value-wise steps
    h = apply(adult, Recipe(steps=steps[:-1]), memo=memo, codes_for=ADULT_QIS)
    assert h.column_codes.grouping(ADULT_QIS) is not None  # type: ignore[attr-defined]
    _assert_same_risk(h, list(ADULT_QIS))
