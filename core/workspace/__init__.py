"""The user's workspace: its model, its encrypted storage, project files, per-table budgets.

The parts: :mod:`core.workspace.model` (the frozen workspace value and its JSON),
:mod:`core.workspace.fingerprint` (the keyed table fingerprint that keys a budget),
:mod:`core.workspace.db` (the SQLite file, its migrations and the server secret),
:mod:`core.workspace.budget` (privacy budgets per table, transactional spends, audit log),
:mod:`core.workspace.store` (workspaces encrypted under a key derived from the link token),
:mod:`core.workspace.project` (one encrypted project file) and :mod:`core.workspace.session`
(a workspace saved at every change, its releases charged). Import from
``core.workspace``; the parts may move.
"""

from __future__ import annotations

from core.workspace.budget import AuditEvent, BudgetBook, SpendRecord
from core.workspace.db import SCHEMA_VERSION, connect, default_db_path, load_or_create_secret
from core.workspace.fingerprint import table_fingerprint
from core.workspace.model import (
    WORKSPACE_VERSION,
    ColumnMeta,
    DatasetMeta,
    DpSettings,
    ExportRecord,
    ExportSettings,
    PageSettings,
    RecipeHistory,
    ReleaseRecord,
    ReleaseResult,
    RiskSettings,
    Workspace,
)
from core.workspace.project import Budget, Project, open_project, restore_budget, save_project
from core.workspace.session import WorkspaceSession
from core.workspace.store import (
    StoredWorkspace,
    WorkspaceStore,
    idle_seconds_setting,
    new_token,
)

__all__ = [
    "SCHEMA_VERSION",
    "WORKSPACE_VERSION",
    "AuditEvent",
    "Budget",
    "BudgetBook",
    "ColumnMeta",
    "DatasetMeta",
    "DpSettings",
    "ExportRecord",
    "ExportSettings",
    "PageSettings",
    "Project",
    "RecipeHistory",
    "ReleaseRecord",
    "ReleaseResult",
    "RiskSettings",
    "SpendRecord",
    "StoredWorkspace",
    "Workspace",
    "WorkspaceSession",
    "WorkspaceStore",
    "connect",
    "default_db_path",
    "idle_seconds_setting",
    "load_or_create_secret",
    "new_token",
    "open_project",
    "restore_budget",
    "save_project",
    "table_fingerprint",
]
