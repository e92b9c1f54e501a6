"""Measures users of sdcMicro and ARX expect: per-record l counts, journalist records at
risk, enhanced beta-likeness, household risk. Hand-worked examples and independent sums."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from core import risk
from core.attribute_risk import attribute_risk, l_diversity_counts
from core.errors import ColumnError, InvalidParameterError
from core.household_risk import household_risk

# --- per-record distinct l (sdcMicro ldiversity) -----------------------------------------


def test_l_diversity_counts_hand_worked():
    # classes: zip 1 -> {a, a, b} l = 2; zip 2 -> {c, c} l = 1; zip 3 -> {a, b, NaN} l = 3
    df = pd.DataFrame(
        {"zip": [1, 1, 1, 2, 2, 3, 3, 3], "dx": ["a", "a", "b", "c", "c", "a", "b", None]}
    )
    lc = l_diversity_counts(df, risk.equivalence_classes(df, ["zip"]), "dx")
    assert lc.record_l.tolist() == [2, 2, 2, 1, 1, 3, 3, 3]
    assert dict(zip(lc.l_values.tolist(), lc.records.tolist(), strict=True)) == {1: 2, 2: 3, 3: 3}
    assert int(lc.records.sum()) == len(df)
    ar = attribute_risk(df, risk.equivalence_classes(df, ["zip"]), "dx")
    assert ar.distinct_l == int(lc.record_l.min())


def test_l_diversity_counts_matches_groupby_nunique():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"a": rng.integers(0, 30, 500), "s": rng.integers(0, 6, 500)})
    lc = l_diversity_counts(df, risk.equivalence_classes(df, ["a"]), "s")
    ref = df.groupby("a")["s"].transform("nunique").to_numpy()
    np.testing.assert_array_equal(lc.record_l, ref)


def test_l_diversity_counts_bad_input():
    df = pd.DataFrame({"a": [1, 2], "s": [1, 2]})
    ec = risk.equivalence_classes(df, ["a"])
    with pytest.raises(ColumnError, match="not in the table"):
        l_diversity_counts(df, ec, "nope")
    with pytest.raises(ColumnError, match="both a quasi-identifier"):
        l_diversity_counts(df, ec, "a")
    with pytest.raises(InvalidParameterError, match="classes were built on"):
        l_diversity_counts(df.iloc[:1], ec, "s")


# --- journalist records at risk (ARX) ----------------------------------------------------


def test_journalist_records_at_risk_hand_worked():
    # class sizes 1, 2, 4; pi = 0.5 -> journalist risk pi / f = 0.5, 0.25, 0.125
    ec = risk.equivalence_classes(pd.DataFrame({"a": [1, 2, 2, 3, 3, 3, 3]}), ["a"])
    r = risk.journalist_records_at_risk(ec, threshold=0.2, sampling_fraction=0.5)
    assert (r.records_at_risk, r.share_at_risk) == (3, 3 / 7)
    r = risk.journalist_records_at_risk(ec, threshold=0.3, population_size=14)
    assert r.records_at_risk == 1
    # a census: the prosecutor figure
    census = risk.journalist_records_at_risk(ec, threshold=0.2, sampling_fraction=1.0)
    assert census.records_at_risk == risk.prosecutor_risk(ec, threshold=0.2).records_at_risk
    with pytest.raises(InvalidParameterError, match="threshold"):
        risk.journalist_records_at_risk(ec, threshold=0.0, sampling_fraction=0.5)
    with pytest.raises(InvalidParameterError, match="population"):
        risk.journalist_records_at_risk(ec, threshold=0.2)


# --- enhanced beta-likeness (Cao & Karras 2012; ARX EnhancedBLikeness) -------------------


def test_enhanced_beta_likeness_hand_worked():
    # table: a 3/6, b 2/6, c 1/6. class 1 {a, a, b}: q = (2/3, 1/3, 0); class 2 {a, b, c}:
    # q = (1/3, 1/3, 1/3). Gains: class 1 a: (2/3 - 1/2) / (1/2) = 1/3 <= -ln(1/2) = 0.693;
    # class 2 c: (1/3 - 1/6) / (1/6) = 1 <= -ln(1/6) = 1.79. So enhanced beta = 1 = basic.
    df = pd.DataFrame({"g": [1, 1, 1, 2, 2, 2], "s": list("aababc")})
    ar = attribute_risk(df, risk.equivalence_classes(df, ["g"]), "s")
    assert ar.beta_likeness == pytest.approx(1.0)
    assert ar.enhanced_beta_likeness == pytest.approx(1.0)


def test_enhanced_beta_likeness_is_infinite_when_a_gain_exceeds_minus_ln_p():
    # table: a 3/4, b 1/4. class {a}: q(a) = 1, gain (1 - 3/4) / (3/4) = 1/3 > -ln(3/4) = 0.288
    # -> no beta satisfies enhanced beta-likeness; class {a, a, b}: q(a) = 2/3 < 3/4
    df = pd.DataFrame({"g": [1, 2, 2, 2], "s": list("aaab")})
    ar = attribute_risk(df, risk.equivalence_classes(df, ["g"]), "s")
    assert 1 / 3 > -math.log(3 / 4)
    assert ar.enhanced_beta_likeness == math.inf
    assert ar.beta_likeness == pytest.approx(1 / 3)


def test_enhanced_beta_likeness_zero_when_every_class_matches_the_table():
    df = pd.DataFrame({"g": [1, 1, 2, 2], "s": list("abab")})
    ar = attribute_risk(df, risk.equivalence_classes(df, ["g"]), "s")
    assert ar.enhanced_beta_likeness == 0.0


# --- household risk (sdcMicro measure_risk with hid) -------------------------------------


def boole(risks: list[float]) -> float:
    """sdcMicro's measure_hierachical: inclusion-exclusion sum over member subsets."""
    total = 0.0
    for size in range(1, len(risks) + 1):
        for sub in itertools.combinations(risks, size):
            total += (-1) ** (size + 1) * math.prod(sub)
    return total


def test_household_risk_hand_worked_census():
    # f = 2, 2, 1, 3, 3, 3 -> r = 1/2, 1/2, 1, 1/3, 1/3, 1/3 (census: r = 1 / f)
    # hh 1 = rows 0, 2: 1 - (1/2)(0) = 1; hh 2 = rows 1, 3: 1 - (1/2)(2/3) = 2/3;
    # hh 3 = rows 4, 5: 1 - (2/3)^2 = 5/9. ER = 2 + 4/3 + 10/9
    df = pd.DataFrame({"a": [1, 1, 2, 3, 3, 3], "hh": ["x", "y", "x", "y", "z", "z"]})
    hr = household_risk(df, risk.equivalence_classes(df, ["a"]), "hh")
    assert hr.record_risk.tolist() == pytest.approx([1, 2 / 3, 1, 2 / 3, 5 / 9, 5 / 9])
    assert hr.expected_reidentifications == pytest.approx(2 + 4 / 3 + 10 / 9)
    assert hr.share == pytest.approx((2 + 4 / 3 + 10 / 9) / 6)
    assert (hr.n_households, hr.largest_household) == (3, 2)


def test_household_risk_equals_boole_sum_with_weights():
    rng = np.random.default_rng(9)
    n = 120
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 12, n),
            "b": rng.integers(0, 3, n),
            "hh": rng.integers(0, 40, n),
            "w": rng.uniform(1.0, 60.0, n),
        }
    )
    ec = risk.equivalence_classes(df, ["a", "b"])
    hr = household_risk(df, ec, "hh", weight_column="w")
    r = risk.individual_risk(df, ec, weight_column="w").record_risk
    ref = np.empty(n)
    for _, idx in df.groupby("hh").indices.items():
        ref[idx] = boole(r[idx].tolist())
    np.testing.assert_allclose(hr.record_risk, ref, rtol=1e-10, atol=1e-14)
    assert hr.expected_reidentifications == pytest.approx(ref.sum(), rel=1e-12)


def test_household_risk_bad_input_names_no_values():
    df = pd.DataFrame({"a": [1, 2, 3], "hh": [1.0, None, 2.0]})
    ec = risk.equivalence_classes(df, ["a"])
    with pytest.raises(ColumnError, match="1 missing value") as exc:
        household_risk(df, ec, "hh")
    assert "2.0" not in str(exc.value)
    with pytest.raises(ColumnError, match="not in the table"):
        household_risk(df, ec, "house")
    with pytest.raises(ColumnError, match="household ID"):
        household_risk(df, ec, "a")
