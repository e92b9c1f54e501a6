"""The choices of the Differential privacy page, worked out without Streamlit.

Which questions a column's kind allows, which mechanisms a question takes, what a release
still needs before it may run (and the sentence shown next to the disabled button), numbers
shown the way people read them, and the simulated preview drawn under the error curve.
Everything here is plain Python over the page's settings, tested in ``tests/test_dp_form.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import dp, dp_utility, limits
from core.dp_budget import Ledger

#: Column kinds (see :mod:`core.kinds`) whose values are numbers to clamp and add noise to.
NUMERIC_KINDS = ("integer", "decimal")
#: Questions a numeric column answers, and those any other column answers.
NUMERIC_QUESTIONS = ("count", "sum", "mean", "histogram", "quantile")
CATEGORICAL_QUESTIONS = ("count", "histogram", "mode")

QUERY_LABELS = {
    "count": "Count of values",
    "sum": "Sum",
    "mean": "Mean",
    "histogram": "Histogram",
    "quantile": "Median / quantile",
    "mode": "Most frequent value (mode)",
}
MECH_LABELS = {
    "laplace": "Laplace",
    "gaussian": "Gaussian (analytic calibration)",
    "discrete_laplace": "Discrete Laplace (integer noise)",
    "discrete_gaussian": "Discrete Gaussian (integer noise)",
    "exponential": "Exponential mechanism",
}
DOMAIN_LABELS = {
    "declared": "Declared list (public)",
    "threshold": "Found in the data, above a noise threshold (needs δ)",
}


#: The ε slider's stops: 61 log-spaced values from EPSILON_MIN to EPSILON_MAX, 3 digits each.
EPSILON_OPTIONS = tuple(
    float(f"{e:.3g}") for e in np.geomspace(limits.EPSILON_MIN, limits.EPSILON_MAX, 61)
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """One DP question as the page has set it up: column, query, mechanism and parameters."""

    column: str
    query: str
    is_numeric: bool
    mechanism: str
    domain: str = "declared"
    categories: tuple[str, ...] = ()
    lower: float | None = None
    upper: float | None = None
    bins: int = 20
    q: float = 0.5
    delta: float = 0.0

    @property
    def candidates(self) -> int:
        """Output candidates of the exponential mechanism (see :func:`candidates`)."""
        return candidates(self.query, self.domain, self.categories)

    def release(self, df: pd.DataFrame, *, epsilon: float) -> dp.DPResult:
        """The release itself (secure noise), by :func:`core.dp.release`.

        >>> Question(column="a", query="count", is_numeric=True, mechanism="discrete_laplace"
        ...          ).release(pd.DataFrame({"a": [1, 2]}), epsilon=1.0).query
        'count'
        """
        return dp.release(
            df,
            self.column,
            query=self.query,
            epsilon=epsilon,
            mechanism=self.mechanism,
            delta=self.delta,
            lower=self.lower,
            upper=self.upper,
            bins=self.bins,
            q=self.q,
            categories=list(self.categories) or None,
            domain=self.domain,
        )


def numeric_columns(kinds: Mapping[str, str]) -> list[str]:
    """Columns whose kind is a number, in order.

    >>> numeric_columns({"age": "integer", "zip": "text", "pay": "decimal", "urbrur": "category"})
    ['age', 'pay']
    """
    return [c for c, k in kinds.items() if k in NUMERIC_KINDS]


def default_column(
    columns: Sequence[str], numeric: Sequence[str], identifiers: Sequence[str]
) -> str:
    """The first numeric column that is not a direct identifier, else the first column.

    >>> default_column(["id", "age", "sex"], ["id", "age"], ["id"])
    'age'
    """
    skip = set(identifiers)
    return next((c for c in numeric if c not in skip), columns[0] if columns else "")


def questions(is_numeric: bool) -> tuple[str, ...]:
    """The questions a column of this treatment can be asked."""
    return NUMERIC_QUESTIONS if is_numeric else CATEGORICAL_QUESTIONS


def uses_domain(query: str, is_numeric: bool) -> bool:
    """Whether the question releases categories, whose list must be public or thresholded."""
    return not is_numeric and query in ("histogram", "mode")


def mechanisms(query: str, domain: str) -> tuple[str, ...]:
    """The mechanisms of ``query``; a threshold histogram uses discrete Laplace, a declared mode
    the exponential mechanism.

    >>> mechanisms("mode", "declared"), mechanisms("histogram", "threshold")
    (('exponential',), ('discrete_laplace',))
    """
    if query in ("histogram", "mode") and domain == "threshold":
        return ("discrete_laplace",)
    if query == "mode":
        return ("exponential",)
    return dp.MECHANISMS[query]


def needs_bounds(query: str, is_numeric: bool) -> bool:
    """Whether the question clamps values into public bounds [L, U] (count never does)."""
    return is_numeric and query in ("sum", "mean", "histogram", "quantile")


def needs_delta(mechanism: str, domain: str) -> bool:
    """Whether the release has a δ: the Gaussians and the threshold histogram."""
    return mechanism in ("gaussian", "discrete_gaussian") or domain == "threshold"


def default_delta(n_rows: int) -> float:
    """A δ at least 100 times smaller than 1/n, a power of ten.

    >>> default_delta(32_561)
    1e-07
    """
    n = max(1, int(n_rows))
    return max(limits.DELTA_MIN, 10.0 ** math.floor(math.log10(1.0 / (100 * n))))


def parse_categories(text: str | None) -> tuple[str, ...]:
    """The declared categories typed one per line: stripped, blank lines and repeats dropped.

    >>> parse_categories(" a\\n\\nb\\na ")
    ('a', 'b')
    """
    return tuple(dict.fromkeys(x.strip() for x in (text or "").splitlines() if x.strip()))


def candidates(query: str, domain: str, categories: Sequence[str]) -> int:
    """Output candidates of the exponential mechanism (for its error figures)."""
    if query == "quantile":
        return dp.QUANTILE_GRID
    if query == "mode" and domain == "declared":
        return len(categories) or 2
    return 2


def format_number(value: float) -> str:
    """A number as people read it: thousands separated, no exponent between 1e-4 and 1e15.

    Four significant digits below 1,000; whole numbers with separators from 1,000 on
    (``21,830``, not ``2.183e+04``).

    >>> [format_number(x) for x in (21830.4, -1234567.8, 12.345678, 0.000123, 0.0)]
    ['21,830', '-1,234,568', '12.35', '0.000123', '0']
    >>> format_number(float("inf")), format_number(3e-7), format_number(2.5e16)
    ('∞', '3e-07', '2.5e+16')
    """
    x = float(value)
    if math.isnan(x):
        return "not a number"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    if x == 0:
        return "0"
    if abs(x) < 1e-4 or abs(x) >= 1e15:
        return f"{x:.3g}"
    short = f"{x:.4g}"
    if abs(float(short)) >= 1_000:  # also 999.95, which rounds up to 1000
        return f"{x:,.0f}"
    return short


def input_blocker(
    *,
    bounds_needed: bool,
    lower: float | None,
    upper: float | None,
    categories_needed: bool,
    categories: Sequence[str],
) -> str | None:
    """What the question still lacks before a release may run, as a sentence, or None.

    Checked before anything is charged: a release that would fail after the charge must
    not cost budget.

    >>> input_blocker(bounds_needed=True, lower=0.0, upper=None, categories_needed=False,
    ...               categories=())
    'Set bounds first: the lower bound L and the upper bound U.'
    """
    if bounds_needed and (lower is None or upper is None):
        return "Set bounds first: the lower bound L and the upper bound U."
    if bounds_needed and lower is not None and upper is not None and not lower < upper:
        return "Set bounds first: the lower bound L must be below the upper bound U."
    if categories_needed and not categories:
        return "List the public categories first."
    return None


def budget_blocker(ledger: Ledger | None, *, epsilon: float, delta: float) -> str | None:
    """Why the table's budget does not allow this release, as a sentence, or None.

    >>> budget_blocker(None, epsilon=1.0, delta=0.0)
    'Start a privacy budget first (below).'
    >>> spent = Ledger(total_epsilon=1.0).spend("count of age", epsilon=0.98)
    >>> budget_blocker(spent, epsilon=0.1, delta=0.0)
    'No budget left: 0.02 of ε remains, this release needs 0.1.'
    >>> budget_blocker(spent, epsilon=0.02, delta=0.0) is None
    True
    """
    if ledger is None:
        return "Start a privacy budget first (below)."
    if ledger.allows(epsilon=epsilon, delta=delta):
        return None
    after = ledger.preview(epsilon=epsilon, delta=delta)
    if after.epsilon > ledger.total_epsilon * (1 + 1e-12):
        return (
            f"No budget left: {ledger.remaining_epsilon:.4g} of ε remains, this release "
            f"needs {epsilon:g}."
        )
    left = max(0.0, ledger.total_delta - ledger.composition().delta)
    return f"No budget left: {left:.3g} of δ remains, this release needs {delta:.3g}."


# --- the simulated preview under the curve ----------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Preview:
    """Original counts and one seeded simulated noisy release of them (never released)."""

    labels: tuple[str, ...]
    original: np.ndarray
    noisy: np.ndarray
    description: str
    note: str = ""


def preview(
    df: pd.DataFrame, qn: Question, *, epsilon: float, clamped: np.ndarray | None
) -> Preview | None:
    """The page's overlay: what one release at ``epsilon`` could look like (seeded, screen only).

    None when there is nothing to draw (a numeric count; a declared histogram with no list).

    Raises
    ------
    PrivLensError
        Parameters the release functions refuse.
    """
    column, query, is_numeric, mechanism = qn.column, qn.query, qn.is_numeric, qn.mechanism
    delta, domain, lower, upper, bins = qn.delta, qn.domain, qn.lower, qn.upper, qn.bins
    categories = qn.categories
    if query == "histogram" and domain == "threshold" and not is_numeric:
        sim = dp.dp_histogram(
            df, column, epsilon=epsilon, domain="threshold", delta=delta, source=0
        )
        shares = df[column].astype("string").fillna("<NA>").value_counts()
        labs = tuple(str(x) for x in sim.labels)
        return Preview(
            labels=labs,
            original=shares.reindex(list(labs), fill_value=0).to_numpy(),
            noisy=np.asarray(sim.value),
            description=f"noisy counts at or above the threshold {sim.threshold:g} (simulation)",
            note=(
                f"Threshold at ε = {epsilon:g}, δ = {delta:g}: t = {sim.threshold:g}. Of the "
                f"{len(shares):,} categories in the data (exact, on your screen only), "
                f"{len(labs):,} passed in this simulation."
            ),
        )
    if query == "histogram" and not is_numeric and not categories:
        return None
    if query == "histogram":
        if is_numeric and (lower is None or upper is None):
            return None
        cats = list(categories) or None
        counts, labels, _ = dp.histogram_counts(
            df, column, lower=lower, upper=upper, bins=bins, categories=cats
        )
        sim = dp.dp_histogram(
            df,
            column,
            epsilon=epsilon,
            lower=lower,
            upper=upper,
            bins=bins,
            categories=cats,
            mechanism=mechanism,
            delta=delta,
            source=0,
        )
        return Preview(
            labels=tuple(str(x) for x in labels),
            original=np.asarray(counts),
            noisy=np.asarray(sim.value),
            description="noisy bin counts (simulation)",
        )
    if is_numeric:
        if clamped is None or lower is None or upper is None:
            return None
        ov = dp_utility.numeric_overlay(clamped, epsilon=epsilon, lower=lower, upper=upper)
        return Preview(
            labels=tuple(str(x) for x in ov.labels),
            original=np.asarray(ov.original),
            noisy=np.asarray(ov.noisy),
            description=ov.description,
        )
    every = df[column].astype("string").fillna("<NA>").value_counts()
    shares = every.head(30)
    # a preview on this screen: the simulation may use the data's own categories
    rr = dp.randomized_response(
        df[column], epsilon=epsilon, categories=tuple(every.index), source=0
    )
    noisy = rr.values.astype("string").value_counts().reindex(list(shares.index), fill_value=0)
    return Preview(
        labels=tuple(str(x) for x in shares.index),
        original=shares.to_numpy(),
        noisy=noisy.to_numpy(),
        description=f"randomized response, keep probability {rr.keep_probability:.3f} (simulation)",
        note=(
            "Randomized-response preview: a seeded simulation over the categories found in "
            "the data, on your screen only and never released; it spends no budget."
        ),
    )
