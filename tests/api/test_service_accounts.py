"""Service-account tokens (`agno_pat_…`) beyond the contract pairs (docs/security.md): the failed-lookup
limit (429), revocation taking effect once the verification cache lets go, `last_used_at`, and the
answer when the lookup cannot reach the database (503). Tokens and the table are made the way agno
makes them (SHA-256 of the plaintext; the DDL of agno 3.1.10's `agno_service_accounts`)."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest

from service.dev.pg import free_port
from tests.api.conftest import running_api, sql
from tests.api.test_auth_tokens import auth_failures

KEY = "service-account-test-key"
DDL = """
CREATE SCHEMA IF NOT EXISTS ai;
CREATE TABLE IF NOT EXISTS ai.agno_service_accounts (
    id varchar PRIMARY KEY, name varchar NOT NULL, user_id varchar, token_hash varchar NOT NULL UNIQUE,
    token_prefix varchar NOT NULL, scopes jsonb NOT NULL, created_at bigint NOT NULL, expires_at bigint,
    last_used_at bigint, revoked_at bigint, created_by varchar
)
"""


def mint(dsn: str, name: str, scopes: list[str]) -> str:
    token = "agno_pat_" + uuid.uuid4().hex
    sql(dsn, DDL)
    sql(
        dsn,
        "INSERT INTO ai.agno_service_accounts (id, name, token_hash, token_prefix, scopes, created_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            str(uuid.uuid4()),
            name,
            hashlib.sha256(token.encode()).hexdigest(),
            token[:16],
            json.dumps(scopes),
            int(time.time()),
            int(time.time()) + 3600,
        ),
    )
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.gen_test(timeout=60)
async def test_failed_lookups_are_limited_per_client_and_valid_tokens_never_are(fresh_dsn: str) -> None:
    valid = mint(fresh_dsn, "reader", ["sessions:read"])
    async with running_api({"AGNO_PG_DSN": fresh_dsn, "OS_SECURITY_KEY": KEY}) as api:
        before = await api.get("/metrics")
        statuses = [
            (await api.call("GET", "/sessions", headers=bearer(f"agno_pat_guess{i}"))).status for i in range(22)
        ]
        assert statuses == [401] * 20 + [429, 429]
        throttled = await api.call("GET", "/sessions", headers=bearer("agno_pat_one-more"))
        assert throttled.json == {"detail": "Too many failed authentication attempts"}
        assert (await api.call("GET", "/sessions", headers=bearer(valid))).status == 200
        assert (await api.call("GET", "/sessions", headers=bearer(KEY))).status == 200
        after = await api.get("/metrics")
    counted = {r: auth_failures(after, r) - auth_failures(before, r) for r in ("throttled", "service_account")}
    assert counted == {"throttled": 3, "service_account": 20}, counted


@pytest.mark.gen_test(timeout=60)
async def test_revocation_applies_once_the_cache_lets_go_and_use_is_recorded(fresh_dsn: str) -> None:
    token = mint(fresh_dsn, "writer", ["sessions:read", "sessions:write"])
    env = {"AGNO_PG_DSN": fresh_dsn, "OS_SECURITY_KEY": KEY, "AGNO_SERVICE_ACCOUNT_CACHE_SECONDS": "0"}
    async with running_api(env) as api:
        created = await api.call(
            "POST", "/sessions", body={"session_id": "by-bot", "user_id": "someone"}, headers=bearer(token)
        )
        assert created.status == 201
        assert created.json["user_id"] == "sa:writer"
        assert sql(fresh_dsn, "SELECT last_used_at IS NOT NULL FROM ai.agno_service_accounts") == [(True,)]
        # the account only sees its own sessions (no admin scope), even with isolation off
        listed = await api.call("GET", "/sessions", headers=bearer(token))
        assert [s["session_id"] for s in listed.json["data"]] == ["by-bot"]
        assert (await api.call("DELETE", "/sessions/by-bot", headers=bearer(token))).status == 403
        sql(fresh_dsn, "UPDATE ai.agno_service_accounts SET revoked_at = %s", (int(time.time()),))
        revoked = await api.call("GET", "/sessions", headers=bearer(token))
        assert revoked.status == 401
        assert revoked.json == {"detail": "Invalid or expired service account token"}


@pytest.mark.gen_test(timeout=60)
async def test_lookup_without_a_database_answers_503(fresh_dsn: str) -> None:
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    env = {"AGNO_PG_DSN": unreachable, "OS_SECURITY_KEY": KEY, "AGNO_POOL_TIMEOUT": "1"}
    async with running_api(env) as api:
        reply = await api.call("GET", "/sessions", headers=bearer("agno_pat_whatever"))
        assert reply.status == 503
        assert reply.json == {"detail": "Authentication is temporarily unavailable"}
        assert (await api.call("GET", "/sessions")).status == 401  # no token: refused without a lookup
