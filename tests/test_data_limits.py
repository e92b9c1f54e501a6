"""Intake limits: files whose table would be huge are refused before they are materialized.

Each bomb is loaded in a fresh process held under an address-space limit (``ulimit -v``);
the child reports its load time and its own peak RSS, and the test asserts both.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core import limits
from core.data import load
from core.errors import ResourceLimitError
from tests.conftest import ROOT

#: Address space of the child (``ulimit -v``): imports alone reserve about 0.4 GiB.
ADDRESS_SPACE = 3 * 2**30
MAX_SECONDS = 5.0
MAX_RSS_KIB = 2**20  # 1 GiB

_CHILD = r"""
import json, resource, sys, time
from core.data import load
from core.errors import PrivLensError
t0 = time.perf_counter()
try:
    res = load(sys.argv[1])
    out = {"outcome": "loaded", "shape": list(res.frame.shape)}
except PrivLensError as exc:
    out = {"outcome": type(exc).__name__, "message": str(exc),
           "limit": getattr(exc, "limit", None)}
out["seconds"] = time.perf_counter() - t0
out["peak_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def _hold() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _load_bounded(path: Path, **env: str) -> dict:
    """Load ``path`` in a child under ``ulimit -v``; assert time and peak RSS; return its report."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path)],
        preexec_fn=_hold,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["seconds"] < MAX_SECONDS, out
    assert out["peak_kib"] < MAX_RSS_KIB, out
    return out


def _refused(out: dict, limit: str) -> None:
    assert out["outcome"] == "ResourceLimitError", out
    assert out["limit"] == limit, out
    assert f"PRIVLENS_{limit}" in out["message"]


# --- Parquet --------------------------------------------------------------------------------


def test_parquet_rle_bomb_is_refused_from_its_metadata(tmp_path):
    # 100,000,000 rows of one constant: ten row groups of a run-length-encoded 10M-row chunk.
    chunk = pa.table({"x": pa.array(np.zeros(10_000_000, dtype=np.int8))})
    path = tmp_path / "bomb.parquet"
    with pq.ParquetWriter(path, chunk.schema, compression="zstd") as writer:
        for _ in range(10):
            writer.write_table(chunk, row_group_size=10_000_000)
    assert path.stat().st_size < 2**20
    assert pq.ParquetFile(path).metadata.num_rows == 100_000_000
    _refused(_load_bounded(path), "MAX_ROWS")


def test_parquet_dictionary_string_bomb_is_refused_before_decoding(tmp_path):
    # One 900,000-character string repeated in 100,000 rows would decode to 90 GB.
    indices = pa.array(np.zeros(100_000, dtype=np.int32))
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * 900_000]))
    path = tmp_path / "strings.parquet"
    pq.write_table(pa.table({"s": column}), path, compression="zstd")
    assert path.stat().st_size < 2**20
    _refused(_load_bounded(path), "MAX_DECODED_MB")


# --- XLSX -----------------------------------------------------------------------------------

_CT = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="'
    b'application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/>%s</Types>'
)
_SST_CT = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    b'officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    b'formats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    b"</Relationships>"
)
_WB = (
    b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships"><sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxml'
    b'formats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    b"%s</Relationships>"
)
_SST_REL = (
    b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    b'relationships/sharedStrings" Target="sharedStrings.xml"/>'
)


def _write_xlsx(path: Path, sheet_parts, shared_parts=None) -> None:
    """A minimal workbook whose sheet (and shared strings) XML is streamed from byte chunks."""
    sst = shared_parts is not None
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", _CT % (_SST_CT if sst else b""))
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WB)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS % (_SST_REL if sst else b""))
        for name, parts in (("sheet", sheet_parts), ("sst", shared_parts)):
            if parts is None:
                continue
            part = "xl/worksheets/sheet1.xml" if name == "sheet" else "xl/sharedStrings.xml"
            with z.open(part, "w", force_zip64=True) as fh:
                for chunk in parts:
                    fh.write(chunk)


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
    b'/spreadsheetml/2006/main">'
)


def _huge_text(n_mib: int):
    block = b"a" * 2**20
    for _ in range(n_mib):
        yield block


def test_xlsx_huge_inline_string_is_refused(tmp_path):
    path = tmp_path / "inline.xlsx"
    sheet = [
        _SHEET_HEAD + b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
        b'</row><row r="2"><c r="A2" t="inlineStr"><is><t>',
        *_huge_text(300),
        b"</t></is></c></row></sheetData></worksheet>",
    ]
    _write_xlsx(path, sheet)
    assert path.stat().st_size < 2 * 2**20
    _refused(_load_bounded(path), "MAX_CELL_CHARS")


def test_xlsx_huge_shared_string_is_refused(tmp_path):
    path = tmp_path / "shared.xlsx"
    sheet = [
        _SHEET_HEAD + b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row>'
        b'<row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>'
    ]
    shared = [
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>name</t></si><si><t>',
        *_huge_text(64),
        b"</t></si></sst>",
    ]
    _write_xlsx(path, sheet, shared)
    _refused(_load_bounded(path), "MAX_CELL_CHARS")


def _many_rows(n_rows: int, n_cols: int, *, dimension: bool):
    head = _SHEET_HEAD
    if dimension:
        head += b'<dimension ref="A1:%s%d"/>' % (bytes([64 + n_cols]), n_rows)
    yield head + b"<sheetData>"
    row = b"<row>" + b"<c><v>1</v></c>" * n_cols + b"</row>"
    for _ in range(n_rows // 10_000):
        yield row * 10_000
    yield b"</sheetData></worksheet>"


def test_xlsx_with_200k_rows_is_refused_before_openpyxl_reads_it(tmp_path):
    path = tmp_path / "rows.xlsx"
    _write_xlsx(path, list(_many_rows(200_000, 20, dimension=True)))
    assert path.stat().st_size < 2**20
    _refused(_load_bounded(path), "MAX_XLSX_CELLS")


def test_xlsx_rows_are_counted_even_without_a_dimension_and_the_limit_is_settable(tmp_path):
    path = tmp_path / "rows.xlsx"
    _write_xlsx(path, list(_many_rows(200_000, 2, dimension=False)))
    out = _load_bounded(path, PRIVLENS_MAX_XLSX_CELLS="100000")
    _refused(out, "MAX_XLSX_CELLS")
    assert "100,000" in out["message"]


# --- JSON and CSV ---------------------------------------------------------------------------


def test_deeply_nested_json_is_refused(tmp_path):
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 1_000_000 + b"]" * 1_000_000)
    _refused(_load_bounded(path), "MAX_JSON_DEPTH")


def test_json_object_with_a_million_keys_is_refused(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("{" + ",".join(f'"k{i}": [{i}]' for i in range(1_000_000)) + "}")
    _refused(_load_bounded(path), "MAX_JSON_KEYS")


def test_json_record_with_a_million_keys_is_refused(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("[{" + ",".join(f'"k{i}": {i}' for i in range(1_000_000)) + "}]")
    _refused(_load_bounded(path), "MAX_JSON_KEYS")


def test_csv_with_100000_columns_is_refused(tmp_path):
    path = tmp_path / "wide.csv"
    n = 100_000
    path.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n")
    _refused(_load_bounded(path), "MAX_COLUMNS")


# --- in-process: each limit is read at call time and named in the message --------------------


@pytest.mark.parametrize(
    ("limit", "value", "data", "name"),
    [
        ("MAX_ROWS", 3, b"a\n1\n2\n3\n4\n", "r.csv"),
        ("MAX_CELLS", 5, b"a,b\n1,2\n3,4\n5,6\n", "c.csv"),
        ("MAX_COLUMNS", 2, b"a,b,c\n1,2,3\n", "w.csv"),
        ("MAX_CELL_CHARS", 10, b"a\n" + b"x" * 11 + b"\n", "s.csv"),
        ("MAX_ROWS", 2, b'[{"a": 1}, {"a": 2}, {"a": 3}]', "r.json"),
        ("MAX_ROWS", 2, b'{"a": 1}\n{"a": 2}\n{"a": 3}\n', "r.jsonl"),
        ("MAX_CELLS", 3, b'{"a": [1, 2], "b": [3, 4]}', "c.json"),
        ("MAX_JSON_KEYS", 2, b'[{"a": 1, "b": 2, "c": 3}]', "k.json"),
    ],
)
def test_each_limit_is_named_with_how_to_raise_it(monkeypatch, limit, value, data, name):
    monkeypatch.setattr(limits, limit, value)
    with pytest.raises(ResourceLimitError, match=f"PRIVLENS_{limit}") as exc:
        load(data, filename=name)
    assert exc.value.limit == limit


def test_parquet_limits_from_metadata(monkeypatch):
    buf = io.BytesIO()
    pq.write_table(pa.table({"a": list(range(10)), "b": ["x"] * 10}), buf)
    monkeypatch.setattr(limits, "MAX_ROWS", 9)
    with pytest.raises(ResourceLimitError, match="PRIVLENS_MAX_ROWS"):
        load(buf.getvalue(), filename="p.parquet")
    monkeypatch.setattr(limits, "MAX_ROWS", 10)
    monkeypatch.setattr(limits, "MAX_COLUMNS", 1)
    with pytest.raises(ResourceLimitError, match="PRIVLENS_MAX_COLUMNS"):
        load(buf.getvalue(), filename="p.parquet")


def test_limits_are_read_from_the_environment():
    code = "from core import limits; print(limits.MAX_ROWS, limits.MAX_CELL_CHARS)"
    env = {**os.environ, "PRIVLENS_MAX_ROWS": "1234", "PRIVLENS_MAX_CELL_CHARS": "99"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.stdout.split() == ["1234", "99"], out.stderr
    env["PRIVLENS_MAX_ROWS"] = "lots"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert out.returncode != 0 and "PRIVLENS_MAX_ROWS" in out.stderr
