"""Data: load a table (upload or sample), preview it, profile it, and set column roles."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import limits
from core.data import SUPPORTED_EXTENSIONS, load
from core.errors import PrivLensError
from core.profile import profile_frame, profile_table
from core.roles import Role, apply_role_edits
from core.samples import (
    ADULT_CITATION,
    ADULT_NOTE,
    PATIENTS_NOTE,
    SAMPLES,
    adult,
    patients,
)
from ui import kinds as kinds_section
from ui import large_data, state
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.state import dataset_id, roles, set_dataset, set_roles
from ui.text import md

ensure_routed()  # a deep link right after start-up must still go through app.py


@st.cache_data(max_entries=4, show_spinner="Profiling columns…")
def _profile(_frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return profile_table(profile_frame(_frame))


def _load_upload() -> None:
    """Callback of the uploader: load the new file, or keep the current data on failure."""
    uploaded = st.session_state.get("data_upload")
    st.session_state.pop("data_error", None)
    st.session_state.pop("data_warnings", None)
    if uploaded is None:
        return
    options = _load_options()
    extra_na = [s.strip() for s in str(options["na_markers"]).split(",") if s.strip()]
    try:
        result = load(uploaded.getvalue(), filename=uploaded.name, na_values=extra_na)
    except PrivLensError as exc:
        st.session_state["data_error"] = f"'{uploaded.name}' was not loaded: {exc}"
        return
    set_dataset(result.frame, name=uploaded.name, note="Uploaded file, held in memory only.")
    state.set_options("data", options)  # the new workspace keeps the Data page's choices
    st.session_state["data_warnings"] = list(result.warnings)
    st.session_state["data_loaded_msg"] = (
        f"Loaded {len(result.frame):,} rows × {result.frame.shape[1]} columns from "
        f"'{uploaded.name}' ({result.format}"
        + (f", {result.encoding}" if result.encoding else "")
        + (f", delimiter {result.delimiter!r}" if result.delimiter else "")
        + ")."
    )
    st.session_state["roles_version"] = st.session_state.get("roles_version", 0) + 1


def _load_options() -> dict[str, str]:
    """The Data page's load settings (kept in the workspace, carried to the next one)."""
    sample = state.get("data.options.sample", SAMPLES[0])
    return {
        "na_markers": str(state.get("data.options.na_markers", "") or ""),
        "sample": sample if sample in SAMPLES else SAMPLES[0],
    }


def _load_sample() -> None:
    """Callback of the sample button."""
    options = _load_options()
    choice = options["sample"]
    st.session_state.pop("data_error", None)
    try:
        if choice == SAMPLES[0]:
            set_dataset(
                adult().frame, name="Adult census sample", note=f"{ADULT_NOTE} {ADULT_CITATION}"
            )
        else:
            set_dataset(patients(), name="Synthetic patients", note=PATIENTS_NOTE)
        state.set_options("data", options)
    except PrivLensError as exc:
        st.session_state["data_error"] = str(exc)
        return
    st.session_state["data_loaded_msg"] = f"Loaded the sample: {choice}."
    st.session_state["roles_version"] = st.session_state.get("roles_version", 0) + 1


def _apply_role_edits() -> None:
    """Callback of the role editor: fold the edited cells into the session's roles."""
    key = f"data_roles_{st.session_state.get('roles_version', 0)}"
    edits = st.session_state.get(key, {}).get("edited_rows", {})
    current = apply_role_edits(roles(), edits)
    set_roles(current)
    st.session_state["roles_version"] = st.session_state.get("roles_version", 0) + 1


def _set_one_role() -> None:
    """Callback of the keyboard-friendly role form (the grid above needs a pointer)."""
    col = st.session_state.get("data_role_column")
    value = st.session_state.get("data_role_value")
    current = roles()
    if col in current and value in {r.value for r in Role}:
        current[col] = value
        set_roles(current)
        st.session_state["roles_version"] = st.session_state.get("roles_version", 0) + 1


st.title("Data")
st.caption(
    "Load a table, check what is in it, and tell PrivLens which columns identify people. "
    "The roles you set here are the defaults of every later page."
)

with st.container(border=True):
    up_col, sample_col = st.columns([3, 2])
    with up_col:
        st.file_uploader(
            "Upload a table",
            type=[e.lstrip(".") for e in SUPPORTED_EXTENSIONS],
            key="data_upload",
            on_change=_load_upload,
            help=f"CSV/TSV/TXT (delimiter and encoding are detected), Excel .xlsx, Parquet, "
            f"JSON or JSON Lines, up to {limits.MAX_UPLOAD_MB} MB. The file is read in this "
            "server's memory; the table is kept only encrypted, in your workspace (see Home).",
        )
        st.text_input(
            "Also read these strings as missing (comma-separated)",
            placeholder="e.g. ?, -, unknown",
            **state.widget("data.options.na_markers", key="data_na", default="", initial="value"),
            help="Applied to the next upload. Empty cells, NA, N/A, NaN and NULL are always "
            "missing.",
        )
    with sample_col:
        st.selectbox(
            "Built-in sample",
            SAMPLES,
            **state.widget(
                "data.options.sample",
                key="data_sample",
                default=SAMPLES[0],
                options=SAMPLES,
                initial="index",
            ),
        )
        st.button("Load sample", key="data_load_sample", on_click=_load_sample)
large_data.open_section()  # a Parquet file or folder from the server's allowed directories

if "data_error" in st.session_state:
    show_error(st.session_state["data_error"])
    if st.session_state.get("dataset") is not None:
        st.info(f"Still working with **{md(st.session_state.get('dataset_name'))}**.")
elif "data_loaded_msg" in st.session_state:
    st.success(md(st.session_state["data_loaded_msg"]))
show_warnings(st.session_state.get("data_warnings", []))

df = st.session_state.get("dataset")
if df is None and large_data.active():
    large_data.preview()  # read through an engine: a labelled sample, never the whole table
    st.stop()
if df is None:
    st.info("Upload a table or load a sample to begin.")
    st.stop()

st.subheader(f"Preview: {md(st.session_state.get('dataset_name', ''))}")
st.caption(f"{len(df):,} rows × {df.shape[1]} columns. {st.session_state.get('dataset_note', '')}")
st.dataframe(df.head(limits.PREVIEW_ROWS), key="data_preview", height=280)

kinds_section.render(df)

st.subheader("Column profile")
profile = _profile(df, dataset_id())
st.dataframe(
    profile,
    hide_index=True,
    key="data_profile",
    column_config={
        "kind": st.column_config.TextColumn(
            "kind",
            help="numeric, integer, categorical, boolean, datetime, free text, "
            "identifier-like (almost every value distinct), or empty",
        ),
        "missing %": st.column_config.NumberColumn(
            "missing %", help="Share of rows where the value is missing.", format="%.2f"
        ),
        "distinct": st.column_config.NumberColumn(
            "distinct", help="Number of different non-missing values."
        ),
        "uniqueness": st.column_config.NumberColumn(
            "uniqueness",
            help="Distinct values ÷ non-missing values. Near 1: the column alone singles out "
            "records.",
            format="%.4f",
        ),
        "detected": st.column_config.TextColumn(
            "detected", help="Personal-data patterns found in a sample of the values."
        ),
    },
)

st.subheader("Column roles")
st.caption(
    "**Direct identifier**: names a person on its own (name, e-mail, SSN) — remove or "
    "pseudonymize. **Quasi-identifier**: harmless alone, identifying in combination (age, "
    "ZIP, sex) — the risk pages group records by these. **Sensitive attribute**: what must "
    "not be learned about a person (diagnosis, income). **Sampling weight**: how many people "
    "each record stands for (a survey weight such as sampling\\_weight or fnlwgt); the Risk "
    "page uses it by default. **Other**: none of these."
)
current = roles()
reasons = st.session_state.get("role_reasons", {})
editor_frame = pd.DataFrame(
    {
        "column": list(current),
        "role": list(current.values()),
        "why suggested": [reasons.get(c, "") for c in current],
    }
)
st.data_editor(
    editor_frame,
    key=f"data_roles_{st.session_state.get('roles_version', 0)}",
    on_change=_apply_role_edits,
    hide_index=True,
    disabled=["column", "why suggested"],
    column_config={
        "role": st.column_config.SelectboxColumn(
            "role",
            options=[r.value for r in Role],
            format_func=lambda v: Role(v).label,
            required=True,
            help="Click a cell to change the role of that column.",
        ),
    },
)
with st.form("data_role_form", border=False):
    f1, f2, f3 = st.columns([2, 2, 1], vertical_alignment="bottom")
    f1.selectbox("Column", list(current), key="data_role_column")
    f2.selectbox(
        "Role", [r.value for r in Role], format_func=lambda v: Role(v).label, key="data_role_value"
    )
    f3.form_submit_button("Set role", on_click=_set_one_role)
counts = pd.Series(list(current.values())).value_counts()
st.caption(" · ".join(f"{Role(r).label}: {int(counts.get(r.value, 0))}" for r in Role))
