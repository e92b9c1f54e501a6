"""The allow-list of directories the server reads large datasets from (core.large_data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import DataLoadError, InvalidParameterError, PrivLensError, SourceNotAllowedError
from core.large_data import (
    DATA_DIRS_ENV,
    allowed_dirs,
    dir_id,
    fits_in_memory,
    list_sources,
    resolve_source,
    source_fingerprint,
    source_id,
)


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """An allowed directory with a file, a partitioned folder, and a secret outside it."""
    root = tmp_path / "allowed"
    (root / "sales" / "year=2024").mkdir(parents=True)
    (root / "sales" / "year=2024" / "part-0.parquet").write_bytes(b"x" * 10)
    (root / "sales" / "year=2023").mkdir()
    (root / "sales" / "year=2023" / "part-0.parquet").write_bytes(b"x" * 5)
    (root / "people.parquet").write_bytes(b"x" * 7)
    (root / "notes.csv").write_text("a\n1\n")
    (root / ".hidden.parquet").write_bytes(b"x")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.parquet").write_bytes(b"x" * 3)
    return root, outside


def test_allowed_dirs_unset_is_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_DIRS_ENV, raising=False)
    assert allowed_dirs() == ()


def test_allowed_dirs_from_environment(
    monkeypatch: pytest.MonkeyPatch, tree: tuple[Path, Path]
) -> None:
    root, outside = tree
    monkeypatch.setenv(DATA_DIRS_ENV, os.pathsep.join([str(root), "", str(outside), str(root)]))
    assert allowed_dirs() == (root.resolve(), outside.resolve())  # empty and repeated dropped


@pytest.mark.parametrize(
    "entry",
    [
        "relative/dir",  # not absolute
        "/no/such/directory/anywhere",  # does not exist
    ],
)
def test_allowed_dirs_refuses_bad_entries(entry: str, tree: tuple[Path, Path]) -> None:
    with pytest.raises(InvalidParameterError, match=DATA_DIRS_ENV) as err:
        allowed_dirs(os.pathsep.join([str(tree[0]), entry]))
    assert entry not in str(err.value)  # counts, not the operator's paths


def test_allowed_dirs_refuses_a_file(tree: tuple[Path, Path]) -> None:
    with pytest.raises(InvalidParameterError, match="1 of its 1"):
        allowed_dirs(str(tree[0] / "people.parquet"))


def test_listing_finds_files_and_folders(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    listing = list_sources(allowed_dirs(str(root)))
    got = {(s.path, s.kind, s.n_files, s.n_bytes) for s in listing.sources}
    assert got == {
        (".", "folder", 3, 22),
        ("people.parquet", "file", 1, 7),
        ("sales", "folder", 2, 15),
        ("sales/year=2023", "folder", 1, 5),
        ("sales/year=2024", "folder", 1, 10),
        ("sales/year=2023/part-0.parquet", "file", 1, 5),
        ("sales/year=2024/part-0.parquet", "file", 1, 10),
    }
    assert not listing.truncated
    assert listing.sources[0].path == "."  # the allowed directory itself first
    assert {s.root for s in listing.sources} == {str(root.resolve())}
    labels = {s.label for s in listing.sources}
    assert "allowed/sales" in labels and "allowed" in labels


def test_listing_is_bounded(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    few = list_sources(allowed_dirs(str(root)), max_entries=2)
    assert len(few.sources) == 2 and few.truncated
    scanned = list_sources(allowed_dirs(str(root)), max_scan=2)
    assert scanned.truncated
    shallow = list_sources(allowed_dirs(str(root)), max_depth=0)
    assert {s.path for s in shallow.sources} == {".", "people.parquet"}


def test_listing_skips_symlinks_that_leave_the_directory(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    (root / "link.parquet").symlink_to(outside / "secret.parquet")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    (root / "inner.parquet").symlink_to(root / "people.parquet")  # stays inside: listed
    paths = {s.path for s in list_sources(allowed_dirs(str(root))).sources}
    assert "link.parquet" not in paths
    assert not any(p.startswith("linkdir") for p in paths)
    assert "inner.parquet" in paths


def test_resolve_source_inside(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    dirs = allowed_dirs(str(root))
    assert resolve_source(str(root), "sales", dirs) == (root / "sales").resolve()
    assert resolve_source(str(root), "sales/year=2024/part-0.parquet", dirs).is_file()
    assert resolve_source(str(root), ".", dirs) == root.resolve()


@pytest.mark.parametrize(
    "path",
    [
        "../outside/secret.parquet",  # climbs out with ..
        "sales/../../outside",  # climbs out from a sub-folder
        "link.parquet",  # a symlink to a file outside
        "linkdir/secret.parquet",  # through a symlinked folder
        "/etc/passwd",  # absolute
        "",  # empty
    ],
)
def test_resolve_source_refuses_escapes(tree: tuple[Path, Path], path: str) -> None:
    root, outside = tree
    (root / "link.parquet").symlink_to(outside / "secret.parquet")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    with pytest.raises(SourceNotAllowedError) as err:
        resolve_source(str(root), path, allowed_dirs(str(root)))
    assert isinstance(err.value, PrivLensError) and isinstance(err.value, PermissionError)
    assert "secret" not in str(err.value) and "passwd" not in str(err.value)


def test_resolve_source_refuses_a_directory_no_longer_allowed(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    with pytest.raises(SourceNotAllowedError, match="not among the 1 director"):
        resolve_source(str(outside), "secret.parquet", allowed_dirs(str(root)))


def test_resolve_source_gone_or_wrong_kind(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    dirs = allowed_dirs(str(root))
    with pytest.raises(DataLoadError, match="no longer in its allowed directory"):
        resolve_source(str(root), "vanished.parquet", dirs)
    with pytest.raises(DataLoadError, match="neither a .parquet file nor a folder"):
        resolve_source(str(root), "notes.csv", dirs)


def test_source_id_depends_on_root_and_path() -> None:
    ids = {source_id("/a", "x"), source_id("/a", "y"), source_id("/b", "x")}
    assert len(ids) == 3 and all(len(i) == 16 for i in ids)


def test_fits_in_memory_reads_the_footers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    from core import limits

    folder = tmp_path / "t"
    folder.mkdir()
    for i in range(2):
        pd.DataFrame({"a": range(100), "b": ["x"] * 100}).to_parquet(folder / f"p{i}.parquet")
    assert fits_in_memory(folder)
    monkeypatch.setattr(limits, "MAX_ROWS", 199)  # 200 rows in two files
    assert not fits_in_memory(folder)
    monkeypatch.setattr(limits, "MAX_ROWS", 200)
    monkeypatch.setattr(limits, "MAX_CELLS", 399)  # 400 cells
    assert not fits_in_memory(folder)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    assert not fits_in_memory(tmp_path / "bad.parquet")


# --- the fingerprint of a source's files -----------------------------------------------------


def test_fingerprint_follows_each_file_change(tree: tuple[Path, Path]) -> None:
    root, _ = tree
    dirs = allowed_dirs(str(root))
    part = root / "sales" / "year=2024" / "part-0.parquet"

    def fp(path: str = "sales") -> str:
        return source_fingerprint(str(root), path, dirs)

    first = fp()
    assert fp() == first and len(first) == 64  # unchanged files: the same fingerprint
    assert len({first, fp("sales/year=2024"), fp("sales/year=2024/part-0.parquet")}) == 3
    stat = part.stat()
    part.write_bytes(b"y" * 10)  # rewritten in place, same size...
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ...and the same time
    assert fp() == first  # a stat cannot tell (documented): only size and time count
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # touched
    touched = fp()
    assert touched != first
    part.write_bytes(b"y" * 11)
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # another size, same time
    grown = fp()
    assert grown not in (first, touched)
    (root / "sales" / "year=2025").mkdir()
    (root / "sales" / "year=2025" / "part-0.parquet").write_bytes(b"z")  # a file added
    added = fp()
    assert added not in (first, touched, grown)
    (root / "sales" / "notes.txt").write_text("not read")  # not a Parquet file: no change
    assert fp() == added
    assert fp("people.parquet") == fp("people.parquet")


def test_fingerprint_covers_the_files_an_engine_reads(tree: tuple[Path, Path]) -> None:
    from core.engine import parquet_files
    from core.large_data import _parquet_stats

    root, _ = tree
    (root / "sales" / ".part-9.parquet").write_bytes(b"h")  # hidden: engines read it too
    real = str(root.resolve())
    listed = {r for r, _, _ in _parquet_stats(real, real, 100)}
    assert {Path(real, r).as_posix() for r in listed} == set(parquet_files(real))


def test_fingerprint_refuses_a_link_out_and_is_bounded(tree: tuple[Path, Path]) -> None:
    root, outside = tree
    dirs = allowed_dirs(str(root))
    with pytest.raises(DataLoadError, match="PRIVLENS_LARGE_SCAN_MAX"):
        source_fingerprint(str(root), "sales", dirs, max_scan=3)
    assert source_fingerprint(str(root), "sales", dirs, max_scan=4)  # 2 folders, 2 files
    (root / "sales" / "leak.parquet").symlink_to(outside / "secret.parquet")
    with pytest.raises(SourceNotAllowedError, match="outside its allowed directory") as err:
        source_fingerprint(str(root), "sales", dirs)
    assert "secret" not in str(err.value) and "leak" not in str(err.value)
    with pytest.raises(SourceNotAllowedError):
        source_fingerprint(str(outside), "secret.parquet", dirs)
    assert dir_id(str(root)) != dir_id(str(outside)) and len(dir_id(str(root))) == 16


# --- DuckDB's memory limit and spill folder (the app's engine settings) ------------------------


def _duckdb_setting(eng: object, name: str) -> str:
    return str(eng.query(f"SELECT current_setting('{name}') AS v")["v"][0])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("8GB", "8GB"),  # as the README writes it
        (" 1.5 gib ", "1.5GiB"),  # spaces and case do not matter
        ("512mb", "512MB"),
    ],
)
def test_memory_limit_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    from core.engine.duckdb_engine import DUCKDB_MEMORY_ENV, memory_limit_setting

    monkeypatch.setenv(DUCKDB_MEMORY_ENV, value)
    assert memory_limit_setting() == expected


@pytest.mark.parametrize("value", ["lots", "8", "-1GB", "0GB", "8 GB RAM"])
def test_bad_memory_limit_names_the_variable_and_an_example(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from core.engine import make_engine
    from core.engine.duckdb_engine import DUCKDB_MEMORY_ENV

    monkeypatch.setenv(DUCKDB_MEMORY_ENV, value)
    with pytest.raises(InvalidParameterError, match=f"{DUCKDB_MEMORY_ENV}.*'8GB'"):
        make_engine("duckdb")


@pytest.mark.parametrize(
    ("physical", "expected"),
    [
        (16 * 2**30, "8192MiB"),  # half of 16 GiB
        (256 * 2**30, "32768MiB"),  # capped at 32 GiB
        (256 * 2**20, "256MiB"),  # at least 256 MiB
        (None, "4GB"),  # memory unknown (no sysconf): the fixed fallback
    ],
)
def test_default_memory_limit_is_half_the_machine(
    monkeypatch: pytest.MonkeyPatch, physical: int | None, expected: str
) -> None:
    from core.engine import duckdb_engine

    monkeypatch.delenv(duckdb_engine.DUCKDB_MEMORY_ENV, raising=False)

    def sysconf(name: str) -> int:
        if physical is None:
            raise ValueError(name)
        return {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": physical // 4096}[name]

    monkeypatch.setattr(duckdb_engine.os, "sysconf", sysconf)
    assert duckdb_engine.memory_limit_setting() == expected


def test_the_engine_uses_the_setting_and_a_private_spill_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import stat

    from core.engine import make_engine
    from core.engine.duckdb_engine import DUCKDB_MEMORY_ENV

    monkeypatch.setenv(DUCKDB_MEMORY_ENV, "300MiB")
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    for given in (None, shared):
        eng = make_engine("duckdb", temp_directory=given)
        with eng:
            assert _duckdb_setting(eng, "memory_limit") == "300.0 MiB"
            spill = Path(eng.temp_directory)  # type: ignore[attr-defined]
            assert _duckdb_setting(eng, "temp_directory") == str(spill)
            assert stat.S_IMODE(spill.stat().st_mode) == 0o700  # no one else reads spills
            if given is not None:
                assert spill.parent == shared
        assert not spill.exists()  # removed on close
    assert shared.is_dir()  # the folder given is kept
