"""Architecture and hygiene checks: core stays UI-free and secure patterns stay out."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted((ROOT / "core").rglob("*.py"))


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_never_imports_streamlit(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert not any(a.name.split(".")[0] == "streamlit" for a in node.names), path
        elif isinstance(node, ast.ImportFrom):
            assert (node.module or "").split(".")[0] != "streamlit", path


def test_no_insecure_patterns_in_product_code():
    pattern = re.compile(
        r"MODE_ECB|pickle\.loads?\(|allow_pickle\s*=\s*True|\beval\(|"
        r"np\.random\.(laplace|normal|seed)\("
    )
    files = [*CORE, ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
    offenders = [str(p.relative_to(ROOT)) for p in files if pattern.search(p.read_text())]
    assert offenders == []


def test_streamlit_config_is_private_by_default():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableXsrfProtection"] is True
    from core.limits import MAX_UPLOAD_MB

    assert config["server"]["maxUploadSize"] == MAX_UPLOAD_MB


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/test" in readme
    assert "scripts/test" in ci


def test_every_metric_on_a_page_has_a_tooltip():
    missing = []
    for path in sorted((ROOT / "pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "metric"
                and not any(k.arg == "help" for k in node.keywords)
            ):
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []


def test_no_test_process_installs_an_audit_hook():
    """An audit hook stays for the life of its process, and on CPython 3.11, with coverage's
    thread tracing, a hook makes a starting thread die at random ("Cannot install a trace
    function while another trace function is being installed"; python/cpython#98257): an
    unrelated app test fails. A test that needs a hook installs it in a child process, from a
    function named ``*_in_this_process`` that no test module calls directly."""
    offenders: list[str] = []

    class Calls(ast.NodeVisitor):
        def __init__(self, where: str) -> None:
            self.where, self.owner = where, ""

        def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
            outer, self.owner = self.owner, node.name
            self.generic_visit(node)
            self.owner = outer

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Call(self, node: ast.Call) -> None:
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            at = f"{self.where}:{node.lineno}"
            if name == "addaudithook" and not self.owner.endswith("_in_this_process"):
                offenders.append(f"{at} installs an audit hook in the test process")
            if name.endswith("_in_this_process"):
                offenders.append(f"{at} calls {name} in the test process")
            self.generic_visit(node)

    for path in sorted((ROOT / "tests").rglob("*.py")):
        Calls(str(path.relative_to(ROOT))).visit(ast.parse(path.read_text(encoding="utf-8")))
    assert offenders == []
