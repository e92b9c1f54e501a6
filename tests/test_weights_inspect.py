"""The tensor table and histogram against NumPy computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from safetensors.numpy import save_file

from core.errors import WeightsError
from core.weights import histogram, inspect_weights, open_weights, tensor_stats


@pytest.fixture
def wf(tmp_path):
    rng = np.random.default_rng(11)
    w = rng.standard_normal((20, 30)).astype(np.float32)
    w[w < -1] = 0
    t = {
        "w": w,
        "b": rng.uniform(-1, 1, 20).astype(np.float16),
        "idx": np.array([0, 0, 3, 4], dtype=np.int32),
        "flag": np.array([True, False, True]),
    }
    save_file(t, str(tmp_path / "m.safetensors"))
    return open_weights(tmp_path / "m.safetensors"), t


def test_table_matches_numpy(wf):
    f, t = wf
    s = inspect_weights(f)
    assert s.format == "safetensors" and s.file == "m.safetensors"
    rows = {r.name: r for r in s.tensors}
    for name, x in t.items():
        r = rows[name]
        v = x.astype(np.float64)
        assert r.shape == x.shape and r.dtype == x.dtype.name
        assert r.parameters == x.size and r.bytes == x.nbytes
        assert r.min == v.min() and r.max == v.max()
        assert math.isclose(r.mean, v.mean(), rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(r.std, v.std(), rel_tol=1e-12)
        assert r.zero_share == np.mean(x == 0)
    assert s.total_parameters == sum(x.size for x in t.values())
    assert s.total_bytes == sum(x.nbytes for x in t.values())
    zeros = sum(int(np.sum(x == 0)) for x in t.values())
    assert math.isclose(s.zero_share, zeros / s.total_parameters)
    assert s.file_bytes == f.path.stat().st_size


def test_non_finite_values_are_counted_not_averaged():
    x = np.array([[1.0, np.inf], [np.nan, 0.0]], dtype=np.float32)
    r = tensor_stats("x", x)
    assert r.non_finite == 2 and math.isnan(r.mean) and r.zero_share == 0.25


def test_empty_tensor():
    r = tensor_stats("e", np.zeros((0, 3), dtype=np.float32))
    assert r.parameters == 0 and r.zero_share == 0.0 and math.isnan(r.min)


def test_histogram_matches_numpy(wf):
    f, t = wf
    h = histogram(f, "w", bins=17)
    counts, edges = np.histogram(t["w"].astype(np.float64), bins=17)
    assert h.counts == tuple(counts.tolist()) and np.allclose(h.edges, edges)
    assert sum(h.counts) == t["w"].size


def test_histogram_skips_non_finite(tmp_path):
    save_file(
        {"x": np.array([1.0, np.nan, 2.0, np.inf], np.float32)}, str(tmp_path / "n.safetensors")
    )
    h = histogram(open_weights(tmp_path / "n.safetensors"), "x", bins=2)
    assert sum(h.counts) == 2


@pytest.mark.parametrize("bins", [0, 10_001])
def test_histogram_bins_range(wf, bins):
    with pytest.raises(WeightsError, match="bins must be in"):
        histogram(wf[0], "w", bins=bins)


def test_histogram_of_a_missing_tensor(wf):
    with pytest.raises(WeightsError, match="no tensor of that name"):
        histogram(wf[0], "nope")


def test_statistics_of_huge_float64_values_do_not_overflow():
    x = np.array([[1e300, -1e300], [5e299, 0.0]])
    s = tensor_stats("w", x)
    scaled = x / 1e300  # the same statistics, computed where nothing overflows
    assert s.mean == pytest.approx(1e300 * scaled.mean())
    assert s.std == pytest.approx(1e300 * scaled.std())
    assert (s.min, s.max) == (-1e300, 1e300)


def test_histogram_of_values_spanning_float64_does_not_overflow(tmp_path):
    top = float(np.finfo(np.float64).max)
    x = np.array([[top, -top], [0.0, 0.25 * top]])
    save_file({"w": x}, str(tmp_path / "m.safetensors"))
    h = histogram(open_weights(tmp_path / "m.safetensors"), "w", bins=4)
    assert h.counts == (1, 0, 2, 1)
    assert h.edges[0] == -top and h.edges[-1] == top and all(map(math.isfinite, h.edges))
