"""Column profile: kind, missing share, distinct count and uniqueness of every column.

No cell value ever appears in a profile; only counts, shares and the kind.

>>> import pandas as pd
>>> p = profile_column(pd.Series([1, 2, 2, None], name="n"))
>>> str(p.kind), p.missing_share, p.n_distinct
('integer', 0.25, 2)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from core import limits
from core.detectors import Detector, detect
from core.frames import check_frame


class Kind(StrEnum):
    """What a column holds, as far as the analysis is concerned."""

    NUMERIC = "numeric"
    INTEGER = "integer"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"
    TEXT = "free text"
    IDENTIFIER = "identifier-like"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnProfile:
    """Summary of one column (no values).

    Attributes
    ----------
    uniqueness : float
        Distinct non-missing values divided by non-missing values (1 = every value unique).
    detected : tuple of (Detector, float)
        Personal-data patterns found, with the share of sampled values that match.
    """

    name: str
    kind: Kind
    dtype: str
    n: int
    missing: int
    missing_share: float
    n_distinct: int
    uniqueness: float
    detected: tuple[tuple[Detector, float], ...] = ()

    @property
    def is_numeric(self) -> bool:
        """True for numeric and integer columns."""
        return self.kind in (Kind.NUMERIC, Kind.INTEGER)


_BOOL_WORDS = {"true", "false", "yes", "no", "y", "n", "t", "f", "0", "1"}


def _sample(series: pd.Series, n: int) -> pd.Series:
    s = series.dropna()
    if len(s) > n:
        s = s.sample(n=n, random_state=0)  # deterministic sample for pattern checks only
    return s


def _looks_datetime(s: pd.Series) -> bool:
    text = s.astype(str).str.strip()
    if not text.str.contains(r"[-/.:]", regex=True).mean() > 0.9:
        return False
    if text.str.fullmatch(r"[0-9]+([.,][0-9]+)?").any():
        return False
    # utc=True: times with different UTC offsets (kept as text by the loader) still parse.
    parsed = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    return bool(parsed.notna().mean() >= limits.PATTERN_MATCH_SHARE)


def _hashable(series: pd.Series) -> pd.Series:
    """``series`` with unhashable cells (dicts, lists from a hand-built frame) as JSON text."""
    if series.dtype != object:
        return series
    nested = series.map(lambda v: isinstance(v, (dict, list, set)))
    if not nested.any():
        return series
    return series.map(
        lambda v: (
            json.dumps(v, sort_keys=True, default=str)
            if isinstance(v, (dict, list))
            else json.dumps(sorted(map(str, v)))
            if isinstance(v, set)
            else v
        )
    )


def profile_column(series: pd.Series) -> ColumnProfile:
    """Profile one column; see :class:`ColumnProfile`."""
    series = _hashable(series)
    n = len(series)
    missing = int(series.isna().sum())
    non_missing = n - missing
    n_distinct = int(series.nunique(dropna=True))
    uniqueness = n_distinct / non_missing if non_missing else 0.0
    detected: tuple[tuple[Detector, float], ...] = ()
    dtype = series.dtype
    if non_missing == 0:
        kind = Kind.EMPTY
    elif pd.api.types.is_bool_dtype(dtype):
        kind = Kind.BOOLEAN
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        kind = Kind.DATETIME
    elif pd.api.types.is_numeric_dtype(dtype):
        values = series.dropna().to_numpy(dtype=float)
        integral = bool(np.all(np.isfinite(values) & (values == np.round(values))))
        if n_distinct <= 2 and set(np.unique(values)) <= {0.0, 1.0}:
            kind = Kind.BOOLEAN
        elif integral and uniqueness >= limits.IDENTIFIER_UNIQUENESS and non_missing >= 20:
            kind = Kind.IDENTIFIER
        else:
            kind = Kind.INTEGER if integral else Kind.NUMERIC
    else:
        sample = _sample(series, limits.PROFILE_SAMPLE_ROWS).astype(str)
        detected = tuple(detect(sample, min_share=limits.PATTERN_MATCH_SHARE))
        lowered = set(sample.str.strip().str.lower().unique())
        if n_distinct <= 2 and lowered <= _BOOL_WORDS:
            kind = Kind.BOOLEAN
        elif isinstance(dtype, pd.CategoricalDtype):
            kind = Kind.CATEGORICAL
        elif not detected and _looks_datetime(sample):
            kind = Kind.DATETIME
        elif detected and detected[0][0].identifier:
            kind = Kind.IDENTIFIER
        elif uniqueness >= limits.IDENTIFIER_UNIQUENESS and non_missing >= 20:
            words = sample.str.count(r"\s+").mean()
            kind = Kind.TEXT if words >= 3 else Kind.IDENTIFIER
        elif (
            n_distinct <= limits.CATEGORICAL_MAX_DISTINCT
            or uniqueness <= limits.CATEGORICAL_MAX_SHARE
        ):
            kind = Kind.CATEGORICAL
        else:
            kind = Kind.TEXT
    return ColumnProfile(
        name=str(series.name),
        kind=kind,
        dtype=str(dtype),
        n=n,
        missing=missing,
        missing_share=missing / n if n else 0.0,
        n_distinct=n_distinct,
        uniqueness=uniqueness,
        detected=detected,
    )


def profile_frame(frame: pd.DataFrame) -> tuple[ColumnProfile, ...]:
    """Profile every column of ``frame``, in column order."""
    check_frame(frame)  # unique text column names
    return tuple(profile_column(frame[col]) for col in frame.columns)


def profile_table(profiles: tuple[ColumnProfile, ...]) -> pd.DataFrame:
    """The profiles as a display table (one row per column, no values)."""
    return pd.DataFrame(
        {
            "column": [p.name for p in profiles],
            "kind": [str(p.kind) for p in profiles],
            "missing %": [round(100 * p.missing_share, 2) for p in profiles],
            "distinct": [p.n_distinct for p in profiles],
            "uniqueness": [round(p.uniqueness, 4) for p in profiles],
            "detected": [", ".join(d.label for d, _ in p.detected) for p in profiles],
        }
    )
