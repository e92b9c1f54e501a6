"""Constants, results and helpers shared by the PrivLens and age file formats."""

from __future__ import annotations

import io
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF, scrypt

from core.errors import (
    InvalidParameterError,
    WorkFactorError,
)
from core.limits import (
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)

FORMAT_PRIVLENS = "privlens-v1"
FORMAT_AGE = "age-v1"

#: Length of a user key and of the per-file key, in bytes (AES-256).
KEY_BYTES = 32
TAG_BYTES = 16
SALT_BYTES = 16
NONCE_BYTES = 16

# --- PrivLens v1 header layout (docs/encryption-format.md) -----------------------------------
MAGIC = b"privlens-encryption/v1\n"
_MAGIC_FAMILY = b"privlens-encryption/"
MODE_PASSPHRASE = 0x01
MODE_KEY = 0x02
_OFF_MODE = 23
_OFF_CHUNK = 24
_OFF_WORK = 25
_OFF_LENGTH = 26
_OFF_SALT = 34
_OFF_NONCE = 50
_OFF_WRAPPED = 66
_OFF_MAC = 114
_OFF_CHECK = 146
HEADER_BYTES = 162
_CHECK_BYTES = 16
_ZERO_NONCE = bytes(12)
_LABEL = b"privlens-encryption/v1/"

AGE_MAGIC = b"age-encryption.org/v1\n"

#: Bytes of plaintext kept in memory before the non-seekable paths spill to a temporary file.
_SPOOL_BYTES = 16 * 2**20


# === results ==================================================================================


@dataclass(frozen=True, slots=True, kw_only=True)
class EncryptedFileInfo:
    """What the header of an encrypted file says, readable without any secret.

    Attributes
    ----------
    format : str
        ``"privlens-v1"`` or ``"age-v1"``.
    needs : str
        ``"passphrase"`` or ``"key"``: what the user must supply.
    work_factor : int | None
        scrypt log2 N for passphrase files, else None.
    chunk_size : int
        Plaintext bytes per chunk.
    plaintext_bytes : int | None
        Length of the plaintext (PrivLens files record it; age files do not).
    """

    format: str
    needs: str
    work_factor: int | None
    chunk_size: int
    plaintext_bytes: int | None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DecryptResult:
    """Outcome of a successful decryption (the plaintext went to the caller's output).

    Attributes
    ----------
    format : str
        ``"privlens-v1"`` or ``"age-v1"``.
    plaintext_bytes : int
        Bytes written to the output.
    chunks : int
        Chunks authenticated.
    work_factor : int | None
        scrypt log2 N of a passphrase file, else None.
    """

    format: str
    plaintext_bytes: int
    chunks: int
    work_factor: int | None
    warnings: tuple[str, ...] = ()


# === work factors ==============================================================================


def _scrypt_memory(work: int) -> str:
    """Memory scrypt needs at r = 8: 128 * r * N bytes = 2^(work + 10) bytes."""
    exp = work + 10
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if exp >= shift:
            return f"{2 ** (exp - shift)} {unit}"
    return f"{2**exp} bytes"


def check_work_factor(work: int, *, cap: int = SCRYPT_WORK_FACTOR_MAX) -> None:
    """Refuse a passphrase file's scrypt work factor outside what readers accept.

    Parameters
    ----------
    work : int
        The file's scrypt log2 N (from its header, or :func:`inspect_file`).
    cap : int, default 20
        The highest log2 N accepted (``max_work_factor`` of :func:`decrypt`).

    Raises
    ------
    WorkFactorError
        ``work`` is below ``SCRYPT_WORK_FACTOR_MIN`` (10, the lowest any PrivLens writer
        uses: such a file was not made by a conforming writer, and its passphrase is cheap
        to guess for anyone who got a copy, so the recipient is told), or above ``cap``
        (a hostile header could otherwise make the reader spend gigabytes and minutes).
        The message gives log2 N and the bounds, never 2^N written out.

    Examples
    --------
    >>> check_work_factor(17)
    >>> check_work_factor(64)
    Traceback (most recent call last):
    ...
    core.errors.WorkFactorError: The file asks for a scrypt work factor of 2^64 (log2 N = 64), \
above the limit of 2^20 (log2 N = 20 already needs 1 GiB of memory per attempt, and each step \
up doubles it). Ask the sender to encrypt it again with the default work factor (log2 N = 17); \
from Python, max_work_factor raises the limit for a file you trust.
    """
    if work < SCRYPT_WORK_FACTOR_MIN:
        raise WorkFactorError(
            f"The file asks for a scrypt work factor of 2^{work} (log2 N = {work}), below "
            f"the minimum of 2^{SCRYPT_WORK_FACTOR_MIN} that PrivLens writers use: its "
            "passphrase would be cheap to guess, and PrivLens did not make it. Ask the sender "
            f"to encrypt it again with the default work factor (log2 N = "
            f"{SCRYPT_WORK_FACTOR_DEFAULT})."
        )
    if work > cap:
        raise WorkFactorError(
            f"The file asks for a scrypt work factor of 2^{work} (log2 N = {work}), above "
            f"the limit of 2^{cap} (log2 N = {cap} already needs {_scrypt_memory(cap)} of "
            "memory per attempt, and each step up doubles it). Ask the sender to encrypt it "
            f"again with the default work factor (log2 N = {SCRYPT_WORK_FACTOR_DEFAULT}); "
            "from Python, max_work_factor raises the limit for a file you trust."
        )


# === shared helpers ============================================================================


def _credentials(passphrase: str | None, key: bytes | None) -> tuple[int, bytes]:
    if (passphrase is None) == (key is None):
        raise InvalidParameterError(
            "Give exactly one of passphrase or key; got "
            + ("both" if passphrase is not None else "neither")
            + ". Use a passphrase you share by another channel, or a generated key file."
        )
    if passphrase is not None:
        if not isinstance(passphrase, str) or not passphrase:
            raise InvalidParameterError(
                "passphrase must be a non-empty string; got an empty one. Type a passphrase."
            )
        return MODE_PASSPHRASE, passphrase.encode("utf-8")
    return MODE_KEY, _check_key(key)


def _check_key(key: object) -> bytes:
    if not isinstance(key, bytes | bytearray | memoryview) or len(key) != KEY_BYTES:
        got = (
            f"{len(key)} bytes"
            if isinstance(key, bytes | bytearray | memoryview)
            else (f"a {type(key).__name__}")
        )
        raise InvalidParameterError(
            f"key must be {KEY_BYTES} bytes; got {got}. Use generate_key() or read a key file "
            "with key_from_text()."
        )
    return bytes(key)


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidParameterError(f"{name} must be an integer in [{lo}, {hi}]; got {value!r}.")


def _wrap_key(mode: int, secret: bytes, salt: bytes, work: int) -> bytes:
    if mode == MODE_PASSPHRASE:
        secret = unicodedata.normalize("NFC", secret.decode("utf-8")).encode("utf-8")
        return bytes(scrypt(secret, _LABEL + b"scrypt" + salt, 32, 1 << work, 8, 1))
    return _derive(secret, salt, b"key-wrap")


def _derive(ikm: bytes, salt: bytes, purpose: bytes, *, length: int = 32) -> bytes:
    """HKDF-SHA256 with info ``privlens-encryption/v1/<purpose>``."""
    return bytes(HKDF(ikm, length, salt, SHA256, context=_LABEL + purpose))


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 with age's bare info strings."""
    return bytes(HKDF(ikm, 32, salt, SHA256, context=info))


def _chunk_nonce(i: int, last: bool) -> bytes:
    return i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _chunk_count(length: int, size: int) -> int:
    return max(1, -(-length // size))


def _as_reader(src: bytes | bytearray | memoryview | BinaryIO) -> BinaryIO:
    if isinstance(src, bytes | bytearray | memoryview):
        return io.BytesIO(src)
    return src


def _read_magic(reader: BinaryIO) -> bytes:
    """Read the age magic line (22 bytes) or, failing that, the PrivLens one (23 bytes)."""
    first = _read_upto(reader, len(AGE_MAGIC))
    if first == AGE_MAGIC:
        return first
    return first + _read_upto(reader, len(MAGIC) - len(AGE_MAGIC))


def _read_upto(reader: BinaryIO, n: int) -> bytes:
    """Read up to ``n`` bytes, fewer only at end of file (handles short reads)."""
    data = reader.read(n)
    if data is None:
        data = b""
    if len(data) == n or not data:
        return bytes(data)
    parts = [data]
    got = len(data)
    while got < n:
        more = reader.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _sized_source(
    data: bytes | bytearray | memoryview | BinaryIO,
) -> tuple[BinaryIO, int, Callable[[], None]]:
    if isinstance(data, bytes | bytearray | memoryview):
        return io.BytesIO(data), memoryview(data).nbytes, lambda: None
    if data.seekable():
        pos = data.tell()
        end = data.seek(0, io.SEEK_END)
        data.seek(pos)
        return data, end - pos, lambda: None
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)
    while block := data.read(1 << 20):
        spool.write(block)
    length = spool.tell()
    spool.seek(0)
    return spool, length, spool.close  # type: ignore[return-value]


def _wipe(f: BinaryIO, start: int, end: int) -> None:
    f.seek(start)
    zeros = bytes(1 << 20)
    left = end - start
    while left > 0:
        step = min(left, len(zeros))
        f.write(zeros[:step])
        left -= step


def _rollback_on_failure(out: BinaryIO, run: Callable[[], DecryptResult]) -> DecryptResult:
    start = out.tell()
    try:
        return run()
    except BaseException:
        end = out.seek(0, io.SEEK_END)
        _wipe(out, start, end)
        out.seek(start)
        out.truncate()
        raise


class _Recorder:
    """A reader that keeps a copy of every byte read through it (for :func:`inspect_stream`)."""

    def __init__(self, src: BinaryIO) -> None:
        self.src, self.taken = src, bytearray()

    def read(self, n: int = -1) -> bytes:
        data = self.src.read(n) or b""
        self.taken += data
        return data

    def readline(self, limit: int = -1) -> bytes:
        data = self.src.readline(limit) or b""
        self.taken += data
        return data


class _Replay(io.RawIOBase):
    """The bytes already taken from a stream, then the rest of the stream."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head, self.pos, self.rest = head, 0, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self.pos < len(self.head):
            n = min(len(view), len(self.head) - self.pos)
            view[:n] = self.head[self.pos : self.pos + n]
            self.pos += n
            return n
        read1 = getattr(self.rest, "read1", None)
        data = read1(len(view)) if read1 is not None else self.rest.read(len(view))
        data = data or b""
        view[: len(data)] = data
        return len(data)
