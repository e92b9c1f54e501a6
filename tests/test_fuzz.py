"""Property-based fuzz: every public ``core`` function that takes a table or a column answers
any table pandas or the loader can make with a result or a ``PrivLensError`` whose message
repeats no cell value.

Each target below calls one or more public functions with plausible parameters drawn from
the table (its columns as quasi-identifiers, a sensitive attribute, fixed bounds and ε).
``test_every_public_frame_function_is_fuzzed`` enumerates ``core`` so that a new public
function that takes a DataFrame or a Series cannot go unfuzzed. The example budget is fixed
and derandomized; the counts (functions, examples, outcomes by class) are printed at the end
of the module (``pytest -s``) and written as JSON to ``$PRIVLENS_FUZZ_SUMMARY`` if set.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import tempfile
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core
from core.errors import PrivLensError
from tests.strategies import frames, leaked, loaded_frames

#: Examples per target; the whole module stays well under a minute on two busy cores.
EXAMPLES = 12
KEY = bytes(range(32))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Draw = Callable[[st.SearchStrategy[Any]], Any]
COUNTS: Counter[str] = Counter()
OUTCOMES: Counter[str] = Counter()
COVERED: set[str] = set()  # filled once TARGETS is complete, below the targets
CALLED: set[str] = set()
BY_FUNCTION: defaultdict[str, Counter[str]] = defaultdict(Counter)


# --- helpers that pick plausible parameters from a table -----------------------------------


def _cols(draw: Draw, df: pd.DataFrame, lo: int = 1, hi: int = 3) -> list[Any]:
    """Some distinct column labels of ``df`` (at least one if the table has columns)."""
    labels = list(dict.fromkeys(df.columns))
    if not labels:
        return []
    size = draw(st.integers(min(lo, len(labels)), min(hi, len(labels))))
    picked = draw(st.permutations(range(len(labels))))[:size]
    return [labels[i] for i in picked]


def _col(draw: Draw, df: pd.DataFrame) -> Any:
    return (_cols(draw, df, 1, 1) or ["absent"])[0]


def _series(draw: Draw, df: pd.DataFrame) -> pd.Series:
    if df.shape[1] == 0:
        return pd.Series([], dtype=float)
    return df.iloc[:, draw(st.integers(0, df.shape[1] - 1))]


# --- targets: name -> (functions it covers, call) ---------------------------------------------

Call = Callable[..., Any]
Target = tuple[tuple[str, ...], Callable[[pd.DataFrame, Draw, Call], Any]]
TARGETS: dict[str, Target] = {}


def target(*covers: str) -> Callable[[Callable[[pd.DataFrame, Draw, Call], Any]], Any]:
    def register(fn: Callable[[pd.DataFrame, Draw, Call], Any]) -> Any:
        TARGETS[fn.__name__] = (covers, fn)
        return fn

    return register


@target("correlation.correlation_matrix")
def correlation_matrix(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import correlation

    method = draw(st.sampled_from(correlation.METHODS))
    cols = draw(st.one_of(st.none(), st.just(_cols(draw, df, 1, 4))))
    return call(correlation.correlation_matrix, df, method=method, columns=cols)


@target("correlation.association_matrix", "correlation.leakage_ranking")
def association(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import correlation

    call(
        correlation.association_matrix,
        df,
        numeric_method=draw(st.sampled_from(correlation.METHODS)),
    )
    return call(correlation.leakage_ranking, df, sensitive=_col(draw, df), top=2)


@target(
    "correlation.cramers_v",
    "correlation.correlation_ratio",
    "correlation.normalized_mutual_information",
    "correlation.pair_column",
)
def pair_measures(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import correlation

    x, y = _series(draw, df), _series(draw, df)
    read_x = call(correlation.pair_column, x, categorical=draw(st.booleans()))
    read_y = call(correlation.pair_column, y)
    call(correlation.pair_association, read_x, read_y)
    call(correlation.cramers_v, x, y)
    call(correlation.normalized_mutual_information, x, y)
    return call(correlation.correlation_ratio, x, y)


@target(
    "risk.equivalence_classes",
    "risk.k_anonymity",
    "risk.individual_risk",
    "attribute_risk.attribute_risk",
    "attribute_risk.attribute_risks",
    "attribute_risk.l_diversity_counts",
    "household_risk.household_risk",
)
def risk_classes(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import attribute_risk, household_risk, risk

    qis = _cols(draw, df)
    missing = draw(st.sampled_from(["category", "wildcard"]))
    call(risk.k_anonymity, df, qis, missing=missing)
    classes = call(risk.equivalence_classes, df, qis, missing=missing)
    if classes is None:
        return None
    call(risk.prosecutor_risk, classes)
    call(risk.journalist_risk, classes, sampling_fraction=0.5)
    call(risk.marketer_risk, classes)
    call(risk.population_uniqueness, classes, sampling_fraction=0.1)
    call(risk.class_size_histogram, classes)
    weight = draw(st.one_of(st.none(), st.just(_col(draw, df))))
    call(risk.individual_risk, df, classes, weight_column=weight, sampling_fraction=0.5)
    sens = _cols(draw, df, 1, 2)
    call(attribute_risk.attribute_risks, df, classes, sens)
    call(attribute_risk.l_diversity_counts, df, classes, sens[0] if sens else "absent")
    call(household_risk.household_risk, df, classes, _col(draw, df), sampling_fraction=0.5)
    return call(attribute_risk.attribute_risk, df, classes, sens[0] if sens else "absent")


@target("risk.risk_summary", "risk.qi_contributions", "risk.subset_scores", "risk.factorize_values")
def risk_measures(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import risk

    qis = _cols(draw, df)
    missing = draw(st.sampled_from(["category", "wildcard"]))
    call(risk.factorize_values, _series(draw, df))
    call(risk.qi_contributions, df, qis, missing=missing)
    call(risk.subset_scores, df, qis, max_size=2, missing=missing)
    return call(risk.risk_summary, df, qis, missing=missing, sampling_fraction=0.5)


@target("suda.minimal_sample_uniques", "suda.suda2")
def suda(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import suda as sd

    qis = _cols(draw, df)
    missing = draw(st.sampled_from(["category", "ignore"]))
    call(sd.minimal_sample_uniques, df, qis, max_size=2, missing=missing)
    return call(sd.suda2, df, qis, max_size=2, missing=missing)


@target(
    "dp.dp_count",
    "dp.dp_sum",
    "dp.dp_mean",
    "dp.dp_quantile",
    "dp.release",
)
def dp_numeric(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import dp

    col = _col(draw, df)
    eps = draw(st.sampled_from([0.1, 1.0, 5.0]))
    lower, upper = draw(st.sampled_from([(0.0, 100.0), (-1e6, 1e6), (-1.0, 1.0)]))
    call(dp.dp_count, df, col, epsilon=eps, source=0)
    call(dp.dp_sum, df, col, epsilon=eps, lower=lower, upper=upper, source=0)
    call(dp.dp_mean, df, col, epsilon=eps, lower=lower, upper=upper, source=0)
    call(dp.dp_quantile, df, col, epsilon=eps, lower=lower, upper=upper, q=0.5, source=0)
    query = draw(st.sampled_from(["count", "sum", "mean", "histogram", "quantile", "mode"]))
    return call(dp.release, df, col, query=query, epsilon=eps, lower=lower, upper=upper, source=0)


@target("dp.dp_histogram", "dp.dp_mode", "dp.histogram_counts")
def dp_categorical(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import dp

    col = _col(draw, df)
    cats = draw(st.sampled_from([None, ["a", "b"], ["0", "1", "True"]]))
    domain = draw(st.sampled_from(dp.DOMAINS))
    delta = 1e-6 if domain == "threshold" else 0.0
    lower, upper = draw(st.sampled_from([(None, None), (0.0, 100.0)]))
    call(dp.histogram_counts, df, col, lower=lower, upper=upper, bins=5, categories=cats)
    call(dp.dp_mode, df, col, epsilon=1.0, categories=cats, domain=domain, delta=delta, source=0)
    return call(
        dp.dp_histogram,
        df,
        col,
        epsilon=1.0,
        lower=lower,
        upper=upper,
        bins=5,
        categories=cats,
        domain=domain,
        delta=delta,
        source=0,
    )


@target(
    "dp.clamp",
    "dp.noisy_numeric_column",
    "dp.randomized_response",
    "dp.rr_frequency_estimate",
)
def dp_series(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import dp

    s = _series(draw, df)
    call(dp.clamp, s, 0.0, 100.0)
    call(dp.noisy_numeric_column, s, epsilon=1.0, lower=0.0, upper=100.0, source=0)
    cats = draw(st.sampled_from([None, ["a", "b"]]))
    call(dp.randomized_response, s, epsilon=1.0, categories=cats, source=0)
    return call(dp.rr_frequency_estimate, s, epsilon=1.0, categories=["a", "b"])


@target("dp_utility.microdata_utility", "dp_utility.microdata_utility_curve")
def dp_utility(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import dp_utility as du

    num = _cols(draw, df, 0, 2)
    cat = [c for c in _cols(draw, df, 0, 2) if c not in num]
    call(du.microdata_utility, df, df.copy(), numeric=num, categorical=cat)
    bounds = {c: (0.0, 100.0) for c in num}
    return call(
        du.microdata_utility_curve,
        df,
        bounds=bounds,
        categorical=cat,
        epsilons=(1.0,),
        sample_rows=20,
    )


@target(
    "masking.bin_edges",
    "masking.bin_quantiles",
    "masking.bin_width",
    "masking.round_to",
    "masking.top_bottom_code",
)
def masking_numeric(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import masking

    s = _series(draw, df)
    call(masking.bin_edges, s, edges=[0.0, 10.0, 100.0])
    call(masking.bin_quantiles, s, q=draw(st.sampled_from([2, 4])))
    call(masking.bin_width, s, width=draw(st.sampled_from([1.0, 10.0, 0.5])))
    call(masking.round_to, s, base=5.0)
    return call(masking.top_bottom_code, s, lower=0.0, upper=100.0)


@target(
    "masking.mask_characters",
    "masking.mask_pattern",
    "masking.pseudonymize",
    "masking.redact",
    "masking.replace",
    "masking.truncate_prefix",
    "masking.group_categories",
    "masking.generalize_date",
)
def masking_text(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import masking

    s = _series(draw, df)
    call(masking.mask_characters, s, keep_first=1, keep_last=1)
    call(masking.mask_pattern, s, pattern=r"\d")
    call(masking.pseudonymize, s, key=KEY, length=16)
    call(masking.redact, s)
    call(masking.replace, s, value="x", include_missing=draw(st.booleans()))
    call(masking.truncate_prefix, s, keep=2)
    call(
        masking.group_categories,
        s,
        mapping={"a": "A"},
        other=draw(st.sampled_from([None, "other"])),
    )
    unit = draw(st.sampled_from(["year", "month", "age_band"]))
    return call(masking.generalize_date, s, unit=unit, reference="2024-01-01")


@target(
    "masking.check_column_names",
    "masking.class_sizes",
    "masking.local_suppression",
    "masking.microaggregate",
)
def masking_frame(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import masking

    call(masking.check_column_names, df)
    cols = _cols(draw, df)
    call(masking.class_sizes, df, cols)
    mode = draw(st.sampled_from(["cells", "records"]))
    call(masking.local_suppression, df, quasi_identifiers=cols, k=2, mode=mode)
    return call(masking.microaggregate, df, columns=cols, k=2, standardize=draw(st.booleans()))


@target(
    "export.check_exportable",
    "export.export_table",
    "export.estimate_build",
    "export.neutralize_formulas",
    "export.json_records",
)
def export_table(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import export

    fmt = draw(st.sampled_from(export.FORMATS))
    call(export.neutralize_formulas, df)
    call(export.json_records, df, lines=draw(st.booleans()))
    call(export.estimate_build, df, fmt)
    call(export.check_exportable, df, fmt)
    return call(export.export_table, df, fmt)


@target("export.export_bundle", "export.build_download")
def export_bundle(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import export

    fmt = draw(st.sampled_from(["csv", "json"]))
    call(export.export_bundle, df, fmt, recipe_json="{}")
    return call(export.build_download, df, fmt, bundle=draw(st.booleans()))


@target(
    "profile.profile_column",
    "profile.profile_frame",
    "profile.profile_table",
    "roles.suggest_roles",
    "detectors.detect",
    "detectors.iban_valid",
    "detectors.luhn_valid",
)
def profile(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import detectors, profile, roles

    s = _series(draw, df)
    call(profile.profile_column, s)
    call(detectors.detect, s, min_share=0.5)
    call(detectors.iban_valid, s)
    call(detectors.luhn_valid, s)
    profiles = call(profile.profile_frame, df)
    if profiles is None:
        return None
    call(profile.profile_table, profiles)
    return call(roles.suggest_roles, profiles)


@target("kinds.column_kind", "kinds.column_kinds", "kinds.cast_column")
def kinds(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import kinds as kd

    call(kd.column_kind, _series(draw, df))
    call(kd.column_kinds, df)
    return call(kd.cast_column, df, _col(draw, df), draw(st.sampled_from(kd.KINDS)))


_STEPS: list[tuple[str, dict[str, Any]]] = [
    ("cast", {"kind": "text"}),
    ("cast", {"kind": "integer"}),
    ("mask", {"keep_first": 1}),
    ("mask_pattern", {"pattern": "[0-9]"}),
    ("redact", {}),
    ("replace", {"value": "x"}),
    ("drop", {}),
    ("pseudonymize", {"length": 16}),
    ("encrypt", {"context": "c"}),
    ("bin_width", {"width": 10}),
    ("bin_quantiles", {"q": 4}),
    ("bin_edges", {"edges": [0, 10, 100]}),
    ("round", {"base": 5}),
    ("top_bottom", {"lower": 0, "upper": 100}),
    ("date", {"unit": "year"}),
    ("postal_prefix", {"keep": 2}),
    ("group", {"mapping": {"a": "A"}}),
    ("pram", {"epsilon": 1.0}),
    ("dp_noise", {"epsilon": 1.0, "lower": 0, "upper": 100}),
]


@target("recipe.apply", "recipe.validate", "recipe.change_log", "recipe.suggest_step")
def recipe(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import recipe as rc

    steps = []
    for _ in range(draw(st.integers(1, 3))):
        name, params = draw(st.sampled_from(_STEPS))
        steps.append(rc.Step(transform=name, columns=(_col(draw, df),), params=params))
    if draw(st.booleans()):
        many = draw(st.sampled_from(["suppress", "microaggregate"]))
        steps.append(rc.Step(transform=many, columns=tuple(_cols(draw, df)), params={"k": 2}))
    role = draw(st.sampled_from(["identifier", "quasi_identifier", "sensitive", "other"]))
    call(rc.suggest_step, _col(draw, df), _series(draw, df), role)
    plan = rc.Recipe(steps=tuple(steps), source_columns=tuple(map(str, df.columns)))
    secrets = {rc.DEFAULT_SECRET: KEY}
    call(rc.validate, df, plan, secrets=secrets)
    out = call(rc.apply, df, plan, secrets=secrets, source=0)
    return None if out is None else call(rc.change_log, df, out.frame)


@target(
    "report.build_report",
    "report.correlation_change",
    "report.fingerprint",
    "report.shape",
)
def report(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import report as rp

    qis = _cols(draw, df, 0, 2)
    sens = [c for c in _cols(draw, df, 0, 1) if c not in qis]
    roles = {str(c): "quasi_identifier" for c in qis} | {str(c): "sensitive" for c in sens}
    released = df.iloc[: max(len(df) - 1, 0)]
    call(rp.correlation_change, df, released)
    call(rp.fingerprint, df)
    call(rp.shape, df)
    return call(rp.build_report, df, released, roles=roles, quasi_identifiers=qis, sensitive=sens)


@target("crypto.siv_encrypt_column", "crypto.siv_decrypt_column")
def crypto(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import crypto as cr

    s = _series(draw, df)
    tokens = call(cr.siv_encrypt_column, s, KEY, context="fuzz")
    if tokens is not None:
        call(cr.siv_decrypt_column, tokens, KEY, context="fuzz")
    return call(
        cr.siv_decrypt_column, s, KEY, context="fuzz"
    )  # not tokens: must be refused cleanly


@target(
    "workspace.table_fingerprint",
    "workspace.frame_to_bytes",
    "workspace.save_project",
    "workspace.open_project",
)
def workspace(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    try:  # a newer module: skip quietly where it does not exist yet
        fingerprint = importlib.import_module("core.workspace.fingerprint")
    except ModuleNotFoundError:
        return None
    from core.workspace import model, project, store

    call(store.frame_to_bytes, df)
    meta = model.DatasetMeta(fingerprint="0" * 64, name="t", n_rows=0, columns=())
    blob = call(
        project.save_project,
        model.Workspace(dataset=meta),
        df,
        passphrase="fuzz",
        include_data=draw(st.booleans()),
        work_factor=10,
    )
    if blob is not None:
        call(project.open_project, blob, passphrase="fuzz", secret=KEY, table=df)
    return call(fingerprint.table_fingerprint, df, secret=KEY)


_KINDS = ("text", "integer", "decimal", "date", "category", "boolean", "other")


def _kinds(draw: Draw, df: pd.DataFrame) -> dict[str, str]:
    """Column kinds as the Data page sets them (any kind for any column: a stale setting)."""
    return {str(c): draw(st.sampled_from(_KINDS)) for c in _cols(draw, df, 0, 4)}


@target("correlation.coded_columns", "correlation.numeric_columns", "correlation.drilldown")
def correlation_kinds(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import correlation

    kinds = draw(st.one_of(st.none(), st.just(_kinds(draw, df))))
    call(correlation.coded_columns, df, kinds)
    call(correlation.numeric_columns, df, kinds)
    return call(correlation.drilldown, df, _col(draw, df), _col(draw, df), kinds=kinds)


@target("dp_form.preview")
def dp_preview(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import dp, dp_form

    column = _col(draw, df)
    is_numeric = draw(st.booleans())
    query = draw(
        st.sampled_from(dp_form.NUMERIC_QUESTIONS if is_numeric else dp_form.CATEGORICAL_QUESTIONS)
    )
    domain = draw(st.sampled_from(["declared", "threshold"]))
    mechanism = draw(st.sampled_from(dp_form.mechanisms(query, domain)))
    lower, upper = draw(st.sampled_from([(None, None), (0.0, 100.0), (-1.0, 1.0)]))
    clamped = None
    if is_numeric and lower is not None and column in df.columns:
        out = call(dp.clamp, df[column], lower, upper)
        clamped = None if out is None else out[0]
    qn = dp_form.Question(
        column=column, query=query, is_numeric=is_numeric, mechanism=mechanism, domain=domain,
        categories=tuple(draw(st.lists(st.sampled_from(["a", "b", "0", "1"]), max_size=3))),
        lower=lower, upper=upper, bins=draw(st.integers(2, 5)), q=0.5,
        delta=draw(st.sampled_from([0.0, 1e-6])),
    )  # fmt: skip
    return call(dp_form.preview, df, qn, epsilon=draw(st.sampled_from([0.1, 1.0])), clamped=clamped)


@target("policy.check_policy")
def policy(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import policy as pol

    rules = pol.Policy(
        k=draw(st.integers(2, 5)),
        max_risk=draw(st.sampled_from([0.2, 0.5, 1.0])),
        average_risk=draw(st.sampled_from([0.05, 0.5])),
    )
    missing = draw(st.sampled_from(["category", "wildcard"]))
    return call(
        pol.check_policy,
        df,
        _cols(draw, df),
        rules,
        missing=missing,
        leave_one_out=draw(st.booleans()),
    )


@target("recipe.records_changed", "recipe_editor.suggested_recipe")
def recipe_pages(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import recipe as rc
    from core import recipe_editor

    roles = {
        str(c): draw(st.sampled_from(["identifier", "quasi_identifier", "sensitive", "other"]))
        for c in _cols(draw, df, 0, 3)
    }
    plan = call(recipe_editor.suggested_recipe, df, roles)
    after = df.iloc[: max(len(df) - 1, 0)]
    if plan is not None:
        out = call(rc.apply, df, plan, secrets={rc.DEFAULT_SECRET: KEY}, source=0)
        after = after if out is None else out.frame
    return call(rc.records_changed, df, after)


@target(
    "anonymize.redaction_hierarchy",
    "anonymize.interval_hierarchy",
    "anonymize.date_hierarchy",
    "anonymize.mapping_hierarchy",
    "anonymize.build_hierarchy",
    "anonymize.builtin_hierarchies",
    "anonymize.encode_hierarchy",
    "anonymize.encode_sensitive",
    "anonymize.prepare",
    "anonymize.anonymize",
    "anonymize.to_recipe_steps",
    "anonymize.output_frame",
)
def anonymize_search(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import anonymize as an
    from core.anonymize.models import encode_sensitive
    from core.anonymize.setup import build_hierarchy, builtin_hierarchies

    column = _series(draw, df)
    call(an.interval_hierarchy, column, widths=draw(st.sampled_from([[5.0], [2.0, 10.0]])))
    call(an.date_hierarchy, column)
    call(an.mapping_hierarchy, column, levels=[{"a": "x"}])
    source = draw(st.sampled_from(["redaction", "intervals"]))
    call(build_hierarchy, column, source, name="c", widths="5, 10")
    call(builtin_hierarchies, df)
    call(encode_sensitive, df, _col(draw, df))
    qis = _cols(draw, df, 1, 2)
    hierarchies = {}
    for q in qis:
        values = df.iloc[:, list(df.columns).index(q)]  # by position: labels may repeat
        h = call(an.redaction_hierarchy, values)
        if h is None:
            return None
        hierarchies[q] = h
        call(an.encode_hierarchy, h, values, name=str(q)[:20])
    models = [an.KAnonymity(draw(st.integers(2, 3)))]
    limit = draw(st.sampled_from([0.0, 0.1]))
    problem = call(an.prepare, df, qis, hierarchies, models=models, suppression_limit=limit)
    result = call(an.anonymize, df, qis, hierarchies, models=models, suppression_limit=limit)
    if result is None:
        return None
    if problem is not None and result.levels is not None:
        node = call(an.evaluate, problem, result.levels)
        if node is not None:
            mode = draw(st.sampled_from(["star", "remove"]))
            call(an.output_frame, df, qis, hierarchies, node, suppressed=mode)
    return call(an.to_recipe_steps, result, hierarchies, df)


@target(
    "models.fit_features",
    "models.design",
    "models.targets",
    "models.membership_risk",
    "models.binary_columns",
    "models.public_design",
    "models.dp_sweep",
    "models.dp_model_release",
)
def models_fit(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import models as md

    target_col = _col(draw, df)
    spec = call(md.fit_features, df, target_col)
    if spec is not None:
        call(md.design, spec, df)
        call(md.targets, spec, df)
    call(md.binary_columns, df)
    call(md.public_design, df, _cols(draw, df, 1, 2), buckets=16)
    call(md.dp_sweep, df, target_col, epsilons=(1.0,), repeats=2, source=0)
    call(md.dp_model_release, df, target_col, epsilon=1.0, source=0)
    return call(md.membership_risk, df, target_col, repeats=2, seed=1)


@target("codes.eligible", "codes.factorize", "codes.transform")
def column_codes(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    # codes of any loaded column give the column back, and a value-wise transform computed
    # once per distinct value equals the same transform row by row
    from core import codes

    s = _series(draw, df)
    if not call(codes.eligible, s):
        return None
    cc = call(codes.factorize, s)
    if cc is None:
        return None
    back = cc.series(s.index)
    assert back.isna().equals(s.isna())
    assert back[s.notna()].astype(str).equals(s[s.notna()].astype(str))

    def first_char(v: pd.Series) -> pd.Series:
        return v.astype("string").str[:1]

    out = call(codes.transform, cc, first_char)
    if out is not None:
        new, _ = out
        got, want = new.series(s.index), first_char(s)
        assert got.isna().equals(want.isna())
        assert got[want.notna()].astype(str).equals(want[want.notna()].astype(str))
    return out


@target("cli.write_table")
def cli_write(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    from core import cli

    suffix = draw(st.sampled_from([".csv", ".json", ".parquet", ".xlsx"]))
    with tempfile.TemporaryDirectory() as tmp:
        return call(cli.write_table, df, Path(tmp) / f"out{suffix}")


_DUCKDB: list[Any] = []  # one DuckDB engine for every example (starting one costs ~50 ms)


@target("engine.risk_summary", "engine.class_histogram", "engine.k_anonymity")
def engine_measures(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    # the pandas and DuckDB engines answer the same table with the same figures, or errors
    from core import engine as en
    from core.engine.duckdb_engine import DuckDBEngine

    if not _DUCKDB:
        _DUCKDB.append(DuckDBEngine(memory_limit="256MB", threads=1))
    pe, duck = en.PandasEngine(), _DUCKDB[0]
    qis = _cols(draw, df)
    missing = draw(st.sampled_from(["category", "wildcard"]))
    weight = draw(st.one_of(st.none(), st.just(_col(draw, df))))
    results = []
    for eng in (pe, duck):
        table = call(eng.open, df)
        if table is None:
            results.append(None)
            continue
        if eng is pe:  # the DuckDB summary below runs the same histogram plan
            call(en.k_anonymity, eng, table, qis, missing=missing)
            call(en.class_histogram, eng, table, qis, missing=missing)
        results.append(
            call(en.risk_summary, eng, table, qis, missing=missing, weight_column=weight,
                 sampling_fraction=0.5)  # fmt: skip
        )
    ref, got = results
    if ref is not None and got is not None:
        assert (ref.n, ref.k, ref.n_classes, ref.sample_uniques, ref.records_at_risk) == (
            got.n, got.k, got.n_classes, got.sample_uniques, got.records_at_risk
        )  # fmt: skip
        assert got.expected_reidentifications == pytest.approx(
            ref.expected_reidentifications, rel=1e-9
        )
    return got


@target("engine.frame_orders")
def engine_frame_orders(df: pd.DataFrame, draw: Draw, call: Call) -> Any:
    # the order of each ordered categorical column, lowest first, and no other column
    from core.engine import orders

    if draw(st.booleans()) and len(df.columns):
        pos = draw(st.integers(0, len(df.columns) - 1))
        values = df.iloc[:, pos].astype("string").dropna().unique().tolist()
        cats = list(reversed(values))
        df = df.copy()
        df.isetitem(pos, pd.Categorical(df.iloc[:, pos].astype("string"), cats, ordered=True))
    got = call(orders.frame_orders, df)
    if got is not None:
        want = [
            (str(c), tuple(t.categories.tolist()))
            for c, t in zip(df.columns, df.dtypes, strict=True)
            if isinstance(t, pd.CategoricalDtype) and t.ordered
        ]
        assert list(got) == want
    return got


COVERED.update(f for covers, _ in TARGETS.values() for f in covers)


# --- the properties ---------------------------------------------------------------------------


def _call(name: str, df: pd.DataFrame, draw: Draw) -> None:
    """Run one target: each core call must give a result or a clean PrivLensError."""
    COUNTS[name] += 1
    _, fn = TARGETS[name]

    def attempt(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        label = f"{func.__module__.split('.')[1]}.{func.__name__}"
        CALLED.add(label)
        with warnings.catch_warnings():
            # warnings are not outcomes here (other tests check them); raised errors are
            warnings.simplefilter("ignore")
            try:
                out = func(*args, **kwargs)
            except PrivLensError as exc:
                kind = type(exc).__name__
                OUTCOMES[kind] += 1
                BY_FUNCTION[label][kind] += 1
                found = leaked(str(exc), df)
                assert not found, f"{label}: {kind} message repeats cell values {found}"
                return None
        OUTCOMES["result"] += 1
        BY_FUNCTION[label]["result"] += 1
        return out

    fn(df, draw, attempt)


TABLES = st.one_of(
    frames(max_rows=10),  # pandas dtypes, unicode names
    frames(max_rows=10, odd_names=True),  # repeated, integer and None names (API callers)
    loaded_frames(max_rows=8),  # the loader's own dtypes
)


@pytest.mark.parametrize("name", sorted(TARGETS))
@SETTINGS
@given(df=TABLES, data=st.data())
def test_public_function_answers_any_table(name: str, df: pd.DataFrame, data: Any) -> None:
    _call(name, df, data.draw)


def _public_frame_functions() -> Iterator[str]:
    """``module.function`` for every public core function with a DataFrame/Series argument.

    Sub-packages are walked too; a function is named by its top-level module
    (``crypto.siv_encrypt_column`` whether it lives in ``core/crypto.py`` or a package).
    """
    for info in pkgutil.walk_packages(core.__path__, prefix="core."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None) or [n for n in dir(module) if n[0] != "_"]
        for attr in names:
            fn = getattr(module, attr, None)
            if not inspect.isfunction(fn) or fn.__module__ != module.__name__:
                continue
            notes = [str(p.annotation) for p in inspect.signature(fn).parameters.values()]
            if any("DataFrame" in a or "Series" in a for a in notes):
                yield f"{info.name.split('.')[1]}.{attr}"


def test_every_public_frame_function_is_fuzzed() -> None:
    public = set(_public_frame_functions())
    assert public, "found no public core function to fuzz"
    assert public <= COVERED, f"not fuzzed: {sorted(public - COVERED)}"


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Iterator[None]:
    yield
    summary = {
        "functions_declared": len(COVERED),
        "functions_called": len(CALLED),
        "targets": len(TARGETS),
        "examples_run": sum(COUNTS.values()),
        "calls": sum(OUTCOMES.values()),
        "outcomes": dict(OUTCOMES.most_common()),
        "examples_per_target": dict(sorted(COUNTS.items())),
        "outcomes_per_function": {f: dict(c) for f, c in sorted(BY_FUNCTION.items())},
    }
    print("\nfuzz summary:", json.dumps(summary, indent=1))
    path = os.environ.get("PRIVLENS_FUZZ_SUMMARY")
    if path:
        Path(path).write_text(json.dumps(summary, indent=1), encoding="utf-8")


def test_leak_check_sees_a_leaked_cell_value() -> None:
    # the checker itself: a message quoting a marked text cell or a long number is caught
    df = pd.DataFrame({"a": ["¤secret", "¤other"], "b": [123456, 7]})
    assert leaked("value 'secret' is bad", df) == ["secret"]
    assert leaked("got 123456", df) == ["123456"]
    assert leaked("column 'a' has 2 values", df) == []
    assert np.isfinite(EXAMPLES)


# --- cases the fuzz found, kept as plain regression tests --------------------------------


def test_siv_round_trips_integers_past_int64() -> None:
    from core import crypto as cr

    for s in (
        pd.Series([2**63 + 5, 2**64 - 1], dtype="uint64"),
        pd.Series([2**63 + 5, None, 7], dtype=object),
        pd.Series([2**70, -3], dtype=object),
    ):
        back = cr.siv_decrypt_column(cr.siv_encrypt_column(s, KEY), KEY)
        assert back.isna().tolist() == s.isna().tolist()
        assert [int(v) for v in back.dropna()] == [int(v) for v in s.dropna()]


def test_text_transforms_take_integer_categories_with_gaps() -> None:
    from core import masking

    s = pd.Series([1, None, 3, 2**63 + 1], dtype="category")
    assert masking.truncate_prefix(s, keep=2).tolist()[1:] == [np.nan, "3", "92" + "*" * 17]
    assert masking.redact(s).isna().tolist() == [False, True, False, False]


def test_luhn_check_takes_an_all_missing_column() -> None:
    from core.detectors import luhn_valid

    assert luhn_valid(pd.Series([np.nan, np.nan], dtype="category")).tolist() == [False, False]
    # valid, valid, one digit off (the standard Luhn examples), missing
    values = pd.Series(["4111 1111 1111 1111", "79927398713", "79927398710", None])
    assert luhn_valid(values).tolist() == [True, True, False, False]


def test_cast_takes_integer_categories_with_gaps() -> None:
    from core.kinds import cast_column

    frame = pd.DataFrame({"a": pd.Series([1, None, 3], dtype="category")})
    assert cast_column(frame, "a", "integer").frame["a"].tolist() == [1, pd.NA, 3]
    assert cast_column(frame, "a", "text").frame["a"].tolist()[::2] == ["1", "3"]


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame([[1, 2]], columns=["a", "a"]),  # a repeated name
        pd.DataFrame([[1, 2]]),  # integer names
    ],
)
def test_odd_column_names_get_a_column_error(frame: pd.DataFrame) -> None:
    from core import correlation, dp, dp_utility, profile, recipe, risk
    from core.errors import ColumnError

    calls: list[Callable[[], Any]] = [
        lambda: correlation.correlation_matrix(frame),
        lambda: risk.k_anonymity(frame, [frame.columns[0]]),
        lambda: dp.dp_count(frame, frame.columns[0], epsilon=1.0),
        lambda: recipe.validate(frame, recipe.Recipe()),
        lambda: profile.profile_frame(frame),
        lambda: dp_utility.microdata_utility(frame, frame, categorical=[frame.columns[0]]),
    ]
    for call in calls:
        with pytest.raises(ColumnError, match="column"):
            call()


def test_interval_hierarchy_of_an_infinite_value_is_a_hierarchy_error() -> None:
    from core.anonymize import interval_hierarchy
    from core.errors import HierarchyError

    with pytest.raises(HierarchyError, match="infinite"):
        interval_hierarchy(pd.Series([1.0, float("inf")]), widths=[5])
