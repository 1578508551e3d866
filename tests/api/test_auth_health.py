"""OS_SECURITY_KEY bearer auth (docs/security.md), /health, /healthz, /readyz, /metrics, the access log."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import running_api
from tests.reliability.harness import call, scrape, wait_until
from tests.support.compat import assert_documented
from tests.support.processes import Server

KEY = "secret123"


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(
    ("authorization", "status", "detail"),
    [
        (None, 401, "Authorization header required"),
        ("", 401, "Authorization header required"),
        ("Bearer wrong", 401, "Invalid authentication token"),
        ("Bearer ", 401, "Invalid authentication token"),
        (f"Basic {KEY}", 401, "Invalid authentication token"),
        (f"Bearer {KEY}", 200, None),
        (f"bearer {KEY}", 200, None),
        (f"BEARER   {KEY}  ", 200, None),
        (KEY, 200, None),  # AgentOS accepts the bare key without a scheme
    ],
)
async def test_security_key(fresh_dsn: str, authorization: str | None, status: int, detail: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "OS_SECURITY_KEY": KEY}) as api:
        reply = await api.call("GET", "/sessions", headers=headers)
    assert reply.status == status
    if detail is not None:
        assert reply.json == {"detail": detail}
        assert "WWW-Authenticate" not in reply.headers


@pytest.mark.gen_test(timeout=60)
async def test_auth_precedes_routing_and_validation_and_exempts_probes(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "OS_SECURITY_KEY": KEY}) as api:
        assert (await api.get("/nope")).status == 401
        assert (await api.get("/sessions", limit="abc")).status == 401
        assert (await api.call("PUT", "/sessions", body={})).status == 401
        for path in ("/health", "/health/", "/healthz", "/readyz", "/metrics", "/"):
            assert (await api.get(path)).status == 200, path
        options = await api.call("OPTIONS", "/sessions")  # not behind auth: no 401, Tornado's 405
        assert options.status == 405
        assert options.json == {"detail": "Method Not Allowed"}
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        # without a key, Authorization headers are ignored
        assert (await api.call("GET", "/sessions", headers={"Authorization": "Bearer anything"})).status == 200


@pytest.mark.gen_test(timeout=60)
async def test_health_endpoints(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        health = await api.get("/health")
        assert list(health.json) == ["status", "instantiated_at"]
        assert health.json["status"] == "ok"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", health.json["instantiated_at"])
        assert (await api.get("/health")).json == health.json  # constant after start
        assert (await api.get("/healthz")).json == {"status": "ok"}
        ready = await api.get("/readyz")
        assert ready.status == 200
        assert ready.json == {"status": "ok", "draining": False, "databases": {"default": "ok"}}
        assert (await api.get("/")).json == {"name": "AgentOS", "health": "/health", "info": "/info", "docs": "/docs"}
        # overlapping probes share one readiness connection without tripping over each other
        probes = await asyncio.gather(*(api.get("/readyz") for _ in range(8)))
        assert [p.status for p in probes] == [200] * 8


@pytest.mark.gen_test(timeout=60)
async def test_readyz_reports_each_database(fresh_dsn: str) -> None:
    from service.dev.pg import free_port

    down = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    dsn_map = f'{{"up": "{fresh_dsn}", "down": "{down}"}}'
    async with running_api({"AGNO_SESSION_DSN_MAP": dsn_map}) as api:
        ready = await api.get("/readyz")
        assert ready.status == 503
        assert ready.json["databases"] == {"up": "ok", "down": "unavailable"}
        assert (await api.get("/healthz")).status == 200
        unavailable = await api.get("/sessions", db_id="down")
        assert_documented("database-unavailable", unavailable.status, unavailable.json)
        assert unavailable.headers["Retry-After"]
        assert (await api.get("/sessions", db_id="up")).status == 200


@pytest.mark.gen_test(timeout=60)
async def test_metrics_and_access_log(fresh_dsn: str, caplog: Any) -> None:
    caplog.set_level(logging.INFO, logger="agno_session.access")
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        await api.call("POST", "/sessions", body={"session_id": "m1"})
        await api.call(
            "GET",
            "/sessions/m1",
            query={"db_id": "default"},
            headers={"X-Request-ID": "rid-1", "X-Forwarded-For": "203.0.113.7, 10.0.0.1"},
        )
        text = (await api.get("/metrics")).text
    for name in (
        'http_requests_total{handler="SessionHandler",method="GET",status="200"}',
        "http_request_duration_seconds_bucket",
        "http_requests_in_progress",
        'db_query_duration_seconds_count{db_id="default",query="get_session"}',
        'db_pool_connections{db_id="default",state="max"} 10.0',
        "db_errors_total",
        "agno_session_build_info",
    ):
        assert name in text, name
    assert "m1" not in text  # no session data in metrics
    line = next(r for r in caplog.records if getattr(r, "request_id", None) == "rid-1")
    assert line.path == "/sessions/m1?db_id=default"
    assert line.status == 200
    assert line.db_id == "default"
    assert line.client_ip == "203.0.113.7"
    assert line.route == "SessionHandler"
    assert line.duration_ms >= 0


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(
    ("trust", "proxies", "headers", "client_ip"),
    [
        ("true", None, {"X-Real-IP": "198.51.100.4"}, "198.51.100.4"),
        ("true", None, {"X-Forwarded-For": " 203.0.113.9 ", "X-Real-IP": "198.51.100.4"}, "203.0.113.9"),
        ("false", None, {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "198.51.100.4"}, "127.0.0.1"),
        # what a client wrote left of the last untrusted hop is not believed
        ("true", None, {"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.1.2.3"}, "203.0.113.7"),
        # a peer outside AGNO_TRUSTED_PROXIES is the client, whatever it claims
        ("true", "10.0.0.0/8", {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "198.51.100.4"}, "127.0.0.1"),
        ("true", "10.0.0.0/8, 127.0.0.1/32", {"X-Forwarded-For": "203.0.113.9"}, "203.0.113.9"),
    ],
)
async def test_access_log_client_ip_behind_proxies(
    fresh_dsn: str, caplog: Any, trust: str, proxies: str | None, headers: dict[str, str], client_ip: str
) -> None:
    caplog.set_level(logging.INFO, logger="agno_session.access")
    env = {"AGNO_PG_DSN": fresh_dsn, "AGNO_TRUST_PROXY_HEADERS": trust}
    if proxies is not None:
        env["AGNO_TRUSTED_PROXIES"] = proxies
    async with running_api(env) as api:
        await api.call("GET", "/sessions", headers={"X-Request-ID": "rid-ip", **headers})
    line = next(r for r in caplog.records if getattr(r, "request_id", None) == "rid-ip")
    assert line.client_ip == client_ip
    assert line.method == "GET"


@pytest.mark.gen_test(timeout=60)
async def test_unhandled_error_is_a_json_500_that_names_nothing(
    fresh_dsn: str, caplog: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service import store

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom-marker")

    monkeypatch.setattr(store, "list_sessions", broken)
    caplog.set_level(logging.ERROR, logger="agno_session.api")
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        reply = await api.call("GET", "/sessions", headers={"X-Request-ID": "rid-500"})
        after = await api.call("GET", "/healthz")
    assert_documented("unhandled-error-body", reply.status, reply.json)
    assert "boom-marker" not in reply.text
    assert "RuntimeError" not in reply.text
    assert reply.headers["X-Request-ID"] == "rid-500"
    logged = [r for r in caplog.records if r.name == "agno_session.api" and r.exc_info]
    assert logged
    assert "rid-500" in logged[0].getMessage()
    assert isinstance(logged[0].exc_info[1], RuntimeError)
    assert after.status == 200


def listening_pids(service: Server) -> set[int]:
    return {json.loads(line)["pid"] for line in service.log_text().splitlines() if '"listening on' in line}


def test_two_workers_share_one_port_and_metrics_count_both(fresh_dsn: str, live_service: Callable[..., Server]) -> None:
    """AGNO_WORKERS=2: two processes serve the port, and every scrape of /metrics (Prometheus
    multiprocess mode) counts the requests of both, whichever worker answers the scrape."""
    service = live_service({"AGNO_PG_DSN": fresh_dsn, "AGNO_WORKERS": "2", "AGNO_DRAIN_SECONDS": "0"}, "/readyz")
    for _ in range(40):
        assert call(service.base_url, "GET", "/sessions", headers={"Connection": "close"}).status == 200
    wait_until("both workers listen", lambda: len(listening_pids(service)) == 2, 30)
    workers = listening_pids(service)
    labels = {"handler": "SessionsHandler", "method": "GET", "status": "200"}
    assert [scrape(service.base_url, "http_requests_total", labels) for _ in range(8)] == [40.0] * 8
    # SIGTERM to the supervisor stops the workers too (none is left serving the port)
    assert service.stop() == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], workers


def test_workers_stop_when_the_supervisor_is_killed(fresh_dsn: str, live_service: Callable[..., Server]) -> None:
    """A supervisor killed outright (SIGKILL, OOM) leaves no orphaned worker serving the port."""
    service = live_service({"AGNO_PG_DSN": fresh_dsn, "AGNO_WORKERS": "2", "AGNO_DRAIN_SECONDS": "0"}, "/readyz")
    # /readyz answers as soon as one worker listens: wait for the other's line too
    wait_until("both workers listen", lambda: len(listening_pids(service)) == 2, 30)
    workers = listening_pids(service)
    service.stop(signal.SIGKILL)
    wait_until("the workers exit", lambda: not [pid for pid in workers if Path(f"/proc/{pid}").exists()], 15)
