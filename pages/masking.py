"""Masking: pick a transform per column, see the risk and utility change live, keep the recipe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core import correlation, limits, masking, risk
from core.errors import PrivLensError, RecipeError
from core.recipe import (
    DEFAULT_SECRET,
    TRANSFORMS,
    HardeningResult,
    ParamSpec,
    Recipe,
    Step,
    apply,
    charge_ledger,
    noise_spends,
    suggest_step,
)
from core.roles import Role
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.state import (
    cast_steps,
    dataset_id,
    hardening,
    require_dataset,
    role_columns,
    roles,
    set_hardening,
)
from ui.text import md

ensure_routed()  # a deep link right after start-up must still go through app.py

KEEP = "keep"
PREVIEW_ROWS = 8
# Kind changes ("cast") are made on the Data page and lead every recipe; not offered here.
SINGLE = [name for name, spec in TRANSFORMS.items() if not spec.many and name != "cast"]


# --- cached pure computations (never given the key) ----------------------------------------


@st.cache_data(max_entries=16, show_spinner=False)
def _risk(_df: pd.DataFrame, token: str, qis: tuple[str, ...]) -> risk.RiskSummary:
    return risk.risk_summary(_df, list(qis))


@st.cache_data(max_entries=16, show_spinner="Comparing associations…")
def _association(_df: pd.DataFrame, token: str, columns: tuple[str, ...]) -> np.ndarray:
    return np.abs(correlation.association_matrix(_df, columns=list(columns)).value)


# --- widget state <-> recipe ---------------------------------------------------------------


def _tkey(i: int) -> str:
    return f"mask_t_{i}"


def _pkey(i: int, transform: str, name: str) -> str:
    return f"mask_p_{i}_{transform}_{name}"


def _to_widget(spec: ParamSpec, value: Any) -> Any:
    if spec.kind in ("numbers", "texts"):
        return ", ".join(str(v) for v in value) if value else ""
    if spec.kind == "mapping":
        return "\n".join(f"{k} = {v}" for k, v in (value or {}).items())
    if spec.kind == "date":
        return dt.date.fromisoformat(value) if value else dt.date.today()
    if spec.kind == "number" and not spec.required:
        return "" if value is None else f"{value:g}"
    return value


def _from_widget(spec: ParamSpec, raw: Any) -> Any:
    if spec.kind == "numbers":
        parts = [p.strip() for p in str(raw).split(",") if p.strip()]
        try:
            return [float(p) for p in parts] or None
        except ValueError:
            raise RecipeError(f"'{spec.name}' must be numbers separated by commas.") from None
    if spec.kind == "texts":
        return [p.strip() for p in str(raw).split(",") if p.strip()] or None
    if spec.kind == "mapping":
        pairs = [line.split("=", 1) for line in str(raw).splitlines() if "=" in line]
        return {a.strip(): b.strip() for a, b in pairs} or None
    if spec.kind == "date":
        return raw.isoformat() if raw else None
    if spec.kind == "number" and not spec.required:
        text = str(raw).strip()
        if not text:
            return None
        try:
            return float(text)
        except ValueError:
            raise RecipeError(f"'{spec.name}' must be a number or empty.") from None
    if spec.kind in ("text", "char") and not spec.required and spec.default is None:
        return raw or None
    return raw


def _default_value(spec: ParamSpec) -> Any:
    if spec.default is not None:
        return spec.default
    if spec.kind == "int":
        return int(spec.minimum or 0)
    if spec.kind == "number" and spec.required:
        return 1.0
    if spec.kind == "choice":
        return spec.choices[0]
    if spec.kind == "text" and spec.required:
        return ""
    return None


def _load_into_widgets(df: pd.DataFrame, steps: dict[str, Step], suppress: Step | None) -> None:
    """Set every editor widget from per-column steps and an optional suppression step."""
    for i, col in enumerate(df.columns):
        step = steps.get(str(col))
        st.session_state[_tkey(i)] = step.transform if step else KEEP
        for name, spec in TRANSFORMS.items():
            for p in spec.params:
                value = step.params.get(p.name) if step and step.transform == name else None
                value = _default_value(p) if value is None else value
                st.session_state[_pkey(i, name, p.name)] = _to_widget(p, value)
    qis = role_columns(Role.QUASI_IDENTIFIER)
    st.session_state["mask_suppress"] = suppress is not None
    st.session_state["mask_qi"] = list(suppress.columns) if suppress else qis
    st.session_state["mask_k"] = int(suppress.params.get("k", 5)) if suppress else 5
    st.session_state["mask_mode"] = (
        str(suppress.params.get("mode", "cells")) if suppress else "cells"
    )


def _suggest(df: pd.DataFrame) -> None:
    role_map = roles()
    steps = {}
    for col in df.columns:
        step = suggest_step(str(col), df[col], role_map.get(str(col), Role.OTHER))
        if step is not None:
            steps[str(col)] = step
    _load_into_widgets(df, steps, None)


def _on_upload(df: pd.DataFrame) -> None:
    upload = st.session_state.get("mask_upload")
    if upload is None:
        return
    try:
        recipe = Recipe.from_json(upload.getvalue())
        missing = [c for s in recipe.steps for c in s.columns if c not in df.columns]
        if missing:
            raise RecipeError(
                f"The recipe uses {len(missing)} column(s) this data does not have: "
                + ", ".join(dict.fromkeys(missing))
                + "."
            )
        per_col: dict[str, Step] = {}
        suppress = None
        pending = list(cast_steps())  # the Data page's kind changes, already applied
        for s in recipe.steps:
            if s.transform == "cast":
                if pending and s == pending[0]:
                    pending.pop(0)
                    continue
                raise RecipeError(
                    f"'{s.describe()}' changes a column's kind. Make that change on the Data "
                    "page first (Column kinds), then load the recipe again."
                )
            if s.transform == "suppress" and suppress is None:
                suppress = s
            elif not TRANSFORMS[s.transform].many and s.columns[0] not in per_col:
                per_col[s.columns[0]] = s
            else:
                raise RecipeError(
                    f"'{s.describe()}' cannot be shown in this editor (one transform per "
                    "column plus one suppression step). Replay the recipe with "
                    "python -m core harden."
                )
    except PrivLensError as exc:
        st.session_state["mask_upload_error"] = str(exc)
        return
    st.session_state.pop("mask_upload_error", None)
    _load_into_widgets(df, per_col, suppress)


def _new_key() -> None:
    st.session_state["masking_key"] = masking.generate_key()
    st.session_state["masking_key_version"] = st.session_state.get("masking_key_version", 0) + 1


def _use_entered_key() -> None:
    try:
        key = masking.key_from_text(st.session_state.get("mask_key_text", ""))
    except PrivLensError as exc:
        st.session_state["mask_key_error"] = str(exc)
        return
    st.session_state.pop("mask_key_error", None)
    st.session_state["masking_key"] = key
    st.session_state["masking_key_version"] = st.session_state.get("masking_key_version", 0) + 1
    st.session_state["mask_key_text"] = ""


# --- page ----------------------------------------------------------------------------------

df = require_dataset()
ds = dataset_id()
st.title("Masking")
st.caption(
    "What must change so this table is safe enough, and what does each change cost? Pick a "
    "transform per column; the risk and utility below follow every change."
)
if "masking_key" not in st.session_state:
    _new_key()
if st.session_state.get("masking_ds") != ds:
    _suggest(df)
    st.session_state["masking_ds"] = ds

with st.sidebar.expander("Recipe file", icon=":material/receipt_long:"):
    st.file_uploader(
        "Load a recipe (JSON)",
        type=["json"],
        key="mask_upload",
        on_change=_on_upload,
        args=(df,),
    )
    if err := st.session_state.get("mask_upload_error"):
        show_error(err)
    st.button("Reset to suggestions", key="mask_reset", on_click=_suggest, args=(df,))


@st.fragment
def workbench() -> None:
    """Editor and live before/after, rerun alone when one of its widgets changes."""
    role_map = roles()
    st.subheader("Transforms per column")
    steps: list[Step] = []
    problems: list[str] = []
    for i, col in enumerate(df.columns):
        kind = "numeric" if masking._is_numeric(df[col]) else "text"
        options = [KEEP] + [t for t in SINGLE if TRANSFORMS[t].needs in ("any", kind)]
        if st.session_state.get(_tkey(i)) not in options:
            st.session_state[_tkey(i)] = KEEP
        left, right = st.columns([1, 3])
        role = role_map.get(str(col), Role.OTHER)
        left.markdown(f"**{md(col)}**  \n:gray[{Role(role).label} · {kind}]")
        with right:
            transform = st.selectbox(
                f"Transform for {md(col)}",
                options,
                key=_tkey(i),
                format_func=lambda t: "Keep as is" if t == KEEP else TRANSFORMS[t].label,
                label_visibility="collapsed",
            )
            if transform == KEEP:
                continue
            spec = TRANSFORMS[transform]
            shown = [p for p in spec.params if p.name != "secret"]
            params: dict[str, Any] = {}
            cells = st.columns(max(len(shown), 1))
            for cell, p in zip(cells, shown, strict=False):
                params[p.name] = _param_widget(cell, i, transform, p)
            try:
                clean = {k: _from_widget(p, params[k]) for p in shown if (k := p.name) in params}
                clean = {k: v for k, v in clean.items() if v is not None}
                if transform == "pseudonymize":
                    clean["secret"] = DEFAULT_SECRET
                step = (
                    Recipe(steps=(Step(transform=transform, columns=(str(col),), params=clean),))
                    .checked()
                    .steps[0]
                )
                steps.append(step)
            except PrivLensError as exc:
                problems.append(str(exc))
                show_error(str(exc).replace("Step 1", str(col), 1))

    st.subheader("k-anonymity")
    dropped = {s.columns[0] for s in steps if s.transform == "drop"}
    qi_options = [str(c) for c in df.columns]
    qis = st.multiselect(
        "Quasi-identifiers (risk is measured over these)", qi_options, key="mask_qi"
    )
    c1, c2, c3 = st.columns([1, 2, 2])
    suppress = c1.toggle("Suppress until k-anonymous", key="mask_suppress")
    k = c2.slider("k", limits.K_MIN, limits.K_MAX, key="mask_k", disabled=not suppress)
    mode = c3.radio(
        "Suppress",
        ["cells", "records"],
        key="mask_mode",
        horizontal=True,
        disabled=not suppress,
        format_func=lambda m: "cells (values)" if m == "cells" else "whole records",
    )
    kept_qis = [q for q in qis if q not in dropped]
    if suppress and kept_qis:
        steps.append(
            Step(transform="suppress", columns=tuple(kept_qis), params={"k": k, "mode": mode})
        )
    if problems:
        st.stop()

    recipe = Recipe(steps=tuple(steps), source_columns=tuple(str(c) for c in df.columns))
    token = f"{ds}:{st.session_state['masking_key_version']}:{recipe.to_json()}"
    try:
        result = _applied(recipe, token)
    except PrivLensError as exc:
        show_error(exc)
        return
    # The Data page's kind changes are already in df; the recipe that is downloaded and
    # exported starts with them, so replaying it on the loaded file gives this result.
    recipe = Recipe(steps=(*cast_steps(), *recipe.steps), source_columns=recipe.source_columns)

    st.subheader("Before → after")
    if not qis:
        st.info("Pick quasi-identifiers above to measure the re-identification risk.")
    else:
        try:
            before = _risk(df, ds, tuple(qis))
            after = _after_risk(result, token, tuple(kept_qis)) if kept_qis else None
        except PrivLensError as exc:
            show_error(exc)
            after = before = None
        if before is not None:
            _risk_cards(before, after, len(result.frame))
    _utility(result, token)

    if noise_spends(recipe):
        st.caption(
            "PRAM and per-record noise draw fresh noise each time the recipe changes. What this "
            "page shows is for you only and not charged; the table handed to Export is charged "
            "once. Picking among draws spends ε for each draw you look at: settle the recipe "
            "first, then hand over the draw you get."
        )
    st.caption(f"First {PREVIEW_ROWS} rows, before and after")
    idx = df.index[:PREVIEW_ROWS]
    b, a = st.columns(2)
    b.dataframe(df.loc[idx], hide_index=True)
    a.dataframe(result.frame.loc[result.frame.index.intersection(idx)], hide_index=True)
    log = pd.DataFrame(
        [
            {
                "column": c.column,
                "transforms": "dropped" if c.dropped else ", ".join(c.transforms),
                "cells changed": c.cells_changed,
                "cells suppressed": c.cells_suppressed,
            }
            for c in result.changes
            if c.transforms or c.cells_changed or c.cells_suppressed
        ]
    )
    if not log.empty:
        st.dataframe(log, hide_index=True, key="mask_log")
    if result.records_removed:
        st.caption(f"Records removed: {result.records_removed:,}")
    show_warnings(result.warnings)

    d1, d2 = st.columns(2)
    d1.download_button(
        "Download recipe (JSON)",
        recipe.to_json(),
        file_name="privlens-recipe.json",
        mime="application/json",
        key="mask_download",
        on_click="ignore",
        help="Steps and parameters only; the pseudonymization key is never in it.",
    )
    if d2.button("Use the hardened table for export", key="mask_use", type="primary"):
        if _charge_noise(recipe, result):
            set_hardening(recipe, result)
            st.success(
                f"The Export page will export the hardened table ({len(result.frame):,} rows × "
                f"{result.frame.shape[1]} columns) with its recipe."
            )


def _charge_noise(recipe: Recipe, result: HardeningResult) -> bool:
    """Charge the recipe's noisy steps (PRAM, per-record noise) to the dataset's budget.

    The hardened table leaves through Export, so its ε is spent here, once per noisy table
    (the same table handed over again is not charged twice). Returns False, with a message,
    when there is no budget or not enough of it; nothing is handed over then.
    """
    spends = noise_spends(recipe)
    current = hardening()
    if not spends or (current is not None and current.result is result):
        return True
    ledgers = st.session_state.setdefault("dp_ledgers", {})
    ledger = ledgers.get(ds)
    total = sum(e for _, e, _ in spends)
    if ledger is None:
        st.error(
            f"This recipe adds noise under ε = {total:g} in all ({len(spends)} step(s)), which "
            "spends privacy budget. Start a privacy budget on the Differential privacy page "
            "first, then hand the table over again."
        )
        return False
    try:
        ledgers[ds] = charge_ledger(ledger, recipe)
    except PrivLensError as exc:
        st.error(str(exc))
        return False
    st.info(
        f"Charged ε = {total:g} for {len(spends)} noisy step(s) to the privacy budget; "
        f"remaining ε: {ledgers[ds].remaining_epsilon:.4g}."
    )
    return True


def _applied(recipe: Recipe, token: str) -> HardeningResult:
    """The recipe applied to the dataset, remembered for this session only.

    ``token`` names the dataset, the key's version (never the key) and the recipe JSON. The
    last result lives in ``st.session_state``, not in a cache shared across sessions, so
    reruns that leave the recipe alone (risk settings, preview, hand-off) skip the work.
    """
    memo = st.session_state.get("mask_applied")
    if memo is not None and memo[0] == token:
        return memo[1]
    st.session_state.pop("mask_applied", None)  # free the old table before building a new one
    with st.spinner("Applying the recipe…"):
        result = apply(df, recipe, secrets={DEFAULT_SECRET: st.session_state["masking_key"]})
    st.session_state["mask_applied"] = (token, result)
    return result


def _after_risk(result: HardeningResult, token: str, qis: tuple[str, ...]) -> risk.RiskSummary:
    """Risk of the hardened table, remembered for this session next to it.

    Kept in ``st.session_state`` rather than a shared cache: the hardened table is this
    session's alone, and its per-record arrays (8 bytes a row each) need not be copied.
    """
    memo = st.session_state.get("mask_after_risk")
    if memo is not None and memo[0] == (token, qis):
        return memo[1]
    summary = risk.risk_summary(result.frame, list(qis))
    st.session_state["mask_after_risk"] = ((token, qis), summary)
    return summary


def _param_widget(cell: Any, i: int, transform: str, p: ParamSpec) -> Any:
    key = _pkey(i, transform, p.name)
    label = p.name.replace("_", " ")
    if key not in st.session_state:
        st.session_state[key] = _to_widget(p, _default_value(p))
    if p.kind == "int":
        return cell.number_input(
            label,
            min_value=None if p.minimum is None else int(p.minimum),
            max_value=None if p.maximum is None else int(p.maximum),
            step=1,
            key=key,
        )
    if p.kind == "number" and p.required:
        return cell.number_input(label, key=key, format="%g")
    if p.kind == "bool":
        return cell.checkbox(label, key=key)
    if p.kind == "choice":
        return cell.selectbox(label, p.choices, key=key)
    if p.kind == "date":
        return cell.date_input(label, key=key, min_value=dt.date(1800, 1, 1))
    if p.kind == "mapping":
        return cell.text_area(label, key=key, help="One 'value = group' per line")
    helps = {"numbers": "Numbers separated by commas", "texts": "Separated by commas"}
    help_text = " ".join(h for h in (helps.get(p.kind), p.help) if h) or None
    return cell.text_input(label, key=key, help=help_text)


def _risk_cards(before: risk.RiskSummary, after: risk.RiskSummary | None, n_after: int) -> None:
    if after is None:
        st.info("Every quasi-identifier is dropped: nothing left to link on.")
        return
    cards = st.columns(4)
    cards[0].metric("k (k-anonymity)", f"{after.k:,}", delta=after.k - before.k, help=(
        "Smallest equivalence class over the quasi-identifiers; before → after."))  # fmt: skip
    cards[1].metric(
        "Sample uniques",
        f"{after.sample_uniques:,}",
        delta=after.sample_uniques - before.sample_uniques,
        delta_color="inverse",
        help="Records alone in their equivalence class (f_k = 1); before → after.",
    )
    cards[2].metric(
        "Records at risk",
        f"{after.prosecutor.records_at_risk:,}",
        delta=after.prosecutor.records_at_risk - before.prosecutor.records_at_risk,
        delta_color="inverse",
        help=f"Records with prosecutor risk 1/f_k above {after.prosecutor.threshold:g}.",
    )
    cards[3].metric(
        "Average risk",
        f"{100 * after.prosecutor.average:.2f}%",
        delta=f"{100 * (after.prosecutor.average - before.prosecutor.average):+.2f} pp",
        delta_color="inverse",
        help="Mean of 1/f_k over records (prosecutor model).",
    )
    st.caption(
        f"Before: k = {before.k:,}, {before.sample_uniques:,} uniques, "
        f"{before.prosecutor.records_at_risk:,} records at risk, average "
        f"{100 * before.prosecutor.average:.2f}% over {before.n:,} rows; after over {n_after:,}."
    )


_ASSOC_HELP = (
    "Mean absolute change of the association matrix (|Pearson r|, Cramér's V, eta) over the "
    "pairs of kept non-identifier columns: 0 = structure preserved."
)


def _utility(result: Any, token: str) -> None:
    identifiers = set(role_columns(Role.IDENTIFIER))
    cols = tuple(
        str(c) for c in df.columns if c in result.frame.columns and str(c) not in identifiers
    )
    u1, u2 = st.columns(2)
    u1.metric(
        "Cells changed or suppressed",
        f"{100 * result.share_changed:.1f}%",
        help="Share of all cells changed, suppressed, dropped or in removed records.",
    )
    if len(cols) < 2:
        u2.metric("Mean |Δ association|", "—", help=_ASSOC_HELP)
        return
    rows = _utility_rows(len(df))
    sample = df if rows is None else df.iloc[rows]
    kept = result.frame
    if rows is not None:
        if kept.index.equals(df.index):  # no record removed: the same positions
            kept = kept.iloc[rows]
        else:
            kept = kept.loc[kept.index.isin(sample.index)]
    try:
        a = _association(sample, f"{ds}:{len(sample)}", cols)
        b = _association(kept, f"{token}:{len(sample)}", cols)
    except PrivLensError as exc:
        u2.metric("Mean |Δ association|", "—", help=_ASSOC_HELP)
        st.caption(md(exc))
        return
    iu = np.triu_indices(len(cols), k=1)
    diff = np.abs(a[iu] - b[iu])
    value = float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")
    u2.metric(
        "Mean |Δ association|",
        "—" if np.isnan(value) else f"{value:.3f}",
        help=_ASSOC_HELP
        + (
            ""
            if rows is None
            else f" Estimated on a uniform random sample of {len(sample):,} of {len(df):,} "
            "rows (the same rows before and after)."
        ),
    )
    if rows is not None:
        u2.caption(f"Estimate: {len(sample):,}-row sample of {len(df):,}.")


def _utility_rows(n: int) -> np.ndarray | None:
    """Sorted row positions of the utility sample, or None when the table is small enough.

    A seeded uniform sample (a labelled estimate, not a release): the same rows on every
    rerun, so before and after compare like with like.
    """
    size = limits.MASKING_UTILITY_SAMPLE_ROWS
    if n <= size:
        return None
    return np.sort(np.random.default_rng(0).choice(n, size=size, replace=False))


with st.sidebar.expander("Pseudonymization key", icon=":material/key:"):
    st.caption(
        "A random 256-bit key was made for this session. It is never written into the recipe "
        "or an export. Download it to get the same pseudonyms with `python -m core harden "
        "--key-file`."
    )
    # Built on click (a deferred download): bytes passed directly would be published in the
    # media store on every render, readable at its URL without the session.
    st.download_button(
        "Download key",
        lambda key=st.session_state["masking_key"]: key.hex() + "\n",
        file_name="pseudonym.key",
        key="mask_key_download",
        on_click="ignore",
    )
    st.button("New random key", key="mask_key_new", on_click=_new_key)
    st.text_input("Or enter your key (hex or passphrase)", type="password", key="mask_key_text")
    st.button("Use this key", key="mask_key_use", on_click=_use_entered_key)
    if err := st.session_state.get("mask_key_error"):
        show_error(err)

workbench()
