"""The README's commands run as written, on a copy of the repository.

Every fenced ``bash``/``sh``/``shell`` block of README.md runs in ``bash -e -o pipefail``
inside a temporary copy of the repository's files (with the file modes a fresh clone gets
from git), so nothing is written into the work tree; every ``python`` block runs there too.
``python`` and ``python3`` on the blocks' PATH are the interpreter running the tests. Secrets
come from files this test writes (the README tells the user to write the same files); no
block may put a secret on the command line.

A block that cannot run in a test (it installs packages, starts a server, or runs the whole
suite) is exempted by the line right before it::

    <!-- readme-test: skip (why) -->

The exemptions are listed here exactly (:data:`EXEMPT`), so adding one is a deliberate change
of this file. Benchmarks are shown in a table of commands: each must be an executable script with a
``python3`` shebang (the mode a fresh clone gets from git) that puts the repository root on
its path before importing the project; the README's quick-run block runs one at a small size.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

SHELL = ("bash", "sh", "shell")
MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<what>\S+)\s*(?:\((?P<why>[^)]*)\))?\s*-->\s*$")

#: First line of every exempted block: change it only together with the README.
EXEMPT = [
    "python3 -m venv .venv && . .venv/bin/activate",
    "scripts/test",
    "pip install -r requirements-spark.txt",
]

#: Files holding secrets that the README asks the user to write before its commands.
SECRET_FILES = {"passphrase.txt": "a long passphrase for the README test, never a real one\n"}

#: Top-level packages of this repository a script may import.
PROJECT_PACKAGES = ("core", "ui", "tests", "benchmarks")

#: Seconds a block (or a benchmark's --help) may take before it is killed and fails.
TIMEOUT = 120

#: The options that name the file a command writes.
OUTPUT_OPTIONS = ("-o", "--output")


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int  # 1-based line of the opening fence
    skip: str | None  # the reason, when exempted ("" for a marker without one)

    @property
    def first_line(self) -> str:
        return self.text.strip().splitlines()[0].strip()


def readme_blocks(text: str) -> tuple[list[Block], list[int]]:
    """The fenced blocks of ``text`` and the lines of markers that precede no block."""
    lines = text.splitlines()
    blocks: list[Block] = []
    stray: list[int] = []
    pending: tuple[int, str] | None = None  # a skip marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            if pending is not None:
                stray.append(pending[0])
            assert m["what"] == "skip", f"README line {i + 1}: unknown marker {m['what']!r}"
            pending = (i + 1, (m["why"] or "").strip())
            i += 1
            continue
        fence = re.match(r"^(\s*)```(\S*)\s*$", line)
        if fence:
            indent, lang = fence[1], fence[2].lower()
            start = i
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i])
                i += 1
            skip = pending[1] if pending is not None else None
            blocks.append(Block(lang, "\n".join(body) + "\n", start + 1, skip))
            pending = None
            i += 1
            continue
        if line.strip() and pending is not None:
            stray.append(pending[0])  # the marker must sit right before its block
            pending = None
        i += 1
    if pending is not None:
        stray.append(pending[0])
    return blocks, stray


def commands(block: Block) -> list[list[str]]:
    """The block's commands as argument lists (continuation lines joined, comments dropped)."""
    joined = block.text.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        for part in re.split(r"&&|;|\|\|?", line):
            words = shlex.split(part, comments=True)
            if words:
                out.append(words)
    return out


def outputs(block: Block) -> list[str]:
    """Files the block says it writes: each ``-o FILE``/``--output FILE`` and ``> FILE``."""
    found = []
    for words in commands(block):
        for a, b in zip(words, words[1:], strict=False):
            if a in OUTPUT_OPTIONS or a in (">", ">>"):
                found.append(b)
    return found


BLOCKS, STRAY = readme_blocks(README.read_text(encoding="utf-8"))
RUNNABLE = [b for b in BLOCKS if b.lang in (*SHELL, "python") and b.skip is None]


def _fresh_copy(dst: Path) -> None:
    """The repository's files as a fresh clone has them (tracked and new, not ignored), with
    the modes git records; the plain tree when this is not a git checkout."""
    git = shutil.which("git")
    listing = None
    if git and (ROOT / ".git").exists():
        run = subprocess.run(
            [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        listing = [p for p in run.stdout.decode().split("\0") if p]
        staged = subprocess.run(
            [git, "ls-files", "-s", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout.decode()
        modes = {}
        for entry in filter(None, staged.split("\0")):
            meta, path = entry.split("\t", 1)
            modes[path] = int(meta.split()[0], 8) & 0o777
    if listing is None:
        shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(".git", "__pycache__", ".venv"))
        return
    for rel in listing:
        src = ROOT / rel
        if not src.is_file():
            continue  # deleted in the work tree
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        mode = modes.get(rel, stat.S_IMODE(src.stat().st_mode) & ~0o111)
        target.chmod(mode)


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the repository with the secret files the README asks for."""
    root = tmp_path_factory.mktemp("readme") / "privlens"
    root.mkdir()
    _fresh_copy(root)
    for name, secret in SECRET_FILES.items():
        path = root / name
        path.write_text(secret, encoding="utf-8")
        path.chmod(0o600)
    return root


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``python`` and ``python3`` on PATH run this interpreter; HOME is a scratch folder."""
    bin_dir = tmp_path_factory.mktemp("bin")
    for name in ("python", "python3"):
        wrapper = bin_dir / name
        wrapper.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n')
        wrapper.chmod(0o755)
    home = tmp_path_factory.mktemp("home")
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLBACKEND": "Agg",
    }


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in its own process group, killed whole if it outlives the timeout."""
    with subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            err += f"\n(killed after {TIMEOUT} s)"
        return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _run_block(block: Block, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if block.lang == "python":
        return _run([sys.executable, "-c", block.text], cwd, env)
    return _run(["bash", "-e", "-o", "pipefail", "-c", block.text], cwd, env)


# --- the exemptions --------------------------------------------------------------------------


def test_readme_has_shell_blocks_to_run():
    assert [b for b in RUNNABLE if b.lang in SHELL], "no runnable shell block found in README.md"


def test_every_exemption_is_explained_and_listed():
    exempt = [b for b in BLOCKS if b.skip is not None]
    unexplained = [b.line for b in exempt if not b.skip]
    assert unexplained == [], f"README blocks exempted without a reason, at lines {unexplained}"
    assert [b.first_line for b in exempt] == EXEMPT
    assert all(b.lang in SHELL for b in exempt)


def test_no_marker_without_its_block():
    assert STRAY == [], f"readme-test markers not right before a block, at lines {STRAY}"


def test_secrets_come_from_files():
    for block in BLOCKS:
        for words in commands(block) if block.lang in SHELL else []:
            assert "--passphrase" not in words and "--key" not in words, block.first_line
    readme = README.read_text(encoding="utf-8")
    for name in SECRET_FILES:
        assert f"--passphrase-file {name}" in readme
        prose = re.sub(r"```.*?```", "", readme, flags=re.S)
        assert name in prose, f"the README must tell the user to write {name}"


# --- the blocks run --------------------------------------------------------------------------


def test_readme_blocks_run_as_written(clone: Path, env: dict[str, str]):
    """All runnable blocks, in README order (a later block may use an earlier one's files)."""
    for block in RUNNABLE:
        claimed = outputs(block)
        for name in claimed:
            assert not (clone / name).exists(), f"README line {block.line}: {name} already there"
        result = _run_block(block, clone, env)
        assert result.returncode == 0, (
            f"README block at line {block.line} ({block.first_line!r}) exited "
            f"{result.returncode}:\n{result.stderr[-3000:]}"
        )
        for name in claimed:
            path = clone / name
            # an output is a file, or a folder of files (harden --engine writes Parquet parts)
            written = [path] if path.is_file() else sorted(path.rglob("*.parquet*"))
            assert written and all(p.is_file() and p.stat().st_size > 0 for p in written), (
                f"README block at line {block.line} should write {name}"
            )
            if name.endswith(".zip"):
                with zipfile.ZipFile(path) as zf:
                    assert zf.testzip() is None
                    assert any(n.endswith((".csv", ".parquet")) for n in zf.namelist())


def test_the_example_recipe_reaches_k_5_on_its_quasi_identifiers():
    import json

    from core import risk
    from core.data import load
    from core.recipe import Recipe, apply

    recipe_path = ROOT / "examples" / "adult-recipe.json"
    recipe = Recipe.from_json(recipe_path.read_bytes())
    suppress = [s for s in recipe.steps if s.transform == "suppress"]
    assert len(suppress) == 1 and suppress[0].params["k"] == 5
    table = load(ROOT / "data" / "adult.csv").frame
    assert list(table.columns) == json.loads(recipe_path.read_text())["source_columns"]
    result = apply(table, recipe)
    hardened = result.frame
    qis = list(suppress[0].columns)
    # Suppressed cells match any value (sdcMicro's rule, which local suppression targets).
    assert risk.risk_summary(table, qis).k < 5
    assert risk.risk_summary(hardened, qis, missing="wildcard").k >= 5
    assert risk.risk_summary(hardened, qis).k >= 5  # and with missing as its own category
    # The README states how many cells the suppression takes, and what share of the QIs.
    suppressed = sum(c.cells_suppressed for c in result.changes)
    said = re.search(r"\(([\d,]+) cells, ([\d.]+) % of\s+those six columns\)", README.read_text())
    assert said, "the README no longer states the example recipe's suppressed cells"
    assert int(said[1].replace(",", "")) == suppressed
    assert float(said[2]) == round(100 * suppressed / (len(qis) * len(table)), 1)


# --- benchmarks ------------------------------------------------------------------------------


def _benchmark_table() -> list[str]:
    """The commands in the first column of the README's benchmark table."""
    readme = README.read_text(encoding="utf-8")
    return re.findall(r"^\s*\|\s*`((?:python3? -m )?benchmarks[/.][\w/.]+)`\s*\|", readme, re.M)


def test_every_benchmark_is_executable_with_a_shebang(clone: Path):
    scripts = sorted((clone / "benchmarks").glob("*.py"))
    assert scripts
    bad = [
        p.name
        for p in scripts
        if not os.access(p, os.X_OK)
        or not p.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")
    ]
    assert bad == []


def _imports_project_before_path(source: str) -> list[str]:
    """Project modules a script imports at module level before it puts the repository root
    on ``sys.path`` (run as ``benchmarks/x.py``, only its own folder is on the path)."""
    early = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.Expr) and "sys.path.insert(0" in ast.unparse(node):
            return early
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        early += [n for n in names if n.split(".")[0] in PROJECT_PACKAGES]
    return early


def test_benchmark_table_commands_start():
    """Each command of the benchmark table names an executable script that finds the project's
    packages when run directly, and runs its main only as a script. Starting them all with
    --help costs about 25 s of imports; the README's quick-run block runs one for real."""
    table = _benchmark_table()
    assert len(table) >= 10
    problems = []
    for command in table:
        words = shlex.split(command)
        script = ROOT / words[0]
        if len(words) != 1 or not script.is_file() or script.parent.name != "benchmarks":
            problems.append(f"{command}: not a script in benchmarks/")
            continue
        source = script.read_text(encoding="utf-8")
        early = _imports_project_before_path(source)
        if early:
            problems.append(f"{command}: imports {early} before adding the repository root")
        if 'if __name__ == "__main__":' not in source:
            problems.append(f"{command}: no __main__ guard")
    assert problems == []
