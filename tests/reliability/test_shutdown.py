"""Graceful shutdown: SIGTERM turns /readyz 503 at once, requests are still served during the drain
window, then new connections are refused, the in-flight request finishes, pools close, exit 0."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from .harness import (
    blocked,
    call,
    dbname,
    refuses_connections,
    row_locked,
    service_backends,
    try_call,
    wait_until,
)

DRAIN = 5.0


@pytest.mark.slow
def test_sigterm_drains_and_exits_zero(
    pg_cluster: Any,
    dsn: str,
    live_service: Callable[..., Any],
    session_factory: Callable[..., str],
    figures: dict[str, Any],
) -> None:
    env = {
        "AGNO_PG_DSN": dsn,
        "AGNO_DRAIN_SECONDS": str(DRAIN),
        "AGNO_REQUEST_TIMEOUT": "20",
        "AGNO_STATEMENT_TIMEOUT": "19",
    }
    service = live_service(env=env)
    admin, database = pg_cluster.admin_dsn, dbname(dsn)
    session_id = session_factory(service.base_url, session_name="in flight")
    assert call(service.base_url, "GET", "/readyz").status == 200

    with row_locked(dsn, session_id):
        in_flight, _ = blocked(
            service.base_url,
            "PATCH",
            f"/sessions/{session_id}",
            admin,
            database,
            json_body={"metadata": {"finished": True}},
        )
        term_at = time.monotonic()
        service.proc.send_signal(signal.SIGTERM)

        def draining() -> bool:
            reply = try_call(service.base_url, "GET", "/readyz")
            return reply is not None and reply.status == 503 and reply.json()["draining"] is True

        wait_until("/readyz turns 503 (draining)", draining, DRAIN)
        unready_after = time.monotonic() - term_at
        # still serving during the drain window, on new connections (a connection is refused once the
        # window has closed, so three 200s are three requests served while draining)
        served = [call(service.base_url, "GET", path) for path in ("/healthz", "/sessions", f"/sessions/{session_id}")]
        assert [r.status for r in served] == [200, 200, 200], served

        wait_until("new connections are refused", lambda: refuses_connections(service.base_url), DRAIN + 10)
        refused_after = time.monotonic() - term_at
        # a lower bound only: a loaded machine can make it later, never earlier
        assert refused_after >= DRAIN, f"connections refused {refused_after:.2f}s after SIGTERM, before the drain"
        assert not in_flight.done.is_set(), "the in-flight PATCH ended while its row was still locked"
        assert service.proc.poll() is None, "the service exited with a request in flight"
    # the lock is released: the in-flight request completes and the process exits cleanly
    reply = in_flight.join(15)
    assert reply.status == 200, reply
    assert reply.json()["metadata"] == {"finished": True}, reply
    try:
        code = service.proc.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail("the service did not exit after its last request finished")
    exited_after = time.monotonic() - term_at
    assert code == 0
    wait_until("the service's connections are closed", lambda: not service_backends(admin, database), 20)

    lines = [json.loads(line) for line in service.log_text().splitlines() if line.startswith("{")]
    messages = [line["msg"] for line in lines]
    assert messages[-1] == "stopped", messages[-3:]
    drain_index = next((i for i, m in enumerate(messages) if m.startswith("draining")), None)
    assert drain_index is not None, messages
    patch_index = next(i for i, m in enumerate(messages) if m.startswith("PATCH /sessions/"))
    # answered after draining began (it was in flight at SIGTERM) and before the pools closed
    assert drain_index < patch_index < len(messages) - 1, (drain_index, patch_index, messages[drain_index:])
    assert "Traceback" not in service.log_text()
    assert "Warning" not in service.log_text()
    figures.update(
        {
            "drain_seconds": DRAIN,
            "readyz_503_after_sigterm_s": round(unready_after, 3),
            "requests_served_while_draining": len(served),
            "connections_refused_after_sigterm_s": round(refused_after, 3),
            "in_flight_request_status": reply.status,
            "exit_code": code,
            "exited_after_sigterm_s": round(exited_after, 3),
        }
    )


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_during_start_up_exits_zero(
    new_database: Callable[[], str], live_service: Callable[..., Any], workers: str
) -> None:
    """SIGTERM while the start-up warm-up still provisions a new database (a pod stopped right after it
    started): the cancelled warm-up gives its connection back and the process exits 0 at once instead of
    hanging on closing its pool. Three new databases each, as the window is short."""
    for _ in range(3):
        env = {"AGNO_PG_DSN": new_database(), "AGNO_WORKERS": workers, "AGNO_DRAIN_SECONDS": "0"}
        service = live_service(env, "/readyz")
        assert service.stop(timeout=10) == 0, service.log_text()[-2000:]
