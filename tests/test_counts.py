"""counts.py: a list total is reused only under the snapshot it was counted in (no database)."""

from __future__ import annotations

import pytest

from service import metrics
from service.counts import CountCache, KnownCount, filters_key


def outcomes(db_id: str) -> tuple[float, float]:
    def value(outcome: str) -> float:
        return metrics.LIST_COUNTS.labels(db_id, outcome)._value.get()  # type: ignore[no-any-return]

    return value("counted"), value("reused")


def test_a_count_is_remembered_and_reused_under_the_same_snapshot() -> None:
    cache = CountCache("unit-reuse", 10)
    key = filters_key("user", None, "agent", None)
    assert cache.known(key) is None
    assert cache.settle(key, None, "10:10:", 7) == 7
    known = cache.known(key)
    assert known == KnownCount("10:10:", 7)
    assert cache.settle(key, known, "10:10:", None) == 7
    assert outcomes("unit-reuse") == (1, 1)
    # a newer snapshot came with a fresh count: that one is remembered
    assert cache.settle(key, known, "12:12:", 8) == 8
    assert cache.known(key) == KnownCount("12:12:", 8)


def test_a_skipped_count_without_a_matching_snapshot_is_an_error() -> None:
    cache = CountCache("unit-mismatch", 10)
    with pytest.raises(RuntimeError):
        cache.settle(b"k", None, "10:10:", None)
    with pytest.raises(RuntimeError):
        cache.settle(b"k", KnownCount("10:10:", 3), "11:11:", None)


def test_least_recently_used_filters_are_forgotten_first() -> None:
    cache = CountCache("unit-lru", 2)
    cache.settle(b"a", None, "1:1:", 1)
    cache.settle(b"b", None, "1:1:", 2)
    assert cache.known(b"a") is not None  # "a" is now the most recently used
    cache.settle(b"c", None, "1:1:", 3)
    assert len(cache) == 2
    assert cache.known(b"b") is None
    assert cache.known(b"a") == KnownCount("1:1:", 1)
    cache.clear()
    assert cache.known(b"a") is None


def test_size_zero_counts_every_time() -> None:
    cache = CountCache("unit-off", 0)
    assert cache.settle(b"a", None, "1:1:", 5) == 5
    assert cache.known(b"a") is None
    assert len(cache) == 0


def test_filter_keys_are_small_and_tell_filters_apart() -> None:
    long_search = "x" * 100_000
    assert len(filters_key(None, None, None, long_search)) == 16
    keys = {
        filters_key(None, None, None, None),
        filters_key("u", None, None, None),
        filters_key(None, "u", None, None),
        filters_key(None, None, "agent", None),
        filters_key(None, None, None, "agent"),
        filters_key(None, None, None, ""),
        filters_key(None, None, None, long_search),
    }
    assert len(keys) == 7
    assert filters_key("u", "c", "team", "n") == filters_key("u", "c", "team", "n")
