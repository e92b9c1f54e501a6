"""Quality models (information loss) with ARX's definitions, so scores compare with ARX's.

Notation: ``n`` records, ``d`` quasi-identifiers, level ``L_j`` of QI ``j``, classes ``E``
of the generalized table; "suppressed" records are those of the classes that violate the
privacy models (they stay in the output with their QI cells replaced by ``*``). Lower is
better for every metric. ``round(x) = floor(x * 1e10) / 1e10`` (ARX ``Metric.round``) is
applied to each per-QI value before aggregation. All attribute weights are 1 and the
generalization/suppression factor is ARX's default 0.5 (both factors are then 1).

``height``
    ``sum_j L_j`` (``MetricMDHeight``); suppression does not count.
``discernibility`` (non-monotonic DM, ``MetricSDNMDiscernability``)
    ``sum_{E kept} |E|^2 + sum_{E suppressed} n |E|``.
``dm-star`` (monotonic DM*, ``MetricSDDiscernability``)
    ``sum_{all E} |E|^2``; suppressed classes count by their own size.
``loss`` (Iyengar's loss metric, ``MetricMDNMLoss`` with gs-factor 0.5 and the geometric
mean, as ARX's ``createLossMetric()``)
    ``share_j(v, L)`` = hierarchy rows whose level-L cell is ``v`` / hierarchy rows
    ``|D_j|`` (values absent from the data count). Per QI
    ``raw_j = sum_{kept records} share_j + sum_{suppressed records} 1``,
    ``v_j = round(max(0, (raw_j - n / |D_j|) / (n - n / |D_j|)))``, and
    ``loss = prod_j (v_j + 1)^(1/d) - 1``.
``entropy`` (non-uniform entropy, non-monotonic, ``MetricMDNUNMEntropyPrecomputed``)
    Per QI ``raw_j = sum_{a} c_a log2(c_a / c_gen(a)) + sum_v s_v log2(s_v / S)``, with
    ``c_a`` the records with original value ``a``, ``c_gen(a)`` the records whose level-L
    value equals ``a``'s, ``S`` the suppressed records and ``s_v`` those whose generalized
    value is ``v``; the first sum runs over all records, suppressed ones included.
    ``entropy = sum_j round(-raw_j)``.
``aecs`` (average equivalence class size, ``MetricSDAECS``)
    ``n / (kept classes + 1 if any record is suppressed)``: the suppressed records form
    one class.

Each metric has a lower bound that never decreases under generalization (the value without
suppression for loss, entropy and AECS; DM* for DM); the search prunes with it.

References
----------
.. [I02] Iyengar, V. S. (2002). Transforming data to satisfy privacy constraints. KDD 2002.
.. [BA05] Bayardo, R. J., Agrawal, R. (2005). Data privacy through optimal
   k-anonymization. ICDE 2005 (discernibility).
.. [LDR06] LeFevre, K., DeWitt, D., Ramakrishnan, R. (2006). Mondrian multidimensional
   k-anonymity. ICDE 2006 (average equivalence class size).
.. [GT09] Gionis, A., Tassa, T. (2009). k-Anonymization with minimal loss of information.
   IEEE TKDE 21(2) (non-uniform entropy).
.. [KPE12] Kohlmayer, F., Prasser, F., Eckert, C., Kemper, A., Kuhn, K. A. (2012). Flash:
   efficient, stable and optimal k-anonymity. PASSAT 2012.
.. [ARX] ARX source, ``org/deidentifier/arx/metric/v2/`` (``MetricMDNMLoss``,
   ``MetricSDNMDiscernability``, ``MetricMDNUNMEntropyPrecomputed``, ``MetricSDAECS``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum

import numpy as np

__all__ = [
    "Metric",
    "aecs",
    "arx_round",
    "discernibility",
    "dm_star",
    "entropy_score",
    "height",
    "loss_score",
]


class Metric(StrEnum):
    """The quality models, by their command-line names."""

    LOSS = "loss"
    DISCERNIBILITY = "discernibility"
    DM_STAR = "dm-star"
    HEIGHT = "height"
    ENTROPY = "entropy"
    AECS = "aecs"

    @property
    def monotone(self) -> bool:
        """The score itself never decreases under generalization, with suppression too."""
        return self in (Metric.HEIGHT, Metric.DM_STAR)


def arx_round(x: float) -> float:
    """ARX's ``Metric.round``: ``floor(x * 1e10) / 1e10``.

    >>> arx_round(0.123456789012345)
    0.123456789
    """
    return math.floor(x * 1e10) / 1e10


def height(levels: Sequence[int]) -> float:
    """``sum_j L_j``.

    >>> height((1, 0, 2))
    3.0
    """
    return float(sum(int(v) for v in levels))


def dm_star(sizes: np.ndarray) -> float:
    """``sum_E |E|^2`` over all classes.

    >>> dm_star(np.array([2, 3]))
    13.0
    """
    s = sizes.astype(np.float64)
    return float(np.sum(s * s))  # elementwise: no BLAS threads for one small product


def discernibility(sizes: np.ndarray, suppressed: np.ndarray, n: int) -> float:
    """``sum_{kept} |E|^2 + n * sum_{suppressed} |E|``.

    >>> discernibility(np.array([2, 3, 1]), np.array([False, False, True]), 6)
    19.0
    """
    s = sizes.astype(np.float64)
    kept = ~suppressed
    return float(np.sum(s[kept] ** 2) + n * s[suppressed].sum())


def aecs(n_kept_classes: int, any_suppressed: bool, n: int) -> float:
    """``n / (kept classes + [any suppressed])``; the lower bound passes all classes.

    >>> aecs(2, True, 6)
    2.0
    """
    groups = n_kept_classes + (1 if any_suppressed else 0)
    return n / groups if groups else float(n)


def loss_per_qi(raw: float, n: int, domain_size: int) -> float:
    """``round(max(0, (raw - n/|D|) / (n - n/|D|)))``; 0 when the domain has one value.

    >>> loss_per_qi(6.0, 6, 4)
    1.0
    """
    low = n / domain_size
    if n - low <= 0:
        return 0.0
    return arx_round(max(0.0, (raw - low) / (n - low)))


def loss_score(per_qi: Sequence[float]) -> float:
    """Geometric mean aggregate ``prod_j (v_j + 1)^(1/d) - 1`` (ARX's order of operations).

    >>> round(loss_score([0.0, 1.0]), 6)
    0.414214
    """
    d = len(per_qi)
    out = 1.0
    for v in per_qi:
        out *= (v + 1.0) ** (1.0 / d)
    return out - 1.0


def entropy_score(raw_per_qi: Sequence[float]) -> float:
    """``sum_j round(-raw_j)``.

    >>> entropy_score([-2.5, -0.0])
    2.5
    """
    return float(sum(arx_round(-r) if r != 0.0 else 0.0 for r in raw_per_qi))


def entropy_generalization_part(record_codes_count: np.ndarray, gen_level: np.ndarray) -> float:
    """``sum_a c_a log2(c_a / c_gen(a))`` for one QI at one level.

    Parameters
    ----------
    record_codes_count : numpy.ndarray
        ``c_a``: records per hierarchy row (original value), zeros for absent values.
    gen_level : numpy.ndarray
        The level's code of each hierarchy row.

    >>> entropy_generalization_part(np.array([1, 1, 2]), np.array([0, 0, 1]))
    -2.0
    """
    c = record_codes_count.astype(np.float64)
    c_gen = np.bincount(gen_level, weights=c)[gen_level]
    present = c > 0
    return float(np.sum(c[present] * np.log(c[present] / c_gen[present]) / math.log(2)))


def entropy_suppression_part(suppressed_gen_codes: np.ndarray, weights: np.ndarray) -> float:
    """``sum_v s_v log2(s_v / S)`` over the suppressed records' generalized values.

    >>> entropy_suppression_part(np.array([0, 1]), np.array([2.0, 2.0]))
    -4.0
    """
    if suppressed_gen_codes.size == 0:
        return 0.0
    _, inv = np.unique(suppressed_gen_codes, return_inverse=True)
    s_v = np.bincount(inv, weights=weights)
    total = s_v.sum()
    return float(np.sum(s_v * np.log(s_v / total) / math.log(2)))
