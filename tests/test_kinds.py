"""Column kinds and faithful casts (core.kinds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import CastError, ColumnError, InvalidParameterError, PrivLensError
from core.kinds import KINDS, TEXT_DTYPE, cast_column, column_kind, column_kinds


def _text(values):
    return pd.Series(values, dtype=TEXT_DTYPE)


def _cast(values, kind, **kw):
    frame = pd.DataFrame({"c": values})
    return cast_column(frame, "c", kind, **kw)


# --- reporting -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "kind"),
    [
        (_text(["02134", "00501"]), "text"),  # postal codes stay text
        (pd.Series([1, 2], dtype="int64"), "integer"),
        (pd.Series([1, None], dtype="Int64"), "integer"),  # nullable
        (pd.Series([2**64 - 1], dtype="uint64"), "integer"),
        (pd.Series([1.5, np.inf]), "decimal"),
        (pd.Series([True, False]), "boolean"),
        (pd.Series([True, None], dtype="boolean"), "boolean"),
        (pd.Series(pd.to_datetime(["2024-01-01"])), "date"),
        (pd.Series(pd.to_datetime(["2024-01-01T10:00+02:00"])), "date"),  # tz-aware
        (pd.Series(["a", "b"], dtype="category"), "category"),
        (pd.Series([7, "x"], dtype=object), "text"),  # mixed Python values (JSON)
        (pd.Series([10**20, 3], dtype=object), "integer"),  # Python ints of any size
        (pd.Series([1, 2.5], dtype=object), "decimal"),
        (pd.Series([None, None], dtype=object), "text"),  # nothing to go by
        (pd.Series(pd.to_timedelta(["1D"])), "other"),  # durations are none of the six
    ],
)
def test_column_kind(series, kind):
    assert column_kind(series) == kind


def test_column_kinds_reads_columns_by_position():
    frame = pd.DataFrame([[1, "x", 2.5]], columns=["a", "a", 0])  # duplicate and int names
    kinds = column_kinds(frame)
    assert [(k.column, k.kind) for k in kinds] == [
        ("a", "integer"),
        ("a", "text"),
        ("0", "decimal"),
    ]
    assert kinds[2].dtype == "float64"


# --- casts that keep every value ------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind", "expected", "dtype"),
    [
        (["7", "-12", None], "integer", [7, -12, pd.NA], "Int64"),
        (["0", "9223372036854775807"], "integer", [0, 2**63 - 1], "int64"),  # int64 edge
        (["-9223372036854775808"], "integer", [-(2**63)], "int64"),
        (
            ["1.5", "-0.25", "1e3", "inf", "-inf"],
            "decimal",
            [1.5, -0.25, 1e3, np.inf, -np.inf],
            "float64",
        ),
        (["0.1", "0.30000000000000004"], "decimal", [0.1, 0.30000000000000004], "float64"),
        (["9007199254740992"], "decimal", [2.0**53], "float64"),  # 2**53 is exact
        (
            ["true", "False", "YES", "n", None],
            "boolean",
            [True, False, True, False, pd.NA],
            "boolean",
        ),
        (["1", "0"], "boolean", [True, False], "bool"),
        (["x", "y", "x"], "category", ["x", "y", "x"], "category"),
    ],
)
def test_text_casts_keep_values(values, kind, expected, dtype):
    r = _cast(_text(values), kind)
    assert r.changed and r.previous == "text" and r.kind == kind
    out = r.frame["c"]
    assert str(out.dtype) == dtype
    assert [None if pd.isna(v) else v for v in out] == [None if v is pd.NA else v for v in expected]


def test_iso_dates_with_one_offset_keep_it():
    r = _cast(_text(["2024-03-01T10:00:00+01:00", "2024-07-01T23:59:59+01:00", None]), "date")
    out = r.frame["c"]
    assert str(out.dt.tz) == "UTC+01:00"
    assert out[0] == pd.Timestamp("2024-03-01T09:00:00Z")
    assert out.isna().tolist() == [False, False, True]
    assert not r.warnings


def test_mixed_offsets_become_utc_with_a_warning():
    r = _cast(_text(["2024-01-01T10:00:00+01:00", "2024-01-01T10:00:00+02:00"]), "date")
    assert str(r.frame["c"].dt.tz) == "UTC"
    assert r.frame["c"].tolist() == [
        pd.Timestamp("2024-01-01T09:00Z"),
        pd.Timestamp("2024-01-01T08:00Z"),
    ]
    assert "different UTC offsets" in r.warnings[0]


def test_date_format_reads_local_dates():
    r = _cast(_text(["31.12.2024", "01.02.2023"]), "date", date_format="%d.%m.%Y")
    assert r.frame["c"].tolist() == [pd.Timestamp("2024-12-31"), pd.Timestamp("2023-02-01")]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        (pd.Series([7, 2**63 - 1]), ["7", "9223372036854775807"]),  # no float detour
        (pd.Series([1, None], dtype="Int64"), ["1", None]),
        (pd.Series([1.5, np.inf, -np.inf, 3.0, np.nan]), ["1.5", "inf", "-inf", "3.0", None]),
        (pd.Series([True, False]), ["True", "False"]),
        (pd.Series(pd.to_datetime(["2024-01-01", "2024-02-03"])), ["2024-01-01", "2024-02-03"]),
        (
            pd.Series(pd.to_datetime(["2024-01-01T10:00+02:00"])),
            ["2024-01-01 10:00:00+02:00"],
        ),
        (pd.Series(["007", "x", None], dtype="category"), ["007", "x", None]),
        (pd.Series([7, "x", 1.5, None], dtype=object), ["7", "x", "1.5", None]),
        (pd.Series([10**20], dtype=object), ["100000000000000000000"]),
    ],
)
def test_anything_becomes_text(series, expected):
    r = cast_column(pd.DataFrame({"c": series}), "c", "text")
    out = r.frame["c"]
    assert out.dtype == TEXT_DTYPE
    assert [None if pd.isna(v) else v for v in out] == expected


def test_decimal_and_integer_convert_when_exact():
    assert _cast(pd.Series([1.0, -3.0, np.nan]), "integer").frame["c"].tolist() == [1, -3, pd.NA]
    assert _cast(pd.Series([5, 2**53]), "decimal").frame["c"].tolist() == [5.0, 2.0**53]
    assert _cast(pd.Series([0, 1, 1]), "boolean").frame["c"].tolist() == [False, True, True]


def test_same_kind_is_a_no_op():
    frame = pd.DataFrame({"c": _text(["007"])})
    r = cast_column(frame, "c", "text")
    assert r.frame is frame and not r.changed and not r.warnings


def test_input_frame_is_not_modified():
    frame = pd.DataFrame({"c": _text(["1", "2"]), "d": ["x", "y"]})
    r = cast_column(frame, "c", "integer")
    assert frame["c"].tolist() == ["1", "2"]
    assert r.frame["d"].tolist() == ["x", "y"]
    assert list(r.frame.columns) == ["c", "d"]


def test_blank_text_becomes_missing_with_a_count():
    r = _cast(_text(["1", "", "  ", None]), "integer")
    assert r.frame["c"].isna().tolist() == [False, True, True, True]
    assert "2 empty text value(s) became missing" in r.warnings[0]


def test_rewritten_numbers_are_counted():
    r = _cast(_text(["+5", " 6", "7"]), "integer")
    assert r.frame["c"].tolist() == [5, 6, 7]
    assert "2 value(s) keep their whole-number value" in r.warnings[0]


# --- refusals --------------------------------------------------------------------------------

SECRET = "4929123456781234"  # a value that must never reach a message


@pytest.mark.parametrize(
    ("values", "kind", "match"),
    [
        # leading zeros: postal codes and IDs would lose digits
        (["02134", "00501", "10115", SECRET], "integer", "2 value.*leading zeros"),
        (["007", "7", "x", SECRET], "integer", "1 value.*not whole numbers; 1 value.*leading"),
        (["007.5", SECRET], "decimal", "1 value.*leading zeros"),
        # 20-digit identifiers: beyond int64 and beyond float64
        (["12345678901234567890", "12345678901234567891", SECRET], "integer", "2 value.*64-bit"),
        (["12345678901234567890", SECRET], "decimal", "1 value.*more digits"),
        (["1.5", SECRET], "integer", "1 value.*not whole numbers"),
        (["1,5", SECRET], "decimal", "1 value.*not numbers"),
        (["maybe", "yes", SECRET], "boolean", "2 value.*not true/false"),
        (["2024-13-45", "2024-01-01", SECRET], "date", "2 value.*not dates"),
        (["2024-01-01T10:00+01:00", "2024-01-01T10:00", SECRET], "date", "carry a UTC offset"),
    ],
)
def test_text_casts_that_would_lose_data_are_refused(values, kind, match):
    with pytest.raises(CastError, match=match) as info:
        _cast(_text(values), kind)
    msg = str(info.value)
    assert "Column 'c' cannot become " + kind in msg
    assert SECRET not in msg
    for v in values:
        if len(v) > 3:
            assert v not in msg


@pytest.mark.parametrize(
    ("series", "kind", "match"),
    [
        (pd.Series([1.5, 2.0]), "integer", "1 value.*fractional"),
        (pd.Series([np.inf, 2.0]), "integer", "1 value.*infinite"),
        (pd.Series([1e19]), "integer", "64-bit"),
        (pd.Series([2**53 + 1, 3]), "decimal", "1 value.*2\\*\\*53"),
        (pd.Series([10**20], dtype=object), "decimal", "2\\*\\*53"),
        (pd.Series([0, 2]), "boolean", "1 value.*neither 0 nor 1"),
        (pd.Series([True, False]), "integer", "holds boolean values"),
        (pd.Series(pd.to_datetime(["2024-01-01"])), "decimal", "holds date values"),
        (pd.Series([20240101]), "date", "holds integer values"),
        (pd.Series(pd.to_timedelta(["1D"])), "integer", "holds other values"),
    ],
)
def test_kind_changes_that_do_not_convert_are_refused(series, kind, match):
    with pytest.raises(CastError, match=match):
        cast_column(pd.DataFrame({"c": series}), "c", kind)


def test_category_casts_through_its_values():
    cat = pd.Series(["7", "12", None], dtype="category")
    assert _cast(cat, "integer").frame["c"].tolist() == [7, 12, pd.NA]
    with pytest.raises(CastError, match="leading zeros"):
        _cast(pd.Series(["07"], dtype="category"), "integer")


def test_bad_arguments():
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(InvalidParameterError, match="kind must be one of text, integer"):
        cast_column(frame, "a", "float")
    with pytest.raises(ColumnError, match="2 columns are named 'a'"):
        cast_column(frame, "a", "text")
    with pytest.raises(ColumnError, match="'b' is not in the data"):
        cast_column(frame, "b", "text")
    with pytest.raises(InvalidParameterError, match="date_format"):
        _cast(_text(["x"]), "date", date_format="")


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), min_size=1))
def test_integers_survive_text_and_back(values):
    original = pd.Series(values, dtype="Int64")
    text = cast_column(pd.DataFrame({"c": original}), "c", "text").frame
    back = cast_column(text, "c", "integer").frame["c"]
    assert back.astype("Int64").equals(original)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=False)), min_size=1))
def test_decimals_survive_text_and_back(values):
    original = pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    text = cast_column(pd.DataFrame({"c": original}), "c", "text").frame
    back = cast_column(text, "c", "decimal").frame["c"]
    np.testing.assert_array_equal(back.to_numpy(), original.to_numpy())


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text(max_size=6)), min_size=1),
    st.sampled_from(KINDS),
)
def test_any_text_gets_a_result_or_a_cast_error_without_values(values, kind):
    frame = pd.DataFrame({"c": _text(values)})
    try:
        r = cast_column(frame, "c", kind)
    except PrivLensError as exc:
        assert isinstance(exc, CastError)
        msg = str(exc).split(":", 1)[1]  # after "Column 'c' cannot become kind"
        for v in values:
            if v is not None and len(v) >= 3 and not v.isspace():
                assert f"'{v}'" not in msg
        return
    out = r.frame["c"]
    assert len(out) == len(values)
    # Missing stays missing; a present value is kept unless it was blank.
    for before, after in zip(values, out, strict=True):
        if before is None:
            assert pd.isna(after)
        elif before.strip():
            assert not pd.isna(after)


# --- the recipe step -----------------------------------------------------------------------


def test_cast_step_is_replayed_by_the_recipe_before_later_steps():
    from core.recipe import Recipe, apply

    frame = pd.DataFrame({"zip": _text(["02134", "00501"]), "age": _text(["34", "45"])})
    recipe = Recipe.from_dict(
        {
            "schema_version": 1,
            "steps": [
                {"transform": "cast", "column": "age", "params": {"kind": "integer"}},
                {"transform": "bin_width", "column": "age", "params": {"width": 10}},
                {"transform": "cast", "column": "zip", "params": {"kind": "category"}},
            ],
        }
    )
    result = apply(frame, recipe)
    assert result.frame["age"].tolist() == ["[30, 40)", "[40, 50)"]
    assert result.frame["zip"].dtype == "category"
    assert result.frame["zip"].tolist() == ["02134", "00501"]
    assert Recipe.from_json(recipe.to_json()) == recipe


def test_cast_step_kind_follows_into_validation():
    from core.errors import RecipeError
    from core.recipe import Recipe, Step, validate

    frame = pd.DataFrame({"age": pd.Series([34, 45])})
    to_text = Step(transform="cast", columns=("age",), params={"kind": "text"})
    binned = Step(transform="bin_width", columns=("age",), params={"width": 10})
    with pytest.raises(RecipeError, match="needs a numeric column, but 'age' is text"):
        validate(frame, Recipe(steps=(to_text, binned)))
    text_frame = pd.DataFrame({"age": _text(["34", "45"])})
    to_int = Step(transform="cast", columns=("age",), params={"kind": "integer"})
    validate(text_frame, Recipe(steps=(to_int, binned)))  # numeric after the cast


def test_cast_step_that_would_lose_data_fails_with_the_step_named():
    from core.errors import RecipeError
    from core.recipe import Recipe, Step, apply

    frame = pd.DataFrame({"zip": _text(["02134", SECRET])})
    recipe = Recipe(steps=(Step(transform="cast", columns=("zip",), params={"kind": "integer"}),))
    with pytest.raises(RecipeError, match="Step 1 .*failed: Column 'zip' cannot become integer"):
        apply(frame, recipe)


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({}, "'kind' is required"),
        ({"kind": "float"}, "must be one of text, integer"),
        ({"kind": "date", "date_format": 5}, "must be text"),
    ],
)
def test_cast_step_parameters_are_checked(params, match):
    from core.errors import RecipeError
    from core.recipe import Recipe

    doc = {"schema_version": 1, "steps": [{"transform": "cast", "column": "a", "params": params}]}
    with pytest.raises(RecipeError, match=match):
        Recipe.from_dict(doc)


def test_cli_harden_replays_cast_steps(tmp_path):
    import io
    import json

    from core.cli import main

    src = tmp_path / "people.csv"
    src.write_text("member,joined\nyes,31.12.2024\nno,01.02.2023\n", encoding="utf-8")
    recipe = tmp_path / "recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "steps": [
                    {"transform": "cast", "column": "member", "params": {"kind": "boolean"}},
                    {
                        "transform": "cast",
                        "column": "joined",
                        "params": {"kind": "date", "date_format": "%d.%m.%Y"},
                    },
                ],
            }
        )
    )
    out_path = tmp_path / "out.csv"
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["harden", str(src), "--recipe", str(recipe), "-o", str(out_path)], stdout=out, stderr=err
    )
    assert code == 0, err.getvalue()
    import csv

    rows = list(csv.reader(out_path.read_text().splitlines()))
    # The command line writes booleans and timestamps in its own spelling; the values are
    # the cast ones (a boolean, a date), not the text of the source.
    assert [[cell.lower()[:10] for cell in row] for row in rows] == [
        ["member", "joined"],
        ["true", "2024-12-31"],
        ["false", "2023-02-01"],
    ]
