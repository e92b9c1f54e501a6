"""``python -m core weights inspect | compress | encrypt``."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from core import cli
from core.weights import WeightsRecipe, open_weights

PASSPHRASE = "correct horse battery staple of the weights tests"


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def model(tmp_path):
    rng = np.random.default_rng(5)
    t = {
        "fc.weight": rng.standard_normal((32, 64)).astype(np.float32),
        "fc.bias": rng.standard_normal(32).astype(np.float32),
    }
    path = tmp_path / "model.safetensors"
    save_file(t, str(path))
    return path


@pytest.fixture
def pass_file(tmp_path):
    path = tmp_path / "pass.txt"
    path.write_text(PASSPHRASE + "\n")
    return path


def test_inspect_text_and_json(model):
    code, out, _ = run("weights", "inspect", model)
    assert code == 0 and "2 tensor(s)" in out and "fc.weight" in out and "32x64" in out
    code, out, _ = run("weights", "inspect", model, "--json")
    data = json.loads(out)
    assert data["total_parameters"] == 32 * 64 + 32
    assert [t["name"] for t in data["tensors"]] == ["fc.bias", "fc.weight"]


def test_compress_prints_the_measured_size_and_errors(tmp_path, model):
    out_path = tmp_path / "small.safetensors"
    argv = (
        "weights",
        "compress",
        model,
        "--quantize",
        "int8",
        "--per-channel",
        "--prune",
        "0.5",
        "-o",
        out_path,
        "--json",
        "--recipe-out",
        tmp_path / "r.json",
    )
    code, out, err = run(*argv)
    assert code == 0, err
    data = json.loads(out)
    assert data["written_bytes"] == out_path.stat().st_size
    rows = {t["name"]: t for t in data["tensors"]}
    assert rows["fc.weight"]["storage"] == "int8" and rows["fc.weight"]["sparsity"] == 0.5
    assert rows["fc.bias"]["relative_error"] == 0 and rows["fc.bias"]["snr_db"] is None
    assert open_weights(out_path).spec("fc.weight").shape == (32, 64)
    # the recipe written replays to the same file
    replay = tmp_path / "replay.safetensors"
    code, out2, _ = run(
        "weights", "compress", model, "--recipe", tmp_path / "r.json", "-o", replay, "--json"
    )
    assert code == 0 and replay.read_bytes() == out_path.read_bytes()
    assert WeightsRecipe.from_json((tmp_path / "r.json").read_text()).steps
    code, text, _ = run("weights", "compress", model, "--quantize", "int4", "-o", out_path)
    assert code == 0 and "Wrote small.safetensors" in text and "int4" in text


@pytest.mark.parametrize(
    "extra",
    [
        ["--recipe", "r.json", "--quantize", "int8"],  # both a recipe and step options
        ["--prune", "0.5", "--prune-threshold", "0.1"],
    ],
)
def test_compress_usage_errors(tmp_path, model, extra):
    code, _, err = run("weights", "compress", model, "-o", tmp_path / "o.safetensors", *extra)
    assert code == 2 and "error:" in err


def test_compress_with_nothing_to_do(tmp_path, model):
    code, _, err = run("weights", "compress", model, "-o", tmp_path / "o.safetensors")
    assert code == 1 and "Nothing to do" in err


def test_encrypt_then_decrypt_with_a_passphrase(tmp_path, model, pass_file):
    enc, back = tmp_path / "model.safetensors.plenc", tmp_path / "back.safetensors"
    code, out, err = run(
        "weights",
        "encrypt",
        model,
        "-o",
        enc,
        "--passphrase-file",
        pass_file,
        "--work-factor",
        "10",
    )
    assert code == 0, err
    assert "AES-256-GCM" in out
    assert PASSPHRASE not in out + err
    code, _, err = run("decrypt", enc, "--passphrase-file", pass_file, "-o", back)
    assert code == 0, err
    assert back.read_bytes() == model.read_bytes()


def test_encrypted_weights_open_with_the_independent_decryptor(tmp_path, model, pass_file):
    pytest.importorskip("cryptography")
    # by path: an installed distribution may ship a top-level package named "tests"
    path = Path(__file__).with_name("test_crypto_spec.py")
    spec = importlib.util.spec_from_file_location("privlens_crypto_spec", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    spec_decrypt = module.spec_decrypt

    enc = tmp_path / "m.plenc"
    code, _, err = run(
        "weights",
        "encrypt",
        model,
        "-o",
        enc,
        "--passphrase-file",
        pass_file,
        "--work-factor",
        "10",
    )
    assert code == 0, err
    assert spec_decrypt(enc.read_bytes(), passphrase=PASSPHRASE) == model.read_bytes()


def test_encrypt_compressed_weights_with_a_key_file(tmp_path, model):
    key = tmp_path / "k.key"
    assert run("keygen", "--encryption", "-o", key)[0] == 0
    small = tmp_path / "small.safetensors"
    assert run("weights", "compress", model, "--quantize", "int4", "-o", small)[0] == 0
    enc, back = tmp_path / "small.plenc", tmp_path / "back.safetensors"
    code, _, err = run("weights", "encrypt", small, "-o", enc, "--encrypt-key-file", key)
    assert code == 0, err
    code, _, err = run("decrypt", enc, "--key-file", key, "-o", back)
    assert code == 0, err
    assert back.read_bytes() == small.read_bytes()


def test_encrypt_as_age(tmp_path, model, pass_file):
    enc, back = tmp_path / "m.age", tmp_path / "back.safetensors"
    code, _, err = run(
        "weights",
        "encrypt",
        model,
        "-o",
        enc,
        "--passphrase-file",
        pass_file,
        "--age",
        "--work-factor",
        "10",
    )
    assert code == 0, err
    assert enc.read_bytes().startswith(b"age-encryption.org/v1")
    code, _, err = run("decrypt", enc, "--passphrase-file", pass_file, "-o", back)
    assert code == 0, err
    assert back.read_bytes() == model.read_bytes()


def test_encrypt_refuses_a_pickle_before_asking_for_a_secret(tmp_path, monkeypatch):
    pt = tmp_path / "model.pt"
    pt.write_bytes(b"\x80\x04 not read")
    monkeypatch.setattr("getpass.getpass", lambda *a: pytest.fail("asked for a passphrase"))
    code, _, err = run("weights", "encrypt", pt, "-o", tmp_path / "m.plenc")
    assert code == 1 and "runs whatever code" in err
    assert not (tmp_path / "m.plenc").exists()


def test_encrypt_age_with_a_key_file_is_a_usage_error(tmp_path, model):
    code, _, err = run(
        "weights", "encrypt", model, "-o", tmp_path / "m.age", "--age", "--encrypt-key-file", "k"
    )
    assert code == 2 and "passphrase only" in err


def test_hostile_file_is_one_line_without_traceback(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    code, out, err = run("weights", "inspect", bad)
    assert code == 1 and out == "" and "Traceback" not in err and "above the limit" in err


def test_compress_to_a_missing_folder_is_one_line(tmp_path, model):
    code, _, err = run(
        "weights", "compress", model, "--quantize", "int8", "-o", tmp_path / "no" / "o.safetensors"
    )
    assert code == 1 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and "o.safetensors" in last and "folder" in last


def test_compress_that_grows_a_tiny_file_says_larger(tmp_path):
    save_file({"w": np.ones((2, 2), np.float32)}, str(tmp_path / "m.safetensors"))
    out = tmp_path / "o.safetensors"
    code, text, err = run(
        "weights", "compress", tmp_path / "m.safetensors", "--quantize", "int8", "-o", out
    )
    assert code == 0, err
    assert "larger" in text.splitlines()[0] and "smaller" not in text.splitlines()[0]
