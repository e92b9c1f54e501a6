"""AppTest: the Risk page shows journalist records at risk, enhanced beta, records per l and
household risk as core computes them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import risk
from core.attribute_risk import attribute_risk, l_diversity_counts
from core.household_risk import household_risk

PAGE = "pages/risk.py"


def test_new_measures_match_core(app):
    rng = np.random.default_rng(2)
    n = 400
    df = pd.DataFrame(
        {
            "age": rng.integers(20, 40, n),
            "sex": rng.choice(["f", "m"], n),
            "dx": rng.choice(["a", "b", "c"], n),
            "hh": rng.integers(0, 150, n),
        }
    )
    app.session_state["dataset"] = df
    app.session_state["dataset_id"] = "measures-test"
    app.session_state["roles"] = {
        "age": "quasi_identifier",
        "sex": "quasi_identifier",
        "dx": "sensitive",
        "hh": "other",
    }
    app.switch_page(PAGE).run()
    assert not app.exception
    app.toggle(key="risk_is_sample").set_value(True).run()
    app.selectbox(key="risk_household").set_value("hh").run()
    assert not app.exception and not app.error
    qis = ["age", "sex"]
    ec = risk.equivalence_classes(df, qis)
    metric = {m.label: m for m in app.metric}
    jr = risk.journalist_records_at_risk(ec, threshold=0.2, sampling_fraction=0.01)
    # a count or share is shown as plain text below its card, never as a change arrow
    assert not metric["Journalist risk"].delta
    assert f"{jr.records_at_risk:,} records at risk" in [c.value for c in app.caption]
    hr = household_risk(df, ec, "hh", sampling_fraction=0.01)
    assert metric["Expected re-identifications (households)"].value == (
        f"{hr.expected_reidentifications:,.1f}"
    )
    ar = attribute_risk(df, ec, "dx")
    tables = [t.value for t in app.dataframe]
    main = next(t for t in tables if "enhanced β" in t.columns)
    assert main["enhanced β"].iloc[0] == round(ar.enhanced_beta_likeness, 4)
    per_l = next(t for t in tables if "distinct l of the class" in t.columns)
    lc = l_diversity_counts(df, ec, "dx")
    assert per_l["records"].tolist() == lc.records.tolist()
