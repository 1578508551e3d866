"""db_id/table routing, several databases, the legacy 2.x layout, AGNO_AUTO_PROVISION=false,
custom schema/table names, unknown routes and methods, request ids and NUL bytes."""

from __future__ import annotations

import json
from typing import Any

import psycopg2
import pytest

from tests.api.conftest import SEED, insert_session, load_seed, provision, running_api, sql


@pytest.fixture
def two_databases(pg_cluster: Any) -> tuple[str, str]:
    first, second = pg_cluster.create_database("a"), pg_cluster.create_database("b")
    provision(first)
    provision(second)
    load_seed(first, {"agent-sess-00": SEED["agent-sess-00"]})
    load_seed(second, {"team-sess-00": SEED["team-sess-00"]})
    return first, second


@pytest.mark.gen_test(timeout=60)
async def test_db_id_rules(two_databases: tuple[str, str]) -> None:
    first, second = two_databases
    dsn_map = json.dumps({"db-a": first, "db-b": second})
    async with running_api({"AGNO_SESSION_DSN_MAP": dsn_map}) as api:
        default = await api.get("/sessions")  # unset AGNO_DEFAULT_DB_ID: the first key of the map
        assert [s["session_id"] for s in default.json["data"]] == ["agent-sess-00"]
        b = await api.get("/sessions", db_id="db-b")
        assert [s["session_id"] for s in b.json["data"]] == ["team-sess-00"]
        assert (await api.get("/sessions/agent-sess-00", db_id="db-b")).status == 404
        unknown = await api.get("/sessions", db_id="nope")
        assert unknown.status == 404
        assert unknown.json == {"detail": "No database found with id 'nope'"}
        no_db = await api.get("/sessions", table="agno_sessions")
        assert no_db.status == 400
        assert no_db.json == {"detail": "The db_id query parameter is required when passing a table"}
        with_table = await api.get("/sessions", db_id="db-b", table="agno_sessions")
        assert with_table.status == 200
        assert with_table.json["meta"]["total_count"] == 1
        runs_table = await api.get("/sessions", db_id="db-a", table="agno_runs")
        assert runs_table.json == {"detail": "No database with id 'db-a' has table 'agno_runs'"}
        absent = await api.get("/sessions", db_id="db-a", table="agno_memories")  # agno's name, table not created
        assert absent.status == 404
        injection = await api.get("/sessions", db_id="db-a", table="agno_sessions; DROP TABLE x")
        assert injection.status == 404
        create = await api.call("POST", "/sessions", query={"db_id": "db-b"}, body={"session_id": "in-b"})
        assert create.status == 201
    assert sql(second, "SELECT count(*) FROM ai.agno_sessions WHERE session_id = 'in-b'") == [(1,)]
    async with running_api({"AGNO_SESSION_DSN_MAP": dsn_map, "AGNO_DEFAULT_DB_ID": ""}) as api:
        required = await api.get("/sessions")
        assert required.status == 400
        assert required.json == {"detail": "The db_id query parameter is required when using multiple databases"}
        assert (await api.call("DELETE", "/sessions/x")).status == 400
    async with running_api({"AGNO_SESSION_DSN_MAP": dsn_map, "AGNO_DEFAULT_DB_ID": "db-b"}) as api:
        assert {s["session_id"] for s in (await api.get("/sessions")).json["data"]} == {"team-sess-00", "in-b"}


@pytest.mark.gen_test(timeout=60)
async def test_single_dsn_gets_id_default(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        assert (await api.get("/sessions", db_id="default")).status == 200
        assert (await api.get("/sessions", db_id="other")).status == 404
    async with running_api({"DATABASE_URL": fresh_dsn, "AGNO_DEFAULT_DB_ID": "main"}) as api:
        assert (await api.get("/sessions", db_id="main")).status == 200


@pytest.fixture
def legacy_dsn(pg_cluster: Any) -> str:
    """A 2.x-layout database: runs kept in a `runs` JSONB column of the sessions table, some of them
    also (updated) in agno_runs, some only in agno_runs."""
    dsn: str = pg_cluster.create_database("legacy")
    provision(dsn)
    sql(dsn, "ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb")
    source = SEED["agent-sess-00"]
    runs = source["runs"]
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        insert_session(cur, source["row"], [])
        updated = {**runs[1], "content": "updated in agno_runs"}
        table_only = {**runs[0], "run_id": "table-only-run"}
        for index, run in enumerate([updated, table_only]):
            cur.execute(
                "INSERT INTO ai.agno_runs (run_id, session_id, run_type, run_index, run_data, created_at)"
                " VALUES (%s, 'agent-sess-00', 'agent', %s, %s, %s)",
                (run["run_id"], index, json.dumps(run), run["created_at"]),
            )
        legacy = [runs[0], runs[1], runs[2], "not-a-dict", {"no": "run_id"}]
        cur.execute("UPDATE ai.agno_sessions SET runs = %s WHERE session_id = 'agent-sess-00'", (json.dumps(legacy),))
        # a session whose legacy column is a JSON *string* holding the list
        named = {**source["row"], "session_id": "legacy-string", "session_data": {"session_state": {}}}
        insert_session(cur, named, [])
        cur.execute(
            "UPDATE ai.agno_sessions SET runs = to_jsonb(%s::text) WHERE session_id = 'legacy-string'",
            (json.dumps(runs[:1]),),
        )
    conn.close()
    return dsn


@pytest.mark.gen_test(timeout=60)
async def test_legacy_runs_column_is_merged(legacy_dsn: str) -> None:
    runs = SEED["agent-sess-00"]["runs"]
    async with running_api({"AGNO_PG_DSN": legacy_dsn}) as api:
        reply = await api.get("/sessions/agent-sess-00/runs")
        assert [r["run_id"] for r in reply.json] == [
            runs[0]["run_id"],
            runs[1]["run_id"],
            runs[2]["run_id"],
            "table-only-run",
        ]
        assert reply.json[1]["content"] == "updated in agno_runs"
        assert reply.json[0]["content"] == runs[0]["content"]
        listed = await api.get("/sessions", session_name="")
        names = {s["session_id"]: s["session_name"] for s in listed.json["data"]}
        assert names["legacy-string"] == "Question 0 in agent-sess-00"
        single = await api.get(f"/sessions/legacy-string/runs/{runs[0]['run_id']}")
        assert single.status == 200


@pytest.mark.gen_test(timeout=60)
async def test_auto_provision_false_reads_missing_tables_as_empty(dsn: str) -> None:
    env = {"AGNO_PG_DSN": dsn, "AGNO_AUTO_PROVISION": "false"}
    async with running_api(env) as api:
        listed = await api.get("/sessions")
        assert listed.status == 200
        assert listed.json["meta"]["total_count"] == 0
        assert (await api.get("/sessions/x")).status == 404
        create = await api.call("POST", "/sessions", body={})
        assert create.status == 503
    assert sql(dsn, "SELECT to_regclass('ai.agno_sessions') IS NULL") == [(True,)]


@pytest.mark.gen_test(timeout=60)
async def test_provisioning_matches_agnos_tables(dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": dsn}) as api:
        assert (await api.get("/sessions")).status == 200
    indexes = {r[0] for r in sql(dsn, "SELECT indexname FROM pg_indexes WHERE schemaname = 'ai'")}
    assert {
        "agno_sessions_pkey",
        "agno_runs_pkey",
        "idx_agno_sessions_created_at",
        "idx_agno_sessions_session_type",
        "idx_agno_runs_session_id_run_index",
        "idx_agno_runs_status",
        "idx_agno_schema_versions_created_at",
    } <= indexes
    fk = sql(dsn, "SELECT conname, confdeltype FROM pg_constraint WHERE contype = 'f'")
    assert fk == [("agno_runs_session_id_fkey", "c")]
    versions = sql(dsn, "SELECT table_name, version FROM ai.agno_schema_versions ORDER BY table_name")
    assert versions == [("agno_runs", "3.0.0"), ("agno_sessions", "3.0.0")]


@pytest.mark.gen_test(timeout=60)
async def test_custom_schema_and_tables(dsn: str) -> None:
    env = {"AGNO_PG_DSN": dsn, "AGNO_DB_SCHEMA": "custom", "AGNO_SESSION_TABLE": "my_sessions"}
    async with running_api(env) as api:
        assert (await api.call("POST", "/sessions", body={"session_id": "x"})).status == 201
        assert (await api.get("/sessions", db_id="default", table="my_sessions")).json["meta"]["total_count"] == 1
    assert sql(dsn, "SELECT to_regclass('custom.my_sessions_runs') IS NOT NULL") == [(True,)]


@pytest.mark.gen_test(timeout=60)
async def test_explicit_runs_table(dsn: str) -> None:
    env = {"AGNO_PG_DSN": dsn, "AGNO_SESSION_TABLE": "my_sessions", "AGNO_RUNS_TABLE": "my_runs"}
    run = {"run_id": "r1", "agent_id": "a1", "status": "COMPLETED", "created_at": 100}
    async with running_api(env) as api:
        created = await api.call("POST", "/sessions", query={"type": "agent"}, body={"session_id": "x", "runs": [run]})
        assert created.status == 201
        runs = await api.get("/sessions/x/runs", type="agent")
        assert runs.status == 200
        assert [r["run_id"] for r in runs.json] == ["r1"]
    assert sql(dsn, "SELECT session_id FROM ai.my_runs") == [("x",)]
    assert sql(dsn, "SELECT to_regclass('ai.my_sessions_runs') IS NULL") == [(True,)]


@pytest.mark.gen_test(timeout=60)
async def test_unknown_routes_methods_request_id_and_nul(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        unknown = await api.get("/sessionz")
        assert unknown.status == 404
        assert unknown.json == {"detail": "Not Found"}
        put = await api.call("PUT", "/sessions", body={})
        assert put.status == 405
        assert put.json == {"detail": "Method Not Allowed"}
        assert put.headers["Allow"] == "GET"
        head = await api.call("HEAD", "/health")
        assert head.status == 405
        echoed = await api.call("GET", "/sessions", headers={"X-Request-ID": "abc-123"})
        assert echoed.headers["X-Request-ID"] == "abc-123"
        for method, path in (("GET", "/sessions/missing"), ("GET", "/nowhere"), ("PUT", "/sessions")):
            error = await api.call(method, path, headers={"X-Request-ID": "err-7"})
            assert error.status in (404, 405), (method, path)
            assert error.headers["X-Request-ID"] == "err-7", (method, path)
        generated = await api.call("GET", "/sessions", headers={"X-Request-ID": "bad id\twith spaces"})
        assert generated.headers["X-Request-ID"] != "bad id\twith spaces"
        assert len(generated.headers["X-Request-ID"]) == 32
        nul_query = await api.get("/sessions", user_id="a\x00b")
        assert nul_query.status == 422
        assert nul_query.json["detail"][0]["loc"] == ["query", "user_id"]
        nul_path = await api.get("/sessions/a%00b")
        assert nul_path.status == 422
        assert nul_path.json["detail"][0]["loc"] == ["path", "session_id"]
        # like agno, NUL characters are stripped from stored string values; keys and ids cannot hold them
        nul_value = await api.call(
            "POST", "/sessions", body={"session_name": "n\x00m", "session_state": {"x": ["a\x00"]}}
        )
        assert nul_value.status == 201
        assert (nul_value.json["session_name"], nul_value.json["session_state"]) == ("nm", {"x": ["a"]})
        for body in ({"session_state": {"k\x00": 1}}, {"user_id": "u\x00"}, {"session_id": "s\x00"}):
            rejected = await api.call("POST", "/sessions", body=body)
            assert rejected.status == 422, body
            assert rejected.json["detail"][0]["type"] == "string_nul", body
        # JSON deeper than agno can handle: AgentOS's own answer
        deep = await api.call(
            "POST", "/sessions", raw="[" * 10000 + "]" * 10000, headers={"Content-Type": "application/json"}
        )
        assert deep.status == 400
        assert deep.json == {"detail": "There was an error parsing the body"}
        huge = await api.call(
            "POST", "/sessions", raw='{"session_state": {"n": 1e400}}', headers={"Content-Type": "application/json"}
        )
        assert huge.status == 422
        big_int = await api.call("POST", "/sessions", body={"session_id": "big", "session_state": {"n": 10**40}})
        assert big_int.status == 201
        assert big_int.json["session_state"] == {"n": 10**40}
        bad_utf8 = await api.call(
            "POST", "/sessions", raw=b'{"session_id": "\xff"}', headers={"Content-Type": "application/json"}
        )
        assert bad_utf8.status == 400
        assert bad_utf8.json == {"detail": "There was an error parsing the body"}


@pytest.mark.gen_test(timeout=60)
async def test_unpaired_surrogates_are_422_and_write_nothing(fresh_dsn: str) -> None:
    """An escaped unpaired surrogate is not Unicode (docs/compatibility.md `invalid-unicode`)."""
    json_type = {"Content-Type": "application/json"}
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        created = await api.call("POST", "/sessions", body={"session_id": "s1", "session_name": "kept"})
        assert created.status == 201
        for method, path, raw, loc in (
            ("POST", "/sessions", '{"session_id": "s2", "session_name": "a\\ud800"}', ["body", "session_name"]),
            ("POST", "/sessions", '{"session_id": "s2\\udc00"}', ["body", "session_id"]),
            (
                "POST",
                "/sessions",
                '{"session_id": "s2", "metadata": {"a": [1, "\\udfff"]}}',
                ["body", "metadata", "a", 1],
            ),
            ("POST", "/sessions", '{"session_id": "s2", "session_state": {"k\\ud800": 1}}', ["body", "session_state"]),
            ("PATCH", "/sessions/s1", '{"session_name": "\\ud800"}', ["body", "session_name"]),
            ("PATCH", "/sessions/s1", '{"summary": {"summary": "\\ud800"}}', ["body", "summary", "summary"]),
            ("POST", "/sessions/s1/rename", '{"session_name": "\\udbff"}', ["body", "session_name"]),
            (
                "DELETE",
                "/sessions",
                '{"session_ids": ["s1\\ud800"], "session_types": ["agent"]}',
                ["body", "session_ids", 0],
            ),
        ):
            answer = await api.call(method, path, raw=raw, headers=json_type)
            assert answer.status == 422, (path, raw, answer.json)
            assert answer.json["detail"][0]["type"] == "string_unicode", raw
            assert answer.json["detail"][0]["loc"] == loc, raw
        assert sql(fresh_dsn, "SELECT session_id, session_data ->> 'session_name' FROM ai.agno_sessions") == [
            ("s1", "kept")
        ]
        pair = await api.call(
            "POST", "/sessions", raw='{"session_id": "s3", "session_name": "\\ud83d\\ude80"}', headers=json_type
        )
        assert pair.status == 201
        assert pair.json["session_name"] == "\U0001f680"
        echoed = await api.call("PATCH", "/sessions/s1", raw='{"session_state": "x\\ud800"}', headers=json_type)
        assert echoed.status == 422
        assert echoed.json["detail"][0]["input"] == "x\ufffd"
        beside = await api.call(
            "POST", "/sessions", raw='{"session_id": 1, "session_name": "\\ud800"}', headers=json_type
        )
        assert [e["type"] for e in beside.json["detail"]] == ["string_type"]  # pydantic's errors first, alone
        not_utf8_path = await api.get("/sessions/%ED%A0%80")
        assert not_utf8_path.status == 404
        assert not_utf8_path.json == {"detail": "Session with id '\ufffd\ufffd\ufffd' not found"}


def test_paths_are_routed_as_agentos_routes_them() -> None:
    """uvicorn percent-decodes before routing and agno strips trailing slashes (contract cases `pct_*`)."""
    from service.app import agentos_path

    assert agentos_path("/sessions/") == "/sessions"
    assert agentos_path("/sessions/x/runs//") == "/sessions/x/runs"
    assert agentos_path("/sessions/x%2Fruns") == "/sessions/x/runs"
    assert agentos_path("/%73essions") == "/sessions"
    assert agentos_path("/sessions/a%252Fb") == "/sessions/a%252Fb"  # decoded once: the id is `a%2Fb`
    assert agentos_path("/sessions/a+b %00") == "/sessions/a%2Bb%20%00"
    assert agentos_path("/sessions/%ED%A0%80") == "/sessions/" + "%EF%BF%BD" * 3
    assert agentos_path("/") == "/"
    assert agentos_path("//") == "//"


@pytest.fixture
def legacy_2x_dsn(pg_cluster: Any) -> str:
    """agno 2.x never migrated: the sessions table with its `runs` column and no agno_runs table."""
    dsn: str = pg_cluster.create_database("legacy2x")
    provision(dsn)
    sql(dsn, "DROP TABLE ai.agno_runs")
    sql(dsn, "ALTER TABLE ai.agno_sessions ADD COLUMN runs jsonb")
    source = SEED["agent-sess-00"]
    run = source["runs"][0]
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        for sid, blob in (("good", [run]), ("string", json.dumps([run])), ("junk-first", [42, run])):
            insert_session(cur, {**source["row"], "session_id": sid}, [])
            cur.execute("UPDATE ai.agno_sessions SET runs = %s::jsonb WHERE session_id = %s", (json.dumps(blob), sid))
    conn.close()
    return dsn


@pytest.mark.gen_test(timeout=60)
async def test_legacy_layout_without_runs_table_is_read_and_written(legacy_2x_dsn: str) -> None:
    """AGNO_AUTO_PROVISION=false on it: the runs column is read as agno reads it then, and sessions are
    created, renamed, patched and deleted (contract cases `l2x_*`)."""
    dsn, source = legacy_2x_dsn, SEED["agent-sess-00"]
    run = source["runs"][0]
    async with running_api({"AGNO_PG_DSN": dsn, "AGNO_AUTO_PROVISION": "false"}) as api:
        good = await api.get("/sessions/good")
        assert good.status == 200
        assert len(good.json["chat_history"]) > 0
        for sid in ("string", "junk-first"):  # agno parses no runs there: no history, not rebuilt
            detail = await api.get(f"/sessions/{sid}")
            assert detail.status == 200, sid
            assert detail.json["chat_history"] == [], sid
        assert [r["run_id"] for r in (await api.get("/sessions/junk-first/runs")).json] == [run["run_id"]]
        assert (await api.get("/sessions/string/runs")).json == []
        created = await api.call("POST", "/sessions", body={"session_id": "new", "session_name": "n", "runs": [run]})
        assert created.status == 201, created.json
        renamed = await api.call("POST", "/sessions/new/rename", body={"session_name": "renamed"})
        assert renamed.status == 200
        assert renamed.json["session_name"] == "renamed"
        patched = await api.call("PATCH", "/sessions/good", body={"session_state": {"p": 1}})
        assert patched.status == 200
        assert patched.json["session_state"] == {"p": 1}
        assert (await api.call("DELETE", "/sessions/string")).status == 204
        bulk = await api.call("DELETE", "/sessions", body={"session_ids": ["junk-first"], "session_types": ["agent"]})
        assert bulk.status == 204
    assert sql(dsn, "SELECT to_regclass('ai.agno_runs') IS NULL") == [(True,)]
    rows = sql(
        dsn,
        "SELECT session_id, session_data ->> 'session_name', jsonb_array_length(runs) FROM ai.agno_sessions ORDER BY 1",
    )
    assert rows == [("good", source["row"]["session_data"].get("session_name"), 1), ("new", "renamed", 1)]
