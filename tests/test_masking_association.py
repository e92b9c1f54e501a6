"""A pair measured again after cells are blanked equals the pair measured afresh.

The Masking page measures the association change after local suppression by updating each
pair's counts (:func:`core.correlation.blanked_association`) instead of reading the sample
again; here every update is compared with :func:`core.correlation.pair_association` on the
columns with the cells blanked, read from pandas values in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.correlation import (
    PairAssociation,
    blanked_association,
    pair_association,
    pair_column,
    pair_counts,
)
from core.errors import InvalidParameterError


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y


def _close(x: float, y: float, tol: float) -> bool:
    if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y):
        return _same(x, y)
    return math.isclose(x, y, rel_tol=tol, abs_tol=tol)


def _fresh(values: list, blank: np.ndarray | None, categorical: bool) -> PairAssociation:
    """The column read from its values with the blanked cells set to None / NaN."""
    s = pd.Series(values, dtype=object if categorical else float)
    if blank is not None:
        s = s.where(~blank, None if categorical else np.nan)
    return pair_column(s if categorical else s.astype(float), categorical=categorical)


def _check(got: PairAssociation, want: PairAssociation) -> None:
    assert got.measure == want.measure and got.n == want.n and got.reason == want.reason
    if want.measure == "cramers_v":  # the same cells summed the same way: bit for bit
        for field in ("value", "p", "statistic"):
            assert _same(getattr(got, field), getattr(want, field)), field
    else:  # eta from updated sums
        assert _close(got.value, want.value, 1e-12), (got.value, want.value)
        assert _close(got.statistic, want.statistic, 1e-6), (got.statistic, want.statistic)
        assert _close(got.p, want.p, 1e-6) or max(got.p, want.p) < 1e-250


@st.composite
def _pairs(draw: st.DrawFn) -> tuple[list, list, bool, np.ndarray | None, np.ndarray | None]:
    n = draw(st.integers(0, 60))
    levels = draw(st.sampled_from(["ab", "abc", "abcdef", [str(i) for i in range(40)]]))
    a = draw(st.lists(st.sampled_from([*levels, None]), min_size=n, max_size=n))
    numeric = draw(st.booleans())
    if numeric:
        scale = draw(st.sampled_from([1.0, 1e-9, 1e6, 1e300]))
        pool = draw(st.sampled_from([
            st.integers(-3, 3).map(float),  # few distinct values: ties, flat groups
            st.floats(-1, 1, allow_nan=False),
            st.just(7.0),  # constant
            st.sampled_from([np.nan, np.inf, 2.0, 2.0 + 2**-40]),  # missing, near-constant
        ]))  # fmt: skip
        b = [x * scale for x in draw(st.lists(pool, min_size=n, max_size=n))]
        if draw(st.booleans()):  # one number per category (flat), or nearly: eta near 1
            of = draw(st.fixed_dictionaries({x: st.integers(0, 2) for x in levels}))
            jitter = draw(st.sampled_from([0.0, 1e-9]))
            b = [float(of[x]) + jitter * i if x is not None else y for i, (x, y) in enumerate(
                zip(a, b, strict=True))]  # fmt: skip
    else:
        b = draw(st.lists(st.sampled_from(["x", "y", "z", None]), min_size=n, max_size=n))
    masks = st.none() | st.lists(st.booleans(), min_size=n, max_size=n).map(
        lambda m: np.array(m, dtype=bool)
    )
    by_level = st.sets(st.sampled_from(levels)).map(  # whole categories lose their cells
        lambda gone: np.array([x in gone for x in a], dtype=bool)
    )
    return a, b, numeric, draw(masks | by_level), draw(masks)


@settings(max_examples=200, deadline=None)
@given(_pairs(), st.booleans(), st.booleans())
def test_blanked_pair_equals_the_pair_measured_afresh(pair, swap, positions):
    a, b, numeric, blank_a, blank_b = pair
    ca, cb = _fresh(a, None, True), _fresh(b, None, not numeric)
    if swap:  # the numeric (or second) column first
        ca, cb, a, b, blank_a, blank_b = cb, ca, b, a, blank_b, blank_a
    counts = pair_counts(ca, cb)
    at = (lambda m: m if m is None else np.flatnonzero(m)) if positions else (lambda m: m)
    got = blanked_association(counts, blank_a=at(blank_a), blank_b=at(blank_b))
    want = pair_association(
        _fresh(a, blank_a, ca.kind == "categorical"), _fresh(b, blank_b, cb.kind == "categorical")
    )
    _check(got, want)


def test_sample_sized_pairs_after_suppression_match():
    """Sizes as on the Masking page: a 20,000-row sample, a high-cardinality column (its
    table counted by sorting), groups that lose some rows, others none."""
    rng = np.random.default_rng(7)
    n = 20_000
    qi = rng.choice([f"q{i}" for i in range(9)], n).astype(object)
    token = rng.choice([f"t{i}" for i in range(15_000)], n).astype(object)
    hours = rng.normal(40, 12, n).round()
    income = np.where(rng.random(n) < 0.3, 1e5 * rng.random(n), 0.0)
    read = {
        "qi": pair_column(pd.Series(qi)),
        "token": pair_column(pd.Series(token)),
        "hours": pair_column(pd.Series(hours)),
        "income": pair_column(pd.Series(income)),
    }
    for share in (0.0, 0.01, 0.2):
        gone = rng.random(n) < share
        gone &= qi != "q3"  # a category that keeps all its rows
        blanked = pd.Series(qi).where(~gone, None)
        for other in ("token", "hours", "income"):
            counts = pair_counts(read["qi"], read[other])
            got = blanked_association(counts, blank_a=np.flatnonzero(gone))
            _check(got, pair_association(pair_column(blanked), read[other]))
            counts = pair_counts(read[other], read["qi"])  # either order
            _check(blanked_association(counts, blank_b=gone),
                   pair_association(read[other], pair_column(blanked)))  # fmt: skip
    assert pair_counts(read["qi"], read["token"]).table.keys.size > 4_000


def test_flat_groups_and_emptied_groups_match():
    g = pair_column(pd.Series(list("aaaabbbbcc")))
    y = pair_column(pd.Series([1.0, 1, 1, 1.5, 5, 5, 5, 5, 9, 9]))
    counts = pair_counts(g, y)
    gone = np.zeros(10, dtype=bool)
    gone[3] = True  # every group constant now: eta = 1 and F infinite, as afresh
    got = blanked_association(counts, blank_a=gone)
    want = pair_association(pair_column(pd.Series([*"aaa", None, *"bbbbcc"])), y)
    assert got == want and got.value == 1.0 and math.isinf(got.statistic)
    gone[8:] = True  # a and b left, each one number, but not the same one: still 1
    assert blanked_association(counts, blank_a=gone).value == 1.0
    flat = pair_column(pd.Series([1.0, 1, 1, 1, 1, 1, 1, 1, 9, 9]))
    got = blanked_association(pair_counts(g, flat), blank_b=gone)  # 1 everywhere left
    assert math.isnan(got.value) and "constant" in got.reason
    gone[4:] = True  # a single category left
    got = blanked_association(counts, blank_b=gone)
    assert math.isnan(got.value) and "single category" in got.reason


def test_a_removed_outlier_that_held_the_sum_of_squares_is_measured_afresh():
    """Updating the sums would cancel nearly every digit: the pair is measured afresh."""
    rng = np.random.default_rng(1)
    y = np.concatenate([[1e9], rng.normal(size=99)])
    g = rng.choice(list("abc"), 100).astype(object)
    read_g, read_y = pair_column(pd.Series(g)), pair_column(pd.Series(y))
    gone = np.zeros(100, dtype=bool)
    gone[0] = True
    got = blanked_association(pair_counts(read_g, read_y), blank_a=gone)
    assert got == pair_association(pair_column(pd.Series(g).where(~gone, None)), read_y)


def test_pair_counts_refuses_two_numeric_columns_and_bad_flags():
    x = pair_column(pd.Series([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidParameterError, match="two numeric columns"):
        pair_counts(x, x)
    g = pair_column(pd.Series(list("abc")))
    with pytest.raises(InvalidParameterError, match="same rows"):
        pair_counts(g, pair_column(pd.Series([1.0, 2.0])))
    counts = pair_counts(g, x)
    with pytest.raises(InvalidParameterError, match=r"one bool flag per row \(3\)"):
        blanked_association(counts, blank_a=np.array([True, False]))
    with pytest.raises(InvalidParameterError, match="blank_b must"):
        blanked_association(counts, blank_b=np.array([1, 0, 0]))  # not increasing
    for wrong in ([0, 3], [-1], [2, 1], [0.0], [[0]]):
        with pytest.raises(InvalidParameterError, match=r"strictly increasing row positions"):
            blanked_association(counts, blank_a=np.array(wrong))
    got = blanked_association(counts, blank_a=np.array([], dtype=np.int64))
    assert got == pair_association(g, x)


@pytest.mark.parametrize("dtype", ["str", "string[pyarrow]", "string[python]", object, "Int64"])
def test_missing_cells_at_the_sample_rows(dtype):
    """The page reads which sample cells are missing from an Arrow column's null bitmap
    (from its offset, when the column is a slice): the same flags as pandas gives."""
    import pyarrow as pa

    from ui.masking_results import _arrow_missing, _missing

    rng = np.random.default_rng(5)
    values = rng.choice(np.array(["7", "8", None], dtype=object), 1_001)
    values = values.astype(float) if dtype == "Int64" else values
    s = pd.Series(values, dtype=dtype)
    for series in (s, s.iloc[3:]):  # a slice: its array starts at an offset
        rows = np.sort(rng.choice(len(series), size=300, replace=False))
        want = series.isna().to_numpy()
        assert np.array_equal(_missing(series, rows), want[rows])
        assert np.array_equal(_missing(series, None), want)
    chunks = pa.chunked_array([pa.array(["a", None]), pa.array([None, "b"])])
    assert _arrow_missing(chunks, np.array([0, 1])) is None  # several chunks: pandas reads it
    assert _arrow_missing(pa.array([None, None]), np.array([1])).tolist() == [True]
