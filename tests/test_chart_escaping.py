"""Column names and category values reach plotly charts HTML-escaped: plotly renders ``<a href>``,
``<img>`` and other tags in titles, tick labels, legends and hover text."""

from __future__ import annotations

import json
import re
import uuid

import numpy as np
import pandas as pd

from core.report import build_report
from tests.conftest import APP

HOSTILE_NAME = '<a href="https://evil.example">x</a>'
HOSTILE_VALUE = "<img src=http://127.0.0.2:9/p.png>%{y}"
RAW_TAG = re.compile(r"<a |<img", re.IGNORECASE)


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 300
    age = rng.integers(18, 80, n)
    return pd.DataFrame(
        {
            HOSTILE_NAME: age + rng.normal(0, 3, n),
            "age": age,
            "group": rng.choice([HOSTILE_VALUE, "b", "c"], n),
            "sex": rng.choice(["f", "m"], n),
        }
    )


def _session(frame: pd.DataFrame):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.session_state["dataset"] = frame
    at.session_state["dataset_name"] = "hostile.csv"
    at.session_state["dataset_id"] = uuid.uuid4().hex
    at.session_state["roles"] = {
        HOSTILE_NAME: "quasi_identifier",
        "age": "quasi_identifier",
        "group": "quasi_identifier",
        "sex": "sensitive",
    }
    at.session_state["role_reasons"] = {}
    return at


def _specs(at) -> list[str]:
    return [chart.proto.spec for chart in at.get("plotly_chart")]


def _strings(obj: object) -> list[str]:
    """Every string in a decoded figure (the JSON writes ``<`` as ``\\u003c``)."""
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in _strings(k) + _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


def _check(specs: list[str], needles: tuple[str, ...]) -> None:
    assert specs
    strings = [s for spec in specs for s in _strings(json.loads(spec))]
    raw = [s for s in strings if RAW_TAG.search(s)]
    assert not raw, raw[:3]
    assert any(n in s for s in strings for n in needles), "escaped form shown: the check bites"


def test_hostile_names_and_values_reach_every_page_chart_escaped():
    at = _session(_table())
    escaped_name = "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;"
    escaped_value = "&lt;img src=http://127.0.0.2:9/p.png&gt;&#37;{y}"
    for page, needles in (
        ("pages/correlations.py", (escaped_name,)),
        ("pages/risk.py", (escaped_name,)),
    ):
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        _check(_specs(at), needles)
    at.switch_page("pages/correlations.py").run()
    at.radio(key="corr_method").set_value("Association").run()
    for pair in ((HOSTILE_NAME, "group"), ("group", "sex"), ("sex", "group")):
        # the drill-down of a clicked pair, as the workspace keeps it
        at.session_state["workspace"] = at.session_state["workspace"].with_option(
            "correlations", "pair", pair
        )
        at.run()
        assert not at.exception, (pair, [e.message for e in at.exception])
        _check(_specs(at), (escaped_value,))
    at.switch_page("pages/differential_privacy.py").run()
    assert not at.exception
    at.selectbox(key="dp_column").set_value("group").run()
    at.selectbox(key="dp_question").set_value("mode").run()
    assert not at.exception, [e.message for e in at.exception]
    _check(_specs(at), (escaped_value,))


def test_a_click_on_an_escaped_matrix_cell_selects_the_columns_by_position():
    from ui.text import plot_label

    at = _session(_table())
    at.switch_page("pages/correlations.py").run()
    at.radio(key="corr_method").set_value("Association").run()
    matrix = json.loads(_specs(at)[0])
    markers = next(t for t in matrix["data"] if t.get("type") == "scatter")
    cells = list(zip(markers["x"], markers["y"], strict=True))
    index = cells.index((plot_label(HOSTILE_NAME), "group"))
    point = {"curve_number": 2, "point_index": index, "x": cells[index][0], "y": "group"}
    at.session_state["corr_heat_association"] = {
        "selection": {"points": [point], "point_indices": [index], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["workspace"].correlations.options["pair"] == (HOSTILE_NAME, "group")
    assert any("pair you clicked" in c.value for c in at.caption)


def test_report_html_escapes_column_names():
    frame = _table()
    roles = {HOSTILE_NAME: "quasi_identifier", "age": "quasi_identifier", "group": "other",
             "sex": "sensitive"}
    report = build_report(frame, frame, roles=roles, dataset_name=HOSTILE_NAME)
    page = report.to_html()
    assert HOSTILE_NAME not in page
    assert "&lt;a href=&quot;https://evil.example&quot;&gt;x&lt;/a&gt;" in page
