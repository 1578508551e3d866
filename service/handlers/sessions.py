"""`/sessions` and `/sessions/{id}`: list, create, bulk delete, get, PATCH, delete, rename."""

from __future__ import annotations

import math
import time
import uuid
from typing import Any

from service import media, shaping, store
from service.db import Database
from service.errors import ApiError
from service.handlers.base import BaseHandler
from service.media import MediaStorage
from service.rows import SESSION_TYPES, CreateSessionBody, ListFilters, SessionType, UpdateSessionBody
from service.validation import Validator, body_object

MEDIA_NOT_CONFIGURED = "Media storage is not configured on AgentOS"


def new_message_id() -> str:
    """A chat_history message stored without an id gets a fresh uuid4, as agno's Message does."""
    return str(uuid.uuid4())


def media_storage_for(handler: BaseHandler, delete_media: bool) -> MediaStorage | None:
    """The storage whose objects a delete removes too: None without `delete_media=true`; 503 when it is
    asked for and none is configured (AgentOS's answer)."""
    if not delete_media:
        return None
    if handler.media_storage is None:
        raise ApiError(503, MEDIA_NOT_CONFIGURED)
    return handler.media_storage


async def owned_media_keys(
    database: Database, storage: MediaStorage | None, session_ids: list[str], user_id: str | None
) -> list[str]:
    """AgentOS's `_collect_media_keys`: read before the rows that name the objects are deleted; each
    session read as its stored type, through the caller's user scope."""
    if storage is None:
        return []
    keys: list[str] = []
    for session_id in session_ids:
        found = await store.get_session(database, session_id, user_id)
        if found is not None:
            as_type = shaping.detect_session_type(found["row"])
            keys.extend(media.owned_keys(found["runs"], as_type, session_id, storage))
    return keys


def _clock_free(found: Any) -> bool:
    """Whether no timestamp of a detail is filled from the clock (fresh ids are counted as drawn)."""
    return None not in (found["row"].get("created_at"), found["row"].get("updated_at")) and all(
        not isinstance(message, dict) or message.get("created_at") is not None
        for run in found["runs"]
        if isinstance(run, dict) and isinstance(run.get("messages"), list)
        for message in run["messages"]
    )


class SessionsHandler(BaseHandler):
    async def get(self) -> None:
        v = Validator()
        p = self.params(v, "get_sessions")
        v.check()
        limit, page = p["limit"], p["page"]
        database, user_id = await self.database_and_user(p)
        if await self.answered_before(database, user_id):
            return
        filters = ListFilters(
            session_type=p["type"], component_id=p["component_id"], user_id=user_id, session_name=p["session_name"]
        )
        # the slot covers shaping and encoding too: that is where a large page takes its memory
        async with database.expensive_slot(store.is_expensive(filters, limit), large=limit > store.LARGE_PAGE):
            total, sessions, snapshot = await store.list_sessions(
                database, filters, p["sort_by"], p["sort_order"], limit, page
            )
            self.rendered_under(snapshot)
            self.write_json(
                {
                    "data": [shaping.list_item(s["row"], s["runs"]) for s in sessions],
                    "meta": {
                        "page": page,
                        "limit": limit,
                        "total_pages": math.ceil(total / limit),
                        "total_count": total,
                        "search_time_ms": 0.0,
                    },
                }
            )

    async def post(self) -> None:
        v = Validator()
        p = self.params(v, "create_session")
        session_type: SessionType = p["type"]
        body = body_object(v, self.json_body(), required=False) or {}
        create = CreateSessionBody(
            session_id=v.string_field(body, "session_id"),
            session_name=v.string_field(body, "session_name", strip_nul=True),
            session_state=v.object_field(body, "session_state"),
            metadata=v.object_field(body, "metadata"),
            user_id=v.string_field(body, "user_id"),
            agent_id=v.string_field(body, "agent_id"),
            team_id=v.string_field(body, "team_id"),
            workflow_id=v.string_field(body, "workflow_id"),
            runs=_import_runs(v, body),
            summary=_summary_field(v, body),
        )
        v.check()
        database, scoped_user_id = await self.database_and_user(p)
        if self.principal.user_id is not None:
            # AgentOS stores the caller's identity (JWT subject, `sa:<name>`) as the owner
            create["user_id"] = str(self.principal.user_id)
        now = int(time.time())
        try:
            created = await store.create_session(database, session_type, create, now)
        except store.SessionExists as exc:
            session_id = exc.args[0]
            owned = scoped_user_id is None or await store.get_session(database, session_id, scoped_user_id)
            if not owned:
                # another user's id: the same status, but no confirmation of whose it is (AgentOS)
                raise ApiError(
                    409,
                    "Could not create a session with the supplied session_id. "
                    "Omit session_id to have one generated, or choose a different one.",
                ) from None
            raise ApiError(
                409, f"Session with id '{session_id}' already exists. Use PATCH /sessions/{session_id} to update it."
            ) from None
        except store.RunIdConflict:
            raise ApiError(409, "A run with one of the given run_id values already exists") from None
        detail = shaping.session_detail(created["row"], created["runs"], session_type, now=now, new_id=new_message_id)
        self.write_json(shaping.exclude_none(detail), 201)

    async def delete(self) -> None:
        v = Validator()
        p = self.params(v, "delete_sessions")
        body = body_object(v, self.json_body(), required=True)
        session_ids: list[str] = []
        session_types: list[Any] = []
        if body is not None:
            session_ids = v.list_field(body, "session_ids")
            session_types = v.list_field(body, "session_types", SESSION_TYPES)
        v.check()
        for index, session_id in enumerate(session_ids):
            v.no_nul(["body", "session_ids", index], session_id)
        v.check()
        if len(session_ids) != len(session_types):
            raise ApiError(400, "Session IDs and session types must have the same length")
        database, user_id = await self.database_and_user(p)
        storage = media_storage_for(self, p["delete_media"])
        keys = await owned_media_keys(database, storage, session_ids, user_id)
        await store.delete_sessions(database, session_ids, user_id)
        if storage is not None:
            await storage.delete_many(keys)
        self.write_no_content()


def _import_runs(v: Validator, body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Import extension: `runs` is a list of run objects, each with a unique string `run_id`."""
    runs = body.get("runs")
    if runs is None:
        return None
    if not isinstance(runs, list):
        v.add("list_type", ["body", "runs"], "Input should be a valid list", runs)
        return None
    seen: set[str] = set()
    for index, run in enumerate(runs):
        loc: list[Any] = ["body", "runs", index]
        if not isinstance(run, dict):
            v.add("dict_type", loc, "Input should be a valid dictionary", run)
        elif not isinstance(run.get("run_id"), str) or not run["run_id"]:
            v.add("missing", [*loc, "run_id"], "Field required: a non-empty string run_id", run.get("run_id"))
        elif run["run_id"] in seen:
            v.add("value_error", [*loc, "run_id"], "Value error, duplicate run_id", run["run_id"])
        else:
            seen.add(run["run_id"])
    cleaned: list[dict[str, Any]] = v.storable_json(["body", "runs"], runs)
    return cleaned


def _summary_field(v: Validator, body: dict[str, Any]) -> dict[str, Any] | None:
    value = v.object_field(body, "summary")
    if value is None:
        return None
    try:
        return shaping.parse_summary_input(value)
    except ValueError as exc:
        v.add("value_error", ["body", "summary"], f"Value error, {exc}", value)
        return None


class SessionHandler(BaseHandler):
    async def get(self, session_id: str) -> None:
        v = Validator()
        p = self.params(v, "get_session_by_id")
        v.check()
        session_type = p["type"]
        database, user_id = await self.database_and_user(p)
        if await self.answered_before(database, user_id):
            return
        found = await store.get_session(database, session_id, user_id)
        if found is None:
            prefix = f"{session_type.capitalize()} Session" if session_type else "Session"
            raise ApiError(404, f"{prefix} with id '{session_id}' not found")
        self.rendered_under(found["snapshot"])
        drawn: list[str] = []

        def new_id() -> str:
            drawn.append(new_message_id())
            return drawn[-1]

        as_type = session_type or shaping.detect_session_type(found["row"])
        detail = shaping.session_detail(found["row"], found["runs"], as_type, now=int(time.time()), new_id=new_id)
        if drawn or not _clock_free(found):
            self.forgo_reuse()  # AgentOS fills these from the clock and fresh uuids on every read
        self.write_json(shaping.exclude_none(detail))

    async def patch(self, session_id: str) -> None:
        v = Validator()
        p = self.params(v, "update_session")
        body = body_object(v, self.json_body(), required=True)
        update = UpdateSessionBody()
        if body is not None:
            update = UpdateSessionBody(
                session_name=v.string_field(body, "session_name", strip_nul=True),
                session_state=v.object_field(body, "session_state"),
                metadata=v.object_field(body, "metadata"),
                summary=_summary_field(v, body),
            )
        v.check()
        database, user_id = await self.database_and_user(p)
        now = int(time.time())
        updated = await store.update_session(database, session_id, user_id, p["type"], update, now)
        if updated is None:
            raise ApiError(404, f"Session with id '{session_id}' not found")
        session, answer_as, parsed_as = updated
        detail = shaping.session_detail(
            session["row"], session["runs"], answer_as, now=now, new_id=new_message_id, parsed_as=parsed_as
        )
        self.write_json(detail)

    async def delete(self, session_id: str) -> None:
        v = Validator()
        p = self.params(v, "delete_session")
        v.check()
        database, user_id = await self.database_and_user(p)
        storage = media_storage_for(self, p["delete_media"])
        keys = await owned_media_keys(database, storage, [session_id], user_id)
        await store.delete_session(database, session_id, user_id)
        if storage is not None:
            await storage.delete_many(keys)
        self.write_no_content()


class RenameHandler(BaseHandler):
    async def post(self, session_id: str) -> None:
        v = Validator()
        p = self.params(v, "rename_session")
        session_type = p["type"]
        body = self.json_body()
        name = v.string_field(body if isinstance(body, dict) else {}, "session_name", required=True, strip_nul=True)
        v.check()
        assert name is not None  # noqa: S101 -- narrowing: v.check() raised on a missing name
        database, user_id = await self.database_and_user(p)
        renamed = await store.rename_session(database, session_id, name, session_type, user_id)
        if renamed is None:
            raise ApiError(404, f"Session with id '{session_id}' not found")
        as_type = session_type or shaping.detect_session_type(renamed["row"])
        self.write_json(
            shaping.session_detail(
                renamed["row"], renamed["runs"], as_type, now=int(time.time()), new_id=new_message_id
            )
        )


SESSION_ID = r"(?P<session_id>[^/]+)"
default_handlers = [
    (r"/sessions/?", SessionsHandler),
    (rf"/sessions/{SESSION_ID}/?", SessionHandler),
    (rf"/sessions/{SESSION_ID}/rename/?", RenameHandler),
]
