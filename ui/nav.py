"""The app's page list, shared by the router (app.py) and the home page."""

from __future__ import annotations

from typing import Any

#: What each page answers, keyed by its url_path (shown on the home page).
QUESTIONS = {
    "data": "What is in this table, and which columns identify people?",
    "correlations": "Which variables move together, and which give a sensitive one away?",
    "risk": "If this table were released, who could be re-identified, and why?",
    "dp": "How much noise does a given ε cost, and what does an attacker still learn?",
    "masking": "What must change so the table is safe enough, and at what cost in utility?",
    "anonymize": "Which generalization is safe enough and loses the least, as ARX finds it?",
    "export": "How do I hand this data over so only the recipient can read it?",
    "model": "How small can a model's weights get, and does a model trained on this table leak?",
    "history": "What was released and exported, what did it cost, and how do I save my work?",
    "decrypt": "How do I open a file PrivLens encrypted?",
}

_pages: list[Any] = []


def register(pages: list[Any]) -> None:
    """Remember the app's pages (``st.Page`` objects) for links on the home page."""
    _pages[:] = pages


def pages() -> list[Any]:
    """The registered pages, in sidebar order."""
    return list(_pages)
