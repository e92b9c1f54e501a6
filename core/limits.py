"""Ranges and limits used by both the pages (slider bounds) and the core (validation).

Keeping them in one place means a slider can never offer a value the core refuses.
"""

from __future__ import annotations

# --- data intake ---------------------------------------------------------------------------
#: Largest file the loader accepts, in MiB. Keep in step with ``server.maxUploadSize`` in
#: ``.streamlit/config.toml`` (which Streamlit enforces before our code sees the bytes).
MAX_UPLOAD_MB = 500
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 2**20
#: Bytes sniffed to detect the delimiter.
SNIFF_BYTES = 64 * 1024
#: Rows shown in data previews.
PREVIEW_ROWS = 200

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

# --- differential privacy ------------------------------------------------------------------
EPSILON_MIN = 0.01
EPSILON_MAX = 10.0
EPSILON_DEFAULT = 1.0
DELTA_MIN = 1e-12
DELTA_MAX = 0.1
DELTA_DEFAULT = 1e-5

# --- risk ----------------------------------------------------------------------------------
RISK_THRESHOLD_DEFAULT = 0.2
K_MIN = 2
K_MAX = 100
