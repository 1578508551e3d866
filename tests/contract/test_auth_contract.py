"""The auth pair: AgentOS 3.1.10 with JWT authorization, scopes, user isolation, an audience, service
accounts and its default CORS, against agno-session with the equivalent environment (docs/security.md).

Both servers share one database seeded through agno (agno_side/seed_auth.py): sessions of alice, bob,
nobody and a service account, twins of alice's sessions for the mutations, and `agno_pat_` tokens that
agno minted. JWTs are signed here with a fresh RSA key whose public half both servers are given.
Every case sends the same request to both and compares status, body and every `access-control-*`,
`vary` and `content-type` header. A mutation runs on the `-os` twin at AgentOS and the `-us` twin at
ours, then both twins are read back through both services (as admin) and their rows compared.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from service.compare.diff import compare
from tests.conformance import ResponseSchemas
from tests.support.processes import Server

from .agentos_venv import ensure_venv
from .cases import NO_BODY
from .harness import (
    AGNO_SIDE,
    REPO,
    TWIN_OS,
    TWIN_TIME,
    TWIN_US,
    Answer,
    _clean_env,
    _row,
    normalize,
    send,
    start_agentos,
    start_service,
    substitute,
    twin_repl,
)

AUDIENCE = "contract-auth-os"
DB_ID = "contract-auth"
ALLOWED_ORIGIN = "http://localhost:3000"
OTHER_ORIGIN = "https://evil.example"
COMPARED_HEADERS = (
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-expose-headers",
    "access-control-max-age",
    "vary",
    "content-type",
)
ALICE, BOB = "alice@example.com", "bob@example.com"
READ, WRITE, DELETE = "sessions:read", "sessions:write", "sessions:delete"

# name -> (claims, how it is signed); `exp`/`aud` are added unless the claims say otherwise
JWTS: dict[str, tuple[dict[str, Any], str]] = {
    "admin": ({"sub": "admin@example.com", "scopes": ["agent_os:admin"]}, "rs"),
    "alice_read": ({"sub": ALICE, "scopes": [READ]}, "rs"),
    "alice_all": ({"sub": ALICE, "scopes": [READ, WRITE, DELETE]}, "rs"),
    "alice_none": ({"sub": ALICE, "scopes": []}, "rs"),
    "alice_str_scope": ({"sub": ALICE, "scopes": READ}, "rs"),
    "alice_wildcard": ({"sub": ALICE, "scopes": ["sessions:*:read", "sessions:*:delete"]}, "rs"),
    "alice_obj_scopes": ({"sub": ALICE, "scopes": {"sessions": "read"}}, "rs"),
    "alice_int_scopes": ({"sub": ALICE, "scopes": [7]}, "rs"),
    "bob_all": ({"sub": BOB, "scopes": [READ, WRITE, DELETE]}, "rs"),
    "unicode_sub": ({"sub": "ünïcødé 😀", "scopes": [READ, WRITE]}, "rs"),
    "no_sub": ({"scopes": [READ, WRITE, DELETE]}, "rs"),
    "reserved_sub": ({"sub": "sa:reader-bot", "scopes": [READ]}, "rs"),
    "scheduler_sub": ({"sub": "__scheduler__", "scopes": [READ]}, "rs"),
    "expired": ({"sub": ALICE, "scopes": [READ], "exp": -100}, "rs"),
    "wrong_audience": ({"sub": ALICE, "scopes": [READ], "aud": "another-os"}, "rs"),
    "no_audience": ({"sub": ALICE, "scopes": [READ], "aud": None}, "rs"),
    "exp_string": ({"sub": ALICE, "scopes": [READ], "exp": "tomorrow"}, "rs"),
    "other_key": ({"sub": ALICE, "scopes": [READ]}, "other"),
    "hs_confusion": ({"sub": ALICE, "scopes": [READ]}, "hs-public"),
    "alg_none": ({"sub": ALICE, "scopes": [READ]}, "none"),
}
SECURITY_KEY = "contract-auth-key"
RAW_TOKENS = {
    "garbage": "not-a-jwt",
    "two_dots": "a.b.c",
    "pat_unknown": "agno_pat_doesnotexist",
    "key": SECURITY_KEY,
}
PATS = ("reader-bot", "writer-bot", "admin-bot", "wild-bot", "revoked-bot", "expired-bot")


@dataclass(frozen=True)
class AuthCase:
    name: str
    method: str
    path: str
    token: str | None = None
    """A JWTS / RAW_TOKENS / `pat:<name>` key, or None for no Authorization header."""
    query: tuple[tuple[str, str], ...] = ()
    body: Any = NO_BODY
    headers: dict[str, str] = field(default_factory=dict)
    scheme: str = "Bearer "
    readback: tuple[str, ...] = ()
    """Session ids (with `{T}`) read back through both services after a mutation."""
    mode: str = "jwt"
    """The server pair: jwt (authorization, isolation, audience), key (OS_SECURITY_KEY and isolation), open
    (no credential, isolation: `?user_id=` is advisory)."""


def build_cases() -> list[AuthCase]:
    cases: list[AuthCase] = []
    reads = {
        "list": "/sessions",
        "get_alice": "/sessions/auth-alice",
        "get_bob": "/sessions/auth-bob",
        "get_bot": "/sessions/auth-bot",
        "runs_alice": "/sessions/auth-alice/runs",
        "previews_bob": "/sessions/auth-bob/run-previews",
        "run_alice": "/sessions/auth-alice/runs/auth-alice-r0",
    }
    every_token = [*JWTS, *RAW_TOKENS, *(f"pat:{p}" for p in PATS), None]
    for token in every_token:
        for label, path in reads.items():
            cases.append(AuthCase(f"read_{label}_{token}", "GET", path, token))
    for token in ("admin", "alice_read", "pat:reader-bot", "pat:admin-bot"):
        cases.append(AuthCase(f"list_other_user_{token}", "GET", "/sessions", token, (("user_id", BOB),)))
        cases.append(AuthCase(f"get_bob_as_bob_param_{token}", "GET", "/sessions/auth-bob", token, (("user_id", BOB),)))
    # how the header is written
    for scheme in ("bearer ", "BEARER ", "", "Basic ", "Token "):
        cases.append(AuthCase(f"scheme_{scheme.strip() or 'bare'}", "GET", "/sessions", "alice_read", scheme=scheme))
    # 401/403 come before routing and validation; open paths stay open
    for token in (None, "alice_none", "alice_read"):
        cases += [
            AuthCase(f"unknown_path_{token}", "GET", "/sessions-nope", token),
            AuthCase(f"bad_limit_{token}", "GET", "/sessions", token, (("limit", "abc"),)),
            AuthCase(f"put_{token}", "PUT", "/sessions", token, body={}),
            AuthCase(f"delete_runs_path_{token}", "DELETE", "/sessions/auth-alice/runs", token),
            AuthCase(f"health_{token}", "GET", "/health", token),
            AuthCase(f"trailing_slash_{token}", "GET", "/sessions/auth-alice/", token),
        ]
    # writes that change nothing (refused, or another user's session)
    for token in ("alice_read", "alice_none", "bob_all", "pat:reader-bot", "no_sub", None):
        cases += [
            AuthCase(
                f"rename_refused_{token}", "POST", "/sessions/auth-alice/rename", token, body={"session_name": "x"}
            ),
            AuthCase(f"patch_refused_{token}", "PATCH", "/sessions/auth-alice", token, body={"session_name": "x"}),
            AuthCase(f"delete_refused_{token}", "DELETE", "/sessions/auth-alice", token, readback=("auth-alice",)),
            AuthCase(f"create_refused_{token}", "POST", "/sessions", token, body={"session_id": "auth-alice"}),
        ]
    cases += [
        AuthCase("create_taken_by_other", "POST", "/sessions", "alice_all", body={"session_id": "auth-bob"}),
        AuthCase("create_taken_by_self", "POST", "/sessions", "alice_all", body={"session_id": "auth-alice"}),
        AuthCase("create_taken_admin", "POST", "/sessions", "admin", body={"session_id": "auth-bob"}),
    ]
    # mutations on twins, each read back through both services
    cases += [
        AuthCase(
            "create_owner_from_token",
            "POST",
            "/sessions",
            "alice_all",
            body={"session_id": "auth-created-alice{T}", "user_id": "mallory", "session_name": "Mine"},
            readback=("auth-created-alice{T}",),
        ),
        AuthCase(
            "create_by_service_account",
            "POST",
            "/sessions",
            "pat:writer-bot",
            body={"session_id": "auth-created-bot{T}", "user_id": "mallory"},
            readback=("auth-created-bot{T}",),
        ),
        AuthCase(
            "create_as_admin_keeps_sub",
            "POST",
            "/sessions",
            "admin",
            body={"session_id": "auth-created-admin{T}", "user_id": "carol"},
            readback=("auth-created-admin{T}",),
        ),
        AuthCase(
            "rename_own",
            "POST",
            "/sessions/auth-twin-rename{T}/rename",
            "alice_all",
            body={"session_name": "Renamed by alice"},
            readback=("auth-twin-rename{T}",),
        ),
        AuthCase(
            "patch_own",
            "PATCH",
            "/sessions/auth-twin-patch{T}",
            "alice_all",
            body={"session_name": "Patched", "metadata": {"k": 1}},
            readback=("auth-twin-patch{T}",),
        ),
        AuthCase(
            "delete_foreign_is_silent",
            "DELETE",
            "/sessions/auth-twin-foreign{T}",
            "alice_all",
            readback=("auth-twin-foreign{T}",),
        ),
        AuthCase(
            "bulk_delete_own_and_foreign",
            "DELETE",
            "/sessions",
            "alice_wildcard",
            body={"session_ids": ["auth-twin-bulk{T}", "auth-twin-foreign{T}"], "session_types": ["agent", "agent"]},
            readback=("auth-twin-bulk{T}", "auth-twin-foreign{T}"),
        ),
        AuthCase(
            "delete_own", "DELETE", "/sessions/auth-twin-delete{T}", "alice_all", readback=("auth-twin-delete{T}",)
        ),
    ]
    # CORS: preflights on any path, simple requests, and auth failures with and without an allowed origin
    for origin in (ALLOWED_ORIGIN, OTHER_ORIGIN, "https://os.agno.com"):
        tag = origin.split("//")[1].replace(".", "_").replace(":", "_")
        pre = {"Origin": origin, "Access-Control-Request-Method": "GET"}
        cases += [
            AuthCase(f"preflight_{tag}", "OPTIONS", "/sessions", headers=pre),
            AuthCase(
                f"preflight_headers_{tag}",
                "OPTIONS",
                "/sessions/auth-alice",
                headers={**pre, "Access-Control-Request-Headers": "authorization, content-type"},
            ),
            AuthCase(f"preflight_unknown_path_{tag}", "OPTIONS", "/nope", headers=pre),
            AuthCase(f"options_without_method_{tag}", "OPTIONS", "/sessions", headers={"Origin": origin}),
            AuthCase(f"simple_ok_{tag}", "GET", "/sessions", "alice_read", headers={"Origin": origin}),
            AuthCase(f"simple_401_{tag}", "GET", "/sessions", None, headers={"Origin": origin}),
            AuthCase(f"simple_403_{tag}", "DELETE", "/sessions/auth-alice", "alice_read", headers={"Origin": origin}),
            AuthCase(f"simple_404_{tag}", "GET", "/sessions/auth-bob", "alice_read", headers={"Origin": origin}),
            AuthCase(f"simple_health_{tag}", "GET", "/health", None, headers={"Origin": origin}),
        ]
    cases += [
        AuthCase(
            "preflight_bad_method",
            "OPTIONS",
            "/sessions",
            headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "FETCH"},
        ),
        AuthCase(
            "preflight_private_network",
            "OPTIONS",
            "/sessions",
            headers={
                "Origin": ALLOWED_ORIGIN,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Private-Network": "true",
            },
        ),
        AuthCase("no_origin_vary", "GET", "/sessions", "alice_read"),
    ]
    return cases + key_mode_cases() + open_mode_cases()


def key_mode_cases() -> list[AuthCase]:
    """OS_SECURITY_KEY with isolation on: the key has no identity (nothing is confined); PATs are scoped."""
    cases: list[AuthCase] = []
    tokens = ["key", None, "garbage", "alice_read", *(f"pat:{p}" for p in PATS)]
    for token in tokens:
        for label, path in {
            "list": "/sessions",
            "get_bob": "/sessions/auth-bob",
            "get_bot": "/sessions/auth-bot",
        }.items():
            cases.append(AuthCase(f"key_{label}_{token}", "GET", path, token, mode="key"))
        cases.append(AuthCase(f"key_list_user_{token}", "GET", "/sessions", token, (("user_id", BOB),), mode="key"))
        cases.append(
            AuthCase(f"key_rename_refused_{token}", "POST", "/sessions/auth-bot/rename", token, body={}, mode="key")
        )
    cases += [
        AuthCase(
            "key_create_with_key",
            "POST",
            "/sessions",
            "key",
            body={"session_id": "auth-key-created{T}", "user_id": "carol"},
            readback=("auth-key-created{T}",),
            mode="key",
        ),
        AuthCase(
            "key_create_by_service_account",
            "POST",
            "/sessions",
            "pat:writer-bot",
            body={"session_id": "auth-key-bot{T}", "user_id": "carol"},
            readback=("auth-key-bot{T}",),
            mode="key",
        ),
        AuthCase(
            "key_delete_by_wildcard_bot",
            "DELETE",
            "/sessions/auth-twin-delete{T}",
            "pat:wild-bot",
            readback=("auth-twin-delete{T}",),
            mode="key",
        ),
        AuthCase(
            "key_patch_with_key",
            "PATCH",
            "/sessions/auth-twin-patch{T}",
            "key",
            (("user_id", ALICE),),
            body={"session_state": {"k": True}},
            readback=("auth-twin-patch{T}",),
            mode="key",
        ),
    ]
    return cases


def open_mode_cases() -> list[AuthCase]:
    """No credential, isolation on: `?user_id=` is an advisory identity; a PAT that verifies still counts."""
    cases: list[AuthCase] = []
    for user in (None, ALICE, BOB, "sa:reader-bot"):
        query = () if user is None else (("user_id", user),)
        tag = str(user).split("@")[0]
        for token in (None, "garbage", "alice_all", "pat:reader-bot", "pat:admin-bot", "pat:revoked-bot"):
            cases.append(AuthCase(f"open_list_{tag}_{token}", "GET", "/sessions", token, query, mode="open"))
            cases.append(
                AuthCase(f"open_get_alice_{tag}_{token}", "GET", "/sessions/auth-alice", token, query, mode="open")
            )
    cases += [
        AuthCase(
            "open_create_advisory_owner",
            "POST",
            "/sessions",
            None,
            (("user_id", ALICE),),
            body={"session_id": "auth-open-created{T}", "user_id": "mallory"},
            readback=("auth-open-created{T}",),
            mode="open",
        ),
        AuthCase(
            "open_create_reserved_query_user",
            "POST",
            "/sessions",
            None,
            (("user_id", "sa:impostor"),),
            body={"session_id": "auth-open-reserved{T}", "user_id": "mallory"},
            readback=("auth-open-reserved{T}",),
            mode="open",
        ),
        AuthCase(
            "open_create_by_service_account",
            "POST",
            "/sessions",
            "pat:writer-bot",
            body={"session_id": "auth-open-bot{T}"},
            readback=("auth-open-bot{T}",),
            mode="open",
        ),
        AuthCase("open_create_refused_reader", "POST", "/sessions", "pat:reader-bot", body={}, mode="open"),
        AuthCase(
            "open_create_taken_by_other",
            "POST",
            "/sessions",
            None,
            (("user_id", ALICE),),
            body={"session_id": "auth-bob"},
            mode="open",
        ),
        AuthCase(
            "open_delete_foreign",
            "DELETE",
            "/sessions/auth-twin-foreign{T}",
            None,
            (("user_id", ALICE),),
            readback=("auth-twin-foreign{T}",),
            mode="open",
        ),
    ]
    return cases


CASES = build_cases()
MODES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    # mode: (AgentOS's environment, ours) beyond the database
    "jwt": (
        {"CONTRACT_AUTHZ": AUDIENCE, "CONTRACT_USER_ISOLATION": "1"},
        {"AGNO_AUTHORIZATION": "true", "AGNO_USER_ISOLATION": "true", "AGNO_JWT_AUDIENCE": AUDIENCE},
    ),
    "key": (
        {"OS_SECURITY_KEY": SECURITY_KEY, "CONTRACT_USER_ISOLATION": "1"},
        {"OS_SECURITY_KEY": SECURITY_KEY, "AGNO_USER_ISOLATION": "true"},
    ),
    "open": ({"CONTRACT_USER_ISOLATION": "1"}, {"AGNO_USER_ISOLATION": "true"}),
}


# ------------------------------------------------------------------------------------------------ setup
@dataclass
class AuthPair:
    agentos: Server
    ours: Server
    dsn: str


@dataclass
class AuthPairs:
    pairs: dict[str, AuthPair]
    tokens: dict[str, str]
    """token name -> Authorization value (without scheme)."""


def sign_tokens(private_key: Any, public_pem: str, pats: dict[str, str]) -> dict[str, str]:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    tokens: dict[str, str] = {}
    for name, (claims, how) in JWTS.items():
        payload = {"aud": AUDIENCE, **claims}
        exp = payload.pop("exp", 3600)
        payload["exp"] = now + exp if isinstance(exp, int) else exp
        payload = {k: v for k, v in payload.items() if v is not None}
        if how == "rs":
            tokens[name] = jwt.encode(payload, private_key, algorithm="RS256")
        elif how == "other":
            tokens[name] = jwt.encode(payload, other_key, algorithm="RS256")
        elif how == "hs-public":
            tokens[name] = _hs256(payload, public_pem.encode())
        else:
            tokens[name] = jwt.encode(payload, None, algorithm="none")  # type: ignore[arg-type]  # alg none: no key
    tokens.update(RAW_TOKENS)
    tokens.update({f"pat:{name}": token for name, token in pats.items()})
    return tokens


def _hs256(payload: dict[str, Any], secret: bytes) -> str:
    """An HS256 token whose secret is the RSA public key (PyJWT refuses to make one itself)."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(signature)}"


def seed(python: Path, url: str, db_id: str, pats: dict[str, str] | None) -> dict[str, str]:
    """Seeds one database; the first seeding mints the tokens, the others store the same ones."""
    command = [str(python), str(AGNO_SIDE / "seed_auth.py"), "--url", sqlalchemy_url(url), "--db-id", db_id]
    if pats is not None:
        command += ["--tokens", json.dumps(pats)]
    seeded = subprocess.run(
        command, cwd=REPO, env={**_clean_env(), "AGNO_TELEMETRY": "false"}, capture_output=True, check=True
    )
    tokens: dict[str, str] = json.loads(seeded.stdout.decode().strip().splitlines()[-1])["tokens"]
    return tokens


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


@pytest.fixture(scope="module")
def auth_pairs(pg_cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthPairs]:
    python = ensure_venv()
    logdir: Path = tmp_path_factory.mktemp("auth-contract-logs")
    dsns = {mode: pg_cluster.create_database(f"contract_auth_{mode}") for mode in MODES}
    urls = {mode: pg_cluster.url_for(dsn) for mode, dsn in dsns.items()}
    pats = seed(python, urls["jwt"], DB_ID, None)
    for mode in ("key", "open"):
        seed(python, urls[mode], DB_ID, pats)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    servers: list[Server] = []
    pairs: dict[str, AuthPair] = {}
    try:
        for mode, (theirs_env, ours_env) in MODES.items():
            jwt_env = {"JWT_VERIFICATION_KEY": public_pem} if mode == "jwt" else {}
            agentos = start_agentos(
                f"agentos-auth-{mode}",
                python,
                [(DB_ID, sqlalchemy_url(urls[mode]))],
                logdir,
                None,
                {**jwt_env, **theirs_env},
            )
            servers.append(agentos)
            ours = start_service(
                f"sut-auth-{mode}",
                {DB_ID: urls[mode]},
                logdir,
                None,
                {**jwt_env, **ours_env, "AGNO_MAX_PAGE_SIZE": "10000000000"},
            )
            servers.append(ours)
            pairs[mode] = AuthPair(agentos, ours, dsns[mode])
        for server in servers:
            server.wait(180)  # a dozen servers start at once on a loaded machine
        yield AuthPairs(pairs, sign_tokens(key, public_pem, pats))
    finally:
        for server in servers:
            server.stop()


# ------------------------------------------------------------------------------------------------ running
def request(server: Server, case: AuthCase, tokens: dict[str, str], twin: str) -> Answer:
    headers = dict(case.headers)
    if case.token is not None:
        headers["Authorization"] = case.scheme + tokens[case.token]
    body = substitute(case.body, {"{T}": twin}) if case.body is not NO_BODY else NO_BODY
    return send(server.base_url, case.method, substitute(case.path, {"{T}": twin}), case.query, body, headers=headers)


_SCHEMAS: dict[str, ResponseSchemas] = {}


def schema_problems(server: Server, method: str, path: str, answer: Answer) -> list[str]:
    """Our answer against the schema our own /openapi.json declares for it (compiled once per server)."""
    if server.base_url not in _SCHEMAS:
        _SCHEMAS[server.base_url] = ResponseSchemas(send(server.base_url, "GET", "/openapi.json").json)
    problems = _SCHEMAS[server.base_url].problems(method, path, answer.status, answer.content_type, answer.json)
    return [f"ours vs our /openapi.json: {p}" for p in problems]


def differences(theirs: Answer, ours: Answer, repl: Any) -> list[str]:
    # twins' own created_at/updated_at differ by a second; /health's start time is each server's own
    formats = dict(TWIN_TIME) if repl else {}
    answers = compare(
        theirs.status,
        theirs.json,
        ours.status,
        normalize(ours.json, repl),
        formats=formats,
        ignore_paths=("instantiated_at",),
    )
    found = [str(d) for d in answers]
    for name in COMPARED_HEADERS:
        if theirs.headers.get(name) != ours.headers.get(name):
            found.append(f"header {name}: AgentOS {theirs.headers.get(name)!r}, ours {ours.headers.get(name)!r}")
    return found


@pytest.mark.contract
@pytest.mark.parametrize("case", CASES, ids=[f"{c.mode}:{c.name}" for c in CASES])
def test_auth_case(case: AuthCase, auth_pairs: AuthPairs) -> None:
    tokens, pair = auth_pairs.tokens, auth_pairs.pairs[case.mode]
    twin = "{T}" in json.dumps([case.path, case.body if case.body is not NO_BODY else None])
    theirs = request(pair.agentos, case, tokens, TWIN_OS)
    ours = request(pair.ours, case, tokens, TWIN_US if twin else TWIN_OS)
    repl = twin_repl(twin)
    found = differences(theirs, ours, repl)
    ours_path = substitute(case.path, {"{T}": TWIN_US if twin else TWIN_OS})
    found += schema_problems(pair.ours, case.method, ours_path, ours)
    assert theirs.status < 500, f"AgentOS answered {theirs.status}: {theirs.json}"
    reader = (
        {"Authorization": "Bearer " + tokens["admin" if case.mode == "jwt" else "key"]} if case.mode != "open" else {}
    )
    for sid in case.readback:
        os_id, us_id = substitute(sid, {"{T}": TWIN_OS}), substitute(sid, {"{T}": TWIN_US if twin else TWIN_OS})
        for path_id in {os_id, us_id}:
            a = send(pair.agentos.base_url, "GET", f"/sessions/{path_id}", headers=reader)
            b = send(pair.ours.base_url, "GET", f"/sessions/{path_id}", headers=reader)
            found += [f"read-back {path_id}: {d}" for d in differences(a, b, twin_repl(False))]
            found += schema_problems(pair.ours, "GET", f"/sessions/{path_id}", b)
        if twin:
            found += [
                f"row {os_id} vs {us_id}: {d}"
                for d in compare(None, _row(pair.dsn, os_id), None, normalize(_row(pair.dsn, us_id), repl))
                if "_at" not in d.path
            ]
    assert not found, (
        f"{case.method} {case.path} [{case.token}]\n"
        + "\n".join(found)
        + (f"\nAgentOS: {theirs.status} {theirs.json}\nours:    {ours.status} {ours.json}")
    )
