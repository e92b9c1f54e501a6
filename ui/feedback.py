"""Showing results and errors to the user."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st


def show_warnings(warnings: Iterable[str]) -> None:
    """Show each soft problem of a result as a warning box."""
    for w in warnings:
        st.warning(w)
