"""The workspace model: validation, recipe undo/redo, settings, history, JSON round trip."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import WorkspaceError
from core.recipe import Recipe, Step
from core.workspace.model import (
    UNDO_DEPTH,
    ColumnMeta,
    DatasetMeta,
    RecipeHistory,
    ReleaseRecord,
    Workspace,
)

FP = "0f" * 32
DATASET = DatasetMeta(
    fingerprint=FP,
    name="adult.csv",
    n_rows=32561,
    columns=(
        ColumnMeta(name="age", kind="integer"),
        ColumnMeta(name="zip", kind="text"),
        ColumnMeta(name="income", kind="decimal"),
        ColumnMeta(name="urbrur", kind="category"),
    ),
)
ROUND = Step(transform="round", columns=("age",), params={"base": 5})
TOP = Step(transform="top_bottom", columns=("income",), params={"upper": 1e5})


def _full() -> Workspace:
    ws = Workspace().with_dataset(DATASET, {"age": "quasi_identifier", "zip": "identifier"})
    ws = ws.with_recipe(ws.recipe.add(ROUND).add(TOP).undo())
    ws = ws.with_setting("risk.quasi_identifiers", ["age", "urbrur"])
    ws = ws.with_setting("risk.k_threshold", 5)
    ws = ws.with_setting("risk.sampling_fraction", 0.01)
    ws = ws.with_setting("dp.column", "income")
    ws = ws.with_setting("dp.question", "mean")
    ws = ws.with_setting("dp.epsilon", 0.5)
    ws = ws.with_setting("dp.lower", 0.0)
    ws = ws.with_setting("dp.upper", 1e5)
    ws = ws.with_setting("export.format", "parquet")
    ws = ws.with_setting("risk.options", {"missing": "as a value"})
    ws = ws.record_release(
        ReleaseRecord(
            query="mean", column="income", mechanism="laplace", epsilon=0.5, delta=0.0, at=1.0
        )
    )
    return ws.record_export(format="parquet", encryption="passphrase", at=2.0)


def test_json_round_trip_keeps_everything():
    ws = _full()
    back = Workspace.from_json(ws.to_json())
    assert back == ws
    assert back.recipe.can_redo and back.recipe.current.steps == (ROUND,)
    assert back.risk.quasi_identifiers == ("age", "urbrur")
    assert back.dataset is not None and back.dataset.kinds["urbrur"] == "category"
    assert back.exports[0].recipe_digest == ws.recipe.digest()


def test_settings_are_kept_when_others_change():
    ws = _full()
    after = ws.with_setting("export.bundle", False).with_setting("dp.epsilon", 1.0)
    assert after.risk == ws.risk and after.recipe == ws.recipe


def test_undo_redo_walks_the_recipe_history():
    h = RecipeHistory().add(ROUND).add(TOP)
    assert [len(r.steps) for r in (h.current, h.undo().current, h.undo().undo().current)] == [
        2,
        1,
        0,
    ]
    assert h.undo().undo().undo() == h.undo().undo()  # nothing more to undo
    assert h.undo().redo() == h
    branched = h.undo().remove(0)
    assert not branched.can_redo  # a new change drops the undone recipes
    moved = h.move(1, 0)
    assert moved.current.steps == (TOP, ROUND)
    assert h.change(h.current) is h  # no change, no history entry


def test_undo_depth_is_bounded():
    h = RecipeHistory()
    for base in range(1, UNDO_DEPTH + 10):
        h = h.change(
            Recipe(steps=(Step(transform="round", columns=("a",), params={"base": base}),))
        )
    assert len(h.undo_stack) == UNDO_DEPTH


def test_an_invalid_recipe_step_is_refused():
    with pytest.raises(WorkspaceError, match="recipe change was not applied"):
        RecipeHistory().add(Step(transform="group", columns=("a",), params={}))


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        ("risk.k_threshold", 1, r"risk.k_threshold' must be in \[2, 100\]"),
        ("risk.k_threshold", 2.5, "whole number"),
        ("risk.max_risk", 1.5, "risk.max_risk"),
        ("dp.epsilon", 0.0, "dp.epsilon"),
        ("dp.question", "median of everything", "dp.question' must be one of count"),
        ("export.format", "exe", "export.format"),
        ("export.encryption", "rot13", "export.encryption"),
        ("risk.quasi_identifiers", ["age", "age"], "twice"),
        ("risk.quasi_identifiers", ["no such column"], "1 column"),
        ("dp.column", "salary", "dp.column"),
        ("risk.nope", 1, "Unknown workspace setting"),
        ("nope.k", 1, "Unknown workspace setting"),
        ("risk.options", {"x": [1, 2]}, "plain values"),
    ],
)
def test_bad_settings_raise_a_workspace_error(path, value, match):
    ws = Workspace().with_dataset(DATASET, {})
    with pytest.raises(WorkspaceError, match=match):
        ws.with_setting(path, value)


def test_bounds_must_be_ordered():
    with pytest.raises(WorkspaceError, match="below dp.upper"):
        Workspace().with_setting("dp.upper", 0.0).with_setting("dp.lower", 1.0)


def test_roles_must_be_known():
    with pytest.raises(WorkspaceError, match="roles"):
        Workspace().with_dataset(DATASET, {"age": "boss"})


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda d: d.update(schema_version=99), "schema version"),
        (lambda d: d.update(extra=1), "unknown field"),
        (lambda d: d["risk"].update(colour="red"), "unknown field"),
        (lambda d: d["dataset"].pop("fingerprint"), "fingerprint' is missing"),
        (lambda d: d["dataset"].update(fingerprint="xyz"), "64 hex digits"),
        (lambda d: d["recipe"]["current"]["steps"].append({"transform": "nope"}), "recipe"),
        (lambda d: d["releases"][0].update(epsilon="a lot"), "releases.epsilon"),
        (lambda d: d["releases"][0].pop("at"), "missing field"),
        (lambda d: d.update(roles=["age"]), "roles"),
    ],
)
def test_from_dict_refuses_bad_files(mutate, match):
    data = _full().to_dict()
    mutate(data)
    with pytest.raises(WorkspaceError, match=match):
        Workspace.from_dict(data)


def test_from_json_refuses_garbage_without_echoing_it():
    with pytest.raises(WorkspaceError, match="not valid JSON") as err:
        Workspace.from_json("{secret-value")
    assert "secret-value" not in str(err.value)
    with pytest.raises(WorkspaceError, match="JSON object"):
        Workspace.from_json(json.dumps([1]))


@settings(max_examples=50, deadline=None)
@given(
    k=st.integers(2, 100),
    eps=st.floats(0.01, 10.0),
    qis=st.lists(st.sampled_from(["age", "zip", "income", "urbrur"]), unique=True),
    fmt=st.sampled_from(["csv", "parquet", "xlsx", "json"]),
)
def test_round_trip_any_valid_settings(k, eps, qis, fmt):
    ws = (
        Workspace()
        .with_dataset(DATASET, {})
        .with_setting("risk.k_threshold", k)
        .with_setting("dp.epsilon", eps)
        .with_setting("risk.quasi_identifiers", qis)
        .with_setting("export.format", fmt)
    )
    assert Workspace.from_json(ws.to_json()) == ws


def test_page_options_keep_lists_and_survive_json():
    ws = _full().with_setting("correlations.options.columns", ["age", "income"])
    ws = ws.with_option("masking", "t:age", "round").with_setting("data.options.note", "x")
    back = Workspace.from_json(ws.to_json())
    assert back == ws
    assert back.option("correlations", "columns") == ("age", "income")
    assert back.masking.options["t:age"] == "round"


def test_anonymize_options_survive_json():
    ws = _full().with_setting("anonymize.options.qis", ["age", "sex"])
    ws = ws.with_option("anonymize", "k", 5).with_option("anonymize", "suppression", 0.02)
    back = Workspace.from_json(ws.to_json())
    assert back == ws
    assert back.option("anonymize", "qis") == ("age", "sex")
    assert back.anonymize.options["k"] == 5
    assert json.loads(ws.to_json())["anonymize"]["options"]["suppression"] == 0.02


@pytest.mark.parametrize(
    "value", [{"a": [1, 2]}, {"a": float("nan")}, {"a": {"nested": 1}}, {3: "x"}]
)
def test_page_options_refuse_values_that_are_not_plain(value):
    with pytest.raises(WorkspaceError, match="plain values"):
        Workspace().with_setting("masking.options", value)


def test_unknown_section_for_an_option_is_refused():
    with pytest.raises(WorkspaceError, match="Unknown workspace section"):
        Workspace().with_option("nope", "a", 1)


def test_casts_follow_the_dataset_kinds_and_survive_json():
    ws = _full().with_cast("urbrur", "integer").with_cast("zip", "category")
    assert ws.casts == (("urbrur", "integer", None), ("zip", "category", None))
    assert ws.dataset.kinds["urbrur"] == "integer" and ws.dataset.kinds["zip"] == "category"
    assert Workspace.from_json(ws.to_json()) == ws


def test_a_cast_of_a_column_the_table_lacks_is_refused():
    with pytest.raises(WorkspaceError, match="casts"):
        _full().with_cast("nope", "integer")
