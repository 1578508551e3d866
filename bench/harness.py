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


# What the service reuses across requests while nothing commits, switched off (docs: service/config.py):
# list/search totals (AGNO_COUNT_CACHE_SIZE) and rendered GET answers (AGNO_ANSWER_CACHE_BYTES, where the
# service has it; an unknown variable is ignored). `--reuse-off NAME=VALUE` replaces the list.
REUSE_OFF_ENV = {"AGNO_COUNT_CACHE_SIZE": "0", "AGNO_ANSWER_CACHE_BYTES": "0"}
REUSE_METRICS = ("list_counts_total", "answers_total")  # outcome counters read around the committing rounds
AGENTOS_WORKERS = 4  # what AgentOS users run in production (uvicorn --workers)
C1_SECONDS = 4.0  # the single-connection latency rounds
SEED_SECONDS = {("production", 1000): 20, ("production", 100000): 360, ("simple", 1000): 10, ("simple", 100000): 60}


@dataclass
class Options:
    quick: bool
    datasets: list[str]
    long: bool
    profile: bool
    sizes: list[int]
    rounds: int
    duration: float
    warmup: float
    agentos_large_rounds: int
    variant_rounds: int
    pgbench_seconds: float
    pgbench_rounds: int
    long_seconds: float
    profile_seconds: float = 6.0
    profile_rate: int = 97
    connections: int = 32
    threads: int = 2
    keep: bool = False
    ours_env: dict[str, str] = field(default_factory=dict)
    reuse_off: dict[str, str] = field(default_factory=lambda: dict(REUSE_OFF_ENV))
    out: Path = field(default_factory=Path)
    results_md: Path = field(default_factory=Path)
    flamegraphs: Path = field(default_factory=Path)
    root: Path = field(default_factory=Path)


def parse_args(argv: list[str]) -> Options:
    p = argparse.ArgumentParser(prog="bash bench/run.sh", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="1 round of 5 s, 1k production sessions only (iteration)")
    p.add_argument(
        "--dataset",
        choices=sorted(seed.DATASETS),
        help="only this dataset (default: production and simple; quick: production). production: sessions "
        "shaped like real use; simple: 3 short runs each (bench/README.md)",
    )
    p.add_argument("--long", action="store_true", help="add the 5-minute memory run on the largest dataset")
    p.add_argument("--profile", action="store_true", help="add py-spy flame graphs (SVG) of our service per endpoint")
    p.add_argument("--sizes", help="comma-separated session counts (default 1000,100000; quick: 1000)")
    p.add_argument("--rounds", type=int, help="wrk rounds per endpoint and server (default 3; quick: 1)")
    p.add_argument("--duration", type=float, help="seconds per wrk round (default 7; quick: 5)")
    p.add_argument("--long-seconds", type=float, default=300.0)
    p.add_argument("--keep", action="store_true", help="leave the PostgreSQL cluster running")
    p.add_argument(
        "--root",
        type=Path,
        default=Path("/tmp/agno-session-bench"),
        help="directory of the throwaway PostgreSQL cluster (removed first and at the end)",
    )
    p.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for every agno-session process (repeatable), e.g. AGNO_POOL_MAX_SIZE=32",
    )
    p.add_argument(
        "--reuse-off",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="the settings that switch off what the service reuses across requests (repeatable; default "
        + " ".join(f"{k}={v}" for k, v in REUSE_OFF_ENV.items())
        + ")",
    )
    p.add_argument("--results", type=Path, default=None, help="where to write the report (default bench/RESULTS.md)")
    a = p.parse_args(argv)
    quick = a.quick
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = REPO / "bench" / "out" / stamp
    default_results = out / "RESULTS.md" if quick else REPO / "bench" / "RESULTS.md"  # quick never overwrites
    results_md = a.results or default_results
    return Options(
        quick=quick,
        datasets=[a.dataset] if a.dataset else (["production"] if quick else ["production", "simple"]),
        long=a.long,
        profile=a.profile,
        sizes=sorted(int(s) for s in a.sizes.split(",")) if a.sizes else ([1000] if quick else [1000, 100000]),
        rounds=a.rounds or (1 if quick else 3),
        duration=a.duration or (5.0 if quick else 7.0),
        warmup=2.0,
        agentos_large_rounds=1,
        variant_rounds=1 if quick else 2,
        pgbench_seconds=5.0,
        pgbench_rounds=1,
        long_seconds=a.long_seconds,
        keep=a.keep,
        ours_env=dict(item.split("=", 1) for item in a.ours_env),
        reuse_off=dict(item.split("=", 1) for item in a.reuse_off) if a.reuse_off else dict(REUSE_OFF_ENV),
        out=out,
        results_md=results_md,
        # the full run's flame graphs are committed beside RESULTS.md; a quick run keeps them in its out dir
        flamegraphs=(REPO / "bench" / "flamegraphs" / "results")
        if results_md == REPO / "bench" / "RESULTS.md"
        else out / "flamegraphs",
        root=a.root,
    )


@dataclass
class SizePlan:
    """What one dataset size runs: the servers per endpoint and rounds, and the extras."""

    dataset: str
    n: int
    endpoints: tuple[str, ...]
    rounds: int  # ours, and AgentOS at 1k
    agentos_rounds: int
    agentos_workers: bool  # also AgentOS with AGENTOS_WORKERS workers
    variants: bool  # reuse switched off, and another client committing
    pgbench_endpoints: tuple[str, ...]
    pgbench_rounds: int
    profile: bool
    long: bool
    extras: bool  # access log, JWT, AGNO_WORKERS=2


def plan(o: Options) -> list[SizePlan]:
    """The production dataset gets every comparison; the simple one (its issue #5 rows) the main comparison
    with at most 2 rounds, single-connection latency and the A/B extras (1 round) at its smallest size."""
    plans = []
    for ds in o.datasets:
        prod = ds == "production"
        rounds = o.rounds if prod else min(o.rounds, 2)
        for n in o.sizes:
            large = n > 1000
            agentos = o.agentos_large_rounds if large else rounds
            if o.quick and large:
                agentos = 0
            plans.append(
                SizePlan(
                    dataset=ds,
                    n=n,
                    endpoints=ENDPOINTS if prod or not large else SCALE_ENDPOINTS,
                    rounds=rounds,
                    agentos_rounds=agentos,
                    agentos_workers=prod,
                    variants=prod,
                    pgbench_endpoints=ENDPOINTS if prod or not large else SCALE_ENDPOINTS,
                    pgbench_rounds=o.pgbench_rounds if prod else 1,
                    profile=o.profile and prod and n == o.sizes[-1],
                    long=o.long and prod and n == o.sizes[-1],
                    extras=n == o.sizes[0] and ds == o.datasets[-1],
                )
            )
    return plans


def estimate_seconds(o: Options, plans: list[SizePlan]) -> float:
    """The wall time the plan needs on an idle machine (wrk and pgbench time plus measured overheads)."""
    per_round = o.duration + 0.8  # settle, parsing, the CPU meter (measured: under 1 s)
    total = 20.0  # cluster, machine facts, report
    for sp in plans:
        total += SEED_SECONDS.get((sp.dataset, sp.n), sp.n / 100) + 40  # seed, start servers, sanity, SQL capture
        servers = (1 + (1 if sp.agentos_workers else 0)) if sp.agentos_rounds else 0
        for _ in sp.endpoints:
            total += (1 + servers) * o.warmup + (sp.rounds + servers * sp.agentos_rounds) * per_round
            if sp.variants:
                total += 2 * (o.warmup + o.variant_rounds * per_round)
        if sp.variants:
            total += len(COUNTING_ENDPOINTS) * (min(o.duration, C1_SECONDS) + 1.5) + 10  # + the reuse-off process
        total += len(SCALE_ENDPOINTS) * (min(o.duration, C1_SECONDS) + 1.5)
        replays = 2 if sp.variants else 1  # the default process's statements, and the reuse-off process's
        total += replays * len(sp.pgbench_endpoints) * sp.pgbench_rounds * (o.pgbench_seconds + 1)
        if sp.profile:
            total += len(ENDPOINTS) * 2 * (o.profile_seconds + 5)  # a flame graph, then the raw stacks
        if sp.long:
            total += o.long_seconds + 5
        if sp.extras:
            rounds = 1
            total += (len(ACCESS_LOG_ENDPOINTS) + len(AUTH_ENDPOINTS) + len(WORKER_ENDPOINTS)) * (
                2 * o.warmup + 2 * rounds * per_round
            ) + 15
    return total


def _fresh_uri(path: str, marker: str = "bench_capture") -> str:
    return path + ("&" if "?" in path else "?") + marker + "=1"


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
        self.plans = plan(opts)
        self.results: dict[str, Any] = {"options": self._options(), "datasets": {}}
        self.cluster: Cluster | None = None

    def _options(self) -> dict[str, Any]:
        o = self.o
        return {
            "quick": o.quick,
            "datasets": o.datasets,
            "rounds": o.rounds,
            "duration": o.duration,
            "warmup": o.warmup,
            "sizes": o.sizes,
            "connections": o.connections,
            "threads": o.threads,
            "agentos_large_rounds": o.agentos_large_rounds,
            "agentos_workers": AGENTOS_WORKERS,
            "variant_rounds": o.variant_rounds,
            "pgbench_seconds": o.pgbench_seconds,
            "pgbench_rounds": o.pgbench_rounds,
            "long": o.long,
            "long_seconds": o.long_seconds,
            "profile": o.profile,
            "wrk": " ".join(wrk.command("URL", o.duration, o.connections, o.threads)),
            "ours_env": o.ours_env,
            "reuse_off": o.reuse_off,
            "commits_per_second": COMMITS_PER_SECOND,
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
        self, servers: list[tuple[str, Server, int]], key: str, path: str, tag: str
    ) -> dict[str, list[dict[str, Any]]]:
        """wrk the (name, server, rounds) entries alternately: round r runs every server that still has
        rounds, in the listed order for odd r and reversed for even r (drift hits both alike)."""
        servers = [entry for entry in servers if entry[2] > 0]
        for name, server, _ in servers:
            self.rss.phase = f"warmup-{name}-{tag}-{key}"
            wrk.warm_up(server.base_url + path, self.o.warmup, self.o.connections, self.o.threads, server.headers)
        got: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in servers}
        for r in range(1, max((rounds for _, _, rounds in servers), default=0) + 1):
            order = servers if r % 2 else list(reversed(servers))
            for name, server, rounds in order:
                if r <= rounds:
                    got[name].append(self.load(server, path, f"{name}-{tag}-{key}-r{r}").to_dict())
        return got

    # ------------------------------------------------------------------ one data set size
    def run_size(self, sp: SizePlan) -> None:
        assert self.cluster is not None
        o, cluster, n = self.o, self.cluster, sp.n
        tag = f"{sp.dataset}-{n}"
        db = f"bench_{sp.dataset}_{n}"
        dsn = cluster.create_database(db)
        log(f"seeding {n} {sp.dataset} sessions into {db} ...")
        facts = seed.seed(self.agentos_python, dsn, n, log=lambda m: log("  " + m), dataset=sp.dataset)
        urls = bench_urls(n, sp.dataset)
        res: dict[str, Any] = {"seed": facts, "urls": urls, "db": db}
        self.results["datasets"].setdefault(sp.dataset, {"sizes": {}})["sizes"][str(n)] = res
        sqlalchemy_url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
        servers: list[Server] = []
        try:
            ours = start_ours(dsn, free_port(), o.out / f"ours-{tag}.log", extra_env=o.ours_env)
            servers.append(ours)
            agentos = start_agentos(self.agentos_python, sqlalchemy_url, free_port(), o.out / f"agentos-{tag}.log")
            servers.append(agentos)
            watched = [("ours", ours), ("agentos", agentos)]
            agentos_w = None
            if sp.agentos_workers and sp.agentos_rounds:
                agentos_w = start_agentos(
                    self.agentos_python,
                    sqlalchemy_url,
                    free_port(),
                    o.out / f"agentos-w{AGENTOS_WORKERS}-{tag}.log",
                    workers=AGENTOS_WORKERS,
                )
                servers.append(agentos_w)
                watched.append((f"agentos-w{AGENTOS_WORKERS}", agentos_w))
            commands = {name: server.command for name, server in watched}
            res["commands"] = commands
            for name, server in watched:
                self.rss.watch(server, name)
            log(f"{tag}: sanity (200 and the same JSON from both servers)")
            res["sanity"] = sanity(ours, agentos, urls)
            log(f"{tag}: capturing our SQL (log_statement=all)")
            res["sql"] = self.capture_sql(ours, urls)
            res["explain"] = {
                k: [sqlcapture.explain(dsn, s) for s in res["sql"][k] if s.strip().upper() != "SELECT 1"]
                for k in sp.endpoints
            }
            res["explain_counting"] = {
                k: [sqlcapture.explain(dsn, sqlcapture.counting(s)) for s in counted]
                for k in COUNTING_ENDPOINTS
                if (counted := [s for s in res["sql"][k] if sqlcapture.reuses_count(s)])
            }
            log(f"{tag}: wrk, ours vs AgentOS")
            res["load"] = {}
            for key in sp.endpoints:
                entries = [("ours", ours, sp.rounds), ("agentos", agentos, sp.agentos_rounds)]
                if agentos_w is not None:
                    entries.append((f"agentos-w{AGENTOS_WORKERS}", agentos_w, sp.agentos_rounds))
                res["load"][key] = self.compare_endpoint(entries, key, urls[key], tag)
            log(f"{tag}: single-connection latency (ours)")
            res["c1"] = {
                k: self.load(
                    ours, urls[k], f"ours-{tag}-{k}-c1", duration=min(o.duration, C1_SECONDS), connections=1, threads=1
                ).to_dict()
                for k in SCALE_ENDPOINTS
            }
            if sp.variants:
                res["no_reuse"] = self.without_reuse(dsn, db, urls, tag, sp)
                res["writes"] = self.while_committing(dsn, urls, tag, ours, sp.endpoints)
            log(f"{tag}: pgbench of our SQL")
            res["pgbench"] = self.replay(db, res["sql"], sp, tag)
            if sp.profile:
                self.profile(ours, urls, tag)
            if sp.long:
                self.long_run(ours, urls, tag, n)
            if sp.extras:
                self.access_log_and_workers(dsn, urls, tag, n, ours)
        finally:
            for name in ("ours", "agentos", f"agentos-w{AGENTOS_WORKERS}"):
                self.rss.unwatch(name)
            for server in servers:
                server.stop()

    @contextlib.contextmanager
    def extra_ours(
        self,
        dsn: str,
        tag: str,
        variant: str,
        extra_env: dict[str, str] | None = None,
        workers: int = 1,
        log_level: str = "WARNING",
    ) -> Iterator[Server]:
        """A second agno-session process ("ours-<variant>", log ours-<tag>-<variant>.log) on the same database
        for an A/B against the running one, its VmRSS sampled while it runs; stopped on leaving."""
        server = start_ours(
            dsn,
            free_port(),
            self.o.out / f"ours-{tag}-{variant}.log",
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

    def without_reuse(self, dsn: str, db: str, urls: dict[str, str], tag: str, sp: SizePlan) -> dict[str, Any]:
        """A process with every reuse across requests switched off (`reuse_off`): what each request costs when
        something commits between any two of them. Its own statements (one render each) are captured and
        replayed with pgbench: the ceiling of this condition."""
        o = self.o
        shown = " ".join(f"{k}={v}" for k, v in o.reuse_off.items())
        log(f"{tag}: ours with reuse switched off ({shown})")
        with self.extra_ours(dsn, tag, "noreuse", extra_env={**o.ours_env, **o.reuse_off}) as noreuse:
            sql = self.capture_sql(noreuse, urls)
            load = {
                k: self.compare_endpoint([("ours-noreuse", noreuse, o.variant_rounds)], k, urls[k], tag)
                for k in sp.endpoints
            }
            c1 = {
                k: self.load(
                    noreuse, urls[k], f"ours-noreuse-{tag}-{k}-c1", duration=min(o.duration, C1_SECONDS), connections=1,
                    threads=1,
                ).to_dict()
                for k in COUNTING_ENDPOINTS
            }  # fmt: skip
        log(f"{tag}: pgbench of our SQL with reuse off")
        pgbench = self.replay(db, sql, sp, f"{tag}-noreuse")
        return {"env": o.reuse_off, "load": {k: v["ours-noreuse"] for k, v in load.items()}, "c1": c1,
                "command": noreuse.command, "sql": sql, "pgbench": pgbench}  # fmt: skip

    def capture_sql(self, server: Server, urls: dict[str, str]) -> dict[str, list[str]]:
        """The statements `server` runs for one render of each URL (`log_statement=all` while capturing)."""
        assert self.cluster is not None
        for path in urls.values():  # reads a fresh process makes once (search's name statistics) come first
            sqlcapture.http_get(server.base_url + _fresh_uri(path, "bench_warmup"))()
        sqlcapture.statement_log(self.cluster, True)
        try:
            # a URI no earlier request used: the statements of a render, never of a reused answer (which
            # would capture only the snapshot read); the API ignores an unknown query parameter
            return {
                k: sqlcapture.capture(self.cluster, sqlcapture.http_get(server.base_url + _fresh_uri(p)))
                for k, p in urls.items()
            }
        finally:
            sqlcapture.statement_log(self.cluster, False)

    def replay(self, db: str, sql: dict[str, list[str]], sp: SizePlan, tag: str) -> dict[str, list[dict[str, Any]]]:
        """pgbench replaying each endpoint's captured statements (the database ceiling of that endpoint)."""
        assert self.cluster is not None
        o, cluster = self.o, self.cluster
        replayed: dict[str, list[dict[str, Any]]] = {}
        for key in sp.pgbench_endpoints:
            script = sqlcapture.pgbench_script(sql[key], o.out / f"pgbench-{tag}-{key}.sql")
            runs = []
            for r in range(1, sp.pgbench_rounds + 1):
                self.rss.phase = f"pgbench-{tag}-{key}-r{r}"
                meter = CpuMeter(cluster.data / "postmaster.pid")
                meter.start()
                got = sqlcapture.pgbench(
                    cluster, db, script, o.pgbench_seconds, 8, o.out / f"pgbench-{tag}-{key}-r{r}.txt"
                )
                got.update(meter.stop())
                log(
                    f"  pgbench {tag} {key} r{r}: {got['tps']:.0f} tps, {got['latency_ms']:.2f} ms"
                    f" (other processes: {got['foreign_cores']:.2f} cores)"
                )
                runs.append(got)
            replayed[key] = runs
        return replayed

    def while_committing(
        self, dsn: str, urls: dict[str, str], tag: str, ours: Server, endpoints: tuple[str, ...]
    ) -> dict[str, Any]:
        """The default process while another client commits COMMITS_PER_SECOND times a second, with the share
        of requests that still reused a total or an answer (the service's outcome counters)."""
        o = self.o
        log(f"{tag}: ours (default) while another client commits {COMMITS_PER_SECOND} times a second")
        writes: dict[str, Any] = {}
        for key in endpoints:
            before = reuse_outcomes(ours)
            with CommitTicker(dsn, COMMITS_PER_SECOND) as ticker:
                got = self.compare_endpoint([("ours-writes", ours, o.variant_rounds)], key, urls[key], tag)
            after = reuse_outcomes(ours)
            delta = {
                metric: {out: after.get(metric, {}).get(out, 0.0) - v for out, v in before.get(metric, {}).items()}
                | {out: v for out, v in after.get(metric, {}).items() if out not in before.get(metric, {})}
                for metric in set(before) | set(after)
            }
            writes[key] = {
                "load": got["ours-writes"],
                "commits_per_second": ticker.commits / ticker.seconds if ticker.seconds else 0.0,
                "outcomes": {m: {k: v for k, v in d.items() if v} for m, d in delta.items()},
            }
        return writes

    def access_log_and_workers(self, dsn: str, urls: dict[str, str], tag: str, n: int, ours: Server) -> None:
        """A/B against the running single process: the access log on (INFO), JWT, then AGNO_WORKERS=2."""
        o = self.o
        rounds = 1  # the A/B extras are measured apart as well (bench/README.md); one round each fits the budget
        log(f"{tag}: ours with the access log on (AGNO_LOG_LEVEL=INFO, stdout to a file) vs off, alternately")
        with self.extra_ours(dsn, tag, "info", log_level="INFO") as info:
            pair = [("ours", ours, rounds), ("ours-info", info, rounds)]
            self.results["access_log"] = {
                "size": n,
                "tag": tag,
                "load": {k: self.compare_endpoint(pair, k, urls[k], tag) for k in ACCESS_LOG_ENDPOINTS},
            }
        log(f"{tag}: JWT authentication with scopes and user isolation vs none, alternately")
        with self.extra_ours(dsn, tag, "jwt", extra_env={**o.ours_env, **jwt_env()}) as authed:
            authed.headers = (f"Authorization: Bearer {bench_token()}",)
            pair = [("ours", ours, rounds), ("ours-jwt", authed, rounds)]
            self.results["auth"] = {
                "size": n,
                "tag": tag,
                "load": {k: self.compare_endpoint(pair, k, urls[k], tag) for k in AUTH_ENDPOINTS},
            }
        log(f"{tag}: AGNO_WORKERS=2 vs 1, alternately")
        with self.extra_ours(dsn, tag, "w2", workers=2) as w2:
            pair = [("ours", ours, rounds), ("ours-w2", w2, rounds)]
            got = {k: self.compare_endpoint(pair, k, urls[k], tag) for k in WORKER_ENDPOINTS}
            self.results["workers2"] = {"size": n, "tag": tag, "load": got, "command": w2.command}

    def profile(self, ours: Server, urls: dict[str, str], tag: str) -> None:
        """py-spy per endpoint under the same wrk load: a flame graph (SVG) and the self/inclusive tables."""
        o = self.o
        seconds = o.profile_seconds
        o.flamegraphs.mkdir(parents=True, exist_ok=True)
        out: dict[str, Any] = {"tag": tag, "seconds": seconds, "rate": o.profile_rate, "dir": _rel(o.flamegraphs),
                               "endpoints": {}}  # fmt: skip
        for key in ENDPOINTS:
            raw = o.out / f"profile-ours-{tag}-{key}.raw"
            svg = o.flamegraphs / f"{key}.svg"
            log(f"  py-spy {key} ({seconds:g} s under wrk -c{o.connections}, {o.profile_rate} Hz)")
            got: dict[str, Any] = {}
            for fmt, path in (("flamegraph", svg), ("raw", raw)):
                load = subprocess.Popen(
                    wrk.command(ours.base_url + urls[key], seconds + 3, o.connections, o.threads),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(1)
                spy = prof.record(ours.pid, seconds, path, rate=o.profile_rate, fmt=fmt)
                _, err = spy.communicate(timeout=seconds + 60)
                load.wait(timeout=seconds + 60)
                if spy.returncode != 0 or not path.exists():
                    got["error"] = err.decode(errors="replace")[-2000:]
                    break
                if fmt == "raw":
                    summary = prof.summarise(raw)
                    got["table"] = summary.table(20, seconds=seconds, rate=o.profile_rate)
                    got["samples"] = summary.samples
                else:
                    got["svg"] = svg.name
            out["endpoints"][key] = got
        self.results["profile"] = out

    def long_run(self, ours: Server, urls: dict[str, str], tag: str, n: int) -> None:
        """A mixed-URL wrk run of `long_seconds` on one process, VmRSS every 5 s."""
        o = self.o
        script = o.out / "mixed.lua"
        paths = ", ".join(json.dumps(urls[k]) for k in ENDPOINTS)
        script.write_text(
            f"local paths = {{{paths}}}\nlocal i = 0\n"
            'request = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n'
        )
        log(f"{tag}: long run, {o.long_seconds:.0f} s of mixed load, VmRSS every 5 s")
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
            "tag": tag,
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
        estimate = estimate_seconds(o, self.plans)
        self.results["estimate_seconds"] = round(estimate)
        log(
            f"plan: {', '.join(f'{sp.dataset} {sp.n}' for sp in self.plans)}; {o.rounds} rounds x {o.duration:g} s; "
            f"estimated wall time {estimate / 60:.0f} min on an idle machine"
        )
        if o.root.exists():
            with contextlib.suppress(Exception):
                Cluster(o.root / "pg", int((o.root / "pg" / "port").read_text())).stop("immediate")
            shutil.rmtree(o.root)
        log(f"PostgreSQL cluster under {o.root}/pg; raw outputs in {o.out}")
        self.cluster = init_cluster(o.root / "pg")
        self.results["machine"] = machine_facts(self.cluster, self.agentos_python)
        self.rss.start()
        try:
            for sp in self.plans:
                self.run_size(sp)
                if not o.keep:
                    drop_database(self.cluster, f"bench_{sp.dataset}_{sp.n}")
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
        o.results_md.write_text(report.render(self.results, o.out, o.results_md.parent))
        log(f"done in {self.results['elapsed_seconds']} s (estimated {estimate:.0f} s): {o.results_md}")


def reuse_outcomes(server: Server) -> dict[str, dict[str, float]]:
    """The service's reuse counters (REUSE_METRICS) by outcome, summed over databases."""
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    got: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in REUSE_METRICS and "outcome" in sample.labels:
                slot = got.setdefault(sample.name, {})
                slot[sample.labels["outcome"]] = slot.get(sample.labels["outcome"], 0.0) + sample.value
    return got


def drop_database(cluster: Cluster, name: str) -> None:
    """Free the disk of a finished size (the 100k production database is several GB)."""
    conn = psycopg2.connect(cluster.dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    agentos_python = Path(os.environ.get("BENCH_AGENTOS_PYTHON", str(REPO / ".venv-agentos" / "bin" / "python")))
    Bench(opts, agentos_python).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
