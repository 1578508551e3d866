"""The OpenAPI 3.1 document of the service (served at `/openapi.json`), built as a plain dict.

The `/sessions` operations mirror AgentOS 3.1.10's own document: same paths, operationIds, tags,
parameter names, types, enums and defaults, same request-body and response schema names and fields.
Where this service answers differently the document says what *we* do (docs/api.md lists it):

- `limit` has a maximum (AGNO_MAX_PAGE_SIZE) and `page` a minimum of 1 (AgentOS: no cap; page=0 is a 500);
- POST /sessions accepts two import extension fields, `runs` and `summary`;
- `summary` (POST and PATCH) is validated (422) instead of failing with a 500;
- the infrastructure answers 409 (run id conflict), 413, 503 (with Retry-After) and 504 are documented;
- the media endpoint answers 503 unless AGNO_MEDIA_STORAGE is set; a failing storage is a 502 (AgentOS: 500);
- `HTTPBearer` security and the 401 answers appear only when OS_SECURITY_KEY is configured.

Descriptions are ours. Nothing here does I/O; the document depends only on the two config values
passed to `build_openapi` and is cached per process by the docs handler.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from typing import Any

from service import AGNO_VERSION, __version__
from service.rows import SESSION_TYPES, SORT_ORDERS
from service.shaping import PREVIEW_CHARS, RUN_STATUSES

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
Schema = dict[str, Any]

SESSIONS_TAG = "Sessions"
MEDIA_TAG = "Media"
HEALTH_TAG = "Health"
MONITORING_TAG = "Monitoring"
DOCS_TAG = "Docs"


def _or_list(words: Iterable[str]) -> str:
    """`("a", "b", "c")` -> `"a, b or c"`."""
    *head, last = words
    return f"{', '.join(head)} or {last}" if head else last


_SESSION_TYPES_TEXT = _or_list(SESSION_TYPES)  # "agent, team or workflow"
_RUN_STATUSES_TEXT = _or_list(RUN_STATUSES)  # "PENDING, ..., ERROR or REGENERATED"


# --------------------------------------------------------------------------------------------------------
# schema helpers
# --------------------------------------------------------------------------------------------------------
def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_OBJECT: Schema = {"type": "object", "additionalProperties": True}
_BASE_TYPES: dict[str, Schema] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "num": {"type": "number"},
    "bool": {"type": "boolean"},
    "obj": _OBJECT,
    "objs": {"type": "array", "items": _OBJECT},
    "strs": {"type": "array", "items": {"type": "string"}},
    "datetime": {"type": "string", "format": "date-time"},
}


def _type(spec: str) -> Schema:
    """`"str"`, `"int?"` (nullable), `"str|obj?"` (either, nullable) -> a JSON Schema."""
    optional = spec.endswith("?")
    parts = [dict(_BASE_TYPES[part]) for part in spec.rstrip("?").split("|")]
    if optional:
        parts.append({"type": "null"})
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


def model(
    title: str,
    fields: list[tuple[str, str | Schema, str]],
    required: tuple[str, ...] = (),
    description: str | None = None,
    example: Any = None,
) -> Schema:
    """An object schema; `fields` are (name, type spec or schema, description) in JSON key order."""
    properties: dict[str, Schema] = {}
    for name, spec, text in fields:
        schema = _type(spec) if isinstance(spec, str) else dict(spec)
        schema["description"] = text
        properties[name] = schema
    out: Schema = {"type": "object", "title": title, "properties": properties}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    if example is not None:
        out["example"] = example
    return out


# --------------------------------------------------------------------------------------------------------
# component schemas
# --------------------------------------------------------------------------------------------------------
def _error_model(title: str, example: str) -> Schema:
    return model(
        title,
        [
            ("detail", "str", "What went wrong, in one sentence."),
            ("error_id", "str?", "Stable error identifier (AgentOS sets it for some database errors)."),
            ("error_type", "str?", "Error category, present together with error_id."),
        ],
        required=("detail",),
        example={"detail": example},
    )


def _run_common_tail(kind: str) -> list[tuple[str, str | Schema, str]]:
    return [
        ("followups", "strs?", "Follow-up suggestions generated after the run."),
        ("forked_from_run_id", "str?", f"Source run id when this {kind} was forked from another run."),
        ("forked_from_message_index", "int?", "Message index at which the forked source was cut."),
        ("forked_from_session_id", "str?", f"Source session id when this {kind} came from a session branch."),
        ("regenerated_from", "str?", f"Source run id when this {kind} was produced by a regenerate."),
        ("last_checkpoint_at_message_index", "int?", "Message index of the latest mid-run checkpoint."),
    ]


def component_schemas() -> dict[str, Schema]:
    schemas: dict[str, Schema] = {
        "SessionType": {"type": "string", "enum": list(SESSION_TYPES), "title": "SessionType"},
        "SortOrder": {"type": "string", "enum": list(SORT_ORDERS), "title": "SortOrder"},
        "BadRequestResponse": _error_model("BadRequestResponse", "Bad request"),
        "UnauthenticatedResponse": _error_model("UnauthenticatedResponse", "Invalid authentication token"),
        "NotFoundResponse": _error_model("NotFoundResponse", "Session with id 'abc' not found"),
        "InternalServerErrorResponse": _error_model("InternalServerErrorResponse", "Internal server error"),
        "ErrorResponse": model(
            "ErrorResponse",
            [("detail", "str", "What went wrong, in one sentence.")],
            required=("detail",),
            description="The body of this service's own 409, 413, 503 and 504 answers.",
            example={"detail": "Database unavailable"},
        ),
        "ValidationErrorDetail": model(
            "ValidationErrorDetail",
            [
                ("type", "str", "Error type, pydantic's name for it (e.g. `enum`, `missing`, `int_parsing`)."),
                (
                    "loc",
                    {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
                    "Where: `query`/`path`/`body`, then the field name or list index.",
                ),
                ("msg", "str", "Human-readable message."),
                ("input", {}, "The offending input value, any JSON value (null when missing)."),
                ("ctx", _OBJECT, "Extra context of some error types (e.g. `expected`, `ge`); absent otherwise."),
            ],
            required=("type", "loc", "msg", "input"),
            description="One field-level error, in FastAPI/pydantic v2's shape (no `url` key).",
        ),
        "ValidationErrorResponse": model(
            "ValidationErrorResponse",
            [("detail", {"type": "array", "items": ref("ValidationErrorDetail")}, "One entry per failing field.")],
            required=("detail",),
            description="422 body: query parameters first in declaration order, then the body fields.",
            example={
                "detail": [
                    {
                        "type": "enum",
                        "loc": ["query", "type"],
                        "msg": "Input should be 'agent', 'team' or 'workflow'",
                        "input": "foo",
                        "ctx": {"expected": "'agent', 'team' or 'workflow'"},
                    }
                ]
            },
        ),
        "HealthResponse": model(
            "HealthResponse",
            [
                ("status", "str", "Always `ok`."),
                ("instantiated_at", "datetime", "When the process started (UTC, microseconds)."),
            ],
            required=("status", "instantiated_at"),
            example={"status": "ok", "instantiated_at": "2025-06-10T12:00:00.000000Z"},
        ),
        "LivenessResponse": model(
            "LivenessResponse", [("status", "str", "Always `ok`.")], required=("status",), example={"status": "ok"}
        ),
        "ReadinessResponse": model(
            "ReadinessResponse",
            [
                ("status", {"type": "string", "enum": ["ok", "unavailable"]}, "`ok` when ready."),
                ("draining", "bool", "True after SIGTERM: the process is finishing its in-flight requests."),
                (
                    "databases",
                    {"type": "object", "additionalProperties": {"type": "string", "enum": ["ok", "unavailable"]}},
                    "Ping result of every configured database, by db_id.",
                ),
            ],
            required=("status", "draining", "databases"),
            example={"status": "ok", "draining": False, "databases": {"default": "ok"}},
        ),
        "HomeResponse": model(
            "HomeResponse",
            [
                ("name", "str", "Always `AgentOS` (as AgentOS answers without a configured name)."),
                ("health", "str", "Path of the health check."),
                ("info", "str", "Path of AgentOS's info endpoint (not served by this service)."),
                ("docs", "str", "Path of the interactive API page."),
            ],
            required=("name", "health", "info", "docs"),
        ),
        "PaginationInfo": model(
            "PaginationInfo",
            [
                ("page", {"type": "integer", "minimum": 0, "default": 0}, "The requested page (1-based)."),
                ("limit", {"type": "integer", "minimum": 1, "default": 20}, "The requested page size."),
                ("total_pages", {"type": "integer", "minimum": 0, "default": 0}, "ceil(total_count / limit)."),
                ("total_count", {"type": "integer", "minimum": 0, "default": 0}, "Sessions matching the filters."),
                ("search_time_ms", {"type": "number", "minimum": 0, "default": 0}, "Always 0.0 (as AgentOS)."),
            ],
        ),
        "SessionSchema": model(
            "SessionSchema",
            [
                ("session_id", "str", "Session id."),
                ("session_name", "str", "Stored name, else derived from the first user message or input."),
                ("session_state", "obj?", "session_data.session_state."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("updated_at", "datetime?", "Last update (UTC); absent when never set."),
                ("session_type", "str?", f"{_SESSION_TYPES_TEXT}."),
                ("user_id", "str?", "Owner user id."),
                ("agent_id", "str?", "Agent id (agent sessions)."),
                ("team_id", "str?", "Team id (team sessions)."),
                ("workflow_id", "str?", "Workflow id (workflow sessions)."),
                ("session_summary", "obj?", "The stored summary object, as stored."),
                ("metrics", "obj?", "session_data.session_metrics."),
                ("total_tokens", "int?", "metrics.total_tokens."),
                ("metadata", "obj?", "Stored metadata (agent sessions: plus the `sdk` label when known)."),
            ],
            required=("session_id", "session_name"),
            description="One list item; fields whose value is null are omitted.",
        ),
        "PaginatedResponse_SessionSchema_": model(
            "PaginatedResponse[SessionSchema]",
            [
                ("data", {"type": "array", "items": ref("SessionSchema")}, "The sessions of this page."),
                ("meta", ref("PaginationInfo"), "Paging information."),
            ],
            required=("data", "meta"),
        ),
        "AgentSessionDetailSchema": model(
            "AgentSessionDetailSchema",
            [
                ("user_id", "str?", "Owner user id."),
                ("agent_session_id", "str", "Same as session_id."),
                ("session_id", "str", "Session id."),
                ("session_name", "str", "Stored or derived session name."),
                ("session_summary", "obj?", "Summary: summary, topics, updated_at."),
                ("session_state", "obj?", "session_data.session_state."),
                ("agent_id", "str?", "Agent id."),
                ("total_tokens", "int?", "Total tokens of the session."),
                ("agent_data", "obj?", "Stored agent data (name, model, ...)."),
                ("metrics", "obj?", "Session metrics."),
                ("metadata", "obj?", "Stored metadata, plus the `sdk` label when known."),
                ("chat_history", "objs?", "User and assistant messages of the top-level runs."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("updated_at", "datetime?", "Last update (UTC), else the creation time."),
            ],
            required=("agent_session_id", "session_id", "session_name"),
        ),
        "TeamSessionDetailSchema": model(
            "TeamSessionDetailSchema",
            [
                ("session_id", "str", "Session id."),
                ("session_name", "str", "Stored or derived session name."),
                ("user_id", "str?", "Owner user id."),
                ("team_id", "str?", "Team id."),
                ("session_summary", "obj?", "Summary: summary, topics, updated_at."),
                ("session_state", "obj?", "session_data.session_state."),
                ("metrics", "obj?", "Session metrics."),
                ("team_data", "obj?", "Stored team data (name, model, ...)."),
                ("metadata", "obj?", "Stored metadata."),
                ("chat_history", "objs?", "User and assistant messages of the top-level team runs."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("updated_at", "datetime?", "Last update (UTC), else the creation time."),
                ("total_tokens", "int?", "Total tokens of the session."),
            ],
            required=("session_id", "session_name"),
        ),
        "WorkflowSessionDetailSchema": model(
            "WorkflowSessionDetailSchema",
            [
                ("user_id", "str?", "Owner user id."),
                ("workflow_id", "str?", "Workflow id."),
                ("workflow_name", "str?", "Always null when read from PostgreSQL (as AgentOS)."),
                ("session_id", "str", "Session id."),
                ("session_name", "str", "Stored or derived session name."),
                ("session_data", "obj?", "The whole stored session_data object."),
                ("session_state", "obj?", "session_data.session_state."),
                ("workflow_data", "obj?", "Stored workflow data (name, steps, ...)."),
                ("metadata", "obj?", "Stored metadata."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("updated_at", "datetime?", "Last update (UTC); the current time when never set."),
            ],
            required=("session_id", "session_name"),
        ),
        "RunSchema": model(
            "RunSchema",
            [
                ("run_id", "str", "Run id."),
                ("parent_run_id", "str?", 'Parent run id (team member or step runs), `""` for top-level runs.'),
                ("agent_id", "str?", "Agent that ran it."),
                ("user_id", "str?", "User id of the run."),
                ("status", "str?", f"{_RUN_STATUSES_TEXT}."),
                ("cancellation_stage", "str?", "For cancelled runs: PENDING, EXECUTING or PAUSED."),
                ("run_input", "str?", "The run's input as text."),
                ("content", "str|obj?", "The run's output."),
                ("run_response_format", "str?", "`text` or `json`."),
                ("reasoning_content", "str?", "Reasoning text, when reasoning was on."),
                ("reasoning_steps", "objs?", "Reasoning steps."),
                ("metrics", "obj?", "Token and timing metrics."),
                ("metadata", "obj?", "Run metadata (plus the `sdk` label for external agents)."),
                ("messages", "objs?", "The run's messages, as stored."),
                ("tools", "objs?", "Tool calls of the run."),
                ("events", "objs?", "Stored run events."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("references", "objs?", "Knowledge references."),
                ("citations", "obj?", "Model citations."),
                ("reasoning_messages", "objs?", "Reasoning messages."),
                ("session_state", "obj?", "Session state at the end of the run."),
                ("images", "objs?", "Generated images."),
                ("videos", "objs?", "Generated videos."),
                ("audio", "objs?", "Generated audio."),
                ("files", "objs?", "Generated files."),
                ("response_audio", "obj?", "Spoken response."),
                ("input_media", "obj?", "Input media: images, videos, audios, files."),
                *_run_common_tail("run"),
            ],
            required=("run_id",),
        ),
        "TeamRunSchema": model(
            "TeamRunSchema",
            [
                ("run_id", "str", "Team run id."),
                ("parent_run_id", "str?", 'Parent run id, `""` for top-level runs.'),
                ("team_id", "str?", "Team that ran it."),
                ("user_id", "str?", "User id of the run."),
                ("status", "str?", f"{_RUN_STATUSES_TEXT}."),
                ("cancellation_stage", "str?", "For cancelled runs: PENDING, EXECUTING or PAUSED."),
                ("content", "str|obj?", "The team run's output."),
                ("reasoning_content", "str?", "Reasoning text, when reasoning was on."),
                ("reasoning_steps", "objs?", "Reasoning steps."),
                ("run_input", "str?", "The run's input as text."),
                ("run_response_format", "str?", "`text` or `json`."),
                ("metrics", "obj?", "Token and timing metrics."),
                ("tools", "objs?", "Tool calls of the run."),
                ("messages", "objs?", "The run's messages, as stored."),
                ("events", "objs?", "Stored run events."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("references", "objs?", "Knowledge references."),
                ("citations", "obj?", "Model citations."),
                ("reasoning_messages", "objs?", "Reasoning messages."),
                ("session_state", "obj?", "Session state at the end of the run."),
                ("input_media", "obj?", "Input media: images, videos, audios, files."),
                ("images", "objs?", "Generated images."),
                ("videos", "objs?", "Generated videos."),
                ("audio", "objs?", "Generated audio."),
                ("files", "objs?", "Generated files."),
                ("response_audio", "obj?", "Spoken response."),
                *_run_common_tail("team run"),
            ],
            required=("run_id",),
        ),
        "WorkflowRunSchema": model(
            "WorkflowRunSchema",
            [
                ("run_id", "str", "Workflow run id."),
                ("run_input", "str?", "The workflow's input as text."),
                ("events", "objs?", "Stored workflow events."),
                ("workflow_id", "str?", "Workflow that ran."),
                ("user_id", "str?", "User id of the run."),
                ("content", "str|obj?", "The workflow's output."),
                ("content_type", "str?", "Type name of the content."),
                ("status", "str?", "Run status."),
                ("cancellation_stage", "str?", "For cancelled runs: PENDING, EXECUTING or PAUSED."),
                ("step_results", "objs?", "Result of each step."),
                ("step_executor_runs", "objs?", "Runs of the step executors."),
                ("step_requirements", "objs?", "Human-in-the-loop step requirements."),
                ("pause_kind", "str?", "`step` or `executor` for paused runs."),
                ("paused_step_name", "str?", "Name of the step that paused the run."),
                ("paused_step_index", "int?", "Index of the step that paused the run."),
                ("metrics", "obj?", "Workflow metrics."),
                ("created_at", "datetime?", "Creation time (UTC)."),
                ("reasoning_content", "str?", "Reasoning text."),
                ("reasoning_steps", "objs?", "Reasoning steps."),
                ("references", "objs?", "Knowledge references."),
                ("citations", "obj?", "Model citations."),
                ("reasoning_messages", "objs?", "Reasoning messages."),
                ("images", "objs?", "Generated images."),
                ("videos", "objs?", "Generated videos."),
                ("audio", "objs?", "Generated audio."),
                ("files", "objs?", "Generated files."),
                ("response_audio", "obj?", "Spoken response."),
            ],
            required=("run_id",),
        ),
        "SessionRunPreviewSchema": model(
            "SessionRunPreviewSchema",
            [
                ("run_id", "str", "Run id."),
                ("parent_run_id", "str?", 'Parent run id, `""` for top-level agent and team runs.'),
                ("agent_id", "str?", "Agent id, for agent runs."),
                ("team_id", "str?", "Team id, for team runs."),
                ("workflow_id", "str?", "Workflow id, for workflow runs."),
                ("user_id", "str?", "User id of the run."),
                ("status", "str?", "Run status."),
                ("run_input", "str?", f"Input, cut at {PREVIEW_CHARS} characters."),
                ("content_preview", "str?", f"Output, cut at {PREVIEW_CHARS} characters."),
                ("created_at", "datetime?", "Creation time (UTC)."),
            ],
            required=("run_id",),
            description="A light run entry (no messages, events, media or metrics); null fields omitted.",
        ),
        "SessionSummary": model(
            "SessionSummary",
            [
                ("summary", "str", "The summary text."),
                ("topics", "strs?", "Topics."),
                ("updated_at", "datetime?", "When the summary was written (ISO 8601)."),
            ],
            required=("summary",),
            description="agno's SessionSummary; unknown keys are a 422 here (AgentOS: 500).",
        ),
        "ImportedRun": {
            "type": "object",
            "title": "ImportedRun",
            "additionalProperties": True,
            "required": ["run_id"],
            "properties": {
                "run_id": {"type": "string", "minLength": 1, "description": "Unique run id."},
                "created_at": {"type": "integer", "description": "Epoch seconds; the import time when absent."},
            },
            "description": (
                "A run as agno serialises it (RunOutput / TeamRunOutput / WorkflowRunOutput `to_dict()`), "
                "stored verbatim as run_data. Its run type: workflow when it has workflow_id, team when it "
                "has team_id and no agent_id, agent when it has agent_id, else the session's type."
            ),
        },
        "CreateSessionRequest": model(
            "CreateSessionRequest",
            [
                ("session_id", "str?", "Session id; generated (uuid4) when absent or empty."),
                ("session_name", "str?", "Session name."),
                ("session_state", "obj?", "Initial session state."),
                ("metadata", "obj?", "Metadata (agno's reserved keys are removed)."),
                ("user_id", "str?", "Owner user id."),
                ("agent_id", "str?", "Agent id; stored for agent sessions only."),
                ("team_id", "str?", "Team id; stored for team sessions only."),
                ("workflow_id", "str?", "Workflow id; stored for workflow sessions only."),
                (
                    "runs",
                    nullable({"type": "array", "items": ref("ImportedRun")}),
                    "agno-session extension (import): runs stored with the session in one transaction, "
                    "in this order. run_ids must be unique in the body (422) and new in the database (409).",
                ),
                (
                    "summary",
                    nullable(ref("SessionSummary")),
                    "agno-session extension (import): the session summary to store.",
                ),
            ],
            description="Unknown keys are ignored.",
        ),
        "UpdateSessionRequest": model(
            "UpdateSessionRequest",
            [
                ("session_name", "str?", "New name."),
                ("session_state", "obj?", "New session state (replaces the old one)."),
                ("metadata", "obj?", "New metadata (replaces the old one)."),
                ("summary", nullable(ref("SessionSummary")), "New summary (not kept for workflow sessions)."),
            ],
            description="null means 'leave unchanged'; unknown keys are ignored.",
        ),
        "DeleteSessionRequest": model(
            "DeleteSessionRequest",
            [
                ("session_ids", {"type": "array", "items": {"type": "string"}, "minItems": 1}, "Sessions to delete."),
                (
                    "session_types",
                    {"type": "array", "items": ref("SessionType"), "minItems": 1},
                    "Their types, one per id (checked for length only).",
                ),
            ],
            required=("session_ids", "session_types"),
        ),
        "Body_rename_session": model(
            "Body_rename_session", [("session_name", "str", "The new name.")], required=("session_name",)
        ),
    }
    return schemas


# --------------------------------------------------------------------------------------------------------
# parameters
# --------------------------------------------------------------------------------------------------------
def param(
    name: str,
    schema: Schema,
    description: str,
    *,
    location: str = "query",
    default: Any = None,
    optional_null: bool = True,
) -> Schema:
    """A parameter in FastAPI's style: optional query values are `anyOf [T, null]`."""
    if location == "path":
        return {"name": name, "in": "path", "required": True, "schema": schema, "description": description}
    inner: Schema = nullable(schema) if optional_null else dict(schema)
    if default is not None:
        inner["default"] = default
    return {"name": name, "in": location, "required": False, "schema": inner, "description": description}


def _string(name: str, description: str) -> Schema:
    return param(name, {"type": "string"}, description)


def _session_id(what: str) -> Schema:
    return param("session_id", {"type": "string"}, f"Id of the session {what}.", location="path")


def _type_param(description: str) -> Schema:
    return param("type", ref("SessionType"), description)


def _db_params(what: str, table: bool = True) -> list[Schema]:
    out = [_string("db_id", f"Database to {what}; required when several databases are configured.")]
    if table:
        out.append(_string("table", "A table name of that database; only checked to exist (needs db_id)."))
    return out


_TYPE_DETECTED = f"{_SESSION_TYPES_TEXT}; when absent, taken from the stored session."
_STATUS_TEXT = f"Run status filter, repeatable, case-insensitive: {', '.join(RUN_STATUSES)} (anything else: 400)."


def _delete_media(what: str) -> Schema:
    return param(
        "delete_media",
        {"type": "boolean"},
        f"Also delete {what} offloaded media from the media storage (after the rows; best effort); "
        "503 when AGNO_MEDIA_STORAGE is not set.",
        default=False,
        optional_null=False,
    )


_SESSION_USER_TEXT = "Only when the session belongs to this user."


def _in_session(
    what: str,
    type_text: str | None,
    db_what: str,
    *,
    path: Iterable[Schema] = (),
    query: Iterable[Schema] = (),
) -> list[Schema]:
    """The parameters of an operation on one session: session_id, `path` (more path parameters), type
    (unless `type_text` is None), user_id, `query` (operation-specific filters), db_id and table."""
    return [
        _session_id(what),
        *path,
        *([] if type_text is None else [_type_param(type_text)]),
        _string("user_id", _SESSION_USER_TEXT),
        *query,
        *_db_params(db_what),
    ]


def _run_list_params() -> list[Schema]:
    return _in_session(
        "whose runs to list",
        _TYPE_DETECTED,
        "read from",
        query=[
            param("created_after", {"type": "integer"}, "Only runs created at or after this epoch second."),
            param("created_before", {"type": "integer"}, "Only runs created at or before this epoch second."),
            param("status", {"type": "array", "items": {"type": "string"}}, _STATUS_TEXT),
        ],
    )


# --------------------------------------------------------------------------------------------------------
# responses
# --------------------------------------------------------------------------------------------------------
def _json_response(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str, schema_name: str) -> Schema:
    return _json_response(description, ref(schema_name))


def _shared(name: str) -> Schema:
    return {"$ref": f"#/components/responses/{name}"}


def component_responses() -> dict[str, Schema]:
    return {
        "Unauthorized": _json_response(
            "Missing or wrong bearer token (`Authorization header required` / `Invalid authentication token`).",
            ref("UnauthenticatedResponse"),
        ),
        "PayloadTooLarge": _json_response("The request body is larger than AGNO_MAX_BODY_BYTES.", ref("ErrorResponse")),
        "ServiceUnavailable": {
            "description": (
                "The database is unreachable (`Database unavailable`, Retry-After: 2), no pooled connection "
                "became free in time (`Service overloaded: ...`, Retry-After: 1), agno's tables are missing "
                "and AGNO_AUTO_PROVISION is false, or media was asked for without AGNO_MEDIA_STORAGE (`Media storage "
                "is not configured on AgentOS`, as AgentOS without media storage); the last two without Retry-After."
            ),
            "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
            "content": {JSON: {"schema": ref("ErrorResponse")}},
        },
        "GatewayTimeout": _json_response(
            "The request ran past AGNO_REQUEST_TIMEOUT (`Request timed out`) or a statement past "
            "AGNO_STATEMENT_TIMEOUT (`Database statement timed out`).",
            ref("ErrorResponse"),
        ),
    }


_DETAIL_ANY_OF: Schema = {
    "anyOf": [ref("AgentSessionDetailSchema"), ref("TeamSessionDetailSchema"), ref("WorkflowSessionDetailSchema")]
}
_RUN_ANY_OF: Schema = {"anyOf": [ref("RunSchema"), ref("TeamRunSchema"), ref("WorkflowRunSchema")]}


def _responses(
    success: tuple[str, Schema],
    *,
    secured: bool,
    body: bool = False,
    bad_request: str = "db_id/table rules: db_id missing with several databases or with `table`",
    not_found: str = "Unknown db_id, or a table that does not exist",
    extra: dict[str, Schema] | None = None,
    database: bool = True,
) -> dict[str, Schema]:
    out: dict[str, Schema] = {success[0]: success[1]}
    if database:
        out["400"] = _error(bad_request, "BadRequestResponse")
    if secured:
        out["401"] = _shared("Unauthorized")
    if database:
        out["404"] = _error(not_found, "NotFoundResponse")
    out.update(extra or {})
    if body:
        out["413"] = _shared("PayloadTooLarge")
    out["422"] = _error("Invalid query parameters or body", "ValidationErrorResponse")
    if database:
        out["500"] = _error("Unexpected error (`Internal server error`)", "InternalServerErrorResponse")
        out["503"] = _shared("ServiceUnavailable")
        out["504"] = _shared("GatewayTimeout")
    return dict(sorted(out.items()))


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    parameters: list[Schema],
    responses: dict[str, Schema],
    *,
    tag: str = SESSIONS_TAG,
    secured: bool,
    request_body: Schema | None = None,
) -> Schema:
    op: Schema = {"tags": [tag], "summary": summary, "description": description, "operationId": operation_id}
    if parameters:
        op["parameters"] = parameters
    if request_body is not None:
        op["requestBody"] = request_body
    op["responses"] = responses
    if secured:
        op["security"] = [{"HTTPBearer": []}]
    return op


def _body(schema: Schema) -> Schema:
    """A required JSON request body."""
    return {"content": {JSON: {"schema": schema}}, "required": True}


# --------------------------------------------------------------------------------------------------------
# paths
# --------------------------------------------------------------------------------------------------------
_NOT_FOUND_SESSION = "No such session, unknown db_id, or missing table"
_BAD_STATUS = "Invalid status value, or the db_id/table rules"


def session_paths(max_page_size: int, secured: bool) -> dict[str, Schema]:
    operation = partial(_operation, secured=secured)
    responses = partial(_responses, secured=secured)
    no_content = {"description": "Done (also when nothing matched); empty body."}
    list_params = [
        _type_param(f"{_SESSION_TYPES_TEXT}; all types when absent."),
        _string("component_id", "Only sessions of this agent, team or workflow id."),
        _string("user_id", "Only sessions of this user."),
        _string("session_name", "Case-insensitive substring of the stored session name (`%`/`_` are wildcards)."),
        param(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": max_page_size},
            f"Page size, 1 to {max_page_size} (AGNO_MAX_PAGE_SIZE; AgentOS has no maximum).",
            default=20,
        ),
        param(
            "page",
            {"type": "integer", "minimum": 1},
            "Page number, from 1 (AgentOS accepts 0 and answers 500; this service answers 422).",
            default=1,
        ),
        param(
            "sort_by",
            {"type": "string"},
            "A column of the sessions table (updated_at sorts by coalesce(updated_at, created_at)); "
            "an unknown name means no ordering.",
            default="created_at",
        ),
        param("sort_order", ref("SortOrder"), f"{_or_list(SORT_ORDERS)}.", default="desc"),
        *_db_params("read from"),
    ]
    return {
        "/sessions": {
            "get": operation(
                "get_sessions",
                "List Sessions",
                "One page of sessions, newest first by default, with paging metadata. Null fields are omitted.",
                list_params,
                responses(("200", _json_response("One page of sessions.", ref("PaginatedResponse_SessionSchema_")))),
            ),
            "post": operation(
                "create_session",
                "Create New Session",
                "Creates an empty session of the given type (default agent), or imports one with its runs "
                "(`runs`, `summary`: agno-session extensions). Answers the session detail, null fields omitted.",
                [
                    param(
                        "type",
                        ref("SessionType"),
                        "Type of the new session.",
                        default="agent",
                        optional_null=False,
                    ),
                    *_db_params("write to", table=False),
                ],
                responses(
                    ("201", _json_response("The created session.", _DETAIL_ANY_OF)),
                    body=True,
                    extra={
                        "409": _error(
                            "A session with that session_id, or a run with one of the imported run_ids, exists",
                            "ErrorResponse",
                        )
                    },
                ),
                request_body={"content": {JSON: {"schema": {**ref("CreateSessionRequest"), "default": {}}}}},
            ),
            "delete": operation(
                "delete_sessions",
                "Delete Multiple Sessions",
                "Deletes the listed sessions and their runs. Always 204, whether or not they existed.",
                [
                    _string("user_id", "Only sessions of this user."),
                    *_db_params("delete from"),
                    _delete_media("the sessions'"),
                ],
                responses(
                    ("204", no_content),
                    body=True,
                    bad_request="session_ids and session_types differ in length, or the db_id/table rules",
                ),
                request_body=_body(ref("DeleteSessionRequest")),
            ),
        },
        "/sessions/{session_id}": {
            "get": operation(
                "get_session_by_id",
                "Get Session by ID",
                "The session's detail, shaped by `type` (or the stored type). Null fields are omitted.",
                _in_session("to read", _TYPE_DETECTED + " A different type re-interprets the row.", "read from"),
                responses(("200", _json_response("The session.", _DETAIL_ANY_OF)), not_found=_NOT_FOUND_SESSION),
            ),
            "delete": operation(
                "delete_session",
                "Delete Session",
                "Deletes the session and its runs. Always 204, whether or not it existed.",
                [*_in_session("to delete", None, "delete from"), _delete_media("the session's")],
                responses(("204", no_content)),
            ),
            "patch": operation(
                "update_session",
                "Update Session",
                "Replaces the given fields and sets updated_at to now (also for `{}`). Answers the detail with "
                "every field present (nulls included).",
                _in_session("to update", _TYPE_DETECTED, "write to"),
                responses(
                    ("200", _json_response("The updated session.", _DETAIL_ANY_OF)),
                    body=True,
                    not_found=_NOT_FOUND_SESSION,
                ),
                request_body=_body(ref("UpdateSessionRequest")),
            ),
        },
        "/sessions/{session_id}/runs": {
            "get": operation(
                "get_session_runs",
                "Get Session Runs",
                "The session's runs in run order, each shaped as an agent, team or workflow run. Null fields "
                "are omitted.",
                _run_list_params(),
                responses(
                    ("200", _json_response("The runs (possibly none).", {"type": "array", "items": _RUN_ANY_OF})),
                    bad_request=_BAD_STATUS,
                    not_found=_NOT_FOUND_SESSION,
                ),
            ),
        },
        "/sessions/{session_id}/run-previews": {
            "get": operation(
                "get_session_run_previews",
                "Get Session Run Previews",
                f"Like the runs list, with a light entry per run (input and output cut at {PREVIEW_CHARS} characters).",
                _run_list_params(),
                responses(
                    (
                        "200",
                        _json_response("The run previews.", {"type": "array", "items": ref("SessionRunPreviewSchema")}),
                    ),
                    bad_request=_BAD_STATUS,
                    not_found=_NOT_FOUND_SESSION,
                ),
            ),
        },
        "/sessions/{session_id}/runs/{run_id}": {
            "get": operation(
                "get_session_run",
                "Get Run by ID",
                "One run of the session, shaped by its own fields, with every field present (nulls included).",
                _in_session(
                    "holding the run",
                    "Accepted and validated; the run's own fields decide its shape.",
                    "read from",
                    path=[param("run_id", {"type": "string"}, "Id of the run.", location="path")],
                ),
                responses(
                    ("200", _json_response("The run.", _RUN_ANY_OF)),
                    not_found="No such session, session without runs, no such run, unknown db_id, or missing table",
                ),
            ),
        },
        "/sessions/{session_id}/rename": {
            "post": operation(
                "rename_session",
                "Rename Session",
                "Sets the stored session name (updated_at unchanged). The type, when given, must match the "
                "stored one. Answers the detail with every field present (nulls included).",
                _in_session("to rename", "When given, only a session of this type is renamed.", "write to"),
                responses(
                    ("200", _json_response("The renamed session.", _DETAIL_ANY_OF)),
                    body=True,
                    not_found="No such session (of that type), unknown db_id, or missing table",
                ),
                request_body=_body(ref("Body_rename_session")),
            ),
        },
        "/sessions/{session_id}/media/{storage_key}": {
            "get": operation(
                "get_session_media",
                "Fetch stored media for a session",
                "Streams a piece of media that agno offloaded to the media storage (AGNO_MEDIA_STORAGE: a local "
                "directory or S3), or with redirect=true answers 307 to a freshly signed URL (S3; a local "
                "storage streams). The key must be referenced by the session's runs and minted by the "
                "configured storage. Content-Type from the reference's mime type, else the key's extension; "
                "X-Content-Type-Options: nosniff; HTML, SVG, JavaScript and XML are served as "
                "application/octet-stream with Content-Disposition: attachment.",
                [
                    *_in_session(
                        "the media belongs to",
                        _TYPE_DETECTED,
                        "read from",
                        path=[param("storage_key", {"type": "string"}, "Storage key of the media.", location="path")],
                    ),
                    param(
                        "redirect",
                        {"type": "boolean"},
                        "Redirect to a signed URL instead of streaming.",
                        default=False,
                        optional_null=False,
                    ),
                ],
                responses(
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
                        "502": _error(
                            "The media storage failed (`Failed to fetch media from storage`, `Failed to generate "
                            "media URL`); AgentOS answers 500",
                            "ErrorResponse",
                        ),
                    },
                ),
                tag=MEDIA_TAG,
            ),
        },
    }


def service_paths() -> dict[str, Schema]:
    """Paths served without authentication: health, probes, metrics, docs."""
    get = partial(_operation, parameters=[], secured=False)
    return {
        "/": {
            "get": get(
                "home",
                "Home",
                "AgentOS's home answer: where health and docs are.",
                responses={"200": _json_response("Links.", ref("HomeResponse"))},
                tag=DOCS_TAG,
            )
        },
        "/health": {
            "get": get(
                "health_check",
                "Health Check",
                "AgentOS's health check: no I/O, always 200 while the process serves.",
                responses={"200": _json_response("Healthy.", ref("HealthResponse"))},
                tag=HEALTH_TAG,
            )
        },
        "/healthz": {
            "get": get(
                "liveness_check",
                "Liveness",
                "Kubernetes liveness probe: no I/O and no database, so a database outage never restarts pods.",
                responses={"200": _json_response("Alive.", ref("LivenessResponse"))},
                tag=HEALTH_TAG,
            )
        },
        "/readyz": {
            "get": get(
                "readiness_check",
                "Readiness",
                "Kubernetes readiness probe: pings every configured database (1 s each); 503 while any is down "
                "or while draining after SIGTERM.",
                responses={
                    "200": _json_response("Ready.", ref("ReadinessResponse")),
                    "503": _json_response("Not ready.", ref("ReadinessResponse")),
                },
                tag=HEALTH_TAG,
            )
        },
        "/metrics": {
            "get": get(
                "prometheus_metrics",
                "Prometheus metrics",
                "Prometheus text exposition (not AgentOS's JSON /metrics endpoint): HTTP, pool and query metrics.",
                responses={
                    "200": {
                        "description": "Metrics in the Prometheus text format.",
                        "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": {"type": "string"}}},
                    }
                },
                tag=MONITORING_TAG,
            )
        },
        "/openapi.json": {
            "get": get(
                "openapi_document",
                "OpenAPI document",
                "This document.",
                responses={"200": _json_response("The OpenAPI 3.1 document.", {"type": "object"})},
                tag=DOCS_TAG,
            )
        },
        "/docs": {
            "get": get(
                "api_docs_page",
                "API docs page",
                "Interactive API page (Swagger UI, served from this service) over /openapi.json.",
                responses={
                    "200": {"description": "HTML page.", "content": {"text/html": {"schema": {"type": "string"}}}}
                },
                tag=DOCS_TAG,
            )
        },
    }


def build_openapi(*, max_page_size: int, secured: bool) -> dict[str, Any]:
    """The whole document. `secured`: OS_SECURITY_KEY is configured (bearer auth on /sessions)."""
    auth_note = (
        "Every /sessions operation needs `Authorization: Bearer <OS_SECURITY_KEY>`."
        if secured
        else "No OS_SECURITY_KEY is configured: no authentication."
    )
    components: dict[str, Any] = {
        "schemas": component_schemas(),
        "responses": component_responses(),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying (1 when overloaded, 2 when the database is down).",
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
    if secured:
        components["securitySchemes"] = {
            "HTTPBearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "The OS_SECURITY_KEY value. The `Bearer ` prefix is optional (case-insensitive).",
            }
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "agno-session",
            "version": __version__,
            "summary": f"The Agno AgentOS {AGNO_VERSION} /sessions API, served from PostgreSQL.",
            "description": (
                f"JSON-compatible with AgentOS {AGNO_VERSION}'s /sessions endpoints over agno's own PostgreSQL "
                f"tables. {auth_note} Differences from AgentOS are listed in docs/api.md and "
                "docs/compatibility.md."
            ),
        },
        "tags": [
            {"name": SESSIONS_TAG, "description": "AgentOS's sessions API."},
            {"name": MEDIA_TAG, "description": "Session media from the media storage (AGNO_MEDIA_STORAGE)."},
            {"name": HEALTH_TAG, "description": "Health and Kubernetes probes (no authentication)."},
            {"name": MONITORING_TAG, "description": "Prometheus metrics (no authentication)."},
            {"name": DOCS_TAG, "description": "This document and the API page (no authentication)."},
        ],
        "paths": {**service_paths(), **session_paths(max_page_size, secured)},
        "components": components,
    }


# --------------------------------------------------------------------------------------------------------
# route regexes <-> path templates
# --------------------------------------------------------------------------------------------------------
_GROUP = re.compile(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>(?:[^()]|\([^()]*\))*\)")


def path_template(route_regex: str) -> str:
    """A Tornado route regex as an OpenAPI path: `/sessions/(?P<session_id>[^/]+)/?` -> `/sessions/{session_id}`."""
    text = route_regex.rstrip("$")
    if text.endswith("/?"):
        text = text[:-2]
    text = _GROUP.sub(lambda m: "{" + m.group(1) + "}", text)
    text = re.sub(r"\\(.)", r"\1", text)  # regex escapes: `\.` -> `.`
    return text or "/"
