"""The fast path of recipe application (value-wise steps once per distinct value) gives
exactly what the row-by-row reference gives, and its codes give the same risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import codes, risk
from core.errors import PrivLensError
from core.recipe import Recipe, Step, apply
from tests.strategies import columns

KEY = bytes(range(32))
SECRETS = {"pseudonym_key": KEY}

NUMERIC_STEPS = (
    ("bin_width", {"width": 10}),
    ("bin_width", {"width": 0.5, "origin": 0.25}),
    ("round", {"base": 5}),
    ("round", {"base": 0.1}),
    ("top_bottom", {"lower": 0, "upper": 50}),
    ("bin_edges", {"edges": [0, 10, 100]}),
    ("bin_quantiles", {"q": 3}),  # frequency-dependent: always row by row
)
ANY_STEPS = (
    ("mask", {"keep_first": 1}),
    ("mask_pattern", {"pattern": "[0-9]"}),
    ("postal_prefix", {"keep": 2}),
    ("group", {"mapping": {"a": "b", "1": "one"}, "other": "rest"}),
    ("group", {"mapping": {"[0, 10)": "low"}}),
    ("redact", {}),
    ("replace", {"value": "X", "include_missing": True}),
    ("pseudonymize", {"length": 8}),
)
NUMERIC_KINDS = ("int64", "Int64", "float", "Float64", "int64_huge")
TEXT_KINDS = ("text", "zip_text", "string", "id_text", "category", "category_int", "mixed",
              "bool", "boolean", "datetime")


@st.composite
def cases(draw: st.DrawFn) -> tuple[pd.DataFrame, Recipe]:
    n = draw(st.integers(1, 30))
    frame = pd.DataFrame(
        {
            "n": draw(columns(draw(st.sampled_from(NUMERIC_KINDS)), n)).reset_index(drop=True),
            "t": draw(columns(draw(st.sampled_from(TEXT_KINDS)), n)).reset_index(drop=True),
            "u": draw(columns("text", n)).reset_index(drop=True),
        }
    )
    steps = []
    for _ in range(draw(st.integers(1, 5))):
        col = draw(st.sampled_from(("n", "t", "u")))
        pool = NUMERIC_STEPS + ANY_STEPS if col == "n" else ANY_STEPS
        name, params = draw(st.sampled_from(pool))
        steps.append(Step(transform=name, columns=(col,), params=params))
        if draw(st.integers(0, 5)) == 0:  # a row-wise step in between
            mode = draw(st.sampled_from(("cells", "records")))
            steps.append(Step(transform="suppress", columns=("n", "t"), params={"k": 2,
                                                                               "mode": mode}))
    return frame, Recipe(steps=tuple(steps))


def _run(frame: pd.DataFrame, recipe: Recipe, **kw: object) -> object:
    try:
        return apply(frame, recipe, secrets=SECRETS, **kw)  # type: ignore[arg-type]
    except PrivLensError as exc:
        return type(exc), str(exc)


def _same(fast: object, slow: object) -> None:
    if isinstance(slow, tuple):
        assert fast == slow
        return
    pd.testing.assert_frame_equal(fast.frame, slow.frame)  # type: ignore[attr-defined]
    for field in ("changes", "records_removed", "records_changed", "n_cells", "warnings"):
        assert getattr(fast, field) == getattr(slow, field), field


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_fast_path_equals_row_by_row(case: tuple[pd.DataFrame, Recipe]) -> None:
    frame, recipe = case
    slow = _run(frame, recipe, fast=False)
    _same(_run(frame, recipe), slow)
    # a memo kept across calls (as the Masking page keeps it) answers the same, also after
    # a change of the last step
    memo = codes.ColumnMemo("t")
    _run(frame, Recipe(steps=recipe.steps[:-1]), memo=memo)
    _same(_run(frame, recipe, memo=memo), slow)
    if isinstance(slow, tuple) or slow.frame.empty:
        return
    kept = [c for c in ("n", "t", "u") if c in slow.frame.columns]
    for c, known in _run(frame, recipe, memo=memo).column_codes.items():  # type: ignore[union-attr]
        ref, _ = risk.factorize_values(slow.frame[c])
        # the same partition of the rows, missing where missing
        assert np.array_equal(known < 0, ref < 0)
        pairs = pd.DataFrame({"a": known, "b": ref}).drop_duplicates()
        assert pairs["a"].is_unique and pairs["b"].is_unique
    a = risk.risk_summary(slow.frame, kept)
    fast = _run(frame, recipe, memo=memo)
    ec = risk.equivalence_classes(fast.frame, kept, known_codes=fast.column_codes)
    b = risk.risk_summary(fast.frame, kept, classes=ec)
    assert np.array_equal(ec.class_id, risk.equivalence_classes(slow.frame, kept).class_id)
    assert (a.k, a.n_classes, a.sample_uniques, a.below_5, a.prosecutor.average) == (
        b.k, b.n_classes, b.sample_uniques, b.below_5, b.prosecutor.average
    )  # fmt: skip
    assert np.array_equal(a.prosecutor.record_risk, b.prosecutor.record_risk)


def test_codes_are_computed_once_per_distinct_value() -> None:
    frame = pd.DataFrame({"age": np.tile([17, 25, 33, 41, 58], 2000)})
    seen: list[int] = []

    def spy(s: pd.Series) -> pd.Series:
        seen.append(len(s))
        return s // 10

    cc, remap = codes.transform(codes.factorize(frame["age"]), spy)
    assert seen == [5]
    assert cc.series(frame.index).equals(frame["age"] // 10)
    assert remap.tolist() == [0, 1, 2, 3, 4]


def test_memo_recomputes_only_the_changed_column() -> None:
    frame = pd.DataFrame({"age": np.arange(1000) % 90, "zip": [f"{i:05d}" for i in range(1000)]})
    memo = codes.ColumnMemo("t")
    zip_step = Step(transform="postal_prefix", columns=("zip",), params={"keep": 3})
    first = apply(frame, Recipe(steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 10}), zip_step)),
        memo=memo)  # fmt: skip
    second = apply(frame, Recipe(steps=(
        Step(transform="bin_width", columns=("age",), params={"width": 5}), zip_step)),
        memo=memo)  # fmt: skip
    zip_entries = [k for k in memo._entries if k[1] == "zip"]
    assert len(zip_entries) == 5  # eligible, codes, chain, series, change masks: made once
    assert second.frame["zip"].equals(first.frame["zip"])
    assert second.frame["age"].nunique() == 18
    assert set(second.column_codes) == {"age", "zip"}


@pytest.mark.parametrize("value", [0.0, -0.0])
def test_signed_zero_goes_row_by_row(value: float) -> None:
    frame = pd.DataFrame({"x": [0.0, value, 1.0]})
    recipe = Recipe(steps=(Step(transform="round", columns=("x",), params={"base": 1}),))
    _same(_run(frame, recipe), _run(frame, recipe, fast=False))


def _reference_cells(frame: pd.DataFrame, qis: list[str], k: int) -> np.ndarray:
    """The greedy cell suppression round by round on every record (no patterns), then
    the records borrowed for a class left below k: the matrix of cells it sets to missing."""

    def sizes_of(c: np.ndarray) -> np.ndarray:
        key = np.zeros(len(c), dtype=np.int64)
        for j in range(c.shape[1]):
            key = pd.factorize(key * (int(c[:, j].max()) + 2) + c[:, j] + 1)[0]
        return np.bincount(key)[key]

    c = np.column_stack([pd.factorize(frame[q], use_na_sentinel=True)[0] for q in qis])
    distinct = [int(c[:, j].max(initial=-1)) + 1 for j in range(len(qis))]
    order = sorted(range(len(qis)), key=lambda j: -distinct[j])
    na = c < 0
    sizes = sizes_of(c)
    for _ in qis:
        unsafe = np.flatnonzero(sizes < k)
        if unsafe.size == 0:
            break
        chosen = np.full(unsafe.size, -1)
        for j in order:
            free = (chosen < 0) & (c[unsafe, j] >= 0)
            trial = c.copy()
            trial[unsafe, j] = -1
            chosen[free & (sizes_of(trial)[unsafe] >= k)] = j
        for j in order:
            chosen[(chosen < 0) & (c[unsafe, j] >= 0)] = j
        if not (chosen >= 0).any():
            break
        c[unsafe[chosen >= 0], chosen[chosen >= 0]] = -1
        sizes = sizes_of(c)
    below = sizes < k
    if below.any():  # borrow the fewest records from the largest classes, first seen first
        need = k - int(below.sum())
        key = np.unique(c, axis=0, return_inverse=True)[1].ravel()
        key = pd.factorize(key)[0]  # classes numbered by their first record
        counts = np.bincount(key)
        borrowed: list[int] = []
        for cls in np.argsort(-counts, kind="stable"):
            if counts[cls] - k <= 0 or need <= 0:
                break
            rows = np.flatnonzero(key == cls)
            if (c[rows[0]] < 0).all():
                continue
            take = min(int(counts[cls]) - k, need)
            borrowed.extend(rows[len(rows) - take :].tolist())
            need -= take
        if need <= 0:
            c[borrowed] = -1
    return (c < 0) & ~na


@settings(max_examples=20, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.sampled_from("abc"), st.sampled_from([1.0, None])),
             min_size=4, max_size=60),
    st.integers(2, 5),
)  # fmt: skip
def test_suppression_on_patterns_equals_row_by_row(rows: list[tuple], k: int) -> None:
    from core.masking import local_suppression

    frame = pd.DataFrame(rows, columns=["a", "b", "c"])
    qis = ["a", "b", "c"]
    res = local_suppression(frame, quasi_identifiers=qis, k=k)
    ref = _reference_cells(frame, qis, k)
    newly = np.column_stack([res.newly_missing.get(q, np.zeros(len(frame), bool)) for q in qis])
    after_ref = frame[qis].astype(object).mask(pd.DataFrame(ref, columns=qis))
    ref_k = int(after_ref.fillna("*").value_counts().min())
    assert np.array_equal(newly, ref)  # the rounds, then the records borrowed
    assert bool(res.warnings) == (ref_k < k)
    assert res.cells_suppressed == {q: int(newly[:, j].sum()) for j, q in enumerate(qis)}
    sizes = pd.DataFrame(res.frame[qis]).astype(object).fillna("*").value_counts()
    assert res.k_after == int(sizes.min())


def test_memo_is_bounded_by_size() -> None:
    memo = codes.ColumnMemo("t", max_bytes=10_000)
    for i in range(5):
        memo.get(i, lambda: np.zeros(1_000))  # 8,000 bytes each
    assert len(memo) == 1 and memo.peek(4) is not None and memo.peek(0) is None
