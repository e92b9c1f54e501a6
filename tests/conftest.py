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


@pytest.fixture
def app():
    """A fresh headless run of the app (the Adult sample loaded)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
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
