"""`/health` (AgentOS's), `/healthz` (liveness, no I/O), `/readyz` (pings every database), `/`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from service.handlers.base import BaseHandler


class HealthHandler(BaseHandler):
    async def get(self) -> None:
        started: datetime = self.settings["started_at"]
        instantiated_at = started.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.write_json({"status": "ok", "instantiated_at": instantiated_at})


class LivenessHandler(BaseHandler):
    async def get(self) -> None:
        self.write_json({"status": "ok"})


class ReadinessHandler(BaseHandler):
    """200 when every database answers `SELECT 1` within a second and the process is not draining."""

    async def get(self) -> None:
        databases = list(self.databases)
        results = await asyncio.gather(*(database.ping(1.0) for database in databases))
        status = {
            database.db_id: ("ok" if ok else "unavailable") for database, ok in zip(databases, results, strict=True)
        }
        draining = bool(self.settings["lifecycle"].draining)
        ready = all(results) and not draining
        body = {"status": "ok" if ready else "unavailable", "draining": draining, "databases": status}
        self.write_json(body, 200 if ready else 503)


class HomeHandler(BaseHandler):
    async def get(self) -> None:
        self.write_json({"name": "AgentOS", "health": "/health", "info": "/info", "docs": "/docs"})


default_handlers = [
    (r"/health/?", HealthHandler),
    (r"/healthz/?", LivenessHandler),
    (r"/readyz/?", ReadinessHandler),
    (r"/", HomeHandler),
]
