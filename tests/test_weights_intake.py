"""Opening weights files: formats read, pickles refused, hostile files end in WeightsError.

Every file is opened both ways the app opens weights: by its path (the command line,
memory-mapped) and as its bytes with its name (an upload, which stays in memory). Hostile files
give the same error both ways.
"""

from __future__ import annotations

import json
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.numpy import save_file

from core import limits
from core.errors import PrivLensError, WeightsError
from core.weights import open_weights
from core.weights.intake import bfloat16_to_float32


@pytest.fixture(params=["path", "bytes"])
def how(request) -> str:
    """How a file is opened: by its path, or as its bytes (an upload)."""
    return request.param


def _open(path, how: str):
    """open_weights of the file at ``path``, by path or from its bytes."""
    if how == "path":
        return open_weights(path)
    return open_weights(path.read_bytes(), name=path.name)


def _outcome(opener):
    """What opening gives: every tensor's dtype, shape and bytes, or the error's message."""
    try:
        wf = opener()
        return "read", {n: (x.dtype.str, x.shape, x.tobytes()) for n, x in wf.tensors()}
    except WeightsError as exc:
        return "error", str(exc)


def _tensors(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "layer.weight": rng.standard_normal((6, 5)).astype(np.float32),
        "layer.bias": rng.standard_normal(6).astype(np.float64),
        "steps": np.arange(4, dtype=np.int64),
    }


def _raw_safetensors(path, header: dict, data: bytes, *, declared: int | None = None) -> None:
    h = json.dumps(header).encode()
    n = len(h) if declared is None else declared
    path.write_bytes(struct.pack("<Q", n) + h + data)


def test_safetensors_read_back_exactly(tmp_path, how):
    t = _tensors()
    save_file(t, str(tmp_path / "m.safetensors"), metadata={"who": "test"})
    wf = _open(tmp_path / "m.safetensors", how)
    assert wf.format == "safetensors"
    assert set(wf.names) == set(t)
    assert wf.metadata == {"who": "test"}
    for name, x in t.items():
        y = wf.tensor(name)
        assert y.dtype == x.dtype and np.array_equal(x, y)
        assert wf.spec(name).nbytes == x.nbytes


def test_bfloat16_safetensors_is_widened_exactly(tmp_path, how):
    bits = np.array([0x3F80, 0xC000, 0x0000, 0x3E00], dtype="<u2")
    header = {"b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}}
    _raw_safetensors(tmp_path / "b.safetensors", header, bits.tobytes())
    wf = _open(tmp_path / "b.safetensors", how)
    assert wf.spec("b").dtype == "bfloat16" and wf.spec("b").nbytes == 8
    assert wf.tensor("b").tolist() == [[1.0, -2.0], [0.0, 0.125]]
    assert bfloat16_to_float32(bits).dtype == np.float32


def test_npz_read_without_pickle(tmp_path, how):
    t = _tensors()
    np.savez(tmp_path / "m.npz", **t)
    wf = _open(tmp_path / "m.npz", how)
    assert wf.format == "npz"
    for name, x in t.items():
        assert np.array_equal(wf.tensor(name), x)
        assert wf.spec(name).shape == x.shape


def test_npz_object_array_is_refused(tmp_path, how):
    np.savez(tmp_path / "o.npz", a=np.array([{"x": 1}, None], dtype=object))
    with pytest.raises(WeightsError, match="object arrays would need pickle"):
        _open(tmp_path / "o.npz", how)


def _npz_with_member(path, body: bytes) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.npy", body)


def test_npz_lying_header_is_refused(tmp_path, how):
    import io

    buf = io.BytesIO()
    header = {"descr": "<f4", "fortran_order": False, "shape": (1000, 1000)}
    np.lib.format.write_array_header_1_0(buf, header)
    _npz_with_member(tmp_path / "bad.npz", buf.getvalue() + b"\0" * 64)  # 4 MB declared
    with pytest.raises(WeightsError, match=r"declares shape \(1000, 1000\)"):
        _open(tmp_path / "bad.npz", how)


def test_npz_malformed_header_is_an_error_not_a_crash(tmp_path, how):
    # numpy's header parser raises tokenize.TokenError on this one
    _npz_with_member(tmp_path / "bad.npz", b"\x93NUMPY\x01\x00\x10\x00{'descr': (     \n")
    with pytest.raises(WeightsError, match="not a readable .npz"):
        _open(tmp_path / "bad.npz", how)


def test_npz_that_is_not_a_zip(tmp_path, how):
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(WeightsError, match="not a readable .npz"):
        _open(tmp_path / "x.npz", how)


def test_onnx_initializers_without_a_runtime(tmp_path, how):
    onnx = pytest.importorskip("onnx")
    from onnx import helper, numpy_helper

    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = np.array([1, 2, 3], dtype=np.int64)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])],
        initializer=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
    )
    onnx.save_model(helper.make_model(graph), str(tmp_path / "m.onnx"))
    wf = _open(tmp_path / "m.onnx", how)
    assert wf.format == "onnx" and wf.names == ("w", "b")
    assert np.array_equal(wf.tensor("w"), w) and np.array_equal(wf.tensor("b"), b)


def test_onnx_initializer_whose_bytes_do_not_match_its_shape(tmp_path, how):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    t = onnx.TensorProto(name="w", data_type=onnx.TensorProto.FLOAT, dims=[100, 100])
    t.raw_data = b"\0" * 8  # 8 bytes where 40,000 are declared
    graph = helper.make_graph([], "g", [], [], initializer=[t])
    onnx.save_model(helper.make_model(graph), str(tmp_path / "m.onnx"))
    wf = _open(tmp_path / "m.onnx", how)
    with pytest.raises(WeightsError, match="does not match its shape"):
        wf.tensor("w")


def test_garbage_onnx(tmp_path, how):
    (tmp_path / "m.onnx").write_bytes(b"\xff\xfe not a protobuf \x00" * 10)
    with pytest.raises(WeightsError, match="not a readable ONNX model"):
        _open(tmp_path / "m.onnx", how)


@pytest.mark.parametrize("ext", [".pt", ".pth", ".bin", ".pkl", ".joblib", ".PT"])
def test_pickle_formats_are_refused_with_why_and_how(tmp_path, ext, how):
    path = tmp_path / f"model{ext}"
    path.write_bytes(b"\x80\x04\x95 this would be a pickle")
    with pytest.raises(WeightsError) as info:
        _open(path, how)
    msg = str(info.value)
    assert "runs whatever code" in msg  # why
    assert "safetensors" in msg and "convert" in msg.lower()  # how
    assert isinstance(info.value, PrivLensError) and isinstance(info.value, ValueError)


def test_unknown_extension(tmp_path, how):
    (tmp_path / "m.h5").write_bytes(b"x")
    with pytest.raises(WeightsError, match=r"\.safetensors, \.npz or \.onnx"):
        _open(tmp_path / "m.h5", how)


F32 = {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}


@pytest.mark.parametrize(
    ("header", "data", "declared", "match"),
    [
        # truncated: fewer than the 8 bytes of the header length
        (None, b"", None, "shorter than the 8-byte header length"),
        # the header length runs past the end of the file
        ({"w": F32}, b"\0" * 16, 10_000, "runs past the end"),
        # a header of many MB declared: refused before it is read
        ({"w": F32}, b"\0" * 16, 200 * 2**20, "above the limit"),
        # a header length of 2**63: no allocation attempted
        ({"w": F32}, b"\0" * 16, 2**63, "above the limit"),
        # offsets beyond the data section
        ({"w": {**F32, "data_offsets": [0, 4096]}}, b"\0" * 16, None, "outside the data"),
        # reversed offsets
        ({"w": {**F32, "data_offsets": [16, 0]}}, b"\0" * 16, None, "outside the data"),
        # dtype and shape that do not match the bytes (F64 2x2 needs 32)
        (
            {"w": {**F32, "dtype": "F64"}},
            b"\0" * 16,
            None,
            "needs 32 bytes but its offsets span 16",
        ),
        # shape that does not match the bytes
        ({"w": {**F32, "shape": [3, 3]}}, b"\0" * 16, None, "needs 36 bytes"),
        # a negative dimension
        ({"w": {**F32, "shape": [-2, -2]}}, b"\0" * 16, None, "bad shape"),
        # a dtype we do not know
        ({"w": {**F32, "dtype": "F8_E4M3"}}, b"\0" * 16, None, "unsupported dtype"),
        # two tensors on the same bytes
        (
            {"a": F32, "b": F32},
            b"\0" * 16,
            None,
            "overlap",
        ),
        # a gap between tensors (safetensors requires them contiguous)
        ({"w": {**F32, "shape": [3], "data_offsets": [4, 16]}}, b"\0" * 16, None, "cover 12 of"),
        # trailing bytes after the last tensor
        ({"w": F32}, b"\0" * 24, None, "cover 16 of the data section's 24"),
        # an entry that is not an object
        ({"w": [1, 2]}, b"\0" * 16, None, "not an object"),
        # metadata that is not a map of strings
        ({"__metadata__": {"a": 1}, "w": F32}, b"\0" * 16, None, "map of strings"),
    ],
)
def test_hostile_safetensors_headers(tmp_path, header, data, declared, match, how):
    path = tmp_path / "h.safetensors"
    if header is None:
        path.write_bytes(b"\x05\0\0")
    else:
        _raw_safetensors(path, header, data, declared=declared)
    tracemalloc.start()
    try:
        with pytest.raises(WeightsError, match=match) as info:
            _open(path, how)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20  # bounded: the declared sizes are never allocated
    assert "export the weights again" in str(info.value) or "limit" in str(info.value)


def test_header_that_is_not_json(tmp_path, how):
    path = tmp_path / "h.safetensors"
    path.write_bytes(struct.pack("<Q", 6) + b"\xff{oops")
    with pytest.raises(WeightsError, match="not UTF-8 JSON"):
        _open(path, how)


def test_deeply_nested_header_is_an_error_not_a_crash(tmp_path, how):
    path = tmp_path / "h.safetensors"
    body = b"[" * 100_000 + b"]" * 100_000
    path.write_bytes(struct.pack("<Q", len(body)) + body)
    with pytest.raises(WeightsError):
        _open(path, how)


def test_header_limit_is_the_setting(tmp_path, monkeypatch, how):
    import core.weights.intake as intake

    save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / "m.safetensors"))
    monkeypatch.setattr(intake, "WEIGHTS_MAX_HEADER_BYTES", 16)
    with pytest.raises(WeightsError, match="WEIGHTS_MAX_HEADER_BYTES"):
        _open(tmp_path / "m.safetensors", how)
    assert limits.WEIGHTS_MAX_HEADER_BYTES >= 2**20


def test_file_size_limit_checked_before_reading(tmp_path, monkeypatch, how):
    import core.weights.intake as intake

    save_file({"w": np.zeros(100, np.float32)}, str(tmp_path / "m.safetensors"))
    monkeypatch.setattr(intake, "WEIGHTS_MAX_FILE_BYTES", 100)
    with pytest.raises(WeightsError, match="WEIGHTS_MAX_FILE_BYTES"):
        _open(tmp_path / "m.safetensors", how)


def test_unknown_tensor_name_does_not_echo_it(tmp_path, how):
    save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / "m.safetensors"))
    with pytest.raises(WeightsError) as info:
        _open(tmp_path / "m.safetensors", how).tensor("secret-name-xyz")
    assert "secret-name-xyz" not in str(info.value)


header_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "dtype": st.sampled_from(["F32", "F16", "BF16", "I8", "U8", "BOOL", "F64", "X"]),
        "shape": st.lists(st.integers(-2, 6), max_size=3) | header_values,
        "data_offsets": st.lists(st.integers(-4, 80), min_size=0, max_size=3) | header_values,
    },
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.dictionaries(st.text(max_size=6), entries | header_values, max_size=4),
    data=st.binary(max_size=80),
)
def test_any_safetensors_header_reads_or_is_a_weights_error_the_same_both_ways(
    tmp_path, header, data
):
    path = tmp_path / "f.safetensors"
    _raw_safetensors(path, header, data)
    by_path = _outcome(lambda: open_weights(path))
    assert _outcome(lambda: open_weights(path.read_bytes(), name=path.name)) == by_path


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(blob=st.binary(max_size=200), ext=st.sampled_from([".safetensors", ".npz", ".onnx"]))
def test_any_bytes_read_or_are_a_weights_error_the_same_both_ways(tmp_path, blob, ext):
    path = tmp_path / f"f{ext}"
    path.write_bytes(blob)
    by_path = _outcome(lambda: open_weights(path))
    assert _outcome(lambda: open_weights(blob, name=path.name)) == by_path


def _torch_zip(path):
    """What torch.save writes: a zip whose records are a pickle and raw storages."""
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("archive/data/0", b"\0" * 16)


@pytest.mark.parametrize(
    ("name", "write"),
    [
        ("renamed.npz", _torch_zip),
        ("renamed.safetensors", _torch_zip),
        ("renamed.safetensors", lambda p: p.write_bytes(b"\x80\x04\x95" + b"\0" * 40)),
    ],
    ids=["torch-zip-as-npz", "torch-zip-as-safetensors", "pickle-as-safetensors"],
)
def test_pickle_content_under_another_extension_is_refused_with_why(tmp_path, name, write, how):
    path = tmp_path / name
    write(path)
    with pytest.raises(WeightsError) as info:
        _open(path, how)
    msg = str(info.value)
    assert "pickle" in msg and "runs whatever code" in msg
    assert "safetensors" in msg


# --- bytes: the same file from memory ------------------------------------------------------


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=lambda w: w.__name__)
def test_every_bytes_like_source_reads_the_same_tensors(tmp_path, wrap):
    t = _tensors(3)
    save_file(t, str(tmp_path / "m.safetensors"), metadata={"who": "test"})
    data = (tmp_path / "m.safetensors").read_bytes()
    wf = open_weights(wrap(data), name="uploads/m.safetensors")
    assert wf.path.name == "m.safetensors" and wf.metadata == {"who": "test"}
    assert wf.file_bytes == len(data)
    for name, x in t.items():
        y = wf.tensor(name)
        assert y.dtype == x.dtype and np.array_equal(x, y)
        assert y.flags.writeable and y.flags.aligned  # a copy, not a view of the upload


def test_bytes_without_a_name_are_refused_with_what_to_do():
    with pytest.raises(WeightsError, match="need the file's name"):
        open_weights(b"\0" * 16)


def test_all_dtypes_from_memory_equal_the_memory_mapped_reading(tmp_path):
    rng = np.random.default_rng(5)
    t = {
        "f64": rng.standard_normal((3, 2)),
        "f16": rng.standard_normal(5).astype(np.float16),
        "i16": rng.integers(-900, 900, (2, 2)).astype(np.int16),
        "u32": rng.integers(0, 2**31, 3).astype(np.uint32),
        "flags": np.array([True, False, True]),
        "empty": np.zeros((0, 4), np.float32),
        "scalar": np.array(2.5, np.float32),
    }
    save_file(t, str(tmp_path / "d.safetensors"))
    path = tmp_path / "d.safetensors"
    assert _outcome(lambda: open_weights(path.read_bytes(), name=path.name)) == _outcome(
        lambda: open_weights(path)
    )


def test_onnx_bytes_above_the_limit_are_refused_before_parsing(tmp_path, monkeypatch):
    onnx = pytest.importorskip("onnx")
    import core.weights.intake as intake

    def parse(*args, **kwargs):
        raise AssertionError("parsed an ONNX model above the limit")

    monkeypatch.setattr(onnx, "load_model_from_string", parse)
    monkeypatch.setattr(intake, "WEIGHTS_MAX_ONNX_BYTES", 100)
    with pytest.raises(WeightsError, match="WEIGHTS_MAX_ONNX_BYTES"):
        open_weights(b"\x08\x07" * 100, name="m.onnx")


def test_npz_from_bytes_never_allows_pickle(tmp_path, monkeypatch):
    calls = []
    real = np.load

    def load(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "load", load)
    np.savez(tmp_path / "m.npz", w=np.arange(6.0))
    wf = open_weights((tmp_path / "m.npz").read_bytes(), name="m.npz")
    assert np.array_equal(wf.tensor("w"), np.arange(6.0))
    assert calls == [False]
