"""POST /sessions, rename, PATCH, DELETE one and bulk: responses, stored rows, errors (docs/agentos.md §5, §7)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from service.compare.diff import is_uuid4
from service.rows import SESSION_COLUMNS
from tests.api.conftest import FIXTURES, SEED, assert_json_equal, insert_session, running_api, sql

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
MUTATIONS = {c["name"]: c for c in json.loads((FIXTURES / "golden_mutations.json").read_text("utf-8"))}


def stored(dsn: str, session_id: str) -> dict[str, Any] | None:
    rows = sql(
        dsn,
        "SELECT session_type, agent_id, team_id, workflow_id, user_id, session_data::text, agent_data::text,"
        " team_data::text, workflow_data::text, metadata::text, summary::text, created_at, updated_at"
        " FROM ai.agno_sessions WHERE session_id = %s",
        (session_id,),
    )
    if not rows:
        return None
    keys = list(SESSION_COLUMNS[1:])
    return dict(zip(keys, rows[0], strict=True))


@pytest.mark.gen_test(timeout=60)
async def test_create_agent_full_and_read_back(fresh_dsn: str) -> None:
    body = {
        "session_id": "c-agent-1",
        "session_name": "My Session",
        "session_state": {"k": "v", "n": None},
        "metadata": {"tag": "x", "agno_component_version": 3},
        "user_id": "u-9",
        "agent_id": "basic-agent",
        "team_id": "ignored-for-agents",
        "created_at": 5,
    }
    before = int(time.time())
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        reply = await api.call("POST", "/sessions", query={"type": "agent"}, body=body)
        assert reply.status == 201
        created = reply.json
        assert list(created) == [
            "user_id",
            "agent_session_id",
            "session_id",
            "session_name",
            "session_state",
            "agent_id",
            "metrics",
            "metadata",
            "chat_history",
            "created_at",
            "updated_at",
        ]
        assert created["session_name"] == "My Session"
        assert created["metadata"] == {"tag": "x"}
        assert created["session_state"] == {"k": "v", "n": None}
        assert created["metrics"] == {}
        assert ISO_Z.match(created["created_at"])
        assert created["created_at"] == created["updated_at"]
        again = await api.get("/sessions/c-agent-1")
        assert_json_equal(again.json, created)
    row = stored(fresh_dsn, "c-agent-1")
    assert row is not None
    assert row["session_type"] == "agent"
    assert row["agent_id"] == "basic-agent"
    assert row["team_id"] is None
    assert row["created_at"] >= before
    assert row["created_at"] == row["updated_at"]
    # JSON null (not SQL NULL) for the JSON columns agno names in its INSERT, SQL NULL for the others
    assert row["agent_data"] == "null"
    assert row["summary"] == "null"
    assert row["team_data"] is None
    assert json.loads(row["session_data"]) == {"session_name": "My Session", "session_state": {"k": "v", "n": None}}


@pytest.mark.gen_test(timeout=60)
async def test_create_variants(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        empty = await api.call("POST", "/sessions")
        assert empty.status == 201
        assert is_uuid4(empty.json["session_id"])
        assert empty.json == {
            "agent_session_id": empty.json["session_id"],
            "session_id": empty.json["session_id"],
            "session_name": "",
            "chat_history": [],
            "created_at": empty.json["created_at"],
            "updated_at": empty.json["updated_at"],
        }
        team = await api.call(
            "POST",
            "/sessions",
            query={"type": "team"},
            body={"session_id": "c-team", "session_name": "T", "team_id": "basic-team", "session_state": {"t": 1}},
        )
        assert team.status == 201
        assert list(team.json) == [
            "session_id",
            "session_name",
            "team_id",
            "session_state",
            "metrics",
            "chat_history",
            "created_at",
            "updated_at",
        ]
        workflow = await api.call(
            "POST", "/sessions", query={"type": "workflow"}, body={"session_id": "c-wf", "workflow_id": "wf"}
        )
        assert workflow.json == {
            "workflow_id": "wf",
            "session_id": "c-wf",
            "session_name": "",
            "session_data": {},
            "workflow_data": {},
            "metadata": {},
            "created_at": workflow.json["created_at"],
            "updated_at": workflow.json["updated_at"],
        }
        reserved_only = await api.call(
            "POST",
            "/sessions",
            query={"type": "team"},
            body={"session_id": "c-r", "metadata": {"agno_dispatch_depth": 1}},
        )
        assert "metadata" not in reserved_only.json
        empty_id = await api.call("POST", "/sessions", body={"session_id": ""})
        assert empty_id.status == 201
        assert is_uuid4(empty_id.json["session_id"])
        for session_type in ("agent", "team"):
            duplicate = await api.call("POST", "/sessions", query={"type": session_type}, body={"session_id": "c-wf"})
            assert duplicate.status == 409
            assert duplicate.json == {
                "detail": "Session with id 'c-wf' already exists. Use PATCH /sessions/c-wf to update it."
            }
    wf_row = stored(fresh_dsn, "c-wf")
    assert wf_row is not None
    assert (wf_row["session_data"], wf_row["workflow_data"], wf_row["metadata"]) == ("{}", "{}", "{}")
    assert wf_row["summary"] == "null"


BAD_BODIES: list[tuple[dict[str, Any], Any]] = [
    (
        {"raw": '{"session_id": "x",', "headers": {"Content-Type": "application/json"}},
        [
            {
                "type": "json_invalid",
                "loc": ["body", 19],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ],
    ),
    (
        {"raw": '{"session_id":', "headers": {"Content-Type": "application/json"}},
        [
            {
                "type": "json_invalid",
                "loc": ["body", 14],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ],
    ),
    (
        {"body": [1, 2]},
        [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": [1, 2],
            }
        ],
    ),
    (
        {"body": None},
        [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": None,
            }
        ],
    ),
    (
        {"raw": '{"session_id":"c-tp"}', "headers": {"Content-Type": "text/plain"}},
        [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
                "input": '{"session_id":"c-tp"}',
            }
        ],
    ),
    (
        {"body": {"session_state": "notadict", "user_id": 5}},
        [
            {
                "type": "dict_type",
                "loc": ["body", "session_state"],
                "msg": "Input should be a valid dictionary",
                "input": "notadict",
            },
            {"type": "string_type", "loc": ["body", "user_id"], "msg": "Input should be a valid string", "input": 5},
        ],
    ),
]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(("request_kwargs", "detail"), BAD_BODIES)
async def test_create_rejects_bad_bodies(fresh_dsn: str, request_kwargs: dict[str, Any], detail: Any) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        reply = await api.call("POST", "/sessions", **request_kwargs)
        assert reply.status == 422
        assert reply.json == {"detail": detail}
        bad_type = await api.call("POST", "/sessions", query={"type": "robot"}, body={})
        assert bad_type.status == 422
        assert bad_type.json["detail"][0]["loc"] == ["query", "type"]
    assert sql(fresh_dsn, "SELECT count(*) FROM ai.agno_sessions") == [(0,)]


@pytest.mark.gen_test(timeout=60)
async def test_create_import_extension(fresh_dsn: str) -> None:
    source = SEED["agent-sess-00"]
    body = {
        "session_id": "imported",
        "agent_id": "support-agent",
        "session_name": "Imported",
        "runs": source["runs"],
        "summary": {"summary": "S", "topics": ["a"], "updated_at": "2025-10-21T14:30:00Z"},
    }
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        reply = await api.call("POST", "/sessions", body=body)
        assert reply.status == 201
        assert reply.json["session_summary"] == {
            "summary": "S",
            "topics": ["a"],
            "updated_at": "2025-10-21T14:30:00+00:00",
        }
        runs = await api.get("/sessions/imported/runs")
        assert [r["run_id"] for r in runs.json] == [r["run_id"] for r in source["runs"]]
        detail = await api.get("/sessions/imported")
        assert detail.json["chat_history"] == reply.json["chat_history"]
        assert detail.json["chat_history"]
        conflict = await api.call("POST", "/sessions", body={"session_id": "other", "runs": source["runs"][:1]})
        assert conflict.status == 409
        bad = await api.call("POST", "/sessions", body={"runs": [{"no": "id"}, 3], "summary": {"topics": []}})
        assert bad.status == 422
        assert [e["loc"] for e in bad.json["detail"]] == [
            ["body", "runs", 0, "run_id"],
            ["body", "runs", 1],
            ["body", "summary"],
        ]
    assert sql(fresh_dsn, "SELECT run_id, run_index FROM ai.agno_runs ORDER BY run_index") == [
        (run["run_id"], index) for index, run in enumerate(source["runs"])
    ]
    assert sql(fresh_dsn, "SELECT count(*) FROM ai.agno_sessions WHERE session_id = 'other'") == [(0,)]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize("name", ["rename_agent", "rename_team_typed", "rename_workflow", "rename_empty_string"])
async def test_rename_golden(seeded_copy: str, name: str) -> None:
    case = MUTATIONS[name]
    dsn = seeded_copy
    session_id = case["path"].split("/")[2]
    updated_before = stored(dsn, session_id)
    async with running_api({"AGNO_PG_DSN": dsn}) as api:
        reply = await api.call("POST", case["path"], query=[tuple(q) for q in case["query"]], body=case["body"])
    assert reply.status == case["status"]
    assert_json_equal(reply.json, case["response"])
    after = stored(dsn, session_id)
    assert after is not None
    assert updated_before is not None
    assert after["updated_at"] == updated_before["updated_at"]  # rename never touches updated_at


@pytest.mark.gen_test(timeout=60)
async def test_rename_rules(fresh_dsn: str) -> None:
    now = int(time.time())
    conn_rows: list[dict[str, Any]] = [
        {"session_id": "json-null", "session_type": "agent", "session_data": None, "created_at": now},
        {
            "session_id": "typed",
            "session_type": "team",
            "team_id": "t",
            "session_data": {"session_state": {}},
            "created_at": now,
        },
    ]
    import psycopg2

    conn = psycopg2.connect(fresh_dsn)
    with conn, conn.cursor() as cur:
        for row in conn_rows:
            insert_session(cur, row, [])
        cur.execute(
            "INSERT INTO ai.agno_sessions (session_id, session_type, session_data, created_at)"
            " VALUES ('json-null-2', 'agent', 'null'::jsonb, %s)",
            (now,),
        )
    conn.close()
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        # divergence: AgentOS loses the name (SQL NULL) or answers 500 (JSON null); we store it
        for session_id in ("json-null", "json-null-2"):
            reply = await api.call("POST", f"/sessions/{session_id}/rename", body={"session_name": "Named"})
            assert reply.status == 200
            assert reply.json["session_name"] == "Named"
            assert (await api.get(f"/sessions/{session_id}")).json["session_name"] == "Named"
        wrong_type = await api.call(
            "POST", "/sessions/typed/rename", query={"type": "agent"}, body={"session_name": "x"}
        )
        assert wrong_type.status == 404
        assert wrong_type.json == {"detail": "Session with id 'typed' not found"}
        right = await api.call(
            "POST", "/sessions/typed/rename", query={"type": "team"}, body={"session_name": "a\x00b"}
        )
        assert right.status == 200
        assert right.json["session_name"] == "ab"
        missing = await api.call("POST", "/sessions/nope/rename", body={"session_name": "x"})
        assert missing.status == 404
        for body, error in [
            ({}, "missing"),
            ({"session_name": None}, "string_type"),
            ({"session_name": 5}, "string_type"),
            ("Named", "missing"),
        ]:
            bad = await api.call("POST", "/sessions/typed/rename", body=body)
            assert bad.status == 422
            assert bad.json["detail"][0]["type"] == error
            assert bad.json["detail"][0]["loc"] == ["body", "session_name"]
        form = await api.call(
            "POST",
            "/sessions/typed/rename",
            raw="session_name=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert form.status == 422
        assert form.json["detail"][0]["type"] == "missing"


@pytest.mark.gen_test(timeout=60)
async def test_patch(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        await api.call(
            "POST",
            "/sessions",
            body={
                "session_id": "p",
                "user_id": "u",
                "session_state": {"old": 1},
                "metadata": {"m": 1},
                "agent_id": "a",
            },
        )
        sql(fresh_dsn, "UPDATE ai.agno_sessions SET updated_at = 1000, created_at = 1000 WHERE session_id = 'p'")
        named = await api.call(
            "PATCH", "/sessions/p", body={"session_name": "Patched", "session_state": {"only": "this"}}
        )
        assert named.status == 200
        assert named.json["session_name"] == "Patched"
        assert named.json["session_state"] == {"only": "this"}
        assert named.json["session_summary"] is None
        assert named.json["total_tokens"] is None
        assert named.json["updated_at"] != "1970-01-01T00:16:40Z"
        assert named.json["created_at"] == "1970-01-01T00:16:40Z"
        summary = await api.call(
            "PATCH",
            "/sessions/p",
            body={"summary": {"summary": "S", "topics": ["a"], "updated_at": "2025-10-21T14:30:00Z"}, "metadata": None},
        )
        assert summary.json["session_summary"] == {
            "summary": "S",
            "topics": ["a"],
            "updated_at": "2025-10-21T14:30:00+00:00",
        }
        assert summary.json["metadata"] == {"m": 1}
        bad_summary = await api.call("PATCH", "/sessions/p", body={"summary": {"topics": ["x"]}})
        assert bad_summary.status == 422
        assert bad_summary.json["detail"][0]["loc"] == ["body", "summary"]
        cleared = await api.call("PATCH", "/sessions/p", body={"metadata": {"agno_component_version": 1}})
        assert cleared.json["metadata"] is None
        sql(fresh_dsn, "UPDATE ai.agno_sessions SET updated_at = 1000 WHERE session_id = 'p'")
        empty = await api.call("PATCH", "/sessions/p", body={})
        assert empty.status == 200
        assert empty.json["updated_at"] != "1970-01-01T00:16:40Z"
        assert (await api.call("PATCH", "/sessions/p")).json == {
            "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
        }
        assert (await api.call("PATCH", "/sessions/nope", body={})).json == {
            "detail": "Session with id 'nope' not found"
        }
        assert (await api.call("PATCH", "/sessions/p", query={"user_id": "other"}, body={})).status == 404
    row = stored(fresh_dsn, "p")
    assert row is not None
    assert json.loads(row["session_data"]) == {"session_name": "Patched", "session_state": {"only": "this"}}
    assert json.loads(row["summary"]) == {"summary": "S", "topics": ["a"], "updated_at": "2025-10-21T14:30:00+00:00"}
    assert row["metadata"] == "null"


@pytest.mark.gen_test(timeout=60)
async def test_patch_workflow_drops_summary(fresh_dsn: str) -> None:
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        await api.call("POST", "/sessions", query={"type": "workflow"}, body={"session_id": "w", "workflow_id": "wf"})
        reply = await api.call("PATCH", "/sessions/w", body={"session_name": "WF", "summary": {"summary": "s"}})
        assert reply.status == 200
        assert list(reply.json) == [
            "user_id",
            "workflow_id",
            "workflow_name",
            "session_id",
            "session_name",
            "session_data",
            "session_state",
            "workflow_data",
            "metadata",
            "created_at",
            "updated_at",
        ]
        assert reply.json["session_data"] == {"session_name": "WF"}
    row = stored(fresh_dsn, "w")
    assert row is not None
    assert row["summary"] == "null"


@pytest.mark.gen_test(timeout=60)
async def test_delete_one_and_bulk(fresh_dsn: str) -> None:
    import psycopg2

    conn = psycopg2.connect(fresh_dsn)
    with conn, conn.cursor() as cur:
        for session_id in ("agent-sess-00", "agent-sess-01", "team-sess-00", "workflow-sess-00"):
            insert_session(cur, SEED[session_id]["row"], SEED[session_id]["runs"])
    conn.close()
    async with running_api({"AGNO_PG_DSN": fresh_dsn}) as api:
        mismatch = await api.call("DELETE", "/sessions/agent-sess-00", query={"user_id": "someone-else"})
        assert mismatch.status == 204
        assert mismatch.text == ""
        assert (await api.get("/sessions/agent-sess-00")).status == 200
        media = await api.call("DELETE", "/sessions/agent-sess-00", query={"delete_media": "true"})
        assert media.status == 503
        assert media.json == {"detail": "Media storage is not configured on AgentOS"}
        gone = await api.call("DELETE", "/sessions/agent-sess-00")
        assert gone.status == 204
        assert gone.headers["Content-Type"] == "application/json"
        assert (await api.call("DELETE", "/sessions/agent-sess-00")).status == 204
        assert (await api.get("/sessions/agent-sess-00")).status == 404
        mismatch_len = await api.call(
            "DELETE", "/sessions", body={"session_ids": ["a", "b"], "session_types": ["agent"]}
        )
        assert mismatch_len.json == {"detail": "Session IDs and session types must have the same length"}
        empty = await api.call("DELETE", "/sessions", body={"session_ids": [], "session_types": []})
        assert [e["type"] for e in empty.json["detail"]] == ["too_short", "too_short"]
        bad_enum = await api.call("DELETE", "/sessions", body={"session_ids": ["a"], "session_types": ["robot"]})
        assert bad_enum.json["detail"][0]["loc"] == ["body", "session_types", 0]
        assert (await api.call("DELETE", "/sessions")).json["detail"][0]["loc"] == ["body"]
        bulk = await api.call(
            "DELETE",
            "/sessions",
            body={
                "session_ids": ["agent-sess-01", "team-sess-00", "does-not-exist"],
                "session_types": ["agent", "agent", "workflow"],
            },
        )
        assert bulk.status == 204
    assert sql(fresh_dsn, "SELECT session_id FROM ai.agno_sessions") == [("workflow-sess-00",)]
    assert sql(fresh_dsn, "SELECT DISTINCT session_id FROM ai.agno_runs") == [("workflow-sess-00",)]
