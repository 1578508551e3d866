"""service/retry.py: the backoff budget of reads and writes that meet a restart or failover."""

from __future__ import annotations

import asyncio

from service.retry import Budget


def test_budget_grows_with_jitter_up_to_its_cap() -> None:
    budget = Budget(60, first_delay=0.05, max_delay=0.5)
    ceilings = []
    for retries in range(8):
        budget.retries = retries
        ceiling = min(0.5, 0.05 * 2**retries)
        delays = [budget.delay() for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered: waiting requests do not reconnect in step
        ceilings.append(ceiling)
    assert ceilings == sorted(ceilings)
    assert ceilings[-1] == 0.5


def test_budget_stops_when_the_next_attempt_would_not_fit() -> None:
    async def attempts(budget: Budget) -> int:
        count = 0
        while await budget.wait():
            count += 1
        return count

    assert asyncio.run(attempts(Budget(0))) == 0
    budget = Budget(2.0, first_delay=0.01, max_delay=0.02)
    assert asyncio.run(attempts(budget)) >= 3
    assert budget.retries >= 3
