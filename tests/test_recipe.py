from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import masking
from core.errors import PrivLensError, RecipeError
from core.recipe import (
    SCHEMA_VERSION,
    TRANSFORMS,
    Recipe,
    Step,
    apply,
    change_log,
    validate,
)

KEY = bytes(range(100, 132))
ADULT = Path(__file__).resolve().parents[1] / "data" / "adult.csv"


def frame():
    return pd.DataFrame(
        {
            "name": ["Ana Lima", "Björn Øst", "Chen Wei", "Ana Lima", None],
            "ssn": ["123-45-6789", "987-65-4321", "555-12-3456", "123-45-6789", ""],
            "age": [34, 45, 29, 52, 38],
            "zip": ["10115", "10117", "10119", "10115", "20095"],
            "income": [52_000.0, 61_000.0, np.nan, 90_000.0, 38_000.0],
        }
    )


FULL = Recipe(
    steps=(
        Step(transform="pseudonymize", columns=("name",), params={"length": 12}),
        Step(transform="mask", columns=("ssn",), params={"keep_last": 4}),
        Step(transform="bin_width", columns=("age",), params={"width": 10}),
        Step(transform="postal_prefix", columns=("zip",), params={"keep": 3}),
        Step(transform="round", columns=("income",), params={"base": 10_000}),
    ),
    source_columns=("name", "ssn", "age", "zip", "income"),
)


def test_json_round_trip_keeps_every_transform():
    steps = []
    examples = {
        "mask": {"keep_first": 1, "keep_last": 2, "mask_char": "#"},
        "mask_pattern": {"pattern": "\\d+", "replacement": "#"},
        "redact": {"label": "[gone]"},
        "replace": {"value": "Other", "include_missing": True},
        "drop": {},
        "pseudonymize": {"length": 20, "secret": "hr_key"},
        "bin_width": {"width": 5, "origin": 2.5},
        "bin_quantiles": {"q": 4},
        "bin_edges": {"edges": [18, 30, 65]},
        "round": {"base": 0.5},
        "top_bottom": {"lower": 0, "upper": 100},
        "date": {"unit": "age_band", "band_width": 5, "reference": "2024-12-31"},
        "postal_prefix": {"keep": 2, "fill": ""},
        "group": {"mapping": {"Divorced": "Single", "Zoë": "Ünïcode"}, "other": "Rest"},
        "suppress": {"k": 3, "mode": "records", "importance": ["b", "a"]},
        "microaggregate": {"k": 3, "standardize": False},
        "pram": {"epsilon": 1.5, "categories": ["a", "b"]},
        "dp_noise": {"epsilon": 1.0, "lower": 0, "upper": 10},
        "encrypt": {"context": "patients.id", "secret": "hr_key"},
        "cast": {"kind": "date", "date_format": "%d.%m.%Y"},
    }
    assert set(examples) == set(TRANSFORMS)  # every transform is covered here
    for name, params in examples.items():
        cols = ("a", "b") if TRANSFORMS[name].many else ("a",)
        steps.append(Step(transform=name, columns=cols, params=params))
    recipe = Recipe(steps=tuple(steps), source_columns=("a", "b"))
    text = recipe.to_json()
    again = Recipe.from_json(text)
    assert again == recipe.checked()
    assert again.to_json() == text
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["steps"][0] == {"transform": "mask", "column": "a", "params": examples["mask"]}
    assert data["steps"][14]["columns"] == ["a", "b"]


def _step(transform, column="a", **params):
    return {"transform": transform, "column": column, "params": params}


def _doc(*steps, version=SCHEMA_VERSION):
    return {"schema_version": version, "steps": list(steps)}


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        (_doc(version=2), "schema version 2 is not supported"),  # newer schema
        ({"steps": []}, "schema version None"),  # no version at all
        ([], "JSON object"),  # not an object
        ({**_doc(), "secret": "x"}, "Unknown recipe field"),
        (_doc(_step("blur")), "unknown transform 'blur'"),
        (_doc(_step("mask", key="abc")), "unknown parameter.*'key'"),
        (_doc(_step("mask", keep_first="2")), "keep_first' must be a whole number; got str"),
        (_doc(_step("mask", keep_first=-1)), "at least 0"),
        (_doc(_step("mask", mask_char="**")), "one character"),
        (_doc(_step("bin_width", width=0)), "width' must be above 0"),
        (_doc(_step("bin_width")), "'width' is required"),
        (_doc(_step("bin_quantiles", q=1)), "at least 2"),
        (_doc(_step("bin_edges", edges=[3, 1])), "strictly increasing"),
        (_doc(_step("mask_pattern", pattern="(?=x)")), "RE2"),
        (_doc(_step("pseudonymize", length=4)), "at least 8"),
        (_doc(_step("date", unit="week")), "one of year, month, age_band"),
        (_doc(_step("date", unit="age_band")), "reference"),
        (_doc(_step("date", unit="year", reference="31/12/2024")), "ISO date"),
        (_doc(_step("top_bottom")), "neither"),
        (_doc(_step("top_bottom", lower=5, upper=1)), "below"),
        (_doc(_step("pram", epsilon=0)), "at least 0.01"),
        (_doc(_step("dp_noise", epsilon=1.0, lower=5, upper=1)), "lower"),
        (_doc(_step("group", mapping={"a": 1})), "object of text to text"),
        (_doc({"transform": "suppress", "column": "a", "params": {"k": 0}}), "at least 1"),
        (_doc({"transform": "mask", "columns": ["a", "b"]}), "one column; got 2"),
        (_doc({"transform": "mask", "column": "a", "columns": ["a"]}), "not both"),
        (_doc({"transform": "mask"}), "names no column"),
        (_doc({"transform": "mask", "column": "a", "extra": 1}), "unknown field"),
        (
            _doc(
                {
                    "transform": "suppress",
                    "columns": ["a", "b"],
                    "params": {"k": 2, "importance": ["a"]},
                }
            ),
            "importance",
        ),
    ],
)
def test_each_validation_error(doc, match):
    with pytest.raises(RecipeError, match=match):
        Recipe.from_dict(doc)


def test_invalid_json_and_unknown_parameter_value_not_echoed():
    with pytest.raises(RecipeError, match="not valid JSON at line 1"):
        Recipe.from_json("{nope")
    hexkey = KEY.hex()
    with pytest.raises(RecipeError) as info:
        Recipe.from_json(json.dumps(_doc(_step("pseudonymize", key=hexkey))))
    assert hexkey not in str(info.value) and "--key-file" in str(info.value)


def test_missing_columns_are_all_named_and_other_dataset_is_mentioned():
    recipe = Recipe.from_json(FULL.to_json())
    other = frame().drop(columns=["ssn", "zip"]).rename(columns={"age": "AGE"})
    with pytest.raises(RecipeError) as info:
        validate(other, recipe)
    msg = str(info.value)
    assert "3 column(s)" in msg and "ssn, age, zip" in msg and "other columns" in msg


def test_type_and_order_problems_are_found_before_running():
    recipe = Recipe(
        steps=(
            Step(transform="bin_width", columns=("name",), params={"width": 5}),  # text column
            Step(transform="bin_width", columns=("age",), params={"width": 5}),
            Step(transform="round", columns=("age",), params={"base": 5}),  # text after binning
            Step(transform="drop", columns=("zip",)),
            Step(transform="mask", columns=("zip",)),  # already dropped
        )
    )
    with pytest.raises(RecipeError) as info:
        validate(frame(), recipe)
    msg = str(info.value)
    assert "3 problem(s)" in msg
    assert "'name' is text" in msg and "'age' is text after an earlier step" in msg
    assert "'zip', which an earlier step drops" in msg


def test_apply_and_change_log_hand_counted():
    df = frame()
    before = df.copy()
    res = apply(df, FULL, secrets={"pseudonym_key": KEY})
    assert df.equals(before)  # input untouched
    out = res.frame
    assert out["ssn"].tolist() == ["*******6789", "*******4321", "*******3456", "*******6789", ""]
    assert out["age"].tolist() == ["[30, 40)", "[40, 50)", "[20, 30)", "[50, 60)", "[30, 40)"]
    assert out["zip"].tolist() == ["101**", "101**", "101**", "101**", "200**"]
    assert out["name"].iloc[0] == out["name"].iloc[3] and out["name"].str.len().max() == 12
    log = {c.column: c for c in res.changes}
    # name: 4 present values changed, the missing one stays missing.
    assert (log["name"].cells_changed, log["name"].cells_suppressed) == (4, 0)
    # ssn: 4 masked; the empty string is unchanged.
    assert log["ssn"].cells_changed == 4
    # age: number -> interval label: all 5 changed.
    assert log["age"].cells_changed == 5
    # zip: all 5 get '**'.
    assert log["zip"].cells_changed == 5
    # income: 52k->50k, 61k->60k, 90k unchanged, 38k->40k, NaN stays: 3 changed.
    assert log["income"].cells_changed == 3 and log["income"].transforms == ("round",)
    assert res.records_removed == 0 and res.secure
    assert res.share_changed == pytest.approx((4 + 4 + 5 + 5 + 3) / 25)


def test_apply_suppression_drop_and_records():
    df = pd.DataFrame({"age": [30, 30, 30, 40, 40, 50], "sex": list("FFFMMF"), "x": range(6)})
    recipe = Recipe(
        steps=(
            Step(transform="drop", columns=("x",)),
            Step(transform="suppress", columns=("age", "sex"), params={"k": 3, "mode": "records"}),
        )
    )
    res = apply(df, recipe)
    assert list(res.frame.columns) == ["age", "sex"] and len(res.frame) == 3
    log = {c.column: c for c in res.changes}
    assert log["x"].dropped and res.records_removed == 3
    assert log["age"].cells_changed == 0
    cells = apply(
        df, Recipe(steps=(Step(transform="suppress", columns=("age", "sex"), params={"k": 2}),))
    )
    assert masking.class_sizes(cells.frame, ["age", "sex"]).min() >= 2
    assert sum(c.cells_suppressed for c in cells.changes) > 0


def test_pseudonymize_needs_its_secret_and_never_stores_it():
    with pytest.raises(RecipeError, match="'pseudonym_key' were not supplied"):
        apply(frame(), FULL)
    other = Recipe(
        steps=(Step(transform="pseudonymize", columns=("name",), params={"secret": "hr"}),)
    )
    res = apply(frame(), other, secrets={"hr": KEY})
    assert res.frame["name"].notna().sum() == 4
    assert other.secrets_needed() == ("hr",)
    for text in (other.to_json(), repr(other), repr(res.changes), " ".join(res.warnings)):
        assert KEY.hex() not in text and repr(KEY) not in text


def test_random_steps_use_the_csprng_by_default_and_flag_seeds():
    df = pd.DataFrame({"c": list("aabbc") * 20, "v": np.linspace(0, 10, 100)})
    recipe = Recipe(
        steps=(
            Step(
                transform="pram",
                columns=("c",),
                params={"epsilon": 1.0, "categories": ["a", "b", "c"]},
            ),
            Step(
                transform="dp_noise",
                columns=("v",),
                params={"epsilon": 1.0, "lower": 0, "upper": 10},
            ),
        )
    )
    res = apply(df, recipe)
    assert res.secure and set(res.frame["c"].unique()) <= {"a", "b", "c"}
    assert not np.allclose(res.frame["v"], df["v"])
    seeded = apply(df, recipe, source=1)
    assert not seeded.secure
    assert apply(df, recipe, source=1).frame.equals(seeded.frame)  # same seed, same output


def test_step_failure_names_the_step_not_the_value():
    df = pd.DataFrame({"d": ["secret-person-1", "secret-person-2"]})
    recipe = Recipe(steps=(Step(transform="date", columns=("d",), params={"unit": "year"}),))
    with pytest.raises(RecipeError) as info:
        apply(df, recipe)
    msg = str(info.value)
    assert msg.startswith("Step 1 (Generalize dates on d) failed") and "secret-person" not in msg


def test_leak_no_key_or_raw_value_in_recipe_logs_or_errors(caplog):
    df = frame()
    raw = [v for c in ("name", "ssn") for v in df[c].dropna() if v]
    progress: list[str] = []
    res = apply(
        df,
        FULL,
        secrets={"pseudonym_key": KEY},
        progress=lambda i, n, d: progress.append(f"{i}/{n} {d}"),
    )
    bad = Recipe(
        steps=(*FULL.steps, Step(transform="bin_width", columns=("ssn",), params={"width": 1}))
    )
    errors = []
    for attempt in (
        lambda: apply(df, bad, secrets={"pseudonym_key": KEY}),
        lambda: apply(df, FULL, secrets={"pseudonym_key": b"short"}),
        lambda: Recipe.from_json(
            FULL.to_json().replace('"keep_last": 4', '"key": "' + KEY.hex() + '"')
        ),
    ):
        with pytest.raises(PrivLensError) as info:
            attempt()
        errors.append(str(info.value))
    texts = [FULL.to_json(), *progress, *res.warnings, *errors, repr(res.changes), caplog.text]
    texts.append(res.frame[["name", "ssn"]].to_csv())
    blob = "\n".join(texts)
    for value in raw:
        hidden = value[:-4] if len(value) > 8 else value  # ssn: only the last 4 are kept
        assert hidden not in blob
    assert KEY.hex() not in blob and str(KEY) not in blob
    assert len(progress) == 5 and progress[0] == "1/5 Pseudonymize (keyed HMAC) on name"


def test_change_log_treats_kind_changes_and_missing():
    before = pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "b": ["x", "y", None, "z"]})
    after = pd.DataFrame({"a": ["1", None, "3", "4"], "b": pd.Categorical(["x", "Y", None, None])})
    # 1.0 -> "1" and 4.0 -> "4" keep their value in another kind: not changes; None -> "3"
    # gained a value; 2.0 -> None is suppressed
    assert change_log(before, after) == {"a": (1, 1), "b": (1, 1)}
    # a number that becomes other text (a mask, an interval) is a change
    assert change_log(before, after.assign(a=["1*", None, "3", "[0, 5)"])) == {
        "a": (3, 1),
        "b": (1, 1),
    }


@pytest.mark.skipif(not ADULT.exists(), reason="the Adult sample is not in data/")
def test_adult_recipe_reaches_k():
    from core.data import load

    df = load(ADULT, na_values=("?",)).frame
    qis = ["age", "sex", "race", "marital-status"]
    recipe = Recipe(
        steps=(
            Step(transform="bin_width", columns=("age",), params={"width": 10}),
            Step(
                transform="group",
                columns=("marital-status",),
                params={
                    "mapping": {
                        "Never-married": "Single",
                        "Divorced": "Single",
                        "Separated": "Single",
                        "Widowed": "Single",
                    },
                    "other": "Married",
                },
            ),
            Step(transform="suppress", columns=tuple(qis), params={"k": 5}),
        ),
        source_columns=tuple(df.columns),
    )
    res = apply(df, recipe)
    assert masking.class_sizes(res.frame, qis).min() >= 5
    log = {c.column: c for c in res.changes}
    assert log["age"].cells_changed + log["age"].cells_suppressed == len(df)
    assert sum(c.cells_suppressed for c in res.changes) < 0.01 * len(df)


@pytest.mark.parametrize(
    ("column", "values", "role", "expected"),
    [
        ("age", [17, 90, 30, 45, 50, 61, 22, 33, 44, 55, 66], "quasi_identifier",
         ("bin_width", {"width": 10.0})),  # span 73 -> 7.3 -> 10
        ("hours", list(range(1, 100)), "quasi_identifier", ("bin_width", {"width": 10.0})),
        ("income", [0.0, 0.1, 0.25] * 5 + [0.3, 0.05, 0.07, 0.12, 0.19, 0.21, 0.28, 0.29],
         "quasi_identifier", ("bin_width", {"width": 0.05})),  # span 0.3 -> 0.03 -> 0.05
        ("zip_code", ["10115"], "quasi_identifier", ("postal_prefix", {"keep": 3})),
        ("name", ["Ann"], "identifier", ("pseudonymize", {})),
        ("sex", ["F", "M"], "quasi_identifier", None),  # no mapping to guess: keep
        ("diagnosis", ["x"], "sensitive", None),
    ],
)  # fmt: skip
def test_suggest_step_from_roles(column, values, role, expected):
    from core.recipe import suggest_step

    step = suggest_step(column, pd.Series(values), role)
    got = None if step is None else (step.transform, dict(step.params))
    assert got == expected
    if step is not None:
        Recipe(steps=(step,)).checked()  # every suggestion validates


def test_encrypt_step_is_deterministic_joinable_and_reversible():
    from core.crypto import siv_decrypt_column
    from core.recipe import column_encryption_key

    frame = pd.DataFrame({"id": ["A17", "B02", "A17", None], "age": [30, 40, 50, 60]})
    other = pd.DataFrame({"id": ["B02", "C99"], "visits": [3, 1]})
    recipe = Recipe(
        steps=(Step(transform="encrypt", columns=("id",), params={"context": "patient-id"}),),
        source_columns=("id", "age"),
    )
    key = b"k" * 32
    out = apply(frame, recipe, secrets={"pseudonym_key": key})
    tokens = out.frame["id"]
    assert tokens[0] == tokens[2] and tokens[0] != tokens[1] and pd.isna(tokens[3])
    assert "A17" not in recipe.to_json() and "k" * 32 not in recipe.to_json()
    # joinable: the same key and context encrypt another table's column to the same tokens
    other_recipe = Recipe(steps=recipe.steps, source_columns=("id", "visits"))
    other_out = apply(other, other_recipe, secrets={"pseudonym_key": key}).frame
    joined = out.frame.merge(other_out, on="id")
    assert joined["age"].tolist() == [40] and joined["visits"].tolist() == [3]
    # reversible by the key holder, and not under another key
    back = siv_decrypt_column(tokens, column_encryption_key(key), context="patient-id")
    assert back.tolist()[:3] == ["A17", "B02", "A17"]
    other_key = apply(frame, recipe, secrets={"pseudonym_key": b"z" * 32}).frame["id"]
    assert other_key[0] != tokens[0]
    change = {c.column: c for c in out.changes}["id"]
    assert change.cells_changed == 3 and change.cells_suppressed == 0
