"""AppTest of the Differential privacy page: slider, curve, release, budget, bounds warning."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from core import codebooks, dp, dp_utility, limits

PAGE = "pages/differential_privacy.py"


@pytest.fixture
def dp_page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _charts(at) -> dict[str, dict]:
    out = {}
    for el in at.get("plotly_chart"):
        spec = json.loads(el.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_slider_moves_the_curve_marker_and_numbers(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    titles = list(_charts(at))
    assert any("ε = 1" in t for t in titles)
    at.select_slider(key="dp_eps").set_value(0.1).run()
    assert not at.exception
    charts = _charts(at)
    assert any("ε = 0.1" in t for t in charts)
    # the count's discrete Laplace half-width at eps = 0.1, from core
    assert _metric(at, "95% error half-width") == f"±{dp.discrete_laplace_half_width(10.0):.4g}"
    assert not at.warning  # no warning for small epsilon


def test_large_epsilon_warns(dp_page):
    at = dp_page
    at.select_slider(key="dp_eps").set_value(6.31).run()
    assert any("weak guarantee" in w.value for w in at.warning)


def test_mean_gaussian_numbers_match_core(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_query_True").set_value("mean").run()
    at.selectbox(key="dp_mech_mean").set_value("gaussian").run()
    at.number_input(key="dp_lower_age").set_value(17.0).run()
    at.number_input(key="dp_upper_age").set_value(90.0).run()
    assert not at.exception and not at.error
    df = at.session_state["dataset"]
    delta = at.number_input(key="dp_delta").value
    assert delta < 1 / len(df) / 100
    sens = dp_utility.query_sensitivity("mean", lower=17, upper=90, n=int(df["age"].notna().sum()))
    sigma = dp.analytic_gaussian_sigma(epsilon=1.0, delta=delta, sensitivity=sens)
    assert _metric(at, "Noise scale") == f"{sigma:.4g}"
    assert any("Original vs one simulated" in t for t in _charts(at))


def test_bounds_from_data_show_a_warning(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    at.button(key="dp_suggest").click().run()
    assert any("not** protected" in w.value or "not protected" in w.value for w in at.warning)


def test_release_spends_budget_and_refuses_overspend(dp_page):
    at = dp_page
    assert at.button(key="dp_release").disabled  # no budget yet
    at.number_input(key="dp_total_eps").set_value(1.5).run()
    at.button(key="dp_start").click().run()
    assert any("Releasing costs" in i.value for i in at.info)  # cost shown before running
    at.button(key="dp_release").click().run()
    assert not at.exception and not at.error
    last = at.session_state["dp_last"]
    assert last.secure and last.query == "count"
    at.button(key="dp_release").click().run()  # 1 + 1 > 1.5
    assert any("above the budget" in e.value for e in at.error)
    ledgers = at.session_state["dp_ledgers"]
    (ledger,) = ledgers.values()
    assert len(ledger.entries) == 1


def test_categorical_column_offers_mode_and_rr_view(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("education").run()
    at.selectbox(key="dp_query_False").set_value("mode").run()
    assert not at.exception
    assert any("true value guessed" in m.label for m in at.metric)


def test_accuracy_target(dp_page):
    at = dp_page
    at.number_input(key="dp_target").set_value(30.0).run()
    eps = dp_utility.epsilon_for_half_width(30.0, mechanism="discrete_laplace")
    assert any(f"ε = {eps:.4g}" in s.value for s in at.success)


OKABE_ITO = {"#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442"}


def _assert_chart_conventions(spec: dict) -> None:
    """Titled, every axis labelled, every coloured trace from the Okabe-Ito palette."""
    layout = spec["layout"]
    assert layout["title"]["text"]
    axes = [k for k in layout if k.startswith(("xaxis", "yaxis"))]
    assert axes
    for ax in axes:
        assert layout[ax]["title"]["text"], ax
    for tr in spec["data"]:
        colour = (tr.get("line") or {}).get("color") or (tr.get("marker") or {}).get("color")
        assert colour in OKABE_ITO, (tr.get("name"), colour)


def _values(arr) -> list[float]:
    """A plotly array from the figure JSON: a list, or base64 binary (plotly >= 6)."""
    if isinstance(arr, dict):
        return np.frombuffer(base64.b64decode(arr["bdata"]), dtype=arr["dtype"]).tolist()
    return list(arr)


def _md_chart(at) -> dict:
    return next(v for k, v in _charts(at).items() if k.startswith("Microdata release"))


def test_microdata_section_waits_for_columns(dp_page):
    at = dp_page
    assert any("Pick columns" in i.value for i in at.info)
    assert not any(t.startswith("Microdata") for t in _charts(at))


def test_microdata_curve_matches_core_and_marks_epsilon(dp_page):
    at = dp_page
    at.multiselect(key="dp_md_numeric").set_value(["age", "hours-per-week"]).run()
    at.multiselect(key="dp_md_categorical").set_value(["sex"]).run()
    at.number_input(key="dp_md_lower_age").set_value(17.0).run()
    at.number_input(key="dp_md_upper_age").set_value(90.0).run()
    at.number_input(key="dp_md_upper_hours-per-week").set_value(99.0).run()
    assert not at.exception and not at.error
    spec = _md_chart(at)
    _assert_chart_conventions(spec)
    df = at.session_state["dataset"]
    ref = dp_utility.microdata_utility_curve(
        df,
        bounds={"age": (17.0, 90.0), "hours-per-week": (0.0, 99.0)},
        categorical=["sex"],
        epsilons=dp_utility.epsilon_grid(limits.MICRODATA_CURVE_POINTS),
        sample_rows=limits.MICRODATA_SAMPLE_ROWS,
    )
    traces = {tr["name"]: tr for tr in spec["data"]}
    for name, col in [("MAE", "mae"), ("TV distance", "tv_distance"), ("Kendall τ-b", "kendall")]:
        assert _values(traces[name]["y"]) == pytest.approx(ref.table[col].tolist())
    for ax in ("xaxis", "xaxis2", "xaxis3", "xaxis4"):
        assert spec["layout"][ax]["type"] == "log"
    # the Adult sample has more rows than the cap: the page says it used a sample
    assert ref.sampled
    assert (
        f"{limits.MICRODATA_SAMPLE_ROWS:,} of {len(df):,} rows" in spec["layout"]["title"]["text"]
    )
    assert any("uniform random sample" in c.value for c in at.caption)
    marks = [s["x0"] for s in spec["layout"]["shapes"]]
    assert marks and all(m == pytest.approx(1.0) for m in marks)
    at.select_slider(key="dp_eps").set_value(0.1).run()
    spec = _md_chart(at)
    assert "ε = 0.1" in spec["layout"]["title"]["text"]
    assert all(s["x0"] == pytest.approx(0.1) for s in spec["layout"]["shapes"])


def test_microdata_only_categorical_hides_numeric_panels(dp_page):
    at = dp_page
    at.multiselect(key="dp_md_categorical").set_value(["race", "sex"]).run()
    spec = _md_chart(at)
    names = {tr["name"] for tr in spec["data"]}
    assert names == {"TV distance"}
    assert not at.exception


def test_microdata_bounds_from_data_warn(dp_page):
    at = dp_page
    at.multiselect(key="dp_md_numeric").set_value(["age"]).run()
    at.button(key="dp_md_suggest").click().run()
    assert any("not** protected" in w.value and "(age)" in w.value for w in at.warning)
    # the clamping count travels as a warning when the bounds cut values
    at.number_input(key="dp_md_upper_age").set_value(50.0).run()
    assert any("are clamped" in w.value for w in at.warning)


def test_page_charts_follow_conventions_and_metrics_explain_themselves(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_query_True").set_value("mean").run()
    at.selectbox(key="dp_mech_mean").set_value("gaussian").run()
    at.select_slider(key="dp_eps").set_value(0.501).run()
    at.multiselect(key="dp_md_numeric").set_value(["age"]).run()
    charts = _charts(at)
    assert len(charts) == 3  # error curve, overlay, microdata curve
    for spec in charts.values():
        _assert_chart_conventions(spec)
    assert at.metric  # includes the classic-formula comparison at eps < 1
    assert any(m.label.startswith("Classic") for m in at.metric)
    for m in at.metric:
        assert m.help, m.label


def test_default_column_is_numeric_and_not_an_identifier(app):
    app.session_state["roles"] = {**app.session_state["roles"], "age": "identifier"}
    app.switch_page("pages/differential_privacy.py").run()
    assert not app.exception
    assert app.selectbox(key="dp_column").value == "fnlwgt"  # first numeric non-identifier


def test_integer_noise_band_stays_on_the_log_axis(app):
    import json

    app.switch_page("pages/differential_privacy.py").run()
    (curve,) = [c for c in app.get("plotly_chart") if "Error against" in c.proto.spec]
    spec = json.loads(curve.proto.spec)
    band = [t for t in spec["data"] if t.get("fill") == "tonexty"]
    y = band[0]["y"]
    if isinstance(y, dict):  # plotly's typed-array encoding
        import base64

        import numpy as np

        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"])
    assert len(y) > 0 and all(v > 0 for v in y)  # no 0 on a log axis


def _start_budget(at, total: float = 5.0) -> None:
    at.number_input(key="dp_total_eps").set_value(total).run()
    at.button(key="dp_start").click().run()


def test_categorical_histogram_needs_a_declared_list_then_releases_exactly_it(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("race").run()
    at.selectbox(key="dp_query_False").set_value("histogram").run()
    assert at.radio(key="dp_domain").value == "declared"
    assert any("Declared list" in c.value for c in at.caption)
    _start_budget(at)
    at.button(key="dp_release").click().run()
    assert any("public list of categories" in e.value for e in at.error)
    assert "dp_last" not in at.session_state or at.session_state["dp_last"] is None
    at.button(key="dp_cats_fill").click().run()  # the published Adult codebook
    at.button(key="dp_release").click().run()
    assert not at.exception
    last = at.session_state["dp_last"]
    assert last.labels == codebooks.categories_for("race") and last.domain == "declared"


def test_threshold_histogram_asks_for_delta_and_charges_it(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("native-country").run()
    at.selectbox(key="dp_query_False").set_value("histogram").run()
    at.radio(key="dp_domain").set_value("threshold").run()
    assert at.selectbox(key="dp_mech_histogram_threshold").value == "discrete_laplace"
    assert any("Threshold histogram" in c.value for c in at.caption)
    at.number_input(key="dp_delta").set_value(1e-6).run()
    _start_budget(at)
    at.button(key="dp_release").click().run()
    assert not at.exception and not at.error
    last = at.session_state["dp_last"]
    t = dp.stability_threshold(epsilon=limits.EPSILON_DEFAULT, delta=1e-6)
    assert last.domain == "threshold" and last.threshold == t
    assert "United-States" in last.labels and all(v >= t for v in last.value)
    entry = at.session_state["dp_ledgers"][at.session_state["dataset_id"]].entries[-1]
    assert entry.delta == 1e-6


def test_released_mean_carries_no_record_count(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_query_True").set_value("mean").run()
    _start_budget(at)
    at.button(key="dp_release").click().run()
    assert not at.exception
    last = at.session_state["dp_last"]
    n = int(at.session_state["dataset"]["age"].notna().sum())
    assert last.neighbours == dp.ADD_REMOVE
    shown = " ".join(w.value for w in at.warning) + " ".join(last.warnings)
    assert str(n) not in shown and f"{n:,}" not in shown
