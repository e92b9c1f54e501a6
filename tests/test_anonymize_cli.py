"""``python -m core anonymize``: the optimum as JSON, a replayable recipe, clear errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from core import cli, recipe, risk
from core.anonymize import KAnonymity, anonymize, read_hierarchy

QIS = ["age", "sex", "race", "education"]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def _hier_args(folder, qis):
    args = []
    for q in qis:
        args += ["--hierarchy", f"{q}={folder / f'adult_hierarchy_{q}.csv'}"]
    return args


def test_anonymize_writes_the_issue_json_and_a_replayable_recipe(arx_adult, tmp_path):
    out_json, out_recipe = tmp_path / "result.json", tmp_path / "recipe.json"
    code, out, err = run(
        "anonymize", arx_adult / "adult.csv", "--qi", ",".join(QIS), *_hier_args(arx_adult, QIS),
        "--k", 5, "--suppression-limit", 0.02, "--metric", "loss",
        "--json", out_json, "--recipe-out", out_recipe, "-q",
    )  # fmt: skip
    assert code == 0, err
    res = json.loads(out_json.read_text())
    # exactly the issue's fields, in its order
    assert list(res) == ["levels", "metric", "score", "optimal", "suppressed_records",
                         "min_class_size", "classes", "nodes_checked", "seconds"]  # fmt: skip
    assert set(res["levels"]) == set(QIS) and res["metric"] == "loss" and res["optimal"]
    assert "proven optimal" in out
    # the same optimum as the Python API
    df = pd.read_csv(arx_adult / "adult.csv", sep=";")
    hier = {q: read_hierarchy(arx_adult / f"adult_hierarchy_{q}.csv") for q in QIS}
    api = anonymize(df, QIS, hier, models=[KAnonymity(5)], suppression_limit=0.02)
    assert res["levels"] == api.levels_by_qi() and res["score"] == pytest.approx(api.score)
    # the recipe replays the transformation: k holds and the suppressed records are gone
    rec = recipe.Recipe.from_json(out_recipe.read_text())
    from core.data import load

    table = load(arx_adult / "adult.csv").frame
    after = recipe.apply(table, rec).frame
    assert len(after) == len(df) - res["suppressed_records"]
    assert risk.k_anonymity(after, QIS) >= 5
    assert risk.equivalence_classes(after, QIS).n_classes == res["classes"]


def test_anonymize_with_l_and_t_and_json_stdout(arx_adult):
    code, out, err = run(
        "anonymize", arx_adult / "adult.csv", "--qi", "age,sex",
        *_hier_args(arx_adult, ["age", "sex"]),
        "--k", 2, "--l", "distinct:salary-class:2", "--t", "equal:salary-class:0.3",
        "--metric", "height", "--format", "json", "-q",
    )  # fmt: skip
    assert code == 0, err
    res = json.loads(out)
    assert res["optimal"] and res["metric"] == "height"
    assert any("distinct-2-diversity" in m for m in res["models"])
    assert res["label"] == "proven optimal"  # the printed summary carries the label too


def test_anonymize_heuristic_says_best_found_in_every_output(arx_adult, tmp_path):
    out_json = tmp_path / "r.json"
    args = ["anonymize", arx_adult / "adult.csv", "--qi", "age,sex",
            *_hier_args(arx_adult, ["age", "sex"]), "--k", 5, "--method", "heuristic", "-q"]
    code, out, err = run(*args, "--json", out_json)
    assert code == 0, err
    assert "best found, not proven optimal" in out
    assert json.loads(out_json.read_text())["optimal"] is False
    code, out, err = run(*args, "--format", "json")
    assert json.loads(out)["label"] == "best found, not proven optimal"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        # a QI without a hierarchy is named
        (["--qi", "age,race", "--hierarchy", "age=H"], "No hierarchy for the quasi.*'race'"),
        (["--qi", "age", "--hierarchy", "age=H", "--l", "distinct:salary-class"], "--l"),
        (["--qi", "age", "--hierarchy", "age=H", "--t", "far:salary-class:0.2"], "--t"),
        (["--qi", "age", "--hierarchy", "ageH"], "--hierarchy"),
        (["--qi", "age", "--hierarchy", "age=H", "--metric", "precision"], "metric"),
    ],
)
def test_anonymize_errors(arx_adult, extra, match, capsys):
    args = [a.replace("H", str(arx_adult / "adult_hierarchy_age.csv")) if a.endswith("=H") else a
            for a in extra]  # fmt: skip
    code, out, err = run("anonymize", arx_adult / "adult.csv", "--k", 5, *args, "-q")
    err += capsys.readouterr().err  # argparse's usage errors go to the process's stderr
    assert code in (1, 2)
    assert pytest.importorskip("re").search(match, err), err
    assert "Traceback" not in err
