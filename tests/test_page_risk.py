"""AppTest of the Re-identification risk page: defaults, figures, switches, bad input."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd
import pytest

from core import risk
from tests.conftest import ROOT

PAGE = "pages/risk.py"


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.fixture
def risk_page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_page_shows_k_matching_core_on_role_defaults(risk_page):
    at = risk_page
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    assert qis, "quasi-identifiers default to the roles"
    expected = risk.risk_summary(df, qis)
    assert _metric(at, "k (k-anonymity)") == f"{expected.k:,}"
    assert _metric(at, "Equivalence classes") == f"{expected.n_classes:,}"
    assert _metric(at, "Sample uniques") == f"{expected.sample_uniques:,}"
    assert not at.error
    # every headline card carries a tooltip with its formula
    assert all(m.proto.help for m in at.metric)


def test_switches_recompute(risk_page):
    at = risk_page
    at.multiselect[0].set_value(["sex", "race"]).run()
    assert not at.exception
    df = at.session_state["dataset"]
    assert _metric(at, "k (k-anonymity)") == f"{risk.k_anonymity(df, ['sex', 'race']):,}"
    at.radio(key="risk_missing").set_value("wildcard").run()
    assert not at.exception
    at.toggle(key="risk_is_sample").set_value(True).run()
    assert not at.exception
    assert _metric(at, "Journalist risk") != "—"


def test_no_qi_shows_info_not_error(risk_page):
    at = risk_page
    at.multiselect[0].set_value([]).run()
    assert not at.exception and not at.error
    assert any("at least one quasi-identifier" in i.value for i in at.info)


def test_identifiers_hidden_from_riskiest_records(app):
    app.session_state["dataset"] = pd.DataFrame(
        {"name": ["Ann", "Bob", "Cy"], "zip": [1, 1, 2], "dx": ["a", "b", "a"]}
    )
    app.session_state["dataset_id"] = "test-ids"
    app.session_state["roles"] = {
        "name": "identifier",
        "zip": "quasi_identifier",
        "dx": "sensitive",
    }
    app.switch_page(PAGE).run()
    assert not app.exception
    frames = [d.value for d in app.dataframe]
    assert all("name" not in f.columns for f in frames)
    assert _metric(app, "k (k-anonymity)") == "1"


def test_page_file_exists():
    assert (ROOT / PAGE).exists()


# --- special uniques (SUDA2) ---------------------------------------------------------------


def _array(value) -> list[float]:
    """A figure array: plain JSON list or plotly's typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _suda_chart(at):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if "SUDA" in spec["layout"].get("title", {}).get("text", ""):
            return spec
    return None


def test_suda_section_matches_core_on_adult(risk_page):
    from core import suda

    at = risk_page
    df = at.session_state["dataset"]
    qis = at.multiselect[0].value
    size = at.slider(key="risk_suda_size").value
    assert size == min(4, len(qis))
    expected = suda.suda2(df, qis, max_size=size, missing="category", dis_fraction=0.01)
    assert _metric(at, "Special uniques") == f"{expected.special_uniques:,}"
    assert _metric(at, "MSUs found") == f"{expected.n_msus:,}"
    assert _metric(at, "Highest SUDA score") == f"{expected.score.max():,.0f}"
    spec = _suda_chart(at)
    assert spec is not None, "contribution chart drawn"
    assert spec["layout"]["xaxis"]["title"]["text"] == "share of the total SUDA score (%)"
    assert spec["layout"]["yaxis"]["title"]["text"] == "quasi-identifier"
    shares = dict(zip(spec["data"][0]["y"], _array(spec["data"][0]["x"]), strict=True))
    assert shares == pytest.approx(dict(zip(qis, expected.attribute_contribution, strict=True)))
    table = next(d.value for d in at.dataframe if "SUDA score" in d.value.columns)
    assert table["SUDA score"].tolist() == sorted(expected.score, reverse=True)[: len(table)]
    assert (table["SUDA score"] > 0).all()

    # a smaller cap recomputes, and scores are lower bounds
    at.slider(key="risk_suda_size").set_value(1).run()
    assert not at.exception
    one = suda.suda2(df, qis, max_size=1)
    assert _metric(at, "MSUs found") == f"{one.n_msus:,}"
    assert one.n_msus <= expected.n_msus


def test_suda_table_hides_identifiers_and_missing_switch(app):
    app.session_state["dataset"] = pd.DataFrame(
        {
            "name": ["Ann", "Bob", "Cy", "Di"],
            "zip": [1, 1, 2, None],
            "sex": ["f", "m", "f", "f"],
            "dx": ["a", "b", "a", "c"],
        }
    )
    app.session_state["dataset_id"] = "test-suda"
    app.session_state["roles"] = {
        "name": "identifier",
        "zip": "quasi_identifier",
        "sex": "quasi_identifier",
        "dx": "sensitive",
    }
    app.switch_page(PAGE).run()
    assert not app.exception and not app.error
    table = next(d.value for d in app.dataframe if "SUDA score" in d.value.columns)
    assert "name" not in table.columns
    assert any("Direct identifiers hidden: name" in c.value for c in app.caption)
    # missing zip as a value: row 3 is unique on zip alone; ignored (sdcMicro): it is not
    assert _metric(app, "MSUs found") == "4"
    app.radio(key="risk_suda_missing").set_value("ignore").run()
    assert not app.exception
    assert _metric(app, "MSUs found") == "3"


def test_suda_is_opt_in_on_large_tables(risk_page, monkeypatch):
    from core import limits

    at = risk_page
    monkeypatch.setattr(limits, "SUDA_EAGER_WORK", 10)
    at.run()
    assert not at.exception
    assert not any(m.label == "Special uniques" for m in at.metric)
    assert any("once per column subset" in c.value for c in at.caption)
    at.toggle(key="risk_suda_on").set_value(True).run()
    assert not at.exception
    assert any(m.label == "Special uniques" for m in at.metric)


# --- the workspace keeps every setting; the policy verdict ----------------------------------


def _table(seed: int = 2, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "name": [f"person {i}" for i in range(n)],
            "age": rng.integers(20, 40, n),
            "sex": rng.choice(["f", "m"], n),
            "region_of_residence_long_name": rng.choice(["north", "south", "east"], n),
            "dx": rng.choice(["a", "b", "c"], n),
            "w": rng.uniform(1.0, 50.0, n),
            "hh": rng.integers(0, 150, n),
        }
    )


ROLES = {
    "name": "identifier",
    "age": "quasi_identifier",
    "sex": "quasi_identifier",
    "region_of_residence_long_name": "other",
    "dx": "sensitive",
    "w": "weight",
    "hh": "other",
}


@pytest.fixture
def small(app):
    app.session_state["dataset"] = _table()
    app.session_state["dataset_name"] = "small.csv"
    app.session_state["roles"] = dict(ROLES)
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _settings(at) -> dict:
    """Every setting the page shows, read from its widgets."""
    return {
        "qis": at.multiselect(key="risk_qi").value,
        "sensitive": at.multiselect(key="risk_sa").value,
        "missing": at.radio(key="risk_missing").value,
        "weight": at.selectbox(key="risk_weight").value,
        "is_sample": at.toggle(key="risk_is_sample").value,
        "pi": at.number_input(key="risk_pi").value,
        "k": at.number_input(key="risk_k").value,
        "max": at.number_input(key="risk_max").value,
        "avg": at.number_input(key="risk_avg").value,
        "household": at.selectbox(key="risk_household").value,
        "suda_size": at.slider(key="risk_suda_size").value,
        "suda_missing": at.radio(key="risk_suda_missing").value,
    }


def _results(at) -> dict:
    """What the page shows: cards, verdict badges, the failing-records table."""
    table = next(d.value for d in at.dataframe if "prosecutor risk" in d.value.columns)
    return {
        "metrics": {m.label: m.value for m in at.metric},
        "badges": [m.value for m in at.markdown if "-badge[" in m.value],
        "table": table.to_dict("list"),
    }


def _change_everything(at) -> None:
    at.multiselect(key="risk_qi").set_value(["age", "sex", "region_of_residence_long_name"]).run()
    at.multiselect(key="risk_sa").set_value(["dx", "hh"]).run()
    at.radio(key="risk_missing").set_value("wildcard").run()
    at.selectbox(key="risk_weight").select_index(0).run()  # "None (constant weight)"
    at.toggle(key="risk_is_sample").set_value(True).run()
    at.number_input(key="risk_pi").set_value(0.05).run()
    at.number_input(key="risk_k").set_value(3).run()
    at.number_input(key="risk_max").set_value(0.4).run()
    at.number_input(key="risk_avg").set_value(0.3).run()
    at.selectbox(key="risk_household").set_value("hh").run()
    at.slider(key="risk_suda_size").set_value(2).run()
    at.radio(key="risk_suda_missing").set_value("category").run()  # wildcard's default: ignore
    assert not at.exception and not at.error, [e.value for e in at.error]


EXPECTED = {
    "qis": ["age", "sex", "region_of_residence_long_name"],
    "sensitive": ["dx", "hh"],
    "missing": "wildcard",
    "weight": None,
    "is_sample": True,
    "pi": 0.05,
    "k": 3,
    "max": 0.4,
    "avg": 0.3,
    "household": "hh",
    "suda_size": 2,
    "suda_missing": "category",
}


def test_weight_column_defaults_to_the_weight_role(small):
    assert small.selectbox(key="risk_weight").value == "w"
    assert small.session_state["workspace"].risk.weight_column == "w"


def test_every_setting_and_result_survives_navigation(small):
    at = small
    _change_everything(at)
    assert _settings(at) == EXPECTED
    before = _results(at)
    at.switch_page("pages/home.py").run()
    assert not at.exception
    at.switch_page(PAGE).run()
    assert not at.exception
    assert _settings(at) == EXPECTED
    assert _results(at) == before
    # the values live in the workspace, not only in widget keys
    r = at.session_state["workspace"].risk
    assert r.quasi_identifiers == ("age", "sex", "region_of_residence_long_name")
    assert r.sensitive == ("dx", "hh")
    assert (r.k_threshold, r.max_risk, r.average_risk) == (3, 0.4, 0.3)
    assert (r.weight_column, r.sampling_fraction) == (None, 0.05)
    assert r.options["missing"] == "wildcard" and r.options["is_sample"] is True
    assert r.options["household"] == "hh" and r.options["suda_size"] == 2
    assert r.options["suda_missing"] == "category"


def test_a_link_with_the_token_restores_settings_and_results(small):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    at = small
    _change_everything(at)
    before = _results(at)
    again = AppTest.from_file(APP, default_timeout=120)
    again.query_params["ws"] = at.session_state["ws_token"]
    again.run()
    assert not again.exception
    again.switch_page(PAGE).run()
    assert not again.exception
    assert again.session_state["dataset"].shape == _table().shape
    assert _settings(again) == EXPECTED
    assert _results(again) == before


def test_population_size_preset_sets_the_sampling_fraction(small):
    at = small
    at.toggle(key="risk_is_sample").set_value(True).run()
    at.radio(key="risk_pop_mode").set_value("Population size").run()
    at.selectbox(key="risk_region").set_value("Germany (2022)").run()
    assert not at.exception and not at.error
    assert at.number_input(key="risk_pop").value == 83_200_000
    r = at.session_state["workspace"].risk
    assert r.population_size == 83_200_000
    assert r.sampling_fraction == pytest.approx(400 / 83_200_000)
    df = at.session_state["dataset"]
    expected = risk.risk_summary(df, ["age", "sex"], population_size=83_200_000)
    assert _metric(at, "Journalist risk") == f"{100 * expected.journalist:.2f} %"
    at.toggle(key="risk_is_sample").set_value(False).run()
    assert at.session_state["workspace"].risk.sampling_fraction is None
    assert _metric(at, "Journalist risk") == "—"


def test_verdict_and_failing_records_match_core(small):
    from core.policy import Policy, check_policy

    at = small
    df = at.session_state["dataset"]
    verdict = check_policy(df, ["age", "sex"], Policy())  # k >= 5, 0.2, 0.05
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    want = [
        f"{n}: {'passes' if r.passed else 'fails'}"
        for n, r in zip(("k-anonymity", "Highest risk", "Average risk"), verdict.rules, strict=True)
    ]
    assert [any(w in b for b in badges) for w in want] == [True, True, True]
    assert verdict.n_failing > 0, "the example has classes smaller than 5"
    assert any(f"**{verdict.n_failing:,}** of 400 records" in m.value for m in at.markdown)
    table = next(d.value for d in at.dataframe if "prosecutor risk" in d.value.columns)
    assert "name" not in table.columns  # no identifier column
    assert table.index.tolist() == verdict.failing[: len(table)].tolist()
    assert (table["f_k"] < 5).all()
    # a looser policy passes every rule: the table then lists the riskiest records
    at.number_input(key="risk_k").set_value(2).run()
    at.number_input(key="risk_max").set_value(1.0).run()
    at.number_input(key="risk_avg").set_value(1.0).run()
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert all("green-badge" in b and "passes" in b for b in badges) and len(badges) == 3
    assert any(s.value == "Riskiest records" for s in at.subheader)


def test_drivers_table_shows_what_each_column_fixes(small):
    from core.policy import Policy, check_policy

    at = small
    at.multiselect(key="risk_qi").set_value(["age", "sex", "region_of_residence_long_name"]).run()
    df = at.session_state["dataset"]
    verdict = check_policy(
        df, ["age", "sex", "region_of_residence_long_name"], Policy(), leave_one_out=True
    )
    table = next(d.value for d in at.dataframe if "records fixed" in d.value.columns)
    got = dict(zip(table["left out"], table["records fixed"], strict=True))
    assert got == {d.column: d.records_fixed for d in verdict.drivers}
    assert table["records fixed"].is_monotonic_decreasing


def test_guidance_presets_set_the_three_thresholds(small):
    at = small
    assert at.selectbox(key="risk_guidance").value == "El Emam 2013"
    at.selectbox(key="risk_guidance").set_value("EMA Policy 0070").run()
    assert not at.exception
    r = at.session_state["workspace"].risk
    assert (r.k_threshold, r.max_risk, r.average_risk) == (12, 0.09, 0.09)
    assert at.number_input(key="risk_k").value == 12
    at.number_input(key="risk_k").set_value(7).run()
    assert at.selectbox(key="risk_guidance").value == "Custom"
    # the help names the sources of the defaults
    help_text = at.selectbox(key="risk_guidance").help
    assert "El Emam 2013" in help_text and "EMA/90915/2016" in help_text


def test_quasi_identifier_box_is_full_width_and_wraps(small):
    box = small.multiselect(key="risk_qi")
    assert box.proto.wrap, "chips wrap onto new rows instead of scrolling out of sight"
    sensitive = small.multiselect(key="risk_sa")
    assert sensitive.proto.wrap


def test_share_metrics_have_no_change_arrows(small):
    small.toggle(key="risk_is_sample").set_value(True).run()
    small.selectbox(key="risk_household").set_value("hh").run()
    assert small.metric, "cards drawn"
    assert all(not m.delta for m in small.metric), [m.label for m in small.metric if m.delta]
    captions = [c.value for c in small.caption]
    assert any(c.endswith("% of records") for c in captions)


def _spec(at, title):
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if spec["layout"].get("title", {}).get("text", "") == title:
            return spec
    return None


def test_log_axes_label_ticks_with_full_numbers(risk_page):
    at = risk_page
    at.multiselect(key="risk_qi").set_value(["sex", "race"]).run()  # classes of thousands
    for title, axis in (
        ("Class sizes", "yaxis"),
        ("Class sizes", "xaxis"),
        ("Estimated population uniques against the sampling fraction", "xaxis"),
    ):
        ax = _spec(at, title)["layout"][axis]
        assert ax["type"] == "log", (title, axis)
        values, labels = _array(ax["tickvals"]), ax["ticktext"]
        # every label is the tick's own full number ("1,000", "0.002"), never a bare "2"
        # standing for 20 or 200
        assert [float(t.replace(",", "")) for t in labels] == pytest.approx(values)
        assert labels
