"""Encrypt a weights file with the project's file formats.

The file is first opened with :func:`core.weights.open_weights` (so a pickle or a damaged
file is refused before anything is written), then encrypted byte for byte, streaming, in the
PrivLens AES-256-GCM format (``docs/encryption-format.md``) or as an age v1 file.
``python -m core decrypt`` and the Decrypt page open the result, and so does any
implementation of those formats: nothing about weights is added to them.
:func:`encrypt_weights_bytes` does the same in memory, for an upload.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from core.errors import WeightsError
from core.limits import SCRYPT_WORK_FACTOR_DEFAULT
from core.weights.intake import open_weights


def encrypt_weights(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
) -> int:
    """Encrypt the weights file ``src`` to ``dst``; return the bytes written.

    Raises
    ------
    WeightsError
        ``src`` is not a weights file PrivLens reads, or ``dst`` is ``src``.
    InvalidParameterError
        Neither or both of ``passphrase`` / ``key``, ``age`` with a key, or a work factor
        outside [10, 20].
    """
    from core import crypto
    from core.crypto.files import _write_atomically

    s, d = Path(src), Path(dst)
    if d.exists() and d.resolve() == s.resolve():
        raise WeightsError("The output is the input file itself. Choose another output name.")
    open_weights(s)
    if age:
        if passphrase is None or key is not None:
            from core.errors import InvalidParameterError

            raise InvalidParameterError("An age file is encrypted with a passphrase only.")
        with s.open("rb") as fin:
            _write_atomically(
                d,
                lambda out: crypto.age_encrypt(
                    fin, out, passphrase=passphrase, work_factor=work_factor
                ),
            )
    else:
        crypto.encrypt_file(s, d, passphrase=passphrase, key=key, work_factor=work_factor)
    return d.stat().st_size


def encrypt_weights_bytes(
    data: bytes | bytearray | memoryview,
    *,
    name: str,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    work_factor: int = SCRYPT_WORK_FACTOR_DEFAULT,
) -> bytes:
    """The weights file ``data`` (named ``name``) encrypted in memory, as :func:`encrypt_weights`
    writes it: nothing touches a disk.

    Raises
    ------
    WeightsError
        ``data`` is not a weights file PrivLens reads.
    InvalidParameterError
        As :func:`encrypt_weights`.
    """
    from core import crypto

    open_weights(data, name=name)
    if age:
        if passphrase is None or key is not None:
            from core.errors import InvalidParameterError

            raise InvalidParameterError("An age file is encrypted with a passphrase only.")
        out = io.BytesIO()
        crypto.age_encrypt(data, out, passphrase=passphrase, work_factor=work_factor)
        return out.getvalue()
    return crypto.encrypt_bytes(data, passphrase=passphrase, key=key, work_factor=work_factor)
