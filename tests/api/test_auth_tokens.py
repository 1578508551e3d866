"""JWT handling beyond the contract pair (docs/security.md): keys from a JWKS URL with rotation, hostile
tokens (never a 500, never echoed into logs or metrics), failure metrics by reason, the access log's
principal. The AgentOS-equal statuses and details themselves are proven by tests/contract/test_auth_contract.py."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jwt
import pytest
import tornado.web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.httputil import HTTPHeaders
from tornado.simple_httpclient import HTTPStreamClosedError
from tornado.testing import bind_unused_port

from tests.api.conftest import running_api

AUDIENCE = "tokens-test"


def new_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: Any) -> str:
    return str(
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def token(key: Any, kid: str | None = None, **claims: Any) -> str:
    payload = {"sub": "alice", "scopes": ["sessions:read"], "aud": AUDIENCE, "exp": int(time.time()) + 600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid} if kid else None)


def jwk(key: Any, kid: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**data, "kid": kid, "use": "sig", "alg": "RS256"}


class JwksServer:
    """An identity provider's JWKS endpoint on loopback; counts its fetches."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        owner = self

        class Handler(tornado.web.RequestHandler):
            def get(self) -> None:
                owner.fetches += 1
                self.write({"keys": owner.keys})

        self.server = HTTPServer(tornado.web.Application([(r"/jwks", Handler)]))
        sock, self.port = bind_unused_port()
        self.server.add_sockets([sock])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"


@asynccontextmanager
async def jwks_server() -> AsyncIterator[JwksServer]:
    server = JwksServer()
    try:
        yield server
    finally:
        server.server.stop()


def jwt_env(dsn: str, key: Any, **settings: str) -> dict[str, str]:
    """The service verifying RS256 tokens of `key` for AUDIENCE, plus `settings`."""
    return {"AGNO_PG_DSN": dsn, "JWT_VERIFICATION_KEY": public_pem(key), "AGNO_JWT_AUDIENCE": AUDIENCE, **settings}


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.gen_test(timeout=60)
async def test_jwks_url_follows_a_key_rotation_and_rate_limits_unknown_kids(fresh_dsn: str) -> None:
    old, new = new_key(), new_key()
    async with jwks_server() as idp:
        idp.keys = [jwk(old, "k1")]
        env = {"AGNO_PG_DSN": fresh_dsn, "AGNO_JWT_JWKS_URL": idp.url, "AGNO_JWT_AUDIENCE": AUDIENCE}
        async with running_api(env) as api:
            assert (await api.call("GET", "/sessions", headers=bearer(token(old, "k1")))).status == 200
            assert idp.fetches == 1
            assert (await api.call("GET", "/sessions", headers=bearer(token(old, "k1", sub="bob")))).status == 200
            assert idp.fetches == 1  # known kid: no refetch
            # the provider rotates: a token signed with the new key names a kid not seen yet
            idp.keys = [jwk(new, "k2")]
            fresh = await api.call("GET", "/sessions", headers=bearer(token(new, "k2")))
            assert fresh.status == 200, fresh.json
            assert idp.fetches == 2
            failures_before = auth_failures(await api.get("/metrics"), "invalid")
            # the rotated-out key no longer verifies, even for a token accepted (and cached) before
            retired = await api.call("GET", "/sessions", headers=bearer(token(old, "k1")))
            assert retired.status == 401
            assert retired.json["detail"].startswith("Invalid token: ")
            # a flood of unknown kids costs no further fetches (at most one every 30 s)
            for i in range(5):
                forged = await api.call("GET", "/sessions", headers=bearer(token(new_key(), f"forged-{i}")))
                assert forged.status == 401
            assert idp.fetches == 2
            assert auth_failures(await api.get("/metrics"), "invalid") - failures_before == 6


def auth_failures(metrics: Any, reason: str) -> float:
    """`auth_failures_total{reason}` of a /metrics answer (the counter is process-wide: compare deltas)."""
    prefix = f'auth_failures_total{{reason="{reason}"}} '
    return float(next(line for line in metrics.text.splitlines() if line.startswith(prefix))[len(prefix) :])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.gen_test(timeout=90)
async def test_hostile_tokens_get_401_or_403_and_are_never_logged(
    fresh_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    key = new_key()
    pem = public_pem(key)
    env = {
        "AGNO_PG_DSN": fresh_dsn,
        "JWT_VERIFICATION_KEY": pem,
        "AGNO_JWT_AUDIENCE": AUDIENCE,
        "AGNO_AUTHORIZATION": "true",
        "AGNO_USER_ISOLATION": "true",
    }
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = _b64(json.dumps({"sub": "alice", "scopes": ["agent_os:admin"], "aud": AUDIENCE}).encode())
    import hashlib
    import hmac

    confused = f"{header}.{claims}." + _b64(
        hmac.new(pem.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    )
    unsigned = jwt.encode(
        {"sub": "alice", "scopes": ["agent_os:admin"], "aud": AUDIENCE},
        None,  # type: ignore[arg-type]  # alg none: no key
        algorithm="none",
    )
    hostile = {
        "alg_none": (unsigned, 401),
        "hs_with_public_key": (confused, 401),
        "not_json_payload": (f"{header}.{_b64(b'not json at all')}.{_b64(b'sig')}", 401),
        "exp_string": (token(key, exp="tomorrow"), 401),
        "scopes_not_a_list": (token(key, scopes={"sessions": "read"}), 403),
        "scopes_numbers": (token(key, scopes=[1, 2]), 403),
        "large_token": ("A" * 12_000, 401),  # within the 16 KiB header limit; beyond it, see below
        "unicode_subject": (token(key, sub="ünïcødé 😀"), 200),
        "no_subject": (jwt.encode({"scopes": ["sessions:read"], "aud": AUDIENCE}, key, algorithm="RS256"), 403),
        "reserved_subject": (token(key, sub="__oauth__:x"), 401),
    }
    caplog.set_level(logging.DEBUG)
    async with running_api(env) as api:
        before = await api.get("/metrics")
        for name, (value, status) in hostile.items():
            reply = await api.call("GET", "/sessions", headers=bearer(value))
            assert reply.status == status, (name, reply.status, reply.json)
            assert value not in reply.text
        # a 100 KiB token exceeds the header limit (AgentOS's h11 has the same 16 KiB): the connection is
        # refused (closed, or a 4xx), never a 5xx and never served
        try:
            huge = await api.http.fetch(
                HTTPRequest(api.base_url + "/sessions", headers=bearer("A" * 100_000)), raise_error=False
            )
            assert 400 <= huge.code < 500, huge.code
        except (ConnectionResetError, HTTPStreamClosedError):
            pass
        assert (await api.get("/healthz")).status == 200
        for scheme in ("bearer", "BEARER", "Bearer"):
            reply = await api.call("GET", "/sessions", headers={"Authorization": f"{scheme} {token(key)}"})
            assert reply.status == 200, scheme
        # repeated Authorization headers: the first one counts (as in AgentOS's Starlette)
        repeated = HTTPHeaders()
        repeated.add("Authorization", "Bearer " + token(key))
        repeated.add("Authorization", "Bearer garbage")
        response = await AsyncHTTPClient().fetch(
            HTTPRequest(api.base_url + "/sessions", headers=repeated), raise_error=False
        )
        assert response.code == 200
        repeated = HTTPHeaders()
        repeated.add("Authorization", "Bearer garbage")
        repeated.add("Authorization", "Bearer " + token(key))
        response = await AsyncHTTPClient().fetch(
            HTTPRequest(api.base_url + "/sessions", headers=repeated), raise_error=False
        )
        assert response.code == 401
        after = await api.get("/metrics")
        metrics = after.text
    logged = "\n".join(record.getMessage() + json.dumps(record.__dict__, default=str) for record in caplog.records)
    for value, _ in hostile.values():
        assert value not in logged
        assert value not in metrics
    counted = {r: auth_failures(after, r) - auth_failures(before, r) for r in ("invalid", "scope", "subject")}
    assert counted == {"invalid": 6, "scope": 2, "subject": 1}, counted


@pytest.mark.gen_test(timeout=60)
async def test_access_log_names_the_principal_not_the_token(fresh_dsn: str, caplog: pytest.LogCaptureFixture) -> None:
    key = new_key()
    env = jwt_env(fresh_dsn, key)
    caplog.set_level(logging.INFO, logger="agno_session.access")
    value = token(key, sub="carol@example.com")
    async with running_api(env) as api:
        assert (await api.call("GET", "/sessions", headers=bearer(value))).status == 200
        assert (await api.call("GET", "/sessions")).status == 401
    lines = [r for r in caplog.records if r.name == "agno_session.access"]
    assert [getattr(r, "principal", "?") for r in lines] == ["carol@example.com", None]
    assert all(value not in json.dumps(r.__dict__, default=str) for r in lines)


@pytest.mark.gen_test(timeout=60)
async def test_user_id_claim_names_the_owner(fresh_dsn: str) -> None:
    key = new_key()
    env = jwt_env(fresh_dsn, key, AGNO_USER_ISOLATION="true", AGNO_JWT_USER_ID_CLAIM="email")
    dana = bearer(token(key, sub="idp-123", email="dana@example.com"))
    async with running_api(env) as api:
        created = await api.call("POST", "/sessions", body={"session_id": "by-claim", "user_id": "x"}, headers=dana)
        assert created.status == 201
        assert created.json["user_id"] == "dana@example.com"
        mine = await api.call("GET", "/sessions", headers=dana)
        assert [s["session_id"] for s in mine.json["data"]] == ["by-claim"]
        other = bearer(token(key, sub="idp-123", email="erin@example.com"))
        assert (await api.call("GET", "/sessions/by-claim", headers=other)).status == 404


@pytest.mark.gen_test(timeout=60)
async def test_jwks_file_and_pinned_issuer(fresh_dsn: str, tmp_path: Any) -> None:
    key = new_key()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk(key, "k1")]}))
    env = {
        "AGNO_PG_DSN": fresh_dsn,
        "JWT_JWKS_FILE": str(jwks),
        "AGNO_JWT_AUDIENCE": AUDIENCE,
        "AGNO_JWT_ISSUER": "https://idp.example",
    }
    async with running_api(env) as api:
        good = await api.call("GET", "/sessions", headers=bearer(token(key, "k1", iss="https://idp.example")))
        assert good.status == 200, good.json
        other = await api.call("GET", "/sessions", headers=bearer(token(key, "k1", iss="https://evil.example")))
        assert other.json == {
            "detail": "Invalid token: Invalid issuer. Expected: https://idp.example, got: https://evil.example"
        }
        missing = await api.call("GET", "/sessions", headers=bearer(token(key, "k1")))
        assert missing.status == 401
        assert missing.json["detail"].startswith('Invalid token: Token is missing the "iss" claim.')
        unknown_kid = await api.call(
            "GET", "/sessions", headers=bearer(token(new_key(), "k9", iss="https://idp.example"))
        )
        assert unknown_kid.json == {"detail": "Invalid token: No verification keys configured"}
