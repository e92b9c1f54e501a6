"""The workspace itself on screen: what is stored, deleting it, project files, its history.

Used by the Home page (storage notice, "Delete this workspace now") and the History page
(releases, exports, the budget's audit log, saving and opening a project file). A passphrase
typed here goes from its password box straight to :func:`ui.state.save_project_file` or
:func:`ui.state.open_project_file`; it is never cached, stored in the workspace or shown.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from core.dp_form import format_number
from core.errors import PrivLensError
from ui import nav, state
from ui.feedback import show_error
from ui.text import file_size, md

_CONFIRM = "ws_delete_confirm"
_PROJECT_FILE = "project_file"
_PROJECT_ERROR = "project_error"
_PROJECT_DONE = "project_done"


# --- what is stored, and deleting it -------------------------------------------------------------


def duration_text(seconds: int) -> str:
    """A duration in whole days, hours or minutes: ``7 days``, ``36 hours``, ``1 day``.

    >>> duration_text(7 * 86400), duration_text(36 * 3600), duration_text(86400)
    ('7 days', '36 hours', '1 day')
    >>> duration_text(90), duration_text(3600)
    ('90 seconds', '1 hour')
    """
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def storage_notice() -> str:
    """One sentence: what is stored, where, encrypted how, and for how long."""
    from core.workspace import idle_seconds_setting

    try:
        idle = duration_text(idle_seconds_setting())
    except PrivLensError:  # a bad setting: the store refuses to start, say nothing wrong
        idle = "the configured idle time"
    return (
        "Your table, column roles, hardening recipe, page settings and history are stored in "
        "this server's database, encrypted with AES-256-GCM under a key derived from the "
        "token in this page's link (the server keeps only a keyed hash of it, never the "
        f"token), and deleted, data first, after {idle} without use."
    )


def delete_section() -> None:
    """The "Delete this workspace now" button, with a confirmation step."""
    if st.session_state.get("ws_token") is None:
        return
    if not st.session_state.get(_CONFIRM):
        st.button(
            "Delete this workspace now",
            key="ws_delete",
            icon=":material/delete:",
            on_click=lambda: st.session_state.update({_CONFIRM: True}),
            help="Deletes the stored table, roles, recipe, settings and history at once. "
            "The privacy budget stays with the table (it is not part of the workspace).",
        )
        return
    st.warning(
        "Delete this workspace? The stored table, roles, recipe, settings and history are "
        "deleted at once and its link opens nothing afterwards. Save a project file first "
        "(History page) to keep your work."
    )
    yes, no = st.columns(2)
    yes.button("Yes, delete it", key="ws_delete_yes", type="primary", on_click=_delete)
    no.button("Cancel", key="ws_delete_no", on_click=lambda: st.session_state.pop(_CONFIRM, None))


def _delete() -> None:
    st.session_state.pop(_CONFIRM, None)
    try:
        state.delete_workspace()
    except PrivLensError as exc:
        st.session_state["ws_delete_error"] = str(exc)


def link_notice() -> None:
    """Say once, on whichever page the link opened, that its workspace could not be opened.

    Run by ``app.py`` before the page: a reload of any page with the link of an expired or
    deleted workspace must not show a new workspace's table without a word.
    """
    ss = st.session_state
    if not (error := ss.get(state.LINK_ERROR)) or ss.get("home_link_error_shown"):
        return
    ss["home_link_error_shown"] = True
    show_error(error)
    st.info("A new workspace was started instead. The old link opens nothing.")


def deleted_notice() -> None:
    """What the page says after the workspace was deleted, with a way to start again."""
    if error := st.session_state.pop("ws_delete_error", None):
        show_error(error)
    if not st.session_state.get("ws_deleted") or st.session_state.get("ws_token"):
        return
    st.success(
        "This workspace was deleted: its table, roles, recipe, settings and history are gone "
        "from this server, and its link opens nothing."
    )
    data = _page("data")
    if data is not None:
        st.page_link(data, label="Start again: load a table on the Data page", icon=data.icon)


def _page(url_path: str) -> Any:
    return next((p for p in nav.pages() if p.url_path == url_path), None)


# --- history --------------------------------------------------------------------------------------


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def releases_frame(releases: Iterable[Any]) -> pd.DataFrame:
    """The workspace's DP releases, newest first, with the answer where the workspace kept it.

    Only the newest release keeps its answer (:class:`core.workspace.ReleaseResult`): the noisy
    number, the mode's category or the histogram's number of bins, and its 95 % error
    half-width. Older releases show what was asked and what it cost, with those cells empty.
    """
    rows = []
    for r in sorted(releases, key=lambda r: r.at, reverse=True):
        answer, error = _answer(r.result)
        rows.append(
            {
                "time": _when(r.at),
                "query": r.query,
                "column": r.column or "",
                "mechanism": r.mechanism,
                "ε": r.epsilon,
                "δ": r.delta,
                "answer": answer,
                "95% error": error,
            }
        )
    columns = ["time", "query", "column", "mechanism", "ε", "δ", "answer", "95% error"]
    return pd.DataFrame(rows, columns=columns)


def _answer(kept: Any) -> tuple[str, str]:
    """A kept release result as two cells: the answer and its 95 % half-width."""
    if kept is None:
        return "", ""
    if kept.value is None:
        answer = f"{kept.n_bins:,} noisy counts (Differential privacy page)"
    elif isinstance(kept.value, str):
        answer = kept.value  # a mode's category: a table cell, never markdown
    else:
        answer = format_number(float(kept.value))
    return answer, f"±{format_number(kept.half_width)} {kept.half_width_unit}".strip()


def exports_frame(exports: Iterable[Any]) -> pd.DataFrame:
    """The workspace's exports, newest first."""
    rows = [
        {
            "time": _when(e.at),
            "format": e.format,
            "encryption": e.encryption,
            "recipe digest": e.recipe_digest,
        }
        for e in sorted(exports, key=lambda e: e.at, reverse=True)
    ]
    return pd.DataFrame(rows, columns=["time", "format", "encryption", "recipe digest"])


def _audit_row(event: str, d: Mapping[str, Any]) -> tuple[str, Any, Any, str]:
    if event == "budget":
        return "budget set", d.get("total_epsilon"), d.get("total_delta"), "total budget"
    if event == "spend":
        return "spend", d.get("epsilon"), d.get("delta"), str(d.get("label", ""))
    if event == "reset":
        note = (
            f"reason: {d.get('reason', '')}; {d.get('releases_dropped', 0)} spend(s) dropped; "
            f"new total ε = {d.get('total_epsilon')}, δ = {d.get('total_delta')}"
        )
        return "reset", d.get("epsilon_dropped"), d.get("delta_dropped"), note
    if event == "import":
        note = f"{d.get('added', 0)} of {d.get('releases', 0)} spend(s) added from a project file"
        return "import", None, None, note
    return event, None, None, "; ".join(f"{k} = {v}" for k, v in d.items() if k != "id")


def audit_frame(events: Iterable[Any]) -> pd.DataFrame:
    """The table's budget audit log (budget set, spends, resets, imports), newest first."""
    rows = []
    for e in sorted(events, key=lambda e: e.at, reverse=True):
        what, eps, dlt, note = _audit_row(e.event, e.detail)
        rows.append({"time": _when(e.at), "event": what, "ε": eps, "δ": dlt, "detail": note})
    return pd.DataFrame(rows, columns=["time", "event", "ε", "δ", "detail"])


def history_table(frame: pd.DataFrame, *, key: str, empty: str) -> None:
    """Show one history table (cells are text, never markdown), or say it is empty."""
    if frame.empty:
        st.caption(empty)
        return
    st.dataframe(frame, hide_index=True, key=key, width="stretch")


# --- project files --------------------------------------------------------------------------------


def _save_project() -> None:
    ss = st.session_state
    for key in (_PROJECT_FILE, _PROJECT_ERROR, _PROJECT_DONE):
        ss.pop(key, None)
    passphrase = str(ss.get("project_save_pass") or "")
    try:
        with_data = bool(ss.get("project_with_data")) and state.large_source() is None
        blob = state.save_project_file(passphrase, include_data=with_data)
    except PrivLensError as exc:
        ss[_PROJECT_ERROR] = f"The project was not saved: {exc}"
        return
    finally:
        ss["project_save_pass"] = ""  # the passphrase does not stay in the session
    name = str(ss.get("dataset_name") or "table")
    ss[_PROJECT_FILE] = (blob, f"{_file_stem(name)}.privlens-project")


def _open_project() -> None:
    ss = st.session_state
    for key in (_PROJECT_FILE, _PROJECT_ERROR, _PROJECT_DONE):
        ss.pop(key, None)
    upload = ss.get("project_upload")
    passphrase = str(ss.get("project_open_pass") or "")
    ss["project_open_pass"] = ""
    if upload is None:
        ss[_PROJECT_ERROR] = (
            "Choose a project file first, and wait until the page names it as ready to open "
            "(a large file takes a moment to upload)."
        )
        return
    try:
        state.open_project_file(upload.getvalue(), passphrase)
    except PrivLensError as exc:
        ss[_PROJECT_ERROR] = f"The project was not opened: {exc}"
        return
    ss[_PROJECT_DONE] = (
        f"Opened the project '{upload.name}': recipe, roles, kinds, settings, history and "
        "privacy budget are restored."
    )


def _file_stem(name: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in name.rsplit(".", 1)[0])
    return stem.strip("-")[:60] or "table"


def project_section() -> None:
    """Save the workspace as an encrypted project file, or open one."""
    ss = st.session_state
    save, load = st.columns(2, border=True)
    with save:
        st.markdown("**Save a project file**")
        st.caption(
            "Recipe, roles, kinds, settings, history and the privacy budget's ledger, "
            "encrypted with AES-256-GCM under your passphrase (scrypt). The table goes in "
            "only if you tick the box; otherwise the file opens only against the same table."
        )
        has_work = ss.get("ws_token") is not None
        large = state.large_source() is not None
        st.text_input("Passphrase", type="password", key="project_save_pass")
        st.checkbox("Include the data", key="project_with_data", disabled=large)
        if large:
            st.caption(
                "A large dataset stays where it lies: the file records its place (allowed "
                "directory, path, engine, sample seed) and its files' fingerprint, never its "
                "rows. It opens on a server that allows the same directory and holds the same "
                "files."
            )
        st.button(
            "Make the project file",
            key="project_save",
            on_click=_save_project,
            disabled=not has_work,
        )
        if not has_work:
            st.caption("Load a table first: there is nothing to save.")
        if made := ss.get(_PROJECT_FILE):
            blob, filename = made
            st.download_button(
                "Download the project file",
                data=blob,
                file_name=filename,
                mime="application/octet-stream",
                key="project_download",
                icon=":material/download:",
            )
    with load:
        st.markdown("**Open a project file**")
        st.caption(
            "Restores the saved work. Without data in the file, load the same table first: a "
            "file made on another table is refused and the loaded table is kept."
        )
        st.file_uploader("Project file", key="project_upload")
        if (chosen := ss.get("project_upload")) is not None:  # the server has the whole file
            st.caption(md(f"Ready to open: {chosen.name} ({file_size(chosen.size)})."))
        st.text_input("Passphrase", type="password", key="project_open_pass")
        st.button("Open the project", key="project_open", on_click=_open_project)
    if error := ss.get(_PROJECT_ERROR):
        show_error(error)
    elif done := ss.get(_PROJECT_DONE):
        st.success(md(done))
