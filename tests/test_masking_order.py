"""Local suppression's default column order: most distinct values are suppressed first.

The order is read from the largest factorize code of each column (codes are dense), which
must agree with pandas' ``nunique`` on any data, missing values included.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from core import masking as m

cell = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "ä", ""]))
number = st.one_of(st.none(), st.integers(0, 4))


@st.composite
def frames(draw):
    n = draw(st.integers(1, 30))
    return pd.DataFrame(
        {
            "x": draw(st.lists(cell, min_size=n, max_size=n)),
            "y": draw(st.lists(number, min_size=n, max_size=n)),
            "z": draw(st.lists(cell, min_size=n, max_size=n)),
        }
    )


@settings(max_examples=150, deadline=None)
@given(frames(), st.integers(2, 4))
def test_default_order_is_explicit_importance_by_nunique(df, k):
    qis = ["x", "y", "z"]
    distinct = [df[c].nunique(dropna=True) for c in qis]
    # default: columns with more distinct values lose cells first (ties keep column order);
    # `importance` lists the most important (suppressed last) first
    order = sorted(range(len(qis)), key=lambda j: -distinct[j])
    importance = [qis[j] for j in reversed(order)]
    by_default = m.local_suppression(df, quasi_identifiers=qis, k=k)
    explicit = m.local_suppression(df, quasi_identifiers=qis, k=k, importance=importance)
    pd.testing.assert_frame_equal(by_default.frame, explicit.frame)
    assert by_default.cells_suppressed == explicit.cells_suppressed


def test_hand_worked_order():
    # x has 3 distinct values, y 1: x's cells go first, y is never touched
    df = pd.DataFrame({"x": ["a", "b", "c", "a"], "y": ["u", "u", "u", "u"]})
    res = m.local_suppression(df, quasi_identifiers=["x", "y"], k=2)
    assert res.cells_suppressed == {"x": 2, "y": 0}
    assert res.k_after >= 2
