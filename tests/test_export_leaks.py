"""Leak test: nothing secret or raw leaves through an export, its report, recipe or the CLI.

A patients table (names, e-mails, phone numbers, SSNs, card numbers) is pseudonymized and
exported encrypted as a bundle with ``python -m core harden --encrypt --bundle``, then
decrypted. The passphrase, the pseudonymization key, the encryption key, and every raw value
of a pseudonymized column must be absent from every file in the bundle (table, recipe, JSON
and HTML report, manifest), from the encrypted file and from everything the CLI printed,
including its error messages.
"""

from __future__ import annotations

import base64
import io
import json
import re
import zipfile

import pytest

from core import cli, crypto
from core.samples import patients

PASSPHRASE = "leak test passphrase: violet anchor mango tundra"
PSEUDONYMIZED = ["name", "email", "phone", "ssn", "card_number"]
# Patterns that find every candidate of each raw value's shape in a text, so the check is a
# set intersection rather than 10,000 substring scans of a 5 MB report. They are matched at
# every start position (a lookahead), so a value right after another word is not skipped.
SHAPES = {
    "name": r"[^\W\d_][\w'’]+ [^\W\d_][\w'’]+",
    "email": r"[\w.+-]+@[\w-]+\.[\w.]+",
    "phone": r"\+1 \(\d{3}\) 555-\d{4}",
    "ssn": r"\d{3}-\d{2}-\d{4}",
    "card_number": r"\d{16}",
}


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def table():
    return patients()


@pytest.fixture(scope="module")
def exported(tmp_path_factory, table):
    d = tmp_path_factory.mktemp("leak")
    (d / "patients.csv").write_text(table.to_csv(index=False))
    recipe = {
        "schema_version": 1,
        "source_columns": [str(c) for c in table.columns],
        "steps": [
            *({"transform": "pseudonymize", "column": c, "params": {"length": 16}}
              for c in PSEUDONYMIZED),
            {"transform": "drop", "column": "patient_id"},
            {"transform": "suppress", "columns": ["zip", "sex", "birth_date"],
             "params": {"k": 2}},
        ],
    }  # fmt: skip
    (d / "recipe.json").write_text(json.dumps(recipe))
    logs = []
    code, out, err = run("keygen", "-o", str(d / "pseudonym.key"))
    logs += [out, err]
    code2, out, err = run("keygen", "--encryption", "-o", str(d / "export.key"))
    logs += [out, err]
    (d / "pass.txt").write_text(PASSPHRASE + "\n")
    assert code == code2 == 0
    runs = [
        ("p.zip.plenc", ["--passphrase-file", str(d / "pass.txt")]),
        ("k.zip.plenc", ["--encrypt-key-file", str(d / "export.key")]),
    ]
    for name, secret in runs:
        code, out, err = run(
            "harden", str(d / "patients.csv"), "--recipe", str(d / "recipe.json"),
            "--key-file", str(d / "pseudonym.key"), "--encrypt", *secret, "--bundle",
            "--qi", "zip,sex,birth_date", "--sensitive", "diagnosis", "--work-factor", "10",
            "-o", str(d / name),
        )  # fmt: skip
        assert code == 0, err
        logs += [out, err]
    for name, secret in [
        ("p", ["--passphrase-file", str(d / "pass.txt")]),
        ("k", ["--key-file", str(d / "export.key")]),
    ]:
        code, out, err = run(
            "decrypt", str(d / f"{name}.zip.plenc"), *secret, "-o", str(d / f"{name}.zip")
        )
        assert code == 0, err
        logs += [out, err]
    # failures print messages too: wrong passphrase, a recipe error, a damaged key file
    (d / "wrong.txt").write_text("not it\n")
    code, out, err = run(
        "decrypt", str(d / "p.zip.plenc"), "--passphrase-file", str(d / "wrong.txt"), "-o", "x"
    )
    assert code == 1
    logs += [out, err]
    bad = dict(recipe, steps=[{"transform": "bin_width", "column": "name",
                               "params": {"width": 5}}])  # fmt: skip
    (d / "bad.json").write_text(json.dumps(bad))
    code, out, err = run(
        "harden", str(d / "patients.csv"), "--recipe", str(d / "bad.json"), "-o", "x.csv"
    )
    assert code == 1 and "'name'" in err
    logs += [out, err]
    files = {}
    for name in ("p", "k"):
        with zipfile.ZipFile(d / f"{name}.zip") as zf:
            files.update({f"{name}/{n}": zf.read(n) for n in zf.namelist()})
        files[f"{name}.zip.plenc"] = (d / f"{name}.zip.plenc").read_bytes()
    return {
        "files": files,
        "logs": "\n".join(logs),
        "pseudonym_key": (d / "pseudonym.key").read_text().strip(),
        "export_key": crypto.key_from_text((d / "export.key").read_text()),
        "export_key_line": (d / "export.key").read_text().splitlines()[-1],
    }


def _secrets(exported):
    key = exported["export_key"]
    pkey = bytes.fromhex(exported["pseudonym_key"])
    return {
        "passphrase": PASSPHRASE.encode(),
        "pseudonym key (hex)": exported["pseudonym_key"].encode(),
        "pseudonym key (raw)": pkey,
        "pseudonym key (base64)": base64.b64encode(pkey),
        "export key line": exported["export_key_line"].encode(),
        "export key (raw)": key,
        "export key (hex)": key.hex().encode(),
        "export key (base64url)": base64.urlsafe_b64encode(key).rstrip(b"="),
    }


def test_bundle_is_complete(exported):
    names = {n.split("/", 1)[1] for n in exported["files"] if "/" in n}
    assert names == {"p.csv", "k.csv", "recipe.json", "report.json", "report.html",
                     "manifest.json"}  # fmt: skip


def test_no_secret_in_any_exported_file_or_cli_output(exported):
    blobs = {**exported["files"], "cli output": exported["logs"].encode()}
    for what, secret in _secrets(exported).items():
        for name, blob in blobs.items():
            assert secret not in blob, f"{what} found in {name}"
    assert PASSPHRASE not in exported["logs"] and "not it" not in exported["logs"]


@pytest.mark.parametrize("column", PSEUDONYMIZED)
def test_no_raw_value_of_a_pseudonymized_column(exported, table, column):
    raw = set(table[column].dropna().astype(str))
    assert len(raw) > 500  # the check has something to find
    pattern = re.compile(rf"(?=({SHAPES[column]}))")  # overlapping: every start position
    # the pattern does find raw values where they are (so an empty intersection means absent)
    assert raw & set(pattern.findall(table.to_csv(index=False)))
    texts = {n: b.decode("utf-8") for n, b in exported["files"].items() if not n.endswith("plenc")}
    texts["cli output"] = exported["logs"]
    for name, text in texts.items():
        found = raw & set(pattern.findall(text))
        assert not found, f"{len(found)} raw {column} value(s) in {name}"
