"""Tests of the PrivLens v1 file format in core.crypto: round trips, tampering, errors, leaks."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import crypto
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
from core.limits import SCRYPT_WORK_FACTOR_DEFAULT, SCRYPT_WORK_FACTOR_MAX

PASS = "correct horse battery staple"
KEY = bytes(range(32))
C = 1 << 16  # smallest chunk size: many chunks with little data
HDR = crypto.HEADER_BYTES
W = 10  # small scrypt work factor keeps the tests fast


def _data(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


def _enc(data: bytes, **kw: object) -> bytes:
    if "passphrase" not in kw:
        kw.setdefault("key", KEY)
    kw.setdefault("chunk_log2", 16)
    return crypto.encrypt_bytes(data, **kw)  # type: ignore[arg-type]


def _chunk_span(i: int, length: int) -> tuple[int, int]:
    """Byte range of chunk i of a file with a 64 KiB chunk size."""
    n = max(1, -(-length // C))
    start = HDR + i * (C + 16)
    size = (C if i < n - 1 else length - (n - 1) * C) + 16
    return start, start + size


def _fix_checksum(blob: bytearray) -> bytearray:
    blob[146:162] = hashlib.sha256(blob[:146]).digest()[:16]
    return blob


# --- round trips ---------------------------------------------------------------------------

SIZES = st.one_of(
    st.sampled_from([0, 1, C - 1, C, C + 1, 2 * C, 3 * C, 3 * C + 1]),  # edges, exactly k chunks
    st.integers(min_value=0, max_value=4 * C),
)


@settings(max_examples=40, deadline=None)
@given(size=SIZES, seed=st.integers(0, 2**32))
def test_round_trip_with_key(size: int, seed: int) -> None:
    data = _data(size, seed)
    blob = _enc(data)
    n = max(1, -(-size // C))
    assert len(blob) == HDR + size + 16 * n  # layout of docs/encryption-format.md
    assert crypto.decrypt_bytes(blob, key=KEY) == data


@settings(max_examples=10, deadline=None)
@given(size=st.sampled_from([0, 1, C, 2 * C + 5]), pw=st.text(min_size=1, max_size=40))
def test_round_trip_with_any_passphrase(size: int, pw: str) -> None:
    data = _data(size)
    blob = _enc(data, key=None, passphrase=pw, work_factor=W)
    assert crypto.decrypt_bytes(blob, passphrase=pw) == data


@settings(max_examples=5, deadline=None)
@given(
    size=st.one_of(
        st.sampled_from([2 * 2**20, 3 * 2**20]),  # exactly k chunks of 1 MiB
        st.integers(min_value=2 * 2**20, max_value=6 * 2**20),
    ),
    seed=st.integers(0, 2**32),
)
def test_round_trip_several_mib(size: int, seed: int) -> None:
    data = _data(size, seed)
    blob = crypto.encrypt_bytes(data, key=KEY)
    assert len(blob) == HDR + size + 16 * max(1, -(-size // 2**20))
    assert crypto.decrypt_bytes(blob, key=KEY) == data


def test_round_trip_several_mib_default_chunk_size() -> None:
    data = _data(5 * 2**20 + 3)
    blob = crypto.encrypt_bytes(data, key=KEY)
    info = crypto.inspect_file(blob)
    assert (info.chunk_size, info.plaintext_bytes, info.needs) == (2**20, len(data), "key")
    assert crypto.decrypt_bytes(blob, key=KEY) == data


def test_round_trip_streams_and_files(tmp_path) -> None:
    data = _data(3 * C + 7)
    src = tmp_path / "plain.bin"
    src.write_bytes(data)
    crypto.encrypt_file(src, tmp_path / "x.plenc", passphrase=PASS, work_factor=W, chunk_log2=16)
    result = crypto.decrypt_file(tmp_path / "x.plenc", tmp_path / "back.bin", passphrase=PASS)
    assert (tmp_path / "back.bin").read_bytes() == data
    assert (result.plaintext_bytes, result.chunks, result.work_factor) == (len(data), 4, W)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.bin", "plain.bin", "x.plenc"]


class _Pipe(io.RawIOBase):
    """A non-seekable stream that returns short reads, like a pipe or socket."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)
        self.written = bytearray()

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        chunk = self._buf.read(min(len(b), 1000))
        b[: len(chunk)] = chunk
        return len(chunk)

    def write(self, b) -> int:  # type: ignore[no-untyped-def]
        self.written += b
        return len(b)


def test_non_seekable_input_and_output() -> None:
    data = _data(2 * C + 9)
    out = io.BytesIO()
    crypto.encrypt(_Pipe(data), out, key=KEY, chunk_log2=16)  # type: ignore[arg-type]
    sink = _Pipe(b"")
    crypto.decrypt(_Pipe(out.getvalue()), sink, key=KEY)  # type: ignore[arg-type]
    assert bytes(sink.written) == data


def test_default_work_factor_and_random_salts() -> None:
    a = crypto.encrypt_bytes(b"same", passphrase=PASS)
    b = crypto.encrypt_bytes(b"same", passphrase=PASS)
    assert crypto.inspect_file(a).work_factor == SCRYPT_WORK_FACTOR_DEFAULT == 17
    assert a != b and a[34:66] != b[34:66]  # fresh salt and payload nonce every time
    assert crypto.decrypt_bytes(a, passphrase=PASS) == b"same"


def test_passphrase_is_nfc_normalised() -> None:
    composed, decomposed = "caf\u00e9 au lait", "cafe\u0301 au lait"
    blob = _enc(b"x", key=None, passphrase=composed, work_factor=W)
    assert crypto.decrypt_bytes(blob, passphrase=decomposed) == b"x"


# --- tampering: each case raises its own clear error -----------------------------------------

LEN = 3 * C + 100  # four chunks, the last one short
PLAIN = _data(LEN, 1)
BLOB = _enc(PLAIN)


@pytest.mark.parametrize(
    ("offset", "error", "match"),
    [
        (0, UnknownFormatError, "not a PrivLens or age"),  # magic
        (21, UnknownFormatError, "version"),  # "v1" -> another version
        (23, TamperedDataError, "checksum"),  # mode
        (24, TamperedDataError, "checksum"),  # chunk size
        (26 + 7, TamperedDataError, "checksum"),  # length
        (40, TamperedDataError, "checksum"),  # salt
        (55, TamperedDataError, "checksum"),  # payload nonce
        (80, TamperedDataError, "checksum"),  # wrapped key
        (120, TamperedDataError, "checksum"),  # header MAC
        (150, TamperedDataError, "checksum"),  # checksum itself
    ],
)
def test_flipped_header_byte(offset: int, error: type, match: str) -> None:
    blob = bytearray(BLOB)
    blob[offset] ^= 0x01
    with pytest.raises(error, match=match):
        crypto.decrypt_bytes(bytes(blob), key=KEY)


@pytest.mark.parametrize(
    ("offset", "error"),
    [
        (30, WrongKeyError),  # forged length: the wrapped key's associated data no longer matches
        (40, WrongKeyError),  # forged salt: derives another wrapping key
        (120, TamperedDataError),  # forged header MAC
    ],
)
def test_forged_header_with_recomputed_checksum(offset: int, error: type) -> None:
    blob = bytearray(BLOB)
    blob[offset] ^= 0x80
    with pytest.raises(error):
        crypto.decrypt_bytes(bytes(_fix_checksum(blob)), key=KEY)


@pytest.mark.parametrize("chunk", [0, 1, 3])
@pytest.mark.parametrize("where", ["first", "middle", "tag"])
def test_flipped_payload_byte(chunk: int, where: str) -> None:
    start, end = _chunk_span(chunk, LEN)
    pos = {"first": start, "middle": (start + end) // 2, "tag": end - 1}[where]
    blob = bytearray(BLOB)
    blob[pos] ^= 0x40
    with pytest.raises(TamperedDataError, match=f"Chunk {chunk + 1} of 4 failed") as info:
        crypto.decrypt_bytes(bytes(blob), key=KEY)
    assert type(info.value) is TamperedDataError


@pytest.mark.parametrize("boundary", [1, 2, 3])
def test_truncated_at_chunk_boundary(boundary: int) -> None:
    cut = _chunk_span(boundary, LEN)[0]
    with pytest.raises(TruncatedFileError, match=f"chunk boundary after chunk {boundary} of 4"):
        crypto.decrypt_bytes(BLOB[:cut], key=KEY)


def test_truncated_after_header_and_inside_header() -> None:
    with pytest.raises(TruncatedFileError, match="after chunk 0 of 4: 4 chunk"):
        crypto.decrypt_bytes(BLOB[:HDR], key=KEY)
    with pytest.raises(TruncatedFileError, match="inside its header"):
        crypto.decrypt_bytes(BLOB[:100], key=KEY)


@pytest.mark.parametrize("cut", [1, 17, C // 2, C + 15])
def test_truncated_inside_a_chunk(cut: int) -> None:
    start = _chunk_span(1, LEN)[0]
    with pytest.raises(TruncatedFileError, match="inside chunk 2 of 4"):
        crypto.decrypt_bytes(BLOB[: start + cut], key=KEY)


def test_truncated_inside_last_chunk() -> None:
    with pytest.raises(TruncatedFileError, match="inside chunk 4 of 4"):
        crypto.decrypt_bytes(BLOB[:-1], key=KEY)


def _chunks(blob: bytes, length: int) -> list[bytes]:
    n = max(1, -(-length // C))
    return [blob[slice(*_chunk_span(i, length))] for i in range(n)]


def test_swapped_chunks() -> None:
    c = _chunks(BLOB, LEN)
    swapped = BLOB[:HDR] + c[1] + c[0] + c[2] + c[3]
    with pytest.raises(
        ReorderedChunksError, match="Chunk 1 of 4 is authentic but belongs at position 2"
    ):
        crypto.decrypt_bytes(swapped, key=KEY)


def test_dropped_and_repeated_chunks() -> None:
    c = _chunks(BLOB, LEN)
    with pytest.raises(ReorderedChunksError, match="Chunk 2 of 4 .* at position 3"):
        crypto.decrypt_bytes(BLOB[:HDR] + c[0] + c[2] + c[3], key=KEY)
    with pytest.raises(ReorderedChunksError, match="Chunk 2 of 4 .* at position 1"):
        crypto.decrypt_bytes(BLOB[:HDR] + c[0] + c[0] + c[2] + c[3], key=KEY)


def test_chunk_from_another_file_is_tampering() -> None:
    other = _enc(PLAIN)  # same key, another file key
    c, d = _chunks(BLOB, LEN), _chunks(other, LEN)
    with pytest.raises(TamperedDataError, match="Chunk 2 of 4 failed"):
        crypto.decrypt_bytes(BLOB[:HDR] + c[0] + d[1] + c[2] + c[3], key=KEY)


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 100, b"y" * 70_000])
def test_appended_bytes(extra: bytes) -> None:
    with pytest.raises(TamperedDataError, match="follow the final chunk"):
        crypto.decrypt_bytes(BLOB + extra, key=KEY)


def test_appended_copy_of_last_chunk() -> None:
    with pytest.raises(TamperedDataError, match="follow the final chunk"):
        crypto.decrypt_bytes(BLOB + _chunks(BLOB, LEN)[-1], key=KEY)


def test_wrong_passphrase_and_wrong_key() -> None:
    blob = _enc(b"secret", key=None, passphrase=PASS, work_factor=W)
    with pytest.raises(WrongKeyError, match="passphrase does not open"):
        crypto.decrypt_bytes(blob, passphrase=PASS + "!")
    with pytest.raises(WrongKeyError, match="key does not open"):
        crypto.decrypt_bytes(BLOB, key=bytes(32))


def test_wrong_kind_of_secret() -> None:
    blob = _enc(b"secret", key=None, passphrase=PASS, work_factor=W)
    with pytest.raises(WrongKeyError, match="protected by a passphrase, not a key file"):
        crypto.decrypt_bytes(blob, key=KEY)
    with pytest.raises(WrongKeyError, match="encrypted with a key file, not a passphrase"):
        crypto.decrypt_bytes(BLOB, passphrase=PASS)


def test_work_factor_over_the_cap_is_refused_before_scrypt() -> None:
    blob = bytearray(_enc(b"x", key=None, passphrase=PASS, work_factor=W))
    blob[25] = 30  # 2^30 x 1 KiB = 1 TiB of scrypt memory if we obeyed
    start = time.perf_counter()
    with pytest.raises(WorkFactorError, match=r"2\^30 \(log2 N = 30\), above the limit of 2\^20"):
        crypto.decrypt_bytes(bytes(_fix_checksum(blob)), passphrase=PASS)
    assert time.perf_counter() - start < 1.0  # refused, not computed (a bound, not a benchmark)
    assert SCRYPT_WORK_FACTOR_MAX == 20


def test_work_factor_cap_is_configurable() -> None:
    blob = _enc(b"x", key=None, passphrase=PASS, work_factor=11)
    with pytest.raises(WorkFactorError, match=r"2\^11 \(log2 N = 11\), above the limit of 2\^10"):
        crypto.decrypt_bytes(blob, passphrase=PASS, max_work_factor=10)
    assert crypto.decrypt_bytes(blob, passphrase=PASS, max_work_factor=11) == b"x"


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (b"", "empty"),
        (b"id,age\n1,34\n", "not a PrivLens or age"),
        (b"privlens-encryption/v2\n" + bytes(200), "version 'v2'"),
        (b"PK\x03\x04" + bytes(300), "not a PrivLens or age"),  # a zip
    ],
)
def test_unknown_format(blob: bytes, match: str) -> None:
    with pytest.raises(UnknownFormatError, match=match):
        crypto.decrypt_bytes(blob, key=KEY)


@pytest.mark.parametrize(("offset", "value"), [(23, 7), (24, 12), (24, 30)])
def test_unknown_mode_or_chunk_size(offset: int, value: int) -> None:
    blob = bytearray(BLOB)
    blob[offset] = value
    with pytest.raises(UnknownFormatError):
        crypto.decrypt_bytes(bytes(_fix_checksum(blob)), key=KEY)


# --- never partial plaintext ------------------------------------------------------------------


def _bad_last_chunk() -> bytes:
    blob = bytearray(BLOB)
    blob[-5] ^= 1
    return bytes(blob)


def test_seekable_output_is_rolled_back() -> None:
    out = io.BytesIO()
    out.write(b"earlier content|")
    with pytest.raises(TamperedDataError, match="Chunk 4 of 4"):
        crypto.decrypt(_bad_last_chunk(), out, key=KEY)
    assert out.getvalue() == b"earlier content|"


def test_non_seekable_output_gets_nothing() -> None:
    sink = _Pipe(b"")
    with pytest.raises(TamperedDataError):
        crypto.decrypt(_bad_last_chunk(), sink, key=KEY)  # type: ignore[arg-type]
    assert sink.written == b""


def test_failed_decrypt_file_leaves_no_file(tmp_path) -> None:
    (tmp_path / "x.plenc").write_bytes(_bad_last_chunk())
    with pytest.raises(TamperedDataError):
        crypto.decrypt_file(tmp_path / "x.plenc", tmp_path / "out.csv", key=KEY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.plenc"]


def test_failed_decrypt_file_keeps_existing_destination(tmp_path) -> None:
    (tmp_path / "x.plenc").write_bytes(BLOB[:-3])
    (tmp_path / "out.csv").write_bytes(b"old")
    with pytest.raises(TruncatedFileError):
        crypto.decrypt_file(tmp_path / "x.plenc", tmp_path / "out.csv", key=KEY)
    assert (tmp_path / "out.csv").read_bytes() == b"old"


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one of passphrase or key; got neither"),
        ({"passphrase": PASS, "key": KEY}, "got both"),
        ({"passphrase": ""}, "non-empty"),
        ({"key": b"short"}, "key must be 32 bytes; got 5 bytes"),
        ({"key": "x" * 32}, "got a str"),
        ({"passphrase": PASS, "work_factor": 9}, r"work_factor must be an integer in \[10, 20\]"),
        ({"passphrase": PASS, "work_factor": 21}, "got 21"),
        ({"key": KEY, "chunk_log2": 15}, r"chunk_log2 must be an integer in \[16, 24\]"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        crypto.encrypt_bytes(b"x", **kwargs)  # type: ignore[arg-type]


# --- keys ---------------------------------------------------------------------------------------


def test_key_text_round_trip_and_checks() -> None:
    key = crypto.generate_key()
    text = crypto.key_to_text(key)
    assert crypto.key_from_text(text) == key
    assert crypto.key_from_text(text.encode()) == key
    assert crypto.key_from_text("\n\n  " + text.splitlines()[-1] + "  \n") == key
    line = text.splitlines()[-1]
    typo = line[:-10] + ("A" if line[-10] != "A" else "B") + line[-9:]
    with pytest.raises(InvalidParameterError, match="damaged"):
        crypto.key_from_text(typo)
    with pytest.raises(InvalidParameterError, match="0 key line"):
        crypto.key_from_text("hello")
    with pytest.raises(InvalidParameterError, match="2 key line"):
        crypto.key_from_text(text + text)
    with pytest.raises(InvalidParameterError, match="not text"):
        crypto.key_from_text(b"\xff\xfe\x00")


def test_generated_keys_are_random() -> None:
    keys = {crypto.generate_key() for _ in range(100)}
    assert len(keys) == 100 and all(len(k) == 32 for k in keys)


# --- leaks --------------------------------------------------------------------------------------


def _all_failures(secret_kw: dict[str, object]) -> list[DecryptionError]:
    """Trigger every decryption failure for a file made with ``secret_kw``; return the errors."""
    extra = {"work_factor": W} if "passphrase" in secret_kw else {}
    base = _enc(PLAIN, **secret_kw, **extra)
    bad = bytearray(base)
    bad[-5] ^= 1
    c = _chunks(base, LEN)
    wrong = {"passphrase": "wrong " + PASS} if "passphrase" in secret_kw else {"key": KEY[::-1]}
    other_kind = {"key": KEY} if "passphrase" in secret_kw else {"passphrase": PASS}
    cases = [
        (base, wrong),
        (base, other_kind),
        (bytes(bad), secret_kw),
        (base[:-7], secret_kw),
        (base[: _chunk_span(2, LEN)[0]], secret_kw),
        (base[:HDR] + c[1] + c[0] + c[2] + c[3], secret_kw),
        (base + b"zz", secret_kw),
        (b"garbage", secret_kw),
    ]
    if "passphrase" in secret_kw:
        over = bytearray(base)
        over[25] = 25
        cases.append((bytes(_fix_checksum(over)), secret_kw))
    else:
        forged = bytearray(base)
        forged[120] ^= 1
        cases.append((bytes(_fix_checksum(forged)), secret_kw))
    errors = []
    for blob, kw in cases:
        with pytest.raises(DecryptionError) as info:
            crypto.decrypt_bytes(blob, **kw)  # type: ignore[arg-type]
        errors.append(info.value)
    return errors


def test_no_secret_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors = _all_failures({"passphrase": PASS}) + _all_failures({"key": KEY})
    assert len(errors) == 18
    key_forms = [KEY.hex(), KEY.hex().upper(), crypto.key_to_text(KEY).splitlines()[-1][16:]]
    text = " ".join(str(e) + repr(e) for e in errors) + caplog.text
    for secret in [PASS, "wrong " + PASS, *key_forms, bytes(reversed(KEY)).hex()]:
        assert secret not in text
    for secret in ["correct", "horse", "staple"]:
        assert secret not in text.lower()
    assert str(KEY) not in text and repr(KEY) not in text
    for exc in errors:  # no plaintext either
        assert PLAIN[:16].hex() not in str(exc)


def test_secrets_not_kept_in_results() -> None:
    blob = _enc(b"x", key=None, passphrase=PASS, work_factor=W)
    out = io.BytesIO()
    result = crypto.decrypt(blob, out, passphrase=PASS)
    info = crypto.inspect_file(blob)
    assert PASS not in repr(result) + repr(info)


def test_format_is_not_age() -> None:
    assert crypto.MAGIC != crypto.AGE_MAGIC and not BLOB.startswith(b"age-encryption.org")
    assert os.path.commonprefix([crypto.MAGIC, crypto.AGE_MAGIC]) == b""
