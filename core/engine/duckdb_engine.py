"""The DuckDB engine: in-process, out of core, for tables larger than memory.

DuckDB reads Parquet files, folders and globs where they are (``read_parquet``) and scans a
pandas frame in place (``register``, no copy). Its memory limit and temporary directory are
set per engine; when a query needs more than the limit, DuckDB spills to the temporary
directory, and only fails when the disk is full too.

The memory limit, when not given, is :func:`memory_limit_setting`: ``$PRIVLENS_DUCKDB_MEMORY``
(``"8GB"``, ``"512MB"``), else half the machine's physical memory, at most
:data:`DUCKDB_MEMORY_CAP_BYTES`. DuckDB spills into a fresh folder only its owner can open
(mode 0700, made by :func:`tempfile.mkdtemp`, under ``temp_directory`` when one is given, else
under the system's temporary directory, ``$TMPDIR``), removed when the engine is closed.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import tempfile
import weakref

import pandas as pd

from core.engine.base import Engine, Source, Table, check_sample_size, parquet_files
from core.engine.orders import frame_orders, parquet_orders
from core.errors import (
    ColumnError,
    CorruptFileError,
    EngineError,
    InvalidParameterError,
    PrivLensError,
)
from core.frames import check_frame

__all__ = [
    "DUCKDB_MEMORY_CAP_BYTES",
    "DUCKDB_MEMORY_ENV",
    "DUCKDB_MEMORY_LIMIT_DEFAULT",
    "DuckDBEngine",
    "memory_limit_setting",
]

#: Environment variable naming DuckDB's memory limit (``"8GB"``, ``"512MB"``, ``"16GiB"``).
DUCKDB_MEMORY_ENV = "PRIVLENS_DUCKDB_MEMORY"
#: DuckDB's memory limit when neither the setting nor the machine's memory is known (DuckDB's
#: own default is 80% of the RAM).
DUCKDB_MEMORY_LIMIT_DEFAULT = "4GB"
#: The derived default (half the physical memory) is at most this many bytes (32 GiB).
DUCKDB_MEMORY_CAP_BYTES = 32 * 2**30
#: ... and at least this many (256 MiB): less leaves DuckDB spilling on every query.
_MEMORY_FLOOR_BYTES = 256 * 2**20
_AMOUNT = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*", re.IGNORECASE)

_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_names = itertools.count(1)


def _duckdb():  # imported lazily: the app starts without touching DuckDB
    import duckdb

    return duckdb


def _physical_memory() -> int | None:
    """Bytes of physical memory (``os.sysconf``), or None where it cannot be read."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows), or no such name
        return None
    return pages * size if pages > 0 and size > 0 else None


def memory_limit_setting(value: str | None = None) -> str:
    """DuckDB's memory limit: ``value``, else ``$PRIVLENS_DUCKDB_MEMORY``, else from the machine.

    Parameters
    ----------
    value : str, optional
        An amount such as ``"8GB"``, ``"512MB"`` or ``"16GiB"`` (units KB, MB, GB, TB and
        KiB, MiB, GiB, TiB, any case). Empty or omitted: the environment variable, and when
        that is unset or empty, half the physical memory (``os.sysconf``) within
        [256 MiB, :data:`DUCKDB_MEMORY_CAP_BYTES`], or :data:`DUCKDB_MEMORY_LIMIT_DEFAULT`
        where the physical memory cannot be read.

    Returns
    -------
    str
        A value for DuckDB's ``SET memory_limit`` (``"8GB"``, ``"8192MiB"``).

    Raises
    ------
    InvalidParameterError
        The amount is not a positive number followed by a unit; the message names the
        environment variable and gives an example.

    Examples
    --------
    >>> memory_limit_setting("8GB"), memory_limit_setting(" 1.5 gib ")
    ('8GB', '1.5GiB')
    """
    raw = os.environ.get(DUCKDB_MEMORY_ENV, "") if value is None else value
    if not raw.strip():
        total = _physical_memory()
        if total is None:
            return DUCKDB_MEMORY_LIMIT_DEFAULT
        share = min(max(total // 2, _MEMORY_FLOOR_BYTES), DUCKDB_MEMORY_CAP_BYTES)
        return f"{share // 2**20}MiB"
    match = _AMOUNT.fullmatch(raw)
    if match is None or float(match.group(1)) <= 0:
        raise InvalidParameterError(
            f"{DUCKDB_MEMORY_ENV} (DuckDB's memory limit) must be a positive amount with a "
            f"unit, such as '8GB', '512MB' or '16GiB'; got {raw[:40]!r}. Fix the setting (or "
            f"unset {DUCKDB_MEMORY_ENV} for half the machine's memory) and restart."
        )
    number, unit = match.groups()
    unit = unit.upper()
    return number + (unit[0] + "iB" if len(unit) == 3 else unit)


class DuckDBEngine(Engine):
    """Run the measures on DuckDB.

    Parameters
    ----------
    memory_limit : str, optional
        DuckDB's ``memory_limit`` (``"4GB"``, ``"512MB"``); :func:`memory_limit_setting` when
        omitted (``$PRIVLENS_DUCKDB_MEMORY``, else half the physical memory).
    temp_directory : str, optional
        The folder under which DuckDB spills: the engine makes a fresh private folder (mode
        0700) inside it, removed on :meth:`close`. The system's temporary folder when omitted.
    threads : int, optional
        Worker threads; DuckDB's default (one per core) when omitted.

    Examples
    --------
    >>> with DuckDBEngine(memory_limit="256MB") as eng:
    ...     t = eng.open(pd.DataFrame({"a": [1, 1, 2]}))
    ...     int(eng.query(f"SELECT COUNT(*) AS n FROM {eng.quote(t.name)}")["n"][0])
    3
    """

    name = "duckdb"

    def __init__(
        self,
        *,
        memory_limit: str | None = None,
        temp_directory: str | os.PathLike[str] | None = None,
        threads: int | None = None,
    ) -> None:
        duckdb = _duckdb()
        self._tmp: weakref.finalize | None = None
        memory_limit = memory_limit_setting(memory_limit)
        try:
            # only its owner can open it (mkdtemp makes it 0700), wherever it is made; it is
            # removed on close(), or when an engine that was never closed (an app cache
            # evicting it) is collected: a finalizer, so no ResourceWarning either way
            spill = tempfile.mkdtemp(
                prefix="privlens-duckdb-",
                dir=None if temp_directory is None else os.fspath(temp_directory),
            )
        except OSError:
            raise InvalidParameterError(
                "The DuckDB engine cannot make its spill folder in the temporary directory "
                "given (it is missing or not writable). Give a writable directory."
            ) from None
        self._tmp = weakref.finalize(self, shutil.rmtree, spill, True)
        #: The engine's private spill folder.
        self.temp_directory: str = spill
        self._con = duckdb.connect(":memory:")
        try:
            self._con.execute("SET memory_limit = ?", [str(memory_limit)])
            self._con.execute("SET temp_directory = ?", [spill])
            if threads is not None:
                self._con.execute("SET threads = ?", [int(threads)])
        except duckdb.Error as exc:
            self.close()
            raise InvalidParameterError(
                f"DuckDB rejected the engine settings (memory limit {memory_limit!r}, "
                f"threads {threads!r}): {type(exc).__name__}. Use a memory limit such as "
                "'4GB' and a positive thread count."
            ) from None
        self._frames: dict[str, pd.DataFrame] = {}

    # --- Engine ------------------------------------------------------------------------

    def quote(self, identifier: str) -> str:
        """``"name"`` with embedded double quotes doubled.

        >>> DuckDBEngine.quote(None, 'a"b')
        '"a""b"'
        """
        return '"' + str(identifier).replace('"', '""') + '"'

    def open(self, source: Source, *, name: str | None = None) -> Table:
        """Register a frame (no copy) or a Parquet file, folder or glob as a view."""
        name = name or f"privlens_t{next(_names)}"
        q = self.quote(name)
        files: tuple[str, ...] = ()
        if isinstance(source, pd.DataFrame):
            raw = f"{name}__frame"
            self._register(raw, check_frame(source))
            from_clause = self.quote(raw)
            kind = "frame"
        elif isinstance(source, str | os.PathLike):
            files = parquet_files(source)
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            from_clause = f"read_parquet([{listing}], union_by_name = true)"
            kind = f"parquet ({len(files)} file(s))"
        else:
            raise InvalidParameterError(
                f"An engine opens a pandas DataFrame or a Parquet path; got "
                f"{type(source).__name__}. Pass a frame, a .parquet file, a folder or a glob."
            )
        columns = self._describe(from_clause)
        if kind != "frame" and any(t in _FLOAT_TYPES for _, t in columns):
            # DuckDB's Parquet statistics leave NaN out, and its statistics propagation then
            # folds "isnan(x)" to false, so a NaN would not become NULL below. Turn that
            # optimizer off for this connection (a frame's NaN is already NULL).
            self._run("SET disabled_optimizers = 'statistics_propagation'")
        # float NaN is a missing value, as in pandas: map it to NULL for every measure
        select = ", ".join(
            (
                f"CASE WHEN isnan({self.quote(c)}) THEN NULL ELSE {self.quote(c)} END "
                f"AS {self.quote(c)}"
            )
            if t in _FLOAT_TYPES
            else self.quote(c)
            for c, t in columns
        )
        self._run(f"CREATE OR REPLACE VIEW {q} AS SELECT {select} FROM {from_clause}")
        n = int(self._run(f"SELECT COUNT(*) AS n FROM {q}")["n"].iloc[0])
        return Table(
            name=name,
            columns=tuple(c for c, _ in columns),
            n_rows=n,
            source=kind,
            files=files,
            orders=parquet_orders(files) if files else frame_orders(source),
        )

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL and return its (small) result as a frame."""
        return self._run(sql)

    def sample(self, table: Table, n: int, seed: int) -> pd.DataFrame:
        """``min(n, rows)`` rows drawn uniformly without replacement (reservoir sampling)."""
        n = check_sample_size(n)
        return self._run(
            f"SELECT * FROM {self.quote(table.name)} "
            f"USING SAMPLE reservoir({n} ROWS) REPEATABLE ({int(seed)})"
        )

    def close(self) -> None:
        con = getattr(self, "_con", None)
        if con is not None:
            con.close()
            self._con = None
        if self._tmp is not None:
            self._tmp()
            self._tmp = None

    # --- helpers -----------------------------------------------------------------------

    def _register(self, raw: str, frame: pd.DataFrame) -> None:
        """Scan a frame in place; refuse columns DuckDB would not read as pandas does."""
        for c in frame.columns:
            s = frame[c]
            if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True).startswith("mixed"):
                raise ColumnError(
                    f"Column '{c}' mixes kinds of values (numbers, text, ...); DuckDB holds one "
                    "type per column and would merge 1 and '1'. Give the column one kind, or "
                    "use the pandas engine."
                )
        if self._con is None:
            self._run("SELECT 1")  # the closed-engine error
        duckdb = _duckdb()
        try:
            self._con.register(raw, frame)
        except duckdb.Error as exc:
            raise ColumnError(
                f"DuckDB cannot read a column of this table ({type(exc).__name__}); one of its "
                f"{frame.shape[1]} column(s) has a type DuckDB does not scan. Cast it to text "
                "or numbers, or use the pandas engine."
            ) from None
        self._frames[raw] = frame

    def _describe(self, from_clause: str) -> list[tuple[str, str]]:
        rows = self._run(f"DESCRIBE SELECT * FROM {from_clause}")
        return [
            (str(c), str(t).upper())
            for c, t in zip(rows["column_name"], rows["column_type"], strict=True)
        ]

    def _run(self, sql: str) -> pd.DataFrame:
        """Run one statement to completion; its result as a frame (empty for DDL)."""
        if self._con is None:
            raise InvalidParameterError(
                "The DuckDB engine is closed; got a query after close(). Open a new engine."
            )
        duckdb = _duckdb()
        try:
            cursor = self._con.execute(sql)
            return cursor.df() if cursor.description else pd.DataFrame()
        except PrivLensError:
            raise
        except duckdb.OutOfMemoryException:
            raise EngineError(
                "DuckDB ran out of memory (and of temporary disk space to spill to) while "
                "computing a measure. Raise the engine's memory limit, free disk space in its "
                "temporary directory, or use fewer quasi-identifiers."
            ) from None
        except duckdb.BinderException as exc:
            if "column" in str(exc).lower():
                raise ColumnError(
                    "A column named in the query is not in the table. Check the column names "
                    "(they are case-sensitive) against the table's columns."
                ) from None
            raise EngineError(
                f"DuckDB could not bind the query ({type(exc).__name__}). Check the column "
                "names and types."
            ) from None
        except duckdb.ConversionException:
            raise ColumnError(
                "A column could not be converted to the type a measure needs (for example a "
                "text column used as weights). Pick a numeric column."
            ) from None
        except (duckdb.IOException, duckdb.InvalidInputException):
            raise CorruptFileError("Parquet") from None
        except duckdb.Error as exc:
            raise EngineError(
                f"DuckDB failed while computing a measure ({type(exc).__name__}). Check the "
                "input files and the engine's settings."
            ) from None
