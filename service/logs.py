"""Logging: one JSON object per line, and the access log (one line per request, plus HTTP metrics).

The access line carries what a replay needs (method, path with query, db_id) and never a header
value: the Authorization token and DSNs cannot reach the log from here.
"""

from __future__ import annotations

import functools
import logging
import sys
import time
from typing import Any

import tornado.web

from service import metrics
from service.jsonutil import dumps

access_log = logging.getLogger("agno_session.access")
_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return dumps(entry)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("tornado.access").setLevel(logging.WARNING)


_METHODS = frozenset(tornado.web.RequestHandler.SUPPORTED_METHODS)


@functools.cache
def _http_series(method: str, handler_name: str, status: int) -> tuple[Any, Any]:
    """The label children of one (method, handler, status): bound once, not on every request."""
    return (
        metrics.HTTP_REQUESTS.labels(method, handler_name, str(status)),
        metrics.HTTP_DURATION.labels(method, handler_name),
    )


def log_request(handler: tornado.web.RequestHandler) -> None:
    """Tornado's `log_function`: metrics by handler class, then the JSON access line."""
    request = handler.request
    status = handler.get_status()
    duration = request.request_time()
    handler_name = type(handler).__name__
    method = request.method if request.method in _METHODS else "OTHER"
    counter, histogram = _http_series(method, handler_name, status)
    counter.inc()
    histogram.observe(duration)
    level = logging.ERROR if status >= 500 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    client_ip = getattr(handler, "client_ip", None)
    access_log.log(
        level,
        "%s %s %s",
        method,
        request.uri,
        status,
        extra={
            "request_id": getattr(handler, "request_id", ""),
            "method": method,
            "path": request.uri,
            "route": handler_name,
            "status": status,
            "duration_ms": round(duration * 1000, 3),
            "client_ip": client_ip() if callable(client_ip) else request.remote_ip,
            "db_id": getattr(handler, "db_id", None),
            "principal": getattr(getattr(handler, "principal", None), "name", None),
            "user_agent": request.headers.get("User-Agent", ""),
        },
    )
