"""Exceptions that become HTTP answers, with AgentOS's body shapes (docs/agentos.md §2)."""

from __future__ import annotations

from typing import Any

from tornado.web import HTTPError


class ApiError(HTTPError):
    """An answer of `status` with body `{"detail": detail}` (detail: a string or a 422 list)."""

    def __init__(self, status: int, detail: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.detail = detail
        self.headers = headers or {}


class DatabaseUnavailable(Exception):
    """The database could not be reached (connection refused, lost, restarting)."""


class PoolExhausted(Exception):
    """No pooled connection became free within the configured wait."""


class StatementTimeout(Exception):
    """PostgreSQL cancelled a statement at `statement_timeout`."""


class TablesMissing(Exception):
    """agno's tables do not exist and AGNO_AUTO_PROVISION=false forbids creating them."""


class MediaObjectMissing(Exception):
    """A media object is absent, or its key resolves nowhere the storage may read (AgentOS: 404)."""


class MediaStorageFailed(Exception):
    """The media storage failed; `detail` is AgentOS's text for the step (fetch, or signing a URL)."""

    def __init__(self, detail: str, reason: str) -> None:
        super().__init__(reason)
        self.detail = detail
