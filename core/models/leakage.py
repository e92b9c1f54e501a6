"""Does a model trained on this table leak? DP training swept over epsilon, and its release.

Two things the Model page needs beyond :func:`core.models.membership_risk`:

* :func:`dp_sweep`: for each epsilon of a grid, train the epsilon-DP logistic regression
  (objective perturbation, [CMS11]_) on repeated half/half splits and measure its test
  accuracy and the loss-threshold membership advantage ([YGFJ18]_), next to the bound
  ``tanh(eps / 2)`` that epsilon implies for *any* attacker
  (:func:`core.models.dp_advantage_bound`). The figures are evaluations on the data, made
  with seeded noise: a planning simulation for the data's steward, never a release (see
  Notes of :func:`dp_sweep`).
* :func:`dp_model_release`: the model that *is* released: trained once on every row with a
  target, with noise from the operating system's CSPRNG, to be charged to the table's
  budget. Only its weights leave; they are epsilon-DP.

Both use a **public encoding** (:func:`public_design`): every feature is a token (a text
value, or for numbers the sign and quarter-octave of the value) hashed into a fixed number
of buckets with a fixed, published salt. Nothing of the encoding is read from the data (no
category list, no mean, no standard deviation), so the release depends on the data only
through the training itself, which epsilon covers. Each row has one token per column and
the same norm before clipping, so clipping rows to the unit ball only rescales them. Two
values may share a bucket (a hash collision); that costs some accuracy, never privacy.

Both train the **unnormalized** objective ``sum_i l(y_i f.x_i) + (Lambda / 2) ||f||^2``
with a public regularization strength ``Lambda`` (``regularization``, default
:data:`core.models.DP_REGULARIZATION`; a setting, never read from the data), so the noise
depends on epsilon and ``Lambda`` only, **not on the number of rows**: the release is
epsilon-DP whether neighbouring tables differ by one record added or removed (the relation
of the project's ledger, under which the row count is private) or by one record's values
(:mod:`core.models.dp_logistic` derives both). The sweep trains its models with the same
``Lambda`` on half the rows, so its curve shows what the release would do (on twice the rows
the same ``Lambda`` shrinks the weights half as much, relative to the data). The two labels
of the target are the steward's to read; the released weights carry neither.

References
----------
.. [CMS11] Chaudhuri, K., Monteleoni, C., Sarwate, A. D. "Differentially private empirical
   risk minimization." JMLR 12 (2011), 1069-1109.
.. [KST12] Kifer, D., Smith, A., Thakurta, A. "Private convex empirical risk minimization and
   high-dimensional regression." COLT 2012.
.. [YGFJ18] Yeom, S., Giacomelli, I., Fredrikson, M., Jha, S. "Privacy risk in machine
   learning: analyzing the connection to overfitting." IEEE CSF 2018.

>>> import pandas as pd
>>> df = pd.DataFrame({"age": [20, 30, None], "job": ["a", "b", "a"]})
>>> X = public_design(df, ["age", "job"], buckets=16)
>>> X.shape, X.sum(axis=1).tolist()
((3, 16), [2.0, 2.0, 2.0])
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from core.dp_sampling import RandomSource, resolve_source
from core.errors import ColumnError, InvalidParameterError
from core.models.dp_logistic import DP_REGULARIZATION, DPLogisticModel, dp_logistic_proba
from core.models.dp_logistic import dp_logistic_regression as _dp_fit
from core.models.evaluate import accuracy, log_loss, majority_baseline
from core.models.features import _is_numeric, _target_text, fit_features, targets
from core.models.membership import (
    best_threshold_attack,
    dp_advantage_bound,
    loss_threshold_attack,
    mean_interval,
)

__all__ = [
    "HASH_BUCKETS",
    "SWEEP_EPSILONS",
    "DPModelRelease",
    "DPSweep",
    "SweepPoint",
    "binary_columns",
    "dp_model_release",
    "dp_sweep",
    "public_design",
]

#: Buckets of the public hashed encoding.
HASH_BUCKETS = 512
#: The epsilon grid of the sweep (log-spaced, as the DP page's curves).
SWEEP_EPSILONS = (0.1, 0.3, 1.0, 3.0, 10.0)
#: Published salt of the hashed encoding: changing it changes every released model's features.
_SALT = b"privlens-model-features-v1"


def binary_columns(df: pd.DataFrame) -> tuple[str, ...]:
    """Columns with exactly two distinct non-missing values: the targets a classifier can take.

    Only columns named by text and named once are considered (a workspace names columns so).

    >>> binary_columns(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None], "c": [0, 0, 0]}))
    ('b',)
    """
    out = []
    names = list(df.columns)
    for name in names:
        if not isinstance(name, str) or names.count(name) > 1:
            continue
        try:
            if _target_text(df, name).nunique(dropna=True) == 2:
                out.append(name)
        except (TypeError, ValueError):
            continue
    return tuple(out)


def _bucket(column: object, token: str, buckets: int) -> int:
    h = hashlib.blake2b(
        str(column).encode("utf-8", "surrogatepass")
        + b"\x1f"
        + token.encode("utf-8", "surrogatepass"),
        digest_size=8,
        key=_SALT,
    )
    return int.from_bytes(h.digest(), "big") % buckets


def _tokens(s: pd.Series) -> pd.Series:
    """One token per value: text as is; a number as its sign and quarter-octave."""
    if _is_numeric(s):
        v = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
        ok = np.isfinite(v)
        level = np.floor(4 * np.log2(1 + np.abs(np.where(ok, v, 0.0)))).astype(np.int64)
        sign = np.where(v < 0, "-", "+")
        text = np.char.add(sign, level.astype(str)).astype(object)
        text[~ok] = "<missing>"
        return pd.Series(text, index=s.index)
    t = s.astype("string").str.strip()
    return t.fillna("<missing>").replace("", "<missing>").astype(object)


def _public_sparse(df: pd.DataFrame, columns: Sequence[str], buckets: int) -> sparse.csr_array:
    if not isinstance(buckets, int) or not 2 <= buckets <= 65_536:
        raise InvalidParameterError(f"buckets must be an integer in [2, 65536]; got {buckets!r}.")
    if not columns:
        raise InvalidParameterError("The encoding needs at least 1 feature column; got 0.")
    cols = []
    for col in columns:
        if col not in df.columns or isinstance(df[col], pd.DataFrame):
            raise ColumnError(
                f"Feature column {col!r} is missing or duplicated in this table. "
                "Use the table the model was set up for."
            )
        codes, uniques = pd.factorize(_tokens(df[col]), use_na_sentinel=False)
        lookup = np.array([_bucket(col, str(u), buckets) for u in uniques], dtype=np.int64)
        cols.append(lookup[codes])
    n = len(df)
    rows = np.repeat(np.arange(n), len(cols))
    hit = np.stack(cols, axis=1).ravel() if n else np.zeros(0, dtype=np.int64)
    X = sparse.coo_array((np.ones(rows.size), (rows, hit)), shape=(n, buckets)).tocsr()
    X.sum_duplicates()  # two columns in one bucket add up
    return X


def public_design(
    df: pd.DataFrame, columns: Sequence[str], *, buckets: int = HASH_BUCKETS
) -> np.ndarray:
    """The hashed one-hot encoding of ``columns`` (see the module docstring).

    Row ``i`` has a 1 in bucket ``hash(column, token)`` for every column (two columns hitting
    the same bucket add up), so every row sums to ``len(columns)``.

    Raises
    ------
    ColumnError
        A column is missing or duplicated.
    InvalidParameterError
        No column, or ``buckets`` outside [2, 65536].
    """
    return np.asarray(_public_sparse(df, columns, buckets).toarray())


def _prepare(df: pd.DataFrame, target: str) -> tuple[sparse.csr_array, np.ndarray, tuple[str, ...]]:
    """The design of rows with a target, clipped to the unit ball with an intercept feature.

    Equal to ``clip_rows(public_design(...), intercept_feature=1.0)``, kept sparse.
    """
    spec = fit_features(df, target)  # checks the target: two values, the positive one
    y = targets(spec, df)
    keep = y >= 0
    columns = [c for c in dict.fromkeys(df.columns) if c != target]
    if not columns:
        raise InvalidParameterError(
            f"No feature column besides target {target!r}. Add columns to learn from."
        )
    X = _public_sparse(df[keep], columns, HASH_BUCKETS)
    X = sparse.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    lengths = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    scale = np.where(lengths > 1.0, 1.0 / np.where(lengths > 0, lengths, 1.0), 1.0)
    X = sparse.csr_array(X.multiply(scale[:, None]))
    dropped = int((~keep).sum())
    warnings = (f"{dropped:,} row(s) with a missing target are left out.",) if dropped else ()
    return X, y[keep], warnings


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepPoint:
    """DP training at one epsilon: means over the repeats and Student-t intervals."""

    epsilon: float
    accuracy: float
    accuracy_ci: tuple[float, float]
    advantage: float
    advantage_ci: tuple[float, float]
    best_advantage: float
    bound: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DPSweep:
    """Accuracy and membership advantage of epsilon-DP logistic regression over a grid."""

    points: tuple[SweepPoint, ...]
    repeats: int
    n_train: int
    n_test: int
    baseline: float
    confidence: float
    method: str
    regularization: float
    warnings: tuple[str, ...] = ()


def dp_sweep(
    df: pd.DataFrame,
    target: str,
    *,
    epsilons: Sequence[float] = SWEEP_EPSILONS,
    repeats: int = 3,
    regularization: float = DP_REGULARIZATION,
    method: str = "objective",
    seed: int = 0,
    source: RandomSource | np.random.Generator | int | None = None,
    confidence: float = 0.95,
) -> DPSweep:
    """Train epsilon-DP logistic regression on repeated half/half splits for every epsilon.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (original or hardened).
    target : str
        Binary target column.
    epsilons : sequence of float
        The grid, each in (0, 100]; 1 to 20 values.
    repeats : int, default 3
        Random splits (members = training half), 2 to 100; every epsilon uses the same ones.
    regularization : float, default :data:`core.models.DP_REGULARIZATION`
        The public strength ``Lambda`` of the unnormalized objective, as for the release.
    method : {"objective", "output"}
    seed : int, default 0
        Seed of the splits.
    source : optional
        Noise of the simulated models; ``None`` is the CSPRNG. A page passes a seed: the
        sweep is a simulation.
    confidence : float, default 0.95

    Returns
    -------
    DPSweep

    Raises
    ------
    ColumnError
        The target is not a column.
    InvalidParameterError
        The target is not binary, a split lacks a class, or a setting is out of range.

    Notes
    -----
    The sweep trains ``len(epsilons) * repeats`` models on the data and measures them on it.
    Its accuracy and advantage figures are computed from the records themselves, like every
    non-DP figure of the page: no epsilon covers them, so charging the training epsilons
    would not make them private. They are a planning aid for whoever already holds the
    table and are not released; the one model that is released
    (:func:`dp_model_release`) is charged.
    """
    eps = [float(e) for e in epsilons]
    if not 1 <= len(eps) <= 20 or not all(math.isfinite(e) and 0 < e <= 100 for e in eps):
        raise InvalidParameterError(
            f"epsilons must be 1 to 20 values in (0, 100]; got {len(eps)} value(s)."
        )
    if not isinstance(repeats, int) or not 2 <= repeats <= 100:
        raise InvalidParameterError(f"repeats must be an integer in [2, 100]; got {repeats!r}.")
    X, y, warnings = _prepare(df, target)
    n_train = len(y) // 2
    if n_train < 2 or len(y) - n_train < 2:
        raise InvalidParameterError(
            f"Too few rows with a target ({len(y)}) to split into members and non-members."
        )
    rng = np.random.default_rng(seed)
    src = resolve_source(source)  # one stream for every model: a seed must not restart it
    runs: list[dict[str, list[float]]] = [{"acc": [], "adv": [], "best": []} for _ in eps]
    base: list[float] = []
    for _ in range(repeats):
        perm = rng.permutation(len(y))
        tr, te = perm[:n_train], perm[n_train:]
        Xtr, Xte = X[tr], X[te]
        if y[tr].min() == y[tr].max() or y[te].min() == y[te].max():
            raise InvalidParameterError(
                "A split has only one target class; use more rows or a more balanced target."
            )
        base.append(majority_baseline(y[tr], y[te]))
        for run, e in zip(runs, eps, strict=True):
            model = _dp_fit(
                Xtr, y[tr], epsilon=e, regularization=regularization, method=method, source=src
            )
            ptr, pte = dp_logistic_proba(model, Xtr), dp_logistic_proba(model, Xte)
            ltr, lte = log_loss(y[tr], ptr), log_loss(y[te], pte)
            run["acc"].append(accuracy(y[te], pte))
            run["adv"].append(loss_threshold_attack(ltr, lte).advantage)
            run["best"].append(best_threshold_attack(ltr, lte).advantage)
    points = []
    for run, e in zip(runs, eps, strict=True):
        acc, acc_lo, acc_hi = mean_interval(np.array(run["acc"]), confidence=confidence)
        adv, adv_lo, adv_hi = mean_interval(np.array(run["adv"]), confidence=confidence)
        points.append(
            SweepPoint(
                epsilon=e,
                accuracy=acc,
                accuracy_ci=(acc_lo, acc_hi),
                advantage=adv,
                advantage_ci=(adv_lo, adv_hi),
                best_advantage=float(np.mean(run["best"])),
                bound=dp_advantage_bound(e),
            )
        )
    return DPSweep(
        points=tuple(points),
        repeats=repeats,
        n_train=n_train,
        n_test=len(y) - n_train,
        baseline=float(np.mean(base)),
        confidence=confidence,
        method=method,
        regularization=float(regularization),
        warnings=warnings,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DPModelRelease:
    """An epsilon-DP logistic regression trained on every row with a target.

    ``model.weights`` are the release (``buckets`` hashed features, then the intercept
    feature). ``bound`` is the largest membership advantage any attacker has against it.
    """

    model: DPLogisticModel
    target: str
    buckets: int
    bound: float
    warnings: tuple[str, ...] = ()


def dp_model_release(
    df: pd.DataFrame,
    target: str,
    *,
    epsilon: float,
    regularization: float = DP_REGULARIZATION,
    method: str = "objective",
    source: RandomSource | np.random.Generator | int | None = None,
) -> DPModelRelease:
    """Train the epsilon-DP model to release (noise from the CSPRNG unless ``source``).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    target : str
        Binary target column.
    epsilon : float
        Privacy parameter, in (0, 100]; what the release costs on the ledger.
    regularization : float, default :data:`core.models.DP_REGULARIZATION`
        The public strength ``Lambda`` of the unnormalized objective, chosen without looking
        at the data. With it and epsilon the noise is fixed: the number of rows enters no
        noise parameter.
    method : {"objective", "output"}
    source : optional
        Noise; ``None`` (default) the CSPRNG. A seed is for tests only.

    Returns
    -------
    DPModelRelease

    Raises
    ------
    ColumnError
        The target is not a column.
    InvalidParameterError
        The target is not binary, or epsilon, regularization or method out of range.
    """
    X, y, warnings = _prepare(df, target)
    model = _dp_fit(
        X, y, epsilon=epsilon, regularization=regularization, method=method, source=source
    )
    return DPModelRelease(
        model=model,
        target=target,
        buckets=X.shape[1] - 1,
        bound=dp_advantage_bound(epsilon),
        warnings=warnings,
    )
