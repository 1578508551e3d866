"""Slow queries: past AGNO_STATEMENT_TIMEOUT or AGNO_REQUEST_TIMEOUT a request is answered 504 JSON
while the lock it waits for is still held, the statement no longer runs in PostgreSQL, and no pooled
connection leaks.

A request is made slow by a lock held from the test: `SELECT ... FOR UPDATE` on the session row
(a PATCH waits for it) or ACCESS EXCLUSIVE on the table (every read waits for it). No assert bounds how
long after the limit a 504 comes (a loaded machine decides that): the answer arriving while the lock is
held, with the timeout's own detail, is what shows that the timeout ended the request; the measured
latencies go to the figures only.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.compat import assert_documented

from .harness import (
    blocked,
    call,
    dbname,
    lock_waiters,
    row_locked,
    scrape,
    service_backends,
    table_locked,
    wait_until,
)

POOL = 2
ROUNDS = POOL + 2  # more timeouts than pooled connections: a leak would exhaust the pool


def assert_pool_healthy(base_url: str, session_id: str) -> None:
    """Every connection is back: POOL + 2 parallel reads and a write succeed, none in use after."""
    with concurrent.futures.ThreadPoolExecutor(POOL + 2) as pool:
        replies = list(pool.map(lambda _: call(base_url, "GET", f"/sessions/{session_id}"), range(POOL + 2)))
    assert [r.status for r in replies] == [200] * len(replies), replies
    patched = call(base_url, "PATCH", f"/sessions/{session_id}", json_body={"metadata": {"after": True}})
    assert patched.status == 200, patched
    assert scrape(base_url, "db_pool_connections", {"db_id": "default", "state": "in_use"}) == 0


@pytest.mark.slow
def test_statement_timeout_answers_504(
    pg_cluster: Any,
    dsn: str,
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    limit = 0.5
    env = {"AGNO_PG_DSN": dsn, "AGNO_STATEMENT_TIMEOUT": str(limit), "AGNO_REQUEST_TIMEOUT": "10"}
    service = live_service(env={**env, "AGNO_POOL_MAX_SIZE": str(POOL)})
    session_id = session_factory(service.base_url, session_name="slow")
    admin = pg_cluster.admin_dsn
    elapsed: list[float] = []
    database = dbname(dsn)
    with row_locked(dsn, session_id):
        for n in range(ROUNDS):
            job, pid = blocked(
                service.base_url, "PATCH", f"/sessions/{session_id}", admin, database, json_body={"metadata": {"n": n}}
            )
            reply = job.join(30)
            assert reply.status == 504, reply
            assert reply.json() == {"detail": "Database statement timed out"}, reply
            assert reply.elapsed >= limit, reply.elapsed
            elapsed.append(reply.elapsed)
            # PostgreSQL cancelled the statement itself: its backend no longer runs it
            backend = [b for b in service_backends(admin, database) if b["pid"] == pid]
            assert backend == [] or backend[0]["state"] != "active", backend
        assert lock_waiters(admin, database) == []
    with table_locked(dsn):
        for _ in range(ROUNDS):
            reply = call(service.base_url, "GET", f"/sessions/{session_id}")
            assert reply.status == 504, reply
            assert reply.json() == {"detail": "Database statement timed out"}, reply
            assert reply.elapsed >= limit, reply.elapsed
            elapsed.append(reply.elapsed)
        listing = call(service.base_url, "GET", "/sessions")
        assert listing.status == 504, listing
        assert listing.is_json_error(), listing
        assert lock_waiters(admin, database) == []
    assert_pool_healthy(service.base_url, session_id)
    figures.update(
        {
            "statement_timeout_s": limit,
            "timed_out_requests": len(elapsed) + 1,
            "max_seconds_to_504": round(max(elapsed), 3),
            "min_seconds_to_504": round(min(elapsed), 3),
        }
    )


@pytest.mark.slow
def test_request_timeout_answers_504_and_stops_the_query(
    pg_cluster: Any,
    dsn: str,
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    limit = 1.0
    env = {"AGNO_PG_DSN": dsn, "AGNO_STATEMENT_TIMEOUT": "30", "AGNO_REQUEST_TIMEOUT": str(limit)}
    service = live_service(env={**env, "AGNO_POOL_MAX_SIZE": str(POOL)})
    session_id = session_factory(service.base_url, session_name="slow")
    admin, database = pg_cluster.admin_dsn, dbname(dsn)
    elapsed: list[float] = []
    gone_after: list[float] = []
    with row_locked(dsn, session_id):
        for n in range(ROUNDS):
            job, pid = blocked(
                service.base_url, "PATCH", f"/sessions/{session_id}", admin, database, json_body={"metadata": {"n": n}}
            )
            # the statement would wait 30 s for the lock: an answer before that is the request timeout's
            reply = job.join(25)
            assert_documented("timeouts", reply.status, reply.json())
            assert reply.elapsed >= limit, reply.elapsed
            elapsed.append(reply.elapsed)
            # the client side gave up; the server-side backend must go too, although its statement
            # would have waited 30 s for the lock (client_connection_check_interval)
            started = time.monotonic()
            wait_until(
                f"backend {pid} leaves pg_stat_activity",
                lambda: all(b["pid"] != pid for b in service_backends(admin, database)),  # noqa: B023
                20,
            )
            gone_after.append(round(time.monotonic() - started, 3))
    assert_pool_healthy(service.base_url, session_id)
    figures.update(
        {
            "request_timeout_s": limit,
            "timed_out_requests": len(elapsed),
            "max_seconds_to_504": round(max(elapsed), 3),
            "seconds_until_backend_gone_after_504": gone_after,
        }
    )
