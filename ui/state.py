"""Session-state contract shared by every page.

Keys in ``st.session_state``:

- ``dataset``: the loaded :class:`pandas.DataFrame` (never replaced by a failed upload);
- ``dataset_name``: a short display name for it;
- ``dataset_id``: a token that changes whenever a new table is loaded. Cached functions can
  take the frame as ``_frame`` (not hashed) plus ``dataset_id`` (hashed), which avoids hashing
  a 1,000,000-row frame on every rerun;
- ``dataset_note``: provenance or licence text to show with the data (samples);
- ``roles``: ``dict[column, Role value]``, edited on the Data page and the default of every
  later page;
- ``role_reasons``: ``dict[column, str]``, why each role was suggested;
- ``dataset_casts``: the kind changes made on the Data page to the loaded table, in order, as
  ``(column, kind, date_format)``; they are already applied to ``dataset`` and become the
  first steps of every recipe made from it (:func:`cast_steps`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from core.profile import profile_frame
from core.roles import Role, columns_with_role, suggest_roles

if TYPE_CHECKING:  # the recipe engine imports scipy; keep it off the start-up path
    from core.recipe import HardeningResult, Recipe, Step


def require_dataset() -> pd.DataFrame:
    """Return the loaded dataset, or tell the user to load one and stop the page."""
    df = st.session_state.get("dataset")
    if df is None:
        st.info("Load a dataset on the **Data** page first.")
        st.stop()
    return df


def dataset_id() -> str:
    """Token of the current dataset (changes with every load)."""
    return str(st.session_state.get("dataset_id", ""))


def roles() -> dict[str, str]:
    """Column roles of the current dataset (column -> Role value)."""
    return dict(st.session_state.get("roles", {}))


def role_columns(role: Role) -> list[str]:
    """Columns of the current dataset that have ``role``."""
    return columns_with_role(roles(), role)


def set_roles(new_roles: dict[str, str]) -> None:
    """Replace the roles of the current dataset."""
    st.session_state["roles"] = dict(new_roles)


def set_dataset(frame: pd.DataFrame, *, name: str, note: str = "") -> None:
    """Make ``frame`` the current dataset and suggest roles for its columns."""
    suggestions = suggest_roles(profile_frame(frame))
    st.session_state["dataset"] = frame
    st.session_state["dataset_name"] = name
    st.session_state["dataset_note"] = note
    st.session_state["dataset_id"] = uuid.uuid4().hex
    st.session_state["roles"] = {c: str(s.role) for c, s in suggestions.items()}
    st.session_state["role_reasons"] = {c: "; ".join(s.reasons) for c, s in suggestions.items()}
    st.session_state["dataset_casts"] = ()


def kind_changes() -> tuple[tuple[str, str, str | None], ...]:
    """Kind changes ``(column, kind, date_format)`` made to the current dataset, in order."""
    return tuple(st.session_state.get("dataset_casts", ()))


def record_kind_change(
    frame: pd.DataFrame, column: str, kind: str, date_format: str | None = None
) -> None:
    """Make ``frame`` (the current dataset with one column cast) the dataset, and record it.

    The dataset gets a new token, so every cache keyed by it and the hardening made before
    are left behind; the name, roles and the differential-privacy ledger stay (the same
    records, so the privacy budget already spent still counts).
    """
    old = dataset_id()
    new = uuid.uuid4().hex
    st.session_state["dataset"] = frame
    st.session_state["dataset_id"] = new
    st.session_state["dataset_casts"] = (*kind_changes(), (column, kind, date_format))
    ledgers = st.session_state.get("dp_ledgers")
    if isinstance(ledgers, dict) and old in ledgers:
        ledgers[new] = ledgers.pop(old)


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


@dataclass(frozen=True, slots=True)
class Hardening:
    """The recipe applied on the Masking page and its result, for the current dataset."""

    dataset_id: str
    recipe: Recipe
    result: HardeningResult
    #: Names this hardened table in caches: the same recipe can give another table (fresh
    #: noise, a new pseudonymization key), so its text cannot.
    token: str = field(default_factory=lambda: uuid.uuid4().hex)


def set_hardening(recipe: Recipe, result: HardeningResult) -> None:
    """Record the hardened table of the current dataset (what the Export page exports)."""
    st.session_state["hardening"] = Hardening(dataset_id(), recipe, result)


def hardening() -> Hardening | None:
    """The hardening applied to the current dataset, or None (a new load resets it)."""
    h = st.session_state.get("hardening")
    if h is None or h.dataset_id != dataset_id():
        return None
    return h
