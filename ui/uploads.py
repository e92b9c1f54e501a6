"""Uploads stay in memory: the server never spools an uploaded file to disk.

Streamlit receives uploads through Starlette's multipart parser, which keeps each part in a
``SpooledTemporaryFile`` of 1 MiB and moves anything larger to a file in the temporary
directory (deleted at once, but its bytes stay on the disk until overwritten). Raising the
spool size to the largest upload the server accepts keeps every part in memory. The cost is
memory: while an upload is parsed, it is held twice (the spooled part and the bytes Streamlit
reads from it), so the server needs about twice ``server.maxUploadSize`` free per concurrent
upload.
"""

from __future__ import annotations

import streamlit as st

#: Room for the multipart framing around the file (boundaries, headers).
FRAMING_BYTES = 2**20


def keep_uploads_in_memory() -> int:
    """Make the server's multipart parser keep upload parts of any allowed size in memory.

    Called by ``app.py`` on every run (cheap and idempotent); the first upload can only come
    after a first run has drawn an uploader.

    Returns
    -------
    int
        The spool size now in force, in bytes.
    """
    from starlette.formparsers import MultiPartParser

    limit = int(st.get_option("server.maxUploadSize")) * 2**20 + FRAMING_BYTES
    if MultiPartParser.spool_max_size < limit:
        MultiPartParser.spool_max_size = limit
    return int(MultiPartParser.spool_max_size)
