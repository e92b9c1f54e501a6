"""Model page, Weights tab (headless): inspect, compress and measure, refuse bad files, and
keep every setting in the workspace across navigation and a reload."""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.weights import inspect_weights, open_weights
from core.weights.sweep import CompressionSettings, measure, shipped_evaluator, shipped_model_path
from ui.model_weights import UPLOAD

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "pages/model.py"


def _page() -> AppTest:
    """The Model page, with a small table loaded so the other tab's training stays quick."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    n = 60
    at.session_state["dataset"] = pd.DataFrame(
        {
            "age": [20 + (7 * i) % 45 for i in range(n)],
            "sex": ["f", "m", "x"] * (n // 3),
            "income": [">50K" if i % 4 == 0 else "<=50K" for i in range(n)],
        }
    )
    at.session_state["dataset_name"] = "small.csv"
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@functools.cache
def _evaluator(model: str):  # noqa: ANN202 - test helper
    return shipped_evaluator(model)


def _expected(settings: CompressionSettings, model: str = "adult-logistic") -> dict[str, str]:
    """The page's metric texts, from core's own measurement."""
    p = measure(shipped_model_path(model), settings, evaluator=_evaluator(model)).point
    return {
        "File written": f"{p.written_bytes:,} B",
        "Relative error": f"{p.relative_error:.4g}",
        "SNR": f"{p.snr_db:.1f} dB",
        "Test accuracy": f"{p.accuracy:.2%}",
        "Test AUC": f"{p.auc:.4f}",
    }


def _table(at: AppTest, column: str):
    """The page's table with that column (tensors: "Dtype"; errors: "Relative error")."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    if not found:
        raise KeyError(column)
    return found[0]


def _upload(at: AppTest, name: str, data: bytes) -> None:
    """What the uploader's callback keeps (AppTest cannot drive a file uploader)."""
    at.radio(key="ws:model.options.source").set_value("upload").run()
    at.session_state[UPLOAD] = {
        "name": name,
        "data": data,
        "digest": hashlib.sha256(data).hexdigest(),
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module")
def shared() -> AppTest:
    """One session for the read-only checks."""
    return _page()


def test_inspects_the_shipped_model_like_core(shared):
    at = shared
    table = _table(at, "Dtype")
    summary = inspect_weights(open_weights(shipped_model_path("adult-logistic")))
    assert list(table["Tensor"]) == [t.name for t in summary.tensors] + ["Total"]
    assert list(table["Parameters"]) == [t.parameters for t in summary.tensors] + [
        summary.total_parameters
    ]
    assert table["Std"].iloc[0] == pytest.approx(summary.tensors[0].std)
    largest = max(summary.tensors, key=lambda t: t.parameters).name
    assert at.selectbox(key="ws:model.options.tensor").value == largest == "dense.weight"
    assert _metrics(at) == _expected(CompressionSettings())


def test_bad_files_are_clear_errors_and_an_npz_opens():
    at = _page()
    _upload(at, "model.pt", b"\x80\x04\x95 not really a pickle")
    assert any("pickle" in e.value and "safetensors" in e.value for e in at.error)
    with pytest.raises(KeyError):
        _table(at, "Dtype")  # nothing of the file is shown
    _upload(at, "broken.safetensors", (10**9).to_bytes(8, "little") + b"{}")
    assert any("header" in e.value and "export the weights again" in e.value for e in at.error)
    _upload(at, "cut.safetensors", (40).to_bytes(8, "little") + b'{"w": {"dtype"')
    assert any("not a valid safetensors file" in e.value for e in at.error)
    assert at.session_state["dataset"] is not None  # the loaded table is kept
    buf = io.BytesIO()
    np.savez(buf, w=np.arange(12, dtype=np.float32).reshape(3, 4), b=np.zeros(3, np.float32))
    _upload(at, "mine.npz", buf.getvalue())
    assert not at.error
    assert list(_table(at, "Dtype")["Tensor"]) == ["w", "b", "Total"]
    # no shipped model: no accuracy, but the measured error
    assert "Test accuracy" not in _metrics(at) and "Relative error" in _metrics(at)


SETTINGS = {
    "precision": ("selectbox", "int4"),
    "symmetric": ("radio", False),
    "per_channel": ("radio", False),
    "prune": ("radio", "sparsity"),
    "sparsity": ("slider", 0.3),
    "scope": ("radio", "global"),
    "layout": ("radio", "bitmask"),
    "tensor": ("selectbox", "dense.bias"),
    "encrypt": ("radio", "original"),
}


def _shown(at: AppTest) -> dict[str, object]:
    return {
        name: getattr(at, kind)(key=f"ws:model.options.{name}").value
        for name, (kind, _) in SETTINGS.items()
    }


def test_settings_survive_navigation_and_a_reload():
    at = _page()
    before = _metrics(at)
    for name, (kind, value) in SETTINGS.items():
        getattr(at, kind)(key=f"ws:model.options.{name}").set_value(value).run()
        assert not at.exception, name
    want = {name: value for name, (_, value) in SETTINGS.items()}
    assert _shown(at) == want
    options = dict(at.session_state["workspace"].model.options)
    assert {k: options[k] for k in want} == want
    figures = _metrics(at)
    assert figures != before
    assert figures == _expected(
        CompressionSettings(
            precision="int4",
            symmetric=False,
            per_channel=False,
            prune="sparsity",
            sparsity=0.3,
            scope="global",
            layout="bitmask",
        )
    )
    errors = _table(at, "Relative error")
    assert set(errors["Stored as"]) >= {"int4"} and set(errors["Layout"]) >= {"bitmask"}

    at.switch_page("pages/history.py").run()
    at.switch_page(PAGE).run()
    assert _shown(at) == want and _metrics(at) == figures

    at2 = AppTest.from_file(APP, default_timeout=120)
    at2.query_params["ws"] = at.session_state["ws_token"]
    at2.run()
    at2.switch_page(PAGE).run()
    assert not at2.exception
    assert _shown(at2) == want and _metrics(at2) == figures
