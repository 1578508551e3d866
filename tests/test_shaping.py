"""Unit tests for service.shaping (pure functions, no database, no HTTP).

Two kinds of checks:
- golden: the seed rows of an agno-seeded database (tests/fixtures/shaping/seed_sessions.json, runs in
  `run_index, created_at, run_id` order) shaped by our functions must equal the real AgentOS 3.1.10
  responses captured for them (golden_reads.json / golden_mutations.json) - values AND key order at
  every nesting level;
- hand-written cases, one or more per rule of the contract (docs/agentos.md §5-§9).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from service import schemas, shaping
from service.schemas import RUN_STATUSES
from service.shaping import (
    agent_run_schema,
    chat_history,
    classify_runs,
    detect_session_type,
    exclude_none,
    filter_runs_by_time,
    filter_schemas_by_status,
    iso_utc,
    list_item,
    message_to_dict,
    parse_summary_input,
    run_input,
    run_preview,
    session_detail,
    session_name,
    single_run,
    stringify_input_content,
    summary_for_detail,
    team_run_schema,
    workflow_run_schema,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "shaping"
SEED: dict[str, dict[str, Any]] = json.loads((FIXTURES / "seed_sessions.json").read_text("utf-8"))
READS: list[dict[str, Any]] = json.loads((FIXTURES / "golden_reads.json").read_text("utf-8"))
MUTATIONS: dict[str, dict[str, Any]] = {
    case["name"]: case for case in json.loads((FIXTURES / "golden_mutations.json").read_text("utf-8"))
}


def key_paths(value: Any, path: str = "$") -> list[tuple[str, list[str]]]:
    """Every object's key list, depth first, so key order is compared at every nesting level."""
    found: list[tuple[str, list[str]]] = []
    if isinstance(value, dict):
        found.append((path, list(value.keys())))
        for key, item in value.items():
            found.extend(key_paths(item, f"{path}.{key}"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(key_paths(item, f"{path}[{index}]"))
    return found


def assert_same(got: Any, want: Any) -> None:
    assert got == want
    assert key_paths(got) == key_paths(want)


def jsonb_order(obj: dict[str, Any]) -> dict[str, Any]:
    """Postgres JSONB key order: shorter keys first, then bytewise."""
    return {key: obj[key] for key in sorted(obj, key=lambda k: (len(k.encode()), k.encode()))}


def row(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "session_id": "s1",
        "session_type": "agent",
        "agent_id": "a1",
        "team_id": None,
        "workflow_id": None,
        "user_id": "u1",
        "session_data": None,
        "agent_data": None,
        "team_data": None,
        "workflow_data": None,
        "metadata": None,
        "summary": None,
        "created_at": 1735732800,
        "updated_at": 1735734600,
    }
    base.update(overrides)
    return base


def new_id() -> str:
    raise AssertionError("every message of these fixtures has an id")


def msg(role: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"id": f"m-{role}-{content}", "role": role, "content": content, "created_at": 1, **extra}


# --------------------------------------------------------------------------------------------
# golden: reproduce the real AgentOS responses from the seed rows
# --------------------------------------------------------------------------------------------


def _shape_read(case: dict[str, Any]) -> Any:
    query: dict[str, str] = dict(case["query"])
    parts = case["path"].split("/")  # ["", "sessions", id, ...]
    session = SEED[parts[2]]
    srow, runs = session["row"], session["runs"]
    as_type = query.get("type") or detect_session_type(srow)
    if len(parts) == 3:
        return exclude_none(session_detail(srow, runs, as_type, now=0, new_id=new_id))
    if len(parts) == 4:
        after = int(query["created_after"]) if "created_after" in query else None
        before = int(query["created_before"]) if "created_before" in query else None
        statuses = {value.upper() for key, value in case["query"] if key == "status"} or None
        schemas = classify_runs(srow, filter_runs_by_time(runs, after, before), as_type)
        schemas = filter_schemas_by_status(schemas, statuses)
        if parts[3] == "runs":
            return [exclude_none(schema) for schema in schemas]
        return [run_preview(schema) for schema in schemas]
    target = next(run for run in runs if run.get("run_id") == parts[4])
    return single_run(srow, target)


DETAIL_AND_RUN_CASES = [case for case in READS if case["name"] != "list_default"]


@pytest.mark.parametrize("case", DETAIL_AND_RUN_CASES, ids=[case["name"] for case in DETAIL_AND_RUN_CASES])
def test_golden_detail_runs_previews_single_run(case: dict[str, Any]) -> None:
    assert_same(_shape_read(case), case["response"])


LIST_ITEMS = next(case for case in READS if case["name"] == "list_default")["response"]["data"]


@pytest.mark.parametrize("item", LIST_ITEMS, ids=[item["session_id"] for item in LIST_ITEMS])
def test_golden_list_item(item: dict[str, Any]) -> None:
    session = SEED[item["session_id"]]
    assert_same(list_item(session["row"], session["runs"]), item)


def test_golden_list_covers_every_seed_session() -> None:
    assert sorted(item["session_id"] for item in LIST_ITEMS) == sorted(SEED)


@pytest.mark.parametrize("session_id", sorted(SEED))
def test_every_field_of_its_table_in_order(session_id: str) -> None:
    """Each builder answers exactly its table's fields in the table's order (its computed values are
    exactly the table's computed fields), for every seed session read as every type."""
    srow, runs = SEED[session_id]["row"], SEED[session_id]["runs"]
    details = {"agent": schemas.AGENT_DETAIL, "team": schemas.TEAM_DETAIL, "workflow": schemas.WORKFLOW_DETAIL}
    for as_type, table in details.items():
        assert tuple(session_detail(srow, runs, as_type, now=0, new_id=lambda: "id")) == table.names
    item = shaping.list_item(srow, runs)  # null fields omitted: the rest in order, nothing else
    assert tuple(item) == tuple(n for n in schemas.SESSION.names if n in item)
    for run in runs:
        assert tuple(agent_run_schema(run, srow)) == schemas.RUN.names
        assert tuple(team_run_schema(run)) == schemas.TEAM_RUN.names
        assert tuple(workflow_run_schema(run)) == schemas.WORKFLOW_RUN.names
        preview = run_preview(agent_run_schema(run, srow))
        assert tuple(preview) == tuple(n for n in schemas.RUN_PREVIEW.names if n in preview)


def test_list_and_object_defaults_are_not_shared() -> None:
    """A list or object default is made anew for every answer."""
    first, second = team_run_schema({}), team_run_schema({})
    assert first["images"] == []
    assert first["images"] is not second["images"]
    assert first["metrics"] == {}
    assert first["metrics"] is not second["metrics"]


@pytest.mark.parametrize("name", ["rename_agent", "rename_team_typed", "rename_workflow", "rename_empty_string"])
def test_golden_rename_detail_keeps_nulls(name: str) -> None:
    case = MUTATIONS[name]
    session = SEED[case["path"].split("/")[2]]
    renamed_data = jsonb_order({**session["row"]["session_data"], "session_name": case["body"]["session_name"]})
    renamed = {**session["row"], "session_data": renamed_data}
    as_type = dict(case["query"]).get("type") or detect_session_type(renamed)
    got = session_detail(renamed, session["runs"], as_type, now=0, new_id=new_id)
    assert_same(got, case["response"])
    assert None in got.values()  # the nulls-included form


def test_golden_patch_summary_stored_and_rendered() -> None:
    case = MUTATIONS["patch_summary"]
    stored = parse_summary_input(case["body"]["summary"])
    assert_same(
        stored,
        {"summary": "Patched summary", "topics": ["a", "b"], "updated_at": "2025-10-21T14:30:00+00:00"},
    )
    # Postgres hands it back in JSONB order; the detail re-orders it.
    assert_same(summary_for_detail(jsonb_order(stored)), case["response"]["session_summary"])


def test_golden_patch_summary_missing_key_is_rejected() -> None:
    case = MUTATIONS["patch_summary_missing_summary_key"]
    assert case["status"] == 500  # AgentOS: TypeError; we validate instead
    with pytest.raises(ValueError, match="required"):
        parse_summary_input(case["body"]["summary"])


# --------------------------------------------------------------------------------------------
# timestamps, type detection, exclude_none
# --------------------------------------------------------------------------------------------


def test_iso_utc() -> None:
    assert iso_utc(1735732800) == "2025-01-01T12:00:00Z"
    assert iso_utc(0) == "1970-01-01T00:00:00Z"
    assert iso_utc(1735732800.5) == "2025-01-01T12:00:00.500000Z"
    assert iso_utc(1735732800.123456) == "2025-01-01T12:00:00.123456Z"
    assert iso_utc(None) is None


def test_detect_session_type() -> None:
    assert detect_session_type(row(session_type="team")) == "team"
    assert detect_session_type(row(session_type=None, agent_id=None, team_id="t")) == "team"
    assert detect_session_type(row(session_type="", agent_id=None, workflow_id="w")) == "workflow"
    assert detect_session_type(row(session_type=None, agent_id="a", team_id="t")) == "agent"
    assert detect_session_type(row(session_type=None, agent_id=None)) == "agent"
    # a stored value outside the three (agno: 500) is inferred from the ids (divergence)
    assert detect_session_type(row(session_type="chat", agent_id=None, team_id="t")) == "team"
    assert detect_session_type(row(session_type="chat", agent_id=None)) == "agent"


def test_exclude_none_is_top_level_only() -> None:
    got = exclude_none({"a": None, "b": {"c": None}, "d": [None], "e": "", "f": []})
    assert_same(got, {"b": {"c": None}, "d": [None], "e": "", "f": []})


# --------------------------------------------------------------------------------------------
# docs/agentos.md §8.2 session_name
# --------------------------------------------------------------------------------------------


def test_session_name_stored_wins_even_empty() -> None:
    runs = [{"agent_id": "a", "messages": [msg("user", "hello")]}]
    assert session_name(row(session_data={"session_name": ""}), runs, "agent") == ""
    assert session_name(row(session_data={"session_name": None}), runs, "agent") == "hello"


def test_session_name_first_user_message_with_content() -> None:
    runs = [
        {"agent_id": "a", "messages": [msg("system", "sys"), msg("user", ""), msg("assistant", "x")]},
        {"agent_id": "a", "messages": [msg("user", "second run")]},
    ]
    # run 1 has no user message with content but no input either -> next run
    assert session_name(row(), runs, "agent") == "second run"


def test_session_name_input_pretty_printed_ascii() -> None:
    runs = [{"agent_id": "a", "messages": [], "input": {"input_content": "café"}}]
    assert session_name(row(), runs, "agent") == '{\n  "input_content": "caf\\u00e9"\n}'


def test_session_name_team_skips_member_runs() -> None:
    runs = [
        {"agent_id": "member", "messages": [msg("user", "member question")]},
        {"team_id": "t", "messages": [msg("user", "team question")]},
    ]
    assert session_name(row(), runs, "team") == "team question"
    assert session_name(row(), runs, "agent") == "member question"


def test_session_name_workflow_rules() -> None:
    wf = row(session_type="workflow", workflow_data={"name": "ETL"})
    assert session_name(wf, [], "workflow") == ""
    assert session_name(wf, [{"input": "  raw text  "}], "workflow") == "  raw text  "
    assert session_name(wf, [{"input": {"b": 1, "a": "é"}}], "workflow") == '{"b": 1, "a": "\\u00e9"}'
    assert session_name(wf, [{"input": 42}, {"input": "later"}], "workflow") == "New ETL Session"
    assert session_name(row(session_type="workflow"), [{"input": None}], "workflow") == ""


def test_session_name_list_content_divergence_is_json() -> None:
    content = [{"type": "text", "text": "hé"}]
    assert session_name(row(), [{"agent_id": "a", "messages": [msg("user", content)]}], "agent") == json.dumps(
        content, ensure_ascii=False
    )


def test_stringify_input_content() -> None:
    assert stringify_input_content("x") == "x"
    assert stringify_input_content({"k": [1, 2]}) == '{\n  "k": [\n    1,\n    2\n  ]\n}'
    assert stringify_input_content([{"role": "user", "content": "hi"}, {"role": "x"}]) == "hi"
    assert stringify_input_content([1, "a"]) == "[1, 'a']"
    assert stringify_input_content([]) == "[]"
    assert stringify_input_content(True) == "True"


# --------------------------------------------------------------------------------------------
# docs/agentos.md §8.5 chat_history and Message.to_dict
# --------------------------------------------------------------------------------------------


def test_chat_history_filters_runs_and_messages() -> None:
    runs = [
        {
            "agent_id": "a",
            "parent_run_id": None,
            "messages": [
                msg("system", "sys"),
                msg("user", "q1"),
                msg("user", "old", from_history=True),
                msg("assistant", "", tool_calls=[{"id": "c1"}]),
                msg("tool", "tool result"),
                msg("assistant", "a1"),
            ],
        },
        {"agent_id": "member", "parent_run_id": "r1", "messages": [msg("user", "member q")]},
        {"agent_id": "member", "parent_run_id": "", "messages": [msg("user", "empty parent is not None")]},
        {"workflow_id": "w", "messages": [msg("user", "workflow run has no agent_id/team_id key")]},
        {"team_id": "t", "status": "ERROR", "messages": [msg("user", "team q")]},
    ]
    contents = [m["content"] for m in chat_history(runs, now=0, new_id=new_id)]
    assert contents == ["q1", "", "a1", "team q"]


def test_message_to_dict_key_order_and_dropping() -> None:
    stored = {
        "role": "assistant",
        "content": "",
        "created_at": 7,
        "id": "m1",
        "tool_calls": [],
        "unknown_key": 1,
        "name": None,
        "provider_data": {"p": 1},
        "references": {"time": 0.1, "query": "q"},
        "stop_after_tool_call": False,
        "from_history": False,
    }
    assert_same(
        message_to_dict(stored, now=0, new_id=new_id),
        {
            "id": "m1",
            "content": "",
            "from_history": False,
            "stop_after_tool_call": False,
            "role": "assistant",
            "provider_data": {"p": 1},
            "references": {"query": "q", "references": None, "time": 0.1},
            "created_at": 7,
        },
    )


def test_message_metrics_order_and_zero_dropping() -> None:
    stored = msg(
        "assistant",
        "x",
        metrics={
            "duration": 0.07,
            "input_tokens": 11,
            "total_tokens": 18,
            "output_tokens": 7,
            "time_to_first_token": 0.07,
            "cache_read_tokens": 0,
            "cost": 0.0,
            "reasoning_tokens": False,
            "provider_metrics": {},
            "audio_input_tokens": None,
            "timer": 3,
            "bogus": 9,
        },
    )
    assert_same(
        message_to_dict(stored, now=0, new_id=new_id)["metrics"],
        {
            "input_tokens": 11,
            "output_tokens": 7,
            "total_tokens": 18,
            "cost": 0.0,
            "duration": 0.07,
            "time_to_first_token": 0.07,
        },
    )
    zero = message_to_dict(
        msg("assistant", "x", metrics={"input_tokens": 0, "provider_metrics": {}}), now=0, new_id=new_id
    )
    assert "metrics" not in zero
    assert list(zero)[-1] == "created_at"


def test_message_to_dict_invents_missing_id_and_created_at() -> None:
    got = message_to_dict({"role": "user", "content": "x"}, now=1735732801, new_id=lambda: "fresh-id")
    assert got["id"] == "fresh-id"
    assert got["created_at"] == 1735732801
    kept = message_to_dict(msg("user", "x"), now=1735732801, new_id=lambda: "fresh-id")
    assert (kept["id"], kept["created_at"]) == ("m-user-x", 1)
    assert list(got) == ["id", "content", "from_history", "stop_after_tool_call", "role", "created_at"]


# --------------------------------------------------------------------------------------------
# docs/agentos.md §8.4 sdk metadata
# --------------------------------------------------------------------------------------------


def test_list_item_sdk_metadata_for_agent_rows_only() -> None:
    agent = row(agent_data={"framework": "langgraph"}, metadata={"tag": "x"})
    assert_same(list_item(agent, [])["metadata"], {"tag": "x", "sdk": "langgraph"})
    assert list_item(row(agent_data={"sdk": "crewai"}), [])["metadata"] == {"sdk": "crewai"}
    assert "metadata" not in list_item(row(agent_data={"sdk": ""}), [])
    team = row(session_type="team", team_id="t", agent_data={"sdk": "crewai"}, metadata={"m": 1})
    assert list_item(team, [])["metadata"] == {"m": 1}


def test_agent_run_schema_sdk_only_with_agent_session() -> None:
    session = row(agent_id="a1", agent_data={"sdk": "adk"})
    own = {"run_id": "r", "agent_id": "a1", "metadata": {"k": 1}}
    other = {"run_id": "r", "agent_id": "member", "metadata": {"k": 1}}
    null_agent = {"run_id": "r", "agent_id": None}
    assert_same(agent_run_schema(own, session)["metadata"], {"k": 1, "sdk": "adk"})
    assert agent_run_schema(null_agent, session)["metadata"] == {"sdk": "adk"}
    assert agent_run_schema(other, session)["metadata"] == {"k": 1}
    assert agent_run_schema(own, None)["metadata"] == {"k": 1}
    team_session = row(session_type="team", agent_data={"sdk": "adk"})
    assert agent_run_schema(own, team_session)["metadata"] == {"k": 1}
    # classify_runs passes the session only for agent sessions; single_run always does
    assert classify_runs(session, [own], "agent")[0]["metadata"] == {"k": 1, "sdk": "adk"}
    assert classify_runs(session, [own], "team")[0]["metadata"] == {"k": 1}
    assert single_run(session, own)["metadata"] == {"k": 1, "sdk": "adk"}


def test_detail_sdk_metadata() -> None:
    detail = session_detail(row(agent_data={"sdk": "adk"}), [], "agent", now=0, new_id=new_id)
    assert detail["metadata"] == {"sdk": "adk"}


# --------------------------------------------------------------------------------------------
# docs/agentos.md §8.6 summaries
# --------------------------------------------------------------------------------------------


def test_summary_for_detail_reorders_and_reprints() -> None:
    stored = {"topics": ["t"], "summary": "s", "updated_at": "2025-10-21T14:30:00Z"}
    assert_same(
        summary_for_detail(stored),
        {"summary": "s", "topics": ["t"], "updated_at": "2025-10-21T14:30:00+00:00"},
    )
    assert_same(summary_for_detail({"summary": "s", "topics": None}), {"summary": "s"})
    assert summary_for_detail({"summary": "s", "updated_at": "not a date"}) == {
        "summary": "s",
        "updated_at": "not a date",
    }


def test_summary_for_detail_divergences() -> None:
    assert_same(summary_for_detail({"extra": 1, "summary": "s"}), {"summary": "s"})
    assert summary_for_detail({"topics": ["x"]}) is None
    assert summary_for_detail("text") is None
    assert summary_for_detail(None) is None


def test_list_item_summary_is_raw() -> None:
    stored = {"extra": 1, "topics": ["t"], "summary": "s", "updated_at": "2025-10-21T14:30:00Z"}
    assert_same(list_item(row(summary=stored), [])["session_summary"], stored)


@pytest.mark.parametrize(
    "bad",
    [
        {"topics": ["x"]},
        {"summary": "s", "extra": 1},
        {"summary": 5},
        {"summary": "s", "topics": "x"},
        {"summary": "s", "topics": [1]},
        {"summary": "s", "updated_at": 5},
        {"summary": "s", "updated_at": "yesterday"},
        ["summary"],
    ],
)
def test_parse_summary_input_rejects(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^summary"):
        parse_summary_input(bad)


def test_parse_summary_input_accepts() -> None:
    assert_same(parse_summary_input({"topics": None, "summary": "s"}), {"summary": "s"})
    assert_same(
        parse_summary_input({"updated_at": "2025-10-21T14:30:00", "topics": [], "summary": ""}),
        {"summary": "", "topics": [], "updated_at": "2025-10-21T14:30:00"},
    )
    assert parse_summary_input({"summary": "s", "updated_at": ""}) == {"summary": "s"}


# --------------------------------------------------------------------------------------------
# docs/agentos.md §9 list item, §6 detail
# --------------------------------------------------------------------------------------------


def test_list_item_timestamps_and_metrics() -> None:
    item = list_item(row(created_at=0, updated_at=None, session_data={"session_state": {}}), [])
    assert item["created_at"] == "1970-01-01T00:00:00Z"
    assert "updated_at" not in item  # no fallback in the list
    assert "metrics" not in item
    assert "total_tokens" not in item
    metrics = {"total_tokens": 5, "input_tokens": 2}
    item = list_item(row(session_data={"session_metrics": metrics}), [])
    assert_same([item["metrics"], item["total_tokens"]], [metrics, 5])
    assert list(item) == [
        "session_id",
        "session_name",
        "created_at",
        "updated_at",
        "session_type",
        "user_id",
        "agent_id",
        "metrics",
        "total_tokens",
    ]


def test_list_item_names_with_stored_type() -> None:
    # stored type null: named like an agent although detected as team
    team_row = row(session_type=None, agent_id=None, team_id="t")
    runs = [{"agent_id": "member", "messages": [msg("user", "from member")]}]
    item = list_item(team_row, runs)
    assert (item["session_type"], item["session_name"]) == ("team", "from member")


def test_agent_detail_fields() -> None:
    detail = session_detail(
        row(agent_id="", created_at=0, updated_at=0, session_data={"session_state": {"k": 1}}),
        [],
        "agent",
        now=5,
        new_id=new_id,
    )
    assert list(detail) == [
        "user_id",
        "agent_session_id",
        "session_id",
        "session_name",
        "session_summary",
        "session_state",
        "agent_id",
        "total_tokens",
        "agent_data",
        "metrics",
        "metadata",
        "chat_history",
        "created_at",
        "updated_at",
    ]
    assert detail["agent_id"] is None
    assert (detail["metrics"], detail["total_tokens"], detail["chat_history"]) == ({}, None, [])
    assert (detail["created_at"], detail["updated_at"]) == (None, None)
    empty = session_detail(row(session_data={}, updated_at=None), [], "agent", now=5, new_id=new_id)
    assert (empty["metrics"], empty["session_state"]) == (None, None)
    assert empty["updated_at"] == empty["created_at"] == "2025-01-01T12:00:00Z"


def test_team_detail_key_order_total_tokens_last() -> None:
    detail = session_detail(row(session_type="team", team_id="t"), [], "team", now=0, new_id=new_id)
    assert list(detail)[-1] == "total_tokens"
    assert list(detail)[:4] == ["session_id", "session_name", "user_id", "team_id"]


def test_workflow_detail_defaults_and_now() -> None:
    wf = row(session_type="workflow", workflow_id="w", session_data=None, metadata=None, updated_at=None)
    detail = session_detail(wf, [{"input": "go"}], "workflow", now=1735732801, new_id=new_id)
    assert_same(
        detail,
        {
            "user_id": "u1",
            "workflow_id": "w",
            "workflow_name": None,
            "session_id": "s1",
            "session_name": "go",
            "session_data": {},
            "session_state": None,
            "workflow_data": {},
            "metadata": {},
            "created_at": "2025-01-01T12:00:00Z",
            "updated_at": "2025-01-01T12:00:01Z",
        },
    )


def test_detail_as_other_type_uses_deserialised_runs() -> None:
    # an agent row read as team: agent runs are member-like, so the name is ""
    runs = [{"agent_id": "a1", "messages": [msg("user", "q")]}]
    assert session_detail(row(), runs, "team", now=0, new_id=new_id)["session_name"] == ""
    # a workflow read as agent: workflow runs (no agent_id/team_id key) are dropped
    wf_runs = [{"workflow_id": "w", "input": "x", "messages": [msg("user", "q")]}]
    detail = session_detail(row(session_type="workflow"), wf_runs, "agent", now=0, new_id=new_id)
    assert (detail["session_name"], detail["chat_history"]) == ("", [])


# --------------------------------------------------------------------------------------------
# docs/agentos.md §8.7, §9, §6 runs
# --------------------------------------------------------------------------------------------


def test_run_input_rules() -> None:
    assert run_input({"input": {"input_content": "direct"}}, "agent") == "direct"
    assert run_input({"input": {"input_content": {"a": 1}}}, "agent") == '{\n  "a": 1\n}'
    messages = [msg("user", "first"), msg("assistant", "x"), {"role": "user"}]
    assert run_input({"input": {}, "messages": messages}, "agent") == ""
    assert run_input({"messages": messages[:2]}, "team") == "first"
    assert run_input({}, "agent") == ""
    wf_run = {"step_executor_runs": [{"messages": [msg("user", "step")]}], "messages": [msg("user", "own")]}
    assert run_input(wf_run, "workflow") == "step"
    assert run_input({"input": {"x": 1}}, "workflow") == '{\n  "x": 1\n}'
    assert run_input({"messages": [msg("user", "own")]}, "workflow") == "own"


def test_team_run_user_id_default_null_vs_run_schema_empty() -> None:
    assert team_run_schema({"team_id": "t"})["user_id"] is None
    assert agent_run_schema({"agent_id": "a"}, None)["user_id"] == ""
    assert workflow_run_schema({"workflow_id": "w"})["user_id"] == ""
    assert team_run_schema({"team_id": "t", "user_id": None})["user_id"] is None
    assert agent_run_schema({"agent_id": "a", "user_id": None}, None)["user_id"] is None  # present null stays


def test_run_schema_defaults_and_lists() -> None:
    schema = agent_run_schema({"run_id": "r", "messages": [], "tools": [{"t": 1}], "content_type": "Model"}, None)
    assert (schema["parent_run_id"], schema["content"], schema["reasoning_content"]) == ("", "", "")
    assert (schema["messages"], schema["tools"], schema["events"]) == (None, [{"t": 1}], None)
    assert schema["run_response_format"] == "json"
    assert_same(schema["input_media"], {"images": [], "videos": [], "audios": [], "files": []})
    assert workflow_run_schema({"run_id": "r"})["events"] == []
    assert len(agent_run_schema({}, None)) == 33
    assert len(team_run_schema({})) == 32
    assert len(workflow_run_schema({})) == 27


def test_classify_runs_by_session_type() -> None:
    member = {"run_id": "m", "agent_id": "a", "parent_run_id": "t1"}
    team = {"run_id": "t1", "team_id": "t"}
    orphan = {"run_id": "o"}
    workflow = {"run_id": "w1", "workflow_id": "w"}
    team_kinds = [("agent_id" in s, "team_id" in s) for s in classify_runs(row(), [member, team, orphan], "team")]
    assert team_kinds == [(True, False), (False, True)]  # orphan dropped
    wf = classify_runs(row(), [workflow, team, orphan], "workflow")
    assert ["step_results" in wf[0], "team_id" in wf[1], "agent_id" in wf[2]] == [True, True, True]
    assert all("agent_id" in s for s in classify_runs(row(), [team, workflow], "agent"))
    assert "workflow_id" in single_run(row(), {**team, "workflow_id": "w"})
    assert "team_id" in single_run(row(), team)


def test_filter_runs_by_time_is_inclusive() -> None:
    runs = [{"run_id": "a", "created_at": 10}, {"run_id": "b", "created_at": 20}, {"run_id": "c"}]
    ids = [r["run_id"] for r in filter_runs_by_time(runs, 10, 10)]
    assert ids == ["a", "c"]
    assert [r["run_id"] for r in filter_runs_by_time(runs, 11, None)] == ["b", "c"]
    assert [r["run_id"] for r in filter_runs_by_time(runs, None, 19)] == ["a", "c"]
    assert [r["run_id"] for r in filter_runs_by_time(runs, 0, None)] == ["a", "b", "c"]


def test_filter_schemas_by_status() -> None:
    schemas = [{"status": "completed"}, {"status": "ERROR"}, {"status": None}, {}]
    assert filter_schemas_by_status(schemas, {"COMPLETED"}) == [{"status": "completed"}]
    assert filter_schemas_by_status(schemas, {"ERROR", "PAUSED"}) == [{"status": "ERROR"}]
    assert filter_schemas_by_status(schemas, None) == schemas
    assert set(RUN_STATUSES) == {
        "PENDING",
        "RUNNING",
        "PAUSED",
        "COMPLETED",
        "CANCELLED",
        "ERROR",
        "REGENERATED",
    }


def test_run_preview_truncation_and_json_content() -> None:
    long_input = "é" * 300
    schema = agent_run_schema(
        {"run_id": "r", "agent_id": "a", "input": {"input_content": long_input}, "content": {"k": "ü" * 400}},
        None,
    )
    preview = run_preview(schema)
    assert preview["run_input"] == "é" * 280
    assert preview["content_preview"] == json.dumps({"k": "ü" * 400})[:280]
    assert preview["content_preview"].startswith('{"k": "\\u00fc')
    assert list(preview) == ["run_id", "parent_run_id", "agent_id", "user_id", "run_input", "content_preview"]
    exact = run_preview(team_run_schema({"run_id": "r", "content": "x" * 280, "created_at": 0}))
    assert exact["content_preview"] == "x" * 280
    assert exact["created_at"] == "1970-01-01T00:00:00Z"
    assert "user_id" not in exact  # TeamRunSchema's null user_id is excluded


def test_run_created_at_accepts_iso_strings() -> None:
    assert agent_run_schema({"created_at": "2025-01-01T12:00:00Z"}, None)["created_at"] == "2025-01-01T12:00:00Z"
    assert agent_run_schema({"created_at": "nonsense"}, None)["created_at"] is None


def test_runs_as_the_requested_type_parses_them() -> None:
    """A PATCH with another `type` answers over the runs that type's session class keeps; on a 2.x
    column read without the merge, agent/team sessions keep none when the first entry is not a dict."""
    user = {"id": "m", "role": "user", "content": "hi", "created_at": 1}
    agent_run = {"run_id": "r1", "agent_id": "a1", "messages": [user], "input": {"input_content": "hi"}}
    wf_run = {"run_id": "w1", "workflow_id": "w", "input": "flow input", "messages": [user]}
    runs = [agent_run, wf_run]
    as_workflow = shaping.session_detail(row(), runs, "agent", now=0, new_id=new_id, parsed_as="workflow")
    assert as_workflow["chat_history"] == []
    assert as_workflow["session_name"] == "flow input"
    assert [
        m["content"] for m in shaping.session_detail(row(), runs, "agent", now=0, new_id=new_id)["chat_history"]
    ] == ["hi"]
    unmerged = {**row(), shaping.UNMERGED_LEGACY_RUNS: [None, agent_run]}
    assert shaping.session_detail(unmerged, [agent_run], "agent", now=0, new_id=new_id)["chat_history"] == []
    unmerged_ok = {**row(), shaping.UNMERGED_LEGACY_RUNS: [agent_run, None]}
    assert len(shaping.session_detail(unmerged_ok, [agent_run], "agent", now=0, new_id=new_id)["chat_history"]) == 1


def test_message_media_printed_again_as_agno_media_classes() -> None:
    """Stored media come back in the class's field order (jsonb keeps its own key order), §8.5."""
    ids = iter(["generated-1", "generated-2"])
    message = {
        "role": "user",
        "content": "look",
        "id": "m1",
        "created_at": 1,
        "images": [{"url": "https://x/i.png", "format": "png", "filepath": None}],
        "audio": [{"id": "a1", "transcript": "hi", "url": "https://x/a.wav"}],
        "files": [
            {
                "mime_type": "text/xml",
                "id": "f1",
                "filename": "d.xml",
                "media_reference": {"size": 3, "bucket": None, "storage_key": "k", "media_id": "f1", "x": 1},
            }
        ],
        "videos": [{"content": "AAAA", "id": "v1", "mime_type": "video/mp4"}],
    }
    shaped = shaping.message_to_dict(message, now=5, new_id=lambda: next(ids))
    assert shaped["images"] == [{"id": "generated-1", "url": "https://x/i.png", "format": "png"}]
    assert list(shaped["images"][0]) == ["id", "url", "format"]
    assert list(shaped["audio"][0].items()) == [
        ("id", "a1"),
        ("url", "https://x/a.wav"),
        ("sample_rate", 24000),
        ("channels", 1),
        ("transcript", "hi"),
    ]
    assert list(shaped["files"][0]) == ["id", "mime_type", "filename", "media_reference"]
    assert list(shaped["files"][0]["media_reference"].items()) == [
        ("media_id", "f1"),
        ("storage_key", "k"),
        ("size", 3),
    ]
    assert shaped["videos"] == [{"content": "AAAA", "id": "v1", "mime_type": "video/mp4"}]  # base64: as stored
    assert list(shaped)[-1] == "created_at"
