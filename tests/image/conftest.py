"""The image, built with podman from a clean copy of the tree, and ways to run it (docs/deploy.md).

- `podman(*args)`: podman with the project's containers.conf (.tools/containers.conf, written by
  scripts/image-deps.sh: runc, cgroupfs, nofile/nproc limits runc may set here).
- `built_image` (session): scripts/image-deps.sh (podman, helm, kubectl, the STAND-IN base image),
  then `podman build --pull=never` of the unchanged Dockerfile; the image is removed at the end.
- `tools` (session): the pinned official helm and kubectl in .tools/bin, KUBECONFIG on an empty file.
- `container_name`: a unique name, the container force-removed after the test.

Everything runs on the host's network namespace (loopback only): the tests' PostgreSQL listens on
127.0.0.1, and so does every container the tests start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.http import call

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / ".tools"
IMAGE_REPOSITORY = "localhost/agno-session-test"


def podman_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(TOOLS / "containers.conf")
    return env


def podman(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def inspect(kind: str, name: str) -> dict[str, Any]:
    data: list[dict[str, Any]] = json.loads(podman(kind, "inspect", name).stdout)
    return data[0]


REPORT: list[str] = []


def report(line: str) -> None:
    """A line for the end of pytest's output (base image, build time, image size)."""
    REPORT.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in REPORT:
        terminalreporter.write_line(f"[image] {line}")


def http(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """(status, parsed JSON body or None) of one request, through the shared client (tests/support/http.py)."""
    parts = urllib.parse.urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    reply = call(f"{parts.scheme}://{parts.netloc}", method, target, json_body=body, timeout=timeout)
    return reply.status, reply.json() if reply.body else None


@dataclass(frozen=True)
class Tools:
    helm: Path
    kubectl: Path
    kubeconfig: Path

    def run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        """helm/kubectl with KUBECONFIG on an empty file: nothing dials a cluster."""
        result = self.run_unchecked(tool, *args)
        if result.returncode != 0:
            raise AssertionError(f"{tool} {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def run_unchecked(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, KUBECONFIG=str(self.kubeconfig))
        binary = self.helm if tool == "helm" else self.kubectl
        return subprocess.run(
            [str(binary), *args],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _deps(mode: str) -> None:
    result = subprocess.run(
        ["bash", str(REPO / "scripts/image-deps.sh"), mode],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if result.returncode != 0:
        if os.geteuid() != 0 and shutil.which("podman") is None:
            pytest.skip(f"the image tests need podman (`make image-deps` as root): {result.stderr.strip()}")
        raise AssertionError(f"scripts/image-deps.sh {mode} failed:\n{result.stderr}")


@pytest.fixture(scope="session")
def tools(tmp_path_factory: pytest.TempPathFactory) -> Tools:
    _deps("tools")
    kubeconfig = tmp_path_factory.mktemp("kube") / "config"
    kubeconfig.write_text("")
    return Tools(TOOLS / "bin/helm", TOOLS / "bin/kubectl", kubeconfig)


def clean_copy(dest: Path) -> None:
    """The tree as a fresh clone (plus uncommitted edits) would have it: no venvs, no data dirs."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, listed.decode().split("\0")):
        source = REPO / rel
        if source.is_file():
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.fixture(scope="session")
def built_image(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _deps("base")
    base = subprocess.run(
        ["bash", str(REPO / "scripts/image-deps.sh"), "name"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stand_in = inspect("image", base)["Config"].get("Labels", {}).get("agno-session.stand-in")
    report(f"base image {base}: {'STAND-IN, ' + stand_in if stand_in else 'as found'}")
    context = tmp_path_factory.mktemp("image-context")
    clean_copy(context)
    tag = f"{IMAGE_REPOSITORY}:{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    try:
        # docker format keeps the HEALTHCHECK (OCI image configs have no field for it);
        # --layers=false leaves no intermediate images behind.
        podman("build", "--pull=never", "--format=docker", "--layers=false", "-q", "-t", tag, str(context), timeout=900)
        seconds = time.monotonic() - started
        size = int(inspect("image", tag)["Size"])
        report(f"built {tag} in {seconds:.0f} s, {size / 1e6:.0f} MB")
        yield tag
    finally:
        podman("rmi", "--force", tag, check=False)


@pytest.fixture
def container_name() -> Iterator[str]:
    """A unique container name, force-removed after the test whatever happened."""
    name = f"agno-session-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
