"""Figure of the Model page's leakage tab: a DP model's accuracy and advantage against ε.

Colours are Okabe & Ito (2008), as on the Differential privacy page.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.models import DPSweep, dp_advantage_bound

BLUE, ORANGE, GREEN, VERMILLION = "#0072B2", "#E69F00", "#009E73", "#D55E00"


def sweep(s: DPSweep, *, epsilon: float, nonprivate_accuracy: float | None = None) -> go.Figure:
    """Test accuracy (left) and membership advantage with the ε bound (right) against ε.

    The current ε is marked by a dotted vertical line; intervals are error bars.
    """
    x = [p.epsilon for p in s.points]
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Test accuracy", "Membership advantage (TPR − FPR)"),
    )
    acc = [p.accuracy for p in s.points]
    fig.add_trace(
        go.Scatter(
            x=x,
            y=acc,
            mode="lines+markers",
            name="DP model accuracy",
            line={"color": BLUE},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [p.accuracy_ci[1] - p.accuracy for p in s.points],
                "arrayminus": [p.accuracy - p.accuracy_ci[0] for p in s.points],
            },
        ),
        row=1,
        col=1,
    )
    fig.add_hline(
        y=s.baseline, line={"color": "grey", "dash": "dash"}, row=1, col=1,
        annotation_text="majority baseline",
    )  # fmt: skip
    if nonprivate_accuracy is not None:
        fig.add_hline(
            y=nonprivate_accuracy, line={"color": GREEN, "dash": "dash"}, row=1, col=1,
            annotation_text="without DP",
        )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[p.advantage for p in s.points],
            mode="lines+markers",
            name="measured advantage (loss threshold)",
            line={"color": ORANGE},
            error_y={
                "type": "data",
                "symmetric": False,
                "array": [p.advantage_ci[1] - p.advantage for p in s.points],
                "arrayminus": [p.advantage - p.advantage_ci[0] for p in s.points],
            },
        ),
        row=1,
        col=2,
    )
    grid = np.geomspace(min(x), max(x), 60)
    fig.add_trace(
        go.Scatter(
            x=grid,
            y=[dp_advantage_bound(float(e)) for e in grid],
            mode="lines",
            name="bound for any attacker: (e^ε − 1)/(e^ε + 1)",
            line={"color": VERMILLION, "dash": "dot"},
        ),
        row=1,
        col=2,
    )
    for col in (1, 2):
        fig.add_vline(x=epsilon, line={"color": "black", "dash": "dot", "width": 1}, row=1, col=col)
        fig.update_xaxes(
            type="log",
            title_text="ε",
            range=[math.log10(min(x)) - 0.1, math.log10(max(x)) + 0.1],
            row=1,
            col=col,
        )
    fig.update_layout(
        height=360, margin={"t": 40, "b": 40}, legend={"orientation": "h", "y": -0.25}
    )
    return fig
