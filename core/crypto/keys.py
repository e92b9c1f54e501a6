"""Keys: random keys, their key-file text, and passphrase strength."""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
from dataclasses import dataclass

from core.crypto.common import KEY_BYTES, _check_key
from core.errors import (
    InvalidParameterError,
)
from core.limits import (
    PASSPHRASE_MIN_SCORE,
)

# --- key text ---------------------------------------------------------------------------------
_KEY_PREFIX = "privlens-key-v1:"
_KEY_CHECK = 4
#: A key token: unpadded base64url of 36 bytes is exactly 48 characters of this alphabet.
_KEY_TOKEN = re.compile(r"[A-Za-z0-9_-]{48}")
_KEY_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@dataclass(frozen=True, slots=True, kw_only=True)
class StrengthReport:
    """How hard a passphrase is to guess (zxcvbn estimate).

    Attributes
    ----------
    score : int
        0 (too guessable) to 4 (very unguessable), zxcvbn's scale.
    guesses_log10 : float
        log10 of the estimated number of guesses an attacker needs.
    bits : float
        The same estimate in bits, ``guesses_log10 * log2(10)``.
    crack_seconds : float
        Estimated time for an offline attacker testing 10,000 scrypt guesses per second.
    acceptable : bool
        ``score >= PASSPHRASE_MIN_SCORE``.
    feedback : tuple of str
        zxcvbn's warning and suggestions (they quote no part of the passphrase).
    """

    score: int
    guesses_log10: float
    bits: float
    crack_seconds: float
    acceptable: bool
    feedback: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def generate_key() -> bytes:
    """Return a new random 256-bit key from the operating system's CSPRNG.

    Returns
    -------
    bytes
        32 bytes from :func:`os.urandom`.

    Examples
    --------
    >>> len(generate_key())
    32
    >>> generate_key() != generate_key()
    True
    """
    return os.urandom(KEY_BYTES)


def key_to_text(key: bytes) -> str:
    """Encode a key as the text of a key file.

    The key line is ``privlens-key-v1:`` followed by the unpadded base64url encoding of the
    32 key bytes and the first 4 bytes of their SHA-256 (a typo check, not a secret).

    Parameters
    ----------
    key : bytes
        A 32-byte key, e.g. from :func:`generate_key`.

    Returns
    -------
    str
        Two comment lines and the key line, ending in a newline.

    Raises
    ------
    InvalidParameterError
        If ``key`` is not 32 bytes.

    Examples
    --------
    >>> text = key_to_text(bytes(32))
    >>> text.splitlines()[-1]
    'privlens-key-v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABmaHqt'
    >>> key_from_text(text) == bytes(32)
    True
    """
    key = _check_key(key)
    token = base64.urlsafe_b64encode(key + hashlib.sha256(key).digest()[:_KEY_CHECK])
    return (
        "# PrivLens encryption key (AES-256). Anyone holding this file can decrypt the files\n"
        "# made with it: store it apart from them, and never send both by the same channel.\n"
        f"{_KEY_PREFIX}{token.decode('ascii').rstrip('=')}\n"
    )


def key_from_text(text: str | bytes) -> bytes:
    """Read a key from the text of a key file written by :func:`key_to_text`.

    Parameters
    ----------
    text : str or bytes
        The key file's content; comment lines and surrounding blanks are ignored.

    Returns
    -------
    bytes
        The 32-byte key.

    Raises
    ------
    InvalidParameterError
        If no key line is found, its token is not exactly 48 characters of unpadded
        base64url (padding, spaces and any other character are refused, as the format
        specifies), or the check bytes do not match.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidParameterError(
                "The key file is not text. Choose the .key file PrivLens gave you when the "
                "data was encrypted."
            ) from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith(_KEY_PREFIX)]
    if len(lines) != 1:
        raise InvalidParameterError(
            f"The key file has {len(lines)} key line(s) starting with '{_KEY_PREFIX}'; it "
            "needs exactly one. Choose the .key file PrivLens gave you when the data was "
            "encrypted."
        )
    token = lines[0][len(_KEY_PREFIX) :]
    if not _KEY_TOKEN.fullmatch(token):
        foreign = sum(1 for ch in token if ch not in _KEY_ALPHABET)
        raise InvalidParameterError(
            "The key line in the key file is damaged: after the prefix it must hold exactly "
            "48 characters of A-Z, a-z, 0-9, '-' and '_' (no '=' padding, no spaces); got "
            f"{len(token)} character(s), {foreign} of them outside that set. Use an "
            "unmodified copy of the key file."
        )
    raw = base64.urlsafe_b64decode(token)
    if hashlib.sha256(raw[:KEY_BYTES]).digest()[:_KEY_CHECK] != raw[KEY_BYTES:]:
        raise InvalidParameterError(
            "The key line in the key file is damaged (its check digits do not match). Use "
            "an unmodified copy of the key file."
        )
    return raw[:KEY_BYTES]


def passphrase_strength(passphrase: str) -> StrengthReport:
    """Estimate how hard ``passphrase`` is to guess, with zxcvbn.

    Parameters
    ----------
    passphrase : str
        The candidate passphrase (only its first 100 characters are analysed).

    Returns
    -------
    StrengthReport
        Score, guesses, bits, crack time and feedback.

    Notes
    -----
    zxcvbn [W16]_ searches the passphrase for dictionary words, names, keyboard patterns,
    repeats, sequences and dates, and takes the cheapest way to guess it; characters that
    match nothing cost 10 guesses each. ``bits = log2(guesses)``; ``crack_seconds =
    guesses / 1e4`` (an offline attacker with scrypt-hashing hardware). An empty
    passphrase scores 0 with 0 bits.

    References
    ----------
    .. [W16] Wheeler, D. L. "zxcvbn: Low-Budget Password Strength Estimation",
       USENIX Security 2016.

    Examples
    --------
    >>> passphrase_strength("password").score
    0
    >>> passphrase_strength("correct horse battery staple").acceptable
    True
    """
    if not passphrase:
        return StrengthReport(
            score=0,
            guesses_log10=0.0,
            bits=0.0,
            crack_seconds=0.0,
            acceptable=False,
            feedback=("Enter a passphrase.",),
        )
    from zxcvbn import zxcvbn  # deferred: loads word lists

    result = zxcvbn(passphrase[:100])
    guesses_log10 = float(result["guesses_log10"])
    fb = result.get("feedback") or {}
    feedback = tuple(x for x in [fb.get("warning", ""), *fb.get("suggestions", [])] if x)
    score = int(result["score"])
    return StrengthReport(
        score=score,
        guesses_log10=guesses_log10,
        bits=guesses_log10 * math.log2(10),
        crack_seconds=10.0**guesses_log10 / 1e4,
        acceptable=score >= PASSPHRASE_MIN_SCORE,
        feedback=feedback,
    )
