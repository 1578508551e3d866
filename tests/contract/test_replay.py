"""`agno-session compare` against the real AgentOS 3.1.10 (issue #7 acceptance).

On the seeded single-database pair of the contract suite (AgentOS and agno-session on the same
PostgreSQL database): a series of GET requests is sent to agno-session, the access-log lines it wrote
for them are read back from its log file, and that recorded log is replayed with `agno-session compare`
against AgentOS and agno-session: every answer must be JSON-equal (exit status 0). Then the same log is
replayed against AgentOS and a loopback proxy in front of agno-session that alters one field of one
answer: the command must exit 1 and name that field.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from service.compare.cli import main
from service.compare.replay import (
    ACCESS_LOGGER,
    default_divergences_file,
    load_access_log,
    load_divergences,
    replay,
)
from tests.reliability.harness import wait_until
from tests.support.processes import Server

from .harness import ContractEnv, send

# (path with query, agno-session's expected status): lists with filters / sort / pagination, one
# session, runs, run previews, one run, 404s, 422s and a 400 (none of them a documented divergence).
REQUESTS: list[tuple[str, int]] = [
    ("/sessions", 200),
    ("/sessions?type=agent&limit=100", 200),
    ("/sessions?type=team&component_id=oracle-team", 200),
    ("/sessions?user_id=alice%40example.com", 200),
    ("/sessions?session_name=conversation", 200),
    ("/sessions?type=workflow&sort_by=created_at&sort_order=asc", 200),
    ("/sessions?sort_by=session_id&sort_order=asc&limit=5&page=3", 200),
    ("/sessions?sort_by=updated_at&limit=7&page=2", 200),
    ("/sessions?limit=5&page=99", 200),
    ("/sessions?db_id=contract-a&limit=3", 200),
    ("/sessions/agent-00", 200),
    ("/sessions/agent-00?user_id=alice%40example.com", 200),
    ("/sessions/team-01?type=team", 200),
    ("/sessions/workflow-00?type=workflow", 200),
    ("/sessions/agent-00/runs", 200),
    ("/sessions/team-00/runs?type=team", 200),
    ("/sessions/agent-01/runs?status=cancelled&status=error&created_after=1736164800", 200),
    ("/sessions/workflow-01/runs?status=error", 200),
    ("/sessions/team-01/run-previews", 200),
    ("/sessions/live-agent-1/run-previews", 200),
    ("/sessions/agent-00/runs/agent-00-r1?type=agent", 200),
    ("/sessions/team-00/runs/team-00-r1-member?type=team", 200),
    ("/sessions/workflow-01/runs/workflow-01-r2", 200),
    ("/sessions/does-not-exist", 404),
    ("/sessions/agent-00/runs/nope", 404),
    ("/sessions?limit=abc", 422),
    ("/sessions/agent-00?type=robot", 422),
    ("/sessions/agent-00/runs?status=bogus", 400),
]
TAMPERED_PATH = "/sessions/agent-00"  # exactly this target (no query): one answer of the replay


def access_lines(log: Path, user_agent: str) -> list[str]:
    """The raw access-log lines of `log` written for requests that carried `user_agent`."""
    out: list[str] = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("logger") == ACCESS_LOGGER and entry.get("user_agent") == user_agent:
            out.append(line)
    return out


@pytest.fixture(scope="module")
def single(contract_env: ContractEnv) -> tuple[Server, Server]:
    if contract_env.sut_kind != "service":
        pytest.skip("CONTRACT_SUT=agentos: the service under test writes no agno-session access log")
    return contract_env.pairs["single"]


@pytest.fixture(scope="module")
def recorded_log(single: tuple[Server, Server], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GET the REQUESTS from agno-session; its access-log lines for them, copied to a file of their own."""
    _, ours = single
    user_agent = f"contract-test-replay/{uuid.uuid4()}"  # picks our lines out of the shared server log
    statuses = [send(ours.base_url, "GET", target, headers={"User-Agent": user_agent}).status for target, _ in REQUESTS]
    assert statuses == [status for _, status in REQUESTS], list(zip(REQUESTS, statuses, strict=True))
    # the access line is written when the answer is finished: it may trail the answer a little
    lines = wait_until(
        f"{len(REQUESTS)} access lines in {ours.log_path}",
        lambda: found if len(found := access_lines(ours.log_path, user_agent)) >= len(REQUESTS) else None,
        10,
    )
    assert len(lines) == len(REQUESTS), f"{len(lines)} access lines for {len(REQUESTS)} requests in {ours.log_path}"
    entries = [json.loads(line) for line in lines]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [("GET", t, s) for t, s in REQUESTS]
    assert {e["db_id"] for e in entries if e["status"] == 200} == {"contract-a"}
    log = tmp_path_factory.mktemp("replay") / "agno-session-access.log"
    log.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return log


class TamperingProxy:
    """Loopback proxy to `upstream`; the GET answer for exactly `target` gets its `session_name` replaced."""

    def __init__(self, upstream: str, target: str) -> None:
        up = urllib.parse.urlsplit(upstream)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                conn = http.client.HTTPConnection(up.hostname or "127.0.0.1", up.port, timeout=30)
                try:
                    conn.request("GET", self.path, headers={"Connection": "close"})
                    response = conn.getresponse()
                    raw, status = response.read(), response.status
                    content_type = response.getheader("Content-Type") or "application/json"
                finally:
                    conn.close()
                if self.path == target:
                    answer = json.loads(raw)
                    answer["session_name"] = "tampered"
                    raw = json.dumps(answer, separators=(",", ":")).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(raw)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def tampering_proxy(single: tuple[Server, Server]) -> Iterator[TamperingProxy]:
    proxy = TamperingProxy(single[1].base_url, TAMPERED_PATH)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.mark.contract
def test_recorded_log_replays_json_equal(
    single: tuple[Server, Server], recorded_log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agentos, ours = single
    entries = load_access_log(recorded_log)
    assert [(e.method, e.path) for e in entries] == [("GET", t) for t, _ in REQUESTS]

    code = main(["--agentos", agentos.base_url, "--ours", ours.base_url, "--log", str(recorded_log)])
    out = capsys.readouterr().out
    assert code == 0, out
    n = len(REQUESTS)
    assert out.strip().splitlines()[-1] == f"{n}/{n} requests JSON-equal", out
    assert "DIFF" not in out, out
    assert "skipped" not in out, out
    for endpoint in (
        "GET /sessions ",
        "GET /sessions/{session_id} ",
        "GET /sessions/{session_id}/runs ",
        "GET /sessions/{session_id}/run-previews ",
        "GET /sessions/{session_id}/runs/{run_id} ",
    ):
        assert f"ok   {endpoint}" in out, out

    # the same log through the function the CLI wraps, without rechecks: equal the first time
    report = replay(entries, agentos.base_url, ours.base_url, recheck=0)
    assert report.ok, report.format()
    assert report.total == n, report.format()
    assert report.equal == n, report.format()
    assert report.equal_after_recheck == 0
    assert not report.mismatches
    assert not report.skipped
    assert sum(t.total for t in report.endpoints.values()) == n


@pytest.mark.contract
def test_altered_answer_is_caught(
    single: tuple[Server, Server],
    recorded_log: Path,
    tampering_proxy: TamperingProxy,
    capsys: pytest.CaptureFixture[str],
) -> None:
    agentos, _ = single
    answer = send(agentos.base_url, "GET", TAMPERED_PATH, headers={"User-Agent": "contract-test-replay"})
    expected = answer.json
    assert answer.status == 200, answer.show()
    assert isinstance(expected, dict), answer.show()
    assert isinstance(expected.get("session_name"), str), expected
    assert expected["session_name"] != "tampered"

    code = main(["--agentos", agentos.base_url, "--ours", tampering_proxy.url, "--log", str(recorded_log)])
    out = capsys.readouterr().out
    assert code == 1, out
    n = len(REQUESTS)
    assert out.strip().splitlines()[-1] == f"{n - 1}/{n} requests JSON-equal", out
    assert "DIFF GET /sessions/{session_id} " in out, out
    assert "mismatches (1):" in out, out
    assert f"* GET {TAMPERED_PATH}  ({recorded_log.name}:" in out, out
    name = json.dumps(expected["session_name"], ensure_ascii=False)
    assert f'$.session_name: value: expected {name}, got "tampered"' in out, out

    report = replay(load_access_log(recorded_log), agentos.base_url, tampering_proxy.url)
    assert not report.ok
    assert report.total == n
    assert report.equal == n - 1
    (mismatch,) = report.mismatches
    assert mismatch.request.path == TAMPERED_PATH
    assert [(d.path, d.kind, d.actual) for d in mismatch.differences] == [("$.session_name", "value", "tampered")]


@pytest.mark.contract
def test_documented_divergences_are_counted_apart(
    single: tuple[Server, Server], tampering_proxy: TamperingProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Answers that differ exactly as a row of docs/compatibility.md says are reported as that
    documented divergence, not as mismatches; a real mismatch still fails the run."""
    agentos, ours = single
    entries = [
        {"method": "GET", "path": "/sessions?page=0"},  # page-zero: AgentOS 500, ours 422
        {"method": "GET", "path": "/sessions?sort_by=keys&limit=2"},  # sort-by-attribute: 500 vs 200
        {"method": "GET", "path": "/sessions/agent-bad-summary"},  # bad-stored-summary: 500 vs 200
        {"method": "GET", "path": "/sessions?limit=3"},  # equal
    ]
    requests_file = tmp_path / "requests.jsonl"
    requests_file.write_text("".join(json.dumps(e) + "\n" for e in entries))

    code = main(["--agentos", agentos.base_url, "--ours", ours.base_url, "--requests", str(requests_file)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "1/4 requests JSON-equal, 3 documented divergence(s), 0 mismatch(es)", out
    for line in ("1 x page-zero", "1 x sort-by-attribute", "1 x bad-stored-summary"):
        assert line in out, out
    assert "mismatches" not in out, out

    strict = main(
        ["--agentos", agentos.base_url, "--ours", ours.base_url, "--requests", str(requests_file), "--no-divergences"]
    )
    assert strict == 1
    assert "1/4 requests JSON-equal" in capsys.readouterr().out

    # a documented divergence beside a real mismatch: only the mismatch fails
    mixed = [{"method": "GET", "path": "/sessions?page=0"}, {"method": "GET", "path": TAMPERED_PATH}]
    table = default_divergences_file()
    assert table is not None
    report = replay(mixed, agentos.base_url, tampering_proxy.url, divergences=load_divergences(table))
    assert not report.ok
    assert report.total == 2
    assert report.equal == 0
    assert [o.divergence for o in report.documented] == ["page-zero"]
    assert [o.request.path for o in report.mismatches] == [TAMPERED_PATH]
