"""Overload: a bounded wait for a pooled connection (then 503 JSON with Retry-After, never a hang),
request bodies over AGNO_MAX_BODY_BYTES (413), pages over AGNO_MAX_PAGE_SIZE (422)."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.compat import assert_documented

from .harness import call, dbname, in_background, lock_waiters, row_locked, scrape, try_call, wait_until

POOL = 2
POOL_WAIT = 5.0
"""Long enough that the test sees the waiting GET (below) and frees a connection well within it, even on
a loaded machine; no assert depends on how much longer than this a 503 takes."""


def body_of_size(size: int) -> bytes:
    """A valid JSON POST /sessions body of exactly `size` bytes."""
    frame = b'{"session_name":"", "metadata": {}}'
    return frame.replace(b'""', b'"' + b"x" * (size - len(frame)) + b'"')


@pytest.mark.slow
def test_pool_exhaustion_waits_then_503(
    pg_cluster: Any,
    dsn: str,
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    env = {
        "AGNO_PG_DSN": dsn,
        "AGNO_POOL_MAX_SIZE": str(POOL),
        "AGNO_POOL_TIMEOUT": str(POOL_WAIT),
        "AGNO_REQUEST_TIMEOUT": "20",
        "AGNO_STATEMENT_TIMEOUT": "19",
    }
    service = live_service(env=env)
    base = service.base_url
    admin, database = pg_cluster.admin_dsn, dbname(dsn)
    busy_id = session_factory(base, session_name="busy")
    free_id = session_factory(base, session_name="free")

    with row_locked(dsn, busy_id):
        # every pooled connection is taken by a PATCH waiting for the locked row
        holders = [
            in_background(base, "PATCH", f"/sessions/{busy_id}", json_body={"metadata": {"holder": n}})
            for n in range(POOL)
        ]
        wait_until("all pooled connections are busy", lambda: len(lock_waiters(admin, database)) == POOL, 20)

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            rejected = list(pool.map(lambda _: call(base, "GET", f"/sessions/{free_id}"), range(4)))
        for reply in rejected:
            assert reply.status == 503, reply
            assert reply.is_json_error(), reply
            assert reply.header("retry-after"), reply
            assert "overloaded" in reply.json()["detail"]
            # it waited for a connection (a lower bound: load can only make it later) and then gave up;
            # "never a hang" is the answer itself, which `call` waits for with its own 30 s deadline
            assert reply.elapsed >= POOL_WAIT * 0.9, reply.elapsed
        assert call(base, "GET", "/healthz").status == 200
        # a busy pool is overload, not an outage: readiness pings on a connection of its own
        assert call(base, "GET", "/readyz").status == 200

        # a request that finds the pool busy gets the first connection freed within the wait
        waiting = in_background(base, "GET", f"/sessions/{free_id}")

        def waiting_for_pool() -> bool:
            # the two holders, the waiting GET and this /metrics request
            return (scrape(base, "http_requests_in_progress") or 0) >= POOL + 2

        wait_until("the GET waits for a connection", waiting_for_pool, POOL_WAIT / 2)
        assert not waiting.done.is_set(), "the waiting GET was answered before a connection was freed"
    served = waiting.join(30)
    assert served.status == 200, served
    assert [h.join(10).status for h in holders] == [200] * POOL
    rejected_total = scrape(base, "http_requests_rejected_total", {"reason": "overload"})
    assert rejected_total == len(rejected)
    figures.update(
        {
            "pool_max_size": POOL,
            "pool_timeout_s": POOL_WAIT,
            "rejected_503": len(rejected),
            "max_seconds_to_503": round(max(r.elapsed for r in rejected), 3),
            "waited_then_served_s": round(served.elapsed, 3),
        }
    )


@pytest.mark.slow
def test_body_limit_413(dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]) -> None:
    """Bodies over AGNO_MAX_BODY_BYTES: 413 JSON. Far past it (over 4x + 64 KiB) the HTTP layer cuts
    the connection instead of buffering the body; the service keeps serving either way."""
    limit = 4096
    service = live_service(env={"AGNO_PG_DSN": dsn, "AGNO_MAX_BODY_BYTES": str(limit)})
    base = service.base_url
    json_type = {"Content-Type": "application/json"}
    at_limit = call(base, "POST", "/sessions", body=body_of_size(limit), headers=json_type)
    assert at_limit.status == 201, at_limit
    session_id = at_limit.json()["session_id"]
    for method, path in (("POST", "/sessions"), ("PATCH", f"/sessions/{session_id}"), ("DELETE", "/sessions")):
        for size in (limit + 1, limit * 4):
            reply = call(base, method, path, body=body_of_size(size), headers=json_type)
            assert reply.status == 413, (method, size, reply)
            assert reply.is_json_error(), (method, size, reply)
    # chunked transfer encoding is counted the same way
    conn = http.client.HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=10)
    conn.request("POST", "/sessions", body=iter([body_of_size(limit * 2)]), headers={**json_type}, encode_chunked=True)
    chunked = conn.getresponse()
    assert chunked.status == 413
    assert "detail" in json.loads(chunked.read())
    conn.close()
    # 50 MB: refused at the HTTP layer (bare 400 or a closed connection), never buffered or a 5xx
    huge = try_call(base, "POST", "/sessions", body=b"x" * 50_000_000, headers=json_type, timeout=30)
    assert huge is None or huge.status in (400, 413), huge
    assert call(base, "GET", "/healthz").status == 200
    assert call(base, "POST", "/sessions", json_body={"session_name": "still fine"}).status == 201
    figures.update({"max_body_bytes": limit, "huge_body_answer": None if huge is None else huge.status})


@pytest.mark.slow
def test_default_body_limit_is_1_mib(dsn: str, live_service: Callable[..., Any]) -> None:
    service = live_service(env={"AGNO_PG_DSN": dsn})
    json_type = {"Content-Type": "application/json"}
    over = call(service.base_url, "POST", "/sessions", body=body_of_size(1024 * 1024 + 1), headers=json_type)
    assert_documented("body-too-large", over.status, over.json())
    at = call(service.base_url, "POST", "/sessions", body=body_of_size(1024 * 1024), headers=json_type)
    assert at.status == 201, at


@pytest.mark.slow
def test_page_size_limit_422(dsn: str, live_service: Callable[..., Any]) -> None:
    service = live_service(env={"AGNO_PG_DSN": dsn, "AGNO_MAX_PAGE_SIZE": "50"})
    base = service.base_url
    assert call(base, "GET", "/sessions?limit=50").status == 200
    for limit in ("51", "1000", "99999999999999999999999"):
        reply = call(base, "GET", f"/sessions?limit={limit}")
        assert reply.status == 422, (limit, reply)
        assert reply.is_json_error(), (limit, reply)
        assert reply.json()["detail"][0]["loc"] == ["query", "limit"]
    default = live_service(env={"AGNO_PG_DSN": dsn})
    assert call(default.base_url, "GET", "/sessions?limit=1000").status == 200
    assert call(default.base_url, "GET", "/sessions?limit=1001").status == 422
