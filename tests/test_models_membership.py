"""Loss-threshold membership inference (Yeom et al., CSF 2018) and the epsilon-DP bounds."""

import math

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidParameterError
from core.models import (
    best_threshold_attack,
    dp_advantage_bound,
    loss_threshold_attack,
    mean_interval,
    membership_risk,
    yeom_advantage_bound,
)


def test_paper_threshold_attack_by_hand():
    members = np.array([0.1, 0.2, 0.3, 1.4])  # mean 0.5
    others = np.array([0.4, 0.6, 0.9, 2.0, 3.0])
    r = loss_threshold_attack(members, others)
    assert r.threshold == pytest.approx(0.5)
    assert (r.tpr, r.fpr) == (0.75, 0.2)  # 3 of 4 members, 1 of 5 others at or below 0.5
    assert r.advantage == pytest.approx(0.55)


@pytest.mark.parametrize("seed", range(5))
def test_best_threshold_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    m = np.round(rng.exponential(0.5, 40), 2)
    o = np.round(rng.exponential(0.8, 50), 2)
    brute = max([0.0] + [np.mean(m <= t) - np.mean(o <= t) for t in np.concatenate([m, o])])
    assert best_threshold_attack(m, o).advantage == pytest.approx(brute, abs=1e-12)
    assert best_threshold_attack(m, o).advantage >= loss_threshold_attack(m, o).advantage - 1e-12


@pytest.mark.parametrize("eps", [0.01, 0.1, 0.5, 1.0, 2.0, 5.0])
def test_dp_bound_is_the_maximum_over_the_dp_testing_region(eps):
    # epsilon-DP: TPR <= e^eps FPR and 1 - FPR <= e^eps (1 - TPR). Brute force over a grid.
    f = np.linspace(0, 1, 2001)[:, None]
    t = np.linspace(0, 1, 2001)[None, :]
    ok = (t <= math.exp(eps) * f + 1e-12) & (1 - f <= math.exp(eps) * (1 - t) + 1e-12)
    brute = float(np.where(ok, t - f, -1).max())
    assert dp_advantage_bound(eps) == pytest.approx(brute, abs=1e-3)
    assert dp_advantage_bound(eps) <= yeom_advantage_bound(eps) + 1e-12
    assert yeom_advantage_bound(eps) == pytest.approx(min(1.0, math.exp(eps) - 1))


def test_mean_interval_covers_the_true_mean_at_its_level():
    rng = np.random.default_rng(0)
    covered = 0
    for _ in range(2000):
        _, lo, hi = mean_interval(rng.normal(0.3, 0.1, size=5))
        covered += lo <= 0.3 <= hi
    assert 0.935 <= covered / 2000 <= 0.965  # nominal 0.95; sd of the estimate ~0.005


def _random_table(n, d, seed, signal):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = rng.random(n) < 1 / (1 + np.exp(-signal * X[:, 0]))
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(d)])
    df["target"] = np.where(y, "yes", "no")
    return df


def test_an_overfit_model_leaks_membership():
    # 120 random-label rows, 100 features, almost no ridge: the model memorizes its half.
    df = _random_table(120, 100, seed=1, signal=0.0)
    r = membership_risk(df, "target", repeats=5, l2=1e-5)
    assert r.train_accuracy > 0.95 and r.accuracy < 0.65
    # The paper's threshold (mean training loss) sits above most of the skewed, near-zero
    # member losses; the best threshold separates members almost perfectly.
    assert r.advantage > 0.25 and r.advantage_ci[0] > 0.15
    assert r.best_advantage > 0.6


def test_a_well_regularized_model_leaks_almost_nothing():
    df = _random_table(4000, 3, seed=2, signal=2.0)
    r = membership_risk(df, "target", repeats=5, l2=1e-2)
    assert abs(r.advantage) < 0.03
    assert r.advantage_ci[0] <= r.advantage <= r.advantage_ci[1]
    assert r.advantage_ci[0] < 0.02  # 0 leakage is not excluded with any margin
    assert r.accuracy > r.baseline + 0.1
    assert r.epsilon is None and r.bound is None


def test_dp_training_reports_the_bound_and_spent_epsilon():
    df = _random_table(600, 3, seed=4, signal=2.0)
    r = membership_risk(df, "target", repeats=3, l2=0.05, epsilon=0.5, source=1)
    assert r.bound == pytest.approx(math.tanh(0.25))
    assert r.epsilon_spent == pytest.approx(1.5)
    assert r.advantage_ci[0] <= r.bound
    assert any("not covered by epsilon" in w for w in r.warnings)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"repeats": 1}, "repeats"), ({"train_fraction": 0.99}, "train_fraction")],
)
def test_settings_out_of_range(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        membership_risk(_random_table(50, 2, 0, 1.0), "target", **kwargs)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"a": [], "y": []}),  # no rows
        pd.DataFrame({"a": [1, 2, 3], "y": [None, None, None]}),  # target all missing
        pd.DataFrame([[1, "a", "x"], [2, "b", "y"]], columns=["a", "a", "y"]),  # duplicate names
        pd.DataFrame({"d": pd.to_datetime(["2020-01-01"] * 20), "y": ["p", "n"] * 10}),  # dates
        pd.DataFrame({"a": [np.inf, 1.0] * 10, "y": ["p", "n"] * 10}),  # infinities
        pd.DataFrame({"a": range(6), "y": ["p"] + ["n"] * 5}),  # a split with one class
        pd.DataFrame({"a": [True, False] * 10, "y": ["p", "n"] * 10}),  # booleans
    ],
)
def test_awkward_tables_give_a_result_or_a_privlens_error(frame):
    from core.errors import PrivLensError

    try:
        r = membership_risk(frame, "y", repeats=2)
    except PrivLensError:
        return
    assert -1 <= r.advantage <= 1 and 0 <= r.accuracy <= 1
