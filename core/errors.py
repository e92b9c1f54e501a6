"""Every exception PrivLens raises, with messages written for the person at the screen.

A message says what is wrong, what we got, and what to do. It names columns, counts and
sizes, never a cell value, so an error can be shown or logged without leaking data.

Exception tree::

    PrivLensError                      base of everything below; pages catch only this
    ├── DataLoadError (ValueError)     a file could not be read as a table
    │   ├── EmptyFileError             zero bytes, or only blank lines
    │   ├── HeaderOnlyError            a header row but no data rows
    │   ├── RaggedRowsError            a row with more fields than the header
    │   ├── EncodingError              bytes that decode in no supported encoding
    │   ├── BinaryFileError            a binary file under a text extension
    │   ├── UnsupportedFormatError     an extension we do not read
    │   ├── FileTooLargeError          over the configured upload limit
    │   ├── NoSheetsError              a workbook with no usable sheet
    │   ├── CorruptFileError           a damaged Parquet/XLSX container
    │   ├── NotATableError             JSON that is not a list of records or columns
    │   └── ResourceLimitError         a table larger than an intake limit (rows, cells, ...)
    ├── InvalidParameterError (ValueError)   an argument outside its allowed range
    │   └── BudgetExceededError        a DP release that would overspend the privacy budget
    ├── ColumnError (KeyError)         a column that is missing or of the wrong kind
    ├── CastError (ValueError)         a column whose values do not fit the kind asked for
    ├── RecipeError (ValueError)       a hardening recipe that does not validate
    ├── HierarchyError (ValueError)    a generalization hierarchy that does not validate
    ├── WeightsError (ValueError)      a model weights file or weights recipe that cannot be used
    ├── WorkspaceError (ValueError)    saved work that cannot be stored, found or restored
    │   ├── WorkspaceNotFoundError     no workspace for this token (wrong, expired or deleted)
    │   ├── StoreVersionError          a database written by a newer PrivLens
    │   └── ProjectMismatchError       a project file made on a different table
    ├── EngineError (RuntimeError)     a large-data engine (DuckDB, Spark) could not run a query
    ├── SourceNotAllowedError (PermissionError)  a large-data path outside the server's allow-list
    └── DecryptionError (ValueError)   a file that cannot be decrypted
        ├── WrongKeyError              wrong passphrase or key
        ├── TamperedDataError          authentication failed on the data
        │   └── ReorderedChunksError   chunks moved, repeated or removed
        ├── TruncatedFileError         the stream ends early
        ├── UnknownFormatError         not a PrivLens / age file, or an unknown version
        └── WorkFactorError            the scrypt work factor is above the cap
"""

from __future__ import annotations


class PrivLensError(Exception):
    """Base class of every PrivLens error; its ``str`` is a user-facing message."""


# --- data intake ---------------------------------------------------------------------------


class DataLoadError(PrivLensError, ValueError):
    """A file could not be read as a table."""


class EmptyFileError(DataLoadError):
    """The file has no content."""

    def __init__(self, name: str = "the file") -> None:
        super().__init__(
            f"{name} is empty (0 data bytes). Choose a file that contains a header row and "
            "at least one data row."
        )


class HeaderOnlyError(DataLoadError):
    """The file has a header row but no data rows."""

    def __init__(self, n_columns: int) -> None:
        super().__init__(
            f"The file has a header with {n_columns} column(s) but no data rows. "
            "Add at least one row of data, or pick another file."
        )


class RaggedRowsError(DataLoadError):
    """A row has a different number of fields from the header."""

    def __init__(self, line: int, expected: int, got: int) -> None:
        self.line = line
        super().__init__(
            f"Line {line} has {got} fields but the header has {expected}. Check that line for "
            "an unquoted delimiter or a missing quote, or choose the right delimiter."
        )


class EncodingError(DataLoadError):
    """Bytes that decode in none of the supported text encodings."""

    def __init__(self, tried: tuple[str, ...]) -> None:
        super().__init__(
            "The file's text could not be decoded (tried "
            + ", ".join(tried)
            + "). Save it as UTF-8 (in Excel: 'CSV UTF-8') and upload it again."
        )


class BinaryFileError(DataLoadError):
    """A binary file given under a text-format extension."""

    def __init__(self, extension: str) -> None:
        super().__init__(
            f"This file has the extension '{extension}' but its content is binary, not text. "
            "If it is a spreadsheet or Parquet file, give it its real extension "
            "(.xlsx, .parquet); otherwise export it as CSV first."
        )


class UnsupportedFormatError(DataLoadError):
    """An extension PrivLens does not read."""

    def __init__(self, extension: str, supported: tuple[str, ...]) -> None:
        shown = extension or "(none)"
        super().__init__(
            f"Files of type '{shown}' are not supported. Use one of: " + ", ".join(supported) + "."
        )


class FileTooLargeError(DataLoadError):
    """The file is larger than the configured limit."""

    def __init__(self, size_bytes: int, limit_bytes: int) -> None:
        super().__init__(
            f"The file is {size_bytes / 2**20:,.1f} MiB, above the limit of "
            f"{limit_bytes / 2**20:,.0f} MiB. Upload a smaller extract (for example a sample "
            "of rows or fewer columns), or raise the limit as the README explains."
        )


class NoSheetsError(DataLoadError):
    """A workbook without any sheet that holds data."""

    def __init__(self) -> None:
        super().__init__(
            "The workbook has no sheet with data. Put the table on a sheet (header in the "
            "first row) and save it again."
        )


class CorruptFileError(DataLoadError):
    """A damaged binary container (Parquet, XLSX)."""

    def __init__(self, kind: str) -> None:
        super().__init__(
            f"The {kind} file is damaged or incomplete and could not be read. Export it "
            "again from its source, or upload it as CSV."
        )


class NotATableError(DataLoadError):
    """JSON content that is not a table."""

    def __init__(self, found: str) -> None:
        super().__init__(
            f"The JSON holds {found}, not a table. Use a list of records "
            '([{"col": value, ...}, ...]), an object of equal-length column lists, '
            "or JSON Lines (one record per line)."
        )


class ResourceLimitError(DataLoadError):
    """A file whose table would exceed an intake limit of ``core.limits``.

    Raised before the table is materialized. ``limit`` names the setting (for example
    ``"MAX_ROWS"``), which a deployment raises with the environment variable
    ``PRIVLENS_<limit>``.
    """

    def __init__(self, what: str, got: str, limit: str, allowed: int) -> None:
        self.limit = limit
        super().__init__(
            f"The file {what} ({got}), above the limit of {allowed:,} ({limit}). Upload a "
            "smaller extract (fewer rows or columns), or ask the operator to raise the limit "
            f"with the environment variable PRIVLENS_{limit}."
        )


class EngineError(PrivLensError, RuntimeError):
    """A large-data engine (DuckDB, Spark) could not run a query: out of memory or disk, or
    an internal failure. The message says which engine and what to change."""


class SourceNotAllowedError(PrivLensError, PermissionError):
    """A large-data path that is not under a directory the server's operator allowed."""


# --- parameters and columns ----------------------------------------------------------------


class InvalidParameterError(PrivLensError, ValueError):
    """An argument outside its allowed range; the message names the range and the value."""


class BudgetExceededError(InvalidParameterError):
    """A differentially private release that would take the total past the privacy budget."""


class ColumnError(PrivLensError, KeyError):
    """A column that is missing, or of a kind the operation cannot use."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class CastError(PrivLensError, ValueError):
    """A column cast to a kind its values do not fit (counts of bad values, never the values)."""


class RecipeError(PrivLensError, ValueError):
    """A hardening recipe that does not validate."""


class HierarchyError(PrivLensError, ValueError):
    """A generalization hierarchy that is malformed or does not cover its column.

    The message lists every problem found (line and level numbers, counts), never a value.
    """


class WeightsError(PrivLensError, ValueError):
    """A model weights file that cannot be read safely, or a weights recipe that does not apply.

    Raised for pickle-based formats (refused: loading them runs code), damaged or lying
    headers, files above the weights limits of ``core.limits`` and tensors a step cannot take.
    The message names tensors, shapes, dtypes and sizes, never a weight value.
    """


# --- workspaces and projects ---------------------------------------------------------------


class WorkspaceError(PrivLensError, ValueError):
    """Saved work (workspace, project file, budget database) that cannot be used."""


class WorkspaceNotFoundError(WorkspaceError):
    """No workspace answers this token: it is wrong, expired or was deleted."""


class StoreVersionError(WorkspaceError):
    """The database's schema is newer than this PrivLens knows."""


class ProjectMismatchError(WorkspaceError):
    """A project file whose data fingerprint does not match the loaded table."""


# --- decryption ----------------------------------------------------------------------------


class DecryptionError(PrivLensError, ValueError):
    """A file that cannot be decrypted; no plaintext is ever returned with it."""


class WrongKeyError(DecryptionError):
    """The passphrase or key does not open the file."""


class TamperedDataError(DecryptionError):
    """Authentication of the data failed."""


class TruncatedFileError(DecryptionError):
    """The encrypted stream ends before its last chunk."""


class UnknownFormatError(DecryptionError):
    """Not a file PrivLens can decrypt, or a version it does not know."""


class WorkFactorError(DecryptionError):
    """The key-derivation work factor in the header is above the cap."""


class ReorderedChunksError(TamperedDataError):
    """A chunk of the encrypted stream is authentic but sits at the wrong position."""
