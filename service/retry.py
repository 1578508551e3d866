"""When database work is tried again: a bounded budget with jittered exponential backoff, spent
within `AGNO_POOL_TIMEOUT` of the first failure; which reads and writes are tried again, and when a
write is read back instead: docs/reliability.md §1 and `Database.write`.
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
