"""Write the bench's template sessions through agno's own code (agno==3.1.10).

Runs inside `.venv-agentos` (never imported by the project):

    .venv-agentos/bin/python bench/agno_seed.py --url postgresql+psycopg://postgres@127.0.0.1:PORT/DB

Creates agno's tables (`PostgresDb._create_all_tables`, so the DDL is agno's), empties the sessions and
runs tables, and writes one template session per kind, shaped like the reference oracle's `seed.py --bulk`
sessions (agent/team runs: system + user + assistant messages with metrics, RunMetrics, status, metadata;
workflow runs: input + content), through `PostgresDb.upsert_sessions(..., preserve_updated_at=True)` and
`PostgresDb.upsert_run(run, session_id, user_id, run_index)` per run.

The templates carry markers that `bench/seed.py` replaces, in SQL, for every replicated session:
  @SID@           the zero-padded session number (in session, run and message ids)
  987654321       the session number (names, inputs, session_state.n, metadata.i)
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
from agno.metrics import MessageMetrics, RunMetrics
from agno.models.message import Message
from agno.run.agent import RunInput, RunOutput
from agno.run.base import RunStatus
from agno.run.team import TeamRunInput, TeamRunOutput
from agno.run.workflow import WorkflowRunOutput
from agno.session import AgentSession, TeamSession, WorkflowSession
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="SQLAlchemy URL (postgresql+psycopg://...)")
    ap.add_argument("--schema", default="ai")
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
    if a.numbers:
        sessions = [build[KINDS[i % 4]](Marks.real(i)) for i in map(int, a.numbers.split(","))]
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
