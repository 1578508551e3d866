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


class DbIdRequired(Exception):
    """A request must name its database: it names a table, or several databases have no default."""

    def __init__(self, for_table: bool) -> None:
        super().__init__("db_id required when passing a table" if for_table else "db_id required")
        self.for_table = for_table


class DatabaseNotFound(Exception):
    """No database is configured under the requested db_id."""

    def __init__(self, db_id: str) -> None:
        super().__init__(db_id)
        self.db_id = db_id


class TableNotFound(Exception):
    """The database does not have (or may not be asked for) the requested table."""

    def __init__(self, db_id: str, table: str) -> None:
        super().__init__(db_id, table)
        self.db_id = db_id
        self.table = table


class ExpensiveBusy(Exception):
    """Every slot for expensive requests stayed taken for the configured wait."""


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
