"""The Differential privacy page's choices, worked out in core.dp_form."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import dp, limits
from core.dp_budget import Ledger
from core.dp_form import (
    EPSILON_OPTIONS,
    Question,
    budget_blocker,
    default_delta,
    format_number,
    input_blocker,
    mechanisms,
    needs_bounds,
    numeric_columns,
    preview,
    questions,
)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (21830.4, "21,830"),  # the walk-through's 2.183e+04
        (1000.0, "1,000"),  # separators from 1,000 on
        (999.94, "999.9"),  # four significant digits below 1,000
        (999.96, "1,000"),  # rounds up to 1,000: separators again
        (-1234567.8, "-1,234,568"),  # negative, rounded to a whole number
        (123456789012345.0, "123,456,789,012,345"),  # still whole below 1e15
        (1e15, "1e+15"),  # beyond: an exponent, not 16 digits
        (0.5, "0.5"),
        (0.0001234, "0.0001234"),
        (3e-7, "3e-07"),  # tiny values keep their exponent
        (0.0, "0"),
        (float("inf"), "∞"),
        (float("nan"), "not a number"),
    ],
)
def test_format_number(value, shown):
    assert format_number(value) == shown


def test_format_number_never_uses_an_exponent_in_the_readable_range():
    for x in np.geomspace(1e-4, 1e14, 200):
        assert "e" not in format_number(float(x)), x
        assert "e" not in format_number(-float(x)), x


def test_epsilon_options_span_the_limits():
    assert EPSILON_OPTIONS[0] == limits.EPSILON_MIN and EPSILON_OPTIONS[-1] == limits.EPSILON_MAX
    assert limits.EPSILON_DEFAULT in EPSILON_OPTIONS
    assert list(EPSILON_OPTIONS) == sorted(EPSILON_OPTIONS)


def test_kinds_decide_the_questions():
    kinds = {"age": "integer", "urbrur": "category", "pay": "decimal", "ok": "boolean"}
    assert numeric_columns(kinds) == ["age", "pay"]
    assert "mean" in questions(True) and "mean" not in questions(False)
    assert "mode" in questions(False)


@pytest.mark.parametrize("query", ["count", "sum", "mean", "histogram", "quantile"])
def test_only_clamping_questions_need_bounds(query):
    assert needs_bounds(query, True) is (query != "count")
    assert needs_bounds(query, False) is False


def test_mechanisms_are_those_core_accepts():
    for query in dp.MECHANISMS:
        for domain in dp.DOMAINS:
            assert set(mechanisms(query, domain)) <= set(dp.MECHANISMS[query])


def test_default_delta_is_a_hundred_times_below_one_over_n():
    for n in (1, 10, 32_561, 10**6, 10**13):
        d = default_delta(n)
        assert limits.DELTA_MIN <= d <= 1 / (100 * n) or d == limits.DELTA_MIN
        assert math.log10(d) == int(math.log10(d))


def test_input_blocker_names_what_is_missing():
    kw = {"categories_needed": False, "categories": ()}
    assert "Set bounds first" in input_blocker(bounds_needed=True, lower=None, upper=1, **kw)
    assert "must be below" in input_blocker(bounds_needed=True, lower=2.0, upper=1.0, **kw)
    assert input_blocker(bounds_needed=True, lower=0.0, upper=1.0, **kw) is None
    assert input_blocker(bounds_needed=False, lower=None, upper=None, **kw) is None
    assert input_blocker(
        bounds_needed=False, lower=None, upper=None, categories_needed=True, categories=()
    ) == ("List the public categories first.")


def test_budget_blocker_matches_the_ledger():
    ledger = Ledger(total_epsilon=1.0, total_delta=1e-6)
    assert budget_blocker(ledger, epsilon=1.0, delta=0.0) is None
    spent = ledger.spend("count of age", epsilon=0.9)
    assert budget_blocker(spent, epsilon=0.1, delta=0.0) is None
    assert budget_blocker(spent, epsilon=0.2, delta=0.0) == (
        "No budget left: 0.1 of ε remains, this release needs 0.2."
    )
    assert budget_blocker(ledger, epsilon=0.1, delta=1e-5) == (
        "No budget left: 1e-06 of δ remains, this release needs 1e-05."
    )
    # the blocker and the ledger agree on every spend of a grid
    for eps in (0.05, 0.1, 0.15, 0.5):
        assert (budget_blocker(spent, epsilon=eps, delta=0.0) is None) == spent.allows(epsilon=eps)


def test_question_release_is_the_core_release():
    df = pd.DataFrame({"age": [20, 30, 40, 50]})
    qn = Question(
        column="age", query="mean", is_numeric=True, mechanism="laplace", lower=0.0, upper=100.0
    )
    result = qn.release(df, epsilon=1.0)
    assert result.query == "mean" and result.secure and result.mechanism == "laplace"


def test_preview_of_a_declared_histogram_uses_only_the_list():
    df = pd.DataFrame({"c": ["a", "b", "a", "z"]})
    qn = Question(
        column="c",
        query="histogram",
        is_numeric=False,
        mechanism="discrete_laplace",
        categories=("a", "b"),
    )
    p = preview(df, qn, epsilon=1.0, clamped=None)
    assert p is not None and p.labels == ("a", "b")
    assert p.original.tolist() == [2, 1]
    none = Question(column="c", query="histogram", is_numeric=False, mechanism="discrete_laplace")
    assert preview(df, none, epsilon=1.0, clamped=None) is None
