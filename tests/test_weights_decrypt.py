"""Encrypted weights open on the Decrypt page, byte for byte, and load again."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import save_file

from core.weights import Quantize, WeightsRecipe, compress_file, encrypt_weights, open_weights

PASS = "a long and private passphrase for the weights"


def test_decrypt_page_opens_encrypted_compressed_weights(app, tmp_path):
    x = np.random.default_rng(3).standard_normal((16, 24)).astype(np.float32)
    save_file({"fc.weight": x}, str(tmp_path / "m.safetensors"))
    small = tmp_path / "small.safetensors"
    compress_file(tmp_path / "m.safetensors", small, WeightsRecipe(steps=(Quantize(bits=4),)))
    enc = tmp_path / "small.safetensors.plenc"
    encrypt_weights(small, enc, passphrase=PASS, work_factor=10)

    at = app.switch_page("pages/decrypt.py").run()
    at.file_uploader(key="decrypt_file").upload(
        enc.name, enc.read_bytes(), "application/octet-stream"
    ).run()
    at.text_input(key="decrypt_passphrase").input(PASS).run()
    at.button(key="decrypt_go").click().run()
    assert not at.exception and not at.error
    result = at.session_state["decrypt_result"]
    assert result["name"] == "small.safetensors"
    assert result["data"] == small.read_bytes()
    back = tmp_path / "back.safetensors"
    back.write_bytes(result["data"])
    np.testing.assert_array_equal(
        open_weights(back).tensor("fc.weight"), open_weights(small).tensor("fc.weight")
    )
