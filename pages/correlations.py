"""Correlations: which variables move together, and which give a sensitive one away."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
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
    PROXY_THRESHOLD,
)
from core.roles import Role, columns_with_role
from ui import nav
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.state import dataset_id, require_dataset, roles
from ui.text import md, md_list, plot_label, plot_labels

ensure_routed()  # a deep link right after start-up must still go through app.py

OPTIONS = ["Pearson", "Spearman", "Kendall", "All three", "Association"]
CAPTIONS = [
    "linear",
    "monotone, on ranks",
    "pair ordering, robust to ties",
    "side by side",
    "every column, mixed types",
]
HELP = (
    "**Pearson r**: strength of a straight-line relation between two numbers; sensitive to "
    "outliers; p-value assumes roughly normal data.  \n"
    "**Spearman ρ**: Pearson on ranks, so any steadily rising or falling relation; "
    "unaffected by monotone rescaling.  \n"
    "**Kendall τ-b**: share of row pairs ordered the same way minus those ordered "
    "oppositely, corrected for ties; robust for ordinal codes.  \n"
    "**Association**: one matrix over all columns: the correlation for two numbers, "
    "bias-corrected Cramér's V for two categories, the correlation ratio η for a "
    "category and a number (0 = unrelated, 1 = fully determined).  \n"
    "Missing values are dropped per pair. Cells whose Benjamini–Hochberg adjusted p-value "
    "is above α are greyed out."
)
METHODS_OF: dict[str, tuple[corr.Method, ...]] = {
    "Pearson": ("pearson",),
    "Spearman": ("spearman",),
    "Kendall": ("kendall",),
    "All three": corr.METHODS,
    "Association": (),
}
GREY = "#d0d0d0"
ANNOTATE_MAX = 16  # cells are labelled with their value up to this many columns


# Cached by the dataset's token, never by the frame: Streamlit hashes only a sample of the rows
# of a large frame, so two users' tables that differ outside that sample would share an entry.
@st.cache_data(max_entries=16, show_spinner=False)
def _correlations(
    _df: pd.DataFrame,
    token: str,
    *,
    method: corr.Method,
    columns: tuple[str, ...],
    sample_rows: int | None,
    rng: int | None,
) -> corr.CorrelationMatrix:
    return corr.correlation_matrix(
        _df, method=method, columns=columns, sample_rows=sample_rows, rng=rng
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _associations(
    _df: pd.DataFrame, token: str, *, columns: tuple[str, ...]
) -> corr.AssociationMatrix:
    return corr.association_matrix(_df, columns=columns)


@st.cache_data(max_entries=8, show_spinner=False)
def _leakage(
    _df: pd.DataFrame, token: str, *, sensitive: str, columns: tuple[str, ...]
) -> corr.LeakageReport:
    return corr.leakage_ranking(_df, sensitive=sensitive, columns=columns)


def _numeric(df: pd.DataFrame) -> list[str]:
    return [
        c
        for c in df.columns
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
    ]


def _heatmap(
    labels: tuple[str, ...], values: np.ndarray, p_adj: np.ndarray, alpha: float, title: str
) -> go.Figure:
    """Annotated matrix on a fixed [-1, 1] diverging scale; non-significant cells grey.

    Invisible square markers sit on the cells so a click selects a pair (plotly heatmap
    traces do not report selections). Names are shown HTML-escaped; a click is mapped back to
    the columns by the marker's position (see :func:`_clicked_pair`).
    """
    k = len(labels)
    shown = plot_labels(labels)
    x = shown
    y = shown
    significant = np.isfinite(values) & (p_adj <= alpha)
    grey = np.isfinite(values) & ~significant
    text = np.where(np.isfinite(values), np.vectorize(lambda v: f"{v:.2f}")(values), "n/a")
    show_text = k <= ANNOTATE_MAX
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=np.where(significant, values, np.nan),
            x=x,
            y=y,
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale="RdBu",
            colorbar={"title": "value", "tickvals": [-1, -0.5, 0, 0.5, 1]},
            text=text,
            texttemplate="%{text}" if show_text else None,
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )
    fig.add_trace(
        go.Heatmap(
            z=np.where(grey, 0.0, np.nan),
            x=x,
            y=y,
            colorscale=[[0, GREY], [1, GREY]],
            showscale=False,
            text=text,
            texttemplate="%{text}" if show_text else None,
            hoverinfo="skip",
            xgap=1,
            ygap=1,
        )
    )
    xx, yy = np.meshgrid(np.arange(k), np.arange(k))
    hover = [
        f"{shown[j]} × {shown[i]}<br>value {text[i, j]}<br>adjusted p "
        + (f"{p_adj[i, j]:.3g}" if np.isfinite(p_adj[i, j]) else "n/a")
        for i, j in zip(yy.ravel(), xx.ravel(), strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=[shown[j] for j in xx.ravel()],
            y=[shown[i] for i in yy.ravel()],
            mode="markers",
            marker={"symbol": "square", "size": max(8, 420 // max(k, 1)), "opacity": 0},
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    fig.update_layout(
        title=title,
        height=max(360, 40 * k + 140),
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        yaxis={"autorange": "reversed"},
        xaxis={"tickangle": -45},
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def _clicked_pair(event: object, labels: tuple[str, ...]) -> tuple[str, str] | None:
    """The (column, row) names of a clicked cell, from a plotly selection event.

    The chart shows escaped names, so the cell is found by the marker's index (row-major over
    the k × k grid of :func:`_heatmap`), never by the label shown.
    """
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    k = len(labels)
    for pt in points or ():
        index = pt.get("point_index")
        if not isinstance(index, int) or not 0 <= index < k * k:
            continue
        i, j = divmod(index, k)
        if i != j:
            return labels[j], labels[i]
    return None


def _drilldown(df: pd.DataFrame, a: str, b: str) -> None:
    num = set(_numeric(df))
    pair = df[[a, b]].dropna()
    if pair.empty:
        st.info(f"No row has both '{md(a)}' and '{md(b)}'.")
        return
    shown = pair
    if len(pair) > DRILLDOWN_MAX_POINTS:
        shown = pair.sample(DRILLDOWN_MAX_POINTS, random_state=0)  # preview only
        st.caption(
            f"Plot shows a uniform random sample of {DRILLDOWN_MAX_POINTS:,} of "
            f"{len(pair):,} complete rows; the trend line and boxes use all of them."
        )
    la, lb = plot_label(a), plot_label(b)
    if a in num and b in num:
        fig = px.scatter(
            shown.set_axis([la, lb], axis=1), x=la, y=lb, opacity=0.35, title=f"{lb} against {la}"
        )
        xv, yv = pair[a].to_numpy(float), pair[b].to_numpy(float)
        if np.ptp(xv) > 0:
            slope, intercept = np.polyfit(xv, yv, 1)
            xs = np.array([xv.min(), xv.max()])
            fig.add_trace(
                go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name="least-squares line")
            )
    elif a in num or b in num:
        cat, val = (b, a) if a in num else (a, b)
        top = pair[cat].value_counts().index[:20]
        kept = pair[pair[cat].isin(top)]
        lc, lv = plot_label(cat), plot_label(val)
        fig = px.box(
            pd.DataFrame({lc: plot_labels(kept[cat]), lv: kept[val].to_numpy()}),
            x=lc,
            y=lv,
            points="all" if len(kept) <= DRILLDOWN_MAX_POINTS else "outliers",
            title=f"{lv} by {lc}" + (" (20 most frequent categories)" if len(top) == 20 else ""),
        )
    else:
        top_a = pair[a].value_counts().index[:30]
        top_b = pair[b].value_counts().index[:30]
        kept = pair[pair[a].isin(top_a) & pair[b].isin(top_b)]
        table = pd.crosstab(kept[a], kept[b], normalize="index")
        table.index = pd.Index(plot_labels(table.index), name=la)
        table.columns = pd.Index(plot_labels(table.columns), name=lb)
        fig = px.imshow(
            table,
            zmin=0,
            zmax=1,
            color_continuous_scale="Blues",
            text_auto=".2f",
            aspect="auto",
            title=f"Share of each '{lb}' value within each '{la}' value"
            + (" (30 most frequent of each)" if len(top_a) == 30 or len(top_b) == 30 else ""),
        )
    st.plotly_chart(fig, key="corr_drill_chart")


@st.fragment
def _leakage_section(
    df: pd.DataFrame, role_map: dict[str, str], identifiers: set[str], numeric: list[str]
) -> None:
    """Leakage ranking for one sensitive attribute; reruns alone when its picker changes."""
    st.subheader("Leakage of a sensitive attribute")
    sensitive_cols = columns_with_role(role_map, Role.SENSITIVE)
    candidates = [c for c in df.columns if c not in identifiers]
    default_sensitive = (
        sensitive_cols[0]
        if sensitive_cols and sensitive_cols[0] in candidates
        else next((c for c in candidates if c not in numeric), candidates[0])
    )
    sensitive = st.selectbox(
        "Sensitive attribute",
        candidates,
        index=candidates.index(default_sensitive),
        key="corr_sensitive",
        help="Defaults to the first column marked sensitive on the Data page. Every other "
        "column except direct identifiers is ranked by how much it reveals this one.",
    )
    try:
        report = _leakage(
            df,
            dataset_id(),
            sensitive=sensitive, columns=tuple(c for c in candidates if c != sensitive)
        )
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(report.warnings)
    frame = report.frame()
    shown = frame.iloc[::-1].assign(column=lambda f: plot_labels(f["column"]))
    fig = px.bar(
        shown,
        x="score",
        y="column",
        orientation="h",
        color="proxy",
        color_discrete_map={True: "#b2182b", False: "#4393c3"},
        range_x=[0, 1],
        title=f"How much each column reveals '{plot_label(sensitive)}'",
        labels={"score": "max(association, normalized mutual information)"},
    )
    fig.add_vline(x=PROXY_THRESHOLD, line_dash="dot", annotation_text="proxy threshold")
    fig.update_layout(height=max(300, 28 * len(frame) + 120))
    st.plotly_chart(fig, key="corr_leak_chart")
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
        f"{report.baseline_accuracy:.1%}. Computed for the top {LEAKAGE_TOP_DEFAULT} columns; "
        "lift is the share of the baseline's errors that the column removes."
    )
    st.dataframe(
        frame,
        hide_index=True,
        column_config={
            "association": st.column_config.NumberColumn(format="%.3f"),
            "nmi": st.column_config.NumberColumn("NMI", format="%.3f"),
            "score": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="%.3f"),
            "guess_accuracy": st.column_config.NumberColumn("best-guess accuracy", format="%.3f"),
            "baseline_accuracy": st.column_config.NumberColumn("baseline", format="%.3f"),
            "lift": st.column_config.NumberColumn("lift (λ)", format="%.3f"),
        },
        key="corr_leak_table",
    )


st.title("Correlations")
st.caption(nav.QUESTIONS["correlations"])
df = require_dataset()
role_map = roles()
identifiers = set(columns_with_role(role_map, Role.IDENTIFIER))
numeric = _numeric(df)

left, right = st.columns([3, 2])
choice = left.radio(
    "Method", OPTIONS, horizontal=True, captions=CAPTIONS, key="corr_method", help=HELP
)
alpha = right.slider(
    "Significance level α",
    min_value=CORRELATION_ALPHA_MIN,
    max_value=CORRELATION_ALPHA_MAX,
    value=CORRELATION_ALPHA_DEFAULT,
    step=0.001,
    format="%.3f",
    key="corr_alpha",
    help="Cells whose Benjamini–Hochberg adjusted p-value is above α are greyed out "
    "(the adjustment keeps the expected share of false discoveries at α).",
)
association = choice == "Association"
pool = list(df.columns) if association else numeric
default = [c for c in pool if c not in identifiers]
columns = st.multiselect(
    "Columns",
    pool,
    default=default,
    key="corr_cols_assoc" if association else "corr_cols_numeric",
    help="Direct identifiers are left out by default. "
    + ("Every column type is allowed." if association else "Numeric columns only."),
)
if len(columns) < 2:
    st.info("Pick at least two columns.")
    st.stop()

sample_rows = None
if not association and len(df) > CORRELATION_SAMPLE_MIN:
    if st.toggle(
        "Estimate from a uniform row sample",
        key="corr_sample",
        help="For very large tables: compute on a random sample of rows instead of all of "
        "them. Results are labelled as estimates and the table shows 95% confidence "
        "intervals for the sampling error.",
    ):
        sample_rows = int(
            st.number_input(
                "Rows in the sample",
                min_value=CORRELATION_SAMPLE_MIN,
                max_value=max(CORRELATION_SAMPLE_MIN, len(df)),
                value=min(CORRELATION_SAMPLE_DEFAULT, len(df)),
                step=CORRELATION_SAMPLE_MIN,
                key="corr_sample_rows",
            )
        )

methods = METHODS_OF[choice]

bar = st.progress(0.0, text="Computing…")
results: dict[str, corr.CorrelationMatrix] = {}
assoc: corr.AssociationMatrix | None = None
try:
    if association:
        bar.progress(0.1, text="Computing the association matrix…")
        assoc = _associations(df, dataset_id(), columns=tuple(columns))
    else:
        for i, m in enumerate(methods):
            bar.progress(i / len(methods), text=f"Computing {m} ({i + 1} of {len(methods)})…")
            results[m] = _correlations(
                df,
                dataset_id(),
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

clicked: tuple[str, str] | None = None
if assoc is not None:
    show_warnings(assoc.warnings)
    st.caption(
        "Numeric pairs: Pearson r in [-1, 1]; categorical pairs: bias-corrected Cramér's V; "
        "mixed pairs: correlation ratio η (both in [0, 1], no sign)."
    )
    event = st.plotly_chart(
        _heatmap(assoc.columns, assoc.value, assoc.p_adjusted, alpha, "Association matrix"),
        key="corr_heat_association",
        on_select="rerun",
        selection_mode="points",
    )
    clicked = _clicked_pair(event, assoc.columns)
    pairs = assoc.pairs()
    squares = {"association": assoc.frame("value")}
else:
    show_warnings(dict.fromkeys(w for res in results.values() for w in res.warnings))
    cols = st.columns(len(results))
    for col, (m, res) in zip(cols, results.items(), strict=True):
        title = m.capitalize() + (" (sample estimate)" if res.sampled else "")
        with col:
            event = st.plotly_chart(
                _heatmap(res.columns, res.r, res.p_adjusted, alpha, title),
                key=f"corr_heat_{m}",
                on_select="rerun",
                selection_mode="points",
            )
            clicked = _clicked_pair(event, res.columns) or clicked
    pairs = pd.concat([res.pairs() for res in results.values()], ignore_index=True)
    pairs = pairs.iloc[np.argsort(-pairs["r"].abs().fillna(-1).to_numpy(), kind="stable")]
    squares = {m: res.frame("r") for m, res in results.items()}

if clicked is not None:
    st.session_state["corr_pair"] = clicked

st.subheader("Strongest pairs")
value_col = "value" if assoc is not None else "r"
st.dataframe(
    pairs.head(20),
    hide_index=True,
    column_config={
        value_col: st.column_config.NumberColumn(format="%.3f"),
        "p": st.column_config.NumberColumn(format="%.2e"),
        "p_adjusted": st.column_config.NumberColumn("adjusted p (BH)", format="%.2e"),
        "ci_low": st.column_config.NumberColumn("CI low", format="%.3f"),
        "ci_high": st.column_config.NumberColumn("CI high", format="%.3f"),
    },
    key="corr_pairs_table",
)
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

st.subheader("Drill-down")
pair = st.session_state.get("corr_pair")
valid = (
    isinstance(pair, tuple | list)
    and len(pair) == 2
    and pair[0] != pair[1]
    and all(p in columns for p in pair)
)
if not valid:
    ranked = pairs.dropna(subset=[value_col])
    pair = (
        (str(ranked.iloc[0]["column_a"]), str(ranked.iloc[0]["column_b"]))
        if len(ranked)
        else (columns[0], columns[1])
    )
    st.caption("Click a cell of the matrix to look at a pair; showing the strongest pair.")
else:
    st.caption("Showing the pair you clicked.")
st.markdown(f"**{md(pair[0])}** × **{md(pair[1])}**")
_drilldown(df, str(pair[0]), str(pair[1]))

_leakage_section(df, role_map, identifiers, numeric)
