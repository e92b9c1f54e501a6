"""The Export page's parts: cached builders, the secret inputs, the budget gate of noisy tables.

Caches are keyed by the hardened table's own token (:attr:`ui.state.Hardening.token`), never
by the recipe's text: the same recipe gives another table with fresh noise or a new
pseudonymization key. No cached function takes a key or passphrase; a passphrase or key goes
from its widget to the download's builder and is never kept in the workspace.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from core import crypto
from core.errors import PrivLensError
from core.export import check_exportable, estimate_build, noise_charged
from core.recipe import Recipe, noise_spends
from ui import state
from ui.feedback import show_error

_CHARGE_ERROR = "export_charge_error"
_RECORD_ERROR = "export_record_error"


@st.cache_data(max_entries=4, show_spinner="Building the privacy report…")
def report(
    _original: pd.DataFrame,
    _released: pd.DataFrame,
    token: str,
    roles: str,
    _recipe: Recipe,
    _result: Any,
    name: str,
) -> Any:
    """The privacy report of the hardened table ``token`` (its history added by the page)."""
    from core.report import build_report  # looked up at call time (tests wrap it)

    return build_report(
        _original,
        _released,
        roles=json.loads(roles),
        recipe=_recipe,
        hardening=_result,
        dataset_name=name,
    )


@st.cache_data(max_entries=8, show_spinner=False)
def refusal(_frame: pd.DataFrame, token: str, fmt: str) -> str | None:
    """The format's refusal of this table, if any (a message with no cell value), or None."""
    try:
        check_exportable(_frame, fmt)
    except PrivLensError as exc:
        return str(exc)
    return None


@st.cache_data(max_entries=8, show_spinner="Estimating the download's size and build time…")
def estimate(
    _frame: pd.DataFrame,
    _report: Any,
    token: str,
    fmt: str,
    bundle: bool,
    encryption: str,
    recipe_json: str,
) -> Any:
    """Size (file and zip bundle) and build time; takes the kind of encryption, no secret."""
    return estimate_build(
        _frame,
        fmt,
        bundle=bundle,
        encrypted=encryption != "none",
        passphrase=encryption in ("passphrase", "age"),
        recipe_json=recipe_json,
        report_html=_report.to_html() if bundle else None,
        report_json=_report.to_json() if bundle else None,
    )


def dp_spent() -> tuple[float, float] | None:
    """(ε, δ) spent from the table's budget (releases and noisy exports), or None."""
    ledger = state.ledger()
    if ledger is None or not ledger.entries:
        return None
    total = ledger.composition()
    return float(total.epsilon), float(total.delta)


def secret_inputs(mode: str) -> tuple[str | None, bytes | None, bool]:
    """Draw the passphrase or key inputs of ``mode``: ``(passphrase, key, ready)``."""
    if mode in ("passphrase", "age"):
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
        if passphrase and confirm and passphrase != confirm:
            st.error("The two passphrases differ. Type the same passphrase twice.")
        return passphrase, None, bool(passphrase) and passphrase == confirm
    if mode == "key":
        if st.button("Generate a new key", key="export_genkey"):
            st.session_state["export_key"] = crypto.generate_key()
        key = st.session_state.get("export_key")
        if key is None:
            st.info("Generate a key, download it, then download the encrypted file.")
            return None, None, False
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
        return None, key, True
    return None, None, True


def _charge(recipe: Recipe, token: str, digest: str) -> None:
    try:
        state.charge(
            noise_spends(recipe),
            detail={"hardening": token, "export": True, "recipe_digest": digest},
        )
    except PrivLensError as exc:
        st.session_state[_CHARGE_ERROR] = str(exc)


def noise_gate(recipe: Recipe, token: str, dp_page: Any) -> bool:
    """Whether the table may leave: True when its noise is paid for (or it has none).

    A recipe's noisy steps (PRAM, per-record noise) are charged to the table's budget once
    per hardened table, by the button drawn here, before the download can start. No budget,
    or not enough of it: a message, and the download stays disabled.
    """
    spends = noise_spends(recipe)
    if error := st.session_state.pop(_CHARGE_ERROR, None):
        show_error(error)
    if not spends or noise_charged(state.budget_history(), token):
        return True
    total = sum(eps for _, eps, _ in spends)
    ledger = state.ledger()
    if ledger is None:
        st.error(
            f"This recipe adds noise under ε = {total:g} in all ({len(spends)} step(s)), which "
            "spends the table's privacy budget, and the table has no budget yet. Set one on "
            "the Differential privacy page, then come back to export."
        )
        st.page_link(dp_page, label="Set the budget on the Differential privacy page")
        return False
    try:
        ledger.spend_many(spends)  # would it fit? The charge itself is the click below.
    except PrivLensError as exc:
        show_error(exc)
        return False
    st.info(
        f"This table carries noise under ε = {total:g} ({len(spends)} step(s)). Exporting it "
        f"spends that from the table's budget (ε left: {ledger.remaining_epsilon:.4g}), once "
        "for this table."
    )
    st.button(
        f"Spend ε = {total:g} and enable the download",
        key="export_charge",
        type="primary",
        on_click=_charge,
        args=(recipe, token, state.workspace().recipe.digest()),
    )
    return False


def record(fmt: str, encryption: str) -> None:
    """``on_click`` of the download: add the export to the workspace's history."""
    try:
        state.record_export(format=fmt, encryption=encryption)
    except PrivLensError as exc:
        st.session_state[_RECORD_ERROR] = str(exc)


def record_error() -> None:
    """Show why the last download could not be recorded, if it could not."""
    if error := st.session_state.pop(_RECORD_ERROR, None):
        show_error(error)
