"""Noisy hardening steps (PRAM, per-record DP noise) spend the dataset's privacy budget."""

from __future__ import annotations

import pandas as pd
import pytest

from core import codebooks
from core.dp_budget import Ledger
from core.errors import BudgetExceededError, RecipeError
from core.recipe import Recipe, Step, apply, charge_ledger, noise_spends

PRAM = Step(
    transform="pram", columns=("c",), params={"epsilon": 0.5, "categories": ["a", "b"]}
)
NOISE = Step(
    transform="dp_noise", columns=("v",), params={"epsilon": 0.25, "lower": 0, "upper": 10}
)
KEEP = Step(transform="round", columns=("v",), params={"base": 1.0})


def test_noise_spends_lists_each_noisy_step():
    recipe = Recipe(steps=(PRAM, KEEP, NOISE))
    spends = noise_spends(recipe)
    assert [(e, d) for _, e, d in spends] == [(0.5, 0.0), (0.25, 0.0)]
    assert all("c" in label or "v" in label for label, _, _ in spends)
    assert noise_spends(Recipe(steps=(KEEP,))) == ()


def test_charge_ledger_records_entries_and_refuses_over_budget():
    recipe = Recipe(steps=(PRAM, NOISE))
    ledger = charge_ledger(Ledger(total_epsilon=1.0), recipe)
    assert [e.epsilon for e in ledger.entries] == [0.5, 0.25]
    with pytest.raises(BudgetExceededError):
        charge_ledger(ledger, recipe)  # 0.75 + 0.75 > 1


def test_pram_needs_a_public_category_list():
    df = pd.DataFrame({"c": ["a", "b", "a"]})
    no_list = Recipe(steps=(Step(transform="pram", columns=("c",), params={"epsilon": 1.0}),))
    with pytest.raises(RecipeError, match="categories"):
        apply(df, no_list)


def test_a_recipes_noisy_steps_are_charged_to_the_tables_budget_all_or_none(tmp_path):
    # The budget of a table lives in the database, keyed by the table's fingerprint; a
    # recipe's noisy steps are charged together (what Export does when the table leaves).
    from core.workspace import BudgetBook

    book = BudgetBook.open(tmp_path / "b.sqlite3")
    fp = "cd" * 32
    book.ensure(fp, total_epsilon=1.0)
    recipe = Recipe(steps=(PRAM, KEEP, NOISE))
    ledger = book.spend_many(fp, noise_spends(recipe), detail={"query": "export"})
    assert [(e.epsilon, e.delta) for e in ledger.entries] == [(0.5, 0.0), (0.25, 0.0)]
    with pytest.raises(BudgetExceededError):
        book.spend_many(fp, noise_spends(recipe))  # 0.75 + 0.75 > 1: nothing recorded
    again = BudgetBook.open(tmp_path / "b.sqlite3")  # another session on the same file
    assert [e.epsilon for e in again.ledger(fp).entries] == [0.5, 0.25]


# --- the Masking page shows noisy steps but never charges them -----------------------------

PAGE = "pages/masking.py"


def _col(at, name: str) -> int:
    return list(at.session_state["dataset"].columns).index(name)


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _set_pram(at, epsilon: float) -> None:
    i = _col(at, "race")
    at.selectbox(key=f"mask_t_{i}").set_value("pram").run()
    at.text_input(key=f"mask_p_{i}_pram_categories").set_value(
        ", ".join(codebooks.categories_for("race"))
    ).run()
    at.number_input(key=f"mask_p_{i}_pram_epsilon").set_value(epsilon).run()
    assert not at.exception and not at.error, [e.value for e in at.error]


def _spends(at) -> int:
    """How many spends the database holds for the loaded table (every epoch)."""
    from core.workspace import BudgetBook, default_db_path

    fingerprint = at.session_state["workspace"].dataset.fingerprint
    return len(BudgetBook.open(default_db_path()).records(fingerprint))


def test_a_noisy_recipe_on_the_page_is_in_the_workspace_and_not_charged(page):
    at = page
    before = _spends(at)
    _set_pram(at, 0.5)
    steps = at.session_state["workspace"].recipe.current.steps
    assert any(s.transform == "pram" and s.params["epsilon"] == 0.5 for s in steps)
    assert _spends(at) == before  # looking at the draw on the page is not charged
    text = " ".join(c.value for c in at.caption)
    assert "ε = 0.5 in all" in text and "Export page charges" in text
    assert "dp_ledgers" not in at.session_state  # the budget is the database's, not a tab's


def test_per_record_noise_refuses_missing_values_it_would_release_exactly():
    # Which records are missing is not covered by the step's epsilon: refused, not released.
    df = pd.DataFrame({"v": [1.0, None, 3.0, None]})
    with pytest.raises(RecipeError, match=r"2 missing value\(s\) in 'v'"):
        apply(df, Recipe(steps=(NOISE,)))
    assert apply(df.fillna(5.0), Recipe(steps=(NOISE,))).frame["v"].notna().all()
