"""The Masking page's results: risk and utility before -> after, the change log, a preview.

Everything here shows the workspace's current recipe applied (:func:`ui.state.hardening`),
the very table the Export page exports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from core import correlation, limits, risk
from core.errors import PrivLensError
from core.recipe import NOISY_TRANSFORMS, noise_spends
from core.recipe_editor import EditorResult, MetricChange, risk_changes, utility_rows
from core.roles import Role
from ui import state
from ui.feedback import show_error, show_warnings
from ui.state import Hardening
from ui.text import md

PREVIEW_ROWS = 8
_ASSOC_HELP = (
    "Mean absolute change of the association matrix (|Pearson r|, Cramér's V, eta) over the "
    "pairs of kept non-identifier columns: 0 = structure preserved."
)


@st.cache_data(max_entries=16, show_spinner=False)
def _risk(_df: pd.DataFrame, token: str, qis: tuple[str, ...]) -> risk.RiskSummary:
    return risk.risk_summary(_df, list(qis))


def _before_risk(df: pd.DataFrame, token: str, qis: tuple[str, ...]) -> risk.RiskSummary:
    """Risk of the loaded table: the shared cache, held in this session once read.

    Each read of the shared cache copies the summary out of it (its per-record arrays are
    8 bytes a row each); the session keeps the copy it read, so a change of the recipe does
    not read it again.
    """
    memo = st.session_state.get("mask_before_risk")
    if memo is not None and memo[0] == (token, qis):
        return memo[1]  # type: ignore[no-any-return]
    summary = _risk(df, token, qis)
    st.session_state["mask_before_risk"] = ((token, qis), summary)
    return summary


@st.cache_data(max_entries=16, show_spinner="Comparing associations…")
def _association(_df: pd.DataFrame, token: str, columns: tuple[str, ...]) -> np.ndarray:
    return np.abs(correlation.association_matrix(_df, columns=list(columns)).value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CardRisk:
    """The figures the risk cards show of the hardened table: the fields of
    :class:`core.risk.RiskSummary` that :func:`core.recipe_editor.risk_changes` reads,
    each computed as :func:`core.risk.risk_summary` computes it, without the per-record
    arrays of the individual and marketer risks the cards do not show."""

    n: int
    k: int
    sample_uniques: int
    prosecutor: risk.ProsecutorRisk


def _after_risk(h: Hardening, qis: tuple[str, ...]) -> CardRisk:
    """Risk of the hardened table, remembered for this session next to it.

    Kept in ``st.session_state`` rather than a shared cache: the hardened table is this
    session's alone, and its per-record arrays (8 bytes a row each) need not be copied.
    """
    memo = st.session_state.get("mask_after_risk")
    if memo is not None and memo[0] == (h.token, qis):
        return memo[1]  # type: ignore[no-any-return]
    frame = h.result.frame
    # the classes from the codes the recipe already has: no column is read again
    ec = risk.equivalence_classes(frame, list(qis), known_codes=h.result.column_codes)
    fk = ec.class_fk
    summary = CardRisk(
        n=ec.n,
        k=int(fk.min()),
        sample_uniques=int(ec.class_sizes[fk == 1].sum()),
        prosecutor=risk.prosecutor_risk(ec),
    )
    st.session_state["mask_after_risk"] = ((h.token, qis), summary)
    return summary


def _card(where: st.delta_generator.DeltaGenerator, c: MetricChange) -> None:
    if c.delta is None:  # nothing changed: no arrow, no colour
        where.metric(c.label, c.value, "no change", delta_color="off", delta_arrow="off",
                     help=c.help)  # fmt: skip
        return
    # green when the change helps privacy, red when it hurts it, whatever its sign
    where.metric(c.label, c.value, c.delta, delta_color="green" if c.better else "red",
                 help=c.help)  # fmt: skip


def risk_cards(df: pd.DataFrame, built: EditorResult, h: Hardening) -> None:
    """k, uniques, records at risk and average risk, before -> after."""
    if not built.quasi_identifiers:
        st.info("Pick quasi-identifiers (left) to measure the re-identification risk.")
        return
    if not built.kept_quasi_identifiers:
        st.info("Every quasi-identifier is dropped: nothing left to link on.")
        return
    try:
        before = _before_risk(df, state.dataset_id(), built.quasi_identifiers)
        after = _after_risk(h, built.kept_quasi_identifiers)
    except PrivLensError as exc:
        show_error(exc)
        return
    changes = risk_changes(before, after)
    for row in (changes[:2], changes[2:]):
        for cell, c in zip(st.columns(2), row, strict=True):
            _card(cell, c)
    st.caption(
        f"Before: k = {before.k:,}, {before.sample_uniques:,} uniques, "
        f"{before.prosecutor.records_at_risk:,} records at risk, average "
        f"{100 * before.prosecutor.average:.2f}% over {before.n:,} rows; after over "
        f"{len(h.result.frame):,}."
    )


def utility(df: pd.DataFrame, h: Hardening) -> None:
    """How much the recipe changes: cells, records, and the association structure."""
    result = h.result
    n_kept = len(result.frame)
    c1, c2 = st.columns(2)
    c1.metric(
        "Cells changed",
        f"{100 * result.share_changed:.1f}%",
        help="Share of all cells whose value changed, was suppressed, or is in a dropped "
        'column or a removed record. A value that only changes kind (39 → "39") is unchanged.',
    )
    c2.metric(
        "Records changed",
        f"{result.records_changed:,}",
        help=f"Records (of {n_kept:,} kept) with at least one value changed or suppressed; "
        f"{result.records_removed:,} record(s) removed and dropped columns are counted apart.",
    )
    c3, _ = st.columns(2)
    identifiers = set(state.role_columns(Role.IDENTIFIER))
    cols = tuple(
        str(c) for c in df.columns if c in result.frame.columns and str(c) not in identifiers
    )
    if len(cols) < 2:
        c3.metric("Mean |Δ association|", "—", help=_ASSOC_HELP)
        return
    rows = _utility_rows(len(df))
    sample = _before_sample(df, rows)
    try:
        a = _association(sample, f"{state.dataset_id()}:{len(sample)}", cols)
        if result.records_removed:
            kept = result.frame
            if rows is not None:
                kept = kept.loc[kept.index.isin(sample.index)]
            b = _association(kept, f"{h.token}:{len(sample)}", cols)
        else:  # the same rows: only pairs with a changed column are measured again
            b = _association_after(sample, rows, cols, a, h)
    except PrivLensError as exc:
        c3.metric("Mean |Δ association|", "—", help=_ASSOC_HELP)
        st.caption(md(exc))
        return
    iu = np.triu_indices(len(cols), k=1)
    diff = np.abs(a[iu] - b[iu])
    value = float(np.nanmean(diff)) if np.isfinite(diff).any() else float("nan")
    note = (
        ""
        if rows is None
        else f" Estimated on a uniform random sample of {len(sample):,} of {len(df):,} rows "
        "(the same rows before and after)."
    )
    c3.metric("Mean |Δ association|", "—" if np.isnan(value) else f"{value:.3f}",
              help=_ASSOC_HELP + note)  # fmt: skip
    if rows is not None:
        c3.caption(f"Estimate: {len(sample):,}-row sample of {len(df):,}.")


def _utility_rows(n: int) -> np.ndarray | None:
    return utility_rows(n, limits.MASKING_UTILITY_SAMPLE_ROWS)


def _before_sample(df: pd.DataFrame, rows: np.ndarray | None) -> pd.DataFrame:
    """The loaded table's utility sample, taken once per dataset in this session."""
    if rows is None:
        return df
    key = (state.dataset_id(), len(df), len(rows), int(rows[0]), int(rows[-1]))
    memo = st.session_state.get("mask_utility_sample")
    if isinstance(memo, tuple) and memo[0] == key:
        return memo[1]  # type: ignore[no-any-return]
    sample = df.iloc[rows]
    st.session_state["mask_utility_sample"] = (key, sample)
    return sample


def _as_levels(
    series: pd.Series, codes: np.ndarray | None = None, rows: np.ndarray | None = None
) -> correlation.PairColumn:
    """A column read once for the association measures (:func:`core.correlation.pair_column`).

    A column the measures treat as categories keeps only its codes (the same partition of
    the rows: Cramér's V and eta depend on nothing else); ``codes`` are the column's codes
    when already known (``-1`` = missing, equal exactly when the values are), so it is not
    read again. Numeric columns keep their numbers. ``rows``: the sample's positions (the
    codes and the column are whole; only these rows are taken).
    """
    return correlation.pair_column(series, codes=codes, rows=rows)


#: Columns kept in a session's memo of the association change (each one sample long).
_LEVEL_ENTRIES = 64
#: Pairs whose counts a session's memo keeps (:func:`core.correlation.pair_counts`).
_COUNT_ENTRIES = 160

_Key = tuple[str, tuple[str, ...]]


def _association_after(
    sample: pd.DataFrame,
    rows: np.ndarray | None,
    cols: tuple[str, ...],
    before: np.ndarray,
    h: Hardening,
) -> np.ndarray:
    """The association matrix after the recipe, on the rows of ``before`` (``sample``).

    A pair of columns no step touches keeps its value; a pair with a changed column is
    measured on its own and remembered for this session by what both columns hold on the
    sample, so a change of one step measures the pairs of one column. Each column is read
    once per steps: on the sample's rows only, from the recipe's codes when it has them.

    A column whose last step is local suppression (no record removed) only lost values to
    it: its levels are those before the suppression with the sample's newly missing cells
    blanked, remembered by which cells they are. Changing k then reads no column's codes
    again, and a pair whose two columns lost the same cells of the sample keeps its value.
    A pair with such a column is measured from its counts before the suppression less the
    rows that lost a value (:func:`core.correlation.blanked_association`), the counts kept
    for the next k (and made as soon as the suppression is on, even before it blanks any of
    the sample's cells).
    """
    steps: dict[str, list[str]] = {c: [] for c in cols}
    last: dict[str, str] = {}
    for step in h.recipe.steps:
        if step.transform == "cast":
            continue
        for c in step.columns:
            if c in steps:  # fresh noise each time: such a column is tied to this table
                token = h.token if step.transform in NOISY_TRANSFORMS else ""
                steps[c].append(json.dumps(step.to_dict(), sort_keys=True) + token)
                last[c] = step.transform
    memo = st.session_state.get("mask_pair_memo")
    scope = (state.dataset_id(), st.session_state.get("masking_key_version", 0), len(sample))
    if not isinstance(memo, dict) or memo.get("scope") != scope or len(memo) > 4096:
        memo = {"scope": scope, "levels": {}}
        st.session_state["mask_pair_memo"] = memo
    levels: dict[_Key, correlation.PairColumn] = memo["levels"]
    counts: dict[tuple[_Key, _Key], correlation.PairCounts] = memo.setdefault("counts", {})
    kept = h.result.frame
    known = h.result.column_codes

    def remember(key: _Key, make: Any) -> correlation.PairColumn:
        if key in levels:
            levels[key] = levels.pop(key)  # the most recently used go last
        else:
            levels[key] = make()
            while len(levels) > _LEVEL_ENTRIES:
                levels.pop(next(iter(levels)))
        return levels[key]

    seen: dict[_Key, _Key] = memo.setdefault("blanked", {})  # the same steps blank the same cells

    def blanked(c: str) -> tuple[_Key, correlation.PairColumn, _Key, correlation.PairColumn] | None:
        """The key and levels of a column local suppression blanked, from its levels
        before it (and the key and levels of those)."""
        base_key = (c, tuple(steps[c][:-1]))
        known_key = seen.get((c, tuple(steps[c])))
        if known_key in levels and (known_key == base_key or base_key in levels):
            assert known_key is not None
            base = remember(base_key, lambda: None)
            return known_key, remember(known_key, lambda: None), base_key, base
        found = blanked_anew(c, base_key)
        if found is not None:
            seen[(c, tuple(steps[c]))] = found[0]
        return found

    def blanked_anew(
        c: str, base_key: _Key
    ) -> tuple[_Key, correlation.PairColumn, _Key, correlation.PairColumn] | None:
        if base_key[1] and base_key not in levels:
            return None  # not measured before the suppression in this session
        base = remember(base_key, lambda: _as_levels(sample[c]))  # (no step: as loaded)
        if base.kind != "categorical" or base.codes is None:
            return None
        missing, before = _missing(kept[c], rows), base.codes
        if np.array_equal(missing, before < 0):
            return base_key, base, base_key, base
        cells = hashlib.blake2b(np.packbits(missing).tobytes(), digest_size=16).hexdigest()
        key = (c, (*base_key[1], f"blanked:{cells}"))

        def make() -> correlation.PairColumn:
            codes = np.where(missing, -1, before)
            return correlation.PairColumn(kind="categorical", codes=codes, levels=base.levels)

        return key, remember(key, make), base_key, base

    read: dict[str, tuple[_Key, correlation.PairColumn]] = {}
    #: per column that lost cells to the suppression: its key and levels before it, and
    #: the positions of the sample's cells it lost
    bases: dict[str, tuple[_Key, correlation.PairColumn, np.ndarray]] = {}
    #: columns whose last step is local suppression that blanked none of the sample's cells
    untouched: set[str] = set()

    def column(c: str) -> tuple[_Key, correlation.PairColumn]:
        """The column's key in the memo and its levels (read once in this run)."""
        if c in read:
            return read[c]
        found = blanked(c) if last.get(c) == "suppress" else None
        if found is not None and found[0] != found[2]:
            assert found[1].codes is not None and found[3].codes is not None
            lost = np.flatnonzero((found[1].codes < 0) & (found[3].codes >= 0))
            bases[c] = (found[2], found[3], lost)
        elif found is not None:
            untouched.add(c)
        if found is None:
            key = (c, tuple(steps[c]))
            if not steps[c]:
                read[c] = key, remember(key, lambda: _as_levels(sample[c]))
            else:  # categories with known codes: only the sample's codes are read
                read[c] = key, remember(key, lambda: _as_levels(kept[c], known.get(c), rows))
        else:
            read[c] = found[0], found[1]
        return read[c]

    def pair_counts(key: tuple[_Key, _Key], a: correlation.PairColumn, b: correlation.PairColumn
                    ) -> correlation.PairCounts:  # fmt: skip
        if key in counts:
            counts[key] = counts.pop(key)  # the most recently used go last
        else:
            counts[key] = correlation.pair_counts(a, b)
            while len(counts) > _COUNT_ENTRIES:
                counts.pop(next(iter(counts)))
        return counts[key]

    def from_counts(a: str, b: str) -> float:
        """A pair with a blanked column: its counts before the suppression, less the rows
        that lost a value."""
        key_a, col_a, blank_a = bases.get(a) or (*column(a), None)
        key_b, col_b, blank_b = bases.get(b) or (*column(b), None)
        pair = pair_counts((key_a, key_b), col_a, col_b)
        res = correlation.blanked_association(pair, blank_a=blank_a, blank_b=blank_b)
        return float(np.abs(res.value))

    out = before.copy()
    for i, j in zip(*np.triu_indices(len(cols), k=1), strict=True):
        a, b = cols[i], cols[j]
        if not steps[a] and not steps[b]:
            continue
        (key_a, col_a), (key_b, col_b) = column(a), column(b)
        key = (*key_a, *key_b)
        if key not in memo:
            blanked_pair = a in bases or b in bases
            memo[key] = from_counts(a, b) if blanked_pair else _pair_value(col_a, col_b)
        if (a in untouched or b in untouched) and (a not in bases and b not in bases):
            # suppression on, none of the sample's cells blanked yet: count the pair now,
            # so the first move of k only subtracts the rows that lose a value
            pair_counts((key_a, key_b), col_a, col_b)
        out[i, j] = out[j, i] = memo[key]
    return out


def _missing(series: pd.Series, rows: np.ndarray | None) -> np.ndarray:
    """Which of the sample's cells of ``series`` are missing (its missing mask is cheap to
    read whole, except for Python objects, which are taken first, and Arrow arrays, whose
    null bitmap is read at the sample's rows only)."""
    if rows is not None and isinstance(series.array, pd.arrays.ArrowExtensionArray):
        found = _arrow_missing(series.array.__arrow_array__(), rows)
        if found is not None:
            return found
    if rows is None:
        return series.isna().to_numpy(dtype=bool)
    if series.dtype == object:
        return series.iloc[rows].isna().to_numpy(dtype=bool)
    return series.isna().to_numpy(dtype=bool)[rows]


def _arrow_missing(values: Any, rows: np.ndarray) -> np.ndarray | None:
    """The null flags of an Arrow array at ``rows``, read from its one chunk's validity
    bitmap (least significant bit first, one bit a row from the array's offset), or None
    when it has several chunks (then the caller asks pandas)."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks != 1:
            return None
        values = values.chunk(0)
    if values.null_count == 0:
        return np.zeros(rows.size, dtype=bool)
    validity = values.buffers()[0]
    if validity is None:  # nulls without a bitmap (a null type): every cell is missing
        return np.ones(rows.size, dtype=bool)
    bits = np.frombuffer(validity, dtype=np.uint8)
    at = rows + values.offset
    return ((bits[at >> 3] >> (at & 7)) & 1) == 0


def _pair_value(a: correlation.PairColumn, b: correlation.PairColumn) -> float:
    """|association| of two columns, the cell :func:`core.correlation.association_matrix`
    gives the pair (Cramér's V, eta, or the correlation of two numeric columns)."""
    return float(np.abs(correlation.pair_association(a, b).value))


def change_log(h: Hardening) -> None:
    """What each column went through, and how many of its cells changed."""
    result = h.result
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
    else:
        st.caption("The recipe changes nothing: Export exports the table as loaded.")
    if result.records_removed:
        st.caption(f"Records removed: {result.records_removed:,}")
    show_warnings(result.warnings)


def noise_note(h: Hardening) -> None:
    """Noisy steps: what is shown here is not charged; Export charges the table once."""
    spends = noise_spends(h.recipe)
    if not spends:
        return
    total = sum(e for _, e, _ in spends)
    st.caption(
        f"PRAM and per-record noise ({len(spends)} step(s), ε = {total:g} in all) draw fresh "
        "noise each time the recipe or the key changes. Looking at the draw here is not "
        "charged; the Export page charges its ε to the table's privacy budget when the table "
        "leaves. Picking among draws spends ε for each draw you look at: settle the recipe "
        "first, then export the draw you get."
    )


def preview(df: pd.DataFrame, h: Hardening) -> None:
    """The first rows before and after."""
    st.caption(f"First {PREVIEW_ROWS} rows, before and after")
    idx = df.index[:PREVIEW_ROWS]
    frame = h.result.frame
    st.dataframe(df.loc[idx], hide_index=True)
    st.dataframe(frame.loc[frame.index.intersection(idx)], hide_index=True)


def download(h: Hardening) -> None:
    """The recipe (kind changes first) as JSON; never a key."""
    st.download_button(
        "Download recipe (JSON)",
        h.recipe.to_json(),
        file_name="privlens-recipe.json",
        mime="application/json",
        key="mask_download",
        on_click="ignore",
        help="Steps and parameters only; the pseudonymization key is never in it.",
    )
