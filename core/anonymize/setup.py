"""From plain settings to a search, and from a search back to a recipe.

What the "Find a safe table" page needs besides the search itself: the built-in hierarchies
of a known sample (:func:`builtin_hierarchies`), a hierarchy from a builder's plain settings
(:func:`build_hierarchy`), the privacy models from plain settings (:func:`build_models`), the
Pareto frontier of the checked transformations (:func:`pareto_mask`), one transformation as a
result of its own (:func:`result_for`) and the recipe that keeps the user's other steps
(:func:`merge_steps`). Everything takes and returns plain values, so a page stays layout.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from core.anonymize.hierarchy import (
    Hierarchy,
    date_hierarchy,
    encode_hierarchy,
    interval_hierarchy,
    mapping_hierarchy,
    read_hierarchy,
    redaction_hierarchy,
)
from core.anonymize.models import (
    AverageRisk,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    KAnonymity,
    MaxRisk,
    OrderedTCloseness,
    PrivacyModel,
    RecursiveCLDiversity,
)
from core.anonymize.search import AnonymizationResult, Transformation
from core.errors import HierarchyError, InvalidParameterError, PrivLensError
from core.recipe import Recipe, Step

__all__ = [
    "ADULT_HIERARCHIES",
    "SOURCES",
    "build_hierarchy",
    "build_models",
    "builtin_hierarchies",
    "merge_steps",
    "pareto_mask",
    "parse_mapping",
    "parse_widths",
    "result_for",
]

#: ARX's hierarchies for the Adult sample, one file per column (see the NOTICE there).
ADULT_HIERARCHIES = Path(__file__).resolve().parents[2] / "data" / "hierarchies" / "adult"
#: Where a QI's hierarchy comes from.
SOURCES = ("built-in", "intervals", "dates", "redaction", "mapping", "upload")


def builtin_hierarchies(
    df: pd.DataFrame, directory: str | Path = ADULT_HIERARCHIES
) -> dict[str, Hierarchy]:
    """The shipped hierarchies that cover a column of ``df``, by column.

    A file ``<column>.csv`` of ``directory`` is offered for the column of that name when it
    has a row for every value of the column (missing values included, as ``NULL``); a file
    that does not cover its column is left out, so an unrelated table with a column ``age``
    gets no built-in hierarchy for it.

    Parameters
    ----------
    df : pandas.DataFrame
    directory : str or Path
        Folder of ARX hierarchy files (default: the Adult sample's).

    Returns
    -------
    dict of str to Hierarchy

    Examples
    --------
    >>> from core.samples import adult
    >>> sorted(builtin_hierarchies(adult().frame))[:3]
    ['age', 'education', 'income']
    >>> builtin_hierarchies(pd.DataFrame({"age": ["young", "old"]}))
    {}
    """
    out: dict[str, Hierarchy] = {}
    folder = Path(directory)
    for column in map(str, df.columns):
        path = folder / f"{column}.csv"
        if "/" in column or "\\" in column or not path.is_file():
            continue
        try:
            h = read_hierarchy(path, name=column)
            encode_hierarchy(h, df[column], name=column)
        except PrivLensError:
            continue
        out[column] = h
    return out


def parse_widths(text: str) -> tuple[float, ...]:
    """Interval widths per level from text such as ``"5, 10, 20"``.

    >>> parse_widths("5, 10 ,20")
    (5.0, 10.0, 20.0)
    """
    parts = [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]
    try:
        widths = tuple(float(p) for p in parts)
    except ValueError:
        widths = ()
    if not widths or not all(math.isfinite(w) and w > 0 for w in widths):
        raise InvalidParameterError(
            f"Interval widths must be positive numbers separated by commas; got {len(parts)} "
            "entry(ies) that are not all positive numbers. Type e.g. 5, 10, 20."
        )
    return widths


def parse_mapping(text: str) -> list[dict[str, str]]:
    """Category groups per level from text: ``group = value; value`` lines, ``---`` between levels.

    >>> parse_mapping("young = 17; 18\\nold = 70\\n---\\nall = young; old")
    [{'17': 'young', '18': 'young', '70': 'old'}, {'young': 'all', 'old': 'all'}]
    """
    levels: list[dict[str, str]] = [{}]
    for i, raw in enumerate(str(text).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.strip("-") == "":
            levels.append({})
            continue
        group, sep, members = line.partition("=")
        names = [m.strip() for m in members.split(";") if m.strip()]
        if not sep or not group.strip() or not names:
            raise InvalidParameterError(
                f"Line {i} of the category mapping is not 'group = value; value'. Write one "
                "group per line, and a line '---' between levels."
            )
        for name in names:
            if name in levels[-1]:
                raise InvalidParameterError(
                    f"Line {i} of the category mapping puts a value into a second group at "
                    f"level {len(levels)}. Give each value one group per level."
                )
            levels[-1][name] = group.strip()
    levels = [lv for lv in levels if lv]
    if not levels:
        raise InvalidParameterError(
            "The category mapping is empty. Write one 'group = value; value' line per group."
        )
    return levels


def build_hierarchy(
    column: pd.Series,
    source: str,
    *,
    name: str,
    widths: str = "",
    mapping: str = "",
    upload: str = "",
    builtin: Mapping[str, Hierarchy] | None = None,
) -> Hierarchy:
    """The hierarchy of one QI from plain settings.

    Parameters
    ----------
    column : pandas.Series
        The QI's column.
    source : {"built-in", "intervals", "dates", "redaction", "mapping", "upload"}
    name : str
        The QI (names the hierarchy in messages).
    widths : str
        Interval widths per level (``intervals``), e.g. ``"5, 10, 20"``.
    mapping : str
        Category groups (``mapping``), see :func:`parse_mapping`.
    upload : str
        The text of an ARX hierarchy CSV (``upload``).
    builtin : mapping, optional
        The built-in hierarchies (:func:`builtin_hierarchies`).

    Raises
    ------
    HierarchyError, InvalidParameterError
        An unknown source, a built-in hierarchy missing, bad builder settings or a bad file.
    """
    if source == "built-in":
        if not builtin or name not in builtin:
            raise HierarchyError(
                f"There is no built-in hierarchy for '{name}'. Build one or upload ARX's CSV."
            )
        return builtin[name]
    if source == "intervals":
        return interval_hierarchy(column, widths=parse_widths(widths))
    if source == "dates":
        return date_hierarchy(column)
    if source == "redaction":
        return redaction_hierarchy(column)
    if source == "mapping":
        return mapping_hierarchy(column, levels=parse_mapping(mapping))
    if source == "upload":
        if not upload:
            raise HierarchyError(f"No hierarchy file is uploaded for '{name}' yet.")
        return read_hierarchy(upload.encode("utf-8"), name=f"the hierarchy of '{name}'")
    raise InvalidParameterError(
        f"The hierarchy source must be one of {', '.join(SOURCES)}; got {len(source)} "
        "characters of something else."
    )


def build_models(
    *,
    k: int,
    l_kind: str = "none",
    l_value: float = 2.0,
    c_value: float = 3.0,
    t_kind: str = "none",
    t_value: float = 0.2,
    sensitive: str | None = None,
    max_risk: float | None = None,
    avg_risk: float | None = None,
) -> list[PrivacyModel]:
    """The privacy models from plain settings; ``"none"`` / ``None`` leaves a model out.

    Examples
    --------
    >>> [m.describe() for m in build_models(k=5, l_kind="distinct", l_value=2,
    ...                                       sensitive="income")]
    ['5-anonymity', "distinct-2-diversity of 'income'"]
    """
    models: list[PrivacyModel] = [KAnonymity(int(k))]
    if (l_kind != "none" or t_kind != "none") and not sensitive:
        raise InvalidParameterError(
            "l-diversity and t-closeness need a sensitive column; none is chosen. Pick one."
        )
    s = str(sensitive)
    if l_kind == "distinct":
        models.append(DistinctLDiversity(s, int(l_value)))
    elif l_kind == "entropy":
        models.append(EntropyLDiversity(s, float(l_value)))
    elif l_kind == "recursive":
        models.append(RecursiveCLDiversity(s, float(c_value), int(l_value)))
    elif l_kind != "none":
        raise InvalidParameterError(
            "l-diversity must be none, distinct, entropy or recursive; got another value."
        )
    if t_kind == "equal":
        models.append(EqualTCloseness(s, float(t_value)))
    elif t_kind == "ordered":
        models.append(OrderedTCloseness(s, float(t_value)))
    elif t_kind != "none":
        raise InvalidParameterError("t-closeness must be none, equal or ordered.")
    if max_risk is not None:
        models.append(MaxRisk(float(max_risk)))
    if avg_risk is not None:
        models.append(AverageRisk(float(avg_risk)))
    return models


def pareto_mask(loss: Sequence[float], risk: Sequence[float]) -> np.ndarray:
    """Boolean per point: on the Pareto frontier of (information loss, risk), both minimized.

    A point is on the frontier when no other point is at most as bad in both and strictly
    better in one. Points with a ``nan`` coordinate are never on it.

    >>> pareto_mask([1, 2, 3, 2], [3, 1, 0.5, 2]).tolist()
    [True, True, True, False]
    """
    x = np.asarray(loss, dtype=np.float64)
    y = np.asarray(risk, dtype=np.float64)
    ok = ~(np.isnan(x) | np.isnan(y))
    out = np.zeros(len(x), dtype=bool)
    idx = np.flatnonzero(ok)
    order = idx[np.lexsort((y[idx], x[idx]))]
    best = math.inf
    for i in order:  # by loss, then risk: a point is kept when its risk beats all before it
        if y[i] < best:
            out[i] = True
            best = float(y[i])
    # equal points: keep every copy of a frontier point
    for i in idx:
        if not out[i]:
            out[i] = bool(np.any(out & (x == x[i]) & (y == y[i])))
    return out


def result_for(result: AnonymizationResult, node: Transformation) -> AnonymizationResult:
    """``result`` as if ``node`` (a transformation of the same search) were its answer.

    Used to turn any checked transformation into recipe steps with
    :func:`core.anonymize.to_recipe_steps`.
    """
    if not node.anonymous:
        raise InvalidParameterError(
            "This transformation does not meet the privacy models within the suppression "
            "limit; pick an anonymous one."
        )
    return replace(
        result,
        levels=node.levels,
        score=node.score,
        suppressed_records=node.suppressed_records,
        min_class_size=node.min_class_size,
        classes=node.classes,
        max_risk=node.max_risk,
        avg_risk=node.avg_risk,
    )


def merge_steps(
    recipe: Recipe, steps: Sequence[Step], quasi_identifiers: Sequence[str], columns: Sequence[str]
) -> Recipe:
    """The recipe with its steps on the QIs replaced by ``steps`` (others kept, in order).

    A step that touches any QI is dropped; the new steps go after the kept ones.

    >>> old = Recipe(steps=(Step(transform="drop", columns=("id",)),
    ...                     Step(transform="round", columns=("age",), params={"base": 5})))
    >>> new = merge_steps(old, [Step(transform="drop", columns=("age",))], ["age"], ["id", "age"])
    >>> [s.columns for s in new.steps]
    [('id',), ('age',)]
    """
    qis = set(quasi_identifiers)
    kept = tuple(s for s in recipe.steps if not qis & set(s.columns))
    source = recipe.source_columns or tuple(map(str, columns))
    return Recipe(steps=(*kept, *steps), source_columns=source)
