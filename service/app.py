"""make_app: routes and settings, no I/O (pools are opened lazily by `Databases`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import tornado.web

from service.config import Config
from service.db import Databases
from service.handlers import docs, health, runs, sessions
from service.handlers import metrics as metrics_handlers
from service.handlers.base import NotFoundHandler
from service.logs import log_request
from service.media import MediaStorage, storage_from_config


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


def make_app(
    config: Config,
    databases: Databases,
    lifecycle: Lifecycle | None = None,
    media_storage: MediaStorage | None = None,
) -> tornado.web.Application:
    return tornado.web.Application(
        routes(),
        config=config,
        databases=databases,
        media_storage=media_storage or storage_from_config(config),
        lifecycle=lifecycle or Lifecycle(),
        started_at=datetime.now(timezone.utc),
        log_function=log_request,
        default_handler_class=NotFoundHandler,
        serve_traceback=False,
        compress_response=False,
    )
