"""Figures and tables of the "Find a safe table" page (no layout).

The scatter shows every anonymous transformation the search checked: its information loss
against the maximum and the average re-identification risk of the records it keeps, with the
Pareto frontier of each panel and the optimum marked. Every marker carries the index of its
transformation in :func:`anonymous_points` as ``customdata``, so a click is resolved by that
index, never by a label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.anonymize import AnonymizationResult, CheckedNode
from core.anonymize.setup import pareto_mask
from ui.text import plot_label

#: Okabe-Ito colours (distinguishable under the common colour-vision deficiencies).
POINT, FRONTIER, OPTIMUM, CHOSEN = "#999999", "#0072B2", "#D55E00", "#009E73"
PANELS = (("max_risk", "Maximum risk"), ("avg_risk", "Average risk"))


def anonymous_points(result: AnonymizationResult) -> list[CheckedNode]:
    """The anonymous transformations checked, each once, in the order they were checked."""
    seen: set[tuple[int, ...]] = set()
    out = []
    for node in result.checked:
        if node.anonymous and not math.isnan(node.score) and node.levels not in seen:
            seen.add(node.levels)
            out.append(node)
    return out


def levels_text(qis: Sequence[str], levels: Sequence[int]) -> str:
    """``age 2 · sex 1`` (plain text)."""
    return " · ".join(f"{q} {lv}" for q, lv in zip(qis, levels, strict=True))


def scatter(result: AnonymizationResult, chosen: tuple[int, ...] | None = None) -> go.Figure:
    """Information loss against maximum and average risk, one panel each."""
    points = anonymous_points(result)
    fig = make_subplots(
        rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.06,
        subplot_titles=[title for _, title in PANELS],
    )  # fmt: skip
    loss = np.array([p.score for p in points], dtype=np.float64)
    hover = [plot_label(levels_text(result.quasi_identifiers, p.levels)) for p in points]
    template = "%{text}<br>risk %{x:.4f}<br>loss %{y:.4g}<extra></extra>"
    for col, (field, title) in enumerate(PANELS, start=1):
        risk = np.array([getattr(p, field) for p in points], dtype=np.float64)
        front = pareto_mask(loss, risk)
        idx = np.arange(len(points))
        fig.add_trace(
            go.Scatter(
                x=risk, y=loss, mode="markers", customdata=idx, text=hover,
                hovertemplate=template, marker={"color": POINT, "size": 7, "opacity": 0.6},
                name="Anonymous transformation", showlegend=col == 1, legendgroup="all",
            ),
            row=1, col=col,
        )  # fmt: skip
        order = idx[front][np.argsort(risk[front], kind="stable")]
        fig.add_trace(
            go.Scatter(
                x=risk[order], y=loss[order], mode="lines+markers", customdata=order,
                text=[hover[i] for i in order], hovertemplate=template,
                line={"color": FRONTIER, "shape": "hv"}, marker={"color": FRONTIER, "size": 8},
                name="Pareto frontier", showlegend=col == 1, legendgroup="front",
            ),
            row=1, col=col,
        )  # fmt: skip
        for levels, colour, label, symbol in (
            (result.levels, OPTIMUM, "Optimum", "star"),
            (chosen, CHOSEN, "Chosen", "diamond"),
        ):
            hit = [i for i, p in enumerate(points) if p.levels == levels]
            if not hit or (label == "Chosen" and chosen == result.levels):
                continue
            fig.add_trace(
                go.Scatter(
                    x=risk[hit], y=loss[hit], mode="markers", customdata=hit,
                    text=[hover[i] for i in hit], hovertemplate=template,
                    marker={"color": colour, "size": 16, "symbol": symbol},
                    name=label, showlegend=col == 1, legendgroup=label,
                ),
                row=1, col=col,
            )  # fmt: skip
        fig.update_xaxes(title_text=f"{title} of a kept record", row=1, col=col)
    fig.update_yaxes(title_text=f"Information loss ({plot_label(result.metric)})", row=1, col=1)
    fig.update_layout(
        height=420, margin={"t": 40, "b": 10}, clickmode="event+select", dragmode=False,
        legend={"orientation": "h", "y": -0.2},
    )  # fmt: skip
    return fig


def clicked(event: object) -> int | None:
    """The index (into :func:`anonymous_points`) of the last clicked marker, or None."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    for pt in reversed(list(points or ())):
        data = pt.get("customdata") if isinstance(pt, dict) else None
        if isinstance(data, list) and data:
            data = data[0]
        if isinstance(data, int | float) and not isinstance(data, bool):
            return int(data)
    return None


def figures(t: object, n: int) -> pd.DataFrame:
    """The privacy and utility figures of a transformation or a result, as a two-column table."""
    rows = [
        ("Information loss (score)", f"{getattr(t, 'score', math.nan):.6g}"),
        ("Suppressed records", f"{getattr(t, 'suppressed_records', 0):,} of {n:,}"),
        ("Smallest class (k)", f"{getattr(t, 'min_class_size', 0):,}"),
        ("Classes", f"{getattr(t, 'classes', 0):,}"),
        ("Maximum risk", f"{getattr(t, 'max_risk', math.nan):.4f}"),
        ("Average risk", f"{getattr(t, 'avg_risk', math.nan):.4f}"),
    ]
    return pd.DataFrame(rows, columns=["Figure", "Value"])
