"""The borrowing rule of cell suppression to k, shared by the pandas engine
(:func:`core.masking.local_suppression`) and the SQL engines (:mod:`core.engine.harden`)."""

from __future__ import annotations

import numpy as np
import pytest

from core.masking import _borrowed_per_class


@pytest.mark.parametrize(
    ("cls", "weight", "first", "empty", "k", "take", "k_after"),
    [
        # classes of 5, 4, 1 (the last all suppressed), k 3: the largest lends 2
        ([0, 1, 2], [5, 4, 1], [0, 1, 2], [0, 0, 1], 3, [2, 0, 0], 3),
        # a tie of 5 and 5: the class whose first record comes first lends (class 1 here)
        ([0, 1, 2], [5, 5, 1], [4, 2, 0], [0, 0, 1], 3, [0, 2, 0], 3),
        # the largest class is the all-suppressed one: it never lends to itself
        ([0, 1, 2], [2, 9, 7], [0, 1, 2], [1, 0, 0], 4, [0, 2, 0], 4),
        # one class is not enough: the next largest lends the rest
        ([0, 1, 2], [4, 4, 1], [0, 1, 2], [0, 0, 1], 3, [1, 1, 0], 3),
        # two patterns of one class (weights add up), and a class of exactly k lends nothing
        ([0, 0, 1, 2], [3, 3, 3, 2], [5, 0, 1, 2], [0, 0, 0, 1], 3, [1, 0, 0], 3),
        # two all-suppressed patterns are one class, which the records lent join
        ([0, 1, 1], [7, 1, 1], [0, 1, 2], [0, 1, 1], 4, [2, 0], 4),
    ],
)
def test_borrowed_per_class(cls, weight, first, empty, k, take, k_after) -> None:
    got = _borrowed_per_class(
        np.array(cls), max(cls) + 1, np.array(weight, dtype=np.float64), np.array(first),
        np.array(empty, dtype=bool), k,
    )  # fmt: skip
    assert got is not None
    assert got[0].tolist() == take
    assert got[1] == k_after


def test_too_few_spare_records_lend_nothing() -> None:
    # classes of 4 and 1 (all suppressed), k 3: one spare record, two needed
    got = _borrowed_per_class(
        np.array([0, 1]), 2, np.array([4.0, 1.0]), np.array([0, 1]), np.array([False, True]), 3
    )
    assert got is None
