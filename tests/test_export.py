"""Export formats, formula-injection neutralization, bundles and encrypted exports."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from core import crypto
from core.data import load
from core.errors import InvalidParameterError, WrongKeyError
from core.export import (
    FORMATS,
    encrypt_export,
    export_bundle,
    export_table,
    neutralize_formulas,
)

DANGEROUS = ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx", '=HYPERLINK("http://x")']


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [1, 2, 3],
            "name": ["Zoë", None, "=1+1"],
            "balance": [-5.5, 0.0, 12.25],
            "when": pd.to_datetime(["2024-01-02", None, "2023-12-31"]),
        }
    )


@pytest.mark.parametrize("value", DANGEROUS)
def test_every_formula_prefix_is_neutralized_in_csv(value):
    frame = pd.DataFrame({"t": [value, "plain"], "n": [-1, 1]})
    out, n = neutralize_formulas(frame)
    assert n == 1
    assert out["t"].tolist() == ["'" + value, "plain"]
    assert out["n"].tolist() == [-1, 1]  # numbers keep their sign


def test_csv_neutralization_is_switchable_and_keeps_missing():
    f_on = export_table(_frame(), "csv")
    f_off = export_table(_frame(), "csv", neutralize_formulas_in_csv=False)
    assert "'=1+1" in f_on.data.decode() and f_on.neutralized_cells == 1
    assert "'=1+1" not in f_off.data.decode() and f_off.neutralized_cells == 0
    back = pd.read_csv(io.BytesIO(f_on.data))
    assert back["name"].isna().tolist() == [False, True, False]
    assert back["balance"].tolist() == [-5.5, 0.0, 12.25]


def test_xlsx_never_stores_text_as_formulas():
    # A carriage return cannot be stored unchanged in XLSX (XML reads it back as a line
    # feed), so that export is refused (tests/test_export_faithful.py); the rest go in.
    storable = [v for v in DANGEROUS if "\r" not in v]
    frame = pd.DataFrame({"t": storable, "n": range(len(storable))})
    f = export_table(frame, "xlsx")
    sheet = load_workbook(io.BytesIO(f.data)).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.data_type for c in cells] == ["s"] * len(storable)
    assert [c.value for c in cells] == storable


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_back_with_the_loader(fmt):
    frame = _frame()
    f = export_table(frame, fmt, name="out", neutralize_formulas_in_csv=False)
    assert f.filename == f"out.{fmt}"
    back = load(f.data, filename=f.filename).frame
    # Its name marks "id" as a code: CSV and JSON load it back as text, the others as stored.
    assert back["id"].astype(str).tolist() == ["1", "2", "3"]
    assert back["name"].iloc[0] == "Zoë" and pd.isna(back["name"].iloc[1])
    np.testing.assert_allclose(back["balance"].to_numpy(float), [-5.5, 0.0, 12.25])


def test_unknown_format_and_xlsx_row_limit(monkeypatch):
    with pytest.raises(InvalidParameterError, match="format must be one of"):
        export_table(_frame(), "sav")
    monkeypatch.setattr("core.export.XLSX_MAX_ROWS", 2)
    with pytest.raises(InvalidParameterError, match="at most 2 data rows"):
        export_table(_frame(), "xlsx")


def test_bundle_holds_table_recipe_report_and_manifest():
    f = export_bundle(
        _frame(),
        "csv",
        recipe_json='{"version": 1}',
        report_html="<html></html>",
        report_json='{"k": 2}',
    )
    zf = zipfile.ZipFile(io.BytesIO(f.data))
    assert sorted(zf.namelist()) == [
        "manifest.json",
        "privlens-export.csv",
        "recipe.json",
        "report.html",
        "report.json",
    ]
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["rows"] == 3 and manifest["columns"] == ["id", "name", "balance", "when"]


def test_encrypted_export_round_trip_with_key_and_passphrase():
    f = export_table(_frame(), "parquet")
    key = crypto.generate_key()
    enc = encrypt_export(f, key=key)
    assert enc.filename == "privlens-export.parquet.plenc"
    assert crypto.decrypt_bytes(enc.data, key=key) == f.data
    enc2 = encrypt_export(f, passphrase="correct horse battery staple", work_factor=10)
    assert crypto.decrypt_bytes(enc2.data, passphrase="correct horse battery staple") == f.data
    with pytest.raises(WrongKeyError):
        crypto.decrypt_bytes(enc2.data, passphrase="wrong")


def test_age_export_needs_a_passphrase_and_round_trips():
    f = export_table(_frame(), "csv")
    with pytest.raises(InvalidParameterError, match="needs a passphrase"):
        encrypt_export(f, key=crypto.generate_key(), age=True)
    enc = encrypt_export(f, passphrase="pw for age", age=True, work_factor=10)
    assert enc.filename.endswith(".csv.age")
    assert enc.data.startswith(b"age-encryption.org/v1\n")
    assert crypto.decrypt_bytes(enc.data, passphrase="pw for age") == f.data


def test_build_download_bundles_and_encrypts_in_one_call():
    from core.export import build_download

    frame = _frame()
    plain = build_download(frame, "csv", bundle=True, recipe_json='{"steps": []}')
    assert zipfile.ZipFile(io.BytesIO(plain.data)).namelist()[0] == "privlens-export.csv"
    key = crypto.generate_key()
    enc = build_download(frame, "parquet", key=key)
    back = load(crypto.decrypt_bytes(enc.data, key=key), filename="x.parquet").frame
    assert back["id"].tolist() == [1, 2, 3]
