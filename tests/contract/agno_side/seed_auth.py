"""Seeds the auth pair's database through agno 3.1.10 itself (runs in the AgentOS venv).

Sessions owned by two users (alice, bob), by nobody and by a service account, each with one run;
twins (`-os` / `-us`) of alice's sessions for the mutating cases; and service-account tokens minted
with agno's own `generate_token` and stored with `PostgresDb.create_service_account`, exactly as
AgentOS's `/service-accounts` API stores them. Prints one JSON line: counts and the plaintext tokens.

    python seed_auth.py --url postgresql+psycopg://... --db-id contract-auth
"""

import argparse
import json
import time
import uuid

from agno.db.postgres import PostgresDb
from agno.os.service_accounts import generate_token, hash_token
from agno.run.agent import RunInput, RunOutput
from agno.session import AgentSession
from sqlalchemy import text

T0 = 1_760_000_000
OWNERS = {
    "alice": "alice@example.com",
    "bob": "bob@example.com",
    "nobody": None,
    "bot": "sa:reader-bot",
}
TWINS = ("rename", "patch", "delete", "bulk", "foreign")
PATS = {
    # name: (scopes, expires_in, revoked)
    "reader-bot": (["sessions:read"], 3600, False),
    "writer-bot": (["sessions:read", "sessions:write"], 3600, False),
    "admin-bot": (["agent_os:admin"], 3600, False),
    "wild-bot": (["sessions:*:read", "sessions:*:delete"], 3600, False),
    "revoked-bot": (["sessions:read"], 3600, True),
    "expired-bot": (["sessions:read"], -60, False),
}


def session(sid: str, user_id: "str | None", t: int) -> AgentSession:
    run = RunOutput(
        run_id=f"{sid}-r0",
        agent_id="auth-agent",
        session_id=sid,
        user_id=user_id,
        input=RunInput(input_content=f"Hello from {sid}"),
        content=f"Answer for {sid}",
        created_at=t,
    )
    return AgentSession(
        session_id=sid,
        agent_id="auth-agent",
        user_id=user_id,
        session_data={"session_name": f"Session {sid}"},
        runs=[run],
        created_at=t,
        updated_at=t,
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--db-id", default="contract-auth")
    ap.add_argument("--tokens", help="JSON {name: plaintext}: store these instead of minting new ones")
    a = ap.parse_args()
    db = PostgresDb(db_url=a.url, id=a.db_id)
    db._create_all_tables()
    sessions = []
    t = T0
    for owner, user_id in OWNERS.items():
        t += 10
        sessions.append(session(f"auth-{owner}", user_id, t))
    for suffix, offset in (("-os", 0), ("-us", 1)):
        for name in TWINS:
            owner = "bob@example.com" if name == "foreign" else "alice@example.com"
            sessions.append(session(f"auth-twin-{name}{suffix}", owner, T0 + 1000 + 10 * TWINS.index(name) + offset))
    db.upsert_sessions(sessions, deserialize=False, preserve_updated_at=True)
    for s in sessions:
        for idx, run in enumerate(s.runs or []):
            db.upsert_run(run, session_id=s.session_id, user_id=s.user_id, run_index=idx)
    tokens = {}
    now = int(time.time())
    given = json.loads(a.tokens) if a.tokens else {}
    for name, (scopes, expires_in, revoked) in PATS.items():
        plaintext, token_hash, prefix = generate_token()
        if name in given:
            plaintext = given[name]
            token_hash, prefix = hash_token(plaintext), plaintext[:16]
        db.create_service_account(
            {
                "id": str(uuid.uuid4()),
                "name": name,
                "user_id": None,
                "token_hash": token_hash,
                "token_prefix": prefix,
                "scopes": scopes,
                "created_at": now,
                "expires_at": now + expires_in,
                "last_used_at": None,
                "revoked_at": now if revoked else None,
                "created_by": "contract-suite",
            }
        )
        tokens[name] = plaintext
    with db.db_engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM ai.agno_sessions")).scalar()
    print(json.dumps({"sessions": n, "tokens": tokens}))


if __name__ == "__main__":
    main()
