"""HTTP-level tests of the service in-process (pytest-tornado's io_loop, a real PostgreSQL).

Fixtures and helpers
- `running_api(env)`: async context manager serving `make_app` on a free port for one test,
  with config from `env` (like the process environment); yields an `ApiClient`.
- `seeded_dsn` (module): a database holding the 19 sessions of the AgentOS oracle seed
  (tests/fixtures/shaping/seed_sessions.json) with their runs, as agno stores them.
- `ApiClient.call(method, path, query=[...], body=..., raw=..., headers=...)` -> `Reply(status, json, headers)`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psycopg2
import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.testing import bind_unused_port

from service.app import make_app
from service.config import load_config
from service.db import Databases
from service.limits import GuardedHTTPServer
from service.queries import Queries

QUERIES = Queries.load()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shaping"
SEED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "seed_sessions.json").read_text("utf-8"))
_UNSET = object()


@dataclass
class Reply:
    status: int
    json: Any
    headers: Any
    text: str


class ApiClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = AsyncHTTPClient()

    async def call(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | dict[str, str] | None = None,
        body: Any = _UNSET,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        url = self.base_url + path
        if query:
            url += "?" + urlencode(list(query.items()) if isinstance(query, dict) else query)
        all_headers = dict(headers or {})
        payload: bytes | None = None
        if raw is not None:
            payload = raw.encode() if isinstance(raw, str) else raw
        elif body is not _UNSET:
            payload = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        if payload is None and method in ("POST", "PATCH", "PUT"):
            payload = b""
        request = HTTPRequest(
            url, method=method, body=payload, headers=all_headers, allow_nonstandard_methods=True, request_timeout=60
        )
        response = await self.http.fetch(request, raise_error=False)
        text = response.body.decode("utf-8") if response.body else ""
        parsed = (
            json.loads(text)
            if text and response.headers.get("Content-Type", "").startswith("application/json")
            else None
        )
        return Reply(response.code, parsed, response.headers, text)

    async def get(self, path: str, **query: str) -> Reply:
        return await self.call("GET", path, query=query or None)


@asynccontextmanager
async def running_api(env: dict[str, str]) -> AsyncIterator[ApiClient]:
    config = load_config(env)
    databases = Databases(config, QUERIES)
    server = GuardedHTTPServer(make_app(config, databases), config)  # the service's own HTTP layer
    sock, port = bind_unused_port()
    server.add_sockets([sock])
    try:
        yield ApiClient(f"http://127.0.0.1:{port}")
    finally:
        server.stop()
        await server.close_all_connections()
        await databases.close()


def provision(dsn: str, **env: str) -> None:
    """Create agno's tables the way the service does (first use of the database)."""

    async def run() -> None:
        databases = Databases(load_config({"AGNO_PG_DSN": dsn, **env}), QUERIES)
        try:
            await (await databases.resolve(None)).tables()
        finally:
            await databases.close()

    asyncio.run(run())


def insert_session(cur: Any, row: dict[str, Any], runs: list[dict[str, Any]], table: str = "ai.agno_sessions") -> None:
    columns = list(row)
    values = [json.dumps(v) if isinstance(v, dict | list) else v for v in row.values()]
    placeholders = ", ".join("%s" for _ in columns)
    # test seeding: table and column names come from the fixture files, values are parameters
    cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)  # noqa: S608
    for index, run in enumerate(runs):
        if run.get("workflow_id"):
            run_type = "workflow"
        elif run.get("team_id") and not run.get("agent_id"):
            run_type = "team"
        else:
            run_type = "agent"
        created = run.get("created_at") if isinstance(run.get("created_at"), int) else row["created_at"]
        cur.execute(
            "INSERT INTO ai.agno_runs (run_id, session_id, run_type, agent_id, team_id, workflow_id, user_id,"
            " parent_run_id, status, run_index, run_data, created_at, updated_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                run["run_id"],
                row["session_id"],
                run_type,
                run.get("agent_id"),
                run.get("team_id"),
                run.get("workflow_id"),
                run.get("user_id"),
                run.get("parent_run_id"),
                run.get("status"),
                index,
                json.dumps(run),
                created,
                created,
            ],
        )


def load_seed(dsn: str, sessions: dict[str, dict[str, Any]] | None = None) -> None:
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        for item in (sessions or SEED).values():
            insert_session(cur, item["row"], item["runs"])
    conn.close()


def sql(dsn: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(statement, params)
        rows = cur.fetchall() if cur.description else []
    conn.close()
    return rows


@pytest.fixture(scope="module")
def seeded_dsn(pg_cluster: Any) -> str:
    dsn: str = pg_cluster.create_database("seed")
    provision(dsn)
    load_seed(dsn)
    return dsn


@pytest.fixture
def fresh_dsn(dsn: str) -> str:
    provision(dsn)
    return dsn


def key_order(value: Any) -> list[Any]:
    """Every object's keys, depth first: equal lists mean equal key order at every level."""
    if isinstance(value, dict):
        return [list(value), *[key_order(v) for v in value.values()]]
    if isinstance(value, list):
        return [key_order(v) for v in value]
    return []


AssertEqual = Callable[[Any, Any], None]


def assert_json_equal(actual: Any, expected: Any) -> None:
    assert actual == expected
    assert key_order(actual) == key_order(expected)


@pytest.fixture
def seeded_copy(pg_cluster: Any) -> str:
    """A database of its own holding the oracle seed, for tests that change it."""
    dsn: str = pg_cluster.create_database("seedcopy")
    provision(dsn)
    load_seed(dsn)
    return dsn
