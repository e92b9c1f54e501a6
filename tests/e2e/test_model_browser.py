"""Real browser: on the Model page, compress the shipped Adult model to int4 and download it
encrypted; core decrypts the file to exactly the compressed weights core writes itself.

A small table is loaded first, so the page's other tab (which trains on the loaded table)
stays quick.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import (
    assert_no_exception,
    choose,
    save_download,
    settle,
    upload_orchard,
    visit,
    wait_idle,
)

pytestmark = pytest.mark.e2e

PASSPHRASE = "walnut ferry copper 19 sails"


def test_compressed_model_downloads_encrypted_and_decrypts(page: Page, tmp_path: Path):
    from core import crypto
    from core.weights.sweep import CompressionSettings, measure, shipped_model_path

    wait_idle(page)
    upload_orchard(page, tmp_path, seed=18)
    visit(page, "Model")
    expect(page.get_by_role("heading", name="Model", exact=True)).to_be_visible()
    choose(page, page.get_by_test_id("stSelectbox").filter(has_text="Precision"), "int4 (quantize)")
    settle(page)
    assert_no_exception(page, "Model")
    want = measure(shipped_model_path("adult-logistic"), CompressionSettings(precision="int4"))
    written = page.get_by_test_id("stMetric").filter(has_text="File written")
    expect(written).to_contain_text(f"{want.point.written_bytes:,} B")

    download = page.get_by_test_id("stDownloadButton").filter(has_text="Download encrypted")
    expect(download.get_by_role("button")).to_be_disabled()  # no passphrase yet
    for label in ("Passphrase", "Passphrase again"):
        box = page.get_by_label(label, exact=True)
        box.fill(PASSPHRASE)
        box.press("Enter")
        wait_idle(page)
    expect(download.get_by_role("button")).to_be_enabled()
    path = save_download(page, download.get_by_role("button"), tmp_path)
    assert path.name == "adult-logistic-compressed.safetensors.plenc"
    assert crypto.decrypt_bytes(path.read_bytes(), passphrase=PASSPHRASE) == want.data
    assert_no_exception(page, "Model after the download")
