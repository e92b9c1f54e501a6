"""Utility of a binary classifier: accuracy, AUC, majority baseline and per-record loss.

>>> import numpy as np
>>> auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
0.75
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from core.errors import InvalidParameterError

__all__ = ["accuracy", "auc", "log_loss", "majority_baseline"]

_EPS = 1e-15


def _labels(y: np.ndarray, n: int | None = None) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not np.isin(y, (0, 1)).all() or (n is not None and y.size != n):
        raise InvalidParameterError(
            f"Labels must be a 1-D array of 0/1 matching the scores; got shape {y.shape}."
        )
    return y.astype(np.int64)


def accuracy(y: np.ndarray, proba: np.ndarray, *, threshold: float = 0.5) -> float:
    """Share of rows where ``proba >= threshold`` equals the label ``y``."""
    p = np.asarray(proba, dtype=np.float64)
    y = _labels(y, p.size)
    if y.size == 0:
        raise InvalidParameterError("Accuracy needs at least 1 row; got 0.")
    return float(np.mean((p >= threshold).astype(np.int64) == y))


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve, ties counted one half.

    Notes
    -----
    ``AUC = (R_1 - n_1 (n_1 + 1) / 2) / (n_1 n_0)`` with ``R_1`` the sum of the average
    ranks of the positive rows: the Mann-Whitney ``U`` statistic of positives against
    negatives divided by ``n_1 n_0`` [MW47]_.

    References
    ----------
    .. [MW47] Mann, H. B., Whitney, D. R. "On a test of whether one of two random variables
       is stochastically larger than the other." Ann. Math. Statist. 18(1), 1947.
    """
    s = np.asarray(score, dtype=np.float64)
    y = _labels(y, s.size)
    n1 = int(y.sum())
    n0 = y.size - n1
    if n1 == 0 or n0 == 0:
        raise InvalidParameterError(
            f"AUC needs both classes; got {n1} positive and {n0} negative row(s)."
        )
    r1 = float(rankdata(s)[y == 1].sum())
    return (r1 - n1 * (n1 + 1) / 2) / (n1 * n0)


def majority_baseline(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Test accuracy of always predicting the training set's most frequent class."""
    tr = _labels(y_train)
    te = _labels(y_test)
    if tr.size == 0 or te.size == 0:
        raise InvalidParameterError("The majority baseline needs training and test rows; got 0.")
    majority = int(tr.mean() > 0.5)
    return float(np.mean(te == majority))


def log_loss(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """Per-record cross-entropy ``-log p(y_i | x_i)``, probabilities clipped to [1e-15, 1)."""
    p = np.clip(np.asarray(proba, dtype=np.float64), _EPS, 1 - _EPS)
    y = _labels(y, p.size)
    return np.where(y == 1, -np.log(p), -np.log1p(-p))
