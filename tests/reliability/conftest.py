"""Fixtures of the reliability tests (the shared ones live in tests/conftest.py).

- `figures` (function): a dict the test fills with its numbers (requests sent, failures seen,
  recovery times); written to `tests/reliability/.figures/<test name>.json` when the test ends.
- `throwaway_cluster` (function): a factory `throwaway_cluster(start=True) -> Cluster`: a PostgreSQL
  cluster of the test's own (initdb in a temp dir), so a test may stop, restart or delay it
  without touching the shared session cluster; stopped and removed at teardown.
- `module_service` (module): a factory `module_service(**env) -> Server` running the
  service on a fresh database of the shared cluster (its `dsn`), for a module's many small cases.
- `session_factory` (function): `session_factory(base_url, **fields) -> session_id`, a POST /sessions.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.dev.pg import Cluster, free_port, init_cluster

from .harness import call, start_service

FIGURES_DIR = Path(__file__).resolve().parent / ".figures"


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    numbers: dict[str, Any] = {}
    yield numbers
    if numbers:
        FIGURES_DIR.mkdir(exist_ok=True)
        numbers = {
            "test": request.node.nodeid,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            **numbers,
        }
        path = FIGURES_DIR / f"{request.node.name}.json"
        path.write_text(json.dumps(numbers, indent=2, sort_keys=False) + "\n")


@pytest.fixture
def throwaway_cluster() -> Iterator[Callable[..., Cluster]]:
    made: list[tuple[Cluster, Path]] = []

    def make(start: bool = True) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="agno-session-reliability-pg-"))
        cluster = init_cluster(root, free_port())
        made.append((cluster, root))
        if not start:
            cluster.stop("fast")
        return cluster

    yield make
    for cluster, root in made:
        try:
            cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def session_factory() -> Callable[..., str]:
    def create(base_url: str, headers: dict[str, str] | None = None, **fields: Any) -> str:
        reply = call(base_url, "POST", "/sessions", json_body=fields, headers=headers)
        assert reply.status == 201, reply
        return str(reply.json()["session_id"])

    return create


@pytest.fixture(scope="module")
def module_service(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """A factory `module_service(**env) -> Server` on a fresh database, shared by a module."""
    started: list[Any] = []

    def start(**env: str) -> Any:
        dsn = pg_cluster.create_database("rel")
        service = start_service({"AGNO_PG_DSN": dsn, **env}, tmp_path_factory.mktemp("service"))
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
