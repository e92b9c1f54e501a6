"""Membership inference: does a model trained on this table reveal who was in it?

The attack is the loss-threshold adversary of Yeom et al. [YGFJ18]_: given a record and the
model, guess "member" when the model's loss on the record is at most a threshold ``tau``.
Its *membership advantage* is ``Adv = TPR - FPR``, with TPR the share of training records
(members) guessed "member" and FPR the share of held-out records (non-members) guessed
"member"; 0 means the model tells members from non-members no better than a coin.

* :func:`loss_threshold_attack`: ``tau`` = the average training loss, as in the paper (the
  attacker is assumed to know the model's expected training loss).
* :func:`best_threshold_attack`: the ``tau`` that maximizes ``TPR - FPR`` on the records
  themselves: an optimistic, in-sample upper reference for any loss threshold.
* :func:`membership_risk`: on a table, repeated random half/half splits (members = training
  half, non-members = the other half, so the experiment's prior is 1/2 as in the paper);
  each repeat trains the classifier, measures utility and both advantages; the report has
  the mean and a Student-t confidence interval over the repeats.

Bounds implied by epsilon-DP training (advantage of *any* attacker):

* :func:`yeom_advantage_bound`: ``Adv <= e^eps - 1`` ([YGFJ18]_, Theorem 1);
* :func:`dp_advantage_bound`: ``Adv <= (e^eps - 1) / (e^eps + 1) = tanh(eps / 2)``, tight:
  epsilon-DP means every test has ``TPR <= e^eps FPR`` and
  ``1 - FPR <= e^eps (1 - TPR)`` [KOV15]_, [WZ10]_; maximizing ``TPR - FPR`` over that
  region gives the value at the corner ``FPR = 1 / (e^eps + 1)``.

References
----------
.. [YGFJ18] Yeom, S., Giacomelli, I., Fredrikson, M., Jha, S. "Privacy risk in machine
   learning: analyzing the connection to overfitting." IEEE CSF 2018.
.. [KOV15] Kairouz, P., Oh, S., Viswanath, P. "The composition theorem for differential
   privacy." ICML 2015.
.. [WZ10] Wasserman, L., Zhou, S. "A statistical framework for differential privacy."
   JASA 105 (2010).

>>> import numpy as np
>>> r = loss_threshold_attack(np.array([0.1, 0.2, 0.9]), np.array([0.5, 0.8, 1.2]))
>>> round(r.threshold, 2), round(r.tpr, 3), round(r.fpr, 3), round(r.advantage, 3)
(0.4, 0.667, 0.0, 0.667)
>>> round(dp_advantage_bound(1.0), 4), round(yeom_advantage_bound(1.0), 4)
(0.4621, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.dp_sampling import RandomSource, resolve_source
from core.errors import InvalidParameterError
from core.models.dp_logistic import (
    DP_REGULARIZATION,
    clip_rows,
    dp_logistic_proba,
    dp_logistic_regression,
)
from core.models.evaluate import accuracy, auc, log_loss, majority_baseline
from core.models.features import design, fit_features, targets
from core.models.linear import fit_logistic, predict_proba
from core.models.mlp import fit_mlp, mlp_proba

__all__ = [
    "MODELS",
    "AttackResult",
    "MembershipReport",
    "best_threshold_attack",
    "dp_advantage_bound",
    "loss_threshold_attack",
    "mean_interval",
    "membership_risk",
    "yeom_advantage_bound",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackResult:
    """One loss-threshold attack: member iff ``loss <= threshold``."""

    threshold: float
    tpr: float
    fpr: float
    advantage: float


def _losses(member: np.ndarray, nonmember: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    m = np.asarray(member, dtype=np.float64).ravel()
    o = np.asarray(nonmember, dtype=np.float64).ravel()
    if m.size == 0 or o.size == 0:
        raise InvalidParameterError(
            f"The attack needs members and non-members; got {m.size} and {o.size}."
        )
    if not (np.isfinite(m).all() and np.isfinite(o).all()):
        raise InvalidParameterError("Losses must be finite numbers.")
    return m, o


def loss_threshold_attack(
    member_losses: np.ndarray, nonmember_losses: np.ndarray, *, threshold: float | None = None
) -> AttackResult:
    """Advantage of "member iff loss <= threshold"; default threshold = mean member loss."""
    m, o = _losses(member_losses, nonmember_losses)
    tau = float(m.mean()) if threshold is None else float(threshold)
    tpr = float(np.mean(m <= tau))
    fpr = float(np.mean(o <= tau))
    return AttackResult(threshold=tau, tpr=tpr, fpr=fpr, advantage=tpr - fpr)


def best_threshold_attack(member_losses: np.ndarray, nonmember_losses: np.ndarray) -> AttackResult:
    """The loss threshold with the largest ``TPR - FPR`` (at least 0: ``tau`` below all).

    Candidates are every distinct loss; ``O((m + o) log(m + o))``.
    """
    m, o = _losses(member_losses, nonmember_losses)
    cand = np.unique(np.concatenate([m, o]))
    tpr = np.searchsorted(np.sort(m), cand, side="right") / m.size
    fpr = np.searchsorted(np.sort(o), cand, side="right") / o.size
    adv = tpr - fpr
    i = int(np.argmax(adv))
    if adv[i] <= 0:
        return AttackResult(threshold=-math.inf, tpr=0.0, fpr=0.0, advantage=0.0)
    return AttackResult(
        threshold=float(cand[i]), tpr=float(tpr[i]), fpr=float(fpr[i]), advantage=float(adv[i])
    )


def _check_eps(epsilon: float) -> float:
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon >= 0):
        raise InvalidParameterError(f"epsilon must be a finite number >= 0; got {epsilon!r}.")
    return float(epsilon)


def yeom_advantage_bound(epsilon: float) -> float:
    """``min(1, e^eps - 1)``: Theorem 1 of [YGFJ18]_ (an advantage is at most 1)."""
    return min(1.0, math.expm1(_check_eps(epsilon)))


def dp_advantage_bound(epsilon: float) -> float:
    """``(e^eps - 1) / (e^eps + 1)``: the largest ``TPR - FPR`` any test has under eps-DP."""
    return math.tanh(_check_eps(epsilon) / 2)


def mean_interval(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t confidence interval ``mean -+ t_{(1+c)/2, r-1} s / sqrt(r)``."""
    v = np.asarray(values, dtype=np.float64)
    if v.size < 2 or not 0 < confidence < 1:
        raise InvalidParameterError(
            f"A confidence interval needs at least 2 values and a level in (0, 1); got "
            f"{v.size} value(s)."
        )
    mean = float(v.mean())
    half = float(stats.t.ppf((1 + confidence) / 2, v.size - 1) * v.std(ddof=1) / math.sqrt(v.size))
    return mean, mean - half, mean + half


@dataclass(frozen=True, slots=True, kw_only=True)
class MembershipReport:
    """Utility and membership advantage over repeated splits (means and intervals).

    ``advantage`` uses the paper's threshold (mean training loss), ``best_advantage`` the
    best threshold. ``*_ci`` are ``(low, high)`` at ``confidence``. With ``epsilon`` set
    the classifier is DP (objective perturbation) and ``bound`` is
    :func:`dp_advantage_bound`; ``epsilon_spent = repeats * epsilon`` is what releasing all
    the repeats' models would cost. The utility and advantage figures are evaluations on
    the data, not DP releases.
    """

    repeats: int
    n_train: int
    n_test: int
    accuracy: float
    accuracy_ci: tuple[float, float]
    auc: float
    baseline: float
    train_accuracy: float
    advantage: float
    advantage_ci: tuple[float, float]
    best_advantage: float
    best_advantage_ci: tuple[float, float]
    advantages: tuple[float, ...]
    confidence: float
    epsilon: float | None
    bound: float | None
    epsilon_spent: float
    warnings: tuple[str, ...] = ()
    model: str = "logistic"


#: The classifiers :func:`membership_risk` trains.
MODELS = ("logistic", "mlp")


def _check_settings(repeats: int, train_fraction: float, confidence: float) -> None:
    if not isinstance(repeats, int) or not 2 <= repeats <= 100:
        raise InvalidParameterError(f"repeats must be an integer in [2, 100]; got {repeats!r}.")
    if not 0.1 <= train_fraction <= 0.9:
        raise InvalidParameterError(
            f"train_fraction must be in [0.1, 0.9]; got {train_fraction!r}."
        )
    if not 0.5 <= confidence < 1:
        raise InvalidParameterError(f"confidence must be in [0.5, 1); got {confidence!r}.")


def membership_risk(
    df: pd.DataFrame,
    target: str,
    *,
    repeats: int = 5,
    train_fraction: float = 0.5,
    l2: float = 1e-3,
    epsilon: float | None = None,
    regularization: float = DP_REGULARIZATION,
    seed: int = 0,
    source: RandomSource | np.random.Generator | int | None = None,
    confidence: float = 0.95,
    model: str = "logistic",
) -> MembershipReport:
    """Train a classifier on repeated splits and attack it (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        The table (original or hardened).
    target : str
        Binary target column (e.g. ``"income"``).
    repeats : int, default 5
        Random splits, 2 to 100.
    train_fraction : float, default 0.5
        Share of the rows in the training half (members), 0.1 to 0.9.
    l2 : float, default 1e-3
        Ridge strength of the non-private logistic regression.
    epsilon : float, optional
        Train with objective-perturbation DP at this epsilon (rows clipped to norm 1 with a
        constant intercept feature).
    regularization : float, default :data:`core.models.DP_REGULARIZATION`
        With ``epsilon``: the public strength ``Lambda`` of the DP model's unnormalized
        objective (:func:`core.models.dp_logistic_regression`), in place of ``l2``.
    seed : int, default 0
        Seed of the splits (which rows are members); never used for privacy noise.
    source : optional
        Noise source of the DP variant; ``None`` is the CSPRNG.
    confidence : float, default 0.95
    model : {"logistic", "mlp"}, default "logistic"
        L2 logistic regression (:func:`core.models.fit_logistic`) or the one-hidden-layer
        perceptron (:func:`core.models.fit_mlp`, its defaults, seeded by ``seed`` and the
        repeat). DP training (``epsilon``) is for logistic regression only.

    Returns
    -------
    MembershipReport

    Raises
    ------
    ColumnError
        The target is not a column.
    InvalidParameterError
        The target is not binary, a split lacks a class, or a setting is out of range.
    """
    _check_settings(repeats, train_fraction, confidence)
    if model not in MODELS:
        raise InvalidParameterError(
            f"model must be one of {', '.join(MODELS)}; got {str(model)[:40]!r}."
        )
    if model != "logistic" and epsilon is not None:
        raise InvalidParameterError(
            "DP training (epsilon) is available for logistic regression only; pick "
            "model='logistic' or leave epsilon out."
        )
    base = fit_features(df, target)  # checks the target; fixes the positive label
    y_all = targets(base, df)
    rows = np.flatnonzero(y_all >= 0)
    n_train = int(round(train_fraction * rows.size))
    if n_train < 2 or rows.size - n_train < 2:
        raise InvalidParameterError(
            f"Too few rows with a target ({rows.size}) to split into members and non-members."
        )
    rng = np.random.default_rng(seed)
    src = resolve_source(source)  # one stream for every repeat: a seed must not restart it
    res: dict[str, list[float]] = {k: [] for k in ("acc", "auc", "base", "tacc", "adv", "best")}
    for repeat in range(repeats):
        perm = rng.permutation(rows)
        tr, te = np.sort(perm[:n_train]), np.sort(perm[n_train:])
        train, test = df.iloc[tr], df.iloc[te]
        spec = fit_features(train, target, positive=base.labels[1])
        Xtr, Xte = design(spec, train), design(spec, test)
        ytr, yte = y_all[tr], y_all[te]
        if ytr.min() == ytr.max() or yte.min() == yte.max():
            raise InvalidParameterError(
                "A split has only one target class; use more rows or a more balanced target."
            )
        if model == "mlp":
            net = fit_mlp(Xtr, ytr, seed=seed + repeat)
            ptr, pte = mlp_proba(net, Xtr), mlp_proba(net, Xte)
        elif epsilon is None:
            fitted = fit_logistic(Xtr, ytr, l2=l2)
            ptr, pte = predict_proba(fitted, Xtr), predict_proba(fitted, Xte)
        else:
            Ctr = clip_rows(Xtr, intercept_feature=1.0)
            Cte = clip_rows(Xte, intercept_feature=1.0)
            dpm = dp_logistic_regression(
                Ctr, ytr, epsilon=epsilon, regularization=regularization, source=src
            )
            ptr, pte = dp_logistic_proba(dpm, Ctr), dp_logistic_proba(dpm, Cte)
        ltr, lte = log_loss(ytr, ptr), log_loss(yte, pte)
        res["acc"].append(accuracy(yte, pte))
        res["auc"].append(auc(yte, pte))
        res["base"].append(majority_baseline(ytr, yte))
        res["tacc"].append(accuracy(ytr, ptr))
        res["adv"].append(loss_threshold_attack(ltr, lte).advantage)
        res["best"].append(best_threshold_attack(ltr, lte).advantage)
    acc, acc_lo, acc_hi = mean_interval(np.array(res["acc"]), confidence=confidence)
    adv, adv_lo, adv_hi = mean_interval(np.array(res["adv"]), confidence=confidence)
    best, best_lo, best_hi = mean_interval(np.array(res["best"]), confidence=confidence)
    warnings = list(base.warnings)
    if epsilon is not None:
        warnings.append(
            "The feature encoding (category lists, means, standard deviations) is taken from "
            "the training rows and is not covered by epsilon."
        )
    return MembershipReport(
        repeats=repeats,
        n_train=n_train,
        n_test=int(rows.size - n_train),
        accuracy=acc,
        accuracy_ci=(acc_lo, acc_hi),
        auc=float(np.mean(res["auc"])),
        baseline=float(np.mean(res["base"])),
        train_accuracy=float(np.mean(res["tacc"])),
        advantage=adv,
        advantage_ci=(adv_lo, adv_hi),
        best_advantage=best,
        best_advantage_ci=(best_lo, best_hi),
        advantages=tuple(res["adv"]),
        confidence=confidence,
        epsilon=None if epsilon is None else float(epsilon),
        bound=None if epsilon is None else dp_advantage_bound(epsilon),
        epsilon_spent=0.0 if epsilon is None else repeats * float(epsilon),
        warnings=tuple(warnings),
        model=model,
    )
