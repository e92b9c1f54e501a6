"""Downloads are served by their whole content: one user never receives another's file.

Streamlit keeps the bytes of every download button in an in-memory media store, keyed by an id
computed from the bytes. For anything over 1 MiB it hashes only the length and three 64 KiB
samples (head, middle, tail), and when an id is already in the store it keeps the file stored
first. Two exports of the same length that agree in those samples — the same table hardened
twice with a different recipe, or two users' tables with a common layout — would then share one
id, and the second person would download the first one's file. Hashing the whole content
(SHA-256, about a second per GB) makes the id a function of every byte.
"""

from __future__ import annotations

import hashlib

_MARK = "_privlens_exact_ids"

#: Streamlit's own id function, kept when it is replaced (tests compare against it).
streamlit_file_id = None


def _whole_content_id(data: bytes, mimetype: str, filename: str | None = None) -> str:
    """Id of a stored download: SHA-256 over its length, every byte, its type and its name."""
    h = hashlib.sha256()
    h.update(f"{len(data)}:".encode())
    h.update(data)
    h.update(b"\x00" + mimetype.encode())
    if filename is not None:
        h.update(b"\x00" + filename.encode())
    return h.hexdigest()[:56]


def serve_downloads_by_whole_content() -> None:
    """Make the media store derive each file's id from all of its bytes (idempotent).

    Called by ``app.py`` on every run. Must be re-checked when Streamlit is upgraded: it
    replaces ``streamlit.runtime.memory_media_file_storage._calculate_file_id``.
    """
    global streamlit_file_id
    from streamlit.runtime import memory_media_file_storage as storage

    if getattr(storage._calculate_file_id, _MARK, False):
        return
    streamlit_file_id = storage._calculate_file_id
    setattr(_whole_content_id, _MARK, True)
    storage._calculate_file_id = _whole_content_id
