"""One user's workspace at work: the model, its link token, its storage and its budget.

:class:`WorkspaceSession` ties :class:`~core.workspace.model.Workspace` to the database: every
change is saved (encrypted) at once, so a reload or a second tab restores it, and every DP
release is charged to the table's budget (keyed by the table fingerprint, shared by every
workspace that loads the same table) before its result exists.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pandas as pd

from core.dp import DPResult
from core.dp_budget import Ledger
from core.kinds import column_kinds
from core.workspace.budget import BudgetBook
from core.workspace.fingerprint import table_fingerprint
from core.workspace.model import (
    ColumnMeta,
    DatasetMeta,
    ReleaseRecord,
    ReleaseResult,
    Workspace,
)
from core.workspace.store import WorkspaceStore

T = TypeVar("T")


class WorkspaceSession:
    """A workspace, its token, its store and the budget book of its table.

    Use :meth:`start` for a newly loaded table and :meth:`resume` with the token from the
    link. Both connections (store and book) belong to the caller's thread.
    """

    def __init__(
        self,
        *,
        store: WorkspaceStore,
        book: BudgetBook,
        token: str,
        workspace: Workspace,
        table: pd.DataFrame | None,
    ) -> None:
        self.store = store
        self.book = book
        self.token = token
        self.workspace = workspace
        self.table = table

    @classmethod
    def start(
        cls,
        store: WorkspaceStore,
        book: BudgetBook,
        table: pd.DataFrame,
        *,
        name: str,
        secret: bytes,
        roles: Mapping[str, str] | None = None,
    ) -> WorkspaceSession:
        """A new workspace for ``table`` (stored encrypted), with its fingerprint and kinds."""
        meta = DatasetMeta(
            fingerprint=table_fingerprint(table, secret=secret),
            name=name,
            n_rows=len(table),
            columns=tuple(ColumnMeta(name=k.column, kind=k.kind) for k in column_kinds(table)),
        )
        ws = Workspace().with_dataset(meta, roles or {})
        token = store.create(state=ws.to_json().encode("utf-8"), data=table)
        return cls(store=store, book=book, token=token, workspace=ws, table=table)

    @classmethod
    def resume(cls, store: WorkspaceStore, book: BudgetBook, token: str) -> WorkspaceSession:
        """The workspace of this token, as it was last saved.

        Raises
        ------
        WorkspaceNotFoundError
            A wrong, expired or deleted token.
        WorkspaceError
            Stored data that fails its integrity check or does not validate.
        """
        stored = store.load(token)
        ws = Workspace.from_json(stored.state)
        return cls(store=store, book=book, token=token, workspace=ws, table=stored.data)

    # --- changes, saved at once -------------------------------------------------------------

    def update(self, workspace: Workspace) -> Workspace:
        """Make ``workspace`` current and save it."""
        self.store.save_state(self.token, state=workspace.to_json().encode("utf-8"))
        self.workspace = workspace
        return workspace

    def set(self, path: str, value: Any) -> Workspace:
        """Change one page setting (see :meth:`Workspace.with_setting`) and save."""
        return self.update(self.workspace.with_setting(path, value))

    def delete(self) -> bool:
        """Delete this workspace now (table first)."""
        return self.store.delete(self.token)

    # --- the budget of the table ------------------------------------------------------------

    @property
    def fingerprint(self) -> str:
        """The table's fingerprint (the budget's key)."""
        assert self.workspace.dataset is not None
        return self.workspace.dataset.fingerprint

    def ledger(self) -> Ledger:
        """The table's ledger, created with the DP page's totals if it has none yet."""
        dp = self.workspace.dp
        return self.book.ensure(
            self.fingerprint, total_epsilon=dp.total_epsilon, total_delta=dp.total_delta
        )

    def release(
        self,
        run: Callable[[], T],
        *,
        query: str,
        column: str | None,
        mechanism: str,
        epsilon: float,
        delta: float = 0.0,
    ) -> T:
        """Charge the budget, then compute the release and record it in the history.

        The charge comes first and is kept even if ``run`` then fails, so no result can
        exist that was not paid for. The answer of a :class:`core.dp.DPResult` of this query
        and mechanism is kept with the record (:meth:`ReleaseResult.of`), so a reload or an
        opened project shows it again.

        Raises
        ------
        BudgetExceededError
            The release does not fit; ``run`` is not called and nothing is recorded.
        """
        self.ledger()
        label = f"{query} of {column}" if column else query
        detail = {"query": query, "column": column, "mechanism": mechanism}
        self.book.spend(self.fingerprint, label, epsilon=epsilon, delta=delta, detail=detail)
        result = run()
        kept = ReleaseResult.of(result)
        if isinstance(result, DPResult) and (result.query, result.mechanism) != (query, mechanism):
            kept = None  # the record would describe it wrongly
        self.update(
            self.workspace.record_release(
                ReleaseRecord(
                    query=query,
                    column=column,
                    mechanism=mechanism,
                    epsilon=epsilon,
                    delta=delta,
                    at=time.time(),
                    result=kept,
                )
            )
        )
        return result

    def record_export(self, *, format: str, encryption: str) -> Workspace:
        """Record an export of the current recipe in the history."""
        return self.update(self.workspace.record_export(format=format, encryption=encryption))
