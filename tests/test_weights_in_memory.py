"""Uploaded weights stay in memory: core compresses, measures and encrypts bytes as it does
files (same bytes out), and the Model page writes no file while it inspects, compresses and
sweeps an upload."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from safetensors.numpy import save
from streamlit.testing.v1 import AppTest

from core import crypto
from core.errors import WeightsError
from core.weights import (
    Prune,
    Quantize,
    Sparsify,
    WeightsRecipe,
    compress_file,
    compress_weights,
    encrypt_weights_bytes,
    open_weights,
)
from core.weights.sweep import CompressionSettings, measure, shipped_model_path, sweep
from tests.test_page_anonymize_first_paint import first_paint_mismatches
from ui.model_weights import UPLOAD

ROOT = Path(__file__).resolve().parents[1]
RECIPE = WeightsRecipe(steps=(Prune(sparsity=0.5), Quantize(bits=4), Sparsify(layout="csr")))


def _weights() -> bytes:
    rng = np.random.default_rng(11)
    return save(
        {
            "dense.weight": rng.standard_normal((8, 6)).astype(np.float32),
            "dense.bias": rng.standard_normal(8).astype(np.float32),
        }
    )


def test_compressing_bytes_gives_the_file_compress_file_writes(tmp_path):
    data = _weights()
    (tmp_path / "m.safetensors").write_bytes(data)
    on_disk = compress_file(tmp_path / "m.safetensors", tmp_path / "o.safetensors", RECIPE)
    report, out = compress_weights(open_weights(data, name="m.safetensors"), RECIPE)
    assert out == (tmp_path / "o.safetensors").read_bytes()
    assert report == on_disk and report.written_bytes == len(out)


def test_measure_and_sweep_from_bytes_equal_from_the_path():
    path = shipped_model_path("adult-logistic")
    data = path.read_bytes()
    settings = CompressionSettings(precision="int8", prune="sparsity", sparsity=0.5)
    assert measure(data, settings, name=path.name) == measure(path, settings)
    grid = {"precisions": ("float16", "int4"), "sparsities": (0.0, 0.5)}
    assert sweep(data, settings, name=path.name, **grid) == sweep(path, settings, **grid)


def test_encrypting_bytes_decrypts_to_them_and_refuses_a_pickle():
    data = _weights()
    blob = encrypt_weights_bytes(data, name="m.safetensors", passphrase="pw", work_factor=10)
    assert crypto.decrypt_bytes(blob, passphrase="pw") == data
    aged = encrypt_weights_bytes(
        data, name="m.safetensors", passphrase="pw", age=True, work_factor=10
    )
    assert crypto.age_decrypt(aged, passphrase="pw") == data
    with pytest.raises(WeightsError, match="runs whatever code"):
        encrypt_weights_bytes(b"\x80\x04\x95" + b"\0" * 40, name="m.pt", passphrase="pw")


# --- the page ----------------------------------------------------------------------------
#
# The page runs in a child process, with an audit hook that records every file opened for
# writing. An audit hook cannot be removed, and on CPython 3.11 a hook in a process whose
# threads are traced (coverage's `threading.settrace`) lets a starting thread meet another
# thread inside `sys.settrace`: the new thread dies with "Cannot install a trace function while
# another trace function is being installed". Installed in a test worker, the hook broke an
# unrelated app test's thread in CI; in a child of its own it can break nothing else.


def _store_folder() -> str:
    """The workspace store's folder (settings, saved on every change; not weights)."""
    db = os.environ.get("PRIVLENS_DB")
    return os.path.dirname(os.path.abspath(db)) if db else "\0"  # "\0": matches no path


def page_writes_in_this_process() -> dict:
    """Inspect, compress and sweep an upload on the Model page, recording every file the
    process opens for writing meanwhile (run by the test below in a child process)."""
    import safetensors.numpy

    writes: list[str] = []
    collecting = False

    def audit(event: str, args: tuple) -> None:
        if not collecting or not args:
            return
        if isinstance(args[0], str | bytes) and os.fsdecode(args[0]).startswith(_store_folder()):
            return
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            )
            if writing:
                writes.append(f"open {path!r} mode={mode!r}")
        elif event in ("os.mkdir", "tempfile.mkstemp", "tempfile.mkdtemp", "os.rename"):
            writes.append(f"{event} {args[0]!r}")

    def no_save_file(*args, **kwargs):  # written by Rust, beyond the audit hook's sight
        writes.append("safetensors.numpy.save_file called")

    sys.addaudithook(audit)
    safetensors.numpy.save_file = no_save_file
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    n = 30
    at.session_state["dataset"] = pd.DataFrame(
        {"age": [20 + i for i in range(n)], "y": ["a", "b", "c"] * (n // 3)}
    )
    at.session_state["dataset_name"] = "small.csv"
    at.run()
    at.switch_page("pages/model.py").run()
    # every setting is drawn with its value from the first paint (see that test's module)
    mismatches = first_paint_mismatches(at, "ws:model.options.")
    at.radio(key="ws:model.options.source").set_value("upload").run()
    data = _weights()
    at.session_state[UPLOAD] = {
        "name": "upload.safetensors",
        "data": data,
        "digest": hashlib.sha256(data).hexdigest(),
    }
    collecting = True
    try:
        at.run()
        at.selectbox(key="ws:model.options.precision").set_value("int4").run()
        at.radio(key="ws:model.options.prune").set_value("sparsity").run()
    finally:
        collecting = False
    return {
        "first_paint_mismatches": [str(m) for m in mismatches],
        "exceptions": [str(e.value) for e in at.exception],
        "errors": [str(e.value) for e in at.error],
        "metrics": sorted(m.label for m in at.metric),
        "charts": len(at.get("plotly_chart")),
        "writes": writes,
    }


def test_the_model_page_writes_no_file_for_an_upload():
    """Inspect, compress, sweep an upload: no file is opened for writing, no folder made."""
    child = (
        "import json\n"
        "from tests.test_weights_in_memory import page_writes_in_this_process\n"
        "print('RESULT ' + json.dumps(page_writes_in_this_process()))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", child],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(lines) == 1, proc.stdout[-4000:]
    seen = json.loads(lines[0].removeprefix("RESULT "))
    assert seen["first_paint_mismatches"] == []
    assert seen["exceptions"] == [] and seen["errors"] == [], seen
    assert set(seen["metrics"]) >= {"File written", "Relative error", "SNR"}
    assert seen["charts"] >= 2  # the histogram and the sweep of the upload
    assert seen["writes"] == [], seen["writes"]


def test_the_weights_tab_has_no_file_api():
    """The module hands bytes to core: no temporary file, no write, no memory file system."""
    source = (ROOT / "ui" / "model_weights.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"tempfile", "os", "shutil", "io"}
    called = {
        n.func.attr if isinstance(n.func, ast.Attribute) else getattr(n.func, "id", "")
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
    }
    assert not called & {"open", "write_bytes", "write_text", "compress_file", "encrypt_weights"}
    assert "/dev/shm" not in source
