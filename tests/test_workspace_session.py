"""The walk-through's budget scenario and a reload, end to end on the real database file."""

from __future__ import annotations

import pytest

from core.data import load
from core.errors import BudgetExceededError, WorkspaceNotFoundError
from core.recipe import Step
from core.samples import ADULT_PATH
from core.workspace.budget import BudgetBook
from core.workspace.session import WorkspaceSession
from core.workspace.store import WorkspaceStore

SECRET = b"q" * 32


def _open(db):
    return WorkspaceStore.open(db, secret=SECRET), BudgetBook.open(db)


def test_release_reload_release_cannot_overspend(tmp_path):
    # the walk-through: budget 1.5, release 1.0, reload, release 1.0 again -> refused
    db = tmp_path / "privlens.sqlite3"
    first = WorkspaceSession.start(
        *_open(db), load(ADULT_PATH).frame, name="adult.csv", secret=SECRET
    )
    first.set("dp.total_epsilon", 1.5)
    assert (
        first.release(
            lambda: 42, query="count", column=None, mechanism="discrete_laplace", epsilon=1.0
        )
        == 42
    )
    # a reload: new connections, only the token
    again = WorkspaceSession.resume(*_open(db), first.token)
    assert again.ledger().remaining_epsilon == pytest.approx(0.5)
    with pytest.raises(BudgetExceededError):
        again.release(
            lambda: 1 / 0, query="count", column=None, mechanism="discrete_laplace", epsilon=1.0
        )
    # the same file loaded afresh in a new workspace shares the budget
    other = WorkspaceSession.start(
        *_open(db), load(ADULT_PATH).frame, name="copy.csv", secret=SECRET
    )
    assert other.token != first.token
    assert other.ledger().remaining_epsilon == pytest.approx(0.5)
    assert len(again.workspace.releases) == 1


def test_reload_restores_settings_recipe_and_table(tmp_path):
    db = tmp_path / "privlens.sqlite3"
    table = load(ADULT_PATH).frame
    s = WorkspaceSession.start(
        *_open(db), table, name="adult.csv", secret=SECRET, roles={"age": "quasi_identifier"}
    )
    s.set("risk.quasi_identifiers", ["age", "sex"])
    s.set("risk.k_threshold", 5)
    s.update(
        s.workspace.with_recipe(
            s.workspace.recipe.add(Step(transform="round", columns=("age",), params={"base": 5}))
        )
    )
    s.record_export(format="csv", encryption="passphrase")
    back = WorkspaceSession.resume(*_open(db), s.token)
    assert back.workspace == s.workspace
    assert back.workspace.dataset.kinds["age"] == "integer"
    assert back.table.equals(table)
    assert back.workspace.exports[0].recipe_digest == s.workspace.recipe.digest()
    assert s.delete()
    with pytest.raises(WorkspaceNotFoundError):
        WorkspaceSession.resume(*_open(db), s.token)
