"""Headless tests of the Correlations page (AppTest) on the Adult sample."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from core.correlation import correlation_matrix, leakage_ranking

PAGE = "pages/correlations.py"


def _charts(at) -> dict[str, dict]:
    """Plotly figures on the page by their title text."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        title = spec["layout"].get("title", {}).get("text", "")
        out[title] = spec
    return out


def _array(value) -> np.ndarray:
    """A figure array: plain JSON list or plotly's typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(v) for v in shape.split(",")]
        return flat.reshape(shape) if shape else flat
    return np.array(value, dtype=float)


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_pearson_heatmap_has_fixed_diverging_scale(page):
    charts = _charts(page)
    spec = charts["Pearson"]
    main = spec["data"][0]
    assert main["type"] == "heatmap"
    assert (main["zmin"], main["zmax"]) == (-1, 1)
    assert main["colorscale"][0][1].lower() in ("rgb(103,0,31)", "#67001f")  # RdBu, red end
    # a click target per cell
    n = len(main["x"])
    assert len(spec["data"][2]["x"]) == n * n


def test_cells_above_alpha_are_greyed(page):
    page.slider(key="corr_alpha").set_value(0.001).run()
    spec = _charts(page)["Pearson"]
    labels = spec["data"][0]["x"]
    df = page.session_state["dataset"]
    ref = correlation_matrix(df, method="pearson", columns=labels)
    grey = _array(spec["data"][1]["z"]).astype(float)
    coloured = _array(spec["data"][0]["z"]).astype(float)
    expected_grey = np.isfinite(ref.r) & (ref.p_adjusted > 0.001)
    np.testing.assert_array_equal(np.isfinite(grey), expected_grey)
    np.testing.assert_array_equal(np.isfinite(coloured), np.isfinite(ref.r) & ~expected_grey)
    assert expected_grey.any() and (~expected_grey).any()  # the check sees both kinds


@pytest.mark.parametrize(
    ("choice", "titles"),
    [
        ("Spearman", {"Spearman"}),
        ("Kendall", {"Kendall"}),
        ("All three", {"Pearson", "Spearman", "Kendall"}),
        ("Association", {"Association matrix"}),
    ],
)
def test_method_switch(page, choice, titles):
    page.radio(key="corr_method").set_value(choice).run()
    assert not page.exception
    assert not page.error
    assert titles <= set(_charts(page))
    heatmaps = [t for t, s in _charts(page).items() if s["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == len(titles)


def test_association_matrix_covers_categorical_columns(page):
    page.radio(key="corr_method").set_value("Association").run()
    labels = _charts(page)["Association matrix"]["data"][0]["x"]
    assert {"sex", "relationship", "age"} <= set(labels)


def test_drilldown_numeric_pair_from_session_state(page):
    page.session_state["corr_pair"] = ("age", "hours-per-week")
    page.run()
    assert not page.exception
    assert any(m.value == "**age** × **hours-per-week**" for m in page.markdown)
    spec = _charts(page)["hours-per-week against age"]
    assert len(spec["data"]) == 2  # the points and the trend line
    assert spec["data"][1]["name"] == "least-squares line"
    assert any("uniform random sample of 5,000" in c.value for c in page.caption)


def test_drilldown_mixed_pair_is_a_box_plot(page):
    page.radio(key="corr_method").set_value("Association").run()
    page.session_state["corr_pair"] = ("sex", "age")
    page.run()
    assert not page.exception
    spec = _charts(page)["age by sex"]
    assert spec["data"][0]["type"] == "box"


def test_drilldown_defaults_to_strongest_pair(page):
    assert any("showing the strongest pair" in c.value for c in page.caption)
    df = page.session_state["dataset"]
    strongest = correlation_matrix(df, method="pearson").pairs().iloc[0]
    want = f"**{strongest['column_a']}** × **{strongest['column_b']}**"
    assert any(m.value == want for m in page.markdown)


def test_leakage_flags_relationship_for_sex(page):
    page.selectbox(key="corr_sensitive").set_value("sex").run()
    assert not page.exception
    assert any("proxy for 'sex'" in w.value and "relationship" in w.value for w in page.warning)
    assert "How much each column reveals 'sex'" in _charts(page)


def test_bad_choice_shows_error_not_traceback(app):
    app.session_state["dataset"] = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 1.0, 4.0, 3.0], "s": ["SECRET"] * 4}
    )
    app.session_state["roles"] = {"a": "other", "b": "other", "s": "sensitive"}
    app.switch_page(PAGE).run()
    assert not app.exception
    with pytest.raises(Exception, match="constant"):
        leakage_ranking(app.session_state["dataset"], sensitive="s")
    assert any("'s' is constant" in e.value for e in app.error)
    assert all("SECRET" not in e.value for e in app.error)


def test_downloads_are_offered(page):
    labels = {b.label for b in page.get("download_button")}
    assert {"Download all pairs (CSV)", "Download the matrices (CSV)"} <= labels


def test_drilldown_categorical_pair_is_a_share_table(page):
    page.radio(key="corr_method").set_value("Association").run()
    page.session_state["corr_pair"] = ("relationship", "sex")
    page.run()
    assert not page.exception
    spec = _charts(page)["Share of each 'sex' value within each 'relationship' value"]
    assert spec["data"][0]["type"] == "heatmap"


def test_sample_estimate_is_labelled(page):
    page.radio(key="corr_method").set_value("Kendall").run()
    page.toggle(key="corr_sample").set_value(True).run()
    page.number_input(key="corr_sample_rows").set_value(5_000).run()
    assert not page.exception
    assert "Kendall (sample estimate)" in _charts(page)
    assert any("uniform random sample of 5,000 of 32,561 rows" in w.value for w in page.warning)
