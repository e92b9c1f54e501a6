from __future__ import annotations

import hmac
import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from core import cli

ROOT = Path(__file__).resolve().parents[1]
ADULT = ROOT / "data" / "adult.csv"
QIS = ["age", "sex", "race"]

pytestmark = pytest.mark.skipif(not ADULT.exists(), reason="the Adult sample is not in data/")


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def adult():
    return pd.read_csv(ADULT, na_values=["?"], skipinitialspace=True)


@pytest.fixture
def key_file(tmp_path):
    path = tmp_path / "pseudonym.key"
    code, out, _ = run("keygen", "-o", str(path))
    assert code == 0 and "pseudonym.key" in out
    return path


@pytest.fixture
def recipe_file(tmp_path):
    recipe = {
        "schema_version": 1,
        "source_columns": [],
        "steps": [
            {"transform": "pseudonymize", "column": "fnlwgt", "params": {"length": 16}},
            {"transform": "bin_width", "column": "age", "params": {"width": 10}},
            {"transform": "drop", "column": "education-num"},
            {"transform": "suppress", "columns": QIS, "params": {"k": 10}},
        ],
    }
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(recipe))
    return path


def test_analyze_json_matches_an_independent_groupby(adult):
    code, out, err = run(
        "analyze", str(ADULT), "--qi", ",".join(QIS), "--sensitive", "income",
        "--na-values", "?", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    sizes = adult.groupby(QIS, dropna=False).size()
    per_record = adult.groupby(QIS, dropna=False)[QIS[0]].transform("size")
    assert report["rows"] == len(adult)
    assert report["risk"]["k"] == sizes.min()
    assert report["risk"]["classes"] == len(sizes)
    assert report["risk"]["sample_uniques"] == int((sizes == 1).sum())
    assert report["risk"]["average_risk"] == pytest.approx((1 / per_record).mean())
    assert report["risk"]["records_at_risk"] == int((1 / per_record > 0.2).sum())
    top = report["leakage"][0]
    assert top["sensitive"] == "income" and len(top["top"]) == 5
    assert top["baseline_accuracy"] == pytest.approx(
        adult["income"].value_counts(normalize=True).max()
    )
    assert "Loading adult.csv" in err and "Ranking columns" in err


def test_analyze_text_and_quiet():
    code, out, err = run("analyze", str(ADULT), "--qi", "age,sex", "--na-values", "?", "-q")
    assert code == 0 and err == ""
    assert "k-anonymity" in out and "average risk" in out and "Leakage" not in out


def test_harden_end_to_end(tmp_path, adult, key_file, recipe_file):
    output = tmp_path / "hardened.csv"
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "-o", str(output),
        "--key-file", str(key_file), "--na-values", "?",
    )  # fmt: skip
    assert code == 0, err
    assert "Step 4/4: Local suppression" in err and "Wrote hardened.csv" in out
    hardened = pd.read_csv(output, dtype={"fnlwgt": str})
    assert len(hardened) == len(adult) and "education-num" not in hardened.columns
    assert hardened.groupby(QIS, dropna=False).size().min() >= 10  # k reached
    key = bytes.fromhex(key_file.read_text().strip())
    first = str(adult["fnlwgt"].iloc[0]).encode()
    assert hardened["fnlwgt"].iloc[0] == hmac.new(key, first, "sha256").hexdigest()[:16]
    assert not set(adult["fnlwgt"].astype(str)) & set(hardened["fnlwgt"])
    assert set(hardened["age"].dropna()) <= {f"[{a}, {a + 10})" for a in range(10, 100, 10)}
    for text in (out, err):
        assert key.hex() not in text


def test_harden_json_summary_and_parquet(tmp_path, key_file, recipe_file):
    output = tmp_path / "h.parquet"
    code, out, _ = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "-o", str(output),
        "--key-file", f"pseudonym_key={key_file}", "--format", "json", "-q",
    )  # fmt: skip
    assert code == 0
    summary = json.loads(out)
    changes = {c["column"]: c for c in summary["changes"]}
    assert changes["education-num"]["dropped"] and changes["fnlwgt"]["cells_changed"] > 30_000
    assert pd.read_parquet(output).shape == (summary["rows"], summary["columns"])


def test_harden_prompts_for_a_missing_key_without_echoing_it(tmp_path, recipe_file, monkeypatch):
    typed = "a passphrase typed at the prompt"
    prompts = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.getpass, "getpass", lambda p: prompts.append(p) or typed)
    output = tmp_path / "o.csv"
    code, out, err = run("harden", str(ADULT), "--recipe", str(recipe_file), "-o", str(output))
    assert code == 0, err
    assert prompts == ["Key 'pseudonym_key' (hex or passphrase): "]
    assert typed not in out + err


def test_harden_without_key_and_no_terminal_is_a_clean_error(tmp_path, recipe_file, monkeypatch):
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, out, err = run("harden", str(ADULT), "--recipe", str(recipe_file), "-o", "x.csv")
    assert code == 1 and out == ""
    assert "needs the key 'pseudonym_key'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"schema_version": 9, "steps": []}, "schema version 9"),
        (
            {"schema_version": 1, "source_columns": ["zip"], "steps": [
                {"transform": "mask", "column": "zip"},
                {"transform": "mask", "column": "email"}]},
            "2 column(s) this data does not have: zip, email",
        ),
        ({"schema_version": 1, "steps": [{"transform": "bin_width", "column": "sex",
                                           "params": {"width": 5}}]}, "'sex' is text"),
    ],
)  # fmt: skip
def test_harden_recipe_errors_exit_1(tmp_path, recipe, message):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(recipe))
    code, _, err = run("harden", str(ADULT), "--recipe", str(path), "-o", str(tmp_path / "o.csv"))
    assert code == 1 and message in err and "Traceback" not in err


def test_data_errors_exit_1(tmp_path, recipe_file, key_file):
    code, _, err = run("analyze", str(tmp_path / "missing.csv"), "--qi", "age")
    assert code == 1 and "missing.csv" in err
    code, _, err = run("analyze", str(ADULT), "--qi", "age,nope", "-q")
    assert code == 1 and "nope" in err
    code, _, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "-o", str(tmp_path / "o.xlsx"),
        "--key-file", str(key_file), "-q",
    )  # fmt: skip
    assert code == 1 and ".csv, .parquet or .jsonl" in err
    short = tmp_path / "short.key"
    short.write_text("tiny")
    code, _, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "-o", str(tmp_path / "o.csv"),
        "--key-file", str(short), "-q",
    )  # fmt: skip
    assert code == 1 and "at least 16 bytes; got 4" in err and "tiny" not in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["explode"],
        ["analyze", str(ADULT)],  # --qi missing
        ["harden", str(ADULT), "--recipe", "r.json"],  # -o missing
        ["analyze", str(ADULT), "--qi", "age", "--format", "xml"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_keygen_file_is_private_and_never_overwritten(key_file):
    text = key_file.read_text()
    assert len(text.strip()) == 64 and int(text, 16) >= 0
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    code, _, err = run("keygen", "-o", str(key_file))
    assert code == 1 and "already exists" in err and key_file.read_text() == text


def test_python_dash_m_core_in_a_subprocess(tmp_path, key_file, recipe_file):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    ok = subprocess.run(
        [sys.executable, "-m", "core", "harden", str(ADULT), "--recipe", str(recipe_file),
         "-o", str(tmp_path / "o.jsonl"), "--key-file", str(key_file), "--na-values", "?"],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "o.jsonl").read_text().count("\n") == 32_561
    usage = subprocess.run(
        [sys.executable, "-m", "core", "harden"], cwd=ROOT, capture_output=True, text=True,
        env=env, timeout=60,
    )  # fmt: skip
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


# --- harden --encrypt / --bundle and decrypt ------------------------------------------------

PASSPHRASE = "correct horse battery staple of the cli tests"


@pytest.fixture
def pass_file(tmp_path):
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")  # the final line break is not part of the passphrase
    return path


@pytest.fixture
def enc_key_file(tmp_path):
    path = tmp_path / "export.key"
    code, out, _ = run("keygen", "--encryption", "-o", str(path))
    assert code == 0 and "encryption key file" in out
    return path


def _expected(recipe_file, key_file):
    """The hardened Adult table, recomputed in-process with core.recipe.apply."""
    from core.data import load
    from core.recipe import Recipe, apply

    frame = load(ADULT, na_values=("?",)).frame
    key = bytes.fromhex(key_file.read_text().strip())
    recipe = Recipe.from_json(recipe_file.read_bytes())
    return frame, recipe, apply(frame, recipe, secrets={"pseudonym_key": key})


def test_harden_encrypt_bundle_round_trip_on_adult(
    tmp_path, key_file, recipe_file, pass_file, adult
):
    import zipfile

    from core.data import load
    from core.export import export_table

    enc = tmp_path / "hardened.zip.plenc"
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
        "--na-values", "?", "--encrypt", "--passphrase-file", str(pass_file), "--bundle",
        "--qi", ",".join(QIS), "--sensitive", "income", "-o", str(enc),
    )  # fmt: skip
    assert code == 0, err
    assert enc.read_bytes().startswith(b"privlens-encryption/v1\n")
    assert "encrypted with the passphrase" in out and "Encrypting" in err
    plain = tmp_path / "hardened.zip"
    code, out2, err2 = run(
        "decrypt", str(enc), "--passphrase-file", str(pass_file), "-o", str(plain)
    )
    assert code == 0, err2
    assert "Decrypted and verified hardened.zip.plenc" in out2
    assert "scrypt 2^17" in err2  # the default work factor was used
    _, recipe, expected = _expected(recipe_file, key_file)
    with zipfile.ZipFile(plain) as zf:
        assert sorted(zf.namelist()) == sorted(
            ["hardened.csv", "recipe.json", "report.json", "report.html", "manifest.json"]
        )
        table = zf.read("hardened.csv")
        report = json.loads(zf.read("report.json"))
        assert json.loads(zf.read("recipe.json")) == recipe.to_dict()
    # byte for byte what the Export page would build from the same hardened frame
    assert table == export_table(expected.frame, "csv", name="hardened").data
    loaded = load(table, filename="hardened.csv").frame
    assert loaded.shape == expected.frame.shape == (len(adult), 14)
    assert loaded.groupby(QIS, dropna=False).size().min() >= 10
    # report figures against an independent groupby on the original and the loaded release
    assert report["risk_before"]["k"] == adult.groupby(QIS, dropna=False).size().min()
    assert report["risk_after"]["k"] == loaded.groupby(QIS, dropna=False).size().min()
    assert sorted(report["risk_after"]["quasi_identifiers"]) == sorted(QIS)


def test_harden_encrypt_with_key_file_parquet_equals_the_hardened_frame(
    tmp_path, key_file, recipe_file, enc_key_file
):
    enc = tmp_path / "h.parquet.plenc"
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
        "--na-values", "?", "--encrypt", "--encrypt-key-file", str(enc_key_file),
        "-o", str(enc), "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["encrypted"] == "privlens-key"
    plain = tmp_path / "h.parquet"
    code, _, err = run("decrypt", str(enc), "--key-file", str(enc_key_file), "-o", str(plain))
    assert code == 0, err
    _, _, expected = _expected(recipe_file, key_file)
    pd.testing.assert_frame_equal(pd.read_parquet(plain), expected.frame.reset_index(drop=True))


def test_harden_encrypt_age_opens_with_an_age_implementation(
    tmp_path, key_file, recipe_file, pass_file
):
    enc = tmp_path / "h.csv.age"
    code, _, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
        "--na-values", "?", "--encrypt", "--age", "--passphrase-file", str(pass_file),
        "--work-factor", "12", "-o", str(enc), "-q",
    )  # fmt: skip
    assert code == 0, err
    assert enc.read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt ")
    code, _, err = run(
        "decrypt", str(enc), "--passphrase-file", str(pass_file), "-o", str(tmp_path / "h.csv")
    )
    assert code == 0, err
    from core.export import export_table

    _, _, expected = _expected(recipe_file, key_file)
    want = export_table(expected.frame, "csv", name="h").data
    assert (tmp_path / "h.csv").read_bytes() == want
    pyrage = pytest.importorskip("pyrage")
    assert pyrage.passphrase.decrypt(enc.read_bytes(), PASSPHRASE) == want


def test_harden_prompts_twice_for_the_encryption_passphrase(
    tmp_path, key_file, recipe_file, monkeypatch
):
    prompts = []
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.getpass, "getpass", lambda p: prompts.append(p) or PASSPHRASE)
    enc = tmp_path / "h.json.plenc"
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
        "--encrypt", "--work-factor", "10", "-o", str(enc),
    )  # fmt: skip
    assert code == 0, err
    assert prompts == ["Passphrase: ", "Repeat the passphrase: "]
    assert PASSPHRASE not in out + err
    prompts.clear()
    code, _, err = run("decrypt", str(enc), "-o", str(tmp_path / "h.json"))
    assert code == 0, err and prompts == ["Passphrase: "]
    assert json.loads((tmp_path / "h.json").read_text())[0].keys() >= {"age", "fnlwgt"}


def test_harden_encrypt_prompt_mismatch_and_no_terminal(
    tmp_path, key_file, recipe_file, monkeypatch
):
    answers = iter(["first passphrase typed", "second passphrase typed"])
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli.getpass, "getpass", lambda p: next(answers))
    enc = tmp_path / "h.csv.plenc"
    argv = ["harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
            "--encrypt", "-o", str(enc), "-q"]  # fmt: skip
    code, out, err = run(*argv)
    assert code == 1 and "The two passphrases differ" in err and not enc.exists()
    assert "first passphrase" not in out + err and "second passphrase" not in out + err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, _, err = run(*argv)
    assert code == 1 and "--passphrase-file FILE" in err and not enc.exists()


def test_harden_weak_passphrase_is_warned_about_without_echoing_it(tmp_path, key_file, recipe_file):
    weak = tmp_path / "weak.txt"
    weak.write_text("password1\n")
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), "--key-file", str(key_file),
        "--encrypt", "--passphrase-file", str(weak), "--work-factor", "10",
        "-o", str(tmp_path / "h.csv.plenc"),
    )  # fmt: skip
    assert code == 0, err
    assert "warning: the passphrase is easy to guess" in err
    assert "password1" not in out + err


@pytest.mark.parametrize(
    ("output", "extra", "message"),
    [
        ("h.csv", ["--encrypt"], "must end in .plenc (e.g. hardened.csv.plenc); got 'h.csv'"),
        ("h.csv.plenc", ["--encrypt", "--age"], "must end in .age"),
        ("h.jsonl.plenc", ["--encrypt"], ".csv, .parquet, .xlsx or .json; got '.jsonl'"),
        ("h.csv", ["--bundle"], "its name must end in .zip; got 'h.csv'"),
        ("h.csv.plenc", ["--encrypt", "--bundle"], "plus the encryption suffix"),
    ],
)
def test_harden_export_names_are_checked_before_any_work(
    tmp_path, recipe_file, pass_file, output, extra, message
):
    secret = ["--passphrase-file", str(pass_file)] if "--encrypt" in extra else []
    code, out, err = run(
        "harden", str(ADULT), "--recipe", str(recipe_file), *secret,
        "-o", str(tmp_path / output), *extra,
    )  # fmt: skip
    assert code == 1 and message in err and out == ""
    assert "Loading" not in err  # refused before the table was read
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv", "--passphrase-file", "p"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv.age", "--age"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv.age", "--encrypt", "--age",
         "--encrypt-key-file", "k"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv.plenc", "--encrypt",
         "--passphrase-file", "p", "--encrypt-key-file", "k"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv.plenc", "--encrypt",
         "--work-factor", "21"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv", "--qi", "age"],
        ["decrypt", "f.plenc"],  # -o missing
        ["decrypt", "f.plenc", "-o", "o", "--key-file", "k", "--passphrase-file", "p"],
        # no such option, and no abbreviation of --passphrase-file either: a secret typed
        # there must not be taken for a file name (and echoed in "cannot use <name>")
        ["decrypt", "f.plenc", "-o", "o", "--passphrase", "secret"],
        ["harden", "f.csv", "--recipe", "r.json", "-o", "o.csv.plenc", "--encrypt",
         "--passphrase", "secret"],
    ],
)  # fmt: skip
def test_encryption_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert (
        "usage:" in err
        and "Traceback" not in err
        and "secret" not in err.replace("hold a secret", "")
    )


# --- decrypt failures: each has its own message, exit 1, and leaves no output -----------------

CHUNK = 1 << 16  # the smallest chunk size, so a 3.5-chunk file stays small


def _multi_chunk(**secret):
    from core import crypto

    data = os.urandom(3 * CHUNK + CHUNK // 2)
    return data, crypto.encrypt_bytes(data, work_factor=10, chunk_log2=16, **secret)


def _with_work_factor(blob: bytes, work: int) -> bytes:
    """A header naming another work factor, with its checksum fixed (a hostile file)."""
    import hashlib

    from core import crypto

    head = bytearray(blob[: crypto.HEADER_BYTES])
    head[crypto._OFF_WORK] = work
    head[crypto._OFF_CHECK :] = hashlib.sha256(head[: crypto._OFF_CHECK]).digest()[:16]
    return bytes(head) + blob[crypto.HEADER_BYTES :]


def _swap_chunks(blob: bytes) -> bytes:
    from core import crypto

    h, size = crypto.HEADER_BYTES, CHUNK + 16
    first, second = blob[h : h + size], blob[h + size : h + 2 * size]
    return blob[:h] + second + first + blob[h + 2 * size :]


def _flip(blob: bytes, at: int) -> bytes:
    b = bytearray(blob)
    b[at] ^= 0x01
    return bytes(b)


_H = 162  # header bytes of a PrivLens v1 file
DECRYPT_FAILURES = [
    # (case, how the file is altered, the words of its message)
    ("wrong passphrase", None, "The passphrase does not open this file"),
    ("flipped header byte", lambda b: _flip(b, 30), "header is damaged"),
    ("flipped payload byte", lambda b: _flip(b, _H + 100), "Chunk 1 of 4 failed authentication"),
    ("truncated inside a chunk", lambda b: b[: _H + CHUNK + 16 + 100], "ends inside chunk 2 of 4"),
    ("truncated at a boundary", lambda b: b[: _H + 2 * (CHUNK + 16)], "at a chunk boundary"),
    ("truncated header", lambda b: b[:100], "ends inside its header"),
    ("swapped chunks", _swap_chunks, "belongs at position 2"),
    ("appended bytes", lambda b: b + b"x" * 10, "follow the final chunk"),
    ("unknown format", lambda b: b"PK\x03\x04" + b[4:], "not a PrivLens or age encrypted file"),
    ("unknown version", lambda b: b.replace(b"/v1\n", b"/v9\n", 1), "format version 'v9'"),
    ("empty file", lambda b: b"", "The file is empty"),
    ("work factor over the cap", lambda b: _with_work_factor(b, 21), "work factor of 2^21"),
]


@pytest.mark.parametrize(
    ("case", "alter", "message"), DECRYPT_FAILURES, ids=[c[0] for c in DECRYPT_FAILURES]
)
def test_decrypt_failures_have_distinct_messages_and_exit_1(
    tmp_path, pass_file, case, alter, message
):
    _, blob = _multi_chunk(passphrase=PASSPHRASE)
    secret = pass_file
    if alter is None:
        secret = tmp_path / "wrong.txt"
        secret.write_text("not the passphrase at all\n")
    else:
        blob = alter(blob)
    enc = tmp_path / "data.bin.plenc"
    enc.write_bytes(blob)
    out_path = tmp_path / "data.bin"
    code, out, err = run("decrypt", str(enc), "--passphrase-file", str(secret), "-o", str(out_path))
    assert code == 1, (case, err)
    assert f"error: {message}" in err or message in err, err
    assert out == "" and "Traceback" not in err
    assert not out_path.exists()  # never a partial plaintext
    assert list(tmp_path.glob(".data.bin*")) == []  # nor a leftover temporary file
    assert PASSPHRASE not in err and "not the passphrase" not in err


def test_decrypt_failure_messages_are_distinct():
    # the message fragments above are pairwise different: one message per failure kind
    fragments = [m for _, _, m in DECRYPT_FAILURES]
    assert len(set(fragments)) == len(fragments)


def test_decrypt_key_mode_mismatches_and_a_wrong_key(tmp_path, pass_file, enc_key_file):
    from core import crypto

    data, blob = _multi_chunk(key=crypto.key_from_text(enc_key_file.read_text()))
    enc = tmp_path / "k.plenc"
    enc.write_bytes(blob)
    out_path = tmp_path / "k.bin"
    code, _, err = run(
        "decrypt", str(enc), "--passphrase-file", str(pass_file), "-o", str(out_path)
    )
    assert code == 1 and "encrypted with a key file, not a passphrase" in err
    other = tmp_path / "other.key"
    run("keygen", "--encryption", "-o", str(other))
    code, _, err = run("decrypt", str(enc), "--key-file", str(other), "-o", str(out_path))
    assert code == 1 and "The key does not open this file" in err and not out_path.exists()
    damaged = tmp_path / "damaged.key"
    damaged.write_text(enc_key_file.read_text().replace("privlens-key-v1:", "privlens-key-v1:x"))
    code, _, err = run("decrypt", str(enc), "--key-file", str(damaged), "-o", str(out_path))
    assert code == 1 and "damaged" in err and not out_path.exists()
    code, _, err = run("decrypt", str(enc), "--key-file", str(enc_key_file), "-o", str(out_path))
    assert code == 0 and out_path.read_bytes() == data
    key_line = enc_key_file.read_text().splitlines()[-1]
    assert key_line not in err

    _, pblob = _multi_chunk(passphrase=PASSPHRASE)
    penc = tmp_path / "p.plenc"
    penc.write_bytes(pblob)
    code, _, err = run("decrypt", str(penc), "--key-file", str(enc_key_file), "-o", "x")
    assert code == 1 and "protected by a passphrase, not a key file" in err


def test_decrypt_age_failures(tmp_path, pass_file):
    from core import crypto

    buf = io.BytesIO()
    crypto.age_encrypt(os.urandom(100_000), buf, passphrase=PASSPHRASE, work_factor=10)
    blob = buf.getvalue()
    cases = [
        (blob[:-200], "tampered"),  # cut inside the last chunk: age cannot tell it from tampering
        (_flip(blob, len(blob) - 5), "altered"),
    ]
    for i, (bad, word) in enumerate(cases):
        enc = tmp_path / f"a{i}.age"
        enc.write_bytes(bad)
        code, _, err = run("decrypt", str(enc), "--passphrase-file", str(pass_file), "-o", "x")
        assert code == 1 and "Traceback" not in err and err.startswith("[") or "error:" in err
        assert "altered" in err or "tampered" in err or "failed" in err, (word, err)
    wrong = tmp_path / "w.txt"
    wrong.write_text("another passphrase entirely\n")
    enc = tmp_path / "ok.age"
    enc.write_bytes(blob)
    code, _, err = run("decrypt", str(enc), "--passphrase-file", str(wrong), "-o", "x")
    assert code == 1 and "does not open this age file" in err


def test_decrypt_refuses_to_write_over_its_input(tmp_path, pass_file):
    _, blob = _multi_chunk(passphrase=PASSPHRASE)
    enc = tmp_path / "same.plenc"
    enc.write_bytes(blob)
    code, _, err = run("decrypt", str(enc), "--passphrase-file", str(pass_file), "-o", str(enc))
    assert code == 1 and "is the encrypted file itself" in err and enc.read_bytes() == blob


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"\n", "is empty"),
        (b"two\nlines\n", "has 2 lines"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_passphrase_file_problems(tmp_path, content, message):
    _, blob = _multi_chunk(passphrase=PASSPHRASE)
    enc = tmp_path / "f.plenc"
    enc.write_bytes(blob)
    bad = tmp_path / "p.txt"
    bad.write_bytes(content)
    code, _, err = run("decrypt", str(enc), "--passphrase-file", str(bad), "-o", "x")
    assert code == 1 and message in err


def test_passphrase_file_keeps_inner_spaces_and_crlf_is_stripped(tmp_path):
    from core import crypto

    phrase = "  spaces around  "
    blob = crypto.encrypt_bytes(b"payload", passphrase=phrase, work_factor=10)
    enc = tmp_path / "s.plenc"
    enc.write_bytes(blob)
    pf = tmp_path / "p.txt"
    pf.write_bytes(phrase.encode() + b"\r\n")
    code, _, err = run("decrypt", str(enc), "--passphrase-file", str(pf), "-o", str(tmp_path / "s"))
    assert code == 0, err and (tmp_path / "s").read_bytes() == b"payload"


def test_decrypt_in_a_subprocess_with_no_terminal(tmp_path, pass_file):
    _, blob = _multi_chunk(passphrase=PASSPHRASE)
    enc = tmp_path / "f.plenc"
    enc.write_bytes(blob)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [sys.executable, "-m", "core", "decrypt", str(enc), "-o", str(tmp_path / "f")],
        cwd=ROOT, capture_output=True, text=True, env=env, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert proc.returncode == 1 and "--passphrase-file FILE" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- decrypt: one message per failure whether it comes from the API or the CLI ----------------


def test_decrypt_wrong_kind_message_is_the_api_message(tmp_path, pass_file, enc_key_file):
    from core import crypto
    from core.errors import WrongKeyError

    key = crypto.key_from_text(enc_key_file.read_text())
    age = io.BytesIO()
    crypto.age_encrypt(b"x", age, passphrase=PASSPHRASE, work_factor=10)
    cases = [
        # (file, the secret the API is given, the same secret on the command line)
        (crypto.encrypt_bytes(b"x", key=key), {"passphrase": PASSPHRASE},
         ["--passphrase-file", str(pass_file)]),
        (crypto.encrypt_bytes(b"x", passphrase=PASSPHRASE, work_factor=10), {"key": key},
         ["--key-file", str(enc_key_file)]),
        (age.getvalue(), {"key": key}, ["--key-file", str(enc_key_file)]),
    ]  # fmt: skip
    for i, (blob, secret, argv) in enumerate(cases):
        enc = tmp_path / f"w{i}.plenc"
        enc.write_bytes(blob)
        with pytest.raises(WrongKeyError) as api:
            crypto.decrypt_bytes(blob, **secret)
        code, out, err = run("decrypt", str(enc), *argv, "-q", "-o", str(tmp_path / "w.out"))
        assert (code, out, err) == (1, "", f"error: {api.value}\n")


@pytest.mark.parametrize(("work", "words"), [(255, "above the limit"), (5, "below the minimum")])
def test_decrypt_work_factor_outside_the_bounds_names_log2_n(tmp_path, pass_file, work, words):
    import re

    from core import crypto
    from core.errors import WorkFactorError

    _, blob = _multi_chunk(passphrase=PASSPHRASE)
    blob = _with_work_factor(blob, work)
    enc = tmp_path / "wf.plenc"
    enc.write_bytes(blob)
    with pytest.raises(WorkFactorError) as api:
        crypto.decrypt_bytes(blob, passphrase=PASSPHRASE)
    code, _, err = run("decrypt", str(enc), "--passphrase-file", str(pass_file), "-q", "-o", "x")
    assert code == 1 and err == f"error: {api.value}\n"
    assert f"log2 N = {work}" in err and words in err
    assert not re.search(r"\d{5,}", err.replace(",", "")), err  # no 2^N written out


# --- decrypt interrupted: SIGTERM and SIGHUP act as Ctrl-C; nothing plaintext is left ---------

BIG = 25 * 2**20


def _open_writer(fifo: Path, proc: subprocess.Popen, timeout: float = 60.0) -> int:
    """Open the FIFO for writing once the decryptor has opened it for reading."""
    import time

    end = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet
            if proc.poll() is not None or time.monotonic() > end:
                raise AssertionError(
                    f"the decryptor never opened its input: {proc.poll()}"
                ) from None
            time.sleep(0.01)
            continue
        os.set_blocking(fd, True)
        return fd


def _wait_written(pid: int, at_least: int, timeout: float = 60.0) -> int:
    """Bytes the process has written so far (/proc/PID/io), once at least ``at_least``."""
    import re
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        io_stats = Path(f"/proc/{pid}/io").read_text()
        written = int(re.search(r"^wchar: (\d+)", io_stats, re.M).group(1))
        if written >= at_least:
            return written
        time.sleep(0.01)
    raise AssertionError("the decryptor did not write the verified chunks")


@pytest.mark.skipif(
    not hasattr(os, "mkfifo") or not Path("/proc/self/io").exists(),
    reason="needs FIFOs and /proc",
)
@pytest.mark.parametrize(
    ("name", "code"), [("SIGTERM", 143), ("SIGHUP", 129), ("SIGKILL", -9)]
)  # 128 + the signal number, as documented; SIGKILL cannot be caught
def test_decrypt_killed_half_way_leaves_no_plaintext_file(tmp_path, pass_file, name, code):
    import signal

    from core import crypto

    sig = signal.Signals[name]

    blob = crypto.encrypt_bytes(os.urandom(BIG), passphrase=PASSPHRASE, work_factor=10)
    src_dir, out_dir = tmp_path / "in", tmp_path / "out"
    src_dir.mkdir()
    out_dir.mkdir()
    fifo = src_dir / "big.bin.plenc"
    os.mkfifo(fifo)  # the test feeds it: the decryptor is half-way when the signal comes
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "decrypt", str(fifo), "--passphrase-file",
         str(pass_file), "-o", str(out_dir / "big.bin")],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    fd = _open_writer(fifo, proc)
    try:
        os.write(fd, blob[: 12 * 2**20])  # returns once all but a pipe buffer was read
        written = _wait_written(proc.pid, 8 * 2**20)  # >= 8 verified 1 MiB chunks written
        assert written < BIG
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(fd)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    # No name in the output folder points to plaintext: not the output, not a hidden .part.
    # (Under SIGKILL nothing runs: the unnamed file's blocks are freed with the process,
    # unwiped; someone who can read the raw disk could still recover them. The threat
    # model says so.)
    assert sorted(os.listdir(out_dir)) == []
    if sig != signal.SIGKILL:
        assert f"interrupted ({name})" in err and "Traceback" not in err


def test_decrypt_help_documents_interruptions():
    proc = subprocess.run(
        [sys.executable, "-m", "core", "decrypt", "--help"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    text = " ".join(proc.stdout.split())
    assert proc.returncode == 0
    for words in ("SIGTERM", "SIGHUP", "130", "143", "129", "SIGKILL", "threat-model"):
        assert words in text, words


def test_decrypt_reads_a_pipe(tmp_path, pass_file):
    if not hasattr(os, "mkfifo"):
        pytest.skip("needs FIFOs")
    from core import crypto

    data = os.urandom(3 * 2**20 + 7)
    blob = crypto.encrypt_bytes(data, passphrase=PASSPHRASE, work_factor=10)
    fifo = tmp_path / "p.plenc"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "decrypt", str(fifo), "--passphrase-file",
         str(pass_file), "-q", "-o", str(tmp_path / "p.bin")],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    fd = _open_writer(fifo, proc)
    try:
        os.write(fd, blob)
    finally:
        os.close(fd)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (tmp_path / "p.bin").read_bytes() == data
