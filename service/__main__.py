"""`agno-session` / `python -m service`: config -> pools -> listen -> wait; SIGTERM drains.

SIGTERM (or SIGINT): /readyz turns 503 at once; requests keep being served for AGNO_DRAIN_SECONDS
so load balancers can notice; then the listener closes, in-flight requests finish (up to the
request timeout), pools close, and the process exits 0. With AGNO_WORKERS > 1 a small supervisor
binds the port, forks the workers, forwards SIGTERM/SIGINT to them and exits when they have.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from typing import Any

from service.config import Config, ConfigError, load_config

log = logging.getLogger("agno_session")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "compare":
        from service.compare.cli import main as compare_main

        sys.exit(compare_main(args[1:]))
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"agno-session: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    if config.workers > 1:
        _prepare_multiprocess_metrics()
    from service.logs import setup_logging
    from service.queries import Queries, QueryError

    setup_logging(config.log_level)
    try:
        queries = Queries.load()
    except QueryError as exc:
        print(f"agno-session: SQL error: {exc}", file=sys.stderr)
        sys.exit(2)

    import tornado.netutil

    try:
        sockets = tornado.netutil.bind_sockets(config.port, config.host, family=socket.AF_INET)
    except OSError as exc:
        print(f"agno-session: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        sys.exit(1)
    if config.workers > 1:
        _supervise(config, queries, sockets)
    else:
        asyncio.run(serve(config, queries, sockets))
    sys.exit(0)


def _prepare_multiprocess_metrics() -> None:
    """Prometheus multiprocess mode must be set up before prometheus_client is imported."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="agno-session-metrics-")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory


_PR_SET_PDEATHSIG = 1


def _stop_with(supervisor: int) -> None:
    """Linux: the worker gets SIGTERM when its supervisor dies, even by SIGKILL, so no orphaned worker
    keeps serving the port; elsewhere a no-op."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def _supervise(config: Config, queries: Any, sockets: list[socket.socket]) -> None:
    children: list[int] = []
    supervisor = os.getpid()
    for _ in range(config.workers):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _stop_with(supervisor)
            asyncio.run(serve(config, queries, sockets))
            os._exit(0)
        children.append(pid)

    def forward(signum: int, _frame: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    log.info("supervisor started %d workers", config.workers, extra={"workers": children})
    status = 0
    for child in children:
        _, code = os.waitpid(child, 0)
        status = status or os.waitstatus_to_exitcode(code)
    sys.exit(0 if status in (0, -signal.SIGTERM) else 1)


async def serve(config: Config, queries: Any, sockets: list[socket.socket]) -> None:
    from tornado.ioloop import PeriodicCallback

    from service import metrics
    from service.app import Lifecycle, auth_decides_from_headers, make_app
    from service.db import Databases
    from service.limits import GuardedHTTPServer, trim_heap_when_large, watch_loop_lag

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_loop_exception_handler)
    databases = Databases(config, queries)
    metrics.pre_create(databases.ids())
    lifecycle = Lifecycle()
    app = make_app(config, databases, lifecycle)
    server = GuardedHTTPServer(app, config, headers_only=auth_decides_from_headers(app))
    server.add_sockets(sockets)
    background = [asyncio.create_task(watch_loop_lag()), asyncio.create_task(trim_heap_when_large())]
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    warmups = [asyncio.create_task(_warm_up(database)) for database in databases]
    pool_gauges = PeriodicCallback(databases.update_pool_metrics, 5000)
    pool_gauges.start()
    log.info("listening on %s:%s", config.host, config.port, extra={"db_ids": databases.ids(), "pid": os.getpid()})
    await stop.wait()

    lifecycle.draining = True
    log.info("draining: readiness off, serving for %.1fs more", config.drain_seconds)
    await asyncio.sleep(config.drain_seconds)
    server.stop()
    pool_gauges.stop()
    for task in background:
        task.cancel()
    deadline = time.monotonic() + config.request_timeout + 1
    # in_flight is a plain counter every request updates; polling it once during shutdown is cheaper
    # than signalling an event on each request's end
    while lifecycle.in_flight > 0 and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await server.close_all_connections()
    for task in warmups:
        task.cancel()
    # wait until a cancelled warm-up has given its connection back, or closing the pool waits for it
    await asyncio.gather(*warmups, return_exceptions=True)
    await databases.close()
    media_storage = app.settings.get("media_storage")
    if media_storage is not None:
        media_storage.close()
    log.info("stopped")


async def _warm_up(database: Any) -> None:
    """Provision/inspect tables early; a database that is down is retried by the first request."""
    from service.errors import DatabaseUnavailable, PoolExhausted

    try:
        await database.tables()
        await database.ping(5.0)
    except (DatabaseUnavailable, PoolExhausted, OSError) as exc:
        log.warning("database %s not reachable at start-up: %s", database.db_id, type(exc).__name__)
    except Exception:
        log.exception("database %s: start-up check failed", database.db_id)


def _loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    import psycopg2.extensions

    if isinstance(context.get("exception"), psycopg2.extensions.QueryCanceledError):
        log.warning("statement cancelled by statement_timeout")
        return
    loop.default_exception_handler(context)


if __name__ == "__main__":
    main()
