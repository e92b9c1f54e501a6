"""SUDA2: MSUs against brute force, scores against sdcMicro's published test cases."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import limits
from core.errors import ColumnError, InvalidParameterError
from core.suda import (
    SudaMissing,
    minimal_sample_uniques,
    msu_weight,
    suda2,
    suda_subset_count,
)

# --- sdcMicro's own test cases (tests/testthat/test_suda2.R, sdcMicro 5.x) -----------------

BOOK = pd.DataFrame(
    {
        "age": ["20s"] * 7 + ["60s"],
        "gender": ["male"] * 4 + ["female"] * 3 + ["male"],
        "income": ["50k+", "50k+"] + ["50k-"] * 6,
        "education": ["highschool"] * 4
        + ["university", "highschool", "middleschool", "university"],
    }
)

GUIDELINE = pd.DataFrame(
    {
        "Residence": ["Urban"] * 4 + ["Rural"] + ["Urban"] * 5,
        "Gender": ["Female", "Female", "Female", "Male", "Female"]
        + ["Male", "Female", "Male", "Female", "Female"],
        "Education": [
            "Secondary incomplete",
            "Secondary incomplete",
            "Primary incomplete",
            "Secondary complete",
            "Secondary complete",
            "Secondary complete",
            "Primary complete",
            "Post-secondary",
            "Secondary incomplete",
            "Secondary incomplete",
        ],
        "Labor": ["Employed", "Employed", "Non-LF", "Employed", "Unemployed"]
        + ["Employed", "Non-LF", "Unemployed", "Non-LF", "Non-LF"],
    }
)

ABC = pd.DataFrame({"a": [2, 1, 1], "b": [0, 3, 0], "c": [0, 6, 0]})


def test_book_example_scores_match_sdcmicro():
    # sdcMicro: expect_equal(su$score[5:8], c(4, 2, 6, 8)); rows 1-4 are duplicated pairs.
    res = suda2(BOOK, list(BOOK.columns))
    assert res.score.tolist() == [0, 0, 0, 0, 4, 2, 6, 8]


def test_sdc_guideline_example_scores_match_sdcmicro():
    # sdcMicro: expect_equal(su$score, c(0, 0, 6, 0, 12, 0, 6, 10, 0, 0))
    res = suda2(GUIDELINE, list(GUIDELINE.columns))
    assert res.score.tolist() == [0, 0, 6, 0, 12, 0, 6, 10, 0, 0]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (["a", "b", "c"], (50, 37.5, 37.5)),  # sdcMicro "simple example contribution"
        (["a", "c", "b"], (50, 37.5, 37.5)),  # ... contribution 2
        (["c", "a", "b"], (37.5, 50, 37.5)),  # ... contribution 3
        (["c", "b", "a"], (37.5, 37.5, 50)),  # ... contribution 4
    ],
)
def test_attribute_contributions_match_sdcmicro(order, expected):
    assert suda2(ABC, order).attribute_contribution == pytest.approx(expected, abs=1e-12)


def test_record_contributions_hand_worked():
    # q = 3, weights (3-k)!: record 0 has MSU {a} (2); record 1 {b}, {c} (2 + 2);
    # record 2 {a,b}, {a,c} (1 + 1). Contribution = weight of MSUs holding the column / score.
    res = suda2(ABC, ["a", "b", "c"])
    assert res.contribution.tolist() == [[1, 0, 0], [0, 0.5, 0.5], [1, 0.5, 0.5]]
    assert res.msu_counts.tolist() == [[1, 0, 0], [2, 0, 0], [0, 2, 0]]
    assert res.n_msus == 5 and res.special_uniques == 3 and res.sample_uniques == 3


def test_book_example_dis_scores_follow_the_formula():
    # Hand-worked: U = 4 uniques (rows 5-8), P = 4 records in two pairs (rows 1-4).
    res = suda2(BOOK, list(BOOK.columns), dis_fraction=0.01)
    u, p, pi = 4, 4, 0.01
    dis = u * pi / (u * pi + p * (1 - pi))
    assert res.dis == pytest.approx(dis, rel=1e-15) and dis == pytest.approx(0.01)
    q_exp = 1 + (8 - 4) / 20
    scores = [4.0, 2.0, 6.0, 8.0]
    adj = sum(s**-q_exp for s in scores)
    expected = [0, 0, 0, 0] + [1 / (1 + (u / dis - u) / (s**q_exp * adj)) for s in scores]
    assert res.dis_score == pytest.approx(expected, rel=1e-12)
    assert res.sample_uniques == 4


def test_dis_is_one_without_pairs_and_scores_then_one():
    # No pattern occurs twice: P = 0, dis = 1, and every special unique gets DIS-SUDA 1.
    res = suda2(ABC, ["a", "b", "c"], dis_fraction=0.3)
    assert res.dis == 1.0
    assert res.dis_score.tolist() == [1.0, 1.0, 1.0]


def test_francdat_scores_hand_worked():
    # sdcMicro's francdat (8 records), keys Key1..Key4. Hand-worked MSUs (q = 4, weights 6/2/1):
    # row 3 (3,3,1,5): {Key1} -> 6, {Key2,Key4} -> 2               = 8
    # row 4 (4,3,1,4): {Key4} -> 6                                = 6
    # row 5 (4,3,1,1): {Key1,Key4}, {Key2,Key4} -> 2 + 2          = 4
    # row 6 (6,2,1,5): {Key1} -> 6, {Key2,Key4} -> 2              = 8
    # rows 0 and 7 are a pair, rows 1 and 2 a pair.
    df = pd.DataFrame(
        {
            "Key1": [1, 1, 1, 3, 4, 4, 6, 1],
            "Key2": [2, 2, 2, 3, 3, 3, 2, 2],
            "Key3": [5, 1, 1, 1, 1, 1, 1, 5],
            "Key4": [1, 1, 1, 5, 4, 1, 5, 1],
        }
    )
    res = suda2(df, ["Key1", "Key2", "Key3", "Key4"])
    assert res.score.tolist() == [0, 0, 0, 8, 6, 4, 8, 0]
    assert res.sample_uniques == 4
    assert res.dis == pytest.approx(4 * 0.01 / (4 * 0.01 + 4 * 0.99))


def test_msu_weight_is_the_elliot_product():
    for q in range(1, 9):
        for k in range(1, q + 1):
            assert msu_weight(k, n_columns=q) == math.prod(q - i for i in range(k, q))
    with pytest.raises(InvalidParameterError, match="between 1 and"):
        msu_weight(0, n_columns=3)


# --- brute force over every subset ---------------------------------------------------------


def _brute_msus(rows: list[tuple], max_size: int, missing: str) -> set[tuple[int, tuple]]:
    q = len(rows[0])

    def na(v) -> bool:  # noqa: ANN001
        return v is None

    def same(a, b) -> bool:  # noqa: ANN001
        if missing == "category":
            return (na(a) and na(b)) or (not na(a) and not na(b) and a == b)
        return not na(a) and not na(b) and a == b

    def unique(i: int, s: tuple) -> bool:
        if missing == "ignore" and any(na(rows[i][c]) for c in s):
            return False
        return not any(
            all(same(rows[j][c], rows[i][c]) for c in s) for j in range(len(rows)) if j != i
        )

    found = set()
    for i in range(len(rows)):
        for k in range(1, max_size + 1):
            for s in itertools.combinations(range(q), k):
                if unique(i, s) and not any(
                    unique(i, t) for r in range(1, k) for t in itertools.combinations(s, r)
                ):
                    found.add((i, s))
    return found


@st.composite
def small_tables(draw):
    q = draw(st.integers(1, 4))
    n = draw(st.integers(1, 12))
    card = draw(st.integers(1, 3))
    na = draw(st.booleans())
    values = st.one_of(st.none(), st.integers(0, card - 1)) if na else st.integers(0, card - 1)
    rows = [tuple(draw(values) for _ in range(q)) for _ in range(n)]
    max_size = draw(st.integers(1, q))
    return rows, max_size


@settings(max_examples=300, deadline=None)
@given(small_tables(), st.sampled_from(["category", "ignore"]))
def test_msus_equal_brute_force(table, missing):
    rows, max_size = table
    q = len(rows[0])
    cols = [f"c{j}" for j in range(q)]
    df = pd.DataFrame(rows, columns=cols, dtype=object)
    msus = minimal_sample_uniques(df, cols, max_size=max_size, missing=missing)
    got = {
        (int(r), tuple(j for j in range(q) if (int(mk) >> j) & 1))
        for r, mk in zip(msus.record, msus.mask, strict=True)
    }
    assert len(got) == msus.record.size  # no MSU reported twice
    expected = _brute_msus(rows, max_size, missing)
    assert got == expected
    # scores from the brute-force MSUs
    res = suda2(df, cols, max_size=max_size, missing=missing)
    score = [0.0] * len(rows)
    for i, s in expected:
        score[i] += math.factorial(q - len(s))
    assert res.score.tolist() == score


@settings(max_examples=60, deadline=None)
@given(small_tables(), st.randoms(use_true_random=False))
def test_scores_invariant_to_row_order(table, rnd):
    rows, max_size = table
    cols = [f"c{j}" for j in range(len(rows[0]))]
    df = pd.DataFrame(rows, columns=cols, dtype=object)
    perm = list(range(len(rows)))
    rnd.shuffle(perm)
    a = suda2(df, cols, max_size=max_size)
    b = suda2(df.iloc[perm].reset_index(drop=True), cols, max_size=max_size)
    assert b.score.tolist() == a.score[perm].tolist()
    assert b.dis_score == pytest.approx(a.dis_score[perm])


@settings(max_examples=60, deadline=None)
@given(small_tables())
def test_larger_cap_never_lowers_a_score_and_only_uniques_score(table):
    rows, _ = table
    q = len(rows[0])
    cols = [f"c{j}" for j in range(q)]
    df = pd.DataFrame(rows, columns=cols, dtype=object)
    prev = np.zeros(len(rows))
    for m in range(1, q + 1):
        res = suda2(df, cols, max_size=m)
        assert (res.score >= prev).all()
        prev = res.score
    # a record whose full pattern occurs more than once (missing as a value) scores 0
    counts = pd.Series(rows).map(pd.Series(rows).value_counts()).to_numpy()
    assert (prev[counts > 1] == 0).all()
    assert res.sample_uniques == int((counts == 1).sum())
    assert res.special_uniques <= res.sample_uniques


# --- missing values ------------------------------------------------------------------------


def test_missing_policies_hand_worked():
    df = pd.DataFrame({"a": [1, 1, None], "b": ["x", "y", "x"]})
    # category: row 2 is the only one missing a -> MSU {a}; row 0 is unique on {a, b};
    # row 1 on {b}.
    cat = minimal_sample_uniques(df, ["a", "b"], missing="category")
    assert sorted((int(r), cat.columns(i)) for i, r in enumerate(cat.record)) == [
        (0, ("a", "b")),
        (1, ("b",)),
        (2, ("a",)),
    ]
    # ignore (sdcMicro): row 2 cannot use its missing a and shares b = x with row 0: no MSU.
    ign = minimal_sample_uniques(df, ["a", "b"], missing=SudaMissing.IGNORE)
    assert sorted((int(r), ign.columns(i)) for i, r in enumerate(ign.record)) == [
        (0, ("a", "b")),
        (1, ("b",)),
    ]


# --- bad input -----------------------------------------------------------------------------


def test_bad_input_raises_actionable_errors():
    df = pd.DataFrame({"a": [1, 2], "b": [1, 1]})
    with pytest.raises(InvalidParameterError, match="0 rows"):
        suda2(df.iloc[:0], ["a"])
    with pytest.raises(ColumnError, match="not found"):
        suda2(df, ["zz"])
    with pytest.raises(InvalidParameterError, match="No quasi-identifiers"):
        suda2(df, [])
    with pytest.raises(InvalidParameterError, match="max_size must be between 1 and"):
        suda2(df, ["a", "b"], max_size=3)
    with pytest.raises(InvalidParameterError, match="max_size must be between 1 and"):
        suda2(df, ["a", "b"], max_size=0)
    with pytest.raises(InvalidParameterError, match="whole number"):
        suda2(df, ["a", "b"], max_size=1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"dis_fraction must be in \(0, 1\]"):
        suda2(df, ["a"], dis_fraction=0)
    with pytest.raises(InvalidParameterError, match=r"dis_fraction must be in \(0, 1\]"):
        suda2(df, ["a"], dis_fraction=1.5)
    with pytest.raises(InvalidParameterError, match="missing must be"):
        suda2(df, ["a"], missing="wildcard")


def test_too_many_subsets_refused():
    q = 11
    df = pd.DataFrame({f"c{j}": [0, 1] for j in range(q)})
    assert suda_subset_count(q, q) > limits.SUDA_MAX_SUBSETS
    with pytest.raises(InvalidParameterError, match="column subsets"):
        suda2(df, list(df.columns))
    suda2(df, list(df.columns), max_size=3)  # 231 subsets: fine


def test_constant_column_and_no_uniques_warn_without_values():
    df = pd.DataFrame({"a": ["secret-1", "secret-1"], "b": ["v", "v"]})
    res = suda2(df, ["a", "b"])
    assert res.score.tolist() == [0, 0] and res.dis_score.tolist() == [0, 0]
    assert res.attribute_contribution == (0.0, 0.0)
    assert any("single value" in w and "a" in w for w in res.warnings)
    assert any("every SUDA score is 0" in w for w in res.warnings)
    assert not any("secret" in w or "v" == w for w in res.warnings)


def test_adult_sample_runs_and_is_consistent():
    from core.samples import adult

    df = adult().frame
    qis = ["age", "workclass", "education", "marital-status", "race", "sex"]
    res = suda2(df, qis, max_size=3)
    assert res.score.shape == (len(df),)
    assert res.special_uniques <= res.sample_uniques
    assert ((res.score > 0) == (res.msu_counts.sum(axis=1) > 0)).all()
    assert ((res.dis_score >= 0) & (res.dis_score <= 1)).all()
    # score = sum over sizes of counts * (q - k)!
    w = np.array([math.factorial(len(qis) - k) for k in range(1, 4)])
    assert np.array_equal(res.score, res.msu_counts @ w)
