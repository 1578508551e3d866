"""The chart's optional Ingress and NetworkPolicy, rendered by the real helm (docs/deploy.md).

No ingress controller runs here, so the routing is proven with a local proxy that applies the
rendered Ingress rules as the Kubernetes API defines them (host match, then the longest matching
path; `Prefix` compares whole path elements): `/sessions` and everything below it must reach the
service, every other path (e.g. `/health`) the stand-in AgentOS named by `ingress.agentOS`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PgServer
from tests.image.conftest import Tools, http
from tests.support.processes import Server

pytestmark = pytest.mark.image

CHART = "k8s/helm/agno-session"
RELEASE = "agno-session"


def render(tools: Tools, tmp_path: Path, values: dict[str, Any], template: str) -> dict[str, Any]:
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    text = tools.run("helm", "template", RELEASE, CHART, "--values", str(values_file), "--show-only", template).stdout
    (doc,) = [d for d in yaml.safe_load_all(text) if d]
    assert isinstance(doc, dict)
    return doc


def _elements(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def route(ingress: dict[str, Any], host: str, path: str) -> tuple[str, Any] | None:
    """(service name, port) the Ingress sends `host` + `path` to, by the networking.k8s.io/v1 rules."""
    best: tuple[int, int, dict[str, Any]] | None = None
    for rule in ingress["spec"]["rules"]:
        if rule.get("host") not in (None, host):
            continue
        for entry in rule["http"]["paths"]:
            want = entry["path"]
            if entry["pathType"] == "Exact":
                matched, rank = path == want, 1
            else:  # Prefix: element-wise, a trailing slash ignored
                prefix = _elements(want)
                matched, rank = _elements(path)[: len(prefix)] == prefix, 0
            if matched and (best is None or (len(want), rank) > best[:2]):
                best = (len(want), rank, entry["backend"]["service"])
    if best is None:
        return None
    service = best[2]
    return service["name"], service["port"].get("number", service["port"].get("name"))


class _Recorder(ThreadingHTTPServer):
    seen: list[str]


@contextlib.contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[_Recorder]:
    server = _Recorder(("127.0.0.1", 0), handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


class _StandInAgentOS(BaseHTTPRequestHandler):
    """Answers like AgentOS's /health; anything else is a 404 that names who answered."""

    server: _Recorder

    def do_GET(self) -> None:
        self.server.seen.append(self.path)
        status, body = (200, {"status": "ok"}) if self.path == "/health" else (404, {"detail": "Not Found"})
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Stand-In", "agentos")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _proxy_handler(ingress: dict[str, Any], backends: dict[tuple[str, Any], str]) -> type[BaseHTTPRequestHandler]:
    class Proxy(BaseHTTPRequestHandler):
        server: _Recorder

        def _forward(self) -> None:
            self.server.seen.append(self.path)
            target = route(ingress, self.headers.get("Host", "").split(":")[0], self.path.split("?")[0])
            if target is None:
                self.send_error(404, "no Ingress rule")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            request = urllib.request.Request(backends[target] + self.path, data=body, method=self.command)
            for name in ("Content-Type", "Authorization", "Origin"):
                if self.headers.get(name):
                    request.add_header(name, self.headers[name])
            try:
                with urllib.request.urlopen(request, timeout=20) as response:
                    status, headers, raw = response.status, response.headers, response.read()
            except urllib.error.HTTPError as exc:
                status, headers, raw = exc.code, exc.headers, exc.read()
            self.send_response(status)
            for name in ("Content-Type", "X-Stand-In"):
                if headers.get(name):
                    self.send_header(name, headers[name])
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = do_DELETE = do_PATCH = _forward

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Proxy


def test_rendered_ingress_routes_sessions_here_and_the_rest_to_agentos(
    tools: Tools, tmp_path: Path, pg_cluster: PgServer, live_service: Callable[..., Server]
) -> None:
    ingress = render(
        tools,
        tmp_path,
        {"ingress": {"enabled": True, "agentOS": {"serviceName": "agno-os", "servicePort": 8000}}},
        "templates/ingress.yaml",
    )
    assert not ingress["metadata"].get("annotations"), "CORS and everything else is left to the service"
    service = live_service({"AGNO_PG_DSN": pg_cluster.create_database("ing"), "AGNO_AUTO_PROVISION": "true"})
    with _serve(_StandInAgentOS) as agentos:
        backends = {
            (RELEASE, 8080): service.base_url,
            ("agno-os", 8000): f"http://127.0.0.1:{agentos.server_address[1]}",
        }
        with _serve(_proxy_handler(ingress, backends)) as proxy:
            front = f"http://127.0.0.1:{proxy.server_address[1]}"

            status, created = http("POST", front + "/sessions?type=agent", {"session_id": "ing-1", "session_name": "x"})
            assert status == 201, created
            assert http("GET", front + "/sessions/ing-1?type=agent")[1]["session_id"] == "ing-1"
            status, page = http("GET", front + "/sessions?type=agent")
            assert status == 200
            assert [s["session_id"] for s in page["data"]] == ["ing-1"]
            assert http("GET", front + "/sessions/ing-1/runs?type=agent")[0] == 200
            assert http("DELETE", front + "/sessions/ing-1")[0] == 204
            assert agentos.seen == [], "no /sessions request may reach AgentOS"

            assert http("GET", front + "/health") == (200, {"status": "ok"})
            assert http("GET", front + "/sessionsfoo")[0] == 404
            assert http("GET", front + "/agents")[0] == 404
            assert agentos.seen == ["/health", "/sessionsfoo", "/agents"]


def test_ingress_hosts_tls_and_named_agentos_port(tools: Tools, tmp_path: Path) -> None:
    ingress = render(
        tools,
        tmp_path,
        {
            "ingress": {
                "enabled": True,
                "className": "nginx",
                "hosts": ["agents.example.com"],
                "tls": [{"secretName": "agents-tls", "hosts": ["agents.example.com"]}],
                "agentOS": {"serviceName": "agentos", "servicePort": "http"},
            }
        },
        "templates/ingress.yaml",
    )
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "agents-tls", "hosts": ["agents.example.com"]}]
    assert route(ingress, "agents.example.com", "/sessions/x") == (RELEASE, 8080)
    assert route(ingress, "agents.example.com", "/health") == ("agentos", "http")
    assert route(ingress, "other.example.com", "/sessions") is None


def test_network_policy_lets_in_the_ingress_controller_and_prometheus_and_out_postgres_and_dns(
    tools: Tools, tmp_path: Path
) -> None:
    policy = render(
        tools,
        tmp_path,
        {
            "networkPolicy": {
                "enabled": True,
                "postgres": {"port": 6432, "peers": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]},
            }
        },
        "templates/networkpolicy.yaml",
    )
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "agno-session"
    (inbound,) = spec["ingress"]
    sources = [peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for peer in inbound["from"]]
    assert sources == ["ingress-nginx", "prometheus"]
    assert inbound["ports"] == [{"port": "http", "protocol": "TCP"}]
    postgres, dns = spec["egress"]
    assert postgres == {"ports": [{"port": 6432, "protocol": "TCP"}], "to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]}
    assert sorted((p["port"], p["protocol"]) for p in dns["ports"]) == [(53, "TCP"), (53, "UDP")]
    assert dns["to"][0]["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"}


def test_values_schema_rejects_a_mistyped_value(tools: Tools, tmp_path: Path) -> None:
    values_file = tmp_path / "bad.yaml"
    values_file.write_text(yaml.safe_dump({"ingress": {"enabled": True, "agentOs": {"serviceName": "x"}}}))
    result = tools.run_unchecked("helm", "install", RELEASE, CHART, "--dry-run=client", "--values", str(values_file))
    assert result.returncode != 0
    assert "agentOs" in result.stderr
