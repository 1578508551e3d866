"""`/sessions/{id}/runs`, `/run-previews`, `/runs/{run_id}` and `/media/{key}` (docs/agentos.md §6)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from service import media, shaping, store
from service.errors import ApiError, MediaStorageFailed
from service.handlers.base import BaseHandler
from service.handlers.sessions import MEDIA_NOT_CONFIGURED, SESSION_ID
from service.schemas import RUN_STATUSES
from service.validation import Validator

log = logging.getLogger("agno_session.media")
_EXPECTED_STATUSES = repr(sorted(RUN_STATUSES))


class _RunListHandler(BaseHandler):
    """Shared parameters and steps of the runs list and the run previews."""

    operation_id: str

    async def classified_runs(self, session_id: str) -> list[dict[str, Any]] | None:
        v = Validator()
        p = self.params(v, self.operation_id)
        v.check()
        statuses = p["status"]
        wanted = {s.upper() for s in statuses} if statuses else None
        invalid = sorted({s.upper() for s in statuses} - set(RUN_STATUSES))  # agno's order: sorted, unique
        if invalid:
            raise ApiError(400, f"Invalid status value(s) {invalid!r}; expected one of {_EXPECTED_STATUSES}")
        database, user_id = await self.database_and_user(p)
        if await self.answered_before(database, user_id):
            return None
        found = await store.get_session(database, session_id, user_id)
        if found is None:
            raise ApiError(404, f"Session with ID {session_id} not found")
        self.rendered_under(found["snapshot"])
        as_type = p["type"] or shaping.detect_session_type(found["row"])
        runs = shaping.filter_runs_by_time(found["runs"], p["created_after"], p["created_before"])
        schemas = shaping.classify_runs(found["row"], runs, as_type)
        return shaping.filter_schemas_by_status(schemas, wanted)


class RunsHandler(_RunListHandler):
    operation_id = "get_session_runs"

    async def get(self, session_id: str) -> None:
        schemas = await self.classified_runs(session_id)
        if schemas is not None:
            self.write_json([shaping.exclude_none(schema) for schema in schemas])


class RunPreviewsHandler(_RunListHandler):
    operation_id = "get_session_run_previews"

    async def get(self, session_id: str) -> None:
        schemas = await self.classified_runs(session_id)
        if schemas is not None:
            self.write_json([shaping.run_preview(schema) for schema in schemas])


class RunHandler(BaseHandler):
    async def get(self, session_id: str, run_id: str) -> None:
        v = Validator()
        p = self.params(v, "get_session_run")  # `type` is validated, but the run itself decides its schema
        v.check()
        database, user_id = await self.database_and_user(p)
        if await self.answered_before(database, user_id):
            return
        found = await store.get_session(database, session_id, user_id)
        if found is None:
            raise ApiError(404, f"Session with ID {session_id} not found")
        self.rendered_under(found["snapshot"])
        if not found["runs"]:
            raise ApiError(404, f"Session with ID {session_id} has no runs")
        run = next((r for r in found["runs"] if r.get("run_id") == run_id), None)
        if run is None:
            raise ApiError(404, f"Run with ID {run_id} not found in session {session_id}")
        self.write_json(shaping.single_run(found["row"], run))


class MediaHandler(BaseHandler):
    """One stored media object of a session's runs, as AgentOS serves it (docs/api.md, "Media")."""

    async def get(self, session_id: str, storage_key: str) -> None:
        v = Validator()
        p = self.params(v, "get_session_media")
        v.check()
        storage = self.media_storage
        if storage is None:
            raise ApiError(503, MEDIA_NOT_CONFIGURED)
        database, user_id = await self.database_and_user(p)
        found = await store.get_session(database, session_id, user_id)
        if found is None:
            raise ApiError(404, f"Session '{session_id}' not found")
        as_type = p["type"] or shaping.detect_session_type(found["row"])
        # the key must belong to this session: owning one session grants nothing of another's media
        ref = media.find_reference(found["runs"], as_type, storage_key)
        if ref is None:
            raise ApiError(404, "Media not found in this session")
        if not storage.minted(ref):
            raise ApiError(404, "Media is not served by the configured storage backend")
        if p["redirect"]:
            url = await storage.presigned_url(storage_key)
            if url and url.startswith(("http://", "https://")):
                self.clear_header("Content-Type")
                self.redirect(url, status=307)
                return
        obj = await storage.open(storage_key)
        try:
            await self._stream(ref, obj)
        finally:
            await obj.close()

    async def _stream(self, ref: media.Reference, obj: media.MediaObject) -> None:
        """The object chunk by chunk. Once the headers are out nothing else can be answered, so the
        request timeout becomes a limit per chunk (a slow reader gets the whole object, a stalled one
        is dropped), and a chunk that cannot be read or sent ends the connection: the client sees a
        body shorter than its Content-Length."""
        for name, value in media.answer_headers(ref).items():
            self.set_header(name, value)
        remaining = obj.size
        if remaining is not None:
            self.set_header("Content-Length", str(remaining))
        self.lift_deadline()
        while remaining is None or remaining > 0:
            try:
                async with asyncio.timeout(self.config.request_timeout):
                    chunk = await obj.read()
                    if not chunk:
                        break
                    if remaining is not None:
                        chunk = chunk[:remaining]  # an object that grew while it was read ends at its announced size
                        remaining -= len(chunk)
                    self.write(chunk)
                    await self.flush()
            except StreamClosedError:
                return  # the client went away
            except (TimeoutError, MediaStorageFailed) as exc:
                log.warning("media stream cut off (request %s): %s", self.request_id, type(exc).__name__)
                if isinstance(self.request.connection, HTTP1Connection):
                    self.request.connection.close()
                return
        self.finish()


default_handlers = [
    (rf"/sessions/{SESSION_ID}/runs/?", RunsHandler),
    (rf"/sessions/{SESSION_ID}/run-previews/?", RunPreviewsHandler),
    (rf"/sessions/{SESSION_ID}/runs/(?P<run_id>[^/]+)/?", RunHandler),
    (rf"/sessions/{SESSION_ID}/media/(?P<storage_key>.+?)/?", MediaHandler),
]
