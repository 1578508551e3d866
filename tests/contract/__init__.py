"""Contract suite: agno-session against the real AgentOS 3.1.10 (see docs/contract-testing.md)."""
