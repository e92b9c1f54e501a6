"""Project files: save, delete the workspace, open on another server, refuse another table."""

from __future__ import annotations

import pytest

from core.crypto import encrypt_bytes
from core.data import load
from core.errors import ProjectMismatchError, WorkspaceError, WrongKeyError
from core.recipe import Step
from core.samples import ADULT_PATH
from core.workspace.budget import BudgetBook
from core.workspace.fingerprint import table_fingerprint
from core.workspace.model import ColumnMeta, DatasetMeta, ReleaseRecord, Workspace
from core.workspace.project import open_project, restore_budget, save_project
from core.workspace.store import WorkspaceStore

PASS = "correct horse battery staple"
SERVER_A = b"a" * 32
SERVER_B = b"b" * 32


@pytest.fixture(scope="module")
def table():
    return load(ADULT_PATH).frame.head(2000)


def _workspace(table, secret):
    meta = DatasetMeta(
        fingerprint=table_fingerprint(table, secret=secret),
        name="adult.csv",
        n_rows=len(table),
        columns=tuple(ColumnMeta(name=c, kind="text") for c in table.columns),
    )
    ws = Workspace().with_dataset(meta, {"age": "quasi_identifier", "sex": "quasi_identifier"})
    step = Step(transform="round", columns=("age",), params={"base": 5})
    ws = ws.with_recipe(ws.recipe.add(step))
    ws = ws.with_setting("risk.quasi_identifiers", ["age", "sex"]).with_setting(
        "risk.k_threshold", 5
    )
    return ws.record_release(
        ReleaseRecord(
            query="count", column=None, mechanism="discrete_laplace", epsilon=0.3, delta=0.0, at=1.0
        )
    )


def test_save_delete_open_elsewhere_restores_recipe_roles_and_ledger(tmp_path, table):
    # server A: a workspace with a budget and one release
    book_a = BudgetBook.open(tmp_path / "a.sqlite3")
    ws = _workspace(table, SERVER_A)
    fp_a = ws.dataset.fingerprint
    book_a.ensure(fp_a, total_epsilon=1.5)
    book_a.spend(fp_a, "count", epsilon=0.3, detail={"query": "count"})
    store = WorkspaceStore.open(tmp_path / "a.sqlite3", secret=SERVER_A)
    token = store.create(state=ws.to_json().encode(), data=table)
    blob = save_project(
        ws,
        table,
        passphrase=PASS,
        include_data=True,
        ledger=book_a.ledger(fp_a),
        spends=book_a.records(fp_a),
        audit=book_a.history(fp_a),
        work_factor=10,
    )
    store.delete(token)
    # server B, another secret, nothing loaded
    project = open_project(blob, passphrase=PASS, secret=SERVER_B)
    assert project.workspace.recipe == ws.recipe
    assert project.workspace.roles == ws.roles
    assert project.workspace.risk == ws.risk
    assert project.workspace.releases == ws.releases
    assert project.workspace.dataset.fingerprint == table_fingerprint(table, secret=SERVER_B)
    assert [a.event for a in project.audit] == ["budget", "spend"]
    book_b = BudgetBook.open(tmp_path / "b.sqlite3")
    ledger = restore_budget(book_b, project)
    assert ledger.remaining_epsilon == pytest.approx(1.2)
    assert restore_budget(book_b, project).remaining_epsilon == pytest.approx(1.2)  # once only


def test_open_against_the_loaded_table(table):
    blob = save_project(_workspace(table, SERVER_A), table, passphrase=PASS, work_factor=10)
    again = load(ADULT_PATH).frame.head(2000)
    project = open_project(blob, passphrase=PASS, secret=SERVER_B, table=again)
    assert project.table is again
    assert project.budget is None and project.ledger() is None


@pytest.mark.parametrize(
    "other",
    [
        lambda t: t.head(1999),  # a row fewer
        lambda t: t.assign(age=t["age"].where(t.index != 5, t["age"] + 1)),  # one cell
        lambda t: t.rename(columns={"age": "Age"}),  # one name
    ],
)
def test_a_project_refuses_another_table(table, other):
    blob = save_project(_workspace(table, SERVER_A), table, passphrase=PASS, work_factor=10)
    with pytest.raises(ProjectMismatchError, match="data fingerprints differ"):
        open_project(blob, passphrase=PASS, secret=SERVER_B, table=other(table))


def test_without_data_a_table_must_be_loaded(table):
    blob = save_project(_workspace(table, SERVER_A), table, passphrase=PASS, work_factor=10)
    with pytest.raises(WorkspaceError, match="does not contain its table"):
        open_project(blob, passphrase=PASS, secret=SERVER_B)


def test_wrong_passphrase_and_not_a_project(table):
    blob = save_project(_workspace(table, SERVER_A), table, passphrase=PASS, work_factor=10)
    with pytest.raises(WrongKeyError):
        open_project(blob, passphrase="another passphrase", secret=SERVER_B)
    plain = encrypt_bytes(b"id,age\n1,2\n", passphrase=PASS, work_factor=10)
    with pytest.raises(WorkspaceError, match="not a project file"):
        open_project(plain, passphrase=PASS, secret=SERVER_B, table=table)


def test_the_file_holds_no_plaintext(table):
    blob = save_project(
        _workspace(table, SERVER_A), table, passphrase=PASS, include_data=True, work_factor=10
    )
    for text in (b"native-country", b"quasi_identifier", b"round", b"Never-married"):
        assert text not in blob


def test_nothing_to_save_without_a_dataset(table):
    with pytest.raises(WorkspaceError, match="load a table first"):
        save_project(Workspace(), table, passphrase=PASS, work_factor=10)


def test_a_project_with_its_data_opens_over_another_loaded_table(table):
    blob = save_project(
        _workspace(table, SERVER_A), table, passphrase=PASS, include_data=True, work_factor=10
    )
    project = open_project(blob, passphrase=PASS, secret=SERVER_B, table=table.head(10))
    assert len(project.table) == len(table)
    assert project.table.equals(table)
