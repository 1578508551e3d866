"""Who is calling and what they may do: AgentOS 3.1.10's auth layer for `/sessions`.

One decision per request, from the headers alone (plus a database lookup for `agno_pat_` tokens), by
the mode the configured credentials select (docs/security.md "Modes"). The outcome is a `Principal`;
`scoped_user_id` turns it into the owner every query is filtered by.
"""

from __future__ import annotations

import fnmatch
import hmac
from dataclasses import dataclass
from typing import Any, Protocol

from service.config import AuthConfig
from service.errors import ApiError
from service.tokens import TokenRejected, TokenVerifier

SERVICE_ACCOUNT_TOKEN_PREFIX = "agno_pat_"  # noqa: S105 -- a prefix, not a secret
SERVICE_ACCOUNT_PRINCIPAL_PREFIX = "sa:"
RESERVED_PRINCIPAL_PREFIXES = (SERVICE_ACCOUNT_PRINCIPAL_PREFIX, "__oauth__:")
SCHEDULER_PRINCIPAL = "__scheduler__"
MISSING_USER_IDENTITY = "Authenticated request is missing a user identity"

# AgentOS leaves these paths open (agno's AuthMiddleware defaults); ours adds the probes and metrics.
EXEMPT_PATHS = ("/", "/health", "/info", "/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")
SERVICE_EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")

# AgentOS's scope mappings for the session routes (agno.os.scopes), matched with fnmatch like agno:
# a `*` also spans slashes, so `GET /sessions/*` covers runs, previews and media.
ROUTE_SCOPES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/sessions", "sessions:read"),
    ("GET", "/sessions/*", "sessions:read"),
    ("POST", "/sessions", "sessions:write"),
    ("POST", "/sessions/*/rename", "sessions:write"),
    ("PATCH", "/sessions/*", "sessions:write"),
    ("DELETE", "/sessions", "sessions:delete"),
    ("DELETE", "/sessions/*", "sessions:delete"),
)


class AuthError(ApiError):
    """A 401/403/429/503 of the auth layer; with an allowed Origin it carries AgentOS's extra CORS headers."""

    def __init__(self, status: int, detail: str, reason: str) -> None:
        super().__init__(status, detail)
        self.reason = reason


@dataclass(frozen=True)
class Principal:
    """The caller, as AgentOS's request state holds it."""

    kind: str
    """anonymous | advisory (self-asserted user_id) | key | jwt | service_account"""
    user_id: Any = None
    scopes: tuple[Any, ...] = ()
    isolation: bool = False
    """AgentOS's `request.state.user_isolation_enabled`."""

    @property
    def name(self) -> str | None:
        """What the access log shows: the subject or `sa:<name>`, never a token."""
        return None if self.user_id is None else str(self.user_id)


ANONYMOUS = Principal("anonymous")
KEY_HOLDER = Principal("key")


def required_scope(method: str, path: str) -> str | None:
    for route_method, pattern, scope in ROUTE_SCOPES:
        if route_method == method and (path == pattern or fnmatch.fnmatchcase(path, pattern)):
            return scope
    return None


def has_scope(scopes: tuple[Any, ...], required: str, admin_scope: str) -> bool:
    """agno's `has_required_scopes` for a global requirement: the admin scope, `family:action` or
    `family:*:action`; anything else (other families, per-resource ids, non-strings) does not grant it."""
    family, action = required.split(":")
    for scope in scopes:
        if not isinstance(scope, str):
            continue
        if scope == admin_scope:
            return True
        parts = scope.split(":")
        if len(parts) == 2 and parts[0] == family and parts[1] == action:
            return True
        if len(parts) == 3 and parts[0] == family and parts[1] == "*" and parts[2] == action:
            return True
    return False


def is_reserved(user_id: Any) -> bool:
    if not isinstance(user_id, str):
        return False
    return user_id.startswith(RESERVED_PRINCIPAL_PREFIXES) or user_id == SCHEDULER_PRINCIPAL


def bearer_token(header: str) -> str:
    """AgentOS's extraction: `Bearer <t>` in any case, else the whole (stripped) value."""
    return header[7:].strip() if header[:7].lower() == "bearer " else header.strip()


class ServiceAccountLookup(Protocol):
    async def principal(self, token: str, client: str) -> tuple[str, tuple[str, ...]]: ...


class Authenticator:
    """The auth decision of every request (`BaseHandler.prepare`)."""

    def __init__(self, config: AuthConfig, service_accounts: ServiceAccountLookup | None) -> None:
        self.config = config
        self.service_accounts = service_accounts
        self.tokens = (
            TokenVerifier(
                keys=config.jwt_keys,
                jwks_file=config.jwks_file,
                jwks_url=config.jwks_url,
                algorithm=config.jwt_algorithm,
                audience=config.jwt_audience,
                issuer=config.jwt_issuer,
            )
            if config.jwt_configured
            else None
        )

    def exempt(self, path: str) -> bool:
        """agno's excluded-route rule: the path or the path without trailing slashes (so `//` is not `/`)."""
        return any(p in EXEMPT_PATHS or p in SERVICE_EXEMPT_PATHS for p in (path, path.rstrip("/")))

    async def authenticate(
        self,
        method: str,
        path: str,
        authorization: str | None,
        query_user_id: str | None,
        client: str,
        routed: bool = True,
    ) -> Principal:
        """The caller of `method path` (path without trailing slash, percent-decoded), or AuthError.
        `routed`: a route serves this method here (not a 404/405 to be)."""
        config = self.config
        token = bearer_token(authorization or "")
        if not config.enabled:
            if routed and token.startswith(SERVICE_ACCOUNT_TOKEN_PREFIX) and not self.exempt(path):
                # AgentOS's route dependency on an open instance: a token that verifies counts
                # (its scopes too); one that does not is ignored like any other header
                try:
                    return await self._service_account(method, path, token, client)
                except AuthError as exc:
                    if exc.status == 403:
                        raise ApiError(403, exc.detail) from None
            if config.user_isolation and query_user_id and not is_reserved(query_user_id):
                return Principal("advisory", query_user_id, (), True)
            return ANONYMOUS
        if method == "OPTIONS" or self.exempt(path):
            return ANONYMOUS
        if not token:
            detail = "Authorization header missing" if self.tokens is not None else "Authorization header required"
            raise AuthError(401, detail, "missing")
        if token.startswith(SERVICE_ACCOUNT_TOKEN_PREFIX):
            return await self._service_account(method, path, token, client)
        if self.tokens is None:
            if self._key_matches(token):
                return KEY_HOLDER
            raise AuthError(401, "Invalid authentication token", "invalid")
        return await self._jwt(method, path, token)

    def _key_matches(self, token: str) -> bool:
        """The security key, compared in constant time."""
        key = self.config.security_key or ""
        return bool(key) and hmac.compare_digest(
            token.encode("utf-8", "surrogatepass"), key.encode("utf-8", "surrogatepass")
        )

    def _require_scope(self, method: str, path: str, scopes: tuple[Any, ...]) -> None:
        required = required_scope(method, path)
        if required and not has_scope(scopes, required, self.config.admin_scope):
            raise AuthError(403, f"Insufficient permissions. Required scope(s): {required}", "scope")

    async def _jwt(self, method: str, path: str, token: str) -> Principal:
        assert self.tokens is not None  # noqa: S101 -- narrowing: only called in JWT mode
        try:
            claims = await self.tokens.verify(token)
        except TokenRejected as exc:
            raise AuthError(401, exc.detail, exc.reason) from None
        return self._jwt_principal(method, path, claims)

    def _jwt_principal(self, method: str, path: str, claims: dict[str, Any]) -> Principal:
        user_id = claims.get(self.config.jwt_user_id_claim)
        if is_reserved(user_id):
            raise AuthError(401, "Invalid token subject", "subject")
        raw_scopes = claims.get("scopes", [])
        scopes: tuple[Any, ...] = ()
        if isinstance(raw_scopes, str):
            scopes = (raw_scopes,)
        elif isinstance(raw_scopes, list):
            scopes = tuple(raw_scopes)
        if self.config.authorization:
            self._require_scope(method, path, scopes)
        return Principal("jwt", user_id, scopes, self.config.user_isolation)

    def refuses_unread(self, method: str, path: str, authorization: str | None) -> bool:
        """Whether the headers alone already decide a 401/403, so the body need not be kept
        (docs/reliability.md): no credential, a wrong key, a JWT that fails with the keys at hand.
        Undecided (a service-account token, a JWT whose key must be fetched first) keeps the body."""
        if not self.config.enabled or method == "OPTIONS" or self.exempt(path):
            return False
        token = bearer_token(authorization or "")
        if not token:
            return True
        if token.startswith(SERVICE_ACCOUNT_TOKEN_PREFIX):
            return False
        if self.tokens is None:
            return not self._key_matches(token)
        if not self.tokens.keys_known_for(token):
            return False
        try:
            self._jwt_principal(method, path, self.tokens.verify_with_known_keys(token))
        except (TokenRejected, AuthError):
            return True
        return False

    async def _service_account(self, method: str, path: str, token: str, client: str) -> Principal:
        if self.service_accounts is None:
            raise AuthError(401, "Service accounts are not enabled on this AgentOS instance", "invalid")
        user_id, scopes = await self.service_accounts.principal(token, client)
        self._require_scope(method, path, scopes)
        return Principal("service_account", user_id, scopes, self.config.user_isolation)

    def scoped_user_id(self, principal: Principal) -> str | None:
        """agno's `get_scoped_user_id`: the owner a caller is confined to, or None (sees everyone's)."""
        if self.config.admin_scope in principal.scopes:
            return None
        user_id = principal.user_id
        if isinstance(user_id, str) and user_id.startswith(SERVICE_ACCOUNT_PRINCIPAL_PREFIX):
            return user_id
        if not principal.isolation:
            return None
        if not user_id:
            raise ApiError(403, MISSING_USER_IDENTITY)
        return str(user_id)
