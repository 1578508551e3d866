"""Write the bench's template sessions through agno's own code (agno==3.1.10).

Runs inside `.venv-agentos` (never imported by the project):

    .venv-agentos/bin/python bench/agno_seed.py --url postgresql+psycopg://postgres@127.0.0.1:PORT/DB \
        [--dataset simple|production]

Creates agno's tables (`PostgresDb._create_all_tables`, so the DDL is agno's), empties the sessions and
runs tables, and writes the templates through `PostgresDb.upsert_sessions(..., preserve_updated_at=True)`
and `PostgresDb.upsert_run(run, session_id, user_id, run_index)` per run:
- simple: one session per kind, shaped like the reference oracle's `seed.py --bulk` sessions (agent/team
  runs: system + user + assistant messages with metrics, RunMetrics, status, metadata; workflow runs:
  input + content);
- production: SHAPES sessions per kind (see the production section below; bench/README.md describes them).

The templates carry markers that `bench/seed.py` replaces, in SQL, for every replicated session:
  @SID@           the zero-padded session number (in session, run and message ids)
  @S<k>@          production only: the template's shape, removed
  987654321       the session number (names, inputs, session_state, metadata.i)
  @C@             the component number (agent/team/workflow id)
  @U@             the user number
  1900000xxx      timestamps (template time 1900000000 plus an offset below 1000 s); the prefix 1900000 is
                  replaced by the session's time / 1000, so every offset is kept
With --numbers 500,502,503 it writes those real sessions instead (into another schema), which bench/seed.py
compares with the replicated rows. Prints one JSON object: {"sessions": [ids], "seconds": S}.
"""

import argparse
import json
import os
import time
from typing import Any

os.environ.setdefault("AGNO_TELEMETRY", "false")

from agno.db.postgres import PostgresDb
from agno.media import File, Image
from agno.media.reference import MediaReference
from agno.metrics import MessageMetrics, RunMetrics
from agno.models.message import Message
from agno.models.response import ToolExecution
from agno.reasoning.step import ReasoningStep
from agno.run.agent import RunInput, RunOutput
from agno.run.base import RunStatus
from agno.run.team import TeamRunInput, TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
from agno.session.summary import SessionSummary
from agno.workflow.types import StepOutput
from sqlalchemy import text

T = 1900000000  # template time; every template timestamp is T + an offset < 1000
N = 987654321  # template session number
BASE = 1740000000  # time of replicated session i: BASE + i * 1000 (bench/seed.py)
KINDS = ("agent", "agent", "team", "workflow")  # kind of session i: KINDS[i % 4]
COMPONENTS = {"agent": 5, "team": 3, "workflow": 2}  # component of session i: i % COMPONENTS[kind]
USERS = 50  # user of session i: i % USERS


class Marks:
    """What varies between sessions: the template's markers, or one real session's values."""

    def __init__(self, sid: str, n: Any, comp: str, user: str, t: int) -> None:
        self.sid, self.n, self.comp, self.user, self.t = sid, n, comp, user, t

    @classmethod
    def template(cls) -> "Marks":
        return cls("@SID@", N, "@C@", "user@U@@example.com", T)

    @classmethod
    def real(cls, i: int) -> "Marks":
        kind = KINDS[i % 4]
        return cls(f"{i:06d}", i, str(i % COMPONENTS[kind]), f"user{i % USERS:03d}@example.com", BASE + i * 1000)


def _messages(rid: str, user_text: str, answer: str, t: int) -> list[Message]:
    return [
        Message(id=f"{rid}-m0", role="system", content="You are a helpful assistant.", created_at=t),
        Message(id=f"{rid}-m1", role="user", content=user_text, created_at=t),
        Message(
            id=f"{rid}-m2",
            role="assistant",
            content=answer,
            created_at=t + 2,
            metrics=MessageMetrics(input_tokens=30, output_tokens=12, total_tokens=42),
        ),
    ]


def _metrics() -> RunMetrics:
    return RunMetrics(input_tokens=30, output_tokens=12, total_tokens=42, duration=1.5)


def agent_session(m: Marks) -> AgentSession:
    sid, aid, n, t0, user = f"bulk-agent-{m.sid}", f"bench-agent-{m.comp}", m.n, m.t, m.user
    runs = []
    for j in range(3):
        rid, question, t = f"{sid}-r{j}", f"Bulk question {j} of session {n}", t0 + j * 60
        answer = f"Answer to: {question}"
        runs.append(
            RunOutput(
                run_id=rid,
                agent_id=aid,
                agent_name=aid,
                session_id=sid,
                user_id=user,
                input=RunInput(input_content=question),
                content=answer,
                model="gpt-4o-mini",
                model_provider="OpenAI",
                messages=_messages(rid, question, answer, t),
                created_at=t,
                metrics=_metrics(),
                status=RunStatus.completed,
                metadata={"source": "seed"},
                session_state={"step": str(j)},
            )
        )
    return AgentSession(
        session_id=sid,
        agent_id=aid,
        user_id=user,
        session_data={
            "session_name": f"Bulk agent session {n}",
            "session_state": {"n": n},
            "session_metrics": {"input_tokens": 90, "output_tokens": 36, "total_tokens": 126},
        },
        metadata={"bulk": True, "i": n},
        agent_data={"name": aid, "agent_id": aid},
        runs=runs,
        created_at=t0,
        updated_at=t0 + 300,
    )


def team_session(m: Marks) -> TeamSession:
    sid, tid, n, t0, user = f"bulk-team-{m.sid}", f"bench-team-{m.comp}", m.n, m.t, m.user
    runs = []
    for j in range(3):
        rid, task, t = f"{sid}-r{j}", f"Bulk team task {j} of session {n}", t0 + j * 60
        answer = f"Team answer to: {task}"
        runs.append(
            TeamRunOutput(
                run_id=rid,
                team_id=tid,
                team_name=tid,
                session_id=sid,
                user_id=user,
                input=TeamRunInput(input_content=task),
                content=answer,
                model="gpt-4o-mini",
                model_provider="OpenAI",
                messages=_messages(rid, task, answer, t),
                created_at=t,
                status=RunStatus.completed,
                metrics=_metrics(),
            )
        )
    return TeamSession(
        session_id=sid,
        team_id=tid,
        user_id=user,
        session_data={"session_name": f"Bulk team session {n}", "session_state": {"n": n}},
        metadata={"bulk": True, "i": n},
        team_data={"name": tid, "team_id": tid},
        runs=runs,
        created_at=t0,
        updated_at=t0 + 300,
    )


def workflow_session(m: Marks) -> WorkflowSession:
    sid, wid, n, t0, user = f"bulk-workflow-{m.sid}", f"bench-workflow-{m.comp}", m.n, m.t, m.user
    runs = [
        WorkflowRunOutput(
            run_id=f"{sid}-r{j}",
            workflow_id=wid,
            workflow_name=wid,
            session_id=sid,
            user_id=user,
            input=f"Bulk wf input {j} of session {n}",
            content=f"Workflow output for: Bulk wf input {j} of session {n}",
            created_at=t0 + j * 60,
            status=RunStatus.completed,
        )
        for j in range(3)
    ]
    return WorkflowSession(
        session_id=sid,
        workflow_id=wid,
        workflow_name=wid,
        user_id=user,
        session_data={"session_name": f"Bulk workflow session {n}", "session_state": {"n": n}},
        metadata={"bulk": True, "i": n},
        workflow_data={"name": wid, "workflow_id": wid},
        runs=runs,
        created_at=t0,
        updated_at=t0 + 300,
    )


# ---------------------------------------------------------------------------------------------------------
# The production-shaped dataset (--dataset production): SHAPES templates per kind, replicated by
# bench/seed.py. Session i: kind KINDS[i % 4], shape (i // 4) % SHAPES, a stored name when
# (i // 48) % 2 == 0 (else the name is derived from the first user message), a summary when
# (i // 96) % 3 == 0. Template ids carry the shape as `@S<k>@` (removed by the replication).
# Runs are 15 s apart so every template timestamp stays below T + 1000.
SHAPES = 12
RUN_COUNTS = (1, 2, 3, 4, 6, 8, 8, 10, 14, 20, 36, 60)  # top-level runs per shape: median 8, 1..60
STATE_KIB = (0, 1, 0, 2, 0, 4, 1, 0, 8, 2, 12, 20)  # session_state size per shape (about; up to 20 KiB)
RUN_SPACING = 15
TOPICS = (
    "Plan a three-day trip to Lisbon for customer {n} with a budget of 1200 EUR, museums and food",
    "Why did invoice {n} get charged twice this month? Please check the billing history",
    "Summarise the attached quarterly report for account {n} and list the three biggest risks",
    "Write a polite follow-up email to supplier {n} about the delayed shipment of order parts",
    "Compare the two pricing plans for workspace {n} and recommend one for a team of 14",
    "Help me debug the failing deployment of service {n}: the health check times out after 30 s",
)
LOREM = (
    "The result below was assembled from the tool output and the earlier conversation. It keeps the "
    "figures as reported, marks assumptions explicitly and lists the next steps in order of impact. "
)


def shape_of(i: int) -> tuple[str, int, bool, bool]:
    """(kind, shape, named, summarised) of production session i."""
    return KINDS[i % 4], (i // 4) % SHAPES, (i // 48) % 2 == 0, (i // 96) % 3 == 0


def _state(n: Any, kib: int) -> dict[str, Any]:
    state: dict[str, Any] = {"customer": n, "locale": "en-GB", "plan": "team"}
    if kib:  # about 80 bytes per item; the count must not depend on n (template and real rows must agree)
        state["cart"] = [
            {"sku": f"SKU-{k:04d}", "qty": k % 5 + 1, "note": f"item {k} for customer {n}, gift wrap"}
            for k in range(kib * 1024 // 80)
        ]
    return state


def _mref(sid: str, rid: str, k: int, kind: str) -> MediaReference:
    name = f"upload-{k}.png" if kind == "image" else f"report-{k}.pdf"
    return MediaReference(
        media_id=f"{rid}-media{k}",
        storage_key=f"sessions/{sid}/{rid}/{name}",
        session_id=sid,
        storage_backend="s3",
        bucket="agno-media",
        region="eu-west-1",
        mime_type="image/png" if kind == "image" else "application/pdf",
        filename=name,
        size=48213 + k,
        content_hash="9f2c" * 16,
        media_type=kind,
    )


def _mm(inp: int, out: int, t: float) -> MessageMetrics:
    return MessageMetrics(
        input_tokens=inp, output_tokens=out, total_tokens=inp + out, duration=1.25, time_to_first_token=0.4
    )


def _rm(inp: int, out: int, reasoning: int = 0) -> RunMetrics:
    return RunMetrics(
        input_tokens=inp,
        output_tokens=out,
        total_tokens=inp + out,
        reasoning_tokens=reasoning,
        duration=2.75,
        time_to_first_token=0.4,
    )


class Turn:
    """One top-level exchange of a production session: messages, tools, reasoning, media."""

    def __init__(self, sid: str, rid: str, n: Any, j: int, t: int, history: list[Message]) -> None:
        topic = TOPICS[j % len(TOPICS)].format(n=n)
        self.question = topic if j == 0 else f"Follow-up {j} on request {n}: {TOPICS[j % len(TOPICS)].format(n=n)}"
        self.answer = f"Here is what I found for request {n} (step {j}). " + LOREM * (2 + j % 3)
        self.style = j % 4  # 0 plain, 1 one tool call, 2 reasoning, 3 two tool calls + media
        self.images: list[Image] = []
        self.files: list[File] = []
        if self.style == 3:
            self.images = [Image(id=f"{rid}-img", media_reference=_mref(sid, rid, 0, "image"))]
            self.files = [File(id=f"{rid}-file", url=f"https://files.example.com/{sid}/report-{j}.pdf")]
        self.tools: list[ToolExecution] = []
        msgs: list[Message] = [
            Message(id=f"{rid}-m0", role="system", content="You are Example Corp's support assistant.", created_at=t)
        ]
        msgs += history
        msgs.append(
            Message(
                id=f"{rid}-m1",
                role="user",
                content=self.question,
                created_at=t,
                images=self.images or None,
                files=self.files or None,
            )
        )
        calls = {0: 0, 1: 1, 2: 0, 3: 2}[self.style]
        for c in range(calls):
            call_id = f"call_{rid}_{c}"
            name = ("search_knowledge_base", "get_account_history")[c % 2]
            args = {"query": f"request {n} step {j}", "limit": 5}
            result = json.dumps(
                [{"id": f"doc-{n}-{j}-{k}", "title": f"Result {k} for request {n}", "snippet": LOREM} for k in range(3)]
            )
            msgs.append(
                Message(
                    id=f"{rid}-tc{c}",
                    role="assistant",
                    content="",
                    tool_calls=[
                        {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                    ],
                    created_at=t + 1,
                    metrics=_mm(180, 24, t),
                )
            )
            msgs.append(
                Message(
                    id=f"{rid}-tr{c}",
                    role="tool",
                    content=result,
                    tool_call_id=call_id,
                    tool_name=name,
                    tool_args=args,
                    created_at=t + 2,
                )
            )
            self.tools.append(
                ToolExecution(
                    tool_call_id=call_id,
                    tool_name=name,
                    tool_args=args,
                    tool_call_error=False,
                    result=result,
                    created_at=t + 1,
                )
            )
        self.reasoning = None
        self.steps: list[ReasoningStep] | None = None
        if self.style == 2:
            self.reasoning = f"The user asks about request {n}. " + LOREM
            self.steps = [
                ReasoningStep(
                    title="Understand the request",
                    action="I will restate the goal",
                    result="Goal clear",
                    reasoning=LOREM,
                    confidence=0.9,
                ),
                ReasoningStep(
                    title="Check constraints",
                    action="I will check budget and dates",
                    result="Within limits",
                    reasoning=LOREM,
                    confidence=0.8,
                ),
            ]
        msgs.append(
            Message(
                id=f"{rid}-m2",
                role="assistant",
                content=self.answer,
                reasoning_content=self.reasoning,
                created_at=t + 3,
                metrics=_mm(420 + 40 * j, 160, t),
            )
        )
        self.messages = msgs

    def history(self, rid: str, t: int) -> list[Message]:
        """This turn's user and assistant messages as agno adds them to the next run (from_history)."""
        return [
            Message(id=f"{rid}-h0", role="user", content=self.question, created_at=t, from_history=True),
            Message(id=f"{rid}-h1", role="assistant", content=self.answer, created_at=t + 3, from_history=True),
        ]


def _session_metrics(runs: int) -> dict[str, Any]:
    inp, out = 600 * runs, 190 * runs
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "total_tokens": inp + out,
        "reasoning_tokens": 40 * runs,
        "details": {
            "model": [
                {
                    "id": "gpt-4o",
                    "provider": "OpenAI Chat",
                    "input_tokens": inp,
                    "output_tokens": out,
                    "total_tokens": inp + out,
                }
            ]
        },
    }


def _session_data(m: Marks, shape: int, named: bool, label: str, runs: int) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if named:
        data["session_name"] = f"{label} {m.n}"
    data["session_state"] = _state(m.n, STATE_KIB[shape])
    data["session_metrics"] = _session_metrics(runs)
    return data


def _summary(m: Marks, summarised: bool) -> SessionSummary | None:
    if not summarised:
        return None
    return SessionSummary(
        summary=f"The user asked for help with request {m.n}; the assistant looked up the history, compared "
        "options and proposed next steps, which the user accepted.",
        topics=["billing", "travel", "deployment"],
    )


def _agent_run(sid: str, rid: str, aid: str, m: Marks, j: int, t: int, turn: Turn, parent: str | None) -> RunOutput:
    return RunOutput(
        run_id=rid,
        agent_id=aid,
        agent_name=aid,
        parent_run_id=parent,
        input=RunInput(input_content=turn.question, images=turn.images or None, files=turn.files or None),
        metrics=_rm(600 + 40 * j, 190, 40 if turn.reasoning else 0),
        **_turn_fields(sid, m, j, t, turn),
    )


def _turn_fields(sid: str, m: Marks, j: int, t: int, turn: Turn) -> dict[str, Any]:
    """What an agent run and a team run of one turn share."""
    return {
        "session_id": sid,
        "user_id": m.user,
        "content": turn.answer,
        "reasoning_content": turn.reasoning,
        "reasoning_steps": turn.steps,
        "model": "gpt-4o",
        "model_provider": "OpenAI",
        "messages": turn.messages,
        "tools": turn.tools or None,
        "created_at": t,
        "status": RunStatus.completed,
        "metadata": {"source": "prod-bench", "step": j},
    }


def prod_agent_session(m: Marks, shape: int, named: bool, summarised: bool) -> AgentSession:
    sid, aid, t0 = f"prod-agent-{m.sid}", f"prod-agent-{m.comp}", m.t
    runs: list[Any] = []
    history: list[Message] = []
    for j in range(RUN_COUNTS[shape]):
        rid, t = f"{sid}-r{j}", t0 + j * RUN_SPACING
        turn = Turn(sid, rid, m.n, j, t, history)
        runs.append(_agent_run(sid, rid, aid, m, j, t, turn, None))
        history = turn.history(rid, t)
    return AgentSession(
        session_id=sid,
        agent_id=aid,
        user_id=m.user,
        session_data=_session_data(m, shape, named, "Support chat", len(runs)),
        metadata={"bench": "production", "i": m.n, "channel": "web"},
        agent_data={"name": aid, "agent_id": aid, "model": {"id": "gpt-4o", "provider": "OpenAI"}},
        summary=_summary(m, summarised),
        runs=runs,
        created_at=t0,
        updated_at=t0 + len(runs) * RUN_SPACING + 5,
    )


def prod_team_session(m: Marks, shape: int, named: bool, summarised: bool) -> TeamSession:
    sid, tid, t0 = f"prod-team-{m.sid}", f"prod-team-{m.comp}", m.t
    runs: list[Any] = []
    history: list[Message] = []
    for j in range(RUN_COUNTS[shape]):
        rid, t = f"{sid}-r{j}", t0 + j * RUN_SPACING
        turn = Turn(sid, rid, m.n, j, t, history)
        members = []
        for k in range(1 + j % 2):
            mid = f"{rid}-member{k}"
            work = Turn(sid, mid, m.n, j + k + 1, t + 1, [])
            members.append(_agent_run(sid, mid, f"prod-member-{k}", m, j, t + 1, work, rid))
        team_run = TeamRunOutput(
            run_id=rid,
            team_id=tid,
            team_name=tid,
            input=TeamRunInput(input_content=turn.question, images=turn.images or None, files=turn.files or None),
            member_responses=members,
            metrics=_rm(900 + 40 * j, 260),
            **_turn_fields(sid, m, j, t, turn),
        )
        runs.append(team_run)
        runs.extend(members)  # member runs follow their team run, parent_run_id set (agno's own order)
        history = turn.history(rid, t)
    top = sum(1 for r in runs if r.parent_run_id is None)
    return TeamSession(
        session_id=sid,
        team_id=tid,
        user_id=m.user,
        session_data=_session_data(m, shape, named, "Team task", top),
        metadata={"bench": "production", "i": m.n},
        team_data={"name": tid, "team_id": tid, "mode": "coordinate"},
        summary=_summary(m, summarised),
        runs=runs,
        created_at=t0,
        updated_at=t0 + top * RUN_SPACING + 5,
    )


def prod_workflow_session(m: Marks, shape: int, named: bool, summarised: bool) -> WorkflowSession:
    sid, wid, t0 = f"prod-workflow-{m.sid}", f"prod-workflow-{m.comp}", m.t
    runs: list[Any] = []
    for j in range(RUN_COUNTS[shape]):
        rid, t = f"{sid}-r{j}", t0 + j * RUN_SPACING
        question = TOPICS[j % len(TOPICS)].format(n=m.n)
        steps = [
            StepOutput(
                step_name=name,
                step_id=f"{rid}-{name}",
                step_type="Step",
                executor_type="agent",
                executor_name=f"{name}-agent",
                content=f"{name} output for request {m.n}. " + LOREM,
                step_run_id=f"{rid}-{name}-run",
                metrics=_rm(300, 120),
            )
            for name in ("research", "write")
        ]
        runs.append(
            WorkflowRunOutput(
                run_id=rid,
                workflow_id=wid,
                workflow_name=wid,
                session_id=sid,
                user_id=m.user,
                input=question,
                content=f"Workflow output for request {m.n}, step {j}. " + LOREM * 2,
                step_results=steps,
                created_at=t,
                status=RunStatus.completed,
                metadata={"source": "prod-bench"},
            )
        )
    data = _session_data(m, shape, named, "Pipeline", len(runs))
    del data["session_metrics"]
    return WorkflowSession(
        session_id=sid,
        workflow_id=wid,
        workflow_name=wid,
        user_id=m.user,
        session_data=data,
        metadata={"bench": "production", "i": m.n},
        workflow_data={"name": wid, "workflow_id": wid, "steps": ["research", "write"]},
        runs=runs,
        created_at=t0,
        updated_at=t0 + len(runs) * RUN_SPACING + 5,
    )


PROD_BUILD = {"agent": prod_agent_session, "team": prod_team_session, "workflow": prod_workflow_session}


def prod_sessions(numbers: list[int]) -> list[Any]:
    """The templates (every kind x shape, named and summarised) or the real sessions `numbers`."""
    if numbers:
        out = []
        for i in numbers:
            kind, shape, named, summarised = shape_of(i)
            out.append(PROD_BUILD[kind](Marks.real(i), shape, named, summarised))
        return out
    return [
        build(Marks(f"@SID@@S{k}@", N, "@C@", "user@U@@example.com", T), k, True, True)
        for build in PROD_BUILD.values()
        for k in range(SHAPES)
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="SQLAlchemy URL (postgresql+psycopg://...)")
    ap.add_argument("--schema", default="ai")
    ap.add_argument("--dataset", choices=["simple", "production"], default="simple")
    ap.add_argument(
        "--numbers",
        default="",
        help="comma-separated session numbers: write these real sessions "
        "(for checking the SQL replication) instead of the templates",
    )
    a = ap.parse_args()
    started = time.time()
    db = PostgresDb(db_url=a.url, id="bench-seed", db_schema=a.schema)
    db._create_all_tables()
    with db.db_engine.begin() as c:
        c.execute(text(f'TRUNCATE "{a.schema}".agno_sessions, "{a.schema}".agno_runs CASCADE'))
    build = {"agent": agent_session, "team": team_session, "workflow": workflow_session}
    numbers = [int(i) for i in a.numbers.split(",")] if a.numbers else []
    if a.dataset == "production":
        sessions = prod_sessions(numbers)
    elif numbers:
        sessions = [build[KINDS[i % 4]](Marks.real(i)) for i in numbers]
    else:
        sessions = [make(Marks.template()) for make in build.values()]
    db.upsert_sessions(sessions, deserialize=False, preserve_updated_at=True)
    for s in sessions:
        for idx, run in enumerate(s.runs or []):
            db.upsert_run(run, session_id=s.session_id, user_id=s.user_id, run_index=idx)
    out = {"sessions": [s.session_id for s in sessions], "seconds": round(time.time() - started, 2)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
