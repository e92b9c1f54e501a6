"""The privacy report: what was done to a table, the risk before and after, and what it cost.

A report is a plain dictionary (its JSON twin) rendered to a self-contained HTML page with
plotly charts embedded. It holds no cell value, and nothing from which the cells a release
withholds can be tested: the original table is described by its shape and schema only (a
digest of it would let anyone holding the release check guesses of the suppressed cells
offline), the released table also by a SHA-256 digest of its content (which the recipient
can check against the table they got). Every figure is a count, a share or a measure; the
correlation change leaves out the cells the release suppressed and the records it removed.
Secrets (keys, passphrases) never reach this module.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

import core
from core.errors import InvalidParameterError

REPORT_VERSION = 2  # 2: the audit trail (releases and exports)


@dataclass(frozen=True, slots=True, kw_only=True)
class PrivacyReport:
    """A report as data (:attr:`data`), JSON (:meth:`to_json`) and HTML (:meth:`to_html`)."""

    data: dict[str, Any]

    def to_json(self) -> str:
        """The JSON twin of the HTML report."""
        return json.dumps(self.data, indent=2, ensure_ascii=False, default=_json_default) + "\n"

    def to_html(self) -> str:
        """A self-contained HTML page (plotly.js embedded once, no external requests)."""
        return _render_html(self.data)

    def with_audit(
        self,
        releases: Sequence[Any] = (),
        exports: Sequence[Any] = (),
        *,
        dp_spent: tuple[float, float] | None = None,
    ) -> PrivacyReport:
        """The same report with its audit trail and the budget spent replaced.

        The risk figures take the work; the history changes at every release or export, so
        a page builds the report once per table and brings its history up to date here.
        """
        data = {**self.data, "audit": audit_trail(releases, exports)}
        data["differential_privacy"] = _dp_block(dp_spent)
        return replace(self, data=data)


def _dp_block(dp_spent: tuple[float, float] | None) -> dict[str, Any] | None:
    if dp_spent is None:
        return None
    return {"epsilon": float(dp_spent[0]), "delta": float(dp_spent[1]), "composition": "see ledger"}


#: The rows of :func:`risk_comparison`: report key, label, decimals (None: a count).
_COMPARED = (
    ("k", "k (smallest class)", None),
    ("sample_uniques", "sample uniques", None),
    ("records_at_risk", "records at risk", None),
    ("prosecutor_average_risk", "average prosecutor risk", 4),
    ("prosecutor_highest_risk", "highest prosecutor risk", 4),
)


def risk_comparison(data: dict[str, Any]) -> list[tuple[str, Any, Any]] | None:
    """The headline risk measures before and after, as ``(measure, before, after)`` rows.

    None when the report has no quasi-identifier (no risk to compare). Shares are rounded to
    4 decimals; a measure the released table lacks (its QIs were dropped) is None after.

    >>> risk_comparison({"risk_before": {"quasi_identifiers": []}, "risk_after": {}}) is None
    True
    """
    before, after = data["risk_before"], data["risk_after"]
    if "k" not in before:
        return None
    rows = []
    for key, label, decimals in _COMPARED:
        b, a = before.get(key), after.get(key)
        if decimals is not None:
            b = None if b is None else round(float(b), decimals)
            a = None if a is None else round(float(a), decimals)
        rows.append((label, b, a))
    return rows


def _when(at: float) -> str:
    return datetime.fromtimestamp(float(at), UTC).isoformat(timespec="seconds")


def audit_trail(releases: Sequence[Any] = (), exports: Sequence[Any] = ()) -> dict[str, Any]:
    """The workspace's history as the report shows it: each release and each export.

    Parameters
    ----------
    releases : sequence of core.workspace.ReleaseRecord
        Differentially private releases: query, column, mechanism, ε, δ, time.
    exports : sequence of core.workspace.ExportRecord
        Exports: format, encryption (the choice, never the key or passphrase), the digest of
        the recipe exported, time.

    Returns
    -------
    dict
        ``{"releases": [...], "exports": [...]}``, oldest first, times in ISO 8601 UTC.

    Examples
    --------
    >>> from types import SimpleNamespace as R
    >>> audit_trail(exports=[R(format="csv", encryption="key", recipe_digest="ab", at=0)])
    {'releases': [], 'exports': [{'format': 'csv', 'encryption': 'key', \
'recipe_digest': 'ab', 'time': '1970-01-01T00:00:00+00:00'}]}
    """
    return {
        "releases": [
            {
                "query": str(r.query),
                "column": None if r.column is None else str(r.column),
                "mechanism": str(r.mechanism),
                "epsilon": float(r.epsilon),
                "delta": float(r.delta),
                "time": _when(r.at),
            }
            for r in sorted(releases, key=lambda r: r.at)
        ],
        "exports": [
            {
                "format": str(e.format),
                "encryption": str(e.encryption),
                "recipe_digest": str(e.recipe_digest),
                "time": _when(e.at),
            }
            for e in sorted(exports, key=lambda e: e.at)
        ],
    }


def _json_default(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    raise TypeError(f"not serializable: {type(value).__name__}")


def shape(frame: pd.DataFrame) -> dict[str, Any]:
    """Describe a table by its size and schema only: rows, columns and their types.

    This is all the report says about the original table: no digest, no value.

    >>> shape(pd.DataFrame({"a": [1, 2]}))
    {'rows': 2, 'columns': 1, 'schema': {'a': 'int64'}}
    """
    return {
        "rows": int(len(frame)),
        "columns": int(frame.shape[1]),
        "schema": {str(c): str(t) for c, t in frame.dtypes.items()},
    }


def fingerprint(frame: pd.DataFrame) -> dict[str, Any]:
    """Describe a released table: its :func:`shape` and a SHA-256 digest of its content.

    The digest is SHA-256 over pandas' per-row hashes (index excluded) and the column names,
    so the same table always gives the same digest and any change of a cell changes it.
    Take it only of data that is released: an unkeyed digest of a table is an oracle for
    every cell of it that a reader does not hold (guess, hash, compare), so the report never
    holds one of the original.

    >>> fingerprint(pd.DataFrame({"a": [1, 2]}))["rows"]
    2
    """
    row_hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(row_hashes.tobytes())
    return {**shape(frame), "sha256": digest.hexdigest()}


def _risk_block(
    frame: pd.DataFrame,
    qis: Sequence[str],
    sensitive: Sequence[str],
    *,
    missing: str,
    threshold: float,
) -> dict[str, Any]:
    from core.attribute_risk import attribute_risks
    from core.risk import equivalence_classes, risk_summary

    present_qis = [q for q in qis if q in frame.columns]
    if not present_qis:
        return {"quasi_identifiers": [], "note": "no quasi-identifier left in the table"}
    ec = equivalence_classes(frame, present_qis, missing=missing)
    s = risk_summary(frame, present_qis, missing=missing, threshold=threshold, classes=ec)
    block: dict[str, Any] = {
        "quasi_identifiers": present_qis,
        "missing_policy": str(missing),
        "records": s.n,
        "k": s.k,
        "classes": s.n_classes,
        "sample_uniques": s.sample_uniques,
        "records_in_classes_below_2": s.below_2,
        "records_in_classes_below_3": s.below_3,
        "records_in_classes_below_5": s.below_5,
        "prosecutor_highest_risk": s.prosecutor.highest,
        "prosecutor_average_risk": s.prosecutor.average,
        "records_at_risk_threshold": threshold,
        "records_at_risk": s.prosecutor.records_at_risk,
        "records_at_risk_share": s.prosecutor.share_at_risk,
        "expected_reidentifications": s.individual.expected_reidentifications,
    }
    present_sensitive = [c for c in sensitive if c in frame.columns and c not in present_qis]
    if present_sensitive:
        block["attribute"] = {
            r.column: {
                "distinct_l": r.distinct_l,
                "entropy_l": r.entropy_l,
                "t_closeness": r.t_closeness,
                "t_distance": "ordered" if r.ordered else "equal",
            }
            for r in attribute_risks(frame, ec, present_sensitive)
        }
    return block


def correlation_change(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """Mean absolute change of the Pearson matrix over numeric columns kept numeric.

    Off-diagonal cells only; pairs that are undefined on either side are skipped. Both
    matrices are computed over the cells the release keeps: rows are matched by index, and a
    record the release removed or a cell it suppressed (missing after, present before) is
    left out of the "before" matrix too. A full-precision statistic of withheld cells would
    let anyone holding the release test guesses of them, as a digest would; this one only
    measures how far the released values moved.

    >>> t = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [1.0, 3, 2, 4]})
    >>> correlation_change(t, t.assign(b=[None, 3, 2, 4]))["mean_abs_change"]
    0.0
    """
    from core.correlation import correlation_matrix

    before = _released_cells_of(before, after)

    cols = [
        c
        for c in before.columns
        if c in after.columns
        and pd.api.types.is_numeric_dtype(before[c])
        and not pd.api.types.is_bool_dtype(before[c])
        and pd.api.types.is_numeric_dtype(after[c])
        and not pd.api.types.is_bool_dtype(after[c])
    ]
    if len(cols) < 2:
        return {"columns": cols, "mean_abs_change": None, "note": "fewer than 2 numeric columns"}
    a = correlation_matrix(before, method="pearson", columns=cols).r
    b = correlation_matrix(after, method="pearson", columns=cols).r
    iu = np.triu_indices(len(cols), k=1)
    diff = np.abs(a[iu] - b[iu])
    diff = diff[~np.isnan(diff)]
    return {
        "columns": cols,
        "mean_abs_change": round(float(diff.mean()), 3) if diff.size else None,
        "max_abs_change": round(float(diff.max()), 3) if diff.size else None,
        "note": "over the cells the release keeps; rounded to 3 decimals",
    }


def _released_cells_of(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """``before`` restricted to the rows of ``after`` and with its suppressed cells blanked.

    Rows are matched by index as in :func:`core.recipe.change_log`; when the indexes cannot
    be matched (duplicate labels, or labels ``before`` lacks) they are matched by position
    if the lengths agree, and otherwise no row of ``before`` is used.
    """
    if before.index.equals(after.index):
        kept = before
    elif before.index.is_unique and after.index.is_unique and after.index.isin(before.index).all():
        kept = before.loc[after.index]
    elif len(before) == len(after):
        kept = before.set_axis(after.index)
    else:
        return before.iloc[:0]
    kept = kept.copy()
    for c in kept.columns:
        if c in after.columns:
            kept[c] = kept[c].mask(after[c].isna().to_numpy())
    return kept


def build_report(
    original: pd.DataFrame,
    released: pd.DataFrame,
    *,
    roles: dict[str, str],
    quasi_identifiers: Sequence[str] | None = None,
    sensitive: Sequence[str] | None = None,
    recipe: Any | None = None,
    hardening: Any | None = None,
    dp_spent: tuple[float, float] | None = None,
    missing: str = "category",
    threshold: float = 0.2,
    dataset_name: str = "",
    releases: Sequence[Any] = (),
    exports: Sequence[Any] = (),
) -> PrivacyReport:
    """Assemble the report of a release.

    Parameters
    ----------
    original, released : pandas.DataFrame
        The table as loaded and as exported.
    roles : dict
        Column roles (column -> role value).
    quasi_identifiers, sensitive : sequence of str, optional
        Default: the columns with those roles.
    recipe : core.recipe.Recipe, optional
        The hardening recipe applied (it never holds secrets).
    hardening : core.recipe.HardeningResult, optional
        Its change log (cells changed and suppressed per column).
    dp_spent : (epsilon, delta), optional
        Differential-privacy budget spent on this dataset.
    releases, exports : sequences of records, optional
        The workspace's history, for the audit trail (:func:`audit_trail`); a report
        built once can take a newer history with :meth:`PrivacyReport.with_audit`.
    """
    if len(original) == 0:
        raise InvalidParameterError("The original table is empty; load data before reporting.")
    qis = list(quasi_identifiers or [c for c, r in roles.items() if r == "quasi_identifier"])
    sens = list(sensitive or [c for c, r in roles.items() if r == "sensitive"])
    changes: list[dict[str, Any]] = []
    if hardening is not None:
        changes = [
            {
                "column": c.column,
                "transforms": list(c.transforms),
                "cells_changed": c.cells_changed,
                "cells_suppressed": c.cells_suppressed,
                "dropped": c.dropped,
            }
            for c in hardening.changes
        ]
    data: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "software": {"name": "PrivLens", "version": core.__version__},
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": {
            "name": dataset_name,
            "original": shape(original),
            "released": fingerprint(released),
        },
        "roles": dict(roles),
        "transforms": recipe.to_dict()["steps"] if recipe is not None else [],
        "differential_privacy": _dp_block(dp_spent),
        "risk_before": _risk_block(original, qis, sens, missing=missing, threshold=threshold),
        "risk_after": _risk_block(released, qis, sens, missing=missing, threshold=threshold),
        "utility": {
            "records_removed": int(getattr(hardening, "records_removed", 0) or 0),
            "share_of_cells_changed": (
                float(hardening.share_changed) if hardening is not None else 0.0
            ),
            "per_column": changes,
            "correlation": correlation_change(original, released),
        },
        "audit": audit_trail(releases, exports),
        "assumptions": [
            "Prosecutor risk assumes the attacker knows the person is in the data.",
            "Quasi-identifiers are the columns an attacker can link to outside sources; "
            "risk is only as good as that choice.",
            "Missing values are treated as: " + missing + ".",
        ],
    }
    return PrivacyReport(data=data)


# --- HTML ----------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:1000px;color:#222;line-height:1.45}
h1{margin-bottom:.2rem} .muted{color:#666} table{border-collapse:collapse;margin:.5rem 0 1rem}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left} th{background:#f3f3f3}
.better{color:#1a7f37} .worse{color:#b42318}
"""

_HEADLINE = (
    ("k", "k (smallest class)", "higher is better"),
    ("classes", "equivalence classes", ""),
    ("sample_uniques", "sample uniques", "lower is better"),
    ("records_at_risk", "records at risk (above the threshold)", "lower is better"),
    ("prosecutor_average_risk", "average prosecutor risk", "lower is better"),
    ("prosecutor_highest_risk", "highest prosecutor risk", "lower is better"),
    ("expected_reidentifications", "expected re-identifications", "lower is better"),
)


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.4g}"
    if isinstance(v, int):
        return f"{v:,}"
    return html.escape(str(v))


def _risk_table(before: dict[str, Any], after: dict[str, Any]) -> str:
    rows = []
    for key, label, hint in _HEADLINE:
        b, a = before.get(key), after.get(key)
        cls = ""
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a != b:
            improved = (a > b) if key == "k" else (a < b)
            cls = "better" if improved and hint else ("worse" if hint else "")
        rows.append(
            f"<tr><td>{label}</td><td>{_fmt(b)}</td><td class='{cls}'>{_fmt(a)}</td>"
            f"<td class='muted'>{hint}</td></tr>"
        )
    return (
        "<table><tr><th>measure</th><th>before</th><th>after</th><th></th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _chart(data: dict[str, Any]) -> str:
    import plotly.graph_objects as go

    before, after = data["risk_before"], data["risk_after"]
    labels = ["sample uniques", "records in classes < 3", "records in classes < 5"]
    keys = ["sample_uniques", "records_in_classes_below_3", "records_in_classes_below_5"]
    fig = go.Figure(
        [
            go.Bar(
                name="before", x=labels, y=[before.get(k, 0) for k in keys], marker_color="#E69F00"
            ),
            go.Bar(
                name="after", x=labels, y=[after.get(k, 0) for k in keys], marker_color="#0072B2"
            ),
        ]
    )
    fig.update_layout(
        title="Records at re-identification risk, before and after",
        xaxis_title="measure",
        yaxis_title="records",
        barmode="group",
        height=380,
    )
    return fig.to_html(full_html=False, include_plotlyjs=True)


def _render_html(data: dict[str, Any]) -> str:
    ds = data["dataset"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>PrivLens privacy report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Privacy report</h1>",
        f"<p class='muted'>{html.escape(ds.get('name') or 'dataset')} · created "
        f"{html.escape(data['created'])} by PrivLens {html.escape(data['software']['version'])}"
        "</p>",
        "<h2>Dataset fingerprint</h2>",
        "<table><tr><th></th><th>rows</th><th>columns</th><th>SHA-256 of content</th></tr>",
    ]
    for which in ("original", "released"):
        fp = ds[which]
        digest = f"<code>{html.escape(fp['sha256'])}</code>" if "sha256" in fp else "–"
        parts.append(
            f"<tr><td>{which}</td><td>{fp['rows']:,}</td><td>{fp['columns']}</td>"
            f"<td>{digest}</td></tr>"
        )
    parts.append(
        "</table><p class='muted'>The released table's digest lets you check that the table "
        "you hold is the one this report describes. There is no digest of the original: it "
        "would let anyone holding the release test guesses of the cells it withholds.</p>"
    )
    parts.append("<h2>Column roles</h2><table><tr><th>column</th><th>role</th></tr>")
    for col, role in data["roles"].items():
        parts.append(f"<tr><td>{html.escape(col)}</td><td>{html.escape(role)}</td></tr>")
    parts.append("</table>")
    parts.append("<h2>Transforms applied</h2>")
    if data["transforms"]:
        parts.append(
            "<table><tr><th>#</th><th>columns</th><th>transform</th><th>parameters</th></tr>"
        )
        for i, step in enumerate(data["transforms"], start=1):
            params = step.get("params", {})
            cols = step.get("columns") or [step.get("column", "")]
            parts.append(
                f"<tr><td>{i}</td><td>{html.escape(', '.join(cols))}</td>"
                f"<td>{html.escape(str(step.get('transform', '')))}</td>"
                f"<td><code>{html.escape(json.dumps(params, ensure_ascii=False))}</code></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>None: the table is released as loaded.</p>")
    dp = data["differential_privacy"]
    parts.append("<h2>Differential privacy</h2>")
    parts.append(
        f"<p>Budget spent: ε = {_fmt(dp['epsilon'])}, δ = {_fmt(dp['delta'])}.</p>"
        if dp
        else "<p>No differentially private release was made.</p>"
    )
    parts.append("<h2>Re-identification risk</h2>")
    qis = data["risk_before"].get("quasi_identifiers", [])
    parts.append(
        f"<p>Quasi-identifiers: {html.escape(', '.join(qis) or 'none')}. Missing values: "
        f"{html.escape(data['risk_before'].get('missing_policy', ''))}.</p>"
    )
    parts.append(_risk_table(data["risk_before"], data["risk_after"]))
    attr_b, attr_a = (
        data["risk_before"].get("attribute", {}),
        data["risk_after"].get("attribute", {}),
    )
    if attr_b:
        parts.append(
            "<h3>Attribute disclosure</h3><table><tr><th>sensitive column</th>"
            "<th>distinct l before</th><th>after</th><th>t before</th><th>after</th></tr>"
        )
        for col, b in attr_b.items():
            a = attr_a.get(col, {})
            parts.append(
                f"<tr><td>{html.escape(col)}</td><td>{_fmt(b['distinct_l'])}</td>"
                f"<td>{_fmt(a.get('distinct_l'))}</td><td>{_fmt(b['t_closeness'])}</td>"
                f"<td>{_fmt(a.get('t_closeness'))}</td></tr>"
            )
        parts.append("</table>")
    if qis:
        parts.append(_chart(data))
    u = data["utility"]
    parts.append("<h2>Utility</h2>")
    corr = u["correlation"]
    parts.append(
        f"<p>Cells changed or suppressed: {100 * u['share_of_cells_changed']:.2f}% · records "
        f"removed: {u['records_removed']:,} · mean absolute change of the Pearson correlations: "
        f"{_fmt(corr.get('mean_abs_change'))}.</p>"
    )
    if u["per_column"]:
        parts.append(
            "<table><tr><th>column</th><th>transforms</th><th>cells changed</th>"
            "<th>cells suppressed</th><th>dropped</th></tr>"
        )
        for c in u["per_column"]:
            parts.append(
                f"<tr><td>{html.escape(c['column'])}</td>"
                f"<td>{html.escape(', '.join(c['transforms']))}</td>"
                f"<td>{c['cells_changed']:,}</td><td>{c['cells_suppressed']:,}</td>"
                f"<td>{'yes' if c['dropped'] else ''}</td></tr>"
            )
        parts.append("</table>")
    parts.append(_audit_html(data.get("audit") or {}))
    parts.append("<h2>Assumptions</h2><ul>")
    parts.extend(f"<li>{html.escape(a)}</li>" for a in data["assumptions"])
    parts.append("</ul></body></html>")
    return "\n".join(parts)


def _audit_html(audit: dict[str, Any]) -> str:
    releases, exports = audit.get("releases", []), audit.get("exports", [])
    parts = ["<h2>Audit trail</h2>"]
    if releases:
        parts.append(
            "<h3>Differentially private releases</h3><table><tr><th>time (UTC)</th>"
            "<th>query</th><th>column</th><th>mechanism</th><th>ε</th><th>δ</th></tr>"
        )
        for r in releases:
            parts.append(
                f"<tr><td>{html.escape(r['time'])}</td><td>{html.escape(r['query'])}</td>"
                f"<td>{html.escape(r['column'] or '–')}</td>"
                f"<td>{html.escape(r['mechanism'])}</td><td>{_fmt(r['epsilon'])}</td>"
                f"<td>{_fmt(r['delta'])}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No differentially private release is recorded in this workspace.</p>")
    if exports:
        parts.append(
            "<h3>Exports</h3><table><tr><th>time (UTC)</th><th>format</th><th>encryption</th>"
            "<th>recipe digest</th></tr>"
        )
        for e in exports:
            parts.append(
                f"<tr><td>{html.escape(e['time'])}</td><td>{html.escape(e['format'])}</td>"
                f"<td>{html.escape(e['encryption'])}</td>"
                f"<td><code>{html.escape(e['recipe_digest'])}</code></td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No earlier export is recorded in this workspace.</p>")
    return "\n".join(parts)
