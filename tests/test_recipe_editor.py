"""The Masking page's editor as plain values: drafts to a recipe and back, kinds, hints."""

from __future__ import annotations

import pandas as pd
import pytest

from core import risk
from core.errors import RecipeError
from core.recipe import Recipe, Step
from core.recipe_editor import (
    KEEP,
    build_recipe,
    drafts_from_recipe,
    editable_steps,
    offered_transforms,
    risk_changes,
)

COLUMNS = ["age", "zip", "job", "born", "pay"]
KINDS = {"age": "integer", "zip": "text", "job": "category", "born": "date", "pay": "decimal"}

ROUND_TRIPS = [
    # one step of every kind of parameter the editor shows
    Step(transform="bin_edges", columns=("age",), params={"edges": [0.0, 18.5, 65.0]}),
    Step(transform="top_bottom", columns=("pay",), params={"upper": 1e6}),
    Step(transform="postal_prefix", columns=("zip",), params={"keep": 3, "fill": "*"}),
    Step(transform="group", columns=("job",), params={"mapping": {"a": "x", "b": "x"}}),
    Step(transform="date", columns=("born",),
         params={"unit": "age_band", "band_width": 10, "reference": "2024-12-31"}),
    Step(transform="pseudonymize", columns=("zip",),
         params={"length": 16, "secret": "pseudonym_key"}),
    Step(transform="pram", columns=("job",), params={"epsilon": 0.5, "categories": ["a", "b"]}),
    Step(transform="mask", columns=("zip",),
         params={"keep_first": 2, "keep_last": 0, "mask_char": "#"}),
]  # fmt: skip


@pytest.mark.parametrize("step", ROUND_TRIPS, ids=lambda s: s.transform)
def test_drafts_of_a_recipe_build_the_same_recipe(step):
    params = {"k": 4, "mode": "records"}
    suppress = Step(transform="suppress", columns=("age", "job"), params=params)
    recipe = Recipe(steps=(step, suppress), source_columns=tuple(COLUMNS)).checked()
    drafts = drafts_from_recipe(recipe, {"quasi_identifiers": ("age", "job")}, COLUMNS)
    built = build_recipe(drafts, COLUMNS, KINDS)
    assert built.recipe == recipe
    assert not built.errors and not built.pending


def test_a_dropped_quasi_identifier_stays_picked_but_leaves_the_suppression():
    drafts = {"transform:zip": "drop", "quasi_identifiers": ("age", "zip"), "suppress": True}
    built = build_recipe(drafts, COLUMNS, KINDS)
    assert built.quasi_identifiers == ("age", "zip")
    assert built.recipe.steps[-1].columns == ("age",)
    back = drafts_from_recipe(built.recipe, drafts, COLUMNS)
    assert back["quasi_identifiers"] == ("age", "zip")


@pytest.mark.parametrize(
    ("kind", "numeric"),
    [("integer", True), ("decimal", True), ("category", False), ("text", False),
     ("boolean", False), ("date", False), ("other", False)],
)  # fmt: skip
def test_numeric_only_transforms_are_offered_for_numbers_only(kind, numeric):
    offered = set(offered_transforms(kind))
    numeric_only = {"bin_width", "bin_quantiles", "bin_edges", "round", "top_bottom", "dp_noise"}
    assert (numeric_only <= offered) is numeric
    assert not (numeric_only & offered) or numeric
    assert {KEEP, "mask", "group", "pseudonymize", "drop"} <= offered
    assert "cast" not in offered  # kind changes are the Data page's


def test_a_transform_the_kind_does_not_take_is_kept_out():
    built = build_recipe({"transform:job": "round", "param:job:round:base": 5.0}, COLUMNS, KINDS)
    assert built.recipe.steps == ()


@pytest.mark.parametrize(
    ("transform", "hint"),
    [
        ("group", "Type a value for 'mapping'"),  # the walk-through's red error
        ("round", "Type a value for 'base'"),
        ("top_bottom", "a lower limit, an upper limit or both"),
        ("pram", "Type values for 'epsilon' and 'categories'"),
        ("mask_pattern", "Type a value for 'pattern'"),
    ],
)
def test_a_fresh_choice_waits_for_its_values_without_an_error(transform, hint):
    column = "age" if transform in ("round", "top_bottom") else "job"
    built = build_recipe({f"transform:{column}": transform}, COLUMNS, KINDS)
    assert hint in built.pending[column]
    assert not built.errors and built.recipe.steps == ()


def test_a_wrong_value_is_an_error_naming_the_column_not_the_value():
    drafts = {"transform:age": "bin_edges", "param:age:bin_edges:edges": "40, 20, secret9"}
    built = build_recipe(drafts, COLUMNS, KINDS)
    assert "'age'" in built.errors["age"] and "secret9" not in built.errors["age"]
    drafts["param:age:bin_edges:edges"] = "40, 20"
    assert "strictly increasing" in build_recipe(drafts, COLUMNS, KINDS).errors["age"]
    bad_map = {"transform:job": "group", "param:job:group:mapping": "a = x\nsecret"}
    assert "line 2 has no '='" in build_recipe(bad_map, COLUMNS, KINDS).errors["job"]


def test_editable_steps_refuses_what_the_editor_cannot_show():
    two = Recipe(steps=(Step(transform="drop", columns=("zip",)),) * 2)
    with pytest.raises(RecipeError, match="cannot be shown in this editor"):
        editable_steps(two, COLUMNS, KINDS)
    binned = Recipe(steps=(Step(transform="round", columns=("job",), params={"base": 2.0}),))
    with pytest.raises(RecipeError, match="'job' is category"):
        editable_steps(binned, COLUMNS, KINDS)
    cast = Step(transform="cast", columns=("zip",), params={"kind": "category"})
    with pytest.raises(RecipeError, match="Data page"):
        editable_steps(Recipe(steps=(cast,)), COLUMNS, KINDS)
    assert editable_steps(Recipe(steps=(cast,)), COLUMNS, KINDS, cast_steps=(cast,)).steps == ()


def test_risk_cards_compare_before_and_after_and_say_what_helps_privacy():
    df = pd.DataFrame({"a": [1, 1, 2, 3, 3, 3], "b": ["x", "x", "y", "z", "z", "w"]})
    before = risk.risk_summary(df, ["a", "b"])
    after = risk.risk_summary(df.assign(b="*"), ["a", "b"])
    k, uniques, at_risk, average = risk_changes(before, after)
    # by hand: classes before {1x:2, 2y:1, 3z:2, 3w:1}: k=1, 2 uniques, average
    # (2*1/2 + 1 + 2*1/2 + 1)/6 = 4/6; after {1:2, 2:1, 3:3}: k=1, 1 unique, average 3/6
    assert (k.value, k.delta, k.better) == ("1", None, None)
    assert (uniques.value, uniques.delta, uniques.better) == ("1", "-1", True)
    assert (average.value, average.delta, average.better) == ("50.00%", "-16.67 pp", True)
    assert at_risk.delta is None or at_risk.better is True
    worse = risk_changes(after, before)
    assert worse[1].delta == "+1" and worse[1].better is False
    same = risk_changes(before, before)
    assert all(c.delta is None and c.better is None for c in same)  # no "+0.00 pp" in red
