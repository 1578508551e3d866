"""The built image, run as docker-compose.session.yml and the chart run it (docs/deploy.md):
non-root, read-only root filesystem, tmpfs /tmp, no capabilities; served against the tests'
PostgreSQL; its HEALTHCHECK; SIGTERM drains and exits 0 within the stop grace period."""

from __future__ import annotations

import uuid

import pytest

from service.dev.pg import free_port
from tests.conftest import PgServer
from tests.image.conftest import http, inspect, podman
from tests.support.http import wait_http

pytestmark = pytest.mark.image

# docker-compose.session.yml's stop_grace_period: AGNO_DRAIN_SECONDS (10) + AGNO_REQUEST_TIMEOUT (60) + margin.
STOP_GRACE_SECONDS = 75


def test_image_serves_non_root_read_only_and_stops_cleanly(
    built_image: str, container_name: str, pg_cluster: PgServer
) -> None:
    image = inspect("image", built_image)
    assert image["Config"]["User"] == "10001:10001"
    assert image["Config"]["Entrypoint"] == ["agno-session"]
    assert image["Healthcheck"]["Test"][0] == "CMD"

    dsn = pg_cluster.url_for(pg_cluster.create_database("img"))
    port = free_port()
    podman(
        "run", "--detach", "--name", container_name,
        "--network", "host", "--read-only", "--tmpfs", "/tmp",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "--env", f"AGNO_PG_DSN={dsn}", "--env", f"AGNO_SERVICE_PORT={port}",
        "--env", "AGNO_SERVICE_HOST=127.0.0.1", "--env", "AGNO_AUTO_PROVISION=true",
        built_image,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def running() -> bool:
        return bool(inspect("container", container_name)["State"]["Running"])

    try:
        wait_http(base + "/healthz", 60, alive=running)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; logs:\n{podman('logs', container_name, check=False).stderr}") from exc

    assert http("GET", base + "/healthz") == (200, {"status": "ok"})
    status, ready = http("GET", base + "/readyz")
    assert status == 200, ready
    assert ready["status"] == "ok", ready

    # The process runs as 10001 and cannot write outside /tmp.
    uid = podman("exec", container_name, "python", "-c", "import os; print(os.getuid(), os.getgid())")
    assert uid.stdout.split() == ["10001", "10001"]
    assert podman("exec", container_name, "touch", "/app/x", check=False).returncode != 0
    assert podman("exec", container_name, "touch", "/tmp/x", check=False).returncode == 0

    session_id = f"img-{uuid.uuid4().hex[:8]}"
    status, created = http("POST", base + "/sessions?type=agent", {"session_id": session_id, "session_name": "image"})
    assert status == 201, created
    assert created["session_id"] == session_id
    status, detail = http("GET", f"{base}/sessions/{session_id}?type=agent")
    assert (status, detail["session_name"]) == (200, "image")
    status, page = http("GET", base + "/sessions?type=agent")
    assert status == 200
    assert [s["session_id"] for s in page["data"]] == [session_id]
    assert http("DELETE", f"{base}/sessions/{session_id}")[0] == 204
    assert http("GET", f"{base}/sessions/{session_id}?type=agent")[0] == 404

    # The image's own HEALTHCHECK command, run by podman.
    assert podman("healthcheck", "run", container_name, check=False).returncode == 0
    state = inspect("container", container_name)["State"]
    health = state.get("Health") or state.get("Healthcheck")
    assert health["Status"] == "healthy"

    # SIGTERM: /readyz turns 503, the service drains and exits 0 before podman would SIGKILL it.
    podman("stop", "--time", str(STOP_GRACE_SECONDS), container_name, timeout=STOP_GRACE_SECONDS + 60)
    state = inspect("container", container_name)["State"]
    assert state["ExitCode"] == 0, podman("logs", container_name, check=False).stderr
