"""Re-identification risk: who could be re-identified, how likely, which columns are to blame."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from core import limits, risk
from core.errors import PrivLensError
from core.policy import GUIDANCE
from core.roles import Role
from ui import large_data, state
from ui import risk_page as rp
from ui.charts import risk as charts
from ui.charts.risk import HELP
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.text import md_list

ensure_routed()  # a deep link right after start-up must still go through app.py

MISSING = {"category": "Own category (ARX)", "wildcard": "Match any value (sdcMicro)"}
bind, clamp, MODES = rp.bind, rp.clamp, rp.MODES

st.title("Re-identification risk")
st.caption(
    "If this table were released, who could be re-identified, how likely, and which "
    "columns are to blame? Pick the columns an attacker could know (quasi-identifiers)."
)
if large_data.active():  # a large dataset: the figures come from its engine
    large_data.risk_page()
    st.stop()
df = state.require_dataset()
ds, n, columns = state.dataset_id(), len(df), [str(c) for c in df.columns]
kinds = state.workspace().dataset.kinds if state.workspace().dataset else {}
identifiers = [c for c in state.role_columns(Role.IDENTIFIER) if c in columns]
hidden = f" Direct identifiers hidden: {md_list(identifiers)}." if identifiers else ""
sync = lambda: rp.sync_fraction(n)  # noqa: E731

with st.container(border=True):
    qis = st.multiselect(
        "Quasi-identifiers", columns, wrap=True, help=HELP["qis"],
        **bind("quasi_identifiers", "risk_qi", options=columns, after=rp.reset_switches,
               initial="default"),
    )  # fmt: skip
    rest = [c for c in columns if c not in qis]
    sensitive = st.multiselect(
        "Sensitive attributes", rest, wrap=True, help=HELP["sensitive"],
        **bind("sensitive", "risk_sa", options=rest, initial="default"),
    )  # fmt: skip
    c1, c2 = st.columns(2)
    missing = c1.radio(
        "Missing values", list(MISSING), format_func=MISSING.get, help=HELP["missing"],
        **bind("options.missing", "risk_missing", default="category", options=list(MISSING),
               after=rp.reset_switches, initial="index"),
    )  # fmt: skip
    numeric = [
        c for c in rest
        if kinds.get(c, "decimal") in ("integer", "decimal")
        and pd.api.types.is_numeric_dtype(df[c])
    ]  # fmt: skip
    weight = c2.selectbox(
        "Sampling weight column", [None, *numeric], help=HELP["weight"],
        format_func=lambda v: "None (constant weight 1/π)" if v is None else v,
        **bind("weight_column", "risk_weight", options=[None, *numeric], initial="index"),
    )  # fmt: skip
    with st.expander("Population model", expanded=bool(state.get("risk.options.is_sample"))):
        p1, p2 = st.columns(2)
        pi: float | None = None
        if p1.toggle(
            "The table is a sample of a larger population",
            help="Off: the table is the whole population (π = 1).",
            **bind(
                "options.is_sample", "risk_is_sample", default=False, after=sync, initial="value"
            ),
        ):
            mode = p1.radio(
                "Describe it by", MODES, horizontal=True,
                **bind("options.population_mode", "risk_pop_mode", default=MODES[0],
                       options=MODES, after=sync, initial="index"),
            )  # fmt: skip
            if mode == MODES[0]:
                pi = p2.number_input(
                    "Sampling fraction π", min_value=1e-6, max_value=1.0, format="%.6f",
                    **bind("sampling_fraction", "risk_pi", default=0.01,
                           to_widget=clamp(1e-6, 1.0), initial="value"),
                )  # fmt: skip
            else:
                p2.selectbox(
                    "Region preset", list(rp.POPULATIONS),
                    **bind("options.region", "risk_region", default="Custom",
                           options=list(rp.POPULATIONS), after=lambda: rp.pick_region(n),
                           initial="index"),
                )  # fmt: skip
                size = p2.number_input(
                    "Population size N", min_value=n, max_value=10**12, step=1000,
                    **bind("population_size", "risk_pop", default=max(100 * n, 1),
                           to_widget=clamp(n, 10**12, int), after=sync, initial="value"),
                )  # fmt: skip
                pi = n / float(size)
                p2.caption(f"Sampling fraction π = n / N = {pi:.3g}")

with st.container(border=True):
    st.markdown("**Policy**: the thresholds this table must meet", help=HELP["policy"])
    g1, g2, g3, g4 = st.columns([2, 1, 1, 1])
    guidances = [*GUIDANCE, "Custom"]
    first: dict[str, int] = {}  # drawn anew: the matching guidance goes in its index
    if "risk_guidance" in st.session_state:
        st.session_state["risk_guidance"] = rp.guidance_now()
    else:
        first = {"index": guidances.index(rp.guidance_now())}
    g1.selectbox(
        "Start from published guidance", guidances, key="risk_guidance",
        on_change=rp.apply_guidance, args=("risk_guidance",), help=HELP["policy"], **first,
    )  # fmt: skip
    k_min = g2.number_input(
        "k at least", limits.K_MIN, limits.K_MAX, step=1,
        help="Every record shares its quasi-identifier values with at least k - 1 others.",
        **bind("k_threshold", "risk_k", to_widget=clamp(limits.K_MIN, limits.K_MAX, int),
               initial="value"),
    )  # fmt: skip
    max_risk = g3.number_input(
        "Highest risk at most", 0.001, 1.0, step=0.01, format="%.3f",
        help="Largest prosecutor risk 1/f_k of any record; also the threshold t of the "
        "records at risk.",
        **bind("max_risk", "risk_max", to_widget=clamp(0.001, 1.0), initial="value"),
    )  # fmt: skip
    avg_risk = g4.number_input(
        "Average risk at most", 0.001, 1.0, step=0.01, format="%.3f",
        help="Mean of the prosecutor risk 1/f_k over the records.",
        **bind("average_risk", "risk_avg", to_widget=clamp(0.001, 1.0), initial="value"),
    )  # fmt: skip

if not qis:
    st.info("Pick at least one quasi-identifier to measure the risk.")
    st.stop()

key, policy = tuple(qis), (int(k_min), float(max_risk), float(avg_risk))
try:
    summary = rp.summary(df, ds, key, missing, float(max_risk), pi, weight)
    verdict = rp.verdict(df, ds, key, missing, policy)
    attrs = rp.attributes(df, ds, key, missing, tuple(sensitive)) if sensitive else ()
except PrivLensError as exc:
    show_error(exc)
    st.stop()
show_warnings(summary.warnings)

passed = sum(r.passed for r in verdict.rules)
st.subheader(f"Verdict: {passed} of {len(verdict.rules)} rules pass", help=HELP["policy"])
for col, rule in zip(st.columns(3), verdict.rules, strict=True):
    ok, title, text = charts.rule_banner(rule)
    box = col.container(border=True)
    icon, colour = (":material/check_circle:", "green") if ok else (":material/cancel:", "red")
    box.badge(title, icon=icon, color=colour)
    box.caption(text)
measures = {
    "prosecutor risk": summary.prosecutor.record_risk,
    "f_k": summary.individual.fk,
    "individual risk": summary.individual.record_risk,
}
if verdict.n_failing:
    st.subheader("Records that fail the policy")
    st.markdown(
        f"**{verdict.n_failing:,}** of {n:,} records ({100 * verdict.n_failing / n:.2f} %) are "
        "in a class smaller than k or have a risk above the highest allowed."
    )
    order = verdict.failing[: limits.RISK_TABLE_ROWS]
else:
    st.subheader("Riskiest records")
    order = np.lexsort((-summary.individual.record_risk, -summary.prosecutor.record_risk))
    order = order[: limits.RISK_TABLE_ROWS]
st.dataframe(charts.record_table(df, order, identifiers, measures), width="stretch", height=300)
st.caption(f"{len(order)} records, riskiest first.{hidden}")

st.subheader("Measures")
jr = None if pi is None else rp.journalist_at_risk(df, ds, key, missing, max_risk, pi)
cards = charts.headline_cards(summary, MISSING[missing], jr)
rp.cards(cards[:4])
rp.cards(cards[4:])
if attrs:
    rp.cards(charts.attribute_cards(attrs))
    st.dataframe(charts.attribute_table(attrs), hide_index=True, width="stretch")
    st.caption(HELP["beta"])
    counts = rp.l_counts(df, ds, key, missing, tuple(a.column for a in attrs))
    st.dataframe(charts.l_table(counts), hide_index=True, width="stretch", height=180)
    for a in attrs:
        show_warnings(a.warnings)
else:
    st.caption("Pick a sensitive attribute to see l-diversity, t-closeness, δ and β.")

with st.expander("Household risk (sdcMicro)"):
    hid = st.selectbox(
        "Household ID column", [None, *rest], help=HELP["household"],
        format_func=lambda v: "None" if v is None else v,
        **bind("options.household", "risk_household", options=[None, *rest], initial="index"),
    )  # fmt: skip
    if hid is not None:
        try:
            hr = rp.household(df, ds, key, missing, hid, pi, weight)
        except PrivLensError as exc:
            show_error(exc)
        else:
            rp.cards([charts.household_card(hr)], [st])

ec = rp.classes(df, ds, key, missing)
left, right = st.columns(2)
left.plotly_chart(charts.class_sizes(*risk.class_size_histogram(ec)), key="risk_hist")
right.plotly_chart(charts.risk_bands(summary.prosecutor.record_risk), key="risk_bands")


@st.fragment
def _drivers(key: tuple[str, ...], missing: str, policy: tuple[int, float, float]) -> None:
    """Leave-one-out and subset scores; their own widgets rerun only this section."""
    st.subheader("Which columns drive the risk")
    q, eager = len(key), n * len(key) <= limits.RISK_EAGER_CELLS
    lc, rc = st.columns(2)
    cost = f"Regroups all {n:,} rows once per quasi-identifier ({q} passes)."
    if q < 2:
        lc.caption("Leave-one-out needs at least two quasi-identifiers.")
    elif rp.on_demand(lc, "Leave each column out", "loo_on", cost, eager):
        drivers = rp.verdict(df, ds, key, missing, policy, leave_one_out=True).drivers
        lc.plotly_chart(charts.leave_one_out(drivers), key="risk_contrib")
        st.dataframe(charts.drivers_table(drivers), hide_index=True, key="risk_drivers")
        st.caption(
            "Each quasi-identifier left out in turn: the records that would still fail the "
            "policy, how many it would fix, and the policy's figures without it."
        )
    top = max(1, min(q, limits.RISK_SUBSET_SIZE_MAX))
    size = 1
    if q > 1:
        size = rc.slider(
            "Largest subset size", 1, top, help=HELP["subset_size"],
            **bind("options.subset_size", "risk_subset_size", default=min(2, q),
                   to_widget=clamp(1, top, int),
                   after=lambda: state.set_options("risk", {"subsets_on": False}),
                   initial="value"),
        )  # fmt: skip
    n_subsets = sum(math.comb(q, s) for s in range(1, int(size) + 1))
    cost = f"Groups all {n:,} rows once per subset ({n_subsets} subsets of up to {size} columns)."
    if not rp.on_demand(rc, "Score column subsets", "subsets_on", cost, eager):
        return
    try:
        rc.plotly_chart(charts.subsets(rp.subsets(df, ds, key, int(size))), key="risk_subsets")
    except PrivLensError as exc:
        show_error(exc, rc)


_drivers(key, missing, policy)
st.subheader("Special uniques (SUDA2)", help=HELP["suda"])


rp.special_uniques(df, ds, key, missing, pi, identifiers)

st.subheader("Population uniqueness")
try:
    fig = charts.population_curve(rp.population_curve(df, ds, key, missing), pi)
except PrivLensError as exc:
    show_error(exc)
    st.stop()
if fig is None:
    st.caption("No estimator converged on this class-size histogram.")
else:
    st.plotly_chart(fig, key="risk_population")
st.caption(HELP["population"])
if pi is not None:
    pu = risk.population_uniqueness(ec, sampling_fraction=pi)
    rp.cards([charts.population_card(pu)], [st])
    show_warnings(pu.warnings)
