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


# --- project files of a large dataset: its place and its files, never its rows -------------


@pytest.fixture
def lake(tmp_path):  # noqa: ANN001, ANN201
    """An allowed directory with one small Parquet file, and a workspace reading it."""
    import pandas as pd

    from core.large_data import allowed_dirs, source_fingerprint

    root = tmp_path / "lake"
    root.mkdir()
    frame = pd.DataFrame({"age": [30, 41, 52], "zip": ["01234", "05678", "09999"]})
    frame.to_parquet(root / "people.parquet", index=False)
    dirs = allowed_dirs(str(root))
    real = str(dirs[0])
    src = _source(
        root=real,
        path="people.parquet",
        name="lake/people.parquet",
        columns=("age", "zip"),
        n_rows=3,
        fingerprint=source_fingerprint(real, "people.parquet", dirs),
    )
    ws = Workspace(large_source=src).with_setting("risk.quasi_identifiers", ["age", "zip"])
    return root, dirs, ws, frame


def _save(ws: Workspace, **kw: object) -> bytes:
    from core.workspace.project import save_project

    return save_project(ws, None, passphrase="pw", work_factor=10, **kw)  # type: ignore[arg-type]


def _open(blob: bytes, dirs: object):  # noqa: ANN202
    from core.workspace.project import open_project

    return open_project(blob, passphrase="pw", secret=b"s" * 32, dirs=dirs)  # type: ignore[arg-type]


def test_a_large_dataset_project_records_its_place_not_its_rows(lake) -> None:  # noqa: ANN001
    from core.crypto import decrypt_bytes
    from core.large_data import dir_id
    from core.workspace.project import PROJECT_MAGIC

    root, dirs, ws, frame = lake
    blob = _save(ws)
    plain = decrypt_bytes(blob, passphrase="pw")
    assert plain.startswith(PROJECT_MAGIC)
    body = json.loads(plain[len(PROJECT_MAGIC) + 8 :])
    src = ws.large_source
    assert body["source"] == {
        "dir_id": dir_id(str(dirs[0])),
        "path": "people.parquet",
        "engine": "duckdb",
        "seed": 7,
        "fingerprint": src.fingerprint,
    }
    assert body["check"] is None and body["has_data"] is False
    assert str(root) not in plain.decode("utf-8")  # not the server's path either
    for value in ("01234", "05678", "09999"):
        assert value.encode() not in plain  # no row of the data
    opened = _open(blob, dirs)
    assert opened.table is None and opened.workspace == ws  # the root found again
    assert opened.budget is None and opened.spends == ()


def test_a_large_dataset_project_refuses_another_place_or_other_files(lake, tmp_path) -> None:  # noqa: ANN001
    import os

    from core.errors import DataLoadError, ProjectMismatchError, SourceNotAllowedError
    from core.large_data import allowed_dirs

    root, dirs, ws, frame = lake
    blob = _save(ws)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with pytest.raises(SourceNotAllowedError, match="does not allow.*none of its 1"):
        _open(blob, allowed_dirs(str(elsewhere)))
    with pytest.raises(SourceNotAllowedError, match="none of its 0"):
        _open(blob, ())
    path = root / "people.parquet"
    stat = path.stat()
    frame.iloc[:2].to_parquet(path, index=False)  # other rows at the same place
    with pytest.raises(ProjectMismatchError, match="other files.*3 rows, 2 columns then") as err:
        _open(blob, dirs)
    assert "01234" not in str(err.value) and str(root) not in str(err.value)
    frame.to_parquet(path, index=False)  # the same rows again, the time put back: a copy
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # made with cp -p
    assert _open(blob, dirs).workspace == ws
    path.unlink()
    with pytest.raises(DataLoadError, match="no longer in its allowed directory"):
        _open(blob, dirs)


def test_a_large_dataset_project_needs_a_fingerprint_and_no_data(lake) -> None:  # noqa: ANN001
    from dataclasses import replace

    _, _, ws, _ = lake
    with pytest.raises(WorkspaceError, match="never put in a project file"):
        _save(ws, include_data=True)
    old = replace(ws, large_source=replace(ws.large_source, fingerprint=None))
    with pytest.raises(WorkspaceError, match="not recorded its dataset's files"):
        _save(old)
