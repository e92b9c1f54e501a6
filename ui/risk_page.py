"""Helpers of the Re-identification risk page: cached computations, widget callbacks, cards.

Each cached function takes the frame as ``_df`` (never hashed) and the dataset token ``ds``
(hashed), so two tables never share an entry. Long wildcard passes show a progress bar,
emptied when done. The callbacks keep the workspace's risk settings consistent (the
population model, the policy presets, the switches of the costly sections).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from core import limits, risk, suda
from core.attribute_risk import attribute_risks, l_diversity_counts
from core.errors import PrivLensError
from core.household_risk import household_risk
from core.policy import GUIDANCE, Policy, check_policy
from ui import state
from ui.charts import risk as charts
from ui.charts.risk import FRACTIONS, HELP, Card
from ui.feedback import show_error, show_warnings
from ui.text import md_list

#: Ways to describe the population the table was sampled from.
MODES = ["Sampling fraction", "Population size"]
#: Population presets (resident population, rounded, national statistics offices).
POPULATIONS = {
    "Custom": None,
    "USA (2020 census)": 331_449_281,
    "Germany (2022)": 83_200_000,
    "United Kingdom (2021)": 67_000_000,
    "France (2023)": 68_000_000,
    "Canada (2021 census)": 36_991_981,
    "European Union (2023)": 448_400_000,
}
#: The policy's settings, in the order of :class:`core.policy.Policy`'s fields.
POLICY = ("k_threshold", "max_risk", "average_risk")


# --- widgets and their callbacks -------------------------------------------------------------


def bind(path: str, key: str, **kw: Any) -> dict[str, Any]:
    """Bind a widget to ``risk.<path>`` under ``key`` (see :func:`ui.state.widget`)."""
    return state.widget(f"risk.{path}", key=key, **kw)


def clamp(lo: float, hi: float, kind: type = float) -> Callable[[Any], Any]:
    """A stored value as a widget with range ``[lo, hi]`` can show it."""
    return lambda v: min(max(kind(v), lo), hi)


def reset_switches() -> None:
    """A new column choice turns the costly sections off until asked for again."""
    state.set_options("risk", {"loo_on": False, "subsets_on": False})


def sync_fraction(n: int) -> None:
    """Keep ``risk.sampling_fraction`` the π in use (None: the table is the population)."""
    if not state.get("risk.options.is_sample", False):
        state.set_setting("risk.sampling_fraction", None)
    elif state.get("risk.options.population_mode") == MODES[1]:
        size = state.get("risk.population_size", max(100 * n, 1))
        state.set_setting("risk.sampling_fraction", min(1.0, n / max(size, 1)))
    elif state.get("risk.sampling_fraction") is None:
        state.set_setting("risk.sampling_fraction", 0.01)


def pick_region(n: int) -> None:
    """A region preset sets the population size (at least the table's size)."""
    size = POPULATIONS.get(state.get("risk.options.region", "Custom"))
    if size is not None:
        state.set_setting("risk.population_size", max(size, n))
    sync_fraction(n)


def guidance_now() -> str:
    """The published guidance the current thresholds match, or ``"Custom"``."""
    r = state.workspace().risk
    now = (r.k_threshold, r.max_risk, r.average_risk)
    return next(
        (g for g, p in GUIDANCE.items() if (p.k, p.max_risk, p.average_risk) == now), "Custom"
    )


def apply_guidance(key: str) -> None:
    """Set the three thresholds of the guidance chosen in widget ``key`` in one save."""
    p = GUIDANCE.get(st.session_state[key])
    if p is not None:
        ws = state.workspace()
        for path, value in zip(POLICY, (p.k, p.max_risk, p.average_risk), strict=True):
            ws = ws.with_setting(f"risk.{path}", value)
        state.update(ws)


def cards(items: Sequence[Card], where: Sequence[Any] | None = None) -> None:
    """Metric cards in a row of columns; a share is a plain caption below, never an arrow."""
    for col, c in zip(where or st.columns(len(items)), items, strict=False):
        col.metric(c.label, c.value, help=c.help)
        if c.note:
            col.caption(c.note)


def on_demand(where: Any, label: str, name: str, cost: str, eager: bool) -> bool:
    """Eager on small tables; on large ones a switch (``risk.options.<name>``) starts the work."""
    if eager:
        return True
    on = bool(
        where.toggle(
            label,
            help=cost,
            **bind(f"options.{name}", f"risk_{name}", default=False, initial="value"),
        )
    )
    if not on:
        where.caption(f"Off to keep this large table interactive. {cost}")
    return on


#: How SUDA2 treats a missing value.
SUDA_MISSING = {"category": "A value like any other", "ignore": "Never part of an MSU (sdcMicro)"}


@st.fragment
def special_uniques(
    df: pd.DataFrame,
    ds: str,
    key: tuple[str, ...],
    missing: str,
    pi: float | None,
    identifiers: Sequence[str],
) -> None:
    """SUDA2 scores and per-column contributions; its widgets rerun only this section."""
    q = len(key)
    most = max(
        m for m in range(1, q + 1) if suda.suda_subset_count(q, m) <= limits.SUDA_MAX_SUBSETS
    )
    c1, c2, c3 = st.columns(3)
    size = 1
    if most > 1:
        size = c1.slider(
            "Largest MSU size", 1, most, help=HELP["suda_size"],
            **bind("options.suda_size", "risk_suda_size", to_widget=clamp(1, most, int),
                   default=min(limits.SUDA_MAX_SIZE_DEFAULT, most), initial="value"),
        )  # fmt: skip
    suda_missing = c2.radio(
        "Missing values in MSUs", list(SUDA_MISSING), format_func=SUDA_MISSING.get,
        help=HELP["suda_missing"],
        **bind("options.suda_missing", "risk_suda_missing", options=list(SUDA_MISSING),
               default="category" if missing == "category" else "ignore", initial="index"),
    )  # fmt: skip
    dis_fraction = c3.number_input(
        "DIS sampling fraction π", min_value=1e-6, max_value=1.0, format="%.6f",
        help=HELP["suda_pi"],
        **bind("options.suda_pi", "risk_suda_pi", to_widget=clamp(1e-6, 1.0),
               default=float(pi) if pi is not None else limits.SUDA_DIS_FRACTION_DEFAULT,
               initial="value"),
    )  # fmt: skip
    n_subsets = suda.suda_subset_count(q, int(size))
    cost = (
        f"Counts the distinct patterns of all {len(df):,} rows once per column subset "
        f"({n_subsets} subsets of up to {int(size)} columns)."
    )
    if not on_demand(
        st, "Search special uniques", "suda_on", cost, len(df) * n_subsets <= limits.SUDA_EAGER_WORK
    ):
        return
    try:
        res = suda2(df, ds, key, int(size), float(dis_fraction), suda_missing)
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(res.warnings)
    cards(charts.suda_cards(res))
    left, right = st.columns(2)
    fig = charts.suda_contribution(res.quasi_identifiers, res.attribute_contribution)
    left.plotly_chart(fig, key="risk_suda_contrib")
    left.caption(HELP["suda_contribution"])
    table = charts.suda_table(df, res, identifiers, limits.RISK_TABLE_ROWS)
    right.dataframe(table, width="stretch", height=340, key="risk_suda_table")
    hidden = f" Direct identifiers hidden: {md_list(identifiers)}." if identifiers else ""
    right.caption(
        f"The {len(table)} records with the highest SUDA score (none without an MSU).{hidden}"
    )


# --- cached computations ---------------------------------------------------------------------


def progress_bar(label: str) -> tuple[Any, Callable[[float], None]]:
    """A progress bar and its callback (at most 20 updates); empty the bar when done."""
    bar, shown = st.progress(0.0, label), [0]

    def step(done: float) -> None:
        if int(20 * done) > shown[0]:
            shown[0] = int(20 * done)
            bar.progress(min(done, 1.0), label)

    return bar, step


def _weighted_bar(missing: str, weight: str | None) -> tuple[Any, Any]:
    """Weights under the wildcard rule take a second matching pass: show its progress."""
    if missing == "wildcard" and weight is not None:
        return progress_bar("Summing weights over wildcard matches…")
    return None, None


@st.cache_data(max_entries=8, show_spinner="Grouping records into classes…")
def classes(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str):  # noqa: ANN201
    """Equivalence classes over ``qis``."""
    if missing != "wildcard":
        return risk.equivalence_classes(_df, list(qis), missing=missing)
    bar, step = progress_bar("Matching missing values…")  # can take a while
    ec = risk.equivalence_classes(_df, list(qis), missing=missing, progress=step)
    bar.empty()
    return ec


@st.cache_data(max_entries=16, show_spinner="Computing risk measures…")
def summary(  # noqa: ANN201
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    missing: str,
    threshold: float,
    pi: float | None,
    weight: str | None,
):
    """:func:`core.risk.risk_summary` on the cached classes."""
    ec = classes(_df, ds, qis, missing)
    bar, step = _weighted_bar(missing, weight)
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


@st.cache_data(max_entries=16, show_spinner="Checking the policy…")
def verdict(  # noqa: ANN201
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    missing: str,
    policy: tuple[int, float, float],
    leave_one_out: bool = False,
):
    """:func:`core.policy.check_policy` (with leave-one-out when asked)."""
    ec = classes(_df, ds, qis, missing)
    p = Policy(k=policy[0], max_risk=policy[1], average_risk=policy[2])
    if not (leave_one_out and missing == "wildcard"):
        return check_policy(
            _df, list(qis), p, missing=missing, classes=ec, leave_one_out=leave_one_out
        )
    bar, step = progress_bar(f"Leaving each column out ({len(qis)} wildcard passes)…")
    out = check_policy(
        _df, list(qis), p, missing=missing, classes=ec, leave_one_out=True, progress=step
    )
    bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner="Measuring attribute disclosure…")
def attributes(  # noqa: ANN201
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, sensitive: tuple[str, ...]
):
    """Attribute-disclosure measures of each sensitive column."""
    return attribute_risks(_df, classes(_df, ds, qis, missing), list(sensitive))


@st.cache_data(max_entries=8, show_spinner="Counting distinct values per class…")
def l_counts(  # noqa: ANN201
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, sensitive: tuple[str, ...]
):
    """Records per distinct-l value of each sensitive column."""
    ec = classes(_df, ds, qis, missing)
    return [l_diversity_counts(_df, ec, s) for s in sensitive]


@st.cache_data(max_entries=8, show_spinner="Combining risks within households…")
def household(  # noqa: ANN201
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    missing: str,
    hid: str,
    pi: float | None,
    weight: str | None,
):
    """sdcMicro's household risk."""
    ec = classes(_df, ds, qis, missing)
    bar, step = _weighted_bar(missing, weight)
    out = household_risk(_df, ec, hid, weight_column=weight, sampling_fraction=pi, progress=step)
    if bar is not None:
        bar.empty()
    return out


@st.cache_data(max_entries=8, show_spinner="Scoring column subsets…")
def subsets(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], size: int):  # noqa: ANN201
    """Distinction and separation of every QI subset up to ``size`` columns."""
    return risk.subset_scores(_df, list(qis), max_size=size)


@st.cache_data(max_entries=8, show_spinner="Fitting population models…")
def population_curve(_df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str):  # noqa: ANN201
    """Population uniqueness at each sampling fraction of :data:`ui.charts.risk.FRACTIONS`."""
    ec = classes(_df, ds, qis, missing)
    return [risk.population_uniqueness(ec, sampling_fraction=f) for f in FRACTIONS]


@st.cache_data(max_entries=8, show_spinner="Searching minimal sample uniques (SUDA2)…")
def suda2(  # noqa: ANN201
    _df: pd.DataFrame,
    ds: str,
    qis: tuple[str, ...],
    max_size: int,
    dis_fraction: float,
    missing: str,
):
    """SUDA2 scores (sdcMicro's suda2)."""
    return suda.suda2(_df, list(qis), max_size=max_size, dis_fraction=dis_fraction, missing=missing)


@st.cache_data(max_entries=8, show_spinner=False)
def journalist_at_risk(  # noqa: ANN201
    _df: pd.DataFrame, ds: str, qis: tuple[str, ...], missing: str, threshold: float, pi: float
):
    """Records at journalist risk above ``threshold`` (ARX)."""
    ec = classes(_df, ds, qis, missing)
    jr = risk.journalist_records_at_risk(ec, threshold=threshold, sampling_fraction=pi)
    return jr.records_at_risk
