"""Pure functions that turn decoded rows and run dicts into AgentOS 3.1.10 response bodies.

No I/O, no HTTP. Every builder emits keys in the pydantic schema's field order (the order is part
of the contract) and passes free-form values (metrics, session_state, metadata, messages in /runs)
through untouched, so they keep Postgres JSONB key order.

Naming follows agno: `session_detail` and the run schema builders return *every* field (nulls
included, the form rename/PATCH/single-run answer with); callers that answer exclude-none apply
`exclude_none()`. Section numbers (§) refer to docs/agentos.md.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from service import schemas
from service.rows import SESSION_TYPES, RunDict, SessionRow, SessionType, is_workflow_run
from service.schemas import PREVIEW_CHARS


def _names(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# Message.to_dict(): these keys first, each dropped when None or an empty list/object.
_MESSAGE_FIELDS = _names(
    "id content reasoning_content from_history compressed_content stop_after_tool_call role name tool_call_id"
    " tool_name tool_args tool_call_error tool_calls redacted_reasoning_content provider_data checkpoint_status"
    " checkpoint_created_at"
)
# ...then media lists, only when non-empty, each item as agno prints it again (media_item).
_MESSAGE_MEDIA_FIELDS = _names("images audio videos files")
# MessageMetrics.to_dict() field order.
_MESSAGE_METRICS_FIELDS = _names(
    "input_tokens output_tokens total_tokens audio_input_tokens audio_output_tokens audio_total_tokens"
    " cache_read_tokens cache_write_tokens reasoning_tokens cost duration time_to_first_token provider_metrics"
)
_SUMMARY_FIELDS: tuple[str, ...] = ("summary", "topics", "updated_at")
_INPUT_MEDIA_FIELDS: tuple[str, ...] = ("images", "videos", "audios", "files")


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def exclude_none(d: Mapping[str, Any]) -> dict[str, Any]:
    """Drop top-level keys whose value is None (pydantic `exclude_none`; nested nulls survive)."""
    return {key: value for key, value in d.items() if value is not None}


def _format_datetime(dt: datetime) -> str:
    """A datetime as pydantic-core prints it: `Z` for UTC, `.ffffff` only when non-zero."""
    offset = dt.utcoffset()
    if offset is not None and offset.total_seconds() == 0:
        return dt.replace(tzinfo=None).isoformat() + "Z"
    return dt.isoformat()


_YEAR_10000 = 253402300800


def iso_utc(ts: int | float | None) -> str | None:
    """Epoch seconds -> `"2025-01-01T12:00:00Z"` (fraction printed as `.ffffff` when present)."""
    if ts is None:
        return None
    if type(ts) is int and 0 <= ts < _YEAR_10000:  # the common case, about twice as fast
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    return _format_datetime(datetime.fromtimestamp(ts, tz=UTC))


def _timestamp_field(value: Any) -> str | None:
    """agno's `to_utc_datetime` for run `created_at`: epoch number or ISO string (unparseable -> None)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        return _format_datetime(parsed)
    if isinstance(value, int | float):
        return iso_utc(value)
    return None


def _as_text(value: object) -> str:
    """A derived string field. divergence: AgentOS answers 500 when the value is not a string
    (e.g. multimodal list content); we return it JSON-encoded instead."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _non_empty_dict(value: Any) -> bool:
    return isinstance(value, dict) and bool(value)


# --------------------------------------------------------------------------------------------
# §8.1 type detection, §8.4 agent metadata
# --------------------------------------------------------------------------------------------


def _inferred_type(row: Mapping[str, Any]) -> SessionType:
    if row.get("agent_id"):
        return "agent"
    if row.get("team_id"):
        return "team"
    if row.get("workflow_id"):
        return "workflow"
    return "agent"


def _stored_or_inferred_type(row: Mapping[str, Any]) -> str:
    """agno's `detect_session_type`: the stored value verbatim when non-empty, else inferred."""
    stored = row.get("session_type")
    return str(stored) if stored else _inferred_type(row)


def detect_session_type(row: SessionRow) -> SessionType:
    """§8.1: stored `session_type` if non-empty, else from agent_id/team_id/workflow_id, else agent.

    A stored value outside agent/team/workflow (agno would fail with 500) is inferred from the ids.
    """
    detected = _stored_or_inferred_type(row)
    for session_type in SESSION_TYPES:
        if detected == session_type:
            return session_type
    return _inferred_type(row)


def _agent_metadata(metadata: Any, agent_data: Any) -> Any:
    """§8.4: stored metadata plus `"sdk"` from agent_data.sdk (or .framework) when a non-empty string."""
    sdk = (agent_data.get("sdk") or agent_data.get("framework")) if isinstance(agent_data, dict) else None
    if isinstance(sdk, str) and sdk:
        labelled = dict(metadata) if isinstance(metadata, dict) else {}
        labelled["sdk"] = sdk
        return labelled
    return dict(metadata) if isinstance(metadata, dict) else metadata


# --------------------------------------------------------------------------------------------
# §8.2 session_name, §8.7 input helpers
# --------------------------------------------------------------------------------------------


def stringify_input_content(value: object) -> object:
    """agno's `stringify_input_content`: str as-is; object -> `json.dumps(indent=2, default=str)`;
    a list whose first item is a user message dict -> that item's content (not necessarily a str);
    anything else -> Python `str()`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return json.dumps(value, indent=2, default=str)
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, dict) and first.get("role") == "user":
            return first.get("content", str(value))
    return str(value)


def session_name(row: SessionRow, runs: list[RunDict], session_type: str | None) -> str:
    """§8.2 `get_session_name` over a row and its run list, with the given session type."""
    session_data = row.get("session_data")
    if isinstance(session_data, dict) and session_data.get("session_name") is not None:
        return _as_text(session_data["session_name"])

    if session_type == "workflow":
        if not runs:
            return ""
        workflow_input = runs[0].get("input")
        if isinstance(workflow_input, str):
            return workflow_input
        if isinstance(workflow_input, dict):
            return json.dumps(workflow_input)
        workflow_data = row.get("workflow_data")
        name = workflow_data.get("name") if isinstance(workflow_data, dict) else None
        return f"New {name} Session" if name else ""

    candidates = [r for r in runs if not r.get("agent_id")] if session_type == "team" else runs
    for run in candidates:
        for message in run.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == "user" and message.get("content"):
                return _as_text(message["content"])
        if run.get("input") is not None:
            return _as_text(stringify_input_content(run["input"]))
    return ""


def _last_user_content(messages: Any) -> tuple[bool, str | None]:
    """(found, content as text) of the last `role == "user"` message; missing content reads as "",
    null content stays null (the field is `Optional[str]`)."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content", "")
            return True, None if content is None else _as_text(content)
    return False, None


def agent_run_input(run: RunDict) -> str | None:
    """§8.7 run_input of an agent/team run: input.input_content, else the last user message, else ""."""
    run_input = run.get("input")
    if isinstance(run_input, dict) and run_input.get("input_content") is not None:
        return _as_text(stringify_input_content(run_input["input_content"]))
    found, content = _last_user_content(run.get("messages"))
    return content if found else ""


def workflow_run_input(run: RunDict) -> str | None:
    """§8.7 run_input of a workflow run: input, else step_executor_runs[0]'s / its own last user message."""
    if run.get("input") is not None:
        return _as_text(stringify_input_content(run["input"]))
    executor_runs = run.get("step_executor_runs", [])
    if executor_runs and isinstance(executor_runs, list) and isinstance(executor_runs[0], dict):
        found, content = _last_user_content(executor_runs[0].get("messages", []))
        if found:
            return content
    found, content = _last_user_content(run.get("messages"))
    return content if found else ""


def run_input(run: RunDict, kind: SessionType) -> str | None:
    """§8.7 run_input for a run rendered as `kind` ("workflow" or agent/team)."""
    return workflow_run_input(run) if kind == "workflow" else agent_run_input(run)


def _input_media(run: RunDict) -> dict[str, list[Any]]:
    """§8.7 input_media: always the four lists, copied from input.images/videos/audios/files."""
    media: dict[str, list[Any]] = {name: [] for name in _INPUT_MEDIA_FIELDS}
    run_input_value = run.get("input", {})
    if isinstance(run_input_value, dict):
        for name in _INPUT_MEDIA_FIELDS:
            media[name].extend(run_input_value.get(name) or [])
    return media


def _list_or_none(value: Any) -> Any:
    return list(value) if value else None


def _computed_run_fields(run: RunDict) -> dict[str, Any]:
    """The fields agent and team runs compute alike: run_input, run_response_format, messages/tools/
    events (the raw list when non-empty, else null), created_at and input_media."""
    return {
        "run_input": agent_run_input(run),
        "run_response_format": "text" if run.get("content_type", "str") == "str" else "json",
        "messages": _list_or_none(run.get("messages")),
        "tools": _list_or_none(run.get("tools")),
        "events": _list_or_none(run.get("events")),
        "created_at": _timestamp_field(run.get("created_at")),
        "input_media": _input_media(run),
    }


# --------------------------------------------------------------------------------------------
# §8.5 chat_history
# --------------------------------------------------------------------------------------------


def _message_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """MessageMetrics.to_dict(): fixed key order; drop null, integer 0 / false and empty objects."""
    shaped: dict[str, Any] = {}
    for key in _MESSAGE_METRICS_FIELDS:
        value = metrics.get(key)
        if value is None:
            continue
        if isinstance(value, int) and value == 0:  # bool is an int: False goes too
            continue
        if isinstance(value, dict) and not value:
            continue
        shaped[key] = value
    return shaped


# agno rebuilds stored media as its Image/Audio/Video/File objects and prints them again with their
# `to_dict()` (docs/agentos.md §8.5): fields in class order, a generated id when none is stored, Audio's
# sample_rate/channels defaults, the reference in MediaReference's field order. Inline base64 content
# takes agno's from_base64 path and is passed through as stored.
_MEDIA_ITEM_FIELDS: dict[str, tuple[str, ...]] = {
    "images": _names("id url filepath format mime_type detail original_prompt revised_prompt alt_text"),
    "audio": _names("id url filepath format mime_type duration sample_rate channels transcript expires_at"),
    "videos": _names("id url filepath format mime_type duration width height fps eta original_prompt revised_prompt"),
    "files": _names("id url filepath mime_type file_type filename size external format name"),
}
_MEDIA_ITEM_DEFAULTS: dict[str, dict[str, Any]] = {"audio": {"sample_rate": 24000, "channels": 1}}
_MEDIA_REFERENCE_FIELDS = _names(
    "media_id storage_key session_id storage_backend bucket region url mime_type filename size content_hash"
    " media_type metadata"
)


def media_item(item: Any, kind: str, new_id: Callable[[], str]) -> Any:
    """One stored media object of a message as agno prints it again (see above)."""
    if not isinstance(item, dict):
        return item
    reference = item.get("media_reference")
    if not isinstance(reference, dict) and isinstance(item.get("content"), str):
        return item
    defaults = _MEDIA_ITEM_DEFAULTS.get(kind, {})
    shaped = {key: item.get(key, defaults.get(key)) for key in _MEDIA_ITEM_FIELDS[kind]}
    if shaped["id"] is None:
        shaped["id"] = new_id()
    if isinstance(reference, dict):
        shaped["media_reference"] = exclude_none({key: reference.get(key) for key in _MEDIA_REFERENCE_FIELDS})
    elif item.get("content") is not None:
        shaped["content"] = item["content"]
    if item.get("metadata"):
        shaped["metadata"] = item["metadata"]
    return exclude_none(shaped)


def message_to_dict(msg: Mapping[str, Any], *, now: int, new_id: Callable[[], str]) -> dict[str, Any]:
    """agno's `Message.to_dict()` of a stored message dict (§8.5); unknown keys are dropped. A message
    stored without an id or created_at gets `new_id()` and `now`, as agno's Message defaults do."""
    values: dict[str, Any] = {key: msg.get(key) for key in _MESSAGE_FIELDS}
    if values["id"] is None:
        values["id"] = new_id()
    values["from_history"] = bool(values["from_history"])
    values["stop_after_tool_call"] = bool(values["stop_after_tool_call"])
    shaped = {
        key: value
        for key, value in values.items()
        if value is not None and not (isinstance(value, list | dict) and not value)
    }
    for key in _MESSAGE_MEDIA_FIELDS:
        items = msg.get(key)
        if items:
            shaped[key] = [media_item(item, key, new_id) for item in items] if isinstance(items, list) else items
    if msg.get("audio_output"):
        shaped["audio_output"] = media_item(msg["audio_output"], "audio", new_id)
    references = msg.get("references")
    if isinstance(references, dict) and references:
        shaped["references"] = {
            "query": references.get("query"),
            "references": references.get("references"),
            "time": references.get("time"),
        }
    metrics = msg.get("metrics")
    if isinstance(metrics, dict):
        shaped_metrics = _message_metrics(metrics)
        if shaped_metrics:
            shaped["metrics"] = shaped_metrics
    created_at = msg.get("created_at")
    shaped["created_at"] = created_at if created_at is not None else now
    return shaped


def _session_runs(runs: Iterable[RunDict]) -> list[RunDict]:
    """Runs an Agent/TeamSession keeps when deserialised: dicts with an `agent_id` or `team_id` key."""
    return [run for run in runs if isinstance(run, dict) and ("agent_id" in run or "team_id" in run)]


def chat_history(runs: list[RunDict], *, now: int, new_id: Callable[[], str]) -> list[dict[str, Any]]:
    """§8.5: user/assistant messages of top-level agent/team runs, re-serialised, in run order."""
    history: list[dict[str, Any]] = []
    for run in _session_runs(runs):
        if run.get("parent_run_id") is not None:
            continue
        for message in run.get("messages") or []:
            if not isinstance(message, dict):
                continue
            if message.get("from_history") or message.get("role") in ("system", "tool"):
                continue
            history.append(message_to_dict(message, now=now, new_id=new_id))
    return history


# --------------------------------------------------------------------------------------------
# §8.6 summaries
# --------------------------------------------------------------------------------------------


def _reprint_iso(value: Any) -> Any:
    """An ISO string re-printed with `datetime.isoformat()` (`Z` -> `+00:00`); else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return value


def summary_for_detail(summary: Any) -> dict[str, Any] | None:
    """§8.6 detail `session_summary`: ordered `summary, topics, updated_at`, nulls dropped.

    divergence: AgentOS answers 500 (TypeError) for a stored summary with unknown keys or without
    `summary`; we build the object from the known keys only, and return None when `summary` is
    missing/null or the stored value is not an object. An unparseable `updated_at` is kept as stored.
    """
    if not isinstance(summary, dict) or summary.get("summary") is None:
        return None
    shaped: dict[str, Any] = {"summary": summary["summary"]}
    if summary.get("topics") is not None:
        shaped["topics"] = summary["topics"]
    if summary.get("updated_at"):
        shaped["updated_at"] = _reprint_iso(summary["updated_at"])
    return shaped


def parse_summary_input(value: object) -> dict[str, Any]:
    """Validate a PATCH `summary` and return what to store (agno's `SessionSummary.to_dict()`).

    Accepts `{"summary": str, "topics": [str] | null, "updated_at": ISO str | null}` and returns the
    keys in the order `summary, topics, updated_at`, null/absent ones omitted, `updated_at`
    re-printed with `isoformat()`. An empty `updated_at` is dropped like agno does. Anything else
    raises ValueError (agno answers 500 there).
    """
    if not isinstance(value, dict):
        raise ValueError("summary must be an object")
    unknown = sorted(str(key) for key in value if key not in _SUMMARY_FIELDS)
    if unknown:
        raise ValueError(f"summary has unknown field(s) {unknown}; allowed: {list(_SUMMARY_FIELDS)}")
    if "summary" not in value:
        raise ValueError("summary.summary is required")
    if not isinstance(value["summary"], str):
        raise ValueError("summary.summary must be a string")
    stored: dict[str, Any] = {"summary": value["summary"]}

    topics = value.get("topics")
    if topics is not None:
        if not isinstance(topics, list) or not all(isinstance(topic, str) for topic in topics):
            raise ValueError("summary.topics must be a list of strings")
        stored["topics"] = list(topics)

    updated_at = value.get("updated_at")
    if updated_at is not None:
        if not isinstance(updated_at, str):
            raise ValueError("summary.updated_at must be an ISO 8601 string")
        if updated_at:
            try:
                stored["updated_at"] = datetime.fromisoformat(updated_at).isoformat()
            except ValueError:
                raise ValueError("summary.updated_at must be an ISO 8601 string") from None
    return stored


# --------------------------------------------------------------------------------------------
# §9 list item
# --------------------------------------------------------------------------------------------


def list_item(row: SessionRow, runs: list[RunDict]) -> dict[str, Any]:
    """One `GET /sessions` element (SessionSchema, exclude-none applied)."""
    session_data = row.get("session_data") or {}
    if not isinstance(session_data, dict):
        session_data = {}
    detected = _stored_or_inferred_type(row)
    metrics = session_data.get("session_metrics")
    created_at = row.get("created_at")
    updated_at = row.get("updated_at")
    computed = {
        # named with the *stored* type (may be null), like agno's list path
        "session_name": session_name(row, runs, row.get("session_type")),
        "session_state": session_data.get("session_state"),
        "created_at": iso_utc(created_at),
        "updated_at": iso_utc(updated_at),
        "session_type": detected,
        "session_summary": row.get("summary"),
        "metrics": metrics,
        "total_tokens": metrics.get("total_tokens") if isinstance(metrics, dict) and metrics else None,
        "metadata": _agent_metadata(row.get("metadata"), row.get("agent_data"))
        if detected == "agent"
        else row.get("metadata"),
    }
    item = schemas.SESSION.shape(row, computed)
    return exclude_none(item)


# --------------------------------------------------------------------------------------------
# §6 session detail
# --------------------------------------------------------------------------------------------


def _naming_input(run_input_value: Any) -> Any:
    """A run's `input` after agno's RunInput round trip (what detail naming sees)."""
    if not isinstance(run_input_value, dict):
        return run_input_value or None
    if not run_input_value:
        return None
    normalised: dict[str, Any] = {}
    content = run_input_value.get("input_content", "")
    if content is not None:
        normalised["input_content"] = content
    for name in _INPUT_MEDIA_FIELDS:
        if run_input_value.get(name):
            normalised[name] = run_input_value[name]
    return normalised


UNMERGED_LEGACY_RUNS = "unmerged_legacy_runs"
"""Row key set by the store on a 2.x database without a runs table: the raw `runs` column."""


def parsed_runs(row: SessionRow, runs: list[RunDict], parsed_as: SessionType) -> list[RunDict]:
    """The runs an agno session class keeps when it deserialises `runs` (`<Type>Session.from_dict`):
    a WorkflowSession keeps the workflow runs (as WorkflowRunOutput, which carries no messages); an
    Agent/TeamSession keeps the dicts with an `agent_id` or `team_id` key, and none at all when the
    first entry is not a dict (only possible on a 2.x column read without the merge)."""
    if parsed_as == "workflow":
        return [
            {k: v for k, v in r.items() if k != "messages"} for r in runs if isinstance(r, dict) and is_workflow_run(r)
        ]
    raw = cast(Mapping[str, Any], row).get(UNMERGED_LEGACY_RUNS)
    if isinstance(raw, list) and raw and not isinstance(raw[0], dict):
        return []
    return [{**run, "input": _naming_input(run.get("input"))} for run in _session_runs(runs)]


def _detail_timestamps(created_at: Any, updated_at: Any) -> tuple[str | None, str | None]:
    created = iso_utc(created_at) if created_at else None
    updated = iso_utc(updated_at) if updated_at else created
    return created, updated


def session_detail(
    row: SessionRow,
    runs: list[RunDict],
    as_type: SessionType,
    *,
    now: int,
    new_id: Callable[[], str],
    parsed_as: SessionType | None = None,
) -> dict[str, Any]:
    """Agent/Team/WorkflowSessionDetailSchema of `row` rendered as `as_type`, every field present.

    `parsed_as` is the session class that deserialised the runs when it differs from the rendering
    (a PATCH with another `type`: loaded as that type, answered as the stored one). `now` stands in
    for a workflow's NULL created_at/updated_at (agno's WorkflowSession defaults) and a message's
    missing created_at; `new_id` makes a message's missing id (the caller owns clock and ids).
    """
    kept = parsed_runs(row, runs, parsed_as or as_type)
    session_id = row.get("session_id", "")
    session_data = row.get("session_data")

    if as_type == "workflow":
        wf_session_data = session_data if session_data is not None else {}
        wf_row: SessionRow = {**row, "session_data": wf_session_data}
        created_at, updated_at = _detail_timestamps(
            row.get("created_at") if row.get("created_at") is not None else now,
            row.get("updated_at") if row.get("updated_at") is not None else now,
        )
        workflow_data = row.get("workflow_data")
        metadata = row.get("metadata")
        computed = {
            "workflow_name": None,
            "session_id": session_id,
            "session_name": session_name(wf_row, kept, as_type),
            "session_data": wf_session_data,
            "session_state": wf_session_data.get("session_state") if _non_empty_dict(wf_session_data) else None,
            "workflow_data": workflow_data if workflow_data is not None else {},
            "metadata": metadata if metadata is not None else {},
            "created_at": created_at,
            "updated_at": updated_at,
        }
        return schemas.WORKFLOW_DETAIL.shape(row, computed)

    created_at, updated_at = _detail_timestamps(row.get("created_at"), row.get("updated_at"))
    if _non_empty_dict(session_data):
        session_state = session_data.get("session_state")
        metrics = session_data.get("session_metrics", {})
        total_tokens = metrics.get("total_tokens") if isinstance(metrics, dict) else None
    else:
        session_state = metrics = total_tokens = None
    computed = {
        "session_id": session_id,
        "session_name": session_name(row, kept, as_type),
        "session_summary": summary_for_detail(row.get("summary")),
        "session_state": session_state,
        "metrics": metrics,
        "chat_history": chat_history(kept, now=now, new_id=new_id),
        "created_at": created_at,
        "updated_at": updated_at,
        "total_tokens": total_tokens,
    }
    if as_type == "team":
        return schemas.TEAM_DETAIL.shape(row, computed)
    computed["agent_session_id"] = session_id
    computed["agent_id"] = row.get("agent_id") or None
    computed["metadata"] = _agent_metadata(row.get("metadata"), row.get("agent_data"))
    return schemas.AGENT_DETAIL.shape(row, computed)


# --------------------------------------------------------------------------------------------
# §9 run schemas, §6
# --------------------------------------------------------------------------------------------


def agent_run_schema(run: RunDict, session_row: SessionRow | None) -> dict[str, Any]:
    """RunSchema, every field present. `session_row` given = classified with the session, so an
    agent session's `sdk` label reaches runs whose agent_id is null or the session's own (§8.4)."""
    agent_data = None
    if (
        session_row is not None
        and _stored_or_inferred_type(session_row) == "agent"
        and run.get("agent_id") in (None, session_row.get("agent_id"))
    ):
        agent_data = session_row.get("agent_data")
    computed = _computed_run_fields(run)
    computed["metadata"] = _agent_metadata(run.get("metadata"), agent_data)
    return schemas.RUN.shape(run, computed)


def team_run_schema(run: RunDict) -> dict[str, Any]:
    """TeamRunSchema, every field present (`user_id` defaults to null here, not "")."""
    return schemas.TEAM_RUN.shape(run, _computed_run_fields(run))


def workflow_run_schema(run: RunDict) -> dict[str, Any]:
    """WorkflowRunSchema, every field present (`events` defaults to [] and is passed raw)."""
    computed = {"run_input": workflow_run_input(run), "created_at": _timestamp_field(run.get("created_at"))}
    return schemas.WORKFLOW_RUN.shape(run, computed)


def filter_runs_by_time(runs: list[RunDict], created_after: int | None, created_before: int | None) -> list[RunDict]:
    """§6 step 4: inclusive bounds on run `created_at`; runs without a numeric created_at are kept."""
    kept: list[RunDict] = []
    for run in runs:
        created_at = run.get("created_at")
        if isinstance(created_at, int | float) and not isinstance(created_at, bool):
            if created_after is not None and created_at < created_after:
                continue
            if created_before is not None and created_at > created_before:
                continue
        kept.append(run)
    return kept


def _classify_run(row: SessionRow, run: RunDict, as_type: SessionType) -> dict[str, Any] | None:
    if as_type == "agent":
        return agent_run_schema(run, row)
    if as_type == "team":
        if run.get("agent_id") is not None:
            return agent_run_schema(run, None)
        if run.get("team_id") is not None:
            return team_run_schema(run)
        return None
    if run.get("workflow_id") is not None:
        return workflow_run_schema(run)
    if run.get("team_id") is not None:
        return team_run_schema(run)
    return agent_run_schema(run, None)


def classify_runs(row: SessionRow, runs: list[RunDict], as_type: SessionType) -> list[dict[str, Any]]:
    """§6 step 5: the run schema dicts (all fields present) in run order; team sessions drop runs
    carrying neither agent_id nor team_id."""
    return [schema for run in runs if (schema := _classify_run(row, run, as_type)) is not None]


def filter_schemas_by_status(schemas: list[dict[str, Any]], statuses: set[str] | None) -> list[dict[str, Any]]:
    """§6 step 6: keep schemas whose upper-cased `status` is wanted; `statuses` must be upper-case."""
    if statuses is None:
        return schemas
    return [s for s in schemas if (s["status"].upper() if isinstance(s.get("status"), str) else "") in statuses]


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:PREVIEW_CHARS]


def run_preview(schema: Mapping[str, Any]) -> dict[str, Any]:
    """SessionRunPreviewSchema of a classified run schema (exclude-none applied; previews cut to
    280 characters, non-string content JSON-encoded first)."""
    computed = {"run_input": _preview(schema.get("run_input")), "content_preview": _preview(schema.get("content"))}
    preview = schemas.RUN_PREVIEW.shape(schema, computed)
    return exclude_none(preview)


def single_run(row: SessionRow, run: RunDict) -> dict[str, Any]:
    """§6: one run classified by its own ids (workflow_id, else team_id, else agent with session)."""
    if run.get("workflow_id") is not None:
        return workflow_run_schema(run)
    if run.get("team_id") is not None:
        return team_run_schema(run)
    return agent_run_schema(run, row)
