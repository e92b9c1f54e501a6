"""age v1 files with one passphrase (scrypt) recipient, which any age tool opens."""

from __future__ import annotations

import base64
import hmac
import os
import re
from typing import BinaryIO

from Crypto.Cipher import ChaCha20_Poly1305
from Crypto.Protocol.KDF import scrypt

from core.crypto.common import (
    _ZERO_NONCE,
    AGE_MAGIC,
    FORMAT_AGE,
    TAG_BYTES,
    DecryptResult,
    _as_reader,
    _check_range,
    _chunk_nonce,
    _hkdf,
    _read_upto,
    check_work_factor,
)
from core.errors import (
    InvalidParameterError,
    TamperedDataError,
    TruncatedFileError,
    UnknownFormatError,
    WrongKeyError,
)
from core.limits import (
    SCRYPT_WORK_FACTOR_DEFAULT,
    SCRYPT_WORK_FACTOR_MAX,
    SCRYPT_WORK_FACTOR_MIN,
)

_AGE_CHUNK = 64 * 1024
_AGE_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_AGE_MAX_HEADER = 64 * 1024
_AGE_B64 = re.compile(rb"^[A-Za-z0-9+/]*$")


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
    >>> import io
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
    from core.crypto.stream import decrypt_bytes  # the reader of both formats

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
