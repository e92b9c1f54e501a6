"""Open a model weights file without running any code from it.

Read: safetensors (header checked here against the file size before the ``safetensors``
package memory-maps the file), NumPy ``.npz`` (``allow_pickle=False``, member headers read
before any array) and the initializers of an ONNX model (``onnx``, no runtime). Refused:
pickle-based formats (``.pt``, ``.pth``, ``.bin``, ``.pkl``, ``.joblib``, ``.ckpt``), because
loading a pickle runs whatever code it names.

A weights file is read from a path (the command line: memory-mapped, read in place) or from
its bytes (an upload, which stays in memory and is never written to a file). Both go through
the same checks, in the same order, with the same messages: the size limits before anything
is parsed, a safetensors header against the size before it is read, an ONNX model's size
before protobuf parses it.

A :class:`WeightsFile` lists its tensors (:class:`TensorSpec`) and hands out one tensor at
a time as a NumPy array, so memory holds the largest tensor, not the whole model.
"""

from __future__ import annotations

import io
import json
import math
import os
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from tokenize import TokenError
from typing import IO, Any, TypeAlias

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
#: What :func:`open_weights` reads: a path, or the file's bytes (with its name).
WeightsSource: TypeAlias = "str | os.PathLike[str] | bytes | bytearray | memoryview"


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
    """An opened weights file: its tensors, read one at a time with :meth:`tensor`.

    ``path`` is the file's path, or only its name when it was opened from bytes.
    """

    path: PurePath
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


def _is_bytes(source: object) -> bool:
    return isinstance(source, bytes | bytearray | memoryview)


class _Blob:
    """A weights file to read: a path (read in place) or bytes (read from memory)."""

    def __init__(self, source: WeightsSource, name: str | None) -> None:
        if isinstance(source, bytes | bytearray | memoryview):  # an upload: stays in memory
            if not name:
                raise WeightsError(
                    "Weights given as bytes need the file's name (for its format); got none. "
                    "Pass name='model.safetensors' or the like."
                )
            # bytes are shared, not copied, by the views and BytesIO below; other buffers are
            # copied once
            self.data = source if isinstance(source, bytes) else memoryview(source).tobytes()
            view = memoryview(self.data)
            self.path: Path | None = None
            self.view: memoryview | None = view
            self.name = PurePath(name).name or "weights"
            self.shown: PurePath = PurePath(self.name)
            self.size = view.nbytes
        else:
            p = Path(source)
            self.path, self.view = p, None
            self.name, self.shown = p.name, p
            self.size = p.stat().st_size

    def read(self, offset: int, n: int) -> bytes:
        """At most ``n`` bytes from ``offset``."""
        if self.view is not None:
            return bytes(self.view[offset : offset + n])
        with self.path.open("rb") as fh:  # type: ignore[union-attr]
            fh.seek(offset)
            return fh.read(n)

    def stream(self) -> IO[bytes]:
        """A fresh binary file object of the whole content (for zipfile and numpy)."""
        if self.view is not None:
            return io.BytesIO(self.data)
        return self.path.open("rb")  # type: ignore[union-attr]


def open_weights(source: WeightsSource, *, name: str | None = None) -> WeightsFile:
    """Open a weights file by its extension, checking sizes before reading anything large.

    Parameters
    ----------
    source : path-like or bytes-like
        A ``.safetensors``, ``.npz`` or ``.onnx`` file, by its path (memory-mapped) or as its
        bytes (``bytes``, ``bytearray`` or ``memoryview``; read in memory, never written to a
        file).
    name : str, optional
        The file's name when ``source`` is bytes (its extension says the format); ignored
        for a path.

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
        does not match the bytes); bytes without a name.

    Examples
    --------
    >>> from safetensors.numpy import save
    >>> data = save({"w": np.arange(6, dtype=np.float32).reshape(2, 3)})
    >>> wf = open_weights(data, name="model.safetensors")
    >>> wf.format, wf.spec("w").shape, wf.tensor("w")[1].tolist()
    ('safetensors', (2, 3), [3.0, 4.0, 5.0])
    """
    given = PurePath(name or "") if _is_bytes(source) else PurePath(source)  # type: ignore[arg-type]
    suffix = given.suffix.lower()
    if suffix in PICKLE_EXTENSIONS:  # refused before anything is read
        raise _pickle_refused(given.name, f"a pickle-based format ({suffix})")
    blob = _Blob(source, name)
    if blob.size > WEIGHTS_MAX_FILE_BYTES:
        raise WeightsError(
            f"{blob.name} has {blob.size:,} bytes, above the limit of "
            f"{WEIGHTS_MAX_FILE_BYTES:,} (WEIGHTS_MAX_FILE_BYTES). Use a smaller model, or ask "
            "the operator to raise PRIVLENS_WEIGHTS_MAX_FILE_BYTES."
        )
    if suffix == ".safetensors":
        try:
            wf = _open_safetensors(blob)
        except WeightsError:
            what = _sniff_pickle(blob)
            if what:
                raise _pickle_refused(blob.name, what) from None
            raise
        if FORMAT_KEY in wf.metadata:
            from core.weights.format import open_compressed

            return open_compressed(wf)
        return wf
    if suffix == ".npz":
        return _open_npz(blob)
    if suffix == ".onnx":
        return _open_onnx(blob)
    raise WeightsError(
        f"{blob.name}: weights files are read as .safetensors, .npz or .onnx; got "
        f"'{suffix or 'no extension'}'. Save the weights as safetensors."
    )


def _pickle_refused(name: str, what: str) -> WeightsError:
    return WeightsError(
        f"{name} is {what}, which PrivLens does not open: loading a pickle runs whatever "
        "code the file names. Convert it where you trust it, e.g. with safetensors (torch: "
        "safetensors.torch.save_file(model.state_dict(), 'model.safetensors'), or the Hugging "
        "Face 'convert to safetensors' tool), and open the .safetensors file."
    )


def _sniff_pickle(blob: _Blob) -> str | None:
    """What pickle-based content ``blob`` holds (a raw pickle, a torch zip), or ``None``.

    Asked only once a file failed to open as its extension says, so a valid file is never
    taken for a pickle.
    """
    head = blob.read(0, 2)
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:  # PROTO opcode, version
        return f"a pickle (protocol {head[1]}) under another extension"
    try:
        with blob.stream() as fh, zipfile.ZipFile(fh) as zf:
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


def read_safetensors_header(blob: _Blob) -> tuple[dict[str, Any], int]:
    """The header's JSON and the data section's offset, checked against the file size.

    The 8-byte length is checked against ``WEIGHTS_MAX_HEADER_BYTES`` and the file size
    before the header is read; every tensor's offsets against the data section after.
    """
    name, size = blob.name, blob.size
    if size < 8:
        raise _damaged(name, f"{size} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob.read(0, 8))
    if n > WEIGHTS_MAX_HEADER_BYTES:
        raise WeightsError(
            f"{name} declares a {n:,}-byte header, above the limit of "
            f"{WEIGHTS_MAX_HEADER_BYTES:,} (WEIGHTS_MAX_HEADER_BYTES). The file is damaged "
            "or hostile; export the weights again."
        )
    if 8 + n > size:
        raise _damaged(name, f"the header of {n:,} bytes runs past the end ({size:,})")
    raw = blob.read(8, n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise _damaged(name, "the header is not UTF-8 JSON") from None
    if not isinstance(header, dict):
        raise _damaged(name, "the header is not a JSON object")
    return header, 8 + n


def _check_entries(name: str, header: dict[str, Any], data_bytes: int) -> list[TensorSpec]:
    meta = header.get("__metadata__", {})
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise _damaged(name, "__metadata__ is not a map of strings")
    entries = [(k, v) for k, v in header.items() if k != "__metadata__"]
    if len(entries) > WEIGHTS_MAX_TENSORS:
        raise WeightsError(
            f"{name} lists {len(entries):,} tensors, above the limit of "
            f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
        )
    specs: list[TensorSpec] = []
    spans = []
    for i, (tensor, e) in enumerate(entries, 1):
        where = f"tensor {i} of {len(entries)}"
        if not isinstance(e, dict):
            raise _damaged(name, f"{where} is not an object")
        dtype = SAFETENSORS_DTYPES.get(e.get("dtype"))  # type: ignore[arg-type]
        if dtype is None:
            raise _damaged(name, f"{where} has an unsupported dtype")
        shape, offs = e.get("shape"), e.get("data_offsets")
        if (
            not isinstance(shape, list)
            or len(shape) > WEIGHTS_MAX_NDIM
            or not all(type(d) is int and 0 <= d < 2**48 for d in shape)
        ):
            raise _damaged(name, f"{where} has a bad shape")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(type(o) is int for o in offs)
            or not 0 <= offs[0] <= offs[1] <= data_bytes
        ):
            raise _damaged(
                name, f"{where} has offsets outside the data section ({data_bytes:,} bytes)"
            )
        n = 1
        for d in shape:
            n *= d
        nbytes = n * _itemsize(dtype)
        if offs[1] - offs[0] != nbytes:
            raise _damaged(
                name,
                f"{where} ({dtype}, shape {tuple(shape)}) needs {nbytes:,} bytes but its "
                f"offsets span {offs[1] - offs[0]:,}",
            )
        spans.append((offs[0], offs[1]))
        specs.append(TensorSpec(name=tensor, shape=tuple(shape), dtype=dtype, nbytes=nbytes))
    spans.sort()
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise _damaged(name, "two tensors' bytes overlap")
        if start > end:
            raise _damaged(name, "the tensors' bytes leave a gap")
    covered = sum(end - start for start, end in spans)
    if (spans and spans[0][0] != 0) or covered != data_bytes:
        raise _damaged(
            name,
            f"the tensors cover {covered:,} of the data section's {data_bytes:,} bytes",
        )
    return specs


def _open_safetensors(blob: _Blob) -> WeightsFile:
    header, data_start = read_safetensors_header(blob)
    specs = _check_entries(blob.name, header, blob.size - data_start)
    meta = dict(header.get("__metadata__", {}))
    starts = {s.name: data_start + header[s.name]["data_offsets"][0] for s in specs}
    read = (
        _memory_reader(blob.view, blob.name, starts)
        if blob.view is not None
        else _mapped_reader(blob.path, blob.name, starts)  # type: ignore[arg-type]
    )
    return WeightsFile(
        path=blob.shown,
        format="safetensors",
        specs=tuple(specs),
        metadata=meta,
        file_bytes=blob.size,
        _reader=read,
    )


def _mapped_reader(path: Path, name: str, starts: dict[str, int]) -> Any:
    """Tensors of a checked safetensors file on disk, memory-mapped by ``safetensors``."""
    from safetensors import SafetensorError, safe_open

    def read(spec: TensorSpec) -> np.ndarray:
        if spec.dtype == "bfloat16":  # NumPy has no bfloat16: widen the bits to float32
            bits = np.fromfile(path, dtype="<u2", count=spec.parameters, offset=starts[spec.name])
            return bfloat16_to_float32(bits).reshape(spec.shape)
        try:
            with safe_open(str(path), framework="numpy") as f:
                arr: np.ndarray = f.get_tensor(spec.name)
        except (SafetensorError, OSError, ValueError, TypeError) as exc:
            raise _damaged(name, f"a tensor could not be read ({type(exc).__name__})") from None
        return arr

    return read


def _memory_reader(view: memoryview, name: str, starts: dict[str, int]) -> Any:
    """Tensors of a checked safetensors file held in memory: each one copied out of it.

    The header check guarantees each tensor's span lies inside ``view`` and matches its
    dtype and shape; safetensors stores little-endian values, read as such.
    """

    def read(spec: TensorSpec) -> np.ndarray:
        start = starts[spec.name]
        if spec.dtype == "bfloat16":
            bits = np.frombuffer(view, dtype="<u2", count=spec.parameters, offset=start)
            return bfloat16_to_float32(bits).reshape(spec.shape)
        if spec.dtype == "bool":
            raw = np.frombuffer(view, dtype=np.uint8, count=spec.parameters, offset=start)
            return (raw != 0).reshape(spec.shape)
        dtype = np.dtype(spec.dtype).newbyteorder("<")
        arr = np.frombuffer(view, dtype=dtype, count=spec.parameters, offset=start)
        return arr.astype(dtype.newbyteorder("="), copy=True).reshape(spec.shape)

    return read


def _open_npz(blob: _Blob) -> WeightsFile:
    specs: list[TensorSpec] = []
    name = blob.name
    try:
        with blob.stream() as fh, zipfile.ZipFile(fh) as zf:
            if any(i.filename.endswith(".pkl") for i in zf.infolist()):
                raise _pickle_refused(
                    name, "a zip of pickles (as torch.save writes), not a NumPy .npz"
                )
            members = [i for i in zf.infolist() if i.filename.endswith(".npy")]
            if len(members) > WEIGHTS_MAX_TENSORS:
                raise WeightsError(
                    f"{name} holds {len(members):,} arrays, above the limit of "
                    f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
                )
            total = sum(i.file_size for i in members)
            if total > WEIGHTS_MAX_FILE_BYTES:
                raise WeightsError(
                    f"{name} expands to {total:,} bytes, above the limit of "
                    f"{WEIGHTS_MAX_FILE_BYTES:,} (WEIGHTS_MAX_FILE_BYTES)."
                )
            for info in members:
                specs.append(_npz_member(name, zf, info, len(specs) + 1))
    # numpy parses a member's header with ast/tokenize: a malformed one raises those errors
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, SyntaxError, TokenError) as exc:
        if isinstance(exc, WeightsError):
            raise
        what = _sniff_pickle(blob)
        if what:
            raise _pickle_refused(name, what) from None
        raise WeightsError(
            f"{name} is not a readable .npz archive ({type(exc).__name__}). Save the "
            "weights again with numpy.savez."
        ) from None

    def read(spec: TensorSpec) -> np.ndarray:
        try:
            with blob.stream() as fh, np.load(fh, allow_pickle=False) as z:
                arr: np.ndarray = z[spec.name]
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise WeightsError(
                f"{name}: an array could not be read ({type(exc).__name__}). The file is "
                "damaged; save the weights again."
            ) from None
        return arr

    return WeightsFile(
        path=blob.shown, format="npz", specs=tuple(specs), file_bytes=blob.size, _reader=read
    )


def _npz_member(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo, i: int) -> TensorSpec:
    """The spec of one ``.npy`` member, from its header, checked against its stored size."""
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    if dtype.hasobject or dtype.kind not in "fiub":
        raise WeightsError(
            f"{name}: array {i} has dtype kind '{dtype.kind}'; only numeric arrays are read "
            "(object arrays would need pickle). Save the weights as numeric arrays."
        )
    dims = tuple(int(d) for d in shape)
    nbytes = math.prod(dims) * dtype.itemsize
    if nbytes + 4096 < info.file_size - 128 or nbytes > info.file_size:
        raise WeightsError(
            f"{name}: array {i} declares shape {dims} ({dtype.name}, {nbytes:,} bytes) but "
            f"holds {info.file_size:,} bytes. The file is damaged; save the weights again."
        )
    return TensorSpec(name=info.filename[:-4], shape=dims, dtype=dtype.name, nbytes=nbytes)


def _open_onnx(blob: _Blob) -> WeightsFile:
    name, size = blob.name, blob.size
    if size > WEIGHTS_MAX_ONNX_BYTES:  # checked before protobuf parses anything
        raise WeightsError(
            f"{name} has {size:,} bytes, above the ONNX limit of "
            f"{WEIGHTS_MAX_ONNX_BYTES:,} (WEIGHTS_MAX_ONNX_BYTES). Convert it to safetensors."
        )
    import onnx
    from onnx import numpy_helper

    try:
        if blob.view is not None:
            model = onnx.load_model_from_string(bytes(blob.view))
        else:
            model = onnx.load_model(str(blob.path), load_external_data=False)
    except Exception as exc:  # protobuf raises its own DecodeError and others
        raise WeightsError(
            f"{name} is not a readable ONNX model ({type(exc).__name__}). Export the "
            "model again, or save its weights as safetensors."
        ) from None
    inits = {t.name: t for t in model.graph.initializer}
    if len(inits) > WEIGHTS_MAX_TENSORS:
        raise WeightsError(
            f"{name} has {len(inits):,} initializers, above the limit of "
            f"{WEIGHTS_MAX_TENSORS:,} (WEIGHTS_MAX_TENSORS)."
        )
    specs: list[TensorSpec] = []
    for i, t in enumerate(inits.values(), 1):
        if t.data_location == onnx.TensorProto.EXTERNAL:
            raise WeightsError(
                f"{name}: initializer {i} keeps its data in an external file, which is "
                "not read. Save the model with its weights inside, or as safetensors."
            )
        try:
            dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(t.data_type))
        except (KeyError, TypeError, ValueError):
            dtype = np.dtype(object)
        if dtype.kind not in "fiub":
            raise WeightsError(
                f"{name}: initializer {i} has an ONNX data type ({t.data_type}) that is "
                "not a plain number. Save the weights as safetensors."
            )
        shape = tuple(int(d) for d in t.dims)
        if len(shape) > WEIGHTS_MAX_NDIM or any(d < 0 for d in shape):
            raise WeightsError(f"{name}: initializer {i} has a bad shape.")
        n = math.prod(shape)
        specs.append(
            TensorSpec(name=t.name, shape=shape, dtype=dtype.name, nbytes=n * dtype.itemsize)
        )

    def read(spec: TensorSpec) -> np.ndarray:
        try:
            arr: np.ndarray = numpy_helper.to_array(inits[spec.name])
        except Exception as exc:  # a raw_data length that does not match dims, etc.
            raise WeightsError(
                f"{name}: an initializer's data does not match its shape and type "
                f"({type(exc).__name__}). Export the model again."
            ) from None
        if arr.dtype.name == "bfloat16":
            arr = arr.astype(np.float32)
        return arr

    return WeightsFile(
        path=blob.shown, format="onnx", specs=tuple(specs), file_bytes=size, _reader=read
    )
