"""Open a model weights file without running any code from it.

Read: safetensors (header checked here against the file size before the ``safetensors``
package memory-maps the file), NumPy ``.npz`` (``allow_pickle=False``, member headers read
before any array) and the initializers of an ONNX model (``onnx``, no runtime). Refused:
pickle-based formats (``.pt``, ``.pth``, ``.bin``, ``.pkl``, ``.joblib``, ``.ckpt``), because
loading a pickle runs whatever code it names.

A :class:`WeightsFile` lists its tensors (:class:`TensorSpec`) and hands out one tensor at
a time as a NumPy array, so memory holds the largest tensor, not the whole model.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from tokenize import TokenError
from typing import Any

import numpy as np

from core.errors import WeightsError
from core.limits import (
    WEIGHTS_MAX_FILE_BYTES,
    WEIGHTS_MAX_HEADER_BYTES,
    WEIGHTS_MAX_NDIM,
    WEIGHTS_MAX_ONNX_BYTES,
    WEIGHTS_MAX_TENSORS,
)

#: Extensions of pickle-based formats, refused.
PICKLE_EXTENSIONS = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".joblib", ".ckpt")
#: safetensors dtype codes read, with their NumPy dtype (BF16 is widened to float32).
SAFETENSORS_DTYPES: dict[str, str] = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U64": "uint64",
    "U32": "uint32",
    "U16": "uint16",
    "U8": "uint8",
    "BOOL": "bool",
}
_ITEMSIZE = {"bfloat16": 2, "bool": 1}
#: Metadata key of a file written by :func:`core.weights.format.write_compressed`.
FORMAT_KEY = "privlens.weights"


def _itemsize(dtype: str) -> int:
    return _ITEMSIZE.get(dtype) or np.dtype(dtype).itemsize


@dataclass(frozen=True, slots=True, kw_only=True)
class TensorSpec:
    """A tensor's name, shape, dtype (NumPy name; ``bfloat16`` too) and stored bytes."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    nbytes: int

    @property
    def parameters(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)


@dataclass(frozen=True, slots=True, kw_only=True)
class WeightsFile:
    """An opened weights file: its tensors, read one at a time with :meth:`tensor`."""

    path: Path
    format: str
    specs: tuple[TensorSpec, ...]
    metadata: dict[str, str] = field(default_factory=dict)
    file_bytes: int = 0
    _reader: Any = None

    @property
    def names(self) -> tuple[str, ...]:
        """Tensor names in file order."""
        return tuple(s.name for s in self.specs)

    def spec(self, name: str) -> TensorSpec:
        """The :class:`TensorSpec` of ``name``; a :class:`WeightsError` if there is none."""
        for s in self.specs:
            if s.name == name:
                return s
        raise WeightsError(
            f"{self.path.name} has no tensor of that name ({len(self.specs)} tensors). Pick "
            "one listed by the inspection."
        )

    def tensor(self, name: str) -> np.ndarray:
        """Tensor ``name`` as a NumPy array (bfloat16 widened exactly to float32)."""
        spec = self.spec(name)
        arr: np.ndarray = self._reader(spec)
        if tuple(arr.shape) != spec.shape:
            raise WeightsError(
                f"Tensor of shape {spec.shape} in {self.path.name} read as {tuple(arr.shape)}. "
                "The file is damaged; export the weights again."
            )
        return arr

    def tensors(self) -> Iterator[tuple[str, np.ndarray]]:
        """``(name, array)`` for every tensor, one at a time."""
        for s in self.specs:
            yield s.name, self.tensor(s.name)


def bfloat16_to_float32(bits: np.ndarray) -> np.ndarray:
    """Widen bfloat16 bit patterns (``uint16``) to float32, exactly.

    >>> bfloat16_to_float32(np.array([0x3F80, 0xC000], dtype=np.uint16)).tolist()
    [1.0, -2.0]
    """
    return (bits.astype(np.uint32) << 16).view(np.float32)


def open_weights(path: str | os.PathLike[str]) -> WeightsFile:
    """Open a weights file by its extension, checking sizes before reading anything large.

    Parameters
    ----------
    path : path-like
        A ``.safetensors``, ``.npz`` or ``.onnx`` file.

    Returns
    -------
    WeightsFile
        Tensor specs and a reader; a file written by :func:`core.weights.write_compressed`
        shows its reconstructed float tensors.

    Raises
    ------
    WeightsError
        A pickle-based or unknown format, a file above ``WEIGHTS_MAX_FILE_BYTES``, or a damaged
        file (truncated or oversized header, offsets outside the file, a dtype or shape that
        does not match the bytes).
    """
    p = Path(path)
    ext = p.suffix.lower()
    if ext in PICKLE_EXTENSIONS:
        raise _pickle_refused(p.name, f"a pickle-based format ({ext})")
    size = p.stat().st_size
    if size > WEIGHTS_MAX_FILE_BYTES:
        raise WeightsError(
            f"{p.name} has {size:,} bytes, above the limit of {WEIGHTS_MAX_FILE_BYTES:,} "
            "(WEIGHTS_MAX_FILE_BYTES). Use a smaller model, or ask the operator to raise "
            "PRIVLENS_WEIGHTS_MAX_FILE_BYTES."
        )
    if ext == ".safetensors":
        try:
            wf = _open_safetensors(p, size)
        except WeightsError:
            what = _sniff_pickle(p)
            if what:
                raise _pickle_refused(p.name, what) from None
            raise
        if FORMAT_KEY in wf.metadata:
            from core.weights.format import open_compressed

            return open_compressed(wf)
        return wf
    if ext == ".npz":
        return _open_npz(p, size)
    if ext == ".onnx":
        return _open_onnx(p, size)
    raise WeightsError(
        f"{p.name}: weights files are read as .safetensors, .npz or .onnx; got "
        f"'{ext or 'no extension'}'. Save the weights as safetensors."
    )


def _pickle_refused(name: str, what: str) -> WeightsError:
    return WeightsError(
        f"{name} is {what}, which PrivLens does not open: loading a pickle runs whatever "
        "code the file names. Convert it where you trust it, e.g. with safetensors (torch: "
        "safetensors.torch.save_file(model.state_dict(), 'model.safetensors'), or the Hugging "
        "Face 'convert to safetensors' tool), and open the .safetensors file."
    )


def _sniff_pickle(path: Path) -> str | None:
    """What pickle-based content ``path`` holds (a raw pickle, a torch zip), or ``None``.

    Asked only once a file failed to open as its extension says, so a valid file is never
    taken for a pickle.
    """
    with path.open("rb") as fh:
        head = fh.read(2)
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO opcode, version
        return f"a pickle (protocol {head[1]}) under another extension"
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if any(n.endswith(".pkl") for n in names):
        return "a zip of pickles (as torch.save writes) under another extension"
    return None


def _damaged(name: str, what: str) -> WeightsError:
    return WeightsError(
        f"{name} is not a valid safetensors file: {what}. The file is damaged or not "
        "safetensors; export the weights again."
    )


def read_safetensors_header(path: Path, size: int) -> tuple[dict[str, Any], int]:
    """The header's JSON and the data section's offset, checked against the file size.

    The 8-byte length is checked against ``WEIGHTS_MAX_HEADER_BYTES`` and the file size
    before the header is read; every tensor's offsets against the data section after.
    """
    if size < 8:
        raise _damaged(path.name, f"{size} bytes, shorter than the 8-byte header length")
    with path.open("rb") as fh:
        (n,) = struct.unpack("<Q", fh.read(8))
        if n > WEIGHTS_MAX_HEADER_BYTES:
            raise WeightsError(
                f"{path.name} declares a {n:,}-byte header, above the limit of "
                f"{WEIGHTS_MAX_HEADER_BYTES:,} (WEIGHTS_MAX_HEADER_BYTES). The file is damaged "
                "or hostile; export the weights again."
            )
        if 8 + n > size:
            raise _damaged(path.name, f"the header of {n:,} bytes runs past the end ({size:,})")
        raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _damaged(path.name, "the header is not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise _damaged(path.name, "the header is not a JSON object")
    return header, 8 + n


def _check_entries(path: Path, header: dict[str, Any], data_bytes: int) -> list[TensorSpec]:
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _damaged(path.name, "__metadata__ is not a map of strings")
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if len(entries) > WEIGHTS_MAX_TENSORS:
        raise WeightsError(
            f"{path.name} lists {len(entries):,} tensors, above the limit of "
            f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
        )
    specs: list[TensorSpec] = []
    spans = []
    for i, (name, e) in enumerate(entries, 1):
        where = f"tensor {i} of {len(entries)}"
        if not isinstance(e, dict):
            raise _damaged(path.name, f"{where} is not an object")
        dtype = SAFETENSORS_DTYPES.get(e.get("dtype"))  # type: ignore[arg-type]
        if dtype is None:
            raise _damaged(path.name, f"{where} has an unsupported dtype")
        shape, offs = e.get("shape"), e.get("data_offsets")
        if (
            not isinstance(shape, list)
            or len(shape) > WEIGHTS_MAX_NDIM
            or not all(type(d) is int and 0 <= d < 2**48 for d in shape)
        ):
            raise _damaged(path.name, f"{where} has a bad shape")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(type(o) is int for o in offs)
            or not 0 <= offs[0] <= offs[1] <= data_bytes
        ):
            raise _damaged(
                path.name, f"{where} has offsets outside the data section ({data_bytes:,} bytes)"
            )
        n = 1
        for d in shape:
            n *= d
        nbytes = n * _itemsize(dtype)
        if offs[1] - offs[0] != nbytes:
            raise _damaged(
                path.name,
                f"{where} ({dtype}, shape {tuple(shape)}) needs {nbytes:,} bytes but its "
                f"offsets span {offs[1] - offs[0]:,}",
            )
        spans.append((offs[0], offs[1]))
        specs.append(TensorSpec(name=name, shape=tuple(shape), dtype=dtype, nbytes=nbytes))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise _damaged(path.name, "two tensors' bytes overlap")
        if start > end:
            raise _damaged(path.name, "the tensors' bytes leave a gap")
    covered = sum(end - start for start, end in spans)
    if (spans and spans[0][0] != 0) or covered != data_bytes:
        raise _damaged(
            path.name,
            f"the tensors cover {covered:,} of the data section's {data_bytes:,} bytes",
        )
    return specs


def _open_safetensors(path: Path, size: int) -> WeightsFile:
    from safetensors import SafetensorError, safe_open

    header, data_start = read_safetensors_header(path, size)
    specs = _check_entries(path, header, size - data_start)
    meta = dict(header.get("__metadata__", {}))
    by_name = {s.name: header[s.name] for s in specs}

    def read(spec: TensorSpec) -> np.ndarray:
        if spec.dtype == "bfloat16":  # NumPy has no bfloat16: widen the bits to float32
            start = data_start + by_name[spec.name]["data_offsets"][0]
            bits = np.fromfile(path, dtype="<u2", count=spec.parameters, offset=start)
            return bfloat16_to_float32(bits).reshape(spec.shape)
        try:
            with safe_open(str(path), framework="numpy") as f:
                arr: np.ndarray = f.get_tensor(spec.name)
        except (SafetensorError, OSError, ValueError, TypeError) as exc:
            raise _damaged(
                path.name, f"a tensor could not be read ({type(exc).__name__})"
            ) from None
        return arr

    return WeightsFile(
        path=path,
        format="safetensors",
        specs=tuple(specs),
        metadata=meta,
        file_bytes=size,
        _reader=read,
    )


def _open_npz(path: Path, size: int) -> WeightsFile:
    specs: list[TensorSpec] = []
    try:
        with zipfile.ZipFile(path) as zf:
            if any(i.filename.endswith(".pkl") for i in zf.infolist()):
                raise _pickle_refused(
                    path.name, "a zip of pickles (as torch.save writes), not a NumPy .npz"
                )
            members = [i for i in zf.infolist() if i.filename.endswith(".npy")]
            if len(members) > WEIGHTS_MAX_TENSORS:
                raise WeightsError(
                    f"{path.name} holds {len(members):,} arrays, above the limit of "
                    f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
                )
            total = sum(i.file_size for i in members)
            if total > WEIGHTS_MAX_FILE_BYTES:
                raise WeightsError(
                    f"{path.name} expands to {total:,} bytes, above the limit of "
                    f"{WEIGHTS_MAX_FILE_BYTES:,} (WEIGHTS_MAX_FILE_BYTES)."
                )
            for info in members:
                with zf.open(info) as fh:
                    version = np.lib.format.read_magic(fh)
                    if version == (1, 0):
                        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                    else:
                        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                if dtype.hasobject or dtype.kind not in "fiub":
                    raise WeightsError(
                        f"{path.name}: array {len(specs) + 1} has dtype kind '{dtype.kind}'; "
                        "only numeric arrays are read (object arrays would need pickle). Save "
                        "the weights as numeric arrays."
                    )
                spec = TensorSpec(
                    name=info.filename[:-4],
                    shape=tuple(int(d) for d in shape),
                    dtype=dtype.name,
                    nbytes=0,
                )
                nbytes = spec.parameters * dtype.itemsize
                if nbytes + 4096 < info.file_size - 128 or nbytes > info.file_size:
                    raise WeightsError(
                        f"{path.name}: array {len(specs) + 1} declares shape {spec.shape} "
                        f"({dtype.name}, {nbytes:,} bytes) but holds {info.file_size:,} bytes. "
                        "The file is damaged; save the weights again."
                    )
                specs.append(
                    TensorSpec(name=spec.name, shape=spec.shape, dtype=spec.dtype, nbytes=nbytes)
                )
    # numpy parses a member's header with ast/tokenize: a malformed one raises those errors
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, SyntaxError, TokenError) as exc:
        if isinstance(exc, WeightsError):
            raise
        what = _sniff_pickle(path)
        if what:
            raise _pickle_refused(path.name, what) from None
        raise WeightsError(
            f"{path.name} is not a readable .npz archive ({type(exc).__name__}). Save the "
            "weights again with numpy.savez."
        ) from None

    def read(spec: TensorSpec) -> np.ndarray:
        try:
            with np.load(path, allow_pickle=False) as z:
                arr: np.ndarray = z[spec.name]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise WeightsError(
                f"{path.name}: an array could not be read ({type(exc).__name__}). The file is "
                "damaged; save the weights again."
            ) from None
        return arr

    return WeightsFile(path=path, format="npz", specs=tuple(specs), file_bytes=size, _reader=read)


def _open_onnx(path: Path, size: int) -> WeightsFile:
    if size > WEIGHTS_MAX_ONNX_BYTES:
        raise WeightsError(
            f"{path.name} has {size:,} bytes, above the ONNX limit of "
            f"{WEIGHTS_MAX_ONNX_BYTES:,} (WEIGHTS_MAX_ONNX_BYTES). Convert it to safetensors."
        )
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load_model(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises its own DecodeError and others
        raise WeightsError(
            f"{path.name} is not a readable ONNX model ({type(exc).__name__}). Export the "
            "model again, or save its weights as safetensors."
        ) from None
    inits = {t.name: t for t in model.graph.initializer}
    if len(inits) > WEIGHTS_MAX_TENSORS:
        raise WeightsError(
            f"{path.name} has {len(inits):,} initializers, above the limit of "
            f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
        )
    specs: list[TensorSpec] = []
    for i, t in enumerate(inits.values(), 1):
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise WeightsError(
                f"{path.name}: initializer {i} keeps its data in an external file, which is "
                "not read. Save the model with its weights inside, or as safetensors."
            )
        try:
            dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type))
        except (KeyError, TypeError, ValueError):
            dtype = np.dtype(object)
        if dtype.kind not in "fiub":
            raise WeightsError(
                f"{path.name}: initializer {i} has an ONNX data type ({t.data_type}) that is "
                "not a plain number. Save the weights as safetensors."
            )
        shape = tuple(int(d) for d in t.dims)
        if len(shape) > WEIGHTS_MAX_NDIM or any(d < 0 for d in shape):
            raise WeightsError(f"{path.name}: initializer {i} has a bad shape.")
        n = math.prod(shape)
        specs.append(
            TensorSpec(name=t.name, shape=shape, dtype=dtype.name, nbytes=n * dtype.itemsize)
        )

    def read(spec: TensorSpec) -> np.ndarray:
        try:
            arr: np.ndarray = numpy_helper.to_array(inits[spec.name])
        except Exception as exc:  # a raw_data length that does not match dims, etc.
            raise WeightsError(
                f"{path.name}: an initializer's data does not match its shape and type "
                f"({type(exc).__name__}). Export the model again."
            ) from None
        if arr.dtype.name == "bfloat16":
            arr = arr.astype(np.float32)
        return arr

    return WeightsFile(path=path, format="onnx", specs=tuple(specs), file_bytes=size, _reader=read)
