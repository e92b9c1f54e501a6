"""Figures and tables of the Model page's Weights tab (no layout).

Colours are Okabe & Ito (2008). Tensor names come from a file: they reach a figure only
through :func:`ui.text.plot_label`, and a table only as cell text.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.weights import CompressionReport, Histogram, WeightsSummary
from core.weights.sweep import Sweep, SweepPoint
from ui.text import plot_label

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7"]
PRECISION_COLOURS = {
    "float32": OKABE_ITO[0],
    "float16": OKABE_ITO[1],
    "bfloat16": OKABE_ITO[1],
    "int8": OKABE_ITO[2],
    "int4": OKABE_ITO[3],
}


def _num(x: float) -> float | None:
    """A finite float, or ``None`` (shown empty) for NaN and infinities."""
    return x if math.isfinite(x) else None


def tensor_table(summary: WeightsSummary) -> pd.DataFrame:
    """One row per tensor, then a "Total" row (parameters, bytes, share of zeros)."""
    rows = [
        {
            "Tensor": t.name,
            "Shape": " × ".join(map(str, t.shape)) or "scalar",
            "Dtype": t.dtype,
            "Parameters": t.parameters,
            "Bytes": t.bytes,
            "Min": _num(t.min),
            "Max": _num(t.max),
            "Mean": _num(t.mean),
            "Std": _num(t.std),
            "Zeros": t.zero_share,
        }
        for t in summary.tensors
    ]
    rows.append(
        {
            "Tensor": "Total",
            "Shape": f"{len(summary.tensors)} tensors",
            "Dtype": "",
            "Parameters": summary.total_parameters,
            "Bytes": summary.total_bytes,
            "Min": None,
            "Max": None,
            "Mean": None,
            "Std": None,
            "Zeros": summary.zero_share,
        }
    )
    return pd.DataFrame(rows)


def error_table(report: CompressionReport) -> pd.DataFrame:
    """The measured error of every tensor read back from the written file."""
    return pd.DataFrame(
        [
            {
                "Tensor": t.name,
                "Parameters": t.parameters,
                "Stored as": t.storage,
                "Layout": t.layout,
                "Zeros": t.sparsity,
                "Relative error": _num(t.relative_error),
                "Max abs error": _num(t.max_abs_error),
                "SNR (dB)": _num(t.snr_db),
            }
            for t in report.tensors
        ]
    )


def histogram_figure(h: Histogram) -> go.Figure:
    """Bars of a tensor's value counts."""
    mids = [(a + b) / 2 for a, b in zip(h.edges[:-1], h.edges[1:], strict=True)]
    widths = [b - a for a, b in zip(h.edges[:-1], h.edges[1:], strict=True)]
    fig = go.Figure(go.Bar(x=mids, y=list(h.counts), width=widths, marker_color=OKABE_ITO[0]))
    fig.update_layout(
        title=f"Values of {plot_label(h.name)}",
        xaxis_title="Weight value",
        yaxis_title="Count",
        height=300,
        margin={"t": 40, "b": 40},
        bargap=0,
    )
    return fig


def _label(p: SweepPoint) -> str:
    if p.sparsity is None:
        return f"{p.precision}, threshold prune ({p.zero_share:.0%} zeros)"
    return f"{p.precision}, sparsity {p.sparsity:.0%}"


def sweep_figure(sweep: Sweep, current: SweepPoint) -> go.Figure:
    """Whole-model error (and test accuracy and AUC when known) against file bytes.

    One line per precision through the sparsities; the current setting is a black star.
    Errors of exactly 0 sit on the floor of the log axis (the smallest positive error / 2).
    """
    utility = current.accuracy is not None
    panels = ["Relative error (all tensors)"]
    if utility:
        panels += ["Test accuracy", "Test AUC"]
    fig = make_subplots(rows=1, cols=len(panels), subplot_titles=panels)
    positive = [p.relative_error for p in (*sweep.points, current) if p.relative_error > 0]
    floor = min((e for e in positive if math.isfinite(e)), default=1e-6) / 2

    def err(p: SweepPoint) -> float:
        return p.relative_error if p.relative_error > 0 else floor

    metrics: list[tuple[str, Callable[[SweepPoint], float | None]]] = [("error", err)]
    if utility:
        metrics += [("accuracy", lambda p: p.accuracy), ("auc", lambda p: p.auc)]
    precisions = list(dict.fromkeys(p.precision for p in sweep.points))
    for col, (_, value) in enumerate(metrics, start=1):
        for precision in precisions:
            pts = [p for p in sweep.points if p.precision == precision]
            fig.add_trace(
                go.Scatter(
                    x=[p.written_bytes for p in pts],
                    y=[value(p) for p in pts],
                    mode="lines+markers",
                    name=precision,
                    legendgroup=precision,
                    showlegend=col == 1,
                    line={"color": PRECISION_COLOURS.get(precision, "grey")},
                    text=[_label(p) for p in pts],
                    hovertemplate="%{text}<br>%{x:,} bytes<br>%{y:.4g}<extra></extra>",
                ),
                row=1,
                col=col,
            )
        fig.add_trace(
            go.Scatter(
                x=[current.written_bytes],
                y=[value(current)],
                mode="markers",
                name="current setting",
                legendgroup="current",
                showlegend=col == 1,
                marker={"symbol": "star", "size": 16, "color": "black"},
                text=[_label(current)],
                hovertemplate="%{text}<br>%{x:,} bytes<br>%{y:.4g}<extra>current</extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="File bytes written", row=1, col=col)
    # one labelled tick per decade, in full (0.01, not a bare "2" between decades)
    fig.update_yaxes(type="log", dtick=1, tickformat="~g", row=1, col=1)
    fig.update_layout(height=380, margin={"t": 50, "b": 40}, legend_title_text="Precision")
    return fig
