"""Write compressed weights as safetensors with documented metadata, and read them back.

The layout is specified in ``docs/weights-format.md``. In short: every logical tensor
``NAME`` is stored as one or more safetensors tensors named ``NAME`` (dense, unquantized) or
``NAME::codes``, ``NAME::scale``, ``NAME::zero_point``, ``NAME::values``, ``NAME::indptr``,
``NAME::indices``, ``NAME::mask``; the ``__metadata__`` key ``privlens.weights`` holds JSON
saying, for each logical tensor, its shape and original dtype, its storage (float32,
float16, bfloat16, int8, int4), its quantization (bits, scheme, axis, and the names of the
scale and zero point tensors) and its layout (dense, csr, bitmask). Any safetensors reader
opens the file; :func:`open_compressed` (and :func:`core.weights.open_weights`) reconstructs
float32 tensors.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import WeightsError
from core.limits import WEIGHTS_MAX_NDIM, WEIGHTS_MAX_TENSOR_BYTES
from core.weights.compress import Quantized, as_rows, dequantize, to_bfloat16_bits
from core.weights.intake import FORMAT_KEY, TensorSpec, WeightsFile, bfloat16_to_float32

#: Version of the metadata layout written.
FORMAT_VERSION = 1
SEP = "::"


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    """One logical tensor ready to write: its stored parts and its metadata entry."""

    name: str
    parts: dict[str, np.ndarray]
    entry: dict[str, Any]


def pack_int4(codes: np.ndarray) -> np.ndarray:
    """Pack 4-bit codes in [-8, 7] two per byte: element 2i in the low nibble, 2i+1 high.

    >>> pack_int4(np.array([1, -1, 7], dtype=np.int8)).tolist()
    [241, 7]
    """
    u = (codes.reshape(-1).astype(np.int16) & 0x0F).astype(np.uint8)
    if u.size % 2:
        u = np.append(u, np.uint8(0))
    return (u[0::2] | (u[1::2] << 4)).astype(np.uint8)


def unpack_int4(packed: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack_int4`: ``n`` int8 codes.

    >>> unpack_int4(np.array([241, 7], dtype=np.uint8), 3).tolist()
    [1, -1, 7]
    """
    out = np.empty(packed.size * 2, dtype=np.int8)
    out[0::2] = (packed & 0x0F).astype(np.int8)
    out[1::2] = (packed >> 4).astype(np.int8)
    out[out >= 8] -= 16
    return out[:n]


def encode_tensor(
    name: str,
    x: np.ndarray,
    *,
    quantized: Quantized | None = None,
    cast: str | None = None,
    layout: str = "dense",
) -> Encoded:
    """Stored parts and metadata of one tensor (``x`` after pruning; codes if quantized)."""
    entry: dict[str, Any] = {"shape": list(x.shape), "dtype": x.dtype.name, "layout": layout}
    parts: dict[str, np.ndarray] = {}
    if quantized is not None:
        q = quantized
        entry["storage"] = f"int{q.bits}"
        entry["quantization"] = {
            "bits": q.bits,
            "scheme": "symmetric" if q.symmetric else "asymmetric",
            "axis": q.axis,
            "scale": name + SEP + "scale",
            "zero_point": name + SEP + "zero_point",
        }
        parts[name + SEP + "scale"] = q.scale.astype(np.float32)
        parts[name + SEP + "zero_point"] = q.zero_point.astype(np.int8)
        data = q.codes
        zero = (
            q.zero_point.reshape((-1,) + (1,) * (data.ndim - 1))
            if q.axis == 0
            else (q.zero_point.reshape(()))
        )
        nonzero = data != zero
    else:
        entry["quantization"] = None
        if cast == "float16":
            data = x.astype(np.float16)
        elif cast == "bfloat16" and x.dtype.kind == "f":
            data = to_bfloat16_bits(x)
        else:
            data = x
        entry["storage"] = "bfloat16" if data.dtype == np.uint16 and cast else data.dtype.name
        nonzero = x != 0
    if layout == "dense" or x.ndim < 1:
        entry["layout"] = "dense"
        body = data.reshape(-1)
        key = name + SEP + "codes" if quantized is not None else name
        parts[key] = pack_int4(body) if entry["storage"] == "int4" else data
        return Encoded(name=name, parts=parts, entry=entry)
    values = data[nonzero]
    entry["nonzero"] = int(values.size)
    parts[name + SEP + "values"] = pack_int4(values) if entry["storage"] == "int4" else values
    if layout == "bitmask":
        parts[name + SEP + "mask"] = np.packbits(nonzero.reshape(-1))
    else:
        rows = as_rows(nonzero) if x.ndim >= 2 else nonzero.reshape(1, x.size)
        r, c = np.nonzero(rows)
        counts = np.bincount(r, minlength=rows.shape[0])
        parts[name + SEP + "indptr"] = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        cols = rows.shape[1]
        idx_t = np.uint16 if cols <= 2**16 else np.int32 if cols < 2**31 else np.int64
        parts[name + SEP + "indices"] = c.astype(idx_t)
    return Encoded(name=name, parts=parts, entry=entry)


def _assemble(encoded: list[Encoded], recipe_json: str) -> tuple[dict[str, np.ndarray], str]:
    """The stored tensors and the ``privlens.weights`` metadata JSON of ``encoded``."""
    tensors: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"version": FORMAT_VERSION, "tensors": {}}
    for e in encoded:
        clash = [k for k in e.parts if k in tensors]
        if clash or e.name in meta["tensors"]:
            raise WeightsError(
                "Two tensors map to the same stored name (a name containing '::'). Rename the "
                "tensors before compressing."
            )
        tensors.update({k: np.ascontiguousarray(v) for k, v in e.parts.items()})
        meta["tensors"][e.name] = e.entry
    meta["recipe"] = json.loads(recipe_json)
    return tensors, json.dumps(meta, separators=(",", ":"))


def write_compressed(
    path: str | os.PathLike[str], encoded: list[Encoded], *, recipe_json: str = "{}"
) -> int:
    """Write the tensors as one safetensors file; return the bytes written."""
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    tensors, meta = _assemble(encoded, recipe_json)
    try:
        save_file(tensors, str(path), metadata={FORMAT_KEY: meta})
    except (SafetensorError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "I/O error"
        if isinstance(exc, SafetensorError) and "No such file or directory" in str(exc):
            reason = "its folder does not exist"
        raise WeightsError(
            f"Could not write {Path(path).name} ({reason}). Pick an output in a folder that "
            "exists and that you may write to, with room for the file."
        ) from None
    return Path(path).stat().st_size


def serialize_compressed(encoded: list[Encoded], *, recipe_json: str = "{}") -> bytes:
    """The bytes :func:`write_compressed` writes, built in memory (nothing touches a disk)."""
    from safetensors.numpy import save

    tensors, meta = _assemble(encoded, recipe_json)
    return save(tensors, metadata={FORMAT_KEY: meta})


def _bad(wf: WeightsFile, what: str) -> WeightsError:
    return WeightsError(
        f"{wf.path.name} has PrivLens weights metadata that does not match its tensors: {what}. "
        "The file is damaged; compress the original weights again."
    )


def open_compressed(raw: WeightsFile) -> WeightsFile:
    """A view of a compressed file whose tensors are the reconstructed float32 tensors."""
    try:
        meta = json.loads(raw.metadata[FORMAT_KEY])
        version, entries = meta["version"], meta["tensors"]
        if not isinstance(entries, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise _bad(raw, "the metadata is not the documented JSON") from None
    if version != FORMAT_VERSION:
        raise WeightsError(
            f"{raw.path.name} uses PrivLens weights format version {version!r}; this PrivLens "
            f"reads version {FORMAT_VERSION}. Update PrivLens."
        )
    stored = {s.name: s for s in raw.specs}
    specs = []
    for i, (name, e) in enumerate(entries.items(), 1):
        try:
            shape = tuple(int(d) for d in e["shape"])
            if (
                len(shape) > WEIGHTS_MAX_NDIM
                or any(d < 0 for d in shape)
                or e["layout"] not in ("dense", "csr", "bitmask")
            ):
                raise ValueError
            storage = str(e["storage"])
        except (KeyError, TypeError, ValueError):
            raise _bad(raw, f"entry {i} lacks a valid shape, layout or storage") from None
        for part in _parts(name, e):
            if part not in stored:
                raise _bad(raw, f"entry {i} names a stored tensor that is missing")
        n = math.prod(shape)
        out_dtype = "float32" if e.get("quantization") or storage == "bfloat16" else storage
        try:
            itemsize = np.dtype(out_dtype).itemsize
        except TypeError:
            raise _bad(raw, f"entry {i} has an unknown storage") from None
        if n * itemsize > WEIGHTS_MAX_TENSOR_BYTES:
            raise WeightsError(
                f"{raw.path.name}: tensor {i} would expand to {n * itemsize:,} bytes, above the "
                f"limit of {WEIGHTS_MAX_TENSOR_BYTES:,} (WEIGHTS_MAX_TENSOR_BYTES)."
            )
        specs.append(TensorSpec(name=name, shape=shape, dtype=out_dtype, nbytes=n * itemsize))

    def read(spec: TensorSpec) -> np.ndarray:
        try:
            return _reconstruct(raw, spec, entries[spec.name])
        except WeightsError:
            raise
        except (ValueError, IndexError, TypeError, KeyError):
            raise _bad(raw, "a tensor's parts do not fit its shape") from None

    return WeightsFile(
        path=raw.path,
        format="privlens-compressed",
        specs=tuple(specs),
        metadata=raw.metadata,
        file_bytes=raw.file_bytes,
        _reader=read,
    )


def _parts(name: str, e: dict[str, Any]) -> list[str]:
    q = e.get("quantization")
    out = [q["scale"], q["zero_point"]] if q else []
    if e["layout"] == "dense":
        out.append(name + SEP + "codes" if q else name)
    elif e["layout"] == "csr":
        out += [name + SEP + "values", name + SEP + "indptr", name + SEP + "indices"]
    else:
        out += [name + SEP + "values", name + SEP + "mask"]
    return out


def _reconstruct(raw: WeightsFile, spec: TensorSpec, e: dict[str, Any]) -> np.ndarray:
    name, shape, n = spec.name, spec.shape, spec.parameters
    q = e.get("quantization")
    storage = e["storage"]
    int4 = storage == "int4"

    def values(key: str, count: int) -> np.ndarray:
        v = raw.tensor(key).reshape(-1)
        if int4:
            if v.dtype != np.uint8 or v.size != (count + 1) // 2:
                raise _bad(raw, "packed 4-bit codes of the wrong length")
            return unpack_int4(v, count)
        if v.size != count:
            raise _bad(raw, "a stored tensor of the wrong length")
        want = "int8" if q else "uint16" if storage == "bfloat16" else storage
        if v.dtype.name != want:
            raise _bad(raw, f"stored values of dtype {v.dtype.name} where {want} was declared")
        return v

    if q:
        scale = raw.tensor(q["scale"]).reshape(-1)
        zero = raw.tensor(q["zero_point"]).reshape(-1)
        channels = shape[0] if q["axis"] == 0 and shape else 1
        if scale.size != channels or zero.size != channels or q["bits"] not in (4, 8):
            raise _bad(raw, "scale or zero point of the wrong length")
    layout = e["layout"]
    if layout == "dense":
        flat = values(name + SEP + "codes" if q else name, n)
    else:
        nnz = int(e.get("nonzero", -1))
        vals = values(name + SEP + "values", nnz)

        def background() -> np.ndarray:  # after the parts were checked against the shape
            if not q:
                return np.zeros(n, dtype=vals.dtype)
            return np.repeat(zero.astype(np.int8), n // channels if channels else 0)

        if layout == "bitmask":
            packed = raw.tensor(name + SEP + "mask").reshape(-1)
            if packed.dtype != np.uint8 or packed.size != (n + 7) // 8:
                raise _bad(raw, "a bit mask of the wrong length")
            mask = np.unpackbits(packed, count=n).astype(bool)
            if int(mask.sum()) != nnz:
                raise _bad(raw, "a bit mask whose count differs from the values")
            flat = background()
            flat[mask] = vals
        else:
            rows = shape[0] if len(shape) >= 2 else 1
            cols = n // rows if rows else 0
            indptr = raw.tensor(name + SEP + "indptr").reshape(-1).astype(np.int64)
            idx = raw.tensor(name + SEP + "indices").reshape(-1).astype(np.int64)
            if (
                indptr.size != rows + 1
                or indptr[0] != 0
                or indptr[-1] != nnz
                or np.any(np.diff(indptr) < 0)
                or idx.size != nnz
                or (idx.size and (idx.min() < 0 or idx.max() >= cols))
            ):
                raise _bad(raw, "CSR row pointers or column indices out of range")
            r = np.repeat(np.arange(rows, dtype=np.int64), np.diff(indptr))
            flat = background()
            flat[r * cols + idx] = vals
    if q:
        codes = flat.reshape(shape)
        return dequantize(codes, scale, zero, q["axis"] if len(shape) >= 2 else None)
    if storage == "bfloat16":
        return bfloat16_to_float32(flat.astype(np.uint16)).reshape(shape)
    return flat.reshape(shape)
