"""Data intake: every format, every encoding, and every bad input gets its own message."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import detect_delimiter, detect_encoding, load
from core.errors import (
    BinaryFileError,
    CorruptFileError,
    DataLoadError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    HeaderOnlyError,
    NoSheetsError,
    NotATableError,
    RaggedRowsError,
    UnsupportedFormatError,
)
from core.profile import Kind, profile_frame

CSV = "name,age,city\nZoë,34,Köln\nJosé,45,Málaga\nAnn,29,Paris\n"


# --- encodings and delimiters ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),  # Excel's "CSV UTF-8" writes a BOM
        ("utf-16", "utf-16"),  # with BOM
        ("utf-16-le", "utf-16-le"),  # without BOM
        ("cp1252", "cp1252"),
    ],
)
def test_text_encodings_are_detected_and_values_survive(encoding, expected):
    res = load(CSV.encode(encoding), filename="people.csv")
    assert res.encoding == expected
    assert res.frame["name"].tolist() == ["Zoë", "José", "Ann"]
    assert res.frame["city"].tolist() == ["Köln", "Málaga", "Paris"]
    assert res.frame["age"].tolist() == [34, 45, 29]


def test_latin1_bytes_undefined_in_cp1252_are_read_as_latin1():
    data = "name,sign\nA,\u00a4\n".encode("latin-1") + b"B,\xa4\n"
    assert detect_encoding(data) == "cp1252"  # 0xA4 is defined in both
    res = load(data, filename="x.csv")
    assert len(res.frame) == 2


@pytest.mark.parametrize(
    ("delimiter", "ext"), [(",", "csv"), (";", "csv"), ("\t", "tsv"), ("|", "txt"), ("\t", "txt")]
)
def test_delimiters_are_detected(delimiter, ext):
    text = CSV.replace(",", delimiter)
    res = load(text.encode(), filename=f"people.{ext}")
    assert res.delimiter == delimiter
    assert list(res.frame.columns) == ["name", "age", "city"]


def test_semicolon_file_with_decimal_commas_in_values():
    assert detect_delimiter("a;b\n1,5;2\n3,5;4\n") == ";"


def test_quoted_line_breaks_fall_back_to_the_careful_parser():
    data = b'id,comment\n1,"two\nlines"\n2,plain\n'
    res = load(data, filename="c.csv")
    assert res.frame["comment"].tolist() == ["two\nlines", "plain"]


def test_path_input_and_extra_missing_strings(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x,y\n1,?\n2,b\n")
    res = load(path, na_values=("?",))
    assert res.frame["y"].isna().tolist() == [True, False]


# --- other formats --------------------------------------------------------------------------


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {"age": [34, 45, 29], "sex": ["F", "M", "F"], "income": [52000.5, 61000.0, np.nan]}
    )


def test_xlsx_round_trip():
    buf = io.BytesIO()
    _frame().to_excel(buf, index=False, sheet_name="people")
    res = load(buf.getvalue(), filename="p.xlsx")
    assert res.sheet == "people"
    pd.testing.assert_frame_equal(res.frame, _frame(), check_dtype=False)


def test_xlsx_picks_first_sheet_with_data_and_named_sheet():
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="cover")
        _frame().to_excel(writer, index=False, sheet_name="data")
    res = load(buf.getvalue(), filename="p.xlsx")
    assert res.sheet == "data" and res.sheets == ("cover", "data")
    with pytest.raises(DataLoadError, match="no sheet named 'nope'"):
        load(buf.getvalue(), filename="p.xlsx", sheet="nope")


def test_parquet_round_trip():
    buf = io.BytesIO()
    _frame().to_parquet(buf, index=False)
    res = load(buf.getvalue(), filename="p.parquet")
    pd.testing.assert_frame_equal(res.frame, _frame(), check_dtype=False)


@pytest.mark.parametrize(
    "payload",
    [
        json.dumps(_frame().to_dict(orient="records")),  # list of records
        json.dumps(_frame().to_dict(orient="list")),  # object of columns
        _frame().to_json(orient="split", index=False),  # columns + data
    ],
)
def test_json_shapes(payload):
    res = load(payload.encode(), filename="p.json")
    assert res.frame.shape == (3, 3)
    assert res.frame["sex"].tolist() == ["F", "M", "F"]


def test_json_lines_by_extension_and_by_content():
    lines = "\n".join(json.dumps(r) for r in _frame().to_dict(orient="records"))
    for name in ("p.jsonl", "p.ndjson", "p.json"):
        res = load(lines.encode(), filename=name)
        assert res.frame.shape == (3, 3)
        assert res.format == "jsonl"


def test_nested_json_is_flattened_and_lists_kept_as_text():
    payload = json.dumps([{"a": {"b": 1}, "tags": [1, 2]}, {"a": {"b": 2}, "tags": []}])
    res = load(payload.encode(), filename="n.json")
    assert list(res.frame.columns) == ["tags", "a.b"]
    assert res.frame["tags"].tolist() == ["[1, 2]", "[]"]


# --- bad inputs: each its own message -------------------------------------------------------


def test_empty_file():
    with pytest.raises(EmptyFileError, match="is empty"):
        load(b"", filename="e.csv")
    with pytest.raises(EmptyFileError):
        load(b"\n\n  \n", filename="e.csv")


def test_header_only():
    with pytest.raises(HeaderOnlyError, match="header with 3 column"):
        load(b"a,b,c\n", filename="h.csv")


def test_ragged_rows_name_the_line():
    with pytest.raises(RaggedRowsError, match="Line 4 has 4 fields but the header has 3") as e:
        load(b"a,b,c\n1,2,3\n4,5,6\n7,8,9,10\n", filename="r.csv")
    assert e.value.line == 4


def test_ragged_row_after_quoted_line_break_names_the_physical_line():
    with pytest.raises(RaggedRowsError, match="Line 4"):
        load(b'a,b\n1,"x\ny"\n2,3,4\n', filename="r.csv")


def test_undecodable_bytes():
    # 0x81 and 0x9D are undefined in cp1252 and are control characters in latin-1.
    with pytest.raises(EncodingError, match="Save it as UTF-8"):
        load(b"name,x\nab\x81c,1\nd\x9de,2\n" + b"plain,3\n" * 50, filename="u.csv")


def test_binary_renamed_csv():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    with pytest.raises(BinaryFileError, match="content is binary"):
        load(png, filename="photo.csv")
    with pytest.raises(BinaryFileError):
        load(
            bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8)), filename="x.csv"
        )


def test_xlsx_renamed_csv_is_binary():
    buf = io.BytesIO()
    _frame().to_excel(buf, index=False)
    with pytest.raises(BinaryFileError, match=r"\.xlsx"):
        load(buf.getvalue(), filename="book.csv")


def test_unsupported_extension():
    with pytest.raises(UnsupportedFormatError, match="'.sav' are not supported"):
        load(b"whatever", filename="survey.sav")


def test_file_over_the_limit(tmp_path):
    with pytest.raises(FileTooLargeError, match="above the limit"):
        load(b"a,b\n1,2\n" * 100, filename="big.csv", max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n1,2\n" * 100)
    with pytest.raises(FileTooLargeError):
        load(path, max_bytes=100)


def test_duplicate_and_blank_column_names_are_renamed_with_warnings():
    res = load(b"age,,age,age_2, \n1,2,3,4,5\n", filename="d.csv")
    assert list(res.frame.columns) == ["age", "column_2", "age_3", "age_2", "column_5"]
    assert len(res.warnings) == 3
    assert any("repeats the name 'age'" in w for w in res.warnings)


def test_workbook_without_sheets_with_data():
    buf = io.BytesIO()
    with pd.ExcelWriter(buf) as writer:
        pd.DataFrame().to_excel(writer, sheet_name="empty1")
        pd.DataFrame().to_excel(writer, sheet_name="empty2")
    with pytest.raises(NoSheetsError, match="no sheet with data"):
        load(buf.getvalue(), filename="e.xlsx")


def test_workbook_with_no_sheet_entries_at_all():
    buf = io.BytesIO()
    _frame().to_excel(buf, index=False)
    # Rebuild the package without any worksheet part and with an empty <sheets/> list.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename.startswith("xl/worksheets/"):
                continue
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                text = data.decode()
                start, end = text.index("<sheets>"), text.index("</sheets>") + len("</sheets>")
                data = (text[:start] + "<sheets/>" + text[end:]).encode()
            dst.writestr(item, data)
    with pytest.raises((NoSheetsError, CorruptFileError)):
        load(out.getvalue(), filename="nosheets.xlsx")


def test_corrupt_xlsx():
    buf = io.BytesIO()
    _frame().to_excel(buf, index=False)
    with pytest.raises(CorruptFileError, match="Excel"):
        load(buf.getvalue()[: len(buf.getvalue()) // 2], filename="c.xlsx")
    with pytest.raises(CorruptFileError):
        load(b"not a zip at all", filename="c.xlsx")


def test_corrupt_parquet():
    buf = io.BytesIO()
    _frame().to_parquet(buf)
    data = bytearray(buf.getvalue())
    with pytest.raises(CorruptFileError, match="Parquet"):
        load(bytes(data[:-20]), filename="c.parquet")
    data[-60:-8] = b"\xff" * 52  # the footer's metadata
    with pytest.raises(CorruptFileError, match="Parquet"):
        load(bytes(data), filename="c.parquet")


@pytest.mark.parametrize(
    ("payload", "found"),
    [
        ("42", "a single int value"),
        ("[1, 2, 3]", "a list of int values"),
        ('"text"', "a single str value"),
        ('{"a": 1, "b": 2}', "not equal-length lists"),
        ('{"a": [1, 2], "b": [1]}', "different lengths"),
        ("[]", "an empty list"),
    ],
)
def test_json_that_is_not_a_table(payload, found):
    with pytest.raises(NotATableError, match=found):
        load(payload.encode(), filename="t.json")


def test_invalid_json_names_the_position():
    with pytest.raises(DataLoadError, match="line 1, column"):
        load(b'{"a": [1, 2}', filename="t.json")


def test_messages_never_contain_cell_values():
    secret = "SECRET-VALUE-123"
    cases = [
        (f"a,b\n{secret},1\n{secret},2,3\n".encode(), "x.csv"),
        (f'[{{"a": "{secret}"}}, "{secret}"]'.encode(), "x.json"),
        (f"a\n{secret}\n".encode() + b"\x81\x9d\x81", "x.csv"),
    ]
    for data, name in cases:
        with pytest.raises(DataLoadError) as exc:
            load(data, filename=name)
        assert secret not in str(exc.value)


# --- property: frames written in any format load back equal ---------------------------------

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")),
    min_size=1,
    max_size=8,
).filter(
    lambda s: (
        s.strip() == s
        and s.strip() != ""
        and not s.lower().startswith(("nan", "n/a", "null", "na"))
        and s not in ("#N/A", "-NaN", "-nan", "NA")
    )
)


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=20))
    ints = draw(st.lists(st.integers(-(10**9), 10**9), min_size=n, max_size=n))
    floats = draw(
        st.lists(
            st.floats(
                allow_nan=False, allow_infinity=False, width=32, min_value=-1e6, max_value=1e6
            ),
            min_size=n,
            max_size=n,
        )
    )
    # Text that does not look like a number, a date, or a missing marker.
    words = draw(st.lists(_text.map(lambda s: "w" + s), min_size=n, max_size=n))
    return pd.DataFrame({"i": ints, "f": [f + 0.5 for f in floats], "s": words})


def _write(frame: pd.DataFrame, fmt: str) -> tuple[bytes, str]:
    buf = io.BytesIO()
    if fmt == "csv":
        frame.to_csv(buf, index=False)
    elif fmt == "parquet":
        frame.to_parquet(buf, index=False)
    elif fmt == "xlsx":
        frame.to_excel(buf, index=False)
    else:
        buf.write(frame.to_json(orient="records", force_ascii=False).encode())
    return buf.getvalue(), f"t.{fmt}"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx", "json"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_round_trip_keeps_values_and_kinds(fmt, frame):
    data, name = _write(frame, fmt)
    back = load(data, filename=name).frame
    assert list(back.columns) == ["i", "f", "s"]
    assert back["i"].tolist() == frame["i"].tolist()
    np.testing.assert_allclose(back["f"].to_numpy(float), frame["f"].to_numpy(float), rtol=1e-6)
    assert back["s"].tolist() == frame["s"].tolist()
    kinds_in = [p.kind for p in profile_frame(frame)]
    kinds_out = [p.kind for p in profile_frame(back)]
    assert kinds_in == kinds_out
    assert kinds_out[1] in (Kind.NUMERIC, Kind.INTEGER, Kind.BOOLEAN, Kind.IDENTIFIER)


def test_large_file_with_a_late_non_utf8_byte_is_read_as_cp1252(tmp_path):
    # The head (first 64 KiB) is plain ASCII; the parser meets the cp1252 byte later.
    rows = "".join(f"{i},plain\n" for i in range(20_000))
    data = ("id,word\n" + rows).encode() + "20000,caf\u00e9\n".encode("cp1252")
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    res = load(path)
    assert res.encoding == "cp1252"
    assert res.frame["word"].iloc[-1] == "caf\u00e9"
    assert len(res.frame) == 20_001


def test_large_file_with_a_late_ragged_row(tmp_path):
    rows = "".join(f"{i},x\n" for i in range(20_000))
    path = tmp_path / "late.csv"
    path.write_text("id,word\n" + rows + "1,2,3\n")
    with pytest.raises(RaggedRowsError, match="Line 20002"):
        load(path)


def test_dates_become_datetime_columns():
    res = load(b"id,visit\n1,2024-01-02\n2,2023-12-31\n", filename="d.csv")
    assert str(res.frame["visit"].dtype).startswith("datetime64")
