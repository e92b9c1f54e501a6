"""Parts of the Differential privacy page: callbacks that save to the workspace, the
microdata curve, the last release, and the table's privacy budget with its reset.

Every setting is read from and written to the workspace (:mod:`ui.state`); the budget is the
table's, read from the database at each run, never kept in this browser session.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core import dp, dp_form, dp_utility, limits
from core.dp_form import DOMAIN_LABELS, Question
from core.dp_form import format_number as fmt
from core.errors import PrivLensError
from core.workspace import ReleaseResult, Workspace
from ui import state
from ui.charts import dp as charts
from ui.feedback import show_error, show_warnings
from ui.text import md as escape_md
from ui.text import md_list

ss = st.session_state
#: ``st.session_state`` key of a refused change, shown at the top of the page on the next run.
ERROR = "dp_page_error"


@st.cache_data(max_entries=32, show_spinner=False)
def data_range(_df: pd.DataFrame, ds: str, column: str) -> tuple[float, float]:
    """The column's minimum and maximum (for the "suggest bounds" buttons and their warning)."""
    return float(_df[column].min()), float(_df[column].max())


@st.cache_data(max_entries=8, show_spinner="Simulating the microdata release…")
def _md_curve(
    _df: pd.DataFrame, ds: str, bounds: tuple, categorical: tuple[str, ...]
) -> dp_utility.MicrodataCurve:
    return dp_utility.microdata_utility_curve(
        _df,
        bounds={c: (lo, hi) for c, lo, hi in bounds},
        categorical=categorical,
        epsilons=dp_utility.epsilon_grid(limits.MICRODATA_CURVE_POINTS),
        sample_rows=limits.MICRODATA_SAMPLE_ROWS,
    )


# --- callbacks: every change goes to the workspace ---------------------------------------------
def _save(ws: Workspace) -> None:
    try:
        state.update(ws)
    except PrivLensError as exc:
        ss[ERROR] = str(exc)


def set_bounds(lo: float | None, hi: float | None) -> None:
    """The question's bounds [L, U], for the column shown (remembered for that column).

    Both are cleared first, so new bounds above the old upper one are not refused on the way.
    """
    ws = state.workspace()
    col = ss.get("dp_column") or ws.dp.column
    try:
        ws = ws.with_setting("dp.column", col).with_setting("dp.lower", None)
        ws = ws.with_setting("dp.upper", None).with_setting("dp.upper", hi)
        ws = ws.with_setting("dp.lower", lo)
    except PrivLensError as exc:
        ss[ERROR] = str(exc)
        return
    _save(ws.with_option("dp", f"lower:{col}", lo).with_option("dp", f"upper:{col}", hi))


def bounds_typed() -> None:
    """After L or U was typed: keep the pair for the column."""
    ws = state.workspace()
    set_bounds(ws.dp.lower, ws.dp.upper)


def column_changed() -> None:
    """After another column was picked: its own bounds come back (none the first time)."""
    ws = state.workspace()
    set_bounds(
        ws.dp.options.get(f"lower:{ws.dp.column}"), ws.dp.options.get(f"upper:{ws.dp.column}")
    )


def save_query() -> None:
    """Column, question and mechanism as shown, in one save (a mechanism is a question's)."""
    q, m = ss["dp_question"], ss.get("dp_mechanism")
    m = m if m in dp.MECHANISMS[q] else None
    ws = state.workspace().with_setting("dp.mechanism", None).with_setting("dp.question", q)
    if ss.get("dp_column"):
        ws = ws.with_setting("dp.column", ss["dp_column"])
    _save(ws.with_setting("dp.mechanism", m))


def _reset_budget() -> None:
    try:
        state.reset_budget(
            confirm=True, reason=ss.get("dp_reset_reason") or "", total_epsilon=ss["dp_reset_eps"]
        )
    except PrivLensError as exc:
        ss["dp_reset_error"] = str(exc)
    else:
        ss["dp_reset_open"] = False
        ss.pop("dp_reset_reason", None)


def release(df: pd.DataFrame, qn: Question, blocker: str | None, epsilon: float) -> None:
    """The cost of a release, the Release button (or why it is disabled), and the release."""
    ledger = state.ledger()
    why = blocker or dp_form.budget_blocker(ledger, epsilon=epsilon, delta=qn.delta)
    if why is None and ledger is not None:
        after = ledger.preview(epsilon=epsilon, delta=qn.delta)
        st.info(
            f"Releasing costs ε = {epsilon:g}, δ = {qn.delta:g}. Total afterwards: "
            f"ε = {after.epsilon:.4g}, δ = {after.delta:.2g} ({after.method} composition) "
            f"of the budget ε = {ledger.total_epsilon:g}, δ = {ledger.total_delta:g}."
        )
    r1, r2 = st.columns([1, 3], vertical_alignment="center")
    clicked = r1.button(
        "Release (spends budget)", key="dp_release", type="primary", disabled=why is not None
    )
    if why is not None:
        r2.caption(why)
    if not clicked or blocker is not None or ledger is None:
        return  # the budget itself decides below: a concurrent spend may have taken it
    try:
        ss["dp_last"] = state.release(
            lambda: qn.release(df, epsilon=epsilon),
            query=qn.query,
            column=qn.column,
            mechanism=qn.mechanism,
            epsilon=epsilon,
            delta=qn.delta,
        )
    except PrivLensError as exc:
        show_error(exc)
    else:
        st.rerun()


def noise(
    df: pd.DataFrame,
    qn: Question,
    *,
    curve: dp_utility.ErrorCurve,
    sensitivity: float,
    clamped: np.ndarray | None,
    epsilon: float,
) -> None:
    """Noise figures, the error curve and the simulated preview at this ε."""
    scale = dp_utility.noise_scale(
        mechanism=qn.mechanism, epsilon=epsilon, sensitivity=sensitivity, delta=qn.delta
    )
    hw = dp_utility.half_width(
        mechanism=qn.mechanism, scale=scale, epsilon=epsilon, candidates=qn.candidates
    )
    unit = curve.unit if qn.mechanism != "exponential" else "ranks"
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Noise scale",
        fmt(scale),
        help="Spread of the added noise: b for Laplace, σ for the Gaussians, t for discrete "
        "Laplace, 2/ε for the exponential mechanism. Larger means noisier.",
    )
    m2.metric(
        "95% error half-width",
        f"±{fmt(hw)}",
        help=f"In 95% of releases the noisy answer lies within ± this of the true answer ({unit}).",
    )
    if qn.mechanism == "gaussian" and epsilon < 1:
        classic = dp.classic_gaussian_sigma(
            epsilon=epsilon, delta=qn.delta, sensitivity=sensitivity
        )
        m3.metric(
            "Classic-formula σ (comparison)",
            fmt(classic),
            help="σ = Δ₂·√(2 ln(1.25/δ))/ε, the textbook formula (valid for ε < 1), for "
            "comparison only: the analytic calibration in use needs the smaller σ on the left.",
        )
    fig, band_at_zero = charts.error_curve(
        curve, epsilon=epsilon, mechanism=qn.mechanism, unit=unit
    )
    st.plotly_chart(fig, key="dp_curve")
    if band_at_zero:
        st.caption(
            "Where the shaded band touches the bottom of the chart, at least 5% of the "
            "simulated releases were exactly right (|error| = 0), which a log axis cannot show."
        )
    for w in curve.warnings:
        st.caption(escape_md(w))
    p = dp_form.preview(df, qn, epsilon=epsilon, clamped=clamped)
    if p is None and qn.query == "histogram" and not qn.is_numeric:
        st.info("List the public categories above to preview the histogram.")
    if p is not None:
        if p.note:
            st.caption(p.note)
        st.plotly_chart(
            charts.overlay(p, epsilon=epsilon, is_numeric=qn.is_numeric), key="dp_overlay"
        )


def attacker(df: pd.DataFrame, qn: Question, epsilon: float) -> None:
    """The attacker's largest posterior, and the guess rate of randomized response."""
    a1, a2 = st.columns(2)
    prior = a1.slider(
        "Attacker's prior belief about one person",
        0.01,
        0.99,
        step=0.01,
        **state.widget("dp.options.prior", key="dp_prior", default=0.5, initial="value"),
    )
    a1.metric(
        "Largest posterior after the release",
        f"{dp_utility.posterior_bound(prior, epsilon=epsilon):.1%}",
        help="e^ε·p / (e^ε·p + 1 − p): how sure the attacker can become at most.",
    )
    if not qn.is_numeric:
        k = max(
            2, qn.candidates if qn.query == "mode" else int(df[qn.column].nunique(dropna=False))
        )
        a2.metric(
            "Randomized response: true value guessed",
            f"{dp_utility.rr_guess_rate(epsilon=epsilon, k=k):.1%}",
            help=f"Keep probability e^ε/(e^ε+k−1) with k = {k}; a blind guess: {1 / k:.1%}.",
        )


def microdata(df: pd.DataFrame, ds: str, numeric_cols: list[str], epsilon: float) -> None:
    """Utility of a per-record (local DP) release of chosen columns, against ε."""
    st.subheader("Microdata release: noise on every record")
    st.caption(
        "Instead of one noisy answer, every record gets its own noise: numeric values are "
        "clamped to [L, U] and get Laplace noise of scale (U − L)/ε, categories go through "
        "randomized response. ε here is spent per record and per column, so a record with m "
        "noised columns is protected at m·ε. The curve is a seeded simulation, never a release."
    )
    others = [c for c in map(str, df.columns) if c not in numeric_cols]
    k1, k2 = st.columns(2)
    md_numeric = k1.multiselect(
        "Numeric columns (clamped, per-record Laplace noise)",
        numeric_cols,
        **state.widget(
            "dp.options.md_numeric",
            key="dp_md_numeric",
            default=(),
            options=numeric_cols,
            initial="default",
        ),
    )
    md_categorical = k2.multiselect(
        "Categorical columns (randomized response)",
        others,
        **state.widget(
            "dp.options.md_categorical",
            key="dp_md_categorical",
            default=(),
            options=others,
            initial="default",
        ),
    )
    if not md_numeric and not md_categorical:
        st.info("Pick columns above to see how a per-record release distorts them at each ε.")
        return
    bounds, leaked, suggested = [], [], {}
    for c in md_numeric:
        l1, l2 = st.columns(2)
        lo = l1.number_input(
            f"Lower bound of '{c}'",
            **state.widget(
                f"dp.options.md_lower:{c}", key=f"dp_md_lower_{c}", default=0.0, initial="value"
            ),
        )
        hi = l2.number_input(
            f"Upper bound of '{c}'",
            **state.widget(
                f"dp.options.md_upper:{c}", key=f"dp_md_upper_{c}", default=100.0, initial="value"
            ),
        )
        bounds.append((c, float(lo), float(hi)))
        data_lo, data_hi = data_range(df, ds, c)
        suggested |= {f"md_lower:{c}": data_lo, f"md_upper:{c}": data_hi}
        if (lo, hi) == (data_lo, data_hi):
            leaked.append(c)
    if md_numeric:
        st.button(
            "Suggest these bounds from the data",
            key="dp_md_suggest",
            on_click=state.set_options,
            args=("dp", suggested),
            help="Fills in each column's minimum and maximum, with a warning: they leak.",
        )
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
    st.plotly_chart(charts.microdata(md, epsilon), key="dp_md_curve")
    show_warnings(md.warnings)
    with st.expander("The figures behind the curve"):
        st.dataframe(md.table.rename(columns=charts.MD_TABLE_NAMES), hide_index=True)


def _card(
    query: str,
    mechanism: str,
    r: dp.DPResult | ReleaseResult,
    value: Any,
    labels: tuple[str, ...],
    n_bins: int,
) -> None:
    """The "Last release" card: the answer (or the bins), its error and how it was made."""
    st.subheader("Last release")
    if query == "histogram":
        st.dataframe(
            pd.DataFrame({"bin": list(labels), "noisy count": np.asarray(value, dtype=float)}),
            hide_index=True,
        )
        if n_bins > len(labels):
            st.caption(
                f"The first {len(labels):,} of the {n_bins:,} released bins are shown: the "
                "workspace keeps no more of one release."
            )
        st.write(f"Each count ±{fmt(r.half_width)} at 95% ({escape_md(r.half_width_unit)}).")
    else:
        # a mode's category may be one of the data (threshold domain): shown escaped
        shown = escape_md(value) if isinstance(value, str) else fmt(float(value))
        st.metric(
            f"{query} ({mechanism})",
            shown,
            help=f"95% error half-width ±{fmt(r.half_width)} {escape_md(r.half_width_unit)}",
        )
    st.caption(
        f"Mechanism {mechanism}, scale {fmt(r.scale)}, sensitivity "
        f"{fmt(r.sensitivity)}, neighbours: {escape_md(r.neighbours)}; secure noise: "
        f"{'yes' if r.secure else 'NO'}."
        + (f" Categories: {DOMAIN_LABELS[r.domain].lower()}." if r.domain else "")
    )
    show_warnings(r.warnings)


def last_release(ws: Workspace) -> None:
    """The last release (kept by the workspace: a reload shows it) and every release of it."""
    record = ws.last_result
    if record is not None and record.result is not None:
        kept = record.result
        live = ss.get("dp_last")
        if live is not None and ReleaseResult.of(live) == kept:  # released in this session
            _card(record.query, record.mechanism, live, live.value, live.labels, len(live.labels))
        else:
            value = kept.counts if record.query == "histogram" else kept.value
            _card(record.query, record.mechanism, kept, value, kept.labels, kept.n_bins)
    if ws.releases:
        with st.expander(f"Releases made in this workspace ({len(ws.releases)})"):
            st.dataframe(
                pd.DataFrame(
                    {
                        "time (UTC)": pd.to_datetime([r.at for r in ws.releases], unit="s").round(
                            "s"
                        ),
                        "question": [r.query for r in ws.releases],
                        "column": [r.column for r in ws.releases],
                        "mechanism": [r.mechanism for r in ws.releases],
                        "ε": [r.epsilon for r in ws.releases],
                        "δ": [r.delta for r in ws.releases],
                    }
                ),
                hide_index=True,
            )


def budget() -> None:
    """The table's budget: start it, see what is spent, reset it (confirmed, logged)."""
    st.subheader("Privacy budget of this table")
    st.caption(
        "The budget belongs to the table, not to this tab: every session that loads the same "
        "data (checked by a keyed fingerprint of its content) spends from it, also after a reload."
    )
    ledger = state.ledger()
    if ledger is None:
        g1, g2, g3 = st.columns(3, vertical_alignment="bottom")
        g1.number_input(
            "Total ε for this table", min_value=limits.EPSILON_MIN, max_value=100.0,
            **state.widget("dp.total_epsilon", key="dp_total_eps", initial="value"),
        )  # fmt: skip
        g2.number_input(
            "Total δ", min_value=0.0, max_value=limits.DELTA_MAX, format="%.1e",
            **state.widget("dp.total_delta", key="dp_total_delta", initial="value"),
        )  # fmt: skip
        if g3.button("Start the budget", key="dp_start"):
            try:
                state.start_budget(state.get("dp.total_epsilon"), state.get("dp.total_delta"))
            except PrivLensError as exc:
                show_error(exc)
            else:
                st.rerun()
        st.caption("Set a budget before the first release; every release spends from it.")
    else:
        comp = ledger.composition()
        s1, s2 = st.columns(2)
        s1.metric(
            "ε spent",
            f"{comp.epsilon:.4g} of {ledger.total_epsilon:g}",
            help=f"{comp.method} composition; the basic sum is ε = {comp.basic_epsilon:.4g}. "
            f"δ spent: {comp.delta:.2g} of {ledger.total_delta:g}.",
        )
        s2.metric(
            "ε remaining",
            f"{ledger.remaining_epsilon:.4g}",
            help="What later releases of this table may still spend, in every session.",
        )
        if ledger.entries:
            st.dataframe(
                pd.DataFrame(
                    [{"release": e.label, "ε": e.epsilon, "δ": e.delta} for e in ledger.entries]
                ),
                hide_index=True,
            )
        if not ss.get("dp_reset_open"):
            st.button(
                "Reset the budget…",
                key="dp_reset",
                on_click=ss.update,
                args=({"dp_reset_open": True},),
            )
        else:
            st.warning(
                "A reset starts this table's budget afresh: the ε already spent stops counting, "
                "although the answers released with it are still known. Reset only when those "
                "releases were withdrawn or never left. The reset and its reason are logged."
            )
            if ss.get("dp_reset_error"):
                show_error(ss.pop("dp_reset_error"))
            st.text_input("Why reset? (kept in the budget log)", key="dp_reset_reason")
            st.number_input(
                "New total ε", min_value=limits.EPSILON_MIN, max_value=100.0,
                value=float(ledger.total_epsilon), key="dp_reset_eps",
            )  # fmt: skip
            y1, y2 = st.columns(2)
            y1.button(
                "Yes, reset the budget", key="dp_reset_yes", type="primary", on_click=_reset_budget
            )
            y2.button(
                "Cancel",
                key="dp_reset_cancel",
                on_click=ss.update,
                args=({"dp_reset_open": False},),
            )
