"""Large datasets in the app: open one from an allowed directory, and measure it on an engine.

A large dataset is a Parquet file or folder under a directory the operator allowed
(``PRIVLENS_DATA_DIRS``, :mod:`core.large_data`); the user picks it from a bounded listing,
never types a path. It is read where it lies by an engine (DuckDB, Spark, or pandas when
``auto`` finds it small); only aggregates and a uniform sample come back. The workspace
records the source (allowed directory, relative path, engine, sample seed), so a reload
opens it again from there; no row of it is stored in the workspace database.

The Risk and Correlations pages compute through the engine (:func:`risk_page`,
:func:`correlations_page`); every other page works on in-memory tables and says so
(:func:`in_memory_only`), offering the sample, labelled as such.

Engines are shared between sessions (``st.cache_resource``, keyed by the source, its files'
fingerprint and the engine, one lock each: an engine's connection serves one query at a time);
results are cached by ``(source id, fingerprint, engine, settings)``, never by a frame. The
fingerprint (:func:`core.large_data.source_fingerprint`: each Parquet file's relative path,
size and modification time) is taken again whenever the source is used, so a file rewritten in
place, added or removed opens a new engine and computes every figure again.
"""

from __future__ import annotations

import importlib.util
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
import streamlit as st

from core import limits
from core.engine import Engine, Table, choose_engine, make_engine
from core.engine import risk_summary as engine_risk_summary
from core.errors import PrivLensError
from core.large_data import (
    DATA_DIRS_ENV,
    DataSource,
    allowed_dirs,
    fits_in_memory,
    list_sources,
    resolve_source,
    source_fingerprint,
    source_id,
)
from core.profile import profile_frame
from core.roles import suggest_roles
from ui import state
from ui.feedback import show_error, show_warnings
from ui.text import file_size, md

#: Engine choices of the Data page ("auto": pandas below the size threshold, DuckDB above).
AUTO = "auto"
ENGINE_LABELS = {
    AUTO: "Automatic (pandas when small, DuckDB when large)",
    "duckdb": "DuckDB (out of core, on this server)",
    "spark": "Apache Spark",
}
MISSING = {"category": "Own category (ARX)", "wildcard": "Match any value (sdcMicro)"}


def engine_choices() -> list[str]:
    """``auto`` and DuckDB, and Spark when PySpark is installed."""
    names = [AUTO, "duckdb"]
    if importlib.util.find_spec("pyspark") is not None:
        names.append("spark")
    return names


def active() -> bool:
    """Whether this session's workspace is a large dataset (no in-memory table)."""
    return state.large_source() is not None


# --- the engine of a source, shared and locked -------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opened:
    """An engine with the source open on it, and the lock that serializes its queries.

    ``key`` names the source and its files' fingerprint: the cache key of every result.
    """

    engine: Engine
    table: Table
    lock: threading.Lock
    key: str

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(engine, table, *args, **kwargs)`` while holding the lock."""
        with self.lock:
            return fn(self.engine, self.table, *args, **kwargs)


@st.cache_resource(max_entries=4, show_spinner="Opening the dataset…")
def _open(root: str, path: str, engine: str, fingerprint: str) -> Opened:
    real = resolve_source(root, path, allowed_dirs())
    eng = make_engine(engine)
    try:
        table = eng.open(str(real))
    except BaseException:
        eng.close()
        raise
    return Opened(eng, table, threading.Lock(), f"{source_id(root, path)}:{fingerprint}")


def open_source(root: str, path: str, engine: str) -> tuple[Opened, str]:
    """The source open on ``engine`` for its files as they are now, and their fingerprint.

    Raises
    ------
    SourceNotAllowedError, DataLoadError
        The directory is no longer allowed, the source vanished, or one of its files is a
        link out of the directory.
    """
    fingerprint = source_fingerprint(root, path, allowed_dirs())
    return _open(root, path, engine, fingerprint), fingerprint


def opened(src: Any) -> Opened:
    """The open source of a workspace's ``LargeSource``, for its files as they are now.

    Checks the allow-list and takes the files' fingerprint on every call: results are cached
    under it, so changed files are measured again.

    Raises
    ------
    SourceNotAllowedError, DataLoadError
        The directory is no longer allowed, or the source vanished.
    """
    return open_source(src.root, src.path, src.engine)[0]


@st.cache_data(max_entries=8, show_spinner="Drawing a sample…")
def _sample(_o: Opened, key: str, engine: str, n: int, seed: int) -> pd.DataFrame:
    return _o.run(lambda e, t: e.sample(t, n, seed))


def sample(src: Any, *, on: Opened | None = None) -> pd.DataFrame:
    """The workspace's uniform sample of the source (the same rows again for its seed).

    ``on``: the source as this page run opened it (its files' fingerprint taken once per
    run); opened again when omitted. The same for :func:`measure`, :func:`risk` and
    :func:`correlation`.
    """
    o = on or opened(src)
    return _sample(o, o.key, src.engine, src.sample_rows, src.seed)


@st.cache_data(max_entries=32, show_spinner="Computing the risk on the engine…")
def _risk(
    _o: Opened,
    key: str,
    engine: str,
    qis: tuple[str, ...],
    missing: str,
    threshold: float,
    pi: float | None,
    weight: str | None,
) -> Any:
    return _o.run(
        engine_risk_summary,
        list(qis),
        missing=missing,
        threshold=threshold,
        sampling_fraction=pi,
        weight_column=weight,
    )


@st.cache_data(max_entries=32, show_spinner="Computing on the engine…")
def _measure(_o: Opened, key: str, engine: str, measure: str, *args: Any, **params: Any) -> Any:
    from core.engine import measures

    return _o.run(getattr(measures, measure), *args, **params)


def measure(src: Any, name: str, *args: Any, on: Opened | None = None, **params: Any) -> Any:
    """``core.engine.measures.<name>`` on the source (cached by source and settings)."""
    o = on or opened(src)
    return _measure(o, o.key, src.engine, name, *args, **params)


def risk(
    src: Any,
    qis: tuple[str, ...],
    missing: str,
    threshold: float,
    pi: float | None,
    weight: str | None,
    *,
    on: Opened | None = None,
) -> Any:
    """The engine's risk summary (cached by source, engine and settings)."""
    o = on or opened(src)
    return _risk(o, o.key, src.engine, qis, missing, float(threshold), pi, weight)


# --- the Data page: open one ---------------------------------------------------------------------


def _sample_label(n: int, total: int) -> str:
    return f"a sample of {n:,} of {total:,} rows"


def _listing() -> tuple[list[DataSource], bool]:
    listing = list_sources(allowed_dirs())
    return list(listing.sources), listing.truncated


def _open_clicked(by_id: dict[str, DataSource]) -> None:
    """Callback of "Open": open the chosen source on the chosen engine, in a new workspace."""
    ss = st.session_state
    ss.pop("large_error", None)
    src = by_id.get(str(ss.get("large_pick")))
    choice = str(ss.get("large_engine") or AUTO)
    if src is None:
        ss["large_error"] = "Pick a dataset from the list first."
        return
    try:
        real = resolve_source(src.root, src.path, allowed_dirs())
        engine = choose_engine(choice, str(real))
        if engine == "pandas" and not fits_in_memory(real):  # small on disk, large decoded
            engine = "duckdb"
        o, fingerprint = open_source(src.root, src.path, engine)
        seed = secrets.randbelow(2**31)
        n = min(limits.LARGE_SAMPLE_ROWS, max(o.table.n_rows, 1))
        rows = _sample(o, o.key, engine, n, seed)
        from core.workspace.model import LargeSource, Workspace

        suggestions = suggest_roles(profile_frame(rows)) if len(rows) else {}
        ws = Workspace(
            roles={c: str(s.role) for c, s in suggestions.items()},
            large_source=LargeSource(
                root=src.root,
                path=src.path,
                engine=engine,
                name=src.label,
                columns=tuple(str(c) for c in o.table.columns),
                n_rows=o.table.n_rows,
                seed=seed,
                sample_rows=n,
                fingerprint=fingerprint,
            ),
        )
        for column, s in suggestions.items():
            ws = ws.with_option("data", f"reason:{column}", "; ".join(s.reasons))
        note = (
            f"Read by {engine} where it lies ({src.n_files:,} Parquet file(s), "
            f"{file_size(src.n_bytes)}); only aggregates and a sample come into this server's "
            "memory."
        )
        state.set_large_source(ws, note=note)
        state.set_options("data", {"large_pick": src.id, "large_engine": choice})
    except PrivLensError as exc:
        ss["large_error"] = f"The dataset was not opened: {exc}"
        return
    ss["data_loaded_msg"] = f"Opened {o.table.n_rows:,} rows of '{src.label}' on {engine}."
    ss.pop("data_error", None)


def open_section() -> None:
    """The Data page's "Open a large dataset" section."""
    with st.expander("Open a large dataset", expanded=active()):
        try:
            dirs = allowed_dirs()
        except PrivLensError as exc:
            show_error(exc)
            return
        if not dirs:
            st.info(
                "Large datasets are read from directories the server's operator allows. To "
                f"enable this, start the server with `{DATA_DIRS_ENV}` set to one or more "
                'directories holding Parquet files (see the README, "Large data").'
            )
            return
        sources, truncated = _listing()
        if not sources:
            st.info(
                f"No Parquet file or folder was found in the {len(dirs)} allowed director(ies)."
            )
            return
        by_id = {s.id: s for s in sources}
        ids = list(by_id)
        st.selectbox(
            "Parquet file or folder",
            ids,
            format_func=lambda i: (
                f"{by_id[i].label}  ({by_id[i].kind}, {by_id[i].n_files:,} file(s), "
                f"{file_size(by_id[i].n_bytes)})"
            ),
            help="Files and folders found in the directories this server allows. A folder is "
            "read as one table (all its Parquet files).",
            **state.widget(
                "data.options.large_pick",
                key="large_pick",
                default=ids[0],
                options=ids,
                initial="index",
            ),
        )
        if truncated:
            st.caption(f"Showing the first {len(sources):,} entries found.")
        choices = engine_choices()
        st.selectbox(
            "Engine",
            choices,
            format_func=ENGINE_LABELS.get,
            help="Automatic reads Parquet under 256 MB with pandas and larger data with "
            "DuckDB. Spark is listed when PySpark is installed on this server.",
            **state.widget(
                "data.options.large_engine",
                key="large_engine",
                default=AUTO,
                options=choices,
                initial="index",
            ),
        )
        st.button("Open", key="large_open", on_click=_open_clicked, args=(by_id,))
        if "large_error" in st.session_state:
            show_error(st.session_state["large_error"])


def _use_sample() -> None:
    """Callback: the sample becomes an in-memory table of a new workspace (labelled)."""
    src = state.large_source()
    if src is None:
        return
    try:
        rows = sample(src)
        state.set_dataset(
            rows.reset_index(drop=True),
            name=f"Sample of {len(rows):,} of {src.n_rows:,} rows of {src.name}",
            note="A uniform sample drawn by the engine: every figure describes the sample, "
            "not the whole dataset.",
        )
    except PrivLensError as exc:
        st.session_state["large_error"] = str(exc)
        return
    st.session_state["data_loaded_msg"] = (
        f"Working on {_sample_label(len(rows), src.n_rows)} of '{src.name}', in memory."
    )


def sample_button(where: Any = st) -> None:
    """The explicit "work on the sample" button."""
    src = state.large_source()
    where.button(
        f"Work on {_sample_label(src.sample_rows, src.n_rows)} in memory",
        key="large_use_sample",
        on_click=_use_sample,
        help="Replaces the large dataset by its uniform sample as an ordinary table: every "
        "page then works, and every figure describes the sample, not the whole dataset.",
    )


def preview() -> None:
    """The Data page's view of the open large dataset: size, source and a labelled sample."""
    src = state.large_source()
    st.subheader(f"Large dataset: {md(src.name)}")
    try:
        src, o = _refreshed(src)
    except PrivLensError as exc:
        show_error(exc)
        return
    st.caption(
        f"{src.n_rows:,} rows × {len(src.columns)} columns, engine {src.engine}. "
        f"{md(st.session_state.get('dataset_note', ''))}"
    )
    try:
        rows = sample(src, on=o)
    except PrivLensError as exc:
        show_error(exc)
        return
    st.markdown(
        f"**Preview: {_sample_label(len(rows), src.n_rows)}** (uniform, drawn by the engine)"
    )
    st.dataframe(rows.head(limits.PREVIEW_ROWS), key="large_preview", height=280)
    st.caption(
        f"First {min(len(rows), limits.PREVIEW_ROWS):,} rows of the sample. The Risk and "
        "Correlations pages compute on all rows through the engine; the other pages work on "
        "in-memory tables."
    )
    sample_button()


def home_summary() -> None:
    """The Home page's "Current dataset" for a large dataset, as for a table in memory."""
    src = state.large_source()
    st.subheader("Current dataset")
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Rows", f"{src.n_rows:,}", help="Number of records, counted by the engine.")
    c2.metric("Columns", len(src.columns), help="Number of variables in the dataset.")
    c3.metric(
        "Quasi-identifiers",
        sum(1 for r in state.roles().values() if r == "quasi_identifier"),
        help="Columns that, combined, could single a person out (set on the Data page).",
    )
    c4.metric("Engine", src.engine, help="Reads the dataset where it lies (Data page).")
    st.caption(
        f"**{md(src.name)}**, read where it lies by the {src.engine} engine. "
        f"{md(st.session_state.get('dataset_note', ''))}"
    )


def in_memory_only() -> None:
    """What a page that needs an in-memory table shows while a large dataset is open."""
    src = state.large_source()
    st.info(
        f"This page works on tables held in memory, and **{md(src.name)}** "
        f"({src.n_rows:,} rows) is read through the {src.engine} engine. Work on its uniform "
        "sample here (labelled as such), for instance to build a recipe on the Masking page "
        "and download it; then harden every row where it lies with the command line: "
        "`python -m core harden --engine duckdb PATH --recipe recipe.json -o OUT_DIR`, PATH "
        f"being {md(src.name)} under the server's allowed directory. The Risk and "
        "Correlations pages measure all of its rows."
    )
    sample_button()
    if "large_error" in st.session_state:
        show_error(st.session_state.pop("large_error"))


def refreshed(src: Any) -> Any:
    """The workspace's source, its rows, columns and fingerprint brought up to date.

    When the files changed since they were last read (another fingerprint), the workspace
    records the new row count, columns and fingerprint, and the page says so once.

    Raises
    ------
    SourceNotAllowedError, DataLoadError
        As :func:`opened`.
    WorkspaceError
        The workspace's settings name a column the files no longer have.
    """
    return _refreshed(src)[0]


def _refreshed(src: Any) -> tuple[Any, Opened]:
    o, fingerprint = open_source(src.root, src.path, src.engine)
    n, columns = o.table.n_rows, tuple(str(c) for c in o.table.columns)
    if (fingerprint, n, columns) == (src.fingerprint, src.n_rows, src.columns):
        return src, o
    rows = src.sample_rows if n == src.n_rows else min(limits.LARGE_SAMPLE_ROWS, max(n, 1))
    new = replace(src, fingerprint=fingerprint, n_rows=n, columns=columns, sample_rows=rows)
    state.update(replace(state.workspace(), large_source=new))
    if src.fingerprint is not None:
        st.info(
            f"The dataset's files changed since they were last read ({src.n_rows:,} rows "
            f"then, {n:,} now): every figure here is computed on the files as they are now."
        )
    return new, o


def current() -> tuple[Any, Opened]:
    """The open large source (up to date) and its engine, or say why not and stop the page."""
    src = state.large_source()
    try:
        return _refreshed(src)
    except PrivLensError as exc:
        show_error(exc)
        st.info("Open the dataset again, or another one, on the **Data** page.")
        st.stop()


# --- the Risk page -------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def risk_figures(s: Any) -> list[tuple[str, str, str]]:
    """``(label, value, help)`` of the engine's risk summary, as the Risk page shows them."""
    out = [
        ("Records", f"{s.n:,}", "Rows of the dataset."),
        ("k", f"{s.k:,}", "Size of the smallest equivalence class."),
        ("Equivalence classes", f"{s.n_classes:,}", "Distinct quasi-identifier patterns."),
        ("Sample uniques", f"{s.sample_uniques:,}", "Records alone in their class (f_k = 1)."),
        ("Records in classes < 2 / 3 / 5", f"{s.below_2:,} / {s.below_3:,} / {s.below_5:,}", ""),
        ("Highest prosecutor risk", _fmt(s.prosecutor_highest), "1 / k."),
        ("Average prosecutor risk", _fmt(s.prosecutor_average), "Mean of 1 / f_k over records."),
        (
            "Records at risk",
            f"{s.records_at_risk:,}",
            f"Records whose prosecutor risk 1 / f_k exceeds {s.threshold:g}.",
        ),
        ("Marketer risk", _fmt(s.marketer), "Expected share of records re-identified."),
    ]
    if s.journalist is not None:
        out.append(("Journalist risk", _fmt(s.journalist), "Highest π / f_k."))
    out.append(
        (
            "Expected re-identifications",
            f"{s.expected_reidentifications:,.2f}",
            "sdcMicro's sum of individual risks (weighted when a weight column is chosen).",
        )
    )
    return out


def attribute_table(attrs: Any) -> pd.DataFrame:
    """The engine's attribute-disclosure figures, one row per sensitive column, as text."""
    return pd.DataFrame(
        {
            "column": [str(a.column) for a in attrs],
            "distinct l": [f"{a.distinct_l:,}" for a in attrs],
            "entropy l": [f"{a.entropy_l:.3f}" for a in attrs],
            "recursive (c, l)": [f"({a.recursive_c:.3g}, {a.recursive_l})" for a in attrs],
            "t-closeness": [
                f"{a.t_closeness:.4f} ({'ordered' if a.ordered else 'equal'})" for a in attrs
            ],
            "δ-disclosure": [f"{a.delta_disclosure:.3f}" for a in attrs],
            "β-likeness": [f"{a.beta_likeness:.3f}" for a in attrs],
            "enhanced β": [f"{a.enhanced_beta_likeness:.3f}" for a in attrs],
        }
    )


def risk_page() -> None:
    """The Re-identification risk page on the open large dataset, through its engine."""
    from ui import risk_page as rp

    src, o = current()
    columns = list(src.columns)
    st.info(
        f"**{md(src.name)}**: {src.n_rows:,} rows, measured by the {src.engine} engine on "
        "every row (no row is loaded into this server's memory)."
    )
    with st.container(border=True):
        qis = st.multiselect(
            "Quasi-identifiers", columns, wrap=True,
            **rp.bind("quasi_identifiers", "risk_qi", options=columns, initial="default"),
        )  # fmt: skip
        rest = [c for c in columns if c not in qis]
        sensitive = st.multiselect(
            "Sensitive attributes", rest, wrap=True,
            **rp.bind("sensitive", "risk_sa", options=rest, initial="default"),
        )  # fmt: skip
        c1, c2 = st.columns(2)
        missing = c1.radio(
            "Missing values", list(MISSING), format_func=MISSING.get,
            **rp.bind("options.missing", "risk_missing", default="category",
                      options=list(MISSING), initial="index"),
        )  # fmt: skip
        try:
            rows = sample(src, on=o)
        except PrivLensError as exc:
            show_error(exc)
            st.stop()
        numeric = [
            c for c in columns
            if c not in qis and c in rows and pd.api.types.is_numeric_dtype(rows[c])
        ]  # fmt: skip
        weight = c2.selectbox(
            "Sampling weight column", [None, *numeric],
            format_func=lambda v: "None (constant weight 1/π)" if v is None else v,
            **rp.bind("weight_column", "risk_weight", options=[None, *numeric],
                      initial="index"),
        )  # fmt: skip
        p1, p2, p3 = st.columns(3)
        k_min = p1.number_input(
            "k at least", limits.K_MIN, limits.K_MAX, step=1,
            **rp.bind("k_threshold", "risk_k", to_widget=rp.clamp(limits.K_MIN, limits.K_MAX, int),
                      initial="value"),
        )  # fmt: skip
        max_risk = p2.number_input(
            "Highest risk at most", 0.001, 1.0, step=0.01, format="%.3f",
            **rp.bind("max_risk", "risk_max", to_widget=rp.clamp(0.001, 1.0), initial="value"),
        )  # fmt: skip
        avg_risk = p3.number_input(
            "Average risk at most", 0.001, 1.0, step=0.01, format="%.3f",
            **rp.bind("average_risk", "risk_avg", to_widget=rp.clamp(0.001, 1.0),
                      initial="value"),
        )  # fmt: skip
        pi = None
        if st.toggle(
            "The table is a sample of a larger population",
            **rp.bind("options.is_sample", "risk_is_sample", default=False,
                      after=lambda: rp.sync_fraction(src.n_rows), initial="value"),
        ):  # fmt: skip
            pi = st.number_input(
                "Sampling fraction π", min_value=1e-6, max_value=1.0, format="%.6f",
                **rp.bind("sampling_fraction", "risk_pi", default=0.01,
                          to_widget=rp.clamp(1e-6, 1.0), initial="value"),
            )  # fmt: skip
    if not qis:
        st.info("Pick at least one quasi-identifier to measure the risk.")
        return
    try:
        s = risk(src, tuple(qis), missing, float(max_risk), pi, weight, on=o)
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(s.warnings)
    rules = [
        (f"k ≥ {int(k_min)}", s.k >= int(k_min), f"k = {s.k:,}"),
        (
            f"Highest risk ≤ {float(max_risk):g}",
            s.prosecutor_highest <= float(max_risk),
            f"highest = {_fmt(s.prosecutor_highest)}",
        ),
        (
            f"Average risk ≤ {float(avg_risk):g}",
            s.prosecutor_average <= float(avg_risk),
            f"average = {_fmt(s.prosecutor_average)}",
        ),
    ]
    st.subheader(f"Verdict: {sum(ok for _, ok, _ in rules)} of {len(rules)} rules pass")
    for col, (title, ok, text) in zip(st.columns(3), rules, strict=True):
        box = col.container(border=True)
        icon, colour = (":material/check_circle:", "green") if ok else (":material/cancel:", "red")
        box.badge(title, icon=icon, color=colour)
        box.caption(text)
    st.subheader("Measures")
    st.caption(f"Computed by the {s.engine} engine on all {s.n:,} rows.")
    figures = risk_figures(s)
    for start in range(0, len(figures), 4):
        for col, (label, value, why) in zip(
            st.columns(4), figures[start : start + 4], strict=False
        ):
            col.metric(label, value, help=why or None)
    from ui.charts import risk as charts

    try:
        attrs = tuple(measure(src, "attribute_risk", tuple(qis), a, on=o) for a in sensitive)
        pu = None
        if pi is not None:
            pu = measure(src, "population_uniqueness", tuple(qis), sampling_fraction=pi, on=o)
    except PrivLensError as exc:
        show_error(exc)
        attrs, pu = (), None
    if attrs:
        rp.cards(charts.attribute_cards(attrs))
        st.dataframe(attribute_table(attrs), hide_index=True, key="large_risk_attrs")
        for a in attrs:
            show_warnings(a.warnings)
    elif not sensitive:
        st.caption("Pick a sensitive attribute to see l-diversity, t-closeness, δ and β.")
    if pu is not None:
        rp.cards([charts.population_card(pu)], [st])
        show_warnings(pu.warnings)
    h = s.histogram
    sizes = pd.Series(h.classes, index=h.sizes).groupby(level=0).sum()
    st.plotly_chart(
        charts.class_sizes(sizes.index.to_numpy(), sizes.to_numpy()), key="large_risk_hist"
    )
    st.caption(
        "Not computed on the engine here: the list of riskiest records (row-level), the "
        "columns that drive the risk, household risk, SUDA2 and the population-uniqueness "
        "curve over sampling fractions. Work on the sample for those (labelled as such):"
    )
    sample_button()


# --- the Correlations page -----------------------------------------------------------------------


@st.cache_data(max_entries=32, show_spinner="Computing on the engine…")
def _corr(_o: Opened, key: str, engine: str, measure: str, **params: Any) -> Any:
    from core.engine import correlations as ec

    fn = getattr(ec, measure)
    return _o.run(fn, **params)


def correlation(src: Any, measure: str, *, on: Opened | None = None, **params: Any) -> Any:
    """``core.engine.correlations.<measure>`` on the source (cached by source and settings)."""
    o = on or opened(src)
    return _corr(o, o.key, src.engine, measure, **params)


def _kendall_on_sample(src: Any, columns: tuple[str, ...], on: Opened) -> Any:
    from core import correlation as corr

    return corr.correlation_matrix(sample(src, on=on), columns=list(columns), method="kendall")


def correlations_page() -> None:
    """The Correlations page on the open large dataset: the engine, Kendall on the sample."""
    from core import correlation as corr
    from core.limits import (
        CORRELATION_ALPHA_DEFAULT,
        CORRELATION_ALPHA_MAX,
        CORRELATION_ALPHA_MIN,
    )
    from core.roles import Role, columns_with_role
    from ui.charts import correlations as charts

    src, o = current()
    try:
        rows = sample(src, on=o)
    except PrivLensError as exc:
        show_error(exc)
        st.stop()
    sample_text = _sample_label(len(rows), src.n_rows)
    st.info(
        f"**{md(src.name)}**: {src.n_rows:,} rows. Pearson, Spearman, the association matrix "
        f"and the leakage ranking are computed by the {src.engine} engine on every row; "
        f"Kendall's τ needs every pair of rows, so it is computed on {sample_text} (labelled)."
    )
    options = list(charts.METHOD_CAPTIONS)
    left, right = st.columns([3, 2])
    choice = left.radio(
        "Method", options, horizontal=True, captions=list(charts.METHOD_CAPTIONS.values()),
        help=charts.METHOD_HELP,
        **state.widget("correlations.options.method", key="corr_method", default="Pearson",
                       options=options, initial="index"),
    )  # fmt: skip
    alpha = right.slider(
        "Significance level α", min_value=CORRELATION_ALPHA_MIN,
        max_value=CORRELATION_ALPHA_MAX, step=0.001, format="%.3f",
        **state.widget("correlations.options.alpha", key="corr_alpha",
                       default=CORRELATION_ALPHA_DEFAULT,
                       to_widget=lambda v: min(max(float(v), CORRELATION_ALPHA_MIN),
                                               CORRELATION_ALPHA_MAX), initial="value"),
    )  # fmt: skip
    identifiers = set(columns_with_role(state.roles(), Role.IDENTIFIER))
    association = choice == "Association"
    numeric = [c for c in src.columns if c in rows and pd.api.types.is_numeric_dtype(rows[c])]
    pool = list(src.columns) if association else numeric
    which = "columns_association" if association else "columns_numeric"
    columns = st.multiselect(
        "Columns", pool,
        help="Direct identifiers are left out by default. "
        + ("Every column type is allowed." if association else "Numeric columns only."),
        **state.widget(f"correlations.options.{which}", key=f"corr_cols_{which[8:]}",
                       default=tuple(c for c in pool if c not in identifiers), options=pool,
                       initial="default"),
    )  # fmt: skip
    if len(columns) < 2:
        st.info("Pick at least two columns.")
        return
    cols = tuple(columns)
    results: dict[str, Any] = {}
    assoc = None
    try:
        if association:
            assoc = correlation(src, "association_matrix", columns=cols, on=o)
        for m in charts.METHODS_OF[choice]:
            if m == "kendall":
                results[m] = _kendall_on_sample(src, cols, o)
            else:
                results[m] = correlation(src, "correlation_matrix", columns=cols, method=m, on=o)
    except PrivLensError as exc:
        show_error(exc)
        return
    seen = tuple(
        dict.fromkeys(
            [*(assoc.warnings if assoc else ()), *(w for r in results.values() for w in r.warnings)]
        )
    )
    show_warnings(seen)
    if assoc is not None:
        fig = charts.heatmap(
            assoc.columns, assoc.value, assoc.p_adjusted, alpha, "Association matrix",
            assoc.measure,
        )  # fmt: skip
        st.plotly_chart(fig, key="large_corr_association")
    else:
        places = (
            st.tabs([m.capitalize() for m in results]) if len(results) > 1 else [st.container()]
        )
        for place, (m, res) in zip(places, results.items(), strict=True):
            where = f"on {sample_text}" if m == "kendall" else f"all rows, {src.engine}"
            title = f"{m.capitalize()} ({where})"
            with place:
                if m == "kendall":
                    st.caption(f"Kendall's τ-b on {sample_text}: an estimate for the whole table.")
                fig = charts.heatmap(res.columns, res.r, res.p_adjusted, alpha, title)
                st.plotly_chart(fig, key=f"large_corr_{m}")
    matrices = (assoc,) if assoc is not None else tuple(results.values())
    pairs, _ = corr.ranked_pairs(*matrices)
    st.subheader("Strongest pairs")
    if "kendall" in results:
        st.caption(f"Kendall rows are computed on {sample_text}.")
    st.dataframe(charts.pairs_table(pairs.head(20)), hide_index=True, key="large_corr_pairs")
    st.caption(
        "The drill-down scatter needs the rows themselves: work on the sample for it "
        "(labelled as such)."
    )
    candidates = [c for c in src.columns if c not in identifiers]
    if len(candidates) < 2:
        return
    st.subheader("Leakage of a sensitive attribute")
    marked = [c for c in columns_with_role(state.roles(), Role.SENSITIVE) if c in candidates]
    fallback = next((c for c in candidates if c not in numeric), candidates[0])
    sensitive = st.selectbox(
        "Sensitive attribute", candidates,
        **state.widget("correlations.options.sensitive", key="corr_sensitive",
                       default=marked[0] if marked else fallback, options=candidates,
                       initial="index"),
    )  # fmt: skip
    others = tuple(c for c in candidates if c != sensitive)
    try:
        report = correlation(src, "leakage_ranking", sensitive=sensitive, columns=others, on=o)
    except PrivLensError as exc:
        show_error(exc)
        return
    show_warnings(w for w in report.warnings if w not in seen)
    st.plotly_chart(charts.leakage_bars(report), key="large_corr_leak_chart")
    st.caption(f"Computed by the {src.engine} engine on all {src.n_rows:,} rows.")
    st.dataframe(charts.leakage_table(report), hide_index=True, key="large_corr_leak_table")
