"""Re-identification risk of a table, from equivalence classes over its quasi-identifiers.

The engine is a group-by over integer codes: every quasi-identifier (QI) is factorized to
codes, the codes are combined into one int64 key per record, and class sizes are counted
with ``np.bincount``. There is no Python loop per class, and the same computation could run
on an out-of-core or distributed group-by.

Missing values follow an explicit policy (:class:`MissingPolicy`):

- ``"category"`` (default, as ARX does): a missing value is one more category, so a record
  with a missing age only matches records whose age is missing too;
- ``"wildcard"`` (as sdcMicro's ``freqCalc`` does): a missing value matches any value. A
  record's frequency ``f_k`` then counts every record that agrees with it on all keys where
  both are observed. Records are still grouped by their exact pattern (so class sizes add up
  to ``n``); only ``f_k``/``F_k`` grow by the wildcard matches.

Either way no record is dropped: class sizes always sum to the number of rows (pandas'
``groupby`` drops missing keys by default; this module never does). In an object column of
several Python types, ``1``, ``True``, ``1.0`` and ``"1"`` are four values (type-tagged;
pandas' factorize merges the first three).

References
----------
.. [S02] Sweeney, L. (2002). k-anonymity: a model for protecting privacy.
   IJUFKS 10(5), 557-570.
.. [EE08] El Emam, K., Dankar, F. K. (2008). Protecting privacy using k-anonymity.
   JAMIA 15(5), 627-637.
.. [FP04] Franconi, L., Polettini, S. (2004). Individual risk estimation in mu-Argus:
   a review. PSD 2004, LNCS 3050, 262-272.
.. [TKM15] Templ, M., Kowarik, A., Meindl, B. (2015). Statistical disclosure control for
   micro-data using the R package sdcMicro. JSS 67(4).
.. [Z91] Zayatz, L. (1991). Estimation of the percent of unique population elements on a
   microdata file using the sample. US Census Bureau SRD report 91/08.
.. [H01] Hoshino, N. (2001). Applying Pitman's sampling formula to microdata disclosure
   risk assessment. J. Official Statistics 17(4), 499-520.
.. [CK98] Chen, G., Keller-McNulty, S. (1998). Estimation of identification disclosure
   risk in microdata. J. Official Statistics 14(1), 79-95.
.. [D12] Dankar, F. K., El Emam, K., Neisa, A., Roffey, T. (2012). Estimating the
   re-identification risk of clinical data sets. BMC Med. Inform. Decis. Mak. 12:66.
.. [HNSS95] Haas, P. J., Naughton, J. F., Seshadri, S., Stokes, L. (1995). Sampling-based
   estimation of the number of distinct values of an attribute. VLDB 1995.
.. [MC04] Motwani, R., Xu, Y. (2007). Efficient algorithms for masking and finding
   quasi-identifiers. (distinction and separation, as ARX reports them.)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from core import codes as codes_
from core.errors import ColumnError, InvalidParameterError
from core.frames import check_frame
from core.limits import RISK_MAX_SUBSETS, RISK_THRESHOLD_DEFAULT

__all__ = [
    "EquivalenceClasses",
    "IndividualRisk",
    "JournalistRecordsAtRisk",
    "MissingPolicy",
    "PopulationUniqueness",
    "ProsecutorRisk",
    "QiContribution",
    "RiskSummary",
    "SubsetScore",
    "class_size_histogram",
    "equivalence_classes",
    "factorize_values",
    "individual_risk",
    "journalist_records_at_risk",
    "journalist_risk",
    "k_anonymity",
    "marketer_risk",
    "population_uniqueness",
    "prosecutor_risk",
    "qi_contributions",
    "risk_summary",
    "subset_scores",
]


class MissingPolicy(StrEnum):
    """How a missing QI value matches other values."""

    CATEGORY = "category"
    WILDCARD = "wildcard"


# --- engine --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class EquivalenceClasses:
    """Records grouped by their quasi-identifier pattern.

    Attributes
    ----------
    quasi_identifiers : tuple of str
        The QI columns, in the order given.
    missing : MissingPolicy
        The missing-value policy used.
    n : int
        Number of records.
    class_id : numpy.ndarray
        Per record, the index (``0 .. n_classes - 1``) of its class (its exact QI pattern).
    class_sizes : numpy.ndarray
        Records per class; sums to ``n``.
    class_fk : numpy.ndarray
        Sample frequency ``f_k`` of each class: its size under ``"category"``; under
        ``"wildcard"`` the number of records matching the pattern, missing values matching
        anything.
    class_has_missing : numpy.ndarray
        Whether the pattern of each class has a missing value.
    warnings : tuple of str
        Soft problems found while grouping.
    """

    quasi_identifiers: tuple[str, ...]
    missing: MissingPolicy
    n: int
    class_id: np.ndarray
    class_sizes: np.ndarray
    class_fk: np.ndarray
    class_has_missing: np.ndarray
    warnings: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        """Number of equivalence classes (distinct QI patterns)."""
        return int(self.class_sizes.size)

    @property
    def record_fk(self) -> np.ndarray:
        """Per record, the sample frequency ``f_k`` of its key."""
        return self.class_fk[self.class_id]


def _check_frame(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(
            f"Expected a pandas DataFrame; got {type(df).__name__}. Load a table first."
        )
    check_frame(df)  # unique text column names
    if len(df) == 0:
        raise InvalidParameterError(
            "The table has 0 rows, so there is no risk to measure. Load a table with data."
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ColumnError(
            f"{what} not found in the table: {', '.join(map(str, missing))}. "
            f"The table has {df.shape[1]} column(s); pick existing ones."
        )


def factorize_values(s: pd.Series) -> tuple[np.ndarray, int]:
    """Codes of a column's values (``-1`` = missing) and the number of distinct values.

    pandas' factorize merges values that compare equal across Python types (``1``,
    ``True`` and ``1.0`` share a code). In an object column holding several types, each
    value is tagged with its type first, so ``1``, ``True``, ``1.0`` and ``"1"`` are four
    values; a column of one type is factorized as it is.

    >>> factorize_values(pd.Series([1, True, 1.0, "1", 1, None], dtype=object))[0].tolist()
    [0, 1, 2, 3, 0, -1]
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True).startswith("mixed"):
        types, _ = pd.factorize(s.map(type))
        seen = codes >= 0
        tagged = types[seen].astype(np.int64) * (len(uniques) + 1) + codes[seen]
        dense = np.full(codes.size, -1, dtype=np.int64)
        ids, uniq = pd.factorize(tagged)
        dense[seen] = ids
        return dense, len(uniq)
    return codes.astype(np.int64), len(uniques)


def _qi_codes(
    df: pd.DataFrame, qis: Sequence[str], known: Mapping[str, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Factorize each QI; return codes (n x q, -1 = missing) and cardinalities (with NA).

    ``known`` gives codes already computed for some columns (dense, -1 = missing, grouping
    rows as their values do), which are used instead of reading the column.
    """
    n = len(df)
    codes = np.empty((n, len(qis)), dtype=np.int64, order="F")  # read column by column
    cards = np.empty(len(qis), dtype=np.int64)
    for j, col in enumerate(qis):
        if known is not None and col in known:
            c = known[col]
            n_values = int(c.max()) + 1 if c.size else 0
        else:
            c, n_values = factorize_values(df[col])
        codes[:, j] = c
        cards[j] = n_values + 1  # one extra code for "missing"
    return codes, cards


def _combine(codes: np.ndarray, cards: np.ndarray) -> np.ndarray:
    """Combine code columns (``0 .. cards[j] - 1``) into one int64 key per row, re-densifying
    on overflow (:func:`core.codes.mixed_key`)."""
    columns = ((codes[:, j], int(cards[j])) for j in range(codes.shape[1]))
    return codes_.mixed_key(columns, codes.shape[0], lowest=0)


def _factorize_key(key: np.ndarray) -> tuple[np.ndarray, int]:
    """``pd.factorize`` of non-negative int64 keys: codes by first appearance, and their count.

    A key no larger than a few times the number of rows is ranked through an array indexed
    by the key, without hashing.

    >>> codes, m = _factorize_key(np.array([7, 2, 7, 0, 2]))
    >>> codes.tolist(), m
    ([0, 1, 0, 2, 1], 3)
    """
    return codes_.first_seen(key)


_Classes = tuple[np.ndarray, np.ndarray, np.ndarray, int, list[str]]


def _classes_of_rows(
    df: pd.DataFrame, qis: Sequence[str], known_codes: Mapping[str, np.ndarray] | None
) -> _Classes:
    """Class of each record, class sizes, whether each class has a missing value, the
    records with a missing value and the QIs that have one; from every record's codes."""
    row_na = np.zeros(len(df), dtype=bool)
    na_cols: list[str] = []

    def columns() -> Iterator[tuple[np.ndarray, int]]:
        # one column at a time, read only when the key takes it in
        for col in qis:
            if known_codes is not None and col in known_codes:
                c = known_codes[col]
                card = (int(c.max()) + 1 if c.size else 0) + 1
            else:
                c, n_values = factorize_values(df[col])
                card = n_values + 1
            if c.size and int(c.min()) < 0:
                np.logical_or(row_na, c < 0, out=row_na)
                na_cols.append(col)
            yield c, card

    # classes are numbered by first appearance, as pd.factorize does
    class_id, n_classes = _factorize_key(codes_.mixed_key(columns(), len(df)))
    sizes = np.bincount(class_id, minlength=n_classes).astype(np.int64)
    has_missing = np.zeros(n_classes, dtype=bool)
    if na_cols:
        has_missing[class_id[row_na]] = True
    return class_id, sizes, has_missing, int(row_na.sum()), na_cols


def _classes_of_patterns(grouping: codes_.Grouping) -> _Classes:
    """:func:`_classes_of_rows` from records already grouped into patterns of their codes:
    the classes are the distinct patterns, so no record's codes are read."""
    g = grouping.merged()
    row_na = np.asarray((g.pat < 0).any(axis=1), dtype=bool)
    na_cols = [g.columns[j] for j in range(g.pat.shape[1]) if (g.pat[:, j] < 0).any()]
    return g.inv, g.count, row_na, int(g.count[row_na].sum()), na_cols


def _validate_qis(df: pd.DataFrame, quasi_identifiers: Sequence[str]) -> tuple[str, ...]:
    if isinstance(quasi_identifiers, str):
        quasi_identifiers = [quasi_identifiers]
    qis = tuple(quasi_identifiers)
    if not qis:
        raise InvalidParameterError(
            "No quasi-identifiers were chosen; got 0 columns. Pick at least one column an "
            "attacker could know (age, ZIP code, sex, ...)."
        )
    if len(set(qis)) != len(qis):
        raise InvalidParameterError(
            f"A quasi-identifier is listed twice (got {len(qis)} names, "
            f"{len(set(qis))} distinct). List each column once."
        )
    _check_frame(df, qis, "Quasi-identifier column(s)")
    return qis


def equivalence_classes(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
    progress: Callable[[float], None] | None = None,
    known_codes: Mapping[str, np.ndarray] | None = None,
) -> EquivalenceClasses:
    """Group records into equivalence classes over the quasi-identifiers.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; at least one row.
    quasi_identifiers : sequence of str
        One or more distinct column names of ``df``.
    missing : {"category", "wildcard"}
        Missing-value policy, see the module docstring.
    progress : callable, optional
        Called with the share of the wildcard matching done so far (a float in (0, 1]);
        only the ``"wildcard"`` policy on a table with missing values calls it.
    known_codes : mapping of str to numpy.ndarray, optional
        Per QI, codes already known (e.g. :attr:`core.recipe.HardeningResult.column_codes`):
        per row, dense codes ``0 .. m - 1`` of its value, ``-1`` when missing, equal exactly
        when the values are. The classes are the same as from the values themselves. A
        :class:`core.codes.KnownCodes` that knows the records grouped by these QIs (its
        ``grouping``) gives the classes from those patterns, without reading each record's
        codes: the same classes, numbered the same way.

    Returns
    -------
    EquivalenceClasses

    Raises
    ------
    InvalidParameterError
        Empty table, no QI, a QI listed twice, or an unknown policy.
    ColumnError
        A QI that is not a column of ``df``.

    Notes
    -----
    Class of record i = its tuple of QI values (missing as its own token). Under
    ``"category"`` ``f_k`` = class size. Under ``"wildcard"``, for records i and j,
    ``match(i, j)`` holds when on every QI they are equal or either is missing, and
    ``f_k(i) = sum_j match(i, j)``, as in sdcMicro 5.x ``freqCalc``. One deliberate
    difference: sdcMicro gives a record whose keys are all missing ``f_k = n`` but does not
    add it to the counts of complete records; here the match is symmetric, so it is added
    (this keeps "adding a QI never lowers the number of uniques" true).

    The wildcard counts are exact for any number of QIs and levels (keys are shared by all
    missingness patterns). Small inputs compare pattern pairs directly; larger ones group
    pattern pairs by the QIs both observe, one vectorized pass per such set, not per pair
    of missingness patterns (``benchmarks/wildcard_bench.py``).

    References
    ----------
    .. [S02] Sweeney (2002). .. [TKM15] Templ et al. (2015), ``freqCalc``.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [30, 30, 40, None], "sex": ["f", "f", "m", "m"]})
    >>> ec = equivalence_classes(df, ["age", "sex"])
    >>> sorted(ec.class_sizes.tolist()), int(ec.class_sizes.sum())
    ([1, 1, 2], 4)
    >>> equivalence_classes(df, ["age", "sex"], missing="wildcard").record_fk.tolist()
    [2, 2, 2, 2]
    """
    qis = _validate_qis(df, quasi_identifiers)
    policy = _policy(missing)
    grouping = None
    if isinstance(known_codes, codes_.KnownCodes):
        grouping = known_codes.grouping(qis)
    if grouping is not None and grouping.inv.size == len(df) and grouping.columns == qis:
        class_id, sizes, has_missing, n_na, na_cols = _classes_of_patterns(grouping)
    else:
        class_id, sizes, has_missing, n_na, na_cols = _classes_of_rows(df, qis, known_codes)
    any_na = bool(na_cols)
    warnings: list[str] = []
    if any_na:
        warnings.append(
            f"{n_na} record(s) have a missing value in "
            f"{', '.join(na_cols)}; missing values are treated as "
            + (
                "their own category (ARX convention)."
                if policy is MissingPolicy.CATEGORY
                else "wildcards matching any value (sdcMicro convention)."
            )
        )
    if policy is MissingPolicy.WILDCARD and any_na:
        codes, _ = _qi_codes(df, qis, known_codes)
        fk, _ = _wildcard_counts(codes, class_id, sizes.astype(np.float64), None, progress)
        class_fk = np.rint(fk).astype(np.int64)
    else:
        class_fk = sizes
    return EquivalenceClasses(
        quasi_identifiers=qis,
        missing=policy,
        n=len(df),
        class_id=class_id,
        class_sizes=sizes,
        class_fk=class_fk,
        class_has_missing=has_missing,
        warnings=tuple(warnings),
    )


def _policy(missing: MissingPolicy | str) -> MissingPolicy:
    try:
        return MissingPolicy(missing)
    except ValueError:
        raise InvalidParameterError(
            f"missing must be 'category' or 'wildcard'; got {missing!r}. Use 'category' to "
            "treat a missing value as its own value, 'wildcard' to let it match any value."
        ) from None


def _first_rows(class_id: np.ndarray, n_classes: int) -> np.ndarray:
    first = np.full(n_classes, class_id.size, dtype=np.int64)
    np.minimum.at(first, class_id, np.arange(class_id.size, dtype=np.int64))
    return first


# Below this many cell comparisons (pattern pairs x QIs) the pattern pairs are always
# compared directly; above it, whichever of the two algorithms costs less (see below).
_WILDCARD_DIRECT_CELLS = 20_000_000
# The grouped algorithm tabulates every pair of missingness patterns (about 40 bytes each).
_WILDCARD_MAX_MASK_PAIRS = 4_000_000


def _wildcard_counts(
    codes: np.ndarray,
    class_id: np.ndarray,
    class_count: np.ndarray,
    class_weight: np.ndarray | None,
    progress: Callable[[float], None] | None = None,
    *,
    method: str = "auto",
) -> tuple[np.ndarray, np.ndarray | None]:
    """Per class, the (weighted) number of records matching it with missing = wildcard.

    Works on patterns (one row per class). Two patterns with observed-QI masks A and B
    match iff they are equal on ``T = A & B``. Small inputs compare every pattern pair
    directly (``O(C^2 q)``). Larger ones group the mask pairs by ``T``: for each distinct
    ``T`` one key over every pattern observed on ``T`` (one factorize, so the key is shared
    by all masks), then a vectorized join of (key, mask A) with (key, mask B) over the mask
    pairs whose intersection is exactly ``T``. The Python loop runs once per distinct ``T``
    (at most ``2^q`` and at most ``masks^2``), not once per mask pair.
    """
    n_classes = class_count.size
    pat = codes[_first_rows(class_id, n_classes)]  # (C, q), -1 = missing
    values = class_count[:, None] if class_weight is None else np.c_[class_count, class_weight]
    if method == "direct" or (method == "auto" and _wildcard_prefers_direct(pat)):
        out = _wildcard_direct(pat, values, progress)
    else:
        out = _wildcard_lattice(pat, values, progress)
    return out[:, 0], (out[:, 1] if class_weight is not None else None)


def _wildcard_prefers_direct(pat: np.ndarray) -> bool:
    """Cost model: ``C^2 q`` cell comparisons against ~10 passes over C patterns per T."""
    c, q = pat.shape
    direct = c * c * q
    if direct <= _WILDCARD_DIRECT_CELLS:
        return True
    n_masks = int(np.unique(np.packbits(pat >= 0, axis=1), axis=0).shape[0])
    if n_masks * n_masks > _WILDCARD_MAX_MASK_PAIRS:  # the pair table would not fit in memory
        return True
    n_t = min(n_masks * n_masks, 2 ** min(q, 62))
    return direct <= 10 * c * n_t


def _wildcard_direct(
    pat: np.ndarray, values: np.ndarray, progress: Callable[[float], None] | None
) -> np.ndarray:
    """Compare every pattern pair: match = all QIs equal or missing on either side."""
    c, q = pat.shape
    out = np.zeros((c, values.shape[1]), dtype=np.float64)
    na = pat < 0
    step = max(1, 4_000_000 // max(1, c * q))
    for lo in range(0, c, step):
        hi = min(c, lo + step)
        ok = (pat[lo:hi, None, :] == pat[None, :, :]) | na[lo:hi, None, :] | na[None, :, :]
        out[lo:hi] = ok.all(axis=2) @ values
        if progress is not None:
            progress(hi / c)
    return out


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of a uint8 matrix: (index of each one's first row, id of each row)."""
    key = _combine(rows.astype(np.int64), np.full(rows.shape[1], 256, dtype=np.int64))
    ids, _ = pd.factorize(key)
    return _first_rows(ids, int(ids.max()) + 1), ids.astype(np.int64)


def _wildcard_lattice(
    pat: np.ndarray, values: np.ndarray, progress: Callable[[float], None] | None
) -> np.ndarray:
    """Group mask pairs by their common observed QIs T; one join per distinct T.

    The keys of the patterns on each T are built incrementally along a trie of the T's
    (sorted column lists): a child adds one column to its parent's key, so each T costs one
    single-column factorize over the patterns observed on it. Within a T, a key held by one
    (key, mask) group only matches itself, and only when its mask is T; the remaining
    groups are joined through the sparse matrix of mask pairs whose intersection is T.
    """
    from scipy import sparse

    c, q = pat.shape
    obs = pat >= 0
    # masks as packed rows of bits: one bit per QI in one int64 would wrap beyond 63 QIs
    first_mask, mask_of = _unique_rows(np.packbits(obs, axis=1))
    masks = obs[first_mask]
    m = masks.shape[0]
    # every mask pair (a, b) and the id of its intersection T
    packed = np.packbits(masks, axis=1)
    inter = (packed[:, None, :] & packed[None, :, :]).reshape(m * m, -1)
    first_t, t_id = _unique_rows(inter)
    t_masks = np.unpackbits(inter[first_t], axis=1, count=q).astype(bool)
    n_t = t_masks.shape[0]
    pair_order = np.argsort(t_id, kind="stable")
    bounds = np.searchsorted(t_id[pair_order], np.arange(n_t + 1))
    # the mask id that equals each T, if any (its self-pair (a, a) has intersection a)
    self_t = np.full(n_t, -1, dtype=np.int64)
    self_t[t_id[np.arange(m) * (m + 1)]] = np.arange(m)
    out = values.astype(np.float64, copy=True)  # every pattern matches itself
    targets = sorted(range(n_t), key=lambda t: tuple(np.flatnonzero(t_masks[t])))
    # trie stack: (column, rows observed on the prefix, dense key of those rows on it)
    stack: list[tuple[int, np.ndarray, np.ndarray]] = []
    root = (np.arange(c), np.zeros(c, dtype=np.int64))
    obs_t, pat_t = np.ascontiguousarray(obs.T), np.ascontiguousarray(pat.T)
    for done, t in enumerate(targets):
        cols = np.flatnonzero(t_masks[t]).tolist()
        depth = 0
        while depth < min(len(stack), len(cols)) and stack[depth][0] == cols[depth]:
            depth += 1
        del stack[depth:]
        for j in cols[depth:]:
            rows, key = stack[-1][1:] if stack else root
            keep = obs_t[j][rows]
            child = rows[keep]
            vals = pat_t[j][child]
            combined = key[keep] * (int(vals.max(initial=0)) + 1) + vals
            code = pd.factorize(combined)[0].astype(np.int64)
            # a pattern alone with its key here stays alone below: only itself matches it
            shared = np.bincount(code)[code] > 1
            stack.append((j, child[shared], code[shared]))
        rows, key = stack[-1][1:] if stack else root
        pairs = pair_order[bounds[t] : bounds[t + 1]]
        if self_t[t] >= 0:  # the self-pair of mask T: already counted above
            pairs = pairs[pairs != self_t[t] * (m + 1)]
        if rows.size < 2 or pairs.size == 0:
            pass
        elif not _zeta_on_t(out, values, rows, key, masks, mask_of, t_masks[t]):
            _join_on_t(out, values, rows, key, mask_of[rows], pairs, m, sparse)
        if progress is not None:
            progress((done + 1) / n_t)
    return out


def _zeta_on_t(
    out: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
    key: np.ndarray,
    masks: np.ndarray,
    mask_of: np.ndarray,
    t_mask: np.ndarray,
) -> bool:
    """Dense variant of :func:`_join_on_t` for a T with few keys and few other QIs.

    With ``E`` the QIs a pattern observes outside T, two patterns observed on T pair at
    exactly T iff their ``E`` are disjoint: per key, a sum over the subsets of the
    complement of ``E``, which a subset-sum (zeta) transform of the (key, E) table gives.
    Returns False, doing nothing, when the table would be larger than the patterns.
    """
    rest = np.flatnonzero(~t_mask)
    r = rest.size
    n_keys = int(key.max()) + 1
    if r > 20 or n_keys << r > max(32 * rows.size, 1 << 12):
        return False
    ext_of_mask = (masks[:, rest] * (1 << np.arange(r, dtype=np.int64))).sum(axis=1)
    ext = ext_of_mask[mask_of[rows]]
    cell = key * (1 << r) + ext
    full = (1 << r) - 1
    for v in range(values.shape[1]):
        table = np.bincount(cell, values[rows, v], n_keys << r)
        for bit in range(r):  # zeta: table[k, e] = sum of table[k, e'] over e' subset of e
            view = table.reshape(n_keys, -1, 2, 1 << bit)
            view[:, :, 1, :] += view[:, :, 0, :]
        got = table[key * (1 << r) + (full & ~ext)]
        out[rows, v] += got - np.where(ext == 0, values[rows, v], 0.0)  # self: counted
    return True


def _join_on_t(
    out: np.ndarray,
    values: np.ndarray,
    rows: np.ndarray,
    key: np.ndarray,
    mk: np.ndarray,
    pairs: np.ndarray,
    m: int,
    sparse: object,
) -> None:
    """Add to ``out[rows]`` the values of the patterns with the same key whose mask pairs
    with theirs (mask pairs listed in ``pairs`` as ``a * m + b``)."""
    nv = values.shape[1]
    groups, g_of = np.unique(key * m + mk, return_inverse=True)
    g_key = groups // m
    g_val = np.stack([np.bincount(g_of, values[rows, v], groups.size) for v in range(nv)], axis=1)
    shared = np.r_[g_key[1:] == g_key[:-1], False] | np.r_[False, g_key[1:] == g_key[:-1]]
    res = np.zeros_like(g_val)
    if shared.any():
        sel = np.flatnonzero(shared)
        k_ids, k_of = np.unique(g_key[sel], return_inverse=True)
        a_side, b_side = np.divmod(pairs, m)
        part = sparse.csr_matrix(  # type: ignore[attr-defined]
            (np.ones(pairs.size), (b_side, a_side)), shape=(m, m)
        )
        g_mask = groups[sel] % m
        for v in range(nv):
            g = sparse.csr_matrix(  # type: ignore[attr-defined]
                (g_val[sel, v], (k_of, g_mask)), shape=(k_ids.size, m)
            )
            prod = (g @ part).tocsr()
            res[sel, v] = np.asarray(prod[k_of, g_mask]).ravel()
    out[rows] += res[g_of]


def _classes(
    data: pd.DataFrame | EquivalenceClasses,
    quasi_identifiers: Sequence[str] | None,
    missing: MissingPolicy | str,
) -> EquivalenceClasses:
    if isinstance(data, EquivalenceClasses):
        return data
    if quasi_identifiers is None:
        raise InvalidParameterError(
            "quasi_identifiers is required when a DataFrame is given; got None. "
            "Pass the list of QI columns."
        )
    return equivalence_classes(data, quasi_identifiers, missing=missing)


def k_anonymity(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
) -> int:
    """The k of k-anonymity: the smallest sample frequency ``f_k`` over all records.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; at least one row.
    quasi_identifiers : sequence of str
        QI columns.
    missing : {"category", "wildcard"}
        Missing-value policy.

    Returns
    -------
    int
        ``k = min_i f_k(i)``, between 1 and ``n``.

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`equivalence_classes`.

    Notes
    -----
    ``k = min over classes of the class size`` under ``"category"`` (missing values form
    their own category); under ``"wildcard"`` the minimum of the wildcard match counts.

    References
    ----------
    .. [S02] Sweeney (2002).

    Examples
    --------
    >>> k_anonymity(pd.DataFrame({"zip": [1, 1, 2, 2, 2]}), ["zip"])
    2
    """
    ec = equivalence_classes(df, quasi_identifiers, missing=missing)
    return int(ec.class_fk.min())


def class_size_histogram(classes: EquivalenceClasses) -> tuple[np.ndarray, np.ndarray]:
    """Distinct class sizes and how many classes have each size (``sizes``, ``counts``).

    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 1, 2, 3]}), ["a"])
    >>> [v.tolist() for v in class_size_histogram(ec)]
    [[1, 2], [2, 1]]
    """
    sizes, counts = np.unique(classes.class_sizes, return_counts=True)
    return sizes.astype(np.int64), counts.astype(np.int64)


# --- prosecutor, journalist, marketer ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ProsecutorRisk:
    """Prosecutor re-identification risk (the attacker knows the target is in the data).

    Attributes
    ----------
    record_risk : numpy.ndarray
        Per record ``1 / f_k``.
    highest : float
        ``1 / k``.
    average : float
        Mean of ``1 / f_k`` over records (``= classes / n`` when classes partition).
    threshold : float
        The risk threshold ``t`` in (0, 1].
    records_at_risk : int
        Records whose risk ``1 / f_k`` exceeds ``t``.
    share_at_risk : float
        ``records_at_risk / n`` (ARX's "records at risk").
    """

    record_risk: np.ndarray
    highest: float
    average: float
    threshold: float
    records_at_risk: int
    share_at_risk: float


def _check_threshold(threshold: float) -> float:
    t = float(threshold)
    if not (0.0 < t <= 1.0) or math.isnan(t):
        raise InvalidParameterError(
            f"threshold must be in (0, 1]; got {threshold}. A threshold of 0.2 flags records "
            "in classes of fewer than 5."
        )
    return t


def prosecutor_risk(
    classes: EquivalenceClasses,
    *,
    threshold: float = RISK_THRESHOLD_DEFAULT,
) -> ProsecutorRisk:
    """Prosecutor risk per record, highest, average and records at risk.

    Parameters
    ----------
    classes : EquivalenceClasses
        From :func:`equivalence_classes`.
    threshold : float
        ``t`` in (0, 1].

    Returns
    -------
    ProsecutorRisk

    Raises
    ------
    InvalidParameterError
        ``threshold`` outside (0, 1].

    Notes
    -----
    Per record ``r_i = 1 / f_k(i)``; highest ``= 1 / k``; average ``= (1/n) sum_i r_i``,
    which equals ``|classes| / n`` when the classes partition the records ("category"
    policy); records at risk ``= (sum over classes j with 1/f_j > t of f_j) / n`` as ARX
    defines it. Missing values follow the classes' policy.

    References
    ----------
    .. [EE08] El Emam and Dankar (2008).

    Examples
    --------
    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 1, 1, 2, 2, 3]}), ["a"])
    >>> r = prosecutor_risk(ec, threshold=0.4)
    >>> r.highest, r.average, r.records_at_risk, r.share_at_risk
    (1.0, 0.5, 3, 0.5)
    """
    t = _check_threshold(threshold)
    class_risk = 1.0 / classes.class_fk
    risk = class_risk[classes.class_id]
    at_risk = int(classes.class_sizes[class_risk > t].sum())
    return ProsecutorRisk(
        record_risk=risk,
        highest=float(class_risk.max()),
        average=float(np.dot(classes.class_sizes, class_risk) / classes.n),
        threshold=t,
        records_at_risk=at_risk,
        share_at_risk=at_risk / classes.n,
    )


def _population_frequency(
    classes: EquivalenceClasses,
    weights: np.ndarray | None,
    sampling_fraction: float | None,
    codes: np.ndarray | None = None,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """Per class, the estimated population frequency F_k (sum of weights of its matches)."""
    if weights is None:
        pi = 1.0 if sampling_fraction is None else _check_fraction(sampling_fraction)
        return classes.class_fk / pi
    class_w = np.bincount(classes.class_id, weights, classes.n_classes)
    if classes.missing is MissingPolicy.WILDCARD and classes.class_has_missing.any():
        assert codes is not None
        _, fw = _wildcard_counts(
            codes, classes.class_id, classes.class_sizes.astype(np.float64), class_w, progress
        )
        assert fw is not None
        return fw
    return class_w


def _check_fraction(sampling_fraction: float) -> float:
    pi = float(sampling_fraction)
    if not (0.0 < pi <= 1.0) or math.isnan(pi):
        raise InvalidParameterError(
            f"sampling_fraction must be in (0, 1]; got {sampling_fraction}. It is the share "
            "of the population in the table: 0.01 for a 1% sample, 1 for a full census."
        )
    return pi


def marketer_risk(
    classes: EquivalenceClasses,
    *,
    sampling_fraction: float | None = None,
) -> float:
    """Marketer risk: expected share of records re-identified when all are attacked.

    Parameters
    ----------
    classes : EquivalenceClasses
        From :func:`equivalence_classes`.
    sampling_fraction : float, optional
        ``pi`` in (0, 1]; ``None`` means the table is the whole population.

    Returns
    -------
    float
        ``(1/n) sum_j f_j / F_j`` with ``F_j = f_j / pi``; ``= |classes| / n`` when
        ``pi = 1``.

    Raises
    ------
    InvalidParameterError
        ``sampling_fraction`` outside (0, 1].

    Notes
    -----
    Population class sizes are estimated as ``F_j = f_j / pi`` (a constant weight
    ``1 / pi``), so with a sample the marketer risk is ``pi * |classes| / n``.

    References
    ----------
    .. [D12] Dankar et al. (2012).

    Examples
    --------
    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 1, 2, 3]}), ["a"])
    >>> marketer_risk(ec), marketer_risk(ec, sampling_fraction=0.5)
    (0.75, 0.375)
    """
    big_f = _population_frequency(classes, None, sampling_fraction)
    return float(np.sum(classes.class_sizes / big_f) / classes.n)


def journalist_risk(
    classes: EquivalenceClasses,
    *,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
) -> float:
    """Journalist risk: highest re-identification risk when the target may not be in the data.

    Parameters
    ----------
    classes : EquivalenceClasses
        From :func:`equivalence_classes`.
    sampling_fraction : float, optional
        ``pi`` in (0, 1].
    population_size : int, optional
        ``N >= n``; used as ``pi = n / N`` when no sampling fraction is given.

    Returns
    -------
    float
        ``max_j 1 / F_j`` with ``F_j = f_j / pi`` (so ``pi / k``).

    Raises
    ------
    InvalidParameterError
        Neither or an invalid ``pi`` / ``N``.

    Notes
    -----
    ``F_j`` is the expected population size of class j under simple random sampling.

    References
    ----------
    .. [EE08] El Emam and Dankar (2008).

    Examples
    --------
    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 1, 2, 2]}), ["a"])
    >>> journalist_risk(ec, population_size=40)
    0.05
    """
    pi = _resolve_fraction(classes.n, sampling_fraction, population_size)
    return float(np.max(pi / classes.class_fk))


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalistRecordsAtRisk:
    """ARX's journalist "records at risk": records whose journalist risk exceeds ``t``.

    Attributes
    ----------
    threshold : float
    records_at_risk : int
    share_at_risk : float
        ``records_at_risk / n``.
    """

    threshold: float
    records_at_risk: int
    share_at_risk: float


def journalist_records_at_risk(
    classes: EquivalenceClasses,
    *,
    threshold: float = RISK_THRESHOLD_DEFAULT,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
) -> JournalistRecordsAtRisk:
    """Records whose journalist risk ``1 / F_j`` exceeds the threshold (ARX's measure).

    Parameters
    ----------
    classes : EquivalenceClasses
        From :func:`equivalence_classes`.
    threshold : float
        ``t`` in (0, 1].
    sampling_fraction : float, optional
        ``pi`` in (0, 1].
    population_size : int, optional
        ``N >= n``; ``pi = n / N`` when no sampling fraction is given.

    Returns
    -------
    JournalistRecordsAtRisk

    Raises
    ------
    InvalidParameterError
        ``threshold`` outside (0, 1], or neither or an invalid ``pi`` / ``N``.

    Notes
    -----
    ARX counts the sample records in classes whose journalist risk ``1 / F_j`` exceeds
    ``t``, ``F_j`` being the size of the matching class of the population table. Without a
    population table PrivLens estimates ``F_j = f_j / pi`` (simple random sampling, as for
    :func:`journalist_risk`), so a record is at risk when ``pi / f_j > t``; with ``pi = 1``
    this is the prosecutor figure. Missing values follow the classes' policy.

    References
    ----------
    .. [EE08] El Emam and Dankar (2008). ARX ``RiskModelSampleSummary``.

    Examples
    --------
    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 2, 2, 3, 3, 3, 3]}), ["a"])
    >>> r = journalist_records_at_risk(ec, threshold=0.2, sampling_fraction=0.5)
    >>> r.records_at_risk, round(r.share_at_risk, 4)
    (3, 0.4286)
    """
    t = _check_threshold(threshold)
    pi = _resolve_fraction(classes.n, sampling_fraction, population_size)
    at_risk = int(classes.class_sizes[pi / classes.class_fk > t].sum())
    return JournalistRecordsAtRisk(
        threshold=t, records_at_risk=at_risk, share_at_risk=at_risk / classes.n
    )


def _resolve_fraction(
    n: int, sampling_fraction: float | None, population_size: int | None
) -> float:
    if sampling_fraction is not None:
        return _check_fraction(sampling_fraction)
    if population_size is None:
        raise InvalidParameterError(
            "Journalist risk needs the population: got neither sampling_fraction nor "
            "population_size. Give one of them."
        )
    if population_size < n:
        raise InvalidParameterError(
            f"population_size must be at least the number of records ({n}); got "
            f"{population_size}. Enter the size of the population the table was drawn from."
        )
    return n / float(population_size)


# --- sdcMicro individual risk --------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class IndividualRisk:
    """sdcMicro's individual risk (Benedetti-Franconi, approximation).

    Attributes
    ----------
    record_risk : numpy.ndarray
        Per record ``r_k``.
    fk : numpy.ndarray
        Per record sample frequency.
    big_fk : numpy.ndarray
        Per record estimated population frequency ``F_k`` (sum of weights).
    expected_reidentifications : float
        ``sum_k r_k`` over records.
    expected_share : float
        ``expected_reidentifications / n``.
    warnings : tuple of str
    """

    record_risk: np.ndarray
    fk: np.ndarray
    big_fk: np.ndarray
    expected_reidentifications: float
    expected_share: float
    warnings: tuple[str, ...] = ()


def _weights(df: pd.DataFrame, column: str) -> np.ndarray:
    _check_frame(df, [column], "Weight column")
    s = df[column]
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise ColumnError(
            f"Weight column '{column}' is not numeric (dtype {s.dtype}). Pick a column of "
            "positive sampling weights, or give a sampling fraction instead."
        )
    w = s.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = int((~np.isfinite(w) | (w <= 0)).sum())
    if bad:
        raise ColumnError(
            f"Weight column '{column}' has {bad} missing, zero, negative or infinite "
            "value(s). Sampling weights must be positive numbers; fix or drop those rows."
        )
    return w


def _fp_risk(fk: np.ndarray, big_fk: np.ndarray) -> np.ndarray:
    """Franconi-Polettini approximation, written in ``x = 1 - p_k = (F_k - f_k) / F_k``.

    The textbook form cancels catastrophically as ``F_k -> f_k`` (for ``f_k = 2`` it
    subtracts two numbers near ``1 / x``). With ``L = -ln(1 - x)``:

    - ``f_k = 1``: ``r = p L / x``, with ``L`` from ``log1p`` near ``x = 0``;
    - ``f_k = 2``: ``r = (1 - x) / x - ((1 - x) / x)^2 L = (1 - x) h(x) / x`` where
      ``h(x) = 1 - (1 - x) L / x = sum_{k>=1} x^k / (k (k + 1))``; the series is used for
      ``x < 1/2`` (64 terms: error below ``2^-64``), the closed form above;
    - ``f_k > 2``: ``r = p / (f_k - x)``.

    ``p = f_k / F_k`` is computed directly, not as ``1 - x``.

    Each is at most ``1 / f_k`` for ``0 <= x < 1``. ``F_k <= f_k`` gives ``1 / f_k``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (big_fk - fk) / big_fk
        p = fk / big_fk  # 1 - x, without the rounding of 1 - x when x is near 1
    r = 1.0 / fk
    live = x > 0
    xl, pl, fl = x[live], p[live], fk[live]
    # L = -ln(1 - x): log1p near x = 0, the log of p near x = 1
    big_l = np.where(xl < 0.5, -np.log1p(-xl), -np.log(pl))
    out = np.empty_like(xl)
    one, two, more = fl == 1, fl == 2, fl > 2
    out[one] = pl[one] * (big_l[one] / xl[one])
    x2, p2, l2 = xl[two], pl[two], big_l[two]
    small = x2 < 0.5
    # h(x) / x = sum_{k>=1} x^(k-1) / (k (k + 1)), Horner from the highest power
    series = np.zeros(int(small.sum()))
    for k in range(64, 0, -1):
        series = series * x2[small] + 1.0 / (k * (k + 1.0))
    h_over_x = np.empty_like(x2)
    h_over_x[small] = series
    xb = x2[~small]
    h_over_x[~small] = (xb - p2[~small] * l2[~small]) / (xb * xb)
    out[two] = p2 * h_over_x
    out[more] = pl[more] / (fl[more] - xl[more])
    r[live] = out
    return np.clip(r, 0.0, 1.0 / fk)


def individual_risk(
    df: pd.DataFrame,
    classes: EquivalenceClasses,
    *,
    weight_column: str | None = None,
    sampling_fraction: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> IndividualRisk:
    """sdcMicro's individual risk ``r_k`` per record, and expected re-identifications.

    Parameters
    ----------
    df : pandas.DataFrame
        The table ``classes`` was built from (for the weights and wildcard matching).
    classes : EquivalenceClasses
        From :func:`equivalence_classes` on ``df``.
    weight_column : str, optional
        Column of positive sampling weights. ``F_k`` = sum of the weights of the records
        matching record k.
    sampling_fraction : float, optional
        ``pi`` in (0, 1]: a constant weight ``1 / pi``. Ignored when ``weight_column`` is
        given. With neither, ``pi = 1`` (a census: ``r_k = 1 / f_k``).
    progress : callable, optional
        Called with the share of the weighted wildcard matching done so far (a float in
        (0, 1]); only a weight column under the ``"wildcard"`` policy calls it.

    Returns
    -------
    IndividualRisk

    Raises
    ------
    ColumnError
        A weight column that is missing, not numeric, or has non-positive / missing values.
    InvalidParameterError
        ``sampling_fraction`` outside (0, 1].

    Notes
    -----
    With ``p_k = f_k / F_k`` (Franconi-Polettini approximation, sdcMicro ``indivRisk``
    ``method="approx"``)::

        f_k = 1:  r_k = p_k / (1 - p_k) * ln(1 / p_k)
        f_k = 2:  r_k = p_k / (1 - p_k) - (p_k / (1 - p_k))**2 * ln(1 / p_k)
        f_k > 2:  r_k = p_k / (f_k - (1 - p_k))
        F_k = f_k: r_k = 1 / f_k

    The formulas are evaluated in ``x = (F_k - f_k) / F_k`` without cancellation (a series
    for ``f_k = 2`` near ``F_k = f_k``), so every ``r_k`` lies in ``[0, 1 / f_k]``; the
    textbook form loses every digit there (``1.5`` for ``f_k = 2`` and weights
    ``1 + 1e-9``). ``F_k < f_k`` (weights below 1) gives ``1 / f_k``.

    Expected re-identifications ``= sum_k r_k`` (sdcMicro ``global_risk_ER``), also given
    as a share of n. Under the "wildcard" policy ``f_k`` and ``F_k`` include the wildcard
    matches, as in sdcMicro's ``freqCalc``.

    References
    ----------
    .. [FP04] Franconi and Polettini (2004). .. [TKM15] Templ et al. (2015).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 2], "w": [10.0, 10.0, 5.0]})
    >>> ir = individual_risk(df, equivalence_classes(df, ["a"]), weight_column="w")
    >>> [round(float(x), 6) for x in ir.record_risk]
    [0.082684, 0.082684, 0.402359]
    """
    warnings: list[str] = []
    codes = None
    if classes.missing is MissingPolicy.WILDCARD and classes.class_has_missing.any():
        codes, _ = _qi_codes(df, classes.quasi_identifiers)
    if weight_column is not None:
        w = _weights(df, weight_column)
        if len(w) != classes.n:
            raise InvalidParameterError(
                f"The table has {len(w)} rows but the classes were built on {classes.n}. "
                "Build the classes from the same table."
            )
        if (w < 1).any():
            warnings.append(
                f"{int((w < 1).sum())} weight(s) in '{weight_column}' are below 1, so some "
                "population frequencies are below the sample frequencies; the risks of "
                "those records are capped at 1 / f_k."
            )
        big_f = _population_frequency(classes, w, None, codes, progress)
    else:
        big_f = _population_frequency(classes, None, sampling_fraction)
    class_r = _fp_risk(classes.class_fk.astype(np.float64), big_f)
    r = class_r[classes.class_id]
    total = float(np.dot(classes.class_sizes, class_r))
    return IndividualRisk(
        record_risk=r,
        fk=classes.record_fk,
        big_fk=big_f[classes.class_id],
        expected_reidentifications=total,
        expected_share=total / classes.n,
        warnings=tuple(warnings),
    )


# --- population uniqueness -----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PopulationUniqueness:
    """Estimated number of population uniques from the sample's class-size histogram.

    Attributes
    ----------
    sampling_fraction : float
    population_size : int
    zayatz, pitman, snb : float or None
        Estimated number of population-unique records; ``None`` where the estimator does
        not converge or is not defined.
    dankar : float
        Dankar et al.'s decision rule: ``pi <= 0.1`` -> Pitman; else the smaller of
        Zayatz and SNB (Zayatz when SNB fails); 0 when there is no sample unique.
    dankar_model : str
        Which estimator the rule used.
    pitman_theta, pitman_alpha : float or None
        The fitted Pitman parameters (``alpha < 1``, ``theta > -alpha``; alpha may be
        negative); ``None`` where the fit failed or was not needed.
    warnings : tuple of str
    """

    sampling_fraction: float
    population_size: int
    zayatz: float | None
    pitman: float | None
    snb: float | None
    dankar: float
    dankar_model: str
    pitman_theta: float | None = None
    pitman_alpha: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def dankar_share(self) -> float:
        """Dankar estimate as a share of the population."""
        return self.dankar / self.population_size


def _zayatz(sizes: np.ndarray, counts: np.ndarray, n: int, big_n: int, pi: float) -> float:
    from scipy.stats import hypergeom

    # P(exactly one of a population class of size i lands in the sample), as ARX does,
    # using the sample class-size distribution as the population's.
    probs = hypergeom.pmf(1, big_n, sizes, n)
    u = counts.sum()
    c1 = counts[sizes == 1].sum()
    p1 = hypergeom.pmf(1, big_n, 1, n)
    cond = (c1 / u * p1) / np.sum(counts / u * probs)
    return float(c1 * cond / pi)


def _pitman(
    sizes: np.ndarray, counts: np.ndarray, n: int, big_n: int
) -> tuple[float, float, float] | None:
    """Hoshino's maximum-likelihood Pitman fit: (population uniques, theta, alpha) or None.

    The parameter space is the whole of Pitman's family as Hoshino uses it: alpha < 1 and
    theta > -alpha, negative alpha included. The sums over i = 1 .. u - 1 are evaluated
    directly (the digamma closed form divides by alpha, which loses every digit near 0).
    """
    from scipy.optimize import root
    from scipy.special import digamma, gammaln

    u = float(counts.sum())
    c1 = float(counts[sizes == 1].sum())
    c2 = float(counts[sizes == 2].sum()) or 1.0
    c = c1 * (c1 - 1) / c2
    denom = 2 * c1 * u + c1 * c - n * c
    t0 = (n * u * c - c1 * (n - 1) * (2 * u + c)) / denom if denom else 1.0
    a0 = (t0 * (c1 - n) + (n - 1) * c1) / (n * u)
    big = sizes > 1
    i = np.arange(1.0, u)

    def equations(x: np.ndarray) -> np.ndarray:
        t, a = x
        # d/dtheta and d/dalpha of Pitman's log-likelihood (Hoshino 2001)
        s1 = np.sum(1.0 / (t + i * a))
        s2 = digamma(n + t) - digamma(t + 1)
        s3 = np.sum(i / (t + i * a))
        s4 = np.sum(counts[big] * (digamma(sizes[big] - a) - digamma(1 - a)))
        return np.array([s1 - s2, s3 - s4])

    def valid(t: float, a: float) -> bool:
        return bool(np.isfinite(t) and np.isfinite(a) and a < 1 and t > -a)

    guesses = [(t0, a0), (max(t0, 1.0), 0.5), (u, 0.5), (u / 2, 0.9), (u, -0.01)]
    for guess in guesses:
        if not valid(*guess):
            continue
        with np.errstate(all="ignore"):
            sol = root(equations, np.array(guess, dtype=float), method="hybr")
        t, a = (float(v) for v in sol.x)
        if sol.success and valid(t, a) and np.all(np.abs(equations(sol.x)) < 1e-6):
            log_value = float(gammaln(t + 1) - gammaln(t + a) + a * math.log(big_n))
            if log_value <= math.log(big_n):
                return math.exp(log_value), t, a
    return None


def _shlosser(sizes: np.ndarray, counts: np.ndarray, pi: float) -> float:
    """Haas et al.'s Shlosser-type estimate of the number of non-empty population classes."""
    q = pi
    v1 = np.sum(sizes * q**2 * (1 - q**2) ** (sizes - 1) * counts)
    v2 = np.sum(((1 - q) ** sizes) * ((1 + q) ** sizes - 1) * counts)
    v3 = np.sum((1 - q) ** sizes * counts)
    v4 = np.sum(sizes * q * (1 - q) ** (sizes - 1) * counts)
    c1 = counts[sizes == 1].sum()
    return float(counts.sum() + c1 * (v1 / v2) * (v3 / v4) ** 2)


def snb_moments(alpha: float, beta: float, pi: float) -> tuple[float, float]:
    """Expected share of population classes with exactly 1 and 2 sampled records (SNB).

    Under the shifted negative binomial model, ``F - 1 ~ NB(alpha, beta)``
    (``P(F = j) = C(j + alpha - 2, j - 1) beta^alpha (1 - beta)^(j - 1)``) and Bernoulli(pi)
    sampling of each record, with ``d = (1 - pi)(1 - beta)``::

        E1 = pi (beta / (1 - d))^alpha (alpha d / (1 - d) + 1)
        E2 = alpha beta^alpha pi^2 (1 - beta) (2 - (1 - alpha) d) / (2 (1 - d)^(alpha + 2))

    >>> [round(v, 6) for v in snb_moments(1.0, 0.5, 1.0)]
    [0.5, 0.25]
    """
    alpha, beta, pi = np.float64(alpha), np.float64(beta), np.float64(pi)
    d = (1 - pi) * (1 - beta)
    e1 = pi * (beta / (1 - d)) ** alpha * (alpha * d / (1 - d) + 1)
    e2 = (
        alpha
        * beta**alpha
        * pi**2
        * (1 - beta)
        * (2 - (1 - alpha) * d)
        / (2 * (1 - d) ** (alpha + 2))
    )
    return float(e1), float(e2)


def _snb(sizes: np.ndarray, counts: np.ndarray, pi: float) -> float | None:
    from scipy.optimize import root

    if pi >= 1.0:
        return None
    c1 = float(counts[sizes == 1].sum())
    c2 = float(counts[sizes == 2].sum())
    if c2 == 0:
        return None
    k = _shlosser(sizes, counts, pi)

    def unpack(x: np.ndarray) -> tuple[float, float]:
        # solve in (log alpha, logit beta) so every iterate stays in alpha > 0, 0 < beta < 1
        return float(np.exp(x[0])), float(1.0 / (1.0 + np.exp(-x[1])))

    def equations(x: np.ndarray) -> np.ndarray:
        e1, e2 = snb_moments(*unpack(x), pi)
        return np.array([k * e1 / c1 - 1, k * e2 / c2 - 1])

    for guess in [(0.0, 0.0), (-1.0, 1.0), (1.0, -2.0), (-2.0, -3.0)]:
        with np.errstate(all="ignore"):
            sol = root(equations, np.array(guess), method="hybr")
        if sol.success and np.all(np.abs(equations(sol.x)) < 1e-8):
            a, b = unpack(sol.x)
            return float(k * b**a)
    return None


def population_uniqueness(
    classes: EquivalenceClasses,
    *,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
) -> PopulationUniqueness:
    """Estimate how many records are unique in the population (Zayatz, Pitman, SNB, Dankar).

    Parameters
    ----------
    classes : EquivalenceClasses
        From :func:`equivalence_classes` (its class-size histogram is used).
    sampling_fraction : float, optional
        ``pi`` in (0, 1].
    population_size : int, optional
        ``N >= n``; ``pi = n / N`` when ``sampling_fraction`` is not given. Otherwise
        ``N = round(n / pi)``.

    Returns
    -------
    PopulationUniqueness

    Raises
    ------
    InvalidParameterError
        Neither or invalid ``pi`` / ``N``.

    Notes
    -----
    With ``u`` classes, ``c_i`` classes of sample size ``i``:

    - Zayatz (as ARX): ``P1 = c_1 h(1; N, 1, n) / sum_i c_i h(1; N, i, n)`` with ``h`` the
      hypergeometric pmf; uniques ``= c_1 P1 / pi``.
    - Pitman (Hoshino 2001): maximum-likelihood ``(theta, alpha)`` of Pitman's sampling
      formula over its whole parameter space ``alpha < 1``, ``theta > -alpha`` (negative
      alpha included, as in ARX), uniques ``= Gamma(theta + 1) / Gamma(theta + alpha)
      N^alpha``.
    - SNB (Chen and Keller-McNulty 1998): ``F - 1 ~ NB(alpha, beta)``; ``K`` (non-empty
      population classes) from Haas et al.'s Shlosser-type estimator, ``(alpha, beta)``
      solving ``K E1 = c_1`` and ``K E2 = c_2`` (:func:`snb_moments`); uniques
      ``= K beta^alpha``. Undefined without classes of size 2 or when ``pi = 1``.
    - Dankar: ``pi <= 0.1`` -> Pitman (Zayatz if Pitman fails); else min(Zayatz, SNB)
      (Zayatz if SNB fails). No sample unique -> 0 for every estimator.

    Missing values follow the classes' policy (the histogram of exact patterns is used).

    References
    ----------
    .. [Z91] Zayatz (1991). .. [H01] Hoshino (2001). .. [CK98] Chen and Keller-McNulty
       (1998). .. [D12] Dankar et al. (2012). .. [HNSS95] Haas et al. (1995).

    Examples
    --------
    >>> ec = equivalence_classes(pd.DataFrame({"a": [1, 2, 3, 3]}), ["a"])
    >>> pu = population_uniqueness(ec, sampling_fraction=0.5)
    >>> round(pu.zayatz, 4)
    2.5455
    """
    pi = _resolve_fraction(classes.n, sampling_fraction, population_size)
    big_n = (
        int(population_size)
        if (population_size and sampling_fraction is None)
        else (max(int(round(classes.n / pi)), classes.n))
    )
    sizes, counts = class_size_histogram(classes)
    sizes = sizes.astype(np.float64)
    counts = counts.astype(np.float64)
    warnings: list[str] = []
    if not (sizes == 1).any():
        return PopulationUniqueness(
            sampling_fraction=pi,
            population_size=big_n,
            zayatz=0.0,
            pitman=0.0,
            snb=0.0,
            dankar=0.0,
            dankar_model="none (no sample uniques)",
        )
    return _uniqueness_estimates(sizes, counts, classes.n, big_n, pi, warnings)


def _uniqueness_estimates(
    sizes: np.ndarray, counts: np.ndarray, n: int, big_n: int, pi: float, warnings: list[str]
) -> PopulationUniqueness:
    """Zayatz, Pitman, SNB and Dankar's choice from a class-size histogram (shared by engines)."""
    zayatz = _zayatz(sizes, counts, n, big_n, pi)
    fit = _pitman(sizes, counts, n, big_n)
    pitman = None if fit is None else fit[0]
    snb = _snb(sizes, counts, pi)
    if pitman is None:
        warnings.append("The Pitman estimator did not converge on this class-size histogram.")
    if snb is None:
        warnings.append(
            "The SNB estimator did not converge (or is undefined: no classes of size 2, "
            "or a census)."
        )
    if pi <= 0.1:
        dankar, model = (pitman, "Pitman") if pitman is not None else (zayatz, "Zayatz")
    elif snb is not None and snb < zayatz:
        dankar, model = snb, "SNB"
    else:
        dankar, model = zayatz, "Zayatz"
    return PopulationUniqueness(
        sampling_fraction=pi,
        population_size=big_n,
        zayatz=zayatz,
        pitman=pitman,
        snb=snb,
        dankar=float(dankar),
        dankar_model=model,
        pitman_theta=None if fit is None else fit[1],
        pitman_alpha=None if fit is None else fit[2],
        warnings=tuple(warnings),
    )


# --- which columns drive the risk ----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class QiContribution:
    """What happens to the risk when one QI is left out.

    Attributes
    ----------
    column : str
    uniques_without : int
        Sample uniques over the other QIs.
    k_without : int
        k over the other QIs.
    uniques_removed : int
        Sample uniques with all QIs minus ``uniques_without`` (how many uniques this column
        alone creates).
    """

    column: str
    uniques_without: int
    k_without: int
    uniques_removed: int


def _uniques(ec: EquivalenceClasses) -> int:
    return int(ec.class_sizes[ec.class_fk == 1].sum())


def qi_contributions(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
    progress: Callable[[float], None] | None = None,
) -> tuple[QiContribution, ...]:
    """Leave-one-out: uniques and k over all QIs but one, for each QI.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : sequence of str
        At least two QIs (with one, leaving it out leaves nothing to group by).
    missing : {"category", "wildcard"}
    progress : callable, optional
        Called with the share of the work done so far (a float in (0, 1]) after each
        regrouping, and within each one under the ``"wildcard"`` policy.

    Returns
    -------
    tuple of QiContribution
        In the order of ``quasi_identifiers``.

    Raises
    ------
    InvalidParameterError, ColumnError
        As :func:`equivalence_classes`; fewer than two QIs.

    Notes
    -----
    ``uniques_removed(q) = U(Q) - U(Q \\ {q})`` with ``U`` the number of records with
    ``f_k = 1``; it is never negative (adding a QI never merges classes).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 2, 2], "b": [1, 2, 3, 3]})
    >>> [(c.column, c.uniques_removed) for c in qi_contributions(df, ["a", "b"])]
    [('a', 0), ('b', 2)]
    """
    qis = _validate_qis(df, quasi_identifiers)
    if len(qis) < 2:
        raise InvalidParameterError(
            f"Leave-one-out needs at least 2 quasi-identifiers; got {len(qis)}. Add another."
        )
    passes = len(qis) + 1

    def part(i: int) -> Callable[[float], None] | None:
        if progress is None:
            return None
        return lambda done: progress((i + done) / passes)

    full = _uniques(equivalence_classes(df, qis, missing=missing, progress=part(0)))
    if progress is not None:
        progress(1 / passes)
    out = []
    for i, q in enumerate(qis, start=1):
        rest = [c for c in qis if c != q]
        ec = equivalence_classes(df, rest, missing=missing, progress=part(i))
        if progress is not None:
            progress((i + 1) / passes)
        u = _uniques(ec)
        out.append(
            QiContribution(
                column=q,
                uniques_without=u,
                k_without=int(ec.class_fk.min()),
                uniques_removed=full - u,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class SubsetScore:
    """Distinction and separation of one QI subset (ARX's attribute-risk view).

    Attributes
    ----------
    columns : tuple of str
    distinction : float
        Distinct value combinations / n.
    separation : float
        Share of record pairs that differ on the subset.
    """

    columns: tuple[str, ...]
    distinction: float
    separation: float


def subset_scores(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    max_size: int = 2,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
) -> tuple[SubsetScore, ...]:
    """Distinction and separation of every QI subset of size 1 .. ``max_size``.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : sequence of str
    max_size : int
        Largest subset size, from 1 to the number of QIs; at most
        ``core.limits.RISK_MAX_SUBSETS`` subsets in total.
    missing : {"category", "wildcard"}
        Missing values are always their own category here (the measures count distinct
        combinations); the argument is accepted for a uniform call signature.

    Returns
    -------
    tuple of SubsetScore
        By subset size, then in the order of ``itertools.combinations``.

    Raises
    ------
    InvalidParameterError
        ``max_size`` outside its range or too many subsets; see also
        :func:`equivalence_classes`.

    Notes
    -----
    With class sizes ``f_j`` over the subset: distinction ``= |classes| / n``; separation
    ``= 1 - sum_j f_j (f_j - 1) / (n (n - 1))`` (1 when ``n = 1``).

    References
    ----------
    .. [MC04] Motwani and Xu (2007).

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 1, 2, 2], "b": [1, 2, 1, 2]})
    >>> [(s.columns, s.distinction, round(s.separation, 4)) for s in subset_scores(df, ["a", "b"])]
    [(('a',), 0.5, 0.6667), (('b',), 0.5, 0.6667), (('a', 'b'), 1.0, 1.0)]
    """
    qis = _validate_qis(df, quasi_identifiers)
    _policy(missing)
    if not (1 <= int(max_size) <= len(qis)):
        raise InvalidParameterError(
            f"max_size must be between 1 and the number of quasi-identifiers ({len(qis)}); "
            f"got {max_size}."
        )
    total = sum(math.comb(len(qis), s) for s in range(1, int(max_size) + 1))
    if total > RISK_MAX_SUBSETS:
        raise InvalidParameterError(
            f"max_size={max_size} over {len(qis)} quasi-identifiers gives {total} subsets, "
            f"above the limit of {RISK_MAX_SUBSETS}. Pick a smaller size or fewer columns."
        )
    codes, cards = _qi_codes(df, qis)
    n = len(df)
    out = []
    for size in range(1, int(max_size) + 1):
        for combo in itertools.combinations(range(len(qis)), size):
            key = codes_.mixed_key(((codes[:, j], int(cards[j])) for j in combo), n)
            ids, uniq = pd.factorize(key)
            f = np.bincount(ids, minlength=len(uniq)).astype(np.float64)
            sep = 1.0 if n == 1 else 1.0 - float(np.sum(f * (f - 1)) / (n * (n - 1.0)))
            out.append(
                SubsetScore(
                    columns=tuple(qis[j] for j in combo),
                    distinction=len(uniq) / n,
                    separation=sep,
                )
            )
    return tuple(out)


# --- headline summary ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSummary:
    """Headline re-identification figures of a table (what the Risk page shows on top).

    Attributes
    ----------
    n : int
    k : int
    n_classes : int
    sample_uniques : int
        Records with ``f_k = 1``.
    below_2, below_3, below_5 : int
        Records with ``f_k < 2``, ``< 3``, ``< 5`` (sdcMicro prints these as violating 2-,
        3- and 5-anonymity).
    prosecutor : ProsecutorRisk
    marketer : float
    journalist : float or None
        Only with a sampling fraction or population size.
    individual : IndividualRisk
    warnings : tuple of str
    """

    n: int
    k: int
    n_classes: int
    sample_uniques: int
    below_2: int
    below_3: int
    below_5: int
    prosecutor: ProsecutorRisk
    marketer: float
    journalist: float | None
    individual: IndividualRisk
    warnings: tuple[str, ...] = ()

    def share(self, count: int) -> float:
        """A record count as a percentage of n."""
        return 100.0 * count / self.n


def risk_summary(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    *,
    missing: MissingPolicy | str = MissingPolicy.CATEGORY,
    threshold: float = RISK_THRESHOLD_DEFAULT,
    sampling_fraction: float | None = None,
    population_size: int | None = None,
    weight_column: str | None = None,
    classes: EquivalenceClasses | None = None,
    progress: Callable[[float], None] | None = None,
) -> RiskSummary:
    """Every headline re-identification measure in one pass over the classes.

    Parameters
    ----------
    df : pandas.DataFrame
    quasi_identifiers : sequence of str
    missing : {"category", "wildcard"}
    threshold : float
        Prosecutor risk threshold in (0, 1].
    sampling_fraction, population_size : optional
        The population model (journalist and marketer risk, and the constant weight of the
        individual risk when no weight column is given).
    weight_column : str, optional
        Sampling weights for sdcMicro's individual risk.
    classes : EquivalenceClasses, optional
        Reuse classes already computed on ``df`` and these QIs.
    progress : callable, optional
        Passed to :func:`individual_risk` (the weighted wildcard matching).

    Returns
    -------
    RiskSummary

    Raises
    ------
    InvalidParameterError, ColumnError
        See the individual measures.

    Notes
    -----
    See :func:`prosecutor_risk`, :func:`marketer_risk`, :func:`journalist_risk` and
    :func:`individual_risk` for the formulas.

    Examples
    --------
    >>> s = risk_summary(pd.DataFrame({"a": [1, 1, 1, 2, 2, 3]}), ["a"])
    >>> s.k, s.n_classes, s.sample_uniques, s.below_3, s.prosecutor.average
    (1, 3, 1, 3, 0.5)
    """
    ec = (
        classes
        if classes is not None
        else equivalence_classes(df, quasi_identifiers, missing=missing)
    )
    pros = prosecutor_risk(ec, threshold=threshold)
    pi: float | None = None
    if sampling_fraction is not None or population_size is not None:
        pi = _resolve_fraction(ec.n, sampling_fraction, population_size)
    fk = ec.class_fk
    sizes = ec.class_sizes
    ind = individual_risk(
        df, ec, weight_column=weight_column, sampling_fraction=pi, progress=progress
    )
    return RiskSummary(
        n=ec.n,
        k=int(fk.min()),
        n_classes=ec.n_classes,
        sample_uniques=int(sizes[fk == 1].sum()),
        below_2=int(sizes[fk < 2].sum()),
        below_3=int(sizes[fk < 3].sum()),
        below_5=int(sizes[fk < 5].sum()),
        prosecutor=pros,
        marketer=marketer_risk(ec, sampling_fraction=pi),
        journalist=None if pi is None else journalist_risk(ec, sampling_fraction=pi),
        individual=ind,
        warnings=ec.warnings + ind.warnings,
    )
