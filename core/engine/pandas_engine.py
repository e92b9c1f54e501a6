"""The pandas engine: today's in-memory code, the reference every other engine must match.

It holds frames and answers the measures by calling the existing ``core`` functions
(:mod:`core.risk`, :mod:`core.attribute_risk`); it does not run SQL.
"""

from __future__ import annotations

import itertools
import os

import pandas as pd

from core.engine.base import Engine, Source, Table, check_sample_size, parquet_files
from core.errors import CorruptFileError, InvalidParameterError
from core.frames import check_frame

__all__ = ["PandasEngine"]

_names = itertools.count(1)


class PandasEngine(Engine):
    """Hold tables as pandas frames in memory.

    Examples
    --------
    >>> eng = PandasEngine()
    >>> t = eng.open(pd.DataFrame({"a": [1, 2, 3]}))
    >>> t.n_rows, t.columns
    (3, ('a',))
    """

    name = "pandas"

    def __init__(self) -> None:
        self._frames: dict[str, pd.DataFrame] = {}

    def open(self, source: Source, *, name: str | None = None) -> Table:
        """Keep a frame as it is, or read a Parquet file, folder or glob into memory."""
        name = name or f"privlens_t{next(_names)}"
        if isinstance(source, pd.DataFrame):
            df, kind = check_frame(source), "frame"
        elif isinstance(source, str | os.PathLike):
            files = parquet_files(source)
            try:
                parts = [pd.read_parquet(f) for f in files]
            except (OSError, ValueError):
                raise CorruptFileError("Parquet") from None
            df = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
            kind = f"parquet ({len(files)} file(s))"
        else:
            raise InvalidParameterError(
                f"An engine opens a pandas DataFrame or a Parquet path; got "
                f"{type(source).__name__}. Pass a frame, a .parquet file, a folder or a glob."
            )
        self._frames[name] = df
        return Table(
            name=name, columns=tuple(map(str, df.columns)), n_rows=len(df), source=kind
        )

    def frame(self, table: Table) -> pd.DataFrame:
        """The frame behind a table this engine opened."""
        try:
            return self._frames[table.name]
        except KeyError:
            raise InvalidParameterError(
                "This table was not opened by this pandas engine (or the engine was closed). "
                "Open it with the engine that computes the measure."
            ) from None

    def query(self, sql: str) -> pd.DataFrame:
        """The pandas engine runs no SQL; the measures call :mod:`core` directly."""
        raise InvalidParameterError(
            "The pandas engine does not run SQL; got a query. Use the DuckDB or Spark engine "
            "for SQL, or the functions of core.engine.measures."
        )

    def quote(self, identifier: str) -> str:
        """DuckDB-style ``"name"`` quoting (only used to show plans)."""
        return '"' + str(identifier).replace('"', '""') + '"'

    def sample(self, table: Table, n: int, seed: int) -> pd.DataFrame:
        """``min(n, rows)`` rows drawn uniformly without replacement."""
        n = check_sample_size(n)
        df = self.frame(table)
        return df.sample(n=min(n, len(df)), random_state=int(seed))

    def close(self) -> None:
        self._frames.clear()
