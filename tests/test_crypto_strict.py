"""What a reader refuses and reports exactly: key text, work factors, chunk positions, plaintext.

The format (docs/encryption-format.md) forbids key tokens with padding or foreign characters
and work factors below what writers use; a misplaced chunk is named by its true position
however long the file is; a decryption to a path never gives unverified plaintext a name.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re

import pytest

from core import crypto
from core.errors import (
    InvalidParameterError,
    ReorderedChunksError,
    TamperedDataError,
    TruncatedFileError,
    WorkFactorError,
    WrongKeyError,
)
from core.limits import SCRYPT_WORK_FACTOR_MAX, SCRYPT_WORK_FACTOR_MIN

PASS = "correct horse battery staple"
KEY = bytes(range(32))
C = 1 << 16
HDR = crypto.HEADER_BYTES
W = 10


def _fix_checksum(blob: bytearray) -> bytearray:
    blob[146:162] = hashlib.sha256(blob[:146]).digest()[:16]
    return blob


# --- key files: only the 48 characters of unpadded base64url -----------------------------------


def _key_with(chars: str) -> tuple[bytes, str]:
    """A key whose key-file token holds every character of ``chars`` (found by counting up)."""
    for i in range(10_000):
        key = hashlib.sha256(str(i).encode()).digest()
        line = crypto.key_to_text(key).splitlines()[-1]
        if all(c in line.split(":", 1)[1] for c in chars):
            return key, line
    raise AssertionError("no such key")


def test_key_token_is_48_base64url_characters() -> None:
    key, line = _key_with("-_")
    token = line.split(":", 1)[1]
    assert len(token) == 48 and re.fullmatch(r"[A-Za-z0-9_-]{48}", token)
    assert crypto.key_from_text(line) == key


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: t + "==", id="padding"),
        pytest.param(lambda t: t + "=", id="one pad character"),
        pytest.param(lambda t: t[:10] + "!!**" + t[10:], id="junk inside"),
        pytest.param(lambda t: t + "!!**", id="junk after"),
        pytest.param(lambda t: t[:24] + " " + t[24:], id="a space inside"),
        pytest.param(lambda t: t.replace("-", "+").replace("_", "/"), id="standard alphabet"),
        pytest.param(lambda t: t[:-4] + "\u0430" + t[-3:], id="a look-alike letter"),
    ],
)
def test_key_text_with_characters_the_spec_forbids_is_refused(damage) -> None:
    _, line = _key_with("-_")
    prefix, token = line.split(":", 1)
    bad = f"{prefix}:{damage(token)}"
    with pytest.raises(InvalidParameterError, match="damaged") as info:
        crypto.key_from_text(bad)
    assert token not in str(info.value) and token[:12] not in str(info.value)


# --- work factors: refused below the writers' minimum and above the cap ------------------------


def _with_work(blob: bytes, work: int) -> bytes:
    head = bytearray(blob)
    head[25] = work
    return bytes(_fix_checksum(head))


@pytest.mark.parametrize("work", [1, 5, SCRYPT_WORK_FACTOR_MIN - 1])
def test_privlens_work_factor_below_the_writers_minimum_is_refused(work: int) -> None:
    blob = crypto.encrypt_bytes(b"x", passphrase=PASS, work_factor=W)
    with pytest.raises(WorkFactorError, match=f"below the minimum of 2\\^{SCRYPT_WORK_FACTOR_MIN}"):
        crypto.decrypt_bytes(_with_work(blob, work), passphrase=PASS)


def test_age_work_factor_below_the_writers_minimum_is_refused(monkeypatch) -> None:
    # A genuine age file at log2 N = 5 (any age library can write one): PrivLens refuses it.
    buf = io.BytesIO()
    with monkeypatch.context() as m:
        m.setattr("core.crypto.age.SCRYPT_WORK_FACTOR_MIN", 1)
        crypto.age_encrypt(b"cheap", buf, passphrase=PASS, work_factor=5)
    assert b"-> scrypt " in buf.getvalue() and b" 5\n" in buf.getvalue()
    with pytest.raises(WorkFactorError, match="below the minimum"):
        crypto.decrypt_bytes(buf.getvalue(), passphrase=PASS)


@pytest.mark.parametrize("work", [21, 64, 255])
def test_work_factor_message_names_log2_n_and_the_cap_not_a_huge_number(work: int) -> None:
    blob = crypto.encrypt_bytes(b"x", passphrase=PASS, work_factor=W)
    with pytest.raises(WorkFactorError) as info:
        crypto.decrypt_bytes(_with_work(blob, work), passphrase=PASS)
    message = str(info.value)
    assert f"log2 N = {work}" in message and f"2^{SCRYPT_WORK_FACTOR_MAX}" in message
    assert not re.search(r"\d{5,}", message.replace(",", "")), message


def test_check_work_factor_is_the_one_rule() -> None:
    for ok in (SCRYPT_WORK_FACTOR_MIN, 17, SCRYPT_WORK_FACTOR_MAX):
        crypto.check_work_factor(ok)
    for bad in (0, SCRYPT_WORK_FACTOR_MIN - 1, SCRYPT_WORK_FACTOR_MAX + 1):
        with pytest.raises(WorkFactorError):
            crypto.check_work_factor(bad)
    crypto.check_work_factor(22, cap=22)


# --- reordered chunks: the true position, at any distance --------------------------------------


class _Zeros(io.RawIOBase):
    """A seekable stream of ``size`` zero bytes that holds none of them in memory."""

    def __init__(self, size: int) -> None:
        self.size, self.pos = size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: offset, 1: self.pos + offset, 2: self.size + offset}[whence]
        return self.pos

    def read(self, n: int = -1) -> bytes:
        n = self.size - self.pos if n < 0 else min(n, self.size - self.pos)
        self.pos += n
        return bytes(n)


class _Keep(io.RawIOBase):
    """A sink that keeps only the byte ranges asked for."""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.ranges, self.pos = ranges, 0
        self.kept = {r: bytearray() for r in ranges}

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        b = bytes(b)
        end = self.pos + len(b)
        for lo, hi in self.ranges:
            if self.pos < hi and end > lo:
                self.kept[(lo, hi)] += b[max(lo, self.pos) - self.pos : min(hi, end) - self.pos]
        self.pos = end
        return len(b)


def test_a_chunk_moved_from_beyond_4096_positions_is_reported_at_its_true_position() -> None:
    n = 4200  # chunks of 64 KiB: 275 MB of plaintext, encrypted but never held
    far = 4099
    span = (HDR + far * (C + 16), HDR + (far + 1) * (C + 16))
    sink = _Keep([(0, HDR), span])
    crypto.encrypt(_Zeros(n * C), sink, key=KEY, chunk_log2=16)
    assert sink.pos == HDR + n * (C + 16)
    # The file's first chunk is replaced by its chunk 4100.
    blob = bytes(sink.kept[(0, HDR)]) + bytes(sink.kept[span])
    with pytest.raises(ReorderedChunksError, match=f"Chunk 1 of {n} .* belongs at position 4100"):
        crypto.decrypt_bytes(blob, key=KEY)


def test_every_misplaced_chunk_names_its_position_exactly() -> None:
    n = 6
    data = os.urandom(n * C - 100)  # the last chunk is shorter
    blob = crypto.encrypt_bytes(data, key=KEY, chunk_log2=16)
    chunks = [blob[HDR + i * (C + 16) : HDR + (i + 1) * (C + 16)] for i in range(n)]
    for i in range(n - 1):  # a full-size slot
        for j in range(n - 1):  # a full-size chunk (the short last one cannot fit a full slot)
            if i == j:
                continue
            moved = list(chunks)
            moved[i] = chunks[j]
            with pytest.raises(ReorderedChunksError, match=f"belongs at position {j + 1}"):
                crypto.decrypt_bytes(blob[:HDR] + b"".join(moved), key=KEY)


def test_last_chunk_moved_forward_and_foreign_chunks() -> None:
    blob = crypto.encrypt_bytes(os.urandom(3 * C), key=KEY, chunk_log2=16)  # 3 full chunks
    c = [blob[HDR + i * (C + 16) : HDR + (i + 1) * (C + 16)] for i in range(3)]
    with pytest.raises(ReorderedChunksError, match="Chunk 1 of 3 .* position 3"):
        crypto.decrypt_bytes(blob[:HDR] + c[2] + c[1] + c[0], key=KEY)
    other = crypto.encrypt_bytes(os.urandom(3 * C), key=KEY, chunk_log2=16)
    foreign = other[HDR + C + 16 : HDR + 2 * (C + 16)]
    with pytest.raises(TamperedDataError) as info:
        crypto.decrypt_bytes(blob[:HDR] + c[0] + foreign + c[2], key=KEY)
    assert not isinstance(info.value, ReorderedChunksError)
    flipped = bytearray(c[1])
    flipped[-1] ^= 1  # the tag: no position opens it
    with pytest.raises(TamperedDataError, match="Chunk 2 of 3 failed") as info:
        crypto.decrypt_bytes(blob[:HDR] + c[0] + bytes(flipped) + c[2], key=KEY)
    assert not isinstance(info.value, ReorderedChunksError)


# --- the wrong kind of secret: one message, wherever it is raised -------------------------------


def test_wrong_kind_messages_come_from_one_place() -> None:
    pblob = crypto.encrypt_bytes(b"x", passphrase=PASS, work_factor=W)
    kblob = crypto.encrypt_bytes(b"x", key=KEY)
    abuf = io.BytesIO()
    crypto.age_encrypt(b"x", abuf, passphrase=PASS, work_factor=W)
    cases = [(pblob, {"key": KEY}), (kblob, {"passphrase": PASS}), (abuf.getvalue(), {"key": KEY})]
    for blob, secret in cases:
        with pytest.raises(WrongKeyError) as info:
            crypto.decrypt_bytes(blob, **secret)
        expected = crypto.wrong_secret_kind(crypto.inspect_file(blob))
        assert isinstance(expected, WrongKeyError) and str(info.value) == str(expected)


# --- decrypting to a path: unverified plaintext never has a name -------------------------------


def _names(d) -> list[str]:
    return sorted(p.name for p in d.iterdir())


class _Watched(io.RawIOBase):
    """An in-memory source that lists a folder each time the decryptor reads from it."""

    def __init__(self, blob: bytes, folder) -> None:
        self.src, self.folder, self.seen = io.BytesIO(blob), folder, []

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        self.seen.append(_names(self.folder))
        return self.src.read(n)


@pytest.mark.parametrize("tmpfile", [True, False], ids=["O_TMPFILE", "unlinked temporary"])
def test_decrypt_file_gives_the_plaintext_a_name_only_after_it_verified(
    tmp_path, monkeypatch, tmpfile
) -> None:
    if not tmpfile:
        monkeypatch.setattr("core.crypto.files._O_TMPFILE", 0)
    data = os.urandom(3 * C + 5)
    blob = crypto.encrypt_bytes(data, key=KEY, chunk_log2=16)
    out = tmp_path / "out.bin"
    # The last chunk is cut: the first three verify and are written before the failure.
    src = _Watched(blob[:-20], tmp_path)
    with pytest.raises(TruncatedFileError):
        crypto.decrypt_file(src, out, key=KEY)
    assert len(src.seen) >= 5 and all(names == [] for names in src.seen)
    assert _names(tmp_path) == []
    src = _Watched(blob, tmp_path)
    result = crypto.decrypt_file(src, out, key=KEY)
    assert all(names == [] for names in src.seen)
    assert out.read_bytes() == data and result.chunks == 4
    assert _names(tmp_path) == ["out.bin"] and out.stat().st_mode & 0o777 == 0o600
    # Over an existing file: replaced only once everything verified, and nothing else left.
    out.write_bytes(b"old")
    src = _Watched(blob[:-1], tmp_path)
    with pytest.raises(TruncatedFileError):
        crypto.decrypt_file(src, out, key=KEY)
    assert all(names == ["out.bin"] for names in src.seen) and out.read_bytes() == b"old"
    crypto.decrypt_file(io.BytesIO(blob), out, key=KEY)
    assert out.read_bytes() == data and _names(tmp_path) == ["out.bin"]


def test_decrypt_file_reads_a_stream_once(tmp_path) -> None:
    data = os.urandom(2 * C + 1)
    blob = crypto.encrypt_bytes(data, passphrase=PASS, work_factor=W, chunk_log2=16)
    info, stream = crypto.inspect_stream(io.BufferedReader(io.BytesIO(blob)))  # type: ignore[arg-type]
    assert (info.needs, info.work_factor, info.plaintext_bytes) == ("passphrase", W, len(data))
    crypto.decrypt_file(stream, tmp_path / "out", passphrase=PASS)
    assert (tmp_path / "out").read_bytes() == data
    abuf = io.BytesIO()
    crypto.age_encrypt(data, abuf, passphrase=PASS, work_factor=W)
    info, stream = crypto.inspect_stream(io.BytesIO(abuf.getvalue()))
    assert info.format == crypto.FORMAT_AGE
    assert crypto.decrypt_bytes(stream, passphrase=PASS) == data


def test_base64_of_the_key_is_not_in_any_message() -> None:
    token = base64.urlsafe_b64encode(KEY).decode().rstrip("=")
    with pytest.raises(InvalidParameterError) as info:
        crypto.key_from_text("privlens-key-v1:" + token + "==")
    assert token[:16] not in str(info.value)
