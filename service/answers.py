"""Rendered GET answers reused while nothing has committed (README "Storage", docs/reliability.md §5).

The same idea as list totals (service/counts.py), for whole answers: a reusable GET first reads the
current snapshot (`answer_snapshot`); an answer rendered under an equal snapshot, for the same handler,
URI (path and every query parameter), caller (kind, identity, scopes, isolation) and user scope, is
sent again unchanged. The snapshot is read before rendering, so a commit during the render leaves an
entry no later request can match. The same key and snapshot give a weak ETag, so `If-None-Match` is
answered 304 before anything is read. Entries are bounded by total bytes, least recently used first.
"""

from __future__ import annotations

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
        self._outcomes = {o: metrics.ANSWERS.labels(db_id, o) for o in ("reused", "rendered", "not_modified")}

    def count(self, outcome: str) -> None:
        self._outcomes[outcome].inc()

    def get(self, key: bytes, snapshot: str) -> list[bytes] | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] != snapshot:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: bytes, snapshot: str, batches: list[bytes]) -> None:
        size = sum(len(batch) for batch in batches)
        if size > self.max_bytes // 4:
            return  # a few large pages must not push out everything else
        old = self._entries.pop(key, None)
        self._bytes += size - (old[2] if old else 0)
        self._entries[key] = (snapshot, batches, size)
        while self._bytes > self.max_bytes:
            self._bytes -= self._entries.popitem(last=False)[1][2]

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0
