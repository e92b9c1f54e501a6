"""Models trained on a table: utility, membership inference and DP training.

The parts: :mod:`core.models.features` (a table and a target column to a frozen numeric
encoding), :mod:`core.models.linear` (L2 logistic regression, L-BFGS),
:mod:`core.models.mlp` (one-hidden-layer perceptron, Adam), :mod:`core.models.evaluate`
(accuracy, AUC, majority baseline, per-record loss), :mod:`core.models.membership` (the
loss-threshold membership inference attack of Yeom et al. and the epsilon-DP advantage
bounds), :mod:`core.models.dp_logistic` (objective and output perturbation of Chaudhuri,
Monteleoni & Sarwate), :mod:`core.models.leakage` (DP training swept over epsilon and the
released DP model, on a public hashed encoding) and :mod:`core.models.saved` (safetensors
weights with a JSON layer description, and the NumPy forward pass). Import from ``core.models``.
"""

from __future__ import annotations

from core.models.dp_logistic import (
    DP_REGULARIZATION,
    DPLogisticModel,
    clip_rows,
    dp_logistic_proba,
    dp_logistic_regression,
    l2_laplace_noise,
    objective_perturbation_params,
    output_perturbation_rate,
)
from core.models.evaluate import accuracy, auc, log_loss, majority_baseline
from core.models.features import FeatureSpec, design, fit_features, spec_from_dict, targets
from core.models.leakage import (
    SWEEP_EPSILONS,
    DPModelRelease,
    DPSweep,
    SweepPoint,
    binary_columns,
    dp_model_release,
    dp_sweep,
    public_design,
)
from core.models.linear import LogisticModel, fit_logistic, logistic_objective, predict_proba
from core.models.membership import (
    MODELS,
    AttackResult,
    MembershipReport,
    best_threshold_attack,
    dp_advantage_bound,
    loss_threshold_attack,
    mean_interval,
    membership_risk,
    yeom_advantage_bound,
)
from core.models.mlp import MLPModel, fit_mlp, mlp_proba
from core.models.saved import SavedModel, forward, load_model, save_model

__all__ = [
    "DP_REGULARIZATION",
    "MODELS",
    "SWEEP_EPSILONS",
    "AttackResult",
    "DPLogisticModel",
    "DPModelRelease",
    "DPSweep",
    "FeatureSpec",
    "LogisticModel",
    "MLPModel",
    "MembershipReport",
    "SavedModel",
    "SweepPoint",
    "accuracy",
    "auc",
    "best_threshold_attack",
    "binary_columns",
    "clip_rows",
    "design",
    "dp_advantage_bound",
    "dp_logistic_proba",
    "dp_logistic_regression",
    "dp_model_release",
    "dp_sweep",
    "fit_features",
    "fit_logistic",
    "fit_mlp",
    "forward",
    "l2_laplace_noise",
    "load_model",
    "log_loss",
    "logistic_objective",
    "loss_threshold_attack",
    "majority_baseline",
    "mean_interval",
    "membership_risk",
    "mlp_proba",
    "objective_perturbation_params",
    "output_perturbation_rate",
    "predict_proba",
    "public_design",
    "save_model",
    "spec_from_dict",
    "targets",
    "yeom_advantage_bound",
]
