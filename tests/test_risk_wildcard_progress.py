"""Progress from every wildcard pass the Risk page runs: weighted F_k and leave-one-out."""

from __future__ import annotations

import base64
import json

import numpy as np
import pandas as pd

from core import risk
from tests.test_risk_wildcard import brute_fk, brute_weighted


def _table(seed: int = 3, n: int = 400, q: int = 4) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    qis = [f"q{j}" for j in range(q)]
    df = pd.DataFrame({c: rng.integers(0, 3, n).astype(float) for c in qis})
    df = df.mask(rng.random(df.shape) < 0.25)  # many missingness patterns
    df["w"] = rng.uniform(1.0, 40.0, n)
    return df, qis


def _check_shares(seen: list[float]) -> None:
    assert seen, "no progress reported"
    assert all(0.0 <= s <= 1.0 for s in seen)
    assert seen == sorted(seen) and seen[-1] == 1.0


def test_weighted_individual_risk_reports_progress_and_brute_force_fk():
    df, qis = _table()
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    seen: list[float] = []
    ir = risk.individual_risk(df, ec, weight_column="w", progress=seen.append)
    _check_shares(seen)
    w = df["w"].to_numpy()
    np.testing.assert_allclose(ir.big_fk, brute_weighted(df, qis, w), rtol=1e-9)
    plain = risk.individual_risk(df, ec, weight_column="w")
    np.testing.assert_array_equal(ir.record_risk, plain.record_risk)


def test_risk_summary_passes_progress_to_the_weighted_pass():
    df, qis = _table(seed=4)
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    seen: list[float] = []
    s = risk.risk_summary(
        df, qis, missing="wildcard", weight_column="w", classes=ec, progress=seen.append
    )
    _check_shares(seen)
    np.testing.assert_allclose(
        s.individual.big_fk, brute_weighted(df, qis, df["w"].to_numpy()), rtol=1e-9
    )


def test_leave_one_out_reports_progress_and_brute_force_uniques():
    df, qis = _table(seed=5, n=300)
    seen: list[float] = []
    got = risk.qi_contributions(df, qis, missing="wildcard", progress=seen.append)
    _check_shares(seen)
    full = int((brute_fk(df, qis) == 1).sum())
    for c in got:
        u = int((brute_fk(df, [x for x in qis if x != c.column]) == 1).sum())
        assert (c.uniques_without, c.uniques_removed) == (u, full - u)
    assert got == risk.qi_contributions(df, qis, missing="wildcard")


def test_weighted_household_risk_reports_progress_and_matches_its_definition():
    from core.household_risk import household_risk

    df, qis = _table(seed=7)
    df["hid"] = np.arange(len(df)) // 3
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    seen: list[float] = []
    hr = household_risk(df, ec, "hid", weight_column="w", progress=seen.append)
    _check_shares(seen)
    r = risk.individual_risk(df, ec, weight_column="w").record_risk
    want = [1 - np.prod(1 - r[df["hid"].to_numpy() == h]) for h in df["hid"]]
    np.testing.assert_allclose(hr.record_risk, want, rtol=1e-12, atol=1e-15)


def test_risk_page_weighted_wildcard_and_leave_one_out_match_core(app):
    # AppTest: with a weight column under the wildcard rule the page runs the weighted pass
    # and the leave-one-out passes with their progress bars, and shows core's figures
    df, qis = _table(seed=6, n=600)
    app.session_state["dataset"] = df
    app.session_state["dataset_id"] = "wildcard-progress-test"
    app.session_state["roles"] = {c: "quasi_identifier" for c in qis}
    app.switch_page("pages/risk.py").run()
    app.radio(key="risk_missing").set_value("wildcard").run()
    app.selectbox(key="risk_weight").set_value("w").run()
    assert not app.exception and not app.error
    expected = risk.risk_summary(df, qis, missing="wildcard", weight_column="w")
    metric = {m.label: m.value for m in app.metric}
    assert metric["Expected re-identifications"] == (
        f"{expected.individual.expected_reidentifications:,.1f}"
    )
    loo = risk.qi_contributions(df, qis, missing="wildcard")
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        if "without each column" in spec["layout"].get("title", {}).get("text", ""):
            bars = spec["data"][0]
            break
    else:
        raise AssertionError("no leave-one-out chart")
    got = dict(zip(bars["y"], _array(bars["x"]), strict=True))
    assert got == {c.column: c.uniques_removed for c in loo}


def _array(value) -> list[float]:  # noqa: ANN001
    """A figure array: plain JSON list or plotly's typed-array encoding."""
    if isinstance(value, dict) and "bdata" in value:
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)
