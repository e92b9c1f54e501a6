"""The test scheduler of ``scripts/test`` (tests/conftest.py), driven with stand-in workers.

Each file is one unit of work on one worker, the Spark files one unit together, every test
runs once, and browser-test files never occupy every worker at once.
"""

from __future__ import annotations

import random
import types

import pytest

import tests.conftest as shared


class _Options:
    loadscopereorder = False  # --no-loadscope-reorder


class _Config:
    option = _Options()

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def getvalue(self, name: str):
        return {"dist": "loadgroup", "tx": [f"{self.workers}*popen"]}[name]  # as -n sets them


class _Worker:
    """Runs the tests it is sent, in order, one at a time."""

    def __init__(self, i: int) -> None:
        self.gateway = types.SimpleNamespace(id=f"gw{i}")
        self.queue: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indices: list[int]) -> None:
        self.queue += indices

    def shutdown(self) -> None:
        self.shutting_down = True


def _run(collection: list[str], workers: int, seed: int) -> list[tuple[int, str, int]]:
    """(worker, test id, browser files the workers are running then) per test, in run order."""
    sched = shared.pytest_xdist_make_scheduler(
        _Config(workers), types.SimpleNamespace(loadscopesched=lambda *a: None)
    )
    nodes = [_Worker(i) for i in range(workers)]
    for node in nodes:
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()
    rng = random.Random(seed)  # which worker finishes its current test first
    ran = []
    while any(n.queue for n in nodes):
        browsing = sum(shared.BROWSER_TESTS in collection[n.queue[0]] for n in nodes if n.queue)
        i = rng.choice([k for k, n in enumerate(nodes) if n.queue])
        index = nodes[i].queue.pop(0)
        ran.append((i, collection[index], browsing))
        sched.mark_test_complete(nodes[i], index)
    assert sched.tests_finished
    return ran


COLLECTION = (
    [f"tests/e2e/test_{name}.py::test_{j}" for name in "abcdef" for j in range(2)]
    + [f"{path}::test_{j}" for path in sorted(shared.SPARK_FILES) for j in range(3)]
    + [f"tests/test_{name}.py::test_{j}" for name in "ghijklmn" for j in range(4)]
    + [f"core/x{i}.py::core.x{i}" for i in range(6)]
)


@pytest.mark.parametrize(("workers", "seed"), [(2, 0), (3, 1), (3, 2), (4, 3)])
def test_files_stay_whole_and_browser_files_never_take_every_worker(workers, seed):
    ran = _run(COLLECTION, workers, seed)
    assert sorted(t for _, t, _ in ran) == sorted(COLLECTION)  # each test once
    where: dict[str, set[int]] = {}
    for worker, test, _ in ran:
        path = test.split("::")[0]
        where.setdefault("spark" if path in shared.SPARK_FILES else path, set()).add(worker)
    assert all(len(w) == 1 for w in where.values()), where  # a unit stays on one worker
    assert max(b for _, _, b in ran) == workers - 1  # browser files side by side
    assert all(b < workers for _, _, b in ran)  # but never on every worker
