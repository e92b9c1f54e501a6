"""Ordered t-closeness with missing sensitive values: they are left out of both
distributions (as ARX leaves suppressed values out)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.attribute_risk import attribute_risk
from core.risk import equivalence_classes


def _ar(df, qis, s):
    return attribute_risk(df, equivalence_classes(df, qis), s)


def test_issue_example_hand_worked():
    # observed values 10, 20, 30 with table shares p = (2/5, 2/5, 1/5);
    # class 1 {10, 20}: q - p = (.1, .1, -.2), cumulative .1, .2, 0 -> 0.3 / 2 = 0.15;
    # class 2 {10, 20, 30}: cumulative -1/15, -2/15, 0 -> (3/15) / 2 = 0.1
    df = pd.DataFrame({"g": [1, 1, 1, 2, 2, 2], "v": [10, 20, np.nan, 10, 20, 30]})
    ar = _ar(df, ["g"], "v")
    assert ar.ordered
    assert ar.t_closeness == pytest.approx(0.15, abs=1e-15)
    assert any("missing" in w for w in ar.warnings)
    # wherever the NaN sits in the row order, the answer is the same
    assert _ar(df.iloc[::-1].reset_index(drop=True), ["g"], "v").t_closeness == pytest.approx(
        0.15, abs=1e-15
    )


def _brute_ordered_without_missing(df, qis, s):
    d = df.dropna(subset=[s])
    vals = np.sort(d[s].unique())
    p = d[s].value_counts(normalize=True).reindex(vals).to_numpy()
    worst = 0.0
    for _, g in d.groupby(qis, dropna=False):
        q = g[s].value_counts(normalize=True).reindex(vals, fill_value=0).to_numpy()
        worst = max(worst, np.abs(np.cumsum(q - p)).sum() / (len(vals) - 1))
    return worst


@pytest.mark.parametrize("seed", range(6))
def test_matches_brute_force_on_the_observed_values(seed):
    rng = np.random.default_rng(seed)
    n = 300
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 8, n),
            "num": rng.integers(0, 15, n).astype(float),
        }
    )
    df.loc[rng.random(n) < 0.15, "num"] = np.nan
    df.loc[df["a"] == 7, "num"] = np.nan  # one class with no observed value at all
    ar = _ar(df, ["a"], "num")
    assert ar.t_closeness == pytest.approx(_brute_ordered_without_missing(df, ["a"], "num"))
    assert any("1 class" in w for w in ar.warnings)


def test_ordered_categorical_with_missing_values():
    cat = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    df = pd.DataFrame(
        {"g": [1, 1, 1, 2, 2, 2], "v": pd.Series(["low", "mid", None, "low", "mid", "high"])}
    )
    df["v"] = df["v"].astype(cat)
    assert _ar(df, ["g"], "v").t_closeness == pytest.approx(0.15, abs=1e-15)


def test_one_observed_value_and_missing_values_gives_zero():
    # leaving missing values out leaves one value: every class has the table's distribution
    df = pd.DataFrame({"g": [1, 1, 2, 2], "v": [5.0, np.nan, 5.0, 5.0]})
    ar = _ar(df, ["g"], "v")
    assert ar.t_closeness == 0.0
    assert any("at most one observed value" in w for w in ar.warnings)
