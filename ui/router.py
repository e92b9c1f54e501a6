"""Every page runs under the app's router, also for a deep link right after start-up.

A ``pages/`` folder next to ``app.py`` puts Streamlit in its folder-based page mode until some
session calls ``st.navigation``: until then a request for ``/masking`` runs
``pages/masking.py`` on its own, without ``app.py`` (no page config, no sample dataset, the
file names as page titles). Each page calls :func:`ensure_routed` first; when ``app.py`` has
not routed this run, the page hands the run to it, and ``app.py`` runs the page again under
``st.navigation`` (which also ends the folder mode for every later session).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import streamlit as st

from core.errors import PrivLensError
from ui import nav

APP = Path(__file__).resolve().parents[1] / "app.py"


def ensure_routed() -> None:
    """Run ``app.py`` (the router) instead of this page if it has not routed yet, then stop.

    ``app.py`` registers its pages (:func:`ui.nav.register`) before it calls
    ``st.navigation``, so an empty registry means the page was reached without it.
    """
    if nav.pages():
        from ui import state  # the workspace of this session, adopted and in the link

        try:
            state.sync()
        except PrivLensError as exc:
            st.error(str(exc))
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()
