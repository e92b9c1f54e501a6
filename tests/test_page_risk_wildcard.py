"""AppTest: the Risk page under the wildcard missing-value rule shows core's figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import risk

PAGE = "pages/risk.py"


def test_wildcard_with_many_missingness_patterns_matches_core(app):
    rng = np.random.default_rng(5)
    n, q = 3000, 8
    df = pd.DataFrame({f"q{j}": rng.integers(0, 6, n).astype(float) for j in range(q)})
    df = df.mask(rng.random(df.shape) < 0.2)  # about 150 missingness patterns
    app.session_state["dataset"] = df
    app.session_state["dataset_id"] = "wildcard-test"
    app.session_state["roles"] = {c: "quasi_identifier" for c in df.columns}
    app.switch_page(PAGE).run()
    assert not app.exception
    app.radio(key="risk_missing").set_value("wildcard").run()
    assert not app.exception and not app.error
    qis = list(app.multiselect[0].value)
    assert qis == list(df.columns)
    expected = risk.risk_summary(df, qis, missing="wildcard")
    metric = {m.label: m.value for m in app.metric}
    assert metric["k (k-anonymity)"] == f"{expected.k:,}"
    assert metric["Sample uniques"] == f"{expected.sample_uniques:,}"
