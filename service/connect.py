"""aiopg connections that follow libpq's socket while connecting (multi-host DSNs, failover).

libpq tries the hosts of a multi-host DSN in turn inside one asynchronous connect, replacing its
socket; aiopg 1.4 keeps watching the first one, so the connect fails or hangs unless the first host
accepts (docs/reliability.md §1). `FollowingConnection` re-registers the socket libpq reports after
every poll step of the connect; once connected it is aiopg's own connection. `Pool` is aiopg's pool
making those connections (and never handing out one the server closed while it awaited a connect).
Host choice stays libpq's; aiopg's timeout bounds the whole connect (docs/rollout.md §6).
"""

from __future__ import annotations

import contextlib
import weakref
from typing import Any, cast

import aiopg
import aiopg.connection
import aiopg.pool
import psycopg2
import psycopg2.extensions


class FollowingConnection(aiopg.Connection):
    """aiopg's connection, watching whichever socket libpq uses while the connect is in progress."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connecting = True

    @staticmethod
    def _ready(weak_self: weakref.ref[Any]) -> None:
        self = cast("FollowingConnection | None", weak_self())
        if self is None:
            return
        if not getattr(self, "_connecting", True):
            aiopg.Connection._ready(weak_self)
            return
        waiter = self._waiter
        try:
            state = self._conn.poll()
        except (psycopg2.Warning, psycopg2.Error) as exc:
            self._unwatch()
            self._fileno = None
            self._notifies_proxy.close(exc)
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)
            return
        # libpq may have closed the previous socket (its number may even be reused by the new one):
        # drop the old registration and register the current socket from scratch.
        self._unwatch()
        self._fileno = self._conn.fileno()
        self._loop.add_reader(self._fileno, self._ready, weak_self)  # aiopg keeps a reader for life
        if state == psycopg2.extensions.POLL_OK:
            self._connecting = False
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
        elif state == psycopg2.extensions.POLL_WRITE:
            self._loop.add_writer(self._fileno, self._ready, weak_self)
            self._writing = True
        elif state != psycopg2.extensions.POLL_READ:
            self._fatal_error(f"Fatal error on aiopg connection: poll() answered {state} while connecting")

    def _unwatch(self) -> None:
        """Forget the registered socket; it may be closed already (then epoll dropped it itself)."""
        if self._fileno is None:
            return
        if self._writing:
            self._writing = False
            with contextlib.suppress(OSError):
                self._loop.remove_writer(self._fileno)
        with contextlib.suppress(OSError):
            self._loop.remove_reader(self._fileno)


_ENABLE = ("enable_json", "enable_hstore", "enable_uuid")
"""aiopg's type-adapter switches, all on unless a caller turns one off (aiopg's defaults)."""


async def connect(
    dsn: str,
    *,
    timeout: float = aiopg.connection.TIMEOUT,  # noqa: ASYNC109 -- aiopg's per-operation timeout, not this call's
    **kwargs: Any,
) -> aiopg.Connection:
    """`aiopg.connect` with a `FollowingConnection`."""
    enable = {k: kwargs.pop(k, True) for k in _ENABLE}
    echo = bool(kwargs.pop("echo", False))
    connection = FollowingConnection(dsn, timeout, echo, **enable, **kwargs)
    return await connection


class Pool(aiopg.Pool):
    """aiopg's pool, opening `FollowingConnection`s and never handing out one the server closed."""

    async def _fill_free_pool(self, override_min: bool) -> None:
        n, free = 0, len(self._free)
        while n < free:
            conn = self._free[-1]
            if conn.closed:
                self._free.pop()
            elif -1 < self._recycle < self._loop.time() - conn.last_usage:
                await conn.close()
                self._free.pop()
            else:
                self._free.rotate()
            n += 1
        while self.size < self.minsize:
            await self._open_one()
        if not self._free and override_min and (not self.maxsize or self.size < self.maxsize):
            await self._open_one()
        # aiopg's acquire takes the oldest free connection right after this returns; one given back
        # while a connect above awaited may have been closed by the server since (a killed backend),
        # and aiopg's `assert not conn.closed` would then answer 500
        for conn in [c for c in self._free if c.closed]:
            self._free.remove(conn)

    async def _open_one(self) -> None:
        self._acquiring += 1
        try:
            conn = await connect(
                self._dsn,
                timeout=self._timeout,
                enable_json=self._enable_json,
                enable_hstore=self._enable_hstore,
                enable_uuid=self._enable_uuid,
                echo=self._echo,
                **self._conn_kwargs,
            )
            if self._on_connect is not None:
                await self._on_connect(conn)
            if conn.closed:
                # the server dropped it in the loop turn since the connect (a killed backend): aiopg
                # would hand it out and fail its own `assert not conn.closed` (a 500); this is a
                # connection error, which the caller retries (docs/reliability.md §1)
                await conn.close()
                raise psycopg2.OperationalError("the server closed the connection as it was opened")
            self._free.append(conn)
            self._cond.notify()
        finally:
            self._acquiring -= 1


async def create_pool(
    dsn: str,
    *,
    minsize: int,
    maxsize: int,
    timeout: float,  # noqa: ASYNC109 -- aiopg's per-operation timeout, not this call's
    **kwargs: Any,
) -> aiopg.Pool:
    """`aiopg.create_pool` making a `Pool` of `FollowingConnection`s."""
    defaults = {**dict.fromkeys(_ENABLE, True), "echo": False, "on_connect": None, "pool_recycle": -1.0}
    return await Pool.from_pool_fill(dsn, minsize, maxsize, timeout, **{**defaults, **kwargs})


__all__ = ["FollowingConnection", "Pool", "connect", "create_pool"]
