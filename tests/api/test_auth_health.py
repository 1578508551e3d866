"""OS_SECURITY_KEY bearer auth (contract §8.1), /health, /healthz, /readyz, /metrics, the access log."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest

from tests.api.conftest import running_api

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
        assert (await api.call("OPTIONS", "/sessions")).status != 401
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        # without a key, Authorization headers are ignored
        assert (await api.call("GET", "/sessions", headers={"Authorization": "Bearer anything"})).status == 200


@pytest.mark.gen_test(timeout=60)
async def test_health_endpoints(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        health = await api.get("/health")
        assert list(health.json) == ["status", "instantiated_at"] and health.json["status"] == "ok"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", health.json["instantiated_at"])
        assert (await api.get("/health")).json == health.json  # constant after start
        assert (await api.get("/healthz")).json == {"status": "ok"}
        ready = await api.get("/readyz")
        assert ready.status == 200 and ready.json == {"status": "ok", "draining": False, "databases": {"default": "ok"}}
        assert (await api.get("/")).json == {"name": "AgentOS", "health": "/health", "info": "/info", "docs": "/docs"}
        # overlapping probes share one readiness connection without tripping over each other
        probes = await asyncio.gather(*(api.get("/readyz") for _ in range(8)))
        assert [p.status for p in probes] == [200] * 8


@pytest.mark.gen_test(timeout=60)
async def test_readyz_reports_each_database(fresh_dsn: str) -> None:
    from service.devpg import free_port

    down = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    dsn_map = f'{{"up": "{fresh_dsn}", "down": "{down}"}}'
    async with running_api({"AGNO_SESSION_DSN_MAP": dsn_map}) as api:
        ready = await api.get("/readyz")
        assert ready.status == 503
        assert ready.json["databases"] == {"up": "ok", "down": "unavailable"}
        assert (await api.get("/healthz")).status == 200
        unavailable = await api.get("/sessions", db_id="down")
        assert unavailable.status == 503 and unavailable.json == {"detail": "Database unavailable"}
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
    assert line.path == "/sessions/m1?db_id=default" and line.status == 200 and line.db_id == "default"
    assert line.client_ip == "203.0.113.7" and line.route == "SessionHandler" and line.duration_ms >= 0
