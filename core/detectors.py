"""Detectors of personal data in column values: e-mail, phone, card, IBAN, SSN, IP, URL, ...

Each detector takes a :class:`pandas.Series` of strings (non-missing, stripped) and returns a
boolean array saying which values match. Checksums are verified where the format has one
(Luhn for payment cards, ISO 7064 mod-97 for IBANs), so a random 16-digit number is not a card.
All checks are vectorized over the series.

>>> import pandas as pd
>>> luhn_valid(pd.Series(["4111111111111111", "4111111111111112"])).tolist()
[True, False]
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

_EMAIL = r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
_PHONE = r"\+?[0-9][0-9 ().\-/]{5,22}[0-9]"
_CARD = r"[0-9]{4}(?:[ -]?[0-9]{2,4}){2,4}[0-9]{0,3}"
_IBAN = r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}"
_SSN = r"(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_IPV4 = rf"(?:{_OCTET}\.){{3}}{_OCTET}"
_URL = r"(?:https?|ftp)://[^\s/$.?#][^\s]*|www\.[^\s]+\.[a-z]{2,}[^\s]*"
_DATE = r"[0-9]{4}[-/.][0-9]{1,2}[-/.][0-9]{1,2}|[0-9]{1,2}[-/.][0-9]{1,2}[-/.][0-9]{2,4}"
_POSTCODE = (
    r"[0-9]{5}-[0-9]{4}"  # US ZIP+4
    r"|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}"  # UK
    r"|[A-Z][0-9][A-Z] ?[0-9][A-Z][0-9]"  # Canada
)


def _digits(values: pd.Series) -> pd.Series:
    return values.str.replace(r"[^0-9]", "", regex=True)


def _digit_matrix(digits: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Right-aligned digit matrix (rows = values) and a mask of real digits."""
    width = int(digits.str.len().max()) if len(digits) else 0
    padded = digits.str.zfill(width).to_numpy(dtype=f"U{max(width, 1)}")
    codes = np.frombuffer(padded.astype(f"S{max(width, 1)}").tobytes(), dtype=np.uint8)
    mat = codes.reshape(len(digits), max(width, 1)).astype(np.int64) - ord("0")
    lengths = digits.str.len().to_numpy()
    pos_from_right = np.arange(mat.shape[1])[::-1]
    real = pos_from_right[None, :] < lengths[:, None]
    return np.where(real, mat, 0), real


def luhn_valid(values: pd.Series) -> np.ndarray:
    """Luhn checksum (ISO/IEC 7812) of each value's digits; True where it holds.

    Notes
    -----
    From the rightmost digit, every second digit is doubled (minus 9 when above 9); the
    number is valid when the sum is divisible by 10.
    """
    digits = _digits(values.astype(str)).fillna("")  # missing stays missing in str dtype
    if len(digits) == 0:
        return np.zeros(0, dtype=bool)
    mat, real = _digit_matrix(digits)
    pos_from_right = np.arange(mat.shape[1])[::-1]
    doubled = (pos_from_right % 2 == 1)[None, :]
    vals = np.where(doubled, mat * 2, mat)
    vals = np.where(vals > 9, vals - 9, vals)
    total = np.where(real, vals, 0).sum(axis=1)
    return (total % 10 == 0) & (digits.str.len().to_numpy() > 0)


def iban_valid(values: pd.Series) -> np.ndarray:
    """ISO 13616 IBAN check: move the first four characters to the end, letters to 10..35,
    and the number mod 97 must be 1 (ISO 7064 MOD 97-10)."""
    s = values.astype(str).str.replace(" ", "", regex=False).str.upper()
    ok = s.str.fullmatch(_IBAN).fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=bool)
    for i in np.flatnonzero(ok):  # at most the sampled rows; the arithmetic is per value
        v = s.iat[i]
        rearranged = v[4:] + v[:4]
        number = "".join(str(int(ch, 36)) for ch in rearranged)
        out[i] = int(number) % 97 == 1
    return out


def _match(pattern: str) -> Callable[[pd.Series], np.ndarray]:
    def check(values: pd.Series) -> np.ndarray:
        return values.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)

    return check


def _phone(values: pd.Series) -> np.ndarray:
    shape = values.str.fullmatch(_PHONE).fillna(False).to_numpy(dtype=bool)
    n_digits = _digits(values).str.len().to_numpy()
    # A phone number is written with separators or a leading "+"; a bare run of digits is
    # more likely an ID or an amount.
    formatted = values.str.contains(r"[+ ().\-/]", regex=True).fillna(False).to_numpy(dtype=bool)
    # Dates (2024-01-31, 31/01/1990) and SSNs share the shape; they are not phone numbers.
    date_like = values.str.fullmatch(_DATE).fillna(False).to_numpy(dtype=bool)
    ssn_like = values.str.fullmatch(_SSN).fillna(False).to_numpy(dtype=bool)
    return shape & formatted & ~date_like & ~ssn_like & (n_digits >= 7) & (n_digits <= 15)


def _card(values: pd.Series) -> np.ndarray:
    shape = values.str.fullmatch(_CARD).fillna(False).to_numpy(dtype=bool)
    n_digits = _digits(values).str.len().to_numpy()
    return shape & (n_digits >= 13) & (n_digits <= 19) & luhn_valid(values)


def _ip(values: pd.Series) -> np.ndarray:
    v4 = values.str.fullmatch(_IPV4).fillna(False).to_numpy(dtype=bool)
    maybe_v6 = values.str.contains(":", regex=False).fillna(False).to_numpy(dtype=bool)
    v6 = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(maybe_v6):
        try:
            v6[i] = isinstance(ipaddress.ip_address(values.iat[i]), ipaddress.IPv6Address)
        except ValueError:
            pass
    return v4 | v6


@dataclass(frozen=True, slots=True)
class Detector:
    """A named check for one kind of personal data."""

    name: str
    label: str
    check: Callable[[pd.Series], np.ndarray]
    identifier: bool  # True: a direct identifier; False: a quasi-identifier


DETECTORS: tuple[Detector, ...] = (
    Detector("email", "e-mail address", _match(_EMAIL), True),
    Detector("card", "payment card number (Luhn check passes)", _card, True),
    Detector("iban", "IBAN (mod-97 check passes)", iban_valid, True),
    Detector("ssn", "US social security number pattern", _match(_SSN), True),
    Detector("ip", "IP address (IPv4/IPv6)", _ip, True),
    Detector("url", "URL", _match(_URL), True),
    Detector("phone", "phone number", _phone, True),
    Detector("postcode", "postal code pattern", _match(_POSTCODE), False),
)


def detect(values: pd.Series, *, min_share: float) -> list[tuple[Detector, float]]:
    """Detectors whose pattern matches at least ``min_share`` of the non-missing ``values``.

    Returns the matching detectors with their share of matching values, best first.
    """
    s = values.dropna().astype(str).str.strip()
    s = s[s != ""]
    if s.empty:
        return []
    hits = []
    for det in DETECTORS:
        share = float(det.check(s).mean())
        if share >= min_share:
            hits.append((det, share))
    hits.sort(key=lambda h: -h[1])
    return hits
