"""Text printed by the command line carries no terminal control sequences from a file."""

from __future__ import annotations

import io

import pytest

from core.cli import main

ESC_STANZA = b"\x1b[31mred\x1b]0;owned\x07"


def _age_file(stanza_type: bytes) -> bytes:
    return (
        b"age-encryption.org/v1\n-> "
        + stanza_type
        + b" c2FsdA 18\nAAAA\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"
        + bytes(64)
    )


def test_decrypt_error_naming_a_hostile_stanza_type_prints_no_control_characters(tmp_path):
    src = tmp_path / "hostile.age"
    src.write_bytes(_age_file(ESC_STANZA))
    secret = tmp_path / "pass.txt"
    secret.write_text("correct horse battery staple\n")
    out, err = io.StringIO(), io.StringIO()
    argv = ["decrypt", str(src), "-o", str(tmp_path / "p.csv"), "--passphrase-file", str(secret)]
    code = main(argv, stdout=out, stderr=err)
    assert code == 1
    text = err.getvalue()
    assert "recipient stanza" in text  # the message itself is printed
    assert "red" in text and "owned" in text  # the printable part of the type is kept
    assert not any(ch in text for ch in "\x1b\x07\x9b\r")
    assert out.getvalue() == ""


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text\n", "plain text\n"),  # newlines and tabs stay
        ("a\tb\n", "a\tb\n"),
        ("\x1b[2J\x1b[31mred", "[2J[31mred"),  # ESC removed, so nothing is interpreted
        ("x\rhidden", "xhidden"),  # CR would overwrite the line
        ("\x9b31m", "31m"),  # C1 control sequence introducer
        ("abc\u202edcba", "abcdcba"),  # bidi override (reorders what is shown)
        ("bell\x07\x00", "bell"),
    ],
)
def test_printable(raw, shown):
    from core.terminal import printable

    assert printable(raw) == shown
