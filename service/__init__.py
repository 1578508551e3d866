"""agno-session: the Agno AgentOS /sessions API, served from PostgreSQL."""

__version__ = "0.1.0"
AGNO_VERSION = "3.1.10"
