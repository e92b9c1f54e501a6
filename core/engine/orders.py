"""The value order of an ordered sensitive column, as the pandas engine sees it.

The ordered t-closeness distance needs the order of the sensitive values. The pandas engine
(:func:`core.attribute_risk.attribute_risk`) sorts numbers, and orders an ordered categorical
(``pandas.CategoricalDtype(ordered=True)``) by its categories, which need not be the order
of their text nor of their first appearance. A SQL engine sees the values only, so it is
given the categories' order when it opens a table:

- a frame: the categories of each ordered categorical column (:func:`frame_orders`);
- Parquet: pandas writes an ordered categorical as an Arrow dictionary column whose type is
  marked ``ordered`` and whose dictionary holds the categories in order; pyarrow reads both
  back, so :func:`parquet_orders` finds the order the pandas engine would use when it reads
  the same files. Parquet written by other tools carries no order: the caller then declares
  one (``order=`` of :func:`core.engine.attribute_risk`).

An order is a tuple of distinct, non-missing values, lowest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from core.errors import InvalidParameterError

__all__ = ["Orders", "check_order", "frame_orders", "parquet_orders"]

#: ``((column, (lowest value, ..., highest value)), ...)``
Orders = tuple[tuple[str, tuple[Any, ...]], ...]


def frame_orders(frame: pd.DataFrame) -> Orders:
    """The categories of each ordered categorical column of ``frame``.

    >>> df = pd.DataFrame({"v": pd.Categorical(["b", "a"], ["b", "c", "a"], ordered=True)})
    >>> frame_orders(df)
    (('v', ('b', 'c', 'a')),)
    """
    out = []
    for c, dtype in zip(frame.columns, frame.dtypes, strict=True):  # repeated names too
        if isinstance(dtype, pd.CategoricalDtype) and dtype.ordered:
            out.append((str(c), tuple(dtype.categories.tolist())))
    return tuple(out)


def parquet_orders(files: Sequence[str]) -> Orders:
    """The order of each ordered dictionary column of Parquet files, as pandas reads them.

    The pandas engine reads each file (an ordered dictionary column becomes an ordered
    categorical with the dictionary as its categories, the dictionaries of row groups
    unified as Arrow unifies them) and concatenates the frames; a column stays categorical
    only when every file gives it the same categories in the same order. So a column has an
    order here only when every file holds it as an ordered dictionary with the same
    dictionary. Only the schema and the first row of each row group are read.

    Parameters
    ----------
    files : sequence of str
        Parquet files (:func:`core.engine.base.parquet_files`).

    Returns
    -------
    Orders
        Columns with an order; empty when a file cannot be read here (the engine reports
        unreadable files when it opens them).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    found: dict[str, tuple[Any, ...]] | None = None
    for path in files:
        try:
            pf = pq.ParquetFile(path)
            here = {}
            for field in pf.schema_arrow:
                wanted = found is None or field.name in found
                if wanted and pa.types.is_dictionary(field.type) and field.type.ordered:
                    here[field.name] = _dictionary(pf, field.name)
        except (OSError, ValueError, pa.ArrowException):
            return ()
        if found is None:
            found = here
        else:
            found = {c: v for c, v in found.items() if here.get(c) == v}
        if not found:
            return ()
    return tuple((str(c), v) for c, v in (found or {}).items())


def _dictionary(pf: Any, column: str) -> tuple[Any, ...]:
    """The unified dictionary of one column over the file's row groups."""
    import pyarrow as pa

    chunks = []
    for i in range(pf.num_row_groups):
        batch = next(pf.iter_batches(batch_size=1, columns=[column], row_groups=[i]), None)
        if batch is not None and batch.num_rows:
            chunks.append(batch.column(0))
    if not chunks:
        return ()
    unified = pa.chunked_array(chunks).unify_dictionaries()
    return tuple(unified.chunk(0).dictionary.to_pylist())


def check_order(order: Iterable[Any], column: str) -> tuple[Any, ...]:
    """Validate a declared order: at least two distinct, non-missing values.

    >>> check_order(["low", "mid", "high"], "grade")
    ('low', 'mid', 'high')
    """
    if isinstance(order, str | bytes):
        raise InvalidParameterError(
            f"The order of '{column}' must be a list of values, lowest first; got a single "
            "string. Pass a list such as ['low', 'mid', 'high']."
        )
    values = tuple(order)
    if any(v is None or (isinstance(v, float) and v != v) or v is pd.NA for v in values):
        raise InvalidParameterError(
            f"The order of '{column}' holds a missing value ({len(values)} values given); a "
            "missing value has no place in an order. Leave it out."
        )
    if len(set(values)) != len(values):
        raise InvalidParameterError(
            f"A value is listed twice in the order of '{column}' ({len(values)} values, "
            f"{len(set(values))} distinct). List each value once, lowest first."
        )
    if len(values) < 2:
        raise InvalidParameterError(
            f"The order of '{column}' needs at least 2 values; got {len(values)}. List the "
            "column's values, lowest first."
        )
    return values
