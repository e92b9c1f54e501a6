"""Large datasets the server may read: an operator's allow-list of directories, never a typed path.

The operator names the directories in ``PRIVLENS_DATA_DIRS`` (absolute paths separated by
:data:`os.pathsep`, ``:`` on Linux and macOS). The app lists the Parquet files and folders
found under them (:func:`list_sources`, bounded by :data:`core.limits.LARGE_LISTING_MAX`
entries and :data:`core.limits.LARGE_SCAN_MAX` directory entries looked at) and the user
picks one; a user never types a path. A source is kept as *(allowed directory, path relative
to it)* and :func:`resolve_source` turns it back into a path only when its real location
(symlinks followed, ``..`` resolved) is still inside that allowed directory.

:func:`source_fingerprint` digests the relative path, size and modification time of each
Parquet file a source reads (a few ``stat`` calls, no data read): results computed on a source
are cached under it, so a file rewritten in place, or a file added to a folder, is measured
again; a project file records it to recognise the same files elsewhere.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "t.parquet").write_bytes(b"PAR1")
>>> listing = list_sources(allowed_dirs(str(root)))
>>> [(s.path, s.kind) for s in listing.sources]
[('.', 'folder'), ('t.parquet', 'file')]
>>> resolve_source(str(root), "t.parquet", allowed_dirs(str(root))).name
't.parquet'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core import limits
from core.engine.base import parquet_files
from core.errors import (
    DataLoadError,
    InvalidParameterError,
    PrivLensError,
    SourceNotAllowedError,
)

__all__ = [
    "DATA_DIRS_ENV",
    "DataSource",
    "SourceListing",
    "allowed_dirs",
    "dir_id",
    "fits_in_memory",
    "list_sources",
    "resolve_source",
    "source_fingerprint",
    "source_id",
]

#: Environment variable holding the allowed directories (``os.pathsep``-separated).
DATA_DIRS_ENV = "PRIVLENS_DATA_DIRS"
_SUFFIX = ".parquet"


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource:
    """A Parquet file or a folder of Parquet files under an allowed directory.

    Attributes
    ----------
    root : str
        The allowed directory (its real, absolute path).
    path : str
        The source's path relative to ``root``, with ``/`` separators (``"."``: the allowed
        directory itself).
    kind : {"file", "folder"}
    n_files : int
        Parquet files it holds (1 for a file; for a folder, those seen by the bounded scan).
    n_bytes : int
        Their total size on disk.
    """

    root: str
    path: str
    kind: str
    n_files: int
    n_bytes: int

    @property
    def label(self) -> str:
        """``<allowed directory's name>/<path>``, what the Data page lists."""
        base = Path(self.root).name or self.root
        return base if self.path == "." else f"{base}/{self.path}"

    @property
    def id(self) -> str:
        """A short stable id of ``(root, path)`` (see :func:`source_id`)."""
        return source_id(self.root, self.path)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceListing:
    """What :func:`list_sources` found; ``truncated`` when a bound stopped it early."""

    sources: tuple[DataSource, ...]
    truncated: bool = False


def source_id(root: str, path: str) -> str:
    """A short stable id of a source, for cache keys (not a secret).

    >>> source_id("/data", "a.parquet") == source_id("/data", "a.parquet")
    True
    """
    return hashlib.sha256(f"{root}\0{path}".encode()).hexdigest()[:16]


def dir_id(root: str) -> str:
    """A short stable id of an allowed directory (its real path), not the path itself.

    A project file names the allowed directory of its dataset by this id, so it does not
    carry the server's paths; a server where the same directory is allowed finds it again.

    >>> dir_id("/srv/data") == dir_id("/srv/data") != dir_id("/srv/other")
    True
    """
    return hashlib.sha256(f"privlens-allowed-dir\0{root}".encode()).hexdigest()[:16]


def allowed_dirs(value: str | None = None) -> tuple[Path, ...]:
    """The allowed directories: ``value``, else ``$PRIVLENS_DATA_DIRS`` (empty when unset).

    Parameters
    ----------
    value : str, optional
        Directories separated by :data:`os.pathsep`; empty entries are ignored.

    Returns
    -------
    tuple of pathlib.Path
        Real absolute paths (symlinks resolved), without duplicates, in the given order.

    Raises
    ------
    InvalidParameterError
        An entry is not an absolute path to an existing directory (the message says how
        many, not which: the setting is the operator's).
    """
    raw = os.environ.get(DATA_DIRS_ENV, "") if value is None else value
    entries = [e.strip() for e in raw.split(os.pathsep) if e.strip()]
    bad = [e for e in entries if not (os.path.isabs(e) and os.path.isdir(e))]
    if bad:
        raise InvalidParameterError(
            f"{DATA_DIRS_ENV} must list absolute paths of existing directories, separated by "
            f"'{os.pathsep}'; {len(bad)} of its {len(entries)} entr(ies) are not. Fix the "
            "server's setting and restart it."
        )
    out: dict[str, Path] = {}
    for e in entries:
        real = Path(os.path.realpath(e))
        out.setdefault(str(real), real)
    return tuple(out.values())


def _inside(path: str, root: str) -> bool:
    """Whether the real path ``path`` is ``root`` or below it (both real and absolute)."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives on Windows
        return False


def list_sources(
    dirs: Sequence[Path],
    *,
    max_entries: int = limits.LARGE_LISTING_MAX,
    max_scan: int = limits.LARGE_SCAN_MAX,
    max_depth: int = limits.LARGE_LISTING_DEPTH,
) -> SourceListing:
    """Parquet files, and folders holding Parquet files, under the allowed directories.

    A folder is listed when it holds a ``.parquet`` file at any depth the scan reaches (a
    partitioned dataset such as ``sales/year=2024/part-0.parquet`` is listed as ``sales``
    and as its files). Symlinks are not followed while scanning, and an entry whose real
    location leaves its allowed directory is not listed. Hidden entries (``.name``) are
    skipped.

    Parameters
    ----------
    dirs : sequence of pathlib.Path
        The allowed directories (from :func:`allowed_dirs`).
    max_entries : int
        Most sources returned.
    max_scan : int
        Most directory entries looked at, over all directories.
    max_depth : int
        Most levels below an allowed directory that are scanned.

    Returns
    -------
    SourceListing
        Sources sorted by allowed directory then path; ``truncated`` when a bound was hit.
    """
    found: list[DataSource] = []
    seen = 0
    truncated = False
    for root in dirs:
        root_s = str(root)
        files: dict[str, int] = {}  # relative file path -> size
        stack: list[tuple[str, int]] = [(root_s, 0)]
        while stack and not truncated:
            folder, depth = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > max_scan:
                    truncated = True
                    break
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if depth + 1 <= max_depth:
                            stack.append((entry.path, depth + 1))
                        continue
                    if not entry.name.endswith(_SUFFIX) or not entry.is_file():
                        continue
                    if not _inside(os.path.realpath(entry.path), root_s):
                        continue  # a symlink that leaves the allowed directory
                    size = entry.stat().st_size
                except OSError:
                    continue
                files[PurePosixPath(Path(entry.path).relative_to(root)).as_posix()] = size
        folders: dict[str, list[int]] = {}
        for rel, size in files.items():
            parts = PurePosixPath(rel).parts[:-1]
            for i in range(len(parts) + 1):
                key = "/".join(parts[:i]) or "."
                folders.setdefault(key, []).append(size)
        for rel, size in files.items():
            found.append(DataSource(root=root_s, path=rel, kind="file", n_files=1, n_bytes=size))
        for rel, sizes in folders.items():
            found.append(
                DataSource(
                    root=root_s, path=rel, kind="folder", n_files=len(sizes), n_bytes=sum(sizes)
                )
            )
        if truncated:
            break
    found.sort(key=lambda s: (s.root, s.path != ".", s.path, s.kind))
    if len(found) > max_entries:
        found, truncated = found[:max_entries], True
    return SourceListing(sources=tuple(found), truncated=truncated)


def resolve_source(root: str, path: str, dirs: Sequence[Path]) -> Path:
    """The real path of a source, checked to lie inside an allowed directory.

    Parameters
    ----------
    root : str
        The allowed directory the source was listed under.
    path : str
        Its path relative to ``root`` (``/`` separators; ``"."`` for ``root`` itself).
    dirs : sequence of pathlib.Path
        The allowed directories now (from :func:`allowed_dirs`).

    Returns
    -------
    pathlib.Path
        The real location (symlinks resolved) of a Parquet file or folder.

    Raises
    ------
    SourceNotAllowedError
        ``root`` is not an allowed directory (any more), ``path`` is absolute, or the real
        location leaves ``root`` (through ``..`` or a symlink).
    DataLoadError
        The source is no longer there, or is neither a ``.parquet`` file nor a folder.
    """
    real_root = os.path.realpath(root) if isinstance(root, str) and root else ""
    if not real_root or real_root not in {str(d) for d in dirs}:
        raise SourceNotAllowedError(
            f"This dataset's directory is not among the {len(dirs)} director(ies) the server "
            f"allows (set in {DATA_DIRS_ENV}). Ask the operator to allow it, or pick a "
            "dataset the Data page lists."
        )
    if not isinstance(path, str) or not path or "\0" in path:
        raise SourceNotAllowedError(
            "The dataset's path is empty or malformed. Pick a dataset the Data page lists."
        )
    if PurePosixPath(path).is_absolute() or os.path.isabs(path):
        raise SourceNotAllowedError(
            "The dataset's path must be relative to its allowed directory; got an absolute "
            "path. Pick a dataset the Data page lists."
        )
    target = os.path.realpath(os.path.join(real_root, *PurePosixPath(path).parts))
    if not _inside(target, real_root):
        raise SourceNotAllowedError(
            "The dataset's path leads outside its allowed directory (through '..' or a "
            "symbolic link), so it is not read. Pick a dataset the Data page lists."
        )
    if os.path.isdir(target):
        return Path(target)
    if os.path.isfile(target) and target.endswith(_SUFFIX):
        return Path(target)
    if os.path.exists(target):
        raise DataLoadError(
            "The dataset is neither a .parquet file nor a folder. Pick a dataset the Data "
            "page lists."
        )
    raise DataLoadError(
        "The dataset is no longer in its allowed directory (it was moved or deleted). Ask "
        "the operator, or open another dataset on the Data page."
    )


def fits_in_memory(path: str | os.PathLike[str]) -> bool:
    """Whether a Parquet file or folder is within the in-memory intake limits, from metadata.

    Reads only the files' footers: the rows, the cells (rows × columns) and the bytes the
    column chunks decode to must be within :data:`core.limits.MAX_ROWS`,
    :data:`core.limits.MAX_CELLS` and :data:`core.limits.MAX_DECODED_MB`, the limits an
    upload is held to. A file whose footer cannot be read does not fit (an engine that reads
    it where it lies then reports the damage).

    >>> import tempfile, pathlib, pandas as pd
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> pd.DataFrame({"a": [1, 2]}).to_parquet(f)
    >>> fits_in_memory(f)
    True
    """
    import pyarrow.parquet as pq

    rows = cells = decoded = 0
    try:
        for f in parquet_files(path):
            meta = pq.ParquetFile(f).metadata
            rows += meta.num_rows
            cells += meta.num_rows * meta.num_columns
            decoded += sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    except (OSError, ValueError, DataLoadError):
        return False
    return (
        rows <= limits.MAX_ROWS
        and cells <= limits.MAX_CELLS
        and decoded <= limits.MAX_DECODED_MB * 2**20
    )


def _parquet_stats(target: str, root: str, max_scan: int) -> list[tuple[str, int, int]]:
    """``(relative path, size, mtime_ns)`` of the Parquet files an engine reads at ``target``.

    The same files as :func:`core.engine.base.parquet_files` (every ``*.parquet`` file below a
    folder, hidden ones too, symlinked folders not entered), in path order.
    """
    stats: list[tuple[str, str | None, os.stat_result]] = []  # (rel, link to check, stat)
    if os.path.isfile(target):  # resolve_source checked its real path already
        stats.append((Path(target).name, None, os.stat(target)))
    else:
        seen = 0
        stack = [(target, "")]  # (folder, its path relative to target with "/" after it)
        while stack:
            folder, prefix = stack.pop()
            with os.scandir(folder) as entries:
                found = list(entries)
            for entry in found:
                seen += 1
                if seen > max_scan:
                    raise DataLoadError(
                        f"The dataset's folder holds more than {max_scan:,} entries, the most "
                        "PrivLens looks at to notice a changed file "
                        "(PRIVLENS_LARGE_SCAN_MAX). Merge small Parquet files, or ask the "
                        "operator to raise the limit."
                    )
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, f"{prefix}{entry.name}/"))
                elif entry.name.endswith(_SUFFIX) and entry.is_file():
                    rel = prefix + entry.name
                    # folders are entered only when not links, so only a link to a file
                    # can lead out of the directory
                    link = entry.path if entry.is_symlink() else None
                    stats.append((rel, link, entry.stat()))
    out = []
    for rel, link, st in sorted(stats, key=lambda s: s[0]):
        if link is not None and not _inside(os.path.realpath(link), root):
            raise SourceNotAllowedError(
                "A Parquet file of this dataset is a symbolic link that leads outside its "
                "allowed directory, so the dataset is not read. Ask the operator to replace "
                "the link by the file."
            )
        out.append((rel, st.st_size, st.st_mtime_ns))
    return out


def source_fingerprint(
    root: str,
    path: str,
    dirs: Sequence[Path],
    *,
    max_scan: int = limits.LARGE_SCAN_MAX,
) -> str:
    """A digest of the files a source reads: each one's relative path, size and mtime (ns).

    Cheap (one ``stat`` per file, no data read) and checked where the source is opened or
    reused: a file rewritten in place, added or removed gives another fingerprint, so
    results cached under the old one are not shown for the new data. A copy of the files
    keeps the fingerprint only if it keeps their modification times (``cp -p``,
    ``rsync -t``).

    Parameters
    ----------
    root, path : str
        The source, as for :func:`resolve_source`.
    dirs : sequence of pathlib.Path
        The allowed directories now.
    max_scan : int
        Most directory entries looked at in a folder (:data:`core.limits.LARGE_SCAN_MAX`).

    Returns
    -------
    str
        64 hexadecimal digits (SHA-256).

    Raises
    ------
    SourceNotAllowedError
        As :func:`resolve_source`, or a Parquet file in the folder is a symbolic link that
        leaves the allowed directory.
    DataLoadError
        As :func:`resolve_source`, the folder holds no Parquet file, or more than
        ``max_scan`` entries.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "t.parquet").write_bytes(b"PAR1")
    >>> dirs = allowed_dirs(str(root))
    >>> a = source_fingerprint(str(root), "t.parquet", dirs)
    >>> a == source_fingerprint(str(root), ".", dirs), len(a)
    (False, 64)
    >>> _ = (root / "t.parquet").write_bytes(b"PAR1 and more")
    >>> a == source_fingerprint(str(root), "t.parquet", dirs)
    False
    """
    target = resolve_source(root, path, dirs)
    real_root = os.path.realpath(root)
    try:
        stats = _parquet_stats(str(target), real_root, max_scan)
    except PrivLensError:  # SourceNotAllowedError is a PermissionError, an OSError
        raise
    except OSError:
        raise DataLoadError(
            "The dataset's files could not be listed (a file was removed while reading, or "
            "permissions changed). Try again, or ask the operator."
        ) from None
    if not stats:
        raise DataLoadError(
            "The dataset's folder holds no Parquet file any more (0 files). Ask the operator, "
            "or open another dataset on the Data page."
        )
    h = hashlib.sha256(b"privlens-source/v1\0" + ("folder" if target.is_dir() else "file").encode())
    for rel, size, mtime in stats:
        h.update(f"\0{rel}\0{size}\0{mtime}".encode())
    return h.hexdigest()
