"""The real Agno AgentOS (agno==3.1.10) over PostgresDb, for the contract suite.

Runs inside the separate `.venv-agentos` virtualenv (never imported by the project):

    CONTRACT_DBS='[["contract-a", "postgresql+psycopg://postgres@127.0.0.1:5432/a"]]' \
        .venv-agentos/bin/python -m uvicorn --app-dir tests/contract/agno_side agentos_app:app \
        --host 127.0.0.1 --port 8000

CONTRACT_DBS is a JSON list of [db_id, SQLAlchemy URL] pairs (use the `postgresql+psycopg://` scheme:
agno's postgres extra installs psycopg 3, and PostgresDb hands the URL to SQLAlchemy unchanged). The first
database is the AgentOS `db`; every further one is attached to its own trivial agent, so AgentOS registers
several db ids and `?db_id=` becomes mandatory on /sessions. OS_SECURITY_KEY, when set in the environment,
turns on AgentOS's security-key auth; CONTRACT_AUTO_PROVISION=false turns off its table provisioning.
The OS gets no name, so `GET /` answers `"name": "AgentOS"` (the
default a deployment without a name shows). No model is ever called: the agents only exist because AgentOS needs
components; the `openai` package is required because agno imports it for the default model.

AGNO_MEDIA_STORAGE (the same variable and values agno-session reads: `local:/path` or `s3://bucket/prefix`,
with AGNO_MEDIA_S3_REGION and AGNO_MEDIA_S3_ENDPOINT_URL) gives the OS agno's LocalMediaStorage or
S3MediaStorage as `media_storage`; without it the media routes answer 503.
"""

import json
import os

os.environ.setdefault("AGNO_TELEMETRY", "false")  # no outbound calls

from agno.agent import Agent
from agno.db.postgres import PostgresDb
from agno.models.openai import OpenAIChat
from agno.os import AgentOS


def media_storage():  # type: ignore[no-untyped-def]
    raw = os.environ.get("AGNO_MEDIA_STORAGE", "")
    if raw.startswith("local:"):
        from agno.media.storage import LocalMediaStorage

        return LocalMediaStorage(base_path=raw[len("local:") :])
    if raw.startswith("s3://"):
        from agno.media.storage import S3MediaStorage

        bucket, _, prefix = raw[len("s3://") :].partition("/")
        return S3MediaStorage(
            bucket,
            prefix=prefix,
            region=os.environ.get("AGNO_MEDIA_S3_REGION") or None,
            endpoint_url=os.environ.get("AGNO_MEDIA_S3_ENDPOINT_URL") or None,
        )
    return None


def build_app():  # type: ignore[no-untyped-def]
    pairs = json.loads(os.environ["CONTRACT_DBS"])
    dbs = [PostgresDb(db_url=url, id=db_id) for db_id, url in pairs]
    agents = [
        Agent(
            id=f"contract-agent-{i}",
            name=f"Contract Agent {i}",
            model=OpenAIChat(id="contract-dummy-model", api_key="sk-not-used"),
            db=db,
            telemetry=False,
        )
        for i, db in enumerate(dbs)
    ]
    options = {}
    if os.environ.get("CONTRACT_AUTHZ"):
        # the JWT auth pair: JWT_VERIFICATION_KEY comes from the environment (tests/contract/test_auth_contract.py)
        from agno.os.config import AuthorizationConfig

        options["authorization"] = True
        options["authorization_config"] = AuthorizationConfig(
            verify_audience=True, audience=os.environ["CONTRACT_AUTHZ"]
        )
    if os.environ.get("CONTRACT_USER_ISOLATION"):
        options["user_isolation"] = True
    # CONTRACT_AUTO_PROVISION=false: leave the databases as they are (an unmigrated 2.x database keeps
    # having no agno_runs table), like agno-session's AGNO_AUTO_PROVISION=false
    provision = os.environ.get("CONTRACT_AUTO_PROVISION", "true") != "false"
    agent_os = AgentOS(
        id="contract-os",
        db=dbs[0],
        agents=agents,
        telemetry=False,
        auto_provision_dbs=provision,
        media_storage=media_storage(),
        **options,
    )
    return agent_os.get_app()


app = build_app()
