"""Does a table meet a re-identification policy, which records fail, and which columns are to blame.

A :class:`Policy` holds three rules on the prosecutor model (the attacker knows the target is
in the table, [EE08]_):

- **k**: every record shares its quasi-identifier values with at least ``k - 1`` others
  (``f_k >= k``);
- **highest risk**: every record's risk ``1 / f_k`` is at most ``max_risk``;
- **average risk**: the mean of ``1 / f_k`` over the records is at most ``average_risk``.

The defaults follow published guidance: a minimum cell size of five, which "would translate
into a maximum probability of re-identifying a single record of 0.2", is the precedent data
custodians have used most ([EE13]_, chapter "Cell size precedents"); the same chapter
cites a cell size of 20 for public data, a probability of 0.05, used here as the average-risk
threshold. The EMA's external guidance on Policy 0070 (clinical reports published by the
agency, [EMA17]_) recommends a re-identification risk threshold of 0.09; :data:`GUIDANCE`
offers it as the ``"EMA Policy 0070"`` preset, applied to both the highest and the average
risk (classes of at least 12 records: 1/11 = 0.091 is above 0.09).

:func:`check_policy` measures every rule, lists the records that break a per-record rule
(riskiest first) and, on request, leaves each quasi-identifier out in turn to show how far
k and the risks improve without it.

References
----------
.. [EE08] El Emam, K., Dankar, F. K. (2008). Protecting privacy using k-anonymity.
   JAMIA 15(5), 627-637.
.. [EE13] El Emam, K. (2013). Guide to the De-Identification of Personal Health Information.
   CRC Press (Auerbach), chapter "Cell size precedents".
.. [EMA17] European Medicines Agency (2017). External guidance on the implementation of the
   European Medicines Agency policy on the publication of clinical data for medicinal
   products for human use, EMA/90915/2016, version 1.3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core import risk
from core.errors import InvalidParameterError
from core.limits import RISK_THRESHOLD_DEFAULT

__all__ = ["GUIDANCE", "ColumnDriver", "Policy", "PolicyVerdict", "RuleResult", "check_policy"]

#: Relative slack when a measured risk is compared with its threshold, so that an average of
#: exactly 0.05 computed as a sum of fractions is not failed by a rounding error.
_SLACK = 1e-12


def _check_probability(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParameterError(
            f"{name} must be a probability in (0, 1]; got {type(value).__name__}."
        )
    if not (0.0 < float(value) <= 1.0):  # NaN fails the comparison too
        raise InvalidParameterError(
            f"{name} must be a probability in (0, 1]; got {value:g}. 0.2 allows classes of 5, "
            "0.05 of 20."
        )
    return float(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    """Thresholds a table must meet (defaults: [EE13]_, see the module docstring).

    Parameters
    ----------
    k : int
        Smallest class size allowed, ``>= 1`` (default 5).
    max_risk : float
        Highest prosecutor risk ``1 / f_k`` allowed, in (0, 1] (default 0.2).
    average_risk : float
        Highest mean prosecutor risk allowed, in (0, 1] (default 0.05).

    Raises
    ------
    InvalidParameterError
        A threshold outside its range.
    """

    k: int = 5
    max_risk: float = RISK_THRESHOLD_DEFAULT
    average_risk: float = 0.05

    def __post_init__(self) -> None:
        """Validate."""
        if isinstance(self.k, bool) or not isinstance(self.k, int | np.integer) or self.k < 1:
            raise InvalidParameterError(
                f"k must be a whole number of records, at least 1; got {self.k!s:.20}. "
                "k = 5 asks every record to share its values with 4 others."
            )
        object.__setattr__(self, "k", int(self.k))
        object.__setattr__(self, "max_risk", _check_probability("max_risk", self.max_risk))
        object.__setattr__(
            self, "average_risk", _check_probability("average_risk", self.average_risk)
        )


#: Policies from published guidance, by name (see the module docstring for the sources).
GUIDANCE: dict[str, Policy] = {
    "El Emam 2013": Policy(k=5, max_risk=0.2, average_risk=0.05),
    "EMA Policy 0070": Policy(k=12, max_risk=0.09, average_risk=0.09),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """One rule of the policy, measured.

    Attributes
    ----------
    name : {"k", "max_risk", "average_risk"}
    measured : float
        k (a whole number), the highest risk ``1 / k`` or the average risk.
    threshold : float
        The policy's value for the rule.
    passed : bool
        ``k >= threshold`` for ``"k"``; ``measured <= threshold`` for the risks.
    failing_records : int or None
        Records that break the rule (None for the average, a property of the whole table).
    """

    name: str
    measured: float
    threshold: float
    passed: bool
    failing_records: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnDriver:
    """The table without one quasi-identifier: how far each rule improves.

    Attributes
    ----------
    column : str
        The quasi-identifier left out.
    k_without, max_risk_without, average_risk_without : int, float, float
        k, highest and average prosecutor risk over the other quasi-identifiers.
    failing_without : int
        Records that would still break a per-record rule.
    records_fixed : int
        Records failing now minus ``failing_without`` (never negative: leaving a column out
        never splits a class).
    uniques_removed : int
        Sample uniques (``f_k = 1``) now minus those without the column.
    passes_without : bool
        Whether every rule would pass without the column.
    """

    column: str
    k_without: int
    max_risk_without: float
    average_risk_without: float
    failing_without: int
    records_fixed: int
    uniques_removed: int
    passes_without: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyVerdict:
    """A table checked against a :class:`Policy`.

    Attributes
    ----------
    policy : Policy
    n : int
        Records in the table.
    rules : tuple of RuleResult
        ``k``, ``max_risk``, ``average_risk``, in this order.
    failing : numpy.ndarray
        Row positions of the records that break the k or the highest-risk rule, riskiest
        (smallest ``f_k``) first, ties in row order.
    drivers : tuple of ColumnDriver
        One per quasi-identifier, in their order (empty unless leave-one-out was asked for
        and there are at least two quasi-identifiers).
    warnings : tuple of str
    """

    policy: Policy
    n: int
    rules: tuple[RuleResult, ...]
    failing: np.ndarray
    drivers: tuple[ColumnDriver, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Whether every rule passes."""
        return all(r.passed for r in self.rules)

    @property
    def n_failing(self) -> int:
        """Records that break the k or the highest-risk rule."""
        return int(self.failing.size)


def _within(measured: float, threshold: float) -> bool:
    return measured <= threshold * (1.0 + _SLACK)


def _measure(ec: risk.EquivalenceClasses, policy: Policy) -> tuple[int, float, float, np.ndarray]:
    """k, highest and average risk, and the per-record failure mask of classes ``ec``."""
    fk = ec.record_fk
    k = int(ec.class_fk.min())
    average = float(np.mean(1.0 / fk))
    fails = (fk < policy.k) | ~(1.0 / fk <= policy.max_risk * (1.0 + _SLACK))
    return k, 1.0 / k, average, fails


def _passes(k: int, highest: float, average: float, policy: Policy) -> bool:
    return (
        k >= policy.k
        and _within(highest, policy.max_risk)
        and _within(average, policy.average_risk)
    )


def check_policy(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    policy: Policy,
    *,
    missing: risk.MissingPolicy | str = risk.MissingPolicy.CATEGORY,
    classes: risk.EquivalenceClasses | None = None,
    leave_one_out: bool = False,
    progress: Callable[[float], None] | None = None,
) -> PolicyVerdict:
    """Check a table against a policy: each rule, the failing records, the columns to blame.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; at least one row.
    quasi_identifiers : sequence of str
        One or more distinct column names of ``df``.
    policy : Policy
        The thresholds.
    missing : {"category", "wildcard"}
        How a missing value matches (see :func:`core.risk.equivalence_classes`).
    classes : EquivalenceClasses, optional
        Classes already grouped on ``df`` over these quasi-identifiers with this rule.
    leave_one_out : bool
        Also measure the table without each quasi-identifier in turn (one regrouping per
        quasi-identifier; needs at least two).
    progress : callable, optional
        Called with the share of the leave-one-out work done (a float in (0, 1]).

    Returns
    -------
    PolicyVerdict

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`core.risk.equivalence_classes`; ``policy`` not a :class:`Policy`;
        ``classes`` grouped on other columns, another rule or another table.

    Notes
    -----
    With ``f_k`` the number of records matching record ``i`` on the quasi-identifiers:
    k rule ``min_i f_k >= k``; highest-risk rule ``max_i 1/f_k <= max_risk``; average-risk
    rule ``(1/n) sum_i 1/f_k <= average_risk`` ([EE08]_). A record fails when
    ``f_k < k`` or ``1/f_k > max_risk``. Missing values follow ``missing``. Leaving a column
    out merges classes, so no figure gets worse without it.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 1, 2, 2, 3]})
    >>> v = check_policy(df, ["a"], Policy(k=2, max_risk=0.5, average_risk=0.5))
    >>> [(r.name, r.measured, r.passed) for r in v.rules]
    [('k', 1, False), ('max_risk', 1.0, False), ('average_risk', 0.5, True)]
    >>> v.failing.tolist()
    [5]
    """
    if not isinstance(policy, Policy):
        raise InvalidParameterError(
            f"policy must be a Policy; got {type(policy).__name__}. Build one with "
            "Policy(k=..., max_risk=..., average_risk=...)."
        )
    qis = list(quasi_identifiers)
    if classes is None:
        classes = risk.equivalence_classes(df, qis, missing=missing)
    elif (
        classes.quasi_identifiers != tuple(qis)
        or classes.missing != risk.MissingPolicy(missing)
        or classes.n != len(df)
    ):
        raise InvalidParameterError(
            f"The classes were grouped on {len(classes.quasi_identifiers)} other column(s) or "
            "another table or missing-value rule; pass the classes of these "
            f"{len(qis)} quasi-identifier(s), or none."
        )
    k, highest, average, fails = _measure(classes, policy)
    fk = classes.record_fk
    failing = np.flatnonzero(fails)
    failing = failing[np.argsort(fk[failing], kind="stable")]
    rules = (
        RuleResult(
            name="k",
            measured=k,
            threshold=policy.k,
            passed=k >= policy.k,
            failing_records=int(np.count_nonzero(fk < policy.k)),
        ),
        RuleResult(
            name="max_risk",
            measured=highest,
            threshold=policy.max_risk,
            passed=_within(highest, policy.max_risk),
            failing_records=int(np.count_nonzero(~(1.0 / fk <= policy.max_risk * (1 + _SLACK)))),
        ),
        RuleResult(
            name="average_risk",
            measured=average,
            threshold=policy.average_risk,
            passed=_within(average, policy.average_risk),
            failing_records=None,
        ),
    )
    drivers: tuple[ColumnDriver, ...] = ()
    if leave_one_out and len(qis) >= 2:
        drivers = _leave_one_out(df, qis, policy, missing, classes, failing.size, progress)
    return PolicyVerdict(
        policy=policy,
        n=classes.n,
        rules=rules,
        failing=failing,
        drivers=drivers,
        warnings=classes.warnings,
    )


def _leave_one_out(
    df: pd.DataFrame,
    qis: list[str],
    policy: Policy,
    missing: risk.MissingPolicy | str,
    classes: risk.EquivalenceClasses,
    n_failing: int,
    progress: Callable[[float], None] | None,
) -> tuple[ColumnDriver, ...]:
    """One :class:`ColumnDriver` per quasi-identifier (one regrouping each)."""
    uniques = int(np.count_nonzero(classes.record_fk == 1))
    out = []
    for i, column in enumerate(qis):
        part = None if progress is None else (lambda d, i=i: progress((i + d) / len(qis)))
        ec = risk.equivalence_classes(
            df, [c for c in qis if c != column], missing=missing, progress=part
        )
        k, highest, average, fails = _measure(ec, policy)
        still = int(np.count_nonzero(fails))
        out.append(
            ColumnDriver(
                column=column,
                k_without=k,
                max_risk_without=highest,
                average_risk_without=average,
                failing_without=still,
                records_fixed=max(n_failing - still, 0),
                uniques_removed=uniques - int(np.count_nonzero(ec.record_fk == 1)),
                passes_without=_passes(k, highest, average, policy),
            )
        )
        if progress is not None:
            progress((i + 1) / len(qis))
    return tuple(out)
