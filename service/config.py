"""Configuration from the environment: one frozen dataclass, validated at start-up.

Every problem raises `ConfigError` with one line naming the variable; DSNs are never echoed
(only their db_id), so a password cannot reach a log through a configuration error.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
SINGLE_DB_ID = "default"
DEFAULT_TRUSTED_PROXIES = "127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
"""Loopback and private ranges: where a cluster's ingress controller or load balancer connects from."""
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(ValueError):
    """A bad environment value; the message names the variable."""


# AgentOS's default browser origins (agno.os.settings): its web UI and local front-ends.
DEFAULT_CORS_ORIGINS = (
    "http://localhost:3000",
    "https://agno.com",
    "https://www.agno.com",
    "https://app.agno.com",
    "https://os-stg.agno.com",
    "https://os.agno.com",
)
JWT_ALGORITHMS = (*(f"{family}{bits}" for family in ("HS", "RS", "ES", "PS") for bits in (256, 384, 512)), "EdDSA")


@dataclass(frozen=True)
class AuthConfig:
    security_key: str | None = None
    jwt_keys: tuple[str, ...] = ()
    """Static verification keys (JWT_VERIFICATION_KEY): a PEM public key or a shared secret."""
    jwks_file: str | None = None
    jwks_url: str | None = None
    jwt_algorithm: str = "RS256"
    jwt_audience: tuple[str, ...] = ()
    """Expected audiences; empty: the audience is not verified."""
    jwt_issuer: str | None = None
    jwt_user_id_claim: str = "sub"
    authorization: bool = False
    """Enforce scopes on JWTs, like `AgentOS(authorization=True)`."""
    user_isolation: bool = False
    admin_scope: str = "agent_os:admin"
    service_accounts_table: str = "agno_service_accounts"
    service_account_cache_seconds: float = 30.0
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS

    @property
    def jwt_configured(self) -> bool:
        return bool(self.jwt_keys or self.jwks_file or self.jwks_url)

    @property
    def enabled(self) -> bool:
        """Whether requests must authenticate (AgentOS installs its auth middleware)."""
        return self.jwt_configured or self.authorization or bool(self.security_key)


@dataclass(frozen=True)
class Config:
    dsn_map: tuple[tuple[str, str], ...]
    """(db_id, libpq dsn) pairs in configuration order."""
    default_db_id: str | None
    """Database used when a request names no db_id; None: db_id required when several are configured."""
    host: str = "0.0.0.0"  # noqa: S104 -- a service in a container listens on every interface (README)
    port: int = 8080
    auto_provision: bool = True
    db_schema: str = "ai"
    session_table: str = "agno_sessions"
    runs_table: str = "agno_runs"
    pool_min_size: int = 0
    pool_max_size: int = 10
    pool_timeout: float = 5.0
    request_timeout: float = 60.0
    statement_timeout: float = 55.0
    max_body_bytes: int = 1024 * 1024
    max_page_size: int = 1000
    count_cache_size: int = 1024
    """List totals remembered per database (service/counts.py); 0 counts on every request."""
    answer_cache_bytes: int = 16 * 1024 * 1024
    """Rendered GET answers kept per database for reuse (service/answers.py); 0 renders every time."""
    conditional_gets: bool = True
    """Weak ETags on reusable GET answers and 304 to a matching If-None-Match (service/answers.py)."""
    workers: int = 1
    drain_seconds: float = 10.0
    log_level: str = "INFO"
    trust_proxy_headers: bool = True
    auth: AuthConfig = AuthConfig()
    """Who may call: security key, JWT, scopes, isolation, service accounts, CORS (docs/security.md)."""
    trusted_proxies: tuple[IPNetwork, ...] = ()
    """Peers whose X-Forwarded-For / X-Real-IP is believed (AGNO_TRUSTED_PROXIES)."""
    max_header_bytes: int = 16 * 1024
    header_timeout: float = 10.0
    write_timeout: float = 30.0
    max_connections: int = 1000
    max_buffered_body_bytes: int = 32 * 1024 * 1024
    """Bytes of request bodies being received at once, across the process (service/limits.py)."""
    search_max_length: int = 256
    expensive_concurrency: int = 8
    """Expensive requests (name searches, pages over 100 rows) at once per database (a bulkhead)."""
    expensive_timeout: float = 10.0
    media_backend: str | None = None
    """"local" or "s3" (AGNO_MEDIA_STORAGE); None: the media routes answer 503 like AgentOS without storage."""
    media_location: str = ""
    """The local root directory, or the S3 bucket."""
    media_prefix: str = ""
    """The S3 key prefix agno writes under (informational: keys are read whole from the references)."""
    media_s3_region: str | None = None
    media_s3_endpoint_url: str | None = None

    @property
    def db_ids(self) -> list[str]:
        return [db_id for db_id, _ in self.dsn_map]


def normalize_dsn(dsn: str, variable: str) -> str:
    """Accept postgres://, postgresql://, postgresql+<driver>:// URLs and libpq key=value strings."""
    dsn = dsn.strip()
    if not dsn:
        raise ConfigError(f"{variable}: empty DSN")
    match = re.match(r"^(postgres|postgresql)(\+[a-z0-9_]+)?://", dsn)
    if match:
        return "postgresql://" + dsn[match.end() :]
    if "://" in dsn:
        raise ConfigError(f"{variable}: unsupported DSN scheme (use postgresql://, postgres:// or key=value)")
    if "=" not in dsn:
        raise ConfigError(f"{variable}: not a PostgreSQL DSN (expected a URL or libpq key=value pairs)")
    return dsn


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"{name}: expected true or false, got {raw!r}")


def _number(env: Mapping[str, str], name: str, default: float, minimum: float, integer: bool = False) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "an integer" if integer else "a number"
        raise ConfigError(f"{name}: expected {kind}, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}: must be at least {minimum:g}, got {raw!r}")
    return value


def _identifier(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip()
    if not _IDENTIFIER.match(value):
        raise ConfigError(f"{name}: not a plain SQL identifier: {value!r}")
    return value


def _dsn_map(env: Mapping[str, str]) -> tuple[tuple[tuple[str, str], ...], str | None]:
    raw_map = env.get("AGNO_SESSION_DSN_MAP", "").strip()
    default_raw = env.get("AGNO_DEFAULT_DB_ID")
    if raw_map:
        try:
            pairs = _ordered_pairs(raw_map)
        except ValueError:
            raise ConfigError('AGNO_SESSION_DSN_MAP: not valid JSON (expected {"db_id": "dsn", ...})') from None
        if not pairs:
            raise ConfigError("AGNO_SESSION_DSN_MAP: no databases in the map")
        dsn_map = []
        for db_id, dsn in pairs:
            if not isinstance(dsn, str) or not db_id.strip():
                raise ConfigError(f"AGNO_SESSION_DSN_MAP: entry {db_id!r} must map a non-empty id to a DSN string")
            dsn_map.append((db_id, normalize_dsn(dsn, f"AGNO_SESSION_DSN_MAP[{db_id}]")))
        ids = [db_id for db_id, _ in dsn_map]
        if len(set(ids)) != len(ids):
            raise ConfigError("AGNO_SESSION_DSN_MAP: duplicate db_id")
        if default_raw is None:
            return tuple(dsn_map), ids[0]
        if default_raw == "":
            return tuple(dsn_map), ids[0] if len(ids) == 1 else None
        if default_raw not in ids:
            raise ConfigError(f"AGNO_DEFAULT_DB_ID: {default_raw!r} is not a key of AGNO_SESSION_DSN_MAP")
        return tuple(dsn_map), default_raw
    for variable in ("AGNO_PG_DSN", "DATABASE_URL"):
        dsn = env.get(variable, "").strip()
        if dsn:
            db_id = (default_raw or "").strip() or SINGLE_DB_ID
            return ((db_id, normalize_dsn(dsn, variable)),), db_id
    raise ConfigError("no database configured: set AGNO_PG_DSN, DATABASE_URL or AGNO_SESSION_DSN_MAP")


def _ordered_pairs(raw: str) -> list[tuple[str, object]]:
    """The map's entries in JSON text order (the first key is the default database)."""
    pairs: list[tuple[str, object]] = []

    def hook(items: list[tuple[str, object]]) -> dict[str, object]:
        pairs.clear()
        pairs.extend(items)
        return dict(items)

    value = json.loads(raw, object_pairs_hook=hook)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return list(pairs)


def _networks(env: Mapping[str, str], name: str, default: str) -> tuple[IPNetwork, ...]:
    raw = env.get(name)
    text = default if raw is None else raw
    networks = []
    for part in text.split(","):
        if not part.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            raise ConfigError(f"{name}: not an IP address or CIDR range: {part.strip()!r}") from None
    return tuple(networks)


MediaSettings = tuple[str | None, str, str, str | None, str | None]


def _media(env: Mapping[str, str]) -> MediaSettings:
    """AGNO_MEDIA_STORAGE (`local:/path` or `s3://bucket/prefix`) and the S3 settings."""
    raw = (env.get("AGNO_MEDIA_STORAGE") or "").strip()
    region = (env.get("AGNO_MEDIA_S3_REGION") or "").strip() or None
    endpoint = (env.get("AGNO_MEDIA_S3_ENDPOINT_URL") or "").strip() or None
    if endpoint is not None and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", endpoint):
        raise ConfigError(f"AGNO_MEDIA_S3_ENDPOINT_URL: expected an http:// or https:// URL, got {endpoint!r}")
    if not raw:
        return None, "", "", None, None
    if raw.startswith("local:"):
        root = raw[len("local:") :].strip()
        if not root:
            raise ConfigError("AGNO_MEDIA_STORAGE: local: needs a directory (local:/path)")
        if region is not None or endpoint is not None:
            raise ConfigError("AGNO_MEDIA_S3_REGION: the S3 settings need AGNO_MEDIA_STORAGE=s3://bucket/prefix")
        return "local", root, "", None, None
    if raw.startswith("s3://"):
        bucket, _, prefix = raw[len("s3://") :].partition("/")
        if not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$", bucket):
            raise ConfigError(f"AGNO_MEDIA_STORAGE: not an S3 bucket name: {bucket!r}")
        return "s3", bucket, prefix, region, endpoint
    raise ConfigError("AGNO_MEDIA_STORAGE: expected local:/path or s3://bucket/prefix")


def load_config(env: Mapping[str, str] | None = None) -> Config:
    env = os.environ if env is None else env
    dsn_map, default_db_id = _dsn_map(env)
    session_table = _identifier(env, "AGNO_SESSION_TABLE", "agno_sessions")
    runs_default = "agno_runs" if session_table == "agno_sessions" else f"{session_table}_runs"
    request_timeout = _number(env, "AGNO_REQUEST_TIMEOUT", 60.0, 0.1)
    statement_default = max(request_timeout - 5.0, request_timeout * 0.9)
    statement_timeout = _number(env, "AGNO_STATEMENT_TIMEOUT", statement_default, 0.01)
    pool_min = int(_number(env, "AGNO_POOL_MIN_SIZE", 0, 0, integer=True))
    pool_max = int(_number(env, "AGNO_POOL_MAX_SIZE", 10, 1, integer=True))
    if pool_min > pool_max:
        raise ConfigError("AGNO_POOL_MIN_SIZE: larger than AGNO_POOL_MAX_SIZE")
    log_level = (env.get("AGNO_LOG_LEVEL") or "INFO").strip().upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"AGNO_LOG_LEVEL: unknown level {log_level!r}")
    auth = _auth_config(env)
    # the rest of the pool (a quarter, at least 2 connections where the pool allows) is kept for ordinary requests
    expensive_default = max(1, pool_max - max(2, pool_max // 4))
    expensive = int(_number(env, "AGNO_EXPENSIVE_CONCURRENCY", expensive_default, 1, integer=True))
    if expensive > pool_max:
        raise ConfigError("AGNO_EXPENSIVE_CONCURRENCY: larger than AGNO_POOL_MAX_SIZE")
    media_backend, media_location, media_prefix, media_region, media_endpoint = _media(env)
    return Config(
        dsn_map=dsn_map,
        default_db_id=default_db_id,
        host=(env.get("AGNO_SERVICE_HOST") or "0.0.0.0").strip(),  # noqa: S104
        port=int(_number(env, "AGNO_SERVICE_PORT", 8080, 0, integer=True)),
        auto_provision=_bool(env, "AGNO_AUTO_PROVISION", True),
        db_schema=_identifier(env, "AGNO_DB_SCHEMA", "ai"),
        session_table=session_table,
        runs_table=_identifier(env, "AGNO_RUNS_TABLE", runs_default),
        pool_min_size=pool_min,
        pool_max_size=pool_max,
        pool_timeout=_number(env, "AGNO_POOL_TIMEOUT", 5.0, 0.01),
        request_timeout=request_timeout,
        statement_timeout=statement_timeout,
        max_body_bytes=int(_number(env, "AGNO_MAX_BODY_BYTES", 1024 * 1024, 1, integer=True)),
        max_page_size=int(_number(env, "AGNO_MAX_PAGE_SIZE", 1000, 1, integer=True)),
        count_cache_size=int(_number(env, "AGNO_COUNT_CACHE_SIZE", 1024, 0, integer=True)),
        answer_cache_bytes=int(_number(env, "AGNO_ANSWER_CACHE_BYTES", 16 * 1024 * 1024, 0, integer=True)),
        conditional_gets=_bool(env, "AGNO_CONDITIONAL_GETS", True),
        workers=int(_number(env, "AGNO_WORKERS", 1, 1, integer=True)),
        drain_seconds=_number(env, "AGNO_DRAIN_SECONDS", 10.0, 0),
        log_level=log_level,
        trust_proxy_headers=_bool(env, "AGNO_TRUST_PROXY_HEADERS", True),
        trusted_proxies=_networks(env, "AGNO_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES),
        max_header_bytes=int(_number(env, "AGNO_MAX_HEADER_BYTES", 16 * 1024, 1024, integer=True)),
        header_timeout=_number(env, "AGNO_HEADER_TIMEOUT", 10.0, 0.1),
        write_timeout=_number(env, "AGNO_WRITE_TIMEOUT", 30.0, 0.1),
        max_connections=int(_number(env, "AGNO_MAX_CONNECTIONS", 1000, 1, integer=True)),
        max_buffered_body_bytes=int(_number(env, "AGNO_MAX_BUFFERED_BODY_BYTES", 32 * 1024 * 1024, 1, integer=True)),
        search_max_length=int(_number(env, "AGNO_SEARCH_MAX_LENGTH", 256, 1, integer=True)),
        expensive_concurrency=expensive,
        expensive_timeout=_number(env, "AGNO_EXPENSIVE_TIMEOUT", min(10.0, statement_timeout), 0.01),
        media_backend=media_backend,
        media_location=media_location,
        media_prefix=media_prefix,
        media_s3_region=media_region,
        media_s3_endpoint_url=media_endpoint,
        auth=auth,
    )


def _auth_config(env: Mapping[str, str]) -> AuthConfig:
    # Imported here: PyJWT is only needed to check key material once, at start-up.
    from service.tokens import check_key_material

    algorithm = (env.get("AGNO_JWT_ALGORITHM") or "RS256").strip()
    if algorithm not in JWT_ALGORITHMS:
        raise ConfigError(f"AGNO_JWT_ALGORITHM: unknown algorithm {algorithm!r} (one of {', '.join(JWT_ALGORITHMS)})")
    key = env.get("JWT_VERIFICATION_KEY") or ""
    jwks_file = (env.get("JWT_JWKS_FILE") or "").strip() or None
    jwks_url = (env.get("AGNO_JWT_JWKS_URL") or "").strip() or None
    if jwks_url and not re.match(r"^https?://", jwks_url):
        raise ConfigError("AGNO_JWT_JWKS_URL: expected an http:// or https:// URL")
    problem = check_key_material(key or None, jwks_file, algorithm)
    if problem:
        raise ConfigError(problem)
    audience = tuple(a.strip() for a in (env.get("AGNO_JWT_AUDIENCE") or "").split(",") if a.strip())
    verify_audience = _bool(env, "AGNO_JWT_VERIFY_AUDIENCE", bool(audience))
    if verify_audience and not audience:
        raise ConfigError("AGNO_JWT_VERIFY_AUDIENCE: true needs AGNO_JWT_AUDIENCE (the audience tokens must carry)")
    authorization = _bool(env, "AGNO_AUTHORIZATION", False)
    jwt_configured = bool(key or jwks_file or jwks_url)
    if authorization and not jwt_configured:
        raise ConfigError(
            "AGNO_AUTHORIZATION: true needs JWT_VERIFICATION_KEY, JWT_JWKS_FILE or AGNO_JWT_JWKS_URL to verify tokens"
        )
    origins_raw = env.get("AGNO_CORS_ALLOWED_ORIGINS")
    origins = tuple(o.strip() for o in (origins_raw or "").split(",") if o.strip() and o.strip() != "*")
    claim = (env.get("AGNO_JWT_USER_ID_CLAIM") or "sub").strip()
    security_key = env.get("OS_SECURITY_KEY") or None
    return AuthConfig(
        security_key=security_key,
        jwt_keys=(key,) if key else (),
        jwks_file=jwks_file,
        jwks_url=jwks_url,
        jwt_algorithm=algorithm,
        jwt_audience=audience if verify_audience else (),
        jwt_issuer=(env.get("AGNO_JWT_ISSUER") or "").strip() or None,
        jwt_user_id_claim=claim,
        authorization=authorization,
        user_isolation=_bool(env, "AGNO_USER_ISOLATION", False),
        admin_scope=(env.get("AGNO_ADMIN_SCOPE") or "agent_os:admin").strip(),
        service_accounts_table=_identifier(env, "AGNO_SERVICE_ACCOUNTS_TABLE", "agno_service_accounts"),
        service_account_cache_seconds=_number(env, "AGNO_SERVICE_ACCOUNT_CACHE_SECONDS", 30.0, 0),
        cors_origins=origins or DEFAULT_CORS_ORIGINS,
    )
