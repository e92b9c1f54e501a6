"""Differentially private logistic regression (Chaudhuri, Monteleoni & Sarwate, 2011).

Both algorithms of [CMS11]_, stated for the **unnormalized** objective of [KST12]_ ::

    J(f; D) = sum_i l(y_i f.x_i) + (Lambda / 2) ||f||^2,
    l(z) = log(1 + exp(-z)),  y_i in {-1, +1},  ||x_i|| <= 1

with a **public** regularization strength ``Lambda > 0``: a setting chosen without looking at
the data (default :data:`DP_REGULARIZATION`), never computed from it.

* **Output perturbation** (their Algorithm 1): ``f* = argmin J``, release ``f* + b``.
* **Objective perturbation** (their Algorithm 2): release
  ``argmin J(f; D) + b.f + (Delta / 2) ||f||^2``.

Here ``b`` has density proportional to ``exp(-beta ||b||)``: its norm is Gamma(d, 1/beta)
and its direction uniform on the sphere (drawn by :func:`l2_laplace_noise`). ``beta`` and
``Delta`` depend on epsilon, ``Lambda`` and ``c`` only; ``d`` (the number of features, fixed
by the public encoding) is the dimension of ``b``. **The number of rows n enters no noise
parameter**: under the add/remove relation of the project's ledger (:mod:`core.dp`) n is
private, and a release whose noise were calibrated from it (as with the normalized objective
``(1/n) sum l + (L/2)||f||^2`` of [CMS11]_, where ``beta = n L epsilon / 2``) would depend on
data-derived structure epsilon does not cover. The one remaining use of n is numerical: the
solver minimizes ``J / n``, which has the same minimizer and a gradient of moderate size.

Conditions, made explicit and checked
-------------------------------------
* Every row of ``X`` has Euclidean norm ``<= 1`` (:func:`clip_rows` scales a row down to the
  unit ball; that is a per-record map, so it costs no privacy). An intercept is a constant
  feature appended *before* clipping (``intercept_feature``), so it is regularized like the
  rest; there is no free intercept (it would break the sensitivity bound).
* The regularizer ``||f||^2 / 2`` is 1-strongly convex and twice differentiable, and
  ``Lambda > 0``. (An L1 penalty would not satisfy the theorems.)
* The logistic loss is convex, twice differentiable, ``|l'| <= 1`` and ``0 <= l'' <= c = 1/4``.

Parameters, and why they hold for both neighbouring relations
-------------------------------------------------------------
Let ``D'`` be ``D`` with one record *substituted* (as in [CMS11]_) or *added or removed*
(the ledger's relation). The gradient of the loss of one record is ``l'(y f.x) y x``, of norm
``<= |l'| ||x|| <= 1``; so the gradient of ``sum_i l`` changes by at most **2** under
substitution (one term out, one in) and at most **1** under add/remove (one term).

*Output perturbation.* ``J(.; D)`` and ``J(.; D')`` are both ``Lambda``-strongly convex and
differ by ``g`` (the changed loss terms). By Lemma 7 of [CMS11]_ their minimizers are at most
``max ||grad g|| / Lambda`` apart: an L2 sensitivity of ``2 / Lambda`` (substitution) or
``1 / Lambda`` (add/remove) (their Corollary 8 with ``n L`` replaced by ``Lambda``). The
densities of ``f* + b`` at any point then differ by a factor ``<= exp(beta * sensitivity)``.
We take ``beta = epsilon Lambda / 2``: epsilon-DP under substitution, and (epsilon/2)-DP under
add/remove.

*Objective perturbation.* Let ``Lambda' = Lambda + Delta``. For a released ``f`` the noise
that produces it is unique, ``b(f; D) = -sum_i l'(y_i f.x_i) y_i x_i - Lambda' f``, and the
map ``b -> f`` is a bijection whose inverse has Jacobian ``-(H(f; D) + Lambda' I)`` with
``H = sum_i l''(.) x_i x_i^T``. The density of the release at ``f`` is therefore
``nu(b(f; D)) |det(H(f; D) + Lambda' I)|`` ([CMS11]_, proof of Theorem 9). For neighbours:

- ``b(f; D) - b(f; D')`` is the change of the summed gradient: the ``nu`` factors differ by
  at most ``exp(2 beta)`` (substitution) or ``exp(beta)`` (add/remove);
- the Hessians differ by the changed records' rank-one terms ``l'' x x^T`` (eigenvalue in
  ``[0, c]``). With ``M`` the common part plus ``Lambda' I`` (eigenvalues ``>= Lambda'``), the
  matrix determinant lemma gives ``det(M + l'' x x^T) / det(M) = 1 + l'' x^T M^-1 x``, in
  ``[1, 1 + c / Lambda']``: a determinant ratio ``<= 1 + c / Lambda'`` under add/remove.
  Under substitution [CMS11]_ bound it by ``(1 + c / Lambda')^2`` (Theorem 9 with ``n L``
  replaced by ``Lambda``; [KST12]_ state it unnormalized).

Algorithm 2 of [CMS11]_, unnormalized: ``epsilon' = epsilon - 2 log(1 + c / Lambda)``; if
``epsilon' > 0`` then ``Delta = 0``, else ``Delta = c / (e^{epsilon/4} - 1) - Lambda`` and
``epsilon' = epsilon / 2``; ``beta = epsilon' / 2``. Under substitution the privacy loss is
at most ``2 beta + 2 log(1 + c / Lambda') <= epsilon`` (in the second case
``2 log(1 + c / Lambda') = epsilon / 2``). Under add/remove it is at most
``beta + log(1 + c / Lambda') <= epsilon / 2``.

**Which parameters:** the substitution ones above, for both methods. They are valid under
both relations: epsilon-DP under substitution and (epsilon/2)-DP under add/remove, so charging
epsilon to the add/remove ledger is conservative (tighter add/remove parameters would need
about half the noise; they are not used, so the release is epsilon-DP whichever relation a
reader assumes). These are also diffprivlib's parameters (its ``Vector`` mechanism with
``alpha = 1 / C = Lambda``), which the test suite compares against.

The guarantee is for the exact minimizer; L-BFGS stops at a gradient norm below 1e-10 (of
``J / n``), a numerical gap the paper's analysis does not cover (nor does any implementation).
The feature encoding must be fixed in advance: category lists and standardization taken from
the same data are *not* covered by epsilon (:func:`core.models.public_design` is public).

Noise comes from :mod:`core.dp_sampling`: the operating system's CSPRNG by default; a seed
(``source=7``) is for tests and simulations only and the result says ``secure=False``.

References
----------
.. [CMS11] Chaudhuri, K., Monteleoni, C., Sarwate, A. D. "Differentially private empirical
   risk minimization." JMLR 12 (2011), 1069-1109.
.. [KST12] Kifer, D., Smith, A., Thakurta, A. "Private convex empirical risk minimization and
   high-dimensional regression." COLT 2012, JMLR W&CP 23, 25.1-25.40.

>>> import numpy as np
>>> X = clip_rows(np.array([[0.5, 1.0], [-0.5, 1.0], [0.9, 0.2], [-0.9, 0.2]]))
>>> m = dp_logistic_regression(X, np.array([1, 0, 1, 0]), epsilon=1.0, regularization=1.0,
...                            source=3)
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

from core import limits
from core.dp_sampling import RandomSource, resolve_source, uniform
from core.errors import InvalidParameterError
from core.models.linear import check_xy

__all__ = [
    "DP_REGULARIZATION",
    "LOGISTIC_C",
    "REGULARIZATION_MAX",
    "REGULARIZATION_MIN",
    "DPLogisticModel",
    "clip_rows",
    "dp_logistic_proba",
    "dp_logistic_regression",
    "l2_laplace_noise",
    "objective_perturbation_params",
    "output_perturbation_rate",
]

#: Bound on the second derivative of the logistic loss, ``c`` in [CMS11]_.
LOGISTIC_C = 0.25
#: Default public regularization strength ``Lambda`` of the unnormalized objective
#: (:data:`core.limits.MODEL_REGULARIZATION_DEFAULT`). A constant, never read from the data: it
#: trades the noise's pull on the weights (about ``||b|| / Lambda``) against shrinkage
#: (``Lambda / n`` on the normalized scale). 30 leaves ``2 log(1 + c / Lambda) < 0.017`` of
#: epsilon as the slack of objective perturbation, and on the public Adult sample (16,000 to
#: 32,000 training rows) it is the ridge the normalized model used there (``n L`` of 16 to 32).
DP_REGULARIZATION = limits.MODEL_REGULARIZATION_DEFAULT
#: Range of ``Lambda`` the Model page offers and :func:`dp_logistic_regression` accepts.
REGULARIZATION_MIN = limits.MODEL_REGULARIZATION_MIN
REGULARIZATION_MAX = limits.MODEL_REGULARIZATION_MAX
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
    regularization : float
        The public regularization strength ``Lambda`` of the unnormalized objective.
    extra_regularization : float
        ``Delta`` of Algorithm 2 (0 for output perturbation).
    beta : float
        Rate of the noise density ``exp(-beta ||b||)``; a function of epsilon and ``Lambda``
        only, never of the number of rows.
    secure : bool
        True when the noise came from the CSPRNG.
    """

    weights: np.ndarray
    epsilon_spent: float
    method: str
    regularization: float
    extra_regularization: float
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
    *, epsilon: float, regularization: float, c: float = LOGISTIC_C
) -> tuple[float, float]:
    """``(beta, Delta)`` of Algorithm 2 in [CMS11]_, unnormalized (see the module docstring).

    ``epsilon' = epsilon - 2 log(1 + c / Lambda)``; if ``epsilon' > 0`` then ``Delta = 0``,
    else ``Delta = c / (e^{epsilon/4} - 1) - Lambda`` and ``epsilon' = epsilon / 2``;
    ``beta = epsilon' / 2``. No argument is derived from the data.

    >>> beta, extra = objective_perturbation_params(epsilon=1.0, regularization=10.0)
    >>> round(beta, 4), extra
    (0.4753, 0.0)
    """
    eps_prime = epsilon - 2 * math.log1p(c / regularization)
    extra = 0.0
    if eps_prime <= 0:
        extra = c / math.expm1(epsilon / 4) - regularization
        eps_prime = epsilon / 2
    return eps_prime / 2, extra


def output_perturbation_rate(*, epsilon: float, regularization: float) -> float:
    """``beta = epsilon Lambda / 2`` of Algorithm 1 in [CMS11]_, unnormalized.

    The minimizer's L2 sensitivity is ``2 / Lambda`` under substitution (``1 / Lambda`` under
    add/remove); see the module docstring.

    >>> output_perturbation_rate(epsilon=1.0, regularization=10.0)
    5.0
    """
    return epsilon * regularization / 2


def _fit(
    X: np.ndarray | sparse.csr_array,
    s: np.ndarray,
    regularization: float,
    linear: np.ndarray | None,
) -> np.ndarray:
    """``argmin sum_i l(s_i f.x_i) + (regularization / 2)||f||^2 + linear.f``.

    The solver sees the objective divided by ``n`` (same minimizer, a gradient of moderate
    size whatever the row count); no noise parameter depends on ``n``.
    """
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
        value = (-float(np.sum(log_expit(z))) + 0.5 * regularization * float(w @ w)) / n
        grad = (A.T @ (-s * expit(-z)) + regularization * w) / n
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
    X: np.ndarray | sparse.csr_array,
    y: np.ndarray,
    epsilon: float,
    regularization: float,
    method: str,
) -> None:
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and 0 < epsilon <= 100):
        raise InvalidParameterError(
            f"epsilon must be in (0, 100]; got {epsilon!r}. Pick a positive value "
            "(smaller = more private)."
        )
    ok = isinstance(regularization, (int, float)) and not isinstance(regularization, bool)
    if not (ok and REGULARIZATION_MIN <= regularization <= REGULARIZATION_MAX):
        raise InvalidParameterError(
            f"regularization must be in [{REGULARIZATION_MIN:g}, {REGULARIZATION_MAX:g}] for a "
            f"private model (the theorems need a strongly convex regularizer); got "
            f"{regularization!r}. Pick it without looking at the data, e.g. the default "
            f"{DP_REGULARIZATION:g}."
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
    regularization: float = DP_REGULARIZATION,
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
        Privacy parameter, in (0, 100]: epsilon-DP under substitution of one record, and
        (epsilon/2)-DP under adding or removing one (see the module docstring).
    regularization : float, default :data:`DP_REGULARIZATION`
        The public strength ``Lambda`` of the unnormalized objective, in
        [:data:`REGULARIZATION_MIN`, :data:`REGULARIZATION_MAX`]. Choose it without looking
        at the data: the guarantee needs it fixed in advance.
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
        epsilon, regularization or method out of range, rows of norm above 1, bad labels.

    Notes
    -----
    The noise parameters (``beta``, ``Delta``) are functions of ``epsilon`` and
    ``regularization`` only: the same for a table of ``n`` rows and one of ``n + 1``.
    """
    X, yf = _check_sparse(X, y) if sparse.issparse(X) else check_xy(X, y)
    _check(X, yf, epsilon, regularization, method)
    src = resolve_source(source)
    d = X.shape[1]
    s = 2.0 * yf - 1.0
    lam = float(regularization)
    if method == "output":
        beta = output_perturbation_rate(epsilon=epsilon, regularization=lam)
        w = _fit(X, s, lam, None) + l2_laplace_noise(d, beta=beta, source=src)
        extra = 0.0
    else:
        beta, extra = objective_perturbation_params(epsilon=epsilon, regularization=lam)
        b = l2_laplace_noise(d, beta=beta, source=src)
        w = _fit(X, s, lam + extra, b)
    return DPLogisticModel(
        weights=w,
        epsilon_spent=float(epsilon),
        method=method,
        regularization=lam,
        extra_regularization=float(extra),
        beta=float(beta),
        secure=bool(src.secure),
    )


def dp_logistic_proba(model: DPLogisticModel, X: np.ndarray | sparse.csr_array) -> np.ndarray:
    """``P(y = 1 | x)`` for every row of ``X`` (rows prepared as for fitting)."""
    A = X if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    return np.asarray(expit(A @ model.weights))
