"""JSON and JSON Lines: a byte scan of depth, keys and size, then the parse."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core import limits
from core.data.columns import (
    _EXACT_DIGITS,
    _column,
    _exact_as_double,
    _json_text,
    _kept_by_name_warning,
    _numbers_only,
)
from core.data.common import LoadResult, _check_cell_chars, _check_limit, _check_shape, _clean_names
from core.data.text import detect_encoding
from core.errors import (
    BinaryFileError,
    DataLoadError,
    HeaderOnlyError,
    NotATableError,
    ResourceLimitError,
)
from core.roles import names_a_code


@dataclass(slots=True)
class _JsonShape:
    depth: int = 0
    keys: int = 0  # most keys of one object
    commas: dict[int, int] = field(default_factory=dict)  # by nesting level
    colons: dict[int, int] = field(default_factory=dict)


_JSON_STRUCT = np.zeros(256, dtype=bool)
_JSON_STRUCT[[ord(c) for c in ",:[]{}"]] = True
_JSON_DELTA = np.zeros(256, dtype=np.int64)
_JSON_DELTA[[ord("["), ord("{")]] = 1
_JSON_DELTA[[ord("]"), ord("}")]] = -1


def _scan_json(data: bytes, chunk: int = 4 << 20) -> _JsonShape:
    """Depth, largest object and separators per level of JSON bytes, strings skipped.

    A vectorized byte scan (no parse), so a deep or huge document is refused before Python
    builds any of it. Stops with :class:`ResourceLimitError` once the depth or an object's
    keys pass their limits.
    """
    shape = _JsonShape()
    in_string, backslashes, depth = 0, 0, 0
    carry: dict[int, int] = {}  # keys so far of the object open at each level
    for offset in range(0, len(data), chunk):
        b = np.frombuffer(data, dtype=np.uint8, count=min(chunk, len(data) - offset), offset=offset)
        quotes = np.flatnonzero(b == ord('"'))
        slash = b == ord("\\")
        if len(quotes) and (backslashes or slash.any()):
            # A quote after an odd run of backslashes is escaped.
            idx = np.arange(len(b))
            last_other = np.maximum.accumulate(np.where(slash, -1, idx))
            before = np.maximum(quotes - 1, 0)
            run = np.where(quotes > 0, before - last_other[before], 0)
            run = run + np.where((quotes == 0) | (last_other[before] < 0), backslashes, 0)
            quotes = quotes[run % 2 == 0]
        trailing = len(b) - 1 - int(np.flatnonzero(~slash)[-1]) if (~slash).any() else len(b)
        backslashes = trailing if trailing < len(b) else backslashes + trailing
        pos = np.flatnonzero(_JSON_STRUCT[b])
        outside = (np.searchsorted(quotes, pos) + in_string) % 2 == 0
        in_string = (in_string + len(quotes)) % 2
        pos = pos[outside]
        if not len(pos):
            continue
        chars = b[pos]
        level = depth + np.cumsum(_JSON_DELTA[chars])
        depth = int(level[-1])
        shape.depth = max(shape.depth, int(level.max()))
        _check_limit(shape.depth, "MAX_JSON_DEPTH", "nests JSON too deeply", "levels (or more)")
        for sep, counts in ((ord(","), shape.commas), (ord(":"), shape.colons)):
            lv, n = np.unique(level[chars == sep], return_counts=True)
            for k, v in zip(lv.tolist(), n.tolist(), strict=True):
                counts[k] = counts.get(k, 0) + v
        # Keys of each object: colons grouped under the latest opening at their level.
        opens = (chars == ord("{")) | (chars == ord("["))
        events = opens | (chars == ord(":"))
        ev_level, ev_open = level[events], opens[events]
        order = np.argsort(ev_level, kind="stable")
        ev_level, ev_open = ev_level[order], ev_open[order]
        if not len(ev_level):
            continue
        starts = ev_open | np.r_[True, ev_level[1:] != ev_level[:-1]]
        group = np.cumsum(starts) - 1
        keys = np.bincount(group, weights=~ev_open).astype(np.int64)
        first = np.flatnonzero(starts)
        continued = ~ev_open[first]  # a group opened in an earlier chunk
        keys[continued] += np.array(
            [carry.get(lv, 0) for lv in ev_level[first][continued].tolist()], dtype=np.int64
        )
        shape.keys = max(shape.keys, int(keys.max()))
        _check_limit(shape.keys, "MAX_JSON_KEYS", "has a JSON object with too many keys", "keys")
        last = np.r_[ev_level[1:] != ev_level[:-1], True]
        carry.update(zip(ev_level[last].tolist(), keys[group[last]].tolist(), strict=True))
    return shape


def _parse_float(text: str) -> float | str:
    """A JSON number with a fraction; kept as its text when a double would change it."""
    value = float(text)
    digits = text.lstrip("-").split(".")[0].lower().split("e")[0]
    if len(digits) > _EXACT_DIGITS and not _exact_as_double(text):
        return text
    return value


_DECODER = json.JSONDecoder(parse_float=_parse_float)


def _json_loads(text: str) -> object:
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ResourceLimitError(
            "nests JSON too deeply",
            "deeper than the parser can follow",
            "MAX_JSON_DEPTH",
            limits.MAX_JSON_DEPTH,
        ) from None


def _load_json(data: bytes, ext: str) -> LoadResult:
    try:
        encoding = detect_encoding(data)
    except BinaryFileError:
        raise BinaryFileError(ext) from None
    text = data.decode(encoding)
    _check_json_shape(
        _scan_json(data if not encoding.startswith("utf-16") else text.encode()),
        lines=ext in (".jsonl", ".ndjson"),
        top=text.lstrip("\ufeff \t\r\n")[:1],
    )
    records: object
    fmt = "json"
    if ext in (".jsonl", ".ndjson"):
        records, fmt = _json_lines(text), "jsonl"
    else:
        try:
            records = _json_loads(text)
        except json.JSONDecodeError as exc:
            try:
                records, fmt = _json_lines(text), "jsonl"
            except ResourceLimitError:
                raise
            except DataLoadError:
                raise DataLoadError(
                    f"The JSON is not valid (line {exc.lineno}, column {exc.colno}: "
                    f"{exc.msg}). Fix it, or export the table as CSV."
                ) from None
    frame, kept = _json_to_frame(records)
    names, warnings = _clean_names(list(frame.columns))
    frame.columns = names
    warnings += _kept_by_name_warning(kept)
    return LoadResult(frame=frame, format=fmt, encoding=encoding, warnings=tuple(warnings))


def _check_json_shape(shape: _JsonShape, *, lines: bool, top: str) -> None:
    """Rows and cells the parse would build, from the byte scan (before any parsing)."""
    if lines or top not in "[{":
        cells = shape.colons.get(1, 0)  # one record per line
    elif top == "[":
        _check_limit(shape.commas.get(1, 0) + 1, "MAX_ROWS", "has too many rows", "rows")
        cells = shape.colons.get(2, 0)
    else:
        cells = shape.commas.get(2, 0) + shape.colons.get(1, 0)
    _check_limit(cells, "MAX_CELLS", "has too many cells", "cells")


def _json_lines(text: str) -> list[object]:
    out = []
    cells = 0
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = _json_loads(line)
        except json.JSONDecodeError as exc:
            raise DataLoadError(
                f"Line {i} of the JSON Lines file is not valid JSON ({exc.msg}). "
                "Each line must hold one JSON object."
            ) from None
        out.append(record)
        _check_limit(len(out), "MAX_ROWS", "has too many rows", "rows (or more)")
        cells += len(record) if isinstance(record, dict) else 1
        _check_limit(cells, "MAX_CELLS", "has too many cells", "cells (or more)")
    return out


def _describe_json(value: object) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else f"a list of {type(value[0]).__name__} values"
    if isinstance(value, dict):
        return "an object whose values are not equal-length lists"
    return f"a single {type(value).__name__} value"


def _json_depth(value: object, start: int) -> int:
    """Nesting depth of ``value`` (iterative); stops once MAX_JSON_DEPTH is passed."""
    deepest = start
    stack: list[tuple[object, int]] = [(value, start)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth + 1)
            if deepest > limits.MAX_JSON_DEPTH:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, depth + 1) for c in children)
    return deepest


def _nested_text(value: object, depth: int) -> str:
    """A nested JSON value as JSON text, after checking its depth and object sizes."""
    deepest = _json_depth(value, depth)
    _check_limit(deepest, "MAX_JSON_DEPTH", "nests JSON too deeply", "levels (or more)")
    return _json_text(value)


def _check_keys(obj: dict[str, object]) -> None:
    _check_limit(len(obj), "MAX_JSON_KEYS", "has a JSON object with too many keys", "keys")


def _records_columns(records: list[dict[str, object]]) -> dict[str, list[object]]:
    """Columns of a list of records; one level of nested objects flattened as ``a.b``."""
    order: dict[str, None] = {}
    later: dict[str, None] = {}
    flat: list[dict[str, object]] = []
    for rec in records:
        _check_keys(rec)
        row: dict[str, object] = {}
        for key, value in rec.items():
            if isinstance(value, dict):
                _check_keys(value)
                for sub, v in value.items():
                    name = f"{key}.{sub}"
                    row[name] = _nested_text(v, 3) if isinstance(v, (dict, list)) else v
                    if name not in order:
                        later[name] = None
            else:
                row[key] = _nested_text(value, 2) if isinstance(value, list) else value
                order[key] = None
        flat.append(row)
        _check_limit(len(order) + len(later), "MAX_COLUMNS", "has too many columns", "columns")
    names = list(order) + [n for n in later if n not in order]
    return {n: [row.get(n) for row in flat] for n in names}


def _json_to_frame(records: object) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(records, list):
        if not records:
            raise NotATableError("an empty list")
        if not all(isinstance(r, dict) for r in records):
            raise NotATableError(_describe_json(records))
        _check_limit(len(records), "MAX_ROWS", "has too many rows", "rows")
        cells = sum(len(r) for r in records)  # type: ignore[arg-type]
        _check_limit(cells, "MAX_CELLS", "has too many cells", "cells")
        columns = _records_columns(records)  # type: ignore[arg-type]
    elif isinstance(records, dict):
        _check_keys(records)
        if set(records) >= {"columns", "data"} and isinstance(records["data"], list):
            names, rows = records["columns"], records["data"]
            if not isinstance(names, list) or not all(
                isinstance(r, list) and len(r) == len(names) for r in rows
            ):
                raise NotATableError("a 'columns'/'data' object whose rows do not fit")
            _check_shape(len(rows), len(names))
            columns = {str(n): [r[j] for r in rows] for j, n in enumerate(names)}
        else:
            values = list(records.values())
            if not values or not all(isinstance(v, list) for v in values):
                raise NotATableError(_describe_json(records))
            if len({len(v) for v in values}) != 1:
                raise NotATableError("column lists of different lengths")
            _check_shape(len(values[0]), len(values))
            columns = dict(records)  # type: ignore[arg-type]
        columns = {
            k: [_nested_text(v, 2) if isinstance(v, (dict, list)) else v for v in col]
            for k, col in columns.items()
        }
    else:
        raise NotATableError(_describe_json(records))
    if not columns:
        raise NotATableError("records without any fields")
    n_rows = len(next(iter(columns.values())))
    if n_rows == 0:
        raise HeaderOnlyError(len(columns))
    codes = [names_a_code(str(name)) for name in columns]
    frame = pd.DataFrame(
        {
            i: _column(col, _json_text, code=code)
            for i, (col, code) in enumerate(zip(columns.values(), codes, strict=True))
        }
    )
    frame.columns = list(columns)
    _check_cell_chars(frame)
    kept = [
        str(name)
        for (name, col), code in zip(columns.items(), codes, strict=True)
        if code and _numbers_only(col)
    ]
    return frame, kept
