"""``python -m core model-risk``: utility and membership advantage, original and hardened."""

import io
import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.models import membership_risk


@pytest.fixture
def table(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    age = rng.integers(18, 80, n)
    job = rng.choice(["a", "b", "c"], n)
    y = rng.random(n) < 1 / (1 + np.exp(-(age - 45) / 8))
    df = pd.DataFrame({"age": age, "job": job, "label": np.where(y, "hi", "lo")})
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    return path, df


def _run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_model_risk_json_matches_the_core_function(table, tmp_path):
    path, _ = table
    recipe = {
        "schema_version": 1,
        "source_columns": [],
        "steps": [{"transform": "bin_width", "column": "age", "params": {"width": 20}}],
    }
    (tmp_path / "r.json").write_text(json.dumps(recipe))
    code, out, err = _run(
        "model-risk",
        str(path),
        "--target",
        "label",
        "--recipe",
        str(tmp_path / "r.json"),
        "--json",
        str(tmp_path / "o.json"),
        "--repeats",
        "3",
        "-q",
    )
    assert code == 0, err
    assert "membership advantage" in out and "hardened" in out
    report = json.loads((tmp_path / "o.json").read_text())
    df = pd.read_csv(path)
    ref = membership_risk(df, "label", repeats=3)
    assert report["original"]["advantage"] == pytest.approx(ref.advantage)
    assert report["original"]["accuracy"] == pytest.approx(ref.accuracy)
    assert set(report) == {"file", "target", "original", "hardened"}


def test_model_risk_with_epsilon_prints_the_bound(table):
    path, _ = table
    code, out, err = _run(
        "model-risk",
        str(path),
        "--target",
        "label",
        "--epsilon",
        "1",
        "--l2",
        "0.05",
        "--repeats",
        "2",
        "--format",
        "json",
        "-q",
    )
    assert code == 0, err
    r = json.loads(out)["original"]
    assert r["bound"] == pytest.approx(np.tanh(0.5)) and r["epsilon_spent"] == 2.0


def test_model_risk_bad_target_is_a_clear_error(table):
    path, _ = table
    code, out, err = _run("model-risk", str(path), "--target", "age", "-q")
    assert code == 1 and "exactly 2 distinct values" in err and "Traceback" not in err
