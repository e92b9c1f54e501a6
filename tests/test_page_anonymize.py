"""AppTest of the "Find a safe table" page: the search equals core's, "Use this" writes the
recipe that Export exports (and it meets k), settings survive navigation and a reload, and a
bad hierarchy gets a clear message."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from core import anonymize as an
from core.anonymize.setup import builtin_hierarchies
from core.risk import k_anonymity
from tests.conftest import APP

PAGE = "pages/anonymize.py"
QIS = ["age", "sex", "race"]
OPT = "ws:anonymize.options."


def _optimum_line(at) -> str:
    return next(m.value for m in at.markdown if "transformations checked" in m.value)


def _levels_table(at) -> dict[str, int]:
    (table,) = [d.value for d in at.dataframe if "Quasi-identifier" in d.value.columns]
    return dict(zip(table["Quasi-identifier"], table["Level"], strict=True))


def _figures(at) -> list[dict[str, str]]:
    return [
        dict(zip(d.value["Figure"], d.value["Value"], strict=True))
        for d in at.dataframe
        if "Figure" in d.value.columns
    ]


def _button(at, label: str):
    return next(b for b in at.button if b.label == label)


def _search(at, qis=QIS):
    at.multiselect(key=OPT + "qis").set_value(qis).run()
    assert not at.exception
    _button(at, "Search").click().run()
    assert not at.exception and not at.error
    return at


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def test_optimum_equals_the_core_search(page):
    risk_qis = list(page.session_state["workspace"].risk.quasi_identifiers)
    assert risk_qis and page.multiselect(key=OPT + "qis").value == risk_qis  # from the roles
    at = _search(page)
    df = at.session_state["dataset"]
    hs = {q: h for q, h in builtin_hierarchies(df).items() if q in QIS}
    direct = an.anonymize(
        df, QIS, hs, models=[an.KAnonymity(5)], suppression_limit=0.02, metric="loss",
        time_limit=60.0,
    )  # fmt: skip
    assert direct.optimal
    assert _levels_table(at) == direct.levels_by_qi()
    line = _optimum_line(at)
    assert line.startswith("**Proven optimal**")
    assert f"score {direct.score:.6g}" in line
    assert f"{direct.nodes_checked:,} of {direct.lattice_size:,}" in line
    optimum = _figures(at)[0]
    assert optimum["Suppressed records"] == f"{direct.suppressed_records:,} of {len(df):,}"
    assert optimum["Smallest class (k)"] == f"{direct.min_class_size:,}"
    assert optimum["Classes"] == f"{direct.classes:,}"
    assert len(at.get("plotly_chart")) == 1


def test_use_this_writes_the_recipe_that_export_exports_and_it_meets_k(page):
    at = page
    at.number_input(key=OPT + "k").set_value(10).run()
    _search(at)
    before = at.session_state["workspace"].recipe.current
    other = [s for s in before.steps if not set(s.columns) & set(QIS)]
    _button(at, "Use this").click().run()
    assert not at.exception
    assert at.success and "quasi-identifier" in at.success[0].value
    recipe = at.session_state["workspace"].recipe.current
    on_qis = [s for s in recipe.steps if set(s.columns) & set(QIS)]
    assert [s for s in recipe.steps if s not in on_qis] == other  # other steps kept
    assert {s.transform for s in on_qis} <= {"group", "suppress"}
    assert any(s.transform == "group" for s in on_qis)
    at.switch_page("pages/export.py").run()
    assert not at.exception
    exported = at.session_state["hardening"][1].result.frame
    assert k_anonymity(exported, QIS) >= 10
    at.switch_page("pages/masking.py").run()
    assert not at.exception and not at.error


def _settings(at) -> dict:
    return {
        "qis": at.multiselect(key=OPT + "qis").value,
        "src": at.selectbox(key=OPT + "src:age").value,
        "widths": at.text_input(key=OPT + "widths:age").value,
        "k": at.number_input(key=OPT + "k").value,
        "metric": at.selectbox(key=OPT + "metric").value,
        "supp": at.number_input(key=OPT + "suppression").value,
    }


def test_settings_and_result_survive_navigation_and_a_reload(page):
    at = page
    at.multiselect(key=OPT + "qis").set_value(QIS).run()
    at.selectbox(key=OPT + "src:age").set_value("intervals").run()
    at.text_input(key=OPT + "widths:age").set_value("10, 20, 40").run()
    at.number_input(key=OPT + "k").set_value(3).run()
    at.selectbox(key=OPT + "metric").set_value("height").run()
    at.number_input(key=OPT + "suppression").set_value(1.0).run()
    _search(at, QIS)
    settings, line, levels = _settings(at), _optimum_line(at), _levels_table(at)
    assert settings["widths"] == "10, 20, 40" and settings["k"] == 3 and settings["supp"] == 1.0
    options = at.session_state["workspace"].anonymize.options
    assert options["qis"] == tuple(QIS) and options["k"] == 3 and options["metric"] == "height"
    assert options["suppression"] == 0.01 and options["src:age"] == "intervals"
    at.switch_page("pages/masking.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert _settings(at) == settings
    assert _levels_table(at) == levels
    assert _optimum_line(at).split(" in ")[0] == line.split(" in ")[0]  # the time may differ
    at2 = AppTest.from_file(APP, default_timeout=60)
    at2.query_params["ws"] = at.session_state["ws_token"]
    at2.run()
    at2.switch_page(PAGE).run()
    assert not at2.exception
    assert _settings(at2) == settings
    assert _levels_table(at2) == levels
    assert _optimum_line(at2).split(" in ")[0] == line.split(" in ")[0]


def test_a_bad_hierarchy_gets_a_clear_message_and_is_not_kept(page):
    at = page
    at.multiselect(key=OPT + "qis").set_value(["sex"]).run()
    at.selectbox(key=OPT + "src:sex").set_value("upload").run()
    assert not at.exception
    at.text_area(key="anon:paste:sex").set_value("Male;*\nFemale\n").run()
    assert not at.exception
    assert any("hierarchy" in e.value.lower() for e in at.error)
    assert "upload:sex" not in at.session_state["workspace"].anonymize.options
    at.text_area(key="anon:paste:sex").set_value("Male;*\n").run()  # Female is missing
    messages = " ".join(e.value for e in at.error)
    assert "sex" in messages and "Female" not in messages  # names the column, not the value
    assert "upload:sex" not in at.session_state["workspace"].anonymize.options
    at.text_area(key="anon:paste:sex").set_value("Male;*\nFemale;*\n").run()
    assert not at.error
    assert at.session_state["workspace"].anonymize.options["upload:sex"] == "Male;*\nFemale;*\n"
    at.number_input(key=OPT + "k").set_value(10000).run()
    at.number_input(key=OPT + "suppression").set_value(0.0).run()
    _button(at, "Search").click().run()
    assert _levels_table(at) == {"sex": 0}  # both classes have 10,000 records or more
    at.number_input(key=OPT + "k").set_value(5).run()
    at.multiselect(key=OPT + "qis").set_value(["sex", "race"]).run()
    at.selectbox(key=OPT + "src:race").set_value("upload").run()
    races = at.session_state["dataset"]["race"].dropna().unique()
    text = "".join(f"{r};*\n" for r in races)  # no middle level: race stays or goes
    at.text_area(key="anon:paste:race").set_value(text).run()
    _button(at, "Search").click().run()
    df = at.session_state["dataset"]
    direct = an.anonymize(
        df, ["sex", "race"], {"sex": an.read_hierarchy(b"Male;*\nFemale;*\n"),
                              "race": an.read_hierarchy(text.encode())},
        models=[an.KAnonymity(5)], suppression_limit=0.0,
    )  # fmt: skip
    assert _levels_table(at) == direct.levels_by_qi()


def test_a_clicked_point_is_previewed_with_its_own_figures_and_can_be_used(page):
    from core.anonymize import evaluate, prepare
    from ui.charts.anonymize import anonymous_points

    at = _search(page)
    df = at.session_state["dataset"]
    hs = {q: h for q, h in builtin_hierarchies(df).items() if q in QIS}
    direct = an.anonymize(df, QIS, hs, models=[an.KAnonymity(5)], suppression_limit=0.02)
    other = next(p for p in anonymous_points(direct) if p.levels != direct.levels)
    # what a click on that marker stores (the chart's selection cannot be sent headless)
    ws = at.session_state["workspace"]
    at.session_state["workspace"] = ws.with_option(
        "anonymize", "chosen", ",".join(map(str, other.levels))
    )
    at.run()
    assert not at.exception
    assert any("a point you clicked" in m.value for m in at.markdown)
    node = evaluate(prepare(df, QIS, hs, models=[an.KAnonymity(5)], suppression_limit=0.02),
                    other.levels)  # fmt: skip
    shown = _figures(at)[1]
    assert shown["Suppressed records"] == f"{node.suppressed_records:,} of {len(df):,}"
    assert shown["Smallest class (k)"] == f"{node.min_class_size:,}"
    _button(at, "Use this").click().run()
    groups = {s.columns[0]: s for s in at.session_state["workspace"].recipe.current.steps
              if s.transform == "group"}  # fmt: skip
    assert sorted(groups) == sorted(q for q, lv in zip(QIS, other.levels, strict=True) if lv)
