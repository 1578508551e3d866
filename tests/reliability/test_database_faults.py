"""Database faults: a restart under load, a dead connection under a read, a database down at start.

Each test runs its own throwaway PostgreSQL cluster (never the shared session cluster), so
stopping and restarting it disturbs nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from .harness import (
    LoadLoop,
    Outcome,
    Prober,
    blocked,
    call,
    connect,
    dbname,
    scrape,
    table_locked,
    try_call,
    wait_until,
)

POOL = 4


def service_env(dsn: str, **extra: str) -> dict[str, str]:
    return {
        "AGNO_PG_DSN": dsn,
        "AGNO_POOL_MAX_SIZE": str(POOL),
        "AGNO_POOL_TIMEOUT": "2",
        "AGNO_REQUEST_TIMEOUT": "10",
        "AGNO_STATEMENT_TIMEOUT": "5",
        **extra,
    }


def assert_failures_are_json_503(outcomes: list[Outcome]) -> None:
    """Every failed request was answered (never a dropped connection), 503 JSON with Retry-After."""
    for outcome in outcomes:
        if outcome.ok:
            continue
        assert outcome.reply is not None, f"no answer at all: {outcome}"
        assert outcome.status == 503, outcome.reply
        assert outcome.reply.is_json_error(), outcome.reply
        assert outcome.reply.header("retry-after"), outcome.reply


def idle_connections(base_url: str) -> int:
    value = scrape(base_url, "db_pool_connections", {"db_id": "default", "state": "idle"})
    assert value is not None, "no db_pool_connections{state=idle} sample in /metrics"
    return int(value)


@pytest.mark.slow
def test_restart_under_load(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    """PostgreSQL restarts while POOL workers send reads and writes: failures are 503 JSON and only
    while it is down or (at most one per pooled connection) right after; then full recovery,
    with the same service process; /readyz 503 while down and 200 after; /healthz always 200."""
    cluster = throwaway_cluster()
    dsn = cluster.create_database("agno")
    service = live_service(env=service_env(dsn))
    pid = service.proc.pid
    ids = [session_factory(service.base_url, session_name=f"restart-{i}") for i in range(POOL * 2)]

    def plan(worker: int, n: int) -> tuple[str, str, Any]:
        """A list, a read and a write in turn."""
        session_id = ids[(worker + n) % len(ids)]
        if n % 3 == 0:
            return "GET", "/sessions?limit=5&sort_by=updated_at", None
        if n % 3 == 1:
            return "GET", f"/sessions/{session_id}", None
        return "PATCH", f"/sessions/{session_id}", {"metadata": {"worker": worker, "n": n}}

    with (
        Prober(service.base_url, ["/healthz"]) as liveness,
        Prober(service.base_url, ["/readyz"]) as probe,
        LoadLoop(service.base_url, plan, POOL) as load,
    ):
        began = time.monotonic()
        wait_until("every worker has 10 answers", lambda: min(load.successes_after(began).values()) >= 10, 30)

        # -- phase 1: stop and start PostgreSQL while the service's loop runs
        stop_at = time.monotonic()
        cluster.stop("fast")
        wait_until("/readyz turns 503", lambda: probe.first("/readyz", 503, stop_at), 15)
        # each request now retries for AGNO_POOL_TIMEOUT (2 s) before its 503: two per worker
        wait_until(
            f"{2 * POOL} requests failed and /healthz was polled 5 times while the database is down",
            lambda: (
                sum(1 for o in load.snapshot() if o.started > stop_at and not o.ok) >= 2 * POOL
                and len(liveness.statuses("/healthz", stop_at)) >= 5
            ),
            30,
        )
        cluster.start()
        up_at = time.monotonic()
        ready_at = wait_until("/readyz turns 200 again", lambda: probe.first("/readyz", 200, up_at), 15)
        wait_until(
            "every worker has 20 answers after the restart",
            lambda: min(load.successes_after(up_at).values()) >= 20,
            30,
        )
        load.stop()
        outcomes = load.snapshot()
        healthz = liveness.statuses("/healthz")
        readyz_down = [s for t, s in probe.statuses("/readyz", stop_at) if t < up_at]

    assert service.proc.poll() is None, "the service process must survive"
    assert service.proc.pid == pid, "the service process must survive"
    assert {s for _, s in healthz} == {200}, f"/healthz answered {sorted({s for _, s in healthz})}"
    assert 503 in readyz_down
    assert_failures_are_json_503(outcomes)
    during = [o for o in outcomes if stop_at <= o.ended and o.started < up_at]
    after_restart = [o for o in outcomes if o.started >= up_at]
    failed_after = [o for o in after_restart if not o.ok]
    assert len(failed_after) <= POOL, f"{len(failed_after)} failures after the restart with a pool of {POOL}"
    for worker in range(POOL):
        tail = [o for o in after_restart if o.worker == worker][-10:]
        assert all(o.ok for o in tail), f"worker {worker} has not recovered: {tail}"
    first_ok = min(o.ended for o in after_restart if o.ok)

    # -- phase 2: the service is frozen (SIGSTOP) while PostgreSQL restarts, so every pooled
    # connection is stale when it wakes; each may cost at most one failed request.
    stale = idle_connections(service.base_url)
    os.kill(service.proc.pid, signal.SIGSTOP)
    try:
        cluster.stop("immediate")
        cluster.start()
    finally:
        os.kill(service.proc.pid, signal.SIGCONT)
    frozen_replies = [
        call(service.base_url, "GET", f"/sessions/{ids[n % len(ids)]}", timeout=20) for n in range(2 * POOL + 10)
    ]
    frozen_failures = [r for r in frozen_replies if r.status != 200]
    assert len(frozen_failures) <= max(stale, 1), frozen_failures
    assert all(r.status == 503 and r.is_json_error() for r in frozen_failures), frozen_failures
    assert all(r.status == 200 for r in frozen_replies[-10:]), frozen_replies[-10:]
    assert call(service.base_url, "GET", "/healthz").status == 200

    figures.update(
        {
            "pool_max_size": POOL,
            "workers": POOL,
            "requests_sent": len(outcomes),
            "requests_failed": sum(1 for o in outcomes if not o.ok),
            "failure_statuses": sorted({o.status for o in outcomes if not o.ok}),
            "outage_seconds": round(up_at - stop_at, 3),
            "requests_during_outage": len(during),
            "failed_during_outage": sum(1 for o in during if not o.ok),
            "requests_after_restart": len(after_restart),
            "failed_after_restart": len(failed_after),
            "readyz_200_after_restart_s": round(ready_at - up_at, 3),
            "first_success_after_restart_s": round(first_ok - up_at, 3),
            "healthz_polls": len(healthz),
            "healthz_polls_during_outage": sum(1 for t, _ in healthz if stop_at <= t < up_at),
            "healthz_non_200": sum(1 for _, s in healthz if s != 200),
            "frozen_loop_stale_connections": stale,
            "frozen_loop_requests": len(frozen_replies),
            "frozen_loop_failures": len(frozen_failures),
        }
    )


@pytest.mark.slow
def test_dead_connection_retried_on_a_fresh_one(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    """A backend killed under a read: the read is retried on a new connection and answers 200.
    Under a write, before its COMMIT was sent: nothing was committed, so it is retried too and
    answers 200, applied once. The next requests work."""
    cluster = throwaway_cluster()
    dsn = cluster.create_database("agno")
    admin = cluster.dsn()
    service = live_service(env=service_env(dsn))
    session_id = session_factory(service.base_url, session_name="retry me")

    def terminate(pid: int) -> None:
        with contextlib.closing(connect(admin)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))

    database = dbname(dsn)
    with table_locked(dsn):
        read, pid = blocked(service.base_url, "GET", f"/sessions/{session_id}", admin, database, wait=10)
        terminate(pid)
    read_reply = read.join(15)
    assert read_reply.status == 200, read_reply
    assert read_reply.json()["session_name"] == "retry me"

    with table_locked(dsn):
        write, pid = blocked(
            service.base_url,
            "PATCH",
            f"/sessions/{session_id}",
            admin,
            database,
            wait=10,
            json_body={"metadata": {"a": 1}},
        )
        terminate(pid)
    write_reply = write.join(15)
    assert write_reply.status == 200, write_reply
    assert write_reply.json()["metadata"] == {"a": 1}, write_reply

    after = [call(service.base_url, "GET", f"/sessions/{session_id}") for _ in range(POOL + 2)]
    assert [r.status for r in after] == [200] * len(after)
    patched = call(service.base_url, "PATCH", f"/sessions/{session_id}", json_body={"metadata": {"b": 2}})
    assert patched.status == 200, patched
    log = service.log_text()
    assert "unreachable during a read" in log, log
    assert "unreachable during a write" in log, log
    figures.update({"read_after_killed_backend": read_reply.status, "write_after_killed_backend": write_reply.status})


@pytest.mark.slow
def test_database_down_at_start(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    figures: dict[str, Any],
) -> None:
    """The service starts without its database, says not ready (503 JSON, no crash loop), and
    serves as soon as the database appears, without a restart."""
    cluster = throwaway_cluster(start=False)
    dsn = cluster.dsn("agno")
    service = live_service(env=service_env(dsn))
    pid = service.proc.pid

    readyz = call(service.base_url, "GET", "/readyz")
    assert readyz.status == 503, readyz
    assert readyz.json()["databases"] == {"default": "unavailable"}, readyz
    listing = call(service.base_url, "GET", "/sessions")
    assert listing.status == 503, listing
    assert listing.is_json_error(), listing
    assert listing.header("retry-after"), listing
    created = call(service.base_url, "POST", "/sessions", json_body={"session_name": "early"})
    assert created.status == 503, created
    assert created.is_json_error(), created
    assert call(service.base_url, "GET", "/healthz").status == 200
    refused = 3

    cluster.start()
    cluster.create_database("agno")
    up_at = time.monotonic()
    wait_until("/readyz turns 200", lambda: (r := try_call(service.base_url, "GET", "/readyz")) and r.status == 200, 15)
    ready_after = time.monotonic() - up_at
    created = call(service.base_url, "POST", "/sessions", json_body={"session_name": "late"})
    assert created.status == 201, created
    listing = call(service.base_url, "GET", "/sessions")
    assert listing.status == 200, listing
    assert listing.json()["meta"]["total_count"] == 1, listing
    assert service.proc.poll() is None, "the service must not have restarted"
    assert service.proc.pid == pid, "the service must not have restarted"
    figures.update({"requests_refused_while_down": refused, "readyz_200_after_database_up_s": round(ready_after, 3)})
