"""The Masking page's editor: a transform per column and the k-anonymity section.

Every widget is bound to a draft in the workspace (``masking.options``, see
:mod:`core.recipe_editor`), so what the user typed survives navigation and reloads. After each
change the drafts are turned into the recipe and saved as the workspace's current recipe
(:func:`save_recipe`): that recipe is what the Export page exports. Undo and redo move through
the saved recipes, and the drafts follow (:func:`load`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from core import limits, masking
from core.errors import PrivLensError
from core.recipe import TRANSFORMS, ParamSpec, Recipe
from core.recipe_editor import (
    K_DEFAULT,
    KEEP,
    MODES,
    EditorResult,
    build_recipe,
    default_draft,
    drafts_from_recipe,
    editable_steps,
    offered_transforms,
    param_option,
    shown_params,
    suggested_recipe,
    transform_option,
)
from core.roles import Role
from ui import state
from ui.feedback import show_error
from ui.text import md

OPT = "masking.options."
#: Keys of the page's fragments (``st.fragment(key=...)`` in ``pages/masking.py``): the
#: workbench (editor and results) and, inside it, the undo/redo row and the results.
WORKBENCH_FRAGMENT = "mask_workbench"
HISTORY_FRAGMENT = "mask_history"
RESULTS_FRAGMENT = "mask_results"


def _tkey(i: int) -> str:
    return f"mask_t_{i}"


def _pkey(i: int, transform: str, name: str) -> str:
    return f"mask_p_{i}_{transform}_{name}"


# --- drafts <-> the workspace's recipe ---------------------------------------------------------


def current() -> EditorResult:
    """The recipe the saved drafts make (with what keeps a column's draft out of it)."""
    ws = state.workspace()
    assert ws.dataset is not None
    return build_recipe(
        ws.masking.options,
        ws.dataset.column_names,
        ws.dataset.kinds,
        default_qis=ws.risk.quasi_identifiers,
    )


def save_recipe() -> None:
    """Make the drafts' recipe the workspace's current recipe (undo can go back)."""
    built = current()
    if built.recipe != state.recipe():
        state.set_recipe(built.recipe)


def load(recipe: Recipe) -> None:
    """Set the drafts so that the editor shows ``recipe``."""
    ws = state.workspace()
    assert ws.dataset is not None
    state.set_options(
        "masking", drafts_from_recipe(recipe, ws.masking.options, ws.dataset.column_names)
    )


def start(df: pd.DataFrame) -> EditorResult:
    """The editor's state for this run.

    On the first visit to a workspace the suggestions from the column roles become the
    recipe. When the recipe was changed elsewhere (undo, redo, an opened project) the drafts
    follow it; a step the column's kind no longer takes (a kind changed on the Data page) is
    removed from the recipe, and the page says so.
    """
    ws = state.workspace()
    if not ws.masking.options.get("seeded"):
        first = ws.recipe.current if ws.recipe.current.steps else None
        recipe = first or suggested_recipe(df, state.roles())
        drafts = drafts_from_recipe(recipe, ws.masking.options, ws.dataset.column_names)
        drafts.setdefault("quasi_identifiers", tuple(ws.risk.quasi_identifiers))
        drafts.setdefault("k", K_DEFAULT)
        drafts.setdefault("mode", "cells")
        state.set_options("masking", {**drafts, "seeded": True})
        save_recipe()
    built = current()
    saved = state.recipe()
    if built.recipe.steps != saved.steps:
        load(saved)
        built = current()
        if built.recipe.steps != saved.steps:
            gone = [s.describe() for s in saved.steps if s not in built.recipe.steps]
            state.set_recipe(built.recipe)
            st.session_state["mask_removed"] = gone
    if gone := st.session_state.pop("mask_removed", None):
        st.warning(
            md(
                f"{len(gone)} step(s) no longer fit their column's kind (set on the Data page) "
                "and were removed from the recipe: " + "; ".join(gone) + "."
            )
        )
    return built


def _undo() -> None:
    state.undo_recipe()
    load(state.recipe())
    _rerun_only(WORKBENCH_FRAGMENT)  # the editor's rows follow the recipe


def _redo() -> None:
    state.redo_recipe()
    load(state.recipe())
    _rerun_only(WORKBENCH_FRAGMENT)


def history_buttons() -> None:
    """Undo and redo of the recipe (the widgets follow)."""
    history = state.workspace().recipe
    row = st.container(horizontal=True)
    row.button(
        "Undo",
        key="mask_undo",
        icon=":material/undo:",
        on_click=_undo,
        disabled=not history.can_undo,
        help="Go back to the recipe before the last change.",
    )
    row.button(
        "Redo",
        key="mask_redo",
        icon=":material/redo:",
        on_click=_redo,
        disabled=not history.can_redo,
        help="Apply the last undone change again.",
    )


# --- the widgets ---------------------------------------------------------------------------


def _label(t: str) -> str:
    return "Keep as is" if t == KEEP else TRANSFORMS[t].label


@dataclass(frozen=True, slots=True)
class _Row:
    """What an editor row shows that no change of the recipe changes."""

    column: str
    heading: str  # name, role and kind (markdown, escaped)
    label: str  # the transform picker's label (escaped)
    offered: tuple[str, ...]


def _rows() -> tuple[_Row, ...]:
    """The editor's rows, built once per dataset, kinds and roles and kept in the session."""
    ws = state.workspace()
    assert ws.dataset is not None
    kinds = ws.dataset.kinds
    roles = state.roles()
    key = (state.dataset_id(), ws.dataset.column_names, sorted(kinds.items()))
    key += (sorted(roles.items()),)
    memo = st.session_state.get("mask_rows")
    if isinstance(memo, tuple) and memo[0] == key:
        return memo[1]  # type: ignore[no-any-return]
    rows = []
    for col in ws.dataset.column_names:
        kind = kinds.get(col, "other")
        role = Role(roles.get(col, Role.OTHER))
        rows.append(
            _Row(
                column=col,
                heading=f"**{md(col)}**  \n:gray[{role.label} · {kind}]",
                label=f"Transform for {md(col)}",
                offered=offered_transforms(kind),
            )
        )
    st.session_state["mask_rows"] = (key, tuple(rows))
    return tuple(rows)


def transforms(built: EditorResult) -> None:
    """One row per column: name, role and kind; the transform; its parameters; a hint."""
    for i, row in enumerate(_rows()):
        col = row.column
        name_cell, pick_cell = st.columns([1, 2], vertical_alignment="center")
        name_cell.markdown(row.heading)
        transform = pick_cell.selectbox(
            row.label,
            row.offered,
            format_func=_label,
            label_visibility="collapsed",
            **state.widget(
                OPT + transform_option(col),
                key=_tkey(i),
                default=KEEP,
                options=row.offered,
                after=save_recipe,
                initial="index",
            ),
        )
        if transform == KEEP:
            continue
        params = shown_params(transform)
        for cell, p in zip(st.columns(max(len(params), 1)), params, strict=False):
            _param_widget(cell, i, col, transform, p)
        if col in built.errors:
            show_error(built.errors[col])
        elif col in built.pending:
            st.caption(":material/edit_note: " + md(built.pending[col]))


def _param_widget(cell: Any, i: int, col: str, transform: str, p: ParamSpec) -> Any:
    label = p.name.replace("_", " ")
    path = OPT + param_option(col, transform, p.name)
    key = _pkey(i, transform, p.name)
    default = default_draft(p)
    if p.kind == "date":
        bind = state.widget(
            path,
            key=key,
            default=default,
            to_widget=lambda v: dt.date.fromisoformat(v) if v else None,
            from_widget=lambda d: d.isoformat() if d else None,
            after=save_recipe,
            initial="value",
            nullable=True,
        )
        # empty until picked: ``value=None`` unless the first paint carries the stored date
        return cell.date_input(label, min_value=dt.date(1800, 1, 1), **{"value": None} | bind)
    if p.kind == "choice":
        bind = state.widget(
            path, key=key, default=default, options=p.choices, after=save_recipe, initial="index"
        )
        return cell.selectbox(label, p.choices, **bind)
    nullable = (p.kind == "int" and default is None) or (p.kind == "number" and p.required)
    bind = state.widget(
        path, key=key, default=default, after=save_recipe, initial="value", nullable=nullable
    )
    if p.kind == "int":
        lo = None if p.minimum is None else int(p.minimum)
        hi = None if p.maximum is None else int(p.maximum)
        if default is None:
            return cell.number_input(label, lo, hi, step=1, **{"value": None} | bind)
        return cell.number_input(label, lo, hi, step=1, **bind)
    if p.kind == "number" and p.required:
        return cell.number_input(label, format="%g", **{"value": None} | bind)
    if p.kind == "bool":
        return cell.checkbox(label, **bind)
    if p.kind == "mapping":
        return cell.text_area(label, help="One 'value = group' per line.", **bind)
    helps = {"numbers": "Numbers separated by commas.", "texts": "Separated by commas."}
    help_text = " ".join(h for h in (helps.get(p.kind), p.help) if h) or None
    return cell.text_input(label, help=help_text, **bind)


def _rerun_only(*fragments: str) -> None:
    """After a change only ``fragments`` show: rerun them alone, not the editor's rows.

    Only when the browser reruns a fragment for this change: a whole run of the script
    (a first visit, a full rerun) draws everything anyway. Call last in a widget callback.
    """
    ctx = get_script_run_ctx()
    if ctx is not None and ctx.fragment_ids_this_run:
        st.rerun(list(fragments))


def _saved_then(*fragments: str) -> Callable[[], None]:
    def after() -> None:
        save_recipe()
        _rerun_only(*fragments)

    return after


def suppression(columns: list[str]) -> None:
    """Quasi-identifiers (risk is measured over them) and local suppression until k.

    A change of the quasi-identifiers, k or the mode reruns the undo/redo row and the results
    alone, not the editor's rows. The toggle reruns the workbench: it enables k and the mode.
    """
    results_only = _saved_then(HISTORY_FRAGMENT, RESULTS_FRAGMENT)
    st.multiselect(
        "Quasi-identifiers (risk is measured over these)",
        columns,
        **state.widget(
            OPT + "quasi_identifiers",
            key="mask_qi",
            default=(),
            options=columns,
            after=results_only,
            initial="default",
        ),
    )
    on = st.toggle(
        "Suppress until k-anonymous",
        help="Local suppression: blank the fewest quasi-identifier values (or remove whole "
        "records) until every combination is shared by at least k records.",
        **state.widget(
            OPT + "suppress",
            key="mask_suppress",
            default=False,
            after=save_recipe,
            initial="value",
        ),
    )
    k_cell, mode_cell = st.columns(2)
    k_cell.slider(
        "k",
        limits.K_MIN,
        limits.K_MAX,
        disabled=not on,
        **state.widget(
            OPT + "k", key="mask_k", default=K_DEFAULT, after=results_only, initial="value"
        ),
    )
    mode_cell.radio(
        "Suppress",
        MODES,
        horizontal=True,
        disabled=not on,
        format_func=lambda m: "cells (values)" if m == "cells" else "whole records",
        **state.widget(
            OPT + "mode",
            key="mask_mode",
            default="cells",
            options=MODES,
            after=results_only,
            initial="index",
        ),
    )


# --- the sidebar: recipe file, reset, key --------------------------------------------------------


def _on_upload() -> None:
    upload = st.session_state.get("mask_upload")
    if upload is None:
        return
    ws = state.workspace()
    assert ws.dataset is not None
    try:
        recipe = editable_steps(
            Recipe.from_json(upload.getvalue()),
            ws.dataset.column_names,
            ws.dataset.kinds,
            cast_steps=state.cast_steps(),
        )
        load(recipe)
        save_recipe()
    except PrivLensError as exc:
        st.session_state["mask_upload_error"] = str(exc)
        return
    st.session_state.pop("mask_upload_error", None)


def _reset(df: pd.DataFrame) -> None:
    load(suggested_recipe(df, state.roles()))
    save_recipe()


def _new_key() -> None:
    state.set_masking_key(masking.generate_key())


def _use_entered_key() -> None:
    try:
        key = masking.key_from_text(st.session_state.get("mask_key_text", ""))
    except PrivLensError as exc:
        st.session_state["mask_key_error"] = str(exc)
        return
    st.session_state.pop("mask_key_error", None)
    state.set_masking_key(key)
    st.session_state["mask_key_text"] = ""


def sidebar(df: pd.DataFrame) -> None:
    """Recipe file (load, reset to suggestions) and the session's pseudonymization key."""
    with st.sidebar.expander("Recipe file", icon=":material/receipt_long:"):
        st.file_uploader("Load a recipe (JSON)", type=["json"], key="mask_upload",
                         on_change=_on_upload)  # fmt: skip
        if err := st.session_state.get("mask_upload_error"):
            show_error(err)
        st.button("Reset to suggestions", key="mask_reset", on_click=_reset, args=(df,))
    key = state.masking_key()
    with st.sidebar.expander("Pseudonymization key", icon=":material/key:"):
        st.caption(
            "A random 256-bit key was made for this browser session. It is never stored, "
            "written into the recipe or exported. Download it to get the same pseudonyms with "
            "`python -m core harden --key-file`."
        )
        # Built on click (a deferred download): bytes passed directly would be published in
        # the media store on every render, readable at its URL without the session.
        st.download_button("Download key", lambda key=key: key.hex() + "\n",
                           file_name="pseudonym.key", key="mask_key_download",
                           on_click="ignore")  # fmt: skip
        st.button("New random key", key="mask_key_new", on_click=_new_key)
        st.text_input("Or enter your key (hex or passphrase)", type="password",
                      key="mask_key_text")  # fmt: skip
        st.button("Use this key", key="mask_key_use", on_click=_use_entered_key)
        if err := st.session_state.get("mask_key_error"):
            show_error(err)
