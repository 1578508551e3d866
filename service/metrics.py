"""Every Prometheus object of the service, in one place.

Naming rules: base units (seconds, bytes), `_total` on counters, labels of low cardinality only:
`handler` is the handler class name (never the raw path), `query` the named-query name,
`db_id` a configured database id. No label ever carries a session id, user id, token or DSN.

Multi-process mode (AGNO_WORKERS > 1): PROMETHEUS_MULTIPROC_DIR is set before the workers fork,
and `/metrics` reads every worker's files through a fresh registry (see `render_latest`).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from service import AGNO_VERSION, __version__

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

BUILD_INFO = Gauge(
    "agno_session_build_info",
    "Build information: the service version and the AgentOS version it is compatible with.",
    ["version", "agno_version"],
    multiprocess_mode="max",
)
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, handler class and status code.",
    ["method", "handler", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from request start to response finish, by method and handler class.",
    ["method", "handler"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "http_requests_in_progress",
    "Requests being handled right now.",
    multiprocess_mode="livesum",
)
HTTP_TIMEOUTS = Counter(
    "http_request_timeouts_total",
    "Requests answered 504 because the handler or a statement ran past its timeout.",
    ["handler"],
)
HTTP_REJECTED = Counter(
    "http_requests_rejected_total",
    "Requests (or connections) refused before the handler ran, by reason: overload (pool wait exhausted),"
    " body_too_large, expensive_busy (bulkhead of name searches and large pages full), body_budget"
    " (bodies being received fill the process budget), connections (AGNO_MAX_CONNECTIONS reached),"
    " header_timeout, write_timeout (a client stopped reading) or client_gone (the client hung up; its"
    " query was cancelled).",
    ["reason"],
)
AUTH_FAILURES = Counter(
    "auth_failures_total",
    "Requests refused by authentication or authorization (docs/security.md), by reason: missing, invalid, "
    "expired, audience, subject, scope, service_account, throttled or unavailable. Never labelled by token.",
    ["reason"],
)
AUTH_FAILURE_REASONS = (
    *("missing", "invalid", "expired", "audience", "subject", "scope"),
    *("service_account", "throttled", "unavailable"),
)
for _reason in AUTH_FAILURE_REASONS:
    AUTH_FAILURES.labels(_reason)
ACCEPT_ERRORS = Counter(
    "http_accept_errors_total",
    "Failed accepts of new connections by errno (EMFILE: out of file descriptors); accept pauses after each.",
    ["errno"],
)
EVENT_LOOP_LAG = Gauge(
    "event_loop_lag_seconds",
    "The longest delay of the event loop in the last 5 seconds (how late a timer fired): every request"
    " and health probe waits this long.",
    multiprocess_mode="max",
)
DB_POOL_CONNECTIONS = Gauge(
    "db_pool_connections",
    "Connections of each database pool by state: in_use, idle and max (the configured size).",
    ["db_id", "state"],
    multiprocess_mode="livesum",
)
DB_QUERY_DURATION = Histogram(
    "db_query_duration_seconds",
    "Time of each named query, by database id and query name.",
    ["db_id", "query"],
    buckets=LATENCY_BUCKETS,
)
DB_ERRORS = Counter(
    "db_errors_total",
    "Database errors by database id and kind (connection, timeout, query).",
    ["db_id", "kind"],
)
DB_RETRIES = Counter(
    "db_retries_total",
    "Database work tried again on a fresh connection after a restart, failover or killed connection"
    " (kind: read, write), and writes read back after an unanswered COMMIT (kind: readback).",
    ["db_id", "kind"],
)
# series created (at 0) by each database's CountCache
LIST_COUNTS = Counter(
    "list_counts_total",
    "Totals of list requests by outcome: counted (the count ran) or reused (nothing committed since the"
    " last count of the same filters, service/counts.py).",
    ["db_id", "outcome"],
)
ANSWERS = Counter(
    "answers_total",
    "Reusable GET answers: rendered, reused (waited: for a render under way), not_modified (service/answers.py).",
    ["db_id", "outcome"],
)
DB_READY = Gauge(
    "db_ready",
    "1 when the database answered the last readiness ping, else 0.",
    ["db_id"],
    multiprocess_mode="min",
)

REJECT_REASONS = (
    "overload",
    "body_too_large",
    "expensive_busy",
    "body_budget",
    "connections",
    "header_timeout",
    "write_timeout",
    "client_gone",
)

BUILD_INFO.labels(version=__version__, agno_version=AGNO_VERSION).set(1)


def pre_create(db_ids: list[str]) -> None:
    """Create label children up front so every series exists (at 0) from the first scrape."""
    for db_id in db_ids:
        for state in ("in_use", "idle", "max"):
            DB_POOL_CONNECTIONS.labels(db_id=db_id, state=state)
        for kind in ("connection", "timeout", "query"):
            DB_ERRORS.labels(db_id=db_id, kind=kind)
        for kind in ("read", "write", "readback"):
            DB_RETRIES.labels(db_id=db_id, kind=kind)
        DB_READY.labels(db_id=db_id)
    for reason in REJECT_REASONS:
        HTTP_REJECTED.labels(reason=reason)


def render_latest() -> tuple[bytes, str]:
    """The exposition text for /metrics (all workers' values in multi-process mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
