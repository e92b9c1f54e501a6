"""The PrivLens v1 file format: AES-256-GCM in a chunked STREAM construction.

``docs/encryption-format.md`` specifies it byte by byte.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from Crypto.Cipher import AES

from core.crypto.age import _AGE_CHUNK, _age_decrypt_after_magic, _age_read_header
from core.crypto.common import (
    _CHECK_BYTES,
    _MAGIC_FAMILY,
    _OFF_CHECK,
    _OFF_CHUNK,
    _OFF_LENGTH,
    _OFF_MAC,
    _OFF_MODE,
    _OFF_NONCE,
    _OFF_SALT,
    _OFF_WORK,
    _OFF_WRAPPED,
    _SPOOL_BYTES,
    _ZERO_NONCE,
    AGE_MAGIC,
    FORMAT_AGE,
    FORMAT_PRIVLENS,
    HEADER_BYTES,
    KEY_BYTES,
    MAGIC,
    MODE_KEY,
    MODE_PASSPHRASE,
    NONCE_BYTES,
    SALT_BYTES,
    TAG_BYTES,
    DecryptResult,
    EncryptedFileInfo,
    _as_reader,
    _check_range,
    _chunk_count,
    _chunk_nonce,
    _credentials,
    _derive,
    _read_magic,
    _read_upto,
    _Recorder,
    _Replay,
    _rollback_on_failure,
    _sized_source,
    _wipe,
    _wrap_key,
    check_work_factor,
)
from core.crypto.files import _write_atomically, _write_unnamed_then_link
from core.crypto.keys import generate_key
from core.errors import (
    DecryptionError,
    InvalidParameterError,
    ReorderedChunksError,
    TamperedDataError,
    TruncatedFileError,
    UnknownFormatError,
    WrongKeyError,
)
from core.limits import (
    ENCRYPTION_CHUNK_LOG2,
    ENCRYPTION_CHUNK_LOG2_MAX,
    ENCRYPTION_CHUNK_LOG2_MIN,
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)


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
