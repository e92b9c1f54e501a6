"""PrivLens: privacy risk analysis of tabular data in the browser.

Run with ``streamlit run app.py``. This file only routes: page config, the built-in sample as
the first dataset, then the pages in sidebar order.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.errors import PrivLensError
from core.samples import ADULT_CITATION, ADULT_NOTE, adult
from ui import nav, state, workspace_panel
from ui.downloads import serve_downloads_by_whole_content
from ui.text import md
from ui.uploads import keep_uploads_in_memory

# The favicon is a file served by this server: a ":material/…:" page icon makes every browser
# fetch it from a font CDN, which tells a third party who uses the app.
ICON = Path(__file__).parent / "ui" / "assets" / "privlens.png"
st.set_page_config(page_title="PrivLens", page_icon=str(ICON), layout="wide")
keep_uploads_in_memory()  # no upload is ever spooled to a temporary file
serve_downloads_by_whole_content()  # no one is served another's download of the same shape


@st.cache_data(max_entries=1, show_spinner="Loading the Adult sample…")
def _adult_sample():  # noqa: ANN202 - cached loader
    return adult().frame


def _first_dataset() -> tuple:
    return _adult_sample(), "Adult census sample", f"{ADULT_NOTE} {ADULT_CITATION}"


# The workspace of the link (?ws=…), or a new one holding the Adult sample.
try:
    state.bootstrap(_first_dataset)
except PrivLensError as exc:  # e.g. an unwritable database: the app still opens
    st.session_state["startup_error"] = str(exc)

# Sidebar order: Data, Correlations, Re-identification risk, Differential privacy, Masking,
# Export, Model, History, Decrypt. Icons are Material Symbols (":material/name:"), which Streamlit
# bundles; emoji need a system font that servers often lack.
PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", url_path="home", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/table:", url_path="data"),
    st.Page(
        "pages/correlations.py",
        title="Correlations",
        icon=":material/scatter_plot:",
        url_path="correlations",
    ),
    st.Page(
        "pages/risk.py",
        title="Re-identification risk",
        icon=":material/person_search:",
        url_path="risk",
    ),
    st.Page(
        "pages/differential_privacy.py",
        title="Differential privacy",
        icon=":material/blur_on:",
        url_path="dp",
    ),
    st.Page("pages/masking.py", title="Masking", icon=":material/masks:", url_path="masking"),
    st.Page(
        "pages/anonymize.py",
        title="Find a safe table",
        icon=":material/travel_explore:",
        url_path="anonymize",
    ),
    st.Page("pages/export.py", title="Export", icon=":material/download:", url_path="export"),
    st.Page("pages/model.py", title="Model", icon=":material/neurology:", url_path="model"),
    st.Page("pages/history.py", title="History", icon=":material/history:", url_path="history"),
    st.Page("pages/decrypt.py", title="Decrypt", icon=":material/lock_open:", url_path="decrypt"),
]
nav.register(PAGES)

with st.sidebar:
    name = st.session_state.get("dataset_name")
    df = st.session_state.get("dataset")
    if df is not None:
        st.caption(f"Dataset: **{md(name)}** · {len(df):,} rows × {df.shape[1]} columns")
    elif (src := state.large_source()) is not None:  # read where it lies, through an engine
        st.caption(
            f"Dataset: **{md(src.name)}** · {src.n_rows:,} rows × {len(src.columns)} columns "
            f"· {src.engine} engine"
        )

# A link whose workspace is gone says so above whichever page it opened, once.
workspace_panel.link_notice()

st.navigation(PAGES).run()
