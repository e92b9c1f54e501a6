"""Differential privacy lab: how much noise does ε cost for this column and query?"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core import codebooks, dp, dp_form, dp_utility, limits
from core.dp_form import DOMAIN_LABELS, MECH_LABELS, QUERY_LABELS
from core.dp_form import format_number as fmt
from core.errors import PrivLensError
from core.roles import Role
from ui import dp_panels as panels
from ui import state
from ui.feedback import show_error
from ui.router import ensure_routed

ensure_routed()  # a deep link right after start-up must still go through app.py
ss = st.session_state


@st.cache_data(max_entries=32, show_spinner=False)
def _curve(mechanism: str, sensitivity: float, delta: float, candidates: int):  # noqa: ANN202
    return dp_utility.error_curve(
        mechanism=mechanism, sensitivity=sensitivity, delta=delta, candidates=candidates
    )


@st.cache_data(max_entries=8, show_spinner=False)
def _clamped(_df: pd.DataFrame, ds: str, column: str, lo: float, hi: float):  # noqa: ANN202
    return dp.clamp(_df[column], lo, hi)


df = state.require_dataset()
ds, ws = state.dataset_id(), state.workspace()
n_rows, cols = len(df), list(map(str, df.columns))
kinds = ws.dataset.kinds if ws.dataset is not None else {}
numeric_cols = [c for c in dp_form.numeric_columns(kinds) if c in cols]

st.title("Differential privacy")
st.caption(
    "Pick a column and a question, then move ε. A smaller ε means more noise and more "
    "privacy. Every figure on this page is computed from your data on this server; only the "
    "**Release** button produces an answer meant to leave it, drawn from the operating "
    "system's secure random generator. Curves and previews use a seeded simulator."
)
if ss.get(panels.ERROR):
    show_error(ss.pop(panels.ERROR))

# --- inputs: column, question, mechanism, bounds ----------------------------------------------
left, mid, right = st.columns(3)
first = dp_form.default_column(cols, numeric_cols, state.role_columns(Role.IDENTIFIER))
column = left.selectbox(
    "Column",
    cols,
    help="The column the question is asked about (its kind, set on the Data page, decides "
    "the questions). Direct identifiers are listed but make little sense here.",
    **state.widget(
        "dp.column",
        key="dp_column",
        default=first,
        options=cols,
        after=panels.column_changed,
        initial="index",
    ),
)
is_numeric = column in numeric_cols
queries = dp_form.questions(is_numeric)
qkw = state.widget(
    "dp.question", key="dp_question", default="count", options=queries, initial="index"
)
query = mid.selectbox(
    "Question",
    queries,
    format_func=QUERY_LABELS.__getitem__,
    **(qkw | {"on_change": panels.save_query}),
)
domain, categories = "declared", ()
if dp_form.uses_domain(query, is_numeric):
    domain = st.radio(
        "Categories",
        dp.DOMAINS,
        format_func=DOMAIN_LABELS.__getitem__,
        horizontal=True,
        help="A DP release may not take its list of categories from the data: a category "
        "that one person alone has would appear only when that person is in the data.",
        **state.widget(
            "dp.options.domain",
            key="dp_domain",
            default="declared",
            options=dp.DOMAINS,
            initial="index",
        ),
    )
if dp_form.uses_domain(query, is_numeric) and domain == "declared":
    k1, k2 = st.columns([3, 1])
    typed = k1.text_area(
        "Public categories, one per line",
        help="Categories known without looking at the data: from a codebook, a form's "
        "options or a standard. Values outside the list are left out of the release.",
        **state.widget(
            f"dp.options.categories:{column}", key="dp_cats", default="", initial="value"
        ),
    )
    categories = dp_form.parse_categories(typed)
    published = codebooks.categories_for(column)
    if kinds.get(column) == "boolean":
        published = ("False", "True")  # the type's own values, not the data's
    if published is not None:
        k2.button(
            "Fill in the published categories",
            key="dp_cats_fill",
            on_click=state.set_options,
            args=("dp", {f"categories:{column}": "\n".join(published)}),
            help=f"The categories of a column of this name in the {codebooks.SOURCES['adult']}"
            " (the column's name is looked up, never its values).",
        )
    st.caption(
        "**Declared list**: the released categories are exactly this list, the same "
        "whoever is in the data, so the list itself reveals nothing."
    )
elif dp_form.uses_domain(query, is_numeric):
    st.caption(
        "**Threshold histogram**: the categories found in the data get discrete Laplace "
        "noise of scale 1/ε, and only those whose noisy count reaches a threshold set by "
        "δ are released: a category that one record alone has shows with probability at "
        "most δ (Korolova et al. 2009; OpenDP's make_laplace_threshold)."
    )
mechs = dp_form.mechanisms(query, domain)
mkw = state.widget(
    "dp.mechanism", key="dp_mechanism", default=mechs[0], options=mechs, initial="index"
)
mechanism = right.selectbox(
    "Mechanism",
    mechs,
    format_func=MECH_LABELS.__getitem__,
    **(mkw | {"on_change": panels.save_query}),
)
bounds_needed = dp_form.needs_bounds(query, is_numeric)
lower = upper = None
if bounds_needed:
    b1, b2, b3 = st.columns(3)
    # empty until typed: ``value=None`` unless the bound's first paint carries it
    lower = b1.number_input(
        "Lower bound L",
        **{"value": None}
        | state.widget(
            "dp.lower", key="dp_lower", after=panels.bounds_typed, initial="value", nullable=True
        ),
    )
    upper = b2.number_input(
        "Upper bound U",
        **{"value": None}
        | state.widget(
            "dp.upper", key="dp_upper", after=panels.bounds_typed, initial="value", nullable=True
        ),
    )
    data_range = panels.data_range(df, ds, column)
    b3.button(
        "Suggest bounds from the data",
        key="dp_suggest",
        on_click=panels.set_bounds,
        args=data_range,
        help="Fills in the column's minimum and maximum, with a warning: they leak.",
    )
    if (lower, upper) == data_range:
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
bins, q = 20, 0.5
if query == "histogram" and is_numeric:
    bins = st.slider(
        "Bins", 2, 100,
        **state.widget("dp.options.bins", key="dp_bins", default=20, initial="value"),
    )  # fmt: skip
if query == "quantile":
    q = st.slider(
        "Quantile (0.5 = median)", 0.0, 1.0, step=0.05,
        **state.widget("dp.options.q", key="dp_q", default=0.5, initial="value"),
    )  # fmt: skip
delta = 0.0
if dp_form.needs_delta(mechanism, domain):
    d_default = dp_form.default_delta(n_rows)
    chosen = bool(ws.dp.options.get("delta_chosen"))
    delta = st.number_input(
        "δ (delta)",
        min_value=limits.DELTA_MIN,
        max_value=limits.DELTA_MAX,
        format="%.1e",
        help="The probability that the ε guarantee fails outright.",
        **state.widget(
            "dp.delta",
            key="dp_delta",
            to_widget=lambda d: d if chosen else d_default,
            after=lambda: state.set_options("dp", {"delta_chosen": True}),
            initial="value",
        ),
    )
    st.caption(
        f"δ is the small chance that the privacy promise does not hold at all. With "
        f"{n_rows:,} records, 1/n = {1 / n_rows:.1e}: a δ near 1/n would allow revealing a "
        f"whole record of someone. The default {d_default:.0e} is at least 100 times smaller."
    )

blocker = dp_form.input_blocker(
    bounds_needed=bounds_needed,
    lower=lower,
    upper=upper,
    categories_needed=dp_form.uses_domain(query, is_numeric) and domain == "declared",
    categories=categories,
)
qn = dp_form.Question(
    column=column, query=query, is_numeric=is_numeric, mechanism=mechanism, domain=domain,
    categories=categories, lower=lower, upper=upper, bins=bins, q=q, delta=delta,
)  # fmt: skip
curve = sensitivity = clamped = None
try:
    if bounds_needed and blocker is None:
        clamped, n_missing, n_clipped = _clamped(df, ds, column, *dp.check_bounds(lower, upper))
        st.caption(
            f"On your screen only: {n_clipped:,} value(s) lie outside [L, U] and will be "
            f"clamped, {n_missing:,} are missing. These exact counts are never part of a release."
        )
    if not bounds_needed or blocker is None:
        n_public = int(df[column].notna().sum())
        sensitivity = dp_utility.query_sensitivity(query, lower=lower, upper=upper, n=n_public)
        curve = _curve(mechanism, sensitivity, delta, qn.candidates)
except PrivLensError as exc:
    show_error(exc)
    st.stop()
if sensitivity is None:
    st.info("State the bounds L and U to see how much noise this question needs.")
elif query == "mean":
    st.markdown(
        f"**Sensitivity** (U − L)/2 = {fmt((upper - lower) / 2)} for the sum of the values "
        "centred on (L + U)/2, and 1 for the count, each with half of ε · **neighbouring "
        f"datasets**: {dp.ADD_REMOVE}. The mean is the noisy sum over the noisy count; the "
        "record count is not released. The curve shows the sum's noise divided by the "
        "current count; the count's noise adds a little more."
    )
else:
    st.markdown(f"**Sensitivity** {fmt(sensitivity)} · **neighbouring datasets**: {dp.ADD_REMOVE}")


# --- the live part: the ε slider redraws only this fragment ------------------------------------
@st.fragment
def live_panel() -> None:
    """ε slider, error curve, preview overlay, attacker bound and the release button."""
    c1, c2, c3 = st.columns([1, 6, 1])
    c1.markdown("**More privacy**")
    epsilon = c2.select_slider(
        "Epsilon (ε)",
        options=dp_form.EPSILON_OPTIONS,
        format_func=lambda e: f"{e:g}",
        **state.widget(
            "dp.epsilon",
            key="dp_eps",
            default=limits.EPSILON_DEFAULT,
            options=dp_form.EPSILON_OPTIONS,
            initial="value",
        ),
    )
    c3.markdown("**More accuracy**")
    if epsilon >= 5:
        st.warning(
            f"ε = {epsilon:g} is a weak guarantee: an attacker's odds about a person can grow "
            f"{math.exp(epsilon):,.0f}-fold. Use ε ≥ 5 only when accuracy matters more than "
            "privacy and you can say why."
        )
    if curve is not None and sensitivity is not None:
        try:
            panels.noise(
                df, qn, curve=curve, sensitivity=sensitivity, clamped=clamped, epsilon=epsilon
            )
        except PrivLensError as exc:
            show_error(exc)
    panels.attacker(df, qn, epsilon)
    panels.release(df, qn, blocker, epsilon)
    panels.microdata(df, ds, numeric_cols, epsilon)


live_panel()
panels.last_release(ws)
panels.budget()

if curve is not None and sensitivity is not None:
    with st.expander("Accuracy target: which ε gives ±x at 95%?"):
        target = st.number_input(
            f"Target half-width ({curve.unit})", min_value=0.0,
            **state.widget("dp.options.target", key="dp_target", default=0.0, initial="value"),
        )  # fmt: skip
        if target > 0:
            try:
                eps_needed = dp_utility.epsilon_for_half_width(
                    target, mechanism=mechanism, sensitivity=sensitivity, delta=delta,
                    candidates=qn.candidates,
                )  # fmt: skip
            except PrivLensError as exc:
                show_error(exc)
            else:
                st.success(f"ε = {fmt(eps_needed)} gives ±{fmt(target)} at 95% confidence.")
