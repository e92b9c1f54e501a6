"""Text transforms on values a real file holds: infinities, integers past int64, odd names.

Every transform that works on the text form of a value (mask, pattern, group, date, prefix,
pseudonymize) must answer any column with a result or a ``PrivLensError``, and a column of
distinct identifiers must stay distinct after pseudonymization.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import masking as m
from core.errors import ColumnError, PrivLensError

KEY = bytes(range(32))
IDS = ["12345678901234567890", "12345678901234567891", "98765432109876543210"]

HOSTILE = {
    # float with infinities, all finite values whole numbers (the Int64 text path)
    "inf": pd.Series([1.0, np.inf, -np.inf, np.nan], name="x"),
    # float with infinities and fractions
    "inf_fraction": pd.Series([1.5, np.inf, -np.inf], name="x"),
    # 20-digit account numbers read as float64 (past int64)
    "big_float": pd.Series([1.2345678901234567e19, 1.2345678901234569e19, 2.0], name="x"),
    # the same numbers as Python ints in an object column
    "big_int_object": pd.Series([10**19 + 1, 10**19 + 2, 10**20], dtype=object, name="x"),
    # integers past 2**63 in an unsigned column
    "uint64": pd.Series(np.array([2**63 + 5, 2**63 + 6, 3], dtype="uint64"), name="x"),
    # 20-digit identifiers held as text (what the loader makes of them)
    "big_text": pd.Series(IDS, name="x"),
    # numbers and text in one column
    "mixed": pd.Series([1, "a", 2.5, None, 10**20], dtype=object, name="x"),
    # a categorical of floats with an infinity
    "inf_category": pd.Series([1.0, np.inf, 1.0], dtype="category", name="x"),
}

TRANSFORMS = {
    "mask": lambda s: m.mask_characters(s, keep_first=2),
    "pattern": lambda s: m.mask_pattern(s, pattern=r"\d"),
    "group": lambda s: m.group_categories(s, mapping={"inf": "infinite"}, other="Other"),
    "date": lambda s: m.generalize_date(s, unit="year"),
    "prefix": lambda s: m.truncate_prefix(s, keep=3),
    "pseudonymize": lambda s: m.pseudonymize(s, key=KEY),
}


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize("transform", TRANSFORMS)
def test_text_transforms_answer_hostile_columns(case, transform):
    s = HOSTILE[case]
    try:
        out = TRANSFORMS[transform](s)
    except PrivLensError as exc:
        # only the date transform may refuse (no value reads as a date), naming the column
        assert transform == "date" and "column 'x'" in str(exc)
        return
    assert len(out) == len(s) and out.index.equals(s.index)
    assert out.isna().tolist() == s.isna().tolist()  # missing stays missing, present stays


def test_infinities_have_a_text_form():
    out = m.truncate_prefix(HOSTILE["inf"], keep=10)
    assert out.tolist()[:3] == ["1", "inf", "-inf"] and pd.isna(out.iloc[3])
    assert m.truncate_prefix(HOSTILE["inf_fraction"], keep=5).tolist() == ["1.5", "inf", "-inf"]


@pytest.mark.parametrize("case", ["big_float", "big_int_object", "uint64", "big_text"])
def test_distinct_identifiers_get_distinct_pseudonyms(case):
    s = HOSTILE[case]
    out = m.pseudonymize(s, key=KEY, length=32)
    assert out.nunique() == s.nunique() == 3


def test_big_integers_keep_every_digit_in_their_text_form():
    assert m.truncate_prefix(HOSTILE["big_int_object"], keep=30).tolist() == [
        "10000000000000000001",
        "10000000000000000002",
        "100000000000000000000",
    ]
    assert m.truncate_prefix(HOSTILE["uint64"], keep=30).tolist()[0] == str(2**63 + 5)
    # a 20-digit ID as text and the same ID as a Python int give the same token
    as_int = m.pseudonymize(pd.Series([int(IDS[0])], dtype=object), key=KEY)
    assert as_int.tolist() == m.pseudonymize(pd.Series(IDS[:1]), key=KEY).tolist()


def test_whole_floats_still_print_as_integers():
    # the recipe's tokens depend on it: 10115.0 is "10115"
    assert m.truncate_prefix(pd.Series([10115.0, np.nan]), keep=9).tolist() == ["10115", np.nan]


# --- frames with names the loader never makes ---------------------------------------------

DUPLICATE = pd.DataFrame([[1, 2, 3], [1, 2, 3]], columns=["a", "a", "b"])
INTEGER_NAMES = pd.DataFrame([[1, 2], [1, 2], [3, 4]])

FRAME_CALLS = {
    "class_sizes": lambda df, cols: m.class_sizes(df, cols),
    "local_suppression": lambda df, cols: m.local_suppression(df, quasi_identifiers=cols, k=2),
    "record_suppression": lambda df, cols: m.local_suppression(
        df, quasi_identifiers=cols, k=2, mode="records"
    ),
    "microaggregate": lambda df, cols: m.microaggregate(df, columns=cols, k=2),
}


@pytest.mark.parametrize("call", FRAME_CALLS)
@pytest.mark.parametrize(
    ("frame", "cols", "match"),
    [
        (DUPLICATE, ["a"], "appears 2 times"),  # the chosen column is duplicated
        (DUPLICATE, ["b"], "appears 2 times"),  # another column is duplicated
        (INTEGER_NAMES, [0, 1], "names must be text"),
    ],
)
def test_frames_with_duplicate_or_non_text_names_get_a_column_error(call, frame, cols, match):
    with pytest.raises(ColumnError, match=match):
        FRAME_CALLS[call](frame, cols)


# --- numeric transforms at the ends of the float and integer ranges -------------------------


def test_record_and_cell_suppression_on_unsigned_integers_past_int64():
    s = pd.Series(np.array([2**64 - 1, 2**64 - 1, 5], dtype="uint64"))
    r = m.local_suppression(pd.DataFrame({"a": s}), quasi_identifiers=["a"], k=2)
    assert r.frame["a"].dtype == "UInt64" and r.cells_suppressed == {"a": 1}
    assert r.frame["a"].tolist()[:2] == [2**64 - 1, 2**64 - 1] and pd.isna(r.frame["a"][2])


def test_bin_width_refuses_values_too_far_from_the_origin_instead_of_wrapping():
    with pytest.raises(PrivLensError, match="larger width"):
        m.bin_width(pd.Series([1e300, 2e300]), width=10)
    assert m.bin_width(pd.Series([1e300, 1e300]), width=1e300).tolist() == [
        "[1e+300, 2e+300)"
    ] * 2


@pytest.mark.parametrize("standardize", [True, False])
def test_microaggregation_of_huge_values_matches_the_scaled_down_problem(standardize):
    x = np.array([1e300, 1.1e300, 1.2e300, -1e300, -1.1e300, -1.3e300])
    big = m.microaggregate(pd.DataFrame({"a": x}), columns=["a"], k=3, standardize=standardize)
    small = m.microaggregate(
        pd.DataFrame({"a": x / 1e300}), columns=["a"], k=3, standardize=standardize
    )
    assert big.group.tolist() == small.group.tolist()
    np.testing.assert_allclose(big.frame["a"] / 1e300, small.frame["a"], rtol=1e-12)
