"""Figures, shown tables and texts of the Correlations page (Plotly only, no layout).

Every name or value that comes from the data goes through :func:`ui.text.plot_label`. A click
on a matrix cell is mapped back to the columns by the marker's position (:func:`clicked_pair`),
never by the escaped label shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from core.correlation import METHODS, Drilldown, LeakageReport, Method
from core.limits import PROXY_THRESHOLD
from ui.text import plot_label, plot_labels

GREY = "#d0d0d0"
ANNOTATE_MAX = 16  # cells are labelled with their value up to this many columns
CELL_PX = 40  # height of one matrix row, so every label has room
MISSING = "—"  # shown for a value that does not exist (not computed, not measurable)

#: How each measure of a matrix cell is named on the page.
MEASURE_LABELS = {
    "pearson": "Pearson r",
    "spearman": "Spearman ρ",
    "kendall": "Kendall τ-b",
    "cramers_v": "Cramér's V",
    "eta": "correlation ratio η",
    "self": "same column",
}


def measure_label(measure: object) -> str:
    """The readable name of a measure (``"cramers_v"`` -> ``"Cramér's V"``)."""
    text = str(measure or "")
    return MEASURE_LABELS.get(text, text or MISSING)


def _fmt(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return MISSING
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    try:
        return format(float(value), spec)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return MISSING


def heatmap(
    labels: Sequence[str],
    values: np.ndarray,
    p_adj: np.ndarray,
    alpha: float,
    title: str,
    measures: np.ndarray | None = None,
) -> go.Figure:
    """Annotated matrix on a fixed [-1, 1] diverging scale; non-significant cells grey.

    Invisible square markers sit on the cells so a click selects a pair (plotly heatmap
    traces do not report selections). Every column name is shown as a tick label; the hover
    names the measure of the cell when ``measures`` is given (association matrix).
    """
    k = len(labels)
    shown = plot_labels(labels)
    significant = np.isfinite(values) & (p_adj <= alpha)
    grey = np.isfinite(values) & ~significant
    text = np.array(
        [[_fmt(v, ".2f") if np.isfinite(v) else "n/a" for v in row] for row in values],
        dtype=object,
    ).reshape(values.shape)
    show_text = k <= ANNOTATE_MAX
    common = {"x": shown, "y": shown, "text": text, "hoverinfo": "skip", "xgap": 1, "ygap": 1}
    template = "%{text}" if show_text else None
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            z=np.where(significant, values, np.nan),
            zmin=-1,
            zmax=1,
            zmid=0,
            colorscale="RdBu",
            # above the matrix, so the cells get the whole width
            colorbar={
                "title": {"text": "value", "side": "right"},
                "tickvals": [-1, -0.5, 0, 0.5, 1],
                "orientation": "h",
                "x": 0.5,
                "xanchor": "center",
                "y": 1.0,
                "yanchor": "bottom",
                "thickness": 12,
                "len": 0.6,
            },
            texttemplate=template,
            **common,
        )
    )
    fig.add_trace(
        go.Heatmap(
            z=np.where(grey, 0.0, np.nan),
            colorscale=[[0, GREY], [1, GREY]],
            showscale=False,
            texttemplate=template,
            **common,
        )
    )
    yy, xx = np.divmod(np.arange(k * k), k)
    hover = [
        f"{shown[j]} × {shown[i]}<br>"
        + (f"{measure_label(measures[i, j])} " if measures is not None else "value ")
        + f"{text[i, j]}<br>adjusted p "
        + (f"{p_adj[i, j]:.3g}" if np.isfinite(p_adj[i, j]) else "n/a")
        for i, j in zip(yy, xx, strict=True)
    ]
    fig.add_trace(
        go.Scatter(
            x=[shown[j] for j in xx],
            y=[shown[i] for i in yy],
            mode="markers",
            marker={"symbol": "square", "size": max(8, 420 // max(k, 1)), "opacity": 0},
            hovertext=hover,
            hoverinfo="text",
            showlegend=False,
        )
    )
    font = 12 if k <= 20 else 10
    ticks = {"tickmode": "array", "tickvals": shown, "ticktext": shown, "tickfont": {"size": font}}
    # fixed margins that fit the longest name (automatic margins can keep plotly redrawing)
    longest = min(max((len(str(c)) for c in labels), default=1), 40) * font * 0.6
    fig.update_layout(
        title=title,
        height=max(420, CELL_PX * k + int(longest * 0.71) + 120),
        margin={"l": int(longest) + 10, "r": 10, "t": 100, "b": int(longest * 0.71) + 20},
        yaxis={"autorange": "reversed", **ticks},
        xaxis={"tickangle": -45, **ticks},
        clickmode="event+select",
        dragmode=False,
    )
    return fig


def selection(event: object) -> tuple[int, ...]:
    """The indices of the selected markers of a chart event (empty when none)."""
    try:
        points = event["selection"]["points"]  # type: ignore[index]
    except (KeyError, TypeError):
        return ()
    return tuple(
        int(pt["point_index"])
        for pt in points or ()
        if isinstance(pt, dict) and isinstance(pt.get("point_index"), int)
    )


def clicked_pair(indices: Sequence[int], labels: Sequence[str]) -> tuple[str, str] | None:
    """The (column, row) names of a selected off-diagonal cell of :func:`heatmap`.

    The chart shows escaped names, so the cell is found by the marker's index (row-major over
    the k × k grid), never by the label shown.
    """
    k = len(labels)
    for index in indices:
        if not 0 <= index < k * k:
            continue
        i, j = divmod(index, k)
        if i != j:
            return str(labels[j]), str(labels[i])
    return None


def drilldown_title(d: Drilldown) -> str:
    """The title of the drill-down figure (names escaped)."""
    x, y = plot_label(d.x), plot_label(d.y)
    if d.view == "scatter":
        return f"{y} against {x}"
    if d.view == "box":
        return f"{y} by {x}" + (" (20 most frequent categories)" if d.truncated else "")
    return f"Share of each '{x}' value within each '{y}' value" + (
        " (30 most frequent of each)" if d.truncated else ""
    )


def drilldown_figure(d: Drilldown, *, max_points: int) -> go.Figure:
    """Scatter with its least-squares line, box plot, or contingency heatmap of a pair."""
    x, y = plot_label(d.x), plot_label(d.y)
    title = drilldown_title(d)
    if d.view == "scatter":
        fig = px.scatter(d.points.set_axis([x, y], axis=1), x=x, y=y, opacity=0.35, title=title)
        if d.line is not None and d.x_range is not None:
            xs = np.array(d.x_range)
            slope, intercept = d.line
            fig.add_trace(
                go.Scatter(x=xs, y=slope * xs + intercept, mode="lines", name="least-squares line")
            )
    elif d.view == "box":
        fig = px.box(
            pd.DataFrame({x: plot_labels(d.points["category"]), y: d.points["value"].to_numpy()}),
            x=x,
            y=y,
            points="all" if len(d.points) <= max_points else "outliers",
            title=title,
        )
    else:
        table = d.table if d.table is not None else pd.DataFrame()
        shown = table.copy()
        shown.index = pd.Index(plot_labels(table.index), name=y)
        shown.columns = pd.Index(plot_labels(table.columns), name=x)
        fig = px.imshow(
            shown,
            zmin=0,
            zmax=1,
            color_continuous_scale="Blues",
            text_auto=".2f",
            aspect="auto",
            title=title,
        )
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 50, "b": 10})
    return fig


def leakage_bars(report: LeakageReport) -> go.Figure:
    """How much each column reveals the sensitive attribute, proxies in red."""
    frame = report.frame()
    shown = pd.DataFrame(
        {
            "column": plot_labels(frame["column"]),
            "score": frame["score"],
            "Possible proxy": ["yes" if p else "no" for p in frame["proxy"]],
        }
    ).iloc[::-1]
    fig = px.bar(
        shown,
        x="score",
        y="column",
        orientation="h",
        color="Possible proxy",
        color_discrete_map={"yes": "#b2182b", "no": "#4393c3"},
        category_orders={"Possible proxy": ["yes", "no"]},
        range_x=[0, 1],
        title=f"How much each column reveals '{plot_label(report.sensitive)}'",
        labels={"score": "max(association, normalized mutual information)"},
    )
    fig.add_vline(x=PROXY_THRESHOLD, line_dash="dot", annotation_text="proxy threshold")
    fig.update_layout(height=max(300, 28 * len(frame) + 120))
    return fig


def pairs_table(pairs: pd.DataFrame) -> pd.DataFrame:
    """The strongest pairs as shown: readable measure names, numbers as text, "—" for none."""
    value = "value" if "value" in pairs.columns else "r"
    measure = pairs["measure"] if "measure" in pairs.columns else pairs["method"]
    out = {
        "column A": pairs["column_a"].astype(str),
        "column B": pairs["column_b"].astype(str),
        "measure": [measure_label(m) for m in measure],
        "value": [_fmt(v, ".3f") for v in pairs[value]],
    }
    if "ci_low" in pairs.columns:
        out["95% CI"] = [
            MISSING if MISSING in (lo, hi) else f"{lo} to {hi}"
            for lo, hi in zip(
                (_fmt(v, ".3f") for v in pairs["ci_low"]),
                (_fmt(v, ".3f") for v in pairs["ci_high"]),
                strict=True,
            )
        ]
    out["p"] = [_fmt(v, ".2e") for v in pairs["p"]]
    out["adjusted p (BH)"] = [_fmt(v, ".2e") for v in pairs["p_adjusted"]]
    out["rows"] = [f"{int(v):,}" for v in pairs["n"]]
    out["why no value"] = [str(r) if r else "" for r in pairs["reason"]]
    return pd.DataFrame(out)


def leakage_table(report: LeakageReport) -> pd.DataFrame:
    """The leakage ranking as shown: readable names, numbers as text, "—" for none."""
    frame = report.frame()
    return pd.DataFrame(
        {
            "column": frame["column"].astype(str),
            "measure": [measure_label(m) for m in frame["measure"]],
            "association": [_fmt(v, ".3f") for v in frame["association"]],
            "NMI": [_fmt(v, ".3f") for v in frame["nmi"]],
            "score": [_fmt(v, ".3f") for v in frame["score"]],
            "best-guess accuracy": [_fmt(v, ".3f") for v in frame["guess_accuracy"]],
            "baseline": [_fmt(v, ".3f") for v in frame["baseline_accuracy"]],
            "lift (λ)": [_fmt(v, ".3f") for v in frame["lift"]],
            "Possible proxy": ["yes" if p else "no" for p in frame["proxy"]],
            "rows": [f"{int(v):,}" for v in frame["n"]],
            "why no value": [str(r) if r else "" for r in frame["reason"]],
        }
    )


# --- the method picker's texts --------------------------------------------------------------

#: The methods offered, with the caption under each.
METHOD_CAPTIONS = {
    "Pearson": "linear",
    "Spearman": "monotone, on ranks",
    "Kendall": "pair ordering, robust to ties",
    "All three": "one tab each",
    "Association": "every column, mixed types",
}
#: The correlation matrices each choice draws (Association draws its own matrix).
METHODS_OF: dict[str, tuple[Method, ...]] = {
    "Pearson": ("pearson",),
    "Spearman": ("spearman",),
    "Kendall": ("kendall",),
    "All three": METHODS,
    "Association": (),
}
METHOD_HELP = (
    "**Pearson r**: strength of a straight-line relation between two numbers; sensitive to "
    "outliers; p-value assumes roughly normal data.  \n"
    "**Spearman ρ**: Pearson on ranks, so any steadily rising or falling relation; "
    "unaffected by monotone rescaling.  \n"
    "**Kendall τ-b**: share of row pairs ordered the same way minus those ordered "
    "oppositely, corrected for ties; robust for ordinal codes.  \n"
    "**Association**: one matrix over all columns: the correlation for two numbers, "
    "bias-corrected Cramér's V for two categories, the correlation ratio η for a "
    "category and a number (0 = unrelated, 1 = fully determined).  \n"
    "Columns declared category, text or boolean on the Data page are categories even when "
    "their values are number codes. Missing values are dropped per pair. Cells whose "
    "Benjamini–Hochberg adjusted p-value is above α are greyed out."
)
