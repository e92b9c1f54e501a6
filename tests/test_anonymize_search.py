"""The search's optimum equals a brute force over the whole lattice, on ARX's Adult extract.

The brute force below is written independently of ``core.anonymize``: it generalizes the
text values with plain dictionaries built from the hierarchy files, groups with pandas and
scores every node with the metric formulas as ARX's sources define them.
"""

from __future__ import annotations

import csv
import itertools
import math

import numpy as np
import pandas as pd
import pytest

from core.anonymize import (
    AverageRisk,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualTCloseness,
    KAnonymity,
    anonymize,
    read_hierarchy,
)
from core.anonymize.search import evaluate, prepare

METRICS = ("loss", "discernibility", "dm-star", "height", "entropy", "aecs")


@pytest.fixture(scope="module")
def adult(arx_adult):
    df = pd.read_csv(arx_adult / "adult.csv", sep=";")
    cols = [c for c in df.columns if c != "salary-class"]
    files = {c: arx_adult / f"adult_hierarchy_{c}.csv" for c in cols}
    return df, files


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [r for r in csv.reader(f, delimiter=";") if r]


def _floor10(x):
    return math.floor(x * 1e10) / 1e10


_BRUTE: dict[tuple, dict] = {}


def _brute_force(
    df, files, qis, k, limit, sensitive_l=None, t_equal=None, avg_risk=None, entropy_l=None,
    loss_ties=False,
):  # fmt: skip
    """Every node's (anonymous, {metric: score}), computed directly from the text values.

    ``loss_ties``: the average-risk model breaks ties between classes of one size by their
    own Loss, as ARX does when Loss is the quality model.
    """
    key = (tuple(qis), k, limit, sensitive_l, t_equal, avg_risk, entropy_l, loss_ties)
    if key not in _BRUTE:
        _BRUTE[key] = _brute(
            df, files, qis, k, limit, sensitive_l, t_equal, avg_risk, entropy_l, loss_ties
        )  # fmt: skip
    return _BRUTE[key]


def _sa_codes(df, col):
    codes, uniq = pd.factorize(df[col].astype(str))
    return codes, len(uniq)


def _brute(df, files, qis, k, limit, sensitive_l, t_equal, avg_risk, entropy_l, loss_ties):
    n = len(df)
    data = {}
    for q in qis:
        codes, uniq = pd.factorize(df[q].astype(str))
        data[q] = (codes, [str(u) for u in uniq], _rows(files[q]))
    max_out = math.floor(limit * n)
    sa_codes = {"salary-class": _sa_codes(df, "salary-class")}
    out = {}
    for levels in itertools.product(*[range(len(data[q][2][0])) for q in qis]):
        gen, labels = [], []
        for q, lv in zip(qis, levels, strict=True):
            codes, uniq, rows = data[q]
            to_label = {r[0]: r[lv] for r in rows}
            lab_codes, lab_uniq = pd.factorize(pd.Series([to_label[u] for u in uniq]))
            gen.append(lab_codes[codes])
            labels.append(list(lab_uniq))
        frame = pd.DataFrame(dict(enumerate(gen)))
        cls = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
        sizes = np.bincount(cls)
        bad = sizes < k
        if sensitive_l is not None:
            sa, m = sa_codes[sensitive_l[0]]
            pairs = np.unique(cls * m + sa)
            bad |= np.bincount(pairs // m, minlength=sizes.size) < sensitive_l[1]
        if t_equal is not None:
            sa, m = sa_codes[t_equal[0]]
            p = np.bincount(sa) / n
            q_ = np.bincount(cls * m + sa, minlength=sizes.size * m).reshape(-1, m)
            q_ = q_ / sizes[:, None]
            bad |= 0.5 * np.abs(q_ - p).sum(axis=1) > t_equal[1] + 1e-12
        if entropy_l is not None:  # exp(-sum q ln q) >= l per class
            sa, m = sa_codes[entropy_l[0]]
            q_ = np.bincount(cls * m + sa, minlength=sizes.size * m).reshape(-1, m)
            q_ = q_ / sizes[:, None]
            with np.errstate(divide="ignore", invalid="ignore"):
                h = -np.nansum(np.where(q_ > 0, q_ * np.log(q_), 0.0), axis=1)
            bad |= np.exp(h) < entropy_l[1] - 1e-9
        if avg_risk is not None:  # suppress the smallest kept classes until it holds
            # ARX leaves the class whose QIs are all '*' out of the risk and never suppresses
            # it; candidates by size, then (Loss) the class's own loss, then first record
            first = np.array([np.flatnonzero(cls == c)[0] for c in range(sizes.size)])
            star = np.ones(sizes.size, dtype=bool)
            closs = np.ones(sizes.size)
            for j, (q, lv) in enumerate(zip(qis, levels, strict=True)):
                lab = np.array(labels[j], dtype=object)[gen[j][first]]
                star &= lab == "*"
                in_file = [r[lv] for r in data[q][2]]
                share = np.array([in_file.count(x) / len(in_file) for x in lab])
                closs *= (sizes * share + 1.0) ** (1.0 / len(qis))
            kept = [c for c in range(sizes.size) if not bad[c] and not star[c]]
            tie = closs if loss_ties else np.zeros(sizes.size)
            order = sorted(kept, key=lambda c: (sizes[c], tie[c], first[c]))  # noqa: B023
            classes, records, removed = len(kept), int(sizes[kept].sum()), 0
            for i in range(len(order) + 1):
                if records == removed or 1.0 / ((records - removed) / (classes - i)) <= avg_risk:
                    bad[order[:i]] = True
                    break
                removed += int(sizes[order[i]])
        s = int(sizes[bad].sum())
        if s > max_out:
            out[levels] = (False, {})
            continue
        supp = bad[cls]
        kept_sizes = sizes[~bad].astype(float)
        scores = {
            "height": float(sum(levels)),
            "dm-star": float((sizes.astype(float) ** 2).sum()),
            "discernibility": float((kept_sizes**2).sum() + n * s),
            "aecs": n / (kept_sizes.size + (1 if s else 0)),
        }
        per_loss, ent = [], 0.0
        for j, (q, lv) in enumerate(zip(qis, levels, strict=True)):
            codes, uniq, rows = data[q]
            in_file = [r[lv] for r in rows]
            share = np.array([in_file.count(lab) / len(rows) for lab in labels[j]])
            raw = share[gen[j][~supp]].sum() + s
            low = n / len(rows)
            per_loss.append(_floor10(max(0.0, (raw - low) / (n - low))))
            c_a = np.bincount(codes)
            c_gen = np.bincount(gen[j])
            gen_of_a = np.zeros(len(uniq), dtype=int)
            gen_of_a[codes] = gen[j]
            g = float(np.sum(c_a * np.log(c_a / c_gen[gen_of_a]) / math.log(2)))
            if s:
                sv = np.bincount(gen[j][supp])
                sv = sv[sv > 0]
                g += float(np.sum(sv * np.log(sv / s) / math.log(2)))
            ent += _floor10(-g) if g != 0 else 0.0
        prod = 1.0
        for v in per_loss:
            prod *= (v + 1.0) ** (1.0 / len(qis))
        scores["loss"] = prod - 1.0
        scores["entropy"] = ent
        out[levels] = (True, scores)
    return out


CASES = [
    # (qis, k, limit, extra): small lattices of ARX's Adult hierarchies
    (("sex", "age", "race"), 5, 0.0, {}),  # 20 nodes, no suppression
    (("sex", "age", "race"), 10, 0.02, {}),
    (("marital-status", "education", "workclass", "occupation"), 5, 0.02, {}),  # 108 nodes
    (("marital-status", "education", "workclass", "occupation"), 20, 0.0, {}),
    (("age", "native-country", "education"), 3, 0.05, {}),  # 60 nodes
    (("age", "native-country", "education"), 5, 0.01, {"sensitive_l": ("salary-class", 2)}),
    (("age", "sex", "race"), 2, 0.02, {"t_equal": ("salary-class", 0.15)}),
    (("age", "sex", "workclass"), 1, 0.03, {"avg_risk": 0.05}),
    (("sex", "age", "race"), 1, 0.1, {"entropy_l": ("salary-class", 1.4)}),  # 5 of 20
]


def _models(k, extra):
    models = [KAnonymity(k)]
    if "sensitive_l" in extra:
        models.append(DistinctLDiversity(*extra["sensitive_l"]))
    if "t_equal" in extra:
        models.append(EqualTCloseness(*extra["t_equal"]))
    if "avg_risk" in extra:
        models.append(AverageRisk(extra["avg_risk"]))
    if "entropy_l" in extra:
        models.append(EntropyLDiversity(*extra["entropy_l"]))
    return models


@pytest.mark.parametrize(("qis", "k", "limit", "extra"), CASES)
def test_optimum_equals_brute_force_for_every_metric(adult, qis, k, limit, extra):
    df, files = adult
    hier = {q: read_hierarchy(files[q]) for q in qis}
    for metric in METRICS:
        brute = _brute_force(df, files, list(qis), k, limit, **extra,
                             loss_ties=metric == "loss" and "avg_risk" in extra)  # fmt: skip
        anonymous = {lv: sc for lv, (ok, sc) in brute.items() if ok}
        assert anonymous, "every case has an anonymous node"
        res = anonymize(
            df, list(qis), hier, models=_models(k, extra), suppression_limit=limit, metric=metric
        )
        best = min(sc[metric] for sc in anonymous.values())
        assert res.optimal and res.label == "proven optimal"
        assert res.score == pytest.approx(best, rel=1e-9, abs=1e-9), metric
        assert res.levels in anonymous
        assert anonymous[res.levels][metric] == pytest.approx(best, rel=1e-9, abs=1e-9)
        # ties: the smallest height, then the smallest level vector, among the optima
        ties = sorted(
            (sum(lv), lv)
            for lv, sc in anonymous.items()
            if sc[metric] == pytest.approx(best, rel=1e-9, abs=1e-9)
        )
        assert (sum(res.levels), res.levels) == ties[0], metric
        assert res.nodes_checked <= len(brute)


@pytest.mark.parametrize(("qis", "k", "limit", "extra"), CASES[:3])
def test_every_node_anonymity_and_score_match_brute_force(adult, qis, k, limit, extra):
    df, files = adult
    hier = {q: read_hierarchy(files[q]) for q in qis}
    brute = _brute_force(df, files, list(qis), k, limit, **extra)
    for metric in ("loss", "entropy", "discernibility"):
        p = prepare(df, list(qis), hier, models=_models(k, extra), suppression_limit=limit,
                    metric=metric)  # fmt: skip
        for lv, (ok, sc) in brute.items():
            t = evaluate(p, lv)
            assert t.anonymous == ok, lv
            if ok:
                assert t.score == pytest.approx(sc[metric], rel=1e-9, abs=1e-9), (metric, lv)
                assert t.lower_bound <= t.score + 1e-9


def test_all_eight_qis_result_is_optimal_and_reports_figures(adult):
    """The benchmark configuration: the result is anonymous and as the search reports."""
    df, files = adult
    qis = list(files)
    hier = {q: read_hierarchy(files[q]) for q in qis}
    res = anonymize(df, qis, hier, models=[KAnonymity(5)], suppression_limit=0.02)
    assert res.lattice_size == 6480 and res.optimal
    assert res.nodes_checked == len(res.checked) < res.lattice_size
    p = prepare(df, qis, hier, models=[KAnonymity(5)], suppression_limit=0.02)
    t = evaluate(p, res.levels)
    assert t.anonymous and t.score == res.score
    assert t.suppressed_records == res.suppressed_records <= math.floor(0.02 * len(df))
    assert int(t.record_suppressed.sum()) == res.suppressed_records
    # the checked nodes carry the frontier data: every anonymous one scores >= the optimum
    scores = [c.score for c in res.checked if c.anonymous]
    assert min(scores) == res.score
    assert all(c.max_risk <= 1 / 5 for c in res.checked if c.anonymous)


def test_heuristic_is_labelled_and_anonymous(adult):
    df, files = adult
    qis = ["age", "education", "occupation", "native-country"]
    hier = {q: read_hierarchy(files[q]) for q in qis}
    res = anonymize(df, qis, hier, models=[KAnonymity(10)], suppression_limit=0.01,
                    method="heuristic")  # fmt: skip
    assert not res.optimal and res.label == "best found, not proven optimal"
    opt = anonymize(df, qis, hier, models=[KAnonymity(10)], suppression_limit=0.01)
    assert res.found and res.score >= opt.score


def test_time_limit_returns_best_found_not_proven(adult):
    df, files = adult
    qis = list(files)
    hier = {q: read_hierarchy(files[q]) for q in qis}
    res = anonymize(df, qis, hier, models=[KAnonymity(5)], suppression_limit=0.02,
                    metric="dm-star", time_limit=1e-6)  # fmt: skip
    assert not res.optimal and res.label == "best found, not proven optimal"
    assert any("time limit" in w for w in res.warnings)


def test_no_anonymous_node_is_reported():
    df = pd.DataFrame({"a": ["x", "y", "z"]})
    from core.anonymize import Hierarchy

    h = Hierarchy(rows=(("x", "*"), ("y", "*"), ("z", "*")))
    res = anonymize(df, ["a"], {"a": h}, models=[KAnonymity(5)])
    assert not res.found and res.levels is None and res.optimal
    assert any("not anonymous" in w for w in res.warnings)
    assert res.to_json_dict()["score"] is None


def test_lattice_above_the_cap_uses_the_labelled_heuristic(adult, monkeypatch):
    from core.anonymize import search

    df, files = adult
    qis = ["age", "education", "occupation"]
    hier = {q: read_hierarchy(files[q]) for q in qis}
    monkeypatch.setattr(search, "MAX_LATTICE_NODES", 10)
    res = anonymize(df, qis, hier, models=[KAnonymity(5)], suppression_limit=0.01)
    assert not res.optimal and res.label == "best found, not proven optimal" and res.found
    assert any("above the 10 the exhaustive search" in w for w in res.warnings)
