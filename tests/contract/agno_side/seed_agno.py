"""Seed a contract-test database through agno's own objects (agno==3.1.10).

Runs inside `.venv-agentos` (never imported by the project):

    .venv-agentos/bin/python tests/contract/agno_side/seed_agno.py --url postgresql+psycopg://... --kind main

Kinds
  main    the main database: constructed Agent/Team/WorkflowSession objects holding real RunOutput /
          TeamRunOutput / WorkflowRunOutput objects with fixed ids and distinct created_at values, live
          runs (Agent.run / Team.run / Workflow.run with an offline fake model: tool calls, tool messages,
          from_history messages, a team delegation, a two-step workflow), and the mutation twins: every
          session that a mutating case touches exists twice, as `<id>-os` (mutated through AgentOS) and
          `<id>-us` (mutated through agno-session).
  second  the second database of the multi-db servers: a few sessions, some with ids that also exist in
          `main` but with other content (routing by db_id must be visible).
  legacy  a database in the agno 2.x layout: agno's 3.x tables plus a `runs` JSONB column on agno_sessions
          holding run dicts (RunOutput.to_dict()), some of whose runs are also in agno_runs (with other
          content: the table wins) and some not (docs/agentos.md §4).

Rows are written with `PostgresDb.upsert_sessions(..., preserve_updated_at=True)` / `upsert_session` and
`PostgresDb.upsert_run(run, session_id, user_id, run_index)` per run (upsert_session never writes runs).
Raw SQL is used only for states agno cannot produce through its API and that exist in real databases:
the legacy `runs` column, SQL-NULL JSON columns (rows written by older versions or by hand), and a
stored summary with an unknown key. Each such statement is listed in EDGE_SQL below.

Prints one JSON object on stdout: {"sessions": N, "runs": M, "seconds": S}.
"""

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.media import Image
from agno.metrics import MessageMetrics, RunMetrics
from agno.models.message import Message
from agno.models.openai import OpenAIChat
from agno.models.response import ModelResponse, ToolExecution
from agno.run.agent import RunInput, RunOutput
from agno.run.base import RunStatus
from agno.run.team import TeamRunInput, TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
from agno.session.summary import SessionSummary
from agno.team import Team
from agno.workflow import Step, StepInput, StepOutput, Workflow
from sqlalchemy import text

T0 = 1735732800  # 2025-01-01T12:00:00Z
HOUR = 3600
DAY = 86400
MUT = T0 + 200 * DAY  # mutation twins live after every other constructed session

STATUSES = [RunStatus.completed, RunStatus.error, RunStatus.cancelled, RunStatus.paused, RunStatus.running]


# --------------------------------------------------------------------------------------------------------
# run builders
# --------------------------------------------------------------------------------------------------------
def _mm(i: int, o: int, **extra: Any) -> MessageMetrics:
    return MessageMetrics(input_tokens=i, output_tokens=o, total_tokens=i + o, **extra)


def chat(rid: str, user_text: str, answer: str | None, t: int, system: bool = True) -> list[Message]:
    msgs = []
    if system:
        msgs.append(Message(id=f"{rid}-sys", role="system", content="You are a helpful assistant.", created_at=t))
    msgs.append(Message(id=f"{rid}-u", role="user", content=user_text, created_at=t))
    if answer is not None:
        msgs.append(
            Message(
                id=f"{rid}-a",
                role="assistant",
                content=answer,
                created_at=t + 2,
                metrics=_mm(30, 12, duration=0.00001, time_to_first_token=1e-07),
            )
        )
    return msgs


def tool_chat(rid: str, user_text: str, t: int) -> list[Message]:
    """system, user, assistant tool call (no content), tool result, final assistant answer."""
    call = {
        "id": f"{rid}-call",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Lisboa"}'},
    }
    return [
        Message(id=f"{rid}-sys", role="system", content="You can call tools.", created_at=t),
        Message(id=f"{rid}-u", role="user", content=user_text, created_at=t),
        Message(id=f"{rid}-tc", role="assistant", tool_calls=[call], created_at=t + 1, metrics=_mm(40, 9)),
        Message(
            id=f"{rid}-tr",
            role="tool",
            content="21°C and sunny ☀️",
            tool_call_id=f"{rid}-call",
            tool_name="get_weather",
            tool_args={"city": "Lisboa"},
            created_at=t + 1,
        ),
        Message(
            id=f"{rid}-a",
            role="assistant",
            content="It is 21°C and sunny in Lisboa ☀️",
            created_at=t + 2,
            metrics=_mm(60, 11, cache_read_tokens=5, cost=0.0),
        ),
    ]


def history(prev: list[Message]) -> list[Message]:
    """Copies of earlier user/assistant messages as agno replays them (from_history=True)."""
    out = []
    for m in prev:
        if m.role in ("user", "assistant"):
            out.append(
                Message(
                    id=f"{m.id}-h",
                    role=m.role,
                    content=m.content,
                    tool_calls=m.tool_calls,
                    created_at=m.created_at,
                    from_history=True,
                )
            )
    return out


def run_metrics() -> RunMetrics:
    return RunMetrics(input_tokens=30, output_tokens=12, total_tokens=42, duration=1.25, time_to_first_token=0.5)


def agent_run(
    sid: str,
    rid: str,
    agent_id: str,
    uid: str | None,
    text_: str,
    t: int,
    status: RunStatus = RunStatus.completed,
    parent: str | None = None,
    messages: list[Message] | None = None,
    **kw: Any,
) -> RunOutput:
    answer = kw.pop("content", f"Answer to: {text_}")
    return RunOutput(
        run_id=rid,
        agent_id=agent_id,
        agent_name=agent_id.replace("-", " ").title(),
        session_id=sid,
        parent_run_id=parent,
        user_id=uid,
        input=kw.pop("input", RunInput(input_content=text_)),
        content=answer,
        model="gpt-4o-mini",
        model_provider="OpenAI",
        messages=chat(rid, text_, answer if isinstance(answer, str) else None, t) if messages is None else messages,
        created_at=t,
        metrics=run_metrics(),
        status=status,
        **kw,
    )


def team_run(
    sid: str,
    rid: str,
    team_id: str,
    uid: str | None,
    text_: str,
    t: int,
    status: RunStatus = RunStatus.completed,
    messages: list[Message] | None = None,
    **kw: Any,
) -> TeamRunOutput:
    answer = kw.pop("content", f"Team answer to: {text_}")
    return TeamRunOutput(
        run_id=rid,
        team_id=team_id,
        team_name=team_id.replace("-", " ").title(),
        session_id=sid,
        user_id=uid,
        input=kw.pop("input", TeamRunInput(input_content=text_)),
        content=answer,
        model="gpt-4o-mini",
        model_provider="OpenAI",
        messages=chat(rid, text_, answer, t) if messages is None else messages,
        created_at=t,
        status=status,
        metrics=run_metrics(),
        **kw,
    )


def workflow_run(
    sid: str,
    rid: str,
    wf_id: str,
    uid: str | None,
    input_: Any,
    t: int,
    status: RunStatus = RunStatus.completed,
    **kw: Any,
) -> WorkflowRunOutput:
    content = kw.pop("content", f"Workflow output for: {input_}")
    return WorkflowRunOutput(
        run_id=rid,
        workflow_id=wf_id,
        workflow_name=wf_id.replace("-", " ").title(),
        session_id=sid,
        user_id=uid,
        input=input_,
        content=content,
        created_at=t,
        status=status,
        **kw,
    )


def agent_data(agent_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": agent_id.replace("-", " ").title(),
        "agent_id": agent_id,
        "model": {"id": "gpt-4o-mini", "name": "OpenAIChat", "provider": "OpenAI"},
        **extra,
    }


def session_metrics(total: int = 126) -> dict[str, Any]:
    return {
        "input_tokens": total - 36,
        "output_tokens": 36,
        "total_tokens": total,
        "cost": 1e-05,
        "duration": 2.5,
        "details": {
            "model": [
                {
                    "id": "gpt-4o-mini",
                    "provider": "OpenAI",
                    "input_tokens": total - 36,
                    "output_tokens": 36,
                    "total_tokens": total,
                }
            ]
        },
    }


# --------------------------------------------------------------------------------------------------------
# the main database
# --------------------------------------------------------------------------------------------------------
def build_agents() -> list[Any]:
    s: list[Any] = []
    users = ["alice@example.com", "bob@example.com", "carol@example.com", None]
    for i in range(6):
        sid = f"agent-{i:02d}"
        aid = "support-agent" if i % 2 == 0 else "sales-agent"
        uid = users[i % 4]
        t = T0 + i * 5 * DAY
        runs: list[Any] = []
        m0 = chat(f"{sid}-r0", f"Question zero in {sid}", f"Answer zero in {sid}", t)
        runs.append(
            agent_run(
                sid,
                f"{sid}-r0",
                aid,
                uid,
                f"Question zero in {sid}",
                t,
                messages=m0,
                status=STATUSES[i % 5],
                metadata={"source": "seed", "i": i},
                session_state={"step": 0},
            )
        )
        m1 = tool_chat(f"{sid}-r1", f"What is the weather in Lisboa? ({sid})", t + 600)
        runs.append(
            agent_run(
                sid,
                f"{sid}-r1",
                aid,
                uid,
                f"What is the weather in Lisboa? ({sid})",
                t + 600,
                messages=m1,
                status=STATUSES[(i + 1) % 5],
                tools=[
                    ToolExecution(
                        tool_call_id=f"{sid}-r1-call",
                        tool_name="get_weather",
                        tool_args={"city": "Lisboa"},
                        result="21°C and sunny ☀️",
                        created_at=t + 601,
                    )
                ],
                content="It is 21°C and sunny in Lisboa ☀️",
            )
        )
        m2 = history(m0 + m1) + chat(f"{sid}-r2", "And tomorrow? 🌦", "Rain, probably. 🌧", t + 1200, system=False)
        runs.append(
            agent_run(
                sid,
                f"{sid}-r2",
                aid,
                uid,
                "And tomorrow? 🌦",
                t + 1200,
                messages=m2,
                content="Rain, probably. 🌧",
                status=STATUSES[(i + 2) % 5],
            )
        )
        sd: dict[str, Any] = {
            "session_state": {"cart": [f"sku-{i}"], "count": i, "note": None},
            "session_metrics": session_metrics(126 + i),
        }
        if i not in (2, 5):
            sd["session_name"] = "Billing question (café ü) 🚀" if i == 1 else f"Agent conversation {i:02d}"
        if i == 4:
            sd["session_name"] = ""  # an explicitly empty stored name wins over derivation
        meta: dict[str, Any] | None = {
            "priority": ["low", "high"][i % 2],
            "tags": ["seed", aid],
            "ünï": "cødé",
            "big": 12345678901234567890,
        }
        adata = agent_data(aid)
        if i == 2:
            adata["sdk"] = "claude-agent-sdk"
        if i == 3:
            adata["framework"] = "langgraph"
            meta = None
        summary = None
        if i == 0:
            summary = SessionSummary(
                summary="The user asked about the weather. ☀️",
                topics=["weather", "seed"],
                updated_at=datetime(2025, 1, 2, 10, 30, tzinfo=UTC),
            )
        elif i == 3:
            summary = SessionSummary(summary="Only a summary text.")
        s.append(
            AgentSession(
                session_id=sid,
                agent_id=aid,
                user_id=uid,
                session_data=sd,
                metadata=meta,
                agent_data=adata,
                summary=summary,
                runs=runs,
                created_at=t,
                updated_at=None if i == 5 else t + 1800 + i,
            )
        )
    # derived names from odd inputs; long / structured contents; input media
    t = T0 + 31 * DAY
    s.append(
        AgentSession(
            session_id="agent-derived-input",
            agent_id="support-agent",
            user_id="dave@example.com",
            session_data={"session_state": {}},
            agent_data=agent_data("support-agent"),
            runs=[
                agent_run(
                    "agent-derived-input",
                    "agent-derived-input-r0",
                    "support-agent",
                    "dave@example.com",
                    'naïve input 😀 with "quotes"',
                    t,
                    messages=[],
                    content={"answer": 42, "items": ["a", "b"], "nested": {"ok": True}},
                    content_type="json",
                ),
                agent_run(
                    "agent-derived-input",
                    "agent-derived-input-r1",
                    "support-agent",
                    "dave@example.com",
                    "second",
                    t + 60,
                    content="x" * 300 + " long tail ✓",
                    status=RunStatus.error,
                    input=RunInput(
                        input_content="with media", images=[Image(url="https://example.invalid/cat.png", id="img-1")]
                    ),
                ),
                agent_run(
                    "agent-derived-input",
                    "agent-derived-input-r2",
                    "support-agent",
                    "dave@example.com",
                    "ignored",
                    t + 120,
                    input=RunInput(
                        input_content=[
                            {"role": "user", "content": "list input first message"},
                            {"role": "assistant", "content": "x"},
                        ]
                    ),
                ),
                agent_run(
                    "agent-derived-input",
                    "agent-derived-input-r3",
                    "support-agent",
                    "dave@example.com",
                    "ignored",
                    t + 180,
                    input=RunInput(input_content={"question": "dict input", "n": 1}),
                ),
            ],
            created_at=t,
            updated_at=t + 200,
        )
    )
    t = T0 + 33 * DAY
    s.append(
        AgentSession(
            session_id="agent-no-runs-named",
            agent_id="sales-agent",
            user_id="alice@example.com",
            session_data={"session_name": "Named but never run", "session_state": {"fresh": True}},
            metadata={"k": "v"},
            agent_data=agent_data("sales-agent", sdk="openai-agents"),
            created_at=t,
            updated_at=t,
        )
    )
    # no runs, no session_data, no metadata (JSON nulls)
    s.append(
        AgentSession(
            session_id="agent-empty",
            agent_id="support-agent",
            user_id="erin@example.com",
            created_at=T0 + 35 * DAY,
            updated_at=T0 + 35 * DAY,
        )
    )
    # created_at = 0 (1970): list shows 1970, detail omits it
    s.append(
        AgentSession(
            session_id="agent-epoch-zero",
            agent_id="support-agent",
            user_id="erin@example.com",
            session_data={"session_name": "Epoch zero"},
            created_at=0,
            updated_at=None,
        )
    )
    # stored summary with an unknown key (EDGE_SQL): list passes it through, detail 500s in AgentOS
    s.append(
        AgentSession(
            session_id="agent-bad-summary",
            agent_id="support-agent",
            user_id="frank@example.com",
            session_data={"session_name": "Bad summary"},
            summary=SessionSummary(summary="ok", topics=["t"]),
            created_at=T0 + 37 * DAY,
            updated_at=T0 + 37 * DAY + 5,
        )
    )
    # summaries whose updated_at another writer stored as "...Z" / with a space and an offset (EDGE_SQL):
    # the list shows them raw, the detail re-prints them with datetime.isoformat()
    for k, sid in enumerate(("agent-summary-z", "agent-summary-offset")):
        s.append(
            AgentSession(
                session_id=sid,
                agent_id="sales-agent",
                user_id="frank@example.com",
                session_data={"session_name": f"Summary timestamp {k}"},
                summary=SessionSummary(summary=f"summary {k}", topics=["ts"]),
                created_at=T0 + 38 * DAY + k * 60,
                updated_at=T0 + 38 * DAY + k * 60 + 1,
            )
        )
    # SQL-NULL JSON columns (EDGE_SQL), with runs: the name is derived
    t = T0 + 39 * DAY
    s.append(
        AgentSession(
            session_id="agent-sql-null",
            agent_id="sales-agent",
            user_id="frank@example.com",
            session_data={"session_name": "will be NULLed"},
            metadata={"x": 1},
            agent_data=agent_data("sales-agent"),
            runs=[
                agent_run(
                    "agent-sql-null",
                    "agent-sql-null-r0",
                    "sales-agent",
                    "frank@example.com",
                    "Question of a NULL session",
                    t,
                )
            ],
            created_at=t,
            updated_at=t + 1,
        )
    )
    return s


def build_teams() -> list[Any]:
    s: list[Any] = []
    users = ["bob@example.com", "carol@example.com", None, "alice@example.com"]
    for i in range(4):
        sid = f"team-{i:02d}"
        tid = "oracle-team" if i < 2 else "review-team"
        uid = users[i]
        t = T0 + i * 6 * DAY + 7 * HOUR
        runs: list[Any] = []
        if i == 1:  # the member run comes first: derivation must skip it
            runs.append(
                agent_run(sid, f"{sid}-r0-member", "researcher", uid, "Member speaks first", t - 5, parent=f"{sid}-r0")
            )
        for j in range(3):
            rid = f"{sid}-r{j}"
            if i == 2 and j == 0:
                runs.append(
                    team_run(
                        sid,
                        rid,
                        tid,
                        uid,
                        f"Team task {j} in {sid} ✓",
                        t + j * 900,
                        messages=[],
                        status=STATUSES[(i + j) % 5],
                    )
                )
            else:
                runs.append(
                    team_run(sid, rid, tid, uid, f"Team task {j} in {sid} ✓", t + j * 900, status=STATUSES[(i + j) % 5])
                )
            if j == 1:
                runs.append(
                    agent_run(
                        sid,
                        f"{rid}-member",
                        "researcher",
                        uid,
                        f"Member subtask of {rid}",
                        t + j * 900 + 5,
                        parent=rid,
                        metadata={"member": True},
                    )
                )
        if i == 3:  # a run with neither agent_id nor team_id: dropped from team views
            runs.append(workflow_run(sid, f"{sid}-wf-in-team", "stray-workflow", uid, "stray", t + 3000))
        sd: dict[str, Any] = {"session_state": {"topic": f"topic-{i}"}, "session_metrics": session_metrics(168 + i)}
        if i in (0, 3):
            sd["session_name"] = f"Team session {i:02d} — ünïcode"
        s.append(
            TeamSession(
                session_id=sid,
                team_id=tid,
                user_id=uid,
                session_data=sd,
                metadata={"project": "contract", "index": i} if i != 2 else None,
                team_data={
                    "name": tid.replace("-", " ").title(),
                    "team_id": tid,
                    "model": {"id": "gpt-4o-mini", "provider": "OpenAI"},
                },
                summary=SessionSummary(summary=f"Team worked on {sid}.", topics=["team"]) if i == 0 else None,
                runs=runs,
                created_at=t,
                updated_at=None if i == 2 else t + 2700,
            )
        )
    s.append(
        TeamSession(
            session_id="team-empty",
            team_id="review-team",
            user_id="bob@example.com",
            session_data={"session_name": "Empty team"},
            created_at=T0 + 41 * DAY,
            updated_at=T0 + 41 * DAY + 9,
        )
    )
    # SQL-NULL session_data/team_data/metadata/summary (EDGE_SQL)
    s.append(
        TeamSession(
            session_id="team-sql-null",
            team_id="review-team",
            user_id=None,
            session_data={"session_name": "x"},
            team_data={"name": "x"},
            created_at=T0 + 43 * DAY,
            updated_at=None,
        )
    )
    return s


def build_workflows() -> list[Any]:
    s: list[Any] = []
    users = ["carol@example.com", None, "alice@example.com", "dave@example.com", "bob@example.com", None]
    inputs: list[Any] = [
        "Workflow input zero",
        {"query": "dict input ü", "limit": 3},
        ["a", "list"],
        None,
        "Fourth",
        "Fifth",
    ]
    for i in range(6):
        sid = f"workflow-{i:02d}"
        wid = "oracle-workflow" if i % 2 == 0 else "etl-workflow"
        uid = users[i]
        t = T0 + i * 7 * DAY + 13 * HOUR
        runs = []
        if i != 5:
            runs = [
                workflow_run(
                    sid,
                    f"{sid}-r{j}",
                    wid,
                    uid,
                    inputs[i] if j == 0 else f"later input {j}",
                    t + j * 1200,
                    status=STATUSES[(i + j) % 5],
                    content={"out": j} if j == 2 else f"Workflow output {j} ✓",
                    metadata={"wf": True} if j == 1 else None,
                )
                for j in range(3)
            ]
        sd: dict[str, Any] = {"session_state": {"processed": i}}
        if i == 0:
            sd["session_name"] = "Workflow session 00"
        wdata: dict[str, Any] = {
            "name": wid.replace("-", " ").title(),
            "workflow_id": wid,
            "steps": [
                {"name": "normalise", "type": "Step", "description": None},
                {"name": "answer", "type": "Step", "description": "LLM answer"},
            ],
        }
        if i == 3:
            wdata = {"workflow_id": wid}  # no name: "New <name> Session" is not possible
        s.append(
            WorkflowSession(
                session_id=sid,
                workflow_id=wid,
                workflow_name=wdata.get("name"),
                user_id=uid,
                session_data=sd,
                metadata={"env": "test", "i": i} if i != 4 else None,
                workflow_data=wdata,
                runs=runs,
                created_at=t,
                updated_at=None if i == 4 else t + 3600,
            )
        )
    return s


def twin_sessions(suffix: str, offset: int) -> list[Any]:
    """Sessions that the mutating cases act on; built once per twin suffix ("-os" / "-us")."""
    s: list[Any] = []

    def sid(name: str) -> str:
        return f"{name}{suffix}"

    k = 0

    # Runs and messages of both twins share their times; only the sessions' own created_at/updated_at
    # differ (by `offset` seconds), so that no two sessions tie on created_at.
    def t_next() -> int:
        nonlocal k
        k += 1
        return MUT + k * 100

    for name in (
        "mut-agent-rename",
        "mut-agent-patch",
        "mut-agent-patch2",
        "mut-agent-misc",
        "mut-del-a",
        "mut-del-b",
        "mut-del-user",
        "mut-bulk-a",
        "mut-bulk-b",
        "mut-bulk-user",
    ):
        t = t_next()
        i = sid(name)
        s.append(
            AgentSession(
                session_id=i,
                agent_id="support-agent",
                user_id="mut@example.com",
                session_data={
                    "session_name": f"{name} original",
                    "session_state": {"v": 1, "list": [1, 2]},
                    "session_metrics": session_metrics(99),
                },
                metadata={"tag": name, "n": 1},
                agent_data=agent_data("support-agent"),
                summary=SessionSummary(summary=f"summary of {name}", topics=["mut"]),
                runs=[
                    agent_run(i, f"{i}-r0", "support-agent", "mut@example.com", f"First question of {name}", t),
                    agent_run(
                        i,
                        f"{i}-r1",
                        "support-agent",
                        "mut@example.com",
                        "Second question",
                        t + 50,
                        messages=tool_chat(f"{i}-r1", "Second question", t + 50),
                    ),
                ],
                created_at=t + offset,
                updated_at=t + 10 + offset,
            )
        )
    for name in ("mut-team-rename", "mut-team-patch"):
        t = t_next()
        i = sid(name)
        s.append(
            TeamSession(
                session_id=i,
                team_id="oracle-team",
                user_id="mut@example.com",
                session_data={"session_name": f"{name} original", "session_state": {"topic": "x"}},
                metadata={"tag": name},
                team_data={"name": "Oracle Team", "team_id": "oracle-team"},
                runs=[
                    team_run(i, f"{i}-r0", "oracle-team", "mut@example.com", f"Team question of {name}", t),
                    agent_run(i, f"{i}-r0-member", "researcher", "mut@example.com", "member", t + 3, parent=f"{i}-r0"),
                ],
                created_at=t + offset,
                updated_at=t + 10 + offset,
            )
        )
    for name in ("mut-wf-rename", "mut-wf-patch"):
        t = t_next()
        i = sid(name)
        s.append(
            WorkflowSession(
                session_id=i,
                workflow_id="oracle-workflow",
                workflow_name="Oracle Workflow",
                user_id="mut@example.com",
                session_data={"session_name": f"{name} original", "session_state": {"p": 0}},
                metadata={"tag": name},
                workflow_data={"name": "Oracle Workflow", "workflow_id": "oracle-workflow"},
                runs=[workflow_run(i, f"{i}-r0", "oracle-workflow", "mut@example.com", f"wf input of {name}", t)],
                created_at=t + offset,
                updated_at=t + 10 + offset,
            )
        )
    # session_data JSON null (agno writes None as JSON null): rename -> 500 DataError in AgentOS
    for name in ("mut-json-null", "mut-json-null-patch"):
        t = t_next()
        s.append(
            AgentSession(
                session_id=sid(name), agent_id="sales-agent", user_id=None, created_at=t + offset, updated_at=t + offset
            )
        )
    # session_data SQL NULL (EDGE_SQL): rename -> 200 in AgentOS, but the name is lost; PATCH works
    for name in ("mut-sql-null", "mut-sql-null-patch"):
        t = t_next()
        s.append(
            AgentSession(
                session_id=sid(name),
                agent_id="sales-agent",
                user_id=None,
                session_data={"session_name": "to be NULLed"},
                created_at=t + offset,
                updated_at=t + offset,
            )
        )
    # PATCHed with a `type` other than the stored one: no stored name, so the answer's derived name shows
    # which runs the requested type's session class kept
    t = t_next()
    i = sid("mut-type-agent")
    s.append(
        AgentSession(
            session_id=i,
            agent_id="support-agent",
            user_id="mut@example.com",
            session_data={"session_state": {"k": 1}},
            agent_data=agent_data("support-agent"),
            runs=[agent_run(i, f"{i}-r0", "support-agent", "mut@example.com", "Typed question", t)],
            created_at=t + offset,
            updated_at=t + 10 + offset,
        )
    )
    t = t_next()
    i = sid("mut-type-team")
    s.append(
        TeamSession(
            session_id=i,
            team_id="oracle-team",
            user_id="mut@example.com",
            team_data={"name": "Oracle Team"},
            runs=[
                team_run(i, f"{i}-r0", "oracle-team", "mut@example.com", "Typed team question", t),
                agent_run(i, f"{i}-r0-member", "researcher", "mut@example.com", "member", t + 3, parent=f"{i}-r0"),
            ],
            created_at=t + offset,
            updated_at=t + 10 + offset,
        )
    )
    t = t_next()
    i = sid("mut-type-wf")
    s.append(
        WorkflowSession(
            session_id=i,
            workflow_id="oracle-workflow",
            user_id="mut@example.com",
            workflow_data={"name": "Oracle Workflow"},
            runs=[workflow_run(i, f"{i}-r0", "oracle-workflow", "mut@example.com", {"typed": True}, t)],
            created_at=t + offset,
            updated_at=t + 10 + offset,
        )
    )
    return s


# --------------------------------------------------------------------------------------------------------
# live runs through Agent.run / Team.run / Workflow.run with an offline model
# --------------------------------------------------------------------------------------------------------
@dataclass
class OfflineChat(OpenAIChat):
    """An OpenAIChat that never touches the network: canned answers, one tool call, one delegation."""

    id: str = "gpt-4o-mini"
    name: str = "OpenAIChat"
    provider: str = "OpenAI"
    api_key: str | None = "sk-offline"

    def _answer(self, messages: list[Message], tools: list[dict[str, Any]] | None) -> ModelResponse:
        last = messages[-1]
        names = [t.get("function", {}).get("name") for t in (tools or []) if isinstance(t, dict)]
        resp = ModelResponse(role="assistant")
        txt = str(last.content or "")
        if last.role == "user" and "delegate_task_to_member" in names and "research" in txt.lower():
            resp.tool_calls = [
                {
                    "id": "call_delegate_1",
                    "type": "function",
                    "function": {
                        "name": "delegate_task_to_member",
                        "arguments": '{"member_id": "researcher", "task": "Find three facts about JSONB."}',
                    },
                }
            ]
        elif last.role == "user" and "get_weather" in names and "weather" in txt.lower():
            resp.tool_calls = [
                {
                    "id": "call_weather_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Zürich"}'},
                }
            ]
        elif last.role == "tool":
            resp.content = f"Based on the tool: {txt[:100]}"
        else:
            resp.content = f"Offline echo: {txt[:200]}"
        n_in = sum(len(str(m.content or "")) for m in messages) // 4 + 10
        n_out = len(str(resp.content or "")) // 4 + 5
        resp.response_usage = MessageMetrics(input_tokens=n_in, output_tokens=n_out, total_tokens=n_in + n_out)
        return resp

    def invoke(
        self,
        messages,
        assistant_message,
        response_format=None,
        tools=None,
        tool_choice=None,  # type: ignore[no-untyped-def]
        run_response=None,
        compress_tool_results=False,
        **kwargs,
    ):
        return self._answer(messages, tools)

    async def ainvoke(
        self,
        messages,
        assistant_message,
        response_format=None,
        tools=None,
        tool_choice=None,  # type: ignore[no-untyped-def]
        run_response=None,
        compress_tool_results=False,
        **kwargs,
    ):
        return self._answer(messages, tools)

    def invoke_stream(self, *args, **kwargs) -> Iterator[ModelResponse]:  # type: ignore[no-untyped-def]
        yield self.invoke(*args, **kwargs)

    async def ainvoke_stream(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        yield self.invoke(*args, **kwargs)


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city name
    """
    return f"It is 21°C and sunny in {city}."


def seed_live(db: PostgresDb) -> None:
    # Each live session starts in its own second (created_at = now; no sort tie-breaker in AgentOS).
    def tick() -> None:
        time.sleep(1.0 - (time.time() % 1.0) + 0.02)

    agent = Agent(
        id="live-agent",
        name="Live Agent",
        model=OfflineChat(),
        db=db,
        tools=[get_weather],
        session_state={"visits": 0},
        add_history_to_context=True,
        metadata={"team": "platform"},
        telemetry=False,
    )
    tick()
    sid = "live-agent-1"
    agent.run(
        "Hello, who are you? 👋",
        session_id=sid,
        user_id="alice@example.com",
        run_id="live-agent-1-r0",
        session_state={"visits": 1},
    )
    agent.run("What is the weather in Zürich?", session_id=sid, user_id="alice@example.com", run_id="live-agent-1-r1")
    agent.run(
        "Thanks! Summarise.",
        session_id=sid,
        user_id="alice@example.com",
        run_id="live-agent-1-r2",
        metadata={"channel": "web"},
    )
    researcher = Agent(id="researcher", name="Researcher", role="Finds facts", model=OfflineChat(), telemetry=False)
    writer = Agent(id="writer", name="Writer", role="Writes prose", model=OfflineChat(), telemetry=False)
    team = Team(
        id="live-team",
        name="Live Team",
        model=OfflineChat(),
        members=[researcher, writer],
        db=db,
        session_state={"topic": None},
        telemetry=False,
    )
    tick()
    tsid = "live-team-1"
    team.run("Good morning team", session_id=tsid, user_id="carol@example.com", run_id="live-team-1-r0")
    team.run("Please research JSONB for me", session_id=tsid, user_id="carol@example.com", run_id="live-team-1-r1")

    def normalise(step_input: StepInput) -> StepOutput:
        return StepOutput(content=f"normalised: {str(step_input.input).strip().lower()}")

    workflow = Workflow(
        id="live-workflow",
        name="Live Workflow",
        description="Normalise then answer",
        db=db,
        steps=[
            Step(name="normalise", executor=normalise),
            Step(name="answer", agent=Agent(id="wf-answerer", name="Answerer", model=OfflineChat(), telemetry=False)),
        ],
        session_state={"processed": 0},
        telemetry=False,
    )
    tick()
    workflow.run(
        "  First INPUT  ", session_id="live-workflow-1", user_id="dave@example.com", run_id="live-workflow-1-r0"
    )
    workflow.run("Second input", session_id="live-workflow-1", user_id="dave@example.com", run_id="live-workflow-1-r1")


# --------------------------------------------------------------------------------------------------------
# the second database and the legacy layout
# --------------------------------------------------------------------------------------------------------
def build_second() -> list[Any]:
    t = T0 + 300 * DAY
    sid = "agent-00"  # same id as in main, other content
    return [
        AgentSession(
            session_id=sid,
            agent_id="b-agent",
            user_id="bob@example.com",
            session_data={"session_name": "Agent 00 in database B"},
            agent_data=agent_data("b-agent"),
            runs=[agent_run(sid, "b-agent-00-r0", "b-agent", "bob@example.com", "Question in B", t)],
            created_at=t,
            updated_at=t + 1,
        ),
        TeamSession(
            session_id="b-team-only",
            team_id="b-team",
            user_id="bob@example.com",
            session_data={"session_state": {"b": True}},
            runs=[team_run("b-team-only", "b-team-only-r0", "b-team", "bob@example.com", "Team in B", t + 10)],
            created_at=t + 10,
            updated_at=t + 11,
        ),
        WorkflowSession(
            session_id="b-workflow-only",
            workflow_id="b-wf",
            user_id=None,
            runs=[workflow_run("b-workflow-only", "b-wf-r0", "b-wf", None, "wf input in B", t + 20)],
            created_at=t + 20,
            updated_at=None,
        ),
    ]


def build_legacy() -> "tuple[list[Any], dict[str, Any]]":
    """Sessions (with only their agno_runs rows as `runs`) + the legacy `runs` column value per session."""
    t = T0 + 400 * DAY
    uid = "legacy@example.com"
    sessions: list[Any] = []
    blobs: dict[str, Any] = {}

    # legacy [r0, r1, r2]; table: r1 (other content: the table wins) and r3 (table-only, appended)
    sid = "leg-agent-mixed"
    lr = [agent_run(sid, f"{sid}-r{j}", "legacy-agent", uid, f"Legacy question {j}", t + j * 60) for j in range(3)]
    tr = [
        agent_run(
            sid,
            f"{sid}-r1",
            "legacy-agent",
            uid,
            "Migrated question 1",
            t + 60,
            status=RunStatus.error,
            content="table version of r1",
        ),
        agent_run(sid, f"{sid}-r3", "legacy-agent", uid, "Table-only question 3", t + 240),
    ]
    sessions.append(
        AgentSession(
            session_id=sid,
            agent_id="legacy-agent",
            user_id=uid,
            session_data={"session_state": {"legacy": True}},
            agent_data=agent_data("legacy-agent"),
            runs=tr,
            created_at=t,
            updated_at=t + 300,
        )
    )
    blobs[sid] = [r.to_dict() for r in lr]

    # only legacy runs (nothing in agno_runs); the name is derived from the legacy blob
    sid = "leg-agent-only-blob"
    lr = [
        agent_run(sid, f"{sid}-r{j}", "legacy-agent", None, f"Blob-only question {j} ü", t + 1000 + j) for j in range(2)
    ]
    sessions.append(
        AgentSession(
            session_id=sid,
            agent_id="legacy-agent",
            user_id=None,
            runs=[],
            session_data={"session_metrics": session_metrics(7)},
            created_at=t + 1000,
            updated_at=None,
        )
    )
    blobs[sid] = [r.to_dict() for r in lr]

    # team: legacy team run + member run; table has a later team run
    sid = "leg-team"
    lr = [
        agent_run(sid, f"{sid}-r0-member", "researcher", uid, "legacy member", t + 2000, parent=f"{sid}-r0"),
        team_run(sid, f"{sid}-r0", "legacy-team", uid, "Legacy team question", t + 2001),
    ]
    tr = [team_run(sid, f"{sid}-r1", "legacy-team", uid, "Table team question", t + 2100)]
    sessions.append(
        TeamSession(
            session_id=sid,
            team_id="legacy-team",
            user_id=uid,
            session_data={"session_state": {}},
            team_data={"name": "Legacy Team"},
            runs=tr,
            created_at=t + 2000,
            updated_at=t + 2200,
        )
    )
    blobs[sid] = [r.to_dict() for r in lr]

    # workflow: legacy runs only, first input is a dict
    sid = "leg-workflow"
    lr = [
        workflow_run(sid, f"{sid}-r{j}", "legacy-wf", uid, {"legacy": j} if j == 0 else f"input {j}", t + 3000 + j)
        for j in range(2)
    ]
    sessions.append(
        WorkflowSession(
            session_id=sid,
            workflow_id="legacy-wf",
            user_id=uid,
            workflow_data={"name": "Legacy WF"},
            runs=[],
            created_at=t + 3000,
            updated_at=t + 3100,
        )
    )
    blobs[sid] = [r.to_dict() for r in lr]

    # the blob stored as a JSON *string* holding the list (parsed before merging)
    sid = "leg-agent-string-blob"
    lr = [agent_run(sid, f"{sid}-r0", "legacy-agent", uid, "From a string blob", t + 4000)]
    sessions.append(
        AgentSession(
            session_id=sid, agent_id="legacy-agent", user_id=uid, runs=[], created_at=t + 4000, updated_at=t + 4001
        )
    )
    blobs[sid] = json.dumps([r.to_dict() for r in lr])

    # junk entries: non-dicts and dicts without run_id are dropped (an empty run_id is kept); table-only
    # run appended
    sid = "leg-agent-junk"
    good = agent_run(sid, f"{sid}-r0", "legacy-agent", uid, "Good legacy run", t + 5000)
    tr = [agent_run(sid, f"{sid}-r9", "legacy-agent", uid, "Table run after junk", t + 5100)]
    sessions.append(
        AgentSession(
            session_id=sid,
            agent_id="legacy-agent",
            user_id=uid,
            runs=tr,
            session_data={"session_name": "Junk blob"},
            created_at=t + 5000,
            updated_at=t + 5001,
        )
    )
    empty_id = agent_run(sid, "", "legacy-agent", uid, "Legacy run with an empty run_id", t + 4999).to_dict()
    blobs[sid] = [42, "text", None, {"no_run_id": True, "agent_id": "legacy-agent"}, empty_id, good.to_dict()]

    # empty legacy list + table runs; and a fully migrated session (column NULL)
    sid = "leg-agent-empty-blob"
    sessions.append(
        AgentSession(
            session_id=sid,
            agent_id="legacy-agent",
            user_id=uid,
            created_at=t + 6000,
            updated_at=t + 6001,
            runs=[agent_run(sid, f"{sid}-r0", "legacy-agent", uid, "Only in the table", t + 6000)],
        )
    )
    blobs[sid] = []
    sid = "leg-agent-migrated"
    sessions.append(
        AgentSession(
            session_id=sid,
            agent_id="legacy-agent",
            user_id=uid,
            created_at=t + 7000,
            updated_at=t + 7001,
            runs=[agent_run(sid, f"{sid}-r0", "legacy-agent", uid, "Migrated run", t + 7000)],
        )
    )
    # mutation twins in the legacy layout (renamed / patched through each service)
    for suffix, off in (("-os", 0), ("-us", 1)):
        sid = f"leg-mut{suffix}"
        lr = [agent_run(sid, f"{sid}-r0", "legacy-agent", uid, "Legacy twin question", t + 8000)]
        tr = [agent_run(sid, f"{sid}-r1", "legacy-agent", uid, "Table twin question", t + 8060)]
        sessions.append(
            AgentSession(
                session_id=sid,
                agent_id="legacy-agent",
                user_id=uid,
                runs=tr,
                session_data={"session_state": {"twin": True}},
                metadata={"m": 1},
                created_at=t + 8000 + off,
                updated_at=t + 8100 + off,
            )
        )
        blobs[sid] = [r.to_dict() for r in lr]
    return sessions, blobs


def build_legacy_2x() -> "tuple[list[Any], dict[str, Any]]":
    """An agno 2.x database that was never migrated: agno_sessions with its `runs` JSONB column and NO
    agno_runs table. Sessions (written with runs=[]) + the `runs` column value per session; the blobs
    hold RunOutput.to_dict() dicts, and the shapes a 2.x column holds that agno cannot parse."""
    t = T0 + 450 * DAY
    uid = "old@example.com"
    sessions: list[Any] = []
    blobs: dict[str, Any] = {}

    def agent_session(sid: str, off: int, **kw: Any) -> AgentSession:
        kw.setdefault("agent_id", "old-agent")
        kw.setdefault("user_id", uid)
        kw.setdefault("agent_data", agent_data("old-agent"))
        return AgentSession(session_id=sid, runs=[], created_at=t + off, updated_at=t + off + 5, **kw)

    def runs_of(sid: str, n: int, off: int, **kw: Any) -> list[dict[str, Any]]:
        return [
            agent_run(
                sid, f"{sid}-r{j}", "old-agent", uid, f"Old question {j} of {sid}", t + off + j * 10, **kw
            ).to_dict()
            for j in range(n)
        ]

    # well-formed blobs: agent (derived name), named, team with a member run, workflow with a dict input
    sessions.append(agent_session("old-agent", 0, session_data={"session_state": {"old": True}}))
    blobs["old-agent"] = runs_of("old-agent", 3, 0)
    blobs["old-agent"][1]["status"] = "ERROR"
    sessions.append(agent_session("old-agent-named", 100, session_data={"session_name": "Old named"}))
    blobs["old-agent-named"] = runs_of("old-agent-named", 1, 100)
    sid = "old-team"
    sessions.append(
        TeamSession(
            session_id=sid,
            team_id="old-team",
            user_id=uid,
            team_data={"name": "Old Team"},
            runs=[],
            created_at=t + 200,
            updated_at=t + 205,
        )
    )
    blobs[sid] = [
        agent_run(sid, f"{sid}-r0-member", "researcher", uid, "old member", t + 200, parent=f"{sid}-r0").to_dict(),
        team_run(sid, f"{sid}-r0", "old-team", uid, "Old team question", t + 201).to_dict(),
    ]
    sid = "old-workflow"
    sessions.append(
        WorkflowSession(
            session_id=sid,
            workflow_id="old-wf",
            user_id=uid,
            workflow_data={"name": "Old WF"},
            runs=[],
            created_at=t + 300,
            updated_at=t + 305,
        )
    )
    blobs[sid] = [
        workflow_run(sid, f"{sid}-r{j}", "old-wf", uid, {"old": j} if j == 0 else f"in {j}", t + 300 + j).to_dict()
        for j in range(2)
    ]
    # what agno cannot parse (its session classes keep runs only when the first entry is a dict, and then
    # only dicts with an agent_id or team_id key; a string is not parsed without the runs table):
    sessions.append(agent_session("old-string-blob", 400, session_data={"session_name": "String blob"}))
    blobs["old-string-blob"] = json.dumps(runs_of("old-string-blob", 1, 400))
    sessions.append(agent_session("old-junk-first", 500, session_data={"session_name": "Junk first"}))
    blobs["old-junk-first"] = [42, "text", None, *runs_of("old-junk-first", 1, 500)]
    sessions.append(agent_session("old-junk-after", 600))
    blobs["old-junk-after"] = [
        *runs_of("old-junk-after", 1, 600),
        "text",
        {"run_id": "old-junk-after-no-ids", "content": "no agent_id or team_id"},
        {"agent_id": "old-agent", "content": "no run_id", "messages": []},
    ]
    sessions.append(agent_session("old-empty-blob", 700))
    blobs["old-empty-blob"] = []
    sessions.append(agent_session("old-null-blob", 800, session_data={"session_state": {"n": 0}}))
    sessions.append(agent_session("old-empty-string-blob", 900))
    blobs["old-empty-string-blob"] = ""
    sessions.append(agent_session("old-null-named", 1000, session_data={"session_name": "Null blob, named"}))
    blobs["old-null-named"] = None  # JSON null (the SQL-NULL one is old-null-blob)
    # mutation twins
    for suffix, off in (("-os", 0), ("-us", 1)):
        for k, name in enumerate(("old-mut-rename", "old-mut-patch", "old-mut-del", "old-mut-bulk", "old-mut-type")):
            sid = f"{name}{suffix}"
            sessions.append(
                agent_session(
                    sid,
                    2000 + k * 100 + off,
                    session_data={"session_name": f"{name} original", "session_state": {"v": 1}},
                    metadata={"m": 1},
                    summary=SessionSummary(summary=f"summary of {name}", topics=["old"]),
                )
            )
            blobs[sid] = [
                agent_run(
                    sid, f"{sid}-r{j}", "old-agent", uid, f"Old twin question {j}", t + 2000 + k * 100 + j
                ).to_dict()
                for j in range(2)
            ]
        # a JSON null first (agno's session classes then keep no run; its list skips the null) and no name
        sid = f"old-mut-nullfirst{suffix}"
        sessions.append(agent_session(sid, 3000 + off, metadata={"m": 2}))
        blobs[sid] = [None, agent_run(sid, f"{sid}-r0", "old-agent", uid, "After a null", t + 3000).to_dict()]
    return sessions, blobs


def build_edge() -> list[Any]:
    """Rows AgentOS cannot render (documented divergences): kept out of the other databases' lists."""
    t = T0 + 500 * DAY
    sid = "edge-multimodal"
    content = [
        {"type": "text", "text": "Describe this image"},
        {"type": "image_url", "image_url": {"url": "https://example.invalid/x.png"}},
    ]
    msgs = [
        Message(id=f"{sid}-r0-u", role="user", content=content, created_at=t),
        Message(id=f"{sid}-r0-a", role="assistant", content="A cat.", created_at=t + 1),
    ]
    return [
        AgentSession(
            session_id=sid,
            agent_id="edge-agent",
            user_id="edge@example.com",
            runs=[
                agent_run(
                    sid,
                    f"{sid}-r0",
                    "edge-agent",
                    "edge@example.com",
                    "Describe this image",
                    t,
                    messages=msgs,
                    content="A cat.",
                )
            ],
            created_at=t,
            updated_at=t + 1,
        ),
        AgentSession(
            session_id="edge-ok",
            agent_id="edge-agent",
            user_id="edge@example.com",
            session_data={"session_name": "Edge OK", "session_state": {"n": 1}},
            created_at=t + 10,
            updated_at=t + 11,
        ),
    ]


# --------------------------------------------------------------------------------------------------------
def write(db: PostgresDb, sessions: list[Any], single: bool = False) -> None:
    if single:  # PostgresDb.upsert_session, one by one: sets updated_at = created_at on insert
        for s in sessions:
            db.upsert_session(s)
    else:
        db.upsert_sessions(sessions, deserialize=False, preserve_updated_at=True)
    for s in sessions:
        for idx, run in enumerate(s.runs or []):
            db.upsert_run(run, session_id=s.session_id, user_id=s.user_id, run_index=idx)


EDGE_SQL = [
    # a stored summary with an unknown key (written by another tool / version)
    "UPDATE ai.agno_sessions SET summary = summary || '{\"confidence\": 0.9}' WHERE session_id = 'agent-bad-summary'",
    # summary timestamps in other ISO spellings
    'UPDATE ai.agno_sessions SET summary = summary || \'{"updated_at": "2025-03-04T05:06:07.5Z"}\' '
    "WHERE session_id = 'agent-summary-z'",
    'UPDATE ai.agno_sessions SET summary = summary || \'{"updated_at": "2025-03-04 07:06:07+02:00"}\' '
    "WHERE session_id = 'agent-summary-offset'",
    # SQL-NULL JSON columns (rows written before agno named every column, or by hand)
    "UPDATE ai.agno_sessions SET session_data = NULL, metadata = NULL WHERE session_id = 'agent-sql-null'",
    "UPDATE ai.agno_sessions SET session_data = NULL, team_data = NULL, metadata = NULL, summary = NULL "
    "WHERE session_id = 'team-sql-null'",
    "UPDATE ai.agno_sessions SET session_data = NULL WHERE session_id LIKE 'mut-sql-null%'",
    # NULL updated_at on a workflow row (WorkflowSession always fills updated_at itself)
    "UPDATE ai.agno_sessions SET updated_at = NULL WHERE session_id = 'workflow-04'",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="postgresql+psycopg:// URL")
    ap.add_argument("--kind", choices=["main", "second", "legacy", "edge", "legacy2x"], required=True)
    ap.add_argument("--db-id", default="contract")
    ap.add_argument("--no-live", action="store_true", help="skip the live Agent/Team/Workflow runs")
    a = ap.parse_args()
    started = time.time()
    db = PostgresDb(db_url=a.url, id=a.db_id)
    if a.kind == "legacy2x":  # no agno_runs table: only the sessions table (upsert creates it) + `runs`
        sessions, blobs = build_legacy_2x()
        db.upsert_sessions(sessions, deserialize=False, preserve_updated_at=True)
        with db.db_engine.begin() as c:
            c.execute(text("ALTER TABLE ai.agno_sessions ADD COLUMN IF NOT EXISTS runs jsonb"))
            for sid, blob in blobs.items():
                c.execute(
                    text("UPDATE ai.agno_sessions SET runs = CAST(:b AS jsonb) WHERE session_id = :s"),
                    {"b": json.dumps(blob), "s": sid},
                )
        with db.db_engine.connect() as c:
            exists = c.execute(text("SELECT to_regclass('ai.agno_runs') IS NOT NULL")).scalar()
            n_s = c.execute(text("SELECT count(*) FROM ai.agno_sessions")).scalar()
        assert not exists, "the 2.x database must have no agno_runs table"
        n_r = sum(len(b) for b in blobs.values() if isinstance(b, list))
        json.dump({"sessions": n_s, "runs": n_r, "seconds": round(time.time() - started, 1)}, sys.stdout)
        print()
        return
    db._create_all_tables()
    sessions: list[Any] = []
    if a.kind == "main":
        sessions = build_agents() + build_teams() + build_workflows()
        write(db, sessions)
        twins = twin_sessions("-os", 0) + twin_sessions("-us", 1)
        write(db, twins)
        sessions += twins
        with db.db_engine.begin() as c:
            for stmt in EDGE_SQL:
                c.execute(text(stmt))
        if not a.no_live:
            seed_live(db)
    elif a.kind == "second":
        sessions = build_second()
        write(db, sessions, single=True)
    elif a.kind == "edge":
        sessions = build_edge()
        write(db, sessions)
    else:
        sessions, blobs = build_legacy()
        write(db, sessions)
        with db.db_engine.begin() as c:
            c.execute(text("ALTER TABLE ai.agno_sessions ADD COLUMN IF NOT EXISTS runs jsonb"))
            for sid, blob in blobs.items():
                c.execute(
                    text("UPDATE ai.agno_sessions SET runs = CAST(:b AS jsonb) WHERE session_id = :s"),
                    {"b": json.dumps(blob), "s": sid},
                )
    with db.db_engine.connect() as c:
        counts = c.execute(text("SELECT (SELECT count(*) FROM ai.agno_sessions), (SELECT count(*) FROM ai.agno_runs)"))
        n_s, n_r = counts.one()
    json.dump({"sessions": n_s, "runs": n_r, "seconds": round(time.time() - started, 1)}, sys.stdout)
    print()


if __name__ == "__main__":
    main()
