"""make_app: routes and settings, no I/O (pools are opened lazily by `Databases`)."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import tornado.httputil
import tornado.web
from tornado import httputil

from service.auth import Authenticator
from service.config import Config
from service.db import Databases
from service.handlers import docs, health, runs, sessions
from service.handlers import metrics as metrics_handlers
from service.handlers.base import NotFoundHandler
from service.limits import HeadersOnly
from service.logs import log_request
from service.media import MediaStorage, storage_from_config
from service.service_accounts import ServiceAccounts


@dataclass
class Lifecycle:
    """Process state shared with handlers: draining (after SIGTERM) and requests in flight."""

    draining: bool = False
    in_flight: int = 0


def routes() -> list[Any]:
    """Every handler route, in matching order (the first matching route wins)."""
    return [
        *health.default_handlers,
        *metrics_handlers.default_handlers,
        *docs.default_handlers,
        *runs.default_handlers,
        *sessions.default_handlers,
    ]


def agentos_path(raw: str) -> str:
    """The path as AgentOS routes it, re-quoted for Tornado's router: uvicorn percent-decodes the path
    before routing (`%2F` is a separator, `/%73essions` is `/sessions`; bytes that are not UTF-8 become
    U+FFFD) and agno's TrailingSlashMiddleware strips every trailing slash (docs/contract-testing.md)."""
    if "%" not in raw and raw.isascii() and (raw == "/" or not raw.endswith("/")):
        return raw  # nothing to decode or strip (the common case): the router reads it as it would re-quoted
    try:
        raw_bytes = raw.encode("latin-1")  # Tornado decodes the request line as latin-1
    except UnicodeEncodeError:
        raw_bytes = raw.encode("utf-8")
    decoded = urllib.parse.unquote_to_bytes(raw_bytes).decode("utf-8", "replace")
    if decoded != "/" and decoded.endswith("/") and decoded.rstrip("/"):
        decoded = decoded.rstrip("/")
    return urllib.parse.quote(decoded, safe="/")


class Application(tornado.web.Application):
    def find_handler(self, request: tornado.httputil.HTTPServerRequest, **kwargs: Any) -> Any:
        request.path = agentos_path(request.path)
        return super().find_handler(request, **kwargs)


def auth_decides_from_headers(app: tornado.web.Application) -> HeadersOnly:
    """The server's hook to drop the body of a request that authentication refuses from its headers
    alone: an unauthenticated upload is never buffered (docs/reliability.md)."""
    authenticator: Authenticator = app.settings["authenticator"]

    def refused(start_line: httputil.RequestStartLine, headers: httputil.HTTPHeaders) -> bool:
        authorization = headers.get_list("Authorization")
        path = unquote(agentos_path(urlsplit(start_line.path).path))
        return authenticator.refuses_unread(start_line.method, path, authorization[0] if authorization else None)

    return refused


def make_app(
    config: Config,
    databases: Databases,
    lifecycle: Lifecycle | None = None,
    media_storage: MediaStorage | None = None,
) -> tornado.web.Application:
    return Application(
        routes(),
        config=config,
        databases=databases,
        authenticator=Authenticator(config.auth, ServiceAccounts(databases, config.auth.service_account_cache_seconds)),
        media_storage=media_storage or storage_from_config(config),
        lifecycle=lifecycle or Lifecycle(),
        started_at=datetime.now(UTC),
        log_function=log_request,
        default_handler_class=NotFoundHandler,
        serve_traceback=False,
        compress_response=False,
    )
