"""When database work is tried again: a bounded budget with jittered exponential backoff.

A read that meets a dead connection or an unreachable database (a restart, a failover) tries
again on a fresh connection until `AGNO_POOL_TIMEOUT` (how long a request may wait for a usable
connection) has passed since its first failure, then answers 503. A write tries again only when
nothing of it can have been committed (no connection, or the connection died before COMMIT was
sent); when the COMMIT itself went unanswered the write's outcome is read back first
(`Database.write`, docs/reliability.md §1).
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

FIRST_DELAY = 0.05
MAX_DELAY = 0.5


@dataclass
class Budget:
    """The attempts of one piece of work: `await budget.wait()` sleeps the next backoff delay and
    says whether another attempt still fits in `seconds` from the first failure."""

    seconds: float
    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY
    retries: int = 0
    _deadline: float | None = field(default=None, repr=False)

    def delay(self) -> float:
        """Full jitter over an exponentially growing ceiling: waiting requests do not reconnect in step."""
        ceiling = min(self.max_delay, self.first_delay * 2**self.retries)
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 -- jitter, not a secret

    async def wait(self) -> bool:
        now = time.monotonic()
        if self._deadline is None:
            self._deadline = now + self.seconds
        pause = self.delay()
        if now + pause >= self._deadline:
            return False
        self.retries += 1
        await asyncio.sleep(pause)
        return True
