"""Correlations, associations and attribute leakage.

Which variables move together, and which of them would let someone infer a sensitive
attribute once the direct identifiers are gone.

Public functions
----------------
- :func:`correlation_matrix`: Pearson, Spearman or Kendall tau-b matrix over numeric
  columns, pairwise-complete, with pair counts, p-values, Benjamini-Hochberg adjusted
  p-values and Fisher-z confidence intervals (optionally on a uniform row sample).
- :func:`cramers_v`, :func:`correlation_ratio`, :func:`normalized_mutual_information`:
  association of categorical-categorical, categorical-numeric and any pairs.
- :func:`association_matrix`: one matrix over every column, numeric and categorical.
- :func:`pair_column`, :func:`pair_association`: one cell of that matrix from columns read
  once (codes or numbers), for callers that measure a few pairs again.
- :func:`leakage_ranking`: rank columns by how much they reveal a sensitive attribute.
- :func:`benjamini_hochberg`: adjusted p-values for a set of tests.
- :func:`numeric_columns`, :func:`drilldown`: which columns hold quantities, given the column
  kinds set on the Data page, and the data of the plot that fits a pair.

Column kinds (``kinds``, column -> kind as set on the Data page): a column declared
``category``, ``text`` or ``boolean`` holds labels, not quantities, even when its values are
integer codes (``urbrur``, ``roof`` in sdcMicro's ``testdata``). It is never given Pearson,
Spearman or Kendall on its codes: the association matrix measures it with Cramér's V or the
correlation ratio, leakage uses its values as categories, and its drill-down is a contingency
table or a box plot, not a line fitted across codes.

Missing values are dropped per pair of columns ("pairwise-complete"). An infinite value
(``inf``/``-inf``) is not a number to correlate: it counts as missing in every measure, and
the result's ``warnings`` say how many each column had. A pair that cannot be measured (a
constant column, too few complete rows) gets NaN and a stated reason; it never raises.
Integer columns are ranked exactly (values above 2**53 are not rounded to float64 first),
and values are centred and scaled before sums of squares, so 1e-300 and 1e300 work.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special, stats

from core.errors import ColumnError, InvalidParameterError
from core.frames import check_frame
from core.limits import (
    CORRELATION_CONFIDENCE_DEFAULT,
    CORRELATION_MIN_PAIRS,
    DRILLDOWN_MAX_POINTS,
    HIGH_CARDINALITY_SHARE,
    LEAKAGE_TOP_DEFAULT,
    NMI_BINS,
    PROXY_THRESHOLD,
)

try:  # scipy's Fenwick-tree discordance count (Cython, O(n log n), releases the GIL)
    from scipy.stats._stats import _kendall_dis as _scipy_kendall_dis
except ImportError:  # pragma: no cover - only if scipy moves its private helper
    _scipy_kendall_dis = None

Method = Literal["pearson", "spearman", "kendall"]
#: Column kinds (Data page) whose values are labels: never correlated on their codes.
CATEGORICAL_KINDS = frozenset({"category", "text", "boolean"})
METHODS: tuple[Method, ...] = ("pearson", "spearman", "kendall")
Progress = Callable[[float], None]

__all__ = [
    "CATEGORICAL_KINDS",
    "METHODS",
    "AssociationMatrix",
    "CorrelationMatrix",
    "Drilldown",
    "LeakageEntry",
    "LeakageReport",
    "PairAssociation",
    "PairColumn",
    "PairCounts",
    "association_matrix",
    "benjamini_hochberg",
    "blanked_association",
    "correlation_matrix",
    "correlation_ratio",
    "coded_columns",
    "cramers_v",
    "drilldown",
    "leakage_ranking",
    "normalized_mutual_information",
    "numeric_columns",
    "pair_association",
    "pair_column",
    "pair_counts",
    "ranked_pairs",
]


# --- helpers -------------------------------------------------------------------------------


def benjamini_hochberg(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted.

    Parameters
    ----------
    p : array_like of float in [0, 1] or NaN
        Unadjusted p-values of the tests in one family.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, same shape as ``p``.

    Raises
    ------
    InvalidParameterError
        If a finite p-value lies outside [0, 1].

    Notes
    -----
    With the m finite p-values sorted ascending, :math:`p_{(i)}^{adj} =
    \\min_{j \\ge i} \\min(1, m\\,p_{(j)}/j)`. Computed by
    :func:`scipy.stats.false_discovery_control`.

    References
    ----------
    .. [BH95] Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate.
       J. R. Stat. Soc. B 57(1), 289-300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, float("nan")]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    arr = np.asarray(p, dtype=float)
    out = np.full(arr.shape, np.nan)
    finite = np.isfinite(arr)
    if not finite.any():
        return out
    vals = arr[finite]
    if vals.min() < 0 or vals.max() > 1:
        raise InvalidParameterError(
            f"p-values must lie in [0, 1]; got {int(((vals < 0) | (vals > 1)).sum())} "
            "outside. Pass raw p-values, not statistics."
        )
    out[finite] = stats.false_discovery_control(vals, method="bh")
    return out


@dataclass(frozen=True, slots=True)
class _Numbers:
    """A numeric column ready for the measures.

    ``values`` is float64 with NaN where the value is missing or infinite; an integer
    column is shifted by its minimum first (exactly, in 64-bit integers), which changes no
    measure here and keeps the differences that matter. ``key`` holds the exact shifted
    integers when float64 would round them (a range above 2**53); ranks come from it.
    """

    values: np.ndarray
    key: np.ndarray | None
    n_inf: int


_EXACT_FLOAT_INT = 2**53


def _numbers(series: pd.Series) -> _Numbers:
    """Float values (NaN = missing or infinite), an exact rank key, and the inf count."""
    dtype = series.dtype
    if pd.api.types.is_integer_dtype(dtype):
        valid = np.asarray(series.notna(), dtype=bool)
        unsigned = pd.api.types.is_unsigned_integer_dtype(dtype)
        ints = np.asarray(series.to_numpy(dtype="uint64" if unsigned else "int64", na_value=0))
        if not valid.any():
            return _Numbers(np.full(ints.size, np.nan), None, 0)
        low = ints[valid].min()
        # the difference to the minimum fits uint64 exactly (modular subtraction)
        diff = ints.view(np.uint64) - np.asarray(low).view(np.uint64)
        values = diff.astype("float64")
        values[~valid] = np.nan
        key = diff if int(diff[valid].max()) > _EXACT_FLOAT_INT else None
        return _Numbers(values, key, 0)
    if pd.api.types.is_float_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = np.array(series.to_numpy(dtype="float64", na_value=np.nan), dtype=float)
    else:
        values = np.array(pd.to_numeric(series, errors="coerce").astype("float64"), dtype=float)
    inf = np.isinf(values)
    n_inf = int(inf.sum())
    if n_inf:
        values[inf] = np.nan
    return _Numbers(values, None, n_inf)


def _inf_warning(column: object, count: int) -> str:
    return (
        f"Column '{column}' has {count:,} infinite value(s) (inf or -inf); they are treated "
        "as missing. Replace them with a number or leave them out."
    )


def _standardize(values: np.ndarray) -> np.ndarray:
    """Scale to max |x| = 1, centre, and scale again: no overflow or underflow in squares.

    Pearson's r and eta do not change under ``a + b x`` with b > 0. A constant column stays
    constant (x / x is exactly 1), so the exact constant checks still hold afterwards.
    """
    out = np.array(values, dtype=float)
    valid = ~np.isnan(out)
    if not valid.any():
        return out
    top = float(np.max(np.abs(out[valid])))
    if top == 0:
        return out
    out /= top
    out -= float(np.mean(out[valid]))
    spread = float(np.max(np.abs(out[valid])))
    if spread > 0:
        out /= spread
    return out


def _standardize_complete(values: np.ndarray) -> np.ndarray:
    """:func:`_standardize` of values without NaN: the same steps, without the mask passes.

    >>> x = np.array([3.0, -1.0, 7.0, 7.0])
    >>> bool(np.array_equal(_standardize_complete(x), _standardize(x)))
    True
    """
    if values.size == 0:
        return np.array(values, dtype=float)
    top = float(np.max(np.abs(values)))
    if top == 0:
        return np.array(values, dtype=float)
    out = values / top
    out -= float(np.mean(out))
    spread = float(np.max(np.abs(out)))
    if spread > 0:
        out /= spread
    return out


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(
        series.dtype
    )


def _declared(kinds: Mapping[str, str] | None) -> set[str]:
    """Columns declared categorical (category, text, boolean) in ``kinds``."""
    if kinds is None:
        return set()
    if not isinstance(kinds, Mapping):
        raise InvalidParameterError(
            f"kinds must map column names to kinds; got {type(kinds).__name__}. "
            "Pass e.g. {'urbrur': 'category'}."
        )
    return {c for c, k in kinds.items() if k in CATEGORICAL_KINDS}


def coded_columns(df: pd.DataFrame, kinds: Mapping[str, str] | None) -> list[str]:
    """Columns declared categorical whose values are number codes (left out of correlations).

    Examples
    --------
    >>> d = pd.DataFrame({"roof": [1, 2, 4], "walls": pd.Categorical([3, 2, 1]), "age": [1, 2, 3]})
    >>> coded_columns(d, {"roof": "category", "walls": "category"})
    ['roof', 'walls']
    """
    check_frame(df)
    declared = _declared(kinds)
    out = []
    for c in df.columns:
        dtype = df[c].dtype
        if isinstance(dtype, pd.CategoricalDtype):
            dtype = dtype.categories.dtype
        if c in declared and pd.api.types.is_numeric_dtype(dtype):
            out.append(c)
    return out


def numeric_columns(df: pd.DataFrame, kinds: Mapping[str, str] | None = None) -> list[str]:
    """Columns that hold quantities: a numeric type and not declared categorical.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page; a column declared ``category``, ``text`` or
        ``boolean`` is left out even when its values are numbers (integer codes).

    Returns
    -------
    list of str
        The columns Pearson, Spearman and Kendall may use, in table order.

    Examples
    --------
    >>> d = pd.DataFrame({"roof": [1, 2, 4], "age": [30, 41, 52], "sex": ["f", "m", "f"]})
    >>> numeric_columns(d), numeric_columns(d, {"roof": "category"})
    (['roof', 'age'], ['age'])
    """
    check_frame(df)
    declared = _declared(kinds)
    return [c for c in df.columns if _is_numeric(df[c]) and c not in declared]


def _check_frame(df: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    check_frame(df)  # a DataFrame with unique text column names
    if df.shape[0] == 0:
        raise InvalidParameterError(
            f"The table has 0 rows (and {df.shape[1]} columns). Load a dataset with data rows."
        )
    cols = list(df.columns) if columns is None else list(columns)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ColumnError(
            f"{len(missing)} column(s) not in the table: {', '.join(map(str, missing))}. "
            f"The table has {df.shape[1]} columns; pick from those."
        )
    if len(set(cols)) != len(cols):
        raise InvalidParameterError(
            "The column list names a column more than once; list each column once."
        )
    return [str(c) for c in cols] if all(isinstance(c, str) for c in cols) else cols


def _fisher_ci(
    r: np.ndarray, n: np.ndarray, method: str, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Fisher-z interval with the Bonett-Wright (2000) standard errors."""
    z = special.ndtri(0.5 + confidence / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "pearson":
            se = np.sqrt(1.0 / (n - 3))
        elif method == "spearman":
            se = np.sqrt((1.0 + r**2 / 2.0) / (n - 3))
        else:
            se = np.sqrt(0.437 / (n - 4))
        zr = np.arctanh(np.clip(r, -1 + 1e-15, 1 - 1e-15))
        lo = np.tanh(zr - z * se)
        hi = np.tanh(zr + z * se)
    bad = ~np.isfinite(r) | ~np.isfinite(se)
    lo[bad] = np.nan
    hi[bad] = np.nan
    return lo, hi


# --- per-column preparation ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Col:
    """A numeric column sorted once: everything the pair loops reuse."""

    values: np.ndarray  # float64, NaN = missing
    valid: np.ndarray  # bool
    order: np.ndarray  # row indices of the valid values, ascending by value
    dense: np.ndarray  # 1-based dense rank per row (0 where missing), intp
    avg_rank: np.ndarray  # average rank per row among valid rows (NaN where missing)
    n_valid: int
    constant: bool  # fewer than 2 distinct values (or no values at all)


def _ranks_from_sorted(
    sorted_vals: np.ndarray, *, average: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Dense (1-based) and average ranks of an already sorted array, in sorted order."""
    if sorted_vals.size == 0:
        return np.empty(0, np.intp), np.empty(0)
    new = np.empty(sorted_vals.size, bool)
    new[0] = True
    np.not_equal(sorted_vals[1:], sorted_vals[:-1], out=new[1:])
    dense = np.cumsum(new, dtype=np.intp)
    if not average:
        return dense, np.empty(0)
    count = np.r_[np.flatnonzero(new), sorted_vals.size]
    avg = 0.5 * (count[dense] + count[dense - 1] + 1)
    return dense, avg


_EMPTY = np.empty(0, np.intp)


def _prepare(
    values: np.ndarray,
    *,
    sort: bool = True,
    average: bool = True,
    key: np.ndarray | None = None,
) -> _Col:
    """Sort a column once; ``key`` (exact integers) decides the order and ties if given."""
    valid = ~np.isnan(values)
    n_valid = int(valid.sum())
    empty = np.empty(0, np.intp)
    if not sort:  # Pearson needs no ranks, only the distinct-value check
        constant = n_valid == 0 or bool(np.nanmin(values) == np.nanmax(values))
        return _Col(values, valid, empty, empty, values, n_valid, constant)
    if key is None:
        order = np.argsort(values)[:n_valid]  # NaN sorts last
        sorted_vals = values[order]
    else:
        rows = np.flatnonzero(valid)
        order = rows[np.argsort(key[rows], kind="stable")]
        sorted_vals = key[order]
    dense_s, avg_s = _ranks_from_sorted(sorted_vals, average=average)
    dense = np.zeros(values.size, np.intp)
    dense[order] = dense_s
    avg = np.full(values.size, np.nan)
    if average:
        avg[order] = avg_s
    constant = n_valid == 0 or int(dense_s[-1]) == 1
    return _Col(values, valid, order, dense, avg, n_valid, constant)


def _tie_stats(ranks: np.ndarray) -> tuple[int, int, int]:
    """Ties in one variable as scipy's kendalltau counts them."""
    cnt = np.bincount(ranks).astype("int64", copy=False)
    cnt = cnt[cnt > 1]
    return (
        int((cnt * (cnt - 1) // 2).sum()),
        int((cnt * (cnt - 1.0) * (cnt - 2)).sum()),
        int((cnt * (cnt - 1.0) * (2 * cnt + 5)).sum()),
    )


def _joint_ties(xs: np.ndarray, ys: np.ndarray) -> int:
    """Pairs tied in both variables (xs, ys are 1-based dense ranks)."""
    span = int(ys.max()) + 1
    width = (int(xs.max()) + 1) * span
    key = xs.astype(np.int64) * span + ys
    if width <= 4 * xs.size + 1024:
        cnt = np.bincount(key, minlength=0).astype("int64", copy=False)
    else:
        key = np.sort(key)
        brk = np.r_[True, key[1:] != key[:-1], True]
        cnt = np.diff(np.flatnonzero(brk)).astype("int64", copy=False)
    return int((cnt * (cnt - 1) // 2).sum())


# --- pair computations -------------------------------------------------------------------


def _clip_r(r: float) -> float:
    """Clip a coefficient to [-1, 1]; NaN stays NaN (``min``/``max`` would give -1)."""
    return r if math.isnan(r) else min(1.0, max(-1.0, r))


def _pearson_r(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson's r of two complete vectors; NaN if either holds NaN or inf.

    Each vector is scaled to max |x| = 1 and centred (then scaled again) before the sums of
    squares, so neither 1e300 nor 1e-300 overflows or underflows, and
    :math:`s_{xy} / \\sqrt{s_{xx} s_{yy}}` is exactly 1 for identical vectors.
    """
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        return math.nan
    xm, ym = _standardize(x), _standardize(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = float(np.dot(xm, ym)) / math.sqrt(float(np.dot(xm, xm)) * float(np.dot(ym, ym)))
    return _clip_r(r)


def _pearson_p(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p of Pearson's r: exact beta null distribution (as scipy.stats.pearsonr)."""
    ab = n / 2 - 1
    with np.errstate(invalid="ignore"):
        return 2 * special.betaincc(ab, ab, (np.abs(r) + 1) / 2)


def _spearman_p(r: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Two-sided p of Spearman's rho: t approximation (as scipy.stats.spearmanr)."""
    dof = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r * np.sqrt((dof / ((r + 1.0) * (1.0 - r))).clip(0))
        return 2 * special.stdtr(dof, -np.abs(t))


def _kendall_pair(
    xs: np.ndarray, ys: np.ndarray, xt: tuple[int, int, int] | None
) -> tuple[float, float]:
    """Kendall tau-b and its p-value; ``xs`` sorted ascending, both 1-based dense ranks."""
    size = xs.size
    if _scipy_kendall_dis is None:  # pragma: no cover
        res = stats.kendalltau(xs, ys)
        return float(res.statistic), float(res.pvalue)
    dis = int(_scipy_kendall_dis(xs, ys))
    xtie, x0, x1 = xt if xt is not None else _tie_stats(xs)
    ytie, y0, y1 = _tie_stats(ys)
    ntie = 0 if (xtie == 0 or ytie == 0) else _joint_ties(xs, ys)
    tot = (size * (size - 1)) // 2
    con_minus_dis = tot - xtie - ytie + ntie - 2 * dis
    tau = _clip_r(float(con_minus_dis / np.sqrt(tot - xtie) / np.sqrt(tot - ytie)))
    if xtie == 0 and ytie == 0 and (size <= 33 or min(dis, tot - dis) <= 1):
        # exact null distribution: small or perfectly ordered samples, as scipy does
        return tau, float(stats.kendalltau(xs, ys).pvalue)
    m = size * (size - 1.0)
    var = (
        (m * (2 * size + 5) - x1 - y1) / 18 + (2 * xtie * ytie) / m + x0 * y0 / (9 * m * (size - 2))
    )
    z = con_minus_dis / np.sqrt(var)
    return tau, float(2 * special.ndtr(-abs(z)))


# --- correlation matrix ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrelationMatrix:
    """A correlation matrix with its pair counts, p-values and reasons for gaps.

    ``r``, ``p``, ``p_adjusted``, ``n``, ``ci_low`` and ``ci_high`` are square arrays in the
    order of ``columns``; the diagonal of ``r`` is 1 for a measurable column.
    """

    method: Method
    columns: tuple[str, ...]
    r: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    n: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    confidence: float
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    rows_used: int
    rows_total: int
    sampled: bool = False
    warnings: tuple[str, ...] = ()

    def frame(self, what: str = "r") -> pd.DataFrame:
        """One of the square arrays as a labelled DataFrame (``"r"``, ``"p"``, ...)."""
        return pd.DataFrame(getattr(self, what), index=self.columns, columns=self.columns)

    def pairs(self) -> pd.DataFrame:
        """One row per unordered pair, strongest (largest ``|r|``) first; NaN pairs last."""
        i, j = np.triu_indices(len(self.columns), k=1)
        out = pd.DataFrame(
            {
                "column_a": [self.columns[k] for k in i],
                "column_b": [self.columns[k] for k in j],
                "method": self.method,
                "r": self.r[i, j],
                "ci_low": self.ci_low[i, j],
                "ci_high": self.ci_high[i, j],
                "p": self.p[i, j],
                "p_adjusted": self.p_adjusted[i, j],
                "n": self.n[i, j],
                "reason": [
                    self.reasons.get((self.columns[a], self.columns[b]), "")
                    for a, b in zip(i, j, strict=True)
                ],
            }
        )
        key = out["r"].abs()
        return out.iloc[np.argsort(-key.fillna(-1).to_numpy(), kind="stable")].reset_index(
            drop=True
        )


def correlation_columns(
    available: Sequence[Any],
    requested: Sequence[Any] | None,
    numeric: Callable[[Any], bool],
    declared: Collection[Any],
) -> list[Any]:
    """The columns a correlation matrix measures, or why not (one rule for every engine).

    ``requested`` None: every numeric column of ``available`` that is not declared
    categorical, at least two. Otherwise ``requested`` (already checked to exist), each
    numeric and not declared categorical, at least one.

    >>> correlation_columns(["a", "b", "c"], None, lambda c: c != "c", set())
    ['a', 'b']
    """
    if requested is None:
        cols = [c for c in available if numeric(c) and c not in declared]
        if len(cols) < 2:
            raise InvalidParameterError(
                f"A correlation matrix needs at least 2 numeric columns; the table has "
                f"{len(cols)}. Use the association matrix for categorical columns."
            )
        return cols
    cols = list(requested)
    bad = [c for c in cols if not numeric(c)]
    if bad:
        raise InvalidParameterError(
            f"{len(bad)} column(s) are not numeric: {', '.join(map(str, bad))}. "
            "Correlations need numbers; use the association matrix for categories."
        )
    coded = [c for c in cols if c in declared]
    if coded:
        raise InvalidParameterError(
            f"{len(coded)} column(s) are declared categorical on the Data page: "
            f"{', '.join(map(str, coded))}. A correlation of their codes means nothing; "
            "use the association matrix, or declare them integer or decimal."
        )
    if not cols:
        raise InvalidParameterError("No columns given; pass at least one numeric column.")
    return cols


def correlation_matrix(
    df: pd.DataFrame,
    *,
    method: Method = "pearson",
    columns: Sequence[str] | None = None,
    sample_rows: int | None = None,
    confidence: float = CORRELATION_CONFIDENCE_DEFAULT,
    rng: np.random.Generator | int | None = None,
    progress: Progress | None = None,
    kinds: Mapping[str, str] | None = None,
) -> CorrelationMatrix:
    """Pearson, Spearman or Kendall tau-b correlation matrix, pairwise-complete.

    Parameters
    ----------
    df : pandas.DataFrame
        The data. Columns must be numeric (ordinal codes are fine); booleans and text are
        rejected.
    method : {"pearson", "spearman", "kendall"}
        Pearson: linear association of the values. Spearman: Pearson of average ranks
        (any monotone association). Kendall tau-b: concordant minus discordant pairs,
        corrected for ties.
    columns : sequence of str, optional
        Columns to use, in this order. Default: every numeric column.
    sample_rows : int, optional
        If given and smaller than the row count, estimate from a uniform sample of this
        many rows without replacement (labelled ``sampled=True`` with a warning); the
        confidence interval then describes the sampling uncertainty.
    confidence : float in (0, 1)
        Level of the Fisher-z confidence intervals (default 0.95).
    rng : numpy.random.Generator or int, optional
        Source of the row sample (a labelled estimate, not a privacy release).
    progress : callable, optional
        Called with the completed share in [0, 1] while pairs are computed.
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page. A column declared ``category``, ``text`` or
        ``boolean`` holds codes, not quantities: it is left out of the default columns and
        refused when named (use :func:`association_matrix`).

    Returns
    -------
    CorrelationMatrix
        ``r``, two-sided ``p``, Benjamini-Hochberg ``p_adjusted`` (over the upper
        triangle), ``n`` complete pairs, CI bounds and a ``reasons`` entry for every pair
        that is NaN (a constant column, fewer than ``CORRELATION_MIN_PAIRS`` complete rows).

    Raises
    ------
    InvalidParameterError
        Empty table, unknown method, non-numeric column, or a bad ``sample_rows`` /
        ``confidence``.
    ColumnError
        A requested column is not in the table.

    Notes
    -----
    For each pair the rows where either value is missing (NaN/NA/inf) are dropped.

    - Pearson :math:`r = \\sum (x-\\bar x)(y-\\bar y) / (\\lVert x-\\bar x\\rVert
      \\lVert y-\\bar y\\rVert)`; p from the exact null distribution of r (a beta
      distribution on [-1, 1] with a = b = n/2 - 1), as :func:`scipy.stats.pearsonr`.
    - Spearman: Pearson of average ranks; p from
      :math:`t = r\\sqrt{(n-2)/(1-r^2)}` with n - 2 degrees of freedom, as
      :func:`scipy.stats.spearmanr`.
    - Kendall tau-b :math:`= (n_c - n_d) / \\sqrt{(n_0 - n_1)(n_0 - n_2)}` with
      :math:`n_0 = n(n-1)/2` and :math:`n_1, n_2` the pairs tied in x, y; p from the
      tie-corrected normal approximation, or from the exact null distribution when
      neither variable has ties and either n <= 33 or at most one pair is discordant
      (or at most one concordant), the rule of :func:`scipy.stats.kendalltau` with
      ``method="auto"``.

    Missing values and infinities (``inf``/``-inf``, counted in ``warnings``) are dropped
    per pair. Integer columns are ranked on their exact values, so integers above 2**53
    that float64 would round to one value stay distinct. Pearson standardizes each column
    (scale to max |x| = 1, centre, scale again) before any sum of squares, so values near
    1e300 or 1e-300 give the same r as at unit scale. The matrices are exactly symmetric.

    Speed: columns without missing values share one BLAS product (Pearson on values,
    Spearman on ranks). Pairwise-complete Pearson comes from four BLAS products of the
    centred, zero-filled values and the validity indicators; pairs where that is badly
    conditioned (or a column is constant on the pair) take the exact per-pair path. Each
    column is sorted once: Kendall's discordant pairs are counted along the order of the
    column with more distinct values with a Fenwick tree over the other one, O(n log n)
    per pair, and a pair with missing values filters that order instead of re-sorting.
    Spearman reuses the column ranks when a pair drops no rows and otherwise corrects
    them in O(n): a value's average rank among the kept rows is its rank among all rows
    minus the dropped values below it and half the dropped values equal to it.
    CI: :math:`\\tanh(\\operatorname{atanh} r \\pm z_{1-\\alpha/2}\\,se)` with se
    :math:`1/\\sqrt{n-3}` (Pearson), :math:`\\sqrt{(1+r^2/2)/(n-3)}` (Spearman) and
    :math:`\\sqrt{0.437/(n-4)}` (Kendall) [BW00]_.

    References
    ----------
    .. [K45] Kendall, M. G. (1945). The treatment of ties in ranking problems.
       Biometrika 33(3), 239-251.
    .. [K66] Knight, W. R. (1966). A computer method for calculating Kendall's tau with
       ungrouped data. JASA 61(314), 436-439.
    .. [BW00] Bonett, D. G. and Wright, T. A. (2000). Sample size requirements for
       estimating Pearson, Kendall and Spearman correlations. Psychometrika 65, 23-28.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 4, 5, 4, 5], "c": [5, 4, 3, 2, 1]})
    >>> res = correlation_matrix(d, method="kendall")
    >>> res.r.round(4).tolist()[0]
    [1.0, 0.6708, -1.0]
    >>> int(res.n[0, 1])
    5
    """
    if method not in METHODS:
        raise InvalidParameterError(
            f"method must be one of {', '.join(METHODS)}; got {method!r}. Pick one of those."
        )
    if not 0 < confidence < 1:
        raise InvalidParameterError(
            f"confidence must be in (0, 1); got {confidence}. Use e.g. 0.95."
        )
    declared = _declared(kinds)
    if columns is None:
        _check_frame(df, None)
        cols = correlation_columns(list(df.columns), None, lambda c: _is_numeric(df[c]), declared)
    else:
        checked = _check_frame(df, columns)
        cols = correlation_columns(checked, checked, lambda c: _is_numeric(df[c]), declared)

    warnings: list[str] = []
    rows_total = int(df.shape[0])
    data = df[cols]
    sampled = False
    if sample_rows is not None:
        if int(sample_rows) < CORRELATION_MIN_PAIRS + 2:
            raise InvalidParameterError(
                f"sample_rows must be at least {CORRELATION_MIN_PAIRS + 2}; got {sample_rows}."
                " Use a larger sample, or None for the exact value."
            )
        if int(sample_rows) < rows_total:
            idx = np.sort(
                np.random.default_rng(rng).choice(rows_total, size=int(sample_rows), replace=False)
            )
            data = data.iloc[idx]
            sampled = True
            warnings.append(
                f"Estimated from a uniform random sample of {int(sample_rows):,} of "
                f"{rows_total:,} rows; the intervals give the sampling uncertainty."
            )

    k = len(cols)
    # one float matrix, a row per column, so every pass below runs over contiguous memory;
    # infinities are missing, integer columns keep an exact rank key
    nums = [_numbers(data.iloc[:, j]) for j in range(k)]
    rows = int(data.shape[0])
    values = np.empty((k, rows))
    for j, num in enumerate(nums):
        values[j] = _standardize(num.values) if method == "pearson" else num.values
        if num.n_inf:
            warnings.append(_inf_warning(cols[j], num.n_inf))
    if method == "pearson":
        every = np.ones(rows, dtype=bool)
        centred = np.empty((k, rows))
        pearson = [_pearson_column(values[j], every, out=centred[j]) for j in range(k)]
        prepared = [c.col for c in pearson]
    else:
        prepared = [
            _prepare(values[j], sort=True, average=method == "spearman", key=nums[j].key)
            for j in range(k)
        ]
    r = np.full((k, k), np.nan)
    p = np.full((k, k), np.nan)
    n = np.zeros((k, k), dtype=np.int64)
    reasons: dict[tuple[str, str], str] = {}
    for a, col in enumerate(prepared):
        n[a, a] = col.n_valid
        if col.n_valid == 0:
            what = "finite values" if nums[a].n_inf else "values"
            warnings.append(f"Column '{cols[a]}' has no {what}; its correlations are NaN.")
        elif col.constant:
            warnings.append(f"Column '{cols[a]}' is constant; its correlations are NaN.")
        else:
            r[a, a] = 1.0
            p[a, a] = 0.0

    if method == "pearson":
        _pearson_cells(pearson, centred, cols, r, n, reasons, progress)
        del centred
    # Spearman: the block of columns without missing values is one BLAS product of ranks.
    full = [a for a, c in enumerate(prepared) if c.n_valid == rows and not c.constant]
    in_block: set[int] = set()
    if method == "spearman" and len(full) > 1 and rows >= CORRELATION_MIN_PAIRS:
        mat = np.stack([prepared[a].avg_rank for a in full])
        mat -= mat.mean(axis=1, keepdims=True)
        _correlation_block(mat @ mat.T, full, rows, r, n)
        del mat
        in_block = set(full)

    pairs = [] if method == "pearson" else [(a, b) for a in range(k) for b in range(a + 1, k)]
    x_ties: dict[int, tuple[int, int, int]] = {}
    for done, (a, b) in enumerate(pairs):
        if progress is not None:
            progress(done / max(len(pairs), 1))
        ca, cb = prepared[a], prepared[b]
        key = (cols[a], cols[b])
        if a in in_block and b in in_block:
            continue
        mask = ca.valid & cb.valid
        m = int(mask.sum())
        n[a, b] = n[b, a] = m
        if m < CORRELATION_MIN_PAIRS:
            reasons[key] = _too_few(m)
            continue
        if method == "spearman":
            xv = ca.avg_rank[mask] if m == ca.n_valid else _rerank(ca, mask)
            yv = cb.avg_rank[mask] if m == cb.n_valid else _rerank(cb, mask)
            r[a, b] = r[b, a] = _pearson_or_reason(xv, yv, key, m, reasons)
            continue
        # Kendall: walk the sort order of the column with more distinct values and count
        # discordances in a Fenwick tree over the other one (smaller tree, fewer misses).
        ix, iy = (a, b) if ca.dense.max() >= cb.dense.max() else (b, a)
        sx, sy = prepared[ix], prepared[iy]
        whole_x = m == sx.n_valid
        order = sx.order if whole_x else sx.order[mask[sx.order]]
        xs = sx.dense[order]
        ys = sy.dense[order]
        if xs[-1] == xs[0]:
            reasons[key] = _constant_on(cols[ix], m)
            continue
        if ys.max() == ys.min():
            reasons[key] = _constant_on(cols[iy], m)
            continue
        if whole_x and ix not in x_ties:
            x_ties[ix] = _tie_stats(xs)
        tau, pk = _kendall_pair(xs, ys, x_ties.get(ix) if whole_x else None)
        r[a, b] = r[b, a] = tau
        p[a, b] = p[b, a] = pk

    iu = np.triu_indices(k, k=1)
    low = (iu[1], iu[0])
    r[low] = r[iu]  # exactly symmetric, whatever order a BLAS product summed in
    n[low] = n[iu]
    if method != "kendall":
        pf = _pearson_p if method == "pearson" else _spearman_p
        vals = pf(r[iu], n[iu].astype(float))
        p[iu] = vals
        p[(iu[1], iu[0])] = vals
    p_adj = np.full((k, k), np.nan)
    adj = benjamini_hochberg(p[iu])
    p_adj[iu] = adj
    p_adj[(iu[1], iu[0])] = adj
    np.fill_diagonal(p_adj, np.diag(p))
    lo, hi = _fisher_ci(r, n.astype(float), method, confidence)
    if progress is not None:
        progress(1.0)
    return CorrelationMatrix(
        method=method,
        columns=tuple(cols),
        r=r,
        p=p,
        p_adjusted=p_adj,
        n=n,
        ci_low=lo,
        ci_high=hi,
        confidence=confidence,
        reasons=reasons,
        rows_used=int(data.shape[0]),
        rows_total=rows_total,
        sampled=sampled,
        warnings=tuple(warnings),
    )


def _too_few(m: int) -> str:
    return f"only {m} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed"


def _constant_on(column: object, m: int) -> str:
    return f"'{column}' is constant on the {m} rows where both are present"


def _pearson_or_reason(
    xv: np.ndarray,
    yv: np.ndarray,
    key: tuple[Any, Any],
    m: int,
    reasons: dict[tuple[Any, Any], str],
) -> float:
    """Pearson's r of the ``m`` rows where both are present, or NaN with the reason."""
    if xv.min() == xv.max():
        reasons[key] = _constant_on(key[0], m)
    elif yv.min() == yv.max():
        reasons[key] = _constant_on(key[1], m)
    else:
        return _pearson_r(xv, yv)
    return math.nan


@dataclass(frozen=True, slots=True)
class _Pearson:
    """A standardized column ready for Pearson's r with any other one: made once."""

    col: _Col  # standardized values (NaN = missing), validity, count, constant
    centred: np.ndarray  # values minus the mean of the present ones, 0 where missing
    complete: bool  # no missing value


def _pearson_column(
    values: np.ndarray, every: np.ndarray | None = None, *, out: np.ndarray | None = None
) -> _Pearson:
    """Prepare one standardized column (at least one row) for :func:`_pearson_cells`.

    ``every``: an all-true mask to share between complete columns; ``out``: where to write
    the centred values.
    """
    mean = float(values.mean())  # finite exactly when no value is missing
    centred = np.empty(values.size) if out is None else out
    if math.isfinite(mean):
        if every is None:
            every = np.ones(values.size, dtype=bool)
        constant = bool(values.min() == values.max())
        col = _Col(values, every, _EMPTY, _EMPTY, values, values.size, constant)
        np.subtract(values, mean, out=centred)
        return _Pearson(col, centred, True)
    col = _prepare(values, sort=False)
    mean = float(np.nanmean(values)) if col.n_valid else 0.0
    np.subtract(values, mean, out=centred)
    centred[~col.valid] = 0.0
    return _Pearson(col, centred, False)


def _correlation_block(
    sub: np.ndarray, full: Sequence[int], rows: int, r: np.ndarray, n: np.ndarray
) -> None:
    """Fill the cells of complete columns from their centred Gram matrix ``sub``."""
    # s_ab / sqrt(s_aa s_bb): exactly 1 for identical columns (sqrt(s*s) == s)
    diag = np.diag(sub).copy()
    sel = np.ix_(full, full)
    r[sel] = np.clip(sub / np.sqrt(np.outer(diag, diag)), -1.0, 1.0)
    n[sel] = rows
    for a in full:
        r[a, a] = 1.0


def _pearson_cells(
    cols: Sequence[_Pearson],
    centred: np.ndarray,
    names: Sequence[Any],
    r: np.ndarray,
    n: np.ndarray,
    reasons: dict[tuple[Any, Any], str],
    progress: Progress | None = None,
) -> None:
    """Pairwise-complete Pearson r, pair counts and NaN reasons of every pair of columns.

    The one definition of Pearson's r here: :func:`correlation_matrix` passes all its
    columns, :func:`pair_association` two. ``centred`` holds the columns' ``centred`` rows.
    Columns without missing values share one centred Gram matrix; the other pairs come from
    :func:`_pairwise_pearson`, and the pairs it leaves (badly conditioned, a constant
    column, too few rows) take the exact per-pair path. Fills the cells off the diagonal
    (and the diagonal of the complete block).
    """
    k = len(cols)
    rows = centred.shape[1]
    full = [a for a, c in enumerate(cols) if c.complete and not c.col.constant]
    in_block: set[int] = set()
    if len(full) > 1 and rows >= CORRELATION_MIN_PAIRS:
        x = centred if len(full) == k else centred[full]
        _correlation_block(x @ x.T, full, rows, r, n)
        del x
        in_block = set(full)
    fast = None
    if len(full) < k:
        valid = np.empty((k, rows))
        for a, c in enumerate(cols):
            valid[a] = c.col.valid
        fast = _pairwise_pearson(centred, valid)
        del valid
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    for done, (a, b) in enumerate(pairs):
        if progress is not None:
            progress(done / max(len(pairs), 1))
        if a in in_block and b in in_block:
            continue
        if fast is not None and fast[2][a, b]:
            r[a, b] = r[b, a] = fast[0][a, b]
            n[a, b] = n[b, a] = fast[1][a, b]
            continue
        ca, cb = cols[a].col, cols[b].col
        mask = ca.valid & cb.valid
        m = int(mask.sum())
        n[a, b] = n[b, a] = m
        key = (names[a], names[b])
        if m < CORRELATION_MIN_PAIRS:
            reasons[key] = _too_few(m)
            continue
        xv, yv = ca.values[mask], cb.values[mask]
        r[a, b] = r[b, a] = _pearson_or_reason(xv, yv, key, m, reasons)


def _pairwise_pearson(
    x: np.ndarray, m: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson r for all pairs from four BLAS products.

    With x centred on its column mean and zero where missing, and M the validity
    indicators: n = M M', S = X M' (sums of x over the rows where the other is present),
    Q = X^2 M', P = X X'. Then cov = P - S S'/n and var = Q - S^2/n per pair. Returns r,
    n and a mask of the pairs where this is well conditioned (variance at least 1% of the
    raw second moment, so rounding stays near 1e-14); the rest go to the exact path.
    """
    nn = m @ m.T
    sx = x @ m.T
    q = (x * x) @ m.T
    cross = x @ x.T
    with np.errstate(divide="ignore", invalid="ignore"):
        var = q - sx**2 / nn
        cov = cross - sx * sx.T / nn
        r = np.clip(cov / np.sqrt(var * var.T), -1.0, 1.0)
        ok = (
            (nn >= CORRELATION_MIN_PAIRS)
            & (var > 0)
            & (var.T > 0)
            & (q <= 100 * var)
            & (q.T <= 100 * var.T)
            & np.isfinite(r)
        )
    return r, nn.astype(np.int64), ok


def _rerank(col: _Col, mask: np.ndarray) -> np.ndarray:
    """Average ranks among the rows in ``mask`` (a subset of the valid rows), in row order.

    A value's average rank among the kept rows is its rank among all valid rows minus
    the dropped values below it and half the dropped values equal to it. Only the
    dropped rows are counted, so the cost is one gather over the kept rows.
    """
    dropped = col.dense[col.valid & ~mask] - 1
    groups = int(col.dense.max())
    per_value = np.bincount(dropped, minlength=groups).astype(float)
    shift = np.cumsum(per_value) - per_value / 2  # dropped below + half the dropped equal
    return col.avg_rank[mask] - shift[col.dense[mask] - 1]


# --- categorical associations ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PairAssociation:
    """An association between two columns with its test and its sample size."""

    measure: str
    value: float
    p: float
    n: int
    statistic: float = math.nan
    reason: str = ""
    warnings: tuple[str, ...] = ()


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes (-1 = missing) and the number of levels."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _compact(codes: np.ndarray, levels: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop unused levels; return new codes and the level counts."""
    cnt = np.bincount(codes, minlength=levels)
    present = cnt > 0
    if present.all():  # nothing to drop: the codes as they are
        return codes, cnt
    remap = np.cumsum(present) - 1
    return remap[codes], cnt[present]


def _joint_counts(a: np.ndarray, b: np.ndarray, kb: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-zero cells of the contingency table: (row index, col index), counts."""
    key = a * kb + b
    uniq, cnt = np.unique(key, return_counts=True)
    return np.stack([uniq // kb, uniq % kb]), cnt


def _sum_of_squares(x: np.ndarray) -> float:
    """Sum of ``x**2`` by numpy's pairwise summation: no BLAS call (a threaded ``ddot`` costs
    more to wake its threads than a sample column takes to sum)."""
    return float(np.add.reduce(x * x))


def _canonical_sum(terms: np.ndarray) -> float:
    """Sum of per-cell (or per-group) terms in ascending order: the same float whatever
    order the codes number the categories in (codes of a whole column or of a sample)."""
    return float(np.add.reduce(np.sort(terms)))


def _table_cells(
    a: np.ndarray, ka: int, b: np.ndarray, kb: int
) -> tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray]:
    """The contingency table of the rows with both codes (``-1`` = missing).

    Returns ``nn`` (rows with both), the numbers of levels present on them (``r``, ``k``),
    and, for each non-empty cell in row-major order, its count and the counts of its row
    and of its column. A table of at most ``4 n + 1024`` cells is counted with one
    ``bincount`` over ``(a + 1) (k_b + 1) + b + 1`` (missing codes fall in row or column 0,
    which is cut off); a larger one (many levels) counts its non-empty cells by sorting.
    """
    cells = (ka + 1) * (kb + 1)
    if cells <= 4 * a.size + 1024:
        key = (a + 1) * (kb + 1) + (b + 1)
        full = np.bincount(key, minlength=cells).reshape(ka + 1, kb + 1)[1:, 1:]
        row_all, col_all = full.sum(axis=1), full.sum(axis=0)
        ia, ib = np.nonzero(full)
        return (
            int(row_all.sum()),
            int(np.count_nonzero(row_all)),
            int(np.count_nonzero(col_all)),
            full[ia, ib],
            row_all[ia],
            col_all[ib],
        )
    mask = (a >= 0) & (b >= 0)
    nn = int(mask.sum())
    a, rows = _compact(a[mask], ka)
    b, cols = _compact(b[mask], kb)
    (ia, ib), cnt = _joint_counts(a, b, cols.size)
    return nn, rows.size, cols.size, cnt, rows[ia], cols[ib]


def _cramers_v_codes(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> PairAssociation:
    return _cramers_v_cells(*_table_cells(a, ka, b, kb))


def _cramers_v_cells(
    nn: int, r_: int, k_: int, cnt: np.ndarray, row_n: np.ndarray, col_n: np.ndarray
) -> PairAssociation:
    """Cramér's V of a contingency table given as :func:`_table_cells` returns it."""
    if nn < CORRELATION_MIN_PAIRS:
        return PairAssociation(
            measure="cramers_v",
            value=math.nan,
            p=math.nan,
            n=nn,
            reason=f"only {nn} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed",
        )
    if r_ < 2 or k_ < 2:
        return PairAssociation(
            measure="cramers_v",
            value=math.nan,
            p=math.nan,
            n=nn,
            reason="one column has a single category on the rows where both are present",
        )
    terms = cnt.astype(float) ** 2 / (row_n * col_n.astype(float))
    chi2 = nn * (_canonical_sum(terms) - 1)
    return _cramers_v_from_chi2(chi2, nn, r_, k_)


def _cramers_v_from_chi2(chi2: float, nn: int, r_: int, k_: int) -> PairAssociation:
    """Bias-corrected V of an ``r_`` x ``k_`` table of ``nn`` rows (both at least 2) from its
    chi-square (engines compute the sums where the data is)."""
    chi2 = max(chi2, 0.0)
    dof = (r_ - 1) * (k_ - 1)
    phi2 = chi2 / nn
    phi2c = max(0.0, phi2 - dof / (nn - 1))
    rc = r_ - (r_ - 1) ** 2 / (nn - 1)
    kc = k_ - (k_ - 1) ** 2 / (nn - 1)
    denom = min(rc - 1, kc - 1)
    pval = float(special.chdtrc(dof, chi2))  # scipy.stats.chi2.sf, without its overhead
    if denom <= 0:
        return PairAssociation(
            measure="cramers_v",
            value=math.nan,
            p=pval,
            n=nn,
            statistic=chi2,
            reason="too few rows for the number of categories to correct the bias",
        )
    return PairAssociation(
        measure="cramers_v",
        value=min(1.0, math.sqrt(phi2c / denom)),
        p=pval,
        n=nn,
        statistic=chi2,
    )


def cramers_v(x: pd.Series | Sequence[object], y: pd.Series | Sequence[object]) -> PairAssociation:
    """Bias-corrected Cramér's V between two categorical variables.

    Parameters
    ----------
    x, y : pandas.Series or sequence
        Categorical values of equal length; missing values (NaN/None/NA) are dropped
        pairwise and are not a category.

    Returns
    -------
    PairAssociation
        ``value`` in [0, 1] (0 = independent, 1 = each determines the other), the Pearson
        chi-square ``statistic`` and its ``p``-value, ``n`` complete rows, or NaN with a
        ``reason``.

    Raises
    ------
    InvalidParameterError
        If the lengths differ.

    Notes
    -----
    With an r x k table of n rows and :math:`\\varphi^2 = \\chi^2 / n`:
    :math:`\\tilde\\varphi^2 = \\max(0, \\varphi^2 - (k-1)(r-1)/(n-1))`,
    :math:`\\tilde r = r - (r-1)^2/(n-1)`, :math:`\\tilde k = k - (k-1)^2/(n-1)`,
    :math:`\\tilde V = \\sqrt{\\tilde\\varphi^2 / \\min(\\tilde k - 1, \\tilde r - 1)}`.
    The chi-square has no continuity correction; p from :math:`\\chi^2_{(r-1)(k-1)}`.
    Only non-empty cells are visited, so high-cardinality columns stay cheap.

    References
    ----------
    .. [B13] Bergsma, W. (2013). A bias-correction for Cramér's V and Tschuprow's T.
       Journal of the Korean Statistical Society 42(3), 323-328.

    Examples
    --------
    >>> round(cramers_v(list("aaaaaabbbb") * 2, list("xxxxxxyyyy") * 2).value, 6)
    1.0
    """
    sx, sy = pd.Series(x), pd.Series(y)
    if len(sx) != len(sy):
        raise InvalidParameterError(
            f"x and y must have the same length; got {len(sx)} and {len(sy)}."
        )
    a, ka = _codes(sx)
    b, kb = _codes(sy)
    return _cramers_v_codes(a, ka, b, kb)


def _eta_codes(codes: np.ndarray, levels: int, values: np.ndarray) -> PairAssociation:
    mask = (codes >= 0) & ~np.isnan(values)
    nn = int(mask.sum())
    if nn < CORRELATION_MIN_PAIRS:
        return PairAssociation(
            measure="eta",
            value=math.nan,
            p=math.nan,
            n=nn,
            reason=f"only {nn} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed",
        )
    whole = nn == codes.size  # no row dropped: no copy of either column
    g, size = _compact(codes if whole else codes[mask], levels)
    y = _standardize_complete(values if whole else values[mask])  # eta and F do not change
    return _eta_grouped(nn, g, size, y)


def _eta_grouped(nn: int, g: np.ndarray, size: np.ndarray, y: np.ndarray) -> PairAssociation:
    """Eta of ``nn`` complete rows: group ``g`` (compact codes of ``size.size`` groups of
    ``size`` rows) and standardized values ``y``."""
    kk = size.size
    dev = y - y.mean()
    sst = _sum_of_squares(dev)
    if kk < 2 or sst == 0:
        return _eta_from_sums(nn, kk, sst, 0.0, 0.0, flat=False)
    # SS_W from the residuals, not SS_T - SS_B (which cancels when eta is near 1); the
    # second pass centres each group exactly, so F stays accurate up to eta = 1
    gmean = np.bincount(g, weights=dev, minlength=kk) / size
    resid = dev - gmean[g]
    fix = np.bincount(g, weights=resid, minlength=kk) / size
    resid -= fix[g]
    gmean += fix
    gmean -= _canonical_sum(size * gmean) / nn
    ssb = _canonical_sum(size * gmean**2)
    # every group holds one number when each value equals any one value of its group
    member = np.empty(kk)
    member[g] = y
    flat = bool(np.array_equal(y, member[g]))
    return _eta_from_sums(nn, kk, sst, ssb, _sum_of_squares(resid), flat=flat)


def _eta_from_sums(
    nn: int, kk: int, sst: float, ssb: float, ssw: float, *, flat: bool
) -> PairAssociation:
    """Eta and its F test from ``nn`` rows in ``kk`` categories with total, between and
    within sums of squares; ``flat``: every category holds a single number (engines compute
    the sums where the data is)."""
    if kk < 2:
        reason = "the categorical column has a single category on these rows"
    elif sst == 0:
        reason = "the numeric column is constant on these rows"
    else:
        reason = ""
    if reason:
        return PairAssociation(measure="eta", value=math.nan, p=math.nan, n=nn, reason=reason)
    if flat:  # every group constant: the groups explain everything
        ssw, eta = 0.0, 1.0
    else:
        eta = min(1.0, math.sqrt(ssb / sst))
    if nn - kk <= 0:
        return PairAssociation(
            measure="eta",
            value=eta,
            p=math.nan,
            n=nn,
            reason="every row is its own category, so no test is possible",
        )
    with np.errstate(divide="ignore"):
        f = (ssb / (kk - 1)) / (ssw / (nn - kk)) if ssw > 0 else math.inf
    return PairAssociation(
        measure="eta",
        value=eta,
        p=float(special.fdtrc(kk - 1, nn - kk, f)),  # scipy.stats.f.sf, without its overhead
        n=nn,
        statistic=f,
    )


def correlation_ratio(
    categories: pd.Series | Sequence[object], values: pd.Series | Sequence[float]
) -> PairAssociation:
    """Correlation ratio eta between a categorical and a numeric variable.

    Parameters
    ----------
    categories : pandas.Series or sequence
        Group labels; missing labels are dropped pairwise.
    values : pandas.Series or sequence of float
        Numeric values; NaN is dropped pairwise.

    Returns
    -------
    PairAssociation
        ``value`` in [0, 1] (share of the spread of ``values`` explained by the
        categories, square-rooted), the one-way ANOVA ``statistic`` F and its ``p``-value.

    Raises
    ------
    InvalidParameterError
        If the lengths differ.

    Notes
    -----
    :math:`\\eta^2 = \\sum_g n_g(\\bar y_g - \\bar y)^2 / \\sum_i (y_i - \\bar y)^2`.
    :math:`F = (SS_B/(k-1)) / (SS_W/(n-k))` with p from :math:`F_{k-1, n-k}`, the test of
    :func:`scipy.stats.f_oneway`.

    References
    ----------
    .. [P05] Pearson, K. (1905). On the general theory of skew correlation and non-linear
       regression. Drapers' Company Research Memoirs, Biometric Series II.

    Examples
    --------
    >>> round(correlation_ratio(list("aaabbb"), [1, 2, 3, 4, 5, 6]).value ** 2, 6)  # 27/35
    0.771429
    """
    sc = pd.Series(categories)
    sv = pd.Series(values)
    if len(sc) != len(sv):
        raise InvalidParameterError(
            f"categories and values must have the same length; got {len(sc)} and {len(sv)}."
        )
    codes, levels = _codes(sc)
    num = _numbers(sv)
    res = _eta_codes(codes, levels, num.values)
    if num.n_inf:
        name = sv.name if isinstance(sv.name, str) else "values"
        res = replace(res, warnings=(_inf_warning(name, num.n_inf),))
    return res


def _entropy(counts: np.ndarray) -> float:
    pr = counts[counts > 0] / counts.sum()
    return float(-np.sum(pr * np.log(pr)))


def _nmi_codes(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> tuple[float, int]:
    mask = (a >= 0) & (b >= 0)
    nn = int(mask.sum())
    if nn == 0:
        return math.nan, 0
    a, rows = _compact(a[mask], ka)
    b, cols = _compact(b[mask], kb)
    ha, hb = _entropy(rows), _entropy(cols)
    if ha == 0 and hb == 0:
        return math.nan, nn
    _, cnt = _joint_counts(a, b, cols.size)
    return _nmi_from_entropies(ha, hb, _entropy(cnt)), nn


def _nmi_from_entropies(ha: float, hb: float, hab: float) -> float:
    """``2 I / (H(a) + H(b))`` clipped to [0, 1]; NaN when both entropies are 0."""
    if ha == 0 and hb == 0:
        return math.nan
    mi = ha + hb - hab
    return float(min(1.0, max(0.0, 2 * mi / (ha + hb))))


def _discrete_codes(
    series: pd.Series, bins: int, *, categorical: bool = False
) -> tuple[np.ndarray, int, bool]:
    """Codes for information measures: categories as is; numbers in quantile bins.

    ``categorical`` keeps a numeric column's values as categories (codes declared category).
    Returns codes (-1 = missing), level count and whether the column was binned.
    """
    if categorical or not _is_numeric(series):
        c, k = _codes(series)
        return c, k, False
    num = _numbers(series)
    v = num.values
    col = _prepare(v, key=num.key)
    n_distinct = int(col.dense.max()) if col.n_valid else 0
    if n_distinct <= bins:
        return np.where(col.valid, col.dense - 1, -1).astype(np.int64), n_distinct, False
    # quantile bins by the lowest rank of each value, so equal values share a bin
    first = np.r_[0, np.flatnonzero(np.diff(col.dense[col.order])) + 1]
    lowest_rank = first[col.dense[col.valid] - 1]
    codes = np.full(v.size, -1, np.int64)
    codes[col.valid] = (lowest_rank * bins) // col.n_valid
    c2, k2 = _compact(codes[col.valid], bins)
    codes[col.valid] = c2
    return codes, int(k2.size), True


def normalized_mutual_information(
    x: pd.Series | Sequence[object],
    y: pd.Series | Sequence[object],
    *,
    bins: int = NMI_BINS,
) -> float:
    """Mutual information normalized by the mean entropy, in [0, 1].

    Parameters
    ----------
    x, y : pandas.Series or sequence
        Values of equal length. Numeric columns with more than ``bins`` distinct values
        are cut into ``bins`` quantile bins; others are used as categories. Missing values
        are dropped pairwise.
    bins : int >= 2
        Number of quantile bins for numeric columns (default ``NMI_BINS``).

    Returns
    -------
    float
        NMI in [0, 1]: 0 for independence, 1 when each determines the other. NaN when both
        are constant or no row has both values.

    Raises
    ------
    InvalidParameterError
        If the lengths differ or ``bins`` < 2.

    Notes
    -----
    :math:`NMI = 2 I(X;Y) / (H(X) + H(Y))` with
    :math:`I(X;Y) = H(X) + H(Y) - H(X,Y)` and empirical entropies in nats (the
    "arithmetic" normalization, scikit-learn's default).

    References
    ----------
    .. [VEB10] Vinh, N. X., Epps, J. and Bailey, J. (2010). Information theoretic measures
       for clusterings comparison. JMLR 11, 2837-2854.

    Examples
    --------
    >>> normalized_mutual_information(["a", "a", "b", "b"], [1, 1, 2, 2])
    1.0
    >>> normalized_mutual_information(["a", "a", "b", "b"], [1, 2, 1, 2])
    0.0
    """
    if int(bins) < 2:
        raise InvalidParameterError(f"bins must be at least 2; got {bins}. Use e.g. 10.")
    sx, sy = pd.Series(x), pd.Series(y)
    if len(sx) != len(sy):
        raise InvalidParameterError(
            f"x and y must have the same length; got {len(sx)} and {len(sy)}."
        )
    a, ka, _ = _discrete_codes(sx, int(bins))
    b, kb, _ = _discrete_codes(sy, int(bins))
    return _nmi_codes(a, ka, b, kb)[0]


# --- one pair from columns read once ----------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class PairColumn:
    """A column read once for :func:`pair_association`: codes or numbers, never values again.

    ``kind`` is ``"categorical"`` (``codes``: int64, ``-1`` = missing, ``levels`` codes in
    all) or ``"numeric"`` (``numbers``: float64 with NaN for missing or infinite, and the
    column itself for a correlation with another numeric column).
    """

    kind: Literal["categorical", "numeric"]
    codes: np.ndarray | None = None
    levels: int = 0
    numbers: np.ndarray | None = None
    n_inf: int = 0
    series: pd.Series | None = None
    #: what the measures derive from this column alone, made on first use
    derived: dict[str, Any] = field(default_factory=dict, repr=False)


def pair_column(
    series: pd.Series,
    *,
    categorical: bool = False,
    codes: np.ndarray | None = None,
    rows: np.ndarray | None = None,
) -> PairColumn:
    """Read a column once for the pair measures of :func:`pair_association`.

    Parameters
    ----------
    series : pandas.Series
        The column.
    categorical : bool
        Treat a numeric column as categories (declared categorical). Text, boolean and
        category columns are always categorical.
    codes : numpy.ndarray, optional
        The column's codes when already known (``-1`` = missing, two rows share a code
        exactly when their values are equal, as ``pandas.factorize`` gives): a categorical
        column is then not read at all. Ignored for a numeric column.
    rows : numpy.ndarray, optional
        Positions of the rows to measure (default: every row); ``codes`` are the whole
        column's, and only these rows of them (or of the column) are taken.

    Returns
    -------
    PairColumn

    Examples
    --------
    >>> c = pair_column(pd.Series(["a", None, "b", "a"]))
    >>> c.kind, c.codes.tolist(), c.levels
    ('categorical', [0, -1, 1, 0], 2)
    """
    if categorical or not _is_numeric(series):
        if codes is None:
            found, levels = _codes(series if rows is None else series.iloc[rows])
        else:
            found = np.asarray(codes if rows is None else codes[rows], dtype=np.int64)
            levels = int(found.max(initial=-1)) + 1
        return PairColumn(kind="categorical", codes=found, levels=levels)
    if rows is not None:
        series = series.iloc[rows]
    num = _numbers(series)
    return PairColumn(kind="numeric", numbers=num.values, n_inf=num.n_inf, series=series)


def pair_association(
    a: PairColumn, b: PairColumn, *, numeric_method: Method = "pearson"
) -> PairAssociation:
    """The association of two columns, the measure and value of :func:`association_matrix`.

    Parameters
    ----------
    a, b : PairColumn
        Two columns of the same rows, read by :func:`pair_column`.
    numeric_method : {"pearson", "spearman", "kendall"}
        Correlation used when both are numeric.

    Returns
    -------
    PairAssociation
        Cramér's V for two categorical columns, eta for a categorical and a numeric one,
        the correlation of two numeric ones (its p-value and pair count), NaN with a
        ``reason`` when the pair cannot be measured.

    Notes
    -----
    Cramér's V counts its contingency table with one ``bincount`` of the two code arrays
    (no sort, no factorization); eta takes its group sums with ``bincount`` and its sums of
    squares by pairwise summation (no BLAS call). :func:`association_matrix` measures its
    categorical and mixed pairs with this very function. Two numeric columns with Pearson
    go through the products :func:`correlation_matrix` uses, on each column standardized
    and centred once (kept in ``derived``), so no table is built per pair; Spearman and
    Kendall build the two-column matrix.

    Examples
    --------
    >>> g = pair_column(pd.Series(list("aaabbb")))
    >>> y = pair_column(pd.Series([1, 2, 3, 4, 5, 6]))
    >>> res = pair_association(g, y)
    >>> res.measure, round(res.value ** 2, 6)
    ('eta', 0.771429)
    """
    _check_pair(a, b)
    if a.kind == "numeric" and b.kind == "numeric" and numeric_method == "pearson":
        return _pearson_pair(a, b)
    if a.kind == "numeric" and b.kind == "numeric":
        assert a.series is not None and b.series is not None
        pair = pd.DataFrame({"a": a.series.array, "b": b.series.array})  # dtypes kept
        cm = correlation_matrix(pair, method=numeric_method, columns=["a", "b"])
        return PairAssociation(
            measure=numeric_method,
            value=float(cm.r[0, 1]),
            p=float(cm.p[0, 1]),
            n=int(cm.n[0, 1]),
            reason=cm.reasons.get(("a", "b"), ""),
        )
    if a.kind == "categorical" and b.kind == "categorical":
        assert a.codes is not None and b.codes is not None
        return _cramers_v_codes(a.codes, a.levels, b.codes, b.levels)
    cat, num = (a, b) if a.kind == "categorical" else (b, a)
    assert cat.codes is not None and num.numbers is not None
    if not _complete(num) or cat.codes.size != num.numbers.size:
        return _eta_codes(cat.codes, cat.levels, num.numbers)
    # the numeric column has no missing value: the rows kept are the categorical column's,
    # so its groups are found once for every numeric column it meets
    if "groups" not in cat.derived:
        present = cat.codes >= 0
        count = int(np.count_nonzero(present))
        whole = count == cat.codes.size
        grouped = _compact(cat.codes if whole else cat.codes[present], cat.levels)
        cat.derived["groups"] = (None if whole else present, count, *grouped)
    groups: tuple[np.ndarray | None, int, np.ndarray, np.ndarray] = cat.derived["groups"]
    valid, nn, g, size = groups
    if nn < CORRELATION_MIN_PAIRS:
        return _eta_codes(cat.codes, cat.levels, num.numbers)  # its reason, as the matrix's
    if valid is None:
        if "standardized" not in num.derived:
            num.derived["standardized"] = _standardize_complete(num.numbers)
        y = num.derived["standardized"]
    else:
        y = _standardize_complete(num.numbers[valid])
    return _eta_grouped(nn, g, size, y)


def _pearson_pair(a: PairColumn, b: PairColumn) -> PairAssociation:
    """Pearson's r of two numeric columns, the cell :func:`correlation_matrix` gives them.

    Each column is standardized and centred once (remembered in ``derived``); the pair
    then costs the products of :func:`_pearson_cells`, the matrix's own definition.
    """
    names = [
        c.series.name if c.series is not None and c.series.name is not None else default
        for c, default in ((a, "a"), (b, "b"))
    ]
    if names[0] == names[1]:
        names = ["a", "b"]
    assert a.numbers is not None
    if a.numbers.size == 0:
        return PairAssociation(measure="pearson", value=math.nan, p=math.nan, n=0,
                               reason=_too_few(0))  # fmt: skip
    pa, pb = _pearson_prepared(a), _pearson_prepared(b)
    r = np.full((2, 2), np.nan)
    n = np.zeros((2, 2), dtype=np.int64)
    reasons: dict[tuple[Any, Any], str] = {}
    _pearson_cells((pa, pb), np.stack((pa.centred, pb.centred)), names, r, n, reasons)
    p = _pearson_p(r[0, 1:], n[0, 1:].astype(float))
    return PairAssociation(
        measure="pearson",
        value=float(r[0, 1]),
        p=float(p[0]),
        n=int(n[0, 1]),
        reason=reasons.get((names[0], names[1]), ""),
    )


def _pearson_prepared(col: PairColumn) -> _Pearson:
    """A numeric column standardized and centred for Pearson's r, made on first use."""
    if "pearson" not in col.derived:
        assert col.numbers is not None
        col.derived["pearson"] = _pearson_column(_standardize(col.numbers))
    return col.derived["pearson"]  # type: ignore[no-any-return]


def _complete(col: PairColumn) -> bool:
    """Whether a numeric column has no missing (or infinite) value, remembered."""
    if "complete" not in col.derived:
        assert col.numbers is not None
        col.derived["complete"] = not bool(np.isnan(col.numbers).any())
    return bool(col.derived["complete"])


# --- one pair measured again after cells are blanked -------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class _Table:
    """Non-empty cells of a contingency table (sorted keys ``a * levels_b + b``, counts)
    and its row and column totals."""

    keys: np.ndarray
    counts: np.ndarray
    row_totals: np.ndarray
    col_totals: np.ndarray


@dataclass(frozen=True, slots=True, eq=False)
class _Groups:
    """Numbers grouped by category: scaled once to ``z = x / top - centre``, then per
    category its rows, the mean of ``z`` and the sums of the residuals from that mean and
    of their squares; ``total``: the sum of squares of ``z`` about its mean; ``flat``: each
    category's one number, when every category holds a single number (else None)."""

    top: float
    centre: float
    size: np.ndarray
    mean: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    total: float
    flat: np.ndarray | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PairCounts:
    """What :func:`pair_association` counts on two columns, kept to measure the pair again
    after some of its cells are blanked (:func:`blanked_association`).

    Made by :func:`pair_counts`. ``kind`` is ``"table"`` for two categorical columns (the
    contingency table over the rows where both are present) and ``"groups"`` for a
    categorical and a numeric column (per category, the count, mean and sum of squares of
    the numbers); ``n`` rows have both values.
    """

    kind: Literal["table", "groups"]
    a: PairColumn
    b: PairColumn
    present: np.ndarray
    n: int
    table: _Table | None = None
    #: None when the numbers are constant on the rows with both values (measured afresh)
    groups: _Groups | None = None


def _check_pair(a: PairColumn, b: PairColumn) -> None:
    size_a, size_b = (len(c.codes if c.codes is not None else c.numbers) for c in (a, b))  # type: ignore[arg-type]
    if size_a != size_b:
        raise InvalidParameterError(
            f"The two columns of a pair must hold the same rows; got {size_a} and {size_b} "
            "rows. Read both with pair_column from the same table (and the same rows)."
        )


def pair_counts(a: PairColumn, b: PairColumn) -> PairCounts:
    """Count what the association of two columns needs, to measure it again when cells go.

    Parameters
    ----------
    a, b : PairColumn
        Two columns of the same rows (:func:`pair_column`), at least one categorical.

    Returns
    -------
    PairCounts
        For :func:`blanked_association`.

    Raises
    ------
    InvalidParameterError
        The columns hold different numbers of rows, or both are numeric (a correlation has
        no counts to update: use :func:`pair_association`).

    Notes
    -----
    Two categorical columns keep the non-empty cells of their contingency table (one
    ``bincount`` of ``a * levels_b + b``, or a sort when the table has more than
    ``4 n + 1024`` cells) with its row and column totals. A categorical and a numeric
    column keep, per category, the rows with both values, the mean of the numbers scaled
    to at most 1 in absolute value and centred, and the sums of the residuals and of their
    squares. Only these counts and sums change when cells are blanked.

    Examples
    --------
    >>> c = pair_counts(pair_column(pd.Series(list("aabb"))), pair_column(pd.Series([1, 2, 3, 5])))
    >>> c.kind, c.n
    ('groups', 4)
    """
    _check_pair(a, b)
    if a.kind == "numeric" and b.kind == "numeric":
        raise InvalidParameterError(
            "pair_counts takes a categorical column and a categorical or numeric one; got two "
            "numeric columns. Measure them with pair_association."
        )
    if a.kind == "categorical" and b.kind == "categorical":
        assert a.codes is not None and b.codes is not None
        present = (a.codes >= 0) & (b.codes >= 0)
        return PairCounts(kind="table", a=a, b=b, present=present,
                          **_table_counts(a.codes, a.levels, b.codes, b.levels))  # fmt: skip
    cat, num = (a, b) if a.kind == "categorical" else (b, a)
    assert cat.codes is not None and num.numbers is not None
    present = (cat.codes >= 0) & ~np.isnan(num.numbers)
    whole = bool(present.all())  # no row dropped: no copy of either column
    g = cat.codes if whole else cat.codes[present]
    x = num.numbers if whole else num.numbers[present]
    low, high = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
    if low == high:  # constant: measured afresh
        return PairCounts(kind="groups", a=a, b=b, present=present, n=int(x.size))
    top = max(-low, high)
    z = x / top
    centre = float(np.mean(z))
    z -= centre
    size = np.bincount(g, minlength=cat.levels)
    mean = np.zeros(cat.levels)
    np.divide(np.bincount(g, weights=z, minlength=cat.levels), size, out=mean, where=size > 0)
    resid = z - mean[g]
    member = np.full(cat.levels, np.nan)
    member[g] = x  # every category holds one number when each equals any one of its own
    groups = _Groups(
        top=top,
        centre=centre,
        size=size,
        mean=mean,
        sums=np.bincount(g, weights=resid, minlength=cat.levels),
        squares=np.bincount(g, weights=resid * resid, minlength=cat.levels),
        total=_sum_of_squares(z),  # z is centred
        flat=member if np.array_equal(x, member[g]) else None,
    )
    return PairCounts(kind="groups", a=a, b=b, present=present, n=int(x.size), groups=groups)


def _table_counts(a: np.ndarray, ka: int, b: np.ndarray, kb: int) -> dict[str, Any]:
    """The contingency table of the rows with both codes, as :class:`PairCounts` keeps it:
    one ``bincount`` over ``(a + 1) (k_b + 1) + b + 1`` (missing codes fall in row or column
    0, which is cut off) up to ``max(4 n + 1024, 2**21)`` cells, else a sort."""
    cells = (ka + 1) * (kb + 1)
    if cells <= max(4 * a.size + 1024, 1 << 21):
        key = (a + 1) * (kb + 1) + (b + 1)
        full = np.bincount(key, minlength=cells).reshape(ka + 1, kb + 1)[1:, 1:]
        rows, cols = full.sum(axis=1), full.sum(axis=0)
        flat = np.ascontiguousarray(full).ravel()
        keys = np.flatnonzero(flat)
        counts = flat[keys]
    else:
        both = (a >= 0) & (b >= 0)
        a, b = a[both], b[both]
        keys, counts = np.unique(a * kb + b, return_counts=True)
        rows, cols = np.bincount(a, minlength=ka), np.bincount(b, minlength=kb)
    table = _Table(
        keys=keys.astype(np.int64, copy=False),
        counts=counts.astype(np.int64, copy=False),
        row_totals=rows.astype(np.int64, copy=False),
        col_totals=cols.astype(np.int64, copy=False),
    )
    return {"n": int(rows.sum()), "table": table}


def _blanked(col: PairColumn, at: np.ndarray | None) -> PairColumn:
    """The column with the cells of the rows at positions ``at`` missing."""
    if at is None:
        return col
    if col.kind == "categorical":
        assert col.codes is not None
        codes = col.codes.copy()
        codes[at] = -1
        return PairColumn(kind="categorical", codes=codes, levels=col.levels)
    assert col.numbers is not None
    numbers = col.numbers.copy()
    numbers[at] = np.nan
    return PairColumn(kind="numeric", numbers=numbers, n_inf=col.n_inf)


def blanked_association(
    counts: PairCounts,
    *,
    blank_a: np.ndarray | None = None,
    blank_b: np.ndarray | None = None,
) -> PairAssociation:
    """The association of a pair after cells of its columns are blanked, from its counts.

    Parameters
    ----------
    counts : PairCounts
        The pair before, from :func:`pair_counts`.
    blank_a, blank_b : numpy.ndarray, optional
        The cells of the first (second) column that are missing after the change (a cell
        missing before may be given or not): one bool flag per row, or the positions of
        those rows, strictly increasing (as ``np.flatnonzero`` gives them; cheaper when few
        cells go). None: none blanked.

    Returns
    -------
    PairAssociation
        What :func:`pair_association` gives the two columns with the flagged cells missing:
        Cramér's V and everything with it exactly so; eta, its ``n`` exactly, its value
        within ``1e-12`` (the sums are updated, not taken afresh) and its F and p close.

    Raises
    ------
    InvalidParameterError
        A flag array is not one flag per row, or positions are not strictly increasing
        row positions.

    Notes
    -----
    Blanking only removes rows from the pair. Cramér's V: the contingency table after is
    the table before less the cells of the rows that lost a value (one ``np.unique`` of
    those rows' keys), so only the non-empty cells are visited again; the chi-square is the
    same sum over the same cells (:func:`pair_association` adds its terms in ascending
    order), bit for bit. Eta: each category's count, mean and sum of squared residuals
    lose those rows' (the residuals of the removed rows are the very numbers the counts
    summed), then the between and within sums of squares combine the categories; when each
    category held a single number, it still does (eta = 1). When the rows left hold under
    1/64 of the sum of squares before (the update would lose digits), when fewer than 2
    categories or too few rows remain, when the numbers left are all equal, or when the
    within sum nearly vanishes (eta near 1, where F needs every digit), the pair is
    measured afresh.

    Examples
    --------
    >>> g = pair_column(pd.Series(list("aaabbbcc")))
    >>> y = pair_column(pd.Series([1.0, 2, 3, 4, 5, 7, 1, 2]))
    >>> gone = np.array([False] * 6 + [True, False])
    >>> after = blanked_association(pair_counts(g, y), blank_a=gone)
    >>> fresh = pair_association(pair_column(pd.Series(list("aaabbb") + [None, "c"])), y)
    >>> after.n == fresh.n, abs(after.value - fresh.value) < 1e-12
    (True, True)
    """
    size = counts.present.size
    at_a, at_b = _positions("blank_a", blank_a, size), _positions("blank_b", blank_b, size)
    if at_a is None or at_b is None:
        gone = at_b if at_a is None else at_a
        gone = np.zeros(0, dtype=np.int64) if gone is None else gone
    else:
        gone = np.union1d(at_a, at_b)
    gone = gone[counts.present[gone]]  # rows that had both values and lost one
    if counts.table is not None:
        return _blanked_table(counts, counts.table, gone)
    if counts.groups is not None:
        found = _blanked_groups(counts, counts.groups, gone)
        if found is not None:
            return found
    return pair_association(_blanked(counts.a, at_a), _blanked(counts.b, at_b))


def _positions(name: str, blank: np.ndarray | None, size: int) -> np.ndarray | None:
    """The positions of the blanked rows: from flags, or checked as given."""
    if blank is None:
        return None
    blank = np.asarray(blank)
    if blank.dtype == bool:
        if blank.shape != (size,):
            raise InvalidParameterError(
                f"{name} must hold one bool flag per row ({size}); got flags in shape "
                f"{blank.shape}. Flag the blanked cells with True, or give their row positions."
            )
        return np.flatnonzero(blank)
    ok = blank.ndim == 1 and np.issubdtype(blank.dtype, np.integer)
    if ok and blank.size:
        ok = 0 <= int(blank[0]) and int(blank[-1]) < size and bool(np.all(blank[1:] > blank[:-1]))
    if not ok:
        raise InvalidParameterError(
            f"{name} must be bool flags or strictly increasing row positions in [0, {size}); "
            f"got {blank.size} value(s) of {blank.dtype} that are not. Give np.flatnonzero "
            "of the flags."
        )
    return blank.astype(np.int64, copy=False)


def _blanked_table(counts: PairCounts, t: _Table, gone: np.ndarray) -> PairAssociation:
    """Cramér's V of the table ``t`` less the rows ``gone``."""
    assert counts.a.codes is not None and counts.b.codes is not None
    kb = counts.b.levels
    cells, rows, cols = t.counts, t.row_totals, t.col_totals
    keys = t.keys
    if gone.size:
        ra, rb = counts.a.codes[gone], counts.b.codes[gone]
        key = ra * kb + rb  # each is a key of the table: those rows were counted in it
        if rows.size * kb <= 4 * key.size + 1024:  # a small table: counted, not sorted
            cells = cells - np.bincount(key, minlength=rows.size * kb)[keys]
        else:
            lost, lost_n = np.unique(key, return_counts=True)
            cells = cells.copy()
            cells[np.searchsorted(keys, lost)] -= lost_n
        rows = rows - np.bincount(ra, minlength=rows.size)
        cols = cols - np.bincount(rb, minlength=cols.size)
        left = cells > 0
        keys, cells = keys[left], cells[left]
    ia, ib = (keys // kb, keys % kb) if kb else (keys, keys)
    r_, k_ = int(np.count_nonzero(rows)), int(np.count_nonzero(cols))
    return _cramers_v_cells(counts.n - gone.size, r_, k_, cells, rows[ia], cols[ib])


def _blanked_groups(counts: PairCounts, gr: _Groups, gone: np.ndarray) -> PairAssociation | None:
    """Eta of the groups ``gr`` less the rows ``gone``, or None to measure afresh."""
    cat, num = (counts.a, counts.b) if counts.a.kind == "categorical" else (counts.b, counts.a)
    assert cat.codes is not None and num.numbers is not None
    g = cat.codes[gone]
    resid = (num.numbers[gone] / gr.top - gr.centre) - gr.mean[g]  # the very residuals summed
    size = gr.size - np.bincount(g, minlength=gr.size.size)
    live = size > 0
    nn, kk = counts.n - gone.size, int(np.count_nonzero(live))
    if nn < CORRELATION_MIN_PAIRS or kk < 2:
        return None  # the reason, as a fresh measurement gives it
    if gr.flat is not None:  # still one number per category: eta = 1 unless all are equal
        left = gr.flat[live]
        if float(left.min()) == float(left.max()):
            return None
        return _eta_from_sums(nn, kk, 1.0, 1.0, 0.0, flat=True)
    w = size[live].astype(float)
    sums = (gr.sums - np.bincount(g, weights=resid, minlength=gr.size.size))[live]
    squares = (gr.squares - np.bincount(g, weights=resid * resid, minlength=gr.size.size))[live]
    shift = sums / w
    within = np.maximum(squares - sums * shift, 0.0)
    means = gr.mean[live] + shift
    dev = means - float(np.add.reduce(w * means)) / nn
    dev -= float(np.add.reduce(w * dev)) / nn
    ssb = float(np.add.reduce(w * dev * dev))
    ssw = float(np.add.reduce(within))
    sst = ssb + ssw
    if sst < gr.total / 64 or ssw < 1e-6 * sst:
        return None
    return _eta_from_sums(nn, kk, sst, ssb, ssw, flat=False)


# --- association matrix ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AssociationMatrix:
    """One association matrix over numeric and categorical columns.

    ``measure[i, j]`` names what ``value[i, j]`` is: the chosen correlation for two numeric
    columns (signed, in [-1, 1]), ``"cramers_v"`` for two categorical ones and ``"eta"``
    for a mixed pair (both in [0, 1]).
    """

    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    value: np.ndarray
    measure: np.ndarray
    p: np.ndarray
    p_adjusted: np.ndarray
    n: np.ndarray
    reasons: Mapping[tuple[str, str], str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def frame(self, what: str = "value") -> pd.DataFrame:
        """One of the square arrays as a labelled DataFrame."""
        return pd.DataFrame(getattr(self, what), index=self.columns, columns=self.columns)

    def pairs(self) -> pd.DataFrame:
        """One row per unordered pair, strongest (largest absolute value) first."""
        i, j = np.triu_indices(len(self.columns), k=1)
        out = pd.DataFrame(
            {
                "column_a": [self.columns[k] for k in i],
                "column_b": [self.columns[k] for k in j],
                "measure": self.measure[i, j],
                "value": self.value[i, j],
                "p": self.p[i, j],
                "p_adjusted": self.p_adjusted[i, j],
                "n": self.n[i, j],
                "reason": [
                    self.reasons.get((self.columns[a], self.columns[b]), "")
                    for a, b in zip(i, j, strict=True)
                ],
            }
        )
        key = out["value"].abs().fillna(-1).to_numpy()
        return out.iloc[np.argsort(-key, kind="stable")].reset_index(drop=True)


def _kinds(df: pd.DataFrame, cols: Sequence[str], categorical: Sequence[str] | None) -> list[str]:
    forced = set(categorical or ())
    return ["categorical" if (c in forced or not _is_numeric(df[c])) else "numeric" for c in cols]


def _high_cardinality(df: pd.DataFrame, cols: Sequence[str], kinds: Sequence[str]) -> list[str]:
    out = []
    for c, kind in zip(cols, kinds, strict=True):
        if kind != "categorical":
            continue
        nonnull = int(df[c].notna().sum())
        distinct = int(df[c].nunique(dropna=True))
        if nonnull >= 20 and distinct > HIGH_CARDINALITY_SHARE * nonnull:
            out.append(
                f"Column '{c}' has {distinct:,} distinct values in {nonnull:,} rows; its "
                "associations are inflated (each row is nearly its own category)."
            )
    return out


def association_matrix(
    df: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    numeric_method: Method = "pearson",
    progress: Progress | None = None,
    kinds: Mapping[str, str] | None = None,
) -> AssociationMatrix:
    """Association between every pair of columns, numeric and categorical alike.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    columns : sequence of str, optional
        Columns to use (default: all).
    categorical : sequence of str, optional
        Numeric columns to treat as categorical codes (e.g. a numeric postcode). Text,
        boolean and category columns are always categorical.
    numeric_method : {"pearson", "spearman", "kendall"}
        Correlation used for numeric-numeric pairs.
    progress : callable, optional
        Called with the completed share in [0, 1].
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page: a column declared ``category``, ``text`` or
        ``boolean`` is categorical whatever its values (integer codes get Cramér's V or the
        correlation ratio, never a correlation of the codes).

    Returns
    -------
    AssociationMatrix
        Values, the measure used per cell, p-values (chi-square test for Cramér's V,
        one-way ANOVA F test for eta, the correlation test otherwise), BH-adjusted
        p-values over the upper triangle, pair counts and reasons for NaN cells.

    Raises
    ------
    InvalidParameterError
        Empty table, fewer than 2 columns, or an unknown ``numeric_method``.
    ColumnError
        A requested column is missing.

    Notes
    -----
    Numeric-numeric cells are signed correlations in [-1, 1]; the others are in [0, 1]
    and have no sign. Missing values are dropped per pair. Cramér's V is bias-corrected
    [B13]_; eta is :func:`correlation_ratio`.

    References
    ----------
    .. [B13] Bergsma, W. (2013). A bias-correction for Cramér's V and Tschuprow's T.
       Journal of the Korean Statistical Society 42(3), 323-328.

    Examples
    --------
    >>> d = pd.DataFrame({"g": list("aaabbb"), "y": [1, 2, 3, 4, 5, 6], "z": [1, 2, 3, 4, 5, 7]})
    >>> m = association_matrix(d)
    >>> m.measure[0, 1], round(float(m.value[0, 1]) ** 2, 6)
    ('eta', 0.771429)

    Integer codes declared categorical on the Data page:

    >>> c = pd.DataFrame({"roof": [1, 1, 2, 2, 4, 4], "walls": [3, 3, 2, 2, 1, 1]})
    >>> association_matrix(c).measure[0, 1], association_matrix(c, kinds={"roof": "category",
    ...     "walls": "category"}).measure[0, 1]
    ('pearson', 'cramers_v')
    """
    if numeric_method not in METHODS:
        raise InvalidParameterError(
            f"numeric_method must be one of {', '.join(METHODS)}; got {numeric_method!r}."
        )
    cols = _check_frame(df, columns)
    if len(cols) < 2:
        raise InvalidParameterError(
            f"An association matrix needs at least 2 columns; got {len(cols)}. Add columns."
        )
    kinds_ = _kinds(df, cols, [*(categorical or ()), *_declared(kinds)])
    k = len(cols)
    value = np.full((k, k), np.nan)
    measure = np.full((k, k), "", dtype=object)
    p = np.full((k, k), np.nan)
    n = np.zeros((k, k), dtype=np.int64)
    reasons: dict[tuple[str, str], str] = {}
    warnings = _high_cardinality(df, cols, kinds_)

    num = [i for i in range(k) if kinds_[i] == "numeric"]
    if len(num) >= 2:
        cm = correlation_matrix(df, method=numeric_method, columns=[cols[i] for i in num])
        sel = np.ix_(num, num)
        value[sel], p[sel], n[sel] = cm.r, cm.p, cm.n
        measure[sel] = numeric_method
        for (ca, cb), why in cm.reasons.items():
            reasons[(ca, cb)] = why
        warnings.extend(cm.warnings)
    read = [pair_column(df[c], categorical=kind == "categorical") for c, kind in zip(
        cols, kinds_, strict=True)]  # fmt: skip
    warnings.extend(_inf_warning(cols[i], read[i].n_inf) for i in num if read[i].n_inf)
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    for done, (a, b) in enumerate(pairs):
        if progress is not None:
            progress(done / max(len(pairs), 1))
        if kinds_[a] == "numeric" and kinds_[b] == "numeric":
            continue
        res = pair_association(read[a], read[b])
        value[a, b] = value[b, a] = res.value
        p[a, b] = p[b, a] = res.p
        n[a, b] = n[b, a] = res.n
        measure[a, b] = measure[b, a] = res.measure
        if res.reason:
            reasons[(cols[a], cols[b])] = res.reason
    for i in range(k):
        nn = int(df[cols[i]].notna().sum())
        n[i, i] = nn
        distinct = int(df[cols[i]].nunique(dropna=True))
        measure[i, i] = "self"
        if distinct >= 2:
            value[i, i] = 1.0
            p[i, i] = 0.0
    iu = np.triu_indices(k, k=1)
    p_adj = np.full((k, k), np.nan)
    adj = benjamini_hochberg(p[iu])
    p_adj[iu] = adj
    p_adj[(iu[1], iu[0])] = adj
    np.fill_diagonal(p_adj, np.diag(p))
    if progress is not None:
        progress(1.0)
    return AssociationMatrix(
        columns=tuple(cols),
        kinds=tuple(kinds_),
        value=value,
        measure=measure,
        p=p,
        p_adjusted=p_adj,
        n=n,
        reasons=reasons,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def ranked_pairs(
    *matrices: CorrelationMatrix | AssociationMatrix,
) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """The pairs of one or more matrices in one frame, strongest first, and the strongest pair.

    Parameters
    ----------
    *matrices : CorrelationMatrix or AssociationMatrix
        Results over the same columns (e.g. Pearson, Spearman and Kendall).

    Returns
    -------
    (pandas.DataFrame, tuple of str or None)
        Every pair of every matrix (their ``pairs()`` frames stacked), sorted by the absolute
        value (``r`` or ``value``), unmeasurable pairs last; and ``(column_a, column_b)`` of
        the first measurable pair, or None when no pair has a value.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 2, 3, 5], "c": [4, 1, 3, 2]})
    >>> frame, best = ranked_pairs(correlation_matrix(d), correlation_matrix(d, method="kendall"))
    >>> len(frame), best
    (6, ('a', 'b'))
    """
    if not matrices:
        raise InvalidParameterError("ranked_pairs needs at least one matrix; got none.")
    frame = pd.concat([m.pairs() for m in matrices], ignore_index=True)
    value = frame["value" if "value" in frame.columns else "r"]
    order = np.argsort(-value.abs().fillna(-1).to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    measured = frame[value.iloc[order].notna().to_numpy()]
    best = (
        (str(measured.iloc[0]["column_a"]), str(measured.iloc[0]["column_b"]))
        if len(measured)
        else None
    )
    return frame, best


# --- drill-down of one pair --------------------------------------------------------------

#: The plot that fits a pair: two quantities, a category and a quantity, two categories.
DrillView = Literal["scatter", "box", "contingency"]
DRILL_BOX_CATEGORIES = 20  # most frequent categories shown as boxes
DRILL_TABLE_CATEGORIES = 30  # most frequent values of each column in a contingency table


@dataclass(frozen=True, slots=True, kw_only=True)
class Drilldown:
    """The data of the plot that fits a pair of columns (see :func:`drilldown`).

    ``view`` is ``"scatter"`` (``points`` holds ``x``, ``y``; ``line`` the least-squares
    slope and intercept over every complete row, None for a constant ``x``), ``"box"``
    (``points`` holds ``category``, ``value`` for the most frequent categories) or
    ``"contingency"`` (``table``: the share of each ``column_b`` value within each
    ``column_a`` value, most frequent values only). ``x``/``y`` name the columns on the
    plot's axes; ``n`` counts the rows with both values.
    """

    column_a: str
    column_b: str
    view: DrillView
    x: str
    y: str
    n: int
    points: pd.DataFrame
    sampled: bool = False
    line: tuple[float, float] | None = None
    x_range: tuple[float, float] | None = None
    table: pd.DataFrame | None = None
    truncated: bool = False


def _plot_values(series: pd.Series) -> np.ndarray:
    """The values as float64 for a plot; missing and infinite values are NaN."""
    out = np.array(series.to_numpy(dtype="float64", na_value=np.nan), dtype=float)
    out[~np.isfinite(out)] = np.nan
    return out


def _least_squares_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float] | None:
    """Slope and intercept of the least-squares line of ``y`` on ``x``, or None.

    None when ``x`` has no spread a float can measure (its squared deviations underflow to
    zero) or the sums overflow: no line is drawn rather than a made-up one.

    >>> _least_squares_line(np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0]))
    (2.0, 0.0)
    >>> _least_squares_line(np.array([0.0, -1e-300]), np.array([1.0, 2.0])) is None
    True
    """
    with np.errstate(all="ignore"):
        dx = x - x.mean()
        sxx = float(np.dot(dx, dx))
        if not (np.isfinite(sxx) and sxx > 0):
            return None
        slope = float(np.dot(dx, y - y.mean())) / sxx
        intercept = float(y.mean() - slope * x.mean())
    if not (np.isfinite(slope) and np.isfinite(intercept)):
        return None
    return slope, intercept


def drilldown(
    df: pd.DataFrame,
    a: str,
    b: str,
    *,
    kinds: Mapping[str, str] | None = None,
    max_points: int = DRILLDOWN_MAX_POINTS,
    rng: int = 0,
) -> Drilldown:
    """The plot that fits a pair, chosen by the column kinds, and its data.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    a, b : str
        The two columns (distinct).
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page: a column declared ``category``, ``text`` or
        ``boolean`` is categorical whatever its values, so integer codes never get a line
        fitted across them.
    max_points : int >= 1
        A scatter plot shows a uniform random sample of at most this many complete rows
        (a preview; the line uses every row).
    rng : int
        Seed of that preview sample.

    Returns
    -------
    Drilldown
        ``"scatter"`` for two quantities, ``"box"`` for a category and a quantity,
        ``"contingency"`` for two categories.

    Raises
    ------
    ColumnError
        A column is missing.
    InvalidParameterError
        The same column twice, or ``max_points`` < 1.

    Examples
    --------
    >>> d = pd.DataFrame({"roof": [1, 1, 2, 4], "walls": [3, 3, 2, 1], "age": [20, 30, 40, 50]})
    >>> drilldown(d, "roof", "walls").view, drilldown(d, "roof", "walls",
    ...     kinds={"roof": "category", "walls": "category"}).view
    ('scatter', 'contingency')
    >>> drilldown(d, "roof", "age", kinds={"roof": "category"}).view
    'box'
    """
    if a == b:
        raise InvalidParameterError("A drill-down needs two different columns; got one twice.")
    _check_frame(df, [a, b])
    if int(max_points) < 1:
        raise InvalidParameterError(f"max_points must be at least 1; got {max_points}.")
    declared = _declared(kinds)
    quantity = {c: _is_numeric(df[c]) and c not in declared for c in (a, b)}
    pair = df[[a, b]]
    if quantity[a] and quantity[b]:
        xv, yv = _plot_values(pair[a]), _plot_values(pair[b])
        ok = ~np.isnan(xv) & ~np.isnan(yv)
        xv, yv = xv[ok], yv[ok]
        n = int(ok.sum())
        pts = pd.DataFrame({"x": xv, "y": yv})
        sampled = n > int(max_points)
        if sampled:
            pts = pts.sample(int(max_points), random_state=rng)
        line = _least_squares_line(xv, yv) if n >= 2 else None
        x_range = None if line is None else (float(xv.min()), float(xv.max()))
        return Drilldown(
            column_a=a, column_b=b, view="scatter", x=a, y=b, n=n, points=pts,
            sampled=sampled, line=line, x_range=x_range,
        )  # fmt: skip
    complete = pair.dropna()
    if quantity[a] or quantity[b]:
        cat, val = (b, a) if quantity[a] else (a, b)
        values = _plot_values(complete[val])
        keep = ~np.isnan(values)
        cats, vals = complete[cat].to_numpy()[keep], values[keep]
        top = pd.Series(cats).value_counts().index[:DRILL_BOX_CATEGORIES]
        shown = pd.Series(cats).isin(top).to_numpy()
        return Drilldown(
            column_a=a, column_b=b, view="box", x=cat, y=val, n=int(keep.sum()),
            points=pd.DataFrame({"category": cats[shown], "value": vals[shown]}),
            truncated=len(pd.unique(cats)) > DRILL_BOX_CATEGORIES,
        )  # fmt: skip
    top_a = complete[a].value_counts().index[:DRILL_TABLE_CATEGORIES]
    top_b = complete[b].value_counts().index[:DRILL_TABLE_CATEGORIES]
    kept = complete[complete[a].isin(top_a) & complete[b].isin(top_b)]
    table = (
        pd.crosstab(kept[a].astype(object), kept[b].astype(object), normalize="index")
        if len(kept)
        else pd.DataFrame()
    )
    return Drilldown(
        column_a=a, column_b=b, view="contingency", x=b, y=a, n=len(complete),
        points=kept.reset_index(drop=True), table=table,
        truncated=complete[a].nunique() > DRILL_TABLE_CATEGORIES
        or complete[b].nunique() > DRILL_TABLE_CATEGORIES,
    )  # fmt: skip


# --- leakage -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakageEntry:
    """How much one column reveals the sensitive attribute."""

    column: str
    measure: str
    association: float
    nmi: float
    score: float
    n: int
    guess_accuracy: float | None = None
    baseline_accuracy: float | None = None
    lift: float | None = None
    proxy: bool = False
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LeakageReport:
    """Columns ranked by how much they reveal ``sensitive``, strongest first."""

    sensitive: str
    entries: tuple[LeakageEntry, ...]
    baseline_accuracy: float
    proxy_threshold: float
    sensitive_binned: bool = False
    warnings: tuple[str, ...] = ()

    def frame(self) -> pd.DataFrame:
        """The ranking as a DataFrame, one row per column."""
        return pd.DataFrame(
            [
                {
                    "column": e.column,
                    "measure": e.measure,
                    "association": e.association,
                    "nmi": e.nmi,
                    "score": e.score,
                    "guess_accuracy": e.guess_accuracy,
                    "baseline_accuracy": e.baseline_accuracy,
                    "lift": e.lift,
                    "proxy": e.proxy,
                    "n": e.n,
                    "reason": e.reason,
                }
                for e in self.entries
            ]
        )

    @property
    def proxies(self) -> tuple[str, ...]:
        """Columns flagged as proxies of the sensitive attribute."""
        return tuple(e.column for e in self.entries if e.proxy)


def _best_guess(a: np.ndarray, ka: int, s: np.ndarray, ks: int) -> tuple[float, float, int]:
    """Accuracy of guessing s by the most frequent s per value of a; majority baseline."""
    mask = (a >= 0) & (s >= 0)
    nn = int(mask.sum())
    a, _ = _compact(a[mask], ka)
    s, scount = _compact(s[mask], ks)
    (ia, _), cnt = _joint_counts(a, s, scount.size)
    best = np.zeros(int(ia.max()) + 1 if ia.size else 0, dtype=np.int64)
    np.maximum.at(best, ia, cnt)
    return float(best.sum() / nn), float(scount.max() / nn), nn


def leakage_ranking(
    df: pd.DataFrame,
    *,
    sensitive: str,
    columns: Sequence[str] | None = None,
    top: int = LEAKAGE_TOP_DEFAULT,
    proxy_threshold: float = PROXY_THRESHOLD,
    bins: int = NMI_BINS,
    kinds: Mapping[str, str] | None = None,
) -> LeakageReport:
    """Rank columns by how much each reveals a sensitive attribute on its own.

    Parameters
    ----------
    df : pandas.DataFrame
        The data.
    sensitive : str
        The sensitive attribute. A numeric one with more than ``bins`` distinct values is
        cut into ``bins`` quantile bins for NMI and guessing.
    columns : sequence of str, optional
        Candidate columns (default: every other column).
    top : int >= 1
        How many of the highest-ranked columns get the best-guess accuracy.
    proxy_threshold : float in (0, 1]
        A column is flagged as a proxy when its association or its lift reaches this.
    bins : int >= 2
        Quantile bins for numeric columns in the information measures.
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page: a column declared ``category``, ``text`` or
        ``boolean`` is measured as categorical and its values are never binned.

    Returns
    -------
    LeakageReport
        Entries sorted by ``score`` (descending), the majority-class baseline accuracy and
        warnings (e.g. near-unique columns whose best guess is memorization).

    Raises
    ------
    ColumnError
        ``sensitive`` or a candidate column is missing.
    InvalidParameterError
        Empty table, a constant or all-missing sensitive attribute, or a bad ``top`` /
        ``proxy_threshold`` / ``bins``.

    Notes
    -----
    ``association`` is the measure of :func:`association_matrix` (absolute value for a
    numeric pair: |Pearson r|), ``nmi`` is :func:`normalized_mutual_information`, and
    ``score = max(association, nmi)``. For the top columns, the best guess of the
    sensitive value for each value (or bin) of the column is its most frequent sensitive
    value there; ``guess_accuracy`` :math:`= \\sum_x \\max_s n_{xs} / n`, the baseline is
    :math:`\\max_s n_s / n` and ``lift`` is Goodman and Kruskal's lambda
    :math:`(\\text{accuracy} - \\text{baseline}) / (1 - \\text{baseline})`, the share of
    guessing errors the column removes. Rows missing either value are dropped per column.
    Accuracy is measured on the data itself: for near-unique columns it is memorization,
    which is also what an attacker holding those values gets.

    References
    ----------
    .. [GK54] Goodman, L. A. and Kruskal, W. H. (1954). Measures of association for cross
       classifications. JASA 49(268), 732-764.
    .. [B13] Bergsma, W. (2013). A bias-correction for Cramér's V and Tschuprow's T.

    Examples
    --------
    >>> d = pd.DataFrame({"s": list("mmmmffff") * 3, "proxy": list("hhhhwwww") * 3,
    ...                   "noise": list("abababab") * 3})
    >>> rep = leakage_ranking(d, sensitive="s")
    >>> rep.entries[0].column, rep.entries[0].guess_accuracy, rep.proxies
    ('proxy', 1.0, ('proxy',))
    """
    if not 0 < proxy_threshold <= 1:
        raise InvalidParameterError(
            f"proxy_threshold must be in (0, 1]; got {proxy_threshold}. Use e.g. 0.5."
        )
    if int(top) < 1:
        raise InvalidParameterError(f"top must be at least 1; got {top}.")
    if int(bins) < 2:
        raise InvalidParameterError(f"bins must be at least 2; got {bins}.")
    check_frame(df)
    if sensitive not in df.columns:
        raise ColumnError(
            f"The sensitive attribute '{sensitive}' is not a column of the table "
            f"({df.shape[1]} columns). Pick one of the table's columns."
        )
    cands = [c for c in (df.columns if columns is None else columns) if c != sensitive]
    _check_frame(df, [sensitive, *cands])
    if not cands:
        raise InvalidParameterError(
            "No candidate columns besides the sensitive attribute; add columns to rank."
        )
    declared = _declared(kinds)
    s_codes, s_levels, s_binned = _discrete_codes(
        df[sensitive], int(bins), categorical=sensitive in declared
    )
    valid_s = s_codes >= 0
    if not valid_s.any():
        raise InvalidParameterError(
            f"The sensitive attribute '{sensitive}' has no values (all {len(df)} missing). "
            "Pick another column."
        )
    s_counts = np.bincount(s_codes[valid_s])
    if (s_counts > 0).sum() < 2:
        raise InvalidParameterError(
            f"The sensitive attribute '{sensitive}' is constant (1 distinct value), so "
            "nothing can reveal it. Pick another column."
        )
    baseline = float(s_counts.max() / valid_s.sum())
    assoc = association_matrix(df, columns=[sensitive, *cands], kinds=kinds)
    warnings: list[str] = list(assoc.warnings)
    if s_binned:
        warnings.append(
            f"'{sensitive}' is numeric with many values; guessing and NMI use {bins} "
            "quantile bins of it."
        )
    raw: list[tuple[str, str, float, float, int, str, np.ndarray, int]] = []
    for i, c in enumerate(cands, start=1):
        val = float(abs(assoc.value[0, i]))
        c_codes, c_levels, _ = _discrete_codes(df[c], int(bins), categorical=c in declared)
        nmi, _ = _nmi_codes(c_codes, c_levels, s_codes, s_levels)
        reason = assoc.reasons.get((sensitive, c), "")
        raw.append(
            (c, str(assoc.measure[0, i]), val, nmi, int(assoc.n[0, i]), reason, c_codes, c_levels)
        )

    def score_of(item: tuple[str, str, float, float, int, str, np.ndarray, int]) -> float:
        vals = [v for v in (item[2], item[3]) if not math.isnan(v)]
        return max(vals) if vals else math.nan

    raw.sort(key=lambda it: -score_of(it) if not math.isnan(score_of(it)) else math.inf)
    entries = []
    for rank, item in enumerate(raw):
        c, meas, val, nmi, nn, reason, c_codes, c_levels = item
        score = score_of(item)
        acc = base = lift = None
        if rank < int(top) and not math.isnan(score):
            acc, base, _ = _best_guess(c_codes, c_levels, s_codes, s_levels)
            lift = (acc - base) / (1 - base) if base < 1 else 0.0
        strong = [v for v in (val, lift) if v is not None and not math.isnan(v)]
        proxy = bool(strong) and max(strong) >= proxy_threshold
        entries.append(
            LeakageEntry(
                column=c,
                measure=meas,
                association=val,
                nmi=nmi,
                score=score,
                n=nn,
                guess_accuracy=acc,
                baseline_accuracy=base,
                lift=lift,
                proxy=proxy,
                reason=reason,
            )
        )
    return LeakageReport(
        sensitive=sensitive,
        entries=tuple(entries),
        baseline_accuracy=baseline,
        proxy_threshold=proxy_threshold,
        sensitive_binned=s_binned,
        warnings=tuple(dict.fromkeys(warnings)),
    )
