"""Shared fixtures: a real, throwaway PostgreSQL and ways to run the service against it.

Fixtures
- `pg_cluster` (session): a PostgreSQL cluster started from the system binaries in a temp dir
  (as root through `runuser -u postgres`), or the server named by `TEST_PG_DSN`. With
  `TEST_VIA_PGBOUNCER=1` every DSN it hands out goes through PgBouncer in transaction pooling mode
  (tests/pgbouncer.py; `make test` runs tests/api a second time so).
- `new_database` (function): a factory `new_database(prefix="t") -> dsn` creating an empty database.
- `dsn` (function): one fresh empty database for the test.
- `live_service` (function): a factory starting `python -m service` as a subprocess with the given
  environment (`live_service(env={...}) -> LiveService(base_url, proc, log_path)`); stopped at teardown.
  It runs `spawn_service`, which tests/reliability's module-scoped `module_service` runs too.

Helpers (import them as `from tests.conftest import ...`)
- `clean_env(*also)`: os.environ without the variables that configure the service (and `also`).
- `spawn_service(env, log_dir)`: start `python -m service` on a free port; return once it answers.
- `app` / `http_server` / `http_client` / `base_url`: pytest-tornado's fixtures, with `app` built
  by `make_app` over pools created on the test's io_loop (see tests/api/conftest.py).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import pytest

from service.dev.pg import Cluster, free_port, init_cluster
from tests import pgbouncer

REPO = Path(__file__).resolve().parent.parent
SERVICE_ENV_PREFIXES = ("AGNO_", "OS_SECURITY", "DATABASE_URL")


def clean_env(*also: str) -> dict[str, str]:
    """os.environ without the variables that configure the service (AGNO_*, OS_SECURITY*, DATABASE_URL)
    and those starting with a prefix in `also`: a started process gets only what its test gives it."""
    return {k: v for k, v in os.environ.items() if not k.startswith((*SERVICE_ENV_PREFIXES, *also))}


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
        return psycopg2.extensions.make_dsn(**params)

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


@dataclass
class LiveService:
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    dsn: str = ""  # the AGNO_PG_DSN it was started with ("" without one)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)


def wait_http(
    url: str,
    timeout: float = 30,
    proc: subprocess.Popen[bytes] | None = None,
    alive: Callable[[], bool] | None = None,
) -> None:
    """Wait for `url` to answer at all (any status); give up early when `proc` exits or `alive()` is false."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        if alive is not None and not alive():
            raise RuntimeError(f"the server stopped before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def spawn_service(
    env: dict[str, str],
    log_dir: Path,
    wait_path: str = "/healthz",
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
) -> LiveService:
    """`python -m service` on a free loopback port, with a clean environment plus `env`, logging to
    `log_dir/service-<port>.log`; returns once `wait_path` answers (killed if it never does).
    `preexec_fn` runs in the child before the service starts (e.g. to lower a resource limit)."""
    port = free_port()
    log_path = Path(log_dir) / f"service-{port}.log"
    full_env = clean_env()
    full_env.update({"AGNO_SERVICE_PORT": str(port), "AGNO_SERVICE_HOST": "127.0.0.1"})
    full_env.update(env)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service"],
            cwd=REPO,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
    service = LiveService(f"http://127.0.0.1:{port}", proc, log_path, env.get("AGNO_PG_DSN", ""))
    try:
        wait_http(service.base_url + wait_path, timeout, proc)
    except (RuntimeError, TimeoutError) as exc:
        service.stop(signal.SIGKILL, timeout=10)
        raise type(exc)(f"{exc}; the service's log:\n{service.log_text()}") from exc
    return service


@pytest.fixture
def live_service(tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    started: list[LiveService] = []

    def start(env: dict[str, str], wait_path: str = "/healthz", timeout: float = 30) -> LiveService:
        service = spawn_service(env, tmp_path, wait_path, timeout)
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop(signal.SIGKILL if service.proc.poll() is None else signal.SIGTERM, timeout=10)
