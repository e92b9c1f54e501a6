"""Panels of the "Find a safe table" page: settings bound to the workspace, cached search.

Every setting lives in the workspace's ``anonymize`` section (``anonymize.options.<name>``),
so it survives navigation and a reload. A search result is cached per dataset token and
settings signature (never per frame content); an uploaded hierarchy is kept, validated, as
its CSV text in the (encrypted) workspace and never touches the disk.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from core import anonymize as an
from core.anonymize import setup
from core.errors import PrivLensError
from ui import state
from ui.feedback import show_error

PREVIEW_ROWS = 10
#: Largest hierarchy file kept in the workspace (it is saved with every change).
UPLOAD_MAX_BYTES = 4 * 2**20
SOURCE_LABELS = {
    "built-in": "Built-in (sample)",
    "intervals": "Intervals (numbers)",
    "dates": "Dates",
    "redaction": "Redact from the right (codes)",
    "mapping": "Category groups (typed)",
    "upload": "ARX hierarchy CSV (upload or paste)",
}
L_KINDS = ("none", "distinct", "entropy", "recursive")
T_KINDS = ("none", "equal", "ordered")
METRICS = tuple(m.value for m in an.Metric)


def opt(name: str) -> str:
    """The workspace path of a page setting."""
    return f"anonymize.options.{name}"


@st.cache_data(max_entries=4, show_spinner=False)
def builtin(_df: pd.DataFrame, token: str) -> dict[str, an.Hierarchy]:
    """The built-in hierarchies that cover a column of the table of ``token``."""
    return setup.builtin_hierarchies(_df)


def default_source(qi: str, kind: str, built: dict[str, an.Hierarchy]) -> str:
    """Built-in when there is one, else a builder that fits the column's kind."""
    if qi in built:
        return "built-in"
    return {"integer": "intervals", "decimal": "intervals", "date": "dates"}.get(kind, "redaction")


def default_widths(series: pd.Series) -> str:
    """Three widths, doubling, from a round width of about a twentieth of the range."""
    x = pd.to_numeric(series, errors="coerce").dropna()
    span = float(x.max() - x.min()) if len(x) else 0.0
    if not math.isfinite(span) or span <= 0:
        return "1, 2, 4"
    raw = span / 20
    base = 10 ** math.floor(math.log10(raw))
    w = next(m * base for m in (1, 2, 5, 10) if m * base >= raw)
    return ", ".join(f"{v:g}" for v in (w, 2 * w, 4 * w))


def _keep_upload(qi: str, data: bytes) -> None:
    """Validate an uploaded or pasted hierarchy; keep it in the workspace or show why not."""
    err = f"anon:upload-error:{qi}"
    if len(data) > UPLOAD_MAX_BYTES:
        st.session_state[err] = (
            f"The hierarchy of '{qi}' has {len(data):,} bytes; at most {UPLOAD_MAX_BYTES:,} "
            "are accepted. A hierarchy needs one short row per distinct value."
        )
        return
    try:
        text = data.decode("utf-8-sig")
        h = setup.build_hierarchy(pd.Series(dtype=object), "upload", name=qi, upload=text)
        an.encode_hierarchy(h, st.session_state["dataset"][qi], name=qi)
    except UnicodeDecodeError:
        st.session_state[err] = f"The hierarchy of '{qi}' is not UTF-8 text. Save it as UTF-8."
        return
    except PrivLensError as exc:
        st.session_state[err] = str(exc)
        return
    st.session_state.pop(err, None)
    state.set_setting(opt(f"upload:{qi}"), text)


def _bound(name: str, default: Any, **kw: Any) -> dict[str, Any]:
    """Bind a widget with a ``value`` to ``anonymize.options.<name>``, drawn first with it."""
    return state.widget(opt(name), default=default, initial="value", **kw)


def _choice(name: str, default: Any, options: list[Any] | tuple[Any, ...]) -> dict[str, Any]:
    """Bind a selectbox to ``anonymize.options.<name>``, drawn first with its choice."""
    return state.widget(opt(name), default=default, options=options, initial="index")


def hierarchy_inputs(df: pd.DataFrame, qi: str, kind: str, built: dict[str, Any]) -> None:
    """Where the hierarchy of ``qi`` comes from, and the builder's settings."""
    sources = [s for s in setup.SOURCES if s != "built-in" or qi in built]
    src = st.selectbox(
        "Hierarchy", sources, format_func=SOURCE_LABELS.__getitem__,
        **_choice(f"src:{qi}", default_source(qi, kind, built), sources),
    )  # fmt: skip
    if src == "intervals":
        st.text_input(
            "Interval width per level", help="Each a multiple of the one before, e.g. 5, 10, 20",
            **_bound(f"widths:{qi}", default_widths(df[qi])),
        )  # fmt: skip
    elif src == "mapping":
        st.text_area(
            "Groups", help="One 'group = value; value' line per group; '---' starts a level.",
            **_bound(f"map:{qi}", ""),
        )  # fmt: skip
    elif src == "upload":
        up = st.file_uploader("ARX hierarchy CSV", type=["csv", "txt"], key=f"anon:file:{qi}")
        if up is not None and st.session_state.get(f"anon:file-seen:{qi}") != up.file_id:
            st.session_state[f"anon:file-seen:{qi}"] = up.file_id
            _keep_upload(qi, up.getvalue())
        st.text_area(
            "…or paste it", key=f"anon:paste:{qi}",
            on_change=lambda: _keep_upload(
                qi, str(st.session_state.get(f"anon:paste:{qi}") or "").encode("utf-8")
            ),
        )  # fmt: skip
        if msg := st.session_state.get(f"anon:upload-error:{qi}"):
            show_error(msg)
        kept = state.get(opt(f"upload:{qi}"))
        st.caption(
            f"Hierarchy kept: {len(str(kept).splitlines()):,} rows." if kept
            else "No hierarchy kept yet."
        )  # fmt: skip


def model_inputs(columns: list[str], qis: list[str]) -> None:
    """k, l-diversity, t-closeness, risk thresholds, suppression limit and metric.

    Every widget is drawn with its value from the start (``initial``), so the browser's first
    paint shows the value the search uses, not the widget's minimum.
    """
    st.number_input("k (smallest class size)", 1, 10_000, **_bound("k", 5))
    st.number_input(
        "Suppression limit (% of records)", 0.0, 100.0, step=0.5,
        **_bound("suppression", 0.02, to_widget=lambda v: float(v) * 100,
                 from_widget=lambda v: round(float(v) / 100, 6)),
    )  # fmt: skip
    st.number_input(
        "Time limit (s)", 1.0, 3600.0, step=10.0, help="A search that runs out of time returns "
        "the best transformation found, labelled not proven optimal.",
        **_bound("time_limit", 60.0),
    )  # fmt: skip
    st.selectbox("Quality metric", METRICS, **_choice("metric", "loss", METRICS))
    others = [c for c in columns if c not in qis]
    default_s = next(iter(state.get("risk.sensitive", ()) or ()), others[0] if others else None)
    with st.expander("More privacy models"):
        st.selectbox("Sensitive column", others, **_choice("sensitive", default_s, others))
        st.selectbox("l-diversity", L_KINDS, **_choice("l_kind", "none", L_KINDS))
        st.number_input("l", 1.0, 100.0, step=1.0, **_bound("l_value", 2.0))
        st.number_input("c (recursive)", 0.01, 100.0, **_bound("c_value", 3.0))
        st.selectbox("t-closeness", T_KINDS, **_choice("t_kind", "none", T_KINDS))
        st.number_input("t", 0.001, 1.0, step=0.05, **_bound("t_value", 0.2))
        st.checkbox("Maximum risk threshold", **_bound("use_max", False))
        st.number_input("Maximum risk", 0.001, 1.0, step=0.05, **_bound("max_risk", 0.2))
        st.checkbox("Average risk threshold", **_bound("use_avg", False))
        st.number_input("Average risk", 0.001, 1.0, step=0.01, **_bound("avg_risk", 0.05))


@dataclass(frozen=True, slots=True)
class Spec:
    """Everything a search needs, built from the workspace's settings."""

    qis: tuple[str, ...]
    hierarchies: dict[str, an.Hierarchy]
    models: list[an.PrivacyModel]
    suppression: float
    metric: str
    time_limit: float
    signature: str


def spec(df: pd.DataFrame, qis: list[str], built: dict[str, Any], kinds: dict[str, str]) -> Spec:
    """The search inputs from the workspace (raises PrivLensError on a bad setting)."""
    plain: dict[str, Any] = {"qis": list(qis)}
    hierarchies = {}
    for qi in qis:
        src = state.get(opt(f"src:{qi}"), default_source(qi, kinds.get(qi, ""), built))
        args = {
            "widths": str(state.get(opt(f"widths:{qi}"), default_widths(df[qi]))),
            "mapping": str(state.get(opt(f"map:{qi}"), "")),
            "upload": str(state.get(opt(f"upload:{qi}"), "")),
        }
        plain[qi] = [src, args["widths"] if src == "intervals" else "",
                     args["mapping"] if src == "mapping" else "",
                     args["upload"] if src == "upload" else ""]  # fmt: skip
        hierarchies[qi] = setup.build_hierarchy(df[qi], src, name=qi, builtin=built, **args)
    use_l = state.get(opt("l_kind"), "none")
    use_t = state.get(opt("t_kind"), "none")
    margs = {
        "k": int(state.get(opt("k"), 5)),
        "l_kind": use_l, "l_value": float(state.get(opt("l_value"), 2.0)),
        "c_value": float(state.get(opt("c_value"), 3.0)),
        "t_kind": use_t, "t_value": float(state.get(opt("t_value"), 0.2)),
        "sensitive": state.get(opt("sensitive")) if "none" != use_l or use_t != "none" else None,
        "max_risk": float(state.get(opt("max_risk"), 0.2)) if state.get(opt("use_max")) else None,
        "avg_risk": float(state.get(opt("avg_risk"), 0.05)) if state.get(opt("use_avg")) else None,
    }  # fmt: skip
    plain["models"] = margs
    plain["suppression"] = float(state.get(opt("suppression"), 0.02))
    plain["time_limit"] = float(state.get(opt("time_limit"), 60.0))
    plain["metric"] = str(state.get(opt("metric"), "loss"))
    text = json.dumps(plain, sort_keys=True, default=str)
    return Spec(
        qis=tuple(qis), hierarchies=hierarchies, models=setup.build_models(**margs),
        suppression=plain["suppression"], metric=plain["metric"],
        time_limit=plain["time_limit"], signature=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )  # fmt: skip


@st.cache_data(max_entries=8, show_spinner="Searching the lattice…")
def search(_df: pd.DataFrame, token: str, signature: str, _spec: Spec) -> an.AnonymizationResult:
    """The search for the table of ``token`` under the settings of ``signature``."""
    return an.anonymize(
        _df, list(_spec.qis), _spec.hierarchies, models=_spec.models,
        suppression_limit=_spec.suppression, metric=_spec.metric, time_limit=_spec.time_limit,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Chosen:
    """One transformation: its figures, its recipe steps and the first rows it gives."""

    result: an.AnonymizationResult
    steps: tuple[Any, ...]
    preview: pd.DataFrame
    error: str = ""


@st.cache_data(max_entries=16, show_spinner="Applying the transformation…")
def chosen(
    _df: pd.DataFrame, token: str, signature: str, levels: tuple[int, ...], _spec: Spec,
    _result: an.AnonymizationResult,
) -> Chosen:  # fmt: skip
    """The transformation ``levels`` of the search ``signature`` on the table of ``token``."""
    problem = an.prepare(
        _df, list(_spec.qis), _spec.hierarchies, models=_spec.models,
        suppression_limit=_spec.suppression, metric=_spec.metric,
    )  # fmt: skip
    node = an.evaluate(problem, levels)
    res = setup.result_for(_result, node)
    # ARX's output: suppressed records stay, with '*' in every quasi-identifier
    preview = an.output_frame(_df, list(_spec.qis), _spec.hierarchies, node).head(PREVIEW_ROWS)
    try:
        steps: tuple[Any, ...] = tuple(an.to_recipe_steps(res, _spec.hierarchies, _df))
        error = ""
    except PrivLensError as exc:  # a suppression a recipe cannot replay yet
        steps, error = (), str(exc)
    return Chosen(res, steps, preview, error)


def use(df: pd.DataFrame, ch: Chosen) -> None:
    """Make the chosen transformation's steps part of the current recipe (button callback)."""
    new = setup.merge_steps(state.recipe(), ch.steps, ch.result.quasi_identifiers, df.columns)
    state.set_recipe(new)
    st.session_state["anon:used"] = ch.result.levels
