"""The measures as SQL text, written once for every SQL engine.

Each function takes the engine's ``quote`` (how it quotes an identifier) and the table's
name and returns a query whose result is small: one row per distinct class size, per
histogram cell, or a single row of aggregates. Only standard SQL is used (``GROUP BY``,
``UNION ALL``, joins, ``CASE``, ``LN``, ``COUNT(DISTINCT ...)``, ``IS NOT DISTINCT
FROM``), which DuckDB and Spark SQL both accept; an engine only runs the text.

Missing values are SQL ``NULL`` (an engine maps a float ``NaN`` to ``NULL`` when it opens a
table, as pandas treats ``NaN`` as missing). The two rules of :mod:`core.risk`:

- ``"category"``: ``GROUP BY`` puts every ``NULL`` of a column into one group, which is
  exactly "a missing value is one more category";
- ``"wildcard"``: a class's ``f_k`` sums the sizes of every class that agrees with it on
  each QI where both are observed. Classes with a missing value are few in practice, so the
  plan joins every class only with those (a join whose size is
  ``classes x classes-with-missing``), never all classes with all.

Class-level rows stay inside the engine; what comes back is a histogram over
``(size, f_k)`` (a few hundred rows even for billions of records) or sums over classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = [
    "Quote",
    "class_histogram",
    "class_table",
    "distinct_count",
    "group_count",
    "missing_counts",
    "row_count",
    "weight_check",
    "weighted_individual_risk",
]

#: The engine's identifier quoting, e.g. ``'"' + name.replace('"', '""') + '"'``.
Quote = Callable[[str], str]

_N = "n_rec"  # class size
_W = "w_sum"  # sum of the weights in the class
_FK = "fk"  # sample frequency f_k (wildcard matches included)
_BIG = "big_fk"  # population frequency F_k (sum of the weights of the matches)


def _keys(qis: Sequence[str], alias: str = "") -> list[str]:
    prefix = f"{alias}." if alias else ""
    return [f"{prefix}q{j}" for j in range(len(qis))]


def _weight_expr(quote: Quote, weight: str) -> str:
    return f"CAST({quote(weight)} AS DOUBLE)"


def row_count(quote: Quote, table: str) -> str:
    """``SELECT COUNT(*) AS n``."""
    return f"SELECT COUNT(*) AS n FROM {quote(table)}"


def group_count(quote: Quote, table: str, qis: Sequence[str]) -> str:
    """A bare ``GROUP BY ... COUNT(*)`` reduced to the number of classes (the baseline the
    benchmark compares the risk summary with)."""
    cols = ", ".join(quote(q) for q in qis)
    return (
        f"SELECT COUNT(*) AS n_classes FROM (SELECT {cols}, COUNT(*) AS {_N} "
        f"FROM {quote(table)} GROUP BY {cols}) g"
    )


def distinct_count(quote: Quote, table: str, column: str) -> str:
    """Distinct non-missing values of one column."""
    return f"SELECT COUNT(DISTINCT {quote(column)}) AS n_distinct FROM {quote(table)}"


def class_table(
    quote: Quote,
    table: str,
    qis: Sequence[str],
    *,
    missing: str = "category",
    weight: str | None = None,
) -> str:
    """One row per equivalence class: keys ``q0 .. q{m-1}``, ``n_rec`` (size), ``fk`` and,
    with a weight column, ``w_sum`` and ``big_fk``. Meant as a sub-query, not collected.

    Parameters
    ----------
    quote : callable
        The engine's identifier quoting.
    table : str
        The table's name.
    qis : sequence of str
        Quasi-identifier columns.
    missing : {"category", "wildcard"}
        Missing-value rule (see the module docstring).
    weight : str, optional
        Column of sampling weights; ``F_k`` sums them over the class's matches.
    """
    keys = _keys(qis)
    select_keys = ", ".join(f"{quote(q)} AS {k}" for q, k in zip(qis, keys, strict=True))
    group = ", ".join(str(j + 1) for j in range(len(qis)))
    wcol = f", SUM({_weight_expr(quote, weight)}) AS {_W}" if weight else ""
    base = (
        f"SELECT {select_keys}, COUNT(*) AS {_N}{wcol} FROM {quote(table)} GROUP BY {group}"
    )
    if missing == "category":
        wsel = f", {_W}, {_W} AS {_BIG}" if weight else ""
        return f"SELECT {', '.join(keys)}, {_N}, {_N} AS {_FK}{wsel} FROM ({base}) c"
    return _wildcard_table(keys, base, weight is not None)


def _wildcard_table(keys: list[str], base: str, weighted: bool) -> str:
    """Classes with ``f_k``/``F_k`` under the wildcard rule, as a union of three joins."""
    any_null = " OR ".join(f"{k} IS NULL" for k in keys)
    match = " AND ".join(
        f"(a.{k} = b.{k} OR a.{k} IS NULL OR b.{k} IS NULL)" for k in keys
    )
    same = " AND ".join(f"a.{k} IS NOT DISTINCT FROM b.{k}" for k in keys)
    b_complete = " AND ".join(f"b.{k} IS NOT NULL" for k in keys)
    a_keys = ", ".join(f"a.{k}" for k in keys)
    # w_part: the matched class's weight sum; own_w: the class's own (first branch only)
    w_self = f", {_W} AS w_part, {_W} AS own_w" if weighted else ""
    w_b = ", b.w_sum, 0.0" if weighted else ""
    pairs = (
        f"SELECT {', '.join(keys)}, {_N} AS size, {_N} AS f_part{w_self} FROM cls "
        "UNION ALL "
        f"SELECT {a_keys}, a.{_N}, b.{_N}{w_b} FROM cls a JOIN miss b "
        f"ON {match} WHERE NOT ({same}) "
        "UNION ALL "
        f"SELECT {a_keys}, a.{_N}, b.{_N}{w_b} FROM miss a JOIN cls b "
        f"ON {match} WHERE {b_complete}"
    )
    wsum = f", SUM(own_w) AS {_W}, SUM(w_part) AS {_BIG}" if weighted else ""
    return (
        f"SELECT {', '.join(keys)}, size AS {_N}, SUM(f_part) AS {_FK}{wsum} FROM ("
        f"WITH cls AS ({base}), miss AS (SELECT * FROM cls WHERE {any_null}) {pairs}"
        f") p GROUP BY {', '.join(keys)}, size"
    )


def class_histogram(
    quote: Quote, table: str, qis: Sequence[str], *, missing: str = "category"
) -> str:
    """How many classes have each ``(size, f_k)``: columns ``n_rec``, ``fk``, ``classes``.

    Under ``"category"`` ``f_k`` equals the size; everything the unweighted risk summary
    reports (k, uniques, records below 2/3/5, prosecutor, journalist, marketer and the
    individual risk with a constant weight) is a sum over this histogram.
    """
    inner = class_table(quote, table, qis, missing=missing)
    return (
        f"SELECT {_N}, {_FK}, COUNT(*) AS classes FROM ({inner}) t "
        f"GROUP BY {_N}, {_FK} ORDER BY {_N}, {_FK}"
    )


def weight_check(quote: Quote, table: str, weight: str) -> str:
    """Counts of weights that are missing, zero, negative or infinite (``bad``) and below 1
    (``below_one``)."""
    w = _weight_expr(quote, weight)
    inf = "CAST('Infinity' AS DOUBLE)"
    return (
        f"SELECT SUM(CASE WHEN {w} IS NULL OR NOT ({w} > 0 AND {w} < {inf}) THEN 1 ELSE 0 END)"
        f" AS bad, SUM(CASE WHEN {w} < 1 THEN 1 ELSE 0 END) AS below_one FROM {quote(table)}"
    )


def _horner(x: str, coefficients: Sequence[float]) -> str:
    """``c0 + x (c1 + x (c2 + ...))`` as SQL text."""
    expr = repr(float(coefficients[-1]))
    for c in reversed(coefficients[:-1]):
        expr = f"({expr}) * {x} + {float(c)!r}"
    return expr


def fp_risk_expr(f: str, big: str) -> str:
    """sdcMicro's individual risk ``r_k`` for ``f_k = f``, ``F_k = big`` as a SQL expression.

    The same evaluation as :func:`core.risk._fp_risk` (no cancellation near ``F_k = f_k``):
    with ``x = (F - f) / F`` and ``p = f / F``, ``L / x = sum x^(k-1) / k`` and
    ``h(x) / x = sum x^(k-1) / (k (k+1))`` as 64-term series for ``x < 1/2``, closed forms
    above; the result is clipped to ``[0, 1 / f]``.
    """
    x = f"(({big} - {f}) / {big})"
    p = f"({f} / {big})"
    l_over_x_series = _horner(x, [1.0 / k for k in range(1, 65)])
    h_over_x_series = _horner(x, [1.0 / (k * (k + 1.0)) for k in range(1, 65)])
    l_big = f"(-LN({p}))"
    one = f"CASE WHEN {x} < 0.5 THEN {p} * ({l_over_x_series}) ELSE {p} * ({l_big} / {x}) END"
    two = (
        f"CASE WHEN {x} < 0.5 THEN {p} * ({h_over_x_series}) "
        f"ELSE {p} * (({x} - {p} * {l_big}) / ({x} * {x})) END"
    )
    more = f"{p} / ({f} - {x})"
    raw = (
        f"CASE WHEN {x} <= 0 THEN 1.0 / {f} WHEN {f} = 1 THEN {one} "
        f"WHEN {f} = 2 THEN {two} ELSE {more} END"
    )
    return f"LEAST(GREATEST({raw}, 0.0), 1.0 / {f})"


def weighted_individual_risk(
    quote: Quote, table: str, qis: Sequence[str], weight: str, *, missing: str = "category"
) -> str:
    """Expected re-identifications ``sum_k r_k`` with ``F_k`` from a weight column: one row,
    column ``expected``."""
    inner = class_table(quote, table, qis, missing=missing, weight=weight)
    r = fp_risk_expr(f"CAST({_FK} AS DOUBLE)", _BIG)
    return f"SELECT SUM({_N} * ({r})) AS expected FROM ({inner}) t"


def missing_counts(quote: Quote, table: str, qis: Sequence[str]) -> str:
    """Rows with a missing QI (``rows_na``) and, per QI j, its missing values (``na_j``)."""
    cols = [quote(q) for q in qis]
    any_na = " OR ".join(f"{c} IS NULL" for c in cols)
    per = ", ".join(
        f"SUM(CASE WHEN {c} IS NULL THEN 1 ELSE 0 END) AS na_{j}" for j, c in enumerate(cols)
    )
    return (
        f"SELECT SUM(CASE WHEN {any_na} THEN 1 ELSE 0 END) AS rows_na, {per} "
        f"FROM {quote(table)}"
    )
