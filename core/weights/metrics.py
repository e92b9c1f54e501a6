"""Compress a weights file and measure the result: bytes written and error per tensor.

Nothing here is estimated: the size is that of the file actually written, and each
tensor's error compares the tensor read back from that file with the original.

- relative Frobenius error ``‖x - x̂‖_F / ‖x‖_F`` (0 when both are zero, infinity when only
  ``x`` is);
- maximum absolute error ``max |x - x̂|``;
- signal-to-noise ratio ``10·log10(Σx² / Σ(x - x̂)²)`` dB (infinity without error).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import WeightsError
from core.weights.compress import (
    Cast,
    Prune,
    Quantize,
    Sparsify,
    WeightsRecipe,
    _require_finite,
    _require_in_range,
    global_prune_masks,
    is_prunable,
    prune_tensor,
    quantize_tensor,
)
from core.weights.format import Encoded, encode_tensor, serialize_compressed, write_compressed
from core.weights.intake import WeightsFile, open_weights


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorError:
    """Error of one tensor read back from the written file against the original."""

    name: str
    parameters: int
    relative_error: float
    max_abs_error: float
    snr_db: float
    sparsity: float
    storage: str
    layout: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressionReport:
    """Bytes of the original and of the written file, and the error of each tensor."""

    original_bytes: int
    written_bytes: int
    tensors: tuple[TensorError, ...]
    recipe: WeightsRecipe
    warnings: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        """``original_bytes / written_bytes``."""
        return self.original_bytes / self.written_bytes if self.written_bytes else math.inf


def tensor_error(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(relative Frobenius error, max abs error, SNR dB)`` of ``y`` against ``x``.

    >>> tensor_error(np.array([3.0, 4.0]), np.array([3.0, 3.0]))
    (0.2, 1.0, 13.979400086720377)
    """
    if x.shape != y.shape:
        raise WeightsError(f"Shapes differ: {x.shape} against {y.shape}.")
    if x.size == 0:
        return 0.0, 0.0, math.inf
    with np.errstate(all="ignore"):  # inf - inf is NaN, and says so below
        x64 = x.astype(np.float64).reshape(-1)
        d = y.astype(np.float64).reshape(-1) - x64
        max_d = float(np.max(np.abs(d)))
        if max_d == 0:
            return 0.0, 0.0, math.inf
        if not math.isfinite(max_d):  # NaN stays NaN; an infinite error is infinite
            return (max_d, max_d, -max_d) if max_d > 0 else (max_d, max_d, max_d)
        # sums of squares overflow above ~1e154 and underflow below ~1e-154: scale them
        m = max(float(np.max(np.abs(x64))), max_d)
        if 1e-150 < m < 1e150:
            m = 1.0
        xs, ds = x64 / m, d / m
        signal, noise = float(np.sum(xs * xs)), float(np.sum(ds * ds))
    if noise == 0:  # an error below 1e-154 of the largest value
        return 0.0, max_d, math.inf
    rel = math.sqrt(noise / signal) if signal else math.inf
    snr = 10 * math.log10(signal / noise) if signal else -math.inf
    return rel, max_d, snr


def compress_file(
    src: str | os.PathLike[str], dst: str | os.PathLike[str], recipe: WeightsRecipe
) -> CompressionReport:
    """Apply ``recipe`` to the weights at ``src``, write ``dst`` and measure it.

    Parameters
    ----------
    src : path-like
        A weights file :func:`core.weights.open_weights` reads.
    dst : path-like
        The ``.safetensors`` file to write (format in ``docs/weights-format.md``).
    recipe : WeightsRecipe
        Steps, run in the order prune → quantize or cast → sparsify.

    Returns
    -------
    CompressionReport

    Raises
    ------
    WeightsError
        An unreadable input, a tensor with NaN or infinity that a step would change, or an
        output name that is not ``.safetensors`` or is the input itself.
    """
    s, d = Path(src), Path(dst)
    if d.suffix.lower() != ".safetensors":
        raise WeightsError(f"The output must end in .safetensors; got '{d.suffix}'.")
    if d.exists() and d.resolve() == s.resolve():
        raise WeightsError("The output is the input file itself. Choose another output name.")
    wf = open_weights(s)
    encoded = _encode_all(wf, recipe)
    written = write_compressed(d, encoded, recipe_json=recipe.to_json())
    return _report(wf, open_weights(d), encoded, written, recipe)


def compress_weights(src: WeightsFile, recipe: WeightsRecipe) -> tuple[CompressionReport, bytes]:
    """Apply ``recipe`` to the opened weights ``src``, in memory: the report and the file.

    The same steps and measurements as :func:`compress_file`, but the compressed
    safetensors file is built as bytes and read back from them, so an upload never reaches
    a disk. ``written_bytes`` is the length of those bytes, which :func:`compress_file` would
    write byte for byte.

    Raises
    ------
    WeightsError
        A tensor with NaN or infinity that a step would change, or a damaged input.
    """
    encoded = _encode_all(src, recipe)
    data = serialize_compressed(encoded, recipe_json=recipe.to_json())
    back = open_weights(data, name="compressed.safetensors")
    return _report(src, back, encoded, len(data), recipe), data


def _encode_all(wf: WeightsFile, recipe: WeightsRecipe) -> list[Encoded]:
    """Every tensor of ``wf`` through the recipe's steps."""
    prune: Prune | None = recipe.step(Prune)
    quant: Quantize | None = recipe.step(Quantize)
    cast: Cast | None = recipe.step(Cast)
    sparse: Sparsify | None = recipe.step(Sparsify)
    global_idx: dict[str, np.ndarray] = {}
    if prune is not None and prune.scope == "global" and prune.sparsity is not None:
        prunable = {}
        for name, x in wf.tensors():
            if is_prunable(x):
                _require_finite(name, x)
                prunable[name] = x
        global_idx = global_prune_masks(prunable, prune.sparsity)
        del prunable
    return [_encode(name, x, prune, quant, cast, sparse, global_idx) for name, x in wf.tensors()]


def _report(
    wf: WeightsFile,
    back: WeightsFile,
    encoded: list[Encoded],
    written: int,
    recipe: WeightsRecipe,
) -> CompressionReport:
    """Each tensor read back from the written file against the original."""
    errors = []
    for e in encoded:
        x, y = wf.tensor(e.name), back.tensor(e.name)
        rel, mx, snr = tensor_error(x, y)
        errors.append(
            TensorError(
                name=e.name,
                parameters=int(x.size),
                relative_error=rel,
                max_abs_error=mx,
                snr_db=snr,
                sparsity=1 - float(np.count_nonzero(y)) / y.size if y.size else 0.0,
                storage=e.entry["storage"],
                layout=e.entry["layout"],
            )
        )
    return CompressionReport(
        original_bytes=wf.file_bytes, written_bytes=written, tensors=tuple(errors), recipe=recipe
    )


def _encode(
    name: str,
    x: np.ndarray,
    prune: Prune | None,
    quant: Quantize | None,
    cast: Cast | None,
    sparse: Sparsify | None,
    global_idx: dict[str, np.ndarray],
) -> Encoded:
    """One tensor through the steps that apply to it."""
    if not is_prunable(x):
        if cast is None or x.dtype.kind != "f":
            return encode_tensor(name, x)
        _require_in_range(name, x, cast.dtype)
        return encode_tensor(name, x, cast=cast.dtype)
    _require_finite(name, x)
    if x.dtype.itemsize > 4 and quant is not None:  # quantized tensors read back as float32
        _require_in_range(name, x, "float32")
    if cast is not None:
        _require_in_range(name, x, cast.dtype)
    if prune is not None:
        if name in global_idx:
            x = np.array(x, copy=True)
            x.reshape(-1)[global_idx[name]] = 0
        elif prune.scope == "tensor" or prune.threshold is not None:
            x = prune_tensor(x, sparsity=prune.sparsity, threshold=prune.threshold)
    layout = sparse.layout if sparse else "dense"
    if quant is not None:
        q = quantize_tensor(
            x, bits=quant.bits, symmetric=quant.symmetric, per_channel=quant.per_channel
        )
        return encode_tensor(name, x, quantized=q, layout=layout)
    return encode_tensor(name, x, cast=cast.dtype if cast else None, layout=layout)
