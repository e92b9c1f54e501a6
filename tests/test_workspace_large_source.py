"""A workspace's large source (a dataset read through an engine) and the version-1 migration."""

from __future__ import annotations

import json

import pytest

from core.errors import WorkspaceError
from core.workspace.model import WORKSPACE_VERSION, LargeSource, Workspace


def _source(**kw: object) -> LargeSource:
    values: dict[str, object] = {
        "root": "/srv/data",
        "path": "sales",
        "engine": "duckdb",
        "name": "data/sales",
        "columns": ("age", "zip", "sex"),
        "n_rows": 12_000_000_000,  # above the in-memory row limit: it is never loaded
        "seed": 7,
        "sample_rows": 10_000,
    }
    values.update(kw)
    return LargeSource(**values)  # type: ignore[arg-type]


def test_round_trip_with_a_large_source() -> None:
    ws = Workspace(large_source=_source()).with_setting("risk.quasi_identifiers", ["age", "zip"])
    back = Workspace.from_json(ws.to_json())
    assert back == ws
    assert back.large_source is not None and back.large_source.columns == ("age", "zip", "sex")
    assert json.loads(ws.to_json())["schema_version"] == WORKSPACE_VERSION == 2


def test_the_files_fingerprint_round_trips() -> None:
    ws = Workspace(large_source=_source(fingerprint="ab" * 32))
    assert Workspace.from_json(ws.to_json()).large_source == ws.large_source
    assert _source().fingerprint is None  # workspaces saved before it was recorded


def test_settings_are_checked_against_the_large_source_columns() -> None:
    ws = Workspace(large_source=_source())
    with pytest.raises(WorkspaceError, match="risk.quasi_identifiers"):
        ws.with_setting("risk.quasi_identifiers", ["income"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"engine": "sqlite"}, "large_source.engine"),  # not an engine
        ({"path": ""}, "large_source.path"),  # empty path
        ({"columns": ("a", "a")}, "twice"),  # repeated column
        ({"seed": -1}, "large_source.seed"),  # out of range
        ({"sample_rows": 0}, "large_source.sample_rows"),  # no sample
        ({"fingerprint": ""}, "large_source.fingerprint"),  # empty fingerprint
    ],
)
def test_large_source_validates(change: dict[str, object], message: str) -> None:
    with pytest.raises(WorkspaceError, match=message):
        _source(**change)


def test_a_table_and_a_large_source_together_are_refused() -> None:
    from core.workspace.model import ColumnMeta, DatasetMeta

    meta = DatasetMeta(
        fingerprint="0" * 64, name="t", n_rows=1, columns=(ColumnMeta(name="age", kind="integer"),)
    )
    with pytest.raises(WorkspaceError, match="large_source"):
        Workspace(dataset=meta, large_source=_source())


def test_version_1_workspace_is_migrated() -> None:
    old = Workspace().with_setting("risk.k_threshold", 7).to_dict()
    old.pop("large_source")
    old["schema_version"] = 1
    ws = Workspace.from_dict(old)
    assert ws.large_source is None and ws.risk.k_threshold == 7
    assert json.loads(ws.to_json())["schema_version"] == 2


def test_version_1_with_a_large_source_field_is_refused() -> None:
    old = Workspace().to_dict()
    old["schema_version"] = 1
    old["large_source"] = None
    with pytest.raises(WorkspaceError, match="unknown field.*large_source"):
        Workspace.from_dict(old)


def test_stored_version_1_workspace_resumes(tmp_path) -> None:  # noqa: ANN001
    """A workspace saved before large sources existed opens from the database as it was."""
    import pandas as pd

    from core.workspace import BudgetBook, WorkspaceSession, WorkspaceStore

    path = str(tmp_path / "db.sqlite3")
    store, book = WorkspaceStore.open(path, secret=b"s" * 32), BudgetBook.open(path)
    frame = pd.DataFrame({"age": [30, 40], "zip": ["01234", "05678"]})
    sess = WorkspaceSession.start(store, book, frame, name="t", secret=b"s" * 32)
    old = sess.workspace.with_setting("risk.quasi_identifiers", ["zip"]).to_dict()
    old.pop("large_source")
    old["schema_version"] = 1
    store.save_state(sess.token, state=json.dumps(old).encode())
    back = WorkspaceSession.resume(store, book, sess.token)
    assert back.workspace.risk.quasi_identifiers == ("zip",)
    assert back.workspace.large_source is None
    pd.testing.assert_frame_equal(back.table, frame)
