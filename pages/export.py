"""Export: download the hardened table (optionally encrypted) with its recipe and privacy report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import crypto
from core.errors import PrivLensError
from core.export import (
    FORMATS,
    XLSX_MAX_ROWS,
    build_download,
    check_exportable,
    estimate_build,
)
from core.limits import EXPORT_ESTIMATE_MIN_ROWS
from core.report import build_report
from ui.feedback import show_error
from ui.router import ensure_routed
from ui.state import cast_steps, dataset_id, hardening, require_dataset, roles

ensure_routed()  # a deep link right after start-up must still go through app.py

st.title("Export")
st.caption(
    "Hand the data over so that only the recipient can read it, with a report of what was done."
)

original = require_dataset()
hard = hardening()
if hard is not None:
    released, recipe, result = hard.result.frame, hard.recipe, hard.result
    st.success(
        f"Exporting the **hardened** table from the Masking page: {len(released):,} rows × "
        f"{released.shape[1]} columns, {len(recipe.steps)} step(s)."
    )
else:
    released, recipe, result = original, None, None
    if casts := cast_steps():  # kind changes made on the Data page travel as a recipe
        from core.recipe import Recipe

        recipe = Recipe(steps=casts, source_columns=tuple(str(c) for c in original.columns))
        st.caption(
            f"The {len(casts)} kind change(s) made on the Data page go with it as its recipe."
        )
    st.warning(
        "No hardening recipe has been applied: this exports the table **as loaded**. "
        "Use the Masking page first to pseudonymize, generalize or suppress."
    )
# Caches are keyed by the table exported: a hardening's own token, never the recipe's text
# (the same recipe gives another table with fresh noise or a new pseudonymization key).
table_token = (
    hard.token if hard is not None else f"{dataset_id()}:{recipe.to_json() if recipe else ''}"
)


@st.cache_data(max_entries=4, show_spinner="Building the privacy report…")
def _report(
    _original: pd.DataFrame,
    _released: pd.DataFrame,
    key: str,
    roles_json: str,
    _recipe,
    _result,
    dp: tuple[float, float] | None,
    name: str,
):  # noqa: ANN202
    import json

    return build_report(
        _original,
        _released,
        roles=json.loads(roles_json),
        recipe=_recipe,
        hardening=_result,
        dp_spent=dp,
        dataset_name=name,
    )


def _dp_spent() -> tuple[float, float] | None:
    """(ε, δ) spent on this dataset by releases on the Differential privacy page."""
    ledger = st.session_state.get("dp_ledgers", {}).get(dataset_id())
    if ledger is None or not ledger.entries:
        return None
    total = ledger.composition()
    return (float(total.epsilon), float(total.delta))


left, right = st.columns([2, 3])
with left:
    st.subheader("Format")
    fmt = st.selectbox(
        "File format",
        FORMATS,
        key="export_format",
        help="CSV opens anywhere; Parquet keeps types and is compact; XLSX for Excel "
        "(at most 1,048,575 rows); JSON as a list of records.",
    )
    neutralize = st.checkbox(
        "Neutralize spreadsheet formulas (CSV)",
        value=True,
        key="export_neutralize",
        help="Text cells starting with = + - @ tab or CR get a leading ' so a spreadsheet "
        "shows them as text instead of running them (CSV injection). Numbers are untouched.",
        disabled=fmt != "csv",
    )
    bundle = st.checkbox(
        "Bundle with recipe and report (zip)",
        value=True,
        key="export_bundle",
        help="A zip holding the data, the recipe that produced it (no secrets) and the "
        "privacy report in HTML and JSON.",
    )
    st.subheader("Encryption")
    mode = st.radio(
        "Protect the file with",
        ["Nothing (plain file)", "A passphrase", "A generated key", "A passphrase (age format)"],
        key="export_encryption",
        help="PrivLens format: AES-256-GCM in authenticated chunks; a passphrase goes "
        "through scrypt. The age format opens with any age tool (age, rage).",
    )
    passphrase: str | None = None
    key: bytes | None = None
    ready = True
    if mode in ("A passphrase", "A passphrase (age format)"):
        passphrase = st.text_input("Passphrase", type="password", key="export_pass")
        confirm = st.text_input("Repeat the passphrase", type="password", key="export_pass2")
        if passphrase:
            strength = crypto.passphrase_strength(passphrase)
            st.progress(
                (strength.score + 1) / 5,
                text=f"Strength {strength.score}/4 · about {strength.bits:.0f} bits of guessing",
            )
            for tip in strength.feedback:
                st.caption(tip)
            if not strength.acceptable:
                st.warning("This passphrase is easy to guess. Use four or more random words.")
        ready = bool(passphrase) and passphrase == confirm
        if passphrase and confirm and passphrase != confirm:
            st.error("The two passphrases differ. Type the same passphrase twice.")
    elif mode == "A generated key":
        if st.button("Generate a new key", key="export_genkey"):
            st.session_state["export_key"] = crypto.generate_key()
        key = st.session_state.get("export_key")
        ready = key is not None
        if key is not None:
            st.download_button(
                "Download the key file (keep it safe)",
                # Built on click: bytes passed directly would sit in the media store.
                data=lambda key=key: crypto.key_to_text(key),
                file_name="privlens-key.txt",
                mime="text/plain",
                key="export_key_download",
                on_click="ignore",
                help="Anyone with this file can decrypt the export; without it nobody can. "
                "It is not stored anywhere else.",
            )
        else:
            st.info("Generate a key, download it, then download the encrypted file.")

with right:
    st.subheader("Privacy report")
    try:
        report = _report(
            original,
            released,
            table_token,
            __import__("json").dumps(roles(), sort_keys=True),
            recipe,
            result,
            _dp_spent(),
            st.session_state.get("dataset_name", ""),
        )
    except PrivLensError as exc:
        show_error(exc)
        st.stop()
    before, after = report.data["risk_before"], report.data["risk_after"]
    if "k" in before:
        rows = [
            ("k (smallest class)", before["k"], after.get("k")),
            ("sample uniques", before["sample_uniques"], after.get("sample_uniques")),
            ("records at risk", before["records_at_risk"], after.get("records_at_risk")),
            (
                "average prosecutor risk",
                round(before["prosecutor_average_risk"], 4),
                round(after.get("prosecutor_average_risk", float("nan")), 4),
            ),
            (
                "highest prosecutor risk",
                round(before["prosecutor_highest_risk"], 4),
                round(after.get("prosecutor_highest_risk", float("nan")), 4),
            ),
        ]
        st.dataframe(
            pd.DataFrame(rows, columns=["measure", "before", "after"]),
            hide_index=True,
            key="export_report_table",
        )
    else:
        st.info("No quasi-identifiers are set, so no re-identification risk is reported.")
    dp = report.data["differential_privacy"]
    st.markdown(
        f"Differential privacy budget spent on this dataset: ε = {dp['epsilon']:.4g}, "
        f"δ = {dp['delta']:.3g}."
        if dp
        else "No differentially private release has been made from this dataset."
    )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Report (HTML)",
        data=report.to_html,
        file_name="privacy-report.html",
        mime="text/html",
        key="export_report_html",
        on_click="ignore",
    )
    c2.download_button(
        "Report (JSON)",
        data=report.to_json,
        file_name="privacy-report.json",
        mime="application/json",
        key="export_report_json",
        on_click="ignore",
    )


base = f"privlens-export.{'zip' if bundle else fmt}"
suffix = {
    "A passphrase": ".plenc",
    "A generated key": ".plenc",
    "A passphrase (age format)": ".age",
}.get(mode, "")
st.divider()
if fmt == "xlsx" and len(released) > XLSX_MAX_ROWS:
    # Checked here: an error raised inside the on-click builder would only show as a generic
    # "failed to generate" under the button.
    st.error(
        f"Excel sheets hold at most {XLSX_MAX_ROWS:,} data rows; this table has "
        f"{len(released):,}. Choose CSV or Parquet."
    )
    ready = False


@st.cache_data(max_entries=8, show_spinner=False)
def _refusal(_frame: pd.DataFrame, token: str, fmt: str) -> str | None:
    """The format's refusal of this table, if any (a message with no cell value), or None."""
    try:
        check_exportable(_frame, fmt)
    except PrivLensError as exc:
        return str(exc)
    return None


refusal = _refusal(released, table_token, fmt)
if refusal:
    # Checked before the button: a refusal raised inside the on-click builder would show only
    # as a generic failure under it.
    show_error(refusal)
    ready = False


@st.cache_data(max_entries=8, show_spinner="Estimating the download's size and build time…")
def _estimate(
    _frame: pd.DataFrame, token: str, fmt: str, bundle: bool, encrypted: bool, passphrase: bool
):  # noqa: ANN202 - cached; takes no secret, only whether one is used
    return estimate_build(_frame, fmt, bundle=bundle, encrypted=encrypted, passphrase=passphrase)


if len(released) >= EXPORT_ESTIMATE_MIN_ROWS and ready:
    # Streamlit builds a callable download on click in a worker thread and shows only a
    # spinner on the button meanwhile (commands inside the callable are ignored, so there is
    # no progress bar): say beforehand how big and how long.
    try:
        est = _estimate(
            released,
            table_token,
            fmt,
            bundle,
            bool(suffix),
            mode in ("A passphrase", "A passphrase (age format)"),
        )
    except PrivLensError as exc:
        show_error(exc)
    else:
        st.caption(
            f"Large table ({len(released):,} rows): the file will be about "
            f"{est.bytes / 1e6:,.0f} MB{' before zipping' if bundle else ''} and take about "
            f"{max(est.seconds, 1):,.0f} s to build after you click (measured on "
            f"{est.sample_rows:,} rows). The button shows a spinner until the download starts."
        )
st.download_button(
    f"Download {base}{suffix}",
    # Built on click only (Streamlit runs the callable in a worker thread); secrets stay in
    # this closure and never reach a cache.
    data=lambda: (
        build_download(
            released,
            fmt,
            bundle=bundle,
            neutralize_formulas_in_csv=neutralize,
            recipe_json=recipe.to_json() if recipe else None,
            report=report,
            passphrase=passphrase if mode != "A generated key" else None,
            key=key if mode == "A generated key" else None,
            age=mode == "A passphrase (age format)",
        ).data
    ),
    file_name=base + suffix,
    mime="application/octet-stream" if suffix else None,
    key="export_download",
    type="primary",
    on_click="ignore",
    disabled=not ready,
    help="The file is built when you click, in memory, and is never stored on the server.",
)
if not ready and not refusal:
    st.caption("Set the passphrase (twice) or generate a key to enable the download.")
