"""Home: what PrivLens is, what each page answers, the current dataset, and the workspace."""

from __future__ import annotations

import streamlit as st

from ui import nav, state, workspace_panel
from ui.feedback import show_error
from ui.router import ensure_routed
from ui.text import md

ensure_routed()  # a deep link right after start-up must still go through app.py

st.title("PrivLens")
st.markdown(
    "See how exposed a table of personal data is, harden it, and export a version that is "
    "safe to share. Everything runs on this server: nothing is uploaded anywhere else and no "
    "usage statistics are sent."
)

# Said once per browser session, on the first page the link opened (app.py says it first).
workspace_panel.link_notice()
if st.session_state.get("ws_restored") and not st.session_state.get("home_restored_shown"):
    st.session_state["home_restored_shown"] = True
    st.success("Restored your workspace from this page's link: data, settings and history.")
workspace_panel.deleted_notice()

data_page = next((p for p in nav.pages() if p.url_path == "data"), None)
if data_page is not None:
    st.page_link(data_page, label="Upload your own data", icon=":material/upload_file:")

df = st.session_state.get("dataset")
if df is not None:
    st.subheader("Current dataset")
    c1, c2, c3 = st.columns(3)
    c1.metric("Rows", f"{len(df):,}", help="Number of records in the loaded table.")
    c2.metric("Columns", df.shape[1], help="Number of variables in the loaded table.")
    c3.metric(
        "Quasi-identifiers",
        sum(1 for r in state.roles().values() if r == "quasi_identifier"),
        help="Columns that, combined, could single a person out (set on the Data page).",
    )
    st.caption(
        f"**{md(st.session_state.get('dataset_name', ''))}**. "
        f"{md(st.session_state.get('dataset_note', ''))}"
    )
elif state.large_source() is not None:  # a large dataset, read through an engine
    from ui import large_data

    large_data.home_summary()
elif "startup_error" in st.session_state:
    show_error(st.session_state["startup_error"])

st.subheader("Your workspace")
st.caption(workspace_panel.storage_notice())
workspace_panel.delete_section()

st.subheader("Pages")
for page in nav.pages()[1:]:
    question = nav.QUESTIONS.get(page.url_path, "")
    col1, col2 = st.columns([1, 3])
    with col1:
        st.page_link(page, label=page.title, icon=page.icon)
    col2.markdown(question)
