"""Hostile callers and secrets: constant-time token comparison, no token, DSN or password in logs,
errors or /metrics, no session data in /metrics or the health endpoints, a non-root image."""

from __future__ import annotations

import ast
import json
import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2.extensions
import pytest

from service.dev.pg import free_port
from tests.support.processes import clean_env

from .harness import Reply, call

REPO = Path(__file__).resolve().parents[2]


def test_token_compare_is_constant_time() -> None:
    """The authenticator compares the key with hmac.compare_digest, and nothing in the service compares
    the key or a token with ==, != or `in` (which stop at the first differing byte)."""
    source = (REPO / "service/auth.py").read_text()
    key_matches = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "_key_matches"
    )
    calls = [ast.unparse(n.func) for n in ast.walk(key_matches) if isinstance(n, ast.Call)]
    assert "hmac.compare_digest" in calls, calls

    def secret_comparisons(tree: ast.AST, names: set[str]) -> list[str]:
        found = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq | ast.In | ast.NotIn) for op in node.ops
            ):
                for operand in (node.left, *node.comparators):
                    for sub in ast.walk(operand):
                        if (isinstance(sub, ast.Name) and sub.id in names) or (
                            isinstance(sub, ast.Attribute) and sub.attr in names
                        ):
                            found.append(f"line {node.lineno}: {ast.unparse(node)}")
        return found

    assert secret_comparisons(key_matches, {"key", "token", "security_key"}) == []
    for path in sorted((REPO / "service").rglob("*.py")):
        found = secret_comparisons(ast.parse(path.read_text()), {"security_key", "OS_SECURITY_KEY"})
        assert found == [], f"{path.name}: the key compared with an operator: {found}"


def with_password(dsn: str, password: str, port: int | None = None, dbname: str | None = None) -> str:
    params = psycopg2.extensions.parse_dsn(dsn)
    user, host = params.get("user", "postgres"), params.get("host", "127.0.0.1")
    return f"postgresql://{user}:{password}@{host}:{port or params['port']}/{dbname or params['dbname']}"


@pytest.mark.slow
def test_secrets_never_leak(
    dsn: str, live_service: Callable[..., Any], session_factory: Callable[..., str], figures: dict[str, Any]
) -> None:
    """With a password in both DSNs (one database down) and OS_SECURITY_KEY set, neither the key, the
    passwords nor the DSNs appear in any answer (successes and errors), /metrics or the log."""
    token = f"tok-{uuid.uuid4().hex}"
    main_password, down_password = f"Main-{uuid.uuid4().hex}", f"Down-{uuid.uuid4().hex}"
    main_dsn = with_password(dsn, main_password)  # trust auth: any password is accepted
    down_dsn = with_password(dsn, down_password, port=free_port(), dbname="nowhere")
    secrets = {
        "token": token,
        "main_password": main_password,
        "down_password": down_password,
        "main_dsn": main_dsn,
        "down_dsn": down_dsn,
    }
    env = {
        "AGNO_SESSION_DSN_MAP": json.dumps({"main": main_dsn, "down": down_dsn}),
        "AGNO_DEFAULT_DB_ID": "main",
        "OS_SECURITY_KEY": token,
        "AGNO_LOG_LEVEL": "DEBUG",
        "AGNO_DRAIN_SECONDS": "0",
    }
    service = live_service(env=env)
    base = service.base_url
    auth = {"Authorization": f"Bearer {token}"}
    session_id = session_factory(base, headers=auth, session_name="secret test")
    replies: list[Reply] = []

    def send(method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Reply:
        reply = call(base, method, path, headers=headers, **kwargs)
        replies.append(reply)
        return reply

    assert send("GET", "/sessions", auth).status == 200
    assert send("GET", f"/sessions/{session_id}", auth).status == 200
    assert send("PATCH", f"/sessions/{session_id}", auth, json_body={"metadata": {"a": 1}}).status == 200
    assert send("GET", "/sessions?db_id=down", auth).status == 503
    assert send("POST", "/sessions?db_id=down", auth, json_body={}).status == 503
    assert send("GET", "/sessions?db_id=nope", auth).status == 404
    assert send("GET", "/sessions?limit=abc", auth).status == 422
    assert send("GET", "/sessions/missing", auth).status == 404
    assert send("GET", "/sessions").status == 401
    assert send("GET", "/sessions", {"Authorization": f"Bearer {token[:-1]}"}).status == 401
    assert send("GET", "/sessions", {"Authorization": f"Bearer {token}x"}).status == 401
    assert send("GET", "/sessions", {"Authorization": f"Basic {token}"}).status == 401
    assert send("POST", "/sessions", {**auth, "Content-Type": "application/json"}, body=b"{bad json").status == 422
    assert send("GET", "/readyz").status == 503
    for path in ("/healthz", "/health", "/", "/nope"):
        send("GET", path)
    metrics = send("GET", "/metrics")
    assert metrics.status == 200
    assert service.stop() == 0
    log = service.log_text()
    assert "GET /sessions" in log, "the access log must have been written"

    for name, secret in secrets.items():
        assert secret not in log, f"{name} in the log"
        assert secret not in metrics.body.decode(), f"{name} in /metrics"
        for reply in replies:
            assert secret.encode() not in reply.body, f"{name} in a {reply.status} body"
            assert all(secret not in v for v in reply.headers.values()), f"{name} in a header"
    # start-up failures print no DSN either
    for bad in (
        {"AGNO_PG_DSN": main_dsn, "AGNO_POOL_MAX_SIZE": "many"},
        {"AGNO_PG_DSN": main_dsn.replace("postgresql://", "mysql://")},
        {"AGNO_SESSION_DSN_MAP": json.dumps({"main": main_dsn})[:-2]},
        {"AGNO_SESSION_DSN_MAP": json.dumps({"main": main_dsn, "": down_dsn})},
    ):
        done = subprocess.run(
            [sys.executable, "-m", "service"],
            cwd=REPO,
            env={**clean_env(), "AGNO_SERVICE_PORT": str(free_port()), "OS_SECURITY_KEY": token, **bad},
            capture_output=True,
            timeout=30,
        )
        output = (done.stdout + done.stderr).decode()
        assert done.returncode == 2, output
        assert "configuration error" in output
        for name, secret in secrets.items():
            assert secret not in output, f"{name} in a start-up error: {output}"
    figures.update({"answers_checked": len(replies), "log_lines_checked": len(log.splitlines())})


@pytest.mark.slow
def test_metrics_and_health_expose_no_session_data(
    dsn: str, live_service: Callable[..., Any], session_factory: Callable[..., str]
) -> None:
    canary = f"canary{uuid.uuid4().hex[:12]}"
    service = live_service(env={"AGNO_PG_DSN": dsn})
    base = service.base_url
    session_id = session_factory(
        base,
        session_id=f"{canary}-sid",
        session_name=f"{canary}-name",
        user_id=f"{canary}-user",
        agent_id=f"{canary}-agent",
        session_state={"secret": f"{canary}-state"},
        metadata={"secret": f"{canary}-meta"},
        runs=[{"run_id": f"{canary}-run", "content": f"{canary}-content", "status": "COMPLETED"}],
    )
    for method, path in (
        ("GET", f"/sessions/{session_id}"),
        ("GET", f"/sessions/{session_id}/runs"),
        ("GET", f"/sessions/{session_id}/runs/{canary}-run"),
        ("GET", f"/sessions?user_id={canary}-user&session_name={canary}"),
        ("GET", f"/sessions/{canary}-missing"),
        ("GET", f"/sessions/{session_id}?type={canary}"),
        ("GET", f"/{canary}-unknown-path"),
        ("DELETE", f"/sessions/{canary}-missing"),
    ):
        assert call(base, method, path).status < 500
    for path in ("/metrics", "/healthz", "/readyz", "/health", "/"):
        reply = call(base, "GET", path)
        assert reply.status == 200, reply
        assert canary.encode() not in reply.body, f"session data in {path}"


def test_docker_image_runs_as_non_root() -> None:
    """The final stage of the Dockerfile switches to a USER that is neither root nor uid 0."""
    lines: list[str] = []
    for raw in (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            lines.append(stripped)
    last_from = max(i for i, line in enumerate(lines) if line.upper().startswith("FROM "))
    users = [line.split(None, 1)[1].strip() for line in lines[last_from:] if line.upper().startswith("USER ")]
    assert users, "the final stage never sets USER, so the container runs as root"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0", ""), users[-1]
    assert group not in ("root", "0"), users[-1]


@pytest.mark.slow
def test_callers_hanging_up_mid_request(live_service: Callable[..., Any], dsn: str) -> None:
    """Callers that reset the connection mid-request (before the answer, mid-body, mid-request-line)
    leave the service serving."""
    service = live_service(env={"AGNO_PG_DSN": dsn})
    host, port = "127.0.0.1", int(service.base_url.rsplit(":", 1)[1])
    for payload in (
        b"GET /sessions HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        b"GET /sess",
    ):
        for _ in range(20):
            with socket.create_connection((host, port), timeout=5) as sock:
                sock.sendall(payload)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert call(service.base_url, "GET", "/sessions").status == 200
    assert service.proc.poll() is None
