"""Export: download the current recipe's table (optionally encrypted) with its recipe and report."""

from __future__ import annotations

import json
import time

import pandas as pd
import streamlit as st

from core.errors import PrivLensError
from core.export import FORMATS, XLSX_MAX_ROWS, build_download, recipe_summary
from core.limits import EXPORT_ESTIMATE_MIN_ROWS
from core.report import risk_comparison
from core.workspace import ExportRecord
from core.workspace.model import ENCRYPTIONS
from ui import export_panels as panels
from ui import nav, state
from ui.feedback import show_error
from ui.router import ensure_routed

ensure_routed()  # a deep link right after start-up must still go through app.py

ENCRYPTION_LABELS = {
    "none": "Nothing (plain file)",
    "passphrase": "A passphrase",
    "key": "A generated key",
    "age": "A passphrase (age format)",
}
SUFFIX = {"none": "", "passphrase": ".plenc", "key": ".plenc", "age": ".age"}
PAGES = {p.url_path: p for p in nav.pages()}

st.title("Export")
st.caption(
    "Hand the data over so that only the recipient can read it, with a report of what was done."
)

original = state.require_dataset()
try:
    hard = state.hardening()  # the workspace's current recipe, applied
except PrivLensError as exc:
    show_error(exc)
    st.page_link(PAGES["masking"], label="Fix the recipe on the Masking page")
    st.stop()
assert hard is not None
released, recipe, result = hard.result.frame, hard.recipe, hard.result
ws = state.workspace()

# --- what is exported: the current recipe, in one line ---------------------------------------
n_casts = len(state.cast_steps())
summary = recipe_summary(recipe, result, kind_changes=n_casts)
casts_note = (
    f" The {n_casts} kind change(s) made on the Data page go with it in the recipe."
    if n_casts
    else ""
)
if summary.changes_table:
    st.success(
        f"Exporting the current recipe: {summary.text()}. {len(released):,} rows × "
        f"{released.shape[1]} columns.{casts_note}"
    )
else:
    st.warning(
        "The recipe changes nothing: this exports the loaded table as is. Use the Masking "
        f"page to pseudonymize, generalize or suppress.{casts_note}"
    )
st.page_link(
    PAGES["masking"], label="Change the recipe on the Masking page", icon=":material/arrow_back:"
)

left, right = st.columns([2, 3])
with left:
    st.subheader("Format")
    fmt = st.selectbox(
        "File format",
        FORMATS,
        help="CSV opens anywhere; Parquet keeps types and is compact; XLSX for Excel "
        "(at most 1,048,575 rows); JSON as a list of records.",
        **state.widget("export.format", options=FORMATS, initial="index"),
    )
    neutralize = st.checkbox(
        "Neutralize spreadsheet formulas (CSV)",
        help="Text cells starting with = + - @ tab or CR get a leading ' so a spreadsheet "
        "shows them as text instead of running them (CSV injection). Numbers are untouched.",
        disabled=fmt != "csv",
        **state.widget("export.options.neutralize", default=True, initial="value"),
    )
    bundle = st.checkbox(
        "Bundle with recipe and report (zip)",
        help="A zip holding the data, the recipe that produced it (no secrets) and the "
        "privacy report in HTML and JSON.",
        **state.widget("export.bundle", initial="value"),
    )
    st.subheader("Encryption")
    mode = st.radio(
        "Protect the file with",
        ENCRYPTIONS,
        format_func=ENCRYPTION_LABELS.__getitem__,
        help="PrivLens format: AES-256-GCM in authenticated chunks; a passphrase goes "
        "through scrypt. The age format opens with any age tool (age, rage). The choice is "
        "kept in the workspace; passphrases and keys never are.",
        **state.widget("export.encryption", options=ENCRYPTIONS, initial="index"),
    )
    passphrase, key, secret_ready = panels.secret_inputs(mode)

with right:
    st.subheader("Privacy report")
    roles_json = json.dumps(state.roles(), sort_keys=True)
    name = str(st.session_state.get("dataset_name", ""))
    try:
        base_report = panels.report(
            original, released, hard.token, roles_json, recipe, result, name
        )
    except PrivLensError as exc:
        show_error(exc)
        st.stop()
    dp = panels.dp_spent()
    report = base_report.with_audit(ws.releases, ws.exports, dp_spent=dp)
    rows = risk_comparison(report.data)
    if rows is not None:
        st.dataframe(
            pd.DataFrame(rows, columns=["measure", "before", "after"]),
            hide_index=True,
            key="export_report_table",
        )
    else:
        st.info("No quasi-identifiers are set, so no re-identification risk is reported.")
    st.markdown(
        f"Differential privacy budget spent on this table: ε = {dp[0]:.4g}, δ = {dp[1]:.3g}."
        if dp
        else "No differentially private release has been made from this table."
    )
    st.caption(
        f"Its audit trail lists this workspace's {len(ws.releases)} release(s) and "
        f"{len(ws.exports)} earlier export(s), never a key or passphrase."
    )
    c1, c2 = st.columns(2)
    for col, kind, mime in ((c1, "html", "text/html"), (c2, "json", "application/json")):
        col.download_button(
            f"Report ({kind.upper()})",
            data=report.to_html if kind == "html" else report.to_json,
            file_name=f"privacy-report.{kind}",
            mime=mime,
            key=f"export_report_{kind}",
            on_click="ignore",
        )

# --- the download ---------------------------------------------------------------------------
st.divider()
base = f"privlens-export.{'zip' if bundle else fmt}"
suffix = SUFFIX[mode]
ready = secret_ready
if fmt == "xlsx" and len(released) > XLSX_MAX_ROWS:
    # Checked before the click: an error raised inside the on-click builder would show only
    # as a generic "failed to generate" under the button.
    st.error(
        f"Excel sheets hold at most {XLSX_MAX_ROWS:,} data rows; this table has "
        f"{len(released):,}. Choose CSV or Parquet."
    )
    ready = False
if refusal := panels.refusal(released, hard.token, fmt):
    show_error(refusal)
    ready = False
# Noisy steps (PRAM, per-record noise) spend the table's budget once, when the table leaves.
ready = panels.noise_gate(recipe, hard.token, PAGES["dp"]) and ready

if len(released) >= EXPORT_ESTIMATE_MIN_ROWS and ready:
    # Streamlit builds a callable download on click in a worker thread and shows only a
    # spinner on the button meanwhile: say beforehand how big and how long.
    try:
        est = panels.estimate(
            released, base_report, hard.token, fmt, bundle, mode, recipe.to_json()
        )
    except PrivLensError as exc:
        show_error(exc)
    else:
        st.caption(f"Large table ({len(released):,} rows). {est.describe(fmt)}")


def _build() -> bytes:
    # Built on click only (Streamlit runs it in a worker thread); secrets stay in this
    # closure and never reach a cache. The bundle's report lists this export too.
    this = ExportRecord(
        format=fmt, encryption=mode, recipe_digest=ws.recipe.digest(), at=time.time()
    )
    return build_download(
        released,
        fmt,
        bundle=bundle,
        neutralize_formulas_in_csv=neutralize,
        recipe_json=recipe.to_json(),
        report=report.with_audit(ws.releases, (*ws.exports, this), dp_spent=dp),
        passphrase=passphrase if mode != "key" else None,
        key=key if mode == "key" else None,
        age=mode == "age",
    ).data


panels.record_error()
st.download_button(
    f"Download {base}{suffix}",
    data=_build,
    file_name=base + suffix,
    mime="application/octet-stream" if suffix else None,
    key="export_download",
    type="primary",
    on_click=panels.record,
    args=(fmt, mode),
    disabled=not ready,
    help="The file is built when you click, in memory, and is never stored on the server. "
    "Each download is added to the workspace's history.",
)
if not secret_ready:
    st.caption("Set the passphrase (twice) or generate a key to enable the download.")
