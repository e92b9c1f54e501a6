"""The workspace: one model of the user's work, as frozen values with a versioned JSON form.

A :class:`Workspace` holds the dataset's description (fingerprint, name, column kinds), the
column roles, the hardening recipe with its undo/redo history, each page's settings, and
the history of releases and exports. Every change returns a new workspace
(:meth:`Workspace.with_setting`, :meth:`Workspace.with_recipe`, ...), validated on
construction, so a page writes a setting in a widget callback and never holds one of its
own.

The JSON form (:meth:`Workspace.to_json`) carries ``schema_version``; :meth:`Workspace.from_dict`
refuses other versions and any field it does not know, with a
:class:`~core.errors.WorkspaceError` naming the field (never its value).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from core import limits
from core.dp import DOMAINS, MECHANISMS, DPResult
from core.errors import RecipeError, WorkspaceError
from core.export import FORMATS
from core.kinds import KINDS
from core.recipe import Recipe
from core.roles import Role

#: Version of the workspace JSON written by this PrivLens. Version 1 (before large datasets)
#: is still read: it is migrated on load (:func:`_migrate`).
WORKSPACE_VERSION = 2
#: Versions :meth:`Workspace.from_dict` reads.
READABLE_VERSIONS = (1, 2)
#: How many earlier recipes undo can go back to.
UNDO_DEPTH = 50
#: Encryption choices of the Export page.
ENCRYPTIONS = ("none", "passphrase", "key", "age")
#: Plain values a page may keep in ``options`` for a widget the model does not name: scalars
#: and lists of text (a multiselect).
_Scalar = str | int | float | bool | None | tuple[str, ...]
#: Most entries one section's ``options`` may hold (the Masking page keeps a few per column).
MAX_OPTIONS = 20_000


def _fail(where: str, what: str) -> WorkspaceError:
    return WorkspaceError(f"Workspace field '{where}' {what}")


def _check_str(where: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value:
        raise _fail(where, f"must be non-empty text; got {type(value).__name__}.")


def _check_names(where: str, value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
        raise _fail(where, "must be a list of column names.")
    if len(set(value)) != len(value):
        raise _fail(where, "lists a column twice; list each once.")


def _check_number(
    where: str,
    value: object,
    lo: float,
    hi: float,
    *,
    optional: bool = False,
    integer: bool = False,
) -> None:
    if value is None and optional:
        return
    ok_type = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok_type:
        kind = "a whole number" if integer else "a number"
        raise _fail(where, f"must be {kind}; got {type(value).__name__}.")
    assert isinstance(value, int | float)
    if not (math.isfinite(value) and lo <= value <= hi):
        raise _fail(where, f"must be in [{lo:g}, {hi:g}]; got {value:g}.")


def _check_choice(where: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        shown = repr(value) if isinstance(value, str) and len(value) <= 40 else "another value"
        raise _fail(where, f"must be one of {', '.join(allowed)}; got {shown}.")


def _plain_option(v: object) -> bool:
    if v is None or isinstance(v, str | int | bool):
        return True
    if isinstance(v, float):
        return math.isfinite(v)
    return isinstance(v, tuple) and all(isinstance(x, str) for x in v)


def _check_options(where: str, value: object) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and _plain_option(v) for k, v in value.items()
    ):
        raise _fail(
            where, "must map names to plain values (text, numbers, true/false, lists of text)."
        )
    if len(value) > MAX_OPTIONS:
        raise _fail(where, f"holds {len(value)} entries; at most {MAX_OPTIONS} are kept.")


def _options(value: object) -> object:
    """``options`` with JSON lists turned into tuples (a multiselect's value)."""
    if isinstance(value, Mapping):
        return {k: tuple(v) if isinstance(v, list) else v for k, v in value.items()}
    return value


# --- the dataset ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMeta:
    """One column: its name and its kind (one of :data:`core.kinds.KINDS` or ``other``)."""

    name: str
    kind: str

    def __post_init__(self) -> None:
        """Validate."""
        _check_str("dataset.columns.name", self.name)
        _check_choice("dataset.columns.kind", self.kind, (*KINDS, "other"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetMeta:
    """The loaded table, described: its keyed fingerprint, name, size and columns."""

    fingerprint: str
    name: str
    n_rows: int
    columns: tuple[ColumnMeta, ...]

    def __post_init__(self) -> None:
        """Validate."""
        if not (
            isinstance(self.fingerprint, str)
            and len(self.fingerprint) == 64
            and all(c in "0123456789abcdef" for c in self.fingerprint)
        ):
            raise _fail("dataset.fingerprint", "must be 64 hex digits.")
        _check_str("dataset.name", self.name)
        _check_number("dataset.n_rows", self.n_rows, 0, limits.MAX_ROWS, integer=True)
        names = tuple(c.name for c in self.columns)
        _check_names("dataset.columns", names)

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def kinds(self) -> dict[str, str]:
        """Column name to kind."""
        return {c.name: c.kind for c in self.columns}


@dataclass(frozen=True, slots=True, kw_only=True)
class LargeSource:
    """A large dataset read where it lies, through an engine: never stored in the workspace.

    ``root`` is an allowed directory of the server (``PRIVLENS_DATA_DIRS``) and ``path`` the
    Parquet file or folder relative to it; a restored workspace opens it again from there
    (:func:`core.large_data.resolve_source` checks it is still allowed). ``seed`` draws the
    same preview sample again. ``fingerprint`` is :func:`core.large_data.source_fingerprint`
    of its files when ``n_rows`` and ``columns`` were read (None in workspaces saved before
    it was recorded).
    """

    root: str
    path: str
    engine: str
    name: str
    columns: tuple[str, ...]
    n_rows: int
    seed: int
    sample_rows: int
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        """Validate."""
        _check_str("large_source.root", self.root)
        _check_str("large_source.path", self.path)
        _check_choice("large_source.engine", self.engine, ("pandas", "duckdb", "spark"))
        _check_str("large_source.name", self.name)
        _check_names("large_source.columns", self.columns)
        _check_number("large_source.n_rows", self.n_rows, 0, 10**15, integer=True)
        _check_number("large_source.seed", self.seed, 0, 2**31 - 1, integer=True)
        _check_number("large_source.sample_rows", self.sample_rows, 1, 10**7, integer=True)
        _check_str("large_source.fingerprint", self.fingerprint, optional=True)


# --- the recipe with undo/redo ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeHistory:
    """The current recipe, the earlier ones (undo) and the undone ones (redo).

    Examples
    --------
    >>> from core.recipe import Step
    >>> h = RecipeHistory().add(Step(transform="round", columns=("age",), params={"base": 5}))
    >>> len(h.current.steps), h.can_undo, h.undo().can_redo
    (1, True, True)
    >>> h.undo().redo() == h
    True
    """

    current: Recipe = field(default_factory=Recipe)
    undo_stack: tuple[Recipe, ...] = ()
    redo_stack: tuple[Recipe, ...] = ()

    def change(self, recipe: Recipe) -> RecipeHistory:
        """Make ``recipe`` current (validated); the old one can be undone; redo is cleared."""
        try:
            recipe = recipe.checked()
        except RecipeError as exc:
            raise WorkspaceError(f"The recipe change was not applied: {exc}") from None
        if recipe == self.current:
            return self
        undo = (*self.undo_stack, self.current)[-UNDO_DEPTH:]
        return RecipeHistory(current=recipe, undo_stack=undo, redo_stack=())

    def add(self, step: Any) -> RecipeHistory:
        """Append a step."""
        return self.change(replace(self.current, steps=(*self.current.steps, step)))

    def remove(self, index: int) -> RecipeHistory:
        """Remove step ``index`` (0-based)."""
        steps = self.current.steps
        if not 0 <= index < len(steps):
            raise WorkspaceError(
                f"There is no step {index + 1}: the recipe has {len(steps)} step(s)."
            )
        return self.change(replace(self.current, steps=steps[:index] + steps[index + 1 :]))

    def move(self, index: int, to: int) -> RecipeHistory:
        """Move step ``index`` to position ``to`` (both 0-based)."""
        steps = list(self.current.steps)
        if not (0 <= index < len(steps) and 0 <= to < len(steps)):
            raise WorkspaceError(
                f"Steps {index + 1} and {to + 1} must both exist: the recipe has "
                f"{len(steps)} step(s)."
            )
        steps.insert(to, steps.pop(index))
        return self.change(replace(self.current, steps=tuple(steps)))

    @property
    def can_undo(self) -> bool:
        """Whether there is an earlier recipe."""
        return bool(self.undo_stack)

    @property
    def can_redo(self) -> bool:
        """Whether there is an undone recipe."""
        return bool(self.redo_stack)

    def undo(self) -> RecipeHistory:
        """Go back to the previous recipe (unchanged if there is none)."""
        if not self.undo_stack:
            return self
        return RecipeHistory(
            current=self.undo_stack[-1],
            undo_stack=self.undo_stack[:-1],
            redo_stack=(*self.redo_stack, self.current),
        )

    def redo(self) -> RecipeHistory:
        """Re-apply the last undone recipe (unchanged if there is none)."""
        if not self.redo_stack:
            return self
        return RecipeHistory(
            current=self.redo_stack[-1],
            undo_stack=(*self.undo_stack, self.current),
            redo_stack=self.redo_stack[:-1],
        )

    def digest(self) -> str:
        """SHA-256 of the current recipe's JSON: which recipe an export used."""
        return hashlib.sha256(self.current.to_json().encode("utf-8")).hexdigest()


# --- page settings ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSettings:
    """Risk page: quasi-identifiers, sensitive attributes, policy thresholds, population.

    ``k_threshold``, ``max_risk`` and ``average_risk`` are the policy the table is checked
    against; ``sampling_fraction`` ``None`` means the table is the whole population.
    """

    quasi_identifiers: tuple[str, ...] = ()
    sensitive: tuple[str, ...] = ()
    k_threshold: int = 5
    max_risk: float = limits.RISK_THRESHOLD_DEFAULT
    average_risk: float = 0.05
    weight_column: str | None = None
    sampling_fraction: float | None = None
    population_size: int | None = None
    options: Mapping[str, _Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate."""
        object.__setattr__(self, "options", _options(self.options))
        _check_names("risk.quasi_identifiers", self.quasi_identifiers)
        _check_names("risk.sensitive", self.sensitive)
        _check_number(
            "risk.k_threshold", self.k_threshold, limits.K_MIN, limits.K_MAX, integer=True
        )
        _check_number("risk.max_risk", self.max_risk, 0.0, 1.0)
        _check_number("risk.average_risk", self.average_risk, 0.0, 1.0)
        _check_str("risk.weight_column", self.weight_column, optional=True)
        _check_number("risk.sampling_fraction", self.sampling_fraction, 1e-9, 1.0, optional=True)
        _check_number(
            "risk.population_size", self.population_size, 1, 10**12, optional=True, integer=True
        )
        _check_options("risk.options", self.options)


@dataclass(frozen=True, slots=True, kw_only=True)
class DpSettings:
    """Differential privacy page: the question, its column, ε, δ, bounds, and the budget."""

    column: str | None = None
    question: str = "count"
    mechanism: str | None = None
    epsilon: float = limits.EPSILON_DEFAULT
    delta: float = limits.DELTA_DEFAULT
    lower: float | None = None
    upper: float | None = None
    total_epsilon: float = 1.0
    total_delta: float = 1e-5
    options: Mapping[str, _Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate."""
        object.__setattr__(self, "options", _options(self.options))
        _check_str("dp.column", self.column, optional=True)
        _check_choice("dp.question", self.question, tuple(MECHANISMS))
        if self.mechanism is not None:
            _check_choice("dp.mechanism", self.mechanism, MECHANISMS[self.question])
        _check_number("dp.epsilon", self.epsilon, limits.EPSILON_MIN, limits.EPSILON_MAX)
        _check_number("dp.delta", self.delta, 0.0, limits.DELTA_MAX)
        _check_number("dp.lower", self.lower, -1e300, 1e300, optional=True)
        _check_number("dp.upper", self.upper, -1e300, 1e300, optional=True)
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise _fail("dp.lower", "must be below dp.upper.")
        _check_number("dp.total_epsilon", self.total_epsilon, limits.EPSILON_MIN, 100.0)
        _check_number("dp.total_delta", self.total_delta, 0.0, limits.DELTA_MAX)
        _check_options("dp.options", self.options)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportSettings:
    """Export page: file format, bundle, encryption choice (never a key or passphrase)."""

    format: str = "csv"
    bundle: bool = True
    encryption: str = "none"
    options: Mapping[str, _Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate."""
        object.__setattr__(self, "options", _options(self.options))
        _check_choice("export.format", self.format, FORMATS)
        if not isinstance(self.bundle, bool):
            raise _fail(
                "export.bundle", f"must be true or false; got {type(self.bundle).__name__}."
            )
        _check_choice("export.encryption", self.encryption, ENCRYPTIONS)
        _check_options("export.options", self.options)


@dataclass(frozen=True, slots=True, kw_only=True)
class PageSettings:
    """A page whose settings the model does not name one by one (Data, Correlations, Masking).

    ``options`` maps a setting's name to a plain value, e.g. the Correlations page's method or
    the Masking page's transform of a column while it is still being edited.
    """

    options: Mapping[str, _Scalar] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate."""
        object.__setattr__(self, "options", _options(self.options))
        _check_options("page.options", self.options)


# --- history ----------------------------------------------------------------------------------

#: Most warnings a kept release result holds, and most characters of each (and of its unit and
#: neighbouring relation): the texts :mod:`core.dp` writes are far shorter.
_KEPT_WARNINGS = 10
_KEPT_TEXT = 1_000


def _short(text: str) -> str:
    return text if len(text) <= _KEPT_TEXT else text[: _KEPT_TEXT - 1] + "…"


def _check_text(where: str, value: object) -> None:
    if not isinstance(value, str) or not value or len(value) > _KEPT_TEXT:
        raise _fail(where, f"must be text of 1 to {_KEPT_TEXT} characters.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseResult:
    """What a DP release answered, kept with its record for the page's "Last release" card.

    Everything here is the mechanism's output or a figure fixed by the parameters (ε, δ, the
    public bounds and categories): the noisy answer, its 95% error half-width and unit, the
    noise scale, the sensitivity, the neighbouring relation, whether the noise was secure,
    where the categories came from, and the result's warnings. Nothing exact about the data
    (no record count), and never the bounds the user typed (they are settings).

    A histogram keeps its bins' ``labels`` and noisy ``counts`` (``value`` is None), at most
    :data:`core.limits.DP_KEPT_BINS` of them and :data:`core.limits.DP_KEPT_CHARS` characters
    of labels; ``n_bins`` says how many were released. The labels are the public bins or the
    declared categories, or, for a threshold histogram, the categories of the data whose noisy
    count passed the threshold: DP output too. Any other query keeps its ``value``, a number
    or, for a mode, the category released.

    Examples
    --------
    >>> import pandas as pd
    >>> from core import dp
    >>> r = dp.dp_histogram(pd.DataFrame({"c": list("aab")}), "c", epsilon=1.0,
    ...                     categories=["a", "b"], source=0)
    >>> kept = ReleaseResult.of(r)
    >>> kept.labels, kept.n_bins, kept.value, kept.secure
    (('a', 'b'), 2, None, False)
    """

    value: float | str | None = None
    labels: tuple[str, ...] = ()
    counts: tuple[float, ...] = ()
    n_bins: int = 0
    half_width: float
    half_width_unit: str
    scale: float
    sensitivity: float
    neighbours: str
    secure: bool
    domain: str = ""
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Validate (never naming a value: a label may be a category of the data)."""
        w = "releases.result"
        if self.value is not None and not isinstance(self.value, str):
            _check_number(f"{w}.value", self.value, -1e300, 1e300)
        if not (
            isinstance(self.labels, tuple)
            and isinstance(self.counts, tuple)
            and all(isinstance(x, str) for x in self.labels)
        ):
            raise _fail(f"{w}.labels", "must be a list of texts, beside a list of counts.")
        for c in self.counts:
            _check_number(f"{w}.counts", c, -1e300, 1e300)
        if len(self.labels) != len(self.counts):
            raise _fail(
                f"{w}.counts",
                f"has {len(self.counts)} count(s) for {len(self.labels)} label(s); give one "
                "count per label.",
            )
        if len(self.labels) > limits.DP_KEPT_BINS:
            raise _fail(
                f"{w}.labels",
                f"holds {len(self.labels)} bins; at most {limits.DP_KEPT_BINS} are kept.",
            )
        chars = sum(map(len, self.labels)) + (len(self.value) if isinstance(self.value, str) else 0)
        if chars > limits.DP_KEPT_CHARS:
            raise _fail(
                f"{w}.labels",
                f"holds {chars} characters of text; at most {limits.DP_KEPT_CHARS} are kept.",
            )
        _check_number(f"{w}.n_bins", self.n_bins, len(self.labels), limits.MAX_ROWS, integer=True)
        if self.value is not None and self.n_bins:
            raise _fail(f"{w}.value", "must be empty for a histogram (its bins hold the answer).")
        _check_number(f"{w}.half_width", self.half_width, 0.0, 1e300)
        _check_text(f"{w}.half_width_unit", self.half_width_unit)
        _check_number(f"{w}.scale", self.scale, 0.0, 1e300)
        _check_number(f"{w}.sensitivity", self.sensitivity, 0.0, 1e300)
        _check_text(f"{w}.neighbours", self.neighbours)
        if not isinstance(self.secure, bool):
            raise _fail(f"{w}.secure", f"must be true or false; got {type(self.secure).__name__}.")
        _check_choice(f"{w}.domain", self.domain, ("", *DOMAINS))
        if not isinstance(self.warnings, tuple) or len(self.warnings) > _KEPT_WARNINGS:
            raise _fail(f"{w}.warnings", f"must be a list of at most {_KEPT_WARNINGS} texts.")
        for text in self.warnings:
            _check_text(f"{w}.warnings", text)

    @classmethod
    def of(cls, result: object) -> ReleaseResult | None:
        """What is kept of ``result``: a :class:`core.dp.DPResult`, else nothing (None).

        A histogram keeps its first bins within the limits above. A mode whose category alone
        is longer than :data:`core.limits.DP_KEPT_CHARS` keeps nothing.
        """
        if not isinstance(result, DPResult):
            return None
        common: dict[str, Any] = {
            "half_width": float(result.half_width),
            "half_width_unit": _short(result.half_width_unit),
            "scale": float(result.scale),
            "sensitivity": float(result.sensitivity),
            "neighbours": _short(result.neighbours),
            "secure": bool(result.secure),
            "domain": result.domain,
            "warnings": tuple(_short(w) for w in result.warnings[:_KEPT_WARNINGS]),
        }
        if result.query != "histogram":
            value = result.value
            if isinstance(value, str):
                if len(value) > limits.DP_KEPT_CHARS:
                    return None
                return cls(value=value, **common)
            return cls(value=float(value), **common)  # type: ignore[arg-type]
        counts = [float(c) for c in result.value]  # type: ignore[union-attr]
        labels: list[str] = []
        chars = 0
        for label in result.labels[: limits.DP_KEPT_BINS]:
            chars += len(label)
            if chars > limits.DP_KEPT_CHARS:
                break
            labels.append(label)
        return cls(
            labels=tuple(labels),
            counts=tuple(counts[: len(labels)]),
            n_bins=len(result.labels),
            **common,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseRecord:
    """One DP release: what was asked of which column, how, at what privacy cost, when.

    ``result`` is what it answered (:class:`ReleaseResult`), for a release of the Differential
    privacy page; None for other releases and in workspaces saved before it was kept.
    """

    query: str
    column: str | None
    mechanism: str
    epsilon: float
    delta: float
    at: float
    spend_id: str | None = None
    result: ReleaseResult | None = None

    def __post_init__(self) -> None:
        """Validate."""
        _check_str("releases.query", self.query)
        _check_str("releases.column", self.column, optional=True)
        _check_str("releases.mechanism", self.mechanism)
        _check_number("releases.epsilon", self.epsilon, 0.0, 1e6)
        _check_number("releases.delta", self.delta, 0.0, 1.0)
        _check_number("releases.at", self.at, 0.0, 1e12)
        _check_str("releases.spend_id", self.spend_id, optional=True)
        if self.result is None:
            return
        if not isinstance(self.result, ReleaseResult):
            raise _fail("releases.result", "must be an object of a DP release's answer.")
        _check_choice("releases.query", self.query, tuple(MECHANISMS))
        _check_choice("releases.mechanism", self.mechanism, MECHANISMS[self.query])
        if (self.query == "histogram") != (self.result.value is None):
            raise _fail(
                "releases.result.value",
                "must be empty for a histogram (its bins hold the answer) and set otherwise.",
            )
        if isinstance(self.result.value, str) != (self.query == "mode"):
            raise _fail("releases.result.value", "must be text for a mode and a number otherwise.")


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRecord:
    """One export: format, encryption, which recipe (its digest), when."""

    format: str
    encryption: str
    recipe_digest: str
    at: float

    def __post_init__(self) -> None:
        """Validate."""
        _check_choice("exports.format", self.format, FORMATS)
        _check_choice("exports.encryption", self.encryption, ENCRYPTIONS)
        _check_str("exports.recipe_digest", self.recipe_digest)
        _check_number("exports.at", self.at, 0.0, 1e12)


# --- the workspace ----------------------------------------------------------------------------

_SECTIONS: dict[str, type] = {
    "data": PageSettings,
    "correlations": PageSettings,
    "risk": RiskSettings,
    "dp": DpSettings,
    "masking": PageSettings,
    "anonymize": PageSettings,
    "model": PageSettings,
    "export": ExportSettings,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    """Everything the user has done: data, roles, recipe, settings, history.

    Examples
    --------
    >>> ws = Workspace().with_setting("risk.k_threshold", 10)
    >>> ws.risk.k_threshold
    10
    >>> Workspace.from_json(ws.to_json()) == ws
    True
    """

    dataset: DatasetMeta | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    #: Kind changes made on the Data page, in order: ``(column, kind, date_format)``. They are
    #: already applied to the stored table and lead every recipe made from it.
    casts: tuple[tuple[str, str, str | None], ...] = ()
    recipe: RecipeHistory = field(default_factory=RecipeHistory)
    data: PageSettings = field(default_factory=PageSettings)
    correlations: PageSettings = field(default_factory=PageSettings)
    risk: RiskSettings = field(default_factory=RiskSettings)
    dp: DpSettings = field(default_factory=DpSettings)
    masking: PageSettings = field(default_factory=PageSettings)
    anonymize: PageSettings = field(default_factory=PageSettings)
    model: PageSettings = field(default_factory=PageSettings)
    export: ExportSettings = field(default_factory=ExportSettings)
    releases: tuple[ReleaseRecord, ...] = ()
    exports: tuple[ExportRecord, ...] = ()
    #: A large dataset opened through an engine (then ``dataset`` is None: no table is held).
    large_source: LargeSource | None = None

    def __post_init__(self) -> None:
        """Validate roles (and, with a dataset, that named columns exist)."""
        if sum(r.result is not None for r in self.releases) > 1:
            raise _fail(
                "releases.result",
                "is kept by more than one release; only the newest DP release keeps it.",
            )
        roles = tuple(r.value for r in Role)
        for cast in self.casts:
            if not (
                isinstance(cast, tuple)
                and len(cast) == 3
                and isinstance(cast[0], str)
                and cast[0]
                and (cast[2] is None or isinstance(cast[2], str))
            ):
                raise _fail("casts", "must list (column, kind, date format) triples.")
            _check_choice("casts.kind", cast[1], KINDS)
        for name, role in self.roles.items():
            _check_str("roles", name)
            _check_choice("roles", role, roles)
        if self.dataset is not None and self.large_source is not None:
            raise _fail("large_source", "is set together with a loaded table; keep one.")
        described = self.dataset.column_names if self.dataset is not None else None
        if self.large_source is not None:
            described = self.large_source.columns
        if described is not None:
            known = set(described)
            named = {
                "roles": tuple(self.roles),
                "casts": tuple(c[0] for c in self.casts),
                "risk.quasi_identifiers": self.risk.quasi_identifiers,
                "risk.sensitive": self.risk.sensitive,
                "risk.weight_column": (self.risk.weight_column,),
                "dp.column": (self.dp.column,),
            }
            for where, names in named.items():
                missing = [n for n in names if n is not None and n not in known]
                if missing:
                    raise _fail(
                        where,
                        f"names {len(missing)} column(s) the dataset does not have. Load the "
                        "table this workspace was made on.",
                    )

    # --- changes ---------------------------------------------------------------------------

    def with_setting(self, path: str, value: Any) -> Workspace:
        """A workspace with one page setting changed, e.g. ``("risk.k_threshold", 5)``.

        Lists (from a multiselect) become tuples. Raises WorkspaceError for an unknown
        path or a value out of range; the workspace is unchanged.
        """
        section, _, name = path.partition(".")
        cls = _SECTIONS.get(section)
        if cls is not None and name.startswith("options.") and len(name) > len("options."):
            return self.with_option(section, name[len("options.") :], value)
        if cls is None or name not in {f.name for f in fields(cls)}:
            raise WorkspaceError(
                f"Unknown workspace setting '{path[:80]}'. Settings are "
                + ", ".join(f"{s}.{f.name}" for s, c in _SECTIONS.items() for f in fields(c))
                + "."
            )
        if isinstance(value, list):
            value = tuple(value)
        new_section = replace(getattr(self, section), **{name: value})
        return replace(self, **{section: new_section})

    def with_option(self, section: str, name: str, value: Any) -> Workspace:
        """A workspace with one entry of a section's ``options`` set (``None`` keeps it)."""
        if section not in _SECTIONS or not name:
            raise WorkspaceError(
                f"Unknown workspace section '{section[:40]}'; sections are "
                + ", ".join(_SECTIONS)
                + "."
            )
        if isinstance(value, list):
            value = tuple(value)
        current = getattr(self, section)
        options = {**current.options, name: value}
        return replace(self, **{section: replace(current, options=options)})

    def option(self, section: str, name: str, default: Any = None) -> Any:
        """One entry of a section's ``options``, or ``default``."""
        return getattr(self, section).options.get(name, default)

    def with_cast(self, column: str, kind: str, date_format: str | None = None) -> Workspace:
        """A kind change appended (the column's kind in the dataset description follows)."""
        dataset = self.dataset
        if dataset is not None:
            columns = tuple(
                ColumnMeta(name=c.name, kind=kind) if c.name == column else c
                for c in dataset.columns
            )
            dataset = replace(dataset, columns=columns)
        return replace(self, dataset=dataset, casts=(*self.casts, (column, kind, date_format)))

    def with_dataset(self, dataset: DatasetMeta, roles: Mapping[str, str]) -> Workspace:
        """A fresh workspace for another table (settings that name columns are reset)."""
        return Workspace(dataset=dataset, roles=dict(roles), export=self.export)

    def with_roles(self, roles: Mapping[str, str]) -> Workspace:
        """Roles replaced."""
        return replace(self, roles=dict(roles))

    def with_recipe(self, recipe: RecipeHistory) -> Workspace:
        """Recipe history replaced (after add/remove/undo/redo)."""
        return replace(self, recipe=recipe)

    def record_release(self, record: ReleaseRecord) -> Workspace:
        """A release appended to the history.

        A record with a result becomes the only one that keeps its result (the card shows the
        last release), so the workspace, saved at every change, does not grow with each answer.
        """
        releases = self.releases
        if record.result is not None:
            releases = tuple(r if r.result is None else replace(r, result=None) for r in releases)
        return replace(self, releases=(*releases, record))

    @property
    def last_result(self) -> ReleaseRecord | None:
        """The newest release that keeps its result (for the "Last release" card), or None."""
        return next((r for r in reversed(self.releases) if r.result is not None), None)

    def record_export(self, *, format: str, encryption: str, at: float | None = None) -> Workspace:
        """An export of the current recipe appended to the history."""
        rec = ExportRecord(
            format=format,
            encryption=encryption,
            recipe_digest=self.recipe.digest(),
            at=time.time() if at is None else at,
        )
        return replace(self, exports=(*self.exports, rec))

    # --- JSON ------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the workspace."""

        def plain(obj: Any) -> Any:
            return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj)}

        return {
            "schema_version": WORKSPACE_VERSION,
            "dataset": None
            if self.dataset is None
            else {
                "fingerprint": self.dataset.fingerprint,
                "name": self.dataset.name,
                "n_rows": self.dataset.n_rows,
                "columns": [{"name": c.name, "kind": c.kind} for c in self.dataset.columns],
            },
            "roles": dict(self.roles),
            "casts": [list(c) for c in self.casts],
            "recipe": {
                "current": self.recipe.current.to_dict(),
                "undo": [r.to_dict() for r in self.recipe.undo_stack],
                "redo": [r.to_dict() for r in self.recipe.redo_stack],
            },
            "data": plain(self.data),
            "correlations": plain(self.correlations),
            "risk": plain(self.risk),
            "dp": plain(self.dp),
            "masking": plain(self.masking),
            "anonymize": plain(self.anonymize),
            "model": plain(self.model),
            "export": plain(self.export),
            "releases": [
                plain(r) | {"result": None if r.result is None else plain(r.result)}
                for r in self.releases
            ],
            "exports": [plain(e) for e in self.exports],
            "large_source": None if self.large_source is None else plain(self.large_source),
        }

    def to_json(self) -> str:
        """JSON text (stable key order)."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: object) -> Workspace:
        """Build and validate a workspace from its JSON object.

        Raises
        ------
        WorkspaceError
            Another schema version, an unknown or missing field, a value of the wrong type
            or out of range, an invalid recipe.
        """
        if not isinstance(data, dict):
            raise WorkspaceError(
                f"A workspace is a JSON object; got {type(data).__name__}. Open a file saved "
                "by PrivLens."
            )
        if data.get("schema_version") not in READABLE_VERSIONS:
            raise WorkspaceError(
                f"This workspace has another schema version; this PrivLens reads versions "
                f"{', '.join(map(str, READABLE_VERSIONS))}. Open it with the PrivLens that "
                "saved it."
            )
        data = _migrate(data)
        _known("workspace", data, {"schema_version", *(f.name for f in fields(cls))})
        try:
            ds = data.get("dataset")
            dataset = (
                None
                if ds is None
                else DatasetMeta(
                    fingerprint=_get(ds, "fingerprint", "dataset"),
                    name=_get(ds, "name", "dataset"),
                    n_rows=_get(ds, "n_rows", "dataset"),
                    columns=tuple(
                        ColumnMeta(**_only(c, ("name", "kind"), "dataset.columns"))
                        for c in _list(_get(ds, "columns", "dataset"), "dataset.columns")
                    ),
                )
            )
            rec = data.get("recipe", {})
            _known("recipe", rec, {"current", "undo", "redo"})
            recipe = RecipeHistory(
                current=Recipe.from_dict(rec.get("current", Recipe().to_dict())),
                undo_stack=tuple(Recipe.from_dict(r) for r in _list(rec.get("undo", []), "undo")),
                redo_stack=tuple(Recipe.from_dict(r) for r in _list(rec.get("redo", []), "redo")),
            )
            roles = data.get("roles", {})
            if not isinstance(roles, dict):
                raise _fail("roles", "must map column names to roles.")
            casts = tuple(
                tuple(c) if isinstance(c, list) else c
                for c in _list(data.get("casts", []), "casts")
            )
            return cls(
                dataset=dataset,
                roles=roles,
                casts=casts,  # type: ignore[arg-type]  # validated by the constructor
                recipe=recipe,
                data=_section(PageSettings, data.get("data", {}), "data"),
                correlations=_section(PageSettings, data.get("correlations", {}), "correlations"),
                masking=_section(PageSettings, data.get("masking", {}), "masking"),
                anonymize=_section(PageSettings, data.get("anonymize", {}), "anonymize"),
                model=_section(PageSettings, data.get("model", {}), "model"),
                risk=_section(RiskSettings, data.get("risk", {}), "risk"),
                dp=_section(DpSettings, data.get("dp", {}), "dp"),
                export=_section(ExportSettings, data.get("export", {}), "export"),
                releases=tuple(_release(r) for r in _list(data.get("releases", []), "releases")),
                exports=tuple(
                    _section(ExportRecord, e, "exports")
                    for e in _list(data.get("exports", []), "exports")
                ),
                large_source=None
                if data.get("large_source") is None
                else _section(LargeSource, data["large_source"], "large_source"),
            )
        except RecipeError as exc:
            raise WorkspaceError(f"The workspace's recipe does not validate: {exc}") from None

    @classmethod
    def from_json(cls, text: str | bytes) -> Workspace:
        """Parse and validate JSON text (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise WorkspaceError(
                "The workspace is not valid JSON. Open a file saved by PrivLens."
            ) from None
        return cls.from_dict(data)


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON object of an older version, brought to :data:`WORKSPACE_VERSION`.

    Version 1 has no ``large_source`` (its workspaces always hold a table): it is added, empty.
    A version-1 object that names ``large_source`` is refused as an unknown field.
    """
    if data.get("schema_version") == 1:
        _known(
            "workspace",
            data,
            {"schema_version", *(f.name for f in fields(Workspace))} - {"large_source"},
        )
        data = {**data, "schema_version": 2, "large_source": None}
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return {k: list(v) if isinstance(v, tuple) else v for k, v in value.items()}
    return value


def _known(where: str, data: object, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise _fail(where, "must be an object.")
    unknown = sorted(str(k)[:40] for k in data if k not in allowed)
    if unknown:
        raise _fail(where, f"has unknown field(s) {', '.join(map(repr, unknown))}.")


def _get(data: object, key: str, where: str) -> Any:
    if not isinstance(data, dict) or key not in data:
        raise _fail(f"{where}.{key}", "is missing.")
    return data[key]


def _only(data: object, keys: tuple[str, ...], where: str) -> dict[str, Any]:
    _known(where, data, set(keys))
    assert isinstance(data, dict)
    return {k: _get(data, k, where) for k in keys}


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(where, "must be a list.")
    return value


def _release(data: object) -> ReleaseRecord:
    """A release record from JSON; its ``result`` (absent before it was kept) validated too."""
    if isinstance(data, dict) and data.get("result") is not None:
        data = {**data, "result": _section(ReleaseResult, data["result"], "releases.result")}
    record: ReleaseRecord = _section(ReleaseRecord, data, "releases")
    return record


def _section(cls: type, data: object, where: str) -> Any:
    names = {f.name for f in fields(cls)}
    _known(where, data, names)
    assert isinstance(data, dict)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError:
        missing = sorted(names - set(data))
        raise _fail(where, f"is missing field(s) {', '.join(missing)}.") from None
