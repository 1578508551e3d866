"""Zero-downtime database: restarts, killed connections and a primary failover under steady load.

Readers never see a restart (reads wait and retry on a fresh connection within AGNO_POOL_TIMEOUT),
no write acknowledged with 2xx is lost and none is applied twice (`MixedTraffic.check` reads every
acknowledged write back from the database), and the service follows a promoted standby by itself
through a multi-host DSN. Each test runs throwaway clusters of its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from service.dev.pg import Cluster
from tests import pgbouncer

from .harness import (
    LoadLoop,
    MixedTraffic,
    Outcome,
    Prober,
    build_standby,
    call,
    connect,
    dbname,
    in_background,
    is_in_recovery,
    scrape,
    service_backends,
    wait_until,
)

WORKERS = 4


def service_env(dsn: str, **extra: str) -> dict[str, str]:
    return {
        "AGNO_PG_DSN": dsn,
        "AGNO_POOL_MAX_SIZE": str(WORKERS),
        "AGNO_POOL_TIMEOUT": "5",
        "AGNO_REQUEST_TIMEOUT": "20",
        "AGNO_STATEMENT_TIMEOUT": "10",
        **extra,
    }


def sql(dsn: str, *statements: str) -> None:
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def assert_failures_are_json_503(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        if outcome.ok:
            continue
        assert outcome.reply is not None, f"no answer at all: {outcome}"
        assert outcome.status == 503, (outcome.request, outcome.reply)
        assert outcome.reply.is_json_error(), outcome.reply
        assert outcome.reply.header("retry-after"), outcome.reply


def first_write_ok_after(outcomes: list[Outcome], moment: float) -> float | None:
    ended = [o.ended for o in outcomes if o.started >= moment and o.ok and not o.is_read]
    return min(ended) if ended else None


@pytest.fixture
def cleanups() -> Iterator[list[Callable[[], None]]]:
    done: list[Callable[[], None]] = []
    yield done
    for cleanup in reversed(done):
        cleanup()


@pytest.fixture
def standby_of() -> Iterator[Callable[[Cluster], Cluster]]:
    """A factory `standby_of(primary) -> Cluster`: a streaming standby in a temp dir of its own
    (`pg_basebackup -R`), stopped and removed at teardown."""
    made: list[tuple[Cluster | None, Path]] = []

    def make(primary: Cluster) -> Cluster:
        root = Path(tempfile.mkdtemp(prefix="agno-session-standby-"))
        os.chmod(root, 0o711)  # noqa: S103 -- the postgres OS user must reach the cluster inside
        made.append((None, root))
        standby = build_standby(primary, root / "cluster")
        made[-1] = (standby, root)
        return standby

    yield make
    for cluster, root in made:
        try:
            if cluster is not None:
                cluster.stop("immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)


def kill_service_backends(admin_dsn: str, database: str) -> int:
    pids = [b["pid"] for b in service_backends(admin_dsn, database)]
    with contextlib.closing(connect(admin_dsn)) as conn, conn.cursor() as cur:
        for pid in pids:
            cur.execute("SELECT pg_terminate_backend(%s)", (pid,))
    return len(pids)


FAULTS = ["fast_restart", "immediate_stop", "connection_kill", "pgbouncer_restart"]


@pytest.mark.slow
@pytest.mark.parametrize("fault", FAULTS)
def test_fault_invisible_to_readers_and_no_write_lost(
    fault: str,
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    cleanups: list[Callable[[], None]],
    figures: dict[str, Any],
) -> None:
    """Under steady reads and writes from 4 workers: `pg_ctl restart -m fast`, an immediate stop
    (crash) and start, every service backend killed three times, or the PgBouncer in front
    (transaction pooling, docs/rollout.md §6) stopped and started. 0 failed reads; writes fail
    only as 503 JSON; every acknowledged write is in the database, none twice; /readyz 200 after."""
    cluster = throwaway_cluster()
    dsn = cluster.create_database("agno")
    # PostgreSQL's default (the test clusters run with it off for speed): a commit is on disk when
    # acknowledged, so a crash (immediate stop) loses none
    sql(cluster.dsn(), f'ALTER DATABASE "{dbname(dsn)}" SET synchronous_commit = on')
    service_dsn = dsn
    if fault == "pgbouncer_restart":
        if not pgbouncer.available():
            pytest.skip("pgbouncer is not installed (scripts/system-deps.sh test installs it)")
        pgbouncer.role_settings(cluster.dsn())
        bouncer = pgbouncer.start_pgbouncer(cluster.port)
        cleanups.append(bouncer.remove)
        service_dsn = bouncer.dsn(dbname(dsn))
    service = live_service(env=service_env(service_dsn))
    traffic = MixedTraffic.seed(service.base_url, WORKERS)

    with Prober(service.base_url, ["/readyz"]) as probe, LoadLoop(service.base_url, traffic.plan, WORKERS) as load:
        began = time.monotonic()
        wait_until("every worker has 10 answers", lambda: min(load.successes_after(began).values()) >= 10, 60)
        fault_at = time.monotonic()
        if fault == "fast_restart":
            cluster.pg_ctl("-m", "fast", "-w", "-t", "60", "-l", str(cluster.log), "restart")
        elif fault == "immediate_stop":
            cluster.stop("immediate")
            cluster.start()
        elif fault == "pgbouncer_restart":
            bouncer.stop()  # SIGTERM: PgBouncer's immediate shutdown, every connection dropped
            bouncer.start()
        else:
            for _ in range(3):
                wait_until(
                    "the service has backends to kill",
                    lambda: kill_service_backends(cluster.dsn(), dbname(dsn)) > 0,
                    30,
                )
                time.sleep(0.2)  # let requests reconnect between the kills
        up_at = time.monotonic()
        wait_until(
            "every worker has 20 answers after the fault",
            lambda: min(load.successes_after(up_at).values()) >= 20,
            90,
        )
        write_ok_at = wait_until(
            "a write sent after the fault succeeded", lambda: first_write_ok_after(load.snapshot(), up_at), 30
        )
        load.stop()
        outcomes = load.snapshot()
        ready_at = wait_until("/readyz 200 after the fault", lambda: probe.first("/readyz", 200, up_at), 30)

    counts = traffic.check(dsn, outcomes)
    retried = scrape(service.base_url, "db_retries_total", {"db_id": "default", "kind": "read"})
    window = [o for o in outcomes if o.ended >= fault_at and o.started <= up_at]
    # recovered: every request caught by the fault answered, and a write sent after it succeeded
    recovered_at = max([write_ok_at, *(o.ended for o in window)])
    figures.update(
        {
            "fault": fault,
            "workers": WORKERS,
            **counts,
            "requests_overlapping_fault": len(window),
            "fault_seconds": round(up_at - fault_at, 3),
            "recovery_s": round(recovered_at - fault_at, 3),
            "readyz_200_after_s": round(ready_at - up_at, 3),
            "slowest_read_s": round(max(o.ended - o.started for o in outcomes if o.is_read), 3),
            "read_retries": retried,
        }
    )
    assert counts["failed_reads"] == 0, [o.reply for o in outcomes if o.is_read and not o.ok][:5]
    assert_failures_are_json_503(outcomes)


def wait_for_commit_trap(dsn: str, admin: str, database: str) -> None:
    """Return once commits wait for the (missing) synchronous standby: the setting reaches the
    backends and the checkpointer asynchronously after pg_reload_conf(). A probe commit of the
    test's own is seen waiting in SyncRep, then cancelled (it stays committed locally)."""
    deadline = time.monotonic() + 30
    while True:
        probe = psycopg2.connect(dsn, application_name="commit-trap-probe")
        probe.autocommit = True
        done = threading.Event()

        def commit(conn: Any = probe, finished: threading.Event = done) -> None:
            try:
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO public.commit_trap_probe VALUES (1)")
            finally:
                finished.set()

        threading.Thread(target=commit, daemon=True).start()
        try:
            while not done.is_set():
                with contextlib.closing(connect(admin)) as conn, conn.cursor() as cur:
                    cur.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = %s"
                        " AND wait_event = 'SyncRep'",
                        (database, "commit-trap-probe"),
                    )
                    waiting = cur.fetchone()
                    if waiting is not None:
                        cur.execute("SELECT pg_cancel_backend(%s)", waiting)
                        assert done.wait(15), "the probe commit did not return after its cancel"
                        return
                done.wait(0.05)
        finally:
            done.wait(15)
            probe.close()
        assert time.monotonic() < deadline, "commits never waited for the synchronous standby"


@pytest.mark.slow
def test_unanswered_commit_is_read_back(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    figures: dict[str, Any],
) -> None:
    """COMMIT sent, connection gone before the answer, the transaction committed: each kind of
    write is read back and answered 2xx, never repeated (a repeated create would answer 409 or
    store a second session). The trap: synchronous replication to a standby that does not exist
    makes COMMIT wait after the local commit; killing that backend leaves it committed."""
    cluster = throwaway_cluster()
    dsn = cluster.create_database("agno")
    admin = cluster.dsn()
    database = dbname(dsn)
    sql(admin, f'ALTER DATABASE "{database}" SET synchronous_commit = on')
    sql(dsn, "CREATE TABLE public.commit_trap_probe (n int)")
    service = live_service(env=service_env(dsn))
    base = service.base_url

    def created(**fields: Any) -> str:
        reply = call(base, "POST", "/sessions", json_body=fields)
        assert reply.status == 201, reply
        return str(reply.json()["session_id"])

    target, victim, bulk = created(session_name="t"), created(session_name="v"), created(session_name="b")
    writes = [
        ("POST", "/sessions", {"session_name": "trapped", "user_id": "trapped-create", "runs": [{"run_id": "r-1"}]}),
        ("PATCH", f"/sessions/{target}", {"metadata": {"trapped": True}}),
        ("POST", f"/sessions/{target}/rename", {"session_name": "trapped-rename"}),
        ("DELETE", f"/sessions/{victim}", None),
        ("DELETE", "/sessions", {"session_ids": [bulk], "session_types": ["agent"]}),
    ]
    statuses = []
    for method, path, body in writes:
        sql(admin, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'", "SELECT pg_reload_conf()")
        try:
            wait_for_commit_trap(dsn, admin, database)
            job = in_background(base, method, path, json_body=body)
            waiting = wait_until(
                f"{method} {path} waits in COMMIT for the standby",
                lambda: [b for b in service_backends(admin, database) if b["wait_event"] == "SyncRep"],
                15,
            )
            sql(admin, f"SELECT pg_terminate_backend({int(waiting[0]['pid'])})")
        finally:
            sql(admin, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()")
        reply = job.join(30)
        statuses.append(reply.status)
        assert 200 <= reply.status < 300, (method, path, reply)

    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ai.agno_sessions WHERE user_id = 'trapped-create'")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT count(*) FROM ai.agno_runs WHERE run_id = 'r-1'")
        assert cur.fetchone() == (1,)
        cur.execute(
            "SELECT metadata, session_data ->> 'session_name' FROM ai.agno_sessions WHERE session_id = %s", (target,)
        )
        assert cur.fetchone() == ({"trapped": True}, "trapped-rename")
        cur.execute("SELECT count(*) FROM ai.agno_sessions WHERE session_id = ANY(%s)", ([victim, bulk],))
        assert cur.fetchone() == (0,)
    assert service.log_text().count("reading the write back") >= len(writes)
    readbacks = scrape(base, "db_retries_total", {"db_id": "default", "kind": "readback"})
    assert readbacks is not None
    assert readbacks >= len(writes), readbacks
    figures.update({"writes_with_unanswered_commit": len(writes), "statuses": statuses, "lost": 0, "doubled": 0})


@pytest.mark.slow
def test_failover_to_promoted_standby(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    standby_of: Callable[[Cluster], Cluster],
    figures: dict[str, Any],
) -> None:
    """A multi-host DSN with target_session_attrs=read-write over a primary and its streaming
    standby (synchronous replication: with asynchronous replication PostgreSQL itself may lose the
    last acknowledged commits). The primary is killed (-m immediate) under load, then the standby
    promoted: the service finds it by itself, writes succeed again, failed reads <= 1 %, no
    acknowledged write lost or doubled, /readyz 503 without a primary and 200 after."""
    primary = throwaway_cluster()
    primary_dsn = primary.create_database("agno")
    database = dbname(primary_dsn)
    sql(primary.dsn(), f'ALTER DATABASE "{database}" SET synchronous_commit = on')
    standby = standby_of(primary)
    sql(primary.dsn(), "ALTER SYSTEM SET synchronous_standby_names = '*'", "SELECT pg_reload_conf()")
    wait_until(
        "the standby streams synchronously",
        lambda: _sync_state(primary.dsn()) == "sync",
        30,
    )
    dsn = (
        f"postgresql://postgres@127.0.0.1:{primary.port},127.0.0.1:{standby.port}/{database}"
        "?target_session_attrs=read-write"
    )
    service = live_service(env=service_env(dsn))
    traffic = MixedTraffic.seed(service.base_url, WORKERS)

    with Prober(service.base_url, ["/readyz"]) as probe, LoadLoop(service.base_url, traffic.plan, WORKERS) as load:
        began = time.monotonic()
        wait_until("every worker has 10 answers", lambda: min(load.successes_after(began).values()) >= 10, 60)
        assert probe.first("/readyz", 200, began) is not None
        kill_at = time.monotonic()
        primary.stop("immediate")
        wait_until("/readyz turns 503 without a primary", lambda: probe.first("/readyz", 503, kill_at), 15)
        standby.pg_ctl("-w", "-t", "60", "promote")
        promoted_at = time.monotonic()
        assert is_in_recovery(standby.dsn()) is False
        writes_at = wait_until(
            "a write succeeds on the promoted standby", lambda: first_write_ok_after(load.snapshot(), promoted_at), 15
        )
        ready_at = wait_until("/readyz 200 again", lambda: probe.first("/readyz", 200, promoted_at), 15)
        wait_until(
            "every worker has 20 answers after the promotion",
            lambda: min(load.successes_after(promoted_at).values()) >= 20,
            90,
        )
        load.stop()
        outcomes = load.snapshot()

    counts = traffic.check(standby.dsn(database), outcomes)
    window = [o for o in outcomes if o.ended >= kill_at and o.started <= writes_at]
    window_reads = [o for o in window if o.is_read]
    failed_window_reads = [o for o in window_reads if not o.ok]
    figures.update(
        {
            "fault": "failover",
            "workers": WORKERS,
            **counts,
            "requests_in_window": len(window),
            "reads_in_window": len(window_reads),
            "failed_reads_in_window": len(failed_window_reads),
            "kill_to_promoted_s": round(promoted_at - kill_at, 3),
            "writes_back_after_promotion_s": round(writes_at - promoted_at, 3),
            "recovery_s": round(writes_at - kill_at, 3),
            "readyz_200_after_promotion_s": round(ready_at - promoted_at, 3),
        }
    )
    assert len(failed_window_reads) <= 0.01 * max(len(window_reads), 1), failed_window_reads[:5]
    assert_failures_are_json_503(outcomes)


def idle_connections(base_url: str) -> int:
    value = scrape(base_url, "db_pool_connections", {"db_id": "default", "state": "idle"})
    assert value is not None, "no db_pool_connections{state=idle} sample in /metrics"
    return int(value)


def _sync_state(admin_dsn: str) -> str | None:
    with contextlib.closing(connect(admin_dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT sync_state FROM pg_stat_replication")
        row = cur.fetchone()
        return None if row is None else str(row[0])


@pytest.mark.slow
def test_write_on_read_only_server_answers_503_and_replaces_the_connection(
    throwaway_cluster: Callable[..., Any],
    live_service: Callable[..., Any],
    standby_of: Callable[[Cluster], Cluster],
    figures: dict[str, Any],
) -> None:
    """A DSN that lands on a hot standby (no target_session_attrs): reads answer 200, a write
    answers 503 JSON with Retry-After (never 500), and the connection it used is closed, not
    given back to the pool."""
    primary = throwaway_cluster()
    primary_dsn = primary.create_database("agno")
    database = dbname(primary_dsn)
    service_on_primary = live_service(env=service_env(primary_dsn))
    assert call(service_on_primary.base_url, "POST", "/sessions", json_body={"session_name": "x"}).status == 201
    service_on_primary.stop()
    standby = standby_of(primary)
    service = live_service(env=service_env(standby.dsn(database), AGNO_POOL_TIMEOUT="1"))

    assert call(service.base_url, "GET", "/sessions").status == 200
    before = {b["pid"] for b in service_backends(standby.dsn(), database)}
    assert idle_connections(service.base_url) == 1, "the read left no pooled connection"
    write = call(service.base_url, "POST", "/sessions", json_body={"session_name": "y"})
    assert write.status == 503, write
    assert write.is_json_error(), write
    assert write.header("retry-after"), write
    patch = call(service.base_url, "PATCH", "/sessions/none", json_body={"metadata": {"a": 1}})
    assert patch.status in (404, 503), patch
    assert patch.is_json_error(), patch
    assert idle_connections(service.base_url) == 0, "a connection that met the read-only server was pooled"
    wait_until(
        "the pooled connection that met the read-only server is closed",
        lambda: before - {b["pid"] for b in service_backends(standby.dsn(), database)},
        15,
    )
    listing = call(service.base_url, "GET", "/sessions")
    assert listing.status == 200, listing
    assert listing.json()["meta"]["total_count"] == 1, listing

    # the standby first in a multi-host DSN: libpq skips it for target_session_attrs=read-write
    # (a second socket within one connect, which service/connect.py follows)
    both = (
        f"postgresql://postgres@127.0.0.1:{standby.port},127.0.0.1:{primary.port}/{database}"
        "?target_session_attrs=read-write"
    )
    follows = live_service(env=service_env(both, AGNO_POOL_TIMEOUT="2"))
    created = call(follows.base_url, "POST", "/sessions", json_body={"session_name": "on the primary"})
    assert created.status == 201, created
    assert call(follows.base_url, "GET", "/readyz").status == 200
    figures.update(
        {
            "write_on_read_only_server": write.status,
            "read_on_read_only_server": listing.status,
            "write_with_standby_first_in_dsn": created.status,
        }
    )


@pytest.mark.slow
def test_multi_host_dsn_with_its_first_host_down(
    throwaway_cluster: Callable[..., Any], live_service: Callable[..., Any]
) -> None:
    """The first host of a multi-host DSN refuses connections: every request and /readyz use the
    second at once (aiopg alone would watch the first host's closed socket until the pool wait
    expired: 503 on every request)."""
    cluster = throwaway_cluster()
    database = dbname(cluster.create_database("agno"))
    dead = throwaway_cluster(start=False)
    dsn = f"postgresql://postgres@127.0.0.1:{dead.port},127.0.0.1:{cluster.port}/{database}"
    service = live_service(env=service_env(dsn, AGNO_POOL_TIMEOUT="2"))
    created = call(service.base_url, "POST", "/sessions", json_body={"session_name": "second host"})
    assert created.status == 201, created
    replies = [call(service.base_url, "GET", f"/sessions/{created.json()['session_id']}") for _ in range(10)]
    assert [r.status for r in replies] == [200] * 10, replies
    assert call(service.base_url, "GET", "/readyz").status == 200
