"""Exact list totals without recounting: a count is reused only while the database is unchanged.

`GET /sessions` must return an exact `meta.total_count`, and counting is the one part of a list
request whose cost grows with the table (50,000 index entries for `type=agent` at 100,000 sessions).
Each list statement also returns `pg_current_snapshot()` (the set of transactions its reads see) with
the server's start time and address (`snapshot_identity` in sql/sessions.sql: a restart or a failover
never matches an older count). Two statements with the same snapshot text see exactly the same
committed data (any commit, by us, by AgentOS or by anyone else on the cluster, moves `xmax` or empties
an `xip` entry), so a count taken under a snapshot is still exact under an equal one. The list query
receives the last snapshot seen for its filters and skips the count when the current one is equal;
any write anywhere on the cluster makes the next list request count again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import NamedTuple

from service import metrics
from service.jsonutil import dumps


def filters_key(*filters: str | None) -> bytes:
    """A fixed-size key for a set of list filters (a search term may be kilobytes long; the cache's
    memory stays bounded by its number of entries)."""
    return hashlib.blake2b(dumps(filters).encode(), digest_size=16).digest()


class KnownCount(NamedTuple):
    snapshot: str
    total: int


class CountCache:
    """Last (snapshot, count) per filter set of one database; least recently used entries go first."""

    def __init__(self, db_id: str, max_entries: int) -> None:
        self._max_entries = max_entries
        self._counted = metrics.LIST_COUNTS.labels(db_id, "counted")
        self._reused = metrics.LIST_COUNTS.labels(db_id, "reused")
        self._entries: OrderedDict[bytes, KnownCount] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def known(self, key: bytes) -> KnownCount | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def settle(self, key: bytes, known: KnownCount | None, snapshot: str, counted: int | None) -> int:
        """The exact total for a statement that ran with `known` and returned (`snapshot`, `counted`):
        `counted` is None when the statement found the snapshot unchanged and skipped the count."""
        if counted is None:
            if known is None or known.snapshot != snapshot:
                raise RuntimeError("list statement skipped the count without a matching known snapshot")
            self._reused.inc()
            return known.total
        self._counted.inc()
        if self._max_entries > 0:
            self._entries[key] = KnownCount(snapshot, counted)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)
        return counted

    def clear(self) -> None:
        self._entries.clear()
