"""Budget ledger: composition bounds and refusal."""

from __future__ import annotations

import math

import pytest

from core.dp_budget import (
    Ledger,
    advanced_composition,
    basic_composition,
    compose,
    kov_composition,
)
from core.errors import BudgetExceededError, InvalidParameterError


def kov_reference(eps: list[float], slack: float) -> float:
    """Kairouz, Oh & Viswanath (2015) Theorem 3.5, written out independently."""
    a = sum((math.exp(e) - 1) * e / (math.exp(e) + 1) for e in eps)
    s = sum(e**2 for e in eps)
    return min(
        sum(eps),
        a + math.sqrt(2 * s * math.log(math.e + math.sqrt(s) / slack)),
        a + math.sqrt(2 * s * math.log(1 / slack)),
    )


def test_basic_composition_sums():
    assert basic_composition([(0.5, 1e-6), (0.25, 2e-6)]) == pytest.approx((0.75, 3e-6))


@pytest.mark.parametrize(
    "eps",
    [
        [0.1] * 100,  # many small: sqrt(k) regime
        [0.05] * 10 + [0.5] * 3,  # heterogeneous
        [1.0, 1.0],  # few large: basic wins
    ],
)
def test_kov_matches_theorem(eps):
    got, delta = kov_composition([(e, 0.0) for e in eps], slack_delta=1e-6)
    assert got == pytest.approx(kov_reference(eps, 1e-6), rel=1e-12)
    assert delta == pytest.approx(1e-6)


def test_kov_beats_basic_and_drv_for_many_queries():
    k, e = 100, 0.1
    kov, _ = kov_composition([(e, 0.0)] * k, slack_delta=1e-6)
    drv, _ = advanced_composition(epsilon=e, delta=0.0, k=k, slack_delta=1e-6)
    assert kov < drv < k * e
    # DRV by hand: 0.1*sqrt(200 ln 1e6) + 100*0.1*(e^0.1 - 1)
    assert drv == pytest.approx(0.1 * math.sqrt(200 * math.log(1e6)) + 10 * math.expm1(0.1))


def test_advanced_is_worse_than_basic_for_few_queries():
    drv, _ = advanced_composition(epsilon=1.0, delta=0.0, k=2, slack_delta=1e-6)
    assert drv > 2.0
    c = compose([(1.0, 0.0)] * 2, slack_delta=1e-6)
    assert c.method == "basic" and c.epsilon == 2.0


def test_kov_delta_accounts_for_each_release():
    _, d = kov_composition([(0.1, 1e-6)] * 3, slack_delta=1e-7)
    assert d == pytest.approx(1 - (1 - 1e-7) * (1 - 1e-6) ** 3)


def test_ledger_spends_and_refuses():
    ledger = Ledger(total_epsilon=1.0, total_delta=1e-6)
    ledger = ledger.spend("count", epsilon=0.4)
    ledger = ledger.spend("mean", epsilon=0.3, delta=5e-7)
    assert len(ledger.entries) == 2
    assert ledger.composition().epsilon == pytest.approx(0.7)
    assert ledger.remaining_epsilon == pytest.approx(0.3)
    with pytest.raises(BudgetExceededError, match="above the budget") as info:
        ledger.spend("sum", epsilon=0.31)
    assert isinstance(info.value, InvalidParameterError)
    assert len(ledger.entries) == 2  # unchanged
    with pytest.raises(BudgetExceededError):
        ledger.spend("gauss", epsilon=0.1, delta=6e-7)  # delta over budget
    assert ledger.spend("last", epsilon=0.3).remaining_epsilon == pytest.approx(0.0, abs=1e-9)


def test_ledger_uses_kov_when_its_delta_fits():
    tight = Ledger(total_epsilon=8.0, total_delta=1e-5, slack_delta=1e-6)
    for i in range(99):
        tight = tight.spend(f"q{i}", epsilon=0.1)
    c = tight.preview(epsilon=0.1)
    assert c.method == "Kairouz-Oh-Viswanath"
    assert c.epsilon == pytest.approx(kov_reference([0.1] * 100, 1e-6))
    assert tight.allows(epsilon=0.1)  # basic would be 10 > 8
    pure = Ledger(total_epsilon=8.0, total_delta=0.0)
    for i in range(80):
        pure = pure.spend(f"q{i}", epsilon=0.1)
    assert not pure.allows(epsilon=0.1)  # no delta room: only basic composition applies


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(total_epsilon=0.0), "total_epsilon must"),
        (dict(total_epsilon=1.0, total_delta=1.0), "total_delta must"),
        (dict(total_epsilon=1.0, slack_delta=0.0), "slack_delta must"),
    ],
)
def test_ledger_validates(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Ledger(**kwargs)


def test_spend_validates():
    with pytest.raises(InvalidParameterError, match="epsilon must"):
        Ledger(total_epsilon=1.0).spend("x", epsilon=-1.0)


def test_kov_is_used_when_its_delta_is_the_slack_exactly():
    """δ budget = slack and pure-ε releases: KOV's δ is the slack, not one ulp above it."""
    ledger = Ledger(total_epsilon=10.0, total_delta=1e-6, slack_delta=1e-6)
    for i in range(100):
        ledger = ledger.spend(f"release {i}", epsilon=0.1)
    c = ledger.composition()
    assert c.method == "Kairouz-Oh-Viswanath"
    assert c.epsilon == pytest.approx(kov_reference([0.1] * 100, 1e-6), rel=1e-12)
    assert round(c.epsilon, 3) == 5.756 and c.delta <= 1e-6
    assert ledger.remaining_epsilon == pytest.approx(10.0 - c.epsilon)


@pytest.mark.parametrize("slack", [1e-7, 1e-9, 3e-6, 0.01])
def test_kov_delta_equals_slack_without_release_deltas(slack):
    _, d = kov_composition([(0.1, 0.0)] * 50, slack_delta=slack)
    assert d == slack


def test_spend_many_is_all_or_nothing():
    ledger = Ledger(total_epsilon=1.0)
    after = ledger.spend_many([("pram of a", 0.25, 0.0), ("dp noise of b", 0.5, 0.0)])
    assert [e.label for e in after.entries] == ["pram of a", "dp noise of b"]
    with pytest.raises(BudgetExceededError, match="2 release"):
        after.spend_many([("pram of c", 0.2, 0.0), ("pram of d", 0.2, 0.0)])
    assert len(after.entries) == 2
