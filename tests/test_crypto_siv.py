"""AES-SIV column encryption, passphrase strength and KDF reference vectors in core.crypto."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from Crypto.Cipher import AES
from hypothesis import given, settings
from hypothesis import strategies as st

from core import crypto
from core.errors import InvalidParameterError, TamperedDataError, WrongKeyError
from core.limits import PASSPHRASE_MIN_SCORE

KEY = bytes(range(32))


# --- AES-SIV columns ----------------------------------------------------------------------------


def test_rfc5297_deterministic_vector() -> None:
    """RFC 5297 Appendix A.1: the AES-SIV primitive the column functions are built on."""
    key = bytes.fromhex("fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff")
    ad = bytes.fromhex("101112131415161718191a1b1c1d1e1f2021222324252627")
    pt = bytes.fromhex("112233445566778899aabbccddee")
    cipher = AES.new(key, AES.MODE_SIV)
    cipher.update(ad)
    ct, tag = cipher.encrypt_and_digest(pt)
    assert tag.hex() == "85632d07c6e8f37f950acd320a2ecc93"
    assert ct.hex() == "40c02b9690c4dc04daef7f6afe5c"


def test_deterministic_and_joinable() -> None:
    left = pd.DataFrame({"pid": ["p1", "p2", "p3", "p2"], "age": [30, 40, 50, 40]})
    right = pd.DataFrame({"pid": ["p3", "p1", "p9"], "dx": ["a", "b", "c"]})
    plain = left.merge(right, on="pid")
    enc_l = left.assign(pid=crypto.siv_encrypt_column(left["pid"], KEY, context="pid"))
    enc_r = right.assign(pid=crypto.siv_encrypt_column(right["pid"], KEY, context="pid"))
    joined = enc_l.merge(enc_r, on="pid")
    assert joined[["age", "dx"]].equals(plain[["age", "dx"]])
    back = crypto.siv_decrypt_column(joined["pid"], KEY, context="pid")
    assert back.tolist() == plain["pid"].tolist()
    assert (enc_l["pid"] == crypto.siv_encrypt_column(left["pid"], KEY, context="pid")).all()


def test_key_and_context_separate_tokens() -> None:
    s = pd.Series(["p1", "p2"])
    base = crypto.siv_encrypt_column(s, KEY)
    assert not (base == crypto.siv_encrypt_column(s, KEY[::-1])).any()
    assert not (base == crypto.siv_encrypt_column(s, KEY, context="other")).any()
    with pytest.raises(WrongKeyError, match="None of the 2 distinct token"):
        crypto.siv_decrypt_column(base, KEY, context="other")


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.text(max_size=12)),
        min_size=1,
        max_size=30,
    )
)
def test_round_trip_text(values: list[str | None]) -> None:
    s = pd.Series(values, dtype="str", name="id")
    enc = crypto.siv_encrypt_column(s, KEY)
    assert enc.isna().tolist() == s.isna().tolist() and enc.name == "id"
    assert enc.index.equals(s.index)
    back = crypto.siv_decrypt_column(enc, KEY)
    pd.testing.assert_series_equal(back, s, check_dtype=False)
    # equal plaintexts <=> equal tokens
    assert enc.nunique() == s.nunique()


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=20))
def test_round_trip_integers_keep_dtype(values: list[int]) -> None:
    s = pd.Series(values, index=range(10, 10 + len(values)))
    back = crypto.siv_decrypt_column(crypto.siv_encrypt_column(s, KEY), KEY)
    pd.testing.assert_series_equal(back, s)


def test_round_trip_with_missing_integers_and_floats() -> None:
    s = pd.Series([1, None, 3], dtype="Int64")
    back = crypto.siv_decrypt_column(crypto.siv_encrypt_column(s, KEY), KEY)
    pd.testing.assert_series_equal(back, s)
    f = pd.Series([0.1, 2.5, float("nan"), -0.0])
    back_f = crypto.siv_decrypt_column(crypto.siv_encrypt_column(f, KEY), KEY)
    pd.testing.assert_series_equal(back_f, f)


def test_tampered_token() -> None:
    enc = crypto.siv_encrypt_column(pd.Series(["a", "b", "c"], name="pid"), KEY)
    t = enc[1]
    enc[1] = t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1]
    with pytest.raises(TamperedDataError, match="1 of 3 distinct token.*column 'pid'"):
        crypto.siv_decrypt_column(enc, KEY)
    enc[1] = "not base64 at all!"
    with pytest.raises(TamperedDataError):
        crypto.siv_decrypt_column(enc, KEY)


def test_siv_errors_leak_no_values_or_key() -> None:
    s = pd.Series(["alice@example.org", "bob@example.org"], name="email")
    enc = crypto.siv_encrypt_column(s, KEY)
    with pytest.raises(WrongKeyError) as info:
        crypto.siv_decrypt_column(enc, bytes(32))
    msg = str(info.value)
    assert "example.org" not in msg and enc[0] not in msg and KEY.hex() not in msg
    with pytest.raises(InvalidParameterError, match="32 bytes; got 3 bytes"):
        crypto.siv_encrypt_column(s, b"abc")


# --- passphrase strength ---------------------------------------------------------------------


def test_common_password_is_weak() -> None:
    r = crypto.passphrase_strength("password")
    assert r.score == 0 and not r.acceptable
    assert any("common" in f for f in r.feedback)


@pytest.mark.parametrize("pw", ["x9$kQ!2mZ#pL7vR", "q7#Vz!8w"])
def test_unmatched_characters_cost_ten_guesses_each(pw: str) -> None:
    """zxcvbn's brute-force model (Wheeler 2016, section 4): 10 guesses per character."""
    r = crypto.passphrase_strength(pw)
    assert r.guesses_log10 == pytest.approx(len(pw))
    assert r.bits == pytest.approx(len(pw) * math.log2(10))
    assert r.crack_seconds == pytest.approx(10.0 ** len(pw) / 1e4)


def test_long_passphrase_is_acceptable_and_empty_is_not() -> None:
    r = crypto.passphrase_strength("correct horse battery staple")
    assert r.score >= PASSPHRASE_MIN_SCORE and r.acceptable
    e = crypto.passphrase_strength("")
    assert (e.score, e.bits, e.acceptable) == (0, 0.0, False)


def test_feedback_does_not_quote_the_passphrase() -> None:
    pw = "Summer2024!"
    r = crypto.passphrase_strength(pw)
    assert all(pw.lower() not in f.lower() and "summer" not in f.lower() for f in r.feedback)
    assert pw not in repr(r)


# --- KDF reference vectors -----------------------------------------------------------------------


def test_hkdf_rfc5869_case_1() -> None:
    ikm = bytes.fromhex("0b" * 22)
    salt = bytes.fromhex("000102030405060708090a0b0c")
    info = bytes.fromhex("f0f1f2f3f4f5f6f7f8f9")
    okm = bytes.fromhex(
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
    )
    assert crypto._hkdf(ikm, salt, info) == okm[:32]


def test_scrypt_rfc7914_vector() -> None:
    from Crypto.Protocol.KDF import scrypt

    out = scrypt(b"password", b"NaCl", 64, 1024, 8, 16)
    assert out.hex().startswith("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
