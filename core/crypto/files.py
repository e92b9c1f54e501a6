"""Writing a file so that no name points to it before it is complete and verified."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

#: Linux's flag for an unnamed file in a folder (0 where the platform has none).
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)


def _private_unnamed(folder: Path) -> tuple[int, Path | None, bool]:
    """A 0600 file in ``folder`` that no name points to, if the platform allows.

    Returns the descriptor, the file's name if it still has one (platforms that cannot
    unlink an open file), and whether it can be linked in by ``/proc/self/fd`` later.
    """
    if _O_TMPFILE:
        try:
            return os.open(folder, _O_TMPFILE | os.O_RDWR, 0o600), None, True
        except OSError:  # a file system without unnamed files: fall through
            pass
    fd, tmp = tempfile.mkstemp(prefix=".privlens-", suffix=".part", dir=folder)
    try:
        os.unlink(tmp)
    except OSError:  # e.g. Windows, which cannot unlink an open file
        return fd, Path(tmp), False
    return fd, None, False


def _link_into_place(
    fd: int, fout: BinaryIO, dst: Path, named: Path | None, linkable: bool
) -> None:
    """Give the verified plaintext in ``fd`` the name ``dst``."""
    if named is not None:
        os.replace(named, dst)
        return
    if linkable:
        proc = f"/proc/self/fd/{fd}"
        try:
            os.link(proc, dst, follow_symlinks=True)
            return
        except FileExistsError:
            tmp = dst.parent / f".{dst.name}.{os.urandom(6).hex()}.part"
            try:
                os.link(proc, tmp, follow_symlinks=True)
                os.replace(tmp, dst)
                return
            except OSError:
                Path(tmp).unlink(missing_ok=True)
        except OSError:  # no /proc: copy instead
            pass

    def copy(out: BinaryIO) -> None:
        fout.seek(0)
        while block := fout.read(1 << 20):
            out.write(block)

    _write_atomically(dst, copy)


def _write_unnamed_then_link(dst: Path, write: Callable[[BinaryIO], Any]) -> None:
    """Run ``write`` on a private unnamed file; name it ``dst`` only if ``write`` returns."""
    fd, named, linkable = _private_unnamed(dst.parent)
    try:
        with os.fdopen(fd, "w+b") as fout:
            write(fout)
            fout.flush()
            os.fsync(fout.fileno())
            _link_into_place(fout.fileno(), fout, dst, named, linkable)
    except BaseException:
        if named is not None:
            named.unlink(missing_ok=True)
        raise


def _write_atomically(dst_path: str | os.PathLike[str], write: Callable[[BinaryIO], Any]) -> None:
    dst = Path(dst_path)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
    try:
        with os.fdopen(fd, "w+b") as fout:
            write(fout)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
