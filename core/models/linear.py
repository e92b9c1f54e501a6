"""L2-regularized logistic regression, fitted deterministically with SciPy's L-BFGS.

Objective (mean log-loss plus a ridge penalty; the intercept is not penalized)::

    J(w, b) = (1/n) sum_i log(1 + exp(-s_i (w.x_i + b))) + (l2 / 2) ||w||^2,  s_i = 2 y_i - 1

L-BFGS starts from zero with the analytic gradient, so the same data give the same model.

>>> import numpy as np
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> m = fit_logistic(X, y, l2=0.1)
>>> predict_proba(m, X).round(2).tolist()
[0.09, 0.32, 0.68, 0.91]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from core.errors import InvalidParameterError

__all__ = [
    "LogisticModel",
    "check_xy",
    "fit_logistic",
    "logistic_objective",
    "predict_proba",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class LogisticModel:
    """A fitted logistic regression: ``P(y=1|x) = sigmoid(x.weights + intercept)``."""

    weights: np.ndarray
    intercept: float
    l2: float
    converged: bool
    iterations: int


def check_xy(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate a design matrix and 0/1 labels; return them as float64 arrays."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0]:
        raise InvalidParameterError(
            f"Features must be a 2-D matrix with one label per row; got shapes {X.shape} and "
            f"{y.shape}. Pass matching rows."
        )
    if X.shape[0] < 2:
        raise InvalidParameterError(
            f"At least 2 rows are needed to fit a model; got {X.shape[0]}. Use more rows."
        )
    if not np.isfinite(X).all():
        raise InvalidParameterError(
            f"The feature matrix has {int((~np.isfinite(X)).sum()):,} non-finite entries. "
            "Encode the table with core.models.design."
        )
    if not np.isin(y, (0, 1)).all():
        raise InvalidParameterError(
            f"Labels must be 0 or 1; {int((~np.isin(y, (0, 1))).sum()):,} are not. "
            "Drop rows with a missing target first."
        )
    return X, y.astype(np.float64)


def logistic_objective(
    theta: np.ndarray, X: np.ndarray | sparse.csr_array, y: np.ndarray, l2: float
) -> tuple[float, np.ndarray]:
    """Value and gradient of ``J`` at ``theta = (w, b)`` (the module's objective).

    ``X`` may be a dense array or a SciPy CSR array.
    """
    w, b = theta[:-1], theta[-1]
    z = X @ w + b
    s = 2.0 * y - 1.0
    n = X.shape[0]
    value = -float(np.sum(log_expit(s * z))) / n + 0.5 * l2 * float(w @ w)
    r = (expit(z) - y) / n
    grad = np.empty_like(theta)
    grad[:-1] = X.T @ r + l2 * w
    grad[-1] = float(r.sum())
    return value, grad


def fit_logistic(
    X: np.ndarray, y: np.ndarray, *, l2: float = 1e-3, max_iter: int = 500, tol: float = 1e-7
) -> LogisticModel:
    """Fit the L2-regularized logistic regression of the module docstring.

    Parameters
    ----------
    X : numpy.ndarray
        ``n x d`` design matrix.
    y : numpy.ndarray
        ``n`` labels in {0, 1}.
    l2 : float, default 1e-3
        Ridge strength, ``>= 0`` (0 may not converge on separable data).
    max_iter : int, default 500
        L-BFGS iteration cap.
    tol : float, default 1e-7
        Stop when every gradient component is below this (``gtol`` of L-BFGS-B).

    Returns
    -------
    LogisticModel

    Raises
    ------
    InvalidParameterError
        Shapes that do not match, non-finite features, labels other than 0/1, or ``l2 < 0``.
    """
    if not (isinstance(l2, (int, float)) and np.isfinite(l2) and l2 >= 0):
        raise InvalidParameterError(f"l2 must be a finite number >= 0; got {l2!r}.")
    X, yf = check_xy(X, y)
    theta0 = np.zeros(X.shape[1] + 1)
    # One-hot designs are mostly zeros: a sparse copy makes each gradient ~10x cheaper.
    A = sparse.csr_array(X) if np.count_nonzero(X) < 0.3 * X.size else X
    res = minimize(
        logistic_objective,
        theta0,
        args=(A, yf, float(l2)),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15},
    )
    return LogisticModel(
        weights=res.x[:-1].copy(),
        intercept=float(res.x[-1]),
        l2=float(l2),
        converged=bool(res.success),
        iterations=int(res.nit),
    )


def predict_proba(model: LogisticModel, X: np.ndarray) -> np.ndarray:
    """``P(y = 1 | x)`` for every row of ``X``."""
    return np.asarray(expit(np.asarray(X, dtype=np.float64) @ model.weights + model.intercept))
