"""Showing results and errors to the user.

Messages name columns (and file-derived text such as an age stanza type), so they are shown
escaped (:func:`ui.text.md`), never as markdown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import streamlit as st

from ui.text import md


def show_warnings(warnings: Iterable[str], where: Any = st) -> None:
    """Show each soft problem of a result as a warning box (escaped)."""
    for w in warnings:
        where.warning(md(w))


def show_error(message: object, where: Any = st) -> None:
    """Show an error message (e.g. a ``PrivLensError``) as text in an error box."""
    where.error(md(message))
