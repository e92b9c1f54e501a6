"""The Differential privacy page spends the table's budget, shared by every session of the table.

Each test has a database file of its own; every AppTest below is a separate browser session
on it (a new tab, a reload with the link's token, or a second user loading the same data).
"""

from __future__ import annotations

import os
import threading

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.errors import BudgetExceededError
from core.workspace import BudgetBook, WorkspaceSession, WorkspaceStore
from tests.conftest import app_session

PAGE = "pages/differential_privacy.py"


pytestmark = pytest.mark.usefixtures("own_database")


def _session(**params: str) -> AppTest:
    """A new browser session (the Adult sample, or the link's workspace), on the DP page."""
    return app_session(PAGE, **params)


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


def _ledger(at):
    fp = at.session_state["workspace"].dataset.fingerprint
    return BudgetBook.open(os.environ["PRIVLENS_DB"]).ledger(fp)


def _start(at, total: float) -> None:
    at.number_input(key="dp_total_eps").set_value(total).run()
    at.button(key="dp_start").click().run()
    assert not at.exception and not at.error


def _release(at, epsilon: float) -> None:
    at.select_slider(key="dp_eps").set_value(epsilon).run()
    at.button(key="dp_release").click().run()
    assert not at.exception


def test_a_new_session_on_the_same_table_sees_the_spent_epsilon():
    first = _session()
    _start(first, 1.5)
    _release(first, 1.0)
    assert _metric(first, "ε spent") == "1 of 1.5"
    # another user (no token, a new workspace) loads the same Adult sample
    other = _session()
    assert other.session_state["ws_token"] != first.session_state["ws_token"]
    assert not any(n.key == "dp_total_eps" for n in other.number_input)  # no new budget
    assert _metric(other, "ε spent") == "1 of 1.5"
    assert _metric(other, "ε remaining") == "0.5"
    assert other.button(key="dp_release").disabled
    assert "No budget left: 0.5 of ε remains, this release needs 1." in _captions(other)
    assert "dp_ledgers" not in other.session_state


def test_release_then_reload_keeps_the_budget_spent_and_the_release_listed():
    first = _session()
    _start(first, 1.5)
    _release(first, 1.0)
    token = first.session_state["ws_token"]
    again = _session(ws=token)
    assert again.session_state["ws_token"] == token
    assert _metric(again, "ε spent") == "1 of 1.5"
    assert again.button(key="dp_release").disabled
    (record,) = again.session_state["workspace"].releases
    assert (record.query, record.column, record.epsilon) == ("count", "age", 1.0)
    assert any(e.label.startswith("Releases made in this workspace (1)") for e in again.expander)


def test_a_second_session_cannot_overspend():
    a = _session()
    _start(a, 1.0)
    b = _session()  # sees the budget, nothing spent yet: its button is enabled
    b.select_slider(key="dp_eps").set_value(0.631).run()
    assert not b.button(key="dp_release").disabled
    _release(a, 0.631)
    assert _ledger(a).remaining_epsilon == pytest.approx(1.0 - 0.631)
    b.button(key="dp_release").click().run()  # B's page is stale; its rerun reads the budget
    assert not b.exception
    assert [e.epsilon for e in _ledger(b).entries] == [0.631]
    assert "dp_last" not in b.session_state
    assert b.session_state["workspace"].releases == ()
    assert b.button(key="dp_release").disabled
    assert "No budget left: 0.369 of ε remains, this release needs 0.631." in _captions(b)


def test_a_release_refused_by_the_database_shows_the_budget_message(monkeypatch):
    """A race: the budget read for the page allowed the release, the charge does not."""
    from ui import state

    a = _session()
    _start(a, 1.0)
    b = _session()
    b.select_slider(key="dp_eps").set_value(0.631).run()
    before = _ledger(b)
    _release(a, 0.631)
    monkeypatch.setattr(state, "ledger", lambda: before)  # what B read just before A's spend
    b.run()
    assert not b.button(key="dp_release").disabled
    b.button(key="dp_release").click().run()
    assert not b.exception
    assert any("above the budget" in e.value for e in b.error)
    assert [e.epsilon for e in _ledger(b).entries] == [0.631]
    assert "dp_last" not in b.session_state
    assert b.session_state["workspace"].releases == ()


def test_twenty_concurrent_releases_through_workspace_sessions_charge_exactly_ten(tmp_path):
    """Twenty sessions of the same table, each on its own thread and connections."""
    db = os.environ["PRIVLENS_DB"]
    secret = b"s" * 32
    table = pd.DataFrame({"age": range(50), "zip": [f"{i:05d}" for i in range(50)]})
    first = WorkspaceSession.start(
        WorkspaceStore.open(db, secret=secret), BudgetBook.open(db), table, name="t", secret=secret
    )
    first.set("dp.total_epsilon", 1.0)
    first.ledger()  # the budget: ten releases of 0.1
    tokens = [
        WorkspaceSession.start(
            WorkspaceStore.open(db, secret=secret), BudgetBook.open(db), table, name="t",
            secret=secret,
        ).token
        for _ in range(20)
    ]  # fmt: skip
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    ran: list[int] = []
    lock = threading.Lock()

    def release(token: str) -> None:
        store, book = WorkspaceStore.open(db, secret=secret), BudgetBook.open(db)
        sess = WorkspaceSession.resume(store, book, token)
        barrier.wait()
        try:
            sess.release(
                lambda: ran.append(1), query="count", column="age",
                mechanism="discrete_laplace", epsilon=0.1,
            )  # fmt: skip
            result = "charged"
        except BudgetExceededError:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=release, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["charged"] * 10 + ["refused"] * 10
    assert len(ran) == 10  # only a charged release is computed
    ledger = BudgetBook.open(db).ledger(first.fingerprint)
    assert len(ledger.entries) == 10
    assert ledger.composition().basic_epsilon == pytest.approx(1.0)
    # each charged session recorded its release in its own history
    store = WorkspaceStore.open(db, secret=secret)
    kept = [
        len(WorkspaceSession.resume(store, BudgetBook.open(db), t).workspace.releases)
        for t in tokens
    ]
    assert sorted(kept) == [0] * 10 + [1] * 10
