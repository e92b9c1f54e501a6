"""Entry checks shared by every public function that takes a table.

The loader only makes frames with unique text column names. A caller of the API can pass
anything pandas allows: repeated names (``df[name]`` is then a DataFrame, not a column),
integer names (``pd.DataFrame(array)``), ``None``. :func:`check_frame` turns those into a
:class:`~core.errors.ColumnError` that names the problem, before any measure reads a column.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from core.errors import ColumnError, InvalidParameterError

__all__ = ["check_frame"]


def check_frame(frame: Any, *, what: str = "the table") -> pd.DataFrame:
    """Refuse anything but a DataFrame with unique text column names; return the frame.

    Parameters
    ----------
    frame : object
        What the caller passed as a table.
    what : str
        How the message calls it (e.g. ``"the released table"``).

    Returns
    -------
    pandas.DataFrame
        ``frame`` itself, unchanged.

    Raises
    ------
    InvalidParameterError
        ``frame`` is not a pandas DataFrame.
    ColumnError
        A column name is not text, or a name appears more than once. The message names
        the repeated name and the types of the other names, never a cell value.

    Examples
    --------
    >>> check_frame(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    >>> try:
    ...     check_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    ... except ColumnError as exc:
    ...     print(str(exc)[:26])
    column 'a' appears 2 times
    """
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"{what} must be a pandas DataFrame; got {type(frame).__name__}. Load a table "
            "first, or wrap the data in pandas.DataFrame."
        )
    other = [c for c in frame.columns if not isinstance(c, str)]
    if other:
        kinds = sorted({type(c).__name__ for c in other})
        raise ColumnError(
            f"column names must be text; {what} has {len(other)} name(s) of type "
            f"{', '.join(kinds)}. Rename the columns to strings, e.g. "
            "frame.columns = frame.columns.map(str)."
        )
    if not frame.columns.is_unique:
        counts = frame.columns.value_counts()
        dup = counts[counts > 1]
        more = f" ({len(dup)} names are repeated)" if len(dup) > 1 else ""
        raise ColumnError(
            f"column '{dup.index[0]}' appears {int(dup.iloc[0])} times in {what}{more}; each "
            "column needs its own name. Rename or drop the repeated columns."
        )
    return frame
