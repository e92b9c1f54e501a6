"""The Model page's "Does a model leak?" tab (``ui.model_leakage.render``), headless.

A small script draws the tab alone (as the Model page's second tab does), so these tests do
not depend on the rest of the page. Its figures must equal core's; the DP model release is
charged to the table's budget and refused when it would overspend; the tab's settings live
in the workspace and survive leaving the tab and reopening the workspace from its link.
"""

import json

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.models import DP_REGULARIZATION, SWEEP_EPSILONS, dp_sweep, membership_risk
from core.recipe import Recipe, Step, apply
from core.workspace import BudgetBook, default_db_path
from ui.model_leakage import REPEATS, SWEEP_REPEATS, report_table

RECIPE = Recipe(steps=(Step(transform="bin_width", columns=("age",), params={"width": 20}),))


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    job = rng.choice(["a", "b", "c", "d"], n)
    score = (age - 45) / 10 + np.where(job == "a", 1.5, -0.5) + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "age": age,
            "job": job,
            "sex": rng.choice(["F", "M"], n),
            "y": np.where(score > 0, "yes", "no"),
        }
    )


def _script():
    import streamlit as st

    from core.recipe import Recipe, Step
    from ui import model_leakage, state

    state.bootstrap(lambda: (st.session_state["seed_table"], "t", ""))
    if st.session_state.pop("make_recipe", False):
        step = Step(transform="bin_width", columns=("age",), params={"width": 20})
        state.set_recipe(Recipe(steps=(step,)))
    if st.session_state.get("away"):
        st.write("another page")  # the tab's widgets are not drawn: Streamlit drops their keys
    else:
        model_leakage.render()


def _new(df=None, *, ws=None, switch_on=True):
    at = AppTest.from_function(_script, default_timeout=120)
    if df is not None:
        at.session_state["dataset"] = df
        at.session_state["seed_table"] = df
    if ws is not None:
        at.query_params["ws"] = ws
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if switch_on and not at.toggle(key="ws:model.options.run").value:
        assert not at.dataframe  # nothing is trained before the user asks
        at.toggle(key="ws:model.options.run").set_value(True).run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def _figures(at):
    return at.dataframe[0].value


@pytest.fixture(scope="module")
def table():
    return _table()


def test_figures_equal_core_for_the_original_and_the_hardened_table(table):
    at = _new(table)
    assert at.selectbox(key="ws:model.options.target").value == "y"  # the last binary column
    want = report_table({"Original": membership_risk(table, "y", repeats=REPEATS, seed=0)})
    pd.testing.assert_frame_equal(_figures(at), want)
    assert "No hardening recipe yet" in " ".join(c.value for c in at.caption)
    _check_sweep(at, table)

    at.session_state["make_recipe"] = True
    at.run()
    hardened = apply(table, RECIPE).frame
    want = report_table(
        {
            "Original": membership_risk(table, "y", repeats=REPEATS, seed=0),
            "Hardened": membership_risk(hardened, "y", repeats=REPEATS, seed=0),
        }
    )
    pd.testing.assert_frame_equal(_figures(at), want)

    at.radio(key="ws:model.options.classifier").set_value("mlp").run()
    want = report_table(
        {
            "Original": membership_risk(table, "y", repeats=REPEATS, seed=0, model="mlp"),
            "Hardened": membership_risk(hardened, "y", repeats=REPEATS, seed=0, model="mlp"),
        }
    )
    pd.testing.assert_frame_equal(_figures(at), want)
    assert not at.exception


def _check_sweep(at, table, regularization=DP_REGULARIZATION):
    """The plotted sweep is core's seeded sweep, at the tab's public regularization."""
    fig = at.get("plotly_chart")[0].proto.spec
    want = dp_sweep(
        table,
        "y",
        epsilons=SWEEP_EPSILONS,
        repeats=SWEEP_REPEATS,
        regularization=regularization,
        seed=0,
        source=0,
    )
    traces = json.loads(fig)["data"]
    acc = next(t for t in traces if t.get("name") == "DP model accuracy")
    adv = next(t for t in traces if t.get("name", "").startswith("measured advantage"))
    assert acc["y"] == pytest.approx([p.accuracy for p in want.points], abs=1e-12)
    assert adv["y"] == pytest.approx([p.advantage for p in want.points], abs=1e-12)


def _ledger(at):
    book = BudgetBook.open(str(default_db_path()))
    return book, at.session_state["workspace"].dataset.fingerprint


def test_release_is_charged_then_refused_when_it_would_overspend():
    df = _table(seed=5)  # its own table, so its own budget
    at = _new(df)
    assert not [b for b in at.button if b.key == "model_leak_release"]  # no budget yet
    at.button(key="model_leak_budget").click().run()
    book, fp = _ledger(at)
    assert book.ledger(fp).composition().epsilon == 0
    at.slider(key="ws:model.options.epsilon").set_value(0.6).run()
    lam = at.number_input(key="ws:model.options.regularization")
    assert lam.value == DP_REGULARIZATION and "without looking at the data" in lam.help
    lam.set_value(5.0).run()  # a public setting the user changes: the sweep and release use it
    _check_sweep(at, df, regularization=5.0)
    at.button(key="model_leak_release").click().run()
    assert not at.exception
    assert book.ledger(fp).composition().epsilon == pytest.approx(0.6)
    rec = at.session_state["workspace"].releases[-1]
    assert (rec.query, rec.column, rec.epsilon) == ("model", "y", 0.6)
    assert "advantage against it is at most" in at.success[0].value
    released = at.session_state["model_leak_last"][2].model
    assert (released.regularization, released.epsilon_spent) == (5.0, 0.6)
    # 0.4 of the budget of 1 is left: 0.6 more is refused, with the budget's sentence
    button = at.button(key="model_leak_release")
    assert button.disabled
    assert any("No budget left: 0.4 of ε remains" in c.value for c in at.caption)
    # a smaller release fits; another session's spend is seen at the next run
    at.slider(key="ws:model.options.epsilon").set_value(0.3).run()
    assert not at.button(key="model_leak_release").disabled
    book.spend(fp, "elsewhere", epsilon=0.35)
    at.button(key="model_leak_release").click().run()
    assert not at.exception
    assert at.button(key="model_leak_release").disabled
    assert any("No budget left: 0.05 of ε remains" in c.value for c in at.caption)
    assert book.ledger(fp).composition().epsilon == pytest.approx(0.95)
    assert len(at.session_state["workspace"].releases) == 1


def test_settings_survive_leaving_the_tab_and_reopening_the_workspace(table):
    at = _new(table)
    at.selectbox(key="ws:model.options.target").set_value("sex")
    at.radio(key="ws:model.options.classifier").set_value("mlp")
    at.number_input(key="ws:model.options.seed").set_value(3)
    at.slider(key="ws:model.options.epsilon").set_value(2.5)
    at.number_input(key="ws:model.options.regularization").set_value(12.0).run()  # one run
    options = dict(at.session_state["workspace"].model.options)
    assert options == {
        "run": True,
        "target": "sex",
        "classifier": "mlp",
        "seed": 3,
        "epsilon": 2.5,
        "regularization": 12.0,
    }
    shown = _figures(at)

    at.session_state["away"] = True
    at.run()
    assert not at.dataframe
    at.session_state["away"] = False
    at.run()
    assert at.selectbox(key="ws:model.options.target").value == "sex"
    assert at.radio(key="ws:model.options.classifier").value == "mlp"
    assert at.number_input(key="ws:model.options.seed").value == 3
    assert at.slider(key="ws:model.options.epsilon").value == 2.5
    assert at.number_input(key="ws:model.options.regularization").value == 12.0
    pd.testing.assert_frame_equal(_figures(at), shown)

    at2 = _new(ws=at.session_state["ws_token"], switch_on=False)
    assert at2.toggle(key="ws:model.options.run").value
    assert at2.selectbox(key="ws:model.options.target").value == "sex"
    assert at2.radio(key="ws:model.options.classifier").value == "mlp"
    assert at2.slider(key="ws:model.options.epsilon").value == 2.5
    assert at2.number_input(key="ws:model.options.regularization").value == 12.0
    pd.testing.assert_frame_equal(_figures(at2), shown)
