"""The policy verdict against hand-worked examples, brute force and core's own measures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import risk
from core.errors import InvalidParameterError
from core.policy import GUIDANCE, Policy, check_policy


def _rule(verdict, name):
    return next(r for r in verdict.rules if r.name == name)


# --- one quasi-identifier: a = 1,1,1,2,2,3 -> f_k = 3,3,3,2,2,1 ------------------------------
ONE = pd.DataFrame({"a": [1, 1, 1, 2, 2, 3]})


def test_one_column_every_rule_fails():
    # k = 1 < 2; highest risk 1/1 = 1 > 0.4 and three records (f_k = 2, 2, 1) have 1/f_k >
    # 0.4; average = (3 * 1/3 + 2 * 1/2 + 1) / 6 = 0.5 > 0.4
    v = check_policy(ONE, ["a"], Policy(k=2, max_risk=0.4, average_risk=0.4))
    k, top, avg = _rule(v, "k"), _rule(v, "max_risk"), _rule(v, "average_risk")
    assert (k.measured, k.passed, k.failing_records) == (1, False, 1)
    assert (top.measured, top.passed, top.failing_records) == (1.0, False, 3)
    assert avg.measured == pytest.approx(0.5) and not avg.passed and avg.failing_records is None
    assert not v.passed
    # failing records, riskiest first (f_k = 1, then the two with f_k = 2 in row order)
    assert v.failing.tolist() == [5, 3, 4]
    assert v.n_failing == 3 and v.n == 6


def test_a_threshold_equal_to_the_measure_passes():
    # average 0.5 <= 0.5 passes; highest 1.0 > 0.5 fails for the one record with f_k = 1
    v = check_policy(ONE, ["a"], Policy(k=2, max_risk=0.5, average_risk=0.5))
    assert _rule(v, "average_risk").passed
    assert _rule(v, "max_risk").failing_records == 1
    assert v.failing.tolist() == [5]
    # ten records in two classes of five: k = 5, highest 1/5 = 0.2, average 2/10 = 0.2
    five = pd.DataFrame({"a": [1] * 5 + [2] * 5})
    v = check_policy(five, ["a"], Policy(k=5, max_risk=0.2, average_risk=0.2))
    assert v.passed and v.n_failing == 0 and v.failing.size == 0
    # the default policy's average rule (0.05) asks for classes of 20 on average
    v = check_policy(five, ["a"], Policy())
    assert [r.passed for r in v.rules] == [True, True, False] and not v.passed


# --- two quasi-identifiers: which column drives the failure -----------------------------------
TWO = pd.DataFrame(
    {
        "a": [1, 1, 1, 1, 2, 2, 2, 2],
        "b": ["x", "x", "y", "z", "x", "x", "y", "y"],
    }
)


def test_leave_one_out_by_hand():
    # classes (a, b): (1,x) 2, (1,y) 1, (1,z) 1, (2,x) 2, (2,y) 2 -> k = 1, 5 classes / 8
    policy = Policy(k=2, max_risk=0.5, average_risk=0.5)
    v = check_policy(TWO, ["a", "b"], policy, leave_one_out=True)
    assert _rule(v, "k").measured == 1 and _rule(v, "k").failing_records == 2
    assert _rule(v, "average_risk").measured == pytest.approx(5 / 8)
    assert v.failing.tolist() == [2, 3]
    a, b = v.drivers
    # without a: b alone -> x 4, y 3, z 1: k = 1, 3 classes / 8, record 3 still fails
    assert (a.column, a.k_without, a.max_risk_without) == ("a", 1, 1.0)
    assert a.average_risk_without == pytest.approx(3 / 8)
    assert (a.failing_without, a.records_fixed, a.uniques_removed) == (1, 1, 1)
    assert not a.passes_without
    # without b: a alone -> two classes of 4: k = 4, highest 1/4, average 2/8; all pass
    assert (b.column, b.k_without, b.max_risk_without) == ("b", 4, 0.25)
    assert b.average_risk_without == pytest.approx(0.25)
    assert (b.failing_without, b.records_fixed, b.uniques_removed) == (0, 2, 2)
    assert b.passes_without
    # the uniques removed agree with core's leave-one-out
    assert [d.uniques_removed for d in v.drivers] == [
        c.uniques_removed for c in risk.qi_contributions(TWO, ["a", "b"])
    ]


def test_no_leave_one_out_unless_asked_or_with_one_column():
    assert check_policy(TWO, ["a", "b"], Policy()).drivers == ()
    assert check_policy(ONE, ["a"], Policy(), leave_one_out=True).drivers == ()


def test_leave_one_out_reports_progress():
    seen: list[float] = []
    check_policy(TWO, ["a", "b"], Policy(), leave_one_out=True, progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == 1.0


# --- missing values follow the chosen rule ------------------------------------------------------


def test_wildcard_missing_values_raise_f_k():
    # (1,x), (1,y), (NA,y): as a category every record is unique; as a wildcard the third
    # matches the second, so only the first has f_k = 1
    df = pd.DataFrame({"a": [1, 1, None], "b": ["x", "y", "y"]})
    policy = Policy(k=2, max_risk=0.5, average_risk=1.0)
    assert check_policy(df, ["a", "b"], policy).failing.tolist() == [0, 1, 2]
    wild = check_policy(df, ["a", "b"], policy, missing="wildcard")
    assert wild.failing.tolist() == [0]
    assert _rule(wild, "average_risk").measured == pytest.approx((1 + 0.5 + 0.5) / 3)


def test_brute_force_and_core_agree_on_a_random_table():
    rng = np.random.default_rng(11)
    df = pd.DataFrame({c: rng.integers(0, 4, 300) for c in "abc"})
    policy = Policy(k=3, max_risk=0.25, average_risk=0.3)
    v = check_policy(df, list("abc"), policy)
    keys = list(map(tuple, df.to_numpy()))
    fk = np.array([keys.count(x) for x in keys])
    fails = (fk < 3) | (1 / fk > 0.25)
    assert sorted(v.failing.tolist()) == np.flatnonzero(fails).tolist()
    assert v.n_failing == int(fails.sum())
    ec = risk.equivalence_classes(df, list("abc"))
    pros = risk.prosecutor_risk(ec, threshold=0.25)
    assert _rule(v, "k").measured == risk.k_anonymity(df, list("abc"))
    assert _rule(v, "max_risk").measured == pros.highest
    assert _rule(v, "max_risk").failing_records == pros.records_at_risk
    assert _rule(v, "average_risk").measured == pytest.approx(pros.average)
    assert np.all(np.diff(fk[v.failing]) >= 0), "riskiest (smallest class) first"


def test_classes_computed_elsewhere_are_reused_and_checked():
    ec = risk.equivalence_classes(TWO, ["a", "b"])
    same = check_policy(TWO, ["a", "b"], Policy(), classes=ec)
    assert same.failing.tolist() == check_policy(TWO, ["a", "b"], Policy()).failing.tolist()
    with pytest.raises(InvalidParameterError, match="classes were grouped"):
        check_policy(TWO, ["a"], Policy(), classes=ec)


# --- the policy itself ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "k must be"),  # no class has fewer than one record
        ({"k": 2.5}, "k must be"),  # a class size is whole
        ({"max_risk": 0.0}, "max_risk must be"),  # no table has risk 0
        ({"max_risk": 1.5}, "max_risk must be"),  # a probability
        ({"average_risk": math.nan}, "average_risk must be"),
    ],
)
def test_bad_policy_is_refused(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        Policy(**kwargs)


def test_guidance_presets_are_consistent():
    # every preset's k rule and highest-risk rule agree: 1/k <= max_risk < 1/(k - 1)
    for name, p in GUIDANCE.items():
        assert 1 / p.k <= p.max_risk < 1 / (p.k - 1), name
    assert GUIDANCE["El Emam 2013"] == Policy(k=5, max_risk=0.2, average_risk=0.05)
    assert GUIDANCE["EMA Policy 0070"].average_risk == 0.09


def test_a_policy_must_be_a_policy():
    with pytest.raises(InvalidParameterError, match="policy must be a Policy"):
        check_policy(ONE, ["a"], {"k": 5})


def test_errors_name_columns_never_values():
    df = pd.DataFrame({"secret": ["Ann Smith"]})
    with pytest.raises(Exception) as info:
        check_policy(df, ["nope"], Policy())
    assert "Ann Smith" not in str(info.value)
