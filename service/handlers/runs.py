"""`/sessions/{id}/runs`, `/run-previews`, `/runs/{run_id}` and `/media/{key}` (docs/agentos.md §6)."""

from __future__ import annotations

from typing import Any

from service import shaping, store
from service.errors import ApiError
from service.handlers.base import BaseHandler
from service.handlers.sessions import MEDIA_NOT_CONFIGURED, SESSION_ID, bool_param, session_type_param
from service.rows import SessionWithRuns
from service.validation import Validator

_EXPECTED_STATUSES = repr(sorted(shaping.RUN_STATUSES))


class _RunListHandler(BaseHandler):
    """Shared parameters and steps of the runs list and the run previews."""

    async def classified_runs(self, session_id: str) -> list[dict[str, Any]]:
        v = Validator()
        session_type = session_type_param(self, v)
        user_id = self.text_param(v, "user_id")
        bounds: list[int | None] = []
        for name in ("created_after", "created_before"):
            raw = self.query(name)
            bounds.append(None if raw is None else v.integer(["query", name], raw))
        statuses = self.query_values("status")
        db_id, table = self.text_param(v, "db_id"), self.text_param(v, "table")
        self.path_param(v, "session_id", session_id)
        v.check()
        wanted = {s.upper() for s in statuses} if statuses else None
        invalid = sorted({s.upper() for s in statuses} - set(shaping.RUN_STATUSES))  # agno's order: sorted, unique
        if invalid:
            raise ApiError(400, f"Invalid status value(s) {invalid!r}; expected one of {_EXPECTED_STATUSES}")
        database, user_id = await self.database_and_user(db_id, table, user_id)
        found = await store.get_session(database, session_id, user_id)
        if found is None:
            raise ApiError(404, f"Session with ID {session_id} not found")
        as_type = session_type or shaping.detect_session_type(found["row"])
        runs = shaping.filter_runs_by_time(found["runs"], bounds[0], bounds[1])
        schemas = shaping.classify_runs(found["row"], runs, as_type)
        return shaping.filter_schemas_by_status(schemas, wanted)


class RunsHandler(_RunListHandler):
    async def get(self, session_id: str) -> None:
        schemas = await self.classified_runs(session_id)
        self.write_json([shaping.exclude_none(schema) for schema in schemas])


class RunPreviewsHandler(_RunListHandler):
    async def get(self, session_id: str) -> None:
        schemas = await self.classified_runs(session_id)
        self.write_json([shaping.run_preview(schema) for schema in schemas])


class RunHandler(BaseHandler):
    async def get(self, session_id: str, run_id: str) -> None:
        v = Validator()
        session_type_param(self, v)  # accepted and validated, but the run itself decides its schema
        user_id = self.text_param(v, "user_id")
        db_id, table = self.text_param(v, "db_id"), self.text_param(v, "table")
        self.path_param(v, "session_id", session_id)
        self.path_param(v, "run_id", run_id)
        v.check()
        database, user_id = await self.database_and_user(db_id, table, user_id)
        found: SessionWithRuns | None = await store.get_session(database, session_id, user_id)
        if found is None:
            raise ApiError(404, f"Session with ID {session_id} not found")
        if not found["runs"]:
            raise ApiError(404, f"Session with ID {session_id} has no runs")
        run = next((r for r in found["runs"] if r.get("run_id") == run_id), None)
        if run is None:
            raise ApiError(404, f"Run with ID {run_id} not found in session {session_id}")
        self.write_json(shaping.single_run(found["row"], run))


class MediaHandler(BaseHandler):
    """No media storage is configured in this service, so media is always 503 (after validation)."""

    async def get(self, session_id: str, storage_key: str) -> None:
        v = Validator()
        session_type_param(self, v)
        for name in ("user_id", "db_id", "table"):
            self.text_param(v, name)
        bool_param(self, v, "redirect")
        v.check()
        raise ApiError(503, MEDIA_NOT_CONFIGURED)


default_handlers = [
    (rf"/sessions/{SESSION_ID}/runs/?", RunsHandler),
    (rf"/sessions/{SESSION_ID}/run-previews/?", RunPreviewsHandler),
    (rf"/sessions/{SESSION_ID}/runs/(?P<run_id>[^/]+)/?", RunHandler),
    (rf"/sessions/{SESSION_ID}/media/(?P<storage_key>.+?)/?", MediaHandler),
]
