"""Intake decides column types without losing data: leading zeros, long IDs and mixed forms
stay text in every format; nested values and malformed containers give core.errors errors."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import load
from core.errors import CorruptFileError, DataLoadError, RaggedRowsError, ResourceLimitError
from core.profile import Kind, profile_frame

ZIPS = ["02134", "00501", "10115"]
PHONES = ["0049301234", "0033612345678", "0044207946"]
IDS = ["12345678901234567890", "12345678901234567891", "12345678901234567892"]
MIXED = ["007", "7", "42"]


def _text(series: pd.Series) -> list[object]:
    assert not pd.api.types.is_numeric_dtype(series.dtype), series.dtype
    return series.tolist()


def _csv(frame_text: dict[str, list[str]]) -> bytes:
    names = list(frame_text)
    rows = zip(*frame_text.values(), strict=True)
    return ("\n".join([",".join(names), *(",".join(r) for r in rows)]) + "\n").encode()


AWKWARD = {"zip": ZIPS, "phone": PHONES, "id": IDS, "code": MIXED, "age": ["30", "40", "50"]}


# --- CSV ------------------------------------------------------------------------------------


def test_csv_keeps_leading_zeros_long_ids_and_mixed_forms_as_text():
    frame = load(_csv(AWKWARD), filename="a.csv").frame
    for col in ("zip", "phone", "id", "code"):
        assert _text(frame[col]) == AWKWARD[col], col
    assert frame["id"].nunique() == 3
    assert frame["age"].dtype == np.int64  # ordinary numbers stay numbers
    assert frame["age"].tolist() == [30, 40, 50]


def test_csv_careful_parser_path_decides_the_same_way():
    # A quoted line break sends the file to the pandas fallback parser.
    data = _csv(AWKWARD) + b'02135,"0049\n1",12345678901234567893,0007,60\n'
    frame = load(data, filename="a.csv").frame
    assert _text(frame["zip"]) == [*ZIPS, "02135"]
    assert _text(frame["id"]) == [*IDS, "12345678901234567893"]
    assert _text(frame["code"]) == [*MIXED, "0007"]
    assert frame["age"].dtype == np.int64


def test_csv_large_file_path_keeps_a_late_leading_zero(tmp_path):
    # Only the last of 200,000 rows has a leading zero: the whole column must stay text.
    rows = "".join(f"{10_000 + i % 80_000},{i}\n" for i in range(200_000))
    path = tmp_path / "late.csv"
    path.write_text("zip,n\n" + rows + "00501,200000\n")
    frame = load(path).frame
    assert frame["zip"].iloc[-1] == "00501"
    assert frame["zip"].iloc[0] == "10000"
    assert frame["n"].dtype == np.int64


def test_csv_fast_path_keeps_quoted_line_breaks_across_its_blocks(monkeypatch):
    # The parser splits the text into blocks at line breaks; one inside quotes at a block's
    # end must not cut a record in two (1 MiB blocks here, 8 MiB in use; three offsets).
    import core.data.text

    monkeypatch.setattr(core.data.text, "_BLOCK_BYTES", 1 << 20)
    for start in range(3):
        rows = [f'{i},"a{i}\nb{i},c{i}"' for i in range(start, 50_000)]
        frame = load(("n,v\n" + "\n".join(rows) + "\n").encode(), filename="q.csv").frame
        assert frame["v"].tolist() == [f"a{i}\nb{i},c{i}" for i in range(start, 50_000)]
        assert frame["n"].dtype == np.int64


def test_csv_pieces_cut_inside_quotes_are_found_and_parsed_again(monkeypatch):
    # Pieces are cut after the first line break past each 100 bytes; here that break is
    # inside a quoted field, in the last column and then in the first.
    import core.data.text as text

    monkeypatch.setattr(text, "_BLOCK_BYTES", 100)
    long = "x" * 120
    last = f'n,v\n1,"{long}\nrest"\n2,plain\n'.encode()
    with pytest.raises(text._CutInQuotes):
        text._parse_pieces(last, ",", "utf-8", ["n", "v"], [])
    first = f'v,n\n"{long}\nrest",1\nplain,2\n'.encode()
    with pytest.raises(pa.ArrowInvalid):
        text._parse_pieces(first, ",", "utf-8", ["v", "n"], [])
    assert load(last, filename="q.csv").frame["v"].tolist() == [f"{long}\nrest", "plain"]
    assert load(first, filename="q.csv").frame["v"].tolist() == [f"{long}\nrest", "plain"]


def test_csv_pieces_keep_quoted_line_breaks_between_their_cuts(monkeypatch):
    import core.data.text as text

    values = [f"a{i}\nb{i}" if i % 10 == 0 else f"a{i}" for i in range(2_000)]
    data = "n,v,w\n" + "".join(f'{i},"{v}",{"q" * 40}\r\n' for i, v in enumerate(values))
    data = data.encode()
    for size in range(4_000, 4_100):  # a piece size whose cuts all fall between records
        monkeypatch.setattr(text, "_BLOCK_BYTES", size)
        cuts = text._line_starts(data, len(data))
        if all(data.count(b'"', 0, c) % 2 == 0 for c in cuts):
            break
    assert len(cuts) > 10 and all(data.count(b'"', 0, c) % 2 == 0 for c in cuts)
    table = text._parse_pieces(data, ",", "utf-8", ["n", "v", "w"], [])
    assert table.column("v").to_pylist() == values
    assert load(data, filename="q.csv").frame["v"].tolist() == values


def _late_cp1252(cell: str) -> bytes:
    """A cp1252 file whose first non-UTF-8 byte comes after the sniffed head, so the careful
    parser reads it, with ``cell`` in its next-to-last row."""
    rows = "".join(f"{i},row {i}\n" for i in range(8_000))  # more than 64 KiB of ASCII
    return ("n,note\n" + rows + f"8000,{cell}\n8001,Grüße\n").encode("cp1252")


def test_csv_careful_parser_reads_a_cell_longer_than_the_csv_module_default():
    # 200,000 characters: more than the csv module's default field limit (131,072) and less
    # than MAX_CELL_CHARS, so the file loads whole.
    frame = load(_late_cp1252("x" * 200_000), filename="long.csv").frame
    assert frame["note"].str.len().max() == 200_000
    assert frame["note"].iloc[-1] == "Grüße"


def test_csv_careful_parser_names_the_cell_limit(monkeypatch):
    from core import limits

    monkeypatch.setattr(limits, "MAX_CELL_CHARS", 150_000)
    with pytest.raises(ResourceLimitError, match="PRIVLENS_MAX_CELL_CHARS"):
        load(_late_cp1252("x" * 200_000), filename="long.csv")


def test_csv_careful_parser_counts_the_fields_after_a_long_cell():
    data = b"a,b\n1," + b"x" * 200_000 + b"\n2,3,4\n"
    with pytest.raises(RaggedRowsError, match="Line 3 has 3 fields but the header has 2"):
        load(data, filename="r.csv")


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (["1", "-2", "3"], np.int64),  # plain integers
        (["1.5", "-2.25", "1e3"], np.float64),  # decimals and exponents
        (["0.5", "0", "-0.25"], np.float64),  # a single zero before the point is no leading zero
        (["0.30000000000000004", "0.1", "2"], np.float64),  # shortest repr of a double
        (["9007199254740993", "1", "2"], np.int64),  # beyond 2**53 but within int64
    ],
)
def test_csv_ordinary_numbers_stay_numeric(values, dtype):
    frame = load(_csv({"x": values}), filename="n.csv").frame
    assert frame["x"].dtype == dtype
    assert frame["x"].tolist() == [dtype(v) if dtype is np.int64 else float(v) for v in values]


@pytest.mark.parametrize(
    "values",
    [
        ["0.5", "01.5", "2"],  # a leading zero before a decimal point
        ["1.5", "12345678901234567890.5"],  # more digits than a double holds
        ["1", "9223372036854775808"],  # 2**63: outside int64, inexact as a double
        ["+5", "-3", "2"],  # an explicit plus sign is a form a number would drop
    ],
)
def test_csv_values_a_number_would_change_stay_text(values):
    frame = load(_csv({"x": values}), filename="n.csv").frame
    assert _text(frame["x"]) == values


def test_csv_inf_stays_a_float_infinity():
    frame = load(_csv({"x": ["1.5", "inf", "-inf"]}), filename="i.csv").frame
    assert frame["x"].dtype == np.float64
    assert frame["x"].tolist() == [1.5, np.inf, -np.inf]


def test_csv_big_integers_with_missing_values_keep_every_digit():
    frame = load(b"x,y\n9007199254740993,a\n,b\n1,c\n", filename="b.csv").frame
    assert frame["x"].tolist()[0] == 9007199254740993  # float64 would give ...992
    assert frame["x"].isna().tolist() == [False, True, False]


def test_csv_timestamps_with_offsets_stay_text():
    values = ["2024-01-02T10:00:00+02:00", "2024-01-02T10:00:00-05:00"]
    frame = load(_csv({"t": values}), filename="t.csv").frame
    assert _text(frame["t"]) == values


def test_profile_calls_a_leading_zero_column_text_not_integer():
    frame = load(_csv(AWKWARD), filename="a.csv").frame
    kinds = {p.name: p.kind for p in profile_frame(frame)}
    assert kinds["zip"] not in (Kind.INTEGER, Kind.NUMERIC)
    assert kinds["id"] not in (Kind.INTEGER, Kind.NUMERIC)


# --- wide CSV -------------------------------------------------------------------------------


def _wide(n_cols: int) -> tuple[list[str], str]:
    names = [f"measurement_{i:05d}_{'x' * 12}" for i in range(n_cols)]  # ~30 bytes each
    return names, ",".join(names)


def test_wide_csv_header_beyond_the_sniffed_bytes_is_read_whole():
    names, header = _wide(2_500)
    assert len(header) > 70_000
    row = ",".join(str(i) for i in range(2_500))
    frame = load(f"{header}\n{row}\n{row}\n".encode(), filename="w.csv").frame
    assert list(frame.columns) == names
    assert frame.shape == (2, 2_500)


def test_wide_csv_ragged_row_message_counts_the_whole_header():
    _, header = _wide(2_500)
    row = ",".join(str(i) for i in range(2_500))
    short = ",".join(str(i) for i in range(2_499))
    with pytest.raises(RaggedRowsError, match="Line 3 has 2499 fields but the header has 2500"):
        load(f"{header}\n{row}\n{short}\n".encode(), filename="w.csv")


# --- JSON -----------------------------------------------------------------------------------


def test_json_big_integers_never_become_floats():
    records = [{"id": int(v), "n": i} for i, v in enumerate(IDS)]
    frame = load(json.dumps(records).encode(), filename="j.json").frame
    assert _text(frame["id"]) == IDS
    assert frame["n"].dtype == np.int64


def test_json_big_integers_with_nulls_and_lossy_floats_stay_exact():
    payload = (
        '[{"id": 12345678901234567890, "f": 1.5}, {"id": null, "f": 12345678901234567890.5},'
        ' {"id": 7, "f": 2}]'
    )
    frame = load(payload.encode(), filename="j.json").frame
    assert _text(frame["id"])[0] == "12345678901234567890"
    assert frame["id"].isna().tolist() == [False, True, False]
    assert _text(frame["f"])[1] == "12345678901234567890.5"


def test_json_text_and_mixed_forms_stay_text():
    records = [{"zip": z, "code": c} for z, c in zip(ZIPS, ["007", 7, "x"], strict=True)]
    frame = load(json.dumps(records).encode(), filename="j.json").frame
    assert _text(frame["zip"]) == ZIPS
    assert _text(frame["code"]) == ["007", "7", "x"]


def test_json_lines_big_integers_stay_exact():
    lines = "\n".join(json.dumps({"id": int(v)}) for v in IDS)
    frame = load(lines.encode(), filename="j.jsonl").frame
    assert _text(frame["id"]) == IDS


def test_json_deeply_nested_values_become_json_text():
    payload = json.dumps([{"a": {"b": {"c": [1, {"d": 2}]}}, "n": 1}, {"a": None, "n": 2}])
    frame = load(payload.encode(), filename="n.json").frame
    assert "n" in frame.columns
    cells = [v for col in frame.columns for v in frame[col].tolist()]
    assert not any(isinstance(v, (dict, list)) for v in cells)
    assert profile_frame(frame)  # every cell hashable: no "unhashable" error
    nested = next(c for c in frame.columns if c.startswith("a."))
    assert json.loads(frame[nested].iloc[0]) == {"c": [1, {"d": 2}]}


def test_json_nesting_beyond_the_recursion_limit_is_refused():
    payload = ("[" * 100_000 + "]" * 100_000).encode()
    with pytest.raises(ResourceLimitError, match="nest"):
        load(payload, filename="deep.json")
    with pytest.raises(ResourceLimitError, match="nest"):
        load(b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", filename="deep.json")


def test_json_nesting_beyond_the_depth_limit_in_a_record_is_refused(monkeypatch):
    from core import limits

    monkeypatch.setattr(limits, "MAX_JSON_DEPTH", 5)
    deep = {"x": 1}
    for _ in range(6):
        deep = {"x": deep}
    with pytest.raises(ResourceLimitError, match="MAX_JSON_DEPTH"):
        load(json.dumps([{"a": deep}]).encode(), filename="deep.json")


# --- XLSX -----------------------------------------------------------------------------------


def _xlsx(rows: list[list[object]], *, text_cells: bool = True) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_cells_stored_as_text_stay_text():
    rows = [["zip", "id", "code", "age"]]
    rows += [[z, i, c, a] for z, i, c, a in zip(ZIPS, IDS, MIXED, [30, 40, 50], strict=True)]
    frame = load(_xlsx(rows), filename="t.xlsx").frame
    assert _text(frame["zip"]) == ZIPS
    assert _text(frame["id"]) == IDS
    assert _text(frame["code"]) == MIXED
    assert frame["age"].dtype == np.int64


def test_xlsx_column_mixing_numbers_and_text_is_text():
    rows = [["code"], ["007"], [7], ["x"]]
    frame = load(_xlsx(rows), filename="t.xlsx").frame
    assert _text(frame["code"]) == ["007", "7", "x"]


def _patch_part(data: bytes, part: str, new: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, new if item.filename == part else src.read(item.filename))
    return out.getvalue()


@pytest.mark.parametrize(
    "sheet_xml",
    [
        b"<worksheet><sheetData><row r='1'><c r='A1'",  # cut in the middle of a tag
        b"not xml at all",
    ],
)
def test_xlsx_with_malformed_sheet_xml_is_corrupt(sheet_xml):
    data = _patch_part(_xlsx([["a"], [1]]), "xl/worksheets/sheet1.xml", sheet_xml)
    with pytest.raises(CorruptFileError, match="Excel"):
        load(data, filename="m.xlsx")


@pytest.mark.parametrize("part", ["xl/styles.xml", "xl/workbook.xml"])
def test_xlsx_with_malformed_workbook_parts_is_corrupt(part):
    data = _patch_part(_xlsx([["a"], ["x"]]), part, b"<styleSheet><fonts><font></styleSheet>")
    with pytest.raises(CorruptFileError, match="Excel"):
        load(data, filename="m.xlsx")


# --- Parquet --------------------------------------------------------------------------------


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf)
    return buf.getvalue()


def test_parquet_keeps_stored_types():
    table = pa.table(
        {
            "zip": pa.array(ZIPS),
            "big": pa.array([2**64 - 1, 2**63, 1], pa.uint64()),
            "n": pa.array([1, None, 9007199254740993], pa.int64()),
            "x": pa.array([1.5, float("inf"), None]),
        }
    )
    frame = load(_parquet(table), filename="p.parquet").frame
    assert _text(frame["zip"]) == ZIPS
    assert frame["big"].tolist() == [2**64 - 1, 2**63, 1]
    assert frame["n"].tolist()[2] == 9007199254740993  # not rounded through float64
    assert frame["n"].isna().tolist() == [False, True, False]
    assert frame["x"].tolist()[:2] == [1.5, np.inf]


@pytest.mark.parametrize(
    "column",
    [
        pa.array([[1, 2], [], None]),  # list
        pa.array([{"a": 1, "b": "x"}, {"a": 2, "b": None}, None]),  # struct
        pa.array([[("k", 1)], [], None], pa.map_(pa.string(), pa.int64())),  # map
    ],
)
def test_parquet_nested_columns_become_json_text(column):
    table = pa.table({"id": [1, 2, 3], "nested": column})
    res = load(_parquet(table), filename="p.parquet")
    frame = res.frame
    assert frame["nested"].isna().tolist() == [False, False, True]
    assert all(isinstance(v, str) for v in frame["nested"].dropna())
    assert any("nested" in w for w in res.warnings)
    profile_frame(frame)  # no "unhashable" error


def test_every_intake_error_is_a_data_load_error():
    assert issubclass(ResourceLimitError, DataLoadError)


def test_profile_answers_cells_that_are_not_hashable():
    # A frame built by hand (not by the loader) with dict and list cells.
    frame = pd.DataFrame({"d": [{"a": 1}, {"a": 1}, None], "l": [[1], [2, 3], [1]]})
    profiles = {p.name: p for p in profile_frame(frame)}
    assert profiles["d"].n_distinct == 1 and profiles["d"].missing == 1
    assert profiles["l"].n_distinct == 2


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "parquet"])
def test_whole_numbers_with_a_gap_load_as_nullable_integers(fmt):
    # 3, missing, 12 must not become 3.0 / 12.0: the export would then write them so.
    if fmt == "csv":
        data = b"n,s\n3,a\n,b\n12,c\n"
    elif fmt == "json":
        data = b'[{"n": 3, "s": "a"}, {"n": null, "s": "b"}, {"n": 12, "s": "c"}]'
    elif fmt == "xlsx":
        data = _xlsx([["n", "s"], [3, "a"], [None, "b"], [12, "c"]])
    else:
        data = _parquet(pa.table({"n": pa.array([3, None, 12], pa.int64()), "s": list("abc")}))
    frame = load(data, filename=f"g.{fmt}").frame
    assert frame["n"].dtype == pd.Int64Dtype()
    assert frame["n"].isna().tolist() == [False, True, False]
    assert frame["n"].dropna().tolist() == [3, 12]


def test_csv_with_old_mac_line_endings_and_a_quoted_line_break_in_the_header():
    assert load(b"a,b\r02134,x\r2,y\r", filename="cr.csv").frame["a"].tolist() == ["02134", "2"]
    frame = load(b'"first\nname",c\n1,2\n', filename="q.csv").frame
    assert list(frame.columns) == ["first\nname", "c"]


def test_parquet_named_index_is_kept_as_a_column_and_a_bare_one_dropped():
    frame = pd.DataFrame({"id": ["a7", "b8"], "n": [1, 2]}).set_index("id")
    buf = io.BytesIO()
    frame.to_parquet(buf)
    back = load(buf.getvalue(), filename="i.parquet").frame
    assert list(back.columns) == ["id", "n"] and back["id"].tolist() == ["a7", "b8"]
    buf = io.BytesIO()
    pd.DataFrame({"n": [1, 2, 3]}).iloc[[0, 2]].to_parquet(buf)  # index 0, 2 stored
    assert list(load(buf.getvalue(), filename="j.parquet").frame.columns) == ["n"]


# --- columns kept as text by their name ----------------------------------------------------

CODE_NAMES = {
    "zip": ["10115", "80331", "20095"],
    "PostCode": ["10115", "80331", "20095"],
    "CAP": ["20121", "50123", "10121"],
    "phone_number": ["4930123456", "4989123456", "4940123456"],
    "fax": ["4930123457", "4989123457", "4940123457"],
    "customerId": ["17", "18", "19"],
    "record id": ["1", "2", "3"],
    "ID": ["5", "6", "7"],
    "acct-no": ["123456", "123457", "123458"],
    "nhs_number": ["9434765919", "9434765870", "9434765828"],
}
NUMBER_NAMES = {
    "age": ["30", "40", "50"],
    "hours-per-week": ["40", "38", "20"],
    "capital-gain": ["0", "2174", "0"],
    "fnlwgt": ["77516", "83311", "215646"],
    "education-num": ["13", "9", "7"],
    "market_cap": ["1.5", "2.5", "3.5"],
    "account_balance": ["10.5", "20", "30"],
    "phone_count": ["1", "2", "0"],
}


def _assert_codes_kept(res) -> None:
    frame = res.frame
    for name, values in CODE_NAMES.items():
        assert _text(frame[name]) == values, name
    for name in NUMBER_NAMES:
        assert pd.api.types.is_numeric_dtype(frame[name].dtype), name
    kept = [w for w in res.warnings if "kept as text" in w]
    assert len(kept) == 1
    for name in CODE_NAMES:
        assert f"'{name}'" in kept[0]
    for name in NUMBER_NAMES:
        assert f"'{name}'" not in kept[0]
    for values in CODE_NAMES.values():  # names only, never a value
        assert not any(v in kept[0] for v in values)


def test_csv_keeps_postal_phone_and_id_columns_as_text_by_name():
    _assert_codes_kept(load(_csv({**CODE_NAMES, **NUMBER_NAMES}), filename="c.csv"))


def test_csv_careful_path_keeps_columns_as_text_by_name(monkeypatch):
    import core.data.text as text

    monkeypatch.setattr(text, "_parse_pyarrow", lambda *a: None)
    _assert_codes_kept(load(_csv({**CODE_NAMES, **NUMBER_NAMES}), filename="c.csv"))


def test_json_keeps_postal_phone_and_id_columns_as_text_by_name():
    columns = {n: [int(v) for v in vs] for n, vs in CODE_NAMES.items()}
    columns.update({n: [float(v) for v in vs] for n, vs in NUMBER_NAMES.items()})
    records = [{n: vs[i] for n, vs in columns.items()} for i in range(3)]
    res = load(json.dumps(records).encode(), filename="c.json")
    frame = res.frame
    for name, values in CODE_NAMES.items():
        assert _text(frame[name]) == [str(int(v)) for v in values], name
    for name in NUMBER_NAMES:
        assert pd.api.types.is_numeric_dtype(frame[name].dtype), name
    kept = [w for w in res.warnings if "kept as text" in w]
    assert len(kept) == 1 and "'zip'" in kept[0] and "'age'" not in kept[0]


def test_xlsx_text_cells_of_a_code_column_stay_text_and_numbers_keep_their_type():
    rows = [["zip", "id", "age"], ["10115", 1, 30], ["80331", 2, 40]]
    res = load(_xlsx(rows), filename="t.xlsx")
    assert _text(res.frame["zip"]) == ["10115", "80331"]
    assert res.frame["id"].dtype == np.int64  # stored as numbers in the sheet
    assert res.frame["age"].dtype == np.int64


def test_parquet_keeps_stored_numbers_of_a_code_column():
    table = pa.table({"zip": pa.array([10115, 80331], pa.int64())})
    res = load(_parquet(table), filename="p.parquet")
    assert res.frame["zip"].tolist() == [10115, 80331]
    assert not any("kept as text" in w for w in res.warnings)


def test_adult_columns_keep_their_types_with_no_name_warning():
    data = (
        b"age,workclass,fnlwgt,education,education-num,capital-gain,capital-loss,"
        b"hours-per-week,income\n39,State-gov,77516,Bachelors,13,2174,0,40,<=50K\n"
    )
    res = load(data, filename="adult.csv")
    assert all(
        pd.api.types.is_numeric_dtype(res.frame[c])
        for c in ("age", "fnlwgt", "education-num", "capital-gain", "hours-per-week")
    )
    assert res.warnings == ()


def test_a_column_kept_as_text_by_name_can_still_become_an_integer():
    from core.kinds import cast_column

    frame = load(b"zip,n\n10115,1\n80331,2\n", filename="z.csv").frame
    assert cast_column(frame, "zip", "integer").frame["zip"].tolist() == [10115, 80331]
