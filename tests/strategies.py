"""Shared hypothesis strategies: tables with every dtype pandas and the loader produce.

``frames()`` draws a DataFrame whose columns are any of :data:`COLUMN_KINDS` (numpy and
nullable integers, big integers, floats with NaN and inf, 20-digit identifiers and
leading-zero codes kept as text, unicode text, booleans, categoricals, naive and
timezone-aware datetimes, mixed object columns) under unicode names; with
``odd_names=True`` the names may repeat or be integers, as only a direct API caller can
make. ``loaded_frames()`` writes such a table as CSV and reads it back with
:func:`core.data.load`, so the loader's own dtypes are covered too.

Text cells carry the marker :data:`MARK` and numbers are drawn wide enough that
:func:`cell_values` can list the values a message must never repeat.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import assume
from hypothesis import strategies as st

#: Every text cell starts with this character, so a message that repeats one is caught.
MARK = "¤"

COLUMN_KINDS = (
    "int64",
    "int64_huge",  # beyond 2**53: float64 would merge neighbours
    "uint64_huge",  # beyond 2**63
    "Int64",  # nullable, with NA
    "float",  # with NaN, inf and -inf
    "Float64",  # nullable float with NA
    "id_text",  # 20-digit identifiers, kept as text
    "zip_text",  # leading zeros, kept as text
    "text",  # unicode text, empty strings and missing values
    "string",  # pandas' string dtype
    "bool",
    "boolean",  # nullable boolean with NA
    "category",
    "category_int",
    "datetime",
    "datetime_tz",
    "mixed",  # object column mixing numbers, text, booleans and None
)

_NAME_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters=MARK)
#: Column names: short unicode text, never containing the cell marker.
names = st.text(_NAME_CHARS, min_size=1, max_size=6)

_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8).map(
    lambda s: MARK + s
)
_wide_ints = st.integers(-(10**9), 10**9)
_floats = st.one_of(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e300, -1e-300]),
)
_times = st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1))


def _maybe(values: st.SearchStrategy[Any], n: int, missing: Any = None) -> st.SearchStrategy:
    return st.lists(st.one_of(values, st.just(missing)), min_size=n, max_size=n)


@st.composite
def columns(draw: st.DrawFn, kind: str, n: int) -> pd.Series:
    """One column of ``n`` rows of the given kind (see :data:`COLUMN_KINDS`)."""
    if kind == "int64":
        return pd.Series(draw(st.lists(_wide_ints, min_size=n, max_size=n)), dtype="int64")
    if kind == "int64_huge":
        vals = st.integers(-(2**63), 2**63 - 1)
        return pd.Series(draw(st.lists(vals, min_size=n, max_size=n)), dtype="int64")
    if kind == "uint64_huge":
        vals = st.integers(2**63, 2**64 - 1)
        return pd.Series(draw(st.lists(vals, min_size=n, max_size=n)), dtype="uint64")
    if kind == "Int64":
        return pd.Series(pd.array(draw(_maybe(_wide_ints, n)), dtype="Int64"))
    if kind == "float":
        return pd.Series(draw(st.lists(_floats, min_size=n, max_size=n)), dtype="float64")
    if kind == "Float64":
        vals = st.floats(-1e6, 1e6, allow_nan=False)
        return pd.Series(pd.array(draw(_maybe(vals, n)), dtype="Float64"))
    if kind == "id_text":
        vals = st.integers(10**19, 10**20 - 1).map(str)
        return pd.Series(draw(_maybe(vals, n)), dtype=object)
    if kind == "zip_text":
        vals = st.integers(0, 9999).map(lambda v: f"0{v:04d}")
        return pd.Series(draw(_maybe(vals, n)), dtype="str")
    if kind == "text":
        return pd.Series(draw(_maybe(st.one_of(_texts, st.just("")), n)), dtype=object)
    if kind == "string":
        return pd.Series(pd.array(draw(_maybe(_texts, n)), dtype="string"))
    if kind == "bool":
        return pd.Series(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    if kind == "boolean":
        return pd.Series(pd.array(draw(_maybe(st.booleans(), n)), dtype="boolean"))
    if kind == "category":
        pool = draw(st.lists(_texts, min_size=1, max_size=4, unique=True))
        return pd.Series(draw(_maybe(st.sampled_from(pool), n)), dtype="category")
    if kind == "category_int":
        return pd.Series(draw(_maybe(st.integers(0, 3), n)), dtype="category")
    if kind == "datetime":
        return pd.Series(pd.to_datetime(draw(_maybe(_times, n)), errors="coerce"))
    if kind == "datetime_tz":
        tz = draw(st.sampled_from(["UTC", "Europe/Berlin", "America/St_Johns"]))
        return pd.Series(pd.to_datetime(draw(_maybe(_times, n)), errors="coerce")).dt.tz_localize(
            tz, ambiguous="NaT", nonexistent="NaT"
        )
    if kind == "mixed":
        vals = st.one_of(
            _wide_ints, _floats, _texts, st.booleans(), st.integers(2**64, 2**70), st.none()
        )
        return pd.Series(draw(st.lists(vals, min_size=n, max_size=n)), dtype=object)
    raise ValueError(f"unknown column kind {kind!r}")


@st.composite
def frames(
    draw: st.DrawFn,
    *,
    min_rows: int = 0,
    max_rows: int = 12,
    min_cols: int = 1,
    max_cols: int = 5,
    kinds: tuple[str, ...] = COLUMN_KINDS,
    odd_names: bool = False,
) -> pd.DataFrame:
    """A table of any :data:`COLUMN_KINDS`; ``odd_names`` allows repeated and integer names."""
    n = draw(st.integers(min_rows, max_rows))
    k = draw(st.integers(min_cols, max_cols))
    picked = [draw(st.sampled_from(kinds)) for _ in range(k)]
    cols = [draw(columns(kind, n)) for kind in picked]
    labels: list[Any] = draw(st.lists(names, min_size=k, max_size=k, unique=True))
    if odd_names and k:
        trick = draw(st.sampled_from(["duplicate", "integer", "mixed", "none"]))
        if trick == "duplicate" and k > 1:
            labels[-1] = labels[0]
        elif trick == "integer":
            labels = list(range(k))
        elif trick == "mixed":
            labels[0] = draw(st.one_of(st.integers(-3, 3), st.floats(allow_nan=False), st.none()))
    frame = pd.concat([c.reset_index(drop=True) for c in cols], axis=1) if cols else None
    if frame is None:
        return pd.DataFrame(index=range(n))
    frame.columns = labels
    return frame


@st.composite
def loaded_frames(draw: st.DrawFn, **kwargs: Any) -> pd.DataFrame:
    """A table written as CSV and read back by the loader (its dtypes, not pandas')."""
    from core.data import load
    from core.errors import PrivLensError

    frame = draw(frames(min_rows=1, **kwargs))
    if frame.shape[1] == 0:
        frame["x"] = 1
    text = io.StringIO()
    frame.to_csv(text, index=False)
    try:
        return load(text.getvalue().encode("utf-8"), filename="fuzz.csv").frame
    except PrivLensError:  # e.g. a NUL byte makes it a binary file: not a table to fuzz
        assume(False)
        raise


def cell_values(frame: pd.DataFrame) -> set[str]:
    """Texts of the cells a message must not contain: marked text, long numbers, dates."""
    out: set[str] = set()
    for j in range(frame.shape[1]):
        for v in frame.iloc[:, j].tolist():
            if v is None or v is pd.NA or v is pd.NaT:
                continue
            if isinstance(v, str):
                core = v.removeprefix(MARK)
                if v.startswith(MARK) and len(core) >= 3:
                    out.add(core)
                elif v.isdigit() and len(v) >= 5:
                    out.add(v)
            elif isinstance(v, bool | np.bool_):
                continue
            elif isinstance(v, int | np.integer) and abs(int(v)) >= 100_000:
                out.add(str(int(v)))
            elif isinstance(v, float | np.floating) and math.isfinite(v) and abs(v) >= 1e4:
                out.add(repr(float(v)))
            elif isinstance(v, pd.Timestamp | dt.datetime):
                out.add(v.strftime("%Y-%m-%d %H:%M"))
    return out


def leaked(message: str, frame: pd.DataFrame) -> list[str]:
    """Cell values (see :func:`cell_values`) that occur in ``message``, plus the marker."""
    labels = [str(c) for c in frame.columns]  # naming a column is fine, even if a cell equals it
    found = [
        v for v in cell_values(frame) if v in message and not any(v in name for name in labels)
    ]
    if MARK in message:
        found.append(MARK)
    return found
