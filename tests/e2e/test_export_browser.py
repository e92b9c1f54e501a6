"""Real browser: harden on Masking, export encrypted with a passphrase, decrypt with the CLI.

The downloaded file is decrypted by ``python -m core decrypt`` in a subprocess and its table
is compared, byte for byte, with the hardened table recomputed in the test: the recipe and
the pseudonymization key are downloaded from the Masking page, then ``core.recipe.apply``
replays that recipe on the Adult sample the app loaded.
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

from tests.e2e.helpers import (
    assert_no_exception,
    go_to,
    save_download,
    save_recipe_key_and_hand_off,
    wait_idle,
)

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "quartz lantern orbit meadow 42"


def test_encrypted_export_decrypts_to_the_hardened_table(page: Page, tmp_path: Path):
    from core.data import load
    from core.export import export_table
    from core.masking import key_from_text
    from core.recipe import Recipe, apply
    from core.samples import adult

    wait_idle(page)
    go_to(page, "Masking")
    expect(page.get_by_role("heading", name="Masking", exact=True)).to_be_visible()
    k_card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    page.get_by_text("Suppress until k-anonymous").click()
    expect(k_card.get_by_test_id("stMetricValue")).to_have_text("5", timeout=60_000)
    wait_idle(page)
    assert_no_exception(page)

    recipe_path, key_path = save_recipe_key_and_hand_off(page, tmp_path)
    wait_idle(page)

    go_to(page, "Export")
    expect(page.get_by_text("Exporting the hardened table from the Masking page")).to_be_visible()
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

    recipe = Recipe.from_json(recipe_path.read_bytes())
    assert any(s.transform == "suppress" for s in recipe.steps)  # the transform we applied
    secrets = {n: key_from_text(key_path.read_text()) for n in recipe.secrets_needed()}
    expected = apply(adult().frame, recipe, secrets=secrets).frame
    with zipfile.ZipFile(plain) as zf:
        table = zf.read("privlens-export.csv")
        assert json.loads(zf.read("recipe.json")) == recipe.to_dict()
        report = json.loads(zf.read("report.json"))
    # exact: the same bytes as the recomputed hardened table exported the same way
    assert table == export_table(expected, "csv").data
    loaded = load(table, filename="privlens-export.csv").frame
    assert loaded.shape == expected.shape
    qis = list(next(s for s in recipe.steps if s.transform == "suppress").columns)
    sizes = loaded.groupby(qis, dropna=False).size()
    assert sizes.min() >= 5  # what the Masking page showed
    assert report["dataset"]["released"]["rows"] == len(expected)
