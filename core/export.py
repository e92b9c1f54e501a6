"""Export a (hardened) table as CSV, Parquet, XLSX or JSON, alone or as a bundle, encrypted or not.

Spreadsheet formula injection
-----------------------------
A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula when a CSV file is opened in a spreadsheet (OWASP "CSV injection"). By default the
CSV export prefixes such text cells with a single quote ``'``, which spreadsheets show as text;
numeric columns are never touched (a negative number is a number). Pass
``neutralize_formulas=False`` to write the text unchanged, for tools that read CSV as data.
XLSX cells are always written with the string type, so no text is ever stored as a formula.

>>> import pandas as pd
>>> f = export_table(pd.DataFrame({"a": ["=1+1", "ok"], "n": [-1, 2]}), "csv")
>>> f.data.decode().splitlines()
['a,n', "'=1+1,-1", 'ok,2']
>>> f.neutralized_cells
1
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.errors import InvalidParameterError

FORMATS = ("csv", "parquet", "xlsx", "json")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_MIME = {
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "zip": "application/zip",
    "encrypted": "application/octet-stream",
}
#: Excel's sheet size.
XLSX_MAX_ROWS = 1_048_575


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportFile:
    """Bytes ready for download, with their name and type.

    Attributes
    ----------
    neutralized_cells : int
        Text cells prefixed with ``'`` against formula injection (CSV only).
    """

    data: bytes
    filename: str
    mime: str
    neutralized_cells: int = 0


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c].dtype)
        or pd.api.types.is_string_dtype(frame[c].dtype)
        or isinstance(frame[c].dtype, pd.CategoricalDtype)
    ]


def neutralize_formulas(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Prefix text cells that a spreadsheet would run as a formula with ``'``.

    Returns the new frame and the number of cells changed. Numeric, boolean and date columns
    are left as they are.
    """
    out = frame.copy()
    changed = 0
    for col in _text_columns(frame):
        s = frame[col]
        text = s.astype("string")
        hit = text.str.startswith(FORMULA_PREFIXES).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            n = int(hit.sum())
            changed += n
            values = np.array(text.astype(object).to_numpy(), dtype=object)
            values[hit] = np.char.add("'", values[hit].astype(str)).astype(object)
            out[col] = pd.Series(values, index=s.index, dtype=object).where(s.notna(), None)
    return out, changed


def export_table(
    frame: pd.DataFrame,
    fmt: str,
    *,
    name: str = "privlens-export",
    neutralize_formulas_in_csv: bool = True,
) -> ExportFile:
    """Serialize ``frame`` in ``fmt`` (one of :data:`FORMATS`).

    Raises
    ------
    InvalidParameterError
        For an unknown format, or an XLSX export over Excel's row limit.
    """
    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"format must be one of {', '.join(FORMATS)}; got {fmt!r}. Pick one of those."
        )
    neutralized = 0
    buf = io.BytesIO()
    if fmt == "csv":
        data = frame
        if neutralize_formulas_in_csv:
            data, neutralized = neutralize_formulas(frame)
        data.to_csv(buf, index=False, lineterminator="\n")
    elif fmt == "parquet":
        frame.to_parquet(buf, index=False)
    elif fmt == "xlsx":
        _write_xlsx(frame, buf)
    else:
        buf.write(
            frame.to_json(orient="records", date_format="iso", force_ascii=False).encode("utf-8")
        )
    return ExportFile(
        data=buf.getvalue(),
        filename=f"{name}.{fmt}",
        mime=_MIME[fmt],
        neutralized_cells=neutralized,
    )


def _write_xlsx(frame: pd.DataFrame, buf: io.BytesIO) -> None:
    """Write with every text cell typed as a string, so nothing becomes a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if len(frame) > XLSX_MAX_ROWS:
        raise InvalidParameterError(
            f"Excel sheets hold at most {XLSX_MAX_ROWS:,} data rows; this table has "
            f"{len(frame):,}. Export as CSV or Parquet instead."
        )
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    header = []
    for col in frame.columns:
        cell = WriteOnlyCell(sheet, value=str(col))
        cell.data_type = "s"
        header.append(cell)
    sheet.append(header)
    columns = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            columns.append([None if pd.isna(v) else v.to_pydatetime() for v in s])
        else:
            columns.append(s.astype(object).where(s.notna(), None).tolist())
    for row in zip(*columns, strict=True):
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # never "f" (formula), whatever the text starts with
                cells.append(cell)
            elif isinstance(value, (np.integer, np.floating, np.bool_)):
                cells.append(value.item())
            else:
                cells.append(value)
        sheet.append(cells)
    book.save(buf)


def export_bundle(
    frame: pd.DataFrame,
    fmt: str,
    *,
    name: str = "privlens-export",
    recipe_json: str | None = None,
    report_html: str | None = None,
    report_json: str | None = None,
    neutralize_formulas_in_csv: bool = True,
) -> ExportFile:
    """A zip of the table, the recipe that produced it and the privacy report.

    The recipe never holds secrets (keys are kept out of recipes by construction), so the
    bundle can travel with the data.
    """
    table = export_table(
        frame, fmt, name=name, neutralize_formulas_in_csv=neutralize_formulas_in_csv
    )
    buf = io.BytesIO()
    stamp = datetime.now(UTC).timetuple()[:6]
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        entries = [(table.filename, table.data)]
        if recipe_json is not None:
            entries.append(("recipe.json", recipe_json.encode("utf-8")))
        if report_json is not None:
            entries.append(("report.json", report_json.encode("utf-8")))
        if report_html is not None:
            entries.append(("report.html", report_html.encode("utf-8")))
        manifest = {
            "created_by": "PrivLens",
            "files": [e[0] for e in entries],
            "rows": int(len(frame)),
            "columns": [str(c) for c in frame.columns],
        }
        entries.append(("manifest.json", json.dumps(manifest, indent=2).encode("utf-8")))
        for filename, data in entries:
            info = zipfile.ZipInfo(filename, date_time=stamp)  # type: ignore[arg-type]
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return ExportFile(
        data=buf.getvalue(),
        filename=f"{name}.zip",
        mime=_MIME["zip"],
        neutralized_cells=table.neutralized_cells,
    )


def encrypt_export(
    file: ExportFile,
    *,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    work_factor: int | None = None,
) -> ExportFile:
    """Encrypt an export with a passphrase or a key (PrivLens format), or as an age file.

    The encrypted file is named after the plaintext with ``.plenc`` (or ``.age``) appended,
    so decryption restores the original name.
    """
    from core import crypto

    kwargs = {} if work_factor is None else {"work_factor": work_factor}
    if age:
        if passphrase is None:
            raise InvalidParameterError(
                "An age file needs a passphrase; got none. Enter a passphrase, or choose the "
                "PrivLens format to encrypt with a generated key."
            )
        out = io.BytesIO()
        crypto.age_encrypt(file.data, out, passphrase=passphrase, **kwargs)
        return ExportFile(
            data=out.getvalue(), filename=file.filename + ".age", mime=_MIME["encrypted"]
        )
    blob = crypto.encrypt_bytes(file.data, passphrase=passphrase, key=key, **kwargs)
    return ExportFile(
        data=blob,
        filename=file.filename + ".plenc",
        mime=_MIME["encrypted"],
        neutralized_cells=file.neutralized_cells,
    )


def build_download(
    frame: pd.DataFrame,
    fmt: str,
    *,
    bundle: bool = False,
    neutralize_formulas_in_csv: bool = True,
    recipe_json: str | None = None,
    report: Any | None = None,
    passphrase: str | None = None,
    key: bytes | None = None,
    age: bool = False,
    name: str = "privlens-export",
) -> ExportFile:
    """The whole export in one call: table or bundle, then encryption if a secret is given.

    ``report`` is a :class:`core.report.PrivacyReport` (its HTML and JSON go in the bundle).
    With neither ``passphrase`` nor ``key`` the file is not encrypted.
    """
    if bundle:
        f = export_bundle(
            frame,
            fmt,
            name=name,
            recipe_json=recipe_json,
            report_html=report.to_html() if report is not None else None,
            report_json=report.to_json() if report is not None else None,
            neutralize_formulas_in_csv=neutralize_formulas_in_csv,
        )
    else:
        f = export_table(
            frame, fmt, name=name, neutralize_formulas_in_csv=neutralize_formulas_in_csv
        )
    if passphrase is None and key is None:
        return f
    return encrypt_export(f, passphrase=passphrase, key=key, age=age)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildEstimate:
    """Expected size and build time of a download, measured on a sample of its rows.

    Attributes
    ----------
    rows : int
        Rows of the table.
    bytes : int
        Estimated size of the file (encryption adds 16 bytes per MiB and a 162-byte header).
    seconds : float
        Estimated build time on this machine, encryption and scrypt included.
    sample_rows, sample_seconds
        Rows actually serialized and how long that took (what the estimate scales up).
    """

    rows: int
    bytes: int
    seconds: float
    sample_rows: int
    sample_seconds: float
    warnings: tuple[str, ...] = ()


def estimate_build(
    frame: pd.DataFrame,
    fmt: str,
    *,
    bundle: bool = False,
    encrypted: bool = False,
    passphrase: bool = False,
    work_factor: int | None = None,
    sample_rows: int | None = None,
) -> BuildEstimate:
    """Estimate the size and build time of :func:`build_download` before running it.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to export.
    fmt : str
        One of :data:`FORMATS`.
    bundle : bool
        Zip it (the report's fixed size is not counted).
    encrypted, passphrase : bool
        Count AES-256-GCM over the output, and one scrypt derivation.
    work_factor : int, optional
        scrypt log2 N (default ``SCRYPT_WORK_FACTOR_DEFAULT``).
    sample_rows : int, optional
        Rows to serialize (default ``EXPORT_ESTIMATE_SAMPLE_ROWS``), evenly spaced.

    Returns
    -------
    BuildEstimate

    Raises
    ------
    InvalidParameterError
        An unknown format, or ``sample_rows`` below 1.

    Notes
    -----
    Size and time are linear in the rows for these formats: ``bytes = s_b * n / m`` and
    ``seconds = s_t * n / m`` where a sample of ``m`` rows serialized to ``s_b`` bytes in
    ``s_t`` seconds (the better of two timings). Encryption is timed on the sample's bytes
    and scaled the same way; scrypt is timed at log2 N = 10 and scaled by
    ``2 ** (work_factor - 10)`` (its cost is linear in N). The time is measured on this
    machine at the time of the call, so it follows the machine's load;
    ``benchmarks/export_bench.py`` compares it with full builds.

    Examples
    --------
    >>> e = estimate_build(pd.DataFrame({"a": ["xy"] * 1000}), "csv", sample_rows=100)
    >>> (e.rows, e.sample_rows, e.bytes)  # the real file has 3,002 bytes (header + 1000 x 3)
    (1000, 100, 3020)
    """
    from core import crypto
    from core.limits import EXPORT_ESTIMATE_SAMPLE_ROWS, SCRYPT_WORK_FACTOR_DEFAULT

    if fmt not in FORMATS:
        raise InvalidParameterError(
            f"format must be one of {', '.join(FORMATS)}; got {fmt!r}. Pick one of those."
        )
    m = EXPORT_ESTIMATE_SAMPLE_ROWS if sample_rows is None else sample_rows
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise InvalidParameterError(f"sample_rows must be a positive integer; got {m!r}.")
    n = len(frame)
    m = min(m, n) or 1
    step = max(1, n // m)
    sample = frame.iloc[::step].iloc[:m] if n else frame
    spent = float("inf")
    for _ in range(2):  # best of two: a single timing on a shared machine is noisy
        start = time.perf_counter()
        data = (export_bundle if bundle else export_table)(sample, fmt).data
        spent = min(spent, time.perf_counter() - start)
    scale = n / max(len(sample), 1)
    size = int(round(len(data) * scale)) if n else len(data)
    seconds = spent * scale
    if encrypted:
        start = time.perf_counter()
        crypto.encrypt_bytes(data, key=bytes(32))
        seconds += (time.perf_counter() - start) * scale
        size += crypto.HEADER_BYTES + crypto.TAG_BYTES * (size // 2**20 + 1)
    if passphrase:
        from Crypto.Protocol.KDF import scrypt

        w = SCRYPT_WORK_FACTOR_DEFAULT if work_factor is None else work_factor
        start = time.perf_counter()
        scrypt(b"estimate", b"estimate-salt", 32, 1 << 10, 8, 1)
        seconds += (time.perf_counter() - start) * 2 ** (w - 10)
    return BuildEstimate(
        rows=n, bytes=size, seconds=seconds, sample_rows=len(sample), sample_seconds=spent
    )
