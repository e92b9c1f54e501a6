"""Encryption of exported files and of identifier columns.

Three tools, all built on pycryptodome:

- :func:`encrypt` / :func:`decrypt` (and the ``*_bytes`` / ``*_file`` helpers): the PrivLens
  file format, AES-256-GCM in a chunked STREAM construction modelled on age v1. A random
  per-file key is wrapped under a passphrase (scrypt) or under a random 256-bit key the user
  keeps (:func:`generate_key`, :func:`key_to_text`). ``docs/encryption-format.md`` specifies
  it byte by byte.
- :func:`age_encrypt` / :func:`age_decrypt`: a genuine age v1 file with one scrypt
  (passphrase) recipient, which any age tool opens.
- :func:`siv_encrypt_column` / :func:`siv_decrypt_column`: deterministic AES-SIV for
  identifier columns, so encrypted tables still join on them and the key holder can reverse
  them.

Decryption never hands out plaintext that has not been authenticated: every failure raises a
:class:`~core.errors.DecryptionError` subclass and anything already written to the output is
wiped. Error messages name sizes, chunk numbers and columns, never a key, a passphrase or a
value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import math
import numbers
import os
import re
import tempfile
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pandas as pd
from Crypto.Cipher import AES, ChaCha20_Poly1305
from Crypto.Hash import SHA256
from Crypto.Protocol.KDF import HKDF, scrypt

from core.errors import (
    DecryptionError,
    InvalidParameterError,
    ReorderedChunksError,
    TamperedDataError,
    TruncatedFileError,
    UnknownFormatError,
    WorkFactorError,
    WrongKeyError,
)
from core.limits import (
    ENCRYPTION_CHUNK_LOG2,
    ENCRYPTION_CHUNK_LOG2_MAX,
    ENCRYPTION_CHUNK_LOG2_MIN,
    PASSPHRASE_MIN_SCORE,
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)

__all__ = [
    "FORMAT_PRIVLENS",
    "FORMAT_AGE",
    "KEY_BYTES",
    "DecryptResult",
    "EncryptedFileInfo",
    "StrengthReport",
    "age_decrypt",
    "age_encrypt",
    "check_work_factor",
    "decrypt",
    "decrypt_bytes",
    "decrypt_file",
    "encrypt",
    "encrypt_bytes",
    "encrypt_file",
    "generate_key",
    "inspect_file",
    "inspect_stream",
    "key_from_text",
    "key_to_text",
    "passphrase_strength",
    "siv_decrypt_column",
    "siv_encrypt_column",
    "wrong_secret_kind",
]

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

# --- age v1 -----------------------------------------------------------------------------------
AGE_MAGIC = b"age-encryption.org/v1\n"
_AGE_CHUNK = 64 * 1024
_AGE_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_AGE_MAX_HEADER = 64 * 1024
_AGE_B64 = re.compile(rb"^[A-Za-z0-9+/]*$")

# --- key text ---------------------------------------------------------------------------------
_KEY_PREFIX = "privlens-key-v1:"
_KEY_CHECK = 4
#: A key token: unpadded base64url of 36 bytes is exactly 48 characters of this alphabet.
_KEY_TOKEN = re.compile(r"[A-Za-z0-9_-]{48}")
_KEY_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

#: Linux's flag for an unnamed file in a folder (0 where the platform has none).
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)

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


@dataclass(frozen=True, slots=True, kw_only=True)
class StrengthReport:
    """How hard a passphrase is to guess (zxcvbn estimate).

    Attributes
    ----------
    score : int
        0 (too guessable) to 4 (very unguessable), zxcvbn's scale.
    guesses_log10 : float
        log10 of the estimated number of guesses an attacker needs.
    bits : float
        The same estimate in bits, ``guesses_log10 * log2(10)``.
    crack_seconds : float
        Estimated time for an offline attacker testing 10,000 scrypt guesses per second.
    acceptable : bool
        ``score >= PASSPHRASE_MIN_SCORE``.
    feedback : tuple of str
        zxcvbn's warning and suggestions (they quote no part of the passphrase).
    """

    score: int
    guesses_log10: float
    bits: float
    crack_seconds: float
    acceptable: bool
    feedback: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


# === keys ====================================================================================


def generate_key() -> bytes:
    """Return a new random 256-bit key from the operating system's CSPRNG.

    Returns
    -------
    bytes
        32 bytes from :func:`os.urandom`.

    Examples
    --------
    >>> len(generate_key())
    32
    >>> generate_key() != generate_key()
    True
    """
    return os.urandom(KEY_BYTES)


def key_to_text(key: bytes) -> str:
    """Encode a key as the text of a key file.

    The key line is ``privlens-key-v1:`` followed by the unpadded base64url encoding of the
    32 key bytes and the first 4 bytes of their SHA-256 (a typo check, not a secret).

    Parameters
    ----------
    key : bytes
        A 32-byte key, e.g. from :func:`generate_key`.

    Returns
    -------
    str
        Two comment lines and the key line, ending in a newline.

    Raises
    ------
    InvalidParameterError
        If ``key`` is not 32 bytes.

    Examples
    --------
    >>> text = key_to_text(bytes(32))
    >>> text.splitlines()[-1]
    'privlens-key-v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABmaHqt'
    >>> key_from_text(text) == bytes(32)
    True
    """
    key = _check_key(key)
    token = base64.urlsafe_b64encode(key + hashlib.sha256(key).digest()[:_KEY_CHECK])
    return (
        "# PrivLens encryption key (AES-256). Anyone holding this file can decrypt the files\n"
        "# made with it: store it apart from them, and never send both by the same channel.\n"
        f"{_KEY_PREFIX}{token.decode('ascii').rstrip('=')}\n"
    )


def key_from_text(text: str | bytes) -> bytes:
    """Read a key from the text of a key file written by :func:`key_to_text`.

    Parameters
    ----------
    text : str or bytes
        The key file's content; comment lines and surrounding blanks are ignored.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    InvalidParameterError
        If no key line is found, its token is not exactly 48 characters of unpadded
        base64url (padding, spaces and any other character are refused, as the format
        specifies), or the check bytes do not match.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidParameterError(
                "The key file is not text. Choose the .key file PrivLens gave you when the "
                "data was encrypted."
            ) from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(_KEY_PREFIX)]
    if len(lines) != 1:
        raise InvalidParameterError(
            f"The key file has {len(lines)} key line(s) starting with '{_KEY_PREFIX}'; it "
            "needs exactly one. Choose the .key file PrivLens gave you when the data was "
            "encrypted."
        )
    token = lines[0][len(_KEY_PREFIX) :]
    if not _KEY_TOKEN.fullmatch(token):
        foreign = sum(1 for ch in token if ch not in _KEY_ALPHABET)
        raise InvalidParameterError(
            "The key line in the key file is damaged: after the prefix it must hold exactly "
            "48 characters of A-Z, a-z, 0-9, '-' and '_' (no '=' padding, no spaces); got "
            f"{len(token)} character(s), {foreign} of them outside that set. Use an "
            "unmodified copy of the key file."
        )
    raw = base64.urlsafe_b64decode(token)
    if hashlib.sha256(raw[:KEY_BYTES]).digest()[:_KEY_CHECK] != raw[KEY_BYTES:]:
        raise InvalidParameterError(
            "The key line in the key file is damaged (its check digits do not match). Use "
            "an unmodified copy of the key file."
        )
    return raw[:KEY_BYTES]


def passphrase_strength(passphrase: str) -> StrengthReport:
    """Estimate how hard ``passphrase`` is to guess, with zxcvbn.

    Parameters
    ----------
    passphrase : str
        The candidate passphrase (only its first 100 characters are analysed).

    Returns
    -------
    StrengthReport
        Score, guesses, bits, crack time and feedback.

    Notes
    -----
    zxcvbn [W16]_ searches the passphrase for dictionary words, names, keyboard patterns,
    repeats, sequences and dates, and takes the cheapest way to guess it; characters that
    match nothing cost 10 guesses each. ``bits = log2(guesses)``; ``crack_seconds =
    guesses / 1e4`` (an offline attacker with scrypt-hashing hardware). An empty
    passphrase scores 0 with 0 bits.

    References
    ----------
    .. [W16] Wheeler, D. L. "zxcvbn: Low-Budget Password Strength Estimation",
       USENIX Security 2016.

    Examples
    --------
    >>> passphrase_strength("password").score
    0
    >>> passphrase_strength("correct horse battery staple").acceptable
    True
    """
    if not passphrase:
        return StrengthReport(
            score=0,
            guesses_log10=0.0,
            bits=0.0,
            crack_seconds=0.0,
            acceptable=False,
            feedback=("Enter a passphrase.",),
        )
    from zxcvbn import zxcvbn  # deferred: loads word lists

    result = zxcvbn(passphrase[:100])
    guesses_log10 = float(result["guesses_log10"])
    fb = result.get("feedback") or {}
    feedback = tuple(x for x in [fb.get("warning", ""), *fb.get("suggestions", [])] if x)
    score = int(result["score"])
    return StrengthReport(
        score=score,
        guesses_log10=guesses_log10,
        bits=guesses_log10 * math.log2(10),
        crack_seconds=10.0**guesses_log10 / 1e4,
        acceptable=score >= PASSPHRASE_MIN_SCORE,
        feedback=feedback,
    )


# === PrivLens v1 files ========================================================================


def encrypt(
    data: bytes | bytearray | memoryview | BinaryIO,
    out: BinaryIO,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
    chunk_log2: int = ENCRYPTION_CHUNK_LOG2,
) -> None:
    """Encrypt ``data`` into ``out`` in the PrivLens v1 format, streaming chunk by chunk.

    Parameters
    ----------
    data : bytes-like or binary file
        The plaintext. A non-seekable stream is first spooled (to memory up to 16 MiB, then
        to a temporary file) because the header records the plaintext length.
    out : binary file
        Receives the header and the encrypted chunks.
    passphrase : str, optional
        Derive the wrapping key with scrypt (log2 N = ``work_factor``, r = 8, p = 1).
    key : bytes, optional
        A 32-byte key from :func:`generate_key`. Give exactly one of ``passphrase``/``key``.
    work_factor : int, default 17
        scrypt log2 N, in [SCRYPT_WORK_FACTOR_MIN, SCRYPT_WORK_FACTOR_MAX] = [10, 20].
    chunk_log2 : int, default 20
        log2 of the plaintext chunk size, in [16, 24] (1 MiB by default).

    Raises
    ------
    InvalidParameterError
        Missing or doubled credentials, an empty passphrase, a key that is not 32 bytes, or
        a work factor or chunk size out of range.

    Notes
    -----
    The per-file key is 32 bytes from :func:`os.urandom`; chunk ``i`` (of ``n``) is sealed
    with AES-256-GCM under ``HKDF(file key, payload nonce)`` with the 12-byte nonce
    ``i`` (11 bytes, big-endian) || ``0x01`` if last else ``0x00``. Memory use is one chunk.

    References
    ----------
    .. [HRRV15] Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption and
       its Nonce-Reuse Misuse-Resistance", CRYPTO 2015 (the STREAM construction).
    .. [AGE] age v1 format specification, C2SP (age-encryption.org/v1).

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> encrypt(b"hello", buf, passphrase="a long pass phrase", work_factor=10)
    >>> decrypt_bytes(buf.getvalue(), passphrase="a long pass phrase")
    b'hello'
    """
    mode, secret = _credentials(passphrase, key)
    if mode == MODE_PASSPHRASE:
        _check_range("work_factor", work_factor, SCRYPT_WORK_FACTOR_MIN, SCRYPT_WORK_FACTOR_MAX)
    else:
        work_factor = 0
    _check_range("chunk_log2", chunk_log2, ENCRYPTION_CHUNK_LOG2_MIN, ENCRYPTION_CHUNK_LOG2_MAX)
    src, length, cleanup = _sized_source(data)
    try:
        salt, nonce, file_key = os.urandom(SALT_BYTES), os.urandom(NONCE_BYTES), generate_key()
        head = bytearray(MAGIC)
        head += bytes((mode, chunk_log2, work_factor))
        head += length.to_bytes(8, "big") + salt + nonce
        wrap_key = _wrap_key(mode, secret, salt, work_factor)
        wrapped, tag = (
            AES.new(wrap_key, AES.MODE_GCM, nonce=_ZERO_NONCE)
            .update(bytes(head))
            .encrypt_and_digest(file_key)
        )
        head += wrapped + tag
        head += hmac.digest(_derive(file_key, b"", b"header"), bytes(head), "sha256")
        head += hashlib.sha256(head).digest()[:_CHECK_BYTES]
        out.write(bytes(head))
        payload_key = _derive(file_key, nonce, b"payload")
        size = 1 << chunk_log2
        n = _chunk_count(length, size)
        for i in range(n):
            want = size if i < n - 1 else length - (n - 1) * size
            pt = src.read(want) if want else b""
            if len(pt) != want:
                raise InvalidParameterError(
                    f"The input shrank while it was being encrypted: {length} bytes were "
                    f"announced but chunk {i + 1} of {n} got only {len(pt)} of {want}. "
                    "Encrypt a file that is not being written to."
                )
            ct, tag = AES.new(
                payload_key, AES.MODE_GCM, nonce=_chunk_nonce(i, i == n - 1)
            ).encrypt_and_digest(pt)
            out.write(ct)
            out.write(tag)
    finally:
        cleanup()


def decrypt(
    src: bytes | bytearray | memoryview | BinaryIO,
    out: BinaryIO,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    max_work_factor: int = SCRYPT_WORK_FACTOR_MAX,
) -> DecryptResult:
    """Decrypt a PrivLens v1 or age v1 (passphrase) file from ``src`` into ``out``.

    Parameters
    ----------
    src : bytes-like or binary file
        The encrypted file, read chunk by chunk (memory use is one chunk).
    out : binary file
        Receives the plaintext. If it is seekable, chunks are written as they verify and,
        on any failure, the written range is overwritten with zeros and truncated away; if
        it is not seekable, the plaintext is spooled to a temporary file and copied to
        ``out`` only after the last chunk verified. Either way no unauthenticated or partial
        plaintext is left in ``out`` when this raises.
    passphrase, key : optional
        Exactly one of them, as given to :func:`encrypt` (age files need a passphrase).
    max_work_factor : int, default 20
        Refuse passphrase files whose scrypt log2 N is higher (a hostile header could
        otherwise make us spend gigabytes and minutes on key derivation).

    Returns
    -------
    DecryptResult
        Format, plaintext length, chunk count, work factor.

    Raises
    ------
    UnknownFormatError
        Not a PrivLens or age file, an unknown version, mode or chunk size.
    WorkFactorError
        The file's work factor is above ``max_work_factor``.
    WrongKeyError
        The passphrase or key does not open the file (or the wrong kind was given).
    TamperedDataError
        The header or a chunk fails authentication, or bytes follow the last chunk.
    ReorderedChunksError
        An authentic chunk is at the wrong position (reordered, repeated or removed).
    TruncatedFileError
        The file ends before its last chunk (inside a chunk or at a chunk boundary).
    InvalidParameterError
        Missing or doubled credentials.
    """
    mode, secret = _credentials(passphrase, key)
    reader = _as_reader(src)
    if out.seekable():
        return _rollback_on_failure(
            out, lambda: _decrypt_any(reader, out, mode, secret, max_work_factor)
        )
    with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
        result = _rollback_on_failure(
            spool,  # type: ignore[arg-type]
            lambda: _decrypt_any(reader, spool, mode, secret, max_work_factor),  # type: ignore[arg-type]
        )
        spool.seek(0)
        while block := spool.read(1 << 20):
            out.write(block)
        _wipe(spool, 0, result.plaintext_bytes)  # type: ignore[arg-type]
    return result


def encrypt_bytes(
    data: bytes | bytearray | memoryview,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
    chunk_log2: int = ENCRYPTION_CHUNK_LOG2,
) -> bytes:
    """Return ``data`` encrypted in the PrivLens v1 format (see :func:`encrypt`).

    Examples
    --------
    >>> k = generate_key()
    >>> blob = encrypt_bytes(b"id,age\\n1,34\\n", key=k)
    >>> blob[:23]
    b'privlens-encryption/v1\\n'
    >>> decrypt_bytes(blob, key=k)
    b'id,age\\n1,34\\n'
    """
    out = io.BytesIO()
    encrypt(
        data, out, passphrase=passphrase, key=key, work_factor=work_factor, chunk_log2=chunk_log2
    )
    return out.getvalue()


def decrypt_bytes(
    blob: bytes | bytearray | memoryview | BinaryIO,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    max_work_factor: int = SCRYPT_WORK_FACTOR_MAX,
) -> bytes:
    """Return the plaintext of a PrivLens or age file, only once all of it verified.

    See :func:`decrypt` for the parameters and the errors raised.
    """
    out = io.BytesIO()
    decrypt(blob, out, passphrase=passphrase, key=key, max_work_factor=max_work_factor)
    return out.getvalue()


def encrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
    chunk_log2: int = ENCRYPTION_CHUNK_LOG2,
) -> None:
    """Encrypt the file at ``src_path`` to ``dst_path`` (see :func:`encrypt`).

    The output is written to a temporary file next to ``dst_path`` and renamed into place
    only when complete.
    """
    with open(src_path, "rb") as fin:
        _write_atomically(
            dst_path,
            lambda fout: encrypt(
                fin,
                fout,
                passphrase=passphrase,
                key=key,
                work_factor=work_factor,
                chunk_log2=chunk_log2,
            ),
        )


def decrypt_file(
    src_path: str | os.PathLike[str] | BinaryIO,
    dst_path: str | os.PathLike[str],
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    max_work_factor: int = SCRYPT_WORK_FACTOR_MAX,
) -> DecryptResult:
    """Decrypt the file at ``src_path`` (or a binary stream) to ``dst_path``.

    See :func:`decrypt` for the parameters and the errors raised.

    Notes
    -----
    Plaintext that has not been verified as a whole never has a name: chunks are written,
    as they verify, to a file without a name in ``dst_path``'s folder (Linux ``O_TMPFILE``,
    mode 0600), which is given the name ``dst_path`` only after the last chunk verified
    (linked in, or linked under a temporary name and renamed over an existing
    ``dst_path``). Where the platform has no unnamed files, a 0600 temporary file is
    unlinked right after it is created, and on success its content is copied to a new
    0600 file that is renamed into place. On failure or interruption (an exception,
    Ctrl-C, or a signal the caller turns into one) the written plaintext is overwritten
    with zeros and the file closed, so it disappears with its descriptor: a failed
    decryption never creates or changes ``dst_path``.

    What remains possible if the process is killed outright (SIGKILL, power loss): no file
    name ever points to unverified plaintext, but the blocks already written are freed
    without being overwritten, so someone who can read the raw disk may recover them; and
    between the link under a temporary name and the rename over an existing ``dst_path``
    (a few microseconds) a kill leaves that verified plaintext under a hidden
    ``.NAME.*.part`` name. Memory use is one chunk.
    """
    result: list[DecryptResult] = []

    def run(fout: BinaryIO) -> None:
        if isinstance(src_path, str | os.PathLike):
            with open(src_path, "rb") as fin:
                result.append(
                    decrypt(
                        fin, fout, passphrase=passphrase, key=key, max_work_factor=max_work_factor
                    )
                )
        else:
            result.append(
                decrypt(
                    src_path, fout, passphrase=passphrase, key=key, max_work_factor=max_work_factor
                )
            )

    _write_unnamed_then_link(Path(dst_path), run)
    return result[0]


def inspect_stream(src: BinaryIO) -> tuple[EncryptedFileInfo, BinaryIO]:
    """Read an encrypted stream's header once, and return it with the whole stream again.

    For pipes and other streams that cannot be rewound: the bytes the header took are
    replayed before the rest, so the second value can go straight to :func:`decrypt` or
    :func:`decrypt_file` and ``src`` is read only once.

    Parameters
    ----------
    src : binary file
        The encrypted stream, at its start.

    Returns
    -------
    (EncryptedFileInfo, binary file)
        What :func:`inspect_file` reads, and a stream of the whole file from its start.

    Raises
    ------
    UnknownFormatError, TruncatedFileError, TamperedDataError
        As :func:`inspect_file`.

    Examples
    --------
    >>> info, again = inspect_stream(io.BytesIO(encrypt_bytes(b"hi", key=bytes(32))))
    >>> info.needs, decrypt_bytes(again, key=bytes(32))
    ('key', b'hi')
    """
    recorder = _Recorder(src)
    info = inspect_file(recorder)  # type: ignore[arg-type]
    return info, io.BufferedReader(_Replay(bytes(recorder.taken), src))


def inspect_file(src: bytes | bytearray | memoryview | BinaryIO) -> EncryptedFileInfo:
    """Read what an encrypted file's header says, without a secret and without checking it.

    Parameters
    ----------
    src : bytes-like or binary file
        The encrypted file (only its header is read; a file object is left after it).

    Returns
    -------
    EncryptedFileInfo
        Format, what secret it needs, work factor, chunk size, plaintext length.

    Raises
    ------
    UnknownFormatError, TruncatedFileError, TamperedDataError
        As :func:`decrypt` would for the header.

    Examples
    --------
    >>> info = inspect_file(encrypt_bytes(b"x", key=bytes(32)))
    >>> (info.format, info.needs, info.plaintext_bytes, info.chunk_size)
    ('privlens-v1', 'key', 1, 1048576)
    """
    reader = _as_reader(src)
    first = _read_magic(reader)
    if first == AGE_MAGIC:
        _, _, work, _ = _age_read_header(reader, first)
        return EncryptedFileInfo(
            format=FORMAT_AGE,
            needs="passphrase",
            work_factor=work,
            chunk_size=_AGE_CHUNK,
            plaintext_bytes=None,
        )
    head = _read_privlens_header(reader, first)
    mode = head[_OFF_MODE]
    return EncryptedFileInfo(
        format=FORMAT_PRIVLENS,
        needs="passphrase" if mode == MODE_PASSPHRASE else "key",
        work_factor=head[_OFF_WORK] if mode == MODE_PASSPHRASE else None,
        chunk_size=1 << head[_OFF_CHUNK],
        plaintext_bytes=int.from_bytes(head[_OFF_LENGTH:_OFF_SALT], "big"),
    )


# --- decryption internals ---------------------------------------------------------------------


def _decrypt_any(
    reader: BinaryIO, out: BinaryIO, mode: int, secret: bytes, max_work_factor: int
) -> DecryptResult:
    first = _read_magic(reader)
    if first == AGE_MAGIC:
        if mode != MODE_PASSPHRASE:
            raise _wrong_kind(FORMAT_AGE, "passphrase")
        return _age_decrypt_after_magic(reader, out, secret, first, max_work_factor)
    head = _read_privlens_header(reader, first)
    file_mode, work = head[_OFF_MODE], head[_OFF_WORK]
    if file_mode != mode:
        raise _wrong_kind(FORMAT_PRIVLENS, "passphrase" if file_mode == MODE_PASSPHRASE else "key")
    if file_mode == MODE_PASSPHRASE:
        check_work_factor(work, cap=max_work_factor)
    wrap_key = _wrap_key(file_mode, secret, bytes(head[_OFF_SALT:_OFF_NONCE]), work)
    try:
        file_key = (
            AES.new(wrap_key, AES.MODE_GCM, nonce=_ZERO_NONCE)
            .update(bytes(head[:_OFF_WRAPPED]))
            .decrypt_and_verify(
                head[_OFF_WRAPPED : _OFF_WRAPPED + KEY_BYTES],
                head[_OFF_WRAPPED + KEY_BYTES : _OFF_MAC],
            )
        )
    except ValueError:
        what = "passphrase" if file_mode == MODE_PASSPHRASE else "key"
        raise WrongKeyError(
            f"The {what} does not open this file. Check the {what} "
            + (
                "(capitals, spaces, keyboard layout) "
                if what == "passphrase"
                else "(it must be the key file made together with this file) "
            )
            + "and try again."
        ) from None
    mac = hmac.digest(_derive(file_key, b"", b"header"), bytes(head[:_OFF_MAC]), "sha256")
    if not hmac.compare_digest(mac, bytes(head[_OFF_MAC:_OFF_CHECK])):
        raise TamperedDataError(
            "The file's header was altered (its authentication code does not match). The "
            "file cannot be trusted; ask the sender for a fresh copy."
        )
    length = int.from_bytes(head[_OFF_LENGTH:_OFF_SALT], "big")
    size = 1 << head[_OFF_CHUNK]
    payload_key = _derive(file_key, bytes(head[_OFF_NONCE:_OFF_WRAPPED]), b"payload")
    n = _chunk_count(length, size)
    for i in range(n):
        last = i == n - 1
        want = (length - i * size if last else size) + TAG_BYTES
        ct = _read_upto(reader, want)
        if len(ct) != want:
            if not ct:
                raise TruncatedFileError(
                    f"The file ends at a chunk boundary after chunk {i} of {n}: "
                    f"{n - i} chunk(s) are missing. Download or copy the file again."
                )
            raise TruncatedFileError(
                f"The file ends inside chunk {i + 1} of {n} ({len(ct)} of {want} bytes). "
                "Download or copy the file again."
            )
        mv = memoryview(ct)
        try:
            pt = AES.new(payload_key, AES.MODE_GCM, nonce=_chunk_nonce(i, last)).decrypt_and_verify(
                mv[:-TAG_BYTES], mv[-TAG_BYTES:]
            )
        except ValueError:
            raise _diagnose_chunk(payload_key, mv, i, n) from None
        out.write(pt)
    extra = len(_read_upto(reader, 1 << 16))
    if extra:
        raise TamperedDataError(
            f"{'At least ' if extra == 1 << 16 else ''}{extra} byte(s) follow the final "
            f"chunk ({n} chunk(s) verified). Data was appended to the file; it cannot be "
            "trusted. Ask the sender for a fresh copy."
        )
    return DecryptResult(
        format=FORMAT_PRIVLENS,
        plaintext_bytes=length,
        chunks=n,
        work_factor=work if file_mode == MODE_PASSPHRASE else None,
    )


def _read_privlens_header(reader: BinaryIO, first: bytes) -> bytearray:
    if not first.startswith(_MAGIC_FAMILY[: len(first)]) or len(first) < len(_MAGIC_FAMILY):
        if len(first) == 0:
            raise UnknownFormatError("The file is empty (0 bytes). Choose the encrypted file.")
        raise UnknownFormatError(
            "This is not a PrivLens or age encrypted file (it does not start with "
            "'privlens-encryption/' or 'age-encryption.org/'). Choose a file that PrivLens "
            "or age encrypted."
        )
    if first != MAGIC:
        version = first[len(_MAGIC_FAMILY) :].split(b"\n")[0][:8]
        shown = version.decode("ascii", "replace") if version.isascii() else "?"
        raise UnknownFormatError(
            f"This PrivLens file uses format version '{shown}', which this version of PrivLens "
            "does not read (it reads 'v1'). Update PrivLens, or ask for a v1 file."
        )
    head = bytearray(first) + _read_upto(reader, HEADER_BYTES - len(first))
    if len(head) != HEADER_BYTES:
        raise TruncatedFileError(
            f"The file ends inside its header ({len(head)} of {HEADER_BYTES} bytes). "
            "Download or copy the file again."
        )
    if hashlib.sha256(head[:_OFF_CHECK]).digest()[:_CHECK_BYTES] != head[_OFF_CHECK:]:
        raise TamperedDataError(
            "The file's header is damaged (its checksum does not match). The file was "
            "altered or corrupted in transit; ask the sender for a fresh copy."
        )
    if head[_OFF_MODE] not in (MODE_PASSPHRASE, MODE_KEY):
        raise UnknownFormatError(
            f"The header names key mode {head[_OFF_MODE]}, which PrivLens does not know "
            "(1 = passphrase, 2 = key file). Update PrivLens."
        )
    if not ENCRYPTION_CHUNK_LOG2_MIN <= head[_OFF_CHUNK] <= ENCRYPTION_CHUNK_LOG2_MAX:
        raise UnknownFormatError(
            f"The header names a chunk size of 2^{head[_OFF_CHUNK]} bytes; PrivLens reads "
            f"2^{ENCRYPTION_CHUNK_LOG2_MIN} to 2^{ENCRYPTION_CHUNK_LOG2_MAX}. Update PrivLens."
        )
    if head[_OFF_MODE] == MODE_PASSPHRASE and head[_OFF_WORK] < 1:
        raise UnknownFormatError("The header names a scrypt work factor of 0, which is invalid.")
    return head


def _diagnose_chunk(payload_key: bytes, ct: memoryview, i: int, n: int) -> DecryptionError:
    """Tell a chunk that belongs at another position ``j < n`` from a chunk that was altered.

    Exact for any ``n``, in the time of two passes over one chunk: with a 96-bit nonce,
    AES-GCM's tag is ``GHASH_H(ciphertext) XOR E_K(nonce || 0^31 || 1)``, and ``H = E_K(0)``
    does not depend on the nonce. Sealing the chunk's own plaintext again under any nonce
    ``N`` gives the same ciphertext and the tag ``T_N``, so ``E_K(J0) = T XOR T_N XOR
    E_K(N || 0^31 || 1)`` for the one counter block ``J0`` under which the stored tag ``T``
    verifies. Decrypting that block with AES names the nonce that opens the chunk, if any:
    the same answer as trying the nonce of every other position in turn.
    """
    body, tag = bytes(ct[:-TAG_BYTES]), bytes(ct[-TAG_BYTES:])
    probe = _chunk_nonce(i, i == n - 1)
    plain = AES.new(payload_key, AES.MODE_GCM, nonce=probe).decrypt(body)
    _, probe_tag = AES.new(payload_key, AES.MODE_GCM, nonce=probe).encrypt_and_digest(plain)
    counter_one = b"\x00\x00\x00\x01"
    # E_K(N || 0^31 || 1): the keystream block of that counter, the mask GCM puts on a tag.
    probe_mask = AES.new(
        payload_key, AES.MODE_CTR, nonce=b"", initial_value=probe + counter_one
    ).encrypt(bytes(16))
    mask = bytes(a ^ b ^ c for a, b, c in zip(tag, probe_tag, probe_mask, strict=True))
    # The inverse AES permutation of one block (CBC with a zero IV over a single block is
    # exactly D_K); it only reads a counter block back, and encrypts no data.
    j0 = AES.new(payload_key, AES.MODE_CBC, iv=bytes(16)).decrypt(mask)
    j = int.from_bytes(j0[:11], "big")
    if j0[12:] == counter_one and j < n and j != i and j0[11] == (1 if j == n - 1 else 0):
        return ReorderedChunksError(
            f"Chunk {i + 1} of {n} is authentic but belongs at position {j + 1}: the "
            "file's chunks were reordered, repeated or removed. Ask for a fresh copy."
        )
    return TamperedDataError(
        f"Chunk {i + 1} of {n} failed authentication: the file was altered or damaged. "
        "No data was released. Ask the sender for a fresh copy."
    )


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


def _wrong_kind(fmt: str, needs: str) -> WrongKeyError:
    what = "This age file" if fmt == FORMAT_AGE else "This PrivLens file"
    if needs == "key":
        return WrongKeyError(
            f"{what} was encrypted with a key file, not a passphrase. Give the key file it "
            "was encrypted with instead."
        )
    return WrongKeyError(
        f"{what} is protected by a passphrase, not a key file. Give the passphrase instead."
    )


def wrong_secret_kind(info: EncryptedFileInfo) -> WrongKeyError:
    """The error for a file given the other kind of secret (a key file for a passphrase).

    :func:`decrypt` raises exactly this error; front ends that check the kind before asking
    for a secret (the command line) raise it too, so the message is the same everywhere.

    Parameters
    ----------
    info : EncryptedFileInfo
        What :func:`inspect_file` read from the file.

    Returns
    -------
    WrongKeyError
        Not raised: the caller raises it.

    Examples
    --------
    >>> str(wrong_secret_kind(inspect_file(encrypt_bytes(b"", key=bytes(32)))))
    'This PrivLens file was encrypted with a key file, not a passphrase. Give the key file \
it was encrypted with instead.'
    """
    return _wrong_kind(info.format, info.needs)


# === age v1 (scrypt recipient) =================================================================


def age_encrypt(
    data: bytes | bytearray | memoryview | BinaryIO,
    out: BinaryIO,
    *,
    passphrase: str,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
) -> None:
    """Encrypt ``data`` as a standard age v1 file with one passphrase (scrypt) recipient.

    Any age implementation (age, rage, pyrage, typage) decrypts the result with the same
    passphrase.

    Parameters
    ----------
    data : bytes-like or binary file
        The plaintext, read 64 KiB at a time.
    out : binary file
        Receives the age file.
    passphrase : str
        Used as UTF-8 bytes, exactly as typed (age does not normalise it).
    work_factor : int, default 17
        scrypt log2 N, in [10, 20].

    Raises
    ------
    InvalidParameterError
        An empty passphrase or a work factor out of range.

    Notes
    -----
    16-byte file key; stanza ``-> scrypt <salt> <log2 N>`` whose body is
    ChaCha20-Poly1305(scrypt(passphrase, "age-encryption.org/v1/scrypt" || salt, N, 8, 1),
    nonce 0, file key); header MAC = HMAC-SHA256(HKDF(file key, "", "header"), header up to
    "---"); payload = 16-byte nonce, then 64 KiB chunks sealed with ChaCha20-Poly1305 under
    HKDF(file key, nonce, "payload") with nonce counter || last flag [AGE]_.

    References
    ----------
    .. [AGE] age v1 format specification, C2SP (age-encryption.org/v1).

    Examples
    --------
    >>> buf = io.BytesIO()
    >>> age_encrypt(b"hi", buf, passphrase="a long pass phrase", work_factor=10)
    >>> buf.getvalue()[:22]
    b'age-encryption.org/v1\\n'
    >>> age_decrypt(buf.getvalue(), passphrase="a long pass phrase")
    b'hi'
    """
    if not isinstance(passphrase, str) or not passphrase:
        raise InvalidParameterError("passphrase must be a non-empty string; got an empty one.")
    _check_range("work_factor", work_factor, SCRYPT_WORK_FACTOR_MIN, SCRYPT_WORK_FACTOR_MAX)
    src = _as_reader(data)
    file_key, salt = os.urandom(16), os.urandom(16)
    wrap = scrypt(passphrase.encode("utf-8"), _AGE_SCRYPT_LABEL + salt, 32, 1 << work_factor, 8, 1)
    body, tag = ChaCha20_Poly1305.new(key=wrap, nonce=_ZERO_NONCE).encrypt_and_digest(file_key)
    header = (
        AGE_MAGIC
        + b"-> scrypt "
        + _b64(salt)
        + b" "
        + str(work_factor).encode("ascii")
        + b"\n"
        + _age_wrap_body(_b64(body + tag))
        + b"---"
    )
    mac = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
    nonce = os.urandom(16)
    out.write(header + b" " + _b64(mac) + b"\n" + nonce)
    key = _hkdf(file_key, nonce, b"payload")
    i = 0
    cur = _read_upto(src, _AGE_CHUNK)
    while True:
        nxt = _read_upto(src, _AGE_CHUNK) if len(cur) == _AGE_CHUNK else b""
        last = not nxt
        ct, tag = ChaCha20_Poly1305.new(key=key, nonce=_chunk_nonce(i, last)).encrypt_and_digest(
            cur
        )
        out.write(ct + tag)
        if last:
            return
        cur, i = nxt, i + 1


def age_decrypt(
    src: bytes | bytearray | memoryview | BinaryIO,
    *,
    passphrase: str,
    max_work_factor: int = SCRYPT_WORK_FACTOR_MAX,
) -> bytes:
    """Return the plaintext of an age v1 passphrase file, once all of it verified.

    Parameters
    ----------
    src : bytes-like or binary file
        The age file.
    passphrase : str
        The passphrase, as typed.
    max_work_factor : int, default 20
        Refuse files whose scrypt log2 N is higher.

    Returns
    -------
    bytes
        The plaintext.

    Raises
    ------
    DecryptionError
        The subclasses listed in :func:`decrypt`. Because age does not record the plaintext
        length, a file cut inside its last chunk is reported as tampered, and one cut at a
        chunk boundary as truncated. Files for other age recipient types (X25519, SSH)
        raise UnknownFormatError.
    """
    return decrypt_bytes(src, passphrase=passphrase, max_work_factor=max_work_factor)


def _age_decrypt_after_magic(
    reader: BinaryIO, out: BinaryIO, secret: bytes, first: bytes, max_work_factor: int
) -> DecryptResult:
    header, salt, work, (body, mac) = _age_read_header(reader, first)
    check_work_factor(work, cap=max_work_factor)
    # age uses the passphrase bytes exactly as typed (no Unicode normalisation).
    wrap = scrypt(secret, _AGE_SCRYPT_LABEL + salt, 32, 1 << work, 8, 1)
    try:
        file_key = ChaCha20_Poly1305.new(key=wrap, nonce=_ZERO_NONCE).decrypt_and_verify(
            body[:16], body[16:]
        )
    except ValueError:
        raise WrongKeyError(
            "The passphrase does not open this age file. Check the passphrase (capitals, "
            "spaces, keyboard layout) and try again."
        ) from None
    expect = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
    if not hmac.compare_digest(expect, mac):
        raise TamperedDataError(
            "The age file's header was altered (its MAC does not match). The file cannot be "
            "trusted; ask the sender for a fresh copy."
        )
    nonce = _read_upto(reader, 16)
    if len(nonce) != 16:
        raise TruncatedFileError(
            "The age file ends before its payload starts. Download or copy it again."
        )
    key = _hkdf(file_key, nonce, b"payload")
    full = _AGE_CHUNK + TAG_BYTES
    i, total = 0, 0
    cur = _read_upto(reader, full)
    while True:
        nxt = _read_upto(reader, full) if len(cur) == full else b""
        last = not nxt
        if len(cur) < TAG_BYTES or (last and len(cur) == TAG_BYTES and i > 0):
            if not cur:
                raise TruncatedFileError(
                    f"The age file ends at a chunk boundary after {i} chunk(s) without its "
                    "final chunk. Download or copy it again."
                )
            raise TamperedDataError(
                f"Chunk {i + 1} of the age file is malformed ({len(cur)} bytes). The file was "
                "altered or cut short; ask for a fresh copy."
            )
        mv = memoryview(cur)
        try:
            pt = ChaCha20_Poly1305.new(key=key, nonce=_chunk_nonce(i, last)).decrypt_and_verify(
                mv[:-TAG_BYTES], mv[-TAG_BYTES:]
            )
        except ValueError:
            if last and len(cur) == full and _age_opens(key, mv, i, last=False):
                raise TruncatedFileError(
                    f"The age file ends at a chunk boundary after chunk {i + 1}; its final "
                    "chunk is missing. Download or copy it again."
                ) from None
            raise TamperedDataError(
                f"Chunk {i + 1} of the age file failed authentication: it was altered, "
                "reordered or cut short. No data was released. Ask for a fresh copy."
            ) from None
        out.write(pt)
        total += len(pt)
        if last:
            return DecryptResult(
                format=FORMAT_AGE, plaintext_bytes=total, chunks=i + 1, work_factor=work
            )
        cur, i = nxt, i + 1


def _age_opens(key: bytes, ct: memoryview, i: int, *, last: bool) -> bool:
    try:
        ChaCha20_Poly1305.new(key=key, nonce=_chunk_nonce(i, last)).decrypt_and_verify(
            ct[:-TAG_BYTES], ct[-TAG_BYTES:]
        )
    except ValueError:
        return False
    return True


def _age_read_header(
    reader: BinaryIO, first: bytes
) -> tuple[bytes, bytes, int, tuple[bytes, bytes]]:
    """Parse an age header; return (MAC'd bytes, salt, work factor, (body, mac))."""
    raw = bytearray(first)
    lines: list[bytes] = []
    while True:
        line = reader.readline(_AGE_MAX_HEADER)
        if not line.endswith(b"\n"):
            if len(raw) + len(line) >= _AGE_MAX_HEADER:
                raise UnknownFormatError(
                    "The age header is longer than 64 KiB, which PrivLens does not accept."
                )
            raise TruncatedFileError("The age file ends inside its header. Copy it again.")
        if line.startswith(b"---"):
            mac_part = line[3:-1]
            raw += b"---"
            break
        raw += line
        lines.append(line[:-1])
        if len(raw) > _AGE_MAX_HEADER:
            raise UnknownFormatError(
                "The age header is longer than 64 KiB, which PrivLens does not accept."
            )
    stanzas = [ln for ln in lines if ln.startswith(b"-> ")]
    kinds = sorted(
        {s.split(b" ")[1].decode("ascii", "replace") for s in stanzas if len(s.split(b" ")) > 1}
    )
    if kinds != ["scrypt"] or len(stanzas) != 1:
        raise UnknownFormatError(
            f"This age file has {len(stanzas)} recipient stanza(s) of type(s) "
            f"{', '.join(kinds) or 'none'}; PrivLens opens only age files protected by a "
            "single passphrase (scrypt). Decrypt it with an age tool and your identity file."
        )
    args = stanzas[0].split(b" ")
    body_lines = lines[1:]
    malformed = UnknownFormatError(
        "The age file's passphrase stanza is malformed. It was not written by a conforming "
        "age tool, or it was altered."
    )
    if (
        lines[0] != stanzas[0]
        or len(args) != 4
        or not re.fullmatch(rb"[1-9][0-9]?", args[3])
        or not mac_part.startswith(b" ")
    ):
        raise malformed
    if any(len(b) > 64 for b in body_lines) or (body_lines and len(body_lines[-1]) == 64):
        raise malformed
    try:
        salt = _unb64(args[2])
        body = _unb64(b"".join(body_lines))
        mac = _unb64(mac_part[1:])
    except ValueError:
        raise malformed from None
    if len(salt) != 16 or len(body) != 32 or len(mac) != 32:
        raise malformed
    return bytes(raw), salt, int(args[3]), (body, mac)


def _age_wrap_body(text: bytes) -> bytes:
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    if not lines or len(lines[-1]) == 64:
        lines.append(b"")
    return b"".join(ln + b"\n" for ln in lines)


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    if not _AGE_B64.match(text) or len(text) % 4 == 1:
        raise ValueError("not canonical unpadded base64")
    raw = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    if _b64(raw) != text:
        raise ValueError("not canonical base64")
    return raw


# === AES-SIV columns ===========================================================================


def siv_encrypt_column(series: pd.Series, key: bytes, *, context: str = "") -> pd.Series:
    """Encrypt a column deterministically with AES-SIV (equal values, equal tokens).

    Parameters
    ----------
    series : pandas.Series
        Values to encrypt; missing values stay missing. Integers and floats come back as
        such from :func:`siv_decrypt_column`; anything else comes back as its text.
    key : bytes
        A 32-byte key (:func:`generate_key`). Use the same key and ``context`` in every
        table that must stay joinable on this column.
    context : str, default ""
        Associated data bound to every token (e.g. ``"patient-id"``): tokens made under one
        context do not decrypt, and do not match, under another.

    Returns
    -------
    pandas.Series
        Tokens (unpadded base64url of the 16-byte SIV and the ciphertext), same index and
        name, string dtype.

    Raises
    ------
    InvalidParameterError
        If ``key`` is not 32 bytes.

    Notes
    -----
    AES-SIV (RFC 5297) with a 512-bit key ``HKDF-SHA256(key, "", "privlens/v1/column-siv")``
    and ``context`` as associated data. It is deterministic by design, so it reveals which
    rows share a value (needed for joins) but nothing else [RS06]_. Each distinct value is
    encrypted once (values are factorised first).

    References
    ----------
    .. [RS06] Rogaway, Shrimpton, "Deterministic Authenticated-Encryption", EUROCRYPT 2006;
       RFC 5297.

    Examples
    --------
    >>> k = bytes(32)
    >>> s = pd.Series(["A17", "B02", "A17", None], name="id")
    >>> enc = siv_encrypt_column(s, k)
    >>> bool(enc[0] == enc[2]) and enc[0] != enc[1] and bool(enc.isna()[3])
    True
    >>> siv_decrypt_column(enc, k).tolist()[:3]
    ['A17', 'B02', 'A17']
    """
    siv_key = _derive(_check_key(key), b"", b"column-siv", length=64)
    ad = context.encode("utf-8")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    tokens = []
    for value in uniques.tolist():
        cipher = AES.new(siv_key, AES.MODE_SIV)
        cipher.update(ad)
        ct, tag = cipher.encrypt_and_digest(_siv_pack(value))
        tokens.append(base64.urlsafe_b64encode(tag + ct).rstrip(b"=").decode("ascii"))
    return _take(tokens, codes, series, dtype="str")


def siv_decrypt_column(series: pd.Series, key: bytes, *, context: str = "") -> pd.Series:
    """Reverse :func:`siv_encrypt_column` (same key and context).

    Parameters
    ----------
    series : pandas.Series
        Tokens from :func:`siv_encrypt_column`; missing values stay missing.
    key : bytes
        The 32-byte key used to encrypt.
    context : str, default ""
        The context used to encrypt.

    Returns
    -------
    pandas.Series
        The original values: int64 (Int64 when missing values are present), float64, or
        strings.

    Raises
    ------
    WrongKeyError
        If no token opens with this key and context.
    TamperedDataError
        If some tokens open and others do not (the column was edited or mixed).
    InvalidParameterError
        If ``key`` is not 32 bytes.
    """
    siv_key = _derive(_check_key(key), b"", b"column-siv", length=64)
    ad = context.encode("utf-8")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    values: list[Any] = []
    bad = 0
    for token in uniques.tolist():
        try:
            raw = base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4))
            if len(raw) < TAG_BYTES + 1:
                raise ValueError("short token")
            cipher = AES.new(siv_key, AES.MODE_SIV)
            cipher.update(ad)
            values.append(_siv_unpack(cipher.decrypt_and_verify(raw[TAG_BYTES:], raw[:TAG_BYTES])))
        except (ValueError, binascii.Error):
            bad += 1
            values.append(None)
    name = f"column '{series.name}'" if series.name is not None else "the column"
    if bad and bad == len(uniques):
        raise WrongKeyError(
            f"None of the {bad} distinct token(s) in {name} opened with this key and "
            "context. Use the key (and context) the column was encrypted with."
        )
    if bad:
        raise TamperedDataError(
            f"{bad} of {len(uniques)} distinct token(s) in {name} failed authentication: "
            "the column was edited or mixes data from another key. Nothing was decrypted."
        )
    kinds = {type(v) for v in values}
    dtype: str | None
    if kinds <= {int}:
        nullable = bool((codes < 0).any())
        if all(-(2**63) <= v < 2**63 for v in values):
            dtype = "Int64" if nullable else "int64"
        elif all(0 <= v < 2**64 for v in values):
            dtype = "UInt64" if nullable else "uint64"
        else:
            dtype = "object"  # integers past 64 bits stay Python integers
    elif kinds <= {float}:
        dtype = "float64"
    elif kinds <= {str}:
        dtype = "str"
    else:
        dtype = "object"
    return _take(values, codes, series, dtype=dtype)


def _siv_pack(value: Any) -> bytes:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return b"i" + str(int(value)).encode("ascii")
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return b"f" + float(value).hex().encode("ascii")
    return b"s" + str(value).encode("utf-8")


def _siv_unpack(raw: bytes) -> Any:
    kind, body = raw[:1], raw[1:]
    if kind == b"i":
        return int(body)
    if kind == b"f":
        return float.fromhex(body.decode("ascii"))
    if kind == b"s":
        return body.decode("utf-8")
    raise ValueError("unknown value tag")


def _take(values: list[Any], codes: Any, like: pd.Series, *, dtype: str) -> pd.Series:
    exact = {"int64": "Int64", "uint64": "UInt64"}  # numpy ints: build nullable, then cast
    lookup = pd.array(values + [None], dtype=exact.get(dtype, dtype))
    out = pd.Series(lookup.take(codes, allow_fill=False), index=like.index, name=like.name)
    return out.astype(dtype) if dtype in exact else out


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
