"""Start and stop the two servers under test, and sample their memory (VmRSS) while they run."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
AGENTOS_APP_DIR = REPO / "tests" / "contract" / "agno_side"  # the contract suite's AgentOS launcher
AGENTOS_DB_ID = "bench-db"


@dataclass
class Server:
    name: str
    base_url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    command: str
    headers: tuple[str, ...] = ()
    """Request headers wrk sends to this server (e.g. a bearer token)."""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the children of a pre-fork supervisor, else the process itself."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            children = []
        return [int(c) for c in children] or [self.pid]

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _wait_ready(server: Server, path: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited ({server.proc.returncode}); see {server.log_path}")
        try:
            with urllib.request.urlopen(server.base_url + path, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{server.name} not ready after {timeout:.0f}s; see {server.log_path}")


def _spawn(name: str, cmd: list[str], env: dict[str, str], log_path: Path, port: int, cwd: Path) -> Server:
    log = log_path.open("wb")
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    shown = " ".join(f"{k}={v}" for k, v in env.items() if k.startswith(("AGNO_", "CONTRACT_"))) + " " + " ".join(cmd)
    return Server(name, f"http://127.0.0.1:{port}", proc, log_path, shown.replace(str(REPO) + "/", ""))


def start_ours(
    dsn: str,
    port: int,
    log_path: Path,
    workers: int = 1,
    log_level: str = "WARNING",
    extra_env: dict[str, str] | None = None,
) -> Server:
    env = {
        **_base_env(),
        "AGNO_PG_DSN": dsn,
        "AGNO_SERVICE_HOST": "127.0.0.1",
        "AGNO_SERVICE_PORT": str(port),
        "AGNO_MAX_PAGE_SIZE": "100000",
        "AGNO_WORKERS": str(workers),
        "AGNO_LOG_LEVEL": log_level,
        "AGNO_DRAIN_SECONDS": "0",
        **(extra_env or {}),
    }
    cmd = [str(REPO / ".venv" / "bin" / "python"), "-m", "service"]
    server = _spawn("agno-session", cmd, env, log_path, port, REPO)
    _wait_ready(server, "/readyz")
    return server


def start_agentos(agentos_python: Path, sqlalchemy_url: str, port: int, log_path: Path, workers: int = 1) -> Server:
    env = {**_base_env(), "CONTRACT_DBS": json.dumps([[AGENTOS_DB_ID, sqlalchemy_url]]), "AGNO_TELEMETRY": "false"}
    cmd = [
        str(agentos_python),
        "-m",
        "uvicorn",
        "--app-dir",
        str(AGENTOS_APP_DIR),
        "agentos_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    server = _spawn("AgentOS", cmd, env, log_path, port, REPO)
    _wait_ready(server, "/health", timeout=120)
    return server


def _base_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ}


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Sample:
    t: float
    server: str
    phase: str
    pid: int
    rss_kib: int


@dataclass
class RssSampler:
    """A background thread reading VmRSS of every worker of the registered servers every `interval` s."""

    interval: float = 2.0
    samples: list[Sample] = field(default_factory=list)
    phase: str = "idle"
    _servers: dict[str, Server] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    started: float = field(default_factory=time.monotonic)

    def watch(self, server: Server, label: str | None = None) -> None:
        self._servers[label or server.name] = server

    def unwatch(self, label: str) -> None:
        self._servers.pop(label, None)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def sample_now(self) -> None:
        now = time.monotonic() - self.started
        for label, server in list(self._servers.items()):
            for pid in server.worker_pids():
                value = rss_kib(pid)
                if value is not None:
                    self.samples.append(Sample(now, label, self.phase, pid, value))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample_now()


class CpuMeter:
    """CPU used during an interval by processes outside the bench (other work sharing the machine).

    "Ours" = descendants of this process (servers, wrk, pgbench) and of the bench cluster's postmaster.
    Processes that start and end inside the interval are not seen (a lower bound)."""

    def __init__(self, postmaster_pid_file: Path) -> None:
        self._pid_file = postmaster_pid_file
        self._tick = os.sysconf("SC_CLK_TCK")
        self._start: tuple[float, dict[int, tuple[int, int]], int] | None = None

    @staticmethod
    def _snapshot() -> dict[int, tuple[int, int]]:
        """pid -> (ppid, utime + stime ticks)."""
        out: dict[int, tuple[int, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rfind(")") + 2 :].split()
            out[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        return out

    @staticmethod
    def _busy_ticks() -> int:
        cpu = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        values = [int(v) for v in cpu]
        return sum(values) - values[3] - values[4]  # minus idle and iowait

    def _roots(self) -> set[int]:
        roots = {os.getpid()}
        with contextlib.suppress(OSError, ValueError, IndexError):
            roots.add(int(self._pid_file.read_text().split()[0]))
        return roots

    def start(self) -> None:
        self._start = (time.monotonic(), self._snapshot(), self._busy_ticks())

    def stop(self) -> dict[str, float]:
        if self._start is None:
            return {}
        t0, before, busy0 = self._start
        after, busy1, elapsed = self._snapshot(), self._busy_ticks(), time.monotonic() - t0
        parent = {pid: ppid for pid, (ppid, _) in after.items()}
        roots = self._roots()

        def ours(pid: int) -> bool:
            seen = 0
            while pid > 1 and seen < 64:
                if pid in roots:
                    return True
                pid, seen = parent.get(pid, 0), seen + 1
            return False

        foreign = sum(t - before[pid][1] for pid, (_, t) in after.items() if pid in before and not ours(pid))
        return {
            "foreign_cores": round(foreign / self._tick / elapsed, 2),
            "busy_cores": round((busy1 - busy0) / self._tick / elapsed, 2),
        }
