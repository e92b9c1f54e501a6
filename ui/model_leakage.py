"""The Model page's "Does a model leak?" tab: utility and membership advantage of a model
trained on the loaded table, original and hardened, and of DP-trained models over ε.

:func:`render` draws into the current container. Settings live in the workspace's ``model``
section (target, classifier, seed, ε of the release, its public regularization strength Λ,
whether to run). Nothing is trained
until the user switches the measurement on (every tab of a page runs on each visit, so the
Weights tab must not wait for this one). Heavy work is cached by the dataset's
token, the hardened table's token, the target, the classifier and the seed, never by a
frame's content; it runs under a spinner.

Privacy accounting: the figures of this tab (utility, measured advantage, the ε sweep) are
computed on the records themselves for the steward's screen; no ε covers them, so they are
not charged (see :func:`core.models.dp_sweep`) and they are not to be shared as private
results. The one thing released is the DP model trained at the chosen ε: that training is
charged to the table's budget first (:func:`ui.state.release`) and refused when it would
overspend. Its noise depends on ε and the public Λ only, never on the row count (which the
ledger's add/remove relation keeps private; :mod:`core.models.dp_logistic`); the sweep uses
the same Λ.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core import dp_form, limits
from core.errors import PrivLensError
from core.models import (
    DP_REGULARIZATION,
    MODELS,
    SWEEP_EPSILONS,
    DPModelRelease,
    DPSweep,
    MembershipReport,
    binary_columns,
    dp_model_release,
    dp_sweep,
    membership_risk,
)
from core.roles import Role
from ui import state
from ui.charts import leakage as charts
from ui.feedback import show_error, show_warnings
from ui.text import md

MODEL_LABELS = {"logistic": "Logistic regression", "mlp": "Neural network (one hidden layer)"}
#: Random splits behind every interval.
REPEATS = 5
#: Random splits of each point of the ε sweep.
SWEEP_REPEATS = 3
#: ``st.session_state`` key of the last released model (dataset token, target, release).
LAST = "model_leak_last"


@st.cache_data(max_entries=16, show_spinner=False)
def cached_targets(_df: pd.DataFrame, token: str) -> tuple[str, ...]:
    """The binary columns of the table named by ``token``."""
    return binary_columns(_df)


@st.cache_data(max_entries=32, show_spinner=False)
def cached_membership(
    _df: pd.DataFrame, token: str, target: str, model: str, seed: int
) -> MembershipReport:
    """Utility and membership advantage of ``model`` on the table named by ``token``."""
    return membership_risk(_df, target, repeats=REPEATS, seed=seed, model=model)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_sweep(
    _df: pd.DataFrame, token: str, target: str, seed: int, regularization: float
) -> DPSweep:
    """The seeded ε sweep of DP logistic regression on the table named by ``token``."""
    return dp_sweep(
        _df,
        target,
        epsilons=SWEEP_EPSILONS,
        repeats=SWEEP_REPEATS,
        regularization=regularization,
        seed=seed,
        source=seed,
    )


def _default_target(targets: tuple[str, ...]) -> str:
    sensitive = [c for c in state.role_columns(Role.SENSITIVE) if c in targets]
    return sensitive[0] if sensitive else targets[-1]


def _ci(pair: tuple[float, float]) -> str:
    return f"[{pair[0]:.3f}, {pair[1]:.3f}]"


def report_table(reports: dict[str, MembershipReport]) -> pd.DataFrame:
    """One column per table (original, hardened), one row per figure."""
    rows = {
        "Test accuracy": {k: f"{r.accuracy:.4f}" for k, r in reports.items()},
        "Accuracy interval": {k: _ci(r.accuracy_ci) for k, r in reports.items()},
        "Test AUC": {k: f"{r.auc:.4f}" for k, r in reports.items()},
        "Majority baseline": {k: f"{r.baseline:.4f}" for k, r in reports.items()},
        "Training accuracy": {k: f"{r.train_accuracy:.4f}" for k, r in reports.items()},
        "Membership advantage (TPR − FPR)": {k: f"{r.advantage:+.4f}" for k, r in reports.items()},
        "Advantage interval": {k: _ci(r.advantage_ci) for k, r in reports.items()},
        "Advantage, best threshold": {k: f"{r.best_advantage:+.4f}" for k, r in reports.items()},
    }
    return pd.DataFrame(rows).T


def _settings(df: pd.DataFrame) -> tuple[str, str, int] | None:
    targets = cached_targets(df, state.dataset_id())
    if not targets:
        st.info(
            "No column of this table has exactly two values, so there is nothing for a "
            "classifier to predict. Recode a yes/no column on the Masking page or load "
            "another table."
        )
        return None
    c1, c2, c3 = st.columns([2, 2, 1])
    target = c1.selectbox(
        "Target column (two values)",
        targets,
        **state.widget(
            "model.options.target",
            default=_default_target(targets),
            options=targets,
            initial="index",
        ),
    )
    model = c2.radio(
        "Model",
        MODELS,
        format_func=MODEL_LABELS.__getitem__,
        horizontal=True,
        **state.widget(
            "model.options.classifier", default="logistic", options=MODELS, initial="index"
        ),
    )
    seed = c3.number_input(
        "Seed of the splits",
        min_value=0,
        max_value=10_000,
        step=1,
        **state.widget("model.options.seed", default=0, initial="value"),
    )
    return str(target), str(model), int(seed)


def _hardened(target: str, model: str, seed: int) -> tuple[MembershipReport | None, str | None]:
    """The hardened table's report, or None and why there is none."""
    try:
        h = state.hardening()
    except PrivLensError as exc:
        return None, f"The current recipe does not apply to this table: {exc}"
    if h is None or not state.recipe().steps:
        return None, "No hardening recipe yet: build one on the Masking page to compare."
    try:
        # The hardened table's token, not the recipe's text: the same recipe can give
        # another table (fresh noise, a new pseudonymization key).
        return cached_membership(h.result.frame, h.token, target, model, seed), None
    except PrivLensError as exc:
        return None, f"The hardened table: {exc}"


def _utility(df: pd.DataFrame, target: str, model: str, seed: int) -> MembershipReport | None:
    st.subheader("Utility and membership inference: original and hardened")
    with st.spinner("Training on 5 random splits of each table…"):
        try:
            original = cached_membership(df, state.dataset_id(), target, model, seed)
        except PrivLensError as exc:
            show_error(exc)
            return None
        hardened, why = _hardened(target, model, seed)
    reports = {"Original": original} | ({"Hardened": hardened} if hardened else {})
    st.dataframe(report_table(reports), width="stretch", key="model_leak_table")
    if why:  # an error's text may name a column of the file: shown escaped
        st.caption(md(why))
    st.caption(
        f"{MODEL_LABELS[model]} trained on {REPEATS} random half/half splits ("
        f"{original.n_train:,} members, {original.n_test:,} non-members). The attack of "
        "Yeom et al. (2018) guesses “member” when a record's loss is at most the mean "
        "training loss; its advantage TPR − FPR is 0 when it does no better than a coin. "
        f"Intervals: {100 * original.confidence:.0f}% Student-t over the splits."
    )
    show_warnings(original.warnings)
    return original


def _release(df: pd.DataFrame, target: str, epsilon: float, regularization: float) -> None:
    ledger = state.ledger()
    if ledger is None:
        ws = state.workspace()
        st.info(
            "Releasing a DP model spends the table's privacy budget, and this table has none yet."
        )
        if st.button(
            f"Start a budget of ε = {ws.dp.total_epsilon:g}, δ = {ws.dp.total_delta:g}",
            key="model_leak_budget",
        ):
            state.start_budget(ws.dp.total_epsilon, ws.dp.total_delta)
            st.rerun()
        return
    why = dp_form.budget_blocker(ledger, epsilon=epsilon, delta=0.0)
    st.caption(
        f"Budget of the table: ε {ledger.composition().epsilon:.4g} spent of "
        f"{ledger.total_epsilon:g}."
    )
    clicked = st.button(
        f"Train and release the DP model (spends ε = {epsilon:g})",
        key="model_leak_release",
        type="primary",
        disabled=why is not None,
    )
    if why is not None:
        st.caption(why)
    if clicked:
        try:
            released = state.release(
                lambda: dp_model_release(
                    df, target, epsilon=epsilon, regularization=regularization
                ),
                query="model",
                column=target,
                mechanism="objective perturbation",
                epsilon=epsilon,
            )
        except PrivLensError as exc:
            show_error(exc)
        else:
            st.session_state[LAST] = (state.dataset_id(), target, released)
            st.rerun()


def _last_release(target: str) -> None:
    last = st.session_state.get(LAST)
    if not (isinstance(last, tuple) and last[0] == state.dataset_id() and last[1] == target):
        return
    r: DPModelRelease = last[2]
    st.success(
        f"Released: ε = {r.model.epsilon_spent:g} DP logistic regression, Λ = "
        f"{r.model.regularization:g} ({r.buckets} hashed features and an intercept feature). "
        f"Any membership attacker's advantage against it is at most {r.bound:.3f}."
    )
    blob = {
        "model": "dp-logistic-regression",
        "method": r.model.method,
        "epsilon": r.model.epsilon_spent,
        "objective": "sum of logistic losses + (regularization / 2) * ||weights||^2",
        "regularization": r.model.regularization,
        "encoding": {"kind": "hashed", "buckets": r.buckets, "intercept_feature": 1.0},
        "weights": [float(w) for w in r.model.weights],
    }
    st.download_button(
        "Download the released weights (JSON)",
        json.dumps(blob, indent=1),
        file_name="dp_model.json",
        mime="application/json",
        key="model_leak_download",
    )


def _dp(df: pd.DataFrame, target: str, seed: int, original: MembershipReport | None) -> None:
    st.subheader("Trained with differential privacy")
    c1, c2 = st.columns([3, 1])
    epsilon = c1.slider(
        "ε of the released model",
        limits.EPSILON_MIN,
        limits.EPSILON_MAX,
        step=0.01,
        **state.widget("model.options.epsilon", default=limits.EPSILON_DEFAULT, initial="value"),
    )
    regularization = c2.number_input(
        "Regularization Λ (public)",
        min_value=limits.MODEL_REGULARIZATION_MIN,
        max_value=limits.MODEL_REGULARIZATION_MAX,
        step=1.0,
        format="%g",
        help="Public: chosen without looking at the data. Larger Λ: less noise, more shrinkage.",
        **state.widget("model.options.regularization", default=DP_REGULARIZATION, initial="value"),
    )
    lam = float(regularization)
    with st.spinner("Simulating DP training over ε…"):
        try:
            s = cached_sweep(df, state.dataset_id(), target, seed, lam)
        except PrivLensError as exc:
            show_error(exc)
            return
    nonprivate = original.accuracy if original and original.model == "logistic" else None
    st.plotly_chart(charts.sweep(s, epsilon=float(epsilon), nonprivate_accuracy=nonprivate))
    st.caption(
        "Logistic regression trained by objective perturbation (Chaudhuri, Monteleoni & "
        f"Sarwate, 2011) with regularization Λ = {lam:g} on a public hashed encoding, "
        f"{s.repeats} random splits per ε. Its noise depends on ε and Λ only, not on the "
        "number of rows. The dotted curve is the largest advantage any "
        "attacker can have against an ε-DP model, (e^ε − 1)/(e^ε + 1). This curve is a "
        "seeded simulation on your table for your eyes: it is not a release and spends no "
        "budget, and its figures are not private. Only the model released below is."
    )
    _release(df, target, float(epsilon), lam)
    _last_release(target)


def render() -> None:
    """Draw the tab: settings, original vs hardened figures, the DP sweep and release."""
    df = state.require_dataset()
    chosen = _settings(df)
    if chosen is None:
        return
    target, model, seed = chosen
    on = st.toggle(
        "Train the models and attack them",
        help="Trains each model on several random splits of the table: a few seconds on a "
        "table of tens of thousands of rows, then kept for this table and these settings.",
        **state.widget("model.options.run", default=False, initial="value"),
    )
    if not on:
        st.caption(
            "Switch on to measure the models' utility and membership advantage on the "
            "original and the hardened table, and what training with differential privacy "
            "changes."
        )
        return
    original = _utility(df, target, model, seed)
    _dp(df, target, seed, original)
