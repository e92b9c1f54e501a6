"""DP logistic regression (Chaudhuri, Monteleoni & Sarwate, JMLR 2011): noise, privacy, utility."""

import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit

from core.dp_sampling import NumpyRandom
from core.errors import InvalidParameterError
from core.models import (
    accuracy,
    clip_rows,
    dp_logistic_proba,
    dp_logistic_regression,
    fit_logistic,
    l2_laplace_noise,
    objective_perturbation_params,
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


def test_objective_perturbation_parameters_by_hand():
    # Large n: epsilon' = eps - log(1 + 2c/(n L) + c^2/(n^2 L^2)) > 0, no extra ridge.
    beta, extra = objective_perturbation_params(epsilon=1.0, l2=0.1, n=1000)
    slack = math.log(1 + 0.5 / 100 + 0.0625 / 100**2)
    assert beta == pytest.approx((1.0 - slack) / 2) and extra == 0.0
    # Tiny n L: the slack eats epsilon, so Delta = c / (n (e^{eps/4} - 1)) - L, eps' = eps/2.
    beta, extra = objective_perturbation_params(epsilon=0.5, l2=0.01, n=10)
    assert beta == pytest.approx(0.125)
    assert extra == pytest.approx(0.25 / (10 * math.expm1(0.125)) - 0.01)


def _neighbours():
    rng = np.random.default_rng(7)
    angles = rng.uniform(0, 2 * np.pi, 10)
    X = np.c_[np.cos(angles), np.sin(angles)]  # norm exactly 1, the worst case allowed
    y = (X[:, 0] > 0).astype(int)
    X2, y2 = X.copy(), y.copy()
    X2[-1], y2[-1] = [-1.0, 0.0], 1  # one record replaced: a flipped, far-away point
    X[-1], y[-1] = [1.0, 0.0], 1
    return (X, y), (X2, y2)


def _perturbed_argmin(X, y, lam, B):
    """argmin_w (1/n) sum log(1 + exp(-s_i w.x_i)) + lam/2 ||w||^2 + b.w / n, for every row
    b of B at once (vectorized Newton; written here independently of the module's L-BFGS)."""
    n = X.shape[0]
    s = 2.0 * y - 1
    W = np.zeros_like(B)
    for _ in range(60):
        m = s * (W @ X.T)
        g = -(s * expit(-m)) @ X / n + lam * W + B / n
        P = expit(m) * expit(-m)
        H = np.einsum("tn,ni,nj->tij", P, X, X) / n + lam * np.eye(X.shape[1])
        W = W - np.linalg.solve(H, g[:, :, None])[:, :, 0]
    assert np.abs(g).max() < 1e-9
    return W


def _summaries(data, method, epsilon, seed, trials, beta_factor=1.0):
    # The mechanism of the module, trial by trial: noise from its sampler and parameters,
    # argmin from the Newton solver above (test_dp_model_equals_the_mechanism ties the two).
    X, y = data
    n, lam = X.shape[0], 0.1
    src = NumpyRandom(seed)
    if method == "output":
        beta, extra = beta_factor * n * lam * epsilon / 2, 0.0
    else:
        beta, extra = objective_perturbation_params(epsilon=epsilon, l2=lam, n=n)
    B = np.array([l2_laplace_noise(2, beta=beta, source=src) for _ in range(trials)])
    if method == "output":
        W = _perturbed_argmin(X, y, lam, np.zeros((1, 2))) + B
    else:
        W = _perturbed_argmin(X, y, lam + extra, B)
    return W[:, 0]


@pytest.mark.parametrize("method", ["output", "objective"])
def test_dp_model_equals_the_mechanism_checked_below(method):
    (X, y), _ = _neighbours()
    for seed in range(3):
        got = dp_logistic_regression(X, y, epsilon=0.5, l2=0.1, method=method, source=seed)
        assert got.weights[0] == pytest.approx(
            _summaries((X, y), method, 0.5, seed, 1)[0], abs=1e-6
        )


def _worst_violation(a, b, epsilon):
    edges = np.quantile(np.concatenate([a, b]), np.linspace(0, 1, 11))
    edges[0], edges[-1] = -np.inf, np.inf
    pa = np.histogram(a, edges)[0] / a.size
    pb = np.histogram(b, edges)[0] / b.size
    return float(max((pa - math.exp(epsilon) * pb).max(), (pb - math.exp(epsilon) * pa).max()))


@pytest.mark.parametrize("method", ["output", "objective"])
@pytest.mark.parametrize("seed", [0, 1])
def test_neighbouring_tables_give_output_probabilities_within_e_to_the_epsilon(method, seed):
    # P[M(D) in S] <= e^eps P[M(D') in S] + tol for ten bins S of the first weight.
    d1, d2 = _neighbours()
    eps, trials = 0.5, 1200
    a = _summaries(d1, method, eps, seed, trials)
    b = _summaries(d2, method, eps, seed + 100, trials)
    assert _worst_violation(a, b, eps) <= 0.03


def test_the_privacy_check_catches_noise_calibrated_for_a_larger_epsilon():
    d1, d2 = _neighbours()
    eps, trials = 0.5, 1200
    a = _summaries(d1, "output", eps, 0, trials, beta_factor=8.0)  # noise 8x too small
    b = _summaries(d2, "output", eps, 100, trials, beta_factor=8.0)
    assert _worst_violation(a, b, eps) > 0.03


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
                        dp_logistic_regression(X, y, epsilon=eps, l2=0.01, method=method, source=s),
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
    m = dp_logistic_regression(X, y, epsilon=2.0, l2=0.1)
    assert m.secure and m.epsilon_spent == 2.0 and m.method == "objective"
    assert not dp_logistic_regression(X, y, epsilon=2.0, l2=0.1, source=3).secure


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilon": 0.0, "l2": 0.1}, "epsilon must"),
        ({"epsilon": 1.0, "l2": 0.0}, "l2 must be > 0"),
        ({"epsilon": 1.0, "l2": 0.1, "method": "sgd"}, "method must"),
    ],
)
def test_bad_parameters(kwargs, match):
    X, y = _separable(50)
    with pytest.raises(InvalidParameterError, match=match):
        dp_logistic_regression(X, y, **kwargs)


def test_rows_outside_the_unit_ball_are_refused():
    with pytest.raises(InvalidParameterError, match="1 row"):
        dp_logistic_regression(
            np.array([[2.0, 0.0], [0.1, 0.1]]), np.array([0, 1]), epsilon=1.0, l2=0.1
        )


def test_the_returned_epsilon_charges_a_ledger():
    from core.dp_budget import Ledger
    from core.errors import BudgetExceededError

    X, y = _separable(200)
    m = dp_logistic_regression(X, y, epsilon=0.6, l2=0.1, source=0)
    ledger = Ledger(total_epsilon=1.0).spend("DP logistic regression", epsilon=m.epsilon_spent)
    assert ledger.remaining_epsilon == pytest.approx(0.4)
    with pytest.raises(BudgetExceededError):
        ledger.spend("a second model", epsilon=m.epsilon_spent)
