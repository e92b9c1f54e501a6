"""Attribute disclosure: hand-worked examples, brute-force references, pyCANON cross-checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core.attribute_risk import attribute_risk, attribute_risks
from core.errors import ColumnError, InvalidParameterError
from core.risk import equivalence_classes

ROOT = Path(__file__).resolve().parents[1]


def _ar(df, qis, sensitive, **kw):
    return attribute_risk(df, equivalence_classes(df, qis), sensitive, **kw)


def test_hand_worked_categorical():
    # class 1: a a b; class 2: c a b. Table shares: a 1/2, b 1/3, c 1/6
    df = pd.DataFrame({"zip": [1, 1, 1, 2, 2, 2], "dx": list("aabcab")})
    ar = _ar(df, ["zip"], "dx")
    assert ar.distinct_l == 2
    h1 = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3))
    assert ar.entropy_l == pytest.approx(math.exp(h1))  # class 2 has exp(ln 3) = 3
    assert ar.recursive_c == 2.0  # class 1: r1 / (r2) = 2 / 1; class 2: 1 / 2
    # equal distance: class 1: 0.5 (1/6 + 0 + 1/6) = 1/6; class 2 the same
    assert ar.t_closeness == pytest.approx(1 / 6)
    assert not ar.ordered
    # delta: max |ln(q/p)| over present values: class 1 a: ln((2/3)/(1/2)); class 2 c:
    # ln((1/3)/(1/6)) = ln 2 is the largest
    assert ar.delta_disclosure == pytest.approx(math.log(2))
    assert ar.beta_likeness == pytest.approx(1.0)  # (1/3 - 1/6) / (1/6)
    assert ar.warnings  # class 1 lacks 'c'


def test_recursive_c_uses_descending_counts_and_l():
    # one class, counts 5, 3, 2, 1: (c, 2): 5 / (3 + 2 + 1) = 5/6; (c, 3): 5 / 3
    df = pd.DataFrame({"q": [0] * 11, "s": list("aaaaabbbccd")})
    assert _ar(df, ["q"], "s").recursive_c == pytest.approx(5 / 6)
    assert _ar(df, ["q"], "s", recursive_l=3).recursive_c == pytest.approx(5 / 3)
    assert _ar(df, ["q"], "s", recursive_l=5).recursive_c == math.inf  # only 4 values


def test_ordered_distance_hand_worked():
    # Li et al. ordered distance: values 1..3, table p = (1/3, 1/3, 1/3)
    # class A = {1, 1}: q = (1, 0, 0): cum diffs 2/3, 1/3, 0 -> (1/2)(1) = 0.5
    # class B = {2, 3, 3, 3}? keep simple: B = {2, 3}: q = (0, .5, .5)
    df = pd.DataFrame({"g": [0, 0, 1, 1], "v": [1, 1, 2, 3]})
    # p = (1/2, 1/4, 1/4); A: q = (1, 0, 0): cum r = 1/2, 1/4, 0 -> (1/2)(3/4) = 3/8
    # B: q = (0, 1/2, 1/2): cum r = -1/2, -1/4, 0 -> 3/8
    ar = _ar(df, ["g"], "v")
    assert ar.ordered and ar.t_closeness == pytest.approx(3 / 8)


def _brute_ordered(df, qis, s):
    vals = np.sort(df[s].unique())
    p = df[s].value_counts(normalize=True).reindex(vals).to_numpy()
    worst = 0.0
    for _, g in df.groupby(qis, dropna=False):
        q = g[s].value_counts(normalize=True).reindex(vals, fill_value=0).to_numpy()
        worst = max(worst, np.abs(np.cumsum(q - p)).sum() / (len(vals) - 1))
    return worst


def _brute_equal(df, qis, s):
    p = df[s].value_counts(normalize=True)
    worst = 0.0
    for _, g in df.groupby(qis, dropna=False):
        q = g[s].value_counts(normalize=True).reindex(p.index, fill_value=0)
        worst = max(worst, 0.5 * (q - p).abs().sum())
    return worst


@pytest.mark.parametrize("seed", range(5))
def test_emd_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 400
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 6, n),
            "b": rng.integers(0, 3, n),
            "num": rng.integers(0, 25, n),
            "cat": rng.choice(list("pqrstu"), n),
        }
    )
    ar_num = _ar(df, ["a", "b"], "num")
    assert ar_num.t_closeness == pytest.approx(_brute_ordered(df, ["a", "b"], "num"), rel=1e-9)
    ar_cat = _ar(df, ["a", "b"], "cat")
    assert ar_cat.t_closeness == pytest.approx(_brute_equal(df, ["a", "b"], "cat"), rel=1e-9)


def test_ordered_categorical_uses_category_order():
    cat = pd.CategoricalDtype(["low", "mid", "high"], ordered=True)
    df = pd.DataFrame({"g": [0, 0, 1, 1], "v": pd.Series(["low", "low", "mid", "high"], dtype=cat)})
    assert _ar(df, ["g"], "v").t_closeness == pytest.approx(3 / 8)  # as the 1, 1, 2, 3 case


def test_missing_sensitive_value_counts_as_a_value():
    df = pd.DataFrame({"g": [0, 0, 1, 1], "s": ["x", None, "x", "y"]})
    assert _ar(df, ["g"], "s").distinct_l == 2


def test_errors():
    df = pd.DataFrame({"g": [0, 1], "s": [1, 2]})
    ec = equivalence_classes(df, ["g"])
    with pytest.raises(ColumnError, match="both a quasi-identifier"):
        attribute_risk(df, ec, "g")
    with pytest.raises(ColumnError, match="not in the table"):
        attribute_risk(df, ec, "nope")
    with pytest.raises(InvalidParameterError, match="recursive_l"):
        attribute_risk(df, ec, "s", recursive_l=1)


# --- pyCANON cross-checks on the Adult sample --------------------------------------------

QIS = ["age", "sex", "race"]


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ROOT / "data" / "adult.csv").iloc[:1000]


#: Quasi-identifiers of the pyCANON cross-check: pyCANON's run time grows with classes times
#: sensitive values (about 100 s for age, sex and race: 214 classes of 1 to 25 records), so
#: the check uses 10 classes of 2 to 591 records, each lacking some values.
PYCANON_QIS = ["sex", "race"]


def test_l_and_t_match_pycanon(adult):
    anonymity = pytest.importorskip("pycanon.anonymity")
    ec = equivalence_classes(adult, PYCANON_QIS)
    distinct = set()
    for s in ["income", "occupation", "hours-per-week"]:  # two, 15 and 56 values (ordered)
        # a case with holes: some class lacks a value of the table
        assert adult.groupby(PYCANON_QIS)[s].nunique().min() < adult[s].nunique()
        ar = attribute_risk(adult, ec, s)
        assert ar.distinct_l == anonymity.l_diversity(adult, PYCANON_QIS, [s])
        distinct.add(ar.distinct_l)
        assert ar.t_closeness == pytest.approx(
            anonymity.t_closeness(adult, PYCANON_QIS, [s]), rel=1e-9
        )
        assert ar.beta_likeness == pytest.approx(
            anonymity.basic_beta_likeness(adult, PYCANON_QIS, [s]), rel=1e-9
        )
        # pyCANON's delta also skips values absent from a class and uses the natural log
        assert ar.delta_disclosure == pytest.approx(
            anonymity.delta_disclosure(adult, PYCANON_QIS, [s]), rel=1e-9
        )
    assert distinct != {1}  # not only classes of one value


def test_entropy_l_against_definition_not_pycanon_floor(adult):
    anonymity = pytest.importorskip("pycanon.anonymity")
    ec = equivalence_classes(adult, QIS)
    ar = attribute_risk(adult, ec, "occupation")
    # pyCANON floors exp(H) to an int; we report the float of the definition
    assert int(ar.entropy_l) == anonymity.entropy_l_diversity(adult, QIS, ["occupation"])
    ref = min(
        math.exp(-(g.value_counts(normalize=True) * np.log(g.value_counts(normalize=True))).sum())
        for _, g in adult.groupby(QIS)["occupation"]
    )
    assert ar.entropy_l == pytest.approx(ref, rel=1e-12)


def test_recursive_c_against_textbook_not_pycanon(adult):
    # pyCANON sorts counts ascending and floors r_1 / tail + 1; the textbook definition
    # (Machanavajjhala et al.) sorts descending: r_1 < c (r_l + ... + r_m)
    ec = equivalence_classes(adult, QIS)
    ar = attribute_risk(adult, ec, "occupation", recursive_l=2)
    ref = 0.0
    for _, g in adult.groupby(QIS)["occupation"]:
        r = np.sort(g.value_counts().to_numpy())[::-1]
        ref = max(ref, r[0] / r[1:].sum() if len(r) >= 2 else math.inf)
    assert ar.recursive_c == pytest.approx(ref)


def test_attribute_risks_multiple():
    df = pd.DataFrame({"zip": [1, 1, 2, 2], "a": list("xyxy"), "b": [1, 1, 2, 3]})
    out = attribute_risks(df, equivalence_classes(df, ["zip"]), ["a", "b"])
    assert [r.column for r in out] == ["a", "b"]
