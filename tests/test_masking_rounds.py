"""The greedy rounds of cell suppression on one mixed-radix key per pattern suppress the
same cells as the rounds that group the patterns' codes in every trial."""

from __future__ import annotations

import numpy as np
import pytest

from core.masking import _suppression_rounds, _suppression_rounds_by_codes


@pytest.mark.parametrize("seed", range(40))
def test_rounds_on_keys_equal_rounds_on_codes(seed: int) -> None:
    rng = np.random.default_rng(seed)
    q = int(rng.integers(1, 6))
    m = int(rng.integers(1, 300))
    pat = rng.integers(-1, rng.integers(1, 8, size=q), size=(m, q))
    pat = np.unique(pat, axis=0)  # distinct patterns, as the suppression gets them
    weight = rng.integers(1, 6, size=len(pat)).astype(np.float64)
    k = int(rng.integers(2, 12))
    order = [int(j) for j in rng.permutation(q)]
    a, b = pat.copy(), pat.copy()
    sizes_a = _suppression_rounds(a, weight, k, order)
    sizes_b = _suppression_rounds_by_codes(b, weight, k, order)
    assert np.array_equal(a, b)
    assert np.array_equal(sizes_a, sizes_b)


def test_too_many_combinations_for_one_key_group_the_codes() -> None:
    # 8 columns of 300,000 codes each: the product of the radixes passes 2**62
    pat = np.array([[0] * 8, [299_999] * 8, [1] * 8], dtype=np.int64)
    out = pat.copy()
    sizes = _suppression_rounds(out, np.ones(3), 2, list(range(8)))
    assert sizes.tolist() == [3, 3, 3]
    assert (out == -1).all()
