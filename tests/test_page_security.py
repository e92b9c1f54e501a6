"""Security properties of the pages: caches keyed by the dataset's token, text shown escaped,
keys generated only on click."""

from __future__ import annotations

import hashlib
import re
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
    """(r in the strongest-pairs table, association in the leakage table), as shown (3 d.p.)."""
    tables = [d.value for d in at.dataframe]
    pairs = next(t for t in tables if "column A" in t.columns)
    leak = next(t for t in tables if "NMI" in t.columns)
    row = pairs[(pairs["column A"] == "x") & (pairs["column B"] == "y")]
    return float(row["value"].iloc[0]), float(leak["association"].iloc[0])


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

    assert _shown_r(first) == pytest.approx((true_a, abs(true_a)), abs=5e-4)  # shown rounded
    assert _shown_r(second) == pytest.approx((true_b, abs(true_b)), abs=5e-4)


# --- strings from files are shown escaped ---------------------------------------------------

HOSTILE = "![](http://127.0.0.2:9/pixel.png)[Update](https://evil.example)"
HOSTILE_CSV = (
    f"{HOSTILE},age,zip,diagnosis\n"
    + "".join(
        f"{i % 7},{20 + i % 50},{10115 + i % 9},{'cold' if i % 3 else 'flu'}\n" for i in range(60)
    )
).encode()
PAGES = [
    "pages/home.py",
    "pages/data.py",
    "pages/correlations.py",
    "pages/risk.py",
    "pages/differential_privacy.py",
    "pages/masking.py",
    "pages/export.py",
    "pages/decrypt.py",
]
# Unescaped link or image syntax, or an address GFM would autolink.
MARKDOWN_PARTS = re.compile(r"(?<!\\)\]\(|!\[|https?://|www\.", re.IGNORECASE)


def _markdown_texts(at) -> list[str]:
    """Every string the page hands to the markdown renderer: bodies, labels, tooltips."""
    out = []
    stack = [at._tree]
    while stack:
        node = stack.pop()
        stack.extend(getattr(node, "children", {}).values())
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        for field in ("body", "label", "help", "caption", "text", "placeholder"):
            value = getattr(proto, field, None)
            if isinstance(value, str) and value:
                out.append(value)
    return out


def test_md_escapes_every_markdown_construct():
    from ui.text import WORD_JOINER, md

    assert md(HOSTILE).replace(WORD_JOINER, "").replace("\\", "") == HOSTILE  # text kept
    assert not MARKDOWN_PARTS.search(md(HOSTILE))
    assert MARKDOWN_PARTS.search(HOSTILE)
    assert md("a\nb\r\nc\x1b[31m") == "a b c\\[31m"
    assert md("me@example.org") == f"me{WORD_JOINER}@example.org"  # no mailto: autolink


def test_hostile_column_and_file_names_never_reach_markdown_unescaped():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="data_upload").upload(
        "www.evil.example [Update](https:evil.example).csv", HOSTILE_CSV, "text/csv"
    ).run()
    assert not at.exception
    assert HOSTILE in at.session_state["dataset"].columns
    shown_on = []
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        texts = _markdown_texts(at)
        if any("evil" in t for t in texts):
            shown_on.append(page)
        leaks = [t for t in texts if "evil" in t and MARKDOWN_PARTS.search(t)]
        assert not leaks, (page, leaks)
    # the names do reach markdown (escaped) on these pages, so the check above bites there
    assert {"pages/data.py", "pages/correlations.py", "pages/masking.py"} <= set(shown_on)


# --- key files are made on click, never published in the media store -----------------------


@pytest.fixture
def media_store(monkeypatch):
    """Everything any run puts into Streamlit's media store (bytes per file)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    stored: list[bytes] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def recording(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes | bytearray):
            stored.append(bytes(path_or_data))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", recording)
    return stored


def test_pseudonymization_key_is_not_in_the_media_store_before_a_click(app, media_store):
    app.switch_page("pages/masking.py").run()
    assert not app.exception
    key = app.session_state["masking_key"]
    button = app.get("download_button")
    download = next(b for b in button if b.proto.label == "Download key")
    assert media_store  # the store is watched (the recipe download is in it)
    assert not any(key.hex().encode() in blob for blob in media_store)
    assert download.proto.deferred_file_id  # built on click
    assert not download.proto.url


def test_export_key_is_not_in_the_media_store_before_a_click(app, media_store):
    from core import crypto

    app.switch_page("pages/export.py").run()
    app.radio(key="ws:export.encryption").set_value("A generated key").run()
    app.button(key="export_genkey").click().run()
    assert not app.exception
    key = app.session_state["export_key"]
    download = next(
        b for b in app.get("download_button") if b.proto.label.startswith("Download the key")
    )
    text = crypto.key_to_text(key)
    text = text if isinstance(text, bytes) else text.encode()
    assert not any(text.strip() in blob for blob in media_store)
    assert download.proto.deferred_file_id
    assert not download.proto.url


def test_the_app_keeps_upload_parts_of_any_allowed_size_in_memory(app):
    from starlette.formparsers import MultiPartParser
    from streamlit import config

    assert MultiPartParser.spool_max_size > config.get_option("server.maxUploadSize") * 2**20
