"""A web UI on another origin, in a real browser (issue 14's acceptance, docs/security.md's CORS).

Headless Chromium (Debian's `chromium`, installed by scripts/system-deps.sh) loads a small page from
a page server on one loopback port; the page calls the service on another port the way web UIs do:
`fetch` with `Content-Type: application/json` and `Authorization: Bearer <JWT>`, so the browser sends
a preflight before every call. It lists the sessions, opens one session's runs, deletes another one,
lists with a bad token, renames the first (a POST with a JSON body) and reads it back with
`credentials: "include"`; every outcome goes into the DOM as JSON, which the test reads back from
`--dump-dom`. The service runs with JWT authorization and user isolation; the sessions are created
through the API with the same token.

- Origin allowed: the calls answer 200/200/204 to the page, the 401 is readable too (CORS headers
  on auth failures), the rename and the credentialed read work, the deleted session is gone
  server-side, and the access log shows each call preceded by its preflight.
- Origin not allowed: every `fetch` rejects with the browser's TypeError, the service saw nothing
  but refused preflights (400), and nothing was deleted or renamed.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.api.conftest import sql
from tests.api.test_docs_page import CHROMIUM_FLAGS, chromium
from tests.reliability.harness import call, wait_until
from tests.support.processes import Server

AUDIENCE = "browser-cors-test"
USER = "alice@example.com"
SCOPES = ["sessions:read", "sessions:write", "sessions:delete"]
OPENED, DELETED = "browser-opened", "browser-deleted"
RENAMED = "renamed in the browser"
OTHER_ORIGIN = "http://localhost:3000"  # AgentOS's default origin: allowed, but not the page's
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>agno-session browser test</title></head>
<body><pre id="result">pending</pre>
<script>
const CONFIG = __CONFIG__;
async function call(method, path, token, extra) {
  try {
    const response = await fetch(CONFIG.api + path, Object.assign({
      method: method,
      headers: {"Content-Type": "application/json", "Authorization": "Bearer " + token},
    }, extra || {}));
    const text = await response.text();
    let body = text;
    try { body = JSON.parse(text); } catch (e) { /* not JSON: keep the text */ }
    return {status: response.status, body: body, request_id: response.headers.get("X-Request-ID")};
  } catch (error) {
    return {error: error.name, message: String(error.message)};
  }
}
(async () => {
  const outcome = {};
  outcome.list = await call("GET", "/sessions?type=agent", CONFIG.token);
  outcome.runs = await call("GET", "/sessions/" + CONFIG.opened + "/runs?type=agent", CONFIG.token);
  outcome.delete = await call("DELETE", "/sessions/" + CONFIG.deleted + "?type=agent", CONFIG.token);
  outcome.bad_token = await call("GET", "/sessions?type=agent&page=1", "not-a-jwt");
  outcome.rename = await call("POST", "/sessions/" + CONFIG.opened + "/rename?type=agent", CONFIG.token,
                              {body: JSON.stringify({session_name: CONFIG.renamed})});
  outcome.with_cookies = await call("GET", "/sessions/" + CONFIG.opened + "?type=agent", CONFIG.token,
                                    {credentials: "include"});
  document.getElementById("result").textContent = JSON.stringify(outcome);
})();
</script></body></html>
"""
_RESULT = re.compile(r'<pre id="result">(.*?)</pre>', re.S)


@dataclass(frozen=True)
class Keys:
    public_pem: str
    token: str


@pytest.fixture(scope="module")
def keys() -> Keys:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    claims = {"sub": USER, "scopes": SCOPES, "aud": AUDIENCE, "exp": int(time.time()) + 3600}
    return Keys(public_pem, jwt.encode(claims, key, algorithm="RS256"))


@contextmanager
def page_server(config: dict[str, str]) -> Iterator[str]:
    """A loopback HTTP server answering `/` with PAGE, given `config` as it is at that moment
    (the service's address is added once the service runs); yields the page's origin."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = self.path == "/"
            body = PAGE.replace("__CONFIG__", json.dumps(config)).encode() if found else b"not found"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="browser-page", daemon=True)
    thread.start()
    try:
        yield origin
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


def start(live_service: Callable[..., Server], dsn: str, keys: Keys, allowed_origin: str) -> Server:
    service = live_service(
        env={
            "AGNO_PG_DSN": dsn,
            "JWT_VERIFICATION_KEY": keys.public_pem,
            "AGNO_AUTHORIZATION": "true",
            "AGNO_USER_ISOLATION": "true",
            "AGNO_JWT_AUDIENCE": AUDIENCE,
            "AGNO_CORS_ALLOWED_ORIGINS": allowed_origin,
        }
    )
    for session_id in (OPENED, DELETED):
        body = {
            "session_id": session_id,
            "session_name": f"{session_id} name",
            "agent_id": "browser-agent",
            "runs": [
                {"run_id": f"{session_id}-r{i}", "agent_id": "browser-agent", "content": f"answer {i}"}
                for i in range(2)
            ],
        }
        created = call(service.base_url, "POST", "/sessions?type=agent", json_body=body, headers=bearer(keys.token))
        assert created.status == 201, created
    return service


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def run_page(page_origin: str) -> dict[str, Any]:
    """Load the page in headless Chromium; the outcome the page wrote into its DOM."""
    flags = [f for f in CHROMIUM_FLAGS if not f.startswith("--virtual-time-budget")]
    with tempfile.TemporaryDirectory(prefix="agno-cors-chromium-") as profile:
        # virtual time does not run on while a fetch is pending: the budget bounds idle time only
        done = subprocess.run(
            [
                chromium(),
                *flags,
                "--virtual-time-budget=60000",
                f"--user-data-dir={profile}",
                "--dump-dom",
                page_origin + "/",
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    dom = done.stdout.decode("utf-8", "replace")
    found = _RESULT.search(dom)
    assert found, "the page wrote no outcome:\n" + dom[-3000:]
    assert found.group(1) != "pending", "the page wrote no outcome:\n" + dom[-3000:]
    outcome: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return outcome


def browser_requests(service: Server, at_least: int) -> list[tuple[str, str, int]] | None:
    """(method, path, status) of the access lines of requests Chromium sent, once there are
    `at_least` of them (else None)."""
    seen = []
    for line in service.log_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "agno_session.access" and "Chrome" in entry.get("user_agent", ""):
            seen.append((entry["method"], entry["path"], entry["status"]))
    return seen if len(seen) >= at_least else None


def stored_sessions(dsn: str) -> dict[str, str]:
    """session id -> stored session name, read from the database itself."""
    rows = sql(dsn, "SELECT session_id, session_data->>'session_name' FROM ai.agno_sessions")
    return {session_id: name for session_id, name in rows}


def test_allowed_origin_lists_opens_and_deletes(dsn: str, live_service: Callable[..., Server], keys: Keys) -> None:
    config = {"token": keys.token, "opened": OPENED, "deleted": DELETED, "renamed": RENAMED}
    with page_server(config) as origin:
        service = start(live_service, dsn, keys, origin)
        config["api"] = service.base_url
        outcome = run_page(origin)

    listed = outcome["list"]
    assert listed.get("status") == 200, outcome
    assert {s["session_id"] for s in listed["body"]["data"]} == {OPENED, DELETED}
    assert listed["request_id"], "Access-Control-Expose-Headers lets the page read X-Request-ID"
    runs = outcome["runs"]
    assert runs.get("status") == 200, outcome
    assert [r["run_id"] for r in runs["body"]] == [f"{OPENED}-r0", f"{OPENED}-r1"]
    assert outcome["delete"].get("status") == 204, outcome
    # an auth failure still carries the CORS headers, so the UI can read it (AgentOS does the same)
    assert outcome["bad_token"] == {
        "status": 401,
        "body": {"detail": "Invalid token: Not enough segments"},
        "request_id": outcome["bad_token"]["request_id"],
    }

    assert outcome["rename"].get("status") == 200, outcome
    assert outcome["rename"]["body"]["session_name"] == RENAMED
    with_cookies = outcome["with_cookies"]
    assert with_cookies.get("status") == 200, outcome
    assert with_cookies["body"]["session_name"] == RENAMED, outcome
    # with credentials the browser takes AgentOS's `Access-Control-Expose-Headers: *` literally
    assert with_cookies["request_id"] is None

    gone = call(service.base_url, "GET", f"/sessions/{DELETED}?type=agent", headers=bearer(keys.token))
    assert gone.status == 404, gone
    assert stored_sessions(dsn) == {OPENED: RENAMED}

    requests = wait_until("Chromium's requests in the access log", lambda: browser_requests(service, 12), 60)
    for method, path, status in (
        ("GET", "/sessions?type=agent", 200),
        ("GET", f"/sessions/{OPENED}/runs?type=agent", 200),
        ("DELETE", f"/sessions/{DELETED}?type=agent", 204),
        ("GET", "/sessions?type=agent&page=1", 401),
        ("POST", f"/sessions/{OPENED}/rename?type=agent", 200),
        ("GET", f"/sessions/{OPENED}?type=agent", 200),
    ):
        real = requests.index((method, path, status))
        assert ("OPTIONS", path, 200) in requests[:real], f"no preflight before {method} {path}: {requests}"


def test_disallowed_origin_is_refused_by_the_browser(dsn: str, live_service: Callable[..., Server], keys: Keys) -> None:
    config = {"token": keys.token, "opened": OPENED, "deleted": DELETED, "renamed": RENAMED}
    with page_server(config) as origin:
        service = start(live_service, dsn, keys, OTHER_ORIGIN)
        config["api"] = service.base_url
        outcome = run_page(origin)

    assert set(outcome) == {"list", "runs", "delete", "bad_token", "rename", "with_cookies"}
    for name, result in outcome.items():
        assert result.get("error") == "TypeError", f"{name}: the browser should refuse the call: {outcome}"
    assert stored_sessions(dsn) == {OPENED: f"{OPENED} name", DELETED: f"{DELETED} name"}, "nothing changed"

    requests = wait_until("Chromium's preflights in the access log", lambda: browser_requests(service, 6), 60)
    assert {(method, status) for method, _path, status in requests} == {("OPTIONS", 400)}, requests
    assert {path for _method, path, _status in requests} == {
        "/sessions?type=agent",
        f"/sessions/{OPENED}/runs?type=agent",
        f"/sessions/{DELETED}?type=agent",
        "/sessions?type=agent&page=1",
        f"/sessions/{OPENED}/rename?type=agent",
        f"/sessions/{OPENED}?type=agent",
    }
