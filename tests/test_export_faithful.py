"""Export keeps what it was given: every format writes the table faithfully or refuses.

A refusal comes before anything is written, as a ``PrivLensError`` that names the column and
the reason and offers another way; it never carries a cell value, and nothing with a cell
value reaches a log or standard error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from core.errors import ColumnError, InvalidParameterError, PrivLensError
from core.export import (
    FORMATS,
    build_download,
    check_exportable,
    estimate_build,
    export_bundle,
    export_table,
)

SECRET = "s3cretVal"  # a cell value that must never appear in a message or a log
BIG = 2**64 + 12345  # past every 64-bit integer type

BERLIN = pd.to_datetime(["2024-03-01 10:00:00.0", None, "2024-07-01 23:59:59.5"]).tz_localize(
    "Europe/Berlin"
)


def _refusal(frame: pd.DataFrame, fmt: str) -> PrivLensError:
    with pytest.raises(PrivLensError) as info:
        export_table(frame, fmt)
    return info.value


# --- Parquet -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([1, SECRET, 2], "mixes"),  # numbers and text in one column (ArrowInvalid)
        ([True, 2, SECRET], "mixes"),  # booleans, numbers and text
        ([BIG, 1], "64-bit"),  # a Python int past uint64 (OverflowError)
        ([2**63 + 1, 1], "64-bit"),  # past int64 (OverflowError)
        ([2**62 + 1, 1.5], "exactly"),  # an int that a double cannot hold, next to a decimal
        ([dt.datetime(2000, 1, 1), 0], "mixes"),  # Arrow would read 0 as 1970-01-01
    ],
)
def test_parquet_refuses_columns_it_cannot_store_and_names_them(values, reason):
    frame = pd.DataFrame({"ok": range(len(values)), "acct": pd.Series(values, dtype=object)})
    exc = _refusal(frame, "parquet")
    msg = str(exc)
    assert isinstance(exc, ColumnError | InvalidParameterError)
    assert "'acct'" in msg and reason in msg and "CSV" in msg and "text" in msg
    assert SECRET not in msg and str(BIG) not in msg and str(2**63 + 1) not in msg
    assert exc.__cause__ is None and exc.__context__ is None  # no Arrow text rides along


def test_parquet_writes_text_unsigned_and_timezones_faithfully():
    frame = pd.DataFrame(
        {
            "id": ["12345678901234567890", "00501", None],
            "u": np.array([2**63 + 5, 0, 7], dtype="uint64"),
            "when": BERLIN,
            "x": [np.inf, -np.inf, np.nan],
        }
    )
    back = pd.read_parquet(io.BytesIO(export_table(frame, "parquet").data))
    pd.testing.assert_frame_equal(back, frame)


# --- XLSX ----------------------------------------------------------------------------------


def _xlsx_values(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def test_xlsx_writes_timezone_aware_datetimes_as_iso_text_with_their_offset():
    frame = pd.DataFrame(
        {
            "when": BERLIN,
            "obj": pd.Series(
                [dt.datetime(2024, 1, 1, 8, tzinfo=dt.UTC), None, dt.datetime(2024, 1, 2)],
                dtype=object,
            ),
        }
    )
    rows = _xlsx_values(export_table(frame, "xlsx").data)
    assert rows[0] == ["when", "obj"]
    assert [r[0] for r in rows[1:]] == [
        "2024-03-01T10:00:00+01:00",
        None,
        "2024-07-01T23:59:59.500000+02:00",
    ]
    assert [r[1] for r in rows[1:]] == [
        "2024-01-01T08:00:00+00:00",
        None,
        dt.datetime(2024, 1, 2),  # a naive datetime stays a date cell
    ]


def test_xlsx_keeps_sub_millisecond_times_as_text_rather_than_rounding_them():
    times = pd.to_datetime(["2024-01-01 10:00:00.123456789", None])
    frame = pd.DataFrame({"t": times, "k": [1, 2]})
    rows = _xlsx_values(export_table(frame, "xlsx").data)  # no "discarding nanoseconds" warning
    assert rows[1:] == [["2024-01-01T10:00:00.123456789", 1], [None, 2]]


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        (["ok", "a\x01" + SECRET], "control character"),  # openpyxl IllegalCharacterError
        (["ok", SECRET + "\x1b[31m"], "control character"),  # an escape sequence
        (["ok", "line\r" + SECRET], "carriage return"),  # XML would turn it into a line feed
        (["ok", SECRET * 4000], "32,767"),  # longer than an Excel cell holds
        ([1.5, np.inf], "infinit"),  # Excel has no infinity
        ([1, 10**15 + 1], "15 significant digits"),  # Excel keeps 15 digits of a number
        (pd.Series([1, BIG], dtype=object), "15 significant digits"),
        (pd.Series([1, {"k": SECRET}], dtype=object), "dict"),  # a nested object
    ],
)
def test_xlsx_refuses_values_a_sheet_cannot_hold_naming_the_column(column, reason):
    frame = pd.DataFrame({"fine": [1, 2], "notes": column})
    exc = _refusal(frame, "xlsx")
    msg = str(exc)
    assert "'notes'" in msg and reason in msg and "CSV" in msg
    assert SECRET not in msg and str(BIG) not in msg and "\x01" not in msg
    assert exc.__context__ is None


def test_xlsx_refuses_a_control_character_in_a_column_name_without_printing_it():
    msg = str(_refusal(pd.DataFrame({"a\x01b": [1]}), "xlsx"))
    assert "column 1" in msg and "\x01" not in msg and "name" in msg


def test_xlsx_keeps_text_numbers_and_dates_it_can_hold():
    frame = pd.DataFrame(
        {
            "zip": ["02134", "00501"],
            "n": [10**15 - 1, -(10**15 - 1)],
            "x": [0.1, np.nan],
            "d": pd.to_datetime(["2024-01-02 03:04:05.678", "1999-12-31 00:00:00.000"]),
            "b": [True, False],
        }
    )
    rows = _xlsx_values(export_table(frame, "xlsx").data)
    assert rows[1] == ["02134", 10**15 - 1, 0.1, dt.datetime(2024, 1, 2, 3, 4, 5, 678000), True]
    assert rows[2] == ["00501", -(10**15 - 1), None, dt.datetime(1999, 12, 31), False]


# --- JSON ----------------------------------------------------------------------------------


def test_json_refuses_infinities_instead_of_writing_null():
    msg = str(_refusal(pd.DataFrame({"ratio": [1.0, -np.inf]}), "json"))
    assert "'ratio'" in msg and "infinit" in msg and "CSV" in msg


def test_json_keeps_big_integers_and_every_digit_of_a_time():
    frame = pd.DataFrame(
        {
            "acct": pd.Series([BIG, 1], dtype=object),
            "t": pd.to_datetime(["2024-01-01 10:00:00.123456789", None]),
        }
    )
    records = json.loads(export_table(frame, "json").data)
    assert records[0]["acct"] == BIG
    assert pd.Timestamp(records[0]["t"]) == frame["t"][0]
    assert records[1]["t"] is None


# --- every format --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("frame", "match"),
    [
        (pd.DataFrame([[1, 2]], columns=["a", "a"]), "appears 2 times"),
        (pd.DataFrame([[1, 2]]), "names must be text"),
        (pd.DataFrame([[1, 2]], columns=["a", 3]), "names must be text"),
    ],
)
def test_duplicate_and_non_text_column_names_get_a_column_error(fmt, frame, match):
    with pytest.raises(ColumnError, match=match):
        export_table(frame, fmt)
    with pytest.raises(ColumnError, match=match):
        export_bundle(frame, fmt)
    with pytest.raises(ColumnError, match=match):
        check_exportable(frame, fmt)
    with pytest.raises(ColumnError, match=match):
        estimate_build(frame, fmt)


def test_check_exportable_refuses_up_front_and_accepts_what_exports():
    mixed = pd.DataFrame({"m": pd.Series([1, "x"], dtype=object)})
    check_exportable(mixed, "csv")  # CSV holds anything as text
    check_exportable(mixed, "xlsx")
    check_exportable(mixed, "json")
    with pytest.raises(PrivLensError, match="'m'"):
        check_exportable(mixed, "parquet")
    with pytest.raises(PrivLensError, match="'m'"):
        build_download(mixed, "parquet", bundle=True)


# --- CSV: formula injection in names and cells, RFC 4180 line ends --------------------------


def _csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_a_carriage_return_never_starts_a_new_row():
    f = export_table(pd.DataFrame({"a": ["x\r=10+1", "y\n@cmd"]}), "csv")
    rows = _csv_rows(f.data)
    assert rows == [["a"], ["x\r=10+1"], ["y\n@cmd"]]  # one row per record, values intact
    assert f.data == b'a\r\n"x\r=10+1"\r\n"y\n@cmd"\r\n'  # quoted, CRLF line ends


def test_the_header_row_is_neutralized_too():
    frame = pd.DataFrame({"=2+3": ["ok"], "-x": [1], "@h": ["=1+1"], "\tt": [2], "plain": [3]})
    f = export_table(frame, "csv")
    rows = _csv_rows(f.data)
    assert rows[0] == ["'=2+3", "'-x", "'@h", "'\tt", "plain"]
    assert rows[1] == ["ok", "1", "'=1+1", "2", "3"]
    assert f.neutralized_cells == 5  # four names and one cell
    for row in rows:
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row)
    # switched off, names and cells are written as they are
    off = export_table(frame, "csv", neutralize_formulas_in_csv=False)
    assert _csv_rows(off.data)[0][0] == "=2+3" and off.neutralized_cells == 0


def test_a_formula_column_name_and_a_cr_cell_read_back_as_one_harmless_row():
    frame = pd.DataFrame({"a": ["x\r=10+1"], "=2+3": ["v"]})
    rows = _csv_rows(export_table(frame, "csv").data)
    assert len(rows) == 2  # header and one data row
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for v in row)
    back = pd.read_csv(io.BytesIO(export_table(frame, "csv").data), dtype=str)
    assert back.shape == (1, 2) and back["a"][0] == "x\r=10+1"


# --- names of files in a bundle and of downloads -------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../../evil",
        "..\\..\\evil",
        "/etc/passwd",
        "C:evil",
        "a/b",
        "..",
        ".",
        "",
        "x\x00y",
        "evil\n",
        " ",
    ],
)
def test_export_names_must_be_plain_base_names(name):
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(InvalidParameterError, match="plain file name"):
        export_bundle(frame, "csv", name=name)
    with pytest.raises(InvalidParameterError, match="plain file name"):
        export_table(frame, "csv", name=name)


def test_a_plain_name_names_the_zip_entry():
    f = export_bundle(pd.DataFrame({"a": [1]}), "csv", name="hardened-2024.v2")
    assert zipfile.ZipFile(io.BytesIO(f.data)).namelist()[0] == "hardened-2024.v2.csv"


# --- nothing with a cell value reaches a log or standard error ------------------------------

FAILING = [
    (pd.DataFrame({"c": pd.Series([1, SECRET], dtype=object)}), "parquet"),
    (pd.DataFrame({"c": pd.Series([SECRET, 2**64 + 7], dtype=object)}), "parquet"),
    (pd.DataFrame({"c": ["a\x01" + SECRET]}), "xlsx"),
    (pd.DataFrame({"c": [SECRET], "d": [np.inf]}), "xlsx"),
    (pd.DataFrame({"c": [SECRET], "d": [np.inf]}), "json"),
    (pd.DataFrame({"c": pd.Series([{"k": SECRET}], dtype=object)}), "xlsx"),
]


@pytest.mark.parametrize(("frame", "fmt"), FAILING)
@pytest.mark.parametrize("bundle", [False, True])
def test_failing_exports_log_and_print_no_cell_value(frame, fmt, bundle, caplog, capfd):
    caplog.set_level(logging.DEBUG)  # root logger
    caplog.set_level(logging.DEBUG, logger="streamlit")
    with pytest.raises(PrivLensError) as info:
        build_download(frame, fmt, bundle=bundle)
    out, err = capfd.readouterr()
    seen = "\n".join([caplog.text, out, err, str(info.value), repr(info.value)])
    assert SECRET not in seen and str(2**64 + 7) not in seen


def test_categorical_columns_are_checked_per_category_and_written_per_cell():
    cats = pd.Series(["b", None, "a", "b"], dtype="category")
    frame = pd.DataFrame({"c": cats, "n": range(4)})
    rows = _xlsx_values(export_table(frame, "xlsx").data)
    assert [r[0] for r in rows[1:]] == ["b", None, "a", "b"]
    bad = pd.DataFrame({"c": pd.Series(["ok", "x\x02", "x\x02"], dtype="category")})
    with pytest.raises(ColumnError, match="'c' unchanged: 2 cell"):
        export_table(bad, "xlsx")


def test_neutralize_formulas_handles_repeated_names_column_by_column():
    from core.export import neutralize_formulas

    frame = pd.DataFrame([["=1", "ok"]], columns=["a", "a"])
    out, n = neutralize_formulas(frame)
    assert n == 1 and out.iloc[0].tolist() == ["'=1", "ok"]


# --- any column: a faithful file or a clean refusal -----------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_KINDS = [
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=6).map(lambda t: "VAL" + t),
    st.datetimes(timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=5))])),
]
_CELLS = st.one_of(st.none(), *_KINDS)


@st.composite
def _frames(draw):
    n_rows = draw(st.integers(min_value=1, max_value=5))
    n_cols = draw(st.integers(min_value=1, max_value=3))
    columns = {}
    for j in range(n_cols):
        # one kind per column (what a loader makes), or any mix (a direct API call)
        if draw(st.booleans()):
            cells = _CELLS
        else:
            cells = st.one_of(st.none(), draw(st.sampled_from(_KINDS)))
        values = draw(st.lists(cells, min_size=n_rows, max_size=n_rows))
        columns[f"c{j}"] = pd.Series(values, dtype=object).infer_objects()
    return pd.DataFrame(columns)


def _values_as_text(frame: pd.DataFrame) -> set[str]:
    out = set()
    for v in frame.to_numpy().ravel().tolist():
        if isinstance(v, str) and len(v) > 3:
            out.add(v)
        elif isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 10**5:
            out.add(str(v))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@given(frame=_frames())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_column_is_written_or_refused_without_its_values(fmt, frame):
    try:
        f = export_table(frame, fmt)
    except PrivLensError as exc:
        msg = str(exc)
        assert not any(v in msg for v in _values_as_text(frame))
        assert exc.__context__ is None
        return
    if fmt == "parquet":  # what Parquet writes, it gives back
        back = pd.read_parquet(io.BytesIO(f.data))
        got_columns = {c: back[c].tolist() for c in frame.columns}
    elif fmt == "json":
        records = json.loads(f.data)
        got_columns = {c: [r[c] for r in records] for c in frame.columns}
    elif fmt == "xlsx":
        rows = _xlsx_values(f.data)
        rows += [[None] * frame.shape[1]] * (len(frame) + 1 - len(rows))  # empty last rows
        got_columns = {c: [r[j] for r in rows[1:]] for j, c in enumerate(frame.columns)}
    else:
        return
    for c in frame.columns:
        for w, g in zip(frame[c].tolist(), got_columns[c], strict=True):
            assert _same(w, g), (fmt, c, w, g)


def _same(want: object, got: object) -> bool:
    """A value read back equals the one written (date-times may come back as ISO text)."""
    if _missing(want) or _missing(got):
        return _missing(want) and _missing(got)
    if isinstance(want, dt.datetime) and isinstance(got, str):
        back = pd.Timestamp(got)
        return back == pd.Timestamp(want) and (back.tzinfo is None) == (want.tzinfo is None)
    if isinstance(want, dt.datetime) and isinstance(got, dt.datetime):
        return pd.Timestamp(got) == pd.Timestamp(want)
    if isinstance(want, bool | np.bool_) or isinstance(got, bool):
        return type(got) is bool and bool(want) == got
    return want == got


def _missing(v: object) -> bool:
    return v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v))


def test_parquet_refuses_a_column_mixing_naive_and_zoned_date_times():
    mixed = pd.Series([dt.datetime(2000, 1, 1), dt.datetime(2000, 1, 1, tzinfo=dt.UTC)])
    with pytest.raises(ColumnError, match="'w'.*mixes date-time and zoned date-time"):
        export_table(pd.DataFrame({"w": mixed}), "parquet")
    # two offsets are one instant each: Parquet keeps them (in one zone)
    zoned = pd.Series(
        [
            dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2000, 1, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        ],
        dtype=object,
    )
    back = pd.read_parquet(io.BytesIO(export_table(pd.DataFrame({"w": zoned}), "parquet").data))
    assert back["w"].tolist() == zoned.tolist()


def test_json_keeps_every_digit_of_a_float():
    # pandas' to_json rounds to 10 significant digits by default (15 at most)
    values = [0.1234567890123456, 1 / 3, 1e-300, 1.7976931348623157e308, -2.5, None]
    frame = pd.DataFrame(
        {
            "x": values,
            "obj": pd.Series([1 / 3, "t", BIG, None, True, 2.0], dtype=object),
            "when": pd.to_datetime(["2024-01-01 10:00:00.123"] * 5 + [None]),
        }
    )
    for lines in (False, True):
        data = build_download(frame, "json").data if not lines else None
        if lines:
            from core.export import json_records

            text = json_records(frame, lines=True)
            records = [json.loads(line) for line in text.splitlines()]
            assert text.endswith("\n") and len(records) == 6
        else:
            records = json.loads(data)
        assert [r["x"] for r in records] == values
        assert [r["obj"] for r in records] == [1 / 3, "t", BIG, None, True, 2.0]
        assert records[0]["when"] == "2024-01-01T10:00:00.123" and records[5]["when"] is None


def test_xlsx_keeps_every_bit_of_a_float():
    values = [3.3351102250285852e16, 0.1 + 0.2, 1 / 3, 5e-324, 1.5]
    frame = pd.DataFrame({"x": values, "o": pd.Series(values, dtype=object).astype(object)})
    frame.loc[0, "o"] = "t"  # an object column, so each value is checked on its own
    rows = _xlsx_values(export_table(frame, "xlsx").data)
    assert [r[0] for r in rows[1:]] == values
    assert [r[1] for r in rows[1:]] == ["t", *values[1:]]


def test_json_keeps_microseconds_in_a_mixed_column():
    frame = pd.DataFrame({"m": pd.Series([False, dt.datetime(2000, 1, 1, 0, 0, 0, 1)])})
    records = json.loads(export_table(frame, "json").data)
    assert pd.Timestamp(records[1]["m"]) == pd.Timestamp(2000, 1, 1, 0, 0, 0, 1)


def test_csv_neutralizes_text_but_not_numbers_in_a_mixed_column():
    frame = pd.DataFrame({"m": pd.Series([-5, "-2+3", -1.5, None], dtype=object)})
    f = export_table(frame, "csv")
    assert _csv_rows(f.data) == [["m"], ["-5"], ["'-2+3"], ["-1.5"], [""]]
    assert f.neutralized_cells == 1
