"""Ranges and limits used by both the pages (slider bounds) and the core (validation).

Keeping them in one place means a slider can never offer a value the core refuses.
"""

from __future__ import annotations

import os


def _setting(name: str, default: int) -> int:
    """``default``, or the positive integer in the environment variable ``PRIVLENS_<name>``."""
    raw = os.environ.get(f"PRIVLENS_{name}")
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"PRIVLENS_{name} must be a positive whole number; got {raw!r}. Fix or unset it."
        )
    return value


# --- data intake ---------------------------------------------------------------------------
#: Largest file the loader accepts, in MiB. Keep in step with ``server.maxUploadSize`` in
#: ``.streamlit/config.toml`` (which Streamlit enforces before our code sees the bytes).
MAX_UPLOAD_MB = 500
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
#: Bytes sniffed to detect the delimiter.
SNIFF_BYTES = 64 * 1024
#: Rows shown in data previews.
PREVIEW_ROWS = 200
#: Intake limits, checked before a table is materialized (from file metadata, a byte scan or
#: while streaming) so that a small file cannot expand into a huge table. A deployment sets
#: each with the environment variable ``PRIVLENS_<NAME>`` (e.g. ``PRIVLENS_MAX_ROWS=50000000``).
#: Rows and columns of a table, and their product.
MAX_ROWS = _setting("MAX_ROWS", 10_000_000)
MAX_COLUMNS = _setting("MAX_COLUMNS", 10_000)
MAX_CELLS = _setting("MAX_CELLS", 100_000_000)
#: Characters in one cell (text formats, workbooks, Parquet strings).
MAX_CELL_CHARS = _setting("MAX_CELL_CHARS", 1_000_000)
#: Bytes a Parquet file's columns decode to (dictionary-encoded strings expanded), in MiB.
MAX_DECODED_MB = _setting("MAX_DECODED_MB", 4_096)
#: Nesting depth of JSON (a list of records is depth 2) and keys of one JSON object.
MAX_JSON_DEPTH = _setting("MAX_JSON_DEPTH", 64)
MAX_JSON_KEYS = _setting("MAX_JSON_KEYS", 10_000)
#: Cells of one worksheet (openpyxl reads a few hundred thousand cells per second), and the
#: uncompressed size of any other workbook part (shared strings, styles), in MiB.
MAX_XLSX_CELLS = _setting("MAX_XLSX_CELLS", 2_000_000)
MAX_XLSX_PART_MB = _setting("MAX_XLSX_PART_MB", 256)

# --- large data (Parquet read where it lies, through an engine) ------------------------------
#: Most Parquet files and folders the Data page lists from the allowed directories, and most
#: directory entries it looks at to find them (the listing stops there and says so).
LARGE_LISTING_MAX = _setting("LARGE_LISTING_MAX", 500)
LARGE_SCAN_MAX = _setting("LARGE_SCAN_MAX", 20_000)
#: How deep below an allowed directory the listing looks.
LARGE_LISTING_DEPTH = 4
#: Rows of the uniform sample an engine draws for previews and for "work on the sample".
LARGE_SAMPLE_ROWS = _setting("LARGE_SAMPLE_ROWS", 10_000)

# --- column profiling ----------------------------------------------------------------------
#: Rows sampled for pattern detection (e-mail, card numbers, ...).
PROFILE_SAMPLE_ROWS = 2_000
#: A column whose share of distinct values is at least this is treated as an identifier.
IDENTIFIER_UNIQUENESS = 0.95
#: Share of sampled non-missing values that must match a pattern to call the column that type.
PATTERN_MATCH_SHARE = 0.8
#: Text columns with at most this many distinct values (or this share) are categorical.
CATEGORICAL_MAX_DISTINCT = 50
CATEGORICAL_MAX_SHARE = 0.5
#: At most this many distinct whole numbers make a column of category codes (roof = 2, 4, 9).
CODED_MAX_CODES = 20

# --- differential privacy ------------------------------------------------------------------
EPSILON_MIN = 0.01
EPSILON_MAX = 10.0
EPSILON_DEFAULT = 1.0
DELTA_MIN = 1e-12
DELTA_MAX = 0.1
DELTA_DEFAULT = 1e-5
#: What the workspace keeps of a DP release for the page's "Last release" card
#: (:class:`core.workspace.model.ReleaseResult`): most histogram bins (the numeric histogram's
#: own maximum), and most characters of their labels, or of a mode's category, together. A
#: larger histogram keeps its first bins and says how many were released.
DP_KEPT_BINS = 1_000
DP_KEPT_CHARS = 100_000
#: Public regularization strength Lambda of the DP logistic regression (core.models): default
#: and range. A setting chosen without looking at the data; its module docstring says why 30.
MODEL_REGULARIZATION_DEFAULT = 30.0
MODEL_REGULARIZATION_MIN = 0.01
MODEL_REGULARIZATION_MAX = 10_000.0

# --- risk ----------------------------------------------------------------------------------
RISK_THRESHOLD_DEFAULT = 0.2
K_MIN = 2
K_MAX = 100
#: Most QI subsets the distinction/separation view evaluates (sum of C(q, s), s <= max size).
RISK_MAX_SUBSETS = 256
#: Largest QI subset size offered by the subset view.
RISK_SUBSET_SIZE_MAX = 4
#: Rows shown in the riskiest-records table.
RISK_TABLE_ROWS = 50
#: Default l for recursive (c, l)-diversity.
RISK_RECURSIVE_L_DEFAULT = 2
#: SUDA2: default largest MSU size offered by the page (the core default searches all sizes,
#: as sdcMicro), most QI subsets one search may visit (sum of C(q, k), k <= max size), and
#: the default DIS sampling fraction (sdcMicro's DisFraction).
SUDA_MAX_SIZE_DEFAULT = 4
SUDA_MAX_SUBSETS = 1_023
SUDA_DIS_FRACTION_DEFAULT = 0.01
#: Rows x column subsets up to which the risk page runs SUDA2 at once; above it a switch
#: starts it (measured: Adult 32,561 rows x 162 subsets in about 0.05 s; 1,000,000 rows x
#: 162 subsets in about 1.3 s; see benchmarks/suda_bench.py).
SUDA_EAGER_WORK = 20_000_000
#: Rows x quasi-identifiers up to which the risk page computes its regrouping sections
#: (leave-one-out, subset scores) at once; above it they wait for a switch (about 1 s on
#: 2 cores at this size; 1,000,000 rows x 10 QIs take several seconds).
RISK_EAGER_CELLS = 2_000_000
#: Rows of the labelled sample on which the Masking page estimates the utility change
#: (association matrices) of larger tables.
MASKING_UTILITY_SAMPLE_ROWS = 50_000

# --- encryption ----------------------------------------------------------------------------
#: scrypt work factor (log2 N) for passphrase encryption: tests may go as low as the minimum;
#: files are written with the default; decryption refuses anything above the maximum.
SCRYPT_WORK_FACTOR_MIN = 10
SCRYPT_WORK_FACTOR_DEFAULT = 17
SCRYPT_WORK_FACTOR_MAX = 20
#: Plaintext bytes per encrypted chunk (measured: 1 MiB is the fastest size with pycryptodome;
#: see benchmarks/crypto_bench.py). Any power of two from 2**16 to 2**24 decrypts.
ENCRYPTION_CHUNK_LOG2 = 20
ENCRYPTION_CHUNK_LOG2_MIN = 16
ENCRYPTION_CHUNK_LOG2_MAX = 24
#: zxcvbn score (0-4) a passphrase needs before the Export page calls it strong enough.
PASSPHRASE_MIN_SCORE = 3

# --- hardening (masking, pseudonymization, suppression) -----------------------------------
#: Shortest accepted pseudonymization key, in bytes (a generated key has 32).
PSEUDONYM_KEY_MIN_BYTES = 16
#: Hex characters kept from an HMAC-SHA256 token (4 bits each).
PSEUDONYM_LENGTH_MIN = 8
PSEUDONYM_LENGTH_MAX = 64
PSEUDONYM_LENGTH_DEFAULT = 16
#: Rows above which microaggregation (MDAV, O(n^2 / k)) is refused in the live page.
MICROAGGREGATION_MAX_ROWS = 200_000

# --- correlations and leakage --------------------------------------------------------------
#: Fewest complete rows a pair needs before a correlation or association is computed.
CORRELATION_MIN_PAIRS = 3
#: Significance level: cells whose BH-adjusted p-value is above it are greyed out.
CORRELATION_ALPHA_MIN = 0.001
CORRELATION_ALPHA_MAX = 0.2
CORRELATION_ALPHA_DEFAULT = 0.05
#: Level of the Fisher-z confidence intervals.
CORRELATION_CONFIDENCE_DEFAULT = 0.95
#: Row sample offered for a labelled estimate on large tables.
CORRELATION_SAMPLE_MIN = 1_000
CORRELATION_SAMPLE_DEFAULT = 100_000
#: Rows above which the page suggests the sample estimate for Kendall.
CORRELATION_SAMPLE_SUGGEST_ROWS = 2_000_000
#: Quantile bins for numeric columns in mutual information and best-guess accuracy.
NMI_BINS = 10
#: Categorical columns whose distinct values exceed this share of rows are near-unique.
HIGH_CARDINALITY_SHARE = 0.5
#: Columns of the leakage ranking that get the best-guess accuracy.
LEAKAGE_TOP_DEFAULT = 5
#: Association or lift at or above which a column is flagged as a proxy.
PROXY_THRESHOLD = 0.5
#: Points drawn in the drill-down scatter (a labelled uniform sample above this).
DRILLDOWN_MAX_POINTS = 5_000

# --- DP microdata preview ------------------------------------------------------------------
#: Rows of the uniform random sample that stands in for larger tables in the microdata curve.
MICRODATA_SAMPLE_ROWS = 5_000
#: ε points (log-spaced over [EPSILON_MIN, EPSILON_MAX]) of the microdata curve.
MICRODATA_CURVE_POINTS = 13
# --- export build estimate -----------------------------------------------------------------
#: Rows from which the Export page shows, before the click, an estimate of the download's
#: size and build time (the download is built on click, with only a spinner on the button).
EXPORT_ESTIMATE_MIN_ROWS = 200_000
#: Rows serialized (evenly spaced over the table) to make that estimate.
EXPORT_ESTIMATE_SAMPLE_ROWS = 20_000
#: Rows of that sample for Parquet, which is written about fifteen times faster than CSV
#: and whose size grows less than linearly (dictionaries): up to here the size is exact.
EXPORT_ESTIMATE_PARQUET_SAMPLE_ROWS = 1_000_000

# --- model weights -------------------------------------------------------------------------
#: Largest weights file read (safetensors, .npz, ONNX), in bytes (checked before reading).
WEIGHTS_MAX_FILE_BYTES = _setting("WEIGHTS_MAX_FILE_BYTES", 4 * 2**30)
#: Largest safetensors JSON header, in bytes, checked before the header is read.
WEIGHTS_MAX_HEADER_BYTES = _setting("WEIGHTS_MAX_HEADER_BYTES", 8 * 2**20)
#: Most tensors in one weights file, and most dimensions of one tensor.
WEIGHTS_MAX_TENSORS = _setting("WEIGHTS_MAX_TENSORS", 100_000)
WEIGHTS_MAX_NDIM = 8
#: Largest tensor a compressed file may expand to when read back, in bytes.
WEIGHTS_MAX_TENSOR_BYTES = _setting("WEIGHTS_MAX_TENSOR_BYTES", 4 * 2**30)
#: Largest ONNX file read whole (protobuf has no lazy reader), in bytes.
WEIGHTS_MAX_ONNX_BYTES = _setting("WEIGHTS_MAX_ONNX_BYTES", 2 * 2**30)
#: Bins of a tensor's histogram: default and most.
WEIGHTS_HISTOGRAM_BINS = 60
WEIGHTS_HISTOGRAM_MAX_BINS = 1_000
#: Largest weights file the Model page sweeps (20 compressions, each written and read back).
WEIGHTS_SWEEP_MAX_BYTES = _setting("WEIGHTS_SWEEP_MAX_BYTES", 64 * 2**20)
