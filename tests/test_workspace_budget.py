"""The table fingerprint, the database schema, and the privacy budget kept in it."""

from __future__ import annotations

import sqlite3
import threading

import numpy as np
import pandas as pd
import pytest

from core.data import load
from core.errors import (
    BudgetExceededError,
    InvalidParameterError,
    StoreVersionError,
    WorkspaceError,
)
from core.samples import ADULT_PATH
from core.workspace.budget import BudgetBook
from core.workspace.db import SCHEMA_VERSION, connect, default_db_path, load_or_create_secret
from core.workspace.fingerprint import table_fingerprint

KEY = b"k" * 32


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "zip": pd.Series(["02139", "10001", None], dtype="str"),
            "age": pd.Series([34, 51, None], dtype="Int64"),
            "income": [1.5, np.nan, 3.0],
            "code": pd.Series(["a", "b", "a"], dtype="category"),
            "when": pd.to_datetime(["2020-01-01", None, "2021-05-06"]),
            "flag": [True, False, True],
            "mixed": pd.Series([1, "1", None], dtype=object),
        }
    )


# --- fingerprint -------------------------------------------------------------------------------


def test_fingerprint_is_equal_for_the_same_file_loaded_twice():
    a = load(ADULT_PATH).frame
    b = load(ADULT_PATH).frame
    assert a is not b
    assert table_fingerprint(a, secret=KEY) == table_fingerprint(b, secret=KEY)


def test_fingerprint_ignores_index_and_memory_layout():
    f = _frame()
    g = pd.concat([f.iloc[:1], f.iloc[1:]]).set_axis([10, 11, 12])
    assert table_fingerprint(f, secret=KEY) == table_fingerprint(g, secret=KEY)


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(age=f["age"].astype("float64")),  # same numbers, other type
        lambda f: f.assign(zip=f["zip"].replace("02139", "2139")),  # a leading zero lost
        lambda f: f.rename(columns={"age": "Age"}),  # a column name
        lambda f: f[list(reversed(f.columns))],  # column order
        lambda f: f.iloc[:2],  # a row fewer
        lambda f: f.assign(income=[1.5, 0.0, 3.0]),  # a missing cell filled with 0
        lambda f: f.assign(mixed=pd.Series(["1", "1", None], dtype=object)),  # 1 vs "1"
        lambda f: f.assign(code=f["code"].cat.rename_categories(["x", "b"])),  # a category
        lambda f: f.assign(zip=pd.Series(["02139", "10001", ""], dtype="str")),  # None vs ""
    ],
)
def test_fingerprint_changes_with_content_or_type(change):
    f = _frame()
    assert table_fingerprint(f, secret=KEY) != table_fingerprint(change(f), secret=KEY)


def test_fingerprint_text_boundaries_are_unambiguous():
    a = pd.DataFrame({"t": pd.Series(["ab", "c"], dtype="str")})
    b = pd.DataFrame({"t": pd.Series(["a", "bc"], dtype="str")})
    assert table_fingerprint(a, secret=KEY) != table_fingerprint(b, secret=KEY)


def test_fingerprint_depends_on_the_key_and_refuses_a_short_one():
    f = _frame()
    assert table_fingerprint(f, secret=KEY) != table_fingerprint(f, secret=b"j" * 32)
    with pytest.raises(InvalidParameterError, match="at least 16 bytes"):
        table_fingerprint(f, secret=b"short")


# --- database ----------------------------------------------------------------------------------


def test_migration_from_an_empty_file(tmp_path):
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    conn = connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"budgets", "spends", "audit", "workspaces"} <= tables
    conn.close()
    assert connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StoreVersionError, match="Upgrade PrivLens"):
        connect(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(WorkspaceError, match="could not be opened"):
        connect(path)


def test_default_path_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("PRIVLENS_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "privlens" / "privlens.sqlite3"
    monkeypatch.setenv("PRIVLENS_DB", str(tmp_path / "x.db"))
    assert default_db_path() == tmp_path / "x.db"


def test_server_secret_is_created_once_private(tmp_path):
    path = tmp_path / "s" / "privlens.key"
    first = load_or_create_secret(path)
    assert len(first) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(path) == first
    path.write_bytes(b"short")
    with pytest.raises(WorkspaceError, match="holds 5 bytes"):
        load_or_create_secret(path)


# --- budget ------------------------------------------------------------------------------------


def test_twenty_concurrent_releases_on_a_budget_for_ten(tmp_path):
    path = tmp_path / "budget.sqlite3"
    fp = "f" * 64
    BudgetBook.open(path).ensure(fp, total_epsilon=1.0)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def release(i: int) -> None:
        book = BudgetBook.open(path)  # each thread its own connection
        barrier.wait()
        try:
            book.spend(fp, f"release {i}", epsilon=0.1, detail={"query": "count"})
            result = "charged"
        except BudgetExceededError:
            result = "refused"
        finally:
            book.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=release, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["charged"] * 10 + ["refused"] * 10
    book = BudgetBook.open(path)
    ledger = book.ledger(fp)
    assert ledger is not None and len(ledger.entries) == 10
    assert ledger.composition().basic_epsilon == pytest.approx(1.0)
    assert [e.event for e in book.history(fp)].count("spend") == 10


def test_budget_is_shared_by_every_session_loading_the_same_table(tmp_path):
    path = tmp_path / "b.sqlite3"
    fp = table_fingerprint(load(ADULT_PATH).frame, secret=KEY)
    BudgetBook.open(path).ensure(fp, total_epsilon=1.5)
    BudgetBook.open(path).spend(fp, "mean of age", epsilon=1.0)
    # a reload: another load, another connection, same fingerprint
    again = table_fingerprint(load(ADULT_PATH).frame, secret=KEY)
    other = BudgetBook.open(path)
    assert other.ensure(again, total_epsilon=1.5).remaining_epsilon == pytest.approx(0.5)
    with pytest.raises(BudgetExceededError):
        other.spend(again, "mean of age", epsilon=1.0)


def test_spending_needs_a_budget(tmp_path):
    with pytest.raises(WorkspaceError, match="no privacy budget yet"):
        BudgetBook.open(tmp_path / "b.sqlite3").spend("a" * 64, "x", epsilon=0.1)


def test_reset_is_explicit_and_logged(tmp_path):
    book = BudgetBook.open(tmp_path / "b.sqlite3")
    fp = "c" * 64
    book.ensure(fp, total_epsilon=1.0)
    book.spend(fp, "count", epsilon=0.75)
    with pytest.raises(InvalidParameterError, match="confirm=True"):
        book.reset(fp, confirm=False, reason="x")
    with pytest.raises(InvalidParameterError, match="reason"):
        book.reset(fp, confirm=True, reason=" ")
    assert book.ledger(fp).remaining_epsilon == pytest.approx(0.25)  # unchanged
    ledger = book.reset(fp, confirm=True, reason="earlier releases withdrawn", total_epsilon=2.0)
    assert ledger.entries == () and ledger.total_epsilon == 2.0
    reset = [e for e in book.history(fp) if e.event == "reset"]
    assert len(reset) == 1
    assert reset[0].detail["releases_dropped"] == 1
    assert reset[0].detail["epsilon_dropped"] == pytest.approx(0.75)
    assert len(book.records(fp)) == 1  # the old spend is kept, in epoch 0


def test_ensure_keeps_existing_totals(tmp_path):
    book = BudgetBook.open(tmp_path / "b.sqlite3")
    book.ensure("d" * 64, total_epsilon=1.0)
    assert book.ensure("d" * 64, total_epsilon=9.0).total_epsilon == 1.0


def test_import_does_not_count_a_spend_twice(tmp_path):
    src = BudgetBook.open(tmp_path / "a.sqlite3")
    src.ensure("e" * 64, total_epsilon=1.0)
    src.spend("e" * 64, "sum", epsilon=0.5)
    records = src.records("e" * 64)
    dst = BudgetBook.open(tmp_path / "b.sqlite3")
    first = dst.import_records("9" * 64, records, total_epsilon=1.0, total_delta=0.0)
    second = dst.import_records("9" * 64, records, total_epsilon=1.0, total_delta=0.0)
    assert len(first.entries) == len(second.entries) == 1
