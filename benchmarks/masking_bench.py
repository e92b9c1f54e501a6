#!/usr/bin/env python3
"""Recipe application vs a plain pandas implementation of the same transforms, side by side.

Usage::

    python benchmarks/masking_bench.py [--rows 1000000] [--repeats 3] [--interactions-only]

The table is the Adult sample resampled (with replacement, seeded) to ``--rows`` rows. The
recipe has one transform per column; the baseline does the same work with everyday pandas
idioms (``pd.cut``, ``.str`` slicing, ``map``, ``clip``). Runs alternate (ours, baseline,
ours, ...) so machine load hits both alike; the medians and their ratio are printed. The
recipe's time includes validation and the per-column change log, which the baseline does
not compute. The last lines time the live risk delta of the Masking page at this size
(risk summary before and after).

Then the Masking page's interactions, as the page computes them with its session memo of
per-column codes (:mod:`core.codes`): apply the changed recipe and measure the risk after
from the recipe's codes. Each is timed from the state before it (already computed), the
median of ``--repeats`` runs, each to a new value (width 5, 4, 3; k 100, 99, 98), side by
side with a bare ``groupby(qis).size()`` of the same QIs on the loaded table, run
alternately. ``--profile N`` profiles those runs and prints the top N functions.

``--page`` times the same interactions on the Masking page itself, the whole server side of
each: the resample is loaded into the app's workspace the way the tests load a table
(``streamlit.testing`` AppTest), the recipe is set through the page's widgets, and each
interaction is one widget change and one run of the page (recipe, risk cards, association
change, change log, preview). Two runs are timed per interaction:

- *whole script*: AppTest's ordinary run, the whole script (the app's router, the page, every
  fragment) and the parsing of the page's messages: an upper bound of the server time;
- *fragment*: the run the browser asks for, the page's workbench fragment alone (an AppTest
  run with the fragment's id queued, as the browser sends it), including the widget
  callbacks; a change only the results show (k, the mode, the QIs) reruns the results alone.
  Next to it, the time of the fragments' bodies the app records itself
  (``PRIVLENS_TIMING=1``, :mod:`ui.timing`).

Each timed run uses a new value (width 5, 4, 3 whole, 6, 7, 8 fragment; k 100, 99, 98 whole,
97, 96, 95 fragment), so no memo holds its answer. Next to each: the core work alone for the
very same recipes (apply with a session memo, the risk after from the recipe's codes), and
the groupby baseline measured alternately in the same run. A second table gives the CPU time
of the thread that runs the script in the same runs, next to the groupby's: other processes
sharing the cores hardly change it, so it compares runs made on a busy machine.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import codes, risk  # noqa: E402
from core.data import load  # noqa: E402
from core.recipe import Recipe, Step, apply  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT / "data" / "adult.csv"
KEY = bytes(range(32))
MARITAL = {
    "Never-married": "Single",
    "Divorced": "Single",
    "Separated": "Single",
    "Widowed": "Single",
}
WORK = {"Federal-gov": "Government", "Local-gov": "Government", "State-gov": "Government"}
RACE = {"White": "White", "Black": "Black"}

RECIPE = Recipe(
    steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 10}),
        Step(transform="group", columns=("workclass",), params={"mapping": WORK}),
        Step(transform="pseudonymize", columns=("fnlwgt",), params={"length": 16}),
        Step(transform="mask", columns=("education",), params={"keep_first": 3}),
        Step(transform="top_bottom", columns=("education-num",), params={"lower": 5, "upper": 14}),
        Step(transform="group", columns=("marital-status",), params={"mapping": MARITAL}),
        Step(transform="mask_pattern", columns=("occupation",), params={"pattern": "[aeiou]"}),
        Step(transform="replace", columns=("relationship",), params={"value": "X"}),
        Step(transform="group", columns=("race",), params={"mapping": RACE, "other": "Other"}),
        Step(transform="drop", columns=("sex",)),
        Step(transform="round", columns=("capital-gain",), params={"base": 1000}),
        Step(transform="bin_edges", columns=("capital-loss",), params={"edges": [1, 1000, 2000]}),
        Step(transform="bin_quantiles", columns=("hours-per-week",), params={"q": 5}),
        Step(transform="postal_prefix", columns=("native-country",), params={"keep": 2}),
        Step(transform="redact", columns=("income",)),
    )
)


def _mask_rest(s: pd.Series, keep: int) -> pd.Series:
    return s.str[:keep] + s.str[keep:].str.replace(".", "*", regex=True)


def baseline(df: pd.DataFrame) -> pd.DataFrame:
    """The same transforms written with everyday pandas."""
    out = df.copy()
    out["age"] = pd.cut(df["age"], bins=np.arange(0, 110, 10), right=False)
    out["workclass"] = df["workclass"].map(WORK).fillna(df["workclass"])
    uniq = df["fnlwgt"].dropna().unique()
    tokens = {u: hmac.new(KEY, str(u).encode(), hashlib.sha256).hexdigest()[:16] for u in uniq}
    out["fnlwgt"] = df["fnlwgt"].map(tokens)
    out["education"] = _mask_rest(df["education"], 3)
    out["education-num"] = df["education-num"].clip(5, 14)
    out["marital-status"] = df["marital-status"].map(MARITAL).fillna(df["marital-status"])
    out["occupation"] = df["occupation"].str.replace("[aeiou]", "*", regex=True)
    out["relationship"] = pd.Series("X", index=df.index).where(df["relationship"].notna())
    out["race"] = df["race"].map(RACE).fillna("Other").where(df["race"].notna())
    out = out.drop(columns=["sex"])
    out["capital-gain"] = (df["capital-gain"] / 1000).round() * 1000
    out["capital-loss"] = pd.cut(df["capital-loss"], [-np.inf, 1, 1000, 2000, np.inf], right=False)
    out["hours-per-week"] = pd.qcut(df["hours-per-week"], 5, duplicates="drop")
    out["native-country"] = _mask_rest(df["native-country"], 2)
    out["income"] = pd.Series("[REDACTED]", index=df.index).where(df["income"].notna())
    return out


def _time(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    """Print the medians of both implementations and their ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--interactions-only", action="store_true",
                    help="time only the Masking page's interactions")  # fmt: skip
    ap.add_argument("--page", action="store_true",
                    help="time the interactions on the Masking page itself (AppTest)")  # fmt: skip
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="profile the timed runs (of --page or of the interactions), print "
                         "the top N")  # fmt: skip
    args = ap.parse_args()
    adult = load(ADULT, na_values=("?",)).frame
    rng = np.random.default_rng(0)  # a labelled resample for timing, not a release
    df = adult.iloc[rng.integers(0, len(adult), args.rows)].reset_index(drop=True)
    if args.page:
        page_interactions(df, args.repeats, profile=args.profile)
        return
    if args.interactions_only:
        interactions(df, args.repeats, profile=args.profile)
        return
    secrets = {"pseudonym_key": KEY}
    apply(df.head(1000), RECIPE, secrets=secrets)  # warm-up
    baseline(df.head(1000))
    ours, base = [], []
    for _ in range(args.repeats):
        ours.append(_time(lambda: apply(df, RECIPE, secrets=secrets)))
        base.append(_time(lambda: baseline(df)))
    mo, mb = statistics.median(ours), statistics.median(base)
    print(f"rows: {len(df):,}  columns: {df.shape[1]}  steps: {len(RECIPE.steps)}")
    print(f"recipe apply (incl. validation + change log): {mo:.3f} s  runs {ours}")
    print(f"plain pandas baseline:                        {mb:.3f} s  runs {base}")
    print(f"ratio recipe / baseline: {mo / mb:.2f}  (target <= 1.5)")

    hardened = apply(df, RECIPE, secrets=secrets).frame
    qis = ["age", "marital-status", "race", "workclass"]
    before = [_time(lambda: risk.risk_summary(df, qis)) for _ in range(args.repeats)]
    after = [_time(lambda: risk.risk_summary(hardened, qis)) for _ in range(args.repeats)]
    print(
        f"live risk delta (risk_summary before + after, 4 QIs): "
        f"{statistics.median(before) + statistics.median(after):.3f} s"
    )
    interactions(df, args.repeats)


PAGE_QIS = ("age", "workclass", "education", "marital-status", "race", "sex")


def _page_recipe(width: float = 10, education: str = "mask", k: int | None = None) -> Recipe:
    steps = [
        Step(transform="bin_width", columns=("age",), params={"width": width}),
        Step(transform="group", columns=("workclass",), params={"mapping": WORK}),
        Step(transform="pseudonymize", columns=("fnlwgt",), params={"length": 16}),
        Step(transform="group", columns=("marital-status",), params={"mapping": MARITAL}),
        Step(transform="postal_prefix", columns=("native-country",), params={"keep": 2}),
        Step(transform="mask", columns=("education",), params={"keep_first": 3})
        if education == "mask"
        else Step(transform="redact", columns=("education",)),
    ]
    if k is not None:
        steps.append(Step(transform="suppress", columns=PAGE_QIS, params={"k": k}))
    return Recipe(steps=tuple(steps))


def interactions(df: pd.DataFrame, repeats: int, profile: int = 0) -> None:
    """Print the server time of each Masking interaction next to the groupby baseline.

    ``profile`` > 0: the timed runs are also profiled (cProfile, which slows them), and the
    top ``profile`` functions by cumulative and by own time are printed per interaction.
    """
    import cProfile
    import pstats

    secrets = {"pseudonym_key": KEY}
    memo = codes.ColumnMemo("bench")

    def page(r: Recipe) -> None:
        h = apply(df, r, secrets=secrets, memo=memo, codes_for=PAGE_QIS)
        kept = [q for q in PAGE_QIS if q in h.frame.columns]
        ec = risk.equivalence_classes(h.frame, kept, known_codes=h.column_codes)
        risk.risk_summary(h.frame, kept, classes=ec)

    # each repeat moves to a new value (width 5, 4, 3; k 100, 99, 98), as --page does, so
    # no memo holds the answer
    cases = (
        ("change a bin width (age 10 -> 5, 4, 3)", _page_recipe(),
         [_page_recipe(width=w) for w in (5, 4, 3)]),
        ("change a transform (education mask -> redact)", _page_recipe(),
         [_page_recipe(education="redact")]),
        ("k = 2 -> 100, 99, 98 (cell suppression)", _page_recipe(k=2),
         [_page_recipe(k=v) for v in (100, 99, 98)]),
        ("suppression on (k = 5)", _page_recipe(), [_page_recipe(k=5)]),
        ("suppression off", _page_recipe(k=5), [_page_recipe()]),
    )  # fmt: skip
    page(_page_recipe())  # the page's first run: factorize the columns once
    results, base_runs = [], []
    for label, before, afters in cases:
        runs = []
        prof = cProfile.Profile() if profile else None
        for i in range(repeats):
            after = afters[i % len(afters)]
            page(before)
            if prof is not None:
                prof.enable()
            runs.append(_time(lambda after=after: page(after)))  # type: ignore[misc]
            if prof is not None:
                prof.disable()
            base_runs.append(_time(lambda: df.groupby(list(PAGE_QIS), dropna=False).size()))
        results.append((label, statistics.median(runs), runs))
        if prof is not None:
            print(f"\n--- profile: {label} ({repeats} runs) ---")
            stats = pstats.Stats(prof).strip_dirs()
            stats.sort_stats("cumulative").print_stats(profile)
            stats.sort_stats("tottime").print_stats(profile)
    mb = statistics.median(base_runs)
    print(f"\nMasking interactions at {len(df):,} rows (QIs: {', '.join(PAGE_QIS)}), medians")
    print(f"  bare groupby(qis).size() on the loaded table:     {mb:.3f} s")
    for label, med, runs in results:
        shown = [round(t, 3) for t in runs]
        print(f"  {label:<48} {med:.3f} s  ratio {med / mb:.2f}  runs {shown}")
    print("  target: <= 0.200 s of server time per interaction")


def _baseline_groupby(df: pd.DataFrame) -> None:
    df.groupby(list(PAGE_QIS), dropna=False).size()


#: The profile of the page runs being timed (``--profile``): the app runs its script in a
#: thread of its own, so the script's run is wrapped to profile that thread.
_PROFILE: list = []  # type: ignore[type-arg]
#: CPU seconds of the script's thread in its last run (:func:`_wrap_script_runs`).
_SCRIPT_CPU: list[float] = [0.0]


def _wrap_script_runs() -> None:
    """Record the CPU time of each script run's thread, and profile it with ``--profile``.

    The CPU time of the thread that runs the script is what the server spends on it; unlike
    the wall time it hardly grows when other processes share the cores.
    """
    from streamlit.runtime.scriptrunner import script_runner

    run = script_runner.exec_func_with_error_handling

    def wrapped(*args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.thread_time()
        if _PROFILE:
            _PROFILE[0].enable()
        try:
            return run(*args, **kwargs)
        finally:
            if _PROFILE:
                _PROFILE[0].disable()
            _SCRIPT_CPU[0] = time.thread_time() - t0

    script_runner.exec_func_with_error_handling = wrapped


#: Fragment ids the next AppTest run asks for (the browser's fragment rerun), or empty.
_FRAGMENTS: list[str] = []


def _queue_fragments() -> None:
    """Let an AppTest run ask for fragments alone (:data:`_FRAGMENTS`), as the browser does."""
    from streamlit.testing.v1 import local_script_runner

    rerun_data = local_script_runner.RerunData

    def asking_for_fragments(*args, **kwargs):  # type: ignore[no-untyped-def]
        if _FRAGMENTS:
            kwargs.setdefault("fragment_id_queue", list(_FRAGMENTS))
        return rerun_data(*args, **kwargs)

    local_script_runner.RerunData = asking_for_fragments


class _Page:
    """The Masking page in a headless app, the resample loaded as the workspace's table."""

    def __init__(self, df: pd.DataFrame) -> None:
        import os
        import tempfile

        from streamlit.testing.v1 import AppTest

        # a database of this run only, as the tests use: nothing lands in the user's home
        os.environ["PRIVLENS_DB"] = os.path.join(tempfile.mkdtemp(), "bench.sqlite3")
        os.environ.pop("PRIVLENS_SECRET_FILE", None)
        os.environ["PRIVLENS_TIMING"] = "1"  # the app records its fragments' times
        _queue_fragments()
        self.at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        self.at.run()
        self.at.session_state["dataset"] = df  # adopted into a workspace of its own
        roles = {str(c): "other" for c in df.columns}
        roles.update(dict.fromkeys(PAGE_QIS, "quasi_identifier"))
        self.at.session_state["roles"] = roles
        self.at.switch_page("pages/masking.py")
        self.run()
        self.cols = [str(c) for c in df.columns]

    def run(self) -> float:
        t0 = time.perf_counter()
        self.at.run()
        took = time.perf_counter() - t0
        if self.at.exception:
            raise SystemExit(f"the page failed: {self.at.exception[0].message}")
        return took

    def run_fragment(self) -> tuple[float, float, float]:
        """One run of the workbench fragment alone, as the browser asks for it.

        The run gets the state of every widget, as the browser sends it. Returns the run's
        time, the time of the fragments' bodies the app recorded and the CPU time of the
        script's thread (:data:`_SCRIPT_CPU`). Then one whole run
        (not timed, nothing changed) brings the page's element tree up to date.
        """
        from ui.masking_editor import WORKBENCH_FRAGMENT

        states = self.at._tree.get_widget_states()
        ids = self.at._fragment_storage._ids_by_target_key[WORKBENCH_FRAGMENT]
        self.at.session_state["timing"] = {}
        _FRAGMENTS[:] = list(ids)
        try:
            t0 = time.perf_counter()
            self.at._run(states)
            took = time.perf_counter() - t0
            cpu = _SCRIPT_CPU[0]
        finally:
            _FRAGMENTS.clear()
        if self.at.exception:
            raise SystemExit(f"the page failed: {self.at.exception[0].message}")
        times = dict(self.at.session_state["timing"])
        body = times.get("masking.workbench", sum(times.values()))
        self.at._run()  # no widget states: nothing changes, every element is drawn
        return took, body, cpu

    def transform(self, col: str, name: str) -> None:
        self.at.selectbox(key=f"mask_t_{self.cols.index(col)}").set_value(name)

    def param(self, col: str, transform: str, name: str, value: object) -> None:
        key = f"mask_p_{self.cols.index(col)}_{transform}_{name}"
        kind = "text_area" if isinstance(value, str) else "number_input"
        getattr(self.at, kind)(key=key).set_value(value)

    def recipe(self) -> Recipe:
        return self.at.session_state["workspace"].recipe.current  # type: ignore[no-any-return]


def _page_setup(page: _Page) -> None:
    """The page's recipe: the one :func:`interactions` times (one widget change per run)."""
    mapping = lambda m: "\n".join(f"{k} = {v}" for k, v in m.items())  # noqa: E731
    page.at.multiselect(key="mask_qi").set_value(list(PAGE_QIS))
    page.run()
    for col, transform, params in (
        ("age", "bin_width", {"width": 10.0}),
        ("workclass", "group", {"mapping": mapping(WORK)}),
        ("fnlwgt", "pseudonymize", {}),
        ("marital-status", "group", {"mapping": mapping(MARITAL)}),
        ("native-country", "postal_prefix", {"keep": 2}),
        ("education", "mask", {"keep_first": 3}),
    ):
        page.transform(col, transform)
        page.run()
        for name, value in params.items():
            page.param(col, transform, name, value)
            page.run()


def page_interactions(df: pd.DataFrame, repeats: int, profile: int = 0) -> None:
    """Print the page's run time per interaction, the core work alone and the baseline.

    ``profile`` > 0: the timed runs are also profiled (cProfile, which slows them), and the
    top ``profile`` functions by cumulative and by own time are printed per interaction.
    """
    import cProfile
    import pstats

    _wrap_script_runs()
    t0 = time.perf_counter()
    page = _Page(df)
    _page_setup(page)
    took = time.perf_counter() - t0
    print(f"loaded {len(df):,} rows into the app and set the recipe in {took:.1f} s")
    age_w = ("age", "bin_width", "width")
    slider = lambda: page.at.slider(key="mask_k")  # noqa: E731
    toggle = lambda: page.at.toggle(key="mask_suppress")  # noqa: E731
    # (label, actions that set the state before, the interaction per timed run: the whole
    # script runs first, then the fragment runs)
    cases = (
        ("change a bin width (age 10 -> 5, 4, 3 | 6, 7, 8)",
         [lambda: page.param(*age_w, 10.0)],
         [lambda v=v: page.param(*age_w, v) for v in (5.0, 4.0, 3.0, 6.0, 7.0, 8.0)]),
        ("change a transform (education mask -> redact)",
         [lambda: page.transform("education", "mask"),
          lambda: page.param("education", "mask", "keep_first", 3)],
         [lambda: page.transform("education", "redact")] * 6),
        ("suppression on (k = 5)",
         [lambda: toggle().set_value(False)],
         [lambda: toggle().set_value(True)] * 6),
        ("k = 2 -> 100, 99, 98 | 97, 96, 95 (cells)",
         [lambda: toggle().set_value(True), lambda: slider().set_value(2)],
         [lambda v=v: slider().set_value(v) for v in (100, 99, 98, 97, 96, 95)]),
        ("suppression off",
         [lambda: toggle().set_value(True)],
         [lambda: toggle().set_value(False)] * 6),
    )  # fmt: skip
    rows = []
    base_runs: list[float] = []
    base_cpu: list[float] = []
    pairs: list[tuple[Recipe, Recipe]] = []
    cpu_rows = []
    for label, before, afters in cases:
        runs, frag_runs, bodies, cpus, frag_cpus = [], [], [], [], []
        prof = cProfile.Profile() if profile else None
        for i in range(2 * repeats):
            for act in before:
                act()
                page.run()
            recipe_before = page.recipe()
            afters[i % len(afters)]()
            if i < repeats:  # the whole script, profiled with --profile
                _PROFILE[:] = [prof] if prof is not None else []
                runs.append(page.run())
                cpus.append(_SCRIPT_CPU[0])
                _PROFILE.clear()
                pairs.append((recipe_before, page.recipe()))
            else:  # the fragment the browser reruns
                took, body, cpu = page.run_fragment()
                frag_cpus.append(cpu)
                if page.recipe() == recipe_before:
                    raise SystemExit(f"the fragment run did not change the recipe: {label}")
                frag_runs.append(took)
                bodies.append(body)
            t0 = time.thread_time()
            base_runs.append(_time(lambda: _baseline_groupby(df)))
            base_cpu.append(time.thread_time() - t0)
        rows.append((label, runs, frag_runs, bodies))
        cpu_rows.append((label, cpus, frag_cpus))
        if prof is not None:
            print(f"\n--- profile: {label} ({repeats} whole-script runs) ---")
            stats = pstats.Stats(prof).strip_dirs()
            stats.sort_stats("cumulative").print_stats(profile)
            stats.sort_stats("tottime").print_stats(profile)
    core_runs = _core_runs(df, pairs)
    mb = statistics.median(base_runs)
    print(f"\nMasking page at {len(df):,} rows (QIs: {', '.join(PAGE_QIS)}), medians of {repeats}")
    print(f"  bare groupby(qis).size() on the loaded table: {mb:.3f} s")
    print(f"  {'interaction':<48} {'whole script':>12} {'fragment':>15} {'bodies':>7} "
          f"{'core':>13}  whole runs | fragment runs")  # fmt: skip
    for i, (label, runs, frag_runs, bodies) in enumerate(rows):
        core = core_runs[i * repeats : (i + 1) * repeats]
        mp, mf = statistics.median(runs), statistics.median(frag_runs)
        mbody, mc = statistics.median(bodies), statistics.median(core)
        shown = [round(t, 3) for t in runs]
        shown_f = [round(t, 3) for t in frag_runs]
        print(f"  {label:<48} {mp:>6.3f} s {mp / mb:>4.2f} {mf:>6.3f} s {mf / mb:>5.2f} "
              f"{mbody:>5.3f} s {mc:>5.3f} s {mc / mb:>4.2f}  {shown} | {shown_f}")  # fmt: skip
    print("  ratios: to the groupby baseline of this run; bodies: the fragments' own time")
    print("  target: <= 0.200 s of server time per interaction")
    mc = statistics.median(base_cpu)
    print("\nCPU time of the thread that runs the script (other processes on the cores hardly")
    print(f"change it), medians of {repeats}; the groupby's own thread: {mc:.3f} s")
    print(f"  {'interaction':<48} {'whole script':>12} {'fragment':>15}  whole | fragment")
    for label, cpus, frag_cpus in cpu_rows:
        mw, mf = statistics.median(cpus), statistics.median(frag_cpus)
        shown = [round(t, 3) for t in cpus]
        shown_f = [round(t, 3) for t in frag_cpus]
        print(f"  {label:<48} {mw:>6.3f} s {mw / mc:>4.2f} {mf:>6.3f} s {mf / mc:>5.2f}  "
              f"{shown} | {shown_f}")


def _core_runs(df: pd.DataFrame, pairs: list[tuple[Recipe, Recipe]]) -> list[float]:
    """The core work of each interaction alone: apply with a session memo, then the risk."""
    from core.recipe import DEFAULT_SECRET

    secrets = {DEFAULT_SECRET: KEY}
    memo = codes.ColumnMemo("bench")

    def core(r: Recipe) -> None:
        h = apply(df, r, secrets=secrets, memo=memo, codes_for=PAGE_QIS)
        kept = [q for q in PAGE_QIS if q in h.frame.columns]
        ec = risk.equivalence_classes(h.frame, kept, known_codes=h.column_codes)
        risk.risk_summary(h.frame, kept, classes=ec)

    out = []
    for before, after in pairs:
        core(before)
        out.append(_time(lambda after=after: core(after)))  # type: ignore[misc]
    return out


if __name__ == "__main__":
    main()
