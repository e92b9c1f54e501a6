"""The shipped Adult models: retrained from the script, loaded, run by the NumPy forward pass."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from core import samples
from core.errors import WeightsError
from core.models import design, forward, load_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "data" / "models"


def _script():
    spec = importlib.util.spec_from_file_location(
        "train_adult_model", ROOT / "scripts" / "train_adult_model.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def retrained():
    return _script().train()


def test_retraining_reproduces_the_shipped_weights_and_split(retrained):
    assert json.loads((MODELS / "adult-split.json").read_text()) == retrained["split"]
    for name, (tensors, desc) in retrained["models"].items():
        shipped = load_model(MODELS / f"{name}.json")
        assert set(shipped.tensors) == set(tensors)
        for key, value in tensors.items():
            np.testing.assert_allclose(shipped.tensors[key], value, rtol=1e-5, atol=1e-6)
        assert shipped.description["layers"] == desc["layers"]
        assert shipped.description["features"] == desc["features"]


def test_forward_pass_gives_the_recorded_test_metrics(retrained):
    from core.models import accuracy, auc, targets

    df = samples.adult().frame
    record = retrained["split"]
    test_rows = _script().split(len(df))[1]
    assert test_rows.size == record["n_test"]
    for name in ("adult-logistic", "adult-mlp"):
        model = load_model(MODELS / f"{name}.json")
        test = df.iloc[test_rows]
        p = model.predict_proba(test)
        y = targets(model.features, test)
        metrics = model.description["metrics"]
        assert accuracy(y, p) == pytest.approx(metrics["test_accuracy"], abs=2e-4)
        assert auc(y, p) == pytest.approx(metrics["test_auc"], abs=1e-4)
        assert metrics["test_accuracy"] > metrics["majority_baseline"] + 0.05


def test_forward_refuses_weights_that_do_not_fit_the_description():
    model = load_model(MODELS / "adult-logistic.json")
    X = design(model.features, samples.adult().frame.head(3))
    bad = dict(model.tensors)
    bad["dense.weight"] = bad["dense.weight"][:, :-1]
    with pytest.raises(WeightsError, match="do not match"):
        forward(model.description["layers"], bad, X)
    with pytest.raises(WeightsError, match="model takes"):
        forward(model.description["layers"], model.tensors, X[:, :-1])


def test_load_model_refuses_other_json(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "other"}')
    with pytest.raises(WeightsError, match="not a version-1 PrivLens model"):
        load_model(path)
