"""Per-connection and per-process limits of the HTTP layer (docs/reliability.md §9).

Tornado's `HTTPServer` buffers whole bodies, has no header deadline, no write timeout, no cap on
connections, and spins accepting when out of descriptors. `GuardedHTTPServer` adds each: bodies
counted as they arrive against `AGNO_MAX_BODY_BYTES` and a per-process budget (a dropped body reaches
the application empty, its reason in `dropped_body`, so the handler still answers in order), the
`headers_only` hook, the header deadline, the write timeout, the connection cap, and an accept that
pauses on EMFILE/ENFILE.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import errno
import logging
import os
import socket
import time
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop, PeriodicCallback
from tornado.iostream import IOStream

from service import metrics
from service.config import Config

log = logging.getLogger("agno_session.limits")
T = TypeVar("T")

IDLE_CONNECTION_TIMEOUT = 75.0
"""Seconds an idle keep-alive connection (or one sending nothing) is kept open."""
ACCEPT_PAUSE = 0.25
"""Seconds accept pauses after failing for lack of descriptors (or memory)."""
ACCEPT_LOG_INTERVAL = 10.0
"""At most one log line per this many seconds about failed accepts."""
SWEEP_INTERVAL = 1.0
"""Seconds between checks of write progress."""
LOOP_LAG_INTERVAL = 0.25
LOOP_LAG_WINDOW = 5.0
OFF_LOOP_BODY_BYTES = 64 * 1024
"""Bodies at least this large are decoded on the decoding thread, not on the event loop."""
_ACCEPT_RESOURCE_ERRORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_BUSY_BODY = b'{"detail":"Service overloaded: too many connections"}'
_BUSY_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)

HeadersOnly = Callable[[httputil.RequestStartLine, httputil.HTTPHeaders], bool]

_dropped: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_decoder = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="agno-decode")


def dropped_body(connection: Any) -> str | None:
    """Why the body of the request on `connection` (an `HTTPServerRequest.connection`) was dropped
    unread: `body_too_large`, `body_budget` (the process budget for bodies was full) or `headers_only`; else None."""
    return _dropped.get(connection)


async def off_loop(work: Callable[..., T], *args: Any) -> T:
    """Run CPU-bound `work` on the decoding thread (one at a time, in arrival order)."""
    return await asyncio.wrap_future(_decoder.submit(work, *args))


class _BodyBudget:
    """Bytes of request bodies being received, across the process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


class _GuardedMessage(httputil.HTTPMessageDelegate):
    """Wraps the application's delegate for one request: header deadline, body size and budget."""

    def __init__(self, server: GuardedHTTPServer, inner: httputil.HTTPMessageDelegate, conn: Any) -> None:
        self._server = server
        self._inner = inner
        self._conn = conn
        self._headers_done = False
        self._received = 0
        self._held = 0
        self._drop: str | None = None
        self._stream: IOStream | None = getattr(conn, "stream", None)
        if self._stream is not None:
            server.awaiting_headers[self._stream] = None

    # ------------------------------------------------------------ delegate
    def headers_received(
        self, start_line: httputil.RequestStartLine | httputil.ResponseStartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        self._headers_received()
        self._headers_done = True
        declared = headers.get("Content-Length", "").strip()
        hook = self._server.headers_only
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self._server.limits_config.max_body_bytes):
            self._drop_body("body_too_large")
        elif hook is not None and isinstance(start_line, httputil.RequestStartLine) and hook(start_line, headers):
            self._drop_body("headers_only")
        return self._inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        self._received += len(chunk)
        if self._drop is not None:
            return None
        if self._received > self._server.limits_config.max_body_bytes:
            self._drop_body("body_too_large")
            return None
        if not self._server.body_budget.take(len(chunk)):
            self._drop_body("body_budget")
            return None
        self._held += len(chunk)
        return self._inner.data_received(chunk)

    def finish(self) -> None:
        self._release()
        self._inner.finish()

    def on_connection_close(self) -> None:
        self._headers_received()
        self._release()
        if self._headers_done:
            self._inner.on_connection_close()

    def _headers_received(self) -> None:
        if self._stream is not None:
            self._server.awaiting_headers.pop(self._stream, None)

    def _drop_body(self, reason: str) -> None:
        self._drop = reason
        _dropped[self._conn] = reason
        self._release()
        chunks = getattr(self._inner, "chunks", None)
        if isinstance(chunks, list):
            chunks.clear()  # what the application's delegate buffered so far is no longer needed

    def _release(self) -> None:
        if self._held:
            self._server.body_budget.give_back(self._held)
            self._held = 0


class GuardedHTTPServer(HTTPServer):
    """`HTTPServer` with the limits of this module (see the module docstring)."""

    limits_config: Config
    headers_only: HeadersOnly | None
    body_budget: _BodyBudget

    def initialize(  # type: ignore[override]
        self,
        request_callback: httputil.HTTPServerConnectionDelegate,
        config: Config,
        headers_only: HeadersOnly | None = None,
        **kwargs: Any,
    ) -> None:
        super().initialize(
            request_callback,
            max_header_size=config.max_header_bytes,
            # bodies up to 4x the limit are read (and dropped) to answer a JSON 413; beyond, the connection closes
            max_body_size=config.max_body_bytes * 4 + 65536,
            idle_connection_timeout=IDLE_CONNECTION_TIMEOUT,
            body_timeout=config.request_timeout,
            **kwargs,
        )
        self.limits_config = config
        self.headers_only = headers_only
        self.body_budget = _BodyBudget(config.max_buffered_body_bytes)
        self._write_marks: weakref.WeakKeyDictionary[IOStream, tuple[int, float]] = weakref.WeakKeyDictionary()
        self.awaiting_headers: weakref.WeakKeyDictionary[IOStream, float | None] = weakref.WeakKeyDictionary()
        """Connections waiting for a request's header block: when its first bytes were seen (None: idle)."""
        self._sweeper = PeriodicCallback(self._sweep, SWEEP_INTERVAL * 1000)
        self._sweeper.start()
        self._accept_failures = 0
        self._accept_logged_at = 0.0

    # ------------------------------------------------------------ connections
    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if len(self._connections) >= self.limits_config.max_connections:
            metrics.HTTP_REJECTED.labels("connections").inc()
            stream.write(_BUSY_RESPONSE).add_done_callback(lambda done: _close_after(done, stream))
            return
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object, request_conn: httputil.HTTPConnection) -> httputil.HTTPMessageDelegate:
        return _GuardedMessage(self, super().start_request(server_conn, request_conn), request_conn)

    def _sweep(self) -> None:
        now = time.monotonic()
        self._sweep_headers(now)
        self._sweep_writes(now)

    def _sweep_headers(self, now: float) -> None:
        """Close connections whose header block began AGNO_HEADER_TIMEOUT ago and is still unfinished;
        idle ones (nothing received yet) are Tornado's to close at the idle timeout."""
        for stream, seen in list(self.awaiting_headers.items()):
            if stream.closed():
                self.awaiting_headers.pop(stream, None)
            elif getattr(stream, "_read_buffer_size", 0) > 0:
                if seen is None:
                    self.awaiting_headers[stream] = now
                elif now - seen >= self.limits_config.header_timeout:
                    metrics.HTTP_REJECTED.labels("header_timeout").inc()
                    self.awaiting_headers.pop(stream, None)
                    stream.close()

    def _sweep_writes(self, now: float) -> None:
        for server_conn in list(self._connections):
            stream = server_conn.stream
            if stream.closed() or not stream.writing():
                self._write_marks.pop(stream, None)
                continue
            written = int(getattr(stream, "_total_write_done_index", 0))
            mark = self._write_marks.get(stream)
            if mark is None or mark[0] != written:
                self._write_marks[stream] = (written, now)
            elif now - mark[1] >= self.limits_config.write_timeout:
                metrics.HTTP_REJECTED.labels("write_timeout").inc()
                self._write_marks.pop(stream, None)
                stream.close()

    def stop(self) -> None:
        self._sweeper.stop()
        super().stop()

    # ------------------------------------------------------------ accept
    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = self._accept_on(sock)

    def _accept_on(self, sock: socket.socket) -> Callable[[], None]:
        """Tornado's `add_accept_handler`, pausing on descriptor exhaustion instead of spinning."""
        io_loop = IOLoop.current()
        state = {"removed": False, "paused": False}

        def accept(_fd: Any, _events: int) -> None:
            for _ in range(128):
                if state["removed"] or state["paused"]:
                    return
                try:
                    connection, address = sock.accept()
                except BlockingIOError:
                    return
                except ConnectionAbortedError:
                    continue
                except OSError as exc:
                    if exc.errno not in _ACCEPT_RESOURCE_ERRORS:
                        raise
                    self._accept_failed(exc)
                    state["paused"] = True
                    io_loop.remove_handler(sock)
                    io_loop.call_later(ACCEPT_PAUSE, resume)
                    return
                self._handle_connection(connection, address)

        def resume() -> None:
            if not state["removed"]:
                state["paused"] = False
                io_loop.add_handler(sock, accept, IOLoop.READ)

        def remove() -> None:
            if not state["paused"]:
                io_loop.remove_handler(sock)
            state["removed"] = True

        io_loop.add_handler(sock, accept, IOLoop.READ)
        return remove

    def _accept_failed(self, exc: OSError) -> None:
        metrics.ACCEPT_ERRORS.labels(errno.errorcode.get(exc.errno or 0, "other")).inc()
        self._accept_failures += 1
        now = time.monotonic()
        if now - self._accept_logged_at >= ACCEPT_LOG_INTERVAL:
            log.error(
                "cannot accept connections: %s (%d failed accepts since the last report); pausing accept",
                exc.strerror,
                self._accept_failures,
                extra={"errno": errno.errorcode.get(exc.errno or 0, "other"), "failures": self._accept_failures},
            )
            self._accept_logged_at = now
            self._accept_failures = 0


def _close_after(written: Any, stream: IOStream) -> None:
    written.exception()  # a failed write (the peer is gone) is expected here
    stream.close()


TRIM_INTERVAL = 10.0
"""Seconds between checks whether freed heap memory should go back to the system."""
TRIM_ABOVE = 96 * 1024 * 1024
"""Resident memory above which freed heap memory is handed back (glibc `malloc_trim`)."""


def _libc() -> Any:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6")
        if hasattr(libc, "malloc_trim"):
            return libc
    return None


def resident_bytes() -> int:
    """This process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


async def trim_heap_when_large() -> None:
    """glibc keeps freed memory in the heap: after an attack (large bodies, large pages) RSS stayed
    high for good. Every few seconds, when RSS is above TRIM_ABOVE, hand freed memory back; below
    it, nothing is done (trimming costs page faults when the memory is needed again)."""
    libc = _libc()
    if libc is None:
        return
    while True:
        await asyncio.sleep(TRIM_INTERVAL)
        if resident_bytes() > TRIM_ABOVE:
            libc.malloc_trim(0)


async def watch_loop_lag() -> None:
    """Sample how late the event loop wakes up a sleeper; `/metrics` shows the worst of the last
    few seconds (a busy loop delays every request and every health probe by as much)."""
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, float]] = []
    while True:
        started = loop.time()
        await asyncio.sleep(LOOP_LAG_INTERVAL)
        now = loop.time()
        samples.append((now, max(0.0, now - started - LOOP_LAG_INTERVAL)))
        samples = [(t, lag) for t, lag in samples if now - t <= LOOP_LAG_WINDOW]
        metrics.EVENT_LOOP_LAG.set(max(lag for _, lag in samples))
