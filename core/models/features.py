"""Turn a table and a binary target column into a numeric design matrix.

The encoding is *fitted* on a training table and then *frozen*: the category list of every
text column, and the mean and standard deviation of every numeric column, are taken from
the training rows only and stored in a :class:`FeatureSpec`. Applying the spec to other rows
(a test split, a hardened table) never changes it, so a model and its features stay aligned.

Encoding rules
--------------
* **Numbers** (integer, float, boolean columns): standardized, ``(x - mean) / std`` with the
  training mean and standard deviation (``std`` 0 is read as 1). A missing value becomes
  the training mean (0 after standardizing) and sets the column's ``<column>=<missing>``
  indicator, present when the training rows had missing values in that column.
* **Text and categories**: one-hot over the frozen category list: the ``max_categories``
  most frequent training values (ties broken by sorted order), every other value -- rare,
  or unseen at fit time -- an all-zero row. A missing value has its own indicator column.
* **Dates and other kinds** are left out, with a warning naming the column.
* **Target**: two distinct non-missing values, the *positive* class being the later one in
  sorted order (for Adult, ``">50K"``) unless given. Rows with a missing target are dropped
  (their count is in ``warnings``).

Messages and warnings name columns and counts, never a cell value.

>>> import pandas as pd
>>> df = pd.DataFrame({"age": [20, 30, None, 50], "job": ["a", "b", "a", None],
...                    "y": ["no", "yes", "no", "yes"]})
>>> spec = fit_features(df, "y")
>>> spec.feature_names
('age', 'age=<missing>', 'job=a', 'job=b', 'job=<missing>')
>>> design(spec, df).shape, targets(spec, df).tolist()
((4, 5), [0, 1, 0, 1])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ColumnError, InvalidParameterError

__all__ = ["MISSING", "FeatureSpec", "design", "fit_features", "spec_from_dict", "targets"]

#: Name suffix of the indicator column of missing values.
MISSING = "<missing>"
_MAX_CATEGORIES = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureSpec:
    """A frozen encoding of a table into numbers (see the module docstring).

    Attributes
    ----------
    target : str
        Target column.
    labels : tuple of (str, str)
        The negative and the positive class, as text.
    numeric : tuple of (column, mean, std, has_missing_indicator)
    categorical : tuple of (column, categories, has_missing_indicator)
    feature_names : tuple of str
        One name per design-matrix column, ``column`` or ``column=category``.
    warnings : tuple of str
    """

    target: str
    labels: tuple[str, str]
    numeric: tuple[tuple[str, float, float, bool], ...]
    categorical: tuple[tuple[str, tuple[str, ...], bool], ...]
    feature_names: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (used in a saved model's description file)."""
        return {
            "target": self.target,
            "labels": list(self.labels),
            "numeric": [
                {"column": c, "mean": m, "std": s, "missing_indicator": i}
                for c, m, s, i in self.numeric
            ],
            "categorical": [
                {"column": c, "categories": list(cats), "missing_indicator": i}
                for c, cats, i in self.categorical
            ],
            "feature_names": list(self.feature_names),
        }


def spec_from_dict(d: dict[str, object]) -> FeatureSpec:
    """Rebuild a :class:`FeatureSpec` from :meth:`FeatureSpec.to_dict`."""
    try:
        labels = tuple(str(v) for v in d["labels"])  # type: ignore[attr-defined]
        numeric = tuple(
            (str(e["column"]), float(e["mean"]), float(e["std"]), bool(e["missing_indicator"]))
            for e in d["numeric"]  # type: ignore[attr-defined]
        )
        categorical = tuple(
            (str(e["column"]), tuple(str(c) for c in e["categories"]), bool(e["missing_indicator"]))
            for e in d["categorical"]  # type: ignore[attr-defined]
        )
        spec = FeatureSpec(
            target=str(d["target"]),
            labels=(labels[0], labels[1]),
            numeric=numeric,
            categorical=categorical,
            feature_names=_names(numeric, categorical),
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise InvalidParameterError(
            f"The feature description is incomplete or malformed ({type(exc).__name__}). "
            "Use a description written by PrivLens."
        ) from None
    if list(spec.feature_names) != list(d.get("feature_names", spec.feature_names)):  # type: ignore[call-overload]
        raise InvalidParameterError(
            "The feature description's feature names do not match its columns. "
            "Use a description written by PrivLens."
        )
    return spec


def _names(
    numeric: Sequence[tuple[str, float, float, bool]],
    categorical: Sequence[tuple[str, tuple[str, ...], bool]],
) -> tuple[str, ...]:
    names: list[str] = []
    for col, _m, _s, ind in numeric:
        names += [col] + ([f"{col}={MISSING}"] if ind else [])
    for col, cats, ind in categorical:
        names += [f"{col}={c}" for c in cats] + ([f"{col}={MISSING}"] if ind else [])
    return tuple(names)


def _target_text(df: pd.DataFrame, target: str) -> pd.Series:
    if not isinstance(target, str) or target not in df.columns:
        raise ColumnError(
            f"Target column {target!r} is not in the table ({df.shape[1]} columns). "
            "Pick one of the table's columns."
        )
    s = df[target]
    if isinstance(s, pd.DataFrame):
        raise ColumnError(
            f"Target column {target!r} appears {s.shape[1]} times. Rename the duplicates first."
        )
    out = s.astype("string").str.strip()
    return out.where(out != "", pd.NA)


def _is_numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype))


def _is_text(s: pd.Series) -> bool:
    return bool(
        pd.api.types.is_string_dtype(s.dtype)
        or isinstance(s.dtype, pd.CategoricalDtype)
        or s.dtype == object
    )


def fit_features(
    df: pd.DataFrame,
    target: str,
    *,
    positive: str | None = None,
    columns: Sequence[str] | None = None,
    max_categories: int = _MAX_CATEGORIES,
) -> FeatureSpec:
    """Fit the encoding of ``df`` for predicting ``target`` (see the module docstring).

    Parameters
    ----------
    df : pandas.DataFrame
        Training rows.
    target : str
        Binary target column.
    positive : str, optional
        The positive class as text; default the later of the two sorted values.
    columns : sequence of str, optional
        Feature columns; default every other column.
    max_categories : int, default 50
        At most this many one-hot columns per text column (1 to 1,000).

    Returns
    -------
    FeatureSpec

    Raises
    ------
    ColumnError
        The target or a feature column is missing, or duplicated.
    InvalidParameterError
        The target does not have exactly two values, no feature column is usable, or
        ``max_categories`` is out of range.
    """
    if not isinstance(max_categories, int) or not 1 <= max_categories <= 1000:
        raise InvalidParameterError(
            f"max_categories must be an integer in [1, 1000]; got {max_categories!r}."
        )
    y = _target_text(df, target)
    values = sorted(y.dropna().unique().tolist())
    if len(values) != 2:
        raise InvalidParameterError(
            f"Target column {target!r} must have exactly 2 distinct values to train a "
            f"classifier; it has {len(values)}. Pick a yes/no column, or recode this one."
        )
    if positive is None:
        positive = values[1]
    elif positive not in values:
        raise InvalidParameterError(
            f"The positive class is not one of the 2 values of target column {target!r}. "
            "Pick one of its values."
        )
    labels = (values[0] if positive == values[1] else values[1], positive)
    keep = y.notna().to_numpy()
    warnings: list[str] = []
    if not keep.all():
        warnings.append(f"{int((~keep).sum()):,} row(s) with a missing target are left out.")
    chosen = [c for c in df.columns if c != target] if columns is None else list(columns)
    numeric: list[tuple[str, float, float, bool]] = []
    categorical: list[tuple[str, tuple[str, ...], bool]] = []
    for col in chosen:
        if col not in df.columns or isinstance(df[col], pd.DataFrame) or col == target:
            raise ColumnError(
                f"Feature column {col!r} is missing, duplicated or the target. Pick other columns."
            )
        s = df[col][keep]
        if _is_numeric(s):
            x = pd.to_numeric(s, errors="coerce").astype("float64")
            x = x.where(np.isfinite(x))
            mean = float(x.mean()) if x.notna().any() else 0.0
            std = float(x.std(ddof=0)) if x.notna().sum() > 1 else 1.0
            numeric.append((col, mean, std if std > 0 else 1.0, bool(x.isna().any())))
        elif _is_text(s):
            t = s.astype("string")
            counts = t.value_counts(dropna=True)
            order = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            cats = tuple(str(k) for k, _ in order[:max_categories])
            if len(order) > max_categories:
                warnings.append(
                    f"Column {col!r} has {len(order):,} distinct values; the "
                    f"{max_categories} most frequent are encoded, the rest share a zero row."
                )
            categorical.append((col, cats, bool(t.isna().any())))
        else:
            warnings.append(f"Column {col!r} ({s.dtype.kind} kind) is not used as a feature.")
    names = _names(numeric, categorical)
    if not names:
        raise InvalidParameterError(
            f"No usable feature column besides target {target!r} (got {len(chosen)} column(s)). "
            "Add numeric or text columns."
        )
    return FeatureSpec(
        target=target,
        labels=labels,
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        feature_names=names,
        warnings=tuple(warnings),
    )


def _column(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns or isinstance(df[col], pd.DataFrame):
        raise ColumnError(
            f"Column {col!r}, used by the model, is missing or duplicated in this table. "
            "Use a table with the columns the model was trained on."
        )
    return df[col]


def design(spec: FeatureSpec, df: pd.DataFrame) -> np.ndarray:
    """The float64 design matrix of ``df`` under ``spec``, one row per row of ``df``.

    Raises
    ------
    ColumnError
        A column the spec uses is missing from ``df``.
    """
    n = len(df)
    blocks: list[np.ndarray] = []
    for col, mean, std, ind in spec.numeric:
        raw = _column(df, col)
        x = (
            pd.to_numeric(raw, errors="coerce")
            if not _is_text(raw)
            else pd.to_numeric(raw.astype("string"), errors="coerce")
        )
        v = x.astype("float64").to_numpy(na_value=np.nan)
        miss = ~np.isfinite(v)
        z = np.where(miss, 0.0, (np.where(miss, mean, v) - mean) / std)
        blocks.append(z[:, None])
        if ind:
            blocks.append(miss.astype(np.float64)[:, None])
    for col, cats, ind in spec.categorical:
        t = _column(df, col).astype("string")
        codes = pd.Index(list(cats), dtype=object).get_indexer(
            t.to_numpy(dtype=object, na_value=None)
        )
        onehot = np.zeros((n, len(cats)), dtype=np.float64)
        hit = codes >= 0
        onehot[np.flatnonzero(hit), codes[hit]] = 1.0
        blocks.append(onehot)
        if ind:
            blocks.append(t.isna().to_numpy(dtype=bool).astype(np.float64)[:, None])
    return np.hstack(blocks) if blocks else np.zeros((n, 0))


def targets(spec: FeatureSpec, df: pd.DataFrame) -> np.ndarray:
    """0/1 labels of ``df`` (1 = positive class); -1 where the target is missing or unseen."""
    y = _target_text(df, spec.target)
    out = np.full(len(df), -1, dtype=np.int64)
    out[(y == spec.labels[0]).fillna(False).to_numpy(dtype=bool)] = 0
    out[(y == spec.labels[1]).fillna(False).to_numpy(dtype=bool)] = 1
    return out
