"""The scatter of the "Find a safe table" page: every anonymous node once, its index in each
marker, the frontier and the optimum marked, and a click resolved by that index."""

from __future__ import annotations

import numpy as np
import pytest

from core.anonymize import KAnonymity, anonymize
from core.anonymize.setup import builtin_hierarchies, pareto_mask
from core.samples import adult
from ui.charts import anonymize as charts

QIS = ["age", "sex", "race", "marital-status"]


@pytest.fixture(scope="module")
def result():
    df = adult().frame
    hs = {q: h for q, h in builtin_hierarchies(df).items() if q in QIS}
    return anonymize(df, QIS, hs, models=[KAnonymity(5)], suppression_limit=0.02)


def test_points_are_the_anonymous_checked_nodes_once(result):
    points = charts.anonymous_points(result)
    expected = {c.levels for c in result.checked if c.anonymous}
    assert [p.levels for p in points] == list(dict.fromkeys(
        c.levels for c in result.checked if c.anonymous))  # fmt: skip
    assert {p.levels for p in points} == expected


def test_every_marker_carries_the_index_of_its_point(result):
    points = charts.anonymous_points(result)
    fig = charts.scatter(result)
    for trace in fig.data:
        panel = 0 if trace.xaxis in (None, "x") else 1
        field = charts.PANELS[panel][0]
        for x, y, i in zip(trace.x, trace.y, trace.customdata, strict=True):
            assert (x, y) == (getattr(points[i], field), points[i].score)
    by_name = {}
    for trace in fig.data:
        by_name.setdefault(trace.name, []).append(trace)
    (star, _) = by_name["Optimum"]
    assert points[star.customdata[0]].levels == result.levels
    front, _ = by_name["Pareto frontier"]
    loss = [p.score for p in points]
    risk = [p.max_risk for p in points]
    assert sorted(front.customdata) == sorted(np.flatnonzero(pareto_mask(loss, risk)))


def test_a_click_is_read_from_the_marker_index():
    event = {"selection": {"points": [{"customdata": 3, "x": 0.1}, {"customdata": [7]}]}}
    assert charts.clicked(event) == 7
    assert charts.clicked({"selection": {"points": []}}) is None
    assert charts.clicked(None) is None
