"""Find a safe table automatically: hierarchies, privacy models, quality models, search.

``core.anonymize`` does what ARX does for full-domain generalization: given a hierarchy per
quasi-identifier, privacy models and a suppression limit, it searches the lattice of
hierarchy levels for the transformation with the least information loss.

- :mod:`~core.anonymize.hierarchy`: ARX hierarchy CSV, builders, validation, integer codes;
- :mod:`~core.anonymize.models`: k-anonymity, l-diversity, t-closeness, risk thresholds;
- :mod:`~core.anonymize.metrics`: ARX's quality models (loss, DM, DM*, height, entropy, AECS);
- :mod:`~core.anonymize.search`: the optimal search, the heuristic, recipe steps.
"""

from __future__ import annotations

from core.anonymize.hierarchy import (
    NULL,
    EncodedHierarchy,
    Hierarchy,
    date_hierarchy,
    encode_hierarchy,
    hierarchy_to_csv,
    interval_hierarchy,
    mapping_hierarchy,
    read_hierarchy,
    redaction_hierarchy,
    validate_hierarchy,
    write_hierarchy,
)
from core.anonymize.metrics import Metric
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
from core.anonymize.search import (
    HEURISTIC_LABEL,
    MAX_LATTICE_NODES,
    OPTIMAL_LABEL,
    AnonymizationResult,
    CheckedNode,
    Transformation,
    anonymize,
    evaluate,
    output_frame,
    prepare,
    to_recipe_steps,
)

__all__ = [
    "HEURISTIC_LABEL",
    "MAX_LATTICE_NODES",
    "NULL",
    "OPTIMAL_LABEL",
    "AnonymizationResult",
    "AverageRisk",
    "CheckedNode",
    "DistinctLDiversity",
    "EncodedHierarchy",
    "EntropyLDiversity",
    "EqualTCloseness",
    "Hierarchy",
    "KAnonymity",
    "MaxRisk",
    "Metric",
    "OrderedTCloseness",
    "PrivacyModel",
    "RecursiveCLDiversity",
    "Transformation",
    "anonymize",
    "date_hierarchy",
    "encode_hierarchy",
    "evaluate",
    "hierarchy_to_csv",
    "interval_hierarchy",
    "mapping_hierarchy",
    "output_frame",
    "prepare",
    "read_hierarchy",
    "redaction_hierarchy",
    "to_recipe_steps",
    "validate_hierarchy",
    "write_hierarchy",
]
