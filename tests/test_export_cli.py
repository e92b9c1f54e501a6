"""``python -m core harden`` exports: faithful or refused in one clean line, plain names.

A table the chosen format cannot hold ends in one ``error:`` line naming the column, with no
traceback and no cell value; the output's file name (which names the zip entry of a bundle)
must be plain; plain CSV output neutralizes formulas as the Export page does.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from core import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pass_file(tmp_path):
    path = tmp_path / "pass.txt"
    path.write_text("export test passphrase: violet anchor mango tundra\n")
    return path


def _bin_recipe(path: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "source_columns": [],
                "steps": [{"transform": "bin_width", "column": "age", "params": {"width": 10}}],
            }
        )
    )
    return path


HOSTILE_SECRET = "s3cretCell"


@pytest.fixture
def hostile_table(tmp_path):
    """A small CSV whose 'note' column holds a control character next to a secret."""
    path = tmp_path / "hostile.csv"
    path.write_bytes(
        b"id,note,age\r\n1,a\x01" + HOSTILE_SECRET.encode() + b",30\r\n2,ok,40\r\n3,fine,50\r\n"
    )
    return path, _bin_recipe(tmp_path / "bin.json")


@pytest.mark.parametrize(
    ("output", "extra"),
    [
        ("out.zip", ["--bundle", "--table-format", "xlsx"]),
        ("out.xlsx.plenc", ["--encrypt"]),
    ],
)
def test_harden_xlsx_with_a_control_character_is_one_clean_line(
    tmp_path, hostile_table, pass_file, output, extra
):
    table, recipe = hostile_table
    secret = ["--passphrase-file", str(pass_file)] if "--encrypt" in extra else []
    code, out, err = run(
        "harden", str(table), "--recipe", str(recipe), *secret, "-o", str(tmp_path / output),
        *extra,
    )  # fmt: skip
    assert code == 1 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "'note'" in errors[0] and "control character" in errors[0]
    assert "Traceback" not in err and HOSTILE_SECRET not in err and "\x01" not in err
    assert not (tmp_path / output).exists()


def test_harden_xlsx_failure_in_a_subprocess_prints_no_traceback(
    tmp_path, hostile_table, pass_file
):
    table, recipe = hostile_table
    proc = subprocess.run(
        [sys.executable, "-m", "core", "harden", str(table), "--recipe", str(recipe),
         "--bundle", "--table-format", "xlsx", "-o", str(tmp_path / "o.zip")],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and HOSTILE_SECRET not in proc.stderr + proc.stdout
    assert proc.stderr.strip().splitlines()[-1].startswith("error: XLSX cannot hold column")


@pytest.mark.parametrize(
    ("output", "extra", "message"),
    [
        ("..\\..\\evil.zip", ["--bundle"], "plain file name"),  # a zip entry '..\..\evil.csv'
        ("..\\evil.csv", [], "plain file name"),
        ("x:evil.csv", [], "plain file name"),
        ("../../evil", ["--bundle"], "must end in .zip"),
        ("../../evil", [], "must end in .csv, .parquet or .jsonl"),
    ],
)
def test_harden_output_must_end_in_a_plain_file_name(
    tmp_path, hostile_table, output, extra, message, monkeypatch
):
    table, recipe = hostile_table
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    code, out, err = run("harden", str(table), "--recipe", str(recipe), "-o", output, *extra)
    assert code == 1 and message in err and out == ""
    assert "Loading" not in err  # refused before the table was read
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted(
        ["a", "b", "bin.json", "hostile.csv"]
    )  # nothing written anywhere


def test_harden_plain_csv_neutralizes_formulas_in_names_and_cells(tmp_path):
    table = tmp_path / "f.csv"
    table.write_text('"=2+3",note,age\r\n1,"=1+1",30\r\n2,"x",40\r\n')
    recipe = _bin_recipe(tmp_path / "r.json")
    out_file = tmp_path / "o.csv"
    code, _, err = run("harden", str(table), "--recipe", str(recipe), "-o", str(out_file))
    assert code == 0, err
    data = out_file.read_bytes()
    rows = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert rows[0][:2] == ["'=2+3", "note"] and rows[1][1] == "'=1+1"
    assert data.count(b"\r\n") == 3  # RFC 4180 line ends
    code, _, err = run(
        "harden", str(table), "--recipe", str(recipe), "-o", str(tmp_path / "k.csv"),
        "--keep-formulas",
    )  # fmt: skip
    assert code == 0, err
    kept = list(csv.reader(io.StringIO((tmp_path / "k.csv").read_text(), newline="")))
    assert kept[0][0] == "=2+3" and kept[1][1] == "=1+1"


def test_harden_plain_jsonl_refuses_infinities_instead_of_writing_null(tmp_path):
    table = tmp_path / "inf.csv"
    table.write_text("ratio,age\ninf,30\n1.5,40\n")
    recipe = _bin_recipe(tmp_path / "r.json")
    out_file = tmp_path / "o.jsonl"
    code, _, err = run("harden", str(table), "--recipe", str(recipe), "-o", str(out_file))
    assert code == 1 and "'ratio'" in err and "infinite" in err and "Traceback" not in err
    assert not (tmp_path / "o.jsonl").exists()


def test_harden_plain_jsonl_keeps_every_digit_of_a_time(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("when,age\n2024-01-01T10:00:00.123456,30\n2024-01-02T00:00:00.5,40\n")
    recipe = _bin_recipe(tmp_path / "r.json")
    out_file = tmp_path / "o.jsonl"
    code, _, err = run("harden", str(table), "--recipe", str(recipe), "-o", str(out_file))
    assert code == 0, err
    rows = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert [r["when"] for r in rows] == ["2024-01-01T10:00:00.123456", "2024-01-02T00:00:00.500000"]
