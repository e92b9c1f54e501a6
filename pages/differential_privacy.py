"""Differential privacy lab: how much noise does ε cost for this column and query?"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core import codebooks, dp, dp_utility, limits
from core.dp_budget import Ledger
from core.errors import PrivLensError
from core.roles import Role
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.state import dataset_id, require_dataset, role_columns
from ui.text import md as escape_md
from ui.text import md_list, plot_labels

ensure_routed()  # a deep link right after start-up must still go through app.py

#: Okabe & Ito (2008) colours, distinguishable with the common colour-vision deficiencies.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY = OKABE_ITO[:6]
MARKER = {"color": "black", "dash": "dot", "width": 1.5}
EPS_OPTIONS = [float(f"{e:.3g}") for e in np.geomspace(limits.EPSILON_MIN, limits.EPSILON_MAX, 61)]
QUERY_LABELS = {
    "count": "Count of values",
    "sum": "Sum",
    "mean": "Mean",
    "histogram": "Histogram",
    "quantile": "Median / quantile",
    "mode": "Most frequent value (mode)",
}
MECH_LABELS = {
    "laplace": "Laplace",
    "gaussian": "Gaussian (analytic calibration)",
    "discrete_laplace": "Discrete Laplace (integer noise)",
    "discrete_gaussian": "Discrete Gaussian (integer noise)",
    "exponential": "Exponential mechanism",
}
DOMAIN_LABELS = {
    "declared": "Declared list (public)",
    "threshold": "Found in the data, above a noise threshold (needs δ)",
}


@st.cache_data(max_entries=32, show_spinner=False)
def _curve(mechanism: str, sensitivity: float, delta: float, candidates: int):  # noqa: ANN202
    return dp_utility.error_curve(
        mechanism=mechanism, sensitivity=sensitivity, delta=delta, candidates=candidates
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _clamped(_df: pd.DataFrame, ds: str, column: str, lo: float, hi: float):  # noqa: ANN202
    return dp.clamp(_df[column], lo, hi)


@st.cache_data(max_entries=8, show_spinner=False)
def _category_shares(_df: pd.DataFrame, ds: str, column: str) -> pd.Series:
    return _df[column].astype("string").fillna("<NA>").value_counts()


@st.cache_data(max_entries=8, show_spinner="Simulating the microdata release…")
def _md_curve(
    _df: pd.DataFrame,
    ds: str,
    bounds: tuple[tuple[str, float, float], ...],
    categorical: tuple[str, ...],
) -> dp_utility.MicrodataCurve:
    return dp_utility.microdata_utility_curve(
        _df,
        bounds={c: (lo, hi) for c, lo, hi in bounds},
        categorical=categorical,
        epsilons=dp_utility.epsilon_grid(limits.MICRODATA_CURVE_POINTS),
        sample_rows=limits.MICRODATA_SAMPLE_ROWS,
    )


def _suggest_md_bounds(frame: pd.DataFrame, columns: list[str]) -> None:
    suggested = {}
    for c in columns:
        lo, hi = float(frame[c].min()), float(frame[c].max())
        st.session_state[f"dp_md_lower_{c}"], st.session_state[f"dp_md_upper_{c}"] = lo, hi
        suggested[c] = (lo, hi)
    st.session_state["dp_md_bounds_from_data"] = suggested


def _suggest_bounds(frame: pd.DataFrame, column: str) -> None:
    col = frame[column]
    st.session_state[f"dp_lower_{column}"] = float(col.min())
    st.session_state[f"dp_upper_{column}"] = float(col.max())
    st.session_state["dp_bounds_from_data"] = (column, float(col.min()), float(col.max()))


def _fill_categories(key: str, cats: tuple[str, ...]) -> None:
    st.session_state[key] = "\n".join(cats)


def _ledger(ds: str) -> Ledger | None:
    return st.session_state.setdefault("dp_ledgers", {}).get(ds)


df = require_dataset()
ds = dataset_id()
n_rows = len(df)

st.title("Differential privacy")
st.caption(
    "Pick a column and a question, then move ε. A smaller ε means more noise and more "
    "privacy. Every figure on this page is computed from your data on this server; only the "
    "**Release** button produces an answer meant to leave it, drawn from the operating "
    "system's secure random generator. Curves and previews use a seeded simulator."
)

# --- inputs: column, query, mechanism, bounds -------------------------------------------------
numeric_cols = [
    c
    for c in df.columns
    if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
]
left, mid, right = st.columns(3)
_ids = set(role_columns(Role.IDENTIFIER))
_first = next((c for c in numeric_cols if c not in _ids), None)
column = left.selectbox(
    "Column",
    list(df.columns),
    index=list(df.columns).index(_first) if _first is not None else 0,
    key="dp_column",
    help="The column the question is asked about. Direct identifiers are listed but make "
    "little sense here: drop or pseudonymize them instead.",
)
is_numeric = column in numeric_cols
queries = (
    ["count", "sum", "mean", "histogram", "quantile"]
    if is_numeric
    else ["count", "histogram", "mode"]
)
query = mid.selectbox(
    "Question", queries, format_func=QUERY_LABELS.__getitem__, key=f"dp_query_{is_numeric}"
)
domain = "declared"
categories: list[str] | None = None
if not is_numeric and query in ("histogram", "mode"):
    domain = st.radio(
        "Categories",
        dp.DOMAINS,
        format_func=DOMAIN_LABELS.__getitem__,
        key="dp_domain",
        horizontal=True,
        help="A DP release may not take its list of categories from the data: a category "
        "that one person alone has would appear only when that person is in the data.",
    )
    if domain == "declared":
        cat_key = f"dp_cats_{column}"
        st.session_state.setdefault(cat_key, "")
        k1, k2 = st.columns([3, 1])
        typed = k1.text_area(
            "Public categories, one per line",
            key=cat_key,
            help="Categories known without looking at the data: from a codebook, a form's "
            "options or a standard. Values outside the list are left out of the release.",
        )
        published = codebooks.categories_for(str(column))
        if pd.api.types.is_bool_dtype(df[column]):
            published = ("False", "True")  # the type's own values, not the data's
        if published is not None:
            k2.write("")
            k2.button(
                "Fill in the published categories",
                key="dp_cats_fill",
                on_click=_fill_categories,
                args=(cat_key, published),
                help="The categories of a column of this name in the "
                + codebooks.SOURCES["adult"]
                + " (the column's name is looked up, never its values).",
            )
        categories = list(dict.fromkeys(x.strip() for x in typed.splitlines() if x.strip()))
        categories = categories or None
        st.caption(
            "**Declared list**: the released categories are exactly this list, the same "
            "whoever is in the data, so the list itself reveals nothing."
        )
    else:
        st.caption(
            "**Threshold histogram**: the categories found in the data get discrete Laplace "
            "noise of scale 1/ε, and only those whose noisy count reaches a threshold set by "
            "δ are released: a category that one record alone has shows with probability at "
            "most δ (Korolova et al. 2009; OpenDP's make_laplace_threshold)."
        )
mech_options = ("discrete_laplace",) if domain == "threshold" else dp.MECHANISMS[query]
if query == "mode" and domain == "declared":
    mech_options = ("exponential",)
mechanism = right.selectbox(
    "Mechanism",
    mech_options,
    format_func=MECH_LABELS.__getitem__,
    key=f"dp_mech_{query}" + ("_threshold" if domain == "threshold" else ""),
)
needs_bounds = is_numeric and query in ("sum", "mean", "histogram", "quantile")
lower = upper = None
if is_numeric:
    b1, b2, b3 = st.columns([1, 1, 1])
    lower = b1.number_input("Lower bound L", value=0.0, key=f"dp_lower_{column}")
    upper = b2.number_input("Upper bound U", value=100.0, key=f"dp_upper_{column}")
    b3.write("")
    b3.button(
        "Suggest bounds from the data",
        key="dp_suggest",
        on_click=_suggest_bounds,
        args=(df, column),
        help="Fills in the column's minimum and maximum, with a warning: they leak.",
    )
    if st.session_state.get("dp_bounds_from_data") == (column, lower, upper):
        st.warning(
            "These bounds are the column's actual minimum and maximum. They are real values of "
            "real records and are **not** protected by differential privacy. Round them out to "
            "values anyone could have guessed (for example 0 and 100 for an age) before "
            "releasing."
        )
    st.caption(
        "Values are clamped into [L, U]. The bounds fix the sensitivity: wider bounds mean "
        "less bias from clamping but more noise. State them from knowledge, not from the data."
    )
bins = 20
if query == "histogram" and is_numeric:
    bins = st.slider("Bins", 2, 100, 20, key="dp_bins")
q = 0.5
if query == "quantile":
    q = st.slider("Quantile (0.5 = median)", 0.0, 1.0, 0.5, 0.05, key="dp_q")

delta = 0.0
if mechanism in ("gaussian", "discrete_gaussian") or domain == "threshold":
    default_delta = max(limits.DELTA_MIN, 10.0 ** math.floor(math.log10(1.0 / (100 * n_rows))))
    delta = st.number_input(
        "δ (delta)",
        min_value=limits.DELTA_MIN,
        max_value=limits.DELTA_MAX,
        value=default_delta,
        format="%.1e",
        key="dp_delta",
        help="The probability that the ε guarantee fails outright.",
    )
    st.caption(
        f"δ is the small chance that the privacy promise does not hold at all. With "
        f"{n_rows:,} records, 1/n = {1 / n_rows:.1e}: a δ near 1/n would allow revealing a "
        f"whole record of someone. The default {default_delta:.0e} is at least 100 times "
        "smaller."
    )

try:
    if needs_bounds:
        assert lower is not None and upper is not None
        lo, hi = dp.check_bounds(lower, upper)
        clamped, n_missing, n_clipped = _clamped(df, ds, column, lo, hi)
        st.caption(
            f"On your screen only: {n_clipped:,} value(s) lie outside [L, U] and will be "
            f"clamped, {n_missing:,} are missing. These exact counts are never part of a "
            "release."
        )
    n_public = int(df[column].notna().sum())
    sensitivity = dp_utility.query_sensitivity(query, lower=lower, upper=upper, n=n_public)
    candidates = (
        dp.QUANTILE_GRID
        if query == "quantile"
        else len(categories or ()) or 2
        if query == "mode" and domain == "declared"
        else 2
    )
    curve = _curve(mechanism, sensitivity, delta, candidates)
except PrivLensError as exc:
    show_error(exc)
    st.stop()

if query == "mean":
    assert lower is not None and upper is not None
    st.markdown(
        f"**Sensitivity** (U − L)/2 = {(upper - lower) / 2:.4g} for the sum of the values "
        "centred on (L + U)/2, and 1 for the count, each with half of ε · **neighbouring "
        f"datasets**: {dp.ADD_REMOVE}. The mean is the noisy sum over the noisy count; the "
        "record count is not released. The curve shows the sum's noise divided by the "
        "current count; the count's noise adds a little more."
    )
else:
    st.markdown(f"**Sensitivity** {sensitivity:.4g} · **neighbouring datasets**: {dp.ADD_REMOVE}")


# --- the live part: the ε slider redraws only this fragment ------------------------------------
@st.fragment
def live_panel() -> None:
    """ε slider, error curve, preview overlay, attacker bound and the release button."""
    c1, c2, c3 = st.columns([1, 6, 1])
    c1.markdown("**More privacy**")
    epsilon = c2.select_slider(
        "Epsilon (ε)",
        options=EPS_OPTIONS,
        value=limits.EPSILON_DEFAULT,
        key="dp_eps",
        format_func=lambda e: f"{e:g}",
    )
    c3.markdown("**More accuracy**")
    if epsilon >= 5:
        st.warning(
            f"ε = {epsilon:g} is a weak guarantee: an attacker's odds about a person can grow "
            f"{math.exp(epsilon):,.0f}-fold. Use ε ≥ 5 only when accuracy matters more than "
            "privacy and you can say why."
        )
    try:
        scale = dp_utility.noise_scale(
            mechanism=mechanism, epsilon=epsilon, sensitivity=sensitivity, delta=delta
        )
        hw = dp_utility.half_width(
            mechanism=mechanism, scale=scale, epsilon=epsilon, candidates=candidates
        )
    except PrivLensError as exc:
        show_error(exc)
        return
    unit = curve.unit if mechanism != "exponential" else "ranks"
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Noise scale",
        f"{scale:.4g}",
        help="Spread of the added noise: b for Laplace, σ for the Gaussians, t for discrete "
        "Laplace, 2/ε for the exponential mechanism. Larger means noisier.",
    )
    m2.metric(
        "95% error half-width",
        f"±{hw:.4g}",
        help=f"In 95% of releases the noisy answer lies within ± this of the true answer ({unit}).",
    )
    if mechanism == "gaussian" and epsilon < 1:
        classic = dp.classic_gaussian_sigma(epsilon=epsilon, delta=delta, sensitivity=sensitivity)
        m3.metric(
            "Classic-formula σ (comparison)",
            f"{classic:.4g}",
            help="σ = Δ₂·√(2 ln(1.25/δ))/ε, the textbook formula (valid for ε < 1), for "
            "comparison only: the analytic calibration in use needs the smaller σ on the left.",
        )

    fig = go.Figure()
    x = curve.epsilons
    # A log axis cannot show 0, yet integer noise is often exactly 0: band edges at 0 are drawn
    # on the axis floor (half the smallest positive value shown), and the caption says so.
    shown = [
        a
        for a in (curve.band_low, curve.band_high, curve.expected_error, curve.half_width)
        if a is not None
    ]
    positive = np.concatenate([np.asarray(a, float)[np.asarray(a, float) > 0] for a in shown])
    floor = float(positive.min()) / 2 if positive.size else 1e-6
    if curve.band_low is not None and curve.band_high is not None:
        band_at_zero = bool((np.asarray(curve.band_low) <= 0).any())
        band_low = np.maximum(np.asarray(curve.band_low, float), floor)
        band_high = np.maximum(np.asarray(curve.band_high, float), floor)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=band_high,
                line={"width": 0, "color": SKY},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=band_low,
                fill="tonexty",
                fillcolor="rgba(86, 180, 233, 0.35)",
                line={"width": 0, "color": SKY},
                name="5–95% of |error| (simulated)",
            )
        )
    else:
        band_at_zero = False
    if curve.expected_error is not None:
        fig.add_trace(
            go.Scatter(x=x, y=curve.expected_error, name="expected |error|", line={"color": BLUE})
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=curve.half_width,
            name="95% half-width",
            line={"dash": "dash", "color": VERMILLION},
        )
    )
    fig.add_vline(x=epsilon, line=MARKER, annotation_text=f"ε = {epsilon:g}")
    fig.update_layout(
        title=f"Error against ε — {MECH_LABELS[mechanism]}, ε = {epsilon:g}",
        xaxis={"type": "log", "title": "ε (log scale)"},
        yaxis={"type": "log", "title": f"error ({unit})"},
        height=360,
        margin={"t": 50, "b": 40},
    )
    st.plotly_chart(fig, key="dp_curve")
    if band_at_zero:
        st.caption(
            "Where the shaded band touches the bottom of the chart, at least 5% of the "
            "simulated releases were exactly right (|error| = 0), which a log axis cannot show."
        )
    for w in curve.warnings:
        st.caption(escape_md(w))

    # overlay: original vs one simulated noisy release (a preview, seeded)
    try:
        if query == "histogram" and domain == "threshold":
            sim = dp.dp_histogram(
                df, column, epsilon=epsilon, domain="threshold", delta=delta, source=0
            )
            shares = _category_shares(df, ds, column)
            labs = list(sim.labels)
            original, noisy = shares.reindex(labs, fill_value=0).to_numpy(), np.asarray(sim.value)
            what = f"noisy counts at or above the threshold {sim.threshold:g} (simulation)"
            st.caption(
                f"Threshold at ε = {epsilon:g}, δ = {delta:g}: t = {sim.threshold:g}. Of the "
                f"{len(shares):,} categories in the data (exact, on your screen only), "
                f"{len(labs):,} passed in this simulation."
            )
        elif query == "histogram" and not is_numeric and categories is None:
            st.info("List the public categories above to preview the histogram.")
            original = noisy = None
        elif query == "histogram":
            counts, labels, _ = dp.histogram_counts(
                df, column, lower=lower, upper=upper, bins=bins, categories=categories
            )
            sim = dp.dp_histogram(
                df,
                column,
                epsilon=epsilon,
                lower=lower,
                upper=upper,
                bins=bins,
                categories=categories,
                mechanism=mechanism,
                delta=delta,
                source=0,
            )
            original, noisy, labs = counts, np.asarray(sim.value), list(labels)
            what = "noisy bin counts (simulation)"
        elif is_numeric and needs_bounds:
            ov = dp_utility.numeric_overlay(clamped, epsilon=epsilon, lower=lo, upper=hi)
            original, noisy, labs, what = ov.original, ov.noisy, list(ov.labels), ov.description
        elif is_numeric:
            original = noisy = None
        else:
            every = _category_shares(df, ds, column)
            shares = every.head(30)
            cats = list(shares.index)
            # a preview on this screen: the simulation may use the data's own categories
            rr = dp.randomized_response(
                df[column], epsilon=epsilon, categories=tuple(every.index), source=0
            )
            noisy_counts = rr.values.astype("string").value_counts()
            original, labs = shares.to_numpy(), cats
            noisy = noisy_counts.reindex(cats, fill_value=0).to_numpy()
            what = f"randomized response, keep probability {rr.keep_probability:.3f} (simulation)"
            st.caption(
                "Randomized-response preview: a seeded simulation over the categories found in "
                "the data, on your screen only and never released; it spends no budget."
            )
    except PrivLensError as exc:
        show_error(exc)
        original = noisy = None
    if original is not None and noisy is not None:
        ofig = go.Figure()
        labs = labs if is_numeric else plot_labels(labs)  # categories come from the file
        ofig.add_trace(go.Bar(x=labs, y=original, name="original", opacity=0.6, marker_color=BLUE))
        ofig.add_trace(go.Bar(x=labs, y=noisy, name=what, opacity=0.6, marker_color=ORANGE))
        ofig.update_layout(
            barmode="overlay",
            xaxis_title="bin (lower edge)" if is_numeric else "category",
            yaxis_title="records",
            height=320,
            margin={"t": 40, "b": 40},
            title=f"Original vs one simulated noisy release, ε = {epsilon:g}",
        )
        st.plotly_chart(ofig, key="dp_overlay")

    # attacker's view
    a1, a2 = st.columns(2)
    prior = a1.slider(
        "Attacker's prior belief about one person", 0.01, 0.99, 0.5, 0.01, key="dp_prior"
    )
    post = dp_utility.posterior_bound(prior, epsilon=epsilon)
    a1.metric(
        "Largest posterior after the release",
        f"{post:.1%}",
        help="e^ε·p / (e^ε·p + 1 − p): how sure the attacker can become at most.",
    )
    if not is_numeric:
        k = max(2, candidates if query == "mode" else int(df[column].nunique(dropna=False)))
        a2.metric(
            "Randomized response: true value guessed",
            f"{dp_utility.rr_guess_rate(epsilon=epsilon, k=k):.1%}",
            help=f"Keep probability e^ε/(e^ε+k−1) with k = {k}; a blind guess: {1 / k:.1%}.",
        )

    # cost shown before running, then release
    ledger = _ledger(ds)
    if ledger is not None:
        try:
            after = ledger.preview(epsilon=epsilon, delta=delta)
            st.info(
                f"Releasing costs ε = {epsilon:g}, δ = {delta:g}. Total afterwards: "
                f"ε = {after.epsilon:.4g}, δ = {after.delta:.2g} ({after.method} composition) "
                f"of the budget ε = {ledger.total_epsilon:g}, δ = {ledger.total_delta:g}."
            )
        except PrivLensError as exc:
            show_error(exc)
    if st.button(
        "Release (spends budget)", key="dp_release", type="primary", disabled=ledger is None
    ):
        assert ledger is not None
        try:
            new_ledger = ledger.spend(f"{query} of {column}", epsilon=epsilon, delta=delta)
            result = dp.release(
                df,
                column,
                query=query,
                epsilon=epsilon,
                mechanism=mechanism,
                delta=delta,
                lower=lower,
                upper=upper,
                bins=bins,
                q=q,
                categories=categories,
                domain=domain,
            )
        except PrivLensError as exc:
            show_error(exc)
        else:
            st.session_state["dp_ledgers"][ds] = new_ledger
            st.session_state["dp_last"] = result
            st.rerun()

    microdata_section(epsilon)


# label, y-axis title, log y?, curve columns with their legend names
MD_PANELS = (
    ("Numeric: MAE and RMSE", "error (column units)", True, (("mae", "MAE"), ("rmse", "RMSE"))),
    (
        "Numeric: relative error",
        "MAE / mean |value|",
        True,
        (("relative_error", "relative error"),),
    ),
    (
        "Categorical: total-variation distance",
        "TV distance of shares",
        False,
        (("tv_distance", "TV distance"),),
    ),
    (
        "Correlation matrices: mean |change|",
        "mean |Δ correlation|",
        False,
        (("pearson", "Pearson"), ("spearman", "Spearman"), ("kendall", "Kendall τ-b")),
    ),
)
MD_DASHES = ("solid", "dash", "dot")


def microdata_figure(md: dp_utility.MicrodataCurve, epsilon: float) -> go.Figure:
    """Small multiples of the microdata measures against ε, with the current ε marked."""
    t = md.table
    panels = [p for p in MD_PANELS if any(t[c].notna().any() for c, _ in p[3])]
    rows = (len(panels) + 1) // 2
    fig = make_subplots(
        rows=rows,
        cols=2,
        subplot_titles=[p[0] for p in panels],
        horizontal_spacing=0.12,
        vertical_spacing=0.22 if rows > 1 else 0.1,
    )
    colour = 0
    for i, (_, ytitle, log_y, series) in enumerate(panels):
        r, c = i // 2 + 1, i % 2 + 1
        for j, (col, name) in enumerate(series):
            fig.add_trace(
                go.Scatter(
                    x=t["epsilon"],
                    y=t[col],
                    name=name,
                    mode="lines+markers",
                    line={"color": OKABE_ITO[colour % len(OKABE_ITO)], "dash": MD_DASHES[j]},
                ),
                row=r,
                col=c,
            )
            colour += 1
        fig.update_xaxes(type="log", title_text="ε per value (log scale)", row=r, col=c)
        fig.update_yaxes(type="log" if log_y else "linear", title_text=ytitle, row=r, col=c)
        fig.add_vline(x=epsilon, line=MARKER, row=r, col=c)
    sample = (
        f"a uniform sample of {md.rows_used:,} of {md.rows_total:,} rows"
        if md.sampled
        else f"all {md.rows_total:,} rows"
    )
    fig.update_layout(
        title=f"Microdata release: distortion against ε (simulated on {sample}), ε = {epsilon:g}",
        height=330 * rows + 80,
        margin={"t": 90, "b": 40},
        legend={"orientation": "h", "y": -0.08},
    )
    return fig


def microdata_section(epsilon: float) -> None:
    """Utility of a per-record (local DP) release of chosen columns, against ε."""
    st.subheader("Microdata release: noise on every record")
    st.caption(
        "Instead of one noisy answer, every record gets its own noise: numeric values are "
        "clamped to [L, U] and get Laplace noise of scale (U − L)/ε, categories go through "
        "randomized response. ε here is spent per record and per column, so a record with m "
        "noised columns is protected at m·ε. The curve is a seeded simulation, never a release."
    )
    others = [c for c in df.columns if c not in numeric_cols]
    k1, k2 = st.columns(2)
    md_numeric = k1.multiselect(
        "Numeric columns (clamped, per-record Laplace noise)", numeric_cols, key="dp_md_numeric"
    )
    md_categorical = k2.multiselect(
        "Categorical columns (randomized response)", others, key="dp_md_categorical"
    )
    if not md_numeric and not md_categorical:
        st.info("Pick columns above to see how a per-record release distorts them at each ε.")
        return
    bounds = []
    for c in md_numeric:
        st.session_state.setdefault(f"dp_md_lower_{c}", 0.0)
        st.session_state.setdefault(f"dp_md_upper_{c}", 100.0)
        l1, l2 = st.columns(2)
        lo = l1.number_input(f"Lower bound of '{c}'", key=f"dp_md_lower_{c}")
        hi = l2.number_input(f"Upper bound of '{c}'", key=f"dp_md_upper_{c}")
        bounds.append((c, float(lo), float(hi)))
    if md_numeric:
        st.button(
            "Suggest these bounds from the data",
            key="dp_md_suggest",
            on_click=_suggest_md_bounds,
            args=(df, md_numeric),
            help="Fills in each column's minimum and maximum, with a warning: they leak.",
        )
        from_data = st.session_state.get("dp_md_bounds_from_data", {})
        leaked = [c for c, lo, hi in bounds if from_data.get(c) == (lo, hi)]
        if leaked:
            st.warning(
                f"The bounds of {len(leaked)} column(s) ({md_list(leaked)}) are their actual "
                "minimum and maximum: real values of real records, **not** protected by "
                "differential privacy. Round them out to values anyone could have guessed "
                "before releasing."
            )
    try:
        md = _md_curve(df, ds, tuple(bounds), tuple(md_categorical))
    except PrivLensError as exc:
        show_error(exc)
        return
    if md.sampled:
        st.caption(
            f"Estimated on a uniform random sample of {md.rows_used:,} of the "
            f"{md.rows_total:,} rows (seeded), so the curve costs the same for any table size; "
            f"its sampling error is of the order of 1/√{md.rows_used:,}."
        )
    st.plotly_chart(microdata_figure(md, epsilon), key="dp_md_curve")
    show_warnings(md.warnings)
    with st.expander("The figures behind the curve"):
        st.dataframe(
            md.table.rename(
                columns={
                    "epsilon": "ε",
                    "mae": "MAE",
                    "rmse": "RMSE",
                    "relative_error": "relative error",
                    "tv_distance": "TV distance",
                    "pearson": "Δ Pearson",
                    "spearman": "Δ Spearman",
                    "kendall": "Δ Kendall",
                }
            ),
            hide_index=True,
        )


live_panel()

# --- last release and the ledger ---------------------------------------------------------------
last = st.session_state.get("dp_last")
if last is not None:
    st.subheader("Last release")
    if isinstance(last.value, np.ndarray):
        st.dataframe(pd.DataFrame({"bin": last.labels, "noisy count": last.value}), hide_index=True)
        st.write(f"Each count ±{last.half_width:g} at 95% ({last.half_width_unit}).")
    else:
        shown = last.value if isinstance(last.value, str) else f"{last.value:,.6g}"
        st.metric(
            f"{last.query} ({last.mechanism})",
            shown,
            help=f"95% error half-width ±{last.half_width:.4g} {last.half_width_unit}",
        )
        st.write(f"95% interval half-width: ±{last.half_width:.4g} {last.half_width_unit}.")
    st.caption(
        f"Mechanism {last.mechanism}, scale {last.scale:.4g}, sensitivity {last.sensitivity:.4g}, "
        f"neighbours: {last.neighbours}; secure noise: {'yes' if last.secure else 'NO'}."
        + (f" Categories: {DOMAIN_LABELS[last.domain].lower()}." if last.domain else "")
    )
    show_warnings(last.warnings)

st.subheader("Privacy budget")
ledger = _ledger(ds)
if ledger is None:
    g1, g2, g3 = st.columns(3)
    total_eps = g1.number_input("Total ε for this dataset", 0.01, 100.0, 3.0, key="dp_total_eps")
    total_delta = g2.number_input(
        "Total δ", 0.0, limits.DELTA_MAX, 1e-6, format="%.1e", key="dp_total_delta"
    )
    g3.write("")
    if g3.button("Start the budget", key="dp_start"):
        try:
            st.session_state["dp_ledgers"][ds] = Ledger(
                total_epsilon=total_eps, total_delta=total_delta
            )
        except PrivLensError as exc:
            show_error(exc)
        else:
            st.rerun()
    st.caption("Set a budget before the first release; every release spends from it.")
else:
    comp = ledger.composition()
    st.write(
        f"Spent: ε = {comp.epsilon:.4g}, δ = {comp.delta:.2g} ({comp.method} composition; "
        f"basic sum ε = {comp.basic_epsilon:.4g}) of ε = {ledger.total_epsilon:g}, "
        f"δ = {ledger.total_delta:g}. Remaining ε: {ledger.remaining_epsilon:.4g}."
    )
    if ledger.entries:
        st.dataframe(
            pd.DataFrame(
                [{"release": e.label, "ε": e.epsilon, "δ": e.delta} for e in ledger.entries]
            ),
            hide_index=True,
        )

with st.expander("Accuracy target: which ε gives ±x at 95%?"):
    target = st.number_input(
        f"Target half-width ({curve.unit})", min_value=0.0, value=0.0, key="dp_target"
    )
    if target > 0:
        try:
            eps_needed = dp_utility.epsilon_for_half_width(
                target,
                mechanism=mechanism,
                sensitivity=sensitivity,
                delta=delta,
                candidates=candidates,
            )
        except PrivLensError as exc:
            show_error(exc)
        else:
            st.success(f"ε = {eps_needed:.4g} gives ±{target:g} at 95% confidence.")
