"""Reused GET answers and conditional GETs (service/answers.py, docs/reliability.md "Reused answers"):
an answer is sent again only while nothing has committed, never to another caller or user scope, and
only when it is the stored rows' alone; each switch turns its part off."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg2
import pytest

from tests.api.conftest import ApiClient, Reply, load_seed, running_api, sql
from tests.api.test_auth_tokens import bearer, jwt_env, new_key, token
from tests.reliability.harness import metric_value


def session(session_id: str, user_id: str, name: str, created_at: int = 100) -> dict[str, Any]:
    run = {
        "run_id": f"{session_id}-r0",
        "agent_id": "a1",
        "session_id": session_id,
        "user_id": user_id,
        "status": "COMPLETED",
        "created_at": created_at,
        "input": {"input_content": f"question of {session_id}"},
        "content": f"answer for {session_id}",
        "messages": [
            {"id": f"{session_id}-m0", "role": "user", "content": "question", "created_at": created_at},
            {"id": f"{session_id}-m1", "role": "assistant", "content": "answer", "created_at": created_at + 1},
        ],
    }
    row = {
        "session_id": session_id,
        "session_type": "agent",
        "agent_id": "a1",
        "user_id": user_id,
        "session_data": {"session_name": name, "session_state": {"n": 1}},
        "created_at": created_at,
        "updated_at": created_at + 5,
    }
    return {"row": row, "runs": [run]}


async def outcomes(api: ApiClient) -> dict[str, float]:
    text = (await api.get("/metrics")).text
    return {
        outcome: metric_value(text, "answers_total", {"db_id": "default", "outcome": outcome}) or 0.0
        for outcome in ("rendered", "reused", "waited", "not_modified")
    }


async def until_reused(api: ApiClient, fetch: Callable[[], Awaitable[Reply]]) -> Reply:
    """The answer of a request served from an earlier render (background work such as autovacuum may
    commit in between: ask again)."""
    for _ in range(10):
        before = await outcomes(api)
        reply = await fetch()
        if (await outcomes(api))["reused"] > before["reused"]:
            return reply
    pytest.fail("the answer was never reused although nothing was written")


@pytest.mark.gen_test(timeout=90)
async def test_a_commit_in_between_renders_again(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first"), "s2": session("s2", "u1", "second", 200)})
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        for path in ("/sessions", "/sessions/s1", "/sessions/s1/runs", "/sessions/s1/run-previews"):
            first = await api.get(path)
            reused = await until_reused(api, lambda path=path: api.get(path))  # type: ignore[misc]
            assert (reused.status, reused.text) == (first.status, first.text)

        # another client commits: the next answer is rendered from the new rows
        sql(fresh_dsn, 'UPDATE ai.agno_sessions SET session_data = session_data || \'{"session_name": "renamed"}\'')
        assert [s["session_name"] for s in (await api.get("/sessions")).json["data"]] == ["renamed", "renamed"]
        assert (await api.get("/sessions/s1")).json["session_name"] == "renamed"
        # a write through the API
        assert (await api.call("POST", "/sessions/s1/rename", body={"session_name": "again"})).status == 200
        assert (await api.get("/sessions/s1")).json["session_name"] == "again"
        assert (await api.call("DELETE", "/sessions/s2")).status == 204
        listed = await api.get("/sessions")
        assert [s["session_id"] for s in listed.json["data"]] == ["s1"]
        assert listed.json["meta"]["total_count"] == 1
        assert (await api.get("/sessions/s2/runs")).status == 404
        # an open transaction is invisible until it commits, then rendered
        writer = psycopg2.connect(fresh_dsn)
        with writer.cursor() as cur:
            cur.execute("DELETE FROM ai.agno_sessions")
            assert (await until_reused(api, lambda: api.get("/sessions"))).json["meta"]["total_count"] == 1
            writer.commit()
        writer.close()
        assert (await api.get("/sessions")).json == {
            "data": [],
            "meta": {"page": 1, "limit": 20, "total_pages": 0, "total_count": 0, "search_time_ms": 0.0},
        }


@pytest.mark.gen_test(timeout=90)
async def test_two_users_never_see_each_others_reused_answer(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {"a1": session("a1", "alice", "alice's"), "b1": session("b1", "bob", "bob's", 200)})
    key = new_key()
    env = jwt_env(fresh_dsn, key, AGNO_AUTHORIZATION="true", AGNO_USER_ISOLATION="true")
    alice, bob = bearer(token(key, sub="alice")), bearer(token(key, sub="bob"))
    admin = bearer(token(key, sub="root", scopes=["agent_os:admin"]))
    async with running_api(env) as api:
        for path in ("/sessions", "/sessions?user_id=alice", "/sessions/a1", "/sessions/a1/runs"):
            mine = await until_reused(api, lambda path=path: api.call("GET", path, headers=alice))  # type: ignore[misc]
            assert mine.status == 200
            theirs = await api.call("GET", path, headers=bob)
            assert "alice" not in theirs.text, path
            if path.startswith("/sessions/a1"):
                assert theirs.status == 404
            else:
                assert [s["session_id"] for s in theirs.json["data"]] == ["b1"]
        everyone = await api.call("GET", "/sessions", headers=admin)
        assert sorted(s["session_id"] for s in everyone.json["data"]) == ["a1", "b1"]
        # and the other way round: bob's reused list is not alice's
        await until_reused(api, lambda: api.call("GET", "/sessions", headers=bob))
        assert [s["session_id"] for s in (await api.call("GET", "/sessions", headers=alice)).json["data"]] == ["a1"]
        # an ETag is the caller's too: alice's tag does not earn bob a 304
        tag = (await api.call("GET", "/sessions", headers=alice)).headers["ETag"]
        other = await api.call("GET", "/sessions", headers={**bob, "If-None-Match": tag})
        assert other.status == 200
        assert [s["session_id"] for s in other.json["data"]] == ["b1"]


@pytest.mark.parametrize("cache_bytes", ["16777216", "0"], ids=["reuse on", "reuse off"])
@pytest.mark.gen_test(timeout=90)
async def test_if_none_match_gets_304_until_a_commit(fresh_dsn: str, cache_bytes: str) -> None:
    # reuse off: no snapshot is read before the render; the tag comes from the render's own statement
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first")})
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "AGNO_ANSWER_CACHE_BYTES": cache_bytes}) as api:
        for _ in range(10):
            tag = (await api.get("/sessions/s1")).headers["ETag"]
            reply = await api.call("GET", "/sessions/s1", headers={"If-None-Match": tag})
            if reply.status == 304:
                break
        else:
            pytest.fail("a matching If-None-Match never got a 304")
        assert reply.text == ""
        assert reply.headers["ETag"] == tag
        assert (await api.call("GET", "/sessions/s1", headers={"If-None-Match": 'W/"other"'})).status == 200
        sql(fresh_dsn, "UPDATE ai.agno_sessions SET metadata = '{\"k\": 1}'")
        changed = await api.call("GET", "/sessions/s1", headers={"If-None-Match": tag})
        assert changed.status == 200
        assert changed.json["metadata"] == {"k": 1}
        assert changed.headers["ETag"] != tag
        assert (await api.get("/sessions/missing")).headers.get("ETag") is None  # errors carry none


@pytest.mark.gen_test(timeout=120)
async def test_reuse_on_or_off_gives_every_reading_get_the_same_answer_and_etag(fresh_dsn: str) -> None:
    """With reuse off the tag comes from the render's own statement instead of a snapshot read first;
    a caller moving between replicas of either setting keeps its 304s."""
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first")})
    paths = [
        "/sessions",
        "/sessions?session_name=fir",
        "/sessions/s1",
        "/sessions/s1/runs",
        "/sessions/s1/run-previews",
        "/sessions/s1/runs/s1-r0",
    ]
    on_env = {"AGNO_PG_DSN": fresh_dsn}
    async with running_api(on_env) as on, running_api({**on_env, "AGNO_ANSWER_CACHE_BYTES": "0"}) as off:
        for path in paths:
            for _ in range(10):  # background work (autovacuum) may commit between the two reads
                reused, rendered = await on.get(path), await off.get(path)
                assert (reused.status, rendered.status) == (200, 200), path
                assert reused.json == rendered.json, path
                if reused.headers["ETag"] == rendered.headers["ETag"]:
                    break
            else:
                pytest.fail(f"{path}: the ETags never matched")


@pytest.mark.parametrize("filled", ["message created_at", "media id"])
@pytest.mark.gen_test(timeout=90)
async def test_a_detail_filled_from_the_clock_is_never_reused(fresh_dsn: str, filled: str) -> None:
    item = session("s1", "u1", "first")
    if filled == "message created_at":
        del item["runs"][0]["messages"][1]["created_at"]  # AgentOS answers the current time for it
    else:  # AgentOS gives a stored image without an id a fresh uuid on every read
        item["runs"][0]["messages"][0]["images"] = [{"url": "https://example.com/a.png"}]
    load_seed(fresh_dsn, {"s1": item})
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        before = await outcomes(api)
        for _ in range(3):
            reply = await api.get("/sessions/s1")
            assert reply.status == 200
            assert "ETag" not in reply.headers
        after = await outcomes(api)
        assert after["reused"] == before["reused"]
        # the runs of the same session do not depend on the clock: reused
        await until_reused(api, lambda: api.get("/sessions/s1/runs"))


@pytest.mark.gen_test(timeout=90)
async def test_switches_turn_reuse_and_etags_off(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first")})
    env = {"AGNO_PG_DSN": fresh_dsn, "AGNO_ANSWER_CACHE_BYTES": "0"}
    async with running_api(env) as api:
        before = await outcomes(api)
        for _ in range(3):
            assert (await api.get("/sessions")).status == 200
        after = await outcomes(api)
        assert (after["reused"], after["rendered"]) == (before["reused"], before["rendered"] + 3)
        assert "ETag" in (await api.get("/sessions")).headers  # conditional GETs stay on by themselves
    async with running_api({**env, "AGNO_CONDITIONAL_GETS": "false"}) as api:
        before = await outcomes(api)
        plain = await api.get("/sessions")
        assert "ETag" not in plain.headers
        assert (await api.call("GET", "/sessions", headers={"If-None-Match": "*"})).status == 200
        assert await outcomes(api) == before


async def eventually(what: str, predicate: Callable[[], Awaitable[bool]]) -> None:
    for _ in range(600):
        if await predicate():
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"never: {what}")


async def waited_since(api: ApiClient, before: dict[str, float], count: int) -> bool:
    return (await outcomes(api))["waited"] - before["waited"] == count


async def eight_during_one_render(api: ApiClient, dsn: str, path: str, **query: str) -> list[Reply]:
    """Eight GETs of `path` sent while its render is blocked on a lock (taken without a transaction id:
    the snapshot stays the same), released once the other seven wait for that render."""
    before = await outcomes(api)
    locker = psycopg2.connect(dsn)
    with locker.cursor() as cur:
        cur.execute("LOCK TABLE ai.agno_sessions IN ACCESS EXCLUSIVE MODE")
        replies = asyncio.gather(*(api.get(path, **query) for _ in range(8)))
        await eventually("seven requests wait for the one render under way", lambda: waited_since(api, before, 7))
        locker.rollback()
    locker.close()
    return list(await replies)


@pytest.mark.gen_test(timeout=90)
async def test_requests_arriving_during_a_render_wait_for_it(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {f"s{n}": session(f"s{n}", "u1", f"name {n}", 100 + n) for n in range(30)})
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        first = await api.get("/sessions", limit="30")
        sql(fresh_dsn, "CREATE TABLE ticks (n int)")
        sql(fresh_dsn, "INSERT INTO ticks VALUES (1)")  # a commit: the next request renders again
        before = await outcomes(api)
        replies = await eight_during_one_render(api, fresh_dsn, "/sessions", limit="30")
        assert [(r.status, r.json["data"]) for r in replies] == [(200, first.json["data"])] * 8
        after = await outcomes(api)
        assert (after["rendered"] - before["rendered"], after["reused"] - before["reused"]) == (1, 7)


@pytest.mark.gen_test(timeout=90)
async def test_a_failed_render_leaves_each_waiter_to_render_for_itself(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first")})

    async def session_reads() -> float:
        text = (await api.get("/metrics")).text
        labels = {"db_id": "default", "query": "get_session"}
        return metric_value(text, "db_query_duration_seconds_count", labels) or 0.0

    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        assert (await api.get("/sessions")).status == 200  # the tables are inspected: no lock needed now
        before, reads_before = await outcomes(api), await session_reads()
        replies = await eight_during_one_render(api, fresh_dsn, "/sessions/none/runs")
        assert [r.status for r in replies] == [404] * 8
        # the failed render (a 404) was handed to no waiter: each read the session for itself
        assert await session_reads() - reads_before == 8
        assert (await outcomes(api))["reused"] == before["reused"]


@pytest.mark.gen_test(timeout=90)
async def test_waiters_go_on_when_the_rendering_caller_hangs_up(fresh_dsn: str) -> None:
    load_seed(fresh_dsn, {"s1": session("s1", "u1", "first")})

    async def lock_waiters_is(count: int) -> bool:
        found = sql(fresh_dsn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
        return int(found[0][0]) == count

    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        assert (await api.get("/sessions")).status == 200  # the tables are inspected: no lock needed now
        sql(fresh_dsn, "CREATE TABLE ticks (n int)")
        sql(fresh_dsn, "INSERT INTO ticks VALUES (1)")  # a commit: the next request renders again
        before = await outcomes(api)
        locker = psycopg2.connect(fresh_dsn)
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE ai.agno_sessions IN ACCESS EXCLUSIVE MODE")
            host, port = api.base_url.rsplit("/", 1)[1].split(":")
            _, renderer = await asyncio.open_connection(host, int(port))
            renderer.write(b"GET /sessions HTTP/1.1\r\nHost: test\r\n\r\n")
            await eventually("the render waits for the lock", lambda: lock_waiters_is(1))
            replies = asyncio.gather(*(api.get("/sessions") for _ in range(2)))
            await eventually("two requests wait for the render", lambda: waited_since(api, before, 2))
            renderer.close()  # the rendering caller hangs up: its query is cancelled
            await eventually("the waiters render for themselves", lambda: lock_waiters_is(2))
            locker.rollback()
        locker.close()
        assert [r.status for r in await replies] == [200, 200]
