"""Find a safe table: search the lattice of hierarchy levels for the least-loss anonymous table.

As ARX does: a hierarchy per quasi-identifier, privacy models and a suppression limit, then
the transformation with the least information loss. "Use this" writes it into the current
recipe, so Masking shows it before → after and Export and the CLI replay it.
"""

from __future__ import annotations

import streamlit as st

from core.errors import PrivLensError
from ui import anonymize_panels as panels
from ui import nav, state
from ui.charts import anonymize as charts
from ui.feedback import show_error, show_warnings
from ui.router import ensure_routed
from ui.text import md

ensure_routed()  # a deep link right after start-up must still go through app.py

df = state.require_dataset()
ws = state.workspace()
if ws.dataset is None:  # the workspace could not be opened (the error is shown above)
    st.stop()
st.title("Find a safe table")
st.caption(
    "Which generalization of the quasi-identifiers is safe enough and loses the least? Give a "
    "hierarchy per quasi-identifier and the privacy models; the search checks the lattice of "
    "hierarchy levels, as ARX does, and returns the optimum."
)
token = state.dataset_id()
columns = [str(c) for c in df.columns]
kinds = dict(ws.dataset.kinds)
built = panels.builtin(df, token)

st.subheader("1. Quasi-identifiers and their hierarchies")
default_qis = tuple(q for q in state.get("risk.quasi_identifiers", ()) if q in columns)
qis = st.multiselect(
    "Quasi-identifiers",
    columns,
    help="Defaults to the Risk page's quasi-identifiers (from the roles on the Data page).",
    **state.widget(panels.opt("qis"), default=default_qis, options=columns, initial="default"),
)
if not qis:  # the models below stay drawn, so their widgets keep their values meanwhile
    st.info("Pick at least one quasi-identifier.")
for row_start in range(0, len(qis), 3):
    for cell, qi in zip(st.columns(3), qis[row_start : row_start + 3], strict=False):
        with cell, st.container(border=True):
            st.markdown(f"**{md(qi)}** · {md(kinds.get(qi, 'text'))}")
            panels.hierarchy_inputs(df, qi, kinds.get(qi, "text"), built)

st.subheader("2. Privacy models, suppression and metric")
panels.model_inputs(columns, qis)
if not qis:
    st.stop()

try:
    spec = panels.spec(df, qis, built, kinds)
except PrivLensError as exc:
    show_error(exc)
    st.stop()


def _search_clicked() -> None:
    state.set_options("anonymize", {"searched": spec.signature, "chosen": None})


st.button("Search", type="primary", on_click=_search_clicked)
if state.get(panels.opt("searched")) != spec.signature:
    st.info("Press **Search** to find the optimal transformation for these settings.")
    st.stop()
try:
    result = panels.search(df, token, spec.signature, spec)
except PrivLensError as exc:
    show_error(exc)
    st.stop()

st.subheader("3. The optimum")
show_warnings(result.warnings)
if not result.found:
    st.warning("No transformation meets the models within the suppression limit.")
    st.stop()
st.markdown(
    f"**{md(result.label.capitalize())}** · {md(result.metric)} score "
    f"{result.score:.6g} · {result.nodes_checked:,} of {result.lattice_size:,} "
    f"transformations checked in {result.seconds:.2f} s"
)
left, right = st.columns(2)
left.dataframe(
    {"Quasi-identifier": list(result.quasi_identifiers), "Level": list(result.levels or ())},
    hide_index=True,
)
right.dataframe(charts.figures(result, len(df)), hide_index=True)

st.subheader("4. Every anonymous transformation checked")
st.caption(
    "Information loss against the risk of the records each one keeps. Click a point to look "
    "at that table; the star is the optimum, the blue line the Pareto frontier."
)
points = charts.anonymous_points(result)
saved = state.get(panels.opt("chosen"))
levels = tuple(int(x) for x in saved.split(",")) if saved else result.levels
event = st.plotly_chart(
    charts.scatter(result, levels), key=f"anon:scatter:{spec.signature[:12]}",
    on_select="rerun", selection_mode="points",
)  # fmt: skip
hit = charts.clicked(event)
if hit is not None and 0 <= hit < len(points) and points[hit].levels != levels:
    state.set_options("anonymize", {"chosen": ",".join(map(str, points[hit].levels))})
    st.rerun()  # draw the chart again with the clicked point marked

st.subheader("5. The chosen transformation")
try:
    ch = panels.chosen(df, token, spec.signature, tuple(levels), spec, result)
except PrivLensError as exc:
    show_error(exc)
    st.stop()
tag = "the optimum" if levels == result.levels else "a point you clicked"
st.markdown(f"Showing **{tag}**: {md(charts.levels_text(result.quasi_identifiers, levels))}")
left, right = st.columns([1, 2])
left.dataframe(charts.figures(ch.result, len(df)), hide_index=True)
right.dataframe(ch.preview, hide_index=True)
right.caption(
    f"The first {len(ch.preview)} records as ARX writes them: a suppressed record keeps its "
    'place with * in every quasi-identifier. "Use this" removes suppressed records instead '
    "(a recipe step removes whole records)."
)
if ch.error:
    show_error(ch.error)
else:
    st.button("Use this", on_click=panels.use, args=(df, ch))
if st.session_state.get("anon:used") == tuple(levels):
    pages = {p.url_path: p for p in nav.pages()}
    st.success(
        f"The recipe now generalizes {len(result.quasi_identifiers)} quasi-identifier(s)"
        f"{' and suppresses records' if ch.result.suppressed_records else ''}: "
        f"{len(state.recipe().steps)} step(s) in all."
    )
    for name, label in (("masking", "See it before → after on Masking"), ("export", "Export it")):
        if name in pages:
            st.page_link(pages[name], label=label)
