"""AppTest of the Differential privacy page: slider, curve, release, budget, bounds warning.

Every test gets a database of its own: the budget of the Adult sample is shared by every
session that loads it, so releases of one test would otherwise spend another's budget.
"""

from __future__ import annotations

import base64
import json
import math
import os

import numpy as np
import pytest

from core import codebooks, dp, dp_utility, limits
from core.dp_form import format_number
from core.workspace import BudgetBook

PAGE = "pages/differential_privacy.py"


pytestmark = pytest.mark.usefixtures("own_database")


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


def _ledger(at):
    """The table's ledger as the database holds it."""
    fp = at.session_state["workspace"].dataset.fingerprint
    return BudgetBook.open(os.environ["PRIVLENS_DB"]).ledger(fp)


def _start_budget(at, total: float = 5.0) -> None:
    at.number_input(key="dp_total_eps").set_value(total).run()
    at.button(key="dp_start").click().run()
    assert not at.exception and not at.error


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


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
    hw = dp.discrete_laplace_half_width(10.0)
    assert _metric(at, "95% error half-width") == f"±{format_number(hw)}"
    assert not at.warning  # no warning for small epsilon


def test_error_curve_axis_spans_the_slider_range(dp_page):
    at = dp_page
    (spec,) = [v for k, v in _charts(at).items() if k.startswith("Error against")]
    lo, hi = spec["layout"]["xaxis"]["range"]
    assert 10**lo == pytest.approx(limits.EPSILON_MIN) and 10**hi == pytest.approx(10.0)
    for trace in spec["data"]:
        assert max(_values(trace["x"])) <= limits.EPSILON_MAX * (1 + 1e-9)
    options = at.select_slider(key="dp_eps").options
    assert float(options[0]) == limits.EPSILON_MIN and float(options[-1]) == limits.EPSILON_MAX


def test_large_epsilon_warns(dp_page):
    at = dp_page
    at.select_slider(key="dp_eps").set_value(6.31).run()
    assert any("weak guarantee" in w.value for w in at.warning)


def _mean_of_age(at, mechanism: str = "laplace") -> None:
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_question").set_value("mean").run()
    at.selectbox(key="dp_mechanism").set_value(mechanism).run()
    at.number_input(key="dp_lower").set_value(17.0).run()
    at.number_input(key="dp_upper").set_value(90.0).run()
    assert not at.exception and not at.error


def test_mean_gaussian_numbers_match_core(dp_page):
    at = dp_page
    _mean_of_age(at, "gaussian")
    df = at.session_state["dataset"]
    delta = at.number_input(key="dp_delta").value
    assert delta < 1 / len(df) / 100
    sens = dp_utility.query_sensitivity("mean", lower=17, upper=90, n=int(df["age"].notna().sum()))
    sigma = dp.analytic_gaussian_sigma(epsilon=1.0, delta=delta, sensitivity=sens)
    assert _metric(at, "Noise scale") == format_number(sigma)
    assert any("Original vs one simulated" in t for t in _charts(at))


def test_count_shows_no_bound_inputs(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    assert at.selectbox(key="dp_question").value == "count"
    keys = {n.key for n in at.number_input}
    assert "dp_lower" not in keys and "dp_upper" not in keys
    assert not _has_button(at, "dp_suggest")
    at.selectbox(key="dp_question").set_value("sum").run()
    keys = {n.key for n in at.number_input}
    assert {"dp_lower", "dp_upper"} <= keys


def _has_button(at, key: str) -> bool:
    return any(b.key == key for b in at.button)


def test_sum_without_bounds_says_why_release_is_disabled(dp_page):
    at = dp_page
    _start_budget(at)
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_question").set_value("sum").run()
    assert at.button(key="dp_release").disabled
    assert "Set bounds first" in _captions(at)
    assert any("State the bounds" in i.value for i in at.info)
    at.number_input(key="dp_lower").set_value(0.0).run()
    at.number_input(key="dp_upper").set_value(100.0).run()
    assert not at.button(key="dp_release").disabled
    assert "Set bounds first" not in _captions(at)


def test_large_numbers_are_shown_with_separators(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("capital-gain").run()
    at.selectbox(key="dp_question").set_value("sum").run()
    at.number_input(key="dp_lower").set_value(0.0).run()
    at.number_input(key="dp_upper").set_value(21830.0).run()
    assert not at.exception and not at.error
    # Laplace scale of a sum: max(|L|, |U|) / epsilon
    assert _metric(at, "Noise scale") == "21,830"
    shown = " ".join(m.value for m in at.metric) + " ".join(x.value for x in at.markdown)
    assert "e+0" not in shown


def test_bounds_from_data_show_a_warning(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("age").run()
    at.selectbox(key="dp_question").set_value("mean").run()
    at.button(key="dp_suggest").click().run()
    assert any("not** protected" in w.value for w in at.warning)
    df = at.session_state["dataset"]
    assert at.number_input(key="dp_lower").value == float(df["age"].min())
    assert at.number_input(key="dp_upper").value == float(df["age"].max())


def test_release_spends_the_table_budget_and_says_why_no_more(dp_page):
    at = dp_page
    assert at.button(key="dp_release").disabled  # no budget yet
    assert "Start a privacy budget first" in _captions(at)
    _start_budget(at, 1.5)
    assert any("Releasing costs" in i.value for i in at.info)  # cost shown before running
    at.button(key="dp_release").click().run()
    assert not at.exception and not at.error
    last = at.session_state["dp_last"]
    assert last.secure and last.query == "count"
    ledger = _ledger(at)
    assert [e.epsilon for e in ledger.entries] == [1.0]
    # 1 + 1 > 1.5: the button is disabled, with the reason next to it
    assert at.button(key="dp_release").disabled
    assert "No budget left: 0.5 of ε remains, this release needs 1." in _captions(at)
    assert _metric(at, "ε remaining") == "0.5"
    (record,) = at.session_state["workspace"].releases
    assert (record.query, record.column, record.epsilon) == ("count", "age", 1.0)
    assert "dp_ledgers" not in at.session_state


def test_reset_asks_for_confirmation_and_is_logged(dp_page):
    at = dp_page
    _start_budget(at, 1.0)
    at.button(key="dp_release").click().run()
    assert _ledger(at).remaining_epsilon == pytest.approx(0.0)
    assert not any(t.key == "dp_reset_reason" for t in at.text_input)
    at.button(key="dp_reset").click().run()  # reveals the confirmation step
    assert any(t.key == "dp_reset_reason" for t in at.text_input)
    assert _ledger(at).remaining_epsilon == pytest.approx(0.0)  # nothing reset yet
    at.button(key="dp_reset_yes").click().run()  # no reason given: refused
    assert any("reason" in e.value for e in at.error)
    assert _ledger(at).remaining_epsilon == pytest.approx(0.0)
    at.text_input(key="dp_reset_reason").input("the count was never published").run()
    at.button(key="dp_reset_yes").click().run()
    assert not at.exception
    assert _ledger(at).remaining_epsilon == pytest.approx(1.0)
    fp = at.session_state["workspace"].dataset.fingerprint
    events = BudgetBook.open(os.environ["PRIVLENS_DB"]).history(fp)
    (reset,) = [e for e in events if e.event == "reset"]
    assert reset.detail["reason"] == "the count was never published"
    assert reset.detail["releases_dropped"] == 1
    assert not at.button(key="dp_release").disabled


def test_categorical_column_offers_mode_and_rr_view(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("education").run()
    at.selectbox(key="dp_question").set_value("mode").run()
    assert not at.exception
    assert any("true value guessed" in m.label for m in at.metric)


def test_accuracy_target(dp_page):
    at = dp_page
    at.number_input(key="dp_target").set_value(30.0).run()
    eps = dp_utility.epsilon_for_half_width(30.0, mechanism="discrete_laplace")
    assert any(f"ε = {format_number(eps)}" in s.value for s in at.success)


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
        lo, hi = spec["layout"][ax]["range"]
        assert (10**lo, 10**hi) == pytest.approx((limits.EPSILON_MIN, limits.EPSILON_MAX))
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
    _mean_of_age(at, "gaussian")
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
    ws = app.session_state["workspace"]
    app.session_state["workspace"] = ws.with_roles({**ws.roles, "age": "identifier"})
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.selectbox(key="dp_column").value == "fnlwgt"  # first numeric non-identifier


def test_column_kind_decides_numeric_or_categorical(app):
    """An integer-coded column declared a category gets the categorical questions."""
    ws = app.session_state["workspace"]
    app.session_state["workspace"] = ws.with_cast("education-num", "category")
    app.switch_page(PAGE).run()
    app.selectbox(key="dp_column").set_value("education-num").run()
    assert not app.exception
    options = app.selectbox(key="dp_question").options
    assert "Most frequent value (mode)" in options and "Mean" not in options


def test_integer_noise_band_stays_on_the_log_axis(app):
    app.switch_page(PAGE).run()
    (curve,) = [c for c in app.get("plotly_chart") if "Error against" in c.proto.spec]
    spec = json.loads(curve.proto.spec)
    band = [t for t in spec["data"] if t.get("fill") == "tonexty"]
    y = _values(band[0]["y"])
    assert len(y) > 0 and all(v > 0 for v in y)  # no 0 on a log axis


def test_categorical_histogram_needs_a_declared_list_then_releases_exactly_it(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("race").run()
    at.selectbox(key="dp_question").set_value("histogram").run()
    assert at.radio(key="dp_domain").value == "declared"
    assert any("Declared list" in c.value for c in at.caption)
    _start_budget(at)
    assert at.button(key="dp_release").disabled  # nothing is charged for a failing release
    assert "List the public categories first." in _captions(at)
    assert _ledger(at).entries == ()
    at.button(key="dp_cats_fill").click().run()  # the published Adult codebook
    assert at.text_area(key="dp_cats").value == "\n".join(codebooks.categories_for("race"))
    at.button(key="dp_release").click().run()
    assert not at.exception
    last = at.session_state["dp_last"]
    assert last.labels == codebooks.categories_for("race") and last.domain == "declared"


def test_threshold_histogram_asks_for_delta_and_charges_it(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("native-country").run()
    at.selectbox(key="dp_question").set_value("histogram").run()
    at.radio(key="dp_domain").set_value("threshold").run()
    assert at.selectbox(key="dp_mechanism").value == "discrete_laplace"
    assert at.selectbox(key="dp_mechanism").options == ["Discrete Laplace (integer noise)"]
    assert any("Threshold histogram" in c.value for c in at.caption)
    at.number_input(key="dp_delta").set_value(1e-6).run()
    _start_budget(at)
    at.button(key="dp_release").click().run()
    assert not at.exception and not at.error
    last = at.session_state["dp_last"]
    t = dp.stability_threshold(epsilon=limits.EPSILON_DEFAULT, delta=1e-6)
    assert last.domain == "threshold" and last.threshold == t
    assert "United-States" in last.labels and all(v >= t for v in last.value)
    assert _ledger(at).entries[-1].delta == 1e-6


def test_released_mean_carries_no_record_count(dp_page):
    at = dp_page
    _mean_of_age(at)
    _start_budget(at)
    at.button(key="dp_release").click().run()
    assert not at.exception
    last = at.session_state["dp_last"]
    n = int(at.session_state["dataset"]["age"].notna().sum())
    assert last.neighbours == dp.ADD_REMOVE
    shown = " ".join(w.value for w in at.warning) + " ".join(last.warnings)
    assert str(n) not in shown and f"{n:,}" not in shown
    assert math.isfinite(last.value)


# --- settings live in the workspace: navigation and a reload keep them ---------------------------

WIDGETS = ("selectbox", "number_input", "select_slider", "slider", "multiselect", "text_area")


def _shown(at) -> dict:
    """Every DP widget's value, every metric, every chart title and every info/caption line."""
    out: dict = {}
    for kind in WIDGETS:
        for w in getattr(at, kind):
            if w.key and w.key.startswith("dp_"):
                out[w.key] = w.value
    for r in at.radio:
        if r.key and r.key.startswith("dp_"):
            out[r.key] = r.value
    out["metrics"] = [(m.label, m.value) for m in at.metric]
    out["charts"] = sorted(_charts(at))
    out["captions"] = [c.value for c in at.caption if not c.value.startswith("Dataset:")]
    return out


def _numeric_settings(at) -> None:
    _mean_of_age(at, "gaussian")
    at.number_input(key="dp_delta").set_value(1e-8).run()
    at.select_slider(key="dp_eps").set_value(0.501).run()
    at.slider(key="dp_prior").set_value(0.3).run()
    at.number_input(key="dp_target").set_value(0.5).run()
    at.multiselect(key="dp_md_numeric").set_value(["hours-per-week"]).run()
    at.multiselect(key="dp_md_categorical").set_value(["sex"]).run()
    at.number_input(key="dp_md_upper_hours-per-week").set_value(99.0).run()
    at.number_input(key="dp_total_eps").set_value(2.5).run()
    assert not at.exception and not at.error


def _assert_numeric_settings_in_workspace(at) -> None:
    s = at.session_state["workspace"].dp
    assert (s.column, s.question, s.mechanism) == ("age", "mean", "gaussian")
    assert (s.epsilon, s.delta, s.lower, s.upper) == (0.501, 1e-8, 17.0, 90.0)
    assert s.total_epsilon == 2.5
    assert s.options["prior"] == 0.3 and s.options["target"] == 0.5
    assert s.options["md_numeric"] == ("hours-per-week",)
    assert s.options["md_categorical"] == ("sex",)
    assert s.options["md_upper:hours-per-week"] == 99.0


def test_every_setting_survives_navigation(dp_page):
    at = dp_page
    _numeric_settings(at)
    before = _shown(at)
    assert before["dp_question"] == "mean" and before["dp_eps"] == 0.501
    for page in ("pages/data.py", "pages/risk.py", "pages/masking.py"):
        at.switch_page(page).run()
        assert not at.exception
        at.switch_page(PAGE).run()
        assert not at.exception
        assert _shown(at) == before
    _assert_numeric_settings_in_workspace(at)


def test_categorical_settings_survive_navigation(dp_page):
    at = dp_page
    at.selectbox(key="dp_column").set_value("race").run()
    at.selectbox(key="dp_question").set_value("histogram").run()
    at.button(key="dp_cats_fill").click().run()
    at.select_slider(key="dp_eps").set_value(0.251).run()
    before = _shown(at)
    assert before["dp_cats"] and before["dp_domain"] == "declared"
    at.switch_page("pages/export.py").run()
    at.switch_page(PAGE).run()
    assert _shown(at) == before
    at.radio(key="dp_domain").set_value("threshold").run()
    at.number_input(key="dp_delta").set_value(1e-9).run()
    before = _shown(at)
    at.switch_page("pages/correlations.py").run()
    at.switch_page(PAGE).run()
    assert _shown(at) == before
    s = at.session_state["workspace"].dp
    assert (s.column, s.question, s.delta) == ("race", "histogram", 1e-9)
    assert s.options["domain"] == "threshold"
    assert s.options["categories:race"] == "\n".join(codebooks.categories_for("race"))


def test_bounds_are_kept_per_column(dp_page):
    at = dp_page
    _mean_of_age(at)
    at.selectbox(key="dp_column").set_value("hours-per-week").run()
    assert at.number_input(key="dp_lower").value is None  # its own bounds: none yet
    at.number_input(key="dp_upper").set_value(99.0).run()
    at.number_input(key="dp_lower").set_value(1.0).run()
    at.selectbox(key="dp_column").set_value("age").run()
    assert (at.number_input(key="dp_lower").value, at.number_input(key="dp_upper").value) == (
        17.0,
        90.0,
    )
    assert not at.error


def test_reload_with_the_token_restores_settings_and_results(dp_page):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    at = dp_page
    _numeric_settings(at)
    before = _shown(at)
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["ws"] = at.session_state["ws_token"]
    again.run()
    again.switch_page(PAGE).run()
    assert not again.exception
    assert again.session_state["ws_token"] == at.session_state["ws_token"]
    assert _shown(again) == before
    _assert_numeric_settings_in_workspace(again)
