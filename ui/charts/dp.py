"""Figures of the Differential privacy page: error against ε, the preview, the microdata curve.

Colours are Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
Every ε axis spans the slider's range, ``limits.EPSILON_MIN`` to ``limits.EPSILON_MAX``.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core import dp_utility, limits
from core.dp_form import MECH_LABELS, Preview
from ui.text import plot_labels

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"]
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY = OKABE_ITO[:6]
MARKER = {"color": "black", "dash": "dot", "width": 1.5}
#: The ε axis of every chart: log10 of the slider's range (Plotly log axes take exponents).
EPSILON_RANGE = [math.log10(limits.EPSILON_MIN), math.log10(limits.EPSILON_MAX)]


def error_curve(
    curve: dp_utility.ErrorCurve, *, epsilon: float, mechanism: str, unit: str
) -> tuple[go.Figure, bool]:
    """Error against ε with the current ε marked; also whether the band reaches 0.

    A log axis cannot show 0, yet integer noise is often exactly 0: band edges at 0 are drawn
    on the axis floor (half the smallest positive value shown); the page says so when the
    second value is True.
    """
    keep = np.asarray(curve.epsilons, float) <= limits.EPSILON_MAX * (1 + 1e-9)
    x = np.asarray(curve.epsilons, float)[keep]

    def cut(a: object) -> np.ndarray:
        return np.asarray(a, float)[keep]

    shown = [
        cut(a)
        for a in (curve.band_low, curve.band_high, curve.expected_error, curve.half_width)
        if a is not None
    ]
    positive = np.concatenate([a[a > 0] for a in shown]) if shown else np.array([])
    floor = float(positive.min()) / 2 if positive.size else 1e-6
    fig = go.Figure()
    band_at_zero = False
    if curve.band_low is not None and curve.band_high is not None:
        band_at_zero = bool((cut(curve.band_low) <= 0).any())
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.maximum(cut(curve.band_high), floor),
                line={"width": 0, "color": SKY},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.maximum(cut(curve.band_low), floor),
                fill="tonexty",
                fillcolor="rgba(86, 180, 233, 0.35)",
                line={"width": 0, "color": SKY},
                name="5–95% of |error| (simulated)",
            )
        )
    if curve.expected_error is not None:
        fig.add_trace(
            go.Scatter(
                x=x, y=cut(curve.expected_error), name="expected |error|", line={"color": BLUE}
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=cut(curve.half_width),
            name="95% half-width",
            line={"dash": "dash", "color": VERMILLION},
        )
    )
    fig.add_vline(x=epsilon, line=MARKER, annotation_text=f"ε = {epsilon:g}")
    fig.update_layout(
        title=f"Error against ε — {MECH_LABELS[mechanism]}, ε = {epsilon:g}",
        xaxis={"type": "log", "title": "ε (log scale)", "range": EPSILON_RANGE},
        yaxis={"type": "log", "title": f"error ({unit})"},
        height=360,
        margin={"t": 50, "b": 40},
    )
    return fig, band_at_zero


def overlay(p: Preview, *, epsilon: float, is_numeric: bool) -> go.Figure:
    """Original counts against one simulated noisy release, as overlaid bars."""
    labs = list(p.labels) if is_numeric else plot_labels(p.labels)  # categories from the file
    fig = go.Figure()
    fig.add_trace(go.Bar(x=labs, y=p.original, name="original", opacity=0.6, marker_color=BLUE))
    fig.add_trace(go.Bar(x=labs, y=p.noisy, name=p.description, opacity=0.6, marker_color=ORANGE))
    fig.update_layout(
        barmode="overlay",
        xaxis_title="bin (lower edge)" if is_numeric else "category",
        yaxis_title="records",
        height=320,
        margin={"t": 40, "b": 40},
        title=f"Original vs one simulated noisy release, ε = {epsilon:g}",
    )
    return fig


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
#: Column names of the microdata table as shown under the curve.
MD_TABLE_NAMES = {
    "epsilon": "ε",
    "mae": "MAE",
    "rmse": "RMSE",
    "relative_error": "relative error",
    "tv_distance": "TV distance",
    "pearson": "Δ Pearson",
    "spearman": "Δ Spearman",
    "kendall": "Δ Kendall",
}


def microdata(md: dp_utility.MicrodataCurve, epsilon: float) -> go.Figure:
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
        fig.update_xaxes(
            type="log", title_text="ε per value (log scale)", range=EPSILON_RANGE, row=r, col=c
        )
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
