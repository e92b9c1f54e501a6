"""Hardening recipes: an ordered, replayable list of transforms, stored as JSON.

A :class:`Recipe` is what the Masking page edits (after the kind changes made on the Data
page, recorded as ``cast`` steps first), what ``python -m core harden`` replays and
what an export carries. It holds column names, transform names and parameters, never a
secret: a pseudonymization step names its key (``"secret": "pseudonym_key"``) and the key
itself is passed to :func:`apply` separately.

JSON form (schema version 1)::

    {"schema_version": 1,
     "source_columns": ["age", "zip", ...],
     "steps": [{"transform": "bin_width", "column": "age", "params": {"width": 10}},
               {"transform": "suppress", "columns": ["age", "zip"], "params": {"k": 5}}]}
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from core import codes, dp, masking
from core.dp_budget import Ledger
from core.errors import CastError, ColumnError, InvalidParameterError, RecipeError
from core.frames import check_frame
from core.kinds import KINDS, cast_column
from core.limits import (
    EPSILON_MAX,
    EPSILON_MIN,
    PSEUDONYM_LENGTH_DEFAULT,
    PSEUDONYM_LENGTH_MAX,
    PSEUDONYM_LENGTH_MIN,
)

__all__ = [
    "SCHEMA_VERSION",
    "TRANSFORMS",
    "ColumnChange",
    "HardeningResult",
    "ParamSpec",
    "Recipe",
    "Step",
    "TransformSpec",
    "apply",
    "change_log",
    "charge_ledger",
    "noise_spends",
    "records_changed",
    "suggest_step",
    "validate",
]

#: Version of the JSON layout written by :meth:`Recipe.to_json`.
SCHEMA_VERSION = 1
#: Name under which a pseudonymization step looks up its key by default.
DEFAULT_SECRET = "pseudonym_key"


# --- parameter and transform specifications ------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """One parameter of a transform.

    ``kind`` is one of ``int``, ``number``, ``text``, ``char``, ``bool``, ``numbers``,
    ``texts``, ``mapping``, ``choice``, ``date`` or ``columns``.
    """

    name: str
    kind: str
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TransformSpec:
    """A transform a recipe can name."""

    name: str
    label: str
    many: bool = False  # works on several columns at once
    needs: str = "any"  # "numeric" or "any": the column kind it accepts
    gives: str = "text"  # the kind it produces: "numeric", "text", "same", "none", "cast"
    params: tuple[ParamSpec, ...] = ()
    secret: bool = False
    help: str = ""


def _p(name: str, kind: str, **kw: Any) -> ParamSpec:
    return ParamSpec(name=name, kind=kind, **kw)


TRANSFORMS: dict[str, TransformSpec] = {
    t.name: t
    for t in (
        TransformSpec(
            name="cast",
            label="Change kind",
            gives="cast",  # the kind named by the step: see _gives
            params=(
                _p("kind", "choice", required=True, choices=KINDS),
                _p("date_format", "text", help="strftime format of text dates; default ISO"),
            ),
            help="Change the column's kind (text, integer, decimal, date, category, boolean) "
            "without changing a value; refused when a value would not survive.",
        ),
        TransformSpec(
            name="mask",
            label="Mask characters",
            params=(
                _p("keep_first", "int", default=0, minimum=0),
                _p("keep_last", "int", default=0, minimum=0),
                _p("mask_char", "char", default="*"),
            ),
            help="Hide all but the first/last characters.",
        ),
        TransformSpec(
            name="mask_pattern",
            label="Mask a pattern",
            params=(
                _p("pattern", "text", required=True, help="RE2 regular expression"),
                _p("replacement", "text", default="*"),
            ),
            help="Replace each match of a regular expression (e.g. \\d for each digit).",
        ),
        TransformSpec(
            name="redact",
            label="Redact",
            params=(_p("label", "text", default="[REDACTED]"),),
            help="Replace every present value with a label.",
        ),
        TransformSpec(
            name="replace",
            label="Replace with a constant",
            params=(
                _p("value", "text", required=True),
                _p("include_missing", "bool", default=False),
            ),
        ),
        TransformSpec(name="drop", label="Drop column", gives="none"),
        TransformSpec(
            name="pseudonymize",
            label="Pseudonymize (keyed HMAC)",
            params=(
                _p(
                    "length",
                    "int",
                    default=PSEUDONYM_LENGTH_DEFAULT,
                    minimum=PSEUDONYM_LENGTH_MIN,
                    maximum=PSEUDONYM_LENGTH_MAX,
                ),
                _p("secret", "text", default=DEFAULT_SECRET, help="name of the key, not the key"),
            ),
            secret=True,
            help="Same value, same token under one key; the key is never stored.",
        ),
        TransformSpec(
            name="encrypt",
            label="Encrypt (AES-SIV, reversible)",
            params=(
                _p("context", "text", default="", help="bound to every token, e.g. the column"),
                _p("secret", "text", default=DEFAULT_SECRET, help="name of the key, not the key"),
            ),
            secret=True,
            help="Deterministic encryption: equal values give equal tokens, so the column "
            "stays joinable across tables; only the key holder can decrypt it.",
        ),
        TransformSpec(
            name="bin_width",
            label="Bin (fixed width)",
            needs="numeric",
            params=(_p("width", "number", required=True, minimum=0), _p("origin", "number")),
        ),
        TransformSpec(
            name="bin_quantiles",
            label="Bin (quantiles)",
            needs="numeric",
            params=(_p("q", "int", required=True, minimum=2, maximum=1000),),
        ),
        TransformSpec(
            name="bin_edges",
            label="Bin (custom edges)",
            needs="numeric",
            params=(_p("edges", "numbers", required=True),),
        ),
        TransformSpec(
            name="round",
            label="Round",
            needs="numeric",
            gives="numeric",
            params=(_p("base", "number", required=True, minimum=0),),
        ),
        TransformSpec(
            name="top_bottom",
            label="Top/bottom coding",
            needs="numeric",
            gives="numeric",
            params=(_p("lower", "number"), _p("upper", "number")),
        ),
        TransformSpec(
            name="date",
            label="Generalize dates",
            params=(
                _p("unit", "choice", required=True, choices=("year", "month", "age_band")),
                _p("band_width", "int", default=10, minimum=1, maximum=100),
                _p("reference", "date"),
                _p("date_format", "text"),
            ),
        ),
        TransformSpec(
            name="postal_prefix",
            label="Postal-code prefix",
            params=(_p("keep", "int", required=True, minimum=0), _p("fill", "text", default="*")),
        ),
        TransformSpec(
            name="group",
            label="Group categories",
            params=(_p("mapping", "mapping", required=True), _p("other", "text")),
        ),
        TransformSpec(
            name="suppress",
            label="Local suppression (k-anonymity)",
            many=True,
            gives="same",
            params=(
                _p("k", "int", required=True, minimum=1, maximum=10_000),
                _p("mode", "choice", default="cells", choices=("cells", "records")),
                _p("importance", "columns"),
            ),
        ),
        TransformSpec(
            name="microaggregate",
            label="Microaggregation (MDAV)",
            many=True,
            needs="numeric",
            gives="numeric",
            params=(
                _p("k", "int", required=True, minimum=2, maximum=10_000),
                _p("standardize", "bool", default=True),
            ),
        ),
        TransformSpec(
            name="pram",
            label="Randomized response (PRAM)",
            params=(
                _p("epsilon", "number", required=True, minimum=EPSILON_MIN, maximum=EPSILON_MAX),
                _p(
                    "categories",
                    "texts",
                    required=True,
                    help="The public categories, known without looking at the data (a list "
                    "read from the data would reveal which occur); '<NA>' for missing values.",
                ),
            ),
            help="Each value kept with probability e^ε/(e^ε+k−1) (local DP); its ε is charged "
            "to the privacy budget.",
        ),
        TransformSpec(
            name="dp_noise",
            label="DP noise (per record)",
            needs="numeric",
            gives="numeric",
            params=(
                _p("epsilon", "number", required=True, minimum=EPSILON_MIN, maximum=EPSILON_MAX),
                _p("lower", "number", required=True),
                _p("upper", "number", required=True),
            ),
            help="Clamp to [lower, upper] and add Laplace noise (upper−lower)/ε per value; its ε "
            "is charged to the privacy budget. A column with missing values is refused (which "
            "records are missing would be released exactly).",
        ),
    )
}


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _check_param(where: str, spec: ParamSpec, value: Any) -> Any:
    """The value if it fits ``spec``; a RecipeError naming the parameter otherwise."""
    if value is None:
        return None
    kind = spec.kind
    name = f"{where}: parameter '{spec.name}'"
    expected = {
        "int": "a whole number",
        "number": "a finite number",
        "text": "text",
        "char": "one character",
        "bool": "true or false",
        "numbers": "a list of numbers",
        "texts": "a list of texts",
        "mapping": "an object of text to text",
        "choice": "one of " + ", ".join(spec.choices),
        "date": "an ISO date such as 2024-12-31",
        "columns": "a list of column names",
    }[kind]
    ok = {
        "int": _is_int(value),
        "number": _is_number(value),
        "text": isinstance(value, str),
        "char": isinstance(value, str) and len(value) == 1,
        "bool": isinstance(value, bool),
        "numbers": isinstance(value, list) and all(_is_number(v) for v in value),
        "texts": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "mapping": isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()),
        "choice": isinstance(value, str) and value in spec.choices,
        "date": isinstance(value, str) and _is_iso_date(value),
        "columns": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok:
        got = type(value).__name__ if kind != "choice" else "another value"
        raise RecipeError(f"{name} must be {expected}; got {got}. Fix it in the recipe.")
    if kind in ("int", "number"):
        if spec.minimum is not None and (
            value < spec.minimum or (kind == "number" and spec.minimum == 0 and value == 0)
        ):
            bound = "above" if kind == "number" and spec.minimum == 0 else "at least"
            raise RecipeError(
                f"{name} must be {bound} {spec.minimum:g}; got {value!r}. Fix it in the recipe."
            )
        if spec.maximum is not None and value > spec.maximum:
            raise RecipeError(
                f"{name} must be at most {spec.maximum:g}; got {value!r}. Fix it in the recipe."
            )
    return value


def _is_iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# --- steps and recipes ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One recipe step: a transform applied to one column (or several, for ``many``).

    Attributes
    ----------
    transform : str
        A key of :data:`TRANSFORMS`.
    columns : tuple of str
        The column (one) or columns (``suppress``, ``microaggregate``).
    params : dict
        Parameters of the transform, JSON values only (no secrets).
    """

    transform: str
    columns: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this step."""
        spec = TRANSFORMS.get(self.transform)
        out: dict[str, Any] = {"transform": self.transform}
        if spec is not None and not spec.many and len(self.columns) == 1:
            out["column"] = self.columns[0]
        else:
            out["columns"] = list(self.columns)
        out["params"] = dict(self.params)
        return out

    def describe(self) -> str:
        """A short human-readable line, e.g. ``"Bin (fixed width) on age"``."""
        spec = TRANSFORMS.get(self.transform)
        label = spec.label if spec else self.transform
        return f"{label} on {', '.join(self.columns)}"


def _check_step(i: int, step: Step) -> Step:
    """Structural validation of a step (no data needed)."""
    where = f"Step {i + 1}"
    spec = TRANSFORMS.get(step.transform)
    if spec is None:
        raise RecipeError(
            f"{where}: unknown transform '{step.transform}'. Known transforms: "
            + ", ".join(TRANSFORMS)
            + "."
        )
    where = f"Step {i + 1} ({step.transform})"
    if not step.columns or not all(isinstance(c, str) and c for c in step.columns):
        raise RecipeError(f"{where} names no column. Give 'column' (or 'columns' for a list).")
    if not spec.many and len(step.columns) != 1:
        raise RecipeError(
            f"{where} works on one column; got {len(step.columns)}. Split it into one step "
            "per column."
        )
    if len(set(step.columns)) != len(step.columns):
        raise RecipeError(f"{where} lists a column twice. List each column once.")
    known = {p.name: p for p in spec.params}
    unknown = [k for k in step.params if k not in known]
    if unknown:
        # Only the names: an unknown parameter's value could be a secret pasted by mistake.
        raise RecipeError(
            f"{where}: unknown parameter(s) {', '.join(map(repr, unknown))}. Allowed: "
            + (", ".join(known) or "none")
            + ". Secrets never go into a recipe; pass keys with --key-file."
        )
    params: dict[str, Any] = {}
    for p in spec.params:
        value = step.params.get(p.name)
        if value is None and p.required:
            raise RecipeError(f"{where}: parameter '{p.name}' is required; got none.")
        value = _check_param(where, p, value)
        if value is not None:
            params[p.name] = value
    try:
        _deep_check(step.transform, params, step.columns)
    except InvalidParameterError as exc:
        raise RecipeError(f"{where}: {exc}") from None
    return Step(transform=step.transform, columns=tuple(step.columns), params=params)


def _deep_check(transform: str, params: Mapping[str, Any], columns: Sequence[str]) -> None:
    """Parameter checks that need more than a type and a range, done by the transforms."""
    if transform == "mask_pattern":
        masking._check_pattern(params["pattern"])
    elif transform == "bin_edges":
        masking._check_edges(params["edges"])
    elif transform == "postal_prefix" and params.get("fill", "*") != "":
        masking._check_char(params.get("fill", "*"), "fill")
    elif transform == "date" and params["unit"] == "age_band" and "reference" not in params:
        raise InvalidParameterError(
            "age bands need a 'reference' date so the result is reproducible; got none."
        )
    elif transform == "top_bottom":
        lo, hi = params.get("lower"), params.get("upper")
        if lo is None and hi is None:
            raise InvalidParameterError("give 'lower', 'upper' or both; got neither.")
        if lo is not None and hi is not None and lo >= hi:
            raise InvalidParameterError(f"'lower' must be below 'upper'; got {lo} >= {hi}.")
    elif transform == "dp_noise":
        dp.check_bounds(params["lower"], params["upper"])
    elif transform == "suppress" and "importance" in params:
        if sorted(params["importance"]) != sorted(columns):
            raise InvalidParameterError(
                "'importance' must list each of the step's columns once; it does not."
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipe:
    """An ordered list of hardening steps.

    Attributes
    ----------
    steps : tuple of Step
    source_columns : tuple of str
        Column names of the dataset the recipe was made on (names only), so that applying it
        elsewhere can say what is missing.
    version : int
        Schema version; :data:`SCHEMA_VERSION` for recipes written by this PrivLens.
    """

    steps: tuple[Step, ...] = ()
    source_columns: tuple[str, ...] = ()
    version: int = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the recipe."""
        return {
            "schema_version": self.version,
            "source_columns": list(self.source_columns),
            "steps": [s.to_dict() for s in self.steps],
        }

    def to_json(self) -> str:
        """Pretty JSON text (UTF-8 safe, stable key order)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: object) -> Recipe:
        """Build and validate a recipe from its JSON object.

        Raises
        ------
        RecipeError
            A wrong schema version, an unknown transform or parameter, a parameter of the
            wrong type or out of range.
        """
        if not isinstance(data, dict):
            raise RecipeError(
                f"A recipe is a JSON object with 'schema_version' and 'steps'; got "
                f"{type(data).__name__}."
            )
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            shown = repr(version) if _is_int(version) or version is None else "a non-number"
            raise RecipeError(
                f"Recipe schema version {shown} is not supported; this PrivLens reads version "
                f"{SCHEMA_VERSION}. Re-export the recipe from a matching PrivLens."
            )
        unknown = [k for k in data if k not in ("schema_version", "source_columns", "steps")]
        if unknown:
            raise RecipeError(
                f"Unknown recipe field(s) {', '.join(map(repr, unknown))}. Allowed: "
                "schema_version, source_columns, steps."
            )
        raw_steps = data.get("steps", [])
        src = data.get("source_columns", [])
        if not isinstance(raw_steps, list):
            raise RecipeError("'steps' must be a list of step objects.")
        if not isinstance(src, list) or not all(isinstance(c, str) for c in src):
            raise RecipeError("'source_columns' must be a list of column names.")
        steps = []
        for i, raw in enumerate(raw_steps):
            if not isinstance(raw, dict):
                raise RecipeError(f"Step {i + 1} must be an object; got {type(raw).__name__}.")
            extra = [k for k in raw if k not in ("transform", "column", "columns", "params")]
            if extra:
                raise RecipeError(
                    f"Step {i + 1}: unknown field(s) {', '.join(map(repr, extra))}. Allowed: "
                    "transform, column, columns, params."
                )
            if "column" in raw and "columns" in raw:
                raise RecipeError(f"Step {i + 1}: give 'column' or 'columns', not both.")
            cols = raw.get("columns", [raw["column"]] if "column" in raw else [])
            if not isinstance(cols, list):
                raise RecipeError(f"Step {i + 1}: 'columns' must be a list of names.")
            params = raw.get("params", {})
            if not isinstance(params, dict):
                raise RecipeError(f"Step {i + 1}: 'params' must be an object.")
            transform = raw.get("transform")
            if not isinstance(transform, str):
                raise RecipeError(f"Step {i + 1}: 'transform' must be a transform name.")
            steps.append(Step(transform=transform, columns=tuple(cols), params=params))
        return cls(steps=tuple(steps), source_columns=tuple(src)).checked()

    @classmethod
    def from_json(cls, text: str | bytes) -> Recipe:
        """Parse and validate JSON text (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
            raise RecipeError(
                f"The recipe is not valid JSON{where}. Export it again from the Masking page "
                "or fix the syntax."
            ) from None
        return cls.from_dict(data)

    def checked(self) -> Recipe:
        """This recipe with every step validated (parameters normalized), or RecipeError."""
        return Recipe(
            steps=tuple(_check_step(i, s) for i, s in enumerate(self.steps)),
            source_columns=self.source_columns,
            version=self.version,
        )

    def add(self, step: Step) -> Recipe:
        """A new recipe with ``step`` appended (validated)."""
        _check_step(len(self.steps), step)
        return Recipe(
            steps=(*self.steps, step), source_columns=self.source_columns, version=self.version
        )

    def secrets_needed(self) -> tuple[str, ...]:
        """Names of the secrets the steps need (never their values)."""
        names = [
            str(s.params.get("secret", DEFAULT_SECRET))
            for s in self.steps
            if TRANSFORMS.get(s.transform, TransformSpec(name="", label="")).secret
        ]
        return tuple(dict.fromkeys(names))


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return "numeric"
    return "text"


def validate(
    frame: pd.DataFrame, recipe: Recipe, *, secrets: Mapping[str, bytes] | None = None
) -> None:
    """Check that ``recipe`` can run on ``frame``; raise one RecipeError listing what is wrong.

    Checks every step's parameters, that every column exists (naming all missing ones, and
    saying if the recipe was made on another dataset), that a dropped column is not used
    later, that numeric transforms get numeric columns (following the kinds that earlier
    steps produce), and, when ``secrets`` is given, that each needed secret is there.

    Raises
    ------
    RecipeError
    """
    check_frame(frame)  # unique text column names
    recipe = recipe.checked()
    needed = list(dict.fromkeys(c for s in recipe.steps for c in s.columns))
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        hint = (
            " The recipe was made on a dataset with other columns; rename them or edit the recipe."
            if recipe.source_columns and set(recipe.source_columns) != set(frame.columns)
            else " Check the column names."
        )
        raise RecipeError(
            f"The recipe uses {len(missing)} column(s) this data does not have: "
            + ", ".join(missing)
            + "."
            + hint
        )
    kinds = {c: _kind(frame[c]) for c in frame.columns}
    problems: list[str] = []
    for i, step in enumerate(recipe.steps):
        spec = TRANSFORMS[step.transform]
        for c in step.columns:
            if kinds.get(c) == "none":
                problems.append(f"step {i + 1} uses column '{c}', which an earlier step drops")
            elif spec.needs == "numeric" and kinds[c] != "numeric":
                problems.append(
                    f"step {i + 1} ({step.transform}) needs a numeric column, but '{c}' is "
                    "text" + (" after an earlier step" if _kind(frame[c]) == "numeric" else "")
                )
        for c in step.columns:
            if spec.gives != "same" and kinds.get(c) != "none":
                kinds[c] = _gives(step)
    if secrets is not None:
        absent = [n for n in recipe.secrets_needed() if n not in secrets]
        if absent:
            problems.append(
                "the key(s) named " + ", ".join(map(repr, absent)) + " were not supplied "
                "(give them with --key-file or enter them on the Masking page)"
            )
    if problems:
        raise RecipeError(
            f"The recipe cannot run on this data ({len(problems)} problem(s)): "
            + "; ".join(problems)
            + "."
        )


def _gives(step: Step) -> str:
    """The column kind (``numeric``, ``text`` or ``none``) a step leaves behind."""
    spec = TRANSFORMS[step.transform]
    if spec.gives == "cast":
        return "numeric" if step.params.get("kind") in ("integer", "decimal") else "text"
    return spec.gives


# --- applying ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnChange:
    """What a recipe did to one column of the original data.

    Attributes
    ----------
    column : str
    transforms : tuple of str
        Transform names applied to it, in order.
    cells_changed : int
        Cells whose value differs (present before and after) or that gained a value.
    cells_suppressed : int
        Cells present before and missing after.
    dropped : bool
        Whether the column was removed.
    """

    column: str
    transforms: tuple[str, ...]
    cells_changed: int
    cells_suppressed: int
    dropped: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HardeningResult:
    """The hardened table and its change log.

    Attributes
    ----------
    frame : pandas.DataFrame
    changes : tuple of ColumnChange
        One entry per column of the input, in its order.
    records_removed : int
        Records removed by record suppression.
    records_changed : int
        Records kept with at least one cell changed or suppressed (in a kept column).
    n_cells : int
        Cells of the input (rows times columns), the base of :attr:`share_changed`.
    secure : bool
        False if a random step drew from a seeded (non-CSPRNG) source.
    warnings : tuple of str
    column_codes : mapping of str to numpy.ndarray
        For columns of :attr:`frame` known without reading them (changed by value-wise steps
        only, or unchanged and already factorized), per row the code of its value (``-1`` =
        missing), grouping rows exactly as their values do: the equivalence classes of the
        hardened table come from them (:func:`core.risk.equivalence_classes`). A
        :class:`core.codes.KnownCodes`: each array is made when first read, and its
        ``grouping`` gives the records grouped by some of these columns when the recipe
        knows it from patterns (the loaded values' grouping through value-wise steps, or
        what a suppression left), so the classes are counted without regrouping records.
    """

    frame: pd.DataFrame
    changes: tuple[ColumnChange, ...]
    records_removed: int = 0
    records_changed: int = 0
    n_cells: int = 0
    secure: bool = True
    warnings: tuple[str, ...] = ()
    column_codes: Mapping[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def share_changed(self) -> float:
        """Share of input cells changed, suppressed, dropped or in removed records."""
        if not self.n_cells:
            return 0.0
        n_rows = self.n_cells // max(len(self.changes), 1)
        touched = sum(
            n_rows if c.dropped else c.cells_changed + c.cells_suppressed for c in self.changes
        )
        kept_cols = sum(not c.dropped for c in self.changes)
        return min(1.0, (touched + self.records_removed * kept_cols) / self.n_cells)


def change_log(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per column of ``before`` still in ``after``: (cells changed, cells suppressed).

    Rows are matched by index (removed rows are not counted here). Values of the same kind
    are compared exactly; a value whose kind changes counts as changed only if its text
    changes (a number 39 that becomes the text "39" is the same value; one that becomes the
    interval "[30, 40)" is not).

    >>> change_log(pd.DataFrame({"a": [1, 2, None]}), pd.DataFrame({"a": [1, None, 5]}))
    {'a': (1, 1)}
    >>> change_log(pd.DataFrame({"a": [39, 41]}), pd.DataFrame({"a": ["39", "4*"]}))
    {'a': (1, 0)}
    """
    return {c: (int(ch.sum()), int(sup.sum())) for c, ch, sup in _change_masks(before, after)}


def records_changed(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """Records of ``after`` with at least one cell changed or suppressed (see :func:`change_log`).

    Removed records and dropped columns are not counted here: a result reports them apart.

    >>> records_changed(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}),
    ...                 pd.DataFrame({"a": [1, None, 9], "b": ["x", "y", "q"]}))
    2
    """
    any_change = np.zeros(len(after), dtype=bool)
    for _, changed, suppressed in _change_masks(before, after):
        any_change |= changed | suppressed
    return int(any_change.sum())


def _change_masks(
    before: pd.DataFrame, after: pd.DataFrame
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Per kept column: (changed or gained a value, suppressed), row masks of ``after``."""
    same_rows = len(before) == len(after) and before.index.equals(after.index)
    for c in before.columns:
        if c not in after.columns:
            continue
        old = before[c] if same_rows else before[c].loc[after.index]
        new = after[c]
        old_na = old.isna().to_numpy()
        new_na = new.isna().to_numpy()
        both = ~old_na & ~new_na
        ko = _kind_of(old)
        if ko != _kind_of(new):
            ne = _text_differs(old, new)
        elif ko == "numeric":
            a = old.to_numpy(dtype="float64", na_value=np.nan)
            b = new.to_numpy(dtype="float64", na_value=np.nan)
            ne = a != b
        else:
            ne = (_as_text(old) != _as_text(new)).to_numpy(dtype=bool, na_value=False)
        yield str(c), (both & ne) | (old_na & ~new_na), ~old_na & new_na


def _text_differs(old: pd.Series, new: pd.Series) -> np.ndarray:
    """Row mask: the text forms of the values differ (each distinct value printed once)."""
    old_codes, old_uniques = pd.factorize(old, use_na_sentinel=True)
    new_codes, new_uniques = pd.factorize(new, use_na_sentinel=True)
    old_texts = masking._text_values(pd.Series(old_uniques)).tolist()
    new_ids = {t: i for i, t in enumerate(masking._text_values(pd.Series(new_uniques)).tolist())}
    # each old distinct value as the id of the same text among the new ones (-2: none); the
    # last entry answers the missing code -1
    as_new = np.array([new_ids.get(t, -2) for t in old_texts] + [-3], dtype=np.int64)
    return np.asarray(as_new[old_codes] != new_codes)


def _kind_of(s: pd.Series) -> str:
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        dt = dt.categories.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "bool"
    if pd.api.types.is_numeric_dtype(dt):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    return "text"


def _as_text(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object:
        return s.astype(masking._STR)
    return s


def column_encryption_key(secret: bytes) -> bytes:
    """The 32-byte AES-SIV key of the ``encrypt`` transform for a recipe secret.

    A 32-byte secret (a generated key) is used as it is; any other length (a passphrase
    entered on the Masking page) goes through HMAC-SHA256 with a fixed label, so the same
    secret always gives the same key.

    >>> column_encryption_key(bytes(32)) == bytes(32)
    True
    >>> len(column_encryption_key(b"a long enough passphrase"))
    32
    """
    if len(secret) == 32:
        return bytes(secret)
    return hmac.new(secret, b"privlens/v1/column-encryption-key", hashlib.sha256).digest()


_VALUE_FNS: dict[str, Callable[..., pd.Series]] = {
    "mask": masking.mask_characters,
    "mask_pattern": masking.mask_pattern,
    "redact": masking.redact,
    "replace": masking.replace,
    "bin_width": masking.bin_width,
    "bin_quantiles": masking.bin_quantiles,
    "bin_edges": masking.bin_edges,
    "round": masking.round_to,
    "top_bottom": masking.top_bottom_code,
    "date": masking.generalize_date,
    "postal_prefix": masking.truncate_prefix,
    "group": masking.group_categories,
}


def _run_step(
    out: pd.DataFrame,
    step: Step,
    secrets: Mapping[str, bytes],
    source: dp.Source,
    notes: list[str],
) -> tuple[pd.DataFrame, int, bool]:
    """Apply one validated step; returns the frame, records removed and CSPRNG use."""
    t, p, cols = step.transform, dict(step.params), list(step.columns)
    col = cols[0]
    if t == "drop":
        return out.drop(columns=[col]), 0, True
    if t == "cast":
        cast = cast_column(out, col, p["kind"], date_format=p.get("date_format"))
        notes.extend(cast.warnings)
        return cast.frame, 0, True
    if t == "suppress":
        r = masking.local_suppression(out, quasi_identifiers=cols, **p)
        notes.extend(r.warnings)
        return r.frame, r.records_suppressed, True
    if t == "microaggregate":
        m = masking.microaggregate(out, columns=cols, **p)
        notes.extend(m.warnings)
        return m.frame, 0, True
    if t == "pram":
        rr = dp.randomized_response(out[col], source=source, **p)
        series = rr.values.where(rr.values != "<NA>")
        out = out.assign(**{col: series.astype(masking._STR)})
        return out, 0, rr.secure
    if t == "dp_noise":
        missing = int(out[col].isna().sum())
        if missing:  # which records are missing would be released exactly, outside ε
            raise RecipeError(
                f"{missing} missing value(s) in '{col}': per-record noise keeps them missing, "
                "so which records are missing would be released exactly, outside ε. Fill or "
                "drop them before this step, or use randomized response with '<NA>' listed."
            )
        nc = dp.noisy_numeric_column(out[col], source=source, **p)
        notes.extend(nc.warnings)
        return out.assign(**{col: nc.values}), 0, nc.secure
    if t == "encrypt":
        from core import crypto

        key = column_encryption_key(secrets[str(p.pop("secret", DEFAULT_SECRET))])
        token = crypto.siv_encrypt_column(out[col], key, context=str(p.get("context", "")))
        return out.assign(**{col: token}), 0, True
    if t == "pseudonymize":
        key = secrets[str(p.pop("secret", DEFAULT_SECRET))]
        return out.assign(**{col: masking.pseudonymize(out[col], key=key, **p)}), 0, True
    return out.assign(**{col: _VALUE_FNS[t](out[col], **p)}), 0, True


#: Transforms that map each value on its own (given the set of distinct values): computed
#: once per distinct value on the fast path of :func:`apply`.
VALUEWISE = frozenset(
    (
        "mask",
        "mask_pattern",
        "redact",
        "replace",
        "bin_width",
        "bin_edges",
        "round",
        "top_bottom",
        "date",
        "postal_prefix",
        "group",
        "pseudonymize",
    )
)


@dataclass(frozen=True, slots=True)
class _Chain:
    """A column after value-wise steps only: their keys, the codes, and per distinct
    loaded value the position of its image."""

    key: tuple[tuple[str, str], ...]
    cc: codes.ColumnCodes
    base_map: np.ndarray


def _valuewise(step: Step, secrets: Mapping[str, bytes]) -> Callable[[pd.Series], pd.Series]:
    p = dict(step.params)
    if step.transform == "pseudonymize":
        key = secrets[str(p.pop("secret", DEFAULT_SECRET))]
        return lambda s: masking.pseudonymize(s, key=key, **p)
    fn = _VALUE_FNS[step.transform]
    return lambda s: fn(s, **p)


@dataclass(slots=True)
class _Known:
    """What :func:`apply` knows of each column without reading it row by row."""

    chains: dict[str, _Chain] = field(default_factory=dict)  # value-wise, not written out
    written: dict[str, _Chain] = field(default_factory=dict)  # value-wise, written out
    newly: dict[str, np.ndarray] = field(default_factory=dict)  # cells a suppression blanked
    # codes after a suppression, made when read
    after: dict[str, Callable[[], np.ndarray]] = field(default_factory=dict)
    kept: np.ndarray | None = None  # rows kept by a record suppression
    slow: set[str] = field(default_factory=set)  # read or written by a row-by-row step
    all_slow: bool = False  # a row-by-row step removed records
    # each suppression on codes: its columns and the records grouped by them after it
    suppressions: list[tuple[tuple[str, ...], codes.Grouping | None]] = field(default_factory=list)
    kept_by: int | None = None  # the suppression that removed records

    def chain(self, col: str) -> _Chain | None:
        return self.chains.get(col) or self.written.get(col)

    def open(self, col: str) -> bool:
        """Whether ``col`` is still known per distinct value of the loaded column."""
        return not self.all_slow and col not in self.slow and col not in self.after

    def write(self, frame: pd.DataFrame, out: pd.DataFrame, memo: codes.ColumnMemo) -> pd.DataFrame:
        """``out`` with each pending chain written out, one value per row."""
        if not self.chains:
            return out
        cols = {
            c: memo.get(("series", c, ch.key), functools.partial(ch.cc.series, frame.index))
            for c, ch in self.chains.items()
        }
        self.written.update(self.chains)
        self.chains = {}
        return out.assign(**cols)


def _fast_step(
    frame: pd.DataFrame,
    step: Step,
    secrets: Mapping[str, bytes],
    memo: codes.ColumnMemo,
    known: _Known,
) -> _Chain | None:
    """The column after ``step`` computed per distinct value, or None (row by row)."""
    col = step.columns[0]
    if step.transform not in VALUEWISE or not known.open(col) or known.kept is not None:
        return None
    prev = known.chain(col)
    if prev is None:
        if not _eligible(frame, col, memo):
            return None
        base = _base_codes(frame, col, memo)
        prev = _Chain((), base, np.arange(len(base.values), dtype=np.int64))
    key = (*prev.key, (step.transform, json.dumps(dict(step.params), sort_keys=True)))

    def make() -> _Chain | None:
        try:
            cc, remap = codes.transform(prev.cc, _valuewise(step, secrets))
        except (InvalidParameterError, ColumnError, CastError):
            return None  # the row-by-row run raises the error with its exact counts
        return _Chain(key, cc, remap[prev.base_map])

    chain = memo.get(("chain", col, key), make)
    return chain if isinstance(chain, _Chain) else None


def _eligible(frame: pd.DataFrame, col: str, memo: codes.ColumnMemo) -> bool:
    return bool(memo.get(("eligible", col), lambda: codes.eligible(frame[col])))


def _base_codes(frame: pd.DataFrame, col: str, memo: codes.ColumnMemo) -> codes.ColumnCodes:
    cc = memo.get(("codes", col), lambda: codes.factorize(frame[col]))
    assert isinstance(cc, codes.ColumnCodes)
    return cc


def _fast_suppress(
    frame: pd.DataFrame,
    out: pd.DataFrame,
    step: Step,
    memo: codes.ColumnMemo,
    known: _Known,
    notes: list[str],
) -> tuple[pd.DataFrame, int] | None:
    """Local suppression reading codes instead of the columns; None when they are unknown."""
    cols = list(step.columns)
    if step.transform != "suppress" or known.kept is not None:
        return None
    if not all(known.open(c) and (known.chain(c) or _eligible(frame, c, memo)) for c in cols):
        return None
    out = known.write(frame, out, memo)
    given = {}
    keys = []
    for c in cols:
        ch = known.chain(c)
        given[c] = (ch.cc if ch is not None else _base_codes(frame, c, memo)).class_codes()
        keys.append((c, ch.key if ch is not None else ()))
    # the records grouped by their QI codes: the same for every k and mode of these steps
    patterns = memo.get(
        ("patterns", tuple(keys)),
        lambda: _qi_patterns(_grouping(frame, tuple(cols), known, memo)),
    )
    assert isinstance(patterns, masking.QIPatterns)
    r = masking.local_suppression(
        out, quasi_identifiers=cols, codes=given, patterns=patterns, **dict(step.params)
    )
    notes.extend(r.warnings)
    if r.kept is not None:
        known.kept = r.kept
        known.kept_by = len(known.suppressions)
        known.after = {c: _taken(v, r.kept) for c, v in known.after.items()}
    known.newly.update(r.newly_missing)
    known.after.update({c: functools.partial(r.codes.__getitem__, c) for c in r.codes})
    known.suppressions.append((tuple(cols), r.grouping))
    return r.frame, r.records_suppressed


def _taken(codes_of: Callable[[], np.ndarray], rows: np.ndarray) -> Callable[[], np.ndarray]:
    return lambda: codes_of()[rows]


def _grouping(
    frame: pd.DataFrame, cols: tuple[str, ...], known: _Known, memo: codes.ColumnMemo
) -> codes.Grouping:
    """The records grouped by the codes of ``cols`` (each the loaded column or a value-wise
    chain of it): the loaded values' grouping, made once per set of columns and kept in the
    memo, with each pattern's codes mapped through the chains (no record is read)."""
    names = tuple(sorted(cols))
    loaded = memo.get(
        ("groups", names),
        lambda: codes.group({c: _base_codes(frame, c, memo).codes for c in names}, names),
    )
    assert isinstance(loaded, codes.Grouping)
    g = loaded.select(cols)
    pat = g.pat.copy()
    for j, c in enumerate(cols):
        ch = known.chain(c)
        if ch is not None:  # a loaded value's code -1 (missing) takes the last image
            pat[:, j] = ch.base_map[pat[:, j]]
    return codes.Grouping(columns=cols, inv=g.inv, pat=pat, count=g.count, first=g.first)


def _qi_patterns(g: codes.Grouping) -> masking.QIPatterns:
    """:class:`core.masking.QIPatterns` of a grouping (its distinct patterns)."""
    m = g.merged()
    pat = m.pat
    pat.flags.writeable = False
    return masking.QIPatterns(inv=m.inv, pat=pat, weight=m.count.astype(np.float64), first=m.first)


def _all_change_masks(
    frame: pd.DataFrame, out: pd.DataFrame, known: _Known, memo: codes.ColumnMemo
) -> Iterator[tuple[str, np.ndarray | None, np.ndarray | None]]:
    """:func:`_change_masks`, per distinct value for columns known without reading them
    (None: nothing changed)."""
    slow = []
    for c in frame.columns:
        if c not in out.columns:
            continue
        if known.all_slow or c in known.slow:
            slow.append(c)
            continue
        ch = known.chain(c)
        if ch is None and c not in known.newly:  # the loaded values, untouched
            yield str(c), None, None
            continue
        if ch is not None:
            changed, suppressed = _chain_masks(frame, c, ch, memo)
        else:
            changed = suppressed = np.zeros(len(frame), dtype=bool)
        if c in known.newly:
            newly = known.newly[c]
            present = memo.get(("present", c), functools.partial(_present, frame, c, memo))
            changed, suppressed = changed & ~newly, suppressed | (newly & present)
        if known.kept is not None:
            changed, suppressed = changed[known.kept], suppressed[known.kept]
        yield str(c), changed, suppressed
    if slow:
        yield from _change_masks(frame[slow], out)


def _present(frame: pd.DataFrame, c: str, memo: codes.ColumnMemo) -> np.ndarray:
    """Per row, whether the loaded column has a value."""
    return _base_codes(frame, c, memo).class_codes() >= 0


def _chain_masks(
    frame: pd.DataFrame, c: str, ch: _Chain, memo: codes.ColumnMemo
) -> tuple[np.ndarray, np.ndarray]:
    base = _base_codes(frame, c, memo)

    def make() -> tuple[np.ndarray, np.ndarray]:
        after = ch.cc.values.take(ch.base_map).reset_index(drop=True)
        [(_, changed, suppressed)] = _change_masks(
            pd.DataFrame({c: base.values}), pd.DataFrame({c: after})
        )
        return changed[base.codes], suppressed[base.codes]

    masks = memo.get(("masks", c, ch.key), make)
    return masks  # type: ignore[return-value]


def _known_codes(
    frame: pd.DataFrame,
    out: pd.DataFrame,
    known: _Known,
    memo: codes.ColumnMemo,
    codes_for: Sequence[str],
) -> codes.KnownCodes:
    """Per column of ``out`` known without reading it, the codes of its values (made when
    read), and the records grouped by such columns when known from patterns."""
    found: dict[str, Callable[[], np.ndarray]] = {}
    if known.all_slow:
        return codes.KnownCodes(found)
    for c in out.columns:
        c = str(c)
        if c in known.slow or out[c].dtype == object:  # object: 1 and True would merge
            continue
        if c in known.after:
            found[c] = known.after[c]
            continue
        ch = known.chain(c)
        if ch is not None:
            v = functools.partial(ch.cc.class_codes)
        elif c in codes_for and _eligible(frame, c, memo):
            v = functools.partial(_loaded_codes, frame, c, memo)
        elif isinstance(cc := memo.peek(("codes", c)), codes.ColumnCodes):
            v = functools.partial(cc.class_codes)
        else:
            continue
        found[c] = v if known.kept is None else _taken(v, known.kept)
    return codes.KnownCodes(found, functools.partial(_known_grouping, frame, known, memo))


def _loaded_codes(frame: pd.DataFrame, c: str, memo: codes.ColumnMemo) -> np.ndarray:
    return _base_codes(frame, c, memo).class_codes()


def _known_grouping(
    frame: pd.DataFrame, known: _Known, memo: codes.ColumnMemo, cols: tuple[str, ...]
) -> codes.Grouping | None:
    """The records of the result grouped by the codes of ``cols`` (columns whose codes are
    known), or None when that needs every record's codes.

    From the grouping a suppression left when ``cols`` are among its columns; from the
    loaded values' grouping when no suppression touched them and no record was removed.
    """
    hit = [i for i, (s, _) in enumerate(known.suppressions) if set(s) & set(cols)]
    if not hit:
        return None if known.kept is not None else _grouping(frame, cols, known, memo)
    i = hit[0]
    cols_i, g = known.suppressions[i]
    if len(hit) > 1 or g is None or not set(cols) <= set(cols_i):
        return None
    if known.kept is not None and known.kept_by != i:
        return None
    return g.select(cols)


def apply(
    frame: pd.DataFrame,
    recipe: Recipe,
    *,
    secrets: Mapping[str, bytes] | None = None,
    source: dp.Source = None,
    progress: Callable[[int, int, str], None] | None = None,
    memo: codes.ColumnMemo | None = None,
    fast: bool = True,
    codes_for: Sequence[str] = (),
) -> HardeningResult:
    """Run a recipe on a table.

    Parameters
    ----------
    frame : pandas.DataFrame
        The data; not modified.
    recipe : Recipe
        The steps, run in order.
    secrets : mapping of str to bytes, optional
        Keys by name for pseudonymization steps (``{"pseudonym_key": key}``). They are
        never stored in the result.
    source : optional
        Randomness for ``pram`` and ``dp_noise``; ``None`` (the default) reads the
        operating system's CSPRNG. Seeds are for tests and labelled previews only.
    progress : callable, optional
        Called as ``progress(step_number, n_steps, description)`` before each step.
    memo : core.codes.ColumnMemo, optional
        Factorized columns and value-wise chains of this table, kept between calls so a
        change of one step recomputes one column. It must belong to this ``frame`` and to
        these ``secrets`` (make a new one when either changes). Default: a memo for this
        call only.
    fast : bool
        Compute value-wise steps once per distinct value (the default). ``False`` runs every
        step row by row: the reference the fast path is tested against.
    codes_for : sequence of str
        Columns whose codes :attr:`HardeningResult.column_codes` should hold even when no
        step changes them (e.g. the quasi-identifiers whose risk is shown next).

    Returns
    -------
    HardeningResult

    Raises
    ------
    RecipeError
        The recipe does not validate on this frame, a key is missing, or a step fails on
        the data (the message names the step).
    """
    recipe = recipe.checked()
    keys = dict(secrets or {})
    validate(frame, recipe, secrets=keys)
    if memo is None:
        memo = codes.ColumnMemo()
    out = frame
    removed = 0
    secure = True
    notes: list[str] = []
    applied: dict[str, list[str]] = {str(c): [] for c in frame.columns}
    known = _Known()
    for i, step in enumerate(recipe.steps):
        if progress is not None:
            progress(i + 1, len(recipe.steps), step.describe())
        try:
            chain = _fast_step(frame, step, keys, memo, known) if fast else None
            sup = None
            if chain is None and fast:
                sup = _fast_suppress(frame, out, step, memo, known, notes)
            if chain is not None:
                known.written.pop(step.columns[0], None)
                known.chains[step.columns[0]] = chain
            elif sup is not None:
                out, gone = sup
                removed += gone
            else:
                out = known.write(frame, out, memo)
                out, gone, ok = _run_step(out, step, keys, source, notes)
                removed += gone
                secure = secure and ok
                known.slow.update(step.columns)
                if gone or len(out) != (len(frame) if known.kept is None else known.kept.sum()):
                    known.all_slow = True
        except (InvalidParameterError, ColumnError, CastError) as exc:
            raise RecipeError(f"Step {i + 1} ({step.describe()}) failed: {exc}") from None
        for c in step.columns:
            applied.setdefault(c, []).append(step.transform)
    out = known.write(frame, out, memo)
    counts: dict[str, tuple[int, int]] = {}
    touched = np.zeros(len(out), dtype=bool)
    for c, changed, suppressed in _all_change_masks(frame, out, known, memo):
        if changed is None or suppressed is None:
            counts[c] = (0, 0)
            continue
        counts[c] = (int(np.count_nonzero(changed)), int(np.count_nonzero(suppressed)))
        touched |= changed | suppressed
    changes = tuple(
        ColumnChange(
            column=str(c),
            transforms=tuple(applied[str(c)]),
            cells_changed=counts.get(str(c), (0, 0))[0],
            cells_suppressed=counts.get(str(c), (0, 0))[1],
            dropped=c not in out.columns,
        )
        for c in frame.columns
    )
    return HardeningResult(
        frame=out,
        changes=changes,
        records_removed=removed,
        records_changed=int(np.count_nonzero(touched)),
        n_cells=int(frame.shape[0] * frame.shape[1]),
        secure=secure,
        warnings=tuple(dict.fromkeys(notes)),
        column_codes=_known_codes(frame, out, known, memo, codes_for),
    )


# --- privacy budget --------------------------------------------------------------------------

#: Transforms that add noise under an ε and so spend the dataset's privacy budget.
NOISY_TRANSFORMS = ("pram", "dp_noise")


def noise_spends(recipe: Recipe) -> tuple[tuple[str, float, float], ...]:
    """``(label, epsilon, delta)`` of each step that adds noise under an ε, in order.

    Each randomized-response (PRAM) or per-record noise step is ε-DP for the column it
    changes; a record's values in several noised columns compose, so every step is charged.

    >>> r = Recipe(steps=(Step(transform="dp_noise", columns=("v",),
    ...                        params={"epsilon": 0.5, "lower": 0, "upper": 1}),))
    >>> noise_spends(r)
    (('DP noise (per record) on v', 0.5, 0.0),)
    """
    return tuple(
        (s.describe(), float(s.params["epsilon"]), 0.0)
        for s in recipe.steps
        if s.transform in NOISY_TRANSFORMS
    )


def charge_ledger(ledger: Ledger, recipe: Recipe) -> Ledger:
    """The ledger with every noisy step of ``recipe`` recorded, all or none.

    Raises
    ------
    BudgetExceededError
        If the steps together would exceed the budget; nothing is recorded then.
    """
    return ledger.spend_many(noise_spends(recipe))


# --- suggestions from column roles ---------------------------------------------------------


def _nice_width(span: float, bins: int = 10) -> float:
    """A round interval width (1, 2 or 5 times a power of ten) giving about ``bins`` bins."""
    if not math.isfinite(span) or span <= 0:
        return 1.0
    raw = span / bins
    power = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return float(m * power)
    return float(10 * power)


def suggest_step(column: str, series: pd.Series, role: str) -> Step | None:
    """A sensible first transform for a column, from its role; ``None`` means keep.

    Direct identifiers are pseudonymized; numeric quasi-identifiers are binned into about
    ten round-width intervals; quasi-identifiers named like postal codes keep a 3-character
    prefix; date quasi-identifiers keep the year. Sensitive and other columns are kept.

    >>> suggest_step("age", pd.Series(range(17, 91)), "quasi_identifier").params
    {'width': 10.0}
    >>> suggest_step("email", pd.Series(["a@b.c"]), "identifier").transform
    'pseudonymize'
    """
    if role == "identifier":
        return Step(transform="pseudonymize", columns=(column,), params={})
    if role != "quasi_identifier":
        return None
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return Step(transform="date", columns=(column,), params={"unit": "year"})
    lowered = str(column).lower()  # an API caller's frame may have non-text names
    if any(w in lowered for w in ("zip", "postal", "postcode", "plz")):
        return Step(transform="postal_prefix", columns=(column,), params={"keep": 3})
    if _kind(series) == "numeric" and series.nunique() > 10:
        x = series.to_numpy(dtype="float64", na_value=np.nan)
        span = float(np.nanmax(x) - np.nanmin(x)) if np.isfinite(x).any() else 0.0
        return Step(transform="bin_width", columns=(column,), params={"width": _nice_width(span)})
    return None
