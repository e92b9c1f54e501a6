"""Real browser: an awkward CSV goes in through the Data page and out through the Export page
with its postal codes and 20-digit account numbers unchanged."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.awkward_corpus import ACCOUNT, CSV_TEXT, ZIP, csv_bytes
from tests.e2e.helpers import assert_no_exception, go_to, save_download, wait_idle

pytestmark = pytest.mark.e2e


def _preview_cells(page: Page, text: str):
    """Cells of the Data page's preview grid holding exactly ``text``. The grid draws on a
    canvas; its hidden accessible table carries the same cell texts."""
    grid = page.get_by_test_id("stDataFrame").first
    return grid.locator("td[role=gridcell]", has_text=re.compile("^" + re.escape(text) + "$"))


def test_awkward_csv_keeps_zip_and_account_from_upload_to_download(
    page: Page, tmp_path: Path, server_log: Path
):
    wait_idle(page)
    go_to(page, "Data")
    src = tmp_path / "awkward.csv"
    src.write_bytes(csv_bytes())
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(src)
    expect(page.get_by_text("Loaded 4 rows × 9 columns")).to_be_visible()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Preview: awkward.csv")).to_be_visible()
    expect(_preview_cells(page, ZIP)).to_have_count(1)
    expect(_preview_cells(page, ACCOUNT)).to_have_count(1)
    expect(_preview_cells(page, "12345678901234567891")).to_have_count(1)
    expect(_preview_cells(page, "00501")).to_have_count(1)
    assert_no_exception(page)

    go_to(page, "Export")
    expect(page.get_by_text("this exports the loaded table as is")).to_be_visible()
    page.get_by_text("Bundle with recipe and report (zip)").click()  # the plain CSV file
    wait_idle(page)
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Download privlens-export.csv")
    path = save_download(page, button.get_by_role("button"), tmp_path)
    data = path.read_bytes()
    assert ZIP.encode() in data and ACCOUNT.encode() in data

    # Every identifier comes back as it went in (the phone and text columns too).
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    source = list(csv.reader(io.StringIO(CSV_TEXT, newline="")))
    assert rows[0] == source[0]
    for column in ("zip", "account", "code", "name"):
        i = source[0].index(column)
        assert [r[i] for r in rows[1:]] == [r[i] for r in source[1:]], column
    assert_no_exception(page)
    assert "Traceback" not in server_log.read_text()


#: Each other format, with how many preview cells hold the account number.
OTHER_FORMATS = {
    "awkward.parquet": 2,  # the text column and the uint64 column
    "awkward.xlsx": 1,
    "awkward.json": 2,  # the JSON number and the JSON string
}


def test_other_awkward_formats_preview_zip_and_account_unchanged(page: Page, tmp_path: Path):
    """One upload after another in the same tab (each replaces the last)."""
    from tests.awkward_corpus import FILES

    wait_idle(page)
    go_to(page, "Data")
    for name, accounts in OTHER_FORMATS.items():
        src = tmp_path / name
        src.write_bytes(FILES[name]())
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(src)
        expect(page.get_by_text(f"from '{name}'"), name).to_be_visible()
        wait_idle(page)
        expect(page.get_by_role("heading", name=f"Preview: {name}"), name).to_be_visible()
        expect(_preview_cells(page, ZIP), name).to_have_count(1)
        expect(_preview_cells(page, ACCOUNT), name).to_have_count(accounts)
        assert_no_exception(page, name)
