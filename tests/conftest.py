"""Shared fixtures."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def pytest_configure(config: pytest.Config) -> None:
    """Keep the app's database (workspaces, budgets) and server secret out of the user's home.

    Set before any test runs, so the headless app and every browser-test server (which
    inherit the environment) use a fresh database of this test run.
    """
    if not os.environ.get("PRIVLENS_DB"):
        folder = tempfile.mkdtemp(prefix="privlens-test-db-")
        os.environ["PRIVLENS_DB"] = os.path.join(folder, "privlens.sqlite3")
        os.environ.pop("PRIVLENS_SECRET_FILE", None)


#: Test files that use the :func:`spark` fixture. Under ``scripts/test`` they are one unit of
#: work, so one worker starts one JVM for all of them (listed here because the scheduler sees
#: only test ids; collection fails for a file that uses the fixture and is not listed).
SPARK_FILES = frozenset(
    {
        "tests/test_engine_correlations.py",
        "tests/test_engine_harden.py",
        "tests/test_engine_spark.py",
    }
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test file that uses the local Spark engine without being in SPARK_FILES."""
    unlisted = {
        Path(str(item.path)).relative_to(ROOT).as_posix()
        for item in items
        if "spark" in getattr(item, "fixturenames", ())
    } - SPARK_FILES
    if unlisted:
        raise pytest.UsageError(
            f"{', '.join(sorted(unlisted))}: uses the spark fixture but is not in SPARK_FILES "
            "of tests/conftest.py; add it there, so it shares the one Spark worker."
        )


#: The real-browser tests. Their worker mostly waits on the app's server and the browser: tests/e2e
#: alone on two workers took 301 s of CPU (user + system, servers and browsers included) in 806 s
#: of wall time. So ``scripts/test`` runs one worker more than there are cores, and browser-test
#: files never occupy every worker at once: the others keep the cores busy meanwhile.
BROWSER_TESTS = "tests/e2e/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``--dist loadgroup`` (``scripts/test``): a test file is one unit of work, as under
    ``--dist loadfile``, so its module fixtures are built once; the SPARK_FILES together are
    one unit. (pytest-xdist's own loadgroup reads groups from test ids, which its marks no
    longer reach under pytest 9.) Units go out in collection order, except that a worker is
    given a browser-test file only while at least one other worker has none to finish."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    def browser(scope: str) -> bool:
        return scope.startswith(BROWSER_TESTS)

    class FilesAndSpark(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "spark" if path in SPARK_FILES else path

        def _assign_work_unit(self, node) -> None:
            busy = sum(
                any(browser(scope) and not all(done.values()) for scope, done in units.items())
                for other, units in self.assigned_work.items()
                if other is not node
            )
            if busy >= len(self.nodes) - 1:  # a browser file here would leave no core busy
                scope = next((s for s in self.workqueue if not browser(s)), None)
                if scope is not None:
                    self.workqueue.move_to_end(scope, last=False)
            super()._assign_work_unit(node)

    return FilesAndSpark(config, log)


@pytest.fixture
def app():
    """A fresh headless run of the app (the Adult sample loaded)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


@pytest.fixture
def own_database(tmp_path, monkeypatch):
    """A workspace and budget database of this test's own (no secret file from the machine)."""
    monkeypatch.setenv("PRIVLENS_DB", str(tmp_path / "privlens.sqlite3"))
    monkeypatch.delenv("PRIVLENS_SECRET_FILE", raising=False)


def app_session(page: str, **params: str):
    """A new browser session on ``page`` (the Adult sample, or the workspace the link names)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


#: ARX's Adult extract and its hierarchy CSVs (Apache-2.0), next to the project's shared data.
ARX_ADULT = ROOT.parent / "shared" / "datasets" / "arx-adult"


@pytest.fixture(scope="session")
def arx_adult() -> Path:
    """The folder of ARX's Adult extract and hierarchies; skips when it is not there."""
    if not (ARX_ADULT / "adult.csv").exists():
        pytest.skip("ARX's Adult extract is not available")
    return ARX_ADULT


#: Settings that make a tiny local Spark session answer small queries faster (no effect on
#: results): the JVM's quick compiler only, no code generation, no adaptive re-planning.
SPARK_FAST = {
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
    "spark.default.parallelism": "1",
}


@pytest.fixture(scope="session")
def spark():
    """One local Spark engine (``local[1]``) for every Spark test on this worker: starting its
    JVM is the slow part. No skip: a Spark engine that cannot start its JVM is a failure."""
    from core.engine.spark_engine import SparkEngine

    eng = SparkEngine(master="local[1]", shuffle_partitions=1, config=SPARK_FAST)
    yield eng
    eng.close()
