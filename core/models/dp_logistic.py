"""Differentially private logistic regression (Chaudhuri, Monteleoni & Sarwate, 2011).

Both algorithms of [CMS11]_ for the regularized objective ::

    J(f) = (1/n) sum_i l(y_i f.x_i) + (L / 2) ||f||^2,  l(z) = log(1 + exp(-z)),  y_i in {-1, +1}

* **Output perturbation** (their Algorithm 1): ``f* = argmin J``, release ``f* + b``.
* **Objective perturbation** (their Algorithm 2): release
  ``argmin J(f) + (1/n) b.f + (D / 2) ||f||^2``.

Here ``b`` has density proportional to ``exp(-beta ||b||)``: its norm is Gamma(d, 1/beta)
and its direction uniform on the sphere (drawn by :func:`l2_laplace_noise`).

Conditions, made explicit and checked
-------------------------------------
* Every row of ``X`` has Euclidean norm ``<= 1`` (:func:`clip_rows` scales a row down to the
  unit ball; that is a per-record map, so it costs no privacy). An intercept is a constant
  feature appended *before* clipping (``intercept_feature``), so it is regularized like the
  rest; there is no free intercept (it would break the sensitivity bound).
* The regularizer ``N(f) = ||f||^2 / 2`` is 1-strongly convex and twice differentiable, and
  ``L > 0``. (An L1 penalty would not satisfy the theorems.)
* The logistic loss is convex, twice differentiable, ``|l'| <= 1`` and ``|l''| <= c = 1/4``.
* Algorithm 1: ``beta = n L epsilon / 2`` (L2 sensitivity of ``f*`` is ``2 / (n L)``,
  their Corollary 8).
* Algorithm 2: ``epsilon' = epsilon - log(1 + 2c/(n L) + c^2/(n^2 L^2))``; if
  ``epsilon' > 0`` then ``D = 0``, else ``D = c / (n (e^{epsilon/4} - 1)) - L`` and
  ``epsilon' = epsilon / 2``; ``beta = epsilon' / 2`` (their Theorem 9 and Algorithm 2).

The guarantee is epsilon-DP for the exact minimizer; L-BFGS stops at a gradient norm below
1e-10, a numerical gap the paper's analysis does not cover (nor does any implementation).
The release treats ``n`` as public (neighbouring tables differ in one record's value, as in
the paper) and the feature encoding as fixed in advance: category lists and standardization
taken from the same data are *not* covered by epsilon.

Noise comes from :mod:`core.dp_sampling`: the operating system's CSPRNG by default; a seed
(``source=7``) is for tests and simulations only and the result says ``secure=False``.

References
----------
.. [CMS11] Chaudhuri, K., Monteleoni, C., Sarwate, A. D. "Differentially private empirical
   risk minimization." JMLR 12 (2011), 1069-1109.

>>> import numpy as np
>>> X = clip_rows(np.array([[0.5, 1.0], [-0.5, 1.0], [0.9, 0.2], [-0.9, 0.2]]))
>>> m = dp_logistic_regression(X, np.array([1, 0, 1, 0]), epsilon=1.0, l2=0.1, source=3)
>>> m.epsilon_spent, m.method, m.secure
(1.0, 'objective', False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from core.dp_sampling import RandomSource, resolve_source, uniform
from core.errors import InvalidParameterError
from core.models.linear import check_xy

__all__ = [
    "LOGISTIC_C",
    "DPLogisticModel",
    "clip_rows",
    "dp_logistic_proba",
    "dp_logistic_regression",
    "l2_laplace_noise",
    "objective_perturbation_params",
]

#: Bound on the second derivative of the logistic loss, ``c`` in [CMS11]_.
LOGISTIC_C = 0.25
_NORM_SLACK = 1e-9


@dataclass(frozen=True, slots=True, kw_only=True)
class DPLogisticModel:
    """A differentially private logistic regression, ``P(y=1|x) = sigmoid(x.weights)``.

    Attributes
    ----------
    weights : numpy.ndarray
    epsilon_spent : float
        The epsilon of the release, to charge to a ledger.
    method : str
        ``"objective"`` or ``"output"``.
    l2 : float
        Regularization strength ``L``.
    extra_l2 : float
        ``D`` of Algorithm 2 (0 for output perturbation).
    beta : float
        Rate of the noise density ``exp(-beta ||b||)``.
    secure : bool
        True when the noise came from the CSPRNG.
    """

    weights: np.ndarray
    epsilon_spent: float
    method: str
    l2: float
    extra_l2: float
    beta: float
    secure: bool


def clip_rows(
    X: np.ndarray, *, norm: float = 1.0, intercept_feature: float | None = None
) -> np.ndarray:
    """Scale every row with Euclidean norm above ``norm`` down onto the ball of that radius.

    ``intercept_feature`` appends a constant column of that value first.

    >>> clip_rows(np.array([[3.0, 4.0], [0.3, 0.4]])).round(12).tolist()
    [[0.6, 0.8], [0.3, 0.4]]
    """
    X = np.asarray(X, dtype=np.float64)
    if intercept_feature is not None:
        X = np.hstack([X, np.full((X.shape[0], 1), float(intercept_feature))])
    lengths = np.linalg.norm(X, axis=1)
    scale = np.where(lengths > norm, norm / np.where(lengths > 0, lengths, 1.0), 1.0)
    return X * scale[:, None]


def l2_laplace_noise(d: int, *, beta: float, source: RandomSource) -> np.ndarray:
    """A vector ``b`` in R^d with density proportional to ``exp(-beta ||b||)``.

    Notes
    -----
    In polar form the density of ``r = ||b||`` is proportional to ``r^(d-1) exp(-beta r)``,
    a Gamma(d, 1/beta) law, drawn as ``-(1/beta) sum_{i<=d} log U_i``; the direction is
    uniform on the sphere, drawn as ``g / ||g||`` with ``g`` standard normal from the
    Box-Muller transform. Every uniform ``U`` comes from :func:`core.dp_sampling.uniform`.

    >>> from core.dp_sampling import NumpyRandom
    >>> l2_laplace_noise(3, beta=2.0, source=NumpyRandom(0)).shape
    (3,)
    """
    if not (isinstance(d, int) and d >= 1) or not (math.isfinite(beta) and beta > 0):
        raise InvalidParameterError(
            f"The noise needs a dimension >= 1 and a rate beta > 0; got {d!r} and {beta!r}."
        )
    radius = -float(np.sum(np.log(uniform(d, source=source)))) / beta
    u1, u2 = uniform(d, source=source), uniform(d, source=source)
    g = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    length = float(np.linalg.norm(g))
    while length == 0.0:  # probability 0 in exact arithmetic; redraw
        u1, u2 = uniform(d, source=source), uniform(d, source=source)
        g = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
        length = float(np.linalg.norm(g))
    return np.asarray(radius * g / length)


def objective_perturbation_params(
    *, epsilon: float, l2: float, n: int, c: float = LOGISTIC_C
) -> tuple[float, float]:
    """``(beta, D)`` of Algorithm 2 in [CMS11]_ (see the module docstring).

    >>> beta, extra = objective_perturbation_params(epsilon=1.0, l2=0.01, n=1000)
    >>> round(beta, 4), extra
    (0.4753, 0.0)
    """
    slack = math.log(1 + 2 * c / (n * l2) + c * c / (n * n * l2 * l2))
    eps_prime = epsilon - slack
    extra = 0.0
    if eps_prime <= 0:
        extra = c / (n * math.expm1(epsilon / 4)) - l2
        eps_prime = epsilon / 2
    return eps_prime / 2, extra


def _fit(
    X: np.ndarray | sparse.csr_array, s: np.ndarray, l2: float, linear: np.ndarray | None
) -> np.ndarray:
    n = X.shape[0]
    # One-hot designs are mostly zeros: a sparse copy makes each gradient several times cheaper.
    if sparse.issparse(X):
        A = X
    elif np.count_nonzero(X) < 0.3 * X.size:
        A = sparse.csr_array(X)
    else:
        A = X

    def fun(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = s * (A @ w)
        value = -float(np.sum(log_expit(z))) / n + 0.5 * l2 * float(w @ w)
        grad = A.T @ (-s * expit(-z)) / n + l2 * w
        if linear is not None:
            value += float(linear @ w) / n
            grad = grad + linear / n
        return value, grad

    res = minimize(
        fun,
        np.zeros(X.shape[1]),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 2000, "gtol": 1e-10, "ftol": 1e-15},
    )
    return np.asarray(res.x)


def _row_norms(X: np.ndarray | sparse.csr_array) -> np.ndarray:
    if isinstance(X, sparse.sparray | sparse.spmatrix):
        return np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    return np.asarray(np.linalg.norm(X, axis=1))


def _check_sparse(X: sparse.csr_array, y: np.ndarray) -> tuple[sparse.csr_array, np.ndarray]:
    """:func:`core.models.linear.check_xy` for a SciPy sparse design."""
    y = np.asarray(y)
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] < 2:
        raise InvalidParameterError(
            f"Features must be a 2-D matrix of at least 2 rows with one label per row; got "
            f"shapes {X.shape} and {y.shape}. Pass matching rows."
        )
    A = sparse.csr_array(X, dtype=np.float64)
    if not np.isfinite(A.data).all():
        raise InvalidParameterError("The feature matrix has non-finite entries.")
    if not np.isin(y, (0, 1)).all():
        raise InvalidParameterError(
            f"Labels must be 0 or 1; {int((~np.isin(y, (0, 1))).sum()):,} are not. "
            "Drop rows with a missing target first."
        )
    return A, y.astype(np.float64)


def _check(
    X: np.ndarray | sparse.csr_array, y: np.ndarray, epsilon: float, l2: float, method: str
) -> None:
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and 0 < epsilon <= 100):
        raise InvalidParameterError(
            f"epsilon must be in (0, 100]; got {epsilon!r}. Pick a positive value "
            "(smaller = more private)."
        )
    if not (isinstance(l2, (int, float)) and math.isfinite(l2) and l2 > 0):
        raise InvalidParameterError(
            f"l2 must be > 0 for a private model (the theorems need a strongly convex "
            f"regularizer); got {l2!r}."
        )
    if method not in ("objective", "output"):
        raise InvalidParameterError(f"method must be 'objective' or 'output'; got {method!r}.")
    over = int((_row_norms(X) > 1 + _NORM_SLACK).sum())
    if over:
        raise InvalidParameterError(
            f"{over:,} row(s) have a feature norm above 1, which the privacy proof forbids. "
            "Scale them with core.models.clip_rows first."
        )


def dp_logistic_regression(
    X: np.ndarray | sparse.csr_array,
    y: np.ndarray,
    *,
    epsilon: float,
    l2: float,
    method: str = "objective",
    source: RandomSource | np.random.Generator | int | None = None,
) -> DPLogisticModel:
    """Fit an epsilon-DP logistic regression by objective or output perturbation.

    Parameters
    ----------
    X : numpy.ndarray or scipy.sparse.csr_array
        ``n x d`` features, every row of norm ``<= 1`` (use :func:`clip_rows`).
    y : numpy.ndarray
        Labels in {0, 1}.
    epsilon : float
        Privacy parameter, in (0, 100].
    l2 : float
        Regularization strength ``L > 0``.
    method : {"objective", "output"}
        Algorithm 2 or Algorithm 1 of [CMS11]_.
    source : optional
        Randomness; ``None`` (default) the CSPRNG. A seed is for tests only.

    Returns
    -------
    DPLogisticModel
        With ``epsilon_spent == epsilon``, to charge to the ledger.

    Raises
    ------
    InvalidParameterError
        epsilon, l2 or method out of range, rows of norm above 1, bad labels.
    """
    X, yf = _check_sparse(X, y) if sparse.issparse(X) else check_xy(X, y)
    _check(X, yf, epsilon, l2, method)
    src = resolve_source(source)
    n, d = X.shape
    s = 2.0 * yf - 1.0
    if method == "output":
        beta = n * l2 * epsilon / 2
        w = _fit(X, s, l2, None) + l2_laplace_noise(d, beta=beta, source=src)
        extra = 0.0
    else:
        beta, extra = objective_perturbation_params(epsilon=epsilon, l2=l2, n=n)
        b = l2_laplace_noise(d, beta=beta, source=src)
        w = _fit(X, s, l2 + extra, b)
    return DPLogisticModel(
        weights=w,
        epsilon_spent=float(epsilon),
        method=method,
        l2=float(l2),
        extra_l2=float(extra),
        beta=float(beta),
        secure=bool(src.secure),
    )


def dp_logistic_proba(model: DPLogisticModel, X: np.ndarray | sparse.csr_array) -> np.ndarray:
    """``P(y = 1 | x)`` for every row of ``X`` (rows prepared as for fitting)."""
    A = X if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    return np.asarray(expit(A @ model.weights))
