"""sdcMicro's individual risk near w = 1: bounded by 1 / f_k, and equal to the closed form
evaluated at 60 significant digits (``decimal``), for weights from 1 to 1e6."""

from __future__ import annotations

from decimal import Decimal, localcontext

import numpy as np
import pandas as pd
import pytest

from core import risk

WEIGHTS = [1.0, 1 + 1e-12, 1 + 1e-9, 1 + 1e-6, 1.001, 1.5, 2.0, 10.0, 1e3, 1e6]


def closed_form(f: int, big_f: float) -> Decimal:
    """Franconi-Polettini approximation (sdcMicro indivRisk, method "approx"), 60 digits."""
    with localcontext() as ctx:
        ctx.prec = 60
        big = Decimal(big_f)  # the exact value of the float F_k the code works with
        if big <= f:
            return Decimal(1) / f
        p = Decimal(f) / big
        odds = p / (1 - p)
        log_inv = (1 / p).ln()
        if f == 1:
            return odds * log_inv
        if f == 2:
            return odds - odds**2 * log_inv
        return p / (f - (1 - p))


@pytest.mark.parametrize("w", WEIGHTS)
@pytest.mark.parametrize("f", [1, 2, 3, 7])
def test_record_risk_in_bounds_and_equal_to_high_precision_closed_form(f, w):
    df = pd.DataFrame({"a": [0] * f + [1], "w": [w] * f + [1.0]})
    ec = risk.equivalence_classes(df, ["a"])
    ir = risk.individual_risk(df, ec, weight_column="w")
    r = ir.record_risk[:f]
    assert np.all(r >= 0) and np.all(r <= 1 / f), (f, w, r[0])
    ref = float(closed_form(f, float(ir.big_fk[0])))
    assert r[0] == pytest.approx(ref, rel=1e-12, abs=0)


def test_weight_just_above_one_with_two_records():
    # the case: 1 + 1e-9 gave 1.5 for f_k = 2, where the bound is 0.5
    df = pd.DataFrame({"a": [0, 0], "w": [1 + 1e-9, 1 + 1e-9]})
    ir = risk.individual_risk(df, risk.equivalence_classes(df, ["a"]), weight_column="w")
    assert ir.record_risk.tolist() == pytest.approx([0.5, 0.5], abs=1e-8)
    assert ir.record_risk.max() <= 0.5


def test_random_weights_stay_in_bounds():
    rng = np.random.default_rng(11)
    n = 4000
    df = pd.DataFrame(
        {
            "a": rng.integers(0, 300, n),
            "w": 1 + 10.0 ** rng.uniform(-13, 6, n),
        }
    )
    ec = risk.equivalence_classes(df, ["a"])
    ir = risk.individual_risk(df, ec, weight_column="w")
    assert np.all(ir.record_risk >= 0)
    assert np.all(ir.record_risk <= 1 / ir.fk)
