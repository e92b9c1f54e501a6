"""AppTest of the Decrypt page: each outcome shown as its message, secrets not kept."""

from __future__ import annotations

import io

import pytest

from core import crypto

PAGE = "pages/decrypt.py"
PASS = "a long and private passphrase"
DATA = b"id,age\n1,34\n2,45\n"
KEY = bytes(range(32))


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _upload(at, blob: bytes, name: str = "data.csv.plenc"):
    at.file_uploader(key="decrypt_file").upload(name, blob, "application/octet-stream").run()
    assert not at.exception
    return at


def _pw_blob() -> bytes:
    return crypto.encrypt_bytes(DATA, passphrase=PASS, work_factor=10)


def test_page_waits_for_a_file(page):
    assert "Choose an encrypted file" in page.info[0].value
    assert not page.error


def test_passphrase_file_round_trip(page):
    at = _upload(page, _pw_blob())
    assert "PrivLens v1" in at.markdown[-1].value and "2^10" in at.markdown[-1].value
    at.text_input(key="decrypt_passphrase").input(PASS).run()
    at.button(key="decrypt_go").click().run()
    assert not at.exception and not at.error
    assert f"{len(DATA)} bytes" in at.success[0].value
    assert at.session_state["decrypt_result"]["data"] == DATA
    assert at.session_state["decrypt_result"]["name"] == "data.csv"
    assert at.download_button(key="decrypt_download").label == "Download data.csv"
    assert at.session_state["decrypt_passphrase"] == ""  # the secret is not kept


def test_key_file_round_trip(page):
    at = _upload(page, crypto.encrypt_bytes(DATA, key=KEY), name="export.plenc")
    assert not at.text_input  # no passphrase box for a key file
    at.file_uploader(key="decrypt_keyfile").upload(
        "privlens.key", crypto.key_to_text(KEY).encode(), "text/plain"
    ).run()
    at.button(key="decrypt_go").click().run()
    assert not at.error
    assert at.session_state["decrypt_result"]["data"] == DATA
    assert at.session_state["decrypt_result"]["name"] == "export"


def test_age_file(page):
    out = io.BytesIO()
    crypto.age_encrypt(DATA, out, passphrase=PASS, work_factor=10)
    at = _upload(page, out.getvalue(), name="data.csv.age")
    assert "age v1" in at.markdown[-1].value
    at.text_input(key="decrypt_passphrase").input(PASS).run()
    at.button(key="decrypt_go").click().run()
    assert at.session_state["decrypt_result"]["data"] == DATA


def _corrupt(blob: bytes, at: int) -> bytes:
    b = bytearray(blob)
    b[at] ^= 1
    return bytes(b)


@pytest.mark.parametrize(
    ("blob", "passphrase", "message"),
    [
        (_pw_blob(), "wrong passphrase", "passphrase does not open this file"),
        (_corrupt(_pw_blob(), -3), PASS, "Chunk 1 of 1 failed authentication"),
        (_pw_blob()[:-3], PASS, "ends inside chunk 1 of 1"),
        (_pw_blob() + b"extra", PASS, "follow the final chunk"),
    ],
)
def test_each_failure_is_its_own_message(page, blob, passphrase, message):
    at = _upload(page, blob)
    at.text_input(key="decrypt_passphrase").input(passphrase).run()
    at.button(key="decrypt_go").click().run()
    assert not at.exception
    assert message in at.error[0].value
    assert "decrypt_result" not in at.session_state
    assert not at.get("download_button")
    assert passphrase not in at.error[0].value


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"id,age\n1,34\n", "not a PrivLens or age encrypted file"),
        (b"privlens-encryption/v9\n" + bytes(200), "version 'v9'"),
        (_corrupt(_pw_blob(), 30), "header is damaged"),
    ],
)
def test_unreadable_files_are_explained_on_upload(page, blob, message):
    at = _upload(page, blob)
    assert message in at.error[0].value
    assert not at.get("button")


def test_work_factor_over_cap(page):
    b = bytearray(_pw_blob())
    b[25] = 24
    import hashlib

    b[146:162] = hashlib.sha256(b[:146]).digest()[:16]
    at = _upload(page, bytes(b))
    at.text_input(key="decrypt_passphrase").input(PASS).run()
    at.button(key="decrypt_go").click().run()
    assert "above the limit of 2^20" in at.error[0].value


def test_bad_key_file_and_wrong_key(page):
    at = _upload(page, crypto.encrypt_bytes(DATA, key=KEY))
    at.button(key="decrypt_go").click().run()
    assert "Upload the key file" in at.error[0].value
    at.file_uploader(key="decrypt_keyfile").upload("k.key", b"not a key", "text/plain").run()
    at.button(key="decrypt_go").click().run()
    assert "0 key line(s)" in at.error[0].value
    other = crypto.key_to_text(bytes(32)).encode()
    at.file_uploader(key="decrypt_keyfile").upload("k.key", other, "text/plain").run()
    at.button(key="decrypt_go").click().run()
    assert "key does not open this file" in at.error[0].value
