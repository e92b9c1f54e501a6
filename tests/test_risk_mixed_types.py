"""Object columns keep 1, True, 1.0 and "1" apart (pandas' factorize merges the first three)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from core import risk
from core.attribute_risk import attribute_risk


def _brute_sizes(df, qis):
    keys = [
        tuple((type(v).__name__, v) if not pd.isna(v) else ("NA",) for v in row)
        for row in df[qis].itertuples(index=False)
    ]
    counts = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    return sorted(counts.values()), [counts[k] for k in keys]


def test_mixed_object_qi_keeps_types_apart():
    df = pd.DataFrame({"a": pd.Series([1, True, 1.0, "1", 1, None, np.nan], dtype=object)})
    ec = risk.equivalence_classes(df, ["a"])
    sizes, per_record = _brute_sizes(df, ["a"])
    assert sorted(ec.class_sizes.tolist()) == sizes == [1, 1, 1, 2, 2]
    assert ec.record_fk.tolist() == per_record
    assert risk.k_anonymity(df, ["a"]) == 1


def test_mixed_object_qi_with_a_second_column_and_wildcard():
    df = pd.DataFrame(
        {
            "a": pd.Series([1, True, 1.0, 1, False, 0], dtype=object),
            "b": ["x", "x", "x", "x", "y", "y"],
        }
    )
    ec = risk.equivalence_classes(df, ["a", "b"])
    _, per_record = _brute_sizes(df, ["a", "b"])
    assert ec.record_fk.tolist() == per_record == [2, 1, 1, 2, 1, 1]
    wild = risk.equivalence_classes(df, ["a", "b"], missing="wildcard")
    assert wild.record_fk.tolist() == per_record  # no missing value: the same


def test_mixed_object_sensitive_counts_distinct_types():
    df = pd.DataFrame({"g": [1, 1, 1], "s": pd.Series([1, True, 1.0], dtype=object)})
    ar = attribute_risk(df, risk.equivalence_classes(df, ["g"]), "s")
    assert ar.distinct_l == 3
