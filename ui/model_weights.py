"""The Weights tab of the Model page: open, inspect, compress, measure, download, encrypt.

Every setting lives in the workspace's ``model`` section (``model.options.<name>``); the
passphrase never does. The weights themselves are kept as bytes in this browser session
(an upload) or read from ``data/models`` (a shipped model), and handed to core as bytes with
their file name: an upload stays in memory and is never written to a file, nor is anything
made from it (the compressed and the encrypted files are built in memory). Cached results are
keyed by the file's SHA-256 digest, never by its bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import PurePath

import streamlit as st

from core.errors import PrivLensError
from core.limits import WEIGHTS_MAX_FILE_BYTES
from core.weights import PICKLE_EXTENSIONS, encrypt_weights_bytes, histogram, inspect_weights
from core.weights import open_weights as _open
from core.weights.sweep import (
    LAYOUTS,
    PRECISIONS,
    PRUNE_MODES,
    SCOPES,
    SHIPPED_MODELS,
    CompressionSettings,
    Measured,
    ModelEvaluator,
    Sweep,
    measure,
    settings_from_options,
    shipped_evaluator,
    shipped_model_path,
    sweep,
)
from ui import state
from ui.charts import weights as charts
from ui.feedback import show_error, show_warnings
from ui.text import md

#: ``st.session_state`` key of the uploaded weights: ``{"name", "data", "digest"}``.
UPLOAD = "model_weights_upload"
SOURCES = (*SHIPPED_MODELS, "upload")
SOURCE_LABELS = {
    "adult-logistic": "Adult income model: logistic regression (shipped)",
    "adult-mlp": "Adult income model: one-hidden-layer MLP (shipped)",
    "upload": "A weights file of my own",
}
PRECISION_LABELS = {
    "float32": "float32 (keep)",
    "float16": "float16 (cast)",
    "bfloat16": "bfloat16 (cast)",
    "int8": "int8 (quantize)",
    "int4": "int4 (quantize)",
}
PRUNE_LABELS = {"none": "No pruning", "sparsity": "To a sparsity", "threshold": "Below a threshold"}
LAYOUT_LABELS = {"dense": "Dense (zeros kept)", "csr": "CSR", "bitmask": "Bitmask + values"}
_DEFAULTS = CompressionSettings()


@st.cache_data(max_entries=8, show_spinner=False)
def _inspect(_data: bytes, digest: str, name: str):  # noqa: ANN202 - cached
    return inspect_weights(_open(_data, name=name))


@st.cache_data(max_entries=16, show_spinner=False)
def _histogram(_data: bytes, digest: str, name: str, tensor: str):  # noqa: ANN202 - cached
    return histogram(_open(_data, name=name), tensor)


@st.cache_data(max_entries=2, show_spinner="Encoding the Adult test split…")
def _evaluator(model: str) -> ModelEvaluator:
    return shipped_evaluator(model)


@st.cache_data(max_entries=16, show_spinner="Compressing…")
def _measure(
    _data: bytes, digest: str, name: str, settings: CompressionSettings, model: str | None
) -> Measured:
    ev = _evaluator(model) if model else None
    return measure(_data, settings, evaluator=ev, name=name)


@st.cache_data(max_entries=16, show_spinner="Measuring the sweep…")
def _sweep(
    _data: bytes, digest: str, name: str, settings: CompressionSettings, model: str | None
) -> Sweep:
    ev = _evaluator(model) if model else None
    return sweep(_data, settings, evaluator=ev, name=name)


def _keep_upload() -> None:
    """Uploader callback: keep the chosen file's bytes (size checked first) for the session."""
    ss = st.session_state
    f = ss.get("model_upload_widget")
    ss.pop("model_upload_error", None)
    if f is None:
        ss.pop(UPLOAD, None)
        return
    if f.size > WEIGHTS_MAX_FILE_BYTES:
        ss["model_upload_error"] = (
            f"The file has {f.size:,} bytes, above the limit of {WEIGHTS_MAX_FILE_BYTES:,} "
            "(WEIGHTS_MAX_FILE_BYTES). Use a smaller model."
        )
        return
    data = f.getvalue()
    ss[UPLOAD] = {"name": f.name, "data": data, "digest": hashlib.sha256(data).hexdigest()}


def _source() -> tuple[str, bytes, str, str | None] | None:
    """``(file name, bytes, digest, shipped model or None)`` of the chosen weights."""
    source = st.radio(
        "Weights",
        SOURCES,
        format_func=lambda v: SOURCE_LABELS[v],
        **state.widget(
            "model.options.source", default=SOURCES[0], options=SOURCES, initial="index"
        ),
    )
    if source != "upload":
        path = shipped_model_path(source)
        data = path.read_bytes()
        return path.name, data, hashlib.sha256(data).hexdigest(), source
    st.file_uploader(
        "Weights file (.safetensors, .npz or .onnx)",
        type=["safetensors", "npz", "onnx", *(e.lstrip(".") for e in PICKLE_EXTENSIONS)],
        key="model_upload_widget",
        on_change=_keep_upload,
        help="Read in memory without running code from it. Pickle-based files (.pt, .bin, "
        ".pkl, …) are refused: loading them runs whatever code they name.",
    )
    if error := st.session_state.get("model_upload_error"):
        show_error(error)
    up = st.session_state.get(UPLOAD)
    if up is None:
        st.info("Choose a weights file, or pick a shipped model above.")
        return None
    return up["name"], up["data"], up["digest"], None


def _inspection(name: str, data: bytes, digest: str) -> bool:
    """The tensor table and a histogram; False when the file cannot be opened."""
    try:
        summary = _inspect(data, digest, name)
    except PrivLensError as exc:
        show_error(exc)
        return False
    st.subheader("Tensors")
    st.caption(
        f"{md(summary.file)} · {summary.format} · {summary.file_bytes:,} bytes on disk · "
        f"{summary.total_parameters:,} parameters in {len(summary.tensors)} tensors"
    )
    st.dataframe(
        charts.tensor_table(summary),
        hide_index=True,
        column_config={"Zeros": st.column_config.NumberColumn(format="percent")},
        key="model_tensor_table",
    )
    names = [t.name for t in summary.tensors]
    if names:
        largest = max(summary.tensors, key=lambda t: t.parameters).name
        tensor = st.selectbox(
            "Histogram of tensor",
            names,
            **state.widget("model.options.tensor", default=largest, options=names, initial="index"),
        )
        try:
            st.plotly_chart(
                charts.histogram_figure(_histogram(data, digest, name, tensor)),
                key="model_histogram",
            )
        except PrivLensError as exc:
            show_error(exc)
    return True


def _settings_widgets() -> CompressionSettings | None:
    """The compression settings, bound to ``model.options``; None when they are refused."""
    left, right = st.columns(2)
    with left:
        precision = st.selectbox(
            "Precision",
            PRECISIONS,
            format_func=lambda v: PRECISION_LABELS[v],
            **state.widget(
                "model.options.precision",
                default=_DEFAULTS.precision,
                options=PRECISIONS,
                initial="index",
            ),
        )
        quantized = precision in ("int8", "int4")
        st.radio(
            "Scheme",
            [True, False],
            format_func=lambda v: "Symmetric" if v else "Asymmetric (zero point)",
            horizontal=True,
            disabled=not quantized,
            **state.widget(
                "model.options.symmetric", default=True, options=[True, False], initial="index"
            ),
        )
        st.radio(
            "Scales",
            [True, False],
            format_func=lambda v: "Per output channel" if v else "Per tensor",
            horizontal=True,
            disabled=not quantized,
            **state.widget(
                "model.options.per_channel", default=True, options=[True, False], initial="index"
            ),
        )
    with right:
        prune = st.radio(
            "Prune by magnitude",
            PRUNE_MODES,
            format_func=lambda v: PRUNE_LABELS[v],
            horizontal=True,
            **state.widget(
                "model.options.prune", default="none", options=PRUNE_MODES, initial="index"
            ),
        )
        if prune == "threshold":
            st.number_input(
                "Zero every weight with |w| below",
                min_value=0.0,
                step=0.01,
                format="%.4f",
                **state.widget("model.options.threshold", default=0.0, initial="value"),
            )
        else:
            st.slider(
                "Sparsity",
                0.0,
                0.95,
                step=0.05,
                disabled=prune == "none",
                **state.widget(
                    "model.options.sparsity", default=_DEFAULTS.sparsity, initial="value"
                ),
            )
        st.radio(
            "Pruning scope",
            SCOPES,
            format_func=lambda v: "Per tensor" if v == "tensor" else "Global",
            horizontal=True,
            disabled=prune != "sparsity",
            **state.widget(
                "model.options.scope", default="tensor", options=SCOPES, initial="index"
            ),
        )
        st.radio(
            "Store pruned tensors as",
            LAYOUTS,
            format_func=lambda v: LAYOUT_LABELS[v],
            horizontal=True,
            disabled=prune == "none",
            **state.widget(
                "model.options.layout", default=_DEFAULTS.layout, options=LAYOUTS, initial="index"
            ),
        )
    try:
        return settings_from_options(dict(state.workspace().model.options))
    except PrivLensError as exc:
        show_error(exc)
        return None


def _results(m: Measured) -> None:
    p = m.point
    cols = st.columns(5 if p.accuracy is not None else 3)
    cols[0].metric(
        "File written",
        f"{p.written_bytes:,} B",
        delta=f"{p.written_bytes - p.original_bytes:+,} B",
        delta_color="inverse",
        help="Bytes of the compressed safetensors file actually written (metadata included), "
        "against the original file.",
    )
    cols[1].metric(
        "Relative error",
        f"{p.relative_error:.4g}",
        help="‖w − ŵ‖ / ‖w‖ over all tensors, ŵ read back from the written file.",
    )
    cols[2].metric("SNR", f"{p.snr_db:.1f} dB", help="10·log10(Σw² / Σ(w − ŵ)²) over all tensors.")
    if p.accuracy is not None and p.auc is not None:
        cols[3].metric(
            "Test accuracy",
            f"{p.accuracy:.2%}",
            help="On the Adult test rows recorded in data/models/adult-split.json.",
        )
        cols[4].metric("Test AUC", f"{p.auc:.4f}", help="Same test rows.")
    show_warnings(m.report.warnings)
    st.dataframe(
        charts.error_table(m.report),
        hide_index=True,
        column_config={"Zeros": st.column_config.NumberColumn(format="percent")},
        key="model_error_table",
    )


def _downloads(name: str, data: bytes, m: Measured) -> None:
    stem = PurePath(name).stem or "weights"
    st.download_button(
        "Download compressed (.safetensors)",
        data=lambda: m.data,
        file_name=f"{stem}-compressed.safetensors",
        mime="application/octet-stream",
        key="model_download_compressed",
        on_click="ignore",
    )
    st.download_button(
        "Download the recipe (JSON)",
        data=m.report.recipe.to_json(),
        file_name="weights-recipe.json",
        mime="application/json",
        key="model_download_recipe",
        on_click="ignore",
        help="Replays these steps: python -m core weights compress FILE --recipe "
        "weights-recipe.json -o OUT.safetensors",
    )
    st.markdown("**Encrypt** (AES-256-GCM with a passphrase; the Decrypt page opens it)")
    what = st.radio(
        "File to encrypt",
        ["compressed", "original"],
        format_func=lambda v: f"The {v} weights",
        horizontal=True,
        **state.widget(
            "model.options.encrypt",
            default="compressed",
            options=["compressed", "original"],
            initial="index",
        ),
    )
    a, b = st.columns(2)
    pw = a.text_input("Passphrase", type="password", key="model_passphrase")
    pw2 = b.text_input("Passphrase again", type="password", key="model_passphrase2")
    ready = bool(pw) and pw == pw2
    if pw and pw2 and pw != pw2:
        st.error("The two passphrases differ. Type the same passphrase twice.")
    plain, plain_name = (
        (m.data, f"{stem}-compressed.safetensors")
        if what == "compressed"
        else (
            data,
            PurePath(name).name,
        )
    )

    def _encrypted() -> bytes:
        # Built on click only, in memory: the passphrase stays in this closure and never
        # reaches a cache.
        return encrypt_weights_bytes(plain, name=plain_name, passphrase=pw)

    st.download_button(
        "Download encrypted (.plenc)",
        data=_encrypted,
        file_name=f"{PurePath(plain_name).name}.plenc",
        mime="application/octet-stream",
        key="model_download_encrypted",
        type="primary",
        disabled=not ready,
        on_click="ignore",
        help="Encrypted in memory when you click; never stored on the server.",
    )


@st.fragment
def _compression(name: str, data: bytes, digest: str, model: str | None) -> None:
    """Settings, measured results, the sweep and the downloads: rerun alone on a change."""
    st.subheader("Compress")
    settings = _settings_widgets()
    if settings is None:
        return
    try:
        m = _measure(data, digest, name, settings, model)
    except PrivLensError as exc:
        show_error(exc)
        return
    _results(m)
    st.subheader("Error against size")
    st.caption(
        "Every point is a file written and read back: precisions × sparsities with your other "
        "settings. The star is your current setting."
        + (" Accuracy and AUC are on the model's held-out Adult test rows." if model else "")
    )
    try:
        sw = _sweep(data, digest, name, settings, model)
    except PrivLensError as exc:
        show_error(exc)
    else:
        st.plotly_chart(charts.sweep_figure(sw, m.point), key="model_sweep")
    st.subheader("Download")
    _downloads(name, data, m)


def render() -> None:
    """Draw the Weights tab into the current container."""
    st.caption(
        "Inspect a model's weights, shrink them by quantization and pruning, measure what that "
        "costs, and hand them over encrypted."
    )
    try:
        chosen = _source()
    except PrivLensError as exc:
        show_error(exc)
        return
    if chosen is None:
        return
    name, data, digest, model = chosen
    if not _inspection(name, data, digest):
        return
    _compression(name, data, digest, model)
