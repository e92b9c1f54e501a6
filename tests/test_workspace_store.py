"""Encrypted workspaces in the database: tokens, restore, tampering, expiry, deletion."""

from __future__ import annotations

import sqlite3
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.data import load
from core.errors import InvalidParameterError, PrivLensError, WorkspaceError, WorkspaceNotFoundError
from core.samples import ADULT_PATH
from core.workspace.fingerprint import table_fingerprint
from core.workspace.store import (
    WorkspaceStore,
    frame_from_bytes,
    frame_to_bytes,
    idle_seconds_setting,
    new_token,
)
from tests.strategies import frames, loaded_frames

SECRET = b"s" * 32


@pytest.fixture
def db(tmp_path):
    return tmp_path / "ws.sqlite3"


@pytest.fixture(scope="module")
def adult():
    return load(ADULT_PATH).frame.head(3000)


def test_restore_gives_back_state_and_the_same_table(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b'{"k": 5}', data=adult)
    # a reload: a new connection, only the token from the link
    back = WorkspaceStore.open(db, secret=SECRET).load(token)
    assert back.state == b'{"k": 5}'
    assert back.data is not None
    assert list(back.data.dtypes) == list(adult.dtypes)
    assert table_fingerprint(back.data, secret=SECRET) == table_fingerprint(adult, secret=SECRET)


def test_the_token_is_never_stored_and_the_data_is_encrypted(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b"settings", data=adult)
    raw = db.read_bytes()
    assert token.encode() not in raw
    # long names and values only: a short one could occur by chance in ciphertext or schema
    for text in ("native-country", "hours-per-week", "Never-married", "United-States"):
        assert text.encode() not in raw


@pytest.mark.parametrize(
    "token",
    [
        None,  # no token in the link
        "",  # an empty one
        "short",  # not a token at all
        new_token(),  # a well-formed token of no workspace
    ],
    ids=["none", "empty", "short", "unknown"],  # the same on every test worker
)
def test_a_wrong_or_missing_token_opens_nothing(db, adult, token):
    store = WorkspaceStore.open(db, secret=SECRET)
    store.create(state=b"x", data=adult)
    with pytest.raises(WorkspaceNotFoundError, match="workspace"):
        store.load(token)


def test_another_server_secret_finds_nothing(db):
    token = WorkspaceStore.open(db, secret=SECRET).create(state=b"x")
    with pytest.raises(WorkspaceNotFoundError):
        WorkspaceStore.open(db, secret=b"t" * 32).load(token)


@pytest.mark.parametrize(("table", "column"), [("workspaces", "state"), ("workspace_data", "data")])
def test_tampered_stored_data_is_refused(db, adult, table, column):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b"x" * 100, data=adult)
    raw = sqlite3.connect(db)
    (blob,) = raw.execute(f"SELECT {column} FROM {table}").fetchone()
    flipped = bytearray(blob)
    flipped[-40] ^= 1  # one bit of the last chunk
    raw.execute(f"UPDATE {table} SET {column} = ?", (bytes(flipped),))
    raw.commit()
    with pytest.raises(WorkspaceError, match="integrity check"):
        store.load(token)


def test_state_and_data_cannot_be_swapped(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b"x", data=adult)
    raw = sqlite3.connect(db)
    raw.execute("UPDATE workspaces SET state = (SELECT data FROM workspace_data)")
    raw.commit()
    with pytest.raises(WorkspaceError, match="integrity check"):
        store.load(token)


def test_another_workspace_blob_does_not_open(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    mine = store.create(state=b"mine")
    store.create(state=b"theirs", data=adult)
    raw = sqlite3.connect(db)
    raw.execute(
        "UPDATE workspaces SET state = (SELECT w.state FROM workspaces w "
        "JOIN workspace_data d ON d.lookup = w.lookup)"
    )
    raw.commit()
    with pytest.raises(WorkspaceError, match="integrity check"):
        store.load(mine)


def test_expiry_deletes_data_then_the_row(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET, idle_seconds=60)
    old = store.create(state=b"old", data=adult)
    (blob,) = store.conn.execute("SELECT data FROM workspace_data").fetchone()
    piece = blob[1000:1064]
    assert piece in db.read_bytes()
    store.conn.execute("UPDATE workspaces SET last_seen = last_seen - 61")
    fresh = store.create(state=b"fresh")
    assert store.expire() == 1
    assert store.conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == 1
    assert store.conn.execute("SELECT count(*) FROM workspace_data").fetchone()[0] == 0
    assert piece not in db.read_bytes()  # the ciphertext itself is overwritten in the file
    with pytest.raises(WorkspaceNotFoundError):
        store.load(old)
    assert store.load(fresh).state == b"fresh"


def test_an_idle_workspace_is_gone_even_before_the_sweep(db):
    store = WorkspaceStore.open(db, secret=SECRET, idle_seconds=60)
    token = store.create(state=b"x")
    store.conn.execute("UPDATE workspaces SET last_seen = last_seen - 61")
    with pytest.raises(WorkspaceNotFoundError):
        store.load(token)
    assert store.conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == 0


def test_loading_keeps_a_workspace_alive(db):
    store = WorkspaceStore.open(db, secret=SECRET, idle_seconds=60)
    token = store.create(state=b"x")
    store.conn.execute("UPDATE workspaces SET last_seen = last_seen - 50")
    store.load(token)
    store.conn.execute("UPDATE workspaces SET last_seen = last_seen - 50")
    assert store.expire() == 0


def test_delete_now(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b"x", data=adult)
    assert store.delete(token) is True
    assert store.delete(token) is False
    with pytest.raises(WorkspaceNotFoundError):
        store.load(token)


def test_save_replaces_state_and_can_drop_the_table(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    token = store.create(state=b"v1", data=adult)
    store.save_state(token, state=b"v2")
    assert store.load(token).state == b"v2"
    assert store.load(token).data is not None
    store.save(token, state=b"v3", data=None)
    assert store.load(token).data is None
    with pytest.raises(WorkspaceNotFoundError):
        store.save(new_token(), state=b"v")


def test_idle_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("PRIVLENS_WORKSPACE_IDLE_SECONDS", "3600")
    assert idle_seconds_setting() == 3600
    monkeypatch.setenv("PRIVLENS_WORKSPACE_IDLE_SECONDS", "soon")
    with pytest.raises(InvalidParameterError, match="whole number of seconds"):
        idle_seconds_setting()


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(df=st.one_of(loaded_frames(max_rows=8), frames(max_rows=8)))
def test_stored_table_keeps_its_fingerprint(df):
    # a reload must find the same budget: the stored table is the same table, types included
    try:
        raw = frame_to_bytes(df)
    except PrivLensError:
        return  # refused cleanly (e.g. a column mixing value types)
    back = frame_from_bytes(raw)
    assert table_fingerprint(back, secret=SECRET) == table_fingerprint(df, secret=SECRET)


def test_migration_from_version_1_keeps_stored_workspaces(db, adult):
    # a version-1 file: the table inline in the workspaces row
    from core.workspace.db import MIGRATIONS, SCHEMA_VERSION

    raw = sqlite3.connect(db)
    raw.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    v1 = WorkspaceStore(raw, secret=SECRET)
    token = new_token()
    state, data = v1._seal(token, b"v1 state", adult)
    raw.execute(
        "INSERT INTO workspaces (lookup, created_at, last_seen, state, data) "
        "VALUES (?, ?, ?, ?, ?)",
        (v1._lookup(token), 1.0, time.time(), state, data),
    )
    raw.commit()
    raw.close()
    store = WorkspaceStore.open(db, secret=SECRET)  # migrates to the current version
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    back = store.load(token)
    assert back.state == b"v1 state"
    assert table_fingerprint(back.data, secret=SECRET) == table_fingerprint(adult, secret=SECRET)
    columns = [r[1] for r in store.conn.execute("PRAGMA table_info(workspaces)")]
    assert "data" not in columns


def test_a_table_above_the_database_limit_is_refused_cleanly(db, adult):
    store = WorkspaceStore.open(db, secret=SECRET)
    store.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 10_000)  # stands in for the 1 GB limit
    with pytest.raises(WorkspaceError, match="too large"):
        store.create(state=b"x", data=adult)
    assert store.conn.execute("SELECT count(*) FROM workspaces").fetchone()[0] == 0
