#!/usr/bin/env python3
"""Server time per interaction on the Risk and Masking pages, before and after, side by side.

Usage::

    python benchmarks/page_bench.py [--rows 1000000] [--repeats 3] [--baseline REV]
                                    [--pages risk,masking]

The table is the Adult sample replicated to ``--rows`` rows, with the roles the Data page
suggests for it. Each page is driven headlessly with Streamlit's ``AppTest`` through the
same script of interactions (first render, then one widget change at a time); the time of
each ``run()`` is the server work of that interaction (script run, cached calls, figure and
table serialization; no browser rendering or network).

"Before" is the page file as it was at git revision ``--baseline`` (default: the commit
before the performance work), "after" is the page in the working tree. Both run in this
process against the same ``core`` package; caches are cleared and the dataset gets a fresh
id before every scenario, so neither profits from the other's cache. Runs alternate
(before, after, before, ...) so machine load hits both alike; medians are printed with
their ratio. A step a version does not have (a switch the old page did not need) is "—".
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from core.profile import profile_frame  # noqa: E402
from core.roles import suggest_roles  # noqa: E402
from core.samples import adult  # noqa: E402

#: Parent of the first performance commit on these pages.
BASELINE = "6582c57"

Step = tuple[str, Callable[[AppTest], bool]]


def _table(rows: int) -> tuple[pd.DataFrame, dict[str, str]]:
    base = adult().frame  # loaded as the app loads it
    roles = {c: str(s.role) for c, s in suggest_roles(profile_frame(base)).items()}
    reps = -(-rows // len(base))
    return pd.concat([base] * reps, ignore_index=True).iloc[:rows], roles


def _has(at: AppTest, kind: str, key: str) -> bool:
    try:
        getattr(at, kind)(key=key)
    except KeyError:
        return False
    return True


def _set(kind: str, keys: str | tuple[str, ...], value: object) -> Callable[[AppTest], bool]:
    """Set the widget of the first key the page has (a key may differ between versions)."""

    def act(at: AppTest) -> bool:
        for key in (keys,) if isinstance(keys, str) else keys:
            if _has(at, kind, key):
                getattr(at, kind)(key=key).set_value(value)
                return True
        return False

    return act


def _switch_on(key_prefix: str) -> Callable[[AppTest], bool]:
    """Turn on the toggle whose key starts with ``key_prefix`` (keys carry the QI choice)."""

    def act(at: AppTest) -> bool:
        found = [t for t in at.toggle if str(t.key).startswith(key_prefix)]
        if not found:
            return False
        found[0].set_value(True)
        return True

    return act


def _click(key: str) -> Callable[[AppTest], bool]:
    def act(at: AppTest) -> bool:
        if not _has(at, "button", key):
            return False
        at.button(key=key).click()
        return True

    return act


def _qi_drop_last(key_prefix: str) -> Callable[[AppTest], bool]:
    def act(at: AppTest) -> bool:
        box = next((m for m in at.multiselect if str(m.key).startswith(key_prefix)), None)
        if box is None:
            return False
        box.set_value(list(box.value)[:-1])
        return True

    return act


def _age_width(at: AppTest) -> bool:
    i = list(at.session_state["dataset"].columns).index("age")
    at.number_input(key=f"mask_p_{i}_bin_width_width").set_value(5.0)
    return True


RISK: list[Step] = [
    ("threshold 0.2 -> 0.3", _set("number_input", ("risk_threshold", "risk_max"), 0.3)),
    ("missing values -> wildcard", _set("radio", "risk_missing", "wildcard")),
    ("missing values -> category", _set("radio", "risk_missing", "category")),
    ("drop one quasi-identifier", _qi_drop_last("risk_qi")),
    ("population model on", _set("toggle", "risk_is_sample", True)),
    ("switch on leave-one-out", _switch_on("risk_loo_on")),
    ("switch on subset scores", _switch_on("risk_subsets_on")),
    ("largest subset size 2 -> 3", _set("slider", "risk_subset_size", 3)),
]
#: Switches that start work whose cost the page states next to them (done in the first
#: render by the old page); reported, but not counted as an ordinary interaction.
OPT_IN = {"switch on leave-one-out", "switch on subset scores"}
MASKING: list[Step] = [
    ("drop one quasi-identifier", _qi_drop_last("mask_qi")),
    ("suppression on (k = 5)", _set("toggle", "mask_suppress", True)),
    ("k 5 -> 3", _set("slider", "mask_k", 3)),
    ("suppress whole records", _set("radio", "mask_mode", "records")),
    ("age bin width 10 -> 5", _age_width),
    ("use for export (button)", _click("mask_use")),
]


def _quiet() -> None:
    """Silence Streamlit's bare-mode notices (its loggers do not propagate)."""
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith("streamlit") and isinstance(logger, logging.Logger):
            logger.setLevel(logging.ERROR)


def _scenario(
    page: Path, df: pd.DataFrame, roles: dict[str, str], steps: list[Step]
) -> list[float | None]:
    """Seconds of the first render and of each step (None: the page has no such widget).

    A page of the working tree runs under ``app.py``'s router, as in the app: the first run
    (not timed) puts the table into a new workspace on Home, then the page is opened.
    """
    _quiet()
    st.cache_data.clear()
    routed = page.parent == ROOT / "pages"
    at = AppTest.from_file(str(ROOT / "app.py" if routed else page), default_timeout=900)
    at.session_state["dataset"] = df
    at.session_state["dataset_id"] = uuid.uuid4().hex
    at.session_state["dataset_name"] = "Adult sample, replicated"
    at.session_state["roles"] = roles
    if routed:
        at.run()
        at.switch_page(f"pages/{page.name}")
    times: list[float | None] = []
    t0 = time.perf_counter()
    at.run()
    times.append(time.perf_counter() - t0)
    if at.exception:
        raise SystemExit(f"{page.name}: exception on the first render: {at.exception[0].message}")
    for name, act in steps:
        if not act(at):
            times.append(None)
            continue
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
        if at.exception:
            raise SystemExit(f"{page.name}: exception after '{name}': {at.exception[0].message}")
    return times


def _median(xs: list[float | None]) -> float | None:
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def _fmt(x: float | None) -> str:
    return f"{'—':>7}" if x is None else f"{x:7.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the 'before' pages")
    ap.add_argument("--pages", default="risk,masking")
    args = ap.parse_args()

    df, roles = _table(args.rows)
    db_dir = tempfile.TemporaryDirectory()  # the workspaces of this run, deleted at exit
    os.environ["PRIVLENS_DB"] = str(Path(db_dir.name) / "privlens.sqlite3")
    os.environ.pop("PRIVLENS_SECRET_FILE", None)
    print(f"table: {len(df):,} rows x {df.shape[1]} columns (Adult sample replicated)")
    print(f"before: pages at {args.baseline}; after: working tree; {args.repeats} runs each\n")
    scenarios = {"risk": RISK, "masking": MASKING}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.pages.split(","):
            steps = scenarios[name]
            old = Path(tmp) / f"{name}_before.py"
            old.write_text(
                subprocess.run(
                    ["git", "show", f"{args.baseline}:pages/{name}.py"],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
            )
            new = ROOT / "pages" / f"{name}.py"
            # warm-up on a small table: imports and first-use costs out of the figures
            for page in (old, new):
                _scenario(page, df.iloc[:2000], roles, [])
            runs: dict[str, list[list[float | None]]] = {"before": [], "after": []}
            for _ in range(args.repeats):
                runs["before"].append(_scenario(old, df, roles, steps))
                runs["after"].append(_scenario(new, df, roles, steps))
            labels = ["first render", *(s for s, _ in steps)]
            print(f"page {name}: server seconds per interaction (median)")
            print(f"  {'interaction':32} {'before':>7} {'after':>7} {'before/after':>12}")
            for i, label in enumerate(labels):
                b = _median([r[i] for r in runs["before"]])
                a = _median([r[i] for r in runs["after"]])
                ratio = f"{b / a:12.1f}" if a and b else f"{'—':>12}"
                print(f"  {label:32} {_fmt(b)} {_fmt(a)} {ratio}")
            after_steps = {
                label: _median([r[i] for r in runs["after"]])
                for i, label in enumerate(labels)
                if i and label not in OPT_IN
            }
            slowest = max(after_steps, key=lambda k: after_steps[k] or 0.0)
            print(
                f"  slowest ordinary interaction after the first render (opt-in switches "
                f"excluded): {after_steps[slowest]:.2f} s ({slowest})\n"
            )


if __name__ == "__main__":
    main()
