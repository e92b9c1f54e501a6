"""Hardening at scale: a recipe applied where the data is, written as partitioned Parquet.

:func:`harden` replays a :class:`core.recipe.Recipe` on a table an engine (DuckDB or Spark)
has opened and writes the result as a folder of Parquet files, without collecting rows.
Each step becomes SQL:

- per distinct value, when the column has at most about half :data:`MAPPING_ROWS_MAX`
  distinct values (a HyperLogLog estimate): its distinct values are pushed down
  (``SELECT DISTINCT``) where they were last defined, mapped by the same ``core.masking``
  functions the pandas engine runs (a column's consecutive steps chained), and joined back
  through a small mapping table: cheaper than an expression per row, and equal by
  construction;
- otherwise as an expression per row: pseudonyms (HMAC-SHA256 written out in SQL, see
  :func:`hmac_sql`), character masking, postal-code prefixes, top/bottom coding, fixed-width
  bins with whole-number bounds, redaction and constants; the other value-wise steps (groups,
  dates, custom bins, rounding, pattern masking, deterministic encryption, and the above on
  decimals or dates, whose text SQL does not print as pandas does) still map distinct
  values, up to :data:`MAPPING_ROWS_MAX` of them;
- record suppression to k: the quasi-identifier patterns grouped with their counts, their
  classes after the pending mappings found from the mapping tables, and the rows of small
  classes anti-joined away;
- cell suppression to k: the rounds of :func:`core.masking.local_suppression` run on the
  pushed-down table of distinct quasi-identifier patterns with their counts, whose
  decisions are joined back. When the all-suppressed class would stay below k, pandas
  borrows the last records (in row order) of the largest classes; on DuckDB over Parquet
  files each row carries its position in the order the pandas engine reads them (files in
  :func:`core.engine.base.parquet_files` order, rows in file order: ``filename`` and
  ``file_row_number``; on Spark ``_metadata``), and a window over the chosen classes finds
  the same few records. Without that order (a registered frame, a cluster path) that case
  is refused. The cells counted as suppressed are, as the pandas engine counts them, those
  present in the loaded table and missing in the rows written: each cell suppression adds
  the cells it blanks; a column a later record suppression removes records of, or that a
  step may blank (bins, dates) or fill (a constant for missing cells too), carries a hidden
  flag per row telling whether its cell was present in the loaded table. With it the
  record suppression takes out the cells of the records it removes (in its own scan), a
  cell suppression counts the column anew per pattern (in its grouping scan), and a column
  blanked after its last cell suppression is counted again at the end (one more scan).

Steps that depend on the order of the rows or draw randomness (quantile bins,
microaggregation, PRAM, DP noise, kind changes) are refused with an error naming the step.
The output equals :func:`core.recipe.apply` on the same table, value for value (tested on
Adult and sdcMicro's ``testdata``).

:func:`encrypt_outputs` streams each written file through the PrivLens format
(:func:`core.crypto.encrypt_file`), one chunk in memory at a time.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core import masking
from core.engine.base import Engine, Table
from core.errors import ColumnError, InvalidParameterError, RecipeError
from core.recipe import DEFAULT_SECRET, Recipe, Step, column_encryption_key, validate

__all__ = [
    "ENGINE_TRANSFORMS",
    "MAPPING_ROWS_MAX",
    "EngineHardeningResult",
    "encrypt_outputs",
    "harden",
    "harden_encrypted",
    "hmac_sql",
]

#: Transforms :func:`harden` runs on an engine; the others are refused with a clear error.
ENGINE_TRANSFORMS = frozenset(
    (
        "drop",
        "mask",
        "mask_pattern",
        "redact",
        "replace",
        "pseudonymize",
        "encrypt",
        "bin_width",
        "bin_edges",
        "round",
        "top_bottom",
        "date",
        "postal_prefix",
        "group",
        "suppress",
    )
)

#: Most distinct values (or quasi-identifier patterns) a step may push down to map them
#: one by one; more is refused with an error naming the step.
MAPPING_ROWS_MAX = 500_000

#: Value-wise transforms that keep each cell missing or present (the others, bins and dates,
#: may blank values, and a constant with ``include_missing`` fills them).
_KEEP_MISSING = frozenset(
    ("mask", "mask_pattern", "redact", "replace", "pseudonymize", "encrypt", "round",
     "top_bottom", "postal_prefix", "group")
)  # fmt: skip

#: Why each refused transform cannot run on an engine.
_REFUSED = {
    "cast": "a kind change decides from the whole column; cast the column in the Parquet "
    "files, or drop the step",
    "bin_quantiles": "quantile bins depend on every value; use custom edges (bin_edges)",
    "microaggregate": "microaggregation sorts and groups rows; use bins or rounding",
    "pram": "randomized response draws per row; run it on the pandas engine",
    "dp_noise": "per-record noise draws per row; run it on the pandas engine",
}

#: Size at which DuckDB starts a new output file, and rows per Parquet row group.
_HARDEN_FILE_BYTES = "256MB"
_ROW_GROUP_ROWS = 122_880
_ids = itertools.count(1)
#: The hidden column holding each row's position in the order the pandas engine reads a
#: Parquet source (file by file, rows in file order), and what DuckDB names its parts.
_ROW = "privlens__row"
_ROW_FILE = "privlens__file"
_ROW_IN_FILE = "file_row_number"
_INT = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
        "UBIGINT", "HUGEINT", "INT", "BYTE", "SHORT", "LONG", "INT8", "INT16", "INT32",
        "INT64")  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineHardeningResult:
    """What :func:`harden` wrote.

    Attributes
    ----------
    output : str
        The output folder.
    files : tuple of str
        The files written, relative to ``output`` (``.plenc`` files when encrypted).
    n_rows : int
        Rows written.
    records_removed : int
        Records removed by record suppression.
    cells_suppressed : mapping of str to int
        Per column of a cell suppression step, cells present in the loaded table and
        missing in the rows written, as :func:`core.recipe.apply` counts them (a dropped
        column counts none).
    encrypted : bool
    warnings : tuple of str
    """

    output: str
    files: tuple[str, ...]
    n_rows: int
    records_removed: int = 0
    cells_suppressed: Mapping[str, int] = field(default_factory=dict)
    encrypted: bool = False
    warnings: tuple[str, ...] = ()


# --- dialects ------------------------------------------------------------------------------


class _Dialect:
    """What differs between DuckDB and Spark SQL, and how each runs DDL and writes."""

    def __init__(self, eng: Engine) -> None:
        self.eng = eng

    def q(self, name: str) -> str:
        return self.eng.quote(name)

    def lit(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    def num(self, x: float) -> str:
        return f"CAST({float(x)!r} AS DOUBLE)"

    def cat(self, *parts: str) -> str:
        return "(" + " || ".join(parts) + ")"

    def utf8(self, text: str) -> str:
        return f"encode({text})"

    def sha256_hex(self, blob: str) -> str:
        return f"sha256({blob})"

    def is_finite(self, x: str) -> str:
        return f"isfinite({x})"

    def same(self, a: str, b: str) -> str:
        return f"({a} IS NOT DISTINCT FROM {b})"

    def run(self, sql: str) -> None:
        self.eng.query(sql)

    def materialize(self, name: str, sql: str) -> None:
        """A small table computed once from ``sql``."""
        self.run(f"CREATE OR REPLACE TEMP TABLE {self.q(name)} AS {sql}")

    def types(self, relation: str) -> dict[str, str]:
        rows = self.eng.query(f"DESCRIBE SELECT * FROM {self.q(relation)}")
        return {
            str(c): str(t).upper()
            for c, t in zip(rows["column_name"], rows["column_type"], strict=True)
        }

    def write(self, relation: str, folder: Path) -> None:
        path = self.lit(os.fspath(folder))
        self.run(
            f"COPY (SELECT * FROM {self.q(relation)}) TO {path} "
            f"(FORMAT PARQUET, FILE_SIZE_BYTES '{_HARDEN_FILE_BYTES}', "
            f"ROW_GROUP_SIZE {int(_ROW_GROUP_ROWS)})"
        )


class _SparkDialect(_Dialect):
    def lit(self, text: str) -> str:
        return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

    def cat(self, *parts: str) -> str:
        return "concat(" + ", ".join(parts) + ")"

    def utf8(self, text: str) -> str:
        return f"encode({text}, 'UTF-8')"

    def sha256_hex(self, blob: str) -> str:
        return f"sha2({blob}, 256)"

    def is_finite(self, x: str) -> str:
        return f"(NOT isnan({x}) AND abs({x}) != double('inf'))"

    def same(self, a: str, b: str) -> str:
        return f"({a} <=> {b})"

    def materialize(self, name: str, sql: str) -> None:
        self.run(f"CACHE TABLE {self.q(name)} AS {sql}")

    def types(self, relation: str) -> dict[str, str]:
        df = self.eng._sql(f"SELECT * FROM {self.q(relation)}")  # type: ignore[attr-defined]
        return {f.name: f.dataType.simpleString().upper() for f in df.schema.fields}

    def write(self, relation: str, folder: Path) -> None:
        df = self.eng._sql(f"SELECT * FROM {self.q(relation)}")  # type: ignore[attr-defined]
        with self.eng._errors():  # type: ignore[attr-defined]
            df.write.mode("errorifexists").parquet(os.fspath(folder))


def _dialect(eng: Engine) -> _Dialect:
    if eng.name == "spark":
        return _SparkDialect(eng)
    if eng.name == "duckdb":
        return _Dialect(eng)
    raise InvalidParameterError(
        f"Hardening on an engine needs DuckDB or Spark; got the {eng.name} engine. Use "
        "core.recipe.apply for a frame in memory."
    )


def hmac_sql(d: _Dialect, message: str, pads: str) -> str:
    """SQL for the hex HMAC-SHA256 of the text ``message`` under the key held in ``pads``.

    ``HMAC(K, m) = H((K' xor opad) || H((K' xor ipad) || m))`` [RFC2104]_, with ``K'`` the
    key (hashed when longer than 64 bytes) padded with zeros to 64 bytes. ``pads`` names a
    one-row table whose columns ``ipad`` and ``opad`` hold the two padded keys in hex, so
    the key never appears in the query's text.

    References
    ----------
    .. [RFC2104] Krawczyk, Bellare, Canetti, "HMAC: Keyed-Hashing for Message
       Authentication", RFC 2104, 1997.
    """
    ipad = f"unhex((SELECT ipad FROM {d.q(pads)}))"
    opad = f"unhex((SELECT opad FROM {d.q(pads)}))"
    inner = d.sha256_hex(d.cat(ipad, d.utf8(message)))
    return d.sha256_hex(d.cat(opad, f"unhex({inner})"))


def _hmac_pads(key: bytes) -> tuple[str, str]:
    k = hashlib.sha256(key).digest() if len(key) > 64 else key
    k = k.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in k).hex(), bytes(b ^ 0x5C for b in k).hex()


# --- the plan --------------------------------------------------------------------------------


class _Plan:
    """The table after the steps so far: a view, plus pending changes of columns.

    A column is changed either per row, by a SQL expression (``exprs``), or per distinct
    value (``maps``): the distinct values it had in the view named by ``origin`` and what
    core's functions made of them so far, joined back by :meth:`settle`. Joining a mapping
    of a superset of the values present is harmless, so a column's distinct values are
    read where they were last defined (the loaded table, or the view of the last step that
    changed them or removed records), not through the joins of other columns.
    """

    def __init__(self, d: _Dialect, table: Table) -> None:
        self.d = d
        self.relation = table.name
        self.columns = list(table.columns)
        self.exprs: dict[str, str] = {}
        self.maps: dict[str, tuple[pd.Series, pd.Series]] = {}
        self.origin = dict.fromkeys(self.columns, table.name)
        self.created: list[str] = []
        self._types: dict[str, str] | None = None
        self.approx: dict[tuple[str, str], int] = {}
        # columns whose mapping was made before records were removed: joined before a
        # later step changes them (a mapping is computed on the values present)
        self.frozen: set[str] = set()
        # columns carried through every view but not written (the row order, _ROW, and
        # whether cells were present in the loaded table)
        self.hidden: list[str] = []
        # per column of a cell suppression, the hidden column telling whether its cell was
        # present in the loaded table (see _add_presence); ``exact``: those a step may
        # blank or fill, whose cells present now and in the loaded table may differ
        self.present: dict[str, str] = {}
        self.exact: set[str] = set()
        # columns whose count of suppressed cells a step changed since it was last counted
        # (a step that may blank or fill cells): counted again at the end
        self.dirty: set[str] = set()

    def name(self, what: str) -> str:
        n = f"privlens_h{next(_ids)}_{what}"
        self.created.append(n)
        return n

    def expr(self, col: str) -> str:
        return self.exprs.get(col, self.d.q(col))

    def select_list(self, replace: Mapping[str, str] | None = None, prefix: str = "") -> str:
        """The current columns as a SELECT list; ``prefix`` qualifies plain columns (used
        in joins, after :meth:`flush`). ``replace`` may also give a hidden column's value
        (a new one's)."""
        replace = replace or {}
        parts = []
        for c in self.columns:
            e = replace.get(c) or self.exprs.get(c) or prefix + self.d.q(c)
            parts.append(f"{e} AS {self.d.q(c)}")
        parts.extend(f"{replace.get(c) or prefix + self.d.q(c)} AS {self.d.q(c)}"
                     for c in self.hidden)  # fmt: skip
        return ", ".join(parts)

    def lost_sums(self, cols: Sequence[str]) -> str:
        """SELECT items counting, per column of ``cols`` (``f0``, ``f1``, ...), the cells
        present in the loaded table and missing now."""
        return "".join(
            f", SUM(CASE WHEN {self.d.q(self.present[c])} AND {self.d.q(c)} IS NULL THEN 1 "
            f"ELSE 0 END) AS f{i}"
            for i, c in enumerate(cols)
        )

    def flush(self) -> None:
        """Write the pending expressions into a new view."""
        if not self.exprs:
            return
        changed = list(self.exprs)
        self.view(f"SELECT {self.select_list()} FROM {self.d.q(self.relation)}", changed=changed)

    def settle(self) -> None:
        """Write the pending expressions and join the pending mappings: every column's
        current values are then in :attr:`relation`."""
        self.flush()
        if not self.maps:
            return
        d, src = self.d, self.d.q(self.relation)
        joins, repl = [], {}
        for n, (col, (keys, values)) in enumerate(self.maps.items()):
            if isinstance(values.dtype, pd.CategoricalDtype):
                values = values.astype(values.dtype.categories.dtype)
            mapping = self.name("m")
            d.eng.open(pd.DataFrame({"k": keys.array, "v": values.array}), name=mapping)
            joins.append(
                f"LEFT JOIN {d.q(mapping)} AS m{n} ON {d.same('r.' + d.q(col), f'm{n}.k')}"
            )
            repl[col] = f"m{n}.v"
        changed = list(self.maps)
        self.maps, self.frozen = {}, set()
        self.view(
            f"SELECT {self.select_list(repl, prefix='r.')} FROM {src} AS r {' '.join(joins)}",
            changed=changed,
        )

    def view(self, sql: str, *, changed: Sequence[str] | None = None) -> None:
        """Make ``sql`` the current view; ``changed`` names the columns whose values it
        defines (None: every column, e.g. after records were removed)."""
        v = self.name("v")
        self.d.run(f"CREATE OR REPLACE {self._view()} {self.d.q(v)} AS {sql}")
        self.relation, self.exprs, self._types = v, {}, None
        for c in self.columns if changed is None else changed:
            self.origin[c] = v

    def _view(self) -> str:
        return "TEMP VIEW" if isinstance(self.d, _SparkDialect) else "VIEW"

    def type_of(self, col: str) -> str:
        """The SQL type of ``col`` in the current view (pending expressions flushed)."""
        if col in self.exprs:
            self.flush()
        if self._types is None:
            self._types = self.d.types(self.relation)
        return self._types[col]


def _kind(sql_type: str) -> str:
    t = sql_type.upper()
    if t in ("VARCHAR", "STRING") or t.startswith("VARCHAR"):
        return "text"
    if t in _INT:
        return "int"
    if t in ("DOUBLE", "FLOAT", "REAL", "FLOAT4", "FLOAT8") or t.startswith("DECIMAL"):
        return "float"
    return "other"


# --- steps -----------------------------------------------------------------------------------


def _text(plan: _Plan, col: str) -> str | None:
    """SQL printing ``col`` as pandas's text form does, or None when SQL cannot (decimals,
    dates, booleans: those go through a mapping table)."""
    kind = _kind(plan.type_of(col))
    if kind == "text":
        return plan.expr(col)
    if kind == "int":
        return f"CAST({plan.expr(col)} AS {'STRING' if plan.d.eng.name == 'spark' else 'VARCHAR'})"
    return None


def _mask_sql(d: _Dialect, t: str, first: int, last: int, char: str) -> str:
    n = f"length({t})"
    c = d.lit(char)
    tail = f"right({t}, {last})" if last else d.lit("")
    return (
        f"CASE WHEN {t} IS NULL THEN NULL WHEN {n} <= {first + last} THEN repeat({c}, {n}) "
        f"ELSE {d.cat(f'left({t}, {first})', f'repeat({c}, {n} - {first + last})', tail)} END"
    )


def _prefix_sql(d: _Dialect, t: str, keep: int, fill: str) -> str:
    head = f"left({t}, {keep})"
    if fill == "":
        return f"CASE WHEN {t} IS NULL THEN NULL ELSE {head} END"
    rest = f"greatest(length({t}) - {keep}, 0)"
    return (
        f"CASE WHEN {t} IS NULL THEN NULL ELSE {d.cat(head, f'repeat({d.lit(fill)}, {rest})')} END"
    )


def _clip_sql(d: _Dialect, x: str, kind: str, lower: Any, upper: Any) -> str:
    integral = all(v is None or float(v).is_integer() for v in (lower, upper))
    if kind == "int" and integral:
        lo = None if lower is None else str(int(lower))
        hi = None if upper is None else str(int(upper))
    else:
        x = f"CAST({x} AS DOUBLE)"
        lo = None if lower is None else d.num(lower)
        hi = None if upper is None else d.num(upper)
    parts = [f"CASE WHEN {x} IS NULL THEN NULL"]
    if lo is not None:
        parts.append(f"WHEN {x} < {lo} THEN {lo}")
    if hi is not None:
        parts.append(f"WHEN {x} > {hi} THEN {hi}")
    return " ".join([*parts, f"ELSE {x} END"])


def _bin_width_sql(plan: _Plan, col: str, width: float, origin: float) -> str | None:
    """Fixed-width bins in SQL when every bound is a whole number below 2**53 (printed as
    :func:`core.masking.bin_width` prints it); None otherwise (a mapping table then)."""
    d = plan.d
    if not (float(width).is_integer() and float(origin).is_integer()):
        return None
    x = f"CAST({plan.expr(col)} AS DOUBLE)"
    code = f"floor(({x} - {d.num(origin)}) / {d.num(width)})"
    r = plan.d.eng.query(
        f"SELECT min({code}) AS lo, max({code}) AS hi FROM {d.q(plan.relation)} "
        f"WHERE {d.is_finite(x)}"
    )
    lo, hi = r["lo"].iloc[0], r["hi"].iloc[0]
    if pd.isna(lo):
        return f"CAST(NULL AS {'STRING' if d.eng.name == 'spark' else 'VARCHAR'})"
    bound = max(abs(origin + lo * width), abs(origin + (hi + 1) * width))
    if hi - lo > 10_000_000 or bound >= 2.0**53:
        return None  # the mapping table runs core's own checks and labels
    big = "BIGINT"
    s = "STRING" if d.eng.name == "spark" else "VARCHAR"
    left_ = f"CAST(CAST({d.num(origin)} + {code} * {d.num(width)} AS {big}) AS {s})"
    right_ = f"CAST(CAST({d.num(origin)} + ({code} + 1) * {d.num(width)} AS {big}) AS {s})"
    label = d.cat(d.lit("["), left_, d.lit(", "), right_, d.lit(")"))
    return f"CASE WHEN {d.is_finite(x)} THEN {label} ELSE NULL END"


def _sql_step(plan: _Plan, step: Step, secrets: Mapping[str, bytes]) -> str | None:
    """The column after ``step`` as a per-row SQL expression, or None (a mapping table)."""
    d, t, p = plan.d, step.transform, dict(step.params)
    col = step.columns[0]
    if t in ("redact", "replace"):
        value = p.get("label", "[REDACTED]") if t == "redact" else p["value"]
        if p.get("include_missing"):
            return d.lit(value)
        return f"CASE WHEN {plan.expr(col)} IS NULL THEN NULL ELSE {d.lit(value)} END"
    if t == "top_bottom":
        kind = _kind(plan.type_of(col))
        if kind not in ("int", "float"):
            return None
        return _clip_sql(d, plan.expr(col), kind, p.get("lower"), p.get("upper"))
    if t == "bin_width":
        if _kind(plan.type_of(col)) not in ("int", "float"):
            return None
        return _bin_width_sql(plan, col, p["width"], p.get("origin", 0.0))
    if t not in ("mask", "postal_prefix", "pseudonymize"):
        return None
    text = _text(plan, col)
    if text is None:
        return None
    if t == "mask":
        masking._check_char(p.get("mask_char", "*"))
        return _mask_sql(d, text, p.get("keep_first", 0), p.get("keep_last", 0),
                         p.get("mask_char", "*"))  # fmt: skip
    if t == "postal_prefix":
        return _prefix_sql(d, text, p["keep"], p.get("fill", "*"))
    key = masking._check_key(secrets[str(p.get("secret", DEFAULT_SECRET))])
    pads = plan.name("k")
    ipad, opad = _hmac_pads(key)
    plan.d.eng.open(pd.DataFrame({"ipad": [ipad], "opad": [opad]}), name=pads)
    length = int(p.get("length", 16))
    return f"CASE WHEN {text} IS NULL THEN NULL ELSE left({hmac_sql(d, text, pads)}, {length}) END"


def _value_fn(step: Step, secrets: Mapping[str, bytes]) -> Callable[[pd.Series], pd.Series]:
    """The ``core.masking`` function the pandas engine runs for a value-wise step."""
    from core.recipe import _VALUE_FNS

    p = dict(step.params)
    if step.transform == "pseudonymize":
        key = secrets[str(p.pop("secret", DEFAULT_SECRET))]
        return lambda s: masking.pseudonymize(s, key=key, **p)
    if step.transform == "encrypt":
        from core import crypto

        key = column_encryption_key(secrets[str(p.pop("secret", DEFAULT_SECRET))])
        return lambda s: crypto.siv_encrypt_column(s, key, context=str(p.get("context", "")))
    fn = _VALUE_FNS[step.transform]
    return lambda s: fn(s, **p)


def _distinct(plan: _Plan, col: str) -> pd.Series | None:
    """The distinct values of ``col`` where they were last defined (one scan), or None
    when there are more than :data:`MAPPING_ROWS_MAX`."""
    d = plan.d
    if col in plan.exprs:
        plan.flush()
    keys = plan.d.eng.query(
        f"SELECT DISTINCT {d.q(col)} AS k FROM {d.q(plan.origin[col])} LIMIT {MAPPING_ROWS_MAX + 1}"
    )["k"]
    if len(keys) > MAPPING_ROWS_MAX:
        return None
    return keys.rename(col).reset_index(drop=True)


def _few_distinct(plan: _Plan, col: str) -> bool:
    """Whether ``col`` has at most about half :data:`MAPPING_ROWS_MAX` distinct values
    (a HyperLogLog estimate: one streaming scan of the column where it was last defined)."""
    d = plan.d
    if col in plan.exprs:
        plan.flush()
    where = plan.origin[col]
    if (where, col) not in plan.approx:
        # every column defined in the same place, in one scan
        cols = [c for c in plan.columns if plan.origin[c] == where]
        r = plan.d.eng.query(
            "SELECT "
            + ", ".join(f"approx_count_distinct({d.q(c)}) AS n{j}" for j, c in enumerate(cols))
            + f" FROM {d.q(where)}"
        )
        plan.approx.update({(where, c): int(r[f"n{j}"].iloc[0]) for j, c in enumerate(cols)})
    return plan.approx[(where, col)] <= MAPPING_ROWS_MAX // 2


def _map_step(
    plan: _Plan, i: int, step: Step, secrets: Mapping[str, bytes], keys: pd.Series | None
) -> None:
    """Add ``step`` to the column's mapping: core's function on its distinct values."""
    col = step.columns[0]
    if col in plan.maps:
        keys, values = plan.maps[col]
    elif keys is None:
        raise RecipeError(
            f"Step {i + 1} ({step.describe()}) maps each distinct value, and '{col}' has more "
            f"than {MAPPING_ROWS_MAX:,} of them here (the most on an engine). Generalize the "
            "column with a step computed per row first (bins with whole-number widths, a "
            "prefix, a mask), or run this recipe on the pandas engine."
        )
    else:
        values = keys
    plan.maps[col] = (keys, _value_fn(step, secrets)(values))


def _suppress_records(
    plan: _Plan, qis: list[str], k: int, notes: list[str], cells: dict[str, int]
) -> int:
    """Remove the records of classes smaller than ``k``.

    The quasi-identifier patterns are grouped with their counts before the pending mappings
    are joined; their classes after the mappings come from the mapping tables, and the rows
    of small classes are anti-joined away. With more patterns than
    :data:`MAPPING_ROWS_MAX`, the small classes are grouped on the engine instead. The cells
    counted in ``cells`` that the records removed held (summed per pattern in the same
    scan) leave the count, as the pandas engine counts only the records it keeps.
    """
    d = plan.d
    plan.flush()
    src = d.q(plan.relation)
    names = [f"q{j}" for j in range(len(qis))]
    counted = _counted(plan, cells)
    g = plan.d.eng.query(
        f"SELECT {', '.join(f'{d.q(c)} AS {n}' for c, n in zip(qis, names, strict=True))}, "
        f"COUNT(*) AS n{plan.lost_sums(counted)} FROM {src} "
        f"GROUP BY {', '.join(d.q(c) for c in qis)} LIMIT {MAPPING_ROWS_MAX + 1}"
    )
    small = _small_patterns(plan, g, qis, names, k) if len(g) <= MAPPING_ROWS_MAX else None
    if small is None:
        return _suppress_records_on_engine(plan, qis, k, cells)
    weight = g["n"].to_numpy(dtype=np.int64)
    removed = int(weight[small].sum())
    for i, c in enumerate(counted):
        cells[c] -= int(g[f"f{i}"].to_numpy(dtype=np.int64)[small].sum())
    if removed and removed == int(weight.sum()):
        notes.append(
            f"Every one of the {removed} records is in a class smaller than {k}; all were "
            "removed. Generalize the quasi-identifiers first, or lower k."
        )
    if removed:
        table = plan.name("small")
        marker = "privlens__small"
        dec = g.loc[small, names].reset_index(drop=True).assign(**{marker: True})
        plan.d.eng.open(dec, name=table)
        on = " AND ".join(d.same(f"r.{d.q(c)}", f"s.{n}") for c, n in zip(qis, names, strict=True))
        plan.view(
            f"SELECT {plan.select_list(prefix='r.')} FROM {src} AS r LEFT JOIN {d.q(table)} "
            f"AS s ON {on} WHERE s.{marker} IS NULL"
        )
        plan.frozen.update(plan.maps)
    return removed


def _counted(plan: _Plan, cells: Mapping[str, int]) -> list[str]:
    """The columns of ``cells`` with suppressed cells whose count is up to date (the others
    are counted at the end): a record suppression takes the cells of the records it removes
    out of it."""
    return [c for c, n in cells.items() if n and c in plan.present and c not in plan.dirty]


def _small_patterns(
    plan: _Plan, g: pd.DataFrame, qis: list[str], names: list[str], k: int
) -> np.ndarray | None:
    """Per pattern of ``g``, whether its class after the pending mappings has fewer than
    ``k`` records; None when a pattern's value is not in its mapping."""
    codes = []
    for c, n in zip(qis, names, strict=True):
        col = g[n]
        if c in plan.maps:
            keys, values = plan.maps[c]
            pos = pd.Index(keys).get_indexer(col)
            if (pos < 0).any():
                return None
            col = values.iloc[pos].reset_index(drop=True)
        codes.append(pd.factorize(col, use_na_sentinel=False)[0].astype(np.int64))
    if not len(g):
        return np.zeros(0, dtype=bool)
    sizes = masking._sizes_of_codes(np.column_stack(codes), g["n"].to_numpy(dtype=np.float64))
    return np.asarray(sizes < k)


def _suppress_records_on_engine(plan: _Plan, qis: list[str], k: int, cells: dict[str, int]) -> int:
    """Record suppression with the small classes grouped on the engine
    (``GROUP BY ... HAVING COUNT(*) < k``) and the rows anti-joined to them; ``cells``
    as in :func:`_suppress_records`."""
    d = plan.d
    plan.settle()
    part = ", ".join(d.q(c) for c in qis)
    src = d.q(plan.relation)
    small = plan.name("small")
    size = "privlens__class_size"
    names = [f"q{j}" for j in range(len(qis))]
    counted = _counted(plan, cells)
    d.materialize(
        small,
        f"SELECT {', '.join(f'{d.q(c)} AS {n}' for c, n in zip(qis, names, strict=True))}, "
        f"COUNT(*) AS {size}{plan.lost_sums(counted)} FROM {src} GROUP BY {part} "
        f"HAVING COUNT(*) < {k}",
    )
    sums = "".join(f", COALESCE(SUM(f{i}), 0) AS f{i}" for i in range(len(counted)))
    r = plan.d.eng.query(f"SELECT COALESCE(SUM({size}), 0) AS n{sums} FROM {d.q(small)}")
    removed = int(r["n"].iloc[0])
    for i, c in enumerate(counted):
        cells[c] -= int(r[f"f{i}"].iloc[0])
    on = " AND ".join(d.same(f"r.{d.q(c)}", f"s.{n}") for c, n in zip(qis, names, strict=True))
    plan.view(
        f"SELECT {plan.select_list(prefix='r.')} FROM {src} AS r LEFT JOIN {d.q(small)} AS s "
        f"ON {on} WHERE s.{size} IS NULL"
    )
    return removed


def _add_row_order(plan: _Plan, table: Table) -> None:
    """Start the plan from the table's Parquet files read again with each row's position in
    the order the pandas engine reads them (files in :attr:`Table.files` order, rows in file
    order), kept in the hidden column :data:`_ROW`: DuckDB's ``filename`` and
    ``file_row_number``, Spark's ``_metadata.file_path`` and ``_metadata.row_index``. Cell
    suppression needs it to borrow the records pandas borrows; without it (a frame, a
    cluster path, partition columns) the plan stays as it is."""
    d = plan.d
    taken = {_ROW, _ROW_FILE, _ROW_IN_FILE}
    if not table.files or taken & set(table.columns):
        return
    types = d.types(table.name)
    cols = ", ".join(
        f"CASE WHEN isnan(r.{d.q(c)}) THEN NULL ELSE r.{d.q(c)} END AS {d.q(c)}"
        if types[c] in ("DOUBLE", "FLOAT", "REAL")
        else f"r.{d.q(c)}"
        for c in table.columns
    )  # float NaN is missing, as the engine's view of the table has it
    if d.eng.name == "duckdb":
        listing = "[" + ", ".join(d.lit(f) for f in table.files) + "]"
        source = (
            f"read_parquet({listing}, union_by_name = true, filename = {d.lit(_ROW_FILE)}, "
            "file_row_number = true) AS r"
        )
        index = f"list_position({listing}, r.{d.q(_ROW_FILE)}) - 1"
    else:
        by_file = _spark_rows_by_file(plan, table)
        if by_file is None:
            return
        source, index = by_file, "f.i"
    row = f"CAST({index} AS BIGINT) * {1 << 40} + r.{d.q(_ROW_IN_FILE)}"
    plan.view(f"SELECT {cols}, {row} AS {d.q(_ROW)} FROM {source}")
    plan.hidden = [_ROW]


def _add_presence(plan: _Plan, recipe: Recipe) -> None:
    """Keep, in a hidden column, whether each cell was present in the loaded table (the
    pandas engine counts as suppressed the cells present there and missing in its output),
    for the columns of a cell suppression where counting the cells it blanks is not enough:
    those a record suppression comes after, and those a step may blank or fill."""
    suppressed: list[str] = []
    cols: list[str] = []
    changed: set[str] = set()
    for s in recipe.steps:
        if s.transform == "suppress" and s.params.get("mode", "cells") == "cells":
            suppressed.extend(s.columns)
        elif s.transform == "suppress":
            cols.extend(suppressed)
        elif s.transform != "drop" and (
            s.transform not in _KEEP_MISSING or s.params.get("include_missing")
        ):
            changed.add(s.columns[0])
    cols = [c for c in dict.fromkeys([*cols, *changed]) if c in suppressed]
    if not cols:
        return
    plan.exact = changed & set(cols)
    d = plan.d
    types = d.types(plan.relation)
    new = {}
    for c in cols:
        plan.present[c] = name = f"privlens__in{next(_ids)}"
        plan.hidden.append(name)
        missing = f"{d.q(c)} IS NULL"
        if types[c] in ("DOUBLE", "FLOAT", "REAL"):  # NaN is missing
            missing += f" OR isnan({d.q(c)})"
        new[name] = f"NOT ({missing})"
    plan.view(f"SELECT {plan.select_list(new)} FROM {d.q(plan.relation)}", changed=[])


def _spark_rows_by_file(plan: _Plan, table: Table) -> str | None:
    """The FROM clause of the table's files read on Spark with each row's file (``r``) and
    that file's place in :attr:`Table.files` (``f.i``); None when the files read do not
    give the table's columns (partition folders)."""
    from urllib.parse import unquote, urlparse

    d = plan.d
    with d.eng._errors():  # type: ignore[attr-defined]
        df = d.eng.session.read.option("mergeSchema", "true").parquet(*table.files)  # type: ignore[attr-defined]
        if tuple(df.columns) != tuple(table.columns):
            return None
        df = df.selectExpr(
            "*", f"_metadata.file_path AS {_ROW_FILE}", f"_metadata.row_index AS {_ROW_IN_FILE}"
        )
        raw = plan.name("r")
        df.createOrReplaceTempView(raw)
    getattr(d.eng, "_views", []).append(raw)
    paths = d.eng.query(f"SELECT DISTINCT {d.q(_ROW_FILE)} AS p FROM {d.q(raw)}")["p"].tolist()
    place = {os.path.realpath(f): i for i, f in enumerate(table.files)}
    order = [place.get(os.path.realpath(unquote(urlparse(p).path))) for p in paths]
    if any(i is None for i in order):
        return None
    files = plan.name("f")
    d.eng.open(pd.DataFrame({"p": paths, "i": order}), name=files)
    return f"{d.q(raw)} AS r JOIN {d.q(files)} AS f ON r.{d.q(_ROW_FILE)} = f.p"


def _borrow_on_engine(
    plan: _Plan,
    g: pd.DataFrame,
    qis: list[str],
    names: list[str],
    pat: np.ndarray,
    cls: np.ndarray,
    take_of: np.ndarray,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The records :func:`core.masking.local_suppression` borrows: ``take_of`` per class of
    the patterns after the rounds (``cls``), as ``core.masking._borrowed_per_class`` decides
    it from the counts and first rows of the patterns of ``g``, the last records of each
    class in row order. The positions (:data:`_ROW`) of the few records taken are found
    with a window over the rows of the chosen classes. Returns the positions and, per
    quasi-identifier, the cells the records taken lose (those the rounds left and present
    in the loaded table, counted on the rows taken)."""
    d = plan.d
    hit = take_of[cls] > 0
    if not hit.any():
        return pd.DataFrame({_ROW: np.zeros(0, dtype=np.int64)}), np.zeros(len(qis), np.int64)
    src = g.loc[hit, names].reset_index(drop=True)
    src["c"] = cls[hit]
    src["t"] = take_of[cls[hit]]
    for j in range(len(qis)):  # is the cell left by the rounds
        src[f"l{j}"] = pat[hit, j] >= 0
    table = plan.name("b")
    d.eng.open(src, name=table)
    on = " AND ".join(d.same(f"r.{d.q(c)}", f"m.{n}") for c, n in zip(qis, names, strict=True))
    was = {c: f" AND r.{d.q(plan.present[c])}" if c in plan.exact else "" for c in qis}
    lost_here = "".join(
        f", CASE WHEN m.l{j}{was[c]} THEN 1 ELSE 0 END AS x{j}" for j, c in enumerate(qis)
    )
    xs = "".join(f", x{j}" for j in range(len(qis)))
    rows = d.eng.query(
        f"SELECT {d.q(_ROW)}{xs} FROM (SELECT r.{d.q(_ROW)}, "
        f"m.t{lost_here}, ROW_NUMBER() OVER (PARTITION BY m.c ORDER BY r.{d.q(_ROW)} DESC) AS "
        f"rn FROM {d.q(plan.relation)} AS r JOIN {d.q(table)} AS m ON {on}) WHERE rn <= t"
    )
    lost = np.array([int(rows[f"x{j}"].sum()) for j in range(len(qis))], dtype=np.int64)
    return rows[[_ROW]], lost


def _suppress_cells(
    plan: _Plan,
    i: int,
    step: Step,
    qis: list[str],
    k: int,
    notes: list[str],
    cells: Mapping[str, int],
) -> dict[str, int]:
    """Cell suppression to ``k`` (see the module's docstring); per quasi-identifier, the
    cells present in the loaded table and missing after the step, as the pandas engine
    counts them: of a column in :attr:`_Plan.exact`, summed per pattern in the scan that
    groups the patterns; of another (whose cells present now were present in the loaded
    table), the cells blanked here added to ``cells``."""
    d = plan.d
    plan.settle()
    src = d.q(plan.relation)
    part = ", ".join(d.q(c) for c in qis)
    names = [f"q{j}" for j in range(len(qis))]
    ordered = _ROW in plan.hidden
    first = f", MIN({d.q(_ROW)}) AS first" if ordered else ""
    # per pattern, the records whose cell was present in the loaded table
    present = "".join(
        f", SUM(CASE WHEN {d.q(plan.present[c])} THEN 1 ELSE 0 END) AS p{j}"
        for j, c in enumerate(qis)
        if c in plan.exact
    )
    g = plan.d.eng.query(
        f"SELECT {', '.join(f'{d.q(c)} AS q{j}' for j, c in enumerate(qis))}, COUNT(*) AS n"
        f"{first}{present} FROM {src} GROUP BY {part} LIMIT {MAPPING_ROWS_MAX + 1}"
    )
    if len(g) > MAPPING_ROWS_MAX:
        raise RecipeError(
            f"Step {i + 1} ({step.describe()}) decides per combination of its columns, and "
            f"they take more than {MAPPING_ROWS_MAX:,} combinations here (the most on an "
            "engine). Generalize the columns first, or use record suppression (mode "
            "'records')."
        )
    codes = np.column_stack(
        [pd.factorize(g[c], use_na_sentinel=True)[0].astype(np.int64) for c in names]
    ) if len(g) else np.zeros((0, len(qis)), dtype=np.int64)  # fmt: skip
    importance = step.params.get("importance")
    if importance is None:
        distinct = [int(codes[:, j].max(initial=-1)) + 1 for j in range(len(qis))]
        order = sorted(range(len(qis)), key=lambda j: -distinct[j])
    else:
        order = [qis.index(c) for c in reversed(list(importance))]
    weight = g["n"].to_numpy(dtype=np.float64)
    pat = codes.copy()
    sizes = masking._suppression_rounds(pat, weight, k, order)  # pat changes in place
    borrowed = None
    if (sizes < k).any():
        cls, n_cls = masking._patterns(pat)  # the classes after the rounds
        # without a row order the positions of the first records are unknown; the classes'
        # order does not matter to whether records are borrowed, which is all asked then
        at = g["first"].to_numpy(dtype=np.int64) if ordered else np.zeros(len(g), np.int64)
        empty = np.asarray((pat < 0).all(axis=1), dtype=bool)
        lending = masking._borrowed_per_class(cls, n_cls, weight, at, empty, k)
        if lending is None:
            notes.append(
                f"{int(weight[sizes < k].sum())} records stay in a class smaller than {k} even "
                "with every quasi-identifier suppressed, and the other classes have too few spare "
                "records to join them. Use record suppression, or lower k."
            )
        elif ordered:
            borrowed = _borrow_on_engine(plan, g, qis, names, pat, cls, lending[0])
        elif lending[0].any():
            raise RecipeError(
                f"Step {i + 1} ({step.describe()}) would suppress extra records chosen by "
                f"their order in the table, which the {d.eng.name} engine does not keep for "
                "this source (it keeps it for local Parquet files). Use record suppression "
                "(mode 'records'), a larger generalization first, or the pandas engine."
            )
    newly = (pat < 0) & (codes >= 0)
    after = {
        # missing after the rounds (suppressed now or before, blanked, or a hole) and
        # present in the loaded table
        c: int(g[f"p{j}"].to_numpy(dtype=np.int64)[pat[:, j] < 0].sum())
        if c in plan.exact
        else cells.get(c, 0) + int(weight[newly[:, j]].sum())
        for j, c in enumerate(qis)
    }
    rows = newly.any(axis=1)
    lent = borrowed is not None and len(borrowed[0]) > 0
    if not rows.any() and not lent:
        return after
    dec = g.loc[rows, names].reset_index(drop=True)
    for j in range(len(qis)):
        dec[f"s{j}"] = newly[rows, j]
    decisions = plan.name("s")
    plan.d.eng.open(dec, name=decisions)
    on = " AND ".join(d.same(f"r.{d.q(c)}", f"m.q{j}") for j, c in enumerate(qis))
    joins = f"LEFT JOIN {d.q(decisions)} AS m ON {on}"
    also = ""
    if borrowed is not None and lent:
        positions, lost = borrowed
        for j, c in enumerate(qis):
            after[c] += int(lost[j])
        table = plan.name("l")
        plan.d.eng.open(positions, name=table)
        joins += f" LEFT JOIN {d.q(table)} AS b ON r.{d.q(_ROW)} = b.{d.q(_ROW)}"
        also = f" OR b.{d.q(_ROW)} IS NOT NULL"  # a borrowed record loses every cell
    repl = {c: f"CASE WHEN m.s{j}{also} THEN NULL ELSE r.{d.q(c)} END" for j, c in enumerate(qis)}
    plan.view(
        f"SELECT {plan.select_list(repl, prefix='r.')} FROM {src} AS r {joins}",
        changed=qis,
    )
    return after


# --- harden ----------------------------------------------------------------------------------


def _check_steps(recipe: Recipe, engine: str) -> None:
    for i, step in enumerate(recipe.steps):
        if step.transform not in ENGINE_TRANSFORMS:
            why = _REFUSED.get(step.transform, "it is not translated to SQL")
            raise RecipeError(
                f"Step {i + 1} ({step.describe()}) cannot run on the {engine} engine: {why}."
            )


def harden(
    eng: Engine,
    table: Table,
    recipe: Recipe,
    output: str | os.PathLike[str],
    *,
    secrets: Mapping[str, bytes] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> EngineHardeningResult:
    """Apply ``recipe`` to ``table`` on the engine and write partitioned Parquet.

    Parameters
    ----------
    eng : Engine
        A DuckDB or Spark engine.
    table : Table
        A table ``eng`` opened.
    recipe : Recipe
        The steps, run in order (see :data:`ENGINE_TRANSFORMS`).
    output : path-like
        A folder that does not exist yet (or is empty); it receives the Parquet files.
    secrets : mapping of str to bytes, optional
        Keys by name for pseudonymization and encryption steps; never written into SQL
        text, the output or a message.
    progress : callable, optional
        Called as ``progress(step_number, n_steps, description)`` before each step and
        ``progress(n + 1, n + 1, "Writing Parquet")`` before the write.

    Returns
    -------
    EngineHardeningResult

    Raises
    ------
    RecipeError
        The recipe does not validate on the table's columns, a key is missing, a step
        cannot run on an engine, or a step would map too many distinct values.
    InvalidParameterError
        An engine other than DuckDB or Spark, or an output folder that is not empty.
    EngineError
        The engine failed (out of memory or disk, ...).

    Notes
    -----
    The rows written are those :func:`core.recipe.apply` returns for the same table,
    recipe and keys; their order is the engine's. Missing values follow the loaded table's
    rules (a float ``NaN`` is missing).
    """
    d = _dialect(eng)
    keys = dict(secrets or {})
    recipe = recipe.checked()
    out = _fresh_folder(output)
    empty = eng.query(f"SELECT * FROM {eng.quote(table.name)} LIMIT 0")
    validate(empty, recipe, secrets=keys)
    _check_steps(recipe, eng.name)
    plan = _Plan(d, table)
    if any(s.transform == "suppress" and s.params.get("mode", "cells") == "cells"
           for s in recipe.steps):  # fmt: skip
        _add_row_order(plan, table)
        _add_presence(plan, recipe)
    removed = 0
    notes: list[str] = []
    cells: dict[str, int] = {}
    n_steps = len(recipe.steps)
    try:
        for i, step in enumerate(recipe.steps):
            if progress is not None:
                progress(i + 1, n_steps + 1, step.describe())
            removed += _run_step(plan, i, step, keys, notes, cells)
        _count_again(plan, cells)
        plan.settle()
        plan.hidden = []
        plan.view(f"SELECT {plan.select_list()} FROM {d.q(plan.relation)}", changed=[])
        if progress is not None:
            progress(n_steps + 1, n_steps + 1, "Writing Parquet")
        d.write(plan.relation, out)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    files = tuple(str(p.relative_to(out)) for p in sorted(out.rglob("*.parquet")))
    return EngineHardeningResult(
        output=os.fspath(out),
        files=files,
        n_rows=table.n_rows - removed,
        records_removed=removed,
        cells_suppressed=cells,
        warnings=tuple(dict.fromkeys(notes)),
    )


def _run_step(
    plan: _Plan,
    i: int,
    step: Step,
    keys: Mapping[str, bytes],
    notes: list[str],
    cells: dict[str, int],
) -> int:
    """Add one step to the plan; the records it removes."""
    cols = list(step.columns)
    p = step.params
    if step.transform == "drop":
        plan.flush()
        plan.maps.pop(cols[0], None)
        plan.frozen.discard(cols[0])
        plan.columns.remove(cols[0])
        _forget_suppressed(plan, cols[0], cells)
        if cols[0] in plan.present:
            plan.hidden.remove(plan.present.pop(cols[0]))
        return 0
    if step.transform == "suppress":
        k = masking._check_k(p["k"], 0)
        if p.get("mode", "cells") == "records":
            return _suppress_records(plan, cols, k, notes, cells)
        cells.update(_suppress_cells(plan, i, step, cols, k, notes, cells))
        plan.dirty.difference_update(cols)
        return 0
    if step.transform == "replace" and p.get("include_missing"):
        _forget_suppressed(plan, cols[0], cells)
    elif cols[0] in cells and step.transform not in _KEEP_MISSING:
        plan.dirty.add(cols[0])  # it may blank cells: counted again at the end
    if cols[0] in plan.frozen:
        plan.settle()
    try:
        if cols[0] in plan.maps:
            _map_step(plan, i, step, keys, None)
            return 0
        if _few_distinct(plan, cols[0]):
            # computing each distinct value once and joining is cheaper than an expression
            # per row (two SHA-256 for a pseudonym, string building for labels and masks)
            values = _distinct(plan, cols[0])
            if values is not None:
                _map_step(plan, i, step, keys, values)
                return 0
        sql = _sql_step(plan, step, keys)
        if sql is not None:
            plan.exprs[cols[0]] = sql
            return 0
        _map_step(plan, i, step, keys, _distinct(plan, cols[0]))
    except (InvalidParameterError, ColumnError) as exc:
        raise RecipeError(f"Step {i + 1} ({step.describe()}) failed: {exc}") from None
    return 0


def _forget_suppressed(plan: _Plan, col: str, cells: dict[str, int]) -> None:
    """``col`` is dropped, or every cell of it gets a value (a constant that fills missing
    cells): none of its cells stays suppressed, as the pandas engine counts them (present in
    the loaded table, missing in the output; a dropped column counts none)."""
    plan.dirty.discard(col)
    if col in cells:
        cells[col] = 0


def _count_again(plan: _Plan, cells: dict[str, int]) -> None:
    """Count, in one scan of the result, the suppressed cells of the columns a step may
    have blanked or filled since their last cell suppression."""
    cols = [c for c in cells if c in plan.dirty]
    if not cols:
        return
    plan.settle()
    r = plan.d.eng.query(
        f"SELECT COUNT(*) AS n{plan.lost_sums(cols)} FROM {plan.d.q(plan.relation)}"
    )
    for i, c in enumerate(cols):
        cells[c] = int(r[f"f{i}"].fillna(0).iloc[0])
    plan.dirty.clear()


def _fresh_folder(output: str | os.PathLike[str]) -> Path:
    out = Path(output)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InvalidParameterError(
            f"The output folder {out.name} already exists and is not empty; an engine writes "
            "its Parquet files into a new folder. Give a new folder name with -o."
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.rmdir()
    return out


# --- encrypted export ------------------------------------------------------------------------


def encrypt_outputs(
    folder: str | os.PathLike[str],
    files: Sequence[str],
    destination: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    passphrase: str | None = None,
    work_factor: int | None = None,
    chunk_log2: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[str, ...]:
    """Encrypt each Parquet file of ``folder`` into ``destination`` and delete the plaintext.

    Each file ``f`` becomes ``destination/f.plenc`` in the PrivLens format
    (:func:`core.crypto.encrypt_file`: AES-256-GCM, a fresh file key each), streamed one
    chunk at a time, so memory stays at one chunk whatever the table's size. Decrypting a
    ``.plenc`` file gives back the Parquet file byte for byte.

    Parameters
    ----------
    folder : path-like
        Where :func:`harden` wrote the files.
    files : sequence of str
        The files, relative to ``folder``.
    destination : path-like
        The folder receiving the encrypted files (created when missing).
    key, passphrase : optional
        Exactly one: a 32-byte key, or a passphrase (scrypt, ``work_factor``).
    work_factor, chunk_log2 : int, optional
        As in :func:`core.crypto.encrypt`; their defaults when omitted.
    progress : callable, optional
        Called as ``progress(i, n, file)`` before each file.

    Returns
    -------
    tuple of str
        The encrypted files, relative to ``destination``.
    """
    from core import crypto

    options: dict[str, Any] = {"key": key, "passphrase": passphrase}
    if work_factor is not None:
        options["work_factor"] = work_factor
    if chunk_log2 is not None:
        options["chunk_log2"] = chunk_log2
    src, dst = Path(folder), Path(destination)
    written = []
    for i, name in enumerate(files):
        if progress is not None:
            progress(i + 1, len(files), name)
        target = dst / (name + ".plenc")
        target.parent.mkdir(parents=True, exist_ok=True)
        crypto.encrypt_file(src / name, target, **options)
        (src / name).unlink()
        written.append(name + ".plenc")
    return tuple(written)


def harden_encrypted(
    eng: Engine,
    table: Table,
    recipe: Recipe,
    output: str | os.PathLike[str],
    *,
    secrets: Mapping[str, bytes] | None = None,
    key: bytes | None = None,
    passphrase: str | None = None,
    work_factor: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    file_progress: Callable[[int, int, str], None] | None = None,
) -> EngineHardeningResult:
    """:func:`harden`, then :func:`encrypt_outputs` into ``output``.

    The plaintext Parquet files are written into a private (0700) temporary folder inside
    ``output`` and each is deleted as soon as it is encrypted; the folder is removed at the
    end, also on failure.
    """
    out = _fresh_folder(output)
    out.mkdir(parents=True)
    plain = Path(tempfile.mkdtemp(prefix=".plain-", dir=out))
    try:
        r = harden(eng, table, recipe, plain / "t", secrets=secrets, progress=progress)
        files = encrypt_outputs(
            plain / "t",
            r.files,
            out,
            key=key,
            passphrase=passphrase,
            work_factor=work_factor,
            progress=file_progress,
        )
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(plain, ignore_errors=True)
    return EngineHardeningResult(
        output=os.fspath(out),
        files=files,
        n_rows=r.n_rows,
        records_removed=r.records_removed,
        cells_suppressed=r.cells_suppressed,
        encrypted=True,
        warnings=r.warnings,
    )
