"""Our service's exact SQL: captured with `log_statement=all`, replayed with pgbench, EXPLAINed."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2

from service.db import APPLICATION_NAME
from service.dev.pg import Cluster, pg_bindir

_LINE = re.compile(r"^\S+ \S+ \S+ \[\d+\] app=(\S*) ([A-Z]+):  (.*)$")


def _admin(cluster: Cluster, sql: list[str]) -> None:
    conn = psycopg2.connect(cluster.dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in sql:
            cur.execute(statement)
    conn.close()
    time.sleep(0.5)  # backends pick the new settings up at their next command


def statement_log(cluster: Cluster, on: bool) -> None:
    if on:
        _admin(
            cluster,
            [
                "ALTER SYSTEM SET log_statement = 'all'",
                "ALTER SYSTEM SET log_line_prefix = '%m [%p] app=%a '",
                "SELECT pg_reload_conf()",
            ],
        )
    else:
        _admin(
            cluster,
            ["ALTER SYSTEM RESET log_statement", "ALTER SYSTEM RESET log_line_prefix", "SELECT pg_reload_conf()"],
        )


def _statements(log_text: str, app: str) -> list[str]:
    found: list[str] = []
    current: list[str] | None = None
    for line in log_text.splitlines():
        match = _LINE.match(line)
        if match:
            if current is not None:
                found.append("\n".join(current))
            current = None
            if match.group(1) == app and match.group(2) == "LOG" and match.group(3).startswith("statement: "):
                current = [match.group(3)[len("statement: ") :]]
        elif current is not None:
            current.append(line[1:] if line.startswith("\t") else line)
    if current is not None:
        found.append("\n".join(current))
    return [s.strip().rstrip(";").strip() for s in found]


def capture(cluster: Cluster, request: Callable[[], Any], app: str = APPLICATION_NAME) -> list[str]:
    """The statements `app` sent while `request()` ran (statement logging must be on)."""
    before = cluster.log.stat().st_size
    request()
    time.sleep(0.3)
    with cluster.log.open("rb") as log:
        log.seek(before)
        text = log.read().decode("utf-8", "replace")
    return _statements(text, app)


def http_get(url: str) -> Callable[[], bytes]:
    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return bytes(resp.read())

    return get


def pgbench_script(statements: list[str], path: Path) -> Path:
    # ping statements of the pool / readiness probe are not part of a request's work
    body = [s for s in statements if s.strip().upper() not in ("SELECT 1", "")]
    # a statement string carrying the service's `SET LOCAL` planner hint runs as one compound
    # statement (one implicit transaction), written with pgbench's `\;`
    path.write_text("".join(_compound(s) + ";\n" for s in body))
    return path


def pgbench(cluster: Cluster, db: str, script: Path, seconds: float, clients: int, out: Path) -> dict[str, Any]:
    cmd = [
        str(pg_bindir() / "pgbench"),
        "-h",
        "127.0.0.1",
        "-p",
        str(cluster.port),
        "-U",
        "postgres",
        "-n",
        "-M",
        "simple",  # psycopg2 binds parameters client-side and sends plain text queries
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(int(seconds)),
        "-f",
        str(script),
        db,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=seconds + 60)
    out.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    tps = re.search(r"^tps = ([\d.]+)", proc.stdout, re.MULTILINE)
    lat = re.search(r"^latency average = ([\d.]+) ms", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or tps is None:
        raise RuntimeError(f"pgbench failed: {proc.stderr or proc.stdout}")
    return {
        "tps": float(tps.group(1)),
        "latency_ms": float(lat.group(1)) if lat else float("nan"),
        "command": " ".join(cmd).replace(str(script), script.name),
    }


def _split_hint(statement: str) -> tuple[str, str]:
    """(`SET LOCAL ...` planner hint or "", the query) of one captured statement string."""
    if statement.upper().startswith("SET LOCAL"):
        hint, _, query = statement.partition(";")
        return hint, query.strip()
    return "", statement


def _compound(statement: str) -> str:
    hint, query = _split_hint(statement)
    return f"{hint}\\;\n{query}" if hint else statement


def explain(dsn: str, statement: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement (with its planner hint, if any, in the same
    transaction), run twice (the second, warm, plan is returned)."""
    hint, query = _split_hint(statement)
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        for _ in range(2):
            if hint:
                cur.execute(hint)
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)  # no parameters: `%` stays literal
            rows = [r[0] for r in cur.fetchall()]
            conn.rollback()
    conn.close()
    return "\n".join(rows)


_KNOWN_SNAPSHOT = re.compile(r"(pg_current_snapshot\(\)::text = )'[0-9:,]*'::text")


def reuses_count(statement: str) -> bool:
    """A list statement that was given the snapshot of an earlier count (service/counts.py)."""
    return _KNOWN_SNAPSHOT.search(statement) is not None


def counting(statement: str) -> str:
    """The same list statement as sent after a commit: no known snapshot, so the count runs."""
    return _KNOWN_SNAPSHOT.sub(r"\1NULL::text", statement)
