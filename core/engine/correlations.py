"""Correlations, associations and the leakage ranking on any engine.

The same results as :mod:`core.correlation` (:class:`~core.correlation.CorrelationMatrix`,
:class:`~core.correlation.AssociationMatrix`, :class:`~core.correlation.LeakageReport`), so
a page renders them unchanged. The pandas engine calls :mod:`core.correlation` itself; a SQL
engine runs the plans of :mod:`core.engine.plans` and gets back sums and counts only (one row
per pair of columns), from which the formulas of :mod:`core.correlation` finish the job:

- Pearson: pairwise-complete means, then centred sums (two passes, after scaling each column
  by its largest absolute value and centring it on its mean);
- Spearman: Pearson of average ranks, ties averaged; one value-count table per column gives
  its ranks among the rows where each other column is present, and one pass sums the rank
  products of every pair;
- Cramér's V and NMI: sums over the contingency table ``GROUP BY a, b``; eta: per category
  counts, means and within sums of squares;
- the leakage ranking: the association and NMI of each candidate with the sensitive column
  (numbers cut into quantile bins by the rank of each distinct value), and the best-guess
  accuracy from the contingency table (the most frequent sensitive value per value).

Kendall's tau needs every pair of rows; on a SQL engine it runs on a sample
(:meth:`core.engine.base.Engine.sample`), not here.

>>> from core.engine import PandasEngine
>>> eng = PandasEngine()
>>> t = eng.open(pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 4, 5, 9]}))
>>> round(float(correlation_matrix(eng, t, ["a", "b"]).r[0, 1]), 4)
0.9648
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from core import correlation as corr
from core.correlation import (
    AssociationMatrix,
    CorrelationMatrix,
    LeakageEntry,
    LeakageReport,
    PairAssociation,
)
from core.engine import plans
from core.engine.base import Engine, Table
from core.engine.pandas_engine import PandasEngine
from core.errors import ColumnError, InvalidParameterError
from core.limits import (
    CORRELATION_CONFIDENCE_DEFAULT,
    CORRELATION_MIN_PAIRS,
    HIGH_CARDINALITY_SHARE,
    LEAKAGE_TOP_DEFAULT,
    NMI_BINS,
    PROXY_THRESHOLD,
)

__all__ = ["ENGINE_METHODS", "association_matrix", "correlation_matrix", "leakage_ranking"]

EngineMethod = Literal["pearson", "spearman"]
#: Correlations a SQL engine computes exactly (Kendall's tau runs on a sample).
ENGINE_METHODS: tuple[EngineMethod, ...] = ("pearson", "spearman")


# --- column kinds ---------------------------------------------------------------------------


def _dtypes(engine: Engine, table: Table) -> dict[str, object]:
    """The pandas dtype of each column, from an empty result (no row is read)."""
    empty = engine.query(f"SELECT * FROM {engine.quote(table.name)} LIMIT 0")
    return {str(c): empty[c].dtype for c in empty.columns}


def _kind(dtype: object) -> str:
    """``"int"``, ``"float"`` (quantities, as :func:`core.correlation._is_numeric`) or
    ``"cat"``."""
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return "cat"
    return "int" if pd.api.types.is_integer_dtype(dtype) else "float"


def _check_columns(table: Table, columns: Sequence[str]) -> list[str]:
    """The messages of :func:`core.correlation._check_frame`."""
    if table.n_rows == 0:
        raise InvalidParameterError(
            f"The table has 0 rows (and {len(table.columns)} columns). Load a dataset with "
            "data rows."
        )
    cols = list(columns)
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise ColumnError(
            f"{len(missing)} column(s) not in the table: {', '.join(map(str, missing))}. "
            f"The table has {len(table.columns)} columns; pick from those."
        )
    if len(set(cols)) != len(cols):
        raise InvalidParameterError(
            "The column list names a column more than once; list each column once."
        )
    return cols


def _profile(
    engine: Engine,
    table: Table,
    cols: Sequence[str],
    kinds: Sequence[str],
    distinct: Sequence[bool] | None = None,
) -> dict[str, object]:
    res = engine.query(plans.column_profile(engine.quote, table.name, cols, kinds, distinct))
    # column by column: a row of mixed types would turn 2**60 + 1 into a float
    return {str(c): res[c].iloc[0] for c in res.columns}


def _varies(prof: Mapping[str, object], j: int, kind: str, *, finite: bool = True) -> bool:
    """Whether column j holds at least two distinct values: its finite values (``finite``)
    or its values as stored (infinities count)."""
    if kind == "cat":
        return _int(prof[f"nd_{j}"]) >= 2
    if kind == "int":
        return _int(prof[f"nn_{j}"]) > 0 and int(prof[f"mn_{j}"]) < int(  # type: ignore[call-overload]
            prof[f"mx_{j}"]  # type: ignore[call-overload]
        )
    low, high = (f"lo_{j}", f"hi_{j}") if finite else (f"rlo_{j}", f"rhi_{j}")
    return _float(prof[low]) < _float(prof[high])


def _affine(prof: Mapping[str, object], kinds: Sequence[str]) -> dict[int, plans.Affine]:
    """Per numeric column, the constants that put it on a unit scale (see
    :func:`core.engine.plans._scaled`), from its profile: an integer's exact minimum, then
    the largest absolute value, the mid-range and the half-width of what is left."""
    out: dict[int, plans.Affine] = {}
    for j, kind in enumerate(kinds):
        if kind not in ("int", "float"):
            continue
        shift: int | None = None
        if kind == "int" and _int(prof.get(f"nn_{j}")):
            shift = int(prof[f"mn_{j}"])  # type: ignore[call-overload]
            low, high = 0.0, float(int(prof[f"mx_{j}"]) - shift)  # type: ignore[call-overload]
        else:
            low, high = _float(prof.get(f"lo_{j}")), _float(prof.get(f"hi_{j}"))
        if math.isnan(low) or math.isnan(high):
            out[j] = (shift, 1.0, 0.0, 1.0)
            continue
        scale = max(abs(low), abs(high)) or 1.0
        a, b = low / scale, high / scale
        mid = a / 2 + b / 2
        out[j] = (shift, scale, mid, max(abs(a - mid), abs(b - mid)) or 1.0)
    return out


def _int(value: object) -> int:
    return 0 if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]


def _float(value: object) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


# --- correlation matrix -------------------------------------------------------------------


def correlation_matrix(
    engine: Engine,
    table: Table,
    columns: Sequence[str] | None = None,
    *,
    method: EngineMethod = "pearson",
    confidence: float = CORRELATION_CONFIDENCE_DEFAULT,
    kinds: Mapping[str, str] | None = None,
) -> CorrelationMatrix:
    """Pearson or Spearman matrix, pairwise-complete, computed where the table lives.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    columns : sequence of str, optional
        Numeric columns, in this order (default: every numeric column not declared
        categorical in ``kinds``).
    method : {"pearson", "spearman"}
        Kendall's tau is not computed exactly on an engine; draw a sample with
        :meth:`Engine.sample` and use :func:`core.correlation.correlation_matrix` on it.
    confidence : float in (0, 1)
        Level of the Fisher-z intervals.
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page (see :func:`core.correlation.correlation_matrix`).

    Returns
    -------
    CorrelationMatrix
        As :func:`core.correlation.correlation_matrix` on the whole table (``sampled`` is
        False).

    Raises
    ------
    InvalidParameterError
        Empty table, unknown method, non-numeric or declared-categorical column.
    ColumnError
        A requested column is not in the table.

    Notes
    -----
    The formulas are those of :func:`core.correlation.correlation_matrix`: rows missing
    either value (NULL, NaN, inf) are dropped per pair, a pair with fewer than
    ``CORRELATION_MIN_PAIRS`` complete rows or a constant column gets NaN and a reason.
    Pearson :math:`r = s_{xy} / \\sqrt{s_{xx} s_{yy}}` from sums centred on the pair's
    means (a first pass computes the means); Spearman is Pearson of the average ranks among
    the pair's rows, whose mean is exactly :math:`(n+1)/2`.

    Examples
    --------
    >>> from core.engine.duckdb_engine import DuckDBEngine
    >>> with DuckDBEngine(memory_limit="256MB") as eng:
    ...     t = eng.open(pd.DataFrame({"a": [1, 2, 3, 4, None], "b": [1, 3, 2, 4, 5.0]}))
    ...     m = correlation_matrix(eng, t, method="spearman")
    >>> round(float(m.r[0, 1]), 4), int(m.n[0, 1])
    (0.8, 4)
    """
    if method not in ENGINE_METHODS:
        raise InvalidParameterError(
            f"method must be one of {', '.join(ENGINE_METHODS)} on an engine; got {method!r}. "
            "Kendall's tau needs every pair of rows: compute it on a sample of the table."
        )
    if not 0 < confidence < 1:
        raise InvalidParameterError(
            f"confidence must be in (0, 1); got {confidence}. Use e.g. 0.95."
        )
    if isinstance(engine, PandasEngine):
        return corr.correlation_matrix(
            engine.frame(table), method=method, columns=columns, confidence=confidence,
            kinds=kinds,
        )  # fmt: skip
    declared = corr._declared(kinds)
    dtypes = _dtypes(engine, table)

    def numeric(c: str) -> bool:
        return _kind(dtypes[c]) != "cat"

    if columns is None:
        _check_columns(table, [])
        cols = corr.correlation_columns(list(table.columns), None, numeric, declared)
    else:
        checked = _check_columns(table, columns)
        cols = corr.correlation_columns(checked, checked, numeric, declared)
    kinds_ = [_kind(dtypes[c]) for c in cols]
    return _sql_correlation(engine, table, cols, kinds_, method, confidence)


def _sql_correlation(
    engine: Engine,
    table: Table,
    cols: list[str],
    kinds: list[str],
    method: EngineMethod,
    confidence: float,
    prof: dict[str, object] | None = None,
) -> CorrelationMatrix:
    """Validate nothing; compute the matrix from the engine's sums (``prof``: the columns'
    profile when the caller has it)."""
    k = len(cols)
    if prof is None:
        prof = _profile(engine, table, cols, kinds, [False] * len(cols))
    warnings: list[str] = []
    r = np.full((k, k), np.nan)
    p = np.full((k, k), np.nan)
    n = np.zeros((k, k), dtype=np.int64)
    reasons: dict[tuple[str, str], str] = {}
    for j, c in enumerate(cols):
        if _int(prof[f"ni_{j}"]):
            warnings.append(corr._inf_warning(c, _int(prof[f"ni_{j}"])))
    for j, c in enumerate(cols):
        nv = _int(prof[f"nv_{j}"])
        n[j, j] = nv
        if nv == 0:
            what = "finite values" if _int(prof[f"ni_{j}"]) else "values"
            warnings.append(f"Column '{c}' has no {what}; its correlations are NaN.")
        elif not _varies(prof, j, kinds[j]):
            warnings.append(f"Column '{c}' is constant; its correlations are NaN.")
        else:
            r[j, j] = 1.0
            p[j, j] = 0.0
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k)]
    if pairs:
        if method == "pearson":
            _pearson_pairs(engine, table, prof, cols, kinds, pairs, r, n, reasons)
        else:
            _spearman_pairs(engine, table, prof, cols, kinds, pairs, r, n, reasons)
    return _package(method, cols, r, p, n, reasons, warnings, confidence, table.n_rows)


def _pair_reason(
    cols: Sequence[str], a: int, b: int, m: int, a_constant: bool, b_constant: bool
) -> str:
    """Why a pair has no coefficient (the reasons of :mod:`core.correlation`), or ``""``."""
    if m < CORRELATION_MIN_PAIRS:
        return f"only {m} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed"
    if a_constant:
        return f"'{cols[a]}' is constant on the {m} rows where both are present"
    if b_constant:
        return f"'{cols[b]}' is constant on the {m} rows where both are present"
    return ""


def _coefficient(sxy: float, sxx: float, syy: float) -> float:
    """``s_xy / sqrt(s_xx s_yy)`` clipped to [-1, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return corr._clip_r(sxy / math.sqrt(sxx * syy))


def _pearson_pairs(
    engine: Engine,
    table: Table,
    prof: dict[str, object],
    cols: list[str],
    kinds: list[str],
    pairs: list[tuple[int, int]],
    r: np.ndarray,
    n: np.ndarray,
    reasons: dict[tuple[str, str], str],
) -> None:
    sql = plans.pearson_sums(engine.quote, table.name, cols, kinds, pairs, _affine(prof, kinds))
    row = engine.query(sql).iloc[0]
    for a, b in pairs:
        m = _int(row[f"n_{a}_{b}"])
        n[a, b] = n[b, a] = m
        why = _pair_reason(
            cols, a, b, m,
            _float(row[f"lo_{a}_{b}"]) == _float(row[f"hi_{a}_{b}"]),
            _float(row[f"lo_{b}_{a}"]) == _float(row[f"hi_{b}_{a}"]),
        )  # fmt: skip
        if why:
            reasons[(cols[a], cols[b])] = why
            continue
        r[a, b] = r[b, a] = _coefficient(
            _float(row[f"sxy_{a}_{b}"]), _float(row[f"sxx_{a}_{b}"]), _float(row[f"syy_{a}_{b}"])
        )


def _spearman_pairs(
    engine: Engine,
    table: Table,
    prof: dict[str, object],
    cols: list[str],
    kinds: list[str],
    pairs: list[tuple[int, int]],
    r: np.ndarray,
    n: np.ndarray,
    reasons: dict[tuple[str, str], str],
) -> None:
    holes = [_int(prof[f"nv_{j}"]) < table.n_rows for j in range(len(cols))]
    row = engine.query(plans.spearman_sums(engine.quote, table.name, cols, kinds, holes)).iloc[0]
    for a, b in pairs:
        m = _int(row[f"n_{a}_{b}"])
        n[a, b] = n[b, a] = m
        why = _pair_reason(
            cols, a, b, m, _int(row[f"dx_{a}_{b}"]) < 2, _int(row[f"dy_{a}_{b}"]) < 2
        )
        if why:
            reasons[(cols[a], cols[b])] = why
            continue
        r[a, b] = r[b, a] = _coefficient(
            _float(row[f"sxy_{a}_{b}"]), _float(row[f"sxx_{a}_{b}"]), _float(row[f"syy_{a}_{b}"])
        )


def _package(
    method: EngineMethod,
    cols: list[str],
    r: np.ndarray,
    p: np.ndarray,
    n: np.ndarray,
    reasons: dict[tuple[str, str], str],
    warnings: list[str],
    confidence: float,
    rows: int,
) -> CorrelationMatrix:
    """p-values, adjusted p-values and intervals as :func:`core.correlation.correlation_matrix`
    computes them from ``r`` and ``n``."""
    k = len(cols)
    iu = np.triu_indices(k, k=1)
    pf = corr._pearson_p if method == "pearson" else corr._spearman_p
    vals = pf(r[iu], n[iu].astype(float))
    p[iu] = vals
    p[(iu[1], iu[0])] = vals
    p_adj = np.full((k, k), np.nan)
    adj = corr.benjamini_hochberg(p[iu])
    p_adj[iu] = adj
    p_adj[(iu[1], iu[0])] = adj
    np.fill_diagonal(p_adj, np.diag(p))
    lo, hi = corr._fisher_ci(r, n.astype(float), method, confidence)
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
        rows_used=rows,
        rows_total=rows,
        sampled=False,
        warnings=tuple(warnings),
    )


# --- association matrix and leakage --------------------------------------------------------


def association_matrix(
    engine: Engine,
    table: Table,
    columns: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    numeric_method: EngineMethod = "pearson",
    kinds: Mapping[str, str] | None = None,
) -> AssociationMatrix:
    """Association between every pair of columns, numeric and categorical, on an engine.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    columns : sequence of str, optional
        Columns to use (default: all).
    categorical : sequence of str, optional
        Numeric columns to treat as categorical codes.
    numeric_method : {"pearson", "spearman"}
        Correlation of numeric pairs.
    kinds : mapping of str to str, optional
        Column kinds as set on the Data page.

    Returns
    -------
    AssociationMatrix
        As :func:`core.correlation.association_matrix`.

    Raises
    ------
    InvalidParameterError
        Empty table, fewer than 2 columns, or an unknown ``numeric_method``.
    ColumnError
        A requested column is missing.
    """
    if numeric_method not in ENGINE_METHODS:
        raise InvalidParameterError(
            f"numeric_method must be one of {', '.join(ENGINE_METHODS)} on an engine; got "
            f"{numeric_method!r}."
        )
    if isinstance(engine, PandasEngine):
        return corr.association_matrix(
            engine.frame(table), columns=columns, categorical=categorical,
            numeric_method=numeric_method, kinds=kinds,
        )  # fmt: skip
    return _sql_association(engine, table, columns, categorical, numeric_method, kinds)


def leakage_ranking(
    engine: Engine,
    table: Table,
    sensitive: str,
    *,
    columns: Sequence[str] | None = None,
    top: int = LEAKAGE_TOP_DEFAULT,
    proxy_threshold: float = PROXY_THRESHOLD,
    bins: int = NMI_BINS,
    kinds: Mapping[str, str] | None = None,
) -> LeakageReport:
    """Rank columns by how much each reveals a sensitive attribute, on an engine.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    sensitive : str
        The sensitive column.
    columns, top, proxy_threshold, bins, kinds
        As :func:`core.correlation.leakage_ranking`.

    Returns
    -------
    LeakageReport
        As :func:`core.correlation.leakage_ranking`.

    Raises
    ------
    ColumnError, InvalidParameterError
        As :func:`core.correlation.leakage_ranking`.
    """
    if isinstance(engine, PandasEngine):
        return corr.leakage_ranking(
            engine.frame(table), sensitive=sensitive, columns=columns, top=top,
            proxy_threshold=proxy_threshold, bins=bins, kinds=kinds,
        )  # fmt: skip
    return _sql_leakage(engine, table, sensitive, columns, top, proxy_threshold, bins, kinds)


#: Pairs per contingency or eta query (each pair groups the table by its columns).
_PAIR_BATCH = 8


def _batched(
    engine: Engine, pairs: list[tuple[int, int]], plan: Callable[[list[tuple[int, int]]], str]
) -> dict[tuple[int, int], dict[str, object]]:
    """Run ``plan`` on the pairs a batch at a time; each pair's row as a dict."""
    out: dict[tuple[int, int], dict[str, object]] = {}
    for start in range(0, len(pairs), _PAIR_BATCH):
        batch = pairs[start : start + _PAIR_BATCH]
        for _, row in engine.query(plan(batch)).iterrows():
            out[batch[int(row["pair"])]] = row.to_dict()
    return out


def _entropy(total: float, sum_c_ln_c: float, cells: int) -> float:
    """Entropy in nats of ``cells`` counts summing to ``total`` from :math:`\\sum c \\ln c`
    (exactly 0 for one cell)."""
    return 0.0 if cells < 2 else max(0.0, math.log(total) - sum_c_ln_c / total)


def _cramers_v_row(row: dict[str, object]) -> PairAssociation:
    """Cramér's V from a :func:`core.engine.plans.contingency_sums` row."""
    nn = _int(row["nn"])
    if nn < CORRELATION_MIN_PAIRS:
        return PairAssociation(
            measure="cramers_v", value=math.nan, p=math.nan, n=nn,
            reason=f"only {nn} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed",
        )  # fmt: skip
    ka, kb = _int(row["ka"]), _int(row["kb"])
    if ka < 2 or kb < 2:
        return PairAssociation(
            measure="cramers_v", value=math.nan, p=math.nan, n=nn,
            reason="one column has a single category on the rows where both are present",
        )  # fmt: skip
    return corr._cramers_v_from_chi2(nn * (_float(row["s"]) - 1), nn, ka, kb)


def _eta_row(row: dict[str, object]) -> PairAssociation:
    """The correlation ratio from a :func:`core.engine.plans.eta_sums` row."""
    nn = _int(row["nn"])
    if nn < CORRELATION_MIN_PAIRS:
        return PairAssociation(
            measure="eta", value=math.nan, p=math.nan, n=nn,
            reason=f"only {nn} row(s) have both values; at least {CORRELATION_MIN_PAIRS} needed",
        )  # fmt: skip
    ssb, ssw = _float(row["ssb"]), _float(row["ssw"])
    sst = 0.0 if _float(row["lo"]) == _float(row["hi"]) else ssb + ssw
    return corr._eta_from_sums(nn, _int(row["kk"]), sst, ssb, ssw, flat=bool(_int(row["flat"])))


def _sql_association(
    engine: Engine,
    table: Table,
    columns: Sequence[str] | None,
    categorical: Sequence[str] | None,
    method: EngineMethod,
    kinds: Mapping[str, str] | None,
    known: tuple[dict[str, object], dict[str, object]] | None = None,
) -> AssociationMatrix:
    """``known``: the dtypes and the profile of these columns when the caller has them."""
    cols = _check_columns(table, list(table.columns) if columns is None else columns)
    if len(cols) < 2:
        raise InvalidParameterError(
            f"An association matrix needs at least 2 columns; got {len(cols)}. Add columns."
        )
    dtypes = _dtypes(engine, table) if known is None else known[0]
    forced = {*(categorical or ()), *corr._declared(kinds)}
    sql_kinds = ["cat" if c in forced else _kind(dtypes[c]) for c in cols]
    kinds_ = ["categorical" if s == "cat" else "numeric" for s in sql_kinds]
    k = len(cols)
    value = np.full((k, k), np.nan)
    measure = np.full((k, k), "", dtype=object)
    p = np.full((k, k), np.nan)
    n = np.zeros((k, k), dtype=np.int64)
    reasons: dict[tuple[str, str], str] = {}
    if known is None:  # distinct counts only for the categorical columns' warnings
        prof = _profile(engine, table, cols, sql_kinds, [k == "cat" for k in sql_kinds])
    else:
        prof = known[1]
    warnings = [
        f"Column '{c}' has {_int(prof[f'nd_{j}']):,} distinct values in "
        f"{_int(prof[f'nn_{j}']):,} rows; its associations are inflated (each row is nearly "
        "its own category)."
        for j, c in enumerate(cols)
        if kinds_[j] == "categorical"
        and _int(prof[f"nn_{j}"]) >= 20
        and _int(prof[f"nd_{j}"]) > HIGH_CARDINALITY_SHARE * _int(prof[f"nn_{j}"])
    ]
    num = [i for i in range(k) if kinds_[i] == "numeric"]
    if len(num) >= 2:
        sub = {
            f"{key}_{i}": prof[f"{key}_{j}"]
            for i, j in enumerate(num)
            for key in ("nn", "nd", "nv", "ni", "lo", "hi", "nk", "mn", "mx", "rlo", "rhi")
            if f"{key}_{j}" in prof
        }
        cm = _sql_correlation(
            engine, table, [cols[i] for i in num], [sql_kinds[i] for i in num], method,
            CORRELATION_CONFIDENCE_DEFAULT, sub,
        )  # fmt: skip
        sel = np.ix_(num, num)
        value[sel], p[sel], n[sel] = cm.r, cm.p, cm.n
        measure[sel] = method
        reasons.update(cm.reasons)
        warnings.extend(cm.warnings)
    warnings.extend(
        corr._inf_warning(cols[i], _int(prof[f"ni_{i}"])) for i in num if _int(prof[f"ni_{i}"])
    )
    pairs = [(a, b) for a in range(k) for b in range(a + 1, k) if "categorical" in
             (kinds_[a], kinds_[b])]  # fmt: skip
    cat_pairs = [(a, b) for a, b in pairs if kinds_[a] == kinds_[b]]
    mixed = [(a, b) if kinds_[a] == "categorical" else (b, a) for a, b in pairs
             if kinds_[a] != kinds_[b]]  # fmt: skip
    q, name = engine.quote, table.name
    source = plans.categories(q, name, cols)
    results: dict[tuple[int, int], PairAssociation] = {
        pair: _cramers_v_row(row)
        for pair, row in _batched(
            engine, cat_pairs, lambda b: plans.contingency_sums(source, b)
        ).items()
    }
    affine = _affine(prof, sql_kinds)
    for c in sorted({c for c, _ in mixed}):
        nums = [v for cc, v in mixed if cc == c]
        sql = plans.eta_sums(q, name, cols, sql_kinds, c, nums, affine)
        for _, row in engine.query(sql).iterrows():
            v = nums[int(row["pair"])]
            results[(min(c, v), max(c, v))] = _eta_row(row.to_dict())
    for a, b in pairs:
        res = results[(a, b)]
        value[a, b] = value[b, a] = res.value
        p[a, b] = p[b, a] = res.p
        n[a, b] = n[b, a] = res.n
        measure[a, b] = measure[b, a] = res.measure
        if res.reason:
            reasons[(cols[a], cols[b])] = res.reason
    for i in range(k):
        n[i, i] = _int(prof[f"nn_{i}"])
        measure[i, i] = "self"
        if _varies(prof, i, sql_kinds[i], finite=False):
            value[i, i] = 1.0
            p[i, i] = 0.0
    iu = np.triu_indices(k, k=1)
    p_adj = np.full((k, k), np.nan)
    adj = corr.benjamini_hochberg(p[iu])
    p_adj[iu] = adj
    p_adj[(iu[1], iu[0])] = adj
    np.fill_diagonal(p_adj, np.diag(p))
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


def _sql_leakage(
    engine: Engine,
    table: Table,
    sensitive: str,
    columns: Sequence[str] | None,
    top: int,
    proxy_threshold: float,
    bins: int,
    kinds: Mapping[str, str] | None,
) -> LeakageReport:
    """:func:`core.correlation.leakage_ranking` from the engine's sums."""
    if not 0 < proxy_threshold <= 1:
        raise InvalidParameterError(
            f"proxy_threshold must be in (0, 1]; got {proxy_threshold}. Use e.g. 0.5."
        )
    if int(top) < 1:
        raise InvalidParameterError(f"top must be at least 1; got {top}.")
    if int(bins) < 2:
        raise InvalidParameterError(f"bins must be at least 2; got {bins}.")
    if sensitive not in table.columns:
        raise ColumnError(
            f"The sensitive attribute '{sensitive}' is not a column of the table "
            f"({len(table.columns)} columns). Pick one of the table's columns."
        )
    cands = [c for c in (table.columns if columns is None else columns) if c != sensitive]
    cols = _check_columns(table, [sensitive, *cands])
    if not cands:
        raise InvalidParameterError(
            "No candidate columns besides the sensitive attribute; add columns to rank."
        )
    declared = corr._declared(kinds)
    dtypes = _dtypes(engine, table)
    sql_kinds = ["cat" if c in declared else _kind(dtypes[c]) for c in cols]
    prof = _profile(engine, table, cols, sql_kinds)
    binned = [s != "cat" and _int(prof[f"nk_{j}"]) > int(bins) for j, s in enumerate(sql_kinds)]
    q, name = engine.quote, table.name
    source = plans.discrete_codes(q, name, cols, sql_kinds, binned, int(bins))
    s_row = engine.query(plans.code_counts(source)).iloc[0]
    if _int(s_row["nv"]) == 0:
        raise InvalidParameterError(
            f"The sensitive attribute '{sensitive}' has no values (all {table.n_rows} "
            "missing). Pick another column."
        )
    if _int(s_row["d"]) < 2:
        raise InvalidParameterError(
            f"The sensitive attribute '{sensitive}' is constant (1 distinct value), so "
            "nothing can reveal it. Pick another column."
        )
    baseline = _int(s_row["top"]) / _int(s_row["nv"])
    assoc = _sql_association(engine, table, cols, None, "pearson", kinds, (dtypes, prof))
    warnings = list(assoc.warnings)
    if binned[0]:
        warnings.append(
            f"'{sensitive}' is numeric with many values; guessing and NMI use {bins} "
            "quantile bins of it."
        )
    sums = _batched(
        engine, [(j, 0) for j in range(1, len(cols))], lambda b: plans.contingency_sums(source, b)
    )
    raw = []
    for i, c in enumerate(cands, start=1):
        row = sums[(i, 0)]
        nn = _int(row["nn"])
        nmi = math.nan
        if nn:
            nmi = corr._nmi_from_entropies(
                _entropy(nn, _float(row["ha"]), _int(row["ka"])),
                _entropy(nn, _float(row["hb"]), _int(row["kb"])),
                _entropy(nn, _float(row["hj"]), 2),
            )
        guess = (_int(row["best"]) / nn, _int(row["top"]) / nn) if nn else (math.nan, math.nan)
        val = float(abs(assoc.value[0, i]))
        scores = [v for v in (val, nmi) if not math.isnan(v)]
        score = max(scores) if scores else math.nan
        raw.append((c, str(assoc.measure[0, i]), val, nmi, int(assoc.n[0, i]),
                    assoc.reasons.get((sensitive, c), ""), guess, score))  # fmt: skip
    raw.sort(key=lambda it: -it[7] if not math.isnan(it[7]) else math.inf)
    entries = []
    for rank, (c, meas, val, nmi, nn, reason, guess, score) in enumerate(raw):
        acc = base = lift = None
        if rank < int(top) and not math.isnan(score):
            acc, base = guess
            lift = (acc - base) / (1 - base) if base < 1 else 0.0
        strong = [v for v in (val, lift) if v is not None and not math.isnan(v)]
        entries.append(
            LeakageEntry(
                column=c, measure=meas, association=val, nmi=nmi, score=score, n=nn,
                guess_accuracy=acc, baseline_accuracy=base, lift=lift,
                proxy=bool(strong) and max(strong) >= proxy_threshold, reason=reason,
            )
        )  # fmt: skip
    return LeakageReport(
        sensitive=sensitive,
        entries=tuple(entries),
        baseline_accuracy=baseline,
        proxy_threshold=proxy_threshold,
        sensitive_binned=binned[0],
        warnings=tuple(dict.fromkeys(warnings)),
    )
