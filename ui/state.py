"""Session-state contract shared by every page.

Keys in ``st.session_state``:

- ``dataset``: the loaded :class:`pandas.DataFrame` (never replaced by a failed upload);
- ``dataset_name``: a short display name for it;
- ``roles``: ``dict[column, Role value]``, edited on the Data page and the default of every
  later page.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.roles import Role, columns_with_role


def require_dataset() -> pd.DataFrame:
    """Return the loaded dataset, or tell the user to load one and stop the page."""
    df = st.session_state.get("dataset")
    if df is None:
        st.info("Load a dataset on the **Data** page first.")
        st.stop()
    return df


def roles() -> dict[str, str]:
    """Column roles of the current dataset (column -> Role value)."""
    return dict(st.session_state.get("roles", {}))


def role_columns(role: Role) -> list[str]:
    """Columns of the current dataset that have ``role``."""
    return columns_with_role(roles(), role)
