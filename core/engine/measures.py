"""The measures on any engine: SQL plans for DuckDB/Spark, the ``core`` functions for pandas.

A SQL engine runs the plans of :mod:`core.engine.plans` and gets back a class-size
histogram (one row per distinct ``(size, f_k)``) and a few sums; this module turns them into
small frozen results with the same figures :mod:`core.risk` computes. The pandas engine
answers the same functions with :mod:`core.risk` itself, so the two can be compared number
by number (``tests/test_engine_duckdb.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core import risk
from core.engine import plans
from core.engine.base import Engine, Table
from core.engine.orders import check_order
from core.engine.pandas_engine import PandasEngine
from core.errors import ColumnError, InvalidParameterError
from core.limits import RISK_RECURSIVE_L_DEFAULT, RISK_THRESHOLD_DEFAULT
from core.risk import (
    MissingPolicy,
    PopulationUniqueness,
    _check_threshold,
    _fp_risk,
    _policy,
    _resolve_fraction,
    _uniqueness_estimates,
)

__all__ = [
    "ClassHistogram",
    "EngineAttributeRisk",
    "attribute_risk",
    "EngineRiskSummary",
    "class_histogram",
    "k_anonymity",
    "population_uniqueness",
    "risk_summary",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ClassHistogram:
    """How many equivalence classes have each size and sample frequency.

    Attributes
    ----------
    sizes : numpy.ndarray
        Class sizes (records with the exact QI pattern), ascending with ``fk``.
    fk : numpy.ndarray
        Sample frequency ``f_k`` of those classes (the size under ``"category"``; with the
        wildcard matches under ``"wildcard"``).
    classes : numpy.ndarray
        Number of classes with that ``(size, f_k)``.
    """

    sizes: np.ndarray
    fk: np.ndarray
    classes: np.ndarray

    @property
    def n(self) -> int:
        """Number of records."""
        return int(np.dot(self.sizes, self.classes))

    @property
    def n_classes(self) -> int:
        """Number of equivalence classes."""
        return int(self.classes.sum())


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineRiskSummary:
    """The headline risk figures, as any engine computes them (no per-record arrays).

    Attributes
    ----------
    engine : str
        Name of the engine that computed them.
    n, k, n_classes, sample_uniques, below_2, below_3, below_5 : int
        As :class:`core.risk.RiskSummary`.
    prosecutor_highest, prosecutor_average : float
        ``1 / k`` and the mean of ``1 / f_k`` over records.
    threshold : float
    records_at_risk : int
        Records whose prosecutor risk ``1 / f_k`` exceeds the threshold.
    share_at_risk : float
    marketer : float
    journalist : float or None
        Only with a sampling fraction or population size.
    journalist_records_at_risk : int or None
        Records whose journalist risk exceeds the threshold (ARX), same condition.
    expected_reidentifications, expected_share : float
        sdcMicro's ``sum_k r_k`` and its share of n.
    histogram : ClassHistogram
    warnings : tuple of str
    """

    engine: str
    n: int
    k: int
    n_classes: int
    sample_uniques: int
    below_2: int
    below_3: int
    below_5: int
    prosecutor_highest: float
    prosecutor_average: float
    threshold: float
    records_at_risk: int
    share_at_risk: float
    marketer: float
    journalist: float | None
    journalist_records_at_risk: int | None
    expected_reidentifications: float
    expected_share: float
    histogram: ClassHistogram
    warnings: tuple[str, ...] = ()


# --- validation ----------------------------------------------------------------------------


def _check_table(table: Table, qis: Sequence[str], weight: str | None) -> tuple[str, ...]:
    if isinstance(qis, str):
        qis = [qis]
    names = tuple(qis)
    if not names:
        raise InvalidParameterError(
            "No quasi-identifiers were chosen; got 0 columns. Pick at least one column an "
            "attacker could know (age, ZIP code, sex, ...)."
        )
    if len(set(names)) != len(names):
        raise InvalidParameterError(
            f"A quasi-identifier is listed twice (got {len(names)} names, "
            f"{len(set(names))} distinct). List each column once."
        )
    if table.n_rows == 0:
        raise InvalidParameterError(
            "The table has 0 rows, so there is no risk to measure. Load a table with data."
        )
    absent = [c for c in names if c not in table.columns]
    if absent:
        raise ColumnError(
            f"Quasi-identifier column(s) not found in the table: {', '.join(absent)}. "
            f"The table has {len(table.columns)} column(s); pick existing ones."
        )
    if weight is not None and weight not in table.columns:
        raise ColumnError(
            f"Weight column not found in the table: {weight}. "
            f"The table has {len(table.columns)} column(s); pick existing ones."
        )
    return names


def _missing_warning(res: pd.DataFrame, qis: tuple[str, ...], policy: str) -> tuple[str, ...]:
    """The warning :func:`core.risk.equivalence_classes` gives, from the histogram's counts."""
    rows_na = int(res["rows_na"].sum())
    if rows_na == 0:
        return ()
    cols = [q for j, q in enumerate(qis) if int(res[f"na_{j}"].sum()) > 0]
    rule = (
        "their own category (ARX convention)."
        if policy == MissingPolicy.CATEGORY
        else "wildcards matching any value (sdcMicro convention)."
    )
    return (
        f"{rows_na} record(s) have a missing value in {', '.join(cols)}; missing values are "
        f"treated as {rule}",
    )


# --- measures ------------------------------------------------------------------------------


def class_histogram(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
) -> ClassHistogram:
    """Classes per ``(size, f_k)`` over the quasi-identifiers.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    quasi_identifiers : sequence of str
    missing : {"category", "wildcard"}
        Missing-value rule, as :func:`core.risk.equivalence_classes`.

    Returns
    -------
    ClassHistogram

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`core.risk.equivalence_classes`.

    Examples
    --------
    >>> from core.engine.duckdb_engine import DuckDBEngine
    >>> with DuckDBEngine(memory_limit="256MB") as eng:
    ...     t = eng.open(pd.DataFrame({"a": [1, 1, 2, None]}))
    ...     h = class_histogram(eng, t, ["a"], missing="wildcard")
    >>> h.sizes.tolist(), h.fk.tolist(), h.classes.tolist()
    ([1, 1, 2], [2, 4, 3], [1, 1, 1])
    """
    policy = _policy(missing)
    qis = _check_table(table, quasi_identifiers, None)
    if isinstance(engine, PandasEngine):
        ec = risk.equivalence_classes(engine.frame(table), qis, missing=policy)
        pairs = pd.DataFrame({"s": ec.class_sizes, "f": ec.class_fk})
        counts = pairs.groupby(["s", "f"]).size().reset_index(name="c")
        return _histogram(counts["s"], counts["f"], counts["c"])
    pats = _patterns(engine, table, qis, policy)
    sql = plans.class_histogram(engine.quote, table.name, qis, missing=policy, patterns=pats)
    res = engine.query(sql)
    return _histogram(res["n_rec"], res["fk"], res["classes"])


def _patterns(engine: Engine, table: Table, qis: tuple[str, ...], policy: str) -> tuple[int, ...]:
    """The missingness patterns present (only the wildcard rule needs them)."""
    if policy != MissingPolicy.WILDCARD:
        return ()
    res = engine.query(plans.missing_patterns(engine.quote, table.name, qis))
    return tuple(sorted(int(p) for p in res["pat"]))


def _histogram(s: pd.Series, f: pd.Series, c: pd.Series) -> ClassHistogram:
    order = np.lexsort((f.to_numpy(), s.to_numpy()))
    return ClassHistogram(
        sizes=s.to_numpy(dtype=np.int64)[order],
        fk=f.to_numpy(dtype=np.int64)[order],
        classes=c.to_numpy(dtype=np.int64)[order],
    )


def k_anonymity(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
) -> int:
    """The k of k-anonymity (smallest ``f_k``), as :func:`core.risk.k_anonymity`."""
    return int(class_histogram(engine, table, quasi_identifiers, missing=missing).fk.min())


def risk_summary(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
    threshold: float = RISK_THRESHOLD_DEFAULT,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
    weight_column: str | None = None,
) -> EngineRiskSummary:
    """Every headline re-identification figure of :func:`core.risk.risk_summary`, on an engine.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    quasi_identifiers : sequence of str
    missing : {"category", "wildcard"}
    threshold : float
        Risk threshold in (0, 1].
    sampling_fraction, population_size : optional
        The population model, as :func:`core.risk.risk_summary`.
    weight_column : str, optional
        Sampling weights for sdcMicro's individual risk.

    Returns
    -------
    EngineRiskSummary

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`core.risk.risk_summary`.
    EngineError
        The engine failed (out of memory and disk).

    Notes
    -----
    On a SQL engine every figure is a sum over the class histogram (``f_k`` per class, the
    class's size), which one pass over the table returns
    (:func:`core.engine.plans.class_histogram`); with weights, whose ``F_k`` differs per
    class, the engine also sums ``r_k`` per histogram cell (a first, cheap pass checks the
    weights). The formulas are those of :mod:`core.risk`.

    Examples
    --------
    >>> eng = PandasEngine()
    >>> s = risk_summary(eng, eng.open(pd.DataFrame({"a": [1, 1, 1, 2, 2, 3]})), ["a"])
    >>> s.k, s.n_classes, s.sample_uniques, s.below_3, s.prosecutor_average
    (1, 3, 1, 3, 0.5)
    """
    policy = _policy(missing)
    t = _check_threshold(threshold)
    qis = _check_table(table, quasi_identifiers, weight_column)
    pi: float | None = None
    if sampling_fraction is not None or population_size is not None:
        pi = _resolve_fraction(table.n_rows, sampling_fraction, population_size)
    if isinstance(engine, PandasEngine):
        return _pandas_summary(engine, table, qis, policy, t, pi, weight_column)
    check_warnings: tuple[str, ...] = ()
    if weight_column is not None:
        check_warnings = _check_weights(engine, table, weight_column)
    pats = _patterns(engine, table, qis, policy)
    sql = plans.class_histogram(
        engine.quote, table.name, qis, missing=policy, patterns=pats, weight=weight_column
    )
    res = engine.query(sql)
    hist = _histogram(res["n_rec"], res["fk"], res["classes"])
    warnings = _missing_warning(res, qis, policy)
    if weight_column is not None:
        expected = float(res["expected"].sum())
        warnings += check_warnings
    else:
        f = hist.fk.astype(np.float64)
        r = _fp_risk(f, f / (1.0 if pi is None else pi))
        expected = float(np.sum(hist.classes * hist.sizes * r))
    return _from_histogram(engine.name, hist, t, pi, expected, warnings)


def _check_weights(engine: Engine, table: Table, weight: str) -> tuple[str, ...]:
    """Refuse missing, non-positive or infinite weights (before any risk is computed); warn
    about weights below 1."""
    check = engine.query(plans.weight_check(engine.quote, table.name, weight)).iloc[0]
    bad, below = int(check["bad"] or 0), int(check["below_one"] or 0)
    if bad:
        raise ColumnError(
            f"Weight column '{weight}' has {bad} missing, zero, negative or infinite "
            "value(s). Sampling weights must be positive numbers; fix or drop those rows."
        )
    if not below:
        return ()
    return (
        f"{below} weight(s) in '{weight}' are below 1, so some population frequencies "
        "are below the sample frequencies; the risks of those records are capped at "
        "1 / f_k.",
    )


def _from_histogram(
    name: str,
    hist: ClassHistogram,
    t: float,
    pi: float | None,
    expected: float,
    warnings: tuple[str, ...],
) -> EngineRiskSummary:
    s, f, c = hist.sizes, hist.fk, hist.classes
    records = s * c  # records in the classes of each histogram cell
    n = int(records.sum())
    class_risk = 1.0 / f
    at_risk = int(records[class_risk > t].sum())
    fraction = 1.0 if pi is None else pi
    return EngineRiskSummary(
        engine=name,
        n=n,
        k=int(f.min()),
        n_classes=int(c.sum()),
        sample_uniques=int(records[f == 1].sum()),
        below_2=int(records[f < 2].sum()),
        below_3=int(records[f < 3].sum()),
        below_5=int(records[f < 5].sum()),
        prosecutor_highest=float(class_risk.max()),
        prosecutor_average=float(np.dot(records, class_risk) / n),
        threshold=t,
        records_at_risk=at_risk,
        share_at_risk=at_risk / n,
        marketer=float(np.sum(records * fraction / f) / n),
        journalist=None if pi is None else float(np.max(pi / f)),
        journalist_records_at_risk=None if pi is None else int(records[pi / f > t].sum()),
        expected_reidentifications=expected,
        expected_share=expected / n,
        histogram=hist,
        warnings=warnings,
    )


def _pandas_summary(
    engine: PandasEngine,
    table: Table,
    qis: tuple[str, ...],
    policy: MissingPolicy,
    t: float,
    pi: float | None,
    weight: str | None,
) -> EngineRiskSummary:
    df = engine.frame(table)
    ec = risk.equivalence_classes(df, qis, missing=policy)
    rs = risk.risk_summary(
        df, qis, threshold=t, sampling_fraction=pi, weight_column=weight, classes=ec
    )
    jr = None
    if pi is not None:
        jr = risk.journalist_records_at_risk(ec, threshold=t, sampling_fraction=pi)
    pairs = pd.DataFrame({"s": ec.class_sizes, "f": ec.class_fk})
    counts = pairs.groupby(["s", "f"]).size().reset_index(name="c")
    return EngineRiskSummary(
        engine=engine.name,
        n=rs.n,
        k=rs.k,
        n_classes=rs.n_classes,
        sample_uniques=rs.sample_uniques,
        below_2=rs.below_2,
        below_3=rs.below_3,
        below_5=rs.below_5,
        prosecutor_highest=rs.prosecutor.highest,
        prosecutor_average=rs.prosecutor.average,
        threshold=rs.prosecutor.threshold,
        records_at_risk=rs.prosecutor.records_at_risk,
        share_at_risk=rs.prosecutor.share_at_risk,
        marketer=rs.marketer,
        journalist=rs.journalist,
        journalist_records_at_risk=None if jr is None else jr.records_at_risk,
        expected_reidentifications=rs.individual.expected_reidentifications,
        expected_share=rs.individual.expected_share,
        histogram=_histogram(counts["s"], counts["f"], counts["c"]),
        warnings=rs.warnings,
    )


# --- attribute disclosure ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineAttributeRisk:
    """Attribute-disclosure figures of one sensitive column, as any engine computes them.

    The fields mean what they mean in :class:`core.attribute_risk.AttributeRisk`; on a
    numeric or an ordered categorical column (or with a declared order) ``t_closeness`` is
    the ordered distance on every engine, in the same value order
    (:func:`core.engine.plans.ordered_t_closeness` on a SQL engine).
    """

    engine: str
    column: str
    distinct_l: int
    entropy_l: float
    recursive_l: int
    recursive_c: float
    t_closeness: float
    ordered: bool
    delta_disclosure: float
    beta_likeness: float
    enhanced_beta_likeness: float
    warnings: tuple[str, ...] = ()


def attribute_risk(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    *,
    recursive_l: int = RISK_RECURSIVE_L_DEFAULT,
    order: Sequence[Any] | None = None,
) -> EngineAttributeRisk:
    """l-diversity, t-closeness, delta-disclosure and beta-likeness on an engine.

    Parameters
    ----------
    engine : Engine
    table : Table
        A table ``engine`` opened.
    quasi_identifiers : sequence of str
    sensitive : str
        The sensitive column, not one of the quasi-identifiers.
    recursive_l : int
        ``l >= 2`` for recursive (c, l)-diversity.
    order : sequence, optional
        A declared order of the sensitive values, lowest first (distinct, none missing):
        t-closeness then uses the ordered distance in that order, on every engine, as for
        an ordered categorical with these categories. Without it an ordered categorical
        column is ordered by its categories (a frame's, or those pandas wrote to Parquet:
        :mod:`core.engine.orders`), a numeric column by value, and other columns use the
        equal distance. Parquet written by other tools carries no order: declare it here.

    Returns
    -------
    EngineAttributeRisk

    Raises
    ------
    ColumnError
        ``sensitive`` missing or a quasi-identifier; a declared ``order`` that misses
        some observed value of the column.
    InvalidParameterError
        As :func:`core.attribute_risk.attribute_risk`; an ``order`` with a repeated or a
        missing value, or fewer than 2 values.

    Notes
    -----
    The formulas of :func:`core.attribute_risk.attribute_risk`, from the (class, value)
    counts: a ``GROUP BY`` of the QIs and the sensitive column, with window sums for the
    class sizes and the table's value counts and ``ROW_NUMBER`` for the descending order
    recursive (c, l)-diversity needs. Classes are the exact QI patterns under either
    missing-value rule. On an ordered column t-closeness is the ordered distance of Li et al.
    (2007), ``1/(m-1) sum_i |Q_i - P_i|`` over cumulative shares, summed per class from the
    values present in it (:func:`core.engine.plans.ordered_t_closeness`); missing sensitive
    values are left out of it, as the pandas engine does. A categorical order reaches the SQL
    engine as a small table of (value, position) it registers, never as query text.

    Examples
    --------
    >>> eng = PandasEngine()
    >>> t = eng.open(pd.DataFrame({"zip": [1, 1, 1, 2, 2, 2], "dx": list("aabcab")}))
    >>> ar = attribute_risk(eng, t, ["zip"], "dx")
    >>> ar.distinct_l, round(ar.entropy_l, 4), ar.recursive_c, round(ar.t_closeness, 4)
    (2, 1.8899, 2.0, 0.1667)
    """
    from core import attribute_risk as ar

    qis = _check_table(table, quasi_identifiers, None)
    if sensitive not in table.columns:
        raise ColumnError(
            f"Sensitive column '{sensitive}' is not in the table ({len(table.columns)} "
            "columns). Pick an existing column."
        )
    if sensitive in qis:
        raise ColumnError(
            f"'{sensitive}' is both a quasi-identifier and a sensitive attribute. "
            "Remove it from one of the two lists."
        )
    if isinstance(recursive_l, bool) or int(recursive_l) < 2:
        raise InvalidParameterError(
            f"recursive_l must be at least 2; got {recursive_l}. (c, 2)-diversity is the "
            "usual starting point."
        )
    ell = int(recursive_l)
    declared = None if order is None else check_order(order, sensitive)
    if isinstance(engine, PandasEngine):
        df = engine.frame(table)
        if declared is not None:
            df = df.assign(**{sensitive: _in_order(df[sensitive], declared, sensitive)})
        res = ar.attribute_risk(df, risk.equivalence_classes(df, qis), sensitive, recursive_l=ell)
        return EngineAttributeRisk(
            engine=engine.name,
            column=res.column,
            distinct_l=res.distinct_l,
            entropy_l=res.entropy_l,
            recursive_l=res.recursive_l,
            recursive_c=res.recursive_c,
            t_closeness=res.t_closeness,
            ordered=res.ordered,
            delta_disclosure=res.delta_disclosure,
            beta_likeness=res.beta_likeness,
            enhanced_beta_likeness=res.enhanced_beta_likeness,
            warnings=res.warnings,
        )
    if declared is None:
        declared = dict(table.orders).get(sensitive)
    return _sql_attribute_risk(engine, table, qis, sensitive, ell, declared)


def _in_order(s: pd.Series, order: tuple[Any, ...], column: str) -> pd.Categorical:
    """``s`` as an ordered categorical with the declared order; every observed value must
    have a place in it."""
    unplaced = s[s.notna() & ~s.isin(order)].nunique()
    if unplaced:
        raise _unplaced_error(column, int(unplaced), len(order))
    return pd.Categorical(s, categories=list(order), ordered=True)


def _unplaced_error(column: str, unplaced: int, size: int) -> ColumnError:
    return ColumnError(
        f"The order declared for '{column}' ({size} values) leaves out {unplaced} distinct "
        f"value(s) of the column. List every value of '{column}' in the order, lowest first."
    )


def _check_order_kind(order: tuple[Any, ...], column: str, numeric: bool) -> None:
    """Refuse an order of numbers for a text column, or of text for a numeric one (an engine
    could not compare them)."""
    numbers = sum(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in order)
    if numbers != (len(order) if numeric else 0):
        raise ColumnError(
            f"The order declared for '{column}' holds {numbers} number(s) among {len(order)} "
            f"values, but the column holds {'numbers' if numeric else 'text'}. List the "
            "column's own values, lowest first."
        )


def _sql_attribute_risk(
    engine: Engine,
    table: Table,
    qis: tuple[str, ...],
    sensitive: str,
    ell: int,
    order: tuple[Any, ...] | None,
) -> EngineAttributeRisk:
    order_table = None
    probe = engine.sample(table, 1, 0)[sensitive]  # the column's type, from one row
    numeric = pd.api.types.is_numeric_dtype(probe) and not pd.api.types.is_bool_dtype(probe)
    if order is None:
        ordered = bool(numeric)
    else:  # the positions as a small table of the engine, joined on the value
        _check_order_kind(order, sensitive, numeric)
        positions = pd.DataFrame({"v": list(order), "pos": np.arange(len(order), dtype=np.int64)})
        order_table = engine.open(positions, name=f"{table.name}__order").name
        ordered = True
    # one query: the ordered distance shares the scan and the class table
    sql = plans.attribute_risk(
        engine.quote,
        table.name,
        qis,
        sensitive,
        recursive_l=ell,
        ordered=ordered,
        order_table=order_table,
    )
    row = engine.query(sql).iloc[0]
    if order is not None and int(row["unplaced"]):
        raise _unplaced_error(sensitive, int(row["unplaced"]), len(order))
    warnings: list[str] = []
    t_close = float(row["t_equal"])
    if ordered:
        t_close, ordered, note = _sql_ordered_t(row, sensitive, t_close)
        warnings.extend(note)
    incomplete, n_cls = int(row["incomplete"]), int(row["n_classes"])
    if incomplete:
        warnings.append(
            f"{incomplete} of {n_cls} class(es) lack some value of '{sensitive}'; under the "
            "strict delta-disclosure definition their delta is infinite. The reported delta "
            "covers the values present in each class."
        )
    max_gain = row["max_gain"]
    if pd.isna(max_gain):
        enhanced = 0.0
    elif int(row["gain_over_cap"]) == 0:
        enhanced = float(max_gain)
    else:
        enhanced = math.inf
    return EngineAttributeRisk(
        engine=engine.name,
        column=sensitive,
        distinct_l=int(row["distinct_l"]),
        entropy_l=float(row["entropy_l"]),
        recursive_l=ell,
        recursive_c=float(row["recursive_c"]),
        t_closeness=t_close,
        ordered=ordered,
        delta_disclosure=float(row["delta"]),
        beta_likeness=float(row["beta"]),
        enhanced_beta_likeness=enhanced,
        warnings=tuple(warnings),
    )


def _sql_ordered_t(
    r: pd.Series, sensitive: str, t_equal: float
) -> tuple[float, bool, tuple[str, ...]]:
    """Ordered t-closeness on a SQL engine from the columns of
    :func:`core.engine.plans.ordered_t_closeness` in ``r``, with the pandas reference's rules
    for missing values: ``(t, ordered, warnings)``."""
    m_obs, na = int(r["m_obs"]), int(r["na_records"] or 0)
    if m_obs > 1:
        no_value = int(r["no_value"] or 0)
        note: tuple[str, ...] = ()
        if na:
            note = (
                f"{na} record(s) have a missing '{sensitive}'; the ordered t-closeness leaves "
                "them out of both distributions"
                + (
                    f" ({no_value} class(es) with no observed value are left out)."
                    if no_value
                    else "."
                ),
            )
        return float(r["emd_sum"]) / (m_obs - 1), True, note
    if na:  # at most one observed value: every distribution is the same
        return (
            0.0,
            False,
            (
                f"'{sensitive}' has at most one observed value; missing values are left out of "
                "the ordered t-closeness, which is 0.",
            ),
        )
    return t_equal, False, ()  # one value: the equal distance, as the pandas engine


# --- population uniqueness -----------------------------------------------------------------


def population_uniqueness(
    engine: Engine,
    table: Table,
    quasi_identifiers: Sequence[str],
    *,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
) -> PopulationUniqueness:
    """Population uniques estimated from the pushed-down class-size histogram.

    Parameters
    ----------
    engine : Engine
    table : Table
    quasi_identifiers : sequence of str
    sampling_fraction, population_size : optional
        As :func:`core.risk.population_uniqueness` (one of them is needed).

    Returns
    -------
    core.risk.PopulationUniqueness

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`core.risk.population_uniqueness`.

    Notes
    -----
    Zayatz, Pitman, SNB and Dankar's choice among them, as
    :func:`core.risk.population_uniqueness`, on the histogram of class sizes (the exact QI
    patterns): the engine returns a few hundred rows however large the table.

    Examples
    --------
    >>> eng = PandasEngine()
    >>> t = eng.open(pd.DataFrame({"a": [1, 2, 3, 3]}))
    >>> round(population_uniqueness(eng, t, ["a"], sampling_fraction=0.5).zayatz, 4)
    2.5455
    """
    qis = _check_table(table, quasi_identifiers, None)
    pi = _resolve_fraction(table.n_rows, sampling_fraction, population_size)
    if isinstance(engine, PandasEngine):
        ec = risk.equivalence_classes(engine.frame(table), qis)
        return risk.population_uniqueness(
            ec, sampling_fraction=sampling_fraction, population_size=population_size
        )
    hist = class_histogram(engine, table, qis)  # category: f_k = size
    n = hist.n
    big_n = (
        int(population_size)
        if (population_size and sampling_fraction is None)
        else max(int(round(n / pi)), n)
    )
    sizes = hist.sizes.astype(np.float64)
    counts = hist.classes.astype(np.float64)
    if not (sizes == 1).any():
        return PopulationUniqueness(
            sampling_fraction=pi,
            population_size=big_n,
            zayatz=0.0,
            pitman=0.0,
            snb=0.0,
            dankar=0.0,
            dankar_model="none (no sample uniques)",
        )
    return _uniqueness_estimates(sizes, counts, n, big_n, pi, [])
