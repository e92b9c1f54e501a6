"""Previews drawn from the data's own categories or fresh noise say they stay on the screen.

The Differential privacy page's randomized-response overlay and microdata curve, and the
Masking page's before/after of a recipe with PRAM or per-record noise, are computed for the
analyst only and are not charged to the budget; each says so where it is shown.
"""

from __future__ import annotations

import pytest

from core import codebooks


def _captions(at) -> str:
    return " ".join(c.value for c in at.caption)


@pytest.fixture
def page(app, request):
    app.switch_page(request.param).run()
    assert not app.exception
    return app


@pytest.mark.parametrize("page", ["pages/differential_privacy.py"], indirect=True)
def test_randomized_response_overlay_says_it_is_a_screen_only_simulation(page):
    at = page
    at.selectbox(key="dp_column").set_value("race").run()
    assert not at.exception
    text = _captions(at)
    assert "categories found in the data" in text
    assert "never released" in text


@pytest.mark.parametrize("page", ["pages/differential_privacy.py"], indirect=True)
def test_microdata_curve_says_it_is_a_simulation_never_released(page):
    at = page
    at.multiselect(key="dp_md_categorical").set_value(["race"]).run()
    assert not at.exception
    assert "seeded simulation, never a release" in _captions(at)


@pytest.mark.parametrize("page", ["pages/masking.py"], indirect=True)
def test_masking_preview_of_noisy_steps_says_it_is_not_charged(page):
    at = page
    assert "fresh noise" not in _captions(at)  # no noisy step, no note
    i = list(at.session_state["dataset"].columns).index("race")
    at.selectbox(key=f"mask_t_{i}").set_value("pram").run()
    at.text_input(key=f"mask_p_{i}_pram_categories").set_value(
        ", ".join(codebooks.categories_for("race"))
    ).run()
    assert "fresh noise" not in _captions(at)  # no epsilon typed yet: not a step
    at.number_input(key=f"mask_p_{i}_pram_epsilon").set_value(1.0).run()
    assert not at.exception
    text = _captions(at)
    assert "fresh noise" in text and "not charged" in text
    assert "each draw you look at" in text
