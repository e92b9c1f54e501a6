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
