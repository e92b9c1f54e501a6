"""Compression settings of the Model page, the measured sweep of error against size, and the
shipped Adult models' accuracy on their recorded test split.

:class:`CompressionSettings` is what a user picks (a precision, a prune, a sparse layout);
:meth:`CompressionSettings.recipe` turns it into a :class:`~core.weights.WeightsRecipe`.
:func:`measure` writes the compressed file and measures it (bytes of the written file, error of
every tensor read back, and for a shipped model its test accuracy and AUC). :func:`sweep`
measures a grid of precisions × sparsities the same way, with the user's other settings.

The whole-model error of a point combines the tensors: ``‖x - x̂‖_F / ‖x‖_F`` over all
tensors together (``sqrt(Σ noise / Σ signal)``), the largest absolute error of any tensor, and
``10·log10(Σ signal / Σ noise)`` dB.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import WeightsError
from core.limits import WEIGHTS_SWEEP_MAX_BYTES
from core.weights.compress import Cast, Prune, Quantize, Sparsify, WeightsRecipe
from core.weights.intake import WeightsFile, WeightsSource, open_weights
from core.weights.metrics import CompressionReport, compress_weights

#: Precisions a tensor can be stored at, widest first.
PRECISIONS = ("float32", "float16", "bfloat16", "int8", "int4")
#: Precisions on the sweep's size axis (float16 stands for the 16-bit casts).
SWEEP_PRECISIONS = ("float32", "float16", "int8", "int4")
#: Sparsities of the sweep.
SWEEP_SPARSITIES = (0.0, 0.25, 0.5, 0.75, 0.9)
PRUNE_MODES = ("none", "sparsity", "threshold")
SCOPES = ("tensor", "global")
LAYOUTS = ("dense", "csr", "bitmask")
#: The shipped models, by name (``data/models/NAME.json``).
MODELS_DIR = Path(__file__).resolve().parents[2] / "data" / "models"
SHIPPED_MODELS = ("adult-logistic", "adult-mlp")


@dataclass(frozen=True, slots=True, kw_only=True)
class CompressionSettings:
    """The Model page's compression settings.

    ``precision``: ``float32`` (kept), ``float16``/``bfloat16`` (cast) or ``int8``/``int4``
    (quantized, ``symmetric`` or with a zero point, ``per_channel`` or per tensor).
    ``prune``: ``none``, ``sparsity`` (that share of the smallest magnitudes, per ``scope``)
    or ``threshold`` (every ``|x| < threshold``). ``layout``: how pruned tensors are stored
    (``dense`` keeps the zeros in the file).

    >>> CompressionSettings(precision="int4", prune="sparsity", sparsity=0.5).recipe().steps
    (Prune(sparsity=0.5, threshold=None, scope='tensor'), Quantize(bits=4, symmetric=True, \
per_channel=True), Sparsify(layout='csr'))
    """

    precision: str = "int8"
    symmetric: bool = True
    per_channel: bool = True
    prune: str = "none"
    sparsity: float = 0.5
    threshold: float = 0.0
    scope: str = "tensor"
    layout: str = "csr"

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("precision", self.precision, PRECISIONS),
            ("prune", self.prune, PRUNE_MODES),
            ("scope", self.scope, SCOPES),
            ("layout", self.layout, LAYOUTS),
        ):
            if value not in allowed:
                raise WeightsError(
                    f"Compression {name} must be one of {', '.join(allowed)}; got {value!r}."
                )
        self.recipe()  # the steps' own checks (sparsity in [0, 1), threshold >= 0)

    def recipe(self) -> WeightsRecipe:
        """The steps: prune (if any), quantize or cast (if not float32), sparsify (if pruned
        and not dense)."""
        steps: list[Any] = []
        if self.prune == "sparsity":
            steps.append(Prune(sparsity=float(self.sparsity), scope=self.scope))  # type: ignore[arg-type]
        elif self.prune == "threshold":
            steps.append(Prune(threshold=float(self.threshold), scope=self.scope))  # type: ignore[arg-type]
        if self.precision in ("int8", "int4"):
            bits = 8 if self.precision == "int8" else 4
            steps.append(
                Quantize(bits=bits, symmetric=self.symmetric, per_channel=self.per_channel)
            )
        elif self.precision in ("float16", "bfloat16"):
            steps.append(Cast(dtype=self.precision))  # type: ignore[arg-type]
        if self.prune != "none" and self.layout != "dense":
            steps.append(Sparsify(layout=self.layout))  # type: ignore[arg-type]
        return WeightsRecipe(steps=tuple(steps))


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepPoint:
    """One measured compression: file bytes, whole-model error and (shipped model) utility."""

    precision: str
    #: The sparsity asked for (0 without pruning, ``None`` for a threshold).
    sparsity: float | None
    #: Share of zeros in the tensors actually written.
    zero_share: float
    original_bytes: int
    written_bytes: int
    relative_error: float
    max_abs_error: float
    snr_db: float
    accuracy: float | None = None
    auc: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Measured:
    """The user's compression: its report per tensor, its point, the written file's bytes."""

    report: CompressionReport
    point: SweepPoint
    data: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """The grid of :data:`SWEEP_PRECISIONS` × :data:`SWEEP_SPARSITIES`, measured."""

    points: tuple[SweepPoint, ...]
    settings: CompressionSettings


# --- the shipped models' test split ------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelEvaluator:
    """A shipped model's layers and its recorded test split, encoded (``X``) with labels."""

    name: str
    layers: tuple[dict[str, Any], ...]
    X: np.ndarray
    y: np.ndarray

    def evaluate(self, wf: WeightsFile) -> tuple[float, float]:
        """Test ``(accuracy, AUC)`` of the model with the tensors of ``wf``."""
        from core.models import accuracy, auc
        from core.models.saved import forward

        tensors = {name: wf.tensor(name) for name in wf.names}
        p = forward(self.layers, tensors, self.X)
        return accuracy(self.y, p), auc(self.y, p)


def shipped_model_path(name: str) -> Path:
    """The weights file of a shipped model; a :class:`WeightsError` for an unknown name."""
    if name not in SHIPPED_MODELS:
        raise WeightsError(
            f"There is no shipped model of that name; pick one of {', '.join(SHIPPED_MODELS)}."
        )
    return MODELS_DIR / f"{name}.safetensors"


def shipped_evaluator(name: str) -> ModelEvaluator:
    """The evaluator of a shipped Adult model on the test rows of ``adult-split.json``.

    The split is rebuilt by the recorded rule and checked against the recorded digest of the
    test indices, so the accuracy shown is that of the rows the model never saw.
    """
    from core import samples
    from core.models import design, targets
    from core.models.saved import load_model

    path = shipped_model_path(name)
    model = load_model(path.with_suffix(".json"))
    record = json.loads((MODELS_DIR / "adult-split.json").read_text(encoding="utf-8"))
    df = samples.adult().frame
    if len(df) != record["n_rows"]:
        raise WeightsError(
            f"The Adult sample has {len(df):,} rows; the model's split was recorded on "
            f"{record['n_rows']:,}. Retrain with scripts/train_adult_model.py."
        )
    perm = np.random.default_rng(record["seed"]).permutation(len(df))
    test = np.sort(perm[: int(round(record["test_fraction"] * len(df)))])
    if hashlib.sha256(test.astype("<i8").tobytes()).hexdigest() != record["test_indices_sha256"]:
        raise WeightsError(
            "The rebuilt test split does not match the recorded one. Retrain with "
            "scripts/train_adult_model.py."
        )
    test_df = df.iloc[test]
    return ModelEvaluator(
        name=name,
        layers=tuple(model.description["layers"]),
        X=design(model.features, test_df),
        y=targets(model.features, test_df),
    )


# --- measure -------------------------------------------------------------------------------------


def _signals(src: WeightsFile) -> dict[str, float]:
    """``Σ x²`` of every tensor of the original file (float64)."""
    out = {}
    for name, x in src.tensors():
        v = x.astype(np.float64).reshape(-1)
        out[name] = float(v @ v) if v.size else 0.0
    return out


def _point(
    report: CompressionReport,
    signals: dict[str, float],
    settings: CompressionSettings,
    utility: tuple[float, float] | None,
) -> SweepPoint:
    signal = noise = 0.0
    infinite = False
    for t in report.tensors:
        s = signals[t.name]
        signal += s
        if s > 0:
            noise += t.relative_error**2 * s
        elif t.max_abs_error > 0:
            infinite = True  # a zero tensor that changed: no finite relative error
    if infinite:
        rel, snr = math.inf, -math.inf
    elif noise == 0:
        rel, snr = 0.0, math.inf
    else:
        rel = math.sqrt(noise / signal) if signal else math.inf
        snr = 10 * math.log10(signal / noise) if signal else -math.inf
    parameters = sum(t.parameters for t in report.tensors)
    pruned = sum(t.sparsity * t.parameters for t in report.tensors)
    return SweepPoint(
        precision=settings.precision,
        sparsity={"none": 0.0, "sparsity": settings.sparsity}.get(settings.prune),
        zero_share=pruned / parameters if parameters else 0.0,
        original_bytes=report.original_bytes,
        written_bytes=report.written_bytes,
        relative_error=rel,
        max_abs_error=max((t.max_abs_error for t in report.tensors), default=0.0),
        snr_db=snr,
        accuracy=None if utility is None else utility[0],
        auc=None if utility is None else utility[1],
    )


def _run(
    src: WeightsFile,
    settings: CompressionSettings,
    signals: dict[str, float],
    evaluator: ModelEvaluator | None,
) -> tuple[CompressionReport, SweepPoint, bytes]:
    report, data = compress_weights(src, settings.recipe())
    utility = (
        evaluator.evaluate(open_weights(data, name="compressed.safetensors"))
        if evaluator is not None
        else None
    )
    return report, _point(report, signals, settings, utility), data


def measure(
    src: WeightsSource,
    settings: CompressionSettings,
    *,
    evaluator: ModelEvaluator | None = None,
    name: str | None = None,
) -> Measured:
    """Compress ``src`` with ``settings``; the report, the whole-model point and the file.

    The compressed file is built and read back in memory: nothing is written to a disk.

    Parameters
    ----------
    src : path-like or bytes-like
        A weights file :func:`core.weights.open_weights` reads, by path or as its bytes.
    settings : CompressionSettings
        What to do.
    evaluator : ModelEvaluator, optional
        Adds test accuracy and AUC (a shipped model's).
    name : str, optional
        The file's name when ``src`` is bytes.

    Returns
    -------
    Measured
        ``point.zero_share`` is the share of zeros actually in the written tensors.

    Raises
    ------
    WeightsError
        An unreadable input, or a tensor a step cannot take.
    """
    wf = open_weights(src, name=name)
    report, point, data = _run(wf, settings, _signals(wf), evaluator)
    return Measured(report=report, point=point, data=data)


def sweep(
    src: WeightsSource,
    settings: CompressionSettings,
    *,
    evaluator: ModelEvaluator | None = None,
    name: str | None = None,
    precisions: tuple[str, ...] = SWEEP_PRECISIONS,
    sparsities: tuple[float, ...] = SWEEP_SPARSITIES,
) -> Sweep:
    """Measure every precision × sparsity, keeping the other settings of ``settings``.

    A sparsity of 0 prunes nothing; others prune by magnitude with ``settings.scope`` and store
    pruned tensors in ``settings.layout``. When ``settings.precision`` is ``bfloat16`` it
    stands in for ``float16`` on the grid. Each point is built and measured in memory as
    :func:`measure` does (``src`` and ``name`` as there).

    Raises
    ------
    WeightsError
        A file above ``WEIGHTS_SWEEP_MAX_BYTES``, or any error of :func:`measure`.
    """
    wf = open_weights(src, name=name)
    if wf.file_bytes > WEIGHTS_SWEEP_MAX_BYTES:
        raise WeightsError(
            f"The weights file has {wf.file_bytes:,} bytes, above the sweep's limit of "
            f"{WEIGHTS_SWEEP_MAX_BYTES:,} (WEIGHTS_SWEEP_MAX_BYTES): a sweep writes it "
            f"{len(precisions) * len(sparsities)} times. Compress it with one setting, or "
            "sweep from the command line."
        )
    signals = _signals(wf)
    points = []
    for precision in precisions:
        if precision == "float16" and settings.precision == "bfloat16":
            precision = "bfloat16"
        for sparsity in sparsities:
            s = replace(
                settings,
                precision=precision,
                prune="sparsity" if sparsity > 0 else "none",
                sparsity=float(sparsity),
            )
            points.append(_run(wf, s, signals, evaluator)[1])
    return Sweep(points=tuple(points), settings=settings)


def settings_from_options(options: dict[str, Any]) -> CompressionSettings:
    """Settings from a workspace section's ``options`` (missing entries take the defaults)."""
    names = CompressionSettings.__dataclass_fields__
    return CompressionSettings(**{k: v for k, v in options.items() if k in names})


__all__ = [
    "LAYOUTS",
    "PRECISIONS",
    "PRUNE_MODES",
    "SCOPES",
    "SHIPPED_MODELS",
    "SWEEP_PRECISIONS",
    "SWEEP_SPARSITIES",
    "CompressionSettings",
    "Measured",
    "ModelEvaluator",
    "Sweep",
    "SweepPoint",
    "measure",
    "settings_from_options",
    "shipped_evaluator",
    "shipped_model_path",
    "sweep",
]
