"""Engines: the same measures on pandas (in memory), DuckDB (out of core) or Spark.

``make_engine("duckdb")`` builds an engine; :func:`choose_engine` resolves ``"auto"``
(pandas below :data:`AUTO_DUCKDB_BYTES` of input, DuckDB above). The measures live in
:mod:`core.engine.measures` and take ``(engine, table, ...)``; the SQL they run is written
once in :mod:`core.engine.plans`.

>>> with make_engine("pandas") as eng:
...     t = eng.open(pd.DataFrame({"a": [1, 1, 2]}))
...     risk_summary(eng, t, ["a"]).k
1
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from core.engine.base import Engine, Source, Table, parquet_files
from core.engine.correlations import association_matrix, correlation_matrix, leakage_ranking
from core.engine.measures import (
    ClassHistogram,
    EngineAttributeRisk,
    EngineRiskSummary,
    attribute_risk,
    class_histogram,
    k_anonymity,
    population_uniqueness,
    risk_summary,
)
from core.engine.pandas_engine import PandasEngine
from core.engine.samples import (
    SampledKendall,
    SampledSuda,
    sampled_kendall,
    sampled_suda2,
)
from core.errors import InvalidParameterError

__all__ = [
    "AUTO_DUCKDB_BYTES",
    "ENGINES",
    "ClassHistogram",
    "Engine",
    "EngineAttributeRisk",
    "EngineRiskSummary",
    "PandasEngine",
    "SampledKendall",
    "SampledSuda",
    "Source",
    "Table",
    "association_matrix",
    "attribute_risk",
    "choose_engine",
    "class_histogram",
    "correlation_matrix",
    "k_anonymity",
    "leakage_ranking",
    "make_engine",
    "parquet_files",
    "population_uniqueness",
    "risk_summary",
    "sampled_kendall",
    "sampled_suda2",
]

#: Engine names accepted by ``--engine`` (``"auto"`` is resolved by :func:`choose_engine`).
ENGINES = ("pandas", "duckdb", "spark")

#: ``auto`` picks DuckDB when the Parquet input is larger than this many bytes on disk
#: (256 MB, about 10 million rows of a few small columns; a frame already in memory always
#: stays on pandas). Below it the pandas engine is as fast and computes every measure.
AUTO_DUCKDB_BYTES = 256 * 1024 * 1024


def choose_engine(name: str, source: Source) -> str:
    """Resolve an engine name; ``"auto"`` = pandas below :data:`AUTO_DUCKDB_BYTES`, DuckDB above.

    >>> choose_engine("auto", pd.DataFrame({"a": [1]}))
    'pandas'
    """
    if name != "auto":
        if name not in ENGINES:
            raise InvalidParameterError(
                f"Unknown engine {name!r}; choose one of auto, {', '.join(ENGINES)}."
            )
        return name
    if isinstance(source, pd.DataFrame):
        return "pandas"
    size = sum(os.path.getsize(f) for f in parquet_files(source))
    return "duckdb" if size > AUTO_DUCKDB_BYTES else "pandas"


def make_engine(name: str, **options: Any) -> Engine:
    """Build an engine by name; options go to its constructor (e.g. ``memory_limit``)."""
    if name == "pandas":
        return PandasEngine(**options)
    if name == "duckdb":
        from core.engine.duckdb_engine import DuckDBEngine

        return DuckDBEngine(**options)
    if name == "spark":
        from core.engine.spark_engine import SparkEngine  # type: ignore[import-not-found]

        return SparkEngine(**options)
    raise InvalidParameterError(
        f"Unknown engine {name!r}; choose one of {', '.join(ENGINES)}."
    )
