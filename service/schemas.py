"""Every response and request-body schema of the API as one table of fields, in JSON key order.

A field is (name, type, default, description). The shaping functions (service/shaping.py) take
their key order and defaults from these tables, the OpenAPI document (service/openapi.py) its
component schemas. A field's type and description come from `FIELDS`, shared by every schema with a
field of that name, unless the table gives its own. A default of `COMPUTED` means the shaping
function derives the value; any other default is what a missing source key becomes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, NamedTuple

from service.rows import SESSION_TYPES, SORT_ORDERS

Schema = dict[str, Any]
COMPUTED: Final = object()
RUN_STATUSES: tuple[str, ...] = ("PENDING", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED", "ERROR", "REGENERATED")
PREVIEW_CHARS = 280
ENUMS: dict[str, tuple[str, ...]] = {"SessionType": SESSION_TYPES, "SortOrder": SORT_ORDERS}


def or_list(words: Iterable[str]) -> str:
    """`("a", "b", "c")` -> `"a, b or c"`."""
    *head, last = words
    return f"{', '.join(head)} or {last}" if head else last


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


_OBJECT: Schema = {"type": "object", "additionalProperties": True}
_BASE_TYPES: dict[str, Schema] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "obj": _OBJECT,
    "objs": {"type": "array", "items": _OBJECT},
    "strs": {"type": "array", "items": {"type": "string"}},
    "datetime": {"type": "string", "format": "date-time"},
}


def json_schema(spec: str | Schema) -> Schema:
    """`"str"`, `"int?"` (nullable), `"str|obj?"` (either, nullable), or a JSON Schema as it is."""
    if not isinstance(spec, str):
        return dict(spec)
    parts = [dict(_BASE_TYPES[part]) for part in spec.rstrip("?").split("|")]
    if spec.endswith("?"):
        parts.append({"type": "null"})
    return parts[0] if len(parts) == 1 else {"anyOf": parts}


_CANCELLED = "For cancelled runs: PENDING, EXECUTING or PAUSED."
_DETAIL_UPDATED = "Last update (UTC), else the creation time."
# name -> (type, description) of the fields that several schemas share
FIELDS: dict[str, tuple[str | Schema, str]] = {
    "session_id": ("str", "Session id."),
    "session_name": ("str", "Stored name, else derived from the first user message or input."),
    "session_state": ("obj?", "session_data.session_state."),
    "session_type": ("str?", f"{or_list(SESSION_TYPES)}."),
    "session_summary": ("obj?", "The summary: summary, topics, updated_at."),
    "session_data": ("obj?", "The whole stored session_data object."),
    "created_at": ("datetime?", "Creation time (UTC)."),
    "updated_at": ("datetime?", "Last update (UTC); absent when never set."),
    "user_id": ("str?", "Owner user id."),
    "agent_id": ("str?", "Agent id."),
    "team_id": ("str?", "Team id."),
    "workflow_id": ("str?", "Workflow id."),
    "agent_data": ("obj?", "Stored agent data (name, model, ...)."),
    "team_data": ("obj?", "Stored team data (name, model, ...)."),
    "workflow_data": ("obj?", "Stored workflow data (name, steps, ...)."),
    "metrics": ("obj?", "Token and timing metrics."),
    "total_tokens": ("int?", "metrics.total_tokens."),
    "metadata": ("obj?", "Stored metadata (agent sessions and runs: plus the `sdk` label when known)."),
    "chat_history": ("objs?", "User and assistant messages of the top-level runs."),
    "run_id": ("str", "Run id."),
    "parent_run_id": ("str?", 'Parent run id (team member or step runs), `""` for top-level runs.'),
    "status": ("str?", f"{or_list(RUN_STATUSES)}."),
    "cancellation_stage": ("str?", _CANCELLED),
    "run_input": ("str?", "The run's input as text."),
    "content": ("str|obj?", "The run's output."),
    "run_response_format": ("str?", "`text` or `json`."),
    "reasoning_content": ("str?", "Reasoning text, when reasoning was on."),
    "reasoning_steps": ("objs?", "Reasoning steps."),
    "reasoning_messages": ("objs?", "Reasoning messages."),
    "messages": ("objs?", "The run's messages, as stored."),
    "tools": ("objs?", "Tool calls of the run."),
    "events": ("objs?", "Stored run events."),
    "references": ("objs?", "Knowledge references."),
    "citations": ("obj?", "Model citations."),
    "images": ("objs?", "Generated images."),
    "videos": ("objs?", "Generated videos."),
    "audio": ("objs?", "Generated audio."),
    "files": ("objs?", "Generated files."),
    "response_audio": ("obj?", "Spoken response."),
    "input_media": ("obj?", "Input media: images, videos, audios, files."),
    "followups": ("strs?", "Follow-up suggestions generated after the run."),
    "forked_from_run_id": ("str?", "Source run id when this run was forked from another run."),
    "forked_from_message_index": ("int?", "Message index at which the forked source was cut."),
    "forked_from_session_id": ("str?", "Source session id when this run came from a session branch."),
    "regenerated_from": ("str?", "Source run id when this run was produced by a regenerate."),
    "last_checkpoint_at_message_index": ("int?", "Message index of the latest mid-run checkpoint."),
    "detail": ("str", "What went wrong, in one sentence."),
    "status_ok": ("str", "Always `ok`."),
}


class Field(NamedTuple):
    name: str
    type: str | Schema
    default: Any
    description: str


def field(name: str, default: Any = None, type_: str | Schema | None = None, doc: str | None = None) -> Field:
    """A field; the type and description not given come from `FIELDS`."""
    shared_type, shared_doc = FIELDS.get(name, ("", ""))
    return Field(name, shared_type if type_ is None else type_, default, shared_doc if doc is None else doc)


class Table:
    """One schema: its fields in JSON key order, and what shaping needs of them, computed once."""

    def __init__(
        self,
        title: str,
        fields: Iterable[Field | str],
        *,
        required: tuple[str, ...] = (),
        description: str | None = None,
        example: Any = None,
    ) -> None:
        self.title, self.required, self.description, self.example = title, required, description, example
        self.fields = tuple(item if isinstance(item, Field) else field(item) for item in fields)
        self.names = tuple(f.name for f in self.fields)
        self.computed = frozenset(f.name for f in self.fields if f.default is COMPUTED)
        # what `shape` needs: every field at its default in key order, the names read from the source, and
        # the list/object defaults, made anew for every answer so that no two answers share one
        self._template = dict.fromkeys(self.names)
        taken = [f for f in self.fields if f.default is not COMPUTED]
        self._plain = tuple((f.name, f.default) for f in taken if not isinstance(f.default, list | dict))
        self._fresh = tuple((f.name, type(f.default)) for f in taken if isinstance(f.default, list | dict))

    def shape(self, source: Mapping[str, Any], computed: Mapping[str, Any]) -> dict[str, Any]:
        """Every field in key order: the computed ones from `computed` (which holds exactly those), the
        others from `source`, else their default."""
        out = self._template.copy()  # the key order, at C speed
        get = source.get
        for name, default in self._plain:
            out[name] = get(name, default)
        for name, empty in self._fresh:
            out[name] = source[name] if name in source else empty()
        out.update(computed)
        return out

    def openapi(self) -> Schema:
        properties = {f.name: {**json_schema(f.type), "description": f.description} for f in self.fields}
        out: Schema = {"type": "object", "title": self.title, "properties": properties}
        if self.required:
            out["required"] = list(self.required)
        if self.description:
            out["description"] = self.description
        if self.example is not None:
            out["example"] = self.example
        return out


# --------------------------------------------------------------------------------------------------------
# answers of /sessions
# --------------------------------------------------------------------------------------------------------
SESSION = Table(
    "SessionSchema",
    [
        field("session_id", ""),
        field("session_name", COMPUTED),
        field("session_state", COMPUTED),
        field("created_at", COMPUTED),
        field("updated_at", COMPUTED),
        field("session_type", COMPUTED),
        "user_id",
        "agent_id",
        "team_id",
        "workflow_id",
        field("session_summary", COMPUTED, doc="The stored summary object, as stored."),
        field("metrics", COMPUTED, doc="session_data.session_metrics."),
        field("total_tokens", COMPUTED),
        field("metadata", COMPUTED),
    ],
    required=("session_id", "session_name"),
    description="One list item; fields whose value is null are omitted.",
)
AGENT_DETAIL = Table(
    "AgentSessionDetailSchema",
    [
        "user_id",
        field("agent_session_id", COMPUTED, "str", "Same as session_id."),
        *(field(name, COMPUTED) for name in ("session_id", "session_name", "session_summary", "session_state")),
        field("agent_id", COMPUTED),
        field("total_tokens", COMPUTED),
        "agent_data",
        field("metrics", COMPUTED),
        field("metadata", COMPUTED),
        field("chat_history", COMPUTED),
        field("created_at", COMPUTED),
        field("updated_at", COMPUTED, doc=_DETAIL_UPDATED),
    ],
    required=("agent_session_id", "session_id", "session_name"),
)
TEAM_DETAIL = Table(
    "TeamSessionDetailSchema",
    [
        field("session_id", COMPUTED),
        field("session_name", COMPUTED),
        "user_id",
        "team_id",
        *(field(name, COMPUTED) for name in ("session_summary", "session_state", "metrics")),
        "team_data",
        "metadata",
        field("chat_history", COMPUTED),
        field("created_at", COMPUTED),
        field("updated_at", COMPUTED, doc=_DETAIL_UPDATED),
        field("total_tokens", COMPUTED),
    ],
    required=("session_id", "session_name"),
)
WORKFLOW_DETAIL = Table(
    "WorkflowSessionDetailSchema",
    [
        "user_id",
        "workflow_id",
        field("workflow_name", COMPUTED, "str?", "Always null when read from PostgreSQL (as AgentOS)."),
        *(field(name, COMPUTED) for name in ("session_id", "session_name", "session_data", "session_state")),
        field("workflow_data", COMPUTED),
        field("metadata", COMPUTED),
        field("created_at", COMPUTED),
        field("updated_at", COMPUTED, doc="Last update (UTC); the current time when never set."),
    ],
    required=("session_id", "session_name"),
)
_RUN_TAIL = (
    "followups",
    "forked_from_run_id",
    "forked_from_message_index",
    "forked_from_session_id",
    "regenerated_from",
    "last_checkpoint_at_message_index",
)
_REFERENCES = (field("references", []), "citations", field("reasoning_messages", []))
_RUN_SESSION_STATE = field("session_state", doc="Session state at the end of the run.")
_MEDIA = (field("images", []), field("videos", []), field("audio", []), field("files", []), "response_audio")
_REASONING = (field("reasoning_content", ""), field("reasoning_steps", []))
_RUN_IDS = (field("run_id", ""), field("parent_run_id", ""))
# the fields after the messages, the same in agent and team runs
_RUN_END = (field("events", COMPUTED), field("created_at", COMPUTED), *_REFERENCES, _RUN_SESSION_STATE)
RUN = Table(
    "RunSchema",
    [
        *_RUN_IDS,
        field("agent_id", ""),
        field("user_id", ""),
        "status",
        "cancellation_stage",
        field("run_input", COMPUTED),
        field("content", ""),
        field("run_response_format", COMPUTED),
        *_REASONING,
        field("metrics", {}),
        field("metadata", COMPUTED),
        field("messages", COMPUTED),
        field("tools", COMPUTED),
        *_RUN_END,
        *_MEDIA,
        field("input_media", COMPUTED),
        *_RUN_TAIL,
    ],
    required=("run_id",),
)
TEAM_RUN = Table(
    "TeamRunSchema",
    [
        *_RUN_IDS,
        field("team_id", ""),
        "user_id",
        "status",
        "cancellation_stage",
        field("content", ""),
        *_REASONING,
        field("run_input", COMPUTED),
        field("run_response_format", COMPUTED),
        field("metrics", {}),
        field("tools", COMPUTED),
        field("messages", COMPUTED),
        *_RUN_END,
        field("input_media", COMPUTED),
        *_MEDIA,
        *_RUN_TAIL,
    ],
    required=("run_id",),
)
WORKFLOW_RUN = Table(
    "WorkflowRunSchema",
    [
        field("run_id", ""),
        field("run_input", COMPUTED),
        field("events", []),
        field("workflow_id", ""),
        field("user_id", ""),
        field("content", ""),
        field("content_type", "", "str?", "Type name of the content."),
        field("status", ""),
        "cancellation_stage",
        field("step_results", [], "objs?", "Result of each step."),
        field("step_executor_runs", [], "objs?", "Runs of the step executors."),
        field("step_requirements", None, "objs?", "Human-in-the-loop step requirements."),
        field("pause_kind", None, "str?", "`step` or `executor` for paused runs."),
        field("paused_step_name", None, "str?", "Name of the step that paused the run."),
        field("paused_step_index", None, "int?", "Index of the step that paused the run."),
        field("metrics", {}),
        field("created_at", COMPUTED),
        *_REASONING,
        *_REFERENCES,
        *_MEDIA,
    ],
    required=("run_id",),
)
RUN_PREVIEW = Table(
    "SessionRunPreviewSchema",
    [
        "run_id",
        "parent_run_id",
        "agent_id",
        "team_id",
        "workflow_id",
        "user_id",
        "status",
        field("run_input", COMPUTED, doc=f"Input, cut at {PREVIEW_CHARS} characters."),
        field("content_preview", COMPUTED, "str?", f"Output, cut at {PREVIEW_CHARS} characters."),
        "created_at",
    ],
    required=("run_id",),
    description="A light run entry (no messages, events, media or metrics); null fields omitted.",
)
_COUNT: Schema = {"type": "integer", "minimum": 0, "default": 0}
PAGINATION = Table(
    "PaginationInfo",
    [
        field("page", None, _COUNT, "The requested page (1-based)."),
        field("limit", None, {"type": "integer", "minimum": 1, "default": 20}, "The requested page size."),
        field("total_pages", None, _COUNT, "ceil(total_count / limit)."),
        field("total_count", None, _COUNT, "Sessions matching the filters."),
        field("search_time_ms", None, {"type": "number", "minimum": 0, "default": 0}, "Always 0.0 (as AgentOS)."),
    ],
)
PAGE = Table(
    "PaginatedResponse[SessionSchema]",
    [
        field("data", None, {"type": "array", "items": ref("SessionSchema")}, "The sessions of this page."),
        field("meta", None, ref("PaginationInfo"), "Paging information."),
    ],
    required=("data", "meta"),
)


# --------------------------------------------------------------------------------------------------------
# errors, probes, request bodies
# --------------------------------------------------------------------------------------------------------
def _error(title: str, example: str) -> Table:
    return Table(
        title,
        [
            "detail",
            field("error_id", None, "str?", "Stable error identifier (AgentOS sets it for some database errors)."),
            field("error_type", None, "str?", "Error category, present together with error_id."),
        ],
        required=("detail",),
        example={"detail": example},
    )


_PROBE_STATUS: Schema = {"type": "string", "enum": ["ok", "unavailable"]}
_LOC: Schema = {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]}}
_VALIDATION_EXAMPLE = {
    "type": "enum",
    "loc": ["query", "type"],
    "msg": "Input should be 'agent', 'team' or 'workflow'",
    "input": "foo",
    "ctx": {"expected": "'agent', 'team' or 'workflow'"},
}
_SUMMARY_INPUT = field("summary", None, nullable(ref("SessionSummary")))
TABLES: tuple[Table, ...] = (
    _error("BadRequestResponse", "Bad request"),
    _error("UnauthenticatedResponse", "Invalid authentication token"),
    _error("NotFoundResponse", "Session with id 'abc' not found"),
    _error("InternalServerErrorResponse", "Internal server error"),
    Table(
        "ErrorResponse",
        ["detail"],
        required=("detail",),
        description="The body of this service's own 409, 413, 503 and 504 answers.",
        example={"detail": "Database unavailable"},
    ),
    Table(
        "ValidationErrorDetail",
        [
            field("type", None, "str", "Error type, pydantic's name for it (e.g. `enum`, `missing`, `int_parsing`)."),
            field("loc", None, _LOC, "Where: `query`/`path`/`body`, then the field name or list index."),
            field("msg", None, "str", "Human-readable message."),
            field("input", None, {}, "The offending input value, any JSON value (null when missing)."),
            field("ctx", None, _OBJECT, "Extra context of some error types (e.g. `expected`, `ge`); absent otherwise."),
        ],
        required=("type", "loc", "msg", "input"),
        description="One field-level error, in FastAPI/pydantic v2's shape (no `url` key).",
    ),
    Table(
        "ValidationErrorResponse",
        [
            field(
                "detail", None, {"type": "array", "items": ref("ValidationErrorDetail")}, "One entry per failing field."
            )
        ],
        required=("detail",),
        description="422 body: query parameters first in declaration order, then the body fields.",
        example={"detail": [_VALIDATION_EXAMPLE]},
    ),
    Table(
        "HealthResponse",
        [
            field("status", None, *FIELDS["status_ok"]),
            field("instantiated_at", None, "datetime", "When the process started (UTC, microseconds)."),
        ],
        required=("status", "instantiated_at"),
        example={"status": "ok", "instantiated_at": "2025-06-10T12:00:00.000000Z"},
    ),
    Table(
        "LivenessResponse",
        [field("status", None, *FIELDS["status_ok"])],
        required=("status",),
        example={"status": "ok"},
    ),
    Table(
        "ReadinessResponse",
        [
            field("status", None, _PROBE_STATUS, "`ok` when ready."),
            field("draining", None, "bool", "True after SIGTERM: the process is finishing its in-flight requests."),
            field(
                "databases",
                None,
                {"type": "object", "additionalProperties": _PROBE_STATUS},
                "Ping result of every configured database, by db_id.",
            ),
        ],
        required=("status", "draining", "databases"),
        example={"status": "ok", "draining": False, "databases": {"default": "ok"}},
    ),
    Table(
        "HomeResponse",
        [
            field("name", None, "str", "Always `AgentOS` (as AgentOS answers without a configured name)."),
            field("health", None, "str", "Path of the health check."),
            field("info", None, "str", "Path of AgentOS's info endpoint (not served by this service)."),
            field("docs", None, "str", "Path of the interactive API page."),
        ],
        required=("name", "health", "info", "docs"),
    ),
    PAGINATION,
    SESSION,
    PAGE,
    AGENT_DETAIL,
    TEAM_DETAIL,
    WORKFLOW_DETAIL,
    RUN,
    TEAM_RUN,
    WORKFLOW_RUN,
    RUN_PREVIEW,
    Table(
        "SessionSummary",
        [
            field("summary", None, "str", "The summary text."),
            field("topics", None, "strs?", "Topics."),
            field("updated_at", None, "datetime?", "When the summary was written (ISO 8601)."),
        ],
        required=("summary",),
        description="agno's SessionSummary; unknown keys are a 422 here (AgentOS: 500).",
    ),
    Table(
        "CreateSessionRequest",
        [
            field("session_id", None, "str?", "Session id; generated (uuid4) when absent or empty."),
            field("session_name", None, "str?", "Session name."),
            field("session_state", doc="Initial session state."),
            field("metadata", doc="Metadata (agno's reserved keys are removed)."),
            "user_id",
            *(
                field(f"{kind}_id", doc=f"{kind.capitalize()} id; stored for {kind} sessions only.")
                for kind in SESSION_TYPES
            ),
            field(
                "runs",
                None,
                nullable({"type": "array", "items": ref("ImportedRun")}),
                "agno-session extension (import): runs stored with the session in one transaction, "
                "in this order. run_ids must be unique in the body (422) and new in the database (409).",
            ),
            _SUMMARY_INPUT._replace(description="agno-session extension (import): the session summary to store."),
        ],
        description="Unknown keys are ignored.",
    ),
    Table(
        "UpdateSessionRequest",
        [
            field("session_name", None, "str?", "New name."),
            field("session_state", doc="New session state (replaces the old one)."),
            field("metadata", doc="New metadata (replaces the old one)."),
            _SUMMARY_INPUT._replace(description="New summary (not kept for workflow sessions)."),
        ],
        description="null means 'leave unchanged'; unknown keys are ignored.",
    ),
    Table(
        "DeleteSessionRequest",
        [
            field(
                "session_ids",
                None,
                {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "Sessions to delete.",
            ),
            field(
                "session_types",
                None,
                {"type": "array", "items": ref("SessionType"), "minItems": 1},
                "Their types, one per id (checked for length only).",
            ),
        ],
        required=("session_ids", "session_types"),
    ),
    Table("Body_rename_session", [field("session_name", None, "str", "The new name.")], required=("session_name",)),
)


def component_schemas() -> dict[str, Schema]:
    """The OpenAPI component schemas: the enums, every table, and the free-form imported run."""
    schemas: dict[str, Schema] = {
        name: {"type": "string", "enum": list(values), "title": name} for name, values in ENUMS.items()
    }
    for table in TABLES:
        schemas[table.title.replace("[", "_").replace("]", "_")] = table.openapi()
    schemas["ImportedRun"] = {
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
    }
    return schemas
