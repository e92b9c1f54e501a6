"""The Model page's compression settings, measured points and sweep (core.weights.sweep)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core.errors import WeightsError
from core.weights import open_weights
from core.weights.sweep import (
    SHIPPED_MODELS,
    SWEEP_PRECISIONS,
    SWEEP_SPARSITIES,
    CompressionSettings,
    measure,
    settings_from_options,
    shipped_evaluator,
    shipped_model_path,
    sweep,
)


@pytest.fixture(scope="module")
def mlp_evaluator():
    return shipped_evaluator("adult-mlp")


def _brute_force(src, data: bytes, tmp_path) -> tuple[float, float, float]:
    """Whole-model error of the written bytes against ``src``, all tensors concatenated."""
    out = tmp_path / "back.safetensors"
    out.write_bytes(data)
    a, b = open_weights(src), open_weights(out)
    x = np.concatenate([a.tensor(n).astype(np.float64).ravel() for n in a.names])
    y = np.concatenate([b.tensor(n).astype(np.float64).ravel() for n in a.names])
    noise = float(np.sum((x - y) ** 2))
    return (
        math.sqrt(noise / float(np.sum(x * x))),
        float(np.max(np.abs(x - y))),
        10 * math.log10(float(np.sum(x * x)) / noise),
    )


def test_settings_make_the_recipe_and_refuse_unknown_values():
    assert CompressionSettings(precision="float32").recipe().steps == ()
    r = CompressionSettings(precision="bfloat16", prune="threshold", threshold=0.1, layout="dense")
    assert [type(s).__name__ for s in r.recipe().steps] == ["Prune", "Cast"]
    with pytest.raises(WeightsError, match="precision must be one of"):
        CompressionSettings(precision="int3")
    with pytest.raises(WeightsError, match="sparsity must be in"):
        CompressionSettings(prune="sparsity", sparsity=1.0)
    s = settings_from_options({"precision": "int4", "source": "adult-mlp", "tensor": "x"})
    assert s == CompressionSettings(precision="int4")
    with pytest.raises(WeightsError, match="no shipped model"):
        shipped_model_path("../secrets")


@pytest.mark.parametrize("name", SHIPPED_MODELS)
def test_uncompressed_accuracy_is_the_training_scripts(name):
    """The rebuilt test split gives the accuracy and AUC the training script recorded."""
    path = shipped_model_path(name)
    recorded = json.loads(path.with_suffix(".json").read_text())["metrics"]
    m = measure(path, CompressionSettings(precision="float32"), evaluator=shipped_evaluator(name))
    assert m.point.relative_error == 0 and m.point.snr_db == math.inf
    assert m.point.accuracy == pytest.approx(recorded["test_accuracy"], abs=1e-12)
    assert m.point.auc == pytest.approx(recorded["test_auc"], abs=1e-12)


def test_measured_point_matches_the_written_file(tmp_path, mlp_evaluator):
    src = shipped_model_path("adult-mlp")
    settings = CompressionSettings(
        precision="int4",
        symmetric=False,
        prune="sparsity",
        sparsity=0.5,
        scope="global",
        layout="bitmask",
    )
    m = measure(src, settings, evaluator=mlp_evaluator)
    assert m.point.written_bytes == len(m.data) == m.report.written_bytes
    assert m.point.original_bytes == src.stat().st_size
    rel, mx, snr = _brute_force(src, m.data, tmp_path)
    assert m.point.relative_error == pytest.approx(rel, rel=1e-9)
    assert m.point.max_abs_error == pytest.approx(mx, rel=1e-9)
    assert m.point.snr_db == pytest.approx(snr, rel=1e-9)
    # accuracy of the reconstructed tensors, by the saved model's own forward pass
    from core.models import accuracy, auc
    from core.models.saved import forward

    back = tmp_path / "c.safetensors"
    back.write_bytes(m.data)
    wf = open_weights(back)
    p = forward(mlp_evaluator.layers, {n: wf.tensor(n) for n in wf.names}, mlp_evaluator.X)
    assert m.point.accuracy == accuracy(mlp_evaluator.y, p)
    assert m.point.auc == auc(mlp_evaluator.y, p)
    # pruned globally to half of the matrices' entries; vectors are kept
    matrices = [t for t in m.report.tensors if "weight" in t.name]
    zeros = sum(t.sparsity * t.parameters for t in matrices)
    assert zeros == pytest.approx(0.5 * sum(t.parameters for t in matrices), abs=1)


def test_sweep_measures_every_grid_point_like_measure(mlp_evaluator):
    src = shipped_model_path("adult-mlp")
    settings = CompressionSettings(precision="int8", prune="sparsity", sparsity=0.3)
    sw = sweep(src, settings, evaluator=mlp_evaluator)
    assert len(sw.points) == len(SWEEP_PRECISIONS) * len(SWEEP_SPARSITIES)
    grid = {(p.precision, p.sparsity): p for p in sw.points}
    assert set(grid) == {(a, b) for a in SWEEP_PRECISIONS for b in SWEEP_SPARSITIES}
    for precision, sparsity in [("int4", 0.75), ("float32", 0.0)]:
        one = measure(
            src,
            CompressionSettings(
                precision=precision, prune="sparsity" if sparsity else "none", sparsity=sparsity
            ),
            evaluator=mlp_evaluator,
        ).point
        assert grid[precision, sparsity] == one
    # unpruned, fewer bits write fewer bytes
    sizes = [grid[p, 0.0].written_bytes for p in SWEEP_PRECISIONS]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) == len(sizes)
    # a bfloat16 setting stands in for float16 on the grid
    bf = sweep(src, CompressionSettings(precision="bfloat16"), sparsities=(0.0,))
    assert [p.precision for p in bf.points] == ["float32", "bfloat16", "int8", "int4"]
    assert bf.points[0].accuracy is None


def test_sweep_refuses_a_file_above_its_limit(monkeypatch, tmp_path):
    import core.weights.sweep as sw

    monkeypatch.setattr(sw, "WEIGHTS_SWEEP_MAX_BYTES", 100)
    with pytest.raises(WeightsError, match="above the sweep's limit of 100"):
        sw.sweep(shipped_model_path("adult-logistic"), CompressionSettings())


def test_the_pages_recipe_replays_from_the_command_line(tmp_path):
    """The recipe the page offers for download makes the same file through the CLI."""
    import io

    from core import cli

    settings = CompressionSettings(
        precision="int4", symmetric=False, prune="threshold", threshold=0.05, layout="bitmask"
    )
    src = shipped_model_path("adult-mlp")
    (tmp_path / "r.json").write_text(settings.recipe().to_json())
    out = tmp_path / "o.safetensors"
    argv = ["weights", "compress", str(src), "--recipe", str(tmp_path / "r.json"), "-o", str(out)]
    assert cli.main(argv, stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert out.read_bytes() == measure(src, settings).data
