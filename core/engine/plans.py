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
  each QI where both are observed. The plan first asks which missingness patterns occur
  (:func:`missing_patterns`, a handful of rows), then hash-joins the classes of each pattern
  with the classes of every other pattern summed by the QIs both observe: one equi-join per
  pair of patterns, never a comparison of every class with every other.

Class-level rows stay inside the engine; what comes back is a histogram over
``(size, f_k)`` (a few hundred rows even for billions of records) or sums over classes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = [
    "Quote",
    "attribute_risk",
    "class_histogram",
    "class_table",
    "distinct_count",
    "group_count",
    "missing_counts",
    "missing_patterns",
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


def missing_patterns(quote: Quote, table: str, qis: Sequence[str]) -> str:
    """The distinct missingness patterns of the QIs: one row per pattern, column ``pat``, a
    bit mask (bit j set = QI j missing). At most ``2^m`` rows, in practice a handful."""
    return f"SELECT DISTINCT {_pattern_expr([quote(q) for q in qis])} AS pat FROM {quote(table)}"


def _pattern_expr(columns: Sequence[str]) -> str:
    return " + ".join(
        f"(CASE WHEN {c} IS NULL THEN {1 << j} ELSE 0 END)" for j, c in enumerate(columns)
    )


def class_table(
    quote: Quote,
    table: str,
    qis: Sequence[str],
    *,
    missing: str = "category",
    weight: str | None = None,
    patterns: Sequence[int] = (),
) -> str:
    """One row per equivalence class: keys ``q0 .. q{m-1}``, ``n_rec`` (size), ``fk`` and,
    with a weight column, ``big_fk``. Meant as a sub-query, not collected.

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
    patterns : sequence of int
        Under ``"wildcard"``, the missingness patterns present (from
        :func:`missing_patterns`); none but 0 means no missing value.
    """
    keys = _keys(qis)
    select_keys = ", ".join(f"{quote(q)} AS {k}" for q, k in zip(qis, keys, strict=True))
    group = ", ".join(str(j + 1) for j in range(len(qis)))
    wcol = f", SUM({_weight_expr(quote, weight)}) AS {_W}" if weight else ""
    base = (
        f"SELECT {select_keys}, COUNT(*) AS {_N}{wcol} FROM {quote(table)} GROUP BY {group}"
    )
    wsel = f", {_W} AS {_BIG}" if weight else ""
    plain = f"SELECT {', '.join(keys)}, {_N}, {_N} AS {_FK}{wsel} FROM ({base}) c"
    if missing == "category" or not any(patterns):
        return plain
    return _wildcard_table(keys, base, weight is not None, sorted(set(patterns)))


def _wildcard_table(keys: list[str], base: str, weighted: bool, patterns: list[int]) -> str:
    """Classes with ``f_k``/``F_k`` under the wildcard rule.

    Two classes of missingness patterns ``Pa`` and ``Pb`` match when they agree on the QIs
    both observe (``S``). Within one pattern that is the class itself; for ``Pa != Pb`` the
    classes of ``Pb`` are summed by ``S`` and hash-joined to the classes of ``Pa`` on ``S``.
    So the work is one join per ordered pair of patterns present, never a comparison of
    every class with every other.
    """
    w_self = f", {_W} AS w_part" if weighted else ""
    w_sum = f", SUM({_W}) AS w_part" if weighted else ""
    a_keys = ", ".join(f"a.{k}" for k in keys)
    w_g = ", g.w_part" if weighted else ""
    branches = [f"SELECT {', '.join(keys)}, {_N} AS size, {_N} AS f_part{w_self} FROM cls"]
    for pa in patterns:
        for pb in patterns:
            if pa == pb:
                continue
            both = [k for j, k in enumerate(keys) if not (pa >> j) & 1 and not (pb >> j) & 1]
            by = ", ".join(both)
            g = (
                f"(SELECT {by + ', ' if by else ''}SUM({_N}) AS f_part{w_sum} FROM cls "
                f"WHERE pat = {pb}{' GROUP BY ' + by if by else ''}) g"
            )
            on = " AND ".join(f"a.{k} = g.{k}" for k in both)
            join = f"JOIN {g} ON {on}" if on else f"CROSS JOIN {g}"
            branches.append(
                f"SELECT {a_keys}, a.{_N}, g.f_part{w_g} FROM cls a {join} WHERE a.pat = {pa}"
            )
    big = f", SUM(w_part) AS {_BIG}" if weighted else ""
    pattern = _pattern_expr(keys)
    return (
        f"SELECT {', '.join(keys)}, size AS {_N}, SUM(f_part) AS {_FK}{big} FROM ("
        f"WITH cls AS (SELECT b.*, {pattern} AS pat FROM ({base}) b) "
        f"{' UNION ALL '.join(branches)}"
        f") p GROUP BY {', '.join(keys)}, size"
    )


def class_histogram(
    quote: Quote,
    table: str,
    qis: Sequence[str],
    *,
    missing: str = "category",
    patterns: Sequence[int] = (),
    weight: str | None = None,
) -> str:
    """How many classes have each ``(size, f_k)``, in one pass over the table.

    Columns: ``n_rec``, ``fk``, ``classes``; the records of those classes with QI j missing
    (``na_j``) and with any QI missing (``rows_na``); with a weight column, ``expected``:
    the classes' sum of sdcMicro's ``r_k`` per record (``F_k`` from the weights). Under
    ``"category"`` ``f_k`` equals the size; everything the risk summary reports is a sum over
    these rows.
    """
    keys = _keys(qis)
    inner = class_table(
        quote, table, qis, missing=missing, patterns=patterns, weight=weight
    )
    na = ", ".join(
        f"SUM(CASE WHEN {k} IS NULL THEN {_N} ELSE 0 END) AS na_{j}" for j, k in enumerate(keys)
    )
    any_na = " OR ".join(f"{k} IS NULL" for k in keys)
    cols = f"SELECT t.*, CAST({_FK} AS DOUBLE) AS f"
    expected = ""
    if weight:
        cols += f", ({_BIG} - {_FK}) / {_BIG} AS x, {_FK} / {_BIG} AS p"
        expected = f", SUM({_N} * ({fp_risk_expr('f', 'x', 'p')})) AS expected"
    return (
        f"SELECT {_N}, {_FK}, COUNT(*) AS classes, {na}, "
        f"SUM(CASE WHEN {any_na} THEN {_N} ELSE 0 END) AS rows_na{expected} "
        f"FROM ({cols} FROM ({inner}) t) h GROUP BY {_N}, {_FK} ORDER BY {_N}, {_FK}"
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


def fp_risk_expr(f: str, x: str, p: str) -> str:
    """sdcMicro's individual risk ``r_k`` as a SQL expression over three columns: ``f`` the
    sample frequency (a double), ``x = (F - f) / F`` and ``p = f / F``.

    The same evaluation as :func:`core.risk._fp_risk` (no cancellation near ``F_k = f_k``):
    ``L / x = sum x^(k-1) / k`` and ``h(x) / x = sum x^(k-1) / (k (k+1))`` as 64-term series
    for ``x < 1/2``, closed forms above; the result is clipped to ``[0, 1 / f]``.
    """
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
    quote: Quote,
    table: str,
    qis: Sequence[str],
    weight: str,
    *,
    missing: str = "category",
    patterns: Sequence[int] = (),
) -> str:
    """Expected re-identifications ``sum_k r_k`` with ``F_k`` from a weight column: one row,
    column ``expected``."""
    inner = class_table(quote, table, qis, missing=missing, weight=weight, patterns=patterns)
    cols = (
        f"SELECT {_N}, CAST({_FK} AS DOUBLE) AS f, ({_BIG} - {_FK}) / {_BIG} AS x, "
        f"{_FK} / {_BIG} AS p FROM ({inner}) t"
    )
    return f"SELECT SUM({_N} * ({fp_risk_expr('f', 'x', 'p')})) AS expected FROM ({cols}) r"


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


def attribute_risk(
    quote: Quote, table: str, qis: Sequence[str], sensitive: str, *, recursive_l: int
) -> str:
    """l-diversity (distinct, entropy, recursive), t-closeness with the equal ground distance,
    delta-disclosure and beta-likeness of one sensitive column: one row.

    Classes are the exact QI patterns (a missing sensitive value is one more value, as in
    :func:`core.attribute_risk.attribute_risk`). Columns: ``distinct_l``, ``entropy_l``,
    ``recursive_c``, ``t_equal``, ``delta``, ``beta``, ``max_gain``, ``gain_over_cap``
    (values whose ``(q - p) / p`` exceeds ``-ln p``), ``incomplete`` (classes lacking some
    value), ``n_classes``.
    """
    keys = _keys(qis)
    select_keys = ", ".join(f"{quote(q)} AS {k}" for q, k in zip(qis, keys, strict=True))
    group = ", ".join(str(j + 1) for j in range(len(qis) + 1))
    by = ", ".join(keys)
    inf = "CAST('Infinity' AS DOUBLE)"
    pairs = (
        f"SELECT {select_keys}, {quote(sensitive)} AS v, COUNT(*) AS r FROM {quote(table)} "
        f"GROUP BY {group}"
    )
    ranked = (
        f"SELECT {by}, v, CAST(r AS DOUBLE) AS r, "
        f"CAST(SUM(r) OVER (PARTITION BY {by}) AS DOUBLE) AS f, "
        "CAST(SUM(r) OVER (PARTITION BY v) AS DOUBLE) AS pv, "
        f"ROW_NUMBER() OVER (PARTITION BY {by} ORDER BY r DESC) AS rk FROM pairs"
    )
    shares = (
        "SELECT pr.*, r / f AS q, pv / tot.n AS p FROM ranked pr "
        "CROSS JOIN (SELECT SUM(r) AS n FROM ranked) tot"
    )
    per_class = (
        f"SELECT COUNT(*) AS m_c, EXP(-SUM(q * LN(q))) AS ent, "
        "SUM(CASE WHEN rk = 1 THEN r ELSE 0 END) AS r1, "
        f"SUM(CASE WHEN rk >= {int(recursive_l)} THEN r ELSE 0 END) AS tail, "
        f"SUM(ABS(q - p) - p) AS present FROM shares GROUP BY {by}"
    )
    classes = (
        "SELECT MIN(m_c) AS distinct_l, MIN(ent) AS entropy_l, "
        f"MAX(CASE WHEN tail > 0 THEN r1 / tail ELSE {inf} END) AS recursive_c, "
        "MAX(0.5 * (present + 1.0)) AS t_equal, COUNT(*) AS n_classes, "
        "SUM(CASE WHEN m_c < (SELECT COUNT(*) FROM (SELECT v FROM pairs GROUP BY v) vs) "
        "THEN 1 ELSE 0 END) AS incomplete FROM per_class"
    )
    values = (
        "SELECT MAX(ABS(LN(q / p))) AS delta, MAX(q / p - 1.0) AS beta, "
        "MAX(CASE WHEN q > p THEN q / p - 1.0 END) AS max_gain, "
        "SUM(CASE WHEN q > p AND q / p - 1.0 > -LN(p) THEN 1 ELSE 0 END) AS gain_over_cap "
        "FROM shares"
    )
    return (
        f"WITH pairs AS ({pairs}), ranked AS ({ranked}), shares AS ({shares}), "
        f"per_class AS ({per_class}) "
        f"SELECT c.*, v.* FROM ({classes}) c CROSS JOIN ({values}) v"
    )
