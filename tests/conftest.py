"""Shared fixtures: a real, throwaway PostgreSQL and ways to run the service against it.

Fixtures
- `pg_cluster` (session): a PostgreSQL cluster started from the system binaries in a temp dir
  (as root through `runuser -u postgres`), or the server named by `TEST_PG_DSN`. With
  `TEST_VIA_PGBOUNCER=1` every DSN it hands out goes through PgBouncer in transaction pooling mode
  (tests/pgbouncer.py; `make test` runs tests/api a second time so).
- `new_database` (function): a factory `new_database(prefix="t") -> dsn` creating an empty database.
- `dsn` (function): one fresh empty database for the test.
- `live_service` (function): a factory starting `python -m service` as a subprocess with the given
  environment (`live_service(env={...}) -> Server(base_url, proc, log_path, ...)`); stopped at
  teardown. It runs `spawn_service` of tests/support/processes.py (the launcher every suite uses).

Helpers shared by the suites live in tests/support/ (http.py: the HTTP client; processes.py: the
process launcher and `clean_env`).
- `app` / `http_server` / `http_client` / `base_url`: pytest-tornado's fixtures, with `app` built
  by `make_app` over pools created on the test's io_loop (see tests/api/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

from service.dev.pg import Cluster, init_cluster
from tests import pgbouncer
from tests.support.processes import Server, spawn_service

REPO = Path(__file__).resolve().parent.parent


@dataclass
class PgServer:
    """Where test databases are created: a throwaway cluster or TEST_PG_DSN's server."""

    admin_dsn: str
    cluster: Cluster | None = None
    created: list[str] = field(default_factory=list)
    bouncer: pgbouncer.PgBouncer | None = None
    """The PgBouncer every DSN goes through (TEST_VIA_PGBOUNCER=1), else None."""

    def dsn_for(self, dbname: str) -> str:
        params = psycopg2.extensions.parse_dsn(self.admin_dsn)
        params["dbname"] = dbname
        return str(psycopg2.extensions.make_dsn(**params))

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = psycopg2.connect(self.admin_dsn)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        conn.close()
        self.created.append(name)
        return self.dsn_for(name)

    def url_for(self, dsn: str) -> str:
        """The same database as a postgresql:// URL (the form most tools accept)."""
        p = psycopg2.extensions.parse_dsn(dsn)
        user = p.get("user", "postgres")
        host = p.get("host", "127.0.0.1")
        port = p.get("port", "5432")
        pw = f":{p['password']}" if p.get("password") else ""
        return f"postgresql://{user}{pw}@{host}:{port}/{p['dbname']}"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgServer]:
    env_dsn = os.environ.get("TEST_PG_DSN")
    if env_dsn:
        server = PgServer(env_dsn)
        yield server
        return
    root = Path(tempfile.mkdtemp(prefix="agno-session-pg-"))
    cluster = init_cluster(root)
    bouncer = None
    try:
        server = PgServer(cluster.dsn("postgres"), cluster)
        if os.environ.get("TEST_VIA_PGBOUNCER"):
            pgbouncer.role_settings(cluster.dsn("postgres"))
            bouncer = pgbouncer.start_pgbouncer(cluster.port)
            server = PgServer(bouncer.dsn("postgres"), cluster, bouncer=bouncer)
        yield server
    finally:
        if bouncer is not None:
            bouncer.remove()
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def new_database(pg_cluster: PgServer) -> Callable[..., str]:
    return pg_cluster.create_database


@pytest.fixture
def dsn(new_database: Callable[..., str]) -> str:
    return new_database()


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(env: dict[str, str], wait_path: str = "/healthz", timeout: float = 30) -> Server:
        service = spawn_service(env, tmp_path, wait_path, timeout)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop(signal.SIGKILL if service.proc.poll() is None else signal.SIGTERM, timeout=10)
