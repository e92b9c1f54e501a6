"""DP training swept over epsilon, the released DP model, its public encoding, and the MLP."""

import io
import json
import math

import numpy as np
import pandas as pd
import pytest

import core.models.dp_logistic as dp_logistic_module
from core.cli import main
from core.errors import ColumnError, InvalidParameterError
from core.models import (
    DP_REGULARIZATION,
    accuracy,
    best_threshold_attack,
    binary_columns,
    design,
    dp_logistic_proba,
    dp_model_release,
    dp_sweep,
    fit_features,
    fit_mlp,
    log_loss,
    loss_threshold_attack,
    membership_risk,
    mlp_proba,
    public_design,
    targets,
)
from core.models.leakage import _bucket


def _table(n, seed=0):
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    job = rng.choice(["a", "b", "c", "d"], n)
    score = (age - 45) / 10 + np.where(job == "a", 1.5, -0.5) + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "age": age,
            "job": job,
            "sex": rng.choice(["F", "M"], n),
            "y": np.where(score > 0, "yes", "no"),
        }
    )


@pytest.fixture(scope="module")
def table():
    return _table(800)


# --- the public encoding -----------------------------------------------------------------------


def test_public_encoding_tokens_by_hand():
    df = pd.DataFrame({"n": [0, 1, -3, 100, None], "t": ["a", " a ", None, "", "b"]})
    X = public_design(df, ["n", "t"], buckets=64)
    # numbers: sign and floor(4 log2(1 + |x|)): 0 -> +0, 1 -> +4, -3 -> -8, 100 -> +26
    want_n = ["+0", "+4", "-8", "+26", "<missing>"]
    want_t = ["a", "a", "<missing>", "<missing>", "b"]  # text stripped; blank is missing
    for i, (tn, tt) in enumerate(zip(want_n, want_t, strict=True)):
        row = np.zeros(64)
        row[_bucket("n", tn, 64)] += 1
        row[_bucket("t", tt, 64)] += 1
        assert X[i].tolist() == row.tolist()


def test_public_encoding_of_a_row_does_not_depend_on_the_other_rows(table):
    # No category list, mean or spread is read from the data: each row alone gives its row.
    X = public_design(table, ["age", "job", "sex"])
    for i in (0, 7, 500):
        assert (public_design(table.iloc[[i]], ["age", "job", "sex"])[0] == X[i]).all()
    assert (X.sum(axis=1) == 3).all()


def test_public_encoding_errors():
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(ColumnError, match="missing or duplicated"):
        public_design(df, ["a"])
    with pytest.raises(InvalidParameterError, match="at least 1 feature column"):
        public_design(df, [])
    with pytest.raises(InvalidParameterError, match="buckets"):
        public_design(df, ["a"], buckets=1)


def test_binary_columns():
    df = pd.DataFrame(
        {
            "two": ["x", "y", "x", None],
            "one": [1, 1, 1, 1],
            "three": [1, 2, 3, 1],
            "flag": [True, False, True, True],
            "gone": [None, None, None, None],
        }
    )
    assert binary_columns(df) == ("two", "flag")
    assert binary_columns(pd.DataFrame([[1, 2], [2, 1]], columns=["d", "d"])) == ()


# --- the sweep and the release -----------------------------------------------------------------


def _by_hand(df, target, epsilons, repeats, seed, source, regularization=DP_REGULARIZATION):
    """The sweep's pipeline written out: public design, clipping, splits, fits, attack."""
    spec = fit_features(df, target)
    y = targets(spec, df)
    X = dp_logistic_module.clip_rows(
        public_design(df, [c for c in df.columns if c != target]), intercept_feature=1.0
    )
    rng = np.random.default_rng(seed)
    src = dp_logistic_module.resolve_source(source)
    acc = {e: [] for e in epsilons}
    adv = {e: [] for e in epsilons}
    for _ in range(repeats):
        perm = rng.permutation(len(y))
        tr, te = perm[: len(y) // 2], perm[len(y) // 2 :]
        for e in epsilons:
            m = dp_logistic_module.dp_logistic_regression(
                X[tr], y[tr], epsilon=e, regularization=regularization, source=src
            )
            ptr, pte = dp_logistic_proba(m, X[tr]), dp_logistic_proba(m, X[te])
            acc[e].append(accuracy(y[te], pte))
            adv[e].append(
                loss_threshold_attack(log_loss(y[tr], ptr), log_loss(y[te], pte)).advantage
            )
    return acc, adv


def test_sweep_figures_equal_the_pipeline_by_hand(table):
    # a public regularization set by the user reaches every model of the sweep
    s = dp_sweep(table, "y", epsilons=(0.5, 5.0), repeats=3, seed=4, source=9, regularization=5.0)
    acc, adv = _by_hand(table, "y", (0.5, 5.0), 3, 4, 9, regularization=5.0)
    assert s.regularization == 5.0
    for p in s.points:
        assert p.accuracy == pytest.approx(np.mean(acc[p.epsilon]), abs=1e-12)
        assert p.advantage == pytest.approx(np.mean(adv[p.epsilon]), abs=1e-12)
        assert p.accuracy_ci[0] <= p.accuracy <= p.accuracy_ci[1]
        assert p.bound == pytest.approx(math.tanh(p.epsilon / 2))
    assert (s.n_train, s.n_test, s.repeats) == (400, 400, 3)


def _record_noise(monkeypatch):
    drawn = []
    real = dp_logistic_module.l2_laplace_noise

    def spy(d, *, beta, source):
        b = real(d, beta=beta, source=source)
        drawn.append(b / np.linalg.norm(b))
        return b

    monkeypatch.setattr(dp_logistic_module, "l2_laplace_noise", spy)
    return drawn


def test_a_seeded_sweep_draws_fresh_noise_for_every_model(table, monkeypatch):
    # A seed given as an int must start one stream, not restart it for every model: the
    # repeats' intervals would otherwise show no noise at all.
    drawn = _record_noise(monkeypatch)
    dp_sweep(table, "y", epsilons=(1.0, 2.0), repeats=2, source=3)
    assert len(drawn) == 4
    assert min(np.linalg.norm(a - b) for i, a in enumerate(drawn) for b in drawn[:i]) > 1e-6


def test_membership_risk_with_a_seed_draws_fresh_noise_for_every_repeat(table, monkeypatch):
    drawn = _record_noise(monkeypatch)
    membership_risk(table, "y", repeats=3, epsilon=1.0, source=3)
    assert len(drawn) == 3
    assert min(np.linalg.norm(a - b) for i, a in enumerate(drawn) for b in drawn[:i]) > 1e-6


def test_accuracy_grows_with_epsilon_and_the_advantage_stays_under_the_bound():
    s = dp_sweep(_table(3000, seed=1), "y", epsilons=(0.05, 10.0), repeats=3, source=0)
    low, high = s.points
    assert s.regularization == DP_REGULARIZATION  # the release's default
    assert high.accuracy > low.accuracy + 0.1
    assert high.accuracy > s.baseline + 0.1
    for p in s.points:
        assert p.advantage_ci[0] <= p.bound


def test_release_is_secure_charged_at_epsilon_and_sized_by_the_public_encoding(table):
    r = dp_model_release(table, "y", epsilon=0.7)
    assert r.model.secure and r.model.epsilon_spent == 0.7
    assert r.buckets == 512 and r.model.weights.shape == (513,)
    assert r.bound == pytest.approx(math.tanh(0.35))
    assert r.model.regularization == DP_REGULARIZATION


@pytest.mark.parametrize("method", ["output", "objective"])
def test_release_noise_is_the_same_for_a_table_with_one_row_more(table, method):
    # Add/remove: the row count is private, so the released model's noise may not depend on
    # it. (The normalized objective's noise did: beta = n L eps / 2.)
    kw = {"epsilon": 1.0, "method": method, "source": 0}
    for lam in (DP_REGULARIZATION, 2.0):
        full = dp_model_release(table, "y", regularization=lam, **kw).model
        less = dp_model_release(table.iloc[:-1], "y", regularization=lam, **kw).model
        assert (full.beta, full.extra_regularization) == (less.beta, less.extra_regularization)
        assert full.regularization == less.regularization == lam


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epsilons": ()}, "epsilons must be"),  # empty grid
        ({"epsilons": (0.0,)}, "epsilons must be"),  # epsilon 0
        ({"repeats": 1}, "repeats must be"),  # no interval from one split
    ],
)
def test_sweep_bad_settings(table, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        dp_sweep(table, "y", **kwargs)


def test_sweep_and_release_refuse_a_target_that_is_not_binary(table):
    with pytest.raises(InvalidParameterError, match="exactly 2 distinct values"):
        dp_sweep(table, "job")
    with pytest.raises(ColumnError):
        dp_model_release(table, "nope", epsilon=1.0)


# --- the MLP in the membership experiment ------------------------------------------------------


def test_mlp_membership_equals_the_pipeline_by_hand(table):
    r = membership_risk(table, "y", repeats=2, seed=3, model="mlp")
    base = fit_features(table, "y")
    y = targets(base, table)
    rng = np.random.default_rng(3)
    acc, adv, best = [], [], []
    for repeat in range(2):
        perm = rng.permutation(np.flatnonzero(y >= 0))
        tr, te = np.sort(perm[:400]), np.sort(perm[400:])
        spec = fit_features(table.iloc[tr], "y", positive=base.labels[1])
        Xtr, Xte = design(spec, table.iloc[tr]), design(spec, table.iloc[te])
        net = fit_mlp(Xtr, y[tr], seed=3 + repeat)
        ptr, pte = mlp_proba(net, Xtr), mlp_proba(net, Xte)
        acc.append(accuracy(y[te], pte))
        ltr, lte = log_loss(y[tr], ptr), log_loss(y[te], pte)
        adv.append(loss_threshold_attack(ltr, lte).advantage)
        best.append(best_threshold_attack(ltr, lte).advantage)
    assert r.model == "mlp"
    assert r.accuracy == pytest.approx(np.mean(acc), abs=1e-12)
    assert r.advantage == pytest.approx(np.mean(adv), abs=1e-12)
    assert r.best_advantage == pytest.approx(np.mean(best), abs=1e-12)


def test_mlp_refuses_dp_training_and_unknown_models_are_refused(table):
    with pytest.raises(InvalidParameterError, match="logistic regression only"):
        membership_risk(table, "y", model="mlp", epsilon=1.0)
    with pytest.raises(InvalidParameterError, match="model must be one of"):
        membership_risk(table, "y", model="forest")


def test_cli_model_option(table, tmp_path):
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    out, err = io.StringIO(), io.StringIO()
    argv = ["model-risk", str(path), "--target", "y", "--model", "mlp", "-q"]
    code = main([*argv, "--json", str(tmp_path / "o.json")], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert "mlp model" in out.getvalue()
    report = json.loads((tmp_path / "o.json").read_text())["original"]
    want = membership_risk(pd.read_csv(path), "y", model="mlp")
    assert report["model"] == "mlp"
    assert report["accuracy"] == pytest.approx(want.accuracy, abs=1e-12)
    assert report["advantage"] == pytest.approx(want.advantage, abs=1e-12)


def test_cli_dp_training_uses_the_public_regularization(table, tmp_path, monkeypatch):
    import core.models.membership as membership_module

    seen = []
    real = membership_module.dp_logistic_regression

    def spy(*args, **kwargs):
        seen.append(kwargs["regularization"])
        return real(*args, **kwargs)

    monkeypatch.setattr(membership_module, "dp_logistic_regression", spy)
    path = tmp_path / "t.csv"
    table.to_csv(path, index=False)
    out, err = io.StringIO(), io.StringIO()
    argv = ["model-risk", str(path), "--target", "y", "--epsilon", "1", "--repeats", "2", "-q"]
    assert main([*argv, "--regularization", "5"], stdout=out, stderr=err) == 0, err.getvalue()
    assert seen == [5.0, 5.0]
    assert "public regularization 5:" in out.getvalue()
    out = io.StringIO()
    assert main([*argv, "--json", str(tmp_path / "o.json")], stdout=out, stderr=err) == 0
    assert seen[2:] == [DP_REGULARIZATION] * 2  # the documented default when none is given
    assert json.loads((tmp_path / "o.json").read_text())["original"]["regularization"] == 30.0
