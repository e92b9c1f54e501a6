"""AppTest of the Masking page's large-table levers: per-session memo and sampled utility.

The current recipe is applied once per dataset, key and recipe (``ui.state.hardening``), and
the Masking and Export pages share that table."""

from __future__ import annotations

import numpy as np
import pytest

from core import correlation, limits

PAGE = "pages/masking.py"
QIS = ["age", "sex", "race"]


def _metric(at, label: str):
    return next(m for m in at.metric if m.label == label)


@pytest.fixture
def page(app):
    app.switch_page(PAGE).run()
    assert not app.exception
    return app


def _hardening(at):
    """The session's memo of the current recipe applied: (memo key, Hardening)."""
    return at.session_state["hardening"]


def test_unchanged_recipe_is_not_applied_again(page):
    at = page
    token, h = _hardening(at)
    result = h.result
    key = at.session_state["masking_key"]
    assert key.hex() not in token and repr(key) not in token
    at.multiselect(key="mask_qi").set_value(QIS).run()  # risk settings only
    assert not at.exception
    assert _hardening(at)[1].result is result
    at.switch_page("pages/export.py").run()  # Export exports this very table
    assert not at.exception
    assert _hardening(at)[1].result is result
    at.switch_page(PAGE).run()
    # a new key version is a new recipe result (pseudonyms would change)
    at.button(key="mask_key_new").click().run()
    assert _hardening(at)[0] != token


def test_changed_recipe_is_applied_and_its_risk_follows(page):
    at = page
    at.multiselect(key="mask_qi").set_value(QIS).run()
    first = _hardening(at)
    at.toggle(key="mask_suppress").set_value(True).run()
    assert not at.exception
    token, h = _hardening(at)
    assert token != first[0] and '"suppress"' in token
    (memo_key, after) = at.session_state["mask_after_risk"]
    assert memo_key == (h.token, tuple(QIS))
    assert _metric(at, "k (k-anonymity)").value == f"{after.k:,}" and after.k >= 5


def _expected_delta(df, frame, rows, cols) -> float:
    sample = df.iloc[rows]
    kept = frame.loc[frame.index.isin(sample.index)]
    a = np.abs(correlation.association_matrix(sample, columns=cols).value)
    b = np.abs(correlation.association_matrix(kept, columns=cols).value)
    iu = np.triu_indices(len(cols), k=1)
    return float(np.nanmean(np.abs(a[iu] - b[iu])))


@pytest.mark.parametrize("mode", ["cells", "records"])
def test_utility_on_a_labelled_sample_matches_core(page, monkeypatch, mode):
    at = page
    monkeypatch.setattr(limits, "MASKING_UTILITY_SAMPLE_ROWS", 2_000)
    at.multiselect(key="mask_qi").set_value(QIS).run()
    at.toggle(key="mask_suppress").set_value(True).run()
    at.radio(key="mask_mode").set_value(mode).run()
    assert not at.exception
    df = at.session_state["dataset"]
    result = _hardening(at)[1].result
    roles = at.session_state["roles"]
    cols = [c for c in df.columns if c in result.frame.columns and roles[c] != "identifier"]
    rows = np.sort(np.random.default_rng(0).choice(len(df), size=2_000, replace=False))
    metric = _metric(at, "Mean |Δ association|")
    assert metric.value == f"{_expected_delta(df, result.frame, rows, cols):.3f}"
    assert f"sample of 2,000 of {len(df):,} rows" in metric.proto.help
    assert any(f"2,000-row sample of {len(df):,}" in c.value for c in at.caption)


def test_small_tables_use_every_row(page):
    at = page
    df = at.session_state["dataset"]
    assert len(df) <= limits.MASKING_UTILITY_SAMPLE_ROWS
    metric = _metric(at, "Mean |Δ association|")
    assert "sample" not in metric.proto.help
    result = _hardening(at)[1].result
    roles = at.session_state["roles"]
    cols = [c for c in df.columns if c in result.frame.columns and roles[c] != "identifier"]
    assert metric.value == f"{_expected_delta(df, result.frame, np.arange(len(df)), cols):.3f}"


def test_pair_measure_equals_the_association_matrix():
    """The page measures a changed pair from per-column levels (codes of categorical columns,
    read once per steps): each equals the whole matrix's cell for that pair."""
    import pandas as pd

    from ui.masking_results import _as_levels, _pair_value

    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame(
        {
            "count": pd.array(rng.integers(0, 40, n), dtype="Int64"),
            "score": rng.normal(size=n),
            "zip": pd.Series(rng.choice(["02134", "02135", "10001"], n), dtype="string"),
            "flag": rng.choice([True, False], n),
            "group": pd.Categorical(rng.choice(list("abcd"), n)),
            "sparse": rng.choice(["x", "y"], n).astype(object),
        }
    )
    df.loc[[1, 7], "count"] = pd.NA
    df.loc[[2, 9], "zip"] = pd.NA
    df.loc[[4], "score"] = np.nan
    df.loc[[5, 6], "sparse"] = None
    whole = np.abs(correlation.association_matrix(df).value)
    cols = list(df.columns)
    for i, a in enumerate(cols):
        for j in range(i + 1, len(cols)):
            b = cols[j]
            # levels from the values, and from codes already known (as the recipe gives)
            codes = pd.factorize(df[a], use_na_sentinel=True)[0]
            got = _pair_value(_as_levels(df[a], codes), _as_levels(df[b]))
            assert got == whole[i, j] or (np.isnan(got) and np.isnan(whole[i, j])), (a, b)
