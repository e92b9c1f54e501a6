"""An independent reader of compressed weights written from docs/weights-format.md alone.

It uses only the safetensors reader and NumPy, none of core.weights' helpers, so a
passing comparison shows the document is complete and the writer follows it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

from core.weights import Cast, Prune, Quantize, Sparsify, WeightsRecipe, compress_file, open_weights


def spec_read(path) -> dict[str, np.ndarray]:
    with safe_open(str(path), framework="numpy") as f:
        parts = {k: f.get_tensor(k) for k in f.keys()}
        meta = json.loads(f.metadata()["privlens.weights"])
    assert meta["version"] == 1
    out = {}
    for name, e in meta["tensors"].items():
        shape, q, storage = tuple(e["shape"]), e["quantization"], e["storage"]
        n = int(np.prod(shape))

        def unpack(a, count, storage=storage):
            if storage != "int4":
                return a.reshape(-1)
            lo, hi = a & 0x0F, a >> 4
            v = np.stack([lo, hi], axis=1).reshape(-1)[:count].astype(np.int16)
            return np.where(v >= 8, v - 16, v)

        if q:
            channels = shape[0] if q["axis"] == 0 else 1
            zero = parts[q["zero_point"]].astype(np.int16)
            scale = parts[q["scale"]].astype(np.float32)
            background = np.repeat(zero, n // channels)
        else:
            background = np.zeros(n, dtype=np.float64)
        if e["layout"] == "dense":
            flat = unpack(parts[name + "::codes"] if q else parts[name], n).astype(np.float64)
        else:
            vals = unpack(parts[name + "::values"], e["nonzero"])
            flat = background.astype(np.float64)
            if e["layout"] == "bitmask":
                mask = np.unpackbits(parts[name + "::mask"])[:n].astype(bool)
                flat[mask] = vals
            else:
                indptr, indices = parts[name + "::indptr"], parts[name + "::indices"]
                cols = n // shape[0] if len(shape) >= 2 else n
                for r in range(len(indptr) - 1):
                    lo, hi = indptr[r], indptr[r + 1]
                    flat[r * cols + indices[lo:hi].astype(np.int64)] = vals[lo:hi]
        if q:
            codes = flat.reshape(shape[0] if q["axis"] == 0 else 1, -1)
            z = zero.reshape(-1, 1).astype(np.float32)
            x = ((codes.astype(np.float32) - z) * scale.reshape(-1, 1)).reshape(shape)
        elif storage == "bfloat16":
            x = (flat.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        else:
            x = flat.astype(storage).reshape(shape)
        out[name] = x
    return out


RECIPES = [
    (Quantize(bits=8, per_channel=True),),
    (Quantize(bits=4, symmetric=False, per_channel=True), Prune(sparsity=0.7), Sparsify()),
    (Quantize(bits=4, per_channel=False), Prune(sparsity=0.5), Sparsify(layout="bitmask")),
    (
        Quantize(bits=8, symmetric=False),
        Prune(threshold=0.3, scope="global"),
        Sparsify(layout="csr"),
    ),
    (Cast(dtype="bfloat16"), Prune(sparsity=0.5), Sparsify(layout="bitmask")),
    (Cast(dtype="float16"), Prune(sparsity=0.5, scope="global"), Sparsify()),
]


@pytest.mark.parametrize("steps", RECIPES, ids=repr)
def test_spec_reader_matches_the_loader(tmp_path, steps):
    rng = np.random.default_rng(9)
    t = {
        "a.weight": rng.standard_normal((13, 7)).astype(np.float32),
        "a.bias": rng.standard_normal(13).astype(np.float32),
        "k": rng.standard_normal((4, 3, 5)).astype(np.float32),
        "n": np.arange(3, dtype=np.int32),
    }
    save_file(t, str(tmp_path / "m.safetensors"))
    compress_file(
        tmp_path / "m.safetensors", tmp_path / "c.safetensors", WeightsRecipe(steps=steps)
    )
    ours = open_weights(tmp_path / "c.safetensors")
    spec = spec_read(tmp_path / "c.safetensors")
    assert set(spec) == set(ours.names) == set(t)
    for name in t:
        assert np.array_equal(spec[name].astype(np.float64), ours.tensor(name).astype(np.float64))
