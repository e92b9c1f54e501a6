"""A one-hidden-layer perceptron in NumPy, trained with Adam from a fixed seed.

``P(y=1|x) = sigmoid(relu(x W1 + b1) . w2 + b2)``, trained on the mean log-loss plus
``(l2 / 2)(||W1||^2 + ||w2||^2)``. Initialization (He-uniform), mini-batch order and
everything else random come from ``np.random.default_rng(seed)``: the same data and seed
give the same weights. (The seed drives training only; no privacy noise is drawn here.)

>>> import numpy as np
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
>>> y = np.array([0, 1, 1, 0] * 8)  # XOR: no linear model fits it
>>> m = fit_mlp(X, y, hidden=8, epochs=300, batch_size=32, learning_rate=0.05, l2=0.0, seed=0)
>>> (mlp_proba(m, X[:4]) > 0.5).astype(int).tolist()
[0, 1, 1, 0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from core.errors import InvalidParameterError
from core.models.linear import check_xy

__all__ = ["MLPModel", "fit_mlp", "mlp_proba"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MLPModel:
    """Weights of a fitted one-hidden-layer MLP (ReLU hidden layer, sigmoid output)."""

    w1: np.ndarray  # d x h
    b1: np.ndarray  # h
    w2: np.ndarray  # h
    b2: float
    epochs: int
    seed: int


def _forward(
    X: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: float
) -> tuple[np.ndarray, np.ndarray]:
    h = np.maximum(X @ w1 + b1, 0.0)
    return h, expit(h @ w2 + b2)


def mlp_proba(model: MLPModel, X: np.ndarray) -> np.ndarray:
    """``P(y = 1 | x)`` for every row of ``X``."""
    return np.asarray(
        _forward(np.asarray(X, dtype=np.float64), model.w1, model.b1, model.w2, model.b2)[1]
    )


def fit_mlp(
    X: np.ndarray,
    y: np.ndarray,
    *,
    hidden: int = 32,
    epochs: int = 10,
    batch_size: int | None = 256,
    learning_rate: float = 0.01,
    l2: float = 1e-4,
    seed: int = 0,
) -> MLPModel:
    """Train the MLP with Adam (beta1 0.9, beta2 0.999, eps 1e-8).

    Parameters
    ----------
    X, y : numpy.ndarray
        ``n x d`` features and ``n`` labels in {0, 1}.
    hidden : int, default 32
        Hidden units (1 to 4,096).
    epochs : int, default 10
        Passes over the data (1 to 10,000).
    batch_size : int or None, default 256
        Mini-batch size; ``None`` for full-batch steps. Rows are shuffled every epoch.
    learning_rate : float, default 0.01
    l2 : float, default 1e-4
        Weight decay on ``W1`` and ``w2`` (not on biases).
    seed : int, default 0

    Returns
    -------
    MLPModel

    Raises
    ------
    InvalidParameterError
        Bad shapes or labels, or a setting out of its range.
    """
    X, yf = check_xy(X, y)
    checks = {
        "hidden": isinstance(hidden, int) and 1 <= hidden <= 4096,
        "epochs": isinstance(epochs, int) and 1 <= epochs <= 10_000,
        "batch_size": batch_size is None or (isinstance(batch_size, int) and batch_size >= 1),
        "learning_rate": 0 < learning_rate < 10,
        "l2": l2 >= 0,
    }
    for name, ok in checks.items():
        if not ok:
            raise InvalidParameterError(
                f"{name} is out of range; see fit_mlp's documentation for the allowed values."
            )
    rng = np.random.default_rng(seed)
    n, d = X.shape
    lim = np.sqrt(6.0 / max(d, 1))
    params = [
        rng.uniform(-lim, lim, size=(d, hidden)),
        np.zeros(hidden),
        rng.uniform(-np.sqrt(6.0 / hidden), np.sqrt(6.0 / hidden), size=hidden),
        np.zeros(1),
    ]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    b1_, b2_, eps = 0.9, 0.999, 1e-8
    step = 0
    bs = n if batch_size is None else min(batch_size, n)
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            xb, yb = X[idx], yf[idx]
            w1, b1, w2, b2 = params
            h, p = _forward(xb, w1, b1, w2, float(b2[0]))
            r = (p - yb) / idx.size
            dh = np.outer(r, w2) * (h > 0)
            grads = [xb.T @ dh + l2 * w1, dh.sum(axis=0), h.T @ r + l2 * w2, np.array([r.sum()])]
            step += 1
            for i, g in enumerate(grads):
                m[i] = b1_ * m[i] + (1 - b1_) * g
                v[i] = b2_ * v[i] + (1 - b2_) * g * g
                mhat = m[i] / (1 - b1_**step)
                vhat = v[i] / (1 - b2_**step)
                params[i] = params[i] - learning_rate * mhat / (np.sqrt(vhat) + eps)
    w1, b1, w2, b2 = params
    return MLPModel(w1=w1, b1=b1, w2=w2, b2=float(b2[0]), epochs=epochs, seed=seed)
