"""Run wrk and parse its `--latency` report."""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: dict[str, int] = field(default_factory=dict)
    raw_file: str = ""
    foreign_cores: float = float("nan")
    """CPU (in cores) used during the run by processes outside the bench (servers.CpuMeter)."""
    busy_cores: float = float("nan")

    @property
    def errors(self) -> int:
        return self.non_2xx + sum(self.socket_errors.values())

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def parse(text: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", text, re.MULTILINE)
    if rps is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    pct = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(text)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = {}
    if sock:
        socket_errors = dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()), strict=True))
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=pct.get("50", float("nan")),
        p75_ms=pct.get("75", float("nan")),
        p90_ms=pct.get("90", float("nan")),
        p99_ms=pct.get("99", float("nan")),
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors={k: v for k, v in socket_errors.items() if v},
    )


def command(
    url: str,
    duration: float,
    connections: int,
    threads: int,
    script: Path | None = None,
    headers: tuple[str, ...] = (),
) -> list[str]:
    # wrk gives up on a request after 2 s by default: AgentOS's list at 100k sessions takes that long
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "30s", "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if script is not None:
        cmd += ["-s", str(script)]
    return [*cmd, url]


def run(
    url: str,
    duration: float,
    connections: int = 32,
    threads: int = 2,
    out: Path | None = None,
    script: Path | None = None,
    headers: tuple[str, ...] = (),
) -> WrkResult:
    cmd = command(url, duration, connections, threads, script, headers)
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=duration + 60)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    if out is not None:  # the command line without header values (a bearer token is a secret)
        shown = [("<header>" if prev == "-H" else arg) for prev, arg in zip(["", *cmd[:-1]], cmd, strict=True)]
        out.write_text(" ".join(shown) + "\n" + proc.stdout)
    result = parse(proc.stdout)
    result.raw_file = str(out or "")
    return result


def warm_up(url: str, seconds: float, connections: int = 32, threads: int = 2, headers: tuple[str, ...] = ()) -> None:
    if seconds > 0:
        cmd = command(url, seconds, connections, threads, headers=headers)
        subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=seconds + 60, check=True)
