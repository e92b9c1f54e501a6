"""Decrypt: open a file PrivLens encrypted (or an age passphrase file) and download it."""

from __future__ import annotations

import mimetypes
from pathlib import PurePath

import streamlit as st

from core import crypto
from core.errors import PrivLensError
from core.limits import SCRYPT_WORK_FACTOR_MAX
from ui import nav
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.text import md

ensure_routed()  # a deep link right after start-up must still go through app.py

SUFFIXES = (".plenc", ".age")

st.title("Decrypt")
st.caption(nav.QUESTIONS["decrypt"])
st.markdown(
    "Upload a file encrypted on the **Export** page (`.plenc`) or any age file protected by "
    "a passphrase (`.age`), then give its passphrase or key file. The file is checked chunk by "
    "chunk; you get the data only if every byte is authentic. Nothing is stored on the server "
    "after your session ends, and the secret is never cached."
)


def _plain_name(name: str) -> str:
    path = PurePath(name)
    stem = path.stem if path.suffix.lower() in SUFFIXES else f"{path.name}.decrypted"
    return stem or "decrypted.bin"


def _decrypt() -> None:
    """Button callback: decrypt with the secret in the widgets, then forget the secret."""
    state = st.session_state
    state.pop("decrypt_result", None)
    state.pop("decrypt_error", None)
    upload = state.get("decrypt_file")
    if upload is None:
        return
    try:
        if state.get("decrypt_needs") == "key":
            keyfile = state.get("decrypt_keyfile")
            if keyfile is None:
                state["decrypt_error"] = "Upload the key file that was made with this file."
                return
            kw = {"key": crypto.key_from_text(keyfile.getvalue())}
        else:
            kw = {"passphrase": state.get("decrypt_passphrase", "") or ""}
            if not kw["passphrase"]:
                state["decrypt_error"] = "Type the passphrase the file was encrypted with."
                return
        data = crypto.decrypt_bytes(upload.getvalue(), max_work_factor=SCRYPT_WORK_FACTOR_MAX, **kw)
    except PrivLensError as exc:
        state["decrypt_error"] = str(exc)
    else:
        state["decrypt_result"] = {
            "file_id": upload.file_id,
            "name": _plain_name(upload.name),
            "data": data,
        }
    finally:
        state["decrypt_passphrase"] = ""  # do not keep the secret in the session


upload = st.file_uploader("Encrypted file", key="decrypt_file")
if upload is None:
    st.session_state.pop("decrypt_result", None)
    st.session_state.pop("decrypt_error", None)
    st.info("Choose an encrypted file (.plenc or .age) to begin.")
    st.stop()

try:
    info = crypto.inspect_file(upload.getvalue())
except PrivLensError as exc:
    show_error(exc)
    st.stop()

st.session_state["decrypt_needs"] = info.needs
kind = "PrivLens v1" if info.format == crypto.FORMAT_PRIVLENS else "age v1"
details = [f"**{kind}** file, {upload.size:,} bytes"]
if info.plaintext_bytes is not None:
    details.append(f"{info.plaintext_bytes:,} bytes of data")
if info.work_factor is not None:
    details.append(f"scrypt work factor 2^{info.work_factor}")
st.markdown(" · ".join(details))
show_warnings(info.warnings)

if info.needs == "key":
    st.file_uploader(
        "Key file (.key)",
        key="decrypt_keyfile",
        help="The key file downloaded once on the Export page when this file was made.",
    )
else:
    st.text_input("Passphrase", type="password", key="decrypt_passphrase")
st.button("Decrypt", type="primary", key="decrypt_go", on_click=_decrypt)

if error := st.session_state.get("decrypt_error"):
    show_error(error)
result = st.session_state.get("decrypt_result")
if result and result["file_id"] == upload.file_id:
    st.success(f"Decrypted and verified: {len(result['data']):,} bytes.")
    st.download_button(
        f"Download {md(result['name'])}",
        data=result["data"],
        file_name=result["name"],
        mime=mimetypes.guess_type(result["name"])[0] or "application/octet-stream",
        key="decrypt_download",
        on_click="ignore",
        type="primary",
    )
