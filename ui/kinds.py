"""The Data page's column-kind section: show each column's kind and let the user change it.

A change is applied to the loaded table at once (:func:`core.kinds.cast_column`) and recorded
(:func:`ui.state.record_kind_change`), so the Masking and Export pages put it first in their
recipe and ``python -m core harden`` replays it. A cast that would lose a value is refused
with its message; the table stays as it was.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import PrivLensError
from core.kinds import KINDS, cast_column, column_kinds
from core.profile import profile_frame
from core.roles import coded_columns
from ui.feedback import show_error, show_warnings
from ui.state import dataset_id, kind_changes, record_kind_change
from ui.text import md

_ERROR = "data_kind_error"
_WARNINGS = "data_kind_warnings"
_DONE = "data_kind_done"


def _change_kind() -> None:
    """Callback of the form: cast the chosen column, or keep the table and say why not."""
    for key in (_ERROR, _WARNINGS, _DONE):
        st.session_state.pop(key, None)
    frame = st.session_state.get("dataset")
    column = st.session_state.get("data_kind_column")
    kind = st.session_state.get("data_kind_value")
    fmt = str(st.session_state.get("data_kind_date_format") or "").strip() or None
    if frame is None or column is None or kind is None:
        return
    try:
        result = cast_column(frame, column, kind, date_format=fmt if kind == "date" else None)
    except PrivLensError as exc:
        st.session_state[_ERROR] = str(exc)
        return
    if not result.changed:
        st.session_state[_DONE] = f"Column '{column}' is already {kind}; nothing changed."
        return
    record_kind_change(result.frame, str(column), kind, fmt if kind == "date" else None)
    st.session_state[_WARNINGS] = list(result.warnings)
    st.session_state[_DONE] = (
        f"Column '{column}' is now {kind} (was {result.previous}). The change is the first "
        "step of the recipe on the Masking and Export pages."
    )


@st.cache_data(max_entries=4, show_spinner=False)
def _coded(_frame: pd.DataFrame, key: str) -> tuple[str, ...]:
    """Whole-number columns of few codes (keyed by the dataset token, not the frame)."""
    return coded_columns(profile_frame(_frame))


def _declare_categories() -> None:
    """Callback: make every suggested coded column a category, one recorded change each."""
    for key in (_ERROR, _WARNINGS, _DONE):
        st.session_state.pop(key, None)
    columns = list(st.session_state.get("data_kind_coded") or ())
    done = []
    for column in columns:
        frame = st.session_state.get("dataset")
        if frame is None or column not in frame.columns:
            continue
        try:
            result = cast_column(frame, column, "category")
        except PrivLensError as exc:
            st.session_state[_ERROR] = str(exc)
            break
        if result.changed:
            record_kind_change(result.frame, str(column), "category")
            done.append(str(column))
    if done:
        st.session_state[_DONE] = (
            f"{len(done)} column(s) are now category: {', '.join(done)}. The changes are the "
            "first steps of the recipe on the Masking and Export pages."
        )


def render(frame: pd.DataFrame) -> None:
    """Draw the section for ``frame`` (the loaded dataset)."""
    st.subheader("Column kinds")
    st.caption(
        "How each column is stored. Columns whose values have leading zeros, more digits than "
        "a number holds exactly, or mixed forms are loaded as text so that no value changes. "
        "Change a kind below: the change keeps every value or is refused, and it is recorded "
        "in the recipe so the command line replays it."
    )
    kinds = column_kinds(frame)
    st.dataframe(
        pd.DataFrame(
            {
                "column": [k.column for k in kinds],
                "kind": [k.kind for k in kinds],
                "stored as": [k.dtype for k in kinds],
            }
        ),
        hide_index=True,
        key="data_kinds",
    )
    coded = _coded(frame, dataset_id())
    if coded:
        st.info(
            f"{len(coded)} whole-number column(s) hold only a few codes, like categories "
            "(e.g. 1 = urban, 2 = rural): "
            + ", ".join(md(c) for c in coded)
            + ". As numbers, they get Pearson correlations, least-squares lines and Bin/Round "
            "steps; as categories, they get association measures and grouping."
        )
        st.session_state["data_kind_coded"] = list(coded)
        st.button(
            f"Declare the {len(coded)} column(s) category",
            key="data_kind_declare",
            on_click=_declare_categories,
        )
    with st.form("data_kind_form", border=False):
        c1, c2, c3, c4 = st.columns([2, 2, 2, 1], vertical_alignment="bottom")
        c1.selectbox("Column", [k.column for k in kinds], key="data_kind_column")
        c2.selectbox("New kind", KINDS, key="data_kind_value")
        c3.text_input(
            "Date format (dates only)",
            key="data_kind_date_format",
            placeholder="ISO 8601, or e.g. %d.%m.%Y",
            help="Used when the new kind is date. Leave empty for ISO 8601 (2024-12-31).",
        )
        c4.form_submit_button("Change kind", on_click=_change_kind)
    if _ERROR in st.session_state:
        show_error(st.session_state[_ERROR])
    elif _DONE in st.session_state:
        st.success(md(st.session_state[_DONE]))
    show_warnings(st.session_state.get(_WARNINGS, []))
    changes = kind_changes()
    if changes:
        st.caption("Kind changes recorded for the recipe, in order:")
        st.dataframe(
            pd.DataFrame([{"column": c, "kind": k, "date format": f or ""} for c, k, f in changes]),
            hide_index=True,
            key="data_kind_changes",
        )
