from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import masking as m
from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.limits import PSEUDONYM_KEY_MIN_BYTES

KEY = bytes(range(32))


def s(*values, dtype=None):
    return pd.Series(list(values), dtype=dtype, name="col")


# --- masking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "first", "last", "expected"),
    [
        ("4111222233334444", 0, 4, "************4444"),  # card: last four
        ("alice", 1, 1, "a***e"),
        ("ab", 1, 1, "**"),  # too short to keep 2: fully masked, never revealed
        ("a", 1, 0, "*"),
        ("", 2, 2, ""),  # empty stays empty
        ("Zoë Ñúñez", 1, 0, "Z********"),  # code points, not bytes
        ("日本語テキスト", 1, 1, "日*****ト"),
        ("abc", 0, 0, "***"),
    ],
)
def test_mask_characters_cases(value, first, last, expected):
    out = m.mask_characters(s(value), keep_first=first, keep_last=last)
    assert out.tolist() == [expected]


def test_mask_characters_keeps_missing_index_and_name():
    src = pd.Series(["abcd", None, np.nan], index=[10, 20, 30], name="email")
    out = m.mask_characters(src, keep_first=1, mask_char="#")
    assert out.index.tolist() == [10, 20, 30] and out.name == "email"
    assert out.iloc[0] == "a###" and out.iloc[1:].isna().all()
    assert src.iloc[0] == "abcd"  # input untouched


def test_mask_characters_numbers_use_their_text_form():
    out = m.mask_characters(pd.Series([10115.0, np.nan, 20095.0]), keep_first=2)
    assert out.tolist()[0] == "10***" and pd.isna(out.iloc[1])


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), min_size=1, max_size=30))
@settings(max_examples=60, deadline=None)
def test_mask_characters_keeps_length_and_missing(values):
    src = pd.Series(values, dtype="str")
    out = m.mask_characters(src, keep_first=2, keep_last=1)
    assert out.isna().tolist() == src.isna().tolist()
    for a, b in zip(src.dropna(), out.dropna(), strict=True):
        assert len(a) == len(b)
        if len(a) > 3:
            assert b[:2] == a[:2] and b[-1] == a[-1] and set(b[2:-1]) <= {"*"}
        else:
            assert set(b) <= {"*"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keep_first": -1},
        {"keep_last": 1.5},
        {"mask_char": "**"},
        {"mask_char": ""},
        {"keep_first": True},
    ],
)
def test_mask_characters_bad_parameters(kwargs):
    with pytest.raises(InvalidParameterError):
        m.mask_characters(s("abc"), **kwargs)


def test_mask_pattern_digits_and_runs():
    src = s("Tel. 0301 2345", "", None, "no digits")
    each = m.mask_pattern(src, pattern=r"\d")
    assert each.iloc[0] == "Tel. **** ****" and each.iloc[1] == "" and pd.isna(each.iloc[2])
    runs = m.mask_pattern(src, pattern=r"[0-9]+", replacement="#")
    assert runs.iloc[0] == "Tel. # #" and runs.iloc[3] == "no digits"


@pytest.mark.parametrize("pattern", ["", "(\\d", "(?=a)b", 5])
def test_mask_pattern_rejects_bad_patterns(pattern):
    with pytest.raises(InvalidParameterError, match="pattern"):
        m.mask_pattern(s("x"), pattern=pattern)


def test_redact_and_replace():
    src = s("alice", "", None)
    assert m.redact(src).tolist() == ["[REDACTED]", "[REDACTED]", np.nan]
    assert m.replace(src, value="X", include_missing=True).tolist() == ["X", "X", "X"]
    assert m.replace(s(1, 2), value="Other").tolist() == ["Other", "Other"]
    with pytest.raises(InvalidParameterError):
        m.replace(src, value=3)


# --- pseudonymization ----------------------------------------------------------------------


def test_pseudonymize_matches_rfc4231_test_case_1():
    # RFC 4231 section 4.2: key = 20 x 0x0b, data = "Hi There".
    expected = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    out = m.pseudonymize(s("Hi There"), key=b"\x0b" * 20, length=64)
    assert out.tolist() == [expected]
    assert m.pseudonymize(s("Hi There"), key=b"\x0b" * 20).tolist() == [expected[:16]]


def test_pseudonyms_stable_under_one_key_different_under_another():
    src = s("alice", "bob", "alice", None, "", "Zoë")
    a1 = m.pseudonymize(src, key=KEY)
    a2 = m.pseudonymize(src.sample(frac=1.0, random_state=1), key=KEY).loc[src.index]
    b = m.pseudonymize(src, key=bytes(reversed(KEY)))
    assert a1.tolist() == a2.tolist()  # same value -> same token, order does not matter
    assert a1[0] == a1[2] and a1[0] != a1[1] and pd.isna(a1[3])
    assert a1.dropna().str.len().eq(16).all()
    assert (a1.dropna() != b.dropna()).all()  # another key: all tokens change
    assert "alice" not in "".join(a1.dropna())


def test_pseudonymize_numbers_by_text_form():
    ints = m.pseudonymize(pd.Series([123456789, 123456789]), key=KEY)
    floats = m.pseudonymize(pd.Series([123456789.0, np.nan]), key=KEY)
    assert ints[0] == ints[1] == floats[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"key": b"short"}, "at least"),
        ({"key": "a text key"}, "must be bytes"),
        ({"key": KEY, "length": 4}, "length"),
        ({"key": KEY, "length": 65}, "length"),
    ],
)
def test_pseudonymize_bad_parameters(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        m.pseudonymize(s("x"), **kwargs)


def test_key_errors_never_show_the_key():
    secret = "hunter2-but-short"[:10]
    with pytest.raises(InvalidParameterError) as info:
        m.key_from_text(secret)
    assert secret not in str(info.value) and "10 bytes" in str(info.value)


def test_generate_key_and_key_from_text():
    k1, k2 = m.generate_key(), m.generate_key()
    assert len(k1) == 32 and k1 != k2
    assert m.key_from_text(k1.hex() + "\n") == k1
    assert m.key_from_text("correct horse battery staple") == b"correct horse battery staple"
    assert len(m.key_from_text("x" * PSEUDONYM_KEY_MIN_BYTES)) == PSEUDONYM_KEY_MIN_BYTES


# --- generalization ------------------------------------------------------------------------


def test_bin_width_matches_pandas_cut():
    rng = np.random.default_rng(0)
    x = pd.Series(rng.uniform(-50, 130, 500)).round(1)
    x[::17] = np.nan
    out = m.bin_width(x, width=10, origin=5)
    ref = pd.cut(x, bins=np.arange(-55, 146, 10), right=False)
    for lab, iv in zip(out, ref, strict=True):
        if pd.isna(iv):
            assert pd.isna(lab)
        else:
            assert lab == f"[{int(iv.left)}, {int(iv.right)})"
    assert out.cat.ordered


def test_bin_width_all_missing_single_row_and_errors():
    assert m.bin_width(pd.Series([np.nan, np.nan]), width=5).isna().all()
    assert m.bin_width(pd.Series([7]), width=5).tolist() == ["[5, 10)"]
    with pytest.raises(ColumnError, match="numeric"):
        m.bin_width(s("a", "b"), width=5)
    with pytest.raises(InvalidParameterError, match="width"):
        m.bin_width(pd.Series([1.0]), width=0)


def test_bin_quantiles_matches_pandas_qcut():
    rng = np.random.default_rng(1)
    x = pd.Series(rng.normal(40, 12, 1000))
    x[::50] = np.nan
    out = m.bin_quantiles(x, q=4)
    ref = pd.qcut(x, q=4)
    assert out.isna().tolist() == ref.isna().tolist()
    # Same partition: a one-to-one map between our labels and pandas' intervals.
    pairs = pd.DataFrame({"a": out.astype(str), "b": ref.astype(str)}).dropna().drop_duplicates()
    assert len(pairs) == 4 == pairs["a"].nunique() == pairs["b"].nunique()
    counts = out.value_counts()
    assert counts.max() - counts.min() <= 1


def test_bin_quantiles_constant_and_errors():
    assert m.bin_quantiles(pd.Series([3, 3, None]), q=4).tolist() == ["[3, 3]", "[3, 3]", np.nan]
    with pytest.raises(ColumnError, match="no present values"):
        m.bin_quantiles(pd.Series([np.nan, np.nan]), q=3)
    with pytest.raises(InvalidParameterError, match="q must"):
        m.bin_quantiles(pd.Series([1, 2]), q=1)


def test_bin_edges_open_ends_and_errors():
    out = m.bin_edges(pd.Series([17, 18, 49.5, 50, 65, 90, None]), edges=[18, 50, 65])
    assert out.tolist() == ["< 18", "[18, 50)", "[18, 50)", "[50, 65)", ">= 65", ">= 65", np.nan]
    for bad in ([], [3, 1], [1, 1], [1, float("inf")], "1,2"):
        with pytest.raises(InvalidParameterError, match="edges"):
            m.bin_edges(pd.Series([1]), edges=bad)


def test_round_to():
    assert m.round_to(pd.Series([52_300, 61_800, 500]), base=1000).tolist() == [
        52_000,
        62_000,
        0,  # half to even, as numpy.round
    ]
    out = m.round_to(pd.Series([0.34, 1.26, None]), base=0.1)
    assert out.iloc[:2].tolist() == [0.3, 1.3] and pd.isna(out.iloc[2])
    assert m.round_to(pd.Series([7, 8]), base=5).dtype == np.int64
    with pytest.raises(InvalidParameterError):
        m.round_to(pd.Series([1]), base=-1)


def test_top_bottom_code_matches_numpy_clip():
    x = pd.Series([15, 40, 95, 18, 80])
    assert m.top_bottom_code(x, lower=18, upper=80).tolist() == np.clip(x, 18, 80).tolist()
    assert m.top_bottom_code(pd.Series([1.5, None]), upper=1).tolist()[0] == 1.0
    with pytest.raises(InvalidParameterError, match="neither"):
        m.top_bottom_code(x)
    with pytest.raises(InvalidParameterError, match="below"):
        m.top_bottom_code(x, lower=5, upper=5)


def test_generalize_date_units():
    d = pd.Series(["1985-06-30", "1990-07-01", None, "not a date", "2000-02-29"])
    assert m.generalize_date(d, unit="year").tolist() == ["1985", "1990", np.nan, np.nan, "2000"]
    assert m.generalize_date(d, unit="month").tolist()[:2] == ["1985-06", "1990-07"]
    # Hand-worked ages at 2020-07-01: 35 (birthday passed), 30 (birthday today), 20.
    bands = m.generalize_date(d, unit="age_band", band_width=5, reference="2020-07-01")
    assert bands.tolist() == ["35-39", "30-34", np.nan, np.nan, "20-24"]
    eu = pd.Series(["30/06/1985"])
    assert m.generalize_date(eu, unit="year", date_format="%d/%m/%Y").tolist() == ["1985"]


def test_generalize_date_errors():
    d = pd.Series(["2030-01-01"])
    with pytest.raises(InvalidParameterError, match="after the reference"):
        m.generalize_date(d, unit="age_band", reference="2020-01-01")
    with pytest.raises(InvalidParameterError, match="reference date"):
        m.generalize_date(d, unit="age_band")
    with pytest.raises(InvalidParameterError, match="unit"):
        m.generalize_date(d, unit="week")
    with pytest.raises(ColumnError, match="could be read as dates") as info:
        m.generalize_date(pd.Series(["secret-value"]), unit="year")
    assert "secret-value" not in str(info.value)


def test_truncate_prefix():
    src = pd.Series(["10115", "SW1A 1AA", "99", "", None, "Ö123"])
    assert m.truncate_prefix(src, keep=3).tolist() == [
        "101**",
        "SW1*****",
        "99",
        "",
        np.nan,
        "Ö12*",
    ]
    assert m.truncate_prefix(pd.Series([10115, 20095]), keep=2, fill="").tolist() == ["10", "20"]


def test_group_categories():
    src = pd.Series(["Divorced", "Never-married", "Married", None, ""])
    mapping = {"Divorced": "Single", "Never-married": "Single"}
    out = m.group_categories(src, mapping=mapping)
    assert out.tolist() == ["Single", "Single", "Married", np.nan, ""]
    other = m.group_categories(src, mapping=mapping, other="Other")
    assert other.tolist() == ["Single", "Single", "Other", np.nan, "Other"]
    nums = m.group_categories(pd.Series([9, 13, 16]), mapping={"13": "degree", "16": "degree"})
    assert nums.tolist() == ["9", "degree", "degree"]
    with pytest.raises(InvalidParameterError, match="mapping"):
        m.group_categories(src, mapping={"a": 1})


# --- local suppression ---------------------------------------------------------------------


def _optimal_cells(frame, qis, k):
    """Brute force: fewest cells to set missing so every class has >= k rows."""
    rows = [tuple(r) for r in frame[qis].itertuples(index=False)]
    cells = [(i, j) for i in range(len(rows)) for j in range(len(qis))]
    for n in range(len(cells) + 1):
        for combo in itertools.combinations(cells, n):
            trial = [list(r) for r in rows]
            for i, j in combo:
                trial[i][j] = None
            counts = Counter(map(tuple, trial))
            if min(counts.values()) >= k:
                return n
    return None


HAND_WORKED = [
    # (rows, k, optimal cells per column): each checked by hand and by brute force.
    # Two uniques share the zip: suppressing their age joins them (2 cells).
    ({"age": [30, 30, 40, 50], "zip": ["A", "A", "B", "B"]}, 2, {"age": 2, "zip": 0}),
    # Two uniques share the age: suppressing their zip joins them.
    ({"age": [30, 30, 40, 40], "zip": ["A", "A", "B", "C"]}, 2, {"age": 0, "zip": 2}),
    # Already 2-anonymous: nothing to do.
    ({"age": [30, 30, 40, 40], "zip": ["A", "A", "B", "B"]}, 2, {"age": 0, "zip": 0}),
    # One unique differs everywhere: it and one spare record of the big class lose both.
    ({"age": [30, 30, 30, 40], "zip": ["A", "A", "A", "B"]}, 2, {"age": 2, "zip": 2}),
    # Three singletons with a shared sex: suppress age and zip of all three (k=3).
    (
        {"age": [1, 1, 1, 2, 3, 4], "zip": ["a", "a", "a", "b", "c", "d"], "sex": list("FFFMMM")},
        3,
        {"age": 3, "zip": 3, "sex": 0},
    ),
]


@pytest.mark.parametrize(("rows", "k", "expected"), HAND_WORKED)
def test_local_suppression_hand_worked_reaches_k_minimally(rows, k, expected):
    df = pd.DataFrame(rows)
    qis = list(rows)
    res = m.local_suppression(df, quasi_identifiers=qis, k=k)
    assert res.cells_suppressed == expected
    assert res.k_after >= k and m.class_sizes(res.frame, qis).min() >= k
    assert sum(expected.values()) == _optimal_cells(df, qis, k)  # the brute-force optimum
    assert res.frame.shape == df.shape and not res.warnings
    assert df.equals(pd.DataFrame(rows))  # input untouched


def test_local_suppression_importance_changes_which_column_goes():
    # (30,A) x2, (40,B), (40,C): the uniques share age -> zip suppressed by default;
    # with 'zip' most important, no single column works for age... zip still must go.
    df = pd.DataFrame({"age": [30, 30, 40, 40], "zip": ["A", "A", "B", "C"]})
    res = m.local_suppression(df, quasi_identifiers=["age", "zip"], k=2, importance=["zip", "age"])
    assert res.cells_suppressed == {"age": 0, "zip": 2}  # suppressing age alone cannot work
    df2 = pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "z"]})
    keep_b = m.local_suppression(df2, quasi_identifiers=["a", "b"], k=2, importance=["b", "a"])
    # Neither single column joins the uniques; 'a' (least important) goes first, then 'b'.
    assert keep_b.cells_suppressed == {"a": 2, "b": 2} and keep_b.k_after == 2


def test_local_suppression_int_columns_become_nullable_and_missing_is_a_value():
    df = pd.DataFrame({"age": [30, 30, 40, 50], "zip": ["A", "A", None, None]})
    res = m.local_suppression(df, quasi_identifiers=["age", "zip"], k=2)
    assert res.frame["age"].dtype == "Int64"
    assert res.frame["age"].isna().tolist() == [False, False, True, True]
    assert res.k_before == 1 and res.k_after == 2


def test_local_suppression_too_small_warns():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    res = m.local_suppression(df, quasi_identifiers=["a", "b"], k=3)
    assert res.k_after < 3 and "smaller than 3" in res.warnings[0]


def test_record_suppression_removes_exactly_the_small_classes():
    df = pd.DataFrame({"age": [30, 30, 30, 40, 40, 50], "sex": list("FFFMMF")})
    res = m.local_suppression(df, quasi_identifiers=["age", "sex"], k=3, mode="records")
    assert res.frame.index.tolist() == [0, 1, 2]
    assert res.records_suppressed == 3 and res.k_before == 1 and res.k_after == 3
    single = m.local_suppression(df.iloc[:1], quasi_identifiers=["age"], k=2, mode="records")
    assert len(single.frame) == 0 and single.warnings


@given(
    st.lists(
        st.tuples(st.sampled_from([20, 30, 40, None]), st.sampled_from(["A", "B", "C"])),
        min_size=4,
        max_size=40,
    ),
    st.integers(2, 4),
)
@settings(max_examples=60, deadline=None)
def test_local_suppression_always_reaches_k_when_it_can(rows, k):
    df = pd.DataFrame(rows, columns=["age", "zip"])
    res = m.local_suppression(df, quasi_identifiers=["age", "zip"], k=k)
    sizes = m.class_sizes(res.frame, ["age", "zip"])
    assert len(res.frame) == len(df)
    if not res.warnings:
        assert sizes.min() >= k
    # Only unsafe records or spare records are touched; suppressed counts add up.
    newly = res.frame[["age", "zip"]].isna() & df[["age", "zip"]].notna()
    assert newly.sum().to_dict() == res.cells_suppressed


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"quasi_identifiers": [], "k": 2}, InvalidParameterError),
        ({"quasi_identifiers": ["nope"], "k": 2}, ColumnError),
        ({"quasi_identifiers": ["a"], "k": 0}, InvalidParameterError),
        ({"quasi_identifiers": ["a"], "k": 2, "mode": "rows"}, InvalidParameterError),
        ({"quasi_identifiers": ["a"], "k": 2, "importance": ["b"]}, InvalidParameterError),
    ],
)
def test_local_suppression_errors(kwargs, error):
    with pytest.raises(error):
        m.local_suppression(pd.DataFrame({"a": [1, 2]}), **kwargs)


def test_class_sizes_sum_to_rows_with_missing():
    df = pd.DataFrame({"a": [1, None, None, 2], "b": ["x", None, None, "x"]})
    sizes = m.class_sizes(df, ["a", "b"])
    assert sizes.tolist() == [1, 2, 2, 1]


# --- microaggregation ----------------------------------------------------------------------


def test_mdav_one_dimension_hand_worked():
    # Centroid 11.33; farthest is 22 -> {20, 21, 22}; farthest from 22 is 1 -> {1, 2, 3};
    # the 3 left (< 2k) form the last group {10, 11, 12}.
    df = pd.DataFrame({"x": [1, 2, 3, 10, 11, 12, 20, 21, 22]})
    res = m.microaggregate(df, columns=["x"], k=3, standardize=False)
    assert res.frame["x"].tolist() == [2.0] * 3 + [11.0] * 3 + [21.0] * 3
    assert res.n_groups == 3
    assert res.group.tolist() == [1, 1, 1, 2, 2, 2, 0, 0, 0]


def test_mdav_two_dimensions_hand_worked():
    # Centroid (4.83, 2.17). Squared distances: (-1,0) 38.7 is the farthest -> r, group
    # {(-1,0), (0,1)}. Farthest from r: (10,1) at 122 -> s, group {(10,1), (10,0)}. Two rows
    # left (< 2k = 4): the last group {(5,5), (5,6)}.
    df = pd.DataFrame(
        {"a": [-1, 0, 5, 5, 10, 10], "b": [0, 1, 5, 6, 0, 1], "other": list("uvwxyz")}
    )
    res = m.microaggregate(df, columns=["a", "b"], k=2, standardize=False)
    assert res.group.tolist() == [0, 0, 2, 2, 1, 1]
    assert res.frame["a"].tolist() == [-0.5, -0.5, 5.0, 5.0, 10.0, 10.0]
    assert res.frame["b"].tolist() == [0.5, 0.5, 5.5, 5.5, 0.5, 0.5]
    assert res.frame["other"].tolist() == list("uvwxyz")


@given(st.integers(2, 5), st.integers(0, 200), st.integers(0, 10_000))
@settings(max_examples=40, deadline=None)
def test_mdav_groups_between_k_and_2k_and_keep_means(k, n_extra, seed):
    rng = np.random.default_rng(seed)
    n = k + n_extra
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.exponential(size=n) * 100})
    res = m.microaggregate(df, columns=["a", "b"], k=k)
    sizes = np.bincount(res.group)
    assert sizes.min() >= k and sizes.max() < 2 * k
    assert np.allclose(res.frame[["a", "b"]].mean(), df.mean())  # group means keep the mean
    assert m.class_sizes(res.frame, ["a", "b"]).min() >= k


def test_mdav_missing_rows_and_errors():
    df = pd.DataFrame({"a": [1.0, 2.0, np.nan, 4.0], "t": list("abcd")})
    res = m.microaggregate(df, columns=["a"], k=3)
    assert np.isnan(res.frame["a"][2]) and res.group[2] == -1 and res.warnings
    with pytest.raises(InvalidParameterError, match="at least 3 rows"):
        m.microaggregate(df.iloc[:2], columns=["a"], k=3)
    with pytest.raises(ColumnError, match="numeric"):
        m.microaggregate(df, columns=["t"], k=2)
    with pytest.raises(InvalidParameterError, match="k must"):
        m.microaggregate(df, columns=["a"], k=1)


def test_every_error_is_a_privlens_error():
    assert issubclass(ColumnError, PrivLensError) and issubclass(InvalidParameterError, ValueError)


@given(
    st.lists(
        st.tuples(st.sampled_from([1, 2, None]), st.sampled_from(["x", "y", None])),
        min_size=1,
        max_size=30,
    )
)
@settings(max_examples=40, deadline=None)
def test_class_sizes_agree_with_the_risk_engine(rows):
    from core import risk

    df = pd.DataFrame(rows, columns=["a", "b"])
    ec = risk.equivalence_classes(df, ["a", "b"], missing="category")
    assert m.class_sizes(df, ["a", "b"]).tolist() == ec.record_fk.tolist()
