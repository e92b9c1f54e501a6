"""Masking: pick a transform per column and see the risk and utility change next to it.

Every change is saved as the workspace's recipe at once; the Export page exports that recipe
applied, so there is nothing to hand over.
"""

from __future__ import annotations

import streamlit as st

from core.errors import PrivLensError
from ui import masking_editor as editor
from ui import masking_results as results
from ui import timing
from ui.feedback import show_error
from ui.router import ensure_routed
from ui.state import hardening, require_dataset, workspace

ensure_routed()  # a deep link right after start-up must still go through app.py

df = require_dataset()
if workspace().dataset is None:  # the workspace could not be opened (the error is shown above)
    st.stop()
st.title("Masking")
st.caption(
    "What must change so this table is safe enough, and what does each change cost? Pick a "
    "transform per column; the risk and utility on the right follow every change, and the "
    "Export page exports this recipe."
)
editor.sidebar(df)


@st.fragment(key=editor.WORKBENCH_FRAGMENT)
@timing.timed("masking.workbench")
def workbench() -> None:
    """Editor (left) and live before -> after (right), rerun alone when a widget changes.

    The undo/redo row and the results are fragments of their own inside it: a change that
    only they show (k, the suppression mode, the quasi-identifiers) reruns them alone, not the
    editor's rows (see :func:`ui.masking_editor.suppression`).
    """
    built = editor.start(df)
    controls, shown = st.columns([3, 2], gap="large")
    with controls:
        history()
        st.subheader("Transforms per column")
        editor.transforms(built)
        st.subheader("k-anonymity")
        editor.suppression([str(c) for c in df.columns])
    with shown:
        before_after()


@st.fragment(key=editor.HISTORY_FRAGMENT)
@timing.timed("masking.history")
def history() -> None:
    """Undo and redo (their state follows every change of the recipe)."""
    editor.history_buttons()


@st.fragment(key=editor.RESULTS_FRAGMENT)
@timing.timed("masking.results")
def before_after() -> None:
    """The current recipe applied: risk and utility before -> after, log, preview."""
    st.subheader("Before → after")
    built = editor.current()
    if waiting := len(built.errors) + len(built.pending):
        st.info(f"{waiting} column(s) have a step not applied yet (see their rows).")
    try:
        with st.spinner("Applying the recipe…"):
            h = hardening()
    except PrivLensError as exc:
        show_error(exc)
        return
    if h is None:
        return
    results.risk_cards(df, built, h)
    results.utility(df, h)
    results.noise_note(h)
    results.change_log(h)
    results.download(h)
    results.preview(df, h)


workbench()
