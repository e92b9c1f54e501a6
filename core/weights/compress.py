"""Compress weights: prune by magnitude, quantize or cast, store sparse.

A :class:`WeightsRecipe` is a list of steps that always run in the order prune → quantize
or cast → sparsify, whatever order they are listed in; it serializes to JSON so the
command line (``python -m core weights compress --recipe``) replays it.

Quantize and prune act on floating tensors of two or more dimensions (matrices, kernels);
vectors and scalars (biases, norms) keep their values, as is usual. A cast acts on every
floating tensor. The output axis of a matrix is axis 0 (rows), as in PyTorch's
``Linear.weight`` of shape ``(out, in)``.

Quantization (``bits`` = 8 or 4, ``q_min = -2**(bits-1)``, ``q_max = 2**(bits-1) - 1``):

- symmetric: ``s = max|x| / q_max``, ``q = clip(round(x / s), q_min, q_max)``, ``x̂ = q·s``;
- asymmetric: ``lo = min(x, 0)``, ``hi = max(x, 0)``, ``s = (hi - lo) / (q_max - q_min)``,
  ``z = clip(round(q_min - lo / s), q_min, q_max)``, ``q = clip(round(x / s) + z, q_min,
  q_max)``, ``x̂ = (q - z)·s``;

each over the whole tensor or per output channel. Either way ``|x - x̂| ≤ s / 2`` (plus
float rounding), a zero stays exactly zero, and a channel of zeros gets ``s = 1``.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from core.errors import WeightsError

#: Rows quantized at a time, so temporaries stay a slice of the tensor.
_BLOCK_ELEMENTS = 1 << 16


@dataclass(frozen=True, slots=True, kw_only=True)
class Prune:
    """Zero the smallest weights by magnitude.

    ``sparsity`` in [0, 1): zero exactly ``floor(sparsity·n + 0.5)`` entries of each tensor
    (``scope="tensor"``) or of all prunable tensors together (``scope="global"``); among equal
    magnitudes the earlier position (tensor order, then C order) is zeroed first. Or
    ``threshold`` ≥ 0: zero every entry with ``|x| < threshold``. Give exactly one.
    """

    sparsity: float | None = None
    threshold: float | None = None
    scope: Literal["tensor", "global"] = "tensor"


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantize:
    """Quantize to ``bits`` (8 or 4), symmetric or with a zero point, per tensor or channel."""

    bits: int = 8
    symmetric: bool = True
    per_channel: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Cast:
    """Cast floating tensors to ``float16`` or ``bfloat16`` (round to nearest even)."""

    dtype: Literal["float16", "bfloat16"] = "float16"


@dataclass(frozen=True, slots=True, kw_only=True)
class Sparsify:
    """Store tensors without their zeros: ``csr`` (row pointers and column indices) or
    ``bitmask`` (one bit per entry, then the non-zero values)."""

    layout: Literal["csr", "bitmask"] = "csr"


Step = Prune | Quantize | Cast | Sparsify
_KINDS: dict[str, type[Any]] = {
    "prune": Prune,
    "quantize": Quantize,
    "cast": Cast,
    "sparsify": Sparsify,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightsRecipe:
    """Compression steps, validated on creation; replayable from JSON."""

    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        validate_steps(self.steps)

    def step(self, kind: type[Any]) -> Any:
        """The step of that class, or ``None``."""
        return next((s for s in self.steps if isinstance(s, kind)), None)

    def to_json(self) -> str:
        """The recipe as JSON text: ``{"steps": [{"step": "prune", ...}, ...]}``."""
        kinds = {v: k for k, v in _KINDS.items()}
        return json.dumps(
            {"steps": [{"step": kinds[type(s)], **asdict(s)} for s in self.steps]}, indent=2
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> WeightsRecipe:
        """Parse :meth:`to_json` output; a :class:`WeightsError` says what is wrong.

        >>> r = WeightsRecipe(steps=(Prune(sparsity=0.5), Quantize(bits=4)))
        >>> WeightsRecipe.from_json(r.to_json()) == r
        True
        """
        try:
            data = json.loads(text)
            steps = []
            for raw in data["steps"]:
                raw = dict(raw)
                kind = _KINDS[raw.pop("step")]
                steps.append(kind(**raw))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise WeightsError(
                'The weights recipe is not valid JSON of the form {"steps": [{"step": '
                '"prune"|"quantize"|"cast"|"sparsify", ...}]}. Write it again or export it '
                "from the command line's --recipe-out."
            ) from None
        return cls(steps=tuple(steps))


def validate_steps(steps: tuple[Any, ...]) -> None:
    """Raise :class:`WeightsError` unless the steps form a valid recipe."""
    kinds = [type(s) for s in steps]
    if any(k not in _KINDS.values() for k in kinds):
        raise WeightsError("A weights recipe step must be Prune, Quantize, Cast or Sparsify.")
    if len(set(kinds)) != len(kinds):
        raise WeightsError("A weights recipe has each kind of step at most once; got repeats.")
    if Quantize in kinds and Cast in kinds:
        raise WeightsError("Quantize and cast exclude each other; keep one of the two steps.")
    for s in steps:
        if isinstance(s, Prune):
            if (s.sparsity is None) == (s.threshold is None):
                raise WeightsError("Prune needs exactly one of sparsity or threshold.")
            for field_name in ("sparsity", "threshold"):
                value = getattr(s, field_name)
                if value is not None and (
                    isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real)
                ):
                    raise WeightsError(
                        f"Prune {field_name} must be a number; got a {type(value).__name__}. "
                        "Write it without quotes."
                    )
            if s.sparsity is not None and not 0 <= s.sparsity < 1:
                raise WeightsError(f"Prune sparsity must be in [0, 1); got {s.sparsity}.")
            if s.threshold is not None and not s.threshold >= 0:
                raise WeightsError(f"Prune threshold must be >= 0; got {s.threshold}.")
            if s.scope not in ("tensor", "global"):
                raise WeightsError(f"Prune scope must be 'tensor' or 'global'; got {s.scope!r}.")
        if isinstance(s, Quantize):
            if type(s.bits) is not int or s.bits not in (4, 8):
                raise WeightsError(f"Quantize bits must be 8 or 4; got {s.bits!r}.")
            for field_name in ("symmetric", "per_channel"):
                if not isinstance(getattr(s, field_name), bool):
                    raise WeightsError(
                        f"Quantize {field_name} must be true or false; got a "
                        f"{type(getattr(s, field_name)).__name__}."
                    )
        if isinstance(s, Cast) and s.dtype not in ("float16", "bfloat16"):
            raise WeightsError(f"Cast dtype must be 'float16' or 'bfloat16'; got {s.dtype!r}.")
        if isinstance(s, Sparsify) and s.layout not in ("csr", "bitmask"):
            raise WeightsError(f"Sparsify layout must be 'csr' or 'bitmask'; got {s.layout!r}.")


def as_rows(x: np.ndarray) -> np.ndarray:
    """``x`` viewed as ``(shape[0], rest)`` (output channels by inputs); empty tensors too.

    >>> as_rows(np.zeros((0, 3, 2))).shape, as_rows(np.zeros((4, 3, 2))).shape
    ((0, 6), (4, 6))
    """
    return x.reshape(x.shape[0], math.prod(x.shape[1:]))


def is_prunable(x: np.ndarray) -> bool:
    """Whether quantize and prune act on ``x``: floating, with two or more dimensions."""
    return x.dtype.kind == "f" and x.ndim >= 2


def _require_finite(name: str, x: np.ndarray) -> None:
    bad = int(x.size - np.count_nonzero(np.isfinite(x)))
    if bad:
        raise WeightsError(
            f"Tensor {name!r} has {bad:,} non-finite value(s) (NaN or infinity), which cannot "
            "be pruned or quantized. Fix the model, or leave this file uncompressed."
        )


#: The largest finite value of each dtype a step may write (bfloat16: 0x7F7F).
_FLOAT_MAX = {
    "float16": float(np.finfo(np.float16).max),
    "bfloat16": 3.3895313892515355e38,
    "float32": float(np.finfo(np.float32).max),
}


def _require_in_range(name: str, x: np.ndarray, target: str) -> None:
    """Raise unless every finite value of ``x`` stays finite when stored as ``target``.

    The cast is done for real (float16, bfloat16 by round to nearest even, float32), so a
    value just above the largest finite one that rounds down to it passes.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if target == "bfloat16":
            y = (to_bfloat16_bits(x) & 0x7FFF) == 0x7F80
        else:
            y = np.isinf(x.astype(target))
        bad = int(np.count_nonzero(y & np.isfinite(x)))
    if bad:
        raise WeightsError(
            f"Tensor {name!r} has {bad:,} value(s) beyond the range of {target} (largest "
            f"finite {_FLOAT_MAX[target]:.5g}), which would be stored as infinity. Quantize "
            "it, or leave it in its own dtype."
        )


# --- prune ---------------------------------------------------------------------------------


def prune_count(n: int, sparsity: float) -> int:
    """Entries zeroed for ``sparsity`` of ``n``: ``floor(sparsity·n + 0.5)``.

    >>> prune_count(10, 0.25), prune_count(3, 0.5)
    (3, 2)
    """
    return min(n, int(np.floor(sparsity * n + 0.5)))


def prune_tensor(
    x: np.ndarray, *, sparsity: float | None = None, threshold: float | None = None
) -> np.ndarray:
    """A copy of ``x`` with its smallest magnitudes zeroed (see :class:`Prune`).

    >>> prune_tensor(np.array([[3.0, -1.0], [1.0, 2.0]]), sparsity=0.5).tolist()
    [[3.0, 0.0], [0.0, 2.0]]
    """
    out = np.array(x, copy=True)
    flat = out.reshape(-1)
    if threshold is not None:
        flat[np.abs(flat) < threshold] = 0
        return out
    k = prune_count(flat.size, float(sparsity or 0.0))
    if k:
        order = np.argsort(np.abs(flat), kind="stable")
        flat[order[:k]] = 0
    return out


def global_prune_masks(tensors: dict[str, np.ndarray], sparsity: float) -> dict[str, np.ndarray]:
    """Index arrays (into each flattened tensor) of the entries global pruning zeroes."""
    names = list(tensors)
    mags = (
        np.concatenate([np.abs(tensors[n]).reshape(-1) for n in names]) if names else np.array([])
    )
    k = prune_count(mags.size, sparsity)
    chosen = np.sort(np.argsort(mags, kind="stable")[:k])
    del mags
    out, start = {}, 0
    for n in names:
        size = tensors[n].size
        lo, hi = np.searchsorted(chosen, [start, start + size])
        out[n] = chosen[lo:hi] - start
        start += size
    return out


# --- quantize and cast ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Quantized:
    """Integer codes of a tensor and what dequantizes them: ``(q - zero_point)·scale``.

    ``scale`` and ``zero_point`` have one entry per output channel (``axis=0``) or one in all
    (``axis=None``); ``codes`` are int8 in ``[q_min, q_max]`` (4-bit codes are packed only
    when written).
    """

    codes: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    bits: int
    axis: int | None
    symmetric: bool = True

    def dequantize(self) -> np.ndarray:
        """The float32 tensor the codes stand for."""
        return dequantize(self.codes, self.scale, self.zero_point, self.axis)


def dequantize(
    codes: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, axis: int | None
) -> np.ndarray:
    """``(codes - zero_point)·scale`` in float32, broadcast along ``axis`` (0 or None)."""
    shape = (-1,) + (1,) * (codes.ndim - 1) if axis == 0 else (1,) * codes.ndim
    s = scale.astype(np.float32).reshape(shape) if codes.ndim else scale.astype(np.float32)
    z = zero_point.astype(np.int16).reshape(shape) if codes.ndim else zero_point
    return ((codes.astype(np.int16) - z).astype(np.float32) * s).reshape(codes.shape)


def quantize_tensor(
    x: np.ndarray, *, bits: int = 8, symmetric: bool = True, per_channel: bool = True
) -> Quantized:
    """Quantize ``x`` as :class:`Quantize` describes; work in blocks of rows.

    >>> q = quantize_tensor(np.array([[1.0, -0.5], [0.2, 0.0]]), bits=8)
    >>> q.codes.tolist(), [round(float(s), 6) for s in q.scale]
    ([[127, -64], [127, 0]], [0.007874, 0.001575])
    """
    q_min, q_max = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    axis = 0 if per_channel and x.ndim >= 2 else None
    rows = as_rows(x) if axis == 0 else x.reshape(1, x.size)
    n_rows = rows.shape[0]
    if symmetric:
        hi = _reduce(rows, np.max, absolute=True)
        scale = hi / q_max
        zero = np.zeros(n_rows, dtype=np.int8)
    else:
        lo = np.minimum(_reduce(rows, np.min), 0.0)
        hi = np.maximum(_reduce(rows, np.max), 0.0)
        scale = (hi - lo) / (q_max - q_min)
    # float32 scales, never below the smallest normal float32 (subnormal weights), 1 for zeros
    tiny = float(np.finfo(np.float32).tiny)
    scale = np.where(scale > 0, np.maximum(scale, tiny), 1.0).astype(np.float32)
    if symmetric:  # a scale rounded up to float32 would put q_max·s past float32's limit
        over = scale.astype(np.float64) * q_max > _FLOAT_MAX["float32"]
        if over.any():
            scale = np.where(over, np.nextafter(scale, np.float32(0)), scale)
    else:
        zero = np.clip(np.round(q_min - lo / scale), q_min, q_max).astype(np.int8)
    lo_code, hi_code = _finite_code_range(scale, zero, q_min, q_max)
    codes = np.empty(rows.shape, dtype=np.int8)
    step = max(1, _BLOCK_ELEMENTS // max(1, rows.shape[1]))
    for i in range(0, n_rows, step):
        block = rows[i : i + step]
        s = scale[i : i + step, None] if axis == 0 else scale[:, None]
        z = zero[i : i + step, None] if axis == 0 else zero[:, None]
        t = block / s
        np.round(t, out=t)
        if not symmetric:
            t += z
        np.clip(t, q_min, q_max, out=t)
        if lo_code is not None and hi_code is not None:
            sl = slice(i, i + step) if axis == 0 else slice(None)
            np.clip(t, lo_code[sl, None], hi_code[sl, None], out=t)
        codes[i : i + step] = t
    return Quantized(
        codes=codes.reshape(x.shape),
        scale=scale,
        zero_point=zero,
        bits=bits,
        axis=axis,
        symmetric=symmetric,
    )


def _finite_code_range(
    scale: np.ndarray, zero: np.ndarray, q_min: int, q_max: int
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """Per-channel code bounds keeping ``(q - z)·s`` finite in float32, or ``(None, None)``.

    Only a range near float32's limit needs them: there, with a zero point rounded to an
    integer, a code at the end of the grid would dequantize one step past the largest
    float32. The kept codes still lie within half a step of every value, which is finite.
    """
    top = _FLOAT_MAX["float32"]
    s = scale.astype(np.float64)
    z = zero.astype(np.float64)
    lo = np.maximum(q_min, np.ceil(-top / s) + z)
    hi = np.minimum(q_max, np.floor(top / s) + z)
    if not (np.any(lo > q_min) or np.any(hi < q_max)):
        return None, None
    return lo, hi


def _reduce(rows: np.ndarray, fn: Any, *, absolute: bool = False) -> np.ndarray:
    """Per-row ``fn`` (as float64), one block of rows at a time."""
    out = np.empty(rows.shape[0], dtype=np.float64)
    step = max(1, _BLOCK_ELEMENTS // max(1, rows.shape[1]))
    for i in range(0, rows.shape[0], step):
        block = rows[i : i + step]
        out[i : i + step] = fn(np.abs(block) if absolute else block, axis=1) if block.size else 0
    return out


def to_bfloat16_bits(x: np.ndarray) -> np.ndarray:
    """float32 → bfloat16 bit patterns (``uint16``), rounding to nearest even; NaN stays NaN.

    >>> to_bfloat16_bits(np.array([1.0, 1.00390625], dtype=np.float32)).tolist()
    [16256, 16256]
    """
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    return np.where(np.isnan(x), np.uint16(0x7FC0), rounded).astype(np.uint16)
