"""Rendered GET answers reused while nothing has committed (README "Storage", docs/reliability.md §5).

As list totals (service/counts.py), for whole answers: one rendered under the snapshot a request reads
first, for the same handler, URI, caller and user scope, is sent again. The snapshot is read before
rendering, so a commit during the render leaves an entry no later request matches. Requests arriving
while the same (key, snapshot) renders wait for that render instead of rendering it again.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from typing import Any

from service import metrics


def answer_key(handler: str, uri: str, principal: Any, scoped_user: str | None) -> bytes:
    caller = (principal.kind, principal.user_id, principal.scopes, principal.isolation, scoped_user)
    return hashlib.blake2b(repr((handler, uri, caller)).encode(), digest_size=16).digest()


def etag(key: bytes, snapshot: str) -> str:
    return 'W/"' + hashlib.blake2b(key + snapshot.encode(), digest_size=12).hexdigest() + '"'


class AnswerCache:
    """Last rendered answer (snapshot, batches, size) per key of one database, `max_bytes` in all."""

    def __init__(self, db_id: str, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._bytes = 0
        self._entries: OrderedDict[bytes, tuple[str, list[bytes], int]] = OrderedDict()
        self._rendering: dict[tuple[bytes, str], asyncio.Future[list[bytes] | None]] = {}
        self.outcomes = {o: metrics.ANSWERS.labels(db_id, o) for o in ("rendered", "reused", "waited", "not_modified")}

    async def earlier(self, key: bytes, snapshot: str) -> list[bytes] | None:
        """The answer rendered (or being rendered) for (key, snapshot), or None: this request renders it."""
        entry = self._entries.get(key)
        if entry is not None and entry[0] == snapshot:
            self._entries.move_to_end(key)
            return entry[1]
        running = self._rendering.get((key, snapshot))
        if running is not None:
            self.outcomes["waited"].inc()
            return await asyncio.shield(running)
        self._rendering[(key, snapshot)] = asyncio.get_running_loop().create_future()
        task = asyncio.current_task()
        if task is not None:  # however the rendering request ends (an error, a hang-up), waiters go on
            task.add_done_callback(lambda _: self.settle(key, snapshot, None))
        return None

    def settle(self, key: bytes, snapshot: str, batches: list[bytes] | None) -> None:
        """The render of (key, snapshot) ended: its answer, or None (an error, not reusable)."""
        running = self._rendering.pop((key, snapshot), None)
        if running is not None and not running.done():
            running.set_result(batches)
        size = sum(len(batch) for batch in batches or ())
        if batches is None or size > self.max_bytes // 4:
            return  # a few large pages must not push out everything else
        old = self._entries.pop(key, None)
        self._bytes += size - (old[2] if old else 0)
        self._entries[key] = (snapshot, batches, size)
        while self._bytes > self.max_bytes:
            self._bytes -= self._entries.popitem(last=False)[1][2]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
