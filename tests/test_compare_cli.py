"""`agno-session compare`: replaying a recorded access log against two services, and catching a difference.

Two instances of the service on the same database stand in for AgentOS and agno-session: every
replayed answer must be JSON-equal. A small proxy in front of the second one alters one field of
one answer, and the command must report exactly that (exit status 1). Writes are replayed only
against servers that both report the named staging database.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from service.compare.replay import Report, load_divergences, replay
from tests.support.processes import REPO, Server

SEED: list[tuple[str, dict[str, Any]]] = [
    (
        "/sessions?type=agent",
        {
            "session_id": "agent-1",
            "user_id": "u1",
            "agent_id": "basic-agent",
            "session_state": {"k": 1},
            "runs": [
                {
                    "run_id": "a1-r1",
                    "agent_id": "basic-agent",
                    "session_id": "agent-1",
                    "user_id": "u1",
                    "status": "COMPLETED",
                    "content": "Echo: hello",
                    "created_at": 1750000000,
                    "input": {"input_content": "hello"},
                    "messages": [
                        {"id": "m1", "role": "user", "content": "hello", "created_at": 1750000000},
                        {"id": "m2", "role": "assistant", "content": "Echo: hello", "created_at": 1750000001},
                    ],
                }
            ],
        },
    ),
    ("/sessions?type=agent", {"session_id": "agent-2", "session_name": "Named session", "user_id": "u2"}),
    (
        "/sessions?type=team",
        {
            "session_id": "team-1",
            "team_id": "basic-team",
            "runs": [
                {
                    "run_id": "t1-m",
                    "agent_id": "member-agent",
                    "parent_run_id": "t1-r",
                    "status": "COMPLETED",
                    "content": "member says hi",
                    "created_at": 1750000100,
                    "messages": [{"id": "tm0", "role": "user", "content": "say hi", "created_at": 1750000100}],
                },
                {
                    "run_id": "t1-r",
                    "team_id": "basic-team",
                    "status": "COMPLETED",
                    "content": "team says hi",
                    "created_at": 1750000101,
                    "input": {"input_content": "team hi"},
                    "messages": [{"id": "tm1", "role": "user", "content": "team hi", "created_at": 1750000101}],
                },
            ],
        },
    ),
    (
        "/sessions?type=workflow",
        {
            "session_id": "wf-1",
            "workflow_id": "basic-wf",
            "runs": [
                {
                    "run_id": "w1-r",
                    "workflow_id": "basic-wf",
                    "status": "COMPLETED",
                    "input": "run the flow",
                    "content": "done",
                    "created_at": 1750000200,
                }
            ],
        },
    ),
]
READS = [
    "/sessions",
    "/sessions?type=agent",
    "/sessions?type=team&limit=1&page=1",
    "/sessions?limit=2&page=2",
    "/sessions?sort_by=session_id&sort_order=asc",
    "/sessions?sort_by=updated_at",
    "/sessions?session_name=named",
    "/sessions?user_id=u1",
    "/sessions?component_id=basic-team",
    "/sessions/agent-1",
    "/sessions/agent-2",
    "/sessions/team-1",
    "/sessions/wf-1",
    "/sessions/agent-1?type=team",
    "/sessions/agent-1/runs",
    "/sessions/team-1/runs",
    "/sessions/wf-1/runs",
    "/sessions/team-1/runs?status=completed&status=error",
    "/sessions/team-1/run-previews",
    "/sessions/agent-1/runs/a1-r1",
    "/sessions/wf-1/runs/w1-r",
    "/sessions/missing",
    "/sessions/agent-1/runs/nope",
    "/sessions?type=bad",
    "/sessions?limit=0",
    "/sessions/agent-1/runs?status=bogus",
    "/sessions?db_id=other",
    "/health",
    "/",
]


def request(base_url: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def compare_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "compare", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def recorded(dsn: str, live_service: Callable[..., Server]) -> tuple[Server, Server]:
    """Two services on one seeded database; the first one's log holds the READS (and the seeding POSTs)."""
    first = live_service(env={"AGNO_PG_DSN": dsn})
    for path, body in SEED:
        status, answer = request(first.base_url, "POST", path, body)
        assert status == 201, answer
    statuses = [request(first.base_url, "GET", path)[0] for path in READS]
    # the data is there
    assert statuses.count(200) >= 20, statuses
    assert 404 in statuses, statuses
    assert 422 in statuses, statuses
    second = live_service(env={"AGNO_PG_DSN": dsn})
    return first, second


class TamperingProxy:
    """Forwards to `upstream`; GET answers for `path` get `session_name` replaced (the first `times` ones),
    or, with `replace=(status, body)`, the whole answer. A `path` with a query must match exactly."""

    def __init__(
        self, upstream: str, path: str, times: int | None = None, replace: tuple[int, Any] | None = None
    ) -> None:
        target = urllib.parse.urlsplit(upstream)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "content-type")}
                conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
                conn.request(self.command, self.path, body=body, headers=headers)
                response = conn.getresponse()
                raw, status = response.read(), response.status
                content_type = response.getheader("Content-Type") or "application/json"
                conn.close()
                asked = self.path if "?" in path else urllib.parse.urlsplit(self.path).path
                if self.command == "GET" and asked == path and proxy.take():
                    if replace is not None:
                        status, raw = replace[0], json.dumps(replace[1], separators=(",", ":")).encode()
                    else:
                        answer = json.loads(raw)
                        answer["session_name"] = "tampered"
                        raw = json.dumps(answer, separators=(",", ":")).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_PATCH = do_DELETE = forward

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.remaining = times
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def take(self) -> bool:
        with self.lock:
            if self.remaining is None:
                return True
            if self.remaining <= 0:
                return False
            self.remaining -= 1
            return True

    def __enter__(self) -> TamperingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def proxy_factory() -> Iterator[Callable[..., TamperingProxy]]:
    started: list[TamperingProxy] = []

    def make(
        upstream: str, path: str, times: int | None = None, replace: tuple[int, Any] | None = None
    ) -> TamperingProxy:
        proxy = TamperingProxy(upstream, path, times, replace).__enter__()
        started.append(proxy)
        return proxy

    yield make
    for proxy in started:
        proxy.__exit__()


def test_replayed_access_log_is_all_equal(recorded: tuple[Server, Server]) -> None:
    first, second = recorded
    done = compare_cli("--agentos", first.base_url, "--ours", second.base_url, "--log", first.log_path,
                       "--progress-every", "10")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == f"{len(READS)}/{len(READS)} requests JSON-equal", done.stdout
    assert "ok   GET /sessions/{session_id}/runs/{run_id}" in done.stdout
    assert "DIFF" not in done.stdout
    assert f"{len(SEED)} x not a GET" in done.stdout  # the seeding POSTs are not replayed
    assert "not an AgentOS route" in done.stdout  # the /healthz probes of the test fixture
    assert "compare: 10/" in done.stderr
    assert "compare: 20/" in done.stderr


def test_an_altered_answer_is_reported(
    recorded: tuple[Server, Server], proxy_factory: Callable[..., TamperingProxy]
) -> None:
    first, second = recorded
    proxy = proxy_factory(second.base_url, "/sessions/agent-2")
    done = compare_cli("--agentos", first.base_url, "--ours", proxy.url, "--log", first.log_path)
    assert done.returncode == 1, done.stdout + done.stderr
    n = len(READS)
    assert done.stdout.strip().splitlines()[-1] == f"{n - 1}/{n} requests JSON-equal"
    assert "DIFF GET /sessions/{session_id}" in done.stdout
    assert "* GET /sessions/agent-2" in done.stdout
    assert '$.session_name: value: expected "Named session", got "tampered"' in done.stdout


def test_replay_api_rechecks_a_differing_get(
    recorded: tuple[Server, Server], proxy_factory: Callable[..., TamperingProxy]
) -> None:
    first, second = recorded
    proxy = proxy_factory(second.base_url, "/sessions/agent-2", times=1)  # only the first answer differs
    entries: list[dict[str, Any]] = [
        {"method": "GET", "path": "/sessions/agent-2"},
        {"method": "POST", "path": "/sessions", "body": {}},
    ]
    report: Report = replay(entries, first.base_url, proxy.url)
    assert report.ok
    assert report.total == 1
    assert report.equal_after_recheck == 1
    assert [reason for _, reason in report.skipped] == ["not a GET (writes need --include-writes --staging-db NAME)"]
    strict = replay(entries[:1], first.base_url, proxy_factory(second.base_url, "/sessions/agent-2").url, recheck=0)
    assert not strict.ok
    assert strict.summary_line() == "0/1 requests JSON-equal"
    assert strict.endpoints["GET /sessions/{session_id}"].total == 1


def test_writes_only_against_the_named_staging_database(
    new_database: Callable[..., str], live_service: Callable[..., Server], tmp_path: Path
) -> None:
    # each side gets its own copy, both registered as db_id "staging"
    agentos_like = live_service(env={"AGNO_SESSION_DSN_MAP": json.dumps({"staging": new_database()})})
    ours = live_service(env={"AGNO_SESSION_DSN_MAP": json.dumps({"staging": new_database()})})
    run = {"run_id": "w-r1", "agent_id": "a", "status": "COMPLETED", "content": "x", "created_at": 1750000000}
    entries: list[dict[str, Any]] = [
        {"method": "POST", "path": "/sessions", "body": {"session_id": "w-1", "session_name": "n", "runs": [run]}},
        {"method": "POST", "path": "/sessions", "body": {}},  # generated id: compared as "a uuid4"
        {"method": "PATCH", "path": "/sessions/w-1", "body": {"session_state": {"a": 1}}},
        {"method": "POST", "path": "/sessions/w-1/rename", "body": {"session_name": "renamed"}},
        {"method": "GET", "path": "/sessions/w-1"},
        {"method": "GET", "path": "/sessions/w-1/runs"},
        {"method": "DELETE", "path": "/sessions/w-1?db_id=production"},  # not the staging db: skipped
        {"method": "DELETE", "path": "/sessions/w-1?db_id=staging"},
        {"method": "GET", "path": "/sessions/w-1"},
    ]
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text("# writes\n" + "".join(json.dumps(e) + "\n" for e in entries))
    base = ("--agentos", agentos_like.base_url, "--ours", ours.base_url, "--requests", requests_file)

    refused = compare_cli(*base, "--include-writes")
    assert refused.returncode == 2
    assert "--staging-db" in refused.stderr
    wrong = compare_cli(*base, "--include-writes", "--staging-db", "production")
    assert wrong.returncode == 2, wrong.stderr
    assert "has no database 'production'" in wrong.stderr, wrong.stderr
    reads_only = compare_cli(*base)
    assert reads_only.returncode == 0, reads_only.stdout
    assert "3/3 requests JSON-equal" in reads_only.stdout, reads_only.stdout

    done = compare_cli(*base, "--include-writes", "--staging-db", "staging")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "8/8 requests JSON-equal"
    assert "1 x write not aimed at the staging database 'staging'" in done.stdout
    assert request(ours.base_url, "GET", "/sessions/w-1")[0] == 404  # the writes did reach both copies


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert compare_cli("--agentos", "http://127.0.0.1:9").returncode == 2
    missing = compare_cli("--agentos", "http://127.0.0.1:9", "--ours", "http://127.0.0.1:9", "--log", tmp_path / "x")
    assert missing.returncode == 2
    assert "cannot read input" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"method": "GET"}\n')
    invalid = compare_cli("--agentos", "http://127.0.0.1:9", "--ours", "http://127.0.0.1:9", "--requests", bad)
    assert invalid.returncode == 2
    assert "bad.jsonl:1" in invalid.stderr


def test_documented_divergences_are_counted_apart(
    recorded: tuple[Server, Server], proxy_factory: Callable[..., TamperingProxy], tmp_path: Path
) -> None:
    """An answer pair that differs as a row of docs/compatibility.md documents is no failure; the stand-in
    AgentOS answers `GET /sessions?page=0` as AgentOS does (row `page-zero`)."""
    first, second = recorded
    agentos = proxy_factory(
        first.base_url, "/sessions?page=0", replace=(500, {"detail": "Internal server error (ValueError)"})
    )
    entries = ["/sessions?page=0", "/sessions?limit=2"]
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text("".join(json.dumps({"method": "GET", "path": p}) + "\n" for p in entries))
    base = ("--agentos", agentos.url, "--ours", second.base_url, "--requests", requests_file)

    done = compare_cli(*base)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "1/2 requests JSON-equal, 1 documented divergence(s), 0 mismatch(es)"
    assert "1 x page-zero" in done.stdout
    assert "mismatches" not in done.stdout
    assert "ok   GET /sessions  1/2 equal (+1 documented divergence(s))" in done.stdout

    strict = compare_cli(*base, "--no-divergences")
    assert strict.returncode == 1
    assert strict.stdout.strip().splitlines()[-1] == "1/2 requests JSON-equal"
    assert "* GET /sessions?page=0" in strict.stdout

    # a row documents the exact answers: AgentOS failing otherwise is a mismatch
    other = proxy_factory(
        first.base_url, "/sessions?page=0", replace=(500, {"detail": "Internal server error (KeyError)"})
    )
    report = replay(
        [{"method": "GET", "path": "/sessions?page=0"}],
        other.url,
        second.base_url,
        divergences=load_divergences(REPO / "docs" / "compatibility.md"),
    )
    assert not report.ok
    assert not report.documented
    assert len(report.mismatches) == 1

    table = tmp_path / "table.md"
    table.write_text(
        "| id | request | AgentOS | agno-session |\n| --- | --- | --- | --- |\n| same | `GET /sessions` | 422 | 422 |\n"
    )
    rows = load_divergences(table)
    assert [r.distinguishable for r in rows] == [False]  # equal statuses, no body: never applied
