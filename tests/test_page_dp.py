"""AppTest of the Differential privacy page: slider, curve, release, budget, bounds warning."""

from __future__ import annotations

import json

import pytest

from core import dp, dp_utility

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
