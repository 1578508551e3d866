"""`make bench` (`bash bench/run.sh [--quick] [--long] [--profile]`): agno-session against the real AgentOS.

Everything on 127.0.0.1, in a throwaway PostgreSQL cluster under /tmp (service.dev.pg):
1. seed N sessions per size (bench/seed.py: agno writes templates, SQL replicates them, agno-written
   check rows must equal the replicated ones), one database per size;
2. start agno-session (`python -m service`, 1 process) and AgentOS 3.1.10 (uvicorn, 1 worker, PostgresDb
   id "bench-db") on the same database; check every bench URL answers 200 with the same JSON on both;
3. capture our exact SQL per endpoint (`log_statement=all`), EXPLAIN it, replay it with pgbench (ceiling);
4. wrk both servers alternately per endpoint (warm-up, then ROUNDS rounds, the order flipped every round);
   at 100k sessions AgentOS gets fewer rounds (informational; the scale target is about our service);
   single-connection latency of ours for the scale comparison; A/B runs of ours: the access log on
   (AGNO_LOG_LEVEL=INFO) and AGNO_WORKERS=2, each against the single WARNING process, alternately;
5. optional: --long (5 min mixed load, VmRSS every 5 s), --profile (py-spy per endpoint);
6. write bench/RESULTS.md (and raw outputs + results.json under bench/out/<stamp>/).
VmRSS of our process is sampled every 2 s during all load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg2
from prometheus_client.parser import text_string_to_metric_families

from bench import profile as prof
from bench import report, seed, sqlcapture, wrk
from bench.servers import CpuMeter, RssSampler, Server, start_agentos, start_ours
from service.compare.diff import compare, format_differences
from service.dev.pg import Cluster, free_port, init_cluster

REPO = Path(__file__).resolve().parent.parent
ENDPOINTS = ("list", "get", "runs", "previews", "search")
SCALE_ENDPOINTS = ("list", "search", "get")
WORKER_ENDPOINTS = ("list", "get")
COUNTING_ENDPOINTS = ("list", "search")  # the endpoints whose total count service/counts.py reuses
ACCESS_LOG_ENDPOINTS = ("get",)
AUTH_ENDPOINTS = ("list", "get")


COMMITS_PER_SECOND = 20  # the background writer of the count-reuse comparison


class CommitTicker:
    """Commits a one-row insert into a scratch table `per_second` times a second while active: other
    work on the cluster, which makes the service count list totals again (service/counts.py)."""

    def __init__(self, dsn: str, per_second: float) -> None:
        self._dsn, self._interval = dsn, 1.0 / per_second
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.commits = 0
        self.seconds = 0.0

    def _run(self) -> None:
        conn = psycopg2.connect(self._dsn)
        with conn.cursor() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS bench_commit_ticks (t double precision)")
            conn.commit()
            started = time.monotonic()
            while not self._stop.wait(self._interval):
                cur.execute("INSERT INTO bench_commit_ticks VALUES (%s)", (time.time(),))
                conn.commit()
                self.commits += 1
            self.seconds = time.monotonic() - started
        conn.close()

    def __enter__(self) -> CommitTicker:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def list_count_outcomes(server: Server) -> dict[str, float]:
    """The service's list_counts_total by outcome (summed over databases)."""
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    got: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "list_counts_total":
                got[sample.labels["outcome"]] = got.get(sample.labels["outcome"], 0.0) + sample.value
    return got


BENCH_AUDIENCE = "agno-session-bench"
_BENCH_KEY: list[Any] = []


def _bench_key() -> Any:
    if not _BENCH_KEY:
        from cryptography.hazmat.primitives.asymmetric import rsa

        _BENCH_KEY.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    return _BENCH_KEY[0]


def jwt_env() -> dict[str, str]:
    """JWT mode as AgentOS runs it with authorization and isolation (docs/security.md)."""
    from cryptography.hazmat.primitives import serialization

    pem = (
        _bench_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "JWT_VERIFICATION_KEY": pem.decode(),
        "AGNO_AUTHORIZATION": "true",
        "AGNO_USER_ISOLATION": "true",
        "AGNO_JWT_AUDIENCE": BENCH_AUDIENCE,
    }


def bench_token() -> str:
    """An admin token (sees every user's sessions, so answers equal the unauthenticated ones)."""
    import jwt

    claims = {"sub": "bench", "scopes": ["agent_os:admin"], "aud": BENCH_AUDIENCE, "exp": int(time.time()) + 86400}
    return jwt.encode(claims, _bench_key(), algorithm="RS256")


def bench_urls(n: int, dataset: str = "simple") -> dict[str, str]:
    """The five URLs: the newest 20 agent sessions, and one agent session in the middle of the data set
    (for the production dataset one with the median 8 runs, a stored name and a summary)."""
    ds = seed.DATASETS[dataset]
    sid = f"{ds.prefix}-agent-{ds.target(n):06d}"
    return {
        "list": "/sessions?type=agent&limit=20",
        "get": f"/sessions/{sid}?type=agent",
        "runs": f"/sessions/{sid}/runs?type=agent",
        "previews": f"/sessions/{sid}/run-previews?type=agent",
        "search": "/sessions?session_name=" + urllib.parse.quote(ds.search_term(n)),
    }


@dataclass
class Options:
    quick: bool
    dataset: str
    long: bool
    profile: bool
    sizes: list[int]
    rounds: int
    duration: float
    warmup: float
    agentos_large_rounds: int
    pgbench_seconds: float
    pgbench_rounds: int
    long_seconds: float
    connections: int = 32
    threads: int = 2
    keep: bool = False
    ours_env: dict[str, str] = field(default_factory=dict)
    out: Path = field(default_factory=Path)
    results_md: Path = field(default_factory=Path)
    root: Path = field(default_factory=Path)


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="bash bench/run.sh", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 round of 5 s, 1k sessions only (iteration)")
    p.add_argument(
        "--dataset",
        choices=sorted(seed.DATASETS),
        default="simple",
        help="production: sessions shaped like real use (bench/README.md); simple: 3 short runs each",
    )
    p.add_argument("--long", action="store_true", help="add the 5-minute memory run (VmRSS every 5 s)")
    p.add_argument("--profile", action="store_true", help="add a py-spy profile of our service per endpoint")
    p.add_argument("--sizes", help="comma-separated session counts (default 1000,100000; quick: 1000)")
    p.add_argument("--rounds", type=int, help="wrk rounds per endpoint and server (default 3; quick: 1)")
    p.add_argument("--duration", type=float, help="seconds per wrk round (default 15; quick: 5)")
    p.add_argument("--long-seconds", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="leave the PostgreSQL cluster running")
    p.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every agno-session process (repeatable), e.g. AGNO_POOL_MAX_SIZE=32",
    )
    p.add_argument("--results", type=Path, default=None, help="where to write the report (default bench/RESULTS.md)")
    a = p.parse_args(argv)
    quick = a.quick
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = REPO / "bench" / "out" / stamp
    default_results = out / "RESULTS.md" if quick else REPO / "bench" / "RESULTS.md"  # quick never overwrites
    return Options(
        quick=quick,
        dataset=a.dataset,
        long=a.long,
        profile=a.profile,
        sizes=sorted(int(s) for s in a.sizes.split(",")) if a.sizes else ([1000] if quick else [1000, 100000]),
        rounds=a.rounds or (1 if quick else 3),
        duration=a.duration or (5.0 if quick else 15.0),
        warmup=2.0 if quick else 3.0,
        agentos_large_rounds=1,
        pgbench_seconds=5.0 if quick else 10.0,
        pgbench_rounds=1 if quick else 3,
        long_seconds=a.long_seconds,
        keep=a.keep,
        ours_env=dict(item.split("=", 1) for item in a.ours_env),
        out=out,
        results_md=a.results or default_results,
        root=Path("/tmp/agno-session-bench"),
    )


def log(msg: str) -> None:
    print(f"[bench {datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def machine_facts(cluster: Cluster, agentos_python: Path) -> dict[str, str]:
    def sh(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        info = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
        total, available = (int(info[k].split()[0]) / 2**20 for k in ("MemTotal", "MemAvailable"))
        mem = f"{total:.0f} GiB total, {available:.0f} GiB available"
    conn = psycopg2.connect(cluster.dsn())
    with conn.cursor() as cur:
        settings = {}
        for name in ("server_version", "shared_buffers", "max_connections", "fsync", "synchronous_commit", "work_mem"):
            cur.execute(f"SHOW {name}")
            row = cur.fetchone()
            assert row is not None
            settings[name] = row[0]
    conn.close()
    versions = sh(
        [
            str(agentos_python),
            "-c",
            "from importlib.metadata import version as v; "
            "print(' '.join(f'{p} {v(p)}' for p in "
            "('agno','fastapi','starlette','uvicorn','pydantic','SQLAlchemy','psycopg')))",
        ]
    )
    ours = sh(
        [
            sys.executable,
            "-c",
            "from importlib.metadata import version as v; "
            "print(' '.join(f'{p} {v(p)}' for p in ('tornado','aiopg','psycopg2-binary','ujson')))",
        ]
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": f"{cpu} x {os.cpu_count()}",
        "memory": mem,
        "kernel": platform.release(),
        "loadavg_before": Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__(),
        "postgres": " ".join(f"{k}={v}" for k, v in settings.items()),
        "python": platform.python_version(),
        "agentos": versions,
        "ours": ours,
        "wrk": sh(["wrk", "-v"]).splitlines()[0] if shutil.which("wrk") else "missing",
    }


def fetch(base: str, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(base + path, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sanity(ours: Server, agentos: Server, urls: dict[str, str]) -> dict[str, Any]:
    """Every URL: 200 from both, equal JSON (compare ignores only meta.search_time_ms)."""
    out: dict[str, Any] = {}
    for key, path in urls.items():
        s1, b1 = fetch(agentos.base_url, path)
        s2, b2 = fetch(ours.base_url, path)
        diffs = compare(s1, json.loads(b1), s2, json.loads(b2), ignore_paths=["meta.search_time_ms"])
        out[key] = {
            "agentos_status": s1,
            "ours_status": s2,
            "agentos_bytes": len(b1),
            "ours_bytes": len(b2),
            "equal": not diffs,
            "differences": format_differences(diffs) if diffs else "",
        }
        state = "same JSON" if not diffs else f"DIFFERENT:\n{format_differences(diffs)}"
        log(f"  {key}: AgentOS {s1} {len(b1)} B, ours {s2} {len(b2)} B, {state}")
        if s1 != 200 or s2 != 200:
            raise RuntimeError(f"{key} {path}: AgentOS {s1}, ours {s2} (expected 200 from both)")
    return out


class Bench:
    def __init__(self, opts: Options, agentos_python: Path) -> None:
        self.o = opts
        self.agentos_python = agentos_python
        self.rss = RssSampler(interval=2.0)
        self.results: dict[str, Any] = {"options": self._options(), "sizes": {}}
        self.cluster: Cluster | None = None

    def _options(self) -> dict[str, Any]:
        o = self.o
        return {
            "quick": o.quick,
            "dataset": o.dataset,
            "rounds": o.rounds,
            "duration": o.duration,
            "warmup": o.warmup,
            "sizes": o.sizes,
            "connections": o.connections,
            "threads": o.threads,
            "agentos_large_rounds": o.agentos_large_rounds,
            "pgbench_seconds": o.pgbench_seconds,
            "pgbench_rounds": o.pgbench_rounds,
            "wrk": " ".join(wrk.command("URL", o.duration, o.connections, o.threads)),
            "ours_env": o.ours_env,
        }

    # ------------------------------------------------------------------ load
    def load(self, server: Server, path: str, label: str, duration: float | None = None, **kw: Any) -> wrk.WrkResult:
        self.rss.phase = label
        meter = CpuMeter(self.cluster.data / "postmaster.pid") if self.cluster else None
        if meter:
            meter.start()
        result = wrk.run(
            server.base_url + path,
            duration or self.o.duration,
            kw.pop("connections", self.o.connections),
            kw.pop("threads", self.o.threads),
            out=self.o.out / f"wrk-{label}.txt",
            headers=server.headers,
        )
        if meter:
            cpu = meter.stop()
            result.foreign_cores, result.busy_cores = cpu["foreign_cores"], cpu["busy_cores"]
        self.rss.sample_now()
        self.rss.phase = "idle"
        settled = self.settle()
        errors = f", {result.errors} errors" if result.errors else ""
        late = f"; {settled:.1f} s until the database was idle again" if settled > 1 else ""
        log(
            f"  {label}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms{errors}"
            f" (other processes: {result.foreign_cores:.2f} cores{late})"
        )
        return result

    def settle(self, limit: float = 120.0) -> float:
        """Wait until no statement of the bench databases is running any more (a server may still work on
        requests whose clients wrk has already dropped, e.g. after timeouts); returns the seconds waited."""
        if self.cluster is None:
            return 0.0
        started = time.monotonic()
        conn = psycopg2.connect(self.cluster.dsn())
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while time.monotonic() - started < limit:
                    cur.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() "
                        "AND datname LIKE 'bench%%' AND backend_type = 'client backend'"
                    )
                    row = cur.fetchone()
                    if row is None or row[0] == 0:
                        break
                    time.sleep(0.1)
        finally:
            conn.close()
        return time.monotonic() - started

    def compare_endpoint(
        self, servers: list[tuple[str, Server, int]], key: str, path: str, n: int
    ) -> dict[str, list[dict[str, Any]]]:
        """wrk the (name, server, rounds) entries alternately: round r runs every server that still has
        rounds, in the listed order for odd r and reversed for even r (drift hits both alike)."""
        servers = [entry for entry in servers if entry[2] > 0]
        for name, server, _ in servers:
            self.rss.phase = f"warmup-{name}-{n}-{key}"
            wrk.warm_up(server.base_url + path, self.o.warmup, self.o.connections, self.o.threads, server.headers)
        got: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in servers}
        for r in range(1, max((rounds for _, _, rounds in servers), default=0) + 1):
            order = servers if r % 2 else list(reversed(servers))
            for name, server, rounds in order:
                if r <= rounds:
                    got[name].append(self.load(server, path, f"{name}-{n}-{key}-r{r}").to_dict())
        return got

    # ------------------------------------------------------------------ one data set
    def run_size(self, n: int) -> None:
        assert self.cluster is not None
        o, cluster = self.o, self.cluster
        db = f"bench_{n}"
        dsn = cluster.create_database(db)
        log(f"seeding {n} sessions into {db} ...")
        facts = seed.seed(self.agentos_python, dsn, n, log=lambda m: log("  " + m), dataset=o.dataset)
        urls = bench_urls(n, o.dataset)
        res: dict[str, Any] = {"seed": facts, "urls": urls, "db": db}
        self.results["sizes"][str(n)] = res
        large = n > 1000
        ours = start_ours(dsn, free_port(), o.out / f"ours-{n}.log", extra_env=o.ours_env)
        agentos = start_agentos(
            self.agentos_python,
            dsn.replace("postgresql://", "postgresql+psycopg://", 1),
            free_port(),
            o.out / f"agentos-{n}.log",
        )
        res["commands"] = {"ours": ours.command, "agentos": agentos.command}
        self.rss.watch(ours, "ours")
        self.rss.watch(agentos, "agentos")
        try:
            log(f"{n}: sanity (200 and the same JSON from both servers)")
            res["sanity"] = sanity(ours, agentos, urls)
            log(f"{n}: capturing our SQL (log_statement=all)")
            sqlcapture.statement_log(cluster, True)
            try:
                res["sql"] = {
                    k: sqlcapture.capture(cluster, sqlcapture.http_get(ours.base_url + p)) for k, p in urls.items()
                }
            finally:
                sqlcapture.statement_log(cluster, False)
            res["explain"] = {
                k: [sqlcapture.explain(dsn, s) for s in res["sql"][k] if s.strip().upper() != "SELECT 1"]
                for k in (SCALE_ENDPOINTS if large else ENDPOINTS)
            }
            res["explain_counting"] = {
                k: [sqlcapture.explain(dsn, sqlcapture.counting(s)) for s in counted]
                for k in COUNTING_ENDPOINTS
                if (counted := [s for s in res["sql"][k] if sqlcapture.reuses_count(s)])
            }
            log(f"{n}: wrk, ours vs AgentOS")
            res["load"] = {}
            for key in ENDPOINTS:
                agentos_rounds = o.rounds if not large else (o.agentos_large_rounds if key in SCALE_ENDPOINTS else 0)
                if o.quick and large:
                    agentos_rounds = 0
                pair = [("ours", ours, o.rounds), ("agentos", agentos, agentos_rounds)]
                res["load"][key] = self.compare_endpoint(pair, key, urls[key], n)
            log(f"{n}: single-connection latency (ours)")
            res["c1"] = {
                k: self.load(
                    ours, urls[k], f"ours-{n}-{k}-c1", duration=min(o.duration, 5.0), connections=1, threads=1
                ).to_dict()
                for k in SCALE_ENDPOINTS
            }
            res["no_reuse"] = self.without_count_reuse(dsn, urls, n, ours)
            log(f"{n}: pgbench of our SQL")
            res["pgbench"] = {}
            for key in ENDPOINTS if not large else SCALE_ENDPOINTS:
                script = sqlcapture.pgbench_script(res["sql"][key], o.out / f"pgbench-{n}-{key}.sql")
                runs = []
                for r in range(1, o.pgbench_rounds + 1):
                    self.rss.phase = f"pgbench-{n}-{key}-r{r}"
                    meter = CpuMeter(cluster.data / "postmaster.pid")
                    meter.start()
                    got = sqlcapture.pgbench(
                        cluster, db, script, o.pgbench_seconds, 8, o.out / f"pgbench-{n}-{key}-r{r}.txt"
                    )
                    got.update(meter.stop())
                    log(
                        f"  pgbench {n} {key} r{r}: {got['tps']:.0f} tps, {got['latency_ms']:.2f} ms"
                        f" (other processes: {got['foreign_cores']:.2f} cores)"
                    )
                    runs.append(got)
                res["pgbench"][key] = runs
            if o.profile and n == o.sizes[0]:
                self.profile(ours, urls, n)
            if o.long and n == o.sizes[0]:
                self.long_run(ours, urls, n)
            if n == o.sizes[0]:
                self.access_log_and_workers(dsn, urls, n, ours)
        finally:
            self.rss.unwatch("ours")
            self.rss.unwatch("agentos")
            ours.stop()
            agentos.stop()

    @contextlib.contextmanager
    def extra_ours(
        self,
        dsn: str,
        n: int,
        variant: str,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
        log_level: str = "WARNING",
    ) -> Iterator[Server]:
        """A second agno-session process ("ours-<variant>", log ours-<n>-<variant>.log) on the same database
        for an A/B against the running one, its VmRSS sampled while it runs; stopped on leaving."""
        server = start_ours(
            dsn,
            free_port(),
            self.o.out / f"ours-{n}-{variant}.log",
            workers=workers,
            log_level=log_level,
            extra_env=self.o.ours_env if extra_env is None else extra_env,
        )
        self.rss.watch(server, f"ours-{variant}")
        try:
            yield server
        finally:
            self.rss.unwatch(f"ours-{variant}")
            server.stop()

    def without_count_reuse(self, dsn: str, urls: dict[str, str], n: int, ours: Server) -> dict[str, Any]:
        """A/B against the running process: AGNO_COUNT_CACHE_SIZE=0 counts on every list request, which is
        what every request costs when something commits between any two of them."""
        o = self.o
        log(f"{n}: ours without count reuse (AGNO_COUNT_CACHE_SIZE=0) vs default, alternately")
        env = {**o.ours_env, "AGNO_COUNT_CACHE_SIZE": "0"}
        with self.extra_ours(dsn, n, "counting", extra_env=env) as counting:
            pair = [("ours", ours, o.rounds), ("ours-counting", counting, o.rounds)]
            load = {k: self.compare_endpoint(pair, k, urls[k], n) for k in COUNTING_ENDPOINTS}
            c1 = {
                k: self.load(
                    counting, urls[k], f"ours-counting-{n}-{k}-c1", duration=min(o.duration, 5.0), connections=1,
                    threads=1,
                ).to_dict()
                for k in COUNTING_ENDPOINTS
            }  # fmt: skip
        log(f"{n}: ours (default) while another client commits {COMMITS_PER_SECOND} times a second")
        writes: dict[str, Any] = {}
        for key in COUNTING_ENDPOINTS:
            before = list_count_outcomes(ours)
            with CommitTicker(dsn, COMMITS_PER_SECOND) as ticker:
                got = self.compare_endpoint([("ours-writes", ours, o.rounds)], key, urls[key], n)
            after = list_count_outcomes(ours)
            counted = after.get("counted", 0.0) - before.get("counted", 0.0)
            reused = after.get("reused", 0.0) - before.get("reused", 0.0)
            writes[key] = {
                "load": got["ours-writes"],
                "commits_per_second": ticker.commits / ticker.seconds if ticker.seconds else 0.0,
                "reused_share": reused / (counted + reused) if counted + reused else 0.0,
            }
        return {"load": load, "c1": c1, "command": counting.command, "writes": writes}

    def access_log_and_workers(self, dsn: str, urls: dict[str, str], n: int, ours: Server) -> None:
        """A/B against the running single process: the access log on (INFO), then AGNO_WORKERS=2."""
        o = self.o
        log(f"{n}: ours with the access log on (AGNO_LOG_LEVEL=INFO, stdout to a file) vs off, alternately")
        with self.extra_ours(dsn, n, "info", log_level="INFO") as info:
            pair = [("ours", ours, o.rounds), ("ours-info", info, o.rounds)]
            self.results["access_log"] = {
                "size": n,
                "load": {k: self.compare_endpoint(pair, k, urls[k], n) for k in ACCESS_LOG_ENDPOINTS},
            }
        log(f"{n}: JWT authentication with scopes and user isolation vs none, alternately")
        with self.extra_ours(dsn, n, "jwt", extra_env={**o.ours_env, **jwt_env()}) as authed:
            authed.headers = (f"Authorization: Bearer {bench_token()}",)
            pair = [("ours", ours, o.rounds), ("ours-jwt", authed, o.rounds)]
            self.results["auth"] = {
                "size": n,
                "load": {k: self.compare_endpoint(pair, k, urls[k], n) for k in AUTH_ENDPOINTS},
            }
        log(f"{n}: AGNO_WORKERS=2 vs 1, alternately")
        with self.extra_ours(dsn, n, "w2", workers=2) as w2:
            pair = [("ours", ours, o.rounds), ("ours-w2", w2, o.rounds)]
            got = {k: self.compare_endpoint(pair, k, urls[k], n) for k in WORKER_ENDPOINTS}
            self.results["workers2"] = {"size": n, "load": got, "command": w2.command}

    def profile(self, ours: Server, urls: dict[str, str], n: int) -> None:
        seconds = 10
        out: dict[str, Any] = {}
        for key in ENDPOINTS:
            raw = self.o.out / f"profile-ours-{n}-{key}.raw"
            log(f"  py-spy {key} ({seconds} s under wrk -c{self.o.connections})")
            load = subprocess.Popen(
                wrk.command(ours.base_url + urls[key], seconds + 3, self.o.connections, self.o.threads),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1)
            spy = prof.record(ours.pid, seconds, raw)
            _, err = spy.communicate(timeout=seconds + 60)
            load.wait(timeout=seconds + 60)
            if spy.returncode != 0 or not raw.exists():
                out[key] = {"error": err.decode(errors="replace")[-2000:]}
                continue
            summary = prof.summarise(raw)
            out[key] = {"raw": raw.name, "table": summary.table(20, seconds=seconds), "samples": summary.samples}
        self.results["profile"] = out

    def long_run(self, ours: Server, urls: dict[str, str], n: int) -> None:
        """A mixed-URL wrk run of `long_seconds` on one process, VmRSS every 5 s."""
        o = self.o
        script = o.out / "mixed.lua"
        paths = ", ".join(json.dumps(urls[k]) for k in ENDPOINTS)
        script.write_text(
            f"local paths = {{{paths}}}\nlocal i = 0\n"
            'request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n'
        )
        log(f"{n}: long run, {o.long_seconds:.0f} s of mixed load, VmRSS every 5 s")
        sampler = RssSampler(interval=5.0)
        sampler.watch(ours, "ours")
        sampler.phase = "long"
        sampler.sample_now()
        sampler.start()
        try:
            res = wrk.run(
                ours.base_url + urls["list"], o.long_seconds, o.connections, o.threads, o.out / "wrk-long.txt", script
            )
        finally:
            sampler.stop()
        sampler.sample_now()
        self.results["long"] = {
            "size": n,
            "seconds": o.long_seconds,
            "wrk": res.to_dict(),
            "samples": [(round(s.t, 1), s.rss_kib) for s in sampler.samples],
        }
        log(f"  long: {res.rps:.1f} req/s; VmRSS {sampler.samples[0].rss_kib} -> {sampler.samples[-1].rss_kib} KiB")

    # ------------------------------------------------------------------ main
    def run(self) -> None:
        o = self.o
        o.out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        if o.root.exists():
            with contextlib.suppress(Exception):
                Cluster(o.root / "pg", int((o.root / "pg" / "port").read_text())).stop("immediate")
            shutil.rmtree(o.root)
        log(f"PostgreSQL cluster under {o.root}/pg; raw outputs in {o.out}")
        self.cluster = init_cluster(o.root / "pg")
        self.results["machine"] = machine_facts(self.cluster, self.agentos_python)
        self.rss.start()
        try:
            for n in o.sizes:
                self.run_size(n)
        finally:
            self.rss.stop()
            self.results["rss"] = [
                {"t": round(s.t, 1), "server": s.server, "phase": s.phase, "pid": s.pid, "rss_kib": s.rss_kib}
                for s in self.rss.samples
            ]
            self.results["machine"]["loadavg_after"] = str(Path("/proc/loadavg").read_text().split(" ", 3)[:3])
            self.results["elapsed_seconds"] = round(time.monotonic() - started)
            (o.out / "results.json").write_text(json.dumps(self.results, indent=1))
            if not o.keep:
                self.cluster.stop()
                shutil.rmtree(o.root, ignore_errors=True)
        o.results_md.write_text(report.render(self.results, o.out))
        log(f"done in {self.results['elapsed_seconds']} s: {o.results_md}")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    agentos_python = Path(os.environ.get("BENCH_AGENTOS_PYTHON", str(REPO / ".venv-agentos" / "bin" / "python")))
    Bench(opts, agentos_python).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
