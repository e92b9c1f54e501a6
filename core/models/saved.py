"""Saved models: safetensors weights plus a JSON description of the layers, and a forward pass.

A saved model is two files side by side, ``NAME.safetensors`` (the tensors) and ``NAME.json``::

    {"format": "privlens-model", "version": 1, "name": "adult-logistic",
     "weights_file": "adult-logistic.safetensors",
     "features": {...},                         # FeatureSpec.to_dict(): the frozen encoding
     "layers": [{"type": "dense", "weight": "dense.weight", "bias": "dense.bias",
                 "in": 104, "out": 1, "activation": "sigmoid"}],
     "training": {...}, "metrics": {...}}

A dense layer computes ``act(x W^T + b)`` with ``W`` of shape ``(out, in)`` (one row per
output channel, the layout per-channel quantization expects) and ``b`` of shape ``(out,)``;
activations are ``relu``, ``sigmoid`` and ``identity``. The last layer has one output, the
probability of the positive class. :func:`forward` takes the tensors as a mapping, so the
same description runs on compressed-then-reconstructed weights.

>>> import numpy as np
>>> layers = [{"type": "dense", "weight": "w", "bias": "b", "in": 2, "out": 1,
...            "activation": "sigmoid"}]
>>> forward(layers, {"w": np.array([[1.0, -1.0]]), "b": np.array([0.0])},
...         np.array([[0.0, 0.0]])).tolist()
[0.5]
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from core.errors import WeightsError
from core.models.features import FeatureSpec, design, spec_from_dict

__all__ = ["FORMAT", "SavedModel", "forward", "load_model", "save_model"]

FORMAT = "privlens-model"
_ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": expit,
    "identity": lambda z: z,
}


def _check_layers(layers: Sequence[Mapping[str, Any]], tensors: Mapping[str, np.ndarray]) -> None:
    if not layers:
        raise WeightsError("The model description has no layers. Use a description with layers.")
    width = None
    for i, layer in enumerate(layers, 1):
        if layer.get("type") != "dense" or layer.get("activation") not in _ACTIVATIONS:
            raise WeightsError(
                f"Layer {i} is not a dense layer with a known activation "
                f"({', '.join(_ACTIVATIONS)})."
            )
        w, b = str(layer.get("weight")), str(layer.get("bias"))
        if w not in tensors or b not in tensors:
            raise WeightsError(
                f"Layer {i} needs tensors {w!r} and {b!r}; {len(tensors)} tensor(s) were given "
                "and at least one is missing."
            )
        ws, bs = tuple(tensors[w].shape), tuple(tensors[b].shape)
        out, inp = layer.get("out"), layer.get("in")
        if ws != (out, inp) or bs != (out,) or (width is not None and inp != width):
            raise WeightsError(
                f"Layer {i}: weight shape {ws} and bias shape {bs} do not match the described "
                f"{out} x {inp} layer fed by {width} input(s)."
            )
        width = out
    if width != 1:
        raise WeightsError(f"The last layer must have 1 output (a probability); it has {width}.")


def forward(
    layers: Sequence[Mapping[str, Any]], tensors: Mapping[str, np.ndarray], X: np.ndarray
) -> np.ndarray:
    """Probability of the positive class for every row of the design matrix ``X``.

    Raises
    ------
    WeightsError
        Missing tensors, shapes that do not chain, an unknown layer type or activation, or an
        input width other than the first layer's.
    """
    _check_layers(layers, tensors)
    x = np.asarray(X, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != layers[0]["in"]:
        raise WeightsError(
            f"The model takes {layers[0]['in']} feature(s); got an input of shape {x.shape}."
        )
    for layer in layers:
        w = np.asarray(tensors[layer["weight"]], dtype=np.float64)
        b = np.asarray(tensors[layer["bias"]], dtype=np.float64)
        x = _ACTIVATIONS[layer["activation"]](x @ w.T + b)
    return np.asarray(x[:, 0])


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedModel:
    """A loaded model: its description, feature encoding and tensors."""

    description: dict[str, Any]
    features: FeatureSpec
    tensors: dict[str, np.ndarray]

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Probability of the positive class for every row of a table."""
        return forward(self.description["layers"], self.tensors, design(self.features, df))


def save_model(
    directory: str | Path, name: str, tensors: Mapping[str, np.ndarray], description: dict[str, Any]
) -> tuple[Path, Path]:
    """Write ``NAME.safetensors`` and ``NAME.json``; return their paths."""
    from safetensors.numpy import save_file

    _check_layers(description["layers"], tensors)
    directory = Path(directory)
    weights = directory / f"{name}.safetensors"
    meta = directory / f"{name}.json"
    body = {"format": FORMAT, "version": 1, "name": name, "weights_file": weights.name}
    body.update(description)
    save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(weights))
    meta.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return weights, meta


def load_model(description_path: str | Path) -> SavedModel:
    """Load ``NAME.json`` and the safetensors file it names (in the same folder).

    Raises
    ------
    WeightsError
        Not a PrivLens model description, or weights that do not fit it.
    """
    from safetensors.numpy import load_file

    path = Path(description_path)
    try:
        desc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise WeightsError(
            f"{path.name} is not a JSON model description. Pass the .json file written "
            "next to the weights."
        ) from None
    if not isinstance(desc, dict) or desc.get("format") != FORMAT or desc.get("version") != 1:
        raise WeightsError(
            f"{path.name} is not a version-1 PrivLens model description. Pass the .json file "
            "written by the training script."
        )
    weights = path.parent / Path(str(desc.get("weights_file", ""))).name
    try:
        tensors = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types
        raise WeightsError(
            f"The weights file {weights.name} cannot be read as safetensors ({type(exc).__name__})."
        ) from None
    _check_layers(desc["layers"], tensors)
    try:
        spec = spec_from_dict(desc["features"])
    except Exception:
        raise WeightsError(f"{path.name} has no valid feature description.") from None
    return SavedModel(description=desc, features=spec, tensors=dict(tensors))
