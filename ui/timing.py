"""Server time of a page's parts, recorded only for measurements (``PRIVLENS_TIMING=1``).

A part decorated with :func:`timed` records how long its last run took, in seconds, under
its name in ``st.session_state["timing"]``. The benchmarks read it to report what one
interaction costs the server when the browser reruns only a fragment. Nothing is recorded
unless the environment variable :data:`ENV` is ``1``, and nothing is ever shown to users.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import streamlit as st

__all__ = ["ENV", "KEY", "enabled", "timed"]

#: The environment variable that switches the recording on (value ``1``).
ENV = "PRIVLENS_TIMING"
#: ``st.session_state`` key of the recorded times: ``{name: seconds of the last run}``.
KEY = "timing"

P = ParamSpec("P")
R = TypeVar("R")


def enabled() -> bool:
    """Whether this process records the times (``PRIVLENS_TIMING=1``)."""
    return os.environ.get(ENV) == "1"


def timed(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Record the duration of each run of the decorated function under ``name``.

    The time is recorded also when the run ends early (``st.stop``, a rerun, an error).
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            if not enabled():
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                times = st.session_state.get(KEY)
                if not isinstance(times, dict):
                    times = {}
                times[name] = time.perf_counter() - t0
                st.session_state[KEY] = times

        return run

    return decorate
