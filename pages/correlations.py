"""Correlations: which variables move together, and which give a sensitive one away."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import correlation as corr
from core.errors import PrivLensError
from core.limits import (
    CORRELATION_ALPHA_DEFAULT,
    CORRELATION_ALPHA_MAX,
    CORRELATION_ALPHA_MIN,
    CORRELATION_SAMPLE_DEFAULT,
    CORRELATION_SAMPLE_MIN,
    DRILLDOWN_MAX_POINTS,
    LEAKAGE_TOP_DEFAULT,
)
from core.roles import Role, columns_with_role
from ui import large_data, nav, state
from ui.charts import correlations as charts
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.text import md, md_list

ensure_routed()  # a deep link right after start-up must still go through app.py

OPTIONS = list(charts.METHOD_CAPTIONS)
KindsKey = tuple[tuple[str, str], ...]


# Cached by the dataset's token, never by the frame: Streamlit hashes only a sample of the rows
# of a large frame, so two users' tables that differ outside that sample would share an entry.
@st.cache_data(max_entries=24, show_spinner=False)
def _cached(_df: pd.DataFrame, token: str, measure: str, kinds: KindsKey, **params):
    """``corr.<measure>(df, kinds=..., **params)`` for the table of ``token``."""
    return getattr(corr, measure)(_df, kinds=dict(kinds), **params)


def _new_click(key: str, event: object, labels: tuple[str, ...]) -> None:
    """Keep the pair of a new click on the matrix ``key`` (an unchanged selection is old)."""
    indices = charts.selection(event)
    if st.session_state.get(f"{key}::seen") == indices:
        return
    st.session_state[f"{key}::seen"] = indices
    pair = charts.clicked_pair(indices, labels)
    if pair is not None:
        state.set_options("correlations", {"pair": pair})


def _matrix(key: str, labels: tuple[str, ...], values, p_adj, title: str, measures=None) -> None:
    fig = charts.heatmap(labels, values, p_adj, alpha, title, measures)
    event = st.plotly_chart(fig, key=key, on_select="rerun", selection_mode="points")
    _new_click(key, event, labels)


def _drilldown(df: pd.DataFrame, columns: list[str], strongest: tuple[str, str]) -> None:
    st.subheader("Drill-down")
    pair = state.get("correlations.options.pair")
    clicked = (
        isinstance(pair, tuple)
        and len(pair) == 2
        and pair[0] != pair[1]
        and all(p in columns for p in pair)
    )
    a, b = pair if clicked else strongest
    st.caption(
        "Showing the pair you clicked."
        if clicked
        else "Click a cell of the matrix to look at a pair; showing the strongest pair."
    )
    st.markdown(f"**{md(a)}** × **{md(b)}**")
    try:
        d = corr.drilldown(df, a, b, kinds=kinds)
    except PrivLensError as exc:
        show_error(exc)
        return
    if d.n == 0:
        st.info(f"No row has both '{md(a)}' and '{md(b)}'.")
        return
    if d.sampled:
        st.caption(
            f"Plot shows a uniform random sample of {DRILLDOWN_MAX_POINTS:,} of {d.n:,} "
            "complete rows; the trend line uses all of them."
        )
    fig = charts.drilldown_figure(d, max_points=DRILLDOWN_MAX_POINTS)
    st.plotly_chart(fig, key="corr_drill_chart")


@st.fragment
def _leakage_section(
    df: pd.DataFrame, candidates: list[str], default: str, seen: tuple, kinds_key: KindsKey
) -> None:
    """Leakage ranking for one sensitive attribute; reruns alone when its picker changes."""
    st.subheader("Leakage of a sensitive attribute")
    sensitive = st.selectbox(
        "Sensitive attribute",
        candidates,
        help="Defaults to the first column marked sensitive on the Data page. Every other "
        "column except direct identifiers is ranked by how much it reveals this one.",
        **state.widget(
            "correlations.options.sensitive",
            key="corr_sensitive",
            default=default,
            options=candidates,
            initial="index",
        ),
    )
    try:
        others = tuple(c for c in candidates if c != sensitive)
        report = _cached(
            df,
            state.dataset_id(),
            "leakage_ranking",
            kinds_key,
            sensitive=sensitive,
            columns=others,
        )
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(w for w in report.warnings if w not in seen)
    st.plotly_chart(charts.leakage_bars(report), key="corr_leak_chart")
    if report.proxies:
        st.warning(
            f"{len(report.proxies)} column(s) act as a proxy for '{md(sensitive)}': "
            + md_list(report.proxies)
            + ". Removing the sensitive column does not hide it while these remain; generalize "
            "or suppress them on the Masking page."
        )
    st.caption(
        f"Best guess: for each value of the column, guess the most frequent '{md(sensitive)}'. "
        f"Majority baseline (always guess the most common value): "
        f"{report.baseline_accuracy:.1%}. Computed for the top {LEAKAGE_TOP_DEFAULT} columns "
        "(— for the others); lift is the share of the baseline's errors that the column removes."
    )
    st.dataframe(charts.leakage_table(report), hide_index=True, key="corr_leak_table")


st.title("Correlations")
st.caption(nav.QUESTIONS["correlations"])
if large_data.active():  # a large dataset: measured through its engine
    large_data.correlations_page()
    st.stop()
df = state.require_dataset()
ws = state.workspace()
kinds = ws.dataset.kinds if ws.dataset is not None else {}
kinds_key: KindsKey = tuple(sorted(kinds.items()))
token = state.dataset_id()
identifiers = set(columns_with_role(state.roles(), Role.IDENTIFIER))
numeric = corr.numeric_columns(df, kinds)

left, right = st.columns([3, 2])
choice = left.radio(
    "Method",
    OPTIONS,
    horizontal=True,
    captions=list(charts.METHOD_CAPTIONS.values()),
    help=charts.METHOD_HELP,
    **state.widget(
        "correlations.options.method",
        key="corr_method",
        default="Pearson",
        options=OPTIONS,
        initial="index",
    ),
)
alpha = right.slider(
    "Significance level α",
    min_value=CORRELATION_ALPHA_MIN,
    max_value=CORRELATION_ALPHA_MAX,
    step=0.001,
    format="%.3f",
    help="Cells whose Benjamini–Hochberg adjusted p-value is above α are greyed out "
    "(the adjustment keeps the expected share of false discoveries at α).",
    **state.widget(
        "correlations.options.alpha",
        key="corr_alpha",
        default=CORRELATION_ALPHA_DEFAULT,
        to_widget=lambda v: min(max(float(v), CORRELATION_ALPHA_MIN), CORRELATION_ALPHA_MAX),
        initial="value",
    ),
)
association = choice == "Association"
pool = list(df.columns) if association else numeric
default = tuple(c for c in pool if c not in identifiers)
which = "columns_association" if association else "columns_numeric"
columns = st.multiselect(
    "Columns",
    pool,
    help="Direct identifiers are left out by default. "
    + ("Every column type is allowed." if association else "Numeric columns only."),
    **state.widget(
        f"correlations.options.{which}",
        key=f"corr_cols_{which[8:]}",
        default=default,
        options=pool,
        initial="default",
    ),
)
coded = corr.coded_columns(df, kinds)
if coded and not association:
    st.caption(
        f"Declared categorical on the Data page, so not correlated on their codes: "
        f"{md_list(coded)}. The Association matrix measures them."
    )
if len(columns) < 2:
    st.info("Pick at least two columns.")
    st.stop()

sample_rows = None
if not association and len(df) > CORRELATION_SAMPLE_MIN:
    if st.toggle(
        "Estimate from a uniform row sample",
        help="For very large tables: compute on a random sample of rows instead of all of "
        "them. Results are labelled as estimates and the table shows 95% confidence "
        "intervals for the sampling error.",
        **state.widget(
            "correlations.options.sample", key="corr_sample", default=False, initial="value"
        ),
    ):
        top = max(CORRELATION_SAMPLE_MIN, len(df))
        sample_rows = int(
            st.number_input(
                "Rows in the sample",
                min_value=CORRELATION_SAMPLE_MIN,
                max_value=top,
                step=CORRELATION_SAMPLE_MIN,
                **state.widget(
                    "correlations.options.sample_rows",
                    key="corr_sample_rows",
                    default=min(CORRELATION_SAMPLE_DEFAULT, len(df)),
                    to_widget=lambda v: min(max(int(v), CORRELATION_SAMPLE_MIN), top),
                    from_widget=int,
                    initial="value",
                ),
            )
        )

methods = charts.METHODS_OF[choice]
bar = st.progress(0.0, text="Computing…")
results: dict[str, corr.CorrelationMatrix] = {}
assoc: corr.AssociationMatrix | None = None
try:
    if association:
        bar.progress(0.1, text="Computing the association matrix…")
        assoc = _cached(df, token, "association_matrix", kinds_key, columns=tuple(columns))
    for i, m in enumerate(methods):
        bar.progress(i / len(methods), text=f"Computing {m} ({i + 1} of {len(methods)})…")
        results[m] = _cached(
            df,
            token,
            "correlation_matrix",
            kinds_key,
            method=m,
            columns=tuple(columns),
            sample_rows=sample_rows,
            rng=0 if sample_rows else None,
        )
except PrivLensError as exc:
    bar.empty()
    show_error(exc)
    st.stop()
bar.empty()

shown_warnings = tuple(
    dict.fromkeys(
        [*(assoc.warnings if assoc else ()), *(w for r in results.values() for w in r.warnings)]
    )
)
show_warnings(shown_warnings)
matrices = (assoc,) if assoc is not None else tuple(results.values())
pairs, strongest = corr.ranked_pairs(*matrices)
squares = {m: res.frame("r") for m, res in results.items()}
if assoc is not None:
    squares = {"association": assoc.frame("value")}

# many columns: the matrix takes two thirds of the width so each cell stays readable
heat, drill = st.columns([2, 1] if len(columns) > 10 else [3, 2], gap="medium")
with heat:
    if assoc is not None:
        st.caption(
            "Numeric pairs: Pearson r in [-1, 1]; categorical pairs: bias-corrected Cramér's V; "
            "mixed pairs: correlation ratio η (both in [0, 1], no sign). Hover a cell for its "
            "measure."
        )
        _matrix(
            "corr_heat_association",
            assoc.columns,
            assoc.value,
            assoc.p_adjusted,
            "Association matrix",
            assoc.measure,
        )
    else:
        places = st.tabs([m.capitalize() for m in results]) if len(results) > 1 else [heat]
        for place, (m, res) in zip(places, results.items(), strict=True):
            with place:
                title = m.capitalize() + (" (sample estimate)" if res.sampled else "")
                _matrix(f"corr_heat_{m}", res.columns, res.r, res.p_adjusted, title)
with drill:
    _drilldown(df, columns, strongest or (columns[0], columns[1]))

st.subheader("Strongest pairs")
st.dataframe(charts.pairs_table(pairs.head(20)), hide_index=True, key="corr_pairs_table")
d1, d2 = st.columns(2)
d1.download_button(
    "Download all pairs (CSV)",
    data=pairs.to_csv(index=False),
    file_name="correlation_pairs.csv",
    mime="text/csv",
    key="corr_dl_pairs",
    on_click="ignore",
)
d2.download_button(
    "Download the matrices (CSV)",
    data=pd.concat(squares, names=["matrix", "column"]).to_csv(),
    file_name="correlation_matrices.csv",
    mime="text/csv",
    key="corr_dl_matrices",
    on_click="ignore",
)

candidates = [c for c in df.columns if c not in identifiers]
marked = [c for c in columns_with_role(state.roles(), Role.SENSITIVE) if c in candidates]
fallback = next((c for c in candidates if c not in numeric), candidates[0] if candidates else "")
if len(candidates) >= 2:
    _leakage_section(df, candidates, marked[0] if marked else fallback, shown_warnings, kinds_key)
