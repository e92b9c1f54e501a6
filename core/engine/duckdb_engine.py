"""The DuckDB engine: in-process, out of core, for tables larger than memory.

DuckDB reads Parquet files, folders and globs where they are (``read_parquet``) and scans a
pandas frame in place (``register``, no copy). Its memory limit and temporary directory are
set per engine; when a query needs more than the limit, DuckDB spills to the temporary
directory, and only fails when the disk is full too.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import weakref

import pandas as pd

from core.engine.base import Engine, Source, Table, check_sample_size, parquet_files
from core.errors import (
    ColumnError,
    CorruptFileError,
    EngineError,
    InvalidParameterError,
    PrivLensError,
)
from core.frames import check_frame

__all__ = ["DUCKDB_MEMORY_LIMIT_DEFAULT", "DuckDBEngine"]

#: DuckDB's memory limit when none is given (DuckDB's own default is 80% of the RAM).
DUCKDB_MEMORY_LIMIT_DEFAULT = "4GB"

_FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")
_names = itertools.count(1)


def _duckdb():  # imported lazily: the app starts without touching DuckDB
    import duckdb

    return duckdb


class DuckDBEngine(Engine):
    """Run the measures on DuckDB.

    Parameters
    ----------
    memory_limit : str
        DuckDB's ``memory_limit`` (``"4GB"``, ``"512MB"``).
    temp_directory : str, optional
        Where DuckDB spills; a fresh temporary folder when omitted.
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
        memory_limit: str = DUCKDB_MEMORY_LIMIT_DEFAULT,
        temp_directory: str | os.PathLike[str] | None = None,
        threads: int | None = None,
    ) -> None:
        duckdb = _duckdb()
        self._tmp: weakref.finalize | None = None
        if temp_directory is None:
            # removed on close(), or when an engine that was never closed (an app cache
            # evicting it) is collected: a finalizer, so no ResourceWarning either way
            temp_directory = tempfile.mkdtemp(prefix="privlens-duckdb-")
            self._tmp = weakref.finalize(self, shutil.rmtree, temp_directory, True)
        self._con = duckdb.connect(":memory:")
        try:
            self._con.execute("SET memory_limit = ?", [str(memory_limit)])
            self._con.execute("SET temp_directory = ?", [os.fspath(temp_directory)])
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
