"""Train the shipped Adult models: logistic regression and a one-hidden-layer MLP.

Both predict ``income`` (positive class ``>50K``) from every other column of the built-in
Adult sample except ``fnlwgt`` (a Census weight, not an attribute of the person). The split
is a seeded rule: ``numpy.random.default_rng(SEED).permutation(32561)``, the first 20 % of
it (sorted) is the test set; ``data/models/adult-split.json`` records the rule and the
SHA-256 of the test indices (little-endian int64). The feature encoding is fitted on the
training rows only.

Run from the repository root::

    python scripts/train_adult_model.py            # writes data/models/adult-*.{safetensors,json}

``tests/test_models_saved.py`` retrains with :func:`train` and checks the shipped weights.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core import samples  # noqa: E402
from core.models import (  # noqa: E402
    accuracy,
    auc,
    design,
    fit_features,
    fit_logistic,
    fit_mlp,
    majority_baseline,
    mlp_proba,
    predict_proba,
    save_model,
    targets,
)

SEED = 20_241_130
TEST_FRACTION = 0.2
TARGET = "income"
DROP = ("fnlwgt",)
L2 = 1e-3
MLP = {"hidden": 16, "epochs": 5, "batch_size": 256, "learning_rate": 0.005, "l2": 1e-4}
OUT = ROOT / "data" / "models"


def split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and test row indices of the seeded rule (module docstring)."""
    perm = np.random.default_rng(SEED).permutation(n)
    n_test = int(round(TEST_FRACTION * n))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def _metrics(y_tr: np.ndarray, y_te: np.ndarray, p_tr: np.ndarray, p_te: np.ndarray) -> dict:
    return {
        "train_accuracy": accuracy(y_tr, p_tr),
        "test_accuracy": accuracy(y_te, p_te),
        "test_auc": auc(y_te, p_te),
        "majority_baseline": majority_baseline(y_tr, y_te),
    }


def train() -> dict[str, Any]:
    """Train both models; returns the split record and ``{name: (tensors, description)}``."""
    df = samples.adult().frame
    tr, te = split(len(df))
    train_df, test_df = df.iloc[tr], df.iloc[te]
    columns = [c for c in df.columns if c != TARGET and c not in DROP]
    spec = fit_features(train_df, TARGET, columns=columns)
    X_tr, X_te = design(spec, train_df), design(spec, test_df)
    y_tr, y_te = targets(spec, train_df), targets(spec, test_df)
    d = X_tr.shape[1]
    features = spec.to_dict()
    record = {
        "rule": "numpy.random.default_rng(seed).permutation(n_rows); first round(test_fraction"
        " * n_rows) entries, sorted, are the test rows",
        "seed": SEED,
        "test_fraction": TEST_FRACTION,
        "n_rows": len(df),
        "n_train": int(tr.size),
        "n_test": int(te.size),
        "test_indices_sha256": hashlib.sha256(te.astype("<i8").tobytes()).hexdigest(),
    }
    logistic = fit_logistic(X_tr, y_tr, l2=L2)
    lr_tensors = {
        "dense.weight": logistic.weights[None, :].astype(np.float32),
        "dense.bias": np.array([logistic.intercept], dtype=np.float32),
    }
    lr_desc = {
        "task": f"P({TARGET} = {spec.labels[1]})",
        "features": features,
        "layers": [
            {
                "type": "dense",
                "weight": "dense.weight",
                "bias": "dense.bias",
                "in": d,
                "out": 1,
                "activation": "sigmoid",
            }
        ],
        "training": {
            "model": "logistic regression",
            "l2": L2,
            "optimizer": "L-BFGS-B",
            "split": "adult-split.json",
        },
        "metrics": _metrics(
            y_tr, y_te, predict_proba(logistic, X_tr), predict_proba(logistic, X_te)
        ),
    }
    mlp = fit_mlp(X_tr, y_tr, seed=SEED, **MLP)  # type: ignore[arg-type]
    h = MLP["hidden"]
    mlp_tensors = {
        "hidden.weight": mlp.w1.T.astype(np.float32),
        "hidden.bias": mlp.b1.astype(np.float32),
        "output.weight": mlp.w2[None, :].astype(np.float32),
        "output.bias": np.array([mlp.b2], dtype=np.float32),
    }
    mlp_desc = {
        "task": f"P({TARGET} = {spec.labels[1]})",
        "features": features,
        "layers": [
            {
                "type": "dense",
                "weight": "hidden.weight",
                "bias": "hidden.bias",
                "in": d,
                "out": h,
                "activation": "relu",
            },
            {
                "type": "dense",
                "weight": "output.weight",
                "bias": "output.bias",
                "in": h,
                "out": 1,
                "activation": "sigmoid",
            },
        ],
        "training": {
            "model": "one-hidden-layer MLP",
            "optimizer": "Adam",
            "seed": SEED,
            **MLP,
            "split": "adult-split.json",
        },
        "metrics": _metrics(y_tr, y_te, mlp_proba(mlp, X_tr), mlp_proba(mlp, X_te)),
    }
    return {
        "split": record,
        "models": {"adult-logistic": (lr_tensors, lr_desc), "adult-mlp": (mlp_tensors, mlp_desc)},
    }


def main() -> int:
    """Train and write the files; print the test metrics."""
    result = train()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "adult-split.json").write_text(json.dumps(result["split"], indent=2) + "\n")
    for name, (tensors, desc) in result["models"].items():
        save_model(OUT, name, tensors, desc)
        m = desc["metrics"]
        print(
            f"{name}: test accuracy {m['test_accuracy']:.4f}, AUC {m['test_auc']:.4f}, "
            f"baseline {m['majority_baseline']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
