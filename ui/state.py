"""The user's workspace as the pages see it: one model, saved at every change.

Every page reads its settings from the :class:`~core.workspace.Workspace` of this browser
session and writes them back in widget callbacks (:func:`widget`), so a setting never lives
only in a widget key (Streamlit deletes the key of a widget its page did not draw, which is
how settings used to reset on navigation). Each change is saved at once, encrypted, in the
database (:class:`~core.workspace.WorkspaceSession`); the link's ``?ws=`` token finds it again
after a reload or in another tab.

``st.session_state`` keeps only what this browser session needs fast:

- ``workspace``: the current :class:`~core.workspace.Workspace` value (the model);
- ``ws_token``: the workspace token (also in the link; never logged or shown elsewhere);
- ``dataset``: the loaded table (never replaced by a failed upload);
- ``dataset_name`` / ``dataset_note``: display name and provenance of the table;
- ``dataset_id``: a token that changes whenever a new table (or a kind change) is loaded.
  Cached functions take the frame as ``_frame`` (not hashed) plus ``dataset_id`` (hashed);
- ``roles`` / ``role_reasons``: mirrors of the workspace's roles, for older callers;
- ``masking_key``: the pseudonymization key of this session (never stored or exported).

A table put into ``st.session_state["dataset"]`` directly (tests do) is adopted on the next
run: :func:`bootstrap` starts a workspace for it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from core.errors import PrivLensError, WorkspaceError, WorkspaceNotFoundError
from core.profile import profile_frame
from core.roles import Role, columns_with_role, suggest_roles

if TYPE_CHECKING:  # the recipe engine imports scipy; keep it off the start-up path
    from core.codes import ColumnMemo
    from core.dp_budget import Ledger
    from core.recipe import HardeningResult, Recipe, Step
    from core.workspace import BudgetBook, Workspace, WorkspaceSession, WorkspaceStore

_MISSING = object()
#: ``st.session_state`` key of the dataset token the current workspace was made for.
_BOUND = "ws_bound_dataset_id"
#: ``st.session_state`` key of the message shown when the link's workspace was not found.
LINK_ERROR = "ws_link_error"


# --- the database, one connection pair per thread ----------------------------------------------

_local = threading.local()


def _connections() -> tuple[WorkspaceStore, BudgetBook]:
    """The store and budget book on this thread's connection to the configured database."""
    from core.workspace import BudgetBook, WorkspaceStore, default_db_path, load_or_create_secret

    path = str(default_db_path())
    cached = getattr(_local, "conns", None)
    if cached is not None and cached[0] == path:
        return cached[1], cached[2]
    secret = load_or_create_secret()
    store = WorkspaceStore.open(path, secret=secret)
    book = BudgetBook.open(path)
    _local.conns = (path, store, book)
    return store, book


def server_secret() -> bytes:
    """The server secret (keys table fingerprints and token hashes)."""
    from core.workspace import load_or_create_secret

    return load_or_create_secret()


def session() -> WorkspaceSession:
    """The workspace session of this browser session, on this thread's connections."""
    from core.workspace import WorkspaceSession

    store, book = _connections()
    token = st.session_state.get("ws_token")
    ws = st.session_state.get("workspace")
    if token is None or ws is None:
        raise WorkspaceError("There is no workspace yet: load a table on the Data page.")
    return WorkspaceSession(
        store=store, book=book, token=token, workspace=ws, table=st.session_state.get("dataset")
    )


# --- start-up: resume the link's workspace or start one -----------------------------------------


def bootstrap(default: Callable[[], tuple[pd.DataFrame, str, str]]) -> None:
    """Make sure this browser session has a workspace; run by ``app.py`` before every page.

    - A session that has one keeps it (and its token stays in the link).
    - A new session with ``?ws=`` in its link resumes that workspace; a wrong, expired or
      deleted token opens nothing of it: the message is kept for the Home page
      (:data:`LINK_ERROR`) and a new workspace starts.
    - A session whose workspace the user deleted (:func:`delete_workspace`) starts nothing
      until the user loads a table.
    - Otherwise ``default()`` gives ``(frame, name, note)`` for a new workspace.
    """
    ss = st.session_state
    if sync():
        return
    if ss.get("ws_deleted"):
        return  # the user deleted the workspace: nothing new starts until they load a table
    store, _ = _connections()
    try:
        store.expire()
    except PrivLensError:
        pass  # expiry is housekeeping; the user's own workspace is checked below
    token = st.query_params.get("ws")
    if token:
        try:
            _resume(token)
            return
        except WorkspaceNotFoundError as exc:
            ss[LINK_ERROR] = str(exc)
        except WorkspaceError as exc:
            ss[LINK_ERROR] = f"The workspace of this link could not be opened: {exc}"
        del st.query_params["ws"]
    try:
        frame, name, note = default()
    except PrivLensError as exc:  # the app still opens; the Data page offers an upload
        ss["startup_error"] = str(exc)
        return
    set_dataset(frame, name=name, note=note)


def sync() -> bool:
    """Keep this session's workspace and link in step; True when the session has one.

    A table put into ``st.session_state["dataset"]`` directly (a test, an older caller) gets
    a workspace of its own; the token goes back into the link if the link lost it. Run by
    :func:`bootstrap` and by every page (:func:`ui.router.ensure_routed`).
    """
    ss = st.session_state
    if ss.get("dataset") is not None and not _bound():
        _start(ss["dataset"], name=str(ss.get("dataset_name") or "Table"), keep_roles=True)
    if ss.get("ws_token") is None:
        return False
    if st.query_params.get("ws") != ss["ws_token"]:
        st.query_params["ws"] = ss["ws_token"]
    return True


def _bound() -> bool:
    """Whether the loaded table is the one the workspace was made for."""
    ss = st.session_state
    frame, ws = ss.get("dataset"), ss.get("workspace")
    if frame is None or ws is None or ws.dataset is None:
        return False
    return (
        ss.get(_BOUND) == ss.get("dataset_id")
        and len(frame) == ws.dataset.n_rows
        and tuple(map(str, frame.columns)) == ws.dataset.column_names
    )


def _bind(frame: pd.DataFrame) -> None:
    ss = st.session_state
    ss["dataset"] = frame
    ss["dataset_id"] = uuid.uuid4().hex
    ss[_BOUND] = ss["dataset_id"]


def _resume(token: str) -> None:
    from core.workspace import WorkspaceSession

    store, book = _connections()
    sess = WorkspaceSession.resume(store, book, token)
    ws = sess.workspace
    if ws.large_source is not None:  # read again from its allowed directory, not stored
        _adopt_large(token, ws)
        st.session_state["ws_restored"] = True
        return
    if sess.table is None or ws.dataset is None:
        raise WorkspaceNotFoundError("This workspace holds no table. Load one on the Data page.")
    ss = st.session_state
    ss["ws_token"] = token
    ss["workspace"] = ws
    _bind(sess.table)
    ss["dataset_name"] = ws.dataset.name
    ss["dataset_note"] = str(ws.data.options.get("note") or "")
    _mirror_roles(ws)
    ss["ws_restored"] = True


def _adopt_large(token: str, ws: Workspace) -> None:
    """Make ``ws`` (a workspace of a large source, no table held) this session's workspace."""
    ss = st.session_state
    for name in ("dataset", "dataset_id", _BOUND, "hardening", "column_memo"):
        ss.pop(name, None)
    assert ws.large_source is not None
    ss["ws_token"] = token
    ss["workspace"] = ws
    ss["dataset_name"] = ws.large_source.name
    ss["dataset_note"] = str(ws.data.options.get("note") or "")
    _mirror_roles(ws)


def set_large_source(ws: Workspace, *, note: str | None) -> None:
    """Start a new workspace on a large source (``ws.large_source``): settings only, no table.

    With a ``note``, the settings that follow from the roles are filled in; without (a
    project file's workspace), ``ws`` is kept as it is. The earlier workspace of this session
    is deleted, as :func:`set_dataset` does.
    """
    store, _ = _connections()
    if note is not None:
        ws = _default_settings(ws.with_setting("data.options.note", note))
    token = store.create(state=ws.to_json().encode("utf-8"))
    ss = st.session_state
    old_token = ss.get("ws_token")
    ss.pop("ws_deleted", None)
    _adopt_large(token, ws)
    st.query_params["ws"] = token
    if old_token and old_token != token:
        try:
            store.delete(old_token)
        except PrivLensError:
            pass


def large_source() -> Any:
    """The large source of this session's workspace (a ``LargeSource``), or None."""
    ws = st.session_state.get("workspace")
    if ws is None or st.session_state.get("dataset") is not None:
        return None
    return getattr(ws, "large_source", None)


def _mirror_roles(ws: Workspace) -> None:
    st.session_state["roles"] = dict(ws.roles)
    st.session_state["role_reasons"] = {
        name[len("reason:") :]: str(v)
        for name, v in ws.data.options.items()
        if name.startswith("reason:")
    }


def _start(
    frame: pd.DataFrame,
    *,
    name: str,
    note: str = "",
    keep_roles: bool = False,
    reasons: Mapping[str, str] | None = None,
) -> None:
    """A new workspace for ``frame`` (stored encrypted), replacing this session's one."""
    from core.workspace import WorkspaceSession

    ss = st.session_state
    store, book = _connections()
    role_map = dict(ss.get("roles") or {}) if keep_roles else {}
    if not keep_roles or not role_map:
        suggestions = suggest_roles(profile_frame(frame))
        role_map = {c: str(s.role) for c, s in suggestions.items()}
        reasons = {c: "; ".join(s.reasons) for c, s in suggestions.items()}
    known = {r.value for r in Role}
    # roles kept from an older caller: only valid roles of columns this table has
    role_map = {
        c: r for c, r in role_map.items() if c in set(map(str, frame.columns)) and r in known
    }
    sess = WorkspaceSession.start(
        store, book, frame, name=name or "Table", secret=server_secret(), roles=role_map
    )
    ws = sess.workspace.with_setting("data.options.note", note)
    for column, why in (reasons or {}).items():
        if why:
            ws = ws.with_option("data", f"reason:{column}", why)
    ws = _default_settings(ws)
    sess.update(ws)
    ss.pop("ws_deleted", None)
    old_token = ss.get("ws_token")
    ss["ws_token"] = sess.token
    ss["workspace"] = ws
    _bind(frame)
    ss["dataset_name"] = name
    ss["dataset_note"] = note
    _mirror_roles(ws)
    st.query_params["ws"] = sess.token
    if old_token and old_token != sess.token:
        try:
            store.delete(old_token)  # the old table is not kept once another one is loaded
        except PrivLensError:
            pass


def _default_settings(ws: Workspace) -> Workspace:
    """Page settings that follow from the roles (QIs, sensitive columns, weight)."""
    qis = tuple(columns_with_role(dict(ws.roles), Role.QUASI_IDENTIFIER))
    sensitive = tuple(columns_with_role(dict(ws.roles), Role.SENSITIVE))
    ws = ws.with_setting("risk.quasi_identifiers", qis).with_setting("risk.sensitive", sensitive)
    weights = [c for c, r in ws.roles.items() if r == "weight"]
    if weights:
        ws = ws.with_setting("risk.weight_column", weights[0])
    return ws


# --- the model ------------------------------------------------------------------------------------


def workspace() -> Workspace:
    """The current workspace (an empty one before any table is loaded)."""
    from core.workspace import Workspace

    ws = st.session_state.get("workspace")
    return ws if ws is not None else Workspace()


def update(ws: Workspace) -> Workspace:
    """Make ``ws`` the workspace and save it (encrypted) at once.

    Inside :func:`one_save`, the save waits for the end of the block.
    """
    if st.session_state.get("ws_token") is None:
        st.session_state["workspace"] = ws
        return ws
    if getattr(_saving, "deferred", None) is not None:
        _saving.deferred = True
    else:
        session().update(ws)
    st.session_state["workspace"] = ws
    _mirror_roles(ws)
    return ws


_saving = threading.local()


@contextmanager
def one_save() -> Iterator[None]:
    """Save the workspace once for all the changes made inside, when the block ends.

    A widget's change and what follows from it (the Masking page's recipe) are one write to
    the database instead of one each. The save happens also when the block ends by a rerun
    or an error, so nothing changed in the session is left unsaved.
    """
    if getattr(_saving, "deferred", None) is not None:  # already inside one
        yield
        return
    _saving.deferred = False
    try:
        yield
    finally:
        changed, _saving.deferred = _saving.deferred, None
        if changed and st.session_state.get("ws_token") is not None:
            session().update(st.session_state["workspace"])


def get(path: str, default: Any = None) -> Any:
    """A setting by path: ``"risk.k_threshold"`` or ``"masking.options.<name>"``."""
    ws = workspace()
    section, _, name = path.partition(".")
    part = getattr(ws, section, None)
    if part is None:
        raise WorkspaceError(f"Unknown workspace section '{section[:40]}'.")
    if name.startswith("options."):
        return part.options.get(name[len("options.") :], default)
    value = getattr(part, name, _MISSING)
    if value is _MISSING:
        raise WorkspaceError(f"Unknown workspace setting '{path[:80]}'.")
    return default if value is None else value


def set_setting(path: str, value: Any) -> Workspace:
    """Change one setting (see :meth:`Workspace.with_setting`) and save."""
    return update(workspace().with_setting(path, value))


def set_options(section: str, values: Mapping[str, Any]) -> Workspace:
    """Set several entries of a section's ``options`` in one save."""
    ws = workspace()
    for name, value in values.items():
        ws = ws.with_option(section, name, value)
    return update(ws)


def _error_key(key: str) -> str:
    return f"{key}::error"


def widget(
    path: str,
    *,
    key: str | None = None,
    default: Any = None,
    options: Sequence[Any] | None = None,
    to_widget: Callable[[Any], Any] | None = None,
    from_widget: Callable[[Any], Any] | None = None,
    after: Callable[[], None] | None = None,
    initial: str | None = None,
    nullable: bool = False,
) -> dict[str, Any]:
    """Keyword arguments that bind a widget to a workspace setting.

    Use as ``st.slider("k", 2, 50, **widget("risk.k_threshold"))``: the widget shows the
    workspace's value (its key is set from it before it is drawn) and its ``on_change``
    writes the new value back and saves it. Do not also pass ``value``/``index``/``default``.

    Parameters
    ----------
    path : str
        The setting, as for :func:`get`.
    key : str, optional
        The widget key (default ``"ws:" + path``).
    default : optional
        The value when the workspace has none.
    options : sequence, optional
        The widget's choices: a stored value not among them (a column of another table)
        falls back to ``default``; for a multiselect, unknown entries are dropped.
    to_widget, from_widget : callables, optional
        Convert between the stored value and the widget's value.
    after : callable, optional
        Called after a successful change (e.g. to reset a dependent result).
    initial : {"value", "index", "default"}, optional
        The widget's own parameter for its starting value (``value`` for a number input,
        slider, checkbox, toggle, text or date input and select slider; ``index`` for a
        selectbox or radio, which needs ``options``; ``default`` for a multiselect). Given,
        a widget drawn anew (first render, or a return to its page) gets the shown value
        through it: a browser paints a new widget from that parameter before it applies a
        value set through the session state, so without it the first paint shows the
        widget's own default (a number box its minimum). The shown value is passed on every
        run, as a widget can also be mounted anew when the elements above it change.
    nullable : bool
        A widget empty until typed (``initial="value"``): its first paint carries the stored
        value, later runs pass ``value=None`` so the user can still clear it.

    A value the model refuses (out of range) is not saved: the widget goes back to the saved
    value and the message is shown above it on the next run.
    """
    key = key or f"ws:{path}"
    value = get(path, default)
    if options is not None:
        allowed = list(options)
        if isinstance(value, tuple | list):
            value = type(value)(v for v in value if v in allowed)
        elif value not in allowed:
            value = default if default in allowed else (allowed[0] if allowed else None)
    shown = to_widget(value) if to_widget else value
    if isinstance(shown, tuple):
        shown = list(shown)
    first: dict[str, Any] = {}
    if initial is not None:
        # the shown value also travels in the widget's own default on every run: the browser
        # paints a widget it mounts anew (first render, a return to its page, or a widget moved
        # because the elements above it changed) from that default before it applies the session
        # state, and a keyed widget's identity does not depend on it
        first[initial] = _initial_arg(initial, shown, options)
        if nullable and key in st.session_state:
            first[initial] = None  # the session state holds the value; the widget stays clearable
    drawn_before = initial is None or key in st.session_state
    if drawn_before and st.session_state.get(key, _MISSING) != shown:
        st.session_state[key] = shown
    error = st.session_state.pop(_error_key(key), None)
    if error:
        st.error(error)

    def _changed() -> None:
        raw = st.session_state.get(key)
        with one_save():  # the setting and what ``after`` changes: one write
            try:
                new = from_widget(raw) if from_widget else raw
                set_setting(path, new)
            except PrivLensError as exc:
                st.session_state[_error_key(key)] = str(exc)
                return
            if after is not None:
                after()

    return {"key": key, "on_change": _changed, **first}


def _initial_arg(initial: str, shown: Any, options: Sequence[Any] | None) -> Any:
    """``shown`` as the widget parameter ``initial`` takes it (a position for ``index``)."""
    if initial == "index":
        allowed = list(options or ())
        return allowed.index(shown) if shown in allowed else (0 if allowed else None)
    if initial not in ("value", "default"):
        raise ValueError(f"initial must be 'value', 'index' or 'default'; got {initial!r}.")
    return shown


def require_dataset() -> pd.DataFrame:
    """Return the loaded dataset, or tell the user to load one and stop the page."""
    df = st.session_state.get("dataset")
    if df is None and large_source() is not None:
        from ui import large_data  # this page works on in-memory tables only

        large_data.in_memory_only()
        st.stop()
    if df is None:
        st.info("Load a dataset on the **Data** page first.")
        st.stop()
    return df


def dataset_id() -> str:
    """Token of the current dataset (changes with every load and kind change)."""
    return str(st.session_state.get("dataset_id", ""))


def roles() -> dict[str, str]:
    """Column roles of the current dataset (column -> Role value)."""
    ws = st.session_state.get("workspace")
    if ws is not None and _bound():
        return dict(ws.roles)
    return dict(st.session_state.get("roles", {}))


def role_columns(role: Role) -> list[str]:
    """Columns of the current dataset that have ``role``."""
    return columns_with_role(roles(), role)


def set_roles(new_roles: dict[str, str]) -> None:
    """Replace the roles of the current dataset (saved in the workspace)."""
    update(workspace().with_roles(dict(new_roles)))
    st.session_state["roles"] = dict(new_roles)


def set_dataset(frame: pd.DataFrame, *, name: str, note: str = "") -> None:
    """Make ``frame`` the current dataset in a new workspace, with suggested roles.

    The earlier workspace of this session is deleted (its table first); the privacy budget
    of a table stays with the table (keyed by its fingerprint), not with a workspace.
    """
    _start(frame, name=name, note=note)


def kind_changes() -> tuple[tuple[str, str, str | None], ...]:
    """Kind changes ``(column, kind, date_format)`` made to the current dataset, in order."""
    return tuple(workspace().casts)


def record_kind_change(
    frame: pd.DataFrame, column: str, kind: str, date_format: str | None = None
) -> None:
    """Make ``frame`` (the current dataset with one column cast) the dataset, and record it.

    The dataset gets a new token, so every cache keyed by it and the hardening made before
    are left behind; the name, roles, recipe and the privacy budget stay (the same records:
    the budget is keyed by the fingerprint of the table as loaded).
    """
    ws = workspace().with_cast(column, kind, date_format)
    ss = st.session_state
    if ss.get("ws_token") is not None:
        sess = session()
        sess.store.save(sess.token, state=ws.to_json().encode("utf-8"), data=frame)
    ss["workspace"] = ws
    _bind(frame)


def cast_steps() -> tuple[Step, ...]:
    """The kind changes as recipe steps, which go first in every recipe of this dataset."""
    from core.recipe import Step

    return tuple(
        Step(
            transform="cast",
            columns=(column,),
            params={"kind": kind} | ({"date_format": fmt} if fmt else {}),
        )
        for column, kind, fmt in kind_changes()
    )


# --- the recipe and the hardened table --------------------------------------------------------


def recipe() -> Recipe:
    """The current hardening recipe (the user's steps; kind changes not included)."""
    return workspace().recipe.current


def full_recipe() -> Recipe:
    """The recipe as exported and replayed: the kind changes first, then the user's steps."""
    from core.recipe import Recipe

    current = recipe()
    source = current.source_columns or tuple(
        c.name for c in (workspace().dataset.columns if workspace().dataset else ())
    )
    return Recipe(steps=(*cast_steps(), *current.steps), source_columns=source)


def set_recipe(new: Recipe) -> Workspace:
    """Make ``new`` the current recipe (undo can go back) and save."""
    ws = workspace()
    return update(ws.with_recipe(ws.recipe.change(new)))


def undo_recipe() -> Workspace:
    """Go back to the previous recipe."""
    ws = workspace()
    return update(ws.with_recipe(ws.recipe.undo()))


def redo_recipe() -> Workspace:
    """Re-apply the last undone recipe."""
    ws = workspace()
    return update(ws.with_recipe(ws.recipe.redo()))


def masking_key() -> bytes:
    """This session's pseudonymization key (made on first use; never stored or exported)."""
    from core import masking

    key = st.session_state.get("masking_key")
    if key is None:
        key = masking.generate_key()
        st.session_state["masking_key"] = key
        st.session_state["masking_key_version"] = st.session_state.get("masking_key_version", 0)
    return key


def set_masking_key(key: bytes) -> None:
    """Use ``key`` for pseudonyms from now on (results made with the old one are dropped)."""
    st.session_state["masking_key"] = key
    st.session_state["masking_key_version"] = st.session_state.get("masking_key_version", 0) + 1


@dataclass(frozen=True, slots=True)
class Hardening:
    """The current recipe applied to the current dataset: what Export exports."""

    dataset_id: str
    recipe: Recipe
    result: HardeningResult
    #: Names this hardened table in caches: the same recipe can give another table (fresh
    #: noise, a new pseudonymization key), so its text cannot.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def _hardening_key() -> str:
    return (
        f"{dataset_id()}:{st.session_state.get('masking_key_version', 0)}:{full_recipe().to_json()}"
    )


def column_memo() -> ColumnMemo:
    """This session's per-column codes of the current dataset under the current key.

    Value-wise steps are computed once per distinct value and remembered per column, so a
    change of one step recomputes one column (:mod:`core.codes`). Kept in the session: it
    holds pseudonyms made under this session's key.
    """
    from core.codes import ColumnMemo

    token = f"{dataset_id()}:{st.session_state.get('masking_key_version', 0)}"
    memo = st.session_state.get("column_memo")
    if not isinstance(memo, ColumnMemo) or memo.token != token:
        memo = ColumnMemo(token)
        st.session_state["column_memo"] = memo
    return memo


def hardening() -> Hardening | None:
    """The current recipe applied (computed once per dataset, key and recipe), or None.

    None when no table is loaded. Raises PrivLensError when the recipe does not apply.
    """
    df = st.session_state.get("dataset")
    if df is None:
        return None
    memo = st.session_state.get("hardening")
    key = _hardening_key()
    if isinstance(memo, tuple) and memo[0] == key:
        return memo[1]
    from core.recipe import DEFAULT_SECRET, apply

    st.session_state.pop("hardening", None)  # free the old table before building a new one
    full = full_recipe()
    steps = full.steps[len(kind_changes()) :]  # the kind changes are already in the table
    ws = workspace()
    drafted = ws.masking.options.get("quasi_identifiers") or ()
    qis = (*(drafted if isinstance(drafted, tuple) else ()), *ws.risk.quasi_identifiers)
    result = apply(
        df,
        type(full)(steps=steps, source_columns=full.source_columns),
        secrets={DEFAULT_SECRET: masking_key()},
        memo=column_memo(),
        codes_for=tuple(dict.fromkeys(str(q) for q in qis)),
    )
    h = Hardening(dataset_id(), full, result)
    st.session_state["hardening"] = (key, h)
    return h


def set_hardening(recipe_: Recipe, result: HardeningResult) -> None:
    """Record ``result`` as the current recipe's hardened table (made by the caller).

    ``recipe_`` may start with the kind changes; they are not stored twice.
    """
    from core.recipe import Recipe

    n = len(kind_changes())
    steps = recipe_.steps[n:] if recipe_.steps[:n] == cast_steps() else recipe_.steps
    set_recipe(Recipe(steps=steps, source_columns=recipe_.source_columns))
    h = Hardening(dataset_id(), full_recipe(), result)
    st.session_state["hardening"] = (_hardening_key(), h)


# --- the privacy budget of the table ---------------------------------------------------------


def ledger() -> Ledger | None:
    """The table's ledger from the database, or None before a budget is set."""
    if st.session_state.get("ws_token") is None or workspace().dataset is None:
        return None
    sess = session()
    return sess.book.ledger(sess.fingerprint)


def start_budget(total_epsilon: float, total_delta: float) -> Ledger:
    """Give the table a budget (an existing one keeps its totals)."""
    ws = workspace()
    ws = ws.with_setting("dp.total_epsilon", total_epsilon).with_setting(
        "dp.total_delta", total_delta
    )
    update(ws)
    return session().ledger()


def release(
    run: Callable[[], Any],
    *,
    query: str,
    column: str | None,
    mechanism: str,
    epsilon: float,
    delta: float = 0.0,
) -> Any:
    """Charge the table's budget, then compute the release and record it in the history."""
    sess = session()
    result = sess.release(
        run, query=query, column=column, mechanism=mechanism, epsilon=epsilon, delta=delta
    )
    st.session_state["workspace"] = sess.workspace
    return result


def charge(spends: Sequence[tuple[str, float, float]], *, detail: Mapping[str, Any]) -> Ledger:
    """Charge several spends together (a recipe's noisy steps), all or none."""
    sess = session()
    return sess.book.spend_many(sess.fingerprint, list(spends), detail=dict(detail))


def reset_budget(*, confirm: bool, reason: str, total_epsilon: float | None = None) -> Ledger:
    """Start the table's budget afresh (logged; needs the user's confirmation)."""
    sess = session()
    return sess.book.reset(
        sess.fingerprint, confirm=confirm, reason=reason, total_epsilon=total_epsilon
    )


def budget_history() -> tuple[Any, ...]:
    """The audit log of the table's budget (budget set, spends, resets)."""
    if st.session_state.get("ws_token") is None or workspace().dataset is None:
        return ()
    sess = session()
    return sess.book.history(sess.fingerprint)


def record_export(*, format: str, encryption: str) -> Workspace:
    """Record an export of the current recipe in the workspace history."""
    return update(workspace().record_export(format=format, encryption=encryption))


# --- the workspace itself ------------------------------------------------------------------------


def delete_workspace() -> None:
    """Delete this workspace now (table first) and forget it in this session."""
    ss = st.session_state
    if ss.get("ws_token") is not None:
        session().delete()
    for name in (
        "ws_token",
        "workspace",
        "dataset",
        "dataset_name",
        "dataset_note",
        "dataset_id",
        _BOUND,
        "roles",
        "role_reasons",
        "hardening",
        "masking_key",
    ):
        ss.pop(name, None)
    if "ws" in st.query_params:
        del st.query_params["ws"]
    ss["ws_deleted"] = True


def save_project_file(passphrase: str, *, include_data: bool) -> bytes:
    """The workspace as one encrypted project file (the table only if asked)."""
    from core.workspace import save_project

    if (src := large_source()) is not None:  # where it lies and its files, never its rows
        from ui import large_data

        large_data.refreshed(src)  # the files' fingerprint as they are now
        return save_project(workspace(), None, passphrase=passphrase)
    sess = session()
    table = st.session_state.get("dataset")
    book = sess.book
    return save_project(
        sess.workspace,
        table,
        passphrase=passphrase,
        include_data=include_data,
        ledger=book.ledger(sess.fingerprint),
        spends=book.records(sess.fingerprint),
        audit=book.history(sess.fingerprint),
    )


def open_project_file(blob: bytes, passphrase: str) -> None:
    """Open a project file on the loaded table (or its own), restoring everything.

    Raises
    ------
    ProjectMismatchError
        The file was made on another table than the loaded one, or on other files of its
        large dataset.
    SourceNotAllowedError, DataLoadError
        Its large dataset's directory is not allowed here, or the dataset is gone.
    DecryptionError
        A wrong passphrase or a damaged file.
    """
    from core.workspace import open_project, restore_budget

    _, book = _connections()
    project = open_project(
        blob, passphrase=passphrase, secret=server_secret(), table=st.session_state.get("dataset")
    )
    if project.workspace.large_source is not None:  # read again where it lies
        set_large_source(project.workspace, note=None)
        return
    restore_budget(book, project)
    ws = project.workspace
    assert ws.dataset is not None
    name = ws.dataset.name
    note = str(ws.data.options.get("note") or "")
    _start(project.table, name=name, note=note)
    # everything as saved, with the dataset as described on this server
    update(replace(ws, dataset=workspace().dataset))
