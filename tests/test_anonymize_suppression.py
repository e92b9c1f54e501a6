"""Suppression as ARX does it: which records the average-risk model suppresses, worked by hand
and against a port of ARX's binary search (``HashGroupifyDistribution``), and how a
suppressed record is replayed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from core.anonymize import (
    AverageRisk,
    Hierarchy,
    KAnonymity,
    anonymize,
    output_frame,
    to_recipe_steps,
)
from core.anonymize.search import evaluate, prepare
from core.anonymize.setup import result_for
from core.errors import InvalidParameterError
from core.recipe import Recipe, apply

# Level 1 groups z1, z2 into Z; y is in the hierarchy but not in the data (domain of 5 rows).
H_A = Hierarchy(
    rows=(
        ("z1", "Z", "*"),
        ("z2", "Z", "*"),
        ("x", "X", "*"),
        ("y", "Y", "*"),
        ("w", "W", "*"),
    )
)
# Level 1 classes: Z (rows 0-1, share 2/5), X (rows 2-3, share 1/5), W (6 rows).
TIE = pd.DataFrame({"a": ["z1", "z2", "x", "x"] + ["w"] * 6})


def test_average_risk_breaks_size_ties_by_class_loss_under_the_loss_metric():
    # 3 classes / 10 records = 0.3 > 0.25; one class of 2 must go (2 / 8 = 0.25).
    # ARX sorts candidates by size, then (Loss only) by the class's own loss
    # (2 * 2/5 + 1 for Z > 2 * 1/5 + 1 for X), then by first record: X goes under Loss,
    # Z (met first) under every other metric.
    for metric, gone in (("loss", [2, 3]), ("height", [0, 1]), ("entropy", [0, 1])):
        p = prepare(TIE, ["a"], {"a": H_A}, models=[AverageRisk(0.25)],
                    suppression_limit=0.2, metric=metric)  # fmt: skip
        t = evaluate(p, (1,))
        assert t.anonymous and t.suppressed_records == 2, metric
        assert np.flatnonzero(t.record_suppressed).tolist() == gone, metric
    # Loss by hand (n = 10, |D| = 5, n/|D| = 2): kept Z 2 * 0.4 + W 6 * 0.2 = 2.0, plus the
    # 2 suppressed records -> (4.0 - 2) / (10 - 2) = 0.25
    p = prepare(TIE, ["a"], {"a": H_A}, models=[AverageRisk(0.25)], suppression_limit=0.2)
    assert evaluate(p, (1,)).score == pytest.approx(0.25, abs=1e-10)


def test_average_risk_leaves_out_the_completely_generalized_class():
    # u is '*' already at level 1: ARX counts that class as suppressed for the risk and never
    # suppresses it. Without it: 2 classes / 9 records = 0.22 <= 0.25 (with it 3 / 10 = 0.3).
    h = Hierarchy(rows=(("u", "*", "*"), ("v", "V", "*"), ("w", "W", "*")))
    df = pd.DataFrame({"a": ["u", "v", "v"] + ["w"] * 7})
    p = prepare(df, ["a"], {"a": h}, models=[AverageRisk(0.25)], suppression_limit=0.0)
    t = evaluate(p, (1,))
    assert t.anonymous and t.suppressed_records == 0
    # 0.2 needs the pair V gone (1 / 7), never the '*' class
    p = prepare(df, ["a"], {"a": h}, models=[AverageRisk(0.2)], suppression_limit=0.2)
    t = evaluate(p, (1,))
    assert t.anonymous and np.flatnonzero(t.record_suppressed).tolist() == [1, 2]


def test_k_anonymity_suppresses_every_violating_class_and_nothing_else():
    # ARX: all classes below k go, whole; never part of a class, never one more.
    df = pd.DataFrame({"a": ["z1", "x", "x"] + ["w"] * 5})
    p = prepare(df, ["a"], {"a": H_A}, models=[KAnonymity(3)], suppression_limit=0.5)
    t = evaluate(p, (1,))
    assert t.anonymous and np.flatnonzero(t.record_suppressed).tolist() == [0, 1, 2]
    assert (t.classes, t.min_class_size) == (1, 5)  # kept classes only, as ARX reports
    p = prepare(df, ["a"], {"a": H_A}, models=[KAnonymity(3)], suppression_limit=0.25)
    assert not evaluate(p, (1,)).anonymous  # floor(0.25 * 8) = 2 < 3


def _arx_binary_search(sizes: list[int], threshold: float) -> set[int]:
    """Port of ``HashGroupifyDistribution.suppressWhileNotFulfilledBinary`` with
    ``AverageReidentificationRisk.isFulfilled`` (entries sorted by size, then first record;
    Java's integer division truncates toward zero)."""
    entries = sorted(range(len(sizes)), key=lambda i: (sizes[i], i))
    out: set[int] = set()

    def fulfilled() -> bool:
        kept = [sizes[i] for i in range(len(sizes)) if i not in out]
        records, classes = sum(kept), len(kept)
        avg = 0.0 if records == 0 else records / classes
        return (math.inf if avg == 0 else 1.0 / avg) <= threshold

    if fulfilled() or not entries:
        return out
    low, high = 0, len(entries) - 1
    mid = int((low + high) / 2)
    out.update(entries[: mid + 1])
    done = True
    while low <= high:
        if fulfilled():
            high = mid - 1
            mid = int((low + high) / 2)
            for i in range(mid + 1, len(entries)):
                if entries[i] not in out:
                    break
                out.discard(entries[i])
        else:
            low = mid + 1
            mid = int((low + high) / 2)
            out.update(entries[low : mid + 1])
        done = low > high
    assert done
    if not fulfilled() and mid + 1 < len(entries) and entries[mid + 1] not in out:
        out.add(entries[mid + 1])
    return out


def test_average_risk_suppression_equals_arx_binary_search():
    rng = np.random.default_rng(7)
    for case in range(40):
        sizes = rng.integers(1, 9, size=int(rng.integers(1, 12))).tolist()
        values = [f"v{i}" for i in range(len(sizes))]
        # records in a shuffled order; a class's first record decides its place among equals
        recs = np.repeat(np.arange(len(sizes)), sizes)
        recs = recs[rng.permutation(recs.size)]
        first = [int(np.flatnonzero(recs == c)[0]) for c in range(len(sizes))]
        by_first = sorted(range(len(sizes)), key=first.__getitem__)
        df = pd.DataFrame({"a": [values[c] for c in recs]})
        h = Hierarchy(rows=tuple((v, "*") for v in values))
        threshold = float(rng.choice([0.05, 0.1, 0.2, 0.25, 1 / 3, 0.5]))
        p = prepare(df, ["a"], {"a": h}, models=[AverageRisk(threshold)],
                    suppression_limit=1.0, metric="height")  # fmt: skip
        got = evaluate(p, (0,))
        # the port numbers classes by first record, as ARX's representative does
        ported = [sizes[c] for c in by_first]
        want = {by_first[i] for i in _arx_binary_search(ported, threshold)}
        gone = {int(c) for c in np.unique(recs[got.record_suppressed])}
        assert gone == want, (case, sizes, threshold)


def _result(df, h, models, limit, metric="loss"):
    return anonymize(df, ["a"], {"a": h}, models=models, suppression_limit=limit, metric=metric)


def test_average_risk_suppression_replays_when_it_takes_every_class_below_a_size():
    # level 0: classes 1, 1, 2, 6 (risk 4 / 10); 0.3 takes both singletons (2 / 8 = 0.25):
    # exactly the classes below 2, so "remove the records of classes smaller than 2" replays it
    h = Hierarchy(rows=(("p", "*"), ("q", "*"), ("r", "*"), ("s", "*")))
    df = pd.DataFrame({"a": ["p", "q", "r", "r"] + ["s"] * 6})
    res = _result(df, h, [AverageRisk(0.3)], 0.2, metric="height")
    assert res.levels == (0,) and res.suppressed_records == 2
    steps = to_recipe_steps(res, {"a": h}, df)
    assert [(s.transform, s.params) for s in steps] == [
        ("suppress", {"k": 2, "mode": "records"})
    ]
    after = apply(df, Recipe(steps=tuple(steps), source_columns=("a",))).frame
    assert sorted(after["a"]) == ["r", "r"] + ["s"] * 6


def test_average_risk_suppression_inside_a_size_is_refused_with_a_reason():
    # TIE at level 1 under 0.25: one of two classes of 2 goes, which no "smaller than k"
    # step can say; the message names the counts and what to do
    p = prepare(TIE, ["a"], {"a": H_A}, models=[AverageRisk(0.25)], suppression_limit=0.2)
    res = result_for(_result(TIE, H_A, [AverageRisk(0.25)], 0.2), evaluate(p, (1,)))
    assert res.levels == (1,) and res.suppressed_records == 2
    with pytest.raises(InvalidParameterError, match=r"2 record\(s\).*smaller than") as exc:
        to_recipe_steps(res, {"a": H_A}, TIE)
    assert "z1" not in str(exc.value) and "'Z'" not in str(exc.value)


def test_output_frame_stars_the_qis_of_suppressed_records_as_arx_does():
    # k = 3 at level 1: z1 (Z, 1 record) and x, x (X, 2) are suppressed; W (5) is kept
    df = pd.DataFrame({"a": ["z1", "x", "x"] + ["w"] * 5, "dx": list("abcdefgh")})
    p = prepare(df, ["a"], {"a": H_A}, models=[KAnonymity(3)], suppression_limit=0.5)
    t = evaluate(p, (1,))
    arx = output_frame(df, ["a"], {"a": H_A}, t)
    assert arx["a"].tolist() == ["*", "*", "*"] + ["W"] * 5  # n unchanged, QIs '*'
    assert arx["dx"].tolist() == list("abcdefgh")  # other columns keep their values
    removed = output_frame(df, ["a"], {"a": H_A}, t, suppressed="remove")
    assert removed["a"].tolist() == ["W"] * 5 and removed["dx"].tolist() == list("defgh")
    with pytest.raises(InvalidParameterError, match="'star' \\(ARX\\) or 'remove'"):
        output_frame(df, ["a"], {"a": H_A}, t, suppressed="drop")
    with pytest.raises(InvalidParameterError, match="8 record"):
        output_frame(df.head(3), ["a"], {"a": H_A}, t)
