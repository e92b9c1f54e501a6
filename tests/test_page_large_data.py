"""Open a large dataset from an allowed directory; Risk through its engine; navigate; reload."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core import risk
from core.engine import make_engine
from core.engine import risk_summary as engine_risk_summary
from core.large_data import DATA_DIRS_ENV, source_id
from tests.conftest import APP
from ui import large_data
from ui.text import md

QIS = ["age", "zip", "sex"]
SAMPLE = 400


def survey(seed: int = 3, n: int = 3_000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "zip": [f"0{z:04d}" for z in rng.integers(0, 60, n)],  # leading zeros: text
            "sex": rng.choice(["F", "M"], n),
            "weight": rng.uniform(50.0, 150.0, n),
            "income": rng.normal(40_000, 9_000, n),
        }
    )


@pytest.fixture
def allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, pd.DataFrame]:
    """An allowed directory holding ``survey/``: one table in two Parquet files."""
    root = tmp_path / "lake"
    (root / "survey").mkdir(parents=True)
    frame = survey()
    frame.iloc[:1_800].to_parquet(root / "survey" / "part-0.parquet", index=False)
    frame.iloc[1_800:].to_parquet(root / "survey" / "part-1.parquet", index=False)
    monkeypatch.setenv(DATA_DIRS_ENV, str(root))
    monkeypatch.setattr(large_data.limits, "LARGE_SAMPLE_ROWS", SAMPLE)
    return root, frame


def _open(root: Path, engine: str = "duckdb") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="large_pick").set_value(source_id(str(root.resolve()), "survey"))
    at.selectbox(key="large_engine").set_value(engine)
    at.button(key="large_open").click().run()
    assert not at.exception
    return at


def _metrics(at: AppTest, labels: object = None) -> dict[str, str]:
    shown = {m.label: m.value for m in at.metric}
    return shown if labels is None else {k: shown.get(k) for k in labels}


def _expected(root: Path, qis: list[str]) -> list[tuple[str, str, str]]:
    with make_engine("duckdb") as eng:
        table = eng.open(str(root / "survey"))
        return large_data.risk_figures(engine_risk_summary(eng, table, qis, weight_column=None))


def _check_attributes_and_population(at: AppTest, frame: pd.DataFrame) -> None:
    """l, t (ordered on a number) and Dankar's population uniques equal pandas' figures."""
    from core.attribute_risk import attribute_risks

    at.multiselect(key="risk_sa").set_value(["income"]).run()
    at.toggle(key="risk_is_sample").set_value(True).run()
    assert not at.exception
    ec = risk.equivalence_classes(frame, QIS)
    ref = attribute_risks(frame, ec, ["income"])[0]
    table = at.dataframe[0].value
    assert table["distinct l"].tolist() == [f"{ref.distinct_l:,}"]
    assert table["t-closeness"].tolist() == [f"{ref.t_closeness:.4f} (ordered)"]
    pu = risk.population_uniqueness(ec, sampling_fraction=0.01)
    assert _metrics(at)["Population uniques (Dankar rule)"] == f"{pu.dankar:,.0f}"
    at.toggle(key="risk_is_sample").set_value(False).run()
    at.multiselect(key="risk_sa").set_value([]).run()


def _check_correlations(at: AppTest, frame: pd.DataFrame) -> None:
    """Pearson, the association matrix and the leakage ranking equal pandas' on every row."""
    from core import correlation as corr
    from ui.charts import correlations as charts

    numeric = ["age", "weight", "income"]
    at.radio(key="corr_method").set_value("Pearson").run()
    at.multiselect(key="corr_cols_numeric").set_value(numeric).run()
    at.selectbox(key="corr_sensitive").set_value("sex").run()
    assert not at.exception
    pairs, _ = corr.ranked_pairs(corr.correlation_matrix(frame, columns=numeric))
    want = charts.pairs_table(pairs.head(20))
    got = at.dataframe[0].value
    assert got[["column A", "column B", "value", "rows"]].equals(
        want[["column A", "column B", "value", "rows"]]
    )
    others = [c for c in frame.columns if c != "sex"]
    leak = charts.leakage_table(corr.leakage_ranking(frame, sensitive="sex", columns=others))
    got = at.dataframe[1].value
    cols = ["column", "association", "NMI", "best-guess accuracy", "rows"]
    assert got[cols].equals(leak[cols])
    at.radio(key="corr_method").set_value("Kendall").run()  # on the sample, labelled
    assert not at.exception
    assert any(f"a sample of {SAMPLE:,} of 3,000 rows" in c.value for c in at.caption)
    at.radio(key="corr_method").set_value("Association").run()
    assert not at.exception


def _project_reopens_where_the_same_files_are(at: AppTest, root: Path) -> None:
    """A project file of a large dataset opens in another session on the same files only."""
    import os

    assert at.checkbox(key="project_with_data").disabled  # never its rows
    at.text_input(key="project_save_pass").input("a long passphrase")
    at.button(key="project_save").click().run()
    assert not at.exception and not at.error
    blob, _ = at.session_state["project_file"]
    src = at.session_state["workspace"].large_source

    other = AppTest.from_file(APP, default_timeout=60)  # another session, its own table
    other.run()
    other.switch_page("pages/history.py").run()

    def open_project() -> None:
        other.file_uploader(key="project_upload").upload("p.privlens-project", blob)
        other.text_input(key="project_open_pass").input("a long passphrase")
        other.button(key="project_open").click().run()
        assert not other.exception

    part = root / "survey" / "part-1.parquet"
    saved, stat = part.read_bytes(), part.stat()
    part.write_bytes(saved[:-8] + b"\0" * 4 + saved[-8:])  # other bytes at the same place
    open_project()
    assert any("other files than those now" in e.value for e in other.error)
    assert other.session_state["dataset_name"] == "Adult census sample"  # kept
    part.write_bytes(saved)
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same files again
    open_project()
    assert any("Opened the project" in m.value for m in other.success)
    assert other.session_state["workspace"].large_source == src
    assert "dataset" not in other.session_state
    other.switch_page("pages/risk.py").run()
    assert not other.exception and other.metric


def test_without_configuration_the_section_says_how_to_enable_it(monkeypatch, app) -> None:
    monkeypatch.delenv(DATA_DIRS_ENV, raising=False)
    app.switch_page("pages/data.py").run()
    assert not app.exception
    assert any(DATA_DIRS_ENV in i.value for i in app.info)
    assert "large_pick" not in [s.key for s in app.selectbox]


def test_open_risk_navigate_and_reload(allowed) -> None:
    root, frame = allowed
    at = _open(root)
    src = at.session_state["workspace"].large_source
    assert (src.path, src.engine, src.n_rows, src.sample_rows) == (
        "survey",
        "duckdb",
        3_000,
        SAMPLE,
    )
    assert at.session_state["workspace"].dataset is None  # no table held
    assert "dataset" not in at.session_state
    text = " ".join(m.value for m in at.markdown)
    assert f"a sample of {SAMPLE:,} of 3,000 rows" in text
    preview = at.dataframe[0].value
    assert preview.shape[0] == min(SAMPLE, large_data.limits.PREVIEW_ROWS)

    at.switch_page("pages/risk.py").run()
    at.multiselect(key="risk_qi").set_value(QIS).run()
    assert not at.exception
    expected = _expected(root, QIS)
    want = {label: value for label, value, _ in expected}
    assert _metrics(at, want) == want
    # The engine's figures are pandas' figures on the whole table.
    ref = risk.risk_summary(frame, QIS)
    shown = _metrics(at)
    assert shown["k"] == f"{ref.k:,}" and shown["Equivalence classes"] == f"{ref.n_classes:,}"
    assert shown["Sample uniques"] == f"{ref.sample_uniques:,}"
    assert shown["Records at risk"] == f"{ref.prosecutor.records_at_risk:,}"
    at.selectbox(key="risk_weight").set_value("weight").run()  # sdcMicro's weighted risk
    weighted = risk.risk_summary(frame, QIS, weight_column="weight")
    assert _metrics(at)["Expected re-identifications"] == (
        f"{weighted.individual.expected_reidentifications:,.2f}"
    )
    at.selectbox(key="risk_weight").select_index(0).run()  # "None (constant weight)"
    _check_attributes_and_population(at, frame)

    at.switch_page("pages/correlations.py").run()
    _check_correlations(at, frame)

    # A page that needs an in-memory table says so and offers the sample, labelled.
    at.switch_page("pages/masking.py").run()
    assert not at.exception
    assert any("works on tables held in memory" in i.value for i in at.info)
    assert f"{SAMPLE:,} of 3,000 rows" in at.button(key="large_use_sample").label

    at.switch_page("pages/home.py").run()
    at.switch_page("pages/risk.py").run()
    assert at.multiselect(key="risk_qi").value == QIS
    assert _metrics(at, want) == want

    again = AppTest.from_file(APP, default_timeout=60)  # a reload: the link's token only
    again.query_params["ws"] = at.session_state["ws_token"]
    again.run()
    assert [c.value for c in again.sidebar.caption] == [
        "Dataset: **lake/survey** · 3,000 rows × 5 columns · duckdb engine"
    ]
    assert _metrics(again, ["Rows", "Engine"]) == {"Rows": "3,000", "Engine": "duckdb"}
    again.switch_page("pages/risk.py").run()
    assert not again.exception
    assert again.session_state["workspace"].large_source == src
    assert _metrics(again, want) == want
    again.switch_page("pages/correlations.py").run()
    assert not again.exception
    assert again.radio(key="corr_method").value == "Association"
    again.switch_page("pages/data.py").run()
    assert len(again.dataframe) == 1  # the same rows again for the workspace's seed
    assert again.dataframe[0].value.equals(preview)

    shutil.rmtree(root / "survey")  # the data vanished: a reload says so, on every page
    gone = AppTest.from_file(APP, default_timeout=60)
    gone.query_params["ws"] = at.session_state["ws_token"]
    gone.run()
    for name in ("risk", "data"):
        gone.switch_page(f"pages/{name}.py").run()
        assert not gone.exception
        assert any("no longer in its allowed directory" in e.value for e in gone.error), name


def test_work_on_the_sample_is_labelled(allowed) -> None:
    root, frame = allowed
    at = _open(root, engine="auto")  # small on disk and within the intake limits: pandas
    assert at.session_state["workspace"].large_source.engine == "pandas"
    for name in ("differential_privacy", "anonymize", "export", "model", "decrypt", "home"):
        at.switch_page(f"pages/{name}.py").run()
        assert not at.exception, name
        if name in ("differential_privacy", "anonymize", "export"):  # need a table in memory
            assert any("works on tables held in memory" in i.value for i in at.info), name
    at.switch_page("pages/history.py").run()
    _project_reopens_where_the_same_files_are(at, root)
    at.switch_page("pages/data.py").run()
    at.button(key="large_use_sample").click().run()
    assert not at.exception
    df = at.session_state["dataset"]
    assert len(df) == SAMPLE and list(df.columns) == list(frame.columns)
    assert at.session_state["dataset_name"].startswith(f"Sample of {SAMPLE:,} of 3,000 rows")
    assert at.session_state["workspace"].large_source is None
    at.switch_page("pages/masking.py").run()
    assert not at.exception


def test_changed_files_are_measured_again_and_unchanged_ones_come_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    before, after = survey(seed=5, n=300), survey(seed=6, n=240)
    name = "tiny_#1_.parquet"  # markdown in a file name: shown as text
    before.to_parquet(root / name, index=False)
    monkeypatch.setenv(DATA_DIRS_ENV, str(root))
    calls: list[tuple[str, ...]] = []  # engine runs on QIS (the page starts on suggested QIs)

    def counting(eng, table, qis, **kw):  # noqa: ANN001, ANN003, ANN202
        if list(qis) == QIS:
            calls.append(tuple(qis))
        return engine_risk_summary(eng, table, qis, **kw)

    monkeypatch.setattr(large_data, "engine_risk_summary", counting)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/data.py").run()
    at.selectbox(key="large_pick").set_value(source_id(str(root.resolve()), name))
    at.selectbox(key="large_engine").set_value("duckdb")
    monkeypatch.setenv("PRIVLENS_DUCKDB_MEMORY", "eight gigs")  # the operator's typo
    at.button(key="large_open").click().run()
    assert not at.exception
    variable = md("PRIVLENS_DUCKDB_MEMORY")  # errors are shown escaped
    assert any(variable in e.value and "'8GB'" in e.value for e in at.error)
    monkeypatch.setenv("PRIVLENS_DUCKDB_MEMORY", "1GB")
    at.button(key="large_open").click().run()
    assert at.session_state["workspace"].large_source.n_rows == len(before)
    at.switch_page("pages/risk.py").run()
    at.multiselect(key="risk_qi").set_value(QIS).run()
    assert not at.exception

    def shown_matches(frame: pd.DataFrame) -> bool:
        ref = risk.risk_summary(frame, QIS)
        m = _metrics(at)
        return (m["Records"], m["Equivalence classes"], m["Sample uniques"]) == (
            f"{len(frame):,}",
            f"{ref.n_classes:,}",
            f"{ref.sample_uniques:,}",
        )

    assert shown_matches(before) and len(calls) == 1
    at.run()  # the same unchanged file: the figures come from the cache
    at.switch_page("pages/home.py").run()  # the current dataset, as for a table in memory
    assert _metrics(at, ["Rows", "Columns", "Engine"]) == {
        "Rows": "300",
        "Columns": "5",
        "Engine": "duckdb",
    }
    label = md(f"lake/{name}")
    assert label != f"lake/{name}"
    assert any(label in c.value and "duckdb engine" in c.value for c in at.caption)
    at.switch_page("pages/risk.py").run()
    assert shown_matches(before) and len(calls) == 1

    after.to_parquet(root / name, index=False)  # rewritten in place
    at.run()
    assert not at.exception
    assert shown_matches(after) and len(calls) == 2
    assert at.session_state["workspace"].large_source.n_rows == len(after)
    assert any("files changed since they were last read" in i.value for i in at.info)
    at.run()  # unchanged since: from the cache again, and said only once
    assert shown_matches(after) and len(calls) == 2
    assert not any("files changed" in i.value for i in at.info)
