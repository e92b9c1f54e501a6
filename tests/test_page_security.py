"""Security properties of the pages: caches keyed by the dataset's token, text shown escaped,
keys generated only on click."""

from __future__ import annotations

import hashlib
import uuid

import numpy as np
import pandas as pd
import pytest

from core.correlation import correlation_matrix
from tests.conftest import APP

ROWS = 60_000  # above Streamlit's 50,000-row threshold, where it hashes a sample of rows


def _twin_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two tables that Streamlit's hasher cannot tell apart: B differs from A only in rows
    outside the sample the hasher looks at."""
    from streamlit.runtime.caching.hashing import _PANDAS_SAMPLE_SIZE, _sample_seed

    rng = np.random.default_rng(7)
    x = rng.normal(size=ROWS)
    a = pd.DataFrame({"x": x, "y": x + rng.normal(scale=0.05, size=ROWS)})
    hashed = a.sample(n=_PANDAS_SAMPLE_SIZE, random_state=_sample_seed()).index
    b = a.copy()
    outside = ~b.index.isin(hashed)
    b.loc[outside, "y"] = rng.normal(size=int(outside.sum()))
    return a, b


def _streamlit_hash(frame: pd.DataFrame) -> str:
    from streamlit.runtime.caching.cache_type import CacheType
    from streamlit.runtime.caching.hashing import update_hash

    h = hashlib.new("md5", usedforsecurity=False)
    update_hash(frame, h, CacheType.DATA)
    return h.hexdigest()


def _session_with(frame: pd.DataFrame):
    """A fresh headless session whose dataset is ``frame`` (as the Data page would load it)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.session_state["dataset"] = frame
    at.session_state["dataset_name"] = "twin.csv"
    at.session_state["dataset_id"] = uuid.uuid4().hex
    at.session_state["roles"] = {c: "other" for c in frame.columns}
    at.session_state["role_reasons"] = {}
    return at


def _shown_r(at) -> tuple[float, float]:
    """(r in the strongest-pairs table, association in the leakage table)."""
    tables = [d.value for d in at.dataframe]
    pairs = next(t for t in tables if "column_a" in t.columns)
    leak = next(t for t in tables if "nmi" in t.columns)
    row = pairs[(pairs["column_a"] == "x") & (pairs["column_b"] == "y")]
    return float(row["r"].iloc[0]), float(leak["association"].iloc[0])


def test_two_sessions_with_tables_alike_in_the_hashed_sample_see_their_own_correlation():
    a, b = _twin_tables()
    assert _streamlit_hash(a) == _streamlit_hash(b)  # the trap: content hashing collides
    true_a = correlation_matrix(a, method="pearson", columns=["x", "y"]).r[0, 1]
    true_b = correlation_matrix(b, method="pearson", columns=["x", "y"]).r[0, 1]
    assert true_a - true_b > 0.3  # the two tables really differ

    first = _session_with(a)
    first.switch_page("pages/correlations.py").run()
    assert not first.exception
    second = _session_with(b)
    second.switch_page("pages/correlations.py").run()
    assert not second.exception

    assert _shown_r(first) == pytest.approx((true_a, abs(true_a)))
    assert _shown_r(second) == pytest.approx((true_b, abs(true_b)))
