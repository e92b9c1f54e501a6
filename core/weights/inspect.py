"""Inspect weights: a table of tensors with their statistics, and a tensor's histogram.

Statistics are computed in float64 one tensor at a time; ``zero_share`` counts entries equal
to zero (NaN is not zero). A tensor with NaN or infinity reports NaN for min/max/mean/std
and the count in ``non_finite``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.errors import WeightsError
from core.limits import WEIGHTS_HISTOGRAM_BINS, WEIGHTS_HISTOGRAM_MAX_BINS
from core.weights.intake import WeightsFile


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorStats:
    """One row of the tensor table."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    parameters: int
    bytes: int
    min: float
    max: float
    mean: float
    std: float
    zero_share: float
    non_finite: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightsSummary:
    """The tensor table and its totals."""

    file: str
    format: str
    file_bytes: int
    tensors: tuple[TensorStats, ...]
    total_parameters: int
    total_bytes: int
    zero_share: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Histogram:
    """Counts of a tensor's finite values in equal-width bins (``len(edges) = bins + 1``)."""

    name: str
    edges: tuple[float, ...]
    counts: tuple[int, ...]


def tensor_stats(name: str, x: np.ndarray, nbytes: int | None = None) -> TensorStats:
    """Statistics of one tensor.

    >>> s = tensor_stats("w", np.array([[0.0, 2.0], [4.0, 0.0]], dtype=np.float32))
    >>> s.parameters, s.min, s.max, s.mean, s.std, s.zero_share
    (4, 0.0, 4.0, 1.5, 1.6583123951777, 0.5)
    """
    flat = x.reshape(-1)
    n = int(flat.size)
    zeros = n - int(np.count_nonzero(flat))
    if flat.dtype.kind == "f":
        non_finite = n - int(np.count_nonzero(np.isfinite(flat)))
    else:
        non_finite = 0
    if n == 0 or non_finite:
        lo = hi = mean = std = float("nan")
    else:
        v = flat.astype(np.float64)
        lo, hi = float(v.min()), float(v.max())
        # sums overflow above ~1e150 (squares) or 1e308: compute on values scaled by max|v|
        m = max(abs(lo), abs(hi))
        m = m if m > 1e150 else 1.0
        u = v / m if m != 1.0 else v
        mean, std = m * float(u.mean()), m * float(u.std())
    return TensorStats(
        name=name,
        shape=tuple(int(d) for d in x.shape),
        dtype=x.dtype.name,
        parameters=n,
        bytes=int(x.nbytes if nbytes is None else nbytes),
        min=lo,
        max=hi,
        mean=mean,
        std=std,
        zero_share=zeros / n if n else 0.0,
        non_finite=non_finite,
    )


def inspect_weights(wf: WeightsFile) -> WeightsSummary:
    """The table of ``wf``'s tensors with totals (bytes as stored, bfloat16 as 2)."""
    rows = []
    for spec in wf.specs:
        rows.append(tensor_stats(spec.name, wf.tensor(spec.name), spec.nbytes))
    params = sum(r.parameters for r in rows)
    zeros = sum(r.zero_share * r.parameters for r in rows)
    return WeightsSummary(
        file=wf.path.name,
        format=wf.format,
        file_bytes=wf.file_bytes,
        tensors=tuple(rows),
        total_parameters=params,
        total_bytes=sum(r.bytes for r in rows),
        zero_share=zeros / params if params else 0.0,
    )


def histogram(wf: WeightsFile, name: str, *, bins: int = WEIGHTS_HISTOGRAM_BINS) -> Histogram:
    """Histogram of tensor ``name``'s finite values.

    Raises
    ------
    WeightsError
        No such tensor, or ``bins`` outside [1, WEIGHTS_HISTOGRAM_MAX_BINS].
    """
    if not 1 <= bins <= WEIGHTS_HISTOGRAM_MAX_BINS:
        raise WeightsError(
            f"bins must be in [1, {WEIGHTS_HISTOGRAM_MAX_BINS}]; got {bins}. Pick fewer bins."
        )
    x = wf.tensor(name).reshape(-1)
    if x.dtype.kind == "b":
        x = x.astype(np.uint8)
    v = x[np.isfinite(x)] if x.dtype.kind == "f" else x
    if v.size == 0:
        return Histogram(name=name, edges=(0.0, 1.0), counts=(0,))
    v64 = v.astype(np.float64)
    lo, hi = float(v64.min()), float(v64.max())
    if math.isfinite(hi - lo):
        counts, edges = np.histogram(v64, bins=bins)
    else:  # the range itself overflows: bin the values scaled by max|v|, then scale back
        m = max(abs(lo), abs(hi))
        counts, edges = np.histogram(v64 / m, bins=bins, range=(lo / m, hi / m))
        edges = edges * m
    return Histogram(
        name=name, edges=tuple(float(e) for e in edges), counts=tuple(int(c) for c in counts)
    )
