"""The chart's Deployment, rendered by the real helm and run by `podman kube play` with the image
built for this session (docs/deploy.md): the pod starts with the chart's security context (non-root,
read-only root filesystem, no capabilities, emptyDirs on /tmp and /run/prometheus-multiproc) and
answers /healthz and /readyz. No cluster API server is reachable here, so three things are converted
for podman, and only these: the Secret becomes a ConfigMap (podman 4.3 cannot feed a Secret into
envFrom), the pod uses the host's network namespace (the tests' PostgreSQL listens on 127.0.0.1),
and therefore has no port mapping and listens on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.dev.pg import free_port
from tests.conftest import PgServer
from tests.image.conftest import Tools, http, inspect, podman
from tests.support.http import wait_http

pytestmark = pytest.mark.image

CHART = "k8s/helm/agno-session"


def for_kube_play(rendered: str) -> list[dict[str, Any]]:
    """The ConfigMap, the Secret (as a ConfigMap) and the Deployment, converted as the module says."""
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    out: list[dict[str, Any]] = [d for d in docs if d["kind"] == "ConfigMap"]
    renamed: dict[str, str] = {}
    for secret in (d for d in docs if d["kind"] == "Secret"):
        name = secret["metadata"]["name"]
        renamed[name] = f"{name}-secret-as-configmap"
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": renamed[name]},
                "data": secret.get("stringData") or {},
            }
        )
    (deployment,) = (d for d in docs if d["kind"] == "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    pod["hostNetwork"] = True
    for container in pod["containers"]:
        container.pop("ports", None)
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                source["configMapRef"] = {"name": renamed[source.pop("secretRef")["name"]]}
        for var in container.get("env", []):
            if var["name"] == "AGNO_SERVICE_HOST":
                var["value"] = "127.0.0.1"
    out.append(deployment)
    return out


@pytest.fixture
def kube_file(tmp_path: Path) -> Iterator[Path]:
    """Where the test writes its kube YAML; every pod it declared is removed afterwards."""
    path = tmp_path / "kube-play.yaml"
    try:
        yield path
    finally:
        if path.exists():
            podman("kube", "down", str(path), check=False, timeout=120)


def test_chart_deployment_runs_under_kube_play(
    tools: Tools, built_image: str, pg_cluster: PgServer, tmp_path: Path, kube_file: Path
) -> None:
    repository, tag = built_image.rsplit(":", 1)
    port = free_port()
    release = f"agno-session-kp-{uuid.uuid4().hex[:6]}"
    values = {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "Never"},
        "replicaCount": 1,
        "secret": {"dsn": pg_cluster.url_for(pg_cluster.create_database("kp"))},
        "service": {"port": port},
    }
    values_file = tmp_path / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    rendered = tools.run("helm", "template", release, CHART, "--values", str(values_file)).stdout
    docs = for_kube_play(rendered)
    kube_file.write_text(yaml.safe_dump_all(docs))
    deployment = docs[-1]
    chart_container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert chart_container["imagePullPolicy"] == "Never"

    podman("kube", "play", str(kube_file), timeout=180)
    pod = f"{deployment['metadata']['name']}-pod-0"
    container = f"{pod}-{chart_container['name']}"
    base = f"http://127.0.0.1:{port}"

    def running() -> bool:
        return bool(inspect("container", container)["State"]["Running"])

    try:
        wait_http(base + "/healthz", 60, alive=running)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; logs:\n{podman('logs', container, check=False).stderr}") from exc
    assert http("GET", base + "/healthz") == (200, {"status": "ok"})
    status, ready = http("GET", base + "/readyz")
    assert status == 200, ready
    assert ready["status"] == "ok", ready

    # The chart's security context, as podman applied it.
    host_config = inspect("container", container)["HostConfig"]
    assert host_config["ReadonlyRootfs"] is True
    assert "no-new-privileges" in host_config["SecurityOpt"]
    assert host_config["CapAdd"] in (None, [])
    uid = podman("exec", container, "python", "-c", "import os; print(os.getuid(), os.getgid())")
    assert uid.stdout.split() == ["10001", "10001"]
    assert podman("exec", container, "touch", "/app/x", check=False).returncode != 0
    for writable in ("/tmp/x", "/run/prometheus-multiproc/x"):
        assert podman("exec", container, "touch", writable, check=False).returncode == 0, writable
