"""AppTest of the Masking page's fragments: what one interaction reruns in the browser.

The browser reruns the fragment that holds the changed widget, not the whole script. These
tests ask AppTest for such fragment runs (the fragment's id queued, every widget's state
sent, as the browser does): a change only the results show (k, the mode, the QIs) reruns the
results without drawing the editor's rows again, and the figures still follow it; a change
of a transform, suppression on or off, or undo draws the editor again.
"""

from __future__ import annotations

import numpy as np
import pytest

from core import correlation, risk
from core.recipe import DEFAULT_SECRET, Recipe, apply
from ui import masking_editor

PAGE = "pages/masking.py"


@pytest.fixture
def fragment_run(monkeypatch):
    """``fragment_run(at, key)``: one run of the fragment ``key`` alone, as the browser asks.

    Returns the elements that run drew; then one whole run (nothing changed) brings the
    page's element tree back for the next interaction.
    """
    from streamlit.testing.v1 import local_script_runner

    queue: list[str] = []
    rerun_data = local_script_runner.RerunData

    def asking_for_fragments(*args, **kwargs):
        if queue:
            kwargs.setdefault("fragment_id_queue", list(queue))
        return rerun_data(*args, **kwargs)

    monkeypatch.setattr(local_script_runner, "RerunData", asking_for_fragments)

    def run(at, key: str):
        states = at._tree.get_widget_states()
        queue[:] = list(at._fragment_storage._ids_by_target_key[key])
        try:
            at._run(states)
        finally:
            queue.clear()
        assert not at.exception
        drawn = at._tree
        at._run()  # no widget states: nothing changes, every element is drawn
        assert not at.exception
        return drawn

    return run


@pytest.fixture
def editor_draws(monkeypatch):
    """How many times the editor's rows were drawn (``transforms`` calls)."""
    calls = []
    draw = masking_editor.transforms

    def counted(*args, **kwargs):
        calls.append(1)
        return draw(*args, **kwargs)

    monkeypatch.setattr(masking_editor, "transforms", counted)
    return calls


def _shown_k(tree) -> str:
    return next(m.value for m in tree.metric if m.label == "k (k-anonymity)")


def _reference_k(at) -> str:
    """k of the current recipe applied row by row (no memo), over the kept QIs."""
    ws = at.session_state["workspace"]
    df = at.session_state["dataset"]
    ref = apply(
        df,
        Recipe(steps=ws.recipe.current.steps),
        secrets={DEFAULT_SECRET: at.session_state["masking_key"]},
        fast=False,
    )
    qis = [q for q in ws.masking.options["quasi_identifiers"] if q in ref.frame.columns]
    return f"{risk.risk_summary(ref.frame, qis).k:,}"


def _col(at, name: str) -> int:
    return list(at.session_state["dataset"].columns).index(name)


def test_k_reruns_the_results_alone_and_a_transform_the_editor(app, fragment_run, editor_draws):
    at = app.switch_page(PAGE).run()
    assert not at.exception
    workbench = masking_editor.WORKBENCH_FRAGMENT

    editor_draws.clear()
    at.toggle(key="mask_suppress").set_value(True)  # suppression on: k becomes usable
    drawn = fragment_run(at, workbench)
    assert editor_draws == [1, 1]  # the workbench, then the whole run after it
    assert drawn.slider(key="mask_k").disabled is False
    assert _shown_k(drawn) == _reference_k(at)
    assert int(_shown_k(drawn).replace(",", "")) >= 5

    editor_draws.clear()
    at.slider(key="mask_k").set_value(20)
    drawn = fragment_run(at, workbench)
    assert editor_draws == [1]
    steps = at.session_state["workspace"].recipe.current.steps
    assert [s.params["k"] for s in steps if s.transform == "suppress"] == [20]
    assert _shown_k(drawn) == _reference_k(at)  # the figures follow k
    assert int(_shown_k(drawn).replace(",", "")) >= 20
    assert not drawn.get("selectbox")  # no editor row in what the browser got
    assert drawn.button(key="mask_undo").disabled is False  # undo/redo follow the change

    editor_draws.clear()
    age = _col(at, "age")
    at.number_input(key=f"mask_p_{age}_bin_width_width").set_value(20.0)  # a parameter
    drawn = fragment_run(at, workbench)
    assert editor_draws == [1, 1]  # the editor's rows follow a change of a step
    assert drawn.number_input(key=f"mask_p_{age}_bin_width_width").value == 20.0
    assert _shown_k(drawn) == _reference_k(at)

    editor_draws.clear()
    at.button(key="mask_undo").click()  # from the undo/redo row: the editor follows
    drawn = fragment_run(at, masking_editor.HISTORY_FRAGMENT)
    assert editor_draws == [1, 1]
    assert drawn.number_input(key=f"mask_p_{age}_bin_width_width").value == 10.0
    assert _shown_k(drawn) == _reference_k(at)


def test_a_whole_run_draws_everything_and_times_are_recorded_only_when_asked(
    app, editor_draws, monkeypatch
):
    at = app.switch_page(PAGE).run()
    assert "timing" not in at.session_state  # nothing recorded unless asked
    monkeypatch.setenv("PRIVLENS_TIMING", "1")
    editor_draws.clear()
    rows_built = []
    offered = masking_editor.offered_transforms
    monkeypatch.setattr(
        masking_editor, "offered_transforms", lambda kind: rows_built.append(kind) or offered(kind)
    )
    at.toggle(key="mask_suppress").set_value(True).run()
    at.slider(key="mask_k").set_value(20).run()
    assert not at.exception
    assert editor_draws == [1, 1]  # AppTest runs the whole script: everything is drawn
    assert rows_built == []  # the rows' labels and choices are built once per dataset
    assert at.selectbox(key="mask_t_0") is not None
    assert _shown_k(at) == _reference_k(at)
    times = at.session_state["timing"]
    assert {"masking.workbench", "masking.history", "masking.results"} <= set(times)
    assert 0 < times["masking.results"] <= times["masking.workbench"]
    # the suppressed columns' levels came from their levels before it, blanked
    memo = at.session_state["mask_pair_memo"]
    assert any(step.startswith("blanked:") for _, steps in memo["levels"] for step in steps)
    # and their pairs were measured from the counts before it, less the rows that lost cells
    assert memo["counts"]
    _check_association(at)
    for k in (35, 3):  # a new k: the same counts, fewer or more cells blanked
        at.slider(key="mask_k").set_value(k).run()
        _check_association(at)


def _check_association(at) -> None:
    """The association change shown equals the whole matrices' before and after."""
    df = at.session_state["dataset"]
    frame = at.session_state["hardening"][1].result.frame
    roles = at.session_state["roles"]
    cols = [c for c in df.columns if c in frame.columns and roles[c] != "identifier"]
    a = np.abs(correlation.association_matrix(df, columns=cols).value)
    b = np.abs(correlation.association_matrix(frame, columns=cols).value)
    iu = np.triu_indices(len(cols), k=1)
    expected = float(np.nanmean(np.abs(a[iu] - b[iu])))
    shown = next(m.value for m in at.metric if m.label == "Mean |Δ association|")
    assert shown == f"{expected:.3f}"


def test_one_change_is_one_save_and_the_link_restores_it(app, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.workspace import WorkspaceStore
    from tests.conftest import APP

    at = app.switch_page(PAGE).run()
    saves = []
    save_state = WorkspaceStore.save_state

    def counted(self, token, *, state):
        saves.append(token)
        return save_state(self, token, state=state)

    monkeypatch.setattr(WorkspaceStore, "save_state", counted)
    at.toggle(key="mask_suppress").set_value(True).run()  # the setting, then the recipe
    at.slider(key="mask_k").set_value(12).run()
    assert not at.exception
    assert len(saves) == 2  # one write per change
    again = AppTest.from_file(APP, default_timeout=60)
    again.query_params["ws"] = at.session_state["ws_token"]
    again.run()
    ws = again.session_state["workspace"]
    assert ws.masking.options["suppress"] is True and ws.masking.options["k"] == 12
    assert [s.params["k"] for s in ws.recipe.current.steps if s.transform == "suppress"] == [12]
