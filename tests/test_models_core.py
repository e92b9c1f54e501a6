"""Logistic regression, MLP, feature encoding and utility measures of core.models."""

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.models import (
    accuracy,
    auc,
    design,
    fit_features,
    fit_logistic,
    fit_mlp,
    log_loss,
    logistic_objective,
    majority_baseline,
    mlp_proba,
    predict_proba,
    targets,
)


def _toy(n=400, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w = rng.normal(size=d)
    y = (rng.random(n) < 1 / (1 + np.exp(-(X @ w - 0.3)))).astype(int)
    return X, y


def test_logistic_gradient_is_zero_at_the_optimum():
    X, y = _toy()
    m = fit_logistic(X, y, l2=0.01, tol=1e-10)
    _, grad = logistic_objective(np.append(m.weights, m.intercept), X, y.astype(float), 0.01)
    assert np.abs(grad).max() < 1e-8
    assert m.converged


def test_logistic_matches_an_independent_minimizer_of_the_same_objective():
    X, y = _toy(seed=3)
    l2 = 0.05

    def objective(theta):  # written out again, no shared code: mean log-loss + ridge on w
        z = X @ theta[:-1] + theta[-1]
        return np.mean(np.logaddexp(0, z) - y * z) + l2 / 2 * theta[:-1] @ theta[:-1]

    ref = optimize.minimize(objective, np.zeros(X.shape[1] + 1), method="BFGS", tol=1e-10).x
    m = fit_logistic(X, y, l2=l2, tol=1e-10)
    np.testing.assert_allclose(np.append(m.weights, m.intercept), ref, atol=1e-5)


def test_logistic_is_deterministic():
    X, y = _toy(seed=5)
    a, b = fit_logistic(X, y), fit_logistic(X, y)
    assert np.array_equal(a.weights, b.weights) and a.intercept == b.intercept


@pytest.mark.parametrize("seed", range(5))
def test_auc_equals_mann_whitney_u_over_n1_n0(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    s = np.round(rng.normal(size=300) + y, 1)  # rounding makes ties
    u = stats.mannwhitneyu(s[y == 1], s[y == 0], alternative="two-sided").statistic
    assert auc(y, s) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), abs=1e-12)


def test_auc_by_brute_force_pairs():
    y = np.array([1, 0, 1, 0, 0, 1])
    s = np.array([0.9, 0.3, 0.3, 0.5, 0.1, 0.7])
    pairs = [(a, b) for a in s[y == 1] for b in s[y == 0]]
    assert auc(y, s) == pytest.approx(np.mean([(a > b) + 0.5 * (a == b) for a, b in pairs]))


def test_accuracy_baseline_and_log_loss_by_hand():
    y = np.array([1, 0, 0, 0])
    p = np.array([0.8, 0.6, 0.2, 0.5])
    assert accuracy(y, p) == 0.5  # 0.8 right, 0.6 wrong, 0.2 right, 0.5 (>= .5) wrong
    assert majority_baseline(np.array([0, 0, 1]), y) == 0.75
    np.testing.assert_allclose(log_loss(y, p), -np.log([0.8, 0.4, 0.8, 0.5]))


def test_mlp_is_deterministic_and_learns_xor():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    y = np.array([0, 1, 1, 0] * 8)
    kw = dict(hidden=8, epochs=300, batch_size=32, learning_rate=0.05, l2=0.0, seed=0)
    a, b = fit_mlp(X, y, **kw), fit_mlp(X, y, **kw)
    assert np.array_equal(a.w1, b.w1) and a.b2 == b.b2
    assert accuracy(y, mlp_proba(a, X)) == 1.0
    assert accuracy(y, predict_proba(fit_logistic(X, y), X)) < 1.0  # no linear model does


def test_features_freeze_categories_and_standardize():
    train = pd.DataFrame(
        {"n": [1.0, 2.0, 3.0, None], "c": ["a", "b", "a", None], "y": ["n", "p", "n", "p"]}
    )
    spec = fit_features(train, "y")
    X = design(spec, train)
    assert spec.feature_names == ("n", "n=<missing>", "c=a", "c=b", "c=<missing>")
    np.testing.assert_allclose(X[:3, 0].mean(), 0.0, atol=1e-12)
    assert X[3, 0] == 0.0 and X[3, 1] == 1.0
    other = pd.DataFrame({"n": [2.0], "c": ["zzz"], "y": ["p"]})  # unseen category
    assert design(spec, other)[0, 2:].tolist() == [0.0, 0.0, 0.0]
    assert targets(spec, other).tolist() == [1]


@pytest.mark.parametrize(
    ("frame", "target", "error", "match"),
    [
        # target not a column
        (pd.DataFrame({"a": [1, 2]}), "nope", ColumnError, "not in the table"),
        # three classes
        (
            pd.DataFrame({"a": [1, 2, 3], "y": ["SECRETx", "q", "r"]}),
            "y",
            InvalidParameterError,
            "exactly 2",
        ),
        # only the target
        (pd.DataFrame({"y": ["SECRETx", "q"]}), "y", InvalidParameterError, "No usable feature"),
    ],
)
def test_feature_errors_name_columns_and_counts_never_values(frame, target, error, match):
    with pytest.raises(error, match=match) as info:
        fit_features(frame, target)
    assert isinstance(info.value, PrivLensError)
    assert "SECRETx" not in str(info.value)


def test_design_on_a_table_without_a_model_column_is_a_column_error():
    spec = fit_features(pd.DataFrame({"a": [1, 2], "y": ["n", "p"]}), "y")
    with pytest.raises(ColumnError, match="'a'"):
        design(spec, pd.DataFrame({"b": [1]}))


def test_bad_labels_are_refused():
    with pytest.raises(InvalidParameterError, match="0 or 1"):
        fit_logistic(np.zeros((3, 1)), np.array([0, 1, 2]))
