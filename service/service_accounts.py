"""Service-account tokens (`agno_pat_…`), verified like AgentOS 3.1.10's `ServiceAccountVerifier`.

A token is looked up by its SHA-256 in the `agno_service_accounts` table of the default database
(AgentOS's own database, shared with this service). Successful checks are remembered for
`AGNO_SERVICE_ACCOUNT_CACHE_SECONDS` (30 s, like agno; expiry still honoured on every hit), so a
revocation takes effect within that time. Failed lookups are limited per client address: the 21st
within a minute answers 429 without telling whether the token exists (docs/security.md).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import psycopg2

from service.auth import SERVICE_ACCOUNT_PRINCIPAL_PREFIX, AuthError
from service.db import Databases
from service.errors import DatabaseUnavailable, PoolExhausted, StatementTimeout

log = logging.getLogger("agno_session.auth")

MAX_FAILURES = 20
FAILURE_WINDOW_SECONDS = 60.0
LAST_USED_INTERVAL_SECONDS = 60.0
MAX_ENTRIES = 2048


@dataclass(frozen=True)
class Account:
    name: str
    scopes: tuple[str, ...]
    expires_at: int | None

    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= int(time.time())


class ServiceAccounts:
    def __init__(self, databases: Databases, cache_seconds: float) -> None:
        self._databases = databases
        self._cache_seconds = cache_seconds
        self._verified: OrderedDict[str, tuple[Account, float]] = OrderedDict()
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self._touched: OrderedDict[str, float] = OrderedDict()

    async def principal(self, token: str, client: str) -> tuple[str, tuple[str, ...]]:
        """(`sa:<name>`, the account's scopes), or AuthError 401/429/503 with AgentOS's details."""
        token_hash = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
        account = self._cached(token_hash)
        if account is None:
            account = await self._lookup(token_hash)
            if account is None:
                if self._limited(client):
                    raise AuthError(429, "Too many failed authentication attempts", "throttled")
                self._record_failure(client)
                raise AuthError(401, "Invalid or expired service account token", "service_account")
            if self._cache_seconds > 0:
                self._verified[token_hash] = (account, time.monotonic())
                _trim(self._verified)
        await self._touch(token_hash)
        return SERVICE_ACCOUNT_PRINCIPAL_PREFIX + account.name, account.scopes

    def _cached(self, token_hash: str) -> Account | None:
        entry = self._verified.get(token_hash)
        if entry is None:
            return None
        account, at = entry
        if time.monotonic() - at > self._cache_seconds or account.expired():
            del self._verified[token_hash]
            return None
        self._verified.move_to_end(token_hash)
        return account

    async def _lookup(self, token_hash: str) -> Account | None:
        try:
            row = await self._databases.default().service_account(token_hash)
        except (DatabaseUnavailable, PoolExhausted, StatementTimeout, psycopg2.Error) as exc:
            log.error("service account lookup failed: %s", type(exc).__name__)
            raise AuthError(503, "Authentication is temporarily unavailable", "unavailable") from None
        if row is None or row["revoked_at"] is not None:
            return None
        scopes = row["scopes"] if isinstance(row["scopes"], list) else []
        expires = row["expires_at"]
        account = Account(row["name"], tuple(scopes), None if expires is None else int(expires))
        return None if account.expired() else account

    async def _touch(self, token_hash: str) -> None:
        now = time.monotonic()
        last = self._touched.get(token_hash)
        if last is not None and now - last < LAST_USED_INTERVAL_SECONDS:
            return
        self._touched[token_hash] = now
        _trim(self._touched)
        params = {"token_hash": token_hash, "now": int(time.time())}
        try:
            await self._databases.default().write(lambda cur: cur.run("touch_service_account", params))
        except Exception as exc:  # a bookkeeping write must never fail the request, like agno
            log.warning("could not record a service account's last use: %s", type(exc).__name__)

    def _limited(self, client: str) -> bool:
        cutoff = time.monotonic() - FAILURE_WINDOW_SECONDS
        fresh = [t for t in self._failures.get(client, []) if t > cutoff]
        if fresh:
            self._failures[client] = fresh
        else:
            self._failures.pop(client, None)
        return len(fresh) >= MAX_FAILURES

    def _record_failure(self, client: str) -> None:
        self._failures.setdefault(client, []).append(time.monotonic())
        self._failures.move_to_end(client)
        _trim(self._failures)


def _trim(entries: OrderedDict[str, Any]) -> None:
    while len(entries) > MAX_ENTRIES:
        entries.popitem(last=False)
