"""`agno-session compare`: replay requests against AgentOS and this service (built by the rollout work)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    print("agno-session compare: not available in this build", file=sys.stderr)
    return 2
