"""Built-in sample datasets: the UCI Adult census extract and a synthetic patients table.

Adult: Becker, B. & Kohavi, R. (1996). Adult [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5XW20 — licensed CC BY 4.0. In it, ``?`` marks a missing value;
:func:`adult` reads ``?`` as missing (say so wherever the sample is shown).

Patients: every value is made up by a seeded generator (no real person), with direct
identifiers of every kind PrivLens detects, for the masking and detection demos.

>>> patients(5).shape
(5, 11)
>>> patients(5).equals(patients(5))
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from core.data import LoadResult, load

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ADULT_PATH = DATA_DIR / "adult.csv"
ADULT_CITATION = (
    "Becker, B. & Kohavi, R. (1996). Adult [Dataset]. UCI Machine Learning Repository. "
    "https://doi.org/10.24432/C5XW20 — licensed CC BY 4.0."
)
ADULT_NOTE = "In the Adult sample '?' marks a missing value; PrivLens reads it as missing."
PATIENTS_NOTE = "Synthetic data from a seeded generator: no real person is described."

SAMPLES = ("Adult census (UCI, 32,561 rows)", "Synthetic patients (2,000 rows)")


def adult() -> LoadResult:
    """Load the Adult sample (32,561 rows x 15 columns), ``?`` read as missing."""
    return load(ADULT_PATH, na_values=("?",))


_FIRST = (
    "Anna Ben Carla David Emma Felix Greta Hugo Ines Jonas Karin Leo Mara Nils Olga Paul "
    "Quinn Rosa Sven Tara Uwe Vera Walt Xenia Yusuf Zoe José Zoë Ángel Chloé"
).split()
_LAST = (
    "Smith Jones Müller Schmidt Garcia Martin Rossi Silva Novak Kowalski Nguyen Kim Brown "
    "Lopez Weber Fischer Wagner Becker Hoffmann Schulz Ó'Brien Dubois Moreau Laurent Costa"
).split()
_DIAGNOSES = (
    "Hypertension",
    "Type 2 diabetes",
    "Asthma",
    "Depression",
    "Migraine",
    "Osteoarthritis",
    "COPD",
    "HIV",
    "Anxiety disorder",
    "Healthy",
)
_DIAGNOSIS_P = np.array([0.18, 0.12, 0.1, 0.09, 0.08, 0.08, 0.05, 0.02, 0.08, 0.2])


def _luhn_complete(prefix: np.ndarray) -> np.ndarray:
    """Append the Luhn check digit to each row of a digit matrix."""
    width = prefix.shape[1]
    pos_from_right = np.arange(width)[::-1] + 1  # the check digit will be position 0
    doubled = pos_from_right % 2 == 1
    vals = np.where(doubled, prefix * 2, prefix)
    vals = np.where(vals > 9, vals - 9, vals)
    check = (10 - vals.sum(axis=1) % 10) % 10
    return np.concatenate([prefix, check[:, None]], axis=1)


def patients(n: int = 2_000, *, seed: int = 20_240_601) -> pd.DataFrame:
    """A deterministic synthetic patients table (names, contacts, IDs, QIs, diagnosis, charges).

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        Seed of the generator; the same seed always gives the same table.
    """
    rng = np.random.default_rng(seed)  # synthetic demo data only, never a privacy release
    first = rng.choice(_FIRST, n)
    last = rng.choice(_LAST, n)
    ids = rng.permutation(np.arange(100_000, 100_000 + max(n, 1) * 7))[:n]
    email_user = pd.Series(first).str.lower() + "." + pd.Series(last).str.lower()
    email_user = email_user.str.normalize("NFKD").str.encode("ascii", "ignore").str.decode("ascii")
    email_user = email_user.str.replace("'", "", regex=False)
    email = email_user + pd.Series(ids % 97).astype(str) + "@example.org"
    area = rng.integers(201, 990, n)
    phone = (
        "+1 ("
        + pd.Series(area).astype(str)
        + ") 555-"
        + pd.Series(rng.integers(0, 10_000, n)).astype(str).str.zfill(4)
    )
    ssn = (
        pd.Series(rng.integers(1, 666, n)).astype(str).str.zfill(3)
        + "-"
        + pd.Series(rng.integers(1, 100, n)).astype(str).str.zfill(2)
        + "-"
        + pd.Series(rng.integers(1, 10_000, n)).astype(str).str.zfill(4)
    )
    card_digits = _luhn_complete(
        np.concatenate([np.full((n, 1), 4), rng.integers(0, 10, (n, 14))], axis=1)
    )
    card = pd.Series(["".join(map(str, row)) for row in card_digits])
    birth = pd.Timestamp("1935-01-01") + pd.to_timedelta(rng.integers(0, 365 * 70, n), unit="D")
    zips = pd.Series(rng.choice(np.arange(10_001, 10_041), n)).astype(str).str.zfill(5)
    sex = rng.choice(np.array(["F", "M"]), n)
    diagnosis = rng.choice(_DIAGNOSES, n, p=_DIAGNOSIS_P / _DIAGNOSIS_P.sum())
    charges = np.round(rng.lognormal(mean=8.0, sigma=0.9, size=n), 2)
    return pd.DataFrame(
        {
            "patient_id": ids.astype(np.int64),
            "name": pd.Series(first) + " " + pd.Series(last),
            "email": email,
            "phone": phone,
            "ssn": ssn,
            "card_number": card,
            "birth_date": pd.Series(birth).dt.strftime("%Y-%m-%d"),
            "zip": zips,
            "sex": sex,
            "diagnosis": diagnosis,
            "charges": charges,
        }
    )
