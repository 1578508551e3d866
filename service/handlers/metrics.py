"""`/metrics`: the Prometheus exposition (no auth, no session data)."""

from __future__ import annotations

from service import metrics
from service.handlers.base import BaseHandler


class MetricsHandler(BaseHandler):
    async def get(self) -> None:
        self.databases.update_pool_metrics()
        body, content_type = metrics.render_latest()
        self.set_header("Content-Type", content_type)
        self.finish(body)


default_handlers = [(r"/metrics/?", MetricsHandler)]
