"""The page's core helpers: shipped Adult hierarchies, builders from text, models, frontier,
one transformation as a result, and the recipe merge."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.anonymize import (
    NULL,
    KAnonymity,
    anonymize,
    evaluate,
    prepare,
    read_hierarchy,
    to_recipe_steps,
)
from core.anonymize.setup import (
    ADULT_HIERARCHIES,
    build_hierarchy,
    build_models,
    builtin_hierarchies,
    merge_steps,
    pareto_mask,
    parse_mapping,
    parse_widths,
    result_for,
)
from core.errors import HierarchyError, InvalidParameterError
from core.recipe import Recipe, Step
from core.samples import adult

ADULT_COLUMNS = (
    "age", "education", "income", "marital-status", "native-country", "occupation", "race",
    "sex", "workclass",
)  # fmt: skip
#: The rows added to ARX's files for the UCI file's '?' (see data/hierarchies/adult/NOTICE).
ADDED = {"native-country", "occupation", "workclass"}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return adult().frame


def test_shipped_hierarchies_cover_every_value_of_the_adult_sample(frame):
    built = builtin_hierarchies(frame)
    assert sorted(built) == sorted(ADULT_COLUMNS)
    for column, h in built.items():
        values = set(frame[column].dropna().astype(str))
        assert values <= set(h.values), column
        assert (NULL in h.values) == bool(frame[column].isna().any()), column


@pytest.mark.parametrize("column", ADULT_COLUMNS)
def test_shipped_hierarchies_are_arx_files_plus_a_null_row(arx_adult, column):
    arx_name = "salary-class" if column == "income" else column
    arx = read_hierarchy(arx_adult / f"adult_hierarchy_{arx_name}.csv")
    ours = read_hierarchy(ADULT_HIERARCHIES / f"{column}.csv")
    added = [r for r in ours.rows if r not in arx.rows]
    assert set(arx.rows) <= set(ours.rows)
    assert added == ([(NULL, "Unknown", "*")] if column in ADDED else [])
    assert (ADULT_HIERARCHIES / "LICENSE").read_text().count("Apache License") >= 1


def test_builtin_hierarchies_skip_a_column_they_do_not_cover():
    df = pd.DataFrame({"age": [17, 200], "sex": ["Male", "Female"]})
    assert sorted(builtin_hierarchies(df)) == ["sex"]


def test_widths_and_mapping_parse_or_say_what_is_wrong():
    assert parse_widths("5;10, 20") == (5.0, 10.0, 20.0)
    for bad in ("", "five", "5, -1", "nan"):
        with pytest.raises(InvalidParameterError, match="Interval widths"):
            parse_widths(bad)
    with pytest.raises(InvalidParameterError, match="Line 2"):
        parse_mapping("a = x\nno equals sign")
    with pytest.raises(InvalidParameterError, match="second group"):
        parse_mapping("a = x\nb = x")


def test_build_hierarchy_from_each_source(frame):
    age = frame["age"]
    h = build_hierarchy(age, "intervals", name="age", widths="10, 20")
    assert h.n_levels == 4 and set(age.astype(str)) <= set(h.values)
    h = build_hierarchy(
        frame["sex"], "mapping", name="sex", mapping="person = Male; Female"
    )
    assert dict((r[0], r[1]) for r in h.rows) == {"Male": "person", "Female": "person"}
    text = "Male;*\nFemale;*\n"
    assert build_hierarchy(frame["sex"], "upload", name="sex", upload=text).rows == (
        ("Male", "*"), ("Female", "*"),
    )  # fmt: skip
    with pytest.raises(HierarchyError, match="no built-in hierarchy for 'sex'"):
        build_hierarchy(frame["sex"], "built-in", name="sex", builtin={})
    with pytest.raises(HierarchyError, match="No hierarchy file"):
        build_hierarchy(frame["sex"], "upload", name="sex")


def test_build_models_needs_a_sensitive_column_for_l_and_t():
    assert [m.describe() for m in build_models(k=3)] == ["3-anonymity"]
    with pytest.raises(InvalidParameterError, match="sensitive column"):
        build_models(k=3, t_kind="equal")
    ms = build_models(k=2, l_kind="recursive", l_value=2, c_value=3, sensitive="income",
                      t_kind="ordered", t_value=0.3, max_risk=0.2, avg_risk=0.05)  # fmt: skip
    assert len(ms) == 5


def _brute_front(x, y):
    """Point i is on the frontier when no j is <= in both and < in one."""
    n = len(x)
    return [
        not any(
            x[j] <= x[i] and y[j] <= y[i] and (x[j] < x[i] or y[j] < y[i]) for j in range(n)
        )
        for i in range(n)
    ]


@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=30))
def test_pareto_mask_matches_brute_force(pts):
    x = [float(a) for a, _ in pts]
    y = [float(b) for _, b in pts]
    assert pareto_mask(x, y).tolist() == _brute_front(x, y)


def test_pareto_mask_leaves_out_nan():
    assert pareto_mask([1.0, math.nan], [1.0, 0.0]).tolist() == [True, False]


def test_any_checked_node_replays_as_a_recipe_that_meets_k(frame):
    from core.recipe import apply
    from core.risk import k_anonymity

    qis = ["age", "sex", "race"]
    hs = {q: h for q, h in builtin_hierarchies(frame).items() if q in qis}
    models = [KAnonymity(5)]
    result = anonymize(frame, qis, hs, models=models, suppression_limit=0.02)
    problem = prepare(frame, qis, hs, models=models, suppression_limit=0.02)
    others = [c.levels for c in result.checked if c.anonymous and c.levels != result.levels]
    assert others
    node = evaluate(problem, others[0])
    res = result_for(result, node)
    assert res.levels == node.levels and res.score == node.score
    steps = to_recipe_steps(res, hs, frame)
    out = apply(frame, Recipe(steps=tuple(steps), source_columns=tuple(frame.columns))).frame
    assert k_anonymity(out, qis) >= 5
    assert len(out) == len(frame) - node.suppressed_records
    with pytest.raises(InvalidParameterError, match="pick an anonymous one"):
        strict = prepare(frame, qis, hs, models=models, suppression_limit=0.0)
        result_for(result, evaluate(strict, (0, 0, 0)))  # the raw table is not 5-anonymous


def test_merge_steps_replaces_steps_on_the_qis_and_keeps_the_rest():
    old = Recipe(
        steps=(
            Step(transform="drop", columns=("fnlwgt",)),
            Step(transform="round", columns=("age",), params={"base": 5}),
            Step(transform="suppress", columns=("age", "sex"), params={"k": 2}),
        ),
        source_columns=("fnlwgt", "age", "sex"),
    )
    new_step = Step(transform="drop", columns=("sex",))
    merged = merge_steps(old, [new_step], ["age", "sex"], ["fnlwgt", "age", "sex"])
    assert merged.steps == (old.steps[0], new_step)
    assert merged.source_columns == old.source_columns
    assert np.array_equal(pareto_mask([0.0], [0.0]), [True])
