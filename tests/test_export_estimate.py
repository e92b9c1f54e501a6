from __future__ import annotations

import pandas as pd
import pytest

from core import crypto
from core.errors import InvalidParameterError
from core.export import build_download, estimate_build
from core.samples import adult


@pytest.fixture(scope="module")
def frame():
    return adult().frame


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_whole_table_sample_gives_the_exact_size(frame, fmt):
    small = frame.iloc[:3000]
    est = estimate_build(small, fmt, sample_rows=len(small))
    assert est.sample_rows == est.rows == 3000
    assert est.bytes == len(build_download(small, fmt).data)  # no scaling: exact


def test_csv_size_from_a_sample_is_within_two_percent(frame):
    est = estimate_build(frame, "csv", sample_rows=2000)
    actual = len(build_download(frame, "csv").data)
    assert est.sample_rows == 2000 and est.rows == len(frame)
    assert abs(est.bytes - actual) / actual < 0.02


def test_parquet_size_from_a_sample_is_an_overestimate_within_2x(frame):
    # Parquet compresses a larger table better (dictionaries, run lengths): the linear
    # estimate errs on the high side.
    est = estimate_build(frame, "parquet", sample_rows=2000)
    actual = len(build_download(frame, "parquet").data)
    assert actual <= est.bytes < 2 * actual


def test_encryption_overhead_is_the_format_overhead(frame):
    small = frame.iloc[:3000]
    plain = estimate_build(small, "csv", sample_rows=3000)
    enc = estimate_build(small, "csv", sample_rows=3000, encrypted=True)
    real = build_download(small, "csv", key=crypto.generate_key()).data
    assert enc.bytes == len(real) == plain.bytes + crypto.HEADER_BYTES + crypto.TAG_BYTES
    assert enc.seconds > 0 and plain.seconds > 0


def test_bundle_and_empty_tables(frame):
    est = estimate_build(frame.iloc[:1000], "csv", bundle=True, sample_rows=1000)
    assert est.bytes == pytest.approx(len(build_download(frame.iloc[:1000], "csv",
                                                         bundle=True).data), rel=0.01)  # fmt: skip
    empty = estimate_build(frame.iloc[:0], "csv")
    assert empty.rows == 0 and empty.bytes == len(build_download(frame.iloc[:0], "csv").data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fmt": "xml"}, "format must be one of"),
        ({"fmt": "csv", "sample_rows": 0}, "sample_rows must be a positive integer; got 0"),
        ({"fmt": "csv", "sample_rows": True}, "sample_rows must be a positive integer"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        estimate_build(pd.DataFrame({"a": [1]}), **kwargs)
