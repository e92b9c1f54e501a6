"""The privacy report: fingerprint, risk before/after against the risk engine, and no leaks."""

from __future__ import annotations

import json

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
