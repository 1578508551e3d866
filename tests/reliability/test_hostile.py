"""Hostile load: no request may freeze the event loop, starve the pool, bloat memory or exhaust
descriptors for long (docs/reliability.md §9). Loopback only; every attack is bounded and stops by
itself; each test fails when its guarantee breaks.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import resource
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.db import APPLICATION_NAME
from tests.support.http import Reply
from tests.support.processes import Server, spawn_service

from .harness import call, connect, dbname, scrape, service_backends, try_call, wait_until

LIVENESS_TIMEOUT = 3.0
"""The liveness probe's timeout (k8s/manifests/deployment.yaml): a /healthz slower than this is a failed probe."""
LIVENESS_FAILURE_THRESHOLD = 3
"""The probe's failureThreshold: the kubelet restarts the pod after this many failed probes in a row, so one
slow answer on a loaded machine is not an outage, while a blocked event loop (the 1 MiB bodies of these
tests froze it for seconds each, one after another) fails every probe until it is free."""
MEMORY_LIMIT = 256 * 1024 * 1024
"""The chart's memory limit."""
SETTLED_RSS = 128 * 1024 * 1024
MIB = 1024 * 1024


class HealthWatch:
    """Polls /healthz on a thread; each poll waits at most LIVENESS_TIMEOUT (status 0: no answer)."""

    def __init__(self, base_url: str, interval: float = 0.1, max_polls: int = 3000) -> None:
        self.base_url = base_url
        self.interval = interval
        self.max_polls = max_polls
        self.polls: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> HealthWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(LIVENESS_TIMEOUT + 5)

    def _run(self) -> None:
        for _ in range(self.max_polls):
            if self._stop.is_set():
                return
            reply = try_call(self.base_url, "GET", "/healthz", timeout=LIVENESS_TIMEOUT)
            self.polls.append((reply.status if reply else 0, reply.elapsed if reply else LIVENESS_TIMEOUT))
            self._stop.wait(self.interval)

    def failures(self) -> list[tuple[int, float]]:
        return [poll for poll in self.polls if poll[0] != 200]

    def longest_failure_run(self) -> int:
        """The most failed polls in a row: what the kubelet's failureThreshold is compared with."""
        longest = run = 0
        for status, _ in self.polls:
            run = run + 1 if status != 200 else 0
            longest = max(longest, run)
        return longest

    def slowest(self) -> float:
        return max((elapsed for _, elapsed in self.polls), default=0.0)


def rss(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc (bytes): VmRSS now, VmHWM the peak so far."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {field} for pid {pid}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def port_of(service: Server) -> int:
    return int(service.base_url.rsplit(":", 1)[1])


def open_socket(service: Server, rcvbuf: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(10)
    sock.connect(("127.0.0.1", port_of(service)))
    return sock


def is_closed_by_peer(sock: socket.socket) -> bool:
    """True once the server has closed the connection (EOF or reset), without consuming data."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def read_to_end(sock: socket.socket) -> int:
    """Read (and drop) everything until the server closes the connection; the bytes received."""
    total = 0
    sock.settimeout(10)
    with contextlib.suppress(OSError):
        while chunk := sock.recv(1 << 20):
            total += len(chunk)
    return total


def rejected(base_url: str, reason: str) -> float:
    return scrape(base_url, "http_requests_rejected_total", {"reason": reason}) or 0


@contextlib.contextmanager
def sockets() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    try:
        yield opened
    finally:
        for sock in opened:
            sock.close()


# ---------------------------------------------------------------------------------------------------
# 1. Nothing CPU-heavy on the event loop
# ---------------------------------------------------------------------------------------------------

SIZES = (1024, 64 * 1024 - 1, 64 * 1024, 256 * 1024, MIB)


def hostile_body(kind: str, size: int) -> bytes:
    """A body of `size` bytes (at most) built to be slow to check."""

    def fill(head: bytes, item: bytes, tail: bytes) -> bytes:
        count = max(1, (size - len(head) - len(tail)) // (len(item) + 1))
        return head + b",".join([item] * count) + tail

    if kind == "digit-runs":  # the backtracking case: 299-digit numbers (floats need 309 to overflow)
        return fill(b"[", b"9" * 299, b"]")
    if kind == "digit-run-ids":
        return fill(b'{"session_types": ["agent"], "session_ids": [', b"9" * 299, b"]}")
    if kind == "exponent-strings":  # strings that look like exponents make the whole value be walked
        return fill(b'{"session_state": {"s": [', b'"e999"', b"]}}")
    if kind == "small-objects":
        return fill(b'{"metadata": {"m": [', b"{}", b"]}}")
    if kind == "nesting":  # each item 200 deep: many brackets, within the depth bound
        return fill(b"[", b"[" * 200 + b"]" * 200, b"]")
    raise AssertionError(kind)


KINDS = {
    "digit-runs": ("DELETE", "/sessions"),
    "digit-run-ids": ("DELETE", "/sessions"),
    "exponent-strings": ("POST", "/sessions"),
    "small-objects": ("PATCH", "/sessions/hostile-target"),
    "nesting": ("POST", "/sessions"),
}


@pytest.mark.slow
def test_hostile_bodies_leave_the_event_loop_free(
    dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """Bodies of every allowed size, built to be slow to decode and check, sent 10 at a time: /healthz never
    misses the liveness probe's timeout failureThreshold times in a row (the pod is never restarted), no
    answer is a 5xx, and the event-loop lag gauge sees the loop free again afterwards."""
    # a generous pool wait: on a loaded machine a 1 MiB body's statement may wait for a connection longer
    # than the default 5 s, and a 503 for that would say nothing about the event loop
    service = live_service(env={"AGNO_PG_DSN": dsn, "AGNO_POOL_TIMEOUT": "60"})
    base = service.base_url
    assert call(base, "POST", "/sessions", json_body={"session_id": "hostile-target"}).status == 201
    # every kind at every size, then the worst case ten at once (the burst that froze the loop for 7.8 s)
    jobs = [(kind, size) for size in SIZES for kind in KINDS] + [("digit-runs", MIB)] * 10
    statuses: dict[int, int] = {}

    def send(job: tuple[str, int]) -> int:
        kind, size = job
        method, path = KINDS[kind]
        body = hostile_body(kind, size)
        assert len(body) <= MIB
        reply = call(base, method, path, body=body, headers={"Content-Type": "application/json"}, timeout=60)
        assert reply.status < 500, (kind, size, reply)
        return reply.status

    started = time.monotonic()
    with HealthWatch(base) as watch, concurrent.futures.ThreadPoolExecutor(10) as pool:
        for status in pool.map(send, jobs):
            statuses[status] = statuses.get(status, 0) + 1
    figures.update(
        requests=len(jobs),
        statuses=statuses,
        attack_seconds=round(time.monotonic() - started, 2),
        healthz_polls=len(watch.polls),
        healthz_slowest_s=round(watch.slowest(), 3),
        healthz_failures=len(watch.failures()),
        healthz_failures_in_a_row=watch.longest_failure_run(),
    )
    assert watch.polls, watch.failures()
    assert watch.longest_failure_run() < LIVENESS_FAILURE_THRESHOLD, watch.polls
    lag = wait_until(
        "the event loop is free again",
        lambda: [v] if (v := scrape(base, "event_loop_lag_seconds")) is not None and v < 0.5 else None,
        30,
    )
    figures["loop_lag_after_s"] = lag[0]


@pytest.mark.parametrize(
    ("query", "status", "error_type"),
    [
        ({"limit": "1" * 4301}, 422, "int_parsing_size"),
        ({"page": "-" + "9" * 4400}, 422, "int_parsing_size"),
        ({"page": "0" * 5000 + "1"}, 200, None),
        ({"limit": "1_" * 4400 + "1"}, 422, "int_parsing"),
        ({"session_name": "n" * 257}, 422, "string_too_long"),
        ({"session_name": "n" * 256}, 200, None),
    ],
)
def test_huge_query_values_are_client_errors(
    module_service: Callable[..., Any], query: dict[str, str], status: int, error_type: str | None
) -> None:
    service = module_service()
    reply = call(service.base_url, "GET", "/sessions?" + urllib.parse.urlencode(query))
    assert reply.status == status, reply
    if error_type is not None:
        assert [e["type"] for e in reply.json()["detail"]] == [error_type]


def test_huge_integer_in_a_body_is_400(module_service: Callable[..., Any]) -> None:
    service = module_service()
    for body in (b'{"session_state": {"x": ' + b"9" * 4301 + b"}}", b"[-" + b"1" * 5000 + b"]"):
        reply = call(service.base_url, "POST", "/sessions", body=body, headers={"Content-Type": "application/json"})
        assert reply.status == 400, reply
        assert reply.json() == {"detail": "There was an error parsing the body"}, reply


# ---------------------------------------------------------------------------------------------------
# 2. Expensive queries cannot take the pool
# ---------------------------------------------------------------------------------------------------

SLOW_TERM = "%_" * 128  # the longest allowed term, no trigram: a scan matching every name
SEEDED_ROWS = 150_000


def provisioned(service: Server) -> None:
    """Once the first request has provisioned agno's tables (the test then seeds them directly)."""
    assert call(service.base_url, "GET", "/sessions").status == 200


def seed_names(dsn: str, rows: int) -> None:
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
            " SELECT 'bulk-' || g, 'agent', jsonb_build_object('session_name', 'agent session ' || g), g"
            " FROM generate_series(1, %s) g",
            (rows,),
        )
        cur.execute("ANALYZE ai.agno_sessions")


def running_searches(admin_dsn: str, database: str) -> list[dict[str, Any]]:
    """The service's connections running the slow search right now, as one consistent sample."""
    with contextlib.closing(connect(admin_dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT pid, query_start::text, state_change::text, now()::text AS sampled FROM pg_stat_activity"
            " WHERE datname = %s AND application_name = %s AND state = 'active' AND position(%s in query) > 0"
            " AND backend_type = 'client backend'",  # not a search's parallel workers
            (database, APPLICATION_NAME, SLOW_TERM),
        )
        columns = [c.name for c in cur.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


@pytest.mark.slow
def test_name_searches_cannot_take_the_pool(
    pg_cluster: Any, dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """12 slow name searches at once through a pool of 4 with a search budget of 1: at most one runs
    in PostgreSQL at any time, the others wait (then 503), and ordinary reads keep answering 200."""
    env = {"AGNO_PG_DSN": dsn, "AGNO_POOL_MAX_SIZE": "4", "AGNO_EXPENSIVE_CONCURRENCY": "1", "AGNO_POOL_TIMEOUT": "3"}
    # every search must reach PostgreSQL: identical answers are not reused here (README "Storage")
    service = live_service(env={**env, "AGNO_ANSWER_CACHE_BYTES": "0"})
    base = service.base_url
    assert call(base, "POST", "/sessions", json_body={"session_id": "ordinary"}).status == 201
    seed_names(dsn, SEEDED_ROWS)
    admin, database = pg_cluster.admin_dsn, dbname(dsn)
    search_path = "/sessions?" + urllib.parse.urlencode({"session_name": SLOW_TERM, "limit": "1"})
    one = call(base, "GET", search_path, timeout=60)
    assert one.status == 200, one
    assert one.json()["meta"]["total_count"] == 0, one  # no name has 128 characters

    peak: list[dict[str, Any]] = []
    stop = threading.Event()

    def watch_backends() -> None:
        nonlocal peak
        while not stop.is_set():
            running = running_searches(admin, database)
            if len(running) > len(peak):
                peak = running
            stop.wait(0.02)

    watcher = threading.Thread(target=watch_backends, daemon=True)
    watcher.start()
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        searches = [pool.submit(call, base, "GET", search_path, timeout=60) for _ in range(12)]
        ordinary: list[Reply] = []
        while not all(s.done() for s in searches) and len(ordinary) < 500:
            ordinary.append(call(base, "GET", "/sessions/ordinary", timeout=30))
        search_statuses = sorted(s.result().status for s in searches)
    stop.set()
    watcher.join(5)
    figures.update(
        search_statuses=search_statuses,
        ordinary_reads=len(ordinary),
        ordinary_slowest_s=round(max(r.elapsed for r in ordinary), 3),
        peak_running_searches=len(peak),
    )
    assert len(peak) == 1, peak
    assert set(search_statuses) <= {200, 503}, search_statuses
    assert ordinary, [r for r in ordinary if r.status != 200][:3]
    assert all(r.status == 200 for r in ordinary), [r for r in ordinary if r.status != 200][:3]
    busy = [s.result() for s in searches if s.result().status == 503]
    for reply in busy:
        assert reply.json() == {"detail": "Service overloaded: too many expensive requests running"}, reply
        assert reply.header("retry-after") == "1"


@pytest.mark.slow
def test_name_search_has_its_own_statement_timeout(
    pg_cluster: Any, dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """A search past AGNO_EXPENSIVE_TIMEOUT answers 504 and its backend is idle again; an ordinary list
    of the same table is not held to that timeout."""
    env = {"AGNO_PG_DSN": dsn, "AGNO_EXPENSIVE_TIMEOUT": "0.02"}
    service = live_service(env=env)
    provisioned(service)
    seed_names(dsn, SEEDED_ROWS)
    search_path = "/sessions?" + urllib.parse.urlencode({"session_name": SLOW_TERM})
    reply = call(service.base_url, "GET", search_path, timeout=60)
    assert reply.status == 504, reply
    assert reply.json() == {"detail": "Database statement timed out"}, reply
    listed = call(service.base_url, "GET", "/sessions?limit=1&sort_by=session_id", timeout=60)
    assert listed.status == 200, listed
    assert listed.json()["meta"]["total_count"] == SEEDED_ROWS, listed
    figures.update(search_answered_s=round(reply.elapsed, 3), list_answered_s=round(listed.elapsed, 3))


@pytest.mark.slow
def test_a_client_that_hangs_up_cancels_its_query(
    pg_cluster: Any, dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """A caller that disconnects while its query waits (a locked table, 55 s statement timeout): the
    backend leaves pg_stat_activity within seconds, and the pool is whole afterwards."""
    service = live_service(env={"AGNO_PG_DSN": dsn, "AGNO_POOL_MAX_SIZE": "2"})
    base = service.base_url
    assert call(base, "POST", "/sessions", json_body={"session_id": "locked"}).status == 201
    admin, database = pg_cluster.admin_dsn, dbname(dsn)
    gone_after: list[float] = []
    locker = connect(dsn, autocommit=False)
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE ai.agno_sessions IN ACCESS EXCLUSIVE MODE")
        for path in ("/sessions/locked", "/sessions?session_name=lock", "/sessions"):
            with socket.create_connection(("127.0.0.1", port_of(service)), timeout=10) as sock:
                sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                waiting = wait_until(
                    f"GET {path} waits for the lock",
                    lambda: [b for b in service_backends(admin, database) if b["wait_event_type"] == "Lock"],
                    10,
                )
                pid = waiting[0]["pid"]
            hung_up = time.monotonic()

            def gone(pid: int = pid) -> bool:
                return all(b["pid"] != pid for b in service_backends(admin, database))

            wait_until(f"the backend of GET {path} is gone", gone, 20)
            gone_after.append(round(time.monotonic() - hung_up, 3))
    finally:
        locker.rollback()
        locker.close()
    figures["backend_gone_after_s"] = gone_after
    for _ in range(3):  # each of the pool's connections works again
        assert call(base, "GET", "/sessions/locked").status == 200
    assert rejected(base, "client_gone") >= 3


# ---------------------------------------------------------------------------------------------------
# 3. Memory bounded per connection and per process
# ---------------------------------------------------------------------------------------------------


def seed_large_page(dsn: str, rows: int = 1000, state_bytes: int = 16 * 1024) -> None:
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
            " SELECT 'big-' || g, 'agent', jsonb_build_object('session_name', 'big ' || g,"
            " 'session_state', jsonb_build_object('blob', repeat(md5(g::text), %s))), g"
            " FROM generate_series(1, %s) g",
            (state_bytes // 32, rows),
        )


@pytest.mark.slow
def test_memory_stays_bounded_under_stalled_uploads_headers_and_non_readers(
    dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """200 stalled uploads, 300 unfinished large header blocks and 4 clients reading nothing of a
    1,000-row page, all at once: peak RSS stays within the chart's 256 MiB, /healthz answers
    throughout, and RSS is back under 128 MiB within a minute of the attack ending."""
    # AGNO_POOL_TIMEOUT: the non-readers' pages must be served (then cut off), not refused on a loaded machine
    env = {"AGNO_PG_DSN": dsn, "AGNO_WRITE_TIMEOUT": "5", "AGNO_HEADER_TIMEOUT": "5", "AGNO_POOL_TIMEOUT": "60"}
    service = live_service(env=env)
    pid, base = service.proc.pid, service.base_url
    provisioned(service)
    seed_large_page(dsn)
    page = call(base, "GET", "/sessions?limit=1000", timeout=60)
    assert page.status == 200
    assert len(page.json()["data"]) == 1000
    figures["page_bytes"] = len(page.body)
    before = rss(pid)
    with HealthWatch(base) as watch, sockets() as opened:
        for _ in range(200):  # the declared body is at the limit; all but its last byte is sent
            sock = open_socket(service)
            opened.append(sock)
            body = b"x" * (MIB - 1)
            sock.sendall(
                b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (MIB, body)
            )
        for _ in range(300):
            sock = open_socket(service)
            opened.append(sock)
            sock.sendall(b"GET /sessions HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"p" * (15 * 1024))
        readers = []
        for _ in range(4):
            sock = open_socket(service, rcvbuf=4096)
            opened.append(sock)
            sock.sendall(b"GET /sessions?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n")
            readers.append(sock)
        wait_until("the non-reading clients are cut off", lambda: rejected(base, "write_timeout") >= 4, 180)
        peak = rss(pid, "VmHWM")
        received = [read_to_end(sock) for sock in readers]
        assert all(size < figures["page_bytes"] for size in received), received
        assert call(base, "GET", "/healthz").status == 200
    ended = time.monotonic()
    figures.update(
        rss_before_mib=round(before / MIB, 1),
        peak_rss_mib=round(peak / MIB, 1),
        rss_at_end_mib=round(rss(pid) / MIB, 1),
        healthz_slowest_s=round(watch.slowest(), 3),
        healthz_failures=len(watch.failures()),
    )
    settled = wait_until("RSS back under 128 MiB", lambda: [r] if (r := rss(pid)) < SETTLED_RSS else None, 60)
    figures.update(settled_rss_mib=round(settled[0] / MIB, 1), settled_after_s=round(time.monotonic() - ended, 2))
    assert peak <= MEMORY_LIMIT, f"peak RSS {peak / MIB:.0f} MiB"
    assert watch.longest_failure_run() < LIVENESS_FAILURE_THRESHOLD, watch.polls


@pytest.mark.slow
def test_header_deadline_write_timeout_and_connection_cap(
    dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """An unfinished header block is closed after the header deadline while an idle connection is
    left to the idle timeout; a client that stops reading is cut off after the write timeout; one
    connection over AGNO_MAX_CONNECTIONS gets 503 (or is closed), and the service serves again once
    they are gone."""
    env = {"AGNO_PG_DSN": dsn, "AGNO_HEADER_TIMEOUT": "1", "AGNO_WRITE_TIMEOUT": "2", "AGNO_MAX_CONNECTIONS": "20"}
    service = live_service(env=env)
    base = service.base_url
    provisioned(service)
    seed_large_page(dsn, rows=300)
    with sockets() as opened:
        idle = open_socket(service)
        partial = open_socket(service)
        opened += [idle, partial]
        partial.sendall(b"GET /sessions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        started = time.monotonic()
        wait_until("the unfinished header block is closed", lambda: is_closed_by_peer(partial), 10)
        figures["header_block_closed_after_s"] = round(time.monotonic() - started, 2)
        assert not is_closed_by_peer(idle)

        reader = open_socket(service, rcvbuf=4096)
        opened.append(reader)
        reader.sendall(b"GET /sessions?limit=300 HTTP/1.1\r\nHost: x\r\n\r\n")
        started = time.monotonic()
        wait_until("the non-reading client is cut off", lambda: rejected(base, "write_timeout") >= 1, 30)
        figures["non_reader_closed_after_s"] = round(time.monotonic() - started, 2)
        assert read_to_end(reader) < len(call(base, "GET", "/sessions?limit=300").body)

        crowd = [open_socket(service) for _ in range(19)]  # with `idle`: 20 open connections
        opened += crowd
        extra = open_socket(service)
        opened.append(extra)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := extra.recv(65536):
                answer += chunk
        assert answer == b"" or answer.startswith(b"HTTP/1.1 503 "), answer
        for sock in crowd:
            sock.close()
    wait_until("the service serves again", lambda: (r := try_call(base, "GET", "/healthz")) and r.status == 200, 10)
    assert rejected(base, "connections") >= 1


def test_bodies_in_flight_share_one_budget(live_service: Callable[..., Any], dsn: str) -> None:
    """With the body budget full of stalled uploads, one more body is answered 503 without being
    buffered; once the uploads are gone, bodies are accepted again."""
    env = {"AGNO_PG_DSN": dsn, "AGNO_MAX_BODY_BYTES": "65536", "AGNO_MAX_BUFFERED_BODY_BYTES": "131072"}
    service = live_service(env=env)
    base = service.base_url
    body = json.dumps({"session_name": "x" * 60_000}).encode()
    with sockets() as opened:
        for _ in range(2):
            sock = open_socket(service)
            opened.append(sock)
            sock.sendall(
                b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body) + 1, body)
            )
        reply = wait_until(
            "a new body finds the budget full",
            lambda: r if (r := call(base, "POST", "/sessions", body=body)).status == 503 else None,
            10,
        )
        assert reply.json() == {"detail": "Service overloaded: too many request bodies being received"}, reply
    wait_until("bodies are accepted again", lambda: call(base, "POST", "/sessions", body=body).status == 201, 10)


# ---------------------------------------------------------------------------------------------------
# 4. Descriptor exhaustion
# ---------------------------------------------------------------------------------------------------

DESCRIPTOR_LIMIT = 64


def spawn_with_descriptor_limit(env: dict[str, str], log_dir: Path) -> Server:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTOR_LIMIT, DESCRIPTOR_LIMIT))

    return spawn_service(env, log_dir, preexec_fn=limit)


@pytest.mark.slow
def test_descriptor_exhaustion_pauses_accept(dsn: str, tmp_path: Path, figures: dict[str, Any]) -> None:
    """At the descriptor limit (64 here) the accept loop pauses instead of spinning: little CPU, one
    log line per interval and no traceback; /healthz answers again within seconds of the load ending."""
    service = spawn_with_descriptor_limit(
        {"AGNO_PG_DSN": dsn, "AGNO_MAX_CONNECTIONS": "10000", "AGNO_DRAIN_SECONDS": "0"}, tmp_path
    )
    try:
        pid = service.proc.pid
        with sockets() as opened:
            for _ in range(DESCRIPTOR_LIMIT * 2):
                opened.append(open_socket(service))
            wait_until("accept fails for lack of descriptors", lambda: "cannot accept" in service.log_text(), 10)
            cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
            time.sleep(3)  # the window in which a spinning accept loop would burn a core
            cpu_share = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
        ended = time.monotonic()
        wait_until("/healthz answers again", lambda: (r := try_call(service.base_url, "GET", "/healthz")) and r, 15)
        recovered = time.monotonic() - ended
        log = service.log_text()
        figures.update(
            cpu_share_at_limit=round(cpu_share, 3),
            accept_log_lines=log.count("cannot accept connections"),
            healthz_recovered_after_s=round(recovered, 2),
        )
        assert cpu_share < 0.3, cpu_share
        assert 1 <= log.count("cannot accept connections") <= 2, log[-2000:]
        assert "Traceback" not in log, log[-2000:]
        assert log.count("Too many open files") == log.count("cannot accept"), log[-2000:]
        assert (scrape(service.base_url, "http_accept_errors_total", {"errno": "EMFILE"}) or 0) >= 1
    finally:
        service.stop()
