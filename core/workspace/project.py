"""Project files: the whole workspace in one file, encrypted under a passphrase.

A project file is the PrivLens encryption format (AES-256-GCM, scrypt;
:func:`core.crypto.encrypt_bytes`) around::

    b"privlens-project/v1\\n" || len(JSON) (8 bytes, big-endian) || JSON || [table, Arrow IPC]

The JSON holds the workspace (:meth:`Workspace.to_dict`: recipe with undo/redo, roles,
kinds, settings, release and export history), the privacy budget's totals, every spend
(with its id, so opening twice does not count it twice), the budget's audit log, and a
*data check*: ``HMAC-SHA256(salt, canonical table)`` under a random salt stored beside it
(:func:`core.workspace.fingerprint.table_fingerprint`). The server's own fingerprint is not
usable on another server, whose secret differs; the data check is, and it says nothing
about the table to anyone without the passphrase. The table itself is included only when
asked.

Opening a project checks the table it is opened against (the one loaded, or the one in the
file) with the data check and refuses a different table.

A workspace of a large dataset (read where it lies, :class:`~core.workspace.model.LargeSource`)
is saved without data: the JSON's ``source`` names the allowed directory by its id
(:func:`core.large_data.dir_id`, not its path, which the workspace's ``root`` is replaced by),
the path relative to it, the engine, the sample seed and the files' fingerprint
(:func:`core.large_data.source_fingerprint`). Opening it finds the directory among this
server's allowed ones and refuses the project when none matches, or when the files there have
another fingerprint.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from core.crypto import decrypt_bytes, encrypt_bytes
from core.dp_budget import SLACK_DELTA_DEFAULT, Ledger
from core.errors import ProjectMismatchError, SourceNotAllowedError, WorkspaceError
from core.limits import SCRYPT_WORK_FACTOR_DEFAULT, SCRYPT_WORK_FACTOR_MAX
from core.workspace.budget import AuditEvent, BudgetBook, SpendRecord
from core.workspace.fingerprint import table_fingerprint
from core.workspace.model import Workspace
from core.workspace.store import frame_from_bytes, frame_to_bytes

PROJECT_MAGIC = b"privlens-project/v1\n"
PROJECT_VERSION = 1
_LEN = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    """A budget's totals (what :class:`~core.dp_budget.Ledger` is built from)."""

    total_epsilon: float
    total_delta: float
    slack_delta: float = SLACK_DELTA_DEFAULT


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """An opened project file.

    Attributes
    ----------
    workspace : Workspace
        Its dataset fingerprint recomputed with this server's secret (or, for a large
        dataset, its source in this server's allowed directory).
    table : pandas.DataFrame or None
        The table it was checked against (the loaded one, or the one in the file); None for
        a large dataset, which stays where it lies.
    budget : Budget or None
        The budget's totals, if the project had one.
    spends : tuple of SpendRecord
        Every spend recorded when it was saved.
    audit : tuple of AuditEvent
        The budget's audit log when it was saved.
    """

    workspace: Workspace
    table: pd.DataFrame | None
    budget: Budget | None
    spends: tuple[SpendRecord, ...]
    audit: tuple[AuditEvent, ...]

    def ledger(self) -> Ledger | None:
        """The saved ledger (spends of the saved epoch), or None without a budget."""
        if self.budget is None:
            return None
        epoch = max((s.epoch for s in self.spends), default=0)
        return Ledger(
            total_epsilon=self.budget.total_epsilon,
            total_delta=self.budget.total_delta,
            slack_delta=self.budget.slack_delta,
        ).spend_many([(s.label, s.epsilon, s.delta) for s in self.spends if s.epoch == epoch])


def save_project(
    workspace: Workspace,
    table: pd.DataFrame | None,
    *,
    passphrase: str,
    include_data: bool = False,
    ledger: Ledger | None = None,
    spends: Sequence[SpendRecord] = (),
    audit: Sequence[AuditEvent] = (),
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
) -> bytes:
    """The project file's bytes.

    Parameters
    ----------
    workspace : Workspace
        The work to save; it must describe a dataset, or a large dataset whose files'
        fingerprint it records.
    table : pandas.DataFrame or None
        The loaded table (for the data check, and saved only if ``include_data``); None for
        a large dataset.
    passphrase : str
        Encrypts the file (scrypt, log2 N = ``work_factor``).
    include_data : bool, default False
        Put the table in the file too.
    ledger : Ledger, optional
        The table's budget (its totals are saved).
    spends, audit : sequences
        From :meth:`BudgetBook.records` and :meth:`BudgetBook.history`.
    work_factor : int, default 17

    Raises
    ------
    WorkspaceError
        The workspace has no dataset; or a large dataset without its files' fingerprint, or
        with ``include_data``.
    InvalidParameterError
        An empty passphrase or a work factor out of range.
    """
    if workspace.large_source is not None:
        source, state = _source_reference(workspace, include_data)
        table, include_data = None, False
    elif workspace.dataset is None or table is None:
        raise WorkspaceError("There is nothing to save yet: load a table first.")
    else:
        source, state = None, workspace.to_dict()
    salt = os.urandom(32)
    body: dict[str, Any] = {
        "project_version": PROJECT_VERSION,
        "workspace": state,
        "budget": None
        if ledger is None
        else asdict(
            Budget(
                total_epsilon=ledger.total_epsilon,
                total_delta=ledger.total_delta,
                slack_delta=ledger.slack_delta,
            )
        ),
        "spends": [asdict(s) for s in spends],
        "audit": [{"at": a.at, "event": a.event, "detail": dict(a.detail)} for a in audit],
        "check": None
        if table is None
        else {"salt": salt.hex(), "digest": table_fingerprint(table, secret=salt)},
        "has_data": include_data,
    }
    if source is not None:
        body["source"] = source
    head = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    data = frame_to_bytes(table) if include_data and table is not None else b""
    plain = PROJECT_MAGIC + len(head).to_bytes(_LEN, "big") + head + data
    return encrypt_bytes(plain, passphrase=passphrase, work_factor=work_factor)


def open_project(
    blob: bytes,
    *,
    passphrase: str,
    secret: bytes,
    table: pd.DataFrame | None = None,
    dirs: Sequence[Path] | None = None,
    max_work_factor: int = SCRYPT_WORK_FACTOR_MAX,
) -> Project:
    """Decrypt a project file and check it against the table it is opened on.

    Parameters
    ----------
    blob : bytes
        The project file.
    passphrase : str
        The passphrase it was saved with.
    secret : bytes
        This server's secret, to recompute the table fingerprint (the budget key).
    table : pandas.DataFrame, optional
        The loaded table, which a file without its own table must match. A file that
        contains its table restores that table instead. Not used by the project of a large
        dataset.
    dirs : sequence of pathlib.Path, optional
        The allowed directories a large dataset's project looks for its source in
        (:func:`core.large_data.allowed_dirs`, ``$PRIVLENS_DATA_DIRS``, when omitted).
    max_work_factor : int, default 20
        Refuse files whose scrypt cost is above this.

    Raises
    ------
    WrongKeyError, TamperedDataError, DecryptionError
        The passphrase does not open it, or the file was altered.
    ProjectMismatchError
        The table is not the one the project was made on; or a large dataset's files have
        another fingerprint (changed, or copied without their modification times).
    SourceNotAllowedError
        A large dataset's directory is not allowed on this server.
    DataLoadError
        A large dataset is no longer in its directory.
    WorkspaceError
        Not a project file, or one with neither a loaded table nor its own.
    """
    plain = decrypt_bytes(blob, passphrase=passphrase, max_work_factor=max_work_factor)
    body, data = _split(plain)
    workspace = Workspace.from_dict(body.get("workspace"))
    if body.get("source") is not None:
        return _open_large(body, workspace, dirs)
    check = body.get("check")
    if not isinstance(check, dict) or not {"salt", "digest"} <= set(check):
        raise WorkspaceError("The project file has no data check. Save the project again.")
    salt = bytes.fromhex(str(check["salt"]))
    if data:
        # the file holds its own table: that is the table the project restores (a loaded
        # table is replaced, not compared); the check below still proves it is the saved one
        table = frame_from_bytes(data)
    elif table is None:
        raise WorkspaceError(
            "This project file does not contain its table. Load the table it was made "
            "on first, then open the project."
        )
    meta = workspace.dataset
    assert meta is not None  # save_project refuses a workspace without a dataset
    if table_fingerprint(table, secret=salt) != check["digest"]:
        raise ProjectMismatchError(
            f"This project was made on another table ({meta.n_rows:,} rows, "
            f"{len(meta.columns)} columns; the loaded one has {len(table):,} rows, "
            f"{table.shape[1]} columns) or on a different version of it: the data "
            "fingerprints differ. Load the exact table the project was saved with."
        )
    workspace = replace(
        workspace, dataset=replace(meta, fingerprint=table_fingerprint(table, secret=secret))
    )
    budget, spends, audit = _budget_parts(body)
    return Project(workspace=workspace, table=table, budget=budget, spends=spends, audit=audit)


def _budget_parts(
    body: dict[str, Any],
) -> tuple[Budget | None, tuple[SpendRecord, ...], tuple[AuditEvent, ...]]:
    try:
        budget = None if body.get("budget") is None else Budget(**body["budget"])
        spends = tuple(SpendRecord(**s) for s in body.get("spends", []))
        audit = tuple(AuditEvent(**a) for a in body.get("audit", []))
    except TypeError:
        raise WorkspaceError(
            "The project file's budget section is damaged. Save the project again."
        ) from None
    return budget, spends, audit


def restore_budget(book: BudgetBook, project: Project) -> Ledger | None:
    """Bring the project's spends into this server's budget for the table (no double counts).

    Returns
    -------
    Ledger or None
        The table's ledger here, or None if the project had no budget.
    """
    if project.budget is None or project.workspace.dataset is None:
        return None
    return book.import_records(
        project.workspace.dataset.fingerprint,
        project.spends,
        total_epsilon=project.budget.total_epsilon,
        total_delta=project.budget.total_delta,
        slack_delta=project.budget.slack_delta,
    )


_SOURCE_KEYS = ("dir_id", "path", "engine", "seed", "fingerprint")


def _source_reference(
    workspace: Workspace, include_data: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A large dataset's reference for the file, and the workspace JSON without its root."""
    from core.large_data import dir_id

    src = workspace.large_source
    assert src is not None
    if include_data:
        raise WorkspaceError(
            "A large dataset is never put in a project file: the file records where it lies "
            "(allowed directory, path, engine, sample seed) and its files' fingerprint. Save "
            "without including the data."
        )
    if src.fingerprint is None:
        raise WorkspaceError(
            "This workspace has not recorded its dataset's files yet. Open the Data or Risk "
            "page once (it reads them), then save the project."
        )
    source = {
        "dir_id": dir_id(src.root),
        "path": src.path,
        "engine": src.engine,
        "seed": src.seed,
        "fingerprint": src.fingerprint,
    }
    state = workspace.to_dict()
    state["large_source"] = {**state["large_source"], "root": source["dir_id"]}
    return source, state


def _open_large(body: dict[str, Any], workspace: Workspace, dirs: Sequence[Path] | None) -> Project:
    """A large dataset's project, its source found among this server's allowed directories."""
    from core.large_data import allowed_dirs, dir_id, source_fingerprint

    ref, src = body.get("source"), workspace.large_source
    if (
        not isinstance(ref, dict)
        or set(ref) != set(_SOURCE_KEYS)
        or src is None
        or workspace.dataset is not None
        or (src.root, src.path, src.engine, src.seed, src.fingerprint)
        != tuple(ref[k] for k in _SOURCE_KEYS)
    ):
        raise WorkspaceError(
            "The project file's large-dataset reference is damaged. Save the project again."
        )
    dirs = allowed_dirs() if dirs is None else dirs
    root = next((str(d) for d in dirs if dir_id(str(d)) == ref["dir_id"]), None)
    if root is None:
        raise SourceNotAllowedError(
            "This project reads a large dataset from a directory this server does not allow "
            f"(none of its {len(dirs)} allowed director(ies) is the one the project was saved "
            "with). Ask the operator to allow that directory, at the same path "
            "(PRIVLENS_DATA_DIRS), or open the project on the server it was saved on."
        )
    fingerprint = source_fingerprint(root, src.path, dirs)
    if fingerprint != src.fingerprint:
        raise ProjectMismatchError(
            f"This project was saved on other files than those now at its dataset's place "
            f"({src.n_rows:,} rows, {len(src.columns)} columns then): a Parquet file's size or "
            "modification time differs, or files were added or removed. Open it where the "
            "same files are; a copy keeps its fingerprint only with its modification times "
            "(cp -p, rsync -t)."
        )
    workspace = replace(workspace, large_source=replace(src, root=root))
    budget, spends, audit = _budget_parts(body)
    return Project(workspace=workspace, table=None, budget=budget, spends=spends, audit=audit)


def _split(plain: bytes) -> tuple[dict[str, Any], bytes]:
    n = len(PROJECT_MAGIC)
    if plain[:n] != PROJECT_MAGIC or len(plain) < n + _LEN:
        raise WorkspaceError(
            "This file is encrypted with PrivLens but is not a project file. Open it on the "
            "Decrypt page instead."
        )
    size = int.from_bytes(plain[n : n + _LEN], "big")
    head = plain[n + _LEN : n + _LEN + size]
    if len(head) != size:
        raise WorkspaceError("The project file is cut short. Save the project again.")
    try:
        body = json.loads(head)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or body.get("project_version") != PROJECT_VERSION:
        raise WorkspaceError(
            f"This project file has an unknown layout; this PrivLens reads project version "
            f"{PROJECT_VERSION}. Open it with the PrivLens that saved it."
        )
    return body, plain[n + _LEN + size :]
