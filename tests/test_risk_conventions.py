"""Where PrivLens and pyCANON differ, as the README's measures table states."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import attribute_risk, risk

anonymity = pytest.importorskip("pycanon.anonymity")


def test_pycanon_drops_records_with_a_missing_qi():
    # pyCANON groups with pandas groupby, which drops a row with a missing QI; PrivLens keeps
    # it as its own class (category rule) or matches it to every class (wildcard rule)
    df = pd.DataFrame({"q": [1, 1, np.nan, 2, 2, 2], "z": 0, "s": list("ababac")})
    qis = ["q", "z"]  # two QIs: pandas warns about one-element group keys
    assert anonymity.k_anonymity(df, qis) == 2
    assert risk.k_anonymity(df.dropna(subset=["q"]), qis) == 2
    assert risk.k_anonymity(df, qis) == 1  # the row with the missing QI is a class of one
    wild = risk.equivalence_classes(df, qis, missing="wildcard")
    assert wild.record_fk.tolist() == [3, 3, 6, 4, 4, 4]


def test_ordered_t_closeness_with_a_missing_value_differs_from_pycanon():
    # the example: [10, 20, NaN, 10, 20, 30] by [1, 1, 1, 2, 2, 2]
    df = pd.DataFrame({"q": [1, 1, 1, 2, 2, 2], "z": 0, "s": [10, 20, np.nan, 10, 20, 30]})
    qis = ["q", "z"]
    ec = risk.equivalence_classes(df, qis)
    got = attribute_risk.attribute_risk(df, ec, "s")
    # PrivLens leaves the missing value out: table (2, 2, 1) / 5, class 1 (1, 1, 0) / 2,
    # cumulative differences 0.1, 0.2, 0 over m - 1 = 2 steps
    assert got.ordered and got.t_closeness == pytest.approx(0.15, abs=1e-12)
    # pyCANON keeps NaN as a fourth, empty position after 30 (m - 1 = 3 steps): 1/9
    assert anonymity.t_closeness(df, qis, ["s"]) == pytest.approx(1 / 9, abs=1e-12)
