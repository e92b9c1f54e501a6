"""The embedded database: where it lives, its schema, its migrations, the server secret.

One SQLite file (standard library :mod:`sqlite3`) holds the privacy budgets (keyed by the
table fingerprint), the audit log, and the encrypted workspaces. Its schema version is
``PRAGMA user_version``; :func:`connect` applies the missing migrations in order, inside one
``BEGIN IMMEDIATE`` transaction, so two processes opening a new file do not both migrate it.

Paths
-----
The database is ``$PRIVLENS_DB`` if set, else ``$XDG_DATA_HOME/privlens/privlens.sqlite3``
(``~/.local/share/privlens/privlens.sqlite3`` when ``XDG_DATA_HOME`` is not set). The server
secret, which keys the table fingerprints and the token hashes, is 32 random bytes in
``$PRIVLENS_SECRET_FILE``, else in ``privlens.key`` next to the database, created on first use
with mode 0600. Neither a workspace token nor a key derived from one is ever written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from core.errors import StoreVersionError, WorkspaceError

#: Environment variable naming the database file.
DB_ENV = "PRIVLENS_DB"
#: Environment variable naming the server-secret file.
SECRET_ENV = "PRIVLENS_SECRET_FILE"
#: Seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT_S = 30.0
SECRET_BYTES = 32

#: Migration ``i`` takes the schema from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (
    # 0 -> 1: budgets, spends, audit log, workspaces (with their table inline)
    """
    CREATE TABLE budgets (
        fingerprint   TEXT PRIMARY KEY,
        total_epsilon REAL NOT NULL,
        total_delta   REAL NOT NULL,
        slack_delta   REAL NOT NULL,
        epoch         INTEGER NOT NULL DEFAULT 0,
        created_at    REAL NOT NULL
    );
    CREATE TABLE spends (
        id          TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL REFERENCES budgets(fingerprint) ON DELETE CASCADE,
        epoch       INTEGER NOT NULL,
        label       TEXT NOT NULL,
        epsilon     REAL NOT NULL,
        delta       REAL NOT NULL,
        at          REAL NOT NULL
    );
    CREATE INDEX spends_by_budget ON spends(fingerprint, epoch);
    CREATE TABLE audit (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        fingerprint TEXT NOT NULL,
        at          REAL NOT NULL,
        event       TEXT NOT NULL,
        detail      TEXT NOT NULL
    );
    CREATE INDEX audit_by_budget ON audit(fingerprint, id);
    CREATE TABLE workspaces (
        lookup     BLOB PRIMARY KEY,
        created_at REAL NOT NULL,
        last_seen  REAL NOT NULL,
        state      BLOB,
        data       BLOB
    );
    CREATE INDEX workspaces_by_age ON workspaces(last_seen);
    """,
    # 1 -> 2: tables move to their own rows, so marking a workspace as used or saving its
    # settings no longer rewrites the whole table's blob
    """
    CREATE TABLE workspace_data (
        lookup BLOB PRIMARY KEY REFERENCES workspaces(lookup) ON DELETE CASCADE,
        data   BLOB NOT NULL
    );
    INSERT INTO workspace_data (lookup, data)
        SELECT lookup, data FROM workspaces WHERE data IS NOT NULL;
    UPDATE workspaces SET data = NULL;
    ALTER TABLE workspaces DROP COLUMN data;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


def default_db_path() -> Path:
    """The database path from the environment, or the default under the user's data dir.

    Examples
    --------
    >>> default_db_path().name
    'privlens.sqlite3'
    """
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "privlens" / "privlens.sqlite3"


def connect(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open (creating if needed) the database at ``path``, migrated to the current schema.

    Parameters
    ----------
    path : path-like
        The database file; its folder is created (mode 0700) if missing.

    Returns
    -------
    sqlite3.Connection
        In autocommit mode (``isolation_level=None``): callers open their own
        ``BEGIN IMMEDIATE`` transactions. Foreign keys and ``secure_delete`` are on, so
        deleted rows are overwritten with zeros in the file.

    Raises
    ------
    StoreVersionError
        The file was written by a newer PrivLens (a schema version above ours).
    WorkspaceError
        The file is not a SQLite database or cannot be opened.
    """
    p = Path(path)
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(
            p, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise WorkspaceError(
            f"The workspace database could not be opened ({type(exc).__name__}). Check that "
            f"the file set by {DB_ENV} is a PrivLens database, or point {DB_ENV} to a new file."
        ) from None
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the missing migrations; return the schema version reached.

    Raises
    ------
    StoreVersionError
        The database's ``user_version`` is above :data:`SCHEMA_VERSION`.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise StoreVersionError(
                f"The workspace database has schema version {version}; this PrivLens knows "
                f"versions up to {SCHEMA_VERSION}. Upgrade PrivLens, or point {DB_ENV} to "
                "another file."
            )
        for i in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[i].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {i + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def load_or_create_secret(path: str | os.PathLike[str] | None = None) -> bytes:
    """The server secret: read it, or create it (32 random bytes, mode 0600) on first use.

    Parameters
    ----------
    path : path-like, optional
        Defaults to ``$PRIVLENS_SECRET_FILE``, else ``privlens.key`` next to the database.

    Raises
    ------
    WorkspaceError
        The file exists but does not hold exactly 32 bytes.
    """
    if path is None:
        env = os.environ.get(SECRET_ENV)
        path = Path(env).expanduser() if env else default_db_path().with_name("privlens.key")
    p = Path(path)
    p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not p.exists():
        # Written under a private name, then linked: a reader never sees a partial secret,
        # and of two processes racing, the first link wins and both read its bytes.
        tmp = p.with_name(f".{p.name}.{os.getpid()}.{os.urandom(4).hex()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(SECRET_BYTES))
        try:
            os.link(tmp, p)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = p.read_bytes()
    if len(secret) != SECRET_BYTES:
        raise WorkspaceError(
            f"The server secret file holds {len(secret)} bytes, not {SECRET_BYTES}. "
            "Restore it from a backup, or remove it to start new budgets and workspaces."
        )
    return secret
