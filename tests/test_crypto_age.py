"""age v1 interoperability of core.crypto, checked against pyrage (the rage implementation)."""

from __future__ import annotations

import io
import random

import pytest

from core import crypto
from core.errors import (
    TamperedDataError,
    TruncatedFileError,
    UnknownFormatError,
    WorkFactorError,
    WrongKeyError,
)

pyrage = pytest.importorskip("pyrage")  # test-only dependency, pinned in requirements-dev.txt

PASS = "tr\u00e8s long passphrase 42"
AGE_CHUNK = 64 * 1024
SIZES = [0, 1, AGE_CHUNK - 1, AGE_CHUNK, AGE_CHUNK + 1, 3 * AGE_CHUNK, 200_001]


def _data(size: int) -> bytes:
    return random.Random(size).randbytes(size)


def _age(data: bytes, work_factor: int = 10) -> bytes:
    out = io.BytesIO()
    crypto.age_encrypt(data, out, passphrase=PASS, work_factor=work_factor)
    return out.getvalue()


@pytest.mark.parametrize("size", SIZES)
def test_rage_decrypts_our_age_files(size: int) -> None:
    data = _data(size)
    assert pyrage.passphrase.decrypt(_age(data), PASS) == data


RAGE_SIZES = [0, AGE_CHUNK, 3 * AGE_CHUNK + 1]  # few: rage calibrates scrypt to ~1 s per file


@pytest.fixture(scope="module")
def rage_files() -> dict[int, bytes]:
    return {size: pyrage.passphrase.encrypt(_data(size), PASS) for size in RAGE_SIZES}


def _rage_work_factor(blob: bytes) -> int:
    return int(blob.split(b"\n")[1].split(b" ")[3])


@pytest.mark.parametrize("size", RAGE_SIZES)
def test_we_decrypt_rage_files(size: int, rage_files: dict[int, bytes]) -> None:
    blob = rage_files[size]
    cap = max(20, _rage_work_factor(blob))  # rage picks 18-19 here, by timing
    if size == 0:
        assert crypto.decrypt_bytes(blob, passphrase=PASS, max_work_factor=cap) == b""
    else:
        assert crypto.age_decrypt(blob, passphrase=PASS, max_work_factor=cap) == _data(size)
    info = crypto.inspect_file(blob)
    assert (info.format, info.needs, info.plaintext_bytes) == ("age-v1", "passphrase", None)


def test_rage_rejects_wrong_passphrase_on_our_file() -> None:
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(_age(b"x"), PASS + "?")


def test_rage_does_not_take_a_privlens_file_for_age() -> None:
    blob = crypto.encrypt_bytes(b"x", passphrase=PASS, work_factor=10)
    with pytest.raises(pyrage.DecryptError):
        pyrage.passphrase.decrypt(blob, PASS)


def test_our_age_header_follows_the_spec() -> None:
    blob = _age(b"hello", work_factor=12)
    lines = blob.split(b"\n")
    assert lines[0] == b"age-encryption.org/v1"
    kind, salt, work = lines[1].split(b" ")[1:]
    assert (kind, work, len(salt)) == (b"scrypt", b"12", 22)  # 16 bytes, unpadded base64
    assert len(lines[2]) == 43 and lines[3].startswith(b"--- ")  # 32-byte body, 32-byte MAC
    assert crypto.inspect_file(blob).work_factor == 12


def test_wrong_passphrase() -> None:
    with pytest.raises(WrongKeyError, match="passphrase does not open this age file"):
        crypto.age_decrypt(_age(b"x"), passphrase="nope")


def test_key_file_for_an_age_file() -> None:
    with pytest.raises(WrongKeyError, match="age file is protected by a passphrase"):
        crypto.decrypt_bytes(_age(b"x"), key=bytes(32))


def test_work_factor_over_cap(rage_files: dict[int, bytes]) -> None:
    blob = rage_files[0]
    work = _rage_work_factor(blob)
    with pytest.raises(
        WorkFactorError, match=rf"2\^{work} \(log2 N = {work}\), above the limit of 2\^{work - 1}"
    ):
        crypto.age_decrypt(blob, passphrase=PASS, max_work_factor=work - 1)
    hostile = _age(b"x").replace(b" 10\n", b" 25\n", 1)  # refused before any scrypt work
    with pytest.raises(WorkFactorError, match=r"2\^25 \(log2 N = 25\), above the limit of 2\^20"):
        crypto.age_decrypt(hostile, passphrase=PASS)


def test_flipped_payload_byte() -> None:
    blob = bytearray(_age(_data(2 * AGE_CHUNK + 5)))
    blob[-100] ^= 1
    with pytest.raises(TamperedDataError, match="Chunk 2 of the age file"):
        crypto.age_decrypt(bytes(blob), passphrase=PASS)


def test_flipped_header_mac() -> None:
    blob = _age(b"data")
    i = blob.index(b"--- ") + 5
    b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    forged = blob[:i] + bytes([b64[(b64.index(blob[i]) + 1) % 64]]) + blob[i + 1 :]
    with pytest.raises((TamperedDataError, UnknownFormatError)):
        crypto.age_decrypt(forged, passphrase=PASS)


def test_truncated_at_chunk_boundary() -> None:
    data = _data(2 * AGE_CHUNK + 5)
    blob = _age(data)
    cut = len(blob) - (5 + 16)  # drop the final short chunk: ends after a full chunk
    with pytest.raises(TruncatedFileError, match="chunk boundary"):
        crypto.age_decrypt(blob[:cut], passphrase=PASS)


def test_swapped_chunks() -> None:
    blob = _age(_data(3 * AGE_CHUNK + 5))
    body_start = len(blob) - (3 * (AGE_CHUNK + 16) + 5 + 16)
    c = [
        blob[body_start + i * (AGE_CHUNK + 16) : body_start + (i + 1) * (AGE_CHUNK + 16)]
        for i in range(3)
    ]
    swapped = blob[:body_start] + c[1] + c[0] + c[2] + blob[body_start + 3 * (AGE_CHUNK + 16) :]
    with pytest.raises(TamperedDataError, match="Chunk 1 of the age file"):
        crypto.age_decrypt(swapped, passphrase=PASS)


def test_other_recipient_types_are_refused() -> None:
    identity = pyrage.x25519.Identity.generate()
    blob = pyrage.encrypt(b"x", [identity.to_public()])
    with pytest.raises(UnknownFormatError, match="X25519"):
        crypto.age_decrypt(blob, passphrase=PASS)


def test_empty_passphrase_refused() -> None:
    from core.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="non-empty"):
        crypto.age_encrypt(b"x", io.BytesIO(), passphrase="")
