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

from collections.abc import Callable, Mapping, Sequence

__all__ = [
    "Quote",
    "attribute_risk",
    "class_histogram",
    "class_table",
    "distinct_count",
    "group_count",
    "missing_counts",
    "missing_patterns",
    "ordered_t_closeness",
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
    base = f"SELECT {select_keys}, COUNT(*) AS {_N}{wcol} FROM {quote(table)} GROUP BY {group}"
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
    inner = class_table(quote, table, qis, missing=missing, patterns=patterns, weight=weight)
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
    return f"SELECT SUM(CASE WHEN {any_na} THEN 1 ELSE 0 END) AS rows_na, {per} FROM {quote(table)}"


#: classes with no observed sensitive value, and records with a missing one (from ``cls``)
_seen = (
    "SELECT SUM(CASE WHEN seen = 0 THEN 1 ELSE 0 END) AS no_value, SUM(na) AS na_records FROM cls"
)


def _class_ctes(quote: Quote, table: str, qis: Sequence[str], sensitive: str) -> str:
    """``pairs`` (class keys, value ``v``, count ``r``), ``cls`` (one row per class: an integer
    id ``cid``, the size ``f``, the observed records ``tot``, ``seen`` and the missing ``na``),
    ``joined`` (``pairs`` with the class columns) and ``vals`` (each value's count ``pv``,
    missing included: the table's distribution): the windows after them partition by
    the integer ``cid`` rather than by every quasi-identifier. Any numbering of the classes
    will do, so ``cid`` numbers them by size (a sort of one number, not of every key)."""
    keys = _keys(qis)
    select_keys = ", ".join(f"{quote(q)} AS {k}" for q, k in zip(qis, keys, strict=True))
    group = ", ".join(str(j + 1) for j in range(len(qis) + 1))
    by = ", ".join(keys)
    same = " AND ".join(f"o.{k} IS NOT DISTINCT FROM c.{k}" for k in keys)
    pairs = (
        f"SELECT {select_keys}, {quote(sensitive)} AS v, COUNT(*) AS r FROM {quote(table)} "
        f"GROUP BY {group}"
    )
    cls = (
        f"SELECT {by}, ROW_NUMBER() OVER (ORDER BY SUM(r)) AS cid, CAST(SUM(r) AS DOUBLE) AS f, "
        "CAST(SUM(CASE WHEN v IS NULL THEN 0 ELSE r END) AS DOUBLE) AS tot, "
        "MAX(CASE WHEN v IS NULL THEN 0 ELSE 1 END) AS seen, "
        f"SUM(CASE WHEN v IS NULL THEN r ELSE 0 END) AS na FROM pairs GROUP BY {by}"
    )
    joined = f"SELECT c.cid, c.f, c.tot, o.v, o.r FROM pairs o JOIN cls c ON {same}"
    vals = "SELECT v, CAST(SUM(r) AS DOUBLE) AS pv FROM pairs GROUP BY v"
    return f"pairs AS ({pairs}), cls AS ({cls}), joined AS ({joined}), vals AS ({vals})"


def attribute_risk(
    quote: Quote,
    table: str,
    qis: Sequence[str],
    sensitive: str,
    *,
    recursive_l: int,
    ordered: bool = False,
    order_table: str | None = None,
) -> str:
    """l-diversity (distinct, entropy, recursive), t-closeness with the equal ground distance,
    delta-disclosure and beta-likeness of one sensitive column: one row.

    Classes are the exact QI patterns (a missing sensitive value is one more value, as in
    :func:`core.attribute_risk.attribute_risk`). Columns: ``distinct_l``, ``entropy_l``,
    ``recursive_c``, ``t_equal``, ``delta``, ``beta``, ``max_gain``, ``gain_over_cap``
    (values whose ``(q - p) / p`` exceeds ``-ln p``), ``incomplete`` (classes lacking some
    value), ``n_classes``; with ``ordered`` also the columns of :func:`ordered_t_closeness`
    from the same scan and class table (values ordered by ``order_table``'s positions when
    given, else by their own order).
    """
    inf = "CAST('Infinity' AS DOUBLE)"
    ell = int(recursive_l)
    # (c, 2)-diversity needs only the largest count of a class: no rank window then
    rank = "" if ell == 2 else ", ROW_NUMBER() OVER (PARTITION BY o.cid ORDER BY o.r DESC) AS rk"
    ranked = (
        f"SELECT o.cid, o.v, CAST(o.r AS DOUBLE) AS r, o.f, vv.pv{rank} FROM joined o "
        "JOIN vals vv ON o.v IS NOT DISTINCT FROM vv.v"
    )
    if ell == 2:
        top = "MAX(r) AS r1, SUM(r) - MAX(r) AS tail"
    else:
        top = (
            f"SUM(CASE WHEN rk = 1 THEN r ELSE 0 END) AS r1, "
            f"SUM(CASE WHEN rk >= {ell} THEN r ELSE 0 END) AS tail"
        )
    shares = (
        "SELECT pr.*, r / f AS q, pv / tot.n AS p FROM ranked pr "
        "CROSS JOIN (SELECT SUM(pv) AS n FROM vals) tot"
    )
    per_class = (
        f"SELECT COUNT(*) AS m_c, EXP(-SUM(q * LN(q))) AS ent, {top}, "
        "SUM(ABS(q - p) - p) AS present FROM shares GROUP BY cid"
    )
    classes = (
        "SELECT MIN(m_c) AS distinct_l, MIN(ent) AS entropy_l, "
        f"MAX(CASE WHEN tail > 0 THEN r1 / tail ELSE {inf} END) AS recursive_c, "
        "MAX(0.5 * (present + 1.0)) AS t_equal, COUNT(*) AS n_classes, "
        "SUM(CASE WHEN m_c < (SELECT COUNT(*) FROM vals) "
        "THEN 1 ELSE 0 END) AS incomplete FROM per_class"
    )
    values = (
        "SELECT MAX(ABS(LN(q / p))) AS delta, MAX(q / p - 1.0) AS beta, "
        "MAX(CASE WHEN q > p THEN q / p - 1.0 END) AS max_gain, "
        "SUM(CASE WHEN q > p AND q / p - 1.0 > -LN(p) THEN 1 ELSE 0 END) AS gain_over_cap "
        "FROM shares"
    )
    ctes = (
        f"WITH {_class_ctes(quote, table, qis, sensitive)}, "
        f"ranked AS ({ranked}), shares AS ({shares}), per_class AS ({per_class})"
    )
    if not ordered:
        return f"{ctes} SELECT c.*, v.* FROM ({classes}) c CROSS JOIN ({values}) v"
    more, cols = _ordered_ctes(quote, order_table)
    return (
        f"{ctes}, {more} SELECT c.*, v.*, {cols}, z.na_records, z.no_value "
        f"FROM ({classes}) c CROSS JOIN ({values}) v CROSS JOIN ({_seen}) z"
    )


def ordered_t_closeness(
    quote: Quote,
    table: str,
    qis: Sequence[str],
    sensitive: str,
    *,
    order_table: str | None = None,
) -> str:
    """t-closeness with the ordered ground distance of one sensitive column: one row.

    Li, Li and Venkatasubramanian's ordered EMD between a class ``Q`` and the table ``P`` over
    the ``m`` sorted distinct observed values is ``1/(m-1) sum_i |Q_i - P_i|`` with ``Q_i``,
    ``P_i`` cumulative shares. Missing sensitive values are left out of both distributions
    (as :func:`core.attribute_risk.attribute_risk` does). Columns: ``emd_sum`` (the largest
    ``sum_i |Q_i - P_i|`` over classes; divide by ``m_obs - 1``), ``m_obs``, ``na_records``
    (records with a missing value), ``no_value`` (classes with no observed value) and
    ``unplaced`` (distinct observed values ``order_table`` gives no position).

    The values are sorted by their own order (numbers), or, with ``order_table`` (a table of
    columns ``v``, a value, and ``pos``, its position; an ordered categorical's categories),
    by their positions: the values themselves never appear in the query text.

    No class is expanded to all ``m`` values: between two values present in a class ``Q`` is
    constant while ``P`` rises, so each such segment ``[a, b)`` sums to
    ``Q (s - a) - (S_s - S_a) + (S_b - S_s) - Q (b - s)`` with ``S_i = sum_{j<i} P_j`` and
    ``s`` the first index in ``[a, b]`` with ``P_s > Q``. ``s`` is found by sorting the
    distinct ``Q`` values together with the ``P_i`` (a running count of the ``P_i`` at or below
    each ``Q``), so the work is linear in the (class, value) pairs, not in classes times
    values.
    """
    more, cols = _ordered_ctes(quote, order_table)
    return (
        f"WITH {_class_ctes(quote, table, qis, sensitive)}, {more} SELECT {cols}, "
        f"z.na_records, z.no_value FROM ({_seen}) z"
    )


def _ordered_ctes(quote: Quote, order_table: str | None = None) -> tuple[str, str]:
    """The CTEs of :func:`ordered_t_closeness` after :func:`_class_ctes`, and its
    ``emd_sum``, ``m_obs`` and ``unplaced`` columns."""
    observed = "SELECT v, pv AS c FROM vals WHERE v IS NOT NULL"
    if order_table is None:
        keyed = f"SELECT v, v AS k, c FROM ({observed}) g"
    else:  # the value's position in the declared order (NULL: a value it does not place)
        keyed = (
            f"SELECT g.v, o.pos AS k, g.c FROM ({observed}) g "
            f"LEFT JOIN {quote(order_table)} o ON g.v = o.v"
        )
    pv = (
        "SELECT v, i, cp, COALESCE(SUM(cp) OVER (ORDER BY i ROWS BETWEEN UNBOUNDED PRECEDING "
        "AND 1 PRECEDING), 0.0) AS s FROM (SELECT v, ROW_NUMBER() OVER (ORDER BY k) - 1 AS i, "
        "CAST(SUM(c) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        f"AS DOUBLE) / tot.n AS cp FROM ({keyed}) vals "
        "CROSS JOIN (SELECT SUM(pv) AS n FROM vals WHERE v IS NOT NULL) tot WHERE k IS NOT NULL) x"
    )
    mm = "SELECT COUNT(*) AS m, SUM(cp) AS s_all FROM pv"
    sx = "SELECT i, s FROM pv UNION ALL SELECT m AS i, s_all AS s FROM mm"
    pc = "SELECT o.cid, o.tot, x.i, x.s, o.r FROM joined o JOIN pv x ON o.v = x.v"
    # one sort per class: the next present value b, its S_b and the class's running count
    win = "PARTITION BY cid ORDER BY i"
    seg = (
        "SELECT cid, i AS a, s AS sa, COALESCE(nxt, mm.m) AS b, COALESCE(s_nxt, mm.s_all) "
        "AS sb, CASE WHEN nxt IS NULL THEN 1.0 ELSE cum / tot END AS q FROM (SELECT cid, tot, "
        f"i, s, LEAD(i, 1) OVER ({win}) AS nxt, LEAD(s, 1) OVER ({win}) AS s_nxt, "
        f"CAST(SUM(r) OVER ({win} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS DOUBLE) "
        "AS cum FROM pc) w CROSS JOIN mm"
    )
    marks = (
        "SELECT cp AS x, 0 AS kind FROM pv UNION ALL SELECT q AS x, 1 AS kind "
        "FROM (SELECT DISTINCT q FROM seg) dq"
    )
    # per distinct Q: the P_i at or below it, and S at that index (S_m = s_all)
    below = (
        "SELECT w.q, w.below, sx.s AS s_below FROM (SELECT x AS q, CAST(below AS BIGINT) AS "
        "below FROM (SELECT x, kind, SUM(1 - kind) OVER (ORDER BY x, kind ROWS BETWEEN "
        "UNBOUNDED PRECEDING AND CURRENT ROW) AS below FROM marks) m WHERE kind = 1) w "
        "JOIN sx ON sx.i = w.below"
    )
    # the split point clamped to [a, b], and S there; S_a heads the class (before a0, Q = 0)
    split = (
        "SELECT seg.*, LEAST(GREATEST(bl.below, a), b) AS sp, CASE WHEN bl.below <= a THEN sa "
        "WHEN bl.below >= b THEN sb ELSE bl.s_below END AS ssp FROM seg "
        "JOIN below bl ON seg.q = bl.q"
    )
    per_class = (
        "SELECT MIN(sa) + SUM(q * (sp - a) - (ssp - sa) + (sb - ssp) - q * (b - sp)) AS emd "
        "FROM split GROUP BY cid"
    )
    ctes = (
        f"pv AS ({pv}), mm AS ({mm}), sx AS ({sx}), pc AS ({pc}), seg AS ({seg}), "
        f"marks AS ({marks}), below AS ({below}), split AS ({split})"
    )
    unplaced = "0" if order_table is None else f"(SELECT COUNT(*) FROM ({keyed}) u WHERE k IS NULL)"
    cols = (
        f"(SELECT MAX(emd) FROM ({per_class}) e) AS emd_sum, (SELECT m FROM mm) AS m_obs, "
        f"{unplaced} AS unplaced"
    )
    return ctes, cols


# --- correlations, associations and leakage (core.engine.correlations) --------------------
#
# Columns are referred to by position: a plan takes the columns and their kinds ("int",
# "float" or "cat") and names its outputs by index (``n_0_1`` is the pair of the first and
# second column). A float's infinities are missing, as in :mod:`core.correlation`.

_INF = "CAST('Infinity' AS DOUBLE)"


def _number(quote: Quote, column: str, kind: str) -> str:
    """A numeric column as DOUBLE with its infinities (and NaN, already NULL) missing."""
    c = quote(column)
    if kind == "float":
        return f"CASE WHEN ABS({c}) = {_INF} THEN NULL ELSE CAST({c} AS DOUBLE) END"
    return f"CAST({c} AS DOUBLE)"


def _rank_key(quote: Quote, column: str, kind: str) -> str:
    """What a numeric column is ranked by: integers exactly, floats without infinities."""
    return _number(quote, column, kind) if kind == "float" else quote(column)


def column_profile(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    distinct: Sequence[bool] | None = None,
) -> str:
    """One row of per-column counts: ``nn_j`` non-missing values (as stored); for a numeric
    column ``nv_j`` finite values, ``ni_j`` infinities, ``lo_j`` and ``hi_j`` (its finite
    range), for an integer column ``mn_j`` and ``mx_j`` (its range, exactly), for a float
    column ``rlo_j`` and ``rhi_j`` (its range with infinities). Where ``distinct[j]`` (default:
    every column) also ``nd_j`` distinct values as stored and, for a numeric column, ``nk_j``
    distinct finite values: ``COUNT(DISTINCT ...)`` is the costly part."""
    parts = []
    for j, (c, kind) in enumerate(zip(columns, kinds, strict=True)):
        q = quote(c)
        count = distinct is None or distinct[j]
        parts.append(f"COUNT({q}) AS nn_{j}")
        if count:
            parts.append(f"COUNT(DISTINCT {q}) AS nd_{j}")
        if kind == "cat":
            continue
        x = _number(quote, c, kind)
        parts += [
            f"COUNT({x}) AS nv_{j}",
            f"SUM(CASE WHEN {q} IS NOT NULL AND {x} IS NULL THEN 1 ELSE 0 END) AS ni_{j}",
            f"MIN({x}) AS lo_{j}",
            f"MAX({x}) AS hi_{j}",
        ]
        if count:
            parts.append(f"COUNT(DISTINCT {_rank_key(quote, c, kind)}) AS nk_{j}")
        if kind == "int":
            parts += [f"MIN({q}) AS mn_{j}", f"MAX({q}) AS mx_{j}"]
        else:
            parts += [f"MIN({q}) AS rlo_{j}", f"MAX({q}) AS rhi_{j}"]
    return f"SELECT {', '.join(parts)} FROM {quote(table)}"


#: How a numeric column is put on a unit scale (see :func:`_scaled`): an exact integer shift
#: (or None), then ``(value / s - m) / w``.
Affine = tuple[int | None, float, float, float]


def _double(value: float) -> str:
    """A DOUBLE literal that both engines read back to the same float."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def _scaled(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    affine: Mapping[int, Affine],
) -> str:
    """A CTE ``v``: each numeric column j as ``x_j`` put on a unit scale by ``affine[j]``
    (an integer shifted first by its minimum, exactly, so 2**60 + 1 and 2**60 + 2 stay apart
    in DOUBLE; then scaled by its largest absolute value, centred on its mid-range and
    scaled again, as :func:`core.correlation._standardize`: Pearson's r and eta do not
    change, squares neither overflow nor underflow and sums do not cancel). Categorical
    columns pass as ``c_j``; columns of kind ``"skip"`` are left out. The constants come from
    :func:`column_profile`, so no pass over the table is spent on them."""
    cols = []
    for j, (c, k) in enumerate(zip(columns, kinds, strict=True)):
        if k == "cat":
            cols.append(f"{quote(c)} AS c_{j}")
        elif k in ("int", "float"):
            shift, scale, mid, width = affine[j]
            value = (
                f"CAST({quote(c)} - CAST('{int(shift)}' AS BIGINT) AS DOUBLE)"
                if k == "int" and shift is not None
                else _number(quote, c, k)
            )
            cols.append(
                f"(({value}) / {_double(scale)} - {_double(mid)}) / {_double(width)} AS x_{j}"
            )
    return f"v AS (SELECT {', '.join(cols)} FROM {quote(table)})"


def pearson_sums(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    pairs: Sequence[tuple[int, int]],
    affine: Mapping[int, Affine],
) -> str:
    """Pairwise-complete sums for Pearson's r, two passes (means first, then centred sums):
    one row with, per pair ``a_b``, ``n_a_b`` (rows with both values), the range of each
    column on those rows (``lo_a_b``, ``hi_a_b``, ``lo_b_a``, ``hi_b_a``) and the centred
    sums ``sxy_a_b``, ``sxx_a_b``, ``syy_a_b``. Columns are scaled first (see ``_scaled``).
    """
    first, second = [], []
    for a, b in pairs:
        xa, xb = f"x_{a}", f"x_{b}"
        both = f"{xa} IS NOT NULL AND {xb} IS NOT NULL"
        first += [
            f"SUM(CASE WHEN {both} THEN 1 ELSE 0 END) AS n_{a}_{b}",
            f"AVG(CASE WHEN {xb} IS NOT NULL THEN {xa} END) AS ma_{a}_{b}",
            f"AVG(CASE WHEN {xa} IS NOT NULL THEN {xb} END) AS mb_{a}_{b}",
            f"MIN(CASE WHEN {xb} IS NOT NULL THEN {xa} END) AS lo_{a}_{b}",
            f"MAX(CASE WHEN {xb} IS NOT NULL THEN {xa} END) AS hi_{a}_{b}",
            f"MIN(CASE WHEN {xa} IS NOT NULL THEN {xb} END) AS lo_{b}_{a}",
            f"MAX(CASE WHEN {xa} IS NOT NULL THEN {xb} END) AS hi_{b}_{a}",
        ]
        da, db = f"({xa} - m.ma_{a}_{b})", f"({xb} - m.mb_{a}_{b})"
        second += [
            *(f"MAX(m.{s}_{a}_{b}) AS {s}_{a}_{b}" for s in ("n", "lo", "hi")),
            f"MAX(m.lo_{b}_{a}) AS lo_{b}_{a}",
            f"MAX(m.hi_{b}_{a}) AS hi_{b}_{a}",
            f"SUM({da} * {db}) AS sxy_{a}_{b}",
            f"SUM(CASE WHEN {xb} IS NOT NULL THEN {da} * {da} END) AS sxx_{a}_{b}",
            f"SUM(CASE WHEN {xa} IS NOT NULL THEN {db} * {db} END) AS syy_{a}_{b}",
        ]
    return (
        f"WITH {_scaled(quote, table, columns, kinds, affine)}, "
        f"m AS (SELECT {', '.join(first)} FROM v) "
        f"SELECT {', '.join(second)} FROM v CROSS JOIN m"
    )


def spearman_sums(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    holes: Sequence[bool],
) -> str:
    """Spearman's sums for every pair of (two or more) ``columns`` in one row, ties averaged,
    among the rows where both values are present (``holes[j]``: column j misses a value).

    Per pair ``a_b`` (``a < b``): ``n_a_b`` rows with both values, ``dx_a_b`` and ``dy_a_b``
    distinct values of each column on those rows, and the sums ``sxy_a_b``, ``sxx_a_b``,
    ``syy_a_b`` of the average ranks' deviations from their mean, which for ``n`` rows is
    exactly ``(n + 1) / 2``.

    A column's ranks depend on the pair only through which rows it keeps: those where the
    other column has a value. So one ``GROUP BY`` per column counts each distinct value on
    all its rows (``c_j_all``) and on the rows where each column with holes has a value
    (``c_j_y``); running sums of those counts over the sorted values give every average
    rank (the values below plus half the tie, plus one half) and, from the counts alone,
    ``n``, the distinct values and the sums of squares. One pass over the rows then joins
    each column's rank table by value and sums the rank products of every pair at once (a
    product is NULL, so not summed, where either value is missing).
    """
    k = len(columns)

    def ctx(x: int, y: int) -> str:
        """The rows column x is ranked on for the pair (x, y)."""
        return str(y) if holes[y] else "all"

    keys = ", ".join(
        f"{_rank_key(quote, c, kind)} AS k_{j}"
        for j, (c, kind) in enumerate(zip(columns, kinds, strict=True))
    )
    ctes = [f"v AS (SELECT {keys} FROM {quote(table)})"]
    joins, totals = [], []
    for x in range(k):
        others = [y for y in range(k) if y != x]
        if not others:
            continue
        labels = list(dict.fromkeys(ctx(x, y) for y in others))
        counts = ", ".join(
            "COUNT(*) AS c_all" if lab == "all"
            else f"SUM(CASE WHEN k_{lab} IS NOT NULL THEN 1 ELSE 0 END) AS c_{lab}"
            for lab in labels
        )  # fmt: skip
        # the values are distinct, so the default frame (up to the current value) is a
        # running sum; cheaper in DuckDB than a ROWS frame
        runs = ", ".join(
            f"SUM(c_{lab}) OVER (ORDER BY k) AS cum_{lab}, SUM(c_{lab}) OVER () AS tot_{lab}"
            for lab in labels
        )
        devs = ", ".join(
            f"c_{lab}, CAST(cum_{lab} AS DOUBLE) - (CAST(c_{lab} AS DOUBLE) - 1.0) / 2.0 - "
            f"(CAST(tot_{lab} AS DOUBLE) + 1.0) / 2.0 AS e_{x}_{lab}"
            for lab in labels
        )
        sums = ", ".join(
            f"SUM(c_{lab}) AS n_{x}_{lab}, "
            f"SUM(CASE WHEN c_{lab} > 0 THEN 1 ELSE 0 END) AS d_{x}_{lab}, "
            f"SUM(CAST(c_{lab} AS DOUBLE) * e_{x}_{lab} * e_{x}_{lab}) AS ss_{x}_{lab}"
            for lab in labels
        )
        ctes += [
            f"r_{x} AS (SELECT k, {devs} FROM (SELECT k, {', '.join(f'c_{lab}' for lab in labels)}"
            f", {runs} FROM (SELECT k_{x} AS k, {counts} FROM v WHERE k_{x} IS NOT NULL "
            f"GROUP BY k_{x}) g) w)",
            f"t_{x} AS (SELECT {sums} FROM r_{x})",
        ]
        joins.append(f"{'LEFT JOIN' if holes[x] else 'JOIN'} r_{x} ON v.k_{x} = r_{x}.k")
        totals.append(f"t_{x}")
    products, out = [], []
    for a in range(k):
        for b in range(a + 1, k):
            products.append(f"SUM(e_{a}_{ctx(a, b)} * e_{b}_{ctx(b, a)}) AS sxy_{a}_{b}")
            ca, cb = ctx(a, b), ctx(b, a)
            out += [
                f"n_{a}_{ca} AS n_{a}_{b}", f"d_{a}_{ca} AS dx_{a}_{b}",
                f"d_{b}_{cb} AS dy_{a}_{b}", f"s.sxy_{a}_{b}",
                f"ss_{a}_{ca} AS sxx_{a}_{b}", f"ss_{b}_{cb} AS syy_{a}_{b}",
            ]  # fmt: skip
    ctes.append(f"s AS (SELECT {', '.join(products)} FROM v {' '.join(joins)})")
    return (
        f"WITH {', '.join(ctes)} SELECT {', '.join(out)} FROM s CROSS JOIN "
        f"{' CROSS JOIN '.join(totals)}"
    )


def contingency_sums(source: str, pairs: Sequence[tuple[int, int]]) -> str:
    """Sums over the contingency table of each pair, one row per pair (``pair`` = its index).

    ``source`` is a query whose columns ``k_0, k_1, ...`` hold the categories (NULL =
    missing). Per pair ``(a, b)``, over the rows where both are present: ``nn`` rows,
    ``ka``/``kb`` categories, ``s`` = :math:`\\sum n_{ab}^2 / (n_a n_b)` (Pearson's
    chi-square is ``nn (s - 1)``), ``hj``, ``ha``, ``hb`` = :math:`\\sum c \\ln c` over the
    cells and the two margins (entropies follow), ``best`` = :math:`\\sum_a \\max_b n_{ab}`
    and ``top`` = :math:`\\max_b n_b`.
    """
    used = ", ".join(f"k_{j}" for j in sorted({j for pair in pairs for j in pair}))
    branches = []
    for p, (a, b) in enumerate(pairs):
        # the margins as window sums over the cells, so each pair reads its cells once:
        # sum_a n_a ln n_a = sum over cells of c ln n_a
        cells = (
            f"SELECT c, SUM(c) OVER (PARTITION BY a) AS na, SUM(c) OVER (PARTITION BY b) AS nb, "
            "ROW_NUMBER() OVER (PARTITION BY a ORDER BY c DESC) AS rk, a, b FROM "
            f"(SELECT k_{a} AS a, k_{b} AS b, CAST(COUNT(*) AS DOUBLE) AS c FROM d "
            f"WHERE k_{a} IS NOT NULL AND k_{b} IS NOT NULL GROUP BY k_{a}, k_{b}) g"
        )
        branches.append(
            f"SELECT {p} AS pair, SUM(c) AS nn, SUM(c * c / (na * nb)) AS s, "
            "SUM(c * LN(c)) AS hj, COUNT(DISTINCT a) AS ka, SUM(c * LN(na)) AS ha, "
            "SUM(CASE WHEN rk = 1 THEN c ELSE 0.0 END) AS best, COUNT(DISTINCT b) AS kb, "
            f"SUM(c * LN(nb)) AS hb, MAX(nb) AS top FROM ({cells}) w"
        )
    return f"WITH d AS (SELECT {used} FROM ({source}) s0) {' UNION ALL '.join(branches)}"


def categories(quote: Quote, table: str, columns: Sequence[str]) -> str:
    """The columns as stored, named ``k_0, k_1, ...`` (a source for
    :func:`contingency_sums`)."""
    keys = ", ".join(f"{quote(c)} AS k_{j}" for j, c in enumerate(columns))
    return f"SELECT {keys} FROM {quote(table)}"


def discrete_codes(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    binned: Sequence[bool],
    bins: int,
) -> str:
    """The columns as categories for the information measures, named ``k_0, k_1, ...``.

    A categorical column as stored; a numeric one by its finite values, or, when
    ``binned``, by its quantile bin: ``floor(below * bins / n)`` with ``below`` the values
    smaller than it and ``n`` its finite values (equal values share a bin), from a
    value-count table joined back to the rows. As :func:`core.correlation._discrete_codes`.
    """
    base = ", ".join(
        f"{quote(c) if kind == 'cat' else _rank_key(quote, c, kind)} AS u_{j}"
        for j, (c, kind) in enumerate(zip(columns, kinds, strict=True))
    )
    ctes, cols, joins = [f"b AS (SELECT {base} FROM {quote(table)})"], [], []
    for j in range(len(columns)):
        if not binned[j]:
            cols.append(f"b.u_{j} AS k_{j}")
            continue
        ctes.append(
            f"bm_{j} AS (SELECT k, CAST(FLOOR(CAST(cum - c AS DOUBLE) * {int(bins)} / "
            "CAST(tot AS DOUBLE)) AS BIGINT) AS code FROM (SELECT k, c, SUM(c) OVER (ORDER BY k "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum, SUM(c) OVER () AS tot "
            f"FROM (SELECT u_{j} AS k, COUNT(*) AS c FROM b WHERE u_{j} IS NOT NULL "
            f"GROUP BY u_{j}) g) w)"
        )
        cols.append(f"bm_{j}.code AS k_{j}")
        joins.append(f"LEFT JOIN bm_{j} ON b.u_{j} = bm_{j}.k")
    return f"WITH {', '.join(ctes)} SELECT {', '.join(cols)} FROM b {' '.join(joins)}"


def eta_sums(
    quote: Quote,
    table: str,
    columns: Sequence[str],
    kinds: Sequence[str],
    category: int,
    numbers: Sequence[int],
    affine: Mapping[int, Affine],
) -> str:
    """The correlation ratio's sums of one categorical column with each numeric column in
    ``numbers``, one row per numeric column (``pair`` = its index in ``numbers``), over the
    rows where both are present: ``kk`` categories, ``nn`` rows, ``ssb`` and ``ssw``
    (between and within sums of squares), ``lo``/``hi`` (range of the numbers) and ``flat``
    (1 when every category holds a single number).

    One ``GROUP BY`` of the category gives every numeric column's counts and means; a second
    pass joins them back for the residuals' sum and sum of squares (the mean is corrected by
    the residuals' mean, as :func:`core.correlation._eta_codes` does).
    """
    used = {category, *numbers}
    view = _scaled(quote, table, columns, [k if j in used else "skip" for j, k in
                                           enumerate(kinds)], affine)  # fmt: skip
    g = f"c_{category}"
    first = ", ".join(
        f"COUNT(x_{x}) AS n_{x}, AVG(x_{x}) AS m_{x}, MIN(x_{x}) AS lo_{x}, MAX(x_{x}) AS hi_{x}"
        for x in numbers
    )
    second = ", ".join(
        f"MAX(g.n_{x}) AS n_{x}, MAX(g.lo_{x}) AS lo_{x}, MAX(g.hi_{x}) AS hi_{x}, "
        f"MAX(g.m_{x}) + SUM(x_{x} - g.m_{x}) / NULLIF(MAX(g.n_{x}), 0) AS m_{x}, "
        f"SUM((x_{x} - g.m_{x}) * (x_{x} - g.m_{x})) - SUM(x_{x} - g.m_{x}) * "
        f"SUM(x_{x} - g.m_{x}) / NULLIF(MAX(g.n_{x}), 0) AS ss_{x}"
        for x in numbers
    )
    branches = [
        f"SELECT {p} AS pair, COUNT(*) AS kk, SUM(n_{x}) AS nn, "
        f"SUM(n_{x} * (m_{x} - yb.m) * (m_{x} - yb.m)) AS ssb, "
        f"SUM(CASE WHEN ss_{x} > 0 THEN ss_{x} ELSE 0.0 END) AS ssw, MIN(lo_{x}) AS lo, "
        f"MAX(hi_{x}) AS hi, MIN(CASE WHEN lo_{x} = hi_{x} THEN 1 ELSE 0 END) AS flat "
        f"FROM w CROSS JOIN (SELECT SUM(n_{x} * m_{x}) / SUM(n_{x}) AS m FROM w "
        f"WHERE n_{x} > 0) yb WHERE n_{x} > 0"
        for p, x in enumerate(numbers)
    ]
    return (
        f"WITH {view}, gm AS (SELECT {g} AS g, {first} FROM v WHERE {g} IS NOT NULL "
        f"GROUP BY {g}), w AS (SELECT g.g, {second} FROM v JOIN gm g ON v.{g} = g.g "
        f"GROUP BY g.g) {' UNION ALL '.join(branches)}"
    )


def code_counts(source: str, column: int = 0) -> str:
    """Of column ``k_{column}`` of ``source``: ``d`` distinct values, ``nv`` rows with a value
    and ``top`` rows of the most frequent value (one row)."""
    k = f"k_{column}"
    return (
        f"SELECT COUNT(*) AS d, SUM(c) AS nv, MAX(c) AS top FROM (SELECT {k}, COUNT(*) AS c "
        f"FROM ({source}) s WHERE {k} IS NOT NULL GROUP BY {k}) g"
    )
