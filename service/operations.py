"""Every `/sessions` operation as one spec: its parameters (name, location, type, default, bounds,
description), body, answers and words. The handlers validate their parameters from it
(`BaseHandler.params`) and the OpenAPI document (service/openapi.py) is assembled from it, so the
two cannot drift apart. Parameters are listed in AgentOS's declaration order, which is also the
order of the 422 errors (query parameters first, then path parameters).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from service.rows import SESSION_TYPES, SORT_ORDERS
from service.schemas import PREVIEW_CHARS, RUN_STATUSES, Schema, or_list, ref


class Param(NamedTuple):
    """`type`: `str` (a NUL character is a 422), `raw` (taken as sent), `int`, `bool`, `strs` (all
    values of a repeated parameter) or an `ENUMS` name. `ge` is AgentOS's lower bound, `minimum` a
    stricter one of ours (docs/compatibility.md); `le` and `max_length` are bounds of ours, or the
    Config attribute holding them. `nullable`: FastAPI's `Optional` (documented as `anyOf [T, null]`)."""

    name: str
    type: str
    description: str
    location: str = "query"
    default: Any = None
    nullable: bool = True
    ge: int | None = None
    minimum: int | None = None
    le: int | str | None = None
    max_length: int | str | None = None


class Operation(NamedTuple):
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    params: tuple[Param, ...]
    success: tuple[str, Schema]
    """(status, response object)."""
    body: Schema | None = None
    bad_request: str = "db_id/table rules: db_id missing with several databases or with `table`"
    not_found: str = "Unknown db_id, or a table that does not exist"
    extra: dict[str, Schema] | None = None
    """More answers: status -> response object."""
    tag: str = "Sessions"
    open: bool = False
    """Served without authentication and without a database: only the answers listed here."""


def _open(operation_id: str, path: str, summary: str, description: str, tag: str, *answers: Schema) -> Operation:
    """An unauthenticated GET (health, probes, metrics, docs): its 200 answer, then maybe its 503."""
    extra = {"503": answers[1]} if len(answers) > 1 else None
    return Operation(
        operation_id, "get", path, summary, description, (), ("200", answers[0]), extra=extra, tag=tag, open=True
    )


def _session_id(what: str) -> Param:
    return Param("session_id", "str", f"Id of the session {what}.", location="path")


_DETECTED = f"{or_list(SESSION_TYPES)}; when absent, taken from the stored session."
TYPE = Param("type", "SessionType", _DETECTED)
SESSION_USER = Param("user_id", "str", "Only when the session belongs to this user.")
LIST_USER = Param("user_id", "str", "Only sessions of this user.")
DB_ID = Param("db_id", "str", "Database to use; required when several databases are configured.")
TABLE = Param("table", "str", "A table name of that database; only checked to exist (needs db_id).")
DELETE_MEDIA = Param(
    "delete_media",
    "bool",
    "Also delete the offloaded media of the deleted sessions from the media storage (after the rows; best "
    "effort); 503 when AGNO_MEDIA_STORAGE is not set.",
    default=False,
    nullable=False,
)
RUN_FILTERS = (
    Param("created_after", "int", "Only runs created at or after this epoch second."),
    Param("created_before", "int", "Only runs created at or before this epoch second."),
    Param(
        "status",
        "strs",
        f"Run status filter, repeatable, case-insensitive: {', '.join(RUN_STATUSES)} (anything else: 400).",
    ),
)
_DETAIL: Schema = {"anyOf": [ref(f"{kind}SessionDetailSchema") for kind in ("Agent", "Team", "Workflow")]}
_RUN: Schema = {"anyOf": [ref("RunSchema"), ref("TeamRunSchema"), ref("WorkflowRunSchema")]}
_NO_SESSION = "No such session, unknown db_id, or missing table"
_BAD_STATUS = "Invalid status value, or the db_id/table rules"


_DONE: Schema = {"description": "Done (also when nothing matched); empty body."}
# agno-session extension (docs/compatibility.md, AGNO_CONDITIONAL_GETS): reading GETs carry a weak ETag
_REUSABLE = {
    "304": {
        "description": "Not modified: If-None-Match named this answer's ETag and nothing has committed since; "
        "empty body (agno-session extension)."
    }
}


def json_answer(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(schema_name: str) -> Schema:
    return {"content": {"application/json": {"schema": ref(schema_name)}}, "required": True}


def _in_session(*path: Param, type_: Param | None = TYPE, more: tuple[Param, ...] = ()) -> tuple[Param, ...]:
    """The parameters of an operation on one session: its path parameters, type, user_id, the
    operation's own (`more`), db_id and table."""
    return (*path, *(() if type_ is None else (type_,)), SESSION_USER, *more, DB_ID, TABLE)


def _run_list(operation_id: str, path: str, summary: str, description: str, answer: Schema) -> Operation:
    """The runs list and the run previews: the same parameters and errors."""
    return Operation(
        operation_id,
        "get",
        path,
        summary,
        description,
        _in_session(_session_id("whose runs to list"), more=RUN_FILTERS),
        ("200", answer),
        bad_request=_BAD_STATUS,
        not_found=_NO_SESSION,
        extra=_REUSABLE,
    )


_OPERATIONS = (
    Operation(
        "get_sessions",
        "get",
        "/sessions",
        "List Sessions",
        "One page of sessions, newest first by default, with paging metadata. Null fields are omitted.",
        (
            TYPE._replace(description=f"{or_list(SESSION_TYPES)}; all types when absent."),
            Param("component_id", "str", "Only sessions of this agent, team or workflow id."),
            LIST_USER,
            # divergence `session-name-length`: AgentOS has no bound and scans the table for any term
            Param(
                "session_name",
                "str",
                "Case-insensitive substring of the stored session name (`%`/`_` are wildcards), at most "
                "AGNO_SEARCH_MAX_LENGTH characters (AgentOS has no maximum).",
                max_length="search_max_length",
            ),
            # divergences `limit-cap` and `page-zero` (docs/compatibility.md): AgentOS has no cap and answers 500
            Param(
                "limit",
                "int",
                "Page size, 1 to AGNO_MAX_PAGE_SIZE (AgentOS has no maximum).",
                default=20,
                ge=1,
                le="max_page_size",
            ),
            Param(
                "page",
                "int",
                "Page number, from 1 (AgentOS accepts 0 and answers 500; this service answers 422).",
                default=1,
                ge=0,
                minimum=1,
            ),
            Param(
                "sort_by",
                "raw",
                "A column of the sessions table (updated_at sorts by coalesce(updated_at, created_at)); "
                "an unknown name means no ordering.",
                default="created_at",
            ),
            Param("sort_order", "SortOrder", f"{or_list(SORT_ORDERS)}.", default="desc"),
            DB_ID,
            TABLE,
        ),
        ("200", json_answer("One page of sessions.", ref("PaginatedResponse_SessionSchema_"))),
        extra=_REUSABLE,
    ),
    Operation(
        "create_session",
        "post",
        "/sessions",
        "Create New Session",
        "Creates an empty session of the given type (default agent), or imports one with its runs "
        "(`runs`, `summary`: agno-session extensions). Answers the session detail, null fields omitted.",
        (Param("type", "SessionType", "Type of the new session.", default="agent", nullable=False), DB_ID),
        ("201", json_answer("The created session.", _DETAIL)),
        body={"content": {"application/json": {"schema": {**ref("CreateSessionRequest"), "default": {}}}}},
        extra={
            "409": json_answer(
                "A session with that session_id, or a run with one of the imported run_ids, exists",
                ref("ErrorResponse"),
            )
        },
    ),
    Operation(
        "delete_sessions",
        "delete",
        "/sessions",
        "Delete Multiple Sessions",
        "Deletes the listed sessions and their runs. Always 204, whether or not they existed.",
        (LIST_USER, DB_ID, TABLE, DELETE_MEDIA),
        ("204", _DONE),
        body=_json_body("DeleteSessionRequest"),
        bad_request="session_ids and session_types differ in length, or the db_id/table rules",
    ),
    Operation(
        "get_session_by_id",
        "get",
        "/sessions/{session_id}",
        "Get Session by ID",
        "The session's detail, shaped by `type` (or the stored type). Null fields are omitted.",
        _in_session(
            _session_id("to read"),
            type_=TYPE._replace(description=_DETECTED + " A different type re-interprets the row."),
        ),
        ("200", json_answer("The session.", _DETAIL)),
        not_found=_NO_SESSION,
        extra=_REUSABLE,
    ),
    Operation(
        "delete_session",
        "delete",
        "/sessions/{session_id}",
        "Delete Session",
        "Deletes the session and its runs. Always 204, whether or not it existed.",
        (*_in_session(_session_id("to delete"), type_=None), DELETE_MEDIA),
        ("204", _DONE),
    ),
    Operation(
        "update_session",
        "patch",
        "/sessions/{session_id}",
        "Update Session",
        "Replaces the given fields and sets updated_at to now (also for `{}`). Answers the detail with "
        "every field present (nulls included).",
        _in_session(_session_id("to update")),
        ("200", json_answer("The updated session.", _DETAIL)),
        body=_json_body("UpdateSessionRequest"),
        not_found=_NO_SESSION,
    ),
    _run_list(
        "get_session_runs",
        "/sessions/{session_id}/runs",
        "Get Session Runs",
        "The session's runs in run order, each shaped as an agent, team or workflow run. Null fields are omitted.",
        json_answer("The runs (possibly none).", {"type": "array", "items": _RUN}),
    ),
    _run_list(
        "get_session_run_previews",
        "/sessions/{session_id}/run-previews",
        "Get Session Run Previews",
        f"Like the runs list, with a light entry per run (input and output cut at {PREVIEW_CHARS} characters).",
        json_answer("The run previews.", {"type": "array", "items": ref("SessionRunPreviewSchema")}),
    ),
    Operation(
        "get_session_run",
        "get",
        "/sessions/{session_id}/runs/{run_id}",
        "Get Run by ID",
        "One run of the session, shaped by its own fields, with every field present (nulls included).",
        _in_session(
            _session_id("holding the run"),
            Param("run_id", "str", "Id of the run.", location="path"),
            type_=TYPE._replace(description="Accepted and validated; the run's own fields decide its shape."),
        ),
        ("200", json_answer("The run.", _RUN)),
        not_found="No such session, session without runs, no such run, unknown db_id, or missing table",
        extra=_REUSABLE,
    ),
    Operation(
        "rename_session",
        "post",
        "/sessions/{session_id}/rename",
        "Rename Session",
        "Sets the stored session name (updated_at unchanged). The type, when given, must match the "
        "stored one. Answers the detail with every field present (nulls included).",
        _in_session(
            _session_id("to rename"),
            type_=TYPE._replace(description="When given, only a session of this type is renamed."),
        ),
        ("200", json_answer("The renamed session.", _DETAIL)),
        body=_json_body("Body_rename_session"),
        not_found="No such session (of that type), unknown db_id, or missing table",
    ),
    Operation(
        "get_session_media",
        "get",
        "/sessions/{session_id}/media/{storage_key}",
        "Fetch stored media for a session",
        "Streams a piece of media that agno offloaded to the media storage (AGNO_MEDIA_STORAGE: a local "
        "directory or S3), or with redirect=true answers 307 to a freshly signed URL (S3; a local "
        "storage streams). The key must be referenced by the session's runs and minted by the "
        "configured storage. Content-Type from the reference's mime type, else the key's extension; "
        "X-Content-Type-Options: nosniff; HTML, SVG, JavaScript and XML are served as "
        "application/octet-stream with Content-Disposition: attachment.",
        (
            *_in_session(
                _session_id("the media belongs to"),
                # the key is only looked up among the session's references, so it is taken as sent
                Param("storage_key", "raw", "Storage key of the media.", location="path"),
            ),
            Param("redirect", "bool", "Redirect to a signed URL instead of streaming.", default=False, nullable=False),
        ),
        (
            "200",
            {
                "description": "The media bytes, with the stored mime type and Content-Length",
                "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
            },
        ),
        not_found=(
            "No such session (`Session '<id>' not found`), a key this session does not reference "
            "(`Media not found in this session`), a reference of another storage backend, bucket or "
            "region, or no such object (`Media object not found`); also unknown db_id or table"
        ),
        extra={
            "307": {
                "description": "redirect=true on S3: the presigned URL (valid 1 hour) in Location",
                "headers": {"Location": {"schema": {"type": "string"}}},
            },
            "502": json_answer(
                "The media storage failed (`Failed to fetch media from storage`, `Failed to generate "
                "media URL`); AgentOS answers 500",
                ref("ErrorResponse"),
            ),
        },
        tag="Media",
    ),
)
_TEXT: Schema = {"type": "string"}
_OPEN_OPERATIONS = (
    _open(
        "home",
        "/",
        "Home",
        "AgentOS's home answer: where health and docs are.",
        "Docs",
        json_answer("Links.", ref("HomeResponse")),
    ),
    _open(
        "health_check",
        "/health",
        "Health Check",
        "AgentOS's health check: no I/O, always 200 while the process serves.",
        "Health",
        json_answer("Healthy.", ref("HealthResponse")),
    ),
    _open(
        "liveness_check",
        "/healthz",
        "Liveness",
        "Kubernetes liveness probe: no I/O and no database, so a database outage never restarts pods.",
        "Health",
        json_answer("Alive.", ref("LivenessResponse")),
    ),
    _open(
        "readiness_check",
        "/readyz",
        "Readiness",
        "Kubernetes readiness probe: pings every configured database (1 s each); 503 while any is down "
        "or while draining after SIGTERM.",
        "Health",
        json_answer("Ready.", ref("ReadinessResponse")),
        json_answer("Not ready.", ref("ReadinessResponse")),
    ),
    _open(
        "prometheus_metrics",
        "/metrics",
        "Prometheus metrics",
        "Prometheus text exposition (not AgentOS's JSON /metrics endpoint): HTTP, pool and query metrics.",
        "Monitoring",
        {
            "description": "Metrics in the Prometheus text format.",
            "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": _TEXT}},
        },
    ),
    _open(
        "openapi_document",
        "/openapi.json",
        "OpenAPI document",
        "This document.",
        "Docs",
        json_answer("The OpenAPI 3.1 document.", {"type": "object"}),
    ),
    _open(
        "api_docs_page",
        "/docs",
        "API docs page",
        "Interactive API page (Swagger UI, served from this service) over /openapi.json.",
        "Docs",
        {"description": "HTML page.", "content": {"text/html": {"schema": _TEXT}}},
    ),
)
OPERATIONS: dict[str, Operation] = {op.operation_id: op for op in (*_OPEN_OPERATIONS, *_OPERATIONS)}
