"""The Masking page's editor as plain values: drafts of steps to and from a recipe.

The page keeps what the user has typed, valid or not yet, as *drafts*: plain values (text,
numbers, true/false, lists of text) under names in the workspace's ``masking.options``, so
they survive navigation and reloads. :func:`build_recipe` turns the drafts into the recipe
(one step per column, then one local-suppression step), leaving out a column whose draft is
not a valid step yet and saying why; :func:`drafts_from_recipe` does the reverse after an
undo, a redo or a recipe file. The recipe is what Export exports; the drafts are only the
editor's memory.

Draft names:

- ``transform:<column>``: the transform picked for the column, or :data:`KEEP`;
- ``param:<column>:<transform>:<parameter>``: the parameter's widget value;
- ``quasi_identifiers`` (list of column names), ``suppress`` (bool), ``k`` (int),
  ``mode`` (``cells`` or ``records``): the k-anonymity section.

The column kind set on the Data page decides what is offered: numeric-only transforms
(binning, rounding, top/bottom coding, per-record noise) only for ``integer`` and ``decimal``
columns (:func:`offered_transforms`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import PrivLensError, RecipeError
from core.recipe import DEFAULT_SECRET, TRANSFORMS, ParamSpec, Recipe, Step, suggest_step

__all__ = [
    "KEEP",
    "K_DEFAULT",
    "MODES",
    "NUMERIC_KINDS",
    "SINGLE",
    "EditorResult",
    "MetricChange",
    "build_recipe",
    "default_draft",
    "drafts_from_recipe",
    "editable_steps",
    "offered_transforms",
    "param_draft",
    "param_option",
    "param_value",
    "risk_changes",
    "shown_params",
    "suggested_recipe",
    "transform_option",
    "utility_rows",
]

#: The editor's choice for a column left as it is.
KEEP = "keep"
#: Column kinds (Data page) that numeric-only transforms accept.
NUMERIC_KINDS = ("integer", "decimal")
#: Transforms of one column the editor offers (kind changes belong to the Data page).
SINGLE = tuple(name for name, spec in TRANSFORMS.items() if not spec.many and name != "cast")
#: k of the suppression step before the user picks one.
K_DEFAULT = 5
#: What local suppression blanks: single values, or whole records.
MODES = ("cells", "records")


def transform_option(column: str) -> str:
    """Draft name of a column's transform."""
    return f"transform:{column}"


def param_option(column: str, transform: str, name: str) -> str:
    """Draft name of one parameter of a column's transform."""
    return f"param:{column}:{transform}:{name}"


def offered_transforms(kind: str) -> tuple[str, ...]:
    """The choices for a column of ``kind``: :data:`KEEP`, then the transforms that fit.

    >>> "bin_width" in offered_transforms("integer"), "bin_width" in offered_transforms("category")
    (True, False)
    >>> offered_transforms("text")[:3]
    ('keep', 'mask', 'mask_pattern')
    """
    numeric = kind in NUMERIC_KINDS
    return (KEEP, *(t for t in SINGLE if TRANSFORMS[t].needs == "any" or numeric))


def shown_params(transform: str) -> tuple[ParamSpec, ...]:
    """The parameters the editor shows (a key's *name* is not one: the page holds the key)."""
    return tuple(p for p in TRANSFORMS[transform].params if p.name != "secret")


# --- one parameter: draft <-> value ---------------------------------------------------------


def _number_text(v: float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _text_input(spec: ParamSpec) -> bool:
    """Whether the parameter is typed as text (lists, mappings, optional numbers)."""
    return spec.kind in ("numbers", "texts", "mapping", "text", "char") or (
        spec.kind == "number" and not spec.required
    )


def default_draft(spec: ParamSpec) -> Any:
    """The widget value before anything is typed: a default, or empty for a required value.

    >>> default_draft(TRANSFORMS["mask"].params[2]), default_draft(TRANSFORMS["round"].params[0])
    ('*', None)
    """
    if spec.default is not None and spec.kind not in ("numbers", "texts", "mapping"):
        return spec.default
    if _text_input(spec):
        return ""
    if spec.kind == "int":
        return None if spec.required else int(spec.minimum or 0)
    if spec.kind == "bool":
        return False
    if spec.kind == "choice":
        return spec.choices[0]
    return None  # required numbers and dates start empty


def param_value(spec: ParamSpec, draft: Any) -> Any:
    """The step parameter a draft stands for; None when nothing is given.

    Raises
    ------
    RecipeError
        Text that does not read as the parameter's kind (names the parameter, not the text).

    >>> param_value(TRANSFORMS["bin_edges"].params[0], "0, 18, 65")
    [0.0, 18.0, 65.0]
    >>> param_value(TRANSFORMS["group"].params[0], "Divorced = Single\\nWidowed = Single")
    {'Divorced': 'Single', 'Widowed': 'Single'}
    """
    name = spec.name.replace("_", " ")
    if draft is None:
        return None
    if spec.kind == "numbers":
        parts = [p.strip() for p in str(draft).split(",") if p.strip()]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            raise RecipeError(
                f"'{name}' must be numbers separated by commas; one entry is not a number."
            ) from None
        return values or None
    if spec.kind == "texts":
        return [p.strip() for p in str(draft).split(",") if p.strip()] or None
    if spec.kind == "mapping":
        lines = [line for line in str(draft).splitlines() if line.strip()]
        bad = [i + 1 for i, line in enumerate(lines) if "=" not in line]
        if bad:
            raise RecipeError(
                f"'{name}': line {bad[0]} has no '='. Write one 'value = group' per line."
            )
        pairs = [line.split("=", 1) for line in lines]
        return {a.strip(): b.strip() for a, b in pairs} or None
    if spec.kind == "number" and not spec.required:
        text = str(draft).strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise RecipeError(f"'{name}' must be a number or empty.") from None
        if not math.isfinite(value):
            raise RecipeError(f"'{name}' must be a finite number or empty.")
        return value
    if spec.kind == "number":
        return float(draft)
    if spec.kind == "int":
        return int(draft)
    if spec.kind in ("text", "char") and (spec.required or spec.default is None):
        return str(draft) or None
    return draft


def param_draft(spec: ParamSpec, value: Any) -> Any:
    """The draft (widget value) of a step parameter; the inverse of :func:`param_value`.

    >>> param_draft(TRANSFORMS["bin_edges"].params[0], [0.0, 18.5])
    '0, 18.5'
    """
    if value is None:
        return default_draft(spec)
    if spec.kind == "numbers":
        return ", ".join(_number_text(float(v)) for v in value)
    if spec.kind == "texts":
        return ", ".join(str(v) for v in value)
    if spec.kind == "mapping":
        return "\n".join(f"{k} = {v}" for k, v in value.items())
    if spec.kind == "number" and not spec.required:
        return _number_text(float(value))
    if spec.kind == "number":
        return float(value)
    return value


# --- drafts <-> recipe -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EditorResult:
    """The recipe the drafts make, and what keeps a column's draft out of it.

    Attributes
    ----------
    recipe : Recipe
        One step per column with a valid draft (in column order), then local suppression.
    errors : dict of str to str
        Column -> why its draft is not a valid step (a wrong value).
    pending : dict of str to str
        Column -> what is still to be typed before its step applies (not an error).
    quasi_identifiers : tuple of str
        The quasi-identifiers picked, in the editor's order.
    kept_quasi_identifiers : tuple of str
        Those the recipe does not drop: risk after the recipe is measured over these.
    """

    recipe: Recipe
    errors: Mapping[str, str] = field(default_factory=dict)
    pending: Mapping[str, str] = field(default_factory=dict)
    quasi_identifiers: tuple[str, ...] = ()
    kept_quasi_identifiers: tuple[str, ...] = ()


def _missing_input(transform: str, spec_params: Sequence[ParamSpec], values: dict[str, Any]) -> str:
    missing = [p.name for p in spec_params if p.required and values.get(p.name) is None]
    if missing:
        names = " and ".join(f"'{m.replace('_', ' ')}'" for m in missing)
        what = "a value for" if len(missing) == 1 else "values for"
        return f"Type {what} {names} to apply this step."
    if transform == "top_bottom" and values.get("lower") is None and values.get("upper") is None:
        return "Type a lower limit, an upper limit or both to apply this step."
    return ""


def _column_step(column: str, transform: str, drafts: Mapping[str, Any]) -> Step:
    """The checked step of one column's draft; RecipeError, or _Pending with a hint."""
    params_spec = shown_params(transform)
    try:
        values = {
            p.name: param_value(
                p, drafts.get(param_option(column, transform, p.name), default_draft(p))
            )
            for p in params_spec
        }
    except RecipeError as exc:
        raise RecipeError(f"'{column}': {exc}") from None
    hint = _missing_input(transform, params_spec, values)
    if hint:
        raise _Pending(hint)
    params = {k: v for k, v in values.items() if v is not None}
    if TRANSFORMS[transform].secret:
        params["secret"] = DEFAULT_SECRET
    step = Step(transform=transform, columns=(column,), params=params)
    try:
        return Recipe(steps=(step,)).checked().steps[0]
    except RecipeError as exc:
        raise RecipeError(str(exc).replace(f"Step 1 ({transform})", f"'{column}'", 1)) from None


class _Pending(Exception):
    """A draft that is not a step yet because a required value is still empty."""


def build_recipe(
    drafts: Mapping[str, Any],
    columns: Sequence[str],
    kinds: Mapping[str, str],
    *,
    default_qis: Sequence[str] = (),
) -> EditorResult:
    """The recipe the drafts make on a table with ``columns`` of ``kinds``.

    A column whose transform is not offered for its kind (:func:`offered_transforms`) is
    kept; a draft that is not yet a step is left out and named in ``pending`` (a value to
    type) or ``errors`` (a wrong value). The suppression step covers the quasi-identifiers
    the recipe does not drop.

    >>> r = build_recipe({"transform:age": "round", "param:age:round:base": 5.0,
    ...                   "transform:job": "group", "quasi_identifiers": ["age", "job"],
    ...                   "suppress": True, "k": 3}, ["age", "job"],
    ...                  {"age": "integer", "job": "text"})
    >>> [s.transform for s in r.recipe.steps], r.pending["job"]
    (['round', 'suppress'], "Type a value for 'mapping' to apply this step.")
    """
    errors: dict[str, str] = {}
    pending: dict[str, str] = {}
    steps: list[Step] = []
    for column in columns:
        transform = drafts.get(transform_option(column), KEEP)
        if transform == KEEP or transform not in offered_transforms(kinds.get(column, "other")):
            continue
        try:
            steps.append(_column_step(column, str(transform), drafts))
        except _Pending as hint:
            pending[column] = str(hint)
        except PrivLensError as exc:
            errors[column] = str(exc)
    known = set(columns)
    qis = tuple(q for q in drafts.get("quasi_identifiers", tuple(default_qis)) if q in known)
    dropped = {s.columns[0] for s in steps if s.transform == "drop"}
    kept = tuple(q for q in qis if q not in dropped)
    if drafts.get("suppress") and kept:
        k = int(drafts.get("k", K_DEFAULT))
        mode = drafts.get("mode", "cells")
        steps.append(Step(transform="suppress", columns=kept, params={"k": k, "mode": mode}))
    recipe = Recipe(steps=tuple(steps), source_columns=tuple(columns)).checked()
    return EditorResult(
        recipe=recipe,
        errors=errors,
        pending=pending,
        quasi_identifiers=qis,
        kept_quasi_identifiers=kept,
    )


def drafts_from_recipe(
    recipe: Recipe, drafts: Mapping[str, Any], columns: Sequence[str]
) -> dict[str, Any]:
    """The draft changes that make the editor show ``recipe`` (an editable one).

    Columns without a step go back to :data:`KEEP`; the parameters of each step's transform
    are set; the suppression step sets ``suppress``, ``k``, ``mode`` and the
    quasi-identifiers (keeping those the recipe drops, which the step cannot list).
    ``build_recipe`` of the drafts with these changes gives ``recipe`` again.

    >>> r = Recipe(steps=(Step(transform="round", columns=("age",), params={"base": 5.0}),))
    >>> d = drafts_from_recipe(r, {"transform:job": "mask"}, ["age", "job"])
    >>> d["transform:age"], d["transform:job"], d["param:age:round:base"], d["suppress"]
    ('round', 'keep', 5.0, False)
    """
    out: dict[str, Any] = {}
    by_column = {s.columns[0]: s for s in recipe.steps if s.transform != "suppress"}
    for column in columns:
        step = by_column.get(column)
        if step is None:
            if drafts.get(transform_option(column), KEEP) != KEEP:
                out[transform_option(column)] = KEEP
            continue
        out[transform_option(column)] = step.transform
        for p in shown_params(step.transform):
            out[param_option(column, step.transform, p.name)] = param_draft(
                p, step.params.get(p.name)
            )
    suppress = next((s for s in recipe.steps if s.transform == "suppress"), None)
    out["suppress"] = suppress is not None
    if suppress is not None:
        out["k"] = int(suppress.params["k"])
        out["mode"] = str(suppress.params.get("mode", "cells"))
        dropped = {c for c, s in by_column.items() if s.transform == "drop"}
        earlier = tuple(drafts.get("quasi_identifiers", ()))
        out["quasi_identifiers"] = tuple(suppress.columns) + tuple(
            q for q in earlier if q in dropped and q not in suppress.columns
        )
    return out


def editable_steps(
    recipe: Recipe,
    columns: Sequence[str],
    kinds: Mapping[str, str],
    *,
    cast_steps: Sequence[Step] = (),
) -> Recipe:
    """The user's steps of a recipe file, if the editor can show them; else RecipeError.

    A recipe file starts with the kind changes it was made after; they must be the ones
    already made on the Data page (``cast_steps``) and are left out. The editor shows one
    transform per column, offered for the column's kind, and one suppression step.

    Raises
    ------
    RecipeError
        A column the table lacks, another kind change, a second step on a column, a
        transform the column's kind does not take, or a suppression with an importance
        order; the message names steps and columns, never values.
    """
    missing = [c for s in recipe.steps for c in s.columns if c not in set(columns)]
    if missing:
        raise RecipeError(
            f"The recipe uses {len(dict.fromkeys(missing))} column(s) this data does not "
            "have: " + ", ".join(dict.fromkeys(missing)) + "."
        )
    pending = list(cast_steps)
    steps: list[Step] = []
    seen: set[str] = set()
    suppress = False
    for s in recipe.steps:
        if s.transform == "cast":
            if pending and s == pending[0]:
                pending.pop(0)
                continue
            raise RecipeError(
                f"'{s.describe()}' changes a column's kind. Make that change on the Data page "
                "first (Column kinds), then load the recipe again."
            )
        if s.transform == "suppress" and not suppress and "importance" not in s.params:
            suppress = True
        elif not TRANSFORMS[s.transform].many and s.columns[0] not in seen:
            column = s.columns[0]
            kind = kinds.get(column, "other")
            if s.transform not in offered_transforms(kind):
                raise RecipeError(
                    f"'{s.describe()}' needs a numeric column, but '{column}' is {kind} on the "
                    "Data page. Change its kind there, or edit the recipe."
                )
            seen.add(column)
        else:
            raise RecipeError(
                f"'{s.describe()}' cannot be shown in this editor (one transform per column "
                "plus one suppression step). Replay the recipe with python -m core harden."
            )
        steps.append(s)
    return Recipe(steps=tuple(steps), source_columns=tuple(columns)).checked()


def suggested_recipe(frame: pd.DataFrame, roles: Mapping[str, str]) -> Recipe:
    """A first recipe from the column roles (:func:`core.recipe.suggest_step` per column)."""
    steps = []
    for column in frame.columns:
        step = suggest_step(str(column), frame[column], roles.get(str(column), "other"))
        if step is not None:
            steps.append(step)
    return Recipe(steps=tuple(steps), source_columns=tuple(map(str, frame.columns)))


# --- what the results show ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricChange:
    """One before -> after figure as a card shows it.

    ``delta`` is None when nothing changed; ``better`` says whether the change helps privacy
    (True), hurts it (False) or neither (None), which decides its colour.
    """

    label: str
    value: str
    delta: str | None
    better: bool | None
    help: str


def _change(
    label: str, value: str, diff: float, shown: str, *, lower_is_better: bool, help: str
) -> MetricChange:
    if diff == 0:
        return MetricChange(label=label, value=value, delta=None, better=None, help=help)
    better = (diff < 0) if lower_is_better else (diff > 0)
    return MetricChange(label=label, value=value, delta=shown, better=better, help=help)


def risk_changes(before: Any, after: Any) -> tuple[MetricChange, ...]:
    """The risk cards of the Masking page: k, sample uniques, records at risk, average risk.

    ``before`` and ``after`` are :class:`core.risk.RiskSummary` values. A change that rounds
    to zero as shown (the average in percentage points, to 2 decimals) has no delta.

    >>> from core import risk
    >>> import pandas as pd
    >>> s = risk.risk_summary(pd.DataFrame({"a": [1, 1, 2]}), ["a"])
    >>> [c.delta for c in risk_changes(s, s)]
    [None, None, None, None]
    """
    k = after.k - before.k
    uniques = after.sample_uniques - before.sample_uniques
    at_risk = after.prosecutor.records_at_risk - before.prosecutor.records_at_risk
    avg = round(100 * (after.prosecutor.average - before.prosecutor.average), 2)
    return (
        _change("k (k-anonymity)", f"{after.k:,}", k, f"{k:+,}", lower_is_better=False,
                help="Smallest equivalence class over the quasi-identifiers; before → after."),
        _change("Sample uniques", f"{after.sample_uniques:,}", uniques, f"{uniques:+,}",
                lower_is_better=True,
                help="Records alone in their equivalence class (f_k = 1); before → after."),
        _change("Records at risk", f"{after.prosecutor.records_at_risk:,}", at_risk,
                f"{at_risk:+,}", lower_is_better=True,
                help=f"Records with prosecutor risk 1/f_k above "
                f"{after.prosecutor.threshold:g}; before → after."),
        _change("Average risk", f"{100 * after.prosecutor.average:.2f}%", avg, f"{avg:+.2f} pp",
                lower_is_better=True,
                help="Mean of 1/f_k over records (prosecutor model); before → after."),
    )  # fmt: skip


@functools.lru_cache(maxsize=8)
def utility_rows(n: int, size: int) -> np.ndarray | None:
    """Sorted row positions of the utility sample, or None when ``n <= size``.

    A seeded uniform sample (a labelled estimate, not a release): the same rows on every
    rerun, so before and after compare like with like. Drawn once per ``(n, size)`` (a
    permutation of ``n`` rows costs more than a page run); the array is read only.

    >>> utility_rows(10, 20) is None, len(utility_rows(100, 20))
    (True, 20)
    """
    if n <= size:
        return None
    rows = np.sort(np.random.default_rng(0).choice(n, size=size, replace=False))
    rows.flags.writeable = False
    return rows
