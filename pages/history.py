"""History: the workspace's releases and exports, the budget's audit log, and project files."""

from __future__ import annotations

import streamlit as st

from core.errors import PrivLensError
from ui import state, workspace_panel
from ui.feedback import show_error
from ui.router import ensure_routed

ensure_routed()  # a deep link right after start-up must still go through app.py

st.title("History")
st.caption(
    "What was done with this table: every differential-privacy release and every export of "
    "this workspace, and the privacy budget's audit log, newest first. Save it all in a "
    "project file to reopen it later or on another server."
)
ws = state.workspace()

st.subheader("Releases")
st.caption(
    "The newest release keeps its answer and its 95% error; earlier ones keep what was asked "
    "and what it cost."
)
workspace_panel.history_table(
    workspace_panel.releases_frame(ws.releases),
    key="history_releases",
    empty="No differential-privacy release yet (Differential privacy page).",
)

st.subheader("Exports")
workspace_panel.history_table(
    workspace_panel.exports_frame(ws.exports),
    key="history_exports",
    empty="No export yet (Export page).",
)

st.subheader("Privacy budget audit log")
st.caption(
    "The budget belongs to the table, not to this workspace: every workspace that loads the "
    "same table shares it, and this log."
)
try:
    audit = state.budget_history()
except PrivLensError as exc:
    show_error(exc)
    audit = ()
workspace_panel.history_table(
    workspace_panel.audit_frame(audit),
    key="history_audit",
    empty="No budget set for this table yet.",
)

st.subheader("Project file")
workspace_panel.project_section()
