"""Round trip: every cell of every awkward file comes out of a no-op export unchanged.

Each file of the corpus (tests/awkward_corpus.py) is loaded with :func:`core.data.load` and
exported with :func:`core.export.build_download`, the function the Export page calls, in the
same format. CSV must give the same text in every cell; Parquet, XLSX and JSON the same
values (Parquet also the same kind of number: an integer stays an integer).

One rule of the loader shapes what "the same value" means in XLSX and JSON: a column that
mixes numbers and text (``"007"``, ``7``, ``"x"``), or holds integers beyond 64 bits, is
loaded as text so that nothing is rounded or merged. Its numbers come back as text holding
exactly the digits of the source (``7`` -> ``"7"``, ``12345678901234567890`` ->
``"12345678901234567890"``); every other cell must keep its type and value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from decimal import Decimal

import pytest

from core.data import load
from core.export import FORMULA_PREFIXES, build_download
from tests.awkward_corpus import (
    ACCOUNT,
    CSV_TEXT,
    ZIP,
    csv_bytes,
    json_bytes,
    parquet_bytes,
    xlsx_bytes,
)


def _export(data: bytes, name: str, fmt: str, *, neutralize: bool = False) -> bytes:
    frame = load(data, filename=name).frame
    return build_download(frame, fmt, neutralize_formulas_in_csv=neutralize).data


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _digits(number: int | float) -> str:
    """How the loader writes a number of a text column: all its digits, shortest round trip."""
    return str(number) if isinstance(number, int) else repr(float(number))


def _same(a: object, b: object, *, strict_numbers: bool, text_column: bool = False) -> bool:
    """Equal as values: text only equals text, a boolean a boolean, a time the same instant
    with the same offset; numbers compare exactly (no rounding), and with ``strict_numbers``
    an integer only equals an integer. In a column loaded as text, a number of the source
    equals the text of its exact digits."""
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if text_column and isinstance(a, int | float) and not isinstance(a, bool):
        return isinstance(b, str) and b == _digits(a)
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        if strict_numbers and isinstance(a, int) != isinstance(b, int):
            return False
        return a == b
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        if (a.tzinfo is None) != (b.tzinfo is None):
            return False
        return a == b and a.utcoffset() == b.utcoffset()
    return type(a) is type(b) and a == b


def _differences(before, after, *, strict_numbers: bool, text_columns=(), skip=()) -> list[str]:
    """Where two tables (lists of rows, header first) differ, as readable positions."""
    out = []
    if before[0] != after[0]:
        out.append(f"header {before[0]} != {after[0]}")
    if len(before) != len(after):
        out.append(f"{len(before) - 1} rows in, {len(after) - 1} out")
    for r, (row_a, row_b) in enumerate(zip(before[1:], after[1:], strict=False), start=1):
        for c, name in enumerate(before[0]):
            if name in skip:
                continue
            a = row_a[c] if c < len(row_a) else None
            b = row_b[c] if c < len(row_b) else None
            if not _same(a, b, strict_numbers=strict_numbers, text_column=name in text_columns):
                out.append(f"row {r} column {name}: {a!r} -> {b!r}")
    return out


BUILDERS = {
    "awkward.csv": csv_bytes,
    "awkward.parquet": parquet_bytes,
    "awkward.xlsx": xlsx_bytes,
    "awkward.json": json_bytes,
}
#: Whole numbers with a missing value: checked on their own (see the last test).
GAPPED = "visits"


def _text_columns(name: str) -> set[str]:
    """Columns the loader reads as text (their source numbers come back as exact digits)."""
    from core.kinds import column_kinds

    frame = load(BUILDERS[name](), filename=name).frame
    return {k.column for k in column_kinds(frame) if k.kind == "text"}


# --- CSV: the same text in every cell --------------------------------------------------------


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_csv_round_trip_keeps_the_text_of_every_cell():
    out = _export(csv_bytes(), "awkward.csv", "csv").decode("utf-8")
    before, after = _csv_rows(CSV_TEXT), _csv_rows(out)
    assert not _differences(before, after, strict_numbers=True, skip={GAPPED})
    assert ZIP in out and ACCOUNT in out


def test_csv_round_trip_with_formula_neutralization_only_adds_the_quote():
    """The Export page's default: a text cell starting like a formula gets a leading '."""
    out = _export(csv_bytes(), "awkward.csv", "csv", neutralize=True).decode("utf-8")
    before, after = _csv_rows(CSV_TEXT), _csv_rows(out)
    assert before[0] == after[0] and len(before) == len(after)
    gapped = before[0].index(GAPPED)
    quoted = 0
    for row_a, row_b in zip(before[1:], after[1:], strict=True):
        for c, (a, b) in enumerate(zip(row_a, row_b, strict=True)):
            if b != a and c != gapped:
                assert a.startswith(FORMULA_PREFIXES) and b == "'" + a
                quoted += 1
    assert quoted == 1  # the phone number +4930987654; "-inf" is a number and stays


# --- Parquet, XLSX and JSON: the same values --------------------------------------------------


def _parquet_rows(data: bytes) -> list[list[object]]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(data))
    return [table.column_names, *(list(r.values()) for r in table.to_pylist())]


def test_parquet_round_trip_keeps_every_value_and_offset():
    original = parquet_bytes()
    out = _export(original, "awkward.parquet", "parquet")
    before, after = _parquet_rows(original), _parquet_rows(out)
    assert not _differences(before, after, strict_numbers=True, skip={GAPPED})


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    return rows


def test_xlsx_round_trip_keeps_every_value():
    original = xlsx_bytes()
    out = _export(original, "awkward.xlsx", "xlsx")
    text = _text_columns("awkward.xlsx")
    assert {"code", "ratio"} <= text  # mixed numbers and text: loaded as text
    before, after = _xlsx_rows(original), _xlsx_rows(out)
    assert not _differences(before, after, strict_numbers=False, text_columns=text)


def _json_rows(data: bytes) -> list[list[object]]:
    records = json.loads(data)
    header = list(records[0])
    return [header, *([r.get(k) for k in header] for r in records)]


def test_json_round_trip_keeps_every_value():
    original = json_bytes()
    out = _export(original, "awkward.json", "json")
    text = _text_columns("awkward.json")
    assert {"code", "account"} <= text  # mixed kinds; integers past 64 bits
    before, after = _json_rows(original), _json_rows(out)
    assert not _differences(before, after, strict_numbers=False, text_columns=text)


@pytest.mark.parametrize("name", ["awkward.csv", "awkward.parquet"])
def test_whole_numbers_with_a_missing_value_keep_their_form(name):
    """``3``, missing, ``12`` must not come back as ``3.0`` (CSV text) or as doubles
    (Parquet type): an integer column with a gap has to load as a nullable integer."""
    original = BUILDERS[name]()
    out = _export(original, name, name.rsplit(".", 1)[1])
    if name.endswith(".csv"):
        before, after = _csv_rows(CSV_TEXT), _csv_rows(out.decode("utf-8"))
    else:
        before, after = _parquet_rows(original), _parquet_rows(out)
    others = set(before[0]) - {GAPPED}
    assert not _differences(before, after, strict_numbers=True, skip=others)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_identifiers_load_as_text_unchanged(name):
    """What the Data page previews: postal codes and 20-digit IDs exactly as in the file."""
    frame = load(BUILDERS[name](), filename=name).frame
    assert frame["zip"].tolist()[:2] == [ZIP, "00501"]
    account = "account_text" if name == "awkward.json" else "account"
    assert frame[account].tolist()[:2] == [ACCOUNT, "12345678901234567891"]
    assert frame[account].nunique() == len(frame)  # distinct IDs stay distinct


@pytest.mark.parametrize("name", list(BUILDERS))
def test_the_data_page_can_profile_every_awkward_file(name):
    """Loading on the Data page profiles the table and suggests roles; times with different
    UTC offsets kept as text must not crash the date sniffing."""
    from core.profile import profile_frame
    from core.roles import suggest_roles

    frame = load(BUILDERS[name](), filename=name).frame
    profiles = profile_frame(frame)
    assert [p.name for p in profiles] == list(frame.columns)
    assert set(suggest_roles(profiles)) == set(frame.columns)
