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
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import pandas as pd

from core.crypto import decrypt_bytes, encrypt_bytes
from core.dp_budget import SLACK_DELTA_DEFAULT, Ledger
from core.errors import ProjectMismatchError, WorkspaceError
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
        Its dataset fingerprint recomputed with this server's secret.
    table : pandas.DataFrame
        The table it was checked against (the loaded one, or the one in the file).
    budget : Budget or None
        The budget's totals, if the project had one.
    spends : tuple of SpendRecord
        Every spend recorded when it was saved.
    audit : tuple of AuditEvent
        The budget's audit log when it was saved.
    """

    workspace: Workspace
    table: pd.DataFrame
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
    table: pd.DataFrame,
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
        The work to save; it must describe a dataset.
    table : pandas.DataFrame
        The loaded table (for the data check, and saved only if ``include_data``).
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
        The workspace has no dataset.
    InvalidParameterError
        An empty passphrase or a work factor out of range.
    """
    if workspace.dataset is None:
        raise WorkspaceError("There is nothing to save yet: load a table first.")
    salt = os.urandom(32)
    body: dict[str, Any] = {
        "project_version": PROJECT_VERSION,
        "workspace": workspace.to_dict(),
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
        "check": {"salt": salt.hex(), "digest": table_fingerprint(table, secret=salt)},
        "has_data": include_data,
    }
    head = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    data = frame_to_bytes(table) if include_data else b""
    plain = PROJECT_MAGIC + len(head).to_bytes(_LEN, "big") + head + data
    return encrypt_bytes(plain, passphrase=passphrase, work_factor=work_factor)


def open_project(
    blob: bytes,
    *,
    passphrase: str,
    secret: bytes,
    table: pd.DataFrame | None = None,
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
        contains its table restores that table instead.
    max_work_factor : int, default 20
        Refuse files whose scrypt cost is above this.

    Raises
    ------
    WrongKeyError, TamperedDataError, DecryptionError
        The passphrase does not open it, or the file was altered.
    ProjectMismatchError
        The table is not the one the project was made on.
    WorkspaceError
        Not a project file, or one with neither a loaded table nor its own.
    """
    plain = decrypt_bytes(blob, passphrase=passphrase, max_work_factor=max_work_factor)
    body, data = _split(plain)
    workspace = Workspace.from_dict(body.get("workspace"))
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
    try:
        budget = None if body.get("budget") is None else Budget(**body["budget"])
        spends = tuple(SpendRecord(**s) for s in body.get("spends", []))
        audit = tuple(AuditEvent(**a) for a in body.get("audit", []))
    except TypeError:
        raise WorkspaceError(
            "The project file's budget section is damaged. Save the project again."
        ) from None
    return Project(workspace=workspace, table=table, budget=budget, spends=spends, audit=audit)


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
