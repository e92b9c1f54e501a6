"""Figures, tables and metric cards of the Re-identification risk page (no layout).

Every column name that reaches a figure goes through :func:`ui.text.plot_label`. Log axes
carry full numbers as tick labels (1, 10, 100, 1,000, ...), never plotly's bare "2" and "5"
between decades.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.attribute_risk import AttributeRisk, LDiversityCounts
from core.household_risk import HouseholdRisk
from core.policy import ColumnDriver, RuleResult
from core.risk import PopulationUniqueness, RiskSummary, SubsetScore
from core.suda import SudaResult
from ui.text import md, plot_labels

#: Prosecutor-risk bands of the "Records by risk band" chart.
RISK_BANDS = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]
#: Sampling fractions of the population-uniqueness curve.
FRACTIONS = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)
#: Okabe-Ito blue: distinguishable under the common colour-vision deficiencies.
SUDA_COLOUR = "#0072B2"
_LAYOUT = {"height": 340, "margin": {"t": 40, "b": 10}}


def _number(v: float) -> str:
    return f"{v:,.0f}" if v >= 1 else f"{v:g}"


def log_ticks(lo: float, hi: float) -> tuple[list[float], list[str]]:
    """Tick values and full-number labels for a log axis spanning ``lo`` .. ``hi``.

    Powers of ten; over fewer than four decades also 2 and 5 times them.

    >>> log_ticks(1, 2500)[1]
    ['1', '10', '100', '1,000', '10,000']
    >>> log_ticks(0.001, 0.9)[1][:4]
    ['0.001', '0.002', '0.005', '0.01']
    """
    lo, hi = max(float(lo), 1e-12), max(float(hi), float(lo), 1e-12)
    first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1, 2, 5) if last - first < 4 else (1,)
    values = [
        round(m * 10.0**e, 12)
        for e in range(first, last + 1)
        for m in steps
        if m * 10.0**e <= 10.0**last
    ]
    return values, [_number(v) for v in values]


def _log_axis(lo: float, hi: float) -> dict[str, object]:
    values, labels = log_ticks(lo, hi)
    return {"type": "log", "tickmode": "array", "tickvals": values, "ticktext": labels}


def class_sizes(sizes: np.ndarray, counts: np.ndarray) -> go.Figure:
    """Bar chart: how many classes have each size ``f_k`` (log axes with full numbers)."""
    fig = go.Figure(go.Bar(x=sizes, y=counts, hovertemplate="size %{x}: %{y} classes"))
    x_axis: dict[str, object] = (
        _log_axis(1, float(sizes.max())) if sizes.max() > 50 else {"type": "linear"}
    )
    fig.update_layout(
        title="Class sizes",
        xaxis={**x_axis, "title": {"text": "records in the class (f_k)"}},
        yaxis={**_log_axis(1, float(counts.max())), "title": {"text": "classes"}},
        **_LAYOUT,
    )
    return fig


def risk_bands(record_risk: np.ndarray) -> go.Figure:
    """Bar chart: share of records in each prosecutor-risk band."""
    labels = [f"{a:.0%}–{b:.0%}" for a, b in zip(RISK_BANDS[:-1], RISK_BANDS[1:], strict=True)]
    bands = pd.cut(record_risk, RISK_BANDS, labels=labels, include_lowest=True)
    counts = pd.Series(bands).value_counts(sort=False)
    fig = px.bar(
        x=counts.index.astype(str),
        y=100 * counts.to_numpy() / max(len(record_risk), 1),
        labels={"x": "prosecutor risk 1/f_k", "y": "% of records"},
        title="Records by risk band",
    )
    fig.update_layout(**_LAYOUT)
    return fig


def leave_one_out(drivers: Sequence[ColumnDriver]) -> go.Figure:
    """Horizontal bars: sample uniques that disappear when each column is left out."""
    frame = pd.DataFrame(
        {
            "column": plot_labels(d.column for d in drivers),
            "uniques removed when left out": [d.uniques_removed for d in drivers],
            "k without it": [d.k_without for d in drivers],
        }
    ).sort_values("uniques removed when left out", ascending=False)
    fig = px.bar(
        frame,
        x="uniques removed when left out",
        y="column",
        orientation="h",
        hover_data=["k without it"],
        title="Sample uniques that disappear without each column",
    )
    fig.update_layout(**_LAYOUT, yaxis={"autorange": "reversed"})
    return fig


def drivers_table(drivers: Sequence[ColumnDriver]) -> pd.DataFrame:
    """One row per quasi-identifier: the policy's figures without it (most records fixed first)."""
    return pd.DataFrame(
        {
            "left out": [d.column for d in drivers],
            "failing records without it": [d.failing_without for d in drivers],
            "records fixed": [d.records_fixed for d in drivers],
            "k without it": [d.k_without for d in drivers],
            "highest risk without it": [round(d.max_risk_without, 4) for d in drivers],
            "average risk without it": [round(d.average_risk_without, 4) for d in drivers],
            "policy passes without it": [d.passes_without for d in drivers],
        }
    ).sort_values(["records fixed", "average risk without it"], ascending=[False, True])


def subsets(scores: Sequence[SubsetScore]) -> go.Figure:
    """Scatter: distinction against separation of each QI subset."""
    frame = pd.DataFrame(
        {
            "subset": [" + ".join(plot_labels(s.columns)) for s in scores],
            "size": [len(s.columns) for s in scores],
            "distinction": [s.distinction for s in scores],
            "separation": [s.separation for s in scores],
        }
    )
    fig = px.scatter(
        frame,
        x="separation",
        y="distinction",
        color="size",
        hover_name="subset",
        title="Distinction vs separation of QI subsets",
    )
    fig.update_layout(**_LAYOUT)
    return fig


def suda_contribution(columns: Sequence[str], shares: Sequence[float]) -> go.Figure:
    """Horizontal bars: each column's share of the total SUDA score."""
    frame = pd.DataFrame({"column": plot_labels(columns), "share": list(shares)}).sort_values(
        "share", ascending=False
    )
    fig = px.bar(
        frame,
        x="share",
        y="column",
        orientation="h",
        labels={"share": "share of the total SUDA score (%)", "column": "quasi-identifier"},
        title="Contribution of each column to the SUDA scores",
        color_discrete_sequence=[SUDA_COLOUR],
    )
    fig.update_layout(**_LAYOUT, yaxis={"autorange": "reversed"})
    return fig


def population_curve(curve: Sequence[PopulationUniqueness], pi: float | None) -> go.Figure | None:
    """Lines: estimated population uniques (% of N) per model against the sampling fraction.

    ``curve`` holds one estimate per entry of :data:`FRACTIONS`; None when no model converged.
    """
    rows = [
        {
            "sampling fraction": f,
            "model": name,
            "population uniques (% of N)": 100 * v / c.population_size,
        }
        for f, c in zip(FRACTIONS, curve, strict=True)
        for name, v in (
            ("Zayatz", c.zayatz),
            ("Pitman", c.pitman),
            ("SNB", c.snb),
            ("Dankar", c.dankar),
        )
        if v is not None and math.isfinite(v)
    ]
    if not rows:
        return None
    fig = px.line(
        pd.DataFrame(rows),
        x="sampling fraction",
        y="population uniques (% of N)",
        color="model",
        markers=True,
        title="Estimated population uniques against the sampling fraction",
    )
    fig.update_layout(height=360, margin={"t": 40, "b": 10})
    fig.update_xaxes(**_log_axis(min(FRACTIONS), max(FRACTIONS)))
    if pi is not None:
        fig.add_vline(x=pi, line_dash="dot", annotation_text="your π")
    return fig


def record_table(
    df: pd.DataFrame, order: np.ndarray, hidden: Sequence[str], measures: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The records at ``order`` without the ``hidden`` columns, with per-record measures first."""
    shown = [c for c in df.columns if c not in set(hidden)]
    top = df.iloc[order][shown].copy()
    for i, (name, values) in enumerate(measures.items()):
        label = name if name not in top.columns else f"{name} (measured)"
        top.insert(i, label, np.asarray(values)[order])
    return top


def attribute_table(attrs: Sequence[AttributeRisk]) -> pd.DataFrame:
    """One row per sensitive attribute: its attribute-disclosure measures."""
    return pd.DataFrame(
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


def l_table(counts: Sequence[LDiversityCounts]) -> pd.DataFrame:
    """Records per distinct-l value of each sensitive attribute."""
    return pd.DataFrame(
        [
            {"attribute": c.column, "distinct l of the class": int(v), "records": int(r)}
            for c in counts
            for v, r in zip(c.l_values, c.records, strict=True)
        ]
    )


# --- metric cards: label, value, a share shown as plain text below (no change arrow), help ---


@dataclass(frozen=True, slots=True)
class Card:
    """One metric of the page: label, value, an optional plain note below it, and its help."""

    label: str
    value: str
    note: str | None = None
    help: str | None = None


def _pct(x: float) -> str:
    return f"{100 * x:.2f} %"


HELP = {
    "qis": "Columns an attacker could link to another source. Defaults to the roles set on the "
    "Data page.",
    "sensitive": "Attributes whose disclosure harms (l-diversity, t-closeness, ...).",
    "missing": "ARX treats a missing value as one more value; sdcMicro lets it match any value, "
    "which raises f_k of every record it could be confused with.",
    "weight": "sdcMicro's individual risk uses F_k = sum of the weights in a record's class. "
    "Without a weight column the constant 1/π of the population model is used. Defaults to the "
    "column with the weight role.",
    "policy": "Defaults from published guidance: a minimum cell size of five, i.e. k ≥ 5 and a "
    "highest prosecutor risk of 0.2 (El Emam 2013, Guide to the De-Identification of Personal "
    "Health Information, 'Cell size precedents'); the same chapter cites cells of 20 (0.05) for "
    "public data, used here for the average. The EMA's external guidance on Policy 0070 "
    "(EMA/90915/2016) recommends a threshold of 0.09 for published clinical reports.",
    "household": "Members of a household can be re-identified through one another: household "
    "risk = 1 - prod(1 - r_i) over its members, r_i the individual risk (sdcMicro measure_risk "
    "with hid, hier_risk_ER = sum over records).",
    "subset_size": "ARX's view: distinction = distinct combinations / n; separation = share of "
    "record pairs that differ on the subset.",
    "suda": "A minimal sample unique (MSU) is a smallest set of quasi-identifiers on which a "
    "record is the only one with its values. Records unique on few columns are the easiest to "
    "single out (Elliot et al.; SUDA2 search by Manning, Haglin & Keane).",
    "suda_size": "Column sets of up to this size are searched. sdcMicro searches every size; a "
    "smaller cap is faster and gives a lower bound of each score. An MSU of size k weighs "
    "(q - k)! with q the number of quasi-identifiers.",
    "suda_missing": "sdcMicro's suda2 keeps a missing value out of every MSU; it matches no "
    "observed value. As a value, the only record missing a column is unique on it.",
    "suda_pi": "Share of the population in this table, for the DIS estimate (sdcMicro's "
    "DisFraction, default 0.01; the population model above, if set).",
    "beta": "Enhanced β (Cao & Karras; ARX): the smallest β with (q - p)/p ≤ min(β, -ln p) for "
    "every value more frequent in a class than in the table; ∞ when no β is enough.",
    "suda_contribution": "sdcMicro's attribute contribution: 100 × (score of the MSUs holding "
    "the column) / (total score). An MSU counts for each of its columns, so the bars can add up "
    "to more than 100 %.",
    "population": "Zayatz (1991) as ARX computes it; Pitman (Hoshino 2001, α < 0 allowed, as in "
    "ARX); SNB (Chen & Keller-McNulty 1998) from the moment equations of the shifted negative "
    "binomial as the model defines them. ARX 3.9.2 reports SNB as not available: its ModelSNB "
    "multiplies the second-moment equation by (1−d)^(α+2) instead of dividing by it and "
    "mis-parenthesises a term of the Shlosser estimate, so its SNB and PrivLens's differ. "
    "Dankar et al.'s rule: π ≤ 0.1 → Pitman, otherwise the smaller of Zayatz and SNB.",
}


def headline_cards(
    s: RiskSummary, missing_label: str, journalist_at_risk: int | None
) -> tuple[Card, ...]:
    """The eight headline figures of :func:`core.risk.risk_summary`, with their formulas."""
    journalist = (
        Card("Journalist risk", "—", help="Needs a population model (expand 'Population model').")
        if s.journalist is None
        else Card(
            "Journalist risk",
            _pct(s.journalist),
            f"{journalist_at_risk or 0:,} records at risk",
            "max over classes of 1/F_j with F_j = f_j/π (El Emam): the target need not be in "
            "the table. Records at risk (ARX): records in classes with π/f_j above t.",
        )
    )
    return (
        Card(
            "k (k-anonymity)",
            f"{s.k:,}",
            help="k = min over records of f_k, the number of records sharing its "
            f"quasi-identifier values (Sweeney). Missing values: {missing_label}.",
        ),
        Card(
            "Equivalence classes",
            f"{s.n_classes:,}",
            help="Distinct quasi-identifier combinations (missing values as a token). Class "
            "sizes add up to the number of rows: no row is dropped.",
        ),
        Card(
            "Sample uniques",
            f"{s.sample_uniques:,}",
            f"{s.share(s.sample_uniques):.2f} % of records",
            f"Records with f_k = 1. < 3: {s.below_3:,} ({s.share(s.below_3):.2f} %), "
            f"< 5: {s.below_5:,} ({s.share(s.below_5):.2f} %).",
        ),
        Card(
            "Expected re-identifications",
            f"{s.individual.expected_reidentifications:,.1f}",
            f"{_pct(s.individual.expected_share)} of records",
            "sdcMicro: sum of the individual risks r_k (Franconi-Polettini approximation, "
            "p_k = f_k/F_k; f_k = 1: p/(1-p) ln(1/p); f_k = 2: p/(1-p) - (p/(1-p))^2 ln(1/p); "
            "f_k > 2: p/(f_k-(1-p)); F_k = f_k: 1/f_k).",
        ),
        Card(
            "Highest prosecutor risk",
            _pct(s.prosecutor.highest),
            help="1/k: the attacker knows the target is in the table (ARX prosecutor model).",
        ),
        Card(
            "Average prosecutor risk",
            _pct(s.prosecutor.average),
            help="(1/n) sum over records of 1/f_k = classes / n (ARX). Marketer risk "
            f"(1/n) sum f_j/F_j with F_j = f_j/π: {_pct(s.marketer)}.",
        ),
        Card(
            "Records at risk",
            f"{s.prosecutor.records_at_risk:,}",
            f"{_pct(s.prosecutor.share_at_risk)} above t = {s.prosecutor.threshold:g}",
            "ARX: records in classes with 1/f_j above t, the policy's highest risk.",
        ),
        journalist,
    )


def attribute_cards(attrs: Sequence[AttributeRisk]) -> tuple[Card, ...]:
    """The worst attribute-disclosure figures over the sensitive attributes."""
    worst_l = min(attrs, key=lambda a: a.distinct_l)
    worst_t = max(attrs, key=lambda a: a.t_closeness)
    return (
        Card(
            "l (distinct l-diversity)",
            f"{worst_l.distinct_l}",
            help="min over classes and sensitive attributes of the number of distinct values "
            f"(Machanavajjhala et al.); lowest for '{md(worst_l.column)}'. A missing value "
            "counts as a value.",
        ),
        Card(
            "t (t-closeness)",
            f"{worst_t.t_closeness:.4f}",
            help="max over classes of the Earth Mover's Distance to the whole table (Li et "
            "al.): equal distance for categories, ordered distance for numbers; highest for "
            f"'{md(worst_t.column)}'.",
        ),
        Card(
            "Entropy l",
            f"{min(a.entropy_l for a in attrs):.3f}",
            help="min over classes of exp(H), H = -sum q ln q (a float; pyCANON floors it).",
        ),
        Card(
            "δ-disclosure",
            f"{max(a.delta_disclosure for a in attrs):.3f}",
            help="max |ln(q/p)| (natural log) over classes and the values present in them.",
        ),
    )


def suda_cards(res: SudaResult) -> tuple[Card, ...]:
    """SUDA2's headline figures."""
    return (
        Card(
            "Special uniques",
            f"{res.special_uniques:,}",
            f"of {res.sample_uniques:,} sample uniques",
            "Records with at least one MSU of at most the chosen size. Only records unique on "
            "all quasi-identifiers can have one.",
        ),
        Card(
            "MSUs found",
            f"{res.n_msus:,}",
            help="Number of (record, minimal column set) pairs found.",
        ),
        Card(
            "Highest SUDA score",
            f"{res.score.max():,.0f}",
            help="SUDA score of a record = sum over its MSUs of (q - k)!, k = MSU size (Elliot "
            "et al. 2002; sdcMicro suda2, original_scores = TRUE).",
        ),
        Card(
            "File-level DIS",
            f"{res.dis:.4f}",
            help="Probability that a unique match is correct (Skinner & Elliot 2002): "
            "U π / (U π + P (1 - π)), U = sample uniques, P = records in pairs. Each record's "
            "DIS-SUDA score shares it out by SUDA score, as sdcMicro does.",
        ),
    )


def rule_banner(rule: RuleResult) -> tuple[bool, str, str]:
    """Whether a policy rule passes, its badge ("k-anonymity: fails") and its explanation."""
    is_k = rule.name == "k"
    shown = f"{rule.measured:,.0f}" if is_k else f"{rule.measured:.4f}"
    limit = f"≥ {rule.threshold:,.0f}" if is_k else f"≤ {rule.threshold:g}"
    text = f"Measured {shown}; the policy asks {limit}."
    if rule.failing_records:
        text += f" {rule.failing_records:,} records break it."
    return rule.passed, f"{RULE_NAMES[rule.name]}: {'passes' if rule.passed else 'fails'}", text


RULE_NAMES = {"k": "k-anonymity", "max_risk": "Highest risk", "average_risk": "Average risk"}


def household_card(hr: HouseholdRisk) -> Card:
    """sdcMicro's expected re-identifications over households."""
    return Card(
        "Expected re-identifications (households)",
        f"{hr.expected_reidentifications:,.1f}",
        f"{_pct(hr.share)} of records, {hr.n_households:,} households",
        "sdcMicro hier_risk_ER: sum over records of their household's risk.",
    )


def population_card(pu: PopulationUniqueness) -> Card:
    """Population uniques by Dankar et al.'s rule at the user's sampling fraction."""
    return Card(
        "Population uniques (Dankar rule)",
        f"{pu.dankar:,.0f}",
        f"{100 * pu.dankar_share:.4f} % of N, via {pu.dankar_model}",
        "Estimated number of records unique in the whole population.",
    )


def suda_table(df: pd.DataFrame, res: SudaResult, hidden: Sequence[str], rows: int) -> pd.DataFrame:
    """The ``rows`` records with the highest SUDA score (none without an MSU), scores first."""
    order = np.argsort(-res.score, kind="stable")[:rows]
    order = order[res.score[order] > 0]
    extra = {
        "SUDA score": res.score,
        "DIS-SUDA score": res.dis_score,
        "smallest MSU size": (res.msu_counts > 0).argmax(axis=1) + 1,
    }
    return record_table(df, order, hidden, extra)
