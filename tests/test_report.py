"""The privacy report: fingerprint, risk before/after against the risk engine, and no leaks."""

from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pytest

from core.errors import InvalidParameterError
from core.recipe import Recipe, Step, apply
from core.report import build_report, correlation_change, fingerprint
from core.risk import risk_summary

SECRET_NAME = "Zelda Quixote-Unique"


def _frame() -> pd.DataFrame:
    # Hand-worked: QIs (age band, zip) give classes of sizes 1, 2, 3 -> k = 1, uniques = 1.
    return pd.DataFrame(
        {
            "name": [SECRET_NAME, "B", "C", "D", "E", "F"],
            "age": [23, 31, 31, 45, 45, 45],
            "zip": ["10115", "10117", "10117", "10119", "10119", "10119"],
            "income": [10.0, 20.0, 25.0, 40.0, 41.0, 39.0],
            "diagnosis": ["flu", "flu", "cold", "flu", "cold", "asthma"],
        }
    )


ROLES = {
    "name": "identifier",
    "age": "quasi_identifier",
    "zip": "quasi_identifier",
    "income": "other",
    "diagnosis": "sensitive",
}


def _harden(frame: pd.DataFrame):
    recipe = Recipe(
        steps=(
            Step(transform="pseudonymize", columns=("name",), params={}),
            Step(transform="round", columns=("age",), params={"base": 100}),
            Step(transform="postal_prefix", columns=("zip",), params={"keep": 3}),
        ),
        source_columns=tuple(frame.columns),
    )
    result = apply(frame, recipe, secrets={"pseudonym_key": b"k" * 32})
    return recipe, result


def test_fingerprint_is_stable_value_free_and_sensitive_to_any_cell():
    a = fingerprint(_frame())
    assert a == fingerprint(_frame())
    assert SECRET_NAME not in json.dumps(a)
    changed = _frame()
    changed.loc[3, "income"] = 40.5
    assert fingerprint(changed)["sha256"] != a["sha256"]


def test_risk_before_and_after_match_the_risk_engine():
    frame = _frame()
    recipe, result = _harden(frame)
    report = build_report(frame, result.frame, roles=ROLES, recipe=recipe, hardening=result)
    before, after = report.data["risk_before"], report.data["risk_after"]
    ref = risk_summary(frame, ["age", "zip"])
    assert (before["k"], before["classes"], before["sample_uniques"]) == (1, 3, 1)
    assert before["prosecutor_average_risk"] == pytest.approx(ref.prosecutor.average) == 0.5
    # After rounding age to 100 and keeping 3 ZIP digits every record is in one class.
    assert (after["k"], after["classes"], after["sample_uniques"]) == (6, 1, 0)
    assert after["prosecutor_highest_risk"] == pytest.approx(1 / 6)
    assert before["attribute"]["diagnosis"]["distinct_l"] == 1
    assert after["attribute"]["diagnosis"]["distinct_l"] == 3
    per_column = {c["column"]: c for c in report.data["utility"]["per_column"]}
    assert per_column["name"]["cells_changed"] == 6
    assert report.data["transforms"][1]["transform"] == "round"


def test_report_and_html_hold_no_raw_value_and_no_key():
    frame = _frame()
    recipe, result = _harden(frame)
    report = build_report(
        frame, result.frame, roles=ROLES, recipe=recipe, hardening=result, dp_spent=(0.5, 1e-6)
    )
    text = report.to_json() + report.to_html()
    assert SECRET_NAME not in text
    assert "kkkkkkkk" not in text  # the pseudonym key
    assert json.loads(report.to_json())["differential_privacy"]["epsilon"] == 0.5
    assert "<h1>Privacy report</h1>" in report.to_html()


def test_correlation_change_is_zero_for_an_unchanged_table_and_positive_otherwise():
    frame = _frame()
    assert correlation_change(frame, frame)["mean_abs_change"] == 0.0
    noisy = frame.assign(income=[40.0, 10.0, 41.0, 20.0, 39.0, 25.0])
    assert correlation_change(frame, noisy)["mean_abs_change"] > 0.1


def test_empty_original_is_refused():
    with pytest.raises(InvalidParameterError, match="empty"):
        build_report(_frame().iloc[:0], _frame(), roles=ROLES)


# --- the report is no oracle for the cells a release withholds -------------------------------


def _suppress_age_sex(mode: str = "cells") -> Recipe:
    return Recipe(
        steps=(Step(transform="suppress", columns=("age", "sex"), params={"k": 2, "mode": mode}),),
        source_columns=("age", "sex", "hours", "income", "diagnosis"),
    )


SUPPRESS_AGE_SEX = _suppress_age_sex()
DEMO_ROLES = {
    "age": "quasi_identifier",
    "sex": "quasi_identifier",
    "hours": "other",
    "income": "other",
    "diagnosis": "sensitive",
}
# Two people whose (age, sex) is unique: k=2 local suppression withholds both cells of both.
OUTLIERS = {411: (88, "Female"), 1302: (93, "Male")}


def _demo_table(outliers=OUTLIERS) -> pd.DataFrame:
    rng = np.random.default_rng(14)
    n = 2000
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 66, n),
            "sex": rng.choice(["Female", "Male"], n),
            "hours": rng.integers(10, 60, n),
            "income": rng.normal(40_000, 9_000, n).round(),
            "diagnosis": rng.choice(["flu", "cold", "asthma"], n),
        }
    )
    for row, (age, sex) in outliers.items():
        frame.loc[row, ["age", "sex"]] = [age, sex]
    return frame


def _release(frame: pd.DataFrame, recipe: Recipe = SUPPRESS_AGE_SEX):
    result = apply(frame, recipe)
    report = build_report(frame, result.frame, roles=DEMO_ROLES, recipe=recipe, hardening=result)
    return result, report


def _attacker_digest(row_hashes: np.ndarray, columns) -> str:
    """SHA-256 over the column names and pandas' row hashes: the digest the report once held."""
    digest = hashlib.sha256(json.dumps([str(c) for c in columns]).encode())
    digest.update(row_hashes.tobytes())
    return digest.hexdigest()


def test_brute_forcing_the_withheld_cells_matches_no_digest_in_the_report():
    original = _demo_table()
    result, report = _release(original)
    released = result.frame
    withheld = original.notna() & released.isna()
    rows = sorted(withheld.index[withheld.any(axis=1)])
    assert rows == sorted(OUTLIERS) and int(withheld.to_numpy().sum()) == 4
    text = report.to_json() + report.to_html()

    # The attacker holds the release and the report: it fills the withheld cells with every
    # guess (age 17..99, either sex, for each of the two people) and hashes each guess the
    # way the report's fingerprint did, using the schema the report gives.
    schema = report.data["dataset"]["original"]["schema"]
    guess = released.copy()
    guess.loc[rows, ["age", "sex"]] = [[17, "Female"]] * len(rows)
    guess = guess.astype(schema)
    base = pd.util.hash_pandas_object(guess, index=False).to_numpy()
    options = [(a, s) for a in range(17, 100) for s in ("Female", "Male")]
    per_row = []
    for r in rows:
        cands = pd.concat([guess.loc[[r]]] * len(options), ignore_index=True)
        cands[["age", "sex"]] = pd.DataFrame(options).astype({0: schema["age"]}).to_numpy()
        cands = cands.astype(schema)
        per_row.append(pd.util.hash_pandas_object(cands, index=False).to_numpy())
    candidates = set()
    for h0 in per_row[0]:
        for h1 in per_row[1]:
            hashes = base.copy()
            hashes[rows[0]], hashes[rows[1]] = h0, h1
            candidates.add(_attacker_digest(hashes, guess.columns))
    assert len(candidates) == len(options) ** 2  # 27,556 guesses
    # The guesses include the truth: this is the digest an unkeyed fingerprint would publish.
    truth = _attacker_digest(pd.util.hash_pandas_object(original, index=False).to_numpy(),
                             original.columns)  # fmt: skip
    assert truth in candidates
    published = set(re.findall(r"[0-9a-f]{64}", text))
    assert not published & candidates, "the report holds a digest of the original table"


@pytest.mark.parametrize("mode", ["cells", "records"])  # suppressed cells, removed records
def test_no_report_field_depends_on_the_withheld_cells(mode):
    # Other values for the withheld cells that the same recipe maps to the same release:
    # the recipient cannot tell these tables apart, and the report must not either.
    recipe = _suppress_age_sex(mode)
    original = _demo_table()
    result, report = _release(original, recipe)
    if mode == "records":
        assert result.records_removed == 2 and len(result.frame) == len(original) - 2
    else:
        assert int(result.frame.isna().to_numpy().sum()) == 4
    expected = {k: v for k, v in report.data.items() if k != "created"}
    others = [{411: (91, "Female"), 1302: (87, "Male")}, {411: (97, "Male"), 1302: (90, "Female")}]
    for other in others:
        alt = _demo_table(other)
        alt_result, alt_report = _release(alt, recipe)
        pd.testing.assert_frame_equal(alt_result.frame, result.frame)
        got = {k: v for k, v in alt_report.data.items() if k != "created"}
        differing = sorted(k for k in expected if json.dumps(expected[k], default=str)
                           != json.dumps(got[k], default=str))  # fmt: skip
        assert differing == [], differing


# --- the audit trail: the workspace's releases and exports --------------------------------


def _history():
    from core.workspace import ReleaseRecord, Workspace

    recipe, _ = _harden(_frame())
    ws = Workspace()
    ws = ws.with_recipe(ws.recipe.change(recipe))
    ws = ws.record_release(
        ReleaseRecord(
            query="mean",
            column="<b>age</b>",  # a user's column name: escaped in the HTML
            mechanism="laplace",
            epsilon=0.25,
            delta=0.0,
            at=1_700_000_000.0,
        )
    )
    ws = ws.record_export(format="parquet", encryption="passphrase", at=1_700_000_060.0)
    return ws


def test_the_audit_trail_lists_each_release_and_export_with_its_fields():
    ws = _history()
    frame = _frame()
    recipe, result = _harden(frame)
    report = build_report(
        frame, result.frame, roles=ROLES, recipe=recipe, hardening=result,
        releases=ws.releases, exports=ws.exports,
    )  # fmt: skip
    audit = json.loads(report.to_json())["audit"]
    assert audit["releases"] == [
        {
            "query": "mean",
            "column": "<b>age</b>",
            "mechanism": "laplace",
            "epsilon": 0.25,
            "delta": 0.0,
            "time": "2023-11-14T22:13:20+00:00",
        }
    ]
    assert audit["exports"] == [
        {
            "format": "parquet",
            "encryption": "passphrase",
            "recipe_digest": ws.recipe.digest(),
            "time": "2023-11-14T22:14:20+00:00",
        }
    ]
    html = report.to_html()
    assert "<h2>Audit trail</h2>" in html
    assert "&lt;b&gt;age&lt;/b&gt;" in html and "<b>age</b>" not in html
    assert ws.recipe.digest() in html and "2023-11-14T22:14:20+00:00" in html


def test_with_audit_replaces_the_trail_and_keeps_the_rest():
    frame = _frame()
    report = build_report(frame, frame, roles=ROLES)
    assert report.data["audit"] == {"releases": [], "exports": []}
    assert "No earlier export is recorded" in report.to_html()
    ws = _history()
    newer = report.with_audit(ws.releases, ws.exports)
    assert len(newer.data["audit"]["exports"]) == 1 and len(newer.data["audit"]["releases"]) == 1
    assert report.data["audit"]["exports"] == []  # the first report is unchanged
    assert {k: v for k, v in newer.data.items() if k != "audit"} == {
        k: v for k, v in report.data.items() if k != "audit"
    }


def test_an_encrypted_bundle_holds_the_trail_and_no_passphrase_or_key():
    import io
    import zipfile

    from core import crypto
    from core.export import build_download

    passphrase = "orbit-lantern-quartz-meadow"
    key = crypto.generate_key()
    ws = _history()
    frame = _frame()
    recipe, result = _harden(frame)
    report = build_report(frame, result.frame, roles=ROLES, recipe=recipe, hardening=result)
    report = report.with_audit(ws.releases, ws.exports)
    for secret in ({"passphrase": passphrase}, {"key": key}):
        blob = build_download(
            result.frame, "csv", bundle=True, recipe_json=recipe.to_json(), report=report,
            **secret,
        )  # fmt: skip
        plain = crypto.decrypt_bytes(blob.data, **secret)
        with zipfile.ZipFile(io.BytesIO(plain)) as zf:
            entries = {n: zf.read(n) for n in zf.namelist()}
        inside = json.loads(entries["report.json"])
        assert inside["audit"]["exports"][0]["encryption"] == "passphrase"
        everything = b"".join(entries.values())
        assert passphrase.encode() not in everything
        assert key not in everything and crypto.key_to_text(key).encode() not in everything


def test_risk_comparison_rows_are_the_reports_own_figures():
    from core.report import risk_comparison

    frame = _frame()
    recipe, result = _harden(frame)
    report = build_report(frame, result.frame, roles=ROLES, recipe=recipe, hardening=result)
    rows = {label: (b, a) for label, b, a in risk_comparison(report.data)}
    assert rows["k (smallest class)"] == (1, 6)  # hand-worked above
    assert rows["sample uniques"] == (1, 0)
    assert rows["average prosecutor risk"] == (0.5, round(1 / 6, 4))
    no_qis = build_report(frame, frame, roles={"age": "other"})
    assert risk_comparison(no_qis.data) is None


def test_with_audit_sets_the_budget_spent():
    frame = _frame()
    report = build_report(frame, frame, roles=ROLES)
    assert report.data["differential_privacy"] is None
    spent = report.with_audit(dp_spent=(0.75, 1e-6))
    assert spent.data["differential_privacy"]["epsilon"] == 0.75
    assert "ε = 0.75" in spent.to_html()
