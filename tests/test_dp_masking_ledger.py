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


# --- the Masking page charges the ledger when the hardened table is handed to Export ------------

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


def test_handing_off_pram_without_a_budget_is_refused(page):
    at = page
    _set_pram(at, 0.5)
    at.button(key="mask_use").click().run()
    assert any("privacy budget" in e.value for e in at.error)
    assert "hardening" not in at.session_state or at.session_state["hardening"] is None


def test_handing_off_pram_charges_the_ledger_and_refuses_over_budget(page):
    at = page
    ds = at.session_state["dataset_id"]
    at.session_state["dp_ledgers"] = {ds: Ledger(total_epsilon=1.0)}
    _set_pram(at, 0.5)
    at.button(key="mask_use").click().run()
    assert not at.exception and not at.error
    ledger = at.session_state["dp_ledgers"][ds]
    assert [(e.epsilon, e.delta) for e in ledger.entries] == [(0.5, 0.0)]
    assert "race" in ledger.entries[0].label
    first = at.session_state["hardening"].recipe
    # the same hardened table handed over again is not charged twice
    at.button(key="mask_use").click().run()
    assert len(at.session_state["dp_ledgers"][ds].entries) == 1
    # a new noisy release over the remaining budget is refused and nothing is handed over
    _set_pram(at, 0.8)
    at.button(key="mask_use").click().run()
    assert any("budget" in e.value for e in at.error)
    assert len(at.session_state["dp_ledgers"][ds].entries) == 1
    assert at.session_state["hardening"].recipe == first  # the charged table stays handed over


def test_per_record_noise_refuses_missing_values_it_would_release_exactly():
    # Which records are missing is not covered by the step's epsilon: refused, not released.
    df = pd.DataFrame({"v": [1.0, None, 3.0, None]})
    with pytest.raises(RecipeError, match=r"2 missing value\(s\) in 'v'"):
        apply(df, Recipe(steps=(NOISE,)))
    assert apply(df.fillna(5.0), Recipe(steps=(NOISE,))).frame["v"].notna().all()
