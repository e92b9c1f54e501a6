"""A small corpus of awkward tables, generated in memory in CSV, Parquet, XLSX and JSON.

Every file holds what a data steward meets every week and a careless loader damages:
postal codes and phone numbers with leading zeros, 20-digit account numbers (beyond int64
and float64), a column mixing forms (``007``, ``7``, ``x``), infinities, times with UTC
offsets, unicode text and names, quotes and commas, and empty text next to missing values.
Each format gets the table in the form natural to it (Excel has no infinity, JSON has no
dates), so the round-trip test compares like with like.
"""

from __future__ import annotations

import datetime as dt
import io
import json

#: Values the browser test looks for in the preview and in the download.
ZIP = "02134"
ACCOUNT = "12345678901234567890"

#: The CSV, written the way a spreadsheet or a database dump writes it (minimal quoting).
CSV_TEXT = (
    "zip,phone,account,code,ratio,seen,name,note,visits\n"
    f"{ZIP},0049301234567,{ACCOUNT},007,1.5,2024-03-01T10:00:00+01:00,Jürgen Groß,,3\n"
    '00501,+4930987654,12345678901234567891,7,inf,2024-07-01T23:59:59-05:00,李小龍,"",\n'
    "10115,030 1234,98765432109876543210,x,-inf,2024-01-01T00:00:00Z,"
    'Zoë 🙂,"O\'Brien, ""Bob""",12\n'
    "99501,0800-000,00000000000000000001,0.5,0.25,,Ελένη,—,0\n"
)


def csv_bytes() -> bytes:
    """The awkward table as UTF-8 CSV."""
    return CSV_TEXT.encode("utf-8")


def parquet_bytes() -> bytes:
    """The awkward table as Parquet, with the types Arrow can state exactly."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    plus_one = dt.timezone(dt.timedelta(hours=1))
    table = pa.table(
        {
            "zip": pa.array([ZIP, "00501", "10115", "99501"], pa.string()),
            "account": pa.array(
                [ACCOUNT, "12345678901234567891", "98765432109876543210", "00000000000000000001"],
                pa.string(),
            ),
            # Fits uint64 but not int64 (a loader must not wrap it to a negative number).
            "account_u64": pa.array(
                [12345678901234567890, 18446744073709551615, 1, None], pa.uint64()
            ),
            "code": pa.array(["007", "7", "x", None], pa.string()),
            "ratio": pa.array([1.5, float("inf"), float("-inf"), None], pa.float64()),
            "seen": pa.array(
                [
                    dt.datetime(2024, 3, 1, 10, 0, tzinfo=plus_one),
                    dt.datetime(2024, 7, 1, 23, 59, 59, 123456, tzinfo=plus_one),
                    None,
                    dt.datetime(1899, 12, 31, 0, 0, tzinfo=plus_one),
                ],
                pa.timestamp("us", tz="+01:00"),
            ),
            "name": pa.array(["Jürgen Groß", "李小龍", "Zoë 🙂", 'O\'Brien, "Bob"'], pa.string()),
            "note": pa.array(["", None, "—", " "], pa.string()),
            "visits": pa.array([3, None, 12, 0], pa.int64()),
            "member": pa.array([True, None, False, True], pa.bool_()),
        }
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    """The awkward table as an Excel workbook, typed the way people type cells."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "data"
    sheet.append(["zip", "phone", "account", "code", "ratio", "seen", "name", "note", "visits"])
    rows = [
        # Text cells hold the codes; numbers and dates are real Excel numbers and dates.
        [ZIP, "0049301234567", ACCOUNT, "007", 1.5, dt.datetime(2024, 3, 1, 10, 0),
         "Jürgen Groß", None, 3],
        ["00501", "+4930987654", "12345678901234567891", 7, "inf",
         dt.datetime(2024, 7, 1, 23, 59, 59), "李小龍", "", None],
        ["10115", "030 1234", "98765432109876543210", "x", "-inf", None, "Zoë 🙂",
         "O'Brien, \"Bob\"", 12],
        ["99501", "0800-000", "00000000000000000001", 0.5, 0.25, dt.datetime(2023, 12, 31),
         "Ελένη", "—", 0],
    ]  # fmt: skip
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


#: The JSON records (JSON has numbers, text, true/false and null; no dates, no infinity).
JSON_RECORDS = [
    {
        "zip": ZIP,
        "account": int(ACCOUNT),  # a JSON number beyond int64 and float64
        "account_text": ACCOUNT,
        "code": "007",
        "ratio": 1.5,
        "seen": "2024-03-01T10:00:00+01:00",
        "name": "Jürgen Groß",
        "note": "",
        "visits": 3,
    },
    {
        "zip": "00501",
        "account": 12345678901234567891,
        "account_text": "12345678901234567891",
        "code": 7,
        "ratio": 0.1,
        "seen": "2024-07-01T23:59:59-05:00",
        "name": "李小龍",
        "note": None,
        "visits": None,
    },
    {
        "zip": "10115",
        "account": 98765432109876543210,
        "account_text": "98765432109876543210",
        "code": "x",
        "ratio": -2.5e-300,
        "seen": None,
        "name": "Zoë 🙂",
        "note": 'O\'Brien, "Bob"',
        "visits": 12,
    },
]


def json_bytes() -> bytes:
    """The awkward table as a JSON list of records."""
    return json.dumps(JSON_RECORDS, ensure_ascii=False).encode("utf-8")


#: file name -> builder, one per format.
FILES = {
    "awkward.csv": csv_bytes,
    "awkward.parquet": parquet_bytes,
    "awkward.xlsx": xlsx_bytes,
    "awkward.json": json_bytes,
}
