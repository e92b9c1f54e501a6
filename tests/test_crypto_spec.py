"""An independent decryptor written from docs/encryption-format.md alone.

It uses the `cryptography` package and hashlib, not pycryptodome, so a passing round trip
shows that the spec is complete and that core.crypto follows it byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import unicodedata

import pytest

from core import crypto

pytest.importorskip("cryptography")
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV  # noqa: E402
from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: E402

LABEL = b"privlens-encryption/v1/"


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(hashes.SHA256(), length, salt or None, info).derive(ikm)


def spec_decrypt(blob: bytes, *, passphrase: str | None = None, key: bytes | None = None) -> bytes:
    h = blob[:162]
    assert h[:23] == b"privlens-encryption/v1\n"
    assert hashlib.sha256(h[:146]).digest()[:16] == h[146:162]
    mode, chunk_log2, work = h[23], h[24], h[25]
    length = int.from_bytes(h[26:34], "big")
    salt, payload_nonce = h[34:50], h[50:66]
    if mode == 1:
        assert passphrase is not None
        p = unicodedata.normalize("NFC", passphrase).encode()
        wrap_key = hashlib.scrypt(
            p, salt=LABEL + b"scrypt" + salt, n=2**work, r=8, p=1, dklen=32, maxmem=2**30
        )
    else:
        assert mode == 2 and key is not None
        wrap_key = hkdf(key, salt, LABEL + b"key-wrap")
    file_key = AESGCM(wrap_key).decrypt(bytes(12), h[66:114], h[:66])
    mac = hmac.new(hkdf(file_key, b"", LABEL + b"header"), h[:114], "sha256").digest()
    assert hmac.compare_digest(mac, h[114:146])
    payload_key = AESGCM(hkdf(file_key, payload_nonce, LABEL + b"payload"))
    size = 2**chunk_log2
    n = max(1, -(-length // size))
    out, pos = [], 162
    for i in range(n):
        last = i == n - 1
        clen = (length - (n - 1) * size if last else size) + 16
        nonce = i.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        out.append(payload_key.decrypt(nonce, blob[pos : pos + clen], None))
        pos += clen
    assert pos == len(blob) == 162 + length + 16 * n
    return b"".join(out)


@pytest.mark.parametrize("size", [0, 1, 65536, 65537, 3 * 65536 + 11])
def test_spec_decryptor_opens_key_files(size: int) -> None:
    data = random.Random(size).randbytes(size)
    key = crypto.generate_key()
    assert spec_decrypt(crypto.encrypt_bytes(data, key=key, chunk_log2=16), key=key) == data


def test_spec_decryptor_opens_passphrase_files() -> None:
    data = random.Random(7).randbytes(2**20 + 1)
    pw = "Gr\u00fc\u00dfe aus K\u00f6ln, 2026"
    blob = crypto.encrypt_bytes(data, passphrase=pw, work_factor=10)
    assert spec_decrypt(blob, passphrase=pw) == data


def test_key_text_matches_spec() -> None:
    key = bytes(range(32))
    line = crypto.key_to_text(key).splitlines()[-1]
    import base64

    token = base64.urlsafe_b64encode(key + hashlib.sha256(key).digest()[:4]).rstrip(b"=")
    assert line == "privlens-key-v1:" + token.decode()


@pytest.mark.parametrize(
    ("value", "packed"),
    [("A17", b"sA17"), (42, b"i42"), (-7, b"i-7"), (1.5, b"f0x1.8000000000000p+0")],
)
def test_siv_tokens_match_spec(value: object, packed: bytes) -> None:
    import base64

    import pandas as pd

    key = bytes(range(32))
    token = crypto.siv_encrypt_column(pd.Series([value]), key, context="patients")[0]
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    siv = AESSIV(hkdf(key, b"", LABEL + b"column-siv", 64))
    # RFC 5297 output, as cryptography produces it: the 16-byte SIV, then the ciphertext.
    assert siv.decrypt(raw, [b"patients"]) == packed


def _spec_position(blob: bytes, key: bytes, chunk: bytes, n: int, i: int) -> int | None:
    """Step 8 read literally: the other position j whose nonce opens ``chunk``, tried in turn."""
    from cryptography.exceptions import InvalidTag

    h = blob[:162]
    wrap_key = hkdf(key, h[34:50], LABEL + b"key-wrap")
    file_key = AESGCM(wrap_key).decrypt(bytes(12), h[66:114], h[:66])
    payload = AESGCM(hkdf(file_key, h[50:66], LABEL + b"payload"))
    for j in range(n):
        if j == i:
            continue
        nonce = j.to_bytes(11, "big") + (b"\x01" if j == n - 1 else b"\x00")
        try:
            payload.decrypt(nonce, chunk, None)
        except InvalidTag:
            continue
        return j
    return None


def test_reorder_diagnosis_matches_trying_every_position() -> None:
    from core.errors import ReorderedChunksError, TamperedDataError

    rng = random.Random(12)
    key = crypto.generate_key()
    n, size = 7, 65536
    blob = crypto.encrypt_bytes(rng.randbytes(n * size), key=key, chunk_log2=16)
    other = crypto.encrypt_bytes(rng.randbytes(n * size), key=key, chunk_log2=16)
    span = size + 16
    chunks = [blob[162 + k * span : 162 + (k + 1) * span] for k in range(n)]
    flipped = bytearray(chunks[3])
    flipped[100] ^= 1
    candidates = [*chunks, other[162 + 2 * span : 162 + 3 * span], bytes(flipped)]
    for i in range(n):
        for chunk in candidates:
            if chunk == chunks[i]:
                continue
            moved = [*chunks[:i], chunk, *chunks[i + 1 :]]
            expected = _spec_position(blob, key, chunk, n, i)
            with pytest.raises(TamperedDataError) as info:
                crypto.decrypt_bytes(blob[:162] + b"".join(moved), key=key)
            if expected is None:
                assert not isinstance(info.value, ReorderedChunksError), (i, str(info.value))
            else:
                assert isinstance(info.value, ReorderedChunksError)
                assert f"belongs at position {expected + 1}:" in str(info.value)
