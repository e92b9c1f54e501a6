"""The Export page's headline: the recipe in one line, counted from the change log."""

from __future__ import annotations

import pandas as pd
import pytest

from core.errors import InvalidParameterError
from core.export import noise_charged, recipe_summary
from core.recipe import Recipe, Step, apply


def _table() -> pd.DataFrame:
    # QIs (a, b): classes (1,x) x2, (2,y) x1, (3,y) x1 -> two records below k = 2.
    return pd.DataFrame({"a": [1, 1, 2, 3], "b": ["x", "x", "y", "y"], "c": [10, 20, 30, 40]})


def test_hand_worked_suppression_rounding_and_a_drop():
    steps = (
        Step(transform="cast", columns=("c",), params={"kind": "decimal"}),  # a kind change
        Step(transform="suppress", columns=("a", "b"), params={"k": 2}),
        Step(transform="round", columns=("c",), params={"base": 25}),
    )
    table = _table()
    user = Recipe(steps=steps[1:])
    result = apply(table, user)
    s = recipe_summary(Recipe(steps=steps), result, kind_changes=1)
    # Cells: 4 rows x 3 columns = 12. Suppression blanks the two records' rarest QI cell
    # (one cell each); rounding to 25 changes 10->0, 20->25, 30->25, 40->50 (4 cells).
    suppressed = sum(c.cells_suppressed for c in result.changes)
    changed = sum(c.cells_changed for c in result.changes)
    assert (suppressed, changed) == (2, 4)
    assert (s.steps, s.kind_changes, s.k) == (2, 1, (2,))
    assert s.share_suppressed == pytest.approx(2 / 12)
    assert s.share_changed == pytest.approx(4 / 12)
    assert s.changes_table
    assert s.text() == "2 steps, k = 2, 16.7 % of cells suppressed, 33.3 % of cells changed"


def test_a_recipe_that_changes_nothing_says_so():
    table = _table()
    empty = recipe_summary(Recipe(), apply(table, Recipe()))
    assert not empty.changes_table and empty.text() == "0 steps"
    # k = 1 suppression: every record is already in a class of at least 1
    noop = Recipe(steps=(Step(transform="suppress", columns=("a",), params={"k": 1}),))
    s = recipe_summary(noop, apply(table, noop))
    assert not s.changes_table and s.text() == "1 step, k = 1"


def test_noise_drop_and_removed_records_are_counted():
    table = _table()
    r = Recipe(
        steps=(
            Step(transform="drop", columns=("b",)),
            Step(
                transform="dp_noise",
                columns=("c",),
                params={"epsilon": 0.5, "lower": 0, "upper": 50},
            ),
            Step(transform="suppress", columns=("a",), params={"k": 2, "mode": "records"}),
        )
    )
    result = apply(table, r, source=1)
    s = recipe_summary(r, result)
    assert s.columns_dropped == 1 and s.records_removed == 2
    assert s.noise_epsilon == 0.5 and s.changes_table
    assert "1 columns dropped" in s.text() and "2 records removed" in s.text()
    assert "noise under ε = 0.5" in s.text()


def test_a_tiny_share_is_not_shown_as_zero():
    big = pd.DataFrame({"a": [1] * 9_999 + [2], "b": ["x"] * 10_000})
    r = Recipe(steps=(Step(transform="suppress", columns=("a",), params={"k": 2}),))
    assert recipe_summary(r, apply(big, r)).text() == "1 step, k = 2, < 0.1 % of cells suppressed"


@pytest.mark.parametrize("bad", [-1, 2, True])
def test_bad_kind_change_counts_are_refused(bad):
    r = Recipe(steps=(Step(transform="drop", columns=("b",)),))
    with pytest.raises(InvalidParameterError, match="kind_changes must be between 0"):
        recipe_summary(r, apply(_table(), r), kind_changes=bad)


def test_noise_charged_looks_for_the_tables_own_token():
    import tempfile
    from pathlib import Path

    from core.workspace import BudgetBook

    book = BudgetBook.open(Path(tempfile.mkdtemp()) / "b.sqlite3")
    fp = "cd" * 32
    book.ensure(fp, total_epsilon=2.0)
    book.spend_many(fp, [("PRAM on b", 0.5, 0.0)], detail={"hardening": "tok-1"})
    events = book.history(fp)
    assert noise_charged(events, "tok-1") and not noise_charged(events, "tok-2")
    book.close()
