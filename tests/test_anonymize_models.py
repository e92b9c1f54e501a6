"""Privacy and quality models: hand-worked examples and agreement with the risk engine."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core import attribute_risk, risk
from core.anonymize import (
    AverageRisk,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    Hierarchy,
    KAnonymity,
    MaxRisk,
    OrderedTCloseness,
    RecursiveCLDiversity,
)
from core.anonymize.search import evaluate, prepare
from core.errors import ColumnError, HierarchyError, InvalidParameterError

# Six records; the zip hierarchy has a fifth value (131) absent from the data, as ARX's
# domain shares count every hierarchy row.
HAND = pd.DataFrame(
    {
        "zip": ["111", "112", "121", "122", "111", "112"],
        "sex": ["f", "m", "f", "m", "m", "f"],
        "dx": ["a", "b", "a", "a", "c", "b"],
    }
)
H_ZIP = Hierarchy(
    rows=(
        ("111", "11*", "*"),
        ("112", "11*", "*"),
        ("121", "12*", "*"),
        ("122", "12*", "*"),
        ("131", "13*", "*"),
    )
)
H_SEX = Hierarchy(rows=(("f", "*"), ("m", "*")))
HIER = {"zip": H_ZIP, "sex": H_SEX}


def _eval(levels, models, limit, metric):
    p = prepare(HAND, ["zip", "sex"], HIER, models=models, suppression_limit=limit, metric=metric)
    return evaluate(p, levels)


# node (1, 1): classes 11* (4 records: dx a, b, c, b) and 12* (2 records: dx a, a)
@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("height", 2.0),
        ("dm-star", 16 + 4),
        ("discernibility", 16 + 4),
        ("aecs", 6 / 2),
        # zip: raw = 6 * 0.4 = 2.4, (2.4 - 6/5) / (6 - 6/5) = 0.25; sex: 1 -> sqrt(1.25*2) - 1
        ("loss", math.sqrt(1.25 * 2.0) - 1.0),
        # zip: -(2 log2(2/4) * 2 + 1 log2(1/2) * 2) = 6; sex: -(3 log2(3/6) * 2) = 6
        ("entropy", 12.0),
    ],
)
def test_metrics_hand_worked_without_suppression(metric, expected):
    t = _eval((1, 1), [KAnonymity(2)], 0.0, metric)
    assert t.anonymous and t.suppressed_records == 0
    assert t.score == pytest.approx(expected, rel=1e-9)
    assert (t.classes, t.min_class_size) == (2, 2)


# node (1, 1) with distinct 2-diversity of dx: class 12* (1 distinct value) is suppressed
@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("height", 2.0),
        ("dm-star", 20.0),  # suppressed classes count by their size
        ("discernibility", 16 + 6 * 2),  # n * suppressed records
        ("aecs", 6 / (1 + 1)),  # the suppressed records form one class
        # zip: raw = 4 * 0.4 + 2 * 1 = 3.6 -> 0.5; sex: 1 -> sqrt(1.5 * 2) - 1
        ("loss", math.sqrt(3.0) - 1.0),
        # suppressed records share one generalized value per QI: no extra entropy
        ("entropy", 12.0),
    ],
)
def test_metrics_hand_worked_with_suppression(metric, expected):
    t = _eval((1, 1), [DistinctLDiversity("dx", 2)], 2 / 6 + 1e-9, metric)
    assert t.anonymous and t.suppressed_records == 2
    assert t.score == pytest.approx(expected, rel=1e-9)
    assert t.record_suppressed.tolist() == [False, False, True, True, False, False]


# node (0, 1) with k = 2: records 121 and 122 (classes of 1) are suppressed
@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        ("discernibility", 4 + 4 + 6 * 2),
        ("dm-star", 4 + 4 + 1 + 1),
        ("aecs", 6 / 3),
        # zip: raw = 4 * 0.2 + 2 = 2.8 -> floor(1/3 * 1e10) / 1e10; sex 1
        ("loss", math.sqrt((1 + math.floor(1e10 / 3) / 1e10) * 2) - 1),
        # zip: 0 + 2 * 1 log2(1/2) -> 2; sex: 6
        ("entropy", 8.0),
    ],
)
def test_suppressed_records_scored_as_arx(metric, expected):
    t = _eval((0, 1), [KAnonymity(2)], 2 / 6 + 1e-9, metric)
    assert t.anonymous and t.suppressed_records == 2
    assert t.score == pytest.approx(expected, rel=1e-12)


def test_suppression_limit_is_floor_of_share_times_n():
    # 2 records must go; floor(0.33 * 6) = 1 is not enough, floor(0.34 * 6) = 2 is
    assert not _eval((0, 1), [KAnonymity(2)], 0.33, "loss").anonymous
    assert _eval((0, 1), [KAnonymity(2)], 0.34, "loss").anonymous
    assert math.isnan(_eval((0, 1), [KAnonymity(2)], 0.0, "loss").score)


def test_lower_bounds_do_not_exceed_scores():
    for metric in ("loss", "entropy", "discernibility", "dm-star", "aecs", "height"):
        t = _eval((0, 1), [KAnonymity(2)], 0.5, metric)
        assert t.lower_bound <= t.score + 1e-12


# --- agreement with core.risk and core.attribute_risk ---------------------------------------


def _frame(seed, n=60):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "a": rng.choice(["p", "q", "r", "s"], n),
            "b": rng.choice(["u", "v"], n),
            "dx": rng.choice(["x", "y", "z", "w"], n, p=[0.4, 0.3, 0.2, 0.1]),
            "num": rng.integers(0, 6, n),
        }
    )


H_A = Hierarchy(rows=(("p", "pq", "*"), ("q", "pq", "*"), ("r", "rs", "*"), ("s", "rs", "*")))
H_B = Hierarchy(rows=(("u", "*"), ("v", "*")))


def _generalized(df, levels):
    a = {r[0]: r[levels[0]] for r in H_A.rows}
    b = {r[0]: r[levels[1]] for r in H_B.rows}
    return df.assign(a=df["a"].map(a), b=df["b"].map(b))


def _anonymous(df, levels, model):
    p = prepare(df, ["a", "b"], {"a": H_A, "b": H_B}, models=[model], suppression_limit=0)
    return evaluate(p, levels)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("levels", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_models_agree_with_attribute_risk(seed, levels):
    df = _frame(seed)
    gen = _generalized(df, levels)
    ec = risk.equivalence_classes(gen, ["a", "b"])
    ar = attribute_risk.attribute_risk(gen, ec, "dx", recursive_l=2)
    arn = attribute_risk.attribute_risk(gen, ec, "num", recursive_l=2)
    eps = 1e-9
    cases = [
        (DistinctLDiversity("dx", ar.distinct_l), True),
        (DistinctLDiversity("dx", ar.distinct_l + 1), False),
        (EntropyLDiversity("dx", ar.entropy_l - eps), True),
        (EntropyLDiversity("dx", ar.entropy_l + 1e-6), False),
        (EqualTCloseness("dx", min(1.0, ar.t_closeness + eps)), True),
        (EqualTCloseness("dx", max(0.0, ar.t_closeness - 1e-6)), ar.t_closeness < 1e-6),
        (OrderedTCloseness("num", min(1.0, arn.t_closeness + eps)), True),
        (OrderedTCloseness("num", max(0.0, arn.t_closeness - 1e-6)), arn.t_closeness < 1e-6),
    ]
    if math.isfinite(ar.recursive_c):
        cases += [
            (RecursiveCLDiversity("dx", ar.recursive_c + 1e-6, 2), True),
            (RecursiveCLDiversity("dx", ar.recursive_c, 2), False),
        ]
    else:
        cases.append((RecursiveCLDiversity("dx", 1e9, 2), False))
    for model, ok in cases:
        assert _anonymous(df, levels, model).anonymous is ok, model
    # k, the highest and the average prosecutor risk
    pr = risk.prosecutor_risk(ec)
    t = _anonymous(df, levels, KAnonymity(1))
    assert t.min_class_size == risk.k_anonymity(gen, ["a", "b"])
    assert t.max_risk == pytest.approx(pr.highest)
    assert t.avg_risk == pytest.approx(pr.average)
    assert _anonymous(df, levels, MaxRisk(pr.highest)).anonymous
    assert _anonymous(df, levels, AverageRisk(pr.average)).anonymous
    assert not _anonymous(df, levels, AverageRisk(pr.average * 0.999)).anonymous


def test_average_risk_suppresses_the_smallest_classes_within_the_limit():
    # classes of sizes 1, 1, 2, 4 (risk 4 / 8 = 0.5); suppressing the two singletons gives
    # 2 / 6 = 0.33 <= 0.4
    df = pd.DataFrame({"a": ["p", "q", "r", "r", "s", "s", "s", "s"], "b": ["u"] * 8})
    h = Hierarchy(rows=(("p", "*"), ("q", "*"), ("r", "*"), ("s", "*")))
    hier = {"a": h, "b": H_B}
    p = prepare(df, ["a", "b"], hier, models=[AverageRisk(0.4)], suppression_limit=0.25)
    t = evaluate(p, (0, 0))
    assert t.anonymous and t.suppressed_records == 2 and t.classes == 2
    assert t.avg_risk == pytest.approx(2 / 6)
    p = prepare(df, ["a", "b"], hier, models=[AverageRisk(0.4)], suppression_limit=0.2)
    assert not evaluate(p, (0, 0)).anonymous


def test_max_risk_is_k_anonymity():
    assert [MaxRisk(r).k for r in (1.0, 0.5, 0.34, 0.2, 0.1999)] == [1, 2, 3, 5, 6]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: KAnonymity(0), "k must be an integer >= 1"),
        (lambda: DistinctLDiversity("dx", 0), "l must be an integer >= 1"),
        (lambda: RecursiveCLDiversity("dx", 2, 1), "l must be an integer >= 2"),
        (lambda: EqualTCloseness("dx", 1.5), r"t must be in \[0, 1\]"),
        (lambda: AverageRisk(0), r"average risk must be in \(0, 1\]"),
    ],
)
def test_bad_model_parameters(make, match):
    with pytest.raises(InvalidParameterError, match=match):
        make()


def test_prepare_errors_name_the_problem():
    with pytest.raises(HierarchyError, match="No hierarchy for the quasi-identifier.*'sex'"):
        prepare(HAND, ["zip", "sex"], {"zip": H_ZIP}, models=[KAnonymity(2)])
    with pytest.raises(ColumnError, match="both a quasi-identifier and a sensitive"):
        prepare(HAND, ["zip", "sex"], HIER, models=[DistinctLDiversity("sex", 2)])
    with pytest.raises(InvalidParameterError, match="no order"):
        prepare(HAND, ["zip", "sex"], HIER, models=[OrderedTCloseness("dx", 0.2)])
    with pytest.raises(InvalidParameterError, match="suppression_limit"):
        prepare(HAND, ["zip", "sex"], HIER, models=[KAnonymity(2)], suppression_limit=2)
    with pytest.raises(InvalidParameterError, match="metric must be one of"):
        prepare(HAND, ["zip", "sex"], HIER, models=[KAnonymity(2)], metric="precision")
    with pytest.raises(InvalidParameterError, match="at least one privacy model"):
        prepare(HAND, ["zip", "sex"], HIER, models=[])
    p = prepare(HAND, ["zip", "sex"], HIER, models=[KAnonymity(2)])
    with pytest.raises(InvalidParameterError, match="one level per quasi-identifier"):
        evaluate(p, (3, 0))
