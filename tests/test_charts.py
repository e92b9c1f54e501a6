"""Every chart on every page has a title and axis labels (headless run on the Adult sample)."""

from __future__ import annotations

import json

import pytest

PAGES = [
    "pages/correlations.py",
    "pages/risk.py",
    "pages/differential_privacy.py",
]


def _title(obj) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


@pytest.mark.parametrize("page", PAGES)
def test_charts_have_titles_and_axis_labels(app, page):
    app.switch_page(page).run()
    assert not app.exception
    charts = app.get("plotly_chart")
    assert charts, "each of these pages draws at least one chart on the sample"
    problems = []
    for chart in charts:
        spec = json.loads(chart.proto.spec)
        layout = spec.get("layout", {})
        title = _title(layout.get("title"))
        if not title:
            problems.append("a chart without a title")
            continue
        types = {t.get("type", "scatter") for t in spec.get("data", [])}
        if types <= {"pie", "table", "indicator"}:
            continue
        for axis in ("xaxis", "yaxis"):
            ax = layout.get(axis, {})
            # heatmaps label their axes with the column names themselves
            if not _title(ax.get("title")) and "heatmap" not in types:
                problems.append(f"'{title}': {axis} has no title")
    assert problems == []
