"""Optimal full-domain generalization: search the lattice of hierarchy levels.

A *transformation* (a node of the lattice) picks one level per quasi-identifier (QI); the
lattice holds every combination, ordered component-wise (a node *generalizes* another when
each of its levels is at least as high). :func:`anonymize` returns the anonymous node with
the least information loss (:mod:`core.anonymize.metrics`) under the privacy models and the
suppression limit (:mod:`core.anonymize.models`, ARX semantics).

How a node is evaluated
    Identical input rows (QI hierarchy rows and sensitive values) are grouped once, with a
    weight each. A node's classes come from combining, per QI, the precomputed level codes
    of those rows (:func:`core.anonymize.hierarchy.encode_hierarchy`) into one int64 key:
    integer indexing and one hash factorization, never string work.

Exhaustive search (``method="optimal"``), provably optimal
    Following Flash [KPE12]_, it uses two facts. (1) Monotone anonymity: when every model
    stays satisfied under generalization (with suppression: k-anonymity, max. risk,
    distinct l-diversity, average risk; with limit 0: all models), a non-anonymous node
    makes every node below it non-anonymous, and those are never evaluated. (2) Lower
    bounds: every metric has a bound ``LB`` with ``LB(node) <= score(node)`` that never
    decreases under generalization (``metrics`` module), so when ``LB(node)`` exceeds the
    best score found, the node and everything above it are skipped; for the monotone metrics
    (height, DM*) with monotone anonymity, everything above an anonymous node is skipped.
    A greedy descent from the top first finds a good anonymous node, then the remaining
    candidates are visited from the top of the lattice down. No node is skipped except by
    (1) or (2), so the result is optimal; ``tests/test_anonymize_search.py`` compares it
    with a brute force over whole lattices.

Heuristic (``method="heuristic"``, or a time limit reached)
    The greedy descent alone: from the top, repeatedly move to the one-level-lower node with
    the smallest lower bound that is still anonymous. Such results carry
    ``optimal=False`` and the label "best found, not proven optimal".

Suppression (ARX's semantics)
    At most ``floor(limit * n)`` records. Every class that violates a class-based model
    (k-anonymity, maximum risk, l-diversity, t-closeness) is suppressed whole; the node is
    anonymous when those records fit the limit. The average-risk model then suppresses the
    smallest remaining classes in ARX's order (``_enforce_average``). Suppressed records
    still count in ``n`` for every metric; :func:`output_frame` writes them as ARX does
    (``*`` in every QI) and :func:`to_recipe_steps` replays them by removing the records.

Ties
    Among nodes of equal score, the one with the smaller height (sum of levels) wins, then
    the lexicographically smaller level vector (in the order the QIs were given). Under the
    height metric a node that could only tie the best and lose this tie-break is skipped.

References
----------
.. [KPE12] Kohlmayer, F., Prasser, F., Eckert, C., Kemper, A., Kuhn, K. A. (2012). Flash:
   efficient, stable and optimal k-anonymity. PASSAT 2012, 708-717.
.. [PKL14] Prasser et al. (2014), ARX.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.anonymize import metrics as mt
from core.anonymize.hierarchy import EncodedHierarchy, Hierarchy, encode_hierarchy
from core.anonymize.metrics import Metric
from core.anonymize.models import (
    AverageRisk,
    ClassView,
    KAnonymity,
    MaxRisk,
    PrivacyModel,
    SensitiveCodes,
    check_ordered,
    encode_sensitive,
    sensitive_of,
)
from core.errors import ColumnError, HierarchyError, InvalidParameterError
from core.recipe import Step
from core.risk import _combine, _validate_qis

__all__ = [
    "MAX_LATTICE_NODES",
    "OPTIMAL_LABEL",
    "HEURISTIC_LABEL",
    "AnonymizationResult",
    "CheckedNode",
    "Transformation",
    "anonymize",
    "evaluate",
    "output_frame",
    "prepare",
    "to_recipe_steps",
]

#: Largest lattice the exhaustive search enumerates; larger ones use the heuristic.
MAX_LATTICE_NODES = 2_000_000
OPTIMAL_LABEL = "proven optimal"
HEURISTIC_LABEL = "best found, not proven optimal"
_TOL = 1e-12


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedNode:
    """One transformation the search evaluated (a point of the risk/utility frontier).

    ``score`` is ``nan`` for a node that is not anonymous; the risks are prosecutor risks of
    the released records (suppressed ones excluded when the node is anonymous; for a node
    that is not anonymous, of the generalized table without suppression).
    """

    levels: tuple[int, ...]
    anonymous: bool
    score: float
    max_risk: float
    avg_risk: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Transformation:
    """A node evaluated in full: its classes under the models and its score.

    Attributes
    ----------
    levels : tuple of int
    anonymous : bool
        Suppressed records within the limit.
    score : float
        The metric (with suppression as ARX scores it); ``nan`` when not anonymous.
    lower_bound : float
        Monotone lower bound of the score.
    suppressed_records : int
        Records in violating classes (all of them, when not anonymous).
    classes : int
        Kept classes (suppressed ones excluded, as ARX reports them).
    min_class_size : int
        Smallest kept class (0 when everything is suppressed).
    max_risk, avg_risk : float
        Prosecutor risk of the kept records: ``1 / min size`` and ``classes / records``.
    record_suppressed : numpy.ndarray
        Per input record, whether it is suppressed.
    """

    levels: tuple[int, ...]
    anonymous: bool
    score: float
    lower_bound: float
    suppressed_records: int
    classes: int
    min_class_size: int
    max_risk: float
    avg_risk: float
    record_suppressed: np.ndarray


@dataclass(frozen=True, slots=True, kw_only=True)
class AnonymizationResult:
    """The outcome of :func:`anonymize`.

    Attributes
    ----------
    quasi_identifiers : tuple of str
    levels : tuple of int or None
        Level per QI of the best transformation; ``None`` when no node is anonymous.
    metric : str
    score : float
    optimal : bool
        True only when the exhaustive search finished: the result is proven optimal.
    label : str
        ``"proven optimal"`` or ``"best found, not proven optimal"``.
    suppressed_records, min_class_size, classes : int
        Of the best transformation (classes and minimum exclude suppressed records).
    max_risk, avg_risk : float
        Prosecutor risks of the kept records.
    nodes_checked : int
        Transformations evaluated.
    lattice_size : int
    seconds : float
    checked : tuple of CheckedNode
        Every evaluated node, in evaluation order.
    models : tuple of str
        Descriptions of the privacy models.
    suppression_limit : float
    privacy_models : tuple of PrivacyModel
    warnings : tuple of str
    """

    quasi_identifiers: tuple[str, ...]
    levels: tuple[int, ...] | None
    metric: str
    score: float
    optimal: bool
    label: str
    suppressed_records: int
    min_class_size: int
    classes: int
    max_risk: float
    avg_risk: float
    nodes_checked: int
    lattice_size: int
    seconds: float
    checked: tuple[CheckedNode, ...]
    models: tuple[str, ...]
    suppression_limit: float
    privacy_models: tuple[PrivacyModel, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def found(self) -> bool:
        """Whether some transformation is anonymous."""
        return self.levels is not None

    def levels_by_qi(self) -> dict[str, int]:
        """``{qi: level}`` of the best transformation (empty when none was found)."""
        if self.levels is None:
            return {}
        return dict(zip(self.quasi_identifiers, self.levels, strict=True))

    def to_json_dict(self) -> dict[str, Any]:
        """What the command line writes with ``--json``: exactly the issue's fields.

        ``optimal`` false is the label "best found, not proven optimal"; ``score`` is
        ``None`` when nothing was found.
        """
        return {
            "levels": self.levels_by_qi(),
            "metric": self.metric,
            "score": None if math.isnan(self.score) else self.score,
            "optimal": self.optimal,
            "suppressed_records": self.suppressed_records,
            "min_class_size": self.min_class_size,
            "classes": self.classes,
            "nodes_checked": self.nodes_checked,
            "seconds": self.seconds,
        }

    def to_summary_dict(self) -> dict[str, Any]:
        """:meth:`to_json_dict` plus the label, risks, lattice size, models and limit."""
        return {
            **self.to_json_dict(),
            "label": self.label,
            "max_risk": self.max_risk,
            "avg_risk": self.avg_risk,
            "lattice_size": self.lattice_size,
            "models": list(self.models),
            "suppression_limit": self.suppression_limit,
        }


# --- preparation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rows:
    """Distinct input rows with a weight each, and their codes at every level."""

    weight: np.ndarray
    row_gen: tuple[tuple[np.ndarray, ...], ...]
    sensitive: tuple[tuple[np.ndarray, SensitiveCodes], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """Everything precomputed once for a search (internal; built by :func:`prepare`)."""

    qis: tuple[str, ...]
    hierarchies: tuple[EncodedHierarchy, ...]
    models: tuple[PrivacyModel, ...]
    metric: Metric
    n: int
    max_outliers: int
    suppression_limit: float
    record_row: np.ndarray  # per record, its distinct row
    weight: np.ndarray  # records per distinct row (float64)
    row_gen: tuple[tuple[np.ndarray, ...], ...]  # [qi][level] -> code per distinct row
    n_codes: tuple[tuple[int, ...], ...]
    sensitive: tuple[tuple[np.ndarray, SensitiveCodes], ...]
    loss_all: tuple[tuple[float, ...], ...]  # [qi][level] sum of shares over all records
    entropy_gen: tuple[tuple[float, ...], ...]  # [qi][level] generalization part
    max_levels: tuple[int, ...]
    class_k: int  # the largest k of the k / max-risk models (0 when none)
    monotone: bool  # anonymity is monotone under generalization
    warnings: tuple[str, ...]

    @property
    def rows(self) -> _Rows:
        """The distinct input rows."""
        return _Rows(weight=self.weight, row_gen=self.row_gen, sensitive=self.sensitive)


def _check_limit(limit: float) -> float:
    try:
        x = float(limit)
    except (TypeError, ValueError):
        x = math.nan
    if not (0.0 <= x <= 1.0):
        raise InvalidParameterError(
            f"suppression_limit must be a share in [0, 1]; got {limit}. 0.02 lets up to 2 % "
            "of the records be suppressed."
        )
    return x


def prepare(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    *,
    models: Sequence[PrivacyModel],
    suppression_limit: float = 0.0,
    metric: Metric | str = Metric.LOSS,
) -> Problem:
    """Validate the inputs and precompute the integer codes of a search.

    Raises
    ------
    InvalidParameterError
        Empty table, no QI or no model, a limit outside [0, 1], an unknown metric.
    ColumnError
        A QI or sensitive column not in the table, or a sensitive column that is a QI.
    HierarchyError
        A QI without a hierarchy (named), or a hierarchy that does not cover its column.
    """
    qis = _validate_qis(df, quasi_identifiers)
    limit = _check_limit(suppression_limit)
    try:
        metric = Metric(metric)
    except ValueError:
        raise InvalidParameterError(
            f"metric must be one of {', '.join(m.value for m in Metric)}; got {metric!r}."
        ) from None
    models = tuple(models)
    if not models or not all(isinstance(m, PrivacyModel) for m in models):
        raise InvalidParameterError(
            f"Give at least one privacy model (e.g. KAnonymity(5)); got {len(models)}."
        )
    without = [q for q in qis if q not in hierarchies]
    if without:
        raise HierarchyError(
            f"No hierarchy for the quasi-identifier(s) {', '.join(repr(q) for q in without)}. "
            "Give one hierarchy per quasi-identifier (upload ARX's CSV or build one)."
        )
    enc = tuple(encode_hierarchy(hierarchies[q], df[q], name=q) for q in qis)
    sens_names = sorted({c for c in map(sensitive_of, models) if c is not None})
    for s in sens_names:
        if s in qis:
            raise ColumnError(
                f"'{s}' is both a quasi-identifier and a sensitive attribute. Remove it from "
                "one of the two lists."
            )
    sens = {s: encode_sensitive(df, s) for s in sens_names}
    for m in models:
        col = sensitive_of(m)
        if col is not None:
            check_ordered(m, sens[col])
    n = len(df)
    codes = np.column_stack(
        [e.record_codes for e in enc] + [sens[s].codes for s in sens_names]
    ).astype(np.int64)
    cards = np.array([e.domain_size for e in enc] + [sens[s].m for s in sens_names])
    record_row, uniq = pd.factorize(_combine(codes, cards))
    record_row = record_row.astype(np.int64)
    first = np.full(len(uniq), n, dtype=np.int64)
    np.minimum.at(first, record_row, np.arange(n))
    rows = codes[first]
    weight = np.bincount(record_row, minlength=len(uniq)).astype(np.float64)
    row_gen = tuple(
        tuple(np.ascontiguousarray(e.gen[rows[:, j], lv]) for lv in range(e.n_levels))
        for j, e in enumerate(enc)
    )
    loss_all = tuple(
        tuple(float(np.sum(weight * e.share[lv][row_gen[j][lv]])) for lv in range(e.n_levels))
        for j, e in enumerate(enc)
    )
    entropy_gen = tuple(
        tuple(
            mt.entropy_generalization_part(
                np.bincount(e.record_codes, minlength=e.domain_size), e.gen[:, lv]
            )
            for lv in range(e.n_levels)
        )
        for e in enc
    )
    ks = [m.k for m in models if isinstance(m, KAnonymity | MaxRisk)]
    max_outliers = math.floor(limit * n)
    monotone = max_outliers == 0 or all(m.monotone_with_suppression for m in models)
    warnings = [w for e, q in zip(enc, qis, strict=True) for w in _hier_warnings(hierarchies[q], q)]
    return Problem(
        qis=qis,
        hierarchies=enc,
        models=models,
        metric=metric,
        n=n,
        max_outliers=max_outliers,
        suppression_limit=limit,
        record_row=record_row,
        weight=weight,
        row_gen=row_gen,
        n_codes=tuple(e.n_codes for e in enc),
        sensitive=tuple((rows[:, len(qis) + i].copy(), sens[s]) for i, s in enumerate(sens_names)),
        loss_all=loss_all,
        entropy_gen=entropy_gen,
        max_levels=tuple(e.n_levels - 1 for e in enc),
        class_k=max(ks, default=0),
        monotone=monotone,
        warnings=tuple(warnings),
    )


def _hier_warnings(h: Hierarchy, qi: str) -> list[str]:
    return [f"Hierarchy of '{qi}': {w}." for w in h.warnings]


# --- one node ------------------------------------------------------------------------------


def _key(p: Problem, rows: _Rows, levels: Sequence[int]) -> tuple[np.ndarray, int]:
    """One mixed-radix int64 key per row from the level codes, and the key's range."""
    key = np.zeros(rows.weight.size, dtype=np.int64)
    span = 1
    for j, lv in enumerate(levels):
        card = p.n_codes[j][lv]
        if card == 1:
            continue
        if span * card >= 2**62:
            key = pd.factorize(key)[0].astype(np.int64)
            span = int(key.max()) + 1
        key *= card
        key += _gen(rows, j, lv)
        span *= card
    return key, span


def _small(rows: _Rows, span: int) -> bool:
    """Count classes directly over the key's range when it is a few times the rows."""
    return span <= max(4 * rows.weight.size, 4096)


def _classes(p: Problem, rows: _Rows, levels: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """Class id per distinct row and class sizes.

    The level codes are combined into one mixed-radix key; when the key's range is small
    the classes are counted directly with ``bincount``, otherwise the key is
    hash-factorized.
    """
    key, span = _key(p, rows, levels)
    if _small(rows, span):
        counts = np.bincount(key, weights=rows.weight, minlength=span)
        present = counts > 0
        rank = np.cumsum(present) - 1
        return rank[key], counts[present].astype(np.int64)
    row_class = pd.factorize(key)[0].astype(np.int64)
    sizes = np.bincount(row_class, weights=rows.weight).astype(np.int64)
    return row_class, sizes


def _sizes_only(p: Problem, rows: _Rows, levels: Sequence[int]) -> np.ndarray:
    """Class sizes alone (no class id per row): enough to refute k-anonymity."""
    key, span = _key(p, rows, levels)
    if _small(rows, span):
        counts = np.bincount(key, weights=rows.weight, minlength=span)
        return counts[counts > 0].astype(np.int64)
    return np.bincount(pd.factorize(key)[0], weights=rows.weight).astype(np.int64)


def _gen(rows: _Rows, j: int, level: int) -> np.ndarray:
    return rows.row_gen[j][level]


def _lower_bound(p: Problem, levels: Sequence[int], sizes: np.ndarray) -> float:
    m = p.metric
    if m is Metric.HEIGHT:
        return mt.height(levels)
    if m in (Metric.DM_STAR, Metric.DISCERNIBILITY):
        return mt.dm_star(sizes)
    if m is Metric.AECS:
        return p.n / sizes.size
    if m is Metric.LOSS:
        return mt.loss_score(
            [
                mt.loss_per_qi(p.loss_all[j][lv], p.n, p.hierarchies[j].domain_size)
                for j, lv in enumerate(levels)
            ]
        )
    return mt.entropy_score([p.entropy_gen[j][lv] for j, lv in enumerate(levels)])


def _score(
    p: Problem,
    rows: _Rows,
    levels: Sequence[int],
    sizes: np.ndarray,
    supp_class: np.ndarray,
    supp_rows: np.ndarray,
) -> float:
    m = p.metric
    if m is Metric.HEIGHT:
        return mt.height(levels)
    if m is Metric.DM_STAR:
        return mt.dm_star(sizes)
    if m is Metric.DISCERNIBILITY:
        return mt.discernibility(sizes, supp_class, p.n)
    if m is Metric.AECS:
        return mt.aecs(int((~supp_class).sum()), bool(supp_class.any()), p.n)
    w = rows.weight[supp_rows]
    if m is Metric.LOSS:
        per_qi = []
        for j, lv in enumerate(levels):
            share = p.hierarchies[j].share[lv][_gen(rows, j, lv)[supp_rows]]
            raw = p.loss_all[j][lv] + float(np.sum(w * (1.0 - share)))
            per_qi.append(mt.loss_per_qi(raw, p.n, p.hierarchies[j].domain_size))
        return mt.loss_score(per_qi)
    raws = [
        p.entropy_gen[j][lv] + mt.entropy_suppression_part(_gen(rows, j, lv)[supp_rows], w)
        for j, lv in enumerate(levels)
    ]
    return mt.entropy_score(raws)


def _refuted(p: Problem, levels: tuple[int, ...], rows: _Rows) -> Transformation | None:
    """The node, when class sizes alone show it is not anonymous (k / max-risk models)."""
    if not p.class_k or not all(isinstance(m, KAnonymity | MaxRisk) for m in p.models):
        return None
    sizes = _sizes_only(p, rows, levels)
    suppressed = int(sizes[sizes < p.class_k].sum())
    if suppressed <= p.max_outliers:
        return None
    min_size = int(sizes.min())
    return Transformation(
        levels=levels,
        anonymous=False,
        score=math.nan,
        lower_bound=_lower_bound(p, levels, sizes),
        suppressed_records=suppressed,
        classes=int(sizes.size),
        min_class_size=min_size,
        max_risk=1.0 / min_size,
        avg_risk=sizes.size / p.n,
        record_suppressed=np.zeros(0, dtype=bool),
    )


def _evaluate(
    p: Problem, levels: tuple[int, ...], rows: _Rows
) -> tuple[Transformation, np.ndarray]:
    row_class, sizes = _classes(p, rows, levels)
    view = ClassView(
        row_class=row_class,
        row_weight=rows.weight,
        sizes=sizes,
        sensitive={sc.column: (codes, sc) for codes, sc in rows.sensitive},
    )
    supp = sizes < p.class_k if p.class_k else np.zeros(sizes.size, dtype=bool)
    for m in p.models:
        if not isinstance(m, KAnonymity | MaxRisk | AverageRisk):
            supp |= m.violating(view)
    suppressed = int(sizes[supp].sum())
    for m in p.models:
        if isinstance(m, AverageRisk) and suppressed <= p.max_outliers:
            supp, suppressed = _enforce_average(p, rows, levels, m, sizes, supp, row_class)
    anonymous = suppressed <= p.max_outliers
    if anonymous:
        kept = sizes[~supp]
    else:
        kept = sizes
    n_kept = int(kept.sum())
    min_size = int(kept.min()) if kept.size else 0
    supp_rows = np.flatnonzero(supp[row_class])
    score = _score(p, rows, levels, sizes, supp, supp_rows) if anonymous else math.nan
    node = Transformation(
        levels=levels,
        anonymous=anonymous,
        score=score,
        lower_bound=_lower_bound(p, levels, sizes),
        suppressed_records=suppressed,
        classes=int(kept.size),
        min_class_size=min_size,
        max_risk=1.0 / min_size if min_size else 0.0,
        avg_risk=kept.size / n_kept if n_kept else 0.0,
        record_suppressed=np.zeros(0, dtype=bool),
    )
    return node, supp[row_class]


def _enforce_average(
    p: Problem,
    rows: _Rows,
    levels: Sequence[int],
    m: AverageRisk,
    sizes: np.ndarray,
    supp: np.ndarray,
    row_class: np.ndarray,
) -> tuple[np.ndarray, int]:
    """Suppress kept classes in ARX's order until the average risk holds.

    As ARX's ``RiskBasedCriterion.enforce`` on a ``HashGroupifyDistribution``:

    - the distribution holds the kept classes except the *completely generalized* one
      (every QI ``*``), which counts as suppressed for the risk and is never suppressed
      by this model;
    - candidates are sorted by size, then (Loss metric only) by the class's own loss
      ``prod_j (|E| * share_j + 1)^(1/d) - 1``, then by the class's first record;
    - the condition is ``1 / (records / classes) <= threshold`` over the distribution
      (false when it is empty), and the shortest prefix of the order that meets it is
      suppressed. ARX finds it by binary search; the condition only improves as the
      smallest remaining class goes (it is never above the average), so the first
      prefix that meets it is the one the binary search finds (the tests run a port of
      that binary search). When no prefix meets it, every candidate is suppressed.
    """
    cand = np.flatnonzero(~supp & ~_all_star_classes(p, rows, levels, row_class, sizes.size))
    k_cls, k_rec = cand.size, int(sizes[cand].sum())
    if m.fulfilled(k_cls, k_rec):
        return supp, int(sizes[supp].sum())
    first = np.full(sizes.size, row_class.size, dtype=np.int64)
    np.minimum.at(first, row_class, np.arange(row_class.size))  # rows are in first-met order
    keys = [first[cand]]
    if p.metric is Metric.LOSS:
        keys.append(_class_loss(p, rows, levels, sizes, first, cand))
    keys.append(sizes[cand])
    order = cand[np.lexsort(keys)]
    records = k_rec - np.concatenate([[0], np.cumsum(sizes[order])])
    classes = k_cls - np.arange(order.size + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = (records == 0) | (1.0 / (records / classes) <= m.threshold)  # as fulfilled()
    cut = int(np.argmax(ok))  # the last entry (nothing kept) is always ok
    supp = supp.copy()
    supp[order[:cut]] = True
    return supp, int(sizes[supp].sum())


def _all_star_classes(
    p: Problem, rows: _Rows, levels: Sequence[int], row_class: np.ndarray, n_classes: int
) -> np.ndarray:
    """Per class, whether every QI's generalized value is ``*`` (ARX's suppressed tuple)."""
    star = np.ones(row_class.size, dtype=bool)
    for j, lv in enumerate(levels):
        labels = p.hierarchies[j].labels[lv]
        if "*" not in labels:
            return np.zeros(n_classes, dtype=bool)
        star &= _gen(rows, j, lv) == labels.index("*")
    out = np.zeros(n_classes, dtype=bool)
    out[row_class[star]] = True
    return out


def _class_loss(
    p: Problem,
    rows: _Rows,
    levels: Sequence[int],
    sizes: np.ndarray,
    first: np.ndarray,
    cand: np.ndarray,
) -> np.ndarray:
    """ARX's Loss of each class on its own (``MetricMDNMLoss`` per entry, not normalized)."""
    rep = first[cand]
    d = len(levels)
    out = np.ones(cand.size)
    for j, lv in enumerate(levels):
        share = p.hierarchies[j].share[lv][_gen(rows, j, lv)[rep]]
        out *= (sizes[cand] * share + 1.0) ** (1.0 / d)
    return out - 1.0


def evaluate(problem: Problem, levels: Sequence[int]) -> Transformation:
    """Evaluate one transformation of a prepared problem (what the search does per node).

    Parameters
    ----------
    problem : Problem
        From :func:`prepare`.
    levels : sequence of int
        One level per QI, within each hierarchy's levels.

    Returns
    -------
    Transformation
        With ``record_suppressed`` per input record.

    Raises
    ------
    InvalidParameterError
        Wrong number of levels or a level out of range.
    """
    lv = tuple(int(x) for x in levels)
    if len(lv) != len(problem.qis) or any(
        not 0 <= x <= top for x, top in zip(lv, problem.max_levels, strict=True)
    ):
        raise InvalidParameterError(
            f"levels must give one level per quasi-identifier ({len(problem.qis)}), each "
            f"between 0 and its hierarchy's top {list(problem.max_levels)}; got {list(lv)}."
        )
    node, row_supp = _evaluate(problem, lv, problem.rows)
    return Transformation(
        **{
            f: getattr(node, f)
            for f in Transformation.__dataclass_fields__
            if f != "record_suppressed"
        },
        record_suppressed=row_supp[problem.record_row],
    )


# --- search --------------------------------------------------------------------------------


class _Search:
    """State of one search: evaluated nodes, the best one, the clock."""

    def __init__(self, p: Problem, deadline: float | None) -> None:
        self.p = p
        self.rows = p.rows
        self.deadline = deadline
        self.cache: dict[tuple[int, ...], Transformation] = {}
        self.checked: list[CheckedNode] = []
        self.best: Transformation | None = None
        self.timed_out = False

    def key(self, t: Transformation) -> tuple[float, int, tuple[int, ...]]:
        return (t.score, sum(t.levels), t.levels)

    def check(self, levels: tuple[int, ...]) -> Transformation:
        t = self.cache.get(levels)
        if t is None:
            t = _refuted(self.p, levels, self.rows) or _evaluate(self.p, levels, self.rows)[0]
            self.cache[levels] = t
            self.checked.append(
                CheckedNode(
                    levels=levels,
                    anonymous=t.anonymous,
                    score=t.score,
                    max_risk=t.max_risk,
                    avg_risk=t.avg_risk,
                )
            )
            if t.anonymous and (self.best is None or self.key(t) < self.key(self.best)):
                self.best = t
        return t

    def out_of_time(self) -> bool:
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.timed_out = True
        return self.timed_out

    def best_score(self) -> float:
        return math.inf if self.best is None else self.best.score


def _greedy(s: _Search, bound: Any) -> None:
    """Descend from the top, always to the anonymous predecessor with the smallest bound."""
    p = s.p
    cur = tuple(p.max_levels)
    if not s.check(cur).anonymous:
        return
    while not s.out_of_time():
        preds = [cur[:j] + (cur[j] - 1,) + cur[j + 1 :] for j in range(len(cur)) if cur[j] > 0]
        preds.sort(key=lambda lv: (bound(lv), sum(lv), lv))
        for lv in preds:
            if s.check(lv).anonymous:
                cur = lv
                break
        else:
            return


def _cheap_bounds(p: Problem, nodes: np.ndarray) -> np.ndarray:
    """A lower bound of every node's score without evaluating it (vectorized)."""
    m = p.metric
    if m is Metric.HEIGHT:
        return nodes.sum(axis=1).astype(np.float64)
    if m is Metric.LOSS:
        d = nodes.shape[1]
        out = np.ones(nodes.shape[0])
        for j in range(d):
            v = np.array(
                [mt.loss_per_qi(x, p.n, p.hierarchies[j].domain_size) for x in p.loss_all[j]]
            )
            out *= (v[nodes[:, j]] + 1.0) ** (1.0 / d)
        return out - 1.0
    if m is Metric.ENTROPY:
        out = np.zeros(nodes.shape[0])
        for j in range(nodes.shape[1]):
            v = np.array([mt.entropy_score([x]) for x in p.entropy_gen[j]])
            out += v[nodes[:, j]]
        return out
    # DM, DM*, AECS: at most min(distinct rows, product of level sizes) classes
    cells = np.ones(nodes.shape[0])
    for j in range(nodes.shape[1]):
        cells *= np.array(p.n_codes[j], dtype=np.float64)[nodes[:, j]]
    classes = np.minimum(cells, p.weight.size)
    if m is Metric.AECS:
        return p.n / classes
    return float(p.n) ** 2 / classes


def _lattice(max_levels: Sequence[int]) -> np.ndarray:
    grids = np.meshgrid(*[np.arange(t + 1) for t in max_levels], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1).astype(np.int16)


def _exhaustive(s: _Search) -> None:
    p = s.p
    nodes = _lattice(p.max_levels)
    bound = _cheap_bounds(p, nodes)
    height = nodes.sum(axis=1)
    cols = [np.ascontiguousarray(nodes[:, j]) for j in range(nodes.shape[1])]
    radix = np.cumprod([1] + [t + 1 for t in reversed(p.max_levels)])[:-1][::-1]

    def cheap(lv: tuple[int, ...]) -> float:
        return float(bound[sum(int(a) * int(b) for a, b in zip(lv, radix, strict=True))])

    _greedy(s, cheap)
    if s.timed_out:
        return
    not_anon = np.zeros(nodes.shape[0], dtype=bool)
    skip = np.zeros(nodes.shape[0], dtype=bool)
    for lv, t in s.cache.items():
        _learn(p, cols, lv, t, not_anon, skip, s.best_score())
    order = np.lexsort((bound, -height))  # top of the lattice first, then smaller bound
    for i in order:
        if skip[i] or not_anon[i]:
            continue
        if bound[i] > s.best_score() + _TOL * max(1.0, abs(s.best_score())):
            continue
        lv = tuple(int(x) for x in nodes[i])
        if lv in s.cache or _loses_tie(s, p, float(bound[i]), lv):
            continue
        if s.out_of_time():
            return
        t = s.check(lv)
        _learn(p, cols, lv, t, not_anon, skip, s.best_score())


def _loses_tie(s: _Search, p: Problem, bound: float, lv: tuple[int, ...]) -> bool:
    """Height: a node whose exact score equals the best cannot win when it is higher or later.

    Only for the height metric, whose bound is the exact integer score, so equality is exact.
    """
    b = s.best
    if b is None or p.metric is not Metric.HEIGHT or bound != b.score:
        return False
    return (sum(lv), lv) > (sum(b.levels), b.levels)


def _cmp(cols: list[np.ndarray], lv: tuple[int, ...], below: bool) -> np.ndarray:
    """Nodes component-wise <= lv (below) or >= lv, one contiguous column at a time."""
    out = cols[0] <= lv[0] if below else cols[0] >= lv[0]
    for c, x in zip(cols[1:], lv[1:], strict=True):
        out &= c <= x if below else c >= x
    return out


def _learn(
    p: Problem,
    nodes: list[np.ndarray],
    lv: tuple[int, ...],
    t: Transformation,
    not_anon: np.ndarray,
    skip: np.ndarray,
    best: float,
) -> None:
    """Propagate what one evaluated node proves about the nodes below and above it."""
    if not t.anonymous and p.monotone:
        not_anon |= _cmp(nodes, lv, below=True)
    if t.lower_bound > best + _TOL * max(1.0, abs(best)):
        skip |= _cmp(nodes, lv, below=False)
    elif t.anonymous and p.monotone and p.metric.monotone:
        above = _cmp(nodes, lv, below=False)
        above &= ~_cmp(nodes, lv, below=True)  # strictly above: not the node itself
        skip |= above


def anonymize(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    *,
    models: Sequence[PrivacyModel],
    suppression_limit: float = 0.0,
    metric: Metric | str = Metric.LOSS,
    method: str = "optimal",
    time_limit: float | None = None,
) -> AnonymizationResult:
    """Find the full-domain generalization with the least information loss.

    Parameters
    ----------
    df : pandas.DataFrame
        The table (at least one row).
    quasi_identifiers : sequence of str
        Distinct columns of ``df``, each with a hierarchy.
    hierarchies : mapping of str to Hierarchy
        One hierarchy per QI (:mod:`core.anonymize.hierarchy`).
    models : sequence of PrivacyModel
        The privacy models, all of which must hold (:mod:`core.anonymize.models`).
    suppression_limit : float
        Share of records that may be suppressed, in [0, 1]; at most ``floor(limit * n)``
        records (ARX).
    metric : {"loss", "discernibility", "dm-star", "height", "entropy", "aecs"}
        Quality model (:mod:`core.anonymize.metrics`).
    method : {"optimal", "heuristic"}
        Exhaustive search with pruning (proven optimal), or the greedy descent only. A
        lattice above :data:`MAX_LATTICE_NODES` nodes always uses the heuristic.
    time_limit : float, optional
        Seconds; when the exhaustive search runs out of time, the best node found so far is
        returned with ``optimal=False``.

    Returns
    -------
    AnonymizationResult

    Raises
    ------
    InvalidParameterError, ColumnError, HierarchyError
        As :func:`prepare`; an unknown method or a time limit that is not positive.

    Notes
    -----
    See the module docstring for the search, its pruning and its tie-breaking.

    Examples
    --------
    >>> from core.anonymize.hierarchy import Hierarchy
    >>> df = pd.DataFrame({"zip": ["111", "112", "121", "122"], "sex": list("fmfm")})
    >>> hz = Hierarchy(rows=(("111", "11*", "*"), ("112", "11*", "*"),
    ...                      ("121", "12*", "*"), ("122", "12*", "*")))
    >>> hs = Hierarchy(rows=(("f", "*"), ("m", "*")))
    >>> r = anonymize(df, ["zip", "sex"], {"zip": hz, "sex": hs}, models=[KAnonymity(2)],
    ...               metric="height")
    >>> r.levels_by_qi(), r.optimal, r.min_class_size
    ({'zip': 1, 'sex': 1}, True, 2)
    """
    if method not in ("optimal", "heuristic"):
        raise InvalidParameterError(f"method must be 'optimal' or 'heuristic'; got {method!r}.")
    if time_limit is not None and not (float(time_limit) > 0):
        raise InvalidParameterError(f"time_limit must be positive seconds; got {time_limit}.")
    start = time.perf_counter()
    p = prepare(
        df,
        quasi_identifiers,
        hierarchies,
        models=models,
        suppression_limit=suppression_limit,
        metric=metric,
    )
    size = math.prod(t + 1 for t in p.max_levels)
    deadline = None if time_limit is None else start + float(time_limit)
    s = _Search(p, deadline)
    warnings = list(p.warnings)
    exhaustive = method == "optimal" and size <= MAX_LATTICE_NODES
    if method == "optimal" and not exhaustive:
        warnings.append(
            f"The lattice has {size:,} transformations, above the {MAX_LATTICE_NODES:,} the "
            "exhaustive search enumerates; the greedy heuristic was used."
        )
    if exhaustive:
        _exhaustive(s)
    else:
        _greedy(s, lambda lv: float(_cheap_bounds(p, np.array([lv]))[0]))
    optimal = exhaustive and not s.timed_out
    if s.timed_out:
        warnings.append(f"The time limit of {time_limit:g} s was reached; the search stopped.")
    if s.best is None and optimal and p.monotone and not s.checked[0].anonymous:
        warnings.append(
            "Even the most generalized transformation is not anonymous: no transformation "
            "meets the models within the suppression limit. Raise the limit or relax a model."
        )
    b = s.best
    return AnonymizationResult(
        quasi_identifiers=p.qis,
        levels=None if b is None else b.levels,
        metric=p.metric.value,
        score=math.nan if b is None else b.score,
        optimal=optimal,
        label=OPTIMAL_LABEL if optimal else HEURISTIC_LABEL,
        suppressed_records=0 if b is None else b.suppressed_records,
        min_class_size=0 if b is None else b.min_class_size,
        classes=0 if b is None else b.classes,
        max_risk=math.nan if b is None else b.max_risk,
        avg_risk=math.nan if b is None else b.avg_risk,
        nodes_checked=len(s.checked),
        lattice_size=size,
        seconds=time.perf_counter() - start,
        checked=tuple(s.checked),
        models=tuple(m.describe() for m in p.models),
        suppression_limit=p.suppression_limit,
        privacy_models=p.models,
        warnings=tuple(warnings),
    )


# --- output --------------------------------------------------------------------------------


def output_frame(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    hierarchies: Mapping[str, Hierarchy],
    transformation: Transformation,
    *,
    suppressed: str = "star",
) -> pd.DataFrame:
    """The table a transformation gives: each QI at its level, suppressed records handled.

    Parameters
    ----------
    df : pandas.DataFrame
        The table the transformation was evaluated on (same rows, same order).
    quasi_identifiers : sequence of str
        In the order of ``transformation.levels``.
    hierarchies : mapping of str to Hierarchy
    transformation : Transformation
        From :func:`evaluate` (with ``record_suppressed``).
    suppressed : {"star", "remove"}
        ``"star"`` (default, ARX's output, ``DataHandleOutput``): suppressed records stay,
        every QI ``*``; other columns keep their values, ``n`` is unchanged.
        ``"remove"``: suppressed records are left out (what a recipe replays).

    Returns
    -------
    pandas.DataFrame
        A copy; the QI columns are text.

    Raises
    ------
    InvalidParameterError
        An unknown ``suppressed``, or a transformation of another table or QI list.
    """
    if suppressed not in ("star", "remove"):
        raise InvalidParameterError(
            f"suppressed must be 'star' (ARX) or 'remove'; got {suppressed!r}."
        )
    qis = list(quasi_identifiers)
    mask = np.asarray(transformation.record_suppressed, dtype=bool)
    if len(qis) != len(transformation.levels) or mask.size != len(df):
        raise InvalidParameterError(
            f"The transformation has {len(transformation.levels)} level(s) and "
            f"{mask.size} record(s); the table has {len(qis)} quasi-identifier(s) and "
            f"{len(df)} record(s). Evaluate it on this table first."
        )
    out = df.copy()
    for qi, lv in zip(qis, transformation.levels, strict=True):
        enc = encode_hierarchy(hierarchies[qi], df[qi], name=qi)
        labels = np.asarray(enc.labels[lv], dtype=object)[enc.gen[enc.record_codes, lv]]
        if suppressed == "star":
            labels = np.where(mask, "*", labels)
        out[qi] = pd.Series(labels, index=df.index, dtype=object)
    return out.loc[~mask] if suppressed == "remove" else out


# --- recipe --------------------------------------------------------------------------------


def to_recipe_steps(
    result: AnonymizationResult, hierarchies: Mapping[str, Hierarchy], df: pd.DataFrame
) -> list[Step]:
    """Recipe steps that replay the result on ``df``: group per QI, then suppression.

    Each generalized QI becomes a ``group`` step mapping the column's values (text form) to
    their label at the chosen level; values not listed become ``*``.

    Suppressed records become a ``suppress`` step in ``records`` mode with ``k`` = one more
    than the largest suppressed class: the recipe *removes* those records. ARX keeps them
    and replaces their QIs by ``*`` (:func:`output_frame` with ``suppressed="star"``, the
    default there); a recipe step has no per-record ``*`` yet, so a replay removes what
    ARX stars. The figures of the result (``n``, the scores) follow ARX either way.

    Raises
    ------
    InvalidParameterError
        No transformation was found, or the suppressed records are not exactly the records
        of every class smaller than some size (l-diversity, t-closeness, or an average-risk
        cut between classes of one size), which a ``suppress`` step cannot replay.
    """
    from core.masking import _text_values

    if result.levels is None:
        raise InvalidParameterError(
            "The search found no anonymous transformation, so there is nothing to replay. "
            "Raise the suppression limit or relax a model first."
        )
    steps: list[Step] = []
    for qi, lv in zip(result.quasi_identifiers, result.levels, strict=True):
        if lv == 0:
            continue
        h = hierarchies[qi]
        present = set(_text_values(df[qi].dropna()).astype(str).unique().tolist())
        mapping = {r[0]: r[lv] for r in h.rows if r[0] in present}
        params = {"mapping": mapping, "other": "*"}
        steps.append(Step(transform="group", columns=(qi,), params=params))
    if result.suppressed_records:
        k = _replay_k(result, hierarchies, df)
        steps.append(
            Step(
                transform="suppress",
                columns=tuple(result.quasi_identifiers),
                params={"k": k, "mode": "records"},
            )
        )
    return steps


def _replay_k(
    result: AnonymizationResult, hierarchies: Mapping[str, Hierarchy], df: pd.DataFrame
) -> int:
    """The ``k`` whose record suppression removes exactly the result's suppressed records."""
    assert result.levels is not None
    p = prepare(
        df, result.quasi_identifiers, hierarchies, models=result.privacy_models,
        suppression_limit=result.suppression_limit, metric=result.metric,
    )  # fmt: skip
    node, row_supp = _evaluate(p, result.levels, p.rows)
    row_class, sizes = _classes(p, p.rows, result.levels)
    supp_class = np.zeros(sizes.size, dtype=bool)
    supp_class[row_class[row_supp]] = True
    k = int(sizes[supp_class].max()) + 1 if supp_class.any() else 1
    if node.suppressed_records != result.suppressed_records or not np.array_equal(
        supp_class, sizes < k
    ):
        odd = int(sizes[supp_class != (sizes < k)].sum())
        raise InvalidParameterError(
            f"{node.suppressed_records} record(s) were suppressed, but not exactly the "
            f"records of every class smaller than {k} ({odd} record(s) differ): l-diversity, "
            "t-closeness or the average risk chose them, and a recipe step can only remove "
            "the classes smaller than a k. Set the suppression limit to 0, or use "
            "k-anonymity and maximum risk only."
        )
    return k
