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

The parts: :mod:`core.crypto.stream` (the PrivLens format), :mod:`core.crypto.age`,
:mod:`core.crypto.siv`, :mod:`core.crypto.keys` (keys, key files, passphrase strength),
:mod:`core.crypto.files` (output files that get a name only when complete) and
:mod:`core.crypto.common` (constants, results, shared helpers). Import from
``core.crypto``; the parts may move.
"""

from __future__ import annotations

from core.crypto.age import age_decrypt, age_encrypt
from core.crypto.common import _OFF_CHECK as _OFF_CHECK  # header layout, for tests
from core.crypto.common import _OFF_WORK as _OFF_WORK
from core.crypto.common import (
    AGE_MAGIC,
    FORMAT_AGE,
    FORMAT_PRIVLENS,
    HEADER_BYTES,
    KEY_BYTES,
    MAGIC,
    TAG_BYTES,
    DecryptResult,
    EncryptedFileInfo,
    check_work_factor,
)
from core.crypto.common import _hkdf as _hkdf
from core.crypto.keys import (
    StrengthReport,
    generate_key,
    key_from_text,
    key_to_text,
    passphrase_strength,
)
from core.crypto.siv import siv_decrypt_column, siv_encrypt_column
from core.crypto.stream import (
    decrypt,
    decrypt_bytes,
    decrypt_file,
    encrypt,
    encrypt_bytes,
    encrypt_file,
    inspect_file,
    inspect_stream,
    wrong_secret_kind,
)

__all__ = [
    "AGE_MAGIC",
    "FORMAT_AGE",
    "FORMAT_PRIVLENS",
    "HEADER_BYTES",
    "KEY_BYTES",
    "MAGIC",
    "TAG_BYTES",
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
