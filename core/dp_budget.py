"""Privacy budget ledger: every release spends (ε, δ); the total is capped.

The ledger is an immutable value: :meth:`Ledger.spend` returns a new ledger, so a page can
keep one per dataset in its session and replace it atomically after a successful release.

Two bounds on the total are computed and the smaller ε is used:

- **basic composition**: ``(Σ ε_i, Σ δ_i)`` [DR14]_ Thm 3.16;
- **Kairouz–Oh–Viswanath** heterogeneous bound [KOV15]_ Thm 3.5, which for many small
  releases grows like ``√k`` instead of ``k`` and already contains the basic ε as one of
  its three terms; it costs an extra slack ``δ̃`` (``slack_delta``) on the δ side.

The advanced composition of Dwork, Rothblum & Vadhan [DRV10]_ is also available for
comparison; for a handful of releases it is worse than basic composition, which is why the
minimum is taken.

References
----------
.. [DR14] Dwork, C., Roth, A. "The algorithmic foundations of differential privacy." 2014.
.. [DRV10] Dwork, Rothblum, Vadhan. "Boosting and differential privacy." FOCS 2010.
.. [KOV15] Kairouz, P., Oh, S., Viswanath, P. "The composition theorem for differential
   privacy." ICML 2015.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from core.errors import BudgetExceededError, InvalidParameterError

#: Default δ̃ slack for the Kairouz–Oh–Viswanath bound.
SLACK_DELTA_DEFAULT = 1e-7


@dataclass(frozen=True, slots=True, kw_only=True)
class Spend:
    """One release recorded in the ledger."""

    label: str
    epsilon: float
    delta: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Composition:
    """Total privacy loss of a sequence of releases."""

    releases: int
    basic_epsilon: float
    basic_delta: float
    kov_epsilon: float
    kov_delta: float
    #: The pair reported as the total: KOV if its ε is smaller (and its δ fits), else basic.
    epsilon: float
    delta: float
    method: str


def basic_composition(spends: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """``(Σ ε_i, Σ δ_i)`` [DR14]_.

    >>> basic_composition([(0.5, 1e-6), (0.25, 0.0)])
    (0.75, 1e-06)
    """
    return float(sum(e for e, _ in spends)), float(sum(d for _, d in spends))


def advanced_composition(
    *, epsilon: float, delta: float, k: int, slack_delta: float
) -> tuple[float, float]:
    """Dwork–Rothblum–Vadhan bound for ``k`` releases of (ε, δ) each [DRV10]_.

    Returns ``(ε √(2k ln(1/δ')) + k ε (e^ε − 1), k δ + δ')``.

    >>> e, d = advanced_composition(epsilon=0.1, delta=0.0, k=100, slack_delta=1e-6)
    >>> round(e, 4), d
    (6.3082, 1e-06)
    """
    _check_slack(slack_delta)
    eps = epsilon * math.sqrt(2.0 * k * math.log(1.0 / slack_delta)) + k * epsilon * math.expm1(
        epsilon
    )
    return eps, k * delta + slack_delta


def kov_composition(
    spends: Sequence[tuple[float, float]], *, slack_delta: float
) -> tuple[float, float]:
    """Kairouz–Oh–Viswanath bound for heterogeneous (ε_i, δ_i) releases [KOV15]_ Thm 3.5.

    Parameters
    ----------
    spends : sequence of (float, float)
        The (ε_i, δ_i) of each release.
    slack_delta : float
        δ̃ in (0, 1).

    Returns
    -------
    (float, float)
        ``ε̃ = min{Σε_i, A + √(2 S ln(e + √S/δ̃)), A + √(2 S ln(1/δ̃))}`` with
        ``A = Σ (e^ε_i − 1) ε_i / (e^ε_i + 1)`` and ``S = Σ ε_i²``, and
        ``δ = 1 − (1 − δ̃) Π (1 − δ_i)``, computed as ``δ̃ + (1 − δ̃)(1 − Π (1 − δ_i))``
        with ``log1p``/``expm1``, so that without per-release δ it is ``δ̃`` exactly (not one
        rounding step above a δ budget equal to ``δ̃``).

    Raises
    ------
    InvalidParameterError
        For ``slack_delta`` outside (0, 1).

    >>> e, d = kov_composition([(0.1, 0.0)] * 100, slack_delta=1e-6)
    >>> round(e, 4)
    5.7561
    """
    _check_slack(slack_delta)
    if not spends:
        return 0.0, 0.0
    eps = [e for e, _ in spends]
    a = sum(math.expm1(e) * e / (math.exp(e) + 1.0) for e in eps)
    s = sum(e * e for e in eps)
    total = min(
        sum(eps),
        a + math.sqrt(2.0 * s * math.log(math.e + math.sqrt(s) / slack_delta)),
        a + math.sqrt(2.0 * s * math.log(1.0 / slack_delta)),
    )
    # 1 − Π(1 − δ_i), exactly 0 when every δ_i is 0
    lost = -math.expm1(math.fsum(math.log1p(-d) for _, d in spends))
    return float(total), float(slack_delta + (1.0 - slack_delta) * lost)


def _check_slack(slack_delta: float) -> None:
    if not 0.0 < slack_delta < 1.0:
        raise InvalidParameterError(
            f"slack_delta must be in (0, 1); got {slack_delta!r}. A value such as 1e-7 is typical."
        )


def compose(spends: Sequence[tuple[float, float]], *, slack_delta: float) -> Composition:
    """Both bounds and the one to report (the smaller ε; ties go to basic).

    >>> c = compose([(1.0, 0.0)] * 2, slack_delta=1e-7)
    >>> c.method, c.epsilon
    ('basic', 2.0)
    """
    be, bd = basic_composition(spends)
    ke, kd = kov_composition(spends, slack_delta=slack_delta)
    use_kov = ke < be - 1e-12
    return Composition(
        releases=len(spends),
        basic_epsilon=be,
        basic_delta=bd,
        kov_epsilon=ke,
        kov_delta=kd,
        epsilon=ke if use_kov else be,
        delta=kd if use_kov else bd,
        method="Kairouz-Oh-Viswanath" if use_kov else "basic",
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Ledger:
    """The privacy budget of one dataset and what has been spent of it.

    Parameters
    ----------
    total_epsilon : float
        Budget for ε over all releases, ``> 0``.
    total_delta : float
        Budget for δ, in ``[0, 1)``.
    slack_delta : float
        δ̃ of the Kairouz–Oh–Viswanath bound; that bound is used only when its δ fits.

    Examples
    --------
    >>> ledger = Ledger(total_epsilon=1.0, total_delta=1e-6)
    >>> ledger = ledger.spend("count of age", epsilon=0.5)
    >>> round(ledger.remaining_epsilon, 6)
    0.5
    >>> ledger.spend("sum of age", epsilon=0.75)
    Traceback (most recent call last):
    ...
    core.errors.BudgetExceededError: this release (epsilon 0.75, delta 0) would bring ...
    """

    total_epsilon: float
    total_delta: float = 0.0
    slack_delta: float = SLACK_DELTA_DEFAULT
    entries: tuple[Spend, ...] = field(default=())

    def __post_init__(self) -> None:
        """Validate the budget."""
        if not (math.isfinite(self.total_epsilon) and self.total_epsilon > 0):
            raise InvalidParameterError(
                f"total_epsilon must be positive; got {self.total_epsilon!r}. A common "
                "budget is 1 to 10 for a whole dataset."
            )
        if not 0.0 <= self.total_delta < 1.0:
            raise InvalidParameterError(
                f"total_delta must be in [0, 1); got {self.total_delta!r}. Use 0 for pure "
                "ε-DP or a value well below 1/n."
            )
        _check_slack(self.slack_delta)

    def _pairs(self, extra: Sequence[Spend] = ()) -> list[tuple[float, float]]:
        return [(s.epsilon, s.delta) for s in (*self.entries, *extra)]

    def composition(self) -> Composition:
        """Total spent so far, by both bounds."""
        return self._fit(self._pairs())

    def _fit(self, pairs: list[tuple[float, float]]) -> Composition:
        c = compose(pairs, slack_delta=self.slack_delta)
        if c.method != "basic" and c.kov_delta > self.total_delta * (1 + 1e-12):
            c = replace(c, epsilon=c.basic_epsilon, delta=c.basic_delta, method="basic")
        return c

    def preview(self, *, epsilon: float, delta: float = 0.0) -> Composition:
        """The total if one more release of ``(epsilon, delta)`` were made (nothing spent).

        >>> Ledger(total_epsilon=2.0).preview(epsilon=0.5).epsilon
        0.5
        """
        _check_spend(epsilon, delta)
        return self._fit(self._pairs([Spend(label="", epsilon=epsilon, delta=delta)]))

    def allows(self, *, epsilon: float, delta: float = 0.0) -> bool:
        """Whether a release of ``(epsilon, delta)`` fits in the remaining budget."""
        c = self.preview(epsilon=epsilon, delta=delta)
        return self._fits(c)

    def _fits(self, c: Composition) -> bool:
        return (
            c.epsilon <= self.total_epsilon * (1 + 1e-12)
            and c.delta <= self.total_delta * (1 + 1e-12)
        )

    def spend(self, label: str, *, epsilon: float, delta: float = 0.0) -> Ledger:
        """A new ledger with this release recorded.

        Raises
        ------
        BudgetExceededError
            If the total after the release would exceed the budget; the ledger is unchanged.
        """
        if not self.allows(epsilon=epsilon, delta=delta):
            c = self.preview(epsilon=epsilon, delta=delta)
            raise BudgetExceededError(
                f"this release (epsilon {epsilon:g}, delta {delta:g}) would bring the total to "
                f"epsilon {c.epsilon:.4g}, delta {c.delta:.3g}, above the budget of epsilon "
                f"{self.total_epsilon:g}, delta {self.total_delta:g} "
                f"({len(self.entries)} release(s) so far). Lower epsilon, or start a new "
                "budget only if the earlier releases are discarded."
            )
        return replace(
            self, entries=(*self.entries, Spend(label=label, epsilon=epsilon, delta=delta))
        )

    def spend_many(self, spends: Sequence[tuple[str, float, float]]) -> Ledger:
        """A new ledger with several releases recorded together, or none of them.

        Parameters
        ----------
        spends : sequence of (label, epsilon, delta)
            The releases, for example the noisy steps of a hardening recipe.

        Raises
        ------
        BudgetExceededError
            If the total after all of them would exceed the budget; the ledger is unchanged.

        >>> Ledger(total_epsilon=1.0).spend_many([("a", 0.5, 0.0), ("b", 0.25, 0.0)]).entries[1]
        Spend(label='b', epsilon=0.25, delta=0.0)
        """
        new = [Spend(label=str(lab), epsilon=float(e), delta=float(d)) for lab, e, d in spends]
        for s in new:
            _check_spend(s.epsilon, s.delta)
        c = self._fit(self._pairs(new))
        if not self._fits(c):
            raise BudgetExceededError(
                f"these {len(new)} release(s) (epsilon {sum(s.epsilon for s in new):g} in all) "
                f"would bring the total to epsilon {c.epsilon:.4g}, delta {c.delta:.3g}, above "
                f"the budget of epsilon {self.total_epsilon:g}, delta {self.total_delta:g} "
                f"({len(self.entries)} release(s) so far). Lower epsilon, or start a new "
                "budget only if the earlier releases are discarded."
            )
        return replace(self, entries=(*self.entries, *new))

    @property
    def remaining_epsilon(self) -> float:
        """ε still available under the reported total (basic or KOV)."""
        return max(0.0, self.total_epsilon - self.composition().epsilon)


def _check_spend(epsilon: float, delta: float) -> None:
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise InvalidParameterError(f"epsilon must be positive; got {epsilon!r}.")
    if not 0.0 <= delta < 1.0:
        raise InvalidParameterError(f"delta must be in [0, 1); got {delta!r}.")
