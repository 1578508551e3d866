"""Helpers of the reliability tests: bounded polling, PostgreSQL probes, requests in the background.

The HTTP client (`call`, `try_call`, `Reply`) is tests/support/http.py's, re-exported here for the
tests of this directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg2
import psycopg2.extensions

from service.db import APPLICATION_NAME
from service.dev.pg import Cluster, free_port, pg_bindir
from tests.support.http import Reply as Reply  # re-exported for this directory's tests
from tests.support.http import call as call
from tests.support.http import try_call as try_call
from tests.support.processes import Server, spawn_service

T = TypeVar("T")


def wait_until(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.05) -> T:
    """Poll `probe` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:g}s waiting for: {what}")
        time.sleep(interval)


def refuses_connections(base_url: str) -> bool:
    parts = urlsplit(base_url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


# ---------------------------------------------------------------- PostgreSQL side


def connect(dsn: str, autocommit: bool = True) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(dsn, application_name="reliability-tests")
    conn.autocommit = autocommit
    return conn


def dbname(dsn: str) -> str:
    return str(psycopg2.extensions.parse_dsn(dsn)["dbname"])


def service_backends(admin_dsn: str, database: str) -> list[dict[str, Any]]:
    """The service's backends on one database (pg_stat_activity rows as dicts)."""
    with contextlib.closing(connect(admin_dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s",
            (database, APPLICATION_NAME),
        )
        columns = [c.name for c in cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def lock_waiters(admin_dsn: str, database: str) -> list[dict[str, Any]]:
    return [b for b in service_backends(admin_dsn, database) if b["wait_event_type"] == "Lock"]


@contextlib.contextmanager
def row_locked(dsn: str, session_id: str) -> Iterator[psycopg2.extensions.connection]:
    """Hold `SELECT ... FOR UPDATE` on one session row in an open transaction."""
    conn = connect(dsn, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT session_id FROM ai.agno_sessions WHERE session_id = %s FOR UPDATE", (session_id,))
            assert cur.fetchone() is not None, f"no session {session_id} to lock"
        yield conn
    finally:
        conn.rollback()
        conn.close()


@contextlib.contextmanager
def table_locked(dsn: str, table: str = "ai.agno_sessions") -> Iterator[psycopg2.extensions.connection]:
    """Hold an ACCESS EXCLUSIVE lock on a table in an open transaction."""
    conn = connect(dsn, autocommit=False)
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield conn
    finally:
        conn.rollback()
        conn.close()


def count_sessions(dsn: str, where: str = "true", params: tuple[Any, ...] = ()) -> int:
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM ai.agno_sessions WHERE {where}", params)  # noqa: S608 -- tests' own conditions
        row = cur.fetchone()
        assert row is not None
        return int(row[0])


# ---------------------------------------------------------------- background requests


@dataclass
class Background:
    """One request run on a thread; `.reply` (or `.error`) once `.done` is set."""

    reply: Reply | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def join(self, timeout: float) -> Reply:
        finished = self.done.wait(timeout)
        assert finished, f"background request still running after {timeout:g}s"
        if self.error is not None:
            raise AssertionError(f"background request failed: {self.error!r}") from self.error
        assert self.reply is not None
        return self.reply


def in_background(base_url: str, method: str, path: str, **kwargs: Any) -> Background:
    job = Background()

    def run() -> None:
        try:
            job.reply = call(base_url, method, path, **kwargs)
        except BaseException as exc:
            job.error = exc
        finally:
            job.done.set()

    threading.Thread(target=run, daemon=True).start()
    return job


def blocked(
    base_url: str, method: str, path: str, admin_dsn: str, database: str, wait: float = 5, **kwargs: Any
) -> tuple[Background, int]:
    """`in_background`, once the request waits for a lock in PostgreSQL (within `wait` s): the job
    and the pid of the waiting backend. The lock must be held already (e.g. `row_locked`)."""
    job = in_background(base_url, method, path, **kwargs)
    waiters = wait_until(f"{method} {path} waits for a lock", lambda: lock_waiters(admin_dsn, database), wait)
    return job, int(waiters[0]["pid"])


def metric_value(text: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """The value of one sample in a Prometheus text exposition (None when absent)."""
    wanted = labels or {}
    for line in text.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        sample, _, label_text = head.partition("{")
        if sample != name:
            continue
        found = dict(part.split("=", 1) for part in label_text.rstrip("}").split(",") if "=" in part)
        if all(found.get(k, "").strip('"') == v for k, v in wanted.items()):
            return float(value)
    return None


def scrape(base_url: str, name: str, labels: dict[str, str] | None = None) -> float | None:
    """One sample of the service's GET /metrics (None when absent)."""
    reply = call(base_url, "GET", "/metrics")
    assert reply.status == 200, reply
    return metric_value(reply.body.decode(), name, labels)


@dataclass
class Outcome:
    """One request of a load loop: when it started and ended, and its status (0: no answer)."""

    worker: int
    started: float
    ended: float
    status: int
    reply: Reply | None
    request: tuple[str, str, Any] | None = None
    """(method, path, json body) as the plan made it."""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def is_read(self) -> bool:
        return self.request is not None and self.request[0] == "GET"


class LoadLoop:
    """`workers` threads sending requests from `plan(worker, n) -> (method, path, json)` until
    stopped or `max_requests` each (the loop is bounded: it ends by itself)."""

    def __init__(
        self,
        base_url: str,
        plan: Callable[[int, int], tuple[str, str, Any]],
        workers: int,
        max_requests: int = 5000,
        timeout: float = 20.0,
    ) -> None:
        self.base_url = base_url
        self.plan = plan
        self.max_requests = max_requests
        self.timeout = timeout
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(w,), daemon=True) for w in range(workers)]

    def __enter__(self) -> LoadLoop:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
            assert not thread.is_alive(), "a load worker did not stop"

    def _run(self, worker: int) -> None:
        for n in range(self.max_requests):
            if self._stop.is_set():
                return
            method, path, body = self.plan(worker, n)
            started = time.monotonic()
            reply = try_call(self.base_url, method, path, json_body=body, timeout=self.timeout)
            outcome = Outcome(
                worker, started, time.monotonic(), reply.status if reply else 0, reply, (method, path, body)
            )
            with self._lock:
                self.outcomes.append(outcome)

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def successes_after(self, moment: float) -> dict[int, int]:
        counts = {w: 0 for w in range(len(self._threads))}
        for outcome in self.snapshot():
            if outcome.started >= moment and outcome.ok:
                counts[outcome.worker] += 1
        return counts


class Prober:
    """A thread polling paths (e.g. /healthz, /readyz) every `interval` s; `.seen[path]` holds
    (time, status) pairs, status 0 when there was no answer. Bounded by `max_polls`."""

    def __init__(self, base_url: str, paths: list[str], interval: float = 0.05, max_polls: int = 4000) -> None:
        self.base_url = base_url
        self.paths = paths
        self.interval = interval
        self.max_polls = max_polls
        self.seen: dict[str, list[tuple[float, int]]] = {p: [] for p in paths}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        for _ in range(self.max_polls):
            if self._stop.is_set():
                return
            for path in self.paths:
                reply = try_call(self.base_url, "GET", path, timeout=5)
                with self._lock:
                    self.seen[path].append((time.monotonic(), reply.status if reply else 0))
            self._stop.wait(self.interval)

    def statuses(self, path: str, after: float = 0.0) -> list[tuple[float, int]]:
        with self._lock:
            return [(t, s) for t, s in self.seen[path] if t >= after]

    def first(self, path: str, status: int, after: float) -> float | None:
        return next((t for t, s in self.statuses(path, after) if s == status), None)


def raw_request(base_url: str, data: bytes, timeout: float = 10.0) -> tuple[int, bytes] | None:
    """Send raw bytes as a request; (status, body) of the answer, or None if the connection closed
    without one. For request lines http.client refuses to build (raw non-ASCII, NUL bytes)."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw.startswith(b"HTTP/1."):
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def start_service(env: dict[str, str], log_dir: Any) -> Server:
    """`python -m service` on a free loopback port with AGNO_DRAIN_SECONDS=0 unless `env` says
    otherwise (tests/conftest.py's `spawn_service`, which its `live_service` runs too)."""
    return spawn_service({"AGNO_DRAIN_SECONDS": "0", **env}, Path(log_dir))


# ---------------------------------------------------------------- acknowledged writes, checked


@dataclass
class MixedTraffic:
    """A load plan of reads and writes (create with a run, PATCH, rename, delete) whose every
    acknowledged write can be checked in the database afterwards (`check`): each worker PATCHes and
    renames a session of its own, deletes its own victims, and creates sessions without an id
    (the service makes it), marked by a unique `user_id` so a doubled create shows as two rows."""

    own: list[str]
    victims: list[list[str]]

    @classmethod
    def seed(cls, base_url: str, workers: int, victims_each: int = 30) -> MixedTraffic:
        def create(**fields: Any) -> str:
            reply = call(base_url, "POST", "/sessions", json_body=fields)
            assert reply.status == 201, reply
            return str(reply.json()["session_id"])

        own = [create(session_name=f"own-{w}", metadata={"w": w, "n": -1}) for w in range(workers)]
        victims = [[create(session_name=f"victim-{w}-{i}") for i in range(victims_each)] for w in range(workers)]
        return cls(own, victims)

    def plan(self, worker: int, n: int) -> tuple[str, str, Any]:
        own = self.own[worker]
        step = n % 8
        if step == 0:
            run = {"run_id": f"ledger-run-{worker}-{n}", "agent_id": "ledger", "status": "COMPLETED"}
            return "POST", "/sessions", {"user_id": f"ledger-{worker}-{n}", "agent_id": "ledger", "runs": [run]}
        if step == 2:
            return "PATCH", f"/sessions/{own}", {"metadata": {"w": worker, "n": n}}
        if step == 4:
            return "POST", f"/sessions/{own}/rename", {"session_name": f"name-{worker}-{n}"}
        if step == 6 and n // 8 < len(self.victims[worker]):
            return "DELETE", f"/sessions/{self.victims[worker][n // 8]}", None
        if step in (3, 7):
            return "GET", "/sessions?limit=5&sort_by=updated_at", None
        return "GET", f"/sessions/{own}", None

    def check(self, dsn: str, outcomes: list[Outcome]) -> dict[str, int]:
        """Counts of the run; `lost` and `doubled` must be 0: every 2xx write is in the database
        (a later unacknowledged write of the same worker may have overwritten it), nothing twice."""
        lost: list[str] = []
        with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT s.user_id, count(*),"
                " (SELECT count(*) FROM ai.agno_runs r WHERE r.session_id = min(s.session_id))"
                " FROM ai.agno_sessions s WHERE s.user_id LIKE 'ledger-%%' GROUP BY s.user_id"
            )
            created = {row[0]: (int(row[1]), int(row[2])) for row in cur.fetchall()}
            cur.execute(
                "SELECT session_id, metadata, session_data FROM ai.agno_sessions WHERE session_id = ANY(%s)",
                (self.own,),
            )
            stored = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
            cur.execute(
                "SELECT session_id FROM ai.agno_sessions WHERE session_id = ANY(%s)",
                ([v for vs in self.victims for v in vs],),
            )
            victims_left = {row[0] for row in cur.fetchall()}
        doubled = [user for user, (rows, runs) in created.items() if rows > 1 or runs > 1]
        last_patch: dict[int, int] = {}
        last_rename: dict[int, int] = {}
        sent_patch: dict[int, set[int]] = {}
        sent_rename: dict[int, set[int]] = {}
        for o in outcomes:
            assert o.request is not None
            method, path, body = o.request
            if method == "POST" and path == "/sessions":
                marker = body["user_id"]
                if o.ok and created.get(marker, (0, 0)) != (1, 1):
                    lost.append(f"create {marker}: {created.get(marker)}")
            elif method == "PATCH":
                sent_patch.setdefault(o.worker, set()).add(body["metadata"]["n"])
                if o.ok:
                    last_patch[o.worker] = max(last_patch.get(o.worker, -1), body["metadata"]["n"])
            elif method == "POST":
                n = int(body["session_name"].rsplit("-", 1)[1])
                sent_rename.setdefault(o.worker, set()).add(n)
                if o.ok:
                    last_rename[o.worker] = max(last_rename.get(o.worker, -1), n)
            elif method == "DELETE" and o.ok and path.rsplit("/", 1)[1] in victims_left:
                lost.append(f"delete {path}")
        for worker, session_id in enumerate(self.own):
            metadata, session_data = stored[session_id]
            n = int(metadata["n"])
            if n < last_patch.get(worker, -1) or (n >= 0 and n not in sent_patch.get(worker, set())):
                lost.append(f"PATCH of worker {worker}: stored n={n}, last acknowledged {last_patch.get(worker)}")
            name = str(session_data.get("session_name", ""))
            renamed = int(name.rsplit("-", 1)[1]) if name.startswith("name-") else -1
            if renamed < last_rename.get(worker, -1):
                lost.append(f"rename of worker {worker}: stored {name!r}, last acknowledged {last_rename.get(worker)}")
        assert not lost, f"acknowledged writes lost: {lost}"
        assert not doubled, f"created twice: {doubled}"
        reads = [o for o in outcomes if o.is_read]
        writes = [o for o in outcomes if not o.is_read]
        return {
            "requests_sent": len(outcomes),
            "reads": len(reads),
            "failed_reads": sum(1 for o in reads if not o.ok),
            "writes": len(writes),
            "failed_writes": sum(1 for o in writes if not o.ok),
            "acknowledged_writes": sum(1 for o in writes if o.ok),
            "lost_writes": len(lost),
            "doubled_writes": len(doubled),
        }


def build_standby(primary: Cluster, root: Path) -> Cluster:
    """A streaming standby of `primary` on its own loopback port (`pg_basebackup -R`), started."""
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    port = free_port()
    (root / "port").write_text(str(port))
    command = [str(pg_bindir() / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
    command += ["-D", str(root / "data"), "-R", "-X", "stream", "--checkpoint=fast"]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=120)
    standby = Cluster(root, port)
    standby.start()
    return standby


def is_in_recovery(dsn: str) -> bool | None:
    """pg_is_in_recovery() of a server (None when it cannot be reached)."""
    try:
        with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_is_in_recovery()")
            row = cur.fetchone()
            return bool(row[0]) if row else None
    except psycopg2.OperationalError:
        return None
