"""Real browser: set a recipe on Masking, export it encrypted, decrypt it with the CLI.

Export always exports the workspace's current recipe (no hand-over step). The downloaded
file is decrypted by ``python -m core decrypt`` in a subprocess and its table is compared,
byte for byte, with the hardened table recomputed in the test: the recipe comes from the
bundle, the pseudonymization key is downloaded from the Masking page, then
``core.recipe.apply`` replays that recipe on the Adult sample the app loaded. The bundle's
report lists this export in its audit trail, and the page's history counts it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.helpers import assert_no_exception, go_to, save_download, wait_idle

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "quartz lantern orbit meadow 42"


def test_encrypted_export_decrypts_to_the_current_recipes_table(page: Page, tmp_path: Path):
    from core.data import load
    from core.export import export_table
    from core.masking import key_from_text
    from core.recipe import Recipe, apply
    from core.samples import adult

    wait_idle(page)
    go_to(page, "Masking")
    expect(page.get_by_role("heading", name="Masking", exact=True)).to_be_visible()
    page.get_by_text("Suppress until k-anonymous").click()
    wait_idle(page)
    assert_no_exception(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Pseudonymization key").click()
    key_path = save_download(page, sidebar.get_by_role("button", name="Download key"), tmp_path)
    wait_idle(page)

    go_to(page, "Export")
    headline = page.get_by_test_id("stAlert").filter(has_text="Exporting the current recipe:")
    expect(headline).to_contain_text("k = 5", timeout=60_000)
    expect(page.get_by_role("link", name="Change the recipe on the Masking page")).to_be_visible()
    page.get_by_text("A passphrase", exact=True).click()
    wait_idle(page)
    download = page.get_by_test_id("stDownloadButton").filter(
        has_text="Download privlens-export.zip.plenc"
    )
    expect(download.get_by_role("button")).to_be_disabled()  # no passphrase yet
    for label in ("Passphrase", "Repeat the passphrase"):
        box = page.get_by_label(label, exact=True)
        box.fill(PASSPHRASE)
        box.press("Enter")
        wait_idle(page)
    expect(download.get_by_role("button")).to_be_enabled()
    assert_no_exception(page)
    encrypted = save_download(page, download.get_by_role("button"), tmp_path, timeout=120_000)
    assert encrypted.name == "privlens-export.zip.plenc"
    assert encrypted.read_bytes().startswith(b"privlens-encryption/v1\n")
    assert PASSPHRASE.encode() not in encrypted.read_bytes()
    wait_idle(page)
    assert_no_exception(page)
    # the download's on_click recorded the export in the workspace's history
    expect(page.get_by_text("1 earlier export(s)")).to_be_visible(timeout=30_000)

    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    plain = tmp_path / "privlens-export.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "decrypt", str(encrypted), "--passphrase-file",
         str(pass_file), "-o", str(plain)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert PASSPHRASE not in proc.stdout + proc.stderr

    with zipfile.ZipFile(plain) as zf:
        table = zf.read("privlens-export.csv")
        recipe = Recipe.from_json(zf.read("recipe.json"))
        report = json.loads(zf.read("report.json"))
    suppress = [s for s in recipe.steps if s.transform == "suppress"]
    assert suppress and suppress[0].params["k"] == 5  # the transform we set on Masking
    secrets = {n: key_from_text(key_path.read_text()) for n in recipe.secrets_needed()}
    expected = apply(adult().frame, recipe, secrets=secrets).frame
    # exact: the same bytes as the recomputed hardened table exported the same way
    assert table == export_table(expected, "csv").data
    loaded = load(table, filename="privlens-export.csv").frame
    assert loaded.shape == expected.shape
    sizes = loaded.groupby(list(suppress[0].columns), dropna=False).size()
    assert sizes.min() >= 5  # what the Masking page set
    assert report["dataset"]["released"]["rows"] == len(expected)
    (this,) = report["audit"]["exports"]  # the report inside lists this very export
    assert (this["format"], this["encryption"]) == ("csv", "passphrase")
    assert PASSPHRASE not in json.dumps(report)

    # the export settings come back after a round trip; the passphrase does not
    go_to(page, "Masking")
    go_to(page, "Export")
    expect(page.get_by_role("radio", name="A passphrase", exact=True)).to_be_checked()
    expect(page.get_by_label("Passphrase", exact=True)).to_have_value("")
    assert_no_exception(page)
