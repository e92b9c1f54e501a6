"""Headless tests of the Correlations page (AppTest) on the Adult sample."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.correlation import correlation_matrix, leakage_ranking

PAGE = "pages/correlations.py"
MATRICES = ("Pearson", "Spearman", "Kendall", "Association matrix")


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


def _click(at, title: str, key: str, column: str, row: str) -> None:
    """Click the cell (column, row) of the matrix titled ``title`` (drawn with ``key``)."""
    spec = _charts(at)[title]
    labels = list(spec["data"][0]["x"])
    index = labels.index(row) * len(labels) + labels.index(column)
    point = {"curve_number": 2, "point_index": index, "x": column, "y": row}
    at.session_state[key] = {
        "selection": {"points": [point], "point_indices": [index], "box": [], "lasso": []}
    }
    at.run()
    assert not at.exception, [e.message for e in at.exception]


def _drill_title(at) -> str:
    """Title of the drill-down figure (the chart that is neither a matrix nor the leakage bars)."""
    drill = [t for t in _charts(at) if not t.startswith((*MATRICES, "How much each column"))]
    assert len(drill) == 1, list(_charts(at))
    return drill[0]


def _titles(block) -> list[str]:
    """Titles of the charts directly in a block (a column)."""
    return [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in block.get("plotly_chart")]


def _pair_shown(at) -> str:
    return next(m.value for m in at.markdown if " × " in m.value)


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


def test_drilldown_numeric_pair_from_a_click(page):
    _click(page, "Pearson", "corr_heat_pearson", "age", "hours-per-week")
    assert _pair_shown(page) == "**age** × **hours-per-week**"
    assert page.session_state["workspace"].correlations.options["pair"] == (
        "age",
        "hours-per-week",
    )
    spec = _charts(page)["hours-per-week against age"]
    assert len(spec["data"]) == 2  # the points and the trend line
    assert spec["data"][1]["name"] == "least-squares line"
    assert any("uniform random sample of 5,000" in c.value for c in page.caption)


def test_drilldown_mixed_pair_is_a_box_plot(page):
    page.radio(key="corr_method").set_value("Association").run()
    _click(page, "Association matrix", "corr_heat_association", "sex", "age")
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
    _click(page, "Association matrix", "corr_heat_association", "relationship", "sex")
    spec = _charts(page)["Share of each 'sex' value within each 'relationship' value"]
    assert spec["data"][0]["type"] == "heatmap"


def test_sample_estimate_is_labelled(page):
    page.radio(key="corr_method").set_value("Kendall").run()
    page.toggle(key="corr_sample").set_value(True).run()
    page.number_input(key="corr_sample_rows").set_value(5_000).run()
    assert not page.exception
    assert "Kendall (sample estimate)" in _charts(page)
    assert any("uniform random sample of 5,000 of 32,561 rows" in w.value for w in page.warning)


# --- the settings live in the workspace -------------------------------------------------------

CHOSEN = ("age", "education-num", "hours-per-week", "capital-gain")


def _settings(at) -> dict:
    """Everything the page shows that a setting decides."""
    return {
        "method": at.radio(key="corr_method").value,
        "alpha": at.slider(key="corr_alpha").value,
        "columns": list(at.multiselect(key="corr_cols_numeric").value),
        "sample": at.toggle(key="corr_sample").value,
        "sample_rows": at.number_input(key="corr_sample_rows").value,
        "sensitive": at.selectbox(key="corr_sensitive").value,
        "pair": _pair_shown(at),
        "drill": _drill_title(at),
        "charts": sorted(_charts(at)),
        "pairs": at.dataframe[0].value.to_dict(),
        "leakage": at.dataframe[1].value.to_dict(),
    }


def _change_everything(at) -> dict:
    at.radio(key="corr_method").set_value("Spearman").run()
    at.slider(key="corr_alpha").set_value(0.01).run()
    at.multiselect(key="corr_cols_numeric").set_value(list(CHOSEN)).run()
    at.toggle(key="corr_sample").set_value(True).run()
    at.number_input(key="corr_sample_rows").set_value(5_000).run()
    _click(at, "Spearman (sample estimate)", "corr_heat_spearman", "capital-gain", "age")
    at.selectbox(key="corr_sensitive").set_value("race").run()
    assert not at.exception and not at.error
    shown = _settings(at)
    assert shown["pair"] == "**capital-gain** × **age**"
    assert shown["drill"] == "age against capital-gain"
    assert "How much each column reveals 'race'" in shown["charts"]
    return shown


def test_every_setting_is_kept_in_the_workspace(page):
    _change_everything(page)
    opts = page.session_state["workspace"].correlations.options
    assert opts["method"] == "Spearman"
    assert opts["alpha"] == pytest.approx(0.01)
    assert opts["columns_numeric"] == CHOSEN
    assert opts["sample"] is True and opts["sample_rows"] == 5_000
    assert opts["pair"] == ("capital-gain", "age")
    assert opts["sensitive"] == "race"


def test_every_setting_survives_navigating_away_and_back(page):
    shown = _change_everything(page)
    for other in ("pages/data.py", "pages/home.py"):
        page.switch_page(other).run()
        assert not page.exception
        page.switch_page(PAGE).run()
        assert not page.exception
        assert _settings(page) == shown


def test_association_settings_survive_navigation(page):
    page.radio(key="corr_method").set_value("Association").run()
    page.multiselect(key="corr_cols_association").set_value(["sex", "relationship", "age"]).run()
    _click(page, "Association matrix", "corr_heat_association", "relationship", "sex")
    before = (_pair_shown(page), _drill_title(page), page.dataframe[0].value.to_dict())
    page.switch_page("pages/data.py").run()
    page.switch_page(PAGE).run()
    assert page.radio(key="corr_method").value == "Association"
    assert page.multiselect(key="corr_cols_association").value == ["sex", "relationship", "age"]
    assert (_pair_shown(page), _drill_title(page), page.dataframe[0].value.to_dict()) == before


def test_settings_are_restored_from_the_link_in_a_new_session(page):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    shown = _change_everything(page)
    other = AppTest.from_file(APP, default_timeout=60)
    other.query_params["ws"] = page.session_state["ws_token"]
    other.run()
    assert not other.exception
    other.switch_page(PAGE).run()
    assert not other.exception
    assert _settings(other) == shown


# --- the walk-through's findings ------------------------------------------------------------


def test_a_click_changes_the_drilldown_next_to_the_matrix(page):
    first = _drill_title(page)
    _click(page, "Pearson", "corr_heat_pearson", "fnlwgt", "capital-loss")
    assert _drill_title(page) == "capital-loss against fnlwgt" != first
    assert any("pair you clicked" in c.value for c in page.caption)
    # the drill-down sits in the column beside the matrix, not below the tables
    heat = [c for c in page.columns if _titles(c) == ["Pearson"]]
    drill = [c for c in page.columns if _titles(c) == ["capital-loss against fnlwgt"]]
    assert len(heat) == len(drill) == 1
    columns = list(page.columns)
    assert columns.index(drill[0]) == columns.index(heat[0]) + 1


def test_an_old_selection_does_not_override_a_new_click(page):
    page.radio(key="corr_method").set_value("All three").run()
    _click(page, "Kendall", "corr_heat_kendall", "fnlwgt", "age")
    _click(page, "Pearson", "corr_heat_pearson", "capital-gain", "hours-per-week")
    assert _pair_shown(page) == "**capital-gain** × **hours-per-week**"
    page.run()  # the Kendall selection is still there, and is old
    assert _pair_shown(page) == "**capital-gain** × **hours-per-week**"


def test_all_three_shows_full_size_matrices_in_tabs_with_every_label(app):
    frame = _testdata()
    app.session_state["dataset"] = frame
    app.switch_page(PAGE).run()
    app.radio(key="corr_method").set_value("All three").run()
    assert not app.exception
    assert [t.label for t in app.tabs] == ["Pearson", "Spearman", "Kendall"]
    k = len(app.multiselect(key="corr_cols_numeric").value)
    assert k == 15
    for title in ("Pearson", "Spearman", "Kendall"):
        spec = _charts(app)[title]
        assert len(spec["data"][0]["x"]) == k
        for axis in ("xaxis", "yaxis"):  # every column is labelled, none skipped
            assert spec["layout"][axis]["tickmode"] == "array"
            assert list(spec["layout"][axis]["tickvals"]) == list(spec["data"][0]["x"])
        assert spec["layout"]["height"] >= 40 * k
    # each tab holds one matrix at the full width of the matrix column
    for tab in app.tabs:
        assert len(tab.get("plotly_chart")) == 1


def test_no_warning_is_shown_twice(app):
    frame = _testdata()
    app.session_state["dataset"] = frame
    app.switch_page(PAGE).run()
    app.radio(key="corr_method").set_value("Association").run()
    app.selectbox(key="corr_sensitive").set_value("roof").run()
    assert not app.exception
    texts = [w.value for w in app.warning]
    # the matrix and the leakage ranking both find the constant weight column
    assert sum("sampling" in t and "is constant" in t for t in texts) == 1, texts
    assert len(texts) == len(set(texts)), texts


def test_tables_and_legend_show_no_raw_none_or_booleans(page):
    page.selectbox(key="corr_sensitive").set_value("sex").run()
    for table in page.dataframe:
        cells = table.value.astype(str).to_numpy().ravel()
        assert not {"None", "nan", "NaN", "True", "False"} & set(cells)
    leak = page.dataframe[1].value
    assert "—" in set(leak["lift (λ)"])  # ranked beyond the top columns: no value, shown so
    assert set(leak["Possible proxy"]) == {"yes", "no"}
    bars = _charts(page)["How much each column reveals 'sex'"]
    assert {t["name"] for t in bars["data"]} == {"yes", "no"}
    assert bars["layout"]["legend"]["title"]["text"] == "Possible proxy"


# --- the Data page's column kinds ----------------------------------------------------------

TESTDATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "sdcmicro_testdata.csv"
CODED = ("urbrur", "roof", "walls")


def _testdata() -> pd.DataFrame:
    if not TESTDATA.exists():
        pytest.skip("sdcMicro testdata CSV not available")
    return pd.read_csv(TESTDATA)


@pytest.fixture(params=["declared", "cast"])
def coded(app, request):
    """sdcMicro testdata with urbrur, roof and walls declared category on the Data page.

    ``declared`` changes only the kinds (the values stay integers); ``cast`` also casts the
    columns, as the Data page does.
    """
    from core.kinds import cast_column

    frame = _testdata()
    app.session_state["dataset"] = frame
    app.switch_page(PAGE).run()
    ws = app.session_state["workspace"]
    for column in CODED:
        ws = ws.with_cast(column, "category")
        if request.param == "cast":
            frame = cast_column(frame, column, "category").frame
    app.session_state["dataset"] = frame
    app.session_state["workspace"] = ws
    app.run()
    assert not app.exception
    return app


def test_declared_categories_are_not_correlated_on_their_codes(coded):
    options = coded.multiselect(key="corr_cols_numeric").options
    assert not set(CODED) & set(options) and "expend" in options
    assert not set(CODED) & set(_charts(coded)["Pearson"]["data"][0]["x"])
    assert any("urbrur, roof, walls" in c.value for c in coded.caption)


def test_association_labels_declared_categories_with_their_measure(coded):
    from core.correlation import association_matrix

    coded.radio(key="corr_method").set_value("Association").run()
    table = coded.dataframe[0].value
    row = table[(table["column A"] == "roof") & (table["column B"] == "walls")]
    ref = association_matrix(
        coded.session_state["dataset"],
        columns=["roof", "walls"],
        kinds=dict.fromkeys(CODED, "category"),
    )
    assert row["measure"].tolist() == ["Cramér's V"]
    assert row["value"].tolist() == [f"{ref.value[0, 1]:.3f}"]
    hover = _charts(coded)["Association matrix"]["data"][2]["hovertext"]
    assert any(h.startswith("roof × walls<br>Cramér's V") for h in hover)
    assert any(
        h.startswith(
            ("urbrur × expend<br>correlation ratio η", "expend × urbrur<br>correlation ratio η")
        )
        for h in hover
    )
    coded_pairs = [
        h
        for h in hover
        if h.split("<br>")[0] in {f"{a} × {b}" for a in CODED for b in CODED if a != b}
    ]
    assert len(coded_pairs) == 6
    assert all("<br>Cramér's V" in h for h in coded_pairs)


def test_drilldown_of_declared_categories_is_a_table_or_boxes(coded):
    coded.radio(key="corr_method").set_value("Association").run()
    _click(coded, "Association matrix", "corr_heat_association", "roof", "walls")
    title = _drill_title(coded)
    assert title == "Share of each 'walls' value within each 'roof' value"
    spec = _charts(coded)[title]
    assert [t["type"] for t in spec["data"]] == ["heatmap"]  # no least-squares line
    _click(coded, "Association matrix", "corr_heat_association", "expend", "urbrur")
    spec = _charts(coded)["expend by urbrur"]
    assert [t["type"] for t in spec["data"]] == ["box"]
