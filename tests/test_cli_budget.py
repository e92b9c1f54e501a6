"""``harden`` spends a privacy budget on noisy steps (PRAM, per-record DP noise) and says so."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from core import cli
from core.recipe import Recipe, Step

NOISY = Recipe(
    steps=(
        Step(transform="pram", columns=("c",), params={"epsilon": 0.5, "categories": ["a", "b"]}),
        Step(
            transform="dp_noise",
            columns=("v",),
            params={"epsilon": 0.25, "lower": 0, "upper": 9},
        ),
    )
)
QUIET = Recipe(steps=(Step(transform="round", columns=("v",), params={"base": 2.0}),))


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def files(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("c,v\n" + "".join(f"{'ab'[i % 2]},{i % 10}\n" for i in range(40)))

    def recipe(r: Recipe):
        path = tmp_path / "recipe.json"
        path.write_bytes(r.to_json().encode())
        return path

    return tmp_path, table, recipe


def test_noisy_steps_without_a_budget_are_refused_and_nothing_is_written(files):
    tmp, table, recipe = files
    out = tmp / "h.csv"
    code, _, err = run("harden", str(table), "--recipe", str(recipe(NOISY)), "-o", str(out))
    assert code == 1
    assert "--epsilon-budget" in err and "0.75" in err
    assert not out.exists()


def test_noisy_steps_over_the_budget_are_refused_and_nothing_is_written(files):
    tmp, table, recipe = files
    out = tmp / "h.csv"
    code, _, err = run(
        "harden", str(table), "--recipe", str(recipe(NOISY)), "-o", str(out),
        "--epsilon-budget", "0.5",
    )  # fmt: skip
    assert code == 1 and "budget" in err
    assert not out.exists()


def test_the_epsilon_spent_is_in_the_summary_and_the_report(files):
    tmp, table, recipe = files
    path = recipe(NOISY)
    code, out, err = run(
        "harden", str(table), "--recipe", str(path), "-o", str(tmp / "h.csv"),
        "--epsilon-budget", "1", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads(out)
    assert summary["privacy_budget"]["epsilon_spent"] == pytest.approx(0.75)
    assert summary["privacy_budget"]["epsilon_budget"] == 1.0
    assert [s["epsilon"] for s in summary["privacy_budget"]["steps"]] == [0.5, 0.25]
    code, text, err = run(
        "harden", str(table), "--recipe", str(path), "-o", str(tmp / "h2.csv"),
        "--epsilon-budget", "1",
    )  # fmt: skip
    assert code == 0, err
    assert "privacy budget: epsilon 0.75 of 1 spent" in text
    code, _, err = run(
        "harden", str(table), "--recipe", str(path), "-o", str(tmp / "h.zip"), "--bundle",
        "--epsilon-budget", "1",
    )  # fmt: skip
    assert code == 0, err
    with zipfile.ZipFile(tmp / "h.zip") as zf:
        report = json.loads(zf.read("report.json"))
    assert report["differential_privacy"]["epsilon"] == pytest.approx(0.75)
    assert report["differential_privacy"]["delta"] == 0.0


def test_a_recipe_without_noise_needs_no_budget_and_reports_none(files):
    tmp, table, recipe = files
    code, out, err = run(
        "harden", str(table), "--recipe", str(recipe(QUIET)), "-o", str(tmp / "h.csv"),
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    assert json.loads(out)["privacy_budget"] is None
