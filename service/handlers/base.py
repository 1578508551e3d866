"""The JSON API base handler: Tornado has no middleware, so this is it.

prepare(): request id, bearer auth (AgentOS §8.1), body size. Every HTTP verb a subclass defines
runs under the request timeout (wrapped in `__init_subclass__`, so no handler can forget it), and
infrastructure failures become JSON answers: 503 (database down, pool exhausted), 504 (timeout).
write_error(): one body shape, `{"detail": ...}`; unhandled errors never leak internals.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg2
import tornado.web

from service import metrics
from service.config import Config
from service.db import Database, Databases
from service.errors import (
    ApiError,
    DatabaseUnavailable,
    MediaObjectMissing,
    MediaStorageFailed,
    PoolExhausted,
    StatementTimeout,
    TablesMissing,
)
from service.jsonutil import dumps
from service.media import MediaStorage
from service.validation import Validator, parse_json_body

log = logging.getLogger("agno_session.api")

# AgentOS leaves these paths open when OS_SECURITY_KEY is set; ours adds the probes and metrics.
AUTH_EXEMPT_PATHS = frozenset(
    {
        "/",
        "/health",
        "/info",
        "/docs",
        "/redoc",
        "/openapi.json",
        "/docs/oauth2-redirect",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_VERBS = ("get", "post", "put", "patch", "delete")
STATUS_DETAILS = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal server error",
}


def _with_timeout(method: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    @functools.wraps(method)
    async def run(self: BaseHandler, *args: str, **kwargs: str) -> None:
        try:
            async with asyncio.timeout(self.config.request_timeout) as deadline:
                self.deadline = deadline
                await method(self, *args, **kwargs)
        except TimeoutError:
            metrics.HTTP_TIMEOUTS.labels(type(self).__name__).inc()
            raise ApiError(504, "Request timed out") from None
        except StatementTimeout:
            metrics.HTTP_TIMEOUTS.labels(type(self).__name__).inc()
            raise ApiError(504, "Database statement timed out") from None
        except PoolExhausted:
            metrics.HTTP_REJECTED.labels("overload").inc()
            raise ApiError(503, "Service overloaded: no database connection available", {"Retry-After": "1"}) from None
        except DatabaseUnavailable:
            raise ApiError(503, "Database unavailable", {"Retry-After": "2"}) from None
        except TablesMissing:
            raise ApiError(503, "agno's tables do not exist and AGNO_AUTO_PROVISION is false") from None
        except psycopg2.errors.UndefinedColumn:
            raise ApiError(500, "Database schema does not match agno 3.x (missing column)") from None
        except MediaObjectMissing:
            raise ApiError(404, "Media object not found") from None
        except MediaStorageFailed as exc:
            # logged, never echoed: the reason can name paths or bucket internals (AgentOS: 500)
            log.warning("media storage failed (request %s): %s", self.request_id, exc)
            raise ApiError(502, exc.detail) from None

    return run


class BaseHandler(tornado.web.RequestHandler):
    request_id: str = ""
    db_id: str | None = None
    deadline: asyncio.Timeout | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for verb in _VERBS:
            method = cls.__dict__.get(verb)
            if method is not None:
                setattr(cls, verb, _with_timeout(method))

    @property
    def config(self) -> Config:
        config: Config = self.settings["config"]
        return config

    @property
    def media_storage(self) -> MediaStorage | None:
        storage: MediaStorage | None = self.settings.get("media_storage")
        return storage

    def lift_deadline(self) -> None:
        """No request timeout from now on: a handler streaming its answer bounds each chunk itself."""
        if self.deadline is not None:
            self.deadline.reschedule(None)

    @property
    def databases(self) -> Databases:
        databases: Databases = self.settings["databases"]
        return databases

    def compute_etag(self) -> None:
        """No ETag (AgentOS sends none), and no hashing of every response body."""
        return None

    def set_default_headers(self) -> None:
        # also run by `clear()` before every error answer, so errors carry the request id too
        self.set_header("Content-Type", "application/json")
        self.clear_header("Server")
        if not self.request_id:
            incoming = self.request.headers.get("X-Request-ID", "")
            self.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        self.set_header("X-Request-ID", self.request_id)

    def prepare(self) -> None:
        metrics.HTTP_IN_PROGRESS.inc()
        self.settings["lifecycle"].in_flight += 1
        self._counted_in_progress = True
        self.check_auth()
        if len(self.request.body) > self.config.max_body_bytes:
            metrics.HTTP_REJECTED.labels("body_too_large").inc()
            raise ApiError(413, f"Request body larger than {self.config.max_body_bytes} bytes")

    def on_finish(self) -> None:
        if getattr(self, "_counted_in_progress", False):
            metrics.HTTP_IN_PROGRESS.dec()
            self.settings["lifecycle"].in_flight -= 1
            self._counted_in_progress = False

    def check_auth(self) -> None:
        key = self.config.security_key
        if not key or self.request.method == "OPTIONS":
            return
        path = self.request.path.rstrip("/") or "/"
        if path in AUTH_EXEMPT_PATHS:
            return
        header = self.request.headers.get("Authorization", "").strip()
        if not header:
            raise ApiError(401, "Authorization header required")
        token = header[7:].strip() if header[:7].lower() == "bearer " else header
        if not hmac.compare_digest(token.encode(), key.encode()):
            raise ApiError(401, "Invalid authentication token")

    def client_ip(self) -> str:
        if self.config.trust_proxy_headers:
            forwarded = self.request.headers.get("X-Forwarded-For", "")
            first = forwarded.split(",", 1)[0].strip()
            if first:
                return first
            real = self.request.headers.get("X-Real-IP", "").strip()
            if real:
                return real
        return str(self.request.remote_ip or "")

    # ------------------------------------------------------------ input
    def query_values(self, name: str) -> list[str]:
        return [v.decode("utf-8", "replace") for v in self.request.query_arguments.get(name, [])]

    def query(self, name: str) -> str | None:
        """The last value of a query parameter (FastAPI: the last duplicate wins)."""
        values = self.request.query_arguments.get(name)
        return values[-1].decode("utf-8", "replace") if values else None

    def text_param(self, v: Validator, name: str) -> str | None:
        value = self.query(name)
        return None if value is None else v.no_nul(["query", name], value)

    def path_param(self, v: Validator, name: str, value: str) -> str:
        return v.no_nul(["path", name], value)

    def json_body(self) -> Any:
        return parse_json_body(self.request.body, self.request.headers.get("Content-Type"))

    async def database(self, db_id: str | None, table: str | None = None) -> Database:
        database = await self.databases.resolve(db_id, table)
        self.db_id = database.db_id
        return database

    # ------------------------------------------------------------ output
    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(dumps(value))

    def write_no_content(self) -> None:
        self.set_status(204)
        self.finish()

    def _clear_representation_headers(self) -> None:
        # AgentOS keeps `content-type: application/json` on its 204 answers (contract §1.2)
        if self.get_status() != 204:
            super()._clear_representation_headers()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            detail = exc.detail
        else:
            detail = STATUS_DETAILS.get(status_code, self._reason)
            if status_code == 405:
                self.set_header("Allow", self.allowed_method())
        self.set_header("Content-Type", "application/json")
        self.finish(dumps({"detail": detail}))

    def allowed_method(self) -> str:
        for verb in _VERBS:
            if verb in type(self).__dict__:
                return verb.upper()
        return "GET"

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, tornado.web.HTTPError):
            return
        log.error(
            "unhandled error in %s %s (request %s)",
            self.request.method,
            self.request.path,
            self.request_id,
            exc_info=(typ, value, tb),
        )


class NotFoundHandler(BaseHandler):
    """Unknown paths: 404 `{"detail":"Not Found"}` (after auth, like AgentOS)."""

    def prepare(self) -> None:
        super().prepare()
        raise tornado.web.HTTPError(404)
