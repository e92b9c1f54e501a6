"""Real browser: the whole flow a new user walks, with a screenshot of every page.

Open the app (sample loaded) → upload a CSV → adjust a role → correlations heatmap → risk
numbers → differential privacy, move ε and see the curve change → masking, the risk improves
→ export encrypted → download → decrypt with the command line → the result equals the
hardened table. At every step: no Streamlit exception element and no traceback text.

Screenshots go to ``$PRIVLENS_SCREENSHOT_DIR`` when it is set (the README's pictures are made
with ``PRIVLENS_SCREENSHOT_DIR=docs/screenshots``), else to the test's temporary folder.
"""

from __future__ import annotations

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
PASSPHRASE = "violet harbour tundra 77 anchor"


def _value(page: Page, label: str) -> int:
    card = page.get_by_test_id("stMetric").filter(has_text=label).first
    return int(card.get_by_test_id("stMetricValue").inner_text().replace(",", ""))


def _settled(page: Page) -> None:
    wait_idle(page)
    expect(page.locator("[data-stale='true']")).to_have_count(0, timeout=60_000)


def test_whole_flow(page: Page, tmp_path: Path):
    from core.data import load
    from core.export import export_table
    from core.masking import key_from_text
    from core.recipe import Recipe, apply
    from core.samples import patients

    shots = Path(os.environ.get("PRIVLENS_SCREENSHOT_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 1300})

    def shot(name: str) -> None:
        _settled(page)
        assert_no_exception(page)
        page.screenshot(path=str(shots / f"{name}.png"))

    # 1. The app opens on the built-in sample.
    wait_idle(page)
    expect(page.get_by_role("heading", name="PrivLens")).to_be_visible()
    expect(page.get_by_text("32,561").first).to_be_visible()
    shot("home")

    # 2. Upload a CSV: the synthetic patients table.
    csv_path = tmp_path / "patients.csv"
    patients(1_500).to_csv(csv_path, index=False)
    go_to(page, "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(csv_path)
    expect(page.get_by_text("Loaded 1,500 rows × 11 columns")).to_be_visible()
    expect(page.get_by_role("heading", name="Preview: patients.csv")).to_be_visible()
    expect(page.get_by_text("Direct identifier: 6")).to_be_visible()

    # 3. Adjust a role: charges is not sensitive here, just "other".
    page.locator(".st-key-data_role_column").get_by_role("combobox").click()
    page.keyboard.type("charges")  # the option list is virtualized: filter it first
    page.get_by_role("option", name="charges", exact=True).click()
    page.locator(".st-key-data_role_value").get_by_role("combobox").click()
    page.keyboard.type("Other")
    page.get_by_role("option", name="Other", exact=True).click()
    page.get_by_role("button", name="Set role").click()
    expect(page.get_by_text("Sensitive attribute: 1")).to_be_visible()
    expect(page.get_by_text("Other: 1")).to_be_visible()
    shot("data")

    # 4. Correlations: the heatmap is drawn. The patients table has one number left once its
    # identifier columns (patient_id included) load as text, so the matrix is the association
    # one, over every column type.
    go_to(page, "Correlations")
    page.locator(".st-key-corr_method").get_by_text("Association", exact=True).click()
    heat = page.get_by_test_id("stPlotlyChart").first
    expect(heat.locator(".main-svg").first).to_be_visible(timeout=60_000)
    shot("correlations")

    # 5. Re-identification risk: the numbers.
    go_to(page, "Re-identification risk")
    k_card = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(k_card).to_have_count(1)
    k_before = _value(page, "k (k-anonymity)")
    uniques_before = _value(page, "Sample uniques")
    assert k_before == 1 and uniques_before > 0
    shot("risk")

    # 6. Differential privacy: move ε, the curve changes.
    go_to(page, "Differential privacy")
    curve = page.get_by_test_id("stPlotlyChart").filter(has_text="Error against ε")
    expect(curve.filter(has_text="ε = 1")).to_have_count(1, timeout=60_000)
    slider = page.get_by_role("slider", name="Epsilon (ε)")
    slider.focus()
    slider.press("End")
    expect(page.locator(".st-key-dp_eps").get_by_test_id("stSliderThumbValue")).to_have_text(
        "10", timeout=60_000
    )
    expect(curve.filter(has_text="ε = 10")).to_have_count(1, timeout=60_000)
    slider.press("Home")
    expect(curve.filter(has_text="ε = 0.01")).to_have_count(1, timeout=60_000)
    shot("dp")

    # 7. Masking: suppression until k-anonymous; the risk improves.
    go_to(page, "Masking")
    mk = page.get_by_test_id("stMetric").filter(has_text="k (k-anonymity)")
    expect(mk).to_have_count(1)
    page.get_by_text("Suppress until k-anonymous").click()
    expect(mk.get_by_test_id("stMetricValue")).to_have_text("5", timeout=60_000)
    _settled(page)
    assert _value(page, "Sample uniques") == 0 < uniques_before
    recipe_path, key_path = save_recipe_key_and_hand_off(page, tmp_path)
    shot("masking")

    # 8. Export encrypted with a passphrase, and download.
    go_to(page, "Export")
    # Export exports the current recipe by itself, and says which
    expect(page.get_by_text("Exporting the current recipe:")).to_be_visible()
    page.get_by_text("A passphrase", exact=True).click()
    wait_idle(page)
    for label in ("Passphrase", "Repeat the passphrase"):
        box = page.get_by_label(label, exact=True)
        box.fill(PASSPHRASE)
        box.press("Enter")
        wait_idle(page)
    download = page.get_by_test_id("stDownloadButton").filter(
        has_text="Download privlens-export.zip.plenc"
    )
    expect(download.get_by_role("button")).to_be_enabled()
    shot("export")
    encrypted = save_download(page, download.get_by_role("button"), tmp_path)
    assert encrypted.read_bytes().startswith(b"privlens-encryption/v1\n")
    _settled(page)
    assert_no_exception(page)

    # The Decrypt page, as the recipient sees it.
    go_to(page, "Decrypt")
    shot("decrypt")

    # 9. Decrypt with the command line; the table equals the hardened table.
    pass_file = tmp_path / "pass.txt"
    pass_file.write_text(PASSPHRASE + "\n")
    plain = tmp_path / "out.zip"
    proc = subprocess.run(
        [sys.executable, "-m", "core", "decrypt", str(encrypted), "--passphrase-file",
         str(pass_file), "-o", str(plain)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert PASSPHRASE not in proc.stdout + proc.stderr
    recipe = Recipe.from_json(recipe_path.read_bytes())
    secrets = {n: key_from_text(key_path.read_text()) for n in recipe.secrets_needed()}
    uploaded = load(csv_path).frame  # what the app loaded from the upload
    expected = apply(uploaded, recipe, secrets=secrets).frame
    with zipfile.ZipFile(plain) as zf:
        table = zf.read("privlens-export.csv")
    assert table == export_table(expected, "csv").data
    released = load(table, filename="t.csv").frame
    qis = list(next(s for s in recipe.steps if s.transform == "suppress").columns)
    assert released.groupby(qis, dropna=False).size().min() >= 5
    # no raw direct identifier survives in the released table
    raw = patients(1_500)
    for col in ("email", "ssn", "card_number"):
        if col in released.columns:
            assert not set(raw[col].astype(str)) & set(released[col].astype(str))
