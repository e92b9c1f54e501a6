"""DP logistic regression (Chaudhuri, Monteleoni & Sarwate, JMLR 2011): noise, privacy, utility.

The objective is unnormalized with a public regularization strength Lambda, so the noise
depends on epsilon and Lambda only; the statistical checks run on neighbouring tables under
both add/remove (the ledger's relation) and substitution (the paper's)."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from core.dp_sampling import NumpyRandom
from core.errors import InvalidParameterError
from core.models import (
    DP_REGULARIZATION,
    accuracy,
    clip_rows,
    dp_logistic_proba,
    dp_logistic_regression,
    fit_logistic,
    l2_laplace_noise,
    objective_perturbation_params,
    output_perturbation_rate,
    predict_proba,
)


def test_noise_norm_is_gamma_and_direction_uniform():
    src = NumpyRandom(0)
    d, beta = 4, 2.5
    b = np.array([l2_laplace_noise(d, beta=beta, source=src) for _ in range(3000)])
    norms = np.linalg.norm(b, axis=1)
    assert stats.kstest(norms, stats.gamma(d, scale=1 / beta).cdf).pvalue > 0.001
    unit = b / norms[:, None]
    assert np.abs(unit.mean(axis=0)).max() < 0.06  # E[direction] = 0; sd ~ 0.5/sqrt(3000)
    assert np.abs(unit[:, 0] ** 2 - 1 / d).mean() < 0.3  # spread over every axis


def test_noise_parameters_by_hand():
    # Unnormalized objective, Lambda = 10: eps' = eps - 2 log(1 + c / Lambda) > 0, no extra ridge.
    beta, extra = objective_perturbation_params(epsilon=1.0, regularization=10.0)
    assert beta == pytest.approx((1.0 - 2 * math.log(1 + 0.25 / 10)) / 2) and extra == 0.0
    # Small Lambda: the slack eats epsilon, so Delta = c / (e^{eps/4} - 1) - Lambda, eps' = eps/2.
    beta, extra = objective_perturbation_params(epsilon=0.5, regularization=0.1)
    assert beta == pytest.approx(0.125)
    assert extra == pytest.approx(0.25 / math.expm1(0.125) - 0.1)
    # Output perturbation: sensitivity 2 / Lambda, beta = eps Lambda / 2.
    assert output_perturbation_rate(epsilon=0.5, regularization=3.0) == pytest.approx(0.75)


def _perturbed_argmin(X, y, lam, B):
    """argmin_w sum log(1 + exp(-s_i w.x_i)) + lam/2 ||w||^2 + b.w, for every row b of B at
    once (vectorized Newton on the unnormalized objective; written here independently of the
    module's L-BFGS)."""
    s = 2.0 * y - 1
    W = np.zeros_like(B)
    for _ in range(60):
        m = s * (W @ X.T)
        g = -(s * expit(-m)) @ X + lam * W + B
        P = expit(m) * expit(-m)
        H = np.einsum("tn,ni,nj->tij", P, X, X) + lam * np.eye(X.shape[1])
        W = W - np.linalg.solve(H, g[:, :, None])[:, :, 0]
    assert np.abs(g).max() < 1e-8
    return W


def _noise_of(model, X, y):
    """The noise vector b that produced a released model, recovered from its weights.

    Output perturbation: ``w - argmin J``. Objective perturbation: the first-order condition
    of ``argmin J + b.w + Delta/2 ||w||^2`` gives ``b = sum_i s_i x_i sigmoid(-s_i w.x_i) -
    (Lambda + Delta) w``.
    """
    w, lam = model.weights, model.regularization + model.extra_regularization
    if model.method == "output":
        return w - _perturbed_argmin(X, y, lam, np.zeros((1, X.shape[1])))[0]
    s = 2.0 * y - 1
    return (s * expit(-s * (X @ w))) @ X - lam * w


@pytest.mark.parametrize("method", ["output", "objective"])
def test_the_noise_is_the_same_for_n_and_n_plus_one_rows(method):
    # Under add/remove the row count is private: the noise may depend on epsilon and the
    # public Lambda only. (The normalized objective's beta = n L eps / 2 failed this.)
    rng = np.random.default_rng(0)
    X = clip_rows(rng.normal(size=(11, 3)))
    y = (X[:, 0] > 0).astype(int)
    kw = {"epsilon": 1.0, "regularization": 3.0, "method": method, "source": 0}
    big = dp_logistic_regression(X, y, **kw)
    small = dp_logistic_regression(X[:-1], y[:-1], **kw)
    assert (big.beta, big.extra_regularization) == (small.beta, small.extra_regularization)
    # the released weights differ, the noise drawn for them does not: the same vector
    drawn = l2_laplace_noise(3, beta=big.beta, source=NumpyRandom(0))
    assert _noise_of(big, X, y) == pytest.approx(drawn, abs=1e-6)
    assert _noise_of(small, X[:-1], y[:-1]) == pytest.approx(drawn, abs=1e-6)
    assert np.abs(big.weights - small.weights).max() > 1e-3


#: Public regularization and epsilon of the statistical privacy checks.
LAMBDA, EPSILON = 3.0, 1.0


def _neighbours(relation):
    rng = np.random.default_rng(7)
    angles = rng.uniform(0, 2 * np.pi, 10)
    X = np.c_[np.cos(angles), np.sin(angles)]  # norm exactly 1, the worst case allowed
    y = (X[:, 0] > 0).astype(int)
    if relation == "add/remove":  # one table has an extra record: a flipped, far-away point
        return (X, y), (np.vstack([X, [[-1.0, 0.0]]]), np.append(y, 1))
    X2, y2 = X.copy(), y.copy()
    X2[-1], y2[-1] = [-1.0, 0.0], 1  # one record replaced: a flipped, far-away point
    X[-1], y[-1] = [1.0, 0.0], 1
    return (X, y), (X2, y2)


def _summaries(data, method, seed, trials, beta_factor=1.0):
    # The mechanism of the module, trial by trial: noise from its sampler and parameters,
    # argmin from the Newton solver above (test_dp_model_equals_the_mechanism ties the two).
    X, y = data
    src = NumpyRandom(seed)
    if method == "output":
        beta, extra = output_perturbation_rate(epsilon=EPSILON, regularization=LAMBDA), 0.0
    else:
        beta, extra = objective_perturbation_params(epsilon=EPSILON, regularization=LAMBDA)
    beta *= beta_factor
    B = np.array([l2_laplace_noise(2, beta=beta, source=src) for _ in range(trials)])
    if method == "output":
        W = _perturbed_argmin(X, y, LAMBDA, np.zeros((1, 2))) + B
    else:
        W = _perturbed_argmin(X, y, LAMBDA + extra, B)
    return W[:, 0]


@pytest.mark.parametrize("method", ["output", "objective"])
@pytest.mark.parametrize("relation", ["add/remove", "substitution"])
def test_dp_model_equals_the_mechanism_checked_below(method, relation):
    for data in _neighbours(relation):
        for seed in range(2):
            got = dp_logistic_regression(
                *data, epsilon=EPSILON, regularization=LAMBDA, method=method, source=seed
            )
            assert got.weights[0] == pytest.approx(_summaries(data, method, seed, 1)[0], abs=1e-6)


def _clopper_pearson(k, n, level):
    """Exact two-sided binomial interval for k successes in n trials (vectorized over k)."""
    tail = (1 - level) / 2
    lo = np.where(k > 0, stats.beta.ppf(tail, np.maximum(k, 1), n - k + 1), 0.0)
    hi = np.where(k < n, stats.beta.ppf(1 - tail, k + 1, np.maximum(n - k, 1)), 1.0)
    return lo, hi


def test_clopper_pearson_matches_scipy():
    for k in (0, 3, 50, 100):
        want = stats.binomtest(k, 100).proportion_ci(0.99, method="exact")
        lo, hi = _clopper_pearson(np.array([k]), 100, 0.99)
        assert (lo[0], hi[0]) == pytest.approx((want.low, want.high), abs=1e-12)


def _privacy_loss_lower_bound(a, b, alpha=1e-3):
    """A lower confidence bound on the privacy loss ``max_S |log P[a in S] / P[b in S]|``.

    Events S: ``{w > t}`` and ``{w <= t}`` for 25 thresholds t at quantiles of both samples.
    Each probability gets a Clopper-Pearson interval at level ``1 - alpha / (number of
    intervals)`` (Bonferroni): the loss of an event is at least ``log(lower / upper)``, so the
    bound exceeds the mechanism's true loss with probability at most ``alpha``.
    """
    t = np.quantile(np.concatenate([a, b]), np.linspace(0.02, 0.98, 25))
    ka = np.r_[(a[:, None] > t).sum(axis=0), (a[:, None] <= t).sum(axis=0)]
    kb = np.r_[(b[:, None] > t).sum(axis=0), (b[:, None] <= t).sum(axis=0)]
    level = 1 - alpha / (ka.size + kb.size)
    (a_lo, a_hi), (b_lo, b_hi) = (
        _clopper_pearson(ka, a.size, level),
        _clopper_pearson(kb, b.size, level),
    )
    with np.errstate(divide="ignore"):
        return float(max(np.log(a_lo / b_hi).max(), np.log(b_lo / a_hi).max()))


@pytest.mark.parametrize("method", ["output", "objective"])
@pytest.mark.parametrize(
    ("relation", "seed"),
    [
        ("add/remove", 0),  # the ledger's relation: one table has one more row
        ("add/remove", 1),
        ("substitution", 0),  # the relation of the paper: one record's values differ
    ],
)
def test_neighbouring_tables_give_release_probabilities_within_e_to_the_epsilon(
    method, relation, seed
):
    # P[M(D) in S] <= e^eps P[M(D') in S] for every event S of the first weight, up to the
    # binomial confidence margin, for 2,000 releases on each table. The parameters are the
    # substitution ones, so under add/remove the release is even (eps/2)-DP.
    d1, d2 = _neighbours(relation)
    a = _summaries(d1, method, seed, 2000)
    b = _summaries(d2, method, seed + 100, 2000)
    assert _privacy_loss_lower_bound(a, b) <= (EPSILON / 2 if relation == "add/remove" else EPSILON)


@pytest.mark.parametrize("method", ["output", "objective"])
def test_the_privacy_check_catches_noise_calibrated_for_a_larger_epsilon(method):
    d1, d2 = _neighbours("add/remove")
    a = _summaries(d1, method, 0, 2000, beta_factor=10.0)  # noise 10x too small
    b = _summaries(d2, method, 100, 2000, beta_factor=10.0)
    assert _privacy_loss_lower_bound(a, b) > EPSILON


def _separable(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X @ np.array([1.5, -1.0, 0.5, 0.0]) + 0.3 * rng.normal(size=n) > 0).astype(int)
    return clip_rows(X / 3, intercept_feature=0.5), y


@pytest.mark.parametrize("method", ["output", "objective"])
def test_accuracy_approaches_the_non_private_model_as_epsilon_grows(method):
    X, y = _separable()
    Xt, yt = _separable(seed=1)
    ref = accuracy(yt, predict_proba(fit_logistic(X, y, l2=0.01), Xt))
    acc = {
        eps: np.mean(
            [
                accuracy(
                    yt,
                    dp_logistic_proba(
                        dp_logistic_regression(
                            X, y, epsilon=eps, regularization=30.0, method=method, source=s
                        ),
                        Xt,
                    ),
                )
                for s in range(5)
            ]
        )
        for eps in (0.01, 1.0, 50.0)
    }
    assert acc[0.01] < acc[50.0]
    assert acc[50.0] > ref - 0.03
    assert acc[1.0] <= ref + 0.02


def test_secure_source_by_default_and_epsilon_returned():
    X, y = _separable(200)
    m = dp_logistic_regression(X, y, epsilon=2.0)
    assert m.secure and m.epsilon_spent == 2.0 and m.method == "objective"
    assert m.regularization == DP_REGULARIZATION == 30.0  # a public constant by default
    assert not dp_logistic_regression(X, y, epsilon=2.0, source=3).secure


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 0.0}, "epsilon must"),
        ({"epsilon": 1.0, "regularization": 0.0}, "regularization must be in"),  # not convex
        ({"epsilon": 1.0, "regularization": float("nan")}, "regularization must be in"),
        ({"epsilon": 1.0, "regularization": 1e5}, "regularization must be in"),  # past the max
        ({"epsilon": 1.0, "method": "sgd"}, "method must"),
    ],
)
def test_bad_parameters(kwargs, match):
    X, y = _separable(50)
    with pytest.raises(InvalidParameterError, match=match):
        dp_logistic_regression(X, y, **kwargs)


def test_rows_outside_the_unit_ball_are_refused():
    with pytest.raises(InvalidParameterError, match="1 row"):
        dp_logistic_regression(np.array([[2.0, 0.0], [0.1, 0.1]]), np.array([0, 1]), epsilon=1.0)


def test_the_returned_epsilon_charges_a_ledger():
    from core.dp_budget import Ledger
    from core.errors import BudgetExceededError

    X, y = _separable(200)
    m = dp_logistic_regression(X, y, epsilon=0.6, source=0)
    ledger = Ledger(total_epsilon=1.0).spend("DP logistic regression", epsilon=m.epsilon_spent)
    assert ledger.remaining_epsilon == pytest.approx(0.4)
    with pytest.raises(BudgetExceededError):
        ledger.spend("a second model", epsilon=m.epsilon_spent)
