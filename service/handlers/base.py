"""The JSON API base handler: Tornado has no middleware, so this is it.

prepare(): request id, auth (docs/security.md), body size. Every HTTP verb a subclass defines
runs under the request timeout (wrapped in `__init_subclass__`, so no handler can forget it), and
infrastructure failures become JSON answers: 503 (database down, pool exhausted), 504 (timeout).
write_error(): one body shape, `{"detail": ...}`; unhandled errors never leak internals.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import unquote

import psycopg2
import tornado.web

from service import answers, cors, limits, metrics, store
from service.auth import ANONYMOUS, Authenticator, AuthError, Principal
from service.clientip import client_address
from service.config import Config
from service.db import Database, Databases
from service.errors import (
    ApiError,
    DatabaseNotFound,
    DatabaseUnavailable,
    DbIdRequired,
    ExpensiveBusy,
    MediaObjectMissing,
    MediaStorageFailed,
    PoolExhausted,
    StatementTimeout,
    TableNotFound,
    TablesMissing,
)
from service.jsonutil import dumps, encode_batches
from service.media import MediaStorage
from service.operations import OPERATIONS
from service.validation import Validator, parse_json_body, read_params

log = logging.getLogger("agno_session.api")

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
        self._task = asyncio.current_task()
        try:
            async with asyncio.timeout(self.config.request_timeout) as deadline:
                self.deadline = deadline
                await self.decode_large_body()
                await method(self, *args, **kwargs)
        except asyncio.CancelledError:
            if not self._client_gone or self._task is None:
                raise
            # the caller hung up (on_connection_close): its query was cancelled; nobody to answer
            self._task.uncancel()
            metrics.HTTP_REJECTED.labels("client_gone").inc()
            self.set_status(499, "Client Closed Request")
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
        except DbIdRequired as exc:
            reason = "when passing a table" if exc.for_table else "when using multiple databases"
            raise ApiError(400, f"The db_id query parameter is required {reason}") from None
        except DatabaseNotFound as exc:
            raise ApiError(404, f"No database found with id '{exc.db_id}'") from None
        except TableNotFound as exc:
            raise ApiError(404, f"No database with id '{exc.db_id}' has table '{exc.table}'") from None
        except ExpensiveBusy:
            raise ApiError(
                503, "Service overloaded: too many expensive requests running", {"Retry-After": "1"}
            ) from None
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
    principal: Principal = ANONYMOUS
    _task: asyncio.Task[Any] | None = None
    _client_gone = False
    _decoded_body: tuple[Any, ApiError | None] | None = None
    deadline: asyncio.Timeout | None = None
    _reusable: tuple[Database, bytes, str] | None = None
    _tag_key: tuple[Database, bytes] | None = None  # an ETag is due once the render has read its snapshot
    _render_tag: tuple[Database, str] | None = None

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
    def authenticator(self) -> Authenticator:
        authenticator: Authenticator = self.settings["authenticator"]
        return authenticator

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
        self.set_cors_headers()

    def set_cors_headers(self) -> None:
        for name, value in cors.answer_headers(self.origin(), self.config.auth.cors_origins).items():
            self.set_header(name, value)

    def origin(self) -> str | None:
        values = self.request.headers.get_list("Origin")
        return values[0] if values else None

    async def prepare(self) -> None:
        metrics.HTTP_IN_PROGRESS.inc()
        self.settings["lifecycle"].in_flight += 1
        self._counted_in_progress = True
        if self.request.method == "OPTIONS" and self.answer_preflight():
            return
        await self.check_auth()
        dropped = limits.dropped_body(self.request.connection)
        if dropped == "body_budget":
            metrics.HTTP_REJECTED.labels("body_budget").inc()
            raise ApiError(503, "Service overloaded: too many request bodies being received", {"Retry-After": "1"})
        if dropped == "body_too_large" or len(self.request.body) > self.config.max_body_bytes:
            metrics.HTTP_REJECTED.labels("body_too_large").inc()
            raise ApiError(413, f"Request body larger than {self.config.max_body_bytes} bytes")

    def on_connection_close(self) -> None:
        """The caller hung up before the answer: cancel the work (a running query is cancelled)."""
        if self._task is not None and not self._task.done():
            self._client_gone = True
            self._task.cancel()

    def on_finish(self) -> None:
        if getattr(self, "_counted_in_progress", False):
            metrics.HTTP_IN_PROGRESS.dec()
            self.settings["lifecycle"].in_flight -= 1
            self._counted_in_progress = False

    def answer_preflight(self) -> bool:
        """A CORS preflight is answered on any path, before auth, as AgentOS's outermost middleware does."""
        origin = self.origin()
        method = self.request.headers.get("Access-Control-Request-Method")
        if origin is None or method is None:
            return False
        answer = cors.preflight(
            origin,
            method,
            self.request.headers.get("Access-Control-Request-Headers"),
            "Access-Control-Request-Private-Network" in self.request.headers,
            self.config.auth.cors_origins,
        )
        self.clear_header("Access-Control-Expose-Headers")
        for name, value in answer.headers.items():
            self.set_header(name, value)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_status(answer.status)
        self.finish(answer.body)
        return True

    async def check_auth(self) -> None:
        """Authenticate from the headers alone (service/auth.py); an `agno_pat_` token may cost one
        database lookup. The key is compared with hmac.compare_digest inside the authenticator."""
        authorization = self.request.headers.get_list("Authorization")
        try:
            self.principal = await self.authenticator.authenticate(
                self.request.method or "GET",
                unquote(self.request.path),  # as AgentOS routes it (app.agentos_path)
                authorization[0] if authorization else None,
                self.query("user_id"),
                self.client_ip(),
                routed=(self.request.method or "").lower() in type(self).__dict__,
            )
        except AuthError as exc:
            metrics.AUTH_FAILURES.labels(exc.reason).inc()
            raise

    async def database_and_user(self, params: Mapping[str, Any]) -> tuple[Database, str | None]:
        """agno's `resolve_db_and_scope` for an operation's parameters (`db_id`, `table`, `user_id`):
        the database, then the user every query is confined to (the caller's own identity under
        isolation, else the `user_id` parameter)."""
        database = await self.database(params["db_id"], params.get("table"))
        scoped = self.authenticator.scoped_user_id(self.principal)
        return database, params.get("user_id") if scoped is None else scoped

    def client_ip(self) -> str:
        peer = str(self.request.remote_ip or "")
        if not self.config.trust_proxy_headers:
            return peer
        headers = self.request.headers
        return client_address(
            peer, headers.get("X-Forwarded-For", ""), headers.get("X-Real-IP", ""), self.config.trusted_proxies
        )

    # ------------------------------------------------------------ input
    def query(self, name: str) -> str | None:
        """The last value of a query parameter (FastAPI: the last duplicate wins)."""
        values = self.request.query_arguments.get(name)
        return values[-1].decode("utf-8", "replace") if values else None

    def params(self, v: Validator, operation_id: str) -> dict[str, Any]:
        """The operation's parameters (service/operations.py), validated into `v`."""
        operation = OPERATIONS[operation_id]
        return read_params(v, operation.params, self.request.query_arguments, self.path_kwargs, self.config)

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # path segments that are not UTF-8 (`%ED%A0%80`): decoded with U+FFFD like AgentOS, not a 400
        return value.decode("utf-8", "replace")

    def json_body(self) -> Any:
        if self._decoded_body is not None:
            value, error = self._decoded_body
            if error is not None:
                raise error
            return value
        return parse_json_body(self.request.body, self.request.headers.get("Content-Type"))

    async def decode_large_body(self) -> None:
        """A large body is decoded (and checked) off the event loop, before the handler asks for it."""
        body = self.request.body
        if len(body) < limits.OFF_LOOP_BODY_BYTES or self.request.method not in ("POST", "PUT", "PATCH", "DELETE"):
            return
        try:
            value = await limits.off_loop(parse_json_body, body, self.request.headers.get("Content-Type"))
        except ApiError as exc:
            self._decoded_body = (None, exc)
        else:
            self._decoded_body = (value, None)

    async def database(self, db_id: str | None, table: str | None = None) -> Database:
        database = await self.databases.resolve(db_id, table)
        self.db_id = database.db_id
        return database

    # ------------------------------------------------------------ output
    async def answered_before(self, database: Database, scoped_user: str | None) -> bool:
        """Answer a GET rendered under the same snapshot before, or 304 (service/answers.py). Without
        reuse, no snapshot is read first: the render's own statement reads it (`rendered_under`)."""
        cache = database.answer_cache
        if not cache.max_bytes and not self.config.conditional_gets:
            return False
        key = answers.answer_key(type(self).__name__, self.request.uri or "", self.principal, scoped_user)
        if not cache.max_bytes:
            self._tag_key = (database, key)
            return False
        snapshot = await store.answer_snapshot(database)
        if self.config.conditional_gets and self._not_modified(database, answers.etag(key, snapshot)):
            return True
        batches = await cache.earlier(key, snapshot)
        if batches is not None:
            cache.outcomes["reused"].inc()
            self.send_batches(batches)
            return True
        self._reusable = (database, key, snapshot)
        return False

    def rendered_under(self, snapshot: str) -> None:
        """The snapshot the render read its data under: the ETag when none was read before it."""
        if self._tag_key is not None:
            database, key = self._tag_key
            self._render_tag = (database, answers.etag(key, snapshot))

    def _not_modified(self, database: Database, tag: str) -> bool:
        """Give the answer's ETag; when the caller holds it, answer 304 (True)."""
        self.set_header("ETag", tag)
        if tag not in self.request.headers.get("If-None-Match", ""):
            return False
        database.answer_cache.outcomes["not_modified"].inc()
        self.set_status(304)
        self.finish()
        return True

    def forgo_reuse(self, batches: list[bytes] | None = None) -> None:
        """Without `batches`: not reused (it used the clock or fresh ids, or failed); waiters render."""
        if self._reusable is not None:
            database, key, snapshot = self._reusable
            database.answer_cache.settle(key, snapshot, batches)
            self._reusable = None
        if batches is None:
            self._tag_key = self._render_tag = None
            self.clear_header("ETag")

    def write_json(self, value: Any, status: int = 200) -> None:
        if status == 200 and self._render_tag is not None and self._not_modified(*self._render_tag):
            return
        self.set_status(status)
        batches = encode_batches(value)
        if status == 200 and self._reusable is not None:
            self._reusable[0].answer_cache.outcomes["rendered"].inc()
            self.forgo_reuse(batches)
        elif status == 200 and self._tag_key is not None:
            self._tag_key[0].answer_cache.outcomes["rendered"].inc()
        self.send_batches(batches)

    def send_batches(self, batches: list[bytes]) -> None:
        if len(batches) == 1:
            self.finish(batches[0])
            return
        # a large answer goes to the connection batch by batch (no joined copy of it all)
        self.set_header("Content-Length", str(sum(len(batch) for batch in batches)))
        for batch in batches:
            self.write(batch)
            self.flush()
        self.finish()

    def write_no_content(self) -> None:
        self.set_status(204)
        self.finish()

    def _clear_representation_headers(self) -> None:
        # AgentOS keeps `content-type: application/json` on its 204 answers (docs/agentos.md §1)
        if self.get_status() != 204:
            super()._clear_representation_headers()

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            detail = exc.detail
            if isinstance(exc, AuthError) and "Access-Control-Allow-Origin" in self._headers:
                for name, value in cors.AUTH_ERROR_HEADERS.items():
                    self.set_header(name, value)
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

    async def prepare(self) -> None:
        await super().prepare()
        if not self._finished:
            raise tornado.web.HTTPError(404)
