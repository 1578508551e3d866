"""The one process launcher of the test suites: a server process on a free loopback port, its output
in a log file, stopped by its own pid. Used for the service (`spawn_service`, the `live_service`
fixture, the reliability and contract suites) and for AgentOS and moto (tests/contract/harness.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from service.dev.pg import free_port
from tests.support.http import tail, wait_http

REPO = Path(__file__).resolve().parents[2]
SERVICE_ENV_PREFIXES = ("AGNO_", "OS_SECURITY", "DATABASE_URL")


def clean_env(*also: str) -> dict[str, str]:
    """os.environ without the variables that configure the service (and those starting with `also`)."""
    prefixes = SERVICE_ENV_PREFIXES + also
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@dataclass
class Server:
    """A launched server process. `restart` (when given) starts the same server again on a new port."""

    name: str
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    health_path: str = "/healthz"
    dsn: str = ""  # the service's AGNO_PG_DSN ("" without one)
    restart: Callable[[], Server] | None = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait(self, timeout: float = 30, path: str | None = None) -> None:
        """Return once `path` (default: the health path) answers; raise when the process exits first."""
        wait_http(self.base_url + (path or self.health_path), timeout, self.proc, log=self.log_path)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process (SIGKILL after `timeout`) and return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return int(self.proc.returncode)


def launch(
    name: str,
    cmd: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    port: int,
    *,
    health_path: str = "/healthz",
    cwd: Path = REPO,
    preexec_fn: Callable[[], None] | None = None,
    dsn: str = "",
    restart: Callable[[], Server] | None = None,
) -> Server:
    """Start `cmd` (listening on `port`) with exactly `env`, stdout and stderr to `log_path`; no wait."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(cmd),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
    return Server(name, f"http://127.0.0.1:{port}", proc, log_path, health_path, dsn, restart)


def launch_service(
    env: Mapping[str, str],
    log_dir: Path,
    *,
    name: str = "",
    base_env: Mapping[str, str] | None = None,
    cwd: Path = REPO,
    preexec_fn: Callable[[], None] | None = None,
) -> Server:
    """`python -m service` on a free loopback port with `base_env` (default: `clean_env()`) plus `env`,
    logging to `log_dir/<name or service-PORT>.log`; no wait."""
    port = free_port()
    full_env = dict(clean_env() if base_env is None else base_env)
    full_env.update({"AGNO_SERVICE_PORT": str(port), "AGNO_SERVICE_HOST": "127.0.0.1"})
    full_env.update(env)
    log_path = Path(log_dir) / f"{name or f'service-{port}'}.log"
    return launch(
        name or f"service-{port}",
        [sys.executable, "-m", "service"],
        full_env,
        log_path,
        port,
        cwd=cwd,
        preexec_fn=preexec_fn,
        dsn=env.get("AGNO_PG_DSN", ""),
    )


def spawn_service(
    env: dict[str, str],
    log_dir: Path,
    wait_path: str = "/healthz",
    timeout: float = 30,
    preexec_fn: Callable[[], None] | None = None,
) -> Server:
    """`launch_service`, returning once `wait_path` answers (the process is killed if it never does).
    `preexec_fn` runs in the child before the service starts (e.g. to lower a resource limit)."""
    service = launch_service(env, log_dir, preexec_fn=preexec_fn)
    try:
        service.wait(timeout, wait_path)
    except (RuntimeError, TimeoutError) as exc:
        service.stop(signal.SIGKILL, timeout=10)
        raise type(exc)(f"{exc}; the service's log:\n{tail(service.log_path, 200)}") from exc
    return service


def launch_moto(log_dir: Path) -> Server:
    """moto's standalone S3-compatible server (PyPI `moto[server]`, the dev extra) on a free loopback
    port, without the caller's AWS_* settings; no wait (`.wait()` returns once it answers)."""
    port = free_port()
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    env = clean_env("AWS_")
    return launch(
        "moto", cmd, env, Path(log_dir) / "moto.log", port, health_path="/", restart=lambda: launch_moto(log_dir)
    )
