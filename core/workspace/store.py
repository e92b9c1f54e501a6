"""Workspaces kept in the database, encrypted under a key only the user's link holds.

A workspace is found by a token, 32 random bytes in URL-safe text
(:func:`new_token`), that only the user's browser holds (``?ws=…``). The server stores:

- ``HMAC-SHA256(server secret, token)`` as the row's lookup key, so the table of workspaces
  cannot be matched against a token without the server secret, and a wrong token finds no
  row;
- the workspace state (settings, recipe, history: JSON) and the dataset (Arrow IPC), each
  encrypted in the PrivLens format (AES-256-GCM, :func:`core.crypto.encrypt_bytes`) under a
  key derived from the token with HKDF-SHA256, with a different ``info`` for each, so they
  cannot be swapped with each other or with another workspace's.

Neither the token nor a key derived from it is written anywhere: without the link, the
stored data cannot be decrypted, even by the server. Idle workspaces (not opened or saved
for ``idle_seconds``) are deleted by :meth:`WorkspaceStore.expire`, data first, then the
row; the database zeroes deleted content (``secure_delete``).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF

from core.crypto import decrypt_bytes, encrypt_bytes
from core.errors import (
    DecryptionError,
    InvalidParameterError,
    WorkspaceError,
    WorkspaceNotFoundError,
)
from core.frames import check_frame
from core.workspace.db import connect

#: Environment variable for the idle time after which a workspace is deleted.
IDLE_ENV = "PRIVLENS_WORKSPACE_IDLE_SECONDS"
#: Default idle time: 7 days.
IDLE_SECONDS_DEFAULT = 7 * 24 * 3600
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43,128}")
_SALT = b"privlens-workspace/v1"


def new_token() -> str:
    """A new unguessable workspace token (256 bits from the OS CSPRNG, URL-safe text).

    >>> len(new_token()), new_token() != new_token()
    (43, True)
    """
    return secrets.token_urlsafe(TOKEN_BYTES)


def idle_seconds_setting() -> int:
    """The configured idle time: ``$PRIVLENS_WORKSPACE_IDLE_SECONDS`` or 7 days.

    Raises
    ------
    InvalidParameterError
        The variable is set but is not a positive whole number of seconds.
    """
    raw = os.environ.get(IDLE_ENV)
    if raw is None or raw == "":
        return IDLE_SECONDS_DEFAULT
    if not raw.strip().isdigit() or int(raw) <= 0:
        raise InvalidParameterError(
            f"{IDLE_ENV} must be a positive whole number of seconds; got {len(raw)} "
            "character(s) that are not. For one day, set 86400."
        )
    return int(raw)


def _check_token(token: object) -> str:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise WorkspaceNotFoundError(
            "This link holds no valid workspace token, so no workspace is opened. Use the "
            "full link you were given, or start a new workspace."
        )
    return token


def _key(token: str, purpose: bytes) -> bytes:
    """HKDF-SHA256 of the token: the key for one part (``state`` or ``data``)."""
    return bytes(HKDF(token.encode("ascii"), 32, _SALT, SHA256, context=purpose))


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredWorkspace:
    """A workspace as restored: its state (JSON bytes), its table, and its times."""

    state: bytes
    data: pd.DataFrame | None
    created_at: float
    last_seen: float


_DTYPES_KEY = b"privlens.dtypes"


def frame_to_bytes(frame: pd.DataFrame) -> bytes:
    """A table as Arrow IPC stream bytes (zstd), keeping its dtypes (and so its fingerprint).

    Raises
    ------
    ColumnError
        Column names that are not unique text (see :func:`core.frames.check_frame`).
    WorkspaceError
        A column mixes value types that Arrow cannot hold.
    """
    frame = check_frame(frame)
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        raise WorkspaceError(
            f"The table ({frame.shape[1]} column(s)) could not be stored: a column mixes value "
            "types. Set each column's kind on the Data page, then try again."
        ) from None
    dtypes = json.dumps([str(d) for d in frame.dtypes]).encode("utf-8")
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _DTYPES_KEY: dtypes})
    sink = io.BytesIO()
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    with pa.ipc.new_stream(sink, table.schema, options=options) as writer:
        writer.write_table(table)
    return sink.getvalue()


def frame_from_bytes(data: bytes) -> pd.DataFrame:
    """The table back from :func:`frame_to_bytes`, with its original dtypes.

    Raises
    ------
    WorkspaceError
        The bytes are not a stored table.
    """
    try:
        table = pa.ipc.open_stream(data).read_all()
        dtypes = json.loads((table.schema.metadata or {}).get(_DTYPES_KEY, b"[]"))
        frame = table.to_pandas()
    except (pa.ArrowException, ValueError, TypeError):
        raise WorkspaceError(
            "The stored table could not be read back. Delete the workspace and load the file again."
        ) from None
    for name, dtype in zip(frame.columns, dtypes, strict=False):
        # pandas reads Python-object columns back as text or numbers: restore the objects
        if dtype == "object" and frame[name].dtype != object:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


class WorkspaceStore:
    """Encrypted workspaces in the database.

    Parameters
    ----------
    conn : sqlite3.Connection
        From :func:`core.workspace.db.connect`; used by one thread at a time.
    secret : bytes
        The server secret (:func:`core.workspace.db.load_or_create_secret`).
    idle_seconds : int, optional
        Idle time after which a workspace is gone; :func:`idle_seconds_setting` by default.
    """

    def __init__(
        self, conn: sqlite3.Connection, *, secret: bytes, idle_seconds: int | None = None
    ) -> None:
        if len(secret) < 16:
            raise InvalidParameterError(
                f"the server secret must be at least 16 bytes; got {len(secret)}."
            )
        self.conn = conn
        self._secret = bytes(secret)
        self.idle_seconds = idle_seconds_setting() if idle_seconds is None else idle_seconds
        if self.idle_seconds <= 0:
            raise InvalidParameterError(
                f"idle_seconds must be positive; got {self.idle_seconds}. For one day, 86400."
            )

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, secret: bytes, idle_seconds: int | None = None
    ) -> WorkspaceStore:
        """A store on its own connection to the database at ``path``."""
        return cls(connect(path), secret=secret, idle_seconds=idle_seconds)

    def _lookup(self, token: str) -> bytes:
        msg = b"privlens-workspace-lookup/v1\x00" + _check_token(token).encode("ascii")
        return hmac.digest(self._secret, msg, hashlib.sha256)

    # --- writing ----------------------------------------------------------------------------

    def _write(self, statements: list[tuple[str, tuple[object, ...]]]) -> int:
        """Run statements in one ``BEGIN IMMEDIATE`` transaction; the last one's rowcount."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            count = 0
            for sql, args in statements:
                count = self.conn.execute(sql, args).rowcount
        except sqlite3.DataError:
            self.conn.execute("ROLLBACK")
            raise WorkspaceError(
                "The table is too large to keep in the workspace database (SQLite's limit is "
                "about 1 GB per stored table). Work on a smaller extract, or save a project "
                "file instead."
            ) from None
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return count

    def create(self, *, state: bytes, data: pd.DataFrame | None = None) -> str:
        """Store a new workspace; return its token (give it to the user, keep it nowhere)."""
        token = new_token()
        now = time.time()
        lookup = self._lookup(token)
        sealed_state, sealed_data = self._seal(token, state, data)
        statements: list[tuple[str, tuple[object, ...]]] = [
            (
                "INSERT INTO workspaces (lookup, created_at, last_seen, state) VALUES (?, ?, ?, ?)",
                (lookup, now, now, sealed_state),
            )
        ]
        if sealed_data is not None:
            statements.append(
                ("INSERT INTO workspace_data (lookup, data) VALUES (?, ?)", (lookup, sealed_data))
            )
        self._write(statements)
        return token

    def save(self, token: str, *, state: bytes, data: pd.DataFrame | None = None) -> None:
        """Replace the workspace's state and table (``None`` drops the table).

        Raises
        ------
        WorkspaceNotFoundError
            No workspace for this token (wrong, expired or deleted).
        """
        self._require(token)
        lookup = self._lookup(token)
        sealed_state, sealed_data = self._seal(token, state, data)
        statements: list[tuple[str, tuple[object, ...]]] = [
            ("DELETE FROM workspace_data WHERE lookup = ?", (lookup,)),
            (
                "UPDATE workspaces SET state = ?, last_seen = ? WHERE lookup = ?",
                (sealed_state, time.time(), lookup),
            ),
        ]
        if sealed_data is not None:
            statements.insert(
                1,
                ("INSERT INTO workspace_data (lookup, data) VALUES (?, ?)", (lookup, sealed_data)),
            )
        self._write(statements)

    def save_state(self, token: str, *, state: bytes) -> None:
        """Replace only the state (settings change often; the table rarely)."""
        self._require(token)
        self.conn.execute(
            "UPDATE workspaces SET state = ?, last_seen = ? WHERE lookup = ?",
            (encrypt_bytes(state, key=_key(token, b"state")), time.time(), self._lookup(token)),
        )

    def _seal(
        self, token: str, state: bytes, data: pd.DataFrame | None
    ) -> tuple[bytes, bytes | None]:
        sealed_state = encrypt_bytes(state, key=_key(token, b"state"))
        if data is None:
            return sealed_state, None
        return sealed_state, encrypt_bytes(frame_to_bytes(data), key=_key(token, b"data"))

    def delete(self, token: str) -> bool:
        """Delete the workspace now, its table first; True if there was one."""
        lookup = self._lookup(token)
        gone = self._write(
            [
                ("DELETE FROM workspace_data WHERE lookup = ?", (lookup,)),
                ("DELETE FROM workspaces WHERE lookup = ?", (lookup,)),
            ]
        )
        return bool(gone)

    def expire(self, *, now: float | None = None) -> int:
        """Delete every workspace idle for longer than ``idle_seconds``, tables first.

        Returns
        -------
        int
            How many workspaces were deleted.
        """
        cutoff = (time.time() if now is None else now) - self.idle_seconds
        return self._write(
            [
                (
                    "DELETE FROM workspace_data WHERE lookup IN "
                    "(SELECT lookup FROM workspaces WHERE last_seen < ?)",
                    (cutoff,),
                ),
                ("DELETE FROM workspaces WHERE last_seen < ?", (cutoff,)),
            ]
        )

    # --- reading ----------------------------------------------------------------------------

    def _require(self, token: str) -> tuple[float, float, bytes | None]:
        row = self.conn.execute(
            "SELECT created_at, last_seen, state FROM workspaces WHERE lookup = ?",
            (self._lookup(token),),
        ).fetchone()
        if row is not None and row[1] < time.time() - self.idle_seconds:
            self.delete(token)
            row = None
        if row is None:
            raise WorkspaceNotFoundError(
                "No workspace matches this link: it is wrong, or the workspace expired or was "
                "deleted. Start a new workspace, or open a saved project file."
            )
        return row[0], row[1], row[2]

    def load(self, token: str) -> StoredWorkspace:
        """Decrypt and return the workspace, and mark it as used now.

        Raises
        ------
        WorkspaceNotFoundError
            No workspace for this token (a wrong token opens nothing).
        WorkspaceError
            The stored data fails authentication (it was altered), so nothing is returned.
        """
        created, _, sealed_state = self._require(token)
        found = self.conn.execute(
            "SELECT data FROM workspace_data WHERE lookup = ?", (self._lookup(token),)
        ).fetchone()
        sealed_data = None if found is None else found[0]
        try:
            state = decrypt_bytes(sealed_state or b"", key=_key(token, b"state"))
            data = (
                None
                if sealed_data is None
                else frame_from_bytes(decrypt_bytes(sealed_data, key=_key(token, b"data")))
            )
        except DecryptionError:
            raise WorkspaceError(
                "The stored workspace failed its integrity check (it was altered or damaged), "
                "so nothing was restored. Delete it and open a saved project file instead."
            ) from None
        now = time.time()
        self.conn.execute(
            "UPDATE workspaces SET last_seen = ? WHERE lookup = ?", (now, self._lookup(token))
        )
        return StoredWorkspace(state=state, data=data, created_at=created, last_seen=now)
