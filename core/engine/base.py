"""The engine interface: where a table lives and how a measure's SQL runs on it.

An :class:`Engine` opens a source (a pandas frame, or a Parquet file, folder or glob) as a
:class:`Table`, runs SQL text that returns a *small* result (aggregates, histograms, a
sample), quotes identifiers in its own dialect and draws uniform samples. The measures are
written once as SQL text in :mod:`core.engine.plans` (standard SQL both DuckDB and Spark SQL
accept) and turned into result objects in :mod:`core.engine.measures`; an engine only
implements execution. Nothing row-level is collected: every plan groups or samples.

The pandas engine is the reference: it holds the frame and answers the measures with the
existing ``core`` functions; it does not run SQL.
"""

from __future__ import annotations

import glob as _glob
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeAlias

import pandas as pd

from core.errors import DataLoadError, InvalidParameterError

__all__ = ["Engine", "Source", "Table", "parquet_files"]

#: What :meth:`Engine.open` accepts: a frame, or the path of a Parquet file, a folder of
#: Parquet files (searched recursively, as partitioned datasets are laid out) or a glob.
Source: TypeAlias = pd.DataFrame | str | os.PathLike[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A table an engine has opened.

    Attributes
    ----------
    name : str
        The table's name in the engine's catalog (unquoted; quote it with
        :meth:`Engine.quote` before putting it into SQL).
    columns : tuple of str
        Column names, in order.
    n_rows : int
        Number of rows.
    source : str
        What was opened: ``"frame"``, or ``"parquet"`` with the number of files.
    files : tuple of str
        The Parquet files read, in the order their rows come (:func:`parquet_files`, the
        order the pandas engine concatenates them); empty for a frame.
    orders : tuple of (str, tuple)
        The value order of each ordered categorical column, lowest first, as the pandas
        engine reads it (:mod:`core.engine.orders`); not shown in the repr (it holds values).
    """

    name: str
    columns: tuple[str, ...]
    n_rows: int
    source: str = "frame"
    files: tuple[str, ...] = ()
    orders: tuple[tuple[str, tuple[Any, ...]], ...] = field(default=(), repr=False)


class Engine(ABC):
    """One way of running the measures: pandas in memory, DuckDB, Spark.

    Engines are context managers; :meth:`close` releases their resources.
    """

    #: Short name used by ``--engine`` (``"pandas"``, ``"duckdb"``, ``"spark"``).
    name: ClassVar[str]

    @abstractmethod
    def open(self, source: Source, *, name: str | None = None) -> Table:
        """Open a frame or a Parquet file, folder or glob as a table.

        Parameters
        ----------
        source : pandas.DataFrame or path-like
            A frame (registered without copying where the engine can), or the path of a
            Parquet file, a folder of Parquet files, or a glob matching Parquet files.
        name : str, optional
            Catalog name; a fresh one is chosen when omitted.

        Returns
        -------
        Table

        Raises
        ------
        DataLoadError
            The path matches no Parquet file, or a file cannot be read as Parquet
            (:class:`core.errors.CorruptFileError`).
        InvalidParameterError
            A source that is neither a frame nor a path.
        """

    @abstractmethod
    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL that returns a small result (an aggregate, a histogram, a sample).

        Raises
        ------
        ColumnError
            The SQL names a column the table does not have.
        ResourceLimitError
            The engine ran out of memory or disk.
        PrivLensError
            Any other failure of the engine, with a clear message.
        """

    @abstractmethod
    def quote(self, identifier: str) -> str:
        """Quote an identifier in the engine's dialect (DuckDB ``"x"``, Spark ```x```)."""

    @abstractmethod
    def sample(self, table: Table, n: int, seed: int) -> pd.DataFrame:
        """A uniform sample of ``min(n, n_rows)`` rows, reproducible for a given seed."""

    def close(self) -> None:  # noqa: B027 - engines without resources keep the default
        """Release the engine's resources (connections, temporary files)."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_sample_size(n: int) -> int:
    """Validate a sample size (a positive int)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(
            f"The sample size must be a positive whole number; got {n!r}. Ask for at least "
            "one row."
        )
    return n


def parquet_files(source: str | os.PathLike[str]) -> tuple[str, ...]:
    """The Parquet files a path names: a file, a folder (searched recursively) or a glob.

    Parameters
    ----------
    source : str or path-like

    Returns
    -------
    tuple of str
        Sorted file paths; at least one.

    Raises
    ------
    DataLoadError
        Nothing matches, or a folder holds no ``.parquet`` file.
    """
    text = os.fspath(source)
    path = Path(text)
    if path.is_dir():
        files: Sequence[str] = sorted(
            str(p) for p in path.rglob("*.parquet") if p.is_file()
        )
        where = "the folder"
    elif path.is_file():
        files = [text]
        where = "the path"
    else:
        files = sorted(p for p in _glob.glob(text, recursive=True) if Path(p).is_file())
        where = "the pattern"
    if not files:
        raise DataLoadError(
            f"No Parquet file found at {where} given (0 files matched). Give a .parquet "
            "file, a folder holding .parquet files, or a glob such as data/*.parquet."
        )
    return tuple(files)
