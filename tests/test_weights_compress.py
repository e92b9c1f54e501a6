"""Compression steps: quantization bounds, pruning counts, casts, int4 packing, recipes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from core.errors import WeightsError
from core.weights import (
    Cast,
    Prune,
    Quantize,
    Sparsify,
    WeightsRecipe,
    pack_int4,
    prune_count,
    prune_tensor,
    quantize_tensor,
    unpack_int4,
)
from core.weights.compress import global_prune_masks, to_bfloat16_bits
from core.weights.intake import bfloat16_to_float32

matrices = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=12),
    elements=st.floats(-1e3, 1e3, width=32),
)


@settings(max_examples=150, deadline=None)
@given(
    x=matrices,
    bits=st.sampled_from([8, 4]),
    symmetric=st.booleans(),
    per_channel=st.booleans(),
)
def test_quantization_error_is_at_most_half_a_step(x, bits, symmetric, per_channel):
    q = quantize_tensor(x, bits=bits, symmetric=symmetric, per_channel=per_channel)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    assert q.codes.dtype == np.int8 and q.codes.min() >= lo and q.codes.max() <= hi
    y = q.dequantize()
    step = q.scale.reshape((-1,) + (1,) * (x.ndim - 1)) if q.axis == 0 else q.scale[0]
    bound = step / 2 * (1 + 1e-5) + 1e-6 * np.abs(x).max(initial=0)
    assert np.all(np.abs(y - x) <= bound)
    assert np.all(y[x == 0] == 0)  # zero stays exactly zero


def test_symmetric_per_channel_matches_the_bare_formula():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 40)).astype(np.float32)
    s = np.abs(x).max(axis=1, keepdims=True) / 127
    ref = np.round(x / s).clip(-128, 127).astype(np.int8)
    q = quantize_tensor(x, bits=8, symmetric=True, per_channel=True)
    assert np.array_equal(q.codes, ref)
    np.testing.assert_allclose(q.scale, s.ravel(), rtol=1e-6)


def test_asymmetric_hand_worked():
    # lo = 0 (min with 0), hi = 2.55: s = 2.55 / 255 = 0.01, z = round(-128 - 0) = -128
    x = np.array([[0.0, 1.0, 2.55]], dtype=np.float32)
    q = quantize_tensor(x, bits=8, symmetric=False, per_channel=False)
    assert q.zero_point.tolist() == [-128]
    assert q.codes.tolist() == [[-128, -28, 127]]
    np.testing.assert_allclose(q.dequantize(), x, atol=0.005)


def test_asymmetric_uses_the_range_better_than_symmetric_for_one_sided_weights():
    x = np.random.default_rng(2).uniform(0, 1, (32, 32)).astype(np.float32)
    sym = quantize_tensor(x, bits=4, symmetric=True).dequantize()
    asym = quantize_tensor(x, bits=4, symmetric=False).dequantize()
    assert np.linalg.norm(asym - x) < np.linalg.norm(sym - x)


def test_per_channel_error_is_no_larger_than_per_tensor_with_uneven_rows():
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((64, 64)) * np.logspace(-3, 1, 64)[:, None]).astype(np.float32)
    for bits in (8, 4):
        for symmetric in (True, False):
            per_t = quantize_tensor(x, bits=bits, symmetric=symmetric, per_channel=False)
            per_c = quantize_tensor(x, bits=bits, symmetric=symmetric, per_channel=True)
            e_t = np.linalg.norm(per_t.dequantize() - x)
            e_c = np.linalg.norm(per_c.dequantize() - x)
            assert e_c < e_t


def test_all_zero_channel_gets_scale_one():
    x = np.zeros((3, 4), dtype=np.float32)
    x[1] = [1, -2, 0, 4]
    q = quantize_tensor(x, bits=8)
    assert q.scale[0] == 1 and q.scale[2] == 1
    assert np.array_equal(q.dequantize()[[0, 2]], x[[0, 2]])


@given(n=st.integers(1, 500), sparsity=st.floats(0, 0.999))
def test_prune_hits_the_target_count_exactly(n, sparsity):
    x = np.random.default_rng(n).standard_normal((1, n))
    y = prune_tensor(x, sparsity=sparsity)
    k = prune_count(n, sparsity)
    assert k == int(np.floor(sparsity * n + 0.5))
    assert np.count_nonzero(y == 0) == k
    kept = np.abs(x[y != 0])
    dropped = np.abs(x[y == 0])
    if kept.size and dropped.size:
        assert dropped.max() <= kept.min()


def test_prune_ties_zero_the_earlier_positions_first():
    x = np.array([[1.0, -1.0, 1.0, 5.0], [1.0, 2.0, -1.0, 3.0]])
    y = prune_tensor(x, sparsity=0.5)  # k = 4 of the five 1.0s: positions 0, 1, 2, 4
    assert y.tolist() == [[0.0, 0.0, 0.0, 5.0], [0.0, 2.0, -1.0, 3.0]]


def test_prune_by_threshold_is_strictly_below():
    x = np.array([[0.1, -0.5, 0.5, 2.0]])
    assert prune_tensor(x, threshold=0.5).tolist() == [[0.0, -0.5, 0.5, 2.0]]


def test_global_prune_counts_over_all_tensors():
    a = np.array([[0.1, 0.2], [5.0, 6.0]])
    b = np.array([[0.3, 7.0, 8.0]])
    idx = global_prune_masks({"a": a, "b": b}, 3 / 7)  # k = 3: 0.1, 0.2 (a) and 0.3 (b)
    assert idx["a"].tolist() == [0, 1] and idx["b"].tolist() == [0]
    idx = global_prune_masks({"a": a, "b": b}, 0.6)  # k = floor(4.2 + 0.5) = 4: then 5.0
    assert idx["a"].tolist() == [0, 1, 2] and idx["b"].tolist() == [0]


@given(codes=hnp.arrays(np.int8, st.integers(0, 41), elements=st.integers(-8, 7)))
def test_int4_pack_round_trip(codes):
    packed = pack_int4(codes)
    assert packed.dtype == np.uint8 and packed.size == (codes.size + 1) // 2
    assert np.array_equal(unpack_int4(packed, codes.size), codes)


def test_bfloat16_rounds_to_nearest_even():
    # 1 + 2^-8 is halfway between bf16 1.0 and 1 + 2^-7: ties go to even (1.0);
    # 1 + 3·2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties go to 1 + 2^-6.
    x = np.array([1.0, 1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -3.0, np.nan], np.float32)
    y = bfloat16_to_float32(to_bfloat16_bits(x))
    assert y[:5].tolist() == [1.0, 1.0, 1 + 2**-6, 1 + 2**-7, -3.0]
    assert np.isnan(y[5])


def test_bfloat16_relative_error_bound():
    x = np.random.default_rng(4).standard_normal(10_000).astype(np.float32)
    y = bfloat16_to_float32(to_bfloat16_bits(x))
    assert np.all(np.abs(y - x) <= np.abs(x) * 2**-8)


def test_recipe_json_round_trip_and_order_free():
    r = WeightsRecipe(
        steps=(Sparsify(layout="bitmask"), Quantize(bits=4, symmetric=False), Prune(sparsity=0.3))
    )
    assert WeightsRecipe.from_json(r.to_json()) == r
    assert r.step(Prune) == Prune(sparsity=0.3)


@pytest.mark.parametrize(
    ("steps", "match"),
    [
        ((Quantize(), Cast()), "exclude each other"),  # both change the storage
        ((Prune(sparsity=0.1), Prune(sparsity=0.2)), "at most once"),
        ((Prune(),), "exactly one of sparsity or threshold"),
        ((Prune(sparsity=1.0),), r"sparsity must be in \[0, 1\)"),
        ((Prune(threshold=-1.0),), "threshold must be >= 0"),
        ((Quantize(bits=3),), "bits must be 8 or 4"),
        ((Cast(dtype="float8"),), "float16"),  # type: ignore[arg-type]
        ((Sparsify(layout="coo"),), "csr"),  # type: ignore[arg-type]
        # JSON recipes hold any type: each is refused as itself, never a TypeError
        ((Prune(sparsity="0.5"),), "sparsity must be a number"),  # type: ignore[arg-type]
        ((Prune(threshold="0.1"),), "threshold must be a number"),  # type: ignore[arg-type]
        ((Prune(sparsity=True),), "sparsity must be a number"),
        ((Quantize(bits=8.0),), r"bits must be 8 or 4; got 8\.0"),  # type: ignore[arg-type]
        ((Quantize(bits=True),), "bits must be 8 or 4"),
        ((Quantize(symmetric="yes"),), "symmetric must be true or false"),  # type: ignore[arg-type]
        ((Quantize(per_channel=1),), "per_channel must be true or false"),  # type: ignore[arg-type]
        ((Cast(dtype=["float16"]),), "float16"),  # type: ignore[arg-type]
    ],
)
def test_invalid_recipes(steps, match):
    with pytest.raises(WeightsError, match=match):
        WeightsRecipe(steps=steps)


@pytest.mark.parametrize("text", ["", "[]", '{"steps": [{"step": "shrink"}]}', '{"steps": 3}'])
def test_recipe_json_errors(text):
    with pytest.raises(WeightsError, match="not valid JSON of the form"):
        WeightsRecipe.from_json(text)
