"""JWT verification with PyJWT, the way AgentOS 3.1.10's `JWTValidator` does it.

Key sources (a key, a JWKS file, beyond AgentOS a JWKS URL refetched for an unknown `kid`) and the
cache of verified tokens: docs/security.md. Error texts are AgentOS's and embed PyJWT's own wording,
which is why pyproject.toml pins the PyJWT release agno 3.1.10 installs.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import PyJWK
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

log = logging.getLogger("agno_session.auth")

LEEWAY_SECONDS = 10
JWKS_REFETCH_SECONDS = 30.0
"""An unknown `kid` refetches the JWKS URL at most this often (a flood of forged kids costs nothing)."""
JWKS_FETCH_TIMEOUT = 5.0
TOKEN_CACHE_SIZE = 4096


class TokenRejected(Exception):
    """The token is not acceptable; `detail` is AgentOS's 401 text."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reason = reason


def check_key_material(key: str | None, jwks_file: str | None, algorithm: str) -> str | None:
    """A start-up problem with the configured keys, as one line naming the variable; None if usable."""
    family = algorithm[:2]
    if key:
        is_pem = "-----BEGIN" in key
        if family == "HS" and is_pem:
            return f"JWT_VERIFICATION_KEY: a PEM key cannot verify {algorithm} (HMAC takes a shared secret)"
        if family != "HS":
            if not is_pem:
                return f"JWT_VERIFICATION_KEY: {algorithm} needs a PEM public key"
            try:
                jwt.get_algorithm_by_name(algorithm).prepare_key(key)
            except (jwt.PyJWTError, ValueError, TypeError) as exc:
                return f"JWT_VERIFICATION_KEY: not a usable {algorithm} public key ({type(exc).__name__})"
    if jwks_file:
        try:
            with open(jwks_file, encoding="utf-8") as handle:
                data = json.load(handle)
        except OSError:
            return f"JWT_JWKS_FILE: cannot read {jwks_file!r}"
        except ValueError:
            return f"JWT_JWKS_FILE: {jwks_file!r} is not valid JSON"
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            return f'JWT_JWKS_FILE: {jwks_file!r} has no "keys" list'
    return None


def parse_jwks(data: Any) -> dict[str, PyJWK]:
    """`kid` -> key; a key without `kid` is the default key. Unusable keys are skipped, like agno."""
    keys: dict[str, PyJWK] = {}
    entries = data.get("keys", []) if isinstance(data, dict) else []
    for entry in entries if isinstance(entries, list) else []:
        try:
            kid = entry.get("kid")
            keys[kid or "_default"] = PyJWK.from_dict(entry)
        except Exception as exc:  # PyJWK raises several unrelated types for bad keys
            log.warning("skipping an unusable JWKS key: %s", exc)
    return keys


@dataclass(frozen=True)
class Claims:
    payload: dict[str, Any]
    expires: float | None


class TokenVerifier:
    """Verifies bearer JWTs against static keys, a JWKS file and/or a JWKS URL."""

    def __init__(
        self,
        *,
        keys: Iterable[str] = (),
        jwks_file: str | None = None,
        jwks_url: str | None = None,
        algorithm: str = "RS256",
        audience: tuple[str, ...] = (),
        issuer: str | None = None,
    ) -> None:
        self.algorithm = algorithm
        self.audience = audience
        self.issuer = issuer
        self._keys = list(keys)
        self._jwks: dict[str, PyJWK] = {}
        self._jwks_file = jwks_file
        self._jwks_url = jwks_url
        self._jwks_refetched_at = -JWKS_REFETCH_SECONDS
        self._jwks_lock = asyncio.Lock()
        self._cache: OrderedDict[bytes, Claims] = OrderedDict()

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or TokenRejected with AgentOS's detail."""
        if self._jwks_url and not self.keys_known_for(token):
            await self._refresh_jwks_for(token)
        return self.verify_with_known_keys(token)

    def keys_known_for(self, token: str) -> bool:
        """Whether the keys at hand can decide on `token` (no JWKS URL fetch is due for its kid)."""
        if not self._jwks_url:
            return True
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.InvalidTokenError:
            return True  # malformed: decided without any key
        return bool(self._jwks) and (kid in self._jwks or (not kid and "_default" in self._jwks))

    def verify_with_known_keys(self, token: str) -> dict[str, Any]:
        digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            if cached.expires is None or time.time() <= cached.expires + LEEWAY_SECONDS:
                self._cache.move_to_end(digest)
                return cached.payload
            del self._cache[digest]
        if self._jwks_file:
            self._load_jwks_file()
        payload = self._decode(token)
        exp = payload.get("exp")
        self._cache[digest] = Claims(payload, float(exp) if isinstance(exp, int | float) else None)
        while len(self._cache) > TOKEN_CACHE_SIZE:
            self._cache.popitem(last=False)
        return payload

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            payload = self._decode_signed(token)
            self._check_audience_and_issuer(payload)
        except jwt.InvalidAudienceError:
            raise TokenRejected(
                "Invalid token audience - token not valid for this AgentOS instance", "audience"
            ) from None
        except jwt.ExpiredSignatureError:
            raise TokenRejected("Token has expired", "expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(f"Invalid token: {exc}", "invalid") from None
        except Exception as exc:  # AgentOS answers any other decoding failure with its message too
            raise TokenRejected(f"Error decoding token: {exc}", "invalid") from None
        return payload

    def _decode_signed(self, token: str) -> dict[str, Any]:
        def decode(key: Any) -> dict[str, Any]:
            options: Any = {"verify_aud": False}
            return dict(jwt.decode(token, key, algorithms=[self.algorithm], leeway=LEEWAY_SECONDS, options=options))

        last: Exception | None = None
        if self._jwks:
            try:
                kid = jwt.get_unverified_header(token).get("kid")
                jwk = self._jwks.get(kid) if kid else None
                jwk = jwk or self._jwks.get("_default")
                if jwk is not None:
                    return decode(jwk.key)
            except jwt.ExpiredSignatureError:
                raise
            except jwt.InvalidTokenError as exc:
                if not self._keys:
                    raise
                last = exc
        for key in self._keys:
            try:
                return decode(key)
            except jwt.ExpiredSignatureError:
                raise
            except jwt.InvalidTokenError as exc:
                last = exc
        if last is not None:
            raise last
        raise jwt.InvalidTokenError("No verification keys configured")

    def _check_audience_and_issuer(self, payload: dict[str, Any]) -> None:
        if self.audience:
            token_audience = _required_claim(payload, "aud", "Audience")
            audiences = token_audience if isinstance(token_audience, list) else [token_audience]
            if not any(aud in self.audience for aud in audiences):
                raise jwt.InvalidAudienceError("Invalid audience")
        if self.issuer:
            token_issuer = _required_claim(payload, "iss", "Issuer")
            if token_issuer != self.issuer:
                raise jwt.InvalidIssuerError(f"Invalid issuer. Expected: {self.issuer}, got: {token_issuer}")

    def _load_jwks_file(self) -> None:
        """Read once, on the first token (start-up already checked the file: make_app does no I/O)."""
        assert self._jwks_file is not None  # noqa: S101 -- narrowing: only called with a JWKS file
        with open(self._jwks_file, encoding="utf-8") as handle:
            self._jwks = parse_jwks(json.load(handle))
        self._jwks_file = None

    # ------------------------------------------------------------------ JWKS URL
    async def _refresh_jwks_for(self, token: str) -> None:
        """Fetch the JWKS on first use and again, rate-limited, when the token names an unknown kid."""
        kid = jwt.get_unverified_header(token).get("kid")
        async with self._jwks_lock:
            if self._jwks and kid in self._jwks:
                return
            if self._jwks:
                # a refetch for an unknown kid (the first load does not count against the limit)
                if time.monotonic() - self._jwks_refetched_at < JWKS_REFETCH_SECONDS:
                    return
                self._jwks_refetched_at = time.monotonic()
            await self.fetch_jwks()

    async def fetch_jwks(self) -> bool:
        """Load the JWKS URL's keys (kept as they were when the fetch fails)."""
        assert self._jwks_url is not None  # noqa: S101 -- narrowing: only called with a JWKS URL
        try:
            response = await AsyncHTTPClient().fetch(
                self._jwks_url, request_timeout=JWKS_FETCH_TIMEOUT, connect_timeout=JWKS_FETCH_TIMEOUT
            )
            keys = parse_jwks(json.loads(response.body))
        except (HTTPClientError, OSError, ValueError) as exc:
            log.warning("could not fetch the JWKS from AGNO_JWT_JWKS_URL: %s", type(exc).__name__)
            return False
        if keys:
            self._jwks = keys
            self._cache.clear()  # a rotated-out key must not keep verifying cached tokens
        return bool(keys)


def _required_claim(payload: dict[str, Any], claim: str, what: str) -> Any:
    """A claim that verification needs, else PyJWT's error text for its absence (as AgentOS answers)."""
    value = payload.get(claim)
    if value is None:
        message = (
            f'Token is missing the "{claim}" claim. {what} verification requires this claim to be present in the token.'
        )
        raise jwt.InvalidTokenError(message)
    return value
