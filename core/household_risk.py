"""Household (hierarchical) re-identification risk, as sdcMicro's ``measure_risk`` with ``hid``.

Members of a household can be re-identified through one another: once one member is, the
household is. With individual risks ``r_i`` (sdcMicro's ``indivRisk``, see
:func:`core.risk.individual_risk`), the risk of household ``h`` is the probability that at
least one member is re-identified, members taken as independent::

    R_h = 1 - prod_{i in h} (1 - r_i)

Every member carries ``R_h``. sdcMicro computes the same quantity with Boole's
inclusion-exclusion sum (its ``measure_hierachical`` C routine, exponential in the household
size, hence its refusal of households above 10 members unless forced, and its 256-member
array); the product form is exact for any size. The expected number of re-identifications
is ``hier_risk_ER = sum over records of R_h(i)``, and ``hier_risk = hier_risk_ER / n``.

References
----------
.. [TKM15] Templ, M., Kowarik, A., Meindl, B. (2015). Statistical disclosure control for
   micro-data using the R package sdcMicro. JSS 67(4). (``measure_risk``, ``hid``)
.. [HF02] Hundepool, A. et al. mu-Argus 4 user's manual, section on household risk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ColumnError, InvalidParameterError
from core.risk import EquivalenceClasses, individual_risk

__all__ = ["HouseholdRisk", "household_risk"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HouseholdRisk:
    """Household risk of every record and its totals.

    Attributes
    ----------
    record_risk : numpy.ndarray
        Per record, the risk ``R_h`` of its household.
    n_households : int
    largest_household : int
    expected_reidentifications : float
        ``sum_i R_h(i)`` (sdcMicro ``hier_risk_ER``).
    share : float
        ``expected_reidentifications / n`` (sdcMicro ``hier_risk``; ``hier_risk_pct`` is
        100 times this).
    warnings : tuple of str
    """

    record_risk: np.ndarray
    n_households: int
    largest_household: int
    expected_reidentifications: float
    share: float
    warnings: tuple[str, ...] = ()


def household_risk(
    df: pd.DataFrame,
    classes: EquivalenceClasses,
    household_column: str,
    *,
    weight_column: str | None = None,
    sampling_fraction: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> HouseholdRisk:
    """sdcMicro's hierarchical risk: ``1 - prod(1 - r_i)`` over the members of a household.

    Parameters
    ----------
    df : pandas.DataFrame
        The table ``classes`` was built from.
    classes : EquivalenceClasses
        From :func:`core.risk.equivalence_classes` on ``df``.
    household_column : str
        Column holding the household ID; it must not be a quasi-identifier and must have no
        missing value.
    weight_column, sampling_fraction, progress : optional
        As :func:`core.risk.individual_risk`, which gives the ``r_i``.

    Returns
    -------
    HouseholdRisk

    Raises
    ------
    ColumnError
        The household column is missing, a quasi-identifier, or has missing values; see
        also :func:`core.risk.individual_risk`.
    InvalidParameterError
        ``df`` and ``classes`` of different lengths.

    Notes
    -----
    ``R_h = 1 - prod_{i in h} (1 - r_i)``, computed as ``-expm1(sum log1p(-r_i))`` so that
    small risks keep their digits; each member carries ``R_h``;
    ``hier_risk_ER = sum_i R_h(i)``. Identical to sdcMicro's Boole sum for every household
    (sdcMicro stops above 10 members unless forced; here any size is computed).

    References
    ----------
    .. [TKM15] Templ et al. (2015).

    Examples
    --------
    >>> from core.risk import equivalence_classes
    >>> df = pd.DataFrame({"a": [1, 2, 2, 3], "hh": [7, 7, 8, 8]})
    >>> hr = household_risk(df, equivalence_classes(df, ["a"]), "hh")
    >>> hr.record_risk.tolist(), hr.expected_reidentifications
    ([1.0, 1.0, 1.0, 1.0], 4.0)
    """
    if household_column not in df.columns:
        raise ColumnError(
            f"Household ID column '{household_column}' is not in the table ({df.shape[1]} "
            "columns). Pick the column that identifies each household."
        )
    if household_column in classes.quasi_identifiers:
        raise ColumnError(
            f"'{household_column}' is both a quasi-identifier and the household ID. Remove "
            "it from the quasi-identifiers."
        )
    if len(df) != classes.n:
        raise InvalidParameterError(
            f"The table has {len(df)} rows but the classes were built on {classes.n}. "
            "Build the classes from the same table."
        )
    hid = df[household_column]
    n_missing = int(hid.isna().sum())
    if n_missing:
        raise ColumnError(
            f"Household ID column '{household_column}' has {n_missing} missing value(s); "
            "every record needs a household. Fill or drop those rows."
        )
    ind = individual_risk(
        df,
        classes,
        weight_column=weight_column,
        sampling_fraction=sampling_fraction,
        progress=progress,
    )
    r = np.clip(ind.record_risk, 0.0, 1.0)
    codes, uniques = pd.factorize(hid)
    with np.errstate(divide="ignore"):
        log_keep = np.bincount(codes, np.log1p(-r), len(uniques))
    house = -np.expm1(log_keep)
    per_record = house[codes]
    total = float(per_record.sum())
    sizes = np.bincount(codes, minlength=len(uniques))
    return HouseholdRisk(
        record_risk=per_record,
        n_households=len(uniques),
        largest_household=int(sizes.max()),
        expected_reidentifications=total,
        share=total / classes.n,
        warnings=ind.warnings,
    )
