"""Privacy budgets kept in the database, one per table, shared by every session.

A budget is keyed by the table's keyed fingerprint
(:func:`core.workspace.fingerprint.table_fingerprint`), not by a session, workspace or load:
whoever loads the same table spends from the same budget. Each spend runs in a
``BEGIN IMMEDIATE`` transaction that reads the spends so far, checks the new total with
:class:`core.dp_budget.Ledger` (basic or Kairouz–Oh–Viswanath composition, whichever is
smaller) and writes the spend, so concurrent releases can never overspend.

A reset starts a new *epoch*: earlier spends stay in the database and in the audit log,
but no longer count. It is an explicit act (``confirm=True``) and is logged.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from core.dp_budget import SLACK_DELTA_DEFAULT, Ledger, Spend
from core.errors import InvalidParameterError, WorkspaceError
from core.workspace.db import connect


@dataclass(frozen=True, slots=True, kw_only=True)
class SpendRecord:
    """One spend as stored: its id (unique across servers), epoch and time."""

    id: str
    label: str
    epsilon: float
    delta: float
    at: float
    epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """One line of a budget's audit log (``event`` is ``spend``, ``reset``, ...)."""

    at: float
    event: str
    detail: Mapping[str, Any]


@contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken before any read (``BEGIN IMMEDIATE``)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _audit(
    conn: sqlite3.Connection, fingerprint: str, event: str, detail: Mapping[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO audit (fingerprint, at, event, detail) VALUES (?, ?, ?, ?)",
        (fingerprint, time.time(), event, json.dumps(dict(detail), sort_keys=True)),
    )


class BudgetBook:
    """The budgets of every table, in one database.

    Parameters
    ----------
    conn : sqlite3.Connection
        From :func:`core.workspace.db.connect`. One book per thread: SQLite connections are
        not shared between threads here; open another with :meth:`open`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> book = BudgetBook.open(pathlib.Path(tempfile.mkdtemp()) / "b.sqlite3")
    >>> fp = "ab" * 32
    >>> book.ensure(fp, total_epsilon=1.0).remaining_epsilon
    1.0
    >>> round(book.spend(fp, "count of age", epsilon=0.25).remaining_epsilon, 6)
    0.75
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> BudgetBook:
        """A book on its own connection to the database at ``path``."""
        return cls(connect(path))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # --- reading ----------------------------------------------------------------------------

    def _ledger(self, fingerprint: str) -> Ledger | None:
        row = self.conn.execute(
            "SELECT total_epsilon, total_delta, slack_delta, epoch FROM budgets "
            "WHERE fingerprint = ?",
            (fingerprint,),
        ).fetchone()
        if row is None:
            return None
        spends = self.conn.execute(
            "SELECT label, epsilon, delta FROM spends WHERE fingerprint = ? AND epoch = ? "
            "ORDER BY at, rowid",
            (fingerprint, row[3]),
        ).fetchall()
        return Ledger(
            total_epsilon=row[0],
            total_delta=row[1],
            slack_delta=row[2],
            entries=tuple(Spend(label=s[0], epsilon=s[1], delta=s[2]) for s in spends),
        )

    def ledger(self, fingerprint: str) -> Ledger | None:
        """The table's ledger (spends of the current epoch), or None if it has no budget."""
        return self._ledger(fingerprint)

    def records(self, fingerprint: str) -> tuple[SpendRecord, ...]:
        """Every spend ever recorded for the table, all epochs, oldest first."""
        rows = self.conn.execute(
            "SELECT id, label, epsilon, delta, at, epoch FROM spends WHERE fingerprint = ? "
            "ORDER BY at, rowid",
            (fingerprint,),
        ).fetchall()
        return tuple(
            SpendRecord(id=r[0], label=r[1], epsilon=r[2], delta=r[3], at=r[4], epoch=r[5])
            for r in rows
        )

    def history(self, fingerprint: str) -> tuple[AuditEvent, ...]:
        """The table's audit log, oldest first."""
        rows = self.conn.execute(
            "SELECT at, event, detail FROM audit WHERE fingerprint = ? ORDER BY id",
            (fingerprint,),
        ).fetchall()
        return tuple(AuditEvent(at=r[0], event=r[1], detail=json.loads(r[2])) for r in rows)

    # --- writing ----------------------------------------------------------------------------

    def ensure(
        self,
        fingerprint: str,
        *,
        total_epsilon: float,
        total_delta: float = 0.0,
        slack_delta: float = SLACK_DELTA_DEFAULT,
    ) -> Ledger:
        """The table's ledger, creating its budget with these totals if it has none.

        An existing budget keeps its totals: changing them is a :meth:`reset`.

        Raises
        ------
        InvalidParameterError
            Totals out of range (as for :class:`~core.dp_budget.Ledger`).
        """
        Ledger(total_epsilon=total_epsilon, total_delta=total_delta, slack_delta=slack_delta)
        with _immediate(self.conn) as c:
            created = c.execute(
                "INSERT OR IGNORE INTO budgets (fingerprint, total_epsilon, total_delta, "
                "slack_delta, created_at) VALUES (?, ?, ?, ?, ?)",
                (fingerprint, total_epsilon, total_delta, slack_delta, time.time()),
            ).rowcount
            if created:
                _audit(
                    c,
                    fingerprint,
                    "budget",
                    {"total_epsilon": total_epsilon, "total_delta": total_delta},
                )
            ledger = self._ledger(fingerprint)
        assert ledger is not None
        return ledger

    def spend(
        self,
        fingerprint: str,
        label: str,
        *,
        epsilon: float,
        delta: float = 0.0,
        detail: Mapping[str, Any] | None = None,
    ) -> Ledger:
        """Record one release, or none if it does not fit; return the new ledger.

        Parameters
        ----------
        fingerprint : str
            The table's fingerprint; its budget must exist (:meth:`ensure`).
        label : str
            What was released, e.g. ``"mean of age"`` (column names, never values).
        epsilon, delta : float
            The release's privacy loss.
        detail : mapping, optional
            JSON facts for the audit log (query, column, mechanism).

        Raises
        ------
        BudgetExceededError
            The release would take the total past the budget; nothing is recorded.
        WorkspaceError
            The table has no budget yet.
        """
        return self.spend_many(fingerprint, [(label, epsilon, delta)], detail=detail)

    def spend_many(
        self,
        fingerprint: str,
        spends: Sequence[tuple[str, float, float]],
        *,
        detail: Mapping[str, Any] | None = None,
    ) -> Ledger:
        """Record several releases together (e.g. a recipe's noisy steps), or none of them.

        Raises
        ------
        BudgetExceededError
            The releases would take the total past the budget; nothing is recorded.
        WorkspaceError
            The table has no budget yet.
        """
        with _immediate(self.conn) as c:
            ledger = self._ledger(fingerprint)
            if ledger is None:
                raise WorkspaceError(
                    "This table has no privacy budget yet. Set a budget (total epsilon) "
                    "before the first release."
                )
            new = ledger.spend_many(spends)  # raises BudgetExceededError, rolling back
            (epoch,) = c.execute(
                "SELECT epoch FROM budgets WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            now = time.time()
            for label, eps, dlt in spends:
                sid = uuid.uuid4().hex
                c.execute(
                    "INSERT INTO spends (id, fingerprint, epoch, label, epsilon, delta, at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (sid, fingerprint, epoch, str(label), float(eps), float(dlt), now),
                )
                _audit(
                    c,
                    fingerprint,
                    "spend",
                    {**(detail or {}), "id": sid, "label": label, "epsilon": eps, "delta": dlt},
                )
        return new

    def reset(
        self,
        fingerprint: str,
        *,
        confirm: bool,
        reason: str,
        total_epsilon: float | None = None,
        total_delta: float | None = None,
    ) -> Ledger:
        """Start the table's budget afresh: earlier spends stop counting; logged.

        Parameters
        ----------
        confirm : bool
            Must be True: the caller asked the user and the user agreed.
        reason : str
            Why (kept in the audit log), e.g. ``"earlier releases withdrawn"``.
        total_epsilon, total_delta : float, optional
            New totals; by default the old ones.

        Raises
        ------
        InvalidParameterError
            ``confirm`` is not True, or ``reason`` is empty, or totals out of range.
        WorkspaceError
            The table has no budget.
        """
        if confirm is not True:
            raise InvalidParameterError(
                "resetting a privacy budget needs confirm=True; got "
                f"{confirm!r}. Ask the user first: the spent epsilon stops counting."
            )
        if not reason.strip():
            raise InvalidParameterError("give a reason for the reset; got an empty one.")
        with _immediate(self.conn) as c:
            old = self._ledger(fingerprint)
            if old is None:
                raise WorkspaceError("This table has no privacy budget to reset.")
            eps = old.total_epsilon if total_epsilon is None else total_epsilon
            dlt = old.total_delta if total_delta is None else total_delta
            Ledger(total_epsilon=eps, total_delta=dlt, slack_delta=old.slack_delta)
            c.execute(
                "UPDATE budgets SET epoch = epoch + 1, total_epsilon = ?, total_delta = ? "
                "WHERE fingerprint = ?",
                (eps, dlt, fingerprint),
            )
            spent = old.composition()
            _audit(
                c,
                fingerprint,
                "reset",
                {
                    "reason": reason,
                    "releases_dropped": len(old.entries),
                    "epsilon_dropped": spent.epsilon,
                    "delta_dropped": spent.delta,
                    "total_epsilon": eps,
                    "total_delta": dlt,
                },
            )
            ledger = self._ledger(fingerprint)
        assert ledger is not None
        return ledger

    def import_records(
        self,
        fingerprint: str,
        records: Sequence[SpendRecord],
        *,
        total_epsilon: float,
        total_delta: float,
        slack_delta: float = SLACK_DELTA_DEFAULT,
    ) -> Ledger:
        """Bring spends made elsewhere (a project file) into this table's current epoch.

        They were made already, so they are recorded even past the budget (which then shows
        nothing left); a spend whose id is already here is not counted twice. A table with
        no budget gets the given totals.
        """
        self.ensure(
            fingerprint,
            total_epsilon=total_epsilon,
            total_delta=total_delta,
            slack_delta=slack_delta,
        )
        with _immediate(self.conn) as c:
            (epoch,) = c.execute(
                "SELECT epoch FROM budgets WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
            added = 0
            for r in records:
                added += c.execute(
                    "INSERT OR IGNORE INTO spends (id, fingerprint, epoch, label, epsilon, "
                    "delta, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (r.id, fingerprint, epoch, r.label, r.epsilon, r.delta, r.at),
                ).rowcount
            _audit(c, fingerprint, "import", {"releases": len(records), "added": added})
            ledger = self._ledger(fingerprint)
        assert ledger is not None
        return ledger
