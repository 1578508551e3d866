"""counts.py: a list total is reused only under the snapshot it was counted in (no database)."""

from __future__ import annotations

import pytest

from service import metrics
from service.counts import CountCache, KnownCount


def outcomes(db_id: str) -> tuple[float, float]:
    def value(outcome: str) -> float:
        return metrics.LIST_COUNTS.labels(db_id, outcome)._value.get()  # type: ignore[attr-defined,no-any-return]

    return value("counted"), value("reused")


def test_a_count_is_remembered_and_reused_under_the_same_snapshot() -> None:
    cache = CountCache("unit-reuse", 10)
    key = ("user", None, "agent", None)
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
        cache.settle("k", None, "10:10:", None)
    with pytest.raises(RuntimeError):
        cache.settle("k", KnownCount("10:10:", 3), "11:11:", None)


def test_least_recently_used_filters_are_forgotten_first() -> None:
    cache = CountCache("unit-lru", 2)
    cache.settle("a", None, "1:1:", 1)
    cache.settle("b", None, "1:1:", 2)
    assert cache.known("a") is not None  # "a" is now the most recently used
    cache.settle("c", None, "1:1:", 3)
    assert len(cache) == 2
    assert cache.known("b") is None
    assert cache.known("a") == KnownCount("1:1:", 1)
    cache.clear()
    assert cache.known("a") is None


def test_size_zero_counts_every_time() -> None:
    cache = CountCache("unit-off", 0)
    assert cache.settle("a", None, "1:1:", 5) == 5
    assert cache.known("a") is None and len(cache) == 0
