"""The DP page's "Last release" card is kept with the workspace: a reload shows it again.

Each page test has a database file of its own; every AppTest is a separate browser session on
it (a reload is a new session with the link's token).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import codebooks, dp, limits
from core.errors import WorkspaceError
from core.workspace import (
    BudgetBook,
    ColumnMeta,
    DatasetMeta,
    ReleaseRecord,
    ReleaseResult,
    Workspace,
    WorkspaceSession,
    WorkspaceStore,
)
from core.workspace.project import open_project, save_project
from tests.conftest import app_session
from ui.text import md

PAGE = "pages/differential_privacy.py"


def _session(**params: str) -> AppTest:
    """A new browser session (the Adult sample, or the link's workspace), on the DP page."""
    return app_session(PAGE, **params)


def _release(at, total: float = 5.0) -> None:
    at.number_input(key="dp_total_eps").set_value(total).run()
    at.button(key="dp_start").click().run()
    at.button(key="dp_release").click().run()
    assert not at.exception and not at.error


def _card(at) -> dict:
    """What the "Last release" card shows: its metric, bins table, captions and warnings."""
    assert any(s.value == "Last release" for s in at.subheader)
    tables = [d.value for d in at.dataframe if "noisy count" in d.value.columns]
    return {
        "metrics": [
            (m.label, m.value, m.proto.help) for m in at.metric if "(" in m.label
        ],  # "count (discrete_laplace)"
        "bins": [t.to_dict("list") for t in tables],
        "captions": [c.value for c in at.caption if c.value.startswith("Mechanism ")],
        "text": [m.value for m in at.markdown if m.value.startswith("Each count ±")],
        "warnings": sorted(w.value for w in at.warning),
    }


def test_a_reload_shows_the_same_last_release_card(own_database):
    first = _session()
    _release(first)  # the page's default question: a count of age
    shown = _card(first)
    (metric,) = shown["metrics"]
    assert metric[0] == "count (discrete_laplace)"
    assert shown["captions"] and "secure noise: yes" in shown["captions"][0]
    again = _session(ws=first.session_state["ws_token"])
    assert "dp_last" not in again.session_state  # a new session: the card comes from the workspace
    assert _card(again) == shown


def test_a_reload_shows_the_same_histogram_bins(own_database):
    first = _session()
    first.selectbox(key="dp_column").set_value("race").run()
    first.selectbox(key="dp_question").set_value("histogram").run()
    first.button(key="dp_cats_fill").click().run()  # the published Adult codebook
    _release(first)
    shown = _card(first)
    (bins,) = shown["bins"]
    assert tuple(bins["bin"]) == codebooks.categories_for("race")
    assert bins["noisy count"] == first.session_state["dp_last"].value.tolist()
    assert shown["text"] and "Categories: declared list (public)." in shown["captions"][0]
    again = _session(ws=first.session_state["ws_token"])
    assert _card(again) == shown


def test_a_kept_category_is_shown_escaped(own_database):
    # a threshold mode releases a category of the data: the card shows it as text
    at = _session()
    kept = ReleaseResult(
        value="![x](http://host/p.png) **b**", half_width=2.0, half_width_unit="records",
        scale=1.0, sensitivity=1.0, neighbours="add/remove one record", secure=True,
        domain="threshold",
    )  # fmt: skip
    record = ReleaseRecord(query="mode", column="race", mechanism="discrete_laplace",
                           epsilon=1.0, delta=1e-6, at=1.0, result=kept)  # fmt: skip
    at.session_state["workspace"] = at.session_state["workspace"].record_release(record)
    at.run()
    assert not at.exception
    (metric,) = _card(at)["metrics"]
    assert metric[:2] == ("mode (discrete_laplace)", md(kept.value))
    assert "![" not in metric[1] and "**" not in metric[1]


def test_history_lists_the_answer_of_the_newest_release_only(own_database):
    at = _session()
    _release(at)
    at.button(key="dp_release").click().run()  # the same question released again
    assert not at.exception and not at.error
    (metric,) = _card(at)["metrics"]
    at.switch_page("pages/history.py").run()
    assert not at.exception
    (releases,) = [d.value for d in at.dataframe if "answer" in d.value.columns]
    assert len(releases) == 2
    newest, older = releases.iloc[0], releases.iloc[1]
    assert newest["answer"] == metric[1]  # what the card shows
    assert metric[2] == f"95% error half-width {newest['95% error']}"
    assert (older["answer"], older["95% error"]) == ("", "")  # its answer was not kept


def test_the_history_table_shows_kept_answers_as_text():
    from core.dp_form import format_number
    from ui.workspace_panel import releases_frame

    hist = _record(RESULTS["histogram"](), at=3.0)
    category = "![x](http://host/p.png) **b**"
    mode = ReleaseRecord(query="mode", column="c", mechanism="discrete_laplace", epsilon=1.0,
                         delta=1e-6, at=2.0, result=ReleaseResult(
                             value=category, half_width=2.0, half_width_unit="records",
                             scale=1.0, sensitivity=1.0, neighbours="add/remove one record",
                             secure=True, domain="threshold"))  # fmt: skip
    mean = _record(RESULTS["mean"](), at=1.5)
    plain = ReleaseRecord(query="count", column=None, mechanism="laplace", epsilon=1.0,
                          delta=0.0, at=1.0)  # fmt: skip
    frame = releases_frame([plain, mode, mean, hist])
    assert frame["query"].tolist() == ["histogram", "mode", "mean", "count"]  # newest first
    assert frame["answer"].tolist() == [
        "3 noisy counts (Differential privacy page)",
        category,  # a dataframe cell is text, never markdown
        format_number(mean.result.value),
        "",
    ]
    h = hist.result
    assert frame["95% error"].tolist() == [
        f"±{format_number(h.half_width)} {h.half_width_unit}",
        "±2 records",
        f"±{format_number(mean.result.half_width)} {mean.result.half_width_unit}",
        "",
    ]


# --- core: the record keeps its result, round trips, refuses malformed ones ------------------

SECRET = b"d" * 32
PEOPLE = pd.DataFrame({"age": [23.0, 35.0, 41.0, 52.0, 67.0], "c": list("aabcb")})


def _released(query: str, **kw):
    kw.setdefault("epsilon", 1.0)
    return dp.release(PEOPLE, "age" if query in ("sum", "mean") else "c", query=query, **kw)


RESULTS = {
    # the page's kinds of answer: a number, a declared histogram, a threshold one, a mode
    "count": lambda: _released("count", source=1),
    "mean": lambda: _released("mean", lower=0.0, upper=100.0, source=2),
    "histogram": lambda: _released("histogram", categories=["a", "b", "c"], source=3),
    "threshold": lambda: _released("histogram", domain="threshold", delta=0.1, epsilon=10.0),
    "mode": lambda: _released("mode", categories=["a", "b", "c"], source=4),
}


def _record(result, **kw) -> ReleaseRecord:
    return ReleaseRecord(
        query=result.query,
        column="c",
        mechanism=result.mechanism,
        epsilon=result.epsilon,
        delta=result.delta,
        at=kw.pop("at", 1.0),
        result=ReleaseResult.of(result),
        **kw,
    )


@pytest.mark.parametrize("kind", list(RESULTS))
def test_a_record_with_its_result_round_trips(kind):
    result = RESULTS[kind]()
    rec = _record(result)
    kept = rec.result
    if result.query == "histogram":
        assert kept.value is None and kept.labels == result.labels
        assert kept.counts == tuple(result.value.tolist()) and kept.n_bins == len(result.labels)
    else:
        assert kept.value == result.value and kept.labels == () and kept.n_bins == 0
    for name in ("half_width", "half_width_unit", "scale", "sensitivity", "neighbours"):
        assert getattr(kept, name) == getattr(result, name)
    assert (kept.secure, kept.domain, kept.warnings) == (
        result.secure,
        result.domain,
        result.warnings,
    )
    ws = Workspace(dataset=META).record_release(rec)
    assert Workspace.from_json(ws.to_json()) == ws
    assert Workspace.from_dict(json.loads(json.dumps(ws.to_dict()))).last_result == rec
    # nothing the user typed as bounds, nothing exact about the data
    assert set(ws.to_dict()["releases"][0]["result"]) == {
        "value", "labels", "counts", "n_bins", "half_width", "half_width_unit", "scale",
        "sensitivity", "neighbours", "secure", "domain", "warnings",
    }  # fmt: skip


META = DatasetMeta(
    fingerprint="0" * 64,
    name="people.csv",
    n_rows=5,
    columns=(ColumnMeta(name="age", kind="decimal"), ColumnMeta(name="c", kind="text")),
)


def _stored(**change) -> dict:
    rec = _record(RESULTS["histogram"]())
    data = Workspace(dataset=META).record_release(rec).to_dict()
    data["releases"][0]["result"].update(change)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        # counts and labels out of step
        ({"counts": [1.0]}, "has 1 count(s) for 3 label(s)"),
        # a count that is no number, or not finite
        ({"counts": [1.0, "2", 3.0]}, "result.counts' must be a number; got str"),
        ({"counts": [1.0, float("nan"), 3.0]}, "result.counts' must be in"),
        # more bins than a release keeps, and more characters
        ({"labels": ["x"] * 1001, "counts": [0.0] * 1001, "n_bins": 1001}, "at most 1000 are kept"),
        ({"labels": ["x" * 100_001], "counts": [0.0], "n_bins": 1}, "at most 100000 are kept"),
        # fewer bins released than kept, or absurdly many
        ({"n_bins": 2}, "result.n_bins' must be in [3,"),
        ({"n_bins": 10**12}, "result.n_bins' must be in [3,"),
        # a histogram with a single value too
        ({"value": 4.0}, "result.value' must be empty for a histogram"),
        # negative or infinite figures
        ({"scale": -1.0}, "result.scale' must be in [0,"),
        ({"half_width": float("inf")}, "result.half_width' must be in [0,"),
        ({"secure": "yes"}, "result.secure' must be true or false; got str"),
        ({"domain": "guessed"}, "result.domain' must be one of"),
        ({"warnings": ["w"] * 11}, "at most 10 texts"),
        ({"warnings": [3]}, "result.warnings' must be text of 1 to 1000 characters"),
        ({"neighbours": ""}, "result.neighbours' must be text"),
        # a field this PrivLens does not know, or one missing
        ({"true_count": 3}, "unknown field(s) 'true_count'"),
    ],
)
def test_a_malformed_stored_result_is_refused_with_a_clear_message(change, message):
    with pytest.raises(WorkspaceError, match=re.escape(message)):
        Workspace.from_dict(_stored(**change))


def test_other_malformed_results_are_refused():
    data = _stored()
    del data["releases"][0]["result"]["scale"]
    with pytest.raises(WorkspaceError, match=re.escape("missing field(s) scale")):
        Workspace.from_dict(data)
    data = _stored()
    data["releases"][0]["result"] = [1, 2]
    with pytest.raises(WorkspaceError, match="releases.result' must be an object"):
        Workspace.from_dict(data)
    # a result on a release of another kind, or whose mechanism is not its question's
    for field, value in (("query", "model"), ("mechanism", "laplace")):
        data = _stored()
        data["releases"][0][field] = value
        with pytest.raises(WorkspaceError, match=f"releases.{field}' must be one of"):
            Workspace.from_dict(data)
    # a count whose answer is text, a mode whose answer is a number
    count = Workspace(dataset=META).record_release(_record(RESULTS["count"]())).to_dict()
    count["releases"][0]["result"]["value"] = "a"
    with pytest.raises(WorkspaceError, match="must be text for a mode and a number otherwise"):
        Workspace.from_dict(count)
    # two releases that both keep their result
    data = _stored()
    data["releases"].append(data["releases"][0])
    with pytest.raises(WorkspaceError, match="kept by more than one release"):
        Workspace.from_dict(data)


def test_a_refusal_never_names_a_label_or_the_answer():
    secret_label = "Ms Rare Person 1970"
    result = dp.release(
        pd.DataFrame({"c": [secret_label] * 40}), "c", query="mode", domain="threshold",
        epsilon=10.0, delta=0.1, source=0,
    )  # fmt: skip
    assert result.value == secret_label  # released under DP: it is the answer
    data = Workspace().record_release(_record(result)).to_dict()
    data["releases"][0]["result"]["n_bins"] = 5  # a mode has no bins
    with pytest.raises(WorkspaceError) as err:
        Workspace.from_dict(data)
    assert secret_label not in str(err.value) and "Rare" not in str(err.value)


def test_an_old_workspace_without_results_still_loads():
    old = Workspace(dataset=META).record_release(
        ReleaseRecord(query="count", column="c", mechanism="discrete_laplace", epsilon=1.0,
                      delta=0.0, at=1.0)
    ).to_dict()  # fmt: skip
    del old["releases"][0]["result"]  # saved before results were kept
    ws = Workspace.from_dict(old)
    assert ws.releases[0].result is None and ws.last_result is None


def test_a_big_histogram_keeps_its_first_bins_and_says_how_many():
    n = limits.DP_KEPT_BINS + 200
    result = dp.release(
        pd.DataFrame({"c": ["x"]}), "c", query="histogram", epsilon=1.0,
        categories=[f"k{i:04d}" for i in range(n)], source=0,
    )  # fmt: skip
    kept = ReleaseResult.of(result)
    assert kept.n_bins == n and len(kept.labels) == len(kept.counts) == limits.DP_KEPT_BINS
    assert kept.labels == result.labels[: limits.DP_KEPT_BINS]
    assert kept.counts == tuple(result.value[: limits.DP_KEPT_BINS].tolist())
    long = dp.release(
        pd.DataFrame({"c": ["x"]}), "c", query="histogram", epsilon=1.0,
        categories=["a" * 60_000, "b" * 60_000, "c"], source=0,
    )  # fmt: skip
    kept = ReleaseResult.of(long)
    assert kept.labels == ("a" * 60_000,) and kept.n_bins == 3  # 120,000 characters > 100,000


def test_the_session_keeps_only_the_newest_dp_result_and_a_reload_reads_it(tmp_path):
    db = tmp_path / "privlens.sqlite3"

    def _open():
        return WorkspaceStore.open(db, secret=SECRET), BudgetBook.open(db)

    s = WorkspaceSession.start(*_open(), PEOPLE, name="people.csv", secret=SECRET)
    s.set("dp.total_epsilon", 5.0)
    first = s.release(RESULTS["count"], query="count", column="c", mechanism="discrete_laplace",
                      epsilon=1.0)  # fmt: skip
    hist = s.release(RESULTS["histogram"], query="histogram", column="c",
                     mechanism="discrete_laplace", epsilon=1.0)  # fmt: skip
    s.release(
        lambda: object(), query="model", column="c", mechanism="objective perturbation", epsilon=1.0
    )  # fmt: skip  (another page's release keeps nothing)
    # a result the record would describe wrongly is not kept
    s.release(lambda: first, query="sum", column="age", mechanism="laplace", epsilon=1.0)
    again = WorkspaceSession.resume(*_open(), s.token)
    assert [r.result is not None for r in again.workspace.releases] == [False, True, False, False]
    assert again.workspace.last_result.result == ReleaseResult.of(hist)
    assert again.workspace == s.workspace
    # a project file keeps it too
    blob = save_project(again.workspace, PEOPLE, passphrase="pw", include_data=True, work_factor=10)
    opened = open_project(blob, passphrase="pw", secret=b"e" * 32).workspace
    assert opened.last_result == again.workspace.last_result
