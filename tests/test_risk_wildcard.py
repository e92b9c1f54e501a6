"""The ``wildcard`` missing-value rule against a brute force over record pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import risk


def brute_fk(df: pd.DataFrame, qis: list[str]) -> np.ndarray:
    """f_k(i) = #{j : on every QI, x_i = x_j or either is missing} (sdcMicro's freqCalc)."""
    x = df[qis].to_numpy(dtype=object)
    na = df[qis].isna().to_numpy()
    n = len(df)
    out = np.zeros(n, dtype=np.int64)
    for i in range(n):
        ok = np.ones(n, dtype=bool)
        for j in range(len(qis)):
            if na[i, j]:
                continue
            ok &= na[:, j] | (x[:, j] == x[i, j])
        out[i] = ok.sum()
    return out


def brute_weighted(df: pd.DataFrame, qis: list[str], w: np.ndarray) -> np.ndarray:
    x = df[qis].to_numpy(dtype=object)
    na = df[qis].isna().to_numpy()
    out = np.zeros(len(df))
    for i in range(len(df)):
        ok = np.ones(len(df), dtype=bool)
        for j in range(len(qis)):
            if not na[i, j]:
                ok &= na[:, j] | (x[:, j] == x[i, j])
        out[i] = w[ok].sum()
    return out


def test_high_cardinality_float_qis_with_one_missing_value():
    # nine float QIs with 10^6 levels: the mixed-radix key overflows 2^62 for every pattern
    rng = np.random.default_rng(7)
    qis = [f"q{j}" for j in range(9)]
    full = pd.DataFrame({q: rng.integers(0, 10**6, 400) / 7.0 for q in qis})
    part = full.iloc[:100].copy()
    for r, j in enumerate(rng.integers(0, 9, 100)):
        part.iloc[r, j] = np.nan
    df = pd.concat([full, part], ignore_index=True)
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    ref = brute_fk(df, qis)
    assert int((ref == 1).sum()) == 300  # the 100 copies pair with their sources
    np.testing.assert_array_equal(ec.record_fk, ref)
    assert risk._uniques(ec) == 300


@pytest.mark.parametrize("q", [63, 64, 65])
def test_many_binary_qis_with_missing_values(q):
    rng = np.random.default_rng(q)
    n = 300
    df = pd.DataFrame({f"b{j}": rng.integers(0, 2, n).astype(float) for j in range(q)})
    # a block of near-duplicates so some matches exist, then scattered missing cells
    df.iloc[150:, :] = df.iloc[:150, :].to_numpy()
    df.iloc[150:, 40:] = rng.integers(0, 2, (150, q - 40))
    mask = rng.random((n, q)) < 0.02
    df = df.mask(mask)
    qis = list(df.columns)
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    ref = brute_fk(df, qis)
    np.testing.assert_array_equal(ec.record_fk, ref)
    # the grouped algorithm too (the cost model picks the direct one here), on fewer rows
    df = df.iloc[np.r_[0:40, 150:190]].reset_index(drop=True)
    ref = brute_fk(df, qis)
    exact = risk.equivalence_classes(df, qis)
    codes, _ = risk._qi_codes(df, qis)
    fk, _ = risk._wildcard_counts(
        codes, exact.class_id, exact.class_sizes.astype(float), None, method="lattice"
    )
    np.testing.assert_array_equal(fk[exact.class_id], ref)


cells = st.one_of(st.none(), st.integers(0, 2))


@settings(max_examples=120, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda q: st.lists(st.lists(cells, min_size=q, max_size=q), min_size=1, max_size=40)
    ),
    st.lists(st.floats(1.0, 50.0), min_size=40, max_size=40),
)
def test_property_wildcard_equals_brute_force(rows, weights):
    q = len(rows[0])
    qis = [f"c{j}" for j in range(q)]
    df = pd.DataFrame(rows, columns=qis, dtype="float64")
    ec = risk.equivalence_classes(df, qis, missing="wildcard")
    np.testing.assert_array_equal(ec.record_fk, brute_fk(df, qis))
    w = np.asarray(weights[: len(df)])
    df["w"] = w
    ir = risk.individual_risk(df, ec, weight_column="w")
    np.testing.assert_allclose(ir.big_fk, brute_weighted(df, qis, w), rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda q: st.lists(st.lists(cells, min_size=q, max_size=q), min_size=1, max_size=50)
    ),
    st.sampled_from(["direct", "lattice"]),
)
def test_property_both_wildcard_algorithms_equal_brute_force(rows, method):
    # the size switch picks the direct comparison on small data: force each algorithm here
    q = len(rows[0])
    qis = [f"c{j}" for j in range(q)]
    df = pd.DataFrame(rows, columns=qis, dtype="float64")
    ec = risk.equivalence_classes(df, qis)  # exact patterns
    codes, _ = risk._qi_codes(df, qis)
    w = np.arange(1.0, ec.n_classes + 1)
    fk, fw = risk._wildcard_counts(
        codes, ec.class_id, ec.class_sizes.astype(float), w, method=method
    )
    np.testing.assert_array_equal(fk[ec.class_id], brute_fk(df, qis))
    rec_w = w[ec.class_id] / ec.class_sizes[ec.class_id]  # spread class weight over members
    np.testing.assert_allclose(fw[ec.class_id], brute_weighted(df, qis, rec_w), rtol=1e-9)
