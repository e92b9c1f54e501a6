"""Model weights: open safely, inspect, compress (prune, quantize, sparsify), encrypt.

The parts: :mod:`core.weights.intake` (safetensors, ``.npz``, ONNX; pickle refused),
:mod:`core.weights.inspect` (tensor table, histogram), :mod:`core.weights.compress` (the
steps and the recipe), :mod:`core.weights.format` (the compressed safetensors layout of
``docs/weights-format.md`` and its loader), :mod:`core.weights.metrics` (compress a file and
measure it) and :mod:`core.weights.secure` (encryption). Import from ``core.weights``.
"""

from __future__ import annotations

from core.weights.compress import (
    Cast,
    Prune,
    Quantize,
    Quantized,
    Sparsify,
    WeightsRecipe,
    dequantize,
    prune_count,
    prune_tensor,
    quantize_tensor,
)
from core.weights.format import FORMAT_VERSION, pack_int4, unpack_int4, write_compressed
from core.weights.inspect import (
    Histogram,
    TensorStats,
    WeightsSummary,
    histogram,
    inspect_weights,
    tensor_stats,
)
from core.weights.intake import PICKLE_EXTENSIONS, TensorSpec, WeightsFile, open_weights
from core.weights.metrics import (
    CompressionReport,
    TensorError,
    compress_file,
    compress_weights,
    tensor_error,
)
from core.weights.secure import encrypt_weights, encrypt_weights_bytes

__all__ = [
    "FORMAT_VERSION",
    "PICKLE_EXTENSIONS",
    "Cast",
    "CompressionReport",
    "Histogram",
    "Prune",
    "Quantize",
    "Quantized",
    "Sparsify",
    "TensorError",
    "TensorSpec",
    "TensorStats",
    "WeightsFile",
    "WeightsRecipe",
    "WeightsSummary",
    "compress_file",
    "compress_weights",
    "dequantize",
    "encrypt_weights",
    "encrypt_weights_bytes",
    "histogram",
    "inspect_weights",
    "open_weights",
    "pack_int4",
    "prune_count",
    "prune_tensor",
    "quantize_tensor",
    "tensor_error",
    "tensor_stats",
    "unpack_int4",
    "write_compressed",
]
