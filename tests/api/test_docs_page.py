"""/docs in a real browser: headless Chromium renders Swagger UI from our own static files.

Needs Debian's `chromium` package (scripts/system-deps.sh installs it). The service runs with
OS_SECURITY_KEY set, so the test also shows that the page, its assets and /openapi.json load
without a token, like AgentOS's docs.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Callable

import pytest

from tests.support.processes import Server

KEY = "docs-page-test-key"
SESSIONS_OPERATIONS = {
    ("GET", "/sessions", "get_sessions"),
    ("POST", "/sessions", "create_session"),
    ("DELETE", "/sessions", "delete_sessions"),
    ("GET", "/sessions/{session_id}", "get_session_by_id"),
    ("DELETE", "/sessions/{session_id}", "delete_session"),
    ("PATCH", "/sessions/{session_id}", "update_session"),
    ("GET", "/sessions/{session_id}/runs", "get_session_runs"),
    ("GET", "/sessions/{session_id}/run-previews", "get_session_run_previews"),
    ("GET", "/sessions/{session_id}/runs/{run_id}", "get_session_run"),
    ("POST", "/sessions/{session_id}/rename", "rename_session"),
    ("GET", "/sessions/{session_id}/media/{storage_key}", "get_session_media"),
}
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--virtual-time-budget=10000",
)
# one Swagger UI operation block: its id, method and path
_OPBLOCK = re.compile(
    r'<div class="opblock opblock-(?P<css>[a-z]+)[^"]*" id="operations-(?P<tag>[^-"]+)-(?P<op>[^"]+)">'
    r'.*?<span class="opblock-summary-method">(?P<method>[A-Z]+)</span>'
    r'.*?data-path="(?P<path>[^"]+)"',
    re.S,
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail("chromium not found: install it with scripts/system-deps.sh (Debian package `chromium`)")


def render(url: str) -> str:
    with tempfile.TemporaryDirectory(prefix="agno-docs-chromium-") as profile:
        done = subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout.decode("utf-8", "replace")


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_docs_page_lists_every_sessions_operation(dsn: str, live_service: Callable[..., Server]) -> None:
    service = live_service(env={"AGNO_PG_DSN": dsn, "OS_SECURITY_KEY": KEY})

    status, headers, page = fetch(service.base_url + "/docs")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.decode())
    assert assets, f"every asset is served by us: {assets}"
    assert all(a.startswith("/") for a in assets), f"every asset is served by us: {assets}"
    for asset in assets:
        assert fetch(service.base_url + asset)[0] == 200, asset

    dom = render(service.base_url + "/docs")
    blocks = {(m["method"], html.unescape(m["path"]), m["op"]) for m in _OPBLOCK.finditer(dom) if m["css"] != "tag"}
    assert blocks, "Swagger UI rendered no operation:\n" + dom[:3000]
    missing = SESSIONS_OPERATIONS - blocks
    assert not missing, f"operations missing from the rendered page: {sorted(missing)}"
    assert ("GET", "/health", "health_check") in blocks
    assert 'class="btn authorize' in dom, "with OS_SECURITY_KEY the page offers bearer authorisation"
    assert "agno-session" in dom
