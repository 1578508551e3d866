"""Concurrency without loss: racing creates, PATCHes, deletes against reads and renames, and a
1,000-id bulk delete that is one transaction."""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any

import psycopg2.errors
import pytest

from .harness import Reply, blocked, call, connect, count_sessions, dbname, row_locked


def parallel(requests: list[tuple[str, str, Any]], base_url: str) -> list[Reply]:
    """Send all requests at once (released together by a barrier), answers in the same order."""
    barrier = threading.Barrier(len(requests))

    def send(request: tuple[str, str, Any]) -> Reply:
        method, path, body = request
        barrier.wait(30)
        return call(base_url, method, path, json_body=body)

    with concurrent.futures.ThreadPoolExecutor(len(requests)) as pool:
        return list(pool.map(send, requests))


@pytest.mark.slow
def test_parallel_creates_of_one_id(dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]) -> None:
    """50 POST /sessions with one session_id at once: exactly one 201, 49 409s, one row."""
    service = live_service(env={"AGNO_PG_DSN": dsn})
    rounds = []
    for n in range(3):
        session_id = f"race-{n}"
        body = {"session_id": session_id, "session_name": f"race {n}"}
        replies = parallel([("POST", "/sessions", body)] * 50, service.base_url)
        statuses = sorted(r.status for r in replies)
        assert statuses == [201] + [409] * 49, statuses
        assert all(r.is_json_error() for r in replies if r.status == 409)
        assert count_sessions(dsn, "session_id = %s", (session_id,)) == 1
        rounds.append({"201": statuses.count(201), "409": statuses.count(409)})
    figures.update({"parallel_posts_per_round": 50, "rounds": rounds})


@pytest.mark.slow
def test_parallel_patches_leave_one_whole_write(
    dsn: str, live_service: Callable[..., Any], session_factory: Callable[..., str], figures: dict[str, Any]
) -> None:
    """20 PATCHes of one session at once: all 200, and the stored session is exactly one of the
    writes (its state, metadata and name all from the same writer), never a mix or broken JSON."""
    service = live_service(env={"AGNO_PG_DSN": dsn})
    session_id = session_factory(service.base_url, session_name="start", session_state={"writer": -1})
    writes = [
        {
            "session_name": f"writer-{i}",
            "session_state": {"writer": i, "items": list(range(i * 10, i * 10 + 50)), "text": f"w{i}" * 200},
            "metadata": {"writer": i},
        }
        for i in range(20)
    ]
    replies = parallel([("PATCH", f"/sessions/{session_id}", w) for w in writes], service.base_url)
    assert [r.status for r in replies] == [200] * len(writes), [r for r in replies if r.status != 200]
    for write, reply in zip(writes, replies, strict=True):
        assert reply.json()["session_state"] == write["session_state"]
    final = call(service.base_url, "GET", f"/sessions/{session_id}").json()
    writer = final["metadata"]["writer"]
    assert final["session_state"] == writes[writer]["session_state"]
    assert final["session_name"] == f"writer-{writer}"
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT session_data::text FROM ai.agno_sessions WHERE session_id = %s", (session_id,))
        row = cur.fetchone()
    assert row is not None
    stored = json.loads(row[0])["session_state"]
    assert stored["writer"] == writer, stored["writer"]
    assert stored == writes[writer]["session_state"], stored["writer"]
    figures.update({"parallel_patches": len(writes), "winner": writer})


@pytest.mark.slow
def test_delete_racing_reads_and_renames(
    dsn: str, live_service: Callable[..., Any], session_factory: Callable[..., str], figures: dict[str, Any]
) -> None:
    """DELETE racing GET, rename, PATCH and the runs endpoints: never a 5xx; every session and
    all of its runs are gone afterwards."""
    service = live_service(env={"AGNO_PG_DSN": dsn})
    ids = [
        session_factory(
            service.base_url,
            session_id=f"doomed-{n}",
            session_name=f"doomed {n}",
            runs=[{"run_id": f"doomed-{n}-run-{r}", "status": "COMPLETED", "content": "x"} for r in range(2)],
        )
        for n in range(25)
    ]
    allowed = {
        "DELETE": {204},
        "GET": {200, 404},
        "POST": {200, 404},
        "PATCH": {200, 404},
    }
    seen: dict[int, int] = {}
    for session_id in ids:
        requests = [
            ("GET", f"/sessions/{session_id}", None),
            ("POST", f"/sessions/{session_id}/rename", {"session_name": "renamed"}),
            ("DELETE", f"/sessions/{session_id}", None),
            ("PATCH", f"/sessions/{session_id}", {"metadata": {"k": 1}}),
            ("GET", f"/sessions/{session_id}/runs", None),
            ("GET", f"/sessions/{session_id}/run-previews", None),
            ("GET", f"/sessions/{session_id}/runs/{session_id}-run-0", None),
            ("GET", "/sessions?limit=5", None),
        ]
        replies = parallel(requests, service.base_url)
        for (method, path, _), reply in zip(requests, replies, strict=True):
            seen[reply.status] = seen.get(reply.status, 0) + 1
            assert reply.status in allowed[method], (method, path, reply)
            if reply.status >= 400:
                assert reply.is_json_error(), reply
        assert call(service.base_url, "GET", f"/sessions/{session_id}").status == 404
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ai.agno_runs WHERE session_id = ANY(%s)", (ids,))
        row = cur.fetchone()
    assert row is not None, "runs outlived their session"
    assert row[0] == 0, "runs outlived their session"
    assert count_sessions(dsn, "session_id = ANY(%s)", (ids,)) == 0
    figures.update({"sessions": len(ids), "requests": sum(seen.values()), "statuses": dict(sorted(seen.items()))})


@pytest.mark.slow
def test_bulk_delete_of_1000_is_one_transaction(
    pg_cluster: Any, dsn: str, live_service: Callable[..., Any], figures: dict[str, Any]
) -> None:
    """DELETE /sessions with 1,000 ids blocks as a whole on one locked row (holding every row it
    passed) and, cut off by the statement timeout, deletes nothing; unblocked, it deletes all."""
    service = live_service(env={"AGNO_PG_DSN": dsn, "AGNO_STATEMENT_TIMEOUT": "1.5", "AGNO_REQUEST_TIMEOUT": "10"})
    assert call(service.base_url, "GET", "/sessions").status == 200  # tables provisioned
    ids = [f"bulk-{n:04d}" for n in range(1000)]
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ai.agno_sessions (session_id, session_type, agent_id, session_data, created_at)"
            " SELECT id, 'agent', 'a', '{}'::jsonb, 1700000000 FROM unnest(%s::text[]) AS id",
            (ids,),
        )
        cur.execute(
            "INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_data, created_at)"
            " SELECT id || '-run', id, 'agent', jsonb_build_object('run_id', id || '-run'), 1700000000"
            " FROM unnest(%s::text[]) AS id",
            (ids,),
        )
    survivors = ["keep-a", "keep-b"]
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO ai.agno_sessions (session_id, session_type, created_at)"
            " SELECT id, 'agent', 1 FROM unnest(%s::text[]) AS id",
            (survivors,),
        )
    body = {"session_ids": ids, "session_types": ["agent"] * len(ids)}
    admin, database = pg_cluster.admin_dsn, dbname(dsn)

    with row_locked(dsn, ids[-1]):
        job, _ = blocked(service.base_url, "DELETE", "/sessions", admin, database, json_body=body)
        # the pending delete already holds the rows it passed: the first one is locked too
        with contextlib.closing(connect(dsn, autocommit=False)) as probe, probe.cursor() as cur:
            with pytest.raises(psycopg2.errors.LockNotAvailable):
                cur.execute("SELECT 1 FROM ai.agno_sessions WHERE session_id = %s FOR UPDATE NOWAIT", (ids[0],))
            probe.rollback()
        timed_out = job.join(15)
    assert timed_out.status == 504, timed_out
    assert timed_out.is_json_error(), timed_out
    left = count_sessions(dsn, "session_id = ANY(%s)", (ids,))
    assert left == 1000, f"a cut-off bulk delete deleted {1000 - left} rows"

    deleted = call(service.base_url, "DELETE", "/sessions", json_body=body)
    assert deleted.status == 204, deleted
    assert count_sessions(dsn, "session_id = ANY(%s)", (ids,)) == 0
    assert count_sessions(dsn, "session_id = ANY(%s)", (survivors,)) == 2
    with contextlib.closing(connect(dsn)) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ai.agno_runs WHERE session_id = ANY(%s)", (ids,))
        row = cur.fetchone()
    assert row is not None
    assert row[0] == 0
    figures.update(
        {
            "ids": len(ids),
            "blocked_delete_status": timed_out.status,
            "rows_left_after_cut_off_delete": left,
            "unblocked_delete_status": deleted.status,
            "unblocked_delete_seconds": round(deleted.elapsed, 3),
        }
    )
