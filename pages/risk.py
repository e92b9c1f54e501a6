"""Re-identification risk: who could be re-identified, how likely, which columns are to blame."""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from core import limits, risk, suda
from core.attribute_risk import AttributeRisk, attribute_risks, l_diversity_counts
from core.errors import PrivLensError
from core.household_risk import household_risk
from core.roles import Role
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.state import dataset_id, require_dataset, role_columns
from ui.text import md, md_list, plot_labels

ensure_routed()  # a deep link right after start-up must still go through app.py

# Population presets (resident population, rounded, national statistics offices).
POPULATIONS = {
    "Custom": None,
    "USA (2020 census)": 331_449_281,
    "Germany (2022)": 83_200_000,
    "United Kingdom (2021)": 67_000_000,
    "France (2023)": 68_000_000,
    "Canada (2021 census)": 36_991_981,
    "European Union (2023)": 448_400_000,
}
RISK_BANDS = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]


def _progress_bar(label: str) -> tuple[Any, Callable[[float], None]]:
    """A progress bar and its callback (at most 20 updates); empty the bar when done."""
    bar, shown = st.progress(0.0, label), [0]

    def step(done: float) -> None:
        if int(20 * done) > shown[0]:
            shown[0] = int(20 * done)
            bar.progress(min(done, 1.0), label)

    return bar, step


@st.cache_data(max_entries=8, show_spinner="Grouping records into classes…")
def _classes(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str):  # noqa: ANN202
    if missing != "wildcard":
        return risk.equivalence_classes(_df, list(qis), missing=missing)
    bar, step = _progress_bar("Matching missing values…")  # can take a while
    ec = risk.equivalence_classes(_df, list(qis), missing=missing, progress=step)
    bar.empty()
    return ec


@st.cache_data(max_entries=16, show_spinner="Computing risk measures…")
def _summary(  # noqa: ANN202
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    missing: str,
    threshold: float,
    pi: float | None,
    weight: str | None,
):
    ec = _classes(_df, ds, qis, missing)
    # weights under the wildcard rule take a second matching pass: show its progress
    bar, step = (
        _progress_bar("Summing weights over wildcard matches…")
        if missing == "wildcard" and weight is not None
        else (None, None)
    )
    out = risk.risk_summary(
        _df,
        list(qis),
        missing=missing,
        threshold=threshold,
        sampling_fraction=pi,
        weight_column=weight,
        classes=ec,
        progress=step,
    )
    if bar is not None:
        bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner="Measuring attribute disclosure…")
def _attributes(  # noqa: ANN202
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, sensitive: tuple[str, ...]
):
    return attribute_risks(_df, _classes(_df, ds, qis, missing), list(sensitive))


@st.cache_data(max_entries=8, show_spinner="Counting distinct values per class…")
def _l_counts(  # noqa: ANN202
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, sensitive: tuple[str, ...]
):
    ec = _classes(_df, ds, qis, missing)
    return [l_diversity_counts(_df, ec, s) for s in sensitive]


@st.cache_data(max_entries=8, show_spinner="Combining risks within households…")
def _household(  # noqa: ANN202
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    missing: str,
    hid: str,
    pi: float | None,
    weight: str | None,
):
    ec = _classes(_df, ds, qis, missing)
    bar, step = (
        _progress_bar("Summing weights over wildcard matches…")
        if missing == "wildcard" and weight is not None
        else (None, None)
    )
    out = household_risk(_df, ec, hid, weight_column=weight, sampling_fraction=pi, progress=step)
    if bar is not None:
        bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner="Leaving each column out in turn…")
def _contributions(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str):  # noqa: ANN202
    if missing != "wildcard":
        return risk.qi_contributions(_df, list(qis), missing=missing)
    bar, step = _progress_bar(f"Leaving each column out ({len(qis) + 1} wildcard passes)…")
    out = risk.qi_contributions(_df, list(qis), missing=missing, progress=step)
    bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner="Scoring column subsets…")
def _subsets(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], size: int):  # noqa: ANN202
    return risk.subset_scores(_df, list(qis), max_size=size)


@st.cache_data(max_entries=8, show_spinner="Fitting population models…")
def _population_curve(  # noqa: ANN202
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, fractions: tuple[float, ...]
):
    ec = _classes(_df, ds, qis, missing)
    return [risk.population_uniqueness(ec, sampling_fraction=f) for f in fractions]


@st.cache_data(max_entries=8, show_spinner="Searching minimal sample uniques (SUDA2)…")
def _suda(  # noqa: ANN202
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    max_size: int,
    dis_fraction: float,
    missing: str,
):
    return suda.suda2(_df, list(qis), max_size=max_size, dis_fraction=dis_fraction, missing=missing)


def _fmt_pct(x: float) -> str:
    return f"{100 * x:.2f} %"


st.title("Re-identification risk")
st.caption(
    "If this table were released, who could be re-identified, how likely, and which "
    "columns are to blame? Pick the columns an attacker could know (quasi-identifiers)."
)
df = require_dataset()
ds = dataset_id()
columns = list(df.columns)
identifiers = [c for c in role_columns(Role.IDENTIFIER) if c in columns]
default_qi = [c for c in role_columns(Role.QUASI_IDENTIFIER) if c in columns]
default_sa = [c for c in role_columns(Role.SENSITIVE) if c in columns and c not in default_qi]

with st.container(border=True):
    c1, c2 = st.columns(2)
    qis = c1.multiselect(
        "Quasi-identifiers",
        columns,
        default=default_qi,
        key=f"risk_qi_{ds}",
        help="Columns an attacker could link to another source. Defaults to the roles set "
        "on the Data page.",
    )
    sensitive = c2.multiselect(
        "Sensitive attributes",
        [c for c in columns if c not in qis],
        default=[c for c in default_sa if c not in qis],
        key=f"risk_sa_{ds}",
        help="Attributes whose disclosure harms (l-diversity, t-closeness, ...).",
    )
    c3, c4, c5 = st.columns(3)
    missing = c3.radio(
        "Missing values",
        ["category", "wildcard"],
        format_func=lambda v: {
            "category": "Own category (ARX)",
            "wildcard": "Match any value (sdcMicro)",
        }[v],
        key="risk_missing",
        help="ARX treats a missing value as one more value; sdcMicro lets it match any "
        "value, which raises f_k of every record it could be confused with.",
    )
    threshold = c4.number_input(
        "Risk threshold t",
        min_value=0.001,
        max_value=1.0,
        value=limits.RISK_THRESHOLD_DEFAULT,
        step=0.01,
        format="%.3f",
        key="risk_threshold",
        help="A record is at risk when its prosecutor risk 1/f_k exceeds t "
        "(0.2 flags classes smaller than 5, 0.5 classes smaller than 2).",
    )
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(df[c]) and c not in qis]
    weight = c5.selectbox(
        "Sampling weight column",
        [None, *numeric],
        format_func=lambda v: "None (constant weight 1/π)" if v is None else v,
        key="risk_weight",
        help="sdcMicro's individual risk uses F_k = sum of the weights in a record's class. "
        "Without a weight column the constant 1/π of the population model is used.",
    )
    with st.expander("Population model", expanded=False):
        p1, p2 = st.columns(2)
        use_population = p1.toggle(
            "The table is a sample of a larger population",
            key="risk_is_sample",
            help="Off: the table is the whole population (π = 1).",
        )
        pi: float | None = None
        if use_population:
            mode = p1.radio(
                "Describe it by",
                ["Sampling fraction", "Population size"],
                key="risk_pop_mode",
                horizontal=True,
            )
            if mode == "Sampling fraction":
                pi = p2.number_input(
                    "Sampling fraction π",
                    min_value=1e-6,
                    max_value=1.0,
                    value=0.01,
                    format="%.6f",
                    key="risk_pi",
                )
            else:
                preset = p2.selectbox("Region preset", list(POPULATIONS), key="risk_region")
                size = p2.number_input(
                    "Population size N",
                    min_value=len(df),
                    value=int(POPULATIONS[preset] or max(len(df) * 100, 1)),
                    step=1000,
                    key=f"risk_pop_{preset}",
                )
                pi = len(df) / float(size)
                p2.caption(f"Sampling fraction π = n / N = {pi:.3g}")

if not qis:
    st.info("Pick at least one quasi-identifier to measure the risk.")
    st.stop()

key = tuple(qis)
try:
    summary = _summary(df, ds, key, missing, float(threshold), pi, weight)
    attrs: tuple[AttributeRisk, ...] = (
        _attributes(df, ds, key, missing, tuple(sensitive)) if sensitive else ()
    )
except PrivLensError as exc:
    show_error(exc)
    st.stop()

show_warnings(summary.warnings)

# --- headline cards ------------------------------------------------------------------------
row1 = st.columns(4)
row1[0].metric(
    "k (k-anonymity)",
    f"{summary.k:,}",
    help="k = min over records of f_k, the number of records sharing its quasi-identifier "
    "values (Sweeney). Missing values: "
    + ("own category (ARX)." if missing == "category" else "wildcards (sdcMicro freqCalc)."),
)
row1[1].metric(
    "Equivalence classes",
    f"{summary.n_classes:,}",
    help="Distinct quasi-identifier combinations (missing values as a token). Class sizes add "
    "up to the number of rows: no row is dropped.",
)
row1[2].metric(
    "Sample uniques",
    f"{summary.sample_uniques:,}",
    f"{summary.share(summary.sample_uniques):.2f} % of records",
    delta_color="off",
    help="Records with f_k = 1. sdcMicro prints these as violating 2-anonymity; "
    f"< 3: {summary.below_3:,} ({summary.share(summary.below_3):.2f} %), "
    f"< 5: {summary.below_5:,} ({summary.share(summary.below_5):.2f} %).",
)
row1[3].metric(
    "Records at risk",
    f"{summary.prosecutor.records_at_risk:,}",
    f"{_fmt_pct(summary.prosecutor.share_at_risk)} above t = {summary.prosecutor.threshold:g}",
    delta_color="off",
    help="ARX: (sum of f_j over classes with 1/f_j > t) / n; prosecutor model.",
)
row2 = st.columns(4)
row2[0].metric(
    "Highest prosecutor risk",
    _fmt_pct(summary.prosecutor.highest),
    help="1/k: the attacker knows the target is in the table (ARX prosecutor model).",
)
row2[1].metric(
    "Average prosecutor risk",
    _fmt_pct(summary.prosecutor.average),
    help="(1/n) sum over records of 1/f_k = classes / n (ARX). Marketer risk "
    f"(1/n) sum f_j/F_j with F_j = f_j/π: {_fmt_pct(summary.marketer)}.",
)
row2[2].metric(
    "Expected re-identifications",
    f"{summary.individual.expected_reidentifications:,.1f}",
    f"{_fmt_pct(summary.individual.expected_share)} of records",
    delta_color="off",
    help="sdcMicro: sum of the individual risks r_k (Franconi-Polettini approximation, "
    "p_k = f_k/F_k; f_k = 1: p/(1-p) ln(1/p); f_k = 2: p/(1-p) - (p/(1-p))^2 ln(1/p); "
    "f_k > 2: p/(f_k-(1-p)); F_k = f_k: 1/f_k).",
)
if summary.journalist is not None:
    jr = risk.journalist_records_at_risk(
        _classes(df, ds, key, missing), threshold=float(threshold), sampling_fraction=pi
    )
    row2[3].metric(
        "Journalist risk",
        _fmt_pct(summary.journalist),
        f"{jr.records_at_risk:,} records at risk",
        delta_color="off",
        help="max over classes of 1/F_j with F_j = f_j/π (El Emam): the target need not "
        "be in the table. Records at risk (ARX): records in classes with π/f_j above t.",
    )
else:
    row2[3].metric(
        "Journalist risk",
        "—",
        help="Needs a population model (expand 'Population model' above).",
    )
row3 = st.columns(4)
if attrs:
    worst_l = min(attrs, key=lambda a: a.distinct_l)
    worst_t = max(attrs, key=lambda a: a.t_closeness)
    row3[0].metric(
        "l (distinct l-diversity)",
        f"{worst_l.distinct_l}",
        help="min over classes and sensitive attributes of the number of distinct values "
        f"(Machanavajjhala et al.); lowest for '{md(worst_l.column)}'. A missing value counts "
        "as a value.",
    )
    row3[1].metric(
        "t (t-closeness)",
        f"{worst_t.t_closeness:.4f}",
        help="max over classes of the Earth Mover's Distance to the whole table (Li et al.): "
        "equal distance for categories, ordered distance for numbers; highest for "
        f"'{md(worst_t.column)}'.",
    )
    row3[2].metric(
        "Entropy l",
        f"{min(a.entropy_l for a in attrs):.3f}",
        help="min over classes of exp(H), H = -sum q ln q (a float; pyCANON floors it).",
    )
    row3[3].metric(
        "δ-disclosure",
        f"{max(a.delta_disclosure for a in attrs):.3f}",
        help="max |ln(q/p)| (natural log) over classes and the values present in them.",
    )
    table = pd.DataFrame(
        [
            {
                "attribute": a.column,
                "distinct l": a.distinct_l,
                "entropy l": round(a.entropy_l, 4),
                f"recursive c (l={a.recursive_l})": a.recursive_c,
                "t-closeness": round(a.t_closeness, 4),
                "distance": "ordered" if a.ordered else "equal",
                "δ (ln)": round(a.delta_disclosure, 4),
                "basic β": round(a.beta_likeness, 4),
                "enhanced β": round(a.enhanced_beta_likeness, 4),
            }
            for a in attrs
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
    st.caption(
        "Enhanced β (Cao & Karras; ARX): the smallest β with (q - p)/p ≤ min(β, -ln p) for "
        "every value more frequent in a class than in the table; ∞ when no β is enough."
    )
    counts = _l_counts(df, ds, key, missing, tuple(a.column for a in attrs))
    st.dataframe(
        pd.DataFrame(
            [
                {"attribute": c.column, "distinct l of the class": int(v), "records": int(r)}
                for c in counts
                for v, r in zip(c.l_values, c.records, strict=True)
            ]
        ),
        hide_index=True,
        width="stretch",
        height=180,
    )
    for a in attrs:
        show_warnings(a.warnings)
else:
    st.caption("Pick a sensitive attribute to see l-diversity, t-closeness, δ and β.")

with st.expander("Household risk (sdcMicro)"):
    hid = st.selectbox(
        "Household ID column",
        [None, *[c for c in columns if c not in qis]],
        format_func=lambda v: "None" if v is None else v,
        key="risk_household",
        help="Members of a household can be re-identified through one another: household "
        "risk = 1 - prod(1 - r_i) over its members, r_i the individual risk (sdcMicro "
        "measure_risk with hid, hier_risk_ER = sum over records).",
    )
    if hid is not None:
        try:
            hr = _household(df, ds, key, missing, hid, pi, weight)
        except PrivLensError as exc:
            show_error(exc)
        else:
            st.metric(
                "Expected re-identifications (households)",
                f"{hr.expected_reidentifications:,.1f}",
                f"{_fmt_pct(hr.share)} of records, {hr.n_households:,} households",
                delta_color="off",
                help="sdcMicro hier_risk_ER: sum over records of their household's risk.",
            )

# --- distributions -------------------------------------------------------------------------
ec = _classes(df, ds, key, missing)
left, right = st.columns(2)
sizes, counts = risk.class_size_histogram(ec)
fig = go.Figure(go.Bar(x=sizes, y=counts, hovertemplate="size %{x}: %{y} classes"))
fig.update_layout(
    title="Class sizes",
    xaxis_title="records in the class (f_k)",
    yaxis_title="classes",
    yaxis_type="log",
    xaxis_type="log" if sizes.max() > 50 else "linear",
    height=340,
    margin=dict(t=40, b=10),
)
left.plotly_chart(fig, key="risk_hist")
bands = pd.cut(
    summary.prosecutor.record_risk,
    RISK_BANDS,
    labels=[f"{a:.0%}–{b:.0%}" for a, b in zip(RISK_BANDS[:-1], RISK_BANDS[1:], strict=True)],
    include_lowest=True,
)
band_counts = pd.Series(bands).value_counts(sort=False)
fig = px.bar(
    x=band_counts.index.astype(str),
    y=100 * band_counts.to_numpy() / summary.n,
    labels={"x": "prosecutor risk 1/f_k", "y": "% of records"},
    title="Records by risk band",
)
fig.update_layout(height=340, margin=dict(t=40, b=10))
right.plotly_chart(fig, key="risk_bands")

# --- riskiest records ----------------------------------------------------------------------
st.subheader("Riskiest records")
rows = limits.RISK_TABLE_ROWS
order = np.lexsort((-summary.individual.record_risk, -summary.prosecutor.record_risk))[:rows]
shown = [c for c in columns if c not in identifiers]
top = df.iloc[order][shown].copy()
top.insert(0, "prosecutor risk", summary.prosecutor.record_risk[order])
top.insert(1, "f_k", summary.individual.fk[order])
top.insert(2, "individual risk", summary.individual.record_risk[order])
st.dataframe(top, width="stretch", height=300)
st.caption(
    f"The {rows} records with the highest risk."
    + (f" Direct identifiers hidden: {md_list(identifiers)}." if identifiers else "")
)

# --- which columns drive the risk ----------------------------------------------------------
st.subheader("Which columns drive the risk")


def _on_demand(where: Any, label: str, key: str, cost: str, eager: bool) -> bool:
    """Eager on small tables; on large ones a switch, with what it costs, starts the work."""
    if eager:
        return True
    on = where.toggle(label, key=key, help=cost)
    if not on:
        where.caption(f"Off to keep this large table interactive. {cost}")
    return on


@st.fragment
def _drivers(df: pd.DataFrame, ds: str, key: tuple[str, ...], missing: str) -> None:
    """Leave-one-out and subset scores; their own widgets rerun only this section."""
    qis = list(key)
    eager = len(df) * len(qis) <= limits.RISK_EAGER_CELLS
    # A switch belongs to one choice of columns (and policy or size): changing the choice
    # turns it off, so no later widget change silently starts the costly work again.
    choice = zlib.crc32("\x1f".join([ds, *qis]).encode())
    lc, rc = st.columns(2)
    if len(qis) < 2:
        lc.caption("Leave-one-out needs at least two quasi-identifiers.")
    elif _on_demand(
        lc,
        "Leave each column out",
        f"risk_loo_on_{choice}_{missing}",
        f"Regroups all {len(df):,} rows once per quasi-identifier ({len(qis)} passes).",
        eager,
    ):
        contrib = _contributions(df, ds, key, missing)
        cdf = pd.DataFrame(
            {
                "column": plot_labels(c.column for c in contrib),
                "uniques removed when left out": [c.uniques_removed for c in contrib],
                "k without it": [c.k_without for c in contrib],
            }
        ).sort_values("uniques removed when left out", ascending=False)
        fig = px.bar(
            cdf,
            x="uniques removed when left out",
            y="column",
            orientation="h",
            hover_data=["k without it"],
            title="Sample uniques that disappear without each column",
        )
        fig.update_layout(height=340, margin=dict(t=40, b=10), yaxis={"autorange": "reversed"})
        lc.plotly_chart(fig, key="risk_contrib")
    max_size = (
        rc.slider(
            "Largest subset size",
            1,
            max(1, min(len(qis), limits.RISK_SUBSET_SIZE_MAX)),
            value=min(2, len(qis)),
            key="risk_subset_size",
            help="ARX's view: distinction = distinct combinations / n; separation = share of "
            "record pairs that differ on the subset.",
        )
        if len(qis) > 1
        else 1
    )
    n_subsets = sum(math.comb(len(qis), s) for s in range(1, int(max_size) + 1))
    if not _on_demand(
        rc,
        "Score column subsets",
        f"risk_subsets_on_{choice}_{int(max_size)}",
        f"Groups all {len(df):,} rows once per subset ({n_subsets} subsets of up to "
        f"{int(max_size)} columns).",
        eager,
    ):
        return
    try:
        subsets = _subsets(df, ds, key, int(max_size))
    except PrivLensError as exc:
        show_error(exc, rc)
        subsets = ()
    if subsets:
        sdf = pd.DataFrame(
            {
                "subset": [" + ".join(plot_labels(s.columns)) for s in subsets],
                "size": [len(s.columns) for s in subsets],
                "distinction": [s.distinction for s in subsets],
                "separation": [s.separation for s in subsets],
            }
        )
        fig = px.scatter(
            sdf,
            x="separation",
            y="distinction",
            color="size",
            hover_name="subset",
            title="Distinction vs separation of QI subsets",
        )
        fig.update_layout(height=340, margin=dict(t=40, b=10))
        rc.plotly_chart(fig, key="risk_subsets")


_drivers(df, ds, key, missing)

# --- special uniques (SUDA2) ---------------------------------------------------------------
st.subheader(
    "Special uniques (SUDA2)",
    help="A minimal sample unique (MSU) is a smallest set of quasi-identifiers on which a "
    "record is the only one with its values. Records unique on few columns are the easiest "
    "to single out (Elliot et al.; SUDA2 search by Manning, Haglin & Keane).",
)

# Okabe-Ito blue: distinguishable under the common colour-vision deficiencies.
SUDA_COLOUR = "#0072B2"


@st.fragment
def _special_uniques(
    df: pd.DataFrame, ds: str, key: tuple[str, ...], missing: str, pi: float | None
) -> None:
    """SUDA2 scores and per-column contributions; its widgets rerun only this section."""
    q = len(key)
    largest = max(
        m for m in range(1, q + 1) if suda.suda_subset_count(q, m) <= limits.SUDA_MAX_SUBSETS
    )
    c1, c2, c3 = st.columns(3)
    max_size = (
        c1.slider(
            "Largest MSU size",
            1,
            largest,
            value=min(limits.SUDA_MAX_SIZE_DEFAULT, largest),
            key="risk_suda_size",
            help="Column sets of up to this size are searched. sdcMicro searches every size; "
            "a smaller cap is faster and gives a lower bound of each score. An MSU of size k "
            f"weighs (q - k)! with q = {q} quasi-identifiers.",
        )
        if largest > 1
        else 1
    )
    suda_missing = c2.radio(
        "Missing values in MSUs",
        ["category", "ignore"],
        index=0 if missing == "category" else 1,
        format_func=lambda v: {
            "category": "A value like any other",
            "ignore": "Never part of an MSU (sdcMicro)",
        }[v],
        key="risk_suda_missing",
        help="sdcMicro's suda2 keeps a missing value out of every MSU; it matches no "
        "observed value. As a value, the only record missing a column is unique on it.",
    )
    dis_fraction = c3.number_input(
        "DIS sampling fraction π",
        min_value=1e-6,
        max_value=1.0,
        value=float(pi) if pi is not None else limits.SUDA_DIS_FRACTION_DEFAULT,
        format="%.6f",
        key="risk_suda_pi",
        help="Share of the population in this table, for the DIS estimate "
        "(sdcMicro's DisFraction, default 0.01; the population model above, if set).",
    )
    n_subsets = suda.suda_subset_count(q, int(max_size))
    cost = (
        f"Counts the distinct patterns of all {len(df):,} rows once per column subset "
        f"({n_subsets} subsets of up to {int(max_size)} columns)."
    )
    eager = len(df) * n_subsets <= limits.SUDA_EAGER_WORK
    if not _on_demand(st, "Search special uniques", "risk_suda_on", cost, eager):
        return
    try:
        res = _suda(df, ds, key, int(max_size), float(dis_fraction), suda_missing)
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(res.warnings)
    m1, m2, m3, m4 = st.columns(4)
    m1.metric(
        "Special uniques",
        f"{res.special_uniques:,}",
        f"of {res.sample_uniques:,} sample uniques",
        delta_color="off",
        help="Records with at least one MSU of at most the chosen size. Only records unique "
        "on all quasi-identifiers can have one.",
    )
    m2.metric(
        "MSUs found",
        f"{res.n_msus:,}",
        help="Number of (record, minimal column set) pairs found.",
    )
    m3.metric(
        "Highest SUDA score",
        f"{res.score.max():,.0f}",
        help="SUDA score of a record = sum over its MSUs of (q - k)!, k = MSU size "
        "(Elliot et al. 2002; sdcMicro suda2, original_scores = TRUE).",
    )
    m4.metric(
        "File-level DIS",
        f"{res.dis:.4f}",
        help="Probability that a unique match is correct (Skinner & Elliot 2002): "
        "U π / (U π + P (1 - π)), U = sample uniques, P = records in pairs. Each record's "
        "DIS-SUDA score shares it out by SUDA score, as sdcMicro does.",
    )
    left, right = st.columns(2)
    contrib = pd.DataFrame(
        {"column": plot_labels(res.quasi_identifiers), "share": list(res.attribute_contribution)}
    ).sort_values("share", ascending=False)
    fig = px.bar(
        contrib,
        x="share",
        y="column",
        orientation="h",
        labels={"share": "share of the total SUDA score (%)", "column": "quasi-identifier"},
        title="Contribution of each column to the SUDA scores",
        color_discrete_sequence=[SUDA_COLOUR],
    )
    fig.update_layout(height=340, margin=dict(t=40, b=10), yaxis={"autorange": "reversed"})
    left.plotly_chart(fig, key="risk_suda_contrib")
    left.caption(
        "sdcMicro's attribute contribution: 100 × (score of the MSUs holding the column) / "
        "(total score). An MSU counts for each of its columns, so the bars can add up to more "
        "than 100 %."
    )
    order = np.argsort(-res.score, kind="stable")[: limits.RISK_TABLE_ROWS]
    order = order[res.score[order] > 0]
    identifiers = [c for c in role_columns(Role.IDENTIFIER) if c in df.columns]
    shown = [c for c in df.columns if c not in identifiers]
    top = df.iloc[order][shown].copy()
    top.insert(0, "SUDA score", res.score[order])
    top.insert(1, "DIS-SUDA score", res.dis_score[order])
    top.insert(2, "smallest MSU size", (res.msu_counts[order] > 0).argmax(axis=1) + 1)
    right.dataframe(top, width="stretch", height=340, key="risk_suda_table")
    right.caption(
        f"The {len(order)} records with the highest SUDA score (records with no MSU left out)."
        + (f" Direct identifiers hidden: {md_list(identifiers)}." if identifiers else "")
    )


_special_uniques(df, ds, key, missing, pi)

# --- population model ----------------------------------------------------------------------
st.subheader("Population uniqueness")
fractions = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
try:
    curve = _population_curve(df, ds, key, missing, fractions)
except PrivLensError as exc:
    show_error(exc)
    st.stop()
pdf = pd.DataFrame(
    [
        {
            "sampling fraction": f,
            "model": name,
            "population uniques (% of N)": 100 * v / c.population_size,
        }
        for f, c in zip(fractions, curve, strict=True)
        for name, v in (
            ("Zayatz", c.zayatz),
            ("Pitman", c.pitman),
            ("SNB", c.snb),
            ("Dankar", c.dankar),
        )
        if v is not None and math.isfinite(v)
    ]
)
if pdf.empty:
    st.caption("No estimator converged on this class-size histogram.")
else:
    fig = px.line(
        pdf,
        x="sampling fraction",
        y="population uniques (% of N)",
        color="model",
        markers=True,
        log_x=True,
        title="Estimated population uniques against the sampling fraction",
    )
    if pi is not None:
        fig.add_vline(x=pi, line_dash="dot", annotation_text="your π")
    fig.update_layout(height=360, margin=dict(t=40, b=10))
    st.plotly_chart(fig, key="risk_population")
st.caption(
    "Zayatz (1991) as ARX computes it; Pitman (Hoshino 2001, α < 0 allowed, as in ARX); SNB "
    "(Chen & Keller-McNulty 1998) from the moment equations of the shifted negative binomial "
    "as the model defines them. ARX 3.9.2 reports SNB as not available: its ModelSNB "
    "multiplies the second-moment equation by (1−d)^(α+2) instead of dividing by it and "
    "mis-parenthesises a term of the Shlosser estimate, so its SNB and PrivLens's differ. "
    "Dankar et al.'s rule: π ≤ 0.1 → Pitman, otherwise the smaller of Zayatz and SNB."
)
if pi is not None:
    pu = risk.population_uniqueness(ec, sampling_fraction=pi)
    st.metric(
        "Population uniques (Dankar rule)",
        f"{pu.dankar:,.0f}",
        f"{100 * pu.dankar_share:.4f} % of N, via {pu.dankar_model}",
        delta_color="off",
        help="Estimated number of records unique in the whole population.",
    )
    show_warnings(pu.warnings)
